//! AWS credentials and where they come from, as the AWS SDKs resolve them.
//!
//! [`CredentialsProvider`] is async because a source may need I/O. This crate has no runtime and
//! does no I/O itself, so nothing here blocks when polled: every source that needs I/O gets it
//! injected, as the connection layer implements it (`cql4_conn::http::default_chain()`):
//!
//! | source | needs | missing |
//! |---|---|---|
//! | shared files (and the container token file) | [`crate::FileReader`] | [`crate::CredentialsErrorKind::NoFileReader`] |
//! | `credential_process` | [`crate::ProcessRunner`] | [`crate::CredentialsErrorKind::NoProcessRunner`] |
//! | container endpoint, instance metadata | [`HttpFetcher`] | [`crate::CredentialsErrorKind::NoHttpFetcher`] |
//!
//! A missing implementation is an error that stops a chain and says what to inject; no source
//! falls back to a blocking `std::fs`/`std::process` call. Parsing (the profile files, the
//! process's and the endpoints' JSON) and every decision stay here; the injected parts only
//! move bytes, within the bounds given to them.
//!
//! The default chain ([`DefaultChain`]) tries, in order: explicit values, the environment, the
//! shared `credentials`/`config` files (including `credential_process`), the container endpoint
//! (only when `AWS_CONTAINER_CREDENTIALS_*_URI` is set) and, only when opted in, the EC2
//! instance metadata service; it is wrapped in a [`CachingProvider`] that refreshes before
//! expiry.

mod chain;
mod container;
mod environment;
mod process;
pub(crate) mod profile;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

use crate::clock::{Clock, SystemClock};
use crate::error::{CredentialSource, CredentialsError, CredentialsErrorKind};
use crate::sasl::BoxFuture;
use crate::secret::SecretString;

pub use chain::{ChainProvider, DefaultChain};
pub use container::{
    ContainerProvider, HttpFetcher, HttpMethod, HttpRequest, HttpResponse, ImdsProvider,
};
pub use environment::EnvironmentProvider;
pub use process::{DEFAULT_PROCESS_TIMEOUT, MAX_PROCESS_OUTPUT, MAX_PROCESS_STDERR};
pub use profile::{ProfileProvider, MAX_SHARED_FILE};

/// An AWS access key id, secret access key, optional session token and optional expiry.
///
/// `Debug` shows the access key id (it is sent in clear in every SigV4 response) and hides the
/// secret key and the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: SecretString,
    session_token: Option<SecretString>,
    expiry: Option<OffsetDateTime>,
}

impl Credentials {
    /// New credentials. An empty session token is treated as none.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<SecretString>,
        session_token: Option<SecretString>,
        expiry: Option<OffsetDateTime>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: session_token.filter(|t| !t.is_empty()),
            expiry,
        }
    }

    /// The access key id (not secret).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &SecretString {
        &self.secret_access_key
    }

    /// The session token of temporary credentials.
    pub fn session_token(&self) -> Option<&SecretString> {
        self.session_token.as_ref()
    }

    /// When the credentials expire, if they do.
    pub fn expiry(&self) -> Option<OffsetDateTime> {
        self.expiry
    }

    /// Whether they have expired at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expiry.is_some_and(|e| e <= now)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("expiry", &self.expiry)
            .finish()
    }
}

/// A source of AWS credentials.
pub trait CredentialsProvider: Send + Sync + fmt::Debug {
    /// Loads (or returns cached) credentials.
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>>;
}

/// Explicit credentials are a provider that always returns them.
impl CredentialsProvider for Credentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(std::future::ready(Ok(self.clone())))
    }
}

impl<P: CredentialsProvider + ?Sized> CredentialsProvider for Arc<P> {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        (**self).provide_credentials()
    }
}

impl<P: CredentialsProvider + ?Sized> CredentialsProvider for Box<P> {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        (**self).provide_credentials()
    }
}

/// Caches another provider's credentials and refreshes them `refresh_before` (default 5
/// minutes) before they expire, like the AWS SDKs' lazy caching provider.
///
/// Credentials without expiry are cached for good. If a refresh fails while the cached
/// credentials are still valid, those are returned (and the failure logged); freshly loaded
/// credentials that have already expired are an [`CredentialsErrorKind::Expired`] error.
/// Concurrent callers during a refresh may each call the inner provider: there is no runtime to
/// park them on, and loading twice is harmless.
pub struct CachingProvider<P> {
    inner: P,
    clock: Arc<dyn Clock>,
    refresh_before: Duration,
    cached: Mutex<Option<Credentials>>,
}

impl<P: fmt::Debug> fmt::Debug for CachingProvider<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingProvider")
            .field("inner", &self.inner)
            .field("refresh_before", &self.refresh_before)
            .finish_non_exhaustive()
    }
}

impl<P: CredentialsProvider> CachingProvider<P> {
    /// The SDKs' default: refresh 5 minutes before expiry.
    pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(300);

