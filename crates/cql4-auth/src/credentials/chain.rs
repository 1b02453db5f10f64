//! Provider chains: try sources in order, report every source tried.

use std::sync::Arc;
use std::time::Duration;

use super::container::{ContainerProvider, HttpFetcher, ImdsProvider};
use super::environment::EnvironmentProvider;
use super::process::DEFAULT_PROCESS_TIMEOUT;
use super::profile::ProfileProvider;
use super::{CachingProvider, Credentials, CredentialsProvider};
use crate::clock::{Clock, SystemClock};
use crate::env::{Env, ProcessEnv};
use crate::error::{CredentialSource, CredentialsError, CredentialsErrorKind};
use crate::io::{FileReader, ProcessRunner};
use crate::sasl::BoxFuture;

/// Tries providers in order and returns the first credentials found.
///
/// As in the AWS SDKs, a source that is not configured is skipped, but a source that is
/// configured and fails (a malformed file, a failing `credential_process`, an explicitly chosen
/// profile that does not exist) stops the chain, so a broken setup is not silently replaced by
/// other credentials. The error lists every source tried, in order, with its reason.
#[derive(Clone, Debug, Default)]
pub struct ChainProvider {
    providers: Vec<Arc<dyn CredentialsProvider>>,
}

impl ChainProvider {
    /// A chain of `providers`, tried in order.
    pub fn new(providers: Vec<Arc<dyn CredentialsProvider>>) -> Self {
        Self { providers }
    }

    /// Appends a provider.
    pub fn push(&mut self, provider: Arc<dyn CredentialsProvider>) {
        self.providers.push(provider);
    }

    async fn load(&self) -> Result<Credentials, CredentialsError> {
        let mut tried = Vec::with_capacity(self.providers.len());
        for provider in &self.providers {
            match provider.provide_credentials().await {
                Ok(c) => {
                    tracing::debug!(
                        skipped = tried.len(),
                        access_key_id = c.access_key_id(),
                        "credentials chain: found credentials"
                    );
                    return Ok(c);
                }
                Err(e) => {
                    tracing::debug!(error = %e, "credentials chain: source failed");
                    let fatal = e.is_fatal();
                    tried.push(e);
                    if fatal {
                        break;
                    }
                }
            }
        }
        Err(CredentialsError::new(
            CredentialSource::Chain,
            CredentialsErrorKind::Chain(tried),
        ))
    }
}

impl CredentialsProvider for ChainProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.load())
    }
}

/// A source that always fails with the same error: a chain entry that records why a source was
/// not usable (not given, no HTTP fetcher).
#[derive(Debug)]
struct Unavailable(CredentialsError);

impl CredentialsProvider for Unavailable {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(std::future::ready(Err(self.0.clone())))
    }
}

/// The default credentials chain, as the AWS SDKs order it:
///
/// 1. explicit credentials ([`Self::with_explicit`]);
/// 2. environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
/// 3. shared files `~/.aws/credentials` and `~/.aws/config` (`AWS_PROFILE`,
///    `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`), static keys or `credential_process`
///    (needs [`Self::with_file_reader`], and [`Self::with_process_runner`] for the process);
/// 4. container endpoint, only when `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or
///    `AWS_CONTAINER_CREDENTIALS_FULL_URI` is set (needs [`Self::with_http_fetcher`]);
/// 5. EC2 instance metadata, only with [`Self::with_instance_metadata`] (needs the fetcher).
///
/// This crate does no I/O of its own: `cql4_conn::http::default_chain()` is this chain with
/// the connection layer's file reader, process runner and HTTP fetcher injected. Without a
/// file reader the chain stops at step 3 with [`CredentialsErrorKind::NoFileReader`] (unless
/// steps 1–2 found credentials): it never skips the files unread, nor reads them blocking.
///
/// [`Self::build`] wraps the chain in a [`CachingProvider`].
#[derive(Clone, Debug)]
pub struct DefaultChain {
    explicit: Option<Credentials>,
    env: Arc<dyn Env>,
    profile: Option<String>,
    fetcher: Option<Arc<dyn HttpFetcher>>,
    files: Option<Arc<dyn FileReader>>,
    runner: Option<Arc<dyn ProcessRunner>>,
    instance_metadata: bool,
    clock: Arc<dyn Clock>,
    process_timeout: Duration,
}

impl Default for DefaultChain {
    fn default() -> Self {
        Self::new()
    }
}

impl DefaultChain {
    /// The chain over the real process environment and system clock, with no I/O injected:
    /// add [`Self::with_file_reader`], [`Self::with_process_runner`] and
    /// [`Self::with_http_fetcher`] (`cql4_conn::http::default_chain()` does).
    pub fn new() -> Self {
        Self {
            explicit: None,
            env: Arc::new(ProcessEnv),
            profile: None,
            fetcher: None,
            files: None,
            runner: None,
            instance_metadata: false,
            clock: Arc::new(SystemClock),
            process_timeout: DEFAULT_PROCESS_TIMEOUT,
        }
    }

