//! Typed values in and out against a scripted server: a derived struct passed to `execute`
//! arrives as the EXECUTE's values, and the Rows answer reads back into it.

use bytes::Bytes;
use cql4_conn::{Client, Error, FromRow, QueryOptions, SerializeRow};
use cql4_frame::request::{BoundValue, QueryValues, Request};
use cql4_frame::response::{Response, ResultResponse};
use cql4_frame::types::ColumnType;
use cql4_frame::EncodeError;
use cql4_testkit::frames;
use cql4_testkit::server::{FakeServer, Peer};

async fn pair() -> (Client, Peer) {
    let server = FakeServer::start().await;
    let config = server.config();
    let connect = tokio::spawn(async move { Client::connect(&config).await });
    let mut peer = server.accept().await;
    peer.handshake().await;
    (connect.await.expect("join").expect("connect"), peer)
}

#[derive(Debug, PartialEq, FromRow, SerializeRow)]
struct User {
    id: i32,
    name: Option<String>,
}

fn columns() -> [(&'static str, ColumnType); 2] {
    [("id", ColumnType::Int), ("name", ColumnType::Text)]
}

#[tokio::test]
async fn derived_struct_binds_and_reads_back() {
    let (client, mut peer) = pair().await;
    let c = client.clone();
    let task = tokio::spawn(async move {
        let s = c
            .prepare("SELECT id, name FROM t WHERE name = ? AND id = ?")
            .await?;
        let user = User {
            id: 7,
            name: Some("ada".into()),
        };
        let values = &user;
        let result = c.execute(&s, values, &QueryOptions::new()).await?;
        let one: User = result.single_row()?;
        let first: (i32, Option<&str>) = result.first_row()?;
        assert_eq!(first, (7, Some("ada")));
        Ok::<_, Error>(one)
    });
    let p = peer.request().await.expect("PREPARE");
    // Markers in another order than the struct's fields: bound by name.
    let markers = [("name", ColumnType::Text), ("id", ColumnType::Int)];
    peer.respond(p.stream, frames::prepared(b"id", &markers, &columns()))
        .await;
    let ex = peer.request().await.expect("EXECUTE");
    let Request::Execute(e) = &ex.message else {
        panic!("expected EXECUTE")
    };
    assert_eq!(
        e.params.values,
        Some(QueryValues::Positional(vec![
            BoundValue::Bytes(Bytes::from_static(b"ada")),
            BoundValue::Bytes(Bytes::from_static(&[0, 0, 0, 7])),
        ]))
    );
    let rows = frames::rows(
        &columns(),
        &[vec![Some(vec![0, 0, 0, 7]), Some(b"ada".to_vec())]],
        None,
    );
    peer.respond(ex.stream, rows).await;
    let user = task.await.expect("join").expect("typed round trip");
    assert_eq!(
        user,
        User {
            id: 7,
            name: Some("ada".into())
        }
    );
}

#[tokio::test]
async fn binding_errors_and_row_count_errors_are_connection_errors() {
    let (client, mut peer) = pair().await;
    let c = client.clone();
    let task = tokio::spawn(async move { c.prepare("SELECT id FROM t WHERE id = ?").await });
    let p = peer.request().await.expect("PREPARE");
    peer.respond(
        p.stream,
        frames::prepared(b"id", &[("id", ColumnType::Int)], &columns()),
    )
    .await;
    let s = task.await.expect("join").expect("prepare");

    // Values that do not fit the markers fail before anything is sent.
    let err = client
        .execute(&s, ("seven",), &QueryOptions::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Encode(EncodeError::InMarker { index: 0, .. })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "bind marker 0 (id): encoding &str: value does not match CQL type int"
    );
    let err = client
        .execute(&s, (1i32, 2i32), &QueryOptions::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "2 values for a statement of 1 bind markers"
    );
    // A null and an unset value arrive as -1 and -2.
    for (expected, row) in [
        (BoundValue::Null, vec![None::<i32>]),
        (BoundValue::NotSet, Vec::new()),
    ] {
        let c = client.clone();
        let s2 = s.clone();
        let task = tokio::spawn(async move {
            if row.is_empty() {
                c.execute(&s2, (cql4_conn::Unset,), &QueryOptions::new())
                    .await
            } else {
                c.execute(&s2, row, &QueryOptions::new()).await
            }
        });
        let ex = peer.request().await.expect("EXECUTE");
        let Request::Execute(ex_msg) = &ex.message else {
            panic!("expected EXECUTE, got {:?}", ex.message);
        };
        assert_eq!(
            ex_msg.params.values,
            Some(QueryValues::Positional(vec![expected]))
        );
        peer.respond(ex.stream, Response::Result(ResultResponse::Void))
            .await;
        task.await.expect("join").expect("execute");
    }

    // Rows answers of 0 and 2 rows, and a Void one, read through the typed accessors.
    let c = client.clone();
    let s2 = s.clone();
    let task = tokio::spawn(async move {
        let mut results = Vec::new();
        for _ in 0..3 {
            results.push(c.execute(&s2, (1i32,), &QueryOptions::new()).await?);
        }
        Ok::<_, Error>(results)
    });
    let row = |id: u8| vec![Some(vec![0, 0, 0, id]), None];
    for answer in [
        frames::rows(&columns(), &[], None),
        frames::rows(&columns(), &[row(1), row(2)], None),
        Response::Result(ResultResponse::Void),
    ] {
        let ex = peer.request().await.expect("EXECUTE");
        peer.respond(ex.stream, answer).await;
    }
    let results = task.await.expect("join").expect("executes");
    let [empty, two, void] = &results[..] else {
        panic!("three results")
    };
    assert_eq!(
        empty.first_row::<User>().unwrap_err().to_string(),
        "expected at least one row, the result has 0"
    );
    assert_eq!(empty.maybe_first_row::<User>().expect("no row"), None);
    assert_eq!(
        two.single_row::<User>().unwrap_err().to_string(),
        "expected exactly one row, the result has 2"
    );
    assert_eq!(
        two.maybe_first_row::<User>().expect("a row"),
        Some(User { id: 1, name: None })
    );
    assert_eq!(
        two.rows_typed::<(i32, Option<&str>)>()
            .expect("rows")
            .map(|r| r.map(|(id, _)| id))
            .collect::<Result<Vec<_>, _>>()
            .expect("decodes"),
        [1, 2]
    );
    let err = two.first_row::<(String, String)>().unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert!(
        err.to_string()
            .ends_with("column id: cannot read CQL type int as String"),
        "{err}"
    );
    assert_eq!(
        void.first_row::<User>().unwrap_err().to_string(),
        "expected a Rows result, got Void"
    );
}

#[tokio::test]
async fn unprepared_query_writes_values_by_their_rust_types() {
    let (client, mut peer) = pair().await;
    // A tuple: positional, each value its natural type.
    let c = client.clone();
    let task = tokio::spawn(async move {
        c.query(
            "INSERT INTO t (id, name) VALUES (?, ?)",
            (1i32, "x"),
            &QueryOptions::new(),
        )
        .await
    });
    let q = peer.request().await.expect("QUERY");
    let Request::Query(m) = &q.message else {
        panic!("expected QUERY, got {:?}", q.message);
    };
    assert_eq!(
        m.params.values,
        Some(QueryValues::Positional(vec![
            BoundValue::Bytes(Bytes::from_static(&[0, 0, 0, 1])),
            BoundValue::Bytes(Bytes::from_static(b"x")),
        ]))
    );
    peer.respond(q.stream, Response::Result(ResultResponse::Void))
        .await;
    task.await.expect("join").expect("query");

    // A derived struct: named values (flag 0x40), bound by name on the server.
    let c = client.clone();
    let task = tokio::spawn(async move {
        let user = User { id: 2, name: None };
        c.query(
            "INSERT INTO t (id, name) VALUES (:id, :name)",
            &user,
            &QueryOptions::new(),
        )
        .await
    });
    let q = peer.request().await.expect("QUERY");
    let Request::Query(m) = &q.message else {
        panic!("expected QUERY, got {:?}", q.message);
    };
    assert_eq!(
        m.params.values,
        Some(QueryValues::Named(vec![
            (
                "id".into(),
                BoundValue::Bytes(Bytes::from_static(&[0, 0, 0, 2]))
            ),
            ("name".into(), BoundValue::Null),
        ]))
    );
    peer.respond(q.stream, Response::Result(ResultResponse::Void))
        .await;
    task.await.expect("join").expect("query");

    // No values: no values flag at all.
    let c = client.clone();
    let task = tokio::spawn(async move { c.query("SELECT 1", (), &QueryOptions::new()).await });
    let q = peer.request().await.expect("QUERY");
    let Request::Query(m) = &q.message else {
        panic!("expected QUERY, got {:?}", q.message);
    };
    assert_eq!(m.params.values, None);
    peer.respond(q.stream, Response::Result(ResultResponse::Void))
        .await;
    task.await.expect("join").expect("query");
}
