//! `cargo xtask bench --session [--port P]`: cql4's `Session` against scylla's `Session`, and
//! the other drivers' default sessions ([`peers`]), on a local 3-node cluster (keyspaces mode:
//! TLS, PasswordAuthenticator), in one run.
//!
//! 1. Builds `session_client` and `bench_report` (bench crate, release, feature `session`),
//!    the Go program, the Java jar and the Python venv.
//! 2. Starts the cluster (`cassandra start --nodes 3 --port P`), creates `bench.t` replicated
//!    to all three nodes, warms the JVMs up (10 s of each statement).
//! 3. Throughput: prepared INSERT and SELECT (2 s warm-up, 10 s measured), in three passes
//!    (every other one in reverse order): cql4 and scylla restricted to node 1 at 256 in
//!    flight; every driver discovering the cluster from node 1 with its defaults at 1, 256
//!    and 1,024 in flight. The drivers' order flips from one point to the next.
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

mod peers;

/// In flight on node 1 alone (cql4 and scylla).
const CONCURRENCY: u32 = 256;
/// In flight for every driver's default session on the whole cluster.
const CLUSTER_CONCURRENCIES: [u32; 3] = [1, 256, 1024];
/// Every driver of the whole-cluster points: the two `session_client` runs, then the peers.
const CLUSTER_DRIVERS: [&str; 5] = ["cql4", "scylla", "java", "gocql", "python"];
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
    let peer_paths = peers::build(layout, build.clone())?;

    let begun = Instant::now();
    let started = cassandra::start_cluster(
        layout,
        Mode::Keyspaces,
        port,
        Topology::new(3, 1).map_err(|e| format!("cluster layout: {e}"))?,
    )?;
    let cluster_start_s = begun.elapsed().as_secs_f64();
    let state = started.state.clone();
    let measured = measure(layout, &client, &peer_paths, &state.test_env());
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
    session["versions"] = versions(&root, &state.version, &peer_paths);
    session["cluster"] = json!({
        "nodes": state.nodes.len(),
        "mode": state.mode.to_string(),
        "port": state.port,
        "start_s": if started.launched { json!(cluster_start_s) } else { Value::Null },
        "reused": !started.launched,
    });
    session["settings"] = json!({
        "concurrency": CONCURRENCY,
        "cluster_concurrencies": CLUSTER_CONCURRENCIES,
        "cluster_drivers": CLUSTER_DRIVERS,
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
fn measure(
    layout: &Layout,
    client: &Path,
    peer_paths: &super::Paths,
    env: &[(&'static str, String)],
) -> Result<Value> {
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
            &mut cmd(&client_args("cql4", 3, workload, CONCURRENCY, 0.0, 10.0)),
            "warm-up",
        );
    }
    let mut throughput = Vec::new();
    for Point {
        pass,
        nodes,
        workload,
        concurrency,
        drivers,
    } in plan(PASSES)
    {
        for driver in drivers {
            let label = format!(
                "{driver} {workload} on {nodes} node(s) c={concurrency}, pass {}",
                pass + 1
            );
            let mut r = if peers::PEERS.contains(&driver) {
                let args = common_args(workload, concurrency, WARMUP_S, DURATION_S);
                match peers::command(peer_paths, driver, env, &args) {
                    Ok(mut c) => point(&mut c, &label),
                    Err(e) => json!({ "failed": format!("{label}: {e}") }),
                }
            } else {
                let args = client_args(driver, nodes, workload, concurrency, WARMUP_S, DURATION_S);
                point(&mut cmd(&args), &label)
            };
            if let Some(why) = r.get("failed").and_then(Value::as_str) {
                failures.push(why.to_owned());
                r["driver"] = json!(driver);
                r["workload"] = json!(workload);
                r["concurrency"] = json!(concurrency);
            }
            r["nodes"] = json!(nodes);
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

/// One throughput point: its drivers run one after the other.
struct Point {
    pass: usize,
    nodes: usize,
    workload: &'static str,
    concurrency: u32,
    drivers: Vec<&'static str>,
}

/// The throughput points in the order they run. Every other pass runs backwards, and the
/// drivers' order flips from one point to the next; a pass has an even number of points, so
/// over two passes each point runs once in each order.
fn plan(passes: usize) -> Vec<Point> {
    let mut points: Vec<(usize, &'static str, u32)> = Vec::new();
    for workload in ["insert", "select"] {
        points.push((1, workload, CONCURRENCY));
    }
    for concurrency in CLUSTER_CONCURRENCIES {
        for workload in ["insert", "select"] {
            points.push((3, workload, concurrency));
        }
    }
    let mut out = Vec::new();
    for pass in 0..passes {
        let mut these = points.clone();
        if pass % 2 == 1 {
            these.reverse();
        }
        for (nodes, workload, concurrency) in these {
            let mut drivers = if nodes == 1 {
                vec!["cql4", "scylla"]
            } else {
                CLUSTER_DRIVERS.to_vec()
            };
            if out.len() % 2 == 1 {
                drivers.reverse();
            }
            out.push(Point {
                pass,
                nodes,
                workload,
                concurrency,
                drivers,
            });
        }
    }
    out
}

/// The arguments every client program takes for a throughput point.
fn common_args(workload: &str, concurrency: u32, warmup: f64, duration: f64) -> Vec<String> {
    [
        ("--workload", workload.to_owned()),
        ("--concurrency", concurrency.to_string()),
        ("--warmup", warmup.to_string()),
        ("--duration", duration.to_string()),
    ]
    .into_iter()
    .flat_map(|(k, v)| [k.to_owned(), v])
    .collect()
}

/// `session_client`'s arguments for a throughput point.
fn client_args(
    driver: &str,
    nodes: usize,
    workload: &str,
    concurrency: u32,
    warmup: f64,
    duration: f64,
) -> Vec<String> {
    let mut args = vec![
        "--driver".to_owned(),
        driver.to_owned(),
        "--nodes".to_owned(),
        nodes.to_string(),
    ];
    args.extend(common_args(workload, concurrency, warmup, duration));
    args
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

fn versions(root: &Path, cassandra: &str, peer_paths: &super::Paths) -> Value {
    let lock = fs::read_to_string(root.join("bench").join("Cargo.lock")).unwrap_or_default();
    let rustc = Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut v = json!({
        "rustc": rustc,
        "tokio": lock_version(&lock, "tokio"),
        "cql4": lock_version(&lock, "cql4-session"),
        "scylla": lock_version(&lock, "scylla"),
        "scylla-cql": lock_version(&lock, "scylla-cql"),
        "rustls": lock_version(&lock, "rustls"),
        "cassandra": cassandra,
    });
    // The peers' versions as the other sections record them.
    let others = super::versions(peer_paths);
    for k in [
        "java-driver",
        "java",
        "gocql",
        "go",
        "python-driver",
        "python",
    ] {
        v[k] = others[k].clone();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_two_passes_each_point_runs_once_in_each_order() {
        let plan = plan(2);
        assert_eq!(plan.len(), 16);
        let mut seen = 0;
        for (nodes, concurrency) in [(1, 256), (3, 1), (3, 256), (3, 1024)] {
            for workload in ["insert", "select"] {
                let orders: Vec<&Vec<&str>> = plan
                    .iter()
                    .filter(|p| {
                        p.nodes == nodes && p.workload == workload && p.concurrency == concurrency
                    })
                    .map(|p| &p.drivers)
                    .collect();
                assert_eq!(orders.len(), 2, "{nodes} {workload} {concurrency}");
                let mut second = orders[1].clone();
                second.reverse();
                assert_eq!(orders[0], &second, "{nodes} {workload} {concurrency}");
                seen += 1;
            }
        }
        assert_eq!(seen, 8);
    }

    #[test]
    fn node_one_alone_is_cql4_and_scylla_the_cluster_every_driver() {
        for p in plan(1) {
            let mut drivers = p.drivers.clone();
            drivers.sort_unstable();
            if p.nodes == 1 {
                assert_eq!(drivers, ["cql4", "scylla"]);
                assert_eq!(p.concurrency, CONCURRENCY);
            } else {
                let mut all = CLUSTER_DRIVERS.to_vec();
                all.sort_unstable();
                assert_eq!(drivers, all);
            }
        }
    }

    #[test]
    fn the_second_pass_runs_backwards() {
        let plan = plan(2);
        let key = |p: &Point| (p.nodes, p.workload, p.concurrency);
        let first: Vec<_> = plan[..8].iter().map(key).collect();
        let mut second: Vec<_> = plan[8..].iter().map(key).collect();
        second.reverse();
        assert_eq!(first, second);
        assert_eq!(plan[0].nodes, 1, "the first pass starts on one node");
        assert_eq!(plan[8].nodes, 3, "the second pass starts on three nodes");
    }
}
