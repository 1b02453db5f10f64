//! End-to-end tests of the `cql4` binary against the real local node (`cargo xtask test` starts it
//! and exports the `CQL4_TEST_*` variables read here).
//!
//! Nothing here is skipped: without the variables every node test fails and says how to run it.
//! A few tests need no node and read no variable; the silent server one uses the kit's fake
//! server.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cql4_testkit::server::FakeServer;
use serde_json::Value;

/// The local test node, as strings for the command line.
struct Node {
    host: String,
    port: String,
    ca: String,
    server_name: String,
    user: String,
    password: String,
    aws_access_key_id: String,
    aws_secret_access_key: String,
    aws_session_token: Option<String>,
    aws_region: String,
}

/// The node as the CLI's flags take it, from the kit's reading of the `CQL4_TEST_*` variables
/// (a missing one fails the test and says how to run it).
fn node() -> Node {
    let n = cql4_testkit::node::node();
    Node {
        host: n.host,
        port: n.port.to_string(),
        ca: n.ca,
        server_name: n.server_name,
        user: n.user,
        password: n.password,
        aws_access_key_id: n.access_key_id,
        aws_secret_access_key: n.secret_access_key,
        aws_session_token: Some(n.session_token).filter(|t| !t.is_empty()),
        aws_region: n.region,
    }
}

/// Variables that would change what the child does: cleared so each test sets what it means.
const CLEARED_ENV: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "SSL_CERTFILE",
    "RUST_LOG",
    "CQL4_LOG",
];

fn cql4() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cql4"));
    for name in CLEARED_ENV {
        cmd.env_remove(name);
    }
    // Keep the AWS chain away from the instance metadata service and the user's files.
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    cmd.env("HOME", scratch_dir());
    cmd.stdin(Stdio::null());
    cmd
}

impl Node {
    /// HOST PORT and the TLS flags.
    fn tls_args(&self) -> Vec<String> {
        vec![
            self.host.clone(),
            self.port.clone(),
            "--ssl-ca".into(),
            self.ca.clone(),
            "--ssl-server-name".into(),
            self.server_name.clone(),
        ]
    }

    /// A command logged in with the test user's password.
    fn with_password(&self) -> Command {
        let mut cmd = cql4();
        cmd.args(self.tls_args())
            .args(["-u", &self.user, "-p", &self.password]);
        cmd
    }

    /// A command logged in with SigV4, credentials in the child's AWS_* variables.
    fn with_sigv4(&self) -> Command {
        let mut cmd = cql4();
        cmd.args(self.tls_args())
            .arg("--sigv4")
            .env("AWS_ACCESS_KEY_ID", &self.aws_access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &self.aws_secret_access_key);
        if let Some(token) = &self.aws_session_token {
            cmd.env("AWS_SESSION_TOKEN", token);
        }
        cmd
    }
}

fn run(cmd: &mut Command) -> Output {
    let start = Instant::now();
    let out = cmd.output().expect("the cql4 binary runs");
    // Every run here must end well within the request timeout; a hang is a bug.
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "cql4 took {:?}",
        start.elapsed()
    );
    out
}

