//! A page of rows (native_protocol_v4.spec §4.2.5.2), decoded without copying cells.
//!
//! [`Rows::decode`] reads the metadata and `<rows_count>` and keeps the rows' bytes as they came
//! (refusing a count the bytes cannot back, at 4 bytes a cell); it does not walk the cells. A
//! typed read ([`Rows::typed`], [`Rows::into_typed`]) walks them once, row by row, checking each
//! cell's `[bytes]` length as it goes; the untyped API ([`Rows::iter`], [`Rows::row`]) records
//! one [`CellRange`] per cell on first use, in a single `Vec` whose capacity is capped by the
//! bytes. Either way a cell that does not fit is a decode error of the row that holds it and of
//! every row after it (the rows before it read normally); bytes after the last row are ignored,
//! as the frame decoder ignores them. Cells stay in the frame's `Bytes`; a [`Row`] hands out
//! borrowed slices and typed values ([`Row::get`] checks the column type first, then decodes,
//! borrowing `&str` and `&[u8]` from the frame). Column metadata sits in an `Arc` so that a
//! page decoded with cached prepared metadata (skip-metadata EXECUTE) shares it instead of
//! copying.
//!
//! ```
//! # use bytes::Bytes;
//! # use cql4_frame::{DecodeLimits, Reader};
//! # use cql4_frame::rows::{ColumnSpec, ResultMetadata, Rows};
//! # use cql4_frame::types::ColumnType;
//! # fn main() -> Result<(), cql4_frame::DecodeError> {
//! // A one-column page with one row, as it follows the RESULT kind [int].
//! let body = Bytes::from_static(&[
//!     0, 0, 0, 1, 0, 0, 0, 1,             // flags Global_tables_spec, 1 column
//!     0, 2, b'k', b's', 0, 1, b't',       // keyspace "ks", table "t"
//!     0, 4, b'n', b'a', b'm', b'e', 0, 13, // column "name" varchar
//!     0, 0, 0, 1,                         // 1 row
//!     0, 0, 0, 3, b'a', b'b', b'c',       // "abc"
//! ]);
//! let mut r = Reader::new(&body);
//! let rows = Rows::decode(&body, &mut r, &DecodeLimits::default())?;
//! for row in rows.iter() {
//!     let name: &str = row.get(0)?;
//!     assert_eq!(name, "abc");
//!     assert_eq!(row.get_by_name::<Option<&str>>("name")?, Some("abc"));
//! }
//! # Ok(())
//! # }
//! ```

mod metadata;
mod typed;

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

pub use self::metadata::{ColumnSpec, MetadataFlags, PreparedMetadata, ResultMetadata, TableSpec};
pub use self::typed::{
    check_column, column_by_name, expect_columns, FromRow, FromRowOwned, IntoTypedRows, TypedRows,
};
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use crate::limits::DecodeLimits;
use crate::reader::Reader;
use crate::value::{CqlValue, FromCql};
use crate::writer::Writer;

/// Where one cell's value lies in the page's row content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRange {
    /// Offset of the value's first byte (after its `[bytes]` length), from the start of the
    /// row content.
    start: u32,
    /// The value's length; negative for null.
    len: i32,
}

/// A page of rows: the result of a select (native_protocol_v4.spec §4.2.5.2).
#[derive(Debug, Clone)]
pub struct Rows {
    /// Boxed: a result is moved through every layer of a request (the session's attempt,
    /// the connection's send and decode), and with the page inline a `QueryResult` was 328
    /// bytes to copy at each (a Void result too). The box is allocated once per page, and
    /// the cell index of a small page lives in it (no allocation of its own).
    page: Box<Page>,
}

/// What a [`Rows`] holds.
#[derive(Debug, Clone)]
struct Page {
    metadata: Arc<ResultMetadata>,
    flags: MetadataFlags,
    columns_count: usize,
    paging_state: Option<Bytes>,
    rows_count: usize,
    /// `<rows_content>`, sliced from the frame body.
    content: Bytes,
    /// Offset of `content` in the decoded body, to report errors at body offsets.
    content_offset: usize,
    /// `rows_count * columns_count`.
    cell_count: usize,
    /// The untyped API's cell index, built on first use (a typed read walks the bytes itself).
    index: OnceLock<CellIndex>,
    max_type_depth: usize,
}

