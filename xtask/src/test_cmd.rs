//! `cargo xtask test`: what CI runs (`.ci/run`).
//!
//! 1. `cargo fmt --all --check`
//! 2. `cargo clippy -- -D warnings` (the workspace with all targets, `cql4-frame` with all
//!    features, `cql4-conn` without the testkit feature, `cql4-conn` and `cql4-session` with the
//!    `metrics` feature, the session's cluster tests), and the sans-io check:
//!    `cargo tree` of `cql4-frame`, `cql4-auth` and `cql4-topology` (normal edges) must not list tokio or mio
//! 3. the Python venv (AWS's driver plugin) and a keyspaces-mode Cassandra node
//! 4. the Python cross-check, `cargo test --workspace` (and the metrics feature's tests, and
//!    `-p cql4-frame --all-features`),
//!    `cargo doc` with warnings denied, and `cargo xtask bench --quick`, with the node's `CQL4_TEST_*`
//!    environment (docs/testing.md)
//! 5. stop the node, also when a step failed or on Ctrl-C; print the node's log tail on failure
//! 6. the cluster stage ([`cluster`]): for each cluster of its table, start it, run its tests
//!    with its `CQL4_TEST_*` environment, stop it (every node's log tail on failure).
//!
//! Every step runs even when an earlier one failed; the command fails if any did.
//! Integration tests never skip: if a node or cluster cannot start, this command fails with the
//! log tail.
mod cluster;
mod guard;

use std::process::Command;

use crate::cassandra;
use crate::layout::Layout;
use crate::util::run as run_cmd;
use crate::util::Result;
use crate::{sans_io, venv};

pub(crate) use guard::guard_interrupts;
use guard::{run_step, NodeGuard};

/// Names of the failed steps, in order.
type Failures = Vec<String>;

