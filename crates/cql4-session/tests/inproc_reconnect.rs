//! Reconnection on the fake node: once the server drops every connection, the pool tries again
//! in the background, waiting as the reconnection policy says (exponential, jittered, capped),
//! and requests succeed again as soon as the server accepts.

mod inproc_support;

use std::time::{Duration, Instant};

use cql4_conn::{Error, QueryOptions};
use cql4_session::{ReconnectPolicy, Session, SessionConfig};
use inproc_support::{default_reply, wait_for, FakeNode, Mode, Reply};

const BASE: Duration = Duration::from_millis(100);
const MAX: Duration = Duration::from_millis(400);
const WINDOW: Duration = Duration::from_secs(2);
/// What a loaded machine may add to each wait (timer, scheduling, the attempt itself).
const SLACK: Duration = Duration::from_millis(60);

/// The bound of the n-th wait (from 0): `min(base·2ⁿ, max)`; the wait itself is in
/// `[bound/2, bound]`.
fn bound(n: u32) -> Duration {
    BASE.saturating_mul(1 << n.min(20)).min(MAX)
}

/// How many attempts fit in `WINDOW` (the first at 0) when every wait is `wait(n)`.
fn attempts_within(wait: impl Fn(u32) -> Duration) -> usize {
    let mut at = Duration::ZERO;
    let mut count = 0;
    for n in 0.. {
        if at > WINDOW {
            break;
        }
        count += 1;
        at += wait(n);
    }
    count
}

fn single_host(node: &FakeNode) -> SessionConfig {
    let mut config = SessionConfig::new(node.config());
    config.single_host = true;
    config.reconnect = ReconnectPolicy::new(BASE, MAX);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_node_is_retried_with_jittered_exponential_backoff_then_serves_again() {
    let node = FakeNode::start(1).await;
    let session = Session::connect(single_host(&node)).await.expect("connect");
    let options = QueryOptions::new();
    session
        .query("SELECT n FROM t", (), &options)
        .await
        .expect("a query on the first connection");

    // From now on every connection is closed: the one open now on the next query, every new
    // one at once.
    node.set_mode(Mode::CloseAtOnce);
    node.on_query(|_, _| Reply::Close);
    // Counted before the drop: the first attempt may come before the failed query returns.
    let first = node.arrivals().len();
    let dropped = session.query("SELECT n FROM t", (), &options).await;
    assert!(matches!(dropped, Err(Error::Closed(_))), "{dropped:?}");
    wait_for(
        "a first reconnection attempt",
        Duration::from_secs(2),
        || node.arrivals().len() > first,
    )
    .await;
    let start = node.arrivals()[first];
    tokio::time::sleep(WINDOW.saturating_sub(start.elapsed()) + Duration::from_millis(50)).await;
    let attempts: Vec<Instant> = node.arrivals()[first..]
        .iter()
        .copied()
        .filter(|t| t.duration_since(start) <= WINDOW)
        .collect();

    // The count the policy allows: waits all at their longest (plus slack) give the fewest
    // attempts, all at their shortest the most.
    let fewest = attempts_within(|n| bound(n) + SLACK);
    let most = attempts_within(|n| bound(n) / 2);
    assert!(
        (fewest..=most).contains(&attempts.len()),
        "{} attempts in {WINDOW:?}, the policy allows {fewest}..={most}",
        attempts.len()
    );
    // Each wait within its own bounds: doubling from 100 ms, capped at 400 ms.
    let waits: Vec<Duration> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    for (n, wait) in waits.iter().enumerate() {
        let n = u32::try_from(n).expect("few waits");
        let (low, high) = (bound(n) / 2, bound(n));
        assert!(
            *wait + Duration::from_millis(5) >= low && *wait <= high + SLACK,
            "wait {n} was {wait:?}, not in [{low:?}, {high:?}]: {waits:?}"
        );
    }
    // Jitter: the capped waits (all drawn from [200 ms, 400 ms]) are not all the same.
    let capped: Vec<Duration> = waits.iter().skip(2).copied().collect();
    let spread = capped.iter().max().copied().unwrap_or_default()
        - capped.iter().min().copied().unwrap_or_default();
    assert!(
        capped.len() >= 3 && spread > Duration::from_millis(5),
        "capped waits without jitter: {waits:?}"
    );
    assert!(
        !session.nodes()[0].up,
        "no connection while the node closes them"
    );

    // The node serves again: the pool's next attempt (at most one capped wait away)
    // succeeds, without a request asking for it.
    node.on_query(|_, q| default_reply(q));
    node.set_mode(Mode::Serve);
    let back = Instant::now();
    wait_for("the pool reconnected", MAX + SLACK * 3, || {
        session.nodes()[0].up
    })
    .await;
    let reconnected_after = back.elapsed();
    session
        .query("SELECT n FROM t", (), &options)
        .await
        .expect("a query after the reconnection");
    let last = node.queries().last().cloned().expect("a query");
    assert!(last.0 > first, "ran on a new connection: {last:?}");
    println!(
        "{} attempts in {WINDOW:?} (policy: {fewest}..={most}), waits {waits:?}; reconnected {reconnected_after:?} after the node came back",
        attempts.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_drops_its_connections_is_reconnected_while_the_other_node_serves() {
    let a = FakeNode::start(1).await;
    let b = FakeNode::start(2).await;
    a.add_peer(&b);
    let mut config = SessionConfig::new(a.config());
    config.reconnect = ReconnectPolicy::new(BASE, MAX);
    let session = Session::connect(config).await.expect("connect");
    wait_for("both nodes up", Duration::from_secs(2), || {
        session.nodes().iter().all(|n| n.up)
    })
    .await;
    assert_eq!(session.nodes().len(), 2, "{:#?}", session.nodes());

    // B drops its connection and refuses new ones for a while.
    b.set_mode(Mode::CloseAtOnce);
    b.on_query(|_, _| Reply::Close);
    let options = QueryOptions::new();
    let b_before = b.queries().len();
    // Round robin reaches B within two queries; that query fails with the connection.
    let mut failed = 0;
    for _ in 0..2 {
        if session
            .query("SELECT n FROM t", (), &options)
            .await
            .is_err()
        {
            failed += 1;
        }
    }
    assert_eq!(failed, 1, "the query on B's dropped connection");
    assert_eq!(b.queries().len(), b_before + 1);
    wait_for("B down", Duration::from_secs(1), || {
        session.nodes().iter().filter(|n| n.up).count() == 1
    })
    .await;
    // Meanwhile A takes every request.
    for _ in 0..10 {
        session
            .query("SELECT n FROM t", (), &options)
            .await
            .expect("A serves while B is down");
    }
    let arrivals_before = b.arrivals().len();
    b.on_query(|_, q| default_reply(q));
    b.set_mode(Mode::Serve);
    wait_for("B reconnected", MAX + SLACK * 3, || {
        session.nodes().iter().all(|n| n.up)
    })
    .await;
    assert!(b.arrivals().len() > arrivals_before);
    for _ in 0..4 {
        session
            .query("SELECT n FROM t", (), &options)
            .await
            .expect("both serve");
    }
    assert!(
        b.queries().len() > b_before + 1,
        "B gets requests again: {:?}",
        b.queries()
    );
}
