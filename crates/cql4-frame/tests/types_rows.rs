//! Rows pages (native_protocol_v4.spec §4.2.5.2): golden bytes, zero-copy typed access,
//! cached metadata for No_metadata pages, and hostile input.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use cql4_frame::rows::{
    check_column, ColumnSpec, FromRow, MetadataFlags, ResultMetadata, Row, Rows, TableSpec,
};
use cql4_frame::types::ColumnType;
use cql4_frame::value::CqlValue;
use cql4_frame::{DecodeErrorKind, DecodeLimits, DecodeResult, Reader};

/// The page of a `SELECT id, name, tags FROM ks.t` with two rows, built by hand.
#[rustfmt::skip]
const PAGE: &[u8] = &[
    0x00, 0x00, 0x00, 0x03,                 // flags: Global_tables_spec | Has_more_pages
    0x00, 0x00, 0x00, 0x03,                 // columns_count 3
    0x00, 0x00, 0x00, 0x02, 0xCA, 0xFE,     // paging_state [bytes] cafe
    0x00, 0x02, b'k', b's',                 // keyspace "ks"
    0x00, 0x01, b't',                       // table "t"
    0x00, 0x02, b'i', b'd', 0x00, 0x09,     // id int
    0x00, 0x04, b'n', b'a', b'm', b'e', 0x00, 0x0D, // name varchar
    0x00, 0x04, b't', b'a', b'g', b's', 0x00, 0x21, 0x00, 0x0D, 0x00, 0x09, // tags map<text, int>
    0x00, 0x00, 0x00, 0x02,                 // rows_count 2
    // row 0: 7, "ab", {'x': 1}
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07,
    0x00, 0x00, 0x00, 0x02, b'a', b'b',
    0x00, 0x00, 0x00, 0x11,
        0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x01, b'x',
        0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
    // row 1: 8, null, empty map value (0 bytes)
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x08,
    0xFF, 0xFF, 0xFF, 0xFF,
    0x00, 0x00, 0x00, 0x00,
];

fn decode(body: &Bytes) -> DecodeResult<Rows> {
    let mut r = Reader::new(body);
    let rows = Rows::decode(body, &mut r, &DecodeLimits::default())?;
    r.expect_end("test")?;
    Ok(rows)
}

#[test]
fn golden_page_typed_access() {
    let body = Bytes::from_static(PAGE);
    let rows = decode(&body).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows.columns_count(), 3);
    assert_eq!(rows.paging_state().map(|b| &b[..]), Some(&[0xCA, 0xFE][..]));
    assert!(rows.has_more_pages());
    assert_eq!(
        rows.metadata().global_table_spec,
        Some(TableSpec {
            keyspace: "ks".into(),
            table: "t".into()
        })
    );
    assert_eq!(rows.columns()[1], ColumnSpec::new("name", ColumnType::Text));

    let row = rows.row(0).unwrap();
    assert_eq!(row.get::<i32>(0).unwrap(), 7);
    let name: &str = row.get_by_name("name").unwrap();
    assert_eq!(name, "ab");
    // Zero copy: the &str points into the frame body.
    let at = PAGE.windows(2).position(|w| w == b"ab").unwrap();
    assert_eq!(name.as_ptr(), body[at..].as_ptr());
    let tags: HashMap<&str, i32> = row.get(2).unwrap();
    assert_eq!(tags, HashMap::from([("x", 1)]));

    let row = rows.row(1).unwrap();
    assert_eq!(row.get::<i32>(0).unwrap(), 8);
    assert_eq!(row.get::<Option<&str>>(1).unwrap(), None);
    assert_eq!(
        row.get::<&str>(1).unwrap_err().kind(),
        &DecodeErrorKind::UnexpectedNull
    );
    assert_eq!(row.raw(1), Some(None));
    assert_eq!(row.raw(2), Some(Some(&[][..])));
    assert!(rows.row(2).is_none());
    // An empty map value reads as an empty map and as CqlValue::Empty.
    assert!(row.get::<HashMap<&str, i32>>(2).unwrap().is_empty());
    assert_eq!(
        row.to_owned_values().unwrap(),
        vec![Some(CqlValue::Int(8)), None, Some(CqlValue::Empty)]
    );
}

