//! Per-request options and bound values.

use std::time::Duration;

use bytes::Bytes;
use cql4_frame::bind::SerializeRow;
use cql4_frame::consistency::Consistency;
use cql4_frame::request::CustomPayload;

/// Options of one request. Unset fields take the [`crate::Config`] defaults.
///
/// ```
/// use std::time::Duration;
/// use cql4_conn::QueryOptions;
/// use cql4_frame::Consistency;
/// let options = QueryOptions::new()
///     .with_consistency(Consistency::LOCAL_ONE)
///     .with_page_size(1000)
///     .with_timeout(Duration::from_secs(2))
///     // A session may retry it, or run it on a second node when the first is slow.
///     .with_idempotent(true)
///     .with_overall_timeout(Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryOptions {
    /// Consistency level (default: [`crate::Config::default_consistency`]).
    pub consistency: Option<Consistency>,
    /// SERIAL or LOCAL_SERIAL for conditional updates (§4.1.4 flag 0x10).
    pub serial_consistency: Option<Consistency>,
    /// Rows per page (default: [`crate::Config::default_page_size`]); a value ≤ 0 disables
    /// paging.
    pub page_size: Option<i32>,
    /// Resume from this paging state (from a previous page's [`crate::QueryResult`]).
    pub paging_state: Option<Bytes>,
    /// Default timestamp in microseconds since the epoch (§4.1.4 flag 0x20).
    pub default_timestamp: Option<i64>,
    /// Ask the server to trace the request; the tracing id comes back in the result.
    pub tracing: bool,
    /// Custom payload sent with the request (§2.2 flag 0x04).
    pub custom_payload: Option<CustomPayload>,
    /// Timeout of one attempt of this request (each page, each retry and each speculative
    /// attempt separately); default [`crate::Config::request_timeout`].
    pub timeout: Option<Duration>,
    /// Whether running the statement twice has the same effect as running it once, so that a
    /// session may retry it after its bytes may have reached a server, or run it on a second
    /// node speculatively. `None`: the statement's default
    /// ([`crate::PreparedStatement::is_idempotent`], [`crate::BatchRequest::is_idempotent`];
    /// false for a CQL string), as in the mainstream drivers. Counter updates, appends to
    /// lists and conditional updates (`IF …`) are not idempotent.
    pub idempotent: Option<bool>,
    /// Deadline of the whole request across its retries and speculative attempts (a session
    /// setting; a [`crate::Client`] makes one attempt and ignores it). `None`: no deadline
    /// beyond the attempts' own timeouts. Each page of a paged statement is one request.
    pub overall_timeout: Option<Duration>,
    /// Deadline of a whole [`crate::Pager`] or [`crate::RowStream`], counted from its first
    /// page request: every page fetched after it fails with a client timeout. `None`: none.
    pub stream_timeout: Option<Duration>,
}

impl QueryOptions {
    /// All defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the consistency level.
    #[must_use]
    pub fn with_consistency(mut self, c: Consistency) -> Self {
        self.consistency = Some(c);
        self
    }

    /// Sets the serial consistency level.
    #[must_use]
    pub fn with_serial_consistency(mut self, c: Consistency) -> Self {
        self.serial_consistency = Some(c);
        self
    }

    /// Sets the page size in rows.
    #[must_use]
    pub fn with_page_size(mut self, rows: i32) -> Self {
        self.page_size = Some(rows);
        self
    }

    /// Resumes from a paging state.
    #[must_use]
    pub fn with_paging_state(mut self, state: Bytes) -> Self {
        self.paging_state = Some(state);
        self
    }

    /// Sets the default timestamp (microseconds).
    #[must_use]
    pub fn with_default_timestamp(mut self, micros: i64) -> Self {
        self.default_timestamp = Some(micros);
        self
    }

    /// Turns tracing on or off.
    #[must_use]
    pub fn with_tracing(mut self, on: bool) -> Self {
        self.tracing = on;
        self
    }

    /// Sets the custom payload.
    #[must_use]
    pub fn with_custom_payload(mut self, payload: CustomPayload) -> Self {
        self.custom_payload = Some(payload);
        self
    }

    /// Sets the timeout of each attempt of this request.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Marks the statement idempotent (or not), whatever its default.
    #[must_use]
    pub fn with_idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// Sets the deadline of the whole request, across retries and speculative attempts.
    #[must_use]
    pub fn with_overall_timeout(mut self, timeout: Duration) -> Self {
        self.overall_timeout = Some(timeout);
        self
    }

    /// Sets the deadline of a whole page stream ([`crate::Pager`], [`crate::RowStream`]).
    #[must_use]
    pub fn with_stream_timeout(mut self, timeout: Duration) -> Self {
        self.stream_timeout = Some(timeout);
        self
    }
}

/// Bind values held past the call that took them (pages of a statement, BATCH children):
/// any [`SerializeRow`], written into each request's frame when it is encoded.
pub type RowValues = dyn SerializeRow + Send + Sync;
