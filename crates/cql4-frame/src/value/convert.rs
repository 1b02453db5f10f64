//! Conversions between CQL values and Rust types: [`FromCql`] (borrowing from the frame) and
//! [`ToCql`] (appending to a caller-owned buffer).
//!
//! | CQL type                 | Rust types                                          |
//! |--------------------------|-----------------------------------------------------|
//! | boolean                  | `bool`                                              |
//! | tinyint/smallint/int     | `i8` / `i16` / `i32`                                |
//! | bigint, counter          | `i64`                                               |
//! | float / double           | `f32` / `f64`                                       |
//! | text, ascii              | `&str`, `String`                                    |
//! | blob                     | `&[u8]`, `Vec<u8>`                                  |
//! | uuid, timeuuid           | `[u8; 16]`                                          |
//! | inet                     | `IpAddr`                                            |
//! | varint                   | `Varint`, `i128`                                    |
//! | decimal                  | `Decimal`                                           |
//! | date / time / timestamp  | `CqlDate` / `CqlTime` / `CqlTimestamp`              |
//! | duration                 | `CqlDuration`                                       |
//! | list, set                | `Vec<T>`; set also `BTreeSet<T>`, `HashSet<T>`      |
//! | map                      | `HashMap<K, V>`, `BTreeMap<K, V>`                   |
//! | tuple                    | `(A,)` … `(A, B, C, D, E, F, G, H)`                 |
//! | any                      | `CqlValue`; `Option<T>` for a nullable `T`          |
//! | any bind marker          | `Unset` (not set: the column is left unchanged)     |
//!
//! With the `uuid` feature, `uuid::Uuid` reads and writes uuid and timeuuid; with `chrono`,
//! `chrono::DateTime<Utc>`, `NaiveDate` and `NaiveTime` read and write timestamp, date and
//! time; with `time`, `time::OffsetDateTime` and `PrimitiveDateTime` (taken as UTC),
//! `time::Date` and `time::Time` do.
//!
//! Cassandra stores an empty collection as null, so `Vec<T>` and maps read a null (or empty)
//! value as empty; every other non-`Option` type fails with
//! [`DecodeErrorKind::UnexpectedNull`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;

use super::{
    collection_count, decode_ascii, decode_decimal, decode_duration, decode_inet, decode_text,
    decode_time, element, expect_end, fixed, nest, CqlDate, CqlDuration, CqlTime, CqlTimestamp,
    CqlValue, Decimal, Path, Varint,
};
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use crate::limits::DecodeLimits;
use crate::reader::Reader;
use crate::types::{ColumnType, UdtType};
use crate::writer::Writer;

/// A Rust type that can be read from a CQL value of some types, borrowing from the frame's
/// bytes for `'a`.
///
/// Reading is two steps: [`FromCql::type_check`] once against the column type, then
/// [`FromCql::from_cql`] on the cell's bytes. [`Row::get`](crate::rows::Row::get) does both.
pub trait FromCql<'a>: Sized {
    /// Fails with [`DecodeErrorKind::TypeMismatch`] unless a value of CQL type `ty` can be
    /// read as `Self`.
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind>;

    /// Decodes a value of type `ty` (already checked): `raw` is `None` for null. Both borrow
    /// for `'a` (the page's metadata and body), so lazy readers such as
    /// [`ListIter`](super::ListIter) can keep them. Offsets in errors are relative to the start
    /// of `raw`.
    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self>;
}

/// Whether [`ToCql::to_cql`] wrote a value or stands for null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsNull {
    /// Null: nothing was written; the `[value]` length is -1.
    Yes,
    /// A value was written.
    No,
    /// Not set ([`Unset`](super::Unset)): nothing was written; the `[value]` length is -2.
    /// Only a bind value may be not set.
    Unset,
}

/// A Rust type that can be written as a CQL value of some types (§6).
pub trait ToCql {
    /// Appends the serialized value (without its length) for CQL type `ty`, or returns
    /// [`IsNull::Yes`] having written nothing. Fails with [`EncodeError::TypeMismatch`] if
    /// the value does not fit `ty`.
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError>;

    /// The CQL type this value is written as when no bind metadata says which (an unprepared
    /// QUERY): `i32` is `int`, `&str` `text`, `Vec<T>` `list<T>`, a `CqlValue` its own type.
    /// `None` when any type will do: a null, an unset or an empty value.
    fn natural_type(&self) -> Option<ColumnType>;
}

