//! `cargo xtask bench --session [--port P]`: cql4's `Session` against scylla's `Session` on a
//! local 3-node cluster (keyspaces mode: TLS, PasswordAuthenticator), in one run.
//!
//! 1. Builds `session_client` and `bench_report` (bench crate, release, feature `session`).
//! 2. Starts the cluster (`cassandra start --nodes 3 --port P`), creates `bench.t` replicated
//!    to all three nodes, warms the JVMs up (10 s of each statement).
//! 3. Throughput: prepared INSERT and SELECT at 256 in flight (2 s warm-up, 10 s measured),
//!    each driver restricted to node 1 and on all 3 nodes, in three passes (the second in
//!    reverse order); the driver that goes first alternates from one pair of points to the
//!    next.
//! 4. Start time: 5 fresh sessions per driver, time to `connect`/`build` and to every node
//!    having a connection.
//! 5. Reconnection: both sessions open with a light load, `stop-node 3`, `start-node 3`; when
//!    each session has node 3 back, against when `start-node` returned and when the node
//!    first accepted a login from a fresh connection.
//! 6. Stops the cluster it started (also on failure), merges the figures into
//!    `docs/benchmarks/results.json` under `session` and regenerates `docs/benchmarks.md`.
//!
//! Not part of CI: it needs a cluster and several minutes.
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};

use super::{date, lock_version, machine, read_json};
use crate::cassandra::{self, Mode, Topology};
use crate::layout::Layout;
use crate::test_cmd::cargo;
use crate::util::{run, Context, Result};

const CONCURRENCY: u32 = 256;
const WARMUP_S: f64 = 2.0;
const DURATION_S: f64 = 10.0;
const STARTUP_ROUNDS: usize = 5;
/// Passes over the throughput points; every other one runs them in reverse order (3 nodes
/// first), so a drift in the machine's load does not all land on one side of a comparison.
/// The report shows the median of the passes.
const PASSES: usize = 3;
/// The node `--reconnect` stops and starts again.
const RESTARTED_NODE: usize = 3;

/// `cargo xtask bench --session`.
pub(crate) fn run_session(layout: &Layout, port: Option<u16>) -> Result<()> {
    let started_at = Instant::now();
    let root = layout.root.clone();
    let build = super::build_dir(&root);
    let out = root.join("target").join("bench");
    fs::create_dir_all(&out).context(|| format!("create {}", out.display()))?;
    run(cargo()
        .args([
            "build",
            "--release",
            "--bin",
            "session_client",
            "--bin",
            "bench_report",
            "--features",
            "session",
            "--manifest-path",
        ])
        .arg(root.join("bench").join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&build))?;
    let bin = |name: &str| build.join("release").join(name);
    let client = bin("session_client");

    let begun = Instant::now();
    let started = cassandra::start_cluster(
        layout,
        Mode::Keyspaces,
        port,
        Topology::new(3, 1).map_err(|e| format!("cluster layout: {e}"))?,
    )?;
    let cluster_start_s = begun.elapsed().as_secs_f64();
    let state = started.state.clone();
    let measured = measure(layout, &client, &state.test_env());
    // Whatever happened, a cluster this command started does not outlive it.
    if started.launched {
        if let Err(e) = cassandra::stop(layout) {
            eprintln!("xtask: bench: stopping the cluster: {e}");
        }
    }
    let mut session = measured?;
    session["date"] = json!(date());
    session["command"] = json!(match port {
        Some(p) => format!("cargo xtask bench --session --port {p}"),
        None => "cargo xtask bench --session".to_owned(),
    });
    session["machine"] = machine();
    session["versions"] = versions(&root, &state.version);
    session["cluster"] = json!({
        "nodes": state.nodes.len(),
        "mode": state.mode.to_string(),
        "port": state.port,
        "start_s": if started.launched { json!(cluster_start_s) } else { Value::Null },
        "reused": !started.launched,
    });
    session["settings"] = json!({
        "concurrency": CONCURRENCY,
        "warmup_s": WARMUP_S,
        "duration_s": DURATION_S,
        "startup_rounds": STARTUP_ROUNDS,
        "passes": PASSES,
    });
    session["elapsed_s"] = json!(started_at.elapsed().as_secs_f64());
    let raw = out.join("session.json");
    fs::write(
        &raw,
        serde_json::to_string_pretty(&session).context(|| "serialize session results".into())?,
    )
    .context(|| format!("write {}", raw.display()))?;
    let failures: Vec<String> = session["failures"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();

    // The committed report keeps its raw numbers next to it: merge, then regenerate.
    let docs = root.join("docs").join("benchmarks");
    let results_path = docs.join("results.json");
    let mut results = read_json(&results_path)?;
    results["session"] = session;
    fs::write(
        &results_path,
        serde_json::to_string_pretty(&results).context(|| "serialize results".into())?,
    )
    .context(|| format!("write {}", results_path.display()))?;
    run(Command::new(bin("bench_report"))
        .arg(&results_path)
        .arg(root.join("docs").join("benchmarks.md"))
        .arg(&docs))?;
    eprintln!(
        "xtask: bench: session benchmark done in {:.0?}; raw {}, report docs/benchmarks.md",
        started_at.elapsed(),
        raw.display()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("bench: failed points: {}", failures.join("; ")))
    }
}

