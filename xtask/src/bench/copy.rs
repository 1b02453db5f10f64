//! `cargo xtask bench --copy-only [--copy-rows N]` (and a section of the full run): cql4's COPY
//! against cqlsh's COPY (the Python `cqlsh` package, pinned, in its own venv
//! `target/venv-cqlsh`) on the same node in the same run.
//!
//! 1. Builds `cql4` (release) and the venv.
//! 2. The node: the `CQL4_TEST_*` variables when set (as `cargo xtask test` gives them), else
//!    the node `cargo xtask cassandra start` runs (`target/cassandra/node.json`).
//! 3. Keyspace `bench_copy`, tables `cql4_t` and `cqlsh_t` (int, text, bigint); a CSV of N
//!    rows; each tool's COPY FROM into its table, then COPY TO from it, each checked for N
//!    rows. Rows/s are over each process's wall-clock time (connecting included, for both).
//! 4. Prints the figures and writes `target/bench/copy.json`.
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};

use crate::cassandra;
use crate::layout::Layout;
use crate::test_cmd::cargo;
use crate::util::{run, run_captured, Context, Result};

/// The cqlsh release measured against.
const CQLSH: &str = "cqlsh==6.2.2";
/// Rows per COPY when no `--copy-rows` is given.
pub(crate) const DEFAULT_ROWS: u64 = 200_000;

/// How to reach the node.
struct Node {
    host: String,
    port: String,
    /// CA file and server name when the node speaks TLS.
    tls: Option<(String, String)>,
    /// User and password when it wants them.
    login: Option<(String, String)>,
}

fn node(layout: &Layout) -> Result<Node> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(host), Some(port)) = (var("CQL4_TEST_HOST"), var("CQL4_TEST_PORT")) {
        return Ok(Node {
            host,
            port,
            tls: var("CQL4_TEST_CA").zip(var("CQL4_TEST_SERVER_NAME")),
            login: var("CQL4_TEST_USER").zip(var("CQL4_TEST_PASSWORD")),
        });
    }
    let state = cassandra::read_state(layout).ok_or(
        "copy bench: no node (start one with `cargo xtask cassandra start`, or set CQL4_TEST_*)",
    )?;
    Ok(Node {
        host: state.host.clone(),
        port: state.port.to_string(),
        tls: state
            .tls
            .as_ref()
            .map(|t| (t.ca.display().to_string(), t.server_name.clone())),
        login: state
            .credentials
            .as_ref()
            .map(|c| (c.user.clone(), c.password.clone())),
    })
}

impl Node {
    fn cql4(&self, bin: &Path, cql: &str) -> Command {
        let mut cmd = Command::new(bin);
        cmd.args([&self.host, &self.port]);
        if let Some((ca, name)) = &self.tls {
            cmd.args(["--ssl-ca", ca, "--ssl-server-name", name]);
        }
        if let Some((user, password)) = &self.login {
            cmd.args(["-u", user, "-p", password]);
        }
        cmd.args(["--request-timeout", "60", "-e", cql]);
        cmd
    }

    fn cqlsh(&self, venv: &Path, cql: &str) -> Command {
        let mut cmd = Command::new(venv.join("bin").join("cqlsh"));
        cmd.args([&self.host, &self.port, "--request-timeout", "60"]);
        if let Some((ca, _)) = &self.tls {
            // cqlsh checks the certificate against the CA but not the name (127.0.0.1 is
            // not in it); cql4 checks both.
            cmd.arg("--ssl")
                .env("SSL_CERTFILE", ca)
                .env("SSL_VALIDATE", "false");
        }
        if let Some((user, password)) = &self.login {
            cmd.args(["-u", user, "-p", password]);
        }
        cmd.args(["-e", cql]);
        cmd
    }
}

/// The venv with cqlsh; installed once per pinned version.
fn cqlsh_venv(layout: &Layout) -> Result<PathBuf> {
    let venv = layout.root.join("target").join("venv-cqlsh");
    let stamp = venv.join(".cql4-cqlsh");
    if fs::read_to_string(&stamp).is_ok_and(|s| s == CQLSH) && venv.join("bin/cqlsh").is_file() {
        return Ok(venv);
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin").join("python")).args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        CQLSH,
    ]))?;
    fs::write(&stamp, CQLSH).context(|| format!("write {}", stamp.display()))?;
    Ok(venv)
}

