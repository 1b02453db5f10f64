//! The connection's error type: one enum, layered over the codec's and the authenticator's.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cql4_auth::AuthError;
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
    /// The connection is closed; every request in flight got this error.
    Closed(Arc<CloseReason>),
    /// The server broke the protocol (unexpected message, unknown stream id, …).
    Protocol(String),
    /// A response could not be decoded.
    Decode(DecodeError),
    /// A request could not be encoded (value too long, type mismatch, …).
    Encode(EncodeError),
    /// Client-side overload: [`crate::MuxConfig::max_queued`] requests already wait for a
    /// stream id on this connection and [`crate::Config::on_queue_full`] is
    /// [`crate::OnQueueFull::Fail`]. Nothing was sent. (The server's own OVERLOADED is a
    /// [`Error::Server`].)
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
            Self::Closed(r) => write!(f, "connection closed: {r}"),
            Self::Protocol(m) => write!(f, "protocol violation: {m}"),
            Self::Decode(e) => write!(f, "{e}"),
            Self::Encode(e) => write!(f, "{e}"),
            Self::Overloaded { queued } => write!(
                f,
                "client-side overload: {queued} requests already wait for a stream id on this connection (nothing was sent)"
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

    /// True for a client-side request timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
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
