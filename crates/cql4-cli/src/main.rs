//! The `cql4` command (work in progress).
fn main() {}
