//! Codec workload: cql4-frame against scylla-cql and cassandra-protocol (cdrs-tokio's codec).
//!
//! - decode a 130-row `system_schema.keyspaces` page (text, boolean, map<text, text>),
//! - decode a 5,000-row (int, text, blob(100)) page,
//! - encode an EXECUTE with 10 bound values,
//!
//! each touching every cell as a typed value, the way each library's users read rows (borrowed
//! `&str`/`&[u8]` where the library offers it). Two more groups compare the typed APIs, cql4
//! against scylla-cql only (cassandra-protocol has no derives):
//!
//! - `wide_5000_typed`: the 5,000-row page read into a derived struct (`#[derive(FromRow)]`
//!   against scylla's `#[derive(DeserializeRow)]`), text and blob borrowed,
//! - `execute_10_typed`: the same EXECUTE with its 10 values bound from a derived struct
//!   (`#[derive(SerializeRow)]`, by marker name, in both libraries).
//!
//! Before criterion runs, the allocations of one operation per library are counted with the
//! crate's counting allocator and written to `$CQL4_BENCH_OUT/codec_allocs.json` (default
//! `../target/bench`).
use std::collections::HashMap;
use std::hint::black_box;

use bytes::Bytes;
use cql4_bench::{alloc, pages};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const PAYLOAD_LEN: usize = 100;

/// The 10 bound values of the EXECUTE: int, bigint, text, text, blob(100), boolean, double,
/// float, bigint, int.
struct Ten {
    a: i32,
    b: i64,
    c: &'static str,
    d: &'static str,
    e: Vec<u8>,
    f: bool,
    g: f64,
    h: f32,
    i: i64,
    j: i32,
}

fn ten() -> Ten {
    Ten {
        a: 42,
        b: 1_700_000_000_000,
        c: "user-000042",
        d: "some longer text value for the benchmark",
        e: vec![7; PAYLOAD_LEN],
        f: true,
        g: 2.5,
        h: 1.25,
        i: -9,
        j: 7,
    }
}

const PREPARED_ID: [u8; 16] = [9; 16];

/// The 10 values of [`Ten`] as one row for the typed EXECUTE, bound by marker name (the markers
/// are named after the fields) through each library's derive.
#[derive(cql4_macros::SerializeRow, ::scylla::SerializeRow)]
// The derive's code names `scylla`, which this file's `mod scylla` shadows.
#[scylla(crate = ::scylla)]
struct TenRow<'a> {
    a: i32,
    b: i64,
    c: &'a str,
    d: &'a str,
    e: &'a [u8],
    f: bool,
    g: f64,
    h: f32,
    i: i64,
    j: i32,
}

impl Ten {
    fn row(&self) -> TenRow<'_> {
        TenRow {
            a: self.a,
            b: self.b,
            c: self.c,
            d: self.d,
            e: &self.e,
            f: self.f,
            g: self.g,
            h: self.h,
            i: self.i,
            j: self.j,
        }
    }
}

/// The bind markers' names, shared by the typed EXECUTE of both libraries.
const TEN_NAMES: [&str; 10] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

mod cql4 {
    use super::*;
    use cql4_frame::bind::Bound;
    use cql4_frame::request::execute_frame;
    use cql4_frame::{
        ColumnSpec, ColumnType, Compression, Consistency, DecodeLimits, FrameExtras,
        QueryParameters, Reader, Rows, SerializeRow,
    };

    fn rows(body: &Bytes, limits: &DecodeLimits) -> Rows {
        let mut r = Reader::new(body);
        r.i32("kind").expect("kind");
        Rows::decode(body, &mut r, limits).expect("page decodes")
    }

    pub(crate) fn keyspaces(body: &Bytes, limits: &DecodeLimits) -> usize {
        let rows = rows(body, limits);
        let mut n = 0;
        for row in &rows {
            let name: &str = row.get(0).expect("text");
            let durable: bool = row.get(1).expect("boolean");
            let replication: HashMap<&str, &str> = row.get(2).expect("map");
            n += name.len() + usize::from(durable) + replication.len();
        }
        n
    }

