//! The sections of the second round of benchmarks: the floor, open-loop latency, resident
//! memory per idle connection and the canned multi-node case, and their rows of the targets
//! table.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;
use serde_json::Value;

use super::{driver_rank, f, find, num, ratio, s, target_row, BASELINE};

const FLOOR: &str = "floor";

/// One driver's latency by percentile: (name, [(percentile, µs)]).
type Series = (String, Vec<(f64, f64)>);

/// Section 2a: cql4 against the floor at every concurrency.
pub(crate) fn floor_section(out: &mut String, canned: &[Value]) {
    if !canned.iter().any(|r| s(r, "driver") == FLOOR) {
        return;
    }
    let _ = writeln!(out, "\n## 2a. The floor (raw tokio, no driver)\n");
    let _ = writeln!(
        out,
        "`bench/src/bin/floor_client.rs` is what one tokio connection costs with no driver: the \
         same STARTUP and PREPAREs, then the same EXECUTE frame (encoded once; only its stream id is \
         patched per request), replies read by their frame header alone, one task, one socket. It \
         runs in the same invocation and under the same pinning and measurement as the drivers of \
         section 2. Ratios are cql4 / floor: how much cql4 adds above what the machine allows.\n"
    );
    let _ = writeln!(
        out,
        "| statement | in flight | floor req/s | cql4 req/s | cql4 / floor | floor p50 µs | cql4 p50 µs | cql4 / floor | floor p99 µs | cql4 p99 µs | floor CPU µs/req | cql4 CPU µs/req | cql4 / floor |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for w in ["select", "insert"] {
        for c in [1, 64, 1024] {
            let (Some(fl), Some(cq)) = (find(canned, FLOOR, w, c), find(canned, "cql4", w, c))
            else {
                continue;
            };
            let _ = writeln!(
                out,
                "| {w} | {c} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                num(f(fl, "throughput")),
                num(f(cq, "throughput")),
                ratio(f(cq, "throughput"), f(fl, "throughput")),
                num(f(fl, "p50_us")),
                num(f(cq, "p50_us")),
                ratio(f(cq, "p50_us"), f(fl, "p50_us")),
                num(f(fl, "p99_us")),
                num(f(cq, "p99_us")),
                num(f(fl, "cpu_us_per_req")),
                num(f(cq, "cpu_us_per_req")),
                ratio(f(cq, "cpu_us_per_req"), f(fl, "cpu_us_per_req")),
            );
        }
    }
    // The points at one in flight are the median of passes (see section 2): their spread.
    let mut spread = Vec::new();
    for w in ["select", "insert"] {
        for d in [FLOOR, "cql4"] {
            if let Some(passes) = find(canned, d, w, 1).and_then(passes) {
                spread.push(format!("{d} {w} {passes}"));
            }
        }
    }
    if !spread.is_empty() {
        let _ = writeln!(
            out,
            "\nAt one in flight each row is the driver's median pass; req/s of every pass: {}.",
            spread.join("; ")
        );
    }
}

/// Every pass's figure of a point measured in passes (`passes`, see xtask's `median_pass`);
/// `None` for a point run once.
fn passes(r: &Value) -> Option<String> {
    let each: Vec<String> = r["passes"]
        .as_array()?
        .iter()
        .map(|x| num(x.as_f64().unwrap_or(f64::NAN)))
        .collect();
    Some(each.join(", "))
}

/// An open-loop point kept up with its schedule: nothing dropped, nothing left unanswered.
fn sustained(r: &Value) -> bool {
    r.get("failed").is_none()
        && r["dropped"].as_u64() == Some(0)
        && r["late"].as_u64() == Some(0)
        && r["errors"].as_u64() == Some(0)
}

