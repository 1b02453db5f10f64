//! Conversions to the big-number crates, behind the `num-bigint` and `bigdecimal` features.
//!
//! `Varint` and `Decimal` are already lossless (they keep the wire bytes); these conversions
//! are for callers who want arithmetic. Both directions are exact: a CQL varint is a
//! two's-complement big-endian integer (native_protocol_v4.spec §6.23), which is exactly
//! `BigInt::{from,to}_signed_bytes_be`.

use super::number::Varint;

impl From<&Varint> for num_bigint::BigInt {
    fn from(v: &Varint) -> Self {
        Self::from_signed_bytes_be(v.as_be_bytes())
    }
}

impl From<Varint> for num_bigint::BigInt {
    fn from(v: Varint) -> Self {
        Self::from(&v)
    }
}

impl From<&num_bigint::BigInt> for Varint {
    fn from(n: &num_bigint::BigInt) -> Self {
        Self::from_be_bytes(n.to_signed_bytes_be())
    }
}

impl From<num_bigint::BigInt> for Varint {
    fn from(n: num_bigint::BigInt) -> Self {
        Self::from(&n)
    }
}

#[cfg(feature = "bigdecimal")]
mod decimal {
    use super::super::number::{Decimal, Varint};

    impl From<&Decimal> for bigdecimal::BigDecimal {
        fn from(d: &Decimal) -> Self {
            Self::new(num_bigint::BigInt::from(&d.unscaled), i64::from(d.scale))
        }
    }

    impl From<Decimal> for bigdecimal::BigDecimal {
        fn from(d: Decimal) -> Self {
            Self::from(&d)
        }
    }

    /// A `BigDecimal` whose scale does not fit the `[int]` scale of a CQL decimal (§6.6).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ScaleOutOfRange(pub i64);

    impl std::fmt::Display for ScaleOutOfRange {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "decimal scale {} does not fit a CQL [int] scale", self.0)
        }
    }

    impl std::error::Error for ScaleOutOfRange {}

    impl TryFrom<&bigdecimal::BigDecimal> for Decimal {
        type Error = ScaleOutOfRange;

        fn try_from(d: &bigdecimal::BigDecimal) -> Result<Self, Self::Error> {
            let (unscaled, scale) = d.as_bigint_and_exponent();
            let scale = i32::try_from(scale).map_err(|_| ScaleOutOfRange(scale))?;
            Ok(Self::new(Varint::from(unscaled), scale))
        }
    }
}

#[cfg(feature = "bigdecimal")]
pub use decimal::ScaleOutOfRange;

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use std::str::FromStr;

    #[test]
    fn varint_matches_bigint_beyond_i128() {
        let text = "-340282366920938463463374607431768211457123456789";
        let v = Varint::from_str(text).unwrap();
        let n = BigInt::from(&v);
        assert_eq!(n.to_string(), text);
        assert_eq!(Varint::from(&n).as_be_bytes(), v.as_be_bytes());
        assert_eq!(Varint::from(&n).to_string(), text);
    }

    #[test]
    fn varint_small_values_two_complement() {
        for i in [-129i64, -128, -1, 0, 1, 127, 128, 255, 256] {
            let n = BigInt::from(i);
            let v = Varint::from(&n);
            assert_eq!(v.to_i128(), Some(i128::from(i)), "{i}");
            assert_eq!(BigInt::from(&v), n);
        }
    }

    #[cfg(feature = "bigdecimal")]
    #[test]
    fn decimal_round_trips_through_bigdecimal() {
        use super::super::number::Decimal;
        for text in [
            "0",
            "-1.5",
            "123456789012345678901234567890.000001",
            "1E+5",
            "-0.00042",
        ] {
            let d = Decimal::from_str(text).unwrap();
            let b = bigdecimal::BigDecimal::from(&d);
            assert_eq!(b, bigdecimal::BigDecimal::from_str(text).unwrap(), "{text}");
            let back = Decimal::try_from(&b).unwrap();
            assert_eq!(back.scale, d.scale, "{text}");
            assert_eq!(back.unscaled.to_string(), d.unscaled.to_string(), "{text}");
        }
        let huge = bigdecimal::BigDecimal::new(BigInt::from(1), i64::from(i32::MAX) + 1);
        assert!(Decimal::try_from(&huge).is_err());
    }
}
