//! Not part of cql4-conn's API: the few internals that `cql4-testkit` (the raw connection) and
//! the fuzz targets (the stream table) are built on. Compiled only with the `testkit` feature,
//! hidden from the documentation, and free to change in any release.

use bytes::BytesMut;
use cql4_frame::compression::Compression;

use crate::config::Config;
use crate::error::{Error, Result};

pub use crate::driver::AsyncIo;
pub use crate::mux::{Delivery, Expired, Health, Multiplexer, MuxConfig, StreamViolation};

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
