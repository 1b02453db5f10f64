//! A bounded mutation fuzzer for a LOCAL Cassandra-protocol server (loopback addresses only).
//!
//! ```text
//! cargo run -p cql4-testkit --bin cql4-fuzz-server -- [--host 127.0.0.1] [--port 9142] [--ca FILE]
//!     [--server-name NAME] [--no-tls] [--user USER] [--password PASSWORD]
//!     [--minutes N | --iterations N] [--seed S] [--health-every K] [--deadline-ms MS]
//!     [--unknown-wait-ms MS] [--out DIR] [--only-iteration I | --start I]
//! ```
//!
//! It logs in (SASL PLAIN; the password from `--password`, else `CQL4_PASSWORD`, else
//! `CQL4_TEST_PASSWORD`; the user likewise from `--user`, `CQL4_USER`, `CQL4_TEST_USER`), builds
//! valid requests with real bodies (OPTIONS, QUERY, PREPARE, EXECUTE of a real prepared id,
//! BATCH, REGISTER), mutates them (bit flips, byte insert/delete, length fields set to extremes,
//! opcode/flags/stream/version changes, truncation, splicing two requests) and sends each on a
//! [`RawConnection`] (the current one while its framing is known, else a fresh login).
//!
//! Outcomes: an answer (counted by opcode and error code), a close, silence after bytes that
//! were not whole frames (expected: the server waits for the rest of a body), or a HANG —
//! silence within `--deadline-ms` after whole frames. Every `--health-every` iterations a fresh
//! login runs a query; a failure is a finding. Findings (hangs, health failures, answers our
//! codec cannot decode, silence after a length over any sane frame limit) are written, with
//! the frame in hex, to `target/fuzz-server/<seed>-<unix time>/` (or `--out`), and a summary is
//! printed at the end and saved as `summary.txt`.
//!
//! Reproducible: iteration `i` draws everything from a xorshift generator seeded with
//! `(seed, i)`; `--only-iteration i` sends just that frame again (server state aside), and
//! `--start i --iterations n` replays a range. When logins start failing (the server crashed),
//! the last 16 requests are written as `suspects-*.txt`, and after 10 failed logins in a row the
//! run stops.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use cql4_auth::PasswordAuthenticator;
use cql4_conn::{Client, Config, QueryOptions, TlsConfig};
use cql4_frame::compression::Compression;
use cql4_frame::consistency::Consistency;
use cql4_frame::request::{
    Batch, BatchQuery, BatchStatement, BatchType, BoundValue, Execute, Prepare, Query,
    QueryParameters, QueryValues, Register, Request, RequestFrame,
};
use cql4_frame::response::{Response, ResponseFrame};
use cql4_frame::DecodeLimits;
use cql4_testkit::raw::{Framing, RawClose, RawConnection, RawError, RawState, Reaction};

/// A declared body length above this is over any server's frame limit (Cassandra's
/// `native_transport_max_frame_size` is 16 MiB by default): the server should refuse it from
/// the header alone rather than wait for the body.
const SANE_FRAME_LIMIT: u32 = 256 * 1024 * 1024;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

struct Args {
    host: String,
    port: u16,
    ca: Option<String>,
    server_name: Option<String>,
    tls: bool,
    user: String,
    password: String,
    minutes: f64,
    iterations: Option<u64>,
    seed: u64,
    health_every: u64,
    deadline: Duration,
    unknown_wait: Duration,
    out: Option<PathBuf>,
    only_iteration: Option<u64>,
    start: u64,
}

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

