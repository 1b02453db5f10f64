//! proptest round trips of the typed API: a tuple bound with `SerializeRow` becomes the cells
//! of a page, which `Rows::typed` reads back into the same tuple; and the bound bytes are the
//! ones `write_value` writes for each value.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::BTreeMap;

use bytes::Bytes;
use cql4_frame::bind::SerializeRow;
use cql4_frame::rows::{ColumnSpec, ResultMetadata, Rows};
use cql4_frame::types::ColumnType;
use cql4_frame::value::write_value;
use cql4_frame::{DecodeLimits, DecodeResult, Reader};
use proptest::prelude::*;

type Row = (
    i32,
    Option<String>,
    i64,
    Vec<u8>,
    bool,
    Vec<i16>,
    BTreeMap<String, f64>,
);

fn specs() -> Vec<ColumnSpec> {
    [
        ("a", ColumnType::Int),
        ("b", ColumnType::Text),
        ("c", ColumnType::BigInt),
        ("d", ColumnType::Blob),
        ("e", ColumnType::Boolean),
        ("f", ColumnType::List(Box::new(ColumnType::SmallInt))),
        (
            "g",
            ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Double)),
        ),
    ]
    .into_iter()
    .map(|(n, t)| ColumnSpec::new(n, t))
    .collect()
}

/// A page whose rows are the `[value]`s of `bound` (each `columns` long), as a server
/// sends it: metadata, row count, then the values as cells.
fn page(columns: Vec<ColumnSpec>, rows: usize, bound: &[u8]) -> Rows {
    let mut body = Vec::new();
    ResultMetadata::new(None, columns)
        .encode(&mut cql4_frame::Writer::new(&mut body))
        .expect("encodes");
    body.extend_from_slice(&i32::try_from(rows).unwrap().to_be_bytes());
    body.extend_from_slice(bound);
    let body = Bytes::from(body);
    Rows::decode(&body, &mut Reader::new(&body), &DecodeLimits::default()).unwrap()
}

fn row_strategy() -> impl Strategy<Value = Row> {
    (
        any::<i32>(),
        proptest::option::of(".{0,12}"),
        any::<i64>(),
        proptest::collection::vec(any::<u8>(), 0..16),
        any::<bool>(),
        proptest::collection::vec(any::<i16>(), 0..5),
        // NaN never equals itself: finite values only.
        proptest::collection::btree_map(".{0,6}", -1e300..1e300f64, 0..4),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn bound_rows_read_back_as_the_same_tuples(rows in proptest::collection::vec(row_strategy(), 0..6)) {
        let markers = specs();
        let mut bound = Vec::new();
        for row in &rows {
            row.serialize_row(&markers, &mut cql4_frame::Writer::new(&mut bound)).expect("encodes");
        }
        let page = page(markers, rows.len(), &bound);
        let read: Vec<Row> = page.typed().collect::<DecodeResult<_>>().unwrap();
        prop_assert_eq!(read, rows);
    }

    #[test]
    fn bound_bytes_are_write_value_bytes(row in row_strategy()) {
        let markers = specs();
        let mut bound = Vec::new();
        row.serialize_row(&markers, &mut cql4_frame::Writer::new(&mut bound)).expect("encodes");
        let mut each = Vec::new();
        let ty = |i: usize| &markers[i].ty;
        write_value(&row.0, ty(0), &mut each).unwrap();
        write_value(&row.1, ty(1), &mut each).unwrap();
        write_value(&row.2, ty(2), &mut each).unwrap();
        write_value(&row.3, ty(3), &mut each).unwrap();
        write_value(&row.4, ty(4), &mut each).unwrap();
        write_value(&row.5, ty(5), &mut each).unwrap();
        write_value(&row.6, ty(6), &mut each).unwrap();
        prop_assert_eq!(bound, each);
    }
}
