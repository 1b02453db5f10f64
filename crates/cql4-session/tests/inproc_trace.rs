//! The tracing span of a session request: statement kind, consistency, idempotence, attempts,
//! the node that answered, speculative or not, latency, outcome — and no bound value.
//!
//! Alone in its test binary: a thread-local subscriber misses events whose callsites other
//! tests of the same process registered concurrently without one.

mod inproc_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cql4_conn::QueryOptions;
use cql4_frame::{Consistency, ErrorCode, ErrorDetails};
use cql4_session::{Session, SessionConfig};
use cql4_testkit::frames;
use inproc_support::{default_reply, one_row, wait_for, FakeNode, Reply};

/// A log sink for the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn each_request_has_a_span_with_its_attempts_and_outcome_and_no_values() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // The first statement (on either node) is answered UNAVAILABLE, the rest served.
    let asked = Arc::new(AtomicUsize::new(0));
    let (a, b) = (FakeNode::start(1).await, FakeNode::start(2).await);
    a.add_peer(&b);
    b.add_peer(&a);
    for node in [&a, &b] {
        let asked = Arc::clone(&asked);
        node.on_query(move |_, q| {
            if q.starts_with("USE ") {
                return default_reply(q);
            }
            match asked.fetch_add(1, Ordering::SeqCst) {
                0 => Reply::Now(frames::error(
                    ErrorCode::UNAVAILABLE,
                    "Cannot achieve consistency level LOCAL_ONE",
                    ErrorDetails::Unavailable {
                        consistency: Consistency::LOCAL_ONE,
                        required: 1,
                        alive: 0,
                    },
                )),
                _ => Reply::Now(one_row(1)),
            }
        });
    }
    let session = Session::connect(SessionConfig::new(a.config()))
        .await
        .expect("connect");
    wait_for("both nodes up", Duration::from_secs(5), || {
        let nodes = session.nodes();
        nodes.len() == 2 && nodes.iter().all(|n| n.up)
    })
    .await;
    let secret: &[u8] = b"s3cr3t-value";
    let options = QueryOptions::new()
        .with_consistency(Consistency::LOCAL_ONE)
        .with_idempotent(true);
    session
        .query("SELECT v FROM ks.t WHERE k = ?", (secret,), &options)
        .await
        .expect("retried");
    let log = String::from_utf8(captured.0.lock().expect("log").clone()).expect("utf-8");
    let closed = log
        .lines()
        .find(|l| l.contains("cql4.request") && l.contains("close"))
        .unwrap_or_else(|| panic!("no request span closed in:\n{log}"));
    for field in [
        "kind=\"query\"",
        "consistency=\"LOCAL_ONE\"",
        "idempotent=true",
        "attempts=2",
        "speculative=false",
        "outcome=\"ok\"",
        "latency_us=",
        "node=127.0.0.1:",
    ] {
        assert!(closed.contains(field), "{field} missing in {closed}");
    }
    assert!(log.contains("retry_decision"), "{log}");
    assert!(log.contains("error=\"unavailable\""), "{log}");
    assert!(
        !log.contains("s3cr3t"),
        "a bound value reached the log:\n{log}"
    );
}
