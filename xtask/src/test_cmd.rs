//! `cargo xtask test`: what CI runs (`.ci/run`).
//!
//! 1. `cargo fmt --all --check`
//! 2. `cargo clippy -- -D warnings` three times (the workspace with all targets, `cql4-frame`
//!    with all features, `cql4-conn` without the testkit feature), and the sans-io check:
//!    `cargo tree` of `cql4-frame`, `cql4-auth` and `cql4-topology` (normal edges) must not list tokio or mio
//! 3. the Python venv (AWS's driver plugin) and a keyspaces-mode Cassandra node
//! 4. the Python cross-check, `cargo test --workspace` (and `-p cql4-frame --all-features`),
//!    `cargo doc` with warnings denied, and `cargo xtask bench --quick`, with the node's `CQL4_TEST_*`
//!    environment (docs/testing.md)
//! 5. stop the node, also when a step failed or on Ctrl-C; print the node's log tail on failure.
//!
//! Every step runs even when an earlier one failed; the command fails if any did.
//! Integration tests never skip: if the node cannot start, this command fails with the log tail.
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::cassandra::{self, Mode, NodeState};
use crate::layout::Layout;
use crate::util::{run as run_cmd, Result};
use crate::{sans_io, venv};

/// Set while a node this process launched may be running; read by the Ctrl-C handler.
static OWN_NODE: AtomicBool = AtomicBool::new(false);
/// PID of the test step running now (0: none), so a SIGTERM to xtask does not orphan it.
static CURRENT_STEP: AtomicU32 = AtomicU32::new(0);

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

pub(crate) fn run(layout: &Layout, skip_lint: bool, port: u16) -> Result<()> {
    // Every step runs even after a failure, so one CI log shows everything that is wrong.
    let mut failures: Vec<&str> = Vec::new();
    if skip_lint {
        eprintln!("xtask: --skip-lint: not running fmt and clippy (CI always does)");
    } else {
        let lints: [(&str, &[&str]); 4] = [
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
            // The optional big-number conversions are not in the default feature set.
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
        ];
        for (name, args) in lints {
            if let Err(e) = run_cmd(cargo().args(args)) {
                eprintln!("xtask: FAILED: {name}: {e}");
                failures.push(name);
            }
        }
        let name =
            "sans-io: no tokio or mio under cql4-frame, cql4-auth and cql4-topology (cargo tree)";
        if let Err(e) = sans_io::check() {
            eprintln!("xtask: FAILED: {name}: {e}");
            failures.push(name);
        }
    }
    let lint_failures = failures.len();
    let python = venv::ensure(layout).map_err(|e| with_failures(e, &failures))?;
    let node = NodeGuard::start(layout, port).map_err(|e| with_failures(e, &failures))?;

    let mut env = node.state.test_env();
    env.push(("CQL4_PYTHON", python.display().to_string()));
    let steps: [(&str, Command); 5] = [
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
            let mut c = Command::new(std::env::current_exe().unwrap_or_else(|_| "xtask".into()));
            c.args(["bench", "--quick"]);
            c
        }),
    ];
    for (name, mut cmd) in steps {
        eprintln!("xtask: ==== {name} ====");
        cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        if let Err(e) = run_step(&mut cmd) {
            eprintln!("xtask: FAILED: {name}: {e}");
            failures.push(name);
        }
    }
    if failures.len() > lint_failures {
        cassandra::print_log_tail(layout);
    }
    node.stop()?;
    if failures.is_empty() {
        eprintln!("xtask: all steps passed");
        Ok(())
    } else {
        Err(format!("failed: {}", failures.join(", ")))
    }
}

/// Like `util::run`, but records the child's PID for the interrupt handler.
fn run_step(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {}", crate::util::describe(cmd));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", crate::util::describe(cmd)))?;
    CURRENT_STEP.store(child.id(), Ordering::SeqCst);
    let status = child.wait();
    CURRENT_STEP.store(0, Ordering::SeqCst);
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{} failed with {s}", crate::util::describe(cmd))),
        Err(e) => Err(format!("waiting for {}: {e}", crate::util::describe(cmd))),
    }
}

fn with_failures(error: String, failures: &[&str]) -> String {
    if failures.is_empty() {
        error
    } else {
        format!("{error} (also failed: {})", failures.join(", "))
    }
}

/// Stops the node on drop (panic, early return) if this process launched it.
struct NodeGuard<'a> {
    layout: &'a Layout,
    state: NodeState,
    launched: bool,
}

impl<'a> NodeGuard<'a> {
    fn start(layout: &'a Layout, port: u16) -> Result<Self> {
        install_interrupt_handler();
        OWN_NODE.store(true, Ordering::SeqCst);
        let started = cassandra::start(layout, Mode::Keyspaces, Some(port));
        let started = started.inspect_err(|_| OWN_NODE.store(false, Ordering::SeqCst))?;
        // A node that was already running belongs to whoever started it: leave it running.
        OWN_NODE.store(started.launched, Ordering::SeqCst);
        Ok(Self {
            layout,
            state: started.state,
            launched: started.launched,
        })
    }

    fn stop(mut self) -> Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.launched) {
            return Ok(());
        }
        OWN_NODE.store(false, Ordering::SeqCst);
        cassandra::stop(self.layout).map(|_| ())
    }
}

impl Drop for NodeGuard<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.stop_inner() {
            eprintln!("xtask: stopping Cassandra: {e}");
        }
    }
}

fn install_interrupt_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(set_interrupt_handler);
}

fn set_interrupt_handler() {
    let result = ctrlc::set_handler(|| {
        eprintln!("xtask: interrupted");
        let step = CURRENT_STEP.swap(0, Ordering::SeqCst);
        if step != 0 {
            // A terminal's Ctrl-C reached it already; a SIGTERM sent to xtask alone did not.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(step.to_string())
                .status();
        }
        if OWN_NODE.swap(false, Ordering::SeqCst) {
            if let Err(e) = cassandra::stop(&Layout::discover()) {
                eprintln!("xtask: stopping Cassandra: {e}");
            }
        }
        std::process::exit(130);
    });
    if let Err(e) = result {
        // Not fatal: the guard still stops the node on every non-signal exit path.
        eprintln!("xtask: cannot install the Ctrl-C handler: {e}");
    }
}

/// Used by `demo` too: installs the handler and marks the node as ours.
pub(crate) fn guard_interrupts(own: bool) {
    install_interrupt_handler();
    OWN_NODE.store(own, Ordering::SeqCst);
}
