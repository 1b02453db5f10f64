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
//! for OPTIONS"; §4.2.3: after AUTHENTICATE "the client must ... reply with an AUTH_RESPONSE".

use bytes::Bytes;
use cql4_auth::{AwaitingServer, ServerMessage, Step};
use cql4_frame::compression::Compression;
use cql4_frame::request::{AuthResponse, Request, Startup};

use crate::error::Error;

/// The STARTUP `DRIVER_NAME` (§4.1.1).
pub const DRIVER_NAME: &str = "cql4";
/// The STARTUP `DRIVER_VERSION` (§4.1.1).
pub const DRIVER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The server messages the handshake understands, extracted from a decoded response.
#[derive(Debug, Clone, PartialEq, Eq)]
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
                k.eq_ignore_ascii_case("COMPRESSION") && vs.iter().any(|v| v.eq_ignore_ascii_case(name))
            })
        };
        let compression = match self.wanted.startup_name() {
            Some(name) if offered(name) => self.wanted,
            Some(name) => {
                tracing::info!(compression = name, "server does not offer this compression; using none");
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
        assert!(!startup_options(&startup).iter().any(|(k, _)| k == "COMPRESSION"));
        assert_eq!(ready.compression, Compression::None);
    }

    #[test]
    fn out_of_order_messages_are_protocol_errors() {
        let (_, s) = ExpectSupported::start(Compression::None);
        let e = s.handle(Input::Ready).unwrap_err();
        assert!(e.to_string().contains("SUPPORTED expected, got READY"), "{e}");
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
        assert!(matches!(r.handle(Input::Ready).unwrap(), AfterStartup::Ready));
        let r = ExpectReady {
            compression: Compression::None,
        };
        match r
            .handle(Input::Authenticate("org.apache.cassandra.auth.PasswordAuthenticator".into()))
            .unwrap()
        {
            AfterStartup::Authenticate(c) => assert!(c.ends_with("PasswordAuthenticator")),
            AfterStartup::Ready => panic!("expected AUTHENTICATE"),
        }
    }
}
