//! The I/O task of one connection: moves bytes between the socket and the [`ConnState`] and
//! wakes callers. Every decision (which id, what expired, when to send a heartbeat, what is a
//! violation, when to close) is the sans-io [`ConnState`]'s; this file only does I/O and arms
//! one timer at the state's next deadline.
//!
//! One task owns both halves of the socket and `select!`s over: bytes to read, buffered bytes
//! to write, new requests, and the next deadline. Reads and writes progress independently (a
//! server blocked writing answers never blocks our writes, and the other way round).
//!
//! Coalescing without a timer (PEERS.md: gocql's 200 µs coalescer cost 20× latency): when a
//! request arrives, every request already queued in the channel is drained into the same write
//! buffer, then the buffer is written at once. A lone request is written immediately; under
//! load, requests that arrive while a write is in progress share the next write.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use cql4_frame::framing::{decode_frame, RawFrame};
use cql4_frame::DecodeLimits;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit};

use crate::backpressure::{Admission, OnQueueFull};
use crate::conn_state::{ConnState, Due, Routed, Transmit};
use crate::error::{CloseReason, Error};
use crate::frame_pool::FramePool;
use crate::heartbeat::{HeartbeatConfig, HEARTBEAT_FRAME};
use crate::metrics::{ConnMetrics, LiveGauges};
use crate::mux::{MuxConfig, SubmitError};
use crate::reply::{ReplySender, SlotPool};
use crate::stats::{SharedStats, StreamStats};

/// A byte stream the connection runs over: TCP, or TLS over TCP.
pub trait AsyncIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncIo for T {}

/// The boxed socket.
pub(crate) type BoxIo = Box<dyn AsyncIo>;

/// Writes stop taking new frames while this many bytes wait to be written, so a slow socket
/// cannot make the buffer grow without bound; the rest wait in the multiplexer's queue.
const MAX_WRITE_BUFFER: usize = 1024 * 1024;
/// Reads ask for at least a quarter of the read chunk as room; the chunk starts at the
/// smallest size and doubles, up to the largest, each time a read fills all the room it had
/// (the socket may hold more), so an idle connection keeps a small buffer.
const READ_CHUNK_MIN: usize = 4 * 1024;
const READ_CHUNK_MAX: usize = 64 * 1024;

/// The answer to one request: the raw response frame, or why there is none.
pub(crate) type Reply = Result<RawFrame, Error>;

/// A message from a [`crate::Client`] to the I/O task.
pub(crate) enum Command {
    /// Send a serialized frame (its header's stream id is replaced by the assigned one while
    /// it is copied into the write buffer) and answer on `reply`. A `Vec`, not `Bytes`: it is
    /// copied into the write buffer once and given back to [`Shared::frames`].
    Request {
        frame: Vec<u8>,
        deadline: Instant,
        timeout: Duration,
        reply: ReplySender,
        /// The request's place in the queue ([`Admission`]), given back once it is written.
        permit: OwnedSemaphorePermit,
    },
    /// Deliver EVENT frames (stream -1) to this channel from now on.
    Events(mpsc::Sender<RawFrame>),
}

/// A caller's request while it is in the stream table.
struct Pending {
    /// Taken when written; the rest waits for the answer.
    frame: Option<Vec<u8>>,
    timeout: Duration,
    reply: ReplySender,
    /// Dropped with the frame: a written request no longer counts against the queue limit.
    permit: Option<OwnedSemaphorePermit>,
}

impl Pending {
    fn fail(self, error: Error) {
        // The caller may have stopped waiting; nothing to do then.
        self.reply.send(Err(error));
    }
}

/// Settings of the I/O task.
#[derive(Debug, Clone)]
pub(crate) struct DriverConfig {
    pub(crate) mux: MuxConfig,
    pub(crate) limits: DecodeLimits,
    pub(crate) heartbeat: HeartbeatConfig,
    pub(crate) on_queue_full: OnQueueFull,
    pub(crate) metrics: ConnMetrics,
}

