//! The Amazon Keyspaces behaviours the emulated cluster can switch on, each a [`Builder`]
//! method citing the line of the shared notes (`KEYSPACES.md`) it reproduces. Everything is off
//! by default: the cluster then behaves like Cassandra.

use std::net::{IpAddr, Ipv4Addr};

use cql4_frame::Consistency;

use super::Builder;

/// The consistency levels Keyspaces rejects (KEYSPACES.md "CQL surface": `dg/consistency.html`).
pub const KEYSPACES_REJECTED_CONSISTENCIES: &[Consistency] = &[
    Consistency::EACH_QUORUM,
    Consistency::QUORUM,
    Consistency::ALL,
    Consistency::TWO,
    Consistency::THREE,
    Consistency::ANY,
    Consistency::SERIAL,
    Consistency::LOCAL_SERIAL,
];

/// The switches, as the builder set them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Quirks {
    pub(crate) local_rpc_address: Option<IpAddr>,
    pub(crate) self_in_peers: bool,
    pub(crate) duplicate_peers: bool,
    pub(crate) visible_peers: Option<usize>,
    pub(crate) keyspaces_tokens: bool,
    pub(crate) rejected_consistencies: Vec<Consistency>,
    pub(crate) refuse_system_prepare: bool,
    pub(crate) no_peers_v2: bool,
    pub(crate) empty_first_pages: bool,
    pub(crate) loopback_contact_avoided: bool,
}

impl Builder {
    /// Every node's `system.local.rpc_address` (and `broadcast_address`) reads `127.0.0.1`.
    /// KEYSPACES.md: "Over VPC: … `system.local` reports `127.0.0.1`" (gocql #1873). Turns on
    /// the [loopback trap](Self::loopback_trap), so that a dial of 127.0.0.1 is seen.
    pub fn local_rpc_address_loopback(mut self) -> Self {
        self.quirks.local_rpc_address = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
        self.loopback_trap(true)
    }

    /// Every node lists itself in its own `system.peers` (same `host_id`, its own address).
    /// KEYSPACES.md: "Over VPC: the control node appears in its own `system.peers`".
    pub fn self_in_peers(mut self) -> Self {
        self.quirks.self_in_peers = true;
        self
    }

    /// Every peer row comes twice: the second copy has the same `host_id` and the address
    /// 127.0.0.1, so only de-duplication by `host_id` avoids dialing it. A generalization (by
    /// this kit) of KEYSPACES.md "Over VPC: … `system.local` reports `127.0.0.1` and shares a
    /// `host_id` with a peer row" (gocql #1873, whose log shows a 127.0.0.1 host carrying a
    /// peer's `host_id`) and of its rule "de-duplicate by `host_id`". Turns on the
    /// [loopback trap](Self::loopback_trap).
    pub fn duplicate_peer_rows(mut self) -> Self {
        self.quirks.duplicate_peers = true;
        self.loopback_trap(true)
    }

    /// `system.peers` (and `peers_v2`) list only the first `count` other nodes: 0 is the empty
    /// table of a VPC endpoint whose IAM identity lacks `ec2:DescribeNetworkInterfaces`, 1 a
    /// single peer. KEYSPACES.md: "VPC endpoint: one per AZ … and **empty** if …"; "work with 0
    /// or 1 peers". The unlisted nodes still run (and count the connections nobody should make).
    pub fn visible_peers(mut self, count: usize) -> Self {
        self.quirks.visible_peers = Some(count);
        self
    }

    /// Partitioner `com.amazonaws.cassandra.DefaultPartitioner` and tokens that are not numbers,
    /// in `system.local` and `system.peers`. KEYSPACES.md: "`partitioner
    /// 'com.amazonaws.cassandra.DefaultPartitioner'`, tokens that do not parse as Murmur3
    /// numbers (scylla-rust-driver #350)".
    pub fn keyspaces_tokens(mut self) -> Self {
        self.quirks.keyspaces_tokens = true;
        self
    }

