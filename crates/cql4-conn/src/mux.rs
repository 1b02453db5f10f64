//! The stream multiplexer: a pure state machine (no sockets, no clocks) that owns the stream-id
//! table of one connection.
//!
//! native_protocol_v4.spec §2.3: the stream id "must be set by the client to a non-negative
//! value (negative stream id are reserved for streams initiated by the server; currently all
//! EVENT messages (section 4.2.6) have a streamId of -1)"; "the stream id of the response to
//! that message will be X", in any order; "there can only be 32768 different simultaneous
//! streams, it is up to the client to reuse stream id" — which this table does safely.
//!
//! Driven like quinn-proto's `Connection`: the I/O task feeds inputs (`submit`,
//! `handle_response`, `close`) with `now` passed in, and drains outputs (`poll_transmit`,
//! `poll_expired`, `poll_timeout`). Every race is therefore a unit test below.
//!
//! ```text
//!  stream id slot states
//!
//!            poll_transmit              handle_response
//!   Free ──────────────────▶ InFlight ─────────────────────▶ Free   (answer delivered)
//!     ▲                          │
//!     │                          │ deadline passed (poll_expired → caller gets a timeout)
//!     │                          ▼
//!     └──────────────────── Orphaned                               (late answer dropped)
//!          handle_response
//! ```
//!
//! An orphaned id is never handed out again before its late response arrives: reusing it
//! could hand one request's rows to another (python-driver #1114). Too many orphans mean the
//! peer has stopped answering; [`Multiplexer::health`] then reports the connection unhealthy.
//! A response on a `Free` id (never used, or answered twice) is a protocol violation: the
//! connection's state is unknown and it must close.

use std::collections::VecDeque;
use std::fmt;
use std::time::Instant;

/// The number of client stream ids in protocol v4 (0..=32767, §2.3).
pub(crate) const MAX_STREAMS: usize = 32_768;

/// Limits of one connection's stream table. Listed in `docs/limits.md` ("cql4-conn").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MuxConfig {
    /// Stream ids handed out, at most 32,768 (the default: every non-negative v4 stream id,
    /// native_protocol_v4.spec §2.3). Requests beyond this many
    /// in flight wait in a queue, bounded by their own timeout.
    pub max_streams: usize,
    /// Orphaned ids (requests timed out whose response has not arrived) tolerated before the
    /// connection is declared unhealthy. Default 1,024 (scylla's limit; Java uses 256).
    pub max_orphans: usize,
    /// Requests waiting for a free stream id before new requests are refused with
    /// [`crate::Error::Overloaded`]. Default 65,536.
    pub max_queued: usize,
}

impl Default for MuxConfig {
    fn default() -> Self {
        Self {
            max_streams: MAX_STREAMS,
            max_orphans: 1024,
            max_queued: 65_536,
        }
    }
}

/// Why a response could not be matched to a request. The connection must close.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamViolation {
    /// The stream id is outside the client's range (only negative ids are server events).
    OutOfRange(i16),
    /// No request is outstanding on this id: it was never used, or was already answered.
    NotInFlight(i16),
}

impl fmt::Display for StreamViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfRange(id) => write!(f, "response on stream {id}, outside the client's stream range"),
            Self::NotInFlight(id) => write!(
                f,
                "response on stream {id}, which has no request outstanding (never used or answered twice)"
            ),
        }
    }
}

impl std::error::Error for StreamViolation {}

/// Why a request was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubmitError {
    /// The connection is closed or unhealthy.
    Closed,
    /// [`MuxConfig::max_queued`] requests already wait for a stream id.
    QueueFull,
}

/// Whether the connection can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Health {
    /// Serving requests.
    Healthy,
    /// More than [`MuxConfig::max_orphans`] requests timed out without an answer: the peer is
    /// presumed stuck; close the connection.
    TooManyOrphans {
        /// Orphaned ids right now.
        orphans: usize,
    },
    /// [`Multiplexer::close`] was called.
    Closed,
}

/// What [`Multiplexer::handle_response`] found on the response's stream id.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery<T> {
    /// The request the response answers; the id is free again.
    Answer(T),
    /// The response of a request that already timed out; drop it. The id is free again.
    Late,
}

/// A request that expired: its caller gets a timeout.
#[derive(Debug, PartialEq, Eq)]
pub struct Expired<T> {
    /// The request.
    pub request: T,
    /// True if it had been sent (its id is now orphaned), false if it was still waiting for an
    /// id (it never reached the server).
    pub was_sent: bool,
}

#[derive(Debug)]
enum Slot<T> {
    Free,
    InFlight {
        request: T,
        deadline: Instant,
        generation: u32,
    },
    Orphaned,
}

#[derive(Debug)]
struct Waiting<T> {
    seq: u64,
    deadline: Instant,
    /// `None` once expired; removed lazily when it reaches the queue head.
    request: Option<T>,
}

