//! The nodes' JVMs as processes: spawning them, recognising them in `/proc`, signalling them.
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::jvm::jvm_args;
use super::MAIN_CLASS;
use crate::layout::{Layout, NodeDirs};
use crate::util::{Context, Result};

/// The children this process spawned, so `stop` can reap them instead of leaving zombies.
static SPAWNED: Mutex<Vec<Child>> = Mutex::new(Vec::new());

/// Starts one node's JVM with `node_flags` (heap and start-up tuning); returns its PID.
pub(super) fn spawn(
    layout: &Layout,
    dirs: &NodeDirs,
    node_flags: &[String],
    auth_classes: Option<&Path>,
) -> Result<u32> {
    use std::os::unix::process::CommandExt;
    let out_path = dirs.stdout_log();
    let out = fs::File::create(&out_path).context(|| format!("create {}", out_path.display()))?;
    let err = out
        .try_clone()
        .context(|| format!("dup {}", out_path.display()))?;
    let mut cmd = Command::new("java");
    cmd.args(jvm_args(layout, dirs, node_flags, auth_classes))
        .current_dir(&dirs.root)
        .env("MALLOC_ARENA_MAX", "4")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        // Own process group: Ctrl-C in the terminal goes to xtask, which stops the node itself.
        .process_group(0);
    let child = cmd.spawn().context(|| "spawn java".into())?;
    let pid = child.id();
    if let Ok(mut spawned) = SPAWNED.lock() {
        spawned.push(child);
    }
    Ok(pid)
}

/// PIDs of every CassandraDaemon of this checkout: the single node and each cluster node (their
/// data directories are all under `target/cassandra/`).
pub(super) fn our_pids(layout: &Layout) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| is_ours(layout, pid))
        .collect()
}

/// Whether `pid` is alive and one of this checkout's Cassandra JVMs (not a recycled PID, not
/// another checkout's node).
pub(super) fn is_ours(layout: &Layout, pid: u32) -> bool {
    let prefix = format!("-Dcassandra.storagedir={}/", layout.node.display());
    daemon_storage_arg(pid).is_some_and(|arg| arg.starts_with(prefix.as_bytes())) && is_alive(pid)
}

/// Whether `pid` is alive and the JVM of the node in `dirs`.
pub(super) fn is_node(dirs: &NodeDirs, pid: u32) -> bool {
    let storage = format!("-Dcassandra.storagedir={}", dirs.data().display());
    daemon_storage_arg(pid).is_some_and(|arg| arg == storage.as_bytes()) && is_alive(pid)
}

/// The `-Dcassandra.storagedir=` argument of `pid` if it is a CassandraDaemon.
fn daemon_storage_arg(pid: u32) -> Option<Vec<u8>> {
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let mut is_daemon = false;
    let mut storage = None;
    for arg in cmdline.split(|&b| b == 0) {
        is_daemon |= arg == MAIN_CLASS.as_bytes();
        if arg.starts_with(b"-Dcassandra.storagedir=") {
            storage = Some(arg.to_vec());
        }
    }
    storage.filter(|_| is_daemon)
}

/// Alive = exists and is not a zombie (or is one whose threads are still exiting); reaps our own
/// child when it has exited.
pub(super) fn is_alive(pid: u32) -> bool {
    if let Ok(mut spawned) = SPAWNED.lock() {
        if let Some(i) = spawned.iter().position(|c| c.id() == pid) {
            let exited = spawned
                .get_mut(i)
                .is_some_and(|c| !matches!(c.try_wait(), Ok(None)));
            if exited {
                // Already reaped by try_wait; wait() just returns the kept status.
                let _ = spawned.swap_remove(i).wait();
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
    match state {
        // A killed JVM's leader thread turns zombie before its other threads have exited and
        // closed its sockets: until then its ports are still taken.
        Some("Z" | "X") => fs::read_dir(format!("/proc/{pid}/task")).is_ok_and(|d| d.count() > 1),
        None => false,
        Some(_) => true,
    }
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
        let layout = Layout::discover();
        assert!(!is_ours(&layout, std::process::id()));
        assert!(!is_node(&layout.single_node(), std::process::id()));
        assert!(is_alive(std::process::id()));
    }
}
