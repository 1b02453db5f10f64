//! Cancellation and back-pressure against the kit's fake server, which records every request
//! it reads: a request dropped before its bytes are written never reaches the server; a
//! written one keeps its stream id until its answer; a full queue waits or fails as
//! configured; the stream table's counts come back to zero.

use std::time::Duration;

use cql4_conn::{Client, Config, Error, OnQueueFull, QueryOptions, StreamStats};
use cql4_frame::request::Request;
use cql4_testkit::frames;
use cql4_testkit::server::{FakeServer, Peer};
use tokio::task::JoinHandle;

const LONG: Duration = Duration::from_secs(20);

async fn pair(tune: impl FnOnce(&mut Config)) -> (Client, Peer, FakeServer) {
    let server = FakeServer::start().await;
    let mut config = server.config();
    config.heartbeat_interval = None;
    tune(&mut config);
    let connect = tokio::spawn(async move { Client::connect(&config).await });
    let mut peer = server.accept().await;
    peer.handshake().await;
    (connect.await.expect("join").expect("connect"), peer, server)
}

fn query(client: &Client, text: String, timeout: Duration) -> JoinHandle<Result<(), Error>> {
    let client = client.clone();
    tokio::spawn(async move {
        let options = QueryOptions::new().with_timeout(timeout);
        client.query(&text, (), &options).await.map(|_| ())
    })
}

