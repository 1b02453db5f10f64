//! Request messages (native_protocol_v4.spec §4.1): encoding for the client, decoding for
//! proxies, fake servers and round-trip tests.
//!
//! A request is encoded once, header and body ([`RequestFrame::encode`] into a caller-owned
//! `Vec<u8>`). cql4-conn encodes with stream 0 and writes the assigned id in place of header
//! bytes 2..4 while it copies the frame into its write buffer; the encoded frame itself is never
//! modified. [`SerializedRequest`], whose [`SerializedRequest::set_stream`] rewrites those bytes
//! in place (as scylla-cql's `SerializedRequest::set_stream` does), is for other users of the
//! codec: cql4-conn does not use it.

use std::fmt;

use bytes::Bytes;

use crate::codes::open_code;
use crate::compression::Compression;
use crate::consistency::Consistency;
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use crate::framing::{write_frame, Direction, FrameFlags, FrameHeader, RawFrame, HEADER_LEN};
use crate::limits::DecodeLimits;
use crate::opcode::Opcode;
use crate::reader::{RawValue, Reader};
use crate::writer::*;

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

impl QueryValues {
    fn len(&self) -> usize {
        match self {
            Self::Positional(v) => v.len(),
            Self::Named(v) => v.len(),
        }
    }

    fn encode(&self, out: &mut Vec<u8>, what: &'static str) -> Result<(), EncodeError> {
        put_short_count(out, self.len(), what)?;
        match self {
            Self::Positional(v) => {
                for value in v {
                    put_value(out, value.as_raw(), what)?;
                }
            }
            Self::Named(v) => {
                for (name, value) in v {
                    put_string(out, name, what)?;
                    put_value(out, value.as_raw(), what)?;
                }
            }
        }
        Ok(())
    }

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
/// field sets its flag when present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParameters {
    /// `<consistency>`.
    pub consistency: Consistency,
    /// Flag 0x01 (and 0x40 when [`QueryValues::Named`]). `Some` with no values still sets the
    /// flag and sends a zero count, as the Python driver does for EXECUTE.
    pub values: Option<QueryValues>,
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

    fn flags(&self) -> u8 {
        use query_flags::*;
        let mut flags = 0;
        match &self.values {
            Some(QueryValues::Positional(_)) => flags |= VALUES,
            Some(QueryValues::Named(_)) => flags |= VALUES | NAMES_FOR_VALUES,
            None => {}
        }
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
        flags
    }

