//! CQL values both ways (native_protocol_v4.spec §6 serialization formats, §7 UDTs).
//!
//! - [`CqlValue`] is the owned form of any value, with [`CqlValue::deserialize`] and
//!   [`CqlValue::serialize`] driven by a [`ColumnType`].
//! - [`FromCql`] reads Rust types from a cell, borrowing `&str` / `&[u8]` from the frame;
//!   [`ToCql`] writes them for bound variables ([`write_value`] adds the `[value]` length).
//! - `varint` and `decimal` are lossless ([`Varint`], [`Decimal`]); dates and times keep their
//!   raw numbers ([`CqlDate`], [`CqlTime`], [`CqlTimestamp`], [`CqlDuration`]).
//!
//! An empty (zero-length) value is legal for most types (§6: "most non-string types support
//! 'empty' values … distinct from NULL") and decodes as [`CqlValue::Empty`] for every type
//! whose natural encoding is not itself empty.

#[cfg(feature = "num-bigint")]
mod bignum;
mod convert;
mod lazy;
mod number;
mod temporal;
pub mod udt;
mod unset;

use std::fmt;
use std::net::IpAddr;

#[cfg(feature = "bigdecimal")]
pub use self::bignum::ScaleOutOfRange;
pub(crate) use self::convert::write_value_or_unset;
pub use self::convert::{write_element, write_value, FromCql, IsNull, ToCql};
pub use self::lazy::{ListIter, MapIter};
pub use self::number::{Decimal, ParseNumberError, Varint};
pub use self::temporal::{CqlDate, CqlDuration, CqlTime, CqlTimestamp};
pub use self::unset::Unset;
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use crate::limits::DecodeLimits;
use crate::reader::Reader;
use crate::types::ColumnType;
use crate::writer::Writer;

/// An owned CQL value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CqlValue {
    /// `ascii` (§6.1).
    Ascii(String),
    /// `bigint` (§6.2).
    BigInt(i64),
    /// `blob` (§6.3).
    Blob(Vec<u8>),
    /// `boolean` (§6.4).
    Boolean(bool),
    /// `counter` (a bigint).
    Counter(i64),
    /// `decimal` (§6.6).
    Decimal(Decimal),
    /// `double` (§6.7).
    Double(f64),
    /// `float` (§6.8).
    Float(f32),
    /// `int` (§6.10).
    Int(i32),
    /// `timestamp` (§6.17).
    Timestamp(CqlTimestamp),
    /// `uuid` (§6.21).
    Uuid([u8; 16]),
    /// `text` / `varchar` (§6.15).
    Text(String),
    /// `varint` (§6.23).
    Varint(Varint),
    /// `timeuuid` (§6.18).
    Timeuuid([u8; 16]),
    /// `inet` (§6.9).
    Inet(IpAddr),
    /// `date` (§6.5).
    Date(CqlDate),
    /// `time` (§6.16).
    Time(CqlTime),
    /// `smallint` (§6.14).
    SmallInt(i16),
    /// `tinyint` (§6.19).
    TinyInt(i8),
    /// `duration`.
    Duration(CqlDuration),
    /// `list<T>` (§6.11).
    List(Vec<Self>),
    /// `set<T>` (§6.13), in wire order.
    Set(Vec<Self>),
    /// `map<K, V>` (§6.12): pairs in wire order.
    Map(Vec<(Self, Self)>),
    /// A user-defined type value (§7): named fields in declaration order. It may hold fewer
    /// fields than the type declares; missing trailing fields are null.
    Udt(Vec<(String, Option<Self>)>),
    /// `tuple<…>` (§6.20): elements, `None` for null.
    Tuple(Vec<Option<Self>>),
    /// A value of a custom type this codec does not know: its bytes.
    Custom(Vec<u8>),
    /// The legacy empty value (zero bytes) of a type whose natural encoding is not empty.
    Empty,
}

/// Context of value decoding errors; the path inside the value is in
/// [`DecodeErrorKind::InValue`].
const WHAT: &str = "CQL value";

fn err(kind: DecodeErrorKind, offset: usize) -> DecodeError {
    DecodeError::new(kind, WHAT, offset)
}

