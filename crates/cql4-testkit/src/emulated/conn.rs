//! One connection to an emulated node: the handshake (with the optional authenticator), then
//! every request answered from the node's tables, its quirks deciding the errors.
//!
//! ```text
//!   Startup ──STARTUP──► Ready                      (no authenticator)
//!   Startup ──STARTUP──► Authenticating ──AUTH_RESPONSE…──► Ready | (BAD_CREDENTIALS, stays)
//!   OPTIONS is answered in every state; any other request before Ready is a PROTOCOL_ERROR.
//! ```

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use cql4_frame::request::{BatchQuery, BoundValue, QueryParameters, QueryValues, Request};
use cql4_frame::response::{ErrorCode, ErrorDetails, Prepared, Response, ResultResponse};
use cql4_frame::rows::{ColumnSpec, MetadataFlags, PreparedMetadata, ResultMetadata};
use cql4_frame::types::ColumnType;
use cql4_frame::Consistency;
use tokio::sync::mpsc;

use super::auth::{self, Exchange, Verdict};
use super::cql::{self, Statement};
use super::node::{lock, NodeState, PreparedEntry, Registration, SeenRequest};
use super::tables::{self, PageRequest};
use crate::frames;
use crate::server::Peer;

enum Phase {
    Startup,
    Authenticating(Exchange),
    Ready,
}

