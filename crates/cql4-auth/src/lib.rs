//! cql4-auth (work in progress).
#![forbid(unsafe_code)]
