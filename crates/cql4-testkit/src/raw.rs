//! A raw, authenticated connection for testing servers: send any bytes (wrong lengths, unknown
//! opcodes, invalid values, any stream id) and read back whole [`RawFrame`]s, which the caller
//! decodes lazily (e.g. `ResponseFrame::decode`).
//!
//! A [`RawConnection`] is its own connection, with no multiplexer: the caller owns every
//! stream id (`0..=32767`, and negative ones too if it wants to see what the server does), so
//! raw traffic can never corrupt a [`cql4_conn::Client`]'s stream table. It has no I/O task
//! either: [`RawConnection::send`] writes, [`RawConnection::recv`] reads, both in the caller's
//! task and both bounded by a timeout.
//!
//! What stays safe however hostile the bytes in either direction:
//! - reads are split into frames by `cql4_frame::framing::decode_frame` under the configured
//!   [`DecodeLimits`] (a server frame over `max_frame_body` closes the connection before
//!   anything is allocated for it);
//! - every write and every wait for an answer is bounded (default: [`Config::request_timeout`]);
//! - the connection is closed as soon as its state is unknown, and [`RawConnection::state`]
//!   says so.
//!
//! # Framing and the connection's state
//!
//! ```text
//!            send(whole frames)            send(bytes that are not whole frames)
//!   Framed ───────────────────▶ Framed   Framed ─────────────────────────────▶ FramingUnknown
//!                                                                                │ recv: frames
//!   any state ── EOF / I/O error / undecodable server frame / write timeout ──▶ Closed
//!   FramingUnknown ── recv timeout ──▶ Closed (shut down)
//! ```
//!
//! Each [`RawConnection::send`] classifies its bytes by walking the 9-byte v3–v5 headers
//! (native_protocol_v4.spec §2: version, flags, stream, opcode, 4-byte length): when they are a
//! whole number of frames ([`Framing::Frames`]) the server and we still agree where the next
//! frame starts. Otherwise ([`Framing::Unknown`]: a body shorter or longer than its length
//! field, a truncated header, a v1/v2 version byte whose header is 8 bytes) the server may be
//! waiting for body bytes or reading our bytes as the next header: from then on nothing more
//! can be sent, the server's reaction can still be read with [`RawConnection::recv`], and the
//! first silence closes the connection.
//!
//! ```no_run
//! # async fn run() -> Result<(), cql4_testkit::raw::RawError> {
//! use cql4_testkit::raw::{frame, RawConnection, Reaction};
//! let config = cql4_conn::Config::new("127.0.0.1", 9042);
//! let mut raw = RawConnection::connect(&config).await?;
//! // OPTIONS (opcode 0x05, empty body) on stream 1234, chosen by the caller.
//! raw.send(&frame(0, 1234, 0x05, b"")).await?;
//! if let Reaction::Frame(answer) = raw.recv().await {
//!     assert_eq!(answer.header.stream, 1234);
//! }
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use cql4_frame::framing::{decode_frame, RawFrame};
use cql4_frame::DecodeLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use cql4_conn::testkit::AsyncIo;
use cql4_conn::Config;
use cql4_frame::DecodeError;

type BoxIo = Box<dyn AsyncIo>;

use crate::frames::HEADER_LEN;
/// Reads ask for at least this much room.
const READ_CHUNK: usize = 64 * 1024;

/// How the bytes of one [`RawConnection::send`] split into frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Framing {
    /// Exactly this many whole frames (each header's length field matches the bytes that
    /// follow it): the framing is still known.
    Frames(usize),
    /// Not a whole number of frames: where the server's next frame starts is unknown.
    Unknown,
}

/// Where a raw connection stands.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RawState {
    /// Open, and both sides agree where the next frame starts.
    Framed,
    /// Bytes that were not whole frames were sent: no more sends; the server's reaction can
    /// still be read until it closes or stays silent for a timeout.
    FramingUnknown,
    /// Closed, and why.
    Closed(Arc<RawClose>),
}

/// What the server did after a [`RawConnection::recv`] started waiting.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Reaction {
    /// A whole frame, on any stream id (answers, and EVENT pushes on -1 if the caller
    /// REGISTERed). Its body is not decoded.
    Frame(RawFrame),
    /// The connection is closed (by the server, by a socket error, by a server frame that
    /// could not be framed under the limits, or by the state becoming unknown).
    Closed(Arc<RawClose>),
    /// No whole frame within `waited`. With [`RawState::Framed`] the connection stays open;
    /// with [`RawState::FramingUnknown`] it is now closed.
    Silent {
        /// How long the call waited.
        waited: Duration,
    },
}

