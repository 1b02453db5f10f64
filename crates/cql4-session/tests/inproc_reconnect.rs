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
/// What a loaded machine may add to a wait as the node sees it (timer, scheduling, the
/// attempt itself); on an idle machine it is a few milliseconds.
const SLACK: Duration = Duration::from_millis(150);
/// What it may take off one: an attempt that reached the node late, followed by one on time.
const EARLY: Duration = Duration::from_millis(20);

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

/// One outage: the node drops the session's connection and closes every new one for
/// [`WINDOW`], then serves again. Checks the attempts it saw against the policy (an `Err`
/// says what did not match) and that the pool reconnects on its own.
async fn outage(node: &FakeNode, session: &Session) -> Result<String, String> {
    let options = QueryOptions::new();
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

    // The count the policy allows: waits all at their longest (plus slack) give the fewest
    // attempts, all at their shortest the most.
    let fewest = attempts_within(|n| bound(n) + SLACK);
    let most = attempts_within(|n| bound(n) / 2);
    let waits: Vec<Duration> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    if !(fewest..=most).contains(&attempts.len()) {
        return Err(format!(
            "{} attempts in {WINDOW:?}, the policy allows {fewest}..={most}: waits {waits:?}",
            attempts.len()
        ));
    }
    // Each wait within its own bounds: doubling from 100 ms, capped at 400 ms.
    for (n, wait) in waits.iter().enumerate() {
        let n = u32::try_from(n).expect("few waits");
        let (low, high) = (bound(n) / 2, bound(n));
        if *wait + EARLY < low || *wait > high + SLACK {
            return Err(format!(
                "wait {n} was {wait:?}, not in [{low:?}, {high:?}]: {waits:?}"
            ));
        }
    }
    // Jitter: the capped waits are drawn from [200 ms, 400 ms] (mean 300 ms). Without it they
    // would all be 400 ms or a little more (a timer never fires early), alike within the
    // machine's noise.
    let capped: Vec<Duration> = waits.iter().skip(2).copied().collect();
    if capped.len() < 3 {
        return Err(format!("too few capped waits: {waits:?}"));
    }
    let spread = capped.iter().max().copied().unwrap_or_default()
        - capped.iter().min().copied().unwrap_or_default();
    let mean = capped.iter().sum::<Duration>() / u32::try_from(capped.len()).expect("few");
    if spread <= Duration::from_millis(20) || mean >= Duration::from_millis(360) {
        return Err(format!(
            "capped waits without jitter (spread {spread:?}, mean {mean:?}): {waits:?}"
        ));
    }
    Ok(format!(
        "{} attempts in {WINDOW:?} (policy: {fewest}..={most}), waits {waits:?}; reconnected {reconnected_after:?} after the node came back",
        attempts.len()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_node_is_retried_with_jittered_exponential_backoff_then_serves_again() {
    let node = FakeNode::start(1).await;
    let session = Session::connect(single_host(&node)).await.expect("connect");
    session
        .query("SELECT n FROM t", (), &QueryOptions::new())
        .await
        .expect("a query on the first connection");
    // Up to three outages: a wrong backoff fails every one, while a loaded machine (which
    // stretches some waits as the node sees them) fails only some.
    let mut misses = Vec::new();
    for _ in 0..3 {
        match outage(&node, &session).await {
            Ok(summary) => {
                println!("{summary} (after {} missed outages)", misses.len());
                return;
            }
            Err(miss) => misses.push(miss),
        }
    }
    panic!("no outage within the policy's bounds: {misses:#?}");
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