impl PartialEq for Rows {
    fn eq(&self, other: &Self) -> bool {
        self.page.metadata.columns == other.page.metadata.columns
            && self.page.metadata.global_table_spec == other.page.metadata.global_table_spec
            && self.page.flags == other.page.flags
            && self.page.columns_count == other.page.columns_count
            && self.page.paging_state == other.page.paging_state
            && self.page.rows_count == other.page.rows_count
            && self.page.content == other.page.content
    }
}

impl Rows {
    /// Decodes a Rows result body (after the kind `[int]`). `r` must read over `&body[..]`:
    /// its position is an offset into `body`, which is how cells stay zero-copy slices of it.
    /// The rest of the body is the rows' content: the reader is left at its end, and the cells
    /// are checked when the rows are read (see the module documentation).
    ///
    /// A page sent with No_metadata (skip-metadata EXECUTE) decodes, but has no column types,
    /// so typed access fails; use [`Rows::decode_with_metadata`] with the prepared statement's
    /// result metadata for those pages.
    pub fn decode(body: &Bytes, r: &mut Reader<'_>, limits: &DecodeLimits) -> DecodeResult<Self> {
        Self::decode_inner(body, r, limits, None)
    }

    /// Decodes a Rows result body like [`Rows::decode`], using `cached` (the result metadata of
    /// the prepared statement, kept by the connection layer in an `Arc`) when the page was sent
    /// with No_metadata. A page that carries its own metadata uses that instead.
    ///
    /// Fails with [`DecodeErrorKind::Invalid`] if the page's column count differs from the
    /// cached metadata's.
    pub fn decode_with_metadata(
        body: &Bytes,
        r: &mut Reader<'_>,
        limits: &DecodeLimits,
        cached: &Arc<ResultMetadata>,
    ) -> DecodeResult<Self> {
        Self::decode_inner(body, r, limits, Some(cached))
    }

