//! A local cluster of real nodes on 127.0.0.1, 127.0.0.2, …: `start --nodes N`, and the
//! per-node `kill`, `stop-node`, `start-node` the session layer's tests need.
//!
//! Start order: all nodes at once. The cluster is fresh and empty, so every node has
//! `auto_bootstrap: false` and a fixed token and simply joins the ring: nothing to stream, no
//! one-bootstrap-at-a-time rule to wait for. Every node is in the seed list, so a node
//! restarted by `start-node` finds the cluster through whichever nodes still run.
//! `system_auth` has a replica on every node (`-Dcassandra.system_auth.default_rf`), and the test
//! role is created once every node is in every other's `system.peers_v2`, so the write reaches
//! every replica and logins keep working on the survivors of a `kill`.
use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use super::config::{pick_storage_port, write_config, NodeConfig};
use super::jvm::cluster_node_flags;
use super::logs::print_node_log_tail;
use super::process::{is_node, our_pids, signal, spawn, wait_exit};
use super::readiness::{login_check_at, wait_cluster_ready, wait_node_rejoined};
use super::start_lock::StartLock;
use super::state::{read_state, remove_state, write_state, NodeInfo, NodeState};
use super::topology::Topology;
use super::{fresh_dirs, now_unix, prepare, stop, terminate, Mode, Started};
use crate::javac;
use crate::layout::Layout;
use crate::util::{Context, Result};

/// Starts an N-node cluster, or reuses it if the same layout already runs healthy.
pub(crate) fn start_cluster(
    layout: &Layout,
    mode: Mode,
    port: Option<u16>,
    topology: Topology,
) -> Result<Started> {
    let port = port.unwrap_or_else(|| mode.default_port());
    let _lock = StartLock::acquire(layout)?;
    let placements = topology.placements();
    if let Some(state) = read_state(layout) {
        let running = running_nodes(&state);
        if state.is_cluster() && !running.is_empty() {
            let same = state.mode == mode
                && state.port == port
                && state.nodes.len() == topology.nodes
                && state
                    .nodes
                    .iter()
                    .zip(&placements)
                    .all(|(n, p)| n.dc == p.dc);
            if !same || running.len() != state.nodes.len() {
                return Err(format!(
                    "a {}-node {} cluster runs on port {} (node(s) {running:?} up); \
                     run `cargo xtask cassandra stop` first",
                    state.nodes.len(),
                    state.mode,
                    state.port
                ));
            }
            wait_cluster_ready(&state).map_err(|e| {
                format!("the running cluster is not healthy ({e}); run `cargo xtask cassandra stop` first")
            })?;
            eprintln!("xtask: the same cluster already runs healthy; reusing it");
            return Ok(Started {
                state,
                launched: false,
            });
        }
    }
    let strays = our_pids(layout);
    if !strays.is_empty() {
        return Err(format!(
            "Cassandra process(es) {strays:?} of this checkout run (the single node?); \
             run `cargo xtask cassandra stop` first"
        ));
    }
    remove_state(layout);
    let addresses: Vec<Ipv4Addr> = placements.iter().map(|p| p.address).collect();
    for &address in &addresses {
        TcpListener::bind((address, port))
            .context(|| format!("port {port} on {address} is taken by another process"))?;
    }
    let storage_port = pick_storage_port(&addresses)?;

    let begun = Instant::now();
    let prepared = prepare(layout, mode)?;
    let flags = cluster_node_flags(topology.nodes);
    let mut nodes = Vec::with_capacity(placements.len());
    for p in &placements {
        let dirs = layout.cluster_node(p.n);
        fresh_dirs(&dirs)?;
        write_config(
            &dirs,
            &NodeConfig {
                address: p.address,
                port,
                storage_port,
                seeds: &addresses,
                cluster: Some(p),
            },
            prepared.keystore.as_deref(),
            prepared.credentials.as_ref(),
        )?;
        nodes.push(NodeInfo {
            n: p.n,
            address: p.address,
            dc: p.dc.clone(),
            pid: 0,
            storage_port,
            dir: dirs.root.clone(),
            system_log: dirs.system_log(),
        });
    }
    let jvms_started = Instant::now();
    for node in &mut nodes {
        match spawn(
            layout,
            &node.dirs(),
            &flags,
            prepared.auth_classes.as_deref(),
        ) {
            Ok(pid) => node.pid = pid,
            Err(e) => {
                // The nodes already launched are found by their data directories.
                if let Err(stop_err) = stop(layout) {
                    eprintln!("xtask: stopping the nodes already started: {stop_err}");
                }
                return Err(e);
            }
        }
    }
    let first = nodes.first().ok_or("a cluster without nodes")?;
    let state = NodeState {
        pid: first.pid,
        mode,
        host: first.address.to_string(),
        port,
        version: prepared.version,
        system_log: first.system_log.clone(),
        started_unix: now_unix(),
        tls: prepared.tls,
        credentials: prepared.credentials,
        nodes,
    };
    write_state(layout, &state)?;
    fs::write(layout.pid_file(), format!("{}\n", state.pid))
        .context(|| "write cassandra.pid".into())?;
    eprintln!(
        "xtask: started {} Cassandra {} JVMs ({mode} mode, port {port}, storage_port {storage_port}); \
         waiting until every node lists the others as peers, sees them up and accepts a login…",
        state.nodes.len(),
        state.version
    );
    if let Err(e) = wait_cluster_ready(&state) {
        for node in &state.nodes {
            print_node_log_tail(&node.dirs());
        }
        if let Err(stop_err) = stop(layout) {
            eprintln!("xtask: stopping the failed cluster: {stop_err}");
        }
        return Err(format!("the cluster did not become ready: {e}"));
    }
    eprintln!(
        "xtask: {}-node cluster ready in {:.1}s (JVM launch → ready {:.1}s)",
        state.nodes.len(),
        begun.elapsed().as_secs_f64(),
        jvms_started.elapsed().as_secs_f64()
    );
    Ok(Started {
        state,
        launched: true,
    })
}

