//! Connection settings. Every limit and its default is listed in `docs/limits.md`
//! ("cql4-conn").

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cql4_auth::AuthProvider;
use cql4_frame::compression::Compression;
use cql4_frame::consistency::Consistency;
use cql4_frame::DecodeLimits;

use crate::backpressure::OnQueueFull;
use crate::mux::MuxConfig;
use crate::tls::TlsConfig;

/// How to reach and talk to one node.
///
/// ```
/// use cql4_conn::{Config, TlsConfig};
/// let mut config = Config::new("cassandra.us-east-1.amazonaws.com", 9142);
/// config.tls = Some(TlsConfig::new());
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Host name or IP address.
    pub host: String,
    /// TCP port (Amazon Keyspaces: 9142, TLS only).
    pub port: u16,
    /// TLS settings; `None` for plain TCP.
    pub tls: Option<TlsConfig>,
    /// Answers the server's AUTHENTICATE; `None` fails with [`crate::Error::AuthRequired`] if
    /// the server asks.
    pub auth: Option<Arc<dyn AuthProvider>>,
    /// Bound on DNS resolution + TCP connect + TLS handshake + protocol handshake. Default 10 s.
    pub connect_timeout: Duration,
    /// Default timeout of each request (each page of a paged query separately). Default 12 s.
    pub request_timeout: Duration,
    /// Idle time after which an OPTIONS heartbeat is sent; `None` disables it. Default 30 s.
    pub heartbeat_interval: Option<Duration>,
    /// A heartbeat unanswered for this long closes the connection. Default 10 s.
    pub heartbeat_timeout: Duration,
    /// TCP keepalive idle time; `None` disables it. Default 60 s.
    pub tcp_keepalive: Option<Duration>,
    /// Disables Nagle's algorithm (default true: requests are coalesced by the connection).
    pub tcp_nodelay: bool,
    /// Body compression to ask for; used only if the server's SUPPORTED lists it.
    /// Default none.
    pub compression: Compression,
    /// Stream table limits (ids, orphans, queue).
    pub mux: MuxConfig,
    /// What a request does when [`MuxConfig::max_queued`] requests already wait for a stream
    /// id: wait for room within its timeout (the default) or fail at once with
    /// [`crate::Error::Overloaded`].
    pub on_queue_full: OnQueueFull,
    /// Limits on decoded frames (frame size, type depth, decompressed size).
    pub limits: DecodeLimits,
    /// AUTH_CHALLENGE messages answered before the handshake fails. Default 10.
    pub max_auth_challenges: u32,
    /// Consistency of requests that do not set one. Default LOCAL_QUORUM (accepted by Amazon
    /// Keyspaces for reads and writes).
    pub default_consistency: Consistency,
    /// Page size of requests that do not set one. Default 5,000 rows.
    pub default_page_size: i32,
    /// Capacity of the EVENT channel; events beyond it are dropped with a warning. Default
    /// 1,024.
    pub event_buffer: usize,
    /// Prepared statements cached per client (keyed by query text). Default 1,024.
    pub prepared_cache_size: usize,
}

impl Config {
    /// Defaults for `host:port`, without TLS or authentication.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            tls: None,
            auth: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(12),
            heartbeat_interval: Some(Duration::from_secs(30)),
            heartbeat_timeout: Duration::from_secs(10),
            tcp_keepalive: Some(Duration::from_secs(60)),
            tcp_nodelay: true,
            compression: Compression::None,
            mux: MuxConfig::default(),
            on_queue_full: OnQueueFull::default(),
            limits: DecodeLimits::default(),
            max_auth_challenges: 10,
            default_consistency: Consistency::LOCAL_QUORUM,
            default_page_size: 5000,
            event_buffer: 1024,
            prepared_cache_size: 1024,
        }
    }

    /// `host:port`, bracketing IPv6 literals.
    pub fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The auth provider's own Debug is responsible for redacting its secrets.
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("auth", &self.auth)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("heartbeat_timeout", &self.heartbeat_timeout)
            .field("tcp_keepalive", &self.tcp_keepalive)
            .field("compression", &self.compression)
            .field("mux", &self.mux)
            .field("on_queue_full", &self.on_queue_full)
            .field("limits", &self.limits)
            .field("default_consistency", &self.default_consistency)
            .field("default_page_size", &self.default_page_size)
            .finish_non_exhaustive()
    }
}
