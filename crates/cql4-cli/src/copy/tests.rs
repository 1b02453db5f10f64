//! Every CQL type through the whole path: value → field text → CSV record → field → value.

use std::net::IpAddr;

use cql4_frame::types::{ColumnType, UdtType};
use cql4_frame::value::{CqlDate, CqlDuration, CqlTime, CqlTimestamp, Decimal, Varint};
use cql4_frame::CqlValue;
use proptest::prelude::*;

use super::csv::{CsvReader, CsvWriter};
use super::format::field;
use super::options::{Common, Options};
use super::parse;
use super::statement::Direction;

fn common(given: &[(&str, &str)]) -> Common {
    let given: Vec<_> = given
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    Options::parse(Direction::From, &given).unwrap().common
}

/// Writes `row` as one CSV record and reads it back by `types`; also returns the text.
fn round_trip(
    row: &[Option<CqlValue>],
    types: &[ColumnType],
    o: &Common,
) -> (Vec<Option<CqlValue>>, String) {
    let fields: Vec<_> = row.iter().map(|v| field(v.as_ref(), o)).collect();
    let mut out = Vec::new();
    CsvWriter::new(o).record(&mut out, &fields).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    let mut reader = CsvReader::new(&out[..], o);
    let mut rec = Vec::new();
    assert!(reader.read(&mut rec).unwrap(), "{text}");
    let back = rec
        .iter()
        .zip(types)
        .map(|(f, ty)| {
            parse::field(&f.text, f.quoted, ty, o).unwrap_or_else(|e| panic!("{e}: {text}"))
        })
        .collect();
    let mut rest = Vec::new();
    assert!(!reader.read(&mut rest).unwrap(), "one record only: {text}");
    (back, text)
}

fn one(v: CqlValue, ty: ColumnType, o: &Common) -> String {
    // A leading int column so the record is never a lone field.
    let (back, text) = round_trip(
        &[Some(CqlValue::Int(1)), Some(v.clone())],
        &[ColumnType::Int, ty],
        o,
    );
    assert_eq!(back[1].as_ref(), Some(&v), "{text}");
    let delimiter = char::from(o.delimiter);
    text.strip_prefix(&format!("1{delimiter}"))
        .unwrap()
        .trim_end_matches('\n')
        .to_owned()
}

fn udt() -> ColumnType {
    ColumnType::Udt(Box::new(UdtType {
        keyspace: "ks".into(),
        name: "address".into(),
        fields: vec![
            ("street".into(), ColumnType::Text),
            ("Zip Code".into(), ColumnType::Int),
            ("since".into(), ColumnType::Timestamp),
        ],
    }))
}

