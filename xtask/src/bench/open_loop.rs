//! Open-loop latency on the canned server: every driver's client (and the floor) issues
//! requests on a fixed schedule (`--rate`), latency counted from when each request was due, at most
//! [`MAX_OUTSTANDING`] outstanding (a due request beyond that is dropped and counted).
//!
//! Rates: 25, 50 and 75 % of the driver's own closed-loop maximum for the statement (its best
//! one-connection point in the same run), and the same absolute [`LADDER`] for every driver.
//! `--quick` runs the select only, at 50 % and the ladder's first rate.
use serde_json::{json, Value};

use super::{point, Paths, Server, CANNED_PORT, WORKLOADS};
use crate::util::Result;

/// Absolute rates, requests/s, run for every driver.
pub(super) const LADDER: [f64; 4] = [10_000.0, 50_000.0, 100_000.0, 200_000.0];
const FRACTIONS: [f64; 3] = [0.25, 0.5, 0.75];
pub(super) const MAX_OUTSTANDING: u32 = 1024;

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
    let mut records = Vec::new();
    for &workload in workloads {
        for &driver in drivers {
            let mut rates: Vec<(f64, Value)> = Vec::new();
            match closed_max(canned, driver, workload) {
                Some(max) => {
                    for &f in fractions {
                        rates.push((
                            max * f,
                            json!({"kind": "fraction", "fraction": f, "closed_max": max}),
                        ));
                    }
                }
                None => eprintln!(
                    "xtask: bench: no closed-loop maximum for {driver} {workload}: only the ladder"
                ),
            }
            for &rate in ladder {
                rates.push((rate, json!({"kind": "absolute"})));
            }
            for (rate, schedule) in rates {
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
                records.push(r);
            }
        }
    }
    Ok(records)
}
