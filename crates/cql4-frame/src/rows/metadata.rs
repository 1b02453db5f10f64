//! Result and prepared metadata: native_protocol_v4.spec §4.2.5.2 (`<metadata>`) and
//! §4.2.5.4 (Prepared `<metadata>`).

use bytes::Bytes;

use crate::error::EncodeError;
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult};
use crate::limits::DecodeLimits;
use crate::reader::Reader;
use crate::types::ColumnType;
use crate::writer::Writer;

/// The `<flags>` of result metadata (native_protocol_v4.spec §4.2.5.2) and of prepared
/// metadata (§4.2.5.4). Unknown bits are kept so that a decoded value re-encodes identically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MetadataFlags(pub i32);

impl MetadataFlags {
    /// 0x0001 Global_tables_spec: one `<global_table_spec>` instead of one per column.
    pub const GLOBAL_TABLES_SPEC: Self = Self(0x0001);
    /// 0x0002 Has_more_pages: a `<paging_state>` follows `<columns_count>`.
    pub const HAS_MORE_PAGES: Self = Self(0x0002);
    /// 0x0004 No_metadata: no table spec and no column specs follow.
    pub const NO_METADATA: Self = Self(0x0004);
}

crate::codes::flag_ops!(MetadataFlags);

/// A keyspace and table name pair (`<global_table_spec>` or the prefix of a `<col_spec_i>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TableSpec {
    /// Keyspace name.
    pub keyspace: String,
    /// Table name.
    pub table: String,
}

/// One `<col_spec_i>`: the column's (or bind marker's) name and type, with its table when the
/// metadata has no global table spec.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnSpec {
    /// The column's own keyspace and table; `None` when the metadata has a global table spec.
    pub table_spec: Option<TableSpec>,
    /// The column name, alias or bind marker name.
    pub name: String,
    /// The column type.
    pub ty: ColumnType,
}

impl ColumnSpec {
    /// A column spec without its own table spec.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Self {
            table_spec: None,
            name: name.into(),
            ty,
        }
    }
}

/// Rows result metadata (native_protocol_v4.spec §4.2.5.2 `<metadata>`), also the
/// `<result_metadata>` of a Prepared result (§4.2.5.4).
///
/// Encoding derives the Global_tables_spec and Has_more_pages bits from
/// [`global_table_spec`](Self::global_table_spec) and [`paging_state`](Self::paging_state);
/// other bits of [`flags`](Self::flags) (No_metadata and unknown ones) are written as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResultMetadata {
    /// The flags as received.
    pub flags: MetadataFlags,
    /// `<columns_count>`: equal to `columns.len()` unless No_metadata is set.
    pub columns_count: usize,
    /// `<paging_state>`, present when Has_more_pages is set (§8).
    pub paging_state: Option<Bytes>,
    /// `<global_table_spec>`, present when Global_tables_spec is set.
    pub global_table_spec: Option<TableSpec>,
    /// The column specs; empty when No_metadata is set.
    pub columns: Vec<ColumnSpec>,
}

/// The page-level part of `<metadata>` plus the column part, before the paging state is turned
/// into `Bytes` (copied, or sliced from the frame body).
pub(crate) struct RawResultMetadata {
    pub(crate) flags: MetadataFlags,
    pub(crate) columns_count: usize,
    /// Offsets of the paging state within the reader's buffer.
    pub(crate) paging_state: Option<std::ops::Range<usize>>,
    pub(crate) global_table_spec: Option<TableSpec>,
    pub(crate) columns: Vec<ColumnSpec>,
}

impl ResultMetadata {
    /// Metadata for `columns` with no paging state: a global table spec if given, otherwise
    /// each column's own.
    pub fn new(global_table_spec: Option<TableSpec>, columns: Vec<ColumnSpec>) -> Self {
        let flags = MetadataFlags::default().with(
            MetadataFlags::GLOBAL_TABLES_SPEC,
            global_table_spec.is_some(),
        );
        Self {
            flags,
            columns_count: columns.len(),
            paging_state: None,
            global_table_spec,
            columns,
        }
    }

    /// Decodes `<metadata>` (native_protocol_v4.spec §4.2.5.2). The paging state is copied;
    /// [`Rows::decode`](crate::rows::Rows::decode) slices it from the frame instead.
    pub fn decode(r: &mut Reader<'_>, limits: &DecodeLimits) -> DecodeResult<Self> {
        let start = r.position();
        let buf = r.rest();
        let raw = decode_raw(r, limits)?;
        let paging_state = raw.paging_state.as_ref().map(|range| {
            Bytes::copy_from_slice(
                buf.get(range.start - start..range.end - start)
                    .unwrap_or_default(),
            )
        });
        Ok(Self {
            flags: raw.flags,
            columns_count: raw.columns_count,
            paging_state,
            global_table_spec: raw.global_table_spec,
            columns: raw.columns,
        })
    }

