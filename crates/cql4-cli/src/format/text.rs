//! Text forms of CQL scalar values shared by the table and JSON printers.
//!
//! Dates and times are formatted with a proleptic Gregorian calendar over `i64` days, so every
//! value the wire can carry has a text form (no "out of range" fallbacks). Numbers whose text
//! could be made huge by a hostile scale or length are bounded: see [`decimal`] and [`varint`].

use std::fmt::Write as _;

/// Largest varint (in bytes) converted to decimal digits. The conversion is quadratic in the
/// length; 16 KiB (about 39,000 digits) takes milliseconds. Longer values are shown in hex.
pub(crate) const MAX_VARINT_DECIMAL_BYTES: usize = 16 * 1024;

/// Leading zeros written out in a plain decimal before switching to exponent form.
const MAX_PLAIN_DECIMAL_ZEROS: i64 = 20;

/// `0x` and lowercase hex, as cqlsh shows blobs.
pub(crate) fn blob_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("0x");
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A two's-complement big-endian varint (native_protocol_v4.spec §6.23) in decimal, or `None`
/// when it is longer than [`MAX_VARINT_DECIMAL_BYTES`].
pub(crate) fn varint(bytes: &[u8]) -> Option<String> {
    if bytes.len() > MAX_VARINT_DECIMAL_BYTES {
        return None;
    }
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    // Magnitude: for a negative value, the two's complement (invert, add one).
    let mut magnitude: Vec<u8> = if negative {
        bytes.iter().map(|b| !b).collect()
    } else {
        bytes.to_vec()
    };
    if negative {
        for b in magnitude.iter_mut().rev() {
            let (sum, carry) = b.overflowing_add(1);
            *b = sum;
            if !carry {
                break;
            }
        }
    }
    // Base 10^9 limbs, least significant first.
    const BASE: u64 = 1_000_000_000;
    let mut limbs: Vec<u32> = Vec::with_capacity(bytes.len() * 8 / 29 + 1);
    for &byte in &magnitude {
        let mut carry = u64::from(byte);
        for limb in &mut limbs {
            let v = u64::from(*limb) * 256 + carry;
            *limb = (v % BASE) as u32;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push((carry % BASE) as u32);
            carry /= BASE;
        }
    }
    let mut s = String::new();
    if negative {
        s.push('-');
    }
    match limbs.split_last() {
        None => s.push('0'),
        Some((top, rest)) => {
            let _ = write!(s, "{top}");
            for limb in rest.iter().rev() {
                let _ = write!(s, "{limb:09}");
            }
        }
    }
    Some(s)
}

/// A varint's text: decimal, or hex (`0x…`, two's complement) past the length bound.
pub(crate) fn varint_text(bytes: &[u8]) -> String {
    varint(bytes).unwrap_or_else(|| blob_hex(bytes))
}

/// A decimal `unscaled × 10^-scale` (§6.5) as an exact number that is also valid JSON:
/// plain (`-12.345`, `0.001`) unless that needs more than 20 padding zeros, then exponent form
/// (`1E-100`, `15E30`).
pub(crate) fn decimal(unscaled: &str, scale: i32) -> String {
    let (sign, digits) = match unscaled.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", unscaled),
    };
    let scale = i64::from(scale);
    let len = digits.len() as i64;
    if scale == 0 {
        format!("{sign}{digits}")
    } else if scale > 0 && scale < len {
        let (int, frac) = digits.split_at((len - scale) as usize);
        format!("{sign}{int}.{frac}")
    } else if scale > 0 && scale - len <= MAX_PLAIN_DECIMAL_ZEROS {
        let zeros = "0".repeat((scale - len) as usize);
        format!("{sign}0.{zeros}{digits}")
    } else if scale < 0 && -scale <= MAX_PLAIN_DECIMAL_ZEROS && digits != "0" {
        let zeros = "0".repeat((-scale) as usize);
        format!("{sign}{digits}{zeros}")
    } else {
        format!("{sign}{digits}E{}", -scale)
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); H. Hinnant's
/// `civil_from_days`, exact over all of `i64`'s day range used here.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn write_ymd(s: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        let _ = write!(s, "{y:04}-{m:02}-{d:02}");
    } else {
        let _ = write!(s, "{y}-{m:02}-{d:02}");
    }
}

/// A `date` (§6.7): days with 2^31 as the epoch, as `YYYY-MM-DD`.
pub(crate) fn date(raw: u32) -> String {
    let mut s = String::with_capacity(10);
    write_ymd(&mut s, i64::from(raw) - (1 << 31));
    s
}

