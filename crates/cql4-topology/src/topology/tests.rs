use std::net::SocketAddr;

use super::*;
use crate::peers::{LocalRow, PeerRow};

fn sock(s: &str) -> SocketAddr {
    s.parse().expect("a socket address")
}

fn cluster(partitioner: &str, tokens: [&[&str]; 3]) -> ClusterInfo {
    let strings = |ts: &[&str]| ts.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
    let local = LocalRow {
        host_id: Some([1; 16]),
        datacenter: Some("dc1".into()),
        rack: Some("r1".into()),
        tokens: strings(tokens[0]),
        partitioner: Some(partitioner.into()),
        ..LocalRow::default()
    };
    let peers = (1..3u8).map(|i| PeerRow {
        peer: Some(format!("10.0.0.{}", i + 1).parse().expect("ip")),
        host_id: Some([i + 1; 16]),
        datacenter: Some(if i == 1 { "dc1" } else { "dc2" }.into()),
        rack: Some("r1".into()),
        tokens: strings(tokens[usize::from(i)]),
        ..PeerRow::default()
    });
    ClusterInfo::new(sock("10.0.0.1:9042"), local, peers)
}

fn simple(rf: usize) -> ReplicationStrategy {
    ReplicationStrategy::Simple {
        replication_factor: rf,
    }
}

fn replica_addresses(t: &Topology, ks: &str, token: i64) -> Option<Vec<SocketAddr>> {
    t.replicas_for_token(ks, Token(token))
        .map(|r| r.iter().map(|n| n.address).collect())
}

#[test]
fn replicas_in_ring_order() {
    // Ring: -100 n0, 0 n1, 100 n2
    let t = Topology::new(
        cluster(MURMUR3, [&["-100"], &["0"], &["100"]]),
        [("ks".to_owned(), simple(2))],
    );
    assert_eq!(
        replica_addresses(&t, "ks", -50),
        Some(vec![sock("10.0.0.2:9042"), sock("10.0.0.3:9042")])
    );
    assert_eq!(
        replica_addresses(&t, "ks", 101),
        Some(vec![sock("10.0.0.1:9042"), sock("10.0.0.2:9042")])
    );
    let r = t.replicas_for_token("ks", Token(50)).expect("replicas");
    assert_eq!(r.indexes(), &[NodeIndex(2), NodeIndex(0)]);
    assert_eq!(r.len(), 2);
}

#[test]
fn replicas_of_a_routing_key_use_its_murmur3_token() {
    let t = Topology::new(
        cluster(MURMUR3, [&["-100"], &["0"], &["100"]]),
        [("ks".to_owned(), simple(1))],
    );
    // The int key 1 hashes to -4069959284402364209: owned by the first token >= it, -100.
    let r = t.replicas("ks", &1i32.to_be_bytes()).expect("replicas");
    assert_eq!(r.indexes(), &[NodeIndex(0)]);
    // The int key -1 hashes to 7297452126230313552, past the last token: wraps to -100.
    let r = t.replicas("ks", &(-1i32).to_be_bytes()).expect("replicas");
    assert_eq!(r.indexes(), &[NodeIndex(0)]);
}

#[test]
fn network_topology_through_the_topology() {
    let t = Topology::new(
        cluster(MURMUR3, [&["-100"], &["0"], &["100"]]),
        [(
            "ks".to_owned(),
            ReplicationStrategy::NetworkTopology {
                datacenters: [("dc2".to_owned(), 1)].into_iter().collect(),
            },
        )],
    );
    // Only n2 is in dc2.
    for token in [-1000, -50, 50, 1000] {
        assert_eq!(
            replica_addresses(&t, "ks", token),
            Some(vec![sock("10.0.0.3:9042")])
        );
    }
}

#[test]
fn no_token_map_for_other_partitioners_or_bad_tokens() {
    let cases = [
        cluster(
            "com.amazonaws.cassandra.DefaultPartitioner",
            [&["-100"], &["0"], &["100"]],
        ),
        cluster(
            "org.apache.cassandra.dht.RandomPartitioner",
            [&["1"], &["2"], &["3"]],
        ),
        // One unparsable token anywhere: no map at all, rather than a wrong one.
        cluster(MURMUR3, [&["-100"], &["0", "AAAA"], &["100"]]),
        cluster(MURMUR3, [&["-100"], &["0"], &["18446744073709551615"]]),
        cluster(MURMUR3, [&[], &[], &[]]),
    ];
    for c in cases {
        let t = Topology::new(c.clone(), [("ks".to_owned(), simple(1))]);
        assert!(t.token_ring().is_none(), "{c:?}");
        assert!(t.replicas("ks", b"key").is_none());
        assert_eq!(t.nodes().len(), 3, "the nodes are still there");
        assert_eq!(t.token_map_heap_bytes(), 0);
    }
    let mut no_partitioner = cluster(MURMUR3, [&["1"], &["2"], &["3"]]);
    no_partitioner.partitioner = None;
    assert!(Topology::new(no_partitioner, []).token_ring().is_none());
}

