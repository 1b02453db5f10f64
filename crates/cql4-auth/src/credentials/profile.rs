//! The shared `~/.aws/credentials` and `~/.aws/config` files, parsed as the AWS SDKs do.
//!
//! Format rules followed (AWS SDKs and Tools reference, "Shared config and credentials files"):
//! - `[name]` sections in the credentials file; in the config file `[profile name]`, plus
//!   `[default]`; `[profile default]` wins over `[default]` when both exist; other config
//!   sections (`[sso-session x]`, `[services x]`, a bare `[name]`) hold no profile.
//! - `key = value`, spaces around `=` optional, keys case-insensitive (botocore lowercases).
//! - `#` and `;` start a comment on a line of their own, or after whitespace in a value or after
//!   a section header (`secret = abc#def` keeps `abc#def`; `region = x ;note` gives `x`).
//! - Indented lines continue the previous property (sub-properties), blank lines are ignored.
//! - A property before any section, a line without `=` or an unterminated `[` is an error that
//!   names the file and the line; the line itself is never echoed (it may hold a secret).
//! - A section repeated in one file is merged, later keys winning; a profile in both files is
//!   merged with the credentials file winning.
//! - `AWS_PROFILE` picks the profile (else `default`), `AWS_CONFIG_FILE` and
//!   `AWS_SHARED_CREDENTIALS_FILE` move the files (a leading `~` is expanded).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::process::{run_credential_process, DEFAULT_PROCESS_TIMEOUT};
use super::Credentials;
use crate::clock::{Clock, SystemClock};
use crate::env::{expand_home, Env, ProcessEnv};
use crate::error::{CredentialSource, CredentialsError, CredentialsErrorKind, ProfileFileError};
use crate::io::{FileReader, ProcessRunner};
use crate::sasl::BoxFuture;
use crate::secret::SecretString;

/// Which of the two files is parsed: they name sections differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileKind {
    Config,
    Credentials,
}

/// One profile's properties. Values are kept as secrets: any of them may be one.
#[derive(Clone, Default)]
pub(crate) struct Properties(HashMap<String, SecretString>);

impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&String> = self.0.keys().collect();
        keys.sort();
        f.debug_set().entries(keys).finish()
    }
}

impl Properties {
    pub(crate) fn get(&self, key: &str) -> Option<&SecretString> {
        self.0.get(key).filter(|v| !v.is_empty())
    }

    fn merge_from(&mut self, other: &Self) {
        for (k, v) in &other.0 {
            self.0.insert(k.clone(), v.clone());
        }
    }
}

/// Profiles of one parsed file, by name.
#[derive(Debug, Default)]
pub(crate) struct ProfileFile {
    pub(crate) profiles: HashMap<String, Properties>,
}

/// Where a section's properties go while parsing.
enum Target {
    /// Before the first section header.
    None,
    /// A section that holds no profile (its properties are still syntax-checked).
    Ignored,
    /// `(profile name, is "[profile default]" in the config file)`.
    Profile(String, bool),
}

/// Strips a comment that starts at `#` or `;` preceded by whitespace (or at the start).
fn strip_inline_comment(s: &str) -> &str {
    let mut prev_ws = true;
    for (i, c) in s.char_indices() {
        if (c == '#' || c == ';') && prev_ws {
            return s.get(..i).unwrap_or(s);
        }
        prev_ws = c.is_whitespace();
    }
    s
}

