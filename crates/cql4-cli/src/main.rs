//! The `cql4` command: a cqlsh-like client for Cassandra and Amazon Keyspaces.
#![forbid(unsafe_code)]

mod split;

fn main() {}
