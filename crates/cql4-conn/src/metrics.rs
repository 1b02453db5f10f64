//! Metrics on the [`metrics`](https://docs.rs/metrics) facade, with the `metrics` feature
//! (off by default). The application installs a recorder (Prometheus, StatsD, …); without
//! one, or without the feature, nothing is recorded and every function here is an empty
//! inline function.
//!
//! | name | kind | labels | what |
//! | --- | --- | --- | --- |
//! | `cql4_requests_total` | counter | `node` | requests handed to a connection (each attempt) |
//! | `cql4_errors_total` | counter | `kind` | requests that failed, by error kind ([`error`]) |
//! | `cql4_retries_total` | counter | `node`, `reason` | retries, by the node retried on and why ([`retry`]) |
//! | `cql4_speculative_executions_total` | counter | `node` | speculative attempts started ([`speculative`]) |
//! | `cql4_timeouts_total` | counter | `node` | client-side request timeouts (no answer, or no room in the queue, in time) |
//! | `cql4_orphaned_streams` | gauge | `node` | stream ids held by timed-out requests until their late answer |
//! | `cql4_requests_in_flight` | gauge | `node` | requests queued or on the wire (stream ids in use, heartbeats included) |
//! | `cql4_request_duration_seconds` | histogram | `node` | time from handing a request to the connection to its answer (answers only: timeouts are counted apart) |
//! | `cql4_connections` | gauge | `node` | open connections |
//! | `cql4_connections_opened_total` | counter | `node` | connections a session's pool opened ([`connection_opened`]) |
//! | `cql4_connections_closed_total` | counter | `node` | connections of a session's pool that ended ([`connection_closed`]) |
//! | `cql4_reconnections_total` | counter | `node` | a node reachable again after failed attempts ([`reconnection`]) |
//!
//! `node` is the node's `address:port` (as [`crate::Config::address`] writes it); `kind` and
//! `reason` are short fixed names. No label or value ever holds a statement, a bound value, a
//! keyspace, a user name or a credential. Call [`describe`] once after installing the recorder
//! to give each metric its description and unit.

#[cfg(feature = "metrics")]
use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::stats::StreamStats;

/// `cql4_requests_total`.
pub const REQUESTS: &str = "cql4_requests_total";
/// `cql4_errors_total`.
pub const ERRORS: &str = "cql4_errors_total";
/// `cql4_retries_total`.
pub const RETRIES: &str = "cql4_retries_total";
/// `cql4_speculative_executions_total`.
pub const SPECULATIVE: &str = "cql4_speculative_executions_total";
/// `cql4_timeouts_total`.
pub const TIMEOUTS: &str = "cql4_timeouts_total";
/// `cql4_orphaned_streams`.
pub const ORPHANED: &str = "cql4_orphaned_streams";
/// `cql4_requests_in_flight`.
pub const IN_FLIGHT: &str = "cql4_requests_in_flight";
/// `cql4_request_duration_seconds`.
pub const DURATION: &str = "cql4_request_duration_seconds";
/// `cql4_connections`.
pub const CONNECTIONS: &str = "cql4_connections";
/// `cql4_connections_opened_total`.
pub const OPENED: &str = "cql4_connections_opened_total";
/// `cql4_connections_closed_total`.
pub const CLOSED: &str = "cql4_connections_closed_total";
/// `cql4_reconnections_total`.
pub const RECONNECTIONS: &str = "cql4_reconnections_total";

/// Gives every metric above its description and unit (call once, after the recorder is
/// installed; a no-op without the feature).
#[inline]
pub fn describe() {
    #[cfg(feature = "metrics")]
    {
        use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
        describe_counter!(REQUESTS, Unit::Count, "requests handed to a connection");
        describe_counter!(ERRORS, Unit::Count, "failed requests by error kind");
        describe_counter!(RETRIES, Unit::Count, "retries by node and reason");
        describe_counter!(SPECULATIVE, Unit::Count, "speculative executions started");
        describe_counter!(TIMEOUTS, Unit::Count, "client-side request timeouts");
        describe_gauge!(
            ORPHANED,
            Unit::Count,
            "stream ids held by timed-out requests"
        );
        describe_gauge!(IN_FLIGHT, Unit::Count, "requests queued or on the wire");
        describe_histogram!(DURATION, Unit::Seconds, "request latency per node");
        describe_gauge!(CONNECTIONS, Unit::Count, "open connections");
        describe_counter!(OPENED, Unit::Count, "connections opened by the pool");
        describe_counter!(CLOSED, Unit::Count, "connections of the pool that ended");
        describe_counter!(RECONNECTIONS, Unit::Count, "nodes reachable again");
    }
}

/// Counts a failed request under `cql4_errors_total{kind}`; `kind` is the error kind's short
/// name (e.g. `"read_timeout"`, `"overloaded"`). Called once per request by whoever decides
/// that it failed (the session), not per attempt.
#[inline]
pub fn error(kind: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(ERRORS, "kind" => kind).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = kind;
}

/// Counts a retry on `node` under `cql4_retries_total{node, reason}`; `reason` is a short
/// fixed name (e.g. `"write_timeout"`, `"unavailable"`, `"connection"`).
#[inline]
pub fn retry(node: &dyn std::fmt::Display, reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(RETRIES, "node" => node.to_string(), "reason" => reason).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (node, reason);
}

