//! Turns `target/bench/results.json` (written by `cargo xtask bench`) into the markdown report
//! and one latency-vs-throughput PNG per workload.
//!
//! Usage: `bench_report RESULTS.json OUT.md PLOT_DIR`. The hand-written analysis in
//! `bench/TYPED_API.md` follows the codec section and `bench/ANALYSIS.md` is appended, both
//! verbatim, so regenerating the tables keeps them.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde_json::Value;

const BASELINE: &str = "scylla";
const ORDER: [&str; 7] = [
    "floor",
    "cql4",
    "scylla",
    "cdrs-tokio",
    "gocql",
    "java",
    "python",
];

#[path = "bench_report/copy.rs"]
mod copy;
#[path = "bench_report/second_round.rs"]
mod second_round;
#[path = "bench_report/session_drivers.rs"]
mod session_drivers;

fn f(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "–".into()
    }
}

fn num(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn driver_rank(d: &str) -> usize {
    ORDER.iter().position(|x| *x == d).unwrap_or(ORDER.len())
}

fn codec_section(out: &mut String, codec: &[Value]) {
    let titles = [
        (
            "keyspaces_130",
            "Decode a 130-row `system_schema.keyspaces` page (text, boolean, map<text, text>)",
            "ns/row",
        ),
        (
            "wide_5000",
            "Decode a 5,000-row (int, text, blob(100)) page",
            "ns/row",
        ),
        (
            "execute_10",
            "Encode an EXECUTE with 10 bound values",
            "ns/op",
        ),
        (
            "wide_5000_typed",
            "Typed API: the 5,000-row page into a derived struct (`#[derive(FromRow)]` / `#[derive(DeserializeRow)]`)",
            "ns/row",
        ),
        (
            "execute_10_typed",
            "Typed API: the EXECUTE with its 10 values bound from a `#[derive(SerializeRow)]` struct",
            "ns/op",
        ),
    ];
    for (group, title, unit) in titles {
        let rows: Vec<&Value> = codec.iter().filter(|r| s(r, "group") == group).collect();
        let base = rows.iter().find(|r| s(r, "driver") == BASELINE);
        let base_ns = base.map_or(f64::NAN, |r| f(r, "ns_per_element"));
        let base_alloc = base.map_or(f64::NAN, |r| f(r, "allocations"));
        let _ = writeln!(out, "\n**{title}**\n");
        let _ = writeln!(
            out,
            "| library | {unit} (median) | time vs scylla-cql | heap allocations per page/op | allocations vs scylla-cql |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|");
        for r in rows {
            let name = match s(r, "driver") {
                "cql4" => "cql4-frame",
                "scylla" => "scylla-cql",
                _ => "cassandra-protocol (cdrs-tokio)",
            };
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} |",
                num(f(r, "ns_per_element")),
                ratio(f(r, "ns_per_element"), base_ns),
                num(f(r, "allocations")),
                ratio(f(r, "allocations"), base_alloc),
            );
        }
    }
}

/// Groups records by (workload) and sorts by driver, pool, concurrency.
fn by_workload(records: &[Value]) -> BTreeMap<String, Vec<&Value>> {
    let mut m: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in records {
        m.entry(s(r, "workload").to_owned()).or_default().push(r);
    }
    for v in m.values_mut() {
        v.sort_by(|a, b| {
            (
                driver_rank(s(a, "driver")),
                s(a, "pool") != "one",
                f(a, "concurrency") as u64,
            )
                .cmp(&(
                    driver_rank(s(b, "driver")),
                    s(b, "pool") != "one",
                    f(b, "concurrency") as u64,
                ))
        });
    }
    m
}