fn run_with_stdin(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cql4 binary starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("cql4 ends")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

#[track_caller]
fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "cql4 failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// Asserts a failure reported as exactly one `cql4: error: …` line; returns that line.
#[track_caller]
fn assert_one_line_failure(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "cql4 should have failed\nstdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got:\n{err}");
    assert!(lines[0].starts_with("cql4: error: "), "{err}");
    lines[0].to_owned()
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cql4-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn write_file(name: &str, contents: &str) -> PathBuf {
    let path = scratch_dir().join(name);
    std::fs::write(&path, contents).expect("write test file");
    path
}

/// A cqlsh-style table split into header cells and rows of trimmed cells, checked for shape:
/// header, separator, rows, blank line, `(N rows)` with N the number of rows.
fn parse_table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    // cqlsh's blank line before a result.
    let text = text
        .strip_prefix('\n')
        .unwrap_or_else(|| panic!("no blank line before the table:\n{text}"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 4, "too short for a table:\n{text}");
    let cells =
        |line: &str| -> Vec<String> { line.split(" | ").map(|c| c.trim().to_owned()).collect() };
    let header = cells(lines[0]);
    let separator = lines[1];
    assert!(
        separator.chars().all(|c| c == '-' || c == '+'),
        "separator line: {separator:?}"
    );
    assert_eq!(
        separator.matches('+').count(),
        header.len() - 1,
        "one '+' between columns:\n{text}"
    );
    let end = lines
        .iter()
        .position(|l| l.is_empty())
        .expect("a blank line before the row count");
    let rows: Vec<Vec<String>> = lines[2..end].iter().map(|l| cells(l)).collect();
    for row in &rows {
        assert_eq!(row.len(), header.len(), "row shape:\n{text}");
    }
    // Every row has the same width (aligned columns): the separator's, less its closing dash.
    let width = lines[1].chars().count() - 1;
    for line in &lines[2..end] {
        assert_eq!(line.chars().count(), width, "aligned:\n{text}");
    }
    assert_eq!(lines[end + 1], format!("({} rows)", rows.len()), "{text}");
    (header, rows)
}

fn json_lines(text: &str) -> Vec<serde_json::Map<String, Value>> {
    text.lines()
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(o)) => o,
            other => panic!("not a JSON object line: {l:?} ({other:?})"),
        })
        .collect()
}

#[test]
fn password_login_lists_keyspaces_as_a_table() {
    let node = node();
    let out = run(node
        .with_password()
        .args(["-e", "select * from system_schema.keyspaces"]));
    assert_success(&out);
    let (header, rows) = parse_table(&stdout(&out));
    assert_eq!(header, ["keyspace_name", "durable_writes", "replication"]);
    let system = rows
        .iter()
        .find(|r| r[0] == "system")
        .unwrap_or_else(|| panic!("no `system` row in {rows:?}"));
    assert_eq!(system[1], "True");
    assert!(system[2].contains("LocalStrategy"), "{system:?}");
    assert!(rows.iter().any(|r| r[0] == "system_schema"));
}

#[test]
fn password_login_lists_keyspaces_as_json() {
    let node = node();
    let out = run(node.with_password().args([
        "--output",
        "json",
        "-e",
        "select * from system_schema.keyspaces",
    ]));
    assert_success(&out);
    let rows = json_lines(&stdout(&out));
    let system = rows
        .iter()
        .find(|r| r["keyspace_name"] == "system")
        .unwrap_or_else(|| panic!("no `system` row in {rows:?}"));
    assert_eq!(system["durable_writes"], Value::Bool(true));
    assert_eq!(
        system["replication"]["class"],
        "org.apache.cassandra.locator.LocalStrategy"
    );
    let keys: Vec<&String> = system.keys().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
}

#[test]
fn every_page_is_fetched() {
    let node = node();
    let count = |page_size: &str| {
        let out = run(node.with_password().args([
            "--output",
            "json",
            "--page-size",
            page_size,
            "-e",
            "select keyspace_name, table_name, column_name from system_schema.columns",
        ]));
        assert_success(&out);
        json_lines(&stdout(&out)).len()
    };
    let all = count("5000");
    assert!(
        all > 50,
        "system_schema.columns has more than 50 rows, got {all}"
    );
    assert_eq!(count("7"), all);
}

#[test]
fn sigv4_login_with_region_flag_and_region_chain() {
    let node = node();
    let out = run(node.with_sigv4().args([
        "--region",
        &node.aws_region,
        "--output",
        "json",
        "-e",
        "select keyspace_name from system_schema.keyspaces",
    ]));
    assert_success(&out);
    assert!(json_lines(&stdout(&out))
        .iter()
        .any(|r| r["keyspace_name"] == "system"));

    // Without --region the region chain reads AWS_REGION.
    let out = run(node.with_sigv4().env("AWS_REGION", &node.aws_region).args([
        "-e",
        "select keyspace_name from system_schema.keyspaces where keyspace_name = 'system'",
    ]));
    assert_success(&out);
    let (_, rows) = parse_table(&stdout(&out));
    assert_eq!(rows, [["system"]]);
}

