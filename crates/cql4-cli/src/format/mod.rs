//! Printing results: cqlsh-like tables and JSON lines.

pub(crate) mod table;
pub(crate) mod text;
