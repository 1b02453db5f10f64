//! The raw connection (`cql4_testkit::raw`) against the real node: an unknown opcode is refused,
//! answers come back on the stream ids the caller chose, and a frame whose length field lies
//! gets a typed reaction (an answer, a close, or silence that closes the connection).

mod common;

use std::time::Duration;

use cql4::frame::compression::Compression;
use cql4::frame::consistency::Consistency;
use cql4::frame::request::{Query, QueryParameters, Request, RequestFrame};
use cql4::frame::response::{ErrorCode, Response, ResponseFrame, ResultResponse};
use cql4::frame::DecodeLimits;
use cql4_testkit::raw::{frame, Framing, RawClose, RawConnection, RawError, RawState, Reaction};

async fn raw(node: &common::Node) -> RawConnection {
    let mut config = node.password_config();
    config.request_timeout = Duration::from_secs(10);
    RawConnection::connect(&config)
        .await
        .expect("raw login with the node's password")
}

fn query_frame(stream: i16, cql: &str) -> Vec<u8> {
    let mut out = Vec::new();
    RequestFrame {
        stream,
        tracing: false,
        custom_payload: None,
        message: Request::Query(Query {
            query: cql.to_owned(),
            params: QueryParameters::new(Consistency::ONE),
        }),
    }
    .encode(Compression::None, &mut out)
    .expect("encodable query");
    out
}

fn decode(f: cql4::frame::framing::RawFrame) -> ResponseFrame {
    ResponseFrame::decode(f, Compression::None, &DecodeLimits::default())
        .expect("the node's answer decodes")
}