/// A `time` (§6.19): nanoseconds since midnight as `HH:MM:SS.nnnnnnnnn`; a value outside a day
/// (which a server does not send) is shown as its number.
pub(crate) fn time(nanos: i64) -> String {
    const DAY: i64 = 86_400 * 1_000_000_000;
    if !(0..DAY).contains(&nanos) {
        return nanos.to_string();
    }
    let secs = nanos / 1_000_000_000;
    format!(
        "{:02}:{:02}:{:02}.{:09}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        nanos % 1_000_000_000
    )
}

/// How a timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimestampStyle {
    /// `2024-02-29T13:45:30.123Z` (ISO 8601, for JSON).
    Iso,
    /// `2024-02-29 13:45:30.123000+0000` (cqlsh).
    Cqlsh,
}

/// A `timestamp` (§6.18): milliseconds since the epoch, UTC.
pub(crate) fn timestamp(millis: i64, style: TimestampStyle) -> String {
    let days = millis.div_euclid(86_400_000);
    let ms = millis.rem_euclid(86_400_000);
    let secs = ms / 1000;
    let mut s = String::with_capacity(32);
    write_ymd(&mut s, days);
    let (h, m, sec, frac) = (secs / 3600, secs / 60 % 60, secs % 60, ms % 1000);
    let _ = match style {
        TimestampStyle::Iso => write!(s, "T{h:02}:{m:02}:{sec:02}.{frac:03}Z"),
        TimestampStyle::Cqlsh => write!(s, " {h:02}:{m:02}:{sec:02}.{frac:03}000+0000"),
    };
    s
}

/// A `duration` as Cassandra writes it (`1y2mo25d5h6m7s8ms9us10ns`); zero is `0s`.
pub(crate) fn duration(months: i32, days: i32, nanos: i64) -> String {
    let mut s = String::new();
    if months < 0 || days < 0 || nanos < 0 {
        s.push('-');
    }
    let months = months.unsigned_abs();
    let days = days.unsigned_abs();
    let nanos = nanos.unsigned_abs();
    let mut unit = |value: u64, suffix: &str| {
        if value != 0 {
            let _ = write!(s, "{value}{suffix}");
        }
    };
    unit(u64::from(months / 12), "y");
    unit(u64::from(months % 12), "mo");
    unit(u64::from(days), "d");
    unit(nanos / 3_600_000_000_000, "h");
    unit(nanos / 60_000_000_000 % 60, "m");
    unit(nanos / 1_000_000_000 % 60, "s");
    unit(nanos / 1_000_000 % 1000, "ms");
    unit(nanos / 1000 % 1000, "us");
    unit(nanos % 1000, "ns");
    if s.is_empty() {
        s.push_str("0s");
    }
    s
}

