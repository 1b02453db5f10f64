//! The emulated cluster's certificates: a throwaway CA and one server certificate for every
//! node, naming either the nodes' IP addresses or only a host name (as Keyspaces' do).
#![expect(
    clippy::expect_used,
    reason = "generating a test certificate cannot fail on valid, fixed inputs"
)]

use std::net::IpAddr;
use std::sync::Arc;

/// What the nodes' certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CertNames {
    /// Every node's IP address (as an IP-address SAN).
    Addresses,
    /// Only this DNS name.
    HostName(String),
}

/// The CA (PEM) clients must trust, and the server config every node uses.
pub(crate) struct Certificates {
    pub(crate) ca_pem: String,
    pub(crate) server: Arc<rustls::ServerConfig>,
}

/// A CA and one certificate for `names` (the addresses given, or the host name) signed by it.
pub(crate) fn generate(names: &CertNames, addresses: &[IpAddr]) -> Certificates {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "cql4 emulated cluster CA");
    let ca = ca_params.self_signed(&ca_key).expect("a CA certificate");
    let sans: Vec<String> = match names {
        CertNames::Addresses => addresses.iter().map(IpAddr::to_string).collect(),
        CertNames::HostName(name) => vec![name.clone()],
    };
    let key = rcgen::KeyPair::generate().expect("a server key");
    // rcgen turns a SAN that parses as an IP address into an IP-address SAN.
    let params = rcgen::CertificateParams::new(sans).expect("server parameters");
    let cert = params
        .signed_by(&key, &ca, &ca_key)
        .expect("a server certificate");
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS 1.2 and 1.3")
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("a DER key"),
    )
    .expect("a server config");
    Certificates {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}
