//! The server side of the two SASL exchanges a node accepts, whatever authenticator class it
//! names: PLAIN (checked against the cluster's user and password, if set) and the SigV4 nonce
//! exchange of Keyspaces (any well-formed signed answer is accepted: the signature is not
//! checked, the point is that the client picks its mechanism against that class name).
//!
//! ```text
//!   PLAIN:  AUTH_RESPONSE "\0user\0password"  ─► AUTH_SUCCESS | BAD_CREDENTIALS
//!   SigV4:  AUTH_RESPONSE "SigV4\0\0"          ─► AUTH_CHALLENGE "nonce=<32 hex>"
//!           AUTH_RESPONSE "signature=…,access_key=…,amzdate=…[,session_token=…]"
//!                                             ─► AUTH_SUCCESS | BAD_CREDENTIALS
//! ```

use cql4_auth::sigv4::{INITIAL_RESPONSE, NONCE_LEN};

/// The authenticator class of Amazon Keyspaces (KEYSPACES.md "SigV4").
pub const HELENUS_AUTHENTICATOR: &str = "com.amazon.helenus.auth.HelenusAuthenticator";

/// A login a node accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Login {
    /// SASL PLAIN, as this user.
    Plain {
        /// The user name.
        username: String,
    },
    /// SigV4, with this access key id.
    SigV4 {
        /// The access key id of the signed answer.
        access_key: String,
    },
}

/// Where a connection's exchange stands.
#[derive(Debug)]
pub(crate) enum Exchange {
    /// AUTHENTICATE sent; the first AUTH_RESPONSE picks the mechanism.
    Started,
    /// SigV4: the nonce was sent.
    NonceSent,
}

/// What to answer an AUTH_RESPONSE with.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Challenge(Vec<u8>),
    Success(Login),
    Refused(String),
}

/// Answers `token` in state `exchange`; `password` is the expected `(user, password)` of PLAIN
/// (`None`: any), `nonce_seed` makes each connection's nonce differ.
pub(crate) fn answer(
    exchange: &mut Exchange,
    token: &[u8],
    password: Option<&(String, String)>,
    nonce_seed: u64,
) -> Verdict {
    match exchange {
        Exchange::Started if token == INITIAL_RESPONSE => {
            *exchange = Exchange::NonceSent;
            let nonce = format!("{:0width$x}", nonce_seed, width = NONCE_LEN);
            Verdict::Challenge(format!("nonce={nonce}").into_bytes())
        }
        Exchange::Started => plain(token, password),
        Exchange::NonceSent => sigv4(token),
    }
}

fn plain(token: &[u8], expected: Option<&(String, String)>) -> Verdict {
    let mut parts = token.split(|b| *b == 0);
    let (Some(_authzid), Some(user), Some(pass), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Verdict::Refused("Authentication failed: malformed PLAIN token".to_owned());
    };
    let user = String::from_utf8_lossy(user).into_owned();
    match expected {
        Some((u, p)) if u.as_bytes() != user.as_bytes() || p.as_bytes() != pass => {
            // Cassandra's wording; the password is never echoed.
            Verdict::Refused(format!(
                "Provided username {user} and/or password are incorrect"
            ))
        }
        _ => Verdict::Success(Login::Plain { username: user }),
    }
}

/// A well-formed SigV4 answer: a 64-hex-digit signature, an access key, and an `amzdate` of
/// exactly `yyyy-mm-ddThh:mm:ss.mmmZ` (KEYSPACES.md "SigV4": 3 fractional digits).
fn sigv4(token: &[u8]) -> Verdict {
    let refused = |why: &str| Verdict::Refused(format!("Authentication failed: {why}"));
    let Ok(text) = std::str::from_utf8(token) else {
        return refused("SigV4 answer is not UTF-8");
    };
    let field = |name: &str| {
        text.split(',')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    };
    let signature_ok = field("signature").is_some_and(|s| {
        s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if !signature_ok {
        return refused("SigV4 signature missing or not 64 hex digits");
    }
    let Some(access_key) = field("access_key").filter(|k| !k.is_empty()) else {
        return refused("SigV4 access_key missing");
    };
    if !field("amzdate").is_some_and(amz_date_ok) {
        return refused("SigV4 amzdate missing or not yyyy-mm-ddThh:mm:ss.mmmZ");
    }
    Verdict::Success(Login::SigV4 {
        access_key: access_key.to_owned(),
    })
}

fn amz_date_ok(d: &str) -> bool {
    let pattern = b"dddd-dd-ddTdd:dd:dd.dddZ";
    d.len() == pattern.len()
        && d.bytes().zip(pattern.iter()).all(|(c, p)| match p {
            b'd' => c.is_ascii_digit(),
            other => c == *other,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> (String, String) {
        ("cassandra".to_owned(), "secret".to_owned())
    }

    #[test]
    fn plain_checks_user_and_password_when_set() {
        let ok = answer(
            &mut Exchange::Started,
            b"\0cassandra\0secret",
            Some(&creds()),
            0,
        );
        assert_eq!(
            ok,
            Verdict::Success(Login::Plain {
                username: "cassandra".into()
            })
        );
        let bad = answer(
            &mut Exchange::Started,
            b"\0cassandra\0nope",
            Some(&creds()),
            0,
        );
        let Verdict::Refused(m) = bad else {
            panic!("refused")
        };
        assert!(!m.contains("nope"), "{m}");
        let any = answer(&mut Exchange::Started, b"\0u\0p", None, 0);
        assert!(matches!(any, Verdict::Success(_)));
        let junk = answer(&mut Exchange::Started, b"no nul", None, 0);
        assert!(matches!(junk, Verdict::Refused(_)));
    }

    #[test]
    fn sigv4_sends_a_nonce_then_accepts_a_well_formed_answer_only() {
        let mut ex = Exchange::Started;
        let Verdict::Challenge(c) = answer(&mut ex, INITIAL_RESPONSE, None, 7) else {
            panic!("a challenge")
        };
        let nonce = cql4_auth::sigv4::extract_nonce(&c).expect("the client's parser reads it");
        assert_eq!(nonce.len(), NONCE_LEN);
        let sig = "a".repeat(64);
        let good = format!("signature={sig},access_key=AKID,amzdate=2026-01-02T03:04:05.678Z");
        assert_eq!(
            answer(&mut ex, good.as_bytes(), None, 7),
            Verdict::Success(Login::SigV4 {
                access_key: "AKID".into()
            })
        );
        for bad in [
            format!("signature={sig},access_key=AKID,amzdate=2026-01-02T03:04:05Z"),
            format!(
                "signature={},access_key=AKID,amzdate=2026-01-02T03:04:05.678Z",
                &sig[1..]
            ),
            format!("signature={sig},amzdate=2026-01-02T03:04:05.678Z"),
        ] {
            let mut ex = Exchange::NonceSent;
            assert!(
                matches!(
                    answer(&mut ex, bad.as_bytes(), None, 7),
                    Verdict::Refused(_)
                ),
                "{bad}"
            );
        }
    }
}
