//! Sans-io codec for the Cassandra native protocol v4 (`doc/native_protocol_v4.spec`).
//!
//! Bytes in, structs out: no sockets, no clocks, no async runtime. Section references (§) point
//! at `native_protocol_v4.spec` as published in apache/cassandra.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod error;
pub mod limits;
pub mod reader;
pub mod rows;
pub mod types;
pub mod value;

pub use error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
pub use limits::DecodeLimits;
pub use reader::{BytesMapEntry, RawValue, Reader};
pub use rows::{ColumnSpec, PreparedMetadata, ResultMetadata, Row, Rows};
pub use types::ColumnType;
pub use value::{CqlValue, FromCql};
