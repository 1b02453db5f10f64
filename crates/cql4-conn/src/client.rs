//! The request API: `connect`, then `query`, `prepare`, `execute`, `batch`, `use_keyspace`,
//! `register`, and paging (see [`crate::paging`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use cql4_frame::bind::{Bound, SerializeRow, Unprepared};
use cql4_frame::compression::Compression;
use cql4_frame::consistency::Consistency;
use cql4_frame::opcode::Opcode;
use cql4_frame::request::{
    encode_execute, encode_query, encode_request_frame, execute_size_hint, Batch, BatchQuery,
    BatchStatement, BatchType, CustomPayload, FrameExtras, Prepare, QueryParameters, Register,
    Request, RequestFrame, WriteValues,
};
use cql4_frame::response::{ErrorCode, Prepared, Response, ResponseFrame, ResultResponse};
use cql4_frame::rows::{ResultMetadata, Rows};
use cql4_frame::writer::Writer;
use cql4_frame::{DecodeLimits, EncodeError};
use tokio::sync::mpsc;

use crate::config::Config;
use crate::driver::DriverConfig;
use crate::error::{Error, Result};
use crate::events::{EventType, Events};
use crate::handshake;
use crate::heartbeat::HeartbeatConfig;
use crate::options::{QueryOptions, RowValues};
use crate::prepared::{PreparedStatement, State};
use crate::request_channel::{self, Connection, RequestChannel};
use crate::transport;

/// Opens a connection: TCP (+ TLS), then the v4 handshake and authentication, all within
/// [`Config::connect_timeout`]. Returns the cheap-to-clone [`Client`] and the
/// [`Connection`] future that must be spawned (or use [`Client::connect`], which spawns it).
///
/// ```no_run
/// # async fn run() -> Result<(), cql4_conn::Error> {
/// let config = cql4_conn::Config::new("127.0.0.1", 9042);
/// let (client, connection) = cql4_conn::connect(&config).await?;
/// tokio::spawn(connection);
/// let result = client.query("SELECT release_version FROM system.local", (), &Default::default()).await?;
/// # Ok(()) }
/// ```
pub async fn connect(config: &Config) -> Result<(Client, Connection)> {
    match tokio::time::timeout(config.connect_timeout, connect_inner(config)).await {
        Ok(r) => r,
        Err(_) => Err(Error::ConnectTimeout {
            addr: config.address(),
            timeout: config.connect_timeout,
        }),
    }
}

async fn connect_inner(config: &Config) -> Result<(Client, Connection)> {
    let mut io = transport::open(config).await?;
    // Handshake answers are small; the connection's reads grow the buffer as traffic needs.
    let mut read_buf = BytesMut::with_capacity(4 * 1024);
    let compression = handshake::run(&mut io, &mut read_buf, config).await?;
    let (channel, connection) = request_channel::start(
        io,
        read_buf,
        DriverConfig {
            mux: config.mux.clone(),
            limits: config.limits.clone(),
            heartbeat: HeartbeatConfig {
                interval: config.heartbeat_interval,
                timeout: config.heartbeat_timeout,
            },
            on_queue_full: config.on_queue_full,
            metrics: crate::metrics::ConnMetrics::new(config),
        },
    );
    let client = Client {
        inner: Arc::new(Inner {
            channel,
            compression,
            limits: config.limits.clone(),
            request_timeout: config.request_timeout,
            consistency: config.default_consistency,
            page_size: config.default_page_size,
            event_buffer: config.event_buffer.max(1),
            prepared: Mutex::new(HashMap::new()),
            prepared_cache_size: config.prepared_cache_size,
        }),
    };
    Ok((client, connection))
}

/// A handle to one connection; cheap to clone, usable from many tasks at once (requests are
/// multiplexed on up to 32,768 stream ids).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    channel: RequestChannel,
    compression: Compression,
    limits: DecodeLimits,
    request_timeout: Duration,
    consistency: Consistency,
    page_size: i32,
    event_buffer: usize,
    prepared: Mutex<HashMap<String, PreparedStatement>>,
    prepared_cache_size: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("compression", &self.inner.compression)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// The outcome of a QUERY, EXECUTE or BATCH: the RESULT message and the frame's extras.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct QueryResult {
    /// The RESULT (Void, Rows, Set_keyspace, Schema_change).
    pub result: ResultResponse,
    /// The tracing session id when tracing was requested (§2.2 flag 0x02).
    pub tracing_id: Option<[u8; 16]>,
    /// The server's warnings (§2.2 flag 0x08), e.g. a batch over the size threshold.
    pub warnings: Vec<String>,
    /// The server's custom payload (§2.2 flag 0x04).
    pub custom_payload: Option<CustomPayload>,
}

