//! Encoders for every notation of native_protocol_v4.spec §3: the mirror of [`crate::reader`].
//!
//! Encoders append to a caller-owned `Vec<u8>`; nothing is allocated per field. A field whose
//! length does not fit its prefix fails with [`EncodeError::TooLong`] naming the field, and
//! leaves `out` with a partial field appended (callers discard the buffer on error).
//! Lengths that are only known afterwards are reserved with [`begin_i32_length`] and patched
//! with [`finish_i32_length`].

use std::net::{IpAddr, SocketAddr};

use crate::consistency::Consistency;
use crate::error::EncodeError;
use crate::reader::RawValue;

/// Largest length an `[int]` prefix can carry.
pub const MAX_INT_LENGTH: usize = i32::MAX as usize;
/// Largest length or count a `[short]` prefix can carry.
pub const MAX_SHORT_LENGTH: usize = u16::MAX as usize;

fn short_len(len: usize, what: &'static str) -> Result<u16, EncodeError> {
    u16::try_from(len).map_err(|_| EncodeError::TooLong {
        what,
        length: len,
        max: MAX_SHORT_LENGTH,
    })
}

fn int_len(len: usize, what: &'static str) -> Result<i32, EncodeError> {
    i32::try_from(len).map_err(|_| EncodeError::TooLong {
        what,
        length: len,
        max: MAX_INT_LENGTH,
    })
}

/// `[byte]`.
pub fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

