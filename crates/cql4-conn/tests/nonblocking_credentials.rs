//! A slow `credential_process` must not stall the runtime thread: on a current-thread runtime,
//! a connected `Client` keeps getting answers while a second connection's SigV4 handshake waits
//! for the process (resolved through `http::default_chain()`, the files read from disk).
//!
//! The fake server runs on the same thread, so a blocked thread would stall both ends. The
//! control test swaps in a process runner that blocks (as the old `std::process` code did) and
//! shows the same measurement catches the stall.
#![cfg(unix)]

use std::error::Error as StdError;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cql4_auth::{
    BoxFuture, MapEnv, ProcessOutput, ProcessRequest, ProcessRunner, SigV4AuthProvider,
};
use cql4_conn::{Client, QueryOptions};
use cql4_frame::request::Request;
use cql4_frame::Opcode;
use cql4_testkit::frames;
use cql4_testkit::server::{FakeServer, Peer};

/// How long the credential process sleeps before printing its credentials. Long enough that
/// the bounds below stay far apart on a loaded 2-core machine: the runtime may stall for up to
/// [`MAX_GAP`], the control must stall for nearly all of this.
const PROCESS_SLEEP: Duration = Duration::from_secs(3);

/// The longest time connection A may go without an answer while the process runs.
const MAX_GAP: Duration = Duration::from_millis(1500);

/// A node without authentication that answers every QUERY with a Void result.
async fn serve_queries(mut peer: Peer) {
    peer.handshake().await;
    while let Some(frame) = peer.request().await {
        assert!(matches!(frame.message, Request::Query(_)), "{frame:?}");
        peer.respond(frame.stream, frames::void()).await;
    }
}

/// When the SigV4 node sent AUTHENTICATE and when the client's first AUTH_RESPONSE arrived:
/// in between, the client was resolving credentials.
struct AuthWindow {
    authenticate_sent: Instant,
    first_response: Instant,
}

/// A SigV4 node (as Amazon Keyspaces speaks it) that accepts any signature.
async fn serve_sigv4(mut peer: Peer) -> AuthWindow {
    let options = peer.expect(Opcode::OPTIONS).await;
    peer.respond(options, frames::supported(&[])).await;
    let startup = peer.expect(Opcode::STARTUP).await;
    peer.respond(
        startup,
        frames::authenticate("com.amazonaws.cassandra.auth.SigV4"),
    )
    .await;
    let authenticate_sent = Instant::now();
    let initial = peer.expect_request(Opcode::AUTH_RESPONSE).await;
    let first_response = Instant::now();
    let Request::AuthResponse(token) = &initial.message else {
        unreachable!("expect_request checked the opcode")
    };
    assert_eq!(token.token.as_deref(), Some(&b"SigV4\0\0"[..]));
    let nonce = "0123456789abcdef0123456789abcdef";
    peer.respond(
        initial.stream,
        frames::auth_challenge(Some(format!("nonce={nonce}").as_bytes())),
    )
    .await;
    let signed = peer.expect_request(Opcode::AUTH_RESPONSE).await;
    let Request::AuthResponse(token) = &signed.message else {
        unreachable!("expect_request checked the opcode")
    };
    let token = String::from_utf8_lossy(token.token.as_deref().unwrap_or_default()).into_owned();
    // The signature was made with the credentials the process printed.
    assert!(token.contains("access_key=AKIDSLOWPROCESS,"), "{token}");
    peer.respond(signed.stream, frames::auth_success(None))
        .await;
    AuthWindow {
        authenticate_sent,
        first_response,
    }
}

/// A temporary directory with a shared config file whose default profile runs a script that
/// sleeps [`PROCESS_SLEEP`], then prints credentials.
///
/// The script is run as `sh <path>`, not executed itself: executing a file just written fails
/// with ETXTBSY ("Text file busy") when another test in this binary forks while the file is
/// still open for writing (the child inherits the descriptor until it execs).
struct Profile {
    dir: PathBuf,
}

