//! The loopback fault proxy: listens on 127.0.0.1:0, forwards each connection to a target
//! (the real node, or a [`crate::server::FakeServer`]), and misbehaves on demand. The [`Mode`]
//! is switched at run time, for every connection ([`Proxy::set`]) or for one
//! ([`Proxy::set_for`]); connections are numbered 0, 1, … in the order the proxy accepted them.
//!
//! Faults act on what the server sends, the client's bytes are always forwarded (except a
//! request an [`Injection`] answers itself).
//!
//! Two kinds of proxy:
//! - [`Proxy::start`] is byte-transparent, so it works in front of a TLS node: it forwards what
//!   it reads as it reads it. [`Mode::CutFrame`] then cuts whatever chunk comes next, and
//!   [`Mode::Inject`] is refused (the frames are encrypted).
//! - [`Proxy::start_framed`] splits both directions into CQL frames (9-byte headers, plain TCP
//!   targets only): faults act on whole frames, [`Mode::CutFrame`] cuts a server frame, and
//!   [`Mode::Inject`] answers matching requests itself instead of forwarding them. A header
//!   from either side declaring a body over the codec's limit (`DecodeLimits::max_frame_body`)
//!   closes the client's connection rather than be buffered.
//! - [`Proxy::start_framed_tls`] is a framed proxy in front of a TLS-only node: it accepts
//!   plain TCP from the client and speaks TLS to the node, so the faults still act on
//!   plaintext frames (the client connects without TLS; its login still runs end to end).
//!
//! ```no_run
//! # async fn run() {
//! use std::time::Duration;
//! use cql4_frame::Opcode;
//! use cql4_testkit::{frames, proxy::{Mode, Proxy}};
//! let proxy = Proxy::start_framed("127.0.0.1", 9042).await;
//! proxy.set(Mode::Latency(Duration::from_millis(200)));
//! // Connection 1 only: every QUERY gets a WriteTimeout, which the node never sees.
//! proxy.set_for(1, Mode::inject(Opcode::QUERY, frames::write_timeout("SIMPLE")));
//! # }
//! ```
#![expect(
    clippy::expect_used,
    reason = "a proxy that cannot bind is a failed test"
)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::BytesMut;
use cql4_conn::TlsConfig;
use cql4_frame::response::Response;
use cql4_frame::{DecodeLimits, Opcode};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;

use crate::frames::{self, HEADER_LEN};
use crate::server::reset;
use crate::time::deadline_after;

/// What the proxy does with a connection.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Mode {
    /// Forward everything.
    Pass,
    /// Forward the server's bytes this long after they arrived (in order).
    Latency(Duration),
    /// Keep the server's bytes until the mode changes (a delay as long as the test wants).
    Hold,
    /// Drop the server's bytes (a peer that stopped answering). A connection accepted in this
    /// mode is never forwarded at all: it is accepted, its bytes read and dropped.
    Blackhole,
    /// Reset the client's connection (RST) at once; new connections are reset on accept.
    Reset,
    /// Forward at most `keep` bytes of the server's next frame (framed proxy) or chunk
    /// (transparent proxy), never all of it, then close the client's connection.
    CutFrame {
        /// Bytes of the frame to forward before closing.
        keep: usize,
    },
    /// Answer the client's matching requests from the proxy instead of forwarding them (a
    /// framed proxy only); everything else passes.
    Inject(Injection),
}

impl Mode {
    /// Answers every request with `opcode` with `response` (on the request's stream).
    pub fn inject(opcode: Opcode, response: Response) -> Self {
        Self::Inject(Injection::new(opcode, move |stream| {
            frames::response(stream, response.clone())
        }))
    }
}

/// Which requests a [`Mode::Inject`] answers, and with what bytes.
#[derive(Clone)]
pub struct Injection {
    opcode: Opcode,
    answer: Arc<Answer>,
}

/// Given a request's stream and whole frame (header included): the bytes to answer with, or
/// `None` to forward it.
type Answer = dyn Fn(i16, &[u8]) -> Option<Vec<u8>> + Send + Sync;