/// Wraps an error from inside element `what` of a value of type `ty`, starting at `base` in
/// the outer value: the path grows outermost first and the offset becomes outer-relative.
#[cold]
pub(crate) fn nest(e: DecodeError, ty: &ColumnType, what: Path<'_>, base: usize) -> DecodeError {
    let here = format!("{ty} {what}");
    let kind = match e.kind().clone() {
        DecodeErrorKind::InValue { path, cause } => DecodeErrorKind::InValue {
            path: format!("{here} / {path}"),
            cause,
        },
        other => DecodeErrorKind::InValue {
            path: here,
            cause: Box::new(other),
        },
    };
    DecodeError::new(kind, e.context(), e.offset().saturating_add(base))
}

/// Where an element sits inside its enclosing value, for error paths.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path<'a> {
    /// A list, set or tuple element.
    Element(usize),
    /// A map entry's key or value.
    Entry(usize, &'static str),
    /// A UDT field.
    Field(&'a str),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Element(i) => write!(f, "element {i}"),
            Self::Entry(i, what) => write!(f, "entry {i} {what}"),
            Self::Field(name) => write!(f, "field {name}"),
        }
    }
}

/// Exactly `N` bytes of a fixed-size type.
#[inline]
pub(crate) fn fixed<const N: usize>(bytes: &[u8], what: &'static str) -> DecodeResult<[u8; N]> {
    bytes
        .try_into()
        .map_err(|_| err(DecodeErrorKind::Invalid(what), 0))
}

/// Validates `time` (§6.16: "Valid values are in the range 0 to 86399999999999").
pub(crate) fn decode_time(bytes: &[u8]) -> DecodeResult<CqlTime> {
    let n = i64::from_be_bytes(fixed(bytes, "time value is not 8 bytes")?);
    CqlTime::from_nanos(n).ok_or_else(|| {
        err(
            DecodeErrorKind::Invalid("time value outside 0..=86399999999999 ns"),
            0,
        )
    })
}

/// `inet` (§6.9): 4 or 16 bytes.
pub(crate) fn decode_inet(bytes: &[u8]) -> DecodeResult<IpAddr> {
    if let Ok(b) = <[u8; 4]>::try_from(bytes) {
        Ok(IpAddr::from(b))
    } else if let Ok(b) = <[u8; 16]>::try_from(bytes) {
        Ok(IpAddr::from(b))
    } else {
        Err(err(
            DecodeErrorKind::Invalid("inet value is neither 4 nor 16 bytes"),
            0,
        ))
    }
}

/// `ascii` (§6.1): "Bytes with values outside of this range will result in a validation
/// error."
#[inline]
pub(crate) fn decode_ascii(bytes: &[u8]) -> DecodeResult<&str> {
    ascii_str(bytes).ok_or_else(|| {
        let at = bytes.iter().position(|b| !b.is_ascii()).unwrap_or(0);
        err(DecodeErrorKind::InvalidAscii, at)
    })
}

#[inline]
pub(crate) fn decode_text(bytes: &[u8]) -> DecodeResult<&str> {
    match ascii_str(bytes) {
        Some(text) => Ok(text),
        None => std::str::from_utf8(bytes)
            .map_err(|e| err(DecodeErrorKind::InvalidUtf8, e.valid_up_to())),
    }
}

/// `bytes` as a `&str` if every byte is ASCII, checked a word at a time (`<[u8]>::is_ascii`).
///
/// The one `unsafe` of the crate, for a measured gain: `str::from_utf8` walks a short string
/// byte by byte (its word-at-a-time path starts at 16 bytes), and text cells are short and
/// nearly always ASCII. On the 5,000-row (int, text, blob) page read into a derived struct it
/// was 19 % of the time; this check costs a few instructions per cell.
#[allow(unsafe_code)]
#[inline]
fn ascii_str(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: every byte is below 0x80, and a sequence of ASCII bytes is valid UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        None
    }
}

/// `decimal` (§6.6): an `[int]` scale then a non-empty varint.
pub(crate) fn decode_decimal(bytes: &[u8]) -> DecodeResult<Decimal> {
    let mut r = Reader::new(bytes);
    let scale = r
        .i32("decimal scale")
        .map_err(|e| err(e.kind().clone(), e.offset()))?;
    if r.is_empty() {
        return Err(err(
            DecodeErrorKind::Invalid("decimal has no unscaled value"),
            4,
        ));
    }
    Ok(Decimal {
        scale,
        unscaled: Varint::from_be_bytes(r.rest().to_vec()),
    })
}

