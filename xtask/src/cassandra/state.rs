//! `node.json`: what the harness records about the running node, and the environment the
//! integration tests read from it.
use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

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

/// What `node.json` records about the running node.
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
}

impl NodeState {
    pub(crate) fn print_summary(&self) {
        println!(
            "Cassandra {} ({} mode) on {}:{} — pid {}",
            self.version, self.mode, self.host, self.port, self.pid
        );
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
        println!("  log: {}", self.system_log.display());
    }

    /// The environment the integration tests read (docs/testing.md).
    pub(crate) fn test_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("CQL4_TEST_HOST", self.host.clone()),
            ("CQL4_TEST_PORT", self.port.to_string()),
            ("CQL4_TEST_NODE_LOG", self.system_log.display().to_string()),
        ];
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
}