fn parse_args() -> Result<Args, Box<dyn std::error::Error>> {
    let mut a = Args {
        host: "127.0.0.1".to_owned(),
        port: 9142,
        ca: None,
        server_name: None,
        tls: true,
        user: String::new(),
        password: String::new(),
        minutes: 1.0,
        iterations: None,
        seed: 1,
        health_every: 200,
        deadline: Duration::from_millis(5000),
        unknown_wait: Duration::from_millis(300),
        out: None,
        only_iteration: None,
        start: 0,
    };
    let (mut user, mut password) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--host" => a.host = value("--host")?,
            "--port" => a.port = value("--port")?.parse()?,
            "--ca" => a.ca = Some(value("--ca")?),
            "--server-name" => a.server_name = Some(value("--server-name")?),
            "--no-tls" => a.tls = false,
            "--user" => user = Some(value("--user")?),
            "--password" => password = Some(value("--password")?),
            "--minutes" => a.minutes = value("--minutes")?.parse()?,
            "--iterations" => a.iterations = Some(value("--iterations")?.parse()?),
            "--seed" => a.seed = value("--seed")?.parse()?,
            "--health-every" => a.health_every = value("--health-every")?.parse::<u64>()?.max(1),
            "--deadline-ms" => a.deadline = Duration::from_millis(value("--deadline-ms")?.parse()?),
            "--unknown-wait-ms" => {
                a.unknown_wait = Duration::from_millis(value("--unknown-wait-ms")?.parse()?)
            }
            "--out" => a.out = Some(PathBuf::from(value("--out")?)),
            "--only-iteration" => a.only_iteration = Some(value("--only-iteration")?.parse()?),
            "--start" => a.start = value("--start")?.parse()?,
            other => return Err(format!("unknown argument {other:?} (see the file's doc)").into()),
        }
    }
    a.user = user
        .or_else(|| env_first(&["CQL4_USER", "CQL4_TEST_USER"]))
        .ok_or("no user: pass --user or set CQL4_USER")?;
    a.password = password
        .or_else(|| env_first(&["CQL4_PASSWORD", "CQL4_TEST_PASSWORD"]))
        .ok_or("no password: pass --password or set CQL4_PASSWORD")?;
    if !(a.minutes > 0.0 && a.minutes.is_finite()) {
        return Err("--minutes must be a positive number".into());
    }
    Ok(a)
}

/// Refuses anything but loopback: this tool sends garbage and must never reach a real service.
async fn require_loopback(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let addrs: Vec<_> = tokio::net::lookup_host((host, port)).await?.collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address").into());
    }
    if let Some(a) = addrs.iter().find(|a| !is_loopback(a.ip())) {
        return Err(format!(
            "refusing to fuzz {host}: it resolves to {a}, which is not a loopback address"
        )
        .into());
    }
    Ok(())
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        // ::ffff:127.x.x.x is loopback too.
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// xorshift64* (Vigna), seeded through splitmix64 so nearby seeds give unrelated streams.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, iteration: u64) -> Self {
        let mut z = seed ^ iteration.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(z | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A valid request to start from.
struct Seed {
    name: &'static str,
    frame: Vec<u8>,
}

fn encode(message: Request) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    RequestFrame {
        stream: 1,
        tracing: false,
        custom_payload: None,
        message,
    }
    .encode(Compression::None, &mut out)?;
    Ok(out)
}