    pub(crate) fn wide(body: &Bytes, limits: &DecodeLimits) -> usize {
        let rows = rows(body, limits);
        let mut n = 0;
        for row in &rows {
            let id: i32 = row.get(0).expect("int");
            let name: &str = row.get(1).expect("text");
            let payload: &[u8] = row.get(2).expect("blob");
            n += id as usize + name.len() + payload.len();
        }
        n
    }

    /// The EXECUTE as `Client::execute(&prepared, values, …)` (cql4-conn `client.rs`)
    /// encodes it: the same `QueryParameters` with the row bound to the markers
    /// (`bind::Bound`), and the same codec call, `request::execute_frame`, which writes the
    /// values straight into one buffer sized for the markers. (`PreparedStatement` needs a
    /// server, so the markers are passed as a PREPARE would give them.)
    fn execute<R: SerializeRow + ?Sized>(row: &R, id: &Bytes, markers: &[ColumnSpec]) -> usize {
        let params = QueryParameters {
            consistency: Consistency::LOCAL_ONE,
            values: Some(Bound { row, markers }),
            skip_metadata: true,
            page_size: Some(5000),
            paging_state: None,
            serial_consistency: None,
            default_timestamp: None,
        };
        execute_frame(
            Compression::None,
            FrameExtras::default(),
            id,
            markers.len(),
            &params,
        )
        .expect("encodes")
        .len()
    }

    /// The 10 values as a tuple, by position.
    pub(crate) fn encode(t: &Ten, id: &Bytes, markers: &[ColumnSpec]) -> usize {
        let row = (t.a, t.b, t.c, t.d, &t.e[..], t.f, t.g, t.h, t.i, t.j);
        execute(&row, id, markers)
    }

    /// One row of the wide page as a user would declare it.
    #[derive(cql4_macros::FromRow)]
    struct Wide<'a> {
        id: i32,
        name: &'a str,
        payload: &'a [u8],
    }

    pub(crate) fn wide_typed(body: &Bytes, limits: &DecodeLimits) -> usize {
        let rows = rows(body, limits);
        let mut n = 0;
        for row in rows.typed::<Wide>() {
            let row = row.expect("row");
            n += row.id as usize + row.name.len() + row.payload.len();
        }
        n
    }

    /// The markers of the typed EXECUTE, as a PREPARE would give them.
    pub(crate) fn markers() -> Vec<ColumnSpec> {
        use ColumnType::*;
        let types = [
            Int, BigInt, Text, Text, Blob, Boolean, Double, Float, BigInt, Int,
        ];
        TEN_NAMES
            .into_iter()
            .zip(types)
            .map(|(name, ty)| ColumnSpec::new(name, ty))
            .collect()
    }

    /// The 10 values from the derived struct, by marker name.
    pub(crate) fn encode_typed(t: &TenRow<'_>, id: &Bytes, markers: &[ColumnSpec]) -> usize {
        execute(t, id, markers)
    }
}

mod scylla {
    use super::*;
    use scylla_cql::frame::protocol_features::ProtocolFeatures;
    use scylla_cql::frame::request::execute::ExecuteV2;
    use scylla_cql::frame::request::query::{PagingState, QueryParameters};
    use scylla_cql::frame::response::result::{
        self, ColumnSpec, ColumnType, NativeType, TableSpec,
    };
    use scylla_cql::frame::SerializedRequest;
    use scylla_cql::serialize::row::{RowSerializationContext, SerializedValues};
    use std::borrow::Cow;

    fn rows(body: &Bytes) -> result::DeserializedMetadataAndRawRows {
        match result::deserialize_with_features(body.clone(), None, &ProtocolFeatures::default())
            .expect("result decodes")
        {
            result::Result::Rows((raw, _)) => raw.deserialize_metadata().expect("metadata"),
            _ => panic!("not rows"),
        }
    }

    pub(crate) fn keyspaces(body: &Bytes) -> usize {
        let rows = rows(body);
        let mut n = 0;
        for row in rows
            .rows_iter::<(&str, bool, HashMap<&str, &str>)>()
            .expect("types match")
        {
            let (name, durable, replication) = row.expect("row");
            n += name.len() + usize::from(durable) + replication.len();
        }
        n
    }

