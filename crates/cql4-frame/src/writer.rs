//! The one way to write wire bytes: [`Writer`], the mirror of [`Reader`](crate::reader::Reader).
//!
//! A `Writer` is a thin wrapper over a caller-owned `Vec<u8>` (one pointer: nothing is
//! allocated per field, the caller sizes the buffer once). Every notation of
//! native_protocol_v4.spec §3 has a method here, named as the `Reader`'s is. One policy: a
//! length or count that does not fit its prefix fails with [`EncodeError::TooLong`] naming the
//! field; nothing is silently cut or saturated. On error the buffer may hold a partial field
//! (callers discard it). Lengths known only afterwards are reserved and back-patched: with
//! [`Writer::int_length`] / [`Writer::short_length`] (a closure writes the content), or with
//! a [`LengthSlot`] guard for a `[value]`, whose length can also be -1 (null) or -2 (not set).

use std::net::{IpAddr, SocketAddr};

use crate::consistency::Consistency;
use crate::error::EncodeError;
use crate::reader::RawValue;

/// Largest length an `[int]` prefix can carry.
pub const MAX_INT_LENGTH: usize = i32::MAX as usize;
/// Largest length or count a `[short]` prefix can carry.
pub const MAX_SHORT_LENGTH: usize = u16::MAX as usize;

#[cold]
fn too_long(what: &'static str, length: usize, max: usize) -> EncodeError {
    EncodeError::TooLong { what, length, max }
}

#[inline]
fn short_len(len: usize, what: &'static str) -> Result<u16, EncodeError> {
    u16::try_from(len).map_err(|_| too_long(what, len, MAX_SHORT_LENGTH))
}

#[inline]
fn int_len(len: usize, what: &'static str) -> Result<i32, EncodeError> {
    i32::try_from(len).map_err(|_| too_long(what, len, MAX_INT_LENGTH))
}

/// Appends wire notations to a caller-owned buffer.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut Vec<u8>,
}

/// A reserved `[int]` length (from [`Writer::reserve_int`]), patched by
/// [`Writer::finish_length`], [`Writer::finish_null`] or [`Writer::finish_not_set`].
#[derive(Debug)]
#[must_use = "a reserved length must be patched"]
pub struct LengthSlot {
    at: usize,
}

