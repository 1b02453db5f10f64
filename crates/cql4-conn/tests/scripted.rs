//! The request API against a scripted server (plain TCP on loopback): re-prepare on UNPREPARED
//! for EXECUTE and BATCH (once, not in a loop), the skip-metadata flag, and page prefetching.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use cql4_conn::{BatchRequest, Client, Config, QueryOptions};
use cql4_frame::request::{BatchQuery, BatchType, Request, RequestFrame};
use cql4_frame::response::{
    ErrorCode, ErrorDetails, ErrorResponse, Prepared, Response, ResponseFrame, ResultResponse,
    Supported,
};
use cql4_frame::rows::{ColumnSpec, PreparedMetadata, ResultMetadata, TableSpec};
use cql4_frame::types::ColumnType;
use cql4_frame::{decode_frame, Compression, DecodeLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Peer {
    stream: TcpStream,
    buf: BytesMut,
}

impl Peer {
    async fn request(&mut self) -> RequestFrame {
        loop {
            if let Some(raw) = decode_frame(&mut self.buf, &DecodeLimits::default()).expect("frame")
            {
                return RequestFrame::decode(raw, Compression::None, &DecodeLimits::default())
                    .expect("request");
            }
            let n =
                tokio::time::timeout(Duration::from_secs(5), self.stream.read_buf(&mut self.buf))
                    .await
                    .expect("a request within 5 s")
                    .expect("read");
            assert!(n > 0, "the client closed");
        }
    }

    async fn respond(&mut self, stream: i16, message: Response) {
        let mut out = Vec::new();
        ResponseFrame::new(stream, message)
            .encode(Compression::None, &mut out)
            .expect("encode");
        self.stream.write_all(&out).await.expect("write");
    }

    async fn handshake(&mut self) {
        let options = self.request().await;
        self.respond(
            options.stream,
            Response::Supported(Supported { options: vec![] }),
        )
        .await;
        let startup = self.request().await;
        self.respond(startup.stream, Response::Ready).await;
    }
}

async fn pair() -> (Client, Peer) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let mut config = Config::new("127.0.0.1", port);
    config.heartbeat_interval = None;
    let connect = tokio::spawn(async move { Client::connect(&config).await });
    let (stream, _) = listener.accept().await.expect("accept");
    let mut peer = Peer {
        stream,
        buf: BytesMut::new(),
    };
    peer.handshake().await;
    (connect.await.expect("join").expect("connect"), peer)
}

fn spec() -> TableSpec {
    TableSpec {
        keyspace: "ks".into(),
        table: "t".into(),
    }
}

fn prepared(id: &'static [u8], result_columns: &[&str]) -> Response {
    let columns = result_columns
        .iter()
        .map(|c| ColumnSpec::new(*c, ColumnType::Int))
        .collect();
    let metadata = PreparedMetadata {
        global_table_spec: Some(spec()),
        columns: vec![ColumnSpec::new("k", ColumnType::Int)],
        pk_indexes: vec![0],
        ..Default::default()
    };
    Response::Result(ResultResponse::Prepared(Prepared {
        id: Bytes::from_static(id),
        metadata,
        result_metadata: ResultMetadata::new(Some(spec()), columns),
    }))
}

fn unprepared(id: &'static [u8]) -> Response {
    Response::Error(ErrorResponse {
        code: ErrorCode::UNPREPARED,
        message: "Prepared query with ID … not found".into(),
        details: ErrorDetails::Unprepared {
            id: Bytes::from_static(id),
        },
    })
}