/// Polls `client.streams()` until `ok` holds (the I/O task publishes after each turn).
async fn wait_streams(client: &Client, what: &str, ok: impl Fn(StreamStats) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s = client.streams();
        if ok(s) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {s:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn text_of(peer_request: &cql4_frame::request::RequestFrame) -> String {
    match &peer_request.message {
        Request::Query(q) => q.query.clone(),
        other => panic!("expected QUERY, got {other:?}"),
    }
}

/// The QUERY texts the server recorded, in order.
fn recorded(server: &FakeServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter(|r| matches!(r.frame.message, Request::Query(_)))
        .map(|r| text_of(&r.frame))
        .collect()
}

async fn abort_all(tasks: Vec<JoinHandle<Result<(), Error>>>) {
    for t in &tasks {
        t.abort();
    }
    for t in tasks {
        assert!(t.await.expect_err("aborted").is_cancelled());
    }
}

#[tokio::test]
async fn dropped_while_the_stream_ids_are_exhausted_is_never_sent() {
    let (client, mut peer, server) = pair(|c| c.mux.max_streams = 2).await;
    let held: Vec<_> = (0..2)
        .map(|i| query(&client, format!("held {i}"), LONG))
        .collect();
    let held_streams = peer.requests(2).await;
    let dropped: Vec<_> = (0..5)
        .map(|i| query(&client, format!("dropped {i}"), LONG))
        .collect();
    wait_streams(&client, "5 queued", |s| s.queued == 5 && s.in_flight == 2).await;
    abort_all(dropped).await;
    // Five abandoned requests are more than a quarter of the queue: purged at once.
    wait_streams(&client, "queue purged", |s| s.queued == 0).await;
    let after = query(&client, "after".into(), LONG);
    wait_streams(&client, "after queued", |s| s.queued == 1).await;
    for s in held_streams {
        peer.respond(s, frames::void()).await;
    }
    let next = peer.request().await.expect("the next request");
    assert_eq!(text_of(&next), "after", "the dropped requests were skipped");
    peer.respond(next.stream, frames::void()).await;
    for t in held {
        t.await.unwrap().unwrap();
    }
    after.await.unwrap().unwrap();
    wait_streams(&client, "all answered", |s| s == StreamStats::default()).await;
    assert_eq!(recorded(&server), ["held 0", "held 1", "after"]);
}

#[tokio::test]
async fn dropped_while_the_writer_is_stalled_is_never_sent() {
    // The server reads nothing until told: socket buffers and the connection's 1 MiB write
    // buffer fill with big requests, and later ones wait in the queue.
    let (client, mut peer, server) = pair(|_| {}).await;
    let big = "x".repeat(512 * 1024);
    let mut bigs = Vec::new();
    for i in 0..200 {
        bigs.push(query(&client, format!("big {i} {big}"), LONG));
        let n = bigs.len();
        wait_streams(&client, "big accepted", |s| s.in_flight + s.queued == n).await;
        if client.streams().queued > 0 {
            break;
        }
    }
    let stalled = client.streams();
    assert!(stalled.queued > 0, "the writer never stalled: {stalled:?}");
    let mut dropped = Vec::new();
    for i in 0..8 {
        dropped.push(query(&client, format!("dropped {i}"), LONG));
        wait_streams(&client, "dropped queued", |s| {
            s.queued == stalled.queued + i + 1
        })
        .await;
    }
    abort_all(dropped).await;
    wait_streams(&client, "purged", |s| s.queued == stalled.queued).await;
    let after = query(&client, "after".into(), LONG);
    // Now the server reads (and answers) everything.
    loop {
        let r = peer.request().await.expect("a request");
        peer.respond(r.stream, frames::void()).await;
        if text_of(&r) == "after" {
            break;
        }
    }
    for t in bigs {
        t.await.unwrap().unwrap();
    }
    after.await.unwrap().unwrap();
    wait_streams(&client, "all answered", |s| s == StreamStats::default()).await;
    let texts = recorded(&server);
    assert!(texts.iter().all(|t| !t.starts_with("dropped")));
    assert_eq!(texts.len(), stalled.in_flight + stalled.queued + 1);
}

#[tokio::test]
async fn a_written_request_keeps_its_id_until_the_answer_even_when_abandoned() {
    let (client, mut peer, server) = pair(|c| c.mux.max_streams = 1).await;
    // Abandoned after it was written: the id stays in flight until the answer arrives.
    let abandoned = query(&client, "abandoned".into(), LONG);
    let s = peer.expect(cql4_frame::Opcode::QUERY).await;
    abort_all(vec![abandoned]).await;
    let waiting = query(&client, "waiting".into(), LONG);
    wait_streams(&client, "id still in use", |st| {
        st.in_flight == 1 && st.queued == 1
    })
    .await;
    peer.respond(s, frames::void()).await;
    let w = peer.request().await.expect("waiting is sent");
    assert_eq!(text_of(&w), "waiting");
    assert_eq!(w.stream, s, "the only id, freed by the answer");
    peer.respond(w.stream, frames::void()).await;
    waiting.await.unwrap().unwrap();

    // Timed out: the id is orphaned until its late answer.
    let late = query(&client, "late".into(), Duration::from_millis(50));
    let s = peer.expect(cql4_frame::Opcode::QUERY).await;
    assert!(late.await.unwrap().unwrap_err().is_timeout());
    wait_streams(&client, "orphaned", |st| {
        st.orphaned == 1 && st.in_flight == 0
    })
    .await;
    let blocked = query(&client, "blocked".into(), LONG);
    wait_streams(&client, "no id for it", |st| st.queued == 1).await;
    peer.respond(s, frames::void()).await;
    let b = peer.request().await.expect("blocked is sent");
    assert_eq!(text_of(&b), "blocked");
    peer.respond(b.stream, frames::void()).await;
    blocked.await.unwrap().unwrap();
    wait_streams(&client, "all answered", |st| st == StreamStats::default()).await;
    assert_eq!(
        recorded(&server),
        ["abandoned", "waiting", "late", "blocked"]
    );
}

/// One id, two places in the queue: one request in flight and two queued fill it.
async fn full(
    policy: OnQueueFull,
) -> (
    Client,
    Peer,
    FakeServer,
    Vec<JoinHandle<Result<(), Error>>>,
    i16,
) {
    let (client, mut peer, server) = pair(|c| {
        c.mux.max_streams = 1;
        c.mux.max_queued = 2;
        c.on_queue_full = policy;
    })
    .await;
    let first = query(&client, "first".into(), LONG);
    let s = peer.expect(cql4_frame::Opcode::QUERY).await;
    let queued = vec![
        first,
        query(&client, "q1".into(), LONG),
        query(&client, "q2".into(), LONG),
    ];
    wait_streams(&client, "queue full", |st| st.queued == 2).await;
    (client, peer, server, queued, s)
}

async fn answer_all(peer: &mut Peer, first: i16, n: usize) {
    peer.respond(first, frames::void()).await;
    for _ in 1..n {
        let r = peer.request().await.expect("a request");
        peer.respond(r.stream, frames::void()).await;
    }
}

#[tokio::test]
async fn full_queue_fails_at_once_when_configured_to() {
    let (client, mut peer, server, tasks, first) = full(OnQueueFull::Fail).await;
    let started = std::time::Instant::now();
    let e = query(&client, "refused".into(), LONG)
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, Error::Overloaded { queued: 2 }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5), "not at once");
    answer_all(&mut peer, first, 3).await;
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(recorded(&server), ["first", "q1", "q2"]);
}

#[tokio::test]
async fn full_queue_waits_for_room_within_the_timeout() {
    let (client, mut peer, server, tasks, first) = full(OnQueueFull::Wait).await;
    // No room within 100 ms: a client-side timeout, nothing sent.
    let started = std::time::Instant::now();
    let e = query(&client, "too late".into(), Duration::from_millis(100))
        .await
        .unwrap()
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(started.elapsed() >= Duration::from_millis(100));
    // Room comes when the first answer frees the id: the waiter gets in and is sent.
    let waiter = query(&client, "waiter".into(), LONG);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(client.streams().queued, 2, "the waiter holds no place yet");
    answer_all(&mut peer, first, 4).await;
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    waiter.await.unwrap().unwrap();
    assert_eq!(recorded(&server), ["first", "q1", "q2", "waiter"]);
}
