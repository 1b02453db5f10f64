//! CSV fields back to values for COPY FROM, by the column's CQL type: everything
//! [`super::format`] writes, plus what cqlsh also reads (CQL timestamp forms, integer
//! milliseconds, `true`/`false` beside BOOLSTYLE, unquoted text inside collections).
//!
//! A field is null when it is unquoted and equal to the NULL option; a quoted field never is
//! (so `""` is the empty string). Errors are one line naming what was expected.

use std::net::IpAddr;

use cql4_frame::types::ColumnType;
use cql4_frame::value::{CqlDate, CqlDuration, CqlTime, CqlTimestamp, Decimal, Varint};
use cql4_frame::CqlValue;

use super::options::Common;

/// The value of one field for a column of type `ty`.
pub(crate) fn field(
    text: &str,
    quoted: bool,
    ty: &ColumnType,
    o: &Common,
) -> Result<Option<CqlValue>, String> {
    if !quoted && text == o.null {
        return Ok(None);
    }
    match ty {
        ColumnType::Ascii | ColumnType::Text => return scalar(text, ty, o).map(Some),
        ColumnType::Int
        | ColumnType::BigInt
        | ColumnType::Counter
        | ColumnType::SmallInt
        | ColumnType::TinyInt
        | ColumnType::Varint
        | ColumnType::Decimal
        | ColumnType::Float
        | ColumnType::Double => {
            let plain = plain_number(text.trim(), o);
            return scalar(&plain, ty, o).map(Some);
        }
        _ => {}
    }
    let mut p = Literal { rest: text, o };
    let v = p.value(ty, true)?;
    p.skip_blanks();
    if !p.rest.is_empty() {
        return Err(format!("unexpected '{}' after the {ty} value", p.rest));
    }
    v.map(Some)
        .ok_or_else(|| format!("null is not a {ty} value"))
}

/// A number without THOUSANDSSEP and with `.` for DECIMALSEP.
fn plain_number(text: &str, o: &Common) -> String {
    let mut s: String = match o.thousands_sep {
        Some(sep) => text.chars().filter(|c| *c != sep).collect(),
        None => text.to_owned(),
    };
    if o.decimal_sep != '.' {
        s = s.replace(o.decimal_sep, ".");
    }
    s
}

fn bad(text: &str, ty: &ColumnType) -> String {
    let shown: String = text.chars().take(40).collect();
    let more = if shown.len() < text.len() { "…" } else { "" };
    format!("'{shown}{more}' is not a valid {ty} value")
}

fn float_text(t: &str) -> Option<&str> {
    // Rust reads `inf` and `infinity` in any case; CQL and cqlsh write `Infinity` and `NaN`.
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['-', '+']);
    if unsigned.starts_with("inf") && unsigned != "infinity" {
        return None;
    }
    Some(t)
}

/// A scalar from its text (unquoted, or the inside of a `'quoted'` element).
fn scalar(t: &str, ty: &ColumnType, o: &Common) -> Result<CqlValue, String> {
    let e = || bad(t, ty);
    let v = match ty {
        ColumnType::Ascii if !t.is_ascii() => return Err(format!("'{t}' is not ASCII")),
        ColumnType::Ascii => CqlValue::Ascii(t.to_owned()),
        ColumnType::Text => CqlValue::Text(t.to_owned()),
        ColumnType::Int => CqlValue::Int(t.trim().parse().map_err(|_| e())?),
        ColumnType::BigInt => CqlValue::BigInt(t.trim().parse().map_err(|_| e())?),
        ColumnType::Counter => CqlValue::Counter(t.trim().parse().map_err(|_| e())?),
        ColumnType::SmallInt => CqlValue::SmallInt(t.trim().parse().map_err(|_| e())?),
        ColumnType::TinyInt => CqlValue::TinyInt(t.trim().parse().map_err(|_| e())?),
        ColumnType::Varint => CqlValue::Varint(t.trim().parse::<Varint>().map_err(|_| e())?),
        ColumnType::Decimal => CqlValue::Decimal(t.trim().parse::<Decimal>().map_err(|_| e())?),
        ColumnType::Float => CqlValue::Float(
            float_text(t.trim())
                .ok_or_else(e)?
                .parse()
                .map_err(|_| e())?,
        ),
        ColumnType::Double => CqlValue::Double(
            float_text(t.trim())
                .ok_or_else(e)?
                .parse()
                .map_err(|_| e())?,
        ),
        ColumnType::Boolean => {
            let t = t.trim();
            if t.eq_ignore_ascii_case(&o.bool_style.0) || t.eq_ignore_ascii_case("true") {
                CqlValue::Boolean(true)
            } else if t.eq_ignore_ascii_case(&o.bool_style.1) || t.eq_ignore_ascii_case("false") {
                CqlValue::Boolean(false)
            } else {
                return Err(format!(
                    "'{t}' is not a boolean ({} or {})",
                    o.bool_style.0, o.bool_style.1
                ));
            }
        }
        ColumnType::Blob => CqlValue::Blob(blob(t.trim()).ok_or_else(e)?),
        ColumnType::Uuid => CqlValue::Uuid(uuid(t.trim()).ok_or_else(e)?),
        ColumnType::Timeuuid => {
            let u = uuid(t.trim()).ok_or_else(e)?;
            if u[6] >> 4 != 1 {
                return Err(format!("'{t}' is not a time-based (version 1) uuid"));
            }
            CqlValue::Timeuuid(u)
        }
        ColumnType::Inet => CqlValue::Inet(t.trim().parse::<IpAddr>().map_err(|_| e())?),
        ColumnType::Timestamp => {
            CqlValue::Timestamp(CqlTimestamp(o.datetime.read(t).ok_or_else(e)?))
        }
        ColumnType::Date => CqlValue::Date(date(t.trim()).ok_or_else(e)?),
        ColumnType::Time => CqlValue::Time(time(t.trim()).ok_or_else(e)?),
        ColumnType::Duration => CqlValue::Duration(duration(t.trim()).ok_or_else(e)?),
        ColumnType::Custom(class) => return Err(format!("custom type {class} is not supported")),
        other => return Err(format!("a {other} value cannot be quoted text")),
    };
    Ok(v)
}

