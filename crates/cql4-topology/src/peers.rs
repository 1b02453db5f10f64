//! The cluster as the control connection sees it: `system.local` and `system.peers` (or
//! `system.peers_v2`) rows turned into the nodes to dial.
//!
//! Amazon Keyspaces emulates these tables (see `KEYSPACES.md` in the shared notes): over a
//! VPC endpoint `system.local` reports `127.0.0.1` and the control node also appears in its
//! own `system.peers` with the same `host_id`; a driver that believed `rpc_address` dialed
//! 127.0.0.1 and ended with "no hosts available" (gocql #1873). So:
//! - the control node is dialed at the socket address the connection used, never at
//!   `system.local.rpc_address`;
//! - a peer row with the control node's `host_id` or dial address is ignored;
//! - peers are de-duplicated by `host_id` (and by dial address);
//! - a loopback peer address is dialed only when the contact point itself is loopback;
//! - `rpc_address` `0.0.0.0` (or `::`), the "bind everywhere" address, falls back to `peer`;
//! - zero or one peer is a working cluster, and no row is ever an error: what cannot be used
//!   is listed in [`ClusterInfo::ignored`] with the reason, for the session to log.

use std::net::{IpAddr, SocketAddr};

use cql4_frame::rows::{Row, Rows};
use cql4_frame::value::FromCql;

/// The `system.local` columns the session uses. Absent columns (Keyspaces omits some) and
/// nulls are `None`/empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalRow {
    /// `host_id`.
    pub host_id: Option<[u8; 16]>,
    /// `rpc_address`: kept for diagnostics only, never dialed.
    pub rpc_address: Option<IpAddr>,
    /// `data_center`.
    pub datacenter: Option<String>,
    /// `rack`.
    pub rack: Option<String>,
    /// `tokens`, as text.
    pub tokens: Vec<String>,
    /// `release_version`.
    pub release_version: Option<String>,
    /// `partitioner`, e.g. `org.apache.cassandra.dht.Murmur3Partitioner`.
    pub partitioner: Option<String>,
}

impl LocalRow {
    /// Reads a `system.local` row (`SELECT * FROM system.local`).
    pub fn from_row(row: &Row<'_>) -> Self {
        Self {
            host_id: column(row, "host_id"),
            rpc_address: column(row, "rpc_address"),
            datacenter: column(row, "data_center"),
            rack: column(row, "rack"),
            tokens: column(row, "tokens").unwrap_or_default(),
            release_version: column(row, "release_version"),
            partitioner: column(row, "partitioner"),
        }
    }
}

/// The `system.peers` / `system.peers_v2` columns the session uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerRow {
    /// `peer`: the node's internode (listen) address.
    pub peer: Option<IpAddr>,
    /// `rpc_address` (`system.peers`) or `native_address` (`system.peers_v2`): where clients
    /// connect.
    pub rpc_address: Option<IpAddr>,
    /// `native_port` (`system.peers_v2` only); `system.peers` has no client port, so the
    /// contact point's port is used.
    pub native_port: Option<u16>,
    /// `host_id`.
    pub host_id: Option<[u8; 16]>,
    /// `data_center`.
    pub datacenter: Option<String>,
    /// `rack`.
    pub rack: Option<String>,
    /// `tokens`, as text.
    pub tokens: Vec<String>,
    /// `release_version`.
    pub release_version: Option<String>,
}

impl PeerRow {
    /// Reads a `system.peers` or `system.peers_v2` row (`SELECT * FROM …`).
    pub fn from_row(row: &Row<'_>) -> Self {
        Self {
            peer: column(row, "peer"),
            rpc_address: column(row, "rpc_address").or_else(|| column(row, "native_address")),
            native_port: column::<i32>(row, "native_port").and_then(|p| u16::try_from(p).ok()),
            host_id: column(row, "host_id"),
            datacenter: column(row, "data_center"),
            rack: column(row, "rack"),
            tokens: column(row, "tokens").unwrap_or_default(),
            release_version: column(row, "release_version"),
        }
    }
}

/// A column that is absent, null or of an unexpected type reads as `None`: the emulated
/// tables vary, and a topology row must never fail the control connection.
fn column<'r, T: FromCql<'r>>(row: &Row<'r>, name: &str) -> Option<T> {
    row.get_by_name::<Option<T>>(name).ok().flatten()
}

/// A node to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeInfo {
    /// `host_id`; `None` only for the control node when `system.local` lacks it.
    pub host_id: Option<[u8; 16]>,
    /// The address to dial.
    pub address: SocketAddr,
    /// `data_center`.
    pub datacenter: Option<String>,
    /// `rack`.
    pub rack: Option<String>,
    /// `tokens`, as text: parsed by [`crate::Topology`] only when the partitioner is Murmur3.
    pub tokens: Vec<String>,
    /// `release_version`.
    pub release_version: Option<String>,
}

