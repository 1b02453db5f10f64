//! Reading the nodes' logs: `cargo xtask cassandra logs` and the tail printed on failure.
use std::fs;

use super::state::{read_state, NodeState};
use crate::layout::{Layout, NodeDirs};
use crate::util::{tail, Result};

/// Prints the last `lines` lines of a node's log: node `n` of the cluster when given (or when
/// `node.json` describes a cluster: node 1), else the single node's.
pub(crate) fn logs(layout: &Layout, node: Option<usize>, lines: usize) -> Result<()> {
    let dirs = match node {
        Some(n) => layout.cluster_node(n),
        None if read_state(layout).is_some_and(|s| s.is_cluster()) => layout.cluster_node(1),
        None => layout.single_node(),
    };
    let log = dirs.system_log();
    if !log.exists() {
        return Err(format!("no log at {}", log.display()));
    }
    println!("{}", tail(&log, lines));
    Ok(())
}

/// Prints the end of the single node's logs to stderr (used when something failed).
pub(crate) fn print_log_tail(layout: &Layout) {
    print_node_log_tail(&layout.single_node());
}

/// Prints the end of every node's logs to stderr (the single node's, or each cluster node's).
pub(crate) fn print_log_tails(state: &NodeState) {
    for node in &state.nodes {
        print_node_log_tail(&node.dirs());
    }
}

/// Prints the end of one node's logs to stderr: the last warnings and errors (INFO lines bury
/// them), then the last lines as they are.
pub(crate) fn print_node_log_tail(dirs: &NodeDirs) {
    let system_log = dirs.system_log();
    let problems: Vec<String> = fs::read(&system_log)
        .map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .lines()
                .filter(|l| l.starts_with("WARN") || l.starts_with("ERROR"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if !problems.is_empty() {
        let start = problems.len().saturating_sub(30);
        eprintln!(
            "xtask: ---- last WARN/ERROR lines of {} ----\n{}\n---- end ----",
            system_log.display(),
            problems.get(start..).unwrap_or_default().join("\n")
        );
    }
    for (log, lines) in [(system_log, 40), (dirs.stdout_log(), 20)] {
        let text = tail(&log, lines);
        if !text.is_empty() {
            eprintln!(
                "xtask: ---- last {lines} lines of {} ----\n{text}\n---- end ----",
                log.display()
            );
        }
    }
}