#[test]
fn every_type_in_cqlshs_format() {
    let o = common(&[]);
    let t = |v, ty| one(v, ty, &o);
    assert_eq!(t(CqlValue::Text("plain".into()), ColumnType::Text), "plain");
    assert_eq!(t(CqlValue::Text(String::new()), ColumnType::Text), "\"\"");
    assert_eq!(t(CqlValue::Text("a,b".into()), ColumnType::Text), "\"a,b\"");
    assert_eq!(
        t(CqlValue::Text("say \"hi\"".into()), ColumnType::Text),
        "\"say \"\"hi\"\"\""
    );
    assert_eq!(
        t(CqlValue::Text("two\nlines\r\n".into()), ColumnType::Text),
        "\"two\nlines\r\n\""
    );
    assert_eq!(
        t(CqlValue::Text("back\\slash".into()), ColumnType::Text),
        "back\\slash"
    );
    assert_eq!(
        t(CqlValue::Text(" pad ".into()), ColumnType::Text),
        "\" pad \""
    );
    assert_eq!(t(CqlValue::Ascii("it's".into()), ColumnType::Ascii), "it's");
    assert_eq!(t(CqlValue::Boolean(true), ColumnType::Boolean), "True");
    assert_eq!(t(CqlValue::Boolean(false), ColumnType::Boolean), "False");
    assert_eq!(t(CqlValue::TinyInt(-128), ColumnType::TinyInt), "-128");
    assert_eq!(t(CqlValue::SmallInt(32767), ColumnType::SmallInt), "32767");
    assert_eq!(t(CqlValue::Int(i32::MIN), ColumnType::Int), "-2147483648");
    assert_eq!(
        t(CqlValue::BigInt(i64::MAX), ColumnType::BigInt),
        "9223372036854775807"
    );
    let big: Varint = "-98765432109876543210987654321".parse().unwrap();
    assert_eq!(
        t(CqlValue::Varint(big), ColumnType::Varint),
        "-98765432109876543210987654321"
    );
    assert_eq!(
        t(
            CqlValue::Decimal(Decimal::new(-1i64, 3)),
            ColumnType::Decimal
        ),
        "-0.001"
    );
    assert_eq!(t(CqlValue::Double(0.1), ColumnType::Double), "0.1");
    assert_eq!(
        t(CqlValue::Double(f64::INFINITY), ColumnType::Double),
        "Infinity"
    );
    assert_eq!(t(CqlValue::Double(-1e300), ColumnType::Double), "-1e300");
    assert_eq!(t(CqlValue::Float(1.1), ColumnType::Float), "1.1");
    assert_eq!(t(CqlValue::Blob(vec![0, 0xff]), ColumnType::Blob), "0x00ff");
    assert_eq!(t(CqlValue::Blob(vec![]), ColumnType::Blob), "0x");
    assert_eq!(
        t(
            CqlValue::Timestamp(CqlTimestamp(1_709_214_330_123)),
            ColumnType::Timestamp
        ),
        "2024-02-29 13:45:30.123000+0000"
    );
    assert_eq!(
        t(CqlValue::Date(CqlDate(CqlDate::EPOCH)), ColumnType::Date),
        "1970-01-01"
    );
    assert_eq!(
        t(CqlValue::Date(CqlDate(0)), ColumnType::Date),
        "-5877641-06-23"
    );
    assert_eq!(
        t(
            CqlValue::Time(CqlTime::from_nanos(86_399_999_999_999).unwrap()),
            ColumnType::Time
        ),
        "23:59:59.999999999"
    );
    assert_eq!(
        t(
            CqlValue::Duration(CqlDuration {
                months: -14,
                days: -3,
                nanos: -1_000_000_001
            }),
            ColumnType::Duration
        ),
        "-1y2mo3d1s1ns"
    );
    assert_eq!(
        t(
            CqlValue::Inet("::1".parse::<IpAddr>().unwrap()),
            ColumnType::Inet
        ),
        "::1"
    );
    assert_eq!(
        t(CqlValue::Uuid([0xab; 16]), ColumnType::Uuid),
        "abababab-abab-abab-abab-abababababab"
    );
    let mut tu = [0x11; 16];
    tu[6] = 0x11;
    assert_eq!(
        t(CqlValue::Timeuuid(tu), ColumnType::Timeuuid),
        "11111111-1111-1111-1111-111111111111"
    );
    assert_eq!(
        t(
            CqlValue::List(vec![
                CqlValue::Text("a'b".into()),
                CqlValue::Text("c, d]".into())
            ]),
            ColumnType::List(Box::new(ColumnType::Text))
        ),
        "\"['a''b', 'c, d]']\""
    );
    assert_eq!(
        t(
            CqlValue::Set(vec![CqlValue::Int(1), CqlValue::Int(2)]),
            ColumnType::Set(Box::new(ColumnType::Int))
        ),
        "\"{1, 2}\""
    );
    assert_eq!(
        t(
            CqlValue::Map(vec![(
                CqlValue::Text("a".into()),
                CqlValue::Inet("::1".parse().unwrap())
            )]),
            ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Inet))
        ),
        "{'a': '::1'}"
    );
    assert_eq!(
        t(
            CqlValue::Tuple(vec![
                Some(CqlValue::Int(1)),
                None,
                Some(CqlValue::Date(CqlDate(CqlDate::EPOCH)))
            ]),
            ColumnType::Tuple(vec![ColumnType::Int, ColumnType::Text, ColumnType::Date])
        ),
        "\"(1, null, '1970-01-01')\""
    );
    assert_eq!(
        t(
            CqlValue::Udt(vec![
                ("street".into(), Some(CqlValue::Text("Main St".into()))),
                ("Zip Code".into(), None),
                ("since".into(), Some(CqlValue::Timestamp(CqlTimestamp(0)))),
            ]),
            udt()
        ),
        "\"{street: 'Main St', \"\"Zip Code\"\": null, since: '1970-01-01 00:00:00.000000+0000'}\""
    );
    assert_eq!(
        t(
            CqlValue::Map(vec![(
                CqlValue::Timestamp(CqlTimestamp(0)),
                CqlValue::List(vec![CqlValue::Set(vec![CqlValue::Boolean(true)])])
            )]),
            ColumnType::Map(
                Box::new(ColumnType::Timestamp),
                Box::new(ColumnType::List(Box::new(ColumnType::Set(Box::new(
                    ColumnType::Boolean
                )))))
            )
        ),
        "{'1970-01-01 00:00:00.000000+0000': [{True}]}"
    );
}

