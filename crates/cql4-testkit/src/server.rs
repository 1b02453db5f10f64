//! The scriptable fake server: 127.0.0.1:0, plain TCP or TLS ([`FakeServer::builder`]), any
//! number of connections, a script per connection (or the test drives each [`Peer`] itself),
//! every decoded request recorded.
//!
//! ```no_run
//! # async fn run() {
//! use cql4_frame::Opcode;
//! use cql4_testkit::{frames, server::FakeServer};
//! // Connection 0 answers one QUERY with Void; every later connection is closed at once.
//! let server = FakeServer::each(|mut peer| async move {
//!     if peer.index() > 0 {
//!         return;
//!     }
//!     peer.handshake().await;
//!     let s = peer.expect(Opcode::QUERY).await;
//!     peer.respond(s, frames::void()).await;
//!     peer.drain().await;
//! })
//! .await;
//! let client = cql4_conn::Client::connect(&server.config()).await.unwrap();
//! // … then inspect what the server decoded:
//! assert_eq!(server.requests_of(Opcode::QUERY).len(), 1);
//! # }
//! ```
//!
//! Every wait of a [`Peer`] is bounded by its timeout ([`DEFAULT_TIMEOUT`] unless changed), so
//! a script whose client never comes fails (its panic is kept and re-raised by
//! [`FakeServer::finish`]) instead of hanging. Dropping the server aborts the accept loop and
//! every script, which closes their connections.
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "a fake server's broken expectation is a failed test"
)]

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use cql4_frame::framing::{decode_frame, RawFrame};
use cql4_frame::request::{Request, RequestFrame};
use cql4_frame::response::Response;
use cql4_frame::{Compression, DecodeLimits, Opcode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};
use tokio_rustls::TlsAcceptor;

use crate::frames;

/// How long a [`Peer`] waits for the client, and [`FakeServer::accept`] for a connection.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
type EachScript = Arc<dyn Fn(Peer) -> BoxFuture + Send + Sync>;
type OnceScript = Box<dyn FnOnce(Peer) -> BoxFuture + Send>;

/// A request the server decoded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Recorded {
    /// Which connection it came on: 0 for the first accepted, then 1, 2, …
    pub connection: usize,
    /// Its stream id.
    pub stream: i16,
    /// Its opcode.
    pub opcode: Opcode,
    /// The decoded frame (message, tracing flag, custom payload).
    pub frame: RequestFrame,
    /// The frame as it came off the wire (header included, body compressed if it was).
    pub bytes: Bytes,
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    scripts: Mutex<Vec<AbortHandle>>,
    failures: Mutex<Vec<String>>,
    connections: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A script that panicked while holding the lock left consistent data: keep going.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fake CQL server. See the [module documentation](self).
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_task: JoinHandle<()>,
    incoming: tokio::sync::Mutex<mpsc::UnboundedReceiver<Peer>>,
    timeout: Duration,
    monitors: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("addr", &self.addr)
            .field("connections", &self.connections())
            .finish_non_exhaustive()
    }
}

enum Script {
    None,
    Once(Option<OnceScript>),
    Each(EachScript),
}

/// Options of a [`FakeServer`]: TLS, the timeout of every wait. The plain-TCP, default-timeout
/// servers are [`FakeServer::start`], [`FakeServer::once`] and [`FakeServer::each`].
#[derive(Clone, Default)]
#[must_use]
pub struct Builder {
    tls: Option<Arc<rustls::ServerConfig>>,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("tls", &self.tls.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Builder {
    /// Every connection starts with a TLS handshake under `config`; a connection whose
    /// handshake fails (or takes longer than the timeout) is closed and never reaches a script.
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// How long each wait lasts ([`DEFAULT_TIMEOUT`] unless set): a [`Peer`]'s reads and
    /// writes, [`FakeServer::accept`], [`FakeServer::finish`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// See [`FakeServer::start`].
    pub async fn start(self) -> FakeServer {
        FakeServer::spawn(Script::None, self).await
    }

    /// See [`FakeServer::once`].
    pub async fn once<F, Fut>(self, script: F) -> FakeServer
    where
        F: FnOnce(Peer) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let script: OnceScript = Box::new(move |peer| Box::pin(script(peer)));
        FakeServer::spawn(Script::Once(Some(script)), self).await
    }

    /// See [`FakeServer::each`].
    pub async fn each<F, Fut>(self, script: F) -> FakeServer
    where
        F: Fn(Peer) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        self.each_on(listener, script)
    }

    /// [`Self::each`] on a listener the caller bound: another loopback address, a port shared
    /// with other servers (the emulated cluster's nodes), a bind that may fail and be retried.
    pub fn each_on<F, Fut>(self, listener: TcpListener, script: F) -> FakeServer
    where
        F: Fn(Peer) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let script: EachScript = Arc::new(move |peer| Box::pin(script(peer)));
        FakeServer::serve(listener, Script::Each(script), self)
    }
}