/// Everything measured on the running cluster; `failures` lists what did not work.
fn measure(layout: &Layout, client: &Path, env: &[(&'static str, String)]) -> Result<Value> {
    let cmd = |args: &[String]| {
        let mut c = Command::new(client);
        c.args(args).envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        c
    };
    let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    run(&mut cmd(&words(&["--setup"])))?;
    let mut failures = Vec::new();
    // A fresh JVM serves its first minute several times slower (JIT): whichever driver ran
    // first would lose. Warm every node up through the 3-node session first.
    for workload in ["insert", "select"] {
        let _ = point(
            &mut cmd(&point_args("cql4", 3, workload, 0.0, 10.0)),
            "warm-up",
        );
    }
    let mut throughput = Vec::new();
    for (pass, nodes, workload, order) in plan(PASSES) {
        for driver in order {
            let args = point_args(driver, nodes, workload, WARMUP_S, DURATION_S);
            let label = format!(
                "{driver} {workload} on {nodes} node(s) c={CONCURRENCY}, pass {}",
                pass + 1
            );
            let mut r = point(&mut cmd(&args), &label);
            if let Some(why) = r.get("failed").and_then(Value::as_str) {
                failures.push(why.to_owned());
                r["driver"] = json!(driver);
                r["workload"] = json!(workload);
                r["nodes"] = json!(nodes);
            }
            r["pass"] = json!(pass + 1);
            throughput.push(r);
        }
    }
    let rounds = STARTUP_ROUNDS.to_string();
    let startup = point(
        &mut cmd(&words(&["--startup", "--rounds", &rounds])),
        "start time",
    );
    if let Some(why) = startup.get("failed").and_then(Value::as_str) {
        failures.push(why.to_owned());
    }
    let reconnect = reconnect(layout, cmd(&words(&["--reconnect"]))).unwrap_or_else(|e| {
        eprintln!("xtask: bench: FAILED reconnection: {e}");
        failures.push(format!("reconnection: {e}"));
        json!({ "failed": e })
    });
    Ok(json!({
        "throughput": throughput,
        "startup": startup,
        "reconnect": reconnect,
        "failures": failures,
    }))
}

/// The throughput points in the order they run: (pass, nodes, statement, drivers in order).
/// Every other pass runs backwards, and the driver that goes first alternates from one pair
/// to the next, so over two passes each point has each driver first once.
fn plan(passes: usize) -> Vec<(usize, usize, &'static str, [&'static str; 2])> {
    let mut out = Vec::new();
    for pass in 0..passes {
        let mut points: Vec<(usize, &str)> = [1, 3]
            .into_iter()
            .flat_map(|n| ["insert", "select"].map(|w| (n, w)))
            .collect();
        if pass % 2 == 1 {
            points.reverse();
        }
        for (nodes, workload) in points {
            let order = if out.len() % 2 == 0 {
                ["cql4", "scylla"]
            } else {
                ["scylla", "cql4"]
            };
            out.push((pass, nodes, workload, order));
        }
    }
    out
}

fn point_args(
    driver: &str,
    nodes: usize,
    workload: &str,
    warmup: f64,
    duration: f64,
) -> Vec<String> {
    [
        ("--driver", driver.to_owned()),
        ("--nodes", nodes.to_string()),
        ("--workload", workload.to_owned()),
        ("--concurrency", CONCURRENCY.to_string()),
        ("--warmup", warmup.to_string()),
        ("--duration", duration.to_string()),
    ]
    .into_iter()
    .flat_map(|(k, v)| [k.to_owned(), v])
    .collect()
}

/// Runs one client invocation; its last stdout line that parses as JSON, or `{"failed": …}`.
fn point(cmd: &mut Command, label: &str) -> Value {
    eprintln!("xtask: bench: {label}");
    let failed = |why: String| {
        eprintln!("xtask: bench: FAILED {label}: {why}");
        json!({ "failed": format!("{label}: {why}") })
    };
    let output = match cmd.stderr(Stdio::piped()).stdout(Stdio::piped()).output() {
        Ok(o) => o,
        Err(e) => return failed(format!("cannot run: {e}")),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let record = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l.trim()).ok());
    match (output.status.success(), record) {
        (true, Some(r)) => {
            if r.get("throughput").is_some() {
                eprintln!(
                    "xtask: bench:   {:>8.0} req/s  p50 {:>8.1} µs  p99 {:>9.1} µs",
                    r["throughput"].as_f64().unwrap_or(0.0),
                    r["p50_us"].as_f64().unwrap_or(0.0),
                    r["p99_us"].as_f64().unwrap_or(0.0),
                );
            } else {
                eprintln!("xtask: bench:   {r}");
            }
            r
        }
        (ok, _) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            failed(format!(
                "exit {} ({}), stderr: {}",
                output.status,
                if ok { "no JSON record" } else { "error" },
                tail.join(" | ")
            ))
        }
    }
}

