//! SASL PLAIN for Cassandra's `PasswordAuthenticator` (RFC 4616).
//!
//! The single AUTH_RESPONSE token is `authzid NUL authcid NUL passwd` with an empty authzid, so
//! `\0user\0password`; the server answers AUTH_SUCCESS (or ERROR). RFC 4616 §2: the fields are
//! UTF-8 and "MUST NOT contain NUL": a NUL would let a user name smuggle a different split, so it
//! is rejected when the authenticator is built.

use std::fmt;
use std::sync::Arc;

use crate::error::AuthError;
use crate::sasl::{AuthProvider, BoxFuture, SaslMechanism};
use crate::secret::{Secret, SecretString};

/// User name and password for Cassandra's `PasswordAuthenticator`; an [`AuthProvider`] that
/// starts a [`PlainMechanism`] whatever authenticator class the server names.
#[derive(Clone)]
pub struct PasswordAuthenticator {
    credentials: Arc<(String, SecretString)>,
}

impl fmt::Debug for PasswordAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordAuthenticator")
            .field("username", &self.credentials.0)
            .field("password", &self.credentials.1)
            .finish()
    }
}

impl PasswordAuthenticator {
    /// Checks that neither field contains NUL (RFC 4616 §2).
    pub fn new(
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Result<Self, AuthError> {
        let username = username.into();
        let password = password.into();
        if username.contains('\0') {
            return Err(AuthError::InvalidCredential {
                field: "username",
                reason: "SASL PLAIN forbids NUL characters (RFC 4616 §2)",
            });
        }
        if password.expose().contains('\0') {
            return Err(AuthError::InvalidCredential {
                field: "password",
                reason: "SASL PLAIN forbids NUL characters (RFC 4616 §2)",
            });
        }
        Ok(Self {
            credentials: Arc::new((username, password)),
        })
    }

    /// Like [`Self::new`] from raw bytes, which must be UTF-8 (RFC 4616 §2).
    pub fn from_utf8(username: Vec<u8>, password: Vec<u8>) -> Result<Self, AuthError> {
        let username = String::from_utf8(username).map_err(|_| AuthError::InvalidCredential {
            field: "username",
            reason: "SASL PLAIN requires UTF-8",
        })?;
        let password = match String::from_utf8(password) {
            Ok(p) => SecretString::new(p),
            Err(e) => {
                // Zero the rejected bytes too: they are still the password.
                drop(Secret::new(e.into_bytes()));
                return Err(AuthError::InvalidCredential {
                    field: "password",
                    reason: "SASL PLAIN requires UTF-8",
                });
            }
        };
        Self::new(username, password)
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.credentials.0
    }

    /// A mechanism for one handshake.
    pub fn mechanism(&self) -> PlainMechanism {
        PlainMechanism {
            credentials: Arc::clone(&self.credentials),
        }
    }
}

impl AuthProvider for PasswordAuthenticator {
    fn start<'a>(
        &'a self,
        authenticator_class: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn SaslMechanism>, AuthError>> {
        tracing::debug!(
            authenticator_class,
            username = self.username(),
            "starting SASL PLAIN"
        );
        let mechanism: Box<dyn SaslMechanism> = Box::new(self.mechanism());
        Box::pin(std::future::ready(Ok(mechanism)))
    }
}

/// The SASL PLAIN step object: one initial response, then AUTH_SUCCESS.
#[derive(Debug)]
pub struct PlainMechanism {
    credentials: Arc<(String, SecretString)>,
}

impl SaslMechanism for PlainMechanism {
    fn name(&self) -> &str {
        "PLAIN"
    }

    fn initial_response(&mut self) -> Result<Secret, AuthError> {
        let (user, password) = &*self.credentials;
        // Exact capacity: a reallocation would leave an unzeroed copy of the password behind.
        let mut token = Vec::with_capacity(2 + user.len() + password.expose().len());
        token.push(0);
        token.extend_from_slice(user.as_bytes());
        token.push(0);
        token.extend_from_slice(password.expose().as_bytes());
        Ok(Secret::new(token))
    }

    fn evaluate_challenge(&mut self, _challenge: Option<&[u8]>) -> Result<Secret, AuthError> {
        // PasswordAuthenticator answers the PLAIN token with AUTH_SUCCESS or ERROR; a challenge
        // means a different protocol, and answering it would resend the password.
        Err(AuthError::UnexpectedChallenge {
            mechanism: "PLAIN",
            answered: 0,
        })
    }

    fn on_success(&mut self, _token: Option<&[u8]>) -> Result<(), AuthError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sasl::{Exchange, ExchangeLimits};

    #[test]
    fn initial_response_is_nul_user_nul_password() {
        let p = PasswordAuthenticator::new("cassandra", "pässword").unwrap();
        let (token, s) =
            Exchange::start(Box::new(p.mechanism()), ExchangeLimits::default()).unwrap();
        assert_eq!(token.expose(), "\0cassandra\0pässword".as_bytes());
        s.on_success(None).unwrap();
    }

    #[test]
    fn empty_fields_are_encoded() {
        let mut m = PasswordAuthenticator::new("", "").unwrap().mechanism();
        assert_eq!(m.initial_response().unwrap().expose(), b"\0\0");
    }

    #[test]
    fn nul_in_username_or_password_is_rejected() {
        let e = PasswordAuthenticator::new("a\0b", "pw").unwrap_err();
        assert!(matches!(
            e,
            AuthError::InvalidCredential {
                field: "username",
                ..
            }
        ));
        let e = PasswordAuthenticator::new("a", "p\0w").unwrap_err();
        assert!(matches!(
            e,
            AuthError::InvalidCredential {
                field: "password",
                ..
            }
        ));
        assert!(e.to_string().contains("NUL"), "{e}");
    }

    #[test]
    fn non_utf8_is_rejected() {
        let e = PasswordAuthenticator::from_utf8(vec![0xff], b"pw".to_vec()).unwrap_err();
        assert!(e.to_string().contains("username"), "{e}");
        let e = PasswordAuthenticator::from_utf8(b"u".to_vec(), vec![0xc3]).unwrap_err();
        assert!(e.to_string().contains("password"), "{e}");
        let ok = PasswordAuthenticator::from_utf8(b"u".to_vec(), b"p".to_vec()).unwrap();
        assert_eq!(ok.username(), "u");
    }

    #[test]
    fn challenge_is_refused_without_resending_password() {
        let p = PasswordAuthenticator::new("u", "secretpw").unwrap();
        let (_, s) = Exchange::start(Box::new(p.mechanism()), ExchangeLimits::default()).unwrap();
        let e = s.on_challenge(Some(b"PLAIN-START")).unwrap_err();
        assert!(matches!(e, AuthError::UnexpectedChallenge { .. }), "{e}");
        assert!(!e.to_string().contains("secretpw"));
    }

    #[test]
    fn debug_hides_password() {
        let p = PasswordAuthenticator::new("u", "secretpw").unwrap();
        let d = format!("{p:?} {:?}", p.mechanism());
        assert!(!d.contains("secretpw"), "{d}");
        assert!(d.contains("***"), "{d}");
    }
}
