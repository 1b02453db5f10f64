//! Result metadata (§4.2.5.2), prepared metadata (§4.2.5.4) and whole Rows pages.

use arbitrary::{Arbitrary, Result, Unstructured};
use cql4_frame::rows::{ColumnSpec, MetadataFlags, PreparedMetadata, ResultMetadata, TableSpec};
use cql4_frame::value::CqlValue;

use super::notations::opt_bytes;
use super::types::column_type;
use super::values::cell;

/// Columns (or bind markers) a generated metadata declares at most.
const MAX_COLUMNS: usize = 4;

/// Rows a generated page holds at most.
const MAX_ROWS: usize = 3;

/// A keyspace and table.
pub fn table_spec(u: &mut Unstructured<'_>) -> Result<TableSpec> {
    Ok(TableSpec {
        keyspace: String::arbitrary(u)?,
        table: String::arbitrary(u)?,
    })
}

/// Column specs (0 to 4, of any type) under a global table spec, or each with its own.
pub fn columns(u: &mut Unstructured<'_>) -> Result<(Option<TableSpec>, Vec<ColumnSpec>)> {
    let global = if u.arbitrary()? {
        Some(table_spec(u)?)
    } else {
        None
    };
    let n = u.int_in_range(0..=MAX_COLUMNS)?;
    let mut columns = Vec::with_capacity(n);
    for _ in 0..n {
        let own = if global.is_none() {
            Some(table_spec(u)?)
        } else {
            None
        };
        columns.push(ColumnSpec {
            table_spec: own,
            name: String::arbitrary(u)?,
            ty: column_type(u)?,
        });
    }
    Ok((global, columns))
}

/// A Rows or PREPARED result's metadata: columns, or No_metadata with a column count (0 to
/// 999); with or without a paging state; with unknown flag bits set sometimes (they are kept).
pub fn result_metadata(u: &mut Unstructured<'_>) -> Result<ResultMetadata> {
    let (global, columns) = columns(u)?;
    let mut md = ResultMetadata::new(global, columns);
    md.paging_state = opt_bytes(u)?;
    let extra = *u.choose(&[0, 0x0100, 0x4000_0000])?;
    md.flags = MetadataFlags(md.flags.0 | extra)
        .with(MetadataFlags::HAS_MORE_PAGES, md.paging_state.is_some());
    if u.arbitrary()? {
        md.flags = md
            .flags
            .with(MetadataFlags::NO_METADATA, true)
            .with(MetadataFlags::GLOBAL_TABLES_SPEC, false);
        md.global_table_spec = None;
        md.columns.clear();
        md.columns_count = u.int_in_range(0..=999)?;
    }
    Ok(md)
}

/// A PREPARED result's bind markers, with partition key indexes (0 to 3, each naming one of the
/// markers: the decoder refuses any other).
pub fn prepared_metadata(u: &mut Unstructured<'_>) -> Result<PreparedMetadata> {
    let (global, columns) = columns(u)?;
    let markers = u16::try_from(columns.len()).unwrap_or(u16::MAX);
    let n = if markers == 0 {
        0
    } else {
        u.int_in_range(0..=3)?
    };
    let mut pk_indexes = Vec::with_capacity(n);
    for _ in 0..n {
        pk_indexes.push(u.int_in_range(0..=markers - 1)?);
    }
    Ok(PreparedMetadata {
        flags: MetadataFlags::default().with(MetadataFlags::GLOBAL_TABLES_SPEC, global.is_some()),
        pk_indexes,
        global_table_spec: global,
        columns,
    })
}

/// A Rows page as values: what `Rows` must decode back to.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The page's metadata (columns declared, maybe a paging state).
    pub metadata: ResultMetadata,
    /// The rows, one cell per column; `None` is null.
    pub rows: Vec<Vec<Option<CqlValue>>>,
}

/// A page: metadata with columns and maybe a paging state, and 0 to 3 rows of cells of the
/// columns' types (none when there are no columns: the decoder rejects rows there, since
/// nothing in the body would bound their count).
pub fn page(u: &mut Unstructured<'_>) -> Result<Page> {
    let (global, columns) = columns(u)?;
    let mut metadata = ResultMetadata::new(global, columns);
    metadata.paging_state = opt_bytes(u)?;
    let max_rows = if metadata.columns.is_empty() {
        0
    } else {
        MAX_ROWS
    };
    let n = u.int_in_range(0..=max_rows)?;
    let mut rows = Vec::with_capacity(n);
    for _ in 0..n {
        rows.push(
            metadata
                .columns
                .iter()
                .map(|c| cell(u, &c.ty))
                .collect::<Result<Vec<_>>>()?,
        );
    }
    Ok(Page { metadata, rows })
}