/// Parses one file. `path` is only used in error messages.
pub(crate) fn parse(
    text: &str,
    path: &Path,
    kind: FileKind,
) -> Result<ProfileFile, ProfileFileError> {
    let malformed = |line: usize, reason: &'static str| ProfileFileError::Malformed {
        path: path.to_owned(),
        line,
        reason,
    };
    // `[profile default]` and `[default]` are collected apart, then the former wins.
    let mut profiles: HashMap<String, Properties> = HashMap::new();
    let mut bare_default = Properties::default();
    let mut saw_bare_default = false;
    let mut target = Target::None;
    let mut last_key: Option<String> = None;

    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if trimmed.starts_with('[') {
            let header = strip_inline_comment(trimmed).trim_end();
            let Some(inner) = header.strip_prefix('[').and_then(|h| h.strip_suffix(']')) else {
                return Err(malformed(line_no, "section header without a closing `]`"));
            };
            let name = inner.trim();
            if name.is_empty() {
                return Err(malformed(line_no, "empty section name"));
            }
            target = match kind {
                FileKind::Credentials => Target::Profile(name.to_owned(), false),
                FileKind::Config if name == "profile" => {
                    return Err(malformed(line_no, "`[profile]` without a name"));
                }
                FileKind::Config => match name.strip_prefix("profile") {
                    Some(rest) if rest.starts_with([' ', '\t']) => {
                        let p = rest.trim();
                        if p.is_empty() {
                            return Err(malformed(line_no, "`[profile]` without a name"));
                        }
                        Target::Profile(p.to_owned(), p == "default")
                    }
                    _ if name == "default" => {
                        saw_bare_default = true;
                        Target::Profile("default".to_owned(), false)
                    }
                    _ => {
                        tracing::trace!(
                            path = %path.display(),
                            line = line_no,
                            "config section is not a profile; ignored"
                        );
                        Target::Ignored
                    }
                },
            };
            // An empty section is still a profile ("found, but without credentials").
            if let Target::Profile(name, explicit_default) = &target {
                if !(kind == FileKind::Config && name == "default" && !explicit_default) {
                    profiles.entry(name.clone()).or_default();
                }
            }
            last_key = None;
            continue;
        }
        if indented {
            // A continuation / sub-property line of the previous property.
            let Some(key) = &last_key else {
                return Err(malformed(
                    line_no,
                    "indented line that continues no property",
                ));
            };
            let value = strip_inline_comment(trimmed).trim();
            if let Target::Profile(name, explicit_default) = &target {
                let props = if kind == FileKind::Config && name == "default" && !explicit_default {
                    &mut bare_default
                } else {
                    profiles.entry(name.clone()).or_default()
                };
                let old = props.0.remove(key).unwrap_or_default();
                let mut joined = String::with_capacity(old.expose().len() + 1 + value.len());
                joined.push_str(old.expose());
                if !joined.is_empty() {
                    joined.push('\n');
                }
                joined.push_str(value);
                props.0.insert(key.clone(), SecretString::new(joined));
            }
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            return Err(malformed(line_no, "expected `key = value`"));
        };
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err(malformed(line_no, "property without a name before `=`"));
        }
        let value = strip_inline_comment(value.trim()).trim();
        match &target {
            Target::None => {
                return Err(malformed(line_no, "property before any `[section]` header"))
            }
            Target::Ignored => {}
            Target::Profile(name, explicit_default) => {
                let props = if kind == FileKind::Config && name == "default" && !explicit_default {
                    &mut bare_default
                } else {
                    profiles.entry(name.clone()).or_default()
                };
                props.0.insert(key.clone(), SecretString::from(value));
            }
        }
        last_key = Some(key);
    }
    if saw_bare_default {
        if profiles.contains_key("default") {
            tracing::debug!(
                path = %path.display(),
                "both [profile default] and [default] in config; [profile default] wins"
            );
        } else {
            profiles.insert("default".to_owned(), bare_default);
        }
    }
    Ok(ProfileFile { profiles })
}

/// Shared files larger than this are an error rather than parsed (real ones are a few KiB).
pub const MAX_SHARED_FILE: usize = 1024 * 1024;

