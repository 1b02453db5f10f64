//! Errors of `cql4-auth`: one enum per concern, layered with `From` into [`AuthError`].
//!
//! No error carries a secret: messages name the source that was tried and why it failed
//! (file and line, profile name, process exit status and the first line of its stderr), never a
//! password, a secret key or a session token. Text that comes from the server or from a process
//! is truncated to [`MAX_ECHO`] characters so a hostile peer cannot make an error unbounded.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;

use time::OffsetDateTime;

/// At most this many characters of peer-supplied text (a challenge, a process's stderr) are kept
/// in an error message.
pub const MAX_ECHO: usize = 120;

/// Keeps at most [`MAX_ECHO`] characters of `s`, replacing control characters so an error
/// message stays one printable line.
pub(crate) fn echo(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_ECHO)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().nth(MAX_ECHO).is_some() {
        out.push('…');
    }
    out
}

/// Lossy, bounded rendering of peer-supplied bytes for an error message.
pub(crate) fn echo_bytes(b: &[u8]) -> String {
    let cut = b.get(..MAX_ECHO * 4).unwrap_or(b);
    let mut s = echo(&String::from_utf8_lossy(cut));
    if cut.len() < b.len() && !s.ends_with('…') {
        s.push('…');
    }
    s
}

/// Why an authentication exchange failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthError {
    /// The server's `AUTH_CHALLENGE` token cannot be used by this mechanism.
    InvalidChallenge {
        /// The SASL mechanism that rejected it (`"PLAIN"`, `"SigV4"`, …).
        mechanism: &'static str,
        /// Why, with at most [`MAX_ECHO`] characters of the token.
        reason: String,
    },
    /// The mechanism does not take any (more) challenges: e.g. SASL PLAIN, which expects
    /// `AUTH_SUCCESS` right after its initial response.
    UnexpectedChallenge {
        /// The SASL mechanism.
        mechanism: &'static str,
        /// How many challenges it had already answered.
        answered: u32,
    },
    /// The server kept sending `AUTH_CHALLENGE`: more rounds than the exchange allows.
    TooManyChallenges {
        /// The configured bound ([`crate::ExchangeLimits::max_challenges`]).
        limit: u32,
    },
    /// The server's `AUTH_SUCCESS` token was rejected by the mechanism.
    InvalidSuccess {
        /// The SASL mechanism.
        mechanism: &'static str,
        /// Why.
        reason: String,
    },
    /// A user-supplied credential cannot be encoded (e.g. a NUL byte in a SASL PLAIN user name).
    InvalidCredential {
        /// Which field: `"username"`, `"password"`, `"access key id"`, …
        field: &'static str,
        /// Why (never the value).
        reason: &'static str,
    },
    /// No credentials could be loaded.
    Credentials(CredentialsError),
    /// No region could be resolved.
    Region(RegionError),
    /// A failure inside a user-implemented [`crate::SaslMechanism`] or [`crate::AuthProvider`].
    Mechanism {
        /// The mechanism's name.
        mechanism: String,
        /// The cause; it must not contain a secret.
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidChallenge { mechanism, reason } => {
                write!(
                    f,
                    "{mechanism}: invalid AUTH_CHALLENGE from server: {reason}"
                )
            }
            Self::UnexpectedChallenge {
                mechanism,
                answered,
            } => write!(
                f,
                "{mechanism}: unexpected AUTH_CHALLENGE from server after {answered} \
                 answered challenge(s); this mechanism expects AUTH_SUCCESS"
            ),
            Self::TooManyChallenges { limit } => write!(
                f,
                "authentication aborted: the server sent more than {limit} AUTH_CHALLENGE messages"
            ),
            Self::InvalidSuccess { mechanism, reason } => {
                write!(f, "{mechanism}: invalid AUTH_SUCCESS token: {reason}")
            }
            Self::InvalidCredential { field, reason } => write!(f, "invalid {field}: {reason}"),
            Self::Credentials(e) => write!(f, "{e}"),
            Self::Region(e) => write!(f, "{e}"),
            Self::Mechanism { mechanism, source } => write!(f, "{mechanism}: {source}"),
        }
    }
}

