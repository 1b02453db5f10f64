//! Speculative execution: when an idempotent request's answer is late, the same request is
//! also sent to the next node of its plan; the first answer wins and the other attempts are
//! abandoned (their futures dropped: the connection keeps their stream ids reserved as
//! orphans until the late answers arrive, or until their own timeout).
//!
//! Also the per-node latency tracker that [`SpeculativePolicy::Percentile`] reads: a
//! lock-free log-scale histogram, halved every few thousand samples so it follows the node's
//! recent latency.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// When a session sends an idempotent request to more nodes than the first. Set it in
/// [`crate::SessionConfig::speculative`]; requests that are not idempotent never speculate.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum SpeculativePolicy {
    /// One attempt at a time (retries aside). The default.
    #[default]
    None,
    /// Another attempt on the next node after each `delay` without an answer, up to
    /// `max_extra` extra attempts.
    Constant {
        /// Wait after the previous attempt's start.
        delay: Duration,
        /// Extra attempts at most.
        max_extra: usize,
    },
    /// Another attempt when the answer is later than the `percentile` (e.g. 99.0) of the
    /// first node's recent latencies, then again after each such wait, up to `max_extra`
    /// extra attempts. No speculation on a node with fewer than 100 answers recorded. The
    /// threshold is the node's own: this catches a node that becomes slow (a stall, a lost
    /// host), not one that was slow all along — a constant delay does.
    Percentile {
        /// The percentile, in `(0, 100]`.
        percentile: f64,
        /// Extra attempts at most.
        max_extra: usize,
    },
}

impl SpeculativePolicy {
    /// A constant delay policy.
    pub fn constant(delay: Duration, max_extra: usize) -> Self {
        Self::Constant { delay, max_extra }
    }

    /// A latency percentile policy (`percentile` clamped to `[1, 100]`).
    pub fn percentile(percentile: f64, max_extra: usize) -> Self {
        let percentile = if percentile.is_nan() {
            99.0
        } else {
            percentile.clamp(1.0, 100.0)
        };
        Self::Percentile {
            percentile,
            max_extra,
        }
    }

    /// Extra attempts at most.
    pub fn max_extra(&self) -> usize {
        match self {
            Self::None => 0,
            Self::Constant { max_extra, .. } | Self::Percentile { max_extra, .. } => *max_extra,
        }
    }

    /// The wait before the next extra attempt, given the first node's latencies; `None`: no
    /// extra attempt.
    /// True when the policy reads the nodes' latencies (the others need no clock read at the
    /// end of each attempt).
    pub(crate) fn uses_latency(&self) -> bool {
        matches!(self, Self::Percentile { .. })
    }

    pub(crate) fn delay(&self, first_node: &LatencyTracker) -> Option<Duration> {
        match self {
            Self::None => None,
            Self::Constant { delay, .. } => Some(*delay),
            Self::Percentile { percentile, .. } => first_node.percentile(*percentile),
        }
    }
}

/// Sub-buckets per power of two (a bucket spans a quarter of an octave: ≤ 25% error).
const SUB: u32 = 4;
/// Microseconds below this each get their own bucket.
const LINEAR: u64 = 16;
const BUCKETS: usize = 160;
/// Every this many samples the counts are halved: the histogram follows recent latency.
const HALVE_AT: u64 = 4096;

/// Recent answer latencies of one node (a log-scale histogram of microseconds). Recording is a
/// few relaxed atomic operations; reading a percentile walks the buckets.
#[derive(Debug)]
pub(crate) struct LatencyTracker {
    buckets: Box<[AtomicU32]>,
    total: AtomicU64,
}

impl Default for LatencyTracker {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU32::new(0)).collect(),
            total: AtomicU64::new(0),
        }
    }
}

impl LatencyTracker {
    /// Answers needed before a percentile is reported.
    pub(crate) const MIN_SAMPLES: u64 = 100;

