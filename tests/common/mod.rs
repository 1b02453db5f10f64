//! Shared helpers of the `conn_*` integration tests: the node's settings from the environment
//! (exported by `cargo xtask test`), connections, unique keyspaces.
//!
//! A missing variable fails the test with a message naming `cargo xtask test`: these tests
//! never skip.
// Each test binary uses a different subset of these helpers, so `expect` would be unfulfilled
// in some of them: `allow` is the right tool here.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cql4::auth::{Credentials, PasswordAuthenticator, SigV4AuthProvider};
use cql4::{Client, Config, QueryOptions, TlsConfig};

/// The node's settings.
#[derive(Debug, Clone)]
pub struct Node {
    pub host: String,
    pub port: u16,
    pub ca: String,
    pub server_name: String,
    pub user: String,
    pub password: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub region: String,
    pub node_log: String,
}

fn var(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{name} is not set: run the integration tests with `cargo xtask test` (it starts the \
             local Cassandra node and exports CQL4_TEST_*), or export them by hand as \
             docs/testing.md describes"
        ),
    }
}

pub fn node() -> Node {
    Node {
        host: var("CQL4_TEST_HOST"),
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
pub async fn exec(client: &Client, cql: &str) -> cql4::QueryResult {
    client
        .query(cql, (), &QueryOptions::new())
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"))
}
