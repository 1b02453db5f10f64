//! The connection's error type: one enum, layered over the codec's and the authenticator's.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cql4_auth::AuthError;
use cql4_frame::consistency::Consistency;
use cql4_frame::response::{ErrorCode, ErrorDetails};
use cql4_frame::{DecodeError, EncodeError, ErrorResponse};

use crate::tls::TlsError;

/// Everything that can go wrong between the caller and the server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// No address of the host accepted a TCP connection.
    Connect {
        /// `host:port` as configured.
        addr: String,
        /// The last address's failure.
        source: Arc<std::io::Error>,
    },
    /// The TCP connect, TLS handshake or protocol handshake took longer than the connect
    /// timeout.
    ConnectTimeout {
        /// `host:port` as configured.
        addr: String,
        /// The configured timeout.
        timeout: Duration,
    },
    /// TLS configuration or handshake failure (unknown CA, name mismatch, bad PEM, …).
    Tls(Arc<TlsError>),
    /// The server refused protocol v4.
    UnsupportedProtocol {
        /// What the server said (its error message, or the version byte it answered with).
        detail: String,
    },
    /// The server asked for authentication and no authenticator is configured.
    AuthRequired {
        /// The server's authenticator class.
        authenticator: String,
    },
    /// The client-side authenticator failed (bad credential, unexpected challenge, …).
    Auth(Arc<AuthError>),
    /// The server refused the credentials (ERROR 0x0100 during the handshake).
    AuthRejected {
        /// The server's message, e.g. "Provided username x and/or password are incorrect".
        message: String,
    },
    /// The server answered with an ERROR frame (every §9 code, with its details).
    Server(Box<ErrorResponse>),
    /// The request got no answer within its timeout. Its stream id stays reserved until the
    /// late answer arrives; the connection is still usable.
    Timeout {
        /// The timeout that elapsed.
        timeout: Duration,
    },
    /// A deadline that spans more than one attempt elapsed: the request's
    /// [`crate::QueryOptions::overall_timeout`] (across retries and speculative attempts) or a
    /// page stream's [`crate::QueryOptions::stream_timeout`]. The attempt still in flight, if
    /// any, was abandoned (its stream id stays reserved until its late answer).
    Deadline {
        /// Which deadline.
        scope: DeadlineScope,
        /// Its duration.
        timeout: Duration,
        /// Attempts started before it elapsed (0 for a stream deadline hit between pages).
        attempts: u32,
    },
    /// The connection is closed; every request in flight got this error.
    Closed(Arc<CloseReason>),
    /// The server broke the protocol (unexpected message, unknown stream id, …).
    Protocol(String),
    /// A response could not be decoded.
    Decode(DecodeError),
    /// A request could not be encoded (value too long, type mismatch, …).
    Encode(EncodeError),
    /// Too many requests are already waiting for a stream id (the connection's queue limit).
    Overloaded {
        /// The queue limit.
        queued: usize,
    },
    /// A session found no node to run the request on: every node of its plan has no open
    /// connection (down, or still connecting).
    NoNodeAvailable {
        /// How many nodes the plan held.
        tried: usize,
        /// The last connection failure seen, if any, as text.
        last_error: Option<String>,
    },
    /// The session was closed ([`Error::Closed`] is one connection's end).
    SessionClosed,
    /// Typed rows were asked of a result that is not Rows (`rows_typed`, `first_row`, … of
    /// [`crate::QueryResult`]).
    NotRows {
        /// The result's kind (§4.2.5), e.g. `Void`.
        kind: &'static str,
    },
    /// A typed row accessor found a number of rows it cannot use: none for `first_row`, other
    /// than one for `single_row`.
    RowCount {
        /// What the accessor needs, e.g. `exactly one row`.
        expected: &'static str,
        /// The rows of the page.
        found: usize,
    },
}

/// The deadline an [`Error::Deadline`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadlineScope {
    /// One request across its retries and speculative attempts
    /// ([`crate::QueryOptions::overall_timeout`]).
    Request,
    /// A whole page stream ([`crate::QueryOptions::stream_timeout`]).
    Stream,
}

impl fmt::Display for DeadlineScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Request => "request deadline (overall_timeout)",
            Self::Stream => "page stream deadline (stream_timeout)",
        })
    }
}

