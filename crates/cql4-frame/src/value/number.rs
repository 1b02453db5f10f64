//! Arbitrary-precision `varint` and `decimal` (native_protocol_v4.spec §6.23, §6.6), kept as
//! their wire bytes so that no value is rounded, with exact decimal string conversion.

use std::fmt;
use std::str::FromStr;

/// Magnitudes longer than this many bytes are shown in hexadecimal by `Display`: the decimal
/// conversion is quadratic, and a hostile 256 MiB varint must not hang a log line.
const MAX_DECIMAL_DISPLAY_BYTES: usize = 16 * 1024;

/// A CQL `varint`: a two's complement big-endian integer of any length
/// (native_protocol_v4.spec §6.23).
///
/// The bytes are kept as received; equality compares bytes, so a non-minimal encoding
/// (`00 01`) differs from the minimal one (`01`). [`Varint::normalized`] gives the minimal one.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Varint(Vec<u8>);

/// A parse failure for [`Varint`] or [`Decimal`] from a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseNumberError;

impl fmt::Display for ParseNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a decimal number")
    }
}

impl std::error::Error for ParseNumberError {}

impl Varint {
    /// A varint from its two's complement big-endian bytes (empty means zero).
    pub fn from_be_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The two's complement big-endian bytes, as received or built.
    pub fn as_be_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Consumes the varint, returning its bytes.
    pub fn into_be_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The minimal encoding of `n`, as the spec's examples show (128 is `00 80`).
    pub fn from_i128(n: i128) -> Self {
        Self(minimal(&n.to_be_bytes()).to_vec())
    }

    /// The value as an `i128`, if it fits.
    pub fn to_i128(&self) -> Option<i128> {
        let bytes = minimal(&self.0);
        if bytes.len() > 16 {
            return None;
        }
        let fill = if self.is_negative() { 0xff } else { 0x00 };
        let mut buf = [fill; 16];
        buf.get_mut(16 - bytes.len()..)?.copy_from_slice(bytes);
        Some(i128::from_be_bytes(buf))
    }

    /// True below zero.
    pub fn is_negative(&self) -> bool {
        self.0.first().is_some_and(|b| b & 0x80 != 0)
    }

    /// The same number with redundant leading sign bytes removed.
    #[must_use]
    pub fn normalized(&self) -> Self {
        Self(minimal(&self.0).to_vec())
    }

    /// Sign and big-endian magnitude (without leading zeros).
    fn magnitude(&self) -> (bool, Vec<u8>) {
        let negative = self.is_negative();
        let mut mag = self.0.clone();
        if negative {
            negate(&mut mag);
        }
        let skip = mag.iter().take_while(|b| **b == 0).count();
        mag.drain(..skip);
        (negative, mag)
    }

    /// Builds the two's complement bytes of a signed magnitude.
    fn from_magnitude(negative: bool, magnitude: &[u8]) -> Self {
        let mut bytes = Vec::with_capacity(magnitude.len() + 1);
        bytes.push(0);
        bytes.extend_from_slice(magnitude);
        if negative {
            negate(&mut bytes);
        }
        Self(minimal(&bytes).to_vec())
    }

    /// Decimal digits of the magnitude (no sign), most significant first.
    fn magnitude_digits(magnitude: &[u8]) -> String {
        // Repeated division of the base-256 magnitude by 10^9; each remainder is nine digits.
        let mut work: Vec<u8> = magnitude.to_vec();
        let mut chunks: Vec<u32> = Vec::new();
        while work.iter().any(|b| *b != 0) {
            let mut rem: u64 = 0;
            for b in work.iter_mut() {
                let cur = (rem << 8) | u64::from(*b);
                *b = u8::try_from(cur / 1_000_000_000).unwrap_or(u8::MAX);
                rem = cur % 1_000_000_000;
            }
            chunks.push(u32::try_from(rem).unwrap_or(0));
            let skip = work.iter().take_while(|b| **b == 0).count();
            work.drain(..skip);
        }
        let mut out = String::with_capacity(chunks.len() * 9 + 1);
        match chunks.split_last() {
            None => out.push('0'),
            Some((top, rest)) => {
                out.push_str(&top.to_string());
                for chunk in rest.iter().rev() {
                    out.push_str(&format!("{chunk:09}"));
                }
            }
        }
        out
    }

    /// Sign and decimal digits, or `None` when the number is too long to convert cheaply.
    fn sign_and_digits(&self) -> Option<(bool, String)> {
        let (negative, mag) = self.magnitude();
        (mag.len() <= MAX_DECIMAL_DISPLAY_BYTES).then(|| (negative, Self::magnitude_digits(&mag)))
    }
}

/// Strips redundant leading sign bytes from two's complement bytes (keeping at least one).
fn minimal(bytes: &[u8]) -> &[u8] {
    let mut b = bytes;
    while let [first, second, ..] = b {
        let redundant =
            (*first == 0x00 && second & 0x80 == 0) || (*first == 0xff && second & 0x80 != 0);
        if !redundant {
            break;
        }
        b = b.get(1..).unwrap_or_default();
    }
    b
}

