//! Derives for cql4's typed rows and bind values.
//!
//! - `#[derive(FromRow)]` reads a row into a struct with named fields, each field from the
//!   column of its name (or `#[cql(rename = "column")]`). Column indexes are resolved and the
//!   column types checked once per page; columns the struct does not name are ignored. With
//!   `#[cql(by_position)]` on the struct, field `i` reads column `i` whatever its name, and the
//!   page must have exactly as many columns as the struct has fields.
//! - `#[derive(SerializeRow)]` binds a struct's fields to a prepared statement's bind markers
//!   by name (a `?` marker is named after its column): every marker needs a field and every
//!   field a marker.
//! - `#[derive(FromCql, ToCql)]` map a struct to a CQL user-defined type by field name (or
//!   `rename`). Writing follows the UDT's declared field order, taken from the column type;
//!   reading takes each field by name, skips UDT fields the struct does not have (fields
//!   added to the type later) and reads the fields a value ends before as null.
//!
//! The generated code finds the codec through the crate's own dependencies, read from its
//! `Cargo.toml`: `::cql4_frame`, or `::cql4::frame` for a crate that depends on the `cql4`
//! facade only, or `::cql4_conn::frame` (renamed dependencies included). A crate that reaches
//! the codec some other way (a re-export of its own) says where with
//! `#[cql(crate = "path::to::cql4_frame")]` on the struct.
//!
//! ```
//! use cql4_macros::{FromCql, FromRow, SerializeRow, ToCql};
//!
//! #[derive(FromRow, SerializeRow)]
//! struct User<'a> {
//!     id: i32,
//!     #[cql(rename = "name")]
//!     display_name: Option<&'a str>,
//!     home: Option<Address>,
//! }
//!
//! /// `CREATE TYPE address (street text, zip_code int)`
//! #[derive(FromCql, ToCql)]
//! struct Address {
//!     street: String,
//!     #[cql(rename = "zip_code")]
//!     zip: i32,
//! }
//!
//! /// `SELECT id, name FROM users`, whatever the columns are called.
//! #[derive(FromRow)]
//! #[cql(by_position)]
//! struct IdAndName<'a> {
//!     user_id: i32,
//!     user_name: Option<&'a str>,
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attrs;
mod from_cql;
mod from_row;
mod serialize_row;
mod to_cql;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Implements `cql4_frame::rows::FromRow` for a struct with named fields, reading each field
/// from the column of its name (`#[cql(rename = "column")]` to name another), or from the
/// columns in order with `#[cql(by_position)]` on the struct.
#[proc_macro_derive(FromRow, attributes(cql))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    from_row::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `cql4_frame::bind::SerializeRow` for a struct with named fields, binding each
/// field to the bind markers of its name (`#[cql(rename = "marker")]` to name another).
#[proc_macro_derive(SerializeRow, attributes(cql))]
pub fn derive_serialize_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    serialize_row::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `cql4_frame::value::FromCql` for a struct with named fields read from a CQL
/// user-defined type by field name (`#[cql(rename = "field")]` to name another).
#[proc_macro_derive(FromCql, attributes(cql))]
pub fn derive_from_cql(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    from_cql::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `cql4_frame::value::ToCql` for a struct with named fields written as a CQL
/// user-defined type by field name (`#[cql(rename = "field")]` to name another), in the
/// type's declared order.
#[proc_macro_derive(ToCql, attributes(cql))]
pub fn derive_to_cql(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    to_cql::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
