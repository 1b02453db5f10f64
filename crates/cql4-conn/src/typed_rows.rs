//! Rows of a [`QueryResult`] read into Rust types ([`FromRow`]): every row, the first, or the
//! only one. The page's columns are checked against the type once; a mismatch, a null in a
//! non-`Option` field, a missing column or the wrong number of rows is an [`Error`].

use cql4_frame::response::ResultResponse;
use cql4_frame::rows::{FromRow, TypedRows};

use crate::client::QueryResult;
use crate::error::{Error, Result};

impl QueryResult {
    /// The rows read as `T`, borrowing from the page (see
    /// [`Rows::typed`](cql4_frame::rows::Rows::typed)): fails with [`Error::NotRows`] unless this
    /// is a Rows result; a column mismatch is the iterator's only item.
    pub fn rows_typed<'r, T: FromRow<'r>>(&'r self) -> Result<TypedRows<'r, T>> {
        match &self.result {
            ResultResponse::Rows(rows) => Ok(rows.typed()),
            other => Err(Error::NotRows {
                kind: result_kind(other),
            }),
        }
    }

    /// The first row as `T`; fails with [`Error::RowCount`] if there is none.
    ///
    /// ```no_run
    /// use cql4_conn::{Client, FromRow, QueryOptions, SerializeRow};
    ///
    /// #[derive(FromRow, SerializeRow)]
    /// struct User<'a> {
    ///     id: i32,
    ///     name: Option<&'a str>,
    /// }
    ///
    /// # async fn run(client: &Client) -> cql4_conn::Result<()> {
    /// let insert = client.prepare("INSERT INTO ks.users (id, name) VALUES (?, ?)").await?;
    /// let user = User { id: 1, name: Some("ada") };
    /// client.execute(&insert, &user, &QueryOptions::new()).await?;
    ///
    /// let select = client.prepare("SELECT id, name FROM ks.users WHERE id = ?").await?;
    /// let result = client.execute(&select, (1i32,), &QueryOptions::new()).await?;
    /// let user: User<'_> = result.first_row()?;
    /// assert_eq!(user.name, Some("ada"));
    /// # Ok(()) }
    /// ```
    pub fn first_row<'r, T: FromRow<'r>>(&'r self) -> Result<T> {
        self.maybe_first_row()?.ok_or(Error::RowCount {
            expected: "at least one row",
            found: 0,
        })
    }

    /// The first row as `T`, or `None` for a page without rows. The columns are checked
    /// against `T` even then.
    pub fn maybe_first_row<'r, T: FromRow<'r>>(&'r self) -> Result<Option<T>> {
        Ok(self.rows_typed()?.next().transpose()?)
    }

    /// The only row as `T`; fails with [`Error::RowCount`] unless there is exactly one.
    pub fn single_row<'r, T: FromRow<'r>>(&'r self) -> Result<T> {
        let mut rows = self.rows_typed::<T>()?;
        let found = self.rows().map_or(0, cql4_frame::Rows::len);
        match (rows.next(), found) {
            (Some(Err(e)), _) => Err(e.into()),
            (Some(Ok(row)), 1) => Ok(row),
            _ => Err(Error::RowCount {
                expected: "exactly one row",
                found,
            }),
        }
    }
}

/// The §4.2.5 kind name of a RESULT, for errors.
fn result_kind(result: &ResultResponse) -> &'static str {
    match result {
        ResultResponse::Void => "Void",
        ResultResponse::Rows(_) => "Rows",
        ResultResponse::SetKeyspace(_) => "Set_keyspace",
        ResultResponse::Prepared(_) => "Prepared",
        ResultResponse::SchemaChange(_) => "Schema_change",
        _ => "another kind",
    }
}
