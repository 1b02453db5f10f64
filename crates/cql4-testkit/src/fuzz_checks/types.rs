//! Types and values: `type_value` (wire types), `type_text` (CQL syntax) and
//! `roundtrip_value` (generated types).

use arbitrary::Unstructured;
use cql4_frame::types::ColumnType;
use cql4_frame::value::CqlValue;
use cql4_frame::{DecodeLimits, Reader};

use super::small_limits;
use crate::generators::types::column_type;

/// An `[option]` type, then a value of that type.
pub fn type_value(data: &[u8]) {
    let limits = small_limits();
    let mut r = Reader::new(data);
    let Ok(ty) = ColumnType::decode(&mut r, &limits) else {
        return;
    };
    check_type(&ty, &limits);
    check_value(r.rest(), &ty, &limits);
}

fn check_type(ty: &ColumnType, limits: &DecodeLimits) {
    assert!(
        ty.depth() <= limits.max_type_depth,
        "type deeper than the limit decoded"
    );
    let _ = ty.to_string();
    let mut encoded = Vec::new();
    ty.encode(&mut cql4_frame::Writer::new(&mut encoded))
        .expect("encodes");
    let mut r = Reader::new(&encoded);
    let again = ColumnType::decode(&mut r, limits).expect("a decoded type re-encodes");
    assert_eq!(&again, ty, "type changed through encode/decode");
    assert!(r.is_empty());
}

fn check_value(bytes: &[u8], ty: &ColumnType, limits: &DecodeLimits) {
    if let Ok(v) = CqlValue::deserialize(bytes, ty, limits) {
        let _ = v.kind_name();
        let _ = v.to_string();
        value_fixpoint(&v, ty);
    }
}

/// CQL type syntax (`map<text, frozen<list<int>>>`): parsing must not panic or recurse past
/// the depth limit, and a parsed type must print to text that parses back to it.
pub fn type_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(ty) = text.parse::<ColumnType>() else {
        return;
    };
    assert!(ty.depth() <= DecodeLimits::DEFAULT_MAX_TYPE_DEPTH);
    let printed = ty.to_string();
    let again: ColumnType = printed
        .parse()
        .unwrap_or_else(|e| panic!("{printed:?} (printed from {text:?}) does not parse: {e}"));
    assert_eq!(again, ty, "{text:?} → {printed:?}");
}

/// A structured type (built from the fuzzer's choices, nested a few levels) and a value.
pub fn roundtrip_value(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(ty) = column_type(&mut u) else {
        return;
    };
    let limits = small_limits();
    check_type(&ty, &limits);
    let rest = u.take_rest();
    check_value(rest, &ty, &limits);
}

/// serialize → deserialize → serialize gives the same bytes (NaN-safe, unlike `==`).
///
/// Types with two UDT fields of one name are skipped: a UDT value names its fields, so such a
/// value cannot say which field it fills (Cassandra never declares one; decoding it works, and
/// serializing fails with a typed error).
pub(super) fn value_fixpoint(v: &CqlValue, ty: &ColumnType) {
    if has_duplicate_udt_fields(ty) {
        let mut out = Vec::new();
        let _ = v.serialize(ty, &mut out);
        return;
    }
    let limits = small_limits();
    let mut first = Vec::new();
    v.serialize(ty, &mut first)
        .expect("a decoded value serializes with its own type");
    let again = CqlValue::deserialize(&first, ty, &limits).expect("a serialized value decodes");
    let mut second = Vec::new();
    again
        .serialize(ty, &mut second)
        .expect("a decoded value serializes with its own type");
    assert_eq!(
        first, second,
        "value serialization is not a fixpoint for {ty}"
    );
}

fn has_duplicate_udt_fields(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::List(t) | ColumnType::Set(t) => has_duplicate_udt_fields(t),
        ColumnType::Map(k, v) => has_duplicate_udt_fields(k) || has_duplicate_udt_fields(v),
        ColumnType::Tuple(ts) => ts.iter().any(has_duplicate_udt_fields),
        ColumnType::Udt(u) => {
            let mut names: Vec<&str> = u.fields.iter().map(|(n, _)| n.as_str()).collect();
            names.sort_unstable();
            names.windows(2).any(|w| w[0] == w[1])
                || u.fields.iter().any(|(_, t)| has_duplicate_udt_fields(t))
        }
        _ => false,
    }
}
