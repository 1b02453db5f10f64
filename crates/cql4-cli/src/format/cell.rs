//! Table cells as cqlsh shows them: text bare at the top level and quoted inside collections,
//! `True`/`False`, `null`, blobs as `0x…`, timestamps as `2024-02-29 13:45:30.123000+0000`,
//! collections as CQL literals (`[1, 2]`, `{'a': 1}`, `(1, 'x')`, `{street: 'Main St'}`).
//!
//! Control characters are escaped (see [`super::table::escape_control`]) so a cell is one line.
//! Recursion follows the value's nesting, which the decoder already bounded.

use cql4_frame::CqlValue;

use super::table::escape_control;
use super::text;

/// How floats and doubles are shown: exactly (the shortest text that reads back), or rounded
/// to a number of significant digits as cqlsh's `[ui] float_precision` / `double_precision`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Precision {
    /// Digits of a float, `None`: exact.
    pub(crate) float: Option<usize>,
    /// Digits of a double, `None`: exact.
    pub(crate) double: Option<usize>,
}

/// The cell text for `value` (`None` for null), floats exact.
pub(crate) fn cell(value: Option<&CqlValue>) -> String {
    cell_with(value, Precision::default())
}

/// The cell text for `value` (`None` for null), floats as `precision` says.
pub(crate) fn cell_with(value: Option<&CqlValue>, precision: Precision) -> String {
    let mut out = String::new();
    match value {
        None => out.push_str("null"),
        Some(CqlValue::Ascii(s) | CqlValue::Text(s)) => out.push_str(s),
        Some(v) => write_value(&mut out, v, precision),
    }
    escape_control(&out)
}

fn write_quoted(out: &mut String, s: &str) {
    out.push('\'');
    out.push_str(&s.replace('\'', "''"));
    out.push('\'');
}

/// A value inside a cell; text is quoted.
fn write_value(out: &mut String, value: &CqlValue, p: Precision) {
    match value {
        CqlValue::Ascii(s) | CqlValue::Text(s) => write_quoted(out, s),
        CqlValue::Boolean(b) => out.push_str(if *b { "True" } else { "False" }),
        CqlValue::Double(v) => match p.double {
            Some(digits) => out.push_str(&text::cqlsh_float(*v, digits)),
            None => out.push_str(&text::double(*v)),
        },
        CqlValue::Float(v) => match p.float {
            Some(digits) => out.push_str(&text::cqlsh_float(f64::from(*v), digits)),
            None => out.push_str(&text::float(*v)),
        },
        CqlValue::Timestamp(t) => out.push_str(&text::cqlsh_timestamp(*t)),
        CqlValue::Date(d) => out.push_str(&d.to_string()),
        CqlValue::Time(t) => out.push_str(&t.to_string()),
        CqlValue::Inet(ip) => out.push_str(&ip.to_string()),
        CqlValue::Empty => {}
        CqlValue::List(items) => write_seq(out, "[", "]", items.iter().map(Some), p),
        CqlValue::Set(items) => write_seq(out, "{", "}", items.iter().map(Some), p),
        CqlValue::Tuple(items) => write_seq(out, "(", ")", items.iter().map(Option::as_ref), p),
        CqlValue::Map(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, k, p);
                out.push_str(": ");
                write_value(out, v, p);
            }
            out.push('}');
        }
        CqlValue::Udt(fields) => {
            out.push('{');
            for (i, (name, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(name);
                out.push_str(": ");
                write_nullable(out, v.as_ref(), p);
            }
            out.push('}');
        }
        // Numbers (exact), uuids, blobs, durations: the codec's CQL literal text.
        other => out.push_str(&other.to_string()),
    }
}

fn write_nullable(out: &mut String, value: Option<&CqlValue>, p: Precision) {
    match value {
        Some(v) => write_value(out, v, p),
        None => out.push_str("null"),
    }
}

