//! Lazy, allocation-free readers of collections: elements are decoded one at a time, borrowing
//! from the frame, when the caller iterates.

use std::fmt;
use std::marker::PhantomData;

use super::{collection_count, element, nest, FromCql, Path};
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult};
use crate::reader::Reader;
use crate::types::ColumnType;

/// The elements of a `list` or `set`, decoded lazily as `T` (e.g. `ListIter<'_, &str>`).
///
/// Reading it from a cell checks the element type and reads the count; each element is decoded
/// when iterated, so nothing is allocated. After an error the iterator ends. A null or empty
/// collection yields no elements.
pub struct ListIter<'a, T> {
    ty: &'a ColumnType,
    elem: &'a ColumnType,
    r: Reader<'a>,
    left: usize,
    index: usize,
    _t: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ListIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListIter")
            .field("ty", &self.ty.to_string())
            .field("left", &self.left)
            .finish()
    }
}

impl<'a, T> ListIter<'a, T> {
    /// Elements not yet read, as the collection's count declares them.
    pub fn len(&self) -> usize {
        self.left
    }

    /// True when no elements are left.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }
}

/// Reads a collection's header: the reader after the count, and the count.
#[inline]
fn header<'a>(raw: Option<&'a [u8]>) -> DecodeResult<(Reader<'a>, usize)> {
    match raw.filter(|r| !r.is_empty()) {
        None => Ok((Reader::new(&[]), 0)),
        Some(raw) => {
            let mut r = Reader::new(raw);
            let n = collection_count(&mut r)?;
            Ok((r, n))
        }
    }
}

fn mismatch(rust: &'static str, ty: &ColumnType) -> DecodeError {
    DecodeError::new(
        DecodeErrorKind::TypeMismatch {
            rust,
            cql: ty.to_string(),
        },
        super::WHAT,
        0,
    )
}

impl<'a, T: FromCql<'a>> FromCql<'a> for ListIter<'a, T> {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        match ty {
            ColumnType::List(e) | ColumnType::Set(e) => T::type_check(e),
            _ => Err(DecodeErrorKind::TypeMismatch {
                rust: "ListIter<T>",
                cql: ty.to_string(),
            }),
        }
    }

    #[inline]
    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        let (ColumnType::List(elem) | ColumnType::Set(elem)) = ty else {
            return Err(mismatch("ListIter<T>", ty));
        };
        let (r, left) = header(raw)?;
        Ok(Self {
            ty,
            elem,
            r,
            left,
            index: 0,
            _t: PhantomData,
        })
    }
}

impl<'a, T: FromCql<'a>> Iterator for ListIter<'a, T> {
    type Item = DecodeResult<T>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let i = self.index;
        self.index += 1;
        let item = element(&mut self.r)
            .map_err(|e| nest(e, self.ty, Path::Element(i), 0))
            .and_then(|(at, bytes)| {
                T::from_cql(self.elem, bytes).map_err(|e| nest(e, self.ty, Path::Element(i), at))
            });
        if item.is_err() {
            self.left = 0;
        }
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Every element takes at least its 4-byte length.
        (0, Some(self.left.min(self.r.remaining() / 4)))
    }
}

/// The entries of a `map`, decoded lazily as `(K, V)` (e.g. `MapIter<'_, &str, &str>`), in
/// wire order, without allocating. After an error the iterator ends; a null or empty map
/// yields no entries.
pub struct MapIter<'a, K, V> {
    ty: &'a ColumnType,
    key: &'a ColumnType,
    value: &'a ColumnType,
    r: Reader<'a>,
    left: usize,
    index: usize,
    _kv: PhantomData<fn() -> (K, V)>,
}

impl<K, V> fmt::Debug for MapIter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapIter")
            .field("ty", &self.ty.to_string())
            .field("left", &self.left)
            .finish()
    }
}

impl<K, V> MapIter<'_, K, V> {
    /// Entries not yet read, as the map's count declares them.
    pub fn len(&self) -> usize {
        self.left
    }

    /// True when no entries are left.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }
}

