//! cql4: a client for the Cassandra native protocol v4, built first for Amazon Keyspaces.
//!
//! This facade re-exports the layers: [`frame`] (the sans-io codec), [`auth`] (SASL PLAIN,
//! SigV4, AWS credentials), [`conn`] (one tokio connection) and [`session`] (a pool per node,
//! topology, routing, reconnection), and lifts the API most programs need to the top level:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = cql4::Config::new("127.0.0.1", 9042);
//! config.auth = Some(std::sync::Arc::new(cql4::auth::PasswordAuthenticator::new("user", "pw")?));
//! // Every node of the cluster, reconnecting on its own; `Client::connect` for one connection.
//! let session = cql4::Session::connect(&config).await?;
//! let result = session
//!     .query("SELECT release_version FROM system.local", (), &cql4::QueryOptions::new())
//!     .await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use cql4_auth as auth;
pub use cql4_conn as conn;
pub use cql4_frame as frame;
/// Schema metadata: the typed model, read from `system_schema`, and DESCRIBE's CREATE statements.
pub use cql4_schema as schema;
pub use cql4_session as session;

pub use cql4_conn::{
    connect, BatchRequest, Client, Config, Connection, Error, ErrorKind, EventType, Events,
    FromCql, FromRow, PreparedStatement, QueryOptions, QueryResult, Result, RowRef, RowStream,
    SerializeRow, TlsConfig, ToCql, TypedRowStream, Unset,
};
pub use cql4_session::{Session, SessionConfig};