fn seeds(prepared_id: Bytes) -> Result<Vec<Seed>, Box<dyn std::error::Error>> {
    let one = Consistency::ONE;
    let mut paged = QueryParameters::new(one);
    paged.page_size = Some(2);
    paged.default_timestamp = Some(1_700_000_000_000_000);
    let mut bound = QueryParameters::new(one);
    bound.values = Some(QueryValues::Positional(vec![
        BoundValue::Bytes(Bytes::from_static(&[0, 0, 0, 7])),
        BoundValue::Bytes(Bytes::from_static(b"fuzz")),
    ]));
    let mut named = QueryParameters::new(one);
    named.values = Some(QueryValues::Named(vec![(
        "k".to_owned(),
        BoundValue::Bytes(Bytes::from_static(&[0, 0, 0, 1])),
    )]));
    let mut exec = QueryParameters::new(one);
    exec.values = Some(QueryValues::Positional(vec![BoundValue::Bytes(
        Bytes::from_static(&[0, 0, 0, 3]),
    )]));
    exec.skip_metadata = true;
    exec.serial_consistency = Some(Consistency::LOCAL_SERIAL);
    let list = vec![
        ("OPTIONS", Request::Options),
        (
            "QUERY system.local",
            Request::Query(Query {
                query: "SELECT release_version, cluster_name FROM system.local".to_owned(),
                params: paged,
            }),
        ),
        (
            "QUERY insert with values",
            Request::Query(Query {
                query: "INSERT INTO cql4_fuzz.t (k, v) VALUES (?, ?)".to_owned(),
                params: bound,
            }),
        ),
        (
            "QUERY named values",
            Request::Query(Query {
                query: "SELECT v FROM cql4_fuzz.t WHERE k = :k".to_owned(),
                params: named,
            }),
        ),
        (
            "PREPARE",
            Request::Prepare(Prepare {
                query: "UPDATE cql4_fuzz.t SET v = ? WHERE k = ?".to_owned(),
            }),
        ),
        (
            "EXECUTE",
            Request::Execute(Execute {
                id: prepared_id.clone(),
                params: exec,
            }),
        ),
        (
            "BATCH",
            Request::Batch(Batch {
                batch_type: BatchType::UNLOGGED,
                statements: vec![
                    BatchStatement {
                        query: BatchQuery::Query(
                            "INSERT INTO cql4_fuzz.t (k, v) VALUES (?, ?)".to_owned(),
                        ),
                        values: QueryValues::Positional(vec![
                            BoundValue::Bytes(Bytes::from_static(&[0, 0, 0, 9])),
                            BoundValue::Null,
                        ]),
                    },
                    BatchStatement {
                        query: BatchQuery::Prepared(prepared_id),
                        values: QueryValues::Positional(vec![BoundValue::Bytes(
                            Bytes::from_static(&[0, 0, 0, 10]),
                        )]),
                    },
                ],
                consistency: one,
                serial_consistency: None,
                default_timestamp: Some(1),
            }),
        ),
        (
            "REGISTER",
            Request::Register(Register {
                event_types: vec![
                    "TOPOLOGY_CHANGE".to_owned(),
                    "STATUS_CHANGE".to_owned(),
                    "SCHEMA_CHANGE".to_owned(),
                ],
            }),
        ),
    ];
    list.into_iter()
        .map(|(name, message)| {
            Ok(Seed {
                name,
                frame: encode(message)?,
            })
        })
        .collect()
}

const EXTREMES_32: [u32; 8] = [
    0,
    1,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0xffff_fffe,
    0x0001_0000,
    0x0100_0000,
];
const EXTREMES_16: [u16; 6] = [0, 1, 0x7fff, 0x8000, 0xffff, 0xfffe];

