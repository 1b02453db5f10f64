//! Request messages (native_protocol_v4.spec §4.1): encoding for the client, decoding for
//! proxies, fake servers and round-trip tests.
//!
//! A request is encoded once, header and body, into a caller-owned `Vec<u8>`
//! ([`encode_request_frame`]); a client's bound values are written straight into it
//! ([`WriteValues`]). cql4-conn encodes with stream 0 and writes the assigned id in place of
//! header bytes 2..4 while it copies the frame into its write buffer. The owned forms
//! ([`Request`], [`QueryValues`], [`BoundValue`]) are what a decoder returns.

use std::fmt;

use bytes::Bytes;

use crate::codes::open_code;
use crate::compression::Compression;
use crate::consistency::Consistency;
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use crate::framing::{write_frame, Direction, FrameFlags, FrameHeader, RawFrame};
use crate::limits::DecodeLimits;
use crate::opcode::Opcode;
use crate::reader::{RawValue, Reader};
use crate::writer::Writer;

/// A frame's custom payload (§2.2 flag 0x04): a `[bytes map]`, in wire order.
pub type CustomPayload = Vec<(String, Option<Bytes>)>;

/// An owned `[value]` (§3) bound to a query variable: bytes already serialized for the
/// column's CQL type (see the `value` module), null, or not set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BoundValue {
    /// A present value.
    Bytes(Bytes),
    /// Length -1: null.
    Null,
    /// Length -2: "not set", the server leaves the variable unchanged.
    NotSet,
}

impl BoundValue {
    /// The borrowed wire form.
    pub fn as_raw(&self) -> RawValue<'_> {
        match self {
            Self::Bytes(b) => RawValue::Bytes(b),
            Self::Null => RawValue::Null,
            Self::NotSet => RawValue::NotSet,
        }
    }

    /// Copies a borrowed `[value]`.
    pub fn from_raw(v: RawValue<'_>) -> Self {
        match v {
            RawValue::Bytes(b) => Self::Bytes(Bytes::copy_from_slice(b)),
            RawValue::Null => Self::Null,
            RawValue::NotSet => Self::NotSet,
        }
    }
}

/// Values for the bind markers of a QUERY, EXECUTE or BATCH child (§4.1.4 flags 0x01, 0x40).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryValues {
    /// Values in bind-marker order.
    Positional(Vec<BoundValue>),
    /// Values each preceded by the marker's `[string]` name (flag 0x40).
    Named(Vec<(String, BoundValue)>),
}

