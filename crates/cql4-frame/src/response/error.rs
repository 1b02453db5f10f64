//! ERROR responses (native_protocol_v4.spec §4.2.1) and their codes (§9).

use bytes::Bytes;

use crate::codes::open_code;
use crate::consistency::Consistency;
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use crate::reader::Reader;
use crate::writer::Writer;

open_code! {
    /// An ERROR `<code>` (native_protocol_v4.spec §9). Open: an unknown code keeps its message
    /// and has no details.
    pub struct ErrorCode(i32) {
        /// 0x0000: a server-side bug.
        SERVER_ERROR = 0x0000 => "SERVER_ERROR",
        /// 0x000A: the client violated the protocol (also how a v4 server refuses a version).
        PROTOCOL_ERROR = 0x000A => "PROTOCOL_ERROR",
        /// 0x0100: authentication failed.
        BAD_CREDENTIALS = 0x0100 => "BAD_CREDENTIALS",
        /// 0x1000: not enough replicas alive.
        UNAVAILABLE = 0x1000 => "UNAVAILABLE",
        /// 0x1001: the coordinator is overloaded.
        OVERLOADED = 0x1001 => "OVERLOADED",
        /// 0x1002: the coordinator is bootstrapping.
        IS_BOOTSTRAPPING = 0x1002 => "IS_BOOTSTRAPPING",
        /// 0x1003: a truncation failed.
        TRUNCATE_ERROR = 0x1003 => "TRUNCATE_ERROR",
        /// 0x1100: a write timed out.
        WRITE_TIMEOUT = 0x1100 => "WRITE_TIMEOUT",
        /// 0x1200: a read timed out.
        READ_TIMEOUT = 0x1200 => "READ_TIMEOUT",
        /// 0x1300: a read failed on replicas.
        READ_FAILURE = 0x1300 => "READ_FAILURE",
        /// 0x1400: a user-defined function failed.
        FUNCTION_FAILURE = 0x1400 => "FUNCTION_FAILURE",
        /// 0x1500: a write failed on replicas.
        WRITE_FAILURE = 0x1500 => "WRITE_FAILURE",
        /// 0x2000: the query has a syntax error.
        SYNTAX_ERROR = 0x2000 => "SYNTAX_ERROR",
        /// 0x2100: the user lacks a permission.
        UNAUTHORIZED = 0x2100 => "UNAUTHORIZED",
        /// 0x2200: the query is invalid.
        INVALID = 0x2200 => "INVALID",
        /// 0x2300: a configuration problem.
        CONFIG_ERROR = 0x2300 => "CONFIG_ERROR",
        /// 0x2400: the keyspace or table already exists.
        ALREADY_EXISTS = 0x2400 => "ALREADY_EXISTS",
        /// 0x2500: the prepared id is unknown to this node: re-prepare.
        UNPREPARED = 0x2500 => "UNPREPARED",
    }
}

/// The code-specific content after `<code><message>` (native_protocol_v4.spec §9).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorDetails {
    /// Codes without extra content (and unknown codes).
    None,
    /// 0x1000 Unavailable: `<cl><required><alive>`.
    Unavailable {
        /// The consistency level of the query.
        consistency: Consistency,
        /// Nodes that should be alive to respect it.
        required: i32,
        /// Replicas known alive.
        alive: i32,
    },
    /// 0x1100 Write_timeout: `<cl><received><blockfor><writeType>`.
    WriteTimeout {
        /// The consistency level of the query.
        consistency: Consistency,
        /// Nodes that acknowledged.
        received: i32,
        /// Acknowledgements required.
        block_for: i32,
        /// `SIMPLE`, `BATCH`, `UNLOGGED_BATCH`, `COUNTER`, `BATCH_LOG`, `CAS`, `VIEW`, `CDC`.
        write_type: String,
    },
    /// 0x1200 Read_timeout: `<cl><received><blockfor><data_present>`.
    ReadTimeout {
        /// The consistency level of the query.
        consistency: Consistency,
        /// Nodes that answered.
        received: i32,
        /// Answers required.
        block_for: i32,
        /// Whether the replica asked for data responded (byte != 0).
        data_present: bool,
    },
    /// 0x1300 Read_failure: `<cl><received><blockfor><num_failures><data_present>`.
    ///
    /// v4 carries a failure count; the per-node `<reasonmap>` is protocol v5's (the Python
    /// driver reads it only for v5+).
    ReadFailure {
        /// The consistency level of the query.
        consistency: Consistency,
        /// Nodes that answered.
        received: i32,
        /// Answers required.
        block_for: i32,
        /// Nodes that failed.
        num_failures: i32,
        /// Whether the replica asked for data responded.
        data_present: bool,
    },
    /// 0x1400 Function_failure: `<keyspace><function><arg_types>`.
    FunctionFailure {
        /// The function's keyspace.
        keyspace: String,
        /// The function's name.
        function: String,
        /// One CQL type per argument.
        arg_types: Vec<String>,
    },
    /// 0x1500 Write_failure: `<cl><received><blockfor><num_failures><writeType>`.
    WriteFailure {
        /// The consistency level of the query.
        consistency: Consistency,
        /// Nodes that answered.
        received: i32,
        /// Answers required.
        block_for: i32,
        /// Nodes that failed.
        num_failures: i32,
        /// As for [`ErrorDetails::WriteTimeout`].
        write_type: String,
    },
    /// 0x2400 Already_exists: `<ks><table>` (`table` empty for a keyspace).
    AlreadyExists {
        /// The keyspace (that exists, or holding the table that exists).
        keyspace: String,
        /// The table, or empty.
        table: String,
    },
    /// 0x2500 Unprepared: the unknown `[short bytes]` id.
    Unprepared {
        /// The prepared id the node does not know.
        id: Bytes,
    },
}