    pub(crate) fn wide(body: &Bytes) -> usize {
        let rows = rows(body);
        let mut n = 0;
        for row in rows.rows_iter::<(i32, &str, &[u8])>().expect("types match") {
            let (id, name, payload) = row.expect("row");
            n += id as usize + name.len() + payload.len();
        }
        n
    }

    /// One row of the wide page as a user would declare it.
    #[derive(::scylla::DeserializeRow)]
    #[scylla(crate = ::scylla)]
    struct Wide<'a> {
        id: i32,
        name: &'a str,
        payload: &'a [u8],
    }

    pub(crate) fn wide_typed(body: &Bytes) -> usize {
        let rows = rows(body);
        let mut n = 0;
        for row in rows.rows_iter::<Wide>().expect("types match") {
            let row = row.expect("row");
            n += row.id as usize + row.name.len() + row.payload.len();
        }
        n
    }

    pub(crate) fn specs() -> Vec<ColumnSpec<'static>> {
        specs_named(|i| format!("c{i}"))
    }

    /// The markers of the typed EXECUTE, named as its struct's fields.
    pub(crate) fn typed_specs() -> Vec<ColumnSpec<'static>> {
        specs_named(|i| TEN_NAMES[i].to_owned())
    }

    fn specs_named(name: impl Fn(usize) -> String) -> Vec<ColumnSpec<'static>> {
        use NativeType::*;
        let types = [
            Int, BigInt, Text, Text, Blob, Boolean, Double, Float, BigInt, Int,
        ];
        types
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                ColumnSpec::owned(
                    name(i),
                    ColumnType::Native(t),
                    TableSpec::owned("bench".into(), "t".into()),
                )
            })
            .collect()
    }

    pub(crate) fn encode(t: &Ten, id: &Bytes, specs: &[ColumnSpec<'static>]) -> usize {
        let ctx = RowSerializationContext::from_specs(specs);
        let values = SerializedValues::from_serializable(
            &ctx,
            &(t.a, t.b, t.c, t.d, &t.e[..], t.f, t.g, t.h, t.i, t.j),
        )
        .expect("values serialize");
        execute(values, id)
    }

    /// The EXECUTE with its values bound from the derived struct, by marker name.
    pub(crate) fn encode_typed(t: &TenRow<'_>, id: &Bytes, specs: &[ColumnSpec<'static>]) -> usize {
        let ctx = RowSerializationContext::from_specs(specs);
        let values = SerializedValues::from_serializable(&ctx, t).expect("values serialize");
        execute(values, id)
    }

    fn execute(values: SerializedValues, id: &Bytes) -> usize {
        let req = ExecuteV2 {
            id: id[..].into(),
            result_metadata_id: None,
            parameters: QueryParameters {
                consistency: scylla_cql::Consistency::LocalOne,
                serial_consistency: None,
                timestamp: None,
                page_size: Some(5000),
                paging_state: PagingState::start(),
                skip_metadata: true,
                values: Cow::Owned(values),
            },
            tablet_version_block: None,
        };
        let mut frame = SerializedRequest::make(&req, None, false).expect("encodes");
        frame.set_stream(1);
        frame.get_data().len()
    }
}

mod cdrs {
    use super::*;
    use cassandra_protocol::consistency::Consistency;
    use cassandra_protocol::frame::message_result::ResResultBody;
    use cassandra_protocol::frame::{Envelope, Flags, Version};
    use cassandra_protocol::query::{QueryParams, QueryValues};
    use cassandra_protocol::types::blob::Blob;
    use cassandra_protocol::types::list::List;
    use cassandra_protocol::types::map::Map;
    use cassandra_protocol::types::value::Value;
    use cassandra_protocol::types::{AsRustType, CBytesShort, IntoRustByIndex};
    use std::io::Cursor;

    fn rows(body: &Bytes) -> Vec<cassandra_protocol::types::rows::Row> {
        let mut cursor = Cursor::new(&body[..]);
        ResResultBody::from_cursor(&mut cursor, Version::V4)
            .expect("result decodes")
            .into_rows()
            .expect("rows")
    }