#[test]
fn sigv4_with_a_wrong_secret_is_refused() {
    let node = node();
    let out = run(node
        .with_sigv4()
        .env("AWS_SECRET_ACCESS_KEY", "not-the-secret-0123456789")
        .args([
            "--region",
            &node.aws_region,
            "-e",
            "select * from system.local",
        ]));
    let line = assert_one_line_failure(&out);
    assert!(line.to_lowercase().contains("auth"), "{line}");
    assert!(!line.contains("not-the-secret"), "{line}");
}

#[test]
fn sigv4_without_credentials_says_so() {
    let node = node();
    let out = run(cql4().args(node.tls_args()).args([
        "--sigv4",
        "--region",
        &node.aws_region,
        "-e",
        "select * from system.local",
    ]));
    let line = assert_one_line_failure(&out);
    assert!(line.to_lowercase().contains("credential"), "{line}");
}

/// Runs `cmd` on a pseudo-terminal (tests/pty_run.py), typing `answer` at the password
/// prompt (then Enter; an `answer` ending in `<ctrl-c>` types Ctrl-C instead of Enter). Returns
/// what the terminal showed (stdout and stderr of the program, and any echo) as stdout, and
/// pty_run.py's report (see [`terminal_end`]) as stderr.
fn run_on_terminal(cmd: &Command, answer: &str) -> Output {
    run_on_terminal_with(cmd, answer, None)
}

/// [`run_on_terminal`], and with `ctrl_c_at`, types Ctrl-C once the terminal shows that text
/// after the answer.
fn run_on_terminal_with(cmd: &Command, answer: &str, ctrl_c_at: Option<&str>) -> Output {
    let python = std::env::var("CQL4_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pty_run.py");
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
    outer.env("CQL4_PTY_ANSWER", answer);
    match ctrl_c_at {
        Some(text) => outer.env("CQL4_PTY_CTRL_C_AT", text),
        None => outer.env_remove("CQL4_PTY_CTRL_C_AT"),
    };
    run(&mut outer)
}

/// How the program run by [`run_on_terminal`] ended, as pty_run.py reports it on stderr:
/// `exited with status N` or `killed by signal N (SIGNAME)` (its own exit status is 128+N
/// then, which alone could not be told from a real exit status 128+N).
#[track_caller]
fn terminal_end(out: &Output) -> String {
    let report = stderr(out);
    report
        .lines()
        .find_map(|l| {
            l.strip_prefix("pty_run.py: ")
                .filter(|rest| rest.starts_with("exited ") || rest.starts_with("killed "))
        })
        .unwrap_or_else(|| panic!("no exit report from pty_run.py:\n{report}"))
        .to_owned()
}

/// The terminal's local modes when the program had ended, as pty_run.py reports them, e.g.
/// `ECHO=1 ICANON=1 ISIG=1` (as the terminal was before the program ran).
#[track_caller]
fn terminal_modes_at_the_end(out: &Output) -> String {
    let report = stderr(out);
    report
        .lines()
        .find_map(|l| l.strip_prefix("pty_run.py: terminal at the end: "))
        .unwrap_or_else(|| panic!("no terminal report from pty_run.py:\n{report}"))
        .to_owned()
}

/// The lines the terminal showed, without the `\r` of the terminal's line ends.
fn shown_lines(shown: &str) -> Vec<&str> {
    shown.lines().map(|l| l.trim_end_matches('\r')).collect()
}

#[test]
fn username_alone_asks_for_the_password_on_the_terminal_without_echo() {
    let node = node();
    let mut cmd = cql4();
    cmd.args(node.tls_args()).args([
        "-u",
        &node.user,
        "--output",
        "json",
        "-e",
        "select keyspace_name from system_schema.keyspaces",
    ]);
    let out = run_on_terminal(&cmd, &node.password);
    let shown = stdout(&out);
    assert_success(&out);
    assert!(shown.starts_with("Password: "), "{shown}");
    assert!(
        shown.contains(r#"{"keyspace_name":"system_schema"}"#),
        "{shown}"
    );
    assert!(
        !shown.contains(&node.password),
        "the password was echoed:\n{shown}"
    );

    // A wrong password typed at the prompt is refused like a wrong -p.
    let out = run_on_terminal(&cmd, "wrong-password-93b1");
    let shown = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("cql4: error: authentication"), "{shown}");
    assert!(!shown.contains("wrong-password-93b1"), "{shown}");
}

