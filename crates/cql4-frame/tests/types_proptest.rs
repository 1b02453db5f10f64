//! proptest round-trips: every CQL value type (nested collections, UDTs and tuples of bounded
//! depth), column types, result and prepared metadata, and whole Rows pages.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use cql4_frame::rows::{
    ColumnSpec, MetadataFlags, PreparedMetadata, ResultMetadata, Rows, TableSpec,
};
use cql4_frame::types::{ColumnType, UdtType};
use cql4_frame::value::{
    write_value, CqlDate, CqlDuration, CqlTime, CqlTimestamp, CqlValue, Decimal, Varint,
};
use cql4_frame::{DecodeLimits, Reader};
use proptest::prelude::*;

fn simple_type() -> impl Strategy<Value = ColumnType> {
    prop_oneof![
        Just(ColumnType::Ascii),
        Just(ColumnType::BigInt),
        Just(ColumnType::Blob),
        Just(ColumnType::Boolean),
        Just(ColumnType::Counter),
        Just(ColumnType::Decimal),
        Just(ColumnType::Double),
        Just(ColumnType::Float),
        Just(ColumnType::Int),
        Just(ColumnType::Timestamp),
        Just(ColumnType::Uuid),
        Just(ColumnType::Text),
        Just(ColumnType::Varint),
        Just(ColumnType::Timeuuid),
        Just(ColumnType::Inet),
        Just(ColumnType::Date),
        Just(ColumnType::Time),
        Just(ColumnType::SmallInt),
        Just(ColumnType::TinyInt),
        Just(ColumnType::Duration),
        "com\\.example\\.[A-Za-z]{1,8}".prop_map(ColumnType::Custom),
    ]
}

fn name() -> impl Strategy<Value = String> {
    "[a-z_]{1,8}"
}

/// Types nested at most 4 levels.
fn column_type() -> impl Strategy<Value = ColumnType> {
    simple_type().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| ColumnType::List(Box::new(t))),
            inner.clone().prop_map(|t| ColumnType::Set(Box::new(t))),
            (inner.clone(), inner.clone())
                .prop_map(|(k, v)| ColumnType::Map(Box::new(k), Box::new(v))),
            prop::collection::vec(inner.clone(), 1..4).prop_map(ColumnType::Tuple),
            (name(), name(), prop::collection::vec((name(), inner), 1..4)).prop_map(
                |(keyspace, name, fields)| ColumnType::Udt(Box::new(UdtType {
                    keyspace,
                    name,
                    fields
                }))
            ),
        ]
    })
}

fn varint() -> impl Strategy<Value = Varint> {
    prop_oneof![
        any::<i128>().prop_map(Varint::from_i128),
        // Any bytes, including non-minimal encodings and numbers past i128.
        prop::collection::vec(any::<u8>(), 1..24).prop_map(Varint::from_be_bytes),
    ]
}

fn float64() -> impl Strategy<Value = f64> {
    use prop::num::f64::*;
    POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO | INFINITE
}

fn float32() -> impl Strategy<Value = f32> {
    use prop::num::f32::*;
    POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO | INFINITE
}

