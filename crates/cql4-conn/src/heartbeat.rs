//! When an idle connection sends a heartbeat: a pure policy (no clock, no I/O), `now` passed
//! in, driven by [`crate::conn_state::ConnState`].
//!
//! After [`HeartbeatConfig::interval`] without a byte read, the connection sends an OPTIONS
//! (native_protocol_v4.spec §4.1.3). Any byte read proves the peer alive, not only the answer,
//! so a busy connection never sends one. One heartbeat at a time: the next interval starts at
//! the last read after the answer. The heartbeat travels through the stream table like any
//! request, with [`HeartbeatConfig::timeout`] as its deadline, so an unanswered one expires
//! there and the connection closes.

use std::time::{Duration, Instant};

/// An OPTIONS request with stream 0 (the I/O task writes the assigned id), as the heartbeat
/// (native_protocol_v4.spec §4.1.3: OPTIONS has an empty body).
pub(crate) const HEARTBEAT_FRAME: &[u8] = &[0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00];

/// When to send a heartbeat and how long to wait for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeartbeatConfig {
    /// Idle time (nothing read) before a heartbeat; `None` disables heartbeats.
    pub(crate) interval: Option<Duration>,
    /// A heartbeat unanswered for this long closes the connection.
    pub(crate) timeout: Duration,
}

/// The heartbeat state of one connection.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    config: HeartbeatConfig,
    /// The idle interval counts from here: the last read, or the last refused heartbeat.
    idle_since: Instant,
    /// A heartbeat was handed out and neither answered nor refused.
    outstanding: bool,
}

impl Heartbeat {
    /// A connection that has just read (the handshake) at `now`.
    pub(crate) fn new(config: HeartbeatConfig, now: Instant) -> Self {
        Self {
            config,
            idle_since: now,
            outstanding: false,
        }
    }

    /// Bytes arrived at `now`: the idle interval starts again.
    pub(crate) fn handle_read(&mut self, now: Instant) {
        self.idle_since = now;
    }

    /// The heartbeat was answered: the next one may be sent after the next idle interval.
    pub(crate) fn handle_answer(&mut self) {
        self.outstanding = false;
    }

    /// The stream table refused the heartbeat [`Self::poll_send`] handed out at `now` (its
    /// queue is full): the next one is due an interval later. Retrying at once would wake the
    /// I/O task in a loop until the queue drains; meanwhile the queued requests' own deadlines
    /// and the orphan limit still close a dead connection.
    pub(crate) fn handle_refused(&mut self, now: Instant) {
        self.outstanding = false;
        self.idle_since = now;
    }

    /// When the next heartbeat is due; `None` when heartbeats are off or one is outstanding.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match (self.config.interval, self.outstanding) {
            (Some(every), false) => Some(crate::deadline::after(self.idle_since, every)),
            _ => None,
        }
    }

    /// If a heartbeat is due at `now`, marks it outstanding and returns the deadline of its
    /// answer.
    pub(crate) fn poll_send(&mut self, now: Instant) -> Option<Instant> {
        let due = self.poll_timeout()?;
        if now < due {
            return None;
        }
        self.outstanding = true;
        Some(crate::deadline::after(now, self.config.timeout))
    }

    /// How long an answer is awaited (named in the close reason).
    pub(crate) fn timeout(&self) -> Duration {
        self.config.timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn every(interval: u64, timeout: u64) -> HeartbeatConfig {
        HeartbeatConfig {
            interval: Some(ms(interval)),
            timeout: ms(timeout),
        }
    }

    #[test]
    fn disabled_heartbeat_is_never_due() {
        let t0 = Instant::now();
        let off = HeartbeatConfig {
            interval: None,
            timeout: ms(10),
        };
        let mut h = Heartbeat::new(off, t0);
        assert_eq!(h.poll_timeout(), None);
        assert_eq!(h.poll_send(t0 + ms(1_000_000)), None);
    }

    #[test]
    fn due_after_an_idle_interval_with_the_timeout_as_deadline() {
        let t0 = Instant::now();
        let mut h = Heartbeat::new(every(100, 30), t0);
        assert_eq!(h.poll_timeout(), Some(t0 + ms(100)));
        assert_eq!(h.poll_send(t0 + ms(99)), None);
        // Sent late (the timer fired late): the answer is awaited from the send, not the due time.
        assert_eq!(h.poll_send(t0 + ms(120)), Some(t0 + ms(150)));
        assert_eq!(h.timeout(), ms(30));
    }

    #[test]
    fn every_read_restarts_the_idle_interval() {
        let t0 = Instant::now();
        let mut h = Heartbeat::new(every(100, 30), t0);
        h.handle_read(t0 + ms(80));
        assert_eq!(h.poll_send(t0 + ms(100)), None);
        assert_eq!(h.poll_timeout(), Some(t0 + ms(180)));
        assert!(h.poll_send(t0 + ms(180)).is_some());
    }

    #[test]
    fn one_heartbeat_at_a_time_until_answered() {
        let t0 = Instant::now();
        let mut h = Heartbeat::new(every(100, 30), t0);
        assert!(h.poll_send(t0 + ms(100)).is_some());
        // Outstanding: no timer and no second heartbeat, however long the wait.
        assert_eq!(h.poll_timeout(), None);
        assert_eq!(h.poll_send(t0 + ms(500)), None);
        // The answer is a read; the next interval counts from it.
        h.handle_read(t0 + ms(110));
        h.handle_answer();
        assert_eq!(h.poll_timeout(), Some(t0 + ms(210)));
        assert_eq!(h.poll_send(t0 + ms(209)), None);
        assert_eq!(h.poll_send(t0 + ms(210)), Some(t0 + ms(240)));
    }

    #[test]
    fn refused_heartbeat_is_due_again_an_interval_later() {
        let t0 = Instant::now();
        let mut h = Heartbeat::new(every(100, 30), t0);
        assert!(h.poll_send(t0 + ms(105)).is_some());
        h.handle_refused(t0 + ms(105));
        // Not at once: a due time in the past would spin the I/O task while the queue is full.
        assert_eq!(h.poll_timeout(), Some(t0 + ms(205)));
        assert_eq!(h.poll_send(t0 + ms(106)), None);
        assert_eq!(h.poll_send(t0 + ms(205)), Some(t0 + ms(235)));
    }
}