/// One file through `reader`: `None` when there is no path or no file.
async fn read_and_parse(
    reader: &dyn FileReader,
    path: Option<&PathBuf>,
    kind: FileKind,
) -> Result<Option<(PathBuf, ProfileFile)>, ProfileFileError> {
    let Some(path) = path else { return Ok(None) };
    let io_error = |kind| ProfileFileError::Io {
        path: path.clone(),
        kind,
    };
    let bytes = match reader.read_file(path.clone(), MAX_SHARED_FILE).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(e.kind())),
    };
    if bytes.len() > MAX_SHARED_FILE {
        return Err(ProfileFileError::TooLarge {
            path: path.clone(),
            limit: MAX_SHARED_FILE,
        });
    }
    let text =
        std::str::from_utf8(bytes.expose()).map_err(|_| io_error(io::ErrorKind::InvalidData))?;
    Ok(Some((path.clone(), parse(text, path, kind)?)))
}

/// Both files, loaded.
#[derive(Debug, Default)]
pub(crate) struct SharedFiles {
    pub(crate) config: Option<(PathBuf, ProfileFile)>,
    pub(crate) credentials: Option<(PathBuf, ProfileFile)>,
    /// Paths tried, for messages.
    pub(crate) config_path: Option<PathBuf>,
    pub(crate) credentials_path: Option<PathBuf>,
}

impl SharedFiles {
    /// Reads (through `reader`) and parses both files; a missing file is simply absent.
    pub(crate) async fn load(
        env: &dyn Env,
        reader: &dyn FileReader,
    ) -> Result<Self, ProfileFileError> {
        let home_path = |rest: &str| env.home_dir().map(|h| h.join(".aws").join(rest));
        let config_path = env
            .var("AWS_CONFIG_FILE")
            .map(|p| expand_home(&p, env))
            .or_else(|| home_path("config"));
        let credentials_path = env
            .var("AWS_SHARED_CREDENTIALS_FILE")
            .map(|p| expand_home(&p, env))
            .or_else(|| home_path("credentials"));
        Ok(Self {
            config: read_and_parse(reader, config_path.as_ref(), FileKind::Config).await?,
            credentials: read_and_parse(reader, credentials_path.as_ref(), FileKind::Credentials)
                .await?,
            config_path,
            credentials_path,
        })
    }

    /// The files that exist.
    pub(crate) fn found(&self) -> Vec<PathBuf> {
        [&self.credentials, &self.config]
            .into_iter()
            .flatten()
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// The profile's properties, config overlaid by credentials; `None` if in neither file.
    pub(crate) fn profile(&self, name: &str) -> Option<Properties> {
        let from_config = self.config.as_ref().and_then(|(_, f)| f.profiles.get(name));
        let from_credentials = self
            .credentials
            .as_ref()
            .and_then(|(_, f)| f.profiles.get(name));
        if from_config.is_none() && from_credentials.is_none() {
            return None;
        }
        let mut merged = from_config.cloned().unwrap_or_default();
        if let Some(c) = from_credentials {
            merged.merge_from(c);
        }
        Some(merged)
    }
}

/// The selected profile: `(name, whether it was chosen explicitly)`.
pub(crate) fn selected_profile(env: &dyn Env, explicit: Option<&str>) -> (String, bool) {
    match explicit {
        Some(p) => (p.to_owned(), true),
        None => match env.var("AWS_PROFILE") {
            Some(p) => (p, true),
            None => ("default".to_owned(), false),
        },
    }
}

/// Credentials from the shared files: static keys of the profile, else its
/// `credential_process`.
///
/// The files are read through an injected [`FileReader`] and the process runs through an
/// injected [`ProcessRunner`]; loading never blocks the polling thread. Without a reader,
/// loading fails with [`CredentialsErrorKind::NoFileReader`]; a profile with a
/// `credential_process` but no runner fails with [`CredentialsErrorKind::NoProcessRunner`]
/// (both stop a chain: the source cannot be checked, so it is not silently passed over).
#[derive(Clone, Debug)]
pub struct ProfileProvider {
    env: Arc<dyn Env>,
    files: Option<Arc<dyn FileReader>>,
    runner: Option<Arc<dyn ProcessRunner>>,
    profile: Option<String>,
    clock: Arc<dyn Clock>,
    process_timeout: Duration,
}

impl Default for ProfileProvider {
    fn default() -> Self {
        Self::new(Arc::new(ProcessEnv))
    }
}

impl ProfileProvider {
    /// Reads variables from `env`; no file reader and no process runner yet.
    pub fn new(env: Arc<dyn Env>) -> Self {
        Self {
            env,
            files: None,
            runner: None,
            profile: None,
            clock: Arc::new(SystemClock),
            process_timeout: DEFAULT_PROCESS_TIMEOUT,
        }
    }

