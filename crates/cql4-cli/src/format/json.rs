//! One JSON object per row, keyed by column name.
//!
//! | CQL | JSON |
//! |---|---|
//! | text, ascii | string |
//! | tinyint … bigint, counter, varint, decimal | number, exact (written from the codec's exact text, never through `f64`) |
//! | float, double | number; `NaN`, `Infinity`, `-Infinity` as strings |
//! | boolean | `true` / `false` |
//! | list, set, tuple | array (`null` elements of tuples kept) |
//! | map | object; keys that are not text use their JSON text as the key (`1`, `true`, `[1,2]`) |
//! | UDT | object keyed by field name |
//! | uuid, timeuuid, inet, date, time, duration | string |
//! | timestamp | string, `2024-02-29T13:45:30.123Z` |
//! | blob, custom | string, `0x` + lowercase hex |
//! | null | `null` |
//! | empty value (zero bytes, not null) | `""` |
//!
//! Recursion follows the value's nesting, which the decoder already bounded
//! (`DecodeLimits::max_type_depth`).

use cql4_frame::CqlValue;

use super::text;

/// Appends `s` as a JSON string (RFC 8259 §7): quotes, backslashes and control characters
/// escaped; everything else, including non-ASCII, as UTF-8.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends an exact number's text as a JSON number, or as a string when the codec could not
/// give it in digits (an oversized varint shown in hex).
fn write_exact_number(out: &mut String, digits: &str) {
    if text::is_json_number(digits) {
        out.push_str(digits);
    } else {
        write_string(out, digits);
    }
}

fn write_float_text(out: &mut String, t: &str) {
    // NaN and the infinities are not JSON numbers.
    write_exact_number(out, t);
}

/// Appends `value` (`None` for null) as JSON.
pub(crate) fn write_value(out: &mut String, value: Option<&CqlValue>) {
    let Some(value) = value else {
        out.push_str("null");
        return;
    };
    match value {
        CqlValue::Ascii(s) | CqlValue::Text(s) => write_string(out, s),
        CqlValue::BigInt(n) | CqlValue::Counter(n) => out.push_str(&n.to_string()),
        CqlValue::Int(n) => out.push_str(&n.to_string()),
        CqlValue::SmallInt(n) => out.push_str(&n.to_string()),
        CqlValue::TinyInt(n) => out.push_str(&n.to_string()),
        CqlValue::Varint(v) => write_exact_number(out, &v.to_string()),
        CqlValue::Decimal(d) => write_exact_number(out, &d.to_string()),
        CqlValue::Double(v) => write_float_text(out, &text::double(*v)),
        CqlValue::Float(v) => write_float_text(out, &text::float(*v)),
        CqlValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        CqlValue::Timestamp(t) => write_string(out, &t.to_string()),
        CqlValue::Date(d) => write_string(out, &d.to_string()),
        CqlValue::Time(t) => write_string(out, &t.to_string()),
        CqlValue::Duration(d) => write_string(out, &d.to_string()),
        CqlValue::Inet(ip) => write_string(out, &ip.to_string()),
        // The codec's Display writes uuids hyphenated and blobs as 0x + lowercase hex.
        CqlValue::Uuid(_) | CqlValue::Timeuuid(_) | CqlValue::Blob(_) | CqlValue::Custom(_) => {
            write_string(out, &value.to_string());
        }
        CqlValue::List(items) | CqlValue::Set(items) => {
            write_array(out, items.iter().map(Some));
        }
        CqlValue::Tuple(items) => write_array(out, items.iter().map(Option::as_ref)),
        CqlValue::Map(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, &key_text(k));
                out.push(':');
                write_value(out, Some(v));
            }
            out.push('}');
        }
        CqlValue::Udt(fields) => write_object(
            out,
            fields.iter().map(|(name, v)| (name.as_str(), v.as_ref())),
        ),
        CqlValue::Empty => out.push_str("\"\""),
        // A value kind added to the codec later: its CQL literal text, as a string.
        other => write_string(out, &other.to_string()),
    }
}

fn write_array<'v>(out: &mut String, items: impl Iterator<Item = Option<&'v CqlValue>>) {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_value(out, item);
    }
    out.push(']');
}

/// Appends `{"name":value,…}`.
pub(crate) fn write_object<'v, 'n>(
    out: &mut String,
    fields: impl Iterator<Item = (&'n str, Option<&'v CqlValue>)>,
) {
    out.push('{');
    for (i, (name, value)) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, name);
        out.push(':');
        write_value(out, value);
    }
    out.push('}');
}

/// A map key as an object key: text as itself, anything else as its JSON text (`1`, `true`,
/// `"2024-01-01"` without the quotes, `[1,2]`).
fn key_text(key: &CqlValue) -> String {
    match key {
        CqlValue::Ascii(s) | CqlValue::Text(s) => s.clone(),
        other => {
            let mut json = String::new();
            write_value(&mut json, Some(other));
            // A value that is itself a JSON string is used without its quotes.
            match serde_json::from_str::<String>(&json) {
                Ok(unquoted) => unquoted,
                Err(_) => json,
            }
        }
    }
}

