//! The connection handshake as explicit states (rustls style: one type per expected message,
//! each `handle(self, msg) -> Result<Next, Error>`), pure: no I/O, the async auth provider is
//! called by the driver between states.
//!
//! ```text
//!  OPTIONS ─▶ ExpectSupported ── SUPPORTED ──▶ STARTUP ─▶ ExpectReady
//!                                                           │ READY ──────────────▶ done
//!                                                           │ AUTHENTICATE(class)
//!                                                           ▼
//!                                   provider.start(class).await, Exchange::start
//!                                                           │ AUTH_RESPONSE(initial)
//!                                                           ▼
//!                                                   ExpectAuthResult ◀─┐
//!                                                     │ AUTH_CHALLENGE ─┘ AUTH_RESPONSE
//!                                                     │ AUTH_SUCCESS ──────▶ done
//!  any state: ERROR ─▶ typed error (0x0100 → AuthRejected; PROTOCOL_ERROR about the version →
//!                     UnsupportedProtocol naming v4)
//! ```
//!
//! native_protocol_v4.spec §4.1.1: STARTUP "must be the first message of the connection, except
//! for OPTIONS that can be sent before to find out the options supported by the server";
//! §4.2.3: "The initial exchange is however bootstrapped by an initial client response ... The
//! exchange ends when the server sends an AUTH_SUCCESS message or an ERROR message."

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use cql4_auth::{AwaitingServer, Exchange, ExchangeLimits, ServerMessage, Step};
use cql4_frame::compression::Compression;
use cql4_frame::framing::decode_frame;
use cql4_frame::request::{AuthResponse, Request, RequestFrame, Startup};
use cql4_frame::response::{ErrorCode, ErrorResponse, Response, ResponseFrame};
use cql4_frame::{DecodeErrorKind, DecodeLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zeroize::Zeroize;

use crate::config::Config;
use crate::driver::BoxIo;
use crate::error::{CloseReason, Error};

/// The STARTUP `DRIVER_NAME` (§4.1.1).
pub const DRIVER_NAME: &str = "cql4";
/// The STARTUP `DRIVER_VERSION` (§4.1.1).
pub const DRIVER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The server messages the handshake understands, extracted from a decoded response.
#[derive(Debug)]
pub(crate) enum Input {
    /// SUPPORTED (§4.2.4): `[string multimap]`.
    Supported(Vec<(String, Vec<String>)>),
    /// READY (§4.2.2).
    Ready,
    /// AUTHENTICATE (§4.2.3): the authenticator class.
    Authenticate(String),
    /// AUTH_CHALLENGE (§4.2.7).
    AuthChallenge(Option<Bytes>),
    /// AUTH_SUCCESS (§4.2.8).
    AuthSuccess(Option<Bytes>),
    /// ERROR (§4.2.1), already mapped to this crate's error.
    Error(Error),
    /// Any other message.
    Other(&'static str),
}

/// Sent OPTIONS; expecting SUPPORTED.
#[derive(Debug)]
pub(crate) struct ExpectSupported {
    pub(crate) wanted: Compression,
}

/// Sent STARTUP; expecting READY or AUTHENTICATE.
#[derive(Debug)]
pub(crate) struct ExpectReady {
    pub(crate) compression: Compression,
}

/// Sent AUTH_RESPONSE; expecting AUTH_CHALLENGE or AUTH_SUCCESS.
#[derive(Debug)]
pub(crate) struct ExpectAuthResult {
    pub(crate) exchange: AwaitingServer,
}

/// What to do after [`ExpectReady`].
#[derive(Debug)]
pub(crate) enum AfterStartup {
    /// READY: the connection is usable.
    Ready,
    /// AUTHENTICATE: create a mechanism for this class, then send its initial response.
    Authenticate(String),
}

/// What to do after [`ExpectAuthResult`].
#[derive(Debug)]
pub(crate) enum AfterAuth {
    /// Send this AUTH_RESPONSE and wait again.
    Respond(Request, ExpectAuthResult),
    /// Authenticated.
    Done,
}

fn unexpected(state: &'static str, input: Input) -> Error {
    match input {
        Input::Error(e) => e,
        other => Error::Protocol(format!(
            "handshake: {state} expected, got {}",
            match other {
                Input::Supported(_) => "SUPPORTED",
                Input::Ready => "READY",
                Input::Authenticate(_) => "AUTHENTICATE",
                Input::AuthChallenge(_) => "AUTH_CHALLENGE",
                Input::AuthSuccess(_) => "AUTH_SUCCESS",
                Input::Other(name) => name,
                Input::Error(_) => "ERROR",
            }
        )),
    }
}

impl ExpectSupported {
    /// The first request and state.
    pub(crate) fn start(wanted: Compression) -> (Request, Self) {
        (Request::Options, Self { wanted })
    }

    /// On SUPPORTED: the STARTUP to send, with compression only if the server offers it.
    pub(crate) fn handle(self, input: Input) -> Result<(Request, ExpectReady), Error> {
        let Input::Supported(options) = input else {
            return Err(unexpected("SUPPORTED", input));
        };
        let offered = |name: &str| {
            options.iter().any(|(k, vs)| {
                k.eq_ignore_ascii_case("COMPRESSION")
                    && vs.iter().any(|v| v.eq_ignore_ascii_case(name))
            })
        };
        let compression = match self.wanted.startup_name() {
            Some(name) if offered(name) => self.wanted,
            Some(name) => {
                tracing::info!(
                    compression = name,
                    "server does not offer this compression; using none"
                );
                Compression::None
            }
            None => Compression::None,
        };
        let mut startup = Startup::new(compression);
        startup
            .options
            .push(("DRIVER_NAME".to_owned(), DRIVER_NAME.to_owned()));
        startup
            .options
            .push(("DRIVER_VERSION".to_owned(), DRIVER_VERSION.to_owned()));
        Ok((Request::Startup(startup), ExpectReady { compression }))
    }
}

impl ExpectReady {
    /// On READY or AUTHENTICATE.
    pub(crate) fn handle(self, input: Input) -> Result<AfterStartup, Error> {
        match input {
            Input::Ready => Ok(AfterStartup::Ready),
            Input::Authenticate(class) => Ok(AfterStartup::Authenticate(class)),
            other => Err(unexpected("READY or AUTHENTICATE", other)),
        }
    }
}

/// The AUTH_RESPONSE carrying `token` (copied out of the zeroizing secret only into the
/// request bytes).
pub(crate) fn auth_response(token: &[u8]) -> Request {
    Request::AuthResponse(AuthResponse {
        token: Some(Bytes::copy_from_slice(token)),
    })
}

impl ExpectAuthResult {
    /// On AUTH_CHALLENGE or AUTH_SUCCESS.
    pub(crate) fn handle(self, input: Input) -> Result<AfterAuth, Error> {
        let message = match &input {
            Input::AuthChallenge(t) => ServerMessage::Challenge(t.as_deref()),
            Input::AuthSuccess(t) => ServerMessage::Success(t.as_deref()),
            _ => return Err(unexpected("AUTH_CHALLENGE or AUTH_SUCCESS", input)),
        };
        match self.exchange.handle(message)? {
            Step::Respond(token, exchange) => Ok(AfterAuth::Respond(
                auth_response(token.expose()),
                Self { exchange },
            )),
            Step::Authenticated => Ok(AfterAuth::Done),
        }
    }
}

/// Maps an ERROR received during the handshake.
fn handshake_error(e: ErrorResponse) -> Error {
    if e.code == ErrorCode::BAD_CREDENTIALS {
        Error::AuthRejected { message: e.message }
    } else if e.is_protocol_version_refusal() {
        Error::UnsupportedProtocol { detail: e.message }
    } else {
        Error::Server(Box::new(e))
    }
}

fn to_input(response: Response) -> Input {
    match response {
        Response::Supported(s) => Input::Supported(s.options),
        Response::Ready => Input::Ready,
        Response::Authenticate(a) => Input::Authenticate(a.authenticator),
        Response::AuthChallenge(c) => Input::AuthChallenge(c.token),
        Response::AuthSuccess(s) => Input::AuthSuccess(s.token),
        Response::Error(e) => Input::Error(handshake_error(e)),
        other => Input::Other(other.opcode().name().unwrap_or("unknown opcode")),
    }
}

/// Writes one request on stream 0 and reads its answer. The handshake is strictly
/// request/response, before any multiplexing.
async fn exchange(
    io: &mut BoxIo,
    buf: &mut BytesMut,
    message: Request,
    compression: Compression,
    limits: &DecodeLimits,
) -> Result<Input, Error> {
    exchange_with(io, buf, message, compression, compression, limits).await
}

/// As [`exchange`], with the request sent with `send` compression and the answer decoded with
/// `receive` (they differ only for STARTUP).
async fn exchange_with(
    io: &mut BoxIo,
    buf: &mut BytesMut,
    message: Request,
    send: Compression,
    receive: Compression,
    limits: &DecodeLimits,
) -> Result<Input, Error> {
    let frame = RequestFrame {
        stream: 0,
        tracing: false,
        custom_payload: None,
        message,
    };
    let mut bytes = Vec::with_capacity(64);
    let encoded = frame.encode(send, &mut bytes);
    // AUTH_RESPONSE carries credentials: wipe the token's copy (the mechanism's own `Secret`
    // zeroes itself) and, after the write, the frame bytes.
    if let Request::AuthResponse(AuthResponse { token: Some(token) }) = frame.message {
        if let Ok(mut token) = token.try_into_mut() {
            token.as_mut().zeroize();
        }
    }
    encoded?;
    let written = io.write_all(&bytes).await;
    bytes.zeroize();
    let io_error = |e: std::io::Error| Error::Closed(Arc::new(CloseReason::Io(e)));
    written.map_err(io_error)?;
    io.flush().await.map_err(io_error)?;
    let raw = loop {
        match decode_frame(buf, limits) {
            Ok(Some(frame)) => break frame,
            Ok(None) => {}
            Err(e) => {
                return Err(match e.kind() {
                    DecodeErrorKind::UnsupportedVersion(v) => Error::UnsupportedProtocol {
                        detail: format!("the server answered with protocol version byte {v:#04x}"),
                    },
                    _ => Error::Decode(e),
                })
            }
        }
        if io.read_buf(buf).await.map_err(io_error)? == 0 {
            return Err(Error::Closed(Arc::new(CloseReason::EndOfStream)));
        }
    };
    if raw.header.stream != 0 {
        return Err(Error::Protocol(format!(
            "handshake answer on stream {} instead of 0",
            raw.header.stream
        )));
    }
    let response = ResponseFrame::decode(raw, receive, limits)?;
    Ok(to_input(response.message))
}

/// Runs the handshake over a fresh stream; returns the negotiated compression. Bytes read past
/// the last handshake frame stay in `buf` for the I/O task.
pub(crate) async fn run(
    io: &mut BoxIo,
    buf: &mut BytesMut,
    config: &Config,
) -> Result<Compression, Error> {
    let limits = &config.limits;
    let (options, state) = ExpectSupported::start(config.compression);
    let input = exchange(io, buf, options, Compression::None, limits).await?;
    let (startup, state) = state.handle(input)?;
    let compression = state.compression;
    // §5: "a STARTUP message must never be compressed. However, once the STARTUP frame has
    // been received by the server, messages can be compressed (including the response to the
    // STARTUP request)."
    let input = exchange_with(io, buf, startup, Compression::None, compression, limits).await?;
    let class = match state.handle(input)? {
        AfterStartup::Ready => return Ok(compression),
        AfterStartup::Authenticate(class) => class,
    };
    let provider = config.auth.as_ref().ok_or_else(|| Error::AuthRequired {
        authenticator: class.clone(),
    })?;
    let mechanism = provider.start(&class).await?;
    let (initial, exchange_state) = Exchange::start(
        mechanism,
        ExchangeLimits::with_max_challenges(config.max_auth_challenges),
    )?;
    let mut request = auth_response(initial.expose());
    drop(initial);
    let mut state = ExpectAuthResult {
        exchange: exchange_state,
    };
    loop {
        let input = exchange(io, buf, request, compression, limits).await?;
        match state.handle(input)? {
            AfterAuth::Respond(next_request, next) => {
                request = next_request;
                state = next;
            }
            AfterAuth::Done => return Ok(compression),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supported(compression: &[&str]) -> Input {
        Input::Supported(vec![
            ("CQL_VERSION".into(), vec!["3.4.7".into()]),
            (
                "COMPRESSION".into(),
                compression.iter().map(|s| (*s).to_owned()).collect(),
            ),
        ])
    }

    fn startup_options(r: &Request) -> Vec<(String, String)> {
        match r {
            Request::Startup(s) => s.options.clone(),
            other => panic!("expected STARTUP, got {other:?}"),
        }
    }

    #[test]
    fn startup_names_the_driver_and_cql_version() {
        let (first, s) = ExpectSupported::start(Compression::None);
        assert_eq!(first, Request::Options);
        let (startup, ready) = s.handle(supported(&["lz4"])).unwrap();
        let opts = startup_options(&startup);
        assert!(opts.contains(&("CQL_VERSION".into(), "3.0.0".into())));
        assert!(opts.contains(&("DRIVER_NAME".into(), "cql4".into())));
        assert!(opts.iter().any(|(k, _)| k == "DRIVER_VERSION"));
        assert!(!opts.iter().any(|(k, _)| k == "COMPRESSION"));
        assert_eq!(ready.compression, Compression::None);
    }

    #[test]
    fn compression_only_when_offered() {
        let (_, s) = ExpectSupported::start(Compression::Lz4);
        let (startup, ready) = s.handle(supported(&["snappy", "lz4"])).unwrap();
        assert!(startup_options(&startup).contains(&("COMPRESSION".into(), "lz4".into())));
        assert_eq!(ready.compression, Compression::Lz4);

        let (_, s) = ExpectSupported::start(Compression::Lz4);
        let (startup, ready) = s.handle(supported(&["snappy"])).unwrap();
        assert!(!startup_options(&startup)
            .iter()
            .any(|(k, _)| k == "COMPRESSION"));
        assert_eq!(ready.compression, Compression::None);
    }

    #[test]
    fn out_of_order_messages_are_protocol_errors() {
        let (_, s) = ExpectSupported::start(Compression::None);
        let e = s.handle(Input::Ready).unwrap_err();
        assert!(
            e.to_string().contains("SUPPORTED expected, got READY"),
            "{e}"
        );
        let e = ExpectReady {
            compression: Compression::None,
        }
        .handle(Input::AuthSuccess(None))
        .unwrap_err();
        assert!(matches!(e, Error::Protocol(_)), "{e}");
    }

    #[test]
    fn server_error_passes_through_typed() {
        let e = ExpectReady {
            compression: Compression::None,
        }
        .handle(Input::Error(Error::AuthRejected {
            message: "bad".into(),
        }))
        .unwrap_err();
        assert!(matches!(e, Error::AuthRejected { .. }));
    }

    #[test]
    fn ready_or_authenticate() {
        let r = ExpectReady {
            compression: Compression::None,
        };
        assert!(matches!(
            r.handle(Input::Ready).unwrap(),
            AfterStartup::Ready
        ));
        let r = ExpectReady {
            compression: Compression::None,
        };
        match r
            .handle(Input::Authenticate(
                "org.apache.cassandra.auth.PasswordAuthenticator".into(),
            ))
            .unwrap()
        {
            AfterStartup::Authenticate(c) => assert!(c.ends_with("PasswordAuthenticator")),
            AfterStartup::Ready => panic!("expected AUTHENTICATE"),
        }
    }

    // ---- the async runner against a scripted in-memory server ----

    use cql4_frame::request::RequestFrame as Req;
    use cql4_frame::response::{AuthChallenge, AuthSuccess, Authenticate, ErrorDetails, Supported};
    use cql4_frame::Opcode;
    use tokio::io::DuplexStream;

    struct Server {
        io: DuplexStream,
        buf: BytesMut,
    }

    impl Server {
        async fn read(&mut self) -> Req {
            loop {
                if let Some(f) = decode_frame(&mut self.buf, &DecodeLimits::default()).unwrap() {
                    return Req::decode(f, Compression::None, &DecodeLimits::default()).unwrap();
                }
                assert!(
                    self.io.read_buf(&mut self.buf).await.unwrap() > 0,
                    "client closed"
                );
            }
        }

        async fn send(&mut self, message: Response) {
            let mut out = Vec::new();
            ResponseFrame::new(0, message)
                .encode(Compression::None, &mut out)
                .unwrap();
            self.io.write_all(&out).await.unwrap();
        }

        async fn raw(&mut self, bytes: &[u8]) {
            self.io.write_all(bytes).await.unwrap();
        }
    }

    fn scripted(auth: Option<Arc<dyn cql4_auth::AuthProvider>>) -> (BoxIo, Server, Config) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let mut config = Config::new("node.test", 9142);
        config.auth = auth;
        config.max_auth_challenges = 3;
        (
            Box::new(client),
            Server {
                io: server,
                buf: BytesMut::new(),
            },
            config,
        )
    }

    /// Runs the client side of the handshake on its own task.
    fn spawn_run(
        mut io: BoxIo,
        config: Config,
    ) -> tokio::task::JoinHandle<Result<Compression, Error>> {
        tokio::spawn(async move {
            let mut buf = BytesMut::new();
            run(&mut io, &mut buf, &config).await
        })
    }

    fn password() -> Option<Arc<dyn cql4_auth::AuthProvider>> {
        Some(Arc::new(
            cql4_auth::PasswordAuthenticator::new("user", "pw").unwrap(),
        ))
    }

    const PASSWORD_CLASS: &str = "org.apache.cassandra.auth.PasswordAuthenticator";

    async fn until_authenticate(server: &mut Server) {
        assert_eq!(server.read().await.message, Request::Options);
        server
            .send(Response::Supported(Supported {
                options: vec![("CQL_VERSION".into(), vec!["3.4.7".into()])],
            }))
            .await;
        let startup = server.read().await;
        assert_eq!(startup.message.opcode(), Opcode::STARTUP);
        server
            .send(Response::Authenticate(Authenticate {
                authenticator: PASSWORD_CLASS.into(),
            }))
            .await;
    }

    #[tokio::test]
    async fn password_handshake_sends_the_plain_token() {
        let (io, mut server, config) = scripted(password());
        let client = spawn_run(io, config);
        until_authenticate(&mut server).await;
        match server.read().await.message {
            Request::AuthResponse(r) => assert_eq!(r.token.as_deref(), Some(&b"\0user\0pw"[..])),
            other => panic!("expected AUTH_RESPONSE, got {other:?}"),
        }
        server
            .send(Response::AuthSuccess(AuthSuccess { token: None }))
            .await;
        assert_eq!(client.await.unwrap().unwrap(), Compression::None);
    }

    #[tokio::test]
    async fn bad_credentials_carry_the_servers_message() {
        let (io, mut server, config) = scripted(password());
        let client = spawn_run(io, config);
        until_authenticate(&mut server).await;
        server.read().await;
        server
            .send(Response::Error(ErrorResponse {
                code: ErrorCode::BAD_CREDENTIALS,
                message: "Provided username user and/or password are incorrect".into(),
                details: ErrorDetails::None,
            }))
            .await;
        let e = client.await.unwrap().unwrap_err();
        assert!(
            matches!(&e, Error::AuthRejected { message } if message.contains("incorrect")),
            "{e:?}"
        );
        assert!(!format!("{e:?}").contains("pw\""), "{e:?}");
    }

    #[tokio::test]
    async fn endless_challenges_fail_the_handshake() {
        let (io, mut server, config) = scripted(password());
        let client = spawn_run(io, config);
        until_authenticate(&mut server).await;
        server.read().await;
        // PLAIN takes no challenge: the exchange refuses instead of resending the password.
        server
            .send(Response::AuthChallenge(AuthChallenge {
                token: Some(Bytes::from_static(b"more?")),
            }))
            .await;
        let e = client.await.unwrap().unwrap_err();
        assert!(matches!(e, Error::Auth(_)), "{e:?}");
    }

    #[tokio::test]
    async fn missing_credentials_name_the_authenticator() {
        let (io, mut server, config) = scripted(None);
        let client = spawn_run(io, config);
        until_authenticate(&mut server).await;
        let e = client.await.unwrap().unwrap_err();
        assert!(
            matches!(&e, Error::AuthRequired { authenticator } if authenticator == PASSWORD_CLASS),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn server_answering_with_another_version_is_refused_naming_v4() {
        let (io, mut server, config) = scripted(None);
        let client = spawn_run(io, config);
        server.read().await;
        // A v3 ERROR frame header (0x83) as an old server would answer.
        server.raw(&[0x83, 0, 0, 0, 0x00, 0, 0, 0, 0]).await;
        let e = client.await.unwrap().unwrap_err();
        assert!(matches!(e, Error::UnsupportedProtocol { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("v4") && text.contains("0x83"), "{text}");
    }

    #[tokio::test]
    async fn protocol_error_about_the_version_is_refused_naming_v4() {
        let (io, mut server, config) = scripted(None);
        let client = spawn_run(io, config);
        server.read().await;
        server
            .send(Response::Error(ErrorResponse {
                code: ErrorCode::PROTOCOL_ERROR,
                message:
                    "Invalid or unsupported protocol version (4); supported versions are (3/v3)"
                        .into(),
                details: ErrorDetails::None,
            }))
            .await;
        let e = client.await.unwrap().unwrap_err();
        assert!(matches!(e, Error::UnsupportedProtocol { .. }), "{e:?}");
        assert!(e.to_string().contains("v4"), "{e}");
    }

    #[tokio::test]
    async fn ready_without_authentication() {
        let (io, mut server, config) = scripted(None);
        let client = spawn_run(io, config);
        server.read().await;
        server
            .send(Response::Supported(Supported { options: vec![] }))
            .await;
        server.read().await;
        server.send(Response::Ready).await;
        assert_eq!(client.await.unwrap().unwrap(), Compression::None);
    }

    /// Regression (found against Cassandra 5): the answer to a STARTUP that negotiated LZ4 is
    /// already compressed, though STARTUP itself is not.
    #[tokio::test]
    async fn answer_to_startup_is_decoded_with_the_negotiated_compression() {
        let (io, mut server, mut config) = scripted(password());
        config.compression = Compression::Lz4;
        let client = spawn_run(io, config);
        server.read().await;
        server
            .send(Response::Supported(Supported {
                options: vec![("COMPRESSION".into(), vec!["lz4".into()])],
            }))
            .await;
        let startup = server.read().await;
        let Request::Startup(s) = startup.message else {
            panic!("expected STARTUP")
        };
        assert!(s.options.contains(&("COMPRESSION".into(), "lz4".into())));
        let mut out = Vec::new();
        ResponseFrame::new(
            0,
            Response::Authenticate(Authenticate {
                authenticator: PASSWORD_CLASS.into(),
            }),
        )
        .encode(Compression::Lz4, &mut out)
        .unwrap();
        assert_eq!(out[1] & 0x01, 0x01, "the scripted answer is compressed");
        server.raw(&out).await;
        // The AUTH_RESPONSE comes compressed too.
        let mut frame = loop {
            if let Some(f) = decode_frame(&mut server.buf, &DecodeLimits::default()).unwrap() {
                break f;
            }
            let n = server.io.read_buf(&mut server.buf).await.unwrap();
            assert!(n > 0, "the client gave up: {:?}", client.await.unwrap());
        };
        assert_eq!(frame.header.flags.0 & 0x01, 0x01);
        frame = frame
            .decompress(Compression::Lz4, &DecodeLimits::default())
            .unwrap();
        assert_eq!(frame.header.opcode, Opcode::AUTH_RESPONSE);
        let mut out = Vec::new();
        ResponseFrame::new(0, Response::AuthSuccess(AuthSuccess { token: None }))
            .encode(Compression::Lz4, &mut out)
            .unwrap();
        server.raw(&out).await;
        assert_eq!(client.await.unwrap().unwrap(), Compression::Lz4);
    }
}
