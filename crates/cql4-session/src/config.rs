//! Session settings: the connection template ([`Config`]) plus contact points, pool sizing,
//! routing and reconnection. Every default is listed in `docs/limits.md` ("cql4-session").

use std::sync::Arc;
use std::time::Duration;

use cql4_conn::Config;

use crate::endpoint::is_keyspaces_host;
use crate::retry::{DefaultRetryPolicy, KeyspacesRetryPolicy, RetryPolicy};
use crate::speculative::SpeculativePolicy;
use crate::translator::AddressTranslator;

/// How a session finds the cluster and spreads requests over it.
///
/// ```
/// use cql4_conn::{Config, TlsConfig};
/// use cql4_session::SessionConfig;
///
/// let mut connection = Config::new("cassandra.us-east-1.amazonaws.com", 9142);
/// connection.tls = Some(TlsConfig::new());
/// let config = SessionConfig::new(connection);
/// // Amazon Keyspaces endpoints get a pool sized for thousands of requests per second.
/// assert_eq!(config.connections_per_node(), 3);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    /// TLS, authentication, timeouts and limits of every connection. Its `host` and `port` are
    /// the first contact point; every node is dialed at its own address with this `port`
    /// (unless `system.peers_v2` names another one).
    pub connection: Config,
    /// More contact points (`host` or `host:port`), tried in order after `connection.host`
    /// when it cannot be reached.
    pub contact_points: Vec<String>,
    /// The local data center: its nodes get the requests, other data centers only when none of
    /// its nodes is up. `None`: the data center of the first node the session connects to.
    pub local_datacenter: Option<String>,
    /// Connections opened to each node. `None`: 1 for Apache Cassandra, 3 for Amazon Keyspaces
    /// endpoints (host names `cassandra.<region>.amazonaws.com` or `….api.aws`, or
    /// [`SessionConfig::keyspaces`] set).
    pub connections_per_node: Option<usize>,
    /// The pool of a node grows up to this many connections when every connection is over one
    /// of its budgets. Default 8.
    pub max_connections_per_node: usize,
    /// Requests in flight on one connection before the pool grows. Default 1,024.
    pub max_in_flight_per_connection: usize,
    /// Requests per second on one connection before the pool grows. `None`: no rate budget for
    /// Apache Cassandra; 2,000 for Amazon Keyspaces, which serves at most 3,000 per second on
    /// one connection (AWS's own helpers throttle at 2,000).
    pub max_requests_per_second_per_connection: Option<u32>,
    /// Connections beyond `connections_per_node` that carried no request for this long are
    /// closed. Default 60 s.
    pub shrink_idle_after: Duration,
    /// Waits between reconnection attempts to a node.
    pub reconnect: ReconnectPolicy,
    /// The topology is read again this often, even without events (Amazon Keyspaces sends
    /// none). Default 60 s.
    pub refresh_interval: Duration,
    /// Treat the cluster as Amazon Keyspaces whatever its host name (pool defaults above).
    /// `None`: decided from the host name of the first contact point.
    pub keyspaces: Option<bool>,
    /// Use only the first contact point: no discovery, no control connection (the CLI runs on
    /// such a session, as cqlsh stays on one host). Default false.
    pub single_host: bool,
    /// Route prepared statements to a replica of their partition when the cluster has a token
    /// map. Default true.
    pub token_aware: bool,
    /// `USE` this keyspace on every connection, including those opened later.
    pub keyspace: Option<String>,
    /// Nodes the session connects to at most; further peer rows are ignored with a warning,
    /// so a server listing thousands of peers cannot make the client open thousands of
    /// connections. Default 1,024.
    pub max_nodes: usize,
    /// Maps each node's address (a contact point's, or the `rpc_address` its `system.local`
    /// or `system.peers_v2` row reports) to the address dialed, for nodes reachable only
    /// through NAT, port forwarding, VPC endpoints or a proxy. `None`: dial nodes at their
    /// own addresses. TLS names are unchanged by it: a certificate is verified against the
    /// name set on the template, else the contact point's host name, else the dialed IP.
    pub address_translator: Option<Arc<dyn AddressTranslator>>,
    /// Whether and where a failed attempt is tried again. `None`:
    /// [`KeyspacesRetryPolicy`] for Amazon Keyspaces endpoints ([`Self::is_keyspaces`]),
    /// [`DefaultRetryPolicy`] (Cassandra's semantics) otherwise. Whatever the policy, a
    /// request that is not idempotent is never retried once it may have been applied (see
    /// [`crate::retry`]).
    pub retry_policy: Option<Arc<dyn RetryPolicy>>,
    /// Extra attempts on other nodes for late idempotent requests. Default
    /// [`SpeculativePolicy::None`].
    pub speculative: SpeculativePolicy,
    /// After a DDL statement (a Schema_change result), how long `query`, `execute` and
    /// `batch` wait for every node up to report the same schema version before returning
    /// (a warning is logged when they do not); zero returns at once. Default 10 s, as the
    /// Java driver's.
    pub schema_agreement_timeout: Duration,
}

/// Exponential backoff with full jitter between reconnection attempts: the n-th wait is a
/// random duration in `[base·2ⁿ / 2, base·2ⁿ]`, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconnectPolicy {
    /// First wait. Default 100 ms.
    pub base: Duration,
    /// Longest wait. Default 30 s.
    pub max: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(100),
            max: Duration::from_secs(30),
        }
    }
}

impl ReconnectPolicy {
    /// A policy with these bounds.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }
}

