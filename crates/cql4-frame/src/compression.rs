//! Body compression (native_protocol_v4.spec §5).
//!
//! LZ4 as Cassandra frames it: a 4-byte big-endian uncompressed length, then one raw LZ4
//! block (behind the `lz4` cargo feature). Snappy is refused with a typed error: it is never
//! decoded "best effort".

use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use crate::limits::DecodeLimits;

/// The compression negotiated in STARTUP (§4.1.1 `COMPRESSION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Compression {
    /// Nothing negotiated: a frame with the compression flag is an error.
    #[default]
    None,
    /// `lz4`: needs the `lz4` feature.
    Lz4,
    /// `snappy`: not supported by this crate; every compressed frame fails with a typed error.
    Snappy,
}

impl Compression {
    /// The STARTUP `COMPRESSION` value, `None` for no compression.
    pub fn startup_name(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Lz4 => Some("lz4"),
            Self::Snappy => Some("snappy"),
        }
    }
}

/// LZ4 cannot expand data by more than ~255× (one byte of match length codes at most 255
/// bytes), so a declared length beyond that is a lie; checked before allocating.
#[cfg(feature = "lz4")]
const LZ4_MAX_RATIO: usize = 255;

/// Decompresses a body whose frame had the compression flag set.
pub fn decompress(
    compression: Compression,
    body: &[u8],
    limits: &DecodeLimits,
) -> DecodeResult<Vec<u8>> {
    match compression {
        Compression::None => Err(DecodeError::new(
            DecodeErrorKind::Compression(
                "frame has the compression flag but no compression was negotiated",
            ),
            "frame body",
            0,
        )),
        Compression::Snappy => Err(DecodeError::new(
            DecodeErrorKind::Compression("snappy is not supported"),
            "frame body",
            0,
        )),
        Compression::Lz4 => lz4_decompress(body, limits),
    }
}

/// Appends the compressed form of `body` to `out`.
pub fn compress(
    compression: Compression,
    body: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    match compression {
        Compression::None => {
            out.extend_from_slice(body);
            Ok(())
        }
        Compression::Snappy => Err(EncodeError::Compression("snappy is not supported")),
        Compression::Lz4 => lz4_compress(body, out),
    }
}

#[cfg(feature = "lz4")]
fn lz4_decompress(body: &[u8], limits: &DecodeLimits) -> DecodeResult<Vec<u8>> {
    let mut r = crate::reader::Reader::new(body);
    let declared = r.count("lz4 uncompressed length")?;
    if declared > limits.max_decompressed_body {
        return Err(DecodeError::new(
            DecodeErrorKind::FrameTooLarge {
                length: declared as u64,
                max: limits.max_decompressed_body as u64,
            },
            "lz4 uncompressed length",
            0,
        ));
    }
    let block = r.rest();
    if declared > block.len().saturating_mul(LZ4_MAX_RATIO).saturating_add(16) {
        return Err(DecodeError::new(
            DecodeErrorKind::Compression("lz4 uncompressed length exceeds what the block can hold"),
            "lz4 uncompressed length",
            0,
        ));
    }
    let mut out = vec![0u8; declared];
    let n = lz4_flex::block::decompress_into(block, &mut out).map_err(|_| {
        DecodeError::new(
            DecodeErrorKind::Compression("invalid lz4 block"),
            "lz4 block",
            4,
        )
    })?;
    if n != declared {
        return Err(DecodeError::new(
            DecodeErrorKind::Compression("lz4 block is shorter than its declared length"),
            "lz4 block",
            4,
        ));
    }
    Ok(out)
}

#[cfg(not(feature = "lz4"))]
fn lz4_decompress(_body: &[u8], _limits: &DecodeLimits) -> DecodeResult<Vec<u8>> {
    Err(DecodeError::new(
        DecodeErrorKind::Compression("lz4 support is not compiled in (cargo feature `lz4`)"),
        "frame body",
        0,
    ))
}

