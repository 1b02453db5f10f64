//! The command's errors: each renders as ONE line after `cql4: error: `.

use std::fmt;
use std::path::PathBuf;

/// Everything that makes the command exit non-zero.
#[derive(Debug)]
pub(crate) enum CliError {
    /// A bad flag or flag combination (exit status 2).
    Usage(String),
    /// Ctrl-C at the password prompt (exit status 130, as a shell reports death by SIGINT).
    Interrupted,
    /// A local file could not be read.
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Standard input or output failed.
    Io(std::io::Error),
    /// Connecting, authenticating or running a statement failed; the message is already one
    /// line.
    Failed(String),
    /// A statement from a file or stdin failed.
    Statement {
        /// 1-based statement number.
        number: usize,
        /// 1-based line where it starts.
        line: usize,
        /// What went wrong.
        source: Box<Self>,
    },
}

impl CliError {
    /// A clap parse error as one line (clap's own rendering spans several: the message, usage and
    /// a hint).
    pub(crate) fn from_clap(err: &clap::Error) -> Self {
        let rendered = err.to_string();
        let first = rendered
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("invalid arguments");
        let first = first.strip_prefix("error:").unwrap_or(first).trim();
        Self::Usage(format!("{first} (see --help)"))
    }

    /// The process exit status for this error: 2 for usage errors, as clap uses, 130 (128 +
    /// SIGINT) for Ctrl-C at the password prompt, else 1.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Interrupted => 130,
            _ => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(msg) | Self::Failed(msg) => f.write_str(&one_line(msg)),
            Self::Interrupted => f.write_str("interrupted"),
            Self::File { path, source } => {
                write!(f, "cannot read {}: {}", path.display(), source)
            }
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Statement {
                number,
                line,
                source,
            } => write!(f, "statement {number} (line {line}): {source}"),
        }
    }
}

impl std::error::Error for CliError {}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Folds a possibly multi-line message (server messages can hold newlines) into one line.
pub(crate) fn one_line(msg: &str) -> String {
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_errors_name_number_and_line() {
        let e = CliError::Statement {
            number: 3,
            line: 7,
            source: Box::new(CliError::Failed(
                "server error Invalid (0x2200): bad\n  thing".into(),
            )),
        };
        assert_eq!(
            e.to_string(),
            "statement 3 (line 7): server error Invalid (0x2200): bad thing"
        );
        assert_eq!(e.exit_code(), 1);
    }

    #[test]
    fn file_errors_name_the_file() {
        let e = CliError::File {
            path: "/no/such.cql".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let s = e.to_string();
        assert!(s.starts_with("cannot read /no/such.cql: "), "{s}");
        assert!(!s.contains('\n'));
    }

    #[test]
    fn usage_errors_exit_2() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
    }

    #[test]
    fn interrupted_exits_130() {
        assert_eq!(CliError::Interrupted.exit_code(), 130);
        assert_eq!(CliError::Interrupted.to_string(), "interrupted");
    }
}