    fn decode_inner(
        body: &Bytes,
        r: &mut Reader<'_>,
        limits: &DecodeLimits,
        cached: Option<&Arc<ResultMetadata>>,
    ) -> DecodeResult<Self> {
        let at = r.position();
        let raw = metadata::decode_raw(r, limits)?;
        let paging_state = raw
            .paging_state
            .as_ref()
            .map(|range| slice(body, range.start, range.end, at))
            .transpose()?;
        let no_metadata = raw.flags.contains(MetadataFlags::NO_METADATA);
        let metadata = match cached {
            Some(cached) if no_metadata => {
                if cached.columns.len() != raw.columns_count {
                    return Err(DecodeError::new(
                        DecodeErrorKind::Invalid(
                            "page column count differs from the cached result metadata",
                        ),
                        "RESULT Rows metadata columns_count",
                        at + 4,
                    ));
                }
                Arc::clone(cached)
            }
            _ => Arc::new(ResultMetadata {
                flags: raw.flags,
                columns_count: raw.columns_count,
                paging_state: paging_state.clone(),
                global_table_spec: raw.global_table_spec,
                columns: raw.columns,
            }),
        };

        let rows_at = r.position();
        let rows_count = r.count("RESULT Rows rows_count")?;
        let content_offset = r.position();
        let columns_count = raw.columns_count;
        if body.len() > u32::MAX as usize {
            return Err(r.error(
                DecodeErrorKind::Invalid("Rows body larger than 4 GiB"),
                "RESULT Rows rows_content",
            ));
        }
        // With no columns no cell bounds `<rows_count>` by the body: 2^31 empty rows would
        // cost nothing to send and 48 GiB to collect (`to_owned_rows`), or a CPU-bound loop
        // to iterate. No CQL statement returns rows without columns.
        if columns_count == 0 && rows_count > 0 {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid("rows without columns"),
                "RESULT Rows rows_count",
                rows_at,
            ));
        }
        let cell_count = rows_count.checked_mul(columns_count).ok_or_else(|| {
            DecodeError::new(
                DecodeErrorKind::InvalidLength(i64::MAX),
                "RESULT Rows rows_count",
                rows_at,
            )
        })?;
        // The cells are not walked here: a typed read walks them once, row by row
        // (`RowCursor`), and the untyped API indexes them on first use (`Rows::index`). Every
        // cell is at least its 4-byte length, so a count the bytes cannot back is refused now,
        // with the error the walk gives.
        let content_len = r.remaining();
        if cell_count > content_len / 4 {
            let index = CellIndex::build(r.rest(), content_offset, cell_count, columns_count);
            return Err(index.error.map_or_else(
                || {
                    r.error(
                        DecodeErrorKind::Invalid("Rows cell walk stopped early"),
                        "RESULT Rows cell",
                    )
                },
                |e| *e,
            ));
        }
        r.take(content_len, "RESULT Rows rows_content")?;
        let content = slice(
            body,
            content_offset,
            content_offset + content_len,
            content_offset,
        )?;
        Ok(Self {
            page: Box::new(Page {
                metadata,
                flags: raw.flags,
                columns_count,
                paging_state,
                rows_count,
                content,
                content_offset,
                cell_count,
                index: OnceLock::new(),
                max_type_depth: limits.max_type_depth,
            }),
        })
    }

    /// Appends this page as a Rows result body (without the kind `[int]`).
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        metadata::encode_result_metadata(
            self.page.flags,
            self.page.columns_count,
            self.page.paging_state.as_deref(),
            self.page.metadata.global_table_spec.as_ref(),
            &self.page.metadata.columns,
            w,
        )?;
        w.count(self.page.rows_count, "RESULT Rows rows_count")?;
        w.raw(&self.page.content);
        Ok(())
    }

    /// The column metadata: the page's own, or the cached metadata for a No_metadata page.
    pub fn metadata(&self) -> &Arc<ResultMetadata> {
        &self.page.metadata
    }

    /// The column specs.
    pub fn columns(&self) -> &[ColumnSpec] {
        &self.page.metadata.columns
    }

    /// `<columns_count>` of this page.
    pub fn columns_count(&self) -> usize {
        self.page.columns_count
    }

    /// The `<paging_state>` to send with the next QUERY/EXECUTE (§8), if there are more pages.
    pub fn paging_state(&self) -> Option<&Bytes> {
        self.page.paging_state.as_ref()
    }

    /// True when the server has more pages.
    pub fn has_more_pages(&self) -> bool {
        self.page.paging_state.is_some()
    }

    /// The page's metadata flags as received.
    pub fn flags(&self) -> MetadataFlags {
        self.page.flags
    }

    /// Number of rows in this page.
    pub fn len(&self) -> usize {
        self.page.rows_count
    }

    /// True when the page has no rows.
    pub fn is_empty(&self) -> bool {
        self.page.rows_count == 0
    }

    /// The row at `index`.
    ///
    /// The first call of this or [`Rows::iter`] indexes the page's cells. A row the page's
    /// bytes do not hold (a cell length past the end) is still returned: every read of it
    /// fails with the decode error of the cell where the walk stopped.
    #[inline]
    pub fn row(&self, index: usize) -> Option<Row<'_>> {
        if index >= self.page.rows_count {
            return None;
        }
        let cells = index
            .checked_mul(self.page.columns_count)
            .and_then(|from| {
                self.index()
                    .cells()
                    .get(from..from.checked_add(self.page.columns_count)?)
            })
            .unwrap_or_default();
        Some(self.indexed_row(index, cells))
    }

    fn indexed_row<'r>(&'r self, index: usize, cells: &'r [CellRange]) -> Row<'r> {
        Row {
            rows: self,
            index,
            cells: RowCells::Indexed(cells),
            columns: &self.page.metadata.columns,
            content: &self.page.content,
        }
    }

    /// The rows in order (see [`Rows::row`] for a page whose bytes end early).
    pub fn iter(&self) -> RowIter<'_> {
        RowIter {
            rows: self,
            // Every row has `columns_count` cells (a page of rows has columns: see
            // `decode_inner`); `max(1)` only keeps an empty page's chunk size valid.
            cells: self
                .index()
                .cells()
                .chunks_exact(self.page.columns_count.max(1)),
            next: 0,
        }
    }

    /// The untyped API's cell index, built on first use.
    fn index(&self) -> &CellIndex {
        self.page.index.get_or_init(|| {
            CellIndex::build(
                &self.page.content,
                self.page.content_offset,
                self.page.cell_count,
                self.page.columns_count,
            )
        })
    }

    /// The error of the cell walk, for a row that has fewer cells than columns.
    #[cold]
    fn index_error(&self) -> Option<DecodeError> {
        self.index().error.as_deref().cloned()
    }

    /// Every row as owned values, in order.
    pub fn to_owned_rows(&self) -> DecodeResult<Vec<Vec<Option<CqlValue>>>> {
        self.iter().map(|row| row.to_owned_values()).collect()
    }
}

