//! The query plan: which nodes a request tries, in order (pure; the caller skips nodes with
//! no open connection).
//!
//! 1. the replicas of the request's partition that are in the local data center, starting at
//!    a random one (token-aware routing spreads load over the replicas);
//! 2. every local node, round robin;
//! 3. the nodes of other data centers, round robin — reached only when no local node can take
//!    the request.
//!
//! A node may appear twice (as a replica and as a local node); the second visit costs one
//! failed check, cheaper than deduplicating every plan.

use cql4_topology::NodeIndex;

/// The nodes split by data center, computed once per topology.
#[derive(Debug, Clone, Default)]
pub(crate) struct Placement {
    /// Per node index: in the local data center.
    pub(crate) is_local: Vec<bool>,
    pub(crate) local: Vec<usize>,
    pub(crate) remote: Vec<usize>,
}

impl Placement {
    /// Splits nodes by data center; with no local data center every node is local.
    pub(crate) fn new<'a>(
        datacenters: impl IntoIterator<Item = Option<&'a str>>,
        local_dc: Option<&str>,
    ) -> Self {
        let mut p = Self::default();
        for (i, dc) in datacenters.into_iter().enumerate() {
            // A node with no data center (the control node before it was read) counts as local.
            let local = match (local_dc, dc) {
                (Some(want), Some(dc)) => want == dc,
                _ => true,
            };
            p.is_local.push(local);
            if local {
                p.local.push(i);
            } else {
                p.remote.push(i);
            }
        }
        p
    }
}

/// Nodes in the order a request tries them.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    placement: &'a Placement,
    replicas: Rotation<'a, NodeIndex>,
    local: Rotation<'a, usize>,
    remote: Rotation<'a, usize>,
}

#[derive(Debug)]
struct Rotation<'a, T> {
    items: &'a [T],
    start: usize,
    taken: usize,
}

impl<'a, T: Copy> Rotation<'a, T> {
    fn new(items: &'a [T], start: u64) -> Self {
        let start = if items.is_empty() {
            0
        } else {
            (start % items.len() as u64) as usize
        };
        Self {
            items,
            start,
            taken: 0,
        }
    }
}

impl<T: Copy> Iterator for Rotation<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.taken >= self.items.len() {
            return None;
        }
        let i = (self.start + self.taken) % self.items.len();
        self.taken += 1;
        Some(self.items[i])
    }
}

impl<'a> Plan<'a> {
    /// A plan over `replicas` (empty: no token routing) with round-robin position `counter`
    /// and random start `random` among the replicas.
    pub(crate) fn new(
        placement: &'a Placement,
        replicas: &'a [NodeIndex],
        counter: u64,
        random: u64,
    ) -> Self {
        Self {
            placement,
            replicas: Rotation::new(replicas, random),
            local: Rotation::new(&placement.local, counter),
            remote: Rotation::new(&placement.remote, counter),
        }
    }
}

impl Iterator for Plan<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        for replica in self.replicas.by_ref() {
            let i = replica.get();
            if self.placement.is_local.get(i).copied().unwrap_or(false) {
                return Some(i);
            }
        }
        self.local.next().or_else(|| self.remote.next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement() -> Placement {
        Placement::new(
            [
                Some("dc1"),
                Some("dc1"),
                Some("dc2"),
                Some("dc1"),
                Some("dc2"),
            ],
            Some("dc1"),
        )
    }

    #[test]
    fn local_nodes_come_first_then_remote_ones() {
        let p = placement();
        assert_eq!(p.local, [0, 1, 3]);
        assert_eq!(p.remote, [2, 4]);
        let plan: Vec<usize> = Plan::new(&p, &[], 0, 0).collect();
        assert_eq!(plan, [0, 1, 3, 2, 4]);
    }

    #[test]
    fn round_robin_starts_one_further_each_time() {
        let p = placement();
        let firsts: Vec<usize> = (0..6)
            .map(|c| Plan::new(&p, &[], c, 0).next().expect("a node"))
            .collect();
        assert_eq!(firsts, [0, 1, 3, 0, 1, 3]);
        let plan: Vec<usize> = Plan::new(&p, &[], 1, 0).collect();
        assert_eq!(plan, [1, 3, 0, 4, 2]);
    }

    #[test]
    fn local_replicas_lead_and_remote_replicas_are_skipped() {
        let p = placement();
        let replicas = [NodeIndex(2), NodeIndex(3), NodeIndex(1)];
        let plan: Vec<usize> = Plan::new(&p, &replicas, 0, 0).collect();
        assert_eq!(
            plan[..2],
            [3, 1],
            "local replicas in ring order from the start"
        );
        assert_eq!(plan[2..], [0, 1, 3, 2, 4], "then everything");
        let firsts: std::collections::HashSet<usize> = (0..30)
            .map(|r| Plan::new(&p, &replicas, 0, r).next().expect("a node"))
            .collect();
        assert_eq!(
            firsts,
            [1, 3].into(),
            "every local replica leads some plans"
        );
    }

    #[test]
    fn without_a_local_datacenter_every_node_is_local() {
        let p = Placement::new([Some("a"), None, Some("b")], None);
        assert_eq!(p.local, [0, 1, 2]);
        let p = Placement::new([Some("a"), None, Some("b")], Some("b"));
        assert_eq!(
            p.local,
            [1, 2],
            "a node without a data center counts as local"
        );
    }

    #[test]
    fn empty_placements_and_bad_indexes_end_the_plan() {
        let p = Placement::default();
        assert_eq!(Plan::new(&p, &[NodeIndex(7)], 3, 9).count(), 0);
    }
}
