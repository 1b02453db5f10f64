//! The server fuzzer against a fake server of its own (plain TCP, no authentication) that
//! misbehaves on purpose: a QUERY whose body holds `HANG` gets no answer, `BAD!` gets a RESULT
//! cql4's codec cannot decode, `ERR!` gets a SERVER_ERROR whose message spans lines, `DIE!`
//! makes the server stop accepting connections. Each is detected, minimized to the bytes that
//! matter, written as a file, and replayed.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Parser;
use cql4_testkit::fuzz_server::{run, Args, Finding, Kind, Outcome, Stage};
use cql4_testkit::raw::{frame, framing, Framing};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Fake {
    addr: SocketAddr,
    /// Answers every request normally.
    benign: Arc<AtomicBool>,
}

async fn fake() -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let benign = Arc::new(AtomicBool::new(false));
    let dead = Arc::new(AtomicBool::new(false));
    let (b, d) = (benign.clone(), dead.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            if d.load(Ordering::SeqCst) {
                // Dropping the listener: later connections are refused, like a dead node's.
                return;
            }
            tokio::spawn(serve(socket, b.clone(), d.clone()));
        }
    });
    Fake { addr, benign }
}

fn contains(body: &[u8], needle: &[u8]) -> bool {
    body.windows(needle.len()).any(|w| w == needle)
}

async fn serve(mut s: TcpStream, benign: Arc<AtomicBool>, dead: Arc<AtomicBool>) {
    loop {
        let mut header = [0u8; 9];
        if s.read_exact(&mut header).await.is_err() || dead.load(Ordering::SeqCst) {
            return;
        }
        if !(3..=5).contains(&(header[0] & 0x7f)) {
            return;
        }
        let len = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) as usize;
        if len > 1 << 20 {
            return;
        }
        let mut body = vec![0; len];
        if s.read_exact(&mut body).await.is_err() {
            return;
        }
        let stream = i16::from_be_bytes([header[2], header[3]]);
        let odd = !benign.load(Ordering::SeqCst) && header[4] == 0x07;
        let (opcode, answer): (u8, Vec<u8>) = match header[4] {
            0x05 => (0x06, vec![0, 0]),
            0x01 => (0x02, vec![]),
            _ if odd && contains(&body, b"HANG") => continue,
            _ if odd && contains(&body, b"BAD!") => (0x08, vec![0, 0]),
            _ if odd && contains(&body, b"ERR!") => (0x00, multi_line_server_error()),
            _ if odd && contains(&body, b"DIE!") => {
                dead.store(true, Ordering::SeqCst);
                // Wake the accept loop so that it sees the flag and drops the listener.
                let _ = TcpStream::connect(s.local_addr().unwrap()).await;
                return;
            }
            _ => (0x08, vec![0, 0, 0, 1]),
        };
        let mut out = frame(0, stream, opcode, &answer);
        out[0] = 0x84;
        if s.write_all(&out).await.is_err() {
            return;
        }
    }
}

/// An ERROR body: SERVER_ERROR (0x0000), a message with line breaks and a number that varies.
fn multi_line_server_error() -> Vec<u8> {
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = CALLS.fetch_add(1, Ordering::SeqCst);
    let message = format!("Unexpected failure\nwhile handling request {n}\r\n\r\nretry later");
    let mut body = 0i32.to_be_bytes().to_vec();
    body.extend_from_slice(&(message.len() as u16).to_be_bytes());
    body.extend_from_slice(message.as_bytes());
    body
}

fn query(text: &str) -> Vec<u8> {
    let mut body = (text.len() as u32).to_be_bytes().to_vec();
    body.extend_from_slice(text.as_bytes());
    body.extend_from_slice(&[0, 1, 0]); // consistency ONE, no flags
    frame(0, 1, 0x07, &body)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-server-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn args(addr: SocketAddr, extra: &[&str]) -> Args {
    let port = addr.port().to_string();
    let mut all = vec![
        "cql4-fuzz-server",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--no-tls",
        // The fake answers STARTUP with READY: the credentials are never used.
        "--user",
        "u",
        "--password",
        "p",
        // Generous: a hang frame never gets an answer whatever the deadline (only the run
        // grows), while a harmless request answered late on a loaded machine would count as a
        // hang, and a replay against the benign server would wrongly reproduce one.
        "--deadline-ms",
        "2000",
        "--unknown-wait-ms",
        "100",
        "--crash-logins",
        "2",
    ];
    all.extend_from_slice(extra);
    Args::try_parse_from(all).unwrap()
}

async fn replay(addr: SocketAddr, file: &Path) -> cql4_testkit::fuzz_server::ReplayReport {
    match run(&args(addr, &["--replay", file.to_str().unwrap()]))
        .await
        .unwrap()
    {
        Outcome::Replay(r) => r,
        other => panic!("{other:?}"),
    }
}

fn file_of(files: &[PathBuf], kind: Kind) -> Finding {
    let path = files
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(kind.name())
        })
        .unwrap_or_else(|| panic!("no {kind} file among {files:?}"));
    Finding::read(path).unwrap()
}