/// Shared between the I/O task and its clients: why the connection closed, once it has; the
/// queue's permits; the stream table's counts; callers that gave up.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) closed: OnceLock<Arc<CloseReason>>,
    pub(crate) admission: Admission,
    pub(crate) stats: SharedStats,
    pub(crate) metrics: ConnMetrics,
    /// Reply slots for reuse (see [`crate::reply`]).
    pub(crate) slots: SlotPool,
    /// Frame buffers for reuse (see [`crate::frame_pool`]).
    pub(crate) frames: FramePool,
    /// Callers that dropped their request before its answer, since the I/O task last looked.
    abandoned: AtomicUsize,
    /// Wakes the I/O task when a caller gives up, so that its queued request can be removed.
    wake: Notify,
}

impl Shared {
    pub(crate) fn new(admission: Admission, metrics: ConnMetrics) -> Self {
        Self {
            closed: OnceLock::new(),
            admission,
            stats: SharedStats::default(),
            metrics,
            slots: SlotPool::default(),
            frames: FramePool::default(),
            abandoned: AtomicUsize::new(0),
            wake: Notify::new(),
        }
    }

    /// A caller dropped its request before the answer (see `request_channel`'s guard).
    pub(crate) fn abandon(&self) {
        self.abandoned.fetch_add(1, Ordering::Relaxed);
        self.wake.notify_one();
    }

    pub(crate) fn closed_error(&self) -> Error {
        Error::Closed(
            self.closed
                .get()
                .cloned()
                .unwrap_or_else(|| Arc::new(CloseReason::ConnectionDropped)),
        )
    }
}

/// Appends `frame` to `out` with its stream id (§2.3, header bytes 2..4) replaced by `id`.
fn put_with_stream(out: &mut BytesMut, frame: &[u8], id: i16) {
    let (head, rest) = frame.split_at(frame.len().min(2));
    out.put_slice(head);
    out.put_i16(id);
    out.put_slice(rest.get(2..).unwrap_or_default());
}

pub(crate) struct Driver {
    pub(crate) io: BoxIo,
    /// Bytes read during the handshake past its last frame.
    pub(crate) read_buf: BytesMut,
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) config: DriverConfig,
}

