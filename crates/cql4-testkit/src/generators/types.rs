//! Column types (§4.2.5.2 `[option]`s), nested up to [`MAX_NESTING`] collections deep.

use arbitrary::{Result, Unstructured};
use cql4_frame::types::{ColumnType, UdtType};

/// How many collections, tuples or UDTs a generated type nests at most; the innermost level is
/// always a simple type, so [`ColumnType::depth`] stays within the default decode limit.
pub const MAX_NESTING: usize = 4;

/// The simple types. `Blob` is listed twice: the committed `roundtrip_value` and
/// `roundtrip_message` corpora were recorded with these 21 choices, so the list keeps them.
const SIMPLE: [ColumnType; 21] = [
    ColumnType::Ascii,
    ColumnType::BigInt,
    ColumnType::Blob,
    ColumnType::Boolean,
    ColumnType::Counter,
    ColumnType::Decimal,
    ColumnType::Double,
    ColumnType::Float,
    ColumnType::Int,
    ColumnType::Timestamp,
    ColumnType::Uuid,
    ColumnType::Text,
    ColumnType::Varint,
    ColumnType::Timeuuid,
    ColumnType::Inet,
    ColumnType::Date,
    ColumnType::Time,
    ColumnType::SmallInt,
    ColumnType::TinyInt,
    ColumnType::Duration,
    ColumnType::Blob,
];

/// Any column type: a simple one, a custom class, or a list, set, map, tuple (0 to 4
/// elements) or UDT (0 to 4 fields, named `f0`, `f1`, … so never ambiguous) of such types.
///
/// The `roundtrip_value` fuzz target reads its input through this function: the order and
/// range of every choice is what the committed corpus means, so new kinds of type need a new
/// function (or a new target), not a new choice here.
pub fn column_type(u: &mut Unstructured<'_>) -> Result<ColumnType> {
    nested(u, 0)
}

fn nested(u: &mut Unstructured<'_>, depth: usize) -> Result<ColumnType> {
    let pick = u.int_in_range(0..=(if depth >= MAX_NESTING { 0 } else { 6 }))?;
    Ok(match pick {
        0 => u.choose(&SIMPLE)?.clone(),
        1 => ColumnType::List(Box::new(nested(u, depth + 1)?)),
        2 => ColumnType::Set(Box::new(nested(u, depth + 1)?)),
        3 => ColumnType::Map(
            Box::new(nested(u, depth + 1)?),
            Box::new(nested(u, depth + 1)?),
        ),
        4 => {
            let n = u.int_in_range(0..=4)?;
            let mut v = Vec::new();
            for _ in 0..n {
                v.push(nested(u, depth + 1)?);
            }
            ColumnType::Tuple(v)
        }
        5 => {
            let n = u.int_in_range(0..=4)?;
            let mut fields = Vec::new();
            for i in 0..n {
                fields.push((format!("f{i}"), nested(u, depth + 1)?));
            }
            ColumnType::Udt(Box::new(UdtType {
                keyspace: "ks".to_owned(),
                name: "t".to_owned(),
                fields,
            }))
        }
        _ => ColumnType::Custom(format!("org.example.{}", u.int_in_range(0..=3u8)?)),
    })
}