impl QueryResult {
    /// The page of rows, for a Rows result.
    pub fn rows(&self) -> Option<&Rows> {
        match &self.result {
            ResultResponse::Rows(r) => Some(r),
            _ => None,
        }
    }

    /// The page of rows, owned.
    pub fn into_rows(self) -> Option<Rows> {
        match self.result {
            ResultResponse::Rows(r) => Some(r),
            _ => None,
        }
    }

    /// The paging state to fetch the next page, if there is one (§8).
    pub fn paging_state(&self) -> Option<&Bytes> {
        self.rows().and_then(Rows::paging_state)
    }
}

/// A BATCH (native_protocol_v4.spec §4.1.7) being built: query strings and prepared
/// statements, each with its values (any [`SerializeRow`], kept until the batch is encoded;
/// a prepared child's values are checked against its markers then).
#[derive(Clone)]
pub struct BatchRequest {
    batch_type: BatchType,
    statements: Vec<(BatchItem, Arc<RowValues>)>,
    idempotent: bool,
}

impl std::fmt::Debug for BatchRequest {
    // The values may be anything (and secret): show the statements only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchRequest")
            .field("batch_type", &self.batch_type)
            .field(
                "statements",
                &self.statements.iter().map(|(s, _)| s).collect::<Vec<_>>(),
            )
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

#[derive(Debug, Clone)]
enum BatchItem {
    Query(String),
    Prepared(PreparedStatement),
}

impl BatchRequest {
    /// An empty batch of `batch_type` (LOGGED, UNLOGGED, COUNTER).
    pub fn new(batch_type: BatchType) -> Self {
        Self {
            batch_type,
            statements: Vec::new(),
            idempotent: false,
        }
    }

    /// The batch's type.
    pub fn batch_type(&self) -> BatchType {
        self.batch_type
    }

    /// Sets the batch's default idempotence (used when [`QueryOptions::idempotent`] is
    /// `None`): true when running it twice does what running it once does (no counter, no
    /// list append, no condition). A LOGGED batch's BATCH_LOG write timeout is retried anyway.
    pub fn set_idempotent(&mut self, idempotent: bool) -> &mut Self {
        self.idempotent = idempotent;
        self
    }

    /// The batch's default idempotence: false unless set.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    /// Adds a query string with its values, written by their Rust types (positional only: a
    /// BATCH cannot carry names, see [`cql4_frame::request::NAMED_BATCH_VALUES`]).
    pub fn add_query(
        &mut self,
        cql: impl Into<String>,
        values: impl SerializeRow + Send + Sync + 'static,
    ) -> &mut Self {
        self.statements
            .push((BatchItem::Query(cql.into()), Arc::new(values)));
        self
    }

    /// Adds a prepared statement with its values.
    pub fn add_prepared(
        &mut self,
        statement: &PreparedStatement,
        values: impl SerializeRow + Send + Sync + 'static,
    ) -> &mut Self {
        self.statements
            .push((BatchItem::Prepared(statement.clone()), Arc::new(values)));
        self
    }

    /// Statements added so far.
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }
}

impl Client {
    /// Connects (see [`connect`]) and spawns the [`Connection`] on the current tokio runtime.
    pub async fn connect(config: &Config) -> Result<Self> {
        let (client, connection) = connect(config).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
        Ok(client)
    }

    /// True once the connection has closed; every later request fails with
    /// [`Error::Closed`].
    pub fn is_closed(&self) -> bool {
        self.inner.channel.is_closed()
    }

    /// What the connection's stream table holds now: requests in flight, queued, and stream
    /// ids orphaned by timed-out requests (see [`crate::StreamStats`]).
    pub fn streams(&self) -> crate::StreamStats {
        self.inner.channel.stats()
    }

