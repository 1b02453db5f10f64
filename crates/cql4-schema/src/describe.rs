//! CREATE statements of the schema, as Cassandra 5.0's server-side DESCRIBE writes them: the
//! same elements (keyspace, types, functions, aggregates, then each table followed by its
//! indexes and views), in the same order and layout, so that the output of a client-side
//! DESCRIBE (Amazon Keyspaces runs none on the server) reads as cqlsh's.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::ident::{quote, string_literal};
use crate::model::{
    Aggregate, ClusteringOrder, Column, ColumnKind, Function, Index, Keyspace, Table, UserType,
    View,
};
use crate::options::{map_literal, OptionValue};
use crate::types::CqlType;

/// What an element of DESCRIBE's output is (the server's `type` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ElementKind {
    /// A keyspace.
    Keyspace,
    /// A user-defined type.
    Type,
    /// A function.
    Function,
    /// An aggregate.
    Aggregate,
    /// A table.
    Table,
    /// A secondary index.
    Index,
    /// A materialized view.
    MaterializedView,
}

impl ElementKind {
    /// The name the server's DESCRIBE gives it (`materialized_view`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyspace => "keyspace",
            Self::Type => "type",
            Self::Function => "function",
            Self::Aggregate => "aggregate",
            Self::Table => "table",
            Self::Index => "index",
            Self::MaterializedView => "materialized_view",
        }
    }
}

/// One element of DESCRIBE's output: the columns of a row of the server's DESCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Element {
    /// Its keyspace (unquoted).
    pub keyspace: String,
    /// What it is.
    pub kind: ElementKind,
    /// Its name as CQL (quoted if needed; functions and aggregates with their argument
    /// types: `plus(int, int)`).
    pub name: String,
    /// The statement that creates it, ending in `;`.
    pub create_statement: String,
}

/// The options Cassandra 5.0 writes, in its order; those a server lacks are skipped, those
/// it has and this list lacks (Amazon Keyspaces' own, 3.x's read-repair chances) are kept in
/// the model but not written, as they would not execute elsewhere.
const OPTION_ORDER: &[&str] = &[
    "additional_write_policy",
    "allow_auto_snapshot",
    "bloom_filter_fp_chance",
    "caching",
    "cdc",
    "comment",
    "compaction",
    "compression",
    "memtable",
    "crc_check_chance",
    "default_time_to_live",
    "extensions",
    "gc_grace_seconds",
    "incremental_backups",
    "max_index_interval",
    "memtable_flush_period_in_ms",
    "min_index_interval",
    "read_repair",
    "speculative_retry",
];

/// What Cassandra 5.0 writes for an option whose cell is null (it stores no value for its
/// defaults of options added after 4.0).
fn null_default(option: &str) -> Option<&'static str> {
    match option {
        "allow_auto_snapshot" | "incremental_backups" => Some("true"),
        "cdc" => Some("false"),
        "memtable" => Some("'default'"),
        _ => None,
    }
}

/// Every element of a keyspace, as `DESCRIBE KEYSPACE` lists them.
pub fn keyspace_elements(ks: &Keyspace) -> Vec<Element> {
    let mut out = vec![Element {
        keyspace: ks.name.clone(),
        kind: ElementKind::Keyspace,
        name: quote(&ks.name),
        create_statement: create_keyspace(ks),
    }];
    for t in types_by_dependency(ks) {
        out.push(type_element(t));
    }
    out.extend(ks.functions.iter().map(function_element));
    out.extend(ks.aggregates.iter().map(aggregate_element));
    for t in tables_in_order(ks) {
        out.extend(table_elements(ks, t));
    }
    out
}

/// A table, then its indexes, then its views (`DESCRIBE TABLE`).
pub fn table_elements(ks: &Keyspace, table: &Table) -> Vec<Element> {
    let mut out = vec![Element {
        keyspace: ks.name.clone(),
        kind: ElementKind::Table,
        name: quote(&table.name),
        create_statement: create_table(table),
    }];
    out.extend(table.indexes.values().map(index_element));
    out.extend(
        ks.views
            .values()
            .filter(|v| v.base_table == table.name)
            .map(view_element),
    );
    out
}

/// The element of an index.
pub fn index_element(index: &Index) -> Element {
    Element {
        keyspace: index.keyspace.clone(),
        kind: ElementKind::Index,
        name: quote(&index.name),
        create_statement: create_index(index),
    }
}

/// The element of a view.
pub fn view_element(view: &View) -> Element {
    Element {
        keyspace: view.keyspace.clone(),
        kind: ElementKind::MaterializedView,
        name: quote(&view.name),
        create_statement: create_view(view),
    }
}

/// The element of a type.
pub fn type_element(t: &UserType) -> Element {
    Element {
        keyspace: t.keyspace.clone(),
        kind: ElementKind::Type,
        name: quote(&t.name),
        create_statement: create_type(t),
    }
}

