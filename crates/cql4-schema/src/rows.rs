//! Reading the schema from the rows of `system_schema`'s tables (pages as the server sent
//! them): [`SchemaBuilder`] takes each table's pages, then builds the [`Schema`].
//!
//! A row whose shape is unexpected (a missing column, a null key, an unknown column kind, a
//! type string that does not parse) is a [`SchemaError`] naming the table and column. Columns
//! of `system_schema.tables` and `.views` beyond the ones this crate reads are options, kept
//! whatever they are: Amazon Keyspaces has some Cassandra lacks.

use std::collections::BTreeMap;

use cql4_frame::rows::{Row, Rows};
use cql4_frame::{CqlValue, FromCql};

use crate::error::{SchemaError, SchemaErrorKind};
use crate::model::{
    Aggregate, ClusteringOrder, Column, ColumnKind, Function, Index, Keyspace, Schema, Table,
    UserType, View,
};
use crate::options::OptionValue;
use crate::types::CqlType;

/// Columns of `system_schema.tables` and `.views` that are not options.
const NOT_OPTIONS: &[&str] = &[
    "keyspace_name",
    "table_name",
    "view_name",
    "id",
    "flags",
    "base_table_id",
    "base_table_name",
    "include_all_columns",
    "where_clause",
];

/// Collects the rows of `system_schema`'s tables, then builds the [`Schema`].
#[derive(Debug, Default)]
pub struct SchemaBuilder {
    keyspaces: BTreeMap<String, Keyspace>,
    tables: Vec<Table>,
    table_extras: Vec<(String, String, BTreeMap<String, OptionValue>)>,
    views: Vec<View>,
    columns: Vec<(String, String, Column)>,
    indexes: Vec<Index>,
    types: Vec<UserType>,
    functions: Vec<Function>,
    aggregates: Vec<Aggregate>,
    cluster_name: Option<String>,
    partitioner: Option<String>,
}

/// One row of one table, with the error context its cells need.
struct Cells<'r> {
    table: &'static str,
    rows: &'r Rows,
    row: Row<'r>,
    object: Option<String>,
}

impl<'r> Cells<'r> {
    fn error(&self, column: &str, kind: SchemaErrorKind) -> SchemaError {
        SchemaError {
            table: self.table,
            column: column.to_owned(),
            object: self.object.clone(),
            kind,
        }
    }

    fn get<T: FromCql<'r>>(&self, column: &'static str) -> Result<Option<T>, SchemaError> {
        let i = self
            .rows
            .metadata()
            .column_index(column)
            .ok_or_else(|| self.error(column, SchemaErrorKind::MissingColumn))?;
        self.row
            .get::<Option<T>>(i)
            .map_err(|e| self.error(column, SchemaErrorKind::Decode(Box::new(e))))
    }

    /// A cell that may be missing from the table (older servers) or null.
    fn optional<T: FromCql<'r>>(&self, column: &'static str) -> Result<Option<T>, SchemaError> {
        if self.rows.metadata().column_index(column).is_none() {
            return Ok(None);
        }
        self.get(column)
    }

    fn required<T: FromCql<'r>>(&self, column: &'static str) -> Result<T, SchemaError> {
        self.get(column)?
            .ok_or_else(|| self.error(column, SchemaErrorKind::Null))
    }

    fn ty(&self, column: &'static str, text: &str) -> Result<CqlType, SchemaError> {
        CqlType::parse(text).map_err(|e| self.error(column, SchemaErrorKind::Type(Box::new(e))))
    }

    fn name(
        &mut self,
        keyspace_column: &'static str,
        name_column: &'static str,
    ) -> Result<(String, String), SchemaError> {
        let keyspace: String = self.required(keyspace_column)?;
        self.object = Some(keyspace.clone());
        let name: String = self.required(name_column)?;
        self.object = Some(format!("{keyspace}.{name}"));
        Ok((keyspace, name))
    }

    /// Every column not in [`NOT_OPTIONS`], as an option.
    fn options(&self) -> Result<BTreeMap<String, OptionValue>, SchemaError> {
        let mut out = BTreeMap::new();
        for (i, spec) in self.rows.columns().iter().enumerate() {
            if NOT_OPTIONS.contains(&spec.name.as_str()) {
                continue;
            }
            let value = self
                .row
                .get::<Option<CqlValue>>(i)
                .map_err(|e| self.error(&spec.name, SchemaErrorKind::Decode(Box::new(e))))?;
            out.insert(spec.name.clone(), OptionValue::from_value(value.as_ref()));
        }
        Ok(out)
    }
}

