//! Property tests: encode → decode is the identity for every request and response message,
//! whole frames included; and arbitrary bytes never panic the decoders.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions unwrap too"
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::{Bytes, BytesMut};
use cql4_frame::rows::{ColumnSpec, MetadataFlags, TableSpec};
use cql4_frame::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,8}"
}

fn blob() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..8).prop_map(Bytes::from)
}

fn consistency() -> impl Strategy<Value = Consistency> {
    any::<u16>().prop_map(Consistency)
}

fn bound_value() -> impl Strategy<Value = BoundValue> {
    prop_oneof![
        blob().prop_map(BoundValue::Bytes),
        Just(BoundValue::Null),
        Just(BoundValue::NotSet),
    ]
}

fn values(named: bool) -> BoxedStrategy<QueryValues> {
    if named {
        vec((text(), bound_value()), 0..4)
            .prop_map(QueryValues::Named)
            .boxed()
    } else {
        vec(bound_value(), 0..4)
            .prop_map(QueryValues::Positional)
            .boxed()
    }
}

fn query_parameters() -> impl Strategy<Value = QueryParameters> {
    (
        consistency(),
        option::of(any::<bool>().prop_flat_map(values)),
        any::<bool>(),
        option::of(any::<i32>()),
        option::of(blob()),
        option::of(consistency()),
        option::of(any::<i64>()),
    )
        .prop_map(
            |(consistency, values, skip_metadata, page_size, paging_state, serial, ts)| {
                QueryParameters {
                    consistency,
                    values,
                    skip_metadata,
                    page_size,
                    paging_state,
                    serial_consistency: serial,
                    default_timestamp: ts,
                }
            },
        )
}

/// BATCH children take positional values only (named ones are refused, see
/// `request::NAMED_BATCH_VALUES` and `named_batch_values_are_refused` below).
fn batch() -> impl Strategy<Value = Batch> {
    batch_with(false)
}

fn batch_with(named: bool) -> impl Strategy<Value = Batch> {
    let statement = (
        prop_oneof![
            text().prop_map(BatchQuery::Query),
            blob().prop_map(BatchQuery::Prepared)
        ],
        values(named),
    )
        .prop_map(|(query, values)| BatchStatement { query, values });
    (
        any::<u8>().prop_map(BatchType),
        vec(statement, 0..4),
        consistency(),
        option::of(consistency()),
        option::of(any::<i64>()),
    )
        .prop_map(|(batch_type, statements, consistency, serial, ts)| Batch {
            batch_type,
            statements,
            consistency,
            serial_consistency: serial,
            default_timestamp: ts,
        })
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        vec((text(), text()), 0..4).prop_map(|options| Request::Startup(Startup { options })),
        option::of(blob()).prop_map(|token| Request::AuthResponse(AuthResponse { token })),
        Just(Request::Options),
        (text(), query_parameters())
            .prop_map(|(query, params)| Request::Query(Query { query, params })),
        text().prop_map(|query| Request::Prepare(Prepare { query })),
        (blob(), query_parameters())
            .prop_map(|(id, params)| Request::Execute(Execute { id, params })),
        batch().prop_map(Request::Batch),
        vec(text(), 0..4).prop_map(|event_types| Request::Register(Register { event_types })),
    ]
}

fn custom_payload() -> impl Strategy<Value = Option<CustomPayload>> {
    option::of(vec((text(), option::of(blob())), 0..3))
}

fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>())
            .prop_map(|(ip, port)| SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port)),
        (any::<[u8; 16]>(), any::<u16>())
            .prop_map(|(ip, port)| SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), port)),
    ]
}

fn schema_change() -> impl Strategy<Value = SchemaChange> {
    let change = prop_oneof![
        Just(SchemaChangeType::Created),
        Just(SchemaChangeType::Updated),
        Just(SchemaChangeType::Dropped),
    ];
    let target = prop_oneof![
        text().prop_map(|keyspace| SchemaChangeTarget::Keyspace { keyspace }),
        (text(), text())
            .prop_map(|(keyspace, table)| SchemaChangeTarget::Table { keyspace, table }),
        (text(), text()).prop_map(|(keyspace, name)| SchemaChangeTarget::Type { keyspace, name }),
        (text(), text(), vec(text(), 0..3)).prop_map(|(keyspace, name, arg_types)| {
            SchemaChangeTarget::Function {
                keyspace,
                name,
                arg_types,
            }
        }),
        (text(), text(), vec(text(), 0..3)).prop_map(|(keyspace, name, arg_types)| {
            SchemaChangeTarget::Aggregate {
                keyspace,
                name,
                arg_types,
            }
        }),
    ];
    (change, target).prop_map(|(change, target)| SchemaChange { change, target })
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (
            prop_oneof![
                Just(TopologyChange::NewNode),
                Just(TopologyChange::RemovedNode),
                Just(TopologyChange::MovedNode)
            ],
            socket_addr()
        )
            .prop_map(|(change, address)| Event::TopologyChange { change, address }),
        (
            prop_oneof![Just(StatusChange::Up), Just(StatusChange::Down)],
            socket_addr()
        )
            .prop_map(|(change, address)| Event::StatusChange { change, address }),
        schema_change().prop_map(Event::SchemaChange),
    ]
}