fn e2e_section(out: &mut String, records: &[Value], with_allocs: bool) {
    for (workload, rows) in by_workload(records) {
        let _ = writeln!(out, "\n**{workload}**\n");
        let _ = writeln!(
            out,
            "| driver | in flight | pool | req/s | req/s vs scylla | p50 µs | p50 vs scylla | p99 µs | p99.9 µs | CPU µs/req | CPU vs scylla | peak RSS MiB |{}",
            if with_allocs { " allocs/req |" } else { "" }
        );
        let _ = writeln!(
            out,
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|{}",
            if with_allocs { "---:|" } else { "" }
        );
        for r in &rows {
            if let Some(why) = r.get("failed").and_then(Value::as_str) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | FAILED: {why} |",
                    s(r, "driver"),
                    f(r, "concurrency"),
                    s(r, "pool")
                );
                continue;
            }
            let base = rows.iter().find(|b| {
                s(b, "driver") == BASELINE
                    && f(b, "concurrency") == f(r, "concurrency")
                    && s(b, "pool") == s(r, "pool")
                    && b.get("failed").is_none()
            });
            let bf = |k: &str| base.map_or(f64::NAN, |b| f(b, k));
            let allocs = r.get("allocs_per_req").and_then(Value::as_f64);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |{}",
                s(r, "driver"),
                f(r, "concurrency"),
                s(r, "pool"),
                num(f(r, "throughput")),
                ratio(f(r, "throughput"), bf("throughput")),
                num(f(r, "p50_us")),
                ratio(f(r, "p50_us"), bf("p50_us")),
                num(f(r, "p99_us")),
                num(f(r, "p999_us")),
                num(f(r, "cpu_us_per_req")),
                ratio(f(r, "cpu_us_per_req"), bf("cpu_us_per_req")),
                num(f(r, "maxrss_kb") / 1024.0),
                if with_allocs {
                    format!(" {} |", allocs.map_or("–".into(), num))
                } else {
                    String::new()
                }
            );
        }
    }
}

fn find<'a>(records: &'a [Value], driver: &str, workload: &str, c: u32) -> Option<&'a Value> {
    records.iter().find(|r| {
        s(r, "driver") == driver
            && s(r, "workload") == workload
            && f(r, "concurrency") as u32 == c
            && s(r, "pool") == "one"
            && r.get("failed").is_none()
    })
}

/// One row of the targets table: cql4's figure, the reference's, their ratio and whether the
/// goal is met (`–` when either figure is missing).
pub(crate) fn target_row(
    out: &mut String,
    what: &str,
    reference: &str,
    a: Option<f64>,
    b: Option<f64>,
    ok: &dyn Fn(f64, f64) -> bool,
    note: Option<&str>,
) {
    let (a, b) = (a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN));
    let met = if a.is_finite() && b.is_finite() {
        if ok(a, b) {
            "met".to_owned()
        } else {
            format!("**missed**{}", note.unwrap_or_default())
        }
    } else {
        "–".to_owned()
    };
    let _ = writeln!(
        out,
        "| {what} | {} | {reference} | {} | {} | {met} |",
        num(a),
        num(b),
        ratio(a, b)
    );
}

