//! The codec's error type: what was being decoded, where, and what was wrong.

use std::fmt;

/// A decode failure: the field being decoded, the byte offset in the buffer that was being
/// read, and the reason.
///
/// Offsets are relative to the start of the buffer handed to the decoder (for message bodies,
/// the first byte after the 9-byte frame header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    context: &'static str,
    offset: usize,
}

/// Why a decode failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The buffer ended before the field did.
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A length or count field holds a value the spec does not allow (e.g. negative).
    InvalidLength(i64),
    /// A frame's body length exceeds the configured maximum.
    FrameTooLarge {
        /// The declared body length.
        length: u64,
        /// The configured maximum.
        max: u64,
    },
    /// A `[string]` or text value is not valid UTF-8.
    InvalidUtf8,
    /// An ascii value holds a byte above 0x7F.
    InvalidAscii,
    /// Bytes were left after a structure that must fill its buffer.
    TrailingBytes(usize),
    /// The frame's version byte is not protocol v4.
    UnsupportedVersion(u8),
    /// The frame direction bit does not match what was expected.
    WrongDirection,
    /// Nesting of types went past the configured limit.
    TooDeep {
        /// The configured nesting limit.
        limit: usize,
    },
    /// A count is larger than the configured limit.
    TooMany {
        /// The declared count.
        count: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A value that is well-formed but not allowed here (unknown kind, bad inet length, …).
    Invalid(&'static str),
    /// The body is compressed but no (or an unsupported) compression was negotiated.
    Compression(&'static str),
    /// The opcode is not one this decoder can decode in this direction.
    UnexpectedOpcode(u8),
    /// A typed accessor was asked for a Rust type that does not match the column's CQL type.
    TypeMismatch {
        /// The Rust type asked for.
        rust: &'static str,
        /// The CQL type of the column.
        cql: String,
    },
    /// A null value was read into a non-`Option` Rust type.
    UnexpectedNull,
    /// An `[option]` type id that protocol v4 does not define; its payload length is unknown,
    /// so decoding cannot continue past it.
    UnknownTypeId(u16),
    /// A column name or index that the row does not have.
    NoSuchColumn(String),
    /// A Rust type mapped to a UDT (a derived `FromCql`) names a field the UDT does not have.
    NoSuchField {
        /// The UDT (`keyspace.name`).
        udt: String,
        /// The field the Rust type reads.
        field: String,
    },
    /// A failure reading one column of a row into a Rust type (see
    /// [`FromRow`](crate::rows::FromRow)): the column's name, then what went wrong.
    InColumn {
        /// The column's name in the result metadata.
        column: String,
        /// What went wrong reading it.
        cause: Box<Self>,
    },
    /// A [`FromRow`](crate::rows::FromRow) type reads a number of columns the page does not
    /// have (a tuple of 3 against a page of 2 columns, …).
    ColumnCount {
        /// The columns the Rust type reads.
        expected: usize,
        /// The columns of the page.
        found: usize,
    },
    /// A failure inside a CQL value, with the path to the failing element
    /// (e.g. `list<int> element 3`).
    InValue {
        /// Where in the value, outermost first.
        path: String,
        /// What went wrong there.
        cause: Box<Self>,
    },
    /// An ERROR response (native_protocol_v4.spec §4.2.1) whose code-specific body (§9) is
    /// malformed; the code and message were read and are kept. Context and offset name the
    /// failing field (e.g. `ERROR write_timeout.received`).
    ErrorBody {
        /// The §9 error code.
        code: i32,
        /// The server's message.
        message: String,
        /// What was wrong with the details.
        cause: Box<Self>,
    },
}

impl DecodeError {
    /// Creates an error for `context` at `offset`.
    pub fn new(kind: DecodeErrorKind, context: &'static str, offset: usize) -> Self {
        Self {
            kind,
            context,
            offset,
        }
    }

    /// Why the decode failed.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }

    /// What was being decoded, in the spec's words (e.g. `"RESULT Rows metadata col_spec"`).
    pub fn context(&self) -> &'static str {
        self.context
    }

    /// Byte offset of the field that failed, relative to the decoded buffer.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Returns the error with its kind wrapped by `f` (e.g. in [`DecodeErrorKind::InColumn`]).
    pub(crate) fn map_kind(mut self, f: impl FnOnce(DecodeErrorKind) -> DecodeErrorKind) -> Self {
        self.kind = f(self.kind);
        self
    }

    /// Returns the error with its offset shifted by `base` (used when a sub-buffer was decoded).
    pub fn shifted(mut self, base: usize) -> Self {
        self.offset = self.offset.saturating_add(base);
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "decoding {} at byte {}: {}",
            self.context, self.offset, self.kind
        )
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { needed, available } => {
                write!(f, "truncated: needs {needed} bytes, {available} left")
            }
            Self::InvalidLength(n) => write!(f, "invalid length {n}"),
            Self::FrameTooLarge { length, max } => write!(
                f,
                "frame body of {length} bytes exceeds the limit of {max} bytes"
            ),
            Self::InvalidUtf8 => f.write_str("invalid UTF-8"),
            Self::InvalidAscii => f.write_str("non-ASCII byte in ascii value"),
            Self::TrailingBytes(n) => write!(f, "{n} unexpected trailing bytes"),
            Self::UnsupportedVersion(v) => write!(
                f,
                "unsupported protocol version byte {v:#04x} (this client speaks v4 only)"
            ),
            Self::WrongDirection => f.write_str("frame has the wrong direction bit"),
            Self::TooDeep { limit } => {
                write!(f, "types nested deeper than the limit of {limit}")
            }
            Self::TooMany { count, limit } => {
                write!(f, "count {count} exceeds the limit of {limit}")
            }
            Self::Invalid(why) => f.write_str(why),
            Self::Compression(why) => write!(f, "compression: {why}"),
            Self::UnexpectedOpcode(op) => write!(f, "unexpected opcode {op:#04x}"),
            Self::TypeMismatch { rust, cql } => {
                write!(f, "cannot read CQL type {cql} as {rust}")
            }
            Self::UnexpectedNull => f.write_str("null value read into a non-Option type"),
            Self::UnknownTypeId(id) => write!(f, "unknown type id {id:#06x}"),
            Self::NoSuchColumn(name) => write!(f, "no column {name}"),
            Self::NoSuchField { udt, field } => write!(f, "UDT {udt} has no field {field}"),
            Self::InValue { path, cause } => write!(f, "in value {path}: {cause}"),
            Self::InColumn { column, cause } => write!(f, "column {column}: {cause}"),
            Self::ColumnCount { expected, found } => write!(
                f,
                "the Rust type reads {expected} columns, the rows have {found}"
            ),
            Self::ErrorBody {
                code,
                message,
                cause,
            } => write!(
                f,
                "malformed body of ERROR {code:#06x} (message {message:?}): {cause}"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Result alias for decoding.
pub type DecodeResult<T> = Result<T, DecodeError>;

/// An encode failure: a value the protocol cannot carry (too long for its length field, …).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A field is longer than its length prefix can express.
    TooLong {
        /// The field being encoded.
        what: &'static str,
        /// Its length.
        length: usize,
        /// The largest length the prefix can carry.
        max: usize,
    },
    /// A value does not match the CQL type it is bound to.
    TypeMismatch {
        /// The field being encoded.
        what: &'static str,
        /// The CQL type expected.
        cql: String,
    },
    /// A value that is not allowed (e.g. named and positional values mixed).
    Invalid(&'static str),
    /// A bound value failed: the bind marker's position and name, then what went wrong.
    InMarker {
        /// The marker's position among the statement's bind markers.
        index: usize,
        /// The marker's name (the column it binds, for a `?` marker).
        name: String,
        /// What went wrong.
        cause: Box<Self>,
    },
    /// A row of values has a different number of values than the statement has bind markers.
    ValueCount {
        /// The statement's bind markers.
        markers: usize,
        /// The values given.
        values: usize,
    },
    /// A name-keyed row of values (a struct, a map) has no value for this bind marker.
    MissingValue {
        /// The marker's position.
        index: usize,
        /// The marker's name.
        name: String,
    },
    /// A name-keyed row of values holds a value for a name no bind marker has.
    NoSuchMarker(String),
    /// A field of a UDT value failed: the UDT, the field, then what went wrong.
    InField {
        /// The UDT (`keyspace.name`).
        udt: String,
        /// The field's name.
        field: String,
        /// What went wrong.
        cause: Box<Self>,
    },
    /// A Rust type mapped to a UDT (a derived `ToCql`) has a field the UDT does not have.
    NoSuchField {
        /// The UDT (`keyspace.name`).
        udt: String,
        /// The Rust type's field (or its `rename`).
        field: String,
    },
    /// Compression of the body failed or is not available.
    Compression(&'static str),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { what, length, max } => write!(
                f,
                "encoding {what}: length {length} exceeds the protocol maximum of {max}"
            ),
            Self::TypeMismatch { what, cql } => {
                write!(f, "encoding {what}: value does not match CQL type {cql}")
            }
            Self::Invalid(why) => write!(f, "encoding: {why}"),
            Self::InMarker { index, name, cause } => {
                write!(f, "bind marker {index} ({name}): {cause}")
            }
            Self::ValueCount { markers, values } => write!(
                f,
                "{values} values for a statement of {markers} bind markers"
            ),
            Self::MissingValue { index, name } => {
                write!(f, "no value for bind marker {index} ({name})")
            }
            Self::NoSuchMarker(name) => {
                write!(f, "a value is named {name} but no bind marker is")
            }
            Self::InField { udt, field, cause } => write!(f, "UDT {udt} field {field}: {cause}"),
            Self::NoSuchField { udt, field } => write!(f, "UDT {udt} has no field {field}"),
            Self::Compression(why) => write!(f, "compression: {why}"),
        }
    }
}

impl std::error::Error for EncodeError {}
