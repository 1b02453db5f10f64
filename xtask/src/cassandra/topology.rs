//! Where each node of a local cluster lives: its loopback address, data center, rack and token.
//!
//! Node `n` (1-based) listens on `127.0.0.n`; every node uses the same native port, as nodes of a
//! real cluster do, so a driver can reach a peer from `system.peers_v2` with the port it already
//! knows. Tokens are fixed and evenly spaced (one per node, `num_tokens: 1`) so tests can tell
//! which node owns which range.
use std::net::Ipv4Addr;

/// The largest cluster this harness lays out: readiness reads at ONE, TWO or THREE to see every
/// running node up (there is no consistency level "FOUR").
pub(crate) const MAX_NODES: usize = 3;

/// How many nodes, in how many data centers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Topology {
    pub(crate) nodes: usize,
    pub(crate) dcs: usize,
}

/// One node's place in the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Placement {
    /// 1-based, as in `cargo xtask cassandra kill N`.
    pub(crate) n: usize,
    pub(crate) address: Ipv4Addr,
    pub(crate) dc: String,
    pub(crate) rack: String,
    pub(crate) initial_token: i64,
}

impl Topology {
    /// Checks the counts: 2..=[`MAX_NODES`] nodes in 1 or 2 data centers.
    pub(crate) fn new(nodes: usize, dcs: usize) -> Result<Self, String> {
        if !(2..=MAX_NODES).contains(&nodes) {
            return Err(format!(
                "a cluster has 2 to {MAX_NODES} nodes, not {nodes} (--dcs needs --nodes)"
            ));
        }
        if !(1..=2).contains(&dcs) {
            return Err(format!("--dcs is 1 or 2, not {dcs}"));
        }
        Ok(Self { nodes, dcs })
    }

    /// Every node, node 1 first. With two data centers the last node is alone in `dc2` (the
    /// "remote DC" of a driver whose local DC is `dc1`); the others are in `dc1`.
    pub(crate) fn placements(self) -> Vec<Placement> {
        (1..=self.nodes)
            .map(|n| Placement {
                n,
                address: node_address(n),
                dc: if self.dcs == 2 && n == self.nodes {
                    "dc2"
                } else {
                    "dc1"
                }
                .into(),
                rack: "rack1".into(),
                initial_token: token(n, self.nodes),
            })
            .collect()
    }
}

/// `127.0.0.n`: every address of 127.0.0.0/8 is the loopback interface on Linux.
pub(crate) fn node_address(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, u8::try_from(n).unwrap_or(u8::MAX))
}

/// Murmur3 tokens `i64::MIN + k·2⁶⁴/nodes`: node 1 owns the range ending at `i64::MIN`, the rest
/// split the ring evenly (what `nodetool` docs compute for `initial_token`).
fn token(n: usize, nodes: usize) -> i64 {
    let step = (1u128 << 64) / nodes as u128;
    let offset = step * (n as u128 - 1);
    // i64::MIN + offset, with offset < 2^64: wrap through u64 two's complement.
    (i64::MIN as u64).wrapping_add(offset as u64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_nodes_in_one_dc() {
        let p = Topology::new(3, 1).unwrap().placements();
        let addresses: Vec<String> = p.iter().map(|p| p.address.to_string()).collect();
        assert_eq!(addresses, ["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
        assert!(p.iter().all(|p| p.dc == "dc1"));
        assert_eq!(
            p.iter().map(|p| p.initial_token).collect::<Vec<_>>(),
            [
                i64::MIN,
                -3_074_457_345_618_258_603,
                3_074_457_345_618_258_602
            ]
        );
    }

    #[test]
    fn two_dcs_put_the_last_node_alone_in_dc2() {
        let t = Topology::new(3, 2).unwrap();
        let dcs: Vec<String> = t.placements().into_iter().map(|p| p.dc).collect();
        assert_eq!(dcs, ["dc1", "dc1", "dc2"]);
    }

    #[test]
    fn impossible_layouts_are_refused() {
        assert!(Topology::new(1, 1).is_err());
        assert!(Topology::new(4, 1).is_err());
        assert!(Topology::new(3, 3).is_err());
        assert!(Topology::new(3, 0).is_err());
        assert!(Topology::new(2, 2).is_ok());
    }
}
