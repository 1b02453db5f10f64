//! The frame builder shared by every fake server, proxy and raw-connection test: whole frames
//! from cql4-frame's messages ([`request`], [`response`]), the common responses as
//! [`Response`] values ([`supported`], [`ready`], [`rows`], [`error`], …), and frames no
//! encoder would make ([`Frame`], [`raw_frame`]): any version byte, flags, opcode, stream and
//! declared length, for the hostile tests.
//!
//! ```
//! use cql4_frame::Opcode;
//! use cql4_testkit::frames::{self, Frame};
//! // A well-formed READY on stream 3, built by the codec's encoder.
//! let ready = frames::response(3, frames::ready());
//! assert_eq!(ready, Frame::response(3, Opcode::READY).bytes());
//! // A RESULT that declares 1 GiB and carries 4 bytes.
//! let liar = Frame::response(3, Opcode::RESULT).length(1 << 30).body([0, 0, 0, 1]).bytes();
//! assert_eq!(liar.len(), 9 + 4);
//! ```
#![expect(
    clippy::expect_used,
    reason = "the builder's inputs are the test's own: an unencodable one is a broken test"
)]

use std::net::SocketAddr;

use bytes::Bytes;
use cql4_frame::event::{Event, StatusChange};
use cql4_frame::request::{Request, RequestFrame};
use cql4_frame::response::{
    AuthChallenge, AuthSuccess, Authenticate, ErrorCode, ErrorDetails, ErrorResponse, Prepared,
    Response, ResponseFrame, ResultResponse, Supported,
};
use cql4_frame::rows::{ColumnSpec, MetadataFlags, PreparedMetadata, ResultMetadata, TableSpec};
use cql4_frame::types::ColumnType;
use cql4_frame::{Compression, Consistency, DecodeLimits, Opcode, Reader};

/// Length of a v3–v5 frame header (native_protocol_v4.spec §2).
pub const HEADER_LEN: usize = 9;
/// The version byte of a v4 request (§2.1: direction bit clear).
pub const REQUEST_V4: u8 = 0x04;
/// The version byte of a v4 response (§2.1: direction bit set).
pub const RESPONSE_V4: u8 = 0x84;

/// §2.2 header flags.
pub mod flags {
    /// 0x01: the body is compressed.
    pub const COMPRESSION: u8 = 0x01;
    /// 0x02: tracing requested (request) or a tracing id precedes the body (response).
    pub const TRACING: u8 = 0x02;
    /// 0x04: a custom payload precedes the body.
    pub const CUSTOM_PAYLOAD: u8 = 0x04;
    /// 0x08: warnings precede the body (responses).
    pub const WARNING: u8 = 0x08;
}

/// A whole response frame built by the codec's encoder (uncompressed).
pub fn response(stream: i16, message: Response) -> Vec<u8> {
    response_with(stream, message, Compression::None)
}

/// A whole response frame, its body compressed with `compression` (what a server sends once
/// STARTUP negotiated it).
pub fn response_with(stream: i16, message: Response, compression: Compression) -> Vec<u8> {
    let mut out = Vec::new();
    ResponseFrame::new(stream, message)
        .encode(compression, &mut out)
        .expect("the response encodes");
    out
}

/// A whole request frame built by the codec's encoder (uncompressed, no tracing, no custom
/// payload).
pub fn request(stream: i16, message: Request) -> Vec<u8> {
    let mut out = Vec::new();
    RequestFrame {
        stream,
        tracing: false,
        custom_payload: None,
        message,
    }
    .encode(Compression::None, &mut out)
    .expect("the request encodes");
    out
}

/// Any frame at all: the header fields as given (the declared `length` need not match the
/// body), then the body.
pub fn raw_frame(
    version: u8,
    flags: u8,
    stream: i16,
    opcode: u8,
    length: u32,
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    write_raw(&mut out, version, flags, stream, opcode, length, body);
    out
}

/// [`raw_frame`], appended to `out`: a server that answers from prebuilt bodies can reuse one
/// buffer and allocate nothing per frame.
pub fn write_raw(
    out: &mut Vec<u8>,
    version: u8,
    flags: u8,
    stream: i16,
    opcode: u8,
    length: u32,
    body: &[u8],
) {
    out.push(version);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.push(opcode);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(body);
}

/// The length field that tells the truth about `body`. A body over 4 GiB cannot be described
/// by §2.5's `[int]` length: it saturates, so the frame is merely a lie, not a panic.
pub fn length_of(body: &[u8]) -> u32 {
    u32::try_from(body.len()).unwrap_or(u32::MAX)
}

