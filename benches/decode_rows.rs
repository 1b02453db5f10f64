//! Decoding Rows pages (native_protocol_v4.spec §4.2.5.2) and reading every cell as a typed
//! value, borrowing from the frame.
//!
//! Pages:
//! - `keyspaces_130`: a `system_schema.keyspaces`-like page, 130 rows of
//!   (keyspace_name text, durable_writes boolean, replication map<text, text>), with metadata;
//! - `keyspaces_130_cached_metadata`: the same rows sent with No_metadata (skip-metadata
//!   EXECUTE), decoded with the prepared statement's cached metadata;
//! - `int_text_blob_5000`: 5,000 rows of (int, text, blob of 100 bytes);
//! - `one_row_cached_metadata`: a select of one row, as the connection layer decodes it.
//!
//! Throughput is in rows (criterion `Elements`). Heap allocations per page are counted with a
//! counting global allocator and printed before the timings.
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented public function"
)]

use std::alloc::System;
use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use cql4::frame::rows::{ColumnSpec, MetadataFlags, ResultMetadata, Rows, TableSpec};
use cql4::frame::types::ColumnType;
use cql4::frame::value::{write_value, MapIter};
use cql4::frame::{DecodeLimits, Reader};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn text() -> ColumnType {
    ColumnType::Text
}

fn keyspaces_metadata() -> ResultMetadata {
    ResultMetadata::new(
        Some(TableSpec {
            keyspace: "system_schema".into(),
            table: "keyspaces".into(),
        }),
        vec![
            ColumnSpec::new("keyspace_name", text()),
            ColumnSpec::new("durable_writes", ColumnType::Boolean),
            ColumnSpec::new(
                "replication",
                ColumnType::Map(Box::new(text()), Box::new(text())),
            ),
        ],
    )
}

/// The body of a Rows result (after the kind) with `metadata` and the given rows.
fn page(metadata: &ResultMetadata, cells: &dyn Fn(usize, &mut Vec<u8>), rows: usize) -> Bytes {
    let mut body = Vec::new();
    metadata
        .encode(&mut cql4_frame::Writer::new(&mut body))
        .expect("encodes");
    body.extend_from_slice(&i32::try_from(rows).expect("rows").to_be_bytes());
    for i in 0..rows {
        cells(i, &mut body);
    }
    Bytes::from(body)
}

fn keyspaces_rows(i: usize, out: &mut Vec<u8>) {
    let name = format!("keyspace_{i:03}");
    write_value(name.as_str(), &text(), out).expect("text");
    write_value(&(i % 2 == 0), &ColumnType::Boolean, out).expect("bool");
    let map = ColumnType::Map(Box::new(text()), Box::new(text()));
    let replication = std::collections::BTreeMap::from([
        (
            "class",
            "org.apache.cassandra.locator.NetworkTopologyStrategy",
        ),
        ("datacenter1", "3"),
    ]);
    write_value(&replication, &map, out).expect("map");
}

fn wide_rows(i: usize, out: &mut Vec<u8>) {
    write_value(&i32::try_from(i).expect("i32"), &ColumnType::Int, out).expect("int");
    write_value(format!("row number {i}").as_str(), &text(), out).expect("text");
    let blob = [u8::try_from(i % 251).expect("u8"); 100];
    write_value(&blob[..], &ColumnType::Blob, out).expect("blob");
}

/// The same page sent with No_metadata.
fn skip_metadata(full: &Bytes, metadata: &ResultMetadata) -> Bytes {
    let mut header = Vec::new();
    metadata
        .encode(&mut cql4_frame::Writer::new(&mut header))
        .expect("encodes");
    let skip = ResultMetadata {
        flags: MetadataFlags::NO_METADATA,
        columns_count: metadata.columns.len(),
        ..ResultMetadata::default()
    };
    let mut body = Vec::new();
    skip.encode(&mut cql4_frame::Writer::new(&mut body))
        .expect("encodes");
    body.extend_from_slice(&full[header.len()..]);
    Bytes::from(body)
}

