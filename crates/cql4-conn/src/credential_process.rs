//! [`cql4_auth::ProcessRunner`] on tokio: a profile's `credential_process` runs as a child
//! process of the runtime (`tokio::process`), so waiting for it (up to the 60 s default
//! timeout) parks only the task that asked for credentials, never a runtime thread.
//!
//! The command goes through the platform shell (`sh -c` / `cmd /C`), as the AWS SDKs run it.
//! Stdout is read up to [`ProcessRequest::max_stdout`] bytes: one byte more kills the process
//! and fails the run. Stderr keeps its first [`ProcessRequest::max_stderr`] bytes and the rest is
//! read and dropped, so a chatty process never blocks on a full pipe. Errors name what went
//! wrong, never the command line or the output.
//!
//! Killing. On unix the shell leads a process group of its own, so a compound command
//! (`helper | jq`, `a; b`, `helper &`) is killed as a whole: killing only the shell would leave
//! the real helper running. Past the timeout or on too much output, the group gets SIGKILL and
//! the shell is reaped. If the future is dropped while the command runs, a guard sends the same
//! SIGKILL from `Drop` (kill(2) does not block) and tokio reaps the shell in the background
//! (`kill_on_drop`); the other members are reparented to init, which reaps them. A command that
//! exits on its own is not signalled: what it left running in the background (having closed
//! stdout) is its business, as with the AWS SDKs. An own group is not in the terminal's
//! foreground group, so Ctrl-C would not reach it and a helper that reads the terminal
//! (`/dev/tty`, an MFA prompt) would be stopped by SIGTTIN until the timeout: so by default the
//! own group is used only when this process has no controlling terminal (a service); with one
//! (the `cql4` shell, a developer's program), the command stays in the foreground group as the
//! AWS SDKs run it, and only the shell is killed. [`TokioProcessRunner::own_process_group`]
//! overrides the choice. Elsewhere than unix only the shell itself is killed.

use std::error::Error as StdError;
use std::process::Stdio;

use cql4_auth::{BoxFuture, ProcessOutput, ProcessRequest, ProcessRunner};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use zeroize::Zeroizing;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Runs `credential_process` as a tokio child process.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioProcessRunner {
    /// `None`: an own process group unless this process has a controlling terminal.
    own_group: Option<bool>,
}

impl TokioProcessRunner {
    /// The runner, with the default process-group choice (see the module documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs the command in a process group of its own (killed as a whole on timeout, but cut
    /// off from the terminal) or not, instead of deciding by the controlling terminal.
    pub fn own_process_group(mut self, on: bool) -> Self {
        self.own_group = Some(on);
        self
    }

    fn uses_own_group(self) -> bool {
        self.own_group
            .unwrap_or_else(|| !has_controlling_terminal())
    }
}

/// Whether this process has a controlling terminal that a prompting helper could use: decided
/// once (an `open` of `/dev/tty`, which fails with ENXIO without one).
fn has_controlling_terminal() -> bool {
    static TTY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TTY.get_or_init(|| {
        cfg!(unix)
            && std::fs::OpenOptions::new()
                .read(true)
                .open("/dev/tty")
                .is_ok()
    })
}