    /// Credentials given explicitly: tried first.
    pub fn with_explicit(mut self, credentials: Credentials) -> Self {
        self.explicit = Some(credentials);
        self
    }

    /// Reads variables, the home directory and files from `env`.
    pub fn with_env(mut self, env: Arc<dyn Env>) -> Self {
        self.env = env;
        self
    }

    /// Uses this profile of the shared files instead of `AWS_PROFILE`/`default`.
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// HTTP for the container endpoint (and instance metadata, if enabled).
    pub fn with_http_fetcher(mut self, fetcher: Arc<dyn HttpFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// Reads the shared files (and the container token file) with `reader`.
    pub fn with_file_reader(mut self, reader: Arc<dyn FileReader>) -> Self {
        self.files = Some(reader);
        self
    }

    /// Runs a profile's `credential_process` with `runner`.
    pub fn with_process_runner(mut self, runner: Arc<dyn ProcessRunner>) -> Self {
        self.runner = Some(runner);
        self
    }

    /// Opts in to the EC2 instance metadata service as the last source.
    pub fn with_instance_metadata(mut self, enabled: bool) -> Self {
        self.instance_metadata = enabled;
        self
    }

    /// Uses `clock` for expiry checks.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Kills a profile's `credential_process` after `timeout` (default 60 s).
    pub fn with_process_timeout(mut self, timeout: Duration) -> Self {
        self.process_timeout = timeout;
        self
    }

    /// The uncached chain.
    pub fn chain(&self) -> ChainProvider {
        let mut chain = ChainProvider::default();
        match &self.explicit {
            Some(c) => chain.push(Arc::new(c.clone())),
            None => chain.push(Arc::new(Unavailable(CredentialsError::not_configured(
                CredentialSource::Explicit,
                "none given",
            )))),
        }
        chain.push(Arc::new(EnvironmentProvider::new(Arc::clone(&self.env))));
        let mut profile = ProfileProvider::new(Arc::clone(&self.env))
            .with_clock(Arc::clone(&self.clock))
            .with_process_timeout(self.process_timeout);
        if let Some(p) = &self.profile {
            profile = profile.with_profile(p.clone());
        }
        if let Some(r) = &self.runner {
            profile = profile.with_process_runner(Arc::clone(r));
        }
        let mut container = ContainerProvider::new(Arc::clone(&self.env));
        if let Some(f) = &self.files {
            profile = profile.with_file_reader(Arc::clone(f));
            container = container.with_file_reader(Arc::clone(f));
        }
        chain.push(Arc::new(profile));
        if let Some(f) = &self.fetcher {
            container = container.with_http_fetcher(Arc::clone(f));
        }
        chain.push(Arc::new(container));
        if self.instance_metadata {
            match &self.fetcher {
                Some(f) => chain.push(Arc::new(ImdsProvider::new(
                    Arc::clone(&self.env),
                    Arc::clone(f),
                ))),
                None => chain.push(Arc::new(Unavailable(CredentialsError::new(
                    CredentialSource::InstanceMetadata,
                    CredentialsErrorKind::NoHttpFetcher("the instance metadata service"),
                )))),
            }
        }
        chain
    }

    /// The chain, cached (refreshed 5 minutes before expiry).
    pub fn build(self) -> CachingProvider<ChainProvider> {
        CachingProvider::new(self.chain()).with_clock(self.clock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::credentials::container::tests::scripted;
    use crate::credentials::now_or_never;
    use crate::credentials::process::testing::{printing, scripted as scripted_runner};
    use crate::env::MapEnv;
    use crate::io::ProcessOutput;
    use time::macros::datetime;

    fn run(chain: DefaultChain) -> Result<Credentials, CredentialsError> {
        now_or_never(chain.build().provide_credentials()).unwrap()
    }

    /// Variables and files from `env`; no process runner.
    fn chain(env: MapEnv) -> DefaultChain {
        let env = Arc::new(env);
        DefaultChain::new()
            .with_env(env.clone())
            .with_file_reader(env)
            .with_clock(Arc::new(FixedClock(datetime!(2026-01-01 0:00 UTC))))
    }

    #[test]
    fn without_a_file_reader_the_chain_stops_at_the_files() {
        let env = MapEnv::new()
            .with_home("/h")
            .with_var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/x");
        let fetcher = scripted(&[(200, "{}")]);
        let e = run(DefaultChain::new()
            .with_env(Arc::new(env.clone()))
            .with_http_fetcher(fetcher.clone()))
        .unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("tried 3 source(s)") && s.contains("requires a file reader"),
            "{s}"
        );
        assert!(fetcher.seen.lock().unwrap().is_empty());
        // Environment credentials come first and need no reader.
        let env = env
            .with_var("AWS_ACCESS_KEY_ID", "ENVKEY")
            .with_var("AWS_SECRET_ACCESS_KEY", "ES");
        let c = run(DefaultChain::new().with_env(Arc::new(env))).unwrap();
        assert_eq!(c.access_key_id(), "ENVKEY");
    }

    const FILES: &str = "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FS\n";

    #[test]
    fn order_explicit_env_files() {
        let env = MapEnv::new()
            .with_home("/h")
            .with_var("AWS_ACCESS_KEY_ID", "ENVKEY")
            .with_var("AWS_SECRET_ACCESS_KEY", "ES")
            .with_file("/h/.aws/credentials", FILES);
        let explicit = Credentials::new("EXPLICIT", "X", None, None);
        assert_eq!(
            run(chain(env.clone()).with_explicit(explicit))
                .unwrap()
                .access_key_id(),
            "EXPLICIT"
        );
        assert_eq!(run(chain(env)).unwrap().access_key_id(), "ENVKEY");
        let env = MapEnv::new()
            .with_home("/h")
            .with_file("/h/.aws/credentials", FILES);
        assert_eq!(run(chain(env)).unwrap().access_key_id(), "FILEKEY");
    }

    #[test]
    fn nothing_configured_lists_every_source() {
        let e = run(chain(MapEnv::new().with_home("/h")).with_instance_metadata(true)).unwrap_err();
        let CredentialsErrorKind::Chain(tried) = &e.kind else {
            panic!("{e}")
        };
        let sources: Vec<_> = tried.iter().map(|t| t.source.clone()).collect();
        assert_eq!(
            sources,
            vec![
                CredentialSource::Explicit,
                CredentialSource::Environment,
                CredentialSource::Profile("default".into()),
                CredentialSource::Container,
                CredentialSource::InstanceMetadata,
            ]
        );
        let s = e.to_string();
        assert!(s.contains("tried 5 source(s)"), "{s}");
        assert!(s.contains("missing files"), "{s}");
        assert!(s.contains("requires an HTTP fetcher"), "{s}");
    }

    #[test]
    fn instance_metadata_is_not_contacted_unless_opted_in() {
        let fetcher = scripted(&[]);
        let e = run(chain(MapEnv::new().with_home("/h")).with_http_fetcher(fetcher.clone()))
            .unwrap_err();
        assert!(fetcher.seen.lock().unwrap().is_empty(), "{e}");
        let e = run(chain(MapEnv::new().with_home("/h"))
            .with_http_fetcher(fetcher.clone())
            .with_instance_metadata(true))
        .unwrap_err();
        assert_eq!(fetcher.seen.lock().unwrap().len(), 1, "{e}");
    }

    #[test]
    fn configured_but_broken_source_stops_the_chain() {
        let env = MapEnv::new()
            .with_home("/h")
            .with_file("/h/.aws/credentials", "[default]\noops\n")
            .with_var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/x");
        let fetcher = scripted(&[(200, "{}")]);
        let e = run(chain(env).with_http_fetcher(fetcher.clone())).unwrap_err();
        assert!(fetcher.seen.lock().unwrap().is_empty());
        let s = e.to_string();
        assert!(
            s.contains("tried 3 source(s)") && s.contains("malformed line 2"),
            "{s}"
        );
    }

    #[test]
    fn failing_credential_process_is_reported_with_stderr() {
        let env = MapEnv::new().with_home("/h").with_file(
            "/h/.aws/config",
            "[profile p]\ncredential_process = get-creds\n",
        );
        let runner = scripted_runner(Ok(ProcessOutput::new(
            false,
            "exit status: 3",
            Vec::new(),
            b"no token\n".to_vec(),
        )));
        let e = run(chain(env)
            .with_profile("p")
            .with_process_runner(Arc::new(runner)))
        .unwrap_err();
        let s = e.to_string();
        assert!(s.contains("credential_process of profile `p`"), "{s}");
        assert!(
            s.contains("exit status: 3") && s.contains("no token"),
            "{s}"
        );
    }

    #[test]
    fn expired_process_credentials_are_rejected() {
        let env = MapEnv::new().with_home("/h").with_file(
            "/h/.aws/config",
            "[default]\ncredential_process = get-creds\n",
        );
        let runner = printing(
            r#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"2025-12-31T23:00:00Z"}"#,
        );
        let e = run(chain(env).with_process_runner(Arc::new(runner))).unwrap_err();
        assert!(
            e.to_string().contains("expired at 2025-12-31T23:00:00Z"),
            "{e}"
        );
    }
}
