//! The shell's commands and the cqlshrc, end to end against the real local node (`cargo xtask
//! test` exports the `CQL4_TEST_*` variables; without them every test fails and says so).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use cql4_testkit::node::{node, Node};

/// Variables that would change what the child does.
const CLEARED_ENV: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "SSL_CERTFILE",
    "RUST_LOG",
    "CQL4_LOG",
];

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cql4-shell-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("test setup");
    dir
}

/// A name no other test (or run) uses.
fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("test setup")
        .subsec_nanos();
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn write_file(name: &str, contents: &str) -> PathBuf {
    let path = scratch_dir().join(name);
    std::fs::write(&path, contents).expect("test setup");
    path
}

/// The binary with a HOME of its own (no cqlshrc, no history of the user's).
fn cql4() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cql4"));
    for name in CLEARED_ENV {
        cmd.env_remove(name);
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    cmd.env("HOME", scratch_dir());
    cmd.stdin(Stdio::null());
    cmd
}

/// Logged in with the test user's password over TLS.
fn with_password(node: &Node) -> Command {
    let mut cmd = cql4();
    cmd.args([
        node.host.as_str(),
        &node.port.to_string(),
        "--ssl-ca",
        &node.ca,
        "--ssl-server-name",
        &node.server_name,
        "-u",
        &node.user,
        "-p",
        &node.password,
    ]);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the cql4 binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// A keyspace for one test, with a table `t (k int PRIMARY KEY, v text)` holding rows 1..=n.
fn keyspace_with_rows(node: &Node, n: usize) -> String {
    let ks = unique("shell_ks");
    let mut cql = format!(
        "CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', \
         'replication_factor': 1}};\nCREATE TABLE {ks}.t (k int PRIMARY KEY, v text);\n"
    );
    for k in 1..=n {
        cql.push_str(&format!(
            "INSERT INTO {ks}.t (k, v) VALUES ({k}, 'v{k}');\n"
        ));
    }
    let out = run(with_password(node).args(["-e", &cql]));
    assert_success(&out);
    ks
}

fn drop_keyspace(node: &Node, ks: &str) {
    let out = run(with_password(node).args(["-e", &format!("DROP KEYSPACE {ks}")]));
    assert_success(&out);
}

#[test]
fn cqlshrc_as_the_keyspaces_guide_writes_it_logs_in_with_sigv4() {
    let node = node();
    let rc = write_file(
        &unique("sigv4_cqlshrc"),
        &format!(
            "[connection]\nhostname = {}\nport = {}\nssl = true\n\
             factory = cqlshlib.ssl.ssl_transport_factory\n\n\
             [ssl]\nvalidate = true\ncertfile = {}\n\n\
             [auth_provider]\nmodule = cassandra_sigv4.auth\nclassname = SigV4AuthProvider\n\
             region = {}\n",
            node.host, node.port, node.ca, node.region
        ),
    );
    let mut cmd = cql4();
    cmd.arg("--cqlshrc")
        .arg(&rc)
        .args(["--ssl-server-name", &node.server_name])
        .args(["-e", "SELECT cluster_name FROM system.local"])
        .env("AWS_ACCESS_KEY_ID", &node.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &node.secret_access_key);
    if !node.session_token.is_empty() {
        cmd.env("AWS_SESSION_TOKEN", &node.session_token);
    }
    let out = run(&mut cmd);
    assert_success(&out);
    assert!(stdout(&out).contains("(1 rows)"), "{}", stdout(&out));
    assert_eq!(stderr(&out), "", "no warning for the guide's keys");

    // Without credentials in the chain the SigV4 login of the file fails, so the file's
    // provider was the one used.
    let mut cmd = cql4();
    cmd.arg("--cqlshrc")
        .arg(&rc)
        .args(["--ssl-server-name", &node.server_name])
        .args(["-e", "SELECT cluster_name FROM system.local"]);
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("credentials"), "{}", stderr(&out));
}

#[test]
fn cqlshrc_with_username_and_password_logs_in() {
    let node = node();
    let rc = write_file(
        &unique("password_cqlshrc"),
        &format!(
            "[authentication]\nusername = {}\npassword = {}\n\
             [connection]\nhostname = {}\nport = {}\nssl = true\n[ssl]\ncertfile = {}\n\
             [ui]\ntimezone = UTC\n",
            node.user, node.password, node.host, node.port, node.ca
        ),
    );
    let mut cmd = cql4();
    cmd.arg("--cqlshrc")
        .arg(&rc)
        .args(["--ssl-server-name", &node.server_name])
        .args(["-e", "SELECT cluster_name FROM system.local"]);
    let out = run(&mut cmd);
    assert_success(&out);
    assert!(stdout(&out).contains("(1 rows)"), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("[ui] timezone is not supported") && !err.contains(&node.password),
        "{err}"
    );

    // A broken file fails before connecting, naming its line.
    let broken = write_file(&unique("broken_cqlshrc"), "[connection]\nport 9142\n");
    let out = run(cql4()
        .arg("--cqlshrc")
        .arg(&broken)
        .args(["-e", "SELECT 1"]));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "cql4: error: {}:2: expected 'key = value', a [section] or a comment\n",
            broken.display()
        )
    );
}

