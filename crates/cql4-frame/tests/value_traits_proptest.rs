//! proptest round trips through the typed value traits, for every CQL type: a Rust value
//! written by `ToCql` for its CQL type reads back through `FromCql` as the same value (and
//! writes the same bytes again); every truncation of those bytes reads as an error or a value,
//! never a panic. Collections (nested, frozen keys), tuples, derived UDTs, `Option`/null and
//! `CqlValue` of arbitrary column types too. A Rust value bound as a CQL type it does not fit
//! is a type-mismatch error both ways, never a panic.
//!
//! Run with `--features uuid,chrono,time` for the interop types.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Debug;
use std::net::IpAddr;

use cql4_frame::types::{ColumnType, UdtType};
use cql4_frame::value::{
    write_value, CqlDate, CqlDuration, CqlTime, CqlTimestamp, CqlValue, Decimal, FromCql, ToCql,
    Varint,
};
use cql4_frame::{DecodeErrorKind, DecodeResult, EncodeError};
use cql4_macros::{FromCql, ToCql};
use cql4_testkit::generators::{self, strategy};
use proptest::collection::{btree_map, btree_set, hash_map, hash_set, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// The one place this file calls the codec to write a value: a `[value]` (length, bytes).
fn encode<T: ToCql + ?Sized>(v: &T, ty: &ColumnType) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    write_value(v, ty, &mut out)?;
    Ok(out)
}

/// The bytes of a `[value]`, `None` for null.
fn cell(value: &[u8]) -> Option<&[u8]> {
    let len = i32::from_be_bytes(value[..4].try_into().unwrap());
    (len >= 0).then(|| &value[4..])
}

/// Reads a cell as `T` the way a row does: the type check, then the value.
fn decode<'a, T: FromCql<'a>>(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<T> {
    T::type_check(ty).map_err(|kind| cql4_frame::DecodeError::new(kind, "test", 0))?;
    T::from_cql(ty, raw)
}

/// `v` → bytes as `ty` → `T` equal to `v` → the same bytes (unless `T` iterates in hash
/// order: then bytes that read as `v` again); every truncation reads without a panic.
fn round_trip<T>(v: &T, ty: &ColumnType, ordered: bool) -> Result<(), TestCaseError>
where
    T: ToCql + for<'a> FromCql<'a> + PartialEq + Debug,
{
    let bytes = encode(v, ty).map_err(|e| TestCaseError::fail(format!("{v:?} as {ty}: {e}")))?;
    let back: T = decode(ty, cell(&bytes))
        .map_err(|e| TestCaseError::fail(format!("reading {v:?} as {ty}: {e}")))?;
    prop_assert_eq!(&back, v);
    let again = encode(&back, ty).unwrap();
    if ordered {
        prop_assert_eq!(&again, &bytes);
    } else {
        prop_assert_eq!(again.len(), bytes.len());
        prop_assert_eq!(&decode::<T>(ty, cell(&again)).unwrap(), v);
    }
    if let Some(raw) = cell(&bytes) {
        for len in 0..raw.len().min(256) {
            let _ = decode::<T>(ty, Some(&raw[..len]));
        }
    }
    Ok(())
}

/// `v` as `ty`, which `accepts` says whether `T` fits: a type mismatch both ways when it does
/// not, and reading arbitrary bytes of `ty` as `T`
/// never panics either way.
///
/// Null and empty collections are left out of the generated values: they write no element,
/// so nothing of the element type is checked (`None::<i64>` binds as any type, an empty
/// `Vec<i32>` as any list or set), and the bytes are right for the column whatever it is.
fn mismatch<T>(
    v: &T,
    ty: &ColumnType,
    accepts: fn(&ColumnType) -> bool,
    junk: &[u8],
) -> Result<(), TestCaseError>
where
    T: ToCql + for<'a> FromCql<'a> + Debug,
{
    if !accepts(ty) {
        let written = encode(v, ty);
        prop_assert!(
            matches!(written, Err(EncodeError::TypeMismatch { .. })),
            "{:?} as {}: {:?}",
            v,
            ty,
            written
        );
        let checked = T::type_check(ty);
        prop_assert!(
            matches!(checked, Err(DecodeErrorKind::TypeMismatch { .. })),
            "type_check {}: {:?}",
            ty,
            checked
        );
    }
    let _ = decode::<T>(ty, Some(junk));
    let _ = T::from_cql(ty, Some(junk));
    let _ = T::from_cql(ty, None);
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
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

fn tuple(ts: Vec<ColumnType>) -> ColumnType {
    ColumnType::Tuple(ts)
}

fn text() -> impl Strategy<Value = String> {
    ".{0,12}"
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from),
    ]
}