/// Appends `value` as a `[value]` / `[bytes]` of type `ty` into a caller's buffer: an `[int]`
/// length (patched after the value is written; -1 for null) then the bytes. On error `out` is
/// left as it was. [`write_element`] is the same into a [`Writer`].
pub fn write_value<T: ToCql + ?Sized>(
    value: &T,
    ty: &ColumnType,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    write_element(value, ty, &mut Writer::new(out))
}

/// Appends `value` as a `[bytes]` element of type `ty`: how collection, tuple and UDT elements
/// are written, so an [`Unset`](super::Unset) value is refused here; bind values go through
/// [`write_marker`](crate::bind::write_marker), which writes it as -2.
#[inline]
pub fn write_element<T: ToCql + ?Sized>(
    value: &T,
    ty: &ColumnType,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    write_value_or_unset(value, ty, w, false)
}

/// [`write_element`], writing an unset value as -2 when `allow_unset` (a bind value) and
/// refusing it otherwise. On error nothing of the value is left in `w`.
#[inline]
pub(crate) fn write_value_or_unset<T: ToCql + ?Sized>(
    value: &T,
    ty: &ColumnType,
    w: &mut Writer<'_>,
    allow_unset: bool,
) -> Result<(), EncodeError> {
    let slot = w.reserve_int();
    match value.to_cql(ty, w) {
        Ok(IsNull::No) => w.finish_length(slot, "CQL value"),
        Ok(IsNull::Yes) => {
            w.finish_null(slot);
            Ok(())
        }
        Ok(IsNull::Unset) if allow_unset => {
            w.finish_not_set(slot);
            Ok(())
        }
        Ok(IsNull::Unset) => {
            w.abandon(slot);
            Err(EncodeError::Invalid(
                "an unset value is a bind value only, not an element of a collection, tuple or UDT",
            ))
        }
        Err(e) => {
            w.abandon(slot);
            Err(e)
        }
    }
}

/// `varint` (§6.23): the two's-complement bytes; zero is one byte.
#[inline]
pub(crate) fn write_varint(v: &Varint, w: &mut Writer<'_>) {
    let bytes = v.as_be_bytes();
    if bytes.is_empty() {
        w.u8(0);
    } else {
        w.raw(bytes);
    }
}

#[inline]
fn check(ok: bool, rust: &'static str, ty: &ColumnType) -> Result<(), DecodeErrorKind> {
    if ok {
        Ok(())
    } else {
        Err(DecodeErrorKind::TypeMismatch {
            rust,
            cql: ty.to_string(),
        })
    }
}

#[cold]
fn mismatch(rust: &'static str, ty: &ColumnType) -> EncodeError {
    EncodeError::TypeMismatch {
        what: rust,
        cql: ty.to_string(),
    }
}

#[inline]
fn non_null(raw: Option<&[u8]>) -> DecodeResult<&[u8]> {
    raw.ok_or_else(|| DecodeError::new(DecodeErrorKind::UnexpectedNull, super::WHAT, 0))
}

/// [`FromCql`] and [`ToCql`] for a foreign type through one of the codec's own: read as `$via`
/// then converted (`None`: outside the Rust type's range), written by converting to `$via`
/// (`None`: outside the CQL type's range).
#[cfg(any(feature = "uuid", feature = "chrono", feature = "time"))]
macro_rules! via {
    ($t:ty, $rust:literal, $via:ty, $pat:pat,
     |$c:ident| $from:expr, $from_err:literal,
     |$v:ident| $to:expr, $to_err:literal) => {
        impl<'a> FromCql<'a> for $t {
            #[inline]
            fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
                check(matches!(ty, $pat), $rust, ty)
            }

            #[inline]
            fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
                let $c = <$via>::from_cql(ty, raw)?;
                $from.ok_or_else(|| {
                    DecodeError::new(DecodeErrorKind::Invalid($from_err), crate::value::WHAT, 0)
                })
            }
        }

        impl ToCql for $t {
            #[inline]
            fn to_cql(
                &self,
                ty: &ColumnType,
                w: &mut crate::writer::Writer<'_>,
            ) -> Result<IsNull, EncodeError> {
                if !matches!(ty, $pat) {
                    return Err(mismatch($rust, ty));
                }
                let $v = self;
                let via: $via = $to.ok_or(EncodeError::Invalid($to_err))?;
                via.to_cql(ty, w)
            }

            #[inline]
            fn natural_type(&self) -> Option<ColumnType> {
                let $v = self;
                let via: Option<$via> = $to;
                via.and_then(|v| v.natural_type())
            }
        }
    };
}

