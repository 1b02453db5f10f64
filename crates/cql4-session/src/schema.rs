//! Schema metadata on the session: [`Session::schema`] (read lazily from `system_schema`,
//! then kept current), [`Session::refresh_schema`], and the schema-agreement wait after DDL
//! ([`Session::await_schema_agreement`]).
//!
//! Lazy rather than at connect: reading every `system_schema` table costs eight queries
//! (more pages on a large cluster, and Amazon Keyspaces answers them slowly), which most
//! applications never need. Once read, the schema is kept current: a SCHEMA_CHANGE event (on
//! the control connection) or a DDL result of this session marks its keyspace stale; events
//! in a burst cause one background refresh (200 ms after the first; an event arriving as
//! it starts schedules a second), and
//! `schema()` re-reads whatever is still stale before answering, one keyspace at a time.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use cql4_conn::{Client, Error, QueryResult, Result};
use cql4_frame::event::{SchemaChange, SchemaChangeTarget};
use cql4_frame::response::{ErrorCode, ResultResponse};
use cql4_frame::rows::Rows;
use cql4_frame::SerializeRow;
use cql4_schema::{Schema, SchemaBuilder, SchemaError};
use tokio::time::Instant;

use crate::discovery::system_options;
use crate::session::{Inner, Session};

/// Schema events in a burst (a CREATE TABLE with indexes sends several) cause one refresh,
/// this long after the first.
pub(crate) const EVENT_DEBOUNCE: Duration = Duration::from_millis(200);

/// Between two reads of the nodes' schema versions while waiting for agreement.
const AGREEMENT_POLL: Duration = Duration::from_millis(200);

/// Why the schema could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum SchemaLoadError {
    /// A query failed.
    Query(Error),
    /// A `system_schema` row has an unexpected shape.
    Schema(SchemaError),
}

impl fmt::Display for SchemaLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Query(e) => write!(f, "reading the schema: {e}"),
            Self::Schema(e) => write!(f, "reading the schema: {e}"),
        }
    }
}

impl std::error::Error for SchemaLoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Query(e) => Some(e),
            Self::Schema(e) => Some(e),
        }
    }
}

impl From<Error> for SchemaLoadError {
    fn from(e: Error) -> Self {
        Self::Query(e)
    }
}

impl From<SchemaError> for SchemaLoadError {
    fn from(e: SchemaError) -> Self {
        Self::Schema(e)
    }
}

/// What is stale in the schema held.
#[derive(Debug, Default)]
enum Stale {
    #[default]
    Nothing,
    Keyspaces(BTreeSet<String>),
    All,
}

/// The session's schema and what of it is stale.
#[derive(Debug, Default)]
pub(crate) struct SchemaState {
    current: Mutex<Option<Arc<Schema>>>,
    stale: Mutex<Stale>,
    /// One read at a time: callers during a read get its result.
    loading: tokio::sync::Mutex<()>,
    /// A debounced refresh is scheduled.
    refresh_scheduled: AtomicBool,
    /// `system.peers_v2` answered "no such table" once.
    peers_v2_missing: AtomicBool,
    /// `system_schema_mcs` (Amazon Keyspaces' own) answered "no such table" once.
    mcs_missing: AtomicBool,
}

impl SchemaState {
    fn current(&self) -> Option<Arc<Schema>> {
        self.current.lock().ok().and_then(|c| c.clone())
    }

    fn set_current(&self, schema: Arc<Schema>) {
        if let Ok(mut c) = self.current.lock() {
            *c = Some(schema);
        }
    }