#[test]
fn ctrl_c_at_the_password_prompt_restores_the_terminal_and_exits_130() {
    // Nothing is contacted: the prompt comes before connecting and Ctrl-C ends the run there.
    let mut cmd = cql4();
    cmd.args(["-u", "alice", "127.0.0.1", "9", "-e", "select 1"]);
    // Part of a password typed, then Ctrl-C instead of Enter.
    let out = run_on_terminal(&cmd, "half-typed-pw-5e2a<ctrl-c>");
    let shown = stdout(&out);
    assert_eq!(
        terminal_end(&out),
        "exited with status 130",
        "not a clean exit 130 (death by SIGINT leaves the terminal raw):\n{shown}\n{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(
        terminal_modes_at_the_end(&out),
        "ECHO=1 ICANON=1 ISIG=1",
        "the terminal was not restored:\n{shown}"
    );
    assert!(
        !shown.contains("half-typed-pw-5e2a"),
        "the password was shown:\n{shown}"
    );
    // The prompt (its line ended by the ^C), then one error line, and nothing else.
    let lines = shown_lines(&shown);
    assert_eq!(lines.len(), 2, "{shown:?}");
    assert_eq!(lines[0].trim_end(), "Password:", "{shown:?}");
    assert!(
        lines[1].starts_with("cql4: error: ") && lines[1].contains("interrupted"),
        "{shown:?}"
    );
}

#[test]
fn ctrl_c_after_the_password_prompt_still_kills_the_program() {
    // Only the prompt catches Ctrl-C; later (here at the interactive `cql4> ` prompt, after
    // logging in with the typed password) SIGINT has its default action, as before.
    let node = node();
    let mut cmd = cql4();
    cmd.args(node.tls_args()).args(["-u", &node.user]);
    let out = run_on_terminal_with(&cmd, &node.password, Some("cql4> "));
    let shown = stdout(&out);
    assert!(!shown.contains(&node.password), "the password was echoed");
    assert!(shown.contains("cql4> "), "no statement prompt:\n{shown}");
    assert_eq!(
        terminal_end(&out),
        "killed by signal 2 (SIGINT)",
        "{shown}\n{}",
        stderr(&out)
    );
    assert!(!shown.contains("cql4: error"), "{shown}");
}

#[test]
fn missing_file_is_reported_before_the_password_prompt() {
    // On a terminal, so a prompt would be shown (and answered) if one came first.
    let mut cmd = cql4();
    cmd.args(["-u", "alice", "127.0.0.1", "9"])
        .args(["-f", "/no/such/dir/statements.cql"]);
    let out = run_on_terminal(&cmd, "typed-pw-0b7e");
    let shown = stdout(&out);
    assert_eq!(terminal_end(&out), "exited with status 1", "{shown}");
    assert!(!shown.contains("Password"), "prompted first:\n{shown}");
    let lines = shown_lines(&shown);
    assert_eq!(lines.len(), 1, "{shown:?}");
    assert!(
        lines[0].starts_with("cql4: error: cannot read /no/such/dir/statements.cql: "),
        "{shown:?}"
    );
}

#[test]
fn username_alone_without_a_terminal_is_a_usage_error() {
    // setsid: no controlling terminal, so there is nobody to ask (as under cron or CI).
    let cql4 = cql4();
    let mut cmd = Command::new("setsid");
    cmd.arg("-w")
        .arg(cql4.get_program())
        .args(["-u", "alice", "127.0.0.1", "9", "-e", "select 1"])
        .stdin(Stdio::null());
    // The same environment as cql4() gives (CLEARED_ENV removed, HOME, AWS_EC2_METADATA_DISABLED).
    for (name, value) in cql4.get_envs() {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    let out = run(&mut cmd);
    let line = assert_one_line_failure(&out);
    assert_eq!(out.status.code(), Some(2), "{line}");
    assert!(
        line.contains("-p/--password") && line.contains("terminal"),
        "{line}"
    );
}

#[test]
fn wrong_password_fails_with_one_line_and_no_secret() {
    let node = node();
    let out = run(cql4().args(node.tls_args()).args([
        "-u",
        &node.user,
        "-p",
        "wrong-password-7f3a",
        "-e",
        "select * from system.local",
    ]));
    let line = assert_one_line_failure(&out);
    assert!(line.contains("authentication"), "{line}");
    assert!(!line.contains("wrong-password-7f3a"), "{line}");
}

#[test]
fn password_is_not_logged_even_at_trace_level() {
    let node = node();
    for password in [node.password.as_str(), "wrong-password-4c1d"] {
        let out = run(cql4()
            .args(node.tls_args())
            .args(["-u", &node.user, "-p", password])
            .args(["-e", "select release_version from system.local"])
            .env("RUST_LOG", "trace")
            .env("CQL4_LOG", "trace"));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.contains(password), "password printed:\n{all}");
    }
}

