//! Reconnection waits (pure: the random input is passed in) and the session's cheap random
//! numbers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::ReconnectPolicy;

/// The wait before attempt `attempt` (0 = the first retry): a random point of
/// `[d/2, d]` with `d = min(base·2^attempt, max)`, so nodes that failed together do not
/// reconnect in lockstep while the bound `d` still holds.
pub(crate) fn backoff(policy: &ReconnectPolicy, attempt: u32, random: u64) -> Duration {
    let base = policy.base.as_nanos().max(1);
    let max = policy.max.as_nanos().max(base);
    let ceiling = base
        .checked_shl(attempt.min(64))
        .unwrap_or(u128::MAX)
        .min(max);
    let half = ceiling / 2;
    let jitter = if half == 0 {
        0
    } else {
        u128::from(random) % (ceiling - half + 1)
    };
    let nanos = half + jitter;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// splitmix64 over a shared counter: uniform enough for jitter and for picking a replica, and
/// one atomic add per number.
#[derive(Debug)]
pub(crate) struct Rng(AtomicU64);

impl Rng {
    pub(crate) fn new() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
        Self(AtomicU64::new(seed))
    }

    pub(crate) fn next(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ReconnectPolicy {
        ReconnectPolicy::new(Duration::from_millis(100), Duration::from_secs(30))
    }

    #[test]
    fn waits_double_within_jitter_and_stop_at_the_maximum() {
        let p = policy();
        for attempt in 0..20u32 {
            let d = Duration::from_millis(100)
                .saturating_mul(1 << attempt.min(30))
                .min(Duration::from_secs(30));
            for random in [0, 1, 12345, u64::MAX / 3, u64::MAX] {
                let w = backoff(&p, attempt, random);
                assert!(
                    w >= d / 2 && w <= d,
                    "attempt {attempt}: {w:?} not in [{:?}, {d:?}]",
                    d / 2
                );
            }
        }
        assert_eq!(backoff(&p, 0, 0), Duration::from_millis(50));
        assert_eq!(backoff(&p, 1000, 0), Duration::from_secs(15));
    }

    #[test]
    fn jitter_spreads_the_waits() {
        let rng = Rng::new();
        let waits: std::collections::HashSet<Duration> = (0..100)
            .map(|_| backoff(&policy(), 5, rng.next()))
            .collect();
        assert!(waits.len() > 50, "only {} distinct waits", waits.len());
    }

    #[test]
    fn degenerate_policies_do_not_panic() {
        let zero = ReconnectPolicy::new(Duration::ZERO, Duration::ZERO);
        assert!(backoff(&zero, 3, 7) <= Duration::from_nanos(1));
        let inverted = ReconnectPolicy::new(Duration::from_secs(5), Duration::from_secs(1));
        assert!(backoff(&inverted, 0, 7) <= Duration::from_secs(5));
    }
}
