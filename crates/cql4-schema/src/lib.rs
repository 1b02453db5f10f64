//! Schema metadata for cql4, sans-io: a typed model of keyspaces, tables, types, indexes,
//! materialized views, functions and aggregates ([`Schema`]); reading it from the rows of
//! `system_schema`'s tables ([`SchemaBuilder`]); and the CREATE statements of DESCRIBE
//! ([`describe`]), laid out as Cassandra 5.0's server-side DESCRIBE lays them out.
//!
//! No I/O: the session (`cql4-session`'s `Session::schema`) runs the queries and hands the
//! pages to a [`SchemaBuilder`]:
//!
//! ```text
//! SELECT * FROM system_schema.keyspaces   -> SchemaBuilder::keyspaces
//! SELECT * FROM system_schema.tables      -> SchemaBuilder::tables
//! SELECT * FROM system_schema.columns     -> SchemaBuilder::columns
//! … views, indexes, types, functions, aggregates; system.local (cluster name)
//! SchemaBuilder::build()                  -> Schema
//! ```
//!
//! Hostile or merely unexpected rows never panic: a missing column, a null key, an unknown
//! column kind or a type string that does not parse (types nest at most
//! [`types::MAX_TYPE_DEPTH`] deep) is a [`SchemaError`] naming the table and the column.
//! Table options are kept whatever they are ([`OptionValue`]): Amazon Keyspaces has options
//! Cassandra lacks.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod describe;
mod error;
pub mod ident;
mod model;
mod options;
mod rows;
pub mod types;

pub use error::{SchemaError, SchemaErrorKind};
pub use model::{
    is_system_keyspace, Aggregate, ClusteringOrder, Column, ColumnKind, Function, Index, Keyspace,
    Schema, Table, UserType, View,
};
pub use options::{java_double, OptionValue};
pub use rows::SchemaBuilder;
pub use types::{CqlType, NativeType, TypeError};

#[cfg(test)]
mod tests;
