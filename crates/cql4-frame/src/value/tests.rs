//! Golden vectors for every type, written by hand from native_protocol_v4.spec §6 and §7.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::types::UdtType;

fn limits() -> DecodeLimits {
    DecodeLimits::default()
}

/// Serializes `v` as `ty`, checks the bytes, and checks they decode back to `v`.
fn golden(ty: &ColumnType, v: CqlValue, bytes: &[u8]) {
    let mut out = Vec::new();
    v.serialize(ty, &mut out).unwrap();
    assert_eq!(out, bytes, "serialize {v:?} as {ty}");
    assert_eq!(
        CqlValue::deserialize(bytes, ty, &limits()).unwrap(),
        v,
        "deserialize {bytes:02x?} as {ty}"
    );
}

fn list(t: ColumnType) -> ColumnType {
    ColumnType::List(Box::new(t))
}

fn map(k: ColumnType, v: ColumnType) -> ColumnType {
    ColumnType::Map(Box::new(k), Box::new(v))
}

#[test]
fn simple_types_golden() {
    use ColumnType as T;
    use CqlValue as V;
    golden(&T::Ascii, V::Ascii("hi".into()), b"hi"); // §6.1 bytes as is
    golden(
        &T::BigInt,
        V::BigInt(-2),
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
    ); // §6.2
    golden(&T::Blob, V::Blob(vec![0, 1, 0xff]), &[0, 1, 0xff]); // §6.3
    golden(&T::Boolean, V::Boolean(true), &[1]); // §6.4 recommended 1
    golden(&T::Boolean, V::Boolean(false), &[0]);
    golden(&T::Counter, V::Counter(1 << 40), &[0, 0, 1, 0, 0, 0, 0, 0]);
    // §6.6 decimal 123.45 = unscaled 12345 (0x3039) scale 2.
    golden(
        &T::Decimal,
        V::Decimal(Decimal::new(12345, 2)),
        &[0, 0, 0, 2, 0x30, 0x39],
    );
    // §6.7 double 1.0 = 0x3FF0000000000000.
    golden(&T::Double, V::Double(1.0), &[0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
    // §6.8 float -2.5 = 0xC0200000.
    golden(&T::Float, V::Float(-2.5), &[0xc0, 0x20, 0, 0]);
    golden(&T::Int, V::Int(0x0102_0304), &[1, 2, 3, 4]); // §6.10
    golden(&T::Timestamp, V::Timestamp(CqlTimestamp(-1)), &[0xff; 8]); // §6.17
    let uuid = [
        0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x80, 1, 2, 3, 4, 5, 6, 7,
    ];
    golden(&T::Uuid, V::Uuid(uuid), &uuid); // §6.21
    golden(&T::Timeuuid, V::Timeuuid(uuid), &uuid);
    golden(&T::Text, V::Text("é".into()), &[0xc3, 0xa9]); // §6.15 UTF-8
    golden(
        &T::Varint,
        V::Varint(Varint::from_i128(-129)),
        &[0xff, 0x7f],
    ); // §6.23
    golden(
        &T::Inet,
        V::Inet(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
        &[10, 0, 0, 1],
    ); // §6.9
    golden(
        &T::Inet,
        V::Inet(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    );
    golden(&T::Date, V::Date(CqlDate(1 << 31)), &[0x80, 0, 0, 0]); // §6.5 epoch
    golden(
        &T::Time,
        V::Time(CqlTime::from_nanos(1).unwrap()),
        &[0, 0, 0, 0, 0, 0, 0, 1],
    );
    golden(&T::SmallInt, V::SmallInt(-2), &[0xff, 0xfe]); // §6.14
    golden(&T::TinyInt, V::TinyInt(-128), &[0x80]); // §6.19
    golden(&T::Custom("x.Y".into()), V::Custom(vec![9, 9]), &[9, 9]);
}

#[test]
fn varint_and_decimal_edges() {
    for (n, bytes) in [
        (0i128, &[0x00][..]),
        (-1, &[0xff]),
        (128, &[0x00, 0x80]),
        (-129, &[0xff, 0x7f]),
    ] {
        golden(
            &ColumnType::Varint,
            CqlValue::Varint(Varint::from_i128(n)),
            bytes,
        );
    }
    let mut max = vec![0x7f];
    max.extend([0xff; 15]);
    golden(
        &ColumnType::Varint,
        CqlValue::Varint(Varint::from_i128(i128::MAX)),
        &max,
    );
    let mut min = vec![0x80];
    min.extend([0x00; 15]);
    golden(
        &ColumnType::Varint,
        CqlValue::Varint(Varint::from_i128(i128::MIN)),
        &min,
    );
    // 2^128: 17 bytes 01 00 .. 00, larger than any i128.
    let mut big = vec![0x01];
    big.extend([0x00; 16]);
    let v = CqlValue::deserialize(&big, &ColumnType::Varint, &limits()).unwrap();
    assert_eq!(v.to_string(), "340282366920938463463374607431768211456");
    // decimal -0.001: scale 3, unscaled -1 (FF).
    golden(
        &ColumnType::Decimal,
        CqlValue::Decimal(Decimal::new(-1, 3)),
        &[0, 0, 0, 3, 0xff],
    );
    // decimal 1E+3: scale -3 (FFFFFFFD), unscaled 1.
    let d = Decimal::new(1, -3);
    assert_eq!(d.to_string(), "1E+3");
    golden(
        &ColumnType::Decimal,
        CqlValue::Decimal(d),
        &[0xff, 0xff, 0xff, 0xfd, 0x01],
    );
    // A decimal with no unscaled bytes is invalid.
    assert!(CqlValue::deserialize(&[0, 0, 0, 1], &ColumnType::Decimal, &limits()).is_err());
}

#[test]
fn duration_golden() {
    // months 1 → zigzag 2; days -1 → zigzag 1; nanos 1_000 → zigzag 2000 = 0x7D0, which needs
    // two bytes: 10xxxxxx then 8 bits: 0x87 0xD0.
    let d = CqlDuration {
        months: 1,
        days: -1,
        nanos: 1_000,
    };
    golden(
        &ColumnType::Duration,
        CqlValue::Duration(d),
        &[0x02, 0x01, 0x87, 0xd0],
    );
    // Extremes: nanos i64::MIN → zigzag u64::MAX → nine bytes FF ...
    let d = CqlDuration {
        months: i32::MAX,
        days: i32::MIN,
        nanos: i64::MIN,
    };
    let mut out = Vec::new();
    CqlValue::Duration(d)
        .serialize(&ColumnType::Duration, &mut out)
        .unwrap();
    assert!(out.ends_with(&[0xff; 9]));
    assert_eq!(
        CqlValue::deserialize(&out, &ColumnType::Duration, &limits()).unwrap(),
        CqlValue::Duration(d)
    );
    // months beyond i32 is rejected: zigzag(2^31) = 2^32 → 5 value bytes: F0 01 00 00 00 00? use
    // the encoder to build it and check the decoder refuses.
    let mut bad = Vec::new();
    Writer::new(&mut bad).vint(1 << 31);
    bad.extend([0, 0]);
    assert!(CqlValue::deserialize(&bad, &ColumnType::Duration, &limits()).is_err());
    // Trailing bytes after the three vints.
    assert!(CqlValue::deserialize(&[0, 0, 0, 0], &ColumnType::Duration, &limits()).is_err());
}

#[test]
fn date_and_time_bounds() {
    golden(&ColumnType::Date, CqlValue::Date(CqlDate(0)), &[0, 0, 0, 0]);
    golden(
        &ColumnType::Date,
        CqlValue::Date(CqlDate(u32::MAX)),
        &[0xff; 4],
    );
    let max = CqlTime::from_nanos(CqlTime::MAX_NANOS).unwrap();
    golden(
        &ColumnType::Time,
        CqlValue::Time(max),
        &86_399_999_999_999i64.to_be_bytes(),
    );
    let err = CqlValue::deserialize(
        &86_400_000_000_000i64.to_be_bytes(),
        &ColumnType::Time,
        &limits(),
    )
    .unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::Invalid(_)));
    assert!(CqlValue::deserialize(&(-1i64).to_be_bytes(), &ColumnType::Time, &limits()).is_err());
}

#[test]
fn empty_values_are_distinct_from_null_and_errors() {
    for ty in [
        ColumnType::Int,
        ColumnType::BigInt,
        ColumnType::Boolean,
        ColumnType::Double,
        ColumnType::Uuid,
        ColumnType::Varint,
        ColumnType::Decimal,
        ColumnType::Timestamp,
        ColumnType::Inet,
        list(ColumnType::Int),
    ] {
        golden(&ty, CqlValue::Empty, &[]);
    }
    // For text, ascii and blob zero bytes is just the empty value of the type.
    golden(&ColumnType::Text, CqlValue::Text(String::new()), &[]);
    golden(&ColumnType::Blob, CqlValue::Blob(Vec::new()), &[]);
    // Typed access refuses an empty int rather than inventing a number.
    assert!(i32::from_cql(&ColumnType::Int, Some(&[])).is_err());
    assert_eq!(
        <Option<i32>>::from_cql(&ColumnType::Int, None).unwrap(),
        None
    );
}

#[test]
fn wrong_sizes_are_errors() {
    use ColumnType as T;
    for (ty, bytes) in [
        (T::Int, &[1, 2, 3][..]),
        (T::BigInt, &[1; 9]),
        (T::Boolean, &[1, 1]),
        (T::Uuid, &[0; 15]),
        (T::Inet, &[0; 5]),
        (T::Date, &[0; 3]),
        (T::SmallInt, &[0; 3]),
        (T::TinyInt, &[0; 2]),
        (T::Float, &[0; 8]),
    ] {
        let err = CqlValue::deserialize(bytes, &ty, &limits()).unwrap_err();
        assert!(
            matches!(err.kind(), DecodeErrorKind::Invalid(_)),
            "{ty}: {err}"
        );
    }
    let err = CqlValue::deserialize(&[b'a', 0x80], &ColumnType::Ascii, &limits()).unwrap_err();
    assert_eq!(
        (err.kind(), err.offset()),
        (&DecodeErrorKind::InvalidAscii, 1)
    );
    let err = CqlValue::deserialize(&[b'a', 0xff], &ColumnType::Text, &limits()).unwrap_err();
    assert_eq!(
        (err.kind(), err.offset()),
        (&DecodeErrorKind::InvalidUtf8, 1)
    );
}

#[test]
fn nested_collections_golden() {
    // map<text, frozen<list<int>>> {'a': [1, 2]}:
    #[rustfmt::skip]
    let bytes = [
        0, 0, 0, 1,             // 1 entry
        0, 0, 0, 1, b'a',       // key [bytes] "a"
        0, 0, 0, 20,            // value [bytes] 20
            0, 0, 0, 2,         //   2 elements
            0, 0, 0, 4, 0, 0, 0, 1,
            0, 0, 0, 4, 0, 0, 0, 2,
    ];
    let ty = map(ColumnType::Text, list(ColumnType::Int));
    let v = CqlValue::Map(vec![(
        CqlValue::Text("a".into()),
        CqlValue::List(vec![CqlValue::Int(1), CqlValue::Int(2)]),
    )]);
    golden(&ty, v.clone(), &bytes);
    assert_eq!(v.to_string(), "{'a': [1, 2]}");
    // The same bytes through typed access.
    let typed: BTreeMap<&str, Vec<i32>> = FromCql::from_cql(&ty, Some(&bytes)).unwrap();
    assert_eq!(typed.get("a"), Some(&vec![1, 2]));
    let mut out = Vec::new();
    typed.to_cql(&ty, &mut Writer::new(&mut out)).unwrap();
    assert_eq!(out, bytes);
    // set<int> {} is a zero count.
    golden(
        &ColumnType::Set(Box::new(ColumnType::Int)),
        CqlValue::Set(vec![]),
        &[0, 0, 0, 0],
    );
}

#[test]
fn null_collection_element_is_an_error_with_path() {
    // list<int> [1, null]: element 1 has length -1.
    let bytes = [0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
    let err = CqlValue::deserialize(&bytes, &list(ColumnType::Int), &limits()).unwrap_err();
    let DecodeErrorKind::InValue { path, cause } = err.kind() else {
        panic!("{err}")
    };
    assert_eq!(path, "list<int> element 1");
    assert_eq!(**cause, DecodeErrorKind::UnexpectedNull);
    assert_eq!(err.offset(), 16);
    // Typed: Vec<Option<i32>> accepts the null.
    let v: Vec<Option<i32>> = FromCql::from_cql(&list(ColumnType::Int), Some(&bytes)).unwrap();
    assert_eq!(v, vec![Some(1), None]);
}

#[test]
fn nested_error_path_and_offset() {
    // list<frozen<list<int>>> [[1], [<3-byte int>]]
    #[rustfmt::skip]
    let bytes = [
        0, 0, 0, 2,
        0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1,
        0, 0, 0, 11, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 1,
    ];
    let ty = list(list(ColumnType::Int));
    let err = CqlValue::deserialize(&bytes, &ty, &limits()).unwrap_err();
    let DecodeErrorKind::InValue { path, .. } = err.kind() else {
        panic!("{err}")
    };
    assert_eq!(
        path,
        "list<frozen<list<int>>> element 1 / list<int> element 0"
    );
    // The bad int starts at 20 (outer element 1) + 4 (its length) + 4 (count) + 4 (length).
    assert_eq!(err.offset(), 32);
    assert!(
        err.to_string().contains("int value is not 4 bytes"),
        "{err}"
    );
}

#[test]
fn collection_count_beyond_bytes_fails_without_reserving() {
    let bytes = [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1, 7];
    let err = CqlValue::deserialize(&bytes, &list(ColumnType::TinyInt), &limits()).unwrap_err();
    assert!(
        matches!(err.kind(), DecodeErrorKind::InValue { .. }),
        "{err}"
    );
    let err = CqlValue::deserialize(&[0xff, 0xff, 0xff, 0xff], &list(ColumnType::Int), &limits())
        .unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::InvalidLength(-1));
    let err = <Vec<i8>>::from_cql(&list(ColumnType::TinyInt), Some(&bytes)).unwrap_err();
    assert!(
        matches!(err.kind(), DecodeErrorKind::InValue { .. }),
        "{err}"
    );
}

fn address_udt() -> ColumnType {
    ColumnType::Udt(Box::new(UdtType {
        keyspace: "ks".into(),
        name: "address".into(),
        fields: vec![
            ("street".into(), ColumnType::Text),
            ("zip".into(), ColumnType::Int),
            ("tags".into(), ColumnType::Set(Box::new(ColumnType::Text))),
        ],
    }))
}

#[test]
fn udt_golden_full_null_and_short() {
    let ty = address_udt();
    // §7: successive [bytes], one per field; null field -1.
    #[rustfmt::skip]
    let full = [
        0, 0, 0, 1, b'x',                 // street "x"
        0xff, 0xff, 0xff, 0xff,           // zip null
        0, 0, 0, 4, 0, 0, 0, 0,           // tags {} (count 0)
    ];
    golden(
        &ty,
        CqlValue::Udt(vec![
            ("street".into(), Some(CqlValue::Text("x".into()))),
            ("zip".into(), None),
            ("tags".into(), Some(CqlValue::Set(vec![]))),
        ]),
        &full,
    );
    // "it is allowed to have less values than the type has fields".
    let short = [0, 0, 0, 1, b'x'];
    golden(
        &ty,
        CqlValue::Udt(vec![("street".into(), Some(CqlValue::Text("x".into())))]),
        &short,
    );
    // Fields given out of order or with a gap are written in declaration order.
    let mut out = Vec::new();
    CqlValue::Udt(vec![
        ("tags".into(), Some(CqlValue::Set(vec![]))),
        ("street".into(), Some(CqlValue::Text("x".into()))),
    ])
    .serialize(&ty, &mut out)
    .unwrap();
    assert_eq!(out, full);
    // An unknown field name is refused.
    let err = CqlValue::Udt(vec![("nope".into(), None)])
        .serialize(&ty, &mut Vec::new())
        .unwrap_err();
    assert!(matches!(err, EncodeError::NoSuchField { .. }), "{err:?}");
    // More values than fields is trailing garbage.
    let mut long = full.to_vec();
    long.extend([0, 0, 0, 0]);
    let err = CqlValue::deserialize(&long, &ty, &limits()).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::TrailingBytes(4));
}

#[test]
fn udt_with_a_repeated_field_name_round_trips() {
    // The wire allows a UDT type to repeat a field name; its values are positional.
    let ty = ColumnType::Udt(Box::new(UdtType {
        keyspace: "k".into(),
        name: "u".into(),
        fields: vec![
            ("a".into(), ColumnType::Int),
            ("a".into(), ColumnType::Text),
        ],
    }));
    let bytes = [0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, b'x'];
    golden(
        &ty,
        CqlValue::Udt(vec![
            ("a".into(), Some(CqlValue::Int(1))),
            ("a".into(), Some(CqlValue::Text("x".into()))),
        ]),
        &bytes,
    );
}

#[test]
fn tuple_golden_and_typed() {
    let ty = ColumnType::Tuple(vec![ColumnType::Int, ColumnType::Text, ColumnType::Boolean]);
    #[rustfmt::skip]
    let bytes = [
        0, 0, 0, 4, 0, 0, 0, 7,   // 7
        0xff, 0xff, 0xff, 0xff,   // null
        0, 0, 0, 1, 1,            // true
    ];
    golden(
        &ty,
        CqlValue::Tuple(vec![
            Some(CqlValue::Int(7)),
            None,
            Some(CqlValue::Boolean(true)),
        ]),
        &bytes,
    );
    let t: (i32, Option<&str>, bool) = FromCql::from_cql(&ty, Some(&bytes)).unwrap();
    assert_eq!(t, (7, None, true));
    let mut out = Vec::new();
    t.to_cql(&ty, &mut Writer::new(&mut out)).unwrap();
    assert_eq!(out, bytes);
    assert!(<(i32, bool)>::type_check(&ty).is_err());
    assert!(<(i32, &str, bool)>::type_check(&ty).is_ok());
}

#[test]
fn deep_values_stop_at_the_limit() {
    // A type nested 70 levels (built by hand, not from the wire) and a matching value.
    let mut ty = ColumnType::Int;
    let mut bytes = vec![0, 0, 0, 1];
    for _ in 0..70 {
        ty = list(ty);
        let mut outer = vec![0, 0, 0, 1];
        outer.extend((bytes.len() as i32).to_be_bytes());
        outer.extend(&bytes);
        bytes = outer;
    }
    let err = CqlValue::deserialize(&bytes, &ty, &limits()).unwrap_err();
    let DecodeErrorKind::InValue { cause, .. } = err.kind() else {
        panic!("{err}")
    };
    assert_eq!(**cause, DecodeErrorKind::TooDeep { limit: 64 });
    let deep = DecodeLimits {
        max_type_depth: 100,
        ..DecodeLimits::default()
    };
    assert!(CqlValue::deserialize(&bytes, &ty, &deep).is_ok());
}

#[test]
fn typed_conversions_both_ways() {
    fn round<T>(ty: &ColumnType, v: T)
    where
        T: ToCql + for<'a> FromCql<'a> + PartialEq + fmt::Debug,
    {
        T::type_check(ty).unwrap();
        let mut out = Vec::new();
        write_value(&v, ty, &mut out).unwrap();
        let body = out.get(4..).unwrap();
        assert_eq!(out.get(..4).unwrap(), (body.len() as i32).to_be_bytes());
        assert_eq!(T::from_cql(ty, Some(body)).unwrap(), v);
    }
    round(&ColumnType::TinyInt, -5i8);
    round(&ColumnType::SmallInt, 300i16);
    round(&ColumnType::Int, i32::MIN);
    round(&ColumnType::BigInt, i64::MAX);
    round(&ColumnType::Counter, 5i64);
    round(&ColumnType::Float, 1.5f32);
    round(&ColumnType::Double, -0.25f64);
    round(&ColumnType::Boolean, true);
    round(&ColumnType::Text, String::from("héllo"));
    round(&ColumnType::Blob, vec![1u8, 2, 3]);
    round(&ColumnType::Uuid, [7u8; 16]);
    round(&ColumnType::Inet, IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    round(&ColumnType::Varint, i128::MIN);
    round(&ColumnType::Decimal, Decimal::new(-5, 1));
    round(&ColumnType::Date, CqlDate(5));
    round(&ColumnType::Time, CqlTime::from_nanos(5).unwrap());
    round(&ColumnType::Timestamp, CqlTimestamp(5));
    round(
        &ColumnType::Duration,
        CqlDuration {
            months: 1,
            days: 2,
            nanos: 3,
        },
    );
    round(
        &list(ColumnType::Text),
        vec![String::from("a"), String::from("b")],
    );
    round(
        &map(ColumnType::Int, ColumnType::Boolean),
        HashMap::from([(1, true), (2, false)]),
    );
    round(&ColumnType::Int, Some(5i32));
    round(
        &ColumnType::Tuple(vec![ColumnType::Int, ColumnType::Text]),
        (1i32, String::from("x")),
    );
    round(&ColumnType::Int, CqlValue::Int(9));

    // Null: write_value writes -1 and Option reads None.
    let mut out = Vec::new();
    write_value(&None::<i32>, &ColumnType::Int, &mut out).unwrap();
    assert_eq!(out, [0xff; 4]);
    // Borrowed reads point into the input.
    let bytes = b"abc";
    let s: &str = FromCql::from_cql(&ColumnType::Text, Some(bytes)).unwrap();
    assert_eq!(s.as_ptr(), bytes.as_ptr());
    // Null collections read as empty.
    let v: Vec<i32> = FromCql::from_cql(&list(ColumnType::Int), None).unwrap();
    assert!(v.is_empty());
    // Null scalars do not.
    let err = i32::from_cql(&ColumnType::Int, None).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::UnexpectedNull);
}

#[test]
fn type_mismatches_are_reported_both_ways() {
    let err = <&str>::type_check(&ColumnType::Int).unwrap_err();
    assert_eq!(
        err,
        DecodeErrorKind::TypeMismatch {
            rust: "&str",
            cql: "int".into()
        }
    );
    assert!(<Vec<i32>>::type_check(&list(ColumnType::Text)).is_err());
    assert!(<HashMap<String, i32>>::type_check(&map(ColumnType::Text, ColumnType::Int)).is_ok());
    let mut out = vec![9];
    let err = write_value(&5i32, &ColumnType::Text, &mut out).unwrap_err();
    assert!(matches!(err, EncodeError::TypeMismatch { .. }));
    assert_eq!(out, [9], "a failed write leaves the buffer as it was");
    let err = CqlValue::Int(1)
        .serialize(&ColumnType::BigInt, &mut out)
        .unwrap_err();
    assert_eq!(
        err,
        EncodeError::TypeMismatch {
            what: "int value",
            cql: "bigint".into()
        }
    );
    assert!("é"
        .to_cql(&ColumnType::Ascii, &mut Writer::new(&mut Vec::new()))
        .is_err());
}

#[test]
fn display_in_cql_syntax() {
    let v = CqlValue::Tuple(vec![
        Some(CqlValue::Text("it's".into())),
        None,
        Some(CqlValue::Uuid([
            0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x80, 1, 2, 3, 4, 5, 6, 7,
        ])),
        Some(CqlValue::Blob(vec![0xca, 0xfe])),
        Some(CqlValue::Date(CqlDate(1 << 31))),
    ]);
    assert_eq!(
        v.to_string(),
        "('it''s', null, 12345678-9abc-4def-8001-020304050607, 0xcafe, '1970-01-01')"
    );
}

#[test]
fn from_rust_values_picks_the_natural_type() {
    assert_eq!(CqlValue::from(5i32), CqlValue::Int(5));
    assert_eq!(CqlValue::from("a"), CqlValue::Text("a".into()));
    assert_eq!(CqlValue::from(&[1u8][..]), CqlValue::Blob(vec![1]));
    assert_eq!(CqlValue::from(-1i8), CqlValue::TinyInt(-1));
    assert_eq!(
        CqlValue::from(Varint::from_i128(7)),
        CqlValue::Varint(Varint::from_i128(7))
    );
}

#[test]
fn sets_read_and_write_as_btree_and_hash_sets() {
    use std::collections::{BTreeSet, HashSet};
    let ty = ColumnType::Set(Box::new(ColumnType::Int));
    let set: BTreeSet<i32> = [3, 1, 2].into();
    let mut out = Vec::new();
    set.to_cql(&ty, &mut Writer::new(&mut out)).unwrap();
    // The same bytes as the sorted Vec: count, then each element with its length.
    let mut from_vec = Vec::new();
    vec![1, 2, 3]
        .to_cql(&ty, &mut Writer::new(&mut from_vec))
        .unwrap();
    assert_eq!(out, from_vec);
    let back: BTreeSet<i32> = FromCql::from_cql(&ty, Some(&out)).unwrap();
    assert_eq!(back, set);
    let hashed: HashSet<i32> = FromCql::from_cql(&ty, Some(&out)).unwrap();
    assert_eq!(hashed, [1, 2, 3].into());
    let mut again = Vec::new();
    hashed.to_cql(&ty, &mut Writer::new(&mut again)).unwrap();
    let round: BTreeSet<i32> = FromCql::from_cql(&ty, Some(&again)).unwrap();
    assert_eq!(round, set);
    // Null reads as empty, like every collection; a set of text is not a set of int.
    let empty: HashSet<i32> = FromCql::from_cql(&ty, None).unwrap();
    assert!(empty.is_empty());
    assert!(<BTreeSet<i32>>::type_check(&ColumnType::Set(Box::new(ColumnType::Text))).is_err());
    assert!(<HashSet<i32>>::type_check(&ColumnType::Int).is_err());
}

/// `decode_text` takes a shortcut for all-ASCII bytes (`ascii_str`): at every length around the
/// word size and with one non-ASCII byte at every position, it answers as `str::from_utf8`.
#[test]
fn text_and_ascii_decode_as_std_at_every_length_and_position() {
    for len in 0..40 {
        let ascii: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        assert_eq!(decode_text(&ascii).ok(), std::str::from_utf8(&ascii).ok());
        assert_eq!(decode_ascii(&ascii).ok(), std::str::from_utf8(&ascii).ok());
        for at in 0..len {
            // A valid two-byte character, then a lone continuation byte.
            let mut utf8 = ascii.clone();
            utf8.splice(at..=at, "é".bytes());
            assert_eq!(decode_text(&utf8).ok(), std::str::from_utf8(&utf8).ok());
            let err = decode_ascii(&utf8).unwrap_err();
            assert_eq!(
                (err.kind(), err.offset()),
                (&DecodeErrorKind::InvalidAscii, at)
            );
            let mut broken = ascii.clone();
            broken[at] = 0x80;
            let err = decode_text(&broken).unwrap_err();
            assert_eq!(
                (err.kind(), err.offset()),
                (&DecodeErrorKind::InvalidUtf8, at)
            );
        }
    }
}
