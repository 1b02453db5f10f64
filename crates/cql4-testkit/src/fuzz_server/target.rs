//! Which server is fuzzed: the loopback check and the connection configuration.
//!
//! The host is resolved once and checked after resolution; the connections then go to the
//! checked address (not to the name again), with TLS still verifying the name.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use cql4_auth::PasswordAuthenticator;
use cql4_conn::{Config, TlsConfig};

use super::args::Args;
use super::Error;

/// Whether `ip` is a loopback address (`::ffff:127.x.x.x` included).
pub(crate) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// The address to connect to: the first of `addrs` when every one is loopback, or when
/// `allow_remote` names `host` exactly.
pub(crate) fn check_addresses(
    host: &str,
    addrs: &[SocketAddr],
    allow_remote: Option<&str>,
) -> Result<SocketAddr, String> {
    let first = *addrs
        .first()
        .ok_or_else(|| format!("{host} resolves to no address"))?;
    if allow_remote == Some(host) {
        return Ok(first);
    }
    if let Some(a) = addrs.iter().find(|a| !is_loopback(a.ip())) {
        return Err(format!(
            "refusing to fuzz {host}: it resolves to {}, which is not a loopback address \
             (--allow-remote {host} if it is a server you own)",
            a.ip()
        ));
    }
    Ok(first)
}

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

/// Resolves and checks the target, and builds the configuration every connection uses.
pub(crate) async fn config(args: &Args) -> Result<Config, Error> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((args.host.as_str(), args.port))
        .await
        .map_err(|e| format!("cannot resolve {}: {e}", args.host))?
        .collect();
    let addr = check_addresses(&args.host, &addrs, args.allow_remote.as_deref())?;

    let mut config = Config::new(addr.ip().to_string(), addr.port());
    if !args.no_tls {
        let mut tls = TlsConfig::new();
        if let Some(ca) = &args.ca {
            tls = tls.with_ca_file(ca);
        }
        // Connected by address; the certificate still has to name the host.
        tls = tls.with_server_name(args.server_name.clone().unwrap_or(args.host.clone()));
        config.tls = Some(tls);
    }
    let user = args.user.clone().or_else(|| env_first(&["CQL4_TEST_USER"]));
    let password = args
        .password
        .as_ref()
        .map(|p| p.expose().to_owned())
        .or_else(|| env_first(&["CQL4_TEST_PASSWORD"]));
    match (user, password) {
        (Some(user), Some(password)) => {
            config.auth = Some(Arc::new(PasswordAuthenticator::new(
                user.as_str(),
                password.as_str(),
            )?));
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err("a user but no password: pass --password or set CQL4_PASSWORD".into())
        }
        (None, Some(_)) => {
            return Err("a password but no user: pass --user or set CQL4_USER".into())
        }
    }
    config.connect_timeout = Duration::from_secs(15);
    config.request_timeout = args.deadline();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter()
            .map(|a| SocketAddr::new(a.parse().unwrap(), 9042))
            .collect()
    }

    #[test]
    fn only_loopback_addresses_pass() {
        for ip in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "10.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "0.0.0.0",
            "::",
        ] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn every_resolved_address_must_be_loopback_unless_the_host_is_allowed() {
        let local = addrs(&["127.0.0.1", "::1"]);
        assert_eq!(check_addresses("localhost", &local, None), Ok(local[0]));
        // One public address among loopback ones is enough to refuse.
        let mixed = addrs(&["127.0.0.1", "192.0.2.7"]);
        let e = check_addresses("db.example", &mixed, None).unwrap_err();
        assert!(
            e.contains("192.0.2.7") && e.contains("--allow-remote"),
            "{e}"
        );
        // --allow-remote must name this very host.
        assert!(check_addresses("db.example", &mixed, Some("other.example")).is_err());
        assert_eq!(
            check_addresses("db.example", &mixed, Some("db.example")),
            Ok(mixed[0])
        );
        assert!(check_addresses("nowhere", &[], Some("nowhere")).is_err());
    }
}
