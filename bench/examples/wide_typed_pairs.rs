//! `wide_5000_typed` measured so that the machine's load cannot favour either library: the
//! 5,000-row (int, text, blob(100)) page decoded into the same derived struct by cql4 and by
//! scylla-cql, one page each in turn, 3,000 times; prints the quantiles of both series.
//!
//! `cargo run --release --example wide_typed_pairs` (pin it: `taskset -c 1 …`), or
//! `… -- cql4 N` / `… -- scylla N` to decode N pages with one library (for an instruction count
//! under `valgrind --tool=cachegrind`, deterministic: run N = 10 and 60 and take the difference).
use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use cql4_bench::pages;

mod cql4 {
    use super::*;
    use cql4_frame::{DecodeLimits, Reader, Rows};

    #[derive(cql4_macros::FromRow)]
    struct Wide<'a> {
        id: i32,
        name: &'a str,
        payload: &'a [u8],
    }

    pub(crate) fn page(body: &Bytes, limits: &DecodeLimits) -> usize {
        let mut r = Reader::new(body);
        r.i32("kind").expect("kind");
        let rows = Rows::decode(body, &mut r, limits).expect("page decodes");
        let mut n = 0;
        for row in rows.typed::<Wide>() {
            let row = row.expect("row");
            n += row.id as usize + row.name.len() + row.payload.len();
        }
        n
    }
}

mod scylla {
    use super::*;
    use scylla_cql::frame::protocol_features::ProtocolFeatures;
    use scylla_cql::frame::response::result;

    #[derive(::scylla::DeserializeRow)]
    #[scylla(crate = ::scylla)]
    struct Wide<'a> {
        id: i32,
        name: &'a str,
        payload: &'a [u8],
    }

    pub(crate) fn page(body: &Bytes) -> usize {
        let rows = match result::deserialize_with_features(
            body.clone(),
            None,
            &ProtocolFeatures::default(),
        )
        .expect("result decodes")
        {
            result::Result::Rows((raw, _)) => raw.deserialize_metadata().expect("metadata"),
            _ => panic!("not rows"),
        };
        let mut n = 0;
        for row in rows.rows_iter::<Wide>().expect("types match") {
            let row = row.expect("row");
            n += row.id as usize + row.name.len() + row.payload.len();
        }
        n
    }
}

fn micros(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e6
}

fn main() {
    let body = pages::wide_page(5000);
    let limits = cql4_frame::DecodeLimits::default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [library, pages] = &args[..] {
        let pages: usize = pages.parse().expect("a page count");
        let mut n = 0;
        for _ in 0..pages {
            n += match library.as_str() {
                "cql4" => cql4::page(black_box(&body), &limits),
                "scylla" => scylla::page(black_box(&body)),
                other => panic!("cql4 or scylla, not {other}"),
            };
        }
        println!("{n}");
        return;
    }
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..3000 {
        let t = Instant::now();
        black_box(cql4::page(black_box(&body), &limits));
        ours.push(micros(t));
        let t = Instant::now();
        black_box(scylla::page(black_box(&body)));
        theirs.push(micros(t));
    }
    ours.sort_by(f64::total_cmp);
    theirs.sort_by(f64::total_cmp);
    println!("µs per page, 3,000 pages each, interleaved");
    for (name, q) in [("min", 0.0), ("p10", 0.1), ("p25", 0.25), ("median", 0.5)] {
        let i = (q * (ours.len() - 1) as f64) as usize;
        println!(
            "{name:>6}: cql4 {:7.1}  scylla-cql {:7.1}  ratio {:.3}",
            ours[i],
            theirs[i],
            ours[i] / theirs[i]
        );
    }
}