/// A v4 response frame around `body`, with a truthful length and no flags.
pub fn response_frame(stream: i16, opcode: Opcode, body: &[u8]) -> Vec<u8> {
    raw_frame(RESPONSE_V4, 0, stream, opcode.0, length_of(body), body)
}

/// A v4 request frame (version 0x04) with the caller's flags, stream, opcode and body, and a
/// truthful length. This is `raw::frame`.
pub fn request_frame(flags: u8, stream: i16, opcode: u8, body: &[u8]) -> Vec<u8> {
    raw_frame(REQUEST_V4, flags, stream, opcode, length_of(body), body)
}

/// A frame built field by field (h2's `tests/h2-support` style): start from a v4 request or
/// response, change what the test is about, then take the [`bytes`](Self::bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Frame {
    version: u8,
    flags: u8,
    stream: i16,
    opcode: u8,
    length: Option<u32>,
    body: Vec<u8>,
}

impl Frame {
    /// A v4 response frame with an empty body.
    pub fn response(stream: i16, opcode: Opcode) -> Self {
        Self {
            version: RESPONSE_V4,
            flags: 0,
            stream,
            opcode: opcode.0,
            length: None,
            body: Vec::new(),
        }
    }

    /// A v4 request frame with an empty body.
    pub fn request(stream: i16, opcode: Opcode) -> Self {
        Self {
            version: REQUEST_V4,
            ..Self::response(stream, opcode)
        }
    }

    /// The version byte, direction bit included (0x84 is a v4 response, 0x04 a v4 request).
    pub fn version(mut self, version: u8) -> Self {
        self.version = version;
        self
    }

    /// The flags byte (see [`flags`]), unknown bits included.
    pub fn flags(mut self, flags: u8) -> Self {
        self.flags = flags;
        self
    }

    /// The stream id.
    pub fn stream(mut self, stream: i16) -> Self {
        self.stream = stream;
        self
    }

    /// The opcode byte, unknown ones included.
    pub fn opcode(mut self, opcode: u8) -> Self {
        self.opcode = opcode;
        self
    }

    /// The body; the length field follows it unless [`length`](Self::length) overrides it.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The body of `message`, encoded by the codec (the opcode is not changed).
    pub fn message(self, message: &Response) -> Self {
        let mut body = Vec::new();
        message
            .encode_body(&mut cql4_frame::Writer::new(&mut body))
            .expect("the response encodes");
        self.body(body)
    }

    /// A declared length that need not match the body.
    pub fn length(mut self, length: u32) -> Self {
        self.length = Some(length);
        self
    }

    /// The frame's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let length = self.length.unwrap_or_else(|| length_of(&self.body));
        raw_frame(
            self.version,
            self.flags,
            self.stream,
            self.opcode,
            length,
            &self.body,
        )
    }
}

// ---- common responses -------------------------------------------------------------------

/// SUPPORTED with these options (e.g. `[("COMPRESSION", &["lz4", "snappy"])]`).
pub fn supported(options: &[(&str, &[&str])]) -> Response {
    Response::Supported(Supported {
        options: options
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect(),
    })
}

/// READY.
pub fn ready() -> Response {
    Response::Ready
}

/// The authenticator class of Cassandra's password login.
pub const PASSWORD_AUTHENTICATOR: &str = "org.apache.cassandra.auth.PasswordAuthenticator";

/// AUTHENTICATE naming `authenticator` (e.g. [`PASSWORD_AUTHENTICATOR`]).
pub fn authenticate(authenticator: &str) -> Response {
    Response::Authenticate(Authenticate {
        authenticator: authenticator.to_owned(),
    })
}

/// AUTH_CHALLENGE with this token.
pub fn auth_challenge(token: Option<&[u8]>) -> Response {
    Response::AuthChallenge(AuthChallenge {
        token: token.map(Bytes::copy_from_slice),
    })
}

/// AUTH_SUCCESS with this token.
pub fn auth_success(token: Option<&[u8]>) -> Response {
    Response::AuthSuccess(AuthSuccess {
        token: token.map(Bytes::copy_from_slice),
    })
}

/// RESULT Void.
pub fn void() -> Response {
    Response::Result(ResultResponse::Void)
}

/// RESULT Set_keyspace.
pub fn set_keyspace(keyspace: &str) -> Response {
    Response::Result(ResultResponse::SetKeyspace(keyspace.to_owned()))
}

/// The table spec `ks.t` the builders use.
pub fn table() -> TableSpec {
    TableSpec {
        keyspace: "ks".into(),
        table: "t".into(),
    }
}

