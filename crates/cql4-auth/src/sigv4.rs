//! AWS SigV4 authentication for Amazon Keyspaces, byte for byte as AWS's Java, Python
//! (`cassandra-sigv4`) and Go plugins do it.
//!
//! ```text
//!   client                                   server (authenticator class from AUTHENTICATE)
//!   AUTH_RESPONSE  "SigV4\0\0"          ──►
//!                                       ◄──  AUTH_CHALLENGE "nonce=<32 chars>[,…]"
//!   AUTH_RESPONSE  "signature=<hex>,access_key=<id>,amzdate=<yyyy-mm-ddThh:mm:ss.mmmZ>
//!                   [,session_token=<token>]"  ──►
//!                                       ◄──  AUTH_SUCCESS
//! ```
//!
//! The signature is an AWS4-HMAC-SHA256 signature of a fixed pseudo-request:
//!
//! ```text
//! PUT
//! /authenticate
//! X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<id>%2F<scope, quote_plus>&X-Amz-Date=<amzdate, quote_plus>&X-Amz-Expires=900
//! host:cassandra
//!
//! host
//! <hex sha256 of the nonce>
//! ```
//!
//! with scope `<yyyymmdd>/<region>/cassandra/aws4_request` and the standard key chain
//! `HMAC("AWS4"+secret, date) → region → "cassandra" → "aws4_request"`. The session token is
//! appended to the response but not signed.
//!
//! Where the plugins differ, this module picks the stricter choice and says so:
//! - Nonce: the plugins search the challenge for `nonce=`; Python then takes the next 32 bytes
//!   (fewer if the challenge ends), Java reads up to the next `,`. Here the value runs from the
//!   first `nonce=` to the next `,` or the end and must be exactly 32 bytes, otherwise the
//!   challenge is rejected with an error that quotes (a bounded part of) it.
//! - Milliseconds of `amzdate`: Java and Go truncate; Python rounds (and can print `.1000Z`
//!   for 999.5 ms and above). Here they are truncated.
//! - The access key id is not URL-encoded in `X-Amz-Credential` (none of the plugins encodes
//!   it); a key id or session token containing `,` is rejected, since the server splits the
//!   response on `,` and such a value would inject a field.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::clock::{Clock, SystemClock};
use crate::credentials::{Credentials, CredentialsProvider};
use crate::error::{
    echo_bytes, AuthError, CredentialSource, CredentialsError, CredentialsErrorKind,
};
use crate::sasl::{AuthProvider, BoxFuture, SaslMechanism};
use crate::secret::{Secret, SecretString};
use crate::time_fmt::{amz_date, date_stamp};

/// The first AUTH_RESPONSE token of the SigV4 exchange.
pub const INITIAL_RESPONSE: &[u8] = b"SigV4\0\0";

/// The challenge key that introduces the nonce.
const NONCE_KEY: &[u8] = b"nonce=";

/// Length of the server's nonce, in bytes (all three plugins use 32).
pub const NONCE_LEN: usize = 32;

/// The SigV4 "service" of Keyspaces, also the value of the signed `host` header.
const SERVICE: &str = "cassandra";

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

const MECHANISM: &str = "SigV4";