/// Values written into `<query_parameters>` or a BATCH child: the decoded [`QueryValues`] of a
/// proxy or fake server, or a Rust row written straight into the frame
/// ([`Bound`](crate::bind::Bound), [`Unprepared`](crate::bind::Unprepared)).
pub trait WriteValues {
    /// Writes the `[short]` count and the values (each `[value]`, after its `[string]` name
    /// when named). Returns whether they are named (flag 0x40), or `None` having written
    /// nothing when there are no values to send (flag 0x01 clear).
    fn write_values(&self, w: &mut Writer<'_>) -> Result<Option<bool>, EncodeError>;
}

impl<V: WriteValues + ?Sized> WriteValues for &V {
    #[inline]
    fn write_values(&self, w: &mut Writer<'_>) -> Result<Option<bool>, EncodeError> {
        (**self).write_values(w)
    }
}

impl WriteValues for QueryValues {
    fn write_values(&self, w: &mut Writer<'_>) -> Result<Option<bool>, EncodeError> {
        const WHAT: &str = "values";
        match self {
            Self::Positional(v) => {
                w.short_count(v.len(), WHAT)?;
                for value in v {
                    w.value(value.as_raw(), WHAT)?;
                }
                Ok(Some(false))
            }
            Self::Named(v) => {
                w.short_count(v.len(), WHAT)?;
                for (name, value) in v {
                    w.string(name, WHAT)?;
                    w.value(value.as_raw(), WHAT)?;
                }
                Ok(Some(true))
            }
        }
    }
}

impl QueryValues {
    fn decode(r: &mut Reader<'_>, named: bool, what: &'static str) -> DecodeResult<Self> {
        let n = usize::from(r.u16(what)?);
        // Each value takes at least its 4-byte length (plus a 2-byte name when named).
        if named {
            let mut v = Vec::with_capacity(r.capacity_for(n, 6));
            for _ in 0..n {
                let name = r.string(what)?.to_owned();
                v.push((name, BoundValue::from_raw(r.value(what)?)));
            }
            Ok(Self::Named(v))
        } else {
            let mut v = Vec::with_capacity(r.capacity_for(n, 4));
            for _ in 0..n {
                v.push(BoundValue::from_raw(r.value(what)?));
            }
            Ok(Self::Positional(v))
        }
    }
}

mod query_flags {
    pub(super) const VALUES: u8 = 0x01;
    pub(super) const SKIP_METADATA: u8 = 0x02;
    pub(super) const PAGE_SIZE: u8 = 0x04;
    pub(super) const PAGING_STATE: u8 = 0x08;
    pub(super) const SERIAL_CONSISTENCY: u8 = 0x10;
    pub(super) const DEFAULT_TIMESTAMP: u8 = 0x20;
    pub(super) const NAMES_FOR_VALUES: u8 = 0x40;
    pub(super) const KNOWN: u8 = 0x7f;
}

/// `<query_parameters>` of QUERY and EXECUTE (native_protocol_v4.spec §4.1.4). Each optional
/// field sets its flag when present. `V` is how the values are held: [`QueryValues`] when
/// decoded, a Rust row written straight into the frame when a client encodes
/// ([`WriteValues`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParameters<V = QueryValues> {
    /// `<consistency>`.
    pub consistency: Consistency,
    /// Flag 0x01 (and 0x40 for named values). `Some` [`QueryValues`] with no values still sets
    /// the flag and sends a zero count, as the Python driver does for EXECUTE.
    pub values: Option<V>,
    /// Flag 0x02: the server omits the Rows metadata (§4.2.5.2 No_metadata).
    pub skip_metadata: bool,
    /// Flag 0x04: `<result_page_size>` in rows (§8).
    pub page_size: Option<i32>,
    /// Flag 0x08: `<paging_state>` from a previous page (§8).
    pub paging_state: Option<Bytes>,
    /// Flag 0x10: SERIAL or LOCAL_SERIAL for the Paxos phase of conditional updates.
    pub serial_consistency: Option<Consistency>,
    /// Flag 0x20: default timestamp in microseconds.
    pub default_timestamp: Option<i64>,
}

impl<V: WriteValues> QueryParameters<V> {
    /// Appends `<consistency><flags>[values][page_size][paging_state][serial][timestamp]`.
    /// The values are written straight into `w`; the flags byte is patched after them (their
    /// count and whether they are named are known only then).
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        use query_flags::*;
        let mut flags = 0;
        if self.skip_metadata {
            flags |= SKIP_METADATA;
        }
        if self.page_size.is_some() {
            flags |= PAGE_SIZE;
        }
        if self.paging_state.is_some() {
            flags |= PAGING_STATE;
        }
        if self.serial_consistency.is_some() {
            flags |= SERIAL_CONSISTENCY;
        }
        if self.default_timestamp.is_some() {
            flags |= DEFAULT_TIMESTAMP;
        }
        w.consistency(self.consistency);
        let flags_at = w.position();
        w.u8(flags);
        if let Some(values) = &self.values {
            match values.write_values(w)? {
                Some(true) => w.patch(flags_at, &[flags | VALUES | NAMES_FOR_VALUES]),
                Some(false) => w.patch(flags_at, &[flags | VALUES]),
                None => {}
            }
        }
        if let Some(n) = self.page_size {
            w.i32(n);
        }
        if let Some(state) = &self.paging_state {
            w.bytes(Some(state), "query_parameters.paging_state")?;
        }
        if let Some(c) = self.serial_consistency {
            w.consistency(c);
        }
        if let Some(ts) = self.default_timestamp {
            w.i64(ts);
        }
        Ok(())
    }
}

