//! The floor: what one tokio connection costs with no driver at all. It sends the same STARTUP
//! and PREPAREs as the drivers, then the same EXECUTE frame over and over — encoded once, only
//! its stream id patched in place — and reads the replies by frame header alone (stream id,
//! opcode, length). No decoding, no checking beyond "a RESULT came back", one task.
//!
//! ```text
//! floor_client --port 19042 --workload select|insert --concurrency 64 [--warmup 2] \
//!     [--duration 5] [--rate R]
//! ```
//! Closed loop by default (`--concurrency` requests always in flight); `--rate R` is the open
//! loop of [`cql4_bench::drive::drive_open`] done by hand: a request is due every `1/R` s, its
//! latency counts from when it was due, `--concurrency` bounds the outstanding ones and a due
//! request with no free stream id is dropped. Prints one JSON record like `rust_client`.
use std::time::{Duration, Instant};

use cql4_bench::drive::{BoxError, Outcome};
use cql4_bench::record::{rusage, Record};
use cql4_bench::schema::{INSERT, SELECT, SELECT_ID};
use cql4_bench::{alloc, drive, pages};
use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEADER: usize = 9;
const OP_STARTUP: u8 = 0x01;
const OP_READY: u8 = 0x02;
const OP_RESULT: u8 = 0x08;
const OP_PREPARE: u8 = 0x09;
const OP_EXECUTE: u8 = 0x0A;

struct Args {
    host: String,
    port: u16,
    workload: String,
    concurrency: u32,
    warmup: f64,
    duration: f64,
    rate: f64,
}

