//! Address translation: the address a node is known by (its `rpc_address` in `system.local`
//! and `system.peers_v2`, or the contact point) → the address the session dials. Needed
//! whenever the nodes' own addresses are not reachable as such: behind NAT or port forwarding,
//! through Amazon Keyspaces VPC endpoints, or through a test proxy.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;

/// Maps the address a node is known by to the address the session connects to.
///
/// The session calls it each time it dials a node (contact points and discovered peers, for
/// the control connection and every pooled connection), never on the request path. Nodes
/// keep their untranslated address everywhere else: in [`crate::Session::nodes`], in routing
/// and in events. Return `address` unchanged for an address the translator does not know.
pub trait AddressTranslator: Send + Sync + fmt::Debug {
    /// The address to dial for the node known as `address`.
    fn translate(&self, address: SocketAddr) -> SocketAddr;
}

/// A fixed table of translations; an address not in it is dialed as it is.
///
/// ```
/// use cql4_session::{AddressMap, AddressTranslator};
///
/// let map = AddressMap::new().with("10.0.0.2:9042".parse()?, "127.0.0.1:19042".parse()?);
/// assert_eq!(map.translate("10.0.0.2:9042".parse()?), "127.0.0.1:19042".parse()?);
/// assert_eq!(map.translate("10.0.0.3:9042".parse()?), "10.0.0.3:9042".parse()?);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressMap {
    map: HashMap<SocketAddr, SocketAddr>,
}

impl AddressMap {
    /// An empty table (every address dialed as it is).
    pub fn new() -> Self {
        Self::default()
    }

    /// Dials `to` for the node known as `from` (replacing an earlier entry for `from`).
    #[must_use]
    pub fn with(mut self, from: SocketAddr, to: SocketAddr) -> Self {
        self.insert(from, to);
        self
    }

    /// Dials `to` for the node known as `from`; returns the entry it replaced.
    pub fn insert(&mut self, from: SocketAddr, to: SocketAddr) -> Option<SocketAddr> {
        self.map.insert(from, to)
    }

    /// Translations in the table.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when the table translates nothing.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl AddressTranslator for AddressMap {
    fn translate(&self, address: SocketAddr) -> SocketAddr {
        self.map.get(&address).copied().unwrap_or(address)
    }
}

impl<A: Into<SocketAddr>> FromIterator<(A, A)> for AddressMap {
    fn from_iter<I: IntoIterator<Item = (A, A)>>(iter: I) -> Self {
        Self {
            map: iter
                .into_iter()
                .map(|(from, to)| (from.into(), to.into()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("socket address")
    }

    #[test]
    fn known_addresses_are_translated_others_pass_unchanged() {
        let map = AddressMap::new()
            .with(addr("10.0.0.1:9142"), addr("127.0.0.1:40001"))
            .with(addr("[fd00::2]:9142"), addr("127.0.0.1:40002"));
        assert_eq!(
            map.translate(addr("10.0.0.1:9142")),
            addr("127.0.0.1:40001")
        );
        assert_eq!(
            map.translate(addr("[fd00::2]:9142")),
            addr("127.0.0.1:40002")
        );
        // Same IP, another port: another node (or another service), not translated.
        assert_eq!(map.translate(addr("10.0.0.1:9042")), addr("10.0.0.1:9042"));
        assert_eq!(map.translate(addr("10.0.0.9:9142")), addr("10.0.0.9:9142"));
        assert_eq!(map.len(), 2);
        assert!(AddressMap::new().is_empty());
    }

    #[test]
    fn a_later_entry_replaces_an_earlier_one() {
        let mut map: AddressMap = [(addr("10.0.0.1:1"), addr("127.0.0.1:2"))]
            .into_iter()
            .collect();
        assert_eq!(
            map.insert(addr("10.0.0.1:1"), addr("127.0.0.1:3")),
            Some(addr("127.0.0.1:2"))
        );
        assert_eq!(map.translate(addr("10.0.0.1:1")), addr("127.0.0.1:3"));
        assert_eq!(map.len(), 1);
    }
}
