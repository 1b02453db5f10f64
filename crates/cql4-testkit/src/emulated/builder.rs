//! The [`Builder`] of an [`EmulatedCluster`]: nodes, their descriptions, authentication, TLS,
//! tables; the quirks' switches are in [`super::quirks`]. [`Builder::start`] binds every node
//! on one port.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;

use super::quirks::Quirks;
use super::spec::NodeSpec;
use super::tables::USER_KEYSPACE;
use super::tls::{self, CertNames};
use super::{non_loopback_ip, ClusterState, EmulatedCluster, EmulatedNode, NodeEntry, Trap};

/// How many times [`Builder::start`] picks a new port when one of the nodes' addresses has it
/// taken already.
const BIND_ATTEMPTS: usize = 50;

type SpecEdit = Arc<dyn Fn(&mut NodeSpec) + Send + Sync>;

/// Options of an [`EmulatedCluster`]; the quirks are in [`super::quirks`].
#[derive(Clone)]
#[must_use]
pub struct Builder {
    count: usize,
    vnodes: usize,
    edits: Vec<(usize, SpecEdit)>,
    pub(crate) quirks: Quirks,
    pub(crate) keyspaces_values: bool,
    trap: bool,
    authenticator: Option<String>,
    credentials: Option<(String, String)>,
    tls: Option<CertNames>,
    table_rows: usize,
    keyspaces: Vec<(String, Vec<(String, String)>)>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("nodes", &self.count)
            .field("vnodes", &self.vnodes)
            .field("quirks", &self.quirks)
            .field("trap", &self.trap)
            .field("authenticator", &self.authenticator)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            count: 1,
            vnodes: 4,
            edits: Vec::new(),
            quirks: Quirks::default(),
            keyspaces_values: false,
            trap: false,
            authenticator: None,
            credentials: None,
            tls: None,
            table_rows: 10,
            keyspaces: Vec::new(),
        }
    }
}

impl Builder {
    /// How many nodes (default 1).
    pub fn nodes(mut self, count: usize) -> Self {
        self.count = count.max(1);
        self
    }

    /// Tokens per node (default 4).
    pub fn vnodes(mut self, vnodes: usize) -> Self {
        self.vnodes = vnodes.max(1);
        self
    }

    /// Changes node `number`'s (1-based) description, e.g. its rack or tokens.
    pub fn node_spec(
        mut self,
        number: usize,
        edit: impl Fn(&mut NodeSpec) + Send + Sync + 'static,
    ) -> Self {
        self.edits.push((number, Arc::new(edit)));
        self
    }

    /// Puts node `number` (1-based) in data center `datacenter`.
    pub fn datacenter(self, number: usize, datacenter: &str) -> Self {
        let dc = datacenter.to_owned();
        self.node_spec(number, move |s| s.datacenter.clone_from(&dc))
    }

    /// Nodes name this authenticator class in AUTHENTICATE (e.g.
    /// [`crate::frames::PASSWORD_AUTHENTICATOR`] or [`super::HELENUS_AUTHENTICATOR`]) and accept
    /// SASL PLAIN (checked against [`Self::credentials`] when set) and the SigV4 exchange (any
    /// well-formed answer) whatever the class.
    pub fn authenticator(mut self, class: &str) -> Self {
        self.authenticator = Some(class.to_owned());
        self
    }

    /// The user and password PLAIN must present; [`EmulatedCluster::config`] logs in with
    /// them. Turns on authentication with [`crate::frames::PASSWORD_AUTHENTICATOR`] unless
    /// [`Self::authenticator`] chose another class.
    pub fn credentials(mut self, username: &str, password: &str) -> Self {
        self.credentials = Some((username.to_owned(), password.to_owned()));
        if self.authenticator.is_none() {
            self.authenticator = Some(crate::frames::PASSWORD_AUTHENTICATOR.to_owned());
        }
        self
    }

    /// TLS on every node, with a certificate naming every node's IP address, signed by a CA
    /// the [`EmulatedCluster::config`] trusts.
    pub fn tls(mut self) -> Self {
        self.tls = Some(CertNames::Addresses);
        self
    }

    /// TLS with a certificate naming only `host_name` (e.g.
    /// `cassandra.us-east-1.amazonaws.com`), as Keyspaces' do: a peer dialed by IP verifies
    /// only against the contact point's name. KEYSPACES.md "Connections": "Amazon Trust
    /// Services certificates" for the endpoint name; the rule "a peer's certificate is
    /// verified against the contact point's host name (SNI)". [`EmulatedCluster::config`] dials
    /// node 1 by IP and verifies `host_name`.
    pub fn tls_host_name(mut self, host_name: &str) -> Self {
        self.tls = Some(CertNames::HostName(host_name.to_owned()));
        self
    }

    /// Rows of the user table `ks.t` (default 10): `k = 0, 1, …`, `v = "v<k>"`.
    pub fn table_rows(mut self, rows: usize) -> Self {
        self.table_rows = rows;
        self
    }

    /// Adds (or replaces) a keyspace of `system_schema.keyspaces` with this `replication` map,
    /// e.g. `[("class", "SimpleStrategy"), ("replication_factor", "3")]`. By default there are
    /// `system`, `system_schema` and `ks` (SimpleStrategy, RF 1).
    pub fn keyspace(mut self, name: &str, replication: &[(&str, &str)]) -> Self {
        self.keyspaces.retain(|(n, _)| n != name);
        self.keyspaces.push((
            name.to_owned(),
            replication
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ));
        self
    }