fn open_points<'a>(v: &'a Value, workload: &str) -> Vec<&'a Value> {
    let mut rows: Vec<&Value> = v["open_loop"]
        .as_array()
        .map(|a| a.iter().filter(|r| s(r, "workload") == workload).collect())
        .unwrap_or_default();
    rows.sort_by(|a, b| {
        (
            driver_rank(s(a, "driver")),
            s(&a["schedule"], "kind") != "fraction",
        )
            .cmp(&(
                driver_rank(s(b, "driver")),
                s(&b["schedule"], "kind") != "fraction",
            ))
            .then(f(a, "rate").total_cmp(&f(b, "rate")))
    });
    rows
}

fn absolute<'a>(rows: &[&'a Value], driver: &str, rate: f64) -> Option<&'a Value> {
    rows.iter().copied().find(|r| {
        s(r, "driver") == driver
            && s(&r["schedule"], "kind") == "absolute"
            && (f(r, "rate") - rate).abs() < 0.5
    })
}

/// The absolute rates of a workload, ascending.
fn ladder(rows: &[&Value]) -> Vec<f64> {
    let mut rates: Vec<f64> = rows
        .iter()
        .filter(|r| s(&r["schedule"], "kind") == "absolute")
        .map(|r| f(r, "rate"))
        .collect();
    rates.sort_by(f64::total_cmp);
    rates.dedup();
    rates
}

/// Section 2b: open-loop latency tables and one HDR plot per statement.
pub(crate) fn open_loop_section(
    out: &mut String,
    v: &Value,
    plots: &Path,
    rel: &dyn Fn(&Path) -> String,
) -> Result<(), Box<dyn std::error::Error>> {
    if v["open_loop"].as_array().is_none_or(Vec::is_empty) {
        return Ok(());
    }
    let _ = writeln!(out, "\n## 2b. Open-loop latency (canned server)\n");
    let _ = writeln!(
        out,
        "Requests are issued on a fixed schedule (request *k* is due *k / rate* seconds after the \
         start) and each latency counts from when the request was **due**, not from when it was \
         sent, so a stall delays every request behind it and shows in the tail (no coordinated \
         omission). At most 1,024 requests are outstanding; a request due while 1,024 are \
         outstanding is dropped and counted, and one still unanswered a second after the \
         schedule ended is late. Each program schedules as its language allows: the Rust \
         clients sleep on tokio's timer until the next request is under 1.5 ms away and then \
         yield to the runtime until it is due (the timer has 1 ms resolution; the runtime polls \
         the sockets between yields), while Go (`nanosleep`), Java (`LockSupport.parkNanos`) \
         and Python (`time.sleep`) sleep until each request is due: a spinning scheduler \
         starves their drivers' I/O threads on the one client core (a first run with Go and \
         Java spinning gave them a 5 ms p50 at 10,000 req/s). The waiting costs CPU, so CPU per request is not meaningful here and \
         is not reported. Two seconds of warm-up, four measured; same pinning as section 2. \
         Rates: 25, 50 and 75 % of the driver's own closed-loop maximum (its best \
         one-connection point in section 2), one run each; and a ladder of absolute rates run \
         for every driver, which the goals compare: three passes, every driver back to back at \
         each rate (their order flipped from one rate and pass to the next), each row the \
         driver's pass of median p99 (a 4-second p99 of one build moves by a third, at times \
         several-fold, from one run to the next; the last column has every pass). *sustained* = nothing dropped, late or failed.\n"
    );
    for w in ["select", "insert"] {
        let rows = open_points(v, w);
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n**{w}**\n");
        let _ = writeln!(
            out,
            "| driver | rate req/s | schedule | achieved req/s | dropped | late | p50 µs | p99 µs | p99.9 µs | max µs | p99 vs scylla (same rate) | sustained | p99 µs per pass |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
        );
        for r in &rows {
            let what = match s(&r["schedule"], "kind") {
                "fraction" => format!(
                    "{:.0} % of its max ({})",
                    f(&r["schedule"], "fraction") * 100.0,
                    num(f(&r["schedule"], "closed_max"))
                ),
                _ => "absolute".to_owned(),
            };
            if let Some(why) = r.get("failed").and_then(Value::as_str) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {what} | FAILED: {why} |",
                    s(r, "driver"),
                    num(f(r, "rate"))
                );
                continue;
            }
            let base = (s(&r["schedule"], "kind") == "absolute")
                .then(|| absolute(&rows, BASELINE, f(r, "rate")))
                .flatten()
                .filter(|b| sustained(b));
            let _ = writeln!(
                out,
                "| {} | {} | {what} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s(r, "driver"),
                num(f(r, "rate")),
                num(f(r, "throughput")),
                r["dropped"],
                r["late"],
                num(f(r, "p50_us")),
                num(f(r, "p99_us")),
                num(f(r, "p999_us")),
                num(f(r, "max_us")),
                base.map_or("–".into(), |b| ratio(f(r, "p99_us"), f(b, "p99_us"))),
                if sustained(r) { "yes" } else { "**no**" },
                passes(r).unwrap_or_else(|| "–".to_owned()),
            );
        }
        // The plot: every driver at the highest absolute rate cql4 and scylla both sustain
        // (else the lowest rate run).
        let rates = ladder(&rows);
        let both = rates.iter().copied().rev().find(|&rate| {
            ["cql4", BASELINE]
                .iter()
                .all(|d| absolute(&rows, d, rate).is_some_and(sustained))
        });
        let Some(rate) = both.or_else(|| rates.first().copied()) else {
            continue;
        };
        let series: Vec<Series> = rows
            .iter()
            .filter(|r| {
                s(&r["schedule"], "kind") == "absolute"
                    && (f(r, "rate") - rate).abs() < 0.5
                    && r.get("failed").is_none()
            })
            .map(|r| {
                let pts = r["hdr"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                            .collect()
                    })
                    .unwrap_or_default();
                (s(r, "driver").to_owned(), pts)
            })
            .collect();
        let p = plots.join(format!("open_loop_{w}.png"));
        hdr_plot(
            &series,
            &format!(
                "canned server, {w}, open loop at {} req/s: latency by percentile",
                num(rate)
            ),
            &p,
        )?;
        if p.exists() {
            let _ = writeln!(out, "\n![open loop {w}]({})", rel(&p));
        }
    }
    Ok(())
}

