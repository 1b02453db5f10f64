//! The test node of `cargo xtask test` (or `cargo xtask cassandra start`), read from the
//! `CQL4_TEST_*` variables the harness exports (docs/testing.md): its address, TLS and logins,
//! every node of a cluster, connection configs, and per-test keyspaces.
//!
//! A missing variable fails the test with a message naming `cargo xtask test`: integration
//! tests never skip.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cql4_auth::{Credentials, PasswordAuthenticator, SigV4AuthProvider};
use cql4_conn::{Client, Config, QueryOptions, QueryResult, TlsConfig};

/// The test node's settings (the first node of a cluster), and where the others are.
#[derive(Clone)]
pub struct Node {
    /// Address of the node the tests connect to (`CQL4_TEST_HOST`).
    pub host: String,
    /// Its native port (`CQL4_TEST_PORT`; every node of a cluster shares it).
    pub port: u16,
    /// PEM file of the test CA (`CQL4_TEST_CA`).
    pub ca: String,
    /// The name its certificate is verified against (`CQL4_TEST_SERVER_NAME`).
    pub server_name: String,
    /// SASL PLAIN user (`CQL4_TEST_USER`).
    pub user: String,
    /// SASL PLAIN password (`CQL4_TEST_PASSWORD`; hidden from `Debug`).
    pub password: String,
    /// SigV4 access key id (`CQL4_TEST_AWS_ACCESS_KEY_ID`).
    pub access_key_id: String,
    /// SigV4 secret key (`CQL4_TEST_AWS_SECRET_ACCESS_KEY`; hidden from `Debug`).
    pub secret_access_key: String,
    /// SigV4 session token (`CQL4_TEST_AWS_SESSION_TOKEN`; hidden from `Debug`).
    pub session_token: String,
    /// SigV4 region (`CQL4_TEST_AWS_REGION`).
    pub region: String,
    /// The node's `system.log` (`CQL4_TEST_NODE_LOG`).
    pub node_log: String,
    /// Every node's address, the first being [`Self::host`] (`CQL4_TEST_NODES`, exported for
    /// clusters; a single node when unset).
    pub nodes: Vec<String>,
    /// Each node's data center, in the order of [`Self::nodes`] (`CQL4_TEST_NODE_DCS`; empty
    /// when unset).
    pub datacenters: Vec<String>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("server_name", &self.server_name)
            .field("user", &self.user)
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("nodes", &self.nodes)
            .field("datacenters", &self.datacenters)
            .finish_non_exhaustive()
    }
}

fn var(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("{}", missing(name)))
}

/// Why `name` must be set, and by whom.
pub(crate) fn missing(name: &str) -> String {
    format!(
        "{name} is not set: run the integration tests with `cargo xtask test` (it starts the \
         local Cassandra node and exports CQL4_TEST_*), or export them by hand as \
         docs/testing.md describes"
    )
}

fn list(name: &str) -> Vec<String> {
    split_list(&std::env::var(name).unwrap_or_default())
}

/// The items of a comma-separated variable, trimmed, empty ones dropped.
pub(crate) fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The node from the environment; panics, naming the variable, when one is missing.
pub fn node() -> Node {
    let host = var("CQL4_TEST_HOST");
    let mut nodes = list("CQL4_TEST_NODES");
    if nodes.is_empty() {
        nodes.push(host.clone());
    }
    Node {
        host,
        port: var("CQL4_TEST_PORT")
            .parse()
            .expect("CQL4_TEST_PORT is a port number"),
        ca: var("CQL4_TEST_CA"),
        server_name: var("CQL4_TEST_SERVER_NAME"),
        user: var("CQL4_TEST_USER"),
        password: var("CQL4_TEST_PASSWORD"),
        access_key_id: var("CQL4_TEST_AWS_ACCESS_KEY_ID"),
        secret_access_key: var("CQL4_TEST_AWS_SECRET_ACCESS_KEY"),
        session_token: var("CQL4_TEST_AWS_SESSION_TOKEN"),
        region: var("CQL4_TEST_AWS_REGION"),
        node_log: var("CQL4_TEST_NODE_LOG"),
        nodes,
        datacenters: list("CQL4_TEST_NODE_DCS"),
    }
}

impl Node {
    /// TLS trusting the node's CA and verifying its name.
    pub fn tls(&self) -> TlsConfig {
        TlsConfig::new()
            .with_ca_file(&self.ca)
            .with_server_name(&self.server_name)
    }

    /// Config with TLS and no authentication.
    pub fn config(&self) -> Config {
        let mut c = Config::new(self.host.clone(), self.port);
        c.tls = Some(self.tls());
        c.connect_timeout = Duration::from_secs(20);
        c.request_timeout = Duration::from_secs(30);
        c
    }

    /// Config with TLS and the password login.
    pub fn password_config(&self) -> Config {
        let mut c = self.config();
        c.auth = Some(Arc::new(
            PasswordAuthenticator::new(self.user.clone(), self.password.clone())
                .expect("valid credentials"),
        ));
        c
    }

    /// Config with TLS and SigV4 (with the session token).
    pub fn sigv4_config(&self) -> Config {
        let mut c = self.config();
        let credentials = Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            Some(self.session_token.clone().into()),
            None,
        );
        c.auth = Some(Arc::new(SigV4AuthProvider::new(
            Arc::new(credentials),
            self.region.clone(),
        )));
        c
    }

    /// A password-authenticated client.
    pub async fn client(&self) -> Client {
        Client::connect(&self.password_config())
            .await
            .unwrap_or_else(|e| panic!("connecting to {}:{}: {e}", self.host, self.port))
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh keyspace name unique to this process and call.
pub fn unique_keyspace(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("cql4_{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// Creates a keyspace (replication factor 1) and makes it the client's keyspace.
pub async fn keyspace(client: &Client, prefix: &str) -> String {
    let ks = unique_keyspace(prefix);
    client
        .query(
            &format!(
                "CREATE KEYSPACE {ks} WITH replication = {{'class':'SimpleStrategy','replication_factor':1}}"
            ),
            (),
            &QueryOptions::new(),
        )
        .await
        .unwrap_or_else(|e| panic!("CREATE KEYSPACE {ks}: {e}"));
    client.use_keyspace(&ks).await.expect("USE keyspace");
    ks
}

/// Drops a keyspace (best effort, at the end of a test).
pub async fn drop_keyspace(client: &Client, ks: &str) {
    let _ = client
        .query(
            &format!("DROP KEYSPACE IF EXISTS {ks}"),
            (),
            &QueryOptions::new(),
        )
        .await;
}

/// Runs a statement, panicking with the CQL and error on failure.
pub async fn exec(client: &Client, cql: &str) -> QueryResult {
    client
        .query(cql, (), &QueryOptions::new())
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"))
}
