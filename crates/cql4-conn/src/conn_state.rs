//! Every decision of a connection's I/O task, without the I/O: the stream table
//! ([`Multiplexer`]) with the heartbeat ([`Heartbeat`]) riding on it as one more request.
//!
//! Driven like quinn-proto's `Connection`, `now` passed in: the I/O task feeds what happened
//! (`submit`, `handle_read`, `handle_frame`) and drains what to do (`poll_transmit`,
//! `poll_timeout`, `poll_due`); it only moves bytes, arms one timer at `poll_timeout` and
//! wakes callers. `T` is a caller's request (its bytes and reply channel), only moved around.

use std::time::Instant;

use crate::error::CloseReason;
use crate::heartbeat::{Heartbeat, HeartbeatConfig};
use crate::mux::{Delivery, Expired, Health, Multiplexer, MuxConfig, StreamViolation, SubmitError};

/// What occupies a stream id: a caller's request or our heartbeat.
#[derive(Debug)]
enum Entry<T> {
    Caller(T),
    Heartbeat,
}

/// A frame to write on the stream id [`ConnState::poll_transmit`] returned with it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Transmit<'a, T> {
    /// A caller's request (it stays in the table until answered).
    Request(&'a mut T),
    /// [`crate::heartbeat::HEARTBEAT_FRAME`].
    Heartbeat,
}

/// Where a received frame goes, by its stream id.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Routed<T> {
    /// The answer to this caller's request.
    Answer(T),
    /// A server push (negative id, §2.3; EVENT uses -1): to the event receiver, if any.
    Event,
    /// The answer to a request that already timed out: drop it.
    Late,
    /// The answer to our heartbeat: nothing to deliver.
    Heartbeat,
}

/// What time reaching `now` entails, from [`ConnState::poll_due`].
#[derive(Debug)]
pub(crate) enum Due<T> {
    /// This caller's request passed its deadline: the caller gets a timeout.
    TimedOut(T),
    /// The connection must close.
    Close(CloseReason),
}

/// The sans-io state of one open connection.
#[derive(Debug)]
pub(crate) struct ConnState<T> {
    mux: Multiplexer<Entry<T>>,
    heartbeat: Heartbeat,
}

impl<T> ConnState<T> {
    /// A connection whose handshake ended (its last read) at `now`.
    pub(crate) fn new(mux: MuxConfig, heartbeat: HeartbeatConfig, now: Instant) -> Self {
        Self {
            mux: Multiplexer::new(mux),
            heartbeat: Heartbeat::new(heartbeat, now),
        }
    }

    /// Queues a caller's request that must be answered by `deadline`.
    pub(crate) fn submit(&mut self, request: T, deadline: Instant) -> Result<(), (SubmitError, T)> {
        self.mux.submit_as(request, deadline, Entry::Caller)
    }

    /// The next frame to write and its stream id, oldest first.
    #[cfg(test)]
    pub(crate) fn poll_transmit(&mut self) -> Option<(i16, Transmit<'_, T>)> {
        self.poll_transmit_live(|_| true)
    }

    /// [`Self::poll_transmit`], dropping queued requests for which `live` is false (their
    /// caller gave up) instead of sending them.
    pub(crate) fn poll_transmit_live(
        &mut self,
        live: impl Fn(&T) -> bool,
    ) -> Option<(i16, Transmit<'_, T>)> {
        let (id, entry) = self.mux.poll_transmit_live(|e| match e {
            Entry::Caller(request) => live(request),
            Entry::Heartbeat => true,
        })?;
        Some(match entry {
            Entry::Caller(request) => (id, Transmit::Request(request)),
            Entry::Heartbeat => (id, Transmit::Heartbeat),
        })
    }

    /// Bytes arrived at `now` (the peer is alive).
    pub(crate) fn handle_read(&mut self, now: Instant) {
        self.heartbeat.handle_read(now);
    }

