//! Deadlines from durations a caller chose, which may be absurd (`--deadline-ms` set to
//! `u64::MAX`): `Instant + Duration` panics on overflow, a deadline must not. The rule is the
//! driver's own (`cql4_conn`'s `deadline::after`), on tokio's `Instant`.

use std::time::Duration;

use tokio::time::Instant;

/// `from + after`, capped far in the future instead of overflowing.
pub(crate) fn deadline_after(from: Instant, after: Duration) -> Instant {
    Instant::from_std(cql4_conn::testkit::deadline_after(from.into_std(), after))
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
        let year = Duration::from_secs(365 * 24 * 3600);
        assert!(deadline_after(now, Duration::MAX) >= now + year);
        assert!(deadline_after(now, Duration::from_millis(u64::MAX)) >= now + year);
    }
}
