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
//! expiry, one refresh at a time for all concurrent callers.

mod caching;
mod chain;
mod container;
mod environment;
mod process;
pub(crate) mod profile;

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::error::CredentialsError;
use crate::sasl::BoxFuture;
use crate::secret::SecretString;

pub use caching::CachingProvider;
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

    /// The server refused the credentials last provided: a cache forgets them, so that the
    /// next call loads them again (temporary credentials may have rotated). Default: nothing
    /// to forget.
    fn invalidate(&self) {}
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

    fn invalidate(&self) {
        (**self).invalidate();
    }
}

impl<P: CredentialsProvider + ?Sized> CredentialsProvider for Box<P> {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        (**self).provide_credentials()
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