/// What kind of failure an [`Error`] is, for retry decisions, metrics and matching without
/// walking the variants and the server's error details. See [`Error::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// UNAVAILABLE: the coordinator knew too few replicas alive; nothing was written.
    Unavailable,
    /// READ_TIMEOUT: replicas did not answer the coordinator in time (also how Amazon
    /// Keyspaces reports read throttling).
    ReadTimeout,
    /// WRITE_TIMEOUT: replicas did not acknowledge in time; the write may have been applied
    /// (also how Amazon Keyspaces reports write throttling).
    WriteTimeout,
    /// READ_FAILURE: replicas answered with a failure.
    ReadFailure,
    /// WRITE_FAILURE: replicas answered with a failure; the write may be partly applied.
    WriteFailure,
    /// OVERLOADED from the server (the coordinator sheds load, or is shutting down).
    Overloaded,
    /// IS_BOOTSTRAPPING: the coordinator is joining the cluster.
    IsBootstrapping,
    /// SERVER_ERROR: a server-side bug or failure.
    ServerError,
    /// UNPREPARED left over after the client prepared again.
    Unprepared,
    /// The server refused the request itself: SYNTAX_ERROR, INVALID, UNAUTHORIZED,
    /// CONFIG_ERROR, ALREADY_EXISTS, FUNCTION_FAILURE, TRUNCATE_ERROR, PROTOCOL_ERROR, an
    /// unknown code.
    RequestRejected,
    /// The connection closed (socket error, server close, heartbeat loss) before the answer.
    ConnectionLost,
    /// No answer within a client-side timeout: the attempt's ([`Error::Timeout`]) or a
    /// deadline ([`Error::Deadline`]).
    ClientTimeout,
    /// The client refused to queue the request (the connection's queue is full).
    ClientOverloaded,
    /// The session had no node with an open connection.
    NoNodeAvailable,
    /// Connecting failed (TCP, TLS, handshake, authentication, connect timeout).
    Connect,
    /// The session was closed.
    SessionClosed,
    /// Everything else: protocol violations, undecodable answers, encoding failures, typed
    /// row accessors.
    Other,
}

