//! Not part of cql4-conn's API: the few internals that `cql4-testkit` (the raw connection) and
//! the fuzz targets (the stream table) are built on. Compiled only with the `testkit` feature,
//! hidden from the documentation, and free to change in any release.

use bytes::BytesMut;
use cql4_frame::compression::Compression;

use crate::config::Config;
use crate::error::{Error, Result};

pub use crate::driver::AsyncIo;
pub use crate::mux::{Delivery, Expired, Health, Multiplexer, MuxConfig, StreamViolation};

/// The byte stream alone, as [`crate::connect`] opens it (DNS, TCP, then TLS when configured),
/// within [`Config::connect_timeout`]: no OPTIONS, no STARTUP, no login.
pub async fn open_transport(config: &Config) -> Result<Box<dyn AsyncIo>> {
    match tokio::time::timeout(config.connect_timeout, crate::transport::open(config)).await {
        Ok(r) => r,
        Err(_) => Err(Error::ConnectTimeout {
            addr: config.address(),
            timeout: config.connect_timeout,
        }),
    }
}

/// `start + wait` without the overflow panic: a huge wait means "never" (the driver's own rule
/// for user timeouts).
pub fn deadline_after(start: std::time::Instant, wait: std::time::Duration) -> std::time::Instant {
    crate::deadline::after(start, wait)
}

/// Opens a connection as [`crate::connect`] does (TCP, TLS, OPTIONS/STARTUP, authentication,
/// within [`Config::connect_timeout`]) but without compression, and hands over the socket and
/// the bytes read past the handshake: no multiplexer, no heartbeat, no I/O task.
pub async fn open_handshaken(config: &Config) -> Result<(Box<dyn AsyncIo>, BytesMut)> {
    let mut config = config.clone();
    config.compression = Compression::None;
    let open = async {
        let mut io = crate::transport::open(&config).await?;
        let mut read_buf = BytesMut::with_capacity(16 * 1024);
        crate::handshake::run(&mut io, &mut read_buf, &config).await?;
        Ok::<_, Error>((io, read_buf))
    };
    match tokio::time::timeout(config.connect_timeout, open).await {
        Ok(r) => r,
        Err(_) => Err(Error::ConnectTimeout {
            addr: config.address(),
            timeout: config.connect_timeout,
        }),
    }
}