/// The element of a function.
pub fn function_element(f: &Function) -> Element {
    Element {
        keyspace: f.keyspace.clone(),
        kind: ElementKind::Function,
        name: format!(
            "{}({})",
            quote(&f.name),
            signature(f.arguments.iter().map(|(_, t)| t))
        ),
        create_statement: create_function(f),
    }
}

/// The element of an aggregate.
pub fn aggregate_element(a: &Aggregate) -> Element {
    Element {
        keyspace: a.keyspace.clone(),
        kind: ElementKind::Aggregate,
        name: format!("{}({})", quote(&a.name), signature(a.argument_types.iter())),
        create_statement: create_aggregate(a),
    }
}

/// Tables in the server's order: by name, case aside.
pub fn tables_in_order(ks: &Keyspace) -> Vec<&Table> {
    let mut tables: Vec<&Table> = ks.tables.values().collect();
    tables.sort_by_cached_key(|t| (t.name.to_lowercase(), t.name.clone()));
    tables
}

/// Types with each after the types it uses, else by name.
pub fn types_by_dependency(ks: &Keyspace) -> Vec<&UserType> {
    let mut left: Vec<&UserType> = ks.types.values().collect();
    let mut out: Vec<&UserType> = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let ready = left.iter().position(|t| {
            let mut used = Vec::new();
            for (_, ty) in &t.fields {
                ty.udt_names(&mut used);
            }
            used.iter()
                .all(|u| *u == t.name || !left.iter().any(|o| o.name == *u))
        });
        // A cycle cannot be created in CQL; should a schema hold one, the rest go by name.
        let i = ready.unwrap_or(0);
        out.push(left.remove(i));
    }
    out
}

