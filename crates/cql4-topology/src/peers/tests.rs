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

mod from_rows {
    use bytes::Bytes;
    use cql4_frame::rows::{ColumnSpec, ResultMetadata, Rows, TableSpec};
    use cql4_frame::types::ColumnType;
    use cql4_frame::value::CqlValue;
    use cql4_frame::{DecodeLimits, Reader};

    use super::*;

    /// A Rows page as the server would send it, decoded by the codec.
    fn page(table: &str, columns: &[(&str, ColumnType)], rows: &[Vec<Option<CqlValue>>]) -> Rows {
        let metadata = ResultMetadata::new(
            Some(TableSpec {
                keyspace: "system".into(),
                table: table.into(),
            }),
            columns
                .iter()
                .map(|(name, ty)| ColumnSpec::new(*name, ty.clone()))
                .collect(),
        );
        let mut body = Vec::new();
        metadata
            .encode(&mut cql4_frame::Writer::new(&mut body))
            .expect("encodes");
        body.extend_from_slice(&i32::try_from(rows.len()).expect("few rows").to_be_bytes());
        for row in rows {
            for (value, (_, ty)) in row.iter().zip(columns) {
                match value {
                    None => body.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(v) => {
                        let mut cell = Vec::new();
                        v.serialize(ty, &mut cell).expect("serializable");
                        body.extend_from_slice(
                            &i32::try_from(cell.len()).expect("small").to_be_bytes(),
                        );
                        body.extend_from_slice(&cell);
                    }
                }
            }
        }
        let body = Bytes::from(body);
        let mut r = Reader::new(&body);
        Rows::decode(&body, &mut r, &DecodeLimits::default()).expect("valid page")
    }

    fn set_text() -> ColumnType {
        ColumnType::Set(Box::new(ColumnType::Text))
    }

    fn text(s: &str) -> Option<CqlValue> {
        Some(CqlValue::Text(s.into()))
    }

    fn inet(s: &str) -> Option<CqlValue> {
        Some(CqlValue::Inet(ip(s)))
    }

    fn tokens(ts: &[&str]) -> Option<CqlValue> {
        Some(CqlValue::Set(
            ts.iter().map(|t| CqlValue::Text((*t).into())).collect(),
        ))
    }

    fn local_page() -> Rows {
        page(
            "local",
            &[
                ("key", ColumnType::Text),
                ("host_id", ColumnType::Uuid),
                ("rpc_address", ColumnType::Inet),
                ("data_center", ColumnType::Text),
                ("rack", ColumnType::Text),
                ("tokens", set_text()),
                ("release_version", ColumnType::Text),
                ("partitioner", ColumnType::Text),
            ],
            &[vec![
                text("local"),
                Some(CqlValue::Uuid([1; 16])),
                inet("127.0.0.1"),
                text("dc1"),
                text("rack1"),
                tokens(&["-3", "7"]),
                text("5.0.8"),
                text("org.apache.cassandra.dht.Murmur3Partitioner"),
            ]],
        )
    }

