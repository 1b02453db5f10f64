use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

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
fn timestamp_round_trips_to_the_millisecond() {
    let ty = ColumnType::Timestamp;
    let t = DateTime::<Utc>::from_timestamp_millis(1_700_000_000_123).expect("in range");
    let bytes = written(&t, &ty).expect("writes");
    assert_eq!(bytes, cql_bytes(CqlTimestamp(1_700_000_000_123), &ty));
    assert_eq!(DateTime::<Utc>::from_cql(&ty, Some(&bytes)), Ok(t));
    // Before the epoch, and sub-millisecond precision truncated toward the past.
    let before = DateTime::<Utc>::from_timestamp(-1, 999_999).expect("in range");
    assert_eq!(
        written(&before, &ty).expect("writes"),
        cql_bytes(CqlTimestamp(-1000), &ty)
    );
}

#[test]
fn timestamp_outside_chrono_fails_to_read() {
    let ty = ColumnType::Timestamp;
    let bytes = cql_bytes(CqlTimestamp(i64::MAX), &ty);
    let err = DateTime::<Utc>::from_cql(&ty, Some(&bytes)).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::Invalid("timestamp outside the range of chrono::DateTime")
    );
}

#[test]
fn date_round_trips_around_the_epoch() {
    let ty = ColumnType::Date;
    for (ymd, days) in [
        ((1970, 1, 1), 0),
        ((1969, 12, 31), -1),
        ((2024, 2, 29), 19_782),
    ] {
        let d = NaiveDate::from_ymd_opt(ymd.0, ymd.1, ymd.2).expect("date");
        let cql = CqlDate::from_days_since_epoch(days).expect("in range");
        let bytes = written(&d, &ty).expect("writes");
        assert_eq!(bytes, cql_bytes(cql, &ty), "{d}");
        assert_eq!(NaiveDate::from_cql(&ty, Some(&bytes)), Ok(d));
    }
    // CQL dates reach ±5.8 million years; chrono's do not.
    let err = NaiveDate::from_cql(&ty, Some(&cql_bytes(CqlDate(0), &ty))).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::Invalid("date outside the range of chrono::NaiveDate")
    );
}

#[test]
fn time_round_trips_and_refuses_a_leap_second() {
    let ty = ColumnType::Time;
    let t = NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).expect("time");
    let bytes = written(&t, &ty).expect("writes");
    assert_eq!(
        bytes,
        cql_bytes(CqlTime::from_nanos(CqlTime::MAX_NANOS).expect("max"), &ty)
    );
    assert_eq!(NaiveTime::from_cql(&ty, Some(&bytes)), Ok(t));
    let leap = NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).expect("leap second");
    assert_eq!(
        written(&leap, &ty),
        Err(EncodeError::Invalid("a leap second has no CQL time"))
    );
}

#[test]
fn chrono_types_refuse_other_cql_types() {
    assert_eq!(
        NaiveDate::type_check(&ColumnType::Timestamp),
        Err(DecodeErrorKind::TypeMismatch {
            rust: "NaiveDate",
            cql: "timestamp".into()
        })
    );
    let t = DateTime::<Utc>::from_timestamp_millis(0).expect("epoch");
    assert_eq!(
        written(&t, &ColumnType::Date),
        Err(EncodeError::TypeMismatch {
            what: "DateTime<Utc>",
            cql: "date".into()
        })
    );
    assert!(NaiveTime::type_check(&ColumnType::BigInt).is_err());
}