#[test]
fn golden_page_re_encodes_identically() {
    let body = Bytes::from_static(PAGE);
    let rows = decode(&body).unwrap();
    let mut out = Vec::new();
    rows.encode(&mut cql4_frame::Writer::new(&mut out))
        .expect("encodes");
    assert_eq!(out, PAGE);
}

#[test]
fn owned_rows_and_iteration() {
    let body = Bytes::from_static(PAGE);
    let rows = decode(&body).unwrap();
    let ids: Vec<i32> = rows.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(ids, [7, 8]);
    assert_eq!(rows.iter().len(), 2);
    let owned = rows.to_owned_rows().unwrap();
    assert_eq!(
        owned[0],
        vec![
            Some(CqlValue::Int(7)),
            Some(CqlValue::Text("ab".into())),
            Some(CqlValue::Map(vec![(
                CqlValue::Text("x".into()),
                CqlValue::Int(1)
            )])),
        ]
    );
}

#[test]
fn type_mismatch_and_missing_column() {
    let body = Bytes::from_static(PAGE);
    let rows = decode(&body).unwrap();
    let row = rows.row(0).unwrap();
    let err = row.get::<&str>(0).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::TypeMismatch {
            rust: "&str",
            cql: "int".into()
        }
    );
    assert_eq!(err.context(), "row cell");
    // The offset is the cell's value in the body: metadata is 14 + 4 + 3 + 6 + 8 + 12 = 47
    // bytes, then rows_count (4) and the cell's length (4).
    assert_eq!(err.offset(), 47 + 4 + 4);
    assert_eq!(PAGE[47..51], [0, 0, 0, 2]);
    let err = row.get_by_name::<i32>("nope").unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::NoSuchColumn("nope".into()));
    assert!(row.get::<i32>(3).is_err());
}

#[test]
fn no_metadata_page_uses_cached_metadata() {
    #[rustfmt::skip]
    let page = [
        0x00, 0x00, 0x00, 0x04,     // flags: No_metadata
        0x00, 0x00, 0x00, 0x01,     // columns_count 1
        0x00, 0x00, 0x00, 0x01,     // rows_count 1
        0x00, 0x00, 0x00, 0x01, 0x05, // tinyint 5
    ];
    let body = Bytes::copy_from_slice(&page);
    let cached = Arc::new(ResultMetadata::new(
        None,
        vec![ColumnSpec {
            table_spec: Some(TableSpec::default()),
            name: "n".into(),
            ty: ColumnType::TinyInt,
        }],
    ));
    let mut r = Reader::new(&body);
    let rows =
        Rows::decode_with_metadata(&body, &mut r, &DecodeLimits::default(), &cached).unwrap();
    assert!(Arc::ptr_eq(rows.metadata(), &cached), "shared, not copied");
    assert_eq!(rows.row(0).unwrap().get_by_name::<i8>("n").unwrap(), 5);
    assert!(rows.flags().contains(MetadataFlags::NO_METADATA));
    // Re-encoding keeps the page as sent (no column specs).
    let mut out = Vec::new();
    rows.encode(&mut cql4_frame::Writer::new(&mut out))
        .expect("encodes");
    assert_eq!(out, page);

    // Without the cache the page still decodes, but typed access has no types.
    let rows = decode(&body).unwrap();
    assert_eq!(rows.row(0).unwrap().raw(0), Some(Some(&[5][..])));
    let err = rows.row(0).unwrap().get::<i8>(0).unwrap_err();
    assert!(err.to_string().contains("No_metadata"), "{err}");
    assert!(rows.row(0).unwrap().to_owned_values().is_err());

    // A cache with a different column count is refused.
    let two = Arc::new(ResultMetadata::new(
        None,
        vec![
            ColumnSpec::new("a", ColumnType::Int),
            ColumnSpec::new("b", ColumnType::Int),
        ],
    ));
    let mut r = Reader::new(&body);
    let err =
        Rows::decode_with_metadata(&body, &mut r, &DecodeLimits::default(), &two).unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::Invalid(_)));
    assert_eq!(err.offset(), 4);
}

#[test]
fn page_with_metadata_ignores_cache() {
    let body = Bytes::from_static(PAGE);
    let cached = Arc::new(ResultMetadata::new(None, vec![]));
    let mut r = Reader::new(&body);
    let rows =
        Rows::decode_with_metadata(&body, &mut r, &DecodeLimits::default(), &cached).unwrap();
    assert_eq!(rows.columns().len(), 3);
}

