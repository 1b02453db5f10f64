//! Retry policies: after a failed attempt, whether the session tries again, where and after
//! what wait. A policy decides from the error, the statement's idempotence, the attempt number
//! and the statement kind; the session carries the decision out (see `execute.rs`).
//!
//! **Safety rule, enforced by the session whatever the policy says:** a request that is not
//! idempotent is never retried once it may have been applied — after a write timeout (except a
//! `BATCH_LOG` one, which means the batch log was not written, so nothing was), a write
//! failure, a lost connection, an attempt timeout, a server error or any other answer that
//! does not prove the coordinator did nothing. Only UNAVAILABLE, OVERLOADED, IS_BOOTSTRAPPING,
//! a read timeout or failure (the statement was a read), and client-side refusals (queue full,
//! no node) prove that. See [`may_have_been_applied`].

use std::fmt;
use std::time::Duration;

use cql4_conn::{Error, ErrorKind};
use cql4_frame::response::ErrorDetails;

use crate::backoff::Rng;

/// The kind of statement a request runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatementKind {
    /// A CQL string (QUERY).
    Query,
    /// A prepared statement (EXECUTE).
    Execute,
    /// A BATCH.
    Batch,
}

impl StatementKind {
    /// `"query"`, `"execute"` or `"batch"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Execute => "execute",
            Self::Batch => "batch",
        }
    }
}

/// What a [`RetryPolicy`] decides from.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RetryContext<'a> {
    /// The failed attempt's error.
    pub error: &'a Error,
    /// Whether the statement is idempotent ([`cql4_conn::QueryOptions::idempotent`], else the
    /// statement's default).
    pub idempotent: bool,
    /// The failed attempt's number in its chain: 1 for the first attempt, 2 for the first
    /// retry, … (a speculative execution starts its own chain at 1).
    pub attempt: u32,
    /// The statement's kind.
    pub statement: StatementKind,
}

impl<'a> RetryContext<'a> {
    /// A context (for calling a policy directly, e.g. in tests).
    pub fn new(error: &'a Error, idempotent: bool, attempt: u32, statement: StatementKind) -> Self {
        Self {
            error,
            idempotent,
            attempt,
            statement,
        }
    }