/// Applies 1–4 mutations; returns the frame and what was done. Unless a mutation set the
/// header's length on purpose, the length is usually patched to match the body, so that most
/// frames stay whole and reach the server's body decoder.
fn mutate(rng: &mut Rng, seeds: &[Seed]) -> (Vec<u8>, String, &'static str) {
    let seed = &seeds[rng.below(seeds.len())];
    let mut f = seed.frame.clone();
    let mut log = String::new();
    let mut length_set = false;
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let body_start = 9.min(f.len());
        match rng.below(12) {
            0 => {
                let bits = 1 + rng.below(4);
                for _ in 0..bits {
                    if f.is_empty() {
                        break;
                    }
                    let at = rng.below(f.len());
                    let bit = rng.below(8);
                    f[at] ^= 1 << bit;
                    let _ = write!(log, "flip {at}.{bit}; ");
                }
            }
            1 => {
                let at = rng.below(f.len() + 1);
                let n = 1 + rng.below(8);
                for _ in 0..n {
                    f.insert(at, rng.next() as u8);
                }
                let _ = write!(log, "insert {n}@{at}; ");
            }
            2 if f.len() > 1 => {
                let at = rng.below(f.len());
                let n = (1 + rng.below(8)).min(f.len() - at);
                f.drain(at..at + n);
                let _ = write!(log, "delete {n}@{at}; ");
            }
            3 if f.len() >= body_start + 4 => {
                // An inner [int] length ([long string], [bytes], [value], counts).
                let at = body_start + rng.below(f.len() - body_start - 3);
                let v = EXTREMES_32[rng.below(EXTREMES_32.len())];
                f[at..at + 4].copy_from_slice(&v.to_be_bytes());
                let _ = write!(log, "int@{at}={v:#x}; ");
            }
            4 if f.len() >= body_start + 2 => {
                // An inner [short] length ([string], [short bytes], value counts).
                let at = body_start + rng.below(f.len() - body_start - 1);
                let v = EXTREMES_16[rng.below(EXTREMES_16.len())];
                f[at..at + 2].copy_from_slice(&v.to_be_bytes());
                let _ = write!(log, "short@{at}={v:#x}; ");
            }
            5 if f.len() >= 9 => {
                let body = (f.len() - 9) as u32;
                let v = match rng.below(4) {
                    0 => EXTREMES_32[rng.below(EXTREMES_32.len())],
                    1 => body.wrapping_add(1 + rng.below(16) as u32),
                    2 => body.saturating_sub(1 + rng.below(16) as u32),
                    _ => SANE_FRAME_LIMIT + 1,
                };
                f[5..9].copy_from_slice(&v.to_be_bytes());
                length_set = true;
                let _ = write!(log, "header length={v:#x}; ");
            }
            6 if f.len() >= 5 => {
                let v = if rng.chance(50) {
                    rng.below(0x11) as u8
                } else {
                    rng.next() as u8
                };
                f[4] = v;
                let _ = write!(log, "opcode={v:#04x}; ");
            }
            7 if f.len() >= 2 => {
                let v = rng.next() as u8;
                f[1] = v;
                let _ = write!(log, "flags={v:#04x}; ");
            }
            8 if f.len() >= 4 => {
                let v = match rng.below(3) {
                    0 => rng.next() as i16,
                    1 => [-1i16, -2, i16::MIN, i16::MAX, 0][rng.below(5)],
                    _ => rng.below(32_768) as i16,
                };
                f[2..4].copy_from_slice(&v.to_be_bytes());
                let _ = write!(log, "stream={v}; ");
            }
            9 if !f.is_empty() => {
                let v = [0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x84, 0x44, 0xff][rng.below(9)];
                f[0] = v;
                let _ = write!(log, "version={v:#04x}; ");
            }
            10 if !f.is_empty() => {
                let at = rng.below(f.len());
                f.truncate(at);
                let _ = write!(log, "truncate {at}; ");
            }
            11 => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(f.len() + 1);
                let from = rng.below(other.frame.len() + 1);
                f.truncate(cut);
                f.extend_from_slice(&other.frame[from..]);
                let _ = write!(log, "splice {cut}+{}[{from}..]; ", other.name);
            }
            _ => {
                if !f.is_empty() {
                    let at = rng.below(f.len());
                    let v = [0x00, 0xff, 0x7f, 0x80, 0x01][rng.below(5)];
                    f[at] = v;
                    let _ = write!(log, "byte@{at}={v:#04x}; ");
                }
            }
        }
    }
    if f.is_empty() {
        // Zero bytes would be "zero whole frames": nothing to observe.
        f.push(rng.next() as u8);
        log.push_str("one random byte; ");
    }
    if !length_set && f.len() >= 9 && rng.chance(85) {
        let body = u32::try_from(f.len() - 9).unwrap_or(u32::MAX);
        f[5..9].copy_from_slice(&body.to_be_bytes());
        log.push_str("length fixed");
    }
    (f, log, seed.name)
}

