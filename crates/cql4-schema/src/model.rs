//! The typed schema: keyspaces and what they hold, as read from `system_schema`.

use std::collections::BTreeMap;

use crate::options::OptionValue;
use crate::types::CqlType;

/// The schema of a cluster, as one node described it when it was read.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Schema {
    /// Every keyspace by name (exact case).
    pub keyspaces: BTreeMap<String, Keyspace>,
    /// `system.local.cluster_name`, when read.
    pub cluster_name: Option<String>,
    /// `system.local.partitioner`, when read.
    pub partitioner: Option<String>,
}

/// A keyspace (`system_schema.keyspaces`) and its objects.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Keyspace {
    /// Its name.
    pub name: String,
    /// `replication`: `class` and the strategy's options, as stored.
    pub replication: BTreeMap<String, String>,
    /// `durable_writes`.
    pub durable_writes: bool,
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
    /// Materialized views by name.
    pub views: BTreeMap<String, View>,
    /// User-defined types by name.
    pub types: BTreeMap<String, UserType>,
    /// Functions, sorted by name then argument types (overloads share a name).
    pub functions: Vec<Function>,
    /// Aggregates, sorted as functions are.
    pub aggregates: Vec<Aggregate>,
}

/// A table (`system_schema.tables` and `.columns`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Table {
    /// Its keyspace.
    pub keyspace: String,
    /// Its name.
    pub name: String,
    /// Every column: partition key (in key order), clustering (in key order), then static
    /// and regular columns, each in the server's order (single-cell before non-frozen
    /// collections and UDTs, then by name).
    pub columns: Vec<Column>,
    /// Options (`comment`, `compaction`, …) by the name of their `system_schema` column. A
    /// column this crate does not know (Amazon Keyspaces adds some) is kept here as read.
    pub options: BTreeMap<String, OptionValue>,
    /// `flags` (`compound`, `dense`, `super`, `counter`).
    pub flags: Vec<String>,
    /// Secondary indexes by name.
    pub indexes: BTreeMap<String, Index>,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Column {
    /// Its name (exact case).
    pub name: String,
    /// Its type.
    pub ty: CqlType,
    /// Its role in the primary key, or static or regular.
    pub kind: ColumnKind,
    /// Position in the partition or clustering key (0 for others).
    pub position: u32,
    /// Clustering order (`None` for non-clustering columns).
    pub order: ClusteringOrder,
}

/// A column's role (`system_schema.columns.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ColumnKind {
    /// Part of the partition key.
    PartitionKey,
    /// A clustering column.
    Clustering,
    /// A static column.
    Static,
    /// A regular column.
    Regular,
}

/// Clustering order (`system_schema.columns.clustering_order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClusteringOrder {
    /// `asc`.
    Asc,
    /// `desc`.
    Desc,
    /// `none` (not a clustering column).
    None,
}

/// A secondary index (`system_schema.indexes`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Index {
    /// Its keyspace.
    pub keyspace: String,
    /// Its table.
    pub table: String,
    /// Its name.
    pub name: String,
    /// `kind`: `COMPOSITES`, `KEYS` or `CUSTOM`.
    pub kind: String,
    /// `options`: `target` (e.g. `keys(m)`), `class_name` for custom indexes, and the
    /// index's own options.
    pub options: BTreeMap<String, String>,
}

impl Index {
    /// What the index is on, as CQL: `c`, `keys(m)`, `full(f)`, … (`options.target`).
    pub fn target(&self) -> &str {
        self.options.get("target").map_or("", String::as_str)
    }

    /// The class of a custom index (`sai`, `StorageAttachedIndex`, a Java class).
    pub fn class_name(&self) -> Option<&str> {
        self.options.get("class_name").map(String::as_str)
    }
}

/// A materialized view (`system_schema.views` and `.columns`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct View {
    /// Its keyspace.
    pub keyspace: String,
    /// Its name.
    pub name: String,
    /// The table it is built from.
    pub base_table: String,
    /// `include_all_columns` (`SELECT *`).
    pub include_all_columns: bool,
    /// `where_clause`.
    pub where_clause: String,
    /// Columns, ordered as a table's.
    pub columns: Vec<Column>,
    /// Options, as a table's.
    pub options: BTreeMap<String, OptionValue>,
}

/// A user-defined type (`system_schema.types`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserType {
    /// Its keyspace.
    pub keyspace: String,
    /// Its name.
    pub name: String,
    /// Fields in order: name and type.
    pub fields: Vec<(String, CqlType)>,
}

/// A user-defined function (`system_schema.functions`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Function {
    /// Its keyspace.
    pub keyspace: String,
    /// Its name.
    pub name: String,
    /// Arguments in order: name and type.
    pub arguments: Vec<(String, CqlType)>,
    /// The return type.
    pub return_type: CqlType,
    /// `language` (`java`, …).
    pub language: String,
    /// `body`.
    pub body: String,
    /// `called_on_null_input`.
    pub called_on_null_input: bool,
}

/// A user-defined aggregate (`system_schema.aggregates`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Aggregate {
    /// Its keyspace.
    pub keyspace: String,
    /// Its name.
    pub name: String,
    /// Argument types.
    pub argument_types: Vec<CqlType>,
    /// `state_func`.
    pub state_func: String,
    /// `state_type`.
    pub state_type: CqlType,
    /// `final_func`.
    pub final_func: Option<String>,
    /// `initcond`, as a CQL literal.
    pub initcond: Option<String>,
    /// `return_type`.
    pub return_type: CqlType,
}

impl Schema {
    /// The keyspace named `name` (exact case).
    pub fn keyspace(&self, name: &str) -> Option<&Keyspace> {
        self.keyspaces.get(name)
    }
}

impl Keyspace {
    /// An empty keyspace.
    pub fn new(
        name: impl Into<String>,
        replication: BTreeMap<String, String>,
        durable_writes: bool,
    ) -> Self {
        Self {
            name: name.into(),
            replication,
            durable_writes,
            tables: BTreeMap::new(),
            views: BTreeMap::new(),
            types: BTreeMap::new(),
            functions: Vec::new(),
            aggregates: Vec::new(),
        }
    }

    /// True for the keyspaces Cassandra owns (`system`, `system_*`): DESCRIBE SCHEMA leaves
    /// them out, DESCRIBE FULL SCHEMA does not.
    pub fn is_system(&self) -> bool {
        is_system_keyspace(&self.name)
    }

    /// The index named `name`, on whichever table.
    pub fn index(&self, name: &str) -> Option<&Index> {
        self.tables.values().find_map(|t| t.indexes.get(name))
    }
}

/// True for `system`, `system_*` and Amazon Keyspaces' `system_schema_mcs`.
pub fn is_system_keyspace(name: &str) -> bool {
    name == "system" || name.starts_with("system_")
}

impl Table {
    /// The partition key columns, in key order.
    pub fn partition_key(&self) -> impl Iterator<Item = &Column> {
        self.columns
            .iter()
            .filter(|c| c.kind == ColumnKind::PartitionKey)
    }

    /// The clustering columns, in key order.
    pub fn clustering_key(&self) -> impl Iterator<Item = &Column> {
        self.columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Clustering)
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}