    /// Appends `<consistency><flags>[values][page_size][paging_state][serial][timestamp]`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_consistency(out, self.consistency);
        put_u8(out, self.flags());
        if let Some(values) = &self.values {
            values.encode(out, "query_parameters.values")?;
        }
        if let Some(n) = self.page_size {
            put_i32(out, n);
        }
        if let Some(state) = &self.paging_state {
            put_bytes(out, Some(state), "query_parameters.paging_state")?;
        }
        if let Some(c) = self.serial_consistency {
            put_consistency(out, c);
        }
        if let Some(ts) = self.default_timestamp {
            put_i64(out, ts);
        }
        Ok(())
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
pub struct BatchStatement {
    /// The query text or prepared id.
    pub query: BatchQuery,
    /// The statement's values, positional: a BATCH cannot carry named values (encoding one
    /// fails with [`EncodeError::Invalid`], see [`NAMED_BATCH_VALUES`]).
    pub values: QueryValues,
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

/// BATCH (native_protocol_v4.spec §4.1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// `<type>`.
    pub batch_type: BatchType,
    /// `<query_1>...<query_n>`.
    pub statements: Vec<BatchStatement>,
    /// `<consistency>`.
    pub consistency: Consistency,
    /// Flag 0x10: `<serial_consistency>`.
    pub serial_consistency: Option<Consistency>,
    /// Flag 0x20: `<timestamp>` in microseconds.
    pub default_timestamp: Option<i64>,
}

impl Batch {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        use batch_flags::*;
        if self
            .statements
            .iter()
            .any(|s| matches!(s.values, QueryValues::Named(_)))
        {
            return Err(EncodeError::Invalid(NAMED_BATCH_VALUES));
        }
        put_u8(out, self.batch_type.0);
        put_short_count(out, self.statements.len(), "BATCH.n")?;
        for s in &self.statements {
            match &s.query {
                BatchQuery::Query(q) => {
                    put_u8(out, 0);
                    put_long_string(out, q, "BATCH.query")?;
                }
                BatchQuery::Prepared(id) => {
                    put_u8(out, 1);
                    put_short_bytes(out, id, "BATCH.id")?;
                }
            }
            s.values.encode(out, "BATCH.values")?;
        }
        put_consistency(out, self.consistency);
        let mut flags = 0;
        if self.serial_consistency.is_some() {
            flags |= SERIAL_CONSISTENCY;
        }
        if self.default_timestamp.is_some() {
            flags |= DEFAULT_TIMESTAMP;
        }
        put_u8(out, flags);
        if let Some(c) = self.serial_consistency {
            put_consistency(out, c);
        }
        if let Some(ts) = self.default_timestamp {
            put_i64(out, ts);
        }
        Ok(())
    }

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
    pub fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::Startup(m) => put_string_map(out, &m.options, "STARTUP.options"),
            Self::AuthResponse(m) => put_bytes(out, m.token.as_deref(), "AUTH_RESPONSE.token"),
            Self::Options => Ok(()),
            Self::Query(m) => {
                put_long_string(out, &m.query, "QUERY.query")?;
                m.params.encode(out)
            }
            Self::Prepare(m) => put_long_string(out, &m.query, "PREPARE.query"),
            Self::Execute(m) => {
                put_short_bytes(out, &m.id, "EXECUTE.id")?;
                m.params.encode(out)
            }
            Self::Batch(m) => m.encode(out),
            Self::Register(m) => put_string_list(out, &m.event_types, "REGISTER.event_types"),
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

    /// Serializes the request once, with stream 0 (set another with
    /// [`SerializedRequest::set_stream`]), no tracing and no custom payload.
    pub fn serialize(&self, compression: Compression) -> Result<SerializedRequest, EncodeError> {
        self.serialize_with(compression, false, None)
    }

    /// Serializes the request once with the tracing flag and a custom payload (§2.2).
    pub fn serialize_with(
        &self,
        compression: Compression,
        tracing: bool,
        custom_payload: Option<&CustomPayload>,
    ) -> Result<SerializedRequest, EncodeError> {
        let mut bytes = Vec::new();
        encode_request(&mut bytes, 0, tracing, custom_payload, self, compression)?;
        Ok(SerializedRequest { bytes })
    }
}