/// What happened to one request.
enum Outcome {
    Answer {
        key: String,
        undecodable: Option<String>,
        server_error: Option<String>,
    },
    Closed(String),
    SilentUnknownFraming,
    Hang,
    SendFailed(String),
}

fn close_key(reason: &RawClose) -> String {
    match reason {
        RawClose::EndOfStream => "close: end of stream".to_owned(),
        RawClose::Io(e) => format!("close: I/O {:?}", e.kind()),
        RawClose::Decode(e) => format!("close: undecodable server frame ({:?})", e.kind()),
        RawClose::FramingUnknown => "close: framing unknown".to_owned(),
        RawClose::WriteTimeout(_) => "close: write timeout".to_owned(),
        other => format!("close: {other}"),
    }
}

/// The histogram key of an answer, why our codec could not decode it (if so), and the
/// message of a SERVER_ERROR (an unexpected exception inside the server).
fn answer_key(frame: cql4_frame::frame::RawFrame) -> (String, Option<String>, Option<String>) {
    let opcode = frame.header.opcode;
    let opname = opcode.name().unwrap_or("unknown opcode").to_owned();
    match ResponseFrame::decode(frame, Compression::None, &DecodeLimits::default()) {
        Ok(r) => match r.message {
            Response::Error(e) => (
                format!(
                    "ERROR {:#06x} {}",
                    e.code.0,
                    e.code.name().unwrap_or("unknown code")
                ),
                None,
                (e.code.0 == 0).then_some(e.message),
            ),
            _ => (opname, None, None),
        },
        Err(e) => (format!("{opname} (undecodable)"), Some(e.to_string()), None),
    }
}

async fn login(config: &Config) -> Result<RawConnection, RawError> {
    RawConnection::connect(config).await
}

async fn exchange(raw: &mut RawConnection, frame: &[u8], args: &Args) -> Outcome {
    let stream = frame
        .get(2..4)
        .map(|s| i16::from_be_bytes([s[0], s[1]]))
        .unwrap_or(0);
    let framing = match raw.send(frame).await {
        Ok(f) => f,
        Err(e) => return Outcome::SendFailed(e.to_string()),
    };
    let wait = match framing {
        Framing::Unknown => args.unknown_wait,
        _ => args.deadline,
    };
    let started = Instant::now();
    loop {
        let left = wait.saturating_sub(started.elapsed());
        match raw.recv_within(left).await {
            // Pushed events (we may have REGISTERed) are not answers.
            Reaction::Frame(f) if f.header.stream == -1 && stream != -1 => continue,
            Reaction::Frame(f) => {
                let on_stream = f.header.stream;
                let (mut key, undecodable, server_error) = answer_key(f);
                if on_stream != stream {
                    key.push_str(" (on another stream)");
                }
                return Outcome::Answer {
                    key,
                    undecodable,
                    server_error,
                };
            }
            Reaction::Closed(r) => return Outcome::Closed(close_key(&r)),
            Reaction::Silent { .. } if framing == Framing::Unknown => {
                return Outcome::SilentUnknownFraming
            }
            Reaction::Silent { .. } => return Outcome::Hang,
            _ => return Outcome::Hang,
        }
    }
}

