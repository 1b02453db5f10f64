//! Diagnostics to stderr through `tracing`, filtered by `CQL4_LOG` (else `RUST_LOG`), off by
//! default so that a failure prints exactly one line.
//!
//! Secrets never reach these logs: the password is a redacting type from the command line on
//! (`args::Password`), and the connection and auth crates log no credential at any level.

use tracing_subscriber::EnvFilter;

use crate::error::CliError;

/// The variables read, first match wins.
pub(crate) const LOG_ENV: [&str; 2] = ["CQL4_LOG", "RUST_LOG"];

/// The filter directive from the environment, if any.
fn directive(env: impl Fn(&str) -> Option<String>) -> Option<(&'static str, String)> {
    LOG_ENV.iter().find_map(|name| {
        env(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*name, v))
    })
}

/// Installs the stderr subscriber when a filter is set.
pub(crate) fn init(env: impl Fn(&str) -> Option<String>) -> Result<(), CliError> {
    let Some((name, value)) = directive(env) else {
        return Ok(());
    };
    let filter = EnvFilter::try_new(&value)
        .map_err(|e| CliError::Usage(format!("invalid {name} filter {value:?}: {e}")))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init()
        .map_err(|e| CliError::Failed(format!("cannot set up logging: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cql4_log_wins_over_rust_log() {
        let env = |name: &str| match name {
            "CQL4_LOG" => Some("debug".to_owned()),
            "RUST_LOG" => Some("trace".to_owned()),
            _ => None,
        };
        assert_eq!(directive(env), Some(("CQL4_LOG", "debug".to_owned())));
        let env = |name: &str| (name == "RUST_LOG").then(|| "info".to_owned());
        assert_eq!(directive(env), Some(("RUST_LOG", "info".to_owned())));
        assert_eq!(directive(|_| Some("  ".to_owned())), None);
        assert_eq!(directive(|_| None), None);
    }

    #[test]
    fn bad_filter_is_a_usage_error() {
        let e = init(|name| (name == "CQL4_LOG").then(|| "cql4=notalevel".to_owned())).unwrap_err();
        assert!(matches!(e, CliError::Usage(_)), "{e:?}");
        assert!(e.to_string().contains("CQL4_LOG"), "{e}");
    }
}
