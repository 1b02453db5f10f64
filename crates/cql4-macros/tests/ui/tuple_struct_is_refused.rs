//! Every derive maps fields by name (or, for FromRow, by position of named fields): tuple and
//! unit structs are refused.
use cql4_macros::{FromCql, FromRow, SerializeRow, ToCql};

#[derive(FromRow)]
struct Pair(i32, String);

#[derive(SerializeRow)]
struct Nothing;

#[derive(FromCql)]
struct Wrapper(i64);

#[derive(ToCql)]
struct Point(f64, f64);

fn main() {}
