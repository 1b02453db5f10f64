//! Paging (native_protocol_v4.spec §8): explicit pages ([`Pager`]) and a `Stream` of rows
//! that fetches the next page while the current one is consumed ([`RowStream`]).
//!
//! Every page is its own request with its own timeout (scylla #1418: timeouts ignored for
//! paged requests could hang forever).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use cql4_frame::rows::{ColumnSpec, FromRow, FromRowOwned, Row, Rows};
use cql4_frame::value::{CqlValue, FromCql};
use cql4_frame::{DecodeError, DecodeErrorKind};
use tokio::task::JoinHandle;

use crate::client::{Client, QueryResult};
use crate::error::{DeadlineScope, Error, Result};
use crate::options::{QueryOptions, RowValues};
use crate::prepared::PreparedStatement;
use crate::typed_stream::TypedRowStream;
use cql4_frame::bind::SerializeRow;

/// A boxed request future, as [`PageFetcher`] returns it.
pub type PageFuture<'a> = Pin<Box<dyn Future<Output = Result<QueryResult>> + Send + 'a>>;

/// What runs the requests of a [`Pager`] or a [`RowStream`]: a [`Client`] (every page on its
/// connection) or a session (each page on the node its routing picks).
pub trait PageFetcher: Send + Sync + std::fmt::Debug + 'static {
    /// Runs a CQL string; `options.paging_state` says which page.
    fn fetch_query<'a>(
        &'a self,
        cql: &'a str,
        values: &'a RowValues,
        options: &'a QueryOptions,
    ) -> PageFuture<'a>;

    /// Executes a prepared statement; `options.paging_state` says which page.
    fn fetch_execute<'a>(
        &'a self,
        statement: &'a PreparedStatement,
        values: &'a RowValues,
        options: &'a QueryOptions,
    ) -> PageFuture<'a>;
}

impl PageFetcher for Client {
    fn fetch_query<'a>(
        &'a self,
        cql: &'a str,
        values: &'a RowValues,
        options: &'a QueryOptions,
    ) -> PageFuture<'a> {
        Box::pin(self.query(cql, values, options))
    }

    fn fetch_execute<'a>(
        &'a self,
        statement: &'a PreparedStatement,
        values: &'a RowValues,
        options: &'a QueryOptions,
    ) -> PageFuture<'a> {
        Box::pin(self.execute(statement, values, options))
    }
}

#[derive(Debug, Clone)]
enum Statement {
    Query(Arc<str>),
    Prepared(PreparedStatement),
}

/// What is needed to fetch any page of one statement.
#[derive(Clone)]
struct PageSource {
    fetcher: Arc<dyn PageFetcher>,
    statement: Statement,
    values: Arc<RowValues>,
    options: QueryOptions,
    /// End of [`QueryOptions::stream_timeout`], counted from the stream's creation.
    deadline: Option<tokio::time::Instant>,
}

