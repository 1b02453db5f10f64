//! `RowStream::typed` against a scripted server: rows of every page read into a derived
//! struct, each page checked by its own metadata once, and errors as `cql4_conn::Error`s.

use std::sync::atomic::{AtomicUsize, Ordering};

use cql4_conn::{Client, Error, FromRow, QueryOptions, TypedRowStream};
use cql4_frame::request::{Request, RequestFrame};
use cql4_frame::response::Response;
use cql4_frame::rows::{ColumnSpec, Row};
use cql4_frame::types::ColumnType;
use cql4_frame::{DecodeErrorKind, DecodeResult};
use cql4_testkit::frames;
use cql4_testkit::server::{FakeServer, Peer};
use futures_util::StreamExt;

async fn pair() -> (Client, Peer) {
    let server = FakeServer::start().await;
    let config = server.config();
    let connect = tokio::spawn(async move { Client::connect(&config).await });
    let mut peer = server.accept().await;
    peer.handshake().await;
    (connect.await.expect("join").expect("connect"), peer)
}

/// The next QUERY on `peer`, with its paging state.
async fn next_query(peer: &mut Peer) -> (RequestFrame, Option<Vec<u8>>) {
    let frame = peer.request().await.expect("the client closed");
    let Request::Query(q) = &frame.message else {
        panic!("expected QUERY, got {:?}", frame.message)
    };
    let state = q.params.paging_state.as_ref().map(|s| s.to_vec());
    (frame, state)
}

#[derive(Debug, PartialEq, FromRow)]
struct User {
    id: i32,
    name: Option<String>,
}

fn int(v: i32) -> Option<Vec<u8>> {
    Some(v.to_be_bytes().to_vec())
}

fn text(v: &str) -> Option<Vec<u8>> {
    Some(v.as_bytes().to_vec())
}

/// Answers the stream's QUERYs with `pages` in order, checking each asks for the page after
/// the previous one; returns how many requests came.
async fn serve(peer: &mut Peer, pages: Vec<Response>) -> usize {
    let n = pages.len();
    for (i, page) in pages.into_iter().enumerate() {
        let (q, state) = next_query(peer).await;
        let expected = (i > 0).then(|| format!("p{}", i + 1).into_bytes());
        assert_eq!(state, expected, "page {}", i + 1);
        peer.respond(q.stream, page).await;
    }
    n
}

fn more(i: usize) -> Option<Vec<u8>> {
    Some(format!("p{i}").into_bytes())
}

#[tokio::test]
async fn pages_with_different_metadata_each_read_by_their_own_columns() {
    let (client, mut peer) = pair().await;
    let stream: TypedRowStream<User> = client
        .query_rows(
            "SELECT * FROM t",
            (),
            &QueryOptions::new().with_page_size(2),
        )
        .typed();
    let task = tokio::spawn(stream.collect::<Vec<_>>());
    let p2 = more(2);
    let p3 = more(3);
    serve(
        &mut peer,
        vec![
            frames::rows(
                &[("id", ColumnType::Int), ("name", ColumnType::Text)],
                &[vec![int(1), text("ada")], vec![int(2), None]],
                p2.as_deref(),
            ),
            // A column added and the order changed between pages (ALTER TABLE while paging).
            frames::rows(
                &[
                    ("name", ColumnType::Text),
                    ("age", ColumnType::Int),
                    ("id", ColumnType::Int),
                ],
                &[vec![text("bob"), int(40), int(3)]],
                p3.as_deref(),
            ),
            frames::rows(
                &[("name", ColumnType::Ascii), ("id", ColumnType::Int)],
                &[vec![text("cy"), int(4)]],
                None,
            ),
        ],
    )
    .await;
    let users: Vec<User> = task
        .await
        .expect("join")
        .into_iter()
        .collect::<cql4_conn::Result<_>>()
        .expect("every row reads");
    let user = |id, name: Option<&str>| User {
        id,
        name: name.map(str::to_owned),
    };
    assert_eq!(
        users,
        [
            user(1, Some("ada")),
            user(2, None),
            user(3, Some("bob")),
            user(4, Some("cy"))
        ]
    );
}

/// A `FromRow` type counting its column checks, to see they happen once per page.
#[derive(Debug, PartialEq)]
struct Counted(i32);

static CHECKS: AtomicUsize = AtomicUsize::new(0);

impl<'r> FromRow<'r> for Counted {
    type Columns = ();

