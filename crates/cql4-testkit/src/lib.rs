//! What cql4's tests, benchmarks and fuzzers share, kept out of the driver's API:
//!
//! - [`node`]: the test node (or cluster) of `cargo xtask test`, from its `CQL4_TEST_*` variables;
//! - [`cluster`]: the cluster stage's cluster, and killing, stopping and restarting its nodes;
//! - [`raw`]: an authenticated connection that sends any bytes and reads raw frames;
//! - [`frames`]: the frame builder (messages, common responses, frames no encoder would make);
//! - [`server`]: the scriptable fake server (per-connection scripts, recorded requests);
//! - [`emulated`]: an emulated cluster of fake nodes on 127.0.0.x sharing a port, with Amazon
//!   Keyspaces' quirks as switches, for session tests;
//! - [`proxy`]: the loopback fault proxy (latency, blackhole, reset, cut frames, injection);
//! - [`generators`]: generators of types, values, metadata and messages, for the fuzz targets and
//!   (with feature `proptest`) the property tests;
//! - [`fuzz_checks`]: the checks behind every cargo-fuzz target, replayed by `cargo test`;
//! - [`fuzz_server`]: the seeded server fuzzer behind the `cql4-fuzz-server` binary.
//!
//! Nothing here is meant for production code: the crate is not published, and its API follows
//! the tests' needs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cluster;
pub mod emulated;
pub mod frames;
pub mod fuzz_checks;
pub mod fuzz_server;
pub mod generators;
pub mod node;
pub mod proxy;
pub mod raw;
pub mod server;
mod time;