    /// True when both handles are of the same connection.
    pub fn same_connection(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The compression negotiated in the handshake.
    pub fn compression(&self) -> Compression {
        self.inner.compression
    }

    /// Runs a CQL string (QUERY, §4.1.4) with values (`()` for none), written straight into
    /// the frame by their Rust types (`i32` as int, `&str` as text, …; see
    /// [`SerializeRow::serialize_unprepared`]): positional for tuples and slices, named for
    /// maps and derived structs. A select returns its first page; see [`Client::query_pages`]
    /// and [`Client::query_rows`] for the rest.
    pub async fn query<R: SerializeRow>(
        &self,
        cql: &str,
        values: R,
        options: &QueryOptions,
    ) -> Result<QueryResult> {
        let params = self.params(Unprepared(&values), options, false);
        let bytes = self.encode_frame(Opcode::QUERY, extras(options), 96 + cql.len(), |w| {
            encode_query(w, cql, &params)
        })?;
        self.send(bytes, self.timeout(options), None).await
    }

    /// Prepares a statement (PREPARE, §4.1.5). Statements are cached by query text: preparing
    /// the same text again returns the cached statement without a round trip.
    pub async fn prepare(&self, cql: &str) -> Result<PreparedStatement> {
        if let Some(s) = self.cached(cql) {
            return Ok(s);
        }
        let prepared = self
            .prepare_uncached(cql, self.inner.request_timeout)
            .await?;
        let statement = PreparedStatement::new(cql.to_owned(), prepared);
        if let Ok(mut cache) = self.inner.prepared.lock() {
            if cache.len() >= self.inner.prepared_cache_size {
                cache.clear();
            }
            cache.insert(cql.to_owned(), statement.clone());
        }
        Ok(statement)
    }

    /// Executes a prepared statement (EXECUTE, §4.1.6) with values (`()` for none: a tuple, a
    /// slice, a name-keyed map or a `#[derive(SerializeRow)]` struct), each checked against its
    /// bind marker's type and written straight into the frame. When the statement has result
    /// metadata, the server is asked to skip it (flag 0x02) and the cached metadata decodes
    /// the rows. If the server no longer knows the statement (UNPREPARED, e.g. after the table
    /// was dropped and recreated), it is prepared again — updating its metadata — and the
    /// frame encoded again against the new markers and executed once more.
    pub async fn execute<R: SerializeRow>(
        &self,
        statement: &PreparedStatement,
        values: R,
        options: &QueryOptions,
    ) -> Result<QueryResult> {
        let timeout = self.timeout(options);
        // Boxed, and the first answer out of scope before it is awaited: the rare path would
        // otherwise make every EXECUTE's future larger (and each move of it longer).
        let again = {
            let state = statement.state();
            let bytes = self.encode_execute(&state, &values, options)?;
            let first = self
                .send(bytes, timeout, state.result_metadata.as_ref())
                .await;
            if !is_unprepared(&first) {
                return first;
            }
            Box::pin(self.execute_again(statement, &values, options, timeout))
        };
        again.await
    }

    /// [`Self::execute`] after UNPREPARED: prepares the statement again and executes it once
    /// more.
    async fn execute_again<R: SerializeRow + ?Sized>(
        &self,
        statement: &PreparedStatement,
        values: &R,
        options: &QueryOptions,
        timeout: Duration,
    ) -> Result<QueryResult> {
        tracing::debug!(query = statement.query(), "UNPREPARED: preparing again");
        self.reprepare(statement, timeout).await?;
        let state = statement.state();
        let bytes = self.encode_execute(&state, values, options)?;
        self.send(bytes, timeout, state.result_metadata.as_ref())
            .await
    }

    fn encode_execute<R: SerializeRow + ?Sized>(
        &self,
        state: &State,
        values: &R,
        options: &QueryOptions,
    ) -> Result<Vec<u8>> {
        let markers = &state.metadata.columns;
        let params = self.params(
            Bound {
                row: values,
                markers,
            },
            options,
            state.result_metadata.is_some(),
        );
        let capacity = execute_size_hint(state.id.len(), markers.len());
        self.encode_frame(Opcode::EXECUTE, extras(options), capacity, |w| {
            encode_execute(w, &state.id, &params)
        })
    }

    /// Runs a BATCH (§4.1.7). Prepared children that the server no longer knows are prepared
    /// again and the batch is sent once more. Children take positional values only: named
    /// ones fail before anything is sent (the v4 BATCH layout cannot carry names, see
    /// [`cql4_frame::request::NAMED_BATCH_VALUES`]).
    pub async fn batch(&self, batch: &BatchRequest, options: &QueryOptions) -> Result<QueryResult> {
        let timeout = self.timeout(options);
        match self
            .send(self.encode_batch(batch, options)?, timeout, None)
            .await
        {
            Err(Error::Server(e)) if e.code == ErrorCode::UNPREPARED => {
                let unknown = match &e.details {
                    cql4_frame::response::ErrorDetails::Unprepared { id } => Some(id.clone()),
                    _ => None,
                };
                for (item, _) in &batch.statements {
                    if let BatchItem::Prepared(p) = item {
                        if unknown.as_ref().is_none_or(|id| *id == p.id()) {
                            self.reprepare(p, timeout).await?;
                        }
                    }
                }
                self.send(self.encode_batch(batch, options)?, timeout, None)
                    .await
            }
            other => other,
        }
    }

    /// The BATCH frame: each child's values written into it, a prepared child's checked
    /// against its markers.
    fn encode_batch(&self, batch: &BatchRequest, options: &QueryOptions) -> Result<Vec<u8>> {
        let states: Vec<Option<Arc<State>>> = batch
            .statements
            .iter()
            .map(|(item, _)| match item {
                BatchItem::Prepared(p) => Some(p.state()),
                BatchItem::Query(_) => None,
            })
            .collect();
        let mut size = 64;
        let mut statements = Vec::with_capacity(batch.statements.len());
        for ((item, values), state) in batch.statements.iter().zip(&states) {
            let (query, values) = match (item, state) {
                (BatchItem::Prepared(_), Some(s)) => {
                    size += execute_size_hint(s.id.len(), s.metadata.columns.len());
                    let bound = Bound {
                        row: &**values,
                        markers: &s.metadata.columns,
                    };
                    (
                        BatchQuery::Prepared(s.id.clone()),
                        ChildValues::Bound(bound),
                    )
                }
                (item, _) => {
                    let q = match item {
                        BatchItem::Query(q) => q.clone(),
                        BatchItem::Prepared(p) => p.query().to_owned(),
                    };
                    size += q.len() + 32;
                    let values = ChildValues::Unprepared(Unprepared(&**values));
                    (BatchQuery::Query(q), values)
                }
            };
            statements.push(BatchStatement { query, values });
        }
        let b = Batch {
            batch_type: batch.batch_type,
            statements,
            consistency: options.consistency.unwrap_or(self.inner.consistency),
            serial_consistency: options.serial_consistency,
            default_timestamp: options.default_timestamp,
        };
        self.encode_frame(Opcode::BATCH, extras(options), size, |w| b.encode(w))
    }

    /// Switches the connection's keyspace (`USE`, answered by a Set_keyspace result). Runs at
    /// `LOCAL_ONE` whatever [`Config::default_consistency`] says: `USE` reads nothing, and
    /// Amazon Keyspaces answers it at QUORUM, ALL or ANY with Invalid (gocql #1422).
    pub async fn use_keyspace(&self, keyspace: &str) -> Result<()> {
        let cql = format!("USE \"{}\"", keyspace.replace('"', "\"\""));
        let options = QueryOptions::new().with_consistency(Consistency::LOCAL_ONE);
        let r = self.query(&cql, (), &options).await?;
        match r.result {
            ResultResponse::SetKeyspace(_) => Ok(()),
            other => Err(Error::Protocol(format!(
                "USE answered with {other:?} instead of Set_keyspace"
            ))),
        }
    }

    /// Subscribes to server events (REGISTER, §4.1.8). Events arrive on the returned stream;
    /// calling this again replaces the previous stream.
    pub async fn register(&self, event_types: &[EventType]) -> Result<Events> {
        let (tx, rx) = mpsc::channel(self.inner.event_buffer);
        self.inner.channel.set_events(tx)?;
        let frame = RequestFrame {
            stream: 0,
            tracing: false,
            custom_payload: None,
            message: Request::Register(Register {
                event_types: event_types.iter().map(|t| t.as_str().to_owned()).collect(),
            }),
        };
        let response = self
            .round_trip(
                self.encode_message(&frame)?,
                self.inner.request_timeout,
                None,
            )
            .await?;
        match response.message {
            Response::Ready => Ok(Events::new(
                rx,
                self.inner.compression,
                self.inner.limits.clone(),
            )),
            Response::Error(e) => Err(Error::Server(Box::new(e))),
            other => Err(unexpected("READY", &other)),
        }
    }

    // ---- internals ----

    pub(crate) fn timeout(&self, options: &QueryOptions) -> Duration {
        options.timeout.unwrap_or(self.inner.request_timeout)
    }

    pub(crate) fn params<V: WriteValues>(
        &self,
        values: V,
        options: &QueryOptions,
        skip_metadata: bool,
    ) -> QueryParameters<V> {
        QueryParameters {
            consistency: options.consistency.unwrap_or(self.inner.consistency),
            values: Some(values),
            skip_metadata,
            page_size: Some(options.page_size.unwrap_or(self.inner.page_size)).filter(|n| *n > 0),
            paging_state: options.paging_state.clone(),
            serial_consistency: options.serial_consistency,
            default_timestamp: options.default_timestamp,
        }
    }

    /// A request frame with its header fields from `options`, written straight into a frame
    /// buffer of the connection's pool with room for `capacity` bytes (grown only when the
    /// values are larger than guessed): the values are never copied into a buffer of their
    /// own, and the buffer is reused once the I/O task has copied it out.
    fn encode_frame(
        &self,
        opcode: Opcode,
        extras: FrameExtras<'_>,
        capacity: usize,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
    ) -> Result<Vec<u8>> {
        let mut bytes = self.inner.channel.frame_buffer(capacity);
        encode_request_frame(&mut bytes, self.inner.compression, opcode, extras, body)?;
        Ok(bytes)
    }

    /// A decoded-form frame (PREPARE, REGISTER), encoded.
    fn encode_message(&self, frame: &RequestFrame) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        frame.encode(self.inner.compression, &mut bytes)?;
        Ok(bytes)
    }

