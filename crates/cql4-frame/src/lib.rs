//! Sans-io codec for the Cassandra native protocol v4 (`doc/native_protocol_v4.spec`).
//!
//! Bytes in, structs out: no sockets, no clocks, no async runtime. Section references (§) point
//! at `native_protocol_v4.spec` as published in apache/cassandra.
// `unsafe` is denied, not forbidden: one measured exception, `value::ascii_str`.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod bind;
mod codes;
pub mod compression;
pub mod consistency;
pub mod error;
pub mod event;
pub mod framing;
pub mod limits;
pub mod opcode;
pub mod reader;
pub mod request;
pub mod response;
pub mod rows;
pub mod types;
pub mod value;
pub mod writer;

pub use bind::SerializeRow;
pub use compression::Compression;
pub use consistency::Consistency;
pub use error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
pub use event::{
    Event, SchemaChange, SchemaChangeTarget, SchemaChangeType, StatusChange, TopologyChange,
};
pub use framing::{
    bytes_needed, decode_frame, Direction, FrameFlags, FrameHeader, RawFrame, HEADER_LEN,
};
pub use limits::DecodeLimits;
pub use opcode::Opcode;
pub use reader::{BytesMapEntry, RawValue, Reader};
pub use request::{
    AuthResponse, Batch, BatchQuery, BatchStatement, BatchType, BoundValue, CustomPayload, Execute,
    FrameExtras, Prepare, Query, QueryParameters, QueryValues, Register, Request, RequestFrame,
    Startup, WriteValues,
};
pub use response::{
    AuthChallenge, AuthSuccess, Authenticate, ErrorCode, ErrorDetails, ErrorResponse, Prepared,
    Response, ResponseFrame, ResultResponse, Supported,
};
pub use rows::{
    ColumnSpec, FromRow, FromRowOwned, PreparedMetadata, ResultMetadata, Row, Rows, TypedRows,
};
pub use types::ColumnType;
pub use value::{CqlValue, FromCql, ToCql, Unset};
pub use writer::Writer;
