//! The `metrics` feature: the connection's counters, gauges and histogram move as requests are
//! answered, time out, leave orphans and connections close; the functions the session calls
//! record under their documented names and labels. Against the kit's fake server, with
//! metrics-util's debugging recorder installed for this binary.
#![cfg(feature = "metrics")]

use std::collections::HashMap;
use std::time::Duration;

use cql4_conn::{metrics, Client, QueryOptions};
use cql4_frame::Opcode;
use cql4_testkit::frames;
use cql4_testkit::server::FakeServer;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// What the recorder saw, summed over snapshots (the debugging recorder resets counters and
/// gauges at each snapshot; this crate only ever adds to or subtracts from its gauges).
struct Seen {
    snapshotter: Snapshotter,
    values: HashMap<String, f64>,
    samples: HashMap<String, Vec<f64>>,
}

impl Seen {
    fn update(&mut self) {
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let key = key.key();
            let mut labels: Vec<_> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            let name = format!("{}{{{}}}", key.name(), labels.join(","));
            match value {
                DebugValue::Counter(n) => *self.values.entry(name).or_default() += n as f64,
                DebugValue::Gauge(g) => *self.values.entry(name).or_default() += g.into_inner(),
                DebugValue::Histogram(h) => self
                    .samples
                    .entry(name)
                    .or_default()
                    .extend(h.into_iter().map(|v| v.into_inner())),
            }
        }
    }

    fn get(&mut self, name: &str) -> f64 {
        self.update();
        self.values.get(name).copied().unwrap_or(0.0)
    }

    /// Polls until `name` reads `want` (the I/O task records after its turn).
    async fn wait_for(&mut self, name: &str, want: f64) {
        for _ in 0..1000 {
            if self.get(name) == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!(
            "{name} = {}, expected {want}; seen {:?}",
            self.get(name),
            self.values
        );
    }
}

#[tokio::test]
async fn connection_metrics_move_with_requests_timeouts_orphans_and_closes() {
    let recorder = DebuggingRecorder::new();
    let mut seen = Seen {
        snapshotter: recorder.snapshotter(),
        values: HashMap::new(),
        samples: HashMap::new(),
    };
    recorder
        .install()
        .expect("the only recorder of this binary");
    metrics::describe();

    let server = FakeServer::start().await;
    let mut config = server.config();
    config.heartbeat_interval = None;
    let node = config.address();
    let connect = tokio::spawn(async move { Client::connect(&config).await });
    let mut peer = server.accept().await;
    peer.handshake().await;
    let client = connect.await.expect("join").expect("connect");
    let m = |name: &str| format!("{name}{{node={node}}}");
    seen.wait_for(&m(metrics::CONNECTIONS), 1.0).await;

    // Answered: counted, its latency recorded.
    let c = client.clone();
    let q = tokio::spawn(async move { c.query("SELECT 1", (), &QueryOptions::new()).await });
    let s = peer.expect(Opcode::QUERY).await;
    seen.wait_for(&m(metrics::IN_FLIGHT), 1.0).await;
    peer.respond(s, frames::void()).await;
    q.await.expect("join").expect("answered");
    assert_eq!(seen.get(&m(metrics::REQUESTS)), 1.0);
    assert_eq!(
        seen.samples.get(&m(metrics::DURATION)).map(Vec::len),
        Some(1)
    );
    seen.wait_for(&m(metrics::IN_FLIGHT), 0.0).await;

    // Timed out: counted, its stream id orphaned until the late answer.
    let options = QueryOptions::new().with_timeout(Duration::from_millis(50));
    let c = client.clone();
    let q = tokio::spawn(async move { c.query("SELECT 2", (), &options).await });
    let s = peer.expect(Opcode::QUERY).await;
    assert!(q.await.expect("join").expect_err("no answer").is_timeout());
    assert_eq!(seen.get(&m(metrics::TIMEOUTS)), 1.0);
    seen.wait_for(&m(metrics::ORPHANED), 1.0).await;
    peer.respond(s, frames::void()).await;
    seen.wait_for(&m(metrics::ORPHANED), 0.0).await;
    seen.wait_for(&m(metrics::IN_FLIGHT), 0.0).await;
    assert_eq!(seen.get(&m(metrics::REQUESTS)), 2.0);

    // The server goes: the connection's gauge comes back to zero.
    drop(peer);
    drop(server);
    seen.wait_for(&m(metrics::CONNECTIONS), 0.0).await;
    drop(client);

    // The functions the session calls.
    metrics::retry(&node, "write_timeout");
    metrics::speculative(&node);
    metrics::error("overloaded");
    metrics::connection_opened(&node);
    metrics::connection_closed(&node);
    metrics::reconnection(&node);
    let retry = format!("{}{{node={node},reason=write_timeout}}", metrics::RETRIES);
    assert_eq!(seen.get(&retry), 1.0);
    assert_eq!(seen.get(&m(metrics::SPECULATIVE)), 1.0);
    assert_eq!(
        seen.get(&format!("{}{{kind=overloaded}}", metrics::ERRORS)),
        1.0
    );
    assert_eq!(seen.get(&m(metrics::OPENED)), 1.0);
    assert_eq!(seen.get(&m(metrics::CLOSED)), 1.0);
    assert_eq!(seen.get(&m(metrics::RECONNECTIONS)), 1.0);
    // No label carries a statement.
    assert!(
        seen.values.keys().all(|k| !k.contains("SELECT")),
        "{:?}",
        seen.values
    );
}