impl ErrorKind {
    /// A short stable name, for logs and metric labels (`"write_timeout"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::ReadTimeout => "read_timeout",
            Self::WriteTimeout => "write_timeout",
            Self::ReadFailure => "read_failure",
            Self::WriteFailure => "write_failure",
            Self::Overloaded => "overloaded",
            Self::IsBootstrapping => "is_bootstrapping",
            Self::ServerError => "server_error",
            Self::Unprepared => "unprepared",
            Self::RequestRejected => "request_rejected",
            Self::ConnectionLost => "connection_lost",
            Self::ClientTimeout => "client_timeout",
            Self::ClientOverloaded => "client_overloaded",
            Self::NoNodeAvailable => "no_node_available",
            Self::Connect => "connect",
            Self::SessionClosed => "session_closed",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a connection closed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CloseReason {
    /// The socket failed.
    Io(std::io::Error),
    /// The server closed the connection.
    EndOfStream,
    /// The server broke the protocol; the connection's state is unknown.
    Protocol(String),
    /// A frame could not be split off the stream.
    Decode(DecodeError),
    /// No answer to a heartbeat OPTIONS within the heartbeat timeout: the peer is presumed dead.
    HeartbeatTimeout(Duration),
    /// More requests timed out without an answer than the orphan limit allows.
    TooManyOrphans(usize),
    /// Every [`crate::Client`] was dropped.
    ClientDropped,
    /// The [`crate::Connection`] future was dropped (or never spawned and polled), so nothing
    /// drives the socket.
    ConnectionDropped,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::EndOfStream => f.write_str("the server closed the connection"),
            Self::Protocol(m) => write!(f, "protocol violation: {m}"),
            Self::Decode(e) => write!(f, "undecodable frame: {e}"),
            Self::HeartbeatTimeout(d) => {
                write!(f, "no answer to a heartbeat within {} ms", d.as_millis())
            }
            Self::TooManyOrphans(n) => write!(
                f,
                "{n} requests timed out without an answer (orphan limit exceeded)"
            ),
            Self::ClientDropped => f.write_str("every client handle was dropped"),
            Self::ConnectionDropped => f.write_str(
                "the Connection future was dropped; spawn it (tokio::spawn(connection)) or use Client::connect",
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect { addr, source } => write!(f, "connecting to {addr}: {source}"),
            Self::ConnectTimeout { addr, timeout } => write!(
                f,
                "connecting to {addr}: no connection within {} ms",
                timeout.as_millis()
            ),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::UnsupportedProtocol { detail } => write!(
                f,
                "the server does not accept protocol v4 (this client speaks v4 only): {detail}"
            ),
            Self::AuthRequired { authenticator } => write!(
                f,
                "the server requires authentication ({authenticator}) and no credentials are configured"
            ),
            Self::Auth(e) => write!(f, "authentication: {e}"),
            Self::AuthRejected { message } => {
                write!(f, "authentication refused by the server: {message}")
            }
            Self::Server(e) => write!(
                f,
                "server error {} ({:#06x}): {}",
                e.code.name().unwrap_or("unknown code"),
                e.code.0,
                e.message
            ),
            Self::Timeout { timeout } => {
                write!(f, "request timed out after {} ms", timeout.as_millis())
            }
            Self::Deadline {
                scope,
                timeout,
                attempts,
            } => write!(
                f,
                "{scope} of {} ms elapsed ({attempts} attempts started)",
                timeout.as_millis()
            ),
            Self::Closed(r) => write!(f, "connection closed: {r}"),
            Self::Protocol(m) => write!(f, "protocol violation: {m}"),
            Self::Decode(e) => write!(f, "{e}"),
            Self::Encode(e) => write!(f, "{e}"),
            Self::Overloaded { queued } => write!(
                f,
                "{queued} requests already wait for a stream id on this connection"
            ),
            Self::NoNodeAvailable { tried, last_error } => {
                write!(f, "no node available ({tried} in the plan, none connected)")?;
                match last_error {
                    Some(e) => write!(f, "; last connection error: {e}"),
                    None => Ok(()),
                }
            }
            Self::SessionClosed => f.write_str("the session is closed"),
            Self::NotRows { kind } => write!(f, "expected a Rows result, got {kind}"),
            Self::RowCount { expected, found } => {
                write!(f, "expected {expected}, the result has {found}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect { source, .. } => Some(source.as_ref()),
            Self::Tls(e) => Some(e.as_ref()),
            Self::Auth(e) => Some(e.as_ref()),
            Self::Decode(e) => Some(e),
            Self::Encode(e) => Some(e),
            _ => None,
        }
    }
}

impl Error {
    /// The server's error, if this is one.
    pub fn server_error(&self) -> Option<&ErrorResponse> {
        match self {
            Self::Server(e) => Some(e),
            _ => None,
        }
    }

    /// True for a client-side timeout: an attempt's ([`Error::Timeout`]) or a deadline
    /// ([`Error::Deadline`]).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. } | Self::Deadline { .. })
    }

    /// The kind of failure.
    ///
    /// ```
    /// use cql4_conn::{Error, ErrorKind};
    /// use cql4_frame::response::ErrorDetails;
    ///
    /// fn report(e: &Error) -> String {
    ///     match e.kind() {
    ///         // Amazon Keyspaces throttles with write timeouts: back off and try again.
    ///         ErrorKind::WriteTimeout => match e.server_details() {
    ///             Some(ErrorDetails::WriteTimeout { write_type, received, block_for, .. }) => {
    ///                 format!("{write_type} write: {received} of {block_for} acks")
    ///             }
    ///             _ => "write timeout".to_owned(),
    ///         },
    ///         ErrorKind::Unavailable | ErrorKind::ReadTimeout => {
    ///             format!("not enough replicas at {:?}", e.consistency())
    ///         }
    ///         ErrorKind::ClientTimeout => "no answer in time".to_owned(),
    ///         ErrorKind::ConnectionLost => "connection lost: outcome unknown".to_owned(),
    ///         _ => e.to_string(),
    ///     }
    /// }
    /// # let e = Error::Timeout { timeout: std::time::Duration::from_secs(1) };
    /// # assert_eq!(report(&e), "no answer in time");
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Server(e) => server_kind(e.code),
            Self::Closed(_) => ErrorKind::ConnectionLost,
            Self::Timeout { .. } | Self::Deadline { .. } => ErrorKind::ClientTimeout,
            Self::Overloaded { .. } => ErrorKind::ClientOverloaded,
            Self::NoNodeAvailable { .. } => ErrorKind::NoNodeAvailable,
            Self::SessionClosed => ErrorKind::SessionClosed,
            Self::Connect { .. }
            | Self::ConnectTimeout { .. }
            | Self::Tls(_)
            | Self::UnsupportedProtocol { .. }
            | Self::AuthRequired { .. }
            | Self::Auth(_)
            | Self::AuthRejected { .. } => ErrorKind::Connect,
            Self::Protocol(_)
            | Self::Decode(_)
            | Self::Encode(_)
            | Self::NotRows { .. }
            | Self::RowCount { .. } => ErrorKind::Other,
        }
    }

    /// True when trying the request again may succeed: a transient server condition
    /// (unavailable, read/write timeout, overloaded, bootstrapping, server error), a lost
    /// connection, an attempt timeout, a client-side queue overload or no node available.
    ///
    /// This says nothing about whether a retry is *safe*: after a write timeout, a lost
    /// connection or an attempt timeout the first attempt may have been applied, so only an
    /// idempotent statement should be retried then (the session's retry policies decide
    /// from both). A deadline ([`Error::Deadline`]) is not retryable: its time is spent.
    pub fn is_retryable(&self) -> bool {
        match self.kind() {
            ErrorKind::Unavailable
            | ErrorKind::ReadTimeout
            | ErrorKind::WriteTimeout
            | ErrorKind::Overloaded
            | ErrorKind::IsBootstrapping
            | ErrorKind::ServerError
            | ErrorKind::ConnectionLost
            | ErrorKind::ClientOverloaded
            | ErrorKind::NoNodeAvailable => true,
            ErrorKind::ClientTimeout => matches!(self, Self::Timeout { .. }),
            _ => false,
        }
    }

    /// The server's error code, if the server answered with an ERROR.
    pub fn server_code(&self) -> Option<ErrorCode> {
        self.server_error().map(|e| e.code)
    }

    /// The server's error details (consistency, received/required, `data_present`, write
    /// type, …), if the server answered with an ERROR that has some.
    pub fn server_details(&self) -> Option<&ErrorDetails> {
        self.server_error()
            .map(|e| &e.details)
            .filter(|d| !matches!(d, ErrorDetails::None))
    }

    /// The consistency level an UNAVAILABLE, READ/WRITE_TIMEOUT or READ/WRITE_FAILURE names.
    pub fn consistency(&self) -> Option<Consistency> {
        match self.server_details()? {
            ErrorDetails::Unavailable { consistency, .. }
            | ErrorDetails::WriteTimeout { consistency, .. }
            | ErrorDetails::ReadTimeout { consistency, .. }
            | ErrorDetails::ReadFailure { consistency, .. }
            | ErrorDetails::WriteFailure { consistency, .. } => Some(*consistency),
            _ => None,
        }
    }

    /// The write type of a WRITE_TIMEOUT or WRITE_FAILURE (`SIMPLE`, `BATCH`, `BATCH_LOG`,
    /// `UNLOGGED_BATCH`, `COUNTER`, `CAS`, `VIEW`, `CDC`).
    pub fn write_type(&self) -> Option<&str> {
        match self.server_details()? {
            ErrorDetails::WriteTimeout { write_type, .. }
            | ErrorDetails::WriteFailure { write_type, .. } => Some(write_type),
            _ => None,
        }
    }

    /// True for an OVERLOADED answer of a node that is shutting down (Cassandra answers
    /// requests with "… shutting down" while it drains): another node will serve the request.
    pub fn is_shutting_down(&self) -> bool {
        self.server_error().is_some_and(|e| {
            e.code == ErrorCode::OVERLOADED
                && e.message.to_ascii_lowercase().contains("shutting down")
        })
    }
}

