//! The session's metrics (feature `metrics`): connections opened and closed, a failed request
//! by its error kind, and a reconnection once the node is back after failed attempts, with the
//! node's address as label. Against the fake node, with metrics-util's debugging recorder installed for this binary.
#![cfg(feature = "metrics")]

mod inproc_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cql4_conn::{metrics, Error, QueryOptions};
use cql4_session::{ReconnectPolicy, Session, SessionConfig};
use inproc_support::{default_reply, wait_for, FakeNode, Mode, Reply};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// Counters summed over snapshots (the debugging recorder resets them at each one).
#[derive(Clone)]
struct Counters(Arc<Mutex<(Snapshotter, HashMap<String, u64>)>>);

impl Counters {
    fn get(&self, name: &str) -> u64 {
        let mut guard = self.0.lock().expect("lock");
        let (snapshotter, totals) = &mut *guard;
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            if let DebugValue::Counter(n) = value {
                let key = key.key();
                let labels: Vec<_> = key
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                *totals
                    .entry(format!("{}{{{}}}", key.name(), labels.join(",")))
                    .or_default() += n;
            }
        }
        totals.get(name).copied().unwrap_or(0)
    }
}

#[tokio::test]
async fn the_pool_counts_connections_and_reconnections() {
    let recorder = DebuggingRecorder::new();
    let counters = Counters(Arc::new(Mutex::new((
        recorder.snapshotter(),
        HashMap::new(),
    ))));
    recorder
        .install()
        .expect("the only recorder of this binary");

    let node = FakeNode::start(1).await;
    let mut config = SessionConfig::new(node.config());
    config.single_host = true;
    config.reconnect = ReconnectPolicy::new(Duration::from_millis(20), Duration::from_millis(50));
    let session = Session::connect(config).await.expect("connect");
    let label = |name: &str| format!("{name}{{node={}}}", node.addr());
    assert_eq!(counters.get(&label(metrics::OPENED)), 1);
    assert_eq!(counters.get(&label(metrics::RECONNECTIONS)), 0);

    // The node drops the connection and refuses new ones for a while.
    node.set_mode(Mode::CloseAtOnce);
    node.on_query(|_, _| Reply::Close);
    let dropped = session
        .query("SELECT n FROM t", (), &QueryOptions::new())
        .await;
    assert!(matches!(dropped, Err(Error::Closed(_))), "{dropped:?}");
    // The failed request counted once, under its kind (not once per attempt).
    assert_eq!(counters.get("cql4_errors_total{kind=connection_lost}"), 1);
    let c = counters.clone();
    let closed = label(metrics::CLOSED);
    wait_for(
        "the connection counted closed",
        Duration::from_secs(5),
        || c.get(&closed) >= 1,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!session.nodes()[0].up);

    // Back: one reconnection, one more connection opened.
    node.on_query(|_, q| default_reply(q));
    node.set_mode(Mode::Serve);
    let c = counters.clone();
    let reconnections = label(metrics::RECONNECTIONS);
    wait_for("a reconnection counted", Duration::from_secs(5), || {
        c.get(&reconnections) == 1
    })
    .await;
    session
        .query("SELECT n FROM t", (), &QueryOptions::new())
        .await
        .expect("a query after the reconnection");
    assert_eq!(counters.get(&label(metrics::OPENED)), 2);
    let requests = counters.get(&label(metrics::REQUESTS));
    assert!(requests >= 2, "{requests} requests counted");
}
