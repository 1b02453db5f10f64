//! The local Apache Cassandra node, or a local cluster of them: configuration, launch,
//! readiness, stop.
//!
//! The single node lives under `target/cassandra/`; cluster node `n` under
//! `target/cassandra/cluster/node<n>/` (listening on `127.0.0.n`). Each is started as
//! `java … org.apache.cassandra.service.CassandraDaemon` with the JDK 17 flags of Cassandra's
//! `conf/jvm17-server.options`, in its own process group (so a terminal's Ctrl-C does not reach
//! it), and recorded in `node.json` (PIDs, mode, port, addresses, generated credentials). Every
//! start wipes `data/` and `logs/`: nodes are disposable test fixtures and a fresh data directory
//! avoids token, cluster-name and stale-role mismatches (`start-node` after `kill` keeps them).
//!
//! Readiness is a successful CQL login, not an open port: see [`crate::probe`].
mod cluster;
mod config;
mod jvm;
mod logs;
mod process;
mod readiness;
mod start_lock;
mod state;
mod topology;

use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::layout::{Layout, NodeDirs};
use crate::util::{on_path, Context, Result};
use crate::{certs, javac, maven};

pub(crate) use cluster::{kill_node, start_cluster, start_node, stop_node};
pub(crate) use logs::{logs, print_log_tail, print_log_tails};
pub(crate) use state::{read_state, NodeState};
pub(crate) use topology::Topology;

use config::{pick_storage_port, write_config, NodeConfig};
use jvm::single_node_flags;
use process::{is_alive, is_node, is_ours, our_pids, signal, spawn, wait_exit};
use readiness::{login_check, wait_login, wait_ready};
use start_lock::StartLock;
use state::{new_credentials, remove_state, write_state, Credentials, NodeInfo, TlsInfo};

const MAIN_CLASS: &str = "org.apache.cassandra.service.CassandraDaemon";
const HOST: &str = "127.0.0.1";
/// SimpleSnitch puts the single node here.
const SINGLE_NODE_DC: &str = "datacenter1";
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

/// What a start needs besides the directories: jars, and in keyspaces mode the certificates,
/// the compiled authenticator and fresh credentials.
struct Prepared {
    version: String,
    tls: Option<TlsInfo>,
    keystore: Option<PathBuf>,
    credentials: Option<Credentials>,
    auth_classes: Option<PathBuf>,
}

fn prepare(layout: &Layout, mode: Mode) -> Result<Prepared> {
    if !on_path("java") {
        return Err("`java` (JDK 17) is not on PATH".into());
    }
    maven::ensure_jars(layout)?;
    let version = maven::cassandra_version(layout).unwrap_or_else(|| "?".into());
    Ok(match mode {
        Mode::Plain => Prepared {
            version,
            tls: None,
            keystore: None,
            credentials: None,
            auth_classes: None,
        },
        Mode::Keyspaces => {
            let certs = certs::ensure(layout)?;
            let classes = javac::ensure_authenticator(layout)?;
            Prepared {
                version,
                tls: Some(TlsInfo {
                    ca: certs.ca,
                    server_name: certs::SERVER_NAMES[0].into(),
                }),
                keystore: Some(certs.keystore),
                credentials: Some(new_credentials()?),
                auth_classes: Some(classes),
            }
        }
    })
}