fn args() -> Args {
    let mut a = Args {
        host: "127.0.0.1".into(),
        port: 19042,
        workload: "select".into(),
        concurrency: 1,
        warmup: 2.0,
        duration: 5.0,
        rate: 0.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--host" => a.host = v(),
            "--port" => a.port = v().parse().expect("--port"),
            "--workload" => a.workload = v(),
            "--concurrency" => a.concurrency = v().parse().expect("--concurrency"),
            "--warmup" => a.warmup = v().parse().expect("--warmup"),
            "--duration" => a.duration = v().parse().expect("--duration"),
            "--rate" => a.rate = v().parse().expect("--rate"),
            // Accepted for the harness's uniform command line; there is no pool here.
            "--pool" | "--driver" => {
                v();
            }
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn frame(stream: u16, opcode: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(&[0x04, 0]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.push(opcode);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Sends one request and returns the reply's (opcode, body); only used while connecting.
async fn roundtrip(
    sock: &mut TcpStream,
    opcode: u8,
    body: &[u8],
) -> Result<(u8, Vec<u8>), BoxError> {
    sock.write_all(&frame(0, opcode, body)).await?;
    let mut header = [0_u8; HEADER];
    sock.read_exact(&mut header).await?;
    let len = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) as usize;
    if len > 1 << 20 {
        return Err(format!("reply of {len} bytes while connecting").into());
    }
    let mut body = vec![0; len];
    sock.read_exact(&mut body).await?;
    Ok((header[4], body))
}

/// PREPARE `cql` and return the statement id.
async fn prepare(sock: &mut TcpStream, cql: &str) -> Result<Vec<u8>, BoxError> {
    let mut body = Vec::new();
    body.extend_from_slice(&(cql.len() as u32).to_be_bytes());
    body.extend_from_slice(cql.as_bytes());
    let (op, reply) = roundtrip(sock, OP_PREPARE, &body).await?;
    // RESULT kind Prepared (4), then the id as [short bytes].
    if op != OP_RESULT || reply.get(..4) != Some(&4_i32.to_be_bytes()[..]) {
        return Err(format!("PREPARE answered with opcode {op:#04x}").into());
    }
    let n = reply
        .get(4..6)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
        .ok_or("short Prepared")?;
    Ok(reply.get(6..6 + n).ok_or("short Prepared id")?.to_vec())
}

/// The EXECUTE frame every request sends (stream id 0, patched per request): consistency ONE,
/// values, skip metadata and a page size of 5,000, as the drivers send it.
fn execute_frame(id: &[u8], values: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&(id.len() as u16).to_be_bytes());
    body.extend_from_slice(id);
    body.extend_from_slice(&1_u16.to_be_bytes());
    body.push(0x01 | 0x02 | 0x04);
    body.extend_from_slice(&(values.len() as u16).to_be_bytes());
    for v in values {
        pages::put_bytes(&mut body, Some(v));
    }
    body.extend_from_slice(&5000_i32.to_be_bytes());
    frame(0, OP_EXECUTE, &body)
}

async fn connect(a: &Args) -> Result<(TcpStream, Vec<u8>), BoxError> {
    let mut sock = TcpStream::connect((a.host.as_str(), a.port)).await?;
    sock.set_nodelay(true)?;
    let mut startup = 1_u16.to_be_bytes().to_vec();
    string(&mut startup, "CQL_VERSION");
    string(&mut startup, "3.0.0");
    let (op, _) = roundtrip(&mut sock, OP_STARTUP, &startup).await?;
    if op != OP_READY {
        return Err(format!("STARTUP answered with opcode {op:#04x}").into());
    }
    let select = prepare(&mut sock, SELECT).await?;
    let insert = prepare(&mut sock, INSERT).await?;
    let payload = pages::payload();
    let frame = if a.workload == "select" {
        execute_frame(&select, &[&SELECT_ID.to_be_bytes()])
    } else {
        execute_frame(
            &insert,
            &[&1000_i32.to_be_bytes(), b"name-inserted", &payload],
        )
    };
    Ok((sock, frame))
}

/// Appends the request frame with stream id `sid` to `out`.
fn push(out: &mut Vec<u8>, frame: &[u8], sid: u16) {
    let at = out.len();
    out.extend_from_slice(frame);
    out[at + 2..at + 4].copy_from_slice(&sid.to_be_bytes());
}

/// The measured window: when it opened and what the process had used by then.
struct Window {
    start: Instant,
    cpu: f64,
    allocs: u64,
}

impl Window {
    fn open() -> Self {
        Self {
            cpu: rusage().0,
            allocs: alloc::allocations(),
            start: Instant::now(),
        }
    }

    fn close(
        self,
        hist: Histogram<u64>,
        requests: u64,
        errors: u64,
        dropped: u64,
        late: u64,
    ) -> Outcome {
        let seconds = self.start.elapsed().as_secs_f64();
        let allocs = alloc::allocations() - self.allocs;
        let (cpu, maxrss) = rusage();
        Outcome {
            hist,
            requests,
            errors,
            dropped,
            late,
            seconds,
            cpu: cpu - self.cpu,
            allocs,
            maxrss,
        }
    }
}

/// Complete reply frames at the front of `buf`: calls `each(stream, opcode)` and returns the
/// bytes they take.
fn replies(buf: &[u8], mut each: impl FnMut(u16, u8)) -> Result<usize, BoxError> {
    let mut at = 0;
    while buf.len() - at >= HEADER {
        let h = &buf[at..at + HEADER];
        let len = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) as usize;
        if len > 1 << 20 {
            return Err(format!("reply frame of {len} bytes").into());
        }
        if buf.len() - at < HEADER + len {
            break;
        }
        each(u16::from_be_bytes([h[2], h[3]]), h[4]);
        at += HEADER + len;
    }
    Ok(at)
}

/// Closed loop: every reply sends the next request on the same stream id.
async fn closed(a: &Args) -> Result<Outcome, BoxError> {
    let (mut sock, frame) = connect(a).await?;
    let (mut rd, mut wr) = sock.split();
    let n = a.concurrency.clamp(1, 32_768) as usize;
    let mut hist = drive::histogram();
    let mut sent = vec![Instant::now(); n];
    let mut out = Vec::with_capacity(n * frame.len());
    for sid in 0..n {
        push(&mut out, &frame, sid as u16);
    }
    let mut buf = Vec::with_capacity(256 * 1024);
    let mut written = 0;
    let begin = Instant::now();
    let measure_at = begin + Duration::from_secs_f64(a.warmup);
    let mut window: Option<(Window, Instant)> = None;
    let (mut requests, mut errors) = (0_u64, 0_u64);
    let mut pending = Vec::with_capacity(n);
    loop {
        tokio::select! {
            biased;
            r = rd.read_buf(&mut buf) => {
                if r? == 0 {
                    return Err("the server closed the connection".into());
                }
                let now = Instant::now();
                let measuring = window.is_some();
                let used = replies(&buf, |sid, op| {
                    if measuring {
                        if op == OP_RESULT {
                            if let Some(t) = sent.get(sid as usize) {
                                let ns = now.duration_since(*t).as_nanos() as u64;
                                hist.saturating_record(ns.max(1));
                                requests += 1;
                            }
                        } else {
                            errors += 1;
                        }
                    }
                    pending.push(sid);
                })?;
                buf.drain(..used);
                if let Some((_, end)) = &window {
                    if now >= *end {
                        break;
                    }
                } else if now >= measure_at {
                    window = Some((Window::open(), now + Duration::from_secs_f64(a.duration)));
                }
                let now = Instant::now();
                for sid in pending.drain(..) {
                    if let Some(t) = sent.get_mut(sid as usize) {
                        *t = now;
                        push(&mut out, &frame, sid);
                    }
                }
            }
            w = wr.write(&out[written..]), if written < out.len() => {
                written += w?;
                if written == out.len() {
                    out.clear();
                    written = 0;
                }
            }
        }
    }
    let (w, _) = window.ok_or("the window never opened")?;
    Ok(w.close(hist, requests, errors, 0, 0))
}

/// Open loop: requests are due on a fixed schedule; latency counts from when each was due.
async fn open(a: &Args) -> Result<Outcome, BoxError> {
    let (mut sock, frame) = connect(a).await?;
    let (mut rd, mut wr) = sock.split();
    let n = a.concurrency.clamp(1, 32_768) as usize;
    let mut hist = drive::histogram();
    let mut due_at = vec![None::<Instant>; n];
    let mut free: Vec<u16> = (0..n as u16).rev().collect();
    let mut out = Vec::with_capacity(n * frame.len());
    let mut buf = Vec::with_capacity(256 * 1024);
    let mut written = 0;
    let schedule = drive::Schedule::new(a.rate, a.warmup, a.duration);
    let mut k = 0_u64;
    let mut window: Option<Window> = None;
    let (mut requests, mut errors, mut dropped) = (0_u64, 0_u64, 0_u64);
    loop {
        let now = Instant::now();
        if window.is_none() && now >= schedule.window_start {
            window = Some(Window::open());
        }
        while let Some(due) = schedule.due(k, now) {
            match free.pop() {
                Some(sid) => {
                    due_at[sid as usize] = Some(due);
                    push(&mut out, &frame, sid);
                }
                None if schedule.in_window(due) => dropped += 1,
                None => {}
            }
            k += 1;
        }
        let outstanding = n - free.len();
        if schedule.finished(k) && (outstanding == 0 || now >= schedule.drain_deadline) {
            let late = outstanding as u64;
            let w = window.ok_or("the window never opened")?;
            let mut o = w.close(hist, requests, errors, dropped, late);
            // As in drive_open: answered requests due in the window, over its length.
            o.seconds = a.duration;
            return Ok(o);
        }
        tokio::select! {
            biased;
            r = rd.read_buf(&mut buf) => {
                if r? == 0 {
                    return Err("the server closed the connection".into());
                }
                let now = Instant::now();
                let used = replies(&buf, |sid, op| {
                    let Some(due) = due_at.get_mut(sid as usize).and_then(Option::take) else {
                        return;
                    };
                    if schedule.in_window(due) {
                        if op == OP_RESULT {
                            hist.saturating_record((now.duration_since(due).as_nanos() as u64).max(1));
                            requests += 1;
                        } else {
                            errors += 1;
                        }
                    }
                    free.push(sid);
                })?;
                buf.drain(..used);
            }
            w = wr.write(&out[written..]), if written < out.len() => {
                written += w?;
                if written == out.len() {
                    out.clear();
                    written = 0;
                }
            }
            () = schedule.wait(k) => {}
        }
    }
}

fn main() -> Result<(), BoxError> {
    let a = args();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let o = if a.rate > 0.0 {
        rt.block_on(open(&a))?
    } else {
        rt.block_on(closed(&a))?
    };
    let rec = Record::new(
        "floor",
        env!("CARGO_PKG_VERSION_TOKIO"),
        &a.workload,
        a.concurrency,
        "one",
        a.rate,
        &o,
        "raw tokio, one connection, pre-encoded frames (no driver)",
    );
    println!("{}", serde_json::to_string(&rec)?);
    if o.requests == 0 || o.errors > 0 {
        return Err(format!("{} requests, {} errors", o.requests, o.errors).into());
    }
    Ok(())
}