    /// Caches `inner` with the system clock and the default refresh margin.
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            clock: Arc::new(SystemClock),
            refresh_before: Self::DEFAULT_REFRESH_BEFORE,
            cached: Mutex::new(None),
        }
    }

    /// Uses `clock` to compare expiry times.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Refreshes this long before expiry.
    pub fn with_refresh_before(mut self, refresh_before: Duration) -> Self {
        self.refresh_before = refresh_before;
        self
    }

    fn cached(&self) -> Option<Credentials> {
        self.cached
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn load(&self) -> Result<Credentials, CredentialsError> {
        let now = self.clock.now();
        let cached = self.cached();
        if let Some(c) = &cached {
            let fresh = match c.expiry() {
                None => true,
                Some(e) => now + self.refresh_before < e,
            };
            if fresh {
                return Ok(c.clone());
            }
        }
        match self.inner.provide_credentials().await {
            Ok(c) => {
                let now = self.clock.now();
                if let Some(e) = c.expiry().filter(|e| *e <= now) {
                    return Err(CredentialsError::new(
                        CredentialSource::Custom("cached credentials provider".to_owned()),
                        CredentialsErrorKind::Expired(e),
                    ));
                }
                tracing::debug!(
                    access_key_id = c.access_key_id(),
                    expiry = ?c.expiry(),
                    "loaded AWS credentials"
                );
                *self.cached.lock().unwrap_or_else(PoisonError::into_inner) = Some(c.clone());
                Ok(c)
            }
            Err(e) => match cached {
                Some(c) if !c.is_expired(self.clock.now()) => {
                    tracing::warn!(error = %e, "refreshing AWS credentials failed; using cached ones until they expire");
                    Ok(c)
                }
                _ => Err(e),
            },
        }
    }
}

impl<P: CredentialsProvider> CredentialsProvider for CachingProvider<P> {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.load())
    }
}

/// Polls a future once, for futures known to complete without waiting (explicit and
/// environment credentials, in-memory [`crate::MapEnv`] files, scripted I/O in tests). Returns
/// `None` if it would have to wait.
pub fn now_or_never<F: std::future::Future>(fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use std::sync::atomic::{AtomicU32, Ordering};
    use time::macros::datetime;

    #[derive(Debug)]
    struct Counting {
        calls: AtomicU32,
        expiry: OffsetDateTime,
        fail_after: u32,
    }

    impl CredentialsProvider for Counting {
        fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let r = if n > self.fail_after {
                Err(CredentialsError::new(
                    CredentialSource::Custom("counting".into()),
                    CredentialsErrorKind::Http("down".into()),
                ))
            } else {
                Ok(Credentials::new(
                    format!("AKID{n}"),
                    "s",
                    None,
                    Some(self.expiry),
                ))
            };
            Box::pin(std::future::ready(r))
        }
    }

    fn get<P: CredentialsProvider>(p: &P) -> Result<Credentials, CredentialsError> {
        now_or_never(p.provide_credentials()).unwrap()
    }

    #[test]
    fn caches_until_five_minutes_before_expiry() {
        let expiry = datetime!(2026-01-01 12:00 UTC);
        let inner = Arc::new(Counting {
            calls: AtomicU32::new(0),
            expiry,
            fail_after: 100,
        });
        let at = |t| CachingProvider::new(Arc::clone(&inner)).with_clock(Arc::new(FixedClock(t)));
        let p = at(datetime!(2026-01-01 11:00 UTC));
        assert_eq!(get(&p).unwrap().access_key_id(), "AKID1");
        assert_eq!(get(&p).unwrap().access_key_id(), "AKID1");
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
        // Inside the 5-minute window: refresh.
        let p2 = at(datetime!(2026-01-01 11:55:01 UTC));
        *p2.cached.lock().unwrap() = p.cached();
        assert_eq!(get(&p2).unwrap().access_key_id(), "AKID2");
        // Just outside it: cached.
        let p3 = at(datetime!(2026-01-01 11:54:59 UTC));
        *p3.cached.lock().unwrap() = p.cached();
        assert_eq!(get(&p3).unwrap().access_key_id(), "AKID1");
    }

    #[test]
    fn failed_refresh_keeps_valid_cached_credentials_but_not_expired_ones() {
        let expiry = datetime!(2026-01-01 12:00 UTC);
        let inner = Counting {
            calls: AtomicU32::new(0),
            expiry,
            fail_after: 1,
        };
        let p = CachingProvider::new(inner)
            .with_clock(Arc::new(FixedClock(datetime!(2026-01-01 11:58 UTC))));
        // First load is inside the refresh window but succeeds.
        assert_eq!(get(&p).unwrap().access_key_id(), "AKID1");
        // Second load tries to refresh, fails, falls back to the still-valid cache.
        assert_eq!(get(&p).unwrap().access_key_id(), "AKID1");
        let p = CachingProvider::new(Counting {
            calls: AtomicU32::new(0),
            expiry,
            fail_after: 0,
        })
        .with_clock(Arc::new(FixedClock(datetime!(2026-01-01 12:01 UTC))));
        assert!(get(&p).is_err());
    }

    #[test]
    fn already_expired_credentials_are_an_error() {
        let p = CachingProvider::new(Credentials::new(
            "AKID",
            "s",
            None,
            Some(datetime!(2020-01-01 0:00 UTC)),
        ))
        .with_clock(Arc::new(FixedClock(datetime!(2026-01-01 0:00 UTC))));
        let e = get(&p).unwrap_err();
        assert!(
            matches!(e.kind, CredentialsErrorKind::Expired(t) if t == datetime!(2020-01-01 0:00 UTC))
        );
        assert!(
            e.to_string().contains("expired at 2020-01-01T00:00:00Z"),
            "{e}"
        );
    }

    #[test]
    fn debug_hides_secret_and_token() {
        let c = Credentials::new("AKID", "sekrit", Some("tok3n".into()), None);
        let d = format!("{c:?}");
        assert!(d.contains("AKID"));
        assert!(!d.contains("sekrit") && !d.contains("tok3n"), "{d}");
        let empty = Credentials::new("AKID", "s", Some("".into()), None);
        assert!(empty.session_token().is_none());
    }
}