fn decode(body: &Bytes, cached: Option<&Arc<ResultMetadata>>) -> Rows {
    let limits = DecodeLimits::default();
    let mut r = Reader::new(body);
    match cached {
        Some(md) => Rows::decode_with_metadata(body, &mut r, &limits, md),
        None => Rows::decode(body, &mut r, &limits),
    }
    .expect("page decodes")
}

/// Decodes a keyspaces page and reads every cell typed; returns a checksum.
fn touch_keyspaces(body: &Bytes, cached: Option<&Arc<ResultMetadata>>) -> usize {
    let rows = decode(body, cached);
    let mut sum = 0;
    for row in &rows {
        let name: &str = row.get(0).expect("keyspace_name");
        let durable: bool = row.get(1).expect("durable_writes");
        let replication: MapIter<'_, &str, &str> = row.get(2).expect("replication");
        sum += name.len() + usize::from(durable);
        for entry in replication {
            let (k, v) = entry.expect("entry");
            sum += k.len() + v.len();
        }
    }
    sum
}

fn touch_wide(body: &Bytes, cached: Option<&Arc<ResultMetadata>>) -> usize {
    let rows = decode(body, cached);
    let mut sum = 0usize;
    for row in &rows {
        let id: i32 = row.get(0).expect("int");
        let text: &str = row.get(1).expect("text");
        let blob: &[u8] = row.get(2).expect("blob");
        sum = sum.wrapping_add(id as usize + text.len() + usize::from(blob[99]));
    }
    sum
}

/// Heap allocations (and bytes) of one call of `f`.
fn allocations(f: impl FnOnce() -> usize) -> (usize, usize) {
    let region = Region::new(GLOBAL);
    black_box(f());
    let change = region.change();
    (
        change.allocations + change.reallocations,
        change.bytes_allocated,
    )
}

fn bench(c: &mut Criterion) {
    let ks_md = keyspaces_metadata();
    let ks_page = page(&ks_md, &keyspaces_rows, 130);
    let ks_cached = Arc::new(ks_md.clone());
    let ks_skip = skip_metadata(&ks_page, &ks_md);

    let wide_md = ResultMetadata::new(
        Some(TableSpec {
            keyspace: "ks".into(),
            table: "wide".into(),
        }),
        vec![
            ColumnSpec::new("id", ColumnType::Int),
            ColumnSpec::new("name", text()),
            ColumnSpec::new("data", ColumnType::Blob),
        ],
    );
    let wide_page = page(&wide_md, &wide_rows, 5000);
    let one_row = skip_metadata(&page(&wide_md, &wide_rows, 1), &wide_md);
    let wide_cached = Arc::new(wide_md);

    type Case<'a> = (
        &'a str,
        &'a Bytes,
        Option<&'a Arc<ResultMetadata>>,
        usize,
        bool,
    );
    let cases: [Case<'_>; 4] = [
        ("keyspaces_130", &ks_page, None, 130, true),
        (
            "keyspaces_130_cached_metadata",
            &ks_skip,
            Some(&ks_cached),
            130,
            true,
        ),
        ("int_text_blob_5000", &wide_page, None, 5000, false),
        (
            "one_row_cached_metadata",
            &one_row,
            Some(&wide_cached),
            1,
            false,
        ),
    ];

    for (name, body, cached, _, keyspaces) in &cases {
        // A frame body split from the connection's BytesMut is already a shared buffer; a
        // `Bytes::from(Vec)` is promoted (one allocation) on its first clone. Promote it first so
        // that the count is the steady state a connection sees.
        drop(Bytes::clone(body));
        let (count, bytes) = if *keyspaces {
            allocations(|| touch_keyspaces(body, *cached))
        } else {
            allocations(|| touch_wide(body, *cached))
        };
        println!(
            "decode_rows/{name}: {count} heap allocations per page ({bytes} bytes), page body {} bytes",
            body.len()
        );
    }

    let mut group = c.benchmark_group("decode_rows");
    for (name, body, cached, rows, keyspaces) in cases {
        group.throughput(Throughput::Elements(rows as u64));
        if keyspaces {
            group.bench_function(name, |b| {
                b.iter(|| touch_keyspaces(black_box(body), cached))
            });
        } else {
            group.bench_function(name, |b| b.iter(|| touch_wide(black_box(body), cached)));
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
