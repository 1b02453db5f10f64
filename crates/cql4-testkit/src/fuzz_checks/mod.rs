//! The checks behind every fuzz target, one function per target, named for it.
//!
//! The cargo-fuzz binaries of `fuzz/` call them (after setting up what only a fuzzing process
//! needs: the allocation cap and the overflow guard), and the root test `tests/fuzz_replay.rs`
//! replays the committed corpora `fuzz/corpus/<target>/` through them on stable Rust. A check
//! panics only when a property is violated: a decoder panicking, allocating beyond the bytes
//! it was given, a decoded message that does not re-encode to a fixpoint, a stream id handed
//! out twice. Hostile input that is rejected with an error is the expected outcome.
//!
//! Properties:
//! - decode → encode → decode gives the same message, and encoding that again gives the same
//!   bytes (a fixpoint); request frames with only known flags re-encode byte for byte (every
//!   request layout is fully determined by its flags, and trailing bytes are rejected).
//! - `decode_frame` never reserves far beyond what was received, whatever the header declares.
//! - rows: every cell of every row is reachable raw, typed and owned, and owned values
//!   re-serialize to a fixpoint.
//! - the stream table never hands out an id that is in flight or orphaned.
//!
//! Each target's input layout is what its committed corpus means: a change to how a check
//! reads its bytes (or to the generators of [`crate::generators`] that `roundtrip_value` and
//! `roundtrip_message` read them with) changes the meaning of every input in it.

mod auth;
mod frame;
mod lz4;
mod messages;
mod requests;
mod responses;
mod rows;
mod seeds;
mod stream_table;
mod types;

use bytes::Bytes;
use cql4_frame::framing::{Direction, FrameFlags, FrameHeader, RawFrame};
use cql4_frame::{Compression, DecodeLimits, Opcode};

pub use auth::{aws_profile, sigv4_challenge};
pub use frame::frame;
pub use lz4::lz4;
pub use messages::roundtrip_message;
pub use requests::request;
pub use responses::{error_body, event_body, response_body};
pub use rows::rows;
pub use seeds::{seeds, seeds_from_frame};
pub use stream_table::stream_table;
pub use types::{roundtrip_value, type_text, type_value};

/// A target's check: panics when a property is violated.
pub type Check = fn(&[u8]);

/// Every target, by name, in `fuzz/Cargo.toml` order.
pub const TARGETS: &[(&str, Check)] = &[
    ("frame", frame),
    ("response_body", response_body),
    ("rows", rows),
    ("error_body", error_body),
    ("event_body", event_body),
    ("type_value", type_value),
    ("roundtrip_value", roundtrip_value),
    ("sigv4_challenge", sigv4_challenge),
    ("aws_profile", aws_profile),
    ("lz4", lz4),
    ("request", request),
    ("roundtrip_message", roundtrip_message),
    ("stream_table", stream_table),
    ("type_text", type_text),
];

/// Limits for targets that decode small fuzz inputs: small enough that an allocation sized from
/// a declared length shows up, large enough for every corpus entry.
fn small_limits() -> DecodeLimits {
    let mut limits = DecodeLimits::default();
    limits.max_frame_body = 1 << 20;
    limits.max_decompressed_body = 1 << 20;
    limits
}

/// Bit 0 of a selector byte: LZ4 or no compression.
fn compression_of(selector: u8) -> Compression {
    if selector & 1 == 1 {
        Compression::Lz4
    } else {
        Compression::None
    }
}

/// A frame assembled around `body`: the header comes from two selector bytes, so the fuzzer
/// spends no effort matching the length field.
fn assembled(direction: Direction, flags: u8, opcode: u8, body: &[u8]) -> RawFrame {
    RawFrame {
        header: FrameHeader {
            direction,
            flags: FrameFlags(flags),
            stream: 3,
            opcode: Opcode(opcode),
            length: u32::try_from(body.len()).unwrap_or(u32::MAX),
        },
        body: Bytes::copy_from_slice(body),
    }
}