impl QueryParameters {
    /// Parameters with only a consistency level.
    pub fn new(consistency: Consistency) -> Self {
        Self {
            consistency,
            values: None,
            skip_metadata: false,
            page_size: None,
            paging_state: None,
            serial_consistency: None,
            default_timestamp: None,
        }
    }

    /// Reads `<query_parameters>`.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        use query_flags::*;
        let consistency = Consistency(r.u16("query_parameters.consistency")?);
        let at = r.position();
        let flags = r.u8("query_parameters.flags")?;
        if flags & !KNOWN != 0 {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid("unknown query flag bit (0x80 is not defined in v4)"),
                "query_parameters.flags",
                at,
            ));
        }
        let values = if flags & VALUES != 0 {
            Some(QueryValues::decode(
                r,
                flags & NAMES_FOR_VALUES != 0,
                "query_parameters.values",
            )?)
        } else {
            None
        };
        let page_size = if flags & PAGE_SIZE != 0 {
            Some(r.i32("query_parameters.result_page_size")?)
        } else {
            None
        };
        let paging_state = if flags & PAGING_STATE != 0 {
            r.bytes("query_parameters.paging_state")?
                .map(Bytes::copy_from_slice)
        } else {
            None
        };
        let serial_consistency = if flags & SERIAL_CONSISTENCY != 0 {
            Some(Consistency(r.u16("query_parameters.serial_consistency")?))
        } else {
            None
        };
        let default_timestamp = if flags & DEFAULT_TIMESTAMP != 0 {
            Some(r.i64("query_parameters.timestamp")?)
        } else {
            None
        };
        Ok(Self {
            consistency,
            values,
            skip_metadata: flags & SKIP_METADATA != 0,
            page_size,
            paging_state,
            serial_consistency,
            default_timestamp,
        })
    }
}

/// STARTUP (native_protocol_v4.spec §4.1.1): a `[string map]` of options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Startup {
    /// Options in wire order (`CQL_VERSION` is mandatory).
    pub options: Vec<(String, String)>,
}

impl Startup {
    /// `CQL_VERSION` 3.0.0 and, unless `compression` is none, `COMPRESSION`.
    pub fn new(compression: Compression) -> Self {
        let mut options = vec![("CQL_VERSION".to_owned(), "3.0.0".to_owned())];
        if let Some(name) = compression.startup_name() {
            options.push(("COMPRESSION".to_owned(), name.to_owned()));
        }
        Self { options }
    }
}

/// AUTH_RESPONSE (native_protocol_v4.spec §4.1.2): one `[bytes]` SASL token. The token holds
/// credentials, so `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthResponse {
    /// The token; `None` is a null `[bytes]`.
    pub token: Option<Bytes>,
}

impl fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.token {
            Some(t) => write!(f, "AuthResponse {{ token: <{} bytes redacted> }}", t.len()),
            None => f.write_str("AuthResponse { token: null }"),
        }
    }
}

/// QUERY (native_protocol_v4.spec §4.1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `<query>`: a `[long string]`.
    pub query: String,
    /// `<query_parameters>`.
    pub params: QueryParameters,
}

/// PREPARE (native_protocol_v4.spec §4.1.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepare {
    /// The CQL to prepare, a `[long string]`.
    pub query: String,
}

/// EXECUTE (native_protocol_v4.spec §4.1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execute {
    /// The prepared id (`[short bytes]`) from a Prepared result.
    pub id: Bytes,
    /// `<query_parameters>`, as for QUERY.
    pub params: QueryParameters,
}