/// A uuid / timeuuid (§6.22, §6.16) in the canonical lowercase hyphenated form.
pub(crate) fn uuid(bytes: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_hex_is_lowercase_with_prefix() {
        assert_eq!(blob_hex(&[]), "0x");
        assert_eq!(blob_hex(&[0xCA, 0xFE, 0x00, 0x0F]), "0xcafe000f");
    }

    #[test]
    fn varint_small_values() {
        for (bytes, want) in [
            (&[][..], "0"),
            (&[0x00], "0"),
            (&[0x01], "1"),
            (&[0x7F], "127"),
            (&[0x00, 0x80], "128"),
            (&[0x80], "-128"),
            (&[0xFF], "-1"),
            (&[0xFF, 0x7F], "-129"),
            (&[0x01, 0x00], "256"),
        ] {
            assert_eq!(varint(bytes).unwrap(), want, "{bytes:02x?}");
        }
    }

    #[test]
    fn varint_matches_i128_everywhere_it_fits() {
        for v in [
            i128::MAX,
            i128::MIN,
            123_456_789_012_345_678_901_234_567_890,
            -98_765_432_109_876_543_210_987_654_321,
            1_000_000_000,
            -1_000_000_000,
            999_999_999,
            i64::MIN as i128,
        ] {
            assert_eq!(varint(&v.to_be_bytes()).unwrap(), v.to_string());
        }
    }

    #[test]
    fn varint_beyond_i128() {
        // 2^128 = 0x01 followed by 16 zero bytes.
        let mut bytes = vec![0x01];
        bytes.extend([0; 16]);
        assert_eq!(
            varint(&bytes).unwrap(),
            "340282366920938463463374607431768211456"
        );
        // -(2^128): 0xFF then 0x00 * 16.
        bytes[0] = 0xFF;
        assert_eq!(
            varint(&bytes).unwrap(),
            "-340282366920938463463374607431768211456"
        );
    }

    #[test]
    fn varint_too_long_falls_back_to_hex() {
        let bytes = vec![0x11; MAX_VARINT_DECIMAL_BYTES + 1];
        assert_eq!(varint(&bytes), None);
        assert!(varint_text(&bytes).starts_with("0x1111"));
        // The longest converted value is fast and has the expected length.
        let max = vec![0x7F; MAX_VARINT_DECIMAL_BYTES];
        let s = varint(&max).unwrap();
        assert!(s.len() > 39_000, "{}", s.len());
    }

    /// RFC 8259 §6 `number`, checked by its grammar (serde_json without arbitrary_precision
    /// rejects numbers beyond f64's range, which are still valid JSON).
    fn is_json_number(s: &str) -> bool {
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

    #[test]
    fn json_number_grammar() {
        for good in ["0", "-0", "1.5", "1E-100", "-7E1000", "0.001", "12e+3"] {
            assert!(is_json_number(good), "{good}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1E", "NaN", "0x1", "1e+"] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn decimals_are_exact_and_valid_json_numbers() {
        for (unscaled, scale, want) in [
            ("0", 0, "0"),
            (
                "12345678901234567890123456789012345",
                15,
                "12345678901234567890.123456789012345",
            ),
            ("-1", 3, "-0.001"),
            ("15", 1, "1.5"),
            ("15", 2, "0.15"),
            ("-15", 2, "-0.15"),
            ("1", -3, "1000"),
            ("1", 100, "1E-100"),
            ("-7", -1000, "-7E1000"),
            ("0", 5, "0.00000"),
            ("0", -5, "0E5"),
            ("1", i32::MIN, "1E2147483648"),
            ("1", i32::MAX, "1E-2147483647"),
        ] {
            let got = decimal(unscaled, scale);
            assert_eq!(got, want, "{unscaled} scale {scale}");
            assert!(is_json_number(&got), "{got}");
        }
    }

    #[test]
    fn dates() {
        let epoch = 1u32 << 31;
        assert_eq!(date(epoch), "1970-01-01");
        assert_eq!(date(epoch - 1), "1969-12-31");
        assert_eq!(date(epoch + 19_782), "2024-02-29");
        assert_eq!(date(epoch + 11_016), "2000-02-29");
        // The extremes of the wire range do not panic and stay ordered.
        assert_eq!(date(0), "-5877641-06-23");
        assert_eq!(date(u32::MAX), "5881580-07-11");
    }

    #[test]
    fn times() {
        assert_eq!(time(0), "00:00:00.000000000");
        assert_eq!(time(49_530_123_456_789), "13:45:30.123456789");
        assert_eq!(time(86_399_999_999_999), "23:59:59.999999999");
        assert_eq!(time(86_400_000_000_000), "86400000000000");
        assert_eq!(time(-1), "-1");
    }

    #[test]
    fn timestamps() {
        let t = 1_709_214_330_123; // 2024-02-29 13:45:30.123 UTC
        assert_eq!(
            timestamp(t, TimestampStyle::Iso),
            "2024-02-29T13:45:30.123Z"
        );
        assert_eq!(
            timestamp(t, TimestampStyle::Cqlsh),
            "2024-02-29 13:45:30.123000+0000"
        );
        assert_eq!(
            timestamp(-1, TimestampStyle::Iso),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            timestamp(0, TimestampStyle::Iso),
            "1970-01-01T00:00:00.000Z"
        );
        // No panic at the extremes.
        assert!(timestamp(i64::MIN, TimestampStyle::Iso).starts_with("-292275055-"));
        assert!(timestamp(i64::MAX, TimestampStyle::Iso).starts_with("292278994-"));
    }

    #[test]
    fn durations() {
        let nanos = ((5 * 3600 + 6 * 60 + 7) * 1_000_000_000) + 8_009_010;
        assert_eq!(duration(14, 25, nanos), "1y2mo25d5h6m7s8ms9us10ns");
        assert_eq!(duration(0, 0, 0), "0s");
        assert_eq!(duration(-1, 0, -1), "-1mo1ns");
        assert_eq!(duration(0, 0, 60_000_000_000), "1m");
        assert_eq!(
            duration(i32::MIN, i32::MIN, i64::MIN),
            "-178956970y8mo2147483648d2562047h47m16s854ms775us808ns"
        );
    }

    #[test]
    fn uuids() {
        let b = [
            0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44,
            0x00, 0x00,
        ];
        assert_eq!(uuid(&b), "550e8400-e29b-41d4-a716-446655440000");
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
        for v in [0.1, 1e300, -2.5, 5e-324, f64::MAX] {
            let parsed: f64 = serde_json::from_str(&double(v)).unwrap();
            assert_eq!(parsed, v);
        }
    }
}