#[tokio::test]
async fn unknown_opcode_is_refused_with_protocol_error_or_a_close() {
    let node = common::node();
    let mut raw = raw(&node).await;
    // 0x63 is no §2.4 opcode.
    let (framing, reaction) = raw.request(&frame(0, 77, 0x63, b"??"), 77).await.unwrap();
    assert_eq!(framing, Framing::Frames(1));
    match reaction {
        Reaction::Frame(f) => {
            assert_eq!(f.header.stream, 77);
            match decode(f).message {
                Response::Error(e) => {
                    assert_eq!(e.code, ErrorCode::PROTOCOL_ERROR, "{e:?}");
                    println!("unknown opcode: PROTOCOL_ERROR {:?}", e.message);
                }
                other => panic!("unknown opcode answered with {other:?}"),
            }
        }
        Reaction::Closed(r) => {
            println!("unknown opcode: the node closed the connection ({r})");
            assert!(matches!(*r, RawClose::EndOfStream | RawClose::Io(_)), "{r}");
        }
        Reaction::Silent { waited } => panic!("no reaction to an unknown opcode within {waited:?}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn opcode_with_the_high_bit_set_gets_an_error_answer() {
    // Found by the server fuzzer (cql4-fuzz-server): Cassandra 5.0 looks opcodes up with a signed byte, so
    // 0x80..=0xff fail inside its frame decoder (SERVER_ERROR "ArrayIndexOutOfBoundsException:
    // Index -63 out of bounds for length 17") rather than as PROTOCOL_ERROR, and the answer may
    // not carry the request's stream id. What the raw API must deliver is that typed answer,
    // whatever its stream.
    let node = common::node();
    let mut raw = raw(&node).await;
    let (framing, reaction) = raw.request(&frame(0, 78, 0xC1, b""), 78).await.unwrap();
    assert_eq!(framing, Framing::Frames(1));
    match reaction {
        Reaction::Frame(f) => {
            let stream = f.header.stream;
            let Response::Error(e) = decode(f).message else {
                panic!("opcode 0xC1 was accepted");
            };
            println!(
                "opcode 0xC1: stream {stream}, {:#06x} {:?}",
                e.code.0, e.message
            );
            assert!(
                e.code == ErrorCode::PROTOCOL_ERROR || e.code == ErrorCode::SERVER_ERROR,
                "{e:?}"
            );
        }
        Reaction::Closed(r) => println!("opcode 0xC1: closed ({r})"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn answers_come_back_on_the_stream_ids_the_caller_chose() {
    let node = common::node();
    let mut raw = raw(&node).await;
    let ids = [31_000i16, 0, 32_767, 5];
    // Four frames in one write: the caller, not a multiplexer, owns the ids.
    let batch: Vec<u8> = ids
        .iter()
        .flat_map(|&id| query_frame(id, "SELECT release_version FROM system.local"))
        .collect();
    assert_eq!(raw.send(&batch).await.unwrap(), Framing::Frames(4));
    let mut seen = Vec::new();
    while seen.len() < ids.len() {
        match raw.recv().await {
            Reaction::Frame(f) => {
                let stream = f.header.stream;
                let answer = decode(f);
                let Response::Result(ResultResponse::Rows(rows)) = answer.message else {
                    panic!("stream {stream}: {:?}", answer.message);
                };
                let row = rows.iter().next().expect("system.local has one row");
                let version: &str = row.get(0).expect("release_version is text");
                assert!(version.starts_with("5."), "{version}");
                seen.push(stream);
            }
            other => panic!("after {seen:?}: {other:?}"),
        }
    }
    seen.sort_unstable();
    let mut want = ids.to_vec();
    want.sort_unstable();
    assert_eq!(seen, want);
    assert!(matches!(raw.state(), RawState::Framed));
}

#[tokio::test]
async fn body_shorter_than_its_length_field_gets_a_typed_reaction() {
    let node = common::node();
    let mut raw = raw(&node).await;
    raw.set_timeout(Duration::from_secs(3));
    let mut f = query_frame(9, "SELECT release_version FROM system.local");
    // Declare 1,000 more bytes than are sent: the node waits for them (or refuses).
    let declared = u32::try_from(f.len() - 9 + 1000).unwrap();
    f[5..9].copy_from_slice(&declared.to_be_bytes());
    assert_eq!(raw.send(&f).await.unwrap(), Framing::Unknown);
    assert!(matches!(raw.state(), RawState::FramingUnknown));
    // Nothing more may be sent on a connection whose framing is unknown.
    let refused = raw.send(&frame(0, 1, 0x05, b"")).await.unwrap_err();
    assert!(
        matches!(&refused, RawError::Closed(r) if matches!(**r, RawClose::FramingUnknown)),
        "{refused:?}"
    );
    let reaction = raw.recv().await;
    println!("declared +1000 bytes: {reaction:?}");
    match reaction {
        Reaction::Frame(f) => {
            assert!(matches!(decode(f).message, Response::Error(_)));
        }
        Reaction::Closed(_) => {}
        Reaction::Silent { .. } => {
            // Silence while the framing is unknown closes the connection.
            assert!(
                matches!(raw.state(), RawState::Closed(r) if matches!(**r, RawClose::FramingUnknown)),
                "{:?}",
                raw.state()
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(raw.send(&frame(0, 2, 0x05, b"")).await.is_err());
}

#[tokio::test]
async fn body_longer_than_its_length_field_is_refused() {
    let node = common::node();
    let mut raw = raw(&node).await;
    raw.set_timeout(Duration::from_secs(5));
    let mut f = query_frame(11, "SELECT release_version FROM system.local");
    // Declare 8 bytes fewer than sent: the QUERY body is cut inside its consistency/flags,
    // and the 8 extra bytes are not a whole header.
    let declared = u32::try_from(f.len() - 9 - 8).unwrap();
    f[5..9].copy_from_slice(&declared.to_be_bytes());
    assert_eq!(raw.send(&f).await.unwrap(), Framing::Unknown);
    let reaction = raw.recv().await;
    println!("declared -8 bytes: {reaction:?}");
    match reaction {
        Reaction::Frame(f) => {
            assert_eq!(f.header.stream, 11);
            let Response::Error(e) = decode(f).message else {
                panic!("a truncated QUERY body was accepted");
            };
            assert!(
                e.code == ErrorCode::PROTOCOL_ERROR || e.code == ErrorCode::SERVER_ERROR,
                "{e:?}"
            );
        }
        Reaction::Closed(r) => println!("closed: {r}"),
        Reaction::Silent { waited } => {
            panic!("no reaction to a truncated QUERY body within {waited:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_new_login_works_after_raw_garbage() {
    let node = common::node();
    let mut raw = raw(&node).await;
    // A header announcing a body over any frame limit, then the connection is given up.
    let mut f = frame(0, 3, 0x07, b"");
    f[5..9].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    assert_eq!(raw.send(&f).await.unwrap(), Framing::Unknown);
    let reaction = raw.recv_within(Duration::from_secs(2)).await;
    println!("declared 2 GiB: {reaction:?}");
    assert!(!matches!(raw.state(), RawState::Framed));
    raw.close().await;
    assert!(matches!(raw.state(), RawState::Closed(_)));
    let client = node.client().await;
    common::exec(&client, "SELECT release_version FROM system.local").await;
}
