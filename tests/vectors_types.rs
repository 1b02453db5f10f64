//! Cross-checks of CQL value serialization with the DataStax Python driver
//! (cassandra-driver 3.30.x).
//!
//! `tests/vectors/python/gen_types.py` writes `types/values.json`: for each case a CQL type,
//! a value and the bytes `cassandra.cqltypes` serialized it to (protocol v4). Here the type
//! and value are rebuilt from their descriptions; cql4 must serialize the value to the same
//! bytes and deserialize the bytes back to the same value (and, where the script recorded
//! Python's `str()`, display it the same way).

use std::net::IpAddr;

use cql4::frame::types::{ColumnType, UdtType};
use cql4::frame::value::{CqlDate, CqlDuration, CqlTime, CqlTimestamp, CqlValue, Decimal, Varint};
use cql4::frame::DecodeLimits;
use serde_json::Value;

const VALUES: &str = include_str!("vectors/python/types/values.json");

#[path = "common/hex.rs"]
mod hex_util;
use hex_util::{hex, unhex};

fn column_type(spec: &Value) -> ColumnType {
    if let Some(name) = spec.as_str() {
        return match name {
            "ascii" => ColumnType::Ascii,
            "bigint" => ColumnType::BigInt,
            "blob" => ColumnType::Blob,
            "boolean" => ColumnType::Boolean,
            "counter" => ColumnType::Counter,
            "decimal" => ColumnType::Decimal,
            "double" => ColumnType::Double,
            "float" => ColumnType::Float,
            "int" => ColumnType::Int,
            "timestamp" => ColumnType::Timestamp,
            "uuid" => ColumnType::Uuid,
            "text" => ColumnType::Text,
            "varint" => ColumnType::Varint,
            "timeuuid" => ColumnType::Timeuuid,
            "inet" => ColumnType::Inet,
            "date" => ColumnType::Date,
            "time" => ColumnType::Time,
            "smallint" => ColumnType::SmallInt,
            "tinyint" => ColumnType::TinyInt,
            "duration" => ColumnType::Duration,
            other => panic!("unknown simple type {other}"),
        };
    }
    let (kind, arg) = spec
        .as_object()
        .expect("type object")
        .iter()
        .next()
        .expect("kind");
    match kind.as_str() {
        "list" => ColumnType::List(Box::new(column_type(arg))),
        "set" => ColumnType::Set(Box::new(column_type(arg))),
        "map" => ColumnType::Map(
            Box::new(column_type(&arg[0])),
            Box::new(column_type(&arg[1])),
        ),
        "tuple" => ColumnType::Tuple(
            arg.as_array()
                .expect("tuple")
                .iter()
                .map(column_type)
                .collect(),
        ),
        "udt" => ColumnType::Udt(Box::new(UdtType {
            keyspace: arg["keyspace"].as_str().expect("ks").into(),
            name: arg["name"].as_str().expect("name").into(),
            fields: arg["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .map(|f| (f[0].as_str().expect("field").into(), column_type(&f[1])))
                .collect(),
        })),
        other => panic!("unknown type kind {other}"),
    }
}

fn int<T: TryFrom<i64>>(v: &Value) -> T {
    T::try_from(v.as_i64().expect("integer")).unwrap_or_else(|_| panic!("range {v}"))
}

fn uuid(v: &Value) -> [u8; 16] {
    unhex(v.as_str().expect("uuid"))
        .try_into()
        .expect("16 bytes")
}

/// The value a description stands for; `None` for JSON null.
fn value(ty: &ColumnType, v: &Value) -> Option<CqlValue> {
    if v.is_null() {
        return None;
    }
    let s = || v.as_str().expect("string");
    Some(match ty {
        ColumnType::Ascii => CqlValue::Ascii(s().into()),
        ColumnType::Text => CqlValue::Text(s().into()),
        ColumnType::Boolean => CqlValue::Boolean(v.as_bool().expect("bool")),
        ColumnType::TinyInt => CqlValue::TinyInt(int(v)),
        ColumnType::SmallInt => CqlValue::SmallInt(int(v)),
        ColumnType::Int => CqlValue::Int(int(v)),
        ColumnType::BigInt => CqlValue::BigInt(int(v)),
        ColumnType::Counter => CqlValue::Counter(int(v)),
        ColumnType::Float => CqlValue::Float(s().parse().expect("f32")),
        ColumnType::Double => CqlValue::Double(s().parse().expect("f64")),
        ColumnType::Varint => CqlValue::Varint(s().parse::<Varint>().expect("varint")),
        ColumnType::Decimal => CqlValue::Decimal(Decimal {
            scale: int(&v["scale"]),
            unscaled: v["unscaled"]
                .as_str()
                .expect("unscaled")
                .parse()
                .expect("varint"),
        }),
        ColumnType::Blob => CqlValue::Blob(unhex(s())),
        ColumnType::Uuid => CqlValue::Uuid(uuid(v)),
        ColumnType::Timeuuid => CqlValue::Timeuuid(uuid(v)),
        ColumnType::Inet => CqlValue::Inet(s().parse::<IpAddr>().expect("inet")),
        ColumnType::Date => CqlValue::Date(CqlDate(int(v))),
        ColumnType::Time => CqlValue::Time(CqlTime::from_nanos(int(v)).expect("time")),
        ColumnType::Timestamp => CqlValue::Timestamp(CqlTimestamp(int(v))),
        ColumnType::Duration => CqlValue::Duration(CqlDuration {
            months: int(&v[0]),
            days: int(&v[1]),
            nanos: int(&v[2]),
        }),
        ColumnType::List(e) => CqlValue::List(items(e, v)),
        ColumnType::Set(e) => CqlValue::Set(items(e, v)),
        ColumnType::Map(k, val) => CqlValue::Map(
            v.as_array()
                .expect("map")
                .iter()
                .map(|p| {
                    (
                        value(k, &p[0]).expect("key"),
                        value(val, &p[1]).expect("value"),
                    )
                })
                .collect(),
        ),
        ColumnType::Tuple(types) => CqlValue::Tuple(
            types
                .iter()
                .zip(v.as_array().expect("tuple"))
                .map(|(t, x)| value(t, x))
                .collect(),
        ),
        ColumnType::Udt(udt) => CqlValue::Udt(
            udt.fields
                .iter()
                .zip(v.as_array().expect("udt"))
                .map(|((name, t), f)| {
                    assert_eq!(f[0].as_str(), Some(name.as_str()));
                    (name.clone(), value(t, &f[1]))
                })
                .collect(),
        ),
        other => panic!("no value description for {other}"),
    })
}

fn items(elem: &ColumnType, v: &Value) -> Vec<CqlValue> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| value(elem, x).expect("collection elements are not null"))
        .collect()
}