impl std::fmt::Debug for PageSource {
    // The values may be anything (and secret): not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageSource")
            .field("fetcher", &self.fetcher)
            .field("statement", &self.statement)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl PageSource {
    fn new(
        fetcher: Arc<dyn PageFetcher>,
        statement: Statement,
        values: Arc<RowValues>,
        options: &QueryOptions,
    ) -> Self {
        let deadline = options.stream_timeout.map(|t| {
            let now = tokio::time::Instant::now();
            now.checked_add(t)
                .unwrap_or(now + Duration::from_secs(365 * 24 * 3600))
        });
        Self {
            fetcher,
            statement,
            values,
            options: options.clone(),
            deadline,
        }
    }

    /// Fetches the page at `paging_state` (the first page for `None`), within the stream's
    /// deadline if it has one.
    async fn fetch(self, paging_state: Option<Bytes>) -> Result<QueryResult> {
        let mut options = self.options;
        options.paging_state = paging_state;
        let Some(deadline) = self.deadline else {
            return Self::fetch_with(&*self.fetcher, &self.statement, &*self.values, &options)
                .await;
        };
        let stream_deadline = |attempts| Error::Deadline {
            scope: DeadlineScope::Stream,
            timeout: options.stream_timeout.unwrap_or_default(),
            attempts,
        };
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(stream_deadline(0));
        }
        // A session stops its retries at the stream's end too, instead of being cut mid-attempt.
        let mut page_options = options.clone();
        page_options.overall_timeout = Some(options.overall_timeout.map_or(left, |t| t.min(left)));
        let fetch = Self::fetch_with(
            &*self.fetcher,
            &self.statement,
            &*self.values,
            &page_options,
        );
        match tokio::time::timeout_at(deadline, fetch).await {
            Ok(Err(Error::Deadline { attempts, .. }))
                if tokio::time::Instant::now() >= deadline =>
            {
                Err(stream_deadline(attempts))
            }
            Ok(r) => r,
            Err(_) => Err(stream_deadline(1)),
        }
    }

    async fn fetch_with(
        fetcher: &dyn PageFetcher,
        statement: &Statement,
        values: &RowValues,
        options: &QueryOptions,
    ) -> Result<QueryResult> {
        match statement {
            Statement::Query(cql) => fetcher.fetch_query(cql, values, options).await,
            Statement::Prepared(p) => fetcher.fetch_execute(p, values, options).await,
        }
    }
}

/// Explicit pages of one statement: each [`Pager::next_page`] is one request.
#[derive(Debug)]
pub struct Pager {
    source: PageSource,
    next: Option<Option<Bytes>>,
}

impl Pager {
    /// Pages of a CQL string fetched by `fetcher`, starting at `options.paging_state`.
    pub fn for_query(
        fetcher: Arc<dyn PageFetcher>,
        cql: &str,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> Self {
        Self {
            next: Some(options.paging_state.clone()),
            source: PageSource::new(
                fetcher,
                Statement::Query(cql.into()),
                Arc::new(values),
                options,
            ),
        }
    }

    /// Pages of a prepared statement fetched by `fetcher`.
    pub fn for_execute(
        fetcher: Arc<dyn PageFetcher>,
        statement: &PreparedStatement,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> Self {
        Self {
            next: Some(options.paging_state.clone()),
            source: PageSource::new(
                fetcher,
                Statement::Prepared(statement.clone()),
                Arc::new(values),
                options,
            ),
        }
    }

    /// The next page, `None` after the last one. The paging state of each page is also in
    /// its [`QueryResult::paging_state`], to resume later with
    /// [`QueryOptions::with_paging_state`].
    pub async fn next_page(&mut self) -> Option<Result<QueryResult>> {
        let state = self.next.take()?;
        let result = self.source.clone().fetch(state).await;
        if let Ok(r) = &result {
            self.next = r.paging_state().cloned().map(Some);
        }
        Some(result)
    }
}

/// A row of a page, holding the page alive; typed access borrows from the frame's bytes.
#[derive(Debug, Clone)]
pub struct RowRef {
    page: Arc<Rows>,
    index: usize,
}

impl RowRef {
    /// The row, borrowed from the page.
    pub fn row(&self) -> Result<Row<'_>, DecodeError> {
        self.page.row(self.index).ok_or_else(|| {
            DecodeError::new(
                DecodeErrorKind::Invalid("row index past the page"),
                "row",
                0,
            )
        })
    }

    /// The value of column `i` as `T` (type checked, then decoded without copying).
    pub fn get<'a, T: FromCql<'a>>(&'a self, i: usize) -> Result<T, DecodeError> {
        self.row()?.get(i)
    }

    /// The value of the column named `name`.
    pub fn get_by_name<'a, T: FromCql<'a>>(&'a self, name: &str) -> Result<T, DecodeError> {
        self.row()?.get_by_name(name)
    }

    /// The row read as `T`, borrowing from the page. Unlike [`QueryResult::rows_typed`], the
    /// columns are checked against `T` for this row alone; [`RowStream::typed`] checks them
    /// once per page.
    pub fn typed<'a, T: FromRow<'a>>(&'a self) -> Result<T, DecodeError> {
        let columns = T::check_columns(self.page.columns())?;
        T::from_row(&columns, &self.row()?)
    }

    /// Every value, owned.
    pub fn to_owned_values(&self) -> Result<Vec<Option<CqlValue>>, DecodeError> {
        self.row()?.to_owned_values()
    }

    /// The page's columns.
    pub fn columns(&self) -> &[ColumnSpec] {
        self.page.columns()
    }
}

/// The pages of a statement, each requested as soon as its predecessor arrives (one page
/// ahead). Dropping it cancels the prefetch.
#[derive(Debug)]
pub(crate) struct Pages {
    source: PageSource,
    next: Option<JoinHandle<Result<QueryResult>>>,
    started: bool,
    warnings: Vec<String>,
}

impl Pages {
    fn new(source: PageSource) -> Self {
        Self {
            source,
            next: None,
            started: false,
            warnings: Vec::new(),
        }
    }