    pub(crate) fn keyspaces(body: &Bytes) -> usize {
        let mut n = 0;
        for row in rows(body) {
            let name: String = row.get_r_by_index(0).expect("text");
            let durable: bool = row.get_r_by_index(1).expect("boolean");
            let map: Map = row.get_r_by_index(2).expect("map");
            let replication: HashMap<String, String> = map.as_r_type().expect("map<text, text>");
            n += name.len() + usize::from(durable) + replication.len();
        }
        n
    }

    pub(crate) fn wide(body: &Bytes) -> usize {
        let mut n = 0;
        for row in rows(body) {
            let id: i32 = row.get_r_by_index(0).expect("int");
            let name: String = row.get_r_by_index(1).expect("text");
            let payload: Blob = row.get_r_by_index(2).expect("blob");
            n += id as usize + name.len() + payload.into_vec().len();
        }
        n
    }

    #[allow(dead_code)]
    fn _unused(_: List) {}

    pub(crate) fn encode(t: &Ten, id: &CBytesShort) -> usize {
        let values = QueryValues::SimpleValues(vec![
            Value::from(t.a),
            Value::from(t.b),
            Value::from(t.c),
            Value::from(t.d),
            Value::from(Blob::new(t.e.clone())),
            Value::from(t.f),
            Value::from(t.g),
            Value::from(t.h),
            Value::from(t.i),
            Value::from(t.j),
        ]);
        let params = QueryParams {
            consistency: Consistency::LocalOne,
            with_names: false,
            values: Some(values),
            page_size: Some(5000),
            paging_state: None,
            serial_consistency: None,
            timestamp: None,
            keyspace: None,
            now_in_seconds: None,
        };
        let mut env = Envelope::new_req_execute(id, None, &params, Flags::empty(), Version::V4);
        env.stream_id = 1;
        env.encode_with(cassandra_protocol::compression::Compression::None)
            .expect("encodes")
            .len()
    }
}

/// Allocations of one operation for each library, written for the report.
fn count_allocations() {
    let limits = cql4_frame::DecodeLimits::default();
    let ks = pages::keyspaces_page(130);
    let wide = pages::wide_page(5000);
    let t = ten();
    let id = Bytes::copy_from_slice(&PREPARED_ID);
    let cid = cassandra_protocol::types::CBytesShort::new(PREPARED_ID.to_vec());
    let specs = scylla::specs();
    let row = t.row();
    let markers = cql4::markers();
    let typed_specs = scylla::typed_specs();
    // Warm every path once (lazy statics, thread-locals) before counting.
    let _ = (
        cql4::keyspaces(&ks, &limits),
        scylla::keyspaces(&ks),
        cdrs::keyspaces(&ks),
    );
    let _ = (
        cql4::encode(&t, &id, &markers),
        scylla::encode(&t, &id, &specs),
        cdrs::encode(&t, &cid),
    );
    let _ = (
        cql4::wide_typed(&wide, &limits),
        scylla::wide_typed(&wide),
        cql4::encode_typed(&row, &id, &markers),
        scylla::encode_typed(&row, &id, &typed_specs),
    );
    let mut out = serde_json::Map::new();
    let mut put = |name: &str, n: u64| {
        out.insert(name.to_owned(), serde_json::json!(n));
    };
    put(
        "keyspaces_130/cql4",
        alloc::count(|| cql4::keyspaces(&ks, &limits)).0,
    );
    put(
        "keyspaces_130/scylla",
        alloc::count(|| scylla::keyspaces(&ks)).0,
    );
    put(
        "keyspaces_130/cdrs-tokio",
        alloc::count(|| cdrs::keyspaces(&ks)).0,
    );
    put(
        "wide_5000/cql4",
        alloc::count(|| cql4::wide(&wide, &limits)).0,
    );
    put("wide_5000/scylla", alloc::count(|| scylla::wide(&wide)).0);
    put("wide_5000/cdrs-tokio", alloc::count(|| cdrs::wide(&wide)).0);
    put(
        "execute_10/cql4",
        alloc::count(|| cql4::encode(&t, &id, &markers)).0,
    );
    put(
        "execute_10/scylla",
        alloc::count(|| scylla::encode(&t, &id, &specs)).0,
    );
    put(
        "execute_10/cdrs-tokio",
        alloc::count(|| cdrs::encode(&t, &cid)).0,
    );
    put(
        "wide_5000_typed/cql4",
        alloc::count(|| cql4::wide_typed(&wide, &limits)).0,
    );
    put(
        "wide_5000_typed/scylla",
        alloc::count(|| scylla::wide_typed(&wide)).0,
    );
    put(
        "execute_10_typed/cql4",
        alloc::count(|| cql4::encode_typed(&row, &id, &markers)).0,
    );
    put(
        "execute_10_typed/scylla",
        alloc::count(|| scylla::encode_typed(&row, &id, &typed_specs)).0,
    );
    let dir = std::env::var("CQL4_BENCH_OUT").unwrap_or_else(|_| "../target/bench".into());
    std::fs::create_dir_all(&dir).expect("create output dir");
    let path = format!("{dir}/codec_allocs.json");
    std::fs::write(&path, serde_json::to_string_pretty(&out).expect("json"))
        .expect("write codec_allocs.json");
    eprintln!("allocations per operation written to {path}");
}

