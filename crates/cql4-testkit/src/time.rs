//! Deadlines from durations a caller chose, which may be absurd (`--deadline-ms` set to
//! `u64::MAX`): `Instant + Duration` panics on overflow, a deadline must not.

use std::time::Duration;

use tokio::time::Instant;

/// About 30 years: later than any test or run, still representable.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// `from + after`, or a far-future instant when that overflows.
pub(crate) fn deadline_after(from: Instant, after: Duration) -> Instant {
    from.checked_add(after)
        .or_else(|| from.checked_add(FAR_FUTURE))
        .unwrap_or(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_give_a_far_deadline_instead_of_a_panic() {
        let now = Instant::now();
        assert_eq!(
            deadline_after(now, Duration::from_millis(5)),
            now + Duration::from_millis(5)
        );
        assert!(deadline_after(now, Duration::MAX) >= now + FAR_FUTURE);
        assert!(deadline_after(now, Duration::from_millis(u64::MAX)) > now);
    }
}
