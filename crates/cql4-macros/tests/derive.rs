//! The derives against pages and bind markers built as a server sends them.

use bytes::Bytes;
use cql4_frame::bind::SerializeRow;
use cql4_frame::rows::{ColumnSpec, ResultMetadata, Rows};
use cql4_frame::types::ColumnType;
use cql4_frame::{DecodeErrorKind, DecodeLimits, DecodeResult, EncodeError, Reader};
use cql4_macros::{FromRow, SerializeRow};

/// A page of these columns and rows of serialized cells (`None` is null), decoded.
fn page(columns: &[(&str, ColumnType)], rows: &[&[Option<&[u8]>]]) -> Rows {
    let specs = columns
        .iter()
        .map(|(n, t)| ColumnSpec::new(*n, t.clone()))
        .collect();
    let mut body = Vec::new();
    ResultMetadata::new(None, specs)
        .encode(&mut cql4_frame::Writer::new(&mut body))
        .expect("encodes");
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
        &[
            ("name", ColumnType::Text),
            ("id", ColumnType::Int),
            ("extra", ColumnType::Boolean),
        ],
        &[
            &[Some(b"ada"), Some(&[0, 0, 0, 1]), Some(&[1])],
            &[None, Some(&[0, 0, 0, 2]), None],
        ],
    )
}

#[derive(Debug, PartialEq, FromRow, SerializeRow)]
struct User<'a> {
    id: i32,
    #[cql(rename = "name")]
    display_name: Option<&'a str>,
}

#[derive(Debug, PartialEq, FromRow)]
struct OwnedUser {
    name: Option<String>,
    r#id: i64,
}

#[derive(Debug, PartialEq, FromRow, SerializeRow)]
struct Wrapped<T> {
    id: T,
}

#[derive(FromRow, SerializeRow)]
struct Nothing {}

#[test]
fn from_row_reads_by_column_name_borrowing_from_the_page() {
    let rows = users();
    let got: Vec<User<'_>> = rows.typed().collect::<DecodeResult<_>>().expect("rows");
    assert_eq!(
        got,
        [
            User {
                id: 1,
                display_name: Some("ada")
            },
            User {
                id: 2,
                display_name: None
            }
        ]
    );
}

#[test]
fn from_row_type_mismatch_names_column_and_both_types() {
    let rows = users();
    let err = rows
        .typed::<OwnedUser>()
        .next()
        .expect("one item")
        .unwrap_err();
    assert_eq!(
        err.kind().to_string(),
        "column id: cannot read CQL type int as i64"
    );
}

#[test]
fn from_row_generic_field_and_missing_column() {
    let rows = users();
    let got: Vec<Wrapped<i32>> = rows.typed().collect::<DecodeResult<_>>().expect("rows");
    assert_eq!(got, [Wrapped { id: 1 }, Wrapped { id: 2 }]);

    let rows = page(&[("name", ColumnType::Text)], &[]);
    let err = rows.typed::<User<'_>>().next().expect("item").unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::NoSuchColumn("id".into()));
}

#[test]
fn from_row_null_into_non_option_names_the_column() {
    #[derive(Debug, FromRow)]
    struct Strict<'a> {
        #[expect(dead_code, reason = "only the error is looked at")]
        name: &'a str,
    }
    let rows = users();
    let results: Vec<_> = rows.typed::<Strict<'_>>().collect();
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err();
    assert_eq!(
        err.kind().to_string(),
        "column name: null value read into a non-Option type"
    );
}

#[test]
fn from_row_of_no_fields_reads_any_page() {
    let rows = users();
    assert_eq!(rows.typed::<Nothing>().filter(Result::is_ok).count(), 2);
}

/// Columns name, id, extra in that order, whatever the fields are called.
#[derive(Debug, PartialEq, FromRow)]
#[cql(by_position)]
struct Positional<'a> {
    who: Option<&'a str>,
    number: i32,
    flag: Option<bool>,
}

#[test]
fn from_row_by_position_reads_fields_in_column_order() {
    let rows = users();
    let got: Vec<Positional<'_>> = rows.typed().collect::<DecodeResult<_>>().expect("rows");
    assert_eq!(
        got,
        [
            Positional {
                who: Some("ada"),
                number: 1,
                flag: Some(true)
            },
            Positional {
                who: None,
                number: 2,
                flag: None
            }
        ]
    );
}