#[test]
fn every_truncation_is_an_error() {
    for len in 0..PAGE.len() {
        let body = Bytes::copy_from_slice(&PAGE[..len]);
        let mut r = Reader::new(&body);
        // The cells are walked when the rows are read: a cut inside them fails there.
        if let Ok(rows) = Rows::decode(&body, &mut r, &DecodeLimits::default()) {
            assert!(rows.to_owned_rows().is_err(), "untyped, truncated at {len}");
            assert!(
                rows.typed::<Id>().any(|row| row.is_err()),
                "typed, truncated at {len}"
            );
        }
    }
}

/// The `id` column only: the typed walk still checks every cell's length.
#[derive(Debug, PartialEq)]
struct Id(i32);

impl<'r> FromRow<'r> for Id {
    type Columns = ();

    fn check_columns(columns: &[ColumnSpec]) -> DecodeResult<()> {
        check_column::<i32>(&columns[0])
    }

    fn from_row((): &(), row: &Row<'r>) -> DecodeResult<Self> {
        row.decode_cell(0).map(Id)
    }
}

/// `PAGE` with `patch` written at `at` (growing it if need be), decoded.
fn patched(at: usize, patch: &[u8]) -> Rows {
    let mut page = PAGE.to_vec();
    page.resize(page.len().max(at + patch.len()), 0);
    page[at..at + patch.len()].copy_from_slice(patch);
    let body = Bytes::from(page);
    Rows::decode(&body, &mut Reader::new(&body), &DecodeLimits::default()).unwrap()
}

/// Where `PAGE`'s rows start, and its second row.
const CONTENT: usize = 51;
const ROW_1: usize = 86;

#[test]
fn truncated_page_fails_at_the_same_cell_typed_and_untyped() {
    // The last cell's length cut after 2 of its 4 bytes.
    let body = Bytes::copy_from_slice(&PAGE[..PAGE.len() - 2]);
    let rows = Rows::decode(&body, &mut Reader::new(&body), &DecodeLimits::default()).unwrap();

    let untyped: Vec<_> = rows.iter().map(|row| row.get::<i32>(0)).collect();
    assert_eq!(untyped.len(), 2);
    assert_eq!(untyped[0].as_ref().unwrap(), &7);
    let u = untyped[1].as_ref().unwrap_err();
    assert!(matches!(u.kind(), DecodeErrorKind::Truncated { .. }), "{u}");
    assert_eq!(u.context(), "RESULT Rows cell");
    assert_eq!(u.offset(), ROW_1 + 12);
    assert_eq!(rows.to_owned_rows().unwrap_err(), u.clone());

    let typed: Vec<_> = rows.typed::<Id>().collect();
    assert_eq!(typed.len(), 2);
    assert_eq!(typed[0], Ok(Id(7)));
    assert_eq!(typed[1].as_ref().unwrap_err(), u);

    let arc = Arc::new(rows.clone());
    let owned: Vec<_> = arc.into_typed::<Id>().unwrap().collect();
    assert_eq!(owned, typed);
}

#[test]
fn bad_cell_length_fails_every_row_from_it_on() {
    // Row 0's name says i32::MAX bytes: no row of the page can be read.
    let rows = patched(CONTENT + 8, &i32::MAX.to_be_bytes());
    let typed: Vec<_> = rows.typed::<Id>().collect();
    assert_eq!(
        typed.len(),
        2,
        "one item per row, as the iterator's length says"
    );
    let e = typed[0].as_ref().unwrap_err();
    assert!(matches!(e.kind(), DecodeErrorKind::Truncated { .. }), "{e}");
    assert_eq!(e.context(), "RESULT Rows cell");
    assert_eq!(typed[1].as_ref().unwrap_err(), e);
    for row in &rows {
        assert_eq!(&row.get::<i32>(0).unwrap_err(), e);
        assert_eq!(row.raw(0), None);
    }

    // A negative length is a null without bytes: the name's own bytes are then read as the
    // next cell's length, which runs past the end.
    let rows = patched(CONTENT + 8, &(-7i32).to_be_bytes());
    assert!(rows.typed::<Id>().all(|row| row.is_err()));
}

