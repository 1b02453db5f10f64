//! TLS settings: which roots to trust, which name to verify, an optional client certificate.
//!
//! Defaults are what Amazon Keyspaces needs with no options: the Mozilla roots from
//! `webpki-roots`, and verification of the host name the client connects to. Keyspaces'
//! certificates chain to Amazon Root CA 1, which is cross-signed by "Starfield Services Root
//! Certificate Authority - G2"; both are in `webpki-roots`, and webpki stops path building at
//! the first trusted anchor, so the older "Starfield Class 2" root that AWS documents as
//! `sf-class2-root.crt` (no longer in the Mozilla store) is not needed. A PEM CA file can
//! replace the default roots (`--ca-file`), e.g. for a private node.
//!
//! Name verification (the peer bug this avoids: scylla verified nodes by IP only, #1116):
//! a DNS name is sent as SNI and must match a DNS SAN; an IP address must match an IP-address
//! SAN (no SNI is sent for IPs, RFC 6066 §3). [`TlsConfig::with_server_name`] overrides the
//! name to verify, e.g. to reach a node by IP while verifying its DNS certificate.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// TLS options of a connection.
#[derive(Clone, Default)]
pub struct TlsConfig {
    roots: Roots,
    server_name: Option<String>,
    client_cert: Option<ClientCert>,
}

#[derive(Clone, Default)]
enum Roots {
    #[default]
    WebPki,
    PemFile(PathBuf),
    Pem(Vec<u8>),
}

#[derive(Clone)]
enum ClientCert {
    Files { cert: PathBuf, key: PathBuf },
    Pem { cert: Vec<u8>, key: Arc<Vec<u8>> },
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The client key never appears in Debug output; file paths are not secret.
        let roots = match &self.roots {
            Roots::WebPki => "webpki-roots".to_owned(),
            Roots::PemFile(p) => format!("file {}", p.display()),
            Roots::Pem(_) => "PEM in memory".to_owned(),
        };
        let client = match &self.client_cert {
            None => "none".to_owned(),
            Some(ClientCert::Files { cert, .. }) => {
                format!("file {} (key redacted)", cert.display())
            }
            Some(ClientCert::Pem { .. }) => "PEM in memory (key redacted)".to_owned(),
        };
        f.debug_struct("TlsConfig")
            .field("roots", &roots)
            .field("server_name", &self.server_name)
            .field("client_cert", &client)
            .finish()
    }
}

/// A TLS setup or handshake failure.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read.
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A PEM input held no usable certificate or key.
    BadPem {
        /// What was being read ("CA certificates", "client certificate", "client key").
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The name to verify is neither a DNS name nor an IP address.
    InvalidServerName(String),
    /// rustls refused the configuration (e.g. a client key that does not match).
    Config(rustls::Error),
    /// The TLS handshake failed; for certificate errors the message names the reason (unknown
    /// issuer, name mismatch, expired).
    Handshake {
        /// The name that was verified.
        server_name: String,
        /// Why.
        source: std::io::Error,
    },
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReadFile { path, source } => write!(f, "reading {}: {source}", path.display()),
            Self::BadPem { what, reason } => write!(f, "{what}: {reason}"),
            Self::InvalidServerName(n) => {
                write!(f, "{n:?} is neither a DNS name nor an IP address to verify")
            }
            Self::Config(e) => write!(f, "TLS configuration: {e}"),
            Self::Handshake {
                server_name,
                source,
            } => write!(f, "TLS handshake verifying {server_name:?}: {source}"),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::ReadFile { source, .. } | Self::Handshake { source, .. } => Some(source),
            Self::Config(e) => Some(e),
            _ => None,
        }
    }
}