    fn cached(&self, cql: &str) -> Option<PreparedStatement> {
        self.inner.prepared.lock().ok()?.get(cql).cloned()
    }

    async fn prepare_uncached(&self, cql: &str, timeout: Duration) -> Result<Prepared> {
        let frame = RequestFrame {
            stream: 0,
            tracing: false,
            custom_payload: None,
            message: Request::Prepare(Prepare {
                query: cql.to_owned(),
            }),
        };
        match self
            .send(self.encode_message(&frame)?, timeout, None)
            .await?
            .result
        {
            ResultResponse::Prepared(p) => Ok(*p),
            other => Err(Error::Protocol(format!(
                "PREPARE answered with {other:?} instead of Prepared"
            ))),
        }
    }

    async fn reprepare(&self, statement: &PreparedStatement, timeout: Duration) -> Result<()> {
        let prepared = self.prepare_uncached(statement.query(), timeout).await?;
        statement.update(prepared);
        Ok(())
    }

    /// Sends an encoded request and expects a RESULT.
    pub(crate) async fn send(
        &self,
        bytes: Vec<u8>,
        timeout: Duration,
        cached: Option<&Arc<ResultMetadata>>,
    ) -> Result<QueryResult> {
        let response = self.round_trip(bytes, timeout, cached).await?;
        match response.message {
            Response::Result(result) => Ok(QueryResult {
                result,
                tracing_id: response.tracing_id,
                warnings: response.warnings.unwrap_or_default(),
                custom_payload: response.custom_payload,
            }),
            Response::Error(e) => Err(Error::Server(Box::new(e))),
            other => Err(unexpected("RESULT", &other)),
        }
    }

