//! The connections to one node: the least-loaded one takes each request; a background task
//! keeps `connections_per_node` open, reconnects with backoff, grows the pool when every
//! connection is over budget and shrinks it after idle.
//!
//! A node is *up* while it has an open connection; routing skips it otherwise and never waits
//! for it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cql4_conn::{Client, Config, Error};
use futures_util::future::join_all;
use tokio::sync::{watch, Notify};
use tokio::task::AbortHandle;

use crate::backoff::backoff;
use crate::load::Load;
use crate::shared::Shared;
use crate::speculative::LatencyTracker;

/// One open connection and its load.
#[derive(Debug)]
pub(crate) struct Pooled {
    pub(crate) client: Client,
    pub(crate) load: Load,
}

/// The pool of one node.
#[derive(Debug)]
pub(crate) struct NodePool {
    pub(crate) address: SocketAddr,
    config: Config,
    shared: Arc<Shared>,
    conns: Mutex<Vec<Arc<Pooled>>>,
    /// Connections wanted now: `connections_per_node`, more while the pool has grown.
    target: AtomicUsize,
    /// Wakes the maintenance task: a connection ended, growth was asked, an UP event came.
    wake: Notify,
    /// An UP event or a request that found no connection: retry now, skip the backoff.
    retry_now: AtomicBool,
    stopped: AtomicBool,
    /// Open connections, for waiters (session start, single-host reconnects).
    live: watch::Sender<usize>,
    attempts: AtomicU32,
    /// Requests routed to this node since the session started.
    requests: AtomicU64,
    last_error: Mutex<Option<String>>,
    /// The I/O tasks of the connections opened, for [`Self::close_connections`]: a request in
    /// flight holds its connection's handle, so dropping the pool's does not close it.
    tasks: Mutex<Vec<AbortHandle>>,
    /// Recent answer latencies, for speculative execution by percentile.
    pub(crate) latency: LatencyTracker,
}

impl NodePool {
    /// Creates the pool and starts its maintenance task (connections open in the background).
    pub(crate) fn start(address: SocketAddr, config: Config, shared: Arc<Shared>) -> Arc<Self> {
        let pool = Self::new(address, config, shared);
        pool.spawn_maintenance();
        pool
    }

    /// Creates the pool without opening anything.
    pub(crate) fn new(address: SocketAddr, config: Config, shared: Arc<Shared>) -> Arc<Self> {
        let core = shared.core_connections;
        Arc::new(Self {
            address,
            config,
            shared,
            conns: Mutex::new(Vec::new()),
            target: AtomicUsize::new(core),
            wake: Notify::new(),
            retry_now: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            live: watch::channel(0).0,
            attempts: AtomicU32::new(0),
            requests: AtomicU64::new(0),
            last_error: Mutex::new(None),
            tasks: Mutex::new(Vec::new()),
            latency: LatencyTracker::default(),
        })
    }

    /// Starts the task that keeps the pool at its size.
    pub(crate) fn spawn_maintenance(self: &Arc<Self>) {
        tokio::spawn(maintain(Arc::clone(self)));
    }

    /// Opens one connection now, in the caller's task, and returns its error as is (the
    /// first connection of a single-host session).
    pub(crate) async fn open_first(self: &Arc<Self>) -> Result<(), Error> {
        self.open().await
    }

    /// Requests in flight on every connection.
    pub(crate) fn in_flight(&self) -> usize {
        self.conns
            .lock()
            .map(|c| c.iter().map(|p| p.load.in_flight()).sum())
            .unwrap_or(0)
    }

