//! A run's counters and its summary (printed, and saved as `summary.txt`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use super::findings::Kind;

/// When the server stopped accepting logins.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CrashInfo {
    /// The last iteration sent before the crash was detected.
    pub iteration: u64,
    /// Requests sent by then (this run).
    pub requests: u64,
    /// Time from the first request to the detection.
    pub elapsed: Duration,
}

/// What a campaign did.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CampaignReport {
    /// The seed.
    pub seed: u64,
    /// Requests sent.
    pub requests: u64,
    /// From the first request to the end.
    pub elapsed: Duration,
    /// Why the run stopped.
    pub stopped: String,
    /// Answers, closes, silences and hangs by kind (the histogram).
    pub outcomes: BTreeMap<String, u64>,
    /// Findings seen, by kind, repeats included.
    pub seen: BTreeMap<Kind, u64>,
    /// Finding files written (one per kind and signature).
    pub files: Vec<PathBuf>,
    /// Connections opened for requests (logins at `--stage logged-in`).
    pub logins: u64,
    /// Liveness checks made.
    pub health_checks: u64,
    /// Set when the server stopped accepting logins.
    pub crash: Option<CrashInfo>,
    /// Where findings and `summary.txt` are.
    pub dir: PathBuf,
}

impl CampaignReport {
    /// The summary text.
    pub fn summary(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "seed {}; {} requests in {secs:.1} s ({:.1} req/s); stopped: {}",
            self.seed,
            self.requests,
            self.requests as f64 / secs.max(1e-9),
            self.stopped
        );
        let _ = writeln!(
            s,
            "connections opened {}; liveness checks {}",
            self.logins, self.health_checks
        );
        if let Some(c) = &self.crash {
            let _ = writeln!(
                s,
                "CRASH: the server stopped accepting logins after iteration {} ({} requests, {:.1} s into the run)",
                c.iteration,
                c.requests,
                c.elapsed.as_secs_f64()
            );
        }
        let _ = writeln!(s, "findings (repeats included):");
        if self.seen.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for (kind, n) in &self.seen {
            let _ = writeln!(s, "  {n:>8}  {kind}");
        }
        let _ = writeln!(s, "finding files:");
        for f in &self.files {
            let _ = writeln!(s, "  {}", f.display());
        }
        let _ = writeln!(s, "outcomes:");
        let mut sorted: Vec<_> = self.outcomes.iter().collect();
        sorted.sort_by_key(|e| std::cmp::Reverse(*e.1));
        for (key, n) in sorted {
            let _ = writeln!(s, "  {n:>8}  {key}");
        }
        let _ = writeln!(s, "findings directory: {}", self.dir.display());
        s
    }
}