/// `duration`: three `[vint]`s, months and days within `i32`.
pub(crate) fn decode_duration(bytes: &[u8]) -> DecodeResult<CqlDuration> {
    let mut r = Reader::new(bytes);
    let mut int = |what: &'static str| -> DecodeResult<i64> {
        r.vint(what).map_err(|e| err(e.kind().clone(), e.offset()))
    };
    let months = int("duration months")?;
    let days = int("duration days")?;
    let nanos = int("duration nanoseconds")?;
    let range = |n: i64| {
        i32::try_from(n).map_err(|_| {
            err(
                DecodeErrorKind::Invalid("duration months or days outside i32"),
                0,
            )
        })
    };
    let d = CqlDuration {
        months: range(months)?,
        days: range(days)?,
        nanos,
    };
    r.expect_end(WHAT)
        .map_err(|e| err(e.kind().clone(), e.offset()))?;
    Ok(d)
}

/// A collection's `[int]` element count (§6.11-6.13), which must be non-negative.
#[inline]
pub(crate) fn collection_count(r: &mut Reader<'_>) -> DecodeResult<usize> {
    r.count("collection element count")
        .map_err(|e| err(e.kind().clone(), e.offset()))
}

/// One `[bytes]` element of a collection, tuple or UDT: its offset and bytes (`None`: null).
#[inline]
pub(crate) fn element<'a>(r: &mut Reader<'a>) -> DecodeResult<(usize, Option<&'a [u8]>)> {
    let at = r.position();
    let bytes = r
        .bytes("element")
        .map_err(|e| err(e.kind().clone(), e.offset()))?;
    Ok((at + 4, bytes))
}

#[inline]
pub(crate) fn expect_end(r: &Reader<'_>) -> DecodeResult<()> {
    r.expect_end(WHAT)
        .map_err(|e| err(e.kind().clone(), e.offset()))
}

impl CqlValue {
    /// Decodes the serialized bytes of a non-null value of type `ty` (§6). Nested values
    /// recurse at most `limits.max_type_depth` levels.
    pub fn deserialize(bytes: &[u8], ty: &ColumnType, limits: &DecodeLimits) -> DecodeResult<Self> {
        Self::deserialize_at(bytes, ty, limits.max_type_depth, 0)
    }

