//! The tables a node serves: `system.local`, `system.peers`, `system.peers_v2` and
//! `system_schema.keyspaces` built from the cluster's node descriptions (and its quirks), and the
//! user table `ks.t (k int PRIMARY KEY, v text)` holding rows `k = 0, 1, …`, `v = "v<k>"`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use bytes::Bytes;
use cql4_frame::response::Response;
use cql4_frame::rows::TableSpec;
use cql4_frame::types::ColumnType;
use cql4_frame::value::CqlValue;

use super::cql::Operand;
use super::spec::{opaque_tokens, KEYSPACES_PARTITIONER, MURMUR3_PARTITIONER};
use super::ClusterState;
use crate::frames;

/// The user keyspace and table every node serves.
pub const USER_KEYSPACE: &str = "ks";
/// See [`USER_KEYSPACE`].
pub const USER_TABLE: &str = "t";

/// A table's columns and rows.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub(crate) spec: TableSpec,
    pub(crate) columns: Vec<(String, ColumnType)>,
    pub(crate) rows: Vec<Vec<Option<CqlValue>>>,
    /// The partition key column.
    pub(crate) partition_key: &'static str,
}

fn text(s: &str) -> Option<CqlValue> {
    Some(CqlValue::Text(s.to_owned()))
}

fn inet(ip: IpAddr) -> Option<CqlValue> {
    Some(CqlValue::Inet(ip))
}

fn int(i: u16) -> Option<CqlValue> {
    Some(CqlValue::Int(i32::from(i)))
}

fn cols(list: &[(&str, ColumnType)]) -> Vec<(String, ColumnType)> {
    list.iter()
        .map(|(n, t)| ((*n).to_owned(), t.clone()))
        .collect()
}

fn tokens_type() -> ColumnType {
    ColumnType::Set(Box::new(ColumnType::Text))
}

const SCHEMA_VERSION: [u8; 16] = [
    0x5c, 0x4e, 0x3a, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1,
];

/// `keyspace.name` as node `node` (0-based) serves it, or `None` when it has no such table.
pub(crate) fn lookup(
    cluster: &ClusterState,
    node: usize,
    keyspace: &str,
    name: &str,
) -> Option<Table> {
    match (keyspace, name) {
        ("system", "local") => Some(local(cluster, node)),
        ("system", "peers") => Some(peers(cluster, node, false)),
        ("system", "peers_v2") if !cluster.quirks.no_peers_v2 => Some(peers(cluster, node, true)),
        ("system_schema", "keyspaces") => Some(keyspaces(cluster)),
        (USER_KEYSPACE, USER_TABLE) => Some(user_table(cluster.table_rows)),
        _ => None,
    }
}

fn tokens_of(cluster: &ClusterState, node: usize) -> Option<CqlValue> {
    let spec = &cluster.nodes.get(node)?.spec;
    let tokens = if cluster.quirks.keyspaces_tokens {
        opaque_tokens(spec)
    } else {
        spec.tokens.clone()
    };
    Some(CqlValue::Set(
        tokens.into_iter().map(CqlValue::Text).collect(),
    ))
}

fn local(cluster: &ClusterState, node: usize) -> Table {
    let columns = cols(&[
        ("key", ColumnType::Text),
        ("bootstrapped", ColumnType::Text),
        ("broadcast_address", ColumnType::Inet),
        ("cluster_name", ColumnType::Text),
        ("cql_version", ColumnType::Text),
        ("data_center", ColumnType::Text),
        ("host_id", ColumnType::Uuid),
        ("listen_address", ColumnType::Inet),
        ("native_protocol_version", ColumnType::Text),
        ("partitioner", ColumnType::Text),
        ("rack", ColumnType::Text),
        ("release_version", ColumnType::Text),
        ("rpc_address", ColumnType::Inet),
        ("schema_version", ColumnType::Uuid),
        ("tokens", tokens_type()),
    ]);
    let mut rows = Vec::new();
    if let Some(entry) = cluster.nodes.get(node) {
        let own = entry.addr.ip();
        let reported = cluster.quirks.local_rpc_address.unwrap_or(own);
        let partitioner = if cluster.quirks.keyspaces_tokens {
            KEYSPACES_PARTITIONER
        } else {
            MURMUR3_PARTITIONER
        };
        let cluster_name = if cluster.keyspaces_values {
            "Amazon Keyspaces"
        } else {
            "cql4 emulated cluster"
        };
        rows.push(vec![
            text("local"),
            text("COMPLETED"),
            inet(reported),
            text(cluster_name),
            text("3.4.4"),
            text(&entry.spec.datacenter),
            Some(CqlValue::Uuid(entry.spec.host_id)),
            inet(own),
            text("4"),
            text(partitioner),
            text(&entry.spec.rack),
            text(&entry.spec.release_version),
            inet(reported),
            Some(CqlValue::Uuid(SCHEMA_VERSION)),
            tokens_of(cluster, node),
        ]);
    }
    Table {
        spec: TableSpec {
            keyspace: "system".into(),
            table: "local".into(),
        },
        columns,
        rows,
        partition_key: "key",
    }
}