    /// Takes what is stale for a read; it is marked stale again when the read does not
    /// install its result (failed, or its future was dropped mid-read).
    fn take_stale(&self) -> StaleGuard<'_> {
        let taken = self
            .stale
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or(Stale::All);
        StaleGuard {
            state: self,
            taken: Some(taken),
        }
    }

    /// Adds `taken` back to what is stale.
    fn remark(&self, taken: Stale) {
        let Ok(mut stale) = self.stale.lock() else {
            return;
        };
        *stale = match (std::mem::take(&mut *stale), taken) {
            (Stale::All, _) | (_, Stale::All) => Stale::All,
            (Stale::Nothing, other) | (other, Stale::Nothing) => other,
            (Stale::Keyspaces(mut now), Stale::Keyspaces(taken)) => {
                now.extend(taken);
                Stale::Keyspaces(now)
            }
        };
    }

    /// Marks what `change` touched as stale (all of it for a keyspace-level change: the
    /// keyspace may have been dropped or its replication changed).
    pub(crate) fn mark(&self, change: &SchemaChange) {
        let keyspace = match &change.target {
            SchemaChangeTarget::Keyspace { keyspace }
            | SchemaChangeTarget::Table { keyspace, .. }
            | SchemaChangeTarget::Type { keyspace, .. }
            | SchemaChangeTarget::Function { keyspace, .. }
            | SchemaChangeTarget::Aggregate { keyspace, .. } => Some(keyspace.clone()),
        };
        let Ok(mut stale) = self.stale.lock() else {
            return;
        };
        *stale = match (std::mem::take(&mut *stale), keyspace) {
            (Stale::All, _) | (_, None) => Stale::All,
            (Stale::Nothing, Some(k)) => Stale::Keyspaces(BTreeSet::from([k])),
            (Stale::Keyspaces(mut set), Some(k)) => {
                set.insert(k);
                Stale::Keyspaces(set)
            }
        };
    }

    fn mark_all(&self) {
        if let Ok(mut stale) = self.stale.lock() {
            *stale = Stale::All;
        }
    }
}

/// What a read took as stale: marked stale again on drop unless the read installed its
/// result, so a failed read, or a `schema()` future dropped mid-read (a caller's timeout, the
/// background refresh aborted), leaves it for the next call instead of losing it.
struct StaleGuard<'a> {
    state: &'a SchemaState,
    taken: Option<Stale>,
}

impl StaleGuard<'_> {
    fn taken(&self) -> &Stale {
        self.taken.as_ref().unwrap_or(&Stale::Nothing)
    }

    /// The read's result is installed: nothing to mark again.
    fn disarm(mut self) {
        self.taken = None;
    }
}

impl Drop for StaleGuard<'_> {
    fn drop(&mut self) {
        if let Some(taken) = self.taken.take() {
            self.state.remark(taken);
        }
    }
}

/// True for a Schema_change result: the requests that end with one go through
/// [`Session::after_result`].
pub(crate) fn is_schema_change(result: &Result<QueryResult>) -> bool {
    matches!(
        result,
        Ok(QueryResult {
            result: ResultResponse::SchemaChange(_),
            ..
        })
    )
}

/// A SCHEMA_CHANGE event from the control connection: marks the keyspace stale and, when a
/// schema is held, schedules one refresh for the burst.
pub(crate) fn on_event(session: &Weak<Inner>, change: &SchemaChange) {
    let Some(inner) = session.upgrade() else {
        return;
    };
    inner.schema.mark(change);
    if inner.schema.current().is_none()
        || inner.schema.refresh_scheduled.swap(true, Ordering::SeqCst)
    {
        return;
    }
    let weak = session.clone();
    tokio::spawn(async move {
        tokio::time::sleep(EVENT_DEBOUNCE).await;
        let Some(inner) = weak.upgrade() else {
            return;
        };
        inner
            .schema
            .refresh_scheduled
            .store(false, Ordering::SeqCst);
        let session = Session { inner };
        if let Err(e) = session.schema().await {
            tracing::warn!(error = %e, "schema refresh after a SCHEMA_CHANGE event failed");
        }
    });
}

