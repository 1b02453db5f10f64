//! Pool growth and shrinking on an emulated node (no real node): a node whose connections are
//! all over their in-flight budget gets more connections, up to the maximum; extra connections
//! close after idle.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cql4_conn::QueryOptions;
use cql4_session::{Session, SessionConfig};
use cql4_testkit::emulated::EmulatedCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_grows_over_budget_and_shrinks_after_idle() {
    let cluster = EmulatedCluster::builder().nodes(1).start().await;
    // Each connection answers one request at a time, 20 ms each: 16 callers keep every
    // connection over an in-flight budget of 2.
    cluster.node(1).set_delay(Duration::from_millis(20));
    let mut config = SessionConfig::new(cluster.config());
    config.max_in_flight_per_connection = 2;
    config.max_connections_per_node = 3;
    config.shrink_idle_after = Duration::from_millis(500);
    // The emulated node's own 127.0.0.1 trap is off: one node, one pool.
    let session = Session::connect(config).await.expect("session");
    assert_eq!(session.nodes()[0].connections, 1);
    // Later than `shrink_idle_after` into the session's life: a connection opened for growth
    // must count as idle from its opening, not from the session's start.
    tokio::time::sleep(Duration::from_millis(700)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (s, stop) = (session.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                s.query("SELECT * FROM ks.t", (), &QueryOptions::new())
                    .await
                    .expect("query");
            }
        }));
    }
    let end = Instant::now() + Duration::from_secs(10);
    while session.nodes()[0].connections < 3 {
        assert!(
            Instant::now() < end,
            "the pool did not grow to 3: {:?}",
            session.nodes()[0]
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Grown connections carry requests: still 3 a while later, under load.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        session.nodes()[0].connections,
        3,
        "a loaded pool does not shrink"
    );
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("task");
    }
    let end = Instant::now() + Duration::from_secs(10);
    while session.nodes()[0].connections > 1 {
        assert!(
            Instant::now() < end,
            "the pool did not shrink: {:?}",
            session.nodes()[0]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(session.nodes()[0].up);
}
