//! `cargo xtask fuzz [--minutes N] [--target T,…] [--jobs J] [--sanitizer none|address] [--seed]
//! [--cmin]`: runs the cargo-fuzz targets of `fuzz/`, `J` at a time (one libFuzzer process each,
//! bounded by time and by 50 million runs), keeps going when one finds a failure, and prints
//! libFuzzer's final figures per target (see docs/fuzzing.md).
//!
//! Needs `cargo-fuzz` (`cargo install cargo-fuzz`) and a C++ compiler; on stable Rust it sets
//! `RUSTC_BOOTSTRAP=1`, which the sanitizer flags of cargo-fuzz require.
use std::collections::VecDeque;
use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread;

use crate::layout::Layout;
use crate::util::{describe, on_path, run, Context, Result};

/// The targets, in `fuzz/Cargo.toml` order.
pub(crate) const TARGETS: &[&str] = &[
    "frame",
    "response_body",
    "rows",
    "error_body",
    "event_body",
    "type_value",
    "roundtrip_value",
    "sigv4_challenge",
    "aws_profile",
    "lz4",
    "request",
    "roundtrip_message",
    "stream_table",
    "type_text",
];

/// At most this many executions per target, whatever the time budget.
const MAX_RUNS: u64 = 50_000_000;

/// The sanitizer cargo-fuzz builds the targets with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Sanitizer {
    /// No sanitizer: several times the executions per second. The crates under test have no
    /// `unsafe` beyond cql4-frame's `value::ascii_str` (a `str` from bytes checked to be
    /// ASCII); panics, aborts, stack overflows, timeouts and RSS are still caught by libFuzzer, and `fuzz/src/capped_alloc.rs` installs a global allocator that refuses any single
    /// allocation above 256 MiB (what `-malloc_limit_mb` does under a sanitizer).
    None,
    /// AddressSanitizer (also catches memory errors inside dependencies' `unsafe`).
    Address,
}

impl Sanitizer {
    fn flag(self) -> &'static str {
        match self {
            Sanitizer::None => "none",
            Sanitizer::Address => "address",
        }
    }
}

pub(crate) struct FuzzArgs {
    pub(crate) minutes: u64,
    pub(crate) targets: Vec<String>,
    pub(crate) jobs: usize,
    pub(crate) sanitizer: Sanitizer,
    pub(crate) seed: bool,
    pub(crate) cmin: bool,
}

