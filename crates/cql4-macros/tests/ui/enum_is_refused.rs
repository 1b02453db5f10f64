//! `#[derive(FromRow)]` and `#[derive(SerializeRow)]` on an enum.
use cql4_macros::{FromRow, SerializeRow};

#[derive(FromRow)]
enum Shape {
    Circle,
    Square,
}

#[derive(SerializeRow)]
enum Consistency {
    One,
    Quorum,
}

fn main() {}