#[test]
fn unknown_ca_is_a_certificate_error() {
    let node = node();
    let ca = rcgen::generate_simple_self_signed(vec!["not-the-node".to_owned()])
        .expect("generate a certificate");
    let path = write_file(&format!("{}.pem", unique("ca")), &ca.cert.pem());
    let out = run(cql4().args([
        &node.host,
        &node.port,
        "--ssl-ca",
        path.to_str().expect("UTF-8 path"),
        "--ssl-server-name",
        &node.server_name,
        "-u",
        &node.user,
        "-p",
        &node.password,
        "-e",
        "select * from system.local",
    ]));
    let line = assert_one_line_failure(&out);
    assert!(line.to_lowercase().contains("certificate"), "{line}");
}

#[test]
fn ssl_certfile_env_is_the_ca_with_ssl() {
    let node = node();
    let out = run(cql4()
        .args([&node.host, &node.port, "--ssl"])
        .args(["--ssl-server-name", &node.server_name])
        .args(["-u", &node.user, "-p", &node.password])
        .args(["-e", "select release_version from system.local"])
        .env("SSL_CERTFILE", &node.ca));
    assert_success(&out);
    let (header, rows) = parse_table(&stdout(&out));
    assert_eq!(header, ["release_version"]);
    assert!(rows[0][0].starts_with('5'), "{rows:?}");
}

/// The statements of the every-type test, with `{ks}` for the keyspace.
const EVERY_TYPE_CQL: &str = r#"
-- A keyspace of its own, dropped at the end.
CREATE KEYSPACE {ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};
CREATE TYPE {ks}.address (street text, zip int, tags set<text>);
CREATE TABLE {ks}.every (
    id int PRIMARY KEY,
    v_ascii ascii, v_bigint bigint, v_blob blob, v_boolean boolean, v_date date,
    v_decimal decimal, v_double double, v_duration duration, v_float float, v_inet inet,
    v_smallint smallint, v_text text, v_time time, v_timestamp timestamp,
    v_timeuuid timeuuid, v_tinyint tinyint, v_uuid uuid, v_varint varint,
    v_list list<int>, v_set set<text>, v_map map<text, int>, v_imap map<int, text>,
    v_tuple tuple<int, text, boolean>, v_udt frozen<address>,
    v_nested map<text, frozen<list<frozen<set<int>>>>>
);
INSERT INTO {ks}.every (id, v_ascii, v_bigint, v_blob, v_boolean, v_date, v_decimal, v_double,
    v_duration, v_float, v_inet, v_smallint, v_text, v_time, v_timestamp, v_timeuuid, v_tinyint,
    v_uuid, v_varint, v_list, v_set, v_map, v_imap, v_tuple, v_udt, v_nested)
VALUES (1, 'abc', -9223372036854775808, 0xcafe00ff, true, '2024-02-29',
    12345678901234567890.123456789012345, 0.1, 1y2mo3w4d5h6m7s8ms9us10ns, 1.5, '192.168.1.10',
    -32768, 'héllo "quoted" \ semi; -- not a comment', '13:45:30.123456789',
    '2024-02-29 13:45:30.123+0000', e7d36b00-5c3c-11ee-8c99-0242ac120002, 127,
    550e8400-e29b-41d4-a716-446655440000, 123456789012345678901234567890,
    [3, 1, 2], {'y', 'x'}, {'b': 2, 'a': 1}, {2: 'two', 1: 'one'}, (7, 'seven', false),
    {street: 'Main St', zip: 12345, tags: {'b', 'a'}}, {'k': [{2, 1}, {3}]});
