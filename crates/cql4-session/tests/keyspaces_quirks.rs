//! Every Amazon Keyspaces VPC quirk at once (`keyspaces_vpc_quirks`), with its TLS
//! certificates, its authenticator class and the session's Keyspaces pool defaults: what an
//! application sees through `Session` (docs/keyspaces.md; each rule alone is in
//! `keyspaces_topology.rs`, `keyspaces_requests.rs` and `keyspaces_tls_auth.rs`).

mod keyspaces_support;

use cql4_conn::QueryOptions;
use cql4_frame::value::CqlValue;
use cql4_frame::Opcode;
use cql4_testkit::emulated::{EmulatedCluster, Login, HELENUS_AUTHENTICATOR};
use futures_util::StreamExt;
use keyspaces_support::*;

const ENDPOINT: &str = "cassandra.us-east-1.amazonaws.com";

#[tokio::test]
async fn a_session_works_on_a_cluster_with_every_keyspaces_vpc_quirk() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .keyspaces_vpc_quirks()
        .tls_host_name(ENDPOINT)
        .authenticator(HELENUS_AUTHENTICATOR)
        .credentials("alice", "s3cret")
        .start()
        .await;
    let mut config = config(&cluster);
    // Dialed by IP (127.0.0.2) with the endpoint's name as TLS server name: the Keyspaces
    // defaults must be asked for.
    config.keyspaces = Some(true);
    let session = connect(config).await;
    until("3 nodes with 3 connections each", || {
        let nodes = session.nodes();
        nodes.len() == 3 && nodes.iter().all(|n| n.up && n.connections == 3)
    })
    .await;
    assert_eq!(
        session_addresses(&session),
        node_addresses(&cluster, &[1, 2, 3])
    );
    assert_eq!(session.local_datacenter(), Some("us-east-1"));
    assert!(!session.has_token_map());

    session.use_keyspace("ks").await.expect("USE ks");
    let options = QueryOptions::new().with_page_size(3);
    let mut rows = session.query_rows("SELECT k, v FROM t", (), &options);
    let mut keys = Vec::new();
    while let Some(row) = rows.next().await {
        keys.push(row.expect("a row").get::<i32>(0).expect("k"));
    }
    assert_eq!(keys, (0..10).collect::<Vec<_>>());

    let cql = "SELECT v FROM t WHERE k = ?";
    let statement = session
        .prepare(cql)
        .await
        .expect("a user statement prepares");
    for k in 0..9 {
        let values = [Some(CqlValue::Int(k))];
        // Even one row comes after an empty first page here: stream it.
        let mut rows = session.execute_rows(&statement, values, &QueryOptions::new());
        let row = rows.next().await.expect("one row").expect("a row");
        assert_eq!(row.get::<&str>(0).expect("v"), format!("v{k}"));
        assert!(rows.next().await.is_none());
    }
    for node in cluster.nodes() {
        assert!(
            executions_of(node, cql) >= 3,
            "round robin: node {}",
            node.number()
        );
    }
    wait_refreshes(&cluster, 1, 3).await;

    assert_eq!(cluster.trap_connections(), 0, "127.0.0.1 was dialed");
    assert_no_rejected_consistency(&cluster);
    assert_no_system_prepare(&cluster);
    assert!(cluster
        .requests_of(Opcode::PREPARE)
        .iter()
        .all(|r| r.cql.as_deref() == Some(cql)));
    assert_eq!(
        cluster_queries_of(&cluster, "SELECT * FROM system.peers_v2"),
        1
    );
    let alice = Login::Plain {
        username: "alice".into(),
    };
    for node in cluster.nodes() {
        let logins = node.logins();
        assert!(
            logins.len() >= 3 && logins.iter().all(|l| *l == alice),
            "{logins:?}"
        );
    }
    assert!(cluster.failures().is_empty(), "{:?}", cluster.failures());
}