/// RESULT Prepared for table `ks.t`: statement `id`, one bind marker per `(name, type)` of
/// `bound` (the first is the partition key when there is one), and the result columns.
pub fn prepared(
    id: &[u8],
    bound: &[(&str, ColumnType)],
    result: &[(&str, ColumnType)],
) -> Response {
    let spec = |cols: &[(&str, ColumnType)]| -> Vec<ColumnSpec> {
        cols.iter()
            .map(|(name, ty)| ColumnSpec::new(*name, ty.clone()))
            .collect()
    };
    let metadata = PreparedMetadata {
        // As on the wire, so that a decoded copy compares equal.
        flags: MetadataFlags::default().with(MetadataFlags::GLOBAL_TABLES_SPEC, true),
        global_table_spec: Some(table()),
        columns: spec(bound),
        pk_indexes: if bound.is_empty() { vec![] } else { vec![0] },
    };
    Response::Result(ResultResponse::Prepared(Box::new(Prepared {
        id: Bytes::copy_from_slice(id),
        metadata,
        result_metadata: ResultMetadata::new(Some(table()), spec(result)),
    })))
}

/// RESULT Rows for table `ks.t`: these columns, these rows of serialized cells (`None` is
/// null), and a paging state when more pages follow. Built the way a server sends it and
/// decoded by the codec, so the test sees exactly what the client will.
pub fn rows(
    columns: &[(&str, ColumnType)],
    rows: &[Vec<Option<Vec<u8>>>],
    paging_state: Option<&[u8]>,
) -> Response {
    rows_of(table(), columns, rows, paging_state)
}

/// [`rows`] of another table (e.g. `system.local`).
pub fn rows_of(
    table: TableSpec,
    columns: &[(&str, ColumnType)],
    rows: &[Vec<Option<Vec<u8>>>],
    paging_state: Option<&[u8]>,
) -> Response {
    let mut metadata = ResultMetadata::new(
        Some(table),
        columns
            .iter()
            .map(|(name, ty)| ColumnSpec::new(*name, ty.clone()))
            .collect(),
    );
    metadata.paging_state = paging_state.map(Bytes::copy_from_slice);
    let mut body = 2i32.to_be_bytes().to_vec(); // kind Rows
    metadata
        .encode(&mut cql4_frame::Writer::new(&mut body))
        .expect("encodes");
    body.extend_from_slice(&i32::try_from(rows.len()).expect("row count").to_be_bytes());
    for row in rows {
        put_cells(&mut body, row.iter().map(Option::as_deref));
    }
    let body = Bytes::from(body);
    let mut r = Reader::new(&body);
    Response::Result(
        ResultResponse::decode(&body, &mut r, &DecodeLimits::default(), None)
            .expect("the rows decode"),
    )
}

/// ERROR with this code, message and code-specific details.
pub fn error(code: ErrorCode, message: &str, details: ErrorDetails) -> Response {
    Response::Error(ErrorResponse {
        code,
        message: message.to_owned(),
        details,
    })
}

/// ERROR Write_timeout at ONE, 0 of 1 acknowledged, for a write of `write_type` (e.g.
/// `SIMPLE`): what a proxy injects to simulate a slow replica.
pub fn write_timeout(write_type: &str) -> Response {
    error(
        ErrorCode::WRITE_TIMEOUT,
        "Operation timed out - received only 0 responses.",
        ErrorDetails::WriteTimeout {
            consistency: Consistency::ONE,
            received: 0,
            block_for: 1,
            write_type: write_type.to_owned(),
        },
    )
}

/// ERROR Unavailable at ONE (1 required, 0 alive).
pub fn unavailable() -> Response {
    error(
        ErrorCode::UNAVAILABLE,
        "Cannot achieve consistency level ONE",
        ErrorDetails::Unavailable {
            consistency: Consistency::ONE,
            required: 1,
            alive: 0,
        },
    )
}

/// ERROR Unprepared for statement `id`.
pub fn unprepared(id: &[u8]) -> Response {
    error(
        ErrorCode::UNPREPARED,
        "Prepared query with ID … not found",
        ErrorDetails::Unprepared {
            id: Bytes::copy_from_slice(id),
        },
    )
}

/// EVENT.
pub fn event(event: Event) -> Response {
    Response::Event(event)
}

/// EVENT STATUS_CHANGE UP for `address`.
pub fn status_up(address: SocketAddr) -> Response {
    event(Event::StatusChange {
        change: StatusChange::Up,
        address,
    })
}

// ---- bodies for hand-made frames --------------------------------------------------------

