//! `by_position` is for FromRow: binding and UDTs map fields by name.
use cql4_macros::{FromCql, SerializeRow, ToCql};

#[derive(SerializeRow)]
#[cql(by_position)]
struct Insert {
    id: i32,
}

#[derive(FromCql)]
#[cql(by_position)]
struct Read {
    zip: i32,
}

#[derive(ToCql)]
#[cql(by_position)]
struct Write {
    zip: i32,
}

fn main() {}
