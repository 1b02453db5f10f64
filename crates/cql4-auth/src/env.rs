//! The process environment as an injected dependency: environment variables and the home
//! directory, so tests (and embedders) never mutate the real process environment. File contents
//! come through an injected [`crate::FileReader`] instead: reading a file may block, reading a
//! variable does not.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::io::FileReader;
use crate::sasl::BoxFuture;
use crate::secret::Secret;

/// Environment variables and the home directory.
pub trait Env: Send + Sync + fmt::Debug {
    /// The variable's value; `None` when unset or empty (the SDKs treat an empty variable as
    /// unset).
    fn var(&self, name: &str) -> Option<String>;

    /// The user's home directory (`~`).
    fn home_dir(&self) -> Option<PathBuf>;
}

/// The real process environment: `std::env` and `HOME` (or `USERPROFILE` on Windows).
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.var("HOME")
            .or_else(|| {
                if cfg!(windows) {
                    self.var("USERPROFILE")
                } else {
                    None
                }
            })
            .map(PathBuf::from)
    }
}

/// An in-memory environment for tests: variables, a home directory and files (it is also a
/// [`FileReader`] whose reads complete at once).
///
/// `Debug` prints variable names only (values may be secrets).
#[derive(Clone, Default)]
pub struct MapEnv {
    vars: HashMap<String, String>,
    home: Option<PathBuf>,
    files: HashMap<PathBuf, String>,
}

impl fmt::Debug for MapEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("MapEnv")
            .field("vars", &names)
            .field("home", &self.home)
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl MapEnv {
    /// An empty environment: no variables, no home, no files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a variable.
    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Sets the home directory.
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// Adds a file.
    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: &str) -> Self {
        self.files.insert(path.into(), contents.to_owned());
        self
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }
}

impl FileReader for MapEnv {
    fn read_file(&self, path: PathBuf, limit: usize) -> BoxFuture<'_, io::Result<Secret>> {
        let contents = self.files.get(&path).map(|text| {
            let bytes = text.as_bytes();
            Secret::new(
                bytes
                    .get(..limit.saturating_add(1))
                    .unwrap_or(bytes)
                    .to_vec(),
            )
        });
        Box::pin(std::future::ready(
            contents.ok_or_else(|| io::Error::from(io::ErrorKind::NotFound)),
        ))
    }
}

/// Expands a leading `~/` (or `~` alone) with the home directory, as the SDKs do for
/// `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`.
pub(crate) fn expand_home(path: &str, env: &dyn Env) -> PathBuf {
    if path == "~" {
        if let Some(home) = env.home_dir() {
            return home;
        }
    }
    if let Some(rest) = path.strip_prefix("~/").or_else(|| path.strip_prefix("~\\")) {
        if let Some(home) = env.home_dir() {
            return home.join(rest);
        }
    }
    PathBuf::from(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_variables_are_unset() {
        let e = MapEnv::new().with_var("A", "").with_var("B", "x");
        assert_eq!(e.var("A"), None);
        assert_eq!(e.var("B").as_deref(), Some("x"));
        assert_eq!(e.var("C"), None);
    }

    #[test]
    fn tilde_expands_with_home() {
        let e = MapEnv::new().with_home("/home/u");
        assert_eq!(expand_home("~/x/y", &e), PathBuf::from("/home/u/x/y"));
        assert_eq!(expand_home("~", &e), PathBuf::from("/home/u"));
        assert_eq!(expand_home("/abs", &e), PathBuf::from("/abs"));
        assert_eq!(expand_home("~/x", &MapEnv::new()), PathBuf::from("~/x"));
    }

    #[test]
    fn debug_shows_names_not_values() {
        let e = MapEnv::new().with_var("AWS_SECRET_ACCESS_KEY", "topsecret");
        let d = format!("{e:?}");
        assert!(
            d.contains("AWS_SECRET_ACCESS_KEY") && !d.contains("topsecret"),
            "{d}"
        );
    }
}
