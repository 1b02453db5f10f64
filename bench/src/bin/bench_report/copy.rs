//! The COPY section: cql4's shell against cqlsh's `COPY … FROM/TO` on one node
//! (`results.json` → `copy`, written by `cargo xtask bench --copy-only` or a full run).
use std::fmt::Write as _;

use serde_json::Value;

use super::{num, ratio, s};

/// The node the COPY ran against, from what `run_copy` recorded about it.
fn node_mode(node: &Value) -> &'static str {
    match (node["tls"].as_bool(), node["login"].as_bool()) {
        (Some(true), Some(true)) => "keyspaces mode (TLS with a CA file, PasswordAuthenticator)",
        (Some(true), Some(false)) => "TLS, no login",
        (Some(false), Some(true)) => "plain TCP, PasswordAuthenticator",
        (Some(false), Some(false)) => "plain mode (no TLS, no login)",
        _ => "not recorded",
    }
}

/// `## 5. COPY against cqlsh`; nothing when the run has no COPY figures.
pub(crate) fn section(out: &mut String, v: &Value) {
    let c = &v["copy"];
    if !c.is_object() {
        return;
    }
    let _ = writeln!(out, "\n## 5. COPY against cqlsh\n");
    let _ = writeln!(
        out,
        "`xtask/src/bench/copy.rs`: a CSV of {} rows into a table `{}` on the same node, in the \
         same run: each tool's `COPY … FROM` the CSV into its own table, then `COPY … TO` a file \
         from it, each checked for the full row count in the tool's own summary line. Rows/s are \
         over each process's wall-clock time, start-up and connecting included for both (cql4: \
         the release `cql4` binary; cqlsh: `{}` in its own virtualenv, its default COPY options, \
         which run several worker processes). Higher is better; the ratio is cql4 / cqlsh. No \
         goal is set for COPY (issue 16): the figures are reported, not judged.\n",
        num(c["rows"].as_f64().unwrap_or(f64::NAN)),
        s(c, "table"),
        s(c, "cqlsh"),
    );
    let rate = |tool: &str, dir: &str| c["rows_per_sec"][tool][dir].as_f64().unwrap_or(f64::NAN);
    let _ = writeln!(
        out,
        "| direction | rows | cql4 rows/s | cqlsh rows/s | cql4 / cqlsh |\n|---|---:|---:|---:|---:|"
    );
    for (dir, label) in [
        ("from", "COPY FROM (CSV → table)"),
        ("to", "COPY TO (table → CSV)"),
    ] {
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} |",
            num(c["rows"].as_f64().unwrap_or(f64::NAN)),
            num(rate("cql4", dir)),
            num(rate("cqlsh", dir)),
            ratio(rate("cql4", dir), rate("cqlsh", dir)),
        );
    }
    let _ = writeln!(
        out,
        "\nVersions: cqlsh `{}`; node: {}.",
        s(c, "cqlsh"),
        node_mode(&c["node"]),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_directions_with_the_ratio_and_the_node_mode() {
        let v: Value = serde_json::from_str(
            r#"{"copy": {"rows": 50000, "table": "(k int PRIMARY KEY, a text, b bigint)",
                "cqlsh": "cqlsh==6.2.2", "node": {"tls": true, "login": true},
                "rows_per_sec": {"cql4": {"from": 40000, "to": 90000},
                                 "cqlsh": {"from": 16000, "to": 30000}}}}"#,
        )
        .unwrap();
        let mut out = String::new();
        section(&mut out, &v);
        assert!(out.contains("## 5. COPY against cqlsh"), "{out}");
        assert!(
            out.contains("| COPY FROM (CSV → table) | 50000 | 40000 | 16000 | 2.50× |"),
            "{out}"
        );
        assert!(
            out.contains("| COPY TO (table → CSV) | 50000 | 90000 | 30000 | 3.00× |"),
            "{out}"
        );
        assert!(out.contains("cqlsh `cqlsh==6.2.2`"), "{out}");
        assert!(out.contains("keyspaces mode"), "{out}");
    }

    #[test]
    fn a_run_without_copy_figures_has_no_section() {
        let mut out = String::new();
        section(&mut out, &serde_json::json!({"copy": null}));
        assert!(out.is_empty(), "{out}");
    }

    #[test]
    fn a_missing_figure_shows_a_dash_not_a_ratio() {
        let v = serde_json::json!({"copy": {"rows": 10, "rows_per_sec": {
            "cql4": {"from": 100.0, "to": 200.0}, "cqlsh": {"from": 50.0}}}});
        let mut out = String::new();
        section(&mut out, &v);
        assert!(
            out.contains("| COPY FROM (CSV → table) | 10.0 | 100 | 50.0 | 2.00× |"),
            "{out}"
        );
        assert!(
            out.contains("| COPY TO (table → CSV) | 10.0 | 200 | – | – |"),
            "{out}"
        );
        assert!(out.contains("node: not recorded"), "{out}");
    }
}
