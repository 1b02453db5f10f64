//! `request`: request frames (what a proxy or fake server decodes).

use bytes::BytesMut;
use cql4_frame::framing::{decode_frame, Direction, RawFrame};
use cql4_frame::request::RequestFrame;
use cql4_frame::Compression;

use super::{assembled, compression_of, small_limits};

/// `data[0]` flags, `data[1]` opcode, then the body.
pub fn request(data: &[u8]) {
    let [flags, opcode, body @ ..] = data else {
        return;
    };
    request_frame(
        assembled(Direction::Request, *flags, *opcode, body),
        compression_of(*flags >> 7),
    );
}

pub(super) fn request_frame(raw: RawFrame, compression: Compression) {
    let limits = small_limits();
    let Ok(decoded) = RequestFrame::decode(raw, compression, &limits) else {
        return;
    };
    let mut first = Vec::new();
    decoded
        .encode(Compression::None, &mut first)
        .expect("a decoded request re-encodes");
    // Not byte for byte with the input: a `[bytes]` of any negative length is null (§3) and
    // re-encodes as -1. The message itself must survive, and the encoding be a fixpoint.
    let again = decode_one_request(&first);
    assert_eq!(again, decoded, "request changed through encode/decode");
    let mut second = Vec::new();
    again
        .encode(Compression::None, &mut second)
        .expect("a decoded request re-encodes");
    assert_eq!(first, second, "request encoding is not a fixpoint");
}

fn decode_one_request(bytes: &[u8]) -> RequestFrame {
    let mut buf = BytesMut::from(bytes);
    let raw = decode_frame(&mut buf, &small_limits())
        .expect("our own frame decodes")
        .expect("our own frame is complete");
    assert!(buf.is_empty());
    RequestFrame::decode(raw, Compression::None, &small_limits()).expect("our own request decodes")
}