impl FakeServer {
    /// Options: TLS, another timeout.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A server without a script: the test takes each connection with [`Self::accept`] and
    /// drives it itself.
    pub async fn start() -> Self {
        Builder::default().start().await
    }

    /// A server that runs `script` on its first connection; later connections are left to
    /// [`Self::accept`].
    pub async fn once<F, Fut>(script: F) -> Self
    where
        F: FnOnce(Peer) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Builder::default().once(script).await
    }

    /// A server that runs `script` on every connection; [`Peer::index`] tells them apart
    /// ("connection 0 does X, later ones do Y").
    pub async fn each<F, Fut>(script: F) -> Self
    where
        F: Fn(Peer) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Builder::default().each(script).await
    }

    async fn spawn(script: Script, options: Builder) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        Self::serve(listener, script, options)
    }

    fn serve(listener: TcpListener, mut script: Script, options: Builder) -> Self {
        let timeout = options.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let tls = options.tls.map(TlsAcceptor::from);
        let addr = listener.local_addr().expect("the listener's address");
        let shared = Arc::new(Shared::default());
        let monitors = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::unbounded_channel();
        let accept_task = {
            let shared = shared.clone();
            let monitors = monitors.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    // Answers go out frame by frame, as a server writes them.
                    let _ = stream.set_nodelay(true);
                    let index = shared.connections.fetch_add(1, Ordering::SeqCst);
                    let run = match &mut script {
                        Script::None => None,
                        Script::Once(once) => once.take(),
                        Script::Each(each) => {
                            let each = each.clone();
                            Some(Box::new(move |peer| each(peer)) as OnceScript)
                        }
                    };
                    let peer = |io| Peer::new(index, io, timeout, shared.clone());
                    let Some(acceptor) = &tls else {
                        match run {
                            Some(run) => {
                                let task = monitor(run(peer(Io::Plain(stream))), &shared);
                                lock(&monitors).push(task);
                            }
                            None => {
                                let _ = tx.send(peer(Io::Plain(stream)));
                            }
                        }
                        continue;
                    };
                    // The TLS handshake runs in the connection's own task: a client that
                    // stalls it holds up no other connection.
                    let (acceptor, tx, shared2) = (acceptor.clone(), tx.clone(), shared.clone());
                    let setup = async move {
                        let tls = match tokio::time::timeout(timeout, acceptor.accept(stream)).await
                        {
                            Ok(Ok(tls)) => tls,
                            _ => return,
                        };
                        let peer = Peer::new(index, Io::Tls(Box::new(tls)), timeout, shared2);
                        match run {
                            Some(run) => run(peer).await,
                            None => {
                                let _ = tx.send(peer);
                            }
                        }
                    };
                    let task = monitor(Box::pin(setup), &shared);
                    lock(&monitors).push(task);
                }
            })
        };
        Self {
            addr,
            shared,
            accept_task,
            incoming: tokio::sync::Mutex::new(rx),
            timeout,
            monitors,
        }
    }

    /// The address it listens on (127.0.0.1 unless [`Builder::each_on`] chose another).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A driver config for this server: plain TCP, no heartbeat (a script need not answer
    /// OPTIONS between requests), the driver's other defaults.
    pub fn config(&self) -> cql4_conn::Config {
        let mut config = cql4_conn::Config::new(self.addr.ip().to_string(), self.port());
        config.heartbeat_interval = None;
        config
    }

    /// The next connection no script took, within the timeout (panics otherwise).
    pub async fn accept(&self) -> Peer {
        let mut incoming = self.incoming.lock().await;
        match tokio::time::timeout(self.timeout, incoming.recv()).await {
            Ok(Some(peer)) => peer,
            Ok(None) => panic!("the fake server's accept loop ended"),
            Err(_) => panic!("no connection to the fake server within {:?}", self.timeout),
        }
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Every request decoded so far, in the order they were read (per connection; the order
    /// between connections is the order the scripts read them).
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// The decoded requests with this opcode.
    pub fn requests_of(&self, opcode: Opcode) -> Vec<Recorded> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.opcode == opcode)
            .cloned()
            .collect()
    }

    /// The panics of the scripts so far, as messages.
    pub fn failures(&self) -> Vec<String> {
        lock(&self.shared.failures).clone()
    }

    /// Stops the server: once this returns the listener is closed (a new connection is
    /// refused, as by a node that is down), and every script is aborted, which closes its
    /// connection.
    pub async fn stop(mut self) {
        self.accept_task.abort();
        // The aborted task's future, listener included, is dropped before its handle resolves.
        let _ = (&mut self.accept_task).await;
    }

    /// Waits (at most the timeout) for every script started so far to end, then fails the
    /// test with the first script's panic, if any. Scripts still running at the timeout are
    /// a failure too.
    pub async fn finish(self) {
        let monitors: Vec<JoinHandle<()>> = std::mem::take(&mut *lock(&self.monitors));
        let all = async {
            for m in monitors {
                let _ = m.await;
            }
        };
        if tokio::time::timeout(self.timeout, all).await.is_err() {
            panic!("fake server scripts still running after {:?}", self.timeout);
        }
        if let Some(first) = self.failures().first() {
            panic!("a fake server script failed: {first}");
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.accept_task.abort();
        for script in lock(&self.shared.scripts).iter() {
            script.abort();
        }
    }
}