/// ERROR (native_protocol_v4.spec §4.2.1): `<code><message>` and the code's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The §9 code.
    pub code: ErrorCode,
    /// The server's message.
    pub message: String,
    /// The code-specific content.
    pub details: ErrorDetails,
}

impl ErrorResponse {
    /// True when this looks like a v4 server refusing the protocol version
    /// (PROTOCOL_ERROR whose message mentions the protocol version, as Cassandra's
    /// "Invalid or unsupported protocol version (4)"). A server that does not speak v4 at all
    /// answers with a frame of another version instead, which [`crate::decode_frame`] reports
    /// as [`DecodeErrorKind::UnsupportedVersion`].
    pub fn is_protocol_version_refusal(&self) -> bool {
        self.code == ErrorCode::PROTOCOL_ERROR
            && self
                .message
                .to_ascii_lowercase()
                .contains("protocol version")
    }

    /// Reads `<code><message>` and the details. A malformed detail body fails with
    /// [`DecodeErrorKind::ErrorBody`], which keeps the code and the message.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let code = ErrorCode(r.i32("ERROR code")?);
        let message = r.string("ERROR message")?.to_owned();
        let details = decode_details(code, r).map_err(|e| {
            let context = e.context();
            let offset = e.offset();
            DecodeError::new(
                DecodeErrorKind::ErrorBody {
                    code: code.0,
                    message: message.clone(),
                    cause: Box::new(e.kind().clone()),
                },
                context,
                offset,
            )
        })?;
        Ok(Self {
            code,
            message,
            details,
        })
    }

    /// Appends `<code><message>` and the details.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.i32(self.code.0);
        w.string(&self.message, "ERROR message")?;
        match &self.details {
            ErrorDetails::None => {}
            ErrorDetails::Unavailable {
                consistency,
                required,
                alive,
            } => {
                w.consistency(*consistency);
                w.i32(*required);
                w.i32(*alive);
            }
            ErrorDetails::WriteTimeout {
                consistency,
                received,
                block_for,
                write_type,
            } => {
                w.consistency(*consistency);
                w.i32(*received);
                w.i32(*block_for);
                w.string(write_type, "ERROR write_timeout.write_type")?;
            }
            ErrorDetails::ReadTimeout {
                consistency,
                received,
                block_for,
                data_present,
            } => {
                w.consistency(*consistency);
                w.i32(*received);
                w.i32(*block_for);
                w.u8(u8::from(*data_present));
            }
            ErrorDetails::ReadFailure {
                consistency,
                received,
                block_for,
                num_failures,
                data_present,
            } => {
                w.consistency(*consistency);
                w.i32(*received);
                w.i32(*block_for);
                w.i32(*num_failures);
                w.u8(u8::from(*data_present));
            }
            ErrorDetails::FunctionFailure {
                keyspace,
                function,
                arg_types,
            } => {
                w.string(keyspace, "ERROR function_failure.keyspace")?;
                w.string(function, "ERROR function_failure.function")?;
                w.string_list(arg_types, "ERROR function_failure.arg_types")?;
            }
            ErrorDetails::WriteFailure {
                consistency,
                received,
                block_for,
                num_failures,
                write_type,
            } => {
                w.consistency(*consistency);
                w.i32(*received);
                w.i32(*block_for);
                w.i32(*num_failures);
                w.string(write_type, "ERROR write_failure.write_type")?;
            }
            ErrorDetails::AlreadyExists { keyspace, table } => {
                w.string(keyspace, "ERROR already_exists.keyspace")?;
                w.string(table, "ERROR already_exists.table")?;
            }
            ErrorDetails::Unprepared { id } => {
                w.short_bytes(id, "ERROR unprepared.id")?;
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:#06x}): {}", self.code, self.code.0, self.message)
    }
}

impl std::error::Error for ErrorResponse {}

