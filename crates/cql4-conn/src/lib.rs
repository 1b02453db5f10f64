//! Tokio connection for the Cassandra native protocol v4.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
mod core;
mod driver;
pub mod error;
pub mod mux;
pub mod tls;
mod transport;

pub use crate::core::Connection;
pub use config::Config;
pub use error::{CloseReason, Error, Result};
pub use tls::{TlsConfig, TlsError};
