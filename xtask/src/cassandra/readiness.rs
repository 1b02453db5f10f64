//! Readiness: a successful CQL login with the node's own credentials (not an open port), via
//! the raw-frame client of [`crate::probe`]; for a cluster also that every node knows the others
//! (`system.peers_v2`) and sees them up.
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::process::{is_alive, is_node};
use super::state::{NodeInfo, NodeState};
use super::READY_TIMEOUT;
use crate::probe::{Connection, ProbeError, Tls};
use crate::util::Result;

/// The superuser Cassandra creates on first start (CassandraRoleManager); used only to create
/// the test role.
const DEFAULT_SUPERUSER: (&str, &str) = ("cassandra", "cassandra");
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Who logs in (keyspaces mode; plain mode has no authentication).
#[derive(Clone, Copy)]
enum Login {
    DefaultSuperuser,
    TestRole,
}

fn connect(state: &NodeState, addr: SocketAddr, login: Login) -> Result<Connection, ProbeError> {
    let tls = state.tls.as_ref().map(|t| Tls {
        ca_pem: &t.ca,
        server_name: &t.server_name,
    });
    let credentials = match login {
        Login::DefaultSuperuser => state.credentials.as_ref().map(|_| DEFAULT_SUPERUSER),
        Login::TestRole => state
            .credentials
            .as_ref()
            .map(|c| (c.user.as_str(), c.password.as_str())),
    };
    Connection::open(addr, tls.as_ref(), credentials, CONNECT_TIMEOUT)
}