#[test]
fn more_rows_declared_than_sent_fail_at_the_missing_row() {
    // rows_count 3 over two rows of cells: the third row's first cell is missing.
    let rows = patched(CONTENT - 4, &3i32.to_be_bytes());
    let typed: Vec<_> = rows.typed::<Id>().collect();
    assert_eq!(&typed[..2], &[Ok(Id(7)), Ok(Id(8))]);
    let e = typed[2].as_ref().unwrap_err();
    assert!(matches!(e.kind(), DecodeErrorKind::Truncated { .. }), "{e}");
    assert_eq!(e.offset(), PAGE.len());
    let third = rows.row(2).unwrap();
    assert_eq!(&third.get::<i32>(0).unwrap_err(), e);
    assert_eq!(rows.row(0).unwrap().get::<i32>(0).unwrap(), 7);
}

#[test]
fn bytes_after_the_last_row_are_ignored_typed_and_untyped() {
    // §4.2: extra information at the end of a frame body is ignored, here as everywhere.
    let rows = patched(PAGE.len(), &[0xEE, 0xEE, 0xEE]);
    let typed: Vec<_> = rows.typed::<Id>().collect::<Result<_, _>>().unwrap();
    assert_eq!(typed, [Id(7), Id(8)]);
    let untyped: Vec<i32> = rows.iter().map(|row| row.get(0).unwrap()).collect();
    assert_eq!(untyped, [7, 8]);
}

#[test]
fn corrupted_cell_lengths_never_panic() {
    // Overwrite every 4-byte window with a set of hostile lengths; decoding must not panic and,
    // when it succeeds, every cell access must stay in bounds.
    for at in 0..PAGE.len() - 3 {
        for len in [i32::MAX, i32::MIN, -2, 0x7fff, 1 << 20] {
            let mut page = PAGE.to_vec();
            page[at..at + 4].copy_from_slice(&len.to_be_bytes());
            let body = Bytes::from(page);
            let mut r = Reader::new(&body);
            if let Ok(rows) = Rows::decode(&body, &mut r, &DecodeLimits::default()) {
                for row in rows.typed::<Id>() {
                    let _ = row;
                }
                for row in &rows {
                    for i in 0..row.len() {
                        let _ = row.raw(i);
                        let _ = row.get::<Option<CqlValue>>(i);
                    }
                }
            }
        }
    }
}

#[test]
fn huge_row_count_fails_without_a_big_allocation() {
    // 1 column, rows_count i32::MAX, one cell of body. The cell Vec's capacity is capped by the
    // bytes left (1 cell), so this fails quickly with Truncated instead of reserving 16 GiB.
    #[rustfmt::skip]
    let page = [
        0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, // No_metadata, 1 column
        0x7F, 0xFF, 0xFF, 0xFF,                         // rows_count
        0x00, 0x00, 0x00, 0x00,                         // one empty cell
    ];
    let body = Bytes::copy_from_slice(&page);
    let mut r = Reader::new(&body);
    let err = Rows::decode(&body, &mut r, &DecodeLimits::default()).unwrap_err();
    assert!(
        matches!(err.kind(), DecodeErrorKind::Truncated { .. }),
        "{err}"
    );
    assert_eq!(err.context(), "RESULT Rows cell");
    assert_eq!(err.offset(), 16);

    // columns_count * rows_count overflowing usize arithmetic on 32-bit is still an error, and
    // a negative rows_count is an invalid length.
    let mut page = page;
    page[8..12].copy_from_slice(&(-1i32).to_be_bytes());
    let body = Bytes::copy_from_slice(&page);
    let mut r = Reader::new(&body);
    let err = Rows::decode(&body, &mut r, &DecodeLimits::default()).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::InvalidLength(-1));
}

#[test]
fn zero_columns_many_rows_is_cheap() {
    // A page of i32::MAX rows of zero columns has no cells to bound its row count by the body:
    // it is rejected at once rather than handed to callers whose `to_owned_rows` would ask for
    // 48 GiB (see tests/regressions.rs `rows_without_columns_cannot_declare_rows`).
    let page = [0, 0, 0, 4, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff];
    let body = Bytes::copy_from_slice(&page);
    let err = decode(&body).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::Invalid("rows without columns")
    );
}

