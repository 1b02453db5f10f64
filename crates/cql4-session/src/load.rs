//! The load of one pooled connection (requests in flight, requests in the current second,
//! last use) and the pool's growth and shrink decisions, pure given `now`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Counters of one connection, updated lock-free by the requests that use it.
#[derive(Debug, Default)]
pub(crate) struct Load {
    in_flight: AtomicUsize,
    /// `second << 32 | count`: requests started in the current whole second.
    window: AtomicU64,
    /// Milliseconds (session clock) of the last request's start.
    last_used_ms: AtomicU64,
}

/// Budgets of one connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub(crate) in_flight: usize,
    pub(crate) per_second: Option<u32>,
}

impl Load {
    /// The counters of a connection opened at `now_ms` (idle time counts from then).
    pub(crate) fn new(now_ms: u64) -> Self {
        Self {
            last_used_ms: AtomicU64::new(now_ms),
            ..Self::default()
        }
    }

    /// Records a request start at `now_ms` (milliseconds on the session's clock).
    pub(crate) fn start(&self, now_ms: u64) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.last_used_ms.store(now_ms, Ordering::Relaxed);
        let second = now_ms / 1000;
        let mut current = self.window.load(Ordering::Relaxed);
        loop {
            let next = if current >> 32 == second {
                current.saturating_add(1)
            } else {
                (second << 32) | 1
            };
            match self.window.compare_exchange_weak(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }

    /// Records a request end.
    pub(crate) fn finish(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Requests started in the second of `now_ms`.
    pub(crate) fn this_second(&self, now_ms: u64) -> u32 {
        let w = self.window.load(Ordering::Relaxed);
        if w >> 32 == now_ms / 1000 {
            (w & 0xffff_ffff) as u32
        } else {
            0
        }
    }

    /// True when the connection is at or over one of its budgets.
    pub(crate) fn is_over(&self, budget: Budget, now_ms: u64) -> bool {
        self.in_flight() >= budget.in_flight
            || budget
                .per_second
                .is_some_and(|limit| self.this_second(now_ms) >= limit)
    }

    /// True when nothing is in flight and nothing started for `idle`.
    pub(crate) fn is_idle(&self, idle: Duration, now_ms: u64) -> bool {
        let last = self.last_used_ms.load(Ordering::Relaxed);
        self.in_flight() == 0 && now_ms.saturating_sub(last) >= idle.as_millis() as u64
    }
}

/// Held by a request while it runs on a connection: counts it in flight until dropped
/// (also when the request's future is cancelled).
#[derive(Debug)]
pub(crate) struct InFlight<'a>(&'a Load);

impl<'a> InFlight<'a> {
    pub(crate) fn new(load: &'a Load, now_ms: u64) -> Self {
        load.start(now_ms);
        Self(load)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Budget = Budget {
        in_flight: 2,
        per_second: Some(3),
    };

    #[test]
    fn in_flight_counts_until_the_guard_drops() {
        let load = Load::default();
        let a = InFlight::new(&load, 0);
        let b = InFlight::new(&load, 0);
        assert_eq!(load.in_flight(), 2);
        assert!(load.is_over(BUDGET, 0));
        drop(a);
        assert!(!load.is_over(
            Budget {
                per_second: None,
                ..BUDGET
            },
            0
        ));
        drop(b);
        assert_eq!(load.in_flight(), 0);
    }

    #[test]
    fn the_rate_window_restarts_every_second() {
        let load = Load::default();
        for ms in [1000, 1200, 1999] {
            drop(InFlight::new(&load, ms));
        }
        assert_eq!(load.this_second(1999), 3);
        assert!(load.is_over(BUDGET, 1999), "3 per second reached");
        assert_eq!(load.this_second(2000), 0);
        assert!(!load.is_over(BUDGET, 2000));
        drop(InFlight::new(&load, 2500));
        assert_eq!(load.this_second(2600), 1);
    }

    #[test]
    fn a_new_connection_is_idle_only_after_the_idle_time() {
        let load = Load::new(10_000);
        let idle = Duration::from_secs(2);
        assert!(!load.is_idle(idle, 11_000), "opened 1 s ago");
        assert!(load.is_idle(idle, 12_000));
    }

    #[test]
    fn idle_needs_nothing_in_flight_and_time_since_the_last_start() {
        let load = Load::default();
        let idle = Duration::from_secs(1);
        let g = InFlight::new(&load, 5000);
        assert!(!load.is_idle(idle, 9000), "a request is still running");
        drop(g);
        assert!(!load.is_idle(idle, 5500));
        assert!(load.is_idle(idle, 6000));
    }
}