/// Two's complement negation in place (invert, add one).
fn negate(bytes: &mut [u8]) {
    let mut carry = true;
    for b in bytes.iter_mut().rev() {
        let (v, c) = (!*b).overflowing_add(u8::from(carry));
        *b = v;
        carry = c;
    }
}

impl From<i128> for Varint {
    fn from(n: i128) -> Self {
        Self::from_i128(n)
    }
}

macro_rules! varint_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Varint {
            fn from(n: $t) -> Self {
                Self::from_i128(n.into())
            }
        }
    )*};
}

varint_from!(i8, i16, i32, i64, u8, u16, u32, u64);

impl fmt::Display for Varint {
    /// Exact decimal digits; magnitudes over 16 KiB are written as `0x` + two's complement hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sign_and_digits() {
            Some((negative, digits)) => {
                if negative {
                    f.write_str("-")?;
                }
                f.write_str(&digits)
            }
            None => {
                f.write_str("0x")?;
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

impl fmt::Debug for Varint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Varint({self})")
    }
}

impl FromStr for Varint {
    type Err = ParseNumberError;

    /// Parses an optionally signed string of decimal digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (negative, digits) = match s.as_bytes() {
            [b'-', rest @ ..] => (true, rest),
            [b'+', rest @ ..] => (false, rest),
            rest => (false, rest),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(ParseNumberError);
        }
        Ok(Self::from_magnitude(negative, &digits_to_magnitude(digits)))
    }
}

/// Big-endian base-256 magnitude of ASCII decimal digits (multiply-add by 10^9 per chunk).
fn digits_to_magnitude(digits: &[u8]) -> Vec<u8> {
    // Little-endian base-256 accumulator.
    let mut acc: Vec<u8> = Vec::new();
    let first = digits.len() % 9;
    let mut chunks: Vec<&[u8]> = Vec::new();
    if first > 0 {
        chunks.push(digits.get(..first).unwrap_or_default());
    }
    chunks.extend(digits.get(first..).unwrap_or_default().chunks(9));
    for chunk in chunks {
        let mut mul: u64 = 1;
        let mut add: u64 = 0;
        for d in chunk {
            mul *= 10;
            add = add * 10 + u64::from(d - b'0');
        }
        let mut carry = add;
        for b in acc.iter_mut() {
            let cur = u64::from(*b) * mul + carry;
            *b = (cur & 0xff) as u8;
            carry = cur >> 8;
        }
        while carry > 0 {
            acc.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    acc.reverse();
    acc
}

/// A CQL `decimal`: `unscaled × 10^(-scale)` (native_protocol_v4.spec §6.6), exact.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Decimal {
    /// The power of ten the unscaled value is divided by.
    pub scale: i32,
    /// The unscaled integer.
    pub unscaled: Varint,
}

impl Decimal {
    /// `unscaled × 10^(-scale)`.
    pub fn new(unscaled: impl Into<Varint>, scale: i32) -> Self {
        Self {
            scale,
            unscaled: unscaled.into(),
        }
    }
}

impl fmt::Display for Decimal {
    /// The "to-scientific-string" form that Java's `BigDecimal.toString` and Python's
    /// `str(Decimal)` both use: plain when `scale >= 0` and the adjusted exponent is at least
    /// -6, otherwise `d.dddE±n`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((negative, digits)) = self.unscaled.sign_and_digits() else {
            return write!(f, "{}E{}", self.unscaled, -i64::from(self.scale));
        };
        if negative {
            f.write_str("-")?;
        }
        let len = i64::try_from(digits.len()).unwrap_or(i64::MAX);
        let scale = i64::from(self.scale);
        let adjusted = -scale + (len - 1);
        if scale >= 0 && adjusted >= -6 {
            if scale == 0 {
                return f.write_str(&digits);
            }
            if len > scale {
                let (int, frac) = digits.split_at(usize::try_from(len - scale).unwrap_or(0));
                write!(f, "{int}.{frac}")
            } else {
                f.write_str("0.")?;
                for _ in 0..(scale - len) {
                    f.write_str("0")?;
                }
                f.write_str(&digits)
            }
        } else {
            let (first, rest) = digits.split_at(1);
            f.write_str(first)?;
            if !rest.is_empty() {
                write!(f, ".{rest}")?;
            }
            if adjusted > 0 {
                write!(f, "E+{adjusted}")
            } else {
                write!(f, "E{adjusted}")
            }
        }
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({self})")
    }
}

impl FromStr for Decimal {
    type Err = ParseNumberError;