    /// Routes a received frame by its stream id. A violation means the connection's state is
    /// unknown: close it.
    pub(crate) fn handle_frame(&mut self, stream: i16) -> Result<Routed<T>, StreamViolation> {
        if stream < 0 {
            return Ok(Routed::Event);
        }
        Ok(match self.mux.handle_response(stream)? {
            Delivery::Answer(Entry::Caller(request)) => Routed::Answer(request),
            Delivery::Answer(Entry::Heartbeat) => {
                self.heartbeat.handle_answer();
                Routed::Heartbeat
            }
            Delivery::Late => Routed::Late,
        })
    }

    /// When [`Self::poll_due`] has something next: the earliest request deadline or the next
    /// heartbeat.
    pub(crate) fn poll_timeout(&mut self) -> Option<Instant> {
        match (self.mux.poll_timeout(), self.heartbeat.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next consequence of the time being `now`: call until `None`. Expired requests come
    /// first; an expired heartbeat or too many orphans close the connection; then, if the
    /// connection has been idle long enough, a heartbeat is queued for [`Self::poll_transmit`].
    pub(crate) fn poll_due(&mut self, now: Instant) -> Option<Due<T>> {
        if let Some(Expired { request, .. }) = self.mux.poll_expired(now) {
            return Some(match request {
                Entry::Caller(request) => Due::TimedOut(request),
                Entry::Heartbeat => {
                    Due::Close(CloseReason::HeartbeatTimeout(self.heartbeat.timeout()))
                }
            });
        }
        if let Health::TooManyOrphans { orphans } = self.mux.health() {
            return Some(Due::Close(CloseReason::TooManyOrphans(orphans)));
        }
        if let Some(deadline) = self.heartbeat.poll_send(now) {
            if self.mux.submit(Entry::Heartbeat, deadline).is_err() {
                self.heartbeat.handle_refused(now);
            }
        }
        None
    }

    /// Nothing waits for an id and nothing is in flight (a heartbeat counts): with no client
    /// left, the connection may end.
    pub(crate) fn is_idle(&self) -> bool {
        self.mux.in_flight() == 0 && self.mux.queued() == 0
    }

    /// Removes the queued requests for which `live` is false; returns how many.
    pub(crate) fn purge(&mut self, live: impl Fn(&T) -> bool) -> usize {
        self.mux.purge(|e| match e {
            Entry::Caller(request) => live(request),
            Entry::Heartbeat => true,
        })
    }

    /// Requests (and heartbeat) on the wire awaiting their answer.
    pub(crate) fn in_flight(&self) -> usize {
        self.mux.in_flight()
    }

    /// Requests waiting for a stream id.
    pub(crate) fn queued(&self) -> usize {
        self.mux.queued()
    }

    /// Ids held by timed-out requests until their late answer.
    pub(crate) fn orphans(&self) -> usize {
        self.mux.orphans()
    }

    /// Closes the table: every caller's request queued or in flight, each once.
    pub(crate) fn close(&mut self) -> impl Iterator<Item = T> {
        self.mux
            .close()
            .into_iter()
            .filter_map(|entry| match entry {
                Entry::Caller(request) => Some(request),
                Entry::Heartbeat => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// `max_streams` ids, heartbeat every 100 ms (answer within 30 ms) or never.
    fn state(max_streams: usize, heartbeat: bool, t0: Instant) -> ConnState<u32> {
        let mux = MuxConfig {
            max_streams,
            max_orphans: 2,
            max_queued: 8,
        };
        let heartbeat = HeartbeatConfig {
            interval: heartbeat.then_some(ms(100)),
            timeout: ms(30),
        };
        ConnState::new(mux, heartbeat, t0)
    }

    /// What `poll_transmit` hands out, as (id, request or `None` for the heartbeat).
    fn transmit(s: &mut ConnState<u32>) -> Option<(i16, Option<u32>)> {
        s.poll_transmit().map(|(id, t)| match t {
            Transmit::Request(r) => (id, Some(*r)),
            Transmit::Heartbeat => (id, None),
        })
    }

    /// What `poll_due` yields at `now`, up to and including a close (after which the I/O task
    /// stops asking).
    fn due(s: &mut ConnState<u32>, now: Instant) -> Vec<Result<u32, String>> {
        let mut out = Vec::new();
        while let Some(d) = s.poll_due(now) {
            match d {
                Due::TimedOut(r) => out.push(Ok(r)),
                Due::Close(reason) => {
                    out.push(Err(reason.to_string()));
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn idle_connection_sends_one_options_after_the_interval() {
        let t0 = Instant::now();
        let mut s = state(4, true, t0);
        assert_eq!(s.poll_timeout(), Some(t0 + ms(100)));
        assert!(due(&mut s, t0 + ms(99)).is_empty());
        assert_eq!(transmit(&mut s), None);
        assert!(due(&mut s, t0 + ms(100)).is_empty());
        assert_eq!(transmit(&mut s), Some((0, None)));
        // Outstanding: the only timer left is its answer's deadline.
        assert_eq!(s.poll_timeout(), Some(t0 + ms(130)));
        assert!(due(&mut s, t0 + ms(129)).is_empty());
        assert_eq!(transmit(&mut s), None);
        assert!(!s.is_idle());
    }

    #[test]
    fn answered_heartbeat_keeps_the_connection_and_the_next_follows_an_interval_later() {
        let t0 = Instant::now();
        let mut s = state(4, true, t0);
        due(&mut s, t0 + ms(100));
        let (id, _) = transmit(&mut s).unwrap();
        s.handle_read(t0 + ms(110));
        assert_eq!(s.handle_frame(id), Ok(Routed::Heartbeat));
        assert!(s.is_idle());
        assert_eq!(s.poll_timeout(), Some(t0 + ms(210)));
        // Past the old answer deadline: nothing expires, nothing closes.
        assert!(due(&mut s, t0 + ms(140)).is_empty());
        assert!(due(&mut s, t0 + ms(210)).is_empty());
        assert_eq!(transmit(&mut s), Some((id, None)));
    }

    #[test]
    fn unanswered_heartbeat_closes_the_connection_at_its_timeout() {
        let t0 = Instant::now();
        let mut s = state(4, true, t0);
        due(&mut s, t0 + ms(100));
        transmit(&mut s).unwrap();
        // Other bytes arriving do not answer it.
        s.handle_read(t0 + ms(120));
        let got = due(&mut s, t0 + ms(130));
        assert_eq!(got.len(), 1);
        assert!(
            matches!(&got[0], Err(m) if m.contains("heartbeat within 30 ms")),
            "{got:?}"
        );
    }

    #[test]
    fn traffic_keeps_heartbeats_away() {
        let t0 = Instant::now();
        let mut s = state(4, true, t0);
        for step in 1..=20u32 {
            let now = t0 + ms(60 * u64::from(step));
            s.submit(step, now + ms(1000)).unwrap();
            let (id, r) = transmit(&mut s).unwrap();
            assert_eq!(r, Some(step));
            s.handle_read(now);
            assert_eq!(s.handle_frame(id), Ok(Routed::Answer(step)));
            assert!(due(&mut s, now).is_empty());
            assert_eq!(transmit(&mut s), None, "heartbeat sent at step {step}");
            assert_eq!(s.poll_timeout(), Some(now + ms(100)));
        }
    }

    #[test]
    fn no_heartbeat_when_disabled() {
        let t0 = Instant::now();
        let mut s = state(4, false, t0);
        assert_eq!(s.poll_timeout(), None);
        assert!(due(&mut s, t0 + ms(1_000_000)).is_empty());
        assert_eq!(transmit(&mut s), None);
    }

    #[test]
    fn heartbeat_waits_for_an_id_and_its_timeout_runs_while_it_waits() {
        // The only id is held by a slow request: the heartbeat cannot be written, and the peer
        // is presumed dead when its timeout passes all the same.
        let t0 = Instant::now();
        let mut s = state(1, true, t0);
        s.submit(7, t0 + ms(10_000)).unwrap();
        assert_eq!(transmit(&mut s), Some((0, Some(7))));
        assert!(due(&mut s, t0 + ms(100)).is_empty());
        assert_eq!(transmit(&mut s), None);
        assert_eq!(s.poll_timeout(), Some(t0 + ms(130)));
        let got = due(&mut s, t0 + ms(130));
        assert!(
            matches!(&got[..], [Err(m)] if m.contains("heartbeat")),
            "{got:?}"
        );
    }

    #[test]
    fn expired_requests_come_first_and_the_earliest_deadline_wakes_the_task() {
        let t0 = Instant::now();
        let mut s = state(4, true, t0);
        s.submit(1, t0 + ms(50)).unwrap();
        s.submit(2, t0 + ms(300)).unwrap();
        assert_eq!(s.poll_timeout(), Some(t0 + ms(50)));
        transmit(&mut s).unwrap();
        transmit(&mut s).unwrap();
        assert_eq!(due(&mut s, t0 + ms(50)), vec![Ok(1)]);
        // Nothing was read: the heartbeat (100 ms) comes before request 2's deadline.
        assert_eq!(s.poll_timeout(), Some(t0 + ms(100)));
        assert!(due(&mut s, t0 + ms(100)).is_empty());
        assert_eq!(transmit(&mut s), Some((2, None)));
    }

    #[test]
    fn too_many_orphans_close_the_connection() {
        let t0 = Instant::now();
        let mut s = state(4, false, t0);
        for r in 0..3 {
            s.submit(r, t0 + ms(10)).unwrap();
            transmit(&mut s).unwrap();
        }
        let got = due(&mut s, t0 + ms(10));
        assert_eq!(&got[..3], &[Ok(0), Ok(1), Ok(2)]);
        assert!(
            matches!(&got[3..], [Err(m)] if m.contains("orphan")),
            "{got:?}"
        );
    }

    #[test]
    fn frames_are_routed_by_stream_id() {
        let t0 = Instant::now();
        let mut s = state(4, false, t0);
        s.submit(5, t0 + ms(10)).unwrap();
        let (id, _) = transmit(&mut s).unwrap();
        assert_eq!(s.handle_frame(-1), Ok(Routed::Event));
        assert_eq!(s.handle_frame(i16::MIN), Ok(Routed::Event));
        assert_eq!(
            s.handle_frame(id + 1),
            Err(StreamViolation::NotInFlight(id + 1))
        );
        assert_eq!(due(&mut s, t0 + ms(10)), vec![Ok(5)]);
        assert_eq!(s.handle_frame(id), Ok(Routed::Late));
        assert_eq!(s.handle_frame(id), Err(StreamViolation::NotInFlight(id)));
    }

    #[test]
    fn close_returns_callers_but_not_the_heartbeat() {
        let t0 = Instant::now();
        let mut s = state(2, true, t0);
        s.submit(1, t0 + ms(1000)).unwrap();
        transmit(&mut s).unwrap();
        due(&mut s, t0 + ms(100));
        transmit(&mut s).unwrap(); // the heartbeat takes the second id
        s.submit(2, t0 + ms(1000)).unwrap();
        let mut rest: Vec<u32> = s.close().collect();
        rest.sort_unstable();
        assert_eq!(rest, [1, 2]);
        assert_eq!(transmit(&mut s), None);
    }

    #[test]
    fn full_queue_refuses_callers_and_the_heartbeat_is_retried() {
        let t0 = Instant::now();
        let mut s = state(1, true, t0);
        s.submit(0, t0 + ms(10_000)).unwrap();
        transmit(&mut s).unwrap();
        for r in 1..=8 {
            s.submit(r, t0 + ms(10_000)).unwrap();
        }
        assert_eq!(
            s.submit(9, t0 + ms(10_000)),
            Err((SubmitError::QueueFull, 9))
        );
        // The heartbeat finds the queue full too: retried an interval later, not at once (a
        // timer in the past would wake the I/O task in a loop).
        assert!(due(&mut s, t0 + ms(100)).is_empty());
        assert_eq!(s.poll_timeout(), Some(t0 + ms(200)));
        // Room again (an answer frees the id, a waiting request takes it): the heartbeat is
        // queued on the next wake.
        s.handle_read(t0 + ms(100));
        assert_eq!(s.handle_frame(0), Ok(Routed::Answer(0)));
        assert_eq!(transmit(&mut s), Some((0, Some(1))));
        assert!(due(&mut s, t0 + ms(200)).is_empty());
        assert_eq!(s.poll_timeout(), Some(t0 + ms(230)));
    }
}