/// `kill N`: SIGKILL, as a crash or a pulled plug looks to the other nodes and to clients.
pub(crate) fn kill_node(layout: &Layout, n: usize) -> Result<()> {
    let state = cluster_state(layout)?;
    let node = running_node(&state, n)?;
    signal(node.pid, "KILL")?;
    if !wait_exit(&[node.pid], Duration::from_secs(10)) {
        return Err(format!("node {n} (pid {}) survived SIGKILL", node.pid));
    }
    eprintln!(
        "xtask: killed node {n} ({}, pid {})",
        node.address, node.pid
    );
    Ok(())
}

/// `stop-node N`: an orderly shutdown (SIGTERM; the others see it announce its shutdown).
pub(crate) fn stop_node(layout: &Layout, n: usize) -> Result<()> {
    let state = cluster_state(layout)?;
    let node = running_node(&state, n)?;
    let begun = Instant::now();
    terminate(&[node.pid])?;
    eprintln!(
        "xtask: stopped node {n} ({}, pid {}) in {:.1}s",
        node.address,
        node.pid,
        begun.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `start-node N`: restarts a stopped or killed node on its own data; ready when it accepts a
/// login and every running node (it included) sees every running node up.
pub(crate) fn start_node(layout: &Layout, n: usize) -> Result<()> {
    let _lock = StartLock::acquire(layout)?;
    let mut state = cluster_state(layout)?;
    let node = state.node(n)?.clone();
    let dirs = node.dirs();
    if is_node(&dirs, node.pid) {
        eprintln!("xtask: node {n} already runs (pid {})", node.pid);
        return Ok(());
    }
    if let Some(stray) = our_pids(layout).into_iter().find(|&p| is_node(&dirs, p)) {
        return Err(format!(
            "pid {stray} runs node {n}'s data directory but node.json does not record it; \
             run `cargo xtask cassandra stop`"
        ));
    }
    for p in [state.port, node.storage_port] {
        port_free_soon(node.address, p)?;
    }
    let auth_classes = match state.mode {
        Mode::Keyspaces => Some(javac::ensure_authenticator(layout)?),
        Mode::Plain => None,
    };
    let begun = Instant::now();
    let pid = spawn(
        layout,
        &dirs,
        &cluster_node_flags(state.nodes.len()),
        auth_classes.as_deref(),
    )?;
    for x in state.nodes.iter_mut().filter(|x| x.n == n) {
        x.pid = pid;
    }
    if n == 1 {
        state.pid = pid;
        fs::write(layout.pid_file(), format!("{pid}\n"))
            .context(|| "write cassandra.pid".into())?;
    }
    write_state(layout, &state)?;
    eprintln!(
        "xtask: restarted node {n} ({}, pid {pid}); waiting until it accepts a login and the others see it up…",
        node.address
    );
    if let Err(e) = wait_node_rejoined(&state, n) {
        print_node_log_tail(&dirs);
        return Err(format!("node {n} did not rejoin: {e}"));
    }
    eprintln!(
        "xtask: node {n} up in {:.1}s",
        begun.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Per-node status; fails if a node is down or refuses a login.
pub(super) fn status(state: &NodeState) -> Result<()> {
    state.print_summary();
    let uptime = now_unix().saturating_sub(state.started_unix);
    println!("  cluster started {uptime}s ago");
    let mut unhealthy = Vec::new();
    for node in &state.nodes {
        let health = if !is_node(&node.dirs(), node.pid) {
            "down".to_owned()
        } else {
            match login_check_at(state, state.addr_of(node)) {
                Ok(()) => "up, CQL login ok".to_owned(),
                Err(e) => format!("up, CQL login fails: {e}"),
            }
        };
        if !health.ends_with("login ok") {
            unhealthy.push(node.n);
        }
        println!("  node {}: {health}", node.n);
    }
    if unhealthy.is_empty() {
        Ok(())
    } else {
        Err(format!("node(s) {unhealthy:?} not healthy"))
    }
}

fn cluster_state(layout: &Layout) -> Result<NodeState> {
    read_state(layout)
        .filter(NodeState::is_cluster)
        .ok_or_else(|| "no cluster: start one with `cargo xtask cassandra start --nodes 3`".into())
}

fn running_nodes(state: &NodeState) -> Vec<usize> {
    state
        .nodes
        .iter()
        .filter(|n| is_node(&n.dirs(), n.pid))
        .map(|n| n.n)
        .collect()
}

fn running_node(state: &NodeState, n: usize) -> Result<&NodeInfo> {
    let node = state.node(n)?;
    if is_node(&node.dirs(), node.pid) {
        Ok(node)
    } else {
        Err(format!("node {n} is not running"))
    }
}

/// A just-killed JVM's sockets close a moment after its PID is gone: wait up to 10 s.
fn port_free_soon(address: Ipv4Addr, port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpListener::bind((address, port)) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => {
                return Err(format!("port {port} on {address} is still taken: {e}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}