/// Counts a speculative attempt started on `node` (`cql4_speculative_executions_total`).
#[inline]
pub fn speculative(node: &dyn std::fmt::Display) {
    #[cfg(feature = "metrics")]
    metrics::counter!(SPECULATIVE, "node" => node.to_string()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = node;
}

/// Counts a connection a pool opened to `node` (`cql4_connections_opened_total`).
#[inline]
pub fn connection_opened(node: &dyn std::fmt::Display) {
    #[cfg(feature = "metrics")]
    metrics::counter!(OPENED, "node" => node.to_string()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = node;
}

/// Counts a pooled connection to `node` that ended (`cql4_connections_closed_total`).
#[inline]
pub fn connection_closed(node: &dyn std::fmt::Display) {
    #[cfg(feature = "metrics")]
    metrics::counter!(CLOSED, "node" => node.to_string()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = node;
}

/// Counts `node` becoming reachable again after failed attempts
/// (`cql4_reconnections_total`).
#[inline]
pub fn reconnection(node: &dyn std::fmt::Display) {
    #[cfg(feature = "metrics")]
    metrics::counter!(RECONNECTIONS, "node" => node.to_string()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = node;
}

/// The per-request metrics of one connection, their handles looked up once at connect: a
/// request costs a few atomic operations, not a registry lookup. Empty without the feature.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnMetrics {
    #[cfg(feature = "metrics")]
    handles: Option<Arc<Handles>>,
}

#[cfg(feature = "metrics")]
#[derive(Debug)]
struct Handles {
    requests: metrics::Counter,
    timeouts: metrics::Counter,
    orphaned: metrics::Gauge,
    in_flight: metrics::Gauge,
    duration: metrics::Histogram,
    connections: metrics::Gauge,
}

impl ConnMetrics {
    /// The handles for the node of `config`.
    #[inline]
    pub(crate) fn new(config: &Config) -> Self {
        #[cfg(feature = "metrics")]
        {
            let node = config.address();
            Self {
                handles: Some(Arc::new(Handles {
                    requests: metrics::counter!(REQUESTS, "node" => node.clone()),
                    timeouts: metrics::counter!(TIMEOUTS, "node" => node.clone()),
                    orphaned: metrics::gauge!(ORPHANED, "node" => node.clone()),
                    in_flight: metrics::gauge!(IN_FLIGHT, "node" => node.clone()),
                    duration: metrics::histogram!(DURATION, "node" => node.clone()),
                    connections: metrics::gauge!(CONNECTIONS, "node" => node),
                })),
            }
        }
        #[cfg(not(feature = "metrics"))]
        {
            let _ = config;
            Self {}
        }
    }

    /// A request was handed to the connection.
    #[inline]
    pub(crate) fn request(&self) {
        #[cfg(feature = "metrics")]
        if let Some(h) = &self.handles {
            h.requests.increment(1);
        }
    }

    /// A request sent at `start` got its answer (the clock is read only when a recorder
    /// takes the duration).
    #[inline]
    pub(crate) fn answered(&self, start: Instant) {
        #[cfg(feature = "metrics")]
        if let Some(h) = &self.handles {
            h.duration.record(start.elapsed().as_secs_f64());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = start;
    }

    /// A request timed out on the client's side.
    #[inline]
    pub(crate) fn timeout(&self) {
        #[cfg(feature = "metrics")]
        if let Some(h) = &self.handles {
            h.timeouts.increment(1);
        }
    }

    /// The connection's I/O task started (`true`) or ended.
    #[inline]
    pub(crate) fn connection(&self, open: bool) {
        #[cfg(feature = "metrics")]
        if let Some(h) = &self.handles {
            if open {
                h.connections.increment(1.0);
            } else {
                h.connections.decrement(1.0);
            }
        }
        #[cfg(not(feature = "metrics"))]
        let _ = open;
    }

    /// The stream table moved from `before` to `now`: the gauges follow by the difference, so
    /// that several connections to one node add up.
    #[inline]
    pub(crate) fn streams(&self, before: StreamStats, now: StreamStats) {
        #[cfg(feature = "metrics")]
        if let Some(h) = &self.handles {
            let delta = |a: usize, b: usize| b as f64 - a as f64;
            let used = |s: StreamStats| s.in_flight + s.queued;
            if used(before) != used(now) {
                h.in_flight.increment(delta(used(before), used(now)));
            }
            if before.orphaned != now.orphaned {
                h.orphaned.increment(delta(before.orphaned, now.orphaned));
            }
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (before, now);
    }
}

/// A running connection's share of the gauges (`cql4_connections`, `cql4_requests_in_flight`,
/// `cql4_orphaned_streams`), given back when dropped: also when the I/O task is aborted.
#[derive(Debug)]
pub(crate) struct LiveGauges {
    metrics: ConnMetrics,
    published: StreamStats,
}

impl LiveGauges {
    pub(crate) fn new(metrics: &ConnMetrics) -> Self {
        metrics.connection(true);
        Self {
            metrics: metrics.clone(),
            published: StreamStats::default(),
        }
    }

    /// The stream table's counts now.
    #[inline]
    pub(crate) fn publish(&mut self, now: StreamStats) {
        self.metrics.streams(self.published, now);
        self.published = now;
    }
}

impl Drop for LiveGauges {
    fn drop(&mut self) {
        self.publish(StreamStats::default());
        self.metrics.connection(false);
    }
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "metrics"))]
    #[test]
    fn without_the_feature_a_connection_carries_nothing() {
        assert_eq!(size_of::<super::ConnMetrics>(), 0);
    }
}