/// A non-null value of type `ty`.
fn value(ty: &ColumnType) -> BoxedStrategy<CqlValue> {
    let v: BoxedStrategy<CqlValue> = match ty {
        ColumnType::Custom(_) => prop::collection::vec(any::<u8>(), 0..8)
            .prop_map(CqlValue::Custom)
            .boxed(),
        ColumnType::Ascii => "[ -~]{0,12}".prop_map(CqlValue::Ascii).boxed(),
        ColumnType::Text => any::<String>().prop_map(CqlValue::Text).boxed(),
        ColumnType::Blob => prop::collection::vec(any::<u8>(), 0..16)
            .prop_map(CqlValue::Blob)
            .boxed(),
        ColumnType::BigInt => any::<i64>().prop_map(CqlValue::BigInt).boxed(),
        ColumnType::Counter => any::<i64>().prop_map(CqlValue::Counter).boxed(),
        ColumnType::Boolean => any::<bool>().prop_map(CqlValue::Boolean).boxed(),
        ColumnType::Decimal => (any::<i32>(), varint())
            .prop_map(|(scale, unscaled)| CqlValue::Decimal(Decimal { scale, unscaled }))
            .boxed(),
        ColumnType::Double => float64().prop_map(CqlValue::Double).boxed(),
        ColumnType::Float => float32().prop_map(CqlValue::Float).boxed(),
        ColumnType::Int => any::<i32>().prop_map(CqlValue::Int).boxed(),
        ColumnType::Timestamp => any::<i64>()
            .prop_map(|n| CqlValue::Timestamp(CqlTimestamp(n)))
            .boxed(),
        ColumnType::Uuid => any::<[u8; 16]>().prop_map(CqlValue::Uuid).boxed(),
        ColumnType::Timeuuid => any::<[u8; 16]>().prop_map(CqlValue::Timeuuid).boxed(),
        ColumnType::Varint => varint().prop_map(CqlValue::Varint).boxed(),
        ColumnType::Inet => any::<IpAddr>().prop_map(CqlValue::Inet).boxed(),
        ColumnType::Date => any::<u32>()
            .prop_map(|d| CqlValue::Date(CqlDate(d)))
            .boxed(),
        ColumnType::Time => (0..=CqlTime::MAX_NANOS)
            .prop_map(|n| CqlValue::Time(CqlTime::from_nanos(n).unwrap()))
            .boxed(),
        ColumnType::SmallInt => any::<i16>().prop_map(CqlValue::SmallInt).boxed(),
        ColumnType::TinyInt => any::<i8>().prop_map(CqlValue::TinyInt).boxed(),
        ColumnType::Duration => (any::<i32>(), any::<i32>(), any::<i64>())
            .prop_map(|(months, days, nanos)| {
                CqlValue::Duration(CqlDuration {
                    months,
                    days,
                    nanos,
                })
            })
            .boxed(),
        ColumnType::List(e) => prop::collection::vec(value(e), 0..4)
            .prop_map(CqlValue::List)
            .boxed(),
        ColumnType::Set(e) => prop::collection::vec(value(e), 0..4)
            .prop_map(CqlValue::Set)
            .boxed(),
        ColumnType::Map(k, v) => prop::collection::vec((value(k), value(v)), 0..4)
            .prop_map(CqlValue::Map)
            .boxed(),
        ColumnType::Tuple(types) => {
            let elems: Vec<_> = types.iter().map(|t| prop::option::of(value(t))).collect();
            (elems, 0..=types.len())
                .prop_map(|(mut items, keep)| {
                    // A tuple may be cut short: missing trailing elements are null.
                    items.truncate(keep);
                    CqlValue::Tuple(items)
                })
                .boxed()
        }
        ColumnType::Udt(udt) => {
            let fields: Vec<_> = udt
                .fields
                .iter()
                .map(|(n, t)| (Just(n.clone()), prop::option::of(value(t))))
                .collect();
            (fields, 0..=udt.fields.len())
                .prop_map(|(mut fields, keep)| {
                    // §7: a UDT value may have fewer values than the type has fields.
                    fields.truncate(keep);
                    // Duplicate generated names would make the type ambiguous; keep the first.
                    let mut seen = std::collections::HashSet::new();
                    fields.retain(|(n, _)| seen.insert(n.clone()));
                    CqlValue::Udt(fields)
                })
                .boxed()
        }
        _ => unreachable!("all types covered"),
    };
    if ty.empty_is_natural() {
        v
    } else {
        // The legacy empty value is valid for every other type.
        prop_oneof![9 => v, 1 => Just(CqlValue::Empty)].boxed()
    }
}

fn has_udt(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::List(t) | ColumnType::Set(t) => has_udt(t),
        ColumnType::Map(k, v) => has_udt(k) || has_udt(v),
        ColumnType::Tuple(ts) => ts.iter().any(has_udt),
        ColumnType::Udt(_) => true,
        _ => false,
    }
}

