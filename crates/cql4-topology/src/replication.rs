//! Replica placement: which nodes hold a token's data under a keyspace's replication strategy,
//! parsed from the `replication` map of `system_schema.keyspaces`.
//!
//! The replica list of every ring position is computed once per distinct strategy
//! ([`ReplicaMap`]), as the Java and scylla drivers do: a lookup is then a binary search and a
//! slice. Measured (`examples/replica_map_cost.rs`, release build, and the `memory_*` tests):
//!
//! | cluster                                   | ring entries | replica map | build  | lookup |
//! |-------------------------------------------|--------------|-------------|--------|--------|
//! | 3 nodes x 256 vnodes, Simple RF 3         | 768          | 12,292 B    | 68 us  | 51 ns  |
//! | 100 nodes x 16 vnodes, NTS 3 DCs x RF 3   | 1,600        | 64,004 B    | 1.3 ms | 52 ns  |
//!
//! (the ring itself is 16 bytes an entry: 12 KiB and 25 KiB). Computing on demand would save
//! that memory at the price of a ring walk per request — about 0.1 us and 0.8 us here, plus
//! its allocations — or a cache whose worst case is this map anyway. Memory is bounded by
//! `ring entries x total RF x 4 bytes` per distinct strategy, so the map wins.

use std::collections::{BTreeMap, HashSet};

use crate::token_ring::{NodeIndex, TokenRing};

const CLASS_PREFIX: &str = "org.apache.cassandra.locator.";

/// A keyspace's replication strategy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplicationStrategy {
    /// `SimpleStrategy`: the first `replication_factor` distinct nodes walking the ring.
    Simple {
        /// Replicas per token.
        replication_factor: usize,
    },
    /// `NetworkTopologyStrategy`: per data center, that many distinct nodes of the DC walking
    /// the ring, on distinct racks first.
    NetworkTopology {
        /// Replicas per token in each named data center.
        datacenters: BTreeMap<String, usize>,
    },
    /// Any other class (`LocalStrategy`, `EverywhereStrategy`, a custom class) or a map that
    /// does not parse: no replicas are known and requests are not token-routed.
    Other {
        /// The `class` as found (empty when absent).
        class: String,
    },
}

impl ReplicationStrategy {
    /// Parses the `replication` map of a `system_schema.keyspaces` row, e.g.
    /// `{'class': 'org.apache.cassandra.locator.NetworkTopologyStrategy', 'dc1': '3'}`.
    ///
    /// The class may be given with or without the `org.apache.cassandra.locator.` prefix. A
    /// transient-replication factor `"3/1"` (3 replicas, 1 transient) counts as 3: transient
    /// replicas are replicas a coordinator may be. Never fails: anything unexpected is
    /// [`ReplicationStrategy::Other`].
    pub fn from_replication_map<'a, I>(map: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let entries: Vec<(&str, &str)> = map.into_iter().collect();
        let class = entries
            .iter()
            .find(|(k, _)| *k == "class")
            .map_or("", |(_, v)| *v);
        let other = || Self::Other {
            class: class.to_owned(),
        };
        match class.strip_prefix(CLASS_PREFIX).unwrap_or(class) {
            "SimpleStrategy" => entries
                .iter()
                .find(|(k, _)| *k == "replication_factor")
                .and_then(|(_, v)| parse_factor(v))
                .map_or_else(other, |replication_factor| Self::Simple {
                    replication_factor,
                }),
            "NetworkTopologyStrategy" => {
                let mut datacenters = BTreeMap::new();
                for (k, v) in &entries {
                    // `replication_factor` is a creation-time shorthand the server expands
                    // into per-DC entries; it is not a DC.
                    if *k == "class" || *k == "replication_factor" {
                        continue;
                    }
                    let Some(rf) = parse_factor(v) else {
                        return other();
                    };
                    datacenters.insert((*k).to_owned(), rf);
                }
                Self::NetworkTopology { datacenters }
            }
            _ => other(),
        }
    }
}

/// `"3"` or `"3/1"` (full/transient) → 3.
fn parse_factor(v: &str) -> Option<usize> {
    let total = v.split_once('/').map_or(v, |(all, _transient)| all);
    total.trim().parse().ok()
}

/// Where a node sits: its data center and rack (`None` when `system.peers` did not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location<'a> {
    /// `data_center`.
    pub datacenter: Option<&'a str>,
    /// `rack`.
    pub rack: Option<&'a str>,
}

/// The replicas of every ring position for one strategy, in ring order.
#[derive(Debug, Clone, Default)]
pub struct ReplicaMap {
    /// `offsets[i]..offsets[i + 1]` indexes `replicas` for ring position `i`.
    offsets: Vec<u32>,
    replicas: Vec<NodeIndex>,
}