fn each_row(
    table: &'static str,
    rows: &Rows,
    mut f: impl FnMut(&mut Cells<'_>) -> Result<(), SchemaError>,
) -> Result<(), SchemaError> {
    for row in rows.iter() {
        let mut cells = Cells {
            table,
            rows,
            row,
            object: None,
        };
        f(&mut cells)?;
    }
    Ok(())
}

impl SchemaBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rows of `system_schema.keyspaces`.
    pub fn keyspaces(&mut self, rows: &Rows) -> Result<(), SchemaError> {
        each_row("system_schema.keyspaces", rows, |c| {
            let name: String = c.required("keyspace_name")?;
            c.object = Some(name.clone());
            let replication: BTreeMap<String, String> = c.get("replication")?.unwrap_or_default();
            let durable_writes = c.optional::<bool>("durable_writes")?.unwrap_or(true);
            self.keyspaces.insert(
                name.clone(),
                Keyspace::new(name, replication, durable_writes),
            );
            Ok(())
        })
    }

    /// Rows of `system_schema.tables`.
    pub fn tables(&mut self, rows: &Rows) -> Result<(), SchemaError> {
        each_row("system_schema.tables", rows, |c| {
            let (keyspace, name) = c.name("keyspace_name", "table_name")?;
            let flags: Vec<String> = c.optional("flags")?.unwrap_or_default();
            self.tables.push(Table {
                keyspace,
                name,
                columns: Vec::new(),
                options: c.options()?,
                flags,
                indexes: BTreeMap::new(),
            });
            Ok(())
        })
    }

    /// Rows of Amazon Keyspaces' `system_schema_mcs.tables`: its options that
    /// `system_schema.tables` lacks (`custom_properties`, `status`, …) join the table's.
    pub fn keyspaces_tables(&mut self, rows: &Rows) -> Result<(), SchemaError> {
        each_row("system_schema_mcs.tables", rows, |c| {
            let (keyspace, name) = c.name("keyspace_name", "table_name")?;
            self.table_extras.push((keyspace, name, c.options()?));
            Ok(())
        })
    }

    /// Rows of `system_schema.views`.
    pub fn views(&mut self, rows: &Rows) -> Result<(), SchemaError> {
        each_row("system_schema.views", rows, |c| {
            let (keyspace, name) = c.name("keyspace_name", "view_name")?;
            self.views.push(View {
                keyspace,
                name,
                base_table: c.required("base_table_name")?,
                include_all_columns: c.optional("include_all_columns")?.unwrap_or(false),
                where_clause: c.optional("where_clause")?.unwrap_or_default(),
                columns: Vec::new(),
                options: c.options()?,
            });
            Ok(())
        })
    }

    /// Rows of `system_schema.columns` (of tables and views).
    pub fn columns(&mut self, rows: &Rows) -> Result<(), SchemaError> {
        each_row("system_schema.columns", rows, |c| {
            let (keyspace, table) = c.name("keyspace_name", "table_name")?;
            let name: String = c.required("column_name")?;
            c.object = Some(format!("{keyspace}.{table}.{name}"));
            let kind_text: String = c.required("kind")?;
            let kind = match kind_text.as_str() {
                "partition_key" => ColumnKind::PartitionKey,
                "clustering" => ColumnKind::Clustering,
                "static" => ColumnKind::Static,
                "regular" => ColumnKind::Regular,
                _ => return Err(c.error("kind", SchemaErrorKind::Unexpected(kind_text))),
            };
            let order_text: String = c
                .optional("clustering_order")?
                .unwrap_or_else(|| "none".to_owned());
            let order = match order_text.to_ascii_lowercase().as_str() {
                "asc" => ClusteringOrder::Asc,
                "desc" => ClusteringOrder::Desc,
                "none" => ClusteringOrder::None,
                _ => {
                    return Err(c.error("clustering_order", SchemaErrorKind::Unexpected(order_text)))
                }
            };
            let position: i32 = c.optional("position")?.unwrap_or(-1);
            let type_text: String = c.required("type")?;
            let ty = c.ty("type", &type_text)?;
            self.columns.push((
                keyspace,
                table,
                Column {
                    name,
                    ty,
                    kind,
                    position: u32::try_from(position).unwrap_or(0),
                    order,
                },
            ));
            Ok(())
        })
    }

    /// Rows of `system_schema.indexes`.
    pub fn indexes(&mut self, rows: &Rows) -> Result<(), SchemaError> {
        each_row("system_schema.indexes", rows, |c| {
            let (keyspace, table) = c.name("keyspace_name", "table_name")?;
            let name: String = c.required("index_name")?;
            self.indexes.push(Index {
                keyspace,
                table,
                name,
                kind: c.optional("kind")?.unwrap_or_default(),
                options: c.optional("options")?.unwrap_or_default(),
            });
            Ok(())
        })
    }

    /// Rows of `system_schema.types`.
    pub fn types(&mut self, rows: &Rows) -> Result<(), SchemaError> {
        each_row("system_schema.types", rows, |c| {
            let (keyspace, name) = c.name("keyspace_name", "type_name")?;
            let names: Vec<String> = c.get("field_names")?.unwrap_or_default();
            let types: Vec<String> = c.get("field_types")?.unwrap_or_default();
            if names.len() != types.len() {
                return Err(c.error(
                    "field_types",
                    SchemaErrorKind::Unexpected(format!(
                        "{} types for {} field names",
                        types.len(),
                        names.len()
                    )),
                ));
            }
            let mut fields = Vec::with_capacity(names.len());
            for (n, t) in names.into_iter().zip(&types) {
                fields.push((n, c.ty("field_types", t)?));
            }
            self.types.push(UserType {
                keyspace,
                name,
                fields,
            });
            Ok(())
        })
    }

    /// Rows of `system_schema.functions`.
    pub fn functions(&mut self, rows: &Rows) -> Result<(), SchemaError> {
        each_row("system_schema.functions", rows, |c| {
            let (keyspace, name) = c.name("keyspace_name", "function_name")?;
            let names: Vec<String> = c.get("argument_names")?.unwrap_or_default();
            let types: Vec<String> = c.get("argument_types")?.unwrap_or_default();
            if names.len() != types.len() {
                return Err(c.error(
                    "argument_types",
                    SchemaErrorKind::Unexpected(format!(
                        "{} types for {} argument names",
                        types.len(),
                        names.len()
                    )),
                ));
            }
            let mut arguments = Vec::with_capacity(names.len());
            for (n, t) in names.into_iter().zip(&types) {
                arguments.push((n, c.ty("argument_types", t)?));
            }
            let return_type: String = c.required("return_type")?;
            self.functions.push(Function {
                keyspace,
                name,
                arguments,
                return_type: c.ty("return_type", &return_type)?,
                language: c.optional("language")?.unwrap_or_default(),
                body: c.optional("body")?.unwrap_or_default(),
                called_on_null_input: c.optional("called_on_null_input")?.unwrap_or(false),
            });
            Ok(())
        })
    }

    /// Rows of `system_schema.aggregates`.
    pub fn aggregates(&mut self, rows: &Rows) -> Result<(), SchemaError> {
        each_row("system_schema.aggregates", rows, |c| {
            let (keyspace, name) = c.name("keyspace_name", "aggregate_name")?;
            let types: Vec<String> = c.get("argument_types")?.unwrap_or_default();
            let mut argument_types = Vec::with_capacity(types.len());
            for t in &types {
                argument_types.push(c.ty("argument_types", t)?);
            }
            let state_type: String = c.required("state_type")?;
            let return_type: String = c.required("return_type")?;
            self.aggregates.push(Aggregate {
                keyspace,
                name,
                argument_types,
                state_func: c.required("state_func")?,
                state_type: c.ty("state_type", &state_type)?,
                final_func: c.optional("final_func")?,
                initcond: c.optional("initcond")?,
                return_type: c.ty("return_type", &return_type)?,
            });
            Ok(())
        })
    }

    /// The row of `system.local`: `cluster_name` and `partitioner`, for DESCRIBE CLUSTER.
    pub fn local(&mut self, rows: &Rows) -> Result<(), SchemaError> {
        each_row("system.local", rows, |c| {
            self.cluster_name = c.optional("cluster_name")?;
            self.partitioner = c.optional("partitioner")?;
            Ok(())
        })
    }

    /// The schema. Objects of a keyspace not read (dropped between two reads) are left out.
    pub fn build(self) -> Schema {
        let mut keyspaces = self.keyspaces;
        let mut tables: BTreeMap<(String, String), Table> = self
            .tables
            .into_iter()
            .map(|t| ((t.keyspace.clone(), t.name.clone()), t))
            .collect();
        let mut views: BTreeMap<(String, String), View> = self
            .views
            .into_iter()
            .map(|v| ((v.keyspace.clone(), v.name.clone()), v))
            .collect();
        for (keyspace, table, column) in self.columns {
            let key = (keyspace, table);
            if let Some(t) = tables.get_mut(&key) {
                t.columns.push(column);
            } else if let Some(v) = views.get_mut(&key) {
                v.columns.push(column);
            }
        }
        for (keyspace, table, options) in self.table_extras {
            if let Some(t) = tables.get_mut(&(keyspace, table)) {
                for (name, value) in options {
                    t.options.entry(name).or_insert(value);
                }
            }
        }
        for index in self.indexes {
            if let Some(t) = tables.get_mut(&(index.keyspace.clone(), index.table.clone())) {
                t.indexes.insert(index.name.clone(), index);
            }
        }
        for ((keyspace, name), mut table) in tables {
            sort_columns(&mut table.columns);
            if let Some(ks) = keyspaces.get_mut(&keyspace) {
                ks.tables.insert(name, table);
            }
        }
        for ((keyspace, name), mut view) in views {
            sort_columns(&mut view.columns);
            if let Some(ks) = keyspaces.get_mut(&keyspace) {
                ks.views.insert(name, view);
            }
        }
        for t in self.types {
            if let Some(ks) = keyspaces.get_mut(&t.keyspace) {
                ks.types.insert(t.name.clone(), t);
            }
        }
        for f in self.functions {
            if let Some(ks) = keyspaces.get_mut(&f.keyspace) {
                ks.functions.push(f);
            }
        }
        for a in self.aggregates {
            if let Some(ks) = keyspaces.get_mut(&a.keyspace) {
                ks.aggregates.push(a);
            }
        }
        for ks in keyspaces.values_mut() {
            ks.functions.sort_by_cached_key(|f| {
                (
                    f.name.clone(),
                    crate::describe::signature(f.arguments.iter().map(|(_, t)| t)),
                )
            });
            ks.aggregates.sort_by_cached_key(|a| {
                (
                    a.name.clone(),
                    crate::describe::signature(a.argument_types.iter()),
                )
            });
        }
        Schema {
            keyspaces,
            cluster_name: self.cluster_name,
            partitioner: self.partitioner,
        }
    }
}

/// Partition key, clustering key (each in key order), then static and regular columns, each
/// as Cassandra orders them (`ColumnMetadata.comparisonOrder`): single-cell before multi-cell
/// (non-frozen collections and UDTs), then by name's UTF-8 bytes.
fn sort_columns(columns: &mut [Column]) {
    columns.sort_by(|a, b| {
        a.kind.cmp(&b.kind).then_with(|| match a.kind {
            ColumnKind::PartitionKey | ColumnKind::Clustering => a.position.cmp(&b.position),
            _ => (a.ty.is_multi_cell(), a.name.as_bytes())
                .cmp(&(b.ty.is_multi_cell(), b.name.as_bytes())),
        })
    });
}