    /// Records one answer's latency.
    pub(crate) fn record(&self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        if let Some(b) = self.buckets.get(bucket(micros)) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        if self.total.fetch_add(1, Ordering::Relaxed) + 1 == HALVE_AT {
            // Concurrent records may land between the halving of two buckets: the counts
            // are approximate, which a percentile for speculation tolerates.
            let mut kept = 0;
            for b in self.buckets.iter() {
                let old = b.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n / 2));
                kept += u64::from(old.unwrap_or(0) / 2);
            }
            self.total.fetch_sub(HALVE_AT - kept, Ordering::Relaxed);
        }
    }

    /// The latency under which `percentile`% of the recorded answers came (the upper bound of
    /// its bucket); `None` with fewer than [`Self::MIN_SAMPLES`] answers.
    pub(crate) fn percentile(&self, percentile: f64) -> Option<Duration> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| u64::from(b.load(Ordering::Relaxed)))
            .collect();
        let total: u64 = counts.iter().sum();
        if total < Self::MIN_SAMPLES {
            return None;
        }
        let wanted = ((total as f64) * percentile / 100.0).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in counts.iter().enumerate() {
            seen += n;
            if seen >= wanted {
                return Some(Duration::from_micros(upper_bound(i)));
            }
        }
        Some(Duration::from_micros(upper_bound(BUCKETS - 1)))
    }
}

/// The bucket of a latency in microseconds.
fn bucket(micros: u64) -> usize {
    if micros < LINEAR {
        return micros as usize;
    }
    let octave = 63 - micros.leading_zeros(); // ≥ 4
    let sub = (micros >> (octave - 2)) & u64::from(SUB - 1);
    let i = LINEAR as usize + ((octave - 4) * SUB) as usize + sub as usize;
    i.min(BUCKETS - 1)
}

/// The largest latency (µs) of bucket `i`.
fn upper_bound(i: usize) -> u64 {
    if i < LINEAR as usize {
        return i as u64;
    }
    let k = (i - LINEAR as usize) as u32;
    let octave = k / SUB + 4;
    let sub = u64::from(k % SUB);
    ((4 + sub + 1) << (octave - 2)).saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_values_within_a_quarter_octave() {
        for micros in [0, 1, 15, 16, 17, 100, 1000, 4095, 4096, 123_456, 10_000_000] {
            let b = bucket(micros);
            assert!(upper_bound(b) >= micros, "{micros} over its bucket {b}");
            assert!(
                upper_bound(b) as f64 <= (micros as f64 * 1.25).max(micros as f64 + 1.0),
                "{micros}: bucket {b} up to {}",
                upper_bound(b)
            );
            if b > 0 {
                assert!(
                    upper_bound(b - 1) < micros,
                    "{micros} also fits bucket {}",
                    b - 1
                );
            }
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_need_samples_and_follow_the_distribution() {
        let t = LatencyTracker::default();
        for _ in 0..99 {
            t.record(Duration::from_millis(1));
        }
        assert_eq!(t.percentile(99.0), None, "99 samples are too few");
        t.record(Duration::from_millis(80));
        let p50 = t.percentile(50.0).expect("enough samples");
        assert!(p50 >= Duration::from_millis(1) && p50 < Duration::from_micros(1300));
        let p100 = t.percentile(100.0).expect("enough samples");
        assert!(p100 >= Duration::from_millis(80) && p100 < Duration::from_millis(100));
    }

    #[test]
    fn old_samples_fade_out() {
        let t = LatencyTracker::default();
        for _ in 0..HALVE_AT - 1 {
            t.record(Duration::from_millis(50));
        }
        // After a few halvings the fast samples dominate the median.
        for _ in 0..3 * HALVE_AT {
            t.record(Duration::from_millis(1));
        }
        let p50 = t.percentile(50.0).expect("samples");
        assert!(p50 < Duration::from_millis(2), "{p50:?}");
        assert!(t.total.load(Ordering::Relaxed) < HALVE_AT);
    }

    #[test]
    fn policies_give_their_delay() {
        let t = LatencyTracker::default();
        assert_eq!(SpeculativePolicy::None.delay(&t), None);
        let c = SpeculativePolicy::constant(Duration::from_millis(5), 2);
        assert_eq!(c.delay(&t), Some(Duration::from_millis(5)));
        assert_eq!(c.max_extra(), 2);
        let p = SpeculativePolicy::percentile(250.0, 1);
        assert_eq!(
            p,
            SpeculativePolicy::Percentile {
                percentile: 100.0,
                max_extra: 1
            }
        );
        assert_eq!(p.delay(&t), None, "no samples yet");
        for _ in 0..200 {
            t.record(Duration::from_millis(3));
        }
        assert!(p.delay(&t).is_some_and(|d| d >= Duration::from_millis(3)));
    }
}