impl Session {
    /// The cluster's schema: keyspaces, tables, types, indexes, views, functions and
    /// aggregates, as [`cql4_schema::Schema`].
    ///
    /// Read from `system_schema` on the first call, then kept current: keyspaces named by a
    /// SCHEMA_CHANGE event or by a DDL statement of this session are read again (in the
    /// background after events, else here before answering). A single-host session has no
    /// control connection and so no events: only its own DDL is followed, and
    /// [`Self::refresh_schema`] reads everything again.
    pub async fn schema(&self) -> std::result::Result<Arc<Schema>, SchemaLoadError> {
        let state = &self.inner.schema;
        let _one_at_a_time = state.loading.lock().await;
        let stale = state.take_stale();
        let fresh = match (state.current(), stale.taken()) {
            (Some(current), Stale::Nothing) => return Ok(current),
            (Some(current), Stale::Keyspaces(names)) => {
                let mut schema = (*current).clone();
                for name in names {
                    // On error the guard marks every taken keyspace stale again.
                    let read = self.read_schema(Some(name)).await?;
                    match read.keyspaces.into_iter().find(|(k, _)| k == name) {
                        Some((_, ks)) => schema.keyspaces.insert(name.clone(), ks),
                        None => schema.keyspaces.remove(name),
                    };
                }
                schema
            }
            (None, _) | (_, Stale::All) => self.read_schema(None).await?,
        };
        let fresh = Arc::new(fresh);
        state.set_current(Arc::clone(&fresh));
        stale.disarm();
        Ok(fresh)
    }

    /// Reads the whole schema again, now.
    pub async fn refresh_schema(&self) -> std::result::Result<Arc<Schema>, SchemaLoadError> {
        self.inner.schema.mark_all();
        self.schema().await
    }

