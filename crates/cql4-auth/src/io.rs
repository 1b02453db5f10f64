//! The I/O the file and process credential sources need, injected like [`crate::HttpFetcher`]:
//! reading the shared `credentials`/`config` files (and the container token file), and running a
//! profile's `credential_process`.
//!
//! This crate never touches the file system or starts a process itself, so nothing it returns
//! blocks when polled. The connection layer implements both traits on its runtime
//! (`cql4_conn::http::default_chain()` injects them); tests use [`crate::MapEnv`] (in-memory
//! files) and scripted runners. A source whose I/O was not injected fails with
//! [`crate::CredentialsErrorKind::NoFileReader`] or
//! [`crate::CredentialsErrorKind::NoProcessRunner`] and stops the chain: it is never skipped
//! silently and never read with a blocking call instead.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::sasl::BoxFuture;
use crate::secret::{Secret, SecretString};

/// Reads whole files for the credential sources.
pub trait FileReader: Send + Sync + fmt::Debug {
    /// Reads the file at `path`, at most `limit + 1` bytes (one more than the caller accepts,
    /// so it can tell a file that is too large). A missing file is
    /// [`io::ErrorKind::NotFound`]. The contents may be secrets: implementations must not log
    /// them or put them into errors.
    fn read_file(&self, path: PathBuf, limit: usize) -> BoxFuture<'_, io::Result<Secret>>;
}

/// One `credential_process` run: what [`ProcessRunner::run`] must do.
///
/// `Debug` hides the command line: it may carry a secret argument.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProcessRequest {
    /// The command line, run through the platform shell (`sh -c` / `cmd /C`, as the AWS SDKs
    /// do).
    pub command: SecretString,
    /// Kill the process (and report a failure) if it has not exited within this time.
    pub timeout: Duration,
    /// Kill the process (and report a failure) as soon as it prints more than this many bytes
    /// on stdout. A runner may allocate this many bytes (plus one) up front, so that reading
    /// never reallocates and leaves parts of the credentials behind.
    pub max_stdout: usize,
    /// Keep at most this many bytes of stderr; the rest is read and discarded, so a chatty
    /// process never blocks on a full pipe and never makes the runner buffer without bound.
    pub max_stderr: usize,
}

impl ProcessRequest {
    /// A run of `command` bounded by `timeout`, keeping at most
    /// [`crate::MAX_PROCESS_OUTPUT`] bytes of stdout and [`crate::MAX_PROCESS_STDERR`] of
    /// stderr.
    pub fn new(command: SecretString, timeout: Duration) -> Self {
        Self {
            command,
            timeout,
            max_stdout: crate::MAX_PROCESS_OUTPUT,
            max_stderr: crate::MAX_PROCESS_STDERR,
        }
    }
}

/// What a `credential_process` run produced (all of it, within [`ProcessRequest`]'s bounds).
///
/// `Debug` shows the status and the output lengths only: helpers print tokens on stderr too
/// (errors quote only its first line, capped).
#[derive(Clone)]
#[non_exhaustive]
pub struct ProcessOutput {
    /// Whether it exited successfully (status 0).
    pub success: bool,
    /// Its exit status for messages, e.g. `exit status: 1`.
    pub status: String,
    /// Its stdout: the credentials document (a secret).
    pub stdout: Secret,
    /// The first [`ProcessRequest::max_stderr`] bytes of its stderr.
    pub stderr: Vec<u8>,
}

impl ProcessOutput {
    /// An output.
    pub fn new(success: bool, status: impl Into<String>, stdout: Vec<u8>, stderr: Vec<u8>) -> Self {
        Self {
            success,
            status: status.into(),
            stdout: Secret::new(stdout),
            stderr,
        }
    }
}

impl fmt::Debug for ProcessOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessOutput")
            .field("success", &self.success)
            .field("status", &self.status)
            .field("stdout_len", &self.stdout.expose().len())
            .field("stderr_len", &self.stderr.len())
            .finish_non_exhaustive()
    }
}

/// Runs `credential_process` commands. Implementations must enforce [`ProcessRequest`]'s
/// timeout and output bounds, and must not put the command line or any output into their
/// errors (a failure to start, the timeout, too much output).
pub trait ProcessRunner: Send + Sync + fmt::Debug {
    /// Runs the command to completion and returns its status and output.
    fn run(
        &self,
        request: ProcessRequest,
    ) -> BoxFuture<'_, Result<ProcessOutput, Box<dyn StdError + Send + Sync>>>;
}