    fn spawn(&mut self, paging_state: Option<Bytes>) {
        let source = self.source.clone();
        self.next = Some(tokio::spawn(source.fetch(paging_state)));
    }

    /// Warnings the server attached to the pages fetched so far.
    pub(crate) fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Stops fetching: the next [`poll_page`](Self::poll_page) says there are no more pages.
    pub(crate) fn stop(&mut self) {
        self.started = true;
        if let Some(h) = self.next.take() {
            h.abort();
        }
    }

    /// The next page, or `None` after the last one (and after an error).
    pub(crate) fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Arc<Rows>>>> {
        if !self.started {
            self.started = true;
            self.spawn(None);
        }
        let Some(handle) = self.next.as_mut() else {
            return Poll::Ready(None);
        };
        let joined = match Pin::new(handle).poll(cx) {
            Poll::Ready(j) => j,
            Poll::Pending => return Poll::Pending,
        };
        self.next = None;
        let result = match joined {
            Ok(r) => r,
            Err(e) => Err(Error::Protocol(format!("page fetch task failed: {e}"))),
        };
        let page = match result {
            Ok(page) => page,
            Err(e) => return Poll::Ready(Some(Err(e))),
        };
        self.warnings.extend(page.warnings.iter().cloned());
        let Some(rows) = page.into_rows() else {
            return Poll::Ready(Some(Err(Error::Protocol(
                "a paged statement answered without rows".to_owned(),
            ))));
        };
        if let Some(state) = rows.paging_state().cloned() {
            self.spawn(Some(state));
        }
        Poll::Ready(Some(Ok(Arc::new(rows))))
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        if let Some(h) = &self.next {
            h.abort();
        }
    }
}

/// Every row of a statement, page after page, as a `futures_core::Stream`. When a page
/// arrives and has a successor, the successor is requested at once (one page ahead), so rows
/// keep flowing while the caller works. Dropping the stream cancels the prefetch.
///
/// [`RowStream::typed`] turns it into a stream of Rust values.
#[derive(Debug)]
pub struct RowStream {
    pages: Pages,
    current: Option<Arc<Rows>>,
    index: usize,
}

impl RowStream {
    /// Every row of a CQL string, its pages fetched by `fetcher`.
    pub fn for_query(
        fetcher: Arc<dyn PageFetcher>,
        cql: &str,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> Self {
        Self::new(PageSource::new(
            fetcher,
            Statement::Query(cql.into()),
            Arc::new(values),
            options,
        ))
    }

    /// Every row of a prepared statement, its pages fetched by `fetcher`.
    pub fn for_execute(
        fetcher: Arc<dyn PageFetcher>,
        statement: &PreparedStatement,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> Self {
        Self::new(PageSource::new(
            fetcher,
            Statement::Prepared(statement.clone()),
            Arc::new(values),
            options,
        ))
    }

    fn new(source: PageSource) -> Self {
        Self {
            pages: Pages::new(source),
            current: None,
            index: 0,
        }
    }

    /// The next row, or `None` after the last one.
    pub async fn next_row(&mut self) -> Option<Result<RowRef>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_row(cx)).await
    }