/// Runs a script in its own task, keeping its abort handle (for the server's drop) and its
/// panic message (for [`FakeServer::finish`]).
fn monitor(run: BoxFuture, shared: &Arc<Shared>) -> JoinHandle<()> {
    let task = tokio::spawn(run);
    lock(&shared.scripts).push(task.abort_handle());
    let shared = shared.clone();
    tokio::spawn(async move {
        if let Err(e) = task.await {
            if e.is_panic() {
                let panic = e.into_panic();
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "a non-string panic".to_owned());
                lock(&shared.failures).push(message);
            }
        }
    })
}

/// A connection's socket, TLS or not.
enum Io {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl Io {
    fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(tcp) => tcp,
            Self::Tls(tls) => tls.get_ref().0,
        }
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// One accepted connection, seen from the server.
pub struct Peer {
    index: usize,
    stream: Io,
    buf: BytesMut,
    compression: Compression,
    timeout: Duration,
    limits: DecodeLimits,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("index", &self.index)
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

impl Peer {
    fn new(index: usize, stream: Io, timeout: Duration, shared: Arc<Shared>) -> Self {
        Self {
            index,
            stream,
            buf: BytesMut::new(),
            compression: Compression::None,
            timeout,
            limits: DecodeLimits::default(),
            shared,
        }
    }

    /// Whether the connection is TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Io::Tls(_))
    }

    /// Which connection this is: 0 for the first the server accepted, then 1, 2, …
    pub fn index(&self) -> usize {
        self.index
    }

    /// What the client's requests (and [`Self::respond`]'s answers) are compressed with, as
    /// STARTUP negotiated it.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// How long each wait for the client lasts.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The next whole frame, undecoded and not recorded (nothing is allocated per frame once
    /// the read buffer is warm), or `None` once the client closed. Panics when nothing comes
    /// within the timeout or the client's bytes are not frames.
    pub async fn recv_raw(&mut self) -> Option<RawFrame> {
        match self.recv_raw_within(self.timeout).await {
            Ok(frame) => frame,
            Err(()) => panic!(
                "connection {}: no request within {:?}",
                self.index, self.timeout
            ),
        }
    }

    async fn recv_raw_within(&mut self, timeout: Duration) -> Result<Option<RawFrame>, ()> {
        let deadline = crate::time::deadline_after(tokio::time::Instant::now(), timeout);
        loop {
            match decode_frame(&mut self.buf, &self.limits) {
                Ok(Some(frame)) => return Ok(Some(frame)),
                Ok(None) => {}
                Err(e) => panic!("connection {}: the client sent no frame: {e}", self.index),
            }
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(64 * 1024);
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Ok(Ok(0) | Err(_)) => return Ok(None),
                Ok(Ok(_)) => {}
                Err(_) => return Err(()),
            }
        }
    }

    /// The next request, decoded (with the negotiated compression) and recorded, or `None`
    /// once the client closed. Panics when nothing comes within the timeout.
    pub async fn request(&mut self) -> Option<RequestFrame> {
        let raw = self.recv_raw().await?;
        Some(self.decode(raw))
    }

    fn decode(&mut self, raw: RawFrame) -> RequestFrame {
        let mut bytes = Vec::with_capacity(frames::HEADER_LEN + raw.body.len());
        raw.encode(&mut bytes).expect("a frame read re-encodes");
        let opcode = raw.header.opcode;
        let frame = RequestFrame::decode(raw, self.compression, &self.limits)
            .unwrap_or_else(|e| panic!("connection {}: undecodable request: {e}", self.index));
        lock(&self.shared.requests).push(Recorded {
            connection: self.index,
            stream: frame.stream,
            opcode,
            frame: frame.clone(),
            bytes: Bytes::from(bytes),
        });
        frame
    }

