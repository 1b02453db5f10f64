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
//! Without bind metadata (an unprepared QUERY), [`SerializeRow::serialize_unprepared`] writes
//! each value as its Rust type's natural CQL type ([`ToCql::natural_type`]): positionally for
//! tuples and slices, by name (flag 0x40) for maps and derived structs.
//!
//! The values are written straight into the request frame ([`Bound`], [`Unprepared`]): no
//! buffer per value, no list of values.
//!
//! ```
//! # use cql4_frame::bind::SerializeRow;
//! # use cql4_frame::rows::ColumnSpec;
//! # use cql4_frame::types::ColumnType;
//! # use cql4_frame::writer::Writer;
//! let markers = [ColumnSpec::new("id", ColumnType::Int), ColumnSpec::new("name", ColumnType::Text)];
//! let mut out = Vec::new();
//! (7i32, "ada").serialize_row(&markers, &mut Writer::new(&mut out)).unwrap();
//! assert_eq!(out, [0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 3, b'a', b'd', b'a']);
//!
//! let err = ("seven", "ada").serialize_row(&markers, &mut Writer::new(&mut Vec::new())).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "bind marker 0 (id): encoding &str: value does not match CQL type int"
//! );
//! ```

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use crate::error::EncodeError;
use crate::request::WriteValues;
use crate::rows::ColumnSpec;
use crate::types::ColumnType;
use crate::value::{write_value_or_unset, ToCql};
use crate::writer::Writer;

/// A row of values for a statement's bind markers.
///
/// [`serialize_row`](Self::serialize_row) appends one `[value]` (§3: `[int]` length, -1 for
/// null, -2 for not set, then the bytes) per marker, in marker order, each written as its
/// marker's CQL type. On error the writer may hold the values written before the failing one;
/// callers discard it.
pub trait SerializeRow {
    /// Appends one `[value]` per entry of `markers`.
    fn serialize_row(&self, markers: &[ColumnSpec], w: &mut Writer<'_>) -> Result<(), EncodeError>;

    /// Appends the values for a statement that has no bind metadata (an unprepared QUERY),
    /// each as its natural CQL type, preceded by its `[string]` name when
    /// [`is_named`](Self::is_named). Returns how many were written.
    fn serialize_unprepared(&self, w: &mut Writer<'_>) -> Result<usize, EncodeError>;

    /// True when [`serialize_unprepared`](Self::serialize_unprepared) writes names (flag 0x40):
    /// maps and derived structs.
    fn is_named(&self) -> bool {
        false
    }
}

/// A row bound to a prepared statement's markers, written into a request's values
/// (§4.1.4 flag 0x01): the `[short]` count then one `[value]` per marker, each checked against
/// its marker's type. A statement without markers sends no values.
#[derive(Debug)]
pub struct Bound<'a, R: ?Sized> {
    /// The values.
    pub row: &'a R,
    /// The statement's bind markers (its PREPARED metadata).
    pub markers: &'a [ColumnSpec],
}

impl<R: SerializeRow + ?Sized> WriteValues for Bound<'_, R> {
    #[inline]
    fn write_values(&self, w: &mut Writer<'_>) -> Result<Option<bool>, EncodeError> {
        let at = w.position();
        w.short_count(self.markers.len(), "values")?;
        self.row.serialize_row(self.markers, w)?;
        if self.markers.is_empty() {
            w.truncate(at);
            return Ok(None);
        }
        Ok(Some(false))
    }
}

/// A row for an unprepared query, written into a request's values by the Rust types
/// ([`SerializeRow::serialize_unprepared`]); an empty row sends no values.
#[derive(Debug)]
pub struct Unprepared<'a, R: ?Sized>(pub &'a R);

impl<R: SerializeRow + ?Sized> WriteValues for Unprepared<'_, R> {
    fn write_values(&self, w: &mut Writer<'_>) -> Result<Option<bool>, EncodeError> {
        let at = w.position();
        w.u16(0);
        let n = self.0.serialize_unprepared(w)?;
        if n == 0 {
            w.truncate(at);
            return Ok(None);
        }
        let count = u16::try_from(n).map_err(|_| EncodeError::TooLong {
            what: "values",
            length: n,
            max: usize::from(u16::MAX),
        })?;
        w.patch(at, &count.to_be_bytes());
        Ok(Some(self.0.is_named()))
    }
}

/// Appends `value` as `[value]` of its natural CQL type (an unprepared query's value number
/// `index`); null and [`Unset`](crate::Unset) as -1 and -2.
#[inline]
pub fn write_natural<T: ToCql + ?Sized>(
    index: usize,
    value: &T,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    natural(index, "", value, w)
}

/// Appends a named value of an unprepared query: its `[string]` name then the value as in
/// [`write_natural`].
#[inline]
pub fn write_named_natural<T: ToCql + ?Sized>(
    index: usize,
    name: &str,
    value: &T,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    w.string(name, "value name")?;
    natural(index, name, value, w)
}

#[inline]
fn natural<T: ToCql + ?Sized>(
    index: usize,
    name: &str,
    value: &T,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    // A null, unset or empty value fits any type; `blob` stands in.
    let ty = value.natural_type().unwrap_or(ColumnType::Blob);
    write_value_or_unset(value, &ty, w, true).map_err(|cause| EncodeError::InMarker {
        index,
        name: name.to_owned(),
        cause: Box::new(cause),
    })
}

