//! Amazon Keyspaces' emulated `system.local` / `system.peers`, each quirk alone on a small
//! emulated cluster, through `Session`: which nodes the session dials (docs/keyspaces.md,
//! "Topology").

mod keyspaces_support;

use std::net::IpAddr;

use cql4_testkit::emulated::{non_loopback_ip, EmulatedCluster};
use keyspaces_support::*;

/// Over a VPC endpoint every node's `system.local.rpc_address` reads 127.0.0.1 (a trap that
/// counts dials here). The contact point is loopback too (127.0.0.2), so only addressing the
/// control node by the socket address used keeps the session off 127.0.0.1.
#[tokio::test]
async fn control_node_is_the_socket_address_used_never_local_rpc_address() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .local_rpc_address_loopback()
        .start()
        .await;
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 3).await;
    assert_eq!(
        session_addresses(&session),
        node_addresses(&cluster, &[1, 2, 3])
    );
    let control = session
        .nodes()
        .into_iter()
        .find(|n| n.host_id == Some(cluster.node(1).spec().host_id))
        .expect("the control node");
    assert_eq!(control.address, cluster.node(1).addr());
    read_keys(&session, 30).await;
    assert_eq!(key_reads_per_node(&cluster), [10, 10, 10]);
    // Refreshes read 127.0.0.1 again and again: still no dial.
    wait_refreshes(&cluster, 1, 3).await;
    read_keys(&session, 3).await;
    assert_eq!(cluster.trap_connections(), 0, "127.0.0.1 was dialed");
    assert!(cluster.failures().is_empty(), "{:?}", cluster.failures());
}

/// Every node lists itself in its own `system.peers`: the control node's row is ignored.
#[tokio::test]
async fn a_peer_row_for_the_control_node_is_ignored() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .self_in_peers()
        .start()
        .await;
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 3).await;
    wait_refreshes(&cluster, 1, 2).await;
    let nodes = session.nodes();
    assert_eq!(nodes.len(), 3, "{nodes:#?}");
    assert_eq!(
        session_addresses(&session),
        node_addresses(&cluster, &[1, 2, 3])
    );
    let mut ids: Vec<[u8; 16]> = nodes.iter().filter_map(|n| n.host_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "each host_id once");
    assert!(
        nodes.iter().all(|n| n.connections == 1),
        "one pool per node: {nodes:#?}"
    );
    assert_eq!(
        cluster.node(1).connections(),
        2,
        "the control connection and one pool connection"
    );
}

/// Every peer row comes twice, the copy at 127.0.0.1 with the same `host_id`: de-duplication
/// by `host_id` (not by address; the contact point is loopback, so the loopback rule does not
/// apply) keeps each node once and 127.0.0.1 undialed.
#[tokio::test]
async fn peers_are_deduplicated_by_host_id() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .self_in_peers()
        .duplicate_peer_rows()
        .start()
        .await;
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 3).await;
    wait_refreshes(&cluster, 1, 2).await;
    assert_eq!(
        session_addresses(&session),
        node_addresses(&cluster, &[1, 2, 3])
    );
    for n in 1..=3 {
        let id = cluster.node(n).spec().host_id;
        let with_id = session
            .nodes()
            .iter()
            .filter(|s| s.host_id == Some(id))
            .count();
        assert_eq!(with_id, 1, "node {n} listed once");
    }
    read_keys(&session, 9).await;
    assert_eq!(key_reads_per_node(&cluster), [3, 3, 3]);
    assert_eq!(
        cluster.trap_connections(),
        0,
        "a duplicate row's 127.0.0.1 was dialed"
    );
}

/// Node 1 listens on this machine's non-loopback address; its peers (nodes 2 and 3) on
/// 127.0.0.x. From node 1 the loopback peers are not dialed; from node 2 (a loopback contact
/// point) they are the cluster.
#[tokio::test]
async fn loopback_peers_are_dialed_only_from_a_loopback_contact_point() {
    let ip = non_loopback_ip().expect(
        "this test needs a non-loopback IPv4 address on this machine (the one of its default \
         route) for node 1 of the emulated cluster; none was found",
    );
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .loopback_peers()
        .start()
        .await;
    assert_eq!(cluster.node(1).addr().ip(), ip);
    assert!(!ip.is_loopback());
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 1).await;
    wait_refreshes(&cluster, 1, 3).await;
    assert_eq!(session_addresses(&session), [cluster.node(1).addr()]);
    read_keys(&session, 5).await;
    assert_eq!(key_reads_per_node(&cluster), [5, 0, 0]);
    for n in [2, 3] {
        assert_eq!(
            cluster.node(n).connections(),
            0,
            "loopback node {n} was dialed"
        );
    }
    drop(session);

    let mut from_loopback = config(&cluster);
    from_loopback.connection = cluster.config_for(2);
    let session = connect(from_loopback).await;
    wait_all_up(&session, 3).await;
    assert_eq!(
        session_addresses(&session),
        node_addresses(&cluster, &[1, 2, 3])
    );
    let ips: Vec<IpAddr> = session.nodes().iter().map(|n| n.address.ip()).collect();
    assert!(ips.contains(&ip));
}