    fn deserialize_at(
        bytes: &[u8],
        ty: &ColumnType,
        max: usize,
        depth: usize,
    ) -> DecodeResult<Self> {
        if depth >= max {
            return Err(err(DecodeErrorKind::TooDeep { limit: max }, 0));
        }
        if bytes.is_empty() && !ty.empty_is_natural() {
            return Ok(Self::Empty);
        }
        let v = match ty {
            // Scalars: each format is read by its Rust type's `FromCql`.
            ColumnType::Custom(_) => Self::Custom(bytes.to_vec()),
            ColumnType::Ascii => Self::Ascii(<&str>::from_cql(ty, Some(bytes))?.to_owned()),
            ColumnType::Text => Self::Text(<&str>::from_cql(ty, Some(bytes))?.to_owned()),
            ColumnType::Blob => Self::Blob(bytes.to_vec()),
            ColumnType::BigInt => Self::BigInt(i64::from_cql(ty, Some(bytes))?),
            ColumnType::Counter => Self::Counter(i64::from_cql(ty, Some(bytes))?),
            ColumnType::Boolean => Self::Boolean(bool::from_cql(ty, Some(bytes))?),
            ColumnType::Decimal => Self::Decimal(Decimal::from_cql(ty, Some(bytes))?),
            ColumnType::Double => Self::Double(f64::from_cql(ty, Some(bytes))?),
            ColumnType::Float => Self::Float(f32::from_cql(ty, Some(bytes))?),
            ColumnType::Int => Self::Int(i32::from_cql(ty, Some(bytes))?),
            ColumnType::Timestamp => Self::Timestamp(CqlTimestamp::from_cql(ty, Some(bytes))?),
            ColumnType::Uuid => Self::Uuid(<[u8; 16]>::from_cql(ty, Some(bytes))?),
            ColumnType::Timeuuid => Self::Timeuuid(<[u8; 16]>::from_cql(ty, Some(bytes))?),
            ColumnType::Varint => Self::Varint(Varint::from_cql(ty, Some(bytes))?),
            ColumnType::Inet => Self::Inet(IpAddr::from_cql(ty, Some(bytes))?),
            ColumnType::Date => Self::Date(CqlDate::from_cql(ty, Some(bytes))?),
            ColumnType::Time => Self::Time(CqlTime::from_cql(ty, Some(bytes))?),
            ColumnType::SmallInt => Self::SmallInt(i16::from_cql(ty, Some(bytes))?),
            ColumnType::TinyInt => Self::TinyInt(i8::from_cql(ty, Some(bytes))?),
            ColumnType::Duration => Self::Duration(CqlDuration::from_cql(ty, Some(bytes))?),
            ColumnType::List(elem) | ColumnType::Set(elem) => {
                let mut r = Reader::new(bytes);
                let n = collection_count(&mut r)?;
                let mut out = Vec::with_capacity(r.capacity_for(n, 4));
                for i in 0..n {
                    let (at, raw) =
                        element(&mut r).map_err(|e| nest(e, ty, Path::Element(i), 0))?;
                    let raw = raw.ok_or_else(|| {
                        nest(
                            err(DecodeErrorKind::UnexpectedNull, 0),
                            ty,
                            Path::Element(i),
                            at,
                        )
                    })?;
                    out.push(
                        Self::deserialize_at(raw, elem, max, depth + 1)
                            .map_err(|e| nest(e, ty, Path::Element(i), at))?,
                    );
                }
                expect_end(&r)?;
                if matches!(ty, ColumnType::Set(_)) {
                    Self::Set(out)
                } else {
                    Self::List(out)
                }
            }
            ColumnType::Map(key_ty, value_ty) => {
                let mut r = Reader::new(bytes);
                let n = collection_count(&mut r)?;
                let mut out = Vec::with_capacity(r.capacity_for(n, 8));
                for i in 0..n {
                    let mut one = |what: &'static str, t: &ColumnType| -> DecodeResult<Self> {
                        let path = Path::Entry(i, what);
                        let (at, raw) = element(&mut r).map_err(|e| nest(e, ty, path, 0))?;
                        let raw = raw.ok_or_else(|| {
                            nest(err(DecodeErrorKind::UnexpectedNull, 0), ty, path, at)
                        })?;
                        Self::deserialize_at(raw, t, max, depth + 1)
                            .map_err(|e| nest(e, ty, path, at))
                    };
                    let k = one("key", key_ty)?;
                    let v = one("value", value_ty)?;
                    out.push((k, v));
                }
                expect_end(&r)?;
                Self::Map(out)
            }
            ColumnType::Udt(udt) => {
                // §7: "it is allowed to have less values than the type has fields".
                let mut r = Reader::new(bytes);
                let mut out = Vec::with_capacity(udt.fields.len().min(r.remaining() / 4));
                for (name, field_ty) in &udt.fields {
                    if r.is_empty() {
                        break;
                    }
                    let path = Path::Field(name);
                    let (at, raw) = element(&mut r).map_err(|e| nest(e, ty, path, 0))?;
                    let value = raw
                        .map(|raw| Self::deserialize_at(raw, field_ty, max, depth + 1))
                        .transpose()
                        .map_err(|e| nest(e, ty, path, at))?;
                    out.push((name.clone(), value));
                }
                expect_end(&r)?;
                Self::Udt(out)
            }
            ColumnType::Tuple(types) => {
                let mut r = Reader::new(bytes);
                let mut out = Vec::with_capacity(types.len().min(r.remaining() / 4));
                for (i, elem_ty) in types.iter().enumerate() {
                    if r.is_empty() {
                        break;
                    }
                    let path = Path::Element(i);
                    let (at, raw) = element(&mut r).map_err(|e| nest(e, ty, path, 0))?;
                    let value = raw
                        .map(|raw| Self::deserialize_at(raw, elem_ty, max, depth + 1))
                        .transpose()
                        .map_err(|e| nest(e, ty, path, at))?;
                    out.push(value);
                }
                expect_end(&r)?;
                Self::Tuple(out)
            }
        };
        Ok(v)
    }

    /// Appends the serialized bytes of this value as type `ty` (§6), without a length prefix:
    /// [`ToCql::to_cql`] into a caller's buffer. Fails with [`EncodeError::TypeMismatch`] if
    /// the value does not fit the type.
    pub fn serialize(&self, ty: &ColumnType, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.to_cql(ty, &mut Writer::new(out)).map(drop)
    }

    /// The variant's CQL name, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Ascii(_) => "ascii value",
            Self::BigInt(_) => "bigint value",
            Self::Blob(_) => "blob value",
            Self::Boolean(_) => "boolean value",
            Self::Counter(_) => "counter value",
            Self::Decimal(_) => "decimal value",
            Self::Double(_) => "double value",
            Self::Float(_) => "float value",
            Self::Int(_) => "int value",
            Self::Timestamp(_) => "timestamp value",
            Self::Uuid(_) => "uuid value",
            Self::Text(_) => "text value",
            Self::Varint(_) => "varint value",
            Self::Timeuuid(_) => "timeuuid value",
            Self::Inet(_) => "inet value",
            Self::Date(_) => "date value",
            Self::Time(_) => "time value",
            Self::SmallInt(_) => "smallint value",
            Self::TinyInt(_) => "tinyint value",
            Self::Duration(_) => "duration value",
            Self::List(_) => "list value",
            Self::Set(_) => "set value",
            Self::Map(_) => "map value",
            Self::Udt(_) => "UDT value",
            Self::Tuple(_) => "tuple value",
            Self::Custom(_) => "custom value",
            Self::Empty => "empty value",
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident),* $(,)?) => {$(
        impl From<$t> for CqlValue {
            fn from(v: $t) -> Self {
                Self::$variant(v.into())
            }
        }
    )*};
}

