//! Memory against a stalled server, measured with dhat's heap statistics (this binary's global
//! allocator): an idle connection's cost, and 100,000 concurrent callers of a server that
//! completed the handshake and then never reads (phase 1: the peak is measured) or reads
//! everything and never answers (phase 2: the heap at the stall is measured, dhat keeping one
//! peak per process).
//!
//! With the defaults a connection then holds one 1 MiB write buffer, the written requests
//! (socket buffers' worth, or 32,768 in flight) and `mux.max_queued` (65,536) unwritten
//! frames; the other callers wait for a place (`OnQueueFull::Wait`) holding only their own
//! future and request. The bound asserted is what each caller legitimately holds plus a fixed
//! allowance: a buffer that kept another copy of every frame, or a per-caller leak of a few
//! hundred bytes, breaks it; and everything must be given back once the callers are done.

use std::time::{Duration, Instant};

use cql4_conn::{Client, QueryOptions, StreamStats};
use cql4_testkit::server::FakeServer;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const CALLERS: usize = 100_000;
/// Bytes of query text per request: the frame each caller holds.
const TEXT: usize = 2048;
const MIB: usize = 1024 * 1024;
/// What each caller holds in any case, about TEXT bytes each: this test's query string, the
/// QUERY message's copy of it and the encoded frame. The rest — task, future, queue entry,
/// reply channel, stream slot — gets 1.5 KiB per caller (500 to 700 bytes measured), plus
/// 32 MiB for the write buffer, socket buffers' worth of frames and the runtime. One more copy
/// of every frame anywhere (2 KiB per caller) breaks the bound.
const BOUND: usize = CALLERS * (3 * TEXT + 1536) + 32 * MIB;

fn heap() -> (usize, usize) {
    let s = dhat::HeapStats::get();
    (s.curr_bytes, s.max_bytes)
}

/// A server that completes the handshake, then reads everything (`read`) or nothing, and never
/// answers.
async fn stalled_server(read: bool) -> FakeServer {
    FakeServer::builder()
        .timeout(Duration::from_secs(600))
        .once(move |mut peer| async move {
            peer.handshake().await;
            if read {
                while peer.recv_raw().await.is_some() {}
            } else {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        })
        .await
}

/// Runs [`CALLERS`] queries against `server` until the queue is full and every caller waits;
/// returns the counts then and the heap then (current, peak) relative to `base`. Then the
/// server goes away, and every caller must end with an error.
async fn stall(server: FakeServer, client: &Client, base: usize) -> (StreamStats, usize, usize) {
    let text = "x".repeat(TEXT);
    let started = Instant::now();
    // Longer than the test: the callers end when the server goes away.
    let timeout = Duration::from_secs(600);
    let tasks: Vec<_> = (0..CALLERS)
        .map(|i| {
            let client = client.clone();
            let cql = format!("{i} {text}");
            tokio::spawn(async move {
                let options = QueryOptions::new().with_timeout(timeout);
                client.query(&cql, (), &options).await.map(|_| ())
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(300);
    while client.streams().queued < 65_536 {
        assert!(
            Instant::now() < deadline,
            "queue never filled: {:?}",
            client.streams()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let every spawned caller reach its wait.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stalled = client.streams();
    let (now, peak) = heap();
    println!(
        "{CALLERS} callers, {TEXT}-byte queries, after {:?}: {stalled:?}; heap {} MiB now, peak {} MiB, above the idle connection",
        started.elapsed(),
        (now - base) / MIB,
        (peak - base) / MIB,
    );
    drop(server);
    for t in tasks {
        assert!(t.await.expect("join").is_err());
    }
    (stalled, now - base, peak - base)
}

#[test]
fn bounded_memory_with_100k_callers_of_a_stalled_server() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Phase 1: the server never reads. The idle connection first.
        let server = stalled_server(false).await;
        let mut config = server.config();
        config.heartbeat_interval = None;
        let (before_connect, _) = heap();
        let client = Client::connect(&config).await.expect("connect");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (base, _) = heap();
        let idle_cost = base - before_connect;
        println!("idle connection (client and fake-server sides): {idle_cost} bytes");
        // 77 KiB measured, most of it the fake server's side; the client's buffers start small
        // and grow with traffic (a 64 KiB read and write buffer each made it 204 KiB).
        assert!(
            idle_cost < 128 * 1024,
            "idle connection holds {idle_cost} bytes"
        );

        let (stalled, _, peak) = stall(server, &client, base).await;
        assert!(
            stalled.in_flight > 0,
            "some requests were written: {stalled:?}"
        );
        println!(
            "never reading: peak {peak} bytes, {} per caller",
            peak / CALLERS
        );
        assert!(
            peak < BOUND,
            "peak {peak} bytes above the idle connection, bound {BOUND}"
        );
        drop(client);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (after, _) = heap();
        assert!(
            after < before_connect + MIB,
            "{} bytes still held after every caller ended",
            after.saturating_sub(before_connect)
        );

        // Phase 2: the server reads everything and never answers: every stream id in use.
        let server = stalled_server(true).await;
        let mut config = server.config();
        config.heartbeat_interval = None;
        let client = Client::connect(&config).await.expect("connect");
        let (base, _) = heap();
        let (stalled, now, _) = stall(server, &client, base).await;
        assert_eq!(stalled.in_flight, 32_768, "{stalled:?}");
        println!(
            "reading, never answering: {now} bytes at the stall, {} per caller",
            now / CALLERS
        );
        assert!(
            now < BOUND,
            "{now} bytes above the idle connection, bound {BOUND}"
        );
        drop(client);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (after, _) = heap();
        assert!(
            after < before_connect + MIB,
            "{} bytes still held after every caller ended",
            after.saturating_sub(before_connect)
        );
    });
}