#[tokio::test]
async fn hang_and_undecodable_answer_are_detected_minimized_and_replayable() {
    let server = fake().await;
    let dir = scratch("hang-undecodable");
    let templates = dir.join("templates.txt");
    let padding = "SELECT a_long_column_list, to_shrink_away FROM ks.t WHERE k =";
    std::fs::write(
        &templates,
        format!(
            "# test templates\nOPTIONS {}\nQUERY hang {}\nQUERY bad {}\n",
            hex::encode(frame(0, 1, 0x05, b"")),
            hex::encode(query(&format!("{padding} HANG"))),
            hex::encode(query(&format!("{padding} BAD!"))),
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let a = args(
        server.addr,
        &[
            "--templates",
            templates.to_str().unwrap(),
            "--seed",
            "5",
            "--max-requests",
            "40",
            "--minimize-attempts",
            "120",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let report = match run(&a).await.unwrap() {
        Outcome::Campaign(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(report.requests, 40, "{}", report.summary());
    assert!(report.crash.is_none(), "{}", report.summary());
    assert!(out.join("summary.txt").exists());

    for (kind, trigger) in [
        (Kind::Hang, &b"HANG"[..]),
        (Kind::Undecodable, &b"BAD!"[..]),
    ] {
        let f = file_of(&report.files, kind);
        assert_eq!(f.seed, 5);
        // Minimized: the padding is gone, the trigger stays, the frame is still whole.
        assert!(
            contains(&f.frame, trigger),
            "{kind}: {}",
            hex::encode(&f.frame)
        );
        assert!(
            f.frame.len() <= 9 + 8,
            "{kind} not minimized: {} ({})",
            hex::encode(&f.frame),
            f.minimized
        );
        assert_eq!(framing(&f.frame), Framing::Frames(1));
        let original = f.original.clone().expect("the original frame is kept");
        assert!(original.len() > padding.len(), "{kind}");
        assert!(f.minimized.contains("attempts"), "{}", f.minimized);
        // The iteration redraws the original frame.
        let path = out.join(format!("{kind}-{:08}.txt", f.iteration));
        let r = replay(server.addr, &path).await;
        assert!(r.reproduced, "{kind}: {}", r.observed);
    }
    // Against a server that behaves, neither reproduces.
    server.benign.store(true, Ordering::SeqCst);
    for kind in [Kind::Hang, Kind::Undecodable] {
        let f = file_of(&report.files, kind);
        let path = out.join(format!("{kind}-{:08}.txt", f.iteration));
        let r = replay(server.addr, &path).await;
        assert!(!r.reproduced, "{kind}: {}", r.observed);
    }
}

#[tokio::test]
async fn a_server_error_spanning_lines_is_written_on_one_line_and_replays() {
    let server = fake().await;
    let dir = scratch("server-error");
    let templates = dir.join("templates.txt");
    std::fs::write(
        &templates,
        format!("QUERY err {}\n", hex::encode(query("SELECT ERR! FROM t"))),
    )
    .unwrap();
    let out = dir.join("out");
    let a = args(
        server.addr,
        &[
            "--templates",
            templates.to_str().unwrap(),
            "--seed",
            "3",
            "--max-requests",
            "20",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let report = match run(&a).await.unwrap() {
        Outcome::Campaign(r) => r,
        other => panic!("{other:?}"),
    };
    let f = file_of(&report.files, Kind::ServerError);
    assert_eq!(
        f.signature,
        "Unexpected failure | while handling request # | retry later",
        "{}",
        report.summary()
    );
    let path = out.join(format!("server-error-{:08}.txt", f.iteration));
    // The fake numbers its messages: the replay's answer differs from the run's but for the
    // number, which the signature folds.
    let r = replay(server.addr, &path).await;
    assert!(r.reproduced, "{}", r.observed);
    server.benign.store(true, Ordering::SeqCst);
    let r = replay(server.addr, &path).await;
    assert!(!r.reproduced, "{}", r.observed);
}

#[tokio::test]
async fn an_absurd_deadline_runs_instead_of_panicking() {
    let server = fake().await;
    server.benign.store(true, Ordering::SeqCst);
    let dir = scratch("absurd-deadline");
    let templates = dir.join("templates.txt");
    std::fs::write(
        &templates,
        format!("QUERY plain {}\n", hex::encode(query("SELECT 1"))),
    )
    .unwrap();
    let out = dir.join("out");
    let mut a = args(
        server.addr,
        &[
            "--templates",
            templates.to_str().unwrap(),
            "--only-iteration",
            "0",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    a.deadline_ms = u64::MAX;
    // A benign server answers every whole frame: the deadline is never reached.
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(60), run(&a))
        .await
        .expect("the run ends");
    match outcome.unwrap() {
        Outcome::Campaign(r) => assert_eq!(r.requests, 1, "{}", r.summary()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn crash_is_detected_with_candidates_and_replay_isolates_the_culprit() {
    let server = fake().await;
    let dir = scratch("crash");
    let templates = dir.join("templates.txt");
    let die = query("SELECT DIE! FROM t");
    std::fs::write(
        &templates,
        format!(
            "OPTIONS {}\nQUERY die {}\n",
            hex::encode(frame(0, 1, 0x05, b"")),
            hex::encode(&die)
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let report = match run(&args(
        server.addr,
        &[
            "--templates",
            templates.to_str().unwrap(),
            "--seed",
            "9",
            "--max-requests",
            "200",
            "--out",
            out.to_str().unwrap(),
        ],
    ))
    .await
    .unwrap()
    {
        Outcome::Campaign(r) => r,
        other => panic!("{other:?}"),
    };
    let crash = report.crash.clone().expect("the crash is detected");
    assert!(crash.requests < 200, "{}", report.summary());
    let f = file_of(&report.files, Kind::Crash);
    assert!(
        contains(&f.frame, b"DIE!"),
        "prime suspect {}",
        hex::encode(&f.frame)
    );
    assert_eq!(f.candidates.last().map(|c| &c.1), Some(&f.frame));
    assert!(
        f.observed.contains("logins in a row failed"),
        "{}",
        f.observed
    );

    // Replay on a fresh server, with the prime suspect replaced by a harmless frame: the
    // candidates are tried newest first and the killer is isolated.
    let fresh = fake().await;
    let mut misled = f.clone();
    misled.frame = frame(0, 1, 0x05, b"");
    misled.candidates.insert(0, (0, frame(0, 1, 0x05, b"")));
    let path = dir.join("crash-misled.txt");
    std::fs::write(&path, misled.to_text()).unwrap();
    let r = replay(fresh.addr, &path).await;
    assert!(r.reproduced, "{}", r.observed);
    let isolated = Finding::read(r.isolated.as_deref().unwrap()).unwrap();
    assert_eq!(isolated.kind, Kind::Crash);
    assert!(contains(&isolated.frame, b"DIE!"));
    assert!(isolated.candidates.is_empty());

    // A server that stays up: not reproduced.
    let healthy = fake().await;
    healthy.benign.store(true, Ordering::SeqCst);
    let r = replay(healthy.addr, &path).await;
    assert!(!r.reproduced, "{}", r.observed);
}

#[tokio::test]
async fn unauthenticated_stage_sends_after_startup_and_detects_the_crash_without_logins() {
    let server = fake().await;
    let dir = scratch("before-auth");
    let templates = dir.join("templates.txt");
    std::fs::write(
        &templates,
        format!("QUERY die {}\n", hex::encode(query("DIE!"))),
    )
    .unwrap();
    let out = dir.join("out");
    // No credentials at all: the stage needs none, and liveness is a connection + OPTIONS.
    let port = server.addr.port().to_string();
    let a = Args::try_parse_from([
        "cql4-fuzz-server",
        "--port",
        &port,
        "--no-tls",
        "--stage",
        "before-auth",
        "--templates",
        templates.to_str().unwrap(),
        "--crash-logins",
        "2",
        "--deadline-ms",
        "2000",
        "--max-requests",
        "50",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    let report = match run(&a).await.unwrap() {
        Outcome::Campaign(r) => r,
        other => panic!("{other:?}"),
    };
    assert!(report.crash.is_some(), "{}", report.summary());
    let f = file_of(&report.files, Kind::Crash);
    assert!(contains(&f.frame, b"DIE!"), "{}", hex::encode(&f.frame));
    assert_eq!(f.stage, Stage::BeforeAuth);
    // The replay takes the stage from the file: no --stage, and the credentials it is given
    // are never used.
    let fresh = fake().await;
    let path = out.join(format!("crash-{:08}.txt", f.iteration));
    let r = replay(fresh.addr, &path).await;
    assert!(r.reproduced, "{}", r.observed);
}