#[test]
fn shell_commands_in_a_file() {
    let node = node();
    let ks = keyspace_with_rows(&node, 2);
    let capture = scratch_dir().join(unique("capture"));
    let sourced = write_file(
        &unique("sourced"),
        &format!("expand off\nSELECT v FROM {ks}.t WHERE k = 2;\n"),
    );
    let script = write_file(
        &unique("script"),
        &format!(
            "CONSISTENCY\nconsistency quorum;\nSERIAL CONSISTENCY local_serial\n\
             USE {ks};\nEXPAND ON\nSELECT k, v FROM t WHERE k = 1;\n\
             CAPTURE '{}'\nSELECT v FROM t WHERE k = 2;\nCAPTURE OFF\n\
             SOURCE '{}'\nshow host\n",
            capture.display(),
            sourced.display()
        ),
    );
    let out = run(with_password(&node)
        .args(["--consistency", "ONE", "-f"])
        .arg(&script));
    assert_success(&out);
    let want = format!(
        "Current consistency level is ONE.\n\
         Consistency level set to QUORUM.\n\
         Serial consistency level set to LOCAL_SERIAL.\n\
         EXPAND set to ON\n\
         \n@ Row 1\n---+----\n k | 1\n v | v1\n\n\n(1 rows)\n\
         Now capturing query output to '{}'.\n\
         EXPAND set to OFF\n\n v\n----\n v2\n\n(1 rows)\n\
         Connected to cql4-test at {}:{}\n",
        capture.display(),
        node.host,
        node.port
    );
    assert_eq!(stdout(&out), want);
    // The captured result went to the file only (expanded, as EXPAND was on).
    assert_eq!(
        std::fs::read_to_string(&capture).expect("test setup"),
        "\n@ Row 1\n---+----\n v | v2\n\n\n(1 rows)\n"
    );
    drop_keyspace(&node, &ks);
}

