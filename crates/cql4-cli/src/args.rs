//! Command-line flags (clap derive) and their validation into [`Settings`].
//!
//! clap checks the shape of each flag; [`Args::validate`] checks what clap cannot express (flags
//! that only make sense together, environment fallbacks, the `-f` file), asks for a password left
//! out, and produces the settings the runner uses. Every failure is one line: a
//! [`CliError::Usage`] (exit status 2), except a missing `-f` file ([`CliError::File`]) and
//! Ctrl-C at the password prompt ([`CliError::Interrupted`]).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use cql4_frame::Consistency;
use zeroize::Zeroizing;

use crate::cqlshrc::CopyDefaults;
use crate::cqlshrc::RcAuth;
use crate::error::CliError;
use crate::format::cell::Precision;

/// Environment variable cqlsh reads for the CA certificate file; used when TLS is on and
/// `--ssl-ca` is not given.
pub(crate) const SSL_CERTFILE_ENV: &str = "SSL_CERTFILE";

/// A password from the command line. Its `Debug` never shows it, and it is wiped on drop.
#[derive(Clone)]
pub(crate) struct Password(Zeroizing<String>);

impl Password {
    pub(crate) fn new(s: impl Into<String>) -> Self {
        Self(Zeroizing::new(s.into()))
    }

    /// The password itself, for the authenticator only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

fn parse_password(s: &str) -> Result<Password, String> {
    Ok(Password::new(s))
}

/// A consistency level by its §3 name, case-insensitively (`local_quorum` works).
fn parse_consistency(s: &str) -> Result<Consistency, String> {
    Consistency::from_name(s.trim()).ok_or_else(|| {
        let names: Vec<&str> = Consistency::KNOWN.iter().filter_map(|c| c.name()).collect();
        format!(
            "unknown consistency level (expected one of {})",
            names.join(", ")
        )
    })
}

/// Seconds as cqlsh takes them: a positive number, fractions allowed.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds".to_owned())?;
    // Written so NaN fails too.
    if secs.is_nan() || secs <= 0.0 {
        return Err("expected a positive number of seconds".to_owned());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| "number of seconds is too large".to_owned())
}

/// How rows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Aligned columns like cqlsh, then `(N rows)`.
    Table,
    /// One JSON object per row, keyed by column name.
    Json,
}

/// cqlsh's defaults.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A cqlsh-like client for Apache Cassandra and Amazon Keyspaces (CQL native protocol v4).
///
/// Statements come from -e, from -f, or from standard input (split on `;`).
#[derive(Debug, Parser)]
#[command(name = "cql4", version)]
pub(crate) struct Args {
    /// Host to connect to [default: cqlshrc's [connection] hostname, else 127.0.0.1].
    pub(crate) host: Option<String>,

    /// Port to connect to [default: cqlshrc's [connection] port, else 9042].
    pub(crate) port: Option<u16>,

    /// cqlsh's configuration file to read [default: ~/.cassandra/cqlshrc, if it exists]. The
    /// command line wins over it.
    #[arg(long, value_name = "FILE")]
    pub(crate) cqlshrc: Option<PathBuf>,

    /// User name for password authentication (SASL PLAIN). Without --password, the password
    /// is asked for on the terminal (not echoed).
    #[arg(short = 'u', long)]
    pub(crate) username: Option<String>,

    /// Password for password authentication; needs --username. Other users of the machine can
    /// see command lines: leave it out to be asked for it instead.
    #[arg(short = 'p', long, value_parser = parse_password, allow_hyphen_values = true)]
    pub(crate) password: Option<Password>,

    /// Connect with TLS.
    #[arg(long)]
    pub(crate) ssl: bool,

    /// PEM file of CA certificates to trust instead of the bundled Mozilla roots; implies --ssl.
    /// With --ssl alone, the SSL_CERTFILE environment variable is used as this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) ssl_ca: Option<PathBuf>,

