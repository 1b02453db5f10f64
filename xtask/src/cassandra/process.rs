//! The node's JVM as a process: spawning it, recognising it in `/proc`, signalling it.
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::jvm::jvm_args;
use super::MAIN_CLASS;
use crate::layout::Layout;
use crate::util::{Context, Result};

/// The child we spawned in this process, so `stop` can reap it instead of leaving a zombie.
static SPAWNED: Mutex<Option<Child>> = Mutex::new(None);

pub(super) fn spawn(layout: &Layout, auth_classes: Option<&Path>) -> Result<u32> {
    use std::os::unix::process::CommandExt;
    let out_path = layout.stdout_log();
    let out = fs::File::create(&out_path).context(|| format!("create {}", out_path.display()))?;
    let err = out
        .try_clone()
        .context(|| format!("dup {}", out_path.display()))?;
    let mut cmd = Command::new("java");
    cmd.args(jvm_args(layout, auth_classes))
        .current_dir(&layout.node)
        .env("MALLOC_ARENA_MAX", "4")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        // Own process group: Ctrl-C in the terminal goes to xtask, which stops the node itself.
        .process_group(0);
    let child = cmd.spawn().context(|| "spawn java".into())?;
    let pid = child.id();
    if let Ok(mut slot) = SPAWNED.lock() {
        *slot = Some(child);
    }
    Ok(pid)
}

/// PIDs of processes whose command line is CassandraDaemon with our data directory.
pub(super) fn our_pids(layout: &Layout) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| is_our_node(layout, pid))
        .collect()
}

/// Whether `pid` is alive and really our Cassandra JVM (not a recycled PID).
pub(super) fn is_our_node(layout: &Layout, pid: u32) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let storage = format!("-Dcassandra.storagedir={}", layout.data().display());
    let mut is_daemon = false;
    let mut is_ours = false;
    for arg in cmdline.split(|&b| b == 0) {
        is_daemon |= arg == MAIN_CLASS.as_bytes();
        is_ours |= arg == storage.as_bytes();
    }
    is_daemon && is_ours && is_alive(pid)
}

/// Alive = exists and is not a zombie; reaps our own child when it has exited.
pub(super) fn is_alive(pid: u32) -> bool {
    if let Ok(mut slot) = SPAWNED.lock() {
        if let Some(child) = slot.as_mut().filter(|c| c.id() == pid) {
            if !matches!(child.try_wait(), Ok(None)) {
                *slot = None;
                return false;
            }
        }
    }
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // Field 3, after the parenthesised command name: R, S, D, Z, …
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
}

pub(super) fn signal(pid: u32, sig: &str) -> Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .context(|| "run kill".into())?;
    if status.success() || !is_alive(pid) {
        Ok(())
    } else {
        Err(format!("kill -{sig} {pid} failed with {status}"))
    }
}

pub(super) fn wait_exit(pids: &[u32], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if pids.iter().all(|&p| !is_alive(p)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    pids.iter().all(|&p| !is_alive(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_process_is_not_mistaken_for_the_node() {
        assert!(!is_our_node(&Layout::discover(), std::process::id()));
        assert!(is_alive(std::process::id()));
    }
}
