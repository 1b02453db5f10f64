//! Open-loop latency on the canned server: every driver's client (and the floor) issues
//! requests on a fixed schedule (`--rate`), latency counted from when each request was due, at most
//! [`MAX_OUTSTANDING`] outstanding (a due request beyond that is dropped and counted).
//!
//! Rates: 25, 50 and 75 % of the driver's own closed-loop maximum for the statement (its best
//! one-connection point in the same run), one run each; and the same absolute [`LADDER`] for
//! every driver, which the goals compare across drivers: [`PASSES`] passes, every driver back
//! to back at each rate (their order flipped from one rate and pass to the next), each row
//! the driver's pass of median p99 (a 4-second p99 of one build moves by a third, at times
//! several-fold, from one run to the next, and drivers measured minutes apart would carry the
//! machine's drift).
//! `--quick` runs the select only, at 50 % and the ladder's first rate, one pass.
use serde_json::{json, Value};

use super::{median_pass, point, run_order, Paths, Server, CANNED_PORT, WORKLOADS};
use crate::util::Result;

/// Absolute rates, requests/s, run for every driver.
pub(super) const LADDER: [f64; 4] = [10_000.0, 50_000.0, 100_000.0, 200_000.0];
const FRACTIONS: [f64; 3] = [0.25, 0.5, 0.75];
pub(super) const MAX_OUTSTANDING: u32 = 1024;
/// Passes over the ladder in a full run.
const PASSES: usize = 3;

/// The driver's closed-loop maximum for `workload`: its best one-connection point.
fn closed_max(canned: &[Value], driver: &str, workload: &str) -> Option<f64> {
    canned
        .iter()
        .filter(|r| {
            r["driver"] == driver
                && r["workload"] == workload
                && r["pool"] == "one"
                && r.get("failed").is_none()
        })
        .filter_map(|r| r["throughput"].as_f64())
        .reduce(f64::max)
}

pub(super) fn run(
    p: &Paths,
    canned: &[Value],
    drivers: &[&str],
    quick: bool,
    pin: Option<(u32, u32)>,
) -> Result<Vec<Value>> {
    // Two seconds of warm-up, as in the closed loop: the JVM's JIT needs them.
    let (warmup, duration) = if quick { (0.5, 1.0) } else { (2.0, 4.0) };
    let _server = Server::start(p, pin.map(|x| x.0), CANNED_PORT)?;
    let workloads: &[&str] = if quick { &["select"] } else { &WORKLOADS };
    let fractions: &[f64] = if quick { &[0.5] } else { &FRACTIONS };
    let ladder: &[f64] = if quick { &LADDER[..1] } else { &LADDER };
    let passes = if quick { 1 } else { PASSES };
    let run_at = |driver: &str, workload: &str, rate: f64, schedule: Value| {
        let mut r = point(
            p,
            driver,
            pin.map(|x| x.1),
            CANNED_PORT,
            workload,
            MAX_OUTSTANDING,
            "one",
            warmup,
            duration,
            Some(rate),
        );
        r["target"] = json!("canned");
        r["schedule"] = schedule;
        r["rate"] = json!(rate);
        r
    };
    // (workload, driver, rate's place in the driver's list, record): sorted for the report.
    let mut records: Vec<(usize, usize, usize, Value)> = Vec::new();
    for (w, &workload) in workloads.iter().enumerate() {
        for (d, &driver) in drivers.iter().enumerate() {
            let Some(max) = closed_max(canned, driver, workload) else {
                eprintln!(
                    "xtask: bench: no closed-loop maximum for {driver} {workload}: only the ladder"
                );
                continue;
            };
            for (k, &f) in fractions.iter().enumerate() {
                let schedule = json!({"kind": "fraction", "fraction": f, "closed_max": max});
                records.push((w, d, k, run_at(driver, workload, max * f, schedule)));
            }
        }
        let mut ladder_runs: Vec<Vec<Value>> = vec![Vec::new(); drivers.len() * ladder.len()];
        for pass in 0..passes {
            for (k, &rate) in ladder.iter().enumerate() {
                for d in run_order(drivers.len(), (pass + k) % 2 == 1) {
                    let r = run_at(drivers[d], workload, rate, json!({"kind": "absolute"}));
                    ladder_runs[d * ladder.len() + k].push(r);
                }
            }
        }
        for (i, runs) in ladder_runs.into_iter().enumerate() {
            let (d, k) = (i / ladder.len(), i % ladder.len());
            records.push((w, d, fractions.len() + k, median_pass(runs, "p99_us")));
        }
    }
    records.sort_by_key(|&(w, d, k, _)| (w, d, k));
    Ok(records.into_iter().map(|(_, _, _, r)| r).collect())
}