/// What a timer entry points at. Entries are lazily invalidated: a timer whose target has
/// moved on (answered, or a later generation) is skipped when popped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimerTarget {
    Queued { seq: u64 },
    Slot { id: u16, generation: u32 },
}

/// Deadlines in order, earliest first. Requests mostly come with `now + one timeout`, so a new
/// deadline nearly always goes at the back in O(1) and the earliest leaves from the front in
/// O(1); an earlier one (a shorter per-request timeout) is inserted at its place (binary
/// search, then a shift of the shorter side). Equal deadlines keep their insertion order.
#[derive(Debug, Default)]
struct Timeline(VecDeque<(Instant, TimerTarget)>);

impl Timeline {
    fn push(&mut self, when: Instant, target: TimerTarget) {
        match self.0.back() {
            Some(&(last, _)) if last > when => {
                let at = self.0.partition_point(|&(t, _)| t <= when);
                self.0.insert(at, (when, target));
            }
            _ => self.0.push_back((when, target)),
        }
    }
}

/// The stream-id table of one connection. `T` is the caller's request (its bytes, its reply
/// channel): the table only moves it between states.
#[derive(Debug)]
pub struct Multiplexer<T> {
    config: MuxConfig,
    slots: Vec<Slot<T>>,
    generations: Vec<u32>,
    /// Free ids, popped from the end. Ids are pushed back when answered.
    free: Vec<u16>,
    queue: VecDeque<Waiting<T>>,
    /// Queue entries still holding a request (expired ones stay in `queue` until popped).
    queued_live: usize,
    next_seq: u64,
    /// Deadlines of queued requests, earliest first (see [`Timeline`]).
    queued_timers: Timeline,
    /// Deadlines of sent requests, earliest first. Kept apart from `queued_timers`: requests
    /// are sent in queue order, so each list receives its deadlines in order when requests
    /// share one timeout, while a single list would take each sent request's (older)
    /// deadline in its middle, behind the requests still queued.
    sent_timers: Timeline,
    in_flight: usize,
    orphans: usize,
    closed: bool,
}

impl<T> Multiplexer<T> {
    /// An empty table. `max_streams` is clamped to 1..=[`MAX_STREAMS`]. The table grows as ids
    /// are first used: an idle connection does not pay for 32,768 slots it may never use.
    pub fn new(mut config: MuxConfig) -> Self {
        config.max_streams = config.max_streams.clamp(1, MAX_STREAMS);
        Self {
            config,
            slots: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            queue: VecDeque::new(),
            queued_live: 0,
            next_seq: 0,
            queued_timers: Timeline::default(),
            sent_timers: Timeline::default(),
            in_flight: 0,
            orphans: 0,
            closed: false,
        }
    }

    /// A free id: a released one (most recently freed first), else the next never used one
    /// while the table is below `max_streams`.
    fn take_free_id(&mut self) -> Option<u16> {
        if let Some(id) = self.free.pop() {
            return Some(id);
        }
        let next = self.slots.len();
        if next >= self.config.max_streams {
            return None;
        }
        let id = u16::try_from(next).ok()?;
        self.slots.push(Slot::Free);
        self.generations.push(0);
        Some(id)
    }

    /// The configuration in force.
    pub fn config(&self) -> &MuxConfig {
        &self.config
    }

    /// Queues a request that must be answered by `deadline`. It gets a stream id from
    /// [`Self::poll_transmit`] as soon as one is free.
    pub fn submit(&mut self, request: T, deadline: Instant) -> Result<(), (SubmitError, T)> {
        self.submit_as(request, deadline, |request| request)
    }

