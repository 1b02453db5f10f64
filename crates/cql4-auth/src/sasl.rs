//! The SASL exchange of the native protocol, as synchronous step objects.
//!
//! native_protocol_v4.spec §4.2.3 (AUTHENTICATE), §4.1.2 (AUTH_RESPONSE), §4.2.7 (AUTH_CHALLENGE),
//! §4.2.8 (AUTH_SUCCESS): after STARTUP the server names its authenticator class in AUTHENTICATE;
//! the client answers with AUTH_RESPONSE, the server either sends AUTH_CHALLENGE (the client
//! answers with another AUTH_RESPONSE) or AUTH_SUCCESS, and any failure is an ERROR frame
//! (code 0x0100, which the connection layer maps itself).
//!
//! ```text
//!   AUTHENTICATE(class)
//!        │  provider.start(class).await   (async: may fetch credentials)
//!        ▼
//!   Exchange::start(mechanism)  ──► AUTH_RESPONSE(initial response)
//!        │
//!        ▼
//!   ┌─ AwaitingServer ◄──────────────────────────────┐
//!   │    │ AUTH_CHALLENGE(token)                      │
//!   │    ├──► on_challenge ──► AUTH_RESPONSE(answer) ─┘   (at most `max_challenges` times,
//!   │    │                                                 then TooManyChallenges)
//!   │    │ AUTH_SUCCESS(token)
//!   │    └──► on_success ──► authenticated
//! ```
//!
//! The states are types: `on_challenge`/`on_success` consume the [`AwaitingServer`], so a
//! response cannot be produced out of order, and nothing here touches a socket or a clock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::error::AuthError;
use crate::secret::Secret;

/// A boxed, `Send` future: the async half of [`AuthProvider`] and
/// [`crate::CredentialsProvider`], without depending on any runtime or on `futures`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One SASL mechanism run over one connection's handshake: a synchronous step object.
///
/// Implement this for your own mechanism; [`Exchange`] drives it and enforces message order and
/// the challenge bound, so implementations need not. Tokens are `None` when the server sent a
/// null `[bytes]` (native_protocol_v4.spec §4.2.7, §4.2.8).
///
/// Implementations must never put a secret into an error or a log line.
pub trait SaslMechanism: Send {
    /// The mechanism's name for errors and logs (`"PLAIN"`, `"SigV4"`).
    fn name(&self) -> &str;

    /// The first AUTH_RESPONSE token, sent right after AUTHENTICATE.
    fn initial_response(&mut self) -> Result<Secret, AuthError>;

    /// The answer to an AUTH_CHALLENGE token.
    fn evaluate_challenge(&mut self, challenge: Option<&[u8]>) -> Result<Secret, AuthError>;

    /// Called with the AUTH_SUCCESS token; an error fails the handshake (e.g. a mechanism that
    /// authenticates the server checks the token here).
    fn on_success(&mut self, token: Option<&[u8]>) -> Result<(), AuthError>;
}

/// Creates a [`SaslMechanism`] for a connection whose server asked for `authenticator_class`
/// (e.g. `org.apache.cassandra.auth.PasswordAuthenticator`).
///
/// This is the only async step: a provider may have to fetch credentials first (from a file, a
/// process or, through an injected [`crate::HttpFetcher`], an HTTP endpoint). One provider is
/// shared by all connections of a client.
pub trait AuthProvider: Send + Sync + fmt::Debug {
    /// A fresh mechanism for one handshake.
    fn start<'a>(
        &'a self,
        authenticator_class: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn SaslMechanism>, AuthError>>;

    /// The server refused the last handshake's credentials: forget cached ones so that the
    /// next [`AuthProvider::start`] resolves them again (a session calls this before its one
    /// retry). Default: nothing cached.
    fn invalidate(&self) {}
}

/// Bounds on one exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExchangeLimits {
    /// How many AUTH_CHALLENGE messages are answered before the exchange fails with
    /// [`AuthError::TooManyChallenges`], so a server that loops forever cannot hang the
    /// handshake. Default 10 (SigV4 needs 1, PLAIN 0).
    pub max_challenges: u32,
}

impl ExchangeLimits {
    /// The default bound on challenges.
    pub const DEFAULT_MAX_CHALLENGES: u32 = 10;

    /// Limits with `max_challenges` answered challenges.
    pub fn with_max_challenges(max_challenges: u32) -> Self {
        Self { max_challenges }
    }
}

impl Default for ExchangeLimits {
    fn default() -> Self {
        Self {
            max_challenges: Self::DEFAULT_MAX_CHALLENGES,
        }
    }
}

/// Entry point of the exchange: runs the mechanism's initial response.
#[derive(Debug)]
#[non_exhaustive]
pub struct Exchange;

impl Exchange {
    /// On AUTHENTICATE: returns the initial AUTH_RESPONSE token and the state that awaits the
    /// server's AUTH_CHALLENGE or AUTH_SUCCESS.
    pub fn start(
        mut mechanism: Box<dyn SaslMechanism>,
        limits: ExchangeLimits,
    ) -> Result<(Secret, AwaitingServer), AuthError> {
        let response = mechanism.initial_response()?;
        tracing::debug!(
            mechanism = mechanism.name(),
            response_len = response.len(),
            "SASL initial response"
        );
        Ok((
            response,
            AwaitingServer {
                mechanism,
                limits,
                answered: 0,
            },
        ))
    }
}

