//! `cargo xtask bench [--quick] [--no-real] [--real-only]`: cql4 against the mainstream drivers.
//! (`cargo xtask bench --session [--port P]`, the sessions on a 3-node cluster, is in
//! [`session`]; `--copy-only [--copy-rows N]`, COPY against cqlsh's on the running node, is in
//! [`copy`], which a full run also runs, on a keyspaces-mode node it starts if none runs.)
//!
//! 1. Builds the peers: the bench crate (`bench/`, outside the workspace, `--release`, target
//!    `target/bench-build` or `$CQL4_BENCH_TARGET_DIR`) with scylla and cdrs-tokio, the gocql program (`bench/go`), the Java
//!    driver program (`bench/java`, Maven shade jar) and the Python venv (`target/venv`).
//! 2. Codec: `cargo bench --bench codec` (criterion) and its allocation counts.
//! 3. Client cost, isolated: the canned server pinned to core 0, each driver's client pinned to
//!    core 1, select and insert at 1, 64 and 1,024 in flight on one connection (1 in flight in
//!    three passes, each row its median pass; the default pool at 1,024 where a driver has
//!    one), with the floor (`floor_client`: raw tokio,
//!    pre-encoded frames, no driver) measured the same way. Then, same pinning: open-loop
//!    latency ([`open_loop`]; `--open-loop-only D1,D2` runs it alone for those drivers and
//!    merges it into the last full run), resident memory per idle connection ([`idle`]) and
//!    four canned nodes at 4,096 in flight ([`multi_node`]).
//! 4. Real server (full run only): the same statements against a plain-mode local Cassandra
//!    (port 9042) — skipped, with a note, if a node in another mode is running; `--real-only`
//!    runs it alone later and merges it into the last `results.json`.
//! 5. Writes `target/bench/results.json` and runs `bench_report`, which writes
//!    `docs/benchmarks.md` and its plots (a `--quick` run writes them under `target/bench/`
//!    instead, so the smoke run in `cargo xtask test` never rewrites the docs).
//!
//! `--quick` (~2-3 minutes after builds) fails if any driver fails at any point. A full run
//! keeps the `session` figures of the previous report (they come from `--session` only).
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};

use crate::cassandra::{self, Mode};
use crate::layout::Layout;
use crate::test_cmd::cargo;
use crate::util::{run, run_captured, Context, Result};
use crate::venv;

mod copy;
mod idle;
mod multi_node;
mod open_loop;
mod session;

const CANNED_PORT: u16 = 19042;
/// `floor` is no driver: raw tokio sending pre-encoded frames (`bench/src/bin/floor_client.rs`),
/// what the machine allows one connection.
const DRIVERS: [&str; 7] = [
    "floor",
    "cql4",
    "scylla",
    "cdrs-tokio",
    "gocql",
    "java",
    "python",
];
const WORKLOADS: [&str; 2] = ["select", "insert"];
const CONCURRENCY: [u32; 3] = [1, 64, 1024];
/// Passes of the points at one in flight in a full run (see [`canned`]).
const PASSES_AT_ONE: usize = 3;

/// What to run.
pub(crate) struct Options {
    /// Short smoke run: a second or so per point, no real-server workload, output under
    /// `target/bench/` only.
    pub(crate) quick: bool,
    /// Skip the real-server workload in a full run.
    pub(crate) no_real: bool,
    /// Run only the real-server workload and merge it into the last `results.json` (for when
    /// another node was running during the full run).
    pub(crate) real_only: bool,
    /// Run only the session benchmark on a 3-node cluster ([`session`]) and merge it into the
    /// committed report.
    pub(crate) session: bool,
    /// Native port of that cluster (default: keyspaces mode's).
    pub(crate) port: Option<u16>,
    /// Run only the COPY comparison with cqlsh ([`copy`]).
    pub(crate) copy_only: bool,
    /// Rows per COPY in that comparison.
    pub(crate) copy_rows: Option<u64>,
    /// Run only the open-loop section for these drivers and merge it into the last full run.
    pub(crate) open_loop_only: Option<Vec<String>>,
}

