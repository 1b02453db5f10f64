//! Text forms the codec's `Display` impls do not give: JSON-safe floats, cqlsh's timestamp
//! style, and a check that a number's text is a JSON number.
//!
//! Varint, decimal, date, time, timestamp (ISO), duration and uuid text comes from
//! `cql4_frame::value`; it is exact (no `f64` on the way).

use std::fmt::Write as _;

use cql4_frame::value::CqlTimestamp;

/// A double as text: the shortest form that reads back to the same value (`0.1`, `1e300`),
/// `NaN`, `Infinity`, `-Infinity`.
pub(crate) fn double(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        // Debug is Rust's shortest round-trip form, with an exponent for very large or small
        // magnitudes (Display would print 300 digits for 1e300).
        format!("{v:?}")
    }
}

/// A float as text, formatted as an `f32` so `1.1f32` prints `1.1`, not `1.100000023841858`.
pub(crate) fn float(v: f32) -> String {
    if v.is_nan() || v.is_infinite() {
        double(f64::from(v))
    } else {
        format!("{v:?}")
    }
}

/// A timestamp as cqlsh prints it: `2024-02-29 13:45:30.123000+0000`.
pub(crate) fn cqlsh_timestamp(t: CqlTimestamp) -> String {
    // The codec's form is `yyyy-mm-ddThh:mm:ss.mmmZ` (years may be longer or negative).
    let iso = t.to_string();
    match iso.rsplit_once('T') {
        Some((date, time)) => {
            let mut s = String::with_capacity(iso.len() + 8);
            let _ = write!(s, "{date} {}000+0000", time.trim_end_matches('Z'));
            s
        }
        None => iso,
    }
}

/// A float as cqlsh shows it with `precision` significant digits (its `float_precision`):
/// Python's `'%.*g'`, the precision first raised by the value's decimal exponent when that is in
/// `-4..precision` (`12345.678` at 5 digits is `12345.678`, `123456789.0` is `1.2346e+08`,
/// `0.00012345678` is `0.000123`).
pub(crate) fn cqlsh_float(v: f64, precision: usize) -> String {
    if v.is_nan() || v.is_infinite() {
        return double(v);
    }
    let mut precision = precision;
    if v.abs() > f64::EPSILON {
        // Python's int(): toward zero.
        let exponent = v.abs().log10().trunc() as i64;
        if (-4..precision as i64).contains(&exponent) {
            precision = (precision as i64 + exponent + 1) as usize;
        }
    }
    percent_g(v, precision)
}

/// Python's `'%.*g' % (precision, v)` for a finite `v`.
fn percent_g(v: f64, precision: usize) -> String {
    let p = precision.max(1);
    // The exponent after rounding to p significant digits decides the form, as in C.
    let sci = format!("{:.*e}", p - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    if (-4..p as i64).contains(&exp) {
        let decimals = (p as i64 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{v:.decimals$}")).to_owned()
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip_zeros(mantissa), exp.abs())
    }
}

/// Trailing zeros of a fraction, and then a trailing point, removed (`%g` without `#`).
fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// True when `s` is a `number` of RFC 8259 §6. Exact numbers whose text is not (a varint or
/// decimal too long to convert, which the codec shows in hex) are written as JSON strings.
pub(crate) fn is_json_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exp) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    digits(int)
        && (int == "0" || !int.starts_with('0'))
        && frac.is_none_or(digits)
        && exp.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cqlsh_floats_match_python() {
        // Python: cqlshlib.formatting.format_floating_point_type(v, ..., 5).
        for (v, want) in [
            (std::f64::consts::PI, "3.14159"),
            (std::f64::consts::E, "2.71828"),
            (123456789.0, "1.2346e+08"),
            (1e-7, "1e-07"),
            (1e20, "1e+20"),
            (100000.0, "1e+05"),
            (1.5, "1.5"),
            (0.0, "0"),
            (-0.25, "-0.25"),
            (12345.678, "12345.678"),
            (0.00012345678, "0.000123"),
            (-9.99999e-5, "-0.0001"),
        ] {
            assert_eq!(cqlsh_float(v, 5), want, "{v}");
        }
        assert_eq!(cqlsh_float(f64::NAN, 5), "NaN");
        assert_eq!(cqlsh_float(f64::NEG_INFINITY, 5), "-Infinity");
    }

    #[test]
    fn json_number_grammar() {
        for good in [
            "0", "-0", "1.5", "1E-100", "-7E+1000", "0.001", "12e+3", "1.2E+3",
        ] {
            assert!(is_json_number(good), "{good}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "1E", "NaN", "0x1f", "1e+", "Infinity", "+1", "1 ",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn cqlsh_timestamps() {
        let t = CqlTimestamp(1_709_214_330_123); // 2024-02-29 13:45:30.123 UTC
        assert_eq!(cqlsh_timestamp(t), "2024-02-29 13:45:30.123000+0000");
        assert_eq!(
            cqlsh_timestamp(CqlTimestamp(-1)),
            "1969-12-31 23:59:59.999000+0000"
        );
        // The extremes do not panic.
        assert!(cqlsh_timestamp(CqlTimestamp(i64::MIN)).ends_with("+0000"));
        assert!(cqlsh_timestamp(CqlTimestamp(i64::MAX)).ends_with("+0000"));
    }

    #[test]
    fn floats() {
        assert_eq!(double(0.1), "0.1");
        assert_eq!(double(1e300), "1e300");
        assert_eq!(double(-2.5), "-2.5");
        assert_eq!(double(f64::NAN), "NaN");
        assert_eq!(double(f64::INFINITY), "Infinity");
        assert_eq!(double(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(float(1.1), "1.1");
        assert_eq!(float(f32::NEG_INFINITY), "-Infinity");
        assert_eq!(float(f32::NAN), "NaN");
        for v in [0.1, 1e300, -2.5, 5e-324, f64::MAX, 1.0] {
            let text = double(v);
            assert!(is_json_number(&text), "{text}");
            let parsed: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(parsed, v);
        }
    }
}
