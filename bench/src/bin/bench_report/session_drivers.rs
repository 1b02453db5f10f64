//! Section 4's whole-cluster table: every driver's default session (discovery from node 1,
//! its own pool and load-balancing policy) at each concurrency, against scylla, and the goal
//! of issue 15 (cql4 ≥ 1.3× scylla's throughput at ≤ 0.6× its client CPU per request).
use std::fmt::Write as _;

use serde_json::Value;

use super::{num, ratio, s, target_row, SessionPoint, BASELINE};

/// What each driver's session mode is, for the table's legend.
const LEGEND: &str = "cql4: `Session::connect` with `SessionConfig` defaults; scylla: \
    `SessionBuilder` defaults; java: java-driver-core 4.19 `CqlSession` with the reference \
    configuration (local DC named, as it requires); gocql: `NewCluster` defaults; python: \
    `Cluster` with the default execution profile. All: TLS against the cluster's CA with the \
    server name checked, a PLAIN login, the statements prepared once.";

/// The medians of `driver`'s passes at one point.
fn point(rows: &[Value], driver: &str, workload: &str, concurrency: u64) -> SessionPoint {
    SessionPoint::of(rows.iter().filter(|r| {
        s(r, "driver") == driver
            && s(r, "workload") == workload
            && r["nodes"].as_u64() == Some(3)
            && r["concurrency"].as_f64().map(|c| c as u64) == Some(concurrency)
    }))
}

