use time::macros::{date, datetime, time};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::error::{DecodeErrorKind, EncodeError};
use crate::types::ColumnType;
use crate::value::{write_value, CqlDate, CqlTime, CqlTimestamp, FromCql, ToCql};

/// `value` written as `ty`, without the `[value]` length.
fn written<T: ToCql>(value: &T, ty: &ColumnType) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    write_value(value, ty, &mut out)?;
    Ok(out.split_off(4))
}

/// The bytes of `cql` as the codec's own type writes them.
fn cql_bytes<T: ToCql>(cql: T, ty: &ColumnType) -> Vec<u8> {
    written(&cql, ty).expect("writes")
}

#[test]
fn offset_date_time_round_trips_to_the_millisecond_in_utc() {
    let ty = ColumnType::Timestamp;
    let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_000_000).expect("in range");
    let bytes = written(&t, &ty).expect("writes");
    assert_eq!(bytes, cql_bytes(CqlTimestamp(1_700_000_000_123), &ty));
    assert_eq!(OffsetDateTime::from_cql(&ty, Some(&bytes)), Ok(t));
    // Another offset is the same instant; it reads back in UTC.
    let east = t.to_offset(UtcOffset::from_hms(2, 0, 0).expect("offset"));
    assert_eq!(written(&east, &ty).expect("writes"), bytes);
    let read = OffsetDateTime::from_cql(&ty, Some(&bytes)).expect("reads");
    assert_eq!(read.offset(), UtcOffset::UTC);
    // Before the epoch, and sub-millisecond precision truncated toward the past.
    let before = OffsetDateTime::UNIX_EPOCH - Duration::seconds(1) + Duration::nanoseconds(999_999);
    assert_eq!(
        written(&before, &ty).expect("writes"),
        cql_bytes(CqlTimestamp(-1000), &ty)
    );
}

#[test]
fn primitive_date_time_is_utc_both_ways() {
    let ty = ColumnType::Timestamp;
    let t = datetime!(1969-12-31 23:59:59.5);
    let bytes = written(&t, &ty).expect("writes");
    assert_eq!(bytes, cql_bytes(CqlTimestamp(-500), &ty));
    assert_eq!(PrimitiveDateTime::from_cql(&ty, Some(&bytes)), Ok(t));
}

#[test]
fn timestamp_outside_time_fails_to_read() {
    let ty = ColumnType::Timestamp;
    let bytes = cql_bytes(CqlTimestamp(i64::MAX), &ty);
    let err = OffsetDateTime::from_cql(&ty, Some(&bytes)).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::Invalid("timestamp outside the range of time::OffsetDateTime")
    );
    let err = PrimitiveDateTime::from_cql(&ty, Some(&bytes)).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::Invalid("timestamp outside the range of time::PrimitiveDateTime")
    );
}

#[test]
fn date_round_trips_around_the_epoch() {
    let ty = ColumnType::Date;
    for (d, days) in [
        (date!(1970 - 01 - 01), 0),
        (date!(1969 - 12 - 31), -1),
        (date!(2024 - 02 - 29), 19_782),
    ] {
        let cql = CqlDate::from_days_since_epoch(days).expect("in range");
        let bytes = written(&d, &ty).expect("writes");
        assert_eq!(bytes, cql_bytes(cql, &ty), "{d}");
        assert_eq!(Date::from_cql(&ty, Some(&bytes)), Ok(d));
    }
    // CQL dates reach ±5.8 million years; time's do not.
    let err = Date::from_cql(&ty, Some(&cql_bytes(CqlDate(0), &ty))).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::Invalid("date outside the range of time::Date")
    );
}

#[test]
fn time_round_trips_at_both_ends_of_the_day() {
    let ty = ColumnType::Time;
    let last = time!(23:59:59.999_999_999);
    let bytes = written(&last, &ty).expect("writes");
    assert_eq!(
        bytes,
        cql_bytes(CqlTime::from_nanos(CqlTime::MAX_NANOS).expect("max"), &ty)
    );
    assert_eq!(Time::from_cql(&ty, Some(&bytes)), Ok(last));
    let t = time!(01:02:03.000_000_004);
    let nanos = ((3600 + 2 * 60 + 3) * 1_000_000_000) + 4;
    let bytes = written(&t, &ty).expect("writes");
    assert_eq!(
        bytes,
        cql_bytes(CqlTime::from_nanos(nanos).expect("in range"), &ty)
    );
    assert_eq!(Time::from_cql(&ty, Some(&bytes)), Ok(t));
    assert_eq!(
        Time::from_cql(
            &ty,
            Some(&cql_bytes(CqlTime::from_nanos(0).expect("0"), &ty))
        ),
        Ok(Time::MIDNIGHT)
    );
}

#[test]
fn time_types_refuse_other_cql_types() {
    assert_eq!(
        Date::type_check(&ColumnType::Timestamp),
        Err(DecodeErrorKind::TypeMismatch {
            rust: "Date",
            cql: "timestamp".into()
        })
    );
    assert_eq!(
        written(&OffsetDateTime::UNIX_EPOCH, &ColumnType::Date),
        Err(EncodeError::TypeMismatch {
            what: "OffsetDateTime",
            cql: "date".into()
        })
    );
    assert!(Time::type_check(&ColumnType::BigInt).is_err());
    assert!(PrimitiveDateTime::type_check(&ColumnType::Time).is_err());
}
