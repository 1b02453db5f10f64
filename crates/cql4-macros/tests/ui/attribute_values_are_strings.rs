//! `rename` and `crate` take string literals.
use cql4_macros::{FromRow, SerializeRow};

#[derive(FromRow)]
struct User {
    #[cql(rename = id)]
    user_id: i32,
}

#[derive(SerializeRow)]
#[cql(crate = cql4_frame)]
struct Insert {
    id: i32,
}

fn main() {}
