//! A row of bind values from Rust values: [`SerializeRow`], written against a prepared
//! statement's bind markers (native_protocol_v4.spec §4.2.5.4 `<metadata>`).
//!
//! Each value is written by its [`ToCql`] implementation as its marker's CQL type, so a value
//! that does not fit the marker fails before anything is sent, with an
//! [`EncodeError::InMarker`] naming the marker and both types. A null (`None`) fits every
//! marker, and so does [`Unset`](crate::Unset) (not set: the server leaves the column as it
//! is).
//!
//! | Rust                                   | binds                                        |
//! |----------------------------------------|----------------------------------------------|
//! | `()`                                   | no markers                                   |
//! | `(A,)` … 16-tuples of `ToCql` values   | by position                                  |
//! | `&[T]`, `Vec<T>`, `[T; N]`             | by position, one value per marker            |
//! | `HashMap<K, V>`, `BTreeMap<K, V>`      | by marker name (`K: AsRef<str>`)             |
//! | `#[derive(SerializeRow)]` structs      | by marker name (field name or `rename`)      |
//!
//! ```
//! # use cql4_frame::bind::SerializeRow;
//! # use cql4_frame::rows::ColumnSpec;
//! # use cql4_frame::types::ColumnType;
//! let markers = [ColumnSpec::new("id", ColumnType::Int), ColumnSpec::new("name", ColumnType::Text)];
//! let mut out = Vec::new();
//! (7i32, "ada").serialize_row(&markers, &mut out).unwrap();
//! assert_eq!(out, [0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 3, b'a', b'd', b'a']);
//!
//! let err = ("seven", "ada").serialize_row(&markers, &mut Vec::new()).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "bind marker 0 (id): encoding &str: value does not match CQL type int"
//! );
//! ```

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use crate::error::EncodeError;
use crate::rows::ColumnSpec;
use crate::value::{write_value_or_unset, ToCql};

/// A row of values for a statement's bind markers.
///
/// [`serialize_row`](Self::serialize_row) appends one `[value]` (§3: `[int]` length, -1 for
/// null, -2 for not set, then the bytes) per marker, in marker order, each written as its marker's CQL type.
/// On error `out` may hold the values written before the failing one; callers discard it.
pub trait SerializeRow {
    /// Appends one `[value]` per entry of `markers` to `out`.
    fn serialize_row(&self, markers: &[ColumnSpec], out: &mut Vec<u8>) -> Result<(), EncodeError>;
}

/// Appends `value` as `[value]` for marker `index` (`marker`), naming the marker in an error.
/// The building block of [`SerializeRow`] implementations, derived ones included.
#[inline]
pub fn write_marker<T: ToCql + ?Sized>(
    index: usize,
    marker: &ColumnSpec,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    write_value_or_unset(value, &marker.ty, out, true).map_err(|e| in_marker(index, marker, e))
}

#[cold]
fn in_marker(index: usize, marker: &ColumnSpec, cause: EncodeError) -> EncodeError {
    EncodeError::InMarker {
        index,
        name: marker.name.clone(),
        cause: Box::new(cause),
    }
}

/// Fails with [`EncodeError::ValueCount`] unless there are `values` markers.
#[inline]
pub fn expect_markers(markers: &[ColumnSpec], values: usize) -> Result<(), EncodeError> {
    if markers.len() == values {
        Ok(())
    } else {
        Err(EncodeError::ValueCount {
            markers: markers.len(),
            values,
        })
    }
}

/// The error for a marker that a name-keyed row has no value for.
#[cold]
pub fn missing_value(index: usize, marker: &ColumnSpec) -> EncodeError {
    EncodeError::MissingValue {
        index,
        name: marker.name.clone(),
    }
}

impl<R: SerializeRow + ?Sized> SerializeRow for &R {
    #[inline]
    fn serialize_row(&self, markers: &[ColumnSpec], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        (**self).serialize_row(markers, out)
    }
}