fn write_seq<'v>(
    out: &mut String,
    open: &str,
    close: &str,
    items: impl Iterator<Item = Option<&'v CqlValue>>,
    p: Precision,
) {
    out.push_str(open);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_nullable(out, item, p);
    }
    out.push_str(close);
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv6Addr};

    use cql4_frame::value::{CqlDate, CqlDuration, CqlTime, CqlTimestamp, Decimal, Varint};

    use super::*;

    fn c(v: CqlValue) -> String {
        cell(Some(&v))
    }

    #[test]
    fn scalars() {
        assert_eq!(cell(None), "null");
        assert_eq!(c(CqlValue::Text("it's".into())), "it's");
        assert_eq!(c(CqlValue::Text("two\nlines".into())), "two\\nlines");
        assert_eq!(c(CqlValue::Boolean(true)), "True");
        assert_eq!(c(CqlValue::Boolean(false)), "False");
        assert_eq!(c(CqlValue::BigInt(-9)), "-9");
        assert_eq!(c(CqlValue::TinyInt(-128)), "-128");
        assert_eq!(c(CqlValue::Double(f64::NAN)), "NaN");
        assert_eq!(c(CqlValue::Float(2.5)), "2.5");
        assert_eq!(c(CqlValue::Blob(vec![0x0a, 0xff])), "0x0aff");
        let big: Varint = "-98765432109876543210987654321".parse().unwrap();
        assert_eq!(c(CqlValue::Varint(big)), "-98765432109876543210987654321");
        assert_eq!(c(CqlValue::Decimal(Decimal::new(-1i64, 3))), "-0.001");
        assert_eq!(
            c(CqlValue::Timestamp(CqlTimestamp(1_709_214_330_123))),
            "2024-02-29 13:45:30.123000+0000"
        );
        assert_eq!(c(CqlValue::Date(CqlDate(1 << 31))), "1970-01-01");
        assert_eq!(
            c(CqlValue::Time(CqlTime::from_nanos(1).unwrap())),
            "00:00:00.000000001"
        );
        assert_eq!(
            c(CqlValue::Duration(CqlDuration {
                months: 1,
                days: 2,
                nanos: 3
            })),
            "1mo2d3ns"
        );
        assert_eq!(c(CqlValue::Inet(IpAddr::V6(Ipv6Addr::LOCALHOST))), "::1");
        assert_eq!(
            c(CqlValue::Uuid([0xab; 16])),
            "abababab-abab-abab-abab-abababababab"
        );
        assert_eq!(c(CqlValue::Empty), "");
    }

    #[test]
    fn precision_rounds_floats_like_cqlsh() {
        let p = Precision {
            float: Some(5),
            double: Some(3),
        };
        let list = CqlValue::List(vec![CqlValue::Double(std::f64::consts::E)]);
        assert_eq!(cell_with(Some(&list), p), "[2.718]");
        assert_eq!(
            cell_with(Some(&CqlValue::Float(std::f32::consts::PI)), p),
            "3.14159"
        );
        assert_eq!(
            cell(Some(&CqlValue::Float(std::f32::consts::PI))),
            "3.1415927"
        );
    }

    #[test]
    fn collections_quote_text_like_cqlsh() {
        assert_eq!(
            c(CqlValue::Map(vec![
                (
                    CqlValue::Text("class".into()),
                    CqlValue::Text("it's".into())
                ),
                (CqlValue::Text("rf".into()), CqlValue::Text("1".into())),
            ])),
            "{'class': 'it''s', 'rf': '1'}"
        );
        assert_eq!(
            c(CqlValue::List(vec![CqlValue::Int(3), CqlValue::Int(1)])),
            "[3, 1]"
        );
        assert_eq!(c(CqlValue::Set(vec![CqlValue::Boolean(true)])), "{True}");
        assert_eq!(
            c(CqlValue::Tuple(vec![
                Some(CqlValue::Int(1)),
                None,
                Some(CqlValue::Text("x".into()))
            ])),
            "(1, null, 'x')"
        );
        assert_eq!(
            c(CqlValue::Udt(vec![
                ("street".into(), Some(CqlValue::Text("Main\tSt".into()))),
                ("zip".into(), None),
            ])),
            "{street: 'Main\\tSt', zip: null}"
        );
        assert_eq!(
            c(CqlValue::Map(vec![(
                CqlValue::Text("k".into()),
                CqlValue::List(vec![CqlValue::Set(vec![
                    CqlValue::Int(1),
                    CqlValue::Int(2)
                ])])
            )])),
            "{'k': [{1, 2}]}"
        );
    }
}
