//! What cql4's tests, benchmarks and fuzzers share, kept out of the driver's API:
//!
//! - [`raw`]: an authenticated connection that sends any bytes and reads raw frames;
//! - [`gen`]: generators of types, values, metadata and messages, for the fuzz targets and
//!   (with feature `proptest`) the property tests;
//! - [`fuzz_checks`]: the checks behind every cargo-fuzz target, replayed by `cargo test`;
//!
//! Nothing here is meant for production code: the crate is not published, and its API follows
//! the tests' needs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod raw;

pub mod fuzz_checks;
pub mod gen;
