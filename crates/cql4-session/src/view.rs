//! What routing reads on every request: the nodes, their pools, the token map and the split by
//! data center. Replaced whole (behind an `Arc`) when the topology changes, so a request
//! never sees half an update.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use cql4_conn::Config;
use cql4_topology::{NodeInfo, Topology};

use crate::endpoint::node_config;
use crate::plan::Placement;
use crate::pool::NodePool;
use crate::shared::Shared;

#[derive(Debug)]
pub(crate) struct View {
    pub(crate) nodes: Vec<NodeInfo>,
    /// Same order as `nodes`.
    pub(crate) pools: Vec<Arc<NodePool>>,
    /// `None` for a single-host session.
    pub(crate) topology: Option<Topology>,
    pub(crate) placement: Placement,
}

impl View {
    /// A single-host session: one node, no topology.
    pub(crate) fn single(node: NodeInfo, pool: Arc<NodePool>) -> Self {
        Self {
            placement: Placement::new([None], None),
            nodes: vec![node],
            pools: vec![pool],
            topology: None,
        }
    }

    /// The view of `topology`, keeping the pools of nodes still present (by address) and
    /// starting pools for new ones. Returns the pools no longer used, for the caller to stop.
    pub(crate) fn build(
        topology: Topology,
        max_nodes: usize,
        old: &Self,
        local_dc: Option<&str>,
        template: &Config,
        contact_host: &str,
        shared: &Arc<Shared>,
    ) -> (Self, Vec<Arc<NodePool>>) {
        let mut existing: HashMap<SocketAddr, Arc<NodePool>> = old
            .pools
            .iter()
            .map(|p| (p.address, Arc::clone(p)))
            .collect();
        let all = topology.nodes();
        if all.len() > max_nodes {
            tracing::warn!(
                nodes = all.len(),
                max_nodes,
                "more nodes than max_nodes: the rest are ignored"
            );
        }
        // Pools are indexed like the topology's nodes: a node past the cap has no pool and
        // routing skips it.
        let nodes: Vec<NodeInfo> = all.iter().take(max_nodes.max(1)).cloned().collect();
        let pools = nodes
            .iter()
            .map(|n| {
                existing.remove(&n.address).unwrap_or_else(|| {
                    tracing::info!(node = %n.address, dc = ?n.datacenter, "node added");
                    NodePool::start(
                        n.address,
                        node_config(template, contact_host, n.address, shared.translator()),
                        Arc::clone(shared),
                    )
                })
            })
            .collect();
        let placement = Placement::new(nodes.iter().map(|n| n.datacenter.as_deref()), local_dc);
        let removed = existing.into_values().collect();
        (
            Self {
                nodes,
                pools,
                topology: Some(topology),
                placement,
            },
            removed,
        )
    }

    /// The pool of the node at `address` (an event's address), matching the IP alone when
    /// no node has that exact port.
    pub(crate) fn pool_at(&self, address: SocketAddr) -> Option<&Arc<NodePool>> {
        self.pools
            .iter()
            .find(|p| p.address == address)
            .or_else(|| self.pools.iter().find(|p| p.address.ip() == address.ip()))
    }
}
