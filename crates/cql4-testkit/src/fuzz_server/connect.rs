//! Connections for `--stage`: logged in (the raw connection's own handshake), or unauthenticated
//! (TCP and TLS only, then optionally STARTUP), where a server's decoder meets bytes from
//! anyone who can reach its port.

use bytes::BytesMut;
use cql4_conn::Config;
use cql4_frame::compression::Compression;
use cql4_frame::request::{Request, RequestFrame, Startup};

use super::args::Stage;
use crate::raw::{RawConnection, Reaction};

/// Opens a connection at `stage`; errors are the server's refusal or the socket's, in words.
pub(crate) async fn open(config: &Config, stage: Stage) -> Result<RawConnection, String> {
    if stage == Stage::LoggedIn {
        return RawConnection::connect(config)
            .await
            .map_err(|e| e.to_string());
    }
    // Bounded by the connect timeout inside the transport.
    let mut raw = unauthenticated(config).await?;
    if stage == Stage::BeforeAuth {
        let mut startup = Vec::new();
        RequestFrame {
            stream: 0,
            tracing: false,
            custom_payload: None,
            message: Request::Startup(Startup::new(Compression::None)),
        }
        .encode(Compression::None, &mut startup)
        .map_err(|e| e.to_string())?;
        match raw.request(&startup, 0).await.map_err(|e| e.to_string())?.1 {
            // AUTHENTICATE (0x03) or READY (0x02): the server now waits for what follows.
            Reaction::Frame(f) if matches!(f.header.opcode.0, 0x02 | 0x03) => {}
            Reaction::Frame(f) => {
                return Err(format!(
                    "STARTUP answered with opcode {:#04x}",
                    f.header.opcode.0
                ))
            }
            Reaction::Closed(r) => return Err(format!("STARTUP: {r}")),
            Reaction::Silent { .. } => return Err("STARTUP: no answer".to_owned()),
        }
    }
    Ok(raw)
}

/// TCP, then TLS when configured, and nothing else: the driver's own transport.
async fn unauthenticated(config: &Config) -> Result<RawConnection, String> {
    let io = cql4_conn::testkit::open_transport(config)
        .await
        .map_err(|e| e.to_string())?;
    Ok(RawConnection::from_parts(
        io,
        BytesMut::new(),
        config.limits.clone(),
        config.request_timeout,
    ))
}