const DETAIL_CODES: [i32; 8] = [
    0x1000, 0x1100, 0x1200, 0x1300, 0x1400, 0x1500, 0x2400, 0x2500,
];

fn error_response() -> impl Strategy<Value = ErrorResponse> {
    let no_details = any::<i32>()
        .prop_filter("code with details", |c| !DETAIL_CODES.contains(c))
        .prop_map(|c| (ErrorCode(c), ErrorDetails::None));
    let counts = || (consistency(), any::<i32>(), any::<i32>());
    let with_details = prop_oneof![
        (counts(), any::<i32>()).prop_map(|((consistency, required, alive), _)| {
            (
                ErrorCode::UNAVAILABLE,
                ErrorDetails::Unavailable {
                    consistency,
                    required,
                    alive,
                },
            )
        }),
        (counts(), text()).prop_map(|((consistency, received, block_for), write_type)| {
            (
                ErrorCode::WRITE_TIMEOUT,
                ErrorDetails::WriteTimeout {
                    consistency,
                    received,
                    block_for,
                    write_type,
                },
            )
        }),
        (counts(), any::<bool>()).prop_map(|((consistency, received, block_for), data_present)| {
            (
                ErrorCode::READ_TIMEOUT,
                ErrorDetails::ReadTimeout {
                    consistency,
                    received,
                    block_for,
                    data_present,
                },
            )
        }),
        (counts(), any::<i32>(), any::<bool>()).prop_map(
            |((consistency, received, block_for), num_failures, data_present)| {
                (
                    ErrorCode::READ_FAILURE,
                    ErrorDetails::ReadFailure {
                        consistency,
                        received,
                        block_for,
                        num_failures,
                        data_present,
                    },
                )
            }
        ),
        (text(), text(), vec(text(), 0..3)).prop_map(|(keyspace, function, arg_types)| {
            (
                ErrorCode::FUNCTION_FAILURE,
                ErrorDetails::FunctionFailure {
                    keyspace,
                    function,
                    arg_types,
                },
            )
        }),
        (counts(), any::<i32>(), text()).prop_map(
            |((consistency, received, block_for), num_failures, write_type)| {
                (
                    ErrorCode::WRITE_FAILURE,
                    ErrorDetails::WriteFailure {
                        consistency,
                        received,
                        block_for,
                        num_failures,
                        write_type,
                    },
                )
            }
        ),
        (text(), text()).prop_map(|(keyspace, table)| {
            (
                ErrorCode::ALREADY_EXISTS,
                ErrorDetails::AlreadyExists { keyspace, table },
            )
        }),
        blob().prop_map(|id| (ErrorCode::UNPREPARED, ErrorDetails::Unprepared { id })),
    ];
    (prop_oneof![no_details, with_details], text()).prop_map(|((code, details), message)| {
        ErrorResponse {
            code,
            message,
            details,
        }
    })
}

fn column_type() -> impl Strategy<Value = ColumnType> {
    prop_oneof![
        Just(ColumnType::Int),
        Just(ColumnType::Text),
        Just(ColumnType::Blob),
        Just(ColumnType::List(Box::new(ColumnType::BigInt))),
        Just(ColumnType::Map(
            Box::new(ColumnType::Text),
            Box::new(ColumnType::Uuid)
        )),
    ]
}

