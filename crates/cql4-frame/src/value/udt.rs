//! The building blocks of `#[derive(FromCql, ToCql)]` (from the `cql4-macros` crate) for a
//! struct mapped to a user-defined type by field name (native_protocol_v4.spec §6.23).
//!
//! A UDT value is its fields' `[bytes]` in the type's declaration order, and "it is allowed to
//! have less values than the type has fields". So:
//!
//! - reading walks the value's fields in declaration order, giving each to the struct field
//!   of its name; fields the struct does not have (added to the UDT after the struct was
//!   written) are skipped, and struct fields the value ends before read as null;
//! - writing follows the declaration order up to the last field the struct has; declared
//!   fields the struct lacks in between are written as null.
//!
//! Errors name the UDT and the field, and for a type mismatch both types.

use super::{element, expect_end, nest, ColumnType, FromCql, Path, ToCql, WHAT};
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use crate::reader::Reader;
use crate::types::UdtType;
use crate::writer::Writer;

/// The UDT of `ty`, or a type mismatch naming `rust` (the struct).
#[inline]
pub fn udt_type<'t>(
    ty: &'t ColumnType,
    rust: &'static str,
) -> Result<&'t UdtType, DecodeErrorKind> {
    match ty {
        ColumnType::Udt(udt) => Ok(udt),
        _ => Err(DecodeErrorKind::TypeMismatch {
            rust,
            cql: ty.to_string(),
        }),
    }
}

/// Checks that the UDT `ty` (`udt`) has a field `name` readable as `T`.
pub fn check_field<'a, T: FromCql<'a>>(
    ty: &ColumnType,
    udt: &UdtType,
    name: &str,
) -> Result<(), DecodeErrorKind> {
    let field_ty = field_type(udt, name).ok_or_else(|| no_such_field(udt, name))?;
    T::type_check(field_ty).map_err(|cause| DecodeErrorKind::InValue {
        path: format!("{ty} {}", Path::Field(name)),
        cause: Box::new(cause),
    })
}

fn field_type<'t>(udt: &'t UdtType, name: &str) -> Option<&'t ColumnType> {
    udt.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t)
}

#[cold]
fn no_such_field(udt: &UdtType, name: &str) -> DecodeErrorKind {
    DecodeErrorKind::NoSuchField {
        udt: format!("{}.{}", udt.keyspace, udt.name),
        field: name.to_owned(),
    }
}

/// A UDT value's fields, read in the type's declaration order.
#[derive(Debug)]
pub struct UdtFields<'a> {
    ty: &'a ColumnType,
    udt: &'a UdtType,
    next: usize,
    r: Reader<'a>,
}

impl<'a> UdtFields<'a> {
    /// The fields of the non-null UDT value `raw` of type `ty`; `rust` names the struct in a
    /// type mismatch.
    pub fn new(
        ty: &'a ColumnType,
        raw: Option<&'a [u8]>,
        rust: &'static str,
    ) -> DecodeResult<Self> {
        let udt = udt_type(ty, rust).map_err(|kind| DecodeError::new(kind, WHAT, 0))?;
        let raw = raw.ok_or_else(|| DecodeError::new(DecodeErrorKind::UnexpectedNull, WHAT, 0))?;
        Ok(Self {
            ty,
            udt,
            next: 0,
            r: Reader::new(raw),
        })
    }

    /// The next field the value holds, or `None` once it ends (it may end before the type's
    /// last field).
    pub fn next_field(&mut self) -> DecodeResult<Option<UdtField<'a>>> {
        let Some((name, field_ty)) = self.udt.fields.get(self.next) else {
            // More bytes than the type has fields is malformed.
            expect_end(&self.r)?;
            return Ok(None);
        };
        if self.r.is_empty() {
            return Ok(None);
        }
        self.next += 1;
        let (at, raw) = element(&mut self.r).map_err(|e| nest(e, self.ty, Path::Field(name), 0))?;
        Ok(Some(UdtField {
            ty: self.ty,
            name,
            field_ty,
            at,
            raw,
        }))
    }

    /// The field `name` that the value ended before, read as null (`None` for an `Option`,
    /// an error naming the field for other types).
    pub fn absent<T: FromCql<'a>>(&self, name: &str) -> DecodeResult<T> {
        let field_ty = field_type(self.udt, name)
            .ok_or_else(|| DecodeError::new(no_such_field(self.udt, name), WHAT, 0))?;
        T::from_cql(field_ty, None)
            .map_err(|e| nest(e, self.ty, Path::Field(name), self.r.position()))
    }
}

/// One field of a UDT value (see [`UdtFields::next_field`]).
#[derive(Debug, Clone, Copy)]
pub struct UdtField<'a> {
    ty: &'a ColumnType,
    name: &'a str,
    field_ty: &'a ColumnType,
    at: usize,
    raw: Option<&'a [u8]>,
}

impl<'a> UdtField<'a> {
    /// The field's name in the UDT.
    #[inline]
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The field's value read as `T`, an error naming the field.
    #[inline]
    pub fn read<T: FromCql<'a>>(&self) -> DecodeResult<T> {
        T::from_cql(self.field_ty, self.raw)
            .map_err(|e| nest(e, self.ty, Path::Field(self.name), self.at))
    }
}

/// The UDT of `ty` for writing `rust` (the struct), and how many of its declared fields to
/// write: up to the last one of `names` (the struct's fields), each of which must be the
/// UDT's.
pub fn fields_to_write<'t>(
    ty: &'t ColumnType,
    rust: &'static str,
    names: &[&str],
) -> Result<(&'t UdtType, usize), EncodeError> {
    let ColumnType::Udt(udt) = ty else {
        return Err(EncodeError::TypeMismatch {
            what: rust,
            cql: ty.to_string(),
        });
    };
    if let Some(missing) = names.iter().find(|n| field_type(udt, n).is_none()) {
        return Err(EncodeError::NoSuchField {
            udt: format!("{}.{}", udt.keyspace, udt.name),
            field: (*missing).to_owned(),
        });
    }
    let count = udt
        .fields
        .iter()
        .rposition(|(n, _)| names.contains(&n.as_str()))
        .map_or(0, |last| last + 1);
    Ok((udt, count))
}

/// Appends the field `name` of `udt`, of type `field_ty`, as `[bytes]`. An error names the
/// UDT and the field.
pub fn write_field<T: ToCql + ?Sized>(
    udt: &UdtType,
    name: &str,
    field_ty: &ColumnType,
    value: &T,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    super::write_element(value, field_ty, w).map_err(|cause| EncodeError::InField {
        udt: format!("{}.{}", udt.keyspace, udt.name),
        field: name.to_owned(),
        cause: Box::new(cause),
    })
}

/// Appends a null field: a declared field the struct does not have, before one it has.
#[inline]
pub fn write_null_field(w: &mut Writer<'_>) {
    w.i32(-1);
}

/// The natural type of a struct written as a UDT when no bind metadata gives its type (an
/// unprepared query): its fields in declaration order, each of its value's natural type (a
/// null field's type does not matter: `blob` stands in).
pub fn natural_udt(rust: &str, fields: &[(&str, Option<ColumnType>)]) -> ColumnType {
    ColumnType::Udt(Box::new(UdtType {
        keyspace: String::new(),
        name: rust.to_owned(),
        fields: fields
            .iter()
            .map(|(name, ty)| ((*name).to_owned(), ty.clone().unwrap_or(ColumnType::Blob)))
            .collect(),
    }))
}