open_code! {
    /// A BATCH `<type>` (native_protocol_v4.spec §4.1.7).
    pub struct BatchType(u8) {
        /// 0: logged (the batch log guarantees all-or-nothing).
        LOGGED = 0 => "LOGGED",
        /// 1: unlogged.
        UNLOGGED = 1 => "UNLOGGED",
        /// 2: counter updates only.
        COUNTER = 2 => "COUNTER",
    }
}

/// A BATCH child's `<kind><string_or_id>` (§4.1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchQuery {
    /// Kind 0: a `[long string]` query.
    Query(String),
    /// Kind 1: a `[short bytes]` prepared id.
    Prepared(Bytes),
}

/// One `<query_i>` of a BATCH (§4.1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchStatement<V = QueryValues> {
    /// The query text or prepared id.
    pub query: BatchQuery,
    /// The statement's values, positional: a BATCH cannot carry named values (encoding one
    /// fails with [`EncodeError::Invalid`], see [`NAMED_BATCH_VALUES`]).
    pub values: V,
}

/// Why BATCH takes positional values only. The v4 spec's flag 0x40 ("with names for values",
/// §4.1.7) "does not work and should not be used [...] impossible for the server to
/// implement" (CASSANDRA-10246): the flag comes after the children, and a `[string]` name
/// followed by a `[value]` can read as a valid sequence of positional values, so one body
/// has two meanings (found by the `roundtrip_message` fuzz target). Cassandra reads the values
/// positionally whatever the flag says; cql4 neither writes nor accepts the flag.
pub const NAMED_BATCH_VALUES: &str = "BATCH values must be positional: flag 0x40 (names for \
     values) does not work in protocol v4 (native_protocol_v4.spec §4.1.7, CASSANDRA-10246)";

mod batch_flags {
    pub(super) const SERIAL_CONSISTENCY: u8 = 0x10;
    pub(super) const DEFAULT_TIMESTAMP: u8 = 0x20;
    pub(super) const KNOWN: u8 = 0x30;
}

/// BATCH (native_protocol_v4.spec §4.1.7). `V` holds each child's values, as in
/// [`QueryParameters`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch<V = QueryValues> {
    /// `<type>`.
    pub batch_type: BatchType,
    /// `<query_1>...<query_n>`.
    pub statements: Vec<BatchStatement<V>>,
    /// `<consistency>`.
    pub consistency: Consistency,
    /// Flag 0x10: `<serial_consistency>`.
    pub serial_consistency: Option<Consistency>,
    /// Flag 0x20: `<timestamp>` in microseconds.
    pub default_timestamp: Option<i64>,
}

impl<V: WriteValues> Batch<V> {
    /// Appends the BATCH body. A child with named values fails (see [`NAMED_BATCH_VALUES`]).
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        use batch_flags::*;
        w.u8(self.batch_type.0);
        w.short_count(self.statements.len(), "BATCH.n")?;
        for s in &self.statements {
            match &s.query {
                BatchQuery::Query(q) => {
                    w.u8(0);
                    w.long_string(q, "BATCH.query")?;
                }
                BatchQuery::Prepared(id) => {
                    w.u8(1);
                    w.short_bytes(id, "BATCH.id")?;
                }
            }
            let at = w.position();
            match s.values.write_values(w)? {
                Some(false) => {}
                Some(true) => return Err(EncodeError::Invalid(NAMED_BATCH_VALUES)),
                // A child always has its `<n>`.
                None => {
                    w.truncate(at);
                    w.u16(0);
                }
            }
        }
        w.consistency(self.consistency);
        let mut flags = 0;
        if self.serial_consistency.is_some() {
            flags |= SERIAL_CONSISTENCY;
        }
        if self.default_timestamp.is_some() {
            flags |= DEFAULT_TIMESTAMP;
        }
        w.u8(flags);
        if let Some(c) = self.serial_consistency {
            w.consistency(c);
        }
        if let Some(ts) = self.default_timestamp {
            w.i64(ts);
        }
        Ok(())
    }
}