/// Why a raw connection closed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RawClose {
    /// The socket failed.
    Io(std::io::Error),
    /// The server closed the connection.
    EndOfStream,
    /// A server frame could not be split off the stream under the limits.
    Decode(DecodeError),
    /// [`RawConnection::close`] was called.
    ClosedByOwner,
    /// Bytes that were not whole frames were sent and the server then stayed silent: where its
    /// next frame starts is unknown, so nothing more may be sent.
    FramingUnknown,
    /// A write did not complete within the timeout; how much the server got is unknown.
    WriteTimeout(Duration),
}

impl std::fmt::Display for RawClose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::EndOfStream => f.write_str("the server closed the connection"),
            Self::Decode(e) => write!(f, "undecodable frame: {e}"),
            Self::ClosedByOwner => f.write_str("closed by its owner"),
            Self::FramingUnknown => {
                f.write_str("bytes that were not whole frames were sent: the framing is unknown")
            }
            Self::WriteTimeout(d) => {
                write!(f, "a write did not complete within {} ms", d.as_millis())
            }
        }
    }
}

/// What opening a raw connection or sending on it fails with.
#[derive(Debug)]
#[non_exhaustive]
pub enum RawError {
    /// Opening failed: TCP, TLS, the handshake or authentication (the driver's own error).
    Connect(cql4_conn::Error),
    /// The connection is closed or its framing is unknown: nothing was written.
    Closed(Arc<RawClose>),
    /// The write did not complete within this timeout; the connection is now closed.
    WriteTimeout(Duration),
}

impl std::fmt::Display for RawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "cannot open the raw connection: {e}"),
            Self::Closed(reason) => write!(f, "the raw connection is closed: {reason}"),
            Self::WriteTimeout(d) => {
                write!(f, "a write did not complete within {} ms", d.as_millis())
            }
        }
    }
}

impl std::error::Error for RawError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect(e) => Some(e),
            Self::Closed(_) | Self::WriteTimeout(_) => None,
        }
    }
}

/// Builds a v4 request frame (version 0x04) with the caller's flags, stream id, opcode and
/// body; the length field is the body's length. The same builder as
/// [`crate::frames::request_frame`]; use [`crate::frames::Frame`] for anything else (a lying
/// length, another version byte).
pub use crate::frames::request_frame as frame;

/// Splits `bytes` into frames by their headers without decoding anything: [`Framing::Frames`]
/// when they are a whole number of v3–v5 frames (9-byte headers, version byte `0x03..=0x05`
/// with either direction bit), [`Framing::Unknown`] otherwise.
pub fn framing(bytes: &[u8]) -> Framing {
    let mut rest = bytes;
    let mut frames = 0usize;
    while !rest.is_empty() {
        let Some((header, body)) = rest.split_first_chunk::<HEADER_LEN>() else {
            return Framing::Unknown;
        };
        // §2.1: v1 and v2 headers are 8 bytes (1-byte stream id); the server would read the
        // rest differently.
        if !(3..=5).contains(&(header[0] & 0x7f)) {
            return Framing::Unknown;
        }
        let length = u32::from_be_bytes([header[5], header[6], header[7], header[8]]);
        let Ok(length) = usize::try_from(length) else {
            return Framing::Unknown;
        };
        match body.get(length..) {
            Some(next) => rest = next,
            None => return Framing::Unknown,
        }
        frames += 1;
    }
    Framing::Frames(frames)
}

/// An authenticated connection on which the caller sends arbitrary bytes and reads raw
/// frames. See the [module documentation](self).
pub struct RawConnection {
    io: BoxIo,
    read_buf: BytesMut,
    limits: DecodeLimits,
    timeout: Duration,
    state: RawState,
}

impl std::fmt::Debug for RawConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawConnection")
            .field("state", &self.state)
            .field("timeout", &self.timeout)
            .field("buffered", &self.read_buf.len())
            .finish_non_exhaustive()
    }
}

impl RawConnection {
    /// Opens a connection exactly as [`cql4_conn::connect`] does (TCP, TLS, OPTIONS/STARTUP,
    /// authentication, all within [`Config::connect_timeout`]), but without compression, so
    /// that the caller's bytes are what the server reads, and hands it over raw: no
    /// multiplexer, no heartbeat. Reads are bounded by [`Config::limits`]; `send` and `recv`
    /// by [`Config::request_timeout`] unless told otherwise.
    pub async fn connect(config: &Config) -> Result<Self, RawError> {
        let (io, read_buf) = cql4_conn::testkit::open_handshaken(config)
            .await
            .map_err(RawError::Connect)?;
        Ok(Self::from_parts(
            io,
            read_buf,
            config.limits.clone(),
            config.request_timeout,
        ))
    }