/// Percentile `p` (0–100) on the HdrHistogram axis: `1 / (1 - p)`.
fn axis(p: f64) -> f64 {
    1.0 / (1.0 - (p / 100.0).min(0.999_999))
}

/// The HdrHistogram-style plot: latency against percentile, the percentile axis logarithmic
/// in `1 / (1 - p)` so 90 %, 99 %, 99.9 % … are evenly spaced.
fn hdr_plot(series: &[Series], title: &str, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let pts = series.iter().flat_map(|s| s.1.iter());
    let (xmax, ymin, ymax) = pts.fold((10.0_f64, f64::MAX, 0.0_f64), |(x, lo, hi), p| {
        (x.max(axis(p.0)), lo.min(p.1), hi.max(p.1))
    });
    if ymax <= 0.0 {
        return Ok(());
    }
    let root = BitMapBackend::new(path, (1000, 650)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(
            (1.0..xmax * 2.0).log_scale(),
            ((ymin.max(0.1) / 1.5)..(ymax * 1.5)).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency from the scheduled start (µs, log)")
        .x_label_formatter(&|x| {
            let p = 100.0 * (1.0 - 1.0 / x);
            if p < 99.0 {
                format!("{p:.0}%")
            } else {
                let digits = (-(1.0 - p / 100.0).log10()).round() as usize;
                format!("{p:.*}%", digits.saturating_sub(2))
            }
        })
        .label_style(("sans-serif", 16))
        .draw()?;
    let colors = [BLACK, RED, BLUE, GREEN, MAGENTA, CYAN];
    let mut by_rank: BTreeMap<usize, &Series> = BTreeMap::new();
    for x in series {
        by_rank.insert(driver_rank(&x.0), x);
    }
    for (i, (name, pts)) in by_rank.values().enumerate() {
        let color = colors[i % colors.len()];
        let xy: Vec<(f64, f64)> = pts.iter().map(|p| (axis(p.0), p.1)).collect();
        chart
            .draw_series(LineSeries::new(xy, color.stroke_width(2)))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
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

/// Section 2c: resident memory per idle connection.
pub(crate) fn idle_section(out: &mut String, v: &Value) {
    let Some(rows) = v["idle"].as_array().filter(|a| !a.is_empty()) else {
        return;
    };
    let _ = writeln!(
        out,
        "\n## 2c. Resident memory per idle connection (canned server)\n"
    );
    let _ = writeln!(
        out,
        "`rust_client --idle N`: after one warm-up connection, cql4 opens N more `Client`s; \
         scylla and cdrs-tokio build a session with a one-connection pool and then one with an \
         (N + 1)-connection pool, and the difference of the two growths cancels what a session \
         costs besides its connections. Resident memory is `VmRSS`, read once the process holds \
         the sockets and half a second later. Client pinned as in section 2.\n"
    );
    let _ = writeln!(
        out,
        "| driver | connections | RSS growth KiB | of which the session around one connection KiB | KiB per connection | vs scylla |\n|---|---:|---:|---:|---:|---:|"
    );
    let base = rows
        .iter()
        .find(|r| s(r, "driver") == BASELINE && r.get("failed").is_none())
        .map_or(f64::NAN, |r| f(r, "kb_per_connection"));
    for r in rows {
        if let Some(why) = r.get("failed").and_then(Value::as_str) {
            let _ = writeln!(
                out,
                "| {} | {} | FAILED: {why} |",
                s(r, "driver"),
                r["connections"]
            );
            continue;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            s(r, "driver"),
            r["connections"],
            num(f(r, "rss_growth_kb")),
            num(f(r, "one_connection_session_kb")),
            num(f(r, "kb_per_connection")),
            ratio(f(r, "kb_per_connection"), base),
        );
    }
}

/// Section 2d: the canned multi-node case.
pub(crate) fn multi_node_section(out: &mut String, v: &Value) {
    let Some(rows) = v["multi_node"].as_array().filter(|a| !a.is_empty()) else {
        return;
    };
    let _ = writeln!(out, "\n## 2d. Four canned nodes, one client core\n");
    let _ = writeln!(out, "{}\n", s(&v["multi_node_method"], "text"));
    let _ = writeln!(
        out,
        "| statement | driver | in flight | req/s | req/s vs scylla | p50 µs | p99 µs | CPU µs/req | peak RSS MiB | requests per node | req/s of each pass |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
    );
    for r in rows {
        if let Some(why) = r.get("failed").and_then(Value::as_str) {
            let _ = writeln!(
                out,
                "| {} | {} | FAILED: {why} |",
                s(r, "workload"),
                s(r, "driver")
            );
            continue;
        }
        let base = rows
            .iter()
            .find(|b| {
                s(b, "driver") == BASELINE
                    && s(b, "workload") == s(r, "workload")
                    && b.get("failed").is_none()
            })
            .map_or(f64::NAN, |b| f(b, "throughput"));
        let spread = r["per_node"].as_array().map_or("–".to_owned(), |a| {
            a.iter()
                .map(|n| format!("{}: {}", s(n, "node"), n["requests"]))
                .collect::<Vec<_>>()
                .join(", ")
        });
        // Runs from before the passes have none: one run.
        let passes = passes(r).unwrap_or_else(|| "–".to_owned());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {spread} | {passes} |",
            s(r, "workload"),
            s(r, "driver"),
            r["concurrency"],
            num(f(r, "throughput")),
            ratio(f(r, "throughput"), base),
            num(f(r, "p50_us")),
            num(f(r, "p99_us")),
            num(f(r, "cpu_us_per_req")),
            num(f(r, "maxrss_kb") / 1024.0),
        );
    }
}

/// The targets of the second round, appended to the targets table.
pub(crate) fn targets(out: &mut String, v: &Value) {
    let empty = Vec::new();
    let canned = v["canned"].as_array().unwrap_or(&empty);
    for w in ["select", "insert"] {
        let g = |d: &str, c: u32, k: &str| find(canned, d, w, c).map(|r| f(r, k));
        target_row(
            out,
            &format!("{w}: p50 at concurrency 1 within 10 % of the floor"),
            FLOOR,
            g("cql4", 1, "p50_us"),
            g(FLOOR, 1, "p50_us"),
            &|a, b| a <= 1.10 * b,
            None,
        );
        target_row(
            out,
            &format!("{w}: throughput at 1,024 in flight within 25 % of the floor"),
            FLOOR,
            g("cql4", 1024, "throughput"),
            g(FLOOR, 1024, "throughput"),
            &|a, b| a >= 0.75 * b,
            None,
        );
    }
    for w in ["select", "insert"] {
        let rows = open_points(v, w);
        for rate in ladder(&rows) {
            let (a, b) = (
                absolute(&rows, "cql4", rate),
                absolute(&rows, BASELINE, rate),
            );
            let what = format!(
                "{w}: open-loop p99 at {} req/s ≥ 30 % below scylla",
                num(rate)
            );
            match (a, b) {
                (Some(a), Some(b)) if sustained(a) && sustained(b) => {
                    // Where the floor itself (no driver) is not 30 % below scylla, no driver
                    // can be: the row says so.
                    let floor = absolute(&rows, FLOOR, rate)
                        .filter(|r| sustained(r))
                        .map(|r| f(r, "p99_us"))
                        .filter(|x| *x > 0.7 * f(b, "p99_us"));
                    let note = floor.map(|x| {
                        format!(
                            " (the goal is below the floor: the floor's p99 is {} µs, {} scylla's)",
                            num(x),
                            ratio(x, f(b, "p99_us"))
                        )
                    });
                    target_row(
                        out,
                        &what,
                        BASELINE,
                        Some(f(a, "p99_us")),
                        Some(f(b, "p99_us")),
                        &|a, b| a <= 0.7 * b,
                        note.as_deref(),
                    );
                }
                (Some(a), _) if sustained(a) => {
                    let _ = writeln!(out, "| {what} | {} | {BASELINE} | not sustained | – | – (only cql4 sustains it) |", num(f(a, "p99_us")));
                }
                _ => {
                    let _ = writeln!(out, "| {what} | not sustained | {BASELINE} | – | – | – (cql4 does not sustain it) |");
                }
            }
        }
    }
    if let Some(rows) = v["idle"].as_array() {
        let g = |d: &str| {
            rows.iter()
                .find(|r| s(r, "driver") == d && r.get("failed").is_none())
                .map(|r| f(r, "kb_per_connection"))
        };
        target_row(
            out,
            "resident memory per idle connection (KiB) ≤ scylla's",
            BASELINE,
            g("cql4"),
            g(BASELINE),
            &|a, b| a <= b,
            None,
        );
    }
    super::session_drivers::target_rows(out, &v["session"]);
    if let Some(rows) = v["multi_node"].as_array() {
        for w in ["select", "insert"] {
            let g = |d: &str| {
                rows.iter()
                    .find(|r| {
                        s(r, "driver") == d && s(r, "workload") == w && r.get("failed").is_none()
                    })
                    .map(|r| f(r, "throughput"))
            };
            target_row(
                out,
                &format!("{w}: 4 canned nodes, 4,096 in flight: throughput ≥ 2× scylla"),
                BASELINE,
                g("cql4"),
                g(BASELINE),
                &|a, b| a >= 2.0 * b,
                None,
            );
        }
    }
}