    /// Name to verify the server certificate against (default: HOST).
    #[arg(long, value_name = "NAME")]
    pub(crate) ssl_server_name: Option<String>,

    /// Authenticate with AWS SigV4 (Amazon Keyspaces), credentials from the AWS default chain.
    #[arg(long)]
    pub(crate) sigv4: bool,

    /// AWS region for SigV4 (default: the AWS region chain, e.g. AWS_REGION).
    #[arg(long, value_name = "REGION")]
    pub(crate) region: Option<String>,

    /// Execute the given statements and exit.
    #[arg(short = 'e', long, value_name = "CQL")]
    pub(crate) execute: Option<String>,

    /// Execute the statements in FILE and exit.
    #[arg(short = 'f', long, value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,

    /// Keyspace to use.
    #[arg(short = 'k', long)]
    pub(crate) keyspace: Option<String>,

    /// Consistency level (case-insensitive), e.g. LOCAL_QUORUM.
    #[arg(long, default_value = "LOCAL_ONE", value_parser = parse_consistency)]
    pub(crate) consistency: Consistency,

    /// Rows per page; every page is fetched.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(i32).range(1..))]
    pub(crate) page_size: i32,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) output: OutputFormat,

    /// Seconds to wait for the connection (TCP, TLS and authentication) [default: 5].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub(crate) connect_timeout: Option<Duration>,

    /// Seconds to wait for each request [default: 10].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub(crate) request_timeout: Option<Duration>,
}

/// How to authenticate.
#[derive(Debug, Clone)]
pub(crate) enum AuthSettings {
    /// No credentials; the server must not ask for any.
    None,
    /// SASL PLAIN with PasswordAuthenticator.
    Password {
        /// The user name.
        username: String,
        /// The password (redacted in Debug).
        password: Password,
    },
    /// AWS SigV4; credentials from the AWS default chain.
    SigV4 {
        /// The region given on the command line, else the region chain decides.
        region: Option<String>,
    },
}

/// TLS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    /// CA file to trust instead of the bundled Mozilla roots.
    pub(crate) ca_file: Option<PathBuf>,
    /// Name to verify the certificate against instead of the host.
    pub(crate) server_name: Option<String>,
}

/// Where statements come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    /// `-e CQL`.
    Execute(String),
    /// `-f FILE`.
    File(PathBuf),
    /// Standard input.
    Stdin,
}

/// Validated settings for one run.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) auth: AuthSettings,
    pub(crate) tls: Option<TlsSettings>,
    pub(crate) input: Input,
    pub(crate) keyspace: Option<String>,
    pub(crate) consistency: Consistency,
    pub(crate) page_size: i32,
    pub(crate) output: OutputFormat,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    /// The cqlshrc's warnings (keys not applied, unknown keys), for stderr.
    pub(crate) warnings: Vec<String>,
    /// The cqlshrc's `[ui] float_precision` / `double_precision` (tables only).
    pub(crate) precision: Precision,
    /// The cqlshrc's COPY defaults.
    pub(crate) copy_defaults: CopyDefaults,
}

/// The default host and port, as cqlsh's.
const DEFAULT_HOST: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 9042;