    /// Appends `<metadata>`.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        encode_result_metadata(
            self.flags,
            self.columns_count,
            self.paging_state.as_deref(),
            self.global_table_spec.as_ref(),
            &self.columns,
            w,
        )
    }

    /// True when the No_metadata flag is set: no column specs were sent (skip-metadata EXECUTE).
    pub fn no_metadata(&self) -> bool {
        self.flags.contains(MetadataFlags::NO_METADATA)
    }

    /// True when Has_more_pages is set.
    pub fn has_more_pages(&self) -> bool {
        self.paging_state.is_some()
    }

    /// The index of the column named `name`, if any.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// Decodes `<metadata>`, keeping the paging state as a range of the reader's buffer.
pub(crate) fn decode_raw(
    r: &mut Reader<'_>,
    limits: &DecodeLimits,
) -> DecodeResult<RawResultMetadata> {
    let flags = MetadataFlags(r.i32("RESULT Rows metadata flags")?);
    let columns_count = r.count("RESULT Rows metadata columns_count")?;
    let paging_state = if flags.contains(MetadataFlags::HAS_MORE_PAGES) {
        let at = r.position();
        // "If set, the <paging_state> will be present": a null there has nothing to resume
        // from and could not be re-encoded as received, so it is refused.
        match r.bytes("RESULT Rows metadata paging_state")? {
            Some(b) => Some(at + 4..at + 4 + b.len()),
            None => {
                return Err(DecodeError::new(
                    DecodeErrorKind::Invalid("null paging_state with Has_more_pages set"),
                    "RESULT Rows metadata paging_state",
                    at,
                ))
            }
        }
    } else {
        None
    };
    let (global_table_spec, columns) = if flags.contains(MetadataFlags::NO_METADATA) {
        (None, Vec::new())
    } else {
        decode_specs(
            r,
            limits,
            flags,
            columns_count,
            "RESULT Rows metadata global_table_spec",
            "RESULT Rows metadata col_spec",
            "RESULT Rows metadata col_spec type",
        )?
    };
    Ok(RawResultMetadata {
        flags,
        columns_count,
        paging_state,
        global_table_spec,
        columns,
    })
}

fn decode_specs(
    r: &mut Reader<'_>,
    limits: &DecodeLimits,
    flags: MetadataFlags,
    columns_count: usize,
    what_global: &'static str,
    what_spec: &'static str,
    what_type: &'static str,
) -> DecodeResult<(Option<TableSpec>, Vec<ColumnSpec>)> {
    let global = flags.contains(MetadataFlags::GLOBAL_TABLES_SPEC);
    let global_table_spec = if global {
        Some(TableSpec {
            keyspace: r.string(what_global)?.to_owned(),
            table: r.string(what_global)?.to_owned(),
        })
    } else {
        None
    };
    // A col spec is at least a name length and a type id (plus two string lengths when the
    // table spec is per column): the capacity never exceeds what the bytes left can back.
    let min = if global { 4 } else { 8 };
    let mut columns = Vec::with_capacity(r.capacity_for(columns_count, min));
    for _ in 0..columns_count {
        let table_spec = if global {
            None
        } else {
            Some(TableSpec {
                keyspace: r.string(what_spec)?.to_owned(),
                table: r.string(what_spec)?.to_owned(),
            })
        };
        let name = r.string(what_spec)?.to_owned();
        let ty = ColumnType::decode(r, limits).map_err(|e| retag(e, what_type))?;
        columns.push(ColumnSpec {
            table_spec,
            name,
            ty,
        });
    }
    Ok((global_table_spec, columns))
}

/// Gives a type decoding error the caller's context (the offset already points at the
/// failing byte).
fn retag(e: DecodeError, what: &'static str) -> DecodeError {
    DecodeError::new(e.kind().clone(), what, e.offset())
}

fn encode_specs(
    global: Option<&TableSpec>,
    columns: &[ColumnSpec],
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    const WHAT: &str = "metadata col_spec";
    if let Some(spec) = global {
        w.string(&spec.keyspace, WHAT)?;
        w.string(&spec.table, WHAT)?;
    }
    for column in columns {
        if global.is_none() {
            let spec = column.table_spec.as_ref();
            w.string(spec.map_or("", |s| &s.keyspace), WHAT)?;
            w.string(spec.map_or("", |s| &s.table), WHAT)?;
        }
        w.string(&column.name, WHAT)?;
        column.ty.encode(w)?;
    }
    Ok(())
}