impl<'a, K: FromCql<'a>, V: FromCql<'a>> FromCql<'a> for MapIter<'a, K, V> {
    #[inline]
    fn type_check(ty: &ColumnType) -> Result<(), DecodeErrorKind> {
        match ty {
            ColumnType::Map(k, v) => {
                K::type_check(k)?;
                V::type_check(v)
            }
            _ => Err(DecodeErrorKind::TypeMismatch {
                rust: "MapIter<K, V>",
                cql: ty.to_string(),
            }),
        }
    }

    #[inline]
    fn from_cql(ty: &'a ColumnType, raw: Option<&'a [u8]>) -> DecodeResult<Self> {
        let ColumnType::Map(key, value) = ty else {
            return Err(mismatch("MapIter<K, V>", ty));
        };
        let (r, left) = header(raw)?;
        Ok(Self {
            ty,
            key,
            value,
            r,
            left,
            index: 0,
            _kv: PhantomData,
        })
    }
}

impl<'a, K: FromCql<'a>, V: FromCql<'a>> MapIter<'a, K, V> {
    fn entry(&mut self, i: usize) -> DecodeResult<(K, V)> {
        let (at, bytes) =
            element(&mut self.r).map_err(|e| nest(e, self.ty, Path::Entry(i, "key"), 0))?;
        let k = K::from_cql(self.key, bytes)
            .map_err(|e| nest(e, self.ty, Path::Entry(i, "key"), at))?;
        let (at, bytes) =
            element(&mut self.r).map_err(|e| nest(e, self.ty, Path::Entry(i, "value"), 0))?;
        let v = V::from_cql(self.value, bytes)
            .map_err(|e| nest(e, self.ty, Path::Entry(i, "value"), at))?;
        Ok((k, v))
    }
}

impl<'a, K: FromCql<'a>, V: FromCql<'a>> Iterator for MapIter<'a, K, V> {
    type Item = DecodeResult<(K, V)>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let i = self.index;
        self.index += 1;
        let item = self.entry(i);
        if item.is_err() {
            self.left = 0;
        }
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left.min(self.r.remaining() / 8)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_ty() -> ColumnType {
        ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text))
    }

    #[test]
    fn map_iter_borrows_and_keeps_order() {
        #[rustfmt::skip]
        let bytes = [
            0, 0, 0, 2,
            0, 0, 0, 1, b'b', 0, 0, 0, 1, b'1',
            0, 0, 0, 1, b'a', 0, 0, 0, 2, b'2', b'2',
        ];
        let ty = map_ty();
        <MapIter<'_, &str, &str>>::type_check(&ty).unwrap();
        let it: MapIter<'_, &str, &str> = FromCql::from_cql(&ty, Some(&bytes)).unwrap();
        assert_eq!(it.len(), 2);
        let entries: Vec<_> = it.map(Result::unwrap).collect();
        assert_eq!(entries, [("b", "1"), ("a", "22")]);
        assert_eq!(entries[0].0.as_ptr(), bytes[8..].as_ptr());
        let none: MapIter<'_, &str, &str> = FromCql::from_cql(&ty, None).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn list_iter_stops_after_an_error() {
        // list<int> claiming 3 elements: 1, a 2-byte element, then nothing.
        let bytes = [0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0];
        let ty = ColumnType::List(Box::new(ColumnType::Int));
        let mut it: ListIter<'_, i32> = FromCql::from_cql(&ty, Some(&bytes)).unwrap();
        assert_eq!(it.next().unwrap().unwrap(), 1);
        let err = it.next().unwrap().unwrap_err();
        assert_eq!(err.offset(), 16);
        assert!(matches!(err.kind(), DecodeErrorKind::InValue { .. }));
        assert!(it.next().is_none());
        assert!(<ListIter<'_, &str>>::type_check(&ty).is_err());
        assert!(<MapIter<'_, &str, &str>>::type_check(&ty).is_err());
    }
}