    /// QUERY, EXECUTE and BATCH at one of `levels` fail with Invalid and Keyspaces' message
    /// ("Consistency level QUORUM is not supported for this operation. Supported consistency
    /// levels are: ONE, LOCAL_QUORUM, LOCAL_ONE"), whatever the statement (`USE` included).
    pub fn reject_consistencies(mut self, levels: &[Consistency]) -> Self {
        self.quirks.rejected_consistencies = levels.to_vec();
        self
    }

    /// [`Self::reject_consistencies`] with [`KEYSPACES_REJECTED_CONSISTENCIES`]. KEYSPACES.md
    /// "Errors and retries": "Unsupported consistency: Invalid (0x2200) …" (scylla #350, gocql
    /// #1422); "CQL surface": the rejected levels.
    pub fn keyspaces_consistency(self) -> Self {
        self.reject_consistencies(KEYSPACES_REJECTED_CONSISTENCIES)
    }

    /// PREPARE of a statement on a `system*` keyspace (`system`, `system_schema`, …) fails with
    /// Invalid. KEYSPACES.md "CQL surface": "PREPARE on system tables failed (gocql #1389,
    /// #1412)". The message text is this kit's: Keyspaces' own was not found.
    pub fn refuse_system_prepare(mut self) -> Self {
        self.quirks.refuse_system_prepare = true;
        self
    }

    /// `system.peers_v2` does not exist: a query of it fails with Invalid "unconfigured table
    /// peers_v2", as on Cassandra 3.11. KEYSPACES.md: "Only `system.peers` is documented (no
    /// `peers_v2`)".
    pub fn no_peers_v2(mut self) -> Self {
        self.quirks.no_peers_v2 = true;
        self
    }

    /// The first page of every SELECT of the user table has no rows and a paging state; the
    /// rows come on the next pages. KEYSPACES.md "Paging": "a page can hold fewer rows than
    /// asked, or none, and still carry a paging state".
    pub fn empty_first_pages(mut self) -> Self {
        self.quirks.empty_first_pages = true;
        self
    }

    /// The first node listens on this machine's non-loopback address
    /// ([`super::non_loopback_ip`]) while the others stay on 127.0.0.x: every peer row then
    /// holds a loopback address, which a session whose contact point is not loopback must not
    /// dial. KEYSPACES.md: "never dial loopback addresses from peers unless the contact point is
    /// loopback". [`super::EmulatedCluster::config`] points at the first node. Panics at
    /// [`Self::start`] when the machine has no such address (check `non_loopback_ip` first).
    pub fn loopback_peers(mut self) -> Self {
        self.quirks.loopback_contact_avoided = true;
        self
    }

    /// What KEYSPACES.md reports of a Keyspaces VPC endpoint, where a switch needs no
    /// parameter: [`Self::local_rpc_address_loopback`], [`Self::self_in_peers`],
    /// [`Self::keyspaces_tokens`], [`Self::keyspaces_consistency`],
    /// [`Self::refuse_system_prepare`], [`Self::no_peers_v2`], [`Self::empty_first_pages`], and
    /// Keyspaces' values in the system tables (`data_center` = `rack` = `us-east-1`,
    /// `release_version` 3.11.2, `cluster_name` `Amazon Keyspaces`, user keyspace replication
    /// `SingleRegionStrategy`). Not included: TLS ([`Self::tls_host_name`]), authentication
    /// ([`Self::authenticator`]), [`Self::visible_peers`], [`Self::loopback_peers`] and this
    /// kit's harsher [`Self::duplicate_peer_rows`].
    pub fn keyspaces_vpc_quirks(mut self) -> Self {
        self.keyspaces_values = true;
        self.local_rpc_address_loopback()
            .self_in_peers()
            .keyspaces_tokens()
            .keyspaces_consistency()
            .refuse_system_prepare()
            .no_peers_v2()
            .empty_first_pages()
    }
}
