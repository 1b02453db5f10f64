//! `Session::close(deadline)`: new requests fail with `Error::SessionClosed` at once, a request
//! in flight finishes if it can before the deadline, and at the deadline every connection
//! closes (a request still in flight then fails).

mod inproc_support;

use std::future::Future;
use std::time::{Duration, Instant};

use cql4_conn::{Error, QueryOptions};
use cql4_session::{Session, SessionConfig};
use inproc_support::{default_reply, one_row, wait_for, FakeNode, Reply};

/// The fake node's answer time for `SELECT slow`.
const SLOW: Duration = Duration::from_millis(200);

async fn session_with_a_slow_query(single_host: bool) -> (FakeNode, Option<FakeNode>, Session) {
    let a = FakeNode::start(1).await;
    let b = if single_host {
        None
    } else {
        let b = FakeNode::start(2).await;
        a.add_peer(&b);
        Some(b)
    };
    for node in std::iter::once(&a).chain(b.as_ref()) {
        node.on_query(|_, q| {
            if q.contains("slow") {
                Reply::After(SLOW, one_row(2))
            } else {
                default_reply(q)
            }
        });
    }
    let mut config = SessionConfig::new(a.config());
    config.single_host = single_host;
    let session = Session::connect(config).await.expect("connect");
    wait_for("every node up", Duration::from_secs(2), || {
        session.nodes().iter().all(|n| n.up)
    })
    .await;
    (a, b, session)
}

/// Starts `SELECT slow` and waits until a node has it.
async fn slow_query_in_flight(
    session: &Session,
    nodes: &[&FakeNode],
) -> tokio::task::JoinHandle<(cql4_conn::Result<cql4_conn::QueryResult>, Instant)> {
    let s = session.clone();
    let in_flight = tokio::spawn(async move {
        let r = s.query("SELECT slow", (), &QueryOptions::new()).await;
        (r, Instant::now())
    });
    wait_for("the slow query at a node", Duration::from_secs(2), || {
        nodes
            .iter()
            .any(|n| n.queries().iter().any(|(_, q)| q == "SELECT slow"))
    })
    .await;
    in_flight
}

async fn close_lets_the_request_in_flight_finish(single_host: bool) {
    let (a, b, session) = session_with_a_slow_query(single_host).await;
    let nodes: Vec<&FakeNode> = std::iter::once(&a).chain(b.as_ref()).collect();
    let in_flight = slow_query_in_flight(&session, &nodes).await;
    let start = Instant::now();
    let mut closing = {
        let s = session.clone();
        Box::pin(async move {
            s.close(Duration::from_secs(1)).await;
            Instant::now()
        })
    };
    // Polled once here, so that closing has begun before the next request; then left to run.
    std::future::poll_fn(|cx| {
        assert!(closing.as_mut().poll(cx).is_pending());
        std::task::Poll::Ready(())
    })
    .await;
    let closing = tokio::spawn(closing);
    // Closing: a new request is refused at once.
    let refused_at = Instant::now();
    let refused = session
        .query("SELECT n FROM t", (), &QueryOptions::new())
        .await;
    assert!(matches!(refused, Err(Error::SessionClosed)), "{refused:?}");
    assert!(refused_at.elapsed() < Duration::from_millis(50));

    let (result, answered_at) = in_flight.await.expect("the query task");
    result.expect("the request in flight finished before the deadline");
    let closed_at = closing.await.expect("the close task");
    assert!(
        closed_at >= answered_at,
        "close returned before the request in flight ended"
    );
    let took = closed_at - start;
    // Not the whole deadline: close returns once nothing is in flight.
    assert!(
        took < Duration::from_millis(950),
        "close waited {took:?}, longer than the request in flight needed"
    );
    // Every connection closes once close returns.
    for node in &nodes {
        let opened = node.server.connections();
        wait_for("every connection closed", Duration::from_secs(2), || {
            node.closed().len() == opened
        })
        .await;
    }
    let after = session
        .query("SELECT n FROM t", (), &QueryOptions::new())
        .await;
    assert!(matches!(after, Err(Error::SessionClosed)), "{after:?}");
    println!("close(1 s) returned after {took:?}");
}

/// One session closed with a 50 ms deadline under a request the node answers after 200 ms.
/// An `Err` says which timing did not hold.
async fn deadline_under_a_request(single_host: bool) -> Result<String, String> {
    let (a, b, session) = session_with_a_slow_query(single_host).await;
    let nodes: Vec<&FakeNode> = std::iter::once(&a).chain(b.as_ref()).collect();
    let in_flight = slow_query_in_flight(&session, &nodes).await;
    let start = Instant::now();
    let deadline = Duration::from_millis(50);
    session.close(deadline).await;
    let took = start.elapsed();
    let (result, ended_at) = in_flight.await.expect("the query task");
    let ended = ended_at - start;
    // Before the node's answer: the connection was closed under the request, which says so.
    let error = match result {
        Err(e @ Error::SessionClosed) => e,
        other => {
            return Err(format!(
                "the request in flight at the deadline ended with {:?}",
                other.map(|_| "an answer")
            ))
        }
    };
    if took < deadline || took > deadline + Duration::from_millis(100) {
        return Err(format!("close took {took:?} with a {deadline:?} deadline"));
    }
    if ended > SLOW - Duration::from_millis(50) {
        return Err(format!(
            "the request ended {ended:?} after close started: not cut at the deadline"
        ));
    }
    for node in &nodes {
        let opened = node.server.connections();
        wait_for("every connection closed", Duration::from_secs(1), || {
            node.closed().len() == opened
        })
        .await;
    }
    Ok(format!(
        "close(50 ms) returned after {took:?}; the request in flight failed after {ended:?}: {error}"
    ))
}

async fn the_deadline_closes_the_connection_under_a_request(single_host: bool) {
    // Up to three sessions: a close that waits for the request fails every one, while a
    // loaded machine (which may run the close late) fails only some.
    let mut misses = Vec::new();
    for _ in 0..3 {
        match deadline_under_a_request(single_host).await {
            Ok(summary) => {
                println!("{summary} (after {} misses)", misses.len());
                return;
            }
            Err(miss) => misses.push(miss),
        }
    }
    panic!("the deadline did not hold: {misses:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_host_close_lets_the_request_in_flight_finish() {
    close_lets_the_request_in_flight_finish(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_close_lets_the_request_in_flight_finish() {
    close_lets_the_request_in_flight_finish(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_host_close_deadline_cuts_the_request_in_flight() {
    the_deadline_closes_the_connection_under_a_request(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_close_deadline_cuts_the_request_in_flight() {
    the_deadline_closes_the_connection_under_a_request(false).await;
}
