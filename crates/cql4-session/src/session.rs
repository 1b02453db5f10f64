//! [`Session`]: the requests of [`cql4_conn::Client`], spread over a pool per node.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use cql4_conn::{
    BatchRequest, Config, Error, EventType, Events, PageFetcher, PageFuture, Pager,
    PreparedStatement, QueryOptions, QueryResult, Result, RowStream, RowValues,
};
use cql4_frame::bind::SerializeRow;
use cql4_frame::event::Event;
use cql4_frame::rows::PreparedMetadata;
use cql4_frame::writer::Writer;
use cql4_topology::{routing_token, NodeIndex, NodeInfo, Token};
use futures_util::future::select_ok;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::SessionConfig;
use crate::control;
use crate::discovery::PeersTable;
use crate::endpoint::{node_config, split_host_port};
use crate::execute::Request;
use crate::load::InFlight;
use crate::plan::Plan;
use crate::pool::{NodePool, Pooled};
use crate::retry::StatementKind;
use crate::shared::Shared;
use crate::view::View;

/// Connections to every node of a cluster, with the requests of [`Client`](cql4_conn::Client): moving code from
/// `Client::connect(&config)` to `Session::connect(&config)` changes that line only.
///
/// Cheap to clone; usable from many tasks at once. See the crate documentation for what it
/// does on its own (discovery, routing, reconnection) and `docs/architecture.md`.
#[derive(Clone)]
pub struct Session {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: SessionConfig,
    pub(crate) shared: Arc<Shared>,
    /// The contact point's host name: the TLS name of every node (see `endpoint`).
    pub(crate) contact_host: String,
    /// Contact points as resolved at start, tried again when the control connection is lost.
    pub(crate) contacts: Vec<(String, SocketAddr)>,
    view: RwLock<Arc<View>>,
    pub(crate) local_dc: Option<String>,
    pub(crate) peers: PeersTable,
    pub(crate) counter: AtomicU64,
    subscribers: Mutex<Vec<(mpsc::Sender<Event>, Vec<EventType>)>>,
    closing: AtomicBool,
    control: Mutex<Option<JoinHandle<()>>>,
    pub(crate) schema: crate::schema::SchemaState,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("nodes", &self.nodes())
            .field("local_datacenter", &self.inner.local_dc)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("contact_host", &self.contact_host)
            .finish_non_exhaustive()
    }
}

/// One node as the session sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeStatus {
    /// The address the session dials.
    pub address: SocketAddr,
    /// `host_id`, when known.
    pub host_id: Option<[u8; 16]>,
    /// Data center, when known.
    pub datacenter: Option<String>,
    /// Rack, when known.
    pub rack: Option<String>,
    /// The node's tokens, as text.
    pub tokens: Vec<String>,
    /// Has an open connection (routing uses only such nodes).
    pub up: bool,
    /// Open connections.
    pub connections: usize,
    /// Requests in flight on them.
    pub in_flight: usize,
    /// Requests routed to the node since the session started.
    pub requests: u64,
    /// Stream ids held on its connections: requests awaiting their answer (heartbeats
    /// included) and ids orphaned by timed-out requests until their late answer.
    pub stream_ids: usize,
}