fn benches(c: &mut Criterion) {
    count_allocations();
    let limits = cql4_frame::DecodeLimits::default();

    let ks = pages::keyspaces_page(130);
    let mut g = c.benchmark_group("keyspaces_130");
    g.throughput(Throughput::Elements(130));
    g.bench_function("cql4", |b| {
        b.iter(|| cql4::keyspaces(black_box(&ks), &limits))
    });
    g.bench_function("scylla", |b| b.iter(|| scylla::keyspaces(black_box(&ks))));
    g.bench_function("cdrs-tokio", |b| b.iter(|| cdrs::keyspaces(black_box(&ks))));
    g.finish();

    let wide = pages::wide_page(5000);
    let mut g = c.benchmark_group("wide_5000");
    g.throughput(Throughput::Elements(5000));
    g.bench_function("cql4", |b| b.iter(|| cql4::wide(black_box(&wide), &limits)));
    g.bench_function("scylla", |b| b.iter(|| scylla::wide(black_box(&wide))));
    g.bench_function("cdrs-tokio", |b| b.iter(|| cdrs::wide(black_box(&wide))));
    g.finish();

    let t = ten();
    let markers = cql4::markers();
    let id = Bytes::copy_from_slice(&PREPARED_ID);
    let cid = cassandra_protocol::types::CBytesShort::new(PREPARED_ID.to_vec());
    let specs = scylla::specs();
    let mut g = c.benchmark_group("execute_10");
    g.bench_function("cql4", |b| {
        b.iter(|| cql4::encode(black_box(&t), &id, &markers))
    });
    g.bench_function("scylla", |b| {
        b.iter(|| scylla::encode(black_box(&t), &id, &specs))
    });
    g.bench_function("cdrs-tokio", |b| {
        b.iter(|| cdrs::encode(black_box(&t), &cid))
    });
    g.finish();

    let mut g = c.benchmark_group("wide_5000_typed");
    g.throughput(Throughput::Elements(5000));
    g.bench_function("cql4", |b| {
        b.iter(|| cql4::wide_typed(black_box(&wide), &limits))
    });
    g.bench_function("scylla", |b| {
        b.iter(|| scylla::wide_typed(black_box(&wide)))
    });
    g.finish();

    let row = t.row();
    let typed_specs = scylla::typed_specs();
    let mut g = c.benchmark_group("execute_10_typed");
    g.bench_function("cql4", |b| {
        b.iter(|| cql4::encode_typed(black_box(&row), &id, &markers))
    });
    g.bench_function("scylla", |b| {
        b.iter(|| scylla::encode_typed(black_box(&row), &id, &typed_specs))
    });
    g.finish();
}

criterion_group!(codec, benches);
criterion_main!(codec);
