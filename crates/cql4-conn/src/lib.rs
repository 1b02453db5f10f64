//! Tokio connection for the Cassandra native protocol v4.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod mux;
pub mod tls;