impl ReplicaMap {
    /// Computes the replicas of every position of `ring`; `locations[n]` is node `n`'s place.
    pub fn new(
        strategy: &ReplicationStrategy,
        ring: &TokenRing,
        locations: &[Location<'_>],
    ) -> Self {
        let mut map = Self {
            offsets: Vec::with_capacity(ring.len() + 1),
            replicas: Vec::new(),
        };
        map.offsets.push(0);
        let mut scratch = Scratch::default();
        let dcs = match strategy {
            ReplicationStrategy::NetworkTopology { datacenters } => {
                dc_start(ring, locations, datacenters)
            }
            _ => Vec::new(),
        };
        // A factor above the node count (a typo, or a shrunken cluster) must not make every
        // position walk the whole ring looking for nodes that do not exist.
        let nodes = ring.walk(0).collect::<HashSet<_>>().len();
        for position in 0..ring.len() {
            match strategy {
                ReplicationStrategy::Simple { replication_factor } => {
                    simple(
                        ring,
                        position,
                        (*replication_factor).min(nodes),
                        &mut map.replicas,
                        &mut scratch,
                    );
                }
                ReplicationStrategy::NetworkTopology { .. } => network_topology(
                    ring,
                    locations,
                    position,
                    &dcs,
                    &mut map.replicas,
                    &mut scratch,
                ),
                ReplicationStrategy::Other { .. } => {}
            }
            map.offsets
                .push(u32::try_from(map.replicas.len()).unwrap_or(u32::MAX));
        }
        map.replicas.shrink_to_fit();
        map
    }

    /// The replicas of ring position `position`, in ring order.
    pub fn at(&self, position: usize) -> &[NodeIndex] {
        let start = self.offsets.get(position).map_or(0, |o| *o as usize);
        let end = self.offsets.get(position + 1).map_or(0, |o| *o as usize);
        self.replicas.get(start..end).unwrap_or(&[])
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * size_of::<u32>()
            + self.replicas.capacity() * size_of::<NodeIndex>()
    }
}

#[derive(Default)]
struct Scratch {
    chosen: HashSet<NodeIndex>,
}

fn simple(
    ring: &TokenRing,
    position: usize,
    rf: usize,
    out: &mut Vec<NodeIndex>,
    scratch: &mut Scratch,
) {
    scratch.chosen.clear();
    for node in ring.walk(position) {
        if scratch.chosen.len() >= rf {
            break;
        }
        if scratch.chosen.insert(node) {
            out.push(node);
        }
    }
}

/// Per-DC progress, as `NetworkTopologyStrategy.DatacenterEndpoints` keeps it.
#[derive(Clone)]
struct DcProgress<'a> {
    name: &'a str,
    /// Replicas still to place: `min(rf, nodes in the DC)`.
    left: usize,
    /// How many more nodes may be taken from a rack already used: `rf - racks in the DC`.
    /// Cassandra takes them as they come on the ring once they are allowed.
    rack_repeats: isize,
    racks_seen: HashSet<Option<&'a str>>,
}

/// Each DC's starting [`DcProgress`], counted once over the nodes that own tokens (the ring's
/// members).
fn dc_start<'a>(
    ring: &TokenRing,
    locations: &[Location<'_>],
    datacenters: &'a BTreeMap<String, usize>,
) -> Vec<DcProgress<'a>> {
    let members: HashSet<NodeIndex> = ring.walk(0).collect();
    datacenters
        .iter()
        .map(|(dc, rf)| {
            let in_dc = members
                .iter()
                .filter_map(|n| locations.get(n.get()))
                .filter(|l| l.datacenter == Some(dc.as_str()));
            let nodes = in_dc.clone().count();
            let racks: HashSet<Option<&str>> = in_dc.map(|l| l.rack).collect();
            DcProgress {
                name: dc,
                left: (*rf).min(nodes),
                rack_repeats: isize::try_from(*rf).unwrap_or(isize::MAX)
                    - isize::try_from(racks.len()).unwrap_or(0),
                racks_seen: HashSet::new(),
            }
        })
        .collect()
}

/// Cassandra's `NetworkTopologyStrategy.calculateNaturalReplicas`: walk the ring from the
/// token's position; a node of a DC still short of replicas is taken if its rack is new for
/// that DC, or if the DC may still repeat a rack (it has fewer racks than its RF). The walk
/// stops when every DC is done or the ring is exhausted.
fn network_topology<'a>(
    ring: &TokenRing,
    locations: &[Location<'a>],
    position: usize,
    start: &[DcProgress<'_>],
    out: &mut Vec<NodeIndex>,
    scratch: &mut Scratch,
) {
    let mut progress: Vec<DcProgress<'_>> = start.to_vec();
    scratch.chosen.clear();
    for node in ring.walk(position) {
        if progress.iter().all(|dc| dc.left == 0) {
            break;
        }
        let Some(location) = locations.get(node.get()) else {
            continue;
        };
        let Some(dc) = progress
            .iter_mut()
            .find(|dc| location.datacenter == Some(dc.name))
        else {
            continue;
        };
        if dc.left == 0 || scratch.chosen.contains(&node) {
            continue;
        }
        if dc.racks_seen.insert(location.rack) {
            // A new rack for this DC.
        } else if dc.rack_repeats > 0 {
            dc.rack_repeats -= 1;
        } else {
            // Racks still unseen must get the remaining replicas.
            continue;
        }
        dc.left -= 1;
        scratch.chosen.insert(node);
        out.push(node);
    }
}

#[cfg(test)]
pub(crate) mod tests;
