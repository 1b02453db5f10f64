//! A field whose type has no CQL mapping: the error names the field's type and the trait, at
//! the derive for ToCql (a non-generic impl), where the struct is used for FromRow (its impl is
//! generic over the row's lifetime). These messages are rustc's and print the traits' paths:
//! regenerate this .stderr when the traits or the toolchain change.
use cql4_macros::{FromRow, ToCql};

struct NotCql;

#[derive(FromRow)]
struct Row {
    id: i32,
    when: NotCql,
}

#[derive(ToCql)]
struct Udt {
    when: NotCql,
}

fn use_row<'a, T: cql4_frame::rows::FromRow<'a>>() {}

fn main() {
    use_row::<Row>();
}