/// A VPC endpoint whose IAM identity cannot list its network interfaces shows no peers: the
/// contact point alone is the cluster, and requests work.
#[tokio::test]
async fn zero_peers_is_a_working_one_node_cluster() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .visible_peers(0)
        .start()
        .await;
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 1).await;
    wait_refreshes(&cluster, 1, 2).await;
    assert_eq!(session_addresses(&session), [cluster.node(1).addr()]);
    read_keys(&session, 6).await;
    assert_eq!(key_reads_per_node(&cluster), [6, 0, 0]);
    assert_eq!(
        cluster.node(2).connections() + cluster.node(3).connections(),
        0
    );
}

/// One peer: a two-node cluster, round robin over both.
#[tokio::test]
async fn one_peer_is_a_working_two_node_cluster() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .visible_peers(1)
        .start()
        .await;
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 2).await;
    wait_refreshes(&cluster, 1, 2).await;
    assert_eq!(
        session_addresses(&session),
        node_addresses(&cluster, &[1, 2])
    );
    read_keys(&session, 6).await;
    assert_eq!(key_reads_per_node(&cluster), [3, 3, 0]);
    assert_eq!(cluster.node(3).connections(), 0);
}

/// No `system.peers_v2` (Cassandra 3.11, Keyspaces): `system.peers` is read, and v2 is asked
/// once per session, not at every refresh.
#[tokio::test]
async fn without_peers_v2_peers_is_read_and_v2_is_not_asked_again() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .no_peers_v2()
        .start()
        .await;
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 3).await;
    wait_refreshes(&cluster, 1, 4).await;
    assert_eq!(
        session_addresses(&session),
        node_addresses(&cluster, &[1, 2, 3])
    );
    assert_eq!(
        cluster_queries_of(&cluster, "SELECT * FROM system.peers_v2"),
        1
    );
    assert!(queries_of(cluster.node(1), "SELECT * FROM system.peers") >= 5);
    // With peers_v2 present, peers is never read: the test above can tell the two apart.
    let plain = EmulatedCluster::builder().nodes(2).start().await;
    let session = connect(config(&plain)).await;
    wait_refreshes(&plain, 1, 2).await;
    assert_eq!(cluster_queries_of(&plain, "SELECT * FROM system.peers"), 0);
    assert!(cluster_queries_of(&plain, "SELECT * FROM system.peers_v2") >= 3);
    drop(session);
}

/// The control node stops: the control connection moves to another node, whose tables show
/// the same VPC oddities (its `rpc_address` 127.0.0.1, itself among its peers, no
/// `peers_v2`); the new control node is known by its socket address too, the stopped node stays
/// listed but gets no requests, and it is used again once it is back.
#[tokio::test]
async fn after_the_control_node_stops_the_next_one_is_read_by_the_same_rules() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .local_rpc_address_loopback()
        .self_in_peers()
        .no_peers_v2()
        .keyspaces_tokens()
        .start()
        .await;
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 3).await;
    let first = cluster.node(1).addr();
    cluster.node(1).stop().await;
    until("the session sees node 1 down", || {
        session.nodes().iter().any(|n| n.address == first && !n.up)
    })
    .await;
    until("another node serves the topology reads", || {
        topology_reads(cluster.node(2)) + topology_reads(cluster.node(3)) >= 3
    })
    .await;
    assert_eq!(
        session_addresses(&session),
        node_addresses(&cluster, &[1, 2, 3])
    );
    let before = key_reads_per_node(&cluster);
    read_keys(&session, 10).await;
    let after = key_reads_per_node(&cluster);
    assert_eq!(after[0], before[0], "the stopped node got requests");
    assert_eq!(cluster.trap_connections(), 0, "127.0.0.1 was dialed");
    assert_eq!(
        cluster_queries_of(&cluster, "SELECT * FROM system.peers_v2"),
        1
    );

    cluster.node(1).start().await;
    wait_all_up(&session, 3).await;
    let before = key_reads_per_node(&cluster);
    read_keys(&session, 30).await;
    let after = key_reads_per_node(&cluster);
    assert_eq!(after[0] - before[0], 10);
    assert_eq!(cluster.trap_connections(), 0);
}
