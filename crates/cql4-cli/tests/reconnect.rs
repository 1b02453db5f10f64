//! The CLI's single-host session against the kit's fake server (no node needed): a connection
//! the server drops is replaced for the next statement, in the same keyspace, and a server gone
//! for good fails the statement with one line instead of a hang.
//!
//! Statements go in on stdin one at a time, so the test decides what the server does between
//! them. The fake server runs on a runtime of its own while this thread drives the process.

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cql4_frame::request::Request;
use cql4_frame::types::ColumnType;
use cql4_frame::Opcode;
use cql4_testkit::frames;
use cql4_testkit::server::{FakeServer, Peer};

/// Bounds every wait of the test: far above what each step needs on a loaded machine.
const WAIT: Duration = Duration::from_secs(15);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime for the fake server")
}

/// `cql4 127.0.0.1 PORT --output json …` reading statements from a pipe.
fn spawn_cli(port: u16, extra: &[&str]) -> (Child, ChildStdin) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cql4"))
        .args(["127.0.0.1", &port.to_string(), "--output", "json"])
        .args(extra)
        // Logs would add stderr lines to the one-line failure.
        .env_remove("CQL4_LOG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cql4 binary starts");
    let stdin = child.stdin.take().expect("piped stdin");
    (child, stdin)
}

fn send(stdin: &mut ChildStdin, statement: &str) {
    stdin
        .write_all(format!("{statement}\n").as_bytes())
        .expect("write a statement to cql4");
    stdin.flush().expect("flush cql4's stdin");
}

/// Closes stdin and waits for the process, at most [`WAIT`].
fn finish(mut child: Child, stdin: ChildStdin) -> Output {
    drop(stdin);
    let start = Instant::now();
    while child.try_wait().expect("cql4's status").is_none() {
        if start.elapsed() > WAIT {
            let _ = child.kill();
            panic!("cql4 still running {WAIT:?} after its input ended");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("cql4's output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The next request, a QUERY; returns its stream and text.
async fn next_query(peer: &mut Peer) -> (i16, String) {
    let request = peer.expect_request(Opcode::QUERY).await;
    let Request::Query(query) = request.message else {
        unreachable!("expect_request checked the opcode")
    };
    (request.stream, query.query)
}

/// One row, one int column `n`.
fn one_row(n: i32) -> cql4_frame::response::Response {
    frames::rows(
        &[("n", ColumnType::Int)],
        &[vec![Some(n.to_be_bytes().to_vec())]],
        None,
    )
}

/// Waits until `condition` holds, at most [`WAIT`].
fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < WAIT, "{what} within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn after_the_server_drops_the_connection_the_next_statement_runs_on_a_new_one() {
    let runtime = runtime();
    let server = runtime.block_on(FakeServer::each(|mut peer| async move {
        peer.handshake().await;
        let (stream, cql) = next_query(&mut peer).await;
        let n = if cql.contains("first") { 1 } else { 2 };
        peer.respond(stream, one_row(n)).await;
        if peer.index() == 0 {
            // As a server restarting, or Keyspaces closing a connection.
            peer.close().await;
        } else {
            peer.drain().await;
        }
    }));
    let (child, mut stdin) = spawn_cli(server.port(), &[]);
    send(&mut stdin, "SELECT n FROM first;");
    // The session notices the drop and opens a new connection in the background, while the
    // CLI waits for its next statement.
    wait_until("a second connection", || server.connections() >= 2);
    send(&mut stdin, "SELECT n FROM second;");
    let out = finish(child, stdin);
    assert!(
        out.status.success(),
        "cql4 failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "{\"n\":1}\n{\"n\":2}\n");
    assert_eq!(text(&out.stderr), "");
    let queries: Vec<(usize, String)> = server
        .requests_of(Opcode::QUERY)
        .into_iter()
        .map(|r| match r.frame.message {
            Request::Query(q) => (r.connection, q.query),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        queries,
        [
            (0, "SELECT n FROM first".to_owned()),
            (1, "SELECT n FROM second".to_owned())
        ]
    );
    assert_eq!(server.connections(), 2, "one new connection, not more");
}

#[test]
fn a_keyspace_chosen_by_use_holds_on_the_new_connection() {
    let runtime = runtime();
    let server = runtime.block_on(FakeServer::each(|mut peer| async move {
        peer.handshake().await;
        if peer.index() == 0 {
            let (stream, cql) = next_query(&mut peer).await;
            assert_eq!(cql, "USE Shop");
            // The server's name for it: case kept, as for a quoted identifier.
            peer.respond(stream, frames::set_keyspace("Shop")).await;
            // The CLI makes it the session's keyspace, which the session applies again.
            let (stream, cql) = next_query(&mut peer).await;
            assert_eq!(cql, "USE \"Shop\"");
            peer.respond(stream, frames::set_keyspace("Shop")).await;
            peer.close().await;
            return;
        }
        // The new connection starts in the keyspace before running anything.
        let (stream, cql) = next_query(&mut peer).await;
        assert_eq!(cql, "USE \"Shop\"");
        peer.respond(stream, frames::set_keyspace("Shop")).await;
        let (stream, cql) = next_query(&mut peer).await;
        assert_eq!(cql, "SELECT n FROM t");
        peer.respond(stream, one_row(7)).await;
        peer.drain().await;
    }));
    let (child, mut stdin) = spawn_cli(server.port(), &[]);
    send(&mut stdin, "USE Shop;");
    wait_until("a second connection", || server.connections() >= 2);
    send(&mut stdin, "SELECT n FROM t;");
    let out = finish(child, stdin);
    assert!(
        out.status.success(),
        "cql4 failed ({:?})\nstderr:\n{}",
        out.status,
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "{\"n\":7}\n");
    runtime.block_on(server.finish());
}

#[test]
fn a_server_gone_for_good_fails_the_next_statement_with_one_line() {
    let runtime = runtime();
    let (answered, first_done) = mpsc::channel();
    let server = runtime.block_on(FakeServer::once(|mut peer| async move {
        peer.handshake().await;
        let (stream, _) = next_query(&mut peer).await;
        peer.respond(stream, one_row(1)).await;
        let _ = answered.send(());
        peer.drain().await;
    }));
    let port = server.port();
    let (child, mut stdin) = spawn_cli(port, &["--connect-timeout", "1"]);
    send(&mut stdin, "SELECT n FROM t;");
    first_done.recv_timeout(WAIT).expect("the first statement");
    // Stops listening and closes the connection (the scripts are aborted).
    drop(server);
    // Long enough for the CLI to read the close; the statement after it must then neither
    // hang nor take longer than the connect timeout and a margin.
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    send(&mut stdin, "SELECT n FROM t;");
    let out = finish(child, stdin);
    let elapsed = start.elapsed();
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "{\"n\":1}\n");
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one stderr line expected:\n{stderr}");
    let expected = format!(
        "cql4: error: statement 2 (line 2): lost the connection to 127.0.0.1:{port} and could \
         not open a new one within 1 s (--connect-timeout); last attempt: "
    );
    assert!(lines[0].starts_with(&expected), "{}", lines[0]);
    assert!(lines[0].to_lowercase().contains("refused"), "{}", lines[0]);
    assert!(
        elapsed < Duration::from_secs(4),
        "the statement failed after {elapsed:?}"
    );
}
