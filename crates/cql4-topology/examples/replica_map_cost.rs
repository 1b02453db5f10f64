//! Measures the replica map of the two reference clusters: heap bytes, time to build, time per
//! lookup (precomputed), and the time one on-demand computation would take (building a map
//! for a one-position ring walk is what "compute on demand" costs per request).
//!
//! `cargo run --release -p cql4-topology --example replica_map_cost`

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use cql4_topology::{murmur3_token, Location, ReplicaMap, ReplicationStrategy, Token, TokenRing};

fn tokens(nodes: usize, vnodes: usize) -> Vec<Vec<Token>> {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
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

fn measure(name: &str, nodes: usize, vnodes: usize, dcs: usize, strategy: &ReplicationStrategy) {
    let tokens = tokens(nodes, vnodes);
    let ring = TokenRing::new(tokens.iter());
    let dc_names: Vec<String> = (0..dcs).map(|d| format!("dc{d}")).collect();
    let racks = ["r0", "r1", "r2"];
    let locations: Vec<Location<'_>> = (0..nodes)
        .map(|n| Location {
            datacenter: Some(&dc_names[n % dcs]),
            rack: Some(racks[(n / dcs) % 3]),
        })
        .collect();

    let start = Instant::now();
    let map = ReplicaMap::new(strategy, &ring, &locations);
    let build = start.elapsed();

    let lookups = 1_000_000u32;
    let start = Instant::now();
    let mut total = 0usize;
    for i in 0..lookups {
        let token = murmur3_token(&i.to_be_bytes());
        let position = ring.position(token).unwrap_or(0);
        total += black_box(map.at(position)).len();
    }
    let lookup = start.elapsed() / lookups;

    // On demand: the replicas of one position, i.e. one ring walk (what a per-request
    // computation without a cache would cost).
    let per_position = build / u32::try_from(ring.len()).unwrap_or(1).max(1);

    println!(
        "{name}: {} ring entries; ring {} B, replica map {} B; build {:?}; \
         lookup (hash + search + slice) {:?}; one on-demand walk ~{:?} ({total} replicas seen)",
        ring.len(),
        ring.heap_bytes(),
        map.heap_bytes(),
        build,
        lookup,
        per_position,
    );
}

fn main() {
    measure(
        "3 nodes x 256 vnodes, SimpleStrategy RF 3",
        3,
        256,
        1,
        &ReplicationStrategy::Simple {
            replication_factor: 3,
        },
    );
    let three_dcs: BTreeMap<String, usize> = (0..3).map(|d| (format!("dc{d}"), 3)).collect();
    measure(
        "100 nodes x 16 vnodes, NetworkTopologyStrategy 3 DCs x RF 3",
        100,
        16,
        3,
        &ReplicationStrategy::NetworkTopology {
            datacenters: three_dcs,
        },
    );
}
