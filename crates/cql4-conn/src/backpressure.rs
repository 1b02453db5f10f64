//! Admission of requests into a connection's queue: at most [`crate::MuxConfig::max_queued`]
//! requests wait for a stream id (in the channel to the I/O task or in its queue); a caller
//! beyond that waits for room or fails at once, as [`OnQueueFull`] says.
//!
//! The limit is a semaphore: a request takes a permit before it is handed to the I/O task and
//! the permit travels with it until its bytes are copied into the write buffer (or it expires,
//! is abandoned, or the connection closes). Whatever the number of callers, the connection
//! therefore holds at most `max_queued` unwritten frames, `max_streams` requests in flight and
//! one bounded write buffer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::error::Error;

/// What a request does when the connection's queue is full ([`crate::MuxConfig::max_queued`]
/// requests already wait for a stream id). Listed in `docs/limits.md`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnQueueFull {
    /// Wait for room, within the request's own timeout; when it passes first, the request
    /// fails with [`Error::Timeout`] without having been sent. The default: a queued request
    /// already waits within its timeout, so the limit bounds memory without changing what a
    /// caller sees under a short burst.
    #[default]
    Wait,
    /// Fail at once with [`Error::Overloaded`] (client-side, nothing sent), for callers that
    /// shed load or try another connection rather than wait.
    Fail,
}

/// The queue's permits, shared by every handle of one connection.
#[derive(Debug)]
pub(crate) struct Admission {
    permits: Arc<Semaphore>,
    limit: usize,
    policy: OnQueueFull,
}

impl Admission {
    pub(crate) fn new(limit: usize, policy: OnQueueFull) -> Self {
        let limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            policy,
        }
    }

    /// A place in the queue if there is room now (`Some`); with a full queue, `Overloaded` under
    /// [`OnQueueFull::Fail`] and `None` under [`OnQueueFull::Wait`]: then [`Self::wait`].
    /// `closed` is the connection's error, for a connection that closed meanwhile. No `await`
    /// here, so that a request's future does not carry the wait's room.
    pub(crate) fn try_admit(
        &self,
        closed: impl FnOnce() -> Error,
    ) -> Result<Option<OwnedSemaphorePermit>, Error> {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => Ok(Some(permit)),
            Err(TryAcquireError::Closed) => Err(closed()),
            Err(TryAcquireError::NoPermits) => match self.policy {
                OnQueueFull::Fail => Err(Error::Overloaded { queued: self.limit }),
                OnQueueFull::Wait => Ok(None),
            },
        }
    }

    /// Waits until `deadline` for a place in a full queue ([`OnQueueFull::Wait`]).
    pub(crate) async fn wait(
        &self,
        deadline: Instant,
        timeout: Duration,
        closed: impl FnOnce() -> Error,
    ) -> Result<OwnedSemaphorePermit, Error> {
        let wait = self.permits.clone().acquire_owned();
        match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), wait).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(closed()),
            Err(_) => Err(Error::Timeout { timeout }),
        }
    }

    /// Wakes every waiter with the connection's error: nothing will make room any more.
    pub(crate) fn close(&self) {
        self.permits.close();
    }

    /// The queue limit (the `queued` of [`Error::Overloaded`]).
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }
}