    /// A raw connection over an established (handshaken) stream, e.g. one end of
    /// `tokio::io::duplex` in a test.
    pub fn from_parts(
        io: BoxIo,
        read_buf: BytesMut,
        limits: DecodeLimits,
        timeout: Duration,
    ) -> Self {
        Self {
            io,
            read_buf,
            limits,
            timeout,
            state: RawState::Framed,
        }
    }

    /// Where the connection stands.
    pub fn state(&self) -> &RawState {
        &self.state
    }

    /// The timeout of [`Self::send`] and [`Self::recv`].
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sets the timeout of [`Self::send`] and [`Self::recv`].
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Writes `bytes` as they are (and flushes), within the timeout, and says how they split
    /// into frames. Bytes that are not whole frames move the state to
    /// [`RawState::FramingUnknown`]. Fails with [`RawError::Closed`] when the connection is
    /// closed or its framing is already unknown (nothing is written then), and closes the
    /// connection when the write fails or times out (how much the server got is unknown).
    pub async fn send(&mut self, bytes: &[u8]) -> Result<Framing, RawError> {
        match &self.state {
            RawState::Framed => {}
            RawState::FramingUnknown => {
                return Err(RawError::Closed(Arc::new(RawClose::FramingUnknown)))
            }
            RawState::Closed(reason) => return Err(RawError::Closed(reason.clone())),
        }
        let framing = framing(bytes);
        let write = async {
            self.io.write_all(bytes).await?;
            self.io.flush().await
        };
        match tokio::time::timeout(self.timeout, write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(RawError::Closed(self.close_with(RawClose::Io(e)).await)),
            Err(_) => {
                let timeout = self.timeout;
                self.close_with(RawClose::WriteTimeout(timeout)).await;
                return Err(RawError::WriteTimeout(timeout));
            }
        }
        if framing == Framing::Unknown {
            self.state = RawState::FramingUnknown;
        }
        Ok(framing)
    }

    /// Waits for the next whole frame from the server, at most the timeout.
    pub async fn recv(&mut self) -> Reaction {
        let timeout = self.timeout;
        self.recv_within(timeout).await
    }

