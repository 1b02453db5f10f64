//! The request API against a scripted server (plain TCP on loopback): re-prepare on UNPREPARED
//! for EXECUTE and BATCH (once, not in a loop), the skip-metadata flag, and page prefetching.

use cql4_conn::{BatchRequest, Client, QueryOptions};
use cql4_frame::request::{BatchQuery, BatchType, Request, RequestFrame};
use cql4_frame::response::{ErrorCode, Response, ResultResponse};
use cql4_frame::types::ColumnType;
use cql4_testkit::frames;
use cql4_testkit::server::{FakeServer, Peer};

/// A client connected to a fresh fake server, and the server's side of that connection.
async fn pair() -> (Client, Peer) {
    let server = FakeServer::start().await;
    let config = server.config();
    let connect = tokio::spawn(async move { Client::connect(&config).await });
    let mut peer = server.accept().await;
    peer.handshake().await;
    (connect.await.expect("join").expect("connect"), peer)
}

/// The next request on `peer` (the kit bounds the wait).
async fn next(peer: &mut Peer) -> RequestFrame {
    peer.request().await.expect("the client closed")
}

/// RESULT Prepared for `ks.t`: one int bind marker `k`, these int result columns.
fn prepared(id: &'static [u8], result_columns: &[&str]) -> Response {
    let result: Vec<(&str, ColumnType)> = result_columns
        .iter()
        .map(|c| (*c, ColumnType::Int))
        .collect();
    frames::prepared(id, &[("k", ColumnType::Int)], &result)
}

fn unprepared(id: &'static [u8]) -> Response {
    frames::unprepared(id)
}

#[tokio::test]
async fn execute_reprepares_once_and_sends_the_new_id() {
    let (client, mut peer) = pair().await;
    let c = client.clone();
    let task = tokio::spawn(async move {
        let s = c.prepare("SELECT v FROM t WHERE k = ?").await?;
        c.execute(&s, (1i32,), &QueryOptions::new()).await?;
        Ok::<_, cql4_conn::Error>(s)
    });
    let p = next(&mut peer).await;
    peer.respond(p.stream, prepared(b"old", &["v"])).await;
    let ex = next(&mut peer).await;
    let Request::Execute(e) = &ex.message else {
        panic!("expected EXECUTE, got {:?}", ex.message)
    };
    assert_eq!(&e.id[..], b"old");
    assert!(e.params.skip_metadata, "result metadata is cached: skip it");
    peer.respond(ex.stream, unprepared(b"old")).await;
    let again = next(&mut peer).await;
    assert!(
        matches!(&again.message, Request::Prepare(p) if p.query == "SELECT v FROM t WHERE k = ?")
    );
    peer.respond(again.stream, prepared(b"new", &["v"])).await;
    let ex = next(&mut peer).await;
    let Request::Execute(e) = &ex.message else {
        panic!("expected EXECUTE")
    };
    assert_eq!(&e.id[..], b"new");
    peer.respond(ex.stream, Response::Result(ResultResponse::Void))
        .await;
    let statement = task.await.unwrap().unwrap();
    assert_eq!(&statement.id()[..], b"new");

    // A second UNPREPARED right after the re-prepare is returned, not retried forever.
    let c = client.clone();
    let s2 = statement.clone();
    let task = tokio::spawn(async move { c.execute(&s2, (1i32,), &QueryOptions::new()).await });
    let ex = next(&mut peer).await;
    peer.respond(ex.stream, unprepared(b"new")).await;
    let p = next(&mut peer).await;
    peer.respond(p.stream, prepared(b"new", &["v"])).await;
    let ex = next(&mut peer).await;
    peer.respond(ex.stream, unprepared(b"new")).await;
    let e = task.await.unwrap().unwrap_err();
    assert_eq!(e.server_error().unwrap().code, ErrorCode::UNPREPARED);
}