/// The client, killed if still running when this goes out of scope (an early return).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn say(stdin: &mut ChildStdin, line: &str) -> Result<()> {
    writeln!(stdin, "{line}").context(|| format!("tell the client {line:?}"))
}

/// Step 5: drives `session_client --reconnect` through a stop and a start of node 3.
fn reconnect(layout: &Layout, mut cmd: Command) -> Result<Value> {
    eprintln!(
        "xtask: bench: reconnection after stop-node {RESTARTED_NODE} / start-node {RESTARTED_NODE}"
    );
    let mut child = Running(
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context(|| "start session_client --reconnect".into())?,
    );
    let mut stdin = child.0.stdin.take().ok_or("the client has no stdin")?;
    let stdout = child.0.stdout.take().ok_or("the client has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut expect = |want: &str| -> Result<String> {
        match lines.next() {
            Some(Ok(l)) if want.is_empty() || l.trim() == want => Ok(l),
            Some(Ok(l)) => Err(format!("the client said {l:?}, expected {want:?}")),
            Some(Err(e)) => Err(format!("reading the client: {e}")),
            None => Err(format!("the client ended before {want:?}")),
        }
    };
    expect("ready")?;
    say(&mut stdin, "stopping")?;
    cassandra::stop_node(layout, RESTARTED_NODE)?;
    say(&mut stdin, "stopped")?;
    expect("down")?;
    say(&mut stdin, "starting")?;
    cassandra::start_node(layout, RESTARTED_NODE)?;
    say(&mut stdin, "started")?;
    let last = expect("")?;
    let status = child.0.wait().context(|| "wait for the client".into())?;
    if !status.success() {
        return Err(format!("the client exited with {status}"));
    }
    let v: Value =
        serde_json::from_str(last.trim()).context(|| format!("parse the client's {last:?}"))?;
    eprintln!("xtask: bench:   {v}");
    Ok(v)
}

fn versions(root: &Path, cassandra: &str) -> Value {
    let lock = fs::read_to_string(root.join("bench").join("Cargo.lock")).unwrap_or_default();
    let rustc = Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    json!({
        "rustc": rustc,
        "tokio": lock_version(&lock, "tokio"),
        "cql4": lock_version(&lock, "cql4-session"),
        "scylla": lock_version(&lock, "scylla"),
        "scylla-cql": lock_version(&lock, "scylla-cql"),
        "rustls": lock_version(&lock, "rustls"),
        "cassandra": cassandra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_two_passes_each_point_has_each_driver_first_once() {
        let plan = plan(2);
        assert_eq!(plan.len(), 8);
        for nodes in [1, 3] {
            for workload in ["insert", "select"] {
                let firsts: Vec<&str> = plan
                    .iter()
                    .filter(|p| p.1 == nodes && p.2 == workload)
                    .map(|p| p.3[0])
                    .collect();
                assert_eq!(firsts.len(), 2, "{nodes} {workload}");
                assert!(
                    firsts.contains(&"cql4") && firsts.contains(&"scylla"),
                    "{nodes} {workload}: {firsts:?}"
                );
            }
        }
    }

    #[test]
    fn the_second_pass_runs_backwards() {
        let plan = plan(2);
        let first: Vec<(usize, &str)> = plan[..4].iter().map(|p| (p.1, p.2)).collect();
        let mut second: Vec<(usize, &str)> = plan[4..].iter().map(|p| (p.1, p.2)).collect();
        second.reverse();
        assert_eq!(first, second);
        assert_eq!(plan[0].1, 1, "the first pass starts on one node");
        assert_eq!(plan[4].1, 3, "the second pass starts on three nodes");
    }
}
