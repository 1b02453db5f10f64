//! `date`, `time`, `timestamp` (native_protocol_v4.spec §6.5, §6.16, §6.17) and `duration`,
//! with raw numeric access and ISO-8601 display computed by hand (proleptic Gregorian
//! calendar, no time zone database).

use std::fmt;

/// A CQL `date`: days with the Unix epoch at 2^31 (native_protocol_v4.spec §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CqlDate(pub u32);

impl CqlDate {
    /// The raw value for 1970-01-01.
    pub const EPOCH: u32 = 1 << 31;

    /// The date `days` after 1970-01-01 (negative: before), if representable.
    pub fn from_days_since_epoch(days: i64) -> Option<Self> {
        u32::try_from(days.checked_add(i64::from(Self::EPOCH))?)
            .ok()
            .map(Self)
    }

    /// Days after 1970-01-01 (negative: before).
    pub fn days_since_epoch(self) -> i64 {
        i64::from(self.0) - i64::from(Self::EPOCH)
    }

    /// Year, month (1-12) and day (1-31).
    pub fn to_ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.days_since_epoch())
    }
}

impl fmt::Display for CqlDate {
    /// `yyyy-mm-dd`; years beyond four digits (the type spans ±5.8 million years) get more.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.to_ymd();
        write_ymd(f, y, m, d)
    }
}

fn write_ymd(f: &mut fmt::Formatter<'_>, y: i64, m: u32, d: u32) -> fmt::Result {
    if y < 0 {
        write!(f, "-{:04}-{m:02}-{d:02}", y.unsigned_abs())
    } else {
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// Nanoseconds in a day.
const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// A CQL `time`: nanoseconds since midnight, 0 to 86399999999999
/// (native_protocol_v4.spec §6.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CqlTime(i64);

impl CqlTime {
    /// The largest valid value, 23:59:59.999999999.
    pub const MAX_NANOS: i64 = NANOS_PER_DAY - 1;

    /// A time of day, if `nanos` is in range: "Valid values are in the range 0 to
    /// 86399999999999" (§6.16).
    pub fn from_nanos(nanos: i64) -> Option<Self> {
        (0..=Self::MAX_NANOS)
            .contains(&nanos)
            .then_some(Self(nanos))
    }

    /// Nanoseconds since midnight.
    pub fn nanos(self) -> i64 {
        self.0
    }
}

impl fmt::Display for CqlTime {
    /// `hh:mm:ss.nnnnnnnnn`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        let secs = n / 1_000_000_000;
        write!(
            f,
            "{:02}:{:02}:{:02}.{:09}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            n % 1_000_000_000
        )
    }
}

/// A CQL `timestamp`: milliseconds since the Unix epoch (native_protocol_v4.spec §6.17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CqlTimestamp(pub i64);

impl CqlTimestamp {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub fn millis(self) -> i64 {
        self.0
    }
}

impl fmt::Display for CqlTimestamp {
    /// `yyyy-mm-ddThh:mm:ss.mmmZ` (UTC).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MS_PER_DAY: i64 = 86_400_000;
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms = self.0.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        write_ymd(f, y, m, d)?;
        let secs = ms / 1000;
        write!(
            f,
            "T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            ms % 1000
        )
    }
}

/// Year, month and day of the day `days` after 1970-01-01 in the proleptic Gregorian
/// calendar (H. Hinnant's `civil_from_days`). Exact for every `i64` a date or timestamp can
/// produce (|days| < 2^37).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = yoe + era * 400 + i64::from(m <= 2);
    // Both are within u32 by the ranges above.
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// A CQL `duration`: months, days and nanoseconds, each signed (sent as three `[vint]`s).
///
/// Protocol v4 carries it as the custom type `org.apache.cassandra.db.marshal.DurationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CqlDuration {
    /// Months.
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Nanoseconds.
    pub nanos: i64,
}

impl fmt::Display for CqlDuration {
    /// Cassandra's own form, e.g. `1y2mo3d4h5m6s7ms8us9ns`, with one leading `-` when negative.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.months == 0 && self.days == 0 && self.nanos == 0 {
            return f.write_str("0s");
        }
        if self.months < 0 || self.days < 0 || self.nanos < 0 {
            f.write_str("-")?;
        }
        let months = i64::from(self.months).unsigned_abs();
        let days = i64::from(self.days).unsigned_abs();
        let nanos = self.nanos.unsigned_abs();
        let parts = [
            (months / 12, "y"),
            (months % 12, "mo"),
            (days, "d"),
            (nanos / 3_600_000_000_000, "h"),
            (nanos / 60_000_000_000 % 60, "m"),
            (nanos / 1_000_000_000 % 60, "s"),
            (nanos / 1_000_000 % 1000, "ms"),
            (nanos / 1000 % 1000, "us"),
            (nanos % 1000, "ns"),
        ];
        for (n, unit) in parts {
            if n != 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_spec_examples() {
        // native_protocol_v4.spec §6.5: 0 is -5877641-06-23, 2^31 is 1970-1-1, "2^32" is
        // 5881580-07-11. 2^32 does not fit the unsigned int: the spec means the last day,
        // 2^32 - 1 (Java's LocalDate.ofEpochDay(2^31 - 1) is +5881580-07-11 too).
        assert_eq!(CqlDate(0).to_string(), "-5877641-06-23");
        assert_eq!(CqlDate(1 << 31).to_string(), "1970-01-01");
        assert_eq!(CqlDate(u32::MAX).to_string(), "5881580-07-11");
        assert_eq!(CqlDate::from_days_since_epoch(0), Some(CqlDate(1 << 31)));
        assert_eq!(CqlDate::from_days_since_epoch(-(1 << 31)), Some(CqlDate(0)));
        assert_eq!(CqlDate::from_days_since_epoch(1 << 31), None);
        // 2000-02-29 is day 11016.
        assert_eq!(
            CqlDate::from_days_since_epoch(11_016).unwrap().to_string(),
            "2000-02-29"
        );
        assert_eq!(
            CqlDate::from_days_since_epoch(-1).unwrap().to_ymd(),
            (1969, 12, 31)
        );
    }

    #[test]
    fn time_bounds() {
        assert_eq!(
            CqlTime::from_nanos(0).unwrap().to_string(),
            "00:00:00.000000000"
        );
        assert_eq!(
            CqlTime::from_nanos(86_399_999_999_999).unwrap().to_string(),
            "23:59:59.999999999"
        );
        assert_eq!(CqlTime::from_nanos(86_400_000_000_000), None);
        assert_eq!(CqlTime::from_nanos(-1), None);
    }

    #[test]
    fn timestamp_display() {
        assert_eq!(CqlTimestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(CqlTimestamp(-1).to_string(), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            CqlTimestamp(1_591_742_511_123).to_string(),
            "2020-06-09T22:41:51.123Z"
        );
        // Extremes do not overflow.
        assert!(CqlTimestamp(i64::MAX).to_string().ends_with('Z'));
        assert!(CqlTimestamp(i64::MIN).to_string().starts_with('-'));
    }

    #[test]
    fn duration_display() {
        let d = CqlDuration {
            months: 14,
            days: 3,
            nanos: 3_600_000_000_000 + 1_001,
        };
        assert_eq!(d.to_string(), "1y2mo3d1h1us1ns");
        let d = CqlDuration {
            months: 0,
            days: -1,
            nanos: -5,
        };
        assert_eq!(d.to_string(), "-1d5ns");
        assert_eq!(CqlDuration::default().to_string(), "0s");
    }
}