#[test]
fn unknown_keyspace_or_strategy_gives_none() {
    let mut t = Topology::new(
        cluster(MURMUR3, [&["-100"], &["0"], &["100"]]),
        [
            ("ks".to_owned(), simple(1)),
            (
                "local".to_owned(),
                ReplicationStrategy::Other {
                    class: "org.apache.cassandra.locator.LocalStrategy".into(),
                },
            ),
            (
                "nowhere".to_owned(),
                ReplicationStrategy::NetworkTopology {
                    datacenters: [("dc9".to_owned(), 3)].into_iter().collect(),
                },
            ),
        ],
    );
    assert!(t.replicas_for_token("ks", Token(0)).is_some());
    assert!(t.replicas_for_token("other", Token(0)).is_none());
    assert!(t.replicas_for_token("local", Token(0)).is_none());
    assert!(t.replicas_for_token("nowhere", Token(0)).is_none());
    t.remove_keyspace("ks");
    assert!(t.replicas_for_token("ks", Token(0)).is_none());
}

#[test]
fn keyspaces_with_one_strategy_share_one_map() {
    let mut t = Topology::new(
        cluster(MURMUR3, [&["-100"], &["0"], &["100"]]),
        [("a".to_owned(), simple(2))],
    );
    let one = t.token_map_heap_bytes();
    t.set_keyspace("b".to_owned(), simple(2));
    assert_eq!(t.token_map_heap_bytes(), one);
    t.set_keyspace("c".to_owned(), simple(3));
    assert!(t.token_map_heap_bytes() > one);
    // Replacing c's strategy with a shared one frees its map once c is removed.
    t.remove_keyspace("c");
    assert_eq!(t.token_map_heap_bytes(), one);
    t.remove_keyspace("a");
    assert_eq!(t.token_map_heap_bytes(), one, "b still uses it");
}

#[test]
fn memory_of_reference_clusters() {
    use crate::replication::tests::random_tokens;
    let build = |nodes: usize, vnodes: usize, dcs: usize, strategy: ReplicationStrategy| {
        let tokens = random_tokens(nodes, vnodes, 7);
        let local = LocalRow {
            host_id: Some([0; 16]),
            datacenter: Some("dc0".into()),
            rack: Some("r0".into()),
            tokens: tokens[0].iter().map(|t| t.0.to_string()).collect(),
            partitioner: Some(MURMUR3.into()),
            ..LocalRow::default()
        };
        let peers = (1..nodes).map(|n| PeerRow {
            rpc_address: Some(
                format!("10.{}.{}.{}", n / 65536, (n / 256) % 256, n % 256)
                    .parse()
                    .expect("ip"),
            ),
            host_id: Some({
                let mut id = [0u8; 16];
                id[..8].copy_from_slice(&(n as u64).to_be_bytes());
                id
            }),
            datacenter: Some(format!("dc{}", n % dcs)),
            rack: Some(format!("r{}", (n / dcs) % 3)),
            tokens: tokens[n].iter().map(|t| t.0.to_string()).collect(),
            ..PeerRow::default()
        });
        let cluster = ClusterInfo::new(sock("10.255.255.1:9042"), local, peers);
        Topology::new(cluster, [("ks".to_owned(), strategy)])
    };
    let small = build(3, 256, 1, simple(3));
    assert_eq!(small.token_ring().map(TokenRing::len), Some(768));
    let large = build(
        100,
        16,
        3,
        ReplicationStrategy::NetworkTopology {
            datacenters: (0..3).map(|d| (format!("dc{d}"), 3)).collect(),
        },
    );
    assert_eq!(large.token_ring().map(TokenRing::len), Some(1600));
    // Ring entries are 16 bytes (i64 + u32, padded); replica entries 4 bytes; offsets 4 bytes.
    assert_eq!(
        small.token_map_heap_bytes(),
        768 * 16 + 768 * 3 * 4 + 769 * 4
    );
    assert_eq!(
        large.token_map_heap_bytes(),
        1600 * 16 + 1600 * 9 * 4 + 1601 * 4
    );
    println!(
        "token map heap bytes: 3 nodes x 256 vnodes RF 3: {}; 100 nodes x 16 vnodes, 3 DCs x RF 3: {}",
        small.token_map_heap_bytes(),
        large.token_map_heap_bytes()
    );
}