/// The peer rows of node `node`: the other nodes (the first `visible_peers` of them), itself
/// when [`super::Builder::self_in_peers`], each twice when
/// [`super::Builder::duplicate_peer_rows`] (the copy at 127.0.0.1).
fn peers(cluster: &ClusterState, node: usize, v2: bool) -> Table {
    let columns = if v2 {
        cols(&[
            ("peer", ColumnType::Inet),
            ("peer_port", ColumnType::Int),
            ("data_center", ColumnType::Text),
            ("host_id", ColumnType::Uuid),
            ("native_address", ColumnType::Inet),
            ("native_port", ColumnType::Int),
            ("preferred_ip", ColumnType::Inet),
            ("preferred_port", ColumnType::Int),
            ("rack", ColumnType::Text),
            ("release_version", ColumnType::Text),
            ("schema_version", ColumnType::Uuid),
            ("tokens", tokens_type()),
        ])
    } else {
        cols(&[
            ("peer", ColumnType::Inet),
            ("data_center", ColumnType::Text),
            ("host_id", ColumnType::Uuid),
            ("preferred_ip", ColumnType::Inet),
            ("rack", ColumnType::Text),
            ("release_version", ColumnType::Text),
            ("rpc_address", ColumnType::Inet),
            ("schema_version", ColumnType::Uuid),
            ("tokens", tokens_type()),
        ])
    };
    let q = &cluster.quirks;
    let others = (0..cluster.nodes.len())
        .filter(|i| *i != node)
        .take(q.visible_peers.unwrap_or(usize::MAX));
    let listed: Vec<usize> = q
        .self_in_peers
        .then_some(node)
        .into_iter()
        .chain(others)
        .collect();
    let mut rows = Vec::new();
    for i in listed {
        let Some(entry) = cluster.nodes.get(i) else {
            continue;
        };
        let mut addresses = vec![entry.addr];
        if q.duplicate_peers {
            addresses.push(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                entry.addr.port(),
            ));
        }
        for addr in addresses {
            let s = &entry.spec;
            let ip = addr.ip();
            rows.push(if v2 {
                vec![
                    inet(ip),
                    Some(CqlValue::Int(7000)),
                    text(&s.datacenter),
                    Some(CqlValue::Uuid(s.host_id)),
                    inet(ip),
                    int(addr.port()),
                    None,
                    None,
                    text(&s.rack),
                    text(&s.release_version),
                    Some(CqlValue::Uuid(SCHEMA_VERSION)),
                    tokens_of(cluster, i),
                ]
            } else {
                vec![
                    inet(ip),
                    text(&s.datacenter),
                    Some(CqlValue::Uuid(s.host_id)),
                    None,
                    text(&s.rack),
                    text(&s.release_version),
                    inet(ip),
                    Some(CqlValue::Uuid(SCHEMA_VERSION)),
                    tokens_of(cluster, i),
                ]
            });
        }
    }
    Table {
        spec: TableSpec {
            keyspace: "system".into(),
            table: if v2 { "peers_v2" } else { "peers" }.into(),
        },
        columns,
        rows,
        partition_key: "peer",
    }
}

fn keyspaces(cluster: &ClusterState) -> Table {
    let map_type = ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text));
    let columns = cols(&[
        ("keyspace_name", ColumnType::Text),
        ("durable_writes", ColumnType::Boolean),
        ("replication", map_type),
    ]);
    let rows = cluster
        .keyspaces
        .iter()
        .map(|(name, replication)| {
            vec![
                text(name),
                Some(CqlValue::Boolean(true)),
                Some(CqlValue::Map(
                    replication
                        .iter()
                        .map(|(k, v)| (CqlValue::Text(k.clone()), CqlValue::Text(v.clone())))
                        .collect(),
                )),
            ]
        })
        .collect();
    Table {
        spec: TableSpec {
            keyspace: "system_schema".into(),
            table: "keyspaces".into(),
        },
        columns,
        rows,
        partition_key: "keyspace_name",
    }
}

fn user_table(count: usize) -> Table {
    let rows = (0..count)
        .map(|k| {
            let k = i32::try_from(k).unwrap_or(i32::MAX);
            vec![Some(CqlValue::Int(k)), text(&format!("v{k}"))]
        })
        .collect();
    Table {
        spec: frames::table(),
        columns: cols(&[("k", ColumnType::Int), ("v", ColumnType::Text)]),
        rows,
        partition_key: "k",
    }
}