/// How far ahead of the cell being read [`walk_cells`] touches the content, in bytes.
const PREFETCH_AHEAD: usize = 512;

/// Records up to `count` cells of `content` (each an `[int]` length then that many bytes;
/// a negative length is null) into `cells`, offsets relative to `content`; returns the bytes
/// walked. Stops early at a cell that does not fit, leaving the error to the caller.
///
/// This is the hot loop of every page: one cell's length says where the next one starts, so
/// the loop is a chain of dependent loads, kept short (a local position, one bounds check per
/// cell, no `Result` per cell). `content` is at most 4 GiB, so offsets fit a `u32`.
#[inline]
fn walk_cells(content: &[u8], count: usize, mut push: impl FnMut(CellRange)) -> usize {
    let mut pos = 0usize;
    for _ in 0..count {
        // Touch the bytes a few cells ahead: that load is off the chain, so the line is in L1
        // by the time the chain reaches it (software prefetch without `unsafe`; measured 15 %
        // faster on a page of 127-byte rows).
        std::hint::black_box(content.get(pos + PREFETCH_AHEAD).copied());
        let Some(&len) = content.get(pos..).and_then(<[u8]>::first_chunk::<4>) else {
            break;
        };
        let len = i32::from_be_bytes(len);
        let start = pos + 4;
        // [bytes] (§3): "If n < 0, no byte should follow and the value represented is
        // `null`". The content is kept verbatim, so any negative length re-encodes as sent.
        let end = start.saturating_add(usize::try_from(len).unwrap_or(0));
        if end > content.len() {
            break;
        }
        push(CellRange {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len,
        });
        pos = end;
    }
    pos
}

/// Pages of at most this many cells keep their index inline (most one-row pages): no
/// allocation for it.
const INLINE_CELLS: usize = 16;

/// The untyped API's index of a page's cells.
#[derive(Debug, Clone)]
struct CellIndex {
    /// The cells of the rows the page's bytes hold in full, row-major.
    cells: Cells,
    /// Why the walk stopped before `<rows_count>` rows, if it did.
    error: Option<Box<DecodeError>>,
}

/// A [`CellIndex`]'s cells: inline for a small page, else on the heap.
#[derive(Debug, Clone)]
enum Cells {
    Inline {
        len: usize,
        cells: [CellRange; INLINE_CELLS],
    },
    Heap(Vec<CellRange>),
}

impl CellIndex {
    fn build(content: &[u8], content_offset: usize, cell_count: usize, columns: usize) -> Self {
        // Each cell is at least its 4-byte length: never reserve more than the bytes can back.
        let room = cell_count.min(content.len() / 4);
        let (mut cells, walked) = if room <= INLINE_CELLS {
            let mut cells = [CellRange { start: 0, len: -1 }; INLINE_CELLS];
            let mut len = 0;
            // `room` bounds the cells the walk can find, so every push has its slot.
            let walked = walk_cells(content, cell_count.min(INLINE_CELLS), |cell| {
                if let Some(slot) = cells.get_mut(len) {
                    *slot = cell;
                    len += 1;
                }
            });
            (Cells::Inline { len, cells }, walked)
        } else {
            let mut cells = Vec::with_capacity(room);
            let walked = walk_cells(content, cell_count, |cell| cells.push(cell));
            (Cells::Heap(cells), walked)
        };
        let mut error = None;
        let found = cells.as_slice().len();
        if found < cell_count {
            error = Some(Box::new(cell_error(content, content_offset, walked)));
            cells.truncate(found / columns.max(1) * columns);
        }
        Self { cells, error }
    }

    fn cells(&self) -> &[CellRange] {
        self.cells.as_slice()
    }
}

impl Cells {
    fn as_slice(&self) -> &[CellRange] {
        match self {
            Self::Inline { len, cells } => cells.get(..*len).unwrap_or_default(),
            Self::Heap(cells) => cells,
        }
    }

