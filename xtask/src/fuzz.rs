//! `cargo xtask fuzz [--minutes N] [--target T] [--seed] [--cmin]`: runs the cargo-fuzz targets of
//! `fuzz/` one after the other (one worker each, bounded by time and by 50 million runs), and
//! prints libFuzzer's final figures per target (see docs/fuzzing.md).
//!
//! Needs `cargo-fuzz` (`cargo install cargo-fuzz`) and a C++ compiler; on stable Rust it sets
//! `RUSTC_BOOTSTRAP=1`, which the sanitizer flags of cargo-fuzz require.
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::layout::Layout;
use crate::util::{on_path, run, run_captured, Context, Result};

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

pub(crate) struct FuzzArgs {
    pub(crate) minutes: u64,
    pub(crate) target: Option<String>,
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
    let targets: Vec<&str> = match &args.target {
        Some(t) if TARGETS.contains(&t.as_str()) => vec![t.as_str()],
        Some(t) => {
            return Err(format!(
                "no fuzz target {t}; targets: {}",
                TARGETS.join(", ")
            ))
        }
        None => TARGETS.to_vec(),
    };
    if args.seed {
        seed(layout)?;
    }
    run(cargo_fuzz(&fuzz_dir).args(["build", "-O"]))?;
    let mut summary = Vec::new();
    for target in &targets {
        let corpus = fuzz_dir.join("corpus").join(target);
        fs::create_dir_all(&corpus).context(|| format!("creating {}", corpus.display()))?;
        let output = run_captured(cargo_fuzz(&fuzz_dir).args([
            "run",
            "-O",
            target,
            "--",
            // One in-process worker (not -jobs, whose output goes to fuzz-N.log files).
            &format!("-max_total_time={}", args.minutes * 60),
            &format!("-runs={MAX_RUNS}"),
            "-print_final_stats=1",
            "-rss_limit_mb=2048",
            "-malloc_limit_mb=256",
            "-timeout=10",
        ]))?;
        let log = String::from_utf8_lossy(&output.stderr).into_owned();
        let log_path = layout
            .root
            .join("target")
            .join(format!("fuzz-{target}.log"));
        fs::write(&log_path, &log).context(|| format!("writing {}", log_path.display()))?;
        summary.push(format!("{target}: {}", final_figures(&log)));
        if args.cmin {
            run(cargo_fuzz(&fuzz_dir).args(["cmin", "-O", target]))?;
        }
    }
    println!("target: executions, exec/s, coverage (full log in target/fuzz-<target>.log)");
    for line in summary {
        println!("{line}");
    }
    Ok(())
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
