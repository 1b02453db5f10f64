//! Responses: `response_body`, `error_body` and `event_body`, and the check every decoded
//! response frame goes through (also from `frame`).

use std::sync::Arc;

use bytes::BytesMut;
use cql4_frame::framing::{decode_frame, Direction, RawFrame};
use cql4_frame::response::{Response, ResponseFrame, ResultResponse};
use cql4_frame::rows::ResultMetadata;
use cql4_frame::{Compression, Opcode};

use super::rows::{same_rows, walk_rows};
use super::{assembled, compression_of, small_limits};

/// Decodes a response frame; if it decodes, checks the re-encoding fixpoint and walks it.
///
/// The message must come back equal (Rows: same columns, count, paging state and cells byte
/// for byte, and same flags), and a second encoding must give the same bytes.
pub(super) fn response_frame(
    raw: RawFrame,
    compression: Compression,
    cached: Option<&Arc<ResultMetadata>>,
) {
    let limits = small_limits();
    let Ok(decoded) = ResponseFrame::decode_with_metadata(raw, compression, &limits, cached) else {
        return;
    };
    walk_response(&decoded.message);
    let mut first = Vec::new();
    decoded
        .encode(compression, &mut first)
        .expect("a decoded response re-encodes");
    let again = decode_one_response(&first, compression, cached);
    same_response(&decoded, &again);
    let mut second = Vec::new();
    again
        .encode(compression, &mut second)
        .expect("a decoded response re-encodes");
    let third = decode_one_response(&second, compression, cached);
    assert_eq!(
        third, again,
        "response changed through a second encode/decode"
    );
    if compression == Compression::None {
        assert_eq!(first, second, "response encoding is not a fixpoint");
    }
}

/// The same message; for Rows, first the parts that say most about what differs.
fn same_response(a: &ResponseFrame, b: &ResponseFrame) {
    match (&a.message, &b.message) {
        (Response::Result(ResultResponse::Rows(x)), Response::Result(ResultResponse::Rows(y))) => {
            same_rows(x, y);
            assert_eq!(a, b, "response changed through encode/decode");
        }
        _ => assert_eq!(a, b, "response changed through encode/decode"),
    }
}

fn decode_one_response(
    bytes: &[u8],
    compression: Compression,
    cached: Option<&Arc<ResultMetadata>>,
) -> ResponseFrame {
    let mut buf = BytesMut::from(bytes);
    let raw = decode_frame(&mut buf, &small_limits())
        .expect("our own frame decodes")
        .expect("our own frame is complete");
    assert!(buf.is_empty(), "our own frame has trailing bytes");
    ResponseFrame::decode_with_metadata(raw, compression, &small_limits(), cached)
        .expect("our own encoding decodes")
}

pub(super) const RESPONSE_OPCODES: [Opcode; 8] = [
    Opcode::ERROR,
    Opcode::READY,
    Opcode::AUTHENTICATE,
    Opcode::SUPPORTED,
    Opcode::RESULT,
    Opcode::EVENT,
    Opcode::AUTH_CHALLENGE,
    Opcode::AUTH_SUCCESS,
];

/// `data[0]`: opcode (0..8 a response opcode, else the byte itself), `data[1]`: frame flags
/// (tracing, warnings, custom payload, compression); the rest is the body.
pub fn response_body(data: &[u8]) {
    let [op, flags, body @ ..] = data else {
        return;
    };
    let opcode = RESPONSE_OPCODES
        .get(usize::from(*op))
        .copied()
        .unwrap_or(Opcode(*op));
    let raw = assembled(Direction::Response, *flags, opcode.0, body);
    response_frame(raw, compression_of(*flags >> 7), None);
}

/// An ERROR body (every §9 code and its details), after a flags byte.
pub fn error_body(data: &[u8]) {
    if let [flags, body @ ..] = data {
        response_frame(
            assembled(Direction::Response, *flags & 0x0e, Opcode::ERROR.0, body),
            Compression::None,
            None,
        );
    }
}

/// An EVENT body.
pub fn event_body(data: &[u8]) {
    let raw = assembled(Direction::Response, 0, Opcode::EVENT.0, data);
    response_frame(raw, Compression::None, None);
}

fn walk_response(message: &Response) {
    match message {
        Response::Result(ResultResponse::Rows(rows)) => walk_rows(rows),
        Response::Result(ResultResponse::Prepared(p)) => {
            for c in &p.metadata.columns {
                assert!(p.metadata.column_index(&c.name).is_some());
                let _ = c.ty.to_string();
            }
            for c in &p.result_metadata.columns {
                assert!(p.result_metadata.column_index(&c.name).is_some());
            }
        }
        Response::Error(e) => {
            let _ = e.code.to_string();
            let _ = e.code.name();
        }
        Response::Supported(s) => {
            if let Some((k, _)) = s.options.first() {
                let _ = s.values(k);
            }
        }
        _ => {}
    }
}