/// What `cargo xtask test` runs.
pub(crate) struct Options {
    /// Skip fmt, clippy and the sans-io check.
    pub(crate) skip_lint: bool,
    /// Only the cluster stage (no lints, no single node).
    pub(crate) cluster_only: bool,
    /// Native port of the single node and of every cluster node.
    pub(crate) port: u16,
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// This xtask's executable, for steps and tests that run xtask commands (`CQL4_TEST_XTASK`).
fn xtask_exe() -> String {
    std::env::current_exe().map_or_else(|_| "xtask".into(), |p| p.display().to_string())
}

pub(crate) fn run(layout: &Layout, options: &Options) -> Result<()> {
    // Every step runs even after a failure, so one CI log shows everything that is wrong.
    let mut failures = Failures::new();
    if options.cluster_only {
        eprintln!("xtask: --cluster-only: no fmt, clippy or single-node stage (CI runs them)");
    } else {
        if options.skip_lint {
            eprintln!("xtask: --skip-lint: not running fmt and clippy (CI always does)");
        } else {
            lint(&mut failures);
        }
        single_node_stage(layout, options.port, &mut failures);
    }
    cluster::run_all(layout, options.port, &mut failures);
    if failures.is_empty() {
        eprintln!("xtask: all steps passed");
        Ok(())
    } else {
        Err(format!("failed: {}", failures.join(", ")))
    }
}

fn lint(failures: &mut Failures) {
    let lints: [(&str, &[&str]); 6] = [
        ("cargo fmt --all --check", &["fmt", "--all", "--check"]),
        (
            "cargo clippy --workspace --all-targets -- -D warnings",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        // The optional conversions (big numbers, uuid, chrono) are not in the default feature set.
        (
            "cargo clippy -p cql4-frame --all-features --all-targets -- -D warnings",
            &[
                "clippy",
                "-p",
                "cql4-frame",
                "--all-features",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        // As a user builds it: without the hidden `testkit` feature that the workspace
        // build turns on through cql4-testkit.
        (
            "cargo clippy -p cql4-conn -- -D warnings",
            &["clippy", "-p", "cql4-conn", "--", "-D", "warnings"],
        ),
        // The optional `metrics` feature (off in the workspace build).
        (
            "cargo clippy -p cql4-conn -p cql4-session --features cql4-conn/metrics,cql4-session/metrics --all-targets -- -D warnings",
            &[
                "clippy",
                "-p",
                "cql4-conn",
                "-p",
                "cql4-session",
                "--features",
                "cql4-conn/metrics,cql4-session/metrics",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        // The real-cluster tests are behind a feature the workspace build leaves off.
        (
            "cargo clippy -p cql4-session --features cluster-tests --all-targets -- -D warnings",
            &[
                "clippy",
                "-p",
                "cql4-session",
                "--features",
                "cluster-tests",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
    ];
    for (name, args) in lints {
        if let Err(e) = run_cmd(cargo().args(args)) {
            eprintln!("xtask: FAILED: {name}: {e}");
            failures.push(name.into());
        }
    }
    let name =
        "sans-io: no tokio or mio under cql4-frame, cql4-auth and cql4-topology (cargo tree)";
    if let Err(e) = sans_io::check() {
        eprintln!("xtask: FAILED: {name}: {e}");
        failures.push(name.into());
    }
}

/// The venv, the single keyspaces-mode node, the tests against it, then the node stopped. Without
/// the venv or the node the stage stops there (a failure; the cluster stage still runs).
fn single_node_stage(layout: &Layout, port: u16, failures: &mut Failures) {
    let python = match venv::ensure(layout) {
        Ok(python) => python,
        Err(e) => {
            eprintln!("xtask: FAILED: Python venv: {e}");
            failures.push("Python venv".into());
            return;
        }
    };
    let node = match NodeGuard::start(layout, port, None) {
        Ok(node) => node,
        Err(e) => {
            eprintln!("xtask: FAILED: keyspaces-mode node: {e}");
            failures.push("keyspaces-mode node (start)".into());
            return;
        }
    };

    let mut env = node.state.test_env();
    env.push(("CQL4_PYTHON", python.display().to_string()));
    env.push(("CQL4_TEST_XTASK", xtask_exe()));
    let steps: [(&str, Command); 6] = [
        ("Python cross-check (cassandra-driver + cassandra-sigv4)", {
            let mut c = Command::new(&python);
            c.arg(layout.python_check());
            c
        }),
        ("cargo test --workspace", {
            let mut c = cargo();
            c.args(["test", "--workspace"]);
            c
        }),
        // The metrics tests need the feature the workspace build leaves off.
        (
            "cargo test (metrics feature: tests/metrics.rs, tests/inproc_metrics.rs)",
            {
                let mut c = cargo();
                c.args([
                    "test",
                    "-p",
                    "cql4-conn",
                    "-p",
                    "cql4-session",
                    "--features",
                    "cql4-conn/metrics,cql4-session/metrics",
                    "--test",
                    "metrics",
                    "--test",
                    "inproc_metrics",
                ]);
                c
            },
        ),
        ("cargo test -p cql4-frame --all-features", {
            let mut c = cargo();
            c.args(["test", "-p", "cql4-frame", "--all-features"]);
            c
        }),
        ("cargo doc --workspace --no-deps (warnings denied)", {
            let mut c = cargo();
            c.args(["doc", "--workspace", "--no-deps", "--all-features"]);
            c.env("RUSTDOCFLAGS", "-D warnings");
            c
        }),
        // Smoke run of the driver benchmarks so the bench code cannot rot (docs/benchmarks.md).
        ("cargo xtask bench --quick", {
            let mut c = Command::new(xtask_exe());
            c.args(["bench", "--quick"]);
            c
        }),
    ];
    let mut failed = false;
    for (name, mut cmd) in steps {
        eprintln!("xtask: ==== {name} ====");
        cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        if let Err(e) = run_step(&mut cmd) {
            eprintln!("xtask: FAILED: {name}: {e}");
            failures.push(name.into());
            failed = true;
        }
    }
    if failed {
        cassandra::print_log_tail(layout);
    }
    if let Err(e) = node.stop() {
        eprintln!("xtask: FAILED: stopping the keyspaces-mode node: {e}");
        failures.push("keyspaces-mode node (stop)".into());
    }
}