fn targets_section(out: &mut String, v: &Value) {
    let empty = Vec::new();
    let canned = v["canned"].as_array().unwrap_or(&empty);
    let _ = writeln!(
        out,
        "\n| target | cql4 | against | its figure | ratio (cql4 / it) | met? |\n|---|---:|---|---:|---:|---|"
    );
    for w in ["select", "insert"] {
        let g = |d: &str, c: u32, k: &str| find(canned, d, w, c).map(|r| f(r, k));
        target_row(
            out,
            &format!("{w}: throughput at 1,024 in flight ≥ 1.5× scylla"),
            BASELINE,
            g("cql4", 1024, "throughput"),
            g(BASELINE, 1024, "throughput"),
            &|a, b| a >= 1.5 * b,
            None,
        );
        target_row(
            out,
            &format!("{w}: client CPU per request at 1,024 ≤ 0.5× scylla"),
            BASELINE,
            g("cql4", 1024, "cpu_us_per_req"),
            g(BASELINE, 1024, "cpu_us_per_req"),
            &|a, b| a <= 0.5 * b,
            None,
        );
        // The best peer at concurrency 1: the lowest p50 among the other Rust drivers.
        let best = ["scylla", "cdrs-tokio"]
            .into_iter()
            .filter_map(|d| g(d, 1, "p50_us").map(|x| (d, x)))
            .min_by(|x, y| x.1.total_cmp(&y.1));
        target_row(
            out,
            &format!("{w}: p50 at concurrency 1 no worse than the best peer"),
            best.map_or("–", |b| b.0),
            g("cql4", 1, "p50_us"),
            best.map(|b| b.1),
            &|a, b| a <= b,
            None,
        );
        target_row(
            out,
            &format!("{w}: client CPU per request at concurrency 1 ≤ 0.8× scylla"),
            BASELINE,
            g("cql4", 1, "cpu_us_per_req"),
            g(BASELINE, 1, "cpu_us_per_req"),
            &|a, b| a <= 0.8 * b,
            None,
        );
        let limit = if w == "select" { 2.0 } else { 3.0 };
        target_row(
            out,
            &format!("{w}: ≤ {limit} heap allocations per request (at 1 in flight)"),
            BASELINE,
            g("cql4", 1, "allocs_per_req"),
            g(BASELINE, 1, "allocs_per_req"),
            &move |a, _| a <= limit,
            None,
        );
    }
    second_round::targets(out, v);
}

/// (requests in flight, req/s, p50 µs).
type Point = (u32, f64, f64);

