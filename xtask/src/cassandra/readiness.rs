//! Readiness: a successful CQL login with the node's own credentials (not an open port), via
//! the raw-frame client of [`crate::probe`].
use std::time::{Duration, Instant};

use super::process::is_alive;
use super::state::NodeState;
use super::READY_TIMEOUT;
use crate::probe::{Connection, ProbeError, Tls};
use crate::util::Result;

/// The superuser Cassandra creates on first start (CassandraRoleManager); used only to create
/// the test role.
const DEFAULT_SUPERUSER: (&str, &str) = ("cassandra", "cassandra");

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
            create_test_role(state)
        }
        .and_then(|()| {
            role_created = true;
            login_check_inner(state)
        });
        match attempt {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Creates the SASL PLAIN / SigV4 role as the default superuser (keyspaces mode only).
pub(super) fn create_test_role(state: &NodeState) -> Result<(), ProbeError> {
    let (Some(tls), Some(c)) = (&state.tls, &state.credentials) else {
        return Ok(());
    };
    let tls = Tls {
        ca_pem: &tls.ca,
        server_name: &tls.server_name,
    };
    let mut admin = Connection::open(
        state.addr(),
        Some(&tls),
        Some(DEFAULT_SUPERUSER),
        Duration::from_secs(5),
    )?;
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
    login_check_inner(state).map_err(|e| e.to_string())
}

pub(super) fn login_check_inner(state: &NodeState) -> Result<(), ProbeError> {
    let tls = state.tls.as_ref().map(|t| Tls {
        ca_pem: &t.ca,
        server_name: &t.server_name,
    });
    let login = state
        .credentials
        .as_ref()
        .map(|c| (c.user.as_str(), c.password.as_str()));
    let mut conn = Connection::open(state.addr(), tls.as_ref(), login, Duration::from_secs(5))?;
    conn.query("SELECT release_version FROM system.local")
}