    /// Waits until every node that is up reports the same `schema_version` (in `system.local`
    /// and `system.peers_v2`, or `system.peers` where there is no v2), reading them every
    /// 200 ms on one connection. True on agreement, false when `timeout` passed first.
    /// Nodes the session knows to be down are not waited for.
    pub async fn await_schema_agreement(&self, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            let conn = self.connection().await?;
            if self.versions_agree(&conn.client).await? {
                return Ok(true);
            }
            if Instant::now() + AGREEMENT_POLL > deadline {
                return Ok(false);
            }
            tokio::time::sleep(AGREEMENT_POLL).await;
        }
    }

    /// The end of [`Session::run`] (`query`, `execute`, `batch`): after a DDL statement (a
    /// Schema_change result), marks its keyspace stale and waits for schema agreement, bounded
    /// by [`crate::SessionConfig::schema_agreement_timeout`]; a timeout or a failed check is
    /// logged, not returned (the DDL itself succeeded).
    pub(crate) async fn after_result(&self, result: Result<QueryResult>) -> Result<QueryResult> {
        let Ok(QueryResult {
            result: ResultResponse::SchemaChange(change),
            ..
        }) = &result
        else {
            return result;
        };
        self.inner.schema.mark(change);
        let timeout = self.inner.config.schema_agreement_timeout;
        if timeout.is_zero() {
            return result;
        }
        match Box::pin(self.await_schema_agreement(timeout)).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                ?timeout,
                "no schema agreement after DDL within the timeout: nodes may still disagree"
            ),
            Err(e) => tracing::warn!(error = %e, "schema agreement check after DDL failed"),
        }
        result
    }

    async fn versions_agree(&self, client: &Client) -> Result<bool> {
        let local = client
            .query(
                "SELECT schema_version FROM system.local WHERE key = 'local'",
                (),
                &system_options(),
            )
            .await?;
        let mut versions = BTreeSet::new();
        if let Some(rows) = local.rows() {
            for row in rows.iter() {
                if let Ok(Some(v)) = row.get::<Option<[u8; 16]>>(0) {
                    versions.insert(v);
                }
            }
        }
        let down: Vec<[u8; 16]> = self
            .nodes()
            .into_iter()
            .filter(|n| !n.up)
            .filter_map(|n| n.host_id)
            .collect();
        let peers = self.peer_versions(client).await?;
        for row in peers.iter().flat_map(Rows::iter) {
            let host: Option<[u8; 16]> = row.get_by_name("host_id").ok().flatten();
            if host.is_some_and(|h| down.contains(&h)) {
                continue;
            }
            if let Ok(Some(v)) = row.get_by_name::<Option<[u8; 16]>>("schema_version") {
                versions.insert(v);
            }
        }
        Ok(versions.len() <= 1)
    }

    async fn peer_versions(&self, client: &Client) -> Result<Option<Rows>> {
        let state = &self.inner.schema;
        if !state.peers_v2_missing.load(Ordering::Relaxed) {
            match client
                .query(
                    "SELECT host_id, schema_version FROM system.peers_v2",
                    (),
                    &system_options(),
                )
                .await
            {
                Ok(r) => return Ok(r.into_rows()),
                Err(Error::Server(e))
                    if e.code == ErrorCode::INVALID || e.code == ErrorCode::SYNTAX_ERROR =>
                {
                    state.peers_v2_missing.store(true, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        let r = client
            .query(
                "SELECT host_id, schema_version FROM system.peers",
                (),
                &system_options(),
            )
            .await?;
        Ok(r.into_rows())
    }

    /// Every `system_schema` table (of one keyspace, or all), on one connection.
    async fn read_schema(
        &self,
        keyspace: Option<&str>,
    ) -> std::result::Result<Schema, SchemaLoadError> {
        let conn = self.connection().await?;
        let client = &conn.client;
        let mut b = SchemaBuilder::new();
        let local = client
            .query(
                "SELECT cluster_name, partitioner FROM system.local WHERE key = 'local'",
                (),
                &system_options(),
            )
            .await?;
        if let Some(rows) = local.rows() {
            b.local(rows)?;
        }
        // The tables every server has; the others may be missing (Amazon Keyspaces has no
        // views, functions or aggregates) and then hold nothing.
        type Add = fn(&mut SchemaBuilder, &Rows) -> std::result::Result<(), SchemaError>;
        let tables: [(&str, Add, bool); 8] = [
            ("keyspaces", SchemaBuilder::keyspaces, true),
            ("tables", SchemaBuilder::tables, true),
            ("columns", SchemaBuilder::columns, true),
            ("types", SchemaBuilder::types, false),
            ("indexes", SchemaBuilder::indexes, false),
            ("views", SchemaBuilder::views, false),
            ("functions", SchemaBuilder::functions, false),
            ("aggregates", SchemaBuilder::aggregates, false),
        ];
        for (table, add, required) in tables {
            let read = match keyspace {
                Some(k) => {
                    let cql =
                        format!("SELECT * FROM system_schema.{table} WHERE keyspace_name = ?");
                    each_page(client, &cql, (k,), |rows| add(&mut b, rows)).await
                }
                None => {
                    let cql = format!("SELECT * FROM system_schema.{table}");
                    each_page(client, &cql, (), |rows| add(&mut b, rows)).await
                }
            };
            match read {
                Err(SchemaLoadError::Query(Error::Server(e))) if !required => {
                    tracing::debug!(table, error = %e.message, "system_schema table unreadable: none of its objects");
                }
                other => other?,
            }
        }
        // Amazon Keyspaces' options beyond Cassandra's (capacity mode, status, …); tried
        // once on other servers.
        if !self.inner.schema.mcs_missing.load(Ordering::Relaxed) {
            let add = SchemaBuilder::keyspaces_tables;
            let read = match keyspace {
                Some(k) => {
                    let cql = "SELECT * FROM system_schema_mcs.tables WHERE keyspace_name = ?";
                    each_page(client, cql, (k,), |rows| add(&mut b, rows)).await
                }
                None => {
                    let cql = "SELECT * FROM system_schema_mcs.tables";
                    each_page(client, cql, (), |rows| add(&mut b, rows)).await
                }
            };
            match read {
                Err(SchemaLoadError::Query(Error::Server(e)))
                    if e.code == ErrorCode::INVALID || e.code == ErrorCode::SYNTAX_ERROR =>
                {
                    tracing::debug!(error = %e.message, "no system_schema_mcs");
                    self.inner.schema.mcs_missing.store(true, Ordering::Relaxed);
                }
                other => other?,
            }
        }
        Ok(b.build())
    }
}

/// Runs `cql` and hands every page to `each`.
async fn each_page<R: SerializeRow>(
    client: &Client,
    cql: &str,
    values: R,
    mut each: impl FnMut(&Rows) -> std::result::Result<(), SchemaError>,
) -> std::result::Result<(), SchemaLoadError> {
    let mut options = system_options();
    loop {
        let result = client.query(cql, &values, &options).await?;
        let Some(rows) = result.rows() else {
            return Ok(());
        };
        each(rows)?;
        match rows.paging_state() {
            Some(state) if rows.has_more_pages() => {
                options = options.with_paging_state(state.clone());
            }
            _ => return Ok(()),
        }
    }
}