impl Batch {
    /// Reads a BATCH body. Values are read as positional `[value]`s, as Cassandra reads them;
    /// a body whose flags claim names (0x40) is refused, since its layout cannot be told apart
    /// from a positional one (see [`NAMED_BATCH_VALUES`]).
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        use batch_flags::*;
        let batch_type = BatchType(r.u8("BATCH.type")?);
        let n = usize::from(r.u16("BATCH.n")?);
        // A child is at least kind + empty string/id + count: 5 bytes.
        let mut statements = Vec::with_capacity(r.capacity_for(n, 5));
        for _ in 0..n {
            let at = r.position();
            let query = match r.u8("BATCH.kind")? {
                0 => BatchQuery::Query(r.long_string("BATCH.query")?.to_owned()),
                1 => BatchQuery::Prepared(Bytes::copy_from_slice(r.short_bytes("BATCH.id")?)),
                _ => {
                    return Err(DecodeError::new(
                        DecodeErrorKind::Invalid("BATCH kind must be 0 or 1"),
                        "BATCH.kind",
                        at,
                    ))
                }
            };
            let values = QueryValues::decode(r, false, "BATCH.values")?;
            statements.push(BatchStatement { query, values });
        }
        let consistency = Consistency(r.u16("BATCH.consistency")?);
        let flags_at = r.position();
        let flags = r.u8("BATCH.flags")?;
        if flags & !KNOWN != 0 {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid(
                    "BATCH flags: only 0x10 and 0x20 are defined (0x40, names for values, \
                     does not work in v4)",
                ),
                "BATCH.flags",
                flags_at,
            ));
        }
        let serial_consistency = if flags & SERIAL_CONSISTENCY != 0 {
            Some(Consistency(r.u16("BATCH.serial_consistency")?))
        } else {
            None
        };
        let default_timestamp = if flags & DEFAULT_TIMESTAMP != 0 {
            Some(r.i64("BATCH.timestamp")?)
        } else {
            None
        };
        Ok(Self {
            batch_type,
            statements,
            consistency,
            serial_consistency,
            default_timestamp,
        })
    }
}

/// REGISTER (native_protocol_v4.spec §4.1.8): the event types to receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    /// `TOPOLOGY_CHANGE`, `STATUS_CHANGE`, `SCHEMA_CHANGE` (§4.2.6).
    pub event_types: Vec<String>,
}

/// A request message (native_protocol_v4.spec §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// §4.1.1.
    Startup(Startup),
    /// §4.1.2.
    AuthResponse(AuthResponse),
    /// §4.1.3: empty body.
    Options,
    /// §4.1.4.
    Query(Query),
    /// §4.1.5.
    Prepare(Prepare),
    /// §4.1.6.
    Execute(Execute),
    /// §4.1.7.
    Batch(Batch),
    /// §4.1.8.
    Register(Register),
}

impl Request {
    /// The frame opcode (§2.4).
    pub fn opcode(&self) -> Opcode {
        match self {
            Self::Startup(_) => Opcode::STARTUP,
            Self::AuthResponse(_) => Opcode::AUTH_RESPONSE,
            Self::Options => Opcode::OPTIONS,
            Self::Query(_) => Opcode::QUERY,
            Self::Prepare(_) => Opcode::PREPARE,
            Self::Execute(_) => Opcode::EXECUTE,
            Self::Batch(_) => Opcode::BATCH,
            Self::Register(_) => Opcode::REGISTER,
        }
    }