/// UDT field names must be unique for by-name serialization to be unambiguous.
fn unique_fields(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::List(t) | ColumnType::Set(t) => unique_fields(t),
        ColumnType::Map(k, v) => unique_fields(k) && unique_fields(v),
        ColumnType::Tuple(ts) => ts.iter().all(unique_fields),
        ColumnType::Udt(u) => {
            let mut names: Vec<_> = u.fields.iter().map(|(n, _)| n).collect();
            names.sort();
            names.dedup();
            names.len() == u.fields.len() && u.fields.iter().all(|(_, t)| unique_fields(t))
        }
        _ => true,
    }
}

fn typed_value() -> impl Strategy<Value = (ColumnType, CqlValue)> {
    column_type()
        .prop_filter("unique UDT field names", unique_fields)
        .prop_flat_map(|ty| value(&ty).prop_map(move |v| (ty.clone(), v)))
}

fn table_spec() -> impl Strategy<Value = TableSpec> {
    (name(), name()).prop_map(|(keyspace, table)| TableSpec { keyspace, table })
}

/// Column specs with a global table spec or one per column.
fn specs() -> impl Strategy<Value = (Option<TableSpec>, Vec<ColumnSpec>)> {
    let column = (prop::option::of(table_spec()), name(), column_type());
    (
        prop::option::of(table_spec()),
        prop::collection::vec(column, 0..5),
    )
        .prop_map(|(global, columns)| {
            let columns = columns
                .into_iter()
                .map(|(own, name, ty)| ColumnSpec {
                    table_spec: if global.is_some() {
                        None
                    } else {
                        Some(own.unwrap_or_default())
                    },
                    name,
                    ty,
                })
                .collect();
            (global, columns)
        })
}

