//! The emulated tables read by cql4-topology's `ClusterInfo` and `Topology`, the rules the
//! session will apply: each quirk produces the rows those rules were written against.

use std::net::SocketAddr;

use cql4_conn::{Client, QueryOptions};
use cql4_frame::rows::Rows;
use cql4_topology::{ClusterInfo, IgnoredReason, ReplicationStrategy, Topology};

use super::*;

async fn rows(client: &Client, cql: &str) -> Rows {
    client
        .query(cql, (), &QueryOptions::new())
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"))
        .into_rows()
        .expect("rows")
}

/// What a control connection to node `number` learns.
async fn discover(cluster: &EmulatedCluster, number: usize) -> ClusterInfo {
    let client = Client::connect(&cluster.config_for(number))
        .await
        .expect("connected");
    let local = rows(&client, "SELECT * FROM system.local WHERE key = 'local'").await;
    let peers = rows(&client, "SELECT * FROM system.peers").await;
    ClusterInfo::from_rows(cluster.node(number).addr(), &local, &peers)
}

fn addresses(info: &ClusterInfo) -> Vec<SocketAddr> {
    info.nodes.iter().map(|n| n.address).collect()
}

fn reasons(info: &ClusterInfo) -> Vec<IgnoredReason> {
    info.ignored.iter().map(|i| i.reason).collect()
}

fn all_addresses(cluster: &EmulatedCluster) -> Vec<SocketAddr> {
    cluster.nodes().iter().map(EmulatedNode::addr).collect()
}

#[tokio::test]
async fn a_cassandra_like_cluster_gives_every_node_and_a_token_map() {
    let cluster = EmulatedCluster::builder().nodes(3).start().await;
    let info = discover(&cluster, 1).await;
    assert_eq!(addresses(&info), all_addresses(&cluster));
    assert!(info.ignored.is_empty());
    assert_eq!(info.partitioner.as_deref(), Some(MURMUR3_PARTITIONER));
    let simple = ReplicationStrategy::Simple {
        replication_factor: 1,
    };
    let topology = Topology::new(info, [("ks".to_owned(), simple)]);
    assert_eq!(topology.token_ring().map(|r| r.len()), Some(12));
    let replicas = topology
        .replicas("ks", &3i32.to_be_bytes())
        .expect("replicas");
    assert_eq!(replicas.len(), 1);
}

#[tokio::test]
async fn the_vpc_quirks_give_the_contact_point_and_the_real_peers() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .keyspaces_vpc_quirks()
        .duplicate_peer_rows()
        .start()
        .await;
    let info = discover(&cluster, 2).await;
    let want = [2, 1, 3].map(|n| cluster.node(n).addr());
    assert_eq!(addresses(&info), want);
    assert_eq!(
        reasons(&info),
        [
            IgnoredReason::ControlNode,
            IgnoredReason::ControlNode,
            IgnoredReason::DuplicateHostId,
            IgnoredReason::DuplicateHostId,
        ]
    );
    assert_eq!(info.partitioner.as_deref(), Some(KEYSPACES_PARTITIONER));
    let topology = Topology::new(info, []);
    assert!(topology.token_ring().is_none(), "no token map: round robin");
}

#[tokio::test]
async fn zero_visible_peers_is_a_one_node_cluster() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .visible_peers(0)
        .start()
        .await;
    let info = discover(&cluster, 1).await;
    assert_eq!(addresses(&info), [cluster.node(1).addr()]);
}

#[tokio::test]
async fn loopback_peers_are_ignored_from_a_non_loopback_contact_point() {
    if non_loopback_ip().is_none() {
        eprintln!("skipped: this machine has no non-loopback address");
        return;
    }
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .loopback_peers()
        .start()
        .await;
    let info = discover(&cluster, 1).await;
    assert_eq!(addresses(&info), [cluster.node(1).addr()]);
    assert_eq!(
        reasons(&info),
        [IgnoredReason::Loopback, IgnoredReason::Loopback]
    );
    // From a loopback contact point (node 2), the loopback peers are the cluster.
    let info = discover(&cluster, 2).await;
    assert_eq!(addresses(&info).len(), 3);
}