    /// Retries already made in this chain (`attempt - 1`).
    pub fn retries(&self) -> u32 {
        self.attempt.saturating_sub(1)
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryDecision {
    /// Try again on the same node (another connection of its pool if the one used closed),
    /// after `delay`.
    SameNode {
        /// Wait before the new attempt (a `tokio` sleep: no thread blocks).
        delay: Duration,
    },
    /// Try the next node of the query plan, after `delay`; when the plan has no node left,
    /// the request fails with this error.
    NextNode {
        /// Wait before the new attempt.
        delay: Duration,
    },
    /// Fail with this error.
    Fail,
}

impl RetryDecision {
    /// Same node, no wait.
    pub const SAME_NODE: Self = Self::SameNode {
        delay: Duration::ZERO,
    };
    /// Next node, no wait.
    pub const NEXT_NODE: Self = Self::NextNode {
        delay: Duration::ZERO,
    };

    /// The wait before the next attempt, if there is one.
    pub fn delay(&self) -> Option<Duration> {
        match self {
            Self::SameNode { delay } | Self::NextNode { delay } => Some(*delay),
            Self::Fail => None,
        }
    }
}

/// Decides whether and where a failed attempt is tried again. Set one in
/// [`crate::SessionConfig::retry_policy`].
///
/// Called once per failed attempt, on the request's task: keep it cheap and non-blocking.
/// Whatever it answers, the session never retries a non-idempotent request that may have been
/// applied ([`may_have_been_applied`]), and never past the request's
/// [`cql4_conn::QueryOptions::overall_timeout`].
pub trait RetryPolicy: Send + Sync + fmt::Debug {
    /// The decision after the failed attempt described by `context`.
    fn decide(&self, context: &RetryContext<'_>) -> RetryDecision;
}

/// True when the failed attempt may have changed data: anything but an answer or a
/// client-side refusal that proves the coordinator did nothing (UNAVAILABLE, OVERLOADED,
/// IS_BOOTSTRAPPING, a read timeout or failure, a `BATCH_LOG` write timeout, the
/// connection's queue full, no node available). A non-idempotent request is retried only when
/// this is false.
pub fn may_have_been_applied(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::Unavailable
        | ErrorKind::Overloaded
        | ErrorKind::IsBootstrapping
        | ErrorKind::ReadTimeout
        | ErrorKind::ReadFailure
        | ErrorKind::ClientOverloaded
        | ErrorKind::NoNodeAvailable => false,
        ErrorKind::WriteTimeout => error.write_type() != Some("BATCH_LOG"),
        _ => true,
    }
}

/// Cassandra's semantics (as the DataStax Java driver's default policy):
///
/// | error | decision |
/// |---|---|
/// | read timeout | same node, once, when enough replicas answered (`received ≥ block_for`) but the data replica's answer was missing (`data_present` false) |
/// | write timeout | same node, once, when the statement is idempotent or the write type is `BATCH_LOG` |
/// | unavailable | next node, once |
/// | connection lost, attempt timeout, OVERLOADED, IS_BOOTSTRAPPING, SERVER_ERROR | next node, when idempotent |
/// | OVERLOADED "… shutting down" | next node (the draining node refused it: safe for any statement) |
/// | the connection's queue full | next node (nothing was sent) |
/// | anything else | fail |
///
/// No wait between attempts.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct DefaultRetryPolicy;

impl DefaultRetryPolicy {
    /// The policy.
    pub fn new() -> Self {
        Self
    }
}

impl RetryPolicy for DefaultRetryPolicy {
    fn decide(&self, c: &RetryContext<'_>) -> RetryDecision {
        let first = c.attempt <= 1;
        if c.error.is_shutting_down() {
            return RetryDecision::NEXT_NODE;
        }
        match c.error.kind() {
            ErrorKind::ReadTimeout => match c.error.server_details() {
                Some(ErrorDetails::ReadTimeout {
                    received,
                    block_for,
                    data_present,
                    ..
                }) if first && received >= block_for && !data_present => RetryDecision::SAME_NODE,
                _ => RetryDecision::Fail,
            },
            ErrorKind::WriteTimeout
                if first && (c.idempotent || c.error.write_type() == Some("BATCH_LOG")) =>
            {
                RetryDecision::SAME_NODE
            }
            ErrorKind::Unavailable if first => RetryDecision::NEXT_NODE,
            ErrorKind::ConnectionLost
            | ErrorKind::ClientTimeout
            | ErrorKind::Overloaded
            | ErrorKind::IsBootstrapping
            | ErrorKind::ServerError
                if c.idempotent
                    && matches!(
                        c.error,
                        Error::Server(_) | Error::Closed(_) | Error::Timeout { .. }
                    ) =>
            {
                RetryDecision::NEXT_NODE
            }
            ErrorKind::ClientOverloaded => RetryDecision::NEXT_NODE,
            _ => RetryDecision::Fail,
        }
    }
}

/// Never retries.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct NoRetryPolicy;

impl NoRetryPolicy {
    /// The policy.
    pub fn new() -> Self {
        Self
    }
}

impl RetryPolicy for NoRetryPolicy {
    fn decide(&self, _: &RetryContext<'_>) -> RetryDecision {
        RetryDecision::Fail
    }
}

/// AWS's `AmazonKeyspacesExponentialRetryPolicy`: Amazon Keyspaces answers throttling with
/// read and write timeouts, and its endpoint is one to three addresses, so trying the next
/// node (which the default policy does) soon leaves none; this policy waits and tries the
/// **same** node again.
///
/// - read timeout, write timeout, unavailable, OVERLOADED, IS_BOOTSTRAPPING, SERVER_ERROR, a
///   lost connection or an attempt timeout: same node, after a backoff, while fewer than
///   [`Self::max_retries`] retries were made (AWS's `max-attempts`, default 3, counts
///   retries);
/// - OVERLOADED "… shutting down" and the connection's queue full: next node;
/// - anything else: fail.
///
/// The backoff of the n-th retry is uniform in `[min_wait, min(max_wait, min_wait·2ⁿ)]`
/// (defaults 10 ms and 50 ms, AWS's): exponential growth with full jitter, never under the
/// minimum nor over the maximum. (AWS's two published copies compute it slightly
/// differently — `min(max, min + rand[n, 2ⁿ))` and `min(max, max(min, rand[2n, 2ⁿ⁺¹)))` in
/// milliseconds — both within the same bounds.) Non-idempotent writes that timed out are
/// still never retried (see the module's safety rule): mark writes idempotent to get AWS's
/// behaviour for them.
///
/// The default policy of a session whose endpoint is Amazon Keyspaces
/// ([`crate::SessionConfig::is_keyspaces`]).
#[derive(Debug)]
pub struct KeyspacesRetryPolicy {
    max_retries: u32,
    min_wait: Duration,
    max_wait: Duration,
    rng: Rng,
}

impl Clone for KeyspacesRetryPolicy {
    /// The same settings, with a random source of its own.
    fn clone(&self) -> Self {
        Self {
            rng: Rng::new(),
            ..*self
        }
    }
}

impl Default for KeyspacesRetryPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyspacesRetryPolicy {
    /// AWS's defaults: 3 retries, waits between 10 ms and 50 ms.
    pub fn new() -> Self {
        Self {
            max_retries: 3,
            min_wait: Duration::from_millis(10),
            max_wait: Duration::from_millis(50),
            rng: Rng::new(),
        }
    }

    /// Sets the number of retries after the first attempt (AWS's `max-attempts`).
    #[must_use]
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets the wait bounds (`max` is raised to `min` if lower).
    #[must_use]
    pub fn with_waits(mut self, min: Duration, max: Duration) -> Self {
        self.min_wait = min;
        self.max_wait = max.max(min);
        self
    }

    /// Retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The wait before retry `n` (1 = the first retry) given a random number.
    fn backoff(&self, n: u32, random: u64) -> Duration {
        let min = self.min_wait.as_nanos();
        let ceiling = min
            .checked_shl(n.min(64))
            .unwrap_or(u128::MAX)
            .min(self.max_wait.as_nanos())
            .max(min);
        let nanos = min + u128::from(random) % (ceiling - min + 1);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

impl RetryPolicy for KeyspacesRetryPolicy {
    fn decide(&self, c: &RetryContext<'_>) -> RetryDecision {
        if c.error.is_shutting_down() || c.error.kind() == ErrorKind::ClientOverloaded {
            return RetryDecision::NEXT_NODE;
        }
        if c.retries() >= self.max_retries {
            return RetryDecision::Fail;
        }
        let transient = match c.error.kind() {
            ErrorKind::ReadTimeout
            | ErrorKind::WriteTimeout
            | ErrorKind::Unavailable
            | ErrorKind::Overloaded
            | ErrorKind::IsBootstrapping
            | ErrorKind::ServerError
            | ErrorKind::ConnectionLost => true,
            // The attempt's own timeout, not a deadline: a deadline is never handed to a policy.
            ErrorKind::ClientTimeout => matches!(c.error, Error::Timeout { .. }),
            _ => false,
        };
        if !transient {
            return RetryDecision::Fail;
        }
        RetryDecision::SameNode {
            delay: self.backoff(c.attempt, self.rng.next()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cql4_conn::CloseReason;
    use cql4_frame::response::{ErrorCode, ErrorResponse};
    use cql4_frame::Consistency;

    use super::*;

    fn server(code: ErrorCode, message: &str, details: ErrorDetails) -> Error {
        Error::Server(Box::new(ErrorResponse {
            code,
            message: message.to_owned(),
            details,
        }))
    }

    fn write_timeout(write_type: &str) -> Error {
        server(
            ErrorCode::WRITE_TIMEOUT,
            "timeout",
            ErrorDetails::WriteTimeout {
                consistency: Consistency::LOCAL_QUORUM,
                received: 1,
                block_for: 2,
                write_type: write_type.to_owned(),
            },
        )
    }

    fn read_timeout(received: i32, block_for: i32, data_present: bool) -> Error {
        server(
            ErrorCode::READ_TIMEOUT,
            "timeout",
            ErrorDetails::ReadTimeout {
                consistency: Consistency::LOCAL_QUORUM,
                received,
                block_for,
                data_present,
            },
        )
    }

    fn unavailable() -> Error {
        server(
            ErrorCode::UNAVAILABLE,
            "unavailable",
            ErrorDetails::Unavailable {
                consistency: Consistency::LOCAL_QUORUM,
                required: 2,
                alive: 1,
            },
        )
    }

    fn closed() -> Error {
        Error::Closed(Arc::new(CloseReason::EndOfStream))
    }

    fn decide(p: &dyn RetryPolicy, e: &Error, idempotent: bool, attempt: u32) -> RetryDecision {
        p.decide(&RetryContext::new(
            e,
            idempotent,
            attempt,
            StatementKind::Execute,
        ))
    }

    #[test]
    fn default_policy_follows_cassandra_semantics() {
        let p = DefaultRetryPolicy::new();
        const NEXT_NODE: RetryDecision = RetryDecision::NEXT_NODE;
        const SAME_NODE: RetryDecision = RetryDecision::SAME_NODE;
        use RetryDecision::Fail;
        // Read timeout: once, only when enough replicas answered without the data.
        assert_eq!(decide(&p, &read_timeout(2, 2, false), false, 1), SAME_NODE);
        assert_eq!(decide(&p, &read_timeout(2, 2, false), false, 2), Fail);
        assert_eq!(decide(&p, &read_timeout(1, 2, false), true, 1), Fail);
        assert_eq!(decide(&p, &read_timeout(2, 2, true), true, 1), Fail);
        // Write timeout: idempotent or batch log, once.
        assert_eq!(decide(&p, &write_timeout("SIMPLE"), true, 1), SAME_NODE);
        assert_eq!(decide(&p, &write_timeout("SIMPLE"), false, 1), Fail);
        assert_eq!(decide(&p, &write_timeout("BATCH_LOG"), false, 1), SAME_NODE);
        assert_eq!(decide(&p, &write_timeout("SIMPLE"), true, 2), Fail);
        // Unavailable: the next node, once.
        assert_eq!(decide(&p, &unavailable(), false, 1), NEXT_NODE);
        assert_eq!(decide(&p, &unavailable(), false, 2), Fail);
        // Connection loss and coordinator errors: the next node when idempotent.
        for e in [
            closed(),
            Error::Timeout {
                timeout: Duration::from_secs(1),
            },
            server(ErrorCode::OVERLOADED, "busy", ErrorDetails::None),
            server(ErrorCode::IS_BOOTSTRAPPING, "joining", ErrorDetails::None),
            server(ErrorCode::SERVER_ERROR, "bug", ErrorDetails::None),
        ] {
            assert_eq!(decide(&p, &e, true, 1), NEXT_NODE, "{e}");
            assert_eq!(decide(&p, &e, true, 3), NEXT_NODE, "{e}");
            assert_eq!(decide(&p, &e, false, 1), Fail, "{e}");
        }
        // A draining node: elsewhere, whatever the statement.
        let draining = server(
            ErrorCode::OVERLOADED,
            "Server is shutting down",
            ErrorDetails::None,
        );
        assert_eq!(decide(&p, &draining, false, 1), NEXT_NODE);
        assert_eq!(
            decide(&p, &Error::Overloaded { queued: 8 }, false, 1),
            NEXT_NODE
        );
        for e in [
            server(ErrorCode::INVALID, "bad", ErrorDetails::None),
            server(ErrorCode::SYNTAX_ERROR, "bad", ErrorDetails::None),
            Error::SessionClosed,
            Error::NoNodeAvailable {
                tried: 3,
                last_error: None,
            },
        ] {
            assert_eq!(decide(&p, &e, true, 1), Fail, "{e}");
        }
    }

    #[test]
    fn keyspaces_policy_retries_on_the_same_node_with_bounded_backoff() {
        let p = KeyspacesRetryPolicy::new();
        for e in [
            write_timeout("SIMPLE"),
            read_timeout(0, 2, false),
            unavailable(),
            closed(),
            server(ErrorCode::SERVER_ERROR, "x", ErrorDetails::None),
        ] {
            for attempt in 1..=3 {
                match decide(&p, &e, true, attempt) {
                    RetryDecision::SameNode { delay } => {
                        assert!(delay >= Duration::from_millis(10), "{e}: {delay:?}");
                        assert!(delay <= Duration::from_millis(50), "{e}: {delay:?}");
                    }
                    other => panic!("{e} attempt {attempt}: {other:?}"),
                }
            }
            assert_eq!(
                decide(&p, &e, true, 4),
                RetryDecision::Fail,
                "3 retries at most"
            );
        }
        assert_eq!(
            decide(
                &p,
                &server(ErrorCode::INVALID, "x", ErrorDetails::None),
                true,
                1
            ),
            RetryDecision::Fail
        );
        let draining = server(ErrorCode::OVERLOADED, "shutting down", ErrorDetails::None);
        assert_eq!(decide(&p, &draining, true, 1), RetryDecision::NEXT_NODE);
        let p = KeyspacesRetryPolicy::new().with_max_retries(10);
        assert!(matches!(
            decide(&p, &write_timeout("SIMPLE"), true, 10),
            RetryDecision::SameNode { .. }
        ));
    }

    #[test]
    fn keyspaces_backoff_grows_exponentially_within_its_bounds() {
        let p = KeyspacesRetryPolicy::new();
        let ms = Duration::from_millis;
        // The ceiling doubles from 2·min and stops at max; the floor is min.
        assert_eq!(p.backoff(1, 0), ms(10));
        let top = |n| {
            (0..2000u64)
                .map(|r| p.backoff(n, r.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
                .max()
        };
        assert!(top(1).is_some_and(|d| d <= ms(20) && d > ms(18)));
        assert!(top(2).is_some_and(|d| d <= ms(40) && d > ms(36)));
        assert!(top(3).is_some_and(|d| d <= ms(50) && d > ms(45)));
        assert!(top(40).is_some_and(|d| d <= ms(50)));
        let narrow = KeyspacesRetryPolicy::new().with_waits(ms(30), ms(5));
        assert_eq!(narrow.backoff(3, 12345), ms(30), "max raised to min");
    }

    #[test]
    fn no_retry_policy_never_retries() {
        let p = NoRetryPolicy::new();
        assert_eq!(decide(&p, &unavailable(), true, 1), RetryDecision::Fail);
        assert_eq!(decide(&p, &closed(), true, 1), RetryDecision::Fail);
    }

    #[test]
    fn only_answers_that_prove_nothing_was_done_allow_retrying_non_idempotent_requests() {
        for e in [
            unavailable(),
            read_timeout(0, 1, false),
            write_timeout("BATCH_LOG"),
            server(ErrorCode::OVERLOADED, "busy", ErrorDetails::None),
            server(ErrorCode::IS_BOOTSTRAPPING, "joining", ErrorDetails::None),
            Error::Overloaded { queued: 1 },
        ] {
            assert!(!may_have_been_applied(&e), "{e}");
        }
        for e in [
            write_timeout("SIMPLE"),
            write_timeout("COUNTER"),
            write_timeout("CAS"),
            closed(),
            Error::Timeout {
                timeout: Duration::from_secs(1),
            },
            server(ErrorCode::SERVER_ERROR, "bug", ErrorDetails::None),
            server(ErrorCode::WRITE_FAILURE, "failed", ErrorDetails::None),
        ] {
            assert!(may_have_been_applied(&e), "{e}");
        }
    }
}
