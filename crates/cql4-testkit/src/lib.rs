//! What cql4's tests, benchmarks and fuzzers share, kept out of the driver's API:
//!
//! - [`raw`]: an authenticated connection that sends any bytes and reads raw frames;
//! - [`frames`]: the frame builder (messages, common responses, frames no encoder would make);
//! - [`server`]: the scriptable fake server (per-connection scripts, recorded requests);
//! - [`proxy`]: the loopback fault proxy (latency, blackhole, reset, cut frames, injection);
//!
//! Nothing here is meant for production code: the crate is not published, and its API follows
//! the tests' needs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod raw;

pub mod frames;
pub mod proxy;
pub mod server;
