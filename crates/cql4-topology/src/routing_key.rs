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

use crate::murmur3::murmur3_token;
use crate::token_ring::Token;

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
    match pk_indexes {
        [] => None,
        [single] => single_key(row, *single).map(<[u8]>::to_vec),
        several => {
            let mut key = Vec::new();
            for index in several {
                let bytes = component(row, *index)?;
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

/// The token of [`routing_key`]`(metadata, row)`, without copying a one-column key out of
/// `row` (it is hashed in place; a composite key is built, then hashed).
pub fn routing_token(metadata: &PreparedMetadata, row: &[u8]) -> Option<Token> {
    match metadata.pk_indexes.as_slice() {
        [single] => single_key(row, *single).map(murmur3_token),
        several => routing_key_from_indexes(several, row).map(|key| murmur3_token(&key)),
    }
}

/// The `index`th bound value of `row`, when it can be a one-column key.
fn single_key(row: &[u8], index: u16) -> Option<&[u8]> {
    component(row, index).filter(|b| b.len() <= MAX_COMPONENT_LEN)
}

/// The bytes of the `index`th bound value of `row`; `None` when null, unset or out of range.
fn component(row: &[u8], index: u16) -> Option<&[u8]> {
    let mut r = Reader::new(row);
    for _ in 0..index {
        r.value("bound value").ok()?;
    }
    match r.value("bound value").ok()? {
        RawValue::Bytes(b) => Some(b),
        RawValue::Null | RawValue::NotSet => None,
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
    fn the_routing_token_is_the_token_of_the_routing_key() {
        let long = vec![7u8; 70_000];
        let at_limit = vec![9u8; usize::from(u16::MAX)];
        let values = [
            v(b"ab"),
            RawValue::Null,
            v(b""),
            RawValue::NotSet,
            v(&long),
            v(&at_limit),
        ];
        let full = row(&values);
        // A row cut short in its last value, too.
        let short = &full[..full.len() - 1];
        let indexes: Vec<Vec<u16>> = (0..8u16)
            .map(|i| vec![i])
            .chain([vec![0, 2], vec![2, 0], vec![0, 1], vec![0, 5], vec![]])
            .collect();
        for r in [&full[..], short] {
            for pk_indexes in &indexes {
                let md = PreparedMetadata {
                    pk_indexes: pk_indexes.clone(),
                    ..PreparedMetadata::default()
                };
                assert_eq!(
                    routing_token(&md, r),
                    routing_key(&md, r).map(|k| murmur3_token(&k)),
                    "pk_indexes {pk_indexes:?}, row of {} bytes",
                    r.len()
                );
            }
        }
        let md = PreparedMetadata {
            pk_indexes: vec![0],
            ..PreparedMetadata::default()
        };
        assert!(routing_token(&md, &full).is_some());
        assert_eq!(routing_token(&md, &full[..2]), None);
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