/// Appends `value` as `[value]` for marker `index` (`marker`), naming the marker in an error.
/// The building block of [`SerializeRow`] implementations, derived ones included.
#[inline]
pub fn write_marker<T: ToCql + ?Sized>(
    index: usize,
    marker: &ColumnSpec,
    value: &T,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    write_value_or_unset(value, &marker.ty, w, true).map_err(|e| in_marker(index, marker, e))
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
    fn serialize_row(&self, markers: &[ColumnSpec], w: &mut Writer<'_>) -> Result<(), EncodeError> {
        (**self).serialize_row(markers, w)
    }

    #[inline]
    fn serialize_unprepared(&self, w: &mut Writer<'_>) -> Result<usize, EncodeError> {
        (**self).serialize_unprepared(w)
    }

    #[inline]
    fn is_named(&self) -> bool {
        (**self).is_named()
    }
}

impl SerializeRow for () {
    #[inline]
    fn serialize_row(
        &self,
        markers: &[ColumnSpec],
        _w: &mut Writer<'_>,
    ) -> Result<(), EncodeError> {
        expect_markers(markers, 0)
    }

    #[inline]
    fn serialize_unprepared(&self, _w: &mut Writer<'_>) -> Result<usize, EncodeError> {
        Ok(0)
    }
}

impl<T: ToCql> SerializeRow for [T] {
    fn serialize_row(&self, markers: &[ColumnSpec], w: &mut Writer<'_>) -> Result<(), EncodeError> {
        expect_markers(markers, self.len())?;
        for (i, (value, marker)) in self.iter().zip(markers).enumerate() {
            write_marker(i, marker, value, w)?;
        }
        Ok(())
    }

    fn serialize_unprepared(&self, w: &mut Writer<'_>) -> Result<usize, EncodeError> {
        for (i, value) in self.iter().enumerate() {
            write_natural(i, value, w)?;
        }
        Ok(self.len())
    }
}

impl<T: ToCql> SerializeRow for Vec<T> {
    #[inline]
    fn serialize_row(&self, markers: &[ColumnSpec], w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.as_slice().serialize_row(markers, w)
    }

    #[inline]
    fn serialize_unprepared(&self, w: &mut Writer<'_>) -> Result<usize, EncodeError> {
        self.as_slice().serialize_unprepared(w)
    }
}

impl<T: ToCql, const N: usize> SerializeRow for [T; N] {
    #[inline]
    fn serialize_row(&self, markers: &[ColumnSpec], w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.as_slice().serialize_row(markers, w)
    }

    #[inline]
    fn serialize_unprepared(&self, w: &mut Writer<'_>) -> Result<usize, EncodeError> {
        self.as_slice().serialize_unprepared(w)
    }
}

/// Writes each marker's value looked up by its name, then checks that every name is a
/// marker's (a misspelt key would otherwise be dropped without a word).
fn serialize_by_name<'m, V: ToCql + 'm>(
    markers: &[ColumnSpec],
    lookup: impl Fn(&str) -> Option<&'m V>,
    mut names: impl Iterator<Item = &'m str>,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    for (i, marker) in markers.iter().enumerate() {
        let value = lookup(&marker.name).ok_or_else(|| missing_value(i, marker))?;
        write_marker(i, marker, value, w)?;
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
    fn serialize_row(&self, markers: &[ColumnSpec], w: &mut Writer<'_>) -> Result<(), EncodeError> {
        serialize_by_name(
            markers,
            |name| self.get(name),
            self.keys().map(Borrow::borrow),
            w,
        )
    }

    fn serialize_unprepared(&self, w: &mut Writer<'_>) -> Result<usize, EncodeError> {
        for (i, (name, value)) in self.iter().enumerate() {
            write_named_natural(i, name.borrow(), value, w)?;
        }
        Ok(self.len())
    }

    fn is_named(&self) -> bool {
        true
    }
}

impl<K: Borrow<str> + Ord, V: ToCql> SerializeRow for BTreeMap<K, V> {
    fn serialize_row(&self, markers: &[ColumnSpec], w: &mut Writer<'_>) -> Result<(), EncodeError> {
        serialize_by_name(
            markers,
            |name| self.get(name),
            self.keys().map(Borrow::borrow),
            w,
        )
    }

    fn serialize_unprepared(&self, w: &mut Writer<'_>) -> Result<usize, EncodeError> {
        for (i, (name, value)) in self.iter().enumerate() {
            write_named_natural(i, name.borrow(), value, w)?;
        }
        Ok(self.len())
    }

    fn is_named(&self) -> bool {
        true
    }
}

macro_rules! tuple_rows {
    ($($n:literal => ($($t:ident $m:ident $i:tt),+);)+) => {$(
        impl<$($t: ToCql),+> SerializeRow for ($($t,)+) {
            #[inline]
            fn serialize_row(
                &self,
                markers: &[ColumnSpec],
                w: &mut Writer<'_>,
            ) -> Result<(), EncodeError> {
                let [$($m),+] = markers else {
                    return Err(EncodeError::ValueCount { markers: markers.len(), values: $n });
                };
                $(write_marker($i, $m, &self.$i, w)?;)+
                Ok(())
            }

            #[inline]
            fn serialize_unprepared(&self, w: &mut Writer<'_>) -> Result<usize, EncodeError> {
                $(write_natural($i, &self.$i, w)?;)+
                Ok($n)
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
