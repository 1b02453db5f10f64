//! Shared helpers of the `conn_*` integration tests: the node, its connections and per-test
//! keyspaces come from the test kit (`cql4_testkit::node`, read from the `CQL4_TEST_*`
//! variables that `cargo xtask test` exports; a missing one fails the test, never skips it).
// Each test binary uses a different subset of these helpers.
#![allow(unused_imports, unreachable_pub)]

pub use cql4_testkit::node::{drop_keyspace, exec, keyspace, node, unique_keyspace, Node};
