//! Reading the cluster through the control connection: `system.local`, `system.peers_v2`
//! (or `system.peers` where it does not exist, as on Amazon Keyspaces) and every keyspace's
//! replication.
//!
//! These queries, and the session's `USE`, run unprepared at `LOCAL_ONE`: Amazon Keyspaces
//! answers QUORUM, ALL and ANY with Invalid and refuses to PREPARE a system table.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use cql4_conn::{Client, Error, QueryOptions, Result};
use cql4_frame::response::ErrorCode;
use cql4_frame::rows::Rows;
use cql4_frame::Consistency;
use cql4_topology::{ClusterInfo, ReplicationStrategy, Topology};

/// Options of the session's own queries.
pub(crate) fn system_options() -> QueryOptions {
    QueryOptions::new().with_consistency(Consistency::LOCAL_ONE)
}

/// Whether `system.peers_v2` exists, learned on first use.
#[derive(Debug)]
pub(crate) struct PeersTable {
    v2_missing: AtomicBool,
}

impl PeersTable {
    pub(crate) fn new() -> Self {
        Self {
            v2_missing: AtomicBool::new(false),
        }
    }

    /// The rows of `system.peers_v2`, or of `system.peers` when the server has no v2 table
    /// (Cassandra 3 and Keyspaces answer Invalid, older servers a syntax error).
    async fn read(&self, client: &Client) -> Result<Rows> {
        if !self.v2_missing.load(Ordering::Relaxed) {
            match client
                .query("SELECT * FROM system.peers_v2", (), &system_options())
                .await
            {
                Ok(r) => return rows(r.into_rows(), "system.peers_v2"),
                // Only "no such table" answers mean no v2 for good; an overloaded or timed-out
                // read is an error of this refresh only.
                Err(Error::Server(e))
                    if e.code == ErrorCode::INVALID || e.code == ErrorCode::SYNTAX_ERROR =>
                {
                    tracing::debug!(error = %e.message, "no system.peers_v2: reading system.peers");
                    self.v2_missing.store(true, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        let r = client
            .query("SELECT * FROM system.peers", (), &system_options())
            .await?;
        rows(r.into_rows(), "system.peers")
    }
}

fn rows(rows: Option<Rows>, table: &str) -> Result<Rows> {
    rows.ok_or_else(|| Error::Protocol(format!("SELECT from {table} returned no rows result")))
}

/// The whole topology as the node at `contact` (the control connection's socket address)
/// describes it.
pub(crate) async fn read_topology(
    client: &Client,
    contact: SocketAddr,
    peers: &PeersTable,
) -> Result<Topology> {
    let local = client
        .query("SELECT * FROM system.local", (), &system_options())
        .await?;
    let local = rows(local.into_rows(), "system.local")?;
    let peer_rows = peers.read(client).await?;
    let cluster = ClusterInfo::from_rows(contact, &local, &peer_rows);
    for ignored in &cluster.ignored {
        tracing::debug!(?ignored, "peer row not used");
    }
    let keyspaces = read_keyspaces(client).await?;
    Ok(Topology::new(cluster, keyspaces))
}

/// Every keyspace's replication strategy. A server without `system_schema` (or one that
/// refuses it) gives none: no token map, round robin.
async fn read_keyspaces(client: &Client) -> Result<Vec<(String, ReplicationStrategy)>> {
    let result = match client
        .query(
            "SELECT keyspace_name, replication FROM system_schema.keyspaces",
            (),
            &system_options().with_page_size(-1),
        )
        .await
    {
        Ok(r) => r,
        Err(Error::Server(e)) => {
            tracing::debug!(error = %e.message, "system_schema.keyspaces unreadable: no replica map");
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    let Some(rows) = result.rows() else {
        return Ok(Vec::new());
    };
    let mut keyspaces = Vec::new();
    for row in rows.iter() {
        let Ok(Some(name)) = row.get::<Option<&str>>(0) else {
            continue;
        };
        let map: BTreeMap<String, String> = row
            .get::<Option<BTreeMap<String, String>>>(1)
            .ok()
            .flatten()
            .unwrap_or_default();
        keyspaces.push((
            name.to_owned(),
            ReplicationStrategy::from_replication_map(
                map.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            ),
        ));
    }
    Ok(keyspaces)
}
