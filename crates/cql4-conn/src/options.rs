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
///     .with_timeout(Duration::from_secs(2));
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
    /// Timeout of this request (each page separately); default
    /// [`crate::Config::request_timeout`].
    pub timeout: Option<Duration>,
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

    /// Sets this request's timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// Bind values held past the call that took them (pages of a statement, BATCH children):
/// any [`SerializeRow`], written into each request's frame when it is encoded.
pub type RowValues = dyn SerializeRow + Send + Sync;