pub(super) fn wait_ready(state: &NodeState) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut role_created = false;
    let mut last = String::from("no attempt yet");
    loop {
        if !is_alive(state.pid) {
            return Err(format!(
                "the JVM (pid {}) exited during startup; last login attempt: {last}",
                state.pid
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no successful login within {READY_TIMEOUT:?}; last attempt: {last}"
            ));
        }
        let attempt = if role_created {
            Ok(())
        } else {
            create_test_role(state, state.addr())
        }
        .and_then(|()| {
            role_created = true;
            login_check_at(state, state.addr())
        });
        match attempt {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Creates the SASL PLAIN / SigV4 role as the default superuser (keyspaces mode only).
fn create_test_role(state: &NodeState, addr: SocketAddr) -> Result<(), ProbeError> {
    let Some(c) = &state.credentials else {
        return Ok(());
    };
    let mut admin = connect(state, addr, Login::DefaultSuperuser)?;
    // Superuser so tests may create keyspaces; the password alphabet has no quote to escape.
    admin.query(&format!(
        "CREATE ROLE IF NOT EXISTS \"{}\" WITH PASSWORD = '{}' AND LOGIN = true AND SUPERUSER = true",
        c.user, c.password
    ))
}

/// Polls [`login_check`] while the node is alive, up to `timeout`.
pub(super) fn wait_login(state: &NodeState, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        match login_check(state) {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() > deadline || !is_alive(state.pid) => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// One login with the node's own credentials plus a query.
pub(super) fn login_check(state: &NodeState) -> Result<()> {
    login_check_at(state, state.addr()).map_err(|e| e.to_string())
}

/// One login with the test credentials on `addr` plus a query.
pub(super) fn login_check_at(state: &NodeState, addr: SocketAddr) -> Result<(), ProbeError> {
    connect(state, addr, Login::TestRole)?.query("SELECT release_version FROM system.local")
}

/// Every node runs, lists every other node (with its data center) in `system.peers_v2`,
/// accepts a login with the test credentials and sees every node up.
pub(super) fn wait_cluster_ready(state: &NodeState) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let all: Vec<&NodeInfo> = state.nodes.iter().collect();
    for node in &all {
        poll(state, &all, deadline, "peers", || {
            peers_check(state, node, Login::DefaultSuperuser)
                .map_err(|e| format!("node {}: {e}", node.n))
        })?;
    }
    if state.credentials.is_some() {
        // Written at EACH_QUORUM through node 1 once all nodes are in the ring, so every
        // system_auth replica (one per node) holds the role.
        let first = all.first().ok_or("no nodes")?;
        poll(state, &all, deadline, "test role", || {
            create_test_role(state, state.addr_of(first)).map_err(|e| e.to_string())
        })?;
    }
    for node in &all {
        poll(state, &all, deadline, "login and liveness", || {
            login_check_at(state, state.addr_of(node))
                .and_then(|()| sees_up(state, node, all.len()))
                .map_err(|e| format!("node {}: {e}", node.n))
        })?;
    }
    Ok(())
}

/// Node `n` was restarted: it accepts a login, and it and every other running node see all
/// running nodes up (so the others have marked it UP in gossip).
pub(super) fn wait_node_rejoined(state: &NodeState, n: usize) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let node = state.node(n)?;
    let running: Vec<&NodeInfo> = state
        .nodes
        .iter()
        .filter(|x| is_node(&x.dirs(), x.pid))
        .collect();
    poll(state, &[node], deadline, "login", || {
        login_check_at(state, state.addr_of(node)).map_err(|e| e.to_string())
    })?;
    for observer in &running {
        poll(state, &[node], deadline, "liveness", || {
            sees_up(state, observer, running.len())
                .map_err(|e| format!("seen from node {}: {e}", observer.n))
        })?;
    }
    Ok(())
}

/// Retries `attempt` every 500 ms until it succeeds, a node in `watched` dies, or `deadline`.
fn poll(
    state: &NodeState,
    watched: &[&NodeInfo],
    deadline: Instant,
    what: &str,
    mut attempt: impl FnMut() -> Result<()>,
) -> Result<()> {
    let mut last = String::from("no attempt yet");
    loop {
        if let Some(dead) = watched.iter().find(|n| !is_alive(n.pid)) {
            return Err(format!(
                "node {} (pid {}) exited during startup; last {what} check: {last}",
                dead.n, dead.pid
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{what} not ready within {READY_TIMEOUT:?} (port {}); last attempt: {last}",
                state.port
            ));
        }
        match attempt() {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `system.peers_v2` on `node` lists exactly the other nodes, each in its data center.
fn peers_check(state: &NodeState, node: &NodeInfo, login: Login) -> Result<(), String> {
    let mut conn = connect(state, state.addr_of(node), login).map_err(|e| e.to_string())?;
    let rows = conn
        .select("SELECT peer, data_center FROM system.peers_v2", 1)
        .map_err(|e| e.to_string())?;
    let seen: BTreeSet<(Ipv4Addr, String)> = rows
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [Some(peer), dc] => Some((
                <[u8; 4]>::try_from(peer.as_slice()).ok()?.into(),
                dc.as_deref()
                    .map(|d| String::from_utf8_lossy(d).into_owned())
                    .unwrap_or_default(),
            )),
            _ => None,
        })
        .collect();
    let expected: BTreeSet<(Ipv4Addr, String)> = state
        .nodes
        .iter()
        .filter(|other| other.n != node.n)
        .map(|other| (other.address, other.dc.clone()))
        .collect();
    if seen == expected {
        Ok(())
    } else {
        Err(format!("peers are {seen:?}, want {expected:?}"))
    }
}

/// A read of `system_auth.roles` (a replica on every node) through `node` at consistency
/// `running` (ONE, TWO or THREE): the coordinator answers only if it believes that many replicas
/// are up and they all reply, so it sees every running node up.
fn sees_up(state: &NodeState, node: &NodeInfo, running: usize) -> Result<(), ProbeError> {
    let consistency = u16::try_from(running)
        .ok()
        .filter(|c| (1..=3).contains(c))
        .ok_or_else(|| ProbeError::Protocol(format!("no consistency level for {running} nodes")))?;
    let mut conn = connect(state, state.addr_of(node), Login::TestRole)?;
    conn.select(
        "SELECT role FROM system_auth.roles WHERE role = 'cql4-liveness-probe'",
        consistency,
    )
    .map(drop)
}
