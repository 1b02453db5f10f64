//! [`Unset`]: a bind value the server leaves unchanged.

use super::{ColumnType, IsNull, ToCql};
use crate::error::EncodeError;
use crate::writer::Writer;

/// A bind value that is "not set" (native_protocol_v4.spec §3 `[value]` length -2): the
/// server leaves the bound column unchanged, where a null (`None`) would delete it and leave a
/// tombstone.
///
/// It fits a bind marker of any type, in a tuple, a slice, a map or a derived struct bound as a
/// row; inside a collection, tuple or UDT value it is refused (the protocol has no such
/// element).
///
/// ```
/// # use cql4_frame::bind::SerializeRow;
/// # use cql4_frame::rows::ColumnSpec;
/// # use cql4_frame::types::ColumnType;
/// # use cql4_frame::writer::Writer;
/// use cql4_frame::Unset;
///
/// let markers = [ColumnSpec::new("id", ColumnType::Int), ColumnSpec::new("name", ColumnType::Text)];
/// let mut out = Vec::new();
/// (7i32, Unset).serialize_row(&markers, &mut Writer::new(&mut out)).unwrap();
/// assert_eq!(out, [0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xfe]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Unset;

impl ToCql for Unset {
    #[inline]
    fn to_cql(&self, _ty: &ColumnType, _w: &mut Writer<'_>) -> Result<IsNull, EncodeError> {
        Ok(IsNull::Unset)
    }

    #[inline]
    fn natural_type(&self) -> Option<ColumnType> {
        None
    }
}
