//! An emulated cluster: n fake nodes on 127.0.0.1, 127.0.0.2, … sharing one port (a session
//! dials peers at its contact point's port, as with Keyspaces and Cassandra), each serving the
//! handshake (optional authenticator, optional TLS), REGISTER and pushed events, `system.local`,
//! `system.peers`, `system.peers_v2`, `system_schema.keyspaces`, `USE`, a small user table
//! `ks.t`, PREPARE/EXECUTE/BATCH, and recording what it received. The Amazon Keyspaces
//! behaviours that drivers tripped over are switches on the [`Builder`] (see [`quirks`]'s
//! methods), so that each session rule can be tested against a server with just that quirk.
//!
//! ```no_run
//! # async fn run() {
//! use cql4_frame::{Consistency, Opcode};
//! use cql4_testkit::emulated::EmulatedCluster;
//!
//! let cluster = EmulatedCluster::builder()
//!     .nodes(3)
//!     .keyspaces_vpc_quirks()
//!     .start()
//!     .await;
//! let config = cluster.config(); // node 1, TLS and credentials as built
//! let client = cql4_conn::Client::connect(&config).await.unwrap();
//! // … run the code under test, then ask the nodes what they saw:
//! assert!(cluster.requests_at(Consistency::QUORUM).is_empty());
//! assert!(cluster.node(2).requests_of(Opcode::QUERY).is_empty());
//! assert_eq!(cluster.trap_connections(), 0, "127.0.0.1 was dialed");
//! # drop(client);
//! # }
//! ```
//!
//! Node numbers are 1-based. With the [loopback trap](Builder::loopback_trap) (turned on by
//! the quirks that make tables name 127.0.0.1), 127.0.0.1 is not a node but a listener that
//! counts the connections made to it, and node n listens on 127.0.0.(n+1).
//!
//! Controls: [`EmulatedNode::drop_connections`], [`EmulatedNode::stop`] (down: connections
//! refused), [`EmulatedNode::start`], [`EmulatedNode::push_event`] /
//! [`EmulatedCluster::push_event`], [`EmulatedNode::forget_prepared`],
//! [`EmulatedCluster::set_credentials`], [`EmulatedNode::intercept`] (answer some requests
//! yourself, e.g. throttling as WriteTimeout), [`EmulatedNode::set_delay`] (slow answers, one
//! connection's requests in turn).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cql4_frame::event::Event;
use cql4_frame::{Consistency, Opcode};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod auth;
mod builder;
mod conn;
mod cql;
mod node;
pub mod quirks;
mod spec;
mod tables;
#[cfg(test)]
mod tests;
mod tls;
#[cfg(test)]
mod topology_tests;

pub use auth::{Login, HELENUS_AUTHENTICATOR};
pub use builder::Builder;
pub use node::{EmulatedNode, SeenRequest};
pub use quirks::KEYSPACES_REJECTED_CONSISTENCIES;
pub use spec::{NodeSpec, KEYSPACES_PARTITIONER, MURMUR3_PARTITIONER};
pub use tables::{USER_KEYSPACE, USER_TABLE};

use quirks::Quirks;
use tls::Certificates;

/// A node's address and description, for every node's tables.
pub(crate) struct NodeEntry {
    pub(crate) addr: SocketAddr,
    pub(crate) spec: NodeSpec,
}

/// What every node of the cluster shares.
pub(crate) struct ClusterState {
    pub(crate) nodes: Vec<NodeEntry>,
    pub(crate) quirks: Quirks,
    pub(crate) keyspaces_values: bool,
    pub(crate) keyspaces: Vec<(String, Vec<(String, String)>)>,
    pub(crate) table_rows: usize,
    pub(crate) authenticator: Option<String>,
    pub(crate) credentials: Mutex<Option<(String, String)>>,
    pub(crate) tls: Option<Certificates>,
}

/// This machine's first non-loopback IPv4 address (the one its default route uses), if any:
/// for [`Builder::loopback_peers`]. No packet is sent.
pub fn non_loopback_ip() -> Option<IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // Connecting a UDP socket only picks the route and the source address.
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// The listener on 127.0.0.1 that counts connections and closes them.
struct Trap {
    addr: SocketAddr,
    count: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Trap {
    fn spawn(listener: TcpListener) -> Self {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0));
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                crate::server::reset(stream);
            }
        });
        Self { addr, count, task }
    }
}