impl Injection {
    /// Requests with `opcode` are answered with `answer(stream)`: any bytes, a well-formed
    /// frame or not.
    pub fn new(opcode: Opcode, answer: impl Fn(i16) -> Vec<u8> + Send + Sync + 'static) -> Self {
        Self::when(opcode, move |stream, _| Some(answer(stream)))
    }

    /// Requests with `opcode` are shown to `answer(stream, frame)` (the whole frame, header
    /// included): it returns the bytes to answer with, or `None` to forward the request (to
    /// answer some of them only: one in ten, those of one statement…).
    pub fn when(
        opcode: Opcode,
        answer: impl Fn(i16, &[u8]) -> Option<Vec<u8>> + Send + Sync + 'static,
    ) -> Self {
        Self {
            opcode,
            answer: Arc::new(answer),
        }
    }
}

impl std::fmt::Debug for Injection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Injection")
            .field("opcode", &self.opcode)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
struct Modes {
    all: Mode,
    one: HashMap<usize, Mode>,
}

impl Modes {
    fn of(&self, connection: usize) -> Mode {
        self.one.get(&connection).unwrap_or(&self.all).clone()
    }
}

/// A running proxy. See the [module documentation](self). Dropping it closes every
/// connection.
pub struct Proxy {
    addr: SocketAddr,
    framed: bool,
    target: SocketAddr,
    modes: watch::Sender<Modes>,
    connections: Arc<AtomicUsize>,
    accept_task: JoinHandle<()>,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("addr", &self.addr)
            .field("framed", &self.framed)
            .field("target", &self.target)
            .field("modes", &*self.modes.borrow())
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// A byte-transparent proxy in front of `host:port` (TLS passes through), in
    /// [`Mode::Pass`].
    pub async fn start(host: &str, port: u16) -> Self {
        Self::spawn(host, port, false, None).await
    }

    /// A proxy that splits both directions into CQL frames, in front of a plain-TCP
    /// `host:port`, in [`Mode::Pass`].
    pub async fn start_framed(host: &str, port: u16) -> Self {
        Self::spawn(host, port, true, None).await
    }

    /// A framed proxy in front of the TLS-only `host:port`: clients connect in plain TCP, the
    /// proxy connects with `tls` (its CA and server name; the name defaults to `host`), in
    /// [`Mode::Pass`]. Panics if `tls` cannot be built. A node whose TLS handshake fails has
    /// its client's connection closed.
    pub async fn start_framed_tls(host: &str, port: u16, tls: &TlsConfig) -> Self {
        let config = tls.build().expect("the proxy's TLS settings");
        let name = tls
            .server_name_for(host)
            .expect("the proxy's TLS server name");
        Self::spawn(host, port, true, Some(Tls { config, name })).await
    }

    async fn spawn(host: &str, port: u16, framed: bool, tls: Option<Tls>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy on 127.0.0.1:0");
        let addr = listener.local_addr().expect("the proxy's address");
        let (modes, rx) = watch::channel(Modes {
            all: Mode::Pass,
            one: HashMap::new(),
        });
        let connections = Arc::new(AtomicUsize::new(0));
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let target = Arc::new(Target {
            host: host.to_owned(),
            port,
            tls,
        });
        let target_addr = tokio::net::lookup_host((host, port))
            .await
            .ok()
            .and_then(|mut a| a.next())
            .expect("the proxy's target resolves");
        let accept_task = {
            let connections = connections.clone();
            let tasks = tasks.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let index = connections.fetch_add(1, Ordering::SeqCst);
                    let task = tokio::spawn(connection(
                        index,
                        client,
                        target.clone(),
                        rx.clone(),
                        framed,
                    ));
                    tasks
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(task.abort_handle());
                }
            })
        };
        Self {
            addr,
            framed,
            target: target_addr,
            modes,
            connections,
            accept_task,
            tasks,
        }
    }

    /// The proxy's address (127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address it forwards to.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// How many connections it accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Sets the mode of every connection, current and future (forgetting [`Self::set_for`]'s).
    pub fn set(&self, mode: Mode) {
        self.check(&mode);
        self.modes.send_modify(|m| {
            m.all = mode;
            m.one.clear();
        });
    }

    /// Sets the mode of connection `connection` (0 for the first accepted), now or once it is
    /// accepted.
    pub fn set_for(&self, connection: usize, mode: Mode) {
        self.check(&mode);
        self.modes.send_modify(|m| {
            m.one.insert(connection, mode);
        });
    }

    #[track_caller]
    fn check(&self, mode: &Mode) {
        assert!(
            self.framed || !matches!(mode, Mode::Inject(_)),
            "Mode::Inject needs a framed proxy (Proxy::start_framed)"
        );
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept_task.abort();
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            task.abort();
        }
    }
}