/// Appends a Rows `<metadata>` from its parts.
pub(crate) fn encode_result_metadata(
    flags: MetadataFlags,
    columns_count: usize,
    paging_state: Option<&[u8]>,
    global: Option<&TableSpec>,
    columns: &[ColumnSpec],
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    let no_metadata = flags.contains(MetadataFlags::NO_METADATA);
    let mut flags = flags.with(MetadataFlags::HAS_MORE_PAGES, paging_state.is_some());
    // With No_metadata no table spec follows whatever Global_tables_spec says, so the bit is
    // kept as received; otherwise it says whether the global spec is written.
    if !no_metadata {
        flags = flags.with(MetadataFlags::GLOBAL_TABLES_SPEC, global.is_some());
    }
    w.i32(flags.0);
    if no_metadata {
        w.count(columns_count, "metadata columns_count")?;
    } else {
        w.count(columns.len(), "metadata columns_count")?;
    }
    if let Some(state) = paging_state {
        w.bytes(Some(state), "metadata paging_state")?;
    }
    if !no_metadata {
        encode_specs(global, columns, w)?;
    }
    Ok(())
}

/// Prepared statement metadata: the bind markers of a Prepared result
/// (native_protocol_v4.spec §4.2.5.4 `<metadata>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreparedMetadata {
    /// The flags as received; Global_tables_spec is re-derived on encoding.
    pub flags: MetadataFlags,
    /// `<pk_index_i>`: for each partition key column, the index of its bind marker.
    pub pk_indexes: Vec<u16>,
    /// `<global_table_spec>`, present when Global_tables_spec is set.
    pub global_table_spec: Option<TableSpec>,
    /// One spec per bind marker.
    pub columns: Vec<ColumnSpec>,
}

impl PreparedMetadata {
    /// Decodes the Prepared `<metadata>` (native_protocol_v4.spec §4.2.5.4).
    pub fn decode(r: &mut Reader<'_>, limits: &DecodeLimits) -> DecodeResult<Self> {
        let flags = MetadataFlags(r.i32("RESULT Prepared metadata flags")?);
        let columns_count = r.count("RESULT Prepared metadata columns_count")?;
        let pk_count = r.count("RESULT Prepared metadata pk_count")?;
        let mut pk_indexes = Vec::with_capacity(r.capacity_for(pk_count, 2));
        for _ in 0..pk_count {
            let index = r.u16("RESULT Prepared metadata pk_index")?;
            // Routing keys and COPY index the bound values with it: it must name a marker.
            if usize::from(index) >= columns_count {
                return Err(r.error(
                    DecodeErrorKind::Invalid("pk_index names no bind marker"),
                    "RESULT Prepared metadata pk_index",
                ));
            }
            pk_indexes.push(index);
        }
        let (global_table_spec, columns) = decode_specs(
            r,
            limits,
            flags,
            columns_count,
            "RESULT Prepared metadata global_table_spec",
            "RESULT Prepared metadata col_spec",
            "RESULT Prepared metadata col_spec type",
        )?;
        Ok(Self {
            flags,
            pk_indexes,
            global_table_spec,
            columns,
        })
    }