/// Counts the connection as open while it lives (its task may be aborted at any await).
struct OpenGuard(Arc<NodeState>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Connection {
    node: Arc<NodeState>,
    id: usize,
    phase: Phase,
    keyspace: Option<String>,
    events: mpsc::UnboundedSender<cql4_frame::event::Event>,
}

fn invalid(message: impl Into<String>) -> Response {
    frames::error(ErrorCode::INVALID, &message.into(), ErrorDetails::None)
}

fn protocol_error(message: &str) -> Response {
    frames::error(ErrorCode::PROTOCOL_ERROR, message, ErrorDetails::None)
}

/// Runs the node's protocol on `peer` until the client closes, the test drops the node's
/// connections, or the node stops (which aborts this task).
pub(crate) async fn serve(node: Arc<NodeState>, mut peer: Peer) {
    let id = node.connections.fetch_add(1, Ordering::SeqCst);
    node.open.fetch_add(1, Ordering::SeqCst);
    let _open = OpenGuard(node.clone());
    let mut dropped = node.drop_epoch.subscribe();
    let (events, mut incoming) = mpsc::unbounded_channel();
    let mut conn = Connection {
        node,
        id,
        phase: Phase::Startup,
        keyspace: None,
        events,
    };
    loop {
        tokio::select! {
            request = peer.request() => {
                let Some(frame) = request else { return };
                let stream = frame.stream;
                let answer = conn.answer(frame);
                let delay = *lock(&conn.node.delay);
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                peer.respond(stream, answer).await;
            }
            Some(event) = incoming.recv() => peer.respond(-1, frames::event(event)).await,
            Ok(()) = dropped.changed() => {
                peer.close().await;
                return;
            }
        }
    }
}

fn consistency_of(message: &Request) -> Option<Consistency> {
    match message {
        Request::Query(q) => Some(q.params.consistency),
        Request::Execute(e) => Some(e.params.consistency),
        Request::Batch(b) => Some(b.consistency),
        _ => None,
    }
}

fn values_of(params: &QueryParameters) -> Vec<Option<Bytes>> {
    let bound = |v: &BoundValue| match v {
        BoundValue::Bytes(b) => Some(b.clone()),
        BoundValue::Null | BoundValue::NotSet => None,
    };
    match &params.values {
        None => Vec::new(),
        Some(QueryValues::Positional(v)) => v.iter().map(bound).collect(),
        Some(QueryValues::Named(v)) => v.iter().map(|(_, b)| bound(b)).collect(),
    }
}

impl Connection {
    fn answer(&mut self, frame: cql4_frame::request::RequestFrame) -> Response {
        let consistency = consistency_of(&frame.message);
        let cql = match &frame.message {
            Request::Query(q) => Some(q.query.clone()),
            Request::Prepare(p) => Some(p.query.clone()),
            Request::Execute(e) => lock(&self.node.prepared)
                .get(&e.id)
                .map(|p| p.query.clone()),
            _ => None,
        };
        let seen = SeenRequest {
            connection: self.id,
            opcode: frame.message.opcode(),
            consistency,
            cql,
            frame: frame.clone(),
        };
        lock(&self.node.requests).push(seen.clone());
        if let Request::Options = frame.message {
            return frames::supported(&[
                ("CQL_VERSION", &["3.4.4"]),
                ("PROTOCOL_VERSIONS", &["4/v4"]),
            ]);
        }
        match (&mut self.phase, frame.message) {
            (Phase::Startup, Request::Startup(startup)) => {
                if startup.options.iter().any(|(k, _)| k == "COMPRESSION") {
                    return protocol_error("this node offers no compression");
                }
                match &self.node.cluster.authenticator {
                    Some(class) => {
                        self.phase = Phase::Authenticating(Exchange::Started);
                        frames::authenticate(class)
                    }
                    None => {
                        self.phase = Phase::Ready;
                        frames::ready()
                    }
                }
            }
            (Phase::Authenticating(exchange), Request::AuthResponse(token)) => {
                let password = lock(&self.node.cluster.credentials).clone();
                let seed = (self.node.index as u64) << 32 | self.id as u64;
                let verdict = auth::answer(
                    exchange,
                    token.token.as_deref().unwrap_or_default(),
                    password.as_ref(),
                    seed,
                );
                match verdict {
                    Verdict::Challenge(c) => frames::auth_challenge(Some(&c)),
                    Verdict::Success(login) => {
                        lock(&self.node.logins).push(login);
                        self.phase = Phase::Ready;
                        frames::auth_success(None)
                    }
                    Verdict::Refused(message) => {
                        // The client may start over on the same connection.
                        *exchange = Exchange::Started;
                        frames::error(ErrorCode::BAD_CREDENTIALS, &message, ErrorDetails::None)
                    }
                }
            }
            (Phase::Ready, message) => {
                let intercept = lock(&self.node.intercept).clone();
                match intercept.and_then(|answer| answer(&seen)) {
                    Some(response) => response,
                    None => self.ready(message, consistency),
                }
            }
            (_, message) => protocol_error(&format!(
                "unexpected {} before the handshake ended",
                message.opcode().name().unwrap_or("request")
            )),
        }
    }

    fn ready(&mut self, message: Request, consistency: Option<Consistency>) -> Response {
        if let Some(c) = consistency {
            if self.node.cluster.quirks.rejected_consistencies.contains(&c) {
                return invalid(format!(
                    "Consistency level {} is not supported for this operation. Supported \
                     consistency levels are: ONE, LOCAL_QUORUM, LOCAL_ONE",
                    c.name().unwrap_or("unknown")
                ));
            }
        }
        match message {
            Request::Register(r) => {
                lock(&self.node.registrations).push(Registration {
                    types: r.event_types,
                    events: self.events.clone(),
                });
                frames::ready()
            }
            Request::Query(q) => {
                let values = values_of(&q.params);
                self.run(&q.query, &q.params, &values)
            }
            Request::Prepare(p) => self.prepare(&p.query),
            Request::Execute(e) => {
                let entry = lock(&self.node.prepared).get(&e.id).cloned();
                let Some(entry) = entry else {
                    return frames::unprepared(&e.id);
                };
                let values = values_of(&e.params);
                let current = std::mem::replace(&mut self.keyspace, entry.keyspace);
                let answer = self.run(&entry.query, &e.params, &values);
                // USE through EXECUTE changes the connection's keyspace; nothing else does.
                if !matches!(answer, Response::Result(ResultResponse::SetKeyspace(_))) {
                    self.keyspace = current;
                }
                answer
            }
            Request::Batch(b) => {
                let known = lock(&self.node.prepared);
                for s in &b.statements {
                    if let BatchQuery::Prepared(id) = &s.query {
                        if !known.contains_key(id) {
                            return frames::unprepared(id);
                        }
                    }
                }
                frames::void()
            }
            other => protocol_error(&format!(
                "unexpected {} after the handshake",
                other.opcode().name().unwrap_or("request")
            )),
        }
    }

    fn run(&mut self, query: &str, params: &QueryParameters, values: &[Option<Bytes>]) -> Response {
        let cluster = self.node.cluster.clone();
        match cql::parse(query) {
            Statement::Use(ks) => {
                if cluster.keyspaces.iter().any(|(name, _)| *name == ks) {
                    self.keyspace = Some(ks.clone());
                    frames::set_keyspace(&ks)
                } else {
                    invalid(format!("Keyspace '{ks}' does not exist"))
                }
            }
            Statement::Select {
                columns,
                table,
                conditions,
            } => {
                let Some(keyspace) = table.keyspace_or(self.keyspace.as_deref()) else {
                    return invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename");
                };
                let Some(found) = tables::lookup(&cluster, self.node.index, keyspace, &table.table)
                else {
                    return invalid(format!("unconfigured table {}", table.table));
                };
                let user = found.spec.keyspace == tables::USER_KEYSPACE;
                match found.select(columns.as_deref(), &conditions, values) {
                    Ok(selected) => selected.page(&PageRequest {
                        page_size: params.page_size,
                        paging_state: params.paging_state.as_deref(),
                        empty_first: user && cluster.quirks.empty_first_pages,
                    }),
                    Err(e) => invalid(e),
                }
            }
            Statement::Write { .. } | Statement::Other => frames::void(),
        }
    }

    fn prepare(&mut self, query: &str) -> Response {
        let cluster = self.node.cluster.clone();
        let statement = cql::parse(query);
        let keyspace = statement
            .table()
            .and_then(|t| t.keyspace_or(self.keyspace.as_deref()))
            .map(str::to_owned);
        if cluster.quirks.refuse_system_prepare
            && keyspace.as_deref().is_some_and(|k| k.starts_with("system"))
        {
            return invalid(format!(
                "PREPARE of a statement on {} is not supported (emulated Keyspaces)",
                keyspace.as_deref().unwrap_or_default()
            ));
        }
        let table = statement.table().and_then(|t| {
            let ks = t.keyspace_or(self.keyspace.as_deref())?;
            tables::lookup(&cluster, self.node.index, ks, &t.table)
        });
        // Writes to tables the node does not model are accepted, as their QUERY is.
        if let (Statement::Select { table: name, .. }, None) = (&statement, &table) {
            return invalid(format!("unconfigured table {}", name.table));
        }
        let markers = cql::marker_columns(query);
        let bound: Vec<ColumnSpec> = markers
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let name = name.clone().unwrap_or_else(|| format!("?{i}"));
                let ty = table
                    .as_ref()
                    .and_then(|t| t.column_type(&name).cloned())
                    .unwrap_or(ColumnType::Blob);
                ColumnSpec::new(name, ty)
            })
            .collect();
        let pk_indexes = table.as_ref().map_or_else(Vec::new, |t| {
            markers
                .iter()
                .enumerate()
                .filter(|(_, m)| m.as_deref() == Some(t.partition_key))
                .filter_map(|(i, _)| u16::try_from(i).ok())
                .collect()
        });
        let spec = table.as_ref().map(|t| t.spec.clone());
        let result = match (&statement, &table) {
            (Statement::Select { columns, .. }, Some(t)) => {
                match t.clone().select(columns.as_deref(), &[], &[]) {
                    Ok(s) => s
                        .columns
                        .into_iter()
                        .map(|(n, ty)| ColumnSpec::new(n, ty))
                        .collect(),
                    Err(e) => return invalid(e),
                }
            }
            _ => Vec::new(),
        };
        let id = statement_id(keyspace.as_deref(), query);
        lock(&self.node.prepared).insert(
            id.clone(),
            PreparedEntry {
                query: query.to_owned(),
                keyspace: self.keyspace.clone(),
            },
        );
        Response::Result(ResultResponse::Prepared(Box::new(Prepared {
            id,
            metadata: PreparedMetadata {
                flags: MetadataFlags::default()
                    .with(MetadataFlags::GLOBAL_TABLES_SPEC, spec.is_some()),
                pk_indexes,
                global_table_spec: spec.clone(),
                columns: bound,
            },
            result_metadata: ResultMetadata::new(
                if result.is_empty() { None } else { spec },
                result,
            ),
        })))
    }
}

/// The same id on every node for the same keyspace and text, as Cassandra's MD5 of both is:
/// a session that prepared on one node can execute the id on another that prepared it too.
fn statement_id(keyspace: Option<&str>, query: &str) -> Bytes {
    let mut id = Vec::with_capacity(16);
    for salt in [0x9e37_79b9_u32, 0x85eb_ca6b] {
        let mut h = DefaultHasher::new();
        (salt, keyspace, query).hash(&mut h);
        id.extend_from_slice(&h.finish().to_be_bytes());
    }
    Bytes::from(id)
}