    /// Waits for the next whole frame from the server, at most `timeout`. Frames already
    /// buffered are returned first, even after the server closed.
    pub async fn recv_within(&mut self, timeout: Duration) -> Reaction {
        let started = Instant::now();
        let deadline =
            crate::time::deadline_after(tokio::time::Instant::from_std(started), timeout);
        loop {
            match decode_frame(&mut self.read_buf, &self.limits) {
                Ok(Some(frame)) => return Reaction::Frame(frame),
                Ok(None) => {}
                // The server's bytes cannot be framed (foreign version, a body over the
                // limit): nothing after them can be trusted.
                Err(e) => return Reaction::Closed(self.close_with(RawClose::Decode(e)).await),
            }
            if let RawState::Closed(reason) = &self.state {
                return Reaction::Closed(reason.clone());
            }
            if self.read_buf.capacity() - self.read_buf.len() < READ_CHUNK / 4 {
                self.read_buf.reserve(READ_CHUNK);
            }
            // `read_buf` is cancel-safe: a timeout loses no bytes.
            match tokio::time::timeout_at(deadline, self.io.read_buf(&mut self.read_buf)).await {
                Ok(Ok(0)) => {
                    // Frames already buffered are still delivered by the loop above; after
                    // them, the close.
                    self.state = RawState::Closed(Arc::new(RawClose::EndOfStream));
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Reaction::Closed(self.close_with(RawClose::Io(e)).await),
                Err(_) => {
                    if matches!(self.state, RawState::FramingUnknown) {
                        self.close_with(RawClose::FramingUnknown).await;
                    }
                    return Reaction::Silent {
                        waited: started.elapsed(),
                    };
                }
            }
        }
    }

    /// Sends `bytes`, then waits (at most the timeout, in total) for the answer: the first
    /// frame on `stream`, or on any other non-negative stream id, since a server that answers
    /// on the wrong id is what a test wants to see (Cassandra 5.0 answers an opcode >= 0x80 on
    /// stream 0). Server pushes (negative ids, native_protocol_v4.spec §2.3: EVENT on -1) are
    /// skipped unless `stream` is negative itself. Meant for one request at a time; pipelined
    /// requests use [`Self::send`] and [`Self::recv`]. Returns the framing of what was sent and
    /// the server's reaction; compare `frame.header.stream` with `stream`.
    pub async fn request(
        &mut self,
        bytes: &[u8],
        stream: i16,
    ) -> Result<(Framing, Reaction), RawError> {
        let framing = self.send(bytes).await?;
        let started = Instant::now();
        loop {
            let left = self.timeout.saturating_sub(started.elapsed());
            match self.recv_within(left).await {
                Reaction::Frame(f) if f.header.stream < 0 && f.header.stream != stream => {
                    tracing::debug!(stream = f.header.stream, "raw: server push skipped");
                }
                Reaction::Silent { .. } => {
                    return Ok((
                        framing,
                        Reaction::Silent {
                            waited: started.elapsed(),
                        },
                    ))
                }
                reaction => return Ok((framing, reaction)),
            }
        }
    }

    /// Closes the connection (TLS close_notify / FIN, best effort, within the timeout).
    pub async fn close(&mut self) {
        self.close_with(RawClose::ClosedByOwner).await;
    }

    /// Moves to [`RawState::Closed`] (keeping the first reason) and shuts the socket down.
    async fn close_with(&mut self, reason: RawClose) -> Arc<RawClose> {
        if let RawState::Closed(first) = &self.state {
            return first.clone();
        }
        let reason = Arc::new(reason);
        self.state = RawState::Closed(reason.clone());
        let _ = tokio::time::timeout(self.timeout, self.io.shutdown()).await;
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::DuplexStream;

    const LONG: Duration = Duration::from_secs(5);

    fn pair(buffer: usize, timeout: Duration) -> (RawConnection, DuplexStream) {
        let (client, server) = tokio::io::duplex(buffer);
        let raw = RawConnection::from_parts(
            Box::new(client),
            BytesMut::new(),
            DecodeLimits::default(),
            timeout,
        );
        (raw, server)
    }

    fn response(stream: i16, opcode: u8, body: &[u8]) -> Vec<u8> {
        crate::frames::Frame::response(stream, cql4_frame::Opcode(opcode))
            .body(body)
            .bytes()
    }

    async fn read_exactly(server: &mut DuplexStream, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        server.read_exact(&mut buf).await.unwrap();
        buf
    }

    #[test]
    fn framing_counts_whole_frames_only() {
        let options = frame(0, 0, 0x05, b"");
        let query = frame(0, 7, 0x07, b"\0\0\0\x01x\0\x01\0");
        assert_eq!(framing(b""), Framing::Frames(0));
        assert_eq!(framing(&options), Framing::Frames(1));
        let two = [options.clone(), query.clone()].concat();
        assert_eq!(framing(&two), Framing::Frames(2));
        // Every truncation of a whole frame is unknown.
        for cut in 1..query.len() {
            assert_eq!(framing(&query[..cut]), Framing::Unknown, "cut at {cut}");
        }
        // A body longer than its length field: the extra bytes would start the next header.
        assert_eq!(framing(&[&query[..], b"x"].concat()), Framing::Unknown);
        // A length field larger than the body.
        let mut lying = query.clone();
        lying[8] += 1;
        assert_eq!(framing(&lying), Framing::Unknown);
        lying[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(framing(&lying), Framing::Unknown);
        // v1/v2 headers are 8 bytes: unknown; v3 and v5 share the 9-byte header.
        let mut v2 = options.clone();
        v2[0] = 0x02;
        assert_eq!(framing(&v2), Framing::Unknown);
        let mut v5 = options;
        v5[0] = 0x85;
        assert_eq!(framing(&v5), Framing::Frames(1));
    }

    #[test]
    fn frame_builder_writes_a_v4_request_header() {
        let f = frame(0x02, -3, 0x0B, b"abc");
        assert_eq!(
            f,
            [0x04, 0x02, 0xff, 0xfd, 0x0B, 0, 0, 0, 3, b'a', b'b', b'c']
        );
    }

    #[tokio::test]
    async fn chosen_stream_id_travels_unchanged_and_its_answer_comes_back() {
        let (mut raw, mut server) = pair(1 << 16, LONG);
        // An id no multiplexer would choose next, and one past the v4 range's sign.
        for stream in [32_767i16, 12_345, -5] {
            let sent = frame(0, stream, 0x05, b"");
            assert_eq!(raw.send(&sent).await.unwrap(), Framing::Frames(1));
            assert_eq!(read_exactly(&mut server, sent.len()).await, sent);
            server
                .write_all(&response(stream, 0x06, b"\0\0"))
                .await
                .unwrap();
            match raw.recv().await {
                Reaction::Frame(f) => {
                    assert_eq!(f.header.stream, stream);
                    assert_eq!(f.header.opcode.0, 0x06);
                    assert_eq!(&f.body[..], b"\0\0");
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(raw.state(), RawState::Framed));
    }

    #[tokio::test]
    async fn request_skips_pushes_but_returns_an_answer_on_the_wrong_stream() {
        let (mut raw, mut server) = pair(1 << 16, LONG);
        let server_task = tokio::spawn(async move {
            read_exactly(&mut server, 9).await;
            let mut out = response(-1, 0x0C, b"event");
            out.extend(response(-7, 0x0C, b"push"));
            out.extend(response(9, 0x00, b"mine"));
            server.write_all(&out).await.unwrap();
            read_exactly(&mut server, 9).await;
            // Answered on stream 0 instead of 12, as Cassandra does for opcodes >= 0x80.
            server
                .write_all(&response(0, 0x00, b"misrouted"))
                .await
                .unwrap();
            read_exactly(&mut server, 9).await;
            server
                .write_all(&response(-1, 0x0C, b"event"))
                .await
                .unwrap();
            server
        });
        let (framing, reaction) = raw.request(&frame(0, 9, 0x63, b""), 9).await.unwrap();
        assert_eq!(framing, Framing::Frames(1));
        match reaction {
            Reaction::Frame(f) => assert_eq!(&f.body[..], b"mine"),
            other => panic!("{other:?}"),
        }
        match raw.request(&frame(0, 12, 0xC1, b""), 12).await.unwrap().1 {
            Reaction::Frame(f) => {
                assert_eq!(f.header.stream, 0);
                assert_eq!(&f.body[..], b"misrouted");
            }
            other => panic!("{other:?}"),
        }
        // A request on a negative id gets the push on that id.
        match raw.request(&frame(0, -1, 0x05, b""), -1).await.unwrap().1 {
            Reaction::Frame(f) => assert_eq!(f.header.stream, -1),
            other => panic!("{other:?}"),
        }
        drop(server_task.await.unwrap());
    }

    #[tokio::test]
    async fn answer_split_across_reads_is_reassembled() {
        let (mut raw, mut server) = pair(1 << 16, LONG);
        let answer = response(1, 0x08, &[7; 300]);
        let writer = tokio::spawn(async move {
            for chunk in answer.chunks(7) {
                server.write_all(chunk).await.unwrap();
                tokio::task::yield_now().await;
            }
            server
        });
        match raw.recv().await {
            Reaction::Frame(f) => assert_eq!(f.body.len(), 300),
            other => panic!("{other:?}"),
        }
        drop(writer.await.unwrap());
    }

    #[tokio::test]
    async fn silence_with_known_framing_keeps_the_connection_open() {
        let (mut raw, mut server) = pair(1 << 16, Duration::from_millis(30));
        raw.send(&frame(0, 1, 0x05, b"")).await.unwrap();
        assert!(
            matches!(raw.recv().await, Reaction::Silent { waited } if waited >= Duration::from_millis(30))
        );
        assert!(matches!(raw.state(), RawState::Framed));
        server.write_all(&response(1, 0x06, b"\0\0")).await.unwrap();
        assert!(matches!(raw.recv().await, Reaction::Frame(_)));
    }

    #[tokio::test]
    async fn an_absurd_timeout_waits_instead_of_panicking() {
        // `--deadline-ms 18446744073709551615` reaches here as the wait.
        let (mut raw, mut server) = pair(1 << 16, Duration::MAX);
        raw.send(&frame(0, 1, 0x05, b"")).await.unwrap();
        server.write_all(&response(1, 0x06, b"\0\0")).await.unwrap();
        let waits = [Duration::MAX, Duration::from_millis(u64::MAX)];
        assert!(matches!(
            raw.recv_within(waits[0]).await,
            Reaction::Frame(_)
        ));
        server.write_all(&response(1, 0x06, b"\0\0")).await.unwrap();
        assert!(matches!(
            raw.recv_within(waits[1]).await,
            Reaction::Frame(_)
        ));
    }

    #[tokio::test]
    async fn partial_frame_makes_framing_unknown_then_silence_closes() {
        let (mut raw, mut server) = pair(1 << 16, Duration::from_millis(50));
        let mut lying = frame(0, 1, 0x07, b"0123");
        lying[8] = 100; // declares 100 bytes, sends 4
        assert_eq!(raw.send(&lying).await.unwrap(), Framing::Unknown);
        assert!(matches!(raw.state(), RawState::FramingUnknown));
        // Nothing more may be sent, and nothing more is written.
        let e = raw.send(&frame(0, 2, 0x05, b"")).await.unwrap_err();
        assert!(
            matches!(&e, RawError::Closed(r) if matches!(**r, RawClose::FramingUnknown)),
            "{e:?}"
        );
        assert!(e.to_string().contains("framing"), "{e}");
        // The server's reaction can still be read.
        server
            .write_all(&response(1, 0x00, b"protocol error"))
            .await
            .unwrap();
        assert!(matches!(raw.recv().await, Reaction::Frame(f) if f.header.opcode.0 == 0));
        // Silence now closes the connection; the server sees the end of the stream.
        assert!(matches!(raw.recv().await, Reaction::Silent { .. }));
        assert!(
            matches!(raw.state(), RawState::Closed(r) if matches!(**r, RawClose::FramingUnknown))
        );
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, lying);
        assert!(matches!(raw.recv().await, Reaction::Closed(_)));
    }

    #[tokio::test]
    async fn server_closing_is_a_typed_reaction_after_buffered_frames() {
        let (mut raw, mut server) = pair(1 << 16, LONG);
        server.write_all(&response(4, 0x00, b"bye")).await.unwrap();
        drop(server);
        assert!(matches!(raw.recv().await, Reaction::Frame(f) if f.header.stream == 4));
        match raw.recv().await {
            Reaction::Closed(r) => assert!(matches!(*r, RawClose::EndOfStream), "{r}"),
            other => panic!("{other:?}"),
        }
        let e = raw.send(&frame(0, 1, 0x05, b"")).await.unwrap_err();
        assert!(e.to_string().contains("closed the connection"), "{e}");
    }

    #[tokio::test]
    async fn server_frame_over_the_limit_closes_before_allocating() {
        let (mut raw, mut server) = pair(1 << 16, LONG);
        // Declares 2 GiB; only the header is sent.
        let mut header = response(1, 0x08, b"");
        header[5..9].copy_from_slice(&0x8000_0000u32.to_be_bytes());
        server.write_all(&header).await.unwrap();
        match raw.recv().await {
            Reaction::Closed(r) => assert!(matches!(*r, RawClose::Decode(_)), "{r}"),
            other => panic!("{other:?}"),
        }
        assert!(raw.read_buf.capacity() < 1 << 20);
        assert!(matches!(raw.state(), RawState::Closed(_)));
    }

    #[tokio::test]
    async fn server_frame_with_a_foreign_version_closes() {
        let (mut raw, mut server) = pair(1 << 16, LONG);
        let mut v3 = response(0, 0x00, b"");
        v3[0] = 0x83;
        server.write_all(&v3).await.unwrap();
        assert!(
            matches!(raw.recv().await, Reaction::Closed(r) if matches!(*r, RawClose::Decode(_)))
        );
    }

    #[tokio::test]
    async fn write_to_a_peer_that_never_reads_times_out_and_closes() {
        let (mut raw, _server) = pair(64, Duration::from_millis(50));
        let big = frame(0, 1, 0x07, &[0; 4096]);
        let e = raw.send(&big).await.unwrap_err();
        assert!(matches!(e, RawError::WriteTimeout(_)), "{e:?}");
        assert!(
            matches!(raw.state(), RawState::Closed(r) if matches!(**r, RawClose::WriteTimeout(_)))
        );
        // A later send fails at once with the same reason.
        let e = raw.send(&frame(0, 1, 0x05, b"")).await.unwrap_err();
        assert!(e.to_string().contains("write"), "{e}");
    }

    #[tokio::test]
    async fn connection_reset_is_a_typed_close() {
        let (mut raw, server) = pair(1 << 16, LONG);
        drop(server);
        // The duplex reports a broken pipe on write to a dropped peer.
        let e = raw.send(&frame(0, 1, 0x05, b"")).await.unwrap_err();
        assert!(
            matches!(&e, RawError::Closed(r) if matches!(**r, RawClose::Io(_))),
            "{e:?}"
        );
        assert!(matches!(raw.recv().await, Reaction::Closed(_)));
    }
}
