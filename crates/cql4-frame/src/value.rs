//! CQL values (native_protocol_v4.spec §6, §7). First version: replaced in the next commit.

use crate::error::{DecodeError, DecodeErrorKind, DecodeResult};
use crate::limits::DecodeLimits;
use crate::types::ColumnType;

/// An owned CQL value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CqlValue {
    /// `int`.
    Int(i32),
    /// `text`.
    Text(String),
    /// Any other value, as its serialized bytes.
    Other(Vec<u8>),
}

impl CqlValue {
    /// Decodes a value of type `ty` from its serialized bytes.
    pub fn deserialize(
        bytes: &[u8],
        ty: &ColumnType,
        _limits: &DecodeLimits,
    ) -> DecodeResult<Self> {
        match ty {
            ColumnType::Int => Ok(Self::Int(i32::from_cql(ty, Some(bytes))?)),
            ColumnType::Text => Ok(Self::Text(<&str>::from_cql(ty, Some(bytes))?.to_owned())),
            _ => Ok(Self::Other(bytes.to_vec())),
        }
    }
}

/// A Rust type that can be read from a CQL value, borrowing from the frame for `'a`.
pub trait FromCql<'a>: Sized {
    /// Checks that the CQL type can be read as this Rust type.
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind>;
    /// Decodes the value (`None` for null); the type was checked.
    fn from_cql(ty: &ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self>;
}

impl<'a> FromCql<'a> for i32 {
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        match ty {
            ColumnType::Int => Ok(()),
            _ => Err(DecodeErrorKind::TypeMismatch {
                rust: "i32",
                cql: ty.to_string(),
            }),
        }
    }
    fn from_cql(_ty: &ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        let raw = raw.ok_or_else(|| DecodeError::new(DecodeErrorKind::UnexpectedNull, "int", 0))?;
        let b: [u8; 4] = raw.try_into().map_err(|_| {
            DecodeError::new(DecodeErrorKind::Invalid("int is not 4 bytes"), "int", 0)
        })?;
        Ok(i32::from_be_bytes(b))
    }
}

impl<'a> FromCql<'a> for &'a str {
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        match ty {
            ColumnType::Text | ColumnType::Ascii => Ok(()),
            _ => Err(DecodeErrorKind::TypeMismatch {
                rust: "&str",
                cql: ty.to_string(),
            }),
        }
    }
    fn from_cql(_ty: &ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        let raw =
            raw.ok_or_else(|| DecodeError::new(DecodeErrorKind::UnexpectedNull, "text", 0))?;
        std::str::from_utf8(raw)
            .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidUtf8, "text", 0))
    }
}

impl<'a, T: FromCql<'a>> FromCql<'a> for Option<T> {
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        T::type_check(ty)
    }
    fn from_cql(ty: &ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        raw.map(|r| T::from_cql(ty, Some(r))).transpose()
    }
}