    /// [`Self::submit`] of `wrap(input)`: a refused `input` comes back as it was given, so a
    /// wrapper around the caller's requests (`T` = caller's request or heartbeat) never has to
    /// unwrap one.
    pub(crate) fn submit_as<U>(
        &mut self,
        input: U,
        deadline: Instant,
        wrap: impl FnOnce(U) -> T,
    ) -> Result<(), (SubmitError, U)> {
        if self.health() != Health::Healthy {
            return Err((SubmitError::Closed, input));
        }
        if self.queued_live >= self.config.max_queued {
            return Err((SubmitError::QueueFull, input));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push_back(Waiting {
            seq,
            deadline,
            request: Some(wrap(input)),
        });
        self.queued_live += 1;
        self.push_timer(deadline, TimerTarget::Queued { seq });
        Ok(())
    }

    /// The next queued request that now has a stream id and must be written, oldest first.
    /// Returns `None` when nothing is queued or every id is in use (including orphans).
    pub fn poll_transmit(&mut self) -> Option<(i16, &mut T)> {
        self.poll_transmit_live(|_| true)
    }

    /// [`Self::poll_transmit`], dropping on the way every queued request for which `live` is
    /// false (its caller gave up): it never gets an id, so it never reaches the server.
    pub fn poll_transmit_live(&mut self, live: impl Fn(&T) -> bool) -> Option<(i16, &mut T)> {
        if self.closed {
            return None;
        }
        // Skip queue entries that expired or were abandoned while waiting.
        loop {
            match self.queue.front() {
                Some(w) if w.request.is_none() => {}
                Some(Waiting {
                    request: Some(r), ..
                }) if !live(r) => self.queued_live -= 1,
                _ => break,
            }
            self.queue.pop_front();
        }
        if self.queue.is_empty() {
            return None;
        }
        let id = self.take_free_id()?;
        let waiting = self.queue.pop_front()?;
        let request = waiting.request?;
        self.queued_live -= 1;
        let idx = usize::from(id);
        let generation = self
            .generations
            .get(idx)
            .copied()
            .unwrap_or(0)
            .wrapping_add(1);
        if let Some(g) = self.generations.get_mut(idx) {
            *g = generation;
        }
        self.push_timer(waiting.deadline, TimerTarget::Slot { id, generation });
        self.in_flight += 1;
        let slot = self.slots.get_mut(idx)?;
        *slot = Slot::InFlight {
            request,
            deadline: waiting.deadline,
            generation,
        };
        let stream = i16::try_from(id).ok()?;
        match slot {
            Slot::InFlight { request, .. } => Some((stream, request)),
            _ => None,
        }
    }

    /// Matches a response to its request. Negative (event) ids are not handled here.
    pub fn handle_response(&mut self, stream: i16) -> Result<Delivery<T>, StreamViolation> {
        let idx = usize::try_from(stream)
            .ok()
            .filter(|&i| i < self.config.max_streams)
            .ok_or(StreamViolation::OutOfRange(stream))?;
        // An id in range the table has not grown to yet was never used.
        let slot = self
            .slots
            .get_mut(idx)
            .ok_or(StreamViolation::NotInFlight(stream))?;
        let delivery = match std::mem::replace(slot, Slot::Free) {
            Slot::Free => return Err(StreamViolation::NotInFlight(stream)),
            Slot::InFlight { request, .. } => {
                self.in_flight -= 1;
                Delivery::Answer(request)
            }
            Slot::Orphaned => {
                self.orphans -= 1;
                Delivery::Late
            }
        };
        // `idx` < max_streams <= 32768, so it fits.
        if let Ok(id) = u16::try_from(idx) {
            self.free.push(id);
        }
        Ok(delivery)
    }

    /// The earliest deadline among queued and in-flight requests: the I/O task sleeps until
    /// then (or until input arrives) and then calls [`Self::poll_expired`].
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        loop {
            let (sent, when, target) = self.earliest_timer()?;
            if self.timer_is_live(target) {
                return Some(when);
            }
            self.pop_timer(sent);
        }
    }

    /// The next request whose deadline is at or before `now`. A sent request's id becomes
    /// orphaned (reserved until its late answer); check [`Self::health`] afterwards.
    pub fn poll_expired(&mut self, now: Instant) -> Option<Expired<T>> {
        loop {
            let (sent, when, target) = self.earliest_timer()?;
            if when > now {
                self.compact_timers();
                return None;
            }
            self.pop_timer(sent);
            match target {
                TimerTarget::Queued { seq } => {
                    if let Some(request) = self.take_queued(seq) {
                        return Some(Expired {
                            request,
                            was_sent: false,
                        });
                    }
                }
                TimerTarget::Slot { id, generation } => {
                    let Some(slot) = self.slots.get_mut(usize::from(id)) else {
                        continue;
                    };
                    if matches!(slot, Slot::InFlight { generation: g, .. } if *g == generation) {
                        if let Slot::InFlight { request, .. } =
                            std::mem::replace(slot, Slot::Orphaned)
                        {
                            self.in_flight -= 1;
                            self.orphans += 1;
                            return Some(Expired {
                                request,
                                was_sent: true,
                            });
                        }
                    }
                }
            }
        }
    }

    /// Whether the connection can take requests.
    pub fn health(&self) -> Health {
        if self.closed {
            Health::Closed
        } else if self.orphans > self.config.max_orphans {
            Health::TooManyOrphans {
                orphans: self.orphans,
            }
        } else {
            Health::Healthy
        }
    }

    /// Closes the table: every queued and in-flight request is returned (their callers get the
    /// connection's error) and no id is ever handed out again.
    pub fn close(&mut self) -> Vec<T> {
        self.closed = true;
        let mut out = Vec::with_capacity(self.in_flight + self.queued_live);
        for slot in &mut self.slots {
            if let Slot::InFlight { request, .. } = std::mem::replace(slot, Slot::Free) {
                out.push(request);
            }
        }
        out.extend(self.queue.drain(..).filter_map(|w| w.request));
        self.in_flight = 0;
        self.queued_live = 0;
        self.orphans = 0;
        self.queued_timers.0.clear();
        self.sent_timers.0.clear();
        self.free.clear();
        out
    }

