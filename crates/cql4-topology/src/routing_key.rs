//! The routing key of a bound statement: the serialized partition key the server hashes into a
//! token.
//!
//! native_protocol_v4.spec §4.2.5.4 lists, in a Prepared result, `<pk_index_i>`: "the index of
//! the bind marker that corresponds to the partition key column" for each partition key
//! column, in partition key order. The key is then
//! - one column: the value's bytes;
//! - several columns (a composite key, `CompositeType` on the server): for each component
//!   `[short length][bytes][0x00]` — a 2-byte big-endian length, the value, and an
//!   end-of-component byte of 0.

use cql4_frame::reader::{RawValue, Reader};
use cql4_frame::rows::PreparedMetadata;

/// The longest key component that can be routed: the `[short]` length of a composite
/// component.
const MAX_COMPONENT_LEN: usize = u16::MAX as usize;

/// The routing key of a prepared statement bound to `row`, the `[value]`s of its bind markers
/// in marker order (as [`SerializeRow`](cql4_frame::SerializeRow) writes them), from the
/// statement's partition key indexes.
///
/// `None` — route without a token — when the statement has no partition key indexes (e.g.
/// not all key columns are bound), an index is out of range, a key component is null or
/// unset, or a component is longer than 65,535 bytes (in a composite key its length does not
/// fit the `[short]`; and the server refuses any partition key over 65,535 bytes, so a single
/// column that long cannot be routed anywhere useful either).
pub fn routing_key(metadata: &PreparedMetadata, row: &[u8]) -> Option<Vec<u8>> {
    routing_key_from_indexes(&metadata.pk_indexes, row)
}

/// [`routing_key`] from the `pk_indexes` alone.
pub fn routing_key_from_indexes(pk_indexes: &[u16], row: &[u8]) -> Option<Vec<u8>> {
    let component = |index: &u16| {
        let mut r = Reader::new(row);
        for _ in 0..*index {
            r.value("bound value").ok()?;
        }
        match r.value("bound value").ok()? {
            RawValue::Bytes(b) => Some(b),
            RawValue::Null | RawValue::NotSet => None,
        }
    };
    match pk_indexes {
        [] => None,
        [single] => component(single)
            .filter(|b| b.len() <= MAX_COMPONENT_LEN)
            .map(<[u8]>::to_vec),
        several => {
            let mut key = Vec::new();
            for index in several {
                let bytes = component(index)?;
                let len = u16::try_from(bytes.len()).ok()?;
                key.reserve(bytes.len() + 3);
                key.extend_from_slice(&len.to_be_bytes());
                key.extend_from_slice(bytes);
                key.push(0);
            }
            Some(key)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cql4_frame::writer::Writer;

    fn v(b: &[u8]) -> RawValue<'_> {
        RawValue::Bytes(b)
    }

    /// The row as bound values are written.
    fn row(values: &[RawValue<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        for value in values {
            w.value(*value, "value").unwrap();
        }
        out
    }

    fn key(pk_indexes: &[u16], values: &[RawValue<'_>]) -> Option<Vec<u8>> {
        routing_key_from_indexes(pk_indexes, &row(values))
    }

    #[test]
    fn single_column_is_the_value() {
        let values = [v(b"x"), v(&[0, 0, 0, 7])];
        assert_eq!(key(&[1], &values), Some(vec![0, 0, 0, 7]));
        assert_eq!(key(&[0], &[v(b"")]), Some(vec![]));
    }

    #[test]
    fn composite_is_length_value_zero_per_component_in_pk_order() {
        // Bind markers in statement order (c, b, a); key order is (a, b).
        let values = [v(b"c"), v(&[0xbb, 0xbb]), v(b"a")];
        assert_eq!(
            key(&[2, 1], &values),
            Some(vec![0, 1, b'a', 0, 0, 2, 0xbb, 0xbb, 0])
        );
        assert_eq!(
            key(&[0, 1], &[v(b""), v(b"")]),
            Some(vec![0, 0, 0, 0, 0, 0])
        );
    }

    #[test]
    fn null_or_unset_component_means_no_key() {
        for missing in [RawValue::Null, RawValue::NotSet] {
            assert_eq!(key(&[0], std::slice::from_ref(&missing)), None);
            assert_eq!(key(&[0, 1], &[v(b"a"), missing]), None);
        }
    }

    #[test]
    fn out_of_range_index_or_no_index_means_no_key() {
        assert_eq!(key(&[], &[v(b"a")]), None);
        assert_eq!(key(&[3], &[v(b"a")]), None);
        assert_eq!(key(&[0, 3], &[v(b"a")]), None);
    }

    #[test]
    fn component_over_65535_bytes_means_no_key() {
        let max = vec![1u8; 65_535];
        let over = vec![1u8; 65_536];
        let k = key(&[0, 1], &[v(b"a"), v(&max)]).expect("fits");
        assert_eq!(k.len(), 4 + 65_535 + 3);
        assert_eq!(k[4..6], [0xff, 0xff]);
        assert_eq!(key(&[0, 1], &[v(b"a"), v(&over)]), None);
        assert_eq!(key(&[0], &[v(&max)]).map(|k| k.len()), Some(65_535));
        assert_eq!(key(&[0], &[v(&over)]), None);
    }

    #[test]
    fn from_prepared_metadata() {
        let md = PreparedMetadata {
            pk_indexes: vec![1, 0],
            ..PreparedMetadata::default()
        };
        assert_eq!(
            routing_key(&md, &row(&[v(b"b"), v(b"a")])),
            Some(vec![0, 1, b'a', 0, 0, 1, b'b', 0])
        );
    }
}
