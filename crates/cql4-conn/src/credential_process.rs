//! [`cql4_auth::ProcessRunner`] on tokio: a profile's `credential_process` runs as a child
//! process of the runtime (`tokio::process`), so waiting for it (up to the 60 s default
//! timeout) parks only the task that asked for credentials, never a runtime thread.
//!
//! The command goes through the platform shell (`sh -c` / `cmd /C`), as the AWS SDKs run it.
//! Stdout is read up to [`ProcessRequest::max_stdout`] bytes: one byte more kills the process
//! and fails the run. Stderr keeps its first [`ProcessRequest::max_stderr`] bytes and the rest is
//! read and dropped, so a chatty process never blocks on a full pipe. Past the timeout the
//! process is killed and reaped; if the future is dropped, `kill_on_drop` kills it. Errors name
//! what went wrong, never the command line or the output.

use std::error::Error as StdError;
use std::process::Stdio;

use cql4_auth::{BoxFuture, ProcessOutput, ProcessRequest, ProcessRunner};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use zeroize::Zeroizing;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Runs `credential_process` as a tokio child process.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct TokioProcessRunner;

impl TokioProcessRunner {
    /// The runner.
    pub fn new() -> Self {
        Self
    }
}

impl ProcessRunner for TokioProcessRunner {
    fn run(&self, request: ProcessRequest) -> BoxFuture<'_, Result<ProcessOutput, BoxError>> {
        Box::pin(run(request))
    }
}

fn shell(command: &str) -> Command {
    let mut c = if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C");
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c");
        c
    };
    c.arg(command);
    c
}

async fn run(request: ProcessRequest) -> Result<ProcessOutput, BoxError> {
    let mut child = shell(request.command.expose())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start the shell: {}", e.kind()))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let work = async {
        tokio::try_join!(
            read_stdout(stdout, request.max_stdout),
            read_stderr(stderr, request.max_stderr),
            async {
                child
                    .wait()
                    .await
                    .map_err(|e| BoxError::from(format!("cannot wait for it: {}", e.kind())))
            },
        )
    };
    match tokio::time::timeout(request.timeout, work).await {
        Ok(Ok((stdout, stderr, status))) => Ok(ProcessOutput::new(
            status.success(),
            status.to_string(),
            stdout.to_vec(),
            stderr,
        )),
        Ok(Err(e)) => {
            kill(&mut child).await;
            Err(e)
        }
        Err(_) => {
            kill(&mut child).await;
            Err(format!(
                "killed after the {} s timeout",
                request.timeout.as_secs_f64()
            )
            .into())
        }
    }
}

/// Kills and reaps the process. A grandchild that inherited the pipes is not waited for: the
/// pipes were dropped with the readers.
async fn kill(child: &mut Child) {
    if let Err(e) = child.kill().await {
        tracing::debug!(error = %e, "killing credential_process failed (it may have exited)");
    }
}

/// Stdout up to `max` bytes; more is an error (the caller kills the process at once).
async fn read_stdout(
    pipe: Option<impl AsyncRead + Unpin>,
    max: usize,
) -> Result<Zeroizing<Vec<u8>>, BoxError> {
    let mut kept = Zeroizing::new(Vec::new());
    if let Some(pipe) = pipe {
        let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
        pipe.take(limit)
            .read_to_end(&mut kept)
            .await
            .map_err(|e| format!("reading its output: {}", e.kind()))?;
    }
    if kept.len() > max {
        return Err(
            format!("it printed more than {max} bytes (limit {max}) and was killed").into(),
        );
    }
    Ok(kept)
}