    fn truncate(&mut self, to: usize) {
        match self {
            Self::Inline { len, .. } => *len = (*len).min(to),
            Self::Heap(cells) => cells.truncate(to),
        }
    }
}

/// The error for the cell at `pos` in `content` that does not fit (a truncated length or
/// value), at its offset in the body.
#[cold]
#[inline(never)]
fn cell_error(content: &[u8], content_offset: usize, pos: usize) -> DecodeError {
    let mut r = Reader::new(content);
    let read = r.take(pos, "RESULT Rows cell").and_then(|_| {
        let len = r.i32("RESULT Rows cell")?;
        if let Ok(n) = usize::try_from(len) {
            r.take(n, "RESULT Rows cell")?;
        }
        Ok(())
    });
    let e = read.err().unwrap_or_else(|| {
        r.error(
            DecodeErrorKind::Invalid("Rows cell walk stopped early"),
            "RESULT Rows cell",
        )
    });
    e.shifted(content_offset)
}

/// Most columns a typed read walks into a row held by value; wider pages are read through the
/// cell index.
const INLINE_COLUMNS: usize = 16;

/// Where a typed read of a page has got to: it walks the page's bytes once, row by row,
/// checking each cell's length as it goes, instead of indexing every cell first.
#[derive(Debug, Clone, Default)]
pub(crate) struct RowCursor {
    /// Offset of the next row in the page's content.
    pos: usize,
    /// Index of the next row.
    next: usize,
    /// The error that stopped the walk: every row from there on reads as it.
    failed: Option<DecodeError>,
}

impl RowCursor {
    /// Rows not yet read.
    pub(crate) fn left(&self, rows: &Rows) -> usize {
        rows.page.rows_count.saturating_sub(self.next)
    }

    /// The next row, its cells' lengths checked against the page's bytes: a row whose cells do
    /// not fit fails, and so does every row after it. Bytes after the last row are ignored, as
    /// the untyped API and the frame decoder ignore them (§4.2: "extra information ... at the
    /// end of the frame body").
    ///
    /// `read` gets the row by reference, built in place: a row walked inline is too large to
    /// move through an `Option<Result<…>>` per row (measured: 1.9× the time of the page).
    #[inline(always)]
    pub(crate) fn next_row<'r, R>(
        &mut self,
        rows: &'r Rows,
        read: impl FnOnce(&Row<'r>) -> DecodeResult<R>,
    ) -> Option<DecodeResult<R>> {
        if self.next >= rows.page.rows_count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        if let Some(e) = &self.failed {
            return Some(Err(e.clone()));
        }
        let n = rows.page.columns_count;
        if n > INLINE_COLUMNS {
            return Some(self.indexed(rows, index).and_then(|row| read(&row)));
        }
        let content: &'r [u8] = &rows.page.content;
        // The row is built first and its cells walked into it in place: moving a row with
        // its cells held by value costs a `memcpy` per row (a quarter of the page's time).
        let mut row = Row {
            rows,
            index,
            cells: RowCells::Inline {
                len: n as u8,
                cells: [CellRange { start: 0, len: -1 }; INLINE_COLUMNS],
            },
            columns: &rows.page.metadata.columns,
            content,
        };
        let mut pos = self.pos;
        if let RowCells::Inline { cells, .. } = &mut row.cells {
            for cell in cells.iter_mut().take(n) {
                // No touch-ahead as in `walk_cells`: a typed read decodes each row as it is
                // walked, so the chain of lengths is not the bottleneck (measured no slower
                // without it).
                let Some(&len) = content.get(pos..).and_then(<[u8]>::first_chunk::<4>) else {
                    return Some(Err(self.fail(rows, pos)));
                };
                let len = i32::from_be_bytes(len);
                let start = pos + 4;
                let end = start.saturating_add(usize::try_from(len).unwrap_or(0));
                if end > content.len() {
                    return Some(Err(self.fail(rows, pos)));
                }
                // The content is at most 4 GiB (`decode_inner`).
                *cell = CellRange {
                    start: u32::try_from(start).unwrap_or(u32::MAX),
                    len,
                };
                pos = end;
            }
        }
        self.pos = pos;
        Some(read(&row))
    }