/// Empties a node's data/ and logs/ and creates its directories.
fn fresh_dirs(dirs: &NodeDirs) -> Result<()> {
    for dir in [dirs.data(), dirs.logs()] {
        if dir.exists() {
            fs::remove_dir_all(&dir).context(|| format!("remove {}", dir.display()))?;
        }
    }
    for dir in [dirs.conf(), dirs.logs(), dirs.data(), dirs.tmp()] {
        fs::create_dir_all(&dir).context(|| format!("create {}", dir.display()))?;
    }
    Ok(())
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Refuses to start over a running cluster (the single node would share 127.0.0.1's ports).
fn refuse_if_cluster_runs(layout: &Layout, state: &NodeState) -> Result<()> {
    let running: Vec<usize> = state
        .nodes
        .iter()
        .filter(|n| is_node(&n.dirs(), n.pid))
        .map(|n| n.n)
        .collect();
    if state.is_cluster() && !running.is_empty() {
        return Err(format!(
            "a {}-node cluster runs (node(s) {running:?} up, {} mode, port {}) under {}; \
             run `cargo xtask cassandra stop` first",
            state.nodes.len(),
            state.mode,
            state.port,
            layout.node.display()
        ));
    }
    Ok(())
}

/// Starts the node, or reuses it if it already runs healthy with the same mode and port.
pub(crate) fn start(layout: &Layout, mode: Mode, port: Option<u16>) -> Result<Started> {
    let port = port.unwrap_or_else(|| mode.default_port());
    // Several people (or helpers) share one checkout: serialise starts, then re-use.
    let _lock = StartLock::acquire(layout)?;
    let dirs = layout.single_node();
    if let Some(state) = read_state(layout) {
        refuse_if_cluster_runs(layout, &state)?;
        if is_node(&dirs, state.pid) {
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
            layout.node.display()
        ));
    }
    remove_state(layout);
    TcpListener::bind((HOST, port)).context(|| {
        format!("port {port} on {HOST} is taken by another process (not this harness's node)")
    })?;
    let address = std::net::Ipv4Addr::LOCALHOST;
    let storage_port = pick_storage_port(&[address])?;

    let begun = Instant::now();
    let prepared = prepare(layout, mode)?;
    fresh_dirs(&dirs)?;
    write_config(
        &dirs,
        &NodeConfig {
            address,
            port,
            storage_port,
            seeds: &[address],
            cluster: None,
        },
        prepared.keystore.as_deref(),
        prepared.credentials.as_ref(),
    )?;

    let jvm_started = Instant::now();
    let pid = spawn(
        layout,
        &dirs,
        &single_node_flags(),
        prepared.auth_classes.as_deref(),
    )?;
    let version = prepared.version;
    let state = NodeState {
        pid,
        mode,
        host: HOST.into(),
        port,
        version: version.clone(),
        system_log: dirs.system_log(),
        started_unix: now_unix(),
        tls: prepared.tls,
        credentials: prepared.credentials,
        nodes: vec![NodeInfo {
            n: 1,
            address,
            dc: SINGLE_NODE_DC.into(),
            pid,
            storage_port,
            dir: dirs.root.clone(),
            system_log: dirs.system_log(),
        }],
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

/// Stops every node of this checkout (the single node, or all nodes of the cluster): SIGTERM
/// (Cassandra's shutdown hook flushes and exits), SIGKILL after [`STOP_TIMEOUT`]. Only processes
/// whose command line is our CassandraDaemon with a data directory under `target/cassandra/` are
/// signalled. Returns whether anything was running.
pub(crate) fn stop(layout: &Layout) -> Result<bool> {
    let mut pids = our_pids(layout);
    if let Some(state) = read_state(layout) {
        for pid in state.nodes.iter().map(|n| n.pid).chain([state.pid]) {
            if is_ours(layout, pid) && !pids.contains(&pid) {
                pids.push(pid);
            }
        }
    }
    if pids.is_empty() {
        remove_state(layout);
        eprintln!("xtask: Cassandra is not running");
        return Ok(false);
    }
    let begun = Instant::now();
    terminate(&pids)?;
    remove_state(layout);
    eprintln!(
        "xtask: stopped Cassandra (pid {pids:?}) in {:.1}s",
        begun.elapsed().as_secs_f64()
    );
    Ok(true)
}

/// SIGTERM, then SIGKILL to whatever still runs after [`STOP_TIMEOUT`].
fn terminate(pids: &[u32]) -> Result<()> {
    for &pid in pids {
        signal(pid, "TERM")?;
    }
    if !wait_exit(pids, STOP_TIMEOUT) {
        for &pid in pids.iter().filter(|&&p| is_alive(p)) {
            eprintln!("xtask: pid {pid} ignored SIGTERM for {STOP_TIMEOUT:?}; sending SIGKILL");
            signal(pid, "KILL")?;
        }
        if !wait_exit(pids, Duration::from_secs(10)) {
            return Err(format!("Cassandra pid(s) {pids:?} survived SIGKILL"));
        }
    }
    Ok(())
}

/// Prints whether the node (or each cluster node) runs and whether a login works; fails if it
/// is not healthy.
pub(crate) fn status(layout: &Layout) -> Result<()> {
    if let Some(state) = read_state(layout).filter(NodeState::is_cluster) {
        return cluster::status(&state);
    }
    let Some(state) = read_state(layout).filter(|s| is_node(&layout.single_node(), s.pid)) else {
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
    let uptime = now_unix().saturating_sub(state.started_unix);
    println!("  up {uptime}s");
    match login_check(&state) {
        Ok(()) => {
            println!("  CQL login: ok");
            Ok(())
        }
        Err(e) => Err(format!("CQL login fails: {e}")),
    }
}