/// A page request: its page size, paging state and whether a first page must come empty.
pub(crate) struct PageRequest<'a> {
    pub(crate) page_size: Option<i32>,
    pub(crate) paging_state: Option<&'a [u8]>,
    pub(crate) empty_first: bool,
}

impl Table {
    /// The type of `column`.
    pub(crate) fn column_type(&self, column: &str) -> Option<&ColumnType> {
        self.columns
            .iter()
            .find(|(n, _)| n == column)
            .map(|(_, t)| t)
    }

    /// The listed columns (all for `None`) of the rows meeting every condition; `values` are
    /// the statement's bound values, in marker order. Errors are Invalid messages.
    pub(crate) fn select(
        mut self,
        columns: Option<&[String]>,
        conditions: &[(String, Operand)],
        values: &[Option<Bytes>],
    ) -> Result<Self, String> {
        for (column, operand) in conditions {
            let (index, ty) = self
                .columns
                .iter()
                .enumerate()
                .find(|(_, (n, _))| n == column)
                .map(|(i, (_, t))| (i, t.clone()))
                .ok_or_else(|| format!("Undefined column name {column}"))?;
            let wanted: Option<Vec<u8>> = match operand {
                Operand::Marker(m) => values.get(*m).cloned().flatten().map(|b| b.to_vec()),
                Operand::Literal(lit) => literal(lit, &ty),
            };
            if let Some(wanted) = wanted {
                self.rows.retain(|row| {
                    row.get(index)
                        .cloned()
                        .flatten()
                        .and_then(|v| serialize(&v, &ty))
                        == Some(wanted.clone())
                });
            }
        }
        let Some(columns) = columns else {
            return Ok(self);
        };
        let mut picked = Vec::with_capacity(columns.len());
        for column in columns {
            let index = self
                .columns
                .iter()
                .position(|(n, _)| n == column)
                .ok_or_else(|| format!("Undefined column name {column}"))?;
            picked.push(index);
        }
        self.columns = picked
            .iter()
            .filter_map(|i| self.columns.get(*i).cloned())
            .collect();
        self.rows = self
            .rows
            .iter()
            .map(|row| {
                picked
                    .iter()
                    .map(|i| row.get(*i).cloned().flatten())
                    .collect()
            })
            .collect();
        Ok(self)
    }

    /// One page of the rows as a RESULT Rows. The paging state is the next row's offset (8
    /// bytes, big-endian); with `empty_first`, a request without one gets no rows and the state
    /// of offset 0.
    pub(crate) fn page(&self, request: &PageRequest<'_>) -> Response {
        let offset = request
            .paging_state
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .map_or(0, |b| {
                usize::try_from(u64::from_be_bytes(b)).unwrap_or(usize::MAX)
            });
        let columns: Vec<(&str, ColumnType)> = self
            .columns
            .iter()
            .map(|(n, t)| (n.as_str(), t.clone()))
            .collect();
        let state = |next: usize| (next as u64).to_be_bytes();
        if request.empty_first && request.paging_state.is_none() {
            return frames::rows_of(self.spec.clone(), &columns, &[], Some(&state(0)));
        }
        let size = request
            .page_size
            .and_then(|s| usize::try_from(s).ok())
            .filter(|s| *s > 0)
            .unwrap_or(usize::MAX);
        let end = offset.saturating_add(size).min(self.rows.len());
        let rows: Vec<Vec<Option<Vec<u8>>>> = self
            .rows
            .get(offset.min(end)..end)
            .unwrap_or_default()
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&self.columns)
                    .map(|(v, (_, ty))| v.as_ref().and_then(|v| serialize(v, ty)))
                    .collect()
            })
            .collect();
        let next = (end < self.rows.len()).then(|| state(end));
        frames::rows_of(
            self.spec.clone(),
            &columns,
            &rows,
            next.as_ref().map(|s| &s[..]),
        )
    }
}

fn serialize(value: &CqlValue, ty: &ColumnType) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    value.serialize(ty, &mut out).ok()?;
    Some(out)
}

/// A literal's bytes as a `ty` value; `None` (the condition is ignored) for types this kit
/// does not parse.
fn literal(lit: &str, ty: &ColumnType) -> Option<Vec<u8>> {
    let value = match ty {
        ColumnType::Text | ColumnType::Ascii => CqlValue::Text(lit.to_owned()),
        ColumnType::Int => CqlValue::Int(lit.parse().ok()?),
        ColumnType::BigInt => CqlValue::BigInt(lit.parse().ok()?),
        _ => return None,
    };
    serialize(&value, ty)
}