/// Extracts the nonce from an AUTH_CHALLENGE token (see the module docs for the rule).
pub fn extract_nonce(challenge: &[u8]) -> Result<&[u8], AuthError> {
    let invalid = |reason: String| AuthError::InvalidChallenge {
        mechanism: MECHANISM,
        reason,
    };
    let start = challenge
        .windows(NONCE_KEY.len())
        .position(|w| w == NONCE_KEY)
        .map(|i| i + NONCE_KEY.len())
        .ok_or_else(|| {
            invalid(format!(
                "no `nonce=` in challenge \"{}\"",
                echo_bytes(challenge)
            ))
        })?;
    let rest = challenge.get(start..).unwrap_or_default();
    let nonce = rest.split(|b| *b == b',').next().unwrap_or_default();
    if nonce.len() != NONCE_LEN {
        return Err(invalid(format!(
            "nonce must be {NONCE_LEN} characters, got {} in challenge \"{}\"",
            nonce.len(),
            echo_bytes(challenge)
        )));
    }
    Ok(nonce)
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Zeroizing<[u8; 32]> {
    // HMAC takes keys of any length (RFC 2104 §3 hashes longer ones), so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(message);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// The SigV4 signing key for `date_stamp` (`yyyymmdd`) and `region`, service `cassandra`.
pub fn signing_key(secret_access_key: &SecretString, date_stamp: &str, region: &str) -> Secret {
    let secret = secret_access_key.expose().as_bytes();
    let mut k_secret = Zeroizing::new(Vec::with_capacity(4 + secret.len()));
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret);
    let k_date = hmac_sha256(&k_secret, date_stamp.as_bytes());
    let k_region = hmac_sha256(&*k_date, region.as_bytes());
    let k_service = hmac_sha256(&*k_region, SERVICE.as_bytes());
    let k_signing = hmac_sha256(&*k_service, b"aws4_request");
    Secret::new(k_signing.to_vec())
}

/// Python's `urllib.parse.quote_plus` with its default `safe=''`: the plugins encode the scope
/// and the date with it, so the same bytes must come out.
fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

fn scope(date_stamp: &str, region: &str) -> String {
    format!("{date_stamp}/{region}/{SERVICE}/aws4_request")
}

fn canonical_request(access_key_id: &str, scope: &str, amz_date: &str, nonce: &[u8]) -> String {
    let mut query = [
        format!("X-Amz-Algorithm={ALGORITHM}"),
        format!("X-Amz-Credential={access_key_id}%2F{}", quote_plus(scope)),
        format!("X-Amz-Date={}", quote_plus(amz_date)),
        "X-Amz-Expires=900".to_owned(),
    ];
    // The plugins sort the parameters as strings (they are already in order for ordinary key
    // ids, but a key id is free text, so sort as they do).
    query.sort();
    format!(
        "PUT\n/authenticate\n{}\nhost:{SERVICE}\n\nhost\n{}",
        query.join("&"),
        hex::encode(Sha256::digest(nonce))
    )
}

fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The hex signature for `nonce` at `time`.
fn signature(
    credentials: &Credentials,
    region: &str,
    nonce: &[u8],
    time: OffsetDateTime,
) -> String {
    let date = date_stamp(time);
    let amz = amz_date(time);
    let scope = scope(&date, region);
    let canonical = canonical_request(credentials.access_key_id(), &scope, &amz, nonce);
    let to_sign = string_to_sign(&amz, &scope, &canonical);
    let key = signing_key(credentials.secret_access_key(), &date, region);
    hex::encode(*hmac_sha256(key.expose(), to_sign.as_bytes()))
}

fn check_field(value: &str, field: &'static str) -> Result<(), AuthError> {
    if value.contains(',') {
        return Err(AuthError::InvalidCredential {
            field,
            reason: "contains `,`, which would split the SigV4 response into extra fields",
        });
    }
    Ok(())
}

/// The AUTH_RESPONSE token answering `nonce` at `time`:
/// `signature=<hex>,access_key=<id>,amzdate=<date>[,session_token=<token>]`.
pub fn response(
    credentials: &Credentials,
    region: &str,
    nonce: &[u8],
    time: OffsetDateTime,
) -> Result<Secret, AuthError> {
    check_field(credentials.access_key_id(), "access key id")?;
    if let Some(t) = credentials.session_token() {
        check_field(t.expose(), "session token")?;
    }
    let signature = signature(credentials, region, nonce, time);
    let amz = amz_date(time);
    let token = credentials.session_token().map(SecretString::expose);
    let mut out = Zeroizing::new(String::with_capacity(
        64 + 64 + credentials.access_key_id().len() + amz.len() + token.map_or(0, str::len),
    ));
    out.push_str("signature=");
    out.push_str(&signature);
    out.push_str(",access_key=");
    out.push_str(credentials.access_key_id());
    out.push_str(",amzdate=");
    out.push_str(&amz);
    if let Some(token) = token {
        out.push_str(",session_token=");
        out.push_str(token);
    }
    Ok(Secret::new(out.as_bytes().to_vec()))
}

/// The SigV4 step object for one handshake: credentials already loaded, clock injected.
pub struct SigV4Mechanism {
    credentials: Credentials,
    region: String,
    clock: Arc<dyn Clock>,
    answered: u32,
}

impl fmt::Debug for SigV4Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Mechanism")
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .field("answered", &self.answered)
            .finish_non_exhaustive()
    }
}