    #[test]
    fn system_local_and_peers_v2() {
        let peers_v2 = page(
            "peers_v2",
            &[
                ("peer", ColumnType::Inet),
                ("peer_port", ColumnType::Int),
                ("native_address", ColumnType::Inet),
                ("native_port", ColumnType::Int),
                ("host_id", ColumnType::Uuid),
                ("data_center", ColumnType::Text),
                ("rack", ColumnType::Text),
                ("tokens", set_text()),
                ("release_version", ColumnType::Text),
            ],
            &[
                vec![
                    inet("10.0.0.2"),
                    Some(CqlValue::Int(7000)),
                    inet("fd00::2"),
                    Some(CqlValue::Int(19042)),
                    Some(CqlValue::Uuid([2; 16])),
                    text("dc2"),
                    text("rack2"),
                    tokens(&["11"]),
                    text("5.0.8"),
                ],
                // A native_port out of range: the contact's port is used.
                vec![
                    inet("10.0.0.3"),
                    None,
                    inet("10.0.0.3"),
                    Some(CqlValue::Int(70_000)),
                    Some(CqlValue::Uuid([3; 16])),
                    None,
                    None,
                    None,
                    None,
                ],
            ],
        );
        let c = ClusterInfo::from_rows(sock("10.0.0.1:9042"), &local_page(), &peers_v2);
        assert!(c.ignored.is_empty(), "{c:?}");
        assert_eq!(
            c.partitioner.as_deref(),
            Some("org.apache.cassandra.dht.Murmur3Partitioner")
        );
        let control = &c.nodes[0];
        assert_eq!(control.address, sock("10.0.0.1:9042"));
        assert_eq!(control.host_id, Some([1; 16]));
        assert_eq!(control.datacenter.as_deref(), Some("dc1"));
        assert_eq!(control.rack.as_deref(), Some("rack1"));
        assert_eq!(control.tokens, vec!["-3".to_owned(), "7".to_owned()]);
        assert_eq!(control.release_version.as_deref(), Some("5.0.8"));
        let p = &c.nodes[1];
        assert_eq!(p.address, sock("[fd00::2]:19042"));
        assert_eq!(p.host_id, Some([2; 16]));
        assert_eq!(p.datacenter.as_deref(), Some("dc2"));
        assert_eq!(p.tokens, vec!["11".to_owned()]);
        let q = &c.nodes[2];
        assert_eq!(q.address, sock("10.0.0.3:9042"));
        assert_eq!((q.datacenter.as_deref(), q.tokens.len()), (None, 0));
    }

    /// What Amazon Keyspaces returns: its own partitioner, tokens that are not numbers, the
    /// control node among its peers, and fewer columns.
    #[test]
    fn keyspaces_style_system_peers() {
        let local = page(
            "local",
            &[
                ("key", ColumnType::Text),
                ("host_id", ColumnType::Uuid),
                ("rpc_address", ColumnType::Inet),
                ("tokens", set_text()),
                ("partitioner", ColumnType::Text),
            ],
            &[vec![
                text("local"),
                Some(CqlValue::Uuid([1; 16])),
                inet("127.0.0.1"),
                tokens(&["AAAAAAAAAAAAAAAAAAAAAA=="]),
                text("com.amazonaws.cassandra.DefaultPartitioner"),
            ]],
        );
        let peers = page(
            "peers",
            &[
                ("peer", ColumnType::Inet),
                ("rpc_address", ColumnType::Inet),
                ("host_id", ColumnType::Uuid),
                // A column of an unexpected type reads as absent, never as an error.
                ("data_center", ColumnType::Int),
            ],
            &[
                vec![
                    inet("10.0.0.1"),
                    inet("10.0.0.1"),
                    Some(CqlValue::Uuid([1; 16])),
                    Some(CqlValue::Int(1)),
                ],
                vec![
                    inet("10.0.0.2"),
                    inet("10.0.0.2"),
                    Some(CqlValue::Uuid([2; 16])),
                    None,
                ],
            ],
        );
        let c = ClusterInfo::from_rows(sock("10.0.0.1:9142"), &local, &peers);
        assert_eq!(
            addresses(&c),
            vec![sock("10.0.0.1:9142"), sock("10.0.0.2:9142")]
        );
        assert_eq!(reasons(&c), vec![IgnoredReason::ControlNode]);
        assert_eq!(c.nodes[1].datacenter, None);
        let t = crate::Topology::new(c, []);
        assert!(t.token_ring().is_none());
        assert_eq!(t.nodes().len(), 2);
    }

    #[test]
    fn empty_local_page() {
        let local = page("local", &[("key", ColumnType::Text)], &[]);
        let peers = page("peers", &[("peer", ColumnType::Inet)], &[]);
        let c = ClusterInfo::from_rows(sock("10.0.0.1:9042"), &local, &peers);
        assert_eq!(addresses(&c), vec![sock("10.0.0.1:9042")]);
        assert_eq!(c.nodes[0].host_id, None);
    }
}
