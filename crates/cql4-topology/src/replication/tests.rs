use super::*;
use crate::token_ring::Token;

fn strategy(entries: &[(&str, &str)]) -> ReplicationStrategy {
    ReplicationStrategy::from_replication_map(entries.iter().copied())
}

fn nts(dcs: &[(&str, usize)]) -> ReplicationStrategy {
    ReplicationStrategy::NetworkTopology {
        datacenters: dcs.iter().map(|(d, rf)| ((*d).to_owned(), *rf)).collect(),
    }
}

fn ring(tokens: &[&[i64]]) -> TokenRing {
    let tokens: Vec<Vec<Token>> = tokens
        .iter()
        .map(|ts| ts.iter().map(|t| Token(*t)).collect())
        .collect();
    TokenRing::new(tokens.iter())
}

fn at(map: &ReplicaMap, position: usize) -> Vec<u32> {
    map.at(position).iter().map(|n| n.0).collect()
}

fn loc<'a>(dc: &'a str, rack: &'a str) -> Location<'a> {
    Location {
        datacenter: Some(dc),
        rack: Some(rack),
    }
}

#[test]
fn parses_simple_with_and_without_prefix() {
    for class in [
        "SimpleStrategy",
        "org.apache.cassandra.locator.SimpleStrategy",
    ] {
        assert_eq!(
            strategy(&[("class", class), ("replication_factor", "3")]),
            ReplicationStrategy::Simple {
                replication_factor: 3
            }
        );
    }
}

#[test]
fn parses_network_topology_per_dc() {
    assert_eq!(
        strategy(&[
            (
                "class",
                "org.apache.cassandra.locator.NetworkTopologyStrategy"
            ),
            ("dc1", "3"),
            ("dc2", "2"),
        ]),
        nts(&[("dc1", 3), ("dc2", 2)])
    );
    // The creation shorthand is not a DC.
    assert_eq!(
        strategy(&[
            ("class", "NetworkTopologyStrategy"),
            ("replication_factor", "3"),
            ("dc1", "3"),
        ]),
        nts(&[("dc1", 3)])
    );
}

#[test]
fn transient_factor_counts_as_full() {
    assert_eq!(
        strategy(&[("class", "SimpleStrategy"), ("replication_factor", "3/1")]),
        ReplicationStrategy::Simple {
            replication_factor: 3
        }
    );
    assert_eq!(
        strategy(&[("class", "NetworkTopologyStrategy"), ("dc1", "5/2")]),
        nts(&[("dc1", 5)])
    );
}

#[test]
fn unknown_or_malformed_is_other() {
    for (entries, class) in [
        (
            &[("class", "org.apache.cassandra.locator.LocalStrategy")][..],
            "org.apache.cassandra.locator.LocalStrategy",
        ),
        (
            &[("class", "com.amazonaws.cassandra.DefaultReplication")][..],
            "com.amazonaws.cassandra.DefaultReplication",
        ),
        (&[("class", "SimpleStrategy")][..], "SimpleStrategy"),
        (
            &[("class", "SimpleStrategy"), ("replication_factor", "three")][..],
            "SimpleStrategy",
        ),
        (
            &[("class", "NetworkTopologyStrategy"), ("dc1", "-1")][..],
            "NetworkTopologyStrategy",
        ),
        (&[("replication_factor", "3")][..], ""),
    ] {
        assert_eq!(
            strategy(entries),
            ReplicationStrategy::Other {
                class: class.to_owned()
            },
            "{entries:?}"
        );
    }
}

#[test]
fn other_places_no_replica() {
    let r = ring(&[&[0], &[10]]);
    let map = ReplicaMap::new(
        &ReplicationStrategy::Other {
            class: String::new(),
        },
        &r,
        &[Location::default(); 2],
    );
    assert!(map.at(0).is_empty() && map.at(1).is_empty());
    assert!(map.at(99).is_empty());
}

#[test]
fn simple_takes_distinct_nodes_walking_the_ring() {
    // Ring order: 0(n0) 10(n0) 20(n1) 30(n2) 40(n1)
    let r = ring(&[&[0, 10], &[20, 40], &[30]]);
    let locations = [Location::default(); 3];
    let rf2 = ReplicaMap::new(
        &ReplicationStrategy::Simple {
            replication_factor: 2,
        },
        &r,
        &locations,
    );
    assert_eq!(at(&rf2, 0), vec![0, 1]); // n0, n0 again skipped, n1
    assert_eq!(at(&rf2, 2), vec![1, 2]);
    assert_eq!(at(&rf2, 4), vec![1, 0]); // wraps
    let rf5 = ReplicaMap::new(
        &ReplicationStrategy::Simple {
            replication_factor: 5,
        },
        &r,
        &locations,
    );
    assert_eq!(at(&rf5, 3), vec![2, 1, 0]); // more than the nodes: every node once
}

