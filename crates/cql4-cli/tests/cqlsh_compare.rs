//! cqlsh (the Python package, installed in the test venv by `cargo xtask test` from
//! xtask/python/requirements.txt) and cql4 run the same sessions (tests/cqlsh/sessions.cql)
//! against the local node; their standard outputs must be equal (but for cqlsh's note on its
//! own version; docs/cli.md lists the differences that the sessions avoid).
//!
//! Needs the `CQL4_TEST_*` variables and `CQL4_PYTHON` (the venv's python, next to which the
//! `cqlsh` script is): without them the test fails and says how to run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use cql4_testkit::node::{node, Node};

const SESSIONS: &str = include_str!("cqlsh/sessions.cql");
const SOURCED: &str = include_str!("cqlsh/sourced.cql");

/// The venv's `cqlsh` script.
fn cqlsh_script() -> PathBuf {
    let python = std::env::var("CQL4_PYTHON").unwrap_or_else(|_| {
        panic!(
            "CQL4_PYTHON is not set: run this test through `cargo xtask test`, which builds the \
             venv with cqlsh (xtask/python/requirements.txt) and sets it"
        )
    });
    let script = Path::new(&python).with_file_name("cqlsh");
    assert!(
        script.is_file(),
        "{} is missing: the venv of CQL4_PYTHON has no cqlsh (xtask/python/requirements.txt)",
        script.display()
    );
    script
}

/// A folder of this run's own, as HOME of both programs (no user cqlshrc, no history).
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cql4-cqlsh-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("test setup");
    dir
}

/// `(name, text)` of each session.
fn sessions() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in SESSIONS.lines() {
        if let Some(name) = line.strip_prefix("-- session: ") {
            out.push((name.trim().to_owned(), String::new()));
        } else if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    assert!(out.len() >= 3, "sessions.cql lost its sessions");
    out
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The output without cqlsh's note on its own version.
fn comparable(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| !l.starts_with("WARNING: cqlsh was built against"))
        .collect()
}

/// The cqlshrc both programs read: cqlsh's default float precisions, which cql4 applies only
/// when told.
fn cqlshrc(home: &Path) -> PathBuf {
    let rc = home.join("compare_cqlshrc");
    std::fs::write(&rc, "[ui]\nfloat_precision = 5\ndouble_precision = 5\n").expect("test setup");
    rc
}

fn cql4(node: &Node, home: &Path, file: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cql4"));
    cmd.env_clear()
        .arg("--cqlshrc")
        .arg(cqlshrc(home))
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args([node.host.as_str(), &node.port.to_string()])
        .args(["--ssl-ca", &node.ca, "--ssl-server-name", &node.server_name])
        .args(["-u", &node.user, "-p", &node.password])
        // cqlsh's default level.
        .args(["--consistency", "ONE"])
        .arg("-f")
        .arg(file);
    run(&mut cmd)
}

fn cqlsh(node: &Node, home: &Path, file: &Path) -> Output {
    let rc = cqlshrc(home);
    let mut cmd = Command::new(cqlsh_script());
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SSL_CERTFILE", &node.ca)
        .env("TZ", "UTC")
        .arg("--cqlshrc")
        .arg(&rc)
        .args(["--ssl", "-u", &node.user, "-p", &node.password])
        .args([node.host.as_str(), &node.port.to_string()])
        .arg("-f")
        .arg(file);
    run(&mut cmd)
}

/// Runs `cql` with cql4 and asserts it worked (setup and cleanup).
fn admin(node: &Node, home: &Path, cql: &str) {
    let file = home.join("admin.cql");
    std::fs::write(&file, cql).expect("test setup");
    let out = cql4(node, home, &file);
    assert!(out.status.success(), "{cql}: {}", text(&out.stderr));
}

#[test]
fn cqlsh_and_cql4_print_the_same() {
    let node = node();
    let script = cqlsh_script();
    let home = scratch();
    std::fs::write(home.join("sourced.cql"), SOURCED).expect("test setup");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("test setup")
        .subsec_nanos();
    let mut failures = Vec::new();
    for (name, session) in sessions() {
        let mut outputs = Vec::new();
        for (tool, runner) in [
            ("cqlsh", cqlsh as fn(&Node, &Path, &Path) -> Output),
            ("cql4", cql4),
        ] {
            let ks = format!("shell_cmp_{name}_{tool}_{}_{nanos}", std::process::id());
            admin(
                &node,
                &home,
                &format!(
                    "CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', \
                     'replication_factor': 1}};"
                ),
            );
            let file = home.join(format!("{name}.cql"));
            let cql = session
                .replace("{ks}", &ks)
                .replace("{dir}", &home.display().to_string());
            std::fs::write(&file, cql).expect("test setup");
            let out = runner(&node, &home, &file);
            admin(&node, &home, &format!("DROP KEYSPACE {ks};"));
            assert!(
                out.status.success(),
                "{tool} failed on session {name} ({}): {}\n{}",
                script.display(),
                text(&out.stderr),
                text(&out.stdout)
            );
            // cqlsh reports a failed statement on stderr and goes on, with status 0.
            if tool == "cqlsh" {
                let err = text(&out.stderr);
                assert!(
                    !err.contains("Error") && !err.contains("Exception"),
                    "cqlsh failed in session {name}: {err}"
                );
            }
            // The keyspace's name differs between the two runs (DESCRIBE prints it).
            outputs.push(text(&out.stdout).replace(&ks, "{ks}"));
        }
        let (want, got) = (comparable(&outputs[0]), comparable(&outputs[1]));
        if want != got {
            failures.push(format!(
                "session {name}:\n--- cqlsh\n{}\n--- cql4\n{}",
                want.join("\n"),
                got.join("\n")
            ));
        }
        assert!(!want.is_empty(), "session {name} printed nothing");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