    /// Appends the message body (without frame header, custom payload or compression).
    pub fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            Self::Startup(m) => w.string_map(&m.options, "STARTUP.options"),
            Self::AuthResponse(m) => w.bytes(m.token.as_deref(), "AUTH_RESPONSE.token"),
            Self::Options => Ok(()),
            Self::Query(m) => encode_query(w, &m.query, &m.params),
            Self::Prepare(m) => w.long_string(&m.query, "PREPARE.query"),
            Self::Execute(m) => encode_execute(w, &m.id, &m.params),
            Self::Batch(m) => m.encode(w),
            Self::Register(m) => w.string_list(&m.event_types, "REGISTER.event_types"),
        }
    }

    /// Reads a message body of `opcode`. Trailing bytes are an error: every request layout is
    /// fully determined by its flags.
    pub fn decode_body(opcode: Opcode, r: &mut Reader<'_>) -> DecodeResult<Self> {
        let msg = match opcode {
            Opcode::STARTUP => Self::Startup(Startup {
                options: r
                    .string_map("STARTUP.options")?
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            }),
            Opcode::AUTH_RESPONSE => Self::AuthResponse(AuthResponse {
                token: r.bytes("AUTH_RESPONSE.token")?.map(Bytes::copy_from_slice),
            }),
            Opcode::OPTIONS => Self::Options,
            Opcode::QUERY => Self::Query(Query {
                query: r.long_string("QUERY.query")?.to_owned(),
                params: QueryParameters::decode(r)?,
            }),
            Opcode::PREPARE => Self::Prepare(Prepare {
                query: r.long_string("PREPARE.query")?.to_owned(),
            }),
            Opcode::EXECUTE => Self::Execute(Execute {
                id: Bytes::copy_from_slice(r.short_bytes("EXECUTE.id")?),
                params: QueryParameters::decode(r)?,
            }),
            Opcode::BATCH => Self::Batch(Batch::decode(r)?),
            Opcode::REGISTER => Self::Register(Register {
                event_types: r
                    .string_list("REGISTER.event_types")?
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            }),
            other => {
                return Err(r.error(DecodeErrorKind::UnexpectedOpcode(other.0), "request opcode"))
            }
        };
        r.expect_end("request body")?;
        Ok(msg)
    }
}

/// A request frame's header fields besides the opcode (§2.2, §2.3).
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameExtras<'a> {
    /// §2.3: the stream id (cql4-conn encodes 0 and writes the assigned id while copying the
    /// frame into its write buffer).
    pub stream: i16,
    /// Flag 0x02: ask the server to trace.
    pub tracing: bool,
    /// Flag 0x04: a custom payload, written before the message.
    pub custom_payload: Option<&'a CustomPayload>,
}

/// Appends a request frame of `opcode` whose message `body` writes: the header, the custom
/// payload, the message, compressed as negotiated, the length patched. STARTUP is never
/// compressed (§5: "a STARTUP message must never be compressed"). The one way a request frame
/// is encoded: [`RequestFrame::encode`] and the client's QUERY, EXECUTE and BATCH go through it.
pub fn encode_request_frame(
    out: &mut Vec<u8>,
    compression: Compression,
    opcode: Opcode,
    extras: FrameExtras<'_>,
    body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let compression = if opcode == Opcode::STARTUP {
        Compression::None
    } else {
        compression
    };
    let flags = FrameFlags::EMPTY
        .with(FrameFlags::TRACING, extras.tracing)
        .with(FrameFlags::CUSTOM_PAYLOAD, extras.custom_payload.is_some());
    let header = FrameHeader {
        direction: Direction::Request,
        flags,
        stream: extras.stream,
        opcode,
        length: 0,
    };
    write_frame(&mut Writer::new(out), header, compression, |w| {
        if let Some(payload) = extras.custom_payload {
            w.bytes_map(payload, "custom_payload")?;
        }
        body(w)
    })
}

/// A QUERY frame in a new buffer sized for the query text: how cql4-conn encodes one (the
/// buffer grows only when the values are longer than guessed).
pub fn query_frame<V: WriteValues>(
    compression: Compression,
    extras: FrameExtras<'_>,
    query: &str,
    params: &QueryParameters<V>,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(96 + query.len());
    encode_request_frame(&mut out, compression, Opcode::QUERY, extras, |w| {
        encode_query(w, query, params)
    })?;
    Ok(out)
}