fn plot(
    records: &[Value],
    workload: &str,
    title: &str,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut series: BTreeMap<usize, (String, Vec<Point>)> = BTreeMap::new();
    for r in records {
        if s(r, "workload") != workload || s(r, "pool") != "one" || r.get("failed").is_some() {
            continue;
        }
        let (x, y) = (f(r, "throughput"), f(r, "p50_us"));
        if x > 0.0 && y > 0.0 {
            let d = s(r, "driver");
            series
                .entry(driver_rank(d))
                .or_insert_with(|| (d.to_owned(), Vec::new()))
                .1
                .push((f(r, "concurrency") as u32, x, y));
        }
    }
    if series.is_empty() {
        return Ok(());
    }
    let xs = series.values().flat_map(|s| s.1.iter().map(|p| p.1));
    let ys = series.values().flat_map(|s| s.1.iter().map(|p| p.2));
    let (xmin, xmax) = xs.fold((f64::MAX, 0.0_f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let (ymin, ymax) = ys.fold((f64::MAX, 0.0_f64), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let root = BitMapBackend::new(path, (1000, 650)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(
            ((xmin / 1.5)..(xmax * 1.5)).log_scale(),
            ((ymin / 1.5)..(ymax * 1.5)).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("throughput (requests/s, log)")
        .y_desc("p50 latency (µs, log); labels: requests in flight")
        .label_style(("sans-serif", 16))
        .draw()?;
    let colors = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
    for (i, (_, (name, mut pts))) in series.into_iter().enumerate() {
        // Connect the points in order of concurrency (1 → 64 → 1,024) and label each.
        pts.sort_by_key(|p| p.0);
        let color = colors[i % colors.len()];
        let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.1, p.2)).collect();
        chart
            .draw_series(LineSeries::new(xy.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart.draw_series(xy.iter().map(|p| Circle::new(*p, 4, color.filled())))?;
        chart.draw_series(pts.iter().map(|p| {
            Text::new(
                format!("{}", p.0),
                (p.1 * 1.06, p.2 * 1.3),
                ("sans-serif", 14).into_font().color(&color),
            )
        }))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 18))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// One (driver, statement, nodes) point of the session benchmark over its passes: medians of
/// the passes that worked (each column on its own).
struct SessionPoint {
    passes: Vec<f64>,
    throughput: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us: f64,
    errors: u64,
    failed: Vec<String>,
    /// cql4 only: requests routed to each node, summed over the passes.
    per_node: Vec<(String, u64)>,
}

impl SessionPoint {
    fn of<'a>(records: impl Iterator<Item = &'a Value>) -> Self {
        let mut p = Self {
            passes: Vec::new(),
            throughput: f64::NAN,
            p50_us: f64::NAN,
            p99_us: f64::NAN,
            cpu_us: f64::NAN,
            errors: 0,
            failed: Vec::new(),
            per_node: Vec::new(),
        };
        let mut ok = Vec::new();
        for r in records {
            if let Some(why) = r.get("failed").and_then(Value::as_str) {
                p.failed.push(why.to_owned());
                continue;
            }
            ok.push(r);
            p.passes.push(f(r, "throughput"));
            p.errors += r["errors"].as_u64().unwrap_or(0);
            for n in r["per_node"].as_array().into_iter().flatten() {
                let node = s(n, "node").to_owned();
                let count = n["requests"].as_u64().unwrap_or(0);
                match p.per_node.iter_mut().find(|(x, _)| *x == node) {
                    Some((_, c)) => *c += count,
                    None => p.per_node.push((node, count)),
                }
            }
        }
        p.per_node.sort();
        let median = |k: &str| {
            let mut v: Vec<f64> = ok.iter().map(|r| f(r, k)).collect();
            v.sort_by(f64::total_cmp);
            match v.len() {
                0 => f64::NAN,
                n if n % 2 == 1 => v[n / 2],
                n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
            }
        };
        p.throughput = median("throughput");
        p.p50_us = median("p50_us");
        p.p99_us = median("p99_us");
        p.cpu_us = median("cpu_us_per_req");
        p
    }
}

fn ms(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{v:.0}"))
}

/// Section 4, from `cargo xtask bench --session` (its own date, machine load and versions).
fn session_section(out: &mut String, v: &Value) {
    let ver = &v["versions"];
    let cluster = &v["cluster"];
    let set = &v["settings"];
    let _ = writeln!(
        out,
        "\n## 4. Sessions on a 3-node cluster (cql4-session against scylla and the other drivers)\n"
    );
    let start = cluster["start_s"]
        .as_f64()
        .map_or("reused a running cluster".to_owned(), |s| {
            format!("started in {s:.0} s")
        });
    let _ = writeln!(
        out,
        "Generated by `{}` on {}, separately from the sections above; load average at the end: {}. \
         {} nodes of Cassandra {} on 127.0.0.1–3 in keyspaces mode (TLS, PasswordAuthenticator), port {}, \
         one data center ({start}). Nothing is pinned: three JVMs and the client share the {} cores, so \
         the server is the bottleneck and the absolute numbers are small; read the ratios.\n",
        s(v, "command"),
        s(v, "date"),
        s(&v["machine"], "loadavg"),
        cluster["nodes"],
        s(ver, "cassandra"),
        cluster["port"],
        v["machine"]["nproc"],
    );
    let _ = writeln!(out, "| component | version |\n|---|---|");
    for (k, label) in [
        ("rustc", "rustc"),
        ("tokio", "tokio (both drivers, current-thread runtime)"),
        ("cql4", "cql4 (cql4-session)"),
        ("scylla", "scylla (scylla-rust-driver)"),
        ("scylla-cql", "scylla-cql"),
        (
            "rustls",
            "rustls (one ClientConfig, ring provider, for both)",
        ),
        ("java-driver", "java-driver-core (whole-cluster table)"),
        ("java", "Java"),
        ("gocql", "gocql (whole-cluster table)"),
        ("go", "Go"),
        (
            "python-driver",
            "cassandra-driver, Python (whole-cluster table)",
        ),
        ("python", "Python"),
        ("cassandra", "Apache Cassandra"),
    ] {
        if ver.get(k).is_none() {
            // A run from before the whole-cluster table.
            continue;
        }
        let _ = writeln!(out, "| {label} | {} |", s(ver, k));
    }
    let _ = writeln!(
        out,
        "\n**Throughput**: the prepared `INSERT`/`SELECT` of `bench.t` (keyspace replicated to all \
         three nodes, NetworkTopologyStrategy RF 3, LOCAL_QUORUM — both drivers' default), {} \
         requests in flight, {} s warm-up then {} s measured, after 10 s of each statement to warm \
         the JVMs; {} passes over all points, every other one in reverse order; each column is \
         the median of the passes. *1 node*: cql4 with `SessionConfig::single_host` (one pool, no control \
         connection), scylla with an `AllowListHostFilter` naming node 1 (its control connection \
         is to node 1 too). *3 nodes*: both discover the cluster from node 1 and route \
         token-aware with one connection per node (both defaults). Which driver runs first \
         alternates from one pair to the next. Ratios are cql4 / scylla.\n",
        set["concurrency"], set["warmup_s"], set["duration_s"], set["passes"]
    );
    let empty = Vec::new();
    let rows = v["throughput"].as_array().unwrap_or(&empty);
    // The whole-cluster points at other concurrencies are session_drivers' table.
    let agg = |driver: &str, workload: &str, nodes: u64| {
        SessionPoint::of(rows.iter().filter(|r| {
            s(r, "driver") == driver
                && s(r, "workload") == workload
                && r["nodes"].as_u64() == Some(nodes)
                && (r.get("concurrency").is_none()
                    || r["concurrency"].as_f64() == set["concurrency"].as_f64())
        }))
    };
    let _ = writeln!(
        out,
        "| statement | nodes | driver | req/s (median) | req/s vs scylla | req/s per pass | p50 ms | p50 vs scylla | p99 ms | p99 vs scylla | client CPU µs/req | CPU vs scylla | errors | requests per node (cql4, all passes) |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for workload in ["insert", "select"] {
        for nodes in [1, 3] {
            let base = agg(BASELINE, workload, nodes);
            for driver in ["cql4", BASELINE] {
                let r = agg(driver, workload, nodes);
                if r.passes.is_empty() {
                    if !r.failed.is_empty() {
                        let _ = writeln!(
                            out,
                            "| {workload} | {nodes} | {driver} | FAILED: {} |",
                            r.failed.join("; ")
                        );
                    }
                    continue;
                }
                let spread = if r.per_node.is_empty() {
                    "–".to_owned()
                } else {
                    r.per_node
                        .iter()
                        .map(|(node, n)| format!("{node}: {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let passes: Vec<String> = r.passes.iter().map(|x| num(*x)).collect();
                let _ = writeln!(
                    out,
                    "| {workload} | {nodes} | {driver} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {}{} | {spread} |",
                    num(r.throughput),
                    ratio(r.throughput, base.throughput),
                    passes.join(", "),
                    num(r.p50_us / 1e3),
                    ratio(r.p50_us, base.p50_us),
                    num(r.p99_us / 1e3),
                    ratio(r.p99_us, base.p99_us),
                    num(r.cpu_us),
                    ratio(r.cpu_us, base.cpu_us),
                    r.errors,
                    if r.failed.is_empty() { String::new() } else { format!(" (failed passes: {})", r.failed.join("; ")) },
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\n| statement | driver | req/s on 1 node | req/s on 3 nodes | 3 nodes / 1 node |\n|---|---|---:|---:|---:|"
    );
    for workload in ["insert", "select"] {
        for driver in ["cql4", BASELINE] {
            let (one, three) = (
                agg(driver, workload, 1).throughput,
                agg(driver, workload, 3).throughput,
            );
            let _ = writeln!(
                out,
                "| {workload} | {driver} | {} | {} | {} |",
                num(one),
                num(three),
                ratio(three, one)
            );
        }
    }

    session_drivers::section(out, v);

    let st = &v["startup"];
    let _ = writeln!(out, "\n**Start time on 3 nodes** ({} fresh sessions per driver, alternating): from the call to `Session::connect` (cql4) or `SessionBuilder::build` (scylla) until it returns, and until every node has an open connection (cql4: `up` in `Session::nodes()`; scylla: `Node::is_connected()`), polled every millisecond.\n", st["rounds"]);
    if let Some(why) = st.get("failed").and_then(Value::as_str) {
        let _ = writeln!(out, "FAILED: {why}");
    } else {
        let _ = writeln!(
            out,
            "| driver | returns (median ms) | every node connected (median ms) | every round: returns / all connected (ms) |\n|---|---:|---:|---|"
        );
        for driver in ["cql4", BASELINE] {
            let d = &st["drivers"][driver];
            let list = |k: &str| {
                d[k].as_array().map_or(Vec::new(), |a| {
                    a.iter()
                        .map(|x| format!("{:.0}", x.as_f64().unwrap_or(f64::NAN)))
                        .collect()
                })
            };
            let (c, a) = (list("connect_ms"), list("all_up_ms"));
            let rounds: Vec<String> = c
                .iter()
                .zip(&a)
                .map(|(c, a)| format!("{c} / {a}"))
                .collect();
            let _ = writeln!(
                out,
                "| {driver} | {} | {} | {} |",
                ms(d["connect_median_ms"].as_f64()),
                ms(d["all_up_median_ms"].as_f64()),
                rounds.join(", ")
            );
        }
    }

    let rc = &v["reconnect"];
    let _ = writeln!(
        out,
        "\n**Reconnection after a restart**: both sessions open on 3 nodes (default reconnection \
         policies; cql4: backoff 100 ms doubling to 30 s, with jitter) with a light load each (4 \
         tasks running the prepared select back to back), then `cassandra stop-node 3` (orderly \
         shutdown) and `cassandra start-node 3`, which returns once the node accepts a login and \
         every node sees every node up. Times in ms from the moment `start-node` began; \
         \"after start-node returned\" is negative when the session had the node back before \
         the command returned.\n"
    );
    if let Some(why) = rc.get("failed").and_then(Value::as_str) {
        let _ = writeln!(out, "FAILED: {why}");
    } else {
        let _ = writeln!(
            out,
            "`stop-node` took {} ms; after `start-node` began, node 3 first accepted a login (a fresh cql4 `Client` tried every 10 ms) at {} ms and `start-node` returned at {} ms.\n",
            ms(rc["stop_node_ms"].as_f64()),
            ms(rc["first_login_ms"].as_f64()),
            ms(rc["start_node_returned_ms"].as_f64()),
        );
        let _ = writeln!(
            out,
            "| driver | node 3 seen down (ms after stop-node began) | node 3 up again (ms after start-node began) | after start-node returned (ms) | after the node's first login (ms) | light load: ok / failed | slowest request (ms) |\n|---|---:|---:|---:|---:|---|---:|"
        );
        let mut first_errors = Vec::new();
        for driver in ["cql4", BASELINE] {
            let d = &rc["drivers"][driver];
            let load = &d["load"];
            let _ = writeln!(
                out,
                "| {driver} | {} | {} | {} | {} | {} / {} | {} |",
                ms(d["down_after_stop_ms"].as_f64()),
                ms(d["up_after_start_ms"].as_f64()),
                ms(d["up_after_start_node_returned_ms"].as_f64()),
                ms(d["up_after_first_login_ms"].as_f64()),
                load["ok"],
                load["errors"],
                ms(load["max_latency_ms"].as_f64()),
            );
            if let Some(e) = load["first_error"].as_str() {
                first_errors.push(format!("{driver}'s first failed request: `{e}`"));
            }
        }
        for e in first_errors {
            let _ = writeln!(out, "\n{e}");
        }
        let counts = |k: &str| {
            rc[k].as_object().map_or("–".to_owned(), |m| {
                let mut v: Vec<String> = m
                    .iter()
                    .map(|(node, n)| format!("{node}: {}", n.as_u64().unwrap_or(0)))
                    .collect();
                v.sort();
                v.join(", ")
            })
        };
        let _ = writeln!(
            out,
            "\nRequests of cql4's light load per node while node 3 was away (from `stop-node` to `start-node`): {}; in the 3 s after both sessions had it back: {}.",
            counts("cql4_requests_per_node_while_down"),
            counts("cql4_requests_per_node_after"),
        );
    }
    if let Some(f) = v["failures"].as_array().filter(|a| !a.is_empty()) {
        let _ = writeln!(out, "\nFailed:\n");
        for x in f {
            let _ = writeln!(out, "- {}", x.as_str().unwrap_or(""));
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [results, md, plots] = args.as_slice() else {
        return Err("usage: bench_report RESULTS.json OUT.md PLOT_DIR".into());
    };
    let v: Value = serde_json::from_str(&std::fs::read_to_string(results)?)?;
    let plots = PathBuf::from(plots);
    std::fs::create_dir_all(&plots)?;
    let md_path = PathBuf::from(md);
    let rel = |p: &Path| -> String {
        let base = md_path.parent().unwrap_or(Path::new("."));
        p.strip_prefix(base).unwrap_or(p).display().to_string()
    };
    let empty = Vec::new();
    let canned = v["canned"].as_array().unwrap_or(&empty);
    let real = v["real"].as_array().unwrap_or(&empty);
    let codec = v["codec"].as_array().unwrap_or(&empty);

    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks: cql4 against the mainstream drivers\n");
    let _ = writeln!(
        out,
        "Generated by `{}` on {} (raw results: `target/bench/results.json`, copied to `docs/benchmarks/results.json`; regenerate with the same command). \
         Ratios are against **scylla-rust-driver** (`scylla`, and `scylla-cql` for the codec): \
         for req/s higher is better, for latency, CPU and allocations lower is better.\n",
        s(&v, "command"),
        s(&v, "date")
    );
    let m = &v["machine"];
    let _ = writeln!(out, "## Machine and versions\n");
    let _ =
        writeln!(
        out,
        "- {} cores (`nproc`), {}, {} GiB RAM, Linux {}; load average at the end of the run: {}",
        m["nproc"], s(m, "cpu"), m["memory_gib"], s(m, "kernel"), s(m, "loadavg")
    );
    let ver = &v["versions"];
    let _ = writeln!(out, "\n| component | version |\n|---|---|");
    for (k, label) in [
        ("rustc", "rustc"),
        ("tokio", "tokio (all Rust drivers, current-thread runtime)"),
        ("cql4", "cql4 (cql4-conn / cql4-frame)"),
        ("scylla", "scylla (scylla-rust-driver)"),
        ("scylla-cql", "scylla-cql"),
        ("cdrs-tokio", "cdrs-tokio"),
        ("cassandra-protocol", "cassandra-protocol"),
        ("python-driver", "cassandra-driver (Python, Cython build)"),
        ("python", "Python"),
        ("java-driver", "java-driver-core"),
        ("java", "Java"),
        ("gocql", "gocql (apache/cassandra-gocql-driver/v2)"),
        ("go", "Go"),
    ] {
        let _ = writeln!(out, "| {label} | {} |", s(ver, k));
    }
    if let Some(notes) = v["notes"].as_array() {
        for n in notes {
            let _ = writeln!(out, "\nNote: {}", n.as_str().unwrap_or(""));
        }
    }

    let _ = writeln!(out, "\n## 1. Codec (criterion, Rust libraries only)\n");
    let _ = writeln!(
        out,
        "Every cell is read as a typed value (borrowed `&str`/`&[u8]` where the library offers it; \
         cassandra-protocol only has owned values). Allocations: one page/op counted with a counting \
         global allocator. Source: `bench/benches/codec.rs`."
    );
    codec_section(&mut out, codec);
    // Hand-written, kept across runs: how the typed groups are measured beyond criterion.
    let typed = Path::new(env!("CARGO_MANIFEST_DIR")).join("TYPED_API.md");
    if let Ok(text) = std::fs::read_to_string(&typed) {
        let _ = writeln!(out, "\n{}", text.trim_end());
    }

    let _ = writeln!(out, "\n## 2. Client cost, isolated (canned server)\n");
    let _ = writeln!(
        out,
        "`bench/src/bin/canned_server.rs` answers every EXECUTE from memory (one-row page for the \
         select, Void for the insert), pinned to core 0 (`taskset -c 0`); each client is pinned to \
         core 1, so the client is the bottleneck. Statements: `SELECT id, name, payload FROM bench.t \
         WHERE id = ?` (the row is checked) and `INSERT INTO bench.t (id, name, payload) VALUES (?, ?, ?)`. \
         CPU is user+sys of the client process over the measured window / requests; peak RSS is the \
         process's maxrss; allocations are counted for the Rust drivers only. Pool `one` = one connection; \
         `default` = the driver's own default pool (run at 1,024 in flight for drivers that have one). \
         The points run one at a time with every driver back to back (their order flipped from one \
         point to the next), so that a ratio compares runs seconds apart. The points at one in \
         flight run three times in a row (a few microseconds per request, goals within 10-20 %, \
         and the machine's speed drifts ±20 % between two runs of one build): each of their \
         rows is the driver's pass of median throughput (every pass in section 2a)."
    );
    e2e_section(&mut out, canned, true);
    let _ = writeln!(out, "\n### Targets\n");
    targets_section(&mut out, &v);
    for w in ["select", "insert"] {
        let p = plots.join(format!("canned_{w}.png"));
        plot(
            canned,
            w,
            &format!("canned server, {w}: p50 latency vs throughput (1/64/1024 in flight)"),
            &p,
        )?;
        if p.exists() {
            let _ = writeln!(out, "\n![canned {w}]({})", rel(&p));
        }
    }

    second_round::floor_section(&mut out, canned);
    second_round::open_loop_section(&mut out, &v, &plots, &rel)?;
    second_round::idle_section(&mut out, &v);
    second_round::multi_node_section(&mut out, &v);

    let _ = writeln!(out, "\n## 3. Real server (local Cassandra, plain mode)\n");
    if real.is_empty() {
        let _ = writeln!(out, "Not run in this invocation (see the notes above).");
    } else {
        let _ = writeln!(
            out,
            "The same statements against the local single-node Cassandra (`cargo xtask cassandra start --mode plain`, \
             port 9042) at 1 and 64 in flight. The node needs both cores, so nothing is pinned: \
             these numbers are dominated by the server."
        );
        e2e_section(&mut out, real, true);
        for w in ["select", "insert"] {
            let p = plots.join(format!("real_{w}.png"));
            plot(
                real,
                w,
                &format!("local Cassandra, {w}: p50 latency vs throughput"),
                &p,
            )?;
            if p.exists() {
                let _ = writeln!(out, "\n![cassandra {w}]({})", rel(&p));
            }
        }
    }

    if let Some(session) = v.get("session").filter(|x| x.is_object()) {
        session_section(&mut out, session);
    }
    copy::section(&mut out, &v);

    let analysis = Path::new(env!("CARGO_MANIFEST_DIR")).join("ANALYSIS.md");
    if let Ok(text) = std::fs::read_to_string(&analysis) {
        let _ = writeln!(out, "\n{}", text.trim_end());
    }
    if let Some(f) = v["failures"].as_array().filter(|a| !a.is_empty()) {
        let _ = writeln!(out, "\n## Failed points\n");
        for x in f {
            let _ = writeln!(out, "- {}", x.as_str().unwrap_or(""));
        }
    }
    if let Some(dir) = md_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&md_path, out)?;
    eprintln!("bench_report: wrote {}", md_path.display());
    Ok(())
}