impl SessionConfig {
    /// Defaults around a connection template whose host and port are the first contact point.
    pub fn new(connection: Config) -> Self {
        Self {
            connection,
            contact_points: Vec::new(),
            local_datacenter: None,
            connections_per_node: None,
            max_connections_per_node: 8,
            max_in_flight_per_connection: 1024,
            max_requests_per_second_per_connection: None,
            shrink_idle_after: Duration::from_secs(60),
            reconnect: ReconnectPolicy::default(),
            refresh_interval: Duration::from_secs(60),
            keyspaces: None,
            single_host: false,
            token_aware: true,
            keyspace: None,
            max_nodes: 1024,
            address_translator: None,
            retry_policy: None,
            speculative: SpeculativePolicy::None,
            schema_agreement_timeout: Duration::from_secs(10),
        }
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry_policy(mut self, policy: impl RetryPolicy + 'static) -> Self {
        self.retry_policy = Some(Arc::new(policy));
        self
    }

    /// Sets the speculative execution policy.
    #[must_use]
    pub fn with_speculative(mut self, policy: SpeculativePolicy) -> Self {
        self.speculative = policy;
        self
    }

    /// The retry policy after defaults.
    pub fn effective_retry_policy(&self) -> Arc<dyn RetryPolicy> {
        match &self.retry_policy {
            Some(p) => Arc::clone(p),
            None if self.is_keyspaces() => Arc::new(KeyspacesRetryPolicy::new()),
            None => Arc::new(DefaultRetryPolicy::new()),
        }
    }

    /// Adds a contact point (`host` or `host:port`).
    #[must_use]
    pub fn with_contact_point(mut self, contact: impl Into<String>) -> Self {
        self.contact_points.push(contact.into());
        self
    }

    /// Sets the local data center.
    #[must_use]
    pub fn with_local_datacenter(mut self, dc: impl Into<String>) -> Self {
        self.local_datacenter = Some(dc.into());
        self
    }

    /// Sets the address translator ([`SessionConfig::address_translator`]).
    #[must_use]
    pub fn with_address_translator(mut self, translator: Arc<dyn AddressTranslator>) -> Self {
        self.address_translator = Some(translator);
        self
    }

    /// Whether the pool defaults of Amazon Keyspaces apply.
    pub fn is_keyspaces(&self) -> bool {
        self.keyspaces
            .unwrap_or_else(|| is_keyspaces_host(&self.connection.host))
    }

    /// Connections per node after defaults.
    pub fn connections_per_node(&self) -> usize {
        self.connections_per_node
            .unwrap_or(if self.is_keyspaces() { 3 } else { 1 })
            .max(1)
    }

    /// The per-second budget of one connection after defaults.
    pub fn requests_per_second_budget(&self) -> Option<u32> {
        self.max_requests_per_second_per_connection
            .or(self.is_keyspaces().then_some(2000))
    }
}

impl From<Config> for SessionConfig {
    fn from(connection: Config) -> Self {
        Self::new(connection)
    }
}

impl From<&Config> for SessionConfig {
    fn from(connection: &Config) -> Self {
        Self::new(connection.clone())
    }
}

impl From<&Self> for SessionConfig {
    fn from(config: &Self) -> Self {
        config.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cassandra_defaults_to_one_connection_and_no_rate_budget() {
        let c = SessionConfig::new(Config::new("10.0.0.1", 9042));
        assert_eq!(c.connections_per_node(), 1);
        assert_eq!(c.requests_per_second_budget(), None);
    }

    #[test]
    fn keyspaces_hosts_get_several_connections_and_a_rate_budget() {
        for host in [
            "cassandra.us-east-1.amazonaws.com",
            "cassandra.eu-west-3.api.aws",
            "cassandra-fips.us-gov-west-1.amazonaws.com",
        ] {
            let c = SessionConfig::new(Config::new(host, 9142));
            assert_eq!(c.connections_per_node(), 3, "{host}");
            assert_eq!(c.requests_per_second_budget(), Some(2000), "{host}");
        }
    }

    #[test]
    fn keyspaces_endpoints_default_to_the_keyspaces_retry_policy() {
        let c = SessionConfig::new(Config::new("cassandra.us-east-1.amazonaws.com", 9142));
        let p = format!("{:?}", c.effective_retry_policy());
        assert!(p.starts_with("KeyspacesRetryPolicy"), "{p}");
        let c = SessionConfig::new(Config::new("10.0.0.1", 9042));
        let p = format!("{:?}", c.effective_retry_policy());
        assert!(p.starts_with("DefaultRetryPolicy"), "{p}");
        let c = c.with_retry_policy(crate::retry::NoRetryPolicy::new());
        let p = format!("{:?}", c.effective_retry_policy());
        assert!(p.starts_with("NoRetryPolicy"), "{p}");
        assert_eq!(c.speculative, SpeculativePolicy::None);
    }

    #[test]
    fn explicit_settings_win_over_the_host_name() {
        let mut c = SessionConfig::new(Config::new("cassandra.us-east-1.amazonaws.com", 9142));
        c.connections_per_node = Some(5);
        c.max_requests_per_second_per_connection = Some(100);
        assert_eq!(c.connections_per_node(), 5);
        assert_eq!(c.requests_per_second_budget(), Some(100));
        let mut c = SessionConfig::new(Config::new("127.0.0.1", 9142));
        c.keyspaces = Some(true);
        assert_eq!(c.connections_per_node(), 3);
        c.connections_per_node = Some(0);
        assert_eq!(c.connections_per_node(), 1, "at least one connection");
    }
}
