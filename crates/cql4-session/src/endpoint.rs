//! Contact points: recognising Amazon Keyspaces endpoints, splitting `host:port`, and the
//! per-node connection settings (dial the node's IP, verify the contact point's name).

use std::net::{IpAddr, SocketAddr};

use cql4_conn::Config;

use crate::translator::AddressTranslator;

/// True for Amazon Keyspaces service endpoints: `cassandra.<region>.amazonaws.com`,
/// `cassandra-fips.<region>.amazonaws.com`, dual-stack `cassandra.<region>.api.aws`, and
/// their China-region `amazonaws.com.cn` forms.
pub fn is_keyspaces_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let Some((first, rest)) = host.split_once('.') else {
        return false;
    };
    let service = first == "cassandra" || first == "cassandra-fips";
    let domain = ["amazonaws.com", "amazonaws.com.cn", "api.aws"]
        .iter()
        .any(|d| rest.strip_suffix(d).is_some_and(|r| r.ends_with('.')));
    service && domain
}

/// Splits `host`, `host:port`, `[v6]:port` or a bare IPv6 literal; `default_port` when none.
pub(crate) fn split_host_port(contact: &str, default_port: u16) -> (String, u16) {
    if let Some(rest) = contact.strip_prefix('[') {
        if let Some((host, tail)) = rest.split_once(']') {
            let port = tail
                .strip_prefix(':')
                .and_then(|p| p.parse().ok())
                .unwrap_or(default_port);
            return (host.to_owned(), port);
        }
    }
    if contact.parse::<IpAddr>().is_ok() {
        return (contact.to_owned(), default_port);
    }
    match contact.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host.to_owned(), port),
            Err(_) => (contact.to_owned(), default_port),
        },
        _ => (contact.to_owned(), default_port),
    }
}

/// The settings of a connection to the node known as `address`, from the session's template.
/// The node is dialed by IP, at `address` or where `translator` maps it; its certificate is
/// verified against the template's server name, or else against the contact point's host name
/// when that is a name (Amazon Keyspaces certificates name the endpoint, never a peer's IP),
/// or else against the dialed IP — never left unverified.
pub(crate) fn node_config(
    template: &Config,
    contact_host: &str,
    address: SocketAddr,
    translator: Option<&dyn AddressTranslator>,
) -> Config {
    let dialed = translator.map_or(address, |t| t.translate(address));
    if dialed != address {
        tracing::debug!(node = %address, %dialed, "address translated");
    }
    let mut config = template.clone();
    config.host = dialed.ip().to_string();
    config.port = dialed.port();
    if let Some(tls) = &mut config.tls {
        if tls.server_name_override().is_none() && contact_host.parse::<IpAddr>().is_err() {
            *tls = tls.clone().with_server_name(contact_host);
        }
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use cql4_conn::TlsConfig;

    #[test]
    fn keyspaces_endpoints_are_recognised() {
        for host in [
            "cassandra.us-east-1.amazonaws.com",
            "CASSANDRA.ap-south-1.amazonaws.com.",
            "cassandra-fips.us-east-1.amazonaws.com",
            "cassandra.us-east-1.api.aws",
            "cassandra.cn-north-1.amazonaws.com.cn",
        ] {
            assert!(is_keyspaces_host(host), "{host}");
        }
        for host in [
            "127.0.0.1",
            "localhost",
            "cassandra",
            "cassandra.example.com",
            "cql.us-east-1.amazonaws.com",
            "cassandra.amazonaws.com.evil.example",
            "mycassandra.us-east-1.amazonaws.com",
        ] {
            assert!(!is_keyspaces_host(host), "{host}");
        }
    }

    #[test]
    fn host_and_port_are_split() {
        assert_eq!(split_host_port("h", 9042), ("h".into(), 9042));
        assert_eq!(split_host_port("h:9142", 9042), ("h".into(), 9142));
        assert_eq!(split_host_port("10.0.0.1:1", 9042), ("10.0.0.1".into(), 1));
        assert_eq!(split_host_port("::1", 9042), ("::1".into(), 9042));
        assert_eq!(split_host_port("[::1]:7", 9042), ("::1".into(), 7));
        assert_eq!(split_host_port("[::1]", 9042), ("::1".into(), 9042));
        assert_eq!(split_host_port("h:x", 9042), ("h:x".into(), 9042));
    }

    #[test]
    fn peers_are_verified_against_the_contact_point_name() {
        let mut template = Config::new("cassandra.us-east-1.amazonaws.com", 9142);
        template.tls = Some(TlsConfig::new());
        let peer: SocketAddr = "3.4.5.6:9142".parse().expect("addr");
        let c = node_config(&template, "cassandra.us-east-1.amazonaws.com", peer, None);
        assert_eq!(c.host, "3.4.5.6");
        let tls = c.tls.expect("tls kept");
        assert_eq!(
            tls.server_name_override(),
            Some("cassandra.us-east-1.amazonaws.com")
        );
    }

    #[test]
    fn an_explicit_server_name_or_an_ip_contact_point_is_left_alone() {
        let mut template = Config::new("10.0.0.1", 9142);
        template.tls = Some(TlsConfig::new());
        let peer: SocketAddr = "10.0.0.2:9142".parse().expect("addr");
        let c = node_config(&template, "10.0.0.1", peer, None);
        assert_eq!(c.tls.expect("tls").server_name_override(), None);
        template.tls = Some(TlsConfig::new().with_server_name("node.test"));
        let c = node_config(&template, "cassandra.example.com", peer, None);
        assert_eq!(
            c.tls.expect("tls").server_name_override(),
            Some("node.test")
        );
        template.tls = None;
        assert!(node_config(&template, "h", peer, None).tls.is_none());
    }

    #[test]
    fn the_translator_chooses_the_dialed_address_and_leaves_tls_names_alone() {
        use crate::translator::AddressMap;
        let peer: SocketAddr = "10.0.0.2:9142".parse().expect("addr");
        let proxy: SocketAddr = "127.0.0.1:40002".parse().expect("addr");
        let map = AddressMap::new().with(peer, proxy);
        let mut template = Config::new("cassandra.us-east-1.amazonaws.com", 9142);
        template.tls = Some(TlsConfig::new());
        let c = node_config(
            &template,
            "cassandra.us-east-1.amazonaws.com",
            peer,
            Some(&map),
        );
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 40002));
        assert_eq!(
            c.tls.expect("tls").server_name_override(),
            Some("cassandra.us-east-1.amazonaws.com")
        );
        // An address the table does not know is dialed as it is.
        let other: SocketAddr = "10.0.0.3:9142".parse().expect("addr");
        let c = node_config(&template, "10.0.0.1", other, Some(&map));
        assert_eq!((c.host.as_str(), c.port), ("10.0.0.3", 9142));
        assert_eq!(c.tls.expect("tls").server_name_override(), None);
    }
}