struct Paths {
    root: PathBuf,
    build: PathBuf,
    out: PathBuf,
    python: PathBuf,
}

impl Paths {
    fn bin(&self, name: &str) -> PathBuf {
        self.build.join("release").join(name)
    }
    fn gocql(&self) -> PathBuf {
        self.build.join("gocql-bench")
    }
    fn jar(&self) -> PathBuf {
        self.build.join("java").join("java-bench.jar")
    }
}

/// `cargo xtask bench`.
pub(crate) fn run_bench(layout: &Layout, opts: &Options) -> Result<()> {
    if opts.session {
        return session::run_session(layout, opts.port);
    }
    let copy_rows = opts.copy_rows.unwrap_or(copy::DEFAULT_ROWS);
    if opts.copy_only {
        return copy::run_copy(layout, copy_rows).map(drop);
    }
    let started = Instant::now();
    let root = layout.root.clone();
    let out = root.join("target").join("bench");
    fs::create_dir_all(&out).context(|| format!("create {}", out.display()))?;
    let python = venv::ensure(layout)?;
    let paths = Paths {
        build: build_dir(&root),
        root,
        out,
        python,
    };
    build(&paths)?;
    eprintln!("xtask: bench: builds done in {:.0?}", started.elapsed());
    if opts.real_only {
        return real_only(layout, &paths);
    }
    if let Some(drivers) = &opts.open_loop_only {
        return open_loop_only(&paths, drivers);
    }

    let mut notes: Vec<String> = Vec::new();
    let codec = codec(&paths, opts.quick)?;
    let (warmup, duration) = if opts.quick { (0.5, 1.0) } else { (2.0, 5.0) };
    let pin = pinning();
    if pin.is_none() {
        notes.push("taskset not found or fewer than 2 cores: server and client not pinned".into());
    }
    let canned = canned(&paths, warmup, duration, opts.quick, pin)?;
    let open_loop = open_loop::run(&paths, &canned, &DRIVERS, opts.quick, pin)?;
    let idle = idle::run(&paths, pin, opts.quick)?;
    let multi = multi_node::run(&paths, pin, opts.quick)?;
    let mut failures = failed(canned.iter().chain(&open_loop).chain(&idle).chain(&multi));
    let real = if opts.quick || opts.no_real {
        notes.push("real-server workload not run (--quick or --no-real)".into());
        Vec::new()
    } else {
        match real_server(layout, &paths, warmup, duration) {
            Ok(r) => {
                failures.extend(failed(&r));
                r
            }
            Err(e) => {
                eprintln!("xtask: bench: real-server workload skipped: {e}");
                notes.push(format!("real-server workload skipped: {e}"));
                Vec::new()
            }
        }
    };
    let copy = if opts.quick {
        Value::Null
    } else {
        copy_on_a_node(layout, copy_rows).unwrap_or_else(|e| {
            eprintln!("xtask: bench: copy section skipped: {e}");
            notes.push(format!("copy section skipped: {e}"));
            Value::Null
        })
    };
    let mut results = json!({
        "copy": copy,
        "command": if opts.quick { "cargo xtask bench --quick" } else if opts.no_real { "cargo xtask bench --no-real" } else { "cargo xtask bench" },
        "date": date(),
        "quick": opts.quick,
        "machine": machine(),
        "versions": versions(&paths),
        "codec": codec,
        "canned": canned,
        "open_loop": open_loop,
        "idle": idle,
        "multi_node": multi,
        "multi_node_method": {"text": multi_node::METHOD},
        "real": real,
        "notes": notes,
        "failures": failures,
        "elapsed_s": started.elapsed().as_secs_f64(),
    });
    if !opts.quick {
        // The session figures come from `--session` alone: keep the last ones in the report.
        keep_committed_session(&paths, &mut results);
    }
    let results_path = paths.out.join("results.json");
    fs::write(
        &results_path,
        serde_json::to_string_pretty(&results).context(|| "serialize results".into())?,
    )
    .context(|| format!("write {}", results_path.display()))?;
    let (md, plots) = if opts.quick {
        (paths.out.join("benchmarks.md"), paths.out.join("plots"))
    } else {
        (
            paths.root.join("docs").join("benchmarks.md"),
            paths.root.join("docs").join("benchmarks"),
        )
    };
    if !opts.quick {
        // The committed report keeps its raw numbers next to it.
        fs::create_dir_all(&plots).context(|| format!("create {}", plots.display()))?;
        fs::copy(&results_path, plots.join("results.json"))
            .context(|| "copy results.json next to the report".into())?;
    }
    run(Command::new(paths.bin("bench_report"))
        .arg(&results_path)
        .arg(&md)
        .arg(&plots))?;
    eprintln!(
        "xtask: bench: done in {:.0?}; raw results {}, report {}",
        started.elapsed(),
        results_path.display(),
        md.display()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("bench: failed points: {}", failures.join("; ")))
    }
}