#[test]
fn nulls_and_empty_strings_stay_apart() {
    for o in [common(&[]), common(&[("null", "NULL")])] {
        let row = [
            Some(CqlValue::Int(1)),
            None,
            Some(CqlValue::Text(String::new())),
            None,
            Some(CqlValue::Text("NULL".into())),
        ];
        let types = [
            ColumnType::Int,
            ColumnType::Text,
            ColumnType::Text,
            ColumnType::Int,
            ColumnType::Text,
        ];
        let (back, text) = round_trip(&row, &types, &o);
        assert_eq!(back, row, "{text}");
    }
    let (_, text) = round_trip(
        &[
            Some(CqlValue::Int(1)),
            None,
            Some(CqlValue::Text(String::new())),
        ],
        &[ColumnType::Int, ColumnType::Text, ColumnType::Text],
        &common(&[]),
    );
    assert_eq!(text, "1,,\"\"\n");
}

#[test]
fn separators_styles_and_delimiters() {
    let o = common(&[
        ("delimiter", "|"),
        ("decimalsep", ","),
        ("thousandssep", "."),
        ("boolstyle", "yes,no"),
        ("datetimeformat", "%d/%m/%Y %H:%M:%S"),
    ]);
    assert_eq!(
        one(CqlValue::BigInt(-1_234_567), ColumnType::BigInt, &o),
        "-1.234.567"
    );
    assert_eq!(
        one(CqlValue::Double(1234.5), ColumnType::Double, &o),
        "1.234,5"
    );
    assert_eq!(
        one(
            CqlValue::Decimal("1234567.891".parse().unwrap()),
            ColumnType::Decimal,
            &o
        ),
        "1.234.567,891"
    );
    assert_eq!(one(CqlValue::Boolean(false), ColumnType::Boolean, &o), "no");
    assert_eq!(
        one(CqlValue::Text("a|b".into()), ColumnType::Text, &o),
        "\"a|b\""
    );
    assert_eq!(
        one(
            CqlValue::Timestamp(CqlTimestamp(86_400_000)),
            ColumnType::Timestamp,
            &o
        ),
        "02/01/1970 00:00:00"
    );
}

#[test]
fn an_escape_character_when_given() {
    let o = common(&[("escape", "\\")]);
    assert_eq!(
        one(CqlValue::Text("say \"hi\"".into()), ColumnType::Text, &o),
        "\"say \\\"hi\\\"\""
    );
    assert_eq!(
        one(CqlValue::Text("c:\\dir, x".into()), ColumnType::Text, &o),
        "\"c:\\\\dir, x\""
    );
}

#[test]
fn bad_fields_are_one_line_errors() {
    let o = common(&[]);
    let e = |t: &str, ty: ColumnType| parse::field(t, false, &ty, &o).unwrap_err();
    assert_eq!(e("12x", ColumnType::Int), "'12x' is not a valid int value");
    assert_eq!(
        e("300", ColumnType::TinyInt),
        "'300' is not a valid tinyint value"
    );
    assert_eq!(
        e("maybe", ColumnType::Boolean),
        "'maybe' is not a boolean (True or False)"
    );
    assert_eq!(
        e("0xabc", ColumnType::Blob),
        "'0xabc' is not a valid blob value"
    );
    assert!(e("[1, 2", ColumnType::List(Box::new(ColumnType::Int))).starts_with("expected ','"));
    assert!(e("[1, null]", ColumnType::List(Box::new(ColumnType::Int))).contains("null"));
    assert!(e("{nope: 1}", udt()).contains("no field nope"));
    assert!(e(
        "(1, 2) x",
        ColumnType::Tuple(vec![ColumnType::Int, ColumnType::Int])
    )
    .contains("unexpected"));
    assert_eq!(
        e("inf", ColumnType::Double),
        "'inf' is not a valid double value"
    );
    assert_eq!(
        e("999999999999999999-01-01", ColumnType::Date),
        "'999999999999999999-01-01' is not a valid date value"
    );
    // The v4 uuid is not a timeuuid.
    assert!(e("abababab-abab-abab-abab-abababababab", ColumnType::Timeuuid).contains("version 1"));
}

