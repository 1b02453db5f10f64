//! The local Apache Cassandra node: configuration, launch, readiness, stop.
//!
//! One node at a time lives under `target/cassandra/`. It is started as
//! `java … org.apache.cassandra.service.CassandraDaemon` with the JDK 17 flags of Cassandra's
//! `conf/jvm17-server.options`, in its own process group (so a terminal's Ctrl-C does not reach
//! it), and recorded in `node.json` (PID, mode, port, generated credentials). Every start wipes
//! `data/` and `logs/`: the node is a disposable test fixture and a fresh data directory avoids
//! token, cluster-name and stale-role mismatches.
//!
//! Readiness is a successful CQL login, not an open port: see [`crate::probe`].
mod config;
mod jvm;
mod logs;
mod process;
mod readiness;
mod start_lock;
mod state;

use std::fs;
use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::layout::Layout;
use crate::util::{on_path, Context, Result};
use crate::{certs, javac, maven};

pub(crate) use logs::{logs, print_log_tail};
pub(crate) use state::{read_state, NodeState};

use config::{pick_storage_port, tmp_dir, write_config};
use process::{is_alive, is_our_node, our_pids, signal, spawn, wait_exit};
use readiness::{login_check, wait_login, wait_ready};
use start_lock::StartLock;
use state::{new_credentials, remove_state, write_state, TlsInfo};

const MAIN_CLASS: &str = "org.apache.cassandra.service.CassandraDaemon";
const HOST: &str = "127.0.0.1";
/// Cold JVM + fresh data dir on 2 cores takes ~10 s; leave room for a loaded CI machine.
const READY_TIMEOUT: Duration = Duration::from_secs(240);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How the node looks to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// Like Amazon Keyspaces: TLS only, SASL PLAIN and SigV4 logins, port 9142.
    Keyspaces,
    /// No TLS, no authentication, port 9042.
    Plain,
}

impl Mode {
    fn default_port(self) -> u16 {
        match self {
            Self::Keyspaces => 9142,
            Self::Plain => 9042,
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Keyspaces => "keyspaces",
            Self::Plain => "plain",
        })
    }
}

/// Result of `start`: the node, and whether this call launched it (or reused a running one).
pub(crate) struct Started {
    pub(crate) state: NodeState,
    pub(crate) launched: bool,
}

