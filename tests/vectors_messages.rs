//! Cross-checks with the DataStax Python driver (cassandra-driver 3.30.x).
//!
//! `tests/vectors/python/gen_messages.py` writes `messages/requests.json`: request frames the
//! driver encoded, with their parameters. Our encoder must produce the same bytes from the same
//! parameters, and our decoder must read the driver's frames back to them.
//!
//! `messages/responses.json` holds response frames our encoder produced (checked here to be
//! current; regenerate with `CQL4_BLESS=1 cargo test --test vectors_messages`), and
//! `messages/responses_python.json` is the driver's decoding of them (written by the script),
//! checked here field by field.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::{Bytes, BytesMut};
use cql4::frame::*;
use serde_json::{json, Value};

const REQUESTS: &str = include_str!("vectors/python/messages/requests.json");
const RESPONSES: &str = include_str!("vectors/python/messages/responses.json");
const RESPONSES_PYTHON: &str = include_str!("vectors/python/messages/responses_python.json");

#[path = "common/hex.rs"]
mod hex_util;
use hex_util::{hex, unhex};

fn one_frame(wire: &[u8]) -> RawFrame {
    let mut buf = BytesMut::from(wire);
    let f = decode_frame(&mut buf, &DecodeLimits::default())
        .expect("frame")
        .expect("whole frame");
    assert!(buf.is_empty());
    f
}

// ---------------------------------------------------------------------------------------
// Requests encoded by the driver
// ---------------------------------------------------------------------------------------

fn bytes_of(v: &Value) -> Bytes {
    Bytes::from(unhex(v.as_str().expect("hex string")))
}

fn value_of(v: &Value) -> BoundValue {
    match v {
        Value::Null => BoundValue::Null,
        Value::String(s) if s == "unset" => BoundValue::NotSet,
        other => BoundValue::Bytes(bytes_of(other)),
    }
}

fn opt_consistency(v: &Value) -> Option<Consistency> {
    v.as_u64().map(|c| Consistency(c as u16))
}

