//! `roundtrip_message`: a generated request or response, encoded (possibly LZ4) and decoded.

use arbitrary::Unstructured;
use bytes::BytesMut;
use cql4_frame::framing::decode_frame;
use cql4_frame::request::{QueryValues, Request, RequestFrame};
use cql4_frame::response::ResponseFrame;
use cql4_frame::{Compression, DecodeLimits};

use crate::generators::requests::request_frame;
use crate::generators::responses::response_frame;
use crate::generators::Messages;

/// A request or response built from the fuzzer's choices, encoded (possibly LZ4), decoded.
pub fn roundtrip_message(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(lz4) = u.arbitrary::<bool>() else {
        return;
    };
    let compression = if lz4 {
        Compression::Lz4
    } else {
        Compression::None
    };
    let Ok(is_request) = u.arbitrary::<bool>() else {
        return;
    };
    if is_request {
        let Ok(frame) = request_frame(&mut u, Messages::FuzzCorpus) else {
            return;
        };
        let mut bytes = Vec::new();
        let encoded = frame.encode(compression, &mut bytes);
        if let Request::Batch(b) = &frame.message {
            if b.statements
                .iter()
                .any(|s| matches!(s.values, QueryValues::Named(_)))
            {
                // One body, two meanings (CASSANDRA-10246): never written.
                assert!(
                    matches!(encoded, Err(cql4_frame::EncodeError::Invalid(m))
                        if m == cql4_frame::request::NAMED_BATCH_VALUES),
                    "a BATCH with named values encoded: {encoded:?}"
                );
                return;
            }
        }
        if encoded.is_err() {
            return;
        }
        let mut buf = BytesMut::from(&bytes[..]);
        let raw = decode_frame(&mut buf, &DecodeLimits::default())
            .expect("our frame decodes")
            .expect("our frame is complete");
        let back = RequestFrame::decode(raw, compression, &DecodeLimits::default())
            .expect("our request decodes");
        assert_eq!(back, frame);
    } else {
        let Ok(frame) = response_frame(&mut u, Messages::FuzzCorpus) else {
            return;
        };
        let mut bytes = Vec::new();
        if frame.encode(compression, &mut bytes).is_err() {
            return;
        }
        let mut buf = BytesMut::from(&bytes[..]);
        let raw = decode_frame(&mut buf, &DecodeLimits::default())
            .expect("our frame decodes")
            .expect("our frame is complete");
        let back = ResponseFrame::decode(raw, compression, &DecodeLimits::default())
            .expect("our response decodes");
        assert_eq!(back, frame);
    }
}
