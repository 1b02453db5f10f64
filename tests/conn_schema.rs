//! Schema-related behaviour against the real node: UNPREPARED after a table is dropped and
//! recreated with other columns, a batch, a server warning, and EVENTs after REGISTER.

mod common;

use std::time::Duration;

use cql4::frame::event::{Event, SchemaChangeTarget, SchemaChangeType};
use cql4::frame::request::BatchType;
use cql4::frame::CqlValue;
use cql4::{BatchRequest, EventType, QueryOptions};

#[tokio::test]
async fn unprepared_after_drop_and_recreate_is_prepared_again() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "unprepared").await;
    common::exec(&client, "CREATE TABLE t (k int PRIMARY KEY, v text)").await;
    common::exec(&client, "INSERT INTO t (k, v) VALUES (1, 'old')").await;
    let select = client.prepare("SELECT * FROM t WHERE k = ?").await.unwrap();
    let key = || [Some(CqlValue::Int(1))];
    let r = client
        .execute(&select, key(), &QueryOptions::new())
        .await
        .unwrap();
    assert_eq!(
        r.rows().unwrap().row(0).unwrap().to_owned_values().unwrap(),
        vec![Some(CqlValue::Int(1)), Some(CqlValue::Text("old".into()))]
    );
    let old_id = select.id();

    common::exec(&client, "DROP TABLE t").await;
    common::exec(
        &client,
        "CREATE TABLE t (k int PRIMARY KEY, x int, y text, z boolean)",
    )
    .await;
    common::exec(
        &client,
        "INSERT INTO t (k, x, y, z) VALUES (1, 7, 'new', true)",
    )
    .await;

    // The node forgot the statement with the table: EXECUTE gets UNPREPARED, the client
    // prepares again and decodes the new columns with the new metadata.
    let r = client
        .execute(&select, key(), &QueryOptions::new())
        .await
        .unwrap();
    let rows = r.rows().unwrap();
    let names: Vec<&str> = rows.columns().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["k", "x", "y", "z"]);
    assert_eq!(
        rows.row(0).unwrap().to_owned_values().unwrap(),
        vec![
            Some(CqlValue::Int(1)),
            Some(CqlValue::Int(7)),
            Some(CqlValue::Text("new".into())),
            Some(CqlValue::Boolean(true)),
        ]
    );
    assert_eq!(select.result_metadata().unwrap().columns.len(), 4);
    // The cache hands out the refreshed statement too.
    let again = client.prepare("SELECT * FROM t WHERE k = ?").await.unwrap();
    assert_eq!(again.result_metadata().unwrap().columns.len(), 4);
    eprintln!("prepared id before {old_id:?}, after {:?}", select.id());
    common::drop_keyspace(&client, &ks).await;
}

#[tokio::test]
async fn batch_applies_all_statements_and_surfaces_the_size_warning() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "batch").await;
    common::exec(&client, "CREATE TABLE t (k int PRIMARY KEY, v text)").await;
    let insert = client
        .prepare("INSERT INTO t (k, v) VALUES (?, ?)")
        .await
        .unwrap();

    // A small batch: prepared and plain children, no warning.
    let mut small = BatchRequest::new(BatchType::LOGGED);
    small.add_query("INSERT INTO t (k, v) VALUES (1, 'one')", ());
    small.add_prepared(
        &insert,
        [Some(CqlValue::Int(2)), Some(CqlValue::Text("two".into()))],
    );
    let r = client.batch(&small, &QueryOptions::new()).await.unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let got = common::exec(&client, "SELECT k, v FROM t WHERE k IN (1, 2)").await;
    let got: Vec<(i32, String)> = got
        .rows()
        .unwrap()
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get::<&str>(1).unwrap().to_owned()))
        .collect();
    assert_eq!(got, vec![(1, "one".to_owned()), (2, "two".to_owned())]);

    // Above batch_size_warn_threshold (5 KiB by default): the server warns.
    let mut big = BatchRequest::new(BatchType::LOGGED);
    let filler = "x".repeat(600);
    for k in 10..30 {
        big.add_prepared(
            &insert,
            [Some(CqlValue::Int(k)), Some(CqlValue::Text(filler.clone()))],
        );
    }
    let r = client.batch(&big, &QueryOptions::new()).await.unwrap();
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("Batch") && w.contains("threshold")),
        "expected a batch size warning, got {:?}",
        r.warnings
    );
    common::drop_keyspace(&client, &ks).await;
}

#[tokio::test]
async fn schema_change_event_arrives_after_register() {
    let node = common::node();
    let listener = node.client().await;
    let mut events = listener
        .register(&[EventType::SchemaChange])
        .await
        .expect("REGISTER");
    let client = node.client().await;
    let ks = common::keyspace(&client, "events").await;
    common::exec(&client, "CREATE TABLE watched (k int PRIMARY KEY)").await;

    // Other tests change the schema concurrently: wait for ours.
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(event) = events.recv().await {
            if let Event::SchemaChange(change) = event.expect("decodable event") {
                if let SchemaChangeTarget::Table { keyspace, table } = &change.target {
                    if *keyspace == ks && table == "watched" {
                        return change.change;
                    }
                }
            }
        }
        panic!("event stream ended");
    })
    .await
    .expect("a SCHEMA_CHANGE event within 20 s");
    assert_eq!(found, SchemaChangeType::Created);
    common::drop_keyspace(&client, &ks).await;
}

#[tokio::test]
async fn server_errors_are_typed_with_their_code() {
    let node = common::node();
    let client = node.client().await;
    let e = client
        .query("SELEKT nothing", (), &QueryOptions::new())
        .await
        .unwrap_err();
    let server = e.server_error().expect("a server error");
    assert_eq!(server.code, cql4::frame::ErrorCode::SYNTAX_ERROR);
    assert!(e.to_string().contains("SYNTAX_ERROR"), "{e}");
    let e = client
        .query(
            "SELECT * FROM no_such_keyspace_cql4.t",
            (),
            &QueryOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.server_error().unwrap().code,
        cql4::frame::ErrorCode::INVALID
    );
    // The connection is still fine after errors.
    common::exec(&client, "SELECT release_version FROM system.local").await;
}
