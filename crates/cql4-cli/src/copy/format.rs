//! Values as COPY TO writes them into a CSV field, as cqlsh does: text as is, `True`/`False`
//! (BOOLSTYLE), blobs as `0x…`, timestamps in DATETIMEFORMAT, numbers exact (DECIMALSEP and
//! THOUSANDSSEP applied), collections, tuples and UDTs as CQL literals (`[1, 2]`,
//! `{'a': 1}`, `(1, 'x')`, `{f: 'x'}`) with text, dates, times, timestamps and addresses
//! quoted inside them. [`super::parse`] reads every one of these back to the same value.

use cql4_frame::CqlValue;
use cql4_schema::ident::quote;

use super::options::Common;
use crate::format::text;

/// What a field holds, for the CSV writer: quoted fields are never NULL on the way back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    /// The NULL option's text, unquoted.
    Null,
    /// Text that must be quoted even when it needs no quoting by its characters: an empty
    /// string, or one equal to the NULL option.
    Text(String),
    /// Any other value's text (quoted only if its characters need it).
    Plain(String),
}

/// The field for `value` (`None` for null).
pub(crate) fn field(value: Option<&CqlValue>, o: &Common) -> Field {
    let Some(value) = value else {
        return Field::Null;
    };
    let mut out = String::new();
    match value {
        CqlValue::Ascii(s) | CqlValue::Text(s) => return Field::Text(s.clone()),
        // The legacy empty value has no text of its own; cqlsh writes it as null too.
        CqlValue::Empty => return Field::Null,
        CqlValue::Boolean(b) => out.push_str(if *b { &o.bool_style.0 } else { &o.bool_style.1 }),
        CqlValue::Timestamp(t) => o.datetime.format(t.0, &mut out),
        CqlValue::Int(_)
        | CqlValue::BigInt(_)
        | CqlValue::Counter(_)
        | CqlValue::SmallInt(_)
        | CqlValue::TinyInt(_)
        | CqlValue::Varint(_)
        | CqlValue::Decimal(_)
        | CqlValue::Float(_)
        | CqlValue::Double(_) => number(value, o, &mut out),
        other => literal(other, o, &mut out),
    }
    Field::Plain(out)
}

/// A number with the separators of the options (the integer digits grouped by three).
fn number(value: &CqlValue, o: &Common, out: &mut String) {
    let plain = match value {
        CqlValue::Float(v) => text::float(*v),
        CqlValue::Double(v) => text::double(*v),
        other => other.to_string(),
    };
    if o.decimal_sep == '.' && o.thousands_sep.is_none() {
        out.push_str(&plain);
        return;
    }
    let (sign, rest) = match plain.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", plain.as_str()),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (int, tail) = rest.split_at(digits);
    out.push_str(sign);
    match o.thousands_sep {
        Some(sep) => {
            for (i, c) in int.chars().enumerate() {
                if i > 0 && (int.len() - i) % 3 == 0 {
                    out.push(sep);
                }
                out.push(c);
            }
        }
        None => out.push_str(int),
    }
    match tail.strip_prefix('.') {
        Some(frac) => {
            out.push(o.decimal_sep);
            out.push_str(frac);
        }
        None => out.push_str(tail),
    }
}

fn quoted(s: &str, out: &mut String) {
    out.push('\'');
    out.push_str(&s.replace('\'', "''"));
    out.push('\'');
}

/// A value as a CQL literal, as it appears inside a collection (and at the top level for the
/// types whose field text is their literal: uuids, blobs, durations, addresses, dates, times).
fn literal(value: &CqlValue, o: &Common, out: &mut String) {
    match value {
        CqlValue::Ascii(s) | CqlValue::Text(s) => quoted(s, out),
        CqlValue::Timestamp(t) => {
            let mut s = String::new();
            o.datetime.format(t.0, &mut s);
            quoted(&s, out);
        }
        CqlValue::Boolean(b) => out.push_str(if *b { &o.bool_style.0 } else { &o.bool_style.1 }),
        CqlValue::Float(v) => out.push_str(&text::float(*v)),
        CqlValue::Double(v) => out.push_str(&text::double(*v)),
        CqlValue::Date(d) => out.push_str(&d.to_string()),
        CqlValue::Time(t) => out.push_str(&t.to_string()),
        CqlValue::Inet(ip) => out.push_str(&ip.to_string()),
        CqlValue::List(items) => seq(out, o, '[', ']', items.iter().map(Some)),
        CqlValue::Set(items) => seq(out, o, '{', '}', items.iter().map(Some)),
        CqlValue::Tuple(items) => seq(out, o, '(', ')', items.iter().map(Option::as_ref)),
        CqlValue::Map(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                element(Some(k), o, out);
                out.push_str(": ");
                element(Some(v), o, out);
            }
            out.push('}');
        }
        CqlValue::Udt(fields) => {
            out.push('{');
            for (i, (name, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&quote(name));
                out.push_str(": ");
                element(v.as_ref(), o, out);
            }
            out.push('}');
        }
        // Integers, varints, decimals, uuids, blobs, durations: the codec's CQL literal text.
        other => out.push_str(&other.to_string()),
    }
}

/// An element inside a collection: dates, times and addresses quoted, as cqlsh writes them.
fn element(value: Option<&CqlValue>, o: &Common, out: &mut String) {
    match value {
        None => out.push_str("null"),
        Some(v @ (CqlValue::Date(_) | CqlValue::Time(_) | CqlValue::Inet(_))) => {
            let mut s = String::new();
            literal(v, o, &mut s);
            quoted(&s, out);
        }
        Some(v) => literal(v, o, out),
    }
}

fn seq<'v>(
    out: &mut String,
    o: &Common,
    open: char,
    close: char,
    items: impl Iterator<Item = Option<&'v CqlValue>>,
) {
    out.push(open);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        element(item, o, out);
    }
    out.push(close);
}

/// A value as CQL text for an INSERT without bind markers (PREPAREDSTATEMENTS = false):
/// timestamps as milliseconds, floats by name when not finite, UDT field names quoted when
/// needed.
pub(crate) fn cql_literal(value: &CqlValue, out: &mut String) {
    let items = |out: &mut String,
                 open: char,
                 close: char,
                 items: &mut dyn Iterator<Item = Option<&CqlValue>>| {
        out.push(open);
        for (i, item) in items.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match item {
                Some(v) => cql_literal(v, out),
                None => out.push_str("null"),
            }
        }
        out.push(close);
    };
    match value {
        CqlValue::Timestamp(t) => out.push_str(&t.0.to_string()),
        CqlValue::Float(v) => out.push_str(&text::float(*v)),
        CqlValue::Double(v) => out.push_str(&text::double(*v)),
        CqlValue::List(v) => items(out, '[', ']', &mut v.iter().map(Some)),
        CqlValue::Set(v) => items(out, '{', '}', &mut v.iter().map(Some)),
        CqlValue::Tuple(v) => items(out, '(', ')', &mut v.iter().map(Option::as_ref)),
        CqlValue::Map(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                cql_literal(k, out);
                out.push_str(": ");
                cql_literal(v, out);
            }
            out.push('}');
        }
        CqlValue::Udt(fields) => {
            out.push('{');
            for (i, (name, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&quote(name));
                out.push_str(": ");
                match v {
                    Some(v) => cql_literal(v, out),
                    None => out.push_str("null"),
                }
            }
            out.push('}');
        }
        // Text and dates quoted, numbers, uuids, blobs, durations: the codec's literal text.
        other => out.push_str(&other.to_string()),
    }
}