fn server_kind(code: ErrorCode) -> ErrorKind {
    match code {
        ErrorCode::UNAVAILABLE => ErrorKind::Unavailable,
        ErrorCode::READ_TIMEOUT => ErrorKind::ReadTimeout,
        ErrorCode::WRITE_TIMEOUT => ErrorKind::WriteTimeout,
        ErrorCode::READ_FAILURE => ErrorKind::ReadFailure,
        ErrorCode::WRITE_FAILURE => ErrorKind::WriteFailure,
        ErrorCode::OVERLOADED => ErrorKind::Overloaded,
        ErrorCode::IS_BOOTSTRAPPING => ErrorKind::IsBootstrapping,
        ErrorCode::SERVER_ERROR => ErrorKind::ServerError,
        ErrorCode::UNPREPARED => ErrorKind::Unprepared,
        _ => ErrorKind::RequestRejected,
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Self::Encode(e)
    }
}

impl From<TlsError> for Error {
    fn from(e: TlsError) -> Self {
        Self::Tls(Arc::new(e))
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Self::Auth(Arc::new(e))
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: ErrorCode, details: ErrorDetails) -> Error {
        Error::Server(Box::new(ErrorResponse {
            code,
            message: "m".to_owned(),
            details,
        }))
    }

    #[test]
    fn server_errors_are_classified_with_their_details_reachable() {
        let e = server(
            ErrorCode::WRITE_TIMEOUT,
            ErrorDetails::WriteTimeout {
                consistency: Consistency::LOCAL_QUORUM,
                received: 1,
                block_for: 2,
                write_type: "BATCH_LOG".to_owned(),
            },
        );
        assert_eq!(e.kind(), ErrorKind::WriteTimeout);
        assert!(e.is_retryable());
        assert_eq!(e.write_type(), Some("BATCH_LOG"));
        assert_eq!(e.consistency(), Some(Consistency::LOCAL_QUORUM));
        let e = server(
            ErrorCode::READ_TIMEOUT,
            ErrorDetails::ReadTimeout {
                consistency: Consistency::ONE,
                received: 0,
                block_for: 1,
                data_present: false,
            },
        );
        assert_eq!(e.kind(), ErrorKind::ReadTimeout);
        assert_eq!(e.write_type(), None);
        assert!(matches!(
            e.server_details(),
            Some(ErrorDetails::ReadTimeout {
                data_present: false,
                ..
            })
        ));
        for (code, kind, retryable) in [
            (ErrorCode::UNAVAILABLE, ErrorKind::Unavailable, true),
            (ErrorCode::OVERLOADED, ErrorKind::Overloaded, true),
            (
                ErrorCode::IS_BOOTSTRAPPING,
                ErrorKind::IsBootstrapping,
                true,
            ),
            (ErrorCode::SERVER_ERROR, ErrorKind::ServerError, true),
            (ErrorCode::INVALID, ErrorKind::RequestRejected, false),
            (ErrorCode::SYNTAX_ERROR, ErrorKind::RequestRejected, false),
            (ErrorCode(0x7777), ErrorKind::RequestRejected, false),
        ] {
            let e = server(code, ErrorDetails::None);
            assert_eq!(e.kind(), kind, "{code:?}");
            assert_eq!(e.is_retryable(), retryable, "{code:?}");
            assert_eq!(e.server_details(), None);
        }
    }

