//! Opening the byte stream: DNS, TCP (no delay, keepalive), then TLS when configured.

use std::sync::Arc;

use tokio::net::TcpStream;

use crate::config::Config;
use crate::driver::BoxIo;
use crate::error::Error;
use crate::tls::TlsError;

/// Connects to the first address of `config.host` that accepts, then wraps it in TLS.
/// The caller bounds the whole call by the connect timeout.
pub(crate) async fn open(config: &Config) -> Result<BoxIo, Error> {
    let addr = config.address();
    // Build the TLS config before any I/O: a bad CA file fails without touching the network.
    let tls = match &config.tls {
        Some(tls) => Some((
            tls.build()?,
            tls.server_name_for(&config.host)?,
            tls.server_name_override()
                .unwrap_or(&config.host)
                .to_owned(),
        )),
        None => None,
    };
    let connect_error = |source: std::io::Error| Error::Connect {
        addr: addr.clone(),
        source: Arc::new(source),
    };
    let addrs = tokio::net::lookup_host((config.host.as_str(), config.port))
        .await
        .map_err(connect_error)?;
    let mut last = None;
    let mut tcp = None;
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let tcp = tcp.ok_or_else(|| {
        connect_error(last.unwrap_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no address for host")
        }))
    })?;
    // Requests are coalesced by the connection itself; Nagle would only add latency.
    tcp.set_nodelay(config.tcp_nodelay).map_err(connect_error)?;
    if let Some(idle) = config.tcp_keepalive {
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(idle)
            .with_interval(idle / 4 + std::time::Duration::from_secs(1));
        socket2::SockRef::from(&tcp)
            .set_tcp_keepalive(&keepalive)
            .map_err(connect_error)?;
    }
    match tls {
        None => Ok(Box::new(tcp)),
        Some((client_config, server_name, shown)) => {
            let stream = tokio_rustls::TlsConnector::from(client_config)
                .connect(server_name, tcp)
                .await
                .map_err(|source| {
                    Error::from(TlsError::Handshake {
                        server_name: shown,
                        source,
                    })
                })?;
            Ok(Box::new(stream))
        }
    }
}