    /// Row `index` of a page too wide to walk inline, through the cell index.
    fn indexed<'r>(&mut self, rows: &'r Rows, index: usize) -> DecodeResult<Row<'r>> {
        let row = rows
            .row(index)
            .filter(|row| row.len() == rows.page.columns_count);
        match row {
            Some(row) => Ok(row),
            None => {
                let e = rows.index_error().unwrap_or_else(|| {
                    DecodeError::new(
                        DecodeErrorKind::Invalid("Rows cell walk stopped early"),
                        "RESULT Rows cell",
                        rows.page.content_offset,
                    )
                });
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn fail(&mut self, rows: &Rows, pos: usize) -> DecodeError {
        let e = cell_error(&rows.page.content, rows.page.content_offset, pos);
        self.failed = Some(e.clone());
        e
    }
}

/// `body[from..to]` as a shared slice, or an error at `at` if the range is not in the body
/// (only possible if the reader was not over `&body[..]`).
fn slice(body: &Bytes, from: usize, to: usize, at: usize) -> DecodeResult<Bytes> {
    if from <= to && to <= body.len() {
        Ok(body.slice(from..to))
    } else {
        Err(DecodeError::new(
            DecodeErrorKind::Invalid("Rows reader is not positioned over the given body"),
            "RESULT Rows",
            at,
        ))
    }
}

impl<'r> IntoIterator for &'r Rows {
    type Item = Row<'r>;
    type IntoIter = RowIter<'r>;

    fn into_iter(self) -> RowIter<'r> {
        self.iter()
    }
}

/// Iterator over the rows of a page.
#[derive(Clone)]
pub struct RowIter<'r> {
    rows: &'r Rows,
    /// The cells of the rows not yet read, one chunk per row: no index arithmetic per row.
    cells: std::slice::ChunksExact<'r, CellRange>,
    next: usize,
}

impl std::fmt::Debug for RowIter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowIter")
            .field("rows", &self.rows.page.rows_count)
            .field("next", &self.next)
            .finish()
    }
}

impl<'r> Iterator for RowIter<'r> {
    type Item = Row<'r>;

    #[inline]
    fn next(&mut self) -> Option<Row<'r>> {
        if self.next >= self.rows.page.rows_count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        // Past the rows the bytes hold, a row without cells: its reads fail (`Rows::row`).
        let cells = self.cells.next().unwrap_or_default();
        Some(self.rows.indexed_row(index, cells))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.rows.page.rows_count.saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for RowIter<'_> {}

/// A row's cells: a slice of the page's index, or walked by a typed read and held by value.
#[derive(Debug, Clone, Copy)]
enum RowCells<'r> {
    Indexed(&'r [CellRange]),
    Inline {
        len: u8,
        cells: [CellRange; INLINE_COLUMNS],
    },
}

/// One row of a page: borrowed cells and typed access.
#[derive(Debug, Clone, Copy)]
pub struct Row<'r> {
    rows: &'r Rows,
    index: usize,
    cells: RowCells<'r>,
    /// The page's column specs and cell bytes, held here so that reading a cell does not
    /// go through the page's `Arc` and `Bytes` each time.
    columns: &'r [ColumnSpec],
    content: &'r [u8],
}

impl<'r> Row<'r> {
    #[inline]
    fn cells(&self) -> &[CellRange] {
        match &self.cells {
            RowCells::Indexed(cells) => cells,
            RowCells::Inline { len, cells } => cells.get(..usize::from(*len)).unwrap_or_default(),
        }
    }