impl TlsConfig {
    /// Trusts the Mozilla roots of `webpki-roots` (enough for Amazon Keyspaces) and verifies
    /// the host connected to.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts only the certificates in a PEM file (replacing the default roots).
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.roots = Roots::PemFile(path.into());
        self
    }

    /// Trusts only the certificates in PEM text (replacing the default roots).
    pub fn with_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.roots = Roots::Pem(pem.into());
        self
    }

    /// Verifies this name (DNS name or IP address) instead of the host connected to.
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Presents a client certificate chain and key, read from PEM files.
    pub fn with_client_cert_files(
        mut self,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.client_cert = Some(ClientCert::Files {
            cert: cert.into(),
            key: key.into(),
        });
        self
    }

    /// Presents a client certificate chain and key given as PEM text.
    pub fn with_client_cert_pem(
        mut self,
        cert: impl Into<Vec<u8>>,
        key: impl Into<Vec<u8>>,
    ) -> Self {
        self.client_cert = Some(ClientCert::Pem {
            cert: cert.into(),
            key: Arc::new(key.into()),
        });
        self
    }

    /// The name override, if set.
    pub fn server_name_override(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// The name verified when connecting to `host`: the override, else `host` itself.
    pub fn server_name_for(&self, host: &str) -> Result<ServerName<'static>, TlsError> {
        let name = self.server_name.as_deref().unwrap_or(host);
        // `[::1]` style hosts are accepted as IPs.
        let bare = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name);
        ServerName::try_from(bare.to_owned())
            .map_err(|_| TlsError::InvalidServerName(name.to_owned()))
    }

    /// Builds the rustls client configuration (ring provider, TLS 1.2 and 1.3).
    pub fn build(&self) -> Result<Arc<rustls::ClientConfig>, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.roots {
            Roots::WebPki => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Roots::PemFile(path) => add_pem_roots(&mut roots, &read_file(path)?)?,
            Roots::Pem(pem) => add_pem_roots(&mut roots, pem)?,
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_root_certificates(roots);
        let config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some(cc) => {
                let (cert_pem, key_pem) = match cc {
                    ClientCert::Files { cert, key } => (read_file(cert)?, read_file(key)?),
                    ClientCert::Pem { cert, key } => (cert.clone(), key.as_ref().clone()),
                };
                let chain = parse_certs(&cert_pem, "client certificate")?;
                let key = parse_key(&key_pem)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(TlsError::Config)?
            }
        };
        Ok(Arc::new(config))
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::ReadFile {
        path: path.to_owned(),
        source,
    })
}

fn parse_certs(pem: &[u8], what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadPem {
            what,
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::BadPem {
            what,
            reason: "no CERTIFICATE block found".to_owned(),
        });
    }
    Ok(certs)
}