/// Appends a `[string]` (§3). Longer strings are cut to 65535 bytes.
pub fn put_string(out: &mut Vec<u8>, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&u16::try_from(bytes.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Appends `[bytes]` cells (§3): length then content, or length -1 for null.
pub fn put_cells<'a>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = Option<&'a [u8]>>) {
    for cell in cells {
        match cell {
            Some(v) => {
                out.extend_from_slice(&i32::try_from(v.len()).unwrap_or(i32::MAX).to_be_bytes());
                out.extend_from_slice(v);
            }
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
}

/// A RESULT Rows body (kind included) written by hand, so that any count can lie: global
/// table spec `ks.t`, the columns (name and the `[option]` bytes of the type, see [`ty`]), a
/// declared row count, then the cells.
pub fn rows_body(columns: &[(&str, &[u8])], rows_count: i32, cells: &[Option<&[u8]>]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&2i32.to_be_bytes()); // kind Rows
    b.extend_from_slice(&1i32.to_be_bytes()); // Global_tables_spec
    b.extend_from_slice(
        &i32::try_from(columns.len())
            .unwrap_or(i32::MAX)
            .to_be_bytes(),
    );
    put_string(&mut b, "ks");
    put_string(&mut b, "t");
    for (name, ty) in columns {
        put_string(&mut b, name);
        b.extend_from_slice(ty);
    }
    b.extend_from_slice(&rows_count.to_be_bytes());
    put_cells(&mut b, cells.iter().copied());
    b
}

/// Type `[option]` ids for hand-made bodies (native_protocol_v4.spec §4.2.5.2).
pub mod ty {
    /// int.
    pub const INT: &[u8] = &[0x00, 0x09];
    /// varchar (text).
    pub const VARCHAR: &[u8] = &[0x00, 0x0d];
    /// The id of list; its element type follows.
    pub const LIST: [u8; 2] = [0x00, 0x20];
}

#[cfg(test)]
mod tests {
    use super::*;
    use cql4_frame::framing::decode_frame;
    use cql4_frame::response::ResponseFrame;

    fn decode(bytes: &[u8]) -> ResponseFrame {
        let mut buf = bytes::BytesMut::from(bytes);
        let raw = decode_frame(&mut buf, &DecodeLimits::default())
            .expect("frame")
            .expect("whole");
        assert!(buf.is_empty());
        ResponseFrame::decode(raw, Compression::None, &DecodeLimits::default()).expect("response")
    }

    #[test]
    fn common_responses_round_trip_through_the_decoder() {
        for message in [
            supported(&[("COMPRESSION", &["lz4", "snappy"])]),
            ready(),
            authenticate(PASSWORD_AUTHENTICATOR),
            auth_challenge(Some(b"nonce")),
            auth_success(None),
            void(),
            set_keyspace("ks"),
            prepared(b"id", &[("k", ColumnType::Int)], &[("v", ColumnType::Text)]),
            rows(
                &[("k", ColumnType::Int)],
                &[vec![Some(7i32.to_be_bytes().to_vec())], vec![None]],
                Some(b"p2"),
            ),
            write_timeout("SIMPLE"),
            unavailable(),
            unprepared(b"id"),
            status_up("127.0.0.1:9042".parse().expect("address")),
        ] {
            let stream = if matches!(message, Response::Event(_)) {
                -1
            } else {
                5
            };
            let frame = decode(&response(stream, message.clone()));
            assert_eq!(frame.stream, stream);
            assert_eq!(frame.message, message);
        }
    }

    #[test]
    fn the_builder_writes_every_header_field_as_given() {
        let bytes = Frame::request(-2, Opcode::QUERY)
            .version(0x42)
            .flags(0xf0)
            .opcode(0x99)
            .stream(0x0102)
            .length(0xdead_beef)
            .body(*b"xy")
            .bytes();
        assert_eq!(
            bytes,
            [0x42, 0xf0, 0x01, 0x02, 0x99, 0xde, 0xad, 0xbe, 0xef, b'x', b'y']
        );
        assert_eq!(
            Frame::request(7, Opcode::OPTIONS).bytes(),
            request(7, Request::Options)
        );
        assert_eq!(
            Frame::response(7, Opcode::RESULT).message(&void()).bytes(),
            response(7, void())
        );
        assert_eq!(request_frame(0, 7, 0x05, b""), request(7, Request::Options));
    }

    #[test]
    fn hand_made_rows_decode_like_the_codec_built_ones() {
        let hand = rows_body(&[("k", ty::INT)], 1, &[Some(&7i32.to_be_bytes())]);
        let built = rows(
            &[("k", ColumnType::Int)],
            &[vec![Some(7i32.to_be_bytes().to_vec())]],
            None,
        );
        let frame = decode(&response_frame(1, Opcode::RESULT, &hand));
        assert_eq!(frame.message, built);
    }
}