#[cfg(feature = "chrono")]
mod with_chrono;
#[cfg(feature = "time")]
mod with_time;
#[cfg(feature = "uuid")]
mod with_uuid;

macro_rules! fixed_size {
    ($t:ty, $rust:literal, $pat:pat, $nat:expr, $n:literal, $what:literal, |$b:ident| $from:expr, |$v:ident| $to:expr) => {
        impl<'a> FromCql<'a> for $t {
            #[inline]
            fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
                check(matches!(ty, $pat), $rust, ty)
            }

            #[inline]
            fn from_cql(_ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
                let $b = fixed::<$n>(non_null(raw)?, $what)?;
                Ok($from)
            }
        }

        impl ToCql for $t {
            #[inline]
            fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
                if !matches!(ty, $pat) {
                    return Err(mismatch($rust, ty));
                }
                let $v = self;
                w.raw(&$to);
                Ok(IsNull::No)
            }

            #[inline]
            fn natural_type(&self) -> Option<ColumnType> {
                Some($nat)
            }
        }
    };
}

fixed_size!(
    bool,
    "bool",
    ColumnType::Boolean,
    ColumnType::Boolean,
    1,
    "boolean value is not 1 byte",
    |b| b[0] != 0,
    |v| [u8::from(*v)]
);
fixed_size!(
    i8,
    "i8",
    ColumnType::TinyInt,
    ColumnType::TinyInt,
    1,
    "tinyint value is not 1 byte",
    |b| Self::from_be_bytes(b),
    |v| v.to_be_bytes()
);
fixed_size!(
    i16,
    "i16",
    ColumnType::SmallInt,
    ColumnType::SmallInt,
    2,
    "smallint value is not 2 bytes",
    |b| Self::from_be_bytes(b),
    |v| v.to_be_bytes()
);
fixed_size!(
    i32,
    "i32",
    ColumnType::Int,
    ColumnType::Int,
    4,
    "int value is not 4 bytes",
    |b| Self::from_be_bytes(b),
    |v| v.to_be_bytes()
);
fixed_size!(
    i64,
    "i64",
    ColumnType::BigInt | ColumnType::Counter,
    ColumnType::BigInt,
    8,
    "bigint value is not 8 bytes",
    |b| Self::from_be_bytes(b),
    |v| v.to_be_bytes()
);
fixed_size!(
    f32,
    "f32",
    ColumnType::Float,
    ColumnType::Float,
    4,
    "float value is not 4 bytes",
    |b| Self::from_be_bytes(b),
    |v| v.to_be_bytes()
);
fixed_size!(
    f64,
    "f64",
    ColumnType::Double,
    ColumnType::Double,
    8,
    "double value is not 8 bytes",
    |b| Self::from_be_bytes(b),
    |v| v.to_be_bytes()
);
fixed_size!(
    [u8; 16],
    "[u8; 16]",
    ColumnType::Uuid | ColumnType::Timeuuid,
    ColumnType::Uuid,
    16,
    "uuid value is not 16 bytes",
    |b| b,
    |v| *v
);
fixed_size!(
    CqlDate,
    "CqlDate",
    ColumnType::Date,
    ColumnType::Date,
    4,
    "date value is not 4 bytes",
    |b| Self(u32::from_be_bytes(b)),
    |v| v.0.to_be_bytes()
);
fixed_size!(
    CqlTimestamp,
    "CqlTimestamp",
    ColumnType::Timestamp,
    ColumnType::Timestamp,
    8,
    "timestamp value is not 8 bytes",
    |b| Self(i64::from_be_bytes(b)),
    |v| v.0.to_be_bytes()
);

impl<'a> FromCql<'a> for &'a str {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        check(
            matches!(ty, ColumnType::Text | ColumnType::Ascii),
            "&str",
            ty,
        )
    }

    #[inline]
    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        let raw = non_null(raw)?;
        if matches!(ty, ColumnType::Ascii) {
            decode_ascii(raw)
        } else {
            decode_text(raw)
        }
    }
}

impl<'a> FromCql<'a> for String {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        check(
            matches!(ty, ColumnType::Text | ColumnType::Ascii),
            "String",
            ty,
        )
    }

    #[inline]
    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        <&str>::from_cql(ty, raw).map(str::to_owned)
    }
}

