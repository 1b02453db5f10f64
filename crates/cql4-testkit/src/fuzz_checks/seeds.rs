//! Seed inputs: from whole frames (golden vectors, captures) and built ones.

use bytes::BytesMut;
use cql4_frame::compression::{self, Compression};
use cql4_frame::framing::{decode_frame, Direction};
use cql4_frame::response::{Response, ResponseFrame, ResultResponse};
use cql4_frame::{DecodeLimits, Opcode};

use super::responses::RESPONSE_OPCODES;

/// Seeds for every target that a whole frame (a golden vector, or one captured from a real
/// node by `fuzz/capture/capture.py`) yields: the frame itself, its body in the per-message
/// layouts, and for Rows each column's type with a value of it.
pub fn seeds_from_frame(frame: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = vec![("frame", [&[0u8][..], frame].concat())];
    let mut buf = BytesMut::from(frame);
    let Ok(Some(raw)) = decode_frame(&mut buf, &DecodeLimits::default()) else {
        return out;
    };
    let flags = raw.header.flags.0;
    let body = raw.body.to_vec();
    match raw.header.direction {
        Direction::Request => {
            out.push((
                "request",
                [&[flags, raw.header.opcode.0][..], &body].concat(),
            ));
        }
        Direction::Response => {
            if let Some(i) = RESPONSE_OPCODES
                .iter()
                .position(|o| *o == raw.header.opcode)
            {
                out.push(("response_body", [&[i as u8, flags][..], &body].concat()));
            }
            let plain = flags & 0x0e == 0;
            if raw.header.opcode == Opcode::ERROR {
                out.push(("error_body", [&[flags & 0x0e][..], &body].concat()));
            }
            if raw.header.opcode == Opcode::EVENT && plain {
                out.push(("event_body", body.clone()));
            }
            if let Ok(decoded) =
                ResponseFrame::decode(raw, Compression::None, &DecodeLimits::default())
            {
                if let Response::Result(ResultResponse::Rows(rows)) = &decoded.message {
                    if plain {
                        out.push((
                            "rows",
                            [&[0u8][..], body.get(4..).unwrap_or_default()].concat(),
                        ));
                    }
                    for (i, column) in rows.columns().iter().enumerate() {
                        let mut seed = Vec::new();
                        column
                            .ty
                            .encode(&mut cql4_frame::Writer::new(&mut seed))
                            .expect("encodes");
                        if let Some(Some(cell)) =
                            rows.iter().find_map(|r| r.raw(i).filter(Option::is_some))
                        {
                            seed.extend_from_slice(cell);
                        }
                        out.push(("type_value", seed));
                    }
                }
            }
        }
    }
    out
}

/// Seed inputs of the targets that golden frames do not reach, built with the codec's own
/// encoders.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    // Structured targets start from a few fixed byte strings.
    for n in [0u8, 1, 7, 42, 255] {
        let bytes: Vec<u8> = (0..128u16)
            .map(|i| (i as u8).wrapping_mul(n).wrapping_add(n))
            .collect();
        out.push(("roundtrip_message", bytes.clone()));
        out.push(("roundtrip_value", bytes.clone()));
        out.push(("stream_table", bytes));
    }
    out.push((
        "sigv4_challenge",
        b"nonce=91703fdc2ef562e19fbdab0f58e42fe5".to_vec(),
    ));
    out.push((
        "sigv4_challenge",
        b"xnonce=91703fdc2ef562e19fbdab0f58e42fe5,rest".to_vec(),
    ));
    out.push((
        "aws_profile",
        b"[default]\naws_access_key_id = AKID\naws_secret_access_key = s#x ;c\n\n[profile p]\nregion = us-east-1\n  sub = 1\n[p]\naws_access_key_id=A\naws_secret_access_key=B\naws_session_token=T\n".to_vec(),
    ));
    let mut lz = Vec::new();
    compression::compress(Compression::Lz4, b"hello hello hello hello hello", &mut lz)
        .expect("compress");
    out.push(("lz4", lz));
    out
}