/// Any varint: small ones through `i128`, big ones (up to 40 bytes) through their bytes.
fn varint() -> impl Strategy<Value = Varint> {
    prop_oneof![
        any::<i128>().prop_map(Varint::from_i128),
        vec(any::<u8>(), 1..40).prop_map(|b| Varint::from_be_bytes(b).normalized()),
    ]
}

fn duration() -> impl Strategy<Value = CqlDuration> {
    (any::<i32>(), any::<i32>(), any::<i64>()).prop_map(|(months, days, nanos)| CqlDuration {
        months,
        days,
        nanos,
    })
}

fn time() -> impl Strategy<Value = CqlTime> {
    (0..=CqlTime::MAX_NANOS).prop_map(|n| CqlTime::from_nanos(n).unwrap())
}

/// One `proptest!` test per Rust type: `name: RustType as column_type => strategy;`, with
/// `, unordered` for a type that iterates in hash order.
macro_rules! round_trips {
    ($($name:ident: $t:ty as $ty:expr => $strategy:expr $(, $unordered:ident)?;)+) => {
        proptest! {
            #![proptest_config(config())]
            $(
                #[test]
                fn $name(v in $strategy) {
                    round_trip::<$t>(&v, &$ty, ordered!($($unordered)?))?;
                }
            )+
        }
    };
}

macro_rules! ordered {
    () => {
        true
    };
    (unordered) => {
        false
    };
}

