//! A node whose every connection has closed reads as down at once, before its maintenance task
//! runs: a caller that retries a failed request in a tight loop then waits for the
//! reconnection instead of being sent back at once forever. On a one-thread runtime such a
//! caller never yielded, so the maintenance task never ran and the session hung (found by the
//! reset storm of tests/cluster_faults.rs).

mod inproc_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cql4_conn::QueryOptions;
use cql4_session::{ReconnectPolicy, Session, SessionConfig};
use inproc_support::{default_reply, FakeNode, Reply};

const CALLERS: usize = 32;

#[tokio::test(flavor = "current_thread")]
async fn a_caller_retrying_in_a_loop_gets_through_after_its_connection_closed() {
    // A hang cannot be caught by the runtime's own timers (they never fire): a thread of
    // its own ends the process.
    let done = Arc::new(AtomicBool::new(false));
    let watch = Arc::clone(&done);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(30));
        if !watch.load(Ordering::Relaxed) {
            eprintln!("a retrying caller starved the runtime: hung for 30 s");
            std::process::exit(101);
        }
    });
    let node = FakeNode::start(1).await;
    // The first connection is closed by its first query; later ones are served.
    node.on_query(|connection, q| {
        if connection == 0 && !q.starts_with("USE ") {
            Reply::Close
        } else {
            default_reply(q)
        }
    });
    let mut config = SessionConfig::new(node.config());
    config.single_host = true;
    config.reconnect = ReconnectPolicy::new(Duration::from_millis(10), Duration::from_millis(50));
    let session = Session::connect(config).await.expect("session");
    let started = Instant::now();
    // Callers in flight together when the connection closes: all woken before the pool's
    // maintenance task, each retrying at once, with no sleep, as a naive retry loop does.
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let session = session.clone();
            tokio::spawn(async move {
                let mut failures = 0usize;
                while session
                    .query("SELECT n FROM t", (), &QueryOptions::new())
                    .await
                    .is_err()
                {
                    failures += 1;
                    if failures % 64 == 0 {
                        // Lets a test without the fix end (the assertion below) rather than
                        // hang: a yield every 64 failures.
                        tokio::task::yield_now().await;
                    }
                }
                failures
            })
        })
        .collect();
    let mut failures = Vec::new();
    for c in callers {
        failures.push(c.await.expect("caller"));
    }
    done.store(true, Ordering::Relaxed);
    let total: usize = failures.iter().sum();
    assert!(total >= 1, "the first connection was never closed");
    // Each caller fails once or twice (its request on the closed connection, perhaps one
    // sent back before the pool noticed); sent back without waiting, they fail thousands of
    // times.
    assert!(
        failures.iter().all(|f| *f <= 4),
        "callers sent back without waiting for the reconnection: {failures:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