/// Where a proxy forwards, and how.
struct Target {
    host: String,
    port: u16,
    tls: Option<Tls>,
}

/// The node side of a [`Proxy::start_framed_tls`].
struct Tls {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

/// The proxy's connection to its target: TCP, or TLS over it.
trait ServerStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> ServerStream for T {}

async fn dial(target: &Target) -> Option<Box<dyn ServerStream>> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .ok()?;
    let _ = tcp.set_nodelay(true);
    let Some(tls) = &target.tls else {
        return Some(Box::new(tcp));
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(&tls.config));
    match connector.connect(tls.name.clone(), tcp).await {
        Ok(stream) => Some(Box::new(stream)),
        Err(e) => {
            tracing::warn!(host = %target.host, port = target.port, error = %e, "proxy: TLS handshake with the target failed");
            None
        }
    }
}

/// A framed proxy read a header declaring a body over the codec's limit
/// (`DecodeLimits::max_frame_body`): it closes that connection instead of buffering up to
/// 4 GiB waiting for the body.
#[derive(Debug, PartialEq, Eq)]
struct Oversized;

/// The next unit to act on: a whole frame when `framed`, else every byte read so far.
fn next_unit(buf: &mut BytesMut, framed: bool) -> Result<Option<BytesMut>, Oversized> {
    if buf.is_empty() {
        return Ok(None);
    }
    if !framed {
        return Ok(Some(buf.split()));
    }
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let length = u32::from_be_bytes([header[5], header[6], header[7], header[8]]);
    let length = usize::try_from(length).map_err(|_| Oversized)?;
    if length > DecodeLimits::default().max_frame_body {
        return Err(Oversized);
    }
    let total = HEADER_LEN.checked_add(length).ok_or(Oversized)?;
    Ok((buf.len() >= total).then(|| buf.split_to(total)))
}

/// What the client side does after flushing the server's units.
enum Flow {
    Go,
    Close,
    Reset,
}

