//! time 0.3 for CQL timestamp, date and time (native_protocol_v4.spec §6.17, §6.5, §6.16),
//! through [`CqlTimestamp`], [`CqlDate`] and [`CqlTime`].
//!
//! An `OffsetDateTime` is written to the millisecond, truncated toward the past (as the
//! chrono conversion does), whatever its offset; it reads back in UTC. A `PrimitiveDateTime`
//! has no offset and is taken as UTC both ways. Values outside time's range (years ±9999
//! without its `large-dates` feature) fail to read.

use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::{check, mismatch, DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use super::{ColumnType, CqlDate, CqlTime, CqlTimestamp, FromCql, IsNull, ToCql};

/// `Date::to_julian_day` of 1970-01-01.
const EPOCH_JULIAN_DAY: i64 = 2_440_588;
const NANOS_PER_MILLI: i128 = 1_000_000;
const NANOS_PER_SECOND: i64 = 1_000_000_000;

fn from_millis(millis: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * NANOS_PER_MILLI).ok()
}

fn to_millis(t: OffsetDateTime) -> Option<CqlTimestamp> {
    i64::try_from(t.unix_timestamp_nanos().div_euclid(NANOS_PER_MILLI))
        .ok()
        .map(CqlTimestamp)
}

via!(
    OffsetDateTime,
    "OffsetDateTime",
    CqlTimestamp,
    ColumnType::Timestamp,
    |c| from_millis(c.millis()),
    "timestamp outside the range of time::OffsetDateTime",
    |v| to_millis(*v),
    "unreachable: every OffsetDateTime has a millisecond timestamp"
);

via!(
    PrimitiveDateTime,
    "PrimitiveDateTime",
    CqlTimestamp,
    ColumnType::Timestamp,
    |c| from_millis(c.millis()).map(|t| PrimitiveDateTime::new(t.date(), t.time())),
    "timestamp outside the range of time::PrimitiveDateTime",
    |v| to_millis(v.assume_utc()),
    "unreachable: every PrimitiveDateTime has a millisecond timestamp"
);

via!(
    Date,
    "Date",
    CqlDate,
    ColumnType::Date,
    |c| i32::try_from(c.days_since_epoch() + EPOCH_JULIAN_DAY)
        .ok()
        .and_then(|d| Date::from_julian_day(d).ok()),
    "date outside the range of time::Date",
    |v| CqlDate::from_days_since_epoch(i64::from(v.to_julian_day()) - EPOCH_JULIAN_DAY),
    "unreachable: every time::Date is a CQL date"
);

via!(
    Time,
    "Time",
    CqlTime,
    ColumnType::Time,
    |c| {
        let (secs, nanos) = (c.nanos() / NANOS_PER_SECOND, c.nanos() % NANOS_PER_SECOND);
        u8::try_from(secs / 3600)
            .ok()
            .zip(u8::try_from(secs / 60 % 60).ok())
            .zip(u8::try_from(secs % 60).ok())
            .zip(u32::try_from(nanos).ok())
            .and_then(|(((h, m), s), n)| Time::from_hms_nano(h, m, s, n).ok())
    },
    "unreachable: every CQL time is a time::Time",
    |v| {
        let (h, m, s, n) = v.as_hms_nano();
        CqlTime::from_nanos(
            (i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * NANOS_PER_SECOND
                + i64::from(n),
        )
    },
    "unreachable: every time::Time is a CQL time"
);

#[cfg(test)]
mod tests;