impl NodeInfo {
    /// A node known only by its address (a single-host session's node, before or without
    /// reading `system.local`).
    pub fn at(address: SocketAddr) -> Self {
        Self {
            host_id: None,
            address,
            datacenter: None,
            rack: None,
            tokens: Vec::new(),
            release_version: None,
        }
    }
}

/// Why a peer row was not turned into a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IgnoredReason {
    /// The row describes the control node itself (same `host_id` or same address).
    ControlNode,
    /// Another row already had this `host_id`.
    DuplicateHostId,
    /// Another node already has this address.
    DuplicateAddress,
    /// The row has no `host_id`.
    NoHostId,
    /// Neither `rpc_address`/`native_address` nor `peer` holds a usable address.
    NoAddress,
    /// A loopback address, while the contact point is not loopback: it would be this
    /// client's own machine.
    Loopback,
}

/// A peer row that was not used, for the session to log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IgnoredPeer {
    /// The row's `host_id`.
    pub host_id: Option<[u8; 16]>,
    /// The address it would have been dialed at, if any.
    pub address: Option<SocketAddr>,
    /// Why it was ignored.
    pub reason: IgnoredReason,
}

/// The nodes of the cluster, from the control connection's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterInfo {
    /// The control node first (dialed at the contact address), then the usable peers in row
    /// order.
    pub nodes: Vec<NodeInfo>,
    /// `system.local.partitioner`.
    pub partitioner: Option<String>,
    /// Peer rows that were not used, and why.
    pub ignored: Vec<IgnoredPeer>,
}

impl ClusterInfo {
    /// Joins the control node's `system.local` row and its peer rows. `contact` is the socket
    /// address the control connection is connected to.
    pub fn new(
        contact: SocketAddr,
        local: LocalRow,
        peers: impl IntoIterator<Item = PeerRow>,
    ) -> Self {
        let control = NodeInfo {
            host_id: local.host_id,
            address: contact,
            datacenter: local.datacenter,
            rack: local.rack,
            tokens: local.tokens,
            release_version: local.release_version,
        };
        let contact_is_loopback = canonical(contact.ip()).is_loopback();
        let mut nodes = vec![control];
        let mut ignored = Vec::new();
        for row in peers {
            let address = dial_address(&row, contact.port());
            let verdict = match (row.host_id, address) {
                (None, _) => Err(IgnoredReason::NoHostId),
                (Some(id), _) if local.host_id == Some(id) => Err(IgnoredReason::ControlNode),
                (_, None) => Err(IgnoredReason::NoAddress),
                (_, Some(a)) if same_address(a, contact) => Err(IgnoredReason::ControlNode),
                (Some(id), _) if nodes.iter().any(|n| n.host_id == Some(id)) => {
                    Err(IgnoredReason::DuplicateHostId)
                }
                (_, Some(a)) if nodes.iter().any(|n| same_address(n.address, a)) => {
                    Err(IgnoredReason::DuplicateAddress)
                }
                (_, Some(a)) if canonical(a.ip()).is_loopback() && !contact_is_loopback => {
                    Err(IgnoredReason::Loopback)
                }
                (Some(_), Some(a)) => Ok(a),
            };
            match verdict {
                Ok(address) => nodes.push(NodeInfo {
                    host_id: row.host_id,
                    address,
                    datacenter: row.datacenter,
                    rack: row.rack,
                    tokens: row.tokens,
                    release_version: row.release_version,
                }),
                Err(reason) => ignored.push(IgnoredPeer {
                    host_id: row.host_id,
                    address,
                    reason,
                }),
            }
        }
        Self {
            nodes,
            partitioner: local.partitioner,
            ignored,
        }
    }

    /// [`ClusterInfo::new`] from the pages of `SELECT * FROM system.local` and
    /// `SELECT * FROM system.peers` (or `peers_v2`). A `system.local` page without a row
    /// gives the control node with no details.
    pub fn from_rows(contact: SocketAddr, local: &Rows, peers: &Rows) -> Self {
        let local = local
            .iter()
            .next()
            .map(|row| LocalRow::from_row(&row))
            .unwrap_or_default();
        Self::new(
            contact,
            local,
            peers.iter().map(|row| PeerRow::from_row(&row)),
        )
    }
}

/// `rpc_address` unless unusable (absent or the unspecified "any" address), then `peer`.
fn dial_address(row: &PeerRow, default_port: u16) -> Option<SocketAddr> {
    let usable = |ip: &IpAddr| !canonical(*ip).is_unspecified();
    let ip = row
        .rpc_address
        .filter(usable)
        .or_else(|| row.peer.filter(usable))?;
    let port = row.native_port.filter(|p| *p != 0).unwrap_or(default_port);
    Some(SocketAddr::new(ip, port))
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) compared and classified as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn same_address(a: SocketAddr, b: SocketAddr) -> bool {
    canonical(a.ip()) == canonical(b.ip()) && a.port() == b.port()
}

#[cfg(test)]
mod tests;