fn decode_details(code: ErrorCode, r: &mut Reader<'_>) -> DecodeResult<ErrorDetails> {
    Ok(match code {
        ErrorCode::UNAVAILABLE => ErrorDetails::Unavailable {
            consistency: Consistency(r.u16("ERROR unavailable.cl")?),
            required: r.i32("ERROR unavailable.required")?,
            alive: r.i32("ERROR unavailable.alive")?,
        },
        ErrorCode::WRITE_TIMEOUT => ErrorDetails::WriteTimeout {
            consistency: Consistency(r.u16("ERROR write_timeout.cl")?),
            received: r.i32("ERROR write_timeout.received")?,
            block_for: r.i32("ERROR write_timeout.blockfor")?,
            write_type: r.string("ERROR write_timeout.write_type")?.to_owned(),
        },
        ErrorCode::READ_TIMEOUT => ErrorDetails::ReadTimeout {
            consistency: Consistency(r.u16("ERROR read_timeout.cl")?),
            received: r.i32("ERROR read_timeout.received")?,
            block_for: r.i32("ERROR read_timeout.blockfor")?,
            data_present: r.u8("ERROR read_timeout.data_present")? != 0,
        },
        ErrorCode::READ_FAILURE => ErrorDetails::ReadFailure {
            consistency: Consistency(r.u16("ERROR read_failure.cl")?),
            received: r.i32("ERROR read_failure.received")?,
            block_for: r.i32("ERROR read_failure.blockfor")?,
            num_failures: r.i32("ERROR read_failure.num_failures")?,
            data_present: r.u8("ERROR read_failure.data_present")? != 0,
        },
        ErrorCode::FUNCTION_FAILURE => ErrorDetails::FunctionFailure {
            keyspace: r.string("ERROR function_failure.keyspace")?.to_owned(),
            function: r.string("ERROR function_failure.function")?.to_owned(),
            arg_types: r
                .string_list("ERROR function_failure.arg_types")?
                .into_iter()
                .map(str::to_owned)
                .collect(),
        },
        ErrorCode::WRITE_FAILURE => ErrorDetails::WriteFailure {
            consistency: Consistency(r.u16("ERROR write_failure.cl")?),
            received: r.i32("ERROR write_failure.received")?,
            block_for: r.i32("ERROR write_failure.blockfor")?,
            num_failures: r.i32("ERROR write_failure.num_failures")?,
            write_type: r.string("ERROR write_failure.write_type")?.to_owned(),
        },
        ErrorCode::ALREADY_EXISTS => ErrorDetails::AlreadyExists {
            keyspace: r.string("ERROR already_exists.keyspace")?.to_owned(),
            table: r.string("ERROR already_exists.table")?.to_owned(),
        },
        ErrorCode::UNPREPARED => ErrorDetails::Unprepared {
            id: Bytes::copy_from_slice(r.short_bytes("ERROR unprepared.id")?),
        },
        _ => ErrorDetails::None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_code_keeps_message() {
        let mut body = vec![0, 0, 0x77, 0x77, 0, 2, b'h', b'i', 9, 9];
        let e = ErrorResponse::decode(&mut Reader::new(&body)).unwrap();
        assert_eq!(e.code, ErrorCode(0x7777));
        assert_eq!(e.message, "hi");
        assert_eq!(e.details, ErrorDetails::None);
        assert_eq!(e.to_string(), "ErrorCode(0x7777) (0x7777): hi");
        body.truncate(8);
        let mut again = Vec::new();
        e.encode(&mut Writer::new(&mut again)).unwrap();
        assert_eq!(again, body);
    }

    #[test]
    fn malformed_details_keep_code_and_message() {
        // WRITE_TIMEOUT "t", cl ONE, received 1, then blockfor cut short.
        let body = [0, 0, 0x11, 0, 0, 1, b't', 0, 1, 0, 0, 0, 1, 0, 0];
        let err = ErrorResponse::decode(&mut Reader::new(&body)).unwrap_err();
        assert_eq!(err.context(), "ERROR write_timeout.blockfor");
        assert_eq!(err.offset(), 13);
        match err.kind() {
            DecodeErrorKind::ErrorBody {
                code,
                message,
                cause,
            } => {
                assert_eq!(*code, 0x1100);
                assert_eq!(message, "t");
                assert!(matches!(**cause, DecodeErrorKind::Truncated { .. }));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn version_refusal() {
        let e = ErrorResponse {
            code: ErrorCode::PROTOCOL_ERROR,
            message: "Invalid or unsupported protocol version (4); supported versions are (3/v3)"
                .into(),
            details: ErrorDetails::None,
        };
        assert!(e.is_protocol_version_refusal());
        let other = ErrorResponse {
            message: "Unexpected message QUERY, expecting STARTUP".into(),
            ..e.clone()
        };
        assert!(!other.is_protocol_version_refusal());
        let not_protocol = ErrorResponse {
            code: ErrorCode::SERVER_ERROR,
            ..e
        };
        assert!(!not_protocol.is_protocol_version_refusal());
    }
}
