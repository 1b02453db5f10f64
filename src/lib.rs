//! cql4: a client for the Cassandra native protocol v4, built first for Amazon Keyspaces.
//!
//! This facade re-exports the layers: [`frame`] (the sans-io codec).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use cql4_frame as frame;
