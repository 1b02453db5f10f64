//! The command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// A password that never shows in Debug output.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// The secret itself, for the authenticator only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

impl std::str::FromStr for Password {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// Mutation fuzzer for a Cassandra-protocol (v4) server you own.
///
/// Takes valid requests as templates (by default captured from a logged-in session; with
/// --stage before-startup|before-auth, built-in requests an unauthenticated client may send,
/// without logging in; or loaded with --templates), sends mutated copies one by one at that
/// stage of a connection, and reports hangs, crashes, undecodable answers and error messages
/// leaking server internals. Each finding is minimized and written as a file that
/// --replay sends again. Iteration I of seed S always draws the same frame.
///
/// Only loopback targets unless --allow-remote names the host. Exit status: 0 when the run
/// ends (findings or not) or a replay reproduces; 1 when a replay does not reproduce; 2 on
/// errors.
#[derive(Debug, Clone, Parser)]
#[command(name = "cql4-fuzz-server", version)]
#[non_exhaustive]
pub struct Args {
    /// Server host. Every address it resolves to must be loopback, unless --allow-remote names
    /// it.
    #[arg(long, default_value = "127.0.0.1", help_heading = "Target")]
    pub host: String,
    /// Native protocol port.
    #[arg(long, default_value_t = 9142, help_heading = "Target")]
    pub port: u16,
    /// Allow HOST although it resolves to non-loopback addresses (must equal --host). Only for
    /// a server you own: this tool sends garbage and may crash it.
    #[arg(long, value_name = "HOST", help_heading = "Target")]
    pub allow_remote: Option<String>,
    /// PEM file of the CA that signed the server's certificate.
    #[arg(long, value_name = "FILE", help_heading = "Target")]
    pub ca: Option<PathBuf>,
    /// Name to verify in the server's certificate (default: --host).
    #[arg(long, value_name = "NAME", help_heading = "Target")]
    pub server_name: Option<String>,
    /// Plain TCP instead of TLS.
    #[arg(long, help_heading = "Target")]
    pub no_tls: bool,
    /// User for SASL PLAIN (else CQL4_USER, else CQL4_TEST_USER; none: no authentication).
    #[arg(long, env = "CQL4_USER", help_heading = "Target")]
    pub user: Option<String>,
    /// Password for SASL PLAIN (else CQL4_PASSWORD, else CQL4_TEST_PASSWORD).
    #[arg(
        long,
        env = "CQL4_PASSWORD",
        hide_env_values = true,
        help_heading = "Target"
    )]
    pub password: Option<Password>,

    /// Seed: iteration I of seed S always draws the same template and mutations.
    #[arg(long, default_value_t = 1, help_heading = "Run")]
    pub seed: u64,
    /// Stop after this long: a number of seconds, or with a unit (90s, 10m, 1h).
    #[arg(long, value_name = "TIME", default_value = "1m", value_parser = parse_duration, help_heading = "Run")]
    pub duration: Duration,
    /// Stop after this many requests.
    #[arg(long, value_name = "N", help_heading = "Run")]
    pub max_requests: Option<u64>,
    /// First iteration (with --max-requests: replay a range of a run).
    #[arg(long, value_name = "I", default_value_t = 0, help_heading = "Run")]
    pub start: u64,
    /// Send iteration I only.
    #[arg(long, value_name = "I", conflicts_with_all = ["start", "max_requests"], help_heading = "Run")]
    pub only_iteration: Option<u64>,
    /// Where requests are sent: on a logged-in connection, or on a fresh unauthenticated one
    /// (as its first frame, or after STARTUP).
    #[arg(long, value_enum, default_value_t = Stage::LoggedIn, help_heading = "Run")]
    pub stage: Stage,
    /// Load the templates from FILE (one `NAME HEX` per line) instead of capturing them.
    #[arg(long, value_name = "FILE", help_heading = "Run")]
    pub templates: Option<PathBuf>,
    /// Write the templates used (captured or loaded) to FILE.
    #[arg(long, value_name = "FILE", help_heading = "Run")]
    pub save_templates: Option<PathBuf>,
    /// Directory for findings and summary.txt (default: target/fuzz-server/SEED-TIME, TIME being
    /// the Unix time).
    #[arg(long, value_name = "DIR", help_heading = "Run")]
    pub out: Option<PathBuf>,

    /// A hang: whole frames sent and neither answer nor close within MS.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 5000,
        help_heading = "Detection"
    )]
    pub deadline_ms: u64,
    /// How long to wait for a reaction to bytes that are not whole frames.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 300,
        help_heading = "Detection"
    )]
    pub unknown_wait_ms: u64,
    /// Check every N requests that a fresh login still works.
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..), help_heading = "Detection")]
    pub health_every: u64,
    /// A crash: this many logins in a row fail (500 ms apart).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..), help_heading = "Detection")]
    pub crash_logins: u32,
    /// A crash finding lists the last N frames sent as candidates.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 16,
        help_heading = "Detection"
    )]
    pub crash_window: usize,
    /// At most N reproduction attempts to minimize each finding (0: no minimization).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 40,
        help_heading = "Detection"
    )]
    pub minimize_attempts: u32,

    /// Send the finding in FILE again and say whether it reproduces (a crash file: its frame,
    /// then, while the server stays up, each candidate newest first).
    #[arg(long, value_name = "FILE", help_heading = "Replay")]
    pub replay: Option<PathBuf>,
}

/// Where on a connection the mutated requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum Stage {
    /// After a full login, on a connection reused while its framing is known.
    LoggedIn,
    /// As the first frame of a fresh TCP/TLS connection (no OPTIONS, no STARTUP).
    BeforeStartup,
    /// On a fresh connection, after STARTUP was answered (AUTHENTICATE or READY): before any
    /// credentials.
    BeforeAuth,
}

impl Stage {
    /// The name used on the command line and in finding files.
    pub fn name(self) -> &'static str {
        match self {
            Self::LoggedIn => "logged-in",
            Self::BeforeStartup => "before-startup",
            Self::BeforeAuth => "before-auth",
        }
    }
}

impl std::str::FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Self::LoggedIn, Self::BeforeStartup, Self::BeforeAuth]
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown stage {s:?}"))
    }
}

impl Args {
    /// The hang deadline.
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }

    /// The wait after bytes that are not whole frames.
    pub fn unknown_wait(&self) -> Duration {
        Duration::from_millis(self.unknown_wait_ms)
    }
}

/// `90`, `90s`, `10m`, `1.5h`, `500ms`.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{s:?}: expected a number with an optional unit (ms, s, m, h)"))?;
    let seconds = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(format!("{s:?}: unknown unit {other:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn flags_parse_and_the_password_stays_out_of_debug() {
        let a = Args::try_parse_from([
            "cql4-fuzz-server",
            "--port",
            "19142",
            "--password",
            "hunter2",
            "--only-iteration",
            "7",
        ])
        .unwrap();
        assert_eq!((a.port, a.only_iteration), (19142, Some(7)));
        assert!(!format!("{a:?}").contains("hunter2"));
        assert_eq!(a.password.as_ref().map(Password::expose), Some("hunter2"));
        assert!(Args::try_parse_from(["x", "--only-iteration", "1", "--start", "2"]).is_err());
        assert!(Args::try_parse_from(["x", "--health-every", "0"]).is_err());
        Args::command_for_tests().debug_assert();
    }

    impl Args {
        fn command_for_tests() -> clap::Command {
            <Self as clap::CommandFactory>::command()
        }
    }
}
