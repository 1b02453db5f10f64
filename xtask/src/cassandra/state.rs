//! `node.json`: what the harness records about the running node, and the environment the
//! integration tests read from it.
use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use crate::layout::NodeDirs;

use serde::{Deserialize, Serialize};

use super::Mode;
use crate::layout::Layout;
use crate::util::{random_string, write_private, Context, Result, ALNUM, BASE64ISH, UPPER_DIGITS};

/// Service-specific-credential style user name (`<iam user>-at-<account id>`).
pub(super) const TEST_USER: &str = "cql4-at-123456789012";
pub(super) const TEST_REGION: &str = "us-east-1";

/// TLS coordinates of a keyspaces-mode node.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct TlsInfo {
    pub(crate) ca: PathBuf,
    pub(crate) server_name: String,
}

/// Generated credentials of a keyspaces-mode node. No Debug: these must not reach logs.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Credentials {
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: String,
    pub(crate) region: String,
}

/// One node of what runs: the single node, or one node of a cluster.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct NodeInfo {
    /// 1-based, as in `cargo xtask cassandra kill N`.
    pub(crate) n: usize,
    pub(crate) address: Ipv4Addr,
    /// `datacenter1` for the single node (SimpleSnitch), `dc1`/`dc2` in a cluster.
    pub(crate) dc: String,
    /// The JVM's PID when this harness last started it (it may have been killed since).
    pub(crate) pid: u32,
    pub(crate) storage_port: u16,
    /// Holds the node's conf/, data/ and logs/.
    pub(crate) dir: PathBuf,
    pub(crate) system_log: PathBuf,
}

impl NodeInfo {
    pub(crate) fn dirs(&self) -> NodeDirs {
        NodeDirs {
            root: self.dir.clone(),
        }
    }
}

/// What `node.json` records about the running node or cluster. The top-level `pid`, `host` and
/// `system_log` are node 1's (what single-node consumers read); `nodes` lists every node.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct NodeState {
    pub(crate) pid: u32,
    pub(crate) mode: Mode,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) version: String,
    pub(crate) system_log: PathBuf,
    pub(crate) started_unix: u64,
    pub(crate) tls: Option<TlsInfo>,
    pub(crate) credentials: Option<Credentials>,
    /// Every node, node 1 first (one entry for the single node).
    #[serde(default)]
    pub(crate) nodes: Vec<NodeInfo>,
}

impl NodeState {
    pub(crate) fn print_summary(&self) {
        if self.is_cluster() {
            println!(
                "Cassandra {} ({} mode), {}-node cluster, native port {} on every node:",
                self.version,
                self.mode,
                self.nodes.len(),
                self.port
            );
            for n in &self.nodes {
                println!(
                    "  node {}: {} {} pid {} — log {}",
                    n.n,
                    n.address,
                    n.dc,
                    n.pid,
                    n.system_log.display()
                );
            }
        } else {
            println!(
                "Cassandra {} ({} mode) on {}:{} — pid {}",
                self.version, self.mode, self.host, self.port, self.pid
            );
        }
        if let Some(tls) = &self.tls {
            println!(
                "  TLS required; CA {} (server name {})",
                tls.ca.display(),
                tls.server_name
            );
        }
        if let Some(c) = &self.credentials {
            println!(
                "  logins: SASL PLAIN user {} / SigV4 access key {} region {} (secrets in target/cassandra/node.json)",
                c.user, c.access_key_id, c.region
            );
        }
        if !self.is_cluster() {
            println!("  log: {}", self.system_log.display());
        }
    }

    /// The environment the integration tests read (docs/testing.md).
    pub(crate) fn test_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("CQL4_TEST_HOST", self.host.clone()),
            ("CQL4_TEST_PORT", self.port.to_string()),
            ("CQL4_TEST_NODE_LOG", self.system_log.display().to_string()),
        ];
        if !self.nodes.is_empty() {
            let list =
                |f: fn(&NodeInfo) -> String| self.nodes.iter().map(f).collect::<Vec<_>>().join(",");
            env.push(("CQL4_TEST_NODES", list(|n| n.address.to_string())));
            env.push(("CQL4_TEST_NODE_DCS", list(|n| n.dc.clone())));
            env.extend(
                self.nodes
                    .first()
                    .map(|n| ("CQL4_TEST_LOCAL_DC", n.dc.clone())),
            );
        }
        if let Some(tls) = &self.tls {
            env.push(("CQL4_TEST_CA", tls.ca.display().to_string()));
            env.push(("CQL4_TEST_SERVER_NAME", tls.server_name.clone()));
        }
        if let Some(c) = &self.credentials {
            env.extend([
                ("CQL4_TEST_USER", c.user.clone()),
                ("CQL4_TEST_PASSWORD", c.password.clone()),
                ("CQL4_TEST_AWS_ACCESS_KEY_ID", c.access_key_id.clone()),
                (
                    "CQL4_TEST_AWS_SECRET_ACCESS_KEY",
                    c.secret_access_key.clone(),
                ),
                ("CQL4_TEST_AWS_SESSION_TOKEN", c.session_token.clone()),
                ("CQL4_TEST_AWS_REGION", c.region.clone()),
            ]);
        }
        env
    }

    pub(super) fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The native-protocol address of `node`.
    pub(super) fn addr_of(&self, node: &NodeInfo) -> SocketAddr {
        SocketAddr::from((node.address, self.port))
    }

    /// Whether this describes a cluster (`start --nodes N`, N > 1).
    pub(crate) fn is_cluster(&self) -> bool {
        self.nodes.len() > 1
    }

    /// Node `n` (1-based).
    pub(crate) fn node(&self, n: usize) -> Result<&NodeInfo> {
        self.nodes.iter().find(|node| node.n == n).ok_or_else(|| {
            format!(
                "no node {n}: the running {} has node(s) 1 to {}",
                if self.is_cluster() {
                    "cluster"
                } else {
                    "single node"
                },
                self.nodes.len().max(1)
            )
        })
    }
}