#[test]
fn network_topology_places_per_dc_and_skips_other_dcs() {
    // n0 dc1, n1 dc2, n2 dc1, n3 dc2, n4 dc3 (not replicated)
    let r = ring(&[&[0], &[10], &[20], &[30], &[5]]);
    let locations = [
        loc("dc1", "r"),
        loc("dc2", "r"),
        loc("dc1", "r"),
        loc("dc2", "r"),
        loc("dc3", "r"),
    ];
    let map = ReplicaMap::new(&nts(&[("dc1", 1), ("dc2", 1)]), &r, &locations);
    // Ring: 0 n0, 5 n4, 10 n1, 20 n2, 30 n3
    assert_eq!(at(&map, 0), vec![0, 1]);
    assert_eq!(at(&map, 1), vec![1, 2]); // from n4 (dc3): skipped
    assert_eq!(at(&map, 3), vec![2, 3]);
    assert_eq!(at(&map, 4), vec![3, 0]);
}

#[test]
fn network_topology_prefers_distinct_racks() {
    // dc1: n0 r1, n1 r1, n2 r2; ring: 0 n0, 10 n1, 20 n2
    let r = ring(&[&[0], &[10], &[20]]);
    let locations = [loc("dc1", "r1"), loc("dc1", "r1"), loc("dc1", "r2")];
    let rf2 = ReplicaMap::new(&nts(&[("dc1", 2)]), &r, &locations);
    // From n0: n1 shares rack r1 and RF 2 = 2 racks allows no repeat: n2 comes next.
    assert_eq!(at(&rf2, 0), vec![0, 2]);
    assert_eq!(at(&rf2, 1), vec![1, 2]);
    assert_eq!(at(&rf2, 2), vec![2, 0]);
    // RF 3 over 2 racks: one repeat is allowed, taken as it comes on the ring.
    let rf3 = ReplicaMap::new(&nts(&[("dc1", 3)]), &r, &locations);
    assert_eq!(at(&rf3, 0), vec![0, 1, 2]);
    assert_eq!(at(&rf3, 2), vec![2, 0, 1]);
}

#[test]
fn network_topology_rack_repeats_are_the_first_met() {
    // dc1 racks: a {n0, n1, n2}, b {n3}; RF 3 → 1 repeat of rack a, the first met after n0.
    // Ring: 0 n0(a), 10 n1(a), 20 n2(a), 30 n3(b)
    let r = ring(&[&[0], &[10], &[20], &[30]]);
    let locations = [
        loc("dc1", "a"),
        loc("dc1", "a"),
        loc("dc1", "a"),
        loc("dc1", "b"),
    ];
    let map = ReplicaMap::new(&nts(&[("dc1", 3)]), &r, &locations);
    assert_eq!(at(&map, 0), vec![0, 1, 3]);
    assert_eq!(at(&map, 3), vec![3, 0, 1]);
}

#[test]
fn network_topology_with_fewer_nodes_than_rf_takes_all() {
    let r = ring(&[&[0, 50], &[10, 60]]);
    let locations = [loc("dc1", "r1"), loc("dc1", "r1")];
    let map = ReplicaMap::new(&nts(&[("dc1", 3), ("empty", 2)]), &r, &locations);
    for position in 0..4 {
        assert_eq!(map.at(position).len(), 2, "position {position}");
    }
    assert_eq!(at(&map, 1), vec![1, 0]);
}

#[test]
fn node_without_location_is_ignored_by_network_topology() {
    let r = ring(&[&[0], &[10]]);
    let locations = [Location::default(), loc("dc1", "r1")];
    let map = ReplicaMap::new(&nts(&[("dc1", 3)]), &r, &locations);
    assert_eq!(at(&map, 0), vec![1]);
}

/// Deterministic, evenly spread pseudo-random tokens (xorshift64*).
pub(crate) fn random_tokens(nodes: usize, vnodes: usize, seed: u64) -> Vec<Vec<Token>> {
    let mut s = seed;
    (0..nodes)
        .map(|_| {
            (0..vnodes)
                .map(|_| {
                    s ^= s >> 12;
                    s ^= s << 25;
                    s ^= s >> 27;
                    Token(s.wrapping_mul(0x2545_f491_4f6c_dd1d) as i64)
                })
                .collect()
        })
        .collect()
}

#[test]
fn memory_3_nodes_256_vnodes_rf3() {
    let tokens = random_tokens(3, 256, 1);
    let r = TokenRing::new(tokens.iter());
    let locations = [loc("dc1", "r1"); 3];
    let map = ReplicaMap::new(
        &ReplicationStrategy::Simple {
            replication_factor: 3,
        },
        &r,
        &locations,
    );
    assert_eq!(r.len(), 768);
    assert!((0..r.len()).all(|p| map.at(p).len() == 3));
    // 768 x 3 x 4 bytes of replicas + 769 x 4 bytes of offsets.
    assert_eq!(map.heap_bytes(), 768 * 3 * 4 + 769 * 4);
    assert!(map.heap_bytes() < 16 * 1024, "{}", map.heap_bytes());
}

