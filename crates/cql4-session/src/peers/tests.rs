use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;

fn id(n: u8) -> Option<[u8; 16]> {
    Some([n; 16])
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP address")
}

fn sock(s: &str) -> SocketAddr {
    s.parse().expect("a socket address")
}

fn local(host: u8) -> LocalRow {
    LocalRow {
        host_id: id(host),
        rpc_address: Some(ip("127.0.0.1")),
        datacenter: Some("us-east-1".into()),
        rack: Some("us-east-1".into()),
        tokens: vec!["0".into()],
        release_version: Some("3.11.2".into()),
        partitioner: Some("com.amazonaws.cassandra.DefaultPartitioner".into()),
    }
}

fn peer(host: u8, rpc: &str) -> PeerRow {
    PeerRow {
        peer: Some(ip("10.9.9.9")),
        rpc_address: Some(ip(rpc)),
        host_id: id(host),
        datacenter: Some("us-east-1".into()),
        rack: Some("us-east-1".into()),
        tokens: vec![],
        ..PeerRow::default()
    }
}

fn addresses(c: &ClusterInfo) -> Vec<SocketAddr> {
    c.nodes.iter().map(|n| n.address).collect()
}

fn reasons(c: &ClusterInfo) -> Vec<IgnoredReason> {
    c.ignored.iter().map(|i| i.reason).collect()
}

#[test]
fn control_node_is_dialed_at_the_contact_address_not_rpc_address() {
    let c = ClusterInfo::new(sock("10.0.0.5:9142"), local(1), []);
    assert_eq!(addresses(&c), vec![sock("10.0.0.5:9142")]);
    assert_eq!(c.nodes[0].host_id, id(1));
    assert_eq!(c.nodes[0].release_version.as_deref(), Some("3.11.2"));
    assert_eq!(
        c.partitioner.as_deref(),
        Some("com.amazonaws.cassandra.DefaultPartitioner")
    );
}

/// The Keyspaces VPC endpoint case (gocql #1873): system.local says 127.0.0.1 and the control
/// node is listed again among its peers with the same host_id.
#[test]
fn control_node_among_its_own_peers_is_ignored() {
    let c = ClusterInfo::new(
        sock("10.0.0.5:9142"),
        local(1),
        [
            peer(1, "10.0.0.5"),
            peer(2, "10.0.0.6"),
            peer(3, "10.0.0.5"),
        ],
    );
    assert_eq!(
        addresses(&c),
        vec![sock("10.0.0.5:9142"), sock("10.0.0.6:9142")]
    );
    assert_eq!(
        reasons(&c),
        vec![IgnoredReason::ControlNode, IgnoredReason::ControlNode]
    );
}

#[test]
fn peers_are_deduplicated_by_host_id_and_address() {
    let c = ClusterInfo::new(
        sock("10.0.0.5:9142"),
        local(1),
        [
            peer(2, "10.0.0.6"),
            peer(2, "10.0.0.7"),
            peer(3, "10.0.0.6"),
            peer(4, "10.0.0.8"),
        ],
    );
    assert_eq!(
        addresses(&c),
        vec![
            sock("10.0.0.5:9142"),
            sock("10.0.0.6:9142"),
            sock("10.0.0.8:9142")
        ]
    );
    assert_eq!(
        reasons(&c),
        vec![
            IgnoredReason::DuplicateHostId,
            IgnoredReason::DuplicateAddress
        ]
    );
}

#[test]
fn loopback_peers_only_for_a_loopback_contact() {
    let rows = || {
        [
            peer(2, "127.0.0.1"),
            peer(3, "::1"),
            peer(4, "::ffff:127.0.0.2"),
        ]
    };
    let remote = ClusterInfo::new(sock("10.0.0.5:9142"), local(1), rows());
    assert_eq!(addresses(&remote), vec![sock("10.0.0.5:9142")]);
    assert_eq!(reasons(&remote), vec![IgnoredReason::Loopback; 3]);

    // A local test cluster: 127.0.0.1 is the contact, its peers are other loopback addresses.
    let local_cluster = ClusterInfo::new(sock("127.0.0.1:9042"), local(1), rows());
    assert_eq!(
        addresses(&local_cluster),
        vec![
            sock("127.0.0.1:9042"),
            sock("[::1]:9042"),
            sock("[::ffff:127.0.0.2]:9042")
        ]
    );
    // The row for 127.0.0.1 is the contact's own address.
    assert_eq!(reasons(&local_cluster), vec![IgnoredReason::ControlNode]);
}

