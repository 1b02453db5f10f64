//! Helpers of the real-cluster tests: the cluster from the `CQL4_TEST_*` variables, sessions
//! on it, schema changes that wait for agreement.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use cql4_conn::QueryOptions;
use cql4_frame::Consistency;
use cql4_session::{Session, SessionConfig};

/// A session config for the test cluster, logged in with the password, contact point node 1.
pub fn config() -> SessionConfig {
    let node = cql4_testkit::node::node();
    let mut connection = node.password_config();
    connection.request_timeout = Duration::from_secs(20);
    SessionConfig::new(connection)
}

/// Every node's address, as the harness exported them.
pub fn node_addresses() -> Vec<String> {
    let nodes = cql4_testkit::node::node().nodes;
    assert!(
        nodes.len() >= 3,
        "the cluster tests need the 3-node cluster of `cargo xtask test` (CQL4_TEST_NODES = {nodes:?})"
    );
    nodes
}

/// Waits until `n` nodes are up with at least one connection each.
pub async fn wait_up(session: &Session, n: usize, within: Duration) {
    let end = Instant::now() + within;
    loop {
        let up = session.nodes().iter().filter(|s| s.up).count();
        if up >= n {
            return;
        }
        assert!(
            Instant::now() < end,
            "{up} of {n} nodes up after {within:?}: {:#?}",
            session.nodes()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs a schema change on node 1, then waits until every node reports the same schema
/// version as node 1 (its `system.local` and `system.peers_v2` cover them all; running the
/// change elsewhere could show agreement on the old version before gossip carries the new).
pub async fn schema(_session: &Session, cql: &str) {
    let session = cql4_conn::Client::connect(&cql4_testkit::node::node().password_config())
        .await
        .expect("connection to node 1");
    session
        .query(cql, (), &QueryOptions::new())
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"));
    let one = QueryOptions::new().with_consistency(Consistency::ONE);
    for _ in 0..150 {
        let mut versions = Vec::new();
        for table in ["system.local", "system.peers_v2"] {
            let r = session
                .query(&format!("SELECT schema_version FROM {table}"), (), &one)
                .await
                .unwrap_or_else(|e| panic!("{table}: {e}"));
            for row in r.rows().expect("rows").iter() {
                versions.push(row.get::<Option<[u8; 16]>>(0).expect("schema_version"));
            }
        }
        if versions.windows(2).all(|w| w[0] == w[1]) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no schema agreement 30 s after {cql}");
}

/// A keyspace name unique to this test run.
pub fn keyspace(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}_{}_{nanos}", std::process::id())
}