    /// Removes every queued request for which `live` is false (its caller gave up) and returns
    /// how many went. Linear in the queue: call it once many callers have given up, not per
    /// caller ([`Self::poll_transmit_live`] drops the others when they reach the front).
    pub fn purge(&mut self, live: impl Fn(&T) -> bool) -> usize {
        let before = self.queued_live;
        for w in &mut self.queue {
            if w.request.as_ref().is_some_and(|r| !live(r)) {
                w.request = None;
                self.queued_live -= 1;
            }
        }
        // Still sorted by `seq`: timers of removed entries find nothing and are skipped.
        self.queue.retain(|w| w.request.is_some());
        before - self.queued_live
    }

    /// Slots the table has grown to (ids used at least once), for the memory tests.
    pub fn slots_allocated(&self) -> usize {
        self.slots.len()
    }

    /// Requests sent and not yet answered nor expired.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Requests waiting for a stream id.
    pub fn queued(&self) -> usize {
        self.queued_live
    }

    /// Ids reserved by timed-out requests whose answer has not arrived.
    pub fn orphans(&self) -> usize {
        self.orphans
    }

    /// The deadline of the request in flight on `stream`, if any.
    pub fn deadline_of(&self, stream: i16) -> Option<Instant> {
        match self.slots.get(usize::try_from(stream).ok()?)? {
            Slot::InFlight { deadline, .. } => Some(*deadline),
            _ => None,
        }
    }

    fn timer_is_live(&self, target: TimerTarget) -> bool {
        match target {
            TimerTarget::Queued { seq } => self.queued_index(seq).is_some(),
            TimerTarget::Slot { id, generation } => matches!(
                self.slots.get(usize::from(id)),
                Some(Slot::InFlight { generation: g, .. }) if *g == generation
            ),
        }
    }

    /// Index of the live queue entry `seq`. The queue is sorted by `seq`, so this is a binary
    /// search.
    fn queued_index(&self, seq: u64) -> Option<usize> {
        let idx = self.queue.binary_search_by_key(&seq, |w| w.seq).ok()?;
        self.queue.get(idx)?.request.as_ref().map(|_| idx)
    }

    fn take_queued(&mut self, seq: u64) -> Option<T> {
        let idx = self.queued_index(seq)?;
        let request = self.queue.get_mut(idx)?.request.take()?;
        self.queued_live -= 1;
        Some(request)
    }

    fn push_timer(&mut self, when: Instant, target: TimerTarget) {
        match target {
            TimerTarget::Queued { .. } => self.queued_timers.push(when, target),
            TimerTarget::Slot { .. } => self.sent_timers.push(when, target),
        }
    }

    /// The earlier of the two lists' first timers: (from `sent_timers`, deadline, target).
    fn earliest_timer(&self) -> Option<(bool, Instant, TimerTarget)> {
        match (self.queued_timers.0.front(), self.sent_timers.0.front()) {
            (Some(&(q, qt)), Some(&(s, st))) => {
                Some(if s < q { (true, s, st) } else { (false, q, qt) })
            }
            (Some(&(q, qt)), None) => Some((false, q, qt)),
            (None, Some(&(s, st))) => Some((true, s, st)),
            (None, None) => None,
        }
    }

    fn pop_timer(&mut self, sent: bool) {
        if sent {
            self.sent_timers.0.pop_front();
        } else {
            self.queued_timers.0.pop_front();
        }
    }

    /// Timers kept, live or not.
    fn timer_count(&self) -> usize {
        self.queued_timers.0.len() + self.sent_timers.0.len()
    }

