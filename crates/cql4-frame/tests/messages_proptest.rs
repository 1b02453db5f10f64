//! Property tests: encode → decode is the identity for every request and response message,
//! whole frames included; and arbitrary bytes never panic the decoders. The messages come from
//! the fuzz targets' generators (`cql4_testkit::generators`), driven by proptest's bytes.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions unwrap too"
)]

use bytes::{Bytes, BytesMut};
use cql4_frame::rows::ColumnSpec;
use cql4_frame::*;
use cql4_testkit::generators::{self, strategy, Messages};
use proptest::collection::vec;
use proptest::prelude::*;

fn compression() -> impl Strategy<Value = Compression> {
    if cfg!(feature = "lz4") {
        prop_oneof![Just(Compression::None), Just(Compression::Lz4)].boxed()
    } else {
        Just(Compression::None).boxed()
    }
}

fn one_frame(wire: &[u8]) -> RawFrame {
    let mut buf = BytesMut::from(wire);
    let f = decode_frame(&mut buf, &DecodeLimits::default())
        .unwrap()
        .unwrap();
    assert!(buf.is_empty());
    f
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn named_batch_values_are_refused(b in strategy(|u| generators::requests::batch(u, true))) {
        let named = b.statements.iter().any(|s| matches!(s.values, QueryValues::Named(_)));
        let frame = RequestFrame { stream: 0, tracing: false, custom_payload: None, message: Request::Batch(b) };
        let mut out = Vec::new();
        let result = frame.encode(Compression::None, &mut out);
        if named {
            prop_assert!(
                matches!(result, Err(EncodeError::Invalid(m)) if m == request::NAMED_BATCH_VALUES),
                "{:?}", result.map(|()| out)
            );
        } else {
            prop_assert!(result.is_ok());
        }
    }

    #[test]
    fn request_frames_round_trip(
        frame in strategy(|u| generators::requests::request_frame(u, Messages::Encodable)),
        compression in compression(),
    ) {
        let stream = frame.stream;
        let mut s = Vec::new();
        frame.encode(compression, &mut s).unwrap();
        let back = RequestFrame::decode(one_frame(&s), compression, &DecodeLimits::default()).unwrap();
        prop_assert_eq!(&back, &frame);
        // Re-encoding the decoded frame gives the same bytes.
        let mut again = Vec::new();
        back.encode(compression, &mut again).unwrap();
        prop_assert_eq!(&again[..], &s[..]);
        // Patching the stream (header bytes 2..4, as cql4-conn does) changes only the stream.
        s[2..4].copy_from_slice(&(stream ^ 0x55).to_be_bytes());
        let patched = RequestFrame::decode(one_frame(&s), compression, &DecodeLimits::default()).unwrap();
        prop_assert_eq!(patched.stream, stream ^ 0x55);
        prop_assert_eq!(patched.message, frame.message);
    }

    #[test]
    fn response_frames_round_trip(
        frame in strategy(|u| generators::responses::response_frame(u, Messages::Encodable)),
        compression in compression(),
    ) {
        let mut wire = Vec::new();
        frame.encode(compression, &mut wire).unwrap();
        let back = ResponseFrame::decode(one_frame(&wire), compression, &DecodeLimits::default()).unwrap();
        prop_assert_eq!(&back, &frame);
        let mut again = Vec::new();
        back.encode(compression, &mut again).unwrap();
        prop_assert_eq!(again, wire);
    }

    #[test]
    fn rows_pages_round_trip(
        ((global, columns), paging_state, cells) in strategy(|u| {
            let columns = generators::rows::columns(u)?;
            let paging_state = generators::notations::opt_bytes(u)?;
            let n = u.int_in_range(0..=11)?;
            let cells = (0..n)
                .map(|_| generators::notations::opt_bytes(u))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((columns, paging_state, cells))
        }),
    ) {
        // A page of blob columns: re-encoding the decoded page gives the same bytes.
        let n = columns.len();
        let columns: Vec<ColumnSpec> = columns
            .into_iter()
            .map(|c| ColumnSpec { ty: ColumnType::Blob, ..c })
            .collect();
        let mut metadata = ResultMetadata::new(global, columns);
        metadata.paging_state = paging_state;
        let rows = cells.len().checked_div(n).unwrap_or(0);
        let mut body = vec![0, 0, 0, 2];
        metadata.encode(&mut Writer::new(&mut body)).expect("encodes");
        body.extend_from_slice(&(rows as i32).to_be_bytes());
        for cell in cells.iter().take(rows * n) {
            match cell {
                Some(b) => {
                    body.extend_from_slice(&(b.len() as i32).to_be_bytes());
                    body.extend_from_slice(b);
                }
                None => body.extend_from_slice(&[0xff; 4]),
            }
        }
        let mut wire = vec![0x84, 0, 0, 1, 0x08];
        wire.extend_from_slice(&(body.len() as u32).to_be_bytes());
        wire.extend_from_slice(&body);
        let frame = ResponseFrame::decode(one_frame(&wire), Compression::None, &DecodeLimits::default()).unwrap();
        let Response::Result(ResultResponse::Rows(page)) = &frame.message else {
            panic!("not rows");
        };
        prop_assert_eq!(page.len(), rows);
        for (i, row) in page.iter().enumerate() {
            for j in 0..n {
                let want = cells[i * n + j].as_deref();
                prop_assert_eq!(row.raw(j).unwrap(), want);
            }
        }
        let mut again = Vec::new();
        frame.encode(Compression::None, &mut again).unwrap();
        prop_assert_eq!(&again, &wire);
        let back = ResponseFrame::decode(one_frame(&again), Compression::None, &DecodeLimits::default()).unwrap();
        prop_assert_eq!(back, frame);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..64), opcode in any::<u8>(), flags in any::<u8>(), dir in any::<bool>()) {
        let limits = DecodeLimits::default();
        // As a stream of frames.
        let mut buf = BytesMut::from(&bytes[..]);
        let _ = decode_frame(&mut buf, &limits);
        // As a body under every header.
        let header = FrameHeader {
            direction: if dir { Direction::Response } else { Direction::Request },
            flags: FrameFlags(flags),
            stream: 0,
            opcode: Opcode(opcode),
            length: bytes.len() as u32,
        };
        let frame = RawFrame { header, body: Bytes::from(bytes) };
        for c in [Compression::None, Compression::Lz4, Compression::Snappy] {
            let _ = ResponseFrame::decode(frame.clone(), c, &limits);
            let _ = RequestFrame::decode(frame.clone(), c, &limits);
        }
    }

    #[test]
    fn mutated_valid_frames_never_panic(message in strategy(|u| generators::responses::response(u, Messages::Encodable)), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut wire = Vec::new();
        ResponseFrame::new(0, message).encode(Compression::None, &mut wire).unwrap();
        let body_len = wire.len() - HEADER_LEN;
        if body_len > 0 {
            let i = HEADER_LEN + at.index(body_len);
            wire[i] = byte;
            let _ = ResponseFrame::decode(one_frame(&wire), Compression::None, &DecodeLimits::default());
        }
    }
}