impl Driver {
    pub(crate) async fn run(self) -> Result<(), Error> {
        let Self {
            io,
            mut read_buf,
            mut commands,
            shared,
            config,
        } = self;
        let (mut rd, mut wr) = tokio::io::split(io);
        let mut state = ConnState::new(config.mux.clone(), config.heartbeat, Instant::now());
        // Empty until the first frame: it grows to what the traffic needs and keeps that, so an
        // idle connection (thousands in a pool) holds no write buffer.
        let mut write_buf = BytesMut::new();
        // Bytes to write or flush: set while `write_buf` holds any, cleared once all are written
        // and flushed.
        let mut need_flush = false;
        let mut commands_open = true;
        let mut events: Option<mpsc::Sender<RawFrame>> = None;
        // Abandoned requests not yet purged from the queue (see `purge_abandoned`).
        let mut abandoned = 0usize;
        let mut published = StreamStats::default();
        let mut gauges = LiveGauges::new(&shared.metrics);
        // One timer for the connection, re-armed as deadlines come (see `armed`), rather than a
        // new one per turn.
        let timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(timer);
        // The deadline the timer is armed for. Re-armed only for an earlier one: a request
        // answered before its deadline leaves the timer armed, and the turn it fires early
        // finds nothing due and arms it for the next deadline. At one request in flight that
        // is one reset per timeout period instead of one per request.
        let mut armed: Option<Instant> = None;
        // One waiter on `wake` across turns, replaced only when it fires (not created and
        // dropped each turn).
        let wake_up = shared.wake.notified();
        tokio::pin!(wake_up);
        let mut read_chunk = READ_CHUNK_MIN;

        let reason = loop {
            fill_write_buf(&mut state, &mut write_buf, &shared.frames);
            need_flush |= !write_buf.is_empty();
            let stats = StreamStats {
                in_flight: state.in_flight(),
                queued: state.queued(),
                orphaned: state.orphans(),
            };
            if stats != published {
                shared.stats.publish(stats);
                gauges.publish(stats);
                published = stats;
            }
            if !commands_open && state.is_idle() && write_buf.is_empty() {
                break CloseReason::ClientDropped;
            }
            let wake = state.poll_timeout();
            if let Some(wake) = wake.filter(|w| armed.is_none_or(|a| *w < a)) {
                timer.as_mut().reset(tokio::time::Instant::from_std(wake));
                armed = Some(wake);
            }
            if read_buf.capacity() - read_buf.len() < read_chunk / 4 {
                read_buf.reserve(read_chunk);
            }
            let room = read_buf.capacity() - read_buf.len();

            // Not `biased`: a peer that streams answers without pause must not starve our
            // writes, new requests or timers.
            let turn = tokio::select! {
                read = rd.read_buf(&mut read_buf) => match read {
                    Ok(0) => Err(CloseReason::EndOfStream),
                    Ok(n) => {
                        if n >= room && read_chunk < READ_CHUNK_MAX {
                            read_chunk *= 2;
                        }
                        state.handle_read(Instant::now());
                        deliver_frames(&mut state, &mut read_buf, &config.limits, &mut events)
                    }
                    Err(e) => Err(CloseReason::Io(e)),
                },
                written = write_and_flush(&mut wr, &mut write_buf), if need_flush => {
                    written.map(|()| need_flush = false).map_err(CloseReason::Io)
                }
                command = commands.recv(), if commands_open => match command {
                    Some(first) => {
                        accept(first, &mut commands, &mut state, &shared, &mut events);
                        // Written in this turn if the socket takes it: a request costs one turn
                        // of the loop to send, not one to accept and one to write.
                        fill_write_buf(&mut state, &mut write_buf, &shared.frames);
                        need_flush |= !write_buf.is_empty();
                        if need_flush {
                            write_now(&mut wr, &mut write_buf).await.map(|done| need_flush = !done)
                        } else {
                            Ok(())
                        }
                    }
                    None => {
                        commands_open = false;
                        Ok(())
                    }
                },
                () = &mut timer, if wake.is_some() => {
                    armed = None;
                    expire(&mut state, Instant::now())
                }
                () = &mut wake_up => {
                    wake_up.set(shared.wake.notified());
                    abandoned += shared.abandoned.swap(0, Ordering::Relaxed);
                    purge_abandoned(&mut state, &mut abandoned);
                    Ok(())
                }
            };
            if let Err(reason) = turn {
                break reason;
            }
        };

        tracing::debug!(reason = %reason, "connection closed");
        let clean = matches!(reason, CloseReason::ClientDropped);
        let reason = fail_everyone(reason, &mut state, &mut commands, &shared);
        drop(gauges);
        // Best effort: tell the server we are done (TLS close_notify / FIN).
        let _ = wr.shutdown().await;
        if clean {
            Ok(())
        } else {
            Err(Error::Closed(reason))
        }
    }
}

/// Copies the frames that now have a stream id into `write_buf`, each with its id, until the
/// buffer holds [`MAX_WRITE_BUFFER`].
/// Requests whose caller gave up are dropped on the way: they never get an id.
fn fill_write_buf(state: &mut ConnState<Pending>, write_buf: &mut BytesMut, frames: &FramePool) {
    while write_buf.len() < MAX_WRITE_BUFFER {
        let Some((id, transmit)) = state.poll_transmit_live(|p| !p.reply.is_closed()) else {
            break;
        };
        match transmit {
            Transmit::Request(pending) => {
                if let Some(frame) = pending.frame.take() {
                    put_with_stream(write_buf, &frame, id);
                    frames.give_back(frame);
                }
                pending.permit = None;
            }
            Transmit::Heartbeat => put_with_stream(write_buf, HEARTBEAT_FRAME, id),
        }
    }
}