/// `[short]`: an unsigned 16-bit integer.
pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// A signed 16-bit integer (stream ids).
pub fn put_i16(out: &mut Vec<u8>, v: i16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// `[int]`: a signed 32-bit integer.
pub fn put_i32(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// An unsigned 32-bit integer (frame body length).
pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// `[long]`: a signed 64-bit integer.
pub fn put_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// A `[short]` count of elements, failing when it does not fit.
pub fn put_short_count(out: &mut Vec<u8>, n: usize, what: &'static str) -> Result<(), EncodeError> {
    put_u16(out, short_len(n, what)?);
    Ok(())
}

/// An `[int]` count or length, failing when it does not fit.
pub fn put_int_count(out: &mut Vec<u8>, n: usize, what: &'static str) -> Result<(), EncodeError> {
    put_i32(out, int_len(n, what)?);
    Ok(())
}

/// `[string]`: a `[short]` length then UTF-8 bytes.
pub fn put_string(out: &mut Vec<u8>, s: &str, what: &'static str) -> Result<(), EncodeError> {
    put_short_bytes(out, s.as_bytes(), what)
}

/// `[long string]`: an `[int]` length then UTF-8 bytes.
pub fn put_long_string(out: &mut Vec<u8>, s: &str, what: &'static str) -> Result<(), EncodeError> {
    put_int_count(out, s.len(), what)?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// `[uuid]`: 16 bytes.
pub fn put_uuid(out: &mut Vec<u8>, uuid: &[u8; 16]) {
    out.extend_from_slice(uuid);
}

/// `[string list]`: a `[short]` count then that many `[string]`.
pub fn put_string_list<S: AsRef<str>>(
    out: &mut Vec<u8>,
    list: &[S],
    what: &'static str,
) -> Result<(), EncodeError> {
    put_short_count(out, list.len(), what)?;
    for s in list {
        put_string(out, s.as_ref(), what)?;
    }
    Ok(())
}

/// `[bytes]`: an `[int]` length then bytes; `None` is null (length -1).
pub fn put_bytes(
    out: &mut Vec<u8>,
    b: Option<&[u8]>,
    what: &'static str,
) -> Result<(), EncodeError> {
    match b {
        Some(b) => {
            put_int_count(out, b.len(), what)?;
            out.extend_from_slice(b);
        }
        None => put_i32(out, -1),
    }
    Ok(())
}

/// `[value]`: like `[bytes]`, with null as -1 and not set as -2.
pub fn put_value(
    out: &mut Vec<u8>,
    v: RawValue<'_>,
    what: &'static str,
) -> Result<(), EncodeError> {
    match v {
        RawValue::Bytes(b) => put_bytes(out, Some(b), what),
        RawValue::Null => {
            put_i32(out, -1);
            Ok(())
        }
        RawValue::NotSet => {
            put_i32(out, -2);
            Ok(())
        }
    }
}

/// `[short bytes]`: a `[short]` length then bytes.
pub fn put_short_bytes(out: &mut Vec<u8>, b: &[u8], what: &'static str) -> Result<(), EncodeError> {
    put_u16(out, short_len(b.len(), what)?);
    out.extend_from_slice(b);
    Ok(())
}

/// `[unsigned vint]` (§3): the smallest encoding, leading one bits of the first byte counting
/// the extra bytes.
pub fn put_unsigned_vint(out: &mut Vec<u8>, v: u64) {
    // Bits needed (at least 1); each extra byte adds 7 usable bits (8 bytes cover 64 bits).
    let bits = 64 - v.leading_zeros().min(63) as usize;
    let extra = if bits > 56 { 8 } else { (bits - 1) / 7 };
    if extra == 0 {
        out.push(v as u8);
        return;
    }
    let be = v.to_be_bytes();
    // The first byte: `extra` leading ones, then the top value bits (none when extra == 8).
    let prefix = !0xffu8.checked_shr(extra as u32).unwrap_or(0);
    let first = if extra == 8 {
        prefix
    } else {
        prefix | (v >> (8 * extra)) as u8
    };
    out.push(first);
    out.extend(be.iter().skip(8 - extra));
}

/// `[vint]`: zig-zag encoded signed `[unsigned vint]`.
pub fn put_vint(out: &mut Vec<u8>, v: i64) {
    put_unsigned_vint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// `[option]`: an id `[short]` then a value whose layout depends on the id (§3). `value` is
/// written as is; the CQL type `[option]` of §4.2.5.2 is `ColumnType::encode` in `types.rs`.
pub fn put_option(out: &mut Vec<u8>, id: u16, value: &[u8]) {
    put_u16(out, id);
    out.extend_from_slice(value);
}

/// `[option list]`: a `[short]` count then that many `[option]`.
pub fn put_option_list<V: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    options: &[(u16, V)],
    what: &'static str,
) -> Result<(), EncodeError> {
    put_short_count(out, options.len(), what)?;
    for (id, value) in options {
        put_option(out, *id, value.as_ref());
    }
    Ok(())
}

/// `[inetaddr]`: a one-byte size (4 or 16) then the address bytes.
pub fn put_inetaddr(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            out.push(4);
            out.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            out.push(16);
            out.extend_from_slice(&v6.octets());
        }
    }
}

/// `[inet]`: an `[inetaddr]` then an `[int]` port.
pub fn put_inet(out: &mut Vec<u8>, addr: SocketAddr) {
    put_inetaddr(out, addr.ip());
    put_i32(out, i32::from(addr.port()));
}

/// `[consistency]`: a `[short]`.
pub fn put_consistency(out: &mut Vec<u8>, c: Consistency) {
    put_u16(out, c.0);
}

/// `[string map]`: a `[short]` count then `[string]` key/value pairs.
pub fn put_string_map<K: AsRef<str>, V: AsRef<str>>(
    out: &mut Vec<u8>,
    map: &[(K, V)],
    what: &'static str,
) -> Result<(), EncodeError> {
    put_short_count(out, map.len(), what)?;
    for (k, v) in map {
        put_string(out, k.as_ref(), what)?;
        put_string(out, v.as_ref(), what)?;
    }
    Ok(())
}

/// `[string multimap]`: a `[short]` count then `[string]` keys each with a `[string list]`.
pub fn put_string_multimap<K: AsRef<str>, V: AsRef<str>>(
    out: &mut Vec<u8>,
    map: &[(K, Vec<V>)],
    what: &'static str,
) -> Result<(), EncodeError> {
    put_short_count(out, map.len(), what)?;
    for (k, v) in map {
        put_string(out, k.as_ref(), what)?;
        put_string_list(out, v, what)?;
    }
    Ok(())
}

/// `[bytes map]`: a `[short]` count then `[string]` keys each with a `[bytes]` value.
pub fn put_bytes_map<K: AsRef<str>, V: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    map: &[(K, Option<V>)],
    what: &'static str,
) -> Result<(), EncodeError> {
    put_short_count(out, map.len(), what)?;
    for (k, v) in map {
        put_string(out, k.as_ref(), what)?;
        put_bytes(out, v.as_ref().map(AsRef::as_ref), what)?;
    }
    Ok(())
}

