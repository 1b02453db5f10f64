//! The control connection on an emulated cluster (no real node): failover when its node
//! stops, events through the new control node, periodic refresh without events.

use std::time::{Duration, Instant};

use cql4_conn::{EventType, QueryOptions};
use cql4_frame::event::{Event, StatusChange};
use cql4_frame::opcode::Opcode;
use cql4_session::{ReconnectPolicy, Session, SessionConfig};
use cql4_testkit::emulated::EmulatedCluster;

fn config(cluster: &EmulatedCluster) -> SessionConfig {
    let mut config = SessionConfig::new(cluster.config());
    config.reconnect = ReconnectPolicy::new(Duration::from_millis(20), Duration::from_millis(200));
    config
}

async fn wait_until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < end, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn peer_queries(cluster: &EmulatedCluster, node: usize) -> usize {
    cluster
        .node(node)
        .queries()
        .iter()
        .filter(|q| q.contains("system.peers"))
        .count()
}

#[tokio::test]
async fn the_control_connection_moves_when_its_node_stops() {
    let cluster = EmulatedCluster::builder().nodes(3).start().await;
    let session = Session::connect(config(&cluster)).await.expect("session");
    wait_until("3 nodes up", Duration::from_secs(5), || {
        session.nodes().iter().filter(|n| n.up).count() == 3
    })
    .await;
    let mut events = session
        .register(&[EventType::StatusChange])
        .await
        .expect("register");
    assert_eq!(
        peer_queries(&cluster, 1),
        1,
        "node 1 (the contact point) is the control node"
    );

    cluster.node(1).stop().await;
    // The new control connection registers and reads the topology on node 2 or 3.
    wait_until(
        "topology read on another node",
        Duration::from_secs(5),
        || peer_queries(&cluster, 2) + peer_queries(&cluster, 3) > 0,
    )
    .await;
    for _ in 0..20 {
        session
            .query("SELECT * FROM ks.t", (), &QueryOptions::new())
            .await
            .expect("served by nodes 2 and 3");
    }
    // An event pushed by the cluster reaches the session through its new control connection.
    let down = Event::StatusChange {
        change: StatusChange::Down,
        address: cluster.node(1).addr(),
    };
    wait_until(
        "a registered control connection",
        Duration::from_secs(5),
        || cluster.push_event(&down) > 0,
    )
    .await;
    let got = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("event within 5 s")
        .expect("stream open")
        .expect("decoded");
    assert_eq!(got, down);
}

#[tokio::test]
async fn the_topology_is_read_again_without_events() {
    let cluster = EmulatedCluster::builder().nodes(2).start().await;
    let mut config = config(&cluster);
    config.refresh_interval = Duration::from_millis(100);
    let session = Session::connect(config).await.expect("session");
    wait_until("three refreshes", Duration::from_secs(5), || {
        peer_queries(&cluster, 1) >= 4
    })
    .await;
    assert!(
        cluster.node(2).requests_of(Opcode::REGISTER).is_empty(),
        "one control connection only"
    );
    drop(session);
}

#[tokio::test]
async fn dropping_the_session_closes_every_connection() {
    let cluster = EmulatedCluster::builder().nodes(3).start().await;
    let session = Session::connect(config(&cluster)).await.expect("session");
    wait_until("3 nodes up", Duration::from_secs(5), || {
        session.nodes().iter().filter(|n| n.up).count() == 3
    })
    .await;
    let open = || {
        cluster
            .nodes()
            .iter()
            .map(|n| n.open_connections())
            .sum::<usize>()
    };
    assert_eq!(
        open(),
        4,
        "a pool connection per node and the control connection"
    );
    let clone = session.clone();
    drop(session);
    assert_eq!(open(), 4, "a clone keeps the session");
    drop(clone);
    wait_until("every connection closed", Duration::from_secs(5), || {
        open() == 0
    })
    .await;
}
