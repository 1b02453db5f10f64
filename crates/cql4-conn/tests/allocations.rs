//! Heap allocations per request on the whole client path — serialize, hand to the I/O task,
//! route by stream id, decode the rows — counted with dhat against the kit's fake server,
//! scripted to allocate nothing per request. PEERS.md: scylla made 14–15 allocations per insert
//! and 27–28 per select (2022).

use std::time::Duration;

use cql4_conn::{Client, QueryOptions};
use cql4_frame::types::ColumnType;
use cql4_frame::Opcode;
use cql4_testkit::frames::{self, RESPONSE_V4};
use cql4_testkit::server::FakeServer;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// The body of `message` as the codec encodes it (the frame less its header).
fn body_of(message: cql4_frame::response::Response) -> Vec<u8> {
    frames::response(0, message)[frames::HEADER_LEN..].to_vec()
}

/// A Rows page of one int `42` sent with No_metadata (skip-metadata EXECUTE): no builder
/// makes one, the codec never sends it on its own.
fn rows_without_metadata() -> Vec<u8> {
    let mut b = 2i32.to_be_bytes().to_vec(); // Rows
    b.extend_from_slice(&4i32.to_be_bytes()); // No_metadata
    b.extend_from_slice(&1i32.to_be_bytes()); // columns_count
    b.extend_from_slice(&1i32.to_be_bytes()); // one row
    frames::put_cells(&mut b, [Some(&42i32.to_be_bytes()[..])]);
    b
}

/// Answers OPTIONS, STARTUP, QUERY, PREPARE and EXECUTE from bodies built once, reading raw
/// frames (nothing decoded, nothing recorded) into one reused buffer: nothing allocated per
/// request on the server's side.
async fn serve() -> FakeServer {
    FakeServer::once(|mut peer| async move {
        let int = |name| [(name, ColumnType::Int)];
        let with_meta = body_of(frames::rows(
            &int("v"),
            &[vec![Some(42i32.to_be_bytes().to_vec())]],
            None,
        ));
        let prepared = body_of(frames::prepared(b"ID", &int("k"), &int("v")));
        let without_meta = rows_without_metadata();
        let mut out = Vec::with_capacity(1 << 20);
        while let Some(frame) = peer.recv_raw().await {
            let (opcode, body): (Opcode, &[u8]) = match frame.header.opcode {
                Opcode::OPTIONS => (Opcode::SUPPORTED, &[0, 0]),
                Opcode::STARTUP => (Opcode::READY, &[]),
                Opcode::QUERY => (Opcode::RESULT, &with_meta),
                Opcode::PREPARE => (Opcode::RESULT, &prepared),
                Opcode::EXECUTE => (Opcode::RESULT, &without_meta),
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

const N: u64 = 2000;

#[test]
fn a_handful_of_allocations_per_request() {
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
        let statement = client
            .prepare("SELECT v FROM ks.t WHERE k = ?")
            .await
            .unwrap();
        let key = [Some(cql4_frame::CqlValue::Int(7))];

        // Warm up buffers, channels and the timer lists.
        for _ in 0..200 {
            client
                .query("SELECT v FROM ks.t", (), &options)
                .await
                .unwrap();
            client
                .execute(&statement, key.clone(), &options)
                .await
                .unwrap();
        }

        let before = dhat::HeapStats::get().total_blocks;
        for _ in 0..N {
            let r = client
                .query("SELECT v FROM ks.t", (), &options)
                .await
                .unwrap();
            assert_eq!(r.rows().unwrap().row(0).unwrap().get::<i32>(0).unwrap(), 42);
        }
        let query = (dhat::HeapStats::get().total_blocks - before) as f64 / N as f64;

        let before = dhat::HeapStats::get().total_blocks;
        for _ in 0..N {
            let r = client
                .execute(&statement, key.clone(), &options)
                .await
                .unwrap();
            assert_eq!(r.rows().unwrap().row(0).unwrap().get::<i32>(0).unwrap(), 42);
        }
        let execute = (dhat::HeapStats::get().total_blocks - before) as f64 / N as f64;

        // The typed read of the same answer: the column check and the decode borrow.
        let before = dhat::HeapStats::get().total_blocks;
        for _ in 0..N {
            let r = client
                .execute(&statement, key.clone(), &options)
                .await
                .unwrap();
            assert_eq!(r.first_row::<(i32,)>().unwrap(), (42,));
        }
        let execute_typed = (dhat::HeapStats::get().total_blocks - before) as f64 / N as f64;

        // The values written by their Rust types: the same allocations (none of their own).
        let before = dhat::HeapStats::get().total_blocks;
        for _ in 0..N {
            let r = client.execute(&statement, (7i32,), &options).await.unwrap();
            assert_eq!(r.rows().unwrap().len(), 1);
        }
        let execute_tuple = (dhat::HeapStats::get().total_blocks - before) as f64 / N as f64;
        eprintln!(
            "EXECUTE read with first_row::<(i32,)> {execute_typed:.1}; bound from a tuple \
             {execute_tuple:.1}"
        );
        assert!(
            execute_typed <= execute + 0.5,
            "typed read took {execute_typed:.1} allocations, untyped {execute:.1}"
        );
        assert!(
            execute_tuple <= execute + 0.5,
            "a tuple's EXECUTE took {execute_tuple:.1} allocations, CqlValues' {execute:.1}"
        );

        eprintln!(
            "heap allocations per request (client + I/O task + decode): QUERY with metadata \
             {query:.1}, EXECUTE skip-metadata {execute:.1}"
        );
        // EXECUTE is the hot path: the cached metadata is shared, nothing is re-decoded.
        assert!(
            execute <= 1.5,
            "EXECUTE took {execute:.1} allocations per request"
        );
        assert!(
            query <= 6.5,
            "QUERY took {query:.1} allocations per request"
        );
    });
}