impl ToCql for str {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Text)
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        match ty {
            ColumnType::Text => {}
            ColumnType::Ascii if self.is_ascii() => {}
            ColumnType::Ascii => {
                return Err(EncodeError::Invalid(
                    "ascii value holds a non-ASCII character",
                ))
            }
            _ => return Err(mismatch("&str", ty)),
        }
        w.raw(self.as_bytes());
        Ok(IsNull::No)
    }
}

impl ToCql for String {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Text)
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        self.as_str().to_cql(ty, w)
    }
}

impl<'a> FromCql<'a> for &'a [u8] {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        check(
            matches!(ty, ColumnType::Blob | ColumnType::Custom(_)),
            "&[u8]",
            ty,
        )
    }

    #[inline]
    fn from_cql(_ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        non_null(raw)
    }
}

impl<'a> FromCql<'a> for Vec<u8> {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        check(
            matches!(ty, ColumnType::Blob | ColumnType::Custom(_)),
            "Vec<u8>",
            ty,
        )
    }

    #[inline]
    fn from_cql(_ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        non_null(raw).map(<[u8]>::to_vec)
    }
}

impl ToCql for [u8] {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Blob)
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        if !matches!(ty, ColumnType::Blob | ColumnType::Custom(_)) {
            return Err(mismatch("&[u8]", ty));
        }
        w.raw(self);
        Ok(IsNull::No)
    }
}

impl ToCql for Vec<u8> {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Blob)
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        self.as_slice().to_cql(ty, w)
    }
}

impl<'a> FromCql<'a> for IpAddr {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        check(matches!(ty, ColumnType::Inet), "IpAddr", ty)
    }

    #[inline]
    fn from_cql(_ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        decode_inet(non_null(raw)?)
    }
}

impl ToCql for IpAddr {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Inet)
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        if !matches!(ty, ColumnType::Inet) {
            return Err(mismatch("IpAddr", ty));
        }
        match self {
            Self::V4(a) => w.raw(&a.octets()),
            Self::V6(a) => w.raw(&a.octets()),
        }
        Ok(IsNull::No)
    }
}

impl<'a> FromCql<'a> for CqlTime {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        check(matches!(ty, ColumnType::Time), "CqlTime", ty)
    }

    #[inline]
    fn from_cql(_ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        decode_time(non_null(raw)?)
    }
}

impl ToCql for CqlTime {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Time)
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        if !matches!(ty, ColumnType::Time) {
            return Err(mismatch("CqlTime", ty));
        }
        w.raw(&self.nanos().to_be_bytes());
        Ok(IsNull::No)
    }
}

impl<'a> FromCql<'a> for CqlDuration {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        check(matches!(ty, ColumnType::Duration), "CqlDuration", ty)
    }

    #[inline]
    fn from_cql(_ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        decode_duration(non_null(raw)?)
    }
}

impl ToCql for CqlDuration {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Duration)
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        if !matches!(ty, ColumnType::Duration) {
            return Err(mismatch("CqlDuration", ty));
        }
        w.vint(self.months.into());
        w.vint(self.days.into());
        w.vint(self.nanos);
        Ok(IsNull::No)
    }
}

impl<'a> FromCql<'a> for Varint {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        check(matches!(ty, ColumnType::Varint), "Varint", ty)
    }

    #[inline]
    fn from_cql(_ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        let raw = non_null(raw)?;
        if raw.is_empty() {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid("empty varint value"),
                super::WHAT,
                0,
            ));
        }
        Ok(Self::from_be_bytes(raw.to_vec()))
    }
}

impl ToCql for Varint {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Varint)
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        if !matches!(ty, ColumnType::Varint) {
            return Err(mismatch("Varint", ty));
        }
        write_varint(self, w);
        Ok(IsNull::No)
    }
}

impl<'a> FromCql<'a> for i128 {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        check(matches!(ty, ColumnType::Varint), "i128", ty)
    }

    #[inline]
    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        Varint::from_cql(ty, raw)?.to_i128().ok_or_else(|| {
            DecodeError::new(
                DecodeErrorKind::Invalid("varint does not fit in i128"),
                super::WHAT,
                0,
            )
        })
    }
}

impl ToCql for i128 {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Varint)
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        Varint::from_i128(*self).to_cql(ty, w)
    }
}

impl<'a> FromCql<'a> for Decimal {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        check(matches!(ty, ColumnType::Decimal), "Decimal", ty)
    }

    #[inline]
    fn from_cql(_ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        decode_decimal(non_null(raw)?)
    }
}