    /// The row's index in its page.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.cells().len()
    }

    /// True for a row of zero columns.
    pub fn is_empty(&self) -> bool {
        self.cells().is_empty()
    }

    /// The raw value of column `i`: `Some(None)` for null, `None` if there is no such column.
    #[inline]
    pub fn raw(&self, i: usize) -> Option<Option<&'r [u8]>> {
        let cell = self.cells().get(i)?;
        Some(self.cell_bytes(cell))
    }

    #[inline]
    fn cell_bytes(&self, cell: &CellRange) -> Option<&'r [u8]> {
        let len = usize::try_from(cell.len).ok()?;
        let start = cell.start as usize;
        // Ranges were validated against this content when the page was decoded.
        self.content.get(start..start.checked_add(len)?)
    }

    /// Offset of cell `i`'s value in the decoded body.
    #[inline]
    fn cell_offset(&self, i: usize) -> usize {
        self.cells()
            .get(i)
            .map_or(0, |c| c.start as usize + self.rows.page.content_offset)
    }

    /// Column `i` as `T`: checks `T` against the column's CQL type, then decodes, borrowing
    /// from the frame (`&str`, `&[u8]`). A null is an error unless `T` is an `Option`.
    #[inline]
    pub fn get<T: FromCql<'r>>(&self, i: usize) -> DecodeResult<T> {
        let offset = self.cell_offset(i);
        let (Some(spec), Some(cell)) = (self.columns.get(i), self.cells().get(i)) else {
            return Err(self.missing(i, offset));
        };
        T::type_check(&spec.ty).map_err(|kind| DecodeError::new(kind, "row cell", offset))?;
        T::from_cql(&spec.ty, self.cell_bytes(cell)).map_err(|e| e.shifted(offset))
    }

    /// Column `i` as `T` without checking `T` against the column's type first: for
    /// [`FromRow`] implementations, which check every column once per page
    /// ([`FromRow::check_columns`]). A type that was not checked reads garbage or fails, never
    /// panics. Errors name the column ([`DecodeErrorKind::InColumn`]).
    #[inline]
    pub fn decode_cell<T: FromCql<'r>>(&self, i: usize) -> DecodeResult<T> {
        let (Some(spec), Some(cell)) = (self.columns.get(i), self.cells().get(i)) else {
            return Err(self.missing(i, self.cell_offset(i)));
        };
        T::from_cql(&spec.ty, self.cell_bytes(cell)).map_err(|e| self.in_column(e, i, spec))
    }

    /// `e`, from cell `i`'s value, at its offset in the body and naming the column.
    #[cold]
    #[inline(never)]
    fn in_column(&self, e: DecodeError, i: usize, spec: &ColumnSpec) -> DecodeError {
        e.shifted(self.cell_offset(i))
            .map_kind(|cause| DecodeErrorKind::InColumn {
                column: spec.name.clone(),
                cause: Box::new(cause),
            })
    }

    /// The error for a column index without a cell or without metadata.
    #[cold]
    fn missing(&self, i: usize, offset: usize) -> DecodeError {
        if let Some(e) = self.broken() {
            return e;
        }
        let kind = if i < self.cells().len() {
            DecodeErrorKind::Invalid(
                "page has no column metadata (No_metadata): decode it with the prepared result metadata",
            )
        } else {
            DecodeErrorKind::NoSuchColumn(format!("#{i}"))
        };
        DecodeError::new(kind, "row cell", offset)
    }

    /// For a row the page's bytes do not hold (fewer cells than columns), the error that
    /// stopped the page's cell walk.
    #[cold]
    fn broken(&self) -> Option<DecodeError> {
        if self.cells().len() < self.rows.page.columns_count {
            self.rows.index_error()
        } else {
            None
        }
    }

    /// The column named `name` as `T` (see [`Row::get`]).
    pub fn get_by_name<T: FromCql<'r>>(&self, name: &str) -> DecodeResult<T> {
        match self.rows.page.metadata.column_index(name) {
            Some(i) => self.get(i),
            None => Err(DecodeError::new(
                DecodeErrorKind::NoSuchColumn(name.to_owned()),
                "row cell",
                self.cell_offset(0),
            )),
        }
    }

    /// Every cell as an owned value (`None` for null).
    pub fn to_owned_values(&self) -> DecodeResult<Vec<Option<CqlValue>>> {
        let limits = DecodeLimits {
            max_type_depth: self.rows.page.max_type_depth,
            ..DecodeLimits::default()
        };
        let columns = &self.rows.page.metadata.columns;
        if let Some(e) = self.broken() {
            return Err(e);
        }
        if columns.len() != self.cells().len() {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid("page has no column metadata (No_metadata)"),
                "row cell",
                self.cell_offset(0),
            ));
        }
        let mut out = Vec::with_capacity(self.cells().len());
        for (i, (cell, spec)) in self.cells().iter().zip(columns).enumerate() {
            let value = match self.cell_bytes(cell) {
                None => None,
                Some(bytes) => Some(
                    CqlValue::deserialize(bytes, &spec.ty, &limits)
                        .map_err(|e| e.shifted(self.cell_offset(i)))?,
                ),
            };
            out.push(value);
        }
        Ok(out)
    }
}
