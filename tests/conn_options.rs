//! Per-request options and connection options against the real node: LZ4 compression,
//! tracing, default timestamp, serial consistency, consistency errors with details, custom
//! payload.

mod common;

use cql4::frame::response::ErrorDetails;
use cql4::frame::{Compression, Consistency, CqlValue, ErrorCode};
use cql4::{Client, QueryOptions};

#[tokio::test]
async fn lz4_is_negotiated_and_used_both_ways() {
    let node = common::node();
    let mut config = node.password_config();
    config.compression = Compression::Lz4;
    let client = Client::connect(&config).await.expect("connect with lz4");
    assert_eq!(client.compression(), Compression::Lz4);
    let ks = common::keyspace(&client, "lz4").await;
    common::exec(&client, "CREATE TABLE t (k int PRIMARY KEY, v text)").await;
    let insert = client
        .prepare("INSERT INTO t (k, v) VALUES (?, ?)")
        .await
        .unwrap();
    let big = "compressible ".repeat(5000);
    for k in 0..20 {
        let v = [Some(CqlValue::Int(k)), Some(CqlValue::Text(big.clone()))];
        client
            .execute(&insert, v, &QueryOptions::new())
            .await
            .unwrap();
    }
    let r = client
        .query(
            "SELECT k, v FROM t",
            (),
            &QueryOptions::new().with_page_size(7),
        )
        .await
        .unwrap();
    let rows = r.rows().unwrap();
    assert_eq!(rows.len(), 7);
    for row in rows.iter() {
        assert_eq!(row.get::<&str>(1).unwrap(), big);
    }
    common::drop_keyspace(&client, &ks).await;
}

#[tokio::test]
async fn tracing_id_comes_back_when_asked() {
    let node = common::node();
    let client = node.client().await;
    let cql = "SELECT release_version FROM system.local";
    let plain = client.query(cql, (), &QueryOptions::new()).await.unwrap();
    assert_eq!(plain.tracing_id, None);
    let traced = client
        .query(cql, (), &QueryOptions::new().with_tracing(true))
        .await
        .unwrap();
    let id = traced.tracing_id.expect("a tracing id");
    assert_ne!(id, [0u8; 16]);
}

#[tokio::test]
async fn default_timestamp_serial_consistency_and_payload() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "options").await;
    common::exec(&client, "CREATE TABLE t (k int PRIMARY KEY, v int)").await;

    let ts = 1_600_000_000_000_000_i64;
    client
        .query(
            "INSERT INTO t (k, v) VALUES (1, 1)",
            (),
            &QueryOptions::new().with_default_timestamp(ts),
        )
        .await
        .unwrap();
    let r = common::exec(&client, "SELECT WRITETIME(v) FROM t WHERE k = 1").await;
    assert_eq!(r.rows().unwrap().row(0).unwrap().get::<i64>(0).unwrap(), ts);

    let lwt = QueryOptions::new().with_serial_consistency(Consistency::LOCAL_SERIAL);
    let applied = |r: &cql4::QueryResult| r.rows().unwrap().row(0).unwrap().get::<bool>(0).unwrap();
    let r = client
        .query("INSERT INTO t (k, v) VALUES (2, 2) IF NOT EXISTS", (), &lwt)
        .await
        .unwrap();
    assert!(applied(&r));
    let r = client
        .query("INSERT INTO t (k, v) VALUES (2, 3) IF NOT EXISTS", (), &lwt)
        .await
        .unwrap();
    assert!(!applied(&r));

    // A custom payload is carried (the default query handler ignores it).
    let r = client
        .query(
            "SELECT v FROM t WHERE k = 2",
            (),
            &QueryOptions::new().with_custom_payload(vec![(
                "cql4-test".to_owned(),
                Some(bytes::Bytes::from_static(b"value")),
            )]),
        )
        .await
        .unwrap();
    assert_eq!(r.rows().unwrap().row(0).unwrap().get::<i32>(0).unwrap(), 2);
    common::drop_keyspace(&client, &ks).await;
}

#[tokio::test]
async fn unavailable_consistency_is_a_typed_error_with_details() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "unavailable").await;
    common::exec(&client, "CREATE TABLE t (k int PRIMARY KEY, v int)").await;
    let e = client
        .query(
            "INSERT INTO t (k, v) VALUES (1, 1)",
            (),
            &QueryOptions::new().with_consistency(Consistency::THREE),
        )
        .await
        .unwrap_err();
    let server = e.server_error().expect("server error");
    assert_eq!(server.code, ErrorCode::UNAVAILABLE);
    match &server.details {
        ErrorDetails::Unavailable {
            consistency,
            required,
            alive,
        } => {
            assert_eq!(*consistency, Consistency::THREE);
            assert_eq!((*required, *alive), (3, 1));
        }
        other => panic!("expected Unavailable details, got {other:?}"),
    }
    common::drop_keyspace(&client, &ks).await;
}