fn params_of(p: &Value) -> QueryParameters {
    QueryParameters {
        consistency: Consistency(p["consistency"].as_u64().expect("cl") as u16),
        values: p["values"]
            .as_array()
            .map(|vs| QueryValues::Positional(vs.iter().map(value_of).collect())),
        skip_metadata: p["skip_metadata"].as_bool().expect("skip_metadata"),
        page_size: p["page_size"].as_i64().map(|n| n as i32),
        paging_state: p["paging_state"].as_str().map(|s| Bytes::from(unhex(s))),
        serial_consistency: opt_consistency(&p["serial_consistency"]),
        default_timestamp: p["timestamp"].as_i64(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

fn message_of(m: &Value) -> Request {
    match m["type"].as_str().expect("type") {
        "STARTUP" => Request::Startup(Startup {
            options: m["options"]
                .as_array()
                .expect("options")
                .iter()
                .map(|kv| {
                    (
                        kv[0].as_str().expect("k").to_owned(),
                        kv[1].as_str().expect("v").to_owned(),
                    )
                })
                .collect(),
        }),
        "OPTIONS" => Request::Options,
        "AUTH_RESPONSE" => Request::AuthResponse(AuthResponse {
            token: Some(bytes_of(&m["token"])),
        }),
        "REGISTER" => Request::Register(Register {
            event_types: strings(&m["event_types"]),
        }),
        "PREPARE" => Request::Prepare(Prepare {
            query: m["query"].as_str().expect("query").to_owned(),
        }),
        "QUERY" => Request::Query(Query {
            query: m["query"].as_str().expect("query").to_owned(),
            params: params_of(&m["params"]),
        }),
        "EXECUTE" => Request::Execute(Execute {
            id: bytes_of(&m["id"]),
            params: params_of(&m["params"]),
        }),
        "BATCH" => Request::Batch(Batch {
            batch_type: BatchType(m["batch_type"].as_u64().expect("type") as u8),
            statements: m["statements"]
                .as_array()
                .expect("statements")
                .iter()
                .map(|s| BatchStatement {
                    query: if s["prepared"].as_bool().expect("prepared") {
                        BatchQuery::Prepared(bytes_of(&s["query"]))
                    } else {
                        BatchQuery::Query(s["query"].as_str().expect("query").to_owned())
                    },
                    values: QueryValues::Positional(
                        s["values"]
                            .as_array()
                            .expect("values")
                            .iter()
                            .map(value_of)
                            .collect(),
                    ),
                })
                .collect(),
            consistency: Consistency(m["consistency"].as_u64().expect("cl") as u16),
            serial_consistency: opt_consistency(&m["serial_consistency"]),
            default_timestamp: m["timestamp"].as_i64(),
        }),
        other => panic!("unknown request type {other}"),
    }
}

fn frame_of(case: &Value) -> RequestFrame {
    RequestFrame {
        stream: case["stream"].as_i64().expect("stream") as i16,
        tracing: case["tracing"].as_bool().expect("tracing"),
        custom_payload: case["custom_payload"].as_array().map(|entries| {
            entries
                .iter()
                .map(|kv| {
                    (
                        kv[0].as_str().expect("key").to_owned(),
                        kv[1].as_str().map(|h| Bytes::from(unhex(h))),
                    )
                })
                .collect()
        }),
        message: message_of(&case["message"]),
    }
}

fn request_cases() -> Vec<Value> {
    let doc: Value = serde_json::from_str(REQUESTS).expect("requests.json");
    assert_eq!(doc["protocol_version"], 4);
    doc["requests"].as_array().expect("requests").clone()
}

fn check_request_vector(name: &str) {
    let cases = request_cases();
    let case = cases
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"));
    let wire = unhex(case["hex"].as_str().expect("hex"));
    let frame = frame_of(case);
    // Byte-identical encoding.
    let mut ours = Vec::new();
    frame.encode(Compression::None, &mut ours).expect("encode");
    assert_eq!(hex(&ours), hex(&wire), "{name}: {}", case["description"]);
    // Our decoder reads the driver's frame.
    let decoded = RequestFrame::decode(
        one_frame(&wire),
        Compression::None,
        &DecodeLimits::default(),
    )
    .expect("decode");
    assert_eq!(decoded, frame, "{name}");
}

macro_rules! request_vectors {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { check_request_vector(stringify!($name)); } )*

        #[test]
        fn every_request_vector_has_a_test() {
            let mut names: Vec<String> = request_cases()
                .iter()
                .map(|c| c["name"].as_str().expect("name").to_owned())
                .collect();
            names.sort();
            let mut ours = vec![$(stringify!($name).to_owned()),*];
            ours.sort();
            assert_eq!(names, ours);
        }
    };
}

request_vectors!(
    startup_plain,
    startup_lz4,
    startup_no_compact_throw_on_overload,
    options,
    auth_response_plain,
    auth_response_sigv4_initial,
    register_all,
    prepare,
    prepare_unicode_custom_payload_tracing,
    query_simple,
    query_paging,
    query_serial_timestamp,
    query_every_driver_flag,
    execute_values,
    execute_no_values,
    execute_all_flags,
    batch_logged,
    batch_unlogged_serial_timestamp,
    batch_counter_empty,
);

// ---------------------------------------------------------------------------------------
// Responses encoded by us, decoded by the driver
// ---------------------------------------------------------------------------------------

fn error(code: ErrorCode, message: &str, details: ErrorDetails) -> Response {
    Response::Error(ErrorResponse {
        code,
        message: message.into(),
        details,
    })
}

fn rows_page() -> Response {
    // Global table spec ks.t, columns k int and v varchar; rows (7, "hi") and (-1, null).
    let body = Bytes::from_static(&[
        0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 2, b'k', b's', 0, 1, b't', 0, 1, b'k', 0, 9, 0, 1,
        b'v', 0, 13, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 2, b'h', b'i', 0, 0, 0, 4, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    let mut r = Reader::new(&body);
    Response::Result(
        ResultResponse::decode(&body, &mut r, &DecodeLimits::default(), None).expect("rows"),
    )
}

fn prepared() -> Response {
    let body = Bytes::from_static(&[
        0, 0, 0, 4, 0, 2, 0xaa, 0xbb, // kind, id
        0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, // flags, 1 marker, 1 pk index: 0
        0, 2, b'k', b's', 0, 1, b't', 0, 1, b'k', 0, 9, // ks.t, "k" int
        0, 0, 0, 4, 0, 0, 0, 0, // result metadata: No_metadata, 0 columns
    ]);
    let mut r = Reader::new(&body);
    Response::Result(
        ResultResponse::decode(&body, &mut r, &DecodeLimits::default(), None).expect("prepared"),
    )
}

fn our_responses() -> Vec<(&'static str, ResponseFrame)> {
    let plain = |stream, message| ResponseFrame::new(stream, message);
    vec![
        ("ready", plain(1, Response::Ready)),
        (
            "authenticate",
            plain(
                1,
                Response::Authenticate(Authenticate {
                    authenticator: "org.apache.cassandra.auth.PasswordAuthenticator".into(),
                }),
            ),
        ),
        (
            "supported",
            plain(
                0,
                Response::Supported(Supported {
                    options: vec![
                        ("CQL_VERSION".into(), vec!["3.4.7".into()]),
                        ("COMPRESSION".into(), vec!["lz4".into(), "snappy".into()]),
                    ],
                }),
            ),
        ),
        (
            "auth_challenge",
            plain(
                2,
                Response::AuthChallenge(AuthChallenge {
                    token: Some(Bytes::from_static(b"nonce=0123")),
                }),
            ),
        ),
        (
            "auth_success_null",
            plain(2, Response::AuthSuccess(AuthSuccess { token: None })),
        ),
        (
            "error_server",
            plain(
                3,
                error(ErrorCode::SERVER_ERROR, "boom", ErrorDetails::None),
            ),
        ),
        (
            "error_bad_credentials",
            plain(
                3,
                error(
                    ErrorCode::BAD_CREDENTIALS,
                    "Provided username and/or password are incorrect",
                    ErrorDetails::None,
                ),
            ),
        ),
        (
            "error_unavailable",
            plain(
                3,
                error(
                    ErrorCode::UNAVAILABLE,
                    "Cannot achieve consistency level QUORUM",
                    ErrorDetails::Unavailable {
                        consistency: Consistency::QUORUM,
                        required: 2,
                        alive: 1,
                    },
                ),
            ),
        ),
        (
            "error_write_timeout",
            plain(
                3,
                error(
                    ErrorCode::WRITE_TIMEOUT,
                    "wt",
                    ErrorDetails::WriteTimeout {
                        consistency: Consistency::LOCAL_QUORUM,
                        received: 1,
                        block_for: 2,
                        write_type: "BATCH_LOG".into(),
                    },
                ),
            ),
        ),
        (
            "error_read_timeout",
            plain(
                3,
                error(
                    ErrorCode::READ_TIMEOUT,
                    "rt",
                    ErrorDetails::ReadTimeout {
                        consistency: Consistency::ONE,
                        received: 0,
                        block_for: 1,
                        data_present: true,
                    },
                ),
            ),
        ),
        (
            "error_read_failure",
            plain(
                3,
                error(
                    ErrorCode::READ_FAILURE,
                    "rf",
                    ErrorDetails::ReadFailure {
                        consistency: Consistency::ALL,
                        received: 1,
                        block_for: 3,
                        num_failures: 2,
                        data_present: false,
                    },
                ),
            ),
        ),
        (
            "error_function_failure",
            plain(
                3,
                error(
                    ErrorCode::FUNCTION_FAILURE,
                    "ff",
                    ErrorDetails::FunctionFailure {
                        keyspace: "ks".into(),
                        function: "f".into(),
                        arg_types: vec!["int".into(), "text".into()],
                    },
                ),
            ),
        ),
        (
            "error_write_failure",
            plain(
                3,
                error(
                    ErrorCode::WRITE_FAILURE,
                    "wf",
                    ErrorDetails::WriteFailure {
                        consistency: Consistency::TWO,
                        received: 1,
                        block_for: 2,
                        num_failures: 1,
                        write_type: "SIMPLE".into(),
                    },
                ),
            ),
        ),
        (
            "error_already_exists",
            plain(
                3,
                error(
                    ErrorCode::ALREADY_EXISTS,
                    "exists",
                    ErrorDetails::AlreadyExists {
                        keyspace: "ks".into(),
                        table: "t".into(),
                    },
                ),
            ),
        ),
        (
            "error_unprepared",
            plain(
                3,
                error(
                    ErrorCode::UNPREPARED,
                    "unknown id",
                    ErrorDetails::Unprepared {
                        id: Bytes::from_static(&[0xca, 0xfe]),
                    },
                ),
            ),
        ),
        (
            "error_syntax",
            plain(
                3,
                error(ErrorCode::SYNTAX_ERROR, "line 1:0", ErrorDetails::None),
            ),
        ),
        (
            "result_void",
            plain(4, Response::Result(ResultResponse::Void)),
        ),
        (
            "result_set_keyspace",
            plain(
                4,
                Response::Result(ResultResponse::SetKeyspace("ks".into())),
            ),
        ),
        ("result_rows", plain(4, rows_page())),
        ("result_prepared", plain(4, prepared())),
        (
            "result_schema_change_table",
            plain(
                4,
                Response::Result(ResultResponse::SchemaChange(Box::new(SchemaChange {
                    change: SchemaChangeType::Created,
                    target: SchemaChangeTarget::Table {
                        keyspace: "ks".into(),
                        table: "t".into(),
                    },
                }))),
            ),
        ),
        (
            "event_topology_new_node",
            plain(
                -1,
                Response::Event(Event::TopologyChange {
                    change: TopologyChange::NewNode,
                    address: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 9042),
                }),
            ),
        ),
        (
            "event_status_down_v6",
            plain(
                -1,
                Response::Event(Event::StatusChange {
                    change: StatusChange::Down,
                    address: SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 9042),
                }),
            ),
        ),
        (
            "event_schema_function",
            plain(
                -1,
                Response::Event(Event::SchemaChange(SchemaChange {
                    change: SchemaChangeType::Dropped,
                    target: SchemaChangeTarget::Function {
                        keyspace: "ks".into(),
                        name: "f".into(),
                        arg_types: vec!["int".into(), "list<text>".into()],
                    },
                })),
            ),
        ),
        (
            "extras_tracing_warnings_payload",
            ResponseFrame {
                stream: 5,
                tracing_id: Some([
                    0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x11, 0xe1, 0x80, 0x00, 0, 0, 0, 0, 0, 1,
                ]),
                warnings: Some(vec!["Batch is large".into()]),
                custom_payload: Some(vec![("p".into(), Some(Bytes::from_static(&[1, 2])))]),
                message: Response::Result(ResultResponse::Void),
            },
        ),
    ]
}

fn responses_json() -> Value {
    let responses: Vec<Value> = our_responses()
        .into_iter()
        .map(|(name, frame)| {
            let mut wire = Vec::new();
            frame.encode(Compression::None, &mut wire).expect("encode");
            // And they decode back to themselves.
            let back = ResponseFrame::decode(
                one_frame(&wire),
                Compression::None,
                &DecodeLimits::default(),
            )
            .expect("decode");
            assert_eq!(back, frame, "{name}");
            json!({ "name": name, "hex": hex(&wire) })
        })
        .collect();
    json!({ "encoder": "cql4-frame (tests/vectors_messages.rs)", "responses": responses })
}

#[test]
fn responses_json_is_current() {
    let want = responses_json();
    if std::env::var_os("CQL4_BLESS").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/vectors/python/messages/responses.json"
        );
        let text = serde_json::to_string_pretty(&want).expect("json") + "\n";
        std::fs::write(path, text).expect("write responses.json");
        return;
    }
    let have: Value = serde_json::from_str(RESPONSES).expect("responses.json");
    assert_eq!(
        have, want,
        "stale: run CQL4_BLESS=1 cargo test --test vectors_messages, then gen_messages.py"
    );
}

