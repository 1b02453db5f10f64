//! The §3 notations that messages are built from: `[bytes]`, `[consistency]`, `[inet]` and the
//! custom payload's `[bytes map]`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::Bytes;
use cql4_frame::request::CustomPayload;
use cql4_frame::Consistency;

/// `[bytes]` (or `[short bytes]`) of any length.
pub fn bytes(u: &mut Unstructured<'_>) -> Result<Bytes> {
    Ok(Bytes::from(Vec::<u8>::arbitrary(u)?))
}

/// `[bytes]` that may be null.
pub fn opt_bytes(u: &mut Unstructured<'_>) -> Result<Option<Bytes>> {
    Ok(if u.arbitrary()? {
        Some(bytes(u)?)
    } else {
        None
    })
}

/// Any `[consistency]`, named or not: the codec carries unknown levels through.
pub fn consistency(u: &mut Unstructured<'_>) -> Result<Consistency> {
    Ok(Consistency(u.arbitrary()?))
}

/// An optional consistency, as a SERIAL consistency field.
pub fn opt_consistency(u: &mut Unstructured<'_>) -> Result<Option<Consistency>> {
    Ok(if u.arbitrary()? {
        Some(consistency(u)?)
    } else {
        None
    })
}

/// `[inet]`: an IPv4 or IPv6 address and a port.
pub fn inet(u: &mut Unstructured<'_>) -> Result<SocketAddr> {
    let ip = if u.arbitrary()? {
        IpAddr::V4(Ipv4Addr::from(u.arbitrary::<[u8; 4]>()?))
    } else {
        IpAddr::V6(Ipv6Addr::from(u.arbitrary::<[u8; 16]>()?))
    };
    Ok(SocketAddr::new(ip, u.arbitrary()?))
}

/// A frame's custom payload (flag 0x04): absent, or up to 3 entries with null values too.
pub fn custom_payload(u: &mut Unstructured<'_>) -> Result<Option<CustomPayload>> {
    if !u.arbitrary::<bool>()? {
        return Ok(None);
    }
    let n = u.int_in_range(0..=3)?;
    let mut v = Vec::new();
    for _ in 0..n {
        v.push((String::arbitrary(u)?, opt_bytes(u)?));
    }
    Ok(Some(v))
}