    /// The next request, which must be `opcode`.
    pub async fn expect_request(&mut self, opcode: Opcode) -> RequestFrame {
        let request = self
            .request()
            .await
            .unwrap_or_else(|| panic!("connection {}: the client closed early", self.index));
        assert_eq!(
            request.message.opcode(),
            opcode,
            "connection {}: {:?}",
            self.index,
            request.message
        );
        request
    }

    /// The next request, which must be `opcode`; returns its stream.
    pub async fn expect(&mut self, opcode: Opcode) -> i16 {
        self.expect_request(opcode).await.stream
    }

    /// Reads exactly `n` requests; returns their streams.
    pub async fn requests(&mut self, n: usize) -> Vec<i16> {
        let mut streams = Vec::with_capacity(n);
        for _ in 0..n {
            let request = self
                .request()
                .await
                .unwrap_or_else(|| panic!("connection {}: the client closed early", self.index));
            streams.push(request.stream);
        }
        streams
    }

    /// Writes any bytes (errors ignored: the client may have gone, which the test asserts on
    /// its side).
    pub async fn send(&mut self, bytes: &[u8]) {
        let write = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        let _ = tokio::time::timeout(self.timeout, write).await;
    }

    /// Writes a well-formed response frame, compressed as negotiated.
    pub async fn respond(&mut self, stream: i16, message: Response) {
        let bytes = frames::response_with(stream, message, self.compression);
        self.send(&bytes).await;
    }

    /// OPTIONS → SUPPORTED (CQL_VERSION 3.4.7), STARTUP → READY.
    pub async fn handshake(&mut self) {
        self.handshake_offering(&[]).await;
    }

    /// Like [`Self::handshake`], offering these COMPRESSION algorithms; what STARTUP asks for
    /// is used from then on to decode requests and encode [`Self::respond`]'s answers.
    pub async fn handshake_offering(&mut self, compression: &[&str]) {
        let (startup, negotiated) = self.options_and_startup(compression).await;
        self.respond(startup, frames::ready()).await;
        self.compression = negotiated;
    }

    /// OPTIONS → SUPPORTED, STARTUP → AUTHENTICATE `authenticator`, AUTH_RESPONSE →
    /// AUTH_SUCCESS. Returns the client's token.
    pub async fn handshake_authenticated(&mut self, authenticator: &str) -> Option<Bytes> {
        let (startup, negotiated) = self.options_and_startup(&[]).await;
        self.respond(startup, frames::authenticate(authenticator))
            .await;
        self.compression = negotiated;
        let answer = self.expect_request(Opcode::AUTH_RESPONSE).await;
        let Request::AuthResponse(auth) = answer.message else {
            unreachable!("expect_request checked the opcode")
        };
        self.respond(answer.stream, frames::auth_success(None))
            .await;
        auth.token
    }

    /// Answers OPTIONS and reads STARTUP; leaves STARTUP unanswered. Returns its stream and
    /// the compression it asked for, which applies to the frames after the answer to STARTUP.
    async fn options_and_startup(&mut self, compression: &[&str]) -> (i16, Compression) {
        let s = self.expect(Opcode::OPTIONS).await;
        let mut options: Vec<(&str, &[&str])> = vec![("CQL_VERSION", &["3.4.7"])];
        if !compression.is_empty() {
            options.push(("COMPRESSION", compression));
        }
        self.respond(s, frames::supported(&options)).await;
        let startup = self.expect_request(Opcode::STARTUP).await;
        let mut negotiated = Compression::None;
        if let Request::Startup(st) = &startup.message {
            for (key, value) in &st.options {
                if key == "COMPRESSION" {
                    negotiated = match value.as_str() {
                        "lz4" => Compression::Lz4,
                        "snappy" => Compression::Snappy,
                        other => panic!("STARTUP asked for compression {other:?}"),
                    };
                }
            }
        }
        (startup.stream, negotiated)
    }

    /// Reads (and records) requests until the client closes or stays silent for the
    /// timeout. Returns whether the client closed: once it has, every later call returns
    /// `true` at once, so a script waiting for the client to go loops only while this is
    /// `false`.
    pub async fn drain(&mut self) -> bool {
        loop {
            match self.recv_raw_within(self.timeout).await {
                Ok(Some(raw)) => {
                    self.decode(raw);
                }
                Ok(None) => return true,
                Err(()) => return false,
            }
        }
    }

    /// Closes the connection (FIN).
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.stream.shutdown()).await;
    }

    /// Resets the connection (RST: SO_LINGER 0, then close; no TLS close_notify).
    pub fn reset(self) {
        linger_zero(self.stream.tcp());
    }
}

/// Makes the socket's close an RST rather than a FIN, as a crashed peer or a middlebox would.
fn linger_zero(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}

/// Closes `stream` with an RST (see [`linger_zero`]).
pub(crate) fn reset(stream: TcpStream) {
    linger_zero(&stream);
    drop(stream);
}