/// Column specs with a global table spec, or each with its own.
fn specs() -> impl Strategy<Value = (Option<TableSpec>, Vec<ColumnSpec>)> {
    let table = || (text(), text()).prop_map(|(keyspace, table)| TableSpec { keyspace, table });
    (
        option::of(table()),
        vec((option::of(table()), text(), column_type()), 0..4),
    )
        .prop_map(|(global, cols)| {
            let columns = cols
                .into_iter()
                .map(|(own, name, ty)| ColumnSpec {
                    table_spec: if global.is_some() {
                        None
                    } else {
                        Some(own.unwrap_or_default())
                    },
                    name,
                    ty,
                })
                .collect();
            (global, columns)
        })
}

fn result_metadata() -> impl Strategy<Value = ResultMetadata> {
    prop_oneof![
        specs().prop_map(|(global, columns)| ResultMetadata::new(global, columns)),
        (0usize..5).prop_map(|n| ResultMetadata {
            flags: MetadataFlags::NO_METADATA,
            columns_count: n,
            ..ResultMetadata::default()
        }),
    ]
}

fn prepared() -> impl Strategy<Value = Prepared> {
    (blob(), specs(), vec(any::<u16>(), 0..3), result_metadata()).prop_map(
        |(id, (global, columns), pk_indexes, result_metadata)| Prepared {
            id,
            metadata: PreparedMetadata {
                flags: MetadataFlags::default()
                    .with(MetadataFlags::GLOBAL_TABLES_SPEC, global.is_some()),
                pk_indexes,
                global_table_spec: global,
                columns,
            },
            result_metadata,
        },
    )
}

fn response() -> impl Strategy<Value = Response> {
    prop_oneof![
        error_response().prop_map(Response::Error),
        Just(Response::Ready),
        text().prop_map(|authenticator| Response::Authenticate(Authenticate { authenticator })),
        vec((text(), vec(text(), 0..3)), 0..3)
            .prop_map(|options| Response::Supported(Supported { options })),
        Just(Response::Result(ResultResponse::Void)),
        text().prop_map(|ks| Response::Result(ResultResponse::SetKeyspace(ks))),
        prepared().prop_map(|p| Response::Result(ResultResponse::Prepared(p))),
        schema_change().prop_map(|c| Response::Result(ResultResponse::SchemaChange(c))),
        event().prop_map(Response::Event),
        option::of(blob()).prop_map(|token| Response::AuthChallenge(AuthChallenge { token })),
        option::of(blob()).prop_map(|token| Response::AuthSuccess(AuthSuccess { token })),
    ]
}

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
    fn named_batch_values_are_refused(b in batch_with(true)) {
        let named = b.statements.iter().any(|s| matches!(s.values, QueryValues::Named(_)));
        let result = Request::Batch(b).serialize(Compression::None);
        if named {
            prop_assert!(
                matches!(result, Err(EncodeError::Invalid(m)) if m == request::NAMED_BATCH_VALUES),
                "{:?}", result.map(|s| s.as_bytes().to_vec())
            );
        } else {
            prop_assert!(result.is_ok());
        }
    }

    #[test]
    fn request_frames_round_trip(
        message in request(),
        stream in 0i16..=i16::MAX,
        tracing in any::<bool>(),
        custom_payload in custom_payload(),
        compression in compression(),
    ) {
        let frame = RequestFrame { stream, tracing, custom_payload, message };
        let mut s = frame.serialize(compression).unwrap();
        let back = RequestFrame::decode(one_frame(s.as_bytes()), compression, &DecodeLimits::default()).unwrap();
        prop_assert_eq!(&back, &frame);
        // Re-encoding the decoded frame gives the same bytes.
        let mut again = Vec::new();
        back.encode(compression, &mut again).unwrap();
        prop_assert_eq!(&again[..], s.as_bytes());
        // Patching the stream changes only the stream.
        s.set_stream(stream ^ 0x55);
        let patched = RequestFrame::decode(one_frame(s.as_bytes()), compression, &DecodeLimits::default()).unwrap();
        prop_assert_eq!(patched.stream, stream ^ 0x55);
        prop_assert_eq!(patched.message, frame.message);
    }

    #[test]
    fn response_frames_round_trip(
        message in response(),
        stream in any::<i16>(),
        tracing_id in option::of(any::<[u8; 16]>()),
        warnings in option::of(vec(text(), 0..3)),
        custom_payload in custom_payload(),
        compression in compression(),
    ) {
        let frame = ResponseFrame { stream, tracing_id, warnings, custom_payload, message };
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
        (global, columns) in specs(),
        paging_state in option::of(blob()),
        cells in vec(option::of(blob()), 0..12),
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
        metadata.encode(&mut body);
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
    fn mutated_valid_frames_never_panic(message in response(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
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
