//! Memory against a stalled server, measured with dhat's heap statistics (this binary's global
//! allocator): an idle connection's cost, and the peak with 100,000 concurrent callers of a
//! server that completed the handshake and then never reads nor answers.
//!
//! With the defaults a connection then holds one 1 MiB write buffer, the kernel's socket
//! buffers' worth of written requests and `mux.max_queued` (65,536) unwritten frames; the
//! other callers wait for a place (`OnQueueFull::Wait`) holding only their own future and
//! encoded frame. The bound asserted is what each caller legitimately holds plus a fixed
//! allowance: a buffer that kept a second copy of every frame, or a per-caller leak of a few
//! hundred bytes, breaks it; and everything must be given back once the callers are done.

use std::time::{Duration, Instant};

use cql4_conn::{Client, QueryOptions};
use cql4_testkit::server::FakeServer;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const CALLERS: usize = 100_000;
/// Bytes of query text per request: the frame each caller holds.
const TEXT: usize = 2048;
const MIB: usize = 1024 * 1024;

fn heap() -> (usize, usize) {
    let s = dhat::HeapStats::get();
    (s.curr_bytes, s.max_bytes)
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
        // Handshake, then never read nor answer (the script holds the socket open).
        let server = FakeServer::once(|mut peer| async move {
            peer.handshake().await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            drop(peer);
        })
        .await;
        let mut config = server.config();
        config.heartbeat_interval = None;

        let (before_connect, _) = heap();
        let client = Client::connect(&config).await.expect("connect");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (idle, _) = heap();
        let idle_cost = idle - before_connect;
        println!("idle connection (client and fake-server sides): {idle_cost} bytes");
        assert!(idle_cost < 512 * 1024, "idle connection holds {idle_cost} bytes");

        let text = "x".repeat(TEXT);
        let started = Instant::now();
        let (base, _) = heap();
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
        // Every caller has its place or waits for one.
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let s = client.streams();
            if s.queued == 65_536 {
                break;
            }
            assert!(Instant::now() < deadline, "queue never filled: {s:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Let every spawned caller reach its wait.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let stalled = client.streams();
        let (during, peak) = heap();
        let peak_used = peak - base;
        println!(
            "{CALLERS} callers, {TEXT}-byte queries, after {:?}: {stalled:?}; heap now {} MiB, peak {} MiB above the idle connection ({} bytes per caller)",
            started.elapsed(),
            (during - base) / MIB,
            peak_used / MIB,
            peak_used / CALLERS,
        );
        assert!(stalled.in_flight > 0, "some requests were written: {stalled:?}");
        // What each caller holds in any case, about TEXT bytes each: this test's query
        // string, the QUERY message's copy of it and the encoded frame. The rest — task,
        // future, queue entry, reply channel — gets 1 KiB per caller (about 250 bytes
        // measured), plus 32 MiB for the write buffer, socket buffers' worth of frames and
        // the runtime. One more copy of every frame anywhere breaks the bound.
        let bound = CALLERS * (3 * TEXT + 1024) + 32 * MIB;
        assert!(
            peak_used < bound,
            "peak {peak_used} bytes above the idle connection, bound {bound}"
        );

        // The server goes away: every caller ends with the connection's error, queued and
        // waiting ones included, and nothing stays behind.
        drop(server);
        for t in tasks {
            assert!(t.await.expect("join").is_err());
        }
        drop(client);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (after, _) = heap();
        println!("after: {} KiB above the idle connection", after.saturating_sub(base) / 1024);
        assert!(
            after < base + 4 * MIB,
            "{} bytes still held after every caller ended",
            after - base
        );
    });
}