#[test]
fn unspecified_rpc_address_falls_back_to_peer() {
    let mut any_v4 = peer(2, "0.0.0.0");
    any_v4.peer = Some(ip("10.0.0.6"));
    let mut any_v6 = peer(3, "::");
    any_v6.peer = Some(ip("fd00::7"));
    let mut absent = peer(4, "0.0.0.0");
    absent.rpc_address = None;
    absent.peer = Some(ip("10.0.0.8"));
    let mut nothing = peer(5, "0.0.0.0");
    nothing.peer = Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let c = ClusterInfo::new(
        sock("10.0.0.5:9142"),
        local(1),
        [any_v4, any_v6, absent, nothing],
    );
    assert_eq!(
        addresses(&c),
        vec![
            sock("10.0.0.5:9142"),
            sock("10.0.0.6:9142"),
            sock("[fd00::7]:9142"),
            sock("10.0.0.8:9142")
        ]
    );
    assert_eq!(reasons(&c), vec![IgnoredReason::NoAddress]);
}

#[test]
fn ipv6_contact_and_peers() {
    let c = ClusterInfo::new(
        sock("[2600:1f18::1]:9142"),
        local(1),
        [peer(2, "2600:1f18::2"), peer(3, "2600:1f18::1")],
    );
    assert_eq!(
        addresses(&c),
        vec![sock("[2600:1f18::1]:9142"), sock("[2600:1f18::2]:9142")]
    );
    assert_eq!(reasons(&c), vec![IgnoredReason::ControlNode]);
    assert_eq!(
        c.nodes[1].address.ip(),
        IpAddr::V6(Ipv6Addr::new(0x2600, 0x1f18, 0, 0, 0, 0, 0, 2))
    );
}

#[test]
fn peers_v2_native_port_is_used() {
    let mut p = peer(2, "10.0.0.6");
    p.native_port = Some(19042);
    let mut zero = peer(3, "10.0.0.7");
    zero.native_port = Some(0);
    let c = ClusterInfo::new(sock("10.0.0.5:9142"), local(1), [p, zero]);
    assert_eq!(
        addresses(&c),
        vec![
            sock("10.0.0.5:9142"),
            sock("10.0.0.6:19042"),
            sock("10.0.0.7:9142")
        ]
    );
}

#[test]
fn zero_peers_or_rows_without_host_id() {
    let c = ClusterInfo::new(sock("10.0.0.5:9142"), LocalRow::default(), []);
    assert_eq!(addresses(&c), vec![sock("10.0.0.5:9142")]);
    assert_eq!(c.nodes[0].host_id, None);
    assert_eq!(c.partitioner, None);

    let mut no_id = peer(2, "10.0.0.6");
    no_id.host_id = None;
    let c = ClusterInfo::new(sock("10.0.0.5:9142"), local(1), [no_id]);
    assert_eq!(c.nodes.len(), 1);
    assert_eq!(reasons(&c), vec![IgnoredReason::NoHostId]);
}

#[test]
fn nine_keyspaces_style_peers() {
    let rows: Vec<PeerRow> = (0..9u8)
        .map(|i| peer(10 + i, &format!("3.218.0.{i}")))
        .collect();
    let c = ClusterInfo::new(sock("3.218.0.200:9142"), local(1), rows);
    assert_eq!(c.nodes.len(), 10);
    assert!(c.ignored.is_empty());
    assert!(c.nodes.iter().skip(1).all(|n| n.address.port() == 9142));
}