/// Starts the node, or reuses it if it already runs healthy with the same mode and port.
pub(crate) fn start(layout: &Layout, mode: Mode, port: Option<u16>) -> Result<Started> {
    let port = port.unwrap_or_else(|| mode.default_port());
    // Several people (or helpers) share one checkout: serialise starts, then re-use.
    let _lock = StartLock::acquire(layout)?;
    if let Some(state) = read_state(layout) {
        if is_our_node(layout, state.pid) {
            if state.mode != mode || state.port != port {
                return Err(format!(
                    "a {} node already runs on port {} (pid {}); run `cargo xtask cassandra stop` first",
                    state.mode, state.port, state.pid
                ));
            }
            // Normally healthy at once; a start interrupted midway may still be coming up.
            return match wait_login(&state, Duration::from_secs(60)) {
                Ok(()) => {
                    eprintln!(
                        "xtask: Cassandra already running and healthy (pid {}, {} mode, port {}); reusing it",
                        state.pid, state.mode, state.port
                    );
                    Ok(Started {
                        state,
                        launched: false,
                    })
                }
                Err(e) => Err(format!(
                    "Cassandra pid {} runs but a login fails ({e}); run `cargo xtask cassandra stop` first",
                    state.pid
                )),
            };
        }
    }
    let strays = our_pids(layout);
    if !strays.is_empty() {
        return Err(format!(
            "Cassandra process(es) {strays:?} use {} but node.json does not describe them; \
             run `cargo xtask cassandra stop`",
            layout.data().display()
        ));
    }
    remove_state(layout);
    TcpListener::bind((HOST, port)).context(|| {
        format!("port {port} on {HOST} is taken by another process (not this harness's node)")
    })?;
    let storage_port = pick_storage_port()?;
    if !on_path("java") {
        return Err("`java` (JDK 17) is not on PATH".into());
    }

    let begun = Instant::now();
    maven::ensure_jars(layout)?;
    let version = maven::cassandra_version(layout).unwrap_or_else(|| "?".into());
    let (tls, credentials, auth_classes) = match mode {
        Mode::Plain => (None, None, None),
        Mode::Keyspaces => {
            let certs = certs::ensure(layout)?;
            let classes = javac::ensure_authenticator(layout)?;
            let tls = TlsInfo {
                ca: certs.ca,
                server_name: certs::SERVER_NAMES[0].into(),
            };
            (
                Some((tls, certs.keystore)),
                Some(new_credentials()?),
                Some(classes),
            )
        }
    };

    for dir in [layout.data(), layout.logs()] {
        if dir.exists() {
            fs::remove_dir_all(&dir).context(|| format!("remove {}", dir.display()))?;
        }
    }
    for dir in [layout.conf(), layout.logs(), layout.data(), tmp_dir(layout)] {
        fs::create_dir_all(&dir).context(|| format!("create {}", dir.display()))?;
    }
    write_config(
        layout,
        port,
        storage_port,
        tls.as_ref().map(|(_, keystore)| keystore.as_path()),
        credentials.as_ref(),
    )?;

    let jvm_started = Instant::now();
    let pid = spawn(layout, auth_classes.as_deref())?;
    let state = NodeState {
        pid,
        mode,
        host: HOST.into(),
        port,
        version: version.clone(),
        system_log: layout.system_log(),
        started_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        tls: tls.map(|(t, _)| t),
        credentials,
    };
    write_state(layout, &state)?;
    fs::write(layout.pid_file(), format!("{pid}\n")).context(|| "write cassandra.pid".into())?;
    eprintln!(
        "xtask: started Cassandra {version} (pid {pid}, {mode} mode, port {port}); waiting for a CQL login…"
    );
    if let Err(e) = wait_ready(&state) {
        print_log_tail(layout);
        // Leave nothing behind: a half-started node would block the next start.
        if let Err(stop_err) = stop(layout) {
            eprintln!("xtask: stopping the failed node: {stop_err}");
        }
        return Err(format!("Cassandra did not become ready: {e}"));
    }
    eprintln!(
        "xtask: Cassandra ready in {:.1}s (JVM launch → login {:.1}s)",
        begun.elapsed().as_secs_f64(),
        jvm_started.elapsed().as_secs_f64()
    );
    Ok(Started {
        state,
        launched: true,
    })
}

/// Stops the node: SIGTERM (Cassandra's shutdown hook flushes and exits), SIGKILL after
/// [`STOP_TIMEOUT`]. Only processes whose command line is our CassandraDaemon with our data
/// directory are signalled. Returns whether anything was running.
pub(crate) fn stop(layout: &Layout) -> Result<bool> {
    let mut pids = our_pids(layout);
    if let Some(state) = read_state(layout) {
        if is_our_node(layout, state.pid) && !pids.contains(&state.pid) {
            pids.push(state.pid);
        }
    }
    if pids.is_empty() {
        remove_state(layout);
        eprintln!("xtask: Cassandra is not running");
        return Ok(false);
    }
    let begun = Instant::now();
    for &pid in &pids {
        signal(pid, "TERM")?;
    }
    if !wait_exit(&pids, STOP_TIMEOUT) {
        for &pid in pids.iter().filter(|&&p| is_alive(p)) {
            eprintln!("xtask: pid {pid} ignored SIGTERM for {STOP_TIMEOUT:?}; sending SIGKILL");
            signal(pid, "KILL")?;
        }
        if !wait_exit(&pids, Duration::from_secs(10)) {
            return Err(format!("Cassandra pid(s) {pids:?} survived SIGKILL"));
        }
    }
    remove_state(layout);
    eprintln!(
        "xtask: stopped Cassandra (pid {pids:?}) in {:.1}s",
        begun.elapsed().as_secs_f64()
    );
    Ok(true)
}

/// Prints whether the node runs and whether a login works; fails if it is not healthy.
pub(crate) fn status(layout: &Layout) -> Result<()> {
    let Some(state) = read_state(layout).filter(|s| is_our_node(layout, s.pid)) else {
        let strays = our_pids(layout);
        if strays.is_empty() {
            println!("Cassandra is not running");
            return Ok(());
        }
        return Err(format!(
            "Cassandra process(es) {strays:?} run without node.json; `cargo xtask cassandra stop`"
        ));
    };
    state.print_summary();
    let uptime = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .saturating_sub(state.started_unix);
    println!("  up {uptime}s");
    match login_check(&state) {
        Ok(()) => {
            println!("  CQL login: ok");
            Ok(())
        }
        Err(e) => Err(format!("CQL login fails: {e}")),
    }
}
