//! A misspelt `rename` on a field.
use cql4_macros::FromRow;

#[derive(FromRow)]
struct User {
    #[cql(rname = "user_id")]
    id: i32,
}

fn main() {}
