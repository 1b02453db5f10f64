//! One emulated node: its listener (a [`FakeServer`] running the node's protocol on every
//! connection), what it recorded, and the test's controls (drop its connections, stop it, start
//! it again, push an event).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use cql4_frame::event::Event;
use cql4_frame::request::RequestFrame;
use cql4_frame::response::Response;
use cql4_frame::{Consistency, Opcode};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use super::auth::Login;
use super::spec::NodeSpec;
use super::{conn, ClusterState};
use crate::server::FakeServer;

/// How long a connection may stay silent: a session's idle connections are normal here.
const IDLE: Duration = Duration::from_secs(24 * 3600);

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A connection task that panicked while holding the lock left consistent data.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A request a node received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SeenRequest {
    /// The node's connection it came on: 0 for the first the node accepted, then 1, 2, …
    /// (counting on across [`EmulatedNode::stop`] and [`EmulatedNode::start`]).
    pub connection: usize,
    /// Its opcode.
    pub opcode: Opcode,
    /// The consistency of a QUERY, EXECUTE or BATCH.
    pub consistency: Option<Consistency>,
    /// The CQL of a QUERY or PREPARE, and of the statement an EXECUTE runs (when the node
    /// knows the id).
    pub cql: Option<String>,
    /// The decoded frame.
    pub frame: RequestFrame,
}

/// A test's answer to some requests, before the node's own ([`EmulatedNode::intercept`]).
pub(crate) type Intercept = Arc<dyn Fn(&SeenRequest) -> Option<Response> + Send + Sync>;

/// A statement a node prepared.
#[derive(Debug, Clone)]
pub(crate) struct PreparedEntry {
    pub(crate) query: String,
    pub(crate) keyspace: Option<String>,
}

/// A connection that sent REGISTER.
pub(crate) struct Registration {
    pub(crate) types: Vec<String>,
    pub(crate) events: mpsc::UnboundedSender<Event>,
}

pub(crate) struct NodeState {
    /// 0-based.
    pub(crate) index: usize,
    pub(crate) addr: SocketAddr,
    pub(crate) cluster: Arc<ClusterState>,
    pub(crate) connections: AtomicUsize,
    pub(crate) open: AtomicUsize,
    pub(crate) requests: Mutex<Vec<SeenRequest>>,
    pub(crate) logins: Mutex<Vec<Login>>,
    pub(crate) registrations: Mutex<Vec<Registration>>,
    /// Bumped to close every open connection.
    pub(crate) drop_epoch: watch::Sender<u64>,
    pub(crate) prepared: Mutex<HashMap<Bytes, PreparedEntry>>,
    pub(crate) intercept: Mutex<Option<Intercept>>,
    pub(crate) delay: Mutex<Duration>,
    server: Mutex<Option<FakeServer>>,
    past_failures: Mutex<Vec<String>>,
}

/// A node of an [`super::EmulatedCluster`]: `cluster.node(2)`.
#[derive(Clone)]
pub struct EmulatedNode {
    pub(crate) state: Arc<NodeState>,
}

impl std::fmt::Debug for EmulatedNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedNode")
            .field("number", &self.number())
            .field("addr", &self.addr())
            .field("up", &self.is_up())
            .field("connections", &self.connections())
            .finish_non_exhaustive()
    }
}

