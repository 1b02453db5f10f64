//! The topology and routing core of cql4's coming `Session`: pure logic, no sockets, no
//! clocks, no async runtime.
//!
//! **The `Session` itself is not here and not built yet**: pools, the control connection,
//! reconnection and load balancing will live in a tokio crate on top of this one. This crate
//! holds what they are built on, each piece a pure function or value with unit tests:
//!
//! - [`murmur3_token()`] — the token Cassandra's `Murmur3Partitioner` gives a partition key;
//! - [`routing_key()`] — the partition key of a bound prepared statement, from its
//!   `pk_indexes` and serialized values; [`routing_token()`] its token;
//! - [`TokenRing`] — every node's tokens, and the primary owner of a token;
//! - [`ReplicationStrategy`] / [`ReplicaMap`] — `SimpleStrategy` and
//!   `NetworkTopologyStrategy` replica placement, computed once per strategy;
//! - [`ClusterInfo`] — `system.local` and `system.peers`/`peers_v2` rows turned into nodes to
//!   dial, with the Amazon Keyspaces rules (its emulated tables report loopback addresses,
//!   list the control node among its own peers, and use a partitioner and tokens that are not
//!   Murmur3);
//! - [`Topology`] — all of it joined: keyspace + routing key → replicas in ring order, or
//!   `None` when the cluster has no usable token map (then: round robin).
//!
//! ```
//! use cql4_topology::{murmur3_token, Token};
//! // The token of the int partition key 1, as `SELECT token(k)` returns it.
//! assert_eq!(murmur3_token(&1i32.to_be_bytes()), Token(-4069959284402364209));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod murmur3;
pub mod peers;
pub mod replication;
pub mod routing_key;
pub mod token_ring;
pub mod topology;

pub use murmur3::murmur3_token;
pub use peers::{ClusterInfo, IgnoredPeer, IgnoredReason, LocalRow, NodeInfo, PeerRow};
pub use replication::{Location, ReplicaMap, ReplicationStrategy};
pub use routing_key::{routing_key, routing_key_from_indexes, routing_token};
pub use token_ring::{NodeIndex, Token, TokenRing};
pub use topology::{Replicas, Topology};