// The natural CQL type of each Rust type (text for strings, uuid for 16 bytes).
value_from! {
    bool => Boolean,
    i8 => TinyInt,
    i16 => SmallInt,
    i32 => Int,
    i64 => BigInt,
    f32 => Float,
    f64 => Double,
    String => Text,
    &str => Text,
    Vec<u8> => Blob,
    &[u8] => Blob,
    [u8; 16] => Uuid,
    IpAddr => Inet,
    Varint => Varint,
    Decimal => Decimal,
    CqlDate => Date,
    CqlTime => Time,
    CqlTimestamp => Timestamp,
    CqlDuration => Duration,
}

impl fmt::Display for CqlValue {
    /// CQL literal syntax, e.g. `{'a': [1, 2]}`; blobs as `0x…`, uuids hyphenated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<'v>(
            f: &mut fmt::Formatter<'_>,
            open: &str,
            close: &str,
            items: impl Iterator<Item = Option<&'v CqlValue>>,
        ) -> fmt::Result {
            f.write_str(open)?;
            for (i, item) in items.enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                match item {
                    Some(v) => write!(f, "{v}")?,
                    None => f.write_str("null")?,
                }
            }
            f.write_str(close)
        }
        match self {
            Self::Ascii(s) | Self::Text(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Self::BigInt(n) | Self::Counter(n) => write!(f, "{n}"),
            Self::Blob(b) | Self::Custom(b) => {
                f.write_str("0x")?;
                b.iter().try_for_each(|x| write!(f, "{x:02x}"))
            }
            Self::Boolean(b) => write!(f, "{b}"),
            Self::Decimal(d) => write!(f, "{d}"),
            Self::Double(n) => write!(f, "{n}"),
            Self::Float(n) => write!(f, "{n}"),
            Self::Int(n) => write!(f, "{n}"),
            Self::Timestamp(t) => write!(f, "'{t}'"),
            Self::Uuid(u) | Self::Timeuuid(u) => write_uuid(f, u),
            Self::Varint(v) => write!(f, "{v}"),
            Self::Inet(ip) => write!(f, "'{ip}'"),
            Self::Date(d) => write!(f, "'{d}'"),
            Self::Time(t) => write!(f, "'{t}'"),
            Self::SmallInt(n) => write!(f, "{n}"),
            Self::TinyInt(n) => write!(f, "{n}"),
            Self::Duration(d) => write!(f, "{d}"),
            Self::List(items) => list(f, "[", "]", items.iter().map(Some)),
            Self::Set(items) => list(f, "{", "}", items.iter().map(Some)),
            Self::Tuple(items) => list(f, "(", ")", items.iter().map(Option::as_ref)),
            Self::Map(pairs) => {
                f.write_str("{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Self::Udt(fields) => {
                f.write_str("{")?;
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match v {
                        Some(v) => write!(f, "{name}: {v}")?,
                        None => write!(f, "{name}: null")?,
                    }
                }
                f.write_str("}")
            }
            Self::Empty => f.write_str("<empty>"),
        }
    }
}

/// Writes 16 bytes in the 8-4-4-4-12 hyphenated form.
pub(crate) fn write_uuid(f: &mut fmt::Formatter<'_>, u: &[u8; 16]) -> fmt::Result {
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            f.write_str("-")?;
        }
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