/// Cuts every whole frame out of `read_buf` and hands it to whoever [`ConnState`] routes it
/// to.
fn deliver_frames(
    state: &mut ConnState<Pending>,
    read_buf: &mut BytesMut,
    limits: &DecodeLimits,
    events: &mut Option<mpsc::Sender<RawFrame>>,
) -> Result<(), CloseReason> {
    while let Some(frame) = decode_frame(read_buf, limits).map_err(CloseReason::Decode)? {
        let stream = frame.header.stream;
        let routed = state
            .handle_frame(stream)
            .map_err(|v| CloseReason::Protocol(v.to_string()))?;
        match routed {
            Routed::Answer(pending) => {
                pending.reply.send(Ok(frame));
            }
            Routed::Event => {
                if let Some(tx) = events {
                    match tx.try_send(frame) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            tracing::warn!("event dropped: the event receiver is full");
                        }
                        // The receiver was dropped: stop routing events.
                        Err(mpsc::error::TrySendError::Closed(_)) => *events = None,
                    }
                }
            }
            Routed::Late => {
                tracing::debug!(stream, "late response to a timed-out request dropped");
            }
            Routed::Heartbeat => {}
        }
    }
    Ok(())
}

/// Hands `first` and every command already queued behind it to the state, so that they share
/// one write (coalescing without a timer).
fn accept(
    first: Command,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    state: &mut ConnState<Pending>,
    shared: &Shared,
    events: &mut Option<mpsc::Sender<RawFrame>>,
) {
    let mut next = Some(first);
    while let Some(command) = next.take() {
        match command {
            Command::Request {
                frame,
                deadline,
                timeout,
                reply,
                permit,
            } => {
                let pending = Pending {
                    frame: Some(frame),
                    timeout,
                    reply,
                    permit: Some(permit),
                };
                if let Err((e, pending)) = state.submit(pending, deadline) {
                    // Unreachable while the permits are in force (the table has room for
                    // every permit and a heartbeat); kept as the table's own guard.
                    let error = match e {
                        SubmitError::QueueFull => Error::Overloaded {
                            queued: shared.admission.limit(),
                        },
                        _ => shared.closed_error(),
                    };
                    pending.fail(error);
                }
            }
            Command::Events(tx) => *events = Some(tx),
        }
        next = commands.try_recv().ok();
    }
}

/// Removes the queued requests of callers that gave up once they are a quarter of the queue:
/// the purge is linear in the queue, so this keeps it O(1) per abandoned request, and the
/// rest are dropped when they reach the front ([`fill_write_buf`]). Until then they hold
/// their place (and permit), at most a quarter of the queue.
fn purge_abandoned(state: &mut ConnState<Pending>, abandoned: &mut usize) {
    if *abandoned > 0 && abandoned.saturating_mul(4) >= state.queued() {
        let removed = state.purge(|p| !p.reply.is_closed());
        tracing::trace!(removed, "abandoned requests removed from the queue");
        *abandoned = 0;
    }
}

/// Wakes every caller whose request is past its deadline at `now`; `Err` when the state says
/// the connection must close.
fn expire(state: &mut ConnState<Pending>, now: Instant) -> Result<(), CloseReason> {
    while let Some(due) = state.poll_due(now) {
        match due {
            Due::TimedOut(Pending { reply, timeout, .. }) => {
                reply.send(Err(Error::Timeout { timeout }));
            }
            Due::Close(reason) => return Err(reason),
        }
    }
    Ok(())
}