#[test]
fn text_beyond_ascii_inside_collections() {
    // Found by the property test: a `null` check sliced inside a multi-byte character.
    let ty = ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Double));
    let v = CqlValue::Map(vec![(
        CqlValue::Text("᱉𞹰:𝄷".into()),
        CqlValue::Double(-8.3e-192),
    )]);
    assert_eq!(one(v, ty, &common(&[])), "{'᱉𞹰:𝄷': -8.3e-192}");
}

#[test]
fn records_span_lines_and_blank_fields_count() {
    let o = common(&[]);
    let mut r = CsvReader::new(&b"1,\"a\nb\",\n2,x,\"\"\n"[..], &o);
    let mut rec = Vec::new();
    assert!(r.read(&mut rec).unwrap());
    let got: Vec<_> = rec.iter().map(|f| (f.text.as_str(), f.quoted)).collect();
    assert_eq!(got, [("1", false), ("a\nb", true), ("", false)]);
    assert!(r.read(&mut rec).unwrap());
    assert_eq!(r.line, 3);
    let got: Vec<_> = rec.iter().map(|f| (f.text.as_str(), f.quoted)).collect();
    assert_eq!(got, [("2", false), ("x", false), ("", true)]);
    assert!(!r.read(&mut rec).unwrap());
}

#[test]
fn records_are_bounded_by_fields_and_input_bytes() {
    let o = common(&[]);
    let mut rec = Vec::new();
    // As many fields as a statement can bind: read.
    let most = vec![b','; usize::from(u16::MAX) - 1];
    assert!(CsvReader::new(&most[..], &o).read(&mut rec).unwrap());
    assert_eq!(rec.len(), usize::from(u16::MAX));
    // A run of commas with no line end: refused, not a field list without bound.
    let commas = vec![b','; 1 << 20];
    let e = CsvReader::new(&commas[..], &o).read(&mut rec).unwrap_err();
    assert!(
        e.to_string().contains("more than 65535 fields (line 1)"),
        "{e}"
    );
    // Doubled quotes: half the input comes out; the input is what counts.
    let mut quotes = vec![b'"'; (64 << 20) + 4];
    quotes.push(b'\n');
    let e = CsvReader::new(&quotes[..], &o).read(&mut rec).unwrap_err();
    assert!(e.to_string().contains("longer than 67108864 bytes"), "{e}");
}

#[test]
fn stdin_ends_at_backslash_dot() {
    use std::io::Read;
    let mut s = String::new();
    super::csv::StdinUntilEnd::new(&b"1,a\n2,b\n\\.\n3,c\n"[..])
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "1,a\n2,b\n");
}