#[test]
fn memory_100_nodes_16_vnodes_three_dcs_rf3() {
    let tokens = random_tokens(100, 16, 2);
    let r = TokenRing::new(tokens.iter());
    let dcs = ["dc1", "dc2", "dc3"];
    let racks = ["r1", "r2", "r3"];
    let locations: Vec<Location<'_>> = (0..100)
        .map(|n| loc(dcs[n % 3], racks[(n / 3) % 3]))
        .collect();
    let map = ReplicaMap::new(&nts(&[("dc1", 3), ("dc2", 3), ("dc3", 3)]), &r, &locations);
    assert_eq!(r.len(), 1600);
    for p in 0..r.len() {
        let replicas = map.at(p);
        assert_eq!(replicas.len(), 9, "position {p}");
        // Three per DC, on three distinct racks.
        for dc in dcs {
            let in_dc: Vec<&Location<'_>> = replicas
                .iter()
                .map(|n| &locations[n.get()])
                .filter(|l| l.datacenter == Some(dc))
                .collect();
            assert_eq!(in_dc.len(), 3);
            let racks: HashSet<_> = in_dc.iter().map(|l| l.rack).collect();
            assert_eq!(racks.len(), 3, "position {p} {dc}");
        }
    }
    assert_eq!(map.heap_bytes(), 1600 * 9 * 4 + 1601 * 4);
    assert!(map.heap_bytes() < 80 * 1024, "{}", map.heap_bytes());
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Up to 12 nodes, each with 1..6 tokens, a DC among 3 and a rack among 3.
    fn cluster() -> impl Strategy<Value = Vec<(Vec<i64>, usize, usize)>> {
        prop::collection::vec(
            (
                prop::collection::vec(any::<i64>(), 1..6),
                0..3usize,
                0..3usize,
            ),
            1..12,
        )
    }

    const DCS: [&str; 3] = ["dc0", "dc1", "dc2"];
    const RACKS: [&str; 3] = ["r0", "r1", "r2"];

    proptest! {
        #[test]
        fn simple_gives_distinct_nodes_primary_first(nodes in cluster(), rf in 0..6usize) {
            let tokens: Vec<Vec<Token>> =
                nodes.iter().map(|(ts, _, _)| ts.iter().map(|t| Token(*t)).collect()).collect();
            let ring = TokenRing::new(tokens.iter());
            let members: HashSet<NodeIndex> = ring.walk(0).collect();
            let map = ReplicaMap::new(
                &ReplicationStrategy::Simple { replication_factor: rf },
                &ring,
                &vec![Location::default(); nodes.len()],
            );
            for p in 0..ring.len() {
                let replicas = map.at(p);
                prop_assert_eq!(replicas.len(), rf.min(members.len()));
                let distinct: HashSet<_> = replicas.iter().collect();
                prop_assert_eq!(distinct.len(), replicas.len());
                if rf > 0 {
                    prop_assert_eq!(Some(replicas[0]), ring.owner_at(p));
                }
            }
        }

        #[test]
        fn network_topology_fills_each_dc_on_distinct_racks_first(
            nodes in cluster(),
            factors in prop::collection::vec(0..5usize, 3),
        ) {
            let tokens: Vec<Vec<Token>> =
                nodes.iter().map(|(ts, _, _)| ts.iter().map(|t| Token(*t)).collect()).collect();
            let ring = TokenRing::new(tokens.iter());
            let members: HashSet<NodeIndex> = ring.walk(0).collect();
            let locations: Vec<Location<'_>> = nodes
                .iter()
                .map(|(_, dc, rack)| loc(DCS[*dc], RACKS[*rack]))
                .collect();
            let strategy = ReplicationStrategy::NetworkTopology {
                datacenters: DCS.iter().zip(&factors).map(|(d, rf)| ((*d).to_owned(), *rf)).collect(),
            };
            let map = ReplicaMap::new(&strategy, &ring, &locations);
            for p in 0..ring.len() {
                let replicas = map.at(p);
                let distinct: HashSet<_> = replicas.iter().collect();
                prop_assert_eq!(distinct.len(), replicas.len());
                for (dc, rf) in DCS.iter().zip(&factors) {
                    let in_dc: Vec<NodeIndex> = members
                        .iter()
                        .copied()
                        .filter(|n| locations[n.get()].datacenter == Some(*dc))
                        .collect();
                    let racks: HashSet<_> = in_dc.iter().map(|n| locations[n.get()].rack).collect();
                    let chosen: Vec<&NodeIndex> = replicas
                        .iter()
                        .filter(|n| locations[n.get()].datacenter == Some(*dc))
                        .collect();
                    prop_assert_eq!(chosen.len(), (*rf).min(in_dc.len()));
                    let chosen_racks: HashSet<_> =
                        chosen.iter().map(|n| locations[n.get()].rack).collect();
                    // Every rack is used before any is used twice.
                    prop_assert_eq!(chosen_racks.len(), chosen.len().min(racks.len()));
                }
            }
        }
    }
}
