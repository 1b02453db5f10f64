//! Response messages (native_protocol_v4.spec §4.2): decoding for the client, encoding for fake
//! servers and round-trip tests.
//!
//! [`ResponseFrame::decode`] turns a [`RawFrame`] into the frame's extras (tracing id,
//! warnings, custom payload, in §2.2's order) and a [`Response`].

mod error;

use std::sync::Arc;

use bytes::Bytes;

pub use self::error::{ErrorCode, ErrorDetails, ErrorResponse};
use crate::compression::Compression;
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use crate::event::{Event, SchemaChange};
use crate::framing::{write_frame, Direction, FrameFlags, FrameHeader, RawFrame};
use crate::limits::DecodeLimits;
use crate::opcode::Opcode;
use crate::reader::Reader;
use crate::request::{read_custom_payload, CustomPayload};
use crate::rows::{PreparedMetadata, ResultMetadata, Rows};
use crate::writer::Writer;

/// AUTHENTICATE (native_protocol_v4.spec §4.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticate {
    /// The IAuthenticator's full class name (e.g.
    /// `org.apache.cassandra.auth.PasswordAuthenticator`).
    pub authenticator: String,
}

/// SUPPORTED (native_protocol_v4.spec §4.2.4): a `[string multimap]` of STARTUP options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supported {
    /// Option names with their supported values, in wire order.
    pub options: Vec<(String, Vec<String>)>,
}

impl Supported {
    /// The values supported for `option` (e.g. `COMPRESSION`).
    pub fn values(&self, option: &str) -> &[String] {
        self.options
            .iter()
            .find(|(k, _)| k == option)
            .map_or(&[], |(_, v)| v.as_slice())
    }
}

/// AUTH_CHALLENGE (native_protocol_v4.spec §4.2.7): a `[bytes]` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthChallenge {
    /// The token; `None` when null.
    pub token: Option<Bytes>,
}

/// AUTH_SUCCESS (native_protocol_v4.spec §4.2.8): a `[bytes]` token, which may be null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSuccess {
    /// The token; `None` when null.
    pub token: Option<Bytes>,
}

/// A Prepared result (native_protocol_v4.spec §4.2.5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// `<id>`: the `[short bytes]` to EXECUTE.
    pub id: Bytes,
    /// `<metadata>`: the bind markers, with partition key indexes.
    pub metadata: PreparedMetadata,
    /// `<result_metadata>`: the columns an EXECUTE will return (may be No_metadata).
    pub result_metadata: ResultMetadata,
}

/// RESULT kinds (§4.2.5).
mod kind {
    pub(super) const VOID: i32 = 0x0001;
    pub(super) const ROWS: i32 = 0x0002;
    pub(super) const SET_KEYSPACE: i32 = 0x0003;
    pub(super) const PREPARED: i32 = 0x0004;
    pub(super) const SCHEMA_CHANGE: i32 = 0x0005;
}

/// RESULT (native_protocol_v4.spec §4.2.5).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ResultResponse {
    /// 0x0001 Void.
    Void,
    /// 0x0002 Rows.
    Rows(Rows),
    /// 0x0003 Set_keyspace: the keyspace now in use.
    SetKeyspace(String),
    /// 0x0004 Prepared (boxed: it is rare and three times the size of the other results,
    /// which every answer's move would otherwise pay for).
    Prepared(Box<Prepared>),
    /// 0x0005 Schema_change.
    SchemaChange(Box<SchemaChange>),
}

impl ResultResponse {
    /// Reads a RESULT body. `r` must read over `&body[..]` (Rows slice their cells from
    /// `body`); `cached` is the prepared result metadata used for a No_metadata page.
    pub fn decode(
        body: &Bytes,
        r: &mut Reader<'_>,
        limits: &DecodeLimits,
        cached: Option<&Arc<ResultMetadata>>,
    ) -> DecodeResult<Self> {
        let at = r.position();
        Ok(match r.i32("RESULT kind")? {
            kind::VOID => Self::Void,
            kind::ROWS => Self::Rows(match cached {
                Some(cached) => Rows::decode_with_metadata(body, r, limits, cached)?,
                None => Rows::decode(body, r, limits)?,
            }),
            kind::SET_KEYSPACE => {
                Self::SetKeyspace(r.string("RESULT Set_keyspace.keyspace")?.to_owned())
            }
            kind::PREPARED => Self::Prepared(Box::new(Prepared {
                id: Bytes::copy_from_slice(r.short_bytes("RESULT Prepared.id")?),
                metadata: PreparedMetadata::decode(r, limits)?,
                result_metadata: ResultMetadata::decode(r, limits)?,
            })),
            kind::SCHEMA_CHANGE => Self::SchemaChange(Box::new(SchemaChange::decode(r)?)),
            _ => {
                return Err(DecodeError::new(
                    DecodeErrorKind::Invalid("unknown RESULT kind"),
                    "RESULT kind",
                    at,
                ))
            }
        })
    }