impl ToCql for Decimal {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Decimal)
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        if !matches!(ty, ColumnType::Decimal) {
            return Err(mismatch("Decimal", ty));
        }
        w.raw(&self.scale.to_be_bytes());
        write_varint(&self.unscaled, w);
        Ok(IsNull::No)
    }
}

impl<'a> FromCql<'a> for CqlValue {
    #[inline]
    fn type_check(_ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        Ok(())
    }

    #[inline]
    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        Self::deserialize(non_null(raw)?, ty, &DecodeLimits::default())
    }
}

/// Each variant is written by its Rust type's [`ToCql`]: one implementation per format (§6).
impl ToCql for CqlValue {
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        self.write_as(ty, w).map_err(|e| match e {
            // Named for the variant ("int value"), not the Rust type that wrote it.
            EncodeError::TypeMismatch { cql, .. } => EncodeError::TypeMismatch {
                what: self.kind_name(),
                cql,
            },
            other => other,
        })
    }

    fn natural_type(&self) -> Option<ColumnType> {
        self.natural()
    }
}

impl CqlValue {
    fn write_as(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        match self {
            Self::Ascii(s) | Self::Text(s) => s.as_str().to_cql(ty, w),
            Self::BigInt(n) | Self::Counter(n) => n.to_cql(ty, w),
            Self::Blob(b) | Self::Custom(b) => b.as_slice().to_cql(ty, w),
            Self::Boolean(b) => b.to_cql(ty, w),
            Self::Decimal(d) => d.to_cql(ty, w),
            Self::Double(n) => n.to_cql(ty, w),
            Self::Float(n) => n.to_cql(ty, w),
            Self::Int(n) => n.to_cql(ty, w),
            Self::Timestamp(t) => t.to_cql(ty, w),
            Self::Uuid(u) | Self::Timeuuid(u) => u.to_cql(ty, w),
            Self::Varint(v) => v.to_cql(ty, w),
            Self::Inet(ip) => ip.to_cql(ty, w),
            Self::Date(d) => d.to_cql(ty, w),
            Self::Time(t) => t.to_cql(ty, w),
            Self::SmallInt(n) => n.to_cql(ty, w),
            Self::TinyInt(n) => n.to_cql(ty, w),
            Self::Duration(d) => d.to_cql(ty, w),
            Self::List(items) | Self::Set(items) => items.to_cql(ty, w),
            Self::Map(pairs) => {
                write_map(pairs.iter().map(|(k, v)| (k, v)), ty, "CqlValue::Map", w)
            }
            Self::Udt(fields) => write_udt_value(fields, ty, w),
            Self::Tuple(items) => match ty {
                ColumnType::Tuple(types) if items.len() <= types.len() => {
                    for (item, t) in items.iter().zip(types) {
                        write_element(item, t, w)?;
                    }
                    Ok(IsNull::No)
                }
                _ => Err(mismatch("CqlValue::Tuple", ty)),
            },
            // The legacy empty value: zero bytes, whatever the type.
            Self::Empty => Ok(IsNull::No),
        }
    }

    fn natural(&self) -> Option<ColumnType> {
        let ty = match self {
            Self::Ascii(_) => ColumnType::Ascii,
            Self::BigInt(_) => ColumnType::BigInt,
            Self::Blob(_) => ColumnType::Blob,
            Self::Boolean(_) => ColumnType::Boolean,
            Self::Counter(_) => ColumnType::Counter,
            Self::Decimal(_) => ColumnType::Decimal,
            Self::Double(_) => ColumnType::Double,
            Self::Float(_) => ColumnType::Float,
            Self::Int(_) => ColumnType::Int,
            Self::Timestamp(_) => ColumnType::Timestamp,
            Self::Uuid(_) => ColumnType::Uuid,
            Self::Text(_) => ColumnType::Text,
            Self::Varint(_) => ColumnType::Varint,
            Self::Timeuuid(_) => ColumnType::Timeuuid,
            Self::Inet(_) => ColumnType::Inet,
            Self::Date(_) => ColumnType::Date,
            Self::Time(_) => ColumnType::Time,
            Self::SmallInt(_) => ColumnType::SmallInt,
            Self::TinyInt(_) => ColumnType::TinyInt,
            Self::Duration(_) => ColumnType::Duration,
            Self::List(items) => ColumnType::List(Box::new(element_type(items.iter()))),
            Self::Set(items) => ColumnType::Set(Box::new(element_type(items.iter()))),
            Self::Map(pairs) => map_type(pairs.iter().map(|(k, v)| (k, v))),
            Self::Udt(fields) => ColumnType::Udt(Box::new(UdtType {
                keyspace: String::new(),
                name: String::new(),
                fields: fields
                    .iter()
                    .map(|(name, v)| {
                        let ty = v.as_ref().and_then(ToCql::natural_type);
                        (name.clone(), ty.unwrap_or(ColumnType::Blob))
                    })
                    .collect(),
            })),
            Self::Tuple(items) => ColumnType::Tuple(
                items
                    .iter()
                    .map(|v| v.natural_type().unwrap_or(ColumnType::Blob))
                    .collect(),
            ),
            Self::Custom(_) | Self::Empty => return None,
        };
        Some(ty)
    }
}