impl Session {
    /// Connects: resolves the contact points, opens the control connection to the first that
    /// answers, reads the topology and starts a pool per node. Returns once one connection
    /// can take requests (the others open in the background), within
    /// [`Config::connect_timeout`] per contact point.
    ///
    /// Accepts a [`SessionConfig`] or, as [`Client::connect`](cql4_conn::Client::connect) does, a [`Config`].
    pub async fn connect(config: impl Into<SessionConfig>) -> Result<Self> {
        let config: SessionConfig = config.into();
        let contacts = resolve_contacts(&config).await?;
        let contact_host = split_host_port(&config.connection.host, config.connection.port).0;
        let shared = Arc::new(Shared::new(&config));
        if config.single_host {
            return Self::connect_single(config, contacts, contact_host, shared).await;
        }
        let peers = PeersTable::new();
        let (client, events, contact) = control::connect_any(
            &contacts,
            &config.connection,
            &contact_host,
            shared.translator(),
        )
        .await?;
        let topology = crate::discovery::read_topology(&client, contact.1, &peers).await?;
        let local_dc = config
            .local_datacenter
            .clone()
            .or_else(|| topology.nodes().first().and_then(|n| n.datacenter.clone()));
        let empty = View {
            nodes: Vec::new(),
            pools: Vec::new(),
            topology: None,
            placement: Default::default(),
        };
        let (view, _) = View::build(
            topology,
            config.max_nodes,
            &empty,
            local_dc.as_deref(),
            &config.connection,
            &contact_host,
            &shared,
        );
        let inner = Arc::new(Inner {
            contact_host,
            contacts,
            view: RwLock::new(Arc::new(view)),
            local_dc,
            peers,
            counter: AtomicU64::new(0),
            subscribers: Mutex::new(Vec::new()),
            closing: AtomicBool::new(false),
            control: Mutex::new(None),
            schema: Default::default(),
            shared,
            config,
        });
        let session = Self { inner };
        let timeout = session.inner.config.connection.connect_timeout;
        if !session.wait_any_up(timeout).await {
            return Err(session.no_node(session.inner.view().pools.len()));
        }
        let task = tokio::spawn(control::run(
            Arc::downgrade(&session.inner),
            client,
            events,
            contact,
        ));
        if let Ok(mut c) = session.inner.control.lock() {
            *c = Some(task);
        }
        Ok(session)
    }

