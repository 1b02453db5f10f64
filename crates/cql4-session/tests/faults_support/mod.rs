//! Helpers of the fault-injection tests on the real cluster: a framed TLS proxy in front of
//! each node, a session that dials the proxies while the nodes keep their own addresses (the
//! address translator), latency figures, the process's memory.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use cql4_auth::AuthProvider;
use cql4_session::{AddressMap, ReconnectPolicy, Session, SessionConfig};
use cql4_testkit::cluster::Cluster;
use cql4_testkit::proxy::{Mode, Proxy};

/// One proxy per node of the cluster (index 0 is node 1): plain TCP in, TLS to the node.
pub async fn proxies(cluster: &Cluster) -> Vec<Proxy> {
    let node = cql4_testkit::node::node();
    let tls = node.tls();
    let mut proxies = Vec::new();
    for n in 1..=3 {
        let addr = cluster.addr(n);
        proxies.push(Proxy::start_framed_tls(&addr.ip().to_string(), addr.port(), &tls).await);
    }
    proxies
}

/// A session config whose every connection goes through `proxies`: the contact point is node
/// 1's own address and the peers' rows name theirs; the translator maps each to its proxy.
/// Plain TCP to the proxies (they speak TLS to the nodes), `auth` for the login (the password
/// when `None`), short timeouts and reconnection waits so faults show within seconds.
pub fn proxied_config(
    cluster: &Cluster,
    proxies: &[Proxy],
    auth: Option<Arc<dyn AuthProvider>>,
) -> SessionConfig {
    let node = cql4_testkit::node::node();
    let mut connection = node.password_config();
    let contact = cluster.addr(1);
    connection.host = contact.ip().to_string();
    connection.port = contact.port();
    connection.tls = None;
    if auth.is_some() {
        connection.auth = auth;
    }
    connection.connect_timeout = Duration::from_secs(2);
    connection.request_timeout = Duration::from_secs(2);
    let map: AddressMap = (1..=3)
        .map(|n| (cluster.addr(n), proxies[n - 1].addr()))
        .collect();
    let mut config = SessionConfig::new(connection).with_address_translator(Arc::new(map));
    config.reconnect = ReconnectPolicy::new(Duration::from_millis(50), Duration::from_millis(500));
    config
}

/// Sets `mode` on every proxy.
pub fn set_all(proxies: &[Proxy], mode: &Mode) {
    for p in proxies {
        p.set(mode.clone());
    }
}

/// Waits until `done` holds, polling every 10 ms; panics with `what` and the nodes' state
/// after `within`. Returns how long it took.
pub async fn wait_until(
    session: &Session,
    what: &str,
    within: Duration,
    mut done: impl FnMut(&Session) -> bool,
) -> Duration {
    let started = Instant::now();
    while !done(session) {
        assert!(
            started.elapsed() < within,
            "{what}: not within {within:?}: {:#?}",
            session.nodes()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    started.elapsed()
}

/// True when every node is up with `connections` open connections, nothing in flight and no
/// stream id held (a heartbeat holds one for a moment: callers poll).
pub fn at_rest(session: &Session, connections: usize) -> bool {
    let nodes = session.nodes();
    nodes.len() == 3
        && nodes
            .iter()
            .all(|n| n.up && n.connections == connections && n.in_flight == 0 && n.stream_ids == 0)
}

/// The node known at `addr`'s state.
pub fn node_status(session: &Session, addr: std::net::SocketAddr) -> cql4_session::NodeStatus {
    session
        .nodes()
        .into_iter()
        .find(|n| n.address == addr)
        .unwrap_or_else(|| panic!("no node {addr} in {:#?}", session.nodes()))
}

/// The process's resident memory (VmRSS), in KiB.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// Latency percentiles of a sample.
pub struct Latencies(pub Vec<Duration>);

impl Latencies {
    /// The `p`-th percentile (0–100), nearest rank; zero for an empty sample.
    pub fn percentile(&mut self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        self.0.sort_unstable();
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    /// p50, p99 and max, for the log.
    pub fn summary(&mut self) -> String {
        format!(
            "n={} p50={:?} p99={:?} max={:?}",
            self.0.len(),
            self.percentile(50.0),
            self.percentile(99.0),
            self.percentile(100.0)
        )
    }
}

/// Ends the process with a message if the test is still running after `limit`: a starved
/// runtime never fires its own timers, so a hang must be caught from a thread of its own.
/// Dropping the guard disarms it.
pub struct Watchdog(Arc<std::sync::atomic::AtomicBool>);

impl Watchdog {
    /// Arms the watchdog for the test `what`.
    pub fn arm(what: &'static str, limit: Duration) -> Self {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&done);
        std::thread::spawn(move || {
            let started = Instant::now();
            while started.elapsed() < limit {
                if flag.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            eprintln!(
                "{what}: still running after {limit:?}: hung (the runtime's timers never fired)"
            );
            std::process::exit(101);
        });
        Self(done)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Restarts node `n` when dropped while armed (a test that failed after killing it), so that
/// the tests after it find the whole cluster. Blocks the dropping thread.
pub struct RestartOnFailure<'a> {
    cluster: &'a Cluster,
    node: usize,
    armed: bool,
}

impl<'a> RestartOnFailure<'a> {
    /// Armed for node `node` (1-based).
    pub fn new(cluster: &'a Cluster, node: usize) -> Self {
        Self {
            cluster,
            node,
            armed: true,
        }
    }

    /// The test restarted the node itself.
    pub fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for RestartOnFailure<'_> {
    fn drop(&mut self) {
        if self.armed && std::thread::panicking() {
            eprintln!("restarting node {} after the failure", self.node);
            self.cluster.start_node(self.node);
        }
    }
}
