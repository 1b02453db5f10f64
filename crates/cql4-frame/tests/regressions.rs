//! Regressions found by fuzzing and by the misbehaving-server suite, each named after what it
//! caught (see docs/fuzzing.md).

use bytes::BytesMut;
use cql4_frame::framing::{decode_frame, MAX_RESERVE_AHEAD};
use cql4_frame::DecodeLimits;

/// `decode_frame` reserved the whole declared body as soon as the header arrived: a server
/// sending a 9-byte header declaring 255 MiB (under the 256 MiB limit) made the client allocate
/// 255 MiB per connection (`tests/hostile_server.rs`
/// `declared_body_under_the_limit_is_not_reserved`; the fuzz target `frame` checks it too).
#[test]
fn declared_body_length_does_not_size_the_reservation() {
    let limits = DecodeLimits::default();
    let declared: u32 = 255 * 1024 * 1024;
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[0x84, 0, 0, 1, 0x08]);
    buf.extend_from_slice(&declared.to_be_bytes());
    buf.extend_from_slice(&[0; 100]);
    assert_eq!(decode_frame(&mut buf, &limits).unwrap(), None);
    assert!(
        buf.capacity() <= 2 * (109 + MAX_RESERVE_AHEAD),
        "reserved {} bytes for a frame of which 109 bytes arrived",
        buf.capacity()
    );

    // The frame still decodes once its bytes do arrive, however they are chunked.
    let body = vec![7u8; 300_000];
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[0x84, 0, 0, 1, 0x08]);
    buf.extend_from_slice(&(body.len() as u32).to_be_bytes());
    for chunk in body.chunks(10_000) {
        assert_eq!(decode_frame(&mut buf, &limits).unwrap(), None);
        buf.extend_from_slice(chunk);
    }
    let frame = decode_frame(&mut buf, &limits).unwrap().unwrap();
    assert_eq!(frame.body.len(), body.len());
    assert!(buf.is_empty());
}

/// A Rows page declaring zero columns and i32::MAX rows decoded: no cell bounded the row count
/// by the body, so iterating spun 2^31 times and `to_owned_rows` asked for 48 GiB
/// (`tests/hostile_server.rs` `row_and_column_counts_beyond_the_body`; the fuzz target `rows`
/// walks every row).
#[test]
fn rows_without_columns_cannot_declare_rows() {
    use bytes::Bytes;
    use cql4_frame::rows::Rows;
    use cql4_frame::{DecodeErrorKind, Reader};

    let page = |rows: i32| {
        let mut b = vec![0, 0, 0, 4, 0, 0, 0, 0]; // No_metadata, 0 columns
        b.extend_from_slice(&rows.to_be_bytes());
        Bytes::from(b)
    };
    let limits = DecodeLimits::default();
    let hostile = page(i32::MAX);
    let err = Rows::decode(&hostile, &mut Reader::new(&hostile), &limits).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::Invalid(_)), "{err:?}");
    assert_eq!(err.offset(), 8);
    // An empty page of zero columns is still fine.
    let empty = page(0);
    let rows = Rows::decode(&empty, &mut Reader::new(&empty), &limits).unwrap();
    assert!(rows.is_empty());
}