    async fn connect_single(
        config: SessionConfig,
        contacts: Vec<(String, SocketAddr)>,
        contact_host: String,
        shared: Arc<Shared>,
    ) -> Result<Self> {
        let mut last = None;
        for (host, address) in &contacts {
            let pool = NodePool::new(
                *address,
                node_config(&config.connection, host, *address, shared.translator()),
                Arc::clone(&shared),
            );
            match pool.open_first().await {
                Ok(()) => {
                    pool.spawn_maintenance();
                    let view = View::single(NodeInfo::at(*address), pool);
                    let inner = Arc::new(Inner {
                        contact_host,
                        contacts,
                        view: RwLock::new(Arc::new(view)),
                        local_dc: None,
                        peers: PeersTable::new(),
                        counter: AtomicU64::new(0),
                        subscribers: Mutex::new(Vec::new()),
                        closing: AtomicBool::new(false),
                        control: Mutex::new(None),
                        schema: Default::default(),
                        shared,
                        config,
                    });
                    return Ok(Self { inner });
                }
                Err(e) => {
                    pool.stop();
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(Error::NoNodeAvailable {
            tried: 0,
            last_error: None,
        }))
    }

    /// Every node, with its state.
    pub fn nodes(&self) -> Vec<NodeStatus> {
        let view = self.inner.view();
        view.nodes
            .iter()
            .zip(&view.pools)
            .map(|(n, p)| NodeStatus {
                address: n.address,
                host_id: n.host_id,
                datacenter: n.datacenter.clone(),
                rack: n.rack.clone(),
                tokens: n.tokens.clone(),
                up: p.is_up(),
                connections: p.open_connections(),
                in_flight: p.in_flight(),
                requests: p.requests(),
                stream_ids: p.stream_ids(),
            })
            .collect()
    }

    /// The keyspace of the last successful [`Self::use_keyspace`], if any.
    pub fn keyspace(&self) -> Option<String> {
        self.inner.shared.keyspace()
    }

    /// The local data center: from the settings, else the first contact point's.
    pub fn local_datacenter(&self) -> Option<&str> {
        self.inner.local_dc.as_deref()
    }

    /// True when the topology has a token map (Murmur3 tokens): prepared statements then go
    /// to a replica.
    pub fn has_token_map(&self) -> bool {
        self.inner
            .view()
            .topology
            .as_ref()
            .is_some_and(|t| t.token_ring().is_some())
    }

    /// Runs a CQL string on the next node, round robin in the local data center. The values
    /// are written by their Rust types (see [`cql4_conn::Client::query`]).
    ///
    /// A failed attempt is tried again as [`SessionConfig::retry_policy`] decides — never
    /// when the request is not idempotent ([`QueryOptions::idempotent`], false by default for
    /// a CQL string) and may have been applied — and an idempotent request that is late may
    /// also go to the next node ([`SessionConfig::speculative`]); all within
    /// [`QueryOptions::overall_timeout`]. The same holds for [`Self::execute`] and
    /// [`Self::batch`].
    pub async fn query<R: SerializeRow>(
        &self,
        cql: &str,
        values: R,
        options: &QueryOptions,
    ) -> Result<QueryResult> {
        let request = Request {
            kind: StatementKind::Query,
            idempotent: options.idempotent.unwrap_or(false),
            options,
            routing: None,
        };
        let values = &values;
        self.run(request, |client| async move {
            client.query(cql, values, options).await
        })
        .await
    }

    /// Prepares a statement, cached per session by (keyspace, query text): prepared on the
    /// node that first runs it, and on other nodes when they answer UNPREPARED or come up.
    pub async fn prepare(&self, cql: &str) -> Result<PreparedStatement> {
        let keyspace = self.inner.shared.keyspace();
        if let Some(s) = self.inner.shared.prepared.get(keyspace.as_deref(), cql) {
            return Ok(s);
        }
        let conn = self.connection().await?;
        let statement = {
            let _in_flight = InFlight::new(&conn.load, self.inner.shared.now_ms());
            self.closing_error(conn.client.prepare(cql).await)?
        };
        self.inner
            .shared
            .prepared
            .insert(keyspace.as_deref(), statement.clone());
        Ok(statement)
    }

    /// Executes a prepared statement on a replica of its partition when the cluster has a
    /// token map (replicas of the local data center, starting at a random one), else round
    /// robin. A node that does not know the statement gets it prepared again. Not idempotent
    /// unless the options or [`PreparedStatement::set_idempotent`] say so; retried and
    /// speculated as [`Self::query`] says.
    pub async fn execute<R: SerializeRow + Sync>(
        &self,
        statement: &PreparedStatement,
        values: R,
        options: &QueryOptions,
    ) -> Result<QueryResult> {
        let request = Request {
            kind: StatementKind::Execute,
            idempotent: options
                .idempotent
                .unwrap_or_else(|| statement.is_idempotent()),
            options,
            routing: Some((statement, &values)),
        };
        let values = &values;
        self.run(request, |client| async move {
            client.execute(statement, values, options).await
        })
        .await
    }

    /// Runs a BATCH on the next node; retried as [`Self::query`] says (idempotence:
    /// [`QueryOptions::idempotent`], else [`BatchRequest::is_idempotent`]).
    pub async fn batch(&self, batch: &BatchRequest, options: &QueryOptions) -> Result<QueryResult> {
        let request = Request {
            kind: StatementKind::Batch,
            idempotent: options.idempotent.unwrap_or_else(|| batch.is_idempotent()),
            options,
            routing: None,
        };
        self.run(request, |client| async move {
            client.batch(batch, options).await
        })
        .await
    }

    /// Pages of a CQL string; each page goes to the node routing picks then.
    pub fn query_pages(
        &self,
        cql: &str,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> Pager {
        Pager::for_query(Arc::new(self.clone()), cql, values, options)
    }

    /// Pages of a prepared statement.
    pub fn execute_pages(
        &self,
        statement: &PreparedStatement,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> Pager {
        Pager::for_execute(Arc::new(self.clone()), statement, values, options)
    }

    /// Every row of a CQL string as a stream, prefetching one page ahead.
    pub fn query_rows(
        &self,
        cql: &str,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> RowStream {
        RowStream::for_query(Arc::new(self.clone()), cql, values, options)
    }

    /// Every row of a prepared statement as a stream, prefetching one page ahead.
    pub fn execute_rows(
        &self,
        statement: &PreparedStatement,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> RowStream {
        RowStream::for_execute(Arc::new(self.clone()), statement, values, options)
    }

    /// `USE keyspace` on every connection, and on every connection opened later.
    ///
    /// Runs first on one connection: if the server refuses (no such keyspace), nothing
    /// changes and its error is returned. Then on every other open connection; one where it
    /// fails is taken out of its pool (it closes once its requests end) and replaced by a new
    /// connection, which starts with `USE keyspace`, so no connection stays in another keyspace.
    /// `USE` runs at `LOCAL_ONE` whatever [`Config::default_consistency`] says: Amazon
    /// Keyspaces refuses it at QUORUM, ALL and ANY.
    pub async fn use_keyspace(&self, keyspace: &str) -> Result<()> {
        let conn = self.connection().await?;
        conn.client.use_keyspace(keyspace).await?;
        self.inner.shared.set_keyspace(keyspace);
        let view = self.inner.view();
        for pool in &view.pools {
            for client in pool.clients() {
                if client.same_connection(&conn.client) {
                    continue;
                }
                if let Err(e) = client.use_keyspace(keyspace).await {
                    tracing::warn!(node = %pool.address, error = %e, "USE failed on one connection: replacing it");
                    pool.discard(&client);
                }
            }
        }
        Ok(())
    }

    /// Subscribes to server events, as [`Client::register`](cql4_conn::Client::register); the events come from the
    /// session's control connection (whichever node it is on, across reconnections). A
    /// single-host session registers on its one connection (it has no control connection), so
    /// its stream ends when that connection is lost; register again after a reconnection.
    pub async fn register(&self, event_types: &[EventType]) -> Result<Events> {
        if self.inner.config.single_host {
            let conn = self.connection().await?;
            return conn.client.register(event_types).await;
        }
        let (tx, rx) = mpsc::channel(self.inner.config.connection.event_buffer.max(1));
        if let Ok(mut subs) = self.inner.subscribers.lock() {
            subs.push((tx, event_types.to_vec()));
        }
        Ok(Events::from_channel(rx))
    }

    /// Closes the session: new requests fail with [`Error::SessionClosed`] at once, requests
    /// in flight may finish until `deadline`, then every connection closes.
    pub async fn close(&self, deadline: Duration) {
        self.inner.closing.store(true, Ordering::SeqCst);
        let end = Instant::now() + deadline;
        loop {
            let busy: usize = self.inner.view().pools.iter().map(|p| p.in_flight()).sum();
            if busy == 0 || Instant::now() >= end {
                if busy > 0 {
                    tracing::warn!(
                        in_flight = busy,
                        "closing the session with requests in flight"
                    );
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.inner.shutdown();
        // `shutdown` drops the pools' handles, but a request still in flight holds its own:
        // its connection would stay open past the deadline until the answer came.
        for pool in &self.inner.view().pools {
            pool.close_connections();
        }
    }

    // ---- routing ----

    /// An open connection on the first node of the request's plan that has one. When no
    /// node has one, every pool is asked to reconnect now and the first to succeed takes the
    /// request (bounded by the connect timeout): a single-host session thus runs the next
    /// statement on a new connection after the server dropped the old one.
    pub(crate) async fn connection(&self) -> Result<Arc<Pooled>> {
        if self.inner.closing.load(Ordering::Relaxed) {
            return Err(Error::SessionClosed);
        }
        let view = self.inner.view();
        let counter = self.inner.counter.fetch_add(1, Ordering::Relaxed);
        let random = self.inner.shared.random();
        let tried = match self.pick(&view, None, counter, random, self.inner.shared.now_ms()) {
            Ok((_, c)) => return Ok(c),
            Err(tried) => tried,
        };
        for pool in &view.pools {
            pool.reconnect_now();
        }
        drop(view);
        let timeout = self.inner.config.connection.connect_timeout;
        if self.wait_any_up(timeout).await {
            let now_ms = self.inner.shared.now_ms();
            if let Ok((_, c)) = self.pick(&self.inner.view(), None, counter, random, now_ms) {
                return Ok(c);
            }
        }
        Err(self.no_node(tried))
    }

    /// The first node of a request's plan with an open connection (its index in the view),
    /// or how many nodes the plan held.
    pub(crate) fn pick(
        &self,
        view: &View,
        key: Option<(&str, Token)>,
        counter: u64,
        random: u64,
        now_ms: u64,
    ) -> Result<(usize, Arc<Pooled>), usize> {
        let replicas: &[NodeIndex] = crate::execute::replicas(view, key);
        let take = |i: usize| {
            view.pools
                .get(i)
                .and_then(|p| p.pick_at(now_ms))
                .map(|c| (i, c))
        };
        let mut plan = Plan::new(&view.placement, replicas, counter, random);
        let Some(first) = plan.next() else {
            return Err(0);
        };
        if let Some(conn) = take(first) {
            return Ok(conn);
        }
        // The first choice is down. Its successor in the plan would take its whole share (with
        // one of three nodes down: a third and two thirds instead of half each), so two more
        // first choices are drawn at random before the plan goes on in order.
        for _ in 0..2 {
            let r = self.inner.shared.random();
            if let Some(conn) = Plan::new(&view.placement, replicas, r, r)
                .next()
                .and_then(take)
            {
                return Ok(conn);
            }
        }
        let mut tried = 1;
        for i in plan {
            tried += 1;
            if let Some(conn) = take(i) {
                return Ok(conn);
            }
        }
        Err(tried)
    }

    /// The bind metadata (whose table names the keyspace) and the token of a bound prepared
    /// statement's partition key, when token-aware routing applies. The values are written
    /// once more for this (the frame is encoded by the connection the token picks), into a
    /// buffer kept per thread: no allocation per request. Values that do not fit the markers
    /// route without a token (the EXECUTE then fails with the binding error before anything
    /// is sent).
    pub(crate) fn routing(
        &self,
        view: &View,
        statement: &PreparedStatement,
        values: &dyn SerializeRow,
    ) -> Option<(Arc<PreparedMetadata>, Token)> {
        if !self.inner.config.token_aware {
            return None;
        }
        let topology = view.topology.as_ref()?;
        topology.token_ring()?;
        let metadata = statement.bind_metadata();
        if metadata.pk_indexes.is_empty() {
            return None;
        }
        // A keyspace the token map does not hold (not read yet, or an unknown strategy) has no
        // replicas to find: no key to compute.
        if !table_keyspace(&metadata).is_some_and(|ks| topology.places_keyspace(ks)) {
            return None;
        }
        let token = ROW_SCRATCH.with(|scratch| {
            let mut row = scratch.borrow_mut();
            row.clear();
            let token = values
                .serialize_row(&metadata.columns, &mut Writer::new(&mut row))
                .ok()
                .and_then(|_| routing_token(&metadata, &row));
            // A large row's room is not kept for the thread's lifetime.
            if row.capacity() > ROW_SCRATCH_KEPT {
                *row = Vec::new();
            }
            token
        })?;
        Some((metadata, token))
    }

    pub(crate) async fn wait_any_up(&self, timeout: Duration) -> bool {
        let view = self.inner.view();
        if view.pools.iter().any(|p| p.is_up()) {
            return true;
        }
        let waits = view.pools.iter().map(|p| {
            Box::pin(async move {
                if p.wait_up(timeout).await {
                    Ok(())
                } else {
                    Err(())
                }
            })
        });
        if view.pools.is_empty() {
            return false;
        }
        let up = select_ok(waits).await.is_ok();
        up
    }

    /// A request cut by `close(deadline)` fails with [`Error::SessionClosed`], not with the
    /// closed connection's own reason.
    pub(crate) fn closing_error<T>(&self, result: Result<T>) -> Result<T> {
        match result {
            Err(Error::Closed(_)) if self.inner.is_closing() => Err(Error::SessionClosed),
            other => other,
        }
    }

    pub(crate) fn no_node(&self, tried: usize) -> Error {
        let last_error = self.inner.view().pools.iter().find_map(|p| p.last_error());
        Error::NoNodeAvailable { tried, last_error }
    }
}

impl Inner {
    pub(crate) fn view(&self) -> Arc<View> {
        self.view
            .read()
            .map(|v| Arc::clone(&v))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Relaxed)
    }

    /// Replaces the view with one built from `topology`; stops the pools of removed nodes.
    pub(crate) fn install(&self, topology: cql4_topology::Topology) {
        let old = self.view();
        let (view, removed) = View::build(
            topology,
            self.config.max_nodes,
            &old,
            self.local_dc.as_deref(),
            &self.config.connection,
            &self.contact_host,
            &self.shared,
        );
        if let Ok(mut v) = self.view.write() {
            *v = Arc::new(view);
        }
        for pool in removed {
            tracing::info!(node = %pool.address, "node removed");
            pool.stop();
        }
    }

    /// Hands an event to every subscriber of its type; a full subscriber loses it (with a
    /// warning), a dropped one is forgotten.
    pub(crate) fn forward(&self, event: &Event) {
        let ty = match event {
            Event::TopologyChange { .. } => EventType::TopologyChange,
            Event::StatusChange { .. } => EventType::StatusChange,
            Event::SchemaChange(_) => EventType::SchemaChange,
            _ => return,
        };
        let Ok(mut subs) = self.subscribers.lock() else {
            return;
        };
        subs.retain(|(tx, types)| {
            if !types.contains(&ty) {
                return !tx.is_closed();
            }
            match tx.try_send(event.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!("event subscriber full: event dropped");
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
    }

    fn shutdown(&self) {
        self.closing.store(true, Ordering::SeqCst);
        if let Ok(mut c) = self.control.lock() {
            if let Some(task) = c.take() {
                task.abort();
            }
        }
        for pool in &self.view().pools {
            pool.stop();
        }
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.clear();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl PageFetcher for Session {
    fn fetch_query<'a>(
        &'a self,
        cql: &'a str,
        values: &'a RowValues,
        options: &'a QueryOptions,
    ) -> PageFuture<'a> {
        Box::pin(self.query(cql, values, options))
    }

    fn fetch_execute<'a>(
        &'a self,
        statement: &'a PreparedStatement,
        values: &'a RowValues,
        options: &'a QueryOptions,
    ) -> PageFuture<'a> {
        Box::pin(self.execute(statement, values, options))
    }
}

/// The keyspace of a prepared statement's table, borrowed from its bind metadata.
pub(crate) fn table_keyspace(metadata: &PreparedMetadata) -> Option<&str> {
    metadata
        .global_table_spec
        .as_ref()
        .or_else(|| metadata.columns.first()?.table_spec.as_ref())
        .map(|t| t.keyspace.as_str())
}

/// Every contact point resolved: the template's host first, then `contact_points`, each
/// address of each name. A name that does not resolve is skipped (and reported if none does).
async fn resolve_contacts(config: &SessionConfig) -> Result<Vec<(String, SocketAddr)>> {
    let template: &Config = &config.connection;
    let mut out = Vec::new();
    let mut last = None;
    let first = template.address();
    for contact in
        std::iter::once(first.as_str()).chain(config.contact_points.iter().map(String::as_str))
    {
        let (host, port) = split_host_port(contact, template.port);
        let resolved = tokio::net::lookup_host((host.as_str(), port)).await;
        match resolved {
            Ok(addrs) => {
                for a in addrs {
                    if !out.iter().any(|(_, b)| *b == a) {
                        out.push((host.clone(), a));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(contact, error = %e, "contact point does not resolve");
                last = Some(Error::Connect {
                    addr: contact.to_owned(),
                    source: Arc::new(e),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(last.unwrap_or(Error::NoNodeAvailable {
            tried: 0,
            last_error: Some("no contact point".to_owned()),
        }));
    }
    Ok(out)
}

/// Room kept in a thread's [`ROW_SCRATCH`] between requests: rows up to this size (nearly
/// all) reuse it, a larger one's buffer is freed after use.
const ROW_SCRATCH_KEPT: usize = 16 * 1024;

thread_local! {
    /// The bound values written again for the routing token ([`Session::routing`]).
    static ROW_SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}