impl Profile {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("cql4-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let script = dir.join("slow-credentials.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nsleep {}\nprintf '%s' '{{\"Version\": 1, \"AccessKeyId\": \
                 \"AKIDSLOWPROCESS\", \"SecretAccessKey\": \"slow-secret\"}}'\n",
                PROCESS_SLEEP.as_secs()
            ),
        )
        .expect("script");
        std::fs::write(
            dir.join("config"),
            format!("[default]\ncredential_process = sh {}\n", script.display()),
        )
        .expect("config");
        Self { dir }
    }

    /// Variables that point the chain at this directory's files only.
    fn env(&self) -> MapEnv {
        MapEnv::new()
            .with_home(&self.dir)
            .with_var(
                "AWS_CONFIG_FILE",
                &self.dir.join("config").display().to_string(),
            )
            .with_var("AWS_EC2_METADATA_DISABLED", "true")
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the connected client saw while the second connection resolved its credentials.
struct Measured {
    /// Requests answered inside the credentials window.
    answered_in_window: usize,
    /// The longest time without an answer inside the window.
    longest_gap: Duration,
    window: Duration,
}

/// Connects client A, then connects B with SigV4 credentials from `chain` while A sends
/// requests one after another; returns what A saw during B's credentials window.
async fn measure(chain: cql4_auth::DefaultChain) -> Measured {
    let plain = FakeServer::start().await;
    let sigv4 = FakeServer::builder()
        .timeout(Duration::from_secs(30))
        .start()
        .await;
    let config_a = plain.config();
    let mut config_b = sigv4.config();
    config_b.connect_timeout = Duration::from_secs(30);
    config_b.auth = Some(Arc::new(SigV4AuthProvider::new(
        Arc::new(chain.build()),
        "us-east-1",
    )));

    let a = tokio::spawn(async move { Client::connect(&config_a).await });
    tokio::spawn(serve_queries(plain.accept().await));
    let a = a.await.expect("join A").expect("connect A");
    let b = tokio::spawn(async move { Client::connect(&config_b).await });
    let server_b = tokio::spawn(serve_sigv4(sigv4.accept().await));

    let options = QueryOptions::new().with_timeout(Duration::from_secs(30));
    let mut answered = Vec::new();
    while !b.is_finished() {
        a.query("SELECT release_version FROM system.local", (), &options)
            .await
            .expect("A's request");
        answered.push(Instant::now());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The server first: if it failed an assertion, B only saw the connection close.
    let window = server_b.await.expect("server B");
    b.await.expect("join B").expect("connect B");

    let inside: Vec<Instant> = answered
        .into_iter()
        .filter(|t| (window.authenticate_sent..=window.first_response).contains(t))
        .collect();
    let mut marks = vec![window.authenticate_sent];
    marks.extend(&inside);
    marks.push(window.first_response);
    let longest_gap = marks
        .windows(2)
        .map(|w| w[1].duration_since(w[0]))
        .max()
        .unwrap_or_default();
    Measured {
        answered_in_window: inside.len(),
        longest_gap,
        window: window
            .first_response
            .duration_since(window.authenticate_sent),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn slow_credential_process_does_not_stall_other_connections() {
    let profile = Profile::new("nonblocking");
    let chain = cql4_conn::http::default_chain().with_env(Arc::new(profile.env()));
    let m = measure(chain).await;
    eprintln!(
        "window {:?}, {} requests answered in it, longest gap {:?}",
        m.window, m.answered_in_window, m.longest_gap
    );
    // The window is the process's sleep: credentials really came from the slow process.
    assert!(
        m.window >= PROCESS_SLEEP - Duration::from_millis(100),
        "{:?}",
        m.window
    );
    assert!(
        m.answered_in_window >= 10,
        "only {} requests answered while the credential process ran",
        m.answered_in_window
    );
    assert!(
        m.longest_gap < MAX_GAP,
        "connection A stalled for {:?}",
        m.longest_gap
    );
}

/// Runs the command on the polling thread with `std::process`, as the credentials code did
/// before the runner was injected: the control for the measurement above.
#[derive(Debug)]
struct BlockingRunner;

impl ProcessRunner for BlockingRunner {
    fn run(
        &self,
        request: ProcessRequest,
    ) -> BoxFuture<'_, Result<ProcessOutput, Box<dyn StdError + Send + Sync>>> {
        Box::pin(async move {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(request.command.expose())
                .output()?;
            Ok(ProcessOutput::new(
                out.status.success(),
                out.status.to_string(),
                out.stdout,
                out.stderr,
            ))
        })
    }
}

#[tokio::test(flavor = "current_thread")]
async fn control_a_blocking_process_runner_is_caught_by_the_measurement() {
    let profile = Profile::new("blocking");
    let chain = cql4_conn::http::default_chain()
        .with_env(Arc::new(profile.env()))
        .with_process_runner(Arc::new(BlockingRunner));
    let m = measure(chain).await;
    eprintln!(
        "blocking: window {:?}, {} requests answered in it, longest gap {:?}",
        m.window, m.answered_in_window, m.longest_gap
    );
    // Far above MAX_GAP: the two tests cannot both pass by chance.
    assert!(
        m.longest_gap >= PROCESS_SLEEP - Duration::from_millis(200),
        "{:?}",
        m.longest_gap
    );
    assert!(m.answered_in_window < 10, "{}", m.answered_in_window);
}
