//! What keeps a node or cluster from outliving `cargo xtask test`: a drop guard that stops what
//! this process launched, and a Ctrl-C/SIGTERM handler that stops the running step and the nodes.
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::cassandra::{self, Mode, NodeState, Topology};
use crate::layout::Layout;
use crate::util::{describe, Result};

/// Set while a node (or cluster) this process launched may be running; read by the Ctrl-C handler.
static OWN_NODE: AtomicBool = AtomicBool::new(false);
/// PID of the test step running now (0: none), so a SIGTERM to xtask does not orphan it.
static CURRENT_STEP: AtomicU32 = AtomicU32::new(0);
/// Set by the Ctrl-C handler, which then stops the nodes and exits.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// After Ctrl-C the handler owns the exit: the main thread must neither start the next step or
/// cluster nor stop the nodes a second time, nor return from `main` (which would end the
/// process while the handler is still stopping them).
fn park_if_interrupted() {
    while INTERRUPTED.load(Ordering::SeqCst) {
        std::thread::park();
    }
}

/// Like `util::run`, but records the child's PID for the interrupt handler.
pub(super) fn run_step(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {}", describe(cmd));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    CURRENT_STEP.store(child.id(), Ordering::SeqCst);
    let status = child.wait();
    CURRENT_STEP.store(0, Ordering::SeqCst);
    park_if_interrupted();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{} failed with {s}", describe(cmd))),
        Err(e) => Err(format!("waiting for {}: {e}", describe(cmd))),
    }
}

/// Stops the node or cluster on drop (panic, early return) if this process launched it.
pub(super) struct NodeGuard<'a> {
    layout: &'a Layout,
    pub(super) state: NodeState,
    launched: bool,
}

impl<'a> NodeGuard<'a> {
    /// The keyspaces-mode single node (`topology` `None`) or a cluster of that shape, on `port`.
    pub(super) fn start(layout: &'a Layout, port: u16, topology: Option<Topology>) -> Result<Self> {
        install_interrupt_handler();
        // Set before the start: a Ctrl-C while the JVMs come up must stop them too.
        OWN_NODE.store(true, Ordering::SeqCst);
        let started = match topology {
            None => cassandra::start(layout, Mode::Keyspaces, Some(port)),
            Some(t) => cassandra::start_cluster(layout, Mode::Keyspaces, Some(port), t),
        };
        park_if_interrupted();
        let started = started.inspect_err(|_| OWN_NODE.store(false, Ordering::SeqCst))?;
        // A node that was already running belongs to whoever started it: leave it running.
        OWN_NODE.store(started.launched, Ordering::SeqCst);
        Ok(Self {
            layout,
            state: started.state,
            launched: started.launched,
        })
    }

    pub(super) fn stop(mut self) -> Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.launched) {
            return Ok(());
        }
        OWN_NODE.store(false, Ordering::SeqCst);
        // Every node of this checkout, including one a test restarted with `start-node`.
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
        INTERRUPTED.store(true, Ordering::SeqCst);
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
