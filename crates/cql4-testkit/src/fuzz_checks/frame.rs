//! `frame`: raw bytes → `decode_frame` (whole and in chunks) → a response or request frame.

use bytes::BytesMut;
use cql4_frame::framing::{bytes_needed, decode_frame, Direction, RawFrame};
use cql4_frame::DecodeLimits;

use super::compression_of;
use super::requests::request_frame;
use super::responses::response_frame;

/// How far beyond the bytes it holds a read buffer may grow while waiting for a frame. The
/// header's length must not size an allocation (peer bug: scylla reserved the declared body).
const MAX_RESERVE_AHEAD: usize = 1 << 20;

/// `data[0]` picks the compression and the chunk size; the rest is the byte stream.
pub fn frame(data: &[u8]) {
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let limits = DecodeLimits::default();
    let compression = compression_of(selector);

    // Whole buffer first.
    let mut whole = BytesMut::from(stream);
    let mut frames = Vec::new();
    let whole_end = drain_frames(&mut whole, &limits, &mut frames);

    // The same bytes in chunks must give the same frames and the same outcome.
    let chunk = usize::from(selector >> 1).max(1);
    let mut buf = BytesMut::new();
    let mut chunked = Vec::new();
    let mut chunked_end = Ok(());
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        chunked_end = drain_frames(&mut buf, &limits, &mut chunked);
        assert!(
            buf.capacity() <= buf.len().max(64) * 2 + MAX_RESERVE_AHEAD,
            "read buffer grew to {} for {} buffered bytes: reserved from a declared length",
            buf.capacity(),
            buf.len()
        );
        if chunked_end.is_err() {
            break;
        }
    }
    assert_eq!(
        frames, chunked,
        "chunked decoding differs from whole-buffer decoding"
    );
    assert_eq!(whole_end.is_err(), chunked_end.is_err());

    for raw in frames {
        match raw.header.direction {
            Direction::Response => response_frame(raw, compression, None),
            Direction::Request => request_frame(raw, compression),
        }
    }
}

fn drain_frames(
    buf: &mut BytesMut,
    limits: &DecodeLimits,
    out: &mut Vec<RawFrame>,
) -> Result<(), ()> {
    loop {
        match decode_frame(buf, limits) {
            Ok(Some(f)) => {
                assert_eq!(f.header.length as usize, f.body.len());
                out.push(f);
            }
            Ok(None) => {
                let needed = bytes_needed(buf, limits).expect("decode_frame accepted the header");
                assert!(
                    needed > 0,
                    "decode_frame wants more bytes but bytes_needed is 0"
                );
                return Ok(());
            }
            Err(_) => return Err(()),
        }
    }
}