/// One row as a JSON object line (without the newline).
pub(crate) fn row_line(names: &[String], values: &[Option<CqlValue>]) -> String {
    let mut out = String::with_capacity(64 * names.len());
    write_object(
        &mut out,
        names
            .iter()
            .map(String::as_str)
            .zip(values.iter().map(Option::as_ref)),
    );
    out
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use cql4_frame::value::{CqlDate, CqlDuration, CqlTime, CqlTimestamp, Decimal, Varint};
    use serde_json::{json, Value};

    use super::*;

    fn to_json(v: Option<&CqlValue>) -> String {
        let mut s = String::new();
        write_value(&mut s, v);
        s
    }

    /// The text, and that it parses as JSON to `want`.
    #[track_caller]
    fn check(v: CqlValue, text: &str, want: Value) {
        let got = to_json(Some(&v));
        assert_eq!(got, text);
        let parsed: Value = serde_json::from_str(&got).unwrap();
        assert_eq!(parsed, want);
    }

    #[test]
    fn scalars() {
        check(
            CqlValue::Text("a\"b\\c\nd\u{1}é".into()),
            r#""a\"b\\c\nd\u0001é""#,
            json!("a\"b\\c\nd\u{1}é"),
        );
        check(CqlValue::Ascii("abc".into()), r#""abc""#, json!("abc"));
        check(
            CqlValue::BigInt(i64::MIN),
            "-9223372036854775808",
            json!(i64::MIN),
        );
        check(CqlValue::Counter(7), "7", json!(7));
        check(CqlValue::Int(-5), "-5", json!(-5));
        check(CqlValue::SmallInt(-32768), "-32768", json!(-32768));
        check(CqlValue::TinyInt(127), "127", json!(127));
        check(CqlValue::Boolean(true), "true", json!(true));
        check(CqlValue::Boolean(false), "false", json!(false));
        check(CqlValue::Double(0.1), "0.1", json!(0.1));
        check(CqlValue::Float(1.5), "1.5", json!(1.5));
        check(CqlValue::Double(f64::NAN), r#""NaN""#, json!("NaN"));
        check(
            CqlValue::Double(f64::INFINITY),
            r#""Infinity""#,
            json!("Infinity"),
        );
        check(
            CqlValue::Float(f32::NEG_INFINITY),
            r#""-Infinity""#,
            json!("-Infinity"),
        );
        check(
            CqlValue::Blob(vec![0xCA, 0xFE, 0x00, 0xFF]),
            r#""0xcafe00ff""#,
            json!("0xcafe00ff"),
        );
        check(CqlValue::Blob(vec![]), r#""0x""#, json!("0x"));
        check(CqlValue::Custom(vec![1]), r#""0x01""#, json!("0x01"));
        check(CqlValue::Empty, r#""""#, json!(""));
    }

    #[test]
    fn varint_and_decimal_are_exact() {
        let big: Varint = "123456789012345678901234567890".parse().unwrap();
        check(
            CqlValue::Varint(big),
            "123456789012345678901234567890",
            json!(123456789012345678901234567890f64),
        );
        let neg: Varint = "-98765432109876543210987654321".parse().unwrap();
        assert_eq!(
            to_json(Some(&CqlValue::Varint(neg))),
            "-98765432109876543210987654321"
        );
        let unscaled: Varint = "12345678901234567890123456789012345".parse().unwrap();
        assert_eq!(
            to_json(Some(&CqlValue::Decimal(Decimal::new(unscaled, 15)))),
            "12345678901234567890.123456789012345"
        );
        assert_eq!(
            to_json(Some(&CqlValue::Decimal(Decimal::new(-1i64, 3)))),
            "-0.001"
        );
        // Scientific forms are JSON numbers too.
        for (unscaled, scale) in [(1i64, -10), (1, 100), (15, -3), (0, -3)] {
            let text = to_json(Some(&CqlValue::Decimal(Decimal::new(unscaled, scale))));
            assert!(text::is_json_number(&text), "{text}");
        }
        assert_eq!(
            to_json(Some(&CqlValue::Decimal(Decimal::new(1i64, 100)))),
            "1E-100"
        );
    }

    #[test]
    fn oversized_varint_becomes_a_string_not_broken_json() {
        // Longer than the codec converts to digits: shown in hex, so written as a string.
        let v = Varint::from_be_bytes(vec![0x11; 20_000]);
        let text = to_json(Some(&CqlValue::Varint(v)));
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert!(parsed.as_str().unwrap().starts_with("0x1111"));
    }

    #[test]
    fn temporal_uuid_inet_are_strings() {
        check(
            CqlValue::Date(CqlDate((1 << 31) + 19_782)),
            r#""2024-02-29""#,
            json!("2024-02-29"),
        );
        check(
            CqlValue::Time(CqlTime::from_nanos(49_530_123_456_789).unwrap()),
            r#""13:45:30.123456789""#,
            json!("13:45:30.123456789"),
        );
        check(
            CqlValue::Timestamp(CqlTimestamp(1_709_214_330_123)),
            r#""2024-02-29T13:45:30.123Z""#,
            json!("2024-02-29T13:45:30.123Z"),
        );
        let nanos = ((5 * 3600 + 6 * 60 + 7) * 1_000_000_000) + 8_009_010;
        check(
            CqlValue::Duration(CqlDuration {
                months: 14,
                days: 25,
                nanos,
            }),
            r#""1y2mo25d5h6m7s8ms9us10ns""#,
            json!("1y2mo25d5h6m7s8ms9us10ns"),
        );
        let u = [
            0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44,
            0x00, 0x00,
        ];
        check(
            CqlValue::Uuid(u),
            r#""550e8400-e29b-41d4-a716-446655440000""#,
            json!("550e8400-e29b-41d4-a716-446655440000"),
        );
        check(
            CqlValue::Timeuuid(u),
            r#""550e8400-e29b-41d4-a716-446655440000""#,
            json!("550e8400-e29b-41d4-a716-446655440000"),
        );
        check(
            CqlValue::Inet(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10))),
            r#""192.168.1.10""#,
            json!("192.168.1.10"),
        );
        check(
            CqlValue::Inet(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            r#""::1""#,
            json!("::1"),
        );
    }

    #[test]
    fn collections_tuples_and_udts() {
        check(
            CqlValue::List(vec![CqlValue::Int(3), CqlValue::Int(1)]),
            "[3,1]",
            json!([3, 1]),
        );
        check(
            CqlValue::Set(vec![CqlValue::Text("x".into()), CqlValue::Text("y".into())]),
            r#"["x","y"]"#,
            json!(["x", "y"]),
        );
        check(
            CqlValue::Tuple(vec![
                Some(CqlValue::Int(7)),
                None,
                Some(CqlValue::Boolean(false)),
            ]),
            "[7,null,false]",
            json!([7, null, false]),
        );
        check(
            CqlValue::Map(vec![
                (CqlValue::Text("a".into()), CqlValue::Int(1)),
                (CqlValue::Text("b\"".into()), CqlValue::Int(2)),
            ]),
            r#"{"a":1,"b\"":2}"#,
            json!({"a": 1, "b\"": 2}),
        );
        check(
            CqlValue::Udt(vec![
                ("street".into(), Some(CqlValue::Text("Main St".into()))),
                ("zip".into(), None),
                (
                    "tags".into(),
                    Some(CqlValue::Set(vec![CqlValue::Text("a".into())])),
                ),
            ]),
            r#"{"street":"Main St","zip":null,"tags":["a"]}"#,
            json!({"street": "Main St", "zip": null, "tags": ["a"]}),
        );
    }

    #[test]
    fn non_text_map_keys_become_strings() {
        let u = [0u8; 16];
        check(
            CqlValue::Map(vec![
                (CqlValue::Int(1), CqlValue::Text("one".into())),
                (CqlValue::Boolean(true), CqlValue::Int(2)),
                (CqlValue::Uuid(u), CqlValue::Int(3)),
                (
                    CqlValue::List(vec![CqlValue::Int(1), CqlValue::Int(2)]),
                    CqlValue::Int(4),
                ),
                (CqlValue::Double(f64::NAN), CqlValue::Int(5)),
                (CqlValue::Blob(vec![0xAB]), CqlValue::Int(6)),
            ]),
            r#"{"1":"one","true":2,"00000000-0000-0000-0000-000000000000":3,"[1,2]":4,"NaN":5,"0xab":6}"#,
            json!({"1": "one", "true": 2, "00000000-0000-0000-0000-000000000000": 3, "[1,2]": 4, "NaN": 5, "0xab": 6}),
        );
    }

    #[test]
    fn nested_values() {
        let inner = CqlValue::List(vec![
            CqlValue::Set(vec![CqlValue::Int(1), CqlValue::Int(2)]),
            CqlValue::Set(vec![CqlValue::Int(3)]),
        ]);
        check(
            CqlValue::Map(vec![(CqlValue::Text("k".into()), inner)]),
            r#"{"k":[[1,2],[3]]}"#,
            json!({"k": [[1, 2], [3]]}),
        );
    }

    #[test]
    fn rows_are_objects_in_column_order_with_nulls() {
        let names = vec!["id".to_owned(), "v".to_owned(), "w".to_owned()];
        let line = row_line(
            &names,
            &[
                Some(CqlValue::Int(1)),
                None,
                Some(CqlValue::Text("x".into())),
            ],
        );
        assert_eq!(line, r#"{"id":1,"v":null,"w":"x"}"#);
    }
}
