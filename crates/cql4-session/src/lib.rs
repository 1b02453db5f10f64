//! The session layer of cql4: connection pools to every node of a cluster, topology
//! discovery, token-aware and datacenter-aware routing, and reconnection — over
//! [`cql4_conn::Client`] (one connection) and [`cql4_topology`] (the sans-io routing core).
//!
//! ```no_run
//! use std::sync::Arc;
//! use cql4_conn::{Config, QueryOptions, TlsConfig};
//! use cql4_session::Session;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = Config::new("cassandra.us-east-1.amazonaws.com", 9142);
//! config.tls = Some(TlsConfig::new());
//! config.auth = Some(Arc::new(cql4_auth::PasswordAuthenticator::new("user", "password")?));
//! // The same line as `Client::connect(&config)`: a pool per node instead of one connection.
//! let session = Session::connect(&config).await?;
//! let result = session
//!     .query("SELECT keyspace_name FROM system_schema.keyspaces", (), &QueryOptions::new())
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! What it does on its own:
//! - **Discovery**: a control connection (to the first contact point that answers, then to
//!   any known node) reads `system.local`, `system.peers_v2` or `system.peers`, and
//!   `system_schema.keyspaces`; it follows TOPOLOGY_CHANGE, STATUS_CHANGE and SCHEMA_CHANGE
//!   and reads everything again every [`SessionConfig::refresh_interval`].
//! - **Pools**: [`SessionConfig::connections_per_node`] connections per node, opened in the
//!   background; each request takes the least-loaded one; a pool grows when every connection
//!   is over its in-flight or per-second budget and shrinks after idle.
//! - **Routing**: local data center first, round robin; prepared statements go to a replica
//!   of their partition when the partitioner is Murmur3. A node without an open connection
//!   gets no requests.
//! - **Reconnection**: exponential backoff with jitter, in the background; an UP event
//!   triggers an attempt at once; credentials are resolved at every handshake.
//! - **Retries and speculative execution**: a failed attempt is tried again as the
//!   [`RetryPolicy`] decides ([`DefaultRetryPolicy`], [`KeyspacesRetryPolicy`] for Amazon
//!   Keyspaces endpoints, [`NoRetryPolicy`]), never when the request is not idempotent and may
//!   have been applied; a late idempotent request may also go to the next node
//!   ([`SpeculativePolicy`]); [`cql4_conn::QueryOptions::overall_timeout`] bounds it all. Each
//!   request runs in a `cql4.request` tracing span.
//! - **Schema metadata**: [`Session::schema`] reads `system_schema` on first use into a
//!   [`cql4_schema::Schema`] and keeps it current on SCHEMA_CHANGE events; after a DDL
//!   statement the session waits for schema agreement
//!   ([`SessionConfig::schema_agreement_timeout`]).
//! - **Amazon Keyspaces**: its emulated `system.local`/`system.peers` (loopback addresses,
//!   the control node among its own peers, a partitioner that is not Murmur3), its refusals
//!   (QUORUM for system queries, PREPARE of system tables) and its certificates (naming the
//!   endpoint, not the peers' IPs) are handled; see `docs/keyspaces.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod backoff;
mod config;
mod control;
mod discovery;
mod endpoint;
mod execute;
mod load;
mod plan;
mod pool;
pub mod retry;
mod schema;
mod session;
mod shared;
mod speculative;
mod statements;
mod translator;
mod view;

pub use config::{ReconnectPolicy, SessionConfig};
pub use endpoint::is_keyspaces_host;
pub use retry::{
    DefaultRetryPolicy, KeyspacesRetryPolicy, NoRetryPolicy, RetryContext, RetryDecision,
    RetryPolicy, StatementKind,
};
pub use schema::SchemaLoadError;
pub use session::{NodeStatus, Session};
pub use speculative::SpeculativePolicy;
pub use translator::{AddressMap, AddressTranslator};