    /// Answered requests leave their timer behind (lazy deletion). Drop the dead entries when
    /// they dominate, so memory stays proportional to live requests (order is kept).
    fn compact_timers(&mut self) {
        let live = self.in_flight + self.queued_live;
        let kept = self.timer_count();
        if kept > 1024 && kept > 4 * live {
            let mut queued = std::mem::take(&mut self.queued_timers);
            let mut sent = std::mem::take(&mut self.sent_timers);
            queued.0.retain(|&(_, t)| self.timer_is_live(t));
            sent.0.retain(|&(_, t)| self.timer_is_live(t));
            self.queued_timers = queued;
            self.sent_timers = sent;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn mux(max_streams: usize, max_orphans: usize) -> Multiplexer<u32> {
        Multiplexer::new(MuxConfig {
            max_streams,
            max_orphans,
            max_queued: 1000,
        })
    }

    fn t0() -> Instant {
        Instant::now()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn transmit(m: &mut Multiplexer<u32>) -> Option<(i16, u32)> {
        m.poll_transmit().map(|(id, r)| (id, *r))
    }

    #[test]
    fn answers_are_matched_by_stream_id_in_any_order() {
        let now = t0();
        let mut m = mux(8, 4);
        for r in 0..3 {
            m.submit(r, now + ms(100)).unwrap();
        }
        let sent: Vec<_> = std::iter::from_fn(|| transmit(&mut m)).collect();
        assert_eq!(sent, vec![(0, 0), (1, 1), (2, 2)]);
        assert_eq!(m.handle_response(2).unwrap(), Delivery::Answer(2));
        assert_eq!(m.handle_response(0).unwrap(), Delivery::Answer(0));
        assert_eq!(m.handle_response(1).unwrap(), Delivery::Answer(1));
        assert_eq!(m.in_flight(), 0);
    }

    #[test]
    fn timed_out_id_stays_reserved_until_its_late_answer() {
        // python-driver #1114: the id of a timed-out request was reused, and the late answer
        // to the first request was delivered to the second.
        let now = t0();
        let mut m = mux(1, 4);
        m.submit(1, now + ms(10)).unwrap();
        assert_eq!(transmit(&mut m), Some((0, 1)));
        m.submit(2, now + ms(1000)).unwrap();
        assert_eq!(
            m.poll_expired(now + ms(10)),
            Some(Expired {
                request: 1,
                was_sent: true
            })
        );
        assert_eq!(m.orphans(), 1);
        // The only id is orphaned: request 2 must wait, not take id 0.
        assert_eq!(transmit(&mut m), None);
        // The late answer for request 1 arrives and is dropped, not given to request 2.
        assert_eq!(m.handle_response(0).unwrap(), Delivery::Late);
        assert_eq!(m.orphans(), 0);
        assert_eq!(transmit(&mut m), Some((0, 2)));
        assert_eq!(m.handle_response(0).unwrap(), Delivery::Answer(2));
    }

    #[test]
    fn answer_racing_its_deadline_is_delivered_if_it_arrives_first() {
        let now = t0();
        let mut m = mux(4, 4);
        m.submit(7, now + ms(10)).unwrap();
        transmit(&mut m).unwrap();
        // The answer is read before the timer is polled, even though the deadline has passed.
        assert_eq!(m.handle_response(0).unwrap(), Delivery::Answer(7));
        assert_eq!(m.poll_expired(now + ms(50)), None);
        assert_eq!(m.orphans(), 0);
    }

    #[test]
    fn answer_arriving_after_the_timer_fired_is_late() {
        let now = t0();
        let mut m = mux(4, 4);
        m.submit(7, now + ms(10)).unwrap();
        transmit(&mut m).unwrap();
        assert!(m.poll_expired(now + ms(10)).is_some());
        assert_eq!(m.handle_response(0).unwrap(), Delivery::Late);
        // And answering twice is a violation.
        assert_eq!(m.handle_response(0), Err(StreamViolation::NotInFlight(0)));
    }

    #[test]
    fn response_on_unused_or_reused_id_is_a_violation() {
        let now = t0();
        let mut m = mux(4, 4);
        assert_eq!(m.handle_response(3), Err(StreamViolation::NotInFlight(3)));
        assert_eq!(m.handle_response(4), Err(StreamViolation::OutOfRange(4)));
        assert_eq!(m.handle_response(-1), Err(StreamViolation::OutOfRange(-1)));
        m.submit(1, now + ms(10)).unwrap();
        transmit(&mut m).unwrap();
        assert_eq!(m.handle_response(0).unwrap(), Delivery::Answer(1));
        assert_eq!(m.handle_response(0), Err(StreamViolation::NotInFlight(0)));
    }

    #[test]
    fn callers_wait_for_ids_and_expire_while_waiting() {
        let now = t0();
        let mut m = mux(2, 4);
        for r in 0..4 {
            m.submit(r, now + ms(100 + u64::from(r))).unwrap();
        }
        assert_eq!(transmit(&mut m), Some((0, 0)));
        assert_eq!(transmit(&mut m), Some((1, 1)));
        assert_eq!(transmit(&mut m), None);
        assert_eq!(m.queued(), 2);
        // Request 2 waits until its deadline and never reaches the server.
        assert_eq!(m.poll_timeout(), Some(now + ms(100)));
        assert_eq!(m.handle_response(1).unwrap(), Delivery::Answer(1));
        // An id is free again: the oldest waiter (2) gets it.
        assert_eq!(transmit(&mut m), Some((1, 2)));
        // 0 and 2 are sent; 3 still waits. At 103 ms: 0, 2 orphaned and 3 expired unsent.
        let mut expired = Vec::new();
        while let Some(e) = m.poll_expired(now + ms(103)) {
            expired.push((e.request, e.was_sent));
        }
        expired.sort_unstable();
        assert_eq!(expired, vec![(0, true), (2, true), (3, false)]);
        assert_eq!(m.queued(), 0);
        assert_eq!(transmit(&mut m), None);
        assert_eq!(m.poll_timeout(), None);
    }

    #[test]
    fn expired_waiter_in_the_middle_of_the_queue_is_skipped() {
        let now = t0();
        let mut m = mux(1, 4);
        m.submit(0, now + ms(1000)).unwrap();
        m.submit(1, now + ms(5)).unwrap();
        m.submit(2, now + ms(1000)).unwrap();
        assert_eq!(transmit(&mut m), Some((0, 0)));
        assert_eq!(m.poll_expired(now + ms(5)).map(|e| e.request), Some(1));
        assert_eq!(m.poll_expired(now + ms(5)), None);
        m.handle_response(0).unwrap();
        assert_eq!(transmit(&mut m), Some((0, 2)));
    }

    #[test]
    fn too_many_orphans_make_the_connection_unhealthy() {
        let now = t0();
        let mut m = mux(16, 2);
        for r in 0..3 {
            m.submit(r, now + ms(10)).unwrap();
            transmit(&mut m).unwrap();
        }
        while m.poll_expired(now + ms(10)).is_some() {}
        assert_eq!(m.health(), Health::TooManyOrphans { orphans: 3 });
        assert_eq!(m.submit(9, now + ms(10)), Err((SubmitError::Closed, 9)));
        // A late answer brings it back under the limit.
        m.handle_response(1).unwrap();
        assert_eq!(m.health(), Health::Healthy);
    }

    #[test]
    fn close_returns_every_outstanding_request_once() {
        let now = t0();
        let mut m = mux(2, 4);
        for r in 0..4 {
            m.submit(r, now + ms(10 + u64::from(r) * 100)).unwrap();
        }
        transmit(&mut m).unwrap();
        transmit(&mut m).unwrap();
        // Request 0 times out (orphan: not returned by close, its caller already has an answer).
        assert_eq!(m.poll_expired(now + ms(10)).map(|e| e.request), Some(0));
        let mut rest = m.close();
        rest.sort_unstable();
        assert_eq!(rest, vec![1, 2, 3]);
        assert_eq!(m.health(), Health::Closed);
        assert_eq!(transmit(&mut m), None);
        assert!(m.submit(5, now).is_err());
        assert_eq!(m.poll_expired(now + ms(10_000)), None);
    }

    #[test]
    fn queue_limit_refuses_rather_than_growing() {
        let now = t0();
        let mut m = Multiplexer::new(MuxConfig {
            max_streams: 1,
            max_orphans: 1,
            max_queued: 2,
        });
        m.submit(0u32, now + ms(10)).unwrap();
        m.submit(1, now + ms(10)).unwrap();
        assert_eq!(m.submit(2, now + ms(10)), Err((SubmitError::QueueFull, 2)));
    }

    #[test]
    fn abandoned_waiters_never_get_an_id() {
        let now = t0();
        let mut m = mux(1, 4);
        for r in 0..5 {
            m.submit(r, now + ms(100)).unwrap();
        }
        // Callers 1 and 3 gave up while waiting for the only id.
        let live = |r: &u32| *r != 1 && *r != 3;
        assert_eq!(
            m.poll_transmit_live(live).map(|(id, r)| (id, *r)),
            Some((0, 0))
        );
        assert_eq!(m.handle_response(0).unwrap(), Delivery::Answer(0));
        assert_eq!(
            m.poll_transmit_live(live).map(|(id, r)| (id, *r)),
            Some((0, 2))
        );
        assert_eq!(m.queued(), 2, "1 was dropped on the way; 3 and 4 wait");
        assert_eq!(m.handle_response(0).unwrap(), Delivery::Answer(2));
        assert_eq!(
            m.poll_transmit_live(live).map(|(id, r)| (id, *r)),
            Some((0, 4))
        );
        assert_eq!(m.queued(), 0);
        assert_eq!(m.poll_expired(now + ms(100)).map(|e| e.request), Some(4));
        assert_eq!(
            m.poll_expired(now + ms(100)),
            None,
            "abandoned ones do not expire"
        );
    }

    #[test]
    fn purge_frees_the_queue_of_abandoned_waiters() {
        let now = t0();
        let mut m = Multiplexer::new(MuxConfig {
            max_streams: 1,
            max_orphans: 1,
            max_queued: 4,
        });
        for r in 0..4u32 {
            m.submit(r, now + ms(10 + u64::from(r))).unwrap();
        }
        assert_eq!(m.submit(9, now + ms(10)), Err((SubmitError::QueueFull, 9)));
        assert_eq!(m.purge(|r| r % 2 == 0), 2);
        assert_eq!(m.queued(), 2);
        // Their places are free for new callers at once.
        m.submit(4, now + ms(14)).unwrap();
        m.submit(5, now + ms(15)).unwrap();
        let sent: Vec<_> = std::iter::from_fn(|| transmit(&mut m)).collect();
        assert_eq!(sent, vec![(0, 0)]);
        let mut expired = Vec::new();
        while let Some(e) = m.poll_expired(now + ms(100)) {
            expired.push(e.request);
        }
        assert_eq!(expired, vec![0, 2, 4, 5]);
    }

    #[test]
    fn the_table_grows_only_as_far_as_ids_are_used() {
        let now = t0();
        let mut m: Multiplexer<u32> = Multiplexer::new(MuxConfig::default());
        assert_eq!(m.slots_allocated(), 0);
        for round in 0..100 {
            m.submit(round, now + ms(100)).unwrap();
            m.submit(round, now + ms(100)).unwrap();
            let (a, _) = m.poll_transmit().unwrap();
            let (b, _) = m.poll_transmit().unwrap();
            m.handle_response(a).unwrap();
            m.handle_response(b).unwrap();
        }
        assert_eq!(
            m.slots_allocated(),
            2,
            "freed ids are reused before new ones"
        );
        // A never used id in range is not in flight; one beyond the range is out of it.
        assert_eq!(
            m.handle_response(500),
            Err(StreamViolation::NotInFlight(500))
        );
    }

    #[test]
    fn all_32768_ids_are_usable_and_no_id_is_given_twice() {
        let now = t0();
        let mut m = Multiplexer::new(MuxConfig {
            max_queued: 40_000,
            ..MuxConfig::default()
        });
        for r in 0..(MAX_STREAMS as u32 + 5) {
            m.submit(r, now + ms(100)).unwrap();
        }
        let mut seen = vec![false; MAX_STREAMS];
        let mut count = 0;
        while let Some((id, _)) = m.poll_transmit() {
            let idx = usize::try_from(id).unwrap();
            assert!(!seen[idx], "id {id} handed out twice");
            seen[idx] = true;
            count += 1;
        }
        assert_eq!(count, MAX_STREAMS);
        assert_eq!(m.queued(), 5);
        assert_eq!(m.handle_response(32_767).unwrap(), Delivery::Answer(32_767));
        assert_eq!(transmit(&mut m), Some((32_767, 32_768)));
    }

    #[test]
    fn timers_of_answered_requests_do_not_accumulate() {
        let now = t0();
        let mut m = mux(4, 4);
        for r in 0..10_000u32 {
            m.submit(r, now + ms(60_000)).unwrap();
            let (id, _) = m.poll_transmit().unwrap();
            m.handle_response(id).unwrap();
            let _ = m.poll_expired(now);
        }
        assert!(m.timer_count() <= 4096, "{} timers kept", m.timer_count());
        assert_eq!(m.poll_timeout(), None);
    }

    #[test]
    fn reused_id_gets_the_new_requests_deadline() {
        // The old timer of a recycled id must not expire the new request early.
        let now = t0();
        let mut m = mux(1, 4);
        m.submit(1, now + ms(10)).unwrap();
        transmit(&mut m).unwrap();
        m.handle_response(0).unwrap();
        m.submit(2, now + ms(500)).unwrap();
        transmit(&mut m).unwrap();
        assert_eq!(m.poll_expired(now + ms(10)), None);
        assert_eq!(m.deadline_of(0), Some(now + ms(500)));
        assert_eq!(m.poll_timeout(), Some(now + ms(500)));
    }

    // ---- model-based: random operation sequences against invariants ----

    use proptest::prelude::*;
    use std::collections::{HashMap, HashSet};

    #[derive(Debug, Clone)]
    enum Op {
        Submit {
            timeout_ms: u64,
        },
        Transmit,
        /// Answer the stream id at this index of the ids ever sent (or a random id).
        Respond(usize),
        RespondRandom(i16),
        Advance(u64),
        Close,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (1u64..200).prop_map(|timeout_ms| Op::Submit { timeout_ms }),
            4 => Just(Op::Transmit),
            4 => any::<usize>().prop_map(Op::Respond),
            1 => any::<i16>().prop_map(Op::RespondRandom),
            2 => (0u64..100).prop_map(Op::Advance),
            1 => Just(Op::Close),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn stream_table_invariants(ops in proptest::collection::vec(op(), 1..200)) {
            let start = Instant::now();
            let mut now = start;
            let mut m: Multiplexer<u32> = Multiplexer::new(MuxConfig {
                max_streams: 4,
                max_orphans: 3,
                max_queued: 8,
            });
            let mut next = 0u32;
            // What the model expects on each id: the request in flight, or an orphan.
            let mut in_flight: HashMap<i16, u32> = HashMap::new();
            let mut orphaned: HashSet<i16> = HashSet::new();
            let mut sent_ids: Vec<i16> = Vec::new();
            let mut finished: HashSet<u32> = HashSet::new();
            let mut submitted: HashSet<u32> = HashSet::new();
            let mut finish = |r: u32, finished: &mut HashSet<u32>| {
                prop_assert!(finished.insert(r), "request {} finished twice", r);
                Ok(())
            };
            for op in ops {
                match op {
                    Op::Submit { timeout_ms } => {
                        let r = next;
                        next += 1;
                        match m.submit(r, now + ms(timeout_ms)) {
                            Ok(()) => { submitted.insert(r); }
                            Err((_, back)) => prop_assert_eq!(back, r),
                        }
                    }
                    Op::Transmit => {
                        if let Some((id, r)) = m.poll_transmit() {
                            let r = *r;
                            prop_assert!(!in_flight.contains_key(&id), "id {} reused while in flight", id);
                            prop_assert!(!orphaned.contains(&id), "id {} reused while orphaned", id);
                            prop_assert!((0..4).contains(&id));
                            in_flight.insert(id, r);
                            sent_ids.push(id);
                        }
                    }
                    Op::Respond(i) => {
                        if sent_ids.is_empty() { continue; }
                        let id = sent_ids[i % sent_ids.len()];
                        check_response(&mut m, id, &mut in_flight, &mut orphaned, &mut finished, &mut finish)?;
                    }
                    Op::RespondRandom(id) => {
                        check_response(&mut m, id, &mut in_flight, &mut orphaned, &mut finished, &mut finish)?;
                    }
                    Op::Advance(d) => {
                        now += ms(d);
                        while let Some(e) = m.poll_expired(now) {
                            if e.was_sent {
                                let id = in_flight.iter().find(|(_, r)| **r == e.request).map(|(id, _)| *id);
                                prop_assert!(id.is_some(), "expired request {} was not in flight", e.request);
                                let id = id.unwrap();
                                in_flight.remove(&id);
                                orphaned.insert(id);
                            }
                            finish(e.request, &mut finished)?;
                        }
                        if let Some(t) = m.poll_timeout() {
                            prop_assert!(t > now, "poll_timeout {:?} not after now", t - start);
                        }
                    }
                    Op::Close => {
                        for r in m.close() {
                            finish(r, &mut finished)?;
                        }
                        in_flight.clear();
                        orphaned.clear();
                    }
                }
                prop_assert_eq!(m.in_flight(), in_flight.len());
                prop_assert_eq!(m.orphans(), orphaned.len());
                prop_assert!(m.in_flight() + m.orphans() <= 4);
            }
            // Everything submitted ends exactly once after close.
            for r in m.close() {
                finish(r, &mut finished)?;
            }
            prop_assert_eq!(&finished, &submitted);
        }
    }

    fn check_response(
        m: &mut Multiplexer<u32>,
        id: i16,
        in_flight: &mut HashMap<i16, u32>,
        orphaned: &mut HashSet<i16>,
        finished: &mut HashSet<u32>,
        finish: &mut impl FnMut(u32, &mut HashSet<u32>) -> Result<(), TestCaseError>,
    ) -> Result<(), TestCaseError> {
        let closed = m.health() == Health::Closed;
        match m.handle_response(id) {
            Ok(Delivery::Answer(r)) => {
                prop_assert_eq!(
                    in_flight.remove(&id),
                    Some(r),
                    "answer routed to the wrong request"
                );
                finish(r, finished)?;
            }
            Ok(Delivery::Late) => prop_assert!(
                orphaned.remove(&id),
                "late answer on id {} not orphaned",
                id
            ),
            Err(_) => prop_assert!(
                closed || (!in_flight.contains_key(&id) && !orphaned.contains(&id)),
                "valid response on {} refused",
                id
            ),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever order deadlines arrive in (per-request timeouts differ), requests expire
        /// in deadline order, each exactly once, and never after being answered; `poll_timeout`
        /// always names the earliest live deadline. Most requests are answered at once, so
        /// dead timers pile up and must be compacted.
        #[test]
        fn requests_expire_in_deadline_order(
            ops in proptest::collection::vec((0u64..400, proptest::bool::weighted(0.9)), 1..1200),
        ) {
            let now = t0();
            let mut m: Multiplexer<u32> = Multiplexer::new(MuxConfig {
                max_streams: 64,
                max_orphans: 100_000,
                max_queued: 100_000,
            });
            let mut live = std::collections::BTreeMap::new(); // request -> deadline
            for (r, &(deadline_ms, answer)) in (0u32..).zip(&ops) {
                let deadline = now + ms(deadline_ms + 1);
                m.submit(r, deadline).unwrap();
                live.insert(r, deadline);
                while let Some((id, req)) = transmit(&mut m) {
                    // Answer some at once, leaving dead timers behind.
                    if answer {
                        prop_assert_eq!(m.handle_response(id).unwrap(), Delivery::Answer(req));
                        live.remove(&req);
                    }
                }
            }
            // Nothing is due yet, so this only compacts: dead timers must not dominate.
            prop_assert_eq!(m.poll_expired(now), None);
            let kept = m.timer_count();
            prop_assert!(
                kept <= 1024 || kept <= 4 * live.len(),
                "{} timers kept for {} live requests", kept, live.len()
            );
            let mut last = now;
            loop {
                let earliest = live.values().min().copied();
                prop_assert_eq!(m.poll_timeout(), earliest);
                let Some(when) = earliest else { break };
                let expired = m.poll_expired(when).expect("a live request is due");
                let deadline = live.remove(&expired.request).expect("expired once, unanswered");
                prop_assert_eq!(deadline, when);
                prop_assert!(deadline >= last);
                last = deadline;
                // Requests still queued go out when ids free up (they never do here: the
                // orphans keep theirs, so the rest expire from the queue).
                while transmit(&mut m).is_some() {}
            }
            prop_assert_eq!(m.poll_expired(now + ms(10_000)), None);
        }
    }
}
