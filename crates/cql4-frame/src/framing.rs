//! Frames: the 9-byte v4 header (native_protocol_v4.spec §2), incremental decoding from a
//! `BytesMut` into [`RawFrame`]s, and frame encoding.
//!
//! ```text
//!  bytes ──decode_frame──▶ RawFrame { header, body: Bytes } ──RequestFrame::decode / ResponseFrame::decode──▶ message
//! ```

use std::fmt;

use bytes::{Bytes, BytesMut};

use crate::compression::{self, Compression};
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use crate::limits::DecodeLimits;
use crate::opcode::Opcode;
use crate::reader::Reader;
use crate::writer::Writer;

/// Length of a v4 frame header.
pub const HEADER_LEN: usize = 9;

/// The protocol version this crate speaks (§2.1), without the direction bit.
pub const PROTOCOL_VERSION: u8 = 0x04;

/// The direction bit of the version byte (§2.1: "0 indicates a request, 1 indicates a response").
const RESPONSE_BIT: u8 = 0x80;

/// Whether a frame goes from client to server or back (§2.1, the version byte's top bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Version byte 0x04.
    Request,
    /// Version byte 0x84.
    Response,
}

/// Frame flags (§2.2). Bits this crate does not know are kept as they were received.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrameFlags(pub u8);

impl FrameFlags {
    /// 0x01: the body is compressed with the algorithm negotiated in STARTUP (§5).
    pub const COMPRESSION: Self = Self(0x01);
    /// 0x02: tracing requested (request) or a tracing id leads the body (response).
    pub const TRACING: Self = Self(0x02);
    /// 0x04: a `[bytes map]` custom payload precedes the message.
    pub const CUSTOM_PAYLOAD: Self = Self(0x04);
    /// 0x08: a `[string list]` of warnings precedes the message (responses).
    pub const WARNING: Self = Self(0x08);
    /// No flags.
    pub const EMPTY: Self = Self(0);
}

crate::codes::flag_ops!(FrameFlags);

impl fmt::Debug for FrameFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_set();
        for (flag, name) in [
            (Self::COMPRESSION, "COMPRESSION"),
            (Self::TRACING, "TRACING"),
            (Self::CUSTOM_PAYLOAD, "CUSTOM_PAYLOAD"),
            (Self::WARNING, "WARNING"),
        ] {
            if self.contains(flag) {
                list.entry(&format_args!("{name}"));
            }
        }
        let unknown = self.0 & 0xf0;
        if unknown != 0 {
            list.entry(&format_args!("{unknown:#04x}"));
        }
        list.finish()
    }
}

/// A v4 frame header (§2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Request (0x04) or response (0x84).
    pub direction: Direction,
    /// §2.2 flags, unknown bits preserved.
    pub flags: FrameFlags,
    /// §2.3: non-negative for client requests; -1 for EVENT pushes.
    pub stream: i16,
    /// §2.4.
    pub opcode: Opcode,
    /// §2.5: body length in bytes.
    pub length: u32,
}

impl FrameHeader {
    /// Parses the first [`HEADER_LEN`] bytes of `bytes`.
    ///
    /// A version byte other than 0x04/0x84 fails with [`DecodeErrorKind::UnsupportedVersion`]
    /// carrying the byte: a server that does not speak v4 answers a v4 STARTUP with a frame of
    /// its own version (e.g. 0x83), which lands here, whereas a v4 server refusing the request
    /// answers with a v4 ERROR frame (PROTOCOL_ERROR, see
    /// [`crate::ErrorResponse::is_protocol_version_refusal`]).
    pub fn parse(bytes: &[u8]) -> DecodeResult<Self> {
        let mut r = Reader::new(bytes);
        let version = r.u8("frame header.version")?;
        let direction = direction_of(version)?;
        let flags = FrameFlags(r.u8("frame header.flags")?);
        let stream = r.i16("frame header.stream")?;
        let opcode = Opcode(r.u8("frame header.opcode")?);
        let length = r.u32("frame header.length")?;
        Ok(Self {
            direction,
            flags,
            stream,
            opcode,
            length,
        })
    }

    /// The version byte: 0x04 or 0x84.
    pub fn version_byte(&self) -> u8 {
        match self.direction {
            Direction::Request => PROTOCOL_VERSION,
            Direction::Response => PROTOCOL_VERSION | RESPONSE_BIT,
        }
    }

