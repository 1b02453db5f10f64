use std::sync::Arc;

use bytes::Bytes;

use super::{column_by_name, FromRow};
use crate::error::{DecodeErrorKind, DecodeResult};
use crate::limits::DecodeLimits;
use crate::reader::Reader;
use crate::rows::{ColumnSpec, ResultMetadata, Row, Rows};
use crate::types::ColumnType;
use crate::writer::Writer;

/// A page of these columns and rows of serialized cells (`None` is null), decoded.
fn page(columns: &[(&str, ColumnType)], rows: &[&[Option<&[u8]>]]) -> Rows {
    let specs = columns
        .iter()
        .map(|(n, t)| ColumnSpec::new(*n, t.clone()))
        .collect();
    let mut body = Vec::new();
    ResultMetadata::new(None, specs)
        .encode(&mut Writer::new(&mut body))
        .unwrap();
    body.extend_from_slice(&i32::try_from(rows.len()).expect("count").to_be_bytes());
    for row in rows {
        for cell in *row {
            match cell {
                Some(v) => {
                    body.extend_from_slice(&i32::try_from(v.len()).expect("len").to_be_bytes());
                    body.extend_from_slice(v);
                }
                None => body.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
    }
    let body = Bytes::from(body);
    Rows::decode(&body, &mut Reader::new(&body), &DecodeLimits::default()).expect("page")
}

fn users() -> Rows {
    page(
        &[("id", ColumnType::Int), ("name", ColumnType::Text)],
        &[
            &[Some(&[0, 0, 0, 1]), Some(b"ada")],
            &[Some(&[0, 0, 0, 2]), None],
        ],
    )
}

#[test]
fn tuples_read_by_position_borrowing_text() {
    let rows = users();
    let got: Vec<(i32, Option<&str>)> = rows.typed().collect::<DecodeResult<_>>().expect("rows");
    assert_eq!(got, [(1, Some("ada")), (2, None)]);
    let owned: Vec<(i32, Option<String>)> =
        rows.typed().collect::<DecodeResult<_>>().expect("rows");
    assert_eq!(owned[0].1.as_deref(), Some("ada"));
}

#[test]
fn type_mismatch_is_the_only_item_and_names_column_and_types() {
    let rows = users();
    let mut it = rows.typed::<(i32, i64)>();
    assert_eq!(it.len(), 1);
    let err = it.next().expect("one item").unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::InColumn {
            column: "name".into(),
            cause: Box::new(DecodeErrorKind::TypeMismatch {
                rust: "i64",
                cql: "text".into()
            })
        }
    );
    assert_eq!(
        err.to_string(),
        "decoding RESULT Rows metadata col_spec at byte 0: column name: cannot read CQL type text as i64"
    );
    assert!(it.next().is_none());
}

#[test]
fn mismatch_is_reported_on_an_empty_page_too() {
    let rows = page(&[("id", ColumnType::Int)], &[]);
    assert!(matches!(rows.typed::<(String,)>().next(), Some(Err(_))));
    assert!(rows.typed::<(i32,)>().next().is_none());
}

#[test]
fn column_count_mismatch_names_both_counts() {
    let rows = users();
    let err = rows.typed::<(i32,)>().next().expect("item").unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::ColumnCount {
            expected: 1,
            found: 2
        }
    );
    let err = rows
        .typed::<(i32, String, i32)>()
        .next()
        .expect("item")
        .unwrap_err();
    assert_eq!(
        err.kind().to_string(),
        "the Rust type reads 3 columns, the rows have 2"
    );
}

#[test]
fn null_into_non_option_names_the_column_at_the_cell() {
    let rows = users();
    let results: Vec<_> = rows.typed::<(i32, &str)>().collect();
    assert!(results[0].is_ok());
    let err = results[1].clone().unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::InColumn {
            column: "name".into(),
            cause: Box::new(DecodeErrorKind::UnexpectedNull)
        }
    );
    // The second row's name cell: after <metadata> and <rows_count>, the first row (4+4 and
    // 4+3 bytes), the second row's id cell (4+4) and the null's own length.
    let mut metadata = Vec::new();
    rows.metadata()
        .encode(&mut Writer::new(&mut metadata))
        .unwrap();
    assert_eq!(err.offset(), metadata.len() + 4 + 15 + 8 + 4);
}

#[test]
fn no_metadata_page_fails_the_check() {
    // A No_metadata page: 1 column announced, no specs, one row.
    let mut body = vec![0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1];
    body.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 7]);
    let body = Bytes::from(body);
    let rows =
        Rows::decode(&body, &mut Reader::new(&body), &DecodeLimits::default()).expect("page");
    let err = rows.typed::<(i32,)>().next().expect("item").unwrap_err();
    assert!(matches!(err.kind(), DecodeErrorKind::Invalid(_)), "{err}");
    // With the prepared metadata it reads.
    let cached = Arc::new(ResultMetadata::new(
        None,
        vec![ColumnSpec::new("n", ColumnType::Int)],
    ));
    let rows = Rows::decode_with_metadata(
        &body,
        &mut Reader::new(&body),
        &DecodeLimits::default(),
        &cached,
    )
    .expect("page");
    let got: Vec<(i32,)> = rows.typed().collect::<DecodeResult<_>>().expect("rows");
    assert_eq!(got, [(7,)]);
}

