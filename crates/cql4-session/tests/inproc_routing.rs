//! Routing never waits on a down node: a hung peer gets no request and costs the others
//! nothing, and with every node refusing connections a request fails with
//! `Error::NoNodeAvailable` after about the connect timeout, never the request timeout.

mod inproc_support;

use std::time::{Duration, Instant};

use cql4_conn::{Error, QueryOptions};
use cql4_session::{Session, SessionConfig};
use inproc_support::{wait_for, FakeNode, Mode};

const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn config(node: &FakeNode) -> SessionConfig {
    let mut connection = node.config();
    connection.connect_timeout = CONNECT_TIMEOUT;
    connection.request_timeout = REQUEST_TIMEOUT;
    SessionConfig::new(connection)
}

/// A query that must fail with `NoNodeAvailable` about one connect timeout after it starts.
async fn assert_fails_fast(session: &Session) -> String {
    let start = Instant::now();
    let result = session
        .query("SELECT n FROM t", (), &QueryOptions::new())
        .await;
    let took = start.elapsed();
    let Err(Error::NoNodeAvailable { last_error, .. }) = result else {
        panic!("expected NoNodeAvailable, got {result:?}");
    };
    assert!(
        took < CONNECT_TIMEOUT + Duration::from_secs(1),
        "failed after {took:?}; connect timeout {CONNECT_TIMEOUT:?}, request timeout {REQUEST_TIMEOUT:?}"
    );
    println!("NoNodeAvailable after {took:?}");
    let last_error = last_error.expect("the last connection failure");
    assert!(
        last_error.to_lowercase().contains("refused"),
        "{last_error}"
    );
    last_error
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_host_session_whose_node_refuses_fails_within_the_connect_timeout() {
    let node = FakeNode::start(1).await;
    let mut config = config(&node);
    config.single_host = true;
    let session = Session::connect(config).await.expect("connect");
    // Gone: its connection closes and its port refuses connections.
    drop(node);
    wait_for("the connection seen closed", Duration::from_secs(2), || {
        !session.nodes()[0].up
    })
    .await;
    assert_fails_fast(&session).await;
    // Again: a second request is not slower (no waiting for the pool's backoff either).
    assert_fails_fast(&session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_peer_gets_no_request_and_delays_none() {
    let a = FakeNode::start(1).await;
    let b = FakeNode::start(2).await;
    a.add_peer(&b);
    // B accepts TCP connections and never answers: each attempt lasts the connect timeout.
    b.set_mode(Mode::Silent);
    let session = Session::connect(config(&a)).await.expect("connect");
    assert_eq!(session.nodes().len(), 2, "{:#?}", session.nodes());
    wait_for("an attempt on B", Duration::from_secs(2), || {
        !b.arrivals().is_empty()
    })
    .await;
    let options = QueryOptions::new();
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let start = Instant::now();
        session
            .query("SELECT n FROM t", (), &options)
            .await
            .expect("A serves");
        slowest = slowest.max(start.elapsed());
    }
    // Below B's connect timeout, which a request waiting on B's attempt would pay.
    assert!(
        slowest < CONNECT_TIMEOUT,
        "a request took {slowest:?}: it waited on B"
    );
    println!("slowest of 20 requests with B hung: {slowest:?}");
    assert_eq!(a.queries().len(), 20);
    assert!(b.queries().is_empty());
    let b_status = session
        .nodes()
        .into_iter()
        .find(|n| n.address == b.addr())
        .expect("B is known");
    assert!(!b_status.up, "{b_status:?}");
    assert_eq!(b_status.requests, 0, "{b_status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_node_refusing_a_request_fails_within_the_connect_timeout() {
    let a = FakeNode::start(1).await;
    let b = FakeNode::start(2).await;
    a.add_peer(&b);
    let session = Session::connect(config(&a)).await.expect("connect");
    wait_for("both nodes up", Duration::from_secs(2), || {
        session.nodes().iter().all(|n| n.up)
    })
    .await;
    drop(a);
    drop(b);
    wait_for(
        "both connections seen closed",
        Duration::from_secs(2),
        || session.nodes().iter().all(|n| !n.up),
    )
    .await;
    assert_fails_fast(&session).await;
}