    /// Whether 127.0.0.1 is a trap rather than node 1: a listener that counts the connections
    /// made to it ([`EmulatedCluster::trap_connections`]) and closes them; the nodes then
    /// listen on 127.0.0.2, 127.0.0.3, …
    pub fn loopback_trap(mut self, on: bool) -> Self {
        self.trap = on;
        self
    }

    fn specs(&self) -> Vec<NodeSpec> {
        (1..=self.count)
            .map(|n| {
                let mut spec = NodeSpec::numbered(n, self.count, self.vnodes);
                if self.keyspaces_values {
                    "us-east-1".clone_into(&mut spec.datacenter);
                    "us-east-1".clone_into(&mut spec.rack);
                    "3.11.2".clone_into(&mut spec.release_version);
                }
                for (_, edit) in self.edits.iter().filter(|(i, _)| *i == n) {
                    edit(&mut spec);
                }
                spec
            })
            .collect()
    }

    fn all_keyspaces(&self) -> Vec<(String, Vec<(String, String)>)> {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let local = pairs(&[("class", "org.apache.cassandra.locator.LocalStrategy")]);
        let user = if self.keyspaces_values {
            pairs(&[("class", "SingleRegionStrategy")])
        } else {
            pairs(&[
                ("class", "org.apache.cassandra.locator.SimpleStrategy"),
                ("replication_factor", "1"),
            ])
        };
        let mut all = vec![
            ("system".to_owned(), local.clone()),
            ("system_schema".to_owned(), local),
            (USER_KEYSPACE.to_owned(), user),
        ];
        for (name, replication) in &self.keyspaces {
            all.retain(|(n, _)| n != name);
            all.push((name.clone(), replication.clone()));
        }
        all
    }

    /// Binds every node (and the trap) on one port and starts serving. Panics when no port
    /// works for all the addresses after many tries, or when [`Self::loopback_peers`] finds no
    /// non-loopback address.
    pub async fn start(self) -> EmulatedCluster {
        let first_loopback = if self.trap { 2 } else { 1 };
        let ips: Vec<IpAddr> = (0..self.count)
            .map(|i| {
                if i == 0 && self.quirks.loopback_contact_avoided {
                    return non_loopback_ip()
                        .unwrap_or_else(|| panic!("loopback_peers: no non-loopback address"));
                }
                let last = u8::try_from(i + first_loopback)
                    .unwrap_or_else(|_| panic!("at most 253 emulated nodes"));
                IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
            })
            .collect();
        let trap_ip = self.trap.then_some(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let all: Vec<IpAddr> = trap_ip.into_iter().chain(ips.iter().copied()).collect();
        let mut listeners = bind_all(&all).await;
        let port = listeners
            .first()
            .map_or(0, |l| l.local_addr().map_or(0, |a| a.port()));
        let trap_listener = if self.trap {
            Some(listeners.remove(0))
        } else {
            None
        };
        let specs = self.specs();
        let state = Arc::new(ClusterState {
            nodes: ips
                .iter()
                .zip(specs)
                .map(|(ip, spec)| NodeEntry {
                    addr: SocketAddr::new(*ip, port),
                    spec,
                })
                .collect(),
            keyspaces: self.all_keyspaces(),
            quirks: self.quirks.clone(),
            keyspaces_values: self.keyspaces_values,
            table_rows: self.table_rows,
            authenticator: self.authenticator.clone(),
            credentials: Mutex::new(self.credentials.clone()),
            tls: self.tls.as_ref().map(|names| tls::generate(names, &ips)),
        });
        let nodes: Vec<EmulatedNode> = listeners
            .into_iter()
            .enumerate()
            .map(|(i, listener)| {
                let node = EmulatedNode::new(i, SocketAddr::new(ips[i], port), state.clone());
                node.serve(listener);
                node
            })
            .collect();
        let trap = trap_listener.map(Trap::spawn);
        EmulatedCluster {
            state,
            nodes,
            port,
            trap,
            host_name: match self.tls {
                Some(CertNames::HostName(name)) => Some(name),
                _ => None,
            },
        }
    }
}

/// Binds every address on one port: the first on port 0, the others on the port it got; when
/// one is taken, all are released and another port is tried.
async fn bind_all(ips: &[IpAddr]) -> Vec<TcpListener> {
    'attempt: for _ in 0..BIND_ATTEMPTS {
        let mut listeners = Vec::with_capacity(ips.len());
        let mut port = 0;
        for ip in ips {
            match TcpListener::bind(SocketAddr::new(*ip, port)).await {
                Ok(l) => {
                    if port == 0 {
                        port = l.local_addr().map_or(0, |a| a.port());
                    }
                    listeners.push(l);
                }
                Err(e) if port != 0 && e.kind() == std::io::ErrorKind::AddrInUse => {
                    continue 'attempt;
                }
                Err(e) => panic!("emulated cluster: cannot listen on {ip}: {e}"),
            }
        }
        return listeners;
    }
    panic!("emulated cluster: no port free on all of {ips:?} after {BIND_ATTEMPTS} tries")
}