#[cfg(feature = "lz4")]
fn lz4_compress(body: &[u8], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let len = i32::try_from(body.len()).map_err(|_| EncodeError::TooLong {
        what: "lz4 body",
        length: body.len(),
        max: i32::MAX as usize,
    })?;
    // Compress straight into `out` rather than into a fresh Vec that would then be copied.
    let start = out.len();
    out.extend_from_slice(&len.to_be_bytes());
    let block_start = out.len();
    out.resize(
        block_start + lz4_flex::block::get_maximum_output_size(body.len()),
        0,
    );
    let written = out
        .get_mut(block_start..)
        .map(|dst| lz4_flex::block::compress_into(body, dst));
    match written {
        Some(Ok(n)) => {
            out.truncate(block_start + n);
            Ok(())
        }
        _ => {
            out.truncate(start);
            Err(EncodeError::Compression("lz4 compression failed"))
        }
    }
}

#[cfg(not(feature = "lz4"))]
fn lz4_compress(_body: &[u8], _out: &mut Vec<u8>) -> Result<(), EncodeError> {
    Err(EncodeError::Compression(
        "lz4 support is not compiled in (cargo feature `lz4`)",
    ))
}

#[cfg(all(test, feature = "lz4"))]
mod tests {
    use super::*;

    #[test]
    fn lz4_roundtrip_with_big_endian_length() {
        let body: Vec<u8> = b"SELECT * FROM system.local ".repeat(20);
        let mut out = Vec::new();
        compress(Compression::Lz4, &body, &mut out).unwrap();
        assert_eq!(out[..4], (body.len() as u32).to_be_bytes());
        assert!(out.len() < body.len());
        let back = decompress(Compression::Lz4, &out, &DecodeLimits::default()).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn declared_length_checked_before_allocation() {
        let limits = DecodeLimits {
            max_decompressed_body: 1000,
            ..DecodeLimits::default()
        };
        let err = decompress(Compression::Lz4, &[0, 0, 0x03, 0xe9, 0x00], &limits).unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::FrameTooLarge {
                length: 1001,
                max: 1000
            }
        );
        // A 5-byte block cannot expand to 1 MiB.
        let err = decompress(
            Compression::Lz4,
            &[0, 0x10, 0, 0, 1, 2, 3, 4, 5],
            &DecodeLimits::default(),
        )
        .unwrap_err();
        assert!(matches!(err.kind(), DecodeErrorKind::Compression(_)));
        // A negative length.
        assert!(decompress(Compression::Lz4, &[0xff; 8], &DecodeLimits::default()).is_err());
    }

    #[test]
    fn garbage_and_short_blocks_fail() {
        let limits = DecodeLimits::default();
        assert!(decompress(Compression::Lz4, &[0, 0, 0, 10, 0xff, 0xff], &limits).is_err());
        let mut out = Vec::new();
        compress(Compression::Lz4, b"hello", &mut out).unwrap();
        // Claim one more byte than the block holds.
        out[3] += 1;
        assert!(decompress(Compression::Lz4, &out, &limits).is_err());
        assert!(decompress(Compression::Lz4, &[0, 0], &limits).is_err());
    }

    #[test]
    fn snappy_is_refused() {
        let err = decompress(Compression::Snappy, &[1, 2], &DecodeLimits::default()).unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::Compression("snappy is not supported")
        );
        assert!(compress(Compression::Snappy, b"x", &mut Vec::new()).is_err());
    }
}

#[cfg(all(test, not(feature = "lz4")))]
mod tests_without_lz4 {
    use super::*;

    #[test]
    fn lz4_without_the_feature_is_a_typed_error() {
        let err = decompress(
            Compression::Lz4,
            &[0, 0, 0, 1, 0x10, 0],
            &DecodeLimits::default(),
        )
        .unwrap_err();
        assert!(matches!(err.kind(), DecodeErrorKind::Compression(_)));
        assert!(matches!(
            compress(Compression::Lz4, b"x", &mut Vec::new()),
            Err(EncodeError::Compression(_))
        ));
    }
}