fn python_view(name: &str) -> Value {
    let doc: Value = serde_json::from_str(RESPONSES_PYTHON).expect("responses_python.json");
    doc["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("python did not decode {name}"))
        .clone()
}

#[test]
fn python_decoded_every_response() {
    let doc: Value = serde_json::from_str(RESPONSES_PYTHON).expect("responses_python.json");
    let names: Vec<&str> = doc["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    let ours: Vec<&str> = our_responses().iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ours);
}

/// The Python driver's `WriteType` numbering (`cassandra.policies.WriteType`).
fn python_write_type(s: &str) -> u64 {
    match s {
        "SIMPLE" => 0,
        "BATCH" => 1,
        "UNLOGGED_BATCH" => 2,
        "COUNTER" => 3,
        "BATCH_LOG" => 4,
        "CAS" => 5,
        other => panic!("no python mapping for {other}"),
    }
}

fn address_json(a: &SocketAddr) -> Value {
    json!([a.ip().to_string(), a.port()])
}

/// What the driver should report for our frame: its class and a subset of its fields, derived
/// from our message (so the check is "the driver read what we meant to write").
fn expected_python_view(frame: &ResponseFrame) -> (&'static str, Value) {
    let mut fields = json!({ "stream_id": frame.stream });
    let (class, extra) = match &frame.message {
        Response::Ready => ("ReadyMessage", json!({})),
        Response::Authenticate(a) => (
            "AuthenticateMessage",
            json!({ "authenticator": a.authenticator }),
        ),
        Response::Supported(s) => (
            "SupportedMessage",
            json!({
                "cql_versions": s.values("CQL_VERSION"),
                "options": { "COMPRESSION": s.values("COMPRESSION") },
            }),
        ),
        Response::AuthChallenge(c) => (
            "AuthChallengeMessage",
            json!({ "challenge": hex(c.token.as_deref().unwrap_or_default()) }),
        ),
        // The driver reads a null token as empty bytes.
        Response::AuthSuccess(s) => (
            "AuthSuccessMessage",
            json!({ "token": hex(s.token.as_deref().unwrap_or_default()) }),
        ),
        Response::Error(e) => {
            let (class, info) = match &e.details {
                ErrorDetails::None => (
                    match e.code {
                        ErrorCode::SERVER_ERROR => "ServerError",
                        ErrorCode::BAD_CREDENTIALS => "BadCredentials",
                        ErrorCode::SYNTAX_ERROR => "SyntaxException",
                        other => panic!("add a class for {other}"),
                    },
                    Value::Null,
                ),
                ErrorDetails::Unavailable {
                    consistency,
                    required,
                    alive,
                } => (
                    "UnavailableErrorMessage",
                    json!({ "consistency": consistency.0, "required_replicas": required, "alive_replicas": alive }),
                ),
                ErrorDetails::WriteTimeout {
                    consistency,
                    received,
                    block_for,
                    write_type,
                } => (
                    "WriteTimeoutErrorMessage",
                    json!({ "consistency": consistency.0, "received_responses": received,
                            "required_responses": block_for, "write_type": python_write_type(write_type) }),
                ),
                ErrorDetails::ReadTimeout {
                    consistency,
                    received,
                    block_for,
                    data_present,
                } => (
                    "ReadTimeoutErrorMessage",
                    json!({ "consistency": consistency.0, "received_responses": received,
                            "required_responses": block_for, "data_retrieved": data_present }),
                ),
                ErrorDetails::ReadFailure {
                    consistency,
                    received,
                    block_for,
                    num_failures,
                    data_present,
                } => (
                    "ReadFailureMessage",
                    json!({ "consistency": consistency.0, "received_responses": received,
                            "required_responses": block_for, "failures": num_failures,
                            "error_code_map": null, "data_retrieved": data_present }),
                ),
                ErrorDetails::FunctionFailure {
                    keyspace,
                    function,
                    arg_types,
                } => (
                    "FunctionFailureMessage",
                    json!({ "keyspace": keyspace, "function": function, "arg_types": arg_types }),
                ),
                ErrorDetails::WriteFailure {
                    consistency,
                    received,
                    block_for,
                    num_failures,
                    write_type,
                } => (
                    "WriteFailureMessage",
                    json!({ "consistency": consistency.0, "received_responses": received,
                            "required_responses": block_for, "failures": num_failures,
                            "error_code_map": null, "write_type": python_write_type(write_type) }),
                ),
                ErrorDetails::AlreadyExists { keyspace, table } => (
                    "AlreadyExistsException",
                    json!({ "keyspace": keyspace, "table": table }),
                ),
                ErrorDetails::Unprepared { id } => ("PreparedQueryNotFound", json!(hex(id))),
                other => panic!("no python view for {other:?}"),
            };
            (
                class,
                json!({ "code": e.code.0, "message": e.message, "info": info }),
            )
        }
        Response::Result(r) => (
            "FastResultMessage",
            match r {
                ResultResponse::Void => json!({ "kind": 1 }),
                ResultResponse::SetKeyspace(ks) => json!({ "kind": 3, "new_keyspace": ks }),
                ResultResponse::Rows(rows) => {
                    let parsed: Vec<Value> = rows
                        .iter()
                        .map(|row| {
                            json!([
                                row.get::<i32>(0).expect("k"),
                                row.get::<Option<&str>>(1).expect("v")
                            ])
                        })
                        .collect();
                    let names: Vec<&str> = rows.columns().iter().map(|c| c.name.as_str()).collect();
                    json!({ "kind": 2, "column_names": names, "parsed_rows": parsed })
                }
                ResultResponse::Prepared(p) => json!({
                    "kind": 4,
                    "query_id": hex(&p.id),
                    "pk_indexes": p.metadata.pk_indexes,
                    "bind_metadata": p.metadata.columns.iter().map(|c| {
                        let t = p.metadata.global_table_spec.clone().unwrap_or_default();
                        json!([t.keyspace, t.table, c.name, "int"])
                    }).collect::<Vec<_>>(),
                }),
                ResultResponse::SchemaChange(sc) => match &**sc {
                    SchemaChange {
                        change: SchemaChangeType::Created,
                        target: SchemaChangeTarget::Table { keyspace, table },
                    } => json!({
                        "kind": 5,
                        "schema_change_event": { "change_type": "CREATED", "keyspace": keyspace,
                                                 "table": table, "target_type": "TABLE" },
                    }),
                    other => panic!("no python view for {other:?}"),
                },
                other => panic!("no python view for {other:?}"),
            },
        ),
        Response::Event(e) => (
            "EventMessage",
            match e {
                Event::TopologyChange {
                    change: TopologyChange::NewNode,
                    address,
                } => json!({ "event_type": "TOPOLOGY_CHANGE",
                             "event_args": { "change_type": "NEW_NODE", "address": address_json(address) } }),
                Event::StatusChange {
                    change: StatusChange::Down,
                    address,
                } => json!({ "event_type": "STATUS_CHANGE",
                             "event_args": { "change_type": "DOWN", "address": address_json(address) } }),
                Event::SchemaChange(SchemaChange {
                    change: SchemaChangeType::Dropped,
                    target:
                        SchemaChangeTarget::Function {
                            keyspace,
                            name,
                            arg_types,
                        },
                }) => json!({ "event_type": "SCHEMA_CHANGE", "event_args": {
                    "change_type": "DROPPED", "keyspace": keyspace, "target_type": "FUNCTION",
                    "function": format!("UserFunctionDescriptor({name}, {:?})", arg_types)
                        .replace('"', "'"),
                } }),
                other => panic!("no python view for {other:?}"),
            },
        ),
        other => panic!("no python view for {other:?}"),
    };
    for (k, v) in extra.as_object().expect("object") {
        fields[k] = v.clone();
    }
    fields["trace_id"] = match frame.tracing_id {
        Some(id) => {
            let h = hex(&id);
            json!(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ))
        }
        None => Value::Null,
    };
    fields["warnings"] = json!(frame.warnings);
    fields["custom_payload"] = match &frame.custom_payload {
        Some(p) => Value::Object(
            p.iter()
                .map(|(k, v)| (k.clone(), json!(v.as_deref().map(hex))))
                .collect(),
        ),
        None => Value::Null,
    };
    (class, fields)
}

#[test]
fn python_reads_our_responses_as_we_meant() {
    for (name, frame) in our_responses() {
        let view = python_view(name);
        let (class, expected) = expected_python_view(&frame);
        assert_eq!(view["class"], class, "{name}");
        for (k, v) in expected.as_object().expect("object") {
            assert_eq!(&view["fields"][k], v, "{name}.{k}");
        }
    }
}
