//! What cql4's tests, benchmarks and fuzzers share, kept out of the driver's API:
//!
//! - [`raw`]: an authenticated connection that sends any bytes and reads raw frames;
//! - [`fuzz_server`]: the seeded server fuzzer behind the `cql4-fuzz-server` binary;
//!
//! Nothing here is meant for production code: the crate is not published, and its API follows
//! the tests' needs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod raw;

pub mod fuzz_server;
