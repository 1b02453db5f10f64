//! CQL values (§6) of a given column type, and column types with a value.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use arbitrary::{Arbitrary, Result, Unstructured};
use cql4_frame::types::ColumnType;
use cql4_frame::value::{CqlDate, CqlDuration, CqlTime, CqlTimestamp, CqlValue, Decimal, Varint};

use super::types::column_type;

/// Elements a generated list, set or map holds at most.
const MAX_ELEMENTS: usize = 3;

/// A column type and a non-null value of it.
pub fn typed_value(u: &mut Unstructured<'_>) -> Result<(ColumnType, CqlValue)> {
    let ty = column_type(u)?;
    let v = value(u, &ty)?;
    Ok((ty, v))
}

/// A cell of type `ty`: null or a value, even odds.
pub fn cell(u: &mut Unstructured<'_>, ty: &ColumnType) -> Result<Option<CqlValue>> {
    Ok(if u.arbitrary()? {
        Some(value(u, ty)?)
    } else {
        None
    })
}

/// A non-null value of type `ty`, any type: every bit pattern of the fixed-size types (floats
/// but NaN, which equals nothing), varints past `i128` and in non-minimal encodings, tuples
/// and UDT values cut short (trailing elements missing, §6.17 and §6.18), and the legacy empty
/// value one time in ten for the types where it is not the natural empty value.
pub fn value(u: &mut Unstructured<'_>, ty: &ColumnType) -> Result<CqlValue> {
    if !ty.empty_is_natural() && u.ratio(1, 10)? {
        return Ok(CqlValue::Empty);
    }
    Ok(match ty {
        ColumnType::Custom(_) => CqlValue::Custom(Vec::arbitrary(u)?),
        ColumnType::Ascii => {
            let n = u.int_in_range(0..=12)?;
            let mut s = String::new();
            for _ in 0..n {
                s.push(char::from(b' ' + u.int_in_range(0..=94u8)?));
            }
            CqlValue::Ascii(s)
        }
        ColumnType::Text => CqlValue::Text(String::arbitrary(u)?),
        ColumnType::Blob => CqlValue::Blob(Vec::arbitrary(u)?),
        ColumnType::BigInt => CqlValue::BigInt(u.arbitrary()?),
        ColumnType::Counter => CqlValue::Counter(u.arbitrary()?),
        ColumnType::Boolean => CqlValue::Boolean(u.arbitrary()?),
        ColumnType::Decimal => CqlValue::Decimal(Decimal {
            scale: u.arbitrary()?,
            unscaled: varint(u)?,
        }),
        ColumnType::Double => CqlValue::Double(double(u)?),
        ColumnType::Float => CqlValue::Float(float(u)?),
        ColumnType::Int => CqlValue::Int(u.arbitrary()?),
        ColumnType::Timestamp => CqlValue::Timestamp(CqlTimestamp(u.arbitrary()?)),
        ColumnType::Uuid => CqlValue::Uuid(u.arbitrary()?),
        ColumnType::Timeuuid => CqlValue::Timeuuid(u.arbitrary()?),
        ColumnType::Varint => CqlValue::Varint(varint(u)?),
        ColumnType::Inet => CqlValue::Inet(if u.arbitrary()? {
            IpAddr::V4(Ipv4Addr::from(u.arbitrary::<[u8; 4]>()?))
        } else {
            IpAddr::V6(Ipv6Addr::from(u.arbitrary::<[u8; 16]>()?))
        }),
        ColumnType::Date => CqlValue::Date(CqlDate(u.arbitrary()?)),
        ColumnType::Time => {
            let nanos = u.int_in_range(0..=CqlTime::MAX_NANOS)?;
            CqlValue::Time(CqlTime::from_nanos(nanos).ok_or(arbitrary::Error::IncorrectFormat)?)
        }
        ColumnType::SmallInt => CqlValue::SmallInt(u.arbitrary()?),
        ColumnType::TinyInt => CqlValue::TinyInt(u.arbitrary()?),
        ColumnType::Duration => CqlValue::Duration(CqlDuration {
            months: u.arbitrary()?,
            days: u.arbitrary()?,
            nanos: u.arbitrary()?,
        }),
        ColumnType::List(e) => CqlValue::List(elements(u, |u| value(u, e))?),
        ColumnType::Set(e) => CqlValue::Set(elements(u, |u| value(u, e))?),
        ColumnType::Map(k, v) => CqlValue::Map(elements(u, |u| Ok((value(u, k)?, value(u, v)?)))?),
        ColumnType::Tuple(types) => {
            let mut items = types
                .iter()
                .map(|t| cell(u, t))
                .collect::<Result<Vec<_>>>()?;
            items.truncate(u.int_in_range(0..=types.len())?);
            CqlValue::Tuple(items)
        }
        ColumnType::Udt(udt) => {
            let mut fields = udt
                .fields
                .iter()
                .map(|(n, t)| Ok((n.clone(), cell(u, t)?)))
                .collect::<Result<Vec<_>>>()?;
            fields.truncate(u.int_in_range(0..=udt.fields.len())?);
            // A type with two fields of one name (never declared by Cassandra) would make the
            // value ambiguous; the first one wins.
            let mut seen = std::collections::HashSet::new();
            fields.retain(|(n, _)| seen.insert(n.clone()));
            CqlValue::Udt(fields)
        }
        // A type this generator does not know yet: its raw bytes.
        _ => CqlValue::Custom(Vec::arbitrary(u)?),
    })
}

fn elements<T>(
    u: &mut Unstructured<'_>,
    mut element: impl FnMut(&mut Unstructured<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let n = u.int_in_range(0..=MAX_ELEMENTS)?;
    (0..n).map(|_| element(u)).collect()
}

/// Any `i128`, or any 1 to 23 bytes (non-minimal encodings and numbers past `i128` included).
fn varint(u: &mut Unstructured<'_>) -> Result<Varint> {
    Ok(if u.arbitrary()? {
        Varint::from_i128(u.arbitrary()?)
    } else {
        let n = u.int_in_range(1..=23)?;
        let mut be = Vec::with_capacity(n);
        for _ in 0..n {
            be.push(u.arbitrary()?);
        }
        Varint::from_be_bytes(be)
    })
}

/// Any `f64` but NaN; zeros, infinities and subnormals are picked on purpose (random bit
/// patterns almost never hit them).
fn double(u: &mut Unstructured<'_>) -> Result<f64> {
    let bits: u64 = u.arbitrary()?;
    let sign = bits & (1 << 63);
    Ok(match u.int_in_range(0..=3u8)? {
        0 => f64::from_bits(sign),
        1 => f64::from_bits(sign | f64::INFINITY.to_bits()),
        2 => f64::from_bits(bits & !(0x7ff << 52)),
        _ if f64::from_bits(bits).is_nan() => f64::from_bits(sign | f64::INFINITY.to_bits()),
        _ => f64::from_bits(bits),
    })
}

/// Any `f32` but NaN (see [`double`]).
fn float(u: &mut Unstructured<'_>) -> Result<f32> {
    let bits: u32 = u.arbitrary()?;
    let sign = bits & (1 << 31);
    Ok(match u.int_in_range(0..=3u8)? {
        0 => f32::from_bits(sign),
        1 => f32::from_bits(sign | f32::INFINITY.to_bits()),
        2 => f32::from_bits(bits & !(0xff << 23)),
        _ if f32::from_bits(bits).is_nan() => f32::from_bits(sign | f32::INFINITY.to_bits()),
        _ => f32::from_bits(bits),
    })
}