    /// Appends the Prepared `<metadata>`.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let flags = self.flags.with(
            MetadataFlags::GLOBAL_TABLES_SPEC,
            self.global_table_spec.is_some(),
        );
        w.i32(flags.0);
        w.count(self.columns.len(), "Prepared metadata columns_count")?;
        w.count(self.pk_indexes.len(), "Prepared metadata pk_count")?;
        for index in &self.pk_indexes {
            w.u16(*index);
        }
        encode_specs(self.global_table_spec.as_ref(), &self.columns, w)
    }

    /// The index of the bind marker named `name`, if any.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> DecodeLimits {
        DecodeLimits::default()
    }

    #[test]
    fn result_metadata_golden_global_spec_and_paging_state() {
        #[rustfmt::skip]
        let bytes = [
            0x00, 0x00, 0x00, 0x03,             // flags: global_tables_spec | has_more_pages
            0x00, 0x00, 0x00, 0x02,             // columns_count 2
            0x00, 0x00, 0x00, 0x02, 0xAB, 0xCD, // paging_state [bytes] 2
            0x00, 0x02, b'k', b's',             // keyspace "ks"
            0x00, 0x01, b't',                   // table "t"
            0x00, 0x01, b'a', 0x00, 0x09,       // "a" int
            0x00, 0x01, b'b', 0x00, 0x22, 0x00, 0x0D, // "b" set<text>
        ];
        let mut r = Reader::new(&bytes);
        let md = ResultMetadata::decode(&mut r, &limits()).unwrap();
        r.expect_end("test").unwrap();
        assert_eq!(md.columns_count, 2);
        assert_eq!(md.paging_state.as_deref(), Some(&[0xAB, 0xCD][..]));
        assert_eq!(
            md.global_table_spec,
            Some(TableSpec {
                keyspace: "ks".into(),
                table: "t".into()
            })
        );
        assert_eq!(md.columns[0], ColumnSpec::new("a", ColumnType::Int));
        assert_eq!(
            md.columns[1],
            ColumnSpec::new("b", ColumnType::Set(Box::new(ColumnType::Text)))
        );
        assert_eq!(md.column_index("b"), Some(1));
        let mut out = Vec::new();
        md.encode(&mut Writer::new(&mut out)).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn no_metadata_keeps_a_meaningless_global_bit() {
        // Global_tables_spec | No_metadata: no spec follows; the page re-encodes as received.
        let bytes = [0, 0, 0, 5, 0, 0, 0, 2];
        let md = ResultMetadata::decode(&mut Reader::new(&bytes), &limits()).unwrap();
        assert_eq!(md.global_table_spec, None);
        let mut out = Vec::new();
        md.encode(&mut Writer::new(&mut out)).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn null_paging_state_with_has_more_pages_is_refused() {
        // flags Has_more_pages | No_metadata, 0 columns, paging_state [bytes] -1.
        let bytes = [0, 0, 0, 6, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        let err = ResultMetadata::decode(&mut Reader::new(&bytes), &limits()).unwrap_err();
        assert!(matches!(err.kind(), DecodeErrorKind::Invalid(_)));
        assert_eq!(err.offset(), 8);
    }

    #[test]
    fn result_metadata_no_metadata_keeps_count() {
        let bytes = [0, 0, 0, 4, 0, 0, 0, 3];
        let md = ResultMetadata::decode(&mut Reader::new(&bytes), &limits()).unwrap();
        assert!(md.no_metadata());
        assert_eq!(md.columns_count, 3);
        assert!(md.columns.is_empty());
        let mut out = Vec::new();
        md.encode(&mut Writer::new(&mut out)).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn col_spec_type_error_has_context_and_offset() {
        #[rustfmt::skip]
        let bytes = [
            0, 0, 0, 1, 0, 0, 0, 1,
            0, 1, b'k', 0, 1, b't',
            0, 1, b'a', 0x00, 0x17, // unknown type id at offset 17
        ];
        let err = ResultMetadata::decode(&mut Reader::new(&bytes), &limits()).unwrap_err();
        assert_eq!(err.context(), "RESULT Rows metadata col_spec type");
        assert_eq!(err.kind(), &DecodeErrorKind::UnknownTypeId(0x17));
        assert_eq!(err.offset(), 17);
    }

    #[test]
    fn prepared_metadata_golden() {
        #[rustfmt::skip]
        let bytes = [
            0x00, 0x00, 0x00, 0x00,       // flags: none
            0x00, 0x00, 0x00, 0x01,       // columns_count 1
            0x00, 0x00, 0x00, 0x01,       // pk_count 1
            0x00, 0x00,                   // pk_index 0
            0x00, 0x01, b'k', 0x00, 0x01, b't', // per-column table spec
            0x00, 0x02, b'i', b'd', 0x00, 0x0C, // "id" uuid
        ];
        let mut r = Reader::new(&bytes);
        let md = PreparedMetadata::decode(&mut r, &limits()).unwrap();
        r.expect_end("test").unwrap();
        assert_eq!(md.pk_indexes, vec![0]);
        assert_eq!(md.columns.len(), 1);
        assert_eq!(md.columns[0].ty, ColumnType::Uuid);
        assert_eq!(
            md.columns[0].table_spec.as_ref().map(|s| s.table.as_str()),
            Some("t")
        );
        let mut out = Vec::new();
        md.encode(&mut Writer::new(&mut out)).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn prepared_pk_index_beyond_the_markers_is_refused() {
        // 1 marker, 1 partition key column at marker 1.
        let bytes = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1];
        let err = PreparedMetadata::decode(&mut Reader::new(&bytes), &limits()).unwrap_err();
        assert!(matches!(err.kind(), DecodeErrorKind::Invalid(_)), "{err}");
        assert_eq!(err.context(), "RESULT Prepared metadata pk_index");
    }

    #[test]
    fn prepared_pk_count_beyond_body_is_truncated() {
        let bytes = [0, 0, 0, 0, 0, 0, 0, 2, 0x7f, 0xff, 0xff, 0xff, 0, 1];
        let err = PreparedMetadata::decode(&mut Reader::new(&bytes), &limits()).unwrap_err();
        assert!(matches!(err.kind(), DecodeErrorKind::Truncated { .. }));
        assert_eq!(err.context(), "RESULT Prepared metadata pk_index");
    }
}
