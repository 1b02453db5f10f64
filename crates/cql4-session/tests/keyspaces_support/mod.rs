//! Helpers of the Amazon Keyspaces rule tests (`tests/keyspaces_*.rs`): sessions on an
//! emulated cluster, waiting for the session to see its nodes, and reading what the nodes
//! recorded.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cql4_conn::QueryOptions;
use cql4_frame::{Consistency, Opcode};
use cql4_session::{ReconnectPolicy, Session, SessionConfig};
use cql4_testkit::emulated::{EmulatedCluster, EmulatedNode, KEYSPACES_REJECTED_CONSISTENCIES};

/// How long a test waits for something the session does in the background.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A session config for node 1 of `cluster` (its TLS and login), refreshing the topology
/// every 100 ms (the shortest the session allows) and reconnecting within 20–200 ms.
pub fn config(cluster: &EmulatedCluster) -> SessionConfig {
    let mut config = SessionConfig::new(cluster.config());
    config.refresh_interval = Duration::from_millis(100);
    config.reconnect = ReconnectPolicy::new(Duration::from_millis(20), Duration::from_millis(200));
    config
}

/// Connects, failing the test with the session's error.
pub async fn connect(config: SessionConfig) -> Session {
    Session::connect(config)
        .await
        .unwrap_or_else(|e| panic!("the session connects: {e}"))
}

/// Polls `done` every 10 ms until it holds; fails the test after [`PATIENCE`].
pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < end, "not within {PATIENCE:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until the session knows `n` nodes and each has an open connection.
pub async fn wait_all_up(session: &Session, n: usize) {
    let end = Instant::now() + PATIENCE;
    loop {
        let nodes = session.nodes();
        if nodes.len() == n && nodes.iter().all(|s| s.up) {
            return;
        }
        assert!(
            Instant::now() < end,
            "{n} nodes up not within {PATIENCE:?}: {nodes:#?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The addresses the session dials, sorted.
pub fn session_addresses(session: &Session) -> Vec<SocketAddr> {
    let mut a: Vec<SocketAddr> = session.nodes().iter().map(|n| n.address).collect();
    a.sort();
    a
}

/// The addresses of nodes `numbers` of `cluster`, sorted.
pub fn node_addresses(cluster: &EmulatedCluster, numbers: &[usize]) -> Vec<SocketAddr> {
    let mut a: Vec<SocketAddr> = numbers.iter().map(|n| cluster.node(*n).addr()).collect();
    a.sort();
    a
}

/// QUERY requests of `node` whose CQL is `cql`.
pub fn queries_of(node: &EmulatedNode, cql: &str) -> usize {
    node.requests_of(Opcode::QUERY)
        .iter()
        .filter(|r| r.cql.as_deref() == Some(cql))
        .count()
}

/// QUERY requests of every node of `cluster` whose CQL is `cql`.
pub fn cluster_queries_of(cluster: &EmulatedCluster, cql: &str) -> usize {
    cluster.nodes().iter().map(|n| queries_of(n, cql)).sum()
}

/// EXECUTE requests of `node` that ran `cql` (an EXECUTE answered UNPREPARED names no CQL).
pub fn executions_of(node: &EmulatedNode, cql: &str) -> usize {
    node.requests_of(Opcode::EXECUTE)
        .iter()
        .filter(|r| r.cql.as_deref() == Some(cql))
        .count()
}

/// The `SELECT * FROM system.local` reads of the control connection's node so far: one per
/// topology read.
pub fn topology_reads(node: &EmulatedNode) -> usize {
    queries_of(node, "SELECT * FROM system.local")
}

/// Waits until node `number` served `reads` more topology reads than it had.
pub async fn wait_refreshes(cluster: &EmulatedCluster, number: usize, reads: usize) {
    let start = topology_reads(cluster.node(number));
    until(
        &format!("{reads} topology refreshes on node {number}"),
        || topology_reads(cluster.node(number)) >= start + reads,
    )
    .await;
}

/// Fails the test when any node received a request at a level Amazon Keyspaces rejects.
pub fn assert_no_rejected_consistency(cluster: &EmulatedCluster) {
    for level in KEYSPACES_REJECTED_CONSISTENCIES {
        let seen = cluster.requests_at(*level);
        assert!(
            seen.is_empty(),
            "requests at {level:?}: {:?}",
            seen.iter().map(|r| &r.cql).collect::<Vec<_>>()
        );
    }
}

/// Fails the test when a statement on a `system*` keyspace was prepared anywhere.
pub fn assert_no_system_prepare(cluster: &EmulatedCluster) {
    let system: Vec<Option<String>> = cluster
        .requests_of(Opcode::PREPARE)
        .into_iter()
        .map(|r| r.cql)
        .filter(|q| q.as_deref().is_none_or(|q| q.contains("system")))
        .collect();
    assert!(system.is_empty(), "system statements prepared: {system:?}");
}

/// Runs `SELECT v FROM ks.t WHERE k = i` for `i` in `0..count` through the session at
/// LOCAL_ONE and checks every answer (the table holds `v = "v<k>"` for k below 10).
pub async fn read_keys(session: &Session, count: usize) {
    let options = QueryOptions::new().with_consistency(Consistency::LOCAL_ONE);
    for i in 0..count {
        let k = i % 10;
        let cql = format!("SELECT v FROM ks.t WHERE k = {k}");
        let result = session
            .query(&cql, (), &options)
            .await
            .unwrap_or_else(|e| panic!("{cql}: {e}"));
        let rows = result.rows().expect("rows");
        assert_eq!(rows.len(), 1, "{cql}");
        let v: &str = rows.row(0).expect("a row").get(0).expect("v is text");
        assert_eq!(v, format!("v{k}"));
    }
}

/// The QUERY requests `SELECT v FROM ks.t WHERE k = …` of `node` (what [`read_keys`] sends).
pub fn key_reads(node: &EmulatedNode) -> usize {
    node.requests_of(Opcode::QUERY)
        .iter()
        .filter(|r| {
            r.cql
                .as_deref()
                .is_some_and(|q| q.starts_with("SELECT v FROM ks.t WHERE k = "))
        })
        .count()
}

/// [`key_reads`] of nodes 1, 2, … of `cluster`.
pub fn key_reads_per_node(cluster: &EmulatedCluster) -> Vec<usize> {
    cluster.nodes().iter().map(key_reads).collect()
}