#[test]
fn tracing_prints_the_trace_after_each_statement() {
    let node = node();
    let out = run(with_password(&node).args([
        "-e",
        "TRACING ON\nSELECT cluster_name FROM system.local;\nTRACING OFF\n\
         SELECT cluster_name FROM system.local;",
    ]));
    assert_success(&out);
    let text = stdout(&out);
    assert_eq!(text.matches("Tracing session: ").count(), 1, "{text}");
    let id = text
        .split("Tracing session: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .expect("test setup")
        .to_owned();
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with(" activity "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        lines[header].split('|').map(str::trim).eq([
            "activity",
            "timestamp",
            "source",
            "source_elapsed",
            "client"
        ]),
        "{text}"
    );
    assert!(lines[header + 2].contains("Execute CQL3 query"), "{text}");
    assert!(text.contains(" Request complete | "), "{text}");
    assert!(text.ends_with("cql4-test\n\n(1 rows)\n"), "{text}");

    // SHOW SESSION prints the same trace again.
    let out = run(with_password(&node).args(["-e", &format!("SHOW SESSION {id}")]));
    assert_success(&out);
    assert!(
        stdout(&out).starts_with(&format!("\nTracing session: {id}\n\n activity")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_commands_are_one_line_and_fail_the_run() {
    let node = node();
    for (cql, want) in [
        ("CONSISTENCY sometimes", "Improper CONSISTENCY command."),
        (
            "SERIAL CONSISTENCY QUORUM",
            "Improper SERIAL CONSISTENCY command.",
        ),
        ("EXPAND maybe;", "Improper EXPAND command."),
        ("PAGING 0", "Improper PAGING command."),
        ("SOURCE unquoted.cql", "Improper SOURCE command."),
        ("SHOW SESSION not-a-uuid", "Improper SHOW command."),
        ("CAPTURE OFF", "Not currently capturing output."),
    ] {
        let out = run(with_password(&node).args(["-e", cql]));
        assert_eq!(out.status.code(), Some(1), "{cql}");
        assert_eq!(stderr(&out), format!("cql4: error: {want}\n"), "{cql}");
        assert_eq!(stdout(&out), "", "{cql}");
    }
    // SHOW VERSION names both ends.
    let out = run(with_password(&node).args(["-e", "show version"]));
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        text.starts_with("[cql4 ")
            && text.contains("| Cassandra 5.")
            && text.ends_with("| Native protocol v4]\n"),
        "{text}"
    );
}

#[test]
fn exit_ends_piped_input() {
    let node = node();
    let mut child = with_password(&node)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("test setup");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("test setup")
        .write_all(b"CONSISTENCY\nexit\nSELECT nonsense;\n")
        .expect("test setup");
    let out = child.wait_with_output().expect("test setup");
    assert_success(&out);
    assert_eq!(stdout(&out), "Current consistency level is LOCAL_ONE.\n");
}

/// Runs `cmd` on a pseudo-terminal (tests/pty_steps.py), typing each step's text once the
/// terminal shows the step's wait text; returns what the terminal showed and the report.
fn run_on_terminal(cmd: &Command, steps: &[(&str, &str)]) -> Output {
    let python = std::env::var("CQL4_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pty_steps.py");
    let mut outer = Command::new(python);
    outer
        .arg(script)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (name, value) in cmd.get_envs() {
        match value {
            Some(v) => outer.env(name, v),
            None => outer.env_remove(name),
        };
    }
    let steps: Vec<[&str; 2]> = steps.iter().map(|(w, t)| [*w, *t]).collect();
    outer.env(
        "CQL4_PTY_STEPS",
        serde_json::to_string(&steps).expect("test setup"),
    );
    run(&mut outer)
}

#[test]
fn the_prompt_names_the_keyspace_and_paging_waits_for_more() {
    let node = node();
    let ks = keyspace_with_rows(&node, 3);
    let prompt = format!("cql4:{ks}> ");
    let use_ks = format!("USE {ks};\n");
    let out = run_on_terminal(
        &with_password(&node),
        &[
            ("cql4> ", &use_ks),
            (&prompt, "paging 2\n"),
            (&prompt, "SELECT k FROM t;\n"),
            ("---MORE---", "\n"),
            (&prompt, "EXPAND ON\n"),
            (&prompt, "SELECT k FROM t WHERE k = 2;\n"),
            (&prompt, "exit\n"),
        ],
    );
    let shown = stdout(&out).replace('\r', "");
    assert!(
        stderr(&out).contains("exited with status 0") && !stderr(&out).contains("stuck"),
        "{}\n{shown}",
        stderr(&out)
    );
    // cqlsh's greeting comes before the first prompt.
    let greeting = format!(
        "Connected to cql4-test at {}:{}\n[cql4 ",
        node.host, node.port
    );
    let at = shown.find(&greeting).expect("the greeting");
    assert!(
        at < shown.find("cql4> ").expect("a prompt") && shown.contains("Use HELP for help.\n"),
        "{shown}"
    );
    assert!(shown.contains("Page size: 2"), "{shown}");
    // Two pages, each its own table, then the count of all rows.
    let first = shown.find(" k\n---\n").expect("a first page");
    let more = shown.find("---MORE---").expect("the MORE prompt");
    let second = shown[more..].find(" k\n---\n").map(|i| i + more);
    assert!(first < more && second.is_some(), "{shown}");
    assert!(shown.contains("(3 rows)"), "{shown}");
    assert!(shown.contains("@ Row 1\n---+---\n k | 2\n"), "{shown}");
    drop_keyspace(&node, &ks);
}

#[test]
fn with_json_output_messages_and_traces_go_to_stderr() {
    let node = node();
    let out = run(with_password(&node).args([
        "--output",
        "json",
        "-e",
        "CONSISTENCY ONE\nTRACING ON\nSELECT cluster_name FROM system.local;",
    ]));
    assert_success(&out);
    assert_eq!(stdout(&out), "{\"cluster_name\":\"cql4-test\"}\n");
    let err = stderr(&out);
    assert!(
        err.starts_with("Consistency level set to ONE.\nTRACING set to ON\n\nTracing session: "),
        "{err}"
    );
    assert!(err.contains(" Request complete | "), "{err}");
}

#[test]
fn ctrl_c_drops_the_statement_being_typed_and_ends_the_session_at_an_empty_prompt() {
    let node = node();
    let out = run_on_terminal(
        &with_password(&node),
        &[
            ("cql4> ", "SELECT nonsense"),
            ("nonsense", "\u{3}"),
            ("cql4> ", "SELECT cluster_name FROM system.local\n"),
            ("  ... ", "\u{3}"),
            ("cql4> ", "CONSISTENCY\n"),
            ("Current consistency level is LOCAL_ONE.", ""),
            ("cql4> ", "\u{3}"),
        ],
    );
    let shown = stdout(&out).replace('\r', "");
    assert!(
        stderr(&out).contains("killed by signal 2") && !stderr(&out).contains("stuck"),
        "{}\n{shown}",
        stderr(&out)
    );
    // Neither interrupted statement ran.
    assert!(
        !shown.contains("rows)") && !shown.contains("error"),
        "{shown}"
    );
}
