//! Every row of a statement read into a Rust type, page after page ([`TypedRowStream`]).
//!
//! Each page's columns are checked against the type when the page arrives (names resolved,
//! types compared), so pages whose metadata differ (a column added or reordered between two
//! pages) are each read by their own columns, and rows only decode their cells.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use cql4_frame::rows::{FromRowOwned, IntoTypedRows, Rows};

use crate::error::Result;
use crate::paging::Pages;

/// The rows of a [`RowStream`](crate::RowStream) read as `T`, as a `futures_core::Stream`
/// (from [`RowStream::typed`](crate::RowStream::typed)).
///
/// `T` owns its values (`String`, `Vec<u8>`, not `&str`): a stream item outlives the page it
/// was read from. To borrow from the page, read pages with a [`Pager`](crate::Pager) and
/// [`QueryResult::rows_typed`](crate::QueryResult::rows_typed).
///
/// Errors are [`Error`](crate::Error)s: a column of a page that `T` cannot read (naming the
/// column, its CQL type and the Rust type) ends the stream; a row that fails to decode (a
/// null in a non-`Option` field) is one `Err` item and the next rows follow.
pub struct TypedRowStream<T: FromRowOwned> {
    pages: Pages,
    /// The page being read, checked against `T`.
    current: Option<IntoTypedRows<T>>,
    /// A page not yet checked, and the index of its first row to read.
    pending: Option<(Arc<Rows>, usize)>,
}

impl<T: FromRowOwned> std::fmt::Debug for TypedRowStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedRowStream")
            .field("pages", &self.pages)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl<T: FromRowOwned> TypedRowStream<T> {
    pub(crate) fn new(pages: Pages, pending: Option<(Arc<Rows>, usize)>) -> Self {
        Self {
            pages,
            current: None,
            pending,
        }
    }

    /// The next row, or `None` after the last one.
    pub async fn next_row(&mut self) -> Option<Result<T>> {
        std::future::poll_fn(|cx| self.poll_row(cx)).await
    }

    /// Warnings the server attached to the pages fetched so far.
    pub fn warnings(&self) -> &[String] {
        self.pages.warnings()
    }

    fn poll_row(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        loop {
            if let Some(rows) = &mut self.current {
                if let Some(row) = rows.next() {
                    return Poll::Ready(Some(row.map_err(Into::into)));
                }
                self.current = None;
            }
            let (page, first) = match self.pending.take() {
                Some(pending) => pending,
                None => match self.pages.poll_page(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                    Poll::Ready(Some(Ok(page))) => (page, 0),
                },
            };
            match page.into_typed::<T>() {
                Ok(mut rows) => {
                    if first > 0 {
                        // Skip the rows a `RowStream` already gave out.
                        rows.nth(first - 1);
                    }
                    self.current = Some(rows);
                }
                Err(e) => {
                    self.pages.stop();
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
        }
    }
}

impl<T: FromRowOwned> futures_core::Stream for TypedRowStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_row(cx)
    }
}

impl<T: FromRowOwned> Unpin for TypedRowStream<T> {}