impl Args {
    /// Checks the combinations clap does not, reading `SSL_CERTFILE` and `HOME` through `env`,
    /// merges the cqlshrc under the flags, and checks that the `-f` file exists. With a user
    /// and no password (`-u`, or the cqlshrc's), `prompt` is asked for the user's password (on
    /// the terminal, in the command), once every flag and the `-f` file have been found good;
    /// its [`std::io::ErrorKind::Interrupted`] error (Ctrl-C) is [`CliError::Interrupted`].
    pub(crate) fn validate(
        self,
        env: impl Fn(&str) -> Option<String>,
        prompt: impl FnOnce(&str) -> std::io::Result<Password>,
    ) -> Result<Settings, CliError> {
        let usage = |msg: &str| Err(CliError::Usage(msg.to_owned()));
        if self.sigv4 && (self.username.is_some() || self.password.is_some()) {
            return usage("--sigv4 cannot be used with -u/--username or -p/--password");
        }
        if self.execute.is_some() && self.file.is_some() {
            return usage("-e/--execute cannot be used with -f/--file");
        }
        if self.password.is_some() && self.username.is_none() {
            return usage("-p/--password needs -u/--username");
        }
        let rc = crate::cqlshrc::load(self.cqlshrc.as_deref(), env("HOME").as_deref())?;
        let rc_sigv4 = rc.as_ref().and_then(|rc| match &rc.auth {
            Some(RcAuth::SigV4 { region }) => Some(region.clone()),
            _ => None,
        });
        let cli_auth = self.sigv4 || self.username.is_some();
        let sigv4 = self.sigv4 || (!cli_auth && rc_sigv4.is_some());
        if self.region.is_some() && !sigv4 {
            return usage(
                "--region is only used with --sigv4 (or a SigV4 [auth_provider] in the cqlshrc)",
            );
        }
        // The user and password: the flags', else the file's (unless the flags chose SigV4).
        let (username, password) = if cli_auth {
            (self.username, self.password)
        } else if sigv4 {
            (None, None)
        } else {
            let rc = rc.as_ref();
            (
                rc.and_then(|rc| rc.username.clone()),
                rc.and_then(|rc| rc.password.clone()),
            )
        };
        // A password to ask for is asked for last, once the other flags are known to be good.
        let mut ask_password_of = None;
        let auth = match (username, password, sigv4) {
            (_, _, true) => AuthSettings::SigV4 {
                region: self.region.or(rc_sigv4.flatten()),
            },
            (Some(username), _, false) if username.is_empty() => {
                return usage("-u/--username must not be empty")
            }
            (Some(username), Some(password), false) => {
                AuthSettings::Password { username, password }
            }
            (Some(username), None, false) => {
                ask_password_of = Some(username);
                AuthSettings::None
            }
            (None, Some(_), false) => {
                return usage("the cqlshrc gives a password without a username")
            }
            (None, None, false) => AuthSettings::None,
        };
        let host = self
            .host
            .or_else(|| rc.as_ref().and_then(|rc| rc.hostname.clone()))
            .unwrap_or_else(|| DEFAULT_HOST.to_owned());
        let rc_ssl = rc.as_ref().and_then(|rc| rc.ssl) == Some(true);
        let tls = if self.ssl || self.ssl_ca.is_some() || rc_ssl {
            // As cqlsh: SSL_CERTFILE wins over the file's [certfiles] and [ssl] certfile.
            let ca_file = self
                .ssl_ca
                .or_else(|| {
                    env(SSL_CERTFILE_ENV)
                        .filter(|v| !v.is_empty())
                        .map(PathBuf::from)
                })
                .or_else(|| rc.as_ref().and_then(|rc| rc.certfile_for(&host)));
            Some(TlsSettings {
                ca_file,
                server_name: self.ssl_server_name,
            })
        } else if self.ssl_server_name.is_some() {
            return usage("--ssl-server-name needs --ssl or --ssl-ca");
        } else {
            None
        };
        let input = match (self.execute, self.file) {
            (Some(cql), None) => Input::Execute(cql),
            (None, Some(path)) => Input::File(path),
            _ => Input::Stdin,
        };
        if host.is_empty() {
            return usage("HOST must not be empty");
        }
        // A missing -f file is reported before asking for a password (and before connecting).
        if let Input::File(path) = &input {
            std::fs::metadata(path).map_err(|source| CliError::File {
                path: path.clone(),
                source,
            })?;
        }
        let auth = match ask_password_of {
            Some(username) => match prompt(&username) {
                Ok(password) => AuthSettings::Password { username, password },
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                    return Err(CliError::Interrupted)
                }
                Err(e) => {
                    return Err(CliError::Usage(format!(
                        "-u/--username without -p/--password asks for the password on the \
                         terminal, and that failed: {e}"
                    )))
                }
            },
            None => auth,
        };
        let rc_port = rc.as_ref().and_then(|rc| rc.port);
        let rc_keyspace = rc.as_ref().and_then(|rc| rc.keyspace.clone());
        let rc_connect = rc.as_ref().and_then(|rc| rc.connect_timeout);
        let rc_request = rc.as_ref().and_then(|rc| rc.request_timeout);
        let precision = rc
            .as_ref()
            .map_or_else(Precision::default, |rc| rc.precision);
        let copy_defaults = rc.as_ref().map(|rc| rc.copy.clone()).unwrap_or_default();
        let warnings = rc.map_or_else(Vec::new, |rc| {
            rc.warnings
                .iter()
                .map(|w| format!("{}: {w}", rc.path.display()))
                .collect()
        });
        Ok(Settings {
            host,
            port: self.port.or(rc_port).unwrap_or(DEFAULT_PORT),
            auth,
            tls,
            input,
            keyspace: self.keyspace.or(rc_keyspace),
            consistency: self.consistency,
            page_size: self.page_size,
            output: self.output,
            connect_timeout: self
                .connect_timeout
                .or(rc_connect)
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            request_timeout: self
                .request_timeout
                .or(rc_request)
                .unwrap_or(DEFAULT_REQUEST_TIMEOUT),
            warnings,
            precision,
            copy_defaults,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, CliError> {
        parse_env(args, None)
    }

    fn parse_env(args: &[&str], certfile: Option<&str>) -> Result<Settings, CliError> {
        parse_with(args, certfile, |user| {
            panic!("asked for {user}'s password although -p was given or -u was not")
        })
    }

    fn parse_with(
        args: &[&str],
        certfile: Option<&str>,
        prompt: impl FnOnce(&str) -> std::io::Result<Password>,
    ) -> Result<Settings, CliError> {
        let args = Args::try_parse_from(std::iter::once("cql4").chain(args.iter().copied()))
            .map_err(|e| CliError::from_clap(&e))?;
        args.validate(
            |name| match name {
                SSL_CERTFILE_ENV => certfile.map(str::to_owned),
                // No cqlshrc: these tests are about the flags.
                "HOME" => None,
                other => panic!("read {other}"),
            },
            prompt,
        )
    }

    #[test]
    fn username_without_password_asks_for_it_once() {
        let mut asked = Vec::new();
        let s = parse_with(&["-u", "alice", "-e", "select 1"], None, |user| {
            asked.push(user.to_owned());
            Ok(Password::new("typed-pw"))
        })
        .unwrap();
        assert_eq!(asked, ["alice"]);
        match s.auth {
            AuthSettings::Password { username, password } => {
                assert_eq!(username, "alice");
                assert_eq!(password.expose(), "typed-pw");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_prompt_before_the_other_flags_are_checked() {
        // A bad flag combination is reported without asking for a password first.
        let msg = match parse_with(&["-u", "alice", "-e", "x", "-f", "y"], None, |_| {
            panic!("asked for a password before reporting the bad flags")
        }) {
            Err(CliError::Usage(msg)) => msg,
            other => panic!("{other:?}"),
        };
        assert!(msg.contains("-f/--file"), "{msg}");
        let msg = usage_message(&["-u", "", "-p", "x"]);
        assert!(msg.contains("must not be empty"), "{msg}");
    }

    #[test]
    fn a_failed_prompt_is_a_usage_error_naming_the_flags() {
        let e = parse_with(&["-u", "alice"], None, |_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no terminal",
            ))
        })
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        assert!(
            msg.contains("-p/--password") && msg.contains("no terminal"),
            "{msg}"
        );
    }

    #[test]
    fn ctrl_c_at_the_prompt_is_interrupted_not_a_usage_error() {
        let e = parse_with(&["-u", "alice"], None, |_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "interrupted",
            ))
        })
        .unwrap_err();
        assert!(matches!(e, CliError::Interrupted), "{e:?}");
        assert_eq!(e.exit_code(), 130);
    }

    #[test]
    fn missing_file_is_reported_before_the_prompt() {
        let e = parse_with(&["-u", "alice", "-f", "/no/such/dir/x.cql"], None, |_| {
            panic!("asked for a password before reporting the missing file")
        })
        .unwrap_err();
        match &e {
            CliError::File { path, .. } => assert_eq!(path, &PathBuf::from("/no/such/dir/x.cql")),
            other => panic!("{other:?}"),
        }
        let msg = e.to_string();
        assert!(msg.starts_with("cannot read /no/such/dir/x.cql: "), "{msg}");
        assert_eq!(e.exit_code(), 1);
        // An existing file: the prompt comes, once.
        let mut asked = 0;
        let s = parse_with(&["-u", "alice", "-f", EXISTING_FILE], None, |_| {
            asked += 1;
            Ok(Password::new("pw"))
        })
        .unwrap();
        assert_eq!(asked, 1);
        assert_eq!(s.input, Input::File(EXISTING_FILE.into()));
    }

    /// A file that exists wherever the tests run.
    const EXISTING_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");

    fn usage_message(args: &[&str]) -> String {
        match parse(args) {
            Err(CliError::Usage(msg)) => msg,
            other => panic!("expected a usage error for {args:?}, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let s = parse(&[]).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 9042));
        assert!(matches!(s.auth, AuthSettings::None));
        assert_eq!(s.tls, None);
        assert_eq!(s.input, Input::Stdin);
        assert_eq!(s.consistency, Consistency::LOCAL_ONE);
        assert_eq!(s.page_size, 5000);
        assert_eq!(s.output, OutputFormat::Table);
        assert_eq!(s.connect_timeout, Duration::from_secs(5));
        assert_eq!(s.request_timeout, Duration::from_secs(10));
    }

    #[test]
    fn host_port_and_password_login() {
        let s = parse(&[
            "db.example",
            "9142",
            "-u",
            "alice",
            "-p",
            "s3cret",
            "-k",
            "ks",
        ])
        .unwrap();
        assert_eq!((s.host.as_str(), s.port), ("db.example", 9142));
        match &s.auth {
            AuthSettings::Password { username, password } => {
                assert_eq!(username, "alice");
                assert_eq!(password.expose(), "s3cret");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.keyspace.as_deref(), Some("ks"));
    }

    #[test]
    fn password_may_start_with_a_dash() {
        match parse(&["-u", "alice", "-p", "-secret"]).unwrap().auth {
            AuthSettings::Password { password, .. } => assert_eq!(password.expose(), "-secret"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn password_never_in_debug_output() {
        let s = parse(&["-u", "alice", "--password", "hunter2-secret"]).unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("hunter2-secret"), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn consistency_names_are_case_insensitive() {
        for (given, want) in [
            ("local_quorum", Consistency::LOCAL_QUORUM),
            ("One", Consistency::ONE),
            ("EACH_QUORUM", Consistency::EACH_QUORUM),
            ("any", Consistency::ANY),
            ("Local_Serial", Consistency::LOCAL_SERIAL),
        ] {
            let s = parse(&["--consistency", given]).unwrap();
            assert_eq!(s.consistency, want, "{given}");
        }
    }

    #[test]
    fn bad_consistency_is_a_clear_usage_error() {
        let msg = usage_message(&["--consistency", "most"]);
        assert!(msg.contains("--consistency"), "{msg}");
        assert!(msg.contains("LOCAL_QUORUM"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }

    #[test]
    fn timeouts_take_fractional_seconds() {
        let s = parse(&["--connect-timeout", "1.5", "--request-timeout", "30"]).unwrap();
        assert_eq!(s.connect_timeout, Duration::from_millis(1500));
        assert_eq!(s.request_timeout, Duration::from_secs(30));
        for bad in ["0", "-1", "abc", "NaN", "inf"] {
            let msg = usage_message(&["--request-timeout", bad]);
            assert!(msg.contains("--request-timeout"), "{bad}: {msg}");
        }
    }

    #[test]
    fn page_size_must_be_positive() {
        assert_eq!(parse(&["--page-size", "7"]).unwrap().page_size, 7);
        usage_message(&["--page-size", "0"]);
        usage_message(&["--page-size", "x"]);
    }

    #[test]
    fn output_formats() {
        assert_eq!(
            parse(&["--output", "json"]).unwrap().output,
            OutputFormat::Json
        );
        let msg = usage_message(&["--output", "xml"]);
        assert!(msg.contains("xml"), "{msg}");
    }

    #[test]
    fn conflicting_flags() {
        let msg = usage_message(&["--sigv4", "-u", "a", "-p", "b"]);
        assert!(msg.contains("--sigv4"), "{msg}");
        let msg = usage_message(&["-e", "select 1", "-f", "x.cql"]);
        assert!(
            msg.contains("-e/--execute") && msg.contains("-f/--file"),
            "{msg}"
        );
        let msg = usage_message(&["--region", "us-east-1"]);
        assert!(msg.contains("--sigv4"), "{msg}");
        let msg = usage_message(&["-p", "x"]);
        assert!(msg.contains("--username"), "{msg}");
        let msg = usage_message(&["--ssl-server-name", "x"]);
        assert!(msg.contains("--ssl"), "{msg}");
    }

    #[test]
    fn unknown_flag_and_bad_port_are_usage_errors() {
        let msg = usage_message(&["--frobnicate"]);
        assert!(msg.contains("--frobnicate"), "{msg}");
        let msg = usage_message(&["host", "99999"]);
        assert!(msg.contains("99999"), "{msg}");
    }

    #[test]
    fn sigv4_with_and_without_region() {
        match parse(&["--sigv4", "--region", "eu-west-1"]).unwrap().auth {
            AuthSettings::SigV4 { region } => assert_eq!(region.as_deref(), Some("eu-west-1")),
            other => panic!("{other:?}"),
        }
        match parse(&["--sigv4"]).unwrap().auth {
            AuthSettings::SigV4 { region } => assert_eq!(region, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ssl_ca_implies_tls_and_env_certfile_applies_only_with_ssl() {
        let s = parse(&["--ssl-ca", "ca.pem", "--ssl-server-name", "node"]).unwrap();
        assert_eq!(
            s.tls,
            Some(TlsSettings {
                ca_file: Some("ca.pem".into()),
                server_name: Some("node".into()),
            })
        );
        let s = parse_env(&["--ssl"], Some("/env/ca.pem")).unwrap();
        assert_eq!(s.tls.unwrap().ca_file, Some("/env/ca.pem".into()));
        // The flag wins over the environment.
        let s = parse_env(&["--ssl-ca", "flag.pem"], Some("/env/ca.pem")).unwrap();
        assert_eq!(s.tls.unwrap().ca_file, Some("flag.pem".into()));
        // Without --ssl, SSL_CERTFILE alone does not turn TLS on (as in cqlsh).
        assert_eq!(parse_env(&[], Some("/env/ca.pem")).unwrap().tls, None);
        let s = parse(&["--ssl"]).unwrap();
        assert_eq!(s.tls.unwrap().ca_file, None);
    }

    #[test]
    fn inputs() {
        assert_eq!(
            parse(&["-e", "select 1"]).unwrap().input,
            Input::Execute("select 1".into())
        );
        assert_eq!(
            parse(&["--file", EXISTING_FILE]).unwrap().input,
            Input::File(EXISTING_FILE.into())
        );
    }

    /// Writes `text` as a cqlshrc and validates `args` with `--cqlshrc` pointing at it.
    fn with_rc(text: &str, args: &[&str]) -> Result<Settings, CliError> {
        let path = std::env::temp_dir().join(format!(
            "cql4-args-rc-{}-{}",
            std::process::id(),
            args.len() + text.len()
        ));
        std::fs::write(&path, text).unwrap();
        let rc = path.to_str().unwrap().to_owned();
        let mut all = vec!["--cqlshrc", rc.as_str()];
        all.extend_from_slice(args);
        let s = parse_with(&all, None, |user| {
            Ok(Password::new(format!("asked-{user}")))
        });
        std::fs::remove_file(&path).unwrap();
        s
    }

    const GUIDE_RC: &str = "[connection]\nhostname = rc.example\nport = 9142\nssl = true\n\
        timeout = 7\n[ssl]\nvalidate = true\ncertfile = /ca/rc.pem\n[auth_provider]\n\
        module = cassandra_sigv4.auth\nclassname = SigV4AuthProvider\nregion = eu-west-3\n\
        [authentication]\nkeyspace = rcks\n";

    #[test]
    fn cqlshrc_fills_what_the_flags_leave_out() {
        let s = with_rc(GUIDE_RC, &[]).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("rc.example", 9142));
        let tls = s.tls.unwrap();
        assert_eq!(tls.ca_file, Some(PathBuf::from("/ca/rc.pem")));
        assert!(matches!(s.auth, AuthSettings::SigV4 { region: Some(ref r) } if r == "eu-west-3"));
        assert_eq!(s.keyspace.as_deref(), Some("rcks"));
        assert_eq!(s.connect_timeout, Duration::from_secs(7));
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn the_command_line_wins_over_the_cqlshrc() {
        let s = with_rc(
            GUIDE_RC,
            &[
                "other.example",
                "9999",
                "-u",
                "bob",
                "-p",
                "pw",
                "-k",
                "cli",
                "--ssl-ca",
                "/ca/cli.pem",
            ],
        )
        .unwrap();
        assert_eq!((s.host.as_str(), s.port), ("other.example", 9999));
        assert!(matches!(s.auth, AuthSettings::Password { ref username, .. } if username == "bob"));
        assert_eq!(s.keyspace.as_deref(), Some("cli"));
        assert_eq!(s.tls.unwrap().ca_file, Some(PathBuf::from("/ca/cli.pem")));
        // --region overrides the file's region.
        let s = with_rc(GUIDE_RC, &["--region", "us-west-2"]).unwrap();
        assert!(matches!(s.auth, AuthSettings::SigV4 { region: Some(ref r) } if r == "us-west-2"));
    }

    #[test]
    fn cqlshrc_username_without_password_asks_for_it() {
        let s = with_rc("[authentication]\nusername = carol\n", &[]).unwrap();
        match s.auth {
            AuthSettings::Password { username, password } => {
                assert_eq!(username, "carol");
                assert_eq!(password.expose(), "asked-carol");
            }
            other => panic!("{other:?}"),
        }
        let s = with_rc("[authentication]\nusername = carol\npassword = pc\n", &[]).unwrap();
        assert!(
            matches!(s.auth, AuthSettings::Password { ref password, .. } if password.expose() == "pc")
        );
    }

    #[test]
    fn cqlshrc_warnings_and_errors_name_the_file() {
        let s = with_rc("[ui]\ntimezone = UTC\n", &[]).unwrap();
        assert_eq!(s.warnings.len(), 1);
        assert!(s.warnings[0].ends_with(": [ui] timezone is not supported (cql4 prints values in one fixed format); ignored"), "{:?}", s.warnings);
        let e = with_rc("[connection]\nport = x\n", &[]).unwrap_err();
        assert!(
            e.to_string()
                .ends_with(":2: [connection] port: expected a port number"),
            "{e}"
        );
        assert_eq!(e.exit_code(), 2);
        let e = parse(&["--cqlshrc", "/no/such/rc"]).unwrap_err();
        assert!(
            e.to_string().starts_with("cannot read /no/such/rc: "),
            "{e}"
        );
    }
}