/// Records why the connection closed and gives every request queued, in flight or still in
/// the channel that reason as its answer; later requests fail at once with it.
fn fail_everyone(
    reason: CloseReason,
    state: &mut ConnState<Pending>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    shared: &Shared,
) -> Arc<CloseReason> {
    let reason = Arc::new(reason);
    let _ = shared.closed.set(reason.clone());
    shared.admission.close();
    for pending in state.close() {
        pending.fail(Error::Closed(reason.clone()));
    }
    commands.close();
    while let Ok(command) = commands.try_recv() {
        if let Command::Request { reply, .. } = command {
            reply.send(Err(Error::Closed(reason.clone())));
        }
    }
    shared.stats.publish(StreamStats::default());
    reason
}

/// Writes all of `buf`, then flushes (bytes may sit in the TLS layer), in one poll when the
/// socket takes them: a request costs one turn of the loop, not one to write and one to flush.
/// Cancel-safe: `write_buf` advances `buf` only by what was written, and an interrupted flush
/// is retried (the caller keeps `need_flush` set until this completes).
async fn write_and_flush<W: AsyncWrite + Unpin>(wr: &mut W, buf: &mut BytesMut) -> io::Result<()> {
    while !buf.is_empty() {
        if wr.write_buf(buf).await? == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
    }
    wr.flush().await
}

/// One attempt at [`write_and_flush`], without waiting: true once all of `buf` is written and
/// flushed, false if the socket would block (the rest is left for the loop's write branch,
/// which the attempt's cancel-safety allows), the error if the write failed.
async fn write_now<W: AsyncWrite + Unpin>(
    wr: &mut W,
    buf: &mut BytesMut,
) -> Result<bool, CloseReason> {
    let mut write = std::pin::pin!(write_and_flush(wr, buf));
    match std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await {
        Poll::Ready(Ok(())) => Ok(true),
        Poll::Ready(Err(e)) => Err(CloseReason::Io(e)),
        Poll::Pending => Ok(false),
    }
}