/// A message from the server during the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerMessage<'a> {
    /// AUTH_CHALLENGE with its token (native_protocol_v4.spec §4.2.7).
    Challenge(Option<&'a [u8]>),
    /// AUTH_SUCCESS with its token (native_protocol_v4.spec §4.2.8).
    Success(Option<&'a [u8]>),
}

/// What to do after a server message.
#[derive(Debug)]
pub enum Step {
    /// Send this AUTH_RESPONSE token, then wait for the server again.
    Respond(Secret, AwaitingServer),
    /// The connection is authenticated.
    Authenticated,
}

/// Waiting for the server's AUTH_CHALLENGE or AUTH_SUCCESS.
pub struct AwaitingServer {
    mechanism: Box<dyn SaslMechanism>,
    limits: ExchangeLimits,
    answered: u32,
}

impl fmt::Debug for AwaitingServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwaitingServer")
            .field("mechanism", &self.mechanism.name())
            .field("limits", &self.limits)
            .field("answered", &self.answered)
            .finish()
    }
}

impl AwaitingServer {
    /// How many challenges have been answered so far.
    pub fn answered(&self) -> u32 {
        self.answered
    }

    /// Dispatches a server message to [`Self::on_challenge`] or [`Self::on_success`].
    pub fn handle(self, message: ServerMessage<'_>) -> Result<Step, AuthError> {
        match message {
            ServerMessage::Challenge(token) => {
                let (response, next) = self.on_challenge(token)?;
                Ok(Step::Respond(response, next))
            }
            ServerMessage::Success(token) => {
                self.on_success(token)?;
                Ok(Step::Authenticated)
            }
        }
    }

    /// On AUTH_CHALLENGE: the AUTH_RESPONSE token to send, and the next state.
    pub fn on_challenge(mut self, challenge: Option<&[u8]>) -> Result<(Secret, Self), AuthError> {
        if self.answered >= self.limits.max_challenges {
            tracing::debug!(
                mechanism = self.mechanism.name(),
                limit = self.limits.max_challenges,
                "SASL exchange aborted: too many challenges"
            );
            return Err(AuthError::TooManyChallenges {
                limit: self.limits.max_challenges,
            });
        }
        tracing::trace!(
            mechanism = self.mechanism.name(),
            challenge_len = challenge.map(<[u8]>::len),
            round = self.answered + 1,
            "SASL challenge"
        );
        let response = self.mechanism.evaluate_challenge(challenge)?;
        self.answered += 1;
        Ok((response, self))
    }

    /// On AUTH_SUCCESS: lets the mechanism check the final token.
    pub fn on_success(mut self, token: Option<&[u8]>) -> Result<(), AuthError> {
        self.mechanism.on_success(token)?;
        tracing::debug!(
            mechanism = self.mechanism.name(),
            challenges = self.answered,
            "SASL exchange succeeded"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every challenge with its round number; records the success token.
    struct Echo {
        round: u8,
        success: Option<Vec<u8>>,
    }

    impl SaslMechanism for Echo {
        fn name(&self) -> &str {
            "ECHO"
        }
        fn initial_response(&mut self) -> Result<Secret, AuthError> {
            Ok(Secret::new(b"hello".to_vec()))
        }
        fn evaluate_challenge(&mut self, c: Option<&[u8]>) -> Result<Secret, AuthError> {
            self.round += 1;
            let mut v = c.unwrap_or(b"null").to_vec();
            v.push(self.round);
            Ok(Secret::new(v))
        }
        fn on_success(&mut self, token: Option<&[u8]>) -> Result<(), AuthError> {
            if token == Some(b"bad") {
                return Err(AuthError::InvalidSuccess {
                    mechanism: "ECHO",
                    reason: "bad".into(),
                });
            }
            self.success = token.map(<[u8]>::to_vec);
            Ok(())
        }
    }

    fn echo() -> Box<dyn SaslMechanism> {
        Box::new(Echo {
            round: 0,
            success: None,
        })
    }

    #[test]
    fn challenges_are_answered_in_order_then_success() {
        let (first, s) = Exchange::start(echo(), ExchangeLimits::default()).unwrap();
        assert_eq!(first.expose(), b"hello");
        let (r1, s) = s.on_challenge(Some(b"a")).unwrap();
        assert_eq!(r1.expose(), b"a\x01");
        let step = s.handle(ServerMessage::Challenge(None)).unwrap();
        let Step::Respond(r2, s) = step else {
            panic!("expected a response")
        };
        assert_eq!(r2.expose(), b"null\x02");
        assert_eq!(s.answered(), 2);
        assert!(matches!(
            s.handle(ServerMessage::Success(Some(b"ok"))).unwrap(),
            Step::Authenticated
        ));
    }

    #[test]
    fn endless_challenges_end_in_a_typed_error() {
        let (_, mut s) = Exchange::start(echo(), ExchangeLimits::with_max_challenges(3)).unwrap();
        for _ in 0..3 {
            s = s.on_challenge(Some(b"again")).unwrap().1;
        }
        let err = s.on_challenge(Some(b"again")).unwrap_err();
        assert!(
            matches!(err, AuthError::TooManyChallenges { limit: 3 }),
            "{err}"
        );
    }

    #[test]
    fn default_limit_is_ten() {
        let (_, mut s) = Exchange::start(echo(), ExchangeLimits::default()).unwrap();
        let mut answered = 0;
        loop {
            match s.on_challenge(Some(b"x")) {
                Ok((_, next)) => {
                    answered += 1;
                    s = next;
                }
                Err(AuthError::TooManyChallenges { limit }) => {
                    assert_eq!(limit, 10);
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(answered, 10);
    }

    #[test]
    fn mechanism_rejects_success_token() {
        let (_, s) = Exchange::start(echo(), ExchangeLimits::default()).unwrap();
        assert!(matches!(
            s.on_success(Some(b"bad")),
            Err(AuthError::InvalidSuccess { .. })
        ));
    }
}