/// Nothing when the run predates the whole-cluster points (no `cluster_concurrencies`).
pub(crate) fn section(out: &mut String, v: &Value) {
    let set = &v["settings"];
    let (Some(concs), Some(drivers)) = (
        set["cluster_concurrencies"].as_array(),
        set["cluster_drivers"].as_array(),
    ) else {
        return;
    };
    let concs: Vec<u64> = concs.iter().filter_map(Value::as_u64).collect();
    let drivers: Vec<&str> = drivers.iter().filter_map(Value::as_str).collect();
    let empty = Vec::new();
    let rows = v["throughput"].as_array().unwrap_or(&empty);
    let _ = writeln!(
        out,
        "\n**Every driver's default session on 3 nodes**: contact point node 1, discovery on, \
         each driver's default pool and load-balancing policy, at {} in flight; the same \
         warm-up, window and passes as above, medians of the passes. {LEGEND} Ratios are \
         against scylla at the same point.\n",
        concs
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "| statement | in flight | driver | req/s (median) | req/s vs scylla | p50 ms | p99 ms | client CPU µs/req | CPU vs scylla | errors |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    for workload in ["insert", "select"] {
        for &c in &concs {
            let base = point(rows, BASELINE, workload, c);
            for &driver in &drivers {
                let r = point(rows, driver, workload, c);
                if r.passes.is_empty() {
                    if !r.failed.is_empty() {
                        let _ = writeln!(
                            out,
                            "| {workload} | {c} | {driver} | FAILED: {} |",
                            r.failed.join("; ")
                        );
                    }
                    continue;
                }
                let _ = writeln!(
                    out,
                    "| {workload} | {c} | {driver} | {} | {} | {} | {} | {} | {} | {} |",
                    num(r.throughput),
                    ratio(r.throughput, base.throughput),
                    num(r.p50_us / 1e3),
                    num(r.p99_us / 1e3),
                    num(r.cpu_us),
                    ratio(r.cpu_us, base.cpu_us),
                    r.errors,
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\n| goal (issue 15): cql4 ≥ 1.3× scylla's req/s at ≤ 0.6× its client CPU per request | cql4 req/s | scylla req/s | ratio | cql4 CPU µs/req | scylla CPU µs/req | ratio | met? |\n|---|---:|---:|---:|---:|---:|---:|---|"
    );
    for workload in ["insert", "select"] {
        for &c in &concs {
            let (a, b) = (
                point(rows, "cql4", workload, c),
                point(rows, BASELINE, workload, c),
            );
            let figures = [a.throughput, b.throughput, a.cpu_us, b.cpu_us];
            let met = if !figures.iter().all(|x| x.is_finite()) {
                "–"
            } else if goal_met(a.throughput, b.throughput, a.cpu_us, b.cpu_us) {
                "met"
            } else {
                "**missed**"
            };
            let _ = writeln!(
                out,
                "| {workload}, {c} in flight | {} | {} | {} | {} | {} | {} | {met} |",
                num(a.throughput),
                num(b.throughput),
                ratio(a.throughput, b.throughput),
                num(a.cpu_us),
                num(b.cpu_us),
                ratio(a.cpu_us, b.cpu_us),
            );
        }
    }
}

/// The goal's rows in the targets table (section 2): for each statement and concurrency of the
/// whole-cluster points, the throughput half and the CPU half; one row saying it was not
/// measured when the session figures predate those points (or there are none).
pub(crate) fn target_rows(out: &mut String, v: &Value) {
    let Some(concs) = v["settings"]["cluster_concurrencies"].as_array() else {
        let _ = writeln!(
            out,
            "| 3-node sessions: throughput ≥ 1.3× scylla at ≤ 0.6× its client CPU per request | – | {BASELINE} | – | – | not measured: the session figures of this report predate the whole-cluster points (`cargo xtask bench --session`) |"
        );
        return;
    };
    let empty = Vec::new();
    let rows = v["throughput"].as_array().unwrap_or(&empty);
    let finite = |x: f64| x.is_finite().then_some(x);
    for workload in ["select", "insert"] {
        for c in concs.iter().filter_map(Value::as_u64) {
            let (a, b) = (
                point(rows, "cql4", workload, c),
                point(rows, BASELINE, workload, c),
            );
            target_row(
                out,
                &format!("{workload}: 3-node session, {c} in flight: throughput ≥ 1.3× scylla (section 4)"),
                BASELINE,
                finite(a.throughput),
                finite(b.throughput),
                &|a, b| a >= 1.3 * b, None);
            target_row(
                out,
                &format!("{workload}: 3-node session, {c} in flight: client CPU per request ≤ 0.6× scylla (section 4)"),
                BASELINE,
                finite(a.cpu_us),
                finite(b.cpu_us),
                &|a, b| a <= 0.6 * b, None);
        }
    }
}

/// Both halves of the goal: the throughput and the CPU per request.
fn goal_met(cql4_rps: f64, scylla_rps: f64, cql4_cpu: f64, scylla_cpu: f64) -> bool {
    cql4_rps >= 1.3 * scylla_rps && cql4_cpu <= 0.6 * scylla_cpu
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(driver: &str, workload: &str, c: u64, rps: f64, cpu: f64) -> Value {
        json!({"driver": driver, "workload": workload, "nodes": 3, "concurrency": c,
               "throughput": rps, "p50_us": 2000.0, "p99_us": 9000.0,
               "cpu_us_per_req": cpu, "errors": 0})
    }

    fn run(rows: Vec<Value>) -> String {
        let v = json!({
            "settings": {"cluster_concurrencies": [1, 1024],
                         "cluster_drivers": ["cql4", "scylla", "java", "gocql"]},
            "throughput": rows,
        });
        let mut out = String::new();
        section(&mut out, &v);
        out
    }

    #[test]
    fn peers_get_ratios_against_scylla_at_the_same_point() {
        let out = run(vec![
            rec("scylla", "select", 1024, 10000.0, 40.0),
            rec("java", "select", 1024, 5000.0, 120.0),
            rec("scylla", "select", 1, 1000.0, 60.0),
            rec("java", "select", 1, 800.0, 90.0),
        ]);
        assert!(
            out.contains("| select | 1024 | java | 5000 | 0.50× | 2.00 | 9.00 | 120 | 3.00× | 0 |"),
            "{out}"
        );
        assert!(out.contains("| select | 1 | java | 800 | 0.80× |"), "{out}");
        let failed = run(vec![
            json!({"driver": "gocql", "workload": "insert", "nodes": 3,
                                    "concurrency": 1, "failed": "gocql insert: exit 1"}),
        ]);
        assert!(
            failed.contains("| insert | 1 | gocql | FAILED: gocql insert: exit 1 |"),
            "{failed}"
        );
    }

    #[test]
    fn the_goal_needs_both_the_throughput_and_the_cpu() {
        let out = run(vec![
            rec("cql4", "insert", 1024, 13000.0, 24.0),
            rec("scylla", "insert", 1024, 10000.0, 40.0),
            rec("cql4", "select", 1024, 20000.0, 30.0),
            rec("scylla", "select", 1024, 10000.0, 40.0),
        ]);
        assert!(
            out.contains(
                "| insert, 1024 in flight | 13000 | 10000 | 1.30× | 24.0 | 40.0 | 0.60× | met |"
            ),
            "{out}"
        );
        assert!(out.contains("| select, 1024 in flight | 20000 | 10000 | 2.00× | 30.0 | 40.0 | 0.75× | **missed** |"), "{out}");
        assert!(
            out.contains("| select, 1 in flight | – | – | – | – | – | – | – |"),
            "{out}"
        );
    }

    #[test]
    fn a_run_without_the_whole_cluster_points_has_no_table() {
        let mut out = String::new();
        section(
            &mut out,
            &json!({"settings": {"concurrency": 256}, "throughput": []}),
        );
        assert!(out.is_empty(), "{out}");
    }
}