    #[test]
    fn client_side_errors_are_classified() {
        let t = Duration::from_millis(5);
        let closed = Error::Closed(Arc::new(CloseReason::EndOfStream));
        assert_eq!(closed.kind(), ErrorKind::ConnectionLost);
        assert!(closed.is_retryable());
        let attempt = Error::Timeout { timeout: t };
        assert_eq!(attempt.kind(), ErrorKind::ClientTimeout);
        assert!(attempt.is_retryable());
        let deadline = Error::Deadline {
            scope: DeadlineScope::Request,
            timeout: t,
            attempts: 3,
        };
        assert_eq!(deadline.kind(), ErrorKind::ClientTimeout);
        assert!(deadline.is_timeout());
        assert!(!deadline.is_retryable(), "a spent deadline is final");
        assert!(deadline.to_string().contains("overall_timeout"));
        assert_eq!(
            Error::Overloaded { queued: 1 }.kind(),
            ErrorKind::ClientOverloaded
        );
        assert_eq!(Error::SessionClosed.kind(), ErrorKind::SessionClosed);
        assert!(!Error::SessionClosed.is_retryable());
        assert_eq!(Error::Protocol("x".to_owned()).kind(), ErrorKind::Other);
    }

    #[test]
    fn a_draining_node_is_recognised() {
        let e = Error::Server(Box::new(ErrorResponse {
            code: ErrorCode::OVERLOADED,
            message: "Server is shutting down".to_owned(),
            details: ErrorDetails::None,
        }));
        assert!(e.is_shutting_down());
        assert!(!server(ErrorCode::OVERLOADED, ErrorDetails::None).is_shutting_down());
    }
}