/// The first `max` bytes of stderr; the rest is read into a scratch buffer and dropped.
async fn read_stderr(
    pipe: Option<impl AsyncRead + Unpin>,
    max: usize,
) -> Result<Vec<u8>, BoxError> {
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else {
        return Ok(kept);
    };
    let mut scratch = [0u8; 4096];
    // A read error ends stderr early; the exit status still tells what happened.
    while let Ok(n) = pipe.read(&mut scratch).await {
        if n == 0 {
            break;
        }
        let room = max.saturating_sub(kept.len());
        kept.extend_from_slice(scratch.get(..n.min(room)).unwrap_or_default());
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use cql4_auth::{
        CredentialsError, CredentialsErrorKind, MapEnv, ProfileProvider, SecretString,
        DEFAULT_PROCESS_TIMEOUT, MAX_PROCESS_OUTPUT, MAX_PROCESS_STDERR,
    };

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    fn run_raw(command: &str, timeout: Duration) -> Result<ProcessOutput, BoxError> {
        let request = ProcessRequest::new(SecretString::from(command), timeout);
        assert_eq!(
            (request.max_stdout, request.max_stderr),
            (MAX_PROCESS_OUTPUT, MAX_PROCESS_STDERR)
        );
        runtime().block_on(TokioProcessRunner.run(request))
    }

    /// The whole path: a profile whose `credential_process` is `command`, run by this runner
    /// and judged by `cql4-auth`.
    fn credentials_from(command: &str) -> Result<cql4_auth::Credentials, CredentialsError> {
        let env = Arc::new(MapEnv::new().with_home("/h").with_file(
            "/h/.aws/config",
            &format!("[default]\ncredential_process = {command}\n"),
        ));
        let provider = ProfileProvider::new(env.clone())
            .with_file_reader(env)
            .with_process_runner(Arc::new(TokioProcessRunner));
        runtime().block_on(provider.load())
    }

    #[test]
    fn credentials_from_a_real_process() {
        let c = credentials_from(
            r#"printf '{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "SK"}'"#,
        )
        .expect("credentials");
        assert_eq!(
            (c.access_key_id(), c.secret_access_key().expose()),
            ("AK", "SK")
        );
    }

    #[test]
    fn exit_status_and_first_stderr_line_are_reported() {
        let e =
            credentials_from("echo; echo 'token service unreachable' >&2; echo second >&2; exit 1")
                .expect_err("exit 1");
        let s = e.to_string();
        assert!(
            s.contains("credential_process of profile `default`: process failed (exit status: 1)"),
            "{s}"
        );
        assert!(s.contains("stderr: token service unreachable"), "{s}");
        assert!(!s.contains("second"), "{s}");
    }

    #[test]
    fn bad_json_never_echoes_secrets() {
        for command in [
            "echo '{not json SHHH'",
            r#"echo '{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": ["SHHH"]}'"#,
            r#"echo '{"Version": 1, "AccessKeyId": "AK"}' # SHHH"#,
        ] {
            let e = credentials_from(command).expect_err(command);
            assert!(
                matches!(e.kind, CredentialsErrorKind::ProcessOutput(_)),
                "{e}"
            );
            assert!(!e.to_string().contains("SHHH"), "{e}");
            assert!(!format!("{e:?}").contains("SHHH"), "{e:?}");
        }
    }

    #[test]
    fn hung_process_is_killed_after_the_timeout() {
        let dir = std::env::temp_dir().join(format!("cql4-process-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let pid_file = dir.join("pid");
        let started = Instant::now();
        // `exec` makes the shell's pid the sleeper's, so the pid file names the process killed.
        let e = run_raw(
            &format!("echo $$ > {}; exec sleep 30", pid_file.display()),
            Duration::from_millis(300),
        )
        .expect_err("timeout");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(e.to_string(), "killed after the 0.3 s timeout");
        let pid = std::fs::read_to_string(&pid_file).expect("pid file");
        if cfg!(target_os = "linux") {
            // Killed and reaped: no /proc entry, not even a zombie.
            assert!(
                !std::path::Path::new(&format!("/proc/{}", pid.trim())).exists(),
                "process {pid} still exists"
            );
        }
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn endless_stdout_is_rejected_at_the_limit_without_waiting_for_the_timeout() {
        let started = Instant::now();
        let e = run_raw("yes", DEFAULT_PROCESS_TIMEOUT).expect_err("too much output");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            e.to_string()
                .contains("more than 65536 bytes (limit 65536)"),
            "{e}"
        );
        // Through the provider, the same failure.
        let e = credentials_from("head -c 100000 /dev/zero | tr '\\0' ' '").expect_err("big");
        assert!(e.to_string().contains("limit 65536"), "{e}");
    }

    #[test]
    fn stderr_is_capped_and_drained() {
        // 1 MB on stderr (more than a pipe holds) must neither block the process nor be kept.
        let out = run_raw(
            r#"head -c 1000000 /dev/zero | tr '\0' x >&2; printf '{"Version": 1}'"#,
            Duration::from_secs(20),
        )
        .expect("runs to the end");
        assert!(out.success, "{}", out.status);
        assert_eq!(out.stderr.len(), MAX_PROCESS_STDERR);
        assert_eq!(out.stdout.expose(), br#"{"Version": 1}"#);
    }

    #[test]
    fn the_command_line_is_not_in_errors() {
        let e =
            run_raw("sleep 5 # --secret SHHH", Duration::from_millis(100)).expect_err("timeout");
        assert!(!e.to_string().contains("SHHH"), "{e}");
    }
}