impl SigV4Mechanism {
    /// A mechanism that signs with `credentials` for `region` at `clock`'s time.
    pub fn new(credentials: Credentials, region: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            credentials,
            region: region.into(),
            clock,
            answered: 0,
        }
    }
}

impl SaslMechanism for SigV4Mechanism {
    fn name(&self) -> &str {
        MECHANISM
    }

    fn initial_response(&mut self) -> Result<Secret, AuthError> {
        Ok(Secret::new(INITIAL_RESPONSE.to_vec()))
    }

    fn evaluate_challenge(&mut self, challenge: Option<&[u8]>) -> Result<Secret, AuthError> {
        // Keyspaces sends exactly one challenge; a second one would be answered with a second
        // signature for no reason.
        if self.answered > 0 {
            return Err(AuthError::UnexpectedChallenge {
                mechanism: MECHANISM,
                answered: self.answered,
            });
        }
        let challenge = challenge.ok_or_else(|| AuthError::InvalidChallenge {
            mechanism: MECHANISM,
            reason: "null token".to_owned(),
        })?;
        let nonce = extract_nonce(challenge)?;
        let now = self.clock.now();
        let token = response(&self.credentials, &self.region, nonce, now)?;
        self.answered += 1;
        tracing::debug!(
            access_key_id = self.credentials.access_key_id(),
            region = %self.region,
            amzdate = %amz_date(now),
            session_token = self.credentials.session_token().is_some(),
            "SigV4 challenge signed"
        );
        Ok(token)
    }

    fn on_success(&mut self, _token: Option<&[u8]>) -> Result<(), AuthError> {
        Ok(())
    }
}

/// [`AuthProvider`] for Amazon Keyspaces: loads credentials (async) for each handshake, then
/// runs a [`SigV4Mechanism`]. Share one per client; wrap the credentials provider in a
/// [`crate::CachingProvider`] (as [`crate::DefaultChain::build`] does) to avoid reloading.
#[derive(Clone, Debug)]
pub struct SigV4AuthProvider {
    credentials: Arc<dyn CredentialsProvider>,
    region: String,
    clock: Arc<dyn Clock>,
}

