//! Heap allocations of Rows decoding, counted with a counting global allocator: the
//! allocation budget of a page is a tested property, not only a bench figure.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::alloc::System;
use std::sync::Arc;

use bytes::Bytes;
use cql4_frame::rows::{ColumnSpec, MetadataFlags, ResultMetadata, Rows};
use cql4_frame::types::ColumnType;
use cql4_frame::value::{write_value, MapIter};
use cql4_frame::{DecodeLimits, Reader};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations (count, bytes) made while `f` runs.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let region = Region::new(GLOBAL);
    let out = f();
    let change = region.change();
    (
        out,
        change.allocations + change.reallocations,
        change.bytes_allocated,
    )
}

/// A No_metadata page of `rows` rows of (int, text, map<text, text>), already a shared
/// `Bytes` as a frame body split from the connection's buffer is.
fn skip_metadata_page(rows: usize) -> Bytes {
    let mut body = Vec::new();
    ResultMetadata {
        flags: MetadataFlags::NO_METADATA,
        columns_count: 3,
        ..ResultMetadata::default()
    }
    .encode(&mut cql4_frame::Writer::new(&mut body))
    .expect("encodes");
    body.extend_from_slice(&(rows as i32).to_be_bytes());
    let map = ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text));
    for i in 0..rows {
        write_value(&(i as i32), &ColumnType::Int, &mut body).unwrap();
        write_value("some text", &ColumnType::Text, &mut body).unwrap();
        write_value(
            &std::collections::BTreeMap::from([("class", "SimpleStrategy"), ("rf", "3")]),
            &map,
            &mut body,
        )
        .unwrap();
    }
    let body = Bytes::from(body);
    drop(body.clone()); // promote to a shared buffer now, outside the measured section
    body
}

fn cached() -> Arc<ResultMetadata> {
    Arc::new(ResultMetadata::new(
        None,
        vec![
            ColumnSpec::new("id", ColumnType::Int),
            ColumnSpec::new("name", ColumnType::Text),
            ColumnSpec::new(
                "replication",
                ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text)),
            ),
        ],
    ))
}

// The counters are process-wide and libtest allocates on its own threads while tests run, so
// this file holds a single #[test]: nothing else runs while it measures.
#[test]
fn allocation_budget() {
    cached_metadata_page_allocates_its_box_and_a_large_pages_index();
    hostile_row_count_allocates_by_bytes_present();
    typed_rows_allocate_nothing_beyond_the_page_box();
    bound_row_of_ten_values_allocates_nothing_in_a_sized_buffer();
}

fn typed_rows_allocate_nothing_beyond_the_page_box() {
    let md = cached();
    for rows in [1, 100] {
        let body = skip_metadata_page(rows);
        let (sum, count, _) = measure(|| {
            let mut r = Reader::new(&body);
            let page =
                Rows::decode_with_metadata(&body, &mut r, &DecodeLimits::default(), &md).unwrap();
            let mut sum = 0usize;
            for row in page.typed::<(i32, &str, MapIter<'_, &str, &str>)>() {
                let (id, name, map) = row.unwrap();
                sum += id as usize + name.len() + map.count();
            }
            sum
        });
        assert!(sum > 0);
        // Nothing: a typed read walks the page's bytes without indexing them, and the column
        // check and each row's decode borrow.
        // The page's box alone.
        assert_eq!(count, 1, "{rows} rows");
    }
}

fn bound_row_of_ten_values_allocates_nothing_in_a_sized_buffer() {
    use cql4_frame::bind::SerializeRow;
    let markers: Vec<ColumnSpec> = (0..10)
        .map(|i| {
            let ty = if i % 2 == 0 {
                ColumnType::Int
            } else {
                ColumnType::Text
            };
            ColumnSpec::new(format!("c{i}"), ty)
        })
        .collect();
    let row = (
        0i32, "one", 2i32, "three", 4i32, "five", 6i32, "seven", 8i32, "nine",
    );
    let mut out = Vec::with_capacity(256);
    let (result, count, _) =
        measure(|| row.serialize_row(&markers, &mut cql4_frame::Writer::new(&mut out)));
    result.unwrap();
    assert_eq!(count, 0);
    assert_eq!(out.len(), 5 * 8 + 5 * 4 + "onethreefivesevennine".len());
}

fn cached_metadata_page_allocates_its_box_and_a_large_pages_index() {
    let md = cached();
    for rows in [1, 100] {
        let body = skip_metadata_page(rows);
        let (sum, count, _) = measure(|| {
            let mut r = Reader::new(&body);
            let page =
                Rows::decode_with_metadata(&body, &mut r, &DecodeLimits::default(), &md).unwrap();
            let mut sum = 0usize;
            for row in &page {
                sum += row.get::<i32>(0).unwrap() as usize;
                sum += row.get::<&str>(1).unwrap().len();
                for entry in row.get::<MapIter<'_, &str, &str>>(2).unwrap() {
                    let (k, v) = entry.unwrap();
                    sum += k.len() + v.len();
                }
            }
            sum
        });
        assert!(sum > 0);
        // The page's box, which holds the cell index of a page of at most 16 cells; a larger
        // page's index is one Vec more. Typed reads borrow from the frame.
        let index = usize::from(rows * 3 > 16);
        assert_eq!(count, 1 + index, "{rows} rows");
    }
}

fn hostile_row_count_allocates_by_bytes_present() {
    // rows_count i32::MAX over a 16-byte body: the cell Vec is sized by the bytes left.
    let page: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 3, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    let body = Bytes::copy_from_slice(page);
    drop(body.clone());
    let (result, _, bytes) = measure(|| {
        let mut r = Reader::new(&body);
        Rows::decode(&body, &mut r, &DecodeLimits::default()).map(|_| ())
    });
    assert!(result.is_err());
    assert!(bytes < 1024, "{bytes} bytes allocated");
}