    /// Appends a RESULT body.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            Self::Void => w.i32(kind::VOID),
            Self::Rows(rows) => {
                w.i32(kind::ROWS);
                rows.encode(w)?;
            }
            Self::SetKeyspace(ks) => {
                w.i32(kind::SET_KEYSPACE);
                w.string(ks, "RESULT Set_keyspace.keyspace")?;
            }
            Self::Prepared(p) => {
                w.i32(kind::PREPARED);
                w.short_bytes(&p.id, "RESULT Prepared.id")?;
                p.metadata.encode(w)?;
                p.result_metadata.encode(w)?;
            }
            Self::SchemaChange(c) => {
                w.i32(kind::SCHEMA_CHANGE);
                c.encode(w)?;
            }
        }
        Ok(())
    }
}

/// A response message (native_protocol_v4.spec §4.2).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Response {
    /// §4.2.1.
    Error(ErrorResponse),
    /// §4.2.2: empty body.
    Ready,
    /// §4.2.3.
    Authenticate(Authenticate),
    /// §4.2.4.
    Supported(Supported),
    /// §4.2.5.
    Result(ResultResponse),
    /// §4.2.6.
    Event(Event),
    /// §4.2.7.
    AuthChallenge(AuthChallenge),
    /// §4.2.8.
    AuthSuccess(AuthSuccess),
}

impl Response {
    /// The frame opcode (§2.4).
    pub fn opcode(&self) -> Opcode {
        match self {
            Self::Error(_) => Opcode::ERROR,
            Self::Ready => Opcode::READY,
            Self::Authenticate(_) => Opcode::AUTHENTICATE,
            Self::Supported(_) => Opcode::SUPPORTED,
            Self::Result(_) => Opcode::RESULT,
            Self::Event(_) => Opcode::EVENT,
            Self::AuthChallenge(_) => Opcode::AUTH_CHALLENGE,
            Self::AuthSuccess(_) => Opcode::AUTH_SUCCESS,
        }
    }

    /// Reads a message of `opcode` from `r`, which reads over `&body[..]`. Bytes after the
    /// message are ignored: §4.2 "clients should support extra information (that they should
    /// simply discard) ... at the end of the frame body".
    pub fn decode_body(
        opcode: Opcode,
        body: &Bytes,
        r: &mut Reader<'_>,
        limits: &DecodeLimits,
        cached: Option<&Arc<ResultMetadata>>,
    ) -> DecodeResult<Self> {
        Ok(match opcode {
            Opcode::ERROR => Self::Error(ErrorResponse::decode(r)?),
            Opcode::READY => Self::Ready,
            Opcode::AUTHENTICATE => Self::Authenticate(Authenticate {
                authenticator: r.string("AUTHENTICATE.authenticator")?.to_owned(),
            }),
            Opcode::SUPPORTED => Self::Supported(Supported {
                options: r
                    .string_multimap("SUPPORTED.options")?
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
                    .collect(),
            }),
            Opcode::RESULT => Self::Result(ResultResponse::decode(body, r, limits, cached)?),
            Opcode::EVENT => Self::Event(Event::decode(r)?),
            Opcode::AUTH_CHALLENGE => Self::AuthChallenge(AuthChallenge {
                token: r.bytes("AUTH_CHALLENGE.token")?.map(Bytes::copy_from_slice),
            }),
            Opcode::AUTH_SUCCESS => Self::AuthSuccess(AuthSuccess {
                token: r.bytes("AUTH_SUCCESS.token")?.map(Bytes::copy_from_slice),
            }),
            other => {
                return Err(r.error(
                    DecodeErrorKind::UnexpectedOpcode(other.0),
                    "response opcode",
                ))
            }
        })
    }