/// Argument types as a signature: `int, tuple<int, bigint>` (outer `frozen` dropped).
pub fn signature<'a>(types: impl Iterator<Item = &'a CqlType>) -> String {
    types
        .map(|t| t.unfrozen().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn qualified(keyspace: &str, name: &str) -> String {
    format!("{}.{}", quote(keyspace), quote(name))
}

/// `CREATE KEYSPACE …;`
pub fn create_keyspace(ks: &Keyspace) -> String {
    let class = ks.replication.get("class").map_or("", String::as_str);
    let class = class
        .strip_prefix("org.apache.cassandra.locator.")
        .unwrap_or(class);
    let mut entries = vec![("class", class)];
    entries.extend(
        ks.replication
            .iter()
            .filter(|(k, _)| *k != "class")
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    // Two spaces before AND, as Cassandra 5.0 writes it.
    format!(
        "CREATE KEYSPACE {} WITH replication = {}  AND durable_writes = {};",
        quote(&ks.name),
        map_literal(entries.into_iter()),
        ks.durable_writes
    )
}

/// `CREATE TYPE …;`
pub fn create_type(t: &UserType) -> String {
    let mut s = format!("CREATE TYPE {} (\n", qualified(&t.keyspace, &t.name));
    for (i, (name, ty)) in t.fields.iter().enumerate() {
        let sep = if i + 1 < t.fields.len() { "," } else { "" };
        let _ = writeln!(s, "    {} {ty}{sep}", quote(name));
    }
    s.push_str(");");
    s
}

/// `CREATE FUNCTION …;`
pub fn create_function(f: &Function) -> String {
    let args = f
        .arguments
        .iter()
        .map(|(n, t)| format!("{} {}", quote(n), t.unfrozen()))
        .collect::<Vec<_>>()
        .join(", ");
    let null = if f.called_on_null_input {
        "CALLED ON NULL INPUT"
    } else {
        "RETURNS NULL ON NULL INPUT"
    };
    let body = if f.body.contains("$$") {
        string_literal(&f.body)
    } else {
        format!("$${}$$", f.body)
    };
    format!(
        "CREATE FUNCTION {}({args})\n    {null}\n    RETURNS {}\n    LANGUAGE {}\n    AS {body};",
        qualified(&f.keyspace, &f.name),
        f.return_type.unfrozen(),
        f.language,
    )
}

/// `CREATE AGGREGATE …;`
pub fn create_aggregate(a: &Aggregate) -> String {
    let mut s = format!(
        "CREATE AGGREGATE {}({})\n    SFUNC {}\n    STYPE {}",
        qualified(&a.keyspace, &a.name),
        signature(a.argument_types.iter()),
        quote(&a.state_func),
        a.state_type.unfrozen()
    );
    if let Some(f) = &a.final_func {
        let _ = write!(s, "\n    FINALFUNC {}", quote(f));
    }
    if let Some(c) = &a.initcond {
        let _ = write!(s, "\n    INITCOND {c}");
    }
    s.push(';');
    s
}

/// `CREATE [CUSTOM] INDEX …;`
pub fn create_index(i: &Index) -> String {
    let on = qualified(&i.keyspace, &i.table);
    let name = quote(&i.name);
    match (i.kind.eq_ignore_ascii_case("CUSTOM"), i.class_name()) {
        (true, Some(class)) => {
            let mut s = format!(
                "CREATE CUSTOM INDEX {name} ON {on} ({}) USING {}",
                i.target(),
                string_literal(class)
            );
            let rest: BTreeMap<&str, &str> = i
                .options
                .iter()
                .filter(|(k, _)| *k != "target" && *k != "class_name")
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            if !rest.is_empty() {
                let _ = write!(s, " WITH OPTIONS = {}", map_literal(rest.into_iter()));
            }
            s.push(';');
            s
        }
        _ => format!("CREATE INDEX {name} ON {on} ({});", i.target()),
    }
}

fn column_line(c: &Column, single_key: bool) -> String {
    let mut s = format!("{} {}", quote(&c.name), c.ty);
    if single_key {
        s.push_str(" PRIMARY KEY");
    } else if c.kind == ColumnKind::Static {
        s.push_str(" static");
    }
    s
}

/// `(k, c1, c2)` or `((k1, k2), c1)`.
fn primary_key(columns: &[Column]) -> String {
    let names = |kind| {
        columns
            .iter()
            .filter(move |c| c.kind == kind)
            .map(|c| quote(&c.name))
            .collect::<Vec<_>>()
    };
    let pk = names(ColumnKind::PartitionKey);
    let ck = names(ColumnKind::Clustering);
    let mut s = String::from("(");
    if pk.len() == 1 {
        s.push_str(&pk.join(""));
    } else {
        let _ = write!(s, "({})", pk.join(", "));
    }
    for c in ck {
        let _ = write!(s, ", {c}");
    }
    s.push(')');
    s
}

/// `CLUSTERING ORDER BY (…)` and the options, joined by `AND` on indented lines.
fn with_clauses(
    columns: &[Column],
    options: &BTreeMap<String, OptionValue>,
    is_view: bool,
) -> Vec<String> {
    let mut clauses = Vec::new();
    let clustering: Vec<String> = columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Clustering)
        .map(|c| {
            let order = if c.order == ClusteringOrder::Desc {
                "DESC"
            } else {
                "ASC"
            };
            format!("{} {order}", quote(&c.name))
        })
        .collect();
    if !clustering.is_empty() {
        clauses.push(format!("CLUSTERING ORDER BY ({})", clustering.join(", ")));
    }
    for name in OPTION_ORDER {
        if is_view && *name == "default_time_to_live" {
            continue;
        }
        let value = match options.get(*name) {
            None => continue,
            Some(OptionValue::Null) => match null_default(name) {
                Some(d) => d.to_owned(),
                None => continue,
            },
            Some(v) => v.to_cql(),
        };
        clauses.push(format!("{name} = {value}"));
    }
    clauses
}

/// `CREATE TABLE …;`
pub fn create_table(t: &Table) -> String {
    let mut s = format!("CREATE TABLE {} (\n", qualified(&t.keyspace, &t.name));
    let pk_count = t.partition_key().count();
    let single_key = pk_count == 1 && t.clustering_key().next().is_none();
    let mut lines: Vec<String> = t
        .columns
        .iter()
        .map(|c| column_line(c, single_key && c.kind == ColumnKind::PartitionKey))
        .collect();
    if !single_key {
        lines.push(format!("PRIMARY KEY {}", primary_key(&t.columns)));
    }
    for (i, line) in lines.iter().enumerate() {
        let sep = if i + 1 < lines.len() { "," } else { "" };
        let _ = writeln!(s, "    {line}{sep}");
    }
    s.push(')');
    let clauses = with_clauses(&t.columns, &t.options, false);
    if !clauses.is_empty() {
        let _ = write!(s, " WITH {}", clauses.join("\n    AND "));
    }
    s.push(';');
    s
}

/// `CREATE MATERIALIZED VIEW …;`
pub fn create_view(v: &View) -> String {
    let select = if v.include_all_columns {
        "*".to_owned()
    } else {
        v.columns
            .iter()
            .map(|c| quote(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = format!(
        "CREATE MATERIALIZED VIEW {} AS\n    SELECT {select}\n    FROM {}\n    WHERE {}\n    PRIMARY KEY {}\n",
        qualified(&v.keyspace, &v.name),
        qualified(&v.keyspace, &v.base_table),
        v.where_clause,
        primary_key(&v.columns),
    );
    let clauses = with_clauses(&v.columns, &v.options, true);
    if !clauses.is_empty() {
        let _ = write!(s, " WITH {}", clauses.join("\n    AND "));
    }
    s.push(';');
    s
}