/// `--open-loop-only D1,D2`: the open-loop section for those drivers alone, their records
/// replacing theirs in the previous full run's results (whose closed-loop maxima set the
/// rates), and the report regenerated.
fn open_loop_only(p: &Paths, drivers: &[String]) -> Result<()> {
    let unknown: Vec<&String> = drivers
        .iter()
        .filter(|d| !DRIVERS.contains(&d.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "--open-loop-only: unknown driver(s) {unknown:?} (known: {})",
            DRIVERS.join(", ")
        ));
    }
    let results_path = p.out.join("results.json");
    let mut results = read_json(&results_path)?;
    if results["quick"].as_bool() != Some(false) {
        return Err(format!(
            "--open-loop-only merges into a full run's results: {} is from a quick run or none",
            results_path.display()
        ));
    }
    let canned = results["canned"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = drivers.iter().map(String::as_str).collect();
    let fresh = open_loop::run(p, &canned, &names, false, pinning())?;
    let failures = failed(&fresh);
    let mut merged: Vec<Value> = results["open_loop"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !names.contains(&r["driver"].as_str().unwrap_or("")))
        .collect();
    merged.extend(fresh);
    // The report lists drivers in the full run's order.
    merged.sort_by_key(|r| {
        let w = r["workload"].as_str().unwrap_or("");
        let d = r["driver"].as_str().unwrap_or("");
        (
            WORKLOADS.iter().position(|x| *x == w),
            DRIVERS.iter().position(|x| *x == d),
        )
    });
    results["open_loop"] = Value::Array(merged);
    if let Some(notes) = results["notes"].as_array_mut() {
        notes.push(json!(format!(
            "open-loop section of {} run again at {} (`cargo xtask bench --open-loop-only`)",
            names.join(", "),
            date()
        )));
    }
    publish_merged(p, &mut results, &failures)
}

/// The `session` figures of the committed report, which only `--session` writes: a run that
/// rewrites the report from `target/bench/results.json` keeps them.
fn keep_committed_session(p: &Paths, results: &mut Value) {
    let committed = p.root.join("docs").join("benchmarks").join("results.json");
    if let Some(previous) = read_json(&committed)
        .ok()
        .and_then(|v| v.get("session").cloned())
    {
        results["session"] = previous;
    }
}

/// The end of a run merged into the last full run (`--real-only`, `--open-loop-only`): keeps
/// the committed session figures, writes `target/bench/results.json`, copies it next to the
/// report, regenerates `docs/benchmarks.md`, and fails if any point failed.
fn publish_merged(p: &Paths, results: &mut Value, failures: &[String]) -> Result<()> {
    keep_committed_session(p, results);
    let results_path = p.out.join("results.json");
    fs::write(
        &results_path,
        serde_json::to_string_pretty(&results).context(|| "serialize results".into())?,
    )
    .context(|| format!("write {}", results_path.display()))?;
    let plots = p.root.join("docs").join("benchmarks");
    fs::create_dir_all(&plots).context(|| format!("create {}", plots.display()))?;
    fs::copy(&results_path, plots.join("results.json"))
        .context(|| "copy results.json next to the report".into())?;
    run(Command::new(p.bin("bench_report"))
        .arg(&results_path)
        .arg(p.root.join("docs").join("benchmarks.md"))
        .arg(&plots))?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("bench: failed points: {}", failures.join("; ")))
    }
}

