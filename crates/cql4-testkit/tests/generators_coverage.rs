//! The generators reach everything they promise, from random bytes the way the proptest
//! adapter feeds them: every message kind, every column type nested to the bound and no
//! deeper, values of every kind, positional-only BATCH values in the encodable mix.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::collections::BTreeSet;

use cql4_frame::request::{QueryValues, Request};
use cql4_frame::response::{Response, ResultResponse};
use cql4_frame::types::ColumnType;
use cql4_frame::value::CqlValue;
use cql4_testkit::generators::arbitrary::{self, Unstructured};
use cql4_testkit::generators::{requests, responses, rows, types, values, Messages};

/// Inputs per property: about what a proptest run sees.
const CASES: usize = 2_000;

/// Random inputs of random length up to 4 KiB, the same on every run (xorshift).
fn inputs() -> impl Iterator<Item = Vec<u8>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..CASES).map(move |_| {
        let len = (next() % 4097) as usize;
        (0..len).map(|_| next() as u8).collect()
    })
}

fn generate<T>(f: impl Fn(&mut Unstructured<'_>) -> arbitrary::Result<T>) -> Vec<T> {
    let all: Vec<T> = inputs()
        .filter_map(|bytes| f(&mut Unstructured::new(&bytes)).ok())
        .collect();
    assert!(
        all.len() * 100 >= CASES * 99,
        "the generator fails too often"
    );
    all
}

fn variant<T: std::fmt::Debug>(v: &T) -> String {
    let debug = format!("{v:?}");
    debug
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn every_request_kind_and_positional_batches() {
    let frames = generate(|u| requests::request_frame(u, Messages::Encodable));
    let kinds: BTreeSet<String> = frames.iter().map(|f| variant(&f.message)).collect();
    let want = [
        "AuthResponse",
        "Batch",
        "Execute",
        "Options",
        "Prepare",
        "Query",
        "Register",
        "Startup",
    ];
    assert_eq!(kinds, want.iter().map(|s| s.to_string()).collect());
    for f in &frames {
        if let Request::Batch(b) = &f.message {
            assert!(b
                .statements
                .iter()
                .all(|s| matches!(s.values, QueryValues::Positional(_))));
        }
    }
    assert!(frames
        .iter()
        .any(|f| { matches!(f.message, Request::Startup(_)) && f.custom_payload.is_some() }));
    assert!(frames.iter().any(|f| matches!(
        &f.message,
        Request::Query(q) if matches!(q.params.values, Some(QueryValues::Named(_)))
    )));
}

#[test]
fn the_fuzz_mix_has_named_batches_and_no_prepared() {
    let requests = generate(|u| requests::request(u, Messages::FuzzCorpus));
    assert!(requests.iter().any(|r| matches!(
        r,
        Request::Batch(b) if b.statements.iter().any(|s| matches!(s.values, QueryValues::Named(_)))
    )));
    let responses = generate(|u| responses::response(u, Messages::FuzzCorpus));
    assert!(!responses
        .iter()
        .any(|r| matches!(r, Response::Result(ResultResponse::Prepared(_)))));
}

#[test]
fn every_response_kind() {
    let all = generate(|u| responses::response_frame(u, Messages::Encodable));
    let kinds: BTreeSet<String> = all
        .iter()
        .map(|f| match &f.message {
            Response::Result(r) => format!("Result::{}", variant(r)),
            Response::Event(e) => format!("Event::{}", variant(e)),
            Response::Error(e) => format!("Error::{}", variant(&e.details)),
            other => variant(other),
        })
        .collect();
    for want in [
        "AuthChallenge",
        "AuthSuccess",
        "Authenticate",
        "Error::AlreadyExists",
        "Error::FunctionFailure",
        "Error::None",
        "Error::ReadFailure",
        "Error::ReadTimeout",
        "Error::Unavailable",
        "Error::Unprepared",
        "Error::WriteFailure",
        "Error::WriteTimeout",
        "Event::SchemaChange",
        "Event::StatusChange",
        "Event::TopologyChange",
        "Ready",
        "Result::Prepared",
        "Result::SchemaChange",
        "Result::SetKeyspace",
        "Result::Void",
        "Supported",
    ] {
        assert!(kinds.contains(want), "no {want} in {kinds:?}");
    }
}

fn type_kinds(ty: &ColumnType, out: &mut BTreeSet<String>) {
    out.insert(variant(ty));
    match ty {
        ColumnType::List(t) | ColumnType::Set(t) => type_kinds(t, out),
        ColumnType::Map(k, v) => {
            type_kinds(k, out);
            type_kinds(v, out);
        }
        ColumnType::Tuple(ts) => ts.iter().for_each(|t| type_kinds(t, out)),
        ColumnType::Udt(u) => u.fields.iter().for_each(|(_, t)| type_kinds(t, out)),
        _ => {}
    }
}

#[test]
fn every_column_type_nested_to_the_bound() {
    let all = generate(types::column_type);
    let mut kinds = BTreeSet::new();
    for ty in &all {
        type_kinds(ty, &mut kinds);
    }
    // Every `ColumnType` variant.
    assert_eq!(kinds.len(), 26, "{kinds:?}");
    let deepest = all.iter().map(ColumnType::depth).max().unwrap();
    // MAX_NESTING collections, tuples or UDTs around a simple type.
    assert_eq!(deepest, types::MAX_NESTING + 1);
}

#[test]
fn values_of_every_kind() {
    let all = generate(values::typed_value);
    let kinds: BTreeSet<String> = all.iter().map(|(_, v)| variant(v)).collect();
    // Every `CqlValue` variant, `Empty` included.
    assert_eq!(kinds.len(), 27, "{kinds:?}");
    assert!(all.iter().any(|(_, v)| matches!(v, CqlValue::Empty)));
    assert!(all
        .iter()
        .any(|(_, v)| matches!(v, CqlValue::Double(d) if d.is_infinite())));
    assert!(all
        .iter()
        .any(|(_, v)| matches!(v, CqlValue::Double(d) if d.is_subnormal())));
    assert!(!all
        .iter()
        .any(|(_, v)| matches!(v, CqlValue::Double(d) if d.is_nan())));
}

#[test]
fn pages_with_rows_and_metadata_with_no_metadata() {
    let pages = generate(rows::page);
    assert!(pages
        .iter()
        .any(|p| p.rows.len() > 1 && p.metadata.columns.len() > 1));
    assert!(pages.iter().any(|p| p.metadata.paging_state.is_some()));
    assert!(pages
        .iter()
        .all(|p| !p.metadata.columns.is_empty() || p.rows.is_empty()));
    let metadata = generate(rows::result_metadata);
    assert!(metadata
        .iter()
        .any(|m| m.columns.is_empty() && m.columns_count > 0));
}