/* Special floats, negative varint and decimal, empty blob and text, null fields. */
INSERT INTO {ks}.every (id, v_double, v_float, v_varint, v_decimal, v_blob, v_text, v_inet,
    v_tuple, v_udt, v_bigint, v_date, v_timestamp)
VALUES (2, NaN, -Infinity, -98765432109876543210987654321, -0.001, 0x, '', '2001:db8::1',
    (1, null, null), {street: 'x'}, 42, '1970-01-01', '1969-12-31 23:59:59.999+0000');
INSERT INTO {ks}.every (id) VALUES (3);
SELECT * FROM {ks}.every WHERE id = 1;
SELECT * FROM {ks}.every WHERE id = 2;
SELECT * FROM {ks}.every WHERE id = 3;
DROP KEYSPACE {ks}
"#;

#[test]
fn file_with_every_type_prints_exact_json() {
    let node = node();
    let ks = unique("cql4_cli_types");
    let path = write_file(&format!("{ks}.cql"), &EVERY_TYPE_CQL.replace("{ks}", &ks));
    let out = run(node.with_password().args([
        "--output",
        "json",
        "--request-timeout",
        "30",
        "-f",
        path.to_str().expect("UTF-8 path"),
    ]));
    assert_success(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "three selects of one row each:\n{text}");

    // Exact numbers are checked in the raw text: a JSON parser into f64 would round them.
    for exact in [
        r#""v_varint":123456789012345678901234567890"#,
        r#""v_decimal":12345678901234567890.123456789012345"#,
        r#""v_bigint":-9223372036854775808"#,
        r#""v_double":0.1"#,
        r#""v_float":1.5"#,
    ] {
        assert!(lines[0].contains(exact), "{exact} not in {}", lines[0]);
    }
    for exact in [
        r#""v_varint":-98765432109876543210987654321"#,
        r#""v_decimal":-0.001"#,
    ] {
        assert!(lines[1].contains(exact), "{exact} not in {}", lines[1]);
    }

    let rows = json_lines(&text);
    let expected_1 = serde_json::json!({
        "id": 1,
        "v_ascii": "abc",
        "v_blob": "0xcafe00ff",
        "v_boolean": true,
        "v_date": "2024-02-29",
        "v_duration": "1y2mo25d5h6m7s8ms9us10ns",
        "v_imap": {"1": "one", "2": "two"},
        "v_inet": "192.168.1.10",
        "v_list": [3, 1, 2],
        "v_map": {"a": 1, "b": 2},
        "v_nested": {"k": [[1, 2], [3]]},
        "v_set": ["x", "y"],
        "v_smallint": -32768,
        "v_text": "héllo \"quoted\" \\ semi; -- not a comment",
        "v_time": "13:45:30.123456789",
        "v_timestamp": "2024-02-29T13:45:30.123Z",
        "v_timeuuid": "e7d36b00-5c3c-11ee-8c99-0242ac120002",
        "v_tinyint": 127,
        "v_tuple": [7, "seven", false],
        "v_udt": {"street": "Main St", "zip": 12345, "tags": ["a", "b"]},
        "v_uuid": "550e8400-e29b-41d4-a716-446655440000",
    });
    for (key, want) in expected_1.as_object().expect("object") {
        assert_eq!(&rows[0][key], want, "row 1 column {key}");
    }
    // Every column of the table is present, in the server's order.
    let keys: Vec<&str> = rows[0].keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 26, "{keys:?}");
    assert_eq!(keys[0], "id");

    let expected_2 = serde_json::json!({
        "id": 2,
        "v_double": "NaN",
        "v_float": "-Infinity",
        "v_blob": "0x",
        "v_text": "",
        "v_inet": "2001:db8::1",
        "v_tuple": [1, null, null],
        "v_udt": {"street": "x", "zip": null, "tags": null},
        "v_bigint": 42,
        "v_date": "1970-01-01",
        "v_timestamp": "1969-12-31T23:59:59.999Z",
        "v_list": null,
        "v_uuid": null,
    });
    for (key, want) in expected_2.as_object().expect("object") {
        assert_eq!(&rows[1][key], want, "row 2 column {key}");
    }

    assert_eq!(rows[2]["id"], 3);
    for (key, value) in &rows[2] {
        if key != "id" {
            assert_eq!(value, &Value::Null, "row 3 column {key}");
        }
    }
}