/// A [`CqlValue::Udt`] as `ty`: by position when its fields are the type's first ones (the
/// common case, and the only one for a type that repeats a field name, which the wire allows),
/// else by name in declaration order up to the last field the value names; declared fields it
/// leaves out in between are null.
fn write_udt_value(
    fields: &[(String, Option<CqlValue>)],
    ty: &ColumnType,
    w: &mut Writer<'_>,
) -> Result<IsNull, EncodeError> {
    let ColumnType::Udt(udt) = ty else {
        return Err(mismatch("CqlValue::Udt", ty));
    };
    let in_order = fields.len() <= udt.fields.len()
        && fields
            .iter()
            .zip(&udt.fields)
            .all(|((a, _), (b, _))| a == b);
    if in_order {
        for ((_, value), (_, field_ty)) in fields.iter().zip(&udt.fields) {
            write_element(value, field_ty, w)?;
        }
        return Ok(IsNull::No);
    }
    if let Some((name, _)) = fields
        .iter()
        .find(|(name, _)| !udt.fields.iter().any(|(n, _)| n == name))
    {
        return Err(EncodeError::NoSuchField {
            udt: format!("{}.{}", udt.keyspace, udt.name),
            field: name.clone(),
        });
    }
    let last = udt
        .fields
        .iter()
        .rposition(|(n, _)| fields.iter().any(|(f, _)| f == n));
    for (name, field_ty) in udt.fields.iter().take(last.map_or(0, |l| l + 1)) {
        let value = fields
            .iter()
            .find(|(f, _)| f == name)
            .and_then(|(_, v)| v.as_ref());
        write_element(&value, field_ty, w)?;
    }
    Ok(IsNull::No)
}

impl<'a, T: FromCql<'a>> FromCql<'a> for Option<T> {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        T::type_check(ty)
    }

    #[inline]
    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        raw.map(|raw| T::from_cql(ty, Some(raw))).transpose()
    }
}

impl<T: ToCql> ToCql for Option<T> {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        self.as_ref().and_then(ToCql::natural_type)
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        match self {
            Some(v) => v.to_cql(ty, w),
            None => Ok(IsNull::Yes),
        }
    }
}

impl<T: ToCql + ?Sized> ToCql for &T {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        (**self).natural_type()
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        (**self).to_cql(ty, w)
    }
}

impl<'a, T: FromCql<'a>> FromCql<'a> for Vec<T> {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        match ty {
            ColumnType::List(e) | ColumnType::Set(e) => T::type_check(e),
            _ => check(false, "Vec<T>", ty),
        }
    }

    #[inline]
    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        let (ColumnType::List(elem) | ColumnType::Set(elem)) = ty else {
            return Err(DecodeError::new(
                DecodeErrorKind::TypeMismatch {
                    rust: "Vec<T>",
                    cql: ty.to_string(),
                },
                super::WHAT,
                0,
            ));
        };
        // Cassandra stores an empty collection as null: read null (and empty) as no elements.
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return Ok(Self::new());
        };
        let mut r = Reader::new(raw);
        let n = collection_count(&mut r)?;
        let mut out = Self::with_capacity(r.capacity_for(n, 4));
        for i in 0..n {
            let (at, bytes) = element(&mut r).map_err(|e| nest(e, ty, Path::Element(i), 0))?;
            out.push(T::from_cql(elem, bytes).map_err(|e| nest(e, ty, Path::Element(i), at))?);
        }
        expect_end(&r)?;
        Ok(out)
    }
}

/// The natural type of a collection's elements: the first non-null element's (a null element
/// fits any type; with none, `blob` stands in, as nothing of that type is written).
fn element_type<'v, T: ToCql + 'v>(mut items: impl Iterator<Item = &'v T>) -> ColumnType {
    items
        .find_map(ToCql::natural_type)
        .unwrap_or(ColumnType::Blob)
}