    fn check_columns(columns: &[ColumnSpec]) -> DecodeResult<()> {
        CHECKS.fetch_add(1, Ordering::SeqCst);
        <(i32,)>::check_columns(columns)
    }

    fn from_row((): &(), row: &Row<'r>) -> DecodeResult<Self> {
        <(i32,)>::from_row(&(), row).map(|(v,)| Self(v))
    }
}

#[tokio::test]
async fn columns_are_checked_once_per_page_and_the_stream_continues_after_a_row_error() {
    let (client, mut peer) = pair().await;
    let mut rows = client.query_rows("SELECT k FROM t", (), &QueryOptions::new());
    let task = tokio::spawn(async move {
        // One row read untyped first: the typed stream goes on from the next.
        let first = rows.next_row().await.expect("a row")?.get::<i32>(0)?;
        let mut typed = rows.typed::<Counted>();
        let mut out = vec![Ok(Counted(first))];
        while let Some(row) = typed.next_row().await {
            out.push(row);
        }
        Ok::<_, Error>(out)
    });
    let k = [("k", ColumnType::Int)];
    let p2 = more(2);
    serve(
        &mut peer,
        vec![
            frames::rows(
                &k,
                &[vec![int(1)], vec![int(2)], vec![int(3)]],
                p2.as_deref(),
            ),
            frames::rows(&k, &[vec![int(4)], vec![None], vec![int(6)]], None),
        ],
    )
    .await;
    let out = task.await.expect("join").expect("the stream runs");
    // Page 1 was checked when the typed stream took it over, page 2 when it arrived.
    assert_eq!(CHECKS.load(Ordering::SeqCst), 2);
    let ok: Vec<_> = out.iter().map(|r| r.as_ref().ok().map(|c| c.0)).collect();
    assert_eq!(ok, [Some(1), Some(2), Some(3), Some(4), None, Some(6)]);
    let Err(Error::Decode(e)) = &out[4] else {
        panic!("the null is a decode error: {:?}", out[4])
    };
    assert_eq!(
        e.kind(),
        &DecodeErrorKind::InColumn {
            column: "k".into(),
            cause: Box::new(DecodeErrorKind::UnexpectedNull)
        }
    );
}

/// Reads every user, `?` turning a row-mapping error into the connection's error.
async fn all_users(mut stream: TypedRowStream<User>) -> cql4_conn::Result<Vec<User>> {
    let mut out = Vec::new();
    while let Some(user) = stream.next_row().await {
        out.push(user?);
    }
    Ok(out)
}

#[tokio::test]
async fn a_page_the_type_cannot_read_ends_the_stream_naming_column_and_types() {
    let (client, mut peer) = pair().await;
    let mut stream = client
        .query_rows("SELECT * FROM t", (), &QueryOptions::new())
        .typed::<User>();
    let task = tokio::spawn(async move {
        let mut out = Vec::new();
        while let Some(user) = stream.next_row().await {
            out.push(user);
        }
        out
    });
    let p2 = more(2);
    serve(
        &mut peer,
        vec![
            frames::rows(
                &[("id", ColumnType::Int), ("name", ColumnType::Text)],
                &[vec![int(1), text("ada")]],
                p2.as_deref(),
            ),
            // The column's type changed between pages.
            frames::rows(
                &[("id", ColumnType::BigInt), ("name", ColumnType::Text)],
                &[vec![Some(vec![0; 8]), text("bob")]],
                more(3).as_deref(),
            ),
        ],
    )
    .await;
    // The first page's row, then the second page's error, then nothing (page 3's prefetch is
    // cancelled, its answer never read).
    let out = task.await.expect("join");
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(
        out[0].as_ref().expect("page 1 reads"),
        &User {
            id: 1,
            name: Some("ada".into())
        }
    );
    let err = out[1].as_ref().unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert!(
        err.to_string()
            .ends_with("column id: cannot read CQL type bigint as i32"),
        "{err}"
    );

    let (client, mut peer) = pair().await;
    let stream = client
        .query_rows("SELECT * FROM t", (), &QueryOptions::new())
        .typed::<User>();
    let task = tokio::spawn(all_users(stream));
    serve(
        &mut peer,
        vec![frames::rows(
            &[("name", ColumnType::Text)],
            &[vec![text("ada")]],
            None,
        )],
    )
    .await;
    let err = task.await.expect("join").unwrap_err();
    assert!(err.to_string().ends_with("no column id"), "{err}");
}
