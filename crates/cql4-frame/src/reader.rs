//! The one way to read wire bytes: a bounds-checked cursor over a borrowed buffer.
//!
//! Every notation of native_protocol_v4.spec §3 has a reader here. Nothing indexes a slice
//! directly; every read goes through [`Reader::take`], which fails with
//! [`DecodeErrorKind::Truncated`] instead of panicking, and every error carries the field
//! being decoded and its byte offset.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::error::{DecodeError, DecodeErrorKind, DecodeResult};

/// A `[value]` (§3): bytes, null (length -1) or not set (length -2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawValue<'a> {
    /// A present value.
    Bytes(&'a [u8]),
    /// Length -1.
    Null,
    /// Length -2: "not set", the server leaves the bound variable unchanged.
    NotSet,
}

/// One `[bytes map]` entry: a key and a possibly-null value.
pub type BytesMapEntry<'a> = (&'a str, Option<&'a [u8]>);

/// A bounds-checked cursor over a borrowed buffer.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Offset of the next byte to read, from the start of the buffer.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// An error of `kind` for `what` at the current position.
    pub fn error(&self, kind: DecodeErrorKind, what: &'static str) -> DecodeError {
        DecodeError::new(kind, what, self.pos)
    }

    /// Fails with [`DecodeErrorKind::TrailingBytes`] unless everything was read.
    pub fn expect_end(&self, what: &'static str) -> DecodeResult<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error(DecodeErrorKind::TrailingBytes(n), what)),
        }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> DecodeResult<&'a [u8]> {
        let rest = self.rest();
        match rest.split_at_checked(n) {
            Some((head, _)) => {
                self.pos += n;
                Ok(head)
            }
            None => Err(self.error(
                DecodeErrorKind::Truncated {
                    needed: n,
                    available: rest.len(),
                },
                what,
            )),
        }
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> DecodeResult<[u8; N]> {
        let bytes = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// A reader over the next `len` bytes, advancing this one past them.
    /// Errors from the sub-reader report offsets relative to its own start; use
    /// [`DecodeError::shifted`] with the returned base to make them absolute.
    pub fn sub(&mut self, len: usize, what: &'static str) -> DecodeResult<(usize, Self)> {
        let base = self.pos;
        Ok((base, Self::new(self.take(len, what)?)))
    }

    /// A capacity for a `Vec` that will hold `count` elements each at least `min_size` bytes
    /// on the wire: never more than the remaining bytes could back.
    pub fn capacity_for(&self, count: usize, min_size: usize) -> usize {
        count.min(self.remaining() / min_size.max(1))
    }

    /// `[byte]`: an unsigned 8-bit integer.
    pub fn u8(&mut self, what: &'static str) -> DecodeResult<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A signed 8-bit integer.
    pub fn i8(&mut self, what: &'static str) -> DecodeResult<i8> {
        Ok(i8::from_be_bytes(self.array(what)?))
    }

    /// `[short]`: an unsigned 16-bit integer.
    pub fn u16(&mut self, what: &'static str) -> DecodeResult<u16> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// A signed 16-bit integer (stream ids, smallint).
    pub fn i16(&mut self, what: &'static str) -> DecodeResult<i16> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }

    /// `[int]`: a signed 32-bit integer.
    pub fn i32(&mut self, what: &'static str) -> DecodeResult<i32> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    /// An unsigned 32-bit integer.
    pub fn u32(&mut self, what: &'static str) -> DecodeResult<u32> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// `[long]`: a signed 64-bit integer.
    pub fn i64(&mut self, what: &'static str) -> DecodeResult<i64> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    /// A non-negative `[int]` count or length, as `usize`.
    pub fn count(&mut self, what: &'static str) -> DecodeResult<usize> {
        let at = self.pos;
        let n = self.i32(what)?;
        usize::try_from(n)
            .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidLength(n.into()), what, at))
    }

    /// `[string]`: a `[short]` length then UTF-8 bytes.
    pub fn string(&mut self, what: &'static str) -> DecodeResult<&'a str> {
        let len = usize::from(self.u16(what)?);
        self.utf8(len, what)
    }

    /// `[long string]`: an `[int]` length then UTF-8 bytes.
    pub fn long_string(&mut self, what: &'static str) -> DecodeResult<&'a str> {
        let len = self.count(what)?;
        self.utf8(len, what)
    }

    fn utf8(&mut self, len: usize, what: &'static str) -> DecodeResult<&'a str> {
        let at = self.pos;
        let bytes = self.take(len, what)?;
        std::str::from_utf8(bytes)
            .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidUtf8, what, at))
    }

    /// `[uuid]`: 16 bytes.
    pub fn uuid(&mut self, what: &'static str) -> DecodeResult<[u8; 16]> {
        self.array(what)
    }

    /// `[string list]`: a `[short]` count then that many `[string]`.
    pub fn string_list(&mut self, what: &'static str) -> DecodeResult<Vec<&'a str>> {
        let n = usize::from(self.u16(what)?);
        let mut out = Vec::with_capacity(self.capacity_for(n, 2));
        for _ in 0..n {
            out.push(self.string(what)?);
        }
        Ok(out)
    }

    /// `[bytes]`: an `[int]` length then bytes; a negative length is null (`None`).
    pub fn bytes(&mut self, what: &'static str) -> DecodeResult<Option<&'a [u8]>> {
        let n = self.i32(what)?;
        match usize::try_from(n) {
            Ok(len) => self.take(len, what).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// `[value]`: like `[bytes]`, with -1 null and -2 not set; other negative lengths are
    /// invalid.
    pub fn value(&mut self, what: &'static str) -> DecodeResult<RawValue<'a>> {
        let at = self.pos;
        let n = self.i32(what)?;
        match n {
            -1 => Ok(RawValue::Null),
            -2 => Ok(RawValue::NotSet),
            n => match usize::try_from(n) {
                Ok(len) => self.take(len, what).map(RawValue::Bytes),
                Err(_) => Err(DecodeError::new(
                    DecodeErrorKind::InvalidLength(n.into()),
                    what,
                    at,
                )),
            },
        }
    }

    /// `[short bytes]`: a `[short]` length then bytes.
    pub fn short_bytes(&mut self, what: &'static str) -> DecodeResult<&'a [u8]> {
        let len = usize::from(self.u16(what)?);
        self.take(len, what)
    }

    /// `[unsigned vint]`: the variable-length encoding of §3 (leading one bits of the first
    /// byte count the extra bytes; at most 9 bytes).
    pub fn unsigned_vint(&mut self, what: &'static str) -> DecodeResult<u64> {
        let first = self.u8(what)?;
        let extra = first.leading_ones() as usize;
        if extra == 0 {
            return Ok(u64::from(first));
        }
        let bytes = self.take(extra, what)?;
        // With 8 extra bytes the first byte carries no value bits.
        let mut value = if extra >= 8 {
            0
        } else {
            u64::from(first & (0xffu8 >> extra))
        };
        for b in bytes {
            value = (value << 8) | u64::from(*b);
        }
        Ok(value)
    }

    /// `[vint]`: a zig-zag encoded signed `[unsigned vint]`.
    pub fn vint(&mut self, what: &'static str) -> DecodeResult<i64> {
        let n = self.unsigned_vint(what)?;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    /// `[inetaddr]`: a one-byte size (4 or 16) then the address bytes.
    pub fn inetaddr(&mut self, what: &'static str) -> DecodeResult<IpAddr> {
        let at = self.pos;
        match self.u8(what)? {
            4 => Ok(IpAddr::V4(Ipv4Addr::from(self.array::<4>(what)?))),
            16 => Ok(IpAddr::V6(Ipv6Addr::from(self.array::<16>(what)?))),
            _ => Err(DecodeError::new(
                DecodeErrorKind::Invalid("inet address size is neither 4 nor 16"),
                what,
                at,
            )),
        }
    }

    /// `[inet]`: an `[inetaddr]` then an `[int]` port.
    pub fn inet(&mut self, what: &'static str) -> DecodeResult<SocketAddr> {
        let ip = self.inetaddr(what)?;
        let at = self.pos;
        let port = self.i32(what)?;
        let port = u16::try_from(port).map_err(|_| {
            DecodeError::new(DecodeErrorKind::Invalid("inet port out of range"), what, at)
        })?;
        Ok(SocketAddr::new(ip, port))
    }

    /// `[string map]`: a `[short]` count then that many `[string]` key/value pairs.
    pub fn string_map(&mut self, what: &'static str) -> DecodeResult<Vec<(&'a str, &'a str)>> {
        let n = usize::from(self.u16(what)?);
        let mut out = Vec::with_capacity(self.capacity_for(n, 4));
        for _ in 0..n {
            out.push((self.string(what)?, self.string(what)?));
        }
        Ok(out)
    }

    /// `[string multimap]`: a `[short]` count then `[string]` keys each with a `[string list]`.
    pub fn string_multimap(
        &mut self,
        what: &'static str,
    ) -> DecodeResult<Vec<(&'a str, Vec<&'a str>)>> {
        let n = usize::from(self.u16(what)?);
        let mut out = Vec::with_capacity(self.capacity_for(n, 4));
        for _ in 0..n {
            out.push((self.string(what)?, self.string_list(what)?));
        }
        Ok(out)
    }

    /// `[bytes map]`: a `[short]` count then `[string]` keys each with a `[bytes]` value.
    pub fn bytes_map(&mut self, what: &'static str) -> DecodeResult<Vec<BytesMapEntry<'a>>> {
        let n = usize::from(self.u16(what)?);
        let mut out = Vec::with_capacity(self.capacity_for(n, 6));
        for _ in 0..n {
            out.push((self.string(what)?, self.bytes(what)?));
        }
        Ok(out)
    }
}

/// Reads an `[option]`: the id, then `value` reads the id-specific value.
pub fn read_option<'a, T>(
    r: &mut Reader<'a>,
    what: &'static str,
    value: impl FnOnce(u16, &mut Reader<'a>) -> DecodeResult<T>,
) -> DecodeResult<(u16, T)> {
    let id = r.u16(what)?;
    Ok((id, value(id, r)?))
}

/// Reads an `[option list]`, each value read by `value`.
pub fn read_option_list<'a, T>(
    r: &mut Reader<'a>,
    what: &'static str,
    mut value: impl FnMut(u16, &mut Reader<'a>) -> DecodeResult<T>,
) -> DecodeResult<Vec<(u16, T)>> {
    let n = usize::from(r.u16(what)?);
    let mut out = Vec::with_capacity(r.capacity_for(n, 2));
    for _ in 0..n {
        out.push(read_option(r, what, &mut value)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_past_end_is_truncated_not_panic() {
        let mut r = Reader::new(&[1, 2, 3]);
        let err = r.take(4, "field").unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::Truncated {
                needed: 4,
                available: 3
            }
        );
        assert_eq!(err.context(), "field");
        assert_eq!(r.position(), 0);
    }

    #[test]
    fn unsigned_vint_examples() {
        // 0x7f: one byte; 0x80 0x80 = 128; nine-byte maximum.
        assert_eq!(Reader::new(&[0x7f]).unsigned_vint("v").unwrap(), 127);
        assert_eq!(Reader::new(&[0x80, 0x80]).unsigned_vint("v").unwrap(), 128);
        let max = [0xff; 9];
        assert_eq!(Reader::new(&max).unsigned_vint("v").unwrap(), u64::MAX);
        assert!(Reader::new(&[0xff; 8]).unsigned_vint("v").is_err());
    }

    #[test]
    fn vint_zigzag() {
        assert_eq!(Reader::new(&[1]).vint("v").unwrap(), -1);
        assert_eq!(Reader::new(&[2]).vint("v").unwrap(), 1);
        assert_eq!(Reader::new(&[3]).vint("v").unwrap(), -2);
    }

    #[test]
    fn value_null_and_not_set() {
        assert_eq!(Reader::new(&[0xff; 4]).value("v").unwrap(), RawValue::Null);
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xfe]).value("v").unwrap(),
            RawValue::NotSet
        );
        let err = Reader::new(&[0xff, 0xff, 0xff, 0xfd])
            .value("v")
            .unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::InvalidLength(-3));
    }

    #[test]
    fn huge_count_does_not_preallocate() {
        // A string list claiming 65535 entries over 2 bytes of body must fail, not reserve.
        let mut r = Reader::new(&[0xff, 0xff, 0, 0]);
        assert!(r.string_list("l").is_err());
        let r = Reader::new(&[0; 10]);
        assert_eq!(r.capacity_for(usize::MAX, 4), 2);
    }

    #[test]
    fn option_list_reads_each_value_and_refuses_counts_past_the_bytes() {
        // Two options: id 0x0000 with a [string] "x", id 0x0009 with no value.
        let b = [0, 2, 0, 0, 0, 1, b'x', 0, 9];
        let mut r = Reader::new(&b);
        let read = read_option_list(&mut r, "ol", |id, r| match id {
            0 => Ok(Some(r.string("v")?)),
            _ => Ok(None),
        })
        .unwrap();
        assert_eq!(read, [(0, Some("x")), (9, None)]);
        assert!(r.is_empty());
        let (id, inner) = read_option(&mut Reader::new(&[0, 0x20, 0, 9]), "o", |_, r| {
            r.u16("inner")
        })
        .unwrap();
        assert_eq!((id, inner), (0x20, 9));
        // A list claiming more options than bytes fails instead of reserving.
        let err = read_option_list(&mut Reader::new(&[0xff, 0xff, 0, 1]), "ol", |_, _| Ok(()))
            .unwrap_err();
        assert!(
            matches!(err.kind(), DecodeErrorKind::Truncated { .. }),
            "{err:?}"
        );
    }
}
