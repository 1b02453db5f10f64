//! Generators of protocol values, written once for the fuzz targets and the property tests.
//!
//! Each generator turns bytes into a value through [`arbitrary::Unstructured`]: the fuzz
//! targets feed it libFuzzer's input, the property tests the bytes of a proptest strategy
//! (`strategy`, feature `proptest`), so both explore the same space. Fewer bytes make smaller
//! values (every choice falls back to its first option when the bytes run out), which is what
//! proptest's shrinking of the byte vector needs.
//!
//! The `roundtrip_value` and `roundtrip_message` fuzz targets read their input through
//! [`types::column_type`], [`requests::request_frame`] and [`responses::response_frame`] (with
//! [`Messages::FuzzCorpus`]): the order and range of every choice those make is what the
//! committed corpora mean. A new kind of value gets a new choice only where the corpora do not
//! reach (like [`Messages::Encodable`]'s PREPARED results), or a new function.

/// The crate the generators are written against, for callers that drive them directly.
pub use arbitrary;

pub mod notations;
pub mod requests;
pub mod responses;
pub mod rows;
pub mod types;
pub mod values;

#[cfg(feature = "proptest")]
mod strategy;
#[cfg(feature = "proptest")]
pub use strategy::{strategy, MAX_INPUT};

/// Which messages the message generators produce. Both mixes build every part with the same
/// generators; they differ in the top-level choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Messages {
    /// The choices the `roundtrip_message` fuzz corpus was recorded with, byte for byte: every
    /// request and response kind but PREPARED results, BATCH statements with named values one
    /// time in eight (which the encoder must refuse), no custom payload on STARTUP.
    FuzzCorpus,
    /// Only messages the encoder accepts, of every kind: BATCH values are positional, PREPARED
    /// results are included, and STARTUP may carry a custom payload too.
    Encodable,
}