#[test]
fn type_nested_deeper_than_limit_is_too_deep() {
    let limits = DecodeLimits::default();
    let mut page = vec![0, 0, 0, 1, 0, 0, 0, 1, 0, 1, b'k', 0, 1, b't', 0, 1, b'c'];
    for _ in 0..=limits.max_type_depth {
        page.extend([0x00, 0x22]); // set<
    }
    page.extend([0x00, 0x09, 0, 0, 0, 0]);
    let body = Bytes::from(page);
    let mut r = Reader::new(&body);
    let err = Rows::decode(&body, &mut r, &limits).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::TooDeep {
            limit: limits.max_type_depth
        }
    );
    assert_eq!(err.context(), "RESULT Rows metadata col_spec type");
}

#[test]
fn bad_value_in_a_cell_reports_path_and_body_offset() {
    // Column map<text, int> whose only cell holds an entry value of 3 bytes.
    #[rustfmt::skip]
    let page = [
        0, 0, 0, 1, 0, 0, 0, 1, 0, 1, b'k', 0, 1, b't',
        0, 1, b'm', 0x00, 0x21, 0x00, 0x0D, 0x00, 0x09,
        0, 0, 0, 1,                                 // 1 row, at 23
        0, 0, 0, 16,                                // cell length, value at 31
        0, 0, 0, 1, 0, 0, 0, 1, b'x', 0, 0, 0, 3, 1, 2, 3,
    ];
    let body = Bytes::copy_from_slice(&page);
    let rows = decode(&body).unwrap();
    let err = rows
        .row(0)
        .unwrap()
        .get::<HashMap<String, i32>>(0)
        .unwrap_err();
    let DecodeErrorKind::InValue { path, .. } = err.kind() else {
        panic!("{err}")
    };
    assert_eq!(path, "map<text, int> entry 0 value");
    // Value bytes 1 2 3 start at 31 + 13.
    assert_eq!(err.offset(), 44);
    let err = rows.row(0).unwrap().to_owned_values().unwrap_err();
    assert_eq!(err.offset(), 44);
}

/// The last column of a 17-column page: wider than a typed read walks inline.
#[derive(Debug, PartialEq)]
struct Last(i32);

impl<'r> FromRow<'r> for Last {
    type Columns = usize;

    fn check_columns(columns: &[ColumnSpec]) -> DecodeResult<usize> {
        Ok(columns.len() - 1)
    }

    fn from_row(last: &usize, row: &Row<'r>) -> DecodeResult<Self> {
        row.decode_cell(*last).map(Last)
    }
}

#[test]
fn wide_pages_read_through_the_index_with_the_same_errors() {
    let mut page = vec![0, 0, 0, 1, 0, 0, 0, 17, 0, 1, b'k', 0, 1, b't'];
    for c in 0..17u8 {
        page.extend([0, 2, b'c', b'a' + c, 0, 9]);
    }
    page.extend(2i32.to_be_bytes());
    for row in 0..2i32 {
        for c in 0..17 {
            page.extend(4i32.to_be_bytes());
            page.extend((row * 100 + c).to_be_bytes());
        }
    }
    let body = Bytes::from(page.clone());
    let rows = decode(&body).unwrap();
    let read: Vec<_> = rows.typed::<Last>().collect::<Result<_, _>>().unwrap();
    assert_eq!(read, [Last(16), Last(116)]);
    let owned: Vec<_> = Arc::new(rows).into_typed::<Last>().unwrap().collect();
    assert_eq!(owned, [Ok(Last(16)), Ok(Last(116))]);

    // The last cell cut short: row 1 fails, typed as untyped, at the same cell.
    let body = Bytes::from(page[..page.len() - 1].to_vec());
    let rows = Rows::decode(&body, &mut Reader::new(&body), &DecodeLimits::default()).unwrap();
    let typed: Vec<_> = rows.typed::<Last>().collect();
    assert_eq!(typed[0], Ok(Last(16)));
    let e = typed[1].as_ref().unwrap_err();
    assert!(matches!(e.kind(), DecodeErrorKind::Truncated { .. }), "{e}");
    assert_eq!(e.offset(), page.len() - 4, "the value, after its length");
    assert_eq!(&rows.row(1).unwrap().get::<i32>(16).unwrap_err(), e);
}