    /// Parses `[-+]digits[.digits][(e|E)[-+]digits]`, keeping every digit.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (mantissa, exponent) = match s.find(['e', 'E']) {
            Some(i) => {
                let (m, e) = s.split_at(i);
                let e = e.get(1..).ok_or(ParseNumberError)?;
                (m, e.parse::<i64>().map_err(|_| ParseNumberError)?)
            }
            None => (s, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseNumberError);
        }
        let unscaled: Varint = format!("{int}{frac}").parse()?;
        let frac_len = i64::try_from(frac.len()).map_err(|_| ParseNumberError)?;
        let scale = i32::try_from(frac_len - exponent).map_err(|_| ParseNumberError)?;
        Ok(Self { scale, unscaled })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_spec_examples() {
        // native_protocol_v4.spec §6.23 table.
        for (n, bytes) in [
            (0i128, &[0x00][..]),
            (1, &[0x01]),
            (127, &[0x7F]),
            (128, &[0x00, 0x80]),
            (129, &[0x00, 0x81]),
            (-1, &[0xFF]),
            (-128, &[0x80]),
            (-129, &[0xFF, 0x7F]),
        ] {
            let v = Varint::from_i128(n);
            assert_eq!(v.as_be_bytes(), bytes, "{n}");
            assert_eq!(v.to_i128(), Some(n));
            assert_eq!(v.to_string(), n.to_string());
            assert_eq!(n.to_string().parse::<Varint>().unwrap(), v);
        }
    }

    #[test]
    fn varint_i128_extremes_and_beyond() {
        for n in [i128::MAX, i128::MIN, i128::MAX - 1, i128::MIN + 1] {
            let v = Varint::from_i128(n);
            assert_eq!(v.as_be_bytes().len(), 16);
            assert_eq!(v.to_i128(), Some(n));
            assert_eq!(v.to_string(), n.to_string());
            assert_eq!(n.to_string().parse::<Varint>().unwrap(), v);
        }
        // 2^127 = i128::MAX + 1 needs 17 bytes: 00 80 00 .. 00.
        let mut bytes = vec![0x00, 0x80];
        bytes.extend([0u8; 15]);
        let big = Varint::from_be_bytes(bytes);
        assert_eq!(big.to_i128(), None);
        assert_eq!(big.to_string(), "170141183460469231731687303715884105728");
        assert_eq!(
            "170141183460469231731687303715884105728"
                .parse::<Varint>()
                .unwrap(),
            big
        );
        // -(2^127) - 1 is FF 7F FF .. FF.
        let mut bytes = vec![0xFF, 0x7F];
        bytes.extend([0xFFu8; 15]);
        let small = Varint::from_be_bytes(bytes);
        assert_eq!(
            small.to_string(),
            "-170141183460469231731687303715884105729"
        );
        assert_eq!(
            "-170141183460469231731687303715884105729"
                .parse::<Varint>()
                .unwrap(),
            small
        );
        // 10^40.
        let ten40: Varint = format!("1{}", "0".repeat(40)).parse().unwrap();
        assert_eq!(ten40.to_string(), format!("1{}", "0".repeat(40)));
    }

    #[test]
    fn varint_non_minimal_and_empty() {
        let v = Varint::from_be_bytes(vec![0x00, 0x00, 0x01]);
        assert_eq!(v.to_i128(), Some(1));
        assert_ne!(v, Varint::from_i128(1));
        assert_eq!(v.normalized(), Varint::from_i128(1));
        let v = Varint::from_be_bytes(vec![0xFF, 0xFF, 0xFF]);
        assert_eq!(v.to_i128(), Some(-1));
        assert_eq!(Varint::default().to_i128(), Some(0));
        assert_eq!(Varint::default().to_string(), "0");
        assert!("".parse::<Varint>().is_err());
        assert!("1a".parse::<Varint>().is_err());
        assert!("-".parse::<Varint>().is_err());
    }

    #[test]
    fn huge_varint_display_is_hex_not_slow() {
        let v = Varint::from_be_bytes(vec![0x7f; MAX_DECIMAL_DISPLAY_BYTES + 1]);
        let s = v.to_string();
        assert!(s.starts_with("0x7f7f"));
        assert_eq!(s.len(), 2 + 2 * (MAX_DECIMAL_DISPLAY_BYTES + 1));
    }

    #[test]
    fn decimal_to_string_matches_java_big_decimal() {
        for (unscaled, scale, text) in [
            (0i128, 0, "0"),
            (0, 2, "0.00"),
            (0, -3, "0E+3"),
            (0, 10, "0E-10"),
            (12345, 2, "123.45"),
            (-12345, 2, "-123.45"),
            (1, 3, "0.001"),
            (1, 6, "0.000001"),
            (1, 7, "1E-7"),
            (123, 10, "1.23E-8"),
            (1, -3, "1E+3"),
            (-123, -2, "-1.23E+4"),
            (i128::MAX, 38, "1.70141183460469231731687303715884105727"),
        ] {
            let d = Decimal::new(unscaled, scale);
            assert_eq!(d.to_string(), text, "{unscaled} scale {scale}");
            let back: Decimal = text.parse().unwrap();
            assert_eq!(back.to_string(), text);
        }
        let d: Decimal = "1.5e-7".parse().unwrap();
        assert_eq!((d.scale, d.unscaled.to_i128()), (8, Some(15)));
        assert!("1.2.3".parse::<Decimal>().is_err());
        assert!("e5".parse::<Decimal>().is_err());
    }
}
