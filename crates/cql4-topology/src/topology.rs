//! The topology: the nodes, and — when the cluster uses Murmur3 tokens — the token ring and
//! each keyspace's replicas, joined so that a keyspace and a routing key give the replicas.
//!
//! A cluster without a usable token map (Amazon Keyspaces' `DefaultPartitioner`, a token that
//! is not an `i64`, another partitioner, no tokens at all) still has its nodes: the session
//! then routes round robin. That is never an error.

use std::collections::HashMap;
use std::sync::Arc;

use crate::murmur3::murmur3_token;
use crate::peers::{ClusterInfo, NodeInfo};
use crate::replication::{Location, ReplicaMap, ReplicationStrategy};
use crate::token_ring::{NodeIndex, Token, TokenRing};

const MURMUR3: &str = "org.apache.cassandra.dht.Murmur3Partitioner";

/// The nodes, and the token map when there is one.
#[derive(Debug, Clone)]
pub struct Topology {
    cluster: ClusterInfo,
    token_map: Option<TokenMap>,
}

#[derive(Debug, Clone)]
struct TokenMap {
    ring: TokenRing,
    /// One map per distinct strategy: keyspaces with the same replication share it.
    by_strategy: HashMap<ReplicationStrategy, Arc<ReplicaMap>>,
    keyspaces: HashMap<String, Arc<ReplicaMap>>,
}

impl Topology {
    /// Builds the topology from the cluster's nodes and each keyspace's replication.
    pub fn new<I>(cluster: ClusterInfo, keyspaces: I) -> Self
    where
        I: IntoIterator<Item = (String, ReplicationStrategy)>,
    {
        let ring = token_ring(&cluster);
        let mut topology = Self {
            token_map: ring.map(|ring| TokenMap {
                ring,
                by_strategy: HashMap::new(),
                keyspaces: HashMap::new(),
            }),
            cluster,
        };
        for (name, strategy) in keyspaces {
            topology.set_keyspace(name, strategy);
        }
        topology
    }

    /// Adds or replaces a keyspace's replication (after a schema change event).
    pub fn set_keyspace(&mut self, name: String, strategy: ReplicationStrategy) {
        let Some(map) = &mut self.token_map else {
            return;
        };
        let replicas = match map.by_strategy.get(&strategy) {
            Some(r) => Arc::clone(r),
            None => {
                let locations: Vec<Location<'_>> = self
                    .cluster
                    .nodes
                    .iter()
                    .map(|n| Location {
                        datacenter: n.datacenter.as_deref(),
                        rack: n.rack.as_deref(),
                    })
                    .collect();
                let r = Arc::new(ReplicaMap::new(&strategy, &map.ring, &locations));
                map.by_strategy.insert(strategy, Arc::clone(&r));
                r
            }
        };
        map.keyspaces.insert(name, replicas);
        // The keyspace's previous strategy may now be unused.
        map.by_strategy.retain(|_, r| Arc::strong_count(r) > 1);
    }

    /// Forgets a dropped keyspace. A strategy map no keyspace uses any more is freed.
    pub fn remove_keyspace(&mut self, name: &str) {
        if let Some(map) = &mut self.token_map {
            map.keyspaces.remove(name);
            map.by_strategy.retain(|_, r| Arc::strong_count(r) > 1);
        }
    }

    /// The nodes: the control node first.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.cluster.nodes
    }

    /// The cluster description this topology was built from.
    pub fn cluster(&self) -> &ClusterInfo {
        &self.cluster
    }

    /// Node `index`.
    pub fn node(&self, index: NodeIndex) -> Option<&NodeInfo> {
        self.cluster.nodes.get(index.get())
    }

    /// The token ring, when the cluster has a usable token map.
    pub fn token_ring(&self) -> Option<&TokenRing> {
        self.token_map.as_ref().map(|m| &m.ring)
    }

    /// True when [`Topology::replicas`] can place keys of `keyspace`: there is a token map and
    /// the keyspace is in it. A router asks first and skips computing a key otherwise.
    pub fn places_keyspace(&self, keyspace: &str) -> bool {
        self.token_map
            .as_ref()
            .is_some_and(|m| m.keyspaces.contains_key(keyspace))
    }

    /// The replicas of `routing_key` (see [`crate::routing_key()`]) in `keyspace`, in ring
    /// order: the primary owner first. The caller shuffles them as its policy wants.
    ///
    /// `None` when there is no token map, the keyspace is unknown, or its strategy places no
    /// replica (an unknown class, or no node in the named DCs).
    pub fn replicas(&self, keyspace: &str, routing_key: &[u8]) -> Option<Replicas<'_>> {
        self.replicas_for_token(keyspace, murmur3_token(routing_key))
    }

    /// [`Topology::replicas`] for a token.
    pub fn replicas_for_token(&self, keyspace: &str, token: Token) -> Option<Replicas<'_>> {
        let map = self.token_map.as_ref()?;
        let replicas = map.keyspaces.get(keyspace)?;
        let indexes = replicas.at(map.ring.position(token)?);
        (!indexes.is_empty()).then(|| Replicas {
            nodes: &self.cluster.nodes,
            indexes,
        })
    }

    /// Heap bytes of the token ring and the replica maps.
    pub fn token_map_heap_bytes(&self) -> usize {
        self.token_map.as_ref().map_or(0, |m| {
            m.ring.heap_bytes()
                + m.by_strategy
                    .values()
                    .map(|r| r.heap_bytes())
                    .sum::<usize>()
        })
    }
}

/// The ring, if the partitioner is Murmur3 and every node's tokens parse as `i64`.
fn token_ring(cluster: &ClusterInfo) -> Option<TokenRing> {
    let partitioner = cluster.partitioner.as_deref()?;
    if partitioner != MURMUR3 && partitioner != "Murmur3Partitioner" {
        return None;
    }
    let mut tokens = Vec::with_capacity(cluster.nodes.len());
    for node in &cluster.nodes {
        let parsed: Option<Vec<Token>> = node.tokens.iter().map(|t| Token::parse(t)).collect();
        tokens.push(parsed?);
    }
    let ring = TokenRing::new(tokens.iter());
    (!ring.is_empty()).then_some(ring)
}

/// The replicas of a token, in ring order.
#[derive(Debug, Clone)]
pub struct Replicas<'a> {
    nodes: &'a [NodeInfo],
    indexes: &'a [NodeIndex],
}

impl<'a> Replicas<'a> {
    /// The replicas' indexes in [`Topology::nodes`].
    pub fn indexes(&self) -> &'a [NodeIndex] {
        self.indexes
    }

    /// How many replicas.
    pub fn len(&self) -> usize {
        self.indexes.len()
    }

    /// Never true for a value [`Topology::replicas`] returned.
    pub fn is_empty(&self) -> bool {
        self.indexes.is_empty()
    }

    /// The replicas' nodes, in ring order.
    pub fn iter(&self) -> impl Iterator<Item = &'a NodeInfo> + 'a {
        let nodes = self.nodes;
        self.indexes.iter().filter_map(move |i| nodes.get(i.get()))
    }
}

#[cfg(test)]
mod tests;
