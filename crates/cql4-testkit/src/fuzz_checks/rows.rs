//! `rows`: Rows bodies, with and without cached metadata; every cell walked.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use cql4_frame::rows::{ResultMetadata, Row, Rows};
use cql4_frame::types::ColumnType;
use cql4_frame::value::CqlValue;
use cql4_frame::Reader;

use super::small_limits;
use super::types::value_fixpoint;

/// `data[0]` = n: the first n bytes are a prepared statement's result metadata (used for a
/// No_metadata page), the rest a Rows body (after the kind).
pub fn rows(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let limits = small_limits();
    let (meta, body) = rest.split_at(usize::from(n).min(rest.len()));
    let body = Bytes::copy_from_slice(body);
    if let Ok(decoded) = Rows::decode(&body, &mut Reader::new(&body), &limits) {
        walk_rows(&decoded);
        check_rows_fixpoint(&decoded, None);
    }
    if let Ok(cached) = ResultMetadata::decode(&mut Reader::new(meta), &limits) {
        let cached = Arc::new(cached);
        if let Ok(decoded) =
            Rows::decode_with_metadata(&body, &mut Reader::new(&body), &limits, &cached)
        {
            walk_rows(&decoded);
            check_rows_fixpoint(&decoded, Some(&cached));
        }
    }
}

fn check_rows_fixpoint(rows: &Rows, cached: Option<&Arc<ResultMetadata>>) {
    let mut body = Vec::new();
    rows.encode(&mut cql4_frame::Writer::new(&mut body))
        .expect("encodes");
    let body = Bytes::from(body);
    let limits = small_limits();
    let mut r = Reader::new(&body);
    let again = match cached {
        Some(c) => Rows::decode_with_metadata(&body, &mut r, &limits, c),
        None => Rows::decode(&body, &mut r, &limits),
    }
    .expect("re-encoded rows decode");
    same_rows(rows, &again);
    assert_eq!(&again, rows, "rows changed through encode/decode");
    assert!(r.is_empty(), "re-encoded rows have trailing bytes");
    let mut second = Vec::new();
    again
        .encode(&mut cql4_frame::Writer::new(&mut second))
        .expect("encodes");
    assert_eq!(&body[..], &second[..], "rows encoding is not a fixpoint");
}

/// Every cell of every row, raw, typed and owned.
pub(super) fn walk_rows(rows: &Rows) {
    let mut seen = 0usize;
    let mut broken = false;
    for row in rows.iter() {
        assert_eq!(row.index(), seen);
        seen += 1;
        // Cells are walked when rows are read: from a cell the bytes do not hold on, every row
        // is short, and reading a cell it lacks is an error (never a panic).
        if row.len() < rows.columns_count() {
            broken = true;
            assert!(
                row.get::<Option<CqlValue>>(row.len()).is_err(),
                "a missing cell of row {} reads",
                row.index()
            );
        } else {
            assert!(!broken, "row {} is whole after a short row", row.index());
            assert_eq!(row.len(), rows.columns_count());
        }
        for i in 0..row.len() {
            assert!(
                row.raw(i).is_some(),
                "cell {i} of a {}-cell row is missing",
                row.len()
            );
            walk_cell(&row, i, rows.columns().get(i).map(|c| &c.ty));
        }
        assert!(row.raw(row.len()).is_none());
        if let Some(first) = rows.columns().first() {
            let _ = row.get_by_name::<Option<CqlValue>>(&first.name);
        }
        if let Ok(values) = row.to_owned_values() {
            assert_eq!(values.len(), row.len());
            for (i, v) in values.iter().enumerate() {
                assert_eq!(
                    v.is_none(),
                    row.raw(i) == Some(None),
                    "null-ness of cell {i}"
                );
            }
        }
    }
    assert_eq!(
        seen,
        rows.len(),
        "iterated a different number of rows than the page holds"
    );
    if let Ok(all) = rows.to_owned_rows() {
        assert!(!broken, "a page with a short row copied whole");
        assert_eq!(all.len(), rows.len());
    }
}

fn walk_cell(row: &Row<'_>, i: usize, spec: Option<&ColumnType>) {
    let owned = row.get::<Option<CqlValue>>(i);
    let Some(spec) = spec else {
        assert!(owned.is_err(), "a cell without a column type decoded");
        return;
    };
    if let Ok(Some(v)) = &owned {
        value_fixpoint(v, spec);
        let _ = v.to_string();
    }
    // Typed access: the type check must agree with the column type, and a typed value must
    // agree with the owned one.
    match (spec, &owned) {
        (ColumnType::Int, Ok(Some(CqlValue::Int(n)))) => {
            assert_eq!(row.get::<i32>(i).ok(), Some(*n));
        }
        (
            ColumnType::BigInt | ColumnType::Counter,
            Ok(Some(CqlValue::BigInt(n) | CqlValue::Counter(n))),
        ) => {
            assert_eq!(row.get::<i64>(i).ok(), Some(*n));
        }
        (
            ColumnType::Text | ColumnType::Ascii,
            Ok(Some(CqlValue::Text(s) | CqlValue::Ascii(s))),
        ) => {
            assert_eq!(row.get::<&str>(i).ok(), Some(s.as_str()));
        }
        (ColumnType::Blob, Ok(Some(CqlValue::Blob(b)))) => {
            assert_eq!(row.get::<&[u8]>(i).ok(), Some(b.as_slice()));
        }
        _ => {}
    }
    let _ = row.get::<Option<i32>>(i);
    let _ = row.get::<Option<i64>>(i);
    let _ = row.get::<Option<&str>>(i);
    let _ = row.get::<Option<String>>(i);
    let _ = row.get::<Option<&[u8]>>(i);
    let _ = row.get::<Option<f64>>(i);
    let _ = row.get::<Option<f32>>(i);
    let _ = row.get::<Option<bool>>(i);
    let _ = row.get::<Option<i16>>(i);
    let _ = row.get::<Option<i8>>(i);
    let _ = row.get::<Option<i128>>(i);
    let _ = row.get::<Option<IpAddr>>(i);
    let _ = row.get::<Option<Vec<CqlValue>>>(i);
    let _ = row.get::<Option<Vec<Option<i32>>>>(i);
    let _ = row.get::<Option<Vec<&str>>>(i);
    let _ = row.get::<Option<HashMap<String, i32>>>(i);
    let _ = row.get::<Option<(i32, Option<&str>)>>(i);
}

/// Same columns, row count, paging state and cells (byte for byte: cells are kept verbatim).
pub(super) fn same_rows(a: &Rows, b: &Rows) {
    assert_eq!(a.columns(), b.columns(), "columns changed");
    assert_eq!(a.columns_count(), b.columns_count());
    assert_eq!(a.len(), b.len(), "row count changed");
    assert_eq!(a.paging_state(), b.paging_state(), "paging state changed");
    for (x, y) in a.iter().zip(b.iter()) {
        for i in 0..x.len() {
            assert_eq!(x.raw(i), y.raw(i), "cell changed");
        }
    }
}