async fn connection(
    index: usize,
    mut client: TcpStream,
    target: Arc<Target>,
    mut modes: watch::Receiver<Modes>,
    framed: bool,
) {
    let _ = client.set_nodelay(true);
    let first = modes.borrow_and_update().of(index);
    match first {
        Mode::Reset => return reset(client),
        Mode::Blackhole => {
            let mut sink = vec![0u8; 16 * 1024];
            while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
            return;
        }
        _ => {}
    }
    let Some(server) = dial(&target).await else {
        return;
    };
    let (mut server_rd, mut server_wr) = tokio::io::split(server);
    let (tx, mut from_server) = mpsc::unbounded_channel();
    // Reads the server into units stamped with their arrival; `None` is the server's EOF.
    let reader = tokio::spawn(async move {
        let mut buf = BytesMut::with_capacity(64 * 1024);
        loop {
            match server_rd.read_buf(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let now = Instant::now();
            loop {
                match next_unit(&mut buf, framed) {
                    Ok(Some(unit)) => {
                        if tx.send(Some((now, unit))).is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    // Ends the server's side as its EOF would: the frames before it still go
                    // to the client, then the client's connection is closed.
                    Err(Oversized) => {
                        let _ = tx.send(None);
                        return;
                    }
                }
            }
        }
        let _ = tx.send(None);
    });
    let _reader = AbortOnDrop(reader.abort_handle());

    let mut from_client = BytesMut::with_capacity(64 * 1024);
    let mut pending: VecDeque<(Instant, BytesMut)> = VecDeque::new();
    let mut server_closed = false;
    loop {
        let mode = modes.borrow_and_update().of(index);
        match flush(&mut client, &mut pending, &mode).await {
            Flow::Go => {}
            Flow::Close => break,
            Flow::Reset => return reset(client),
        }
        if server_closed && pending.is_empty() {
            break;
        }
        let due = match (&mode, pending.front()) {
            (Mode::Latency(d), Some((at, _))) => Some(deadline_after(*at, *d)),
            _ => None,
        };
        tokio::select! {
            read = client.read_buf(&mut from_client) => {
                if !matches!(read, Ok(n) if n > 0) {
                    break;
                }
                loop {
                    let unit = match next_unit(&mut from_client, framed) {
                        Ok(Some(unit)) => unit,
                        Ok(None) => break,
                        Err(Oversized) => {
                            let _ = client.shutdown().await;
                            return;
                        }
                    };
                    let injected = match &mode {
                        Mode::Inject(i) if unit.get(4) == Some(&i.opcode.0) => {
                            let stream = i16::from_be_bytes([unit[2], unit[3]]);
                            (i.answer)(stream, &unit)
                        }
                        _ => None,
                    };
                    let written = match injected {
                        Some(answer) => client.write_all(&answer).await,
                        None => server_wr.write_all(&unit).await,
                    };
                    if written.is_err() {
                        return;
                    }
                }
            }
            unit = from_server.recv(), if !server_closed => match unit {
                Some(Some(unit)) => pending.push_back(unit),
                _ => server_closed = true,
            },
            changed = modes.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            () = sleep_until(due), if due.is_some() => {}
        }
    }
    let _ = client.shutdown().await;
}

async fn sleep_until(due: Option<Instant>) {
    if let Some(due) = due {
        tokio::time::sleep_until(due).await;
    }
}

/// Writes (or drops, or cuts) the server's pending units as `mode` says.
async fn flush(
    client: &mut TcpStream,
    pending: &mut VecDeque<(Instant, BytesMut)>,
    mode: &Mode,
) -> Flow {
    let now = Instant::now();
    loop {
        let Some((at, unit)) = pending.front() else {
            return match mode {
                Mode::Reset => Flow::Reset,
                _ => Flow::Go,
            };
        };
        match mode {
            Mode::Pass | Mode::Inject(_) => {}
            Mode::Latency(d) if deadline_after(*at, *d) <= now => {}
            Mode::Latency(_) | Mode::Hold => return Flow::Go,
            Mode::Blackhole => {
                pending.clear();
                return Flow::Go;
            }
            Mode::Reset => return Flow::Reset,
            Mode::CutFrame { keep } => {
                let keep = (*keep).min(unit.len().saturating_sub(1));
                let _ = client.write_all(&unit[..keep]).await;
                return Flow::Close;
            }
        }
        if client.write_all(unit).await.is_err() {
            return Flow::Close;
        }
        pending.pop_front();
    }
}

struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(length: u32) -> BytesMut {
        let mut h = BytesMut::from(&[4u8, 0, 0, 1, 7][..]);
        h.extend_from_slice(&length.to_be_bytes());
        h
    }

    #[test]
    fn framed_units_are_whole_frames_within_the_codec_limit() {
        let mut buf = header(2);
        assert_eq!(next_unit(&mut buf, true), Ok(None));
        buf.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            next_unit(&mut buf, true).unwrap().unwrap().len(),
            HEADER_LEN + 2
        );
        assert_eq!(&buf[..], &[3]);
        let max = u32::try_from(DecodeLimits::default().max_frame_body).unwrap();
        assert_eq!(next_unit(&mut header(max), true), Ok(None));
        assert_eq!(next_unit(&mut header(max + 1), true), Err(Oversized));
        assert_eq!(next_unit(&mut header(u32::MAX), true), Err(Oversized));
        // Transparent: whatever was read, whatever it declares.
        assert_eq!(
            next_unit(&mut header(u32::MAX), false)
                .unwrap()
                .unwrap()
                .len(),
            9
        );
    }
}
