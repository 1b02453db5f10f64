//! RESULT bodies (native_protocol_v4.spec §4.2.5) built for the benchmarks: the pages the codec
//! workload decodes and the answers of the canned server.
//!
//! Metadata is written by `cql4_frame::ResultMetadata::encode`; cells are written here by hand
//! so the pages do not depend on the codec under test for values.
use bytes::Bytes;
use cql4_frame::rows::TableSpec;
use cql4_frame::{ColumnSpec, ColumnType, ResultMetadata};

/// RESULT kind Rows (§4.2.5.2).
pub const KIND_ROWS: i32 = 0x0002;
/// RESULT kind Void (§4.2.5.1).
pub const KIND_VOID: i32 = 0x0001;

/// One cell: `None` is null.
pub type Cell = Option<Vec<u8>>;

/// A RESULT Rows body, starting with the kind `[int]`.
///
/// `no_metadata` writes the §4.2.5.2 No_metadata form (flags 0x0004, the column count, no
/// specs), as a server does for an EXECUTE that asked to skip metadata.
pub fn rows_body(
    keyspace: &str,
    table: &str,
    columns: &[(String, ColumnType)],
    rows: &[Vec<Cell>],
    no_metadata: bool,
) -> Bytes {
    let mut out = Vec::with_capacity(64 + rows.len() * 32);
    out.extend_from_slice(&KIND_ROWS.to_be_bytes());
    if no_metadata {
        out.extend_from_slice(&0x0004_i32.to_be_bytes());
        out.extend_from_slice(&(columns.len() as i32).to_be_bytes());
    } else {
        let meta = ResultMetadata::new(
            Some(TableSpec {
                keyspace: keyspace.to_owned(),
                table: table.to_owned(),
            }),
            columns
                .iter()
                .map(|(name, ty)| ColumnSpec::new(name.clone(), ty.clone()))
                .collect(),
        );
        meta.encode(&mut cql4_frame::Writer::new(&mut out))
            .expect("encodes");
    }
    out.extend_from_slice(&(rows.len() as i32).to_be_bytes());
    for row in rows {
        for cell in row {
            put_bytes(&mut out, cell.as_deref());
        }
    }
    Bytes::from(out)
}

/// A Void RESULT body.
pub fn void_body() -> Bytes {
    Bytes::copy_from_slice(&KIND_VOID.to_be_bytes())
}

/// Appends a `[bytes]` (§3): length then content, -1 for null.
pub fn put_bytes(out: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        Some(b) => {
            out.extend_from_slice(&(b.len() as i32).to_be_bytes());
            out.extend_from_slice(b);
        }
        None => out.extend_from_slice(&(-1_i32).to_be_bytes()),
    }
}

/// A text cell.
pub fn text(s: &str) -> Cell {
    Some(s.as_bytes().to_vec())
}

/// An int cell.
pub fn int(v: i32) -> Cell {
    Some(v.to_be_bytes().to_vec())
}

/// A boolean cell.
pub fn boolean(v: bool) -> Cell {
    Some(vec![u8::from(v)])
}

/// A `map<text, text>` or `set<text>`/`list<text>` cell (§6.19, §6.20: `[int]` count then
/// `[bytes]` elements).
pub fn text_collection(items: &[&str]) -> Cell {
    let mut out = Vec::new();
    out.extend_from_slice(&(items.len() as i32).to_be_bytes());
    for s in items {
        put_bytes(&mut out, Some(s.as_bytes()));
    }
    Some(out)
}

/// A `map<text, text>` cell from pairs.
pub fn text_map(pairs: &[(&str, &str)]) -> Cell {
    let mut out = Vec::new();
    out.extend_from_slice(&(pairs.len() as i32).to_be_bytes());
    for (k, v) in pairs {
        put_bytes(&mut out, Some(k.as_bytes()));
        put_bytes(&mut out, Some(v.as_bytes()));
    }
    Some(out)
}

/// The columns of `system_schema.keyspaces` (Cassandra 4.x/5.x).
pub fn keyspaces_columns() -> Vec<(String, ColumnType)> {
    vec![
        ("keyspace_name".into(), ColumnType::Text),
        ("durable_writes".into(), ColumnType::Boolean),
        (
            "replication".into(),
            ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text)),
        ),
    ]
}

/// A `system_schema.keyspaces` page of `n` rows, as a cluster with many keyspaces returns it.
pub fn keyspaces_page(n: usize) -> Bytes {
    let rows: Vec<Vec<Cell>> = (0..n)
        .map(|i| {
            let name = format!("keyspace_{i:03}");
            let replication = if i % 3 == 0 {
                text_map(&[
                    ("class", "org.apache.cassandra.locator.SimpleStrategy"),
                    ("replication_factor", "1"),
                ])
            } else {
                text_map(&[
                    (
                        "class",
                        "org.apache.cassandra.locator.NetworkTopologyStrategy",
                    ),
                    ("dc1", "3"),
                    ("dc2", "3"),
                ])
            };
            vec![text(&name), boolean(i % 7 != 0), replication]
        })
        .collect();
    rows_body(
        "system_schema",
        "keyspaces",
        &keyspaces_columns(),
        &rows,
        false,
    )
}

/// The columns of the benchmark table `bench.t`: (int, text, blob).
pub fn wide_columns() -> Vec<(String, ColumnType)> {
    vec![
        ("id".into(), ColumnType::Int),
        ("name".into(), ColumnType::Text),
        ("payload".into(), ColumnType::Blob),
    ]
}

/// The 100-byte blob of every benchmark row.
pub fn payload() -> Vec<u8> {
    (0..100u8).collect()
}

/// The benchmark row with id `i`.
pub fn wide_row(i: i32) -> Vec<Cell> {
    vec![int(i), text(&format!("name-{i:06}")), Some(payload())]
}

/// A page of `n` (int, text, blob(100)) rows.
pub fn wide_page(n: usize) -> Bytes {
    let rows: Vec<Vec<Cell>> = (0..n as i32).map(wide_row).collect();
    rows_body("bench", "t", &wide_columns(), &rows, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Buf;
    use cql4_frame::{DecodeLimits, Reader, Rows};

    fn decode(body: &Bytes) -> Rows {
        let mut r = Reader::new(body);
        assert_eq!(r.i32("kind").unwrap(), KIND_ROWS);
        Rows::decode(body, &mut r, &DecodeLimits::default()).unwrap()
    }

    #[test]
    fn keyspaces_page_decodes_with_cql4() {
        let rows = decode(&keyspaces_page(130));
        assert_eq!(rows.len(), 130);
        let row = rows.row(129).unwrap();
        assert_eq!(row.get::<&str>(0).unwrap(), "keyspace_129");
    }

    #[test]
    fn wide_page_decodes_with_cql4() {
        let body = wide_page(5000);
        let rows = decode(&body);
        assert_eq!(rows.len(), 5000);
        let row = rows.row(4999).unwrap();
        assert_eq!(row.get::<i32>(0).unwrap(), 4999);
        assert_eq!(row.get::<&[u8]>(2).unwrap().len(), 100);
        assert!(body.clone().get_i32() == KIND_ROWS);
    }
}
