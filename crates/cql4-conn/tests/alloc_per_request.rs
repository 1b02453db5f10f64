//! The allocation budget of issue 15, pinned: a steady-state prepared select costs at most 2
//! heap allocations per request and an insert at most 3, on the whole client path (values
//! bound through the typed API and written into the frame, the hand-off to the I/O task, the
//! write, routing the answer by stream id, decoding and reading the row), counted with dhat
//! over many requests against the kit's fake server, which allocates nothing per request.
//!
//! The statements are the benchmark's (`bench/src/schema.rs`): a one-row select of
//! `(int, text, blob)` by id, and an insert of the same three values.

use std::time::Duration;

use cql4_conn::{Client, QueryOptions, SerializeRow};
use cql4_frame::types::ColumnType;
use cql4_frame::Opcode;
use cql4_testkit::frames::{self, RESPONSE_V4};
use cql4_testkit::server::FakeServer;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Goals of issue 15 ("Allocations and per-request cost").
const SELECT_GOAL: f64 = 2.0;
const INSERT_GOAL: f64 = 3.0;

const N: u64 = 4000;

const SELECT: &str = "SELECT id, name, payload FROM bench.t WHERE id = ?";
const INSERT: &str = "INSERT INTO bench.t (id, name, payload) VALUES (?, ?, ?)";
const NAME: &str = "name-000042";

fn payload() -> Vec<u8> {
    (0..100u8).collect()
}

fn columns() -> [(&'static str, ColumnType); 3] {
    [
        ("id", ColumnType::Int),
        ("name", ColumnType::Text),
        ("payload", ColumnType::Blob),
    ]
}

#[derive(SerializeRow)]
struct Key {
    id: i32,
}

#[derive(SerializeRow)]
struct Insert<'a> {
    id: i32,
    name: &'a str,
    payload: &'a [u8],
}

/// The body of `message` as the codec encodes it (the frame less its header).
fn body_of(message: cql4_frame::response::Response) -> Vec<u8> {
    frames::response(0, message)[frames::HEADER_LEN..].to_vec()
}

/// The select's one-row page, sent with No_metadata (the EXECUTE asks to skip it).
fn one_row() -> Vec<u8> {
    let mut b = 2i32.to_be_bytes().to_vec(); // Rows
    b.extend_from_slice(&4i32.to_be_bytes()); // No_metadata
    b.extend_from_slice(&3i32.to_be_bytes()); // columns_count
    b.extend_from_slice(&1i32.to_be_bytes()); // one row
    let payload = payload();
    frames::put_cells(
        &mut b,
        [
            Some(&42i32.to_be_bytes()[..]),
            Some(NAME.as_bytes()),
            Some(&payload[..]),
        ],
    );
    b
}

/// Answers the handshake, both PREPAREs and every EXECUTE from bodies built once, into one
/// reused buffer: nothing allocated per request on the server's side.
async fn serve() -> FakeServer {
    FakeServer::once(|mut peer| async move {
        let id = [("id", ColumnType::Int)];
        let select = body_of(frames::prepared(b"SEL", &id, &columns()));
        let insert = body_of(frames::prepared(b"INS", &columns(), &[]));
        let row = one_row();
        let void = body_of(frames::void());
        let mut out = Vec::with_capacity(1 << 16);
        while let Some(frame) = peer.recv_raw().await {
            let (opcode, body): (Opcode, &[u8]) = match frame.header.opcode {
                Opcode::OPTIONS => (Opcode::SUPPORTED, &[0, 0]),
                Opcode::STARTUP => (Opcode::READY, &[]),
                Opcode::PREPARE if frame.body.windows(6).any(|w| w == b"SELECT") => {
                    (Opcode::RESULT, &select)
                }
                Opcode::PREPARE => (Opcode::RESULT, &insert),
                // The prepared id follows its [short] length.
                Opcode::EXECUTE if frame.body.get(2..5) == Some(&b"SEL"[..]) => {
                    (Opcode::RESULT, &row)
                }
                Opcode::EXECUTE => (Opcode::RESULT, &void),
                op => panic!("unexpected opcode {op:?}"),
            };
            frames::write_raw(
                &mut out,
                RESPONSE_V4,
                0,
                frame.header.stream,
                opcode.0,
                frames::length_of(body),
                body,
            );
            peer.send(&out).await;
            out.clear();
        }
    })
    .await
}

/// Heap allocations per call of `request`, over [`N`] calls after as many to warm up.
async fn per_request<F, Fut>(mut request: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Warm up the pools, the channel and the timer lists.
    for _ in 0..N {
        request().await;
    }
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..N {
        request().await;
    }
    (dhat::HeapStats::get().total_blocks - before) as f64 / N as f64
}

#[test]
fn a_select_and_an_insert_stay_within_their_allocation_budget() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = serve().await;
        let mut config = server.config();
        config.request_timeout = Duration::from_secs(10);
        let client = Client::connect(&config).await.unwrap();
        let options = QueryOptions::new();
        let select = client.prepare(SELECT).await.unwrap();
        let insert = client.prepare(INSERT).await.unwrap();
        let payload = payload();

        let mut figures = Vec::new();
        let select_tuple_typed = per_request(|| async {
            let r = client.execute(&select, (42i32,), &options).await.unwrap();
            let (id, name, p) = r.first_row::<(i32, &str, &[u8])>().unwrap();
            assert_eq!((id, name, p), (42, NAME, &payload[..]));
        })
        .await;
        figures.push(("select, tuple, typed read", select_tuple_typed, SELECT_GOAL));
        let select_struct_untyped = per_request(|| async {
            let r = client
                .execute(&select, Key { id: 42 }, &options)
                .await
                .unwrap();
            // The benchmark's read: every cell of every row, untyped.
            for row in r.rows().unwrap() {
                assert_eq!(row.get::<i32>(0).unwrap(), 42);
                assert_eq!(row.get::<&str>(1).unwrap(), NAME);
                assert_eq!(row.get::<&[u8]>(2).unwrap(), &payload[..]);
            }
        })
        .await;
        figures.push((
            "select, derived struct, untyped read",
            select_struct_untyped,
            SELECT_GOAL,
        ));
        let insert_tuple = per_request(|| async {
            let r = client
                .execute(&insert, (42i32, NAME, &payload[..]), &options)
                .await
                .unwrap();
            assert!(r.rows().is_none());
        })
        .await;
        figures.push(("insert, tuple", insert_tuple, INSERT_GOAL));
        let insert_struct = per_request(|| async {
            let row = Insert {
                id: 42,
                name: NAME,
                payload: &payload,
            };
            let r = client.execute(&insert, row, &options).await.unwrap();
            assert!(r.rows().is_none());
        })
        .await;
        figures.push(("insert, derived struct", insert_struct, INSERT_GOAL));

        for (what, got, _) in &figures {
            eprintln!("heap allocations per request: {what}: {got:.2}");
        }
        for (what, got, goal) in figures {
            assert!(
                got <= goal,
                "{what}: {got:.2} allocations per request, the budget is {goal}"
            );
        }
    });
}