    /// The header's 9 wire bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let s = self.stream.to_be_bytes();
        let l = self.length.to_be_bytes();
        [
            self.version_byte(),
            self.flags.0,
            s[0],
            s[1],
            self.opcode.0,
            l[0],
            l[1],
            l[2],
            l[3],
        ]
    }
}

fn direction_of(version: u8) -> DecodeResult<Direction> {
    match version {
        PROTOCOL_VERSION => Ok(Direction::Request),
        v if v == PROTOCOL_VERSION | RESPONSE_BIT => Ok(Direction::Response),
        v => Err(DecodeError::new(
            DecodeErrorKind::UnsupportedVersion(v),
            "frame header.version",
            0,
        )),
    }
}

/// A whole frame whose body is not decoded yet: the unit a connection routes by stream id,
/// and what proxies and fuzzers work on. The body is a zero-copy slice of the read buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The header; `header.length == body.len()` for frames from [`decode_frame`].
    pub header: FrameHeader,
    /// The (possibly compressed) body.
    pub body: Bytes,
}

impl RawFrame {
    /// The frame with its body decompressed when the COMPRESSION flag is set (§5), and that
    /// flag cleared. A compressed frame on a connection that negotiated no compression fails
    /// with [`DecodeErrorKind::Compression`]. The declared uncompressed length is checked
    /// against `limits.max_decompressed_body` before anything is allocated.
    pub fn decompress(self, compression: Compression, limits: &DecodeLimits) -> DecodeResult<Self> {
        if !self.header.flags.contains(FrameFlags::COMPRESSION) {
            return Ok(self);
        }
        let body = compression::decompress(compression, &self.body, limits)?;
        let length = u32::try_from(body.len()).map_err(|_| {
            DecodeError::new(
                DecodeErrorKind::FrameTooLarge {
                    length: body.len() as u64,
                    max: u64::from(u32::MAX),
                },
                "frame body (decompressed)",
                0,
            )
        })?;
        Ok(Self {
            header: FrameHeader {
                flags: self.header.flags.with(FrameFlags::COMPRESSION, false),
                length,
                ..self.header
            },
            body: Bytes::from(body),
        })
    }

    /// Appends the frame as it would travel (header with `length` set from the body).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let length = u32::try_from(self.body.len()).map_err(|_| EncodeError::TooLong {
            what: "frame body",
            length: self.body.len(),
            max: u32::MAX as usize,
        })?;
        let mut w = Writer::new(out);
        w.raw(
            &FrameHeader {
                length,
                ..self.header
            }
            .to_bytes(),
        );
        w.raw(&self.body);
        Ok(())
    }
}

/// How many more bytes `buf` needs before [`decode_frame`] can return a frame: 0 when a whole
/// frame is buffered. Errors exactly as [`decode_frame`] would (bad version, body over
/// `limits.max_frame_body`), so a connection can size its next read without guessing.
pub fn bytes_needed(buf: &[u8], limits: &DecodeLimits) -> DecodeResult<usize> {
    // Reject a foreign version as soon as its first byte arrives: a v1/v2 header is 8 bytes
    // and would otherwise wait for a ninth that may never come.
    if let Some(&version) = buf.first() {
        direction_of(version)?;
    }
    let Some(head) = buf.get(..HEADER_LEN) else {
        return Ok(HEADER_LEN - buf.len());
    };
    let header = FrameHeader::parse(head)?;
    let total = HEADER_LEN + checked_body_len(&header, limits)?;
    Ok(total.saturating_sub(buf.len()))
}

/// The most [`decode_frame`] reserves ahead of the bytes it has for a frame still arriving.
pub const MAX_RESERVE_AHEAD: usize = 64 * 1024;

/// §2.5's length, checked against the configured maximum before anything is reserved.
fn checked_body_len(header: &FrameHeader, limits: &DecodeLimits) -> DecodeResult<usize> {
    let length = usize::try_from(header.length).unwrap_or(usize::MAX);
    if length > limits.max_frame_body {
        return Err(DecodeError::new(
            DecodeErrorKind::FrameTooLarge {
                length: u64::from(header.length),
                max: limits.max_frame_body as u64,
            },
            "frame header.length",
            5,
        ));
    }
    Ok(length)
}

