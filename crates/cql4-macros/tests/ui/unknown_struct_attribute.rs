//! A misspelt `crate` on the struct.
use cql4_macros::SerializeRow;

#[derive(SerializeRow)]
#[cql(krate = "cql4::frame")]
struct User {
    id: i32,
}

fn main() {}
