//! Rows read into Rust types: [`FromRow`], checked against a page's columns once and then
//! decoded row by row ([`Rows::typed`]).
//!
//! The check resolves what the type needs from the column specs (their count and types for a
//! tuple, the index of each named column for a derived struct) and keeps it in
//! [`FromRow::Columns`]; each row then only decodes its cells, borrowing from the page
//! (`&str`, `&[u8]`). Errors name the column, its CQL type and the Rust type.
//!
//! ```
//! # use bytes::Bytes;
//! # use cql4_frame::{DecodeLimits, Reader};
//! # use cql4_frame::rows::Rows;
//! # fn main() -> Result<(), cql4_frame::DecodeError> {
//! // Columns id int and name text, rows (1, "ada") and (2, null).
//! let body = Bytes::from_static(&[
//!     0, 0, 0, 1, 0, 0, 0, 2, 0, 2, b'k', b's', 0, 1, b't',
//!     0, 2, b'i', b'd', 0, 9, 0, 4, b'n', b'a', b'm', b'e', 0, 13,
//!     0, 0, 0, 2,
//!     0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 3, b'a', b'd', b'a',
//!     0, 0, 0, 4, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff,
//! ]);
//! let rows = Rows::decode(&body, &mut Reader::new(&body), &DecodeLimits::default())?;
//! let read: Vec<(i32, Option<&str>)> = rows.typed().collect::<Result<_, _>>()?;
//! assert_eq!(read, [(1, Some("ada")), (2, None)]);
//!
//! let err = rows.typed::<(i32, i32)>().next().unwrap().unwrap_err();
//! assert_eq!(err.kind().to_string(), "column name: cannot read CQL type text as i32");
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use super::{ColumnSpec, Row, RowCursor, Rows};
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult};
use crate::value::FromCql;

/// What a column-check failure reports as its context.
const CHECK: &str = "RESULT Rows metadata col_spec";

/// A Rust type that one row reads into, borrowing from the page for `'r`.
///
/// Implemented for tuples of up to 16 [`FromCql`] types (column `i` into element `i`) and by
/// `#[derive(FromRow)]` (from the `cql4-macros` crate) for structs, by column name.
pub trait FromRow<'r>: Sized {
    /// What [`check_columns`](Self::check_columns) learns about a page that each row's decode
    /// reuses: the column index of each field for a by-name type, nothing for a tuple.
    type Columns;

    /// Checks the page's columns against `Self` (count, names, types), once per page.
    fn check_columns(columns: &[ColumnSpec]) -> DecodeResult<Self::Columns>;

    /// Decodes one row of a page whose columns passed [`check_columns`](Self::check_columns).
    fn from_row(columns: &Self::Columns, row: &Row<'r>) -> DecodeResult<Self>;
}

/// A [`FromRow`] type that borrows nothing from the page (`String`, not `&str`), so that it
/// can outlive the page it was read from: what a stream of rows yields, one page after the
/// other (`RowStream::typed` in `cql4-conn`).
///
/// Implemented for every `T: for<'r> FromRow<'r>` whose [`FromRow::Columns`] does not depend
/// on the page's lifetime, which holds for tuples and derived structs without borrowed
/// fields. It names that `Columns` type once, so that the check of one page can be kept while
/// its rows are read.
pub trait FromRowOwned: Sized {
    /// [`FromRow::Columns`], the same for every page lifetime.
    type OwnedColumns;

    /// [`FromRow::check_columns`].
    fn check_owned(columns: &[ColumnSpec]) -> DecodeResult<Self::OwnedColumns>;