/// Reserves an `[int]` length at the end of `out`; returns its position for
/// [`finish_i32_length`].
pub fn begin_i32_length(out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    at
}

/// Patches the `[int]` reserved at `at` with the number of bytes written after it.
pub fn finish_i32_length(out: &mut [u8], at: usize, what: &'static str) -> Result<(), EncodeError> {
    let len = out.len().saturating_sub(at.saturating_add(4));
    let bytes = int_len(len, what)?.to_be_bytes();
    match out.get_mut(at..at.saturating_add(4)) {
        Some(slot) => {
            slot.copy_from_slice(&bytes);
            Ok(())
        }
        None => Err(EncodeError::Invalid("length slot outside the buffer")),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::reader::{read_option, read_option_list, Reader};

    fn enc(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut v);
        v
    }

    #[test]
    fn int_long_short() {
        // [int] big-endian, [long] big-endian, [short] unsigned.
        let b = enc(|o| put_i32(o, -2));
        assert_eq!(b, [0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(Reader::new(&b).i32("i").unwrap(), -2);
        let b = enc(|o| put_i64(o, 0x0102_0304_0506_0708));
        assert_eq!(b, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(Reader::new(&b).i64("l").unwrap(), 0x0102_0304_0506_0708);
        let b = enc(|o| put_u16(o, 0xfffe));
        assert_eq!(b, [0xff, 0xfe]);
        assert_eq!(Reader::new(&b).u16("s").unwrap(), 0xfffe);
        let b = enc(|o| put_i16(o, -1));
        assert_eq!(Reader::new(&b).i16("s").unwrap(), -1);
        let b = enc(|o| put_u32(o, 0x8000_0000));
        assert_eq!(Reader::new(&b).u32("u").unwrap(), 0x8000_0000);
    }

    #[test]
    fn string_and_long_string() {
        let b = enc(|o| put_string(o, "héllo", "s").unwrap());
        assert_eq!(b, [0, 6, b'h', 0xc3, 0xa9, b'l', b'l', b'o']);
        assert_eq!(Reader::new(&b).string("s").unwrap(), "héllo");
        let b = enc(|o| put_long_string(o, "ab", "s").unwrap());
        assert_eq!(b, [0, 0, 0, 2, b'a', b'b']);
        assert_eq!(Reader::new(&b).long_string("s").unwrap(), "ab");
        let long = "x".repeat(65_536);
        let err = put_string(&mut Vec::new(), &long, "key").unwrap_err();
        assert_eq!(
            err,
            EncodeError::TooLong {
                what: "key",
                length: 65_536,
                max: 65_535
            }
        );
        // 65535 is the largest [string].
        let b = enc(|o| put_string(o, &long[1..], "s").unwrap());
        assert_eq!(Reader::new(&b).string("s").unwrap().len(), 65_535);
    }

    #[test]
    fn uuid_roundtrip() {
        let u = [0x12u8; 16];
        let b = enc(|o| put_uuid(o, &u));
        assert_eq!(b.len(), 16);
        assert_eq!(Reader::new(&b).uuid("u").unwrap(), u);
    }

    #[test]
    fn string_list() {
        let b = enc(|o| put_string_list(o, &["a", "bc"], "l").unwrap());
        assert_eq!(b, [0, 2, 0, 1, b'a', 0, 2, b'b', b'c']);
        assert_eq!(Reader::new(&b).string_list("l").unwrap(), ["a", "bc"]);
        let too_many = vec![""; 65_536];
        assert!(matches!(
            put_string_list(&mut Vec::new(), &too_many, "l"),
            Err(EncodeError::TooLong { length: 65_536, .. })
        ));
    }

    #[test]
    fn bytes_and_null() {
        let b = enc(|o| put_bytes(o, Some(&[9, 8]), "b").unwrap());
        assert_eq!(b, [0, 0, 0, 2, 9, 8]);
        assert_eq!(Reader::new(&b).bytes("b").unwrap(), Some(&[9u8, 8][..]));
        let b = enc(|o| put_bytes(o, None, "b").unwrap());
        assert_eq!(b, [0xff; 4]);
        assert_eq!(Reader::new(&b).bytes("b").unwrap(), None);
        let b = enc(|o| put_bytes(o, Some(&[]), "b").unwrap());
        assert_eq!(b, [0; 4]);
        assert_eq!(Reader::new(&b).bytes("b").unwrap(), Some(&[][..]));
    }

    #[test]
    fn value_null_not_set() {
        for (v, wire) in [
            (RawValue::Bytes(&[7]), vec![0, 0, 0, 1, 7]),
            (RawValue::Null, vec![0xff, 0xff, 0xff, 0xff]),
            (RawValue::NotSet, vec![0xff, 0xff, 0xff, 0xfe]),
        ] {
            let b = enc(|o| put_value(o, v, "v").unwrap());
            assert_eq!(b, wire);
            assert_eq!(Reader::new(&b).value("v").unwrap(), v);
        }
    }

    #[test]
    fn short_bytes() {
        let b = enc(|o| put_short_bytes(o, &[1, 2, 3], "id").unwrap());
        assert_eq!(b, [0, 3, 1, 2, 3]);
        assert_eq!(Reader::new(&b).short_bytes("id").unwrap(), [1, 2, 3]);
        assert!(put_short_bytes(&mut Vec::new(), &[0; 65_536], "id").is_err());
    }

    #[test]
    fn unsigned_vint_boundaries() {
        let cases: &[(u64, &[u8])] = &[
            (0, &[0x00]),
            (127, &[0x7f]),
            (128, &[0x80, 0x80]),
            (0x3fff, &[0xbf, 0xff]),
            (0x4000, &[0xc0, 0x40, 0x00]),
            (u64::MAX, &[0xff; 9]),
        ];
        for (v, wire) in cases {
            let b = enc(|o| put_unsigned_vint(o, *v));
            assert_eq!(&b, wire, "encoding {v}");
            assert_eq!(Reader::new(&b).unsigned_vint("v").unwrap(), *v);
        }
        // Every power of two and its neighbours round-trip with the minimal length.
        for shift in 0..64 {
            for v in [(1u64 << shift) - 1, 1u64 << shift, (1u64 << shift) + 1] {
                let b = enc(|o| put_unsigned_vint(o, v));
                let bits = (64 - v.leading_zeros()).max(1) as usize;
                let want = if bits > 56 { 9 } else { 1 + (bits - 1) / 7 };
                assert_eq!(b.len(), want, "length of {v}");
                let mut r = Reader::new(&b);
                assert_eq!(r.unsigned_vint("v").unwrap(), v);
                assert!(r.is_empty());
            }
        }
    }

    #[test]
    fn vint_zigzag() {
        for (v, wire) in [
            (0i64, vec![0u8]),
            (-1, vec![1]),
            (1, vec![2]),
            (-2, vec![3]),
        ] {
            let b = enc(|o| put_vint(o, v));
            assert_eq!(b, wire);
            assert_eq!(Reader::new(&b).vint("v").unwrap(), v);
        }
        for v in [i64::MIN, i64::MAX, -300, 300] {
            let b = enc(|o| put_vint(o, v));
            assert_eq!(Reader::new(&b).vint("v").unwrap(), v);
        }
    }

    #[test]
    fn option_and_option_list() {
        // A generic [option]: id 0x0000 with a [string] value, id 0x0009 with none.
        let mut value = Vec::new();
        put_string(&mut value, "x.Y", "v").unwrap();
        let b =
            enc(|o| put_option_list(o, &[(0u16, value.clone()), (9, Vec::new())], "ol").unwrap());
        assert_eq!(b, [0, 2, 0, 0, 0, 3, b'x', b'.', b'Y', 0, 9]);
        let read = read_option_list(&mut Reader::new(&b), "ol", |id, r| match id {
            0 => Ok(Some(r.string("v")?.to_owned())),
            _ => Ok(None),
        })
        .unwrap();
        assert_eq!(read, [(0, Some("x.Y".to_owned())), (9, None)]);
        let b = enc(|o| put_option(o, 0x20, &[0, 9]));
        assert_eq!(b, [0, 0x20, 0, 9]);
        let (id, inner) = read_option(&mut Reader::new(&b), "o", |_, r| r.u16("inner")).unwrap();
        assert_eq!((id, inner), (0x20, 9));
    }

    #[test]
    fn inet_and_inetaddr() {
        let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 9042);
        let b = enc(|o| put_inet(o, v4));
        assert_eq!(b, [4, 10, 0, 0, 1, 0, 0, 0x23, 0x52]);
        assert_eq!(Reader::new(&b).inet("i").unwrap(), v4);
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let b = enc(|o| put_inetaddr(o, v6));
        assert_eq!(b.len(), 17);
        assert_eq!(b[0], 16);
        assert_eq!(Reader::new(&b).inetaddr("i").unwrap(), v6);
        assert!(Reader::new(&[5, 1, 2, 3, 4, 5]).inetaddr("i").is_err());
    }

    #[test]
    fn consistency_short() {
        let b = enc(|o| put_consistency(o, Consistency::LOCAL_QUORUM));
        assert_eq!(b, [0, 6]);
        assert_eq!(
            Consistency(Reader::new(&b).u16("c").unwrap()),
            Consistency::LOCAL_QUORUM
        );
    }

    #[test]
    fn string_map_multimap_bytes_map() {
        let b = enc(|o| put_string_map(o, &[("CQL_VERSION", "3.0.0")], "m").unwrap());
        let mut want = vec![0, 1, 0, 11];
        want.extend_from_slice(b"CQL_VERSION");
        want.extend_from_slice(&[0, 5]);
        want.extend_from_slice(b"3.0.0");
        assert_eq!(b, want);
        assert_eq!(
            Reader::new(&b).string_map("m").unwrap(),
            [("CQL_VERSION", "3.0.0")]
        );

        let b = enc(|o| {
            put_string_multimap(o, &[("COMPRESSION", vec!["lz4", "snappy"])], "mm").unwrap()
        });
        assert_eq!(
            Reader::new(&b).string_multimap("mm").unwrap(),
            [("COMPRESSION", vec!["lz4", "snappy"])]
        );
        assert_eq!(b.len(), 2 + 2 + 11 + 2 + 5 + 8);

        let b = enc(|o| put_bytes_map(o, &[("k", Some(vec![1u8])), ("n", None)], "bm").unwrap());
        assert_eq!(
            b,
            [0, 2, 0, 1, b'k', 0, 0, 0, 1, 1, 0, 1, b'n', 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            Reader::new(&b).bytes_map("bm").unwrap(),
            [("k", Some(&[1u8][..])), ("n", None)]
        );
    }

    #[test]
    fn patched_length() {
        let mut out = vec![0xaa];
        let at = begin_i32_length(&mut out);
        out.extend_from_slice(&[1, 2, 3]);
        finish_i32_length(&mut out, at, "len").unwrap();
        assert_eq!(out, [0xaa, 0, 0, 0, 3, 1, 2, 3]);
        assert!(finish_i32_length(&mut [0u8; 2], 0, "len").is_err());
    }
}
