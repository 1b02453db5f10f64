//! Test CA and server certificate for the Keyspaces-mode node (rcgen), plus the PKCS12 keystore
//! Cassandra reads (`openssl pkcs12 -export`).
//!
//! Files in `target/cassandra/certs/`: `ca.pem` (what clients trust), `server.pem` (leaf + CA),
//! `server.key`, `keystore.p12`. They are kept between runs and regenerated only if one is
//! missing or `names.txt` (the names the certificate was made for) differs from today's list.
//! One certificate serves every node of a local cluster, so it names each node's address.
use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::layout::Layout;
use crate::util::{on_path, run_captured, write_private, Context, Result};

/// DNS names in the server certificate; the first one is what tests use as the TLS server name.
pub(crate) const SERVER_NAMES: [&str; 2] = ["localhost", "cassandra.localtest"];
/// IP addresses in the server certificate: the single node and each cluster node (127.0.0.n).
const SERVER_IPS: [Ipv4Addr; 3] = [
    Ipv4Addr::new(127, 0, 0, 1),
    Ipv4Addr::new(127, 0, 0, 2),
    Ipv4Addr::new(127, 0, 0, 3),
];
/// Keystore password given to Cassandra. Not a secret: it protects a throwaway test key.
pub(crate) const KEYSTORE_PASSWORD: &str = "cql4-test-keystore";

pub(crate) struct CertPaths {
    pub(crate) ca: PathBuf,
    pub(crate) keystore: PathBuf,
}

pub(crate) fn ensure(layout: &Layout) -> Result<CertPaths> {
    let dir = layout.certs();
    let paths = CertPaths {
        ca: dir.join("ca.pem"),
        keystore: dir.join("keystore.p12"),
    };
    let server_pem = dir.join("server.pem");
    let server_key = dir.join("server.key");
    let names_file = dir.join("names.txt");
    let names = names_stamp();
    if [&paths.ca, &paths.keystore, &server_pem, &server_key]
        .iter()
        .all(|p| p.is_file())
        && fs::read_to_string(&names_file).is_ok_and(|s| s == names)
    {
        return Ok(paths);
    }
    if !on_path("openssl") {
        return Err("`openssl` is not on PATH; it builds the PKCS12 keystore for Cassandra".into());
    }
    fs::create_dir_all(&dir).context(|| format!("create {}", dir.display()))?;
    let generated = generate().context(|| "generate test certificates".into())?;
    fs::write(&paths.ca, &generated.ca_pem).context(|| "write ca.pem".into())?;
    fs::write(
        &server_pem,
        format!("{}{}", generated.server_pem, generated.ca_pem),
    )
    .context(|| "write server.pem".into())?;
    write_private(&server_key, generated.server_key_pem.as_bytes())?;
    let mut cmd = Command::new("openssl");
    cmd.arg("pkcs12")
        .arg("-export")
        .arg("-in")
        .arg(&server_pem)
        .arg("-inkey")
        .arg(&server_key)
        .arg("-name")
        .arg("node")
        .arg("-out")
        .arg(&paths.keystore)
        .arg("-passout")
        .arg(format!("pass:{KEYSTORE_PASSWORD}"));
    run_captured(&mut cmd)?;
    fs::write(&names_file, names).context(|| "write names.txt".into())?;
    eprintln!(
        "xtask: generated test CA and server certificate in {}",
        dir.display()
    );
    Ok(paths)
}

/// What the certificate names, one per line (written last: a half-made set is regenerated).
fn names_stamp() -> String {
    let mut s = String::new();
    for name in SERVER_NAMES {
        s.push_str(name);
        s.push('\n');
    }
    for ip in SERVER_IPS {
        s.push_str(&ip.to_string());
        s.push('\n');
    }
    s
}

struct Generated {
    ca_pem: String,
    server_pem: String,
    server_key_pem: String,
}

fn generate() -> Result<Generated, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "cql4 test CA (cargo xtask)");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key)?;

    let server_key = KeyPair::generate()?;
    let mut server = CertificateParams::default();
    server
        .distinguished_name
        .push(DnType::CommonName, SERVER_NAMES[0]);
    server.subject_alt_names = vec![
        SanType::DnsName(SERVER_NAMES[0].try_into()?),
        SanType::DnsName(SERVER_NAMES[1].try_into()?),
    ];
    server
        .subject_alt_names
        .extend(SERVER_IPS.map(|ip| SanType::IpAddress(IpAddr::V4(ip))));
    server.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server.signed_by(&server_key, &ca_cert, &ca_key)?;
    Ok(Generated {
        ca_pem: ca_cert.pem(),
        server_pem: server_cert.pem(),
        server_key_pem: server_key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::ServerCertVerifier;

    #[test]
    fn server_certificate_verifies_against_the_ca_for_every_name() {
        let g = generate().unwrap();
        let ca_der = rustls_pemfile::certs(&mut g.ca_pem.as_bytes())
            .next()
            .unwrap()
            .unwrap();
        let leaf_der = rustls_pemfile::certs(&mut g.server_pem.as_bytes())
            .next()
            .unwrap()
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_der).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(roots.into(), provider)
                .build()
                .unwrap();
        let now = rustls::pki_types::UnixTime::now();
        for name in [
            "localhost",
            "cassandra.localtest",
            "127.0.0.1",
            "127.0.0.2",
            "127.0.0.3",
        ] {
            let server_name = rustls::pki_types::ServerName::try_from(name).unwrap();
            verifier
                .verify_server_cert(&leaf_der, &[], &server_name, &[], now)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let other = rustls::pki_types::ServerName::try_from("example.com").unwrap();
        assert!(verifier
            .verify_server_cert(&leaf_der, &[], &other, &[], now)
            .is_err());
    }
}