    /// [`FromRow::from_row`], for a row of any page.
    fn from_row_owned(columns: &Self::OwnedColumns, row: &Row<'_>) -> DecodeResult<Self>;
}

impl<T, C> FromRowOwned for T
where
    T: for<'r> FromRow<'r, Columns = C>,
{
    type OwnedColumns = C;

    #[inline]
    fn check_owned(columns: &[ColumnSpec]) -> DecodeResult<C> {
        <T as FromRow<'_>>::check_columns(columns)
    }

    #[inline]
    fn from_row_owned(columns: &C, row: &Row<'_>) -> DecodeResult<Self> {
        T::from_row(columns, row)
    }
}

/// Checks that `column` can be read as `T`, naming the column in the error.
#[inline]
pub fn check_column<'r, T: FromCql<'r>>(column: &ColumnSpec) -> DecodeResult<()> {
    T::type_check(&column.ty).map_err(|kind| {
        DecodeError::new(
            DecodeErrorKind::InColumn {
                column: column.name.clone(),
                cause: Box::new(kind),
            },
            CHECK,
            0,
        )
    })
}

/// The index of the column named `name`, checked to be readable as `T`.
pub fn column_by_name<'r, T: FromCql<'r>>(
    columns: &[ColumnSpec],
    name: &str,
) -> DecodeResult<usize> {
    let (i, column) = columns
        .iter()
        .enumerate()
        .find(|(_, c)| c.name == name)
        .ok_or_else(|| {
            DecodeError::new(DecodeErrorKind::NoSuchColumn(name.to_owned()), CHECK, 0)
        })?;
    check_column::<T>(column)?;
    Ok(i)
}

/// Fails with [`DecodeErrorKind::ColumnCount`] unless there are `expected` columns.
#[inline]
pub fn expect_columns(columns: &[ColumnSpec], expected: usize) -> DecodeResult<()> {
    if columns.len() == expected {
        Ok(())
    } else {
        Err(DecodeError::new(
            DecodeErrorKind::ColumnCount {
                expected,
                found: columns.len(),
            },
            CHECK,
            0,
        ))
    }
}

impl Rows {
    /// The rows read as `T`: the page's columns are checked against `T` once (an error there
    /// is the iterator's only item), then each row is decoded, borrowing from the page.
    ///
    /// The page's bytes are walked here, once, row by row: a row whose cells do not fit the
    /// bytes is an error item, and so is every row after it (one item per row either way).
    pub fn typed<'r, T: FromRow<'r>>(&'r self) -> TypedRows<'r, T> {
        let columns = self
            .typed_columns()
            .and_then(T::check_columns)
            .map_err(Some);
        TypedRows {
            rows: self,
            cursor: RowCursor::default(),
            columns,
        }
    }

    /// The rows read as an owned `T`, the iterator owning the page: what a stream of pages
    /// keeps while its caller reads the rows. The columns are checked against `T` here, once
    /// for the page.
    pub fn into_typed<T: FromRowOwned>(self: Arc<Self>) -> DecodeResult<IntoTypedRows<T>> {
        let columns = T::check_owned(self.typed_columns()?)?;
        Ok(IntoTypedRows {
            rows: self,
            columns,
            cursor: RowCursor::default(),
        })
    }

    /// The column specs a typed read checks, or an error for a page without them.
    fn typed_columns(&self) -> DecodeResult<&[ColumnSpec]> {
        if self.page.metadata.columns.len() == self.page.columns_count {
            Ok(&self.page.metadata.columns)
        } else {
            Err(DecodeError::new(
                DecodeErrorKind::Invalid(
                    "page has no column metadata (No_metadata): decode it with the prepared result metadata",
                ),
                CHECK,
                0,
            ))
        }
    }
}

/// The rows of a page read as an owned `T`, owning the page (see [`Rows::into_typed`]).
pub struct IntoTypedRows<T: FromRowOwned> {
    rows: Arc<Rows>,
    columns: T::OwnedColumns,
    cursor: RowCursor,
}

impl<T: FromRowOwned> IntoTypedRows<T> {
    /// The page.
    pub fn rows(&self) -> &Arc<Rows> {
        &self.rows
    }
}

impl<T: FromRowOwned> std::fmt::Debug for IntoTypedRows<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntoTypedRows")
            .field("rows", &self.rows.len())
            .field("cursor", &self.cursor)
            .finish()
    }
}

impl<T: FromRowOwned> Iterator for IntoTypedRows<T> {
    type Item = DecodeResult<T>;

    #[inline]
    fn next(&mut self) -> Option<DecodeResult<T>> {
        let columns = &self.columns;
        self.cursor
            .next_row(&self.rows, |row| T::from_row_owned(columns, row))
    }

    /// Skips `n` rows without decoding them (their cells are still walked).
    fn nth(&mut self, n: usize) -> Option<DecodeResult<T>> {
        for _ in 0..n {
            if let Err(e) = self.cursor.next_row(&self.rows, |_| Ok(()))? {
                return Some(Err(e));
            }
        }
        self.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.cursor.left(&self.rows);
        (left, Some(left))
    }
}

impl<T: FromRowOwned> ExactSizeIterator for IntoTypedRows<T> {}

/// The rows of a page read as `T` (see [`Rows::typed`]).
pub struct TypedRows<'r, T: FromRow<'r>> {
    rows: &'r Rows,
    /// Walks the page's bytes once, row by row.
    cursor: RowCursor,
    /// The checked columns, or the check's error until it has been yielded.
    columns: Result<T::Columns, Option<DecodeError>>,
}

impl<'r, T: FromRow<'r>> std::fmt::Debug for TypedRows<'r, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedRows")
            .field("rows", &self.rows.len())
            .field("cursor", &self.cursor)
            .field("checked", &self.columns.is_ok())
            .finish()
    }
}

impl<'r, T: FromRow<'r>> Iterator for TypedRows<'r, T> {
    type Item = DecodeResult<T>;

    #[inline]
    fn next(&mut self) -> Option<DecodeResult<T>> {
        match &mut self.columns {
            Ok(columns) => self
                .cursor
                .next_row(self.rows, |row| T::from_row(columns, row)),
            Err(e) => e.take().map(Err),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.columns {
            Ok(_) => {
                let left = self.cursor.left(self.rows);
                (left, Some(left))
            }
            Err(e) => {
                let n = usize::from(e.is_some());
                (n, Some(n))
            }
        }
    }
}

impl<'r, T: FromRow<'r>> ExactSizeIterator for TypedRows<'r, T> {}

macro_rules! tuple_rows {
    ($($n:literal => ($($t:ident $c:ident $i:tt),+);)+) => {$(
        impl<'r, $($t: FromCql<'r>),+> FromRow<'r> for ($($t,)+) {
            type Columns = ();

            fn check_columns(columns: &[ColumnSpec]) -> DecodeResult<()> {
                let [$($c),+] = columns else {
                    return expect_columns(columns, $n);
                };
                $(check_column::<$t>($c)?;)+
                Ok(())
            }

            #[inline]
            fn from_row((): &(), row: &Row<'r>) -> DecodeResult<Self> {
                Ok(($(row.decode_cell::<$t>($i)?,)+))
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