#[tokio::test]
async fn execute_reprepares_once_and_sends_the_new_id() {
    let (client, mut peer) = pair().await;
    let c = client.clone();
    let task = tokio::spawn(async move {
        let s = c.prepare("SELECT v FROM t WHERE k = ?").await?;
        c.execute(&s, (), &QueryOptions::new()).await?;
        Ok::<_, cql4_conn::Error>(s)
    });
    let p = peer.request().await;
    peer.respond(p.stream, prepared(b"old", &["v"])).await;
    let ex = peer.request().await;
    let Request::Execute(e) = &ex.message else {
        panic!("expected EXECUTE, got {:?}", ex.message)
    };
    assert_eq!(&e.id[..], b"old");
    assert!(e.params.skip_metadata, "result metadata is cached: skip it");
    peer.respond(ex.stream, unprepared(b"old")).await;
    let again = peer.request().await;
    assert!(
        matches!(&again.message, Request::Prepare(p) if p.query == "SELECT v FROM t WHERE k = ?")
    );
    peer.respond(again.stream, prepared(b"new", &["v"])).await;
    let ex = peer.request().await;
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
    let task = tokio::spawn(async move { c.execute(&s2, (), &QueryOptions::new()).await });
    let ex = peer.request().await;
    peer.respond(ex.stream, unprepared(b"new")).await;
    let p = peer.request().await;
    peer.respond(p.stream, prepared(b"new", &["v"])).await;
    let ex = peer.request().await;
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
        c.execute(&s, (), &QueryOptions::new()).await
    });
    let p = peer.request().await;
    peer.respond(p.stream, prepared(b"ins", &[])).await;
    let ex = peer.request().await;
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
        batch.add_prepared(&s, ());
        c.batch(&batch, &QueryOptions::new()).await
    });
    let p = peer.request().await;
    peer.respond(p.stream, prepared(b"old", &[])).await;
    let b = peer.request().await;
    let Request::Batch(batch) = &b.message else {
        panic!("expected BATCH")
    };
    assert_eq!(batch.statements.len(), 2);
    assert!(matches!(&batch.statements[1].query, BatchQuery::Prepared(id) if &id[..] == b"old"));
    peer.respond(b.stream, unprepared(b"old")).await;
    let p = peer.request().await;
    assert!(matches!(&p.message, Request::Prepare(_)));
    peer.respond(p.stream, prepared(b"new", &[])).await;
    let b = peer.request().await;
    let Request::Batch(batch) = &b.message else {
        panic!("expected BATCH")
    };
    assert!(matches!(&batch.statements[1].query, BatchQuery::Prepared(id) if &id[..] == b"new"));
    assert!(matches!(&batch.statements[0].query, BatchQuery::Query(q) if q.ends_with("(1)")));
    peer.respond(b.stream, Response::Result(ResultResponse::Void))
        .await;
    task.await.unwrap().unwrap();
}

fn page(rows: std::ops::Range<i32>, paging_state: Option<&'static [u8]>) -> Response {
    let mut body = Vec::new();
    let mut metadata =
        ResultMetadata::new(Some(spec()), vec![ColumnSpec::new("k", ColumnType::Int)]);
    metadata.paging_state = paging_state.map(Bytes::from_static);
    metadata.encode(&mut body);
    body.extend_from_slice(&i32::try_from(rows.len()).expect("row count").to_be_bytes());
    for k in rows {
        body.extend_from_slice(&4i32.to_be_bytes());
        body.extend_from_slice(&k.to_be_bytes());
    }
    // Decode through the codec so the test builds pages exactly as the server sends them.
    let mut full = 2i32.to_be_bytes().to_vec();
    full.extend_from_slice(&body);
    let bytes = Bytes::from(full);
    let mut r = cql4_frame::Reader::new(&bytes);
    Response::Result(
        ResultResponse::decode(&bytes, &mut r, &DecodeLimits::default(), None).expect("page"),
    )
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
    let q = peer.request().await;
    let Request::Query(q1) = &q.message else {
        panic!("expected QUERY")
    };
    assert_eq!(q1.params.page_size, Some(3));
    assert_eq!(q1.params.paging_state, None);
    peer.respond(q.stream, page(0..3, Some(b"p2"))).await;
    let (k, mut stream) = first.await.unwrap();
    assert_eq!(k, 0);
    // Only one row consumed, yet page 2 is already requested.
    let q = peer.request().await;
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