fn map_type<'v, K: ToCql + 'v, V: ToCql + 'v>(
    entries: impl Iterator<Item = (&'v K, &'v V)> + Clone,
) -> ColumnType {
    ColumnType::Map(
        Box::new(element_type(entries.clone().map(|(k, _)| k))),
        Box::new(element_type(entries.map(|(_, v)| v))),
    )
}

fn write_collection<'v, T: ToCql + 'v>(
    items: impl ExactSizeIterator<Item = &'v T>,
    ty: &ColumnType,
    rust: &'static str,
    w: &mut Writer<'_>,
) -> Result<IsNull, EncodeError> {
    let (ColumnType::List(elem) | ColumnType::Set(elem)) = ty else {
        return Err(mismatch(rust, ty));
    };
    w.count(items.len(), "collection")?;
    for item in items {
        write_element(item, elem, w)?;
    }
    Ok(IsNull::No)
}

impl<T: ToCql> ToCql for [T] {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::List(Box::new(element_type(self.iter()))))
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        write_collection(self.iter(), ty, "[T]", w)
    }
}

impl<T: ToCql> ToCql for Vec<T> {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::List(Box::new(element_type(self.iter()))))
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        write_collection(self.iter(), ty, "Vec<T>", w)
    }
}

/// `set<T>` (and `list<T>`) as an ordered set: read through `Vec<T>`, duplicates merged.
impl<'a, T: FromCql<'a> + Ord> FromCql<'a> for BTreeSet<T> {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        match ty {
            ColumnType::List(e) | ColumnType::Set(e) => T::type_check(e),
            _ => check(false, "BTreeSet<T>", ty),
        }
    }

    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        Vec::<T>::from_cql(ty, raw).map(|v| v.into_iter().collect())
    }
}

/// `set<T>` (and `list<T>`) as a hash set: read through `Vec<T>`, duplicates merged.
impl<'a, T, S> FromCql<'a> for HashSet<T, S>
where
    T: FromCql<'a> + Eq + Hash,
    S: BuildHasher + Default,
{
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        match ty {
            ColumnType::List(e) | ColumnType::Set(e) => T::type_check(e),
            _ => check(false, "HashSet<T>", ty),
        }
    }

    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        Vec::<T>::from_cql(ty, raw).map(|v| v.into_iter().collect())
    }
}

impl<T: ToCql> ToCql for BTreeSet<T> {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Set(Box::new(element_type(self.iter()))))
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        write_collection(self.iter(), ty, "BTreeSet<T>", w)
    }
}

impl<T: ToCql, S> ToCql for HashSet<T, S> {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(ColumnType::Set(Box::new(element_type(self.iter()))))
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        write_collection(self.iter(), ty, "HashSet<T>", w)
    }
}

/// Reads the entries of a map, calling `f` for each key and value.
fn read_map<'a, K: FromCql<'a>, V: FromCql<'a>>(
    ty: &'a ColumnType,
    raw: Option<&'a [u8]>,
    rust: &'static str,
    mut f: impl FnMut(K, V),
) -> DecodeResult<()> {
    let ColumnType::Map(kt, vt) = ty else {
        return Err(DecodeError::new(
            DecodeErrorKind::TypeMismatch {
                rust,
                cql: ty.to_string(),
            },
            super::WHAT,
            0,
        ));
    };
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(());
    };
    let mut r = Reader::new(raw);
    let n = collection_count(&mut r)?;
    for i in 0..n {
        let (at, bytes) = element(&mut r).map_err(|e| nest(e, ty, Path::Entry(i, "key"), 0))?;
        let k = K::from_cql(kt, bytes).map_err(|e| nest(e, ty, Path::Entry(i, "key"), at))?;
        let (at, bytes) = element(&mut r).map_err(|e| nest(e, ty, Path::Entry(i, "value"), 0))?;
        let v = V::from_cql(vt, bytes).map_err(|e| nest(e, ty, Path::Entry(i, "value"), at))?;
        f(k, v);
    }
    expect_end(&r)
}

fn map_type_check<'a, K: FromCql<'a>, V: FromCql<'a>>(
    ty: &ColumnType,
    rust: &'static str,
) -> Result<(), DecodeErrorKind> {
    match ty {
        ColumnType::Map(k, v) => {
            K::type_check(k)?;
            V::type_check(v)
        }
        _ => check(false, rust, ty),
    }
}

