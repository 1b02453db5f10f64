//! The builder fed pages as the server sends them, and the statements it renders (expected
//! texts as Cassandra 5.0.8's own DESCRIBE printed them for the same schema).

use bytes::Bytes;
use cql4_frame::rows::{ColumnSpec, ResultMetadata, Rows, TableSpec};
use cql4_frame::{ColumnType, CqlValue, DecodeLimits, Reader, Writer};

use crate::describe::{create_keyspace, create_table, keyspace_elements};
use crate::{OptionValue, SchemaBuilder, SchemaErrorKind};

fn page(columns: &[(&str, ColumnType)], rows: &[Vec<Option<CqlValue>>]) -> Rows {
    let metadata = ResultMetadata::new(
        Some(TableSpec {
            keyspace: "system_schema".into(),
            table: "x".into(),
        }),
        columns
            .iter()
            .map(|(n, t)| ColumnSpec::new(*n, t.clone()))
            .collect(),
    );
    let mut body = Vec::new();
    metadata.encode(&mut Writer::new(&mut body)).unwrap();
    body.extend_from_slice(&(rows.len() as i32).to_be_bytes());
    for row in rows {
        for (cell, (_, ty)) in row.iter().zip(columns) {
            match cell {
                None => body.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    let mut value = Vec::new();
                    v.serialize(ty, &mut value).unwrap();
                    body.extend_from_slice(&(value.len() as i32).to_be_bytes());
                    body.extend_from_slice(&value);
                }
            }
        }
    }
    let body = Bytes::from(body);
    Rows::decode(&body, &mut Reader::new(&body), &DecodeLimits::default()).unwrap()
}

fn text(s: &str) -> Option<CqlValue> {
    Some(CqlValue::Text(s.to_owned()))
}

fn text_map(entries: &[(&str, &str)]) -> Option<CqlValue> {
    Some(CqlValue::Map(
        entries
            .iter()
            .map(|(k, v)| (CqlValue::Text((*k).into()), CqlValue::Text((*v).into())))
            .collect(),
    ))
}

fn map_type() -> ColumnType {
    ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text))
}

fn builder() -> SchemaBuilder {
    let mut b = SchemaBuilder::new();
    b.keyspaces(&page(
        &[
            ("keyspace_name", ColumnType::Text),
            ("durable_writes", ColumnType::Boolean),
            ("replication", map_type()),
        ],
        &[vec![
            text("ks"),
            Some(CqlValue::Boolean(false)),
            text_map(&[
                ("class", "org.apache.cassandra.locator.SimpleStrategy"),
                ("replication_factor", "1"),
            ]),
        ]],
    ))
    .unwrap();
    // Options as Cassandra 5.0 stores them (nulls for the newer ones), plus one Amazon
    // Keyspaces option that Cassandra lacks.
    b.tables(&page(
        &[
            ("keyspace_name", ColumnType::Text),
            ("table_name", ColumnType::Text),
            ("allow_auto_snapshot", ColumnType::Boolean),
            ("bloom_filter_fp_chance", ColumnType::Double),
            ("caching", map_type()),
            ("comment", ColumnType::Text),
            ("gc_grace_seconds", ColumnType::Int),
            ("memtable", ColumnType::Text),
            ("read_repair_chance", ColumnType::Double),
        ],
        &[vec![
            text("ks"),
            text("t"),
            None,
            Some(CqlValue::Double(0.01)),
            text_map(&[("keys", "ALL"), ("rows_per_partition", "NONE")]),
            text("it's"),
            Some(CqlValue::Int(3600)),
            None,
            Some(CqlValue::Double(0.0)),
        ]],
    ))
    .unwrap();
    // Amazon Keyspaces' own table of tables: its extra options join the table's; the ones
    // system_schema.tables has keep their value from there.
    b.keyspaces_tables(&page(
        &[
            ("keyspace_name", ColumnType::Text),
            ("table_name", ColumnType::Text),
            ("comment", ColumnType::Text),
            (
                "custom_properties",
                ColumnType::Map(Box::new(ColumnType::Text), Box::new(map_type())),
            ),
            ("status", ColumnType::Text),
        ],
        &[
            vec![
                text("ks"),
                text("t"),
                text("not this one"),
                Some(CqlValue::Map(vec![(
                    CqlValue::Text("capacity_mode".into()),
                    CqlValue::Map(vec![(
                        CqlValue::Text("throughput_mode".into()),
                        CqlValue::Text("PAY_PER_REQUEST".into()),
                    )]),
                )])),
                text("ACTIVE"),
            ],
            // A table system_schema.tables did not list (created in between): ignored.
            vec![text("ks"), text("later"), None, None, text("CREATING")],
        ],
    ))
    .unwrap();
    let col = |name: &str, kind: &str, pos: i32, order: &str, ty: &str| {
        vec![
            text("ks"),
            text("t"),
            text(name),
            text(kind),
            Some(CqlValue::Int(pos)),
            text(order),
            text(ty),
        ]
    };
    b.columns(&page(
        &[
            ("keyspace_name", ColumnType::Text),
            ("table_name", ColumnType::Text),
            ("column_name", ColumnType::Text),
            ("kind", ColumnType::Text),
            ("position", ColumnType::Int),
            ("clustering_order", ColumnType::Text),
            ("type", ColumnType::Text),
        ],
        &[
            col(
                "v",
                "regular",
                -1,
                "none",
                "frozen<map<text, frozen<list<int>>>>",
            ),
            col("c2", "clustering", 1, "desc", "text"),
            col("k2", "partition_key", 1, "none", "text"),
            col("St", "static", -1, "none", "vector<float, 3>"),
            col("c1", "clustering", 0, "asc", "int"),
            col("k1", "partition_key", 0, "none", "int"),
            col("a", "regular", -1, "none", "frozen<addr>"),
            col("b", "regular", -1, "none", "list<int>"),
            col("z", "regular", -1, "none", "int"),
        ],
    ))
    .unwrap();
    b
}

