//! chrono 0.4 for CQL timestamp, date and time (native_protocol_v4.spec §6.17, §6.5, §6.16),
//! through [`CqlTimestamp`], [`CqlDate`] and [`CqlTime`].
//!
//! A `DateTime<Utc>` is written to the millisecond, truncated toward the past as
//! `timestamp_millis` does; a leap second (`NaiveTime` nanoseconds of 1e9 or more) has no CQL
//! time and is refused. Values outside chrono's range (about ±262,000 years) fail to read.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};

use super::{check, mismatch, DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use super::{ColumnType, CqlDate, CqlTime, CqlTimestamp, FromCql, IsNull, ToCql};

/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const EPOCH_DAYS_FROM_CE: i64 = 719_163;
const NANOS_PER_SECOND: i64 = 1_000_000_000;

via!(
    DateTime<Utc>,
    "DateTime<Utc>",
    CqlTimestamp,
    ColumnType::Timestamp,
    |c| DateTime::<Utc>::from_timestamp_millis(c.millis()),
    "timestamp outside the range of chrono::DateTime",
    |v| Some(CqlTimestamp(v.timestamp_millis())),
    "unreachable: every DateTime has a millisecond timestamp"
);

via!(
    NaiveDate,
    "NaiveDate",
    CqlDate,
    ColumnType::Date,
    |c| i32::try_from(c.days_since_epoch() + EPOCH_DAYS_FROM_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt),
    "date outside the range of chrono::NaiveDate",
    |v| CqlDate::from_days_since_epoch(i64::from(v.num_days_from_ce()) - EPOCH_DAYS_FROM_CE),
    "unreachable: every NaiveDate is a CQL date"
);

via!(
    NaiveTime,
    "NaiveTime",
    CqlTime,
    ColumnType::Time,
    |c| u32::try_from(c.nanos() / NANOS_PER_SECOND)
        .ok()
        .zip(u32::try_from(c.nanos() % NANOS_PER_SECOND).ok())
        .and_then(|(s, n)| NaiveTime::from_num_seconds_from_midnight_opt(s, n)),
    "unreachable: every CQL time is a NaiveTime",
    |v| (i64::from(v.nanosecond()) < NANOS_PER_SECOND)
        .then(|| {
            i64::from(v.num_seconds_from_midnight()) * NANOS_PER_SECOND + i64::from(v.nanosecond())
        })
        .and_then(CqlTime::from_nanos),
    "a leap second has no CQL time"
);

#[cfg(test)]
mod tests;