    /// Reads the shared files with `reader`.
    pub fn with_file_reader(mut self, reader: Arc<dyn FileReader>) -> Self {
        self.files = Some(reader);
        self
    }

    /// Runs `credential_process` with `runner`.
    pub fn with_process_runner(mut self, runner: Arc<dyn ProcessRunner>) -> Self {
        self.runner = Some(runner);
        self
    }

    /// Kills `credential_process` after `timeout` (default [`DEFAULT_PROCESS_TIMEOUT`]).
    pub fn with_process_timeout(mut self, timeout: Duration) -> Self {
        self.process_timeout = timeout;
        self
    }

    /// Uses this profile instead of `AWS_PROFILE`/`default`.
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Uses `clock` to reject expired `credential_process` output.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Loads the credentials.
    pub async fn load(&self) -> Result<Credentials, CredentialsError> {
        let (name, explicit) = selected_profile(self.env.as_ref(), self.profile.as_deref());
        let source = CredentialSource::Profile(name.clone());
        let Some(reader) = &self.files else {
            return Err(CredentialsError::new(
                source,
                CredentialsErrorKind::NoFileReader("the shared config and credentials files"),
            ));
        };
        let files = SharedFiles::load(self.env.as_ref(), reader.as_ref())
            .await
            .map_err(|e| CredentialsError::new(source.clone(), CredentialsErrorKind::File(e)))?;
        let found = files.found();
        if found.is_empty() {
            let shown = |p: &Option<PathBuf>| {
                p.as_ref().map_or_else(
                    || "(no home directory)".to_owned(),
                    |p| p.display().to_string(),
                )
            };
            return Err(CredentialsError::not_configured(
                source,
                format!(
                    "missing files: neither {} nor {} exists",
                    shown(&files.credentials_path),
                    shown(&files.config_path)
                ),
            ));
        }
        let Some(props) = files.profile(&name) else {
            return Err(CredentialsError::new(
                source,
                CredentialsErrorKind::ProfileNotFound {
                    profile: name,
                    searched: found,
                    explicit,
                },
            ));
        };
        if let Some(key_id) = props.get("aws_access_key_id") {
            let Some(secret) = props.get("aws_secret_access_key") else {
                return Err(CredentialsError::new(
                    source,
                    CredentialsErrorKind::Invalid(
                        "`aws_access_key_id` is set but `aws_secret_access_key` is missing"
                            .to_owned(),
                    ),
                ));
            };
            tracing::debug!(profile = %name, "credentials from shared files");
            return Ok(Credentials::new(
                key_id.expose(),
                secret.clone(),
                props.get("aws_session_token").cloned(),
                None,
            ));
        }
        if let Some(command) = props.get("credential_process") {
            let Some(runner) = &self.runner else {
                return Err(CredentialsError::new(
                    CredentialSource::Process(name),
                    CredentialsErrorKind::NoProcessRunner,
                ));
            };
            tracing::debug!(profile = %name, "running credential_process");
            let creds =
                run_credential_process(runner.as_ref(), command, &name, self.process_timeout)
                    .await?;
            if let Some(e) = creds.expiry().filter(|e| *e <= self.clock.now()) {
                return Err(CredentialsError::new(
                    CredentialSource::Process(name),
                    CredentialsErrorKind::Expired(e),
                ));
            }
            return Ok(creds);
        }
        for unsupported in [
            "role_arn",
            "sso_session",
            "sso_start_url",
            "web_identity_token_file",
        ] {
            if props.get(unsupported).is_some() {
                return Err(CredentialsError::new(
                    source,
                    CredentialsErrorKind::Invalid(format!(
                        "the profile uses `{unsupported}`, which cql4-auth does not support; \
                         export credentials (e.g. `aws configure export-credentials`) or use \
                         `credential_process`"
                    )),
                ));
            }
        }
        Err(CredentialsError::not_configured(
            source,
            "the profile has neither `aws_access_key_id` nor `credential_process`",
        ))
    }
}

impl super::CredentialsProvider for ProfileProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.load())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::now_or_never;
    use crate::credentials::CredentialsProvider;

    fn p(text: &str, kind: FileKind) -> Result<ProfileFile, ProfileFileError> {
        parse(text, Path::new("/f"), kind)
    }

    fn val(f: &ProfileFile, profile: &str, key: &str) -> Option<String> {
        f.profiles
            .get(profile)
            .and_then(|p| p.get(key))
            .map(|s| s.expose().to_owned())
    }

    #[test]
    fn comments_blank_lines_and_spaces_around_equals() {
        let f = p(
            "# full-line hash\n; full-line semicolon\n\n[default] # after header\n\
             a=1\n b_is_continuation = x\nc = 2 ;comment\nd = abc#def\ne =  \tv w \t# c\n\
             f = x;y\n   \n\tg = 3\n",
            FileKind::Credentials,
        );
        // ` b_is_continuation = x` is indented: it continues `a`.
        let f = f.unwrap();
        assert_eq!(
            val(&f, "default", "a").as_deref(),
            Some("1\nb_is_continuation = x")
        );
        assert_eq!(val(&f, "default", "c").as_deref(), Some("2"));
        assert_eq!(val(&f, "default", "d").as_deref(), Some("abc#def"));
        assert_eq!(val(&f, "default", "e").as_deref(), Some("v w"));
        // `\tg = 3` is indented too: a continuation of `f`, as in the SDKs.
        assert_eq!(val(&f, "default", "f").as_deref(), Some("x;y\ng = 3"));
        assert_eq!(val(&f, "default", "b_is_continuation"), None);
    }

    #[test]
    fn keys_are_case_insensitive() {
        let f = p("[x]\nAWS_Access_Key_ID = K\n", FileKind::Credentials).unwrap();
        assert_eq!(val(&f, "x", "aws_access_key_id").as_deref(), Some("K"));
    }

    #[test]
    fn key_before_any_section_is_an_error_with_line_number() {
        let e = p(
            "\n# c\naws_secret_access_key = SHHH\n[default]\n",
            FileKind::Credentials,
        )
        .unwrap_err();
        assert_eq!(
            e,
            ProfileFileError::Malformed {
                path: PathBuf::from("/f"),
                line: 3,
                reason: "property before any `[section]` header"
            }
        );
        assert!(!e.to_string().contains("SHHH"));
        assert!(e.to_string().contains("malformed line 3"), "{e}");
    }

    #[test]
    fn malformed_lines() {
        let cases = [
            ("[default]\njust words\n", 2, "expected `key = value`"),
            ("[default\n", 1, "section header without a closing `]`"),
            ("[ ]\n", 1, "empty section name"),
            (
                "[default]\n = v\n",
                2,
                "indented line that continues no property",
            ),
            ("[default]\n= v\n", 2, "property without a name before `=`"),
            ("[profile ]\n", 1, "`[profile]` without a name"),
        ];
        for (text, line, reason) in cases {
            let kind = if text.contains("profile") {
                FileKind::Config
            } else {
                FileKind::Credentials
            };
            match p(text, kind) {
                Err(ProfileFileError::Malformed {
                    line: l, reason: r, ..
                }) => {
                    assert_eq!((l, r), (line, reason), "{text:?}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn duplicate_sections_merge_later_wins() {
        let f = p(
            "[a]\nx = 1\ny = 1\n[b]\nx = b\n[a]\ny = 2\n",
            FileKind::Credentials,
        )
        .unwrap();
        assert_eq!(val(&f, "a", "x").as_deref(), Some("1"));
        assert_eq!(val(&f, "a", "y").as_deref(), Some("2"));
        assert_eq!(val(&f, "b", "x").as_deref(), Some("b"));
    }

    #[test]
    fn config_sections_need_the_profile_prefix() {
        let f = p(
            "[profile dev]\nregion = eu-west-1\n[dev2]\nregion = x\n[sso-session s]\nk = v\n\
             [profile  spaced ]\nregion = r\n",
            FileKind::Config,
        )
        .unwrap();
        assert_eq!(val(&f, "dev", "region").as_deref(), Some("eu-west-1"));
        assert_eq!(val(&f, "spaced", "region").as_deref(), Some("r"));
        assert!(!f.profiles.contains_key("dev2"));
        assert!(!f.profiles.contains_key("sso-session s"));
        // In the credentials file, the name is literal.
        let c = p("[profile dev]\nx = 1\n", FileKind::Credentials).unwrap();
        assert!(c.profiles.contains_key("profile dev"));
    }

    #[test]
    fn profile_default_wins_over_bare_default_in_config() {
        for text in [
            "[default]\nregion = bare\n[profile default]\nregion = prefixed\n",
            "[profile default]\nregion = prefixed\n[default]\nregion = bare\n",
        ] {
            let f = p(text, FileKind::Config).unwrap();
            assert_eq!(
                val(&f, "default", "region").as_deref(),
                Some("prefixed"),
                "{text}"
            );
        }
        let f = p("[default]\nregion = bare\n", FileKind::Config).unwrap();
        assert_eq!(val(&f, "default", "region").as_deref(), Some("bare"));
    }

    #[test]
    fn properties_debug_hides_values() {
        let f = p("[a]\naws_secret_access_key = SHHH\n", FileKind::Credentials).unwrap();
        let d = format!("{f:?}");
        assert!(
            d.contains("aws_secret_access_key") && !d.contains("SHHH"),
            "{d}"
        );
    }

    use crate::credentials::process::testing::printing;
    use crate::env::MapEnv;

    const PROC_JSON: &str = r#"{"Version":1,"AccessKeyId":"PROC","SecretAccessKey":"S","Expiration":"2999-01-01T00:00:00Z"}"#;

    /// Files from `env`, any `credential_process` answered with [`PROC_JSON`].
    fn provider(env: MapEnv) -> ProfileProvider {
        let env = Arc::new(env);
        ProfileProvider::new(env.clone())
            .with_file_reader(env)
            .with_process_runner(Arc::new(printing(PROC_JSON)))
    }

    fn load(env: MapEnv) -> Result<Credentials, CredentialsError> {
        now_or_never(provider(env).provide_credentials()).unwrap()
    }

    #[test]
    fn without_injected_io_the_source_fails_clearly_and_stops_a_chain() {
        let env = Arc::new(home().with_file(
            "/h/.aws/config",
            "[default]\ncredential_process = get-creds\n",
        ));
        let e = now_or_never(ProfileProvider::new(env.clone()).load())
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(e.kind, CredentialsErrorKind::NoFileReader(_)),
            "{e}"
        );
        assert!(e.is_fatal());
        assert!(e.to_string().contains("with_file_reader"), "{e}");
        let e = now_or_never(
            ProfileProvider::new(env.clone())
                .with_file_reader(env)
                .load(),
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(e.kind, CredentialsErrorKind::NoProcessRunner);
        assert_eq!(e.source, CredentialSource::Process("default".into()));
        assert!(
            e.is_fatal() && e.to_string().contains("with_process_runner"),
            "{e}"
        );
    }

    #[test]
    fn oversized_and_non_utf8_files_are_errors() {
        let big = format!("[default]\n# {}\n", "x".repeat(MAX_SHARED_FILE));
        let e = load(home().with_file("/h/.aws/config", &big)).unwrap_err();
        assert!(e.is_fatal());
        assert!(
            e.to_string()
                .contains("/h/.aws/config is larger than 1048576 bytes"),
            "{e}"
        );
        #[derive(Debug)]
        struct Latin1;
        impl FileReader for Latin1 {
            fn read_file(
                &self,
                _: PathBuf,
                _: usize,
            ) -> BoxFuture<'_, io::Result<crate::secret::Secret>> {
                Box::pin(std::future::ready(Ok(b"[default]\nregion = \xe9\n"
                    .to_vec()
                    .into())))
            }
        }
        let e = now_or_never(
            ProfileProvider::new(Arc::new(home()))
                .with_file_reader(Arc::new(Latin1))
                .load(),
        )
        .unwrap()
        .unwrap_err();
        assert!(e.to_string().contains("cannot read /h/.aws/config"), "{e}");
    }

    fn home() -> MapEnv {
        MapEnv::new().with_home("/h")
    }

    #[test]
    fn credentials_file_wins_over_config() {
        let env = home()
            .with_file(
                "/h/.aws/credentials",
                "[default]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s1\n",
            )
            .with_file(
                "/h/.aws/config",
                "[default]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = s2\n\
                 aws_session_token = t2\n",
            );
        let c = load(env).unwrap();
        assert_eq!(c.access_key_id(), "FROMCREDS");
        assert_eq!(c.secret_access_key().expose(), "s1");
        // Keys not in the credentials file still come from config (merge per key).
        assert_eq!(c.session_token().map(SecretString::expose), Some("t2"));
    }

    #[test]
    fn static_keys_win_over_credential_process() {
        let env = home()
            .with_file(
                "/h/.aws/credentials",
                "[default]\naws_access_key_id = STATIC\naws_secret_access_key = S\n",
            )
            .with_file("/h/.aws/config", "[default]\ncredential_process = exit 1\n");
        assert_eq!(load(env).unwrap().access_key_id(), "STATIC");
        let env = Arc::new(home().with_file(
            "/h/.aws/config",
            "[default]\ncredential_process = get-creds --profile dev\n",
        ));
        let runner = Arc::new(printing(PROC_JSON));
        let provider = ProfileProvider::new(env.clone())
            .with_file_reader(env)
            .with_process_runner(runner.clone());
        let c = now_or_never(provider.load()).unwrap().unwrap();
        assert_eq!(c.access_key_id(), "PROC");
        assert_eq!(
            runner.seen.lock().unwrap()[0].command.expose(),
            "get-creds --profile dev"
        );
        assert!(c.expiry().is_some());
    }

    #[test]
    fn credentials_in_config_file_only() {
        let env = home().with_file(
            "/h/.aws/config",
            "[profile dev]\naws_access_key_id = K\naws_secret_access_key = S\n",
        );
        let c = load(env.with_var("AWS_PROFILE", "dev")).unwrap();
        assert_eq!(c.access_key_id(), "K");
    }

    #[test]
    fn env_vars_move_files_and_pick_profile() {
        let env = home()
            .with_var("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds")
            .with_var("AWS_CONFIG_FILE", "/etc/aws-config")
            .with_var("AWS_PROFILE", "p")
            .with_file(
                "/h/elsewhere/creds",
                "[p]\naws_access_key_id = K\naws_secret_access_key = S\n",
            )
            // The default location is ignored once the variable points elsewhere.
            .with_file(
                "/h/.aws/credentials",
                "[p]\naws_access_key_id = WRONG\naws_secret_access_key = S\n",
            );
        assert_eq!(load(env).unwrap().access_key_id(), "K");
    }

    #[test]
    fn missing_files_profile_not_found_and_incomplete_profiles() {
        let e = load(home()).unwrap_err();
        assert!(!e.is_fatal());
        let s = e.to_string();
        assert!(
            s.contains("missing files") && s.contains("/h/.aws/credentials"),
            "{s}"
        );

        let env = home().with_file("/h/.aws/credentials", "[other]\nx = 1\n");
        let e = load(env.clone()).unwrap_err();
        assert!(
            !e.is_fatal(),
            "implicit default profile missing: chain moves on"
        );
        assert!(e
            .to_string()
            .contains("profile `default` not found in /h/.aws/credentials"));
        let e = load(env.with_var("AWS_PROFILE", "nope")).unwrap_err();
        assert!(e.is_fatal(), "explicit profile missing: chain stops");
        assert!(e.to_string().contains("`nope`"), "{e}");

        let env = home().with_file("/h/.aws/credentials", "[default]\naws_access_key_id = K\n");
        let e = load(env).unwrap_err();
        assert!(e.is_fatal());
        assert!(
            e.to_string().contains("aws_secret_access_key` is missing"),
            "{e}"
        );

        let env = home().with_file("/h/.aws/config", "[default]\nregion = x\n");
        let e = load(env).unwrap_err();
        assert!(!e.is_fatal());

        let env = home().with_file("/h/.aws/config", "[default]\nrole_arn = arn:x\n");
        let e = load(env).unwrap_err();
        assert!(e.is_fatal() && e.to_string().contains("role_arn"), "{e}");
    }

    #[test]
    fn malformed_file_reports_path_and_line() {
        let env = home().with_file("/h/.aws/config", "[default]\nregion = x\noops\n");
        let e = load(env).unwrap_err();
        assert!(e.is_fatal());
        assert_eq!(
            e.to_string(),
            "shared config files, profile `default`: /h/.aws/config: malformed line 3: \
             expected `key = value`"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        type Profiles = BTreeMap<String, BTreeMap<String, String>>;

        fn profiles() -> impl Strategy<Value = Profiles> {
            proptest::collection::btree_map(
                "[a-z0-9-]{1,10}",
                proptest::collection::btree_map(
                    "[a-z_]{1,10}",
                    "[A-Za-z0-9/+=][A-Za-z0-9/+=#;]{0,20}",
                    0..5,
                ),
                0..4,
            )
        }

        /// Renders with random spacing around `=`, trailing comments, comment and blank lines.
        fn render(p: &Profiles, style: &[u8]) -> String {
            let mut style = style.iter().cycle();
            let mut next = || usize::from(*style.next().unwrap_or(&0));
            let mut out = String::new();
            for (name, props) in p {
                out.push_str(["", "# c\n", "\n", "; c\n"][next() % 4]);
                out.push_str(&format!("[{name}]{}\n", ["", " # c", "  ; c"][next() % 3]));
                for (k, v) in props {
                    let sp = ["", " ", "\t", "  "];
                    out.push_str(&format!(
                        "{k}{}={}{v}{}\n",
                        sp[next() % 4],
                        sp[next() % 4],
                        ["", " # c", "\t; c", " "][next() % 4]
                    ));
                    out.push_str(["", "\n", "  # indented comment\n"][next() % 3]);
                }
            }
            out
        }

        proptest! {
            #[test]
            fn rendered_files_parse_back(p in profiles(), style in proptest::collection::vec(any::<u8>(), 1..32)) {
                let text = render(&p, &style);
                let f = parse(&text, Path::new("/f"), FileKind::Credentials).unwrap();
                let got: Profiles = f
                    .profiles
                    .iter()
                    .map(|(n, props)| {
                        (n.clone(), props.0.iter().map(|(k, v)| (k.clone(), v.expose().to_owned())).collect())
                    })
                    .collect();
                prop_assert_eq!(got, p, "{}", text);
            }

            #[test]
            fn arbitrary_text_never_panics(text in "(?s).{0,300}", config in any::<bool>()) {
                let kind = if config { FileKind::Config } else { FileKind::Credentials };
                let _ = parse(&text, Path::new("/f"), kind);
            }
        }
    }
}