/// Takes one frame off the front of `buf`. `Ok(None)` means more bytes are needed (see
/// [`bytes_needed`] for how many); in that case `buf` is unchanged except that, once the header
/// is complete and its length accepted, capacity for the next [`MAX_RESERVE_AHEAD`] bytes of
/// the frame is reserved.
///
/// The body length is checked against `limits.max_frame_body` before any reservation, and even
/// an accepted length only reserves a bounded step: the length is the peer's claim, so a header
/// declaring 255 MiB followed by silence cannot make this allocate 255 MiB. The buffer grows
/// (amortized doubling) as the bytes actually arrive. The body is split off without copying.
pub fn decode_frame(buf: &mut BytesMut, limits: &DecodeLimits) -> DecodeResult<Option<RawFrame>> {
    let needed = bytes_needed(buf, limits)?;
    if needed > 0 {
        if buf.len() >= HEADER_LEN {
            buf.reserve(needed.min(MAX_RESERVE_AHEAD));
        }
        return Ok(None);
    }
    let header = FrameHeader::parse(buf)?;
    let length = checked_body_len(&header, limits)?;
    let mut frame = buf.split_to(HEADER_LEN + length);
    let body = frame.split_off(HEADER_LEN).freeze();
    Ok(Some(RawFrame { header, body }))
}

