//! Response messages (§4.2) and response frames.

use arbitrary::{Arbitrary, Result, Unstructured};
use cql4_frame::response::{
    AuthChallenge, AuthSuccess, Authenticate, ErrorCode, ErrorDetails, ErrorResponse, Prepared,
    Response, ResponseFrame, ResultResponse, Supported,
};
use cql4_frame::{
    Event, SchemaChange, SchemaChangeTarget, SchemaChangeType, StatusChange, TopologyChange,
};

use super::notations::{bytes, consistency, custom_payload, inet, opt_bytes};
use super::rows::{prepared_metadata, result_metadata};
use super::Messages;

/// A response frame: a [`response`], any stream id, a tracing id, warnings and a custom
/// payload, each present or not.
///
/// With [`Messages::FuzzCorpus`] this is how the `roundtrip_message` fuzz target reads a
/// response (see [`Messages`]).
pub fn response_frame(u: &mut Unstructured<'_>, messages: Messages) -> Result<ResponseFrame> {
    let message = response(u, messages)?;
    let mut frame = ResponseFrame::new(u.arbitrary()?, message);
    frame.tracing_id = u.arbitrary()?;
    frame.warnings = u.arbitrary()?;
    frame.custom_payload = custom_payload(u)?;
    Ok(frame)
}

/// Any response message but Rows (see [`super::rows::page`]): ERROR (every code with
/// details, and codes without), READY, AUTHENTICATE, SUPPORTED, the Void, Set_keyspace,
/// Schema_change and (not with [`Messages::FuzzCorpus`]) Prepared results, every EVENT,
/// AUTH_CHALLENGE and AUTH_SUCCESS.
pub fn response(u: &mut Unstructured<'_>, messages: Messages) -> Result<Response> {
    let last = match messages {
        Messages::FuzzCorpus => 11,
        Messages::Encodable => 12,
    };
    Ok(match u.int_in_range(0..=last)? {
        0 => Response::Error(error(u)?),
        1 => Response::Ready,
        2 => Response::Authenticate(Authenticate {
            authenticator: String::arbitrary(u)?,
        }),
        3 => Response::Supported(Supported {
            options: Vec::<(String, Vec<String>)>::arbitrary(u)?,
        }),
        4 => Response::Result(ResultResponse::Void),
        5 => Response::Result(ResultResponse::SetKeyspace(String::arbitrary(u)?)),
        6 => Response::Result(ResultResponse::SchemaChange(Box::new(schema_change(u)?))),
        7 => Response::Event(Event::SchemaChange(schema_change(u)?)),
        8 => Response::Event(Event::TopologyChange {
            change: *u.choose(&[
                TopologyChange::NewNode,
                TopologyChange::RemovedNode,
                TopologyChange::MovedNode,
            ])?,
            address: inet(u)?,
        }),
        9 => Response::Event(Event::StatusChange {
            change: *u.choose(&[StatusChange::Up, StatusChange::Down])?,
            address: inet(u)?,
        }),
        10 => Response::AuthChallenge(AuthChallenge {
            token: opt_bytes(u)?,
        }),
        11 => Response::AuthSuccess(AuthSuccess {
            token: opt_bytes(u)?,
        }),
        _ => Response::Result(ResultResponse::Prepared(Box::new(prepared(u)?))),
    })
}

/// A PREPARED result: an id, the bind markers, and the result metadata.
pub fn prepared(u: &mut Unstructured<'_>) -> Result<Prepared> {
    Ok(Prepared {
        id: bytes(u)?,
        metadata: prepared_metadata(u)?,
        result_metadata: result_metadata(u)?,
    })
}

/// A schema change (RESULT or EVENT): every change type and target.
pub fn schema_change(u: &mut Unstructured<'_>) -> Result<SchemaChange> {
    let change = *u.choose(&[
        SchemaChangeType::Created,
        SchemaChangeType::Updated,
        SchemaChangeType::Dropped,
    ])?;
    let keyspace = String::arbitrary(u)?;
    let target = match u.int_in_range(0..=4u8)? {
        0 => SchemaChangeTarget::Keyspace { keyspace },
        1 => SchemaChangeTarget::Table {
            keyspace,
            table: String::arbitrary(u)?,
        },
        2 => SchemaChangeTarget::Type {
            keyspace,
            name: String::arbitrary(u)?,
        },
        3 => SchemaChangeTarget::Function {
            keyspace,
            name: String::arbitrary(u)?,
            arg_types: Vec::<String>::arbitrary(u)?,
        },
        _ => SchemaChangeTarget::Aggregate {
            keyspace,
            name: String::arbitrary(u)?,
            arg_types: Vec::<String>::arbitrary(u)?,
        },
    };
    Ok(SchemaChange { change, target })
}

/// The error codes that carry details (§9).
const CODES_WITH_DETAILS: [i32; 8] = [
    0x1000, 0x1100, 0x1200, 0x1300, 0x1400, 0x1500, 0x2400, 0x2500,
];

/// An ERROR: each code with details, with them, or any other code (known or not) without.
pub fn error(u: &mut Unstructured<'_>) -> Result<ErrorResponse> {
    let message = String::arbitrary(u)?;
    let (code, details) = match u.int_in_range(0..=8u8)? {
        0 => (
            ErrorCode::UNAVAILABLE,
            ErrorDetails::Unavailable {
                consistency: consistency(u)?,
                required: u.arbitrary()?,
                alive: u.arbitrary()?,
            },
        ),
        1 => (
            ErrorCode::WRITE_TIMEOUT,
            ErrorDetails::WriteTimeout {
                consistency: consistency(u)?,
                received: u.arbitrary()?,
                block_for: u.arbitrary()?,
                write_type: String::arbitrary(u)?,
            },
        ),
        2 => (
            ErrorCode::READ_TIMEOUT,
            ErrorDetails::ReadTimeout {
                consistency: consistency(u)?,
                received: u.arbitrary()?,
                block_for: u.arbitrary()?,
                data_present: u.arbitrary()?,
            },
        ),
        3 => (
            ErrorCode::READ_FAILURE,
            ErrorDetails::ReadFailure {
                consistency: consistency(u)?,
                received: u.arbitrary()?,
                block_for: u.arbitrary()?,
                num_failures: u.arbitrary()?,
                data_present: u.arbitrary()?,
            },
        ),
        4 => (
            ErrorCode::FUNCTION_FAILURE,
            ErrorDetails::FunctionFailure {
                keyspace: String::arbitrary(u)?,
                function: String::arbitrary(u)?,
                arg_types: Vec::<String>::arbitrary(u)?,
            },
        ),
        5 => (
            ErrorCode::WRITE_FAILURE,
            ErrorDetails::WriteFailure {
                consistency: consistency(u)?,
                received: u.arbitrary()?,
                block_for: u.arbitrary()?,
                num_failures: u.arbitrary()?,
                write_type: String::arbitrary(u)?,
            },
        ),
        6 => (
            ErrorCode::ALREADY_EXISTS,
            ErrorDetails::AlreadyExists {
                keyspace: String::arbitrary(u)?,
                table: String::arbitrary(u)?,
            },
        ),
        7 => (
            ErrorCode::UNPREPARED,
            ErrorDetails::Unprepared { id: bytes(u)? },
        ),
        _ => {
            let mut code = ErrorCode(u.arbitrary()?);
            if CODES_WITH_DETAILS.contains(&code.0) {
                code = ErrorCode::INVALID;
            }
            (code, ErrorDetails::None)
        }
    };
    Ok(ErrorResponse {
        code,
        message,
        details,
    })
}