round_trips! {
    boolean: bool as ColumnType::Boolean => any::<bool>();
    tinyint: i8 as ColumnType::TinyInt => any::<i8>();
    smallint: i16 as ColumnType::SmallInt => any::<i16>();
    int: i32 as ColumnType::Int => any::<i32>();
    bigint: i64 as ColumnType::BigInt => any::<i64>();
    counter: i64 as ColumnType::Counter => any::<i64>();
    // Any bit pattern but NaN, which never equals itself (`nan_bits_survive` below).
    float: f32 as ColumnType::Float => any::<f32>().prop_filter("not NaN", |f| !f.is_nan());
    double: f64 as ColumnType::Double => any::<f64>().prop_filter("not NaN", |f| !f.is_nan());
    text_utf8: String as ColumnType::Text => any::<String>();
    ascii: String as ColumnType::Ascii => "[\\x00-\\x7f]{0,16}";
    blob: Vec<u8> as ColumnType::Blob => vec(any::<u8>(), 0..32);
    inet: IpAddr as ColumnType::Inet => ip();
    uuid_bytes: [u8; 16] as ColumnType::Uuid => any::<[u8; 16]>();
    timeuuid_bytes: [u8; 16] as ColumnType::Timeuuid => any::<[u8; 16]>();
    varint_value: Varint as ColumnType::Varint => varint();
    varint_i128: i128 as ColumnType::Varint => any::<i128>();
    decimal: Decimal as ColumnType::Decimal =>
        (varint(), any::<i32>()).prop_map(|(u, s)| Decimal::new(u, s));
    date: CqlDate as ColumnType::Date => any::<u32>().prop_map(CqlDate);
    time_of_day: CqlTime as ColumnType::Time => time();
    timestamp: CqlTimestamp as ColumnType::Timestamp => any::<i64>().prop_map(CqlTimestamp);
    duration_value: CqlDuration as ColumnType::Duration => duration();

    // Null: `None` writes length -1 and reads back as `None`.
    option_int: Option<i32> as ColumnType::Int => option::of(any::<i32>());
    option_text: Option<String> as ColumnType::Text => option::of(text());
    option_list: Option<Vec<i64>> as list(ColumnType::BigInt) =>
        option::of(vec(any::<i64>(), 0..4));

    list_int: Vec<i32> as list(ColumnType::Int) => vec(any::<i32>(), 0..8);
    list_option_text: Vec<Option<String>> as list(ColumnType::Text) =>
        vec(option::of(text()), 0..6);
    set_as_vec: Vec<String> as set(ColumnType::Text) => vec(text(), 0..6);
    set_btree: BTreeSet<i64> as set(ColumnType::BigInt) => btree_set(any::<i64>(), 0..8);
    set_hash: HashSet<String> as set(ColumnType::Text) => hash_set(text(), 0..6), unordered;
    set_inet: BTreeSet<IpAddr> as set(ColumnType::Inet) => btree_set(ip(), 0..4);
    map_btree: BTreeMap<String, f64> as map(ColumnType::Text, ColumnType::Double) =>
        btree_map(text(), -1e300..1e300f64, 0..6);
    map_hash: HashMap<i32, Vec<u8>> as map(ColumnType::Int, ColumnType::Blob) =>
        hash_map(any::<i32>(), vec(any::<u8>(), 0..8), 0..6), unordered;
    map_null_values: BTreeMap<i16, Option<CqlDate>> as map(ColumnType::SmallInt, ColumnType::Date) =>
        btree_map(any::<i16>(), option::of(any::<u32>().prop_map(CqlDate)), 0..4);

    // Nested collections; frozen ones as keys and elements.
    list_of_lists: Vec<Vec<i32>> as list(list(ColumnType::Int)) =>
        vec(vec(any::<i32>(), 0..4), 0..4);
    set_of_lists: BTreeSet<Vec<String>> as set(list(ColumnType::Text)) =>
        btree_set(vec(text(), 0..3), 0..4);
    map_frozen_set_keys: BTreeMap<BTreeSet<String>, Vec<i64>>
        as map(set(ColumnType::Text), list(ColumnType::BigInt)) =>
        btree_map(btree_set(text(), 0..3), vec(any::<i64>(), 0..3), 0..4);
    map_tuple_keys: BTreeMap<(i32, String), BTreeMap<String, Vec<CqlDuration>>>
        as map(tuple(vec![ColumnType::Int, ColumnType::Text]),
               map(ColumnType::Text, list(ColumnType::Duration))) =>
        btree_map((any::<i32>(), text()), btree_map(text(), vec(duration(), 0..3), 0..3), 0..3);
    list_of_maps: Vec<HashMap<String, BTreeSet<i32>>>
        as list(map(ColumnType::Text, set(ColumnType::Int))) =>
        vec(hash_map(text(), btree_set(any::<i32>(), 0..3), 0..3), 0..3), unordered;

    tuple_1: (i32,) as tuple(vec![ColumnType::Int]) => (any::<i32>(),);
    tuple_2: (i64, String) as tuple(vec![ColumnType::BigInt, ColumnType::Text]) =>
        (any::<i64>(), text());
    tuple_with_nulls: (Option<bool>, Option<Vec<u8>>, Option<Decimal>)
        as tuple(vec![ColumnType::Boolean, ColumnType::Blob, ColumnType::Decimal]) =>
        (option::of(any::<bool>()), option::of(vec(any::<u8>(), 0..4)),
         option::of((varint(), any::<i32>()).prop_map(|(u, s)| Decimal::new(u, s))));
    tuple_nested: (Vec<(i32, String)>, (CqlTime, IpAddr))
        as tuple(vec![list(tuple(vec![ColumnType::Int, ColumnType::Text])),
                      tuple(vec![ColumnType::Time, ColumnType::Inet])]) =>
        (vec((any::<i32>(), text()), 0..3), (time(), ip()));
    tuple_8: (i8, i16, i32, i64, f32, f64, bool, String)
        as tuple(vec![ColumnType::TinyInt, ColumnType::SmallInt, ColumnType::Int,
                      ColumnType::BigInt, ColumnType::Float, ColumnType::Double,
                      ColumnType::Boolean, ColumnType::Text]) =>
        (any::<i8>(), any::<i16>(), any::<i32>(), any::<i64>(), -1e30..1e30f32,
         -1e300..1e300f64, any::<bool>(), text());

    udt_address: Address as address_type() => address();
    udt_nested: Person as person_type() => person();
    udt_in_collections: BTreeMap<i32, Vec<Address>> as map(ColumnType::Int, list(address_type())) =>
        btree_map(any::<i32>(), vec(address(), 0..3), 0..3);
    udt_option: Option<Address> as address_type() => option::of(address());
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
/// nick text)`, its fields in another order than the type's, one renamed.
#[derive(Debug, Clone, PartialEq, FromCql, ToCql)]
#[cql(crate = "::cql4_frame")]
struct Person {
    past: Vec<Address>,
    #[cql(rename = "name")]
    full_name: String,
    nick: Option<String>,
    home: Option<Address>,
}

fn udt(name: &str, fields: Vec<(&str, ColumnType)>) -> ColumnType {
    ColumnType::Udt(Box::new(UdtType {
        keyspace: "ks".to_owned(),
        name: name.to_owned(),
        fields: fields.into_iter().map(|(n, t)| (n.to_owned(), t)).collect(),
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

fn person_type() -> ColumnType {
    udt(
        "person",
        vec![
            ("name", ColumnType::Text),
            ("home", address_type()),
            ("past", list(address_type())),
            ("nick", ColumnType::Text),
        ],
    )
}

fn address() -> impl Strategy<Value = Address> {
    (
        option::of(text()),
        any::<i32>(),
        option::of(btree_set(text(), 0..3)),
    )
        .prop_map(|(street, zip, tags)| Address { street, zip, tags })
}

fn person() -> impl Strategy<Value = Person> {
    (
        vec(address(), 0..3),
        text(),
        option::of(text()),
        option::of(address()),
    )
        .prop_map(|(past, full_name, nick, home)| Person {
            past,
            full_name,
            nick,
            home,
        })
}

#[cfg(feature = "uuid")]
round_trips! {
    uuid_uuid: uuid::Uuid as ColumnType::Uuid => any::<u128>().prop_map(uuid::Uuid::from_u128);
    uuid_timeuuid: uuid::Uuid as ColumnType::Timeuuid =>
        any::<u128>().prop_map(uuid::Uuid::from_u128);
    uuid_set: BTreeSet<uuid::Uuid> as set(ColumnType::Uuid) =>
        btree_set(any::<u128>().prop_map(uuid::Uuid::from_u128), 0..4);
}

// chrono's ranges: about ±262,000 years, well inside CQL's date and timestamp.
#[cfg(feature = "chrono")]
round_trips! {
    chrono_timestamp: chrono::DateTime<chrono::Utc> as ColumnType::Timestamp =>
        (-8_000_000_000_000_000..8_000_000_000_000_000i64)
            .prop_map(|ms| chrono::DateTime::from_timestamp_millis(ms).unwrap());
    chrono_date: chrono::NaiveDate as ColumnType::Date =>
        (-90_000_000..90_000_000i32)
            .prop_map(|d| chrono::NaiveDate::from_num_days_from_ce_opt(d).unwrap());
    chrono_time: chrono::NaiveTime as ColumnType::Time =>
        (0..86_400u32, 0..1_000_000_000u32).prop_map(|(s, n)| {
            chrono::NaiveTime::from_num_seconds_from_midnight_opt(s, n).unwrap()
        });
}

// time's default range: years -9999 to 9999.
#[cfg(feature = "time")]
round_trips! {
    time_offset_date_time: time::OffsetDateTime as ColumnType::Timestamp =>
        (-377_705_116_800_000..253_402_300_799_999i64).prop_map(|ms| {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap()
        });
    time_primitive_date_time: time::PrimitiveDateTime as ColumnType::Timestamp =>
        (-377_705_116_800_000..253_402_300_799_999i64).prop_map(|ms| {
            let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .unwrap();
            time::PrimitiveDateTime::new(t.date(), t.time())
        });
    time_date: time::Date as ColumnType::Date =>
        (-1_930_999..5_373_484i32).prop_map(|jd| time::Date::from_julian_day(jd).unwrap());
    time_time: time::Time as ColumnType::Time =>
        (0..24u8, 0..60u8, 0..60u8, 0..1_000_000_000u32)
            .prop_map(|(h, m, s, n)| time::Time::from_hms_nano(h, m, s, n).unwrap());
}

/// One test per Rust type: bound as an arbitrary column type it does not fit, it is a type
/// mismatch; arbitrary bytes of any column type read as it without a panic.
macro_rules! mismatches {
    ($($name:ident: $t:ty => $strategy:expr, $accepts:expr;)+) => {
        proptest! {
            #![proptest_config(config())]
            $(
                #[test]
                fn $name(
                    v in $strategy,
                    ty in strategy(generators::types::column_type),
                    junk in vec(any::<u8>(), 0..24),
                ) {
                    mismatch::<$t>(&v, &ty, $accepts, &junk)?;
                }
            )+
        }
    };
}

mismatches! {
    mismatch_bool: bool => any::<bool>(), |t| matches!(t, ColumnType::Boolean);
    mismatch_i8: i8 => any::<i8>(), |t| matches!(t, ColumnType::TinyInt);
    mismatch_i16: i16 => any::<i16>(), |t| matches!(t, ColumnType::SmallInt);
    mismatch_i32: i32 => any::<i32>(), |t| matches!(t, ColumnType::Int);
    mismatch_i64: i64 => any::<i64>(),
        |t| matches!(t, ColumnType::BigInt | ColumnType::Counter);
    mismatch_f32: f32 => any::<f32>(), |t| matches!(t, ColumnType::Float);
    mismatch_f64: f64 => any::<f64>(), |t| matches!(t, ColumnType::Double);
    mismatch_string: String => text(), |t| matches!(t, ColumnType::Text | ColumnType::Ascii);
    mismatch_blob: Vec<u8> => vec(any::<u8>(), 0..8),
        |t| matches!(t, ColumnType::Blob | ColumnType::Custom(_));
    mismatch_inet: IpAddr => ip(), |t| matches!(t, ColumnType::Inet);
    mismatch_uuid_bytes: [u8; 16] => any::<[u8; 16]>(),
        |t| matches!(t, ColumnType::Uuid | ColumnType::Timeuuid);
    mismatch_varint: Varint => varint(), |t| matches!(t, ColumnType::Varint);
    mismatch_i128: i128 => any::<i128>(), |t| matches!(t, ColumnType::Varint);
    mismatch_decimal: Decimal => (varint(), any::<i32>()).prop_map(|(u, s)| Decimal::new(u, s)),
        |t| matches!(t, ColumnType::Decimal);
    mismatch_date: CqlDate => any::<u32>().prop_map(CqlDate), |t| matches!(t, ColumnType::Date);
    mismatch_time: CqlTime => time(), |t| matches!(t, ColumnType::Time);
    mismatch_timestamp: CqlTimestamp => any::<i64>().prop_map(CqlTimestamp),
        |t| matches!(t, ColumnType::Timestamp);
    mismatch_duration: CqlDuration => duration(), |t| matches!(t, ColumnType::Duration);
    mismatch_list: Vec<i32> => vec(any::<i32>(), 1..3),
        |t| matches!(t, ColumnType::List(e) | ColumnType::Set(e) if **e == ColumnType::Int);
    mismatch_set: BTreeSet<String> => btree_set(text(), 1..3),
        |t| matches!(t, ColumnType::List(e) | ColumnType::Set(e)
            if matches!(**e, ColumnType::Text | ColumnType::Ascii));
    mismatch_map: BTreeMap<i32, bool> => btree_map(any::<i32>(), any::<bool>(), 1..3),
        |t| matches!(t, ColumnType::Map(k, v)
            if **k == ColumnType::Int && **v == ColumnType::Boolean);
    mismatch_tuple: (i32, String) => (any::<i32>(), text()),
        |t| matches!(t, ColumnType::Tuple(ts) if ts.len() == 2
            && ts[0] == ColumnType::Int
            && matches!(ts[1], ColumnType::Text | ColumnType::Ascii));
    // Any UDT may fit, or lack a field (an error too, which cql4-macros' tests cover).
    mismatch_udt: Address => address(), |t| matches!(t, ColumnType::Udt(_));
    mismatch_option: Option<i64> => any::<i64>().prop_map(Some),
        |t| matches!(t, ColumnType::BigInt | ColumnType::Counter);
}

proptest! {
    #![proptest_config(config())]

    /// Every NaN bit pattern is written as is and read back bit for bit.
    #[test]
    fn nan_bits_survive(bits32 in any::<u32>(), bits64 in any::<u64>()) {
        let f = f32::from_bits(bits32 | 0x7f80_0001);
        let bytes = encode(&f, &ColumnType::Float).unwrap();
        let back: f32 = decode(&ColumnType::Float, cell(&bytes)).unwrap();
        prop_assert_eq!(back.to_bits(), f.to_bits());
        let d = f64::from_bits(bits64 | 0x7ff0_0000_0000_0001);
        let bytes = encode(&d, &ColumnType::Double).unwrap();
        let back: f64 = decode(&ColumnType::Double, cell(&bytes)).unwrap();
        prop_assert_eq!(back.to_bits(), d.to_bits());
    }

    /// `&str` and `&[u8]` read borrowing the bytes `String` and `Vec<u8>` (and the borrowed
    /// types themselves) wrote.
    #[test]
    fn borrowed_text_and_blob(text in any::<String>(), blob in vec(any::<u8>(), 0..32)) {
        let bytes = encode(text.as_str(), &ColumnType::Text).unwrap();
        prop_assert_eq!(&bytes, &encode(&text, &ColumnType::Text).unwrap());
        prop_assert_eq!(decode::<&str>(&ColumnType::Text, cell(&bytes)).unwrap(), text.as_str());
        let bytes = encode(blob.as_slice(), &ColumnType::Blob).unwrap();
        prop_assert_eq!(&bytes, &encode(&blob, &ColumnType::Blob).unwrap());
        prop_assert_eq!(decode::<&[u8]>(&ColumnType::Blob, cell(&bytes)).unwrap(), blob.as_slice());
    }

    /// `CqlValue` through the traits: any value of any column type round-trips, and its
    /// bytes are the ones `CqlValue::serialize` writes.
    #[test]
    fn cql_value_round_trip((ty, v) in strategy(generators::values::typed_value)) {
        let bytes = encode(&v, &ty).unwrap();
        let mut direct = Vec::new();
        v.serialize(&ty, &mut direct).unwrap();
        prop_assert_eq!(cell(&bytes), Some(&direct[..]));
        let back: CqlValue = decode(&ty, cell(&bytes)).unwrap();
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(decode::<Option<CqlValue>>(&ty, None).unwrap(), None);
    }

    /// A `CqlValue` bound as an arbitrary column type: an error or bytes that read back as
    /// that type, never a panic.
    #[test]
    fn cql_value_as_another_type(
        (_, v) in strategy(generators::values::typed_value),
        other in strategy(generators::types::column_type),
    ) {
        if let Ok(bytes) = encode(&v, &other) {
            let read = decode::<CqlValue>(&other, cell(&bytes));
            prop_assert!(read.is_ok(), "{:?} written as {}: {:?}", v, other, read);
        }
    }
}