fn blob(t: &str) -> Option<Vec<u8>> {
    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))?;
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn uuid(t: &str) -> Option<[u8; 16]> {
    let b = t.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// `yyyy-mm-dd`, or the raw day number CQL also takes (epoch at 2^31).
fn date(t: &str) -> Option<CqlDate> {
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().ok().map(CqlDate);
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let mut it = body.splitn(3, '-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if y.len() < 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The type spans about ±5.9 million years; more digits are not a date (and would overflow
    // the calendar arithmetic).
    let y: i64 = y.parse().ok().filter(|y: &i64| *y <= 6_000_000)?;
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    let y = if neg { -y } else { y };
    // Validated by a round trip through the calendar.
    let days = super::datetime::days_from_civil(y, m, d);
    (super::datetime::civil_from_days(days) == (y, m, d))
        .then(|| CqlDate::from_days_since_epoch(days))?
}

/// `hh:mm:ss[.fffffffff]`, or nanoseconds since midnight.
fn time(t: &str) -> Option<CqlTime> {
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return CqlTime::from_nanos(t.parse().ok()?);
    }
    let (hms, frac) = t.split_once('.').unwrap_or((t, ""));
    let mut it = hms.split(':');
    let h: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let s: i64 = it.next().map_or(Some(0), |s| s.parse().ok())?;
    if it.next().is_some() || h > 23 || m > 59 || s > 59 || frac.len() > 9 {
        return None;
    }
    let nanos = if frac.is_empty() {
        0
    } else if frac.bytes().all(|b| b.is_ascii_digit()) {
        frac.parse::<i64>().ok()? * 10i64.pow(9 - frac.len() as u32)
    } else {
        return None;
    };
    CqlTime::from_nanos(((h * 60 + m) * 60 + s) * 1_000_000_000 + nanos)
}

/// Cassandra's duration form, `[-]1y2mo3w4d5h6m7s8ms9us10ns` (`µs` too).
fn duration(t: &str) -> Option<CqlDuration> {
    let (neg, mut rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    if rest.is_empty() {
        return None;
    }
    let (mut months, mut days, mut nanos) = (0i64, 0i64, 0i64);
    while !rest.is_empty() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let value: i64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (unit, r) = rest.split_at(unit_len);
        rest = r;
        let add = |acc: &mut i64, by: i64| -> Option<()> {
            *acc = acc.checked_add(value.checked_mul(by)?)?;
            Some(())
        };
        match unit.to_ascii_lowercase().as_str() {
            "y" => add(&mut months, 12)?,
            "mo" => add(&mut months, 1)?,
            "w" => add(&mut days, 7)?,
            "d" => add(&mut days, 1)?,
            "h" => add(&mut nanos, 3_600_000_000_000)?,
            "m" => add(&mut nanos, 60_000_000_000)?,
            "s" => add(&mut nanos, 1_000_000_000)?,
            "ms" => add(&mut nanos, 1_000_000)?,
            "us" | "µs" => add(&mut nanos, 1000)?,
            "ns" => add(&mut nanos, 1)?,
            _ => return None,
        }
    }
    let sign = if neg { -1 } else { 1 };
    Some(CqlDuration {
        months: i32::try_from(months * sign).ok()?,
        days: i32::try_from(days * sign).ok()?,
        nanos: nanos * sign,
    })
}

/// A reader of CQL literal text (collections, tuples, UDTs), guided by the type.
struct Literal<'a, 'o> {
    rest: &'a str,
    o: &'o Common,
}

impl<'a> Literal<'a, '_> {
    fn skip_blanks(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_blanks();
        match self.rest.strip_prefix(c) {
            Some(r) => {
                self.rest = r;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, c: char, ty: &ColumnType) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            let found: String = self.rest.chars().take(20).collect();
            Err(format!("expected '{c}' in a {ty} value, found '{found}'"))
        }
    }

    /// A `'quoted'` string (`''` is one quote), unescaped.
    fn quoted(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        chars.next();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if self.rest[i + 1..].starts_with('\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    self.rest = &self.rest[i + 1..];
                    return Ok(out);
                }
            } else {
                out.push(c);
            }
        }
        Err("unterminated quoted string".to_owned())
    }

    /// A bare token: up to the next `,` `:` or closing bracket.
    fn bare(&mut self) -> &'a str {
        let end = self
            .rest
            .find([',', ':', ']', '}', ')'])
            .unwrap_or(self.rest.len());
        let (tok, rest) = self.rest.split_at(end);
        self.rest = rest;
        tok.trim()
    }

    /// A value of `ty`; `None` for `null` (allowed in tuples and UDTs only, checked by callers).
    fn value(&mut self, ty: &ColumnType, top: bool) -> Result<Option<CqlValue>, String> {
        self.skip_blanks();
        if !top
            && self
                .rest
                .get(..4)
                .is_some_and(|w| w.eq_ignore_ascii_case("null"))
        {
            let after = self.rest[4..].trim_start();
            if after.is_empty() || after.starts_with([',', ']', '}', ')', ':']) {
                self.rest = &self.rest[4..];
                return Ok(None);
            }
        }
        let v = match ty {
            ColumnType::List(el) | ColumnType::Set(el) => {
                let (open, close) = if matches!(ty, ColumnType::List(_)) {
                    ('[', ']')
                } else {
                    ('{', '}')
                };
                self.expect(open, ty)?;
                let mut items = Vec::new();
                if !self.eat(close) {
                    loop {
                        items.push(self.value(el, false)?.ok_or("null inside a collection")?);
                        if self.eat(close) {
                            break;
                        }
                        self.expect(',', ty)?;
                    }
                }
                if open == '[' {
                    CqlValue::List(items)
                } else {
                    CqlValue::Set(items)
                }
            }
            ColumnType::Map(k, v) => {
                self.expect('{', ty)?;
                let mut pairs = Vec::new();
                if !self.eat('}') {
                    loop {
                        let key = self.value(k, false)?.ok_or("null map key")?;
                        self.expect(':', ty)?;
                        let val = self.value(v, false)?.ok_or("null map value")?;
                        pairs.push((key, val));
                        if self.eat('}') {
                            break;
                        }
                        self.expect(',', ty)?;
                    }
                }
                CqlValue::Map(pairs)
            }
            ColumnType::Tuple(types) => {
                self.expect('(', ty)?;
                let mut items = Vec::with_capacity(types.len());
                for (i, t) in types.iter().enumerate() {
                    if i > 0 {
                        self.expect(',', ty)?;
                    }
                    items.push(self.value(t, false)?);
                }
                self.expect(')', ty)?;
                CqlValue::Tuple(items)
            }
            ColumnType::Udt(udt) => {
                self.expect('{', ty)?;
                let mut fields: Vec<(String, Option<CqlValue>)> =
                    udt.fields.iter().map(|(n, _)| (n.clone(), None)).collect();
                if !self.eat('}') {
                    loop {
                        self.skip_blanks();
                        let name = if self.rest.starts_with('"') {
                            let end = self.rest[1..].find('"').ok_or("unterminated field name")?;
                            let n = self.rest[1..=end].to_owned();
                            self.rest = &self.rest[end + 2..];
                            n
                        } else {
                            self.bare().to_ascii_lowercase()
                        };
                        let at = fields
                            .iter()
                            .position(|(n, _)| *n == name)
                            .ok_or_else(|| format!("{ty} has no field {name}"))?;
                        self.expect(':', ty)?;
                        fields[at].1 = self.value(&udt.fields[at].1, false)?;
                        if self.eat('}') {
                            break;
                        }
                        self.expect(',', ty)?;
                    }
                }
                CqlValue::Udt(fields)
            }
            _ if self.rest.starts_with('\'') => {
                let s = self.quoted()?;
                scalar(&s, ty, self.o)?
            }
            _ if top => {
                let t = std::mem::take(&mut self.rest);
                scalar(t.trim(), ty, self.o)?
            }
            _ => {
                let o = self.o;
                let t = self.bare();
                scalar(t, ty, o)?
            }
        };
        Ok(Some(v))
    }
}