#[test]
fn a_table_renders_as_the_server_describes_it() {
    let schema = builder().build();
    let ks = schema.keyspace("ks").unwrap();
    assert_eq!(
        create_keyspace(ks),
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'}  AND durable_writes = false;"
    );
    let t = &ks.tables["t"];
    assert_eq!(
        create_table(t),
        "CREATE TABLE ks.t (
    k1 int,
    k2 text,
    c1 int,
    c2 text,
    \"St\" vector<float, 3> static,
    a frozen<addr>,
    v frozen<map<text, frozen<list<int>>>>,
    z int,
    b list<int>,
    PRIMARY KEY ((k1, k2), c1, c2)
) WITH CLUSTERING ORDER BY (c1 ASC, c2 DESC)
    AND allow_auto_snapshot = true
    AND bloom_filter_fp_chance = 0.01
    AND caching = {'keys': 'ALL', 'rows_per_partition': 'NONE'}
    AND comment = 'it''s'
    AND memtable = 'default'
    AND gc_grace_seconds = 3600;"
    );
    // The options Cassandra lacks are kept, not written.
    assert_eq!(t.options["status"], OptionValue::Text("ACTIVE".into()));
    assert_eq!(t.options["comment"], OptionValue::Text("it's".into()));
    assert_eq!(ks.tables.len(), 1);
    assert_eq!(
        t.options["custom_properties"].to_cql(),
        "{'capacity_mode': {'throughput_mode': 'PAY_PER_REQUEST'}}"
    );
    let kinds: Vec<_> = keyspace_elements(ks)
        .iter()
        .map(|e| (e.kind.as_str(), e.name.clone()))
        .collect();
    assert_eq!(kinds, [("keyspace", "ks".into()), ("table", "t".into())]);
}

