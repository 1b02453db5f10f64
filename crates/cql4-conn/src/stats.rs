//! Counts of one connection's stream table, published by its I/O task after every turn and
//! read lock-free by [`crate::Client::streams`].

use std::sync::atomic::{AtomicUsize, Ordering};

/// What one connection's stream table holds right now (see [`crate::Client::streams`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamStats {
    /// Requests written (or being written) and awaiting their answer; a heartbeat counts.
    pub in_flight: usize,
    /// Requests waiting for a stream id or for room in the write buffer; abandoned ones count
    /// until the I/O task drops them.
    pub queued: usize,
    /// Stream ids held by timed-out requests until their late answer arrives.
    pub orphaned: usize,
}

/// The I/O task's side: relaxed stores, read by any handle.
#[derive(Debug, Default)]
pub(crate) struct SharedStats {
    in_flight: AtomicUsize,
    queued: AtomicUsize,
    orphaned: AtomicUsize,
}

impl SharedStats {
    pub(crate) fn publish(&self, stats: StreamStats) {
        self.in_flight.store(stats.in_flight, Ordering::Relaxed);
        self.queued.store(stats.queued, Ordering::Relaxed);
        self.orphaned.store(stats.orphaned, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> StreamStats {
        StreamStats {
            in_flight: self.in_flight.load(Ordering::Relaxed),
            queued: self.queued.load(Ordering::Relaxed),
            orphaned: self.orphaned.load(Ordering::Relaxed),
        }
    }
}