#[test]
fn table_output_formats_values_like_cqlsh() {
    let node = node();
    let ks = unique("cql4_cli_table");
    let cql = format!(
        "CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}};
         CREATE TABLE {ks}.t (id int PRIMARY KEY, b blob, flag boolean, m map<text, int>, s text);
         INSERT INTO {ks}.t (id, b, flag, m, s) VALUES (1, 0x0aff, false, {{'k': 5}}, 'x');
         INSERT INTO {ks}.t (id) VALUES (2);
         SELECT id, b, flag, m, s FROM {ks}.t WHERE id IN (1, 2);
         DROP KEYSPACE {ks};"
    );
    let out = run(node
        .with_password()
        .args(["--request-timeout", "30", "-e", &cql]));
    assert_success(&out);
    let (header, rows) = parse_table(&stdout(&out));
    assert_eq!(header, ["id", "b", "flag", "m", "s"]);
    let row = |id: &str| rows.iter().find(|r| r[0] == id).expect("row by id").clone();
    assert_eq!(row("1"), ["1", "0x0aff", "False", "{'k': 5}", "x"]);
    assert_eq!(row("2"), ["2", "null", "null", "null", "null"]);
}

#[test]
fn failing_statement_in_a_file_stops_and_names_the_statement() {
    let node = node();
    let path = write_file(
        &format!("{}.cql", unique("failing")),
        "select keyspace_name from system_schema.keyspaces where keyspace_name = 'system';\n\
         \n\
         -- the next one fails\n\
         select * from no_such_keyspace_cql4.no_such_table;\n\
         select release_version from system.local;\n",
    );
    let out = run(node.with_password().args([
        "--output",
        "json",
        "-f",
        path.to_str().expect("UTF-8 path"),
    ]));
    let line = assert_one_line_failure(&out);
    assert!(line.contains("statement 2 (line 4)"), "{line}");
    assert!(line.contains("no_such_keyspace_cql4"), "{line}");
    assert!(
        line.contains("INVALID (0x2200)"),
        "the server's error code name: {line}"
    );
    // The first statement ran, the third did not.
    assert_eq!(stdout(&out), "{\"keyspace_name\":\"system\"}\n");
}

#[test]
fn statements_from_stdin() {
    let node = node();
    let out = run_with_stdin(
        node.with_password().args(["--output", "json"]),
        "select keyspace_name from system_schema.keyspaces\n  where keyspace_name = 'system';\n\
         select keyspace_name from system_schema.keyspaces where keyspace_name = 'system_schema'",
    );
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        "{\"keyspace_name\":\"system\"}\n{\"keyspace_name\":\"system_schema\"}\n"
    );
}

#[test]
fn failing_statement_on_stdin_stops() {
    let node = node();
    let out = run_with_stdin(
        node.with_password().args(["--output", "json"]),
        "select keyspace_name from system_schema.keyspaces where keyspace_name = 'system';\n\
         selec oops;\n\
         select keyspace_name from system_schema.keyspaces where keyspace_name = 'system';\n",
    );
    let line = assert_one_line_failure(&out);
    assert!(line.contains("statement 2 (line 2)"), "{line}");
    assert!(line.contains("SYNTAX_ERROR (0x2000)"), "{line}");
    assert_eq!(stdout(&out), "{\"keyspace_name\":\"system\"}\n");
}

#[test]
fn keyspace_flag_and_consistency() {
    let node = node();
    let out = run(node.with_password().args([
        "-k",
        "system_schema",
        "--consistency",
        "local_quorum",
        "--output",
        "json",
        "-e",
        "select keyspace_name from keyspaces where keyspace_name = 'system'",
    ]));
    assert_success(&out);
    assert_eq!(stdout(&out), "{\"keyspace_name\":\"system\"}\n");
}

#[test]
fn server_warnings_go_to_stderr() {
    let node = node();
    let out = run(node.with_password().args([
        "--output",
        "json",
        "-e",
        "select count(*) from system_schema.keyspaces",
    ]));
    assert_success(&out);
    let rows = json_lines(&stdout(&out));
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["count"].as_i64().expect("a count") > 3);
    let err = stderr(&out);
    assert!(
        err.contains("Aggregation query used without partition key"),
        "{err}"
    );
}