fn scalar() -> impl Strategy<Value = (CqlValue, ColumnType)> {
    prop_oneof![
        any::<String>().prop_map(|s| (CqlValue::Text(s), ColumnType::Text)),
        "[ -~]*".prop_map(|s| (CqlValue::Ascii(s), ColumnType::Ascii)),
        any::<i64>().prop_map(|n| (CqlValue::BigInt(n), ColumnType::BigInt)),
        any::<i32>().prop_map(|n| (CqlValue::Int(n), ColumnType::Int)),
        any::<f64>()
            .prop_filter("NaN != NaN", |f| !f.is_nan())
            .prop_map(|f| (CqlValue::Double(f), ColumnType::Double)),
        any::<f32>()
            .prop_filter("NaN != NaN", |f| !f.is_nan())
            .prop_map(|f| (CqlValue::Float(f), ColumnType::Float)),
        any::<bool>().prop_map(|b| (CqlValue::Boolean(b), ColumnType::Boolean)),
        any::<Vec<u8>>().prop_map(|b| (CqlValue::Blob(b), ColumnType::Blob)),
        any::<[u8; 16]>().prop_map(|u| (CqlValue::Uuid(u), ColumnType::Uuid)),
        (-62_135_596_800_000i64..253_402_300_799_999)
            .prop_map(|t| (CqlValue::Timestamp(CqlTimestamp(t)), ColumnType::Timestamp)),
        any::<u32>().prop_map(|d| (CqlValue::Date(CqlDate(d)), ColumnType::Date)),
        (0i64..86_400_000_000_000).prop_map(|n| (
            CqlValue::Time(CqlTime::from_nanos(n).unwrap()),
            ColumnType::Time
        )),
        (any::<i128>(), -30i32..30)
            .prop_map(|(n, s)| (CqlValue::Decimal(Decimal::new(n, s)), ColumnType::Decimal)),
        any::<[u8; 16]>().prop_map(|b| (CqlValue::Inet(IpAddr::from(b)), ColumnType::Inet)),
        any::<[u8; 4]>().prop_map(|b| (CqlValue::Inet(IpAddr::from(b)), ColumnType::Inet)),
        (
            0i32..1000,
            0i32..1000,
            0i64..1_000_000_000_000_000,
            any::<bool>()
        )
            .prop_map(|(m, d, n, neg)| {
                let s = if neg { -1 } else { 1 };
                (
                    CqlValue::Duration(CqlDuration {
                        months: m * s,
                        days: d * s,
                        nanos: n * s as i64,
                    }),
                    ColumnType::Duration,
                )
            }),
    ]
}

fn value() -> impl Strategy<Value = (CqlValue, ColumnType)> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (inner.clone(), 0usize..4).prop_map(|((v, ty), n)| {
                (CqlValue::List(vec![v; n]), ColumnType::List(Box::new(ty)))
            }),
            (inner.clone(), inner.clone()).prop_map(|((k, kt), (v, vt))| {
                (
                    CqlValue::Map(vec![(k, v)]),
                    ColumnType::Map(Box::new(kt), Box::new(vt)),
                )
            }),
            (inner.clone(), inner.clone(), any::<bool>()).prop_map(|((a, at), (b, bt), null)| {
                (
                    CqlValue::Tuple(vec![Some(a), if null { None } else { Some(b) }]),
                    ColumnType::Tuple(vec![at, bt]),
                )
            }),
            (inner.clone(), any::<bool>()).prop_map(|((v, ty), null)| {
                (
                    CqlValue::Udt(vec![
                        ("f".into(), if null { None } else { Some(v.clone()) }),
                        ("Other F".into(), Some(v)),
                    ]),
                    ColumnType::Udt(Box::new(UdtType {
                        keyspace: "k".into(),
                        name: "u".into(),
                        fields: vec![("f".into(), ty.clone()), ("Other F".into(), ty)],
                    })),
                )
            }),
        ]
    })
}

proptest! {
    #[test]
    fn any_value_reads_back_as_written(
        (v, ty) in value(),
        null in prop_oneof![Just(""), Just("NULL"), Just("-")],
        delimiter in prop_oneof![Just(","), Just("|"), Just("\t"), Just(";")],
    ) {
        let o = common(&[("null", null), ("delimiter", delimiter)]);
        let row = [Some(CqlValue::Int(0)), Some(v), None];
        let types = [ColumnType::Int, ty.clone(), ty];
        let (back, text) = round_trip(&row, &types, &o);
        prop_assert_eq!(&back[..], &row[..], "{}", text);
    }
}

#[test]
fn reserved_words_are_quoted_as_names() {
    // A UDT field named by a reserved word must be quoted, or the literal does not parse.
    let ty = ColumnType::Udt(Box::new(UdtType {
        keyspace: "ks".into(),
        name: "kw".into(),
        fields: vec![
            ("from".into(), ColumnType::Text),
            ("token".into(), ColumnType::Int),
        ],
    }));
    let v = CqlValue::Udt(vec![
        ("from".into(), Some(CqlValue::Text("x".into()))),
        ("token".into(), Some(CqlValue::Int(2))),
    ]);
    assert_eq!(
        one(v, ty, &common(&[])),
        "\"{\"\"from\"\": 'x', \"\"token\"\": 2}\""
    );
    let table = super::Table {
        keyspace: "order".into(),
        name: "limit".into(),
        columns: Vec::new(),
    };
    assert_eq!(table.qualified(), "\"order\".\"limit\"");
}
