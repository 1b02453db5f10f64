//! `cargo xtask demo [--keep]`: the `cql4` CLI against the keyspaces-mode node, once with the
//! service-specific password and once with SigV4 (AWS_* variables set for the child only).
use std::process::Command;

use crate::cassandra::{self, Mode};
use crate::layout::Layout;
use crate::test_cmd::{cargo, guard_interrupts};
use crate::util::Result;

const QUERY: &str = "select * from system_schema.keyspaces";

pub(crate) fn run(layout: &Layout, keep: bool) -> Result<()> {
    guard_interrupts(!keep);
    let started = cassandra::start(layout, Mode::Keyspaces, None)?;
    guard_interrupts(started.launched && !keep);
    let outcome = run_cli(&started.state);
    if started.launched && !keep {
        cassandra::stop(layout)?;
    } else {
        eprintln!("xtask: Cassandra left running (`cargo xtask cassandra stop` stops it)");
    }
    outcome
}

fn run_cli(state: &cassandra::NodeState) -> Result<()> {
    let (Some(tls), Some(c)) = (&state.tls, &state.credentials) else {
        return Err("the node has no TLS/credentials (not keyspaces mode)".into());
    };
    let base = |cmd: &mut Command| {
        cmd.args(["run", "-q", "-p", "cql4-cli", "--"])
            .arg(&state.host)
            .arg(state.port.to_string())
            .arg("--ssl-ca")
            .arg(&tls.ca);
    };
    let mut failed = Vec::new();

    let mut password = cargo();
    base(&mut password);
    password
        .args(["-u", &c.user, "-p", &c.password, "-e", QUERY])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN");
    let shown = format!(
        "cargo run -q -p cql4-cli -- {} {} --ssl-ca {} -u {} -p <password> -e \"{QUERY}\"",
        state.host,
        state.port,
        tls.ca.display(),
        c.user
    );
    if !run_shown(&mut password, &shown) {
        failed.push("password login");
    }

    let mut sigv4 = cargo();
    base(&mut sigv4);
    sigv4
        .args(["--sigv4", "--region", &c.region, "-e", QUERY])
        .env("AWS_ACCESS_KEY_ID", &c.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &c.secret_access_key)
        .env("AWS_SESSION_TOKEN", &c.session_token);
    let shown = format!(
        "AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY=<secret> AWS_SESSION_TOKEN=<token> \
         cargo run -q -p cql4-cli -- {} {} --ssl-ca {} --sigv4 --region {} -e \"{QUERY}\"",
        c.access_key_id,
        state.host,
        state.port,
        tls.ca.display(),
        c.region
    );
    if !run_shown(&mut sigv4, &shown) {
        failed.push("SigV4 login");
    }

    if failed.is_empty() {
        eprintln!("xtask: demo: both logins worked");
        Ok(())
    } else {
        Err(format!(
            "demo: the cql4 CLI failed for: {} (see its output above)",
            failed.join(", ")
        ))
    }
}

/// Runs `cmd`, printing `shown` (secrets masked) instead of the real command line.
fn run_shown(cmd: &mut Command, shown: &str) -> bool {
    eprintln!("xtask: demo: {shown}");
    match cmd.status() {
        Ok(status) if status.success() => true,
        Ok(status) => {
            eprintln!("xtask: demo: the cql4 CLI exited with {status}");
            false
        }
        Err(e) => {
            eprintln!("xtask: demo: cannot run cargo: {e}");
            false
        }
    }
}
