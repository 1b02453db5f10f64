//! The request path shared by every client handle: a channel to the I/O task and a reply
//! slot per request (reused, see [`crate::reply`]). Knows frames, not messages.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use cql4_frame::framing::RawFrame;
use tokio::sync::mpsc;

use crate::backpressure::Admission;
use crate::driver::{BoxIo, Command, Driver, DriverConfig, DriverFuture, Shared};
use crate::error::Error;
use crate::reply::ReplyReceiver;

/// Sends serialized frames to the I/O task and awaits their answers.
#[derive(Debug, Clone)]
pub(crate) struct RequestChannel {
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
}

impl RequestChannel {
    /// Sends `frame` and waits for the answer frame, at most `timeout` (a wait for room in
    /// a full queue included, see [`crate::OnQueueFull`]). The stream id in `frame`'s header
    /// is ignored: the I/O task writes the id it assigns while copying the frame into its
    /// write buffer.
    ///
    /// Dropping the future before the frame is written removes the request from the queue: it
    /// is never sent. Once written, its stream id stays reserved until the answer arrives
    /// (and is dropped), or until its deadline, when it becomes an orphan.
    pub(crate) async fn request(
        &self,
        frame: Vec<u8>,
        timeout: Duration,
    ) -> Result<RawFrame, Error> {
        let start = Instant::now();
        let deadline = crate::deadline::after(start, timeout);
        let admission = &self.shared.admission;
        let admitted = match admission.try_admit(|| self.shared.closed_error()) {
            Ok(Some(permit)) => Ok(permit),
            // A full queue to wait on: boxed, so that every request's future does not carry
            // the wait's room.
            Ok(None) => {
                let wait =
                    Box::pin(admission.wait(deadline, timeout, || self.shared.closed_error()));
                wait.await
            }
            Err(e) => Err(e),
        };
        let permit = match admitted {
            Ok(permit) => permit,
            Err(e) => {
                if e.is_timeout() {
                    self.shared.metrics.timeout();
                }
                return Err(e);
            }
        };
        self.shared.metrics.request();
        let (reply, answer) = self.shared.slots.channel();
        let command = Command::Request {
            frame,
            deadline,
            timeout,
            reply,
            permit,
        };
        if self.commands.send(command).is_err() {
            return Err(self.shared.closed_error());
        }
        // The I/O task answers every request it accepted (answer, timeout or close); a dropped
        // sender means the task itself was dropped.
        let answer = Awaiting {
            answer: Some(answer),
            shared: &self.shared,
        }
        .await
        .unwrap_or_else(|| Err(self.shared.closed_error()));
        match &answer {
            Ok(_) => self.shared.metrics.answered(start),
            Err(e) if e.is_timeout() => self.shared.metrics.timeout(),
            Err(_) => {}
        }
        answer
    }

    /// An empty buffer of at least `capacity` bytes to encode a request frame into, from the
    /// connection's pool: [`Self::request`] gives it back once the frame is written.
    pub(crate) fn frame_buffer(&self, capacity: usize) -> Vec<u8> {
        self.shared.frames.take(capacity)
    }

    /// Routes EVENT frames to `events` from now on.
    pub(crate) fn set_events(&self, events: mpsc::Sender<RawFrame>) -> Result<(), Error> {
        self.commands
            .send(Command::Events(events))
            .map_err(|_| self.shared.closed_error())
    }

    /// The stream table's counts, as of the I/O task's last turn.
    pub(crate) fn stats(&self) -> crate::StreamStats {
        self.shared.stats.get()
    }

    /// True once the I/O task has stopped.
    pub(crate) fn is_closed(&self) -> bool {
        self.commands.is_closed()
    }
}

/// A caller's wait for its answer. Dropped before the answer, it tells the I/O task: the
/// reply slot alone says so, but the task would only notice when the request reaches the
/// queue's front.
struct Awaiting<'a> {
    /// `None` once answered.
    answer: Option<ReplyReceiver<'a>>,
    shared: &'a Shared,
}

impl Future for Awaiting<'_> {
    type Output = Option<crate::driver::Reply>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(answer) = self.answer.as_mut() else {
            return Poll::Ready(None);
        };
        let ready = std::task::ready!(Pin::new(answer).poll(cx));
        self.answer = None;
        Poll::Ready(ready)
    }
}

impl Drop for Awaiting<'_> {
    fn drop(&mut self) {
        if let Some(answer) = self.answer.take() {
            // The slot is marked abandoned first, so that the task's purge sees it.
            drop(answer);
            self.shared.abandon();
        }
    }
}

/// Starts the I/O task's future over an established (handshaken) stream.
pub(crate) fn start(
    io: BoxIo,
    read_buf: bytes::BytesMut,
    mut config: DriverConfig,
) -> (RequestChannel, Connection) {
    // Unbounded, yet bounded by the permits: a request takes one before it is sent here.
    let (tx, rx) = mpsc::unbounded_channel();
    let admission = Admission::new(config.mux.max_queued, config.on_queue_full);
    // Room in the table for every permit and a heartbeat.
    config.mux.max_queued = admission.limit().saturating_add(1);
    let shared = Arc::new(Shared::new(admission, config.metrics.clone()));
    let driver = Driver {
        io,
        read_buf,
        commands: rx,
        shared: shared.clone(),
        config,
    };
    (
        RequestChannel {
            commands: tx,
            shared,
        },
        Connection {
            future: Box::pin(driver.run()),
        },
    )
}

/// The I/O task of one connection: owns the socket, writes requests, reads and routes
/// responses, fires timeouts and heartbeats. Spawn it (`tokio::spawn(connection)`) or poll
/// it; requests make no progress otherwise. It completes with `Ok(())` when every
/// [`crate::Client`] is dropped and nothing is in flight, or with the error that closed the
/// connection (every request in flight got that error too).
#[must_use = "the connection does nothing unless spawned or polled"]
pub struct Connection {
    future: DriverFuture,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl Future for Connection {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.future.as_mut().poll(cx)
    }
}