    /// Stream ids held on the node's connections: requests written and awaiting their answer
    /// (heartbeats included) plus ids orphaned by timed-out requests.
    pub(crate) fn stream_ids(&self) -> usize {
        self.conns
            .lock()
            .map(|c| {
                c.iter()
                    .map(|p| {
                        let s = p.client.streams();
                        s.in_flight + s.orphaned
                    })
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Removes a connection from the pool (it closes when its last request ends); the
    /// maintenance task opens a replacement.
    pub(crate) fn discard(&self, client: &Client) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.retain(|c| !c.client.same_connection(client));
            self.live.send_replace(conns.len());
        }
        self.wake.notify_one();
    }

    /// The least-loaded open connection; asks for growth when every one is over budget.
    pub(crate) fn pick(&self) -> Option<Arc<Pooled>> {
        self.pick_at(self.shared.now_ms())
    }

    /// [`Self::pick`] at `now` (milliseconds on the session's clock), read by the caller.
    pub(crate) fn pick_at(&self, now: u64) -> Option<Arc<Pooled>> {
        let conns = self.conns.lock().ok()?;
        let Some(best) = conns
            .iter()
            .filter(|c| !c.client.is_closed())
            .min_by_key(|c| c.load.in_flight())
        else {
            // Every connection closed before the maintenance task pruned them: prune now, so
            // the node reads as down at once. Left "up", a caller would be sent back without
            // waiting for a reconnection, and callers retrying in a loop would keep the
            // runtime's threads (and the maintenance task) from ever running (a reset storm
            // on a 2-thread runtime did exactly that).
            let had = !conns.is_empty();
            drop(conns);
            if had {
                self.prune();
                self.wake.notify_one();
            }
            return None;
        };
        let best = Arc::clone(best);
        self.requests.fetch_add(1, Ordering::Relaxed);
        let over = best.load.is_over(self.shared.budget, now)
            && conns
                .iter()
                .all(|c| c.load.is_over(self.shared.budget, now));
        let len = conns.len();
        drop(conns);
        if over && len < self.shared.max_connections {
            let grown = self
                .target
                .fetch_max(len + 1, Ordering::Relaxed)
                .max(len + 1);
            tracing::debug!(node = %self.address, connections = len, target = grown, "every connection over budget: growing");
            self.wake.notify_one();
        }
        Some(best)
    }

    /// True while the node has an open connection.
    pub(crate) fn is_up(&self) -> bool {
        *self.live.borrow() > 0
    }

    /// Requests routed to this node so far.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Open connections.
    pub(crate) fn open_connections(&self) -> usize {
        *self.live.borrow()
    }

    /// Every open connection (for `USE` and re-preparing).
    pub(crate) fn clients(&self) -> Vec<Client> {
        self.conns
            .lock()
            .map(|c| c.iter().map(|p| p.client.clone()).collect())
            .unwrap_or_default()
    }

    /// The last connection failure, as text.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    /// Reconnect now instead of at the end of the backoff (an UP event, a waiting request).
    pub(crate) fn reconnect_now(&self) {
        self.retry_now.store(true, Ordering::Relaxed);
        self.wake.notify_one();
    }

    /// Waits until the node has an open connection or `timeout` passes.
    pub(crate) async fn wait_up(&self, timeout: Duration) -> bool {
        let mut rx = self.live.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n > 0))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Stops the maintenance task and drops every connection (in-flight requests hold their
    /// own handle and finish).
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        if let Ok(mut conns) = self.conns.lock() {
            conns.clear();
        }
        self.live.send_replace(0);
        self.wake.notify_one();
    }

    /// Closes every connection now, requests in flight included (they fail with
    /// [`Error::Closed`]): the end of [`crate::Session::close`]'s deadline.
    pub(crate) fn close_connections(&self) {
        if let Ok(mut tasks) = self.tasks.lock() {
            for task in tasks.drain(..) {
                task.abort();
            }
        }
    }

    fn prune(&self) -> usize {
        let Ok(mut conns) = self.conns.lock() else {
            return 0;
        };
        conns.retain(|c| !c.client.is_closed());
        let n = conns.len();
        drop(conns);
        self.live.send_replace(n);
        n
    }

    /// Adds a connection opened under keyspace generation `generation`; false (nothing added)
    /// when the session's keyspace changed since. Checked under the pool's lock, which
    /// `Session::use_keyspace` takes after changing the keyspace: a connection is either
    /// added in time to be switched by it, or refused here.
    fn add(&self, client: &Client, generation: u64) -> bool {
        if self.stopped.load(Ordering::Relaxed) {
            return true;
        }
        let Ok(mut conns) = self.conns.lock() else {
            return true;
        };
        if self.shared.keyspace_generation() != generation {
            return false;
        }
        conns.push(Arc::new(Pooled {
            client: client.clone(),
            // Idle time counts from now: a connection just opened for growth is not idle.
            load: Load::new(self.shared.now_ms()),
        }));
        self.live.send_replace(conns.len());
        true
    }

    /// Closes connections beyond the core size that carried nothing for `shrink_idle_after`.
    fn shrink(&self) {
        let core = self.shared.core_connections;
        let now = self.shared.now_ms();
        let Ok(mut conns) = self.conns.lock() else {
            return;
        };
        let before = conns.len();
        let mut i = conns.len();
        while conns.len() > core && i > 0 {
            i -= 1;
            if conns[i].load.is_idle(self.shared.shrink_idle_after, now) {
                conns.remove(i);
            }
        }
        let n = conns.len();
        drop(conns);
        if n < before {
            // Only a shrink lowers the target: a growth asked meanwhile must not be undone.
            self.target.store(n.max(core), Ordering::Relaxed);
            self.live.send_replace(n);
        }
    }

