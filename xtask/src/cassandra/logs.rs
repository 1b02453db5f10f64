//! Reading the node's logs: `cargo xtask cassandra logs` and the tail printed on failure.
use std::fs;

use crate::layout::Layout;
use crate::util::{tail, Result};

/// Prints the last `lines` lines of the node's log.
pub(crate) fn logs(layout: &Layout, lines: usize) -> Result<()> {
    let log = layout.system_log();
    if !log.exists() {
        return Err(format!("no log at {}", log.display()));
    }
    println!("{}", tail(&log, lines));
    Ok(())
}

/// Prints the end of the node's logs to stderr (used when something failed): the last
/// warnings and errors (INFO lines bury them), then the last lines as they are.
pub(crate) fn print_log_tail(layout: &Layout) {
    let system_log = layout.system_log();
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
    for (log, lines) in [(system_log, 40), (layout.stdout_log(), 20)] {
        let text = tail(&log, lines);
        if !text.is_empty() {
            eprintln!(
                "xtask: ---- last {lines} lines of {} ----\n{text}\n---- end ----",
                log.display()
            );
        }
    }
}