/// Appends a whole frame: a header, then the body written by `body`, compressed with
/// `compression` when that is not [`Compression::None`] and the body is not empty (an empty
/// body is sent as is, as the Python and Java drivers do). The length is patched afterwards.
pub(crate) fn write_frame(
    w: &mut Writer<'_>,
    mut header: FrameHeader,
    compression: Compression,
    body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = w.position();
    w.raw(&[0; HEADER_LEN]);
    body(w)?;
    let body_start = start + HEADER_LEN;
    header.flags = header.flags.with(FrameFlags::COMPRESSION, false);
    if compression != Compression::None && w.position() > body_start {
        let out = w.buf_mut();
        let raw = out.split_off(body_start);
        compression::compress(compression, &raw, out)?;
        header.flags = header.flags.with(FrameFlags::COMPRESSION, true);
    }
    let body_len = w.position() - body_start;
    header.length = u32::try_from(body_len).map_err(|_| EncodeError::TooLong {
        what: "frame body",
        length: body_len,
        max: u32::MAX as usize,
    })?;
    w.patch(start, &header.to_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_bytes(version: u8, flags: u8, stream: i16, opcode: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![version, flags];
        v.extend_from_slice(&stream.to_be_bytes());
        v.push(opcode);
        v.extend_from_slice(&(body.len() as u32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn header_layout() {
        // §1: version, flags, stream (2), opcode, length (4).
        let h = FrameHeader::parse(&[0x84, 0x0a, 0x01, 0x02, 0x08, 0, 0, 1, 0]).unwrap();
        assert_eq!(h.direction, Direction::Response);
        assert_eq!(h.flags, FrameFlags(0x0a));
        assert!(h.flags.contains(FrameFlags::TRACING));
        assert!(h.flags.contains(FrameFlags::WARNING));
        assert!(!h.flags.contains(FrameFlags::COMPRESSION));
        assert_eq!(h.stream, 0x0102);
        assert_eq!(h.opcode, Opcode::RESULT);
        assert_eq!(h.length, 256);
        assert_eq!(h.to_bytes(), [0x84, 0x0a, 0x01, 0x02, 0x08, 0, 0, 1, 0]);
    }

    #[test]
    fn unknown_flag_bits_and_opcodes_are_kept() {
        let bytes = [0x04, 0xf1, 0xff, 0xff, 0x42, 0, 0, 0, 0];
        let h = FrameHeader::parse(&bytes).unwrap();
        assert_eq!(h.flags.0, 0xf1);
        assert_eq!(h.stream, -1);
        assert_eq!(h.opcode, Opcode(0x42));
        assert_eq!(h.to_bytes(), bytes);
        assert_eq!(format!("{:?}", h.flags), "{COMPRESSION, 0xf0}");
    }

    #[test]
    fn other_versions_are_typed_errors() {
        for v in [0x83u8, 0x03, 0x85, 0x05, 0x01, 0x00, 0xff] {
            let err = FrameHeader::parse(&[v, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err();
            assert_eq!(err.kind(), &DecodeErrorKind::UnsupportedVersion(v));
            // Detected from the first byte alone.
            let mut buf = BytesMut::from(&[v][..]);
            assert_eq!(
                decode_frame(&mut buf, &DecodeLimits::default())
                    .unwrap_err()
                    .kind(),
                &DecodeErrorKind::UnsupportedVersion(v)
            );
        }
    }

    #[test]
    fn incremental_decoding_byte_by_byte() {
        let mut wire = frame_bytes(0x84, 0, 7, 0x02, &[]);
        wire.extend(frame_bytes(0x84, 0, 8, 0x06, &[0, 0]));
        let limits = DecodeLimits::default();
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for (i, b) in wire.iter().enumerate() {
            // Before each byte the decoder says how many bytes are missing.
            let needed = bytes_needed(&buf, &limits).unwrap();
            assert!(needed > 0, "at {i}");
            buf.extend_from_slice(&[*b]);
            while let Some(f) = decode_frame(&mut buf, &limits).unwrap() {
                frames.push(f);
            }
        }
        assert!(buf.is_empty());
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].header.stream, 7);
        assert_eq!(frames[0].header.opcode, Opcode::READY);
        assert!(frames[0].body.is_empty());
        assert_eq!(frames[1].header.stream, 8);
        assert_eq!(&frames[1].body[..], &[0, 0]);
    }

    #[test]
    fn bytes_needed_counts() {
        let limits = DecodeLimits::default();
        assert_eq!(bytes_needed(&[], &limits).unwrap(), 9);
        assert_eq!(bytes_needed(&[0x84, 0, 0], &limits).unwrap(), 6);
        let wire = frame_bytes(0x84, 0, 0, 0x08, &[1, 2, 3, 4, 5]);
        assert_eq!(bytes_needed(&wire[..9], &limits).unwrap(), 5);
        assert_eq!(bytes_needed(&wire[..12], &limits).unwrap(), 2);
        assert_eq!(bytes_needed(&wire, &limits).unwrap(), 0);
    }

    #[test]
    fn oversized_length_is_rejected_before_reserving() {
        let limits = DecodeLimits {
            max_frame_body: 100,
            ..DecodeLimits::default()
        };
        let mut buf = BytesMut::from(&[0x84, 0, 0, 0, 0x08, 0xff, 0xff, 0xff, 0xff][..]);
        let cap = buf.capacity();
        let err = decode_frame(&mut buf, &limits).unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::FrameTooLarge {
                length: u64::from(u32::MAX),
                max: 100
            }
        );
        assert_eq!(buf.capacity(), cap);
        // Exactly at the limit is fine.
        let mut buf = BytesMut::from(&frame_bytes(0x84, 0, 0, 0x08, &[0; 100])[..]);
        assert_eq!(
            decode_frame(&mut buf, &limits).unwrap().unwrap().body.len(),
            100
        );
    }

    #[test]
    fn body_is_split_without_copy() {
        let wire = frame_bytes(0x84, 0, 1, 0x08, &[9; 32]);
        let mut buf = BytesMut::from(&wire[..]);
        let start = buf.as_ptr() as usize;
        let f = decode_frame(&mut buf, &DecodeLimits::default())
            .unwrap()
            .unwrap();
        assert_eq!(f.body.as_ptr() as usize, start + HEADER_LEN);
        let mut again = Vec::new();
        f.encode(&mut again).unwrap();
        assert_eq!(again, wire);
    }

    #[test]
    fn compressed_flag_without_negotiation_is_an_error() {
        let f = RawFrame {
            header: FrameHeader::parse(&frame_bytes(0x84, 1, 0, 0x08, &[0, 0, 0, 1, 0x10, 0])[..9])
                .unwrap(),
            body: Bytes::from_static(&[0, 0, 0, 1, 0x10, 0]),
        };
        let err = f
            .decompress(Compression::None, &DecodeLimits::default())
            .unwrap_err();
        assert!(matches!(err.kind(), DecodeErrorKind::Compression(_)));
    }
}
