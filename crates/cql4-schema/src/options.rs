//! Table and view options as read from their `system_schema` cells, and as CQL literals.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cql4_frame::CqlValue;

use crate::ident::string_literal;

/// One option's value. Options this crate does not know are kept as their CQL literal.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OptionValue {
    /// The cell was null (the server's default applies).
    Null,
    /// A text option (`comment`, `speculative_retry`, …).
    Text(String),
    /// An integer option (`gc_grace_seconds`, …).
    Int(i64),
    /// A floating-point option (`bloom_filter_fp_chance`, …).
    Double(f64),
    /// A boolean option (`cdc`, …).
    Boolean(bool),
    /// A `map<text, text>` option (`compaction`, `caching`, …), sorted by key.
    Map(BTreeMap<String, String>),
    /// Any other value, as a CQL literal (e.g. `extensions`, a `map<text, blob>`).
    Other(String),
}

impl OptionValue {
    /// The value of a cell.
    pub fn from_value(value: Option<&CqlValue>) -> Self {
        let Some(v) = value else {
            return Self::Null;
        };
        match v {
            CqlValue::Text(s) | CqlValue::Ascii(s) => Self::Text(s.clone()),
            CqlValue::Int(n) => Self::Int(i64::from(*n)),
            CqlValue::BigInt(n) => Self::Int(*n),
            CqlValue::SmallInt(n) => Self::Int(i64::from(*n)),
            CqlValue::TinyInt(n) => Self::Int(i64::from(*n)),
            CqlValue::Double(d) => Self::Double(*d),
            CqlValue::Float(f) => Self::Double(f64::from(*f)),
            CqlValue::Boolean(b) => Self::Boolean(*b),
            CqlValue::Map(entries)
                if entries.iter().all(|(k, v)| {
                    matches!(k, CqlValue::Text(_) | CqlValue::Ascii(_))
                        && matches!(v, CqlValue::Text(_) | CqlValue::Ascii(_))
                }) =>
            {
                let text = |v: &CqlValue| match v {
                    CqlValue::Text(s) | CqlValue::Ascii(s) => s.clone(),
                    _ => String::new(),
                };
                Self::Map(entries.iter().map(|(k, v)| (text(k), text(v))).collect())
            }
            other => Self::Other(literal(other)),
        }
    }

    /// The value as CQL text, as DESCRIBE writes it.
    pub fn to_cql(&self) -> String {
        match self {
            Self::Null => "null".to_owned(),
            Self::Text(s) => string_literal(s),
            Self::Int(n) => n.to_string(),
            Self::Double(d) => java_double(*d),
            Self::Boolean(b) => b.to_string(),
            Self::Map(m) => map_literal(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            Self::Other(s) => s.clone(),
        }
    }
}

/// `{'k': 'v', …}`, in the order given.
pub(crate) fn map_literal<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&string_literal(k));
        out.push_str(": ");
        out.push_str(&string_literal(v));
    }
    out.push('}');
    out
}

/// A double as Java's `Double.toString` writes it (the server's DESCRIBE does): plain between
/// 10^-3 and 10^7, else `1.0E-4`.
pub fn java_double(d: f64) -> String {
    if !d.is_finite() {
        return if d.is_nan() {
            "NaN".to_owned()
        } else if d > 0.0 {
            "Infinity".to_owned()
        } else {
            "-Infinity".to_owned()
        };
    }
    let a = d.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        return format!("{d:?}");
    }
    let sci = format!("{d:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    if mantissa.contains('.') {
        format!("{mantissa}E{exponent}")
    } else {
        format!("{mantissa}.0E{exponent}")
    }
}

/// A CQL literal for any value (for options of types this crate does not know).
fn literal(v: &CqlValue) -> String {
    let mut out = String::new();
    write_literal(&mut out, v);
    out
}

fn write_literal(out: &mut String, v: &CqlValue) {
    let list = |out: &mut String, items: &[CqlValue], open: char, close: char| {
        out.push(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_literal(out, item);
        }
        out.push(close);
    };
    match v {
        CqlValue::Text(s) | CqlValue::Ascii(s) => out.push_str(&string_literal(s)),
        CqlValue::Blob(b) | CqlValue::Custom(b) => {
            out.push_str("0x");
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
        }
        CqlValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        CqlValue::Int(n) => out.push_str(&n.to_string()),
        CqlValue::BigInt(n) | CqlValue::Counter(n) => out.push_str(&n.to_string()),
        CqlValue::SmallInt(n) => out.push_str(&n.to_string()),
        CqlValue::TinyInt(n) => out.push_str(&n.to_string()),
        CqlValue::Double(d) => out.push_str(&java_double(*d)),
        CqlValue::Float(f) => out.push_str(&java_double(f64::from(*f))),
        CqlValue::List(items) => list(out, items, '[', ']'),
        CqlValue::Set(items) => list(out, items, '{', '}'),
        CqlValue::Map(entries) => {
            out.push('{');
            for (i, (k, val)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_literal(out, k);
                out.push_str(": ");
                write_literal(out, val);
            }
            out.push('}');
        }
        CqlValue::Tuple(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match item {
                    Some(x) => write_literal(out, x),
                    None => out.push_str("null"),
                }
            }
            out.push(')');
        }
        CqlValue::Udt(fields) => {
            out.push('{');
            for (i, (name, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&crate::ident::quote(name));
                out.push_str(": ");
                match item {
                    Some(x) => write_literal(out, x),
                    None => out.push_str("null"),
                }
            }
            out.push('}');
        }
        // Types no option uses: Debug keeps the value visible rather than dropping it.
        other => {
            let _ = write!(out, "{other:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_as_java_writes_them() {
        assert_eq!(java_double(0.01), "0.01");
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.1), "0.1");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(1.5e-5), "1.5E-5");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(0.0), "0.0");
    }

    #[test]
    fn values_render_as_cql() {
        let map = CqlValue::Map(vec![(
            CqlValue::Text("k".into()),
            CqlValue::Text("v'".into()),
        )]);
        assert_eq!(OptionValue::from_value(Some(&map)).to_cql(), "{'k': 'v'''}");
        let blobs = CqlValue::Map(vec![(
            CqlValue::Text("e".into()),
            CqlValue::Blob(vec![1, 0xab]),
        )]);
        assert_eq!(
            OptionValue::from_value(Some(&blobs)).to_cql(),
            "{'e': 0x01ab}"
        );
        assert_eq!(OptionValue::from_value(None), OptionValue::Null);
        assert_eq!(
            OptionValue::from_value(Some(&CqlValue::Text("it's".into()))).to_cql(),
            "'it''s'"
        );
    }
}