#[test]
fn tuple_of_16_reads_16_columns() {
    let cols: Vec<(String, ColumnType)> = (0..16)
        .map(|i| (format!("c{i}"), ColumnType::TinyInt))
        .collect();
    let cols: Vec<(&str, ColumnType)> = cols.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let cells: Vec<[u8; 1]> = (0..16u8).map(|i| [i]).collect();
    let row: Vec<Option<&[u8]>> = cells.iter().map(|c| Some(&c[..])).collect();
    let rows = page(&cols, &[&row]);
    type T16 = (
        i8,
        i8,
        i8,
        i8,
        i8,
        i8,
        i8,
        i8,
        i8,
        i8,
        i8,
        i8,
        i8,
        i8,
        i8,
        i8,
    );
    let got: T16 = rows.typed::<T16>().next().expect("row").expect("decodes");
    assert_eq!(got.0, 0);
    assert_eq!(got.15, 15);
}

/// A hand-written by-name implementation, as the derive writes one.
#[derive(Debug, PartialEq)]
struct User<'r> {
    name: Option<&'r str>,
    id: i32,
}

impl<'r> FromRow<'r> for User<'r> {
    type Columns = [usize; 2];

    fn check_columns(columns: &[ColumnSpec]) -> DecodeResult<[usize; 2]> {
        Ok([
            column_by_name::<Option<&str>>(columns, "name")?,
            column_by_name::<i32>(columns, "id")?,
        ])
    }

    fn from_row(&[name, id]: &[usize; 2], row: &Row<'r>) -> DecodeResult<Self> {
        Ok(Self {
            name: row.decode_cell(name)?,
            id: row.decode_cell(id)?,
        })
    }
}

#[test]
fn by_name_reads_columns_in_any_order() {
    let rows = users();
    let got: Vec<User<'_>> = rows.typed().collect::<DecodeResult<_>>().expect("rows");
    assert_eq!(
        got,
        [
            User {
                name: Some("ada"),
                id: 1
            },
            User { name: None, id: 2 }
        ]
    );
}

#[test]
fn by_name_missing_column_is_named() {
    let rows = page(&[("id", ColumnType::Int)], &[]);
    let err = rows.typed::<User<'_>>().next().expect("item").unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::NoSuchColumn("name".into()));
}

/// A `FromRow` type counting its column checks.
#[derive(Debug, PartialEq)]
struct Counted(i32);

static CHECKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl<'r> FromRow<'r> for Counted {
    type Columns = ();

    fn check_columns(columns: &[ColumnSpec]) -> DecodeResult<()> {
        CHECKS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        <(i32, Option<&str>)>::check_columns(columns)
    }

    fn from_row((): &(), row: &Row<'r>) -> DecodeResult<Self> {
        Ok(Self(row.decode_cell(0)?))
    }
}

#[test]
fn columns_are_checked_once_per_page_borrowed_or_owned() {
    let rows = Arc::new(users());
    let borrowed: Vec<Counted> = rows.typed().collect::<DecodeResult<_>>().expect("rows");
    assert_eq!(borrowed, [Counted(1), Counted(2)]);
    assert_eq!(CHECKS.load(std::sync::atomic::Ordering::SeqCst), 1);
    let mut owned = Arc::clone(&rows).into_typed::<Counted>().expect("checked");
    assert_eq!(owned.len(), 2);
    assert_eq!(owned.next(), Some(Ok(Counted(1))));
    assert_eq!(owned.next(), Some(Ok(Counted(2))));
    assert_eq!(owned.next(), None);
    assert_eq!(CHECKS.load(std::sync::atomic::Ordering::SeqCst), 2);
    // `nth` skips rows without decoding them.
    assert_eq!(
        Arc::clone(&rows)
            .into_typed::<(i32, Option<String>)>()
            .expect("checked")
            .nth(1),
        Some(Ok((2, None)))
    );
}

#[test]
fn into_typed_fails_at_once_for_columns_the_type_cannot_read() {
    let rows = Arc::new(users());
    let err = Arc::clone(&rows)
        .into_typed::<(i32, i64)>()
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        err.kind().to_string(),
        "column name: cannot read CQL type text as i64"
    );
    let err = rows.into_typed::<(i32,)>().map(|_| ()).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::ColumnCount {
            expected: 1,
            found: 2
        }
    );
}