pub(crate) fn run_fuzz(layout: &Layout, args: &FuzzArgs) -> Result<()> {
    let fuzz_dir = layout.root.join("fuzz");
    let has_cargo_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        return Err("cargo-fuzz is not installed: `cargo install cargo-fuzz`".to_owned());
    }
    if !on_path("c++") && !on_path("clang++") {
        return Err("libFuzzer needs a C++ compiler (c++ or clang++) on PATH".to_owned());
    }
    if args.jobs == 0 {
        return Err("--jobs must be at least 1".to_owned());
    }
    let targets: Vec<&str> = if args.targets.is_empty() {
        TARGETS.to_vec()
    } else {
        let mut chosen = Vec::new();
        for t in &args.targets {
            match TARGETS.iter().find(|k| **k == t.as_str()) {
                Some(k) if !chosen.contains(k) => chosen.push(*k),
                Some(_) => return Err(format!("fuzz target {t} named twice")),
                None => {
                    return Err(format!(
                        "no fuzz target {t}; targets: {}",
                        TARGETS.join(", ")
                    ))
                }
            }
        }
        chosen
    };
    if args.seed {
        seed(layout)?;
    }
    let sanitizer = args.sanitizer.flag();
    run(cargo_fuzz(&fuzz_dir).args(["build", "-O", "-s", sanitizer]))?;
    let log_dir = layout.root.join("target").join("fuzz-logs");
    fs::create_dir_all(&log_dir).context(|| format!("creating {}", log_dir.display()))?;
    println!(
        "fuzzing {} target(s), {} at a time, {} min or {MAX_RUNS} runs each, sanitizer {sanitizer}; \
         logs in {}",
        targets.len(),
        args.jobs,
        args.minutes,
        log_dir.display()
    );

    let queue = Mutex::new(targets.iter().copied().collect::<VecDeque<_>>());
    let results = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..args.jobs.min(targets.len()) {
            scope.spawn(|| loop {
                let Some(target) = queue.lock().expect("queue").pop_front() else {
                    break;
                };
                let outcome = fuzz_one(&fuzz_dir, &log_dir, target, args);
                match &outcome {
                    Ok(figures) => println!("{target}: done: {figures}"),
                    Err(e) => println!("{target}: FAILED: {e}"),
                }
                results.lock().expect("results").push((target, outcome));
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|(t, _)| targets.iter().position(|k| k == t));

    println!(
        "target: executions, exec/s, coverage (full log in {}/<target>.log)",
        log_dir.display()
    );
    let mut failed = Vec::new();
    for (target, outcome) in &results {
        match outcome {
            Ok(figures) => println!("{target}: {figures}"),
            Err(e) => {
                println!("{target}: FAILED: {e}");
                failed.push(*target);
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzz target(s) failed: {} (see above and target/fuzz-logs/<target>.log)",
            failed.join(", ")
        ))
    }
}

/// Runs one target to its budget, streaming libFuzzer's output to `<log_dir>/<target>.log`;
/// then minimizes its corpus if asked. Returns the condensed final figures.
fn fuzz_one(fuzz_dir: &Path, log_dir: &Path, target: &str, args: &FuzzArgs) -> Result<String> {
    let corpus = fuzz_dir.join("corpus").join(target);
    fs::create_dir_all(&corpus).context(|| format!("creating {}", corpus.display()))?;
    let log_path = log_dir.join(format!("{target}.log"));
    println!("{target}: started");
    let mut cmd = cargo_fuzz(fuzz_dir);
    cmd.args(["run", "-O", "-s", args.sanitizer.flag(), target, "--"])
        // One in-process worker (not -jobs, whose output goes to fuzz-N.log files).
        .arg(format!("-max_total_time={}", args.minutes * 60))
        .arg(format!("-runs={MAX_RUNS}"))
        .args([
            "-print_final_stats=1",
            "-rss_limit_mb=2048",
            "-malloc_limit_mb=256",
            "-timeout=10",
        ]);
    let status = run_logged(&mut cmd, &log_path, false)?;
    // Inputs echoed by libFuzzer need not be UTF-8.
    let log_bytes = fs::read(&log_path).context(|| format!("reading {}", log_path.display()))?;
    let figures = final_figures(&String::from_utf8_lossy(&log_bytes));
    if !status.success() {
        return Err(format!(
            "libFuzzer exited with {status} (a finding: input under fuzz/artifacts/{target}/) \
             after {figures}; see {}",
            log_path.display()
        ));
    }
    if args.cmin {
        minimize(fuzz_dir, &corpus, target, args.sanitizer, &log_path)
            .map_err(|e| format!("minimizing the corpus (not a finding): {e}"))?;
    }
    Ok(figures)
}

/// `cargo fuzz cmin`, keeping the `regression-*` inputs (past findings, replayed by
/// tests/fuzz_replay.rs) under their names: cmin would rename or drop them.
/// Its output is appended to the target's log.
fn minimize(
    fuzz_dir: &Path,
    corpus: &Path,
    target: &str,
    sanitizer: Sanitizer,
    log_path: &Path,
) -> Result<()> {
    let mut kept = Vec::new();
    for entry in fs::read_dir(corpus).context(|| format!("reading {}", corpus.display()))? {
        let path = entry
            .context(|| format!("reading {}", corpus.display()))?
            .path();
        let is_regression = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("regression-"));
        if is_regression {
            let data = fs::read(&path).context(|| format!("reading {}", path.display()))?;
            kept.push((path, data));
        }
    }
    // Keep every covered edge, not every hit-count bucket: a corpus small enough to commit.
    let mut cmd = cargo_fuzz(fuzz_dir);
    cmd.args([
        "cmin",
        "-O",
        "-s",
        sanitizer.flag(),
        target,
        "--",
        "-use_counters=0",
    ]);
    let status = run_logged(&mut cmd, log_path, true)?;
    if !status.success() {
        return Err(format!(
            "{} exited with {status}; see {}",
            describe(&cmd),
            log_path.display()
        ));
    }
    // cmin may also have kept a regression input under its hash: keep one copy, by name.
    for entry in fs::read_dir(corpus).context(|| format!("reading {}", corpus.display()))? {
        let path = entry
            .context(|| format!("reading {}", corpus.display()))?
            .path();
        let data = fs::read(&path).context(|| format!("reading {}", path.display()))?;
        if kept
            .iter()
            .any(|(kept_path, kept_data)| *kept_data == data && *kept_path != path)
        {
            fs::remove_file(&path).context(|| format!("removing {}", path.display()))?;
        }
    }
    for (path, data) in kept {
        fs::write(&path, data).context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Runs `cmd` with its stdout and stderr going to `log_path` (truncated first, or appended to).
fn run_logged(cmd: &mut Command, log_path: &Path, append: bool) -> Result<ExitStatus> {
    let log = File::options()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(log_path)
        .context(|| format!("opening {}", log_path.display()))?;
    let log_err = log
        .try_clone()
        .context(|| format!("cloning {}", log_path.display()))?;
    cmd.stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .status()
        .context(|| format!("cannot run {}", describe(cmd)))
}

/// Writes seeds (golden vectors, captures, built seeds) into `fuzz/corpus/<target>/` through
/// the replay test, which knows how to derive them.
fn seed(layout: &Layout) -> Result<()> {
    let corpus = layout.root.join("fuzz").join("corpus");
    run(Command::new("cargo")
        .current_dir(&layout.root)
        .env("CQL4_FUZZ_SEED_DIR", &corpus)
        .args(["test", "--test", "fuzz_replay", "seeds_pass_every_check"]))
}

fn cargo_fuzz(fuzz_dir: &Path) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(fuzz_dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .arg("fuzz");
    cmd
}

/// libFuzzer's last status line (`#N DONE cov: … ft: … corp: … exec/s: …`) and its final
/// `stat::` lines, condensed.
fn final_figures(log: &str) -> String {
    let done = log
        .lines()
        .rev()
        .find(|l| l.contains(" DONE ") || l.contains("cov:"))
        .unwrap_or("no status line")
        .trim()
        .to_owned();
    let stat = |name: &str| {
        log.lines()
            .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    format!(
        "{done} | executions {} exec/s {} peak rss {} MB",
        stat("number_of_executed_units"),
        stat("average_exec_per_sec"),
        stat("peak_rss_mb")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_figures_reads_libfuzzer_output() {
        let log = "#2 INITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #1000 DONE cov: 532 ft: 1604 corp: 120/4Kb lim: 64 exec/s: 3333 rss: 80Mb\n\
                   stat::number_of_executed_units: 1000\n\
                   stat::average_exec_per_sec:     3333\n\
                   stat::peak_rss_mb:              80\n";
        let f = final_figures(log);
        assert!(f.starts_with("#1000 DONE cov: 532 ft: 1604"), "{f}");
        assert!(
            f.contains("executions 1000 exec/s 3333 peak rss 80 MB"),
            "{f}"
        );
    }

    #[test]
    fn targets_match_the_fuzz_crate() {
        let manifest = fs::read_to_string(Layout::discover().root.join("fuzz/Cargo.toml")).unwrap();
        for t in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{t}\"")),
                "{t} missing in fuzz/Cargo.toml"
            );
        }
        assert_eq!(manifest.matches("[[bin]]").count(), TARGETS.len());
    }
}