/// Equality that treats NaN as equal to itself and tells -0.0 from 0.0 (bit equality of
/// floats), by comparing the re-serialized bytes of the two values.
fn same(ty: &ColumnType, a: &CqlValue, b: &CqlValue) -> bool {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    a.serialize(ty, &mut x).expect("serialize a");
    b.serialize(ty, &mut y).expect("serialize b");
    x == y && (a == b || matches!(ty, ColumnType::Float | ColumnType::Double))
}

#[test]
fn python_driver_values_match_byte_for_byte() {
    let doc: Value = serde_json::from_str(VALUES).expect("values.json");
    assert_eq!(doc["protocol_version"], 4);
    let cases = doc["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let ty = column_type(&case["type"]);
        let expected = unhex(case["hex"].as_str().expect("hex"));
        let v = value(&ty, &case["value"]).expect("top-level values are not null");

        let mut out = Vec::new();
        if let Err(e) = v.serialize(&ty, &mut out) {
            failures.push(format!("{name}: serialize failed: {e}"));
            continue;
        }
        if out != expected {
            failures.push(format!(
                "{name}: serialized {} but the driver wrote {}",
                hex(&out),
                hex(&expected)
            ));
        }
        match CqlValue::deserialize(&expected, &ty, &DecodeLimits::default()) {
            Ok(back) if same(&ty, &back, &v) => {
                if let Some(shown) = case.get("display").and_then(Value::as_str) {
                    let ours = match &back {
                        CqlValue::Varint(x) => x.to_string(),
                        CqlValue::Decimal(x) => x.to_string(),
                        CqlValue::Date(x) => x.to_string(),
                        CqlValue::Time(x) => x.to_string(),
                        other => other.to_string(),
                    };
                    if ours != shown {
                        failures.push(format!("{name}: displays {ours}, Python shows {shown}"));
                    }
                }
            }
            Ok(back) => failures.push(format!("{name}: deserialized {back:?}, expected {v:?}")),
            Err(e) => failures.push(format!("{name}: deserialize failed: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every simple type name and every parameterized kind in a type description.
fn collect_kinds(spec: &Value, out: &mut std::collections::BTreeSet<String>) {
    match spec {
        Value::String(name) => {
            out.insert(name.clone());
        }
        Value::Object(map) => {
            for (kind, arg) in map {
                out.insert(kind.clone());
                match kind.as_str() {
                    "udt" => arg["fields"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .for_each(|f| collect_kinds(&f[1], out)),
                    "map" | "tuple" => arg
                        .as_array()
                        .into_iter()
                        .flatten()
                        .for_each(|t| collect_kinds(t, out)),
                    _ => collect_kinds(arg, out),
                }
            }
        }
        _ => {}
    }
}

#[test]
fn python_vectors_cover_every_type() {
    let doc: Value = serde_json::from_str(VALUES).expect("values.json");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let mut kinds = std::collections::BTreeSet::new();
    for case in cases {
        collect_kinds(&case["type"], &mut kinds);
    }
    for ty in [
        "ascii",
        "bigint",
        "blob",
        "boolean",
        "counter",
        "decimal",
        "double",
        "float",
        "int",
        "timestamp",
        "uuid",
        "text",
        "varint",
        "timeuuid",
        "inet",
        "date",
        "time",
        "smallint",
        "tinyint",
        "duration",
        "list",
        "set",
        "map",
        "tuple",
        "udt",
    ] {
        assert!(kinds.contains(ty), "no case for {ty}");
    }
}
