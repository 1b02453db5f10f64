//! Serialises `cargo xtask cassandra start` between processes sharing one checkout.
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::process::is_alive;
use super::READY_TIMEOUT;
use crate::layout::Layout;
use crate::util::{Context, Result};

/// `target/cassandra/start.lock`, holding the PID of the xtask that is starting the node.
/// Created with `create_new`; a lock whose holder is dead is stale and removed.
pub(super) struct StartLock {
    path: PathBuf,
}

impl StartLock {
    pub(super) fn acquire(layout: &Layout) -> Result<Self> {
        fs::create_dir_all(&layout.node).context(|| format!("create {}", layout.node.display()))?;
        let path = layout.node.join("start.lock");
        let deadline = Instant::now() + READY_TIMEOUT + Duration::from_secs(120);
        let mut announced = false;
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    use std::io::Write;
                    file.write_all(std::process::id().to_string().as_bytes())
                        .context(|| format!("write {}", path.display()))?;
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = fs::read_to_string(&path)
                        .ok()
                        .and_then(|s| s.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if pid != std::process::id() && is_alive(pid) => {
                            if Instant::now() > deadline {
                                return Err(format!(
                                    "another `cargo xtask cassandra start` (pid {pid}) holds {}",
                                    path.display()
                                ));
                            }
                            if !announced {
                                eprintln!("xtask: waiting for another xtask (pid {pid}) that is starting Cassandra…");
                                announced = true;
                            }
                            std::thread::sleep(Duration::from_millis(500));
                        }
                        // Just created, PID not written yet: give the holder a moment.
                        None if fs::metadata(&path)
                            .and_then(|m| m.modified())
                            .is_ok_and(|t| {
                                t.elapsed().is_ok_and(|age| age < Duration::from_secs(5))
                            }) =>
                        {
                            std::thread::sleep(Duration::from_millis(200));
                        }
                        // Stale: the holder is gone.
                        _ => {
                            let _ = fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => return Err(format!("create {}: {e}", path.display())),
            }
        }
    }
}

impl Drop for StartLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
