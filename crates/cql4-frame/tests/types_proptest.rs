//! proptest round-trips: every CQL value type (nested collections, UDTs and tuples of bounded
//! depth), column types, result and prepared metadata, and whole Rows pages. The generators
//! are the fuzz targets' (`cql4_testkit::generators`), driven by proptest's bytes.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::sync::Arc;

use bytes::Bytes;
use cql4_frame::rows::{MetadataFlags, PreparedMetadata, ResultMetadata, Rows};
use cql4_frame::types::ColumnType;
use cql4_frame::value::{write_value, CqlValue};
use cql4_frame::{DecodeLimits, Reader};
use cql4_testkit::generators::{self, strategy};
use proptest::prelude::*;

/// Whether `ty` has no CQL syntax of its own: a UDT displays as its name (which needs the
/// schema), and an empty tuple exists on the wire only (CQL has no `tuple<>`).
fn lacks_cql_syntax(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::List(t) | ColumnType::Set(t) => lacks_cql_syntax(t),
        ColumnType::Map(k, v) => lacks_cql_syntax(k) || lacks_cql_syntax(v),
        ColumnType::Tuple(ts) => ts.is_empty() || ts.iter().any(lacks_cql_syntax),
        ColumnType::Udt(_) => true,
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn value_round_trip((ty, v) in strategy(generators::values::typed_value)) {
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
    fn value_truncation_never_panics((ty, v) in strategy(generators::values::typed_value)) {
        let mut bytes = Vec::new();
        v.serialize(&ty, &mut bytes).unwrap();
        for len in 0..bytes.len() {
            let _ = CqlValue::deserialize(&bytes[..len], &ty, &DecodeLimits::default());
        }
    }

    #[test]
    fn column_type_round_trip(ty in strategy(generators::types::column_type)) {
        let mut bytes = Vec::new();
        ty.encode(&mut cql4_frame::Writer::new(&mut bytes)).expect("encodes");
        let mut r = Reader::new(&bytes);
        let back = ColumnType::decode(&mut r, &DecodeLimits::default()).unwrap();
        prop_assert!(r.is_empty());
        prop_assert_eq!(&back, &ty);
        // CQL syntax round-trips too, where there is one.
        if !lacks_cql_syntax(&ty) {
            prop_assert_eq!(ty.to_string().parse::<ColumnType>().unwrap(), ty.clone());
        }
        // Every strict prefix is an error.
        for len in 0..bytes.len() {
            prop_assert!(ColumnType::decode(&mut Reader::new(&bytes[..len]), &DecodeLimits::default()).is_err());
        }
    }

    #[test]
    fn result_metadata_round_trip(md in strategy(generators::rows::result_metadata)) {
        let mut bytes = Vec::new();
        md.encode(&mut cql4_frame::Writer::new(&mut bytes)).expect("encodes");
        let mut r = Reader::new(&bytes);
        let back = ResultMetadata::decode(&mut r, &DecodeLimits::default()).unwrap();
        prop_assert!(r.is_empty());
        prop_assert_eq!(&back, &md);
    }

    #[test]
    fn prepared_metadata_round_trip(md in strategy(generators::rows::prepared_metadata)) {
        let mut bytes = Vec::new();
        md.encode(&mut cql4_frame::Writer::new(&mut bytes)).expect("encodes");
        let mut r = Reader::new(&bytes);
        let back = PreparedMetadata::decode(&mut r, &DecodeLimits::default()).unwrap();
        prop_assert!(r.is_empty());
        prop_assert_eq!(back, md);
    }

    #[test]
    fn rows_round_trip(page in strategy(generators::rows::page)) {
        let generators::rows::Page { metadata: md, rows } = page;
        let columns = md.columns.clone();
        let mut body = Vec::new();
        md.encode(&mut cql4_frame::Writer::new(&mut body)).expect("encodes");
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
        decoded.encode(&mut cql4_frame::Writer::new(&mut again)).expect("encodes");
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
        skip.encode(&mut cql4_frame::Writer::new(&mut page)).expect("encodes");
        let mut rest = Vec::new();
        md.encode(&mut cql4_frame::Writer::new(&mut rest)).expect("encodes");
        page.extend_from_slice(&body[rest.len()..]);
        let page = Bytes::from(page);
        let mut r = Reader::new(&page);
        let decoded =
            Rows::decode_with_metadata(&page, &mut r, &DecodeLimits::default(), &cached).unwrap();
        prop_assert_eq!(decoded.to_owned_rows().unwrap(), rows);
        let mut again = Vec::new();
        decoded.encode(&mut cql4_frame::Writer::new(&mut again)).expect("encodes");
        prop_assert_eq!(&again[..], &page[..]);
    }
}