/// The drivers' order at one point (or pass): `0..n`, backwards when `flip`. Flipped from one
/// point to the next, so that no driver always runs first while the machine's speed drifts.
fn run_order(n: usize, flip: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if flip {
        order.reverse();
    }
    order
}

/// The failure messages of the points that failed (their `"failed"` field).
fn failed<'a>(points: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    points
        .into_iter()
        .filter_map(|r| r.get("failed").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// `--real-only`: workload 3 alone, merged into the previous full run's results.
fn real_only(layout: &Layout, p: &Paths) -> Result<()> {
    let results_path = p.out.join("results.json");
    let mut results = read_json(&results_path)?;
    let real = real_server(layout, p, 2.0, 5.0)?;
    let failures = failed(&real);
    results["real"] = Value::Array(real);
    results["real_date"] = json!(date());
    let command = format!(
        "{}, then `cargo xtask bench --real-only`",
        results["command"].as_str().unwrap_or("cargo xtask bench")
    );
    results["command"] = json!(command);
    if let Some(notes) = results["notes"].as_array_mut() {
        notes.retain(|n| !n.as_str().unwrap_or("").starts_with("real-server workload"));
        notes.push(json!(format!(
            "real-server workload run separately at {} (a node in another mode was running during the full run)",
            date()
        )));
    }
    publish_merged(p, &mut results, &failures)
}

/// Where the bench crate, the Go program and the Java jar are built: `target/bench-build`, or
/// `CQL4_BENCH_TARGET_DIR` when set (several checkouts on one machine each keep their own).
fn build_dir(root: &Path) -> PathBuf {
    std::env::var_os("CQL4_BENCH_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| root.join("target").join("bench-build"), PathBuf::from)
}

fn build(p: &Paths) -> Result<()> {
    let manifest = p.root.join("bench").join("Cargo.toml");
    run(cargo()
        .args(["build", "--release", "--bins", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&p.build))?;
    run(Command::new("go")
        .args(["build", "-o"])
        .arg(p.gocql())
        .arg(".")
        .current_dir(p.root.join("bench").join("go")))?;
    run(Command::new("mvn")
        .args(["-q", "-B", "-f"])
        .arg(p.root.join("bench").join("java").join("pom.xml"))
        .arg(format!("-Dbench.build={}", p.build.display()))
        .arg("package"))?;
    // The Python driver must be the Cython build (its pure-Python fallback is several times
    // slower and would not be the driver people deploy).
    let out = run_captured(
        Command::new(&p.python).args(["-c", "import cassandra.cluster as c; print(c.__file__)"]),
    )?;
    let file = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !file.ends_with(".so") {
        return Err(format!(
            "the venv's cassandra.cluster is not the compiled module ({file})"
        ));
    }
    Ok(())
}

fn codec(p: &Paths, quick: bool) -> Result<Value> {
    let manifest = p.root.join("bench").join("Cargo.toml");
    let mut cmd = cargo();
    cmd.args(["bench", "--bench", "codec", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&p.build)
        .env("CQL4_BENCH_OUT", &p.out)
        // Criterion writes under its package directory unless told otherwise.
        .env("CRITERION_HOME", p.build.join("criterion"))
        .arg("--");
    if quick {
        cmd.args([
            "--warm-up-time",
            "0.3",
            "--measurement-time",
            "1",
            "--sample-size",
            "10",
        ]);
    } else {
        cmd.args(["--warm-up-time", "2", "--measurement-time", "5"]);
    }
    run(&mut cmd)?;
    let allocs: Value = read_json(&p.out.join("codec_allocs.json"))?;
    let mut rows = Vec::new();
    // The typed groups compare the derives, which cassandra-protocol does not have.
    let all = ["cql4", "scylla", "cdrs-tokio"].as_slice();
    let typed = ["cql4", "scylla"].as_slice();
    for (group, elements, drivers) in [
        ("keyspaces_130", 130, all),
        ("wide_5000", 5000, all),
        ("execute_10", 1, all),
        ("wide_5000_typed", 5000, typed),
        ("execute_10_typed", 1, typed),
    ] {
        for &driver in drivers {
            let est = p
                .build
                .join("criterion")
                .join(group)
                .join(driver)
                .join("new")
                .join("estimates.json");
            let est = read_json(&est)?;
            let mean = est["mean"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
            let median = est["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
            rows.push(json!({
                "group": group,
                "driver": driver,
                "elements": elements,
                "mean_ns": mean,
                "median_ns": median,
                "ns_per_element": median / f64::from(elements),
                "allocations": allocs[format!("{group}/{driver}")],
            }));
        }
    }
    Ok(Value::Array(rows))
}

fn read_json(path: &Path) -> Result<Value> {
    let text = fs::read_to_string(path).context(|| format!("read {}", path.display()))?;
    serde_json::from_str(&text).context(|| format!("parse {}", path.display()))
}

/// `Some((server_core, client_core))` when `taskset` exists and there are two cores.
fn pinning() -> Option<(u32, u32)> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores >= 2 && crate::util::on_path("taskset")).then_some((0, 1))
}

fn pinned(core: Option<u32>, program: &Path) -> Command {
    match core {
        Some(c) => {
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg(c.to_string()).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// The client command for `driver`, pinned to `core`.
fn client(p: &Paths, driver: &str, core: Option<u32>) -> Command {
    match driver {
        "gocql" => pinned(core, &p.gocql()),
        "java" => {
            let mut c = pinned(core, Path::new("java"));
            // A small fixed heap so peak RSS compares like with like across runs.
            c.args(["-Xms256m", "-Xmx512m", "-jar"]).arg(p.jar());
            c
        }
        "python" => {
            let mut c = pinned(core, &p.python);
            c.arg(p.root.join("bench").join("python").join("client.py"));
            c
        }
        "floor" => pinned(core, &p.bin("floor_client")),
        rust => {
            let mut c = pinned(core, &p.bin("rust_client"));
            c.args(["--driver", rust]);
            c
        }
    }
}

/// One point: runs the client, returns its JSON record (or a record with `failed`).
#[allow(clippy::too_many_arguments)]
fn point(
    p: &Paths,
    driver: &str,
    core: Option<u32>,
    port: u16,
    workload: &str,
    concurrency: u32,
    pool: &str,
    warmup: f64,
    duration: f64,
    rate: Option<f64>,
) -> Value {
    let mut cmd = client(p, driver, core);
    // Go's flag package takes `-name value`; the others `--name value`.
    let dash = if driver == "gocql" { "-" } else { "--" };
    for (k, v) in [
        ("port", port.to_string()),
        ("workload", workload.to_owned()),
        ("concurrency", concurrency.to_string()),
        ("pool", pool.to_owned()),
        ("warmup", warmup.to_string()),
        ("duration", duration.to_string()),
    ] {
        cmd.arg(format!("{dash}{k}")).arg(v);
    }
    if let Some(rate) = rate {
        cmd.arg(format!("{dash}rate")).arg(format!("{rate:.0}"));
    }
    let label = match rate {
        Some(rate) => format!(
            "{driver} {workload} rate={rate:.0}/s max-outstanding={concurrency} port={port}"
        ),
        None => format!("{driver} {workload} c={concurrency} pool={pool} port={port}"),
    };
    let base =
        json!({"driver": driver, "workload": workload, "concurrency": concurrency, "pool": pool});
    measure(&mut cmd, &label, base, rate.is_some())
}

/// Runs one client command and returns the JSON record it printed last (or `base` with
/// `failed` set).
fn measure(cmd: &mut Command, label: &str, base: Value, open_loop: bool) -> Value {
    eprintln!("xtask: bench: {label}");
    let output = cmd.stderr(Stdio::piped()).stdout(Stdio::piped()).output();
    let failed = |why: String| {
        eprintln!("xtask: bench: FAILED {label}: {why}");
        let mut r = base.clone();
        r["failed"] = json!(format!("{label}: {why}"));
        r
    };
    let output = match output {
        Ok(o) => o,
        Err(e) => return failed(format!("cannot run: {e}")),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let record = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l.trim()).ok());
    match (output.status.success(), record) {
        (true, Some(r)) if open_loop => {
            eprintln!(
                "xtask: bench:   {:>10.0} req/s  p50 {:>8.1} µs  p99 {:>9.1} µs  max {:>9.1} µs  dropped {} late {}",
                r["throughput"].as_f64().unwrap_or(0.0),
                r["p50_us"].as_f64().unwrap_or(0.0),
                r["p99_us"].as_f64().unwrap_or(0.0),
                r["max_us"].as_f64().unwrap_or(0.0),
                r["dropped"].as_u64().unwrap_or(0),
                r["late"].as_u64().unwrap_or(0),
            );
            r
        }
        (true, Some(r)) => {
            eprintln!(
                "xtask: bench:   {:>10.0} req/s  p50 {:>8.1} µs  p99 {:>9.1} µs  cpu {:>6.2} µs/req",
                r["throughput"].as_f64().unwrap_or(0.0),
                r["p50_us"].as_f64().unwrap_or(0.0),
                r["p99_us"].as_f64().unwrap_or(0.0),
                r["cpu_us_per_req"].as_f64().unwrap_or(0.0),
            );
            r
        }
        (ok, _) => {
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

/// The canned server, stopped on drop.
struct Server(Child);

impl Server {
    fn start(p: &Paths, core: Option<u32>, port: u16) -> Result<Self> {
        Self::start_nodes(p, core, port, 1)
    }

    /// `nodes` canned nodes on 127.0.0.1–`nodes`, one process.
    fn start_nodes(p: &Paths, core: Option<u32>, port: u16, nodes: u8) -> Result<Self> {
        let mut child = pinned(core, &p.bin("canned_server"))
            .arg("--port")
            .arg(port.to_string())
            .arg("--nodes")
            .arg(nodes.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context(|| "start canned_server".into())?;
        let stdout = child.stdout.take().ok_or("canned_server has no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context(|| "read canned_server banner".into())?;
        if !line.starts_with("listening") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("canned_server did not start (said {line:?})"));
        }
        Ok(Self(child))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn canned(
    p: &Paths,
    warmup: f64,
    duration: f64,
    quick: bool,
    pin: Option<(u32, u32)>,
) -> Result<Vec<Value>> {
    let _server = Server::start(p, pin.map(|x| x.0), CANNED_PORT)?;
    let client_core = pin.map(|x| x.1);
    // Point by point, all drivers back to back (their order flipped from one point to the
    // next): the machine's speed drifts over minutes, and the ratios compare drivers measured
    // seconds apart, not a whole driver's sweep apart. At one in flight a point is a few
    // microseconds per request and its goals are ratios within 10-20 %, less than the drift
    // between two runs of the same build (±20 %): a full run measures it in passes, one
    // after the other, and keeps each driver's median pass.
    let passes_at_one = if quick { 1 } else { PASSES_AT_ONE };
    let mut points: Vec<(&str, u32, &str)> = Vec::new();
    for workload in WORKLOADS {
        for c in CONCURRENCY {
            let passes = if c == 1 { passes_at_one } else { 1 };
            points.extend(std::iter::repeat_n((workload, c, "one"), passes));
        }
        // The drivers' default pool, where it differs from one connection.
        if !quick {
            points.push((workload, 1024, "default"));
        }
    }
    let mut records: Vec<(usize, usize, Value)> = Vec::new();
    for (i, &(workload, c, pool)) in points.iter().enumerate() {
        for d in run_order(DRIVERS.len(), i % 2 == 1) {
            let driver = DRIVERS[d];
            if pool == "default" && !matches!(driver, "scylla" | "cdrs-tokio" | "gocql" | "java") {
                continue;
            }
            let mut r = point(
                p,
                driver,
                client_core,
                CANNED_PORT,
                workload,
                c,
                pool,
                warmup,
                duration,
                None,
            );
            r["target"] = json!("canned");
            records.push((d, i, r));
        }
    }
    // The report lists them driver by driver; a point's passes are adjacent there.
    records.sort_by_key(|&(d, i, _)| (d, i));
    Ok(median_passes(records.into_iter().map(|(_, _, r)| r)))
}

/// Each run of adjacent records of the same point (see [`same_point`]) as its median pass.
fn median_passes(records: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut rows: Vec<Value> = Vec::new();
    let mut passes: Vec<Value> = Vec::new();
    for r in records {
        if passes.first().is_some_and(|first| !same_point(first, &r)) {
            rows.push(median_pass(std::mem::take(&mut passes), "throughput"));
        }
        passes.push(r);
    }
    if !passes.is_empty() {
        rows.push(median_pass(passes, "throughput"));
    }
    rows
}

/// True when two records are the same (driver, workload, concurrency, pool).
fn same_point(a: &Value, b: &Value) -> bool {
    ["driver", "workload", "concurrency", "pool"]
        .iter()
        .all(|k| a[*k] == b[*k])
}

/// The pass of median `key` (throughput, or p99 for the open loop) of one point, with every
/// pass's `key` in `passes` (one pass: returned as it is); the first failed pass if any failed.
fn median_pass(mut runs: Vec<Value>, key: &str) -> Value {
    if let Some(failed) = runs.iter().find(|r| r.get("failed").is_some()) {
        return failed.clone();
    }
    if runs.len() == 1 {
        return runs.swap_remove(0);
    }
    let passes: Vec<Value> = runs.iter().map(|r| r[key].clone()).collect();
    let value = |r: &Value| r[key].as_f64().unwrap_or(f64::NAN);
    runs.sort_by(|a, b| value(a).total_cmp(&value(b)));
    let mut r = runs.swap_remove(runs.len() / 2);
    r["passes"] = Value::Array(passes);
    r["passes_of"] = json!(key);
    r
}

/// The COPY section on the node `CQL4_TEST_*` names, else on the keyspaces-mode node, started
/// for it (and stopped after) if none runs: a full run stops the real-server section's node.
fn copy_on_a_node(layout: &Layout, rows: u64) -> Result<Value> {
    if std::env::var_os("CQL4_TEST_HOST").is_some() {
        return copy::run_copy(layout, rows);
    }
    let started = cassandra::start(layout, Mode::Keyspaces, None)?;
    let result = copy::run_copy(layout, rows);
    if started.launched {
        cassandra::stop(layout)?;
    }
    result
}

fn real_server(layout: &Layout, p: &Paths, warmup: f64, duration: f64) -> Result<Vec<Value>> {
    let started = cassandra::start(layout, Mode::Plain, None)?;
    let port = started.state.port;
    let result = (|| {
        run(Command::new(p.bin("rust_client"))
            .args(["--setup", "--port"])
            .arg(port.to_string()))?;
        // A freshly started JVM serves the first minute or so several times slower (JIT):
        // warm the node up with both statements first, or whichever driver runs first loses.
        for workload in WORKLOADS {
            let _ = point(p, "cql4", None, port, workload, 64, "one", 5.0, 10.0, None);
        }
        let mut records = Vec::new();
        for driver in DRIVERS {
            for workload in WORKLOADS {
                for c in [1, 64] {
                    // The node needs both cores: clients are not pinned here.
                    let mut r = point(
                        p, driver, None, port, workload, c, "one", warmup, duration, None,
                    );
                    r["target"] = json!("cassandra");
                    records.push(r);
                }
            }
        }
        Ok(records)
    })();
    if started.launched {
        cassandra::stop(layout)?;
    }
    result
}

fn date() -> String {
    run_captured(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn machine() -> Value {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    json!({
        "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu": model,
        "memory_gib": (mem_kb as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "loadavg": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        "kernel": first_line(Command::new("uname").arg("-r")),
    })
}

fn first_line(cmd: &mut Command) -> String {
    match cmd.output() {
        Ok(o) => {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        }
        Err(_) => String::new(),
    }
}

fn lock_version(lock: &str, name: &str) -> String {
    let needle = format!("name = \"{name}\"\nversion = \"");
    lock.match_indices(&needle)
        .last()
        .and_then(|(at, _)| lock[at + needle.len()..].split('"').next())
        .unwrap_or("unknown")
        .to_owned()
}

fn versions(p: &Paths) -> Value {
    let lock = fs::read_to_string(p.root.join("bench").join("Cargo.lock")).unwrap_or_default();
    let go_mod =
        fs::read_to_string(p.root.join("bench").join("go").join("go.mod")).unwrap_or_default();
    let gocql = go_mod
        .lines()
        .find(|l| l.contains("cassandra-gocql-driver/v2 "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("unknown")
        .to_owned();
    let pom =
        fs::read_to_string(p.root.join("bench").join("java").join("pom.xml")).unwrap_or_default();
    let java_driver = pom
        .split("<driver.version>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("unknown")
        .to_owned();
    json!({
        "rustc": first_line(Command::new("rustc").arg("-V")),
        "tokio": lock_version(&lock, "tokio"),
        "cql4": lock_version(&lock, "cql4-conn"),
        "scylla": lock_version(&lock, "scylla"),
        "scylla-cql": lock_version(&lock, "scylla-cql"),
        "cdrs-tokio": lock_version(&lock, "cdrs-tokio"),
        "cassandra-protocol": lock_version(&lock, "cassandra-protocol"),
        "python-driver": first_line(Command::new(&p.python).args(["-c", "import cassandra; print(cassandra.__version__)"])),
        "python": first_line(Command::new(&p.python).arg("--version")),
        "java-driver": java_driver,
        "java": first_line(Command::new("java").arg("-version")),
        "gocql": gocql,
        "go": first_line(Command::new("go").arg("version")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(driver: &str, c: u32, throughput: f64) -> Value {
        json!({"driver": driver, "workload": "select", "concurrency": c, "pool": "one",
               "throughput": throughput})
    }

    #[test]
    fn a_points_passes_become_its_median_pass_and_single_runs_stay() {
        let rows = median_passes([
            record("cql4", 1, 30.0),
            record("cql4", 1, 10.0),
            record("cql4", 1, 20.0),
            record("cql4", 64, 5.0),
            record("floor", 1, 7.0),
            record("floor", 1, 9.0),
            record("floor", 1, 8.0),
        ]);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["throughput"], json!(20.0));
        assert_eq!(rows[0]["passes"], json!([30.0, 10.0, 20.0]));
        assert_eq!(rows[0]["passes_of"], json!("throughput"));
        assert_eq!(rows[1]["throughput"], json!(5.0));
        assert!(rows[1].get("passes").is_none());
        assert_eq!(rows[2]["driver"], json!("floor"));
        assert_eq!(rows[2]["throughput"], json!(8.0));
    }

    #[test]
    fn a_failed_pass_fails_the_point() {
        let mut failed = record("cql4", 1, 0.0);
        failed["failed"] = json!("cql4 select c=1: exit 1");
        let rows = median_passes([record("cql4", 1, 30.0), failed, record("cql4", 1, 20.0)]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["failed"], json!("cql4 select c=1: exit 1"));
    }
}