    /// Appends the message body.
    pub fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            Self::Error(e) => e.encode(w),
            Self::Ready => Ok(()),
            Self::Authenticate(a) => w.string(&a.authenticator, "AUTHENTICATE.authenticator"),
            Self::Supported(s) => w.string_multimap(&s.options, "SUPPORTED.options"),
            Self::Result(r) => r.encode(w),
            Self::Event(e) => e.encode(w),
            Self::AuthChallenge(c) => w.bytes(c.token.as_deref(), "AUTH_CHALLENGE.token"),
            Self::AuthSuccess(s) => w.bytes(s.token.as_deref(), "AUTH_SUCCESS.token"),
        }
    }
}

/// A decoded response frame: §2.2's extras in spec order, then the message.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseFrame {
    /// §2.3: the request's stream, or -1 for EVENT.
    pub stream: i16,
    /// Flag 0x02: the `[uuid]` tracing session id.
    pub tracing_id: Option<[u8; 16]>,
    /// Flag 0x08: the server's warnings (`Some` even when the list is empty).
    pub warnings: Option<Vec<String>>,
    /// Flag 0x04: the custom payload.
    pub custom_payload: Option<CustomPayload>,
    /// The message.
    pub message: Response,
}

impl ResponseFrame {
    /// Decodes a response frame, decompressing it first when flagged (§5).
    ///
    /// Fails with [`DecodeErrorKind::WrongDirection`] for a request frame and
    /// [`DecodeErrorKind::UnexpectedOpcode`] for a request opcode. Error offsets are relative
    /// to the (decompressed) body.
    pub fn decode(
        frame: RawFrame,
        compression: Compression,
        limits: &DecodeLimits,
    ) -> DecodeResult<Self> {
        Self::decode_with_metadata(frame, compression, limits, None)
    }

    /// Like [`ResponseFrame::decode`], with the prepared statement's result metadata for a
    /// Rows page sent with No_metadata (skip-metadata EXECUTE).
    pub fn decode_with_metadata(
        frame: RawFrame,
        compression: Compression,
        limits: &DecodeLimits,
        cached: Option<&Arc<ResultMetadata>>,
    ) -> DecodeResult<Self> {
        if frame.header.direction != Direction::Response {
            return Err(DecodeError::new(
                DecodeErrorKind::WrongDirection,
                "frame header.version",
                0,
            ));
        }
        let frame = frame.decompress(compression, limits)?;
        let flags = frame.header.flags;
        let body = &frame.body;
        let mut r = Reader::new(body);
        let tracing_id = if flags.contains(FrameFlags::TRACING) {
            Some(r.uuid("tracing_id")?)
        } else {
            None
        };
        let warnings = if flags.contains(FrameFlags::WARNING) {
            Some(
                r.string_list("warnings")?
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            )
        } else {
            None
        };
        let custom_payload = if flags.contains(FrameFlags::CUSTOM_PAYLOAD) {
            Some(read_custom_payload(&mut r)?)
        } else {
            None
        };
        let message = Response::decode_body(frame.header.opcode, body, &mut r, limits, cached)?;
        Ok(Self {
            stream: frame.header.stream,
            tracing_id,
            warnings,
            custom_payload,
            message,
        })
    }

    /// Appends the whole frame, compressing the body with `compression` (not for empty bodies).
    pub fn encode(&self, compression: Compression, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flags = FrameFlags::EMPTY
            .with(FrameFlags::TRACING, self.tracing_id.is_some())
            .with(FrameFlags::WARNING, self.warnings.is_some())
            .with(FrameFlags::CUSTOM_PAYLOAD, self.custom_payload.is_some());
        let header = FrameHeader {
            direction: Direction::Response,
            flags,
            stream: self.stream,
            opcode: self.message.opcode(),
            length: 0,
        };
        write_frame(&mut Writer::new(out), header, compression, |w| {
            if let Some(id) = &self.tracing_id {
                w.uuid(id);
            }
            if let Some(warnings) = &self.warnings {
                w.string_list(warnings, "warnings")?;
            }
            if let Some(p) = &self.custom_payload {
                w.bytes_map(p, "custom_payload")?;
            }
            self.message.encode_body(w)
        })
    }

    /// A frame for `message` on `stream` without extras.
    pub fn new(stream: i16, message: Response) -> Self {
        Self {
            stream,
            tracing_id: None,
            warnings: None,
            custom_payload: None,
            message,
        }
    }
}