/// An EXECUTE frame in a new buffer sized for `markers` values ([`execute_size_hint`]): how
/// cql4-conn encodes one.
pub fn execute_frame<V: WriteValues>(
    compression: Compression,
    extras: FrameExtras<'_>,
    id: &[u8],
    markers: usize,
    params: &QueryParameters<V>,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(execute_size_hint(id.len(), markers));
    encode_request_frame(&mut out, compression, Opcode::EXECUTE, extras, |w| {
        encode_execute(w, id, params)
    })?;
    Ok(out)
}

/// Room for an EXECUTE (or a BATCH child) of `markers` values: header, id, flags, consistency,
/// page size, paging state and timestamps in 96 bytes, then a 4-byte length and up to 12 bytes
/// per value (numbers, ids, short strings), so that a typical row is encoded into one
/// allocation.
pub fn execute_size_hint(id_len: usize, markers: usize) -> usize {
    96 + id_len + markers.saturating_mul(16)
}

/// Appends a QUERY body (§4.1.4): the query then its parameters, values written from `params`.
pub fn encode_query<V: WriteValues>(
    w: &mut Writer<'_>,
    query: &str,
    params: &QueryParameters<V>,
) -> Result<(), EncodeError> {
    w.long_string(query, "QUERY.query")?;
    params.encode(w)
}

/// Appends an EXECUTE body (§4.1.6): the prepared id then the parameters.
pub fn encode_execute<V: WriteValues>(
    w: &mut Writer<'_>,
    id: &[u8],
    params: &QueryParameters<V>,
) -> Result<(), EncodeError> {
    w.short_bytes(id, "EXECUTE.id")?;
    params.encode(w)
}

/// A request with its frame-level extras (§2.2, §4): what a proxy or fake server decodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFrame {
    /// §2.3: non-negative for client requests.
    pub stream: i16,
    /// Flag 0x02: ask the server to trace (QUERY, PREPARE, EXECUTE; ignored otherwise).
    pub tracing: bool,
    /// Flag 0x04: precedes the message (QUERY, PREPARE, EXECUTE and BATCH use it).
    pub custom_payload: Option<CustomPayload>,
    /// The message.
    pub message: Request,
}

impl RequestFrame {
    /// Appends the whole frame (STARTUP is never compressed, §5).
    pub fn encode(&self, compression: Compression, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let extras = FrameExtras {
            stream: self.stream,
            tracing: self.tracing,
            custom_payload: self.custom_payload.as_ref(),
        };
        encode_request_frame(out, compression, self.message.opcode(), extras, |w| {
            self.message.encode_body(w)
        })
    }

    /// Decodes a request frame (decompressing it first when flagged).
    pub fn decode(
        frame: RawFrame,
        compression: Compression,
        limits: &DecodeLimits,
    ) -> DecodeResult<Self> {
        if frame.header.direction != Direction::Request {
            return Err(DecodeError::new(
                DecodeErrorKind::WrongDirection,
                "frame header.version",
                0,
            ));
        }
        let frame = frame.decompress(compression, limits)?;
        let mut r = Reader::new(&frame.body);
        let custom_payload = if frame.header.flags.contains(FrameFlags::CUSTOM_PAYLOAD) {
            Some(read_custom_payload(&mut r)?)
        } else {
            None
        };
        let message = Request::decode_body(frame.header.opcode, &mut r)?;
        Ok(Self {
            stream: frame.header.stream,
            tracing: frame.header.flags.contains(FrameFlags::TRACING),
            custom_payload,
            message,
        })
    }
}

