//! `#[derive(ToCql)]` on a union.
use cql4_macros::ToCql;

#[derive(ToCql)]
union Bits {
    int: i32,
    float: f32,
}

fn main() {}