#[test]
fn from_row_by_position_checks_count_and_types_once() {
    // Two columns for three fields: the check is the only item, before any row.
    let rows = page(
        &[("name", ColumnType::Text), ("id", ColumnType::Int)],
        &[&[None, Some(&[0, 0, 0, 1])]],
    );
    let items: Vec<_> = rows.typed::<Positional<'_>>().collect();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].as_ref().unwrap_err().kind(),
        &DecodeErrorKind::ColumnCount {
            expected: 3,
            found: 2
        }
    );

    // Right count, column 1 of the wrong type: named with both types.
    let rows = page(
        &[
            ("name", ColumnType::Text),
            ("id", ColumnType::BigInt),
            ("extra", ColumnType::Boolean),
        ],
        &[],
    );
    let err = rows
        .typed::<Positional<'_>>()
        .next()
        .expect("item")
        .unwrap_err();
    assert_eq!(
        err.kind().to_string(),
        "column id: cannot read CQL type bigint as i32"
    );
}

fn markers(specs: &[(&str, ColumnType)]) -> Vec<ColumnSpec> {
    specs
        .iter()
        .map(|(n, t)| ColumnSpec::new(*n, t.clone()))
        .collect()
}

#[test]
fn serialize_row_binds_fields_by_marker_name_in_marker_order() {
    let user = User {
        id: 7,
        display_name: Some("ada"),
    };
    let m = markers(&[("name", ColumnType::Text), ("id", ColumnType::Int)]);
    let mut out = Vec::new();
    user.serialize_row(&m, &mut cql4_frame::Writer::new(&mut out))
        .expect("binds");
    assert_eq!(out, [0, 0, 0, 3, b'a', b'd', b'a', 0, 0, 0, 4, 0, 0, 0, 7]);

    let mut generic = Vec::new();
    Wrapped { id: 7i32 }
        .serialize_row(&m[1..], &mut cql4_frame::Writer::new(&mut generic))
        .expect("binds");
    assert_eq!(generic, [0, 0, 0, 4, 0, 0, 0, 7]);
}

#[test]
fn serialize_row_errors_name_the_marker() {
    let user = User {
        id: 7,
        display_name: None,
    };
    // A marker without a field.
    let m = markers(&[("id", ColumnType::Int), ("age", ColumnType::Int)]);
    let err = user
        .serialize_row(&m, &mut cql4_frame::Writer::new(&mut Vec::new()))
        .unwrap_err();
    assert_eq!(err.to_string(), "no value for bind marker 1 (age)");
    // A field without a marker.
    let m = markers(&[("id", ColumnType::Int)]);
    let err = user
        .serialize_row(&m, &mut cql4_frame::Writer::new(&mut Vec::new()))
        .unwrap_err();
    assert_eq!(err, EncodeError::NoSuchMarker("name".into()));
    // A field of the wrong type.
    let m = markers(&[("id", ColumnType::Text), ("name", ColumnType::Text)]);
    let err = user
        .serialize_row(&m, &mut cql4_frame::Writer::new(&mut Vec::new()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bind marker 0 (id): encoding i32: value does not match CQL type text"
    );
    // No fields, no markers.
    assert_eq!(
        Nothing {}.serialize_row(&[], &mut cql4_frame::Writer::new(&mut Vec::new())),
        Ok(())
    );
}

/// `cql4_frame` reached under another path, as through the `cql4` facade (`cql4::frame`).
mod facade {
    pub(crate) use cql4_frame as frame;
}

#[derive(Debug, PartialEq, FromRow, SerializeRow)]
#[cql(crate = "crate::facade::frame")]
struct ThroughFacade {
    id: i32,
}

#[test]
fn crate_attribute_names_another_path_to_the_codec() {
    let rows = users();
    let got: Vec<ThroughFacade> = rows.typed().collect::<DecodeResult<_>>().expect("rows");
    assert_eq!(got, [ThroughFacade { id: 1 }, ThroughFacade { id: 2 }]);
    let mut out = Vec::new();
    ThroughFacade { id: 3 }
        .serialize_row(
            &markers(&[("id", ColumnType::Int)]),
            &mut cql4_frame::Writer::new(&mut out),
        )
        .expect("binds");
    assert_eq!(out, [0, 0, 0, 4, 0, 0, 0, 3]);
}

#[test]
fn serialize_row_struct_binds_unset_and_null_fields() {
    #[derive(SerializeRow)]
    struct Update<'a> {
        id: i32,
        name: cql4_frame::Unset,
        note: Option<&'a str>,
    }
    let m = markers(&[
        ("note", ColumnType::Text),
        ("name", ColumnType::Text),
        ("id", ColumnType::Int),
    ]);
    let mut out = Vec::new();
    Update {
        id: 5,
        name: cql4_frame::Unset,
        note: None,
    }
    .serialize_row(&m, &mut cql4_frame::Writer::new(&mut out))
    .expect("binds");
    assert_eq!(
        out,
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 4, 0, 0, 0, 5]
    );
}
