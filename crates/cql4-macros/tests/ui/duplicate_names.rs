//! Two fields that map to one column, marker or UDT field: by `rename`, or a raw identifier
//! and a `rename` to its plain name.
use cql4_macros::{FromRow, ToCql};

#[derive(FromRow)]
struct User {
    id: i32,
    #[cql(rename = "id")]
    user_id: i32,
}

#[derive(ToCql)]
struct Thing {
    r#type: String,
    #[cql(rename = "type")]
    kind: String,
}

fn main() {}