impl ProcessRunner for TokioProcessRunner {
    fn run(&self, request: ProcessRequest) -> BoxFuture<'_, Result<ProcessOutput, BoxError>> {
        Box::pin(run(request, self.uses_own_group()))
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

async fn run(request: ProcessRequest, own_group: bool) -> Result<ProcessOutput, BoxError> {
    let mut command = shell(request.command.expose());
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    if own_group {
        command.process_group(0);
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not start the shell: {}", e.kind()))?;
    let mut group = if own_group {
        ProcessGroup::of(&child)
    } else {
        ProcessGroup::none()
    };
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
        Ok(Ok((mut stdout, stderr, status))) => {
            group.exited();
            Ok(ProcessOutput::new(
                status.success(),
                status.to_string(),
                // Moved, not copied: `Secret` zeroes it on drop.
                std::mem::take(&mut *stdout),
                stderr,
            ))
        }
        Ok(Err(e)) => {
            kill(&mut group, &mut child).await;
            Err(e)
        }
        Err(_) => {
            kill(&mut group, &mut child).await;
            Err(format!(
                "killed after the {} s timeout",
                request.timeout.as_secs_f64()
            )
            .into())
        }
    }
}

/// Kills the process group, then kills (again, for platforms without groups) and reaps the
/// shell. The other members are not waited for: the pipes were dropped with the readers and
/// init reaps them.
async fn kill(group: &mut ProcessGroup, child: &mut Child) {
    group.kill();
    if let Err(e) = child.kill().await {
        tracing::debug!(error = %e, "killing credential_process failed (it may have exited)");
    }
}

/// SIGKILL for the process group a command's shell leads, sent when the run fails or when this
/// guard is dropped before [`ProcessGroup::exited`] (the run's future was dropped).
struct ProcessGroup {
    #[cfg(unix)]
    leader: Option<rustix::process::Pid>,
}

impl ProcessGroup {
    /// The group `child` leads (spawned with `process_group(0)`, so its pid is the group id).
    fn of(child: &Child) -> Self {
        #[cfg(unix)]
        {
            Self {
                leader: child
                    .id()
                    .and_then(|id| i32::try_from(id).ok())
                    .and_then(rustix::process::Pid::from_raw),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = child;
            Self {}
        }
    }

    /// No group of its own: only the shell is killed.
    fn none() -> Self {
        Self {
            #[cfg(unix)]
            leader: None,
        }
    }

    /// The command ran to the end: nothing to kill.
    fn exited(&mut self) {
        #[cfg(unix)]
        {
            self.leader = None;
        }
    }

    /// Sends SIGKILL to the whole group, once. The shell may already have been reaped if only a
    /// background member kept the pipes open; the group id stays taken while any member lives.
    fn kill(&mut self) {
        #[cfg(unix)]
        if let Some(leader) = self.leader.take() {
            if let Err(e) =
                rustix::process::kill_process_group(leader, rustix::process::Signal::KILL)
            {
                tracing::debug!(error = %e, "killing credential_process's group failed (it may have exited)");
            }
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Stdout up to `max` bytes; more is an error (the caller kills the process at once).
///
/// The buffer is allocated once at `max + 1` bytes and never grows, so no reallocation leaves
/// part of the credentials behind in freed memory; `Zeroizing` clears it if the run fails.
async fn read_stdout(
    pipe: Option<impl AsyncRead + Unpin>,
    max: usize,
) -> Result<Zeroizing<Vec<u8>>, BoxError> {
    let mut kept = Zeroizing::new(vec![0u8; max.saturating_add(1)]);
    let mut filled = 0;
    if let Some(mut pipe) = pipe {
        while filled < kept.len() {
            let n = pipe
                .read(&mut kept[filled..])
                .await
                .map_err(|e| format!("reading its output: {}", e.kind()))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
    }
    if filled > max {
        return Err(
            format!("it printed more than {max} bytes (limit {max}) and was killed").into(),
        );
    }
    kept.truncate(filled);
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

    /// Runs `command` in a process group of its own (what a service without a terminal gets),
    /// whatever terminal the test runs in.
    fn run_raw(command: &str, timeout: Duration) -> Result<ProcessOutput, BoxError> {
        run_with(
            TokioProcessRunner::new().own_process_group(true),
            command,
            timeout,
        )
    }

    fn run_with(
        runner: TokioProcessRunner,
        command: &str,
        timeout: Duration,
    ) -> Result<ProcessOutput, BoxError> {
        let request = ProcessRequest::new(SecretString::from(command), timeout);
        assert_eq!(
            (request.max_stdout, request.max_stderr),
            (MAX_PROCESS_OUTPUT, MAX_PROCESS_STDERR)
        );
        runtime().block_on(runner.run(request))
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
            .with_process_runner(Arc::new(TokioProcessRunner::new()));
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

    /// A temporary directory for the pid files a test command writes.
    struct PidDir(std::path::PathBuf);

    impl PidDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("cql4-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            Self(dir)
        }

        fn file(&self) -> String {
            self.0.join("pids").display().to_string()
        }

        /// The pids written so far, waiting up to 5 s for `count` of them (the command may be
        /// slow to start on a loaded machine).
        fn pids(&self, count: usize) -> Vec<i32> {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let pids: Vec<i32> = std::fs::read_to_string(self.0.join("pids"))
                    .unwrap_or_default()
                    .lines()
                    .map(|l| l.trim().parse().expect("pid"))
                    .collect();
                if pids.len() >= count || Instant::now() > deadline {
                    assert_eq!(pids.len(), count, "pid file: {pids:?}");
                    return pids;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    impl Drop for PidDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Whether `pid` is a live process (a zombie is dead: this container's init may never reap
    /// the orphans it inherits).
    #[cfg(target_os = "linux")]
    fn alive(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            // `pid (comm) S ...`: the state follows the last `)`.
            !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
        })
    }

    /// Waits up to 2 s for every pid to die (SIGKILL is delivered asynchronously); on failure
    /// kills the survivors so the test leaves nothing behind.
    #[cfg(target_os = "linux")]
    fn assert_all_gone(pids: &[i32]) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let survivors: Vec<i32> = pids.iter().copied().filter(|&p| alive(p)).collect();
        for &p in &survivors {
            if let Some(pid) = rustix::process::Pid::from_raw(p) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        assert!(survivors.is_empty(), "still running: {survivors:?}");
    }

    /// A command that starts two long sleepers the shell does not `exec`: one in the background
    /// (`&`), one in a pipeline; both write their pids to `file` first.
    fn compound_sleepers(file: &str) -> String {
        format!(
            "sleep 30 & echo $! >> {file}; sh -c 'echo $$ >> {file}; exec sleep 30' | cat; wait"
        )
    }

    #[test]
    fn hung_process_is_killed_after_the_timeout() {
        let dir = PidDir::new("process-timeout");
        let file = dir.file();
        let started = Instant::now();
        // `exec` makes the shell's pid the sleeper's, so the pid file names the process killed.
        // 2 s leaves the shell time to write the pid file on a loaded machine.
        let e = run_raw(
            &format!("echo $$ > {file}; exec sleep 30"),
            Duration::from_secs(2),
        )
        .expect_err("timeout");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(e.to_string(), "killed after the 2 s timeout");
        let pid = dir.pids(1)[0];
        if cfg!(target_os = "linux") {
            // Killed and reaped: no /proc entry, not even a zombie.
            assert!(
                !std::path::Path::new(&format!("/proc/{pid}")).exists(),
                "process {pid} still exists"
            );
        }
    }

    /// In the terminal's foreground group (as with a controlling terminal), a timeout still
    /// kills and reaps the shell; the command's output is still read the same way.
    #[test]
    fn without_an_own_group_the_shell_is_killed_and_output_read() {
        let runner = TokioProcessRunner::new().own_process_group(false);
        let out = run_with(runner, "printf ok", Duration::from_secs(10)).expect("output");
        assert!(out.success);
        let dir = PidDir::new("process-no-group");
        let file = dir.file();
        let e = run_with(
            runner,
            &format!("echo $$ > {file}; exec sleep 30"),
            Duration::from_secs(2),
        )
        .expect_err("timeout");
        assert_eq!(e.to_string(), "killed after the 2 s timeout");
        let pid = dir.pids(1)[0];
        if cfg!(target_os = "linux") {
            assert!(
                !std::path::Path::new(&format!("/proc/{pid}")).exists(),
                "process {pid} still exists"
            );
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn timeout_kills_everything_the_command_started() {
        let dir = PidDir::new("process-group-timeout");
        let e =
            run_raw(&compound_sleepers(&dir.file()), Duration::from_secs(2)).expect_err("timeout");
        assert_eq!(e.to_string(), "killed after the 2 s timeout");
        assert_all_gone(&dir.pids(2));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn too_much_output_kills_everything_the_command_started() {
        let dir = PidDir::new("process-group-overflow");
        let file = dir.file();
        // `yes` waits for both sleepers to have written their pids, so none is missed.
        let command = format!(
            "sleep 30 & echo $! >> {file}; sh -c 'echo $$ >> {file}; exec sleep 30' | cat & \
             while [ $(wc -l < {file}) -lt 2 ]; do sleep 0.05; done; yes"
        );
        let e = run_raw(&command, DEFAULT_PROCESS_TIMEOUT).expect_err("too much output");
        assert!(e.to_string().contains("limit 65536"), "{e}");
        assert_all_gone(&dir.pids(2));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn dropping_the_run_kills_everything_the_command_started() {
        let dir = PidDir::new("process-group-drop");
        let file = dir.file();
        let request = ProcessRequest::new(
            SecretString::from(compound_sleepers(&file).as_str()),
            DEFAULT_PROCESS_TIMEOUT,
        );
        let rt = runtime();
        // The caller gives up (its own timeout) and drops the run while the command is running.
        let dropped = rt.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(2),
                TokioProcessRunner::new()
                    .own_process_group(true)
                    .run(request),
            )
            .await
        });
        assert!(dropped.is_err(), "the command cannot finish in 2 s");
        assert_all_gone(&dir.pids(2));
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
