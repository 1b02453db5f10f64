//! Tokio connection for the Cassandra native protocol v4 (`native_protocol_v4.spec`), built
//! first for Amazon Keyspaces: TLS (rustls, webpki roots), the v4 handshake with SASL PLAIN or
//! SigV4 authentication (via `cql4-auth`), and up to 32,768 multiplexed requests per
//! connection with per-request timeouts.
//!
//! ```no_run
//! use std::sync::Arc;
//! use cql4_conn::{Client, Config, QueryOptions, TlsConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = Config::new("cassandra.us-east-1.amazonaws.com", 9142);
//! config.tls = Some(TlsConfig::new());
//! config.auth = Some(Arc::new(cql4_auth::PasswordAuthenticator::new("user", "password")?));
//! let client = Client::connect(&config).await?;
//! let result = client
//!     .query("SELECT keyspace_name FROM system_schema.keyspaces", (), &QueryOptions::new())
//!     .await?;
//! for row in result.rows().into_iter().flatten() {
//!     let name: &str = row.get(0)?;
//!     println!("{name}");
//! }
//! # Ok(()) }
//! ```
//!
//! Layers: `mux` is the pure stream-id table (no I/O, `now` passed in); a private sans-io
//! connection state puts the heartbeat on top of it and makes every decision of the I/O task;
//! the I/O task (the [`Connection`] future) only moves bytes, arms one timer and wakes callers;
//! [`Client`] serializes requests once and decodes answers in the caller's task. See
//! `docs/architecture.md` ("cql4-conn").
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod backpressure;
mod client;
mod config;
mod conn_state;
pub mod credential_process;
mod deadline;
#[cfg_attr(
    not(feature = "testkit"),
    expect(
        unreachable_pub,
        reason = "pub for the testkit feature (src/testkit.rs)"
    )
)]
mod driver;
mod error;
mod events;
pub mod file_reader;
mod frame_pool;
mod handshake;
mod heartbeat;
pub mod http;
pub mod metrics;
#[cfg_attr(
    not(feature = "testkit"),
    expect(
        unreachable_pub,
        reason = "pub for the testkit feature (src/testkit.rs)"
    )
)]
#[cfg_attr(
    not(any(test, feature = "testkit")),
    expect(
        dead_code,
        reason = "inspection methods for tests and the testkit feature"
    )
)]
mod mux;
mod options;
mod paging;
mod prepared;
mod reply;
mod request_channel;
mod stats;
mod tls;
mod transport;
mod typed_rows;
mod typed_stream;

#[cfg(feature = "testkit")]
#[doc(hidden)]
pub mod testkit;

pub use backpressure::OnQueueFull;
pub use client::{connect, BatchRequest, Client, QueryResult};
pub use config::Config;
pub use error::{CloseReason, DeadlineScope, Error, ErrorKind, Result};
pub use events::{EventType, Events};
pub use handshake::{DRIVER_NAME, DRIVER_VERSION};
pub use mux::MuxConfig;
pub use options::{QueryOptions, RowValues};
pub use paging::{PageFetcher, PageFuture, Pager, RowRef, RowStream};
pub use prepared::PreparedStatement;
pub use request_channel::Connection;
pub use stats::StreamStats;
pub use tls::{TlsConfig, TlsError};
pub use typed_stream::TypedRowStream;

/// The codec, where the derives find it in a crate that depends on `cql4-conn` alone.
#[doc(hidden)]
pub use cql4_frame as frame;
/// Typed rows and bind values: the traits (from `cql4_frame`) and their derives (from
/// `cql4-macros`; the derived code finds the codec through whichever of `cql4-frame`, `cql4`
/// or `cql4-conn` the crate depends on). `FromCql` and
/// `ToCql` derive for a struct mapped to a user-defined type; `Unset` binds a not-set value.
pub use cql4_frame::{FromCql, FromRow, SerializeRow, ToCql, Unset};
pub use cql4_macros::{FromCql, FromRow, SerializeRow, ToCql};