impl<'a> Writer<'a> {
    /// A writer appending to `buf`.
    #[inline]
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        Self { buf }
    }

    /// Bytes in the buffer (this writer's and what was there before).
    #[inline]
    pub fn position(&self) -> usize {
        self.buf.len()
    }

    /// The bytes written so far (the whole buffer).
    #[inline]
    pub fn written(&self) -> &[u8] {
        self.buf
    }

    /// Reserves room for `n` more bytes.
    #[inline]
    pub fn reserve(&mut self, n: usize) {
        self.buf.reserve(n);
    }

    /// Drops everything written after `position` (undoing a failed field).
    #[inline]
    pub fn truncate(&mut self, position: usize) {
        self.buf.truncate(position);
    }

    /// The buffer itself, for a codec that appends on its own (compression).
    #[inline]
    pub(crate) fn buf_mut(&mut self) -> &mut Vec<u8> {
        self.buf
    }

    /// Raw bytes, no prefix (a value's content, a body already encoded).
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// `[byte]`.
    #[inline]
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// A signed 8-bit integer (tinyint).
    #[inline]
    pub fn i8(&mut self, v: i8) {
        self.raw(&v.to_be_bytes());
    }

    /// `[short]`: an unsigned 16-bit integer.
    #[inline]
    pub fn u16(&mut self, v: u16) {
        self.raw(&v.to_be_bytes());
    }

    /// A signed 16-bit integer (stream ids, smallint).
    #[inline]
    pub fn i16(&mut self, v: i16) {
        self.raw(&v.to_be_bytes());
    }

    /// `[int]`: a signed 32-bit integer.
    #[inline]
    pub fn i32(&mut self, v: i32) {
        self.raw(&v.to_be_bytes());
    }

    /// An unsigned 32-bit integer.
    #[inline]
    pub fn u32(&mut self, v: u32) {
        self.raw(&v.to_be_bytes());
    }

    /// `[long]`: a signed 64-bit integer.
    #[inline]
    pub fn i64(&mut self, v: i64) {
        self.raw(&v.to_be_bytes());
    }

    /// A non-negative `[int]` count or length, failing when it does not fit.
    #[inline]
    pub fn count(&mut self, n: usize, what: &'static str) -> Result<(), EncodeError> {
        self.i32(int_len(n, what)?);
        Ok(())
    }

    /// A `[short]` count or length, failing when it does not fit.
    #[inline]
    pub fn short_count(&mut self, n: usize, what: &'static str) -> Result<(), EncodeError> {
        self.u16(short_len(n, what)?);
        Ok(())
    }

    /// `[string]`: a `[short]` length then UTF-8 bytes.
    #[inline]
    pub fn string(&mut self, s: &str, what: &'static str) -> Result<(), EncodeError> {
        self.short_bytes(s.as_bytes(), what)
    }

    /// `[long string]`: an `[int]` length then UTF-8 bytes.
    #[inline]
    pub fn long_string(&mut self, s: &str, what: &'static str) -> Result<(), EncodeError> {
        self.count(s.len(), what)?;
        self.raw(s.as_bytes());
        Ok(())
    }

    /// `[uuid]`: 16 bytes.
    #[inline]
    pub fn uuid(&mut self, uuid: &[u8; 16]) {
        self.raw(uuid);
    }

    /// `[string list]`: a `[short]` count then that many `[string]`.
    pub fn string_list<S: AsRef<str>>(
        &mut self,
        list: &[S],
        what: &'static str,
    ) -> Result<(), EncodeError> {
        self.short_count(list.len(), what)?;
        for s in list {
            self.string(s.as_ref(), what)?;
        }
        Ok(())
    }

    /// `[bytes]`: an `[int]` length then bytes; `None` is null (length -1).
    #[inline]
    pub fn bytes(&mut self, b: Option<&[u8]>, what: &'static str) -> Result<(), EncodeError> {
        match b {
            Some(b) => {
                self.count(b.len(), what)?;
                self.raw(b);
            }
            None => self.i32(-1),
        }
        Ok(())
    }

    /// `[value]`: like `[bytes]`, with null as -1 and not set as -2.
    #[inline]
    pub fn value(&mut self, v: RawValue<'_>, what: &'static str) -> Result<(), EncodeError> {
        match v {
            RawValue::Bytes(b) => self.bytes(Some(b), what),
            RawValue::Null => {
                self.i32(-1);
                Ok(())
            }
            RawValue::NotSet => {
                self.i32(-2);
                Ok(())
            }
        }
    }

    /// `[short bytes]`: a `[short]` length then bytes.
    #[inline]
    pub fn short_bytes(&mut self, b: &[u8], what: &'static str) -> Result<(), EncodeError> {
        self.short_count(b.len(), what)?;
        self.raw(b);
        Ok(())
    }

    /// `[unsigned vint]` (§3): the smallest encoding, leading one bits of the first byte
    /// counting the extra bytes.
    pub fn unsigned_vint(&mut self, v: u64) {
        // Bits needed (at least 1); each extra byte adds 7 usable bits (8 bytes cover 64 bits).
        let bits = 64 - v.leading_zeros().min(63) as usize;
        let extra = if bits > 56 { 8 } else { (bits - 1) / 7 };
        if extra == 0 {
            self.u8(v as u8);
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
        self.u8(first);
        self.raw(be.get(8 - extra..).unwrap_or_default());
    }

    /// `[vint]`: zig-zag encoded signed `[unsigned vint]`.
    #[inline]
    pub fn vint(&mut self, v: i64) {
        self.unsigned_vint(((v << 1) ^ (v >> 63)) as u64);
    }

    /// `[inetaddr]`: a one-byte size (4 or 16) then the address bytes.
    pub fn inetaddr(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(v4) => {
                self.u8(4);
                self.raw(&v4.octets());
            }
            IpAddr::V6(v6) => {
                self.u8(16);
                self.raw(&v6.octets());
            }
        }
    }

    /// `[inet]`: an `[inetaddr]` then an `[int]` port.
    pub fn inet(&mut self, addr: SocketAddr) {
        self.inetaddr(addr.ip());
        self.i32(i32::from(addr.port()));
    }

    /// `[consistency]`: a `[short]`.
    #[inline]
    pub fn consistency(&mut self, c: Consistency) {
        self.u16(c.0);
    }

    /// `[string map]`: a `[short]` count then `[string]` key/value pairs.
    pub fn string_map<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        map: &[(K, V)],
        what: &'static str,
    ) -> Result<(), EncodeError> {
        self.short_count(map.len(), what)?;
        for (k, v) in map {
            self.string(k.as_ref(), what)?;
            self.string(v.as_ref(), what)?;
        }
        Ok(())
    }

    /// `[string multimap]`: a `[short]` count then `[string]` keys each with a `[string list]`.
    pub fn string_multimap<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        map: &[(K, Vec<V>)],
        what: &'static str,
    ) -> Result<(), EncodeError> {
        self.short_count(map.len(), what)?;
        for (k, v) in map {
            self.string(k.as_ref(), what)?;
            self.string_list(v, what)?;
        }
        Ok(())
    }

    /// `[bytes map]`: a `[short]` count then `[string]` keys each with a `[bytes]` value.
    pub fn bytes_map<K: AsRef<str>, V: AsRef<[u8]>>(
        &mut self,
        map: &[(K, Option<V>)],
        what: &'static str,
    ) -> Result<(), EncodeError> {
        self.short_count(map.len(), what)?;
        for (k, v) in map {
            self.string(k.as_ref(), what)?;
            self.bytes(v.as_ref().map(AsRef::as_ref), what)?;
        }
        Ok(())
    }

    /// Reserves an `[int]` length to patch once the content after it is written.
    #[inline]
    pub fn reserve_int(&mut self) -> LengthSlot {
        let at = self.buf.len();
        self.raw(&[0; 4]);
        LengthSlot { at }
    }

    /// Patches `slot` with the number of bytes written after it. When that does not fit an
    /// `[int]`, drops the slot and those bytes and fails naming `what`.
    #[inline]
    pub fn finish_length(
        &mut self,
        slot: LengthSlot,
        what: &'static str,
    ) -> Result<(), EncodeError> {
        let len = self.buf.len().saturating_sub(slot.at + 4);
        match int_len(len, what) {
            Ok(n) => {
                self.patch(slot.at, &n.to_be_bytes());
                Ok(())
            }
            Err(e) => {
                self.buf.truncate(slot.at);
                Err(e)
            }
        }
    }

    /// Patches `slot` as null (-1), dropping anything written after it.
    #[inline]
    pub fn finish_null(&mut self, slot: LengthSlot) {
        self.buf.truncate(slot.at + 4);
        self.patch(slot.at, &(-1i32).to_be_bytes());
    }

    /// Patches `slot` as not set (-2), dropping anything written after it.
    #[inline]
    pub fn finish_not_set(&mut self, slot: LengthSlot) {
        self.buf.truncate(slot.at + 4);
        self.patch(slot.at, &(-2i32).to_be_bytes());
    }

    /// Drops `slot` and everything written after it.
    #[inline]
    pub fn abandon(&mut self, slot: LengthSlot) {
        self.buf.truncate(slot.at);
    }

    /// An `[int]` length then what `f` writes; the length is patched afterwards.
    #[inline]
    pub fn int_length<T>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&mut Self) -> Result<T, EncodeError>,
    ) -> Result<T, EncodeError> {
        let slot = self.reserve_int();
        let out = f(self)?;
        self.finish_length(slot, what)?;
        Ok(out)
    }

    /// A `[short]` length then what `f` writes; the length is patched afterwards.
    #[inline]
    pub fn short_length<T>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&mut Self) -> Result<T, EncodeError>,
    ) -> Result<T, EncodeError> {
        let at = self.buf.len();
        self.raw(&[0; 2]);
        let out = f(self)?;
        let n = short_len(self.buf.len() - at - 2, what)?;
        self.patch(at, &n.to_be_bytes());
        Ok(out)
    }

    /// Overwrites bytes at `at` (a reserved prefix, a flags byte, a frame header).
    #[inline]
    pub fn patch(&mut self, at: usize, bytes: &[u8]) {
        if let Some(slot) = self.buf.get_mut(at..at + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::reader::Reader;

    fn enc(f: impl FnOnce(&mut Writer<'_>)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut Writer::new(&mut v));
        v
    }

    #[test]
    fn int_long_short() {
        // [int] big-endian, [long] big-endian, [short] unsigned.
        let b = enc(|o| o.i32(-2));
        assert_eq!(b, [0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(Reader::new(&b).i32("i").unwrap(), -2);
        let b = enc(|o| o.i64(0x0102_0304_0506_0708));
        assert_eq!(b, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(Reader::new(&b).i64("l").unwrap(), 0x0102_0304_0506_0708);
        let b = enc(|o| o.u16(0xfffe));
        assert_eq!(b, [0xff, 0xfe]);
        assert_eq!(Reader::new(&b).u16("s").unwrap(), 0xfffe);
        let b = enc(|o| o.i16(-1));
        assert_eq!(Reader::new(&b).i16("s").unwrap(), -1);
        let b = enc(|o| o.u32(0x8000_0000));
        assert_eq!(Reader::new(&b).u32("u").unwrap(), 0x8000_0000);
    }

    #[test]
    fn string_and_long_string() {
        let b = enc(|o| o.string("héllo", "s").unwrap());
        assert_eq!(b, [0, 6, b'h', 0xc3, 0xa9, b'l', b'l', b'o']);
        assert_eq!(Reader::new(&b).string("s").unwrap(), "héllo");
        let b = enc(|o| o.long_string("ab", "s").unwrap());
        assert_eq!(b, [0, 0, 0, 2, b'a', b'b']);
        assert_eq!(Reader::new(&b).long_string("s").unwrap(), "ab");
        let long = "x".repeat(65_536);
        let err = Writer::new(&mut Vec::new())
            .string(&long, "key")
            .unwrap_err();
        assert_eq!(
            err,
            EncodeError::TooLong {
                what: "key",
                length: 65_536,
                max: 65_535
            }
        );
        // 65535 is the largest [string].
        let b = enc(|o| o.string(&long[1..], "s").unwrap());
        assert_eq!(Reader::new(&b).string("s").unwrap().len(), 65_535);
    }

    #[test]
    fn uuid_roundtrip() {
        let u = [0x12u8; 16];
        let b = enc(|o| o.uuid(&u));
        assert_eq!(b.len(), 16);
        assert_eq!(Reader::new(&b).uuid("u").unwrap(), u);
    }

    #[test]
    fn string_list() {
        let b = enc(|o| o.string_list(&["a", "bc"], "l").unwrap());
        assert_eq!(b, [0, 2, 0, 1, b'a', 0, 2, b'b', b'c']);
        assert_eq!(Reader::new(&b).string_list("l").unwrap(), ["a", "bc"]);
        let too_many = vec![""; 65_536];
        assert!(matches!(
            Writer::new(&mut Vec::new()).string_list(&too_many, "l"),
            Err(EncodeError::TooLong { length: 65_536, .. })
        ));
    }

    #[test]
    fn bytes_and_null() {
        let b = enc(|o| o.bytes(Some(&[9, 8]), "b").unwrap());
        assert_eq!(b, [0, 0, 0, 2, 9, 8]);
        assert_eq!(Reader::new(&b).bytes("b").unwrap(), Some(&[9u8, 8][..]));
        let b = enc(|o| o.bytes(None, "b").unwrap());
        assert_eq!(b, [0xff; 4]);
        assert_eq!(Reader::new(&b).bytes("b").unwrap(), None);
        let b = enc(|o| o.bytes(Some(&[]), "b").unwrap());
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
            let b = enc(|o| o.value(v, "v").unwrap());
            assert_eq!(b, wire);
            assert_eq!(Reader::new(&b).value("v").unwrap(), v);
        }
    }

    #[test]
    fn short_bytes() {
        let b = enc(|o| o.short_bytes(&[1, 2, 3], "id").unwrap());
        assert_eq!(b, [0, 3, 1, 2, 3]);
        assert_eq!(Reader::new(&b).short_bytes("id").unwrap(), [1, 2, 3]);
        assert!(Writer::new(&mut Vec::new())
            .short_bytes(&[0; 65_536], "id")
            .is_err());
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
            let b = enc(|o| o.unsigned_vint(*v));
            assert_eq!(&b, wire, "encoding {v}");
            assert_eq!(Reader::new(&b).unsigned_vint("v").unwrap(), *v);
        }
        // Every power of two and its neighbours round-trip with the minimal length.
        for shift in 0..64 {
            for v in [(1u64 << shift) - 1, 1u64 << shift, (1u64 << shift) + 1] {
                let b = enc(|o| o.unsigned_vint(v));
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
            let b = enc(|o| o.vint(v));
            assert_eq!(b, wire);
            assert_eq!(Reader::new(&b).vint("v").unwrap(), v);
        }
        for v in [i64::MIN, i64::MAX, -300, 300] {
            let b = enc(|o| o.vint(v));
            assert_eq!(Reader::new(&b).vint("v").unwrap(), v);
        }
    }

    #[test]
    fn inet_and_inetaddr() {
        let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 9042);
        let b = enc(|o| o.inet(v4));
        assert_eq!(b, [4, 10, 0, 0, 1, 0, 0, 0x23, 0x52]);
        assert_eq!(Reader::new(&b).inet("i").unwrap(), v4);
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let b = enc(|o| o.inetaddr(v6));
        assert_eq!(b.len(), 17);
        assert_eq!(b[0], 16);
        assert_eq!(Reader::new(&b).inetaddr("i").unwrap(), v6);
        assert!(Reader::new(&[5, 1, 2, 3, 4, 5]).inetaddr("i").is_err());
    }

    #[test]
    fn consistency_short() {
        let b = enc(|o| o.consistency(Consistency::LOCAL_QUORUM));
        assert_eq!(b, [0, 6]);
        assert_eq!(
            Consistency(Reader::new(&b).u16("c").unwrap()),
            Consistency::LOCAL_QUORUM
        );
    }

    #[test]
    fn string_map_multimap_bytes_map() {
        let b = enc(|o| o.string_map(&[("CQL_VERSION", "3.0.0")], "m").unwrap());
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
            o.string_multimap(&[("COMPRESSION", vec!["lz4", "snappy"])], "mm")
                .unwrap()
        });
        assert_eq!(
            Reader::new(&b).string_multimap("mm").unwrap(),
            [("COMPRESSION", vec!["lz4", "snappy"])]
        );
        assert_eq!(b.len(), 2 + 2 + 11 + 2 + 5 + 8);

        let b = enc(|o| {
            o.bytes_map(&[("k", Some(vec![1u8])), ("n", None)], "bm")
                .unwrap()
        });
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
    fn patched_lengths() {
        let b = enc(|o| {
            o.u8(0xaa);
            o.int_length("len", |o| {
                o.raw(&[1, 2, 3]);
                Ok(())
            })
            .unwrap();
            o.short_length("short", |o| o.string("x", "s")).unwrap();
        });
        assert_eq!(b, [0xaa, 0, 0, 0, 3, 1, 2, 3, 0, 3, 0, 1, b'x']);
        // A [short] length that does not fit is refused, naming the field.
        let err = Writer::new(&mut Vec::new())
            .short_length("short", |o| {
                o.raw(&[0; 65_536]);
                Ok(())
            })
            .unwrap_err();
        assert_eq!(
            err,
            EncodeError::TooLong {
                what: "short",
                length: 65_536,
                max: 65_535
            }
        );
    }

    #[test]
    fn length_slot_null_not_set_abandon() {
        let b = enc(|o| {
            let s = o.reserve_int();
            o.raw(&[9, 9]);
            o.finish_null(s);
            let s = o.reserve_int();
            o.finish_not_set(s);
            let s = o.reserve_int();
            o.raw(&[7]);
            o.abandon(s);
            let s = o.reserve_int();
            o.raw(&[5]);
            o.finish_length(s, "v").unwrap();
        });
        assert_eq!(
            b,
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 1, 5]
        );
    }
}