/// Reads a `[bytes map]` custom payload into owned entries.
pub(crate) fn read_custom_payload(r: &mut Reader<'_>) -> DecodeResult<CustomPayload> {
    Ok(r.bytes_map("custom_payload")?
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.map(Bytes::copy_from_slice)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(
        req: Request,
        tracing: bool,
        payload: Option<&CustomPayload>,
        c: Compression,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let extras = FrameExtras {
            stream: 0x1234,
            tracing,
            custom_payload: payload,
        };
        encode_request_frame(&mut out, c, req.opcode(), extras, |w| req.encode_body(w)).unwrap();
        out
    }

    #[test]
    fn extras_set_stream_tracing_and_payload_flags() {
        let payload: CustomPayload = vec![("k".into(), None)];
        let req = Request::Prepare(Prepare {
            query: "SELECT 1".into(),
        });
        let b = frame(req, true, Some(&payload), Compression::None);
        assert_eq!(&b[..5], &[0x04, 0x06, 0x12, 0x34, 0x09]);
        // The payload precedes the message: [short] 1, [string] "k", [bytes] null.
        assert_eq!(&b[9..18], &[0, 1, 0, 1, b'k', 0xff, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn auth_response_debug_hides_token() {
        let m = AuthResponse {
            token: Some(Bytes::from_static(b"\0user\0hunter2")),
        };
        let dbg = format!("{m:?}");
        assert!(!dbg.contains("hunter2"));
        assert!(dbg.contains("13 bytes"));
    }

    #[test]
    fn startup_is_never_compressed() {
        let b = frame(
            Request::Startup(Startup::new(Compression::Lz4)),
            false,
            None,
            Compression::Lz4,
        );
        assert!(!FrameFlags(b[1]).contains(FrameFlags::COMPRESSION));
    }

    fn batch_with(values: Vec<QueryValues>) -> Batch {
        Batch {
            batch_type: BatchType::LOGGED,
            statements: values
                .into_iter()
                .map(|values| BatchStatement {
                    query: BatchQuery::Query(String::new()),
                    values,
                })
                .collect(),
            consistency: Consistency::ONE,
            serial_consistency: None,
            default_timestamp: None,
        }
    }

    #[test]
    fn batch_refuses_named_values() {
        let named = || QueryValues::Named(vec![("x".into(), BoundValue::Null)]);
        for values in [
            vec![named()],
            vec![named(), QueryValues::Positional(vec![BoundValue::Null])],
            vec![QueryValues::Named(Vec::new())],
        ] {
            let e = RequestFrame {
                stream: 0,
                tracing: false,
                custom_payload: None,
                message: Request::Batch(batch_with(values)),
            }
            .encode(Compression::None, &mut Vec::new())
            .unwrap_err();
            assert!(
                matches!(e, EncodeError::Invalid(m) if m == NAMED_BATCH_VALUES),
                "{e:?}"
            );
        }
    }

    #[test]
    fn batch_body_with_names_flag_is_refused_and_values_read_positionally() {
        // Fuzz finding (roundtrip_message): named values [("", b"")] and [] with consistency
        // 0x100e encode to the same body as positional [b""], [] with consistency ANY and
        // serial consistency 0x0e40. The body is now read one way, positionally.
        let body: &[u8] = &[
            0x00, 0x00, 0x02, // type 0, two children
            0x00, 0, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0, // "" with one empty value
            0x00, 0, 0, 0, 0, 0x00, 0x00, // "" with no values
            0x00, 0x00, 0x10, 0x0e, 0x40, // ANY, flags 0x10, serial 0x0e40
        ];
        let b = Batch::decode(&mut Reader::new(body)).unwrap();
        assert_eq!(
            b.statements
                .iter()
                .map(|s| s.values.clone())
                .collect::<Vec<_>>(),
            [
                QueryValues::Positional(vec![BoundValue::Bytes(Bytes::new())]),
                QueryValues::Positional(Vec::new())
            ]
        );
        assert_eq!(b.consistency, Consistency::ANY);
        assert_eq!(b.serial_consistency, Some(Consistency(0x0e40)));

        let mut named_flag = body.to_vec();
        named_flag.truncate(body.len() - 2);
        *named_flag.last_mut().unwrap() = 0x40;
        let e = Batch::decode(&mut Reader::new(&named_flag)).unwrap_err();
        assert_eq!(e.context(), "BATCH.flags", "{e}");
    }
}
