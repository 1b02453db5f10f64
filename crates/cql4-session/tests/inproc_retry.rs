//! Retries, speculative execution and deadlines of the session against fake nodes: which
//! errors are retried, on which node, how often; non-idempotent writes never retried once they
//! may have been applied; a late node overtaken by a speculative attempt with nothing left in
//! flight; deadlines cutting retries and page streams.
//!
//! No assertion depends on a tight timing: stalls are long (seconds) next to the delays that
//! should overtake them, and elapsed times are only bounded from below or loosely from above.

mod inproc_support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cql4_conn::{DeadlineScope, Error, ErrorKind, QueryOptions};
use cql4_frame::{ColumnType, Consistency, ErrorCode, ErrorDetails, Response};
use cql4_session::{
    DefaultRetryPolicy, KeyspacesRetryPolicy, NoRetryPolicy, RetryPolicy, Session, SessionConfig,
    SpeculativePolicy,
};
use cql4_testkit::frames;
use inproc_support::{default_reply, one_row, wait_for, FakeNode, Reply};

const WRITE: &str = "INSERT INTO ks.t (k, v) VALUES (1, 1)";
const READ: &str = "SELECT v FROM ks.t WHERE k = 1";

fn write_timeout(write_type: &str) -> Response {
    frames::error(
        ErrorCode::WRITE_TIMEOUT,
        "Operation timed out - received only 1 responses.",
        ErrorDetails::WriteTimeout {
            consistency: Consistency::LOCAL_QUORUM,
            received: 1,
            block_for: 2,
            write_type: write_type.to_owned(),
        },
    )
}

fn unavailable() -> Response {
    frames::error(
        ErrorCode::UNAVAILABLE,
        "Cannot achieve consistency level LOCAL_QUORUM",
        ErrorDetails::Unavailable {
            consistency: Consistency::LOCAL_QUORUM,
            required: 2,
            alive: 1,
        },
    )
}

/// What a cluster of fake nodes answers to the test's statement, given how many times it was
/// asked before (on any node) and the node (1, 2, 3).
type Script = Arc<dyn Fn(usize, u8) -> Reply + Send + Sync>;