/// Appends a request frame. STARTUP is never compressed (§5: "a STARTUP message must never be
/// compressed").
fn encode_request(
    out: &mut Vec<u8>,
    stream: i16,
    tracing: bool,
    custom_payload: Option<&CustomPayload>,
    message: &Request,
    compression: Compression,
) -> Result<(), EncodeError> {
    let opcode = message.opcode();
    let compression = if opcode == Opcode::STARTUP {
        Compression::None
    } else {
        compression
    };
    let flags = FrameFlags::EMPTY
        .with(FrameFlags::TRACING, tracing)
        .with(FrameFlags::CUSTOM_PAYLOAD, custom_payload.is_some());
    let header = FrameHeader {
        direction: Direction::Request,
        flags,
        stream,
        opcode,
        length: 0,
    };
    write_frame(out, header, compression, |out| {
        if let Some(payload) = custom_payload {
            put_bytes_map(out, payload, "custom_payload")?;
        }
        message.encode_body(out)
    })
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
        encode_request(
            out,
            self.stream,
            self.tracing,
            self.custom_payload.as_ref(),
            &self.message,
            compression,
        )
    }

    /// Serializes the frame once, with its own stream id ([`SerializedRequest::set_stream`]
    /// changes it in place).
    pub fn serialize(&self, compression: Compression) -> Result<SerializedRequest, EncodeError> {
        let mut bytes = Vec::new();
        self.encode(compression, &mut bytes)?;
        Ok(SerializedRequest { bytes })
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

/// A fully encoded request frame (header + body), serialized once, whose stream id can be
/// rewritten in place ([`SerializedRequest::set_stream`]) by whoever assigns ids. cql4-conn
/// does not use it: it encodes into a plain `Vec<u8>` and writes the id while copying the frame
/// into its write buffer.
#[derive(Clone, PartialEq, Eq)]
pub struct SerializedRequest {
    bytes: Vec<u8>,
}

impl SerializedRequest {
    /// Sets the stream id (header bytes 2..4).
    pub fn set_stream(&mut self, stream: i16) {
        if let Some(slot) = self.bytes.get_mut(2..4) {
            slot.copy_from_slice(&stream.to_be_bytes());
        }
    }

    /// The stream id currently in the header.
    pub fn stream(&self) -> i16 {
        match self.bytes.get(2..4) {
            Some(&[a, b]) => i16::from_be_bytes([a, b]),
            _ => 0,
        }
    }

    /// The frame's opcode.
    pub fn opcode(&self) -> Opcode {
        Opcode(self.bytes.get(4).copied().unwrap_or_default())
    }

    /// The frame's flags.
    pub fn flags(&self) -> FrameFlags {
        FrameFlags(self.bytes.get(1).copied().unwrap_or_default())
    }

    /// The bytes to write.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The body (after the header), possibly compressed.
    pub fn body(&self) -> &[u8] {
        self.bytes.get(HEADER_LEN..).unwrap_or_default()
    }

    /// The bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

impl fmt::Debug for SerializedRequest {
    // The body may carry credentials (AUTH_RESPONSE): show only the header fields.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SerializedRequest")
            .field("opcode", &self.opcode())
            .field("stream", &self.stream())
            .field("flags", &self.flags())
            .field("body_len", &self.body().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_stream_patches_header_only() {
        let req = Request::Query(Query {
            query: "SELECT 1".into(),
            params: QueryParameters::new(Consistency::ONE),
        });
        let mut s = req.serialize(Compression::None).unwrap();
        let body = s.body().to_vec();
        s.set_stream(0x1234);
        assert_eq!(s.stream(), 0x1234);
        assert_eq!(&s.as_bytes()[..5], &[0x04, 0x00, 0x12, 0x34, 0x07]);
        assert_eq!(s.body(), &body[..]);
    }

    #[test]
    fn serialize_with_sets_tracing_and_payload_flags() {
        let payload: CustomPayload = vec![("k".into(), None)];
        let req = Request::Prepare(Prepare {
            query: "SELECT 1".into(),
        });
        let s = req
            .serialize_with(Compression::None, true, Some(&payload))
            .unwrap();
        assert_eq!(s.flags(), FrameFlags(0x06));
        // The payload precedes the message: [short] 1, [string] "k", [bytes] null.
        assert_eq!(&s.body()[..9], &[0, 1, 0, 1, b'k', 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(s.opcode(), Opcode::PREPARE);
    }

    #[test]
    fn auth_response_debug_hides_token() {
        let m = AuthResponse {
            token: Some(Bytes::from_static(b"\0user\0hunter2")),
        };
        let dbg = format!("{m:?}");
        assert!(!dbg.contains("hunter2"));
        assert!(dbg.contains("13 bytes"));
        let s = Request::AuthResponse(m)
            .serialize(Compression::None)
            .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn startup_is_never_compressed() {
        let s = Request::Startup(Startup::new(Compression::Lz4))
            .serialize(Compression::Lz4)
            .unwrap();
        assert!(!s.flags().contains(FrameFlags::COMPRESSION));
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
            let e = Request::Batch(batch_with(values))
                .serialize(Compression::None)
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