/// Reads `node.json`, if present and parseable.
pub(crate) fn read_state(layout: &Layout) -> Option<NodeState> {
    let text = fs::read_to_string(layout.state_file()).ok()?;
    serde_json::from_str(&text).ok()
}

pub(super) fn write_state(layout: &Layout, state: &NodeState) -> Result<()> {
    let json = serde_json::to_string_pretty(state).context(|| "serialize node.json".into())?;
    write_private(&layout.state_file(), json.as_bytes())
}

pub(super) fn remove_state(layout: &Layout) {
    // Absent is fine; anything else will surface on the next write.
    let _ = fs::remove_file(layout.state_file());
    let _ = fs::remove_file(layout.pid_file());
}

pub(super) fn new_credentials() -> Result<Credentials> {
    Ok(Credentials {
        user: TEST_USER.into(),
        password: random_string(44, ALNUM)?,
        // ASIA…: the prefix AWS uses for temporary (session-token) access keys.
        access_key_id: format!("ASIA{}", random_string(16, UPPER_DIGITS)?),
        secret_access_key: random_string(40, BASE64ISH)?,
        session_token: format!("IQoJb3JpZ2luX2Vj{}", random_string(300, BASE64ISH)?),
        region: TEST_REGION.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassandra::HOST;

    #[test]
    fn test_env_has_every_variable_in_keyspaces_mode() {
        let state = NodeState {
            pid: 1,
            mode: Mode::Keyspaces,
            host: HOST.into(),
            port: 9142,
            version: "5.0.8".into(),
            system_log: "/l".into(),
            started_unix: 0,
            tls: Some(TlsInfo {
                ca: "/ca.pem".into(),
                server_name: "localhost".into(),
            }),
            credentials: Some(new_credentials().unwrap()),
            nodes: Vec::new(),
        };
        let names: Vec<&str> = state.test_env().iter().map(|(k, _)| *k).collect();
        for name in [
            "CQL4_TEST_HOST",
            "CQL4_TEST_PORT",
            "CQL4_TEST_CA",
            "CQL4_TEST_SERVER_NAME",
            "CQL4_TEST_USER",
            "CQL4_TEST_PASSWORD",
            "CQL4_TEST_AWS_ACCESS_KEY_ID",
            "CQL4_TEST_AWS_SECRET_ACCESS_KEY",
            "CQL4_TEST_AWS_SESSION_TOKEN",
            "CQL4_TEST_AWS_REGION",
            "CQL4_TEST_NODE_LOG",
        ] {
            assert!(names.contains(&name), "{name} missing");
        }
    }

    #[test]
    fn test_env_lists_every_node_of_a_cluster_in_order() {
        let node = |n: usize, dc: &str| NodeInfo {
            n,
            address: Ipv4Addr::new(127, 0, 0, u8::try_from(n).unwrap()),
            dc: dc.into(),
            pid: 1,
            storage_port: 7000,
            dir: "/d".into(),
            system_log: "/l".into(),
        };
        let state = NodeState {
            pid: 1,
            mode: Mode::Plain,
            host: HOST.into(),
            port: 9042,
            version: "5.0.8".into(),
            system_log: "/l".into(),
            started_unix: 0,
            tls: None,
            credentials: None,
            nodes: vec![node(1, "dc1"), node(2, "dc1"), node(3, "dc2")],
        };
        let env = state.test_env();
        let get = |k: &str| {
            env.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            get("CQL4_TEST_NODES"),
            Some("127.0.0.1,127.0.0.2,127.0.0.3")
        );
        assert_eq!(get("CQL4_TEST_NODE_DCS"), Some("dc1,dc1,dc2"));
        assert_eq!(get("CQL4_TEST_LOCAL_DC"), Some("dc1"));
        assert_eq!(get("CQL4_TEST_PORT"), Some("9042"));
        assert!(state.node(3).is_ok());
        assert!(state.node(4).is_err());
    }

    #[test]
    fn node_json_without_nodes_still_reads() {
        // node.json written before clusters existed (a node started by an older xtask).
        let json = r#"{"pid":7,"mode":"plain","host":"127.0.0.1","port":9042,"version":"5.0.8",
            "system_log":"/l","started_unix":0,"tls":null,"credentials":null}"#;
        let state: NodeState = serde_json::from_str(json).unwrap();
        assert!(state.nodes.is_empty());
        assert!(!state.is_cluster());
    }
}