    /// Warnings the server attached to the pages fetched so far.
    pub fn warnings(&self) -> &[String] {
        self.pages.warnings()
    }

    /// The rest of the rows read as `T` (see [`TypedRowStream`]).
    pub fn typed<T: FromRowOwned>(self) -> TypedRowStream<T> {
        TypedRowStream::new(self.pages, self.current.map(|page| (page, self.index)))
    }

    fn poll_row(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<RowRef>>> {
        loop {
            if let Some(page) = &self.current {
                if self.index < page.len() {
                    let row = RowRef {
                        page: page.clone(),
                        index: self.index,
                    };
                    self.index += 1;
                    return Poll::Ready(Some(Ok(row)));
                }
                self.current = None;
            }
            match self.pages.poll_page(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(page))) => {
                    self.current = Some(page);
                    self.index = 0;
                }
            }
        }
    }
}

impl futures_core::Stream for RowStream {
    type Item = Result<RowRef>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_row(cx)
    }
}

impl Client {
    /// Pages of a CQL string, one request per [`Pager::next_page`]. Starts at
    /// `options.paging_state` if set.
    pub fn query_pages(
        &self,
        cql: &str,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> Pager {
        Pager::for_query(Arc::new(self.clone()), cql, values, options)
    }

    /// Pages of a prepared statement.
    pub fn execute_pages(
        &self,
        statement: &PreparedStatement,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> Pager {
        Pager::for_execute(Arc::new(self.clone()), statement, values, options)
    }

    /// Every row of a CQL string as a stream, prefetching one page ahead.
    pub fn query_rows(
        &self,
        cql: &str,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> RowStream {
        RowStream::for_query(Arc::new(self.clone()), cql, values, options)
    }

    /// Every row of a prepared statement as a stream, prefetching one page ahead.
    pub fn execute_rows(
        &self,
        statement: &PreparedStatement,
        values: impl SerializeRow + Send + Sync + 'static,
        options: &QueryOptions,
    ) -> RowStream {
        RowStream::for_execute(Arc::new(self.clone()), statement, values, options)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cql4_frame::response::{Response, ResultResponse};
    use cql4_frame::types::ColumnType;
    use cql4_frame::DecodeErrorKind;
    use cql4_testkit::frames;

    use super::RowRef;

    fn page() -> Arc<cql4_frame::Rows> {
        let Response::Result(ResultResponse::Rows(rows)) = frames::rows(
            &[("id", ColumnType::Int), ("name", ColumnType::Text)],
            &[
                vec![Some(vec![0, 0, 0, 1]), Some(b"ada".to_vec())],
                vec![Some(vec![0, 0, 0, 2]), None],
            ],
            None,
        ) else {
            panic!("rows")
        };
        Arc::new(rows)
    }

    #[test]
    fn row_ref_reads_its_own_row_typed() {
        let page = page();
        let second = RowRef {
            page: page.clone(),
            index: 1,
        };
        assert_eq!(second.typed::<(i32, Option<&str>)>(), Ok((2, None)));
        let first = RowRef { page, index: 0 };
        assert_eq!(first.typed::<(i32, &str)>(), Ok((1, "ada")));
        let err = first.typed::<(i32, i32)>().unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::InColumn {
                column: "name".into(),
                cause: Box::new(DecodeErrorKind::TypeMismatch {
                    rust: "i32",
                    cql: "text".into()
                })
            }
        );
    }
}