/// Fake nodes that all know each other, answering the test's statements with one script and
/// logging which node each statement reached, in order.
struct Cluster {
    nodes: Vec<FakeNode>,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Cluster {
    async fn start(n: u8, script: impl Fn(usize, u8) -> Reply + Send + Sync + 'static) -> Self {
        let mut nodes = Vec::new();
        for id in 1..=n {
            nodes.push(FakeNode::start(id).await);
        }
        for a in &nodes {
            for b in &nodes {
                if a.addr() != b.addr() {
                    a.add_peer(b);
                }
            }
        }
        let log = Arc::new(Mutex::new(Vec::new()));
        let script: Script = Arc::new(script);
        for (i, node) in nodes.iter().enumerate() {
            let id = i as u8 + 1;
            let log = Arc::clone(&log);
            let script = Arc::clone(&script);
            node.on_query(move |_, q| {
                if q.starts_with("USE ") {
                    return default_reply(q);
                }
                let asked = {
                    let mut log = log.lock().expect("log");
                    log.push(id);
                    log.len() - 1
                };
                script(asked, id)
            });
        }
        Self { nodes, log }
    }

    async fn session(&self, config: impl FnOnce(&mut SessionConfig)) -> Session {
        let mut connection = self.nodes[0].config();
        connection.request_timeout = Duration::from_secs(10);
        let mut c = SessionConfig::new(connection);
        config(&mut c);
        let session = Session::connect(c).await.expect("connect");
        let n = self.nodes.len();
        wait_for("every node up", Duration::from_secs(5), || {
            let nodes = session.nodes();
            nodes.len() == n && nodes.iter().all(|s| s.up)
        })
        .await;
        session
    }

    /// The nodes the test's statements reached, in order.
    fn log(&self) -> Vec<u8> {
        self.log.lock().expect("log").clone()
    }
}

fn with_policy(policy: impl RetryPolicy + 'static) -> impl FnOnce(&mut SessionConfig) {
    move |c| c.retry_policy = Some(Arc::new(policy))
}

fn idempotent(yes: bool) -> QueryOptions {
    QueryOptions::new().with_idempotent(yes)
}

fn value(result: &cql4_conn::QueryResult) -> i32 {
    let rows = result.rows().expect("rows");
    let row = rows.iter().next().expect("a row");
    row.get::<i32>(0).expect("an int")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_idempotent_write_is_never_retried_after_a_write_timeout() {
    let cluster = Cluster::start(2, |_, _| Reply::Now(write_timeout("SIMPLE"))).await;
    let session = cluster
        .session(with_policy(DefaultRetryPolicy::new()))
        .await;
    let err = session
        .query(WRITE, (), &idempotent(false))
        .await
        .expect_err("write timeout");
    assert_eq!(err.kind(), ErrorKind::WriteTimeout, "{err}");
    assert_eq!(err.write_type(), Some("SIMPLE"));
    assert_eq!(cluster.log().len(), 1, "sent once: {:?}", cluster.log());

    // Not even under the Amazon Keyspaces policy, which retries timeouts.
    let session = cluster
        .session(with_policy(KeyspacesRetryPolicy::new()))
        .await;
    let err = session
        .query(WRITE, (), &QueryOptions::new())
        .await
        .expect_err("write timeout");
    assert_eq!(err.kind(), ErrorKind::WriteTimeout);
    assert_eq!(
        cluster.log().len(),
        2,
        "sent once more: {:?}",
        cluster.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotent_write_is_retried_once_on_the_same_node_after_a_write_timeout() {
    let cluster = Cluster::start(3, |asked, _| match asked {
        0 => Reply::Now(write_timeout("SIMPLE")),
        _ => Reply::Now(one_row(7)),
    })
    .await;
    let session = cluster.session(|_| {}).await;
    let result = session
        .query(WRITE, (), &idempotent(true))
        .await
        .expect("retried");
    assert_eq!(value(&result), 7);
    let log = cluster.log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0], log[1], "the same node: {log:?}");

    // A BATCH_LOG timeout means nothing was applied: retried even when not idempotent.
    let cluster = Cluster::start(2, |asked, _| match asked {
        0 => Reply::Now(write_timeout("BATCH_LOG")),
        _ => Reply::Now(one_row(8)),
    })
    .await;
    let session = cluster.session(|_| {}).await;
    let result = session.query(WRITE, (), &idempotent(false)).await;
    assert_eq!(value(&result.expect("retried")), 8);
    assert_eq!(cluster.log().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_is_retried_on_the_next_node_only_when_idempotent() {
    let cluster = Cluster::start(3, |asked, _| match asked {
        0 | 2 => Reply::Close,
        _ => Reply::Now(one_row(5)),
    })
    .await;
    let session = cluster.session(|_| {}).await;
    let err = session
        .query(WRITE, (), &idempotent(false))
        .await
        .expect_err("connection lost");
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    assert_eq!(
        cluster.log().len(),
        1,
        "never sent again: {:?}",
        cluster.log()
    );

    // Answer 1 is consumed so that the next statement's first attempt is the one closed (2).
    session
        .query(READ, (), &idempotent(false))
        .await
        .expect("answer 1");
    let result = session
        .query(WRITE, (), &idempotent(true))
        .await
        .expect("retried elsewhere");
    assert_eq!(value(&result), 5);
    let log = cluster.log();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_ne!(log[2], log[3], "another node: {log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_goes_once_to_the_next_node() {
    let cluster = Cluster::start(3, |asked, _| match asked {
        0 | 2 | 3 => Reply::Now(unavailable()),
        _ => Reply::Now(one_row(4)),
    })
    .await;
    let session = cluster.session(|_| {}).await;
    // Unavailable proves nothing was written: the next node even for a non-idempotent write.
    let result = session.query(WRITE, (), &idempotent(false)).await;
    assert_eq!(value(&result.expect("next node")), 4);
    let log = cluster.log();
    assert_ne!(log[0], log[1], "{log:?}");
    // Once only: the second unavailable in a row fails.
    let err = session
        .query(WRITE, (), &idempotent(true))
        .await
        .expect_err("twice unavailable");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let log = cluster.log();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_ne!(log[2], log[3], "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_node_sends_requests_to_the_next_one() {
    let cluster = Cluster::start(2, |asked, _| match asked {
        0 => Reply::Now(frames::error(
            ErrorCode::OVERLOADED,
            "Server is shutting down",
            ErrorDetails::None,
        )),
        _ => Reply::Now(one_row(3)),
    })
    .await;
    let session = cluster.session(|_| {}).await;
    let result = session.query(WRITE, (), &idempotent(false)).await;
    assert_eq!(value(&result.expect("next node")), 3);
    let log = cluster.log();
    assert_ne!(log[0], log[1], "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyspaces_policy_retries_on_the_same_node_with_backoff_and_a_bound() {
    let cluster = Cluster::start(3, |_, _| Reply::Now(write_timeout("SIMPLE"))).await;
    let session = cluster
        .session(with_policy(KeyspacesRetryPolicy::new()))
        .await;
    let start = Instant::now();
    let err = session
        .query(WRITE, (), &idempotent(true))
        .await
        .expect_err("always throttled");
    let took = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::WriteTimeout);
    let log = cluster.log();
    assert_eq!(log.len(), 4, "the first attempt and 3 retries: {log:?}");
    assert!(log.iter().all(|n| *n == log[0]), "one node: {log:?}");
    assert!(
        took >= Duration::from_millis(30),
        "three waits of at least 10 ms: {took:?}"
    );

    // Throttled twice, then served.
    let cluster = Cluster::start(3, |asked, _| match asked {
        0 | 1 => Reply::Now(write_timeout("SIMPLE")),
        _ => Reply::Now(one_row(9)),
    })
    .await;
    let session = cluster
        .session(with_policy(KeyspacesRetryPolicy::new()))
        .await;
    let result = session.query(WRITE, (), &idempotent(true)).await;
    assert_eq!(value(&result.expect("third attempt")), 9);
    let log = cluster.log();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|n| *n == log[0]), "one node: {log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_retry_means_one_attempt() {
    let cluster = Cluster::start(2, |_, _| Reply::Now(unavailable())).await;
    let session = cluster.session(with_policy(NoRetryPolicy::new())).await;
    let err = session.query(READ, (), &idempotent(true)).await;
    assert_eq!(err.expect_err("unavailable").kind(), ErrorKind::Unavailable);
    assert_eq!(cluster.log().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_speculative_attempt_answers_for_a_stalled_node_and_leaves_nothing_in_flight() {
    // The first node asked stalls 3 s; any other answers with its own id at once.
    let stalled = Arc::new(AtomicUsize::new(0));
    let first = Arc::clone(&stalled);
    let cluster = Cluster::start(3, move |asked, node| {
        if asked == 0 {
            first.store(usize::from(node), Ordering::SeqCst);
            Reply::After(Duration::from_secs(3), one_row(-1))
        } else {
            Reply::Now(one_row(i32::from(node)))
        }
    })
    .await;
    let session = cluster
        .session(|c| c.speculative = SpeculativePolicy::constant(Duration::from_millis(50), 1))
        .await;
    let start = Instant::now();
    let result = session
        .query(READ, (), &idempotent(true))
        .await
        .expect("answered");
    let took = start.elapsed();
    let slow = stalled.load(Ordering::SeqCst) as i32;
    let answer = value(&result);
    assert_ne!(answer, -1, "the stalled node did not answer first");
    assert_ne!(answer, slow, "answered by another node");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let log = cluster.log();
    assert_eq!(log.len(), 2, "one speculative attempt: {log:?}");
    // The abandoned attempt counts nowhere any more.
    for node in session.nodes() {
        assert_eq!(node.in_flight, 0, "{node:?}");
    }
    // Its late answer arrives on an orphaned stream id; the connection goes on serving.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for _ in 0..6 {
        session
            .query(READ, (), &QueryOptions::new())
            .await
            .expect("every node serves");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_idempotent_requests_never_speculate() {
    let cluster = Cluster::start(2, |asked, _| match asked {
        0 => Reply::After(Duration::from_millis(400), one_row(1)),
        _ => Reply::Now(one_row(2)),
    })
    .await;
    let session = cluster
        .session(|c| c.speculative = SpeculativePolicy::constant(Duration::from_millis(20), 2))
        .await;
    let result = session.query(WRITE, (), &idempotent(false)).await;
    assert_eq!(value(&result.expect("slow answer")), 1);
    assert_eq!(cluster.log().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overall_deadline_cuts_retries() {
    let cluster = Cluster::start(2, |_, _| Reply::Now(write_timeout("SIMPLE"))).await;
    let policy = KeyspacesRetryPolicy::new()
        .with_max_retries(1000)
        .with_waits(Duration::from_millis(20), Duration::from_millis(20));
    let session = cluster.session(with_policy(policy)).await;
    let options = idempotent(true).with_overall_timeout(Duration::from_millis(300));
    let start = Instant::now();
    let err = session
        .query(WRITE, (), &options)
        .await
        .expect_err("deadline");
    let took = start.elapsed();
    let Error::Deadline {
        scope: DeadlineScope::Request,
        timeout,
        attempts,
    } = err
    else {
        panic!("expected the request deadline, got {err:?}");
    };
    assert_eq!(timeout, Duration::from_millis(300));
    assert!((2..100).contains(&attempts), "{attempts} attempts");
    // Every attempt but the last reached a node. The last may have been cut by the deadline on
    // its way (then it reaches its node a little later) or before its frame was written (then it
    // is never sent, by design): one of the two, never more than the attempts counted.
    let attempts = attempts as usize;
    wait_for(
        "every attempt but the last at a node",
        Duration::from_secs(2),
        || cluster.log().len() >= attempts - 1,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let sent = cluster.log().len();
    assert!(
        sent == attempts || sent == attempts - 1,
        "{sent} requests at the nodes for {attempts} attempts"
    );
    assert!(err.is_timeout() && !err.is_retryable());
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    for node in session.nodes() {
        assert_eq!(node.in_flight, 0, "{node:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_deadline_ends_a_page_stream() {
    // Page 1 at once with a paging state; page 2 never in time.
    let cluster = Cluster::start(1, |asked, _| {
        let page = frames::rows(
            &[("v", ColumnType::Int)],
            &[vec![Some(1i32.to_be_bytes().to_vec())]],
            Some(b"next"),
        );
        match asked {
            0 => Reply::Now(page),
            _ => Reply::After(Duration::from_secs(5), page),
        }
    })
    .await;
    let session = cluster.session(|_| {}).await;
    let options = QueryOptions::new()
        .with_idempotent(true)
        .with_stream_timeout(Duration::from_millis(300));
    let mut pages = session.query_pages(READ, (), &options);
    pages.next_page().await.expect("page 1").expect("page 1 ok");
    let start = Instant::now();
    let err = pages
        .next_page()
        .await
        .expect("page 2")
        .expect_err("stream deadline");
    assert!(
        matches!(
            err,
            Error::Deadline {
                scope: DeadlineScope::Stream,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::ClientTimeout);
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_percentile_policy_speculates_once_the_node_has_a_latency_history() {
    // Once `stall` is set, the next statement stalls 3 s on its first node.
    let stall = Arc::new(AtomicBool::new(false));
    let stalled = Arc::new(AtomicUsize::new(0));
    let (flag, first) = (Arc::clone(&stall), Arc::clone(&stalled));
    let cluster = Cluster::start(2, move |_, node| {
        if flag.swap(false, Ordering::SeqCst) {
            first.store(usize::from(node), Ordering::SeqCst);
            Reply::After(Duration::from_secs(3), one_row(-1))
        } else {
            Reply::Now(one_row(i32::from(node)))
        }
    })
    .await;
    let session = cluster
        .session(|c| c.speculative = SpeculativePolicy::percentile(99.0, 1))
        .await;
    // 100 answers per node at least before the policy has a percentile.
    for _ in 0..220 {
        session
            .query(READ, (), &idempotent(true))
            .await
            .expect("quick");
    }
    // A speculative attempt that lost one of those races may still be on its way to a node:
    // let it arrive before the stall is armed.
    tokio::time::sleep(Duration::from_millis(100)).await;
    stall.store(true, Ordering::SeqCst);
    let start = Instant::now();
    let result = session
        .query(READ, (), &idempotent(true))
        .await
        .expect("answered");
    let answer = value(&result);
    assert!(!stall.load(Ordering::SeqCst), "a first attempt stalled");
    assert_ne!(answer, -1);
    assert_ne!(answer, stalled.load(Ordering::SeqCst) as i32);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}