fn write_map<'v, K: ToCql + 'v, V: ToCql + 'v>(
    entries: impl ExactSizeIterator<Item = (&'v K, &'v V)>,
    ty: &ColumnType,
    rust: &'static str,
    w: &mut Writer<'_>,
) -> Result<IsNull, EncodeError> {
    let ColumnType::Map(kt, vt) = ty else {
        return Err(mismatch(rust, ty));
    };
    w.count(entries.len(), "map")?;
    for (k, v) in entries {
        write_element(k, kt, w)?;
        write_element(v, vt, w)?;
    }
    Ok(IsNull::No)
}

impl<'a, K, V, S> FromCql<'a> for HashMap<K, V, S>
where
    K: FromCql<'a> + Eq + Hash,
    V: FromCql<'a>,
    S: BuildHasher + Default,
{
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        map_type_check::<K, V>(ty, "HashMap<K, V>")
    }

    #[inline]
    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        let mut out = Self::default();
        read_map(ty, raw, "HashMap<K, V>", |k, v| {
            out.insert(k, v);
        })?;
        Ok(out)
    }
}

impl<K: ToCql, V: ToCql, S> ToCql for HashMap<K, V, S> {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(map_type(self.iter()))
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        write_map(self.iter(), ty, "HashMap<K, V>", w)
    }
}

impl<'a, K, V> FromCql<'a> for BTreeMap<K, V>
where
    K: FromCql<'a> + Ord,
    V: FromCql<'a>,
{
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        map_type_check::<K, V>(ty, "BTreeMap<K, V>")
    }

    #[inline]
    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        let mut out = Self::new();
        read_map(ty, raw, "BTreeMap<K, V>", |k, v| {
            out.insert(k, v);
        })?;
        Ok(out)
    }
}

impl<K: ToCql, V: ToCql> ToCql for BTreeMap<K, V> {
    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        Some(map_type(self.iter()))
    }

    #[inline]
    fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        write_map(self.iter(), ty, "BTreeMap<K, V>", w)
    }
}

macro_rules! tuples {
    ($($n:literal => ($($t:ident $i:tt),+);)+) => {$(
        impl<'a, $($t: FromCql<'a>),+> FromCql<'a> for ($($t,)+) {
            #[inline]
            fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
                match ty {
                    ColumnType::Tuple(ts) if ts.len() == $n => {
                        $($t::type_check(ts.get($i).unwrap_or(ty))?;)+
                        Ok(())
                    }
                    _ => check(false, concat!("tuple of ", $n), ty),
                }
            }

            #[inline]
            fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
                let raw = non_null(raw)?;
                let ColumnType::Tuple(ts) = ty else {
                    return Err(DecodeError::new(
                        DecodeErrorKind::TypeMismatch { rust: concat!("tuple of ", $n), cql: ty.to_string() },
                        super::WHAT,
                        0,
                    ));
                };
                let mut r = Reader::new(raw);
                let value = ($(
                    {
                        let elem_ty = ts.get($i).unwrap_or(ty);
                        // A tuple may end early; missing trailing elements are null.
                        let (at, bytes) = if r.is_empty() {
                            (r.position(), None)
                        } else {
                            element(&mut r).map_err(|e| nest(e, ty, Path::Element($i), 0))?
                        };
                        $t::from_cql(elem_ty, bytes).map_err(|e| nest(e, ty, Path::Element($i), at))?
                    },
                )+);
                expect_end(&r)?;
                Ok(value)
            }
        }

        impl<$($t: ToCql),+> ToCql for ($($t,)+) {
            fn natural_type(&self) -> Option<ColumnType> {
                Some(ColumnType::Tuple(vec![$(self.$i.natural_type().unwrap_or(ColumnType::Blob)),+]))
            }

            #[inline]
            fn to_cql(&self, ty: &ColumnType, w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
                match ty {
                    ColumnType::Tuple(ts) if ts.len() == $n => {
                        $(write_element(&self.$i, ts.get($i).unwrap_or(ty), w)?;)+
                        Ok(IsNull::No)
                    }
                    _ => Err(mismatch(concat!("tuple of ", $n), ty)),
                }
            }
        }
    )+};
}

tuples! {
    1 => (A 0);
    2 => (A 0, B 1);
    3 => (A 0, B 1, C 2);
    4 => (A 0, B 1, C 2, D 3);
    5 => (A 0, B 1, C 2, D 3, E 4);
    6 => (A 0, B 1, C 2, D 3, E 4, F 5);
    7 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    8 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
}
