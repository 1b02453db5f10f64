//! Shared code of the cql4 benchmarks against the mainstream drivers: a counting global
//! allocator, the canned result pages (codec workload and canned server), and the JSON record
//! every client program (Rust, Java, Go, Python) prints.
//!
//! This crate is bench-only and lives outside the product workspace; it needs `unsafe` for
//! exactly one thing, the `GlobalAlloc` impl that counts allocations.

pub mod alloc;
pub mod drive;
pub mod pages;
pub mod record;
pub mod schema;