#[tokio::test]
async fn statement_without_result_columns_does_not_skip_metadata() {
    let (client, mut peer) = pair().await;
    let c = client.clone();
    let task = tokio::spawn(async move {
        let s = c.prepare("INSERT INTO t (k) VALUES (?)").await?;
        c.execute(&s, (1i32,), &QueryOptions::new()).await
    });
    let p = next(&mut peer).await;
    peer.respond(p.stream, prepared(b"ins", &[])).await;
    let ex = next(&mut peer).await;
    let Request::Execute(e) = &ex.message else {
        panic!("expected EXECUTE")
    };
    assert!(!e.params.skip_metadata);
    peer.respond(ex.stream, Response::Result(ResultResponse::Void))
        .await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn batch_reprepares_the_unknown_child_and_resends() {
    let (client, mut peer) = pair().await;
    let c = client.clone();
    let task = tokio::spawn(async move {
        let s = c.prepare("INSERT INTO t (k) VALUES (?)").await?;
        let mut batch = BatchRequest::new(BatchType::UNLOGGED);
        batch.add_query("INSERT INTO t (k) VALUES (1)", ());
        batch.add_prepared(&s, (1i32,));
        c.batch(&batch, &QueryOptions::new()).await
    });
    let p = next(&mut peer).await;
    peer.respond(p.stream, prepared(b"old", &[])).await;
    let b = next(&mut peer).await;
    let Request::Batch(batch) = &b.message else {
        panic!("expected BATCH")
    };
    assert_eq!(batch.statements.len(), 2);
    assert!(matches!(&batch.statements[1].query, BatchQuery::Prepared(id) if &id[..] == b"old"));
    peer.respond(b.stream, unprepared(b"old")).await;
    let p = next(&mut peer).await;
    assert!(matches!(&p.message, Request::Prepare(_)));
    peer.respond(p.stream, prepared(b"new", &[])).await;
    let b = next(&mut peer).await;
    let Request::Batch(batch) = &b.message else {
        panic!("expected BATCH")
    };
    assert!(matches!(&batch.statements[1].query, BatchQuery::Prepared(id) if &id[..] == b"new"));
    assert!(matches!(&batch.statements[0].query, BatchQuery::Query(q) if q.ends_with("(1)")));
    peer.respond(b.stream, Response::Result(ResultResponse::Void))
        .await;
    task.await.unwrap().unwrap();
}

/// One page of int column `k` (rows `rows`), with a paging state when more pages follow.
fn page(rows: std::ops::Range<i32>, paging_state: Option<&'static [u8]>) -> Response {
    let rows: Vec<Vec<Option<Vec<u8>>>> =
        rows.map(|k| vec![Some(k.to_be_bytes().to_vec())]).collect();
    frames::rows(&[("k", ColumnType::Int)], &rows, paging_state)
}

#[tokio::test]
async fn row_stream_requests_the_next_page_before_the_current_one_is_consumed() {
    use futures_util::StreamExt;
    let (client, mut peer) = pair().await;
    let mut stream = client.query_rows(
        "SELECT k FROM t",
        (),
        &QueryOptions::new().with_page_size(3),
    );
    let first = tokio::spawn(async move {
        let row = stream.next().await.unwrap().unwrap();
        (row.get::<i32>(0).unwrap(), stream)
    });
    let q = next(&mut peer).await;
    let Request::Query(q1) = &q.message else {
        panic!("expected QUERY")
    };
    assert_eq!(q1.params.page_size, Some(3));
    assert_eq!(q1.params.paging_state, None);
    peer.respond(q.stream, page(0..3, Some(b"p2"))).await;
    let (k, mut stream) = first.await.unwrap();
    assert_eq!(k, 0);
    // Only one row consumed, yet page 2 is already requested.
    let q = next(&mut peer).await;
    let Request::Query(q2) = &q.message else {
        panic!("expected QUERY")
    };
    assert_eq!(q2.params.paging_state.as_deref(), Some(&b"p2"[..]));
    peer.respond(q.stream, page(3..5, None)).await;
    let mut rest = Vec::new();
    while let Some(row) = stream.next().await {
        rest.push(row.unwrap().get::<i32>(0).unwrap());
    }
    assert_eq!(rest, vec![1, 2, 3, 4]);
}