    /// Opens one connection: handshake (credentials resolved afresh by the provider), then
    /// the session's keyspace, then adds it to the pool. After an authentication failure the
    /// provider forgets its cached credentials ([`cql4_auth::AuthProvider::invalidate`]) and
    /// the handshake is tried once more at once, since temporary credentials may have rotated;
    /// only then does the attempt count as failed.
    async fn open(self: &Arc<Self>) -> Result<(), Error> {
        let client = match self.connect().await {
            Err(e @ (Error::Auth(_) | Error::AuthRejected { .. })) => {
                tracing::debug!(node = %self.address, error = %e, "authentication failed: resolving credentials again");
                if let Some(auth) = &self.config.auth {
                    auth.invalidate();
                }
                self.connect().await?
            }
            other => other?,
        };
        // A connection in another keyspace than the session's would run unqualified statements
        // against the wrong tables: when `USE` fails, the connection is dropped and the attempt
        // counts as failed (retried with backoff). A `USE` of the session while this one ran
        // means running it again (see `add`).
        loop {
            let (keyspace, generation) = self.shared.keyspace_with_generation();
            if let Some(ks) = &keyspace {
                client.use_keyspace(ks).await?;
            }
            if !self.is_up() {
                // The node was down (or is new): it may have forgotten the statements.
                self.prepare_again(&client, keyspace.as_deref()).await;
            }
            if self.add(&client, generation) {
                return Ok(());
            }
        }
    }

    /// Prepares the session's statements on a node that comes (back) up, so that the first
    /// executions do not each pay an UNPREPARED round trip. Failures are left to the
    /// UNPREPARED path.
    async fn prepare_again(&self, client: &Client, keyspace: Option<&str>) {
        let statements = self.shared.prepared.for_keyspace(keyspace);
        if statements.is_empty() {
            return;
        }
        let results = join_all(statements.iter().map(|s| client.prepare(s.query()))).await;
        let failed = results.iter().filter(|r| r.is_err()).count();
        tracing::debug!(node = %self.address, prepared = statements.len() - failed, failed, "statements prepared on a node that came up");
    }

    async fn connect(self: &Arc<Self>) -> Result<Client, Error> {
        let (client, connection) = cql4_conn::connect(&self.config).await?;
        cql4_conn::metrics::connection_opened(&self.address);
        let pool = Arc::downgrade(self);
        let address = self.address;
        let task = tokio::spawn(async move {
            // Counted when the task ends, also by `close_connections`' abort.
            let _closed = ClosedOnDrop(address);
            let result = connection.await;
            tracing::debug!(node = %address, result = ?result.err().map(|e| e.to_string()), "connection ended");
            if let Some(pool) = pool.upgrade() {
                pool.wake.notify_one();
            }
        });
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.retain(|t| !t.is_finished());
            tasks.push(task.abort_handle());
        }
        Ok(client)
    }

    fn record_failure(&self, error: &Error) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(error.to_string());
        }
    }
}

/// Counts a pooled connection's end (`cql4_connections_closed_total`) when dropped.
struct ClosedOnDrop(SocketAddr);

impl Drop for ClosedOnDrop {
    fn drop(&mut self) {
        cql4_conn::metrics::connection_closed(&self.0);
    }
}

/// The maintenance task of one pool: keep `target` connections open, back off between failed
/// attempts, shrink after idle. Ends when the pool is stopped or dropped.
async fn maintain(pool: Arc<NodePool>) {
    let check_every = Duration::from_secs(1)
        .min(pool.shared.shrink_idle_after)
        .max(Duration::from_millis(10));
    loop {
        if pool.stopped.load(Ordering::Relaxed) {
            return;
        }
        let live = pool.prune();
        let target = pool
            .target
            .load(Ordering::Relaxed)
            .clamp(1, pool.shared.max_connections.max(1));
        if live < target {
            // Open the missing connections concurrently: the first request waits for one only.
            let missing = target - live;
            let results = join_all((0..missing).map(|_| pool.open())).await;
            let mut opened = 0;
            for r in results {
                match r {
                    Ok(()) => opened += 1,
                    Err(e) => {
                        tracing::debug!(node = %pool.address, error = %e, "connection attempt failed");
                        pool.record_failure(&e);
                    }
                }
            }
            if opened > 0 {
                if pool.attempts.swap(0, Ordering::Relaxed) > 0 {
                    tracing::info!(node = %pool.address, "node reconnected");
                    cql4_conn::metrics::reconnection(&pool.address);
                }
                continue;
            }
            let attempt = pool.attempts.fetch_add(1, Ordering::Relaxed);
            if attempt == 0 && live == 0 {
                tracing::warn!(node = %pool.address, error = ?pool.last_error(), "node unreachable: reconnecting in the background");
            }
            let wait = backoff(&pool.shared.reconnect, attempt, pool.shared.random());
            // Only an UP event, a waiting request or `stop` cuts the wait short: other wakes
            // (a connection that ended, a growth request) leave the backoff as it is.
            let until = tokio::time::Instant::now() + wait;
            while !pool.retry_now.swap(false, Ordering::Relaxed)
                && !pool.stopped.load(Ordering::Relaxed)
            {
                if tokio::time::timeout_at(until, pool.wake.notified())
                    .await
                    .is_err()
                {
                    break;
                }
            }
            continue;
        }
        if live > pool.shared.core_connections {
            pool.shrink();
        }
        // Only the pool's own handle left: the session dropped it.
        if Arc::strong_count(&pool) == 1 {
            return;
        }
        let _ = tokio::time::timeout(check_every, pool.wake.notified()).await;
    }
}