impl StdError for AuthError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Credentials(e) => Some(e),
            Self::Region(e) => Some(e),
            Self::Mechanism { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

impl From<CredentialsError> for AuthError {
    fn from(e: CredentialsError) -> Self {
        Self::Credentials(e)
    }
}

impl From<RegionError> for AuthError {
    fn from(e: RegionError) -> Self {
        Self::Region(e)
    }
}

/// Where credentials were looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// Values given explicitly in code or on the command line.
    Explicit,
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`.
    Environment,
    /// The shared `credentials`/`config` files, for this profile.
    Profile(String),
    /// The `credential_process` of this profile.
    Process(String),
    /// The container credentials endpoint (`AWS_CONTAINER_CREDENTIALS_*_URI`).
    Container,
    /// The EC2 instance metadata service (opt-in only).
    InstanceMetadata,
    /// A chain of providers.
    Chain,
    /// A user-implemented provider, by its name.
    Custom(String),
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Explicit => f.write_str("explicit credentials"),
            Self::Environment => f.write_str("environment (AWS_ACCESS_KEY_ID)"),
            Self::Profile(p) => write!(f, "shared config files, profile `{p}`"),
            Self::Process(p) => write!(f, "credential_process of profile `{p}`"),
            Self::Container => f.write_str("container credentials endpoint"),
            Self::InstanceMetadata => f.write_str("EC2 instance metadata service"),
            Self::Chain => f.write_str("credentials chain"),
            Self::Custom(name) => write!(f, "{name}"),
        }
    }
}

/// A failure to read or parse a shared `credentials`/`config` file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileFileError {
    /// The file could not be read (other than "not found").
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error kind.
        kind: std::io::ErrorKind,
    },
    /// The file is larger than the parser accepts.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The bound, in bytes.
        limit: usize,
    },
    /// A line could not be parsed.
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was wrong (the line's content is not repeated: it may hold a secret).
        reason: &'static str,
    },
}

impl fmt::Display for ProfileFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, kind } => write!(f, "cannot read {}: {kind}", path.display()),
            Self::TooLarge { path, limit } => {
                write!(f, "{} is larger than {limit} bytes", path.display())
            }
            Self::Malformed { path, line, reason } => {
                write!(f, "{}: malformed line {line}: {reason}", path.display())
            }
        }
    }
}

impl StdError for ProfileFileError {}

/// Why one credentials source failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialsErrorKind {
    /// The source is not configured (no environment variables, no files…): a chain moves on.
    NotConfigured(String),
    /// A shared file could not be read or parsed.
    File(ProfileFileError),
    /// The profile exists in neither file.
    ProfileNotFound {
        /// The profile name.
        profile: String,
        /// The files that were searched (those that exist).
        searched: Vec<PathBuf>,
        /// Whether the profile was chosen explicitly (`AWS_PROFILE` or in code): then a chain
        /// stops here instead of moving on.
        explicit: bool,
    },
    /// The source is configured but incomplete or unusable (e.g. a key id without a secret).
    Invalid(String),
    /// `credential_process` could not be started or exited unsuccessfully.
    ProcessFailed {
        /// Exit status (`exit status: 1`) or the spawn error.
        status: String,
        /// First line of its stderr (at most [`MAX_ECHO`] characters).
        stderr_first_line: String,
    },
    /// `credential_process` printed output that is not the expected JSON.
    ProcessOutput(String),
    /// The credentials expired at this time.
    Expired(OffsetDateTime),
    /// The source needs HTTP but no [`crate::HttpFetcher`] was configured.
    NoHttpFetcher(&'static str),
    /// The source needs to read a file but no [`crate::FileReader`] was configured. Fatal for
    /// a chain: whether the files hold credentials cannot be known without reading them.
    NoFileReader(&'static str),
    /// The profile has a `credential_process` but no [`crate::ProcessRunner`] was configured.
    NoProcessRunner,
    /// An HTTP request through the [`crate::HttpFetcher`] failed or answered badly.
    Http(String),
    /// Every source of a chain failed; the list has one entry per source tried, in order.
    Chain(Vec<CredentialsError>),
}

/// A credentials source failed: which source and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialsError {
    /// The source that was tried.
    pub source: CredentialSource,
    /// Why it failed.
    pub kind: CredentialsErrorKind,
}

impl CredentialsError {
    /// A new error.
    pub fn new(source: CredentialSource, kind: CredentialsErrorKind) -> Self {
        Self { source, kind }
    }

    /// "Not configured" in `source`: a chain tries the next source.
    pub fn not_configured(source: CredentialSource, why: impl Into<String>) -> Self {
        Self::new(source, CredentialsErrorKind::NotConfigured(why.into()))
    }

    /// Whether a chain should stop at this error instead of trying the next source (the AWS
    /// SDKs' rule: a source that is configured but broken is reported, not skipped).
    pub fn is_fatal(&self) -> bool {
        match &self.kind {
            CredentialsErrorKind::NotConfigured(_) => false,
            CredentialsErrorKind::ProfileNotFound { explicit, .. } => *explicit,
            CredentialsErrorKind::Chain(list) => list.iter().any(Self::is_fatal),
            _ => true,
        }
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            CredentialsErrorKind::NotConfigured(why) => {
                write!(f, "{}: not configured: {why}", self.source)
            }
            CredentialsErrorKind::File(e) => write!(f, "{}: {e}", self.source),
            CredentialsErrorKind::ProfileNotFound {
                profile, searched, ..
            } => {
                write!(f, "{}: profile `{profile}` not found in ", self.source)?;
                if searched.is_empty() {
                    f.write_str("any file (no shared config or credentials file exists)")
                } else {
                    let files: Vec<String> =
                        searched.iter().map(|p| p.display().to_string()).collect();
                    f.write_str(&files.join(", "))
                }
            }
            CredentialsErrorKind::Invalid(why) => write!(f, "{}: {why}", self.source),
            CredentialsErrorKind::ProcessFailed {
                status,
                stderr_first_line,
            } => {
                write!(f, "{}: process failed ({status})", self.source)?;
                if stderr_first_line.is_empty() {
                    f.write_str(", stderr was empty")
                } else {
                    write!(f, ", stderr: {stderr_first_line}")
                }
            }
            CredentialsErrorKind::ProcessOutput(why) => {
                write!(f, "{}: unusable output: {why}", self.source)
            }
            CredentialsErrorKind::Expired(at) => write!(
                f,
                "{}: credentials expired at {}",
                self.source,
                crate::time_fmt::rfc3339(*at)
            ),
            CredentialsErrorKind::NoHttpFetcher(what) => write!(
                f,
                "{}: {what} requires an HTTP fetcher, but none was configured \
                 (cql4-auth has no sockets; pass one with `with_http_fetcher`)",
                self.source
            ),
            CredentialsErrorKind::NoFileReader(what) => write!(
                f,
                "{}: reading {what} requires a file reader, but none was configured \
                 (cql4-auth does no blocking I/O; pass one with `with_file_reader`, as \
                 `cql4_conn::http::default_chain()` does)",
                self.source
            ),
            CredentialsErrorKind::NoProcessRunner => write!(
                f,
                "{}: running `credential_process` requires a process runner, but none was \
                 configured (cql4-auth starts no processes; pass one with \
                 `with_process_runner`, as `cql4_conn::http::default_chain()` does)",
                self.source
            ),
            CredentialsErrorKind::Http(why) => write!(f, "{}: {why}", self.source),
            CredentialsErrorKind::Chain(tried) => {
                write!(
                    f,
                    "no AWS credentials found; tried {} source(s):",
                    tried.len()
                )?;
                for (i, e) in tried.iter().enumerate() {
                    write!(f, " [{}] {e};", i + 1)?;
                }
                Ok(())
            }
        }
    }
}

impl StdError for CredentialsError {}

/// No AWS region could be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegionError {
    /// None of the four places had a region.
    NotFound {
        /// The profile whose `region` was looked up.
        profile: String,
    },
    /// The shared config file could not be read or parsed.
    File(ProfileFileError),
}

impl fmt::Display for RegionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { profile } => write!(
                f,
                "no AWS region: none given explicitly, AWS_REGION and AWS_DEFAULT_REGION are \
                 unset or empty, and profile `{profile}` in the shared config files has no \
                 `region`"
            ),
            Self::File(e) => write!(f, "cannot resolve the AWS region: {e}"),
        }
    }
}

impl StdError for RegionError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_bounds_and_sanitizes() {
        let long = "a".repeat(1000);
        let e = echo(&long);
        assert_eq!(e.chars().count(), MAX_ECHO + 1);
        assert!(e.ends_with('…'));
        assert_eq!(echo("a\nb\0c"), "a?b?c");
        let b = echo_bytes(&[0xff; 2000]);
        assert!(b.chars().count() <= MAX_ECHO + 1);
    }

    #[test]
    fn chain_error_lists_every_source() {
        let e = CredentialsError::new(
            CredentialSource::Chain,
            CredentialsErrorKind::Chain(vec![
                CredentialsError::not_configured(CredentialSource::Environment, "unset"),
                CredentialsError::new(
                    CredentialSource::Process("dev".into()),
                    CredentialsErrorKind::ProcessFailed {
                        status: "exit status: 1".into(),
                        stderr_first_line: "boom".into(),
                    },
                ),
            ]),
        );
        let s = e.to_string();
        assert!(s.contains("tried 2 source(s)"), "{s}");
        assert!(s.contains("environment"), "{s}");
        assert!(s.contains("credential_process of profile `dev`"), "{s}");
        assert!(s.contains("exit status: 1"), "{s}");
        assert!(s.contains("boom"), "{s}");
        assert!(e.is_fatal());
    }

    #[test]
    fn region_error_names_all_four_places() {
        let s = RegionError::NotFound {
            profile: "default".into(),
        }
        .to_string();
        for needle in ["explicitly", "AWS_REGION", "AWS_DEFAULT_REGION", "`region`"] {
            assert!(s.contains(needle), "{s}");
        }
    }
}
