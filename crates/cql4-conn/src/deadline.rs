//! Deadlines from user-given durations, which may be absurd (`Duration::MAX` as "never").

use std::time::{Duration, Instant};

/// Far enough to mean "never" for a connection, near enough not to overflow `Instant`.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
/// The cap where an `Instant` cannot hold a century: still "never" in practice.
const ONE_YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// `start + wait`, capped at a century (or a year, where `Instant` cannot hold a century) so
/// that a huge timeout means "never" instead of the panic of `Instant + Duration` overflow.
pub(crate) fn after(start: Instant, wait: Duration) -> Instant {
    start
        .checked_add(wait.min(NEVER))
        .or_else(|| start.checked_add(wait.min(ONE_YEAR)))
        .unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_waits_are_capped_instead_of_overflowing() {
        let now = Instant::now();
        assert_eq!(
            after(now, Duration::from_millis(5)),
            now + Duration::from_millis(5)
        );
        assert_eq!(after(now, Duration::MAX), now + NEVER);
        assert!(after(now, Duration::MAX) > now + Duration::from_secs(3600 * 24 * 365));
    }
}