impl EmulatedNode {
    pub(crate) fn new(index: usize, addr: SocketAddr, cluster: Arc<ClusterState>) -> Self {
        Self {
            state: Arc::new(NodeState {
                index,
                addr,
                cluster,
                connections: AtomicUsize::new(0),
                open: AtomicUsize::new(0),
                requests: Mutex::new(Vec::new()),
                logins: Mutex::new(Vec::new()),
                registrations: Mutex::new(Vec::new()),
                drop_epoch: watch::Sender::new(0),
                prepared: Mutex::new(HashMap::new()),
                intercept: Mutex::new(None),
                delay: Mutex::new(Duration::ZERO),
                server: Mutex::new(None),
                past_failures: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Serves on `listener` (bound at this node's address).
    pub(crate) fn serve(&self, listener: TcpListener) {
        let mut builder = FakeServer::builder().timeout(IDLE);
        if let Some(tls) = &self.state.cluster.tls {
            builder = builder.tls(tls.server.clone());
        }
        let state = self.state.clone();
        let server = builder.each_on(listener, move |peer| conn::serve(state.clone(), peer));
        *lock(&self.state.server) = Some(server);
    }

    /// Its number: 1 for the first node.
    pub fn number(&self) -> usize {
        self.state.index + 1
    }

    /// The address it listens on (every node shares the port).
    pub fn addr(&self) -> SocketAddr {
        self.state.addr
    }

    /// Its description in the system tables (before quirks change what they show).
    pub fn spec(&self) -> &NodeSpec {
        &self.state.cluster.nodes[self.state.index].spec
    }

    /// Whether it accepts connections (not [stopped](Self::stop)).
    pub fn is_up(&self) -> bool {
        lock(&self.state.server).is_some()
    }

    /// Connections it accepted so far (TLS ones once their handshake succeeded).
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.state.open.load(Ordering::SeqCst)
    }

    /// Every request it received, in the order its connections read them.
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.state.requests).clone()
    }

    /// The requests with this opcode.
    pub fn requests_of(&self, opcode: Opcode) -> Vec<SeenRequest> {
        lock(&self.state.requests)
            .iter()
            .filter(|r| r.opcode == opcode)
            .cloned()
            .collect()
    }

    /// The requests (QUERY, EXECUTE, BATCH) sent at `consistency`.
    pub fn requests_at(&self, consistency: Consistency) -> Vec<SeenRequest> {
        lock(&self.state.requests)
            .iter()
            .filter(|r| r.consistency == Some(consistency))
            .cloned()
            .collect()
    }

    /// The CQL of every QUERY, PREPARE and (known) EXECUTE, in order.
    pub fn queries(&self) -> Vec<String> {
        lock(&self.state.requests)
            .iter()
            .filter_map(|r| r.cql.clone())
            .collect()
    }

    /// The logins it accepted.
    pub fn logins(&self) -> Vec<Login> {
        lock(&self.state.logins).clone()
    }

    /// The statements it has prepared now (forgotten by [`Self::start`]).
    pub fn prepared(&self) -> Vec<String> {
        let mut q: Vec<String> = lock(&self.state.prepared)
            .values()
            .map(|p| p.query.clone())
            .collect();
        q.sort();
        q
    }

    /// Forgets its prepared statements: the next EXECUTE of one gets UNPREPARED.
    pub fn forget_prepared(&self) {
        lock(&self.state.prepared).clear();
    }

    /// Answers the requests after the handshake for which `answer` returns a response with
    /// that response instead of the node's own (the request is still recorded): e.g.
    /// [`crate::frames::write_timeout`] for the writes, as Keyspaces reports throttling
    /// (KEYSPACES.md "Errors and retries"). Replaces the previous one.
    pub fn intercept(
        &self,
        answer: impl Fn(&SeenRequest) -> Option<Response> + Send + Sync + 'static,
    ) {
        *lock(&self.state.intercept) = Some(Arc::new(answer));
    }

    /// Removes the [interception](Self::intercept).
    pub fn clear_intercept(&self) {
        *lock(&self.state.intercept) = None;
    }

    /// Waits `delay` before writing each answer (zero: none). A connection answers its
    /// requests one after the other, so this caps each connection at one request per `delay`
    /// (a per-connection budget, as Keyspaces has) and keeps requests in flight. Events and
    /// [`Self::drop_connections`] wait for the answer being delayed.
    pub fn set_delay(&self, delay: Duration) {
        *lock(&self.state.delay) = delay;
    }

    /// Closes every open connection (the node stays up and accepts new ones).
    pub fn drop_connections(&self) {
        self.state.drop_epoch.send_modify(|e| *e += 1);
    }

    /// Sends `event` to every open connection that registered for its type; returns how many.
    pub fn push_event(&self, event: Event) -> usize {
        let kind = match &event {
            Event::TopologyChange { .. } => "TOPOLOGY_CHANGE",
            Event::StatusChange { .. } => "STATUS_CHANGE",
            Event::SchemaChange(_) => "SCHEMA_CHANGE",
            _ => return 0,
        };
        let mut sent = 0;
        lock(&self.state.registrations).retain(|r| {
            if !r.types.iter().any(|t| t == kind) {
                return !r.events.is_closed();
            }
            let alive = r.events.send(event.clone()).is_ok();
            sent += usize::from(alive);
            alive
        });
        sent
    }

    /// Takes the node down: once this returns, its listener is closed (connection attempts
    /// are refused) and its connections are being closed.
    pub async fn stop(&self) {
        let server = lock(&self.state.server).take();
        if let Some(server) = server {
            lock(&self.state.past_failures).extend(server.failures());
            server.stop().await;
        }
    }

    /// Brings a [stopped](Self::stop) node up again at the same address, with no prepared
    /// statements (as a restarted Cassandra). Panics if the address stays taken for a second.
    pub async fn start(&self) {
        if self.is_up() {
            return;
        }
        self.forget_prepared();
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.state.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 20 => {
                    tries += 1;
                    tracing::debug!(addr = %self.state.addr, error = %e, "rebinding");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!(
                    "node {} cannot listen on {} again: {e}",
                    self.number(),
                    self.state.addr
                ),
            }
        };
        self.serve(listener);
    }

    /// The panics of its connection tasks (a broken emulation), current and past runs.
    pub fn failures(&self) -> Vec<String> {
        let mut all = lock(&self.state.past_failures).clone();
        if let Some(server) = lock(&self.state.server).as_ref() {
            all.extend(server.failures());
        }
        all
    }

    /// Stops serving at once, without waiting (the cluster's drop).
    pub(crate) fn shut_down(&self) {
        drop(lock(&self.state.server).take());
    }
}
