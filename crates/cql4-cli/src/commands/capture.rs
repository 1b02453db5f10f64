//! CAPTURE: query results go to a file (appended) instead of the terminal, as cqlsh does;
//! messages of shell commands and errors still show.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::{improper, Arg};
use crate::error::CliError;

/// An open capture file.
#[derive(Debug)]
pub(crate) struct Capture {
    /// The path as given, `~` expanded.
    pub(crate) path: PathBuf,
    /// Opened for appending.
    pub(crate) file: File,
}

/// `~/…` as cqlsh expands it (HOME).
pub(crate) fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ if path == "~" => std::env::var_os("HOME").map_or_else(|| path.into(), PathBuf::from),
        _ => PathBuf::from(path),
    }
}

/// `CAPTURE ['file'|OFF]`: the message to print.
pub(super) fn command(args: &[Arg], current: &mut Option<Capture>) -> Result<String, CliError> {
    match args {
        [] => Ok(match current {
            Some(c) => format!(
                "Currently capturing query output to '{}'.",
                c.path.display()
            ),
            None => "Currently not capturing query output.".to_owned(),
        }),
        [arg] if arg.is("OFF") => match current.take() {
            Some(_) => Ok(String::new()),
            None => Err(CliError::Failed("Not currently capturing output.".into())),
        },
        [Arg::Quoted(path)] => {
            if let Some(c) = current {
                return Err(CliError::Failed(format!(
                    "Already capturing output to {}. Use CAPTURE OFF to disable.",
                    c.path.display()
                )));
            }
            let path = expand_home(path);
            let file = File::options()
                .append(true)
                .create(true)
                .open(&path)
                .map_err(|e| {
                    CliError::Failed(format!(
                        "Could not open '{}' for append: {e}",
                        path.display()
                    ))
                })?;
            let msg = format!("Now capturing query output to '{}'.", path.display());
            *current = Some(Capture { path, file });
            Ok(msg)
        }
        _ => Err(improper("CAPTURE")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::arguments;
    use super::*;

    #[test]
    fn capture_opens_reports_and_closes() {
        let path = std::env::temp_dir().join(format!("cql4-capture-{}.txt", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut c = None;
        let say = |args: &str, c: &mut Option<Capture>| command(&arguments(args).unwrap(), c);
        assert_eq!(
            say("", &mut c).unwrap(),
            "Currently not capturing query output."
        );
        assert_eq!(
            say("off", &mut c).unwrap_err().to_string(),
            "Not currently capturing output."
        );
        let quoted = format!("'{}'", path.display());
        assert_eq!(
            say(&quoted, &mut c).unwrap(),
            format!("Now capturing query output to '{}'.", path.display())
        );
        assert!(path.exists());
        assert!(say(&quoted, &mut c)
            .unwrap_err()
            .to_string()
            .starts_with("Already capturing output to "));
        assert_eq!(say("OFF", &mut c).unwrap(), "");
        assert!(c.is_none());
        assert_eq!(
            say("unquoted.txt", &mut c).unwrap_err().to_string(),
            "Improper CAPTURE command."
        );
        std::fs::remove_file(&path).unwrap();
        let e = say("'/no/such/dir/x.txt'", &mut c).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Could not open '/no/such/dir/x.txt' for append: "),
            "{e}"
        );
    }
}