#[test]
fn non_row_results_print_nothing_on_stdout() {
    let node = node();
    let ks = unique("cql4_cli_void");
    let cql = format!(
        "CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}};
         USE {ks};
         CREATE TABLE t (id int PRIMARY KEY);
         INSERT INTO t (id) VALUES (1);
         DROP KEYSPACE {ks};"
    );
    for output in ["json", "table"] {
        let out = run(node.with_password().args([
            "--request-timeout",
            "30",
            "--output",
            output,
            "-e",
            &cql.replace(&ks, &format!("{ks}_{output}")),
        ]));
        assert_success(&out);
        assert_eq!(stdout(&out), "", "{output}");
        let err = stderr(&out);
        if output == "table" {
            // A short note per non-row result, as cqlsh reports them.
            assert!(
                err.contains(&format!("(keyspace {ks}_table created)")),
                "{err}"
            );
            assert!(
                err.contains(&format!("(using keyspace {ks}_table)")),
                "{err}"
            );
        } else {
            assert_eq!(err, "", "json mode keeps stderr for errors and warnings");
        }
    }
}

#[test]
fn bad_flags_are_one_line_usage_errors() {
    for args in [
        &["--sigv4", "-u", "a", "-p", "b"][..],
        &["-e", "select 1", "-f", "x.cql"],
        &["--consistency", "sometimes"],
        &["--output", "xml"],
        &["--no-such-flag"],
        &["--page-size", "0"],
        &["--connect-timeout", "soon"],
    ] {
        let out = run(cql4().args(args));
        let line = assert_one_line_failure(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {line}");
    }
}

#[test]
fn missing_file_is_reported() {
    let out = run(cql4().args(["-f", "/no/such/dir/statements.cql"]));
    let line = assert_one_line_failure(&out);
    assert!(line.contains("/no/such/dir/statements.cql"), "{line}");
}

#[test]
fn connection_refused_is_reported() {
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let out = run(cql4().args([
        "127.0.0.1",
        &port.to_string(),
        "-e",
        "select * from system.local",
    ]));
    let line = assert_one_line_failure(&out);
    assert!(line.to_lowercase().contains("refused"), "{line}");
}

#[test]
fn silent_server_times_out() {
    // The kit's fake server accepts the connection and never answers: the handshake must time
    // out, not hang. Its tasks run on the runtime's worker while this thread waits for cql4.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime for the fake server");
    let (drained, client_gone) = std::sync::mpsc::channel();
    let server = runtime.block_on(FakeServer::once(|mut peer| async move {
        let closed = peer.drain().await;
        let _ = drained.send(closed);
    }));
    let start = Instant::now();
    let out = run(cql4().args([
        "127.0.0.1",
        &server.port().to_string(),
        "--connect-timeout",
        "0.5",
        "-e",
        "select * from system.local",
    ]));
    let line = assert_one_line_failure(&out);
    assert!(line.to_lowercase().contains("timed out"), "{line}");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    // The client got as far as OPTIONS, which was never answered. The script records what
    // it reads on the runtime's thread: wait until it saw the client go (the process exited,
    // its socket closed) before reading the record.
    let closed = client_gone
        .recv_timeout(Duration::from_secs(15))
        .expect("the fake server's script ends once cql4 exits");
    assert!(
        closed,
        "the script's drain timed out instead of seeing the client close"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].opcode, cql4_frame::Opcode::OPTIONS);
    drop(server);
}

#[test]
fn missing_tls_or_credentials_hint_at_the_flag() {
    let node = node();
    // Plain TCP to the TLS-only port.
    let out = run(cql4().args([&node.host, &node.port]).args([
        "-u",
        &node.user,
        "-p",
        &node.password,
        "--connect-timeout",
        "5",
        "-e",
        "select * from system.local",
    ]));
    let line = assert_one_line_failure(&out);
    assert!(line.contains("add --ssl"), "{line}");
    // TLS but no credentials for a server that requires them.
    let out = run(cql4()
        .args(node.tls_args())
        .args(["-e", "select * from system.local"]));
    let line = assert_one_line_failure(&out);
    assert!(line.contains("requires authentication"), "{line}");
    assert!(line.contains("-u/-p or --sigv4"), "{line}");
}
