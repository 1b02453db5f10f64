//! The server fuzzer behind the `cql4-fuzz-server` binary: a seeded mutation fuzzer for a
//! Cassandra-protocol (v4) server you own, on loopback unless told otherwise.
//!
//! ```text
//! cargo run -p cql4-testkit --bin cql4-fuzz-server -- --help
//! ```
//!
//! - [`args`]: the flags;
//! - `target`: the loopback check (after resolution) and the connection configuration;
//! - `connect`: connections at each `--stage` (logged in, before STARTUP, before auth);
//! - [`templates`]: the valid requests mutated, captured from a session or loaded from a file;
//! - `mutations`: the seeded generator and the edits;
//! - [`oracle`]: what counts as a finding (hangs, undecodable answers, leaked internals…);
//! - `campaign`: the loop, and crash detection (logins failing in a row);
//! - `minimize`: shrinking a finding while it reproduces;
//! - [`findings`]: the replayable finding file;
//! - `text_file`: reading the files given (templates, findings), at most 16 MiB;
//! - [`replay`]: `--replay FILE`;
//! - [`report`]: counters and the summary.
//!
//! docs/fuzzing.md ("Fuzzing the server") has the figures of runs against Cassandra.

pub mod args;
mod campaign;
mod connect;
pub mod findings;
mod minimize;
mod mutations;
pub mod oracle;
mod probe;
pub mod replay;
pub mod report;
mod target;
pub mod templates;
mod text_file;

pub use args::{Args, Stage};
pub use findings::{Finding, Kind};
pub use replay::ReplayReport;
pub use report::CampaignReport;

/// Errors of a run (configuration, I/O, a failed setup).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A run's result.
#[derive(Debug)]
pub enum Outcome {
    /// A campaign ran.
    Campaign(CampaignReport),
    /// `--replay` ran.
    Replay(ReplayReport),
}

/// Runs what `args` asks for: a campaign, or a replay with `--replay`. The target is resolved
/// and checked first.
pub async fn run(args: &Args) -> Result<Outcome, Error> {
    let config = target::config(args).await?;
    match &args.replay {
        Some(path) => Ok(Outcome::Replay(replay::replay(args, &config, path).await?)),
        None => Ok(Outcome::Campaign(campaign::campaign(args, &config).await?)),
    }
}