#[test]
fn unexpected_rows_are_errors_naming_the_column() {
    let mut b = SchemaBuilder::new();
    let cols = [
        ("keyspace_name", ColumnType::Text),
        ("table_name", ColumnType::Text),
        ("column_name", ColumnType::Text),
        ("kind", ColumnType::Text),
        ("type", ColumnType::Text),
    ];
    let e = b
        .columns(&page(
            &cols,
            &[vec![
                text("ks"),
                text("t"),
                text("c"),
                text("odd"),
                text("int"),
            ]],
        ))
        .unwrap_err();
    assert_eq!(e.column, "kind");
    assert_eq!(
        e.to_string(),
        "system_schema.columns.kind (of ks.t.c): unexpected value \"odd\""
    );
    let e = b
        .columns(&page(
            &cols,
            &[vec![
                text("ks"),
                text("t"),
                text("c"),
                text("regular"),
                text("list<"),
            ]],
        ))
        .unwrap_err();
    assert!(matches!(e.kind, SchemaErrorKind::Type(_)), "{e}");
    let e = b
        .columns(&page(
            &cols,
            &[vec![
                text("ks"),
                None,
                text("c"),
                text("regular"),
                text("int"),
            ]],
        ))
        .unwrap_err();
    assert_eq!(
        (e.column.as_str(), &e.kind),
        ("table_name", &SchemaErrorKind::Null)
    );
    let e = b
        .keyspaces(&page(&[("name", ColumnType::Text)], &[vec![text("ks")]]))
        .unwrap_err();
    assert_eq!(
        (e.table, e.column.as_str(), &e.kind),
        (
            "system_schema.keyspaces",
            "keyspace_name",
            &SchemaErrorKind::MissingColumn
        )
    );
    // A cell of another type than expected: a decode error, not a panic.
    let e = b
        .keyspaces(&page(
            &[("keyspace_name", ColumnType::Int)],
            &[vec![Some(CqlValue::Int(1))]],
        ))
        .unwrap_err();
    assert!(matches!(e.kind, SchemaErrorKind::Decode(_)), "{e}");
}

/// The columns every reader looks for, for the property test below.
const NAMES: &[&str] = &[
    "keyspace_name",
    "table_name",
    "view_name",
    "type_name",
    "function_name",
    "aggregate_name",
    "index_name",
    "column_name",
    "kind",
    "position",
    "clustering_order",
    "type",
    "replication",
    "durable_writes",
    "field_names",
    "field_types",
    "argument_names",
    "argument_types",
    "return_type",
    "state_func",
    "state_type",
    "final_func",
    "initcond",
    "base_table_name",
    "options",
    "flags",
];

fn arbitrary_cell() -> impl proptest::strategy::Strategy<Value = (ColumnType, Option<CqlValue>)> {
    use proptest::prelude::*;
    let text = "[a-z<>,' \"0-9]{0,12}";
    prop_oneof![
        text.prop_map(|s| (ColumnType::Text, Some(CqlValue::Text(s)))),
        any::<i32>().prop_map(|n| (ColumnType::Int, Some(CqlValue::Int(n)))),
        any::<bool>().prop_map(|b| (ColumnType::Boolean, Some(CqlValue::Boolean(b)))),
        proptest::collection::vec(text, 0..3).prop_map(|v| (
            ColumnType::List(Box::new(ColumnType::Text)),
            Some(CqlValue::List(v.into_iter().map(CqlValue::Text).collect()))
        )),
        proptest::collection::vec((text, text), 0..3).prop_map(|v| (
            map_type(),
            Some(CqlValue::Map(
                v.into_iter()
                    .map(|(k, v)| (CqlValue::Text(k), CqlValue::Text(v)))
                    .collect()
            ))
        )),
        Just((ColumnType::Text, None)),
    ]
}

proptest::proptest! {
    /// Any shape of row, fed to every reader: an error or a schema, never a panic.
    #[test]
    fn odd_rows_never_panic(
        cells in proptest::collection::vec((0..NAMES.len(), arbitrary_cell()), 1..12),
        rows in 1usize..3,
    ) {
        let mut seen = Vec::new();
        let mut columns = Vec::new();
        let mut row = Vec::new();
        for (i, (ty, value)) in cells {
            if seen.contains(&i) {
                continue;
            }
            seen.push(i);
            columns.push((NAMES[i], ty));
            row.push(value);
        }
        let p = page(&columns, &vec![row; rows]);
        let mut b = SchemaBuilder::new();
        let _ = b.keyspaces(&p);
        let _ = b.tables(&p);
        let _ = b.keyspaces_tables(&p);
        let _ = b.views(&p);
        let _ = b.columns(&p);
        let _ = b.indexes(&p);
        let _ = b.types(&p);
        let _ = b.functions(&p);
        let _ = b.aggregates(&p);
        let _ = b.local(&p);
        for ks in b.build().keyspaces.values() {
            let _ = keyspace_elements(ks);
        }
    }
}
