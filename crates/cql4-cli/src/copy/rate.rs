//! INGESTRATE: a token bucket, refilled at the rate, holding at most a tenth of a second's
//! worth so a pause is not followed by a burst above the rate.

use std::time::{Duration, Instant};

/// Rows per second, on a clock the caller passes (so tests need no sleeping).
#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate: f64,
    capacity: f64,
    /// May go below zero: rows taken ahead of the refill, paid by waiting.
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub(crate) fn new(rows_per_sec: u32, now: Instant) -> Self {
        let rate = f64::from(rows_per_sec.max(1));
        let capacity = (rate / 10.0).max(1.0);
        Self {
            rate,
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    /// Takes `rows` tokens; returns how long to wait before sending them (zero when they were
    /// there). Taking ahead and waiting keeps the average at the rate whatever `rows` is.
    pub(crate) fn take(&mut self, rows: u32, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.tokens -= f64::from(rows);
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends as fast as the bucket allows for `secs` of simulated time; returns rows sent.
    fn drive(rate: u32, rows_per_take: u32, secs: f64) -> f64 {
        let start = Instant::now();
        let mut b = TokenBucket::new(rate, start);
        let mut now = start;
        let mut sent = 0u64;
        let end = start + Duration::from_secs_f64(secs);
        loop {
            let wait = b.take(rows_per_take, now);
            now += wait;
            if now > end {
                break;
            }
            sent += u64::from(rows_per_take);
        }
        sent as f64
    }

    #[test]
    fn holds_the_rate_over_time() {
        for (rate, per) in [(100_000, 1), (100_000, 20), (1000, 7), (10, 1)] {
            let sent = drive(rate, per, 5.0);
            let want = f64::from(rate) * 5.0;
            // At most the burst (a tenth of a second) and one take above the rate.
            assert!(
                sent <= want + f64::from(rate) / 10.0 + f64::from(per),
                "{rate}/{per}: {sent}"
            );
            assert!(sent >= want * 0.95, "{rate}/{per}: {sent}");
        }
    }

    #[test]
    fn an_idle_pause_buys_no_burst_beyond_the_capacity() {
        let start = Instant::now();
        let mut b = TokenBucket::new(1000, start);
        let later = start + Duration::from_secs(60);
        let mut free = 0;
        while b.take(1, later).is_zero() {
            free += 1;
        }
        assert_eq!(free, 100);
    }
}