/// A running emulated cluster. See the [module documentation](self). Dropping it stops every
/// node.
pub struct EmulatedCluster {
    state: Arc<ClusterState>,
    nodes: Vec<EmulatedNode>,
    port: u16,
    trap: Option<Trap>,
    host_name: Option<String>,
}

impl std::fmt::Debug for EmulatedCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedCluster")
            .field("nodes", &self.nodes)
            .field("port", &self.port)
            .field("trap", &self.trap.as_ref().map(|t| t.addr))
            .finish_non_exhaustive()
    }
}

impl EmulatedCluster {
    /// Options and quirks.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Node `number`, 1-based. Panics when there is no such node.
    pub fn node(&self, number: usize) -> &EmulatedNode {
        number
            .checked_sub(1)
            .and_then(|i| self.nodes.get(i))
            .unwrap_or_else(|| panic!("no node {number} of {}", self.nodes.len()))
    }

    /// Every node, node 1 first.
    pub fn nodes(&self) -> &[EmulatedNode] {
        &self.nodes
    }

    /// The port every node listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A driver config for node 1: its IP address and the shared port, TLS trusting the
    /// cluster's CA (verifying the [host name](Builder::tls_host_name) if there is one), a
    /// PLAIN login with the [credentials](Builder::credentials) if set, the driver's other
    /// defaults (heartbeats are answered).
    pub fn config(&self) -> cql4_conn::Config {
        self.config_for(1)
    }

    /// [`Self::config`] for node `number` (1-based).
    pub fn config_for(&self, number: usize) -> cql4_conn::Config {
        let node = self.node(number);
        let mut config = cql4_conn::Config::new(node.addr().ip().to_string(), self.port);
        if let Some(certs) = &self.state.tls {
            let mut tls = cql4_conn::TlsConfig::new().with_ca_pem(certs.ca_pem.as_bytes());
            if let Some(name) = &self.host_name {
                tls = tls.with_server_name(name.clone());
            }
            config.tls = Some(tls);
        }
        if let Some((user, password)) = &*node::lock(&self.state.credentials) {
            if let Ok(auth) = cql4_auth::PasswordAuthenticator::new(user.clone(), password.clone())
            {
                config.auth = Some(Arc::new(auth));
            }
        }
        config
    }

    /// The CA certificate (PEM) the nodes' certificates chain to, with TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.state.tls.as_ref().map(|c| c.ca_pem.as_str())
    }

    /// The host name the certificates name, with [`Builder::tls_host_name`].
    pub fn tls_host_name(&self) -> Option<&str> {
        self.host_name.as_deref()
    }

    /// Where the [trap](Builder::loopback_trap) listens (127.0.0.1 and the shared port).
    pub fn trap_addr(&self) -> Option<SocketAddr> {
        self.trap.as_ref().map(|t| t.addr)
    }

    /// Connections made to the trap so far (0 without one).
    pub fn trap_connections(&self) -> usize {
        self.trap
            .as_ref()
            .map_or(0, |t| t.count.load(Ordering::SeqCst))
    }

    /// Changes the user and password PLAIN must present from now on (connections already
    /// authenticated stay), e.g. to fail the next reconnection's login.
    pub fn set_credentials(&self, username: &str, password: &str) {
        *node::lock(&self.state.credentials) = Some((username.to_owned(), password.to_owned()));
    }

    /// Sends `event` to every registered connection of every node that is up; returns how many
    /// connections it went to.
    pub fn push_event(&self, event: &Event) -> usize {
        self.nodes.iter().map(|n| n.push_event(event.clone())).sum()
    }

    /// The requests of every node at `consistency`.
    pub fn requests_at(&self, consistency: Consistency) -> Vec<SeenRequest> {
        self.nodes
            .iter()
            .flat_map(|n| n.requests_at(consistency))
            .collect()
    }

    /// The requests of every node with `opcode`.
    pub fn requests_of(&self, opcode: Opcode) -> Vec<SeenRequest> {
        self.nodes
            .iter()
            .flat_map(|n| n.requests_of(opcode))
            .collect()
    }

    /// The panics of every node's connection tasks (a broken emulation, not a client error).
    pub fn failures(&self) -> Vec<String> {
        self.nodes.iter().flat_map(EmulatedNode::failures).collect()
    }
}

impl Drop for EmulatedCluster {
    fn drop(&mut self) {
        // The nodes' tasks hold their node: stopping them here breaks that cycle.
        for node in &self.nodes {
            node.shut_down();
        }
        if let Some(trap) = &self.trap {
            trap.task.abort();
        }
    }
}
