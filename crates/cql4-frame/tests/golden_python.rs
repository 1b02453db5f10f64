//! Golden vectors: the bytes cql4 binds through `ToCql` for natural Rust types are the bytes
//! the DataStax Python driver binds for the same values (tests/golden/python_driver.json,
//! written by xtask/python/golden.py; `cargo xtask golden` regenerates it). Each vector is
//! also read back through `FromCql` into the Rust value, and through `CqlValue` and out again.
//! Every vector in the file must be bound by some case here, so neither side drifts.
//!
//! Run with `--features uuid,chrono,time` to bind the interop types too.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Debug;
use std::net::IpAddr;

use cql4_frame::types::{ColumnType, UdtType};
use cql4_frame::value::{
    write_value, CqlDate, CqlDuration, CqlTime, CqlTimestamp, CqlValue, Decimal, FromCql, ToCql,
    Varint,
};
use cql4_frame::EncodeError;
use cql4_macros::{FromCql, ToCql};

/// The one place this file calls the codec to bind a value: a `[value]` (length, bytes).
fn encode<T: ToCql + ?Sized>(v: &T, ty: &ColumnType) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    write_value(v, ty, &mut out)?;
    Ok(out)
}

/// A `[value]`'s bytes, `None` for null (length -1).
fn cell(value: &[u8]) -> Option<&[u8]> {
    let len = i32::from_be_bytes(value[..4].try_into().unwrap());
    (len >= 0).then(|| &value[4..])
}

struct Vector {
    cql: String,
    bytes: Vec<u8>,
    /// The column type the cases bound it as (the last one; all must display as `cql`).
    ty: Option<ColumnType>,
}

struct Golden {
    vectors: BTreeMap<String, Vector>,
    failures: Vec<String>,
}