/// The future that drives one connection (see [`crate::connect`]).
pub(crate) type DriverFuture = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_channel::{start, RequestChannel};
    use cql4_frame::framing::decode_frame;
    use tokio::io::DuplexStream;

    #[test]
    fn stream_id_is_written_while_copying() {
        let mut out = BytesMut::new();
        put_with_stream(&mut out, HEARTBEAT_FRAME, 0x1234);
        assert_eq!(&out[..], &[0x04, 0, 0x12, 0x34, 0x05, 0, 0, 0, 0]);
        put_with_stream(&mut out, HEARTBEAT_FRAME, 32_767);
        assert_eq!(&out[9..13], &[0x04, 0, 0x7f, 0xff]);
    }

    fn config(heartbeat: Option<Duration>) -> DriverConfig {
        DriverConfig {
            mux: MuxConfig::default(),
            limits: DecodeLimits::default(),
            heartbeat: HeartbeatConfig {
                interval: heartbeat,
                timeout: Duration::from_millis(100),
            },
            on_queue_full: OnQueueFull::Wait,
            metrics: ConnMetrics::default(),
        }
    }

    /// A client over an in-memory pipe, its I/O task spawned, and the server's end.
    fn pair(
        cfg: DriverConfig,
    ) -> (
        RequestChannel,
        tokio::task::JoinHandle<Result<(), Error>>,
        Server,
    ) {
        let (client, server) = tokio::io::duplex(1 << 20);
        let (channel, conn) = start(Box::new(client), BytesMut::new(), cfg);
        let task = tokio::spawn(conn);
        (
            channel,
            task,
            Server {
                io: server,
                buf: BytesMut::new(),
            },
        )
    }

    struct Server {
        io: DuplexStream,
        buf: BytesMut,
    }

    impl Server {
        async fn read(&mut self) -> RawFrame {
            loop {
                if let Some(f) = decode_frame(&mut self.buf, &DecodeLimits::default()).unwrap() {
                    return f;
                }
                let n = self.io.read_buf(&mut self.buf).await.unwrap();
                assert!(n > 0, "client closed");
            }
        }

        async fn send(&mut self, stream: i16, opcode: u8, body: &[u8]) {
            let mut out = vec![0x84, 0];
            out.extend_from_slice(&stream.to_be_bytes());
            out.push(opcode);
            out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
            out.extend_from_slice(body);
            self.io.write_all(&out).await.unwrap();
        }
    }

    /// A QUERY-opcode frame whose body is just `tag` (the fake server echoes it).
    fn tagged(tag: u32) -> Vec<u8> {
        let mut f = vec![0x04, 0, 0, 0, 0x07, 0, 0, 0, 4];
        f.extend_from_slice(&tag.to_be_bytes());
        f
    }

    fn tag_of(f: &RawFrame) -> u32 {
        u32::from_be_bytes(f.body[..4].try_into().unwrap())
    }

    const LONG: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn answers_out_of_order_reach_their_callers() {
        let (channel, _task, mut server) = pair(config(None));
        let calls: Vec<_> = (0..50u32)
            .map(|t| {
                let channel = channel.clone();
                tokio::spawn(async move { channel.request(tagged(t), LONG).await })
            })
            .collect();
        let mut got = Vec::new();
        for _ in 0..50 {
            got.push(server.read().await);
        }
        // Answer in reverse order, echoing each tag.
        for f in got.iter().rev() {
            server.send(f.header.stream, 0x08, &f.body).await;
        }
        for (t, call) in calls.into_iter().enumerate() {
            let answer = call.await.unwrap().unwrap();
            assert_eq!(tag_of(&answer), t as u32);
        }
    }

    #[tokio::test]
    async fn late_answer_to_a_timed_out_request_never_reaches_the_next_request() {
        // python-driver #1114, end to end: only one stream id, so the second request would
        // get id 0 again if the orphan were released at timeout.
        let mut cfg = config(None);
        cfg.mux.max_streams = 1;
        let (channel, _task, mut server) = pair(cfg);
        let first = channel.request(tagged(1), Duration::from_millis(50)).await;
        assert!(matches!(first, Err(Error::Timeout { .. })), "{first:?}");
        let f1 = server.read().await;
        let c2 = channel.clone();
        let second = tokio::spawn(async move { c2.request(tagged(2), LONG).await });
        // The second request must not be written while id 0 is orphaned.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), server.read())
                .await
                .is_err(),
            "a request was written on the orphaned stream id"
        );
        server.send(f1.header.stream, 0x08, &f1.body).await; // late answer to tag 1
        let f2 = server.read().await;
        assert_eq!(tag_of(&f2), 2);
        assert_eq!(f2.header.stream, f1.header.stream);
        server.send(f2.header.stream, 0x08, &f2.body).await;
        assert_eq!(tag_of(&second.await.unwrap().unwrap()), 2);
    }

    #[tokio::test]
    async fn broken_connection_fails_every_request_at_once() {
        let (channel, task, mut server) = pair(config(None));
        let calls: Vec<_> = (0..10u32)
            .map(|t| {
                let channel = channel.clone();
                tokio::spawn(async move { channel.request(tagged(t), LONG).await })
            })
            .collect();
        for _ in 0..10 {
            server.read().await;
        }
        let started = Instant::now();
        drop(server);
        for call in calls {
            let e = call.await.unwrap().unwrap_err();
            assert!(
                matches!(&e, Error::Closed(r) if matches!(**r, CloseReason::EndOfStream)),
                "{e:?}"
            );
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(task.await.unwrap().is_err());
        // Later requests fail at once with the same reason.
        let e = channel.request(tagged(99), LONG).await.unwrap_err();
        assert!(e.to_string().contains("closed the connection"), "{e}");
    }

    #[tokio::test]
    async fn response_on_an_unused_stream_closes_the_connection() {
        let (channel, task, mut server) = pair(config(None));
        let c = channel.clone();
        let call = tokio::spawn(async move { c.request(tagged(1), LONG).await });
        let f = server.read().await;
        server.send(f.header.stream + 7, 0x08, b"junk").await;
        let e = call.await.unwrap().unwrap_err();
        assert!(e.to_string().contains("no request outstanding"), "{e}");
        assert!(task.await.unwrap().is_err());
    }

    #[tokio::test]
    async fn lone_request_is_written_without_delay() {
        let (channel, _task, mut server) = pair(config(None));
        let c = channel.clone();
        let _call = tokio::spawn(async move { c.request(tagged(5), LONG).await });
        let f = tokio::time::timeout(Duration::from_millis(200), server.read())
            .await
            .expect("request not written promptly");
        assert_eq!(tag_of(&f), 5);
    }

    #[tokio::test]
    async fn idle_connection_sends_heartbeat_and_closes_when_unanswered() {
        let (channel, task, mut server) = pair(config(Some(Duration::from_millis(50))));
        let hb = tokio::time::timeout(Duration::from_secs(2), server.read())
            .await
            .unwrap();
        assert_eq!(hb.header.opcode.0, 0x05, "heartbeat is OPTIONS");
        // Answer it: the connection stays up and sends another later.
        server.send(hb.header.stream, 0x06, &[0, 0]).await;
        let hb2 = tokio::time::timeout(Duration::from_secs(2), server.read())
            .await
            .unwrap();
        assert_eq!(hb2.header.opcode.0, 0x05);
        // Do not answer: closed after the heartbeat timeout.
        let result = tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .unwrap()
            .unwrap();
        let e = result.unwrap_err();
        assert!(e.to_string().contains("heartbeat"), "{e}");
        assert!(channel.is_closed());
    }

    #[tokio::test]
    async fn events_on_negative_stream_go_to_the_event_channel() {
        let (channel, _task, mut server) = pair(config(None));
        let (tx, mut rx) = mpsc::channel(4);
        channel.set_events(tx).unwrap();
        // Make sure the command was processed before the event arrives.
        let c = channel.clone();
        let call = tokio::spawn(async move { c.request(tagged(1), LONG).await });
        let f = server.read().await;
        server.send(-1, 0x0C, b"event!").await;
        server.send(f.header.stream, 0x08, &f.body).await;
        assert_eq!(tag_of(&call.await.unwrap().unwrap()), 1);
        let ev = rx.recv().await.unwrap();
        assert_eq!(&ev.body[..], b"event!");
    }

    #[tokio::test]
    async fn dropped_connection_future_is_named_in_the_error() {
        let (client, _server) = tokio::io::duplex(1024);
        let (channel, conn) = start(Box::new(client), BytesMut::new(), config(None));
        drop(conn);
        let e = channel.request(tagged(1), LONG).await.unwrap_err();
        assert!(e.to_string().contains("spawn it"), "{e}");
    }

    #[tokio::test]
    async fn callers_waiting_for_a_place_learn_when_the_task_is_aborted() {
        let mut cfg = config(None);
        cfg.mux.max_streams = 1;
        cfg.mux.max_queued = 1;
        let (channel, task, mut server) = pair(cfg);
        let calls: Vec<_> = (0..3)
            .map(|t| {
                let c = channel.clone();
                tokio::spawn(async move { c.request(tagged(t), LONG).await })
            })
            .collect();
        // One in flight, one queued, one waiting for a place.
        let _ = server.read().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Dropping the task drops the queued request and its place: the waiter gets it, and
        // its send finds the task gone.
        task.abort();
        for call in calls {
            let e = tokio::time::timeout(Duration::from_secs(2), call)
                .await
                .expect("woken at once, not at the timeout")
                .unwrap()
                .unwrap_err();
            assert!(matches!(e, Error::Closed(_)), "{e}");
        }
    }

    #[tokio::test]
    async fn dropping_every_client_ends_the_task_cleanly() {
        let (channel, task, _server) = pair(config(None));
        drop(channel);
        let r = tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .unwrap()
            .unwrap();
        assert!(r.is_ok(), "{r:?}");
    }

    #[tokio::test]
    async fn too_many_orphans_close_the_connection() {
        let mut cfg = config(None);
        cfg.mux.max_orphans = 2;
        let (channel, task, _server) = pair(cfg);
        for t in 0..3 {
            let e = channel
                .request(tagged(t), Duration::from_millis(20))
                .await
                .unwrap_err();
            assert!(e.is_timeout(), "{e}");
        }
        let r = tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .unwrap()
            .unwrap();
        assert!(r.unwrap_err().to_string().contains("orphan"));
    }

    /// Counts the writes that reach the socket.
    struct Counting {
        inner: DuplexStream,
        writes: Arc<AtomicUsize>,
    }

    impl AsyncRead for Counting {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Counting {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.writes.fetch_add(1, Ordering::SeqCst);
            Pin::new(&mut self.inner).poll_write(cx, buf)
        }
        fn poll_flush(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_flush(cx)
        }
        fn poll_shutdown(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn queued_requests_share_one_write_and_a_lone_request_is_written_alone() {
        let (client, server) = tokio::io::duplex(1 << 20);
        let writes = Arc::new(AtomicUsize::new(0));
        let io = Counting {
            inner: client,
            writes: writes.clone(),
        };
        let (channel, conn) = start(Box::new(io), BytesMut::new(), config(None));
        let mut server = Server {
            io: server,
            buf: BytesMut::new(),
        };
        // 100 requests queued before the I/O task first runs (current-thread runtime).
        let calls: Vec<_> = (0..100u32)
            .map(|t| {
                let channel = channel.clone();
                tokio::spawn(async move { channel.request(tagged(t), LONG).await })
            })
            .collect();
        tokio::task::yield_now().await;
        let _task = tokio::spawn(conn);
        let mut got = Vec::new();
        for _ in 0..100 {
            got.push(server.read().await);
        }
        let coalesced = writes.load(Ordering::SeqCst);
        assert!(
            coalesced <= 2,
            "100 queued requests took {coalesced} writes"
        );
        for f in &got {
            server.send(f.header.stream, 0x08, &f.body).await;
        }
        for c in calls {
            c.await.unwrap().unwrap();
        }
        // One at a time: each request is written on its own, immediately.
        for t in 0..5u32 {
            let before = writes.load(Ordering::SeqCst);
            let c = channel.clone();
            let call = tokio::spawn(async move { c.request(tagged(t), LONG).await });
            let f = server.read().await;
            assert_eq!(writes.load(Ordering::SeqCst), before + 1);
            server.send(f.header.stream, 0x08, &f.body).await;
            call.await.unwrap().unwrap();
        }
    }

    #[tokio::test]
    async fn write_now_writes_what_the_socket_takes_and_leaves_the_rest() {
        let (mut client, mut server) = tokio::io::duplex(16);
        // Room for all of it: written and flushed at once.
        let mut buf = BytesMut::from(&b"0123456789"[..]);
        assert!(write_now(&mut client, &mut buf).await.unwrap());
        assert!(buf.is_empty());
        // 6 more bytes fill the pipe; the other 14 wait, still in the buffer, no error.
        let mut buf = BytesMut::from(&[7_u8; 20][..]);
        assert!(!write_now(&mut client, &mut buf).await.unwrap());
        assert_eq!(buf.len(), 14);
        let mut got = [0_u8; 16];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[..10], b"0123456789");
        // The peer gone: the error closes the connection.
        drop(server);
        let mut buf = BytesMut::from(&b"x"[..]);
        assert!(matches!(
            write_now(&mut client, &mut buf).await,
            Err(CloseReason::Io(_))
        ));
    }
}
