//! The misbehaving server of `tests/hostile_server.rs`: a plain-TCP listener on 127.0.0.1:0
//! that runs one script per test, and a small frame-building DSL over cql4-frame's encoders
//! (h2's `tests/h2-support` style) that can also build frames no encoder would: any version,
//! flags, opcode, stream and declared length.
#![allow(dead_code, unreachable_pub)]
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed setup step is a failed test"
)]

use std::future::Future;
use std::time::Duration;

use bytes::BytesMut;
use cql4::frame::compression::Compression;
use cql4::frame::frame::decode_frame;
use cql4::frame::request::{Request, RequestFrame};
use cql4::frame::response::{Response, ResponseFrame, Supported};
use cql4::frame::{DecodeLimits, Opcode};
use cql4::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, MutexGuard};
use tokio::task::JoinHandle;

/// The tests measure the process's allocations, so they run one at a time.
pub async fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::const_new(());
    LOCK.lock().await
}

/// A connection config for the fake server on `port`: small timeouts, no heartbeat.
pub fn config(port: u16) -> Config {
    let mut config = Config::new("127.0.0.1", port);
    config.connect_timeout = Duration::from_millis(1_500);
    config.request_timeout = Duration::from_millis(800);
    config.heartbeat_interval = None;
    config
}

/// One accepted connection, seen from the server.
pub struct Peer {
    stream: TcpStream,
    buf: BytesMut,
    /// What the client's requests are compressed with once STARTUP asked for it.
    compression: Compression,
}

/// Binds 127.0.0.1:0 and runs `script` on the first accepted connection. The task is aborted
/// when the returned handle is dropped by the test (via [`Script`]).
pub async fn serve<F, Fut>(script: F) -> Script
where
    F: FnOnce(Peer) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        script(Peer {
            stream,
            buf: BytesMut::new(),
            compression: Compression::None,
        })
        .await;
    });
    Script { port, task }
}

/// A running server script.
pub struct Script {
    pub port: u16,
    task: JoinHandle<()>,
}

impl Drop for Script {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Peer {
    /// The next request frame, or `None` once the client closed.
    pub async fn request(&mut self) -> Option<RequestFrame> {
        loop {
            if let Some(raw) = decode_frame(&mut self.buf, &DecodeLimits::default()).unwrap() {
                return Some(
                    RequestFrame::decode(raw, self.compression, &DecodeLimits::default()).unwrap(),
                );
            }
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The next request, which must be `opcode`; returns its stream.
    pub async fn expect(&mut self, opcode: Opcode) -> i16 {
        let request = self.request().await.expect("the client closed early");
        assert_eq!(request.message.opcode(), opcode, "{:?}", request.message);
        request.stream
    }

    /// Writes raw bytes (errors ignored: the client may have gone).
    pub async fn send(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
        let _ = self.stream.flush().await;
    }

    /// Writes a well-formed response frame.
    pub async fn respond(&mut self, stream: i16, message: Response) {
        self.send(&response(stream, message)).await;
    }

    /// OPTIONS → SUPPORTED, STARTUP → READY.
    pub async fn handshake(&mut self) {
        self.handshake_offering(&[]).await;
    }

    /// Like [`Peer::handshake`], offering these COMPRESSION algorithms.
    pub async fn handshake_offering(&mut self, compression: &[&str]) {
        let s = self.expect(Opcode::OPTIONS).await;
        let mut options = vec![("CQL_VERSION".to_owned(), vec!["3.4.7".to_owned()])];
        if !compression.is_empty() {
            options.push((
                "COMPRESSION".to_owned(),
                compression.iter().map(|c| (*c).to_owned()).collect(),
            ));
        }
        self.respond(s, Response::Supported(Supported { options }))
            .await;
        let startup = self.request().await.expect("the client closed early");
        if let Request::Startup(st) = &startup.message {
            if st
                .options
                .iter()
                .any(|(k, v)| k == "COMPRESSION" && v == "lz4")
            {
                self.compression = Compression::Lz4;
            }
        } else {
            panic!("expected STARTUP, got {:?}", startup.message);
        }
        self.respond(startup.stream, Response::Ready).await;
    }

    /// Reads (and drops) requests until the client closes.
    pub async fn drain(&mut self) {
        while self.request().await.is_some() {}
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        let _ = self.stream.shutdown().await;
    }

    /// Number of requests read so far is not tracked; this reads exactly `n` requests and
    /// returns their streams.
    pub async fn requests(&mut self, n: usize) -> Vec<i16> {
        let mut streams = Vec::with_capacity(n);
        for _ in 0..n {
            streams.push(
                self.request()
                    .await
                    .expect("the client closed early")
                    .stream,
            );
        }
        streams
    }
}

/// A response frame built by the codec's encoder.
pub fn response(stream: i16, message: Response) -> Vec<u8> {
    let mut out = Vec::new();
    ResponseFrame::new(stream, message)
        .encode(Compression::None, &mut out)
        .unwrap();
    out
}

/// Any frame at all: the header fields as given (the declared `length` need not match).
pub fn raw_frame(
    version: u8,
    flags: u8,
    stream: i16,
    opcode: u8,
    length: u32,
    body: &[u8],
) -> Vec<u8> {
    let mut out = vec![version, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.push(opcode);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A v4 response frame around `body` with a truthful length.
pub fn frame(stream: i16, opcode: Opcode, body: &[u8]) -> Vec<u8> {
    raw_frame(0x84, 0, stream, opcode.0, body.len() as u32, body)
}

/// A RESULT Rows body (kind included): global table spec `ks.t`, the given columns (name and
/// `[option]` bytes of the type), a declared row count, then the cells.
pub fn rows_body(columns: &[(&str, &[u8])], rows_count: i32, cells: &[Option<&[u8]>]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&2i32.to_be_bytes()); // kind Rows
    b.extend_from_slice(&1i32.to_be_bytes()); // Global_tables_spec
    b.extend_from_slice(&(columns.len() as i32).to_be_bytes());
    string(&mut b, "ks");
    string(&mut b, "t");
    for (name, ty) in columns {
        string(&mut b, name);
        b.extend_from_slice(ty);
    }
    b.extend_from_slice(&rows_count.to_be_bytes());
    for cell in cells {
        match cell {
            Some(v) => {
                b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                b.extend_from_slice(v);
            }
            None => b.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    b
}

/// Appends a `[string]`.
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Type `[option]` ids (native_protocol_v4.spec §4.2.5.2).
pub mod ty {
    pub const INT: &[u8] = &[0x00, 0x09];
    pub const VARCHAR: &[u8] = &[0x00, 0x0d];
    pub const LIST: [u8; 2] = [0x00, 0x20];
}

/// Is `request` a QUERY?
pub fn is_query(request: &Request) -> bool {
    matches!(request, Request::Query(_))
}