impl Golden {
    fn load() -> Self {
        let text = include_str!("golden/python_driver.json");
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        let vectors = doc["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let hex = v["hex"].as_str().unwrap();
                let bytes = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                    .collect();
                let vector = Vector {
                    cql: v["cql"].as_str().unwrap().to_owned(),
                    bytes,
                    ty: None,
                };
                (v["name"].as_str().unwrap().to_owned(), vector)
            })
            .collect();
        Self {
            vectors,
            failures: Vec::new(),
        }
    }

    /// Binds `v` as `ty` and compares with the driver's vector `name`; returns the driver's
    /// bytes for a read-back check.
    fn bind<T: ToCql + ?Sized + Debug>(
        &mut self,
        name: &str,
        ty: &ColumnType,
        v: &T,
    ) -> Option<Vec<u8>> {
        let rust = std::any::type_name::<T>();
        let Some(vector) = self.vectors.get_mut(name) else {
            self.failures
                .push(format!("{name}: no such vector in the file"));
            return None;
        };
        // The file's CQL type, parsed (`frozen<…>` is the same type); a UDT has no CQL syntax
        // without its schema, so it compares by name.
        let same = match vector.cql.parse::<ColumnType>() {
            Ok(parsed) => parsed == *ty,
            Err(_) => ty.to_string() == vector.cql,
        };
        if !same {
            self.failures.push(format!(
                "{name}: bound as {ty}, the driver's is {}",
                vector.cql
            ));
        }
        vector.ty = Some(ty.clone());
        let expected = vector.bytes.clone();
        match encode(v, ty) {
            Ok(bytes) if bytes == expected => {}
            Ok(bytes) => self.failures.push(format!(
                "{name}: {rust} {v:?} as {ty}\n   cql4: {}\n python: {}",
                hex(&bytes),
                hex(&expected)
            )),
            Err(e) => self
                .failures
                .push(format!("{name}: {rust} {v:?} as {ty} fails: {e}")),
        }
        Some(expected)
    }

    /// [`Golden::bind`], then reads the driver's bytes back as `T`, equal to `v`.
    fn round_trip<T>(&mut self, name: &str, ty: &ColumnType, v: T)
    where
        T: ToCql + for<'a> FromCql<'a> + PartialEq + Debug,
    {
        let Some(bytes) = self.bind(name, ty, &v) else {
            return;
        };
        let rust = std::any::type_name::<T>();
        let read = T::type_check(ty)
            .map_err(|k| k.to_string())
            .and_then(|()| T::from_cql(ty, cell(&bytes)).map_err(|e| e.to_string()));
        match read {
            Ok(back) if back == v => {}
            Ok(back) => self
                .failures
                .push(format!("{name}: read back as {rust} {back:?}, bound {v:?}")),
            Err(e) => self
                .failures
                .push(format!("{name}: reading as {rust} fails: {e}")),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn list(t: ColumnType) -> ColumnType {
    ColumnType::List(Box::new(t))
}

fn set(t: ColumnType) -> ColumnType {
    ColumnType::Set(Box::new(t))
}

fn map(k: ColumnType, v: ColumnType) -> ColumnType {
    ColumnType::Map(Box::new(k), Box::new(v))
}

fn s(v: &str) -> String {
    v.to_owned()
}

fn ip(v: &str) -> IpAddr {
    v.parse().unwrap()
}

fn uuid_bytes(v: &str) -> [u8; 16] {
    let digits: String = v.chars().filter(char::is_ascii_hexdigit).collect();
    u128::from_str_radix(&digits, 16).unwrap().to_be_bytes()
}

const UUID_V1: &str = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
const UUID_V4: &str = "f47ac10b-58cc-4372-a567-0e02b2c3d479";

fn natives(g: &mut Golden) {
    use ColumnType as C;
    g.round_trip("boolean_true", &C::Boolean, true);
    g.round_trip("boolean_false", &C::Boolean, false);
    g.round_trip("tinyint_min", &C::TinyInt, i8::MIN);
    g.round_trip("tinyint_zero", &C::TinyInt, 0i8);
    g.round_trip("tinyint_minus_one", &C::TinyInt, -1i8);
    g.round_trip("tinyint_max", &C::TinyInt, i8::MAX);
    g.round_trip("smallint_min", &C::SmallInt, i16::MIN);
    g.round_trip("smallint_zero", &C::SmallInt, 0i16);
    g.round_trip("smallint_max", &C::SmallInt, i16::MAX);
    g.round_trip("int_min", &C::Int, i32::MIN);
    g.round_trip("int_zero", &C::Int, 0i32);
    g.round_trip("int_minus_one", &C::Int, -1i32);
    g.round_trip("int_max", &C::Int, i32::MAX);
    g.round_trip("bigint_min", &C::BigInt, i64::MIN);
    g.round_trip("bigint_zero", &C::BigInt, 0i64);
    g.round_trip("bigint_one", &C::BigInt, 1i64);
    g.round_trip("bigint_max", &C::BigInt, i64::MAX);
    g.round_trip("counter_min", &C::Counter, i64::MIN);
    g.round_trip("counter_forty_two", &C::Counter, 42i64);
    g.round_trip("counter_max", &C::Counter, i64::MAX);

    g.round_trip("float_zero", &C::Float, 0.0f32);
    g.round_trip("float_negative_zero", &C::Float, -0.0f32);
    g.round_trip("float_one_and_a_half", &C::Float, 1.5f32);
    g.round_trip("float_max", &C::Float, f32::MAX);
    g.round_trip("float_smallest_subnormal", &C::Float, f32::from_bits(1));
    g.round_trip("float_infinity", &C::Float, f32::INFINITY);
    g.round_trip("float_negative_infinity", &C::Float, f32::NEG_INFINITY);
    // NaN never equals itself: bytes only.
    g.bind("float_nan", &C::Float, &f32::NAN);
    g.round_trip("double_zero", &C::Double, 0.0f64);
    g.round_trip("double_negative_zero", &C::Double, -0.0f64);
    g.round_trip("double_tenth", &C::Double, 0.1f64);
    g.round_trip("double_max", &C::Double, f64::MAX);
    g.round_trip("double_smallest_subnormal", &C::Double, f64::from_bits(1));
    g.round_trip("double_infinity", &C::Double, f64::INFINITY);
    g.bind("double_nan", &C::Double, &f64::NAN);

    for (name, v) in [
        ("text_empty", ""),
        ("text_ascii", "hello, world"),
        (
            "text_unicode",
            "h\u{e9}llo w\u{f6}rld \u{2713} \u{65e5}\u{672c}\u{8a9e} \u{1f980}",
        ),
        ("text_nul", "a\0b"),
    ] {
        g.bind(name, &C::Text, v);
        g.round_trip(name, &C::Text, v.to_owned());
    }
    g.bind("ascii_empty", &C::Ascii, "");
    g.round_trip("ascii_printable", &C::Ascii, s("Hello ~ 123 \x7f"));
    g.bind("blob_empty", &C::Blob, &[] as &[u8]);
    g.round_trip("blob_empty", &C::Blob, Vec::<u8>::new());
    let blob = [0u8, 1, 0x7f, 0x80, 0xfe, 0xff];
    g.bind("blob_bytes", &C::Blob, &blob[..]);
    g.round_trip("blob_bytes", &C::Blob, blob.to_vec());

    for (name, v) in [
        ("varint_zero", 0i128),
        ("varint_one", 1),
        ("varint_minus_one", -1),
        ("varint_127", 127),
        ("varint_128", 128),
        ("varint_minus_128", -128),
        ("varint_minus_129", -129),
        ("varint_255", 255),
        ("varint_256", 256),
        ("varint_minus_256", -256),
        ("varint_two_pow_64", 1 << 64),
        ("varint_minus_two_pow_64", -(1 << 64)),
        ("varint_i128_max", i128::MAX),
        ("varint_i128_min", i128::MIN),
    ] {
        g.round_trip(name, &C::Varint, v);
        g.round_trip(name, &C::Varint, Varint::from_i128(v));
    }
    let two_pow_200: Varint = "1606938044258990275541962092341162602522202993782792835301376"
        .parse()
        .unwrap();
    g.round_trip("varint_two_pow_200", &C::Varint, two_pow_200);

    for (name, unscaled, scale) in [
        ("decimal_zero", 0i128, 0),
        ("decimal_one_and_a_half", 15, 1),
        ("decimal_minus_thousandth", -1, 3),
        (
            "decimal_big",
            123_456_789_012_345_678_901_234_567_890_123_456_789,
            9,
        ),
        ("decimal_negative_scale", 1, -10),
        ("decimal_minus_128_scale_0", -128, 0),
        ("decimal_tiny", 1, 30),
    ] {
        g.round_trip(name, &C::Decimal, Decimal::new(unscaled, scale));
    }
    g.round_trip(
        "decimal_big",
        &C::Decimal,
        "123456789012345678901234567890.123456789"
            .parse::<Decimal>()
            .unwrap(),
    );

    let d = |months, days, nanos| CqlDuration {
        months,
        days,
        nanos,
    };
    g.round_trip("duration_zero", &C::Duration, d(0, 0, 0));
    g.round_trip("duration_small", &C::Duration, d(1, 2, 3));
    g.round_trip("duration_negative", &C::Duration, d(-1, -2, -3));
    g.round_trip(
        "duration_extremes",
        &C::Duration,
        d(i32::MAX, i32::MIN, i64::MAX),
    );
    g.round_trip(
        "duration_min",
        &C::Duration,
        d(i32::MIN, i32::MIN, i64::MIN),
    );
    g.round_trip(
        "duration_one_hour_thirty",
        &C::Duration,
        d(0, 0, 5_400_000_000_000),
    );

    let date = |days| CqlDate::from_days_since_epoch(days).unwrap();
    g.round_trip("date_epoch", &C::Date, date(0));
    g.round_trip("date_leap_day", &C::Date, date(19_782));
    g.round_trip("date_before_epoch", &C::Date, date(-1));
    g.round_trip("date_year_1", &C::Date, date(-719_162));
    g.round_trip("date_year_9999", &C::Date, date(2_932_896));
    g.round_trip("date_raw_min", &C::Date, CqlDate(0));
    g.round_trip("date_raw_max", &C::Date, CqlDate(u32::MAX));

    let time = |nanos| CqlTime::from_nanos(nanos).unwrap();
    g.round_trip("time_midnight", &C::Time, time(0));
    g.round_trip("time_noon_micros", &C::Time, time(45_296_789_012_000));
    g.round_trip("time_last_nanosecond", &C::Time, time(CqlTime::MAX_NANOS));

    g.round_trip("timestamp_epoch", &C::Timestamp, CqlTimestamp(0));
    g.round_trip(
        "timestamp_millis",
        &C::Timestamp,
        CqlTimestamp(1_704_164_645_678),
    );
    g.round_trip("timestamp_before_epoch", &C::Timestamp, CqlTimestamp(-1000));
    g.round_trip(
        "timestamp_min_millis",
        &C::Timestamp,
        CqlTimestamp(i64::MIN),
    );
    g.round_trip(
        "timestamp_max_millis",
        &C::Timestamp,
        CqlTimestamp(i64::MAX),
    );
    g.round_trip("timestamp_minus_one", &C::Timestamp, CqlTimestamp(-1));

    for (name, v) in [
        ("inet_v4_loopback", "127.0.0.1"),
        ("inet_v4_zero", "0.0.0.0"),
        ("inet_v4_broadcast", "255.255.255.255"),
        ("inet_v6_loopback", "::1"),
        ("inet_v6_doc", "2001:db8::8a2e:370:7334"),
        ("inet_v6_mapped_v4", "::ffff:1.2.3.4"),
    ] {
        g.round_trip(name, &C::Inet, ip(v));
    }

    g.round_trip("uuid_nil", &C::Uuid, [0u8; 16]);
    g.round_trip("uuid_max", &C::Uuid, [0xffu8; 16]);
    g.round_trip("uuid_v4", &C::Uuid, uuid_bytes(UUID_V4));
    g.round_trip("timeuuid_v1", &C::Timeuuid, uuid_bytes(UUID_V1));

    g.round_trip("int_null", &C::Int, None::<i32>);
    g.round_trip("int_zero", &C::Int, Some(0i32));
    g.round_trip("text_null", &C::Text, None::<String>);
    g.round_trip("text_ascii", &C::Text, Some(s("hello, world")));
}

#[cfg(feature = "uuid")]
fn with_uuid(g: &mut Golden) {
    use uuid::Uuid;
    g.round_trip("uuid_nil", &ColumnType::Uuid, Uuid::nil());
    g.round_trip("uuid_max", &ColumnType::Uuid, Uuid::max());
    g.round_trip(
        "uuid_v4",
        &ColumnType::Uuid,
        Uuid::parse_str(UUID_V4).unwrap(),
    );
    g.round_trip(
        "timeuuid_v1",
        &ColumnType::Timeuuid,
        Uuid::parse_str(UUID_V1).unwrap(),
    );
    g.round_trip(
        "list_uuid",
        &list(ColumnType::Uuid),
        vec![Uuid::nil(), Uuid::parse_str(UUID_V4).unwrap()],
    );
}

#[cfg(feature = "chrono")]
fn with_chrono(g: &mut Golden) {
    use chrono::{DateTime, NaiveDate, NaiveTime};
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    g.round_trip("date_epoch", &ColumnType::Date, date(1970, 1, 1));
    g.round_trip("date_leap_day", &ColumnType::Date, date(2024, 2, 29));
    g.round_trip("date_before_epoch", &ColumnType::Date, date(1969, 12, 31));
    g.round_trip("date_year_1", &ColumnType::Date, date(1, 1, 1));
    g.round_trip("date_year_9999", &ColumnType::Date, date(9999, 12, 31));
    g.round_trip(
        "time_noon_micros",
        &ColumnType::Time,
        NaiveTime::from_hms_micro_opt(12, 34, 56, 789_012).unwrap(),
    );
    g.round_trip(
        "time_last_nanosecond",
        &ColumnType::Time,
        NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap(),
    );
    let ts = |ms| DateTime::from_timestamp_millis(ms).unwrap();
    g.round_trip("timestamp_epoch", &ColumnType::Timestamp, ts(0));
    g.round_trip(
        "timestamp_millis",
        &ColumnType::Timestamp,
        date(2024, 1, 2)
            .and_hms_milli_opt(3, 4, 5, 678)
            .unwrap()
            .and_utc(),
    );
    g.round_trip("timestamp_before_epoch", &ColumnType::Timestamp, ts(-1000));
}

#[cfg(feature = "time")]
fn with_time(g: &mut Golden) {
    use time::macros::{date, datetime, time};
    g.round_trip("date_epoch", &ColumnType::Date, date!(1970 - 01 - 01));
    g.round_trip("date_leap_day", &ColumnType::Date, date!(2024 - 02 - 29));
    g.round_trip("date_year_1", &ColumnType::Date, date!(0001 - 01 - 01));
    g.round_trip(
        "time_noon_micros",
        &ColumnType::Time,
        time!(12:34:56.789012),
    );
    g.round_trip(
        "timestamp_millis",
        &ColumnType::Timestamp,
        datetime!(2024-01-02 03:04:05.678 UTC),
    );
    g.round_trip(
        "timestamp_millis",
        &ColumnType::Timestamp,
        datetime!(2024-01-02 03:04:05.678),
    );
    g.round_trip(
        "timestamp_before_epoch",
        &ColumnType::Timestamp,
        datetime!(1969-12-31 23:59:59 UTC),
    );
}

fn collections(g: &mut Golden) {
    use ColumnType as C;
    g.round_trip("list_int_empty", &list(C::Int), Vec::<i32>::new());
    g.round_trip("list_int", &list(C::Int), vec![1, -2, i32::MAX]);
    g.bind("list_int", &list(C::Int), &[1, -2, i32::MAX][..]);
    g.round_trip(
        "list_text_unicode",
        &list(C::Text),
        vec![s(""), s("\u{e9}"), s("\u{1f980}")],
    );
    g.bind(
        "list_text_unicode",
        &list(C::Text),
        &["", "\u{e9}", "\u{1f980}"][..],
    );
    g.round_trip("set_int_empty", &set(C::Int), BTreeSet::<i32>::new());
    g.round_trip("set_int", &set(C::Int), BTreeSet::from([7, -5, 0]));
    g.round_trip("set_int", &set(C::Int), vec![-5, 0, 7]);
    g.round_trip(
        "set_text",
        &set(C::Text),
        BTreeSet::from([s("c"), s("a"), s("b")]),
    );
    // A hash set iterates in its own order: one element is the only portable vector.
    g.round_trip("set_text_one", &set(C::Text), HashSet::from([s("only")]));
    g.round_trip(
        "map_text_int_empty",
        &map(C::Text, C::Int),
        BTreeMap::<String, i32>::new(),
    );
    g.round_trip(
        "map_text_int_empty",
        &map(C::Text, C::Int),
        HashMap::<String, i32>::new(),
    );
    g.round_trip(
        "map_text_int",
        &map(C::Text, C::Int),
        BTreeMap::from([(s("b"), -1), (s("a"), 1)]),
    );
    g.round_trip(
        "map_text_int_one",
        &map(C::Text, C::Int),
        HashMap::from([(s("k"), 42)]),
    );
    g.round_trip(
        "map_int_bigint",
        &map(C::Int, C::BigInt),
        BTreeMap::from([(1, i64::MIN), (-1, i64::MAX), (0, 0)]),
    );
    g.round_trip(
        "list_uuid",
        &list(C::Uuid),
        vec![[0u8; 16], uuid_bytes(UUID_V4)],
    );
    g.round_trip(
        "list_inet",
        &list(C::Inet),
        vec![ip("10.0.0.1"), ip("fe80::1")],
    );

    g.round_trip(
        "list_frozen_list_int",
        &list(list(C::Int)),
        vec![vec![1, 2], vec![], vec![3]],
    );
    g.round_trip(
        "set_frozen_list_text",
        &set(list(C::Text)),
        BTreeSet::from([vec![s("b")], vec![s("a"), s("b")], vec![s("a")]]),
    );
    g.round_trip(
        "map_frozen_set_text_list_int",
        &map(set(C::Text), list(C::Int)),
        BTreeMap::from([
            (BTreeSet::from([s("y"), s("x")]), vec![2, 3]),
            (BTreeSet::from([s("x")]), vec![1]),
        ]),
    );
    g.round_trip(
        "map_int_frozen_map_text_list_bigint",
        &map(C::Int, map(C::Text, list(C::BigInt))),
        BTreeMap::from([
            (2, BTreeMap::new()),
            (
                1,
                BTreeMap::from([(s("a"), vec![1i64, 2]), (s("b"), vec![])]),
            ),
        ]),
    );
    g.round_trip(
        "map_frozen_tuple_int_text_double",
        &map(C::Tuple(vec![C::Int, C::Text]), C::Double),
        BTreeMap::from([((2, s("b")), -2.0f64), ((1, s("a")), 0.5)]),
    );
}

fn tuples(g: &mut Golden) {
    use ColumnType as C;
    g.round_trip(
        "tuple_int_text",
        &C::Tuple(vec![C::Int, C::Text]),
        (1i32, s("one")),
    );
    g.bind(
        "tuple_int_text",
        &C::Tuple(vec![C::Int, C::Text]),
        &(1i32, "one"),
    );
    g.round_trip(
        "tuple_with_null",
        &C::Tuple(vec![C::Int, C::Text, C::Boolean]),
        (7i32, None::<String>, true),
    );
    g.round_trip(
        "tuple_nested",
        &C::Tuple(vec![
            C::BigInt,
            list(C::Text),
            C::Tuple(vec![C::SmallInt, C::Blob]),
        ]),
        (-1i64, vec![s("x"), s("y")], (3i16, vec![1u8, 2])),
    );
    g.round_trip(
        "tuple_of_eight",
        &C::Tuple(vec![
            C::TinyInt,
            C::SmallInt,
            C::Int,
            C::BigInt,
            C::Float,
            C::Double,
            C::Boolean,
            C::Text,
        ]),
        (1i8, 2i16, 3i32, 4i64, 5.5f32, 6.25f64, false, s("8")),
    );
}

/// `CREATE TYPE ks.address (street text, zip int, tags set<text>)`.
#[derive(Debug, Clone, PartialEq, FromCql, ToCql)]
#[cql(crate = "::cql4_frame")]
struct Address {
    street: Option<String>,
    zip: i32,
    tags: Option<BTreeSet<String>>,
}

/// `CREATE TYPE ks.person (name text, home frozen<address>, past list<frozen<address>>,
/// nick text)`, its fields declared here in another order than the type's.
#[derive(Debug, Clone, PartialEq, FromCql, ToCql)]
#[cql(crate = "::cql4_frame")]
struct Person {
    past: Vec<Address>,
    #[cql(rename = "name")]
    full_name: String,
    nick: Option<String>,
    home: Address,
}

fn udt(name: &str, fields: Vec<(&str, ColumnType)>) -> ColumnType {
    ColumnType::Udt(Box::new(UdtType {
        keyspace: s("ks"),
        name: s(name),
        fields: fields.into_iter().map(|(n, t)| (s(n), t)).collect(),
    }))
}

fn address_type() -> ColumnType {
    udt(
        "address",
        vec![
            ("street", ColumnType::Text),
            ("zip", ColumnType::Int),
            ("tags", set(ColumnType::Text)),
        ],
    )
}

fn address(street: &str, zip: i32, tags: &[&str]) -> Address {
    Address {
        street: Some(s(street)),
        zip,
        tags: Some(tags.iter().map(|t| s(t)).collect()),
    }
}

fn udts(g: &mut Golden) {
    let addr = address_type();
    g.round_trip(
        "udt_address",
        &addr,
        address("1 Main St", 12345, &["work", "home"]),
    );
    g.round_trip(
        "udt_address_nulls",
        &addr,
        Address {
            street: None,
            zip: 0,
            tags: None,
        },
    );
    g.round_trip(
        "list_frozen_udt",
        &list(addr.clone()),
        vec![address("a", 1, &["x"]), address("b", 2, &[])],
    );
    let person = udt(
        "person",
        vec![
            ("name", ColumnType::Text),
            ("home", addr.clone()),
            ("past", list(addr)),
            ("nick", ColumnType::Text),
        ],
    );
    g.round_trip(
        "udt_nested",
        &person,
        Person {
            past: vec![address("Old Rd", 2, &[])],
            full_name: s("Ada"),
            nick: None,
            home: address("1 Main St", 1, &["home"]),
        },
    );
}

/// Every vector, read as a `CqlValue` of the type a case bound it as, writes the same bytes.
fn through_cql_value(g: &mut Golden) {
    let mut failures = Vec::new();
    for (name, vector) in &g.vectors {
        let Some(ty) = &vector.ty else { continue };
        let back = <Option<CqlValue>>::from_cql(ty, cell(&vector.bytes))
            .map_err(|e| e.to_string())
            .and_then(|v| encode(&v, ty).map_err(|e| e.to_string()));
        match back {
            Ok(bytes) if bytes == vector.bytes => {}
            Ok(bytes) => failures.push(format!(
                "{name}: through CqlValue\n   cql4: {}\n python: {}",
                hex(&bytes),
                hex(&vector.bytes)
            )),
            Err(e) => failures.push(format!("{name}: through CqlValue: {e}")),
        }
    }
    g.failures.extend(failures);
}

#[test]
fn bound_bytes_equal_the_python_drivers() {
    let mut g = Golden::load();
    assert!(
        g.vectors.len() >= 100,
        "the file holds {} vectors",
        g.vectors.len()
    );
    natives(&mut g);
    collections(&mut g);
    tuples(&mut g);
    udts(&mut g);
    #[cfg(feature = "uuid")]
    with_uuid(&mut g);
    #[cfg(feature = "chrono")]
    with_chrono(&mut g);
    #[cfg(feature = "time")]
    with_time(&mut g);
    through_cql_value(&mut g);
    let unbound: Vec<_> = g
        .vectors
        .iter()
        .filter(|(_, v)| v.ty.is_none())
        .map(|(n, _)| n.as_str())
        .collect();
    assert!(unbound.is_empty(), "vectors no case binds: {unbound:?}");
    assert!(
        g.failures.is_empty(),
        "{} mismatches with the Python driver:\n{}",
        g.failures.len(),
        g.failures.join("\n")
    );
}