impl SerializeRow for () {
    #[inline]
    fn serialize_row(&self, markers: &[ColumnSpec], _out: &mut Vec<u8>) -> Result<(), EncodeError> {
        expect_markers(markers, 0)
    }
}

impl<T: ToCql> SerializeRow for [T] {
    fn serialize_row(&self, markers: &[ColumnSpec], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        expect_markers(markers, self.len())?;
        for (i, (value, marker)) in self.iter().zip(markers).enumerate() {
            write_marker(i, marker, value, out)?;
        }
        Ok(())
    }
}

impl<T: ToCql> SerializeRow for Vec<T> {
    #[inline]
    fn serialize_row(&self, markers: &[ColumnSpec], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.as_slice().serialize_row(markers, out)
    }
}

impl<T: ToCql, const N: usize> SerializeRow for [T; N] {
    #[inline]
    fn serialize_row(&self, markers: &[ColumnSpec], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.as_slice().serialize_row(markers, out)
    }
}

/// Writes each marker's value looked up by its name, then checks that every name is a
/// marker's (a misspelt key would otherwise be dropped without a word).
fn serialize_by_name<'m, V: ToCql + 'm>(
    markers: &[ColumnSpec],
    lookup: impl Fn(&str) -> Option<&'m V>,
    mut names: impl Iterator<Item = &'m str>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    for (i, marker) in markers.iter().enumerate() {
        let value = lookup(&marker.name).ok_or_else(|| missing_value(i, marker))?;
        write_marker(i, marker, value, out)?;
    }
    match names.find(|n| !markers.iter().any(|m| m.name == *n)) {
        Some(extra) => Err(EncodeError::NoSuchMarker(extra.to_owned())),
        None => Ok(()),
    }
}

impl<K, V, S> SerializeRow for HashMap<K, V, S>
where
    K: Borrow<str> + Eq + Hash,
    V: ToCql,
    S: BuildHasher,
{
    fn serialize_row(&self, markers: &[ColumnSpec], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        serialize_by_name(
            markers,
            |name| self.get(name),
            self.keys().map(Borrow::borrow),
            out,
        )
    }
}

impl<K: Borrow<str> + Ord, V: ToCql> SerializeRow for BTreeMap<K, V> {
    fn serialize_row(&self, markers: &[ColumnSpec], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        serialize_by_name(
            markers,
            |name| self.get(name),
            self.keys().map(Borrow::borrow),
            out,
        )
    }
}

macro_rules! tuple_rows {
    ($($n:literal => ($($t:ident $m:ident $i:tt),+);)+) => {$(
        impl<$($t: ToCql),+> SerializeRow for ($($t,)+) {
            #[inline]
            fn serialize_row(
                &self,
                markers: &[ColumnSpec],
                out: &mut Vec<u8>,
            ) -> Result<(), EncodeError> {
                let [$($m),+] = markers else {
                    return Err(EncodeError::ValueCount { markers: markers.len(), values: $n });
                };
                $(write_marker($i, $m, &self.$i, out)?;)+
                Ok(())
            }
        }
    )+};
}

tuple_rows! {
    1 => (A a 0);
    2 => (A a 0, B b 1);
    3 => (A a 0, B b 1, C c 2);
    4 => (A a 0, B b 1, C c 2, D d 3);
    5 => (A a 0, B b 1, C c 2, D d 3, E e 4);
    6 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5);
    7 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6);
    8 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7);
    9 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7, I i 8);
    10 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7, I i 8, J j 9);
    11 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7, I i 8, J j 9, K k 10);
    12 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7, I i 8, J j 9, K k 10, L l 11);
    13 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7, I i 8, J j 9, K k 10, L l 11, M m 12);
    14 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7, I i 8, J j 9, K k 10, L l 11, M m 12, N n 13);
    15 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7, I i 8, J j 9, K k 10, L l 11, M m 12, N n 13, O o 14);
    16 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7, I i 8, J j 9, K k 10, L l 11, M m 12, N n 13, O o 14, P p 15);
}

#[cfg(test)]
mod tests;