impl SigV4AuthProvider {
    /// Signs for `region` with credentials from `credentials`, at the system clock's time.
    pub fn new(credentials: Arc<dyn CredentialsProvider>, region: impl Into<String>) -> Self {
        Self {
            credentials,
            region: region.into(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses `clock` for `amzdate` and the expiry check.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The region signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    #[cfg(test)]
    pub(crate) fn credentials_for_test(
        &self,
    ) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        self.credentials.provide_credentials()
    }

    async fn mechanism(&self, class: &str) -> Result<Box<dyn SaslMechanism>, AuthError> {
        tracing::debug!(authenticator_class = class, region = %self.region, "starting SigV4");
        let credentials = self.credentials.provide_credentials().await?;
        if let Some(at) = credentials.expiry().filter(|e| *e <= self.clock.now()) {
            return Err(CredentialsError::new(
                CredentialSource::Custom("SigV4 credentials provider".to_owned()),
                CredentialsErrorKind::Expired(at),
            )
            .into());
        }
        Ok(Box::new(SigV4Mechanism::new(
            credentials,
            self.region.clone(),
            Arc::clone(&self.clock),
        )))
    }
}

impl AuthProvider for SigV4AuthProvider {
    fn start<'a>(
        &'a self,
        authenticator_class: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn SaslMechanism>, AuthError>> {
        Box::pin(self.mechanism(authenticator_class))
    }

    fn invalidate(&self) {
        self.credentials.invalidate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::credentials::now_or_never;
    use crate::sasl::{Exchange, ExchangeLimits};
    use time::macros::datetime;

    // The cross-plugin vector (PEERS.md "SigV4 reference"; it is the test vector of AWS's Java,
    // Python and Go plugins).
    const NONCE: &[u8] = b"91703fdc2ef562e19fbdab0f58e42fe5";
    const REGION: &str = "us-west-2";
    const KEY: &str = "UserID-1";
    const SECRET: &str = "UserSecretKey-1";
    const TIME: OffsetDateTime = datetime!(2020-06-09 22:41:51 UTC);
    const SIGNING_KEY: &str = "7fb139473f153aec1b05747b0cd5cd77a1186d22ae895a3a0128e699d72e1aba";
    const NONCE_HASH: &str = "ddf250111597b3f35e51e649f59e3f8b30ff5b247166d709dc1b1e60bd927070";
    const SIGNATURE: &str = "7f3691c18a81b8ce7457699effbfae5b09b4e0714ab38c1292dbdf082c9ddd87";

    fn creds(token: Option<&str>) -> Credentials {
        Credentials::new(KEY, SECRET, token.map(SecretString::from), None)
    }

    #[test]
    fn cross_plugin_vector_signing_key() {
        let k = signing_key(&SecretString::from(SECRET), "20200609", REGION);
        assert_eq!(hex::encode(k.expose()), SIGNING_KEY);
    }

    #[test]
    fn cross_plugin_vector_canonical_request_and_signature() {
        let scope = scope("20200609", REGION);
        assert_eq!(scope, "20200609/us-west-2/cassandra/aws4_request");
        let canonical = canonical_request(KEY, &scope, "2020-06-09T22:41:51.000Z", NONCE);
        assert_eq!(
            canonical,
            format!(
                "PUT\n/authenticate\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=UserID-1%2F\
                 20200609%2Fus-west-2%2Fcassandra%2Faws4_request&X-Amz-Date=2020-06-09T22%3A41%3A\
                 51.000Z&X-Amz-Expires=900\nhost:cassandra\n\nhost\n{NONCE_HASH}"
            )
        );
        assert_eq!(signature(&creds(None), REGION, NONCE, TIME), SIGNATURE);
    }

    #[test]
    fn cross_plugin_vector_response() {
        let r = response(&creds(None), REGION, NONCE, TIME).unwrap();
        assert_eq!(
            std::str::from_utf8(r.expose()).unwrap(),
            format!("signature={SIGNATURE},access_key=UserID-1,amzdate=2020-06-09T22:41:51.000Z")
        );
    }

    #[test]
    fn cross_plugin_vector_with_session_token_is_unsigned() {
        let r = response(&creds(Some("sess-token-1")), REGION, NONCE, TIME).unwrap();
        assert_eq!(
            std::str::from_utf8(r.expose()).unwrap(),
            format!(
                "signature={SIGNATURE},access_key=UserID-1,amzdate=2020-06-09T22:41:51.000Z,\
                 session_token=sess-token-1"
            )
        );
    }

    #[test]
    fn full_exchange_through_the_provider() {
        let provider = SigV4AuthProvider::new(Arc::new(creds(Some("tok"))), REGION)
            .with_clock(Arc::new(FixedClock(TIME)));
        let mech = now_or_never(provider.start("com.amazonaws.cassandra.auth.SigV4"))
            .unwrap()
            .unwrap();
        let (first, s) = Exchange::start(mech, ExchangeLimits::default()).unwrap();
        assert_eq!(first.expose(), b"SigV4\0\0");
        let mut challenge = b"nonce=".to_vec();
        challenge.extend_from_slice(NONCE);
        let (answer, s) = s.on_challenge(Some(&challenge)).unwrap();
        assert!(answer
            .expose()
            .starts_with(format!("signature={SIGNATURE},").as_bytes()));
        // A second challenge is refused rather than signed again.
        let e = s.on_challenge(Some(&challenge)).unwrap_err();
        assert!(
            matches!(e, AuthError::UnexpectedChallenge { answered: 1, .. }),
            "{e}"
        );
    }

    #[test]
    fn expired_credentials_fail_at_start() {
        let c = Credentials::new(KEY, SECRET, None, Some(datetime!(2020-06-09 22:00 UTC)));
        let provider =
            SigV4AuthProvider::new(Arc::new(c), REGION).with_clock(Arc::new(FixedClock(TIME)));
        let Err(e) = now_or_never(provider.start("x")).unwrap() else {
            panic!("expired credentials accepted")
        };
        assert!(
            e.to_string().contains("expired at 2020-06-09T22:00:00Z"),
            "{e}"
        );
    }

    #[test]
    fn nonce_parsing() {
        let n = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            extract_nonce(format!("nonce={n}").as_bytes()).unwrap(),
            n.as_bytes()
        );
        assert_eq!(
            extract_nonce(format!("nonce={n},other=x").as_bytes()).unwrap(),
            n.as_bytes()
        );
        assert_eq!(
            extract_nonce(format!("a=b,nonce={n}").as_bytes()).unwrap(),
            n.as_bytes()
        );
        for bad in [
            "".to_owned(),
            "nonce".to_owned(),
            "nonce=".to_owned(),
            format!("nonce={}", &n[1..]),
            format!("nonce={n}0"),
            format!("nonce={},x", &n[..31]),
            format!("Nonce={n}"),
        ] {
            let e = extract_nonce(bad.as_bytes()).unwrap_err();
            assert!(
                matches!(e, AuthError::InvalidChallenge { .. }),
                "{bad}: {e}"
            );
        }
        let e = extract_nonce(b"nonce=short").unwrap_err();
        assert!(
            e.to_string().contains("must be 32 characters, got 5"),
            "{e}"
        );
        let e = extract_nonce(&vec![b'x'; 1 << 20]).unwrap_err();
        assert!(
            e.to_string().len() < 400,
            "hostile challenge echoed unbounded"
        );
    }

    #[test]
    fn null_challenge_is_rejected() {
        let mut m = SigV4Mechanism::new(creds(None), REGION, Arc::new(FixedClock(TIME)));
        assert!(matches!(
            m.evaluate_challenge(None),
            Err(AuthError::InvalidChallenge { .. })
        ));
    }

    #[test]
    fn comma_in_key_or_token_is_rejected() {
        let c = Credentials::new("a,b", SECRET, None, None);
        assert!(response(&c, REGION, NONCE, TIME).is_err());
        let c = Credentials::new(KEY, SECRET, Some("t,amzdate=x".into()), None);
        let e = response(&c, REGION, NONCE, TIME).unwrap_err();
        assert!(!e.to_string().contains("amzdate=x"), "{e}");
    }

    #[test]
    fn milliseconds_are_truncated_and_quote_plus_matches_python() {
        let r = response(
            &creds(None),
            REGION,
            NONCE,
            datetime!(2020-06-09 22:41:51.9999 UTC),
        )
        .unwrap();
        assert!(std::str::from_utf8(r.expose())
            .unwrap()
            .ends_with("amzdate=2020-06-09T22:41:51.999Z"));
        assert_eq!(quote_plus("a b/c:d~e_f.g-h"), "a+b%2Fc%3Ad~e_f.g-h");
        assert_eq!(quote_plus("é"), "%C3%A9");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn nonce_extraction_is_total_on_hostile_bytes(challenge in proptest::collection::vec(any::<u8>(), 0..256)) {
                if let Ok(n) = extract_nonce(&challenge) {
                    prop_assert_eq!(n.len(), NONCE_LEN);
                    prop_assert!(!n.contains(&b','));
                }
            }

            #[test]
            fn nonce_is_found_between_other_fields(
                prefix in "([a-z]{1,8}=[a-z0-9]{0,8},){0,3}",
                nonce in "[!-+\\--~]{32}",
                suffix in "(,[a-z]{1,8}=[a-z0-9]{0,8}){0,3}",
            ) {
                prop_assume!(!prefix.contains("nonce="));
                let challenge = format!("{prefix}nonce={nonce}{suffix}");
                prop_assert_eq!(extract_nonce(challenge.as_bytes()).unwrap(), nonce.as_bytes());
            }
        }
    }
}
