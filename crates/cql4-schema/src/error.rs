//! The crate's one error: a `system_schema` row this crate cannot read, naming where.

use std::fmt;

use cql4_frame::DecodeError;

use crate::types::TypeError;

/// A row of a `system_schema` table with an unexpected shape.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SchemaError {
    /// The table, e.g. `system_schema.columns`.
    pub table: &'static str,
    /// The column of that table.
    pub column: String,
    /// The row's object, when known (`ks.table`, …).
    pub object: Option<String>,
    /// What was wrong.
    pub kind: SchemaErrorKind,
}

/// What was wrong with a `system_schema` cell.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SchemaErrorKind {
    /// The table has no such column.
    MissingColumn,
    /// The cell is null where a value is needed.
    Null,
    /// The cell does not decode as the expected type.
    Decode(Box<DecodeError>),
    /// The cell holds a CQL type that does not parse.
    Type(Box<TypeError>),
    /// The cell holds a value outside those known (e.g. a column `kind`).
    Unexpected(String),
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.table, self.column)?;
        if let Some(o) = &self.object {
            write!(f, " (of {o})")?;
        }
        match &self.kind {
            SchemaErrorKind::MissingColumn => f.write_str(": no such column"),
            SchemaErrorKind::Null => f.write_str(": null"),
            SchemaErrorKind::Decode(e) => write!(f, ": {e}"),
            SchemaErrorKind::Type(e) => write!(f, ": {e}"),
            SchemaErrorKind::Unexpected(v) => write!(f, ": unexpected value {v:?}"),
        }
    }
}

impl std::error::Error for SchemaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SchemaErrorKind::Decode(e) => Some(e.as_ref()),
            SchemaErrorKind::Type(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}