/// The first number of the line of `out` that contains `what`.
fn count_in(out: &[u8], what: &str) -> Option<u64> {
    String::from_utf8_lossy(out)
        .lines()
        .find(|l| l.contains(what))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Runs one COPY; returns rows/s over the process's wall-clock time, after checking `rows`.
fn timed(mut cmd: Command, what: &str, rows: u64, label: &str) -> Result<f64> {
    let start = Instant::now();
    let out = run_captured(&mut cmd)?;
    let secs = start.elapsed().as_secs_f64();
    let got = count_in(&out.stdout, what).or_else(|| count_in(&out.stderr, what));
    if got != Some(rows) {
        return Err(format!(
            "{label}: expected {rows} rows {what}, output:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let rate = rows as f64 / secs;
    eprintln!("xtask: bench copy: {label}: {rows} rows in {secs:.2} s ({rate:.0} rows/s)");
    Ok(rate)
}

/// The copy section: its figures as JSON.
pub(crate) fn run_copy(layout: &Layout, rows: u64) -> Result<Value> {
    run(cargo()
        .current_dir(&layout.root)
        .args(["build", "--release", "-p", "cql4-cli"]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| layout.root.join("target"), PathBuf::from);
    let bin = target.join("release").join("cql4");
    let venv = cqlsh_venv(layout)?;
    let node = node(layout)?;
    let dir = layout.root.join("target").join("bench").join("copy");
    fs::create_dir_all(&dir).context(|| format!("create {}", dir.display()))?;
    let input = dir.join("input.csv");
    {
        let file = fs::File::create(&input).context(|| format!("create {}", input.display()))?;
        let mut w = BufWriter::new(file);
        for i in 0..rows {
            writeln!(w, "{i},row number {i},{}", i.wrapping_mul(1_000_003))
                .context(|| "write the input CSV".into())?;
        }
        w.flush().context(|| "write the input CSV".into())?;
    }
    run_captured(&mut node.cql4(
        &bin,
        "DROP KEYSPACE IF EXISTS bench_copy; \
         CREATE KEYSPACE bench_copy WITH replication = \
         {'class': 'SimpleStrategy', 'replication_factor': 1}; \
         CREATE TABLE bench_copy.cql4_t (k int PRIMARY KEY, a text, b bigint); \
         CREATE TABLE bench_copy.cqlsh_t (k int PRIMARY KEY, a text, b bigint);",
    ))?;
    let path = |name: &str| dir.join(name).display().to_string();
    let input = input.display().to_string();
    let from = format!("COPY bench_copy.cql4_t FROM '{input}'");
    let cql4_from = timed(
        node.cql4(&bin, &from),
        "rows imported",
        rows,
        "cql4 COPY FROM",
    )?;
    let from = format!("COPY bench_copy.cqlsh_t FROM '{input}'");
    let cqlsh_from = timed(
        node.cqlsh(&venv, &from),
        "rows imported",
        rows,
        "cqlsh COPY FROM",
    )?;
    let to = format!("COPY bench_copy.cql4_t TO '{}'", path("cql4_out.csv"));
    let cql4_to = timed(node.cql4(&bin, &to), "rows exported", rows, "cql4 COPY TO")?;
    let to = format!("COPY bench_copy.cqlsh_t TO '{}'", path("cqlsh_out.csv"));
    let cqlsh_to = timed(
        node.cqlsh(&venv, &to),
        "rows exported",
        rows,
        "cqlsh COPY TO",
    )?;
    let _ = node
        .cql4(&bin, "DROP KEYSPACE IF EXISTS bench_copy")
        .output();
    let result = json!({
        "rows": rows,
        "table": "(k int PRIMARY KEY, a text, b bigint)",
        "cqlsh": CQLSH,
        "node": { "tls": node.tls.is_some(), "login": node.login.is_some() },
        "rows_per_sec": {
            "cql4": { "from": cql4_from.round(), "to": cql4_to.round() },
            "cqlsh": { "from": cqlsh_from.round(), "to": cqlsh_to.round() },
        },
    });
    eprintln!(
        "xtask: bench copy: {rows} rows, rows/s   FROM   TO\n\
         xtask: bench copy:   cql4           {cql4_from:>7.0} {cql4_to:>7.0}\n\
         xtask: bench copy:   cqlsh          {cqlsh_from:>7.0} {cqlsh_to:>7.0}"
    );
    let out = layout.root.join("target").join("bench").join("copy.json");
    let text = serde_json::to_string_pretty(&result).context(|| "serialize copy.json".into())?;
    fs::write(&out, text).context(|| format!("write {}", out.display()))?;
    let _ = fs::remove_file(&input);
    Ok(result)
}