async fn health(config: &Config) -> Result<(), String> {
    let client = Client::connect(config).await.map_err(|e| e.to_string())?;
    client
        .query(
            "SELECT release_version FROM system.local",
            (),
            &QueryOptions::new(),
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

struct Findings {
    dir: PathBuf,
    count: usize,
}

impl Findings {
    fn record(&mut self, kind: &str, iteration: u64, seed: u64, detail: &str, frame: &[u8]) {
        self.count += 1;
        let mut text = format!(
            "kind: {kind}\nseed: {seed}\niteration: {iteration}\n{detail}\nframe ({} bytes):\n",
            frame.len()
        );
        for chunk in frame.chunks(32) {
            for b in chunk {
                let _ = write!(text, "{b:02x}");
            }
            text.push('\n');
        }
        let path = self.dir.join(format!("{kind}-{iteration:08}.txt"));
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("cannot write {}: {e}", path.display());
        }
    }
}

/// Requests kept as crash suspects.
const RECENT: usize = 16;
/// Logins failing in a row after which the run stops: the server is down.
const MAX_FAILED_LOGINS: u32 = 10;

/// Writes the last requests sent (oldest first) as one finding: the server stopped accepting
/// logins after them.
fn write_suspects(
    findings: &mut Findings,
    recent: &VecDeque<(u64, String, Vec<u8>)>,
    iteration: u64,
    seed: u64,
    error: &str,
) {
    let mut text = format!(
        "a login or health check failed at iteration {iteration}: {error}\nthe last {} requests \
         before it, oldest first (replay one with --seed {seed} --only-iteration I, or a range \
         with --start I --iterations N):\n",
        recent.len()
    );
    for (i, detail, frame) in recent {
        let _ = write!(text, "\n--- iteration {i}\n{detail}\n");
        for chunk in frame.chunks(32) {
            for b in chunk {
                let _ = write!(text, "{b:02x}");
            }
            text.push('\n');
        }
    }
    findings.record("suspects", iteration, seed, &text, &[]);
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    require_loopback(&args.host, args.port).await?;

    let mut config = Config::new(args.host.clone(), args.port);
    if args.tls {
        let mut t = TlsConfig::new();
        if let Some(ca) = &args.ca {
            t = t.with_ca_file(ca);
        }
        if let Some(name) = &args.server_name {
            t = t.with_server_name(name);
        }
        config.tls = Some(t);
    }
    config.auth = Some(Arc::new(PasswordAuthenticator::new(
        args.user.as_str(),
        args.password.as_str(),
    )?));
    config.connect_timeout = Duration::from_secs(15);
    config.request_timeout = args.deadline;

    // A real keyspace, table and prepared id, so that EXECUTE and BATCH reach deep.
    let setup = Client::connect(&config).await?;
    let mut ddl = QueryOptions::new();
    ddl.timeout = Some(Duration::from_secs(60));
    setup
        .query(
            "CREATE KEYSPACE IF NOT EXISTS cql4_fuzz WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
            &ddl,
        )
        .await?;
    setup
        .query(
            "CREATE TABLE IF NOT EXISTS cql4_fuzz.t (k int PRIMARY KEY, v text)",
            (),
            &ddl,
        )
        .await?;
    let prepared = setup
        .prepare("SELECT v FROM cql4_fuzz.t WHERE k = ?")
        .await?;
    let seeds = seeds(prepared.id())?;
    drop(setup);

    let started_at = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("target/fuzz-server/{}-{started_at}", args.seed)));
    std::fs::create_dir_all(&dir)?;
    let mut findings = Findings { dir, count: 0 };

    let budget = Duration::from_secs_f64(args.minutes * 60.0);
    let range = match args.only_iteration {
        Some(i) => i..i + 1,
        None => {
            args.start
                ..args
                    .start
                    .saturating_add(args.iterations.unwrap_or(u64::MAX))
        }
    };
    let start = Instant::now();
    let mut histogram: BTreeMap<String, u64> = BTreeMap::new();
    let (mut done, mut answers, mut closes, mut hangs, mut silent_unknown) = (0u64, 0, 0, 0, 0);
    let (mut logins, mut login_failures, mut health_checks, mut health_failures) = (0u64, 0, 0, 0);
    let mut undecodable = 0u64;
    let mut server_error_shapes = std::collections::BTreeSet::new();
    let mut raw: Option<RawConnection> = None;
    // The last requests sent, written out as suspects when the server stops accepting logins
    // (a crash is caused by a request before the failing login, not by the next one).
    let mut recent: VecDeque<(u64, String, Vec<u8>)> = VecDeque::new();
    let mut suspects_written = false;
    let mut failed_in_a_row = 0u32;
    let mut gave_up = false;

    for iteration in range {
        if start.elapsed() >= budget {
            break;
        }
        let mut rng = Rng::new(args.seed, iteration);
        let (frame, mutations, seed_name) = mutate(&mut rng, &seeds);
        // A close or a stray frame already waiting belongs to the previous request: start
        // clean rather than blame this one (a zero timeout still polls the socket once).
        if let Some(conn) = raw.as_mut() {
            if !matches!(
                conn.recv_within(Duration::ZERO).await,
                Reaction::Silent { .. }
            ) {
                raw = None;
            }
        }
        if !matches!(
            raw.as_ref().map(RawConnection::state),
            Some(RawState::Framed)
        ) {
            logins += 1;
            match login(&config).await {
                Ok(r) => {
                    raw = Some(r);
                    suspects_written = false;
                    failed_in_a_row = 0;
                }
                Err(e) => {
                    login_failures += 1;
                    failed_in_a_row += 1;
                    if !suspects_written {
                        suspects_written = true;
                        write_suspects(
                            &mut findings,
                            &recent,
                            iteration,
                            args.seed,
                            &e.to_string(),
                        );
                    }
                    if failed_in_a_row >= MAX_FAILED_LOGINS {
                        gave_up = true;
                        break;
                    }
                    findings.record(
                        "login-failure",
                        iteration,
                        args.seed,
                        &format!("login before the iteration failed: {e}"),
                        &[],
                    );
                    raw = None;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            }
        }
        let Some(conn) = raw.as_mut() else { continue };
        let outcome = exchange(conn, &frame, &args).await;
        done += 1;
        let detail = format!("request: {seed_name}; mutations: {mutations}");
        let key = match outcome {
            Outcome::Answer {
                key,
                undecodable: bad,
                server_error,
            } => {
                // One finding per distinct SERVER_ERROR message (digit runs folded to `#`, so that
                // offsets and sizes do not make every message new).
                if let Some(message) = server_error {
                    let mut shape = String::new();
                    for c in message.chars() {
                        if shape.chars().count() >= 80 {
                            break;
                        }
                        if !c.is_ascii_digit() {
                            shape.push(c);
                        } else if !shape.ends_with('#') {
                            shape.push('#');
                        }
                    }
                    if server_error_shapes.insert(shape) {
                        findings.record(
                            "server-error",
                            iteration,
                            args.seed,
                            &format!("{detail}\nSERVER_ERROR: {message}"),
                            &frame,
                        );
                    }
                }
                answers += 1;
                // Cassandra closes the connection after a PROTOCOL_ERROR; a fresh login keeps
                // the next outcome attributed to the next frame.
                if key.contains("PROTOCOL_ERROR") || key.contains("another stream") {
                    if let Some(mut r) = raw.take() {
                        r.close().await;
                    }
                }
                if let Some(why) = bad {
                    undecodable += 1;
                    findings.record(
                        "undecodable-answer",
                        iteration,
                        args.seed,
                        &format!("{detail}\nanswer: {key}: {why}"),
                        &frame,
                    );
                }
                key
            }
            Outcome::Closed(key) => {
                closes += 1;
                raw = None;
                key
            }
            Outcome::SilentUnknownFraming => {
                silent_unknown += 1;
                raw = None;
                let declared = frame
                    .get(5..9)
                    .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]))
                    .unwrap_or(0);
                if declared > SANE_FRAME_LIMIT && frame.first().is_some_and(|v| v & 0x7f == 4) {
                    findings.record(
                        "oversized-length-waits",
                        iteration,
                        args.seed,
                        &format!(
                            "{detail}\nthe server waited for a {declared}-byte body instead of \
                             refusing the header"
                        ),
                        &frame,
                    );
                }
                "silent after bytes that are not whole frames".to_owned()
            }
            Outcome::Hang => {
                hangs += 1;
                raw = None;
                findings.record(
                    "hang",
                    iteration,
                    args.seed,
                    &format!(
                        "{detail}\nwhole frame(s) sent; no answer and no close within {} ms",
                        args.deadline.as_millis()
                    ),
                    &frame,
                );
                "HANG (no answer, no close)".to_owned()
            }
            Outcome::SendFailed(e) => {
                raw = None;
                format!("send failed: {e}")
            }
        };
        if recent.len() == RECENT {
            recent.pop_front();
        }
        recent.push_back((
            iteration,
            format!("{detail}\noutcome: {key}"),
            frame.clone(),
        ));
        *histogram.entry(key).or_default() += 1;

        if (iteration + 1) % args.health_every == 0 {
            health_checks += 1;
            if let Err(e) = health(&config).await {
                health_failures += 1;
                if !suspects_written {
                    suspects_written = true;
                    write_suspects(&mut findings, &recent, iteration, args.seed, &e);
                }
                findings.record(
                    "health-failure",
                    iteration,
                    args.seed,
                    &format!("{detail}\na fresh login + query failed after this iteration: {e}"),
                    &frame,
                );
            }
        }
    }
    if let Some(mut r) = raw.take() {
        r.close().await;
    }
    // A last health check, so a run shorter than --health-every still checks once.
    health_checks += 1;
    if let Err(e) = health(&config).await {
        health_failures += 1;
        if !suspects_written {
            write_suspects(&mut findings, &recent, done, args.seed, &e);
        }
        findings.record(
            "health-failure",
            done,
            args.seed,
            &format!("final health check failed: {e}"),
            &[],
        );
    }

    let elapsed = start.elapsed().as_secs_f64();
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "seed {}; {} iterations in {elapsed:.1} s ({:.1} exec/s)",
        args.seed,
        done,
        done as f64 / elapsed.max(1e-9)
    );
    let _ = writeln!(summary, "answers {answers}, closes {closes}, silent after partial frames {silent_unknown}, hangs {hangs}");
    let _ = writeln!(summary, "raw logins {logins} (failed {login_failures}); health checks {health_checks} (failed {health_failures})");
    let _ = writeln!(
        summary,
        "answers our codec could not decode: {undecodable}; findings written: {}",
        findings.count
    );
    if gave_up {
        let _ = writeln!(summary, "STOPPED EARLY: {MAX_FAILED_LOGINS} logins in a row failed (server down?); see suspects-*.txt");
    }
    let _ = writeln!(summary, "outcomes:");
    let mut sorted: Vec<_> = histogram.into_iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (key, n) in sorted {
        let _ = writeln!(summary, "  {n:>8}  {key}");
    }
    let _ = writeln!(summary, "findings directory: {}", findings.dir.display());
    print!("{summary}");
    std::fs::write(findings.dir.join("summary.txt"), &summary)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_pass() {
        assert!(is_loopback("127.0.0.1".parse().unwrap()));
        assert!(is_loopback("127.3.2.1".parse().unwrap()));
        assert!(is_loopback("::1".parse().unwrap()));
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("10.0.0.1".parse().unwrap()));
        assert!(!is_loopback("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!is_loopback("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn same_seed_and_iteration_give_the_same_frame() {
        let seeds = seeds(Bytes::from_static(b"0123456789abcdef")).unwrap();
        for i in 0..200 {
            let a = mutate(&mut Rng::new(7, i), &seeds);
            let b = mutate(&mut Rng::new(7, i), &seeds);
            assert_eq!(a.0, b.0);
            assert_eq!(a.1, b.1);
        }
        let differ = (0..200)
            .filter(|&i| {
                mutate(&mut Rng::new(7, i), &seeds).0 != mutate(&mut Rng::new(8, i), &seeds).0
            })
            .count();
        assert!(
            differ > 150,
            "seeds 7 and 8 differ in only {differ} of 200 frames"
        );
    }
}
