//! cql4-conn (work in progress).
#![forbid(unsafe_code)]