    /// Sends an encoded frame, decodes the answer in the caller's task (keeping the I/O task
    /// free for routing).
    async fn round_trip(
        &self,
        bytes: Vec<u8>,
        timeout: Duration,
        cached: Option<&Arc<ResultMetadata>>,
    ) -> Result<ResponseFrame> {
        let raw = self.inner.channel.request(bytes, timeout).await?;
        Ok(ResponseFrame::decode_with_metadata(
            raw,
            self.inner.compression,
            &self.inner.limits,
            cached,
        )?)
    }
}

/// A BATCH child's values: bound to a prepared child's markers, or by their Rust types.
enum ChildValues<'a> {
    Bound(Bound<'a, RowValues>),
    Unprepared(Unprepared<'a, RowValues>),
}

impl WriteValues for ChildValues<'_> {
    fn write_values(&self, w: &mut Writer<'_>) -> Result<Option<bool>, EncodeError> {
        match self {
            Self::Bound(b) => b.write_values(w),
            Self::Unprepared(u) => u.write_values(w),
        }
    }
}

/// True when the server no longer knows the prepared statement.
fn is_unprepared(result: &Result<QueryResult>) -> bool {
    matches!(result, Err(Error::Server(e)) if e.code == ErrorCode::UNPREPARED)
}

fn extras(options: &QueryOptions) -> FrameExtras<'_> {
    FrameExtras {
        stream: 0,
        tracing: options.tracing,
        custom_payload: options.custom_payload.as_ref(),
    }
}

fn unexpected(wanted: &str, got: &Response) -> Error {
    let name = got.opcode().name().unwrap_or("unknown opcode");
    Error::Protocol(format!("expected {wanted}, got {name}"))
}