fn result_metadata() -> impl Strategy<Value = ResultMetadata> {
    (
        specs(),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..16)),
        any::<bool>(),
        0usize..1000,
        // Unknown flag bits are kept.
        prop_oneof![Just(0), Just(0x0100), Just(0x4000_0000)],
    )
        .prop_map(|((global, columns), paging, no_metadata, count, extra)| {
            let mut md = ResultMetadata::new(global, columns);
            md.paging_state = paging.map(Bytes::from);
            md.flags = MetadataFlags(md.flags.0 | extra)
                .with(MetadataFlags::HAS_MORE_PAGES, md.paging_state.is_some());
            if no_metadata {
                md.flags = md
                    .flags
                    .with(MetadataFlags::NO_METADATA, true)
                    .with(MetadataFlags::GLOBAL_TABLES_SPEC, false);
                md.global_table_spec = None;
                md.columns.clear();
                md.columns_count = count;
            }
            md
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn value_round_trip((ty, v) in typed_value()) {
        let mut bytes = Vec::new();
        v.serialize(&ty, &mut bytes).unwrap();
        let back = CqlValue::deserialize(&bytes, &ty, &DecodeLimits::default()).unwrap();
        prop_assert_eq!(&back, &v);
        let mut again = Vec::new();
        back.serialize(&ty, &mut again).unwrap();
        prop_assert_eq!(again, bytes);
        // Display never panics on any value.
        let _ = v.to_string();
    }

    #[test]
    fn value_truncation_never_panics((ty, v) in typed_value()) {
        let mut bytes = Vec::new();
        v.serialize(&ty, &mut bytes).unwrap();
        for len in 0..bytes.len() {
            let _ = CqlValue::deserialize(&bytes[..len], &ty, &DecodeLimits::default());
        }
    }

    #[test]
    fn column_type_round_trip(ty in column_type()) {
        let mut bytes = Vec::new();
        ty.encode(&mut bytes);
        let mut r = Reader::new(&bytes);
        let back = ColumnType::decode(&mut r, &DecodeLimits::default()).unwrap();
        prop_assert!(r.is_empty());
        prop_assert_eq!(&back, &ty);
        // CQL syntax round-trips too (UDTs display as their name, which needs the schema).
        if !has_udt(&ty) {
            prop_assert_eq!(ty.to_string().parse::<ColumnType>().unwrap(), ty.clone());
        }
        // Every strict prefix is an error.
        for len in 0..bytes.len() {
            prop_assert!(ColumnType::decode(&mut Reader::new(&bytes[..len]), &DecodeLimits::default()).is_err());
        }
    }

    #[test]
    fn result_metadata_round_trip(md in result_metadata()) {
        let mut bytes = Vec::new();
        md.encode(&mut bytes);
        let mut r = Reader::new(&bytes);
        let back = ResultMetadata::decode(&mut r, &DecodeLimits::default()).unwrap();
        prop_assert!(r.is_empty());
        prop_assert_eq!(&back, &md);
    }

    #[test]
    fn prepared_metadata_round_trip(
        (global, columns) in specs(),
        pk_indexes in prop::collection::vec(any::<u16>(), 0..4),
    ) {
        let md = PreparedMetadata {
            flags: MetadataFlags::default()
                .with(MetadataFlags::GLOBAL_TABLES_SPEC, global.is_some()),
            pk_indexes,
            global_table_spec: global,
            columns,
        };
        let mut bytes = Vec::new();
        md.encode(&mut bytes);
        let mut r = Reader::new(&bytes);
        let back = PreparedMetadata::decode(&mut r, &DecodeLimits::default()).unwrap();
        prop_assert!(r.is_empty());
        prop_assert_eq!(back, md);
    }

    #[test]
    fn rows_round_trip(
        page in specs()
            .prop_filter("unique UDT field names", |(_, c)| c.iter().all(|c| unique_fields(&c.ty)))
            .prop_flat_map(|(global, columns)| {
                let row: Vec<_> = columns
                    .iter()
                    .map(|c| prop::option::of(value(&c.ty)))
                    .collect();
                // A page without columns has no rows (the decoder rejects rows_count > 0
                // there: nothing would bound it by the body).
                let max_rows = if columns.is_empty() { 1 } else { 4 };
                (Just((global, columns)), prop::collection::vec(row, 0..max_rows))
            }),
        paging in prop::option::of(prop::collection::vec(any::<u8>(), 0..8)),
    ) {
        let ((global, columns), rows) = page;
        let mut md = ResultMetadata::new(global, columns.clone());
        md.paging_state = paging.map(Bytes::from);
        let mut body = Vec::new();
        md.encode(&mut body);
        body.extend_from_slice(&(rows.len() as i32).to_be_bytes());
        for row in &rows {
            for (cell, spec) in row.iter().zip(&columns) {
                write_value(cell, &spec.ty, &mut body).unwrap();
            }
        }
        let body = Bytes::from(body);
        let mut r = Reader::new(&body);
        let decoded = Rows::decode(&body, &mut r, &DecodeLimits::default()).unwrap();
        prop_assert!(r.is_empty());
        prop_assert_eq!(decoded.len(), rows.len());
        prop_assert_eq!(decoded.paging_state(), md.paging_state.as_ref());
        prop_assert_eq!(decoded.to_owned_rows().unwrap(), rows.clone());
        let mut again = Vec::new();
        decoded.encode(&mut again);
        prop_assert_eq!(&again[..], &body[..]);

        // The same rows as a No_metadata page, decoded with the metadata cached.
        let cached = Arc::new(md.clone());
        let mut skip = ResultMetadata {
            columns_count: columns.len(),
            ..ResultMetadata::default()
        };
        skip.flags = MetadataFlags::NO_METADATA;
        skip.paging_state = md.paging_state.clone();
        let mut page = Vec::new();
        skip.encode(&mut page);
        let mut rest = Vec::new();
        md.encode(&mut rest);
        page.extend_from_slice(&body[rest.len()..]);
        let page = Bytes::from(page);
        let mut r = Reader::new(&page);
        let decoded =
            Rows::decode_with_metadata(&page, &mut r, &DecodeLimits::default(), &cached).unwrap();
        prop_assert_eq!(decoded.to_owned_rows().unwrap(), rows);
        let mut again = Vec::new();
        decoded.encode(&mut again);
        prop_assert_eq!(&again[..], &page[..]);
    }
}