fn add_pem_roots(roots: &mut rustls::RootCertStore, pem: &[u8]) -> Result<(), TlsError> {
    for cert in parse_certs(pem, "CA certificates")? {
        roots.add(cert).map_err(|e| TlsError::BadPem {
            what: "CA certificates",
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

fn parse_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    // The error never includes the key bytes.
    match rustls_pemfile::private_key(&mut &pem[..]) {
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err(TlsError::BadPem {
            what: "client key",
            reason: "no PRIVATE KEY block found".to_owned(),
        }),
        Err(_) => Err(TlsError::BadPem {
            what: "client key",
            reason: "malformed PEM".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    struct Pki {
        ca_pem: String,
        server_chain: Vec<CertificateDer<'static>>,
        server_key: PrivateKeyDer<'static>,
    }

    fn pki(sans: Vec<rcgen::SanType>) -> Pki {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "cql4 test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = sans;
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        Pki {
            ca_pem: ca.pem(),
            server_chain: vec![cert.der().clone()],
            server_key: PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        }
    }

    fn dns(n: &str) -> rcgen::SanType {
        rcgen::SanType::DnsName(n.try_into().unwrap())
    }

    /// Serves one TLS connection that echoes 4 bytes; returns the port.
    async fn serve(p: &Pki) -> u16 {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(p.server_chain.clone(), p.server_key.clone_key())
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            if let Ok(mut tls) = acceptor.accept(tcp).await {
                let mut b = [0u8; 4];
                if tls.read_exact(&mut b).await.is_ok() {
                    let _ = tls.write_all(&b).await;
                    let _ = tls.flush().await;
                }
            }
        });
        port
    }

    async fn client(cfg: &TlsConfig, host: &str, port: u16) -> Result<(), String> {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let name = cfg.server_name_for(host).map_err(|e| e.to_string())?;
        let connector = tokio_rustls::TlsConnector::from(cfg.build().map_err(|e| e.to_string())?);
        let mut tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        tls.write_all(b"ping").await.unwrap();
        tls.flush().await.unwrap();
        let mut b = [0u8; 4];
        tls.read_exact(&mut b).await.map_err(|e| e.to_string())?;
        assert_eq!(&b, b"ping");
        Ok(())
    }

    #[tokio::test]
    async fn dns_name_is_verified() {
        let p = pki(vec![dns("node.cql4.test")]);
        let cfg = TlsConfig::new().with_ca_pem(p.ca_pem.clone());
        client(&cfg, "node.cql4.test", serve(&p).await)
            .await
            .unwrap();
        let err = client(&cfg, "other.cql4.test", serve(&p).await)
            .await
            .unwrap_err();
        assert!(
            err.contains("NotValidForName") || err.contains("not valid for name"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn ip_address_needs_an_ip_san() {
        let p = pki(vec![dns("node.cql4.test")]);
        let cfg = TlsConfig::new().with_ca_pem(p.ca_pem.clone());
        let err = client(&cfg, "127.0.0.1", serve(&p).await)
            .await
            .unwrap_err();
        assert!(
            err.contains("NotValidForName") || err.contains("not valid for name"),
            "{err}"
        );

        let p = pki(vec![rcgen::SanType::IpAddress(IpAddr::V4(
            Ipv4Addr::LOCALHOST,
        ))]);
        let cfg = TlsConfig::new().with_ca_pem(p.ca_pem.clone());
        client(&cfg, "127.0.0.1", serve(&p).await).await.unwrap();
    }

    #[tokio::test]
    async fn override_verifies_the_given_name_when_connecting_by_ip() {
        let p = pki(vec![dns("node.cql4.test")]);
        let cfg = TlsConfig::new()
            .with_ca_pem(p.ca_pem.clone())
            .with_server_name("node.cql4.test");
        client(&cfg, "127.0.0.1", serve(&p).await).await.unwrap();
    }

    #[tokio::test]
    async fn unknown_ca_is_refused_with_default_roots() {
        let p = pki(vec![dns("node.cql4.test")]);
        let err = client(&TlsConfig::new(), "node.cql4.test", serve(&p).await)
            .await
            .unwrap_err();
        assert!(
            err.contains("UnknownIssuer") || err.contains("unknown issuer"),
            "{err}"
        );
    }

    #[test]
    fn webpki_roots_hold_the_anchors_keyspaces_chains_to() {
        let has = |needle: &[u8]| {
            webpki_roots::TLS_SERVER_ROOTS.iter().any(|a| {
                a.subject
                    .as_ref()
                    .windows(needle.len())
                    .any(|w| w == needle)
            })
        };
        assert!(has(b"Amazon Root CA 1"));
        assert!(has(b"Starfield Services Root Certificate Authority - G2"));
        assert!(TlsConfig::new().build().is_ok());
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let e = TlsConfig::new().with_ca_pem("not pem").build().unwrap_err();
        assert!(
            matches!(
                e,
                TlsError::BadPem {
                    what: "CA certificates",
                    ..
                }
            ),
            "{e}"
        );
        let e = TlsConfig::new()
            .with_ca_file("/nonexistent/ca.pem")
            .build()
            .unwrap_err();
        assert!(matches!(e, TlsError::ReadFile { .. }), "{e}");
        assert!(TlsConfig::new().server_name_for("bad name!").is_err());
        assert!(matches!(
            TlsConfig::new().server_name_for("[::1]").unwrap(),
            ServerName::IpAddress(_)
        ));
        let p = pki(vec![dns("x.test")]);
        let e = TlsConfig::new()
            .with_client_cert_pem(
                p.ca_pem.clone(),
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            )
            .build()
            .unwrap_err();
        assert!(!format!("{e:?}").contains("AAAA"));
    }

    #[test]
    fn debug_redacts_the_client_key() {
        let cfg = TlsConfig::new().with_client_cert_pem("CERT", "SECRETKEY");
        let d = format!("{cfg:?}");
        assert!(!d.contains("SECRETKEY"), "{d}");
    }

    #[tokio::test]
    async fn client_certificate_is_presented_when_the_server_requires_one() {
        // One CA signs the server's and the client's certificates.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issue = |name: &str| {
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
                .unwrap()
                .signed_by(&key, &ca, &ca_key)
                .unwrap();
            (cert, key)
        };
        let (server_cert, server_key) = issue("node.cql4.test");
        let (client_cert, client_key) = issue("client.cql4.test");

        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![server_cert.der().clone()],
                PrivateKeyDer::try_from(server_key.serialize_der()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            for _ in 0..2 {
                let (tcp, _) = listener.accept().await.unwrap();
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut b = [0u8; 4];
                    if tls.read_exact(&mut b).await.is_ok() {
                        let _ = tls.write_all(&b).await;
                        let _ = tls.flush().await;
                    }
                }
            }
        });

        let without = TlsConfig::new().with_ca_pem(ca.pem());
        assert!(client(&without, "node.cql4.test", port).await.is_err());
        let with = without.with_client_cert_pem(client_cert.pem(), client_key.serialize_pem());
        client(&with, "node.cql4.test", port).await.unwrap();
    }
}
