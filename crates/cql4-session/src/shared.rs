//! What every pool of a session shares: the settings after defaults, the session's keyspace,
//! a clock and random numbers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::backoff::Rng;
use crate::config::{ReconnectPolicy, SessionConfig};
use crate::load::Budget;
use crate::retry::RetryPolicy;
use crate::speculative::SpeculativePolicy;
use crate::statements::PreparedCache;
use crate::translator::AddressTranslator;

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) core_connections: usize,
    pub(crate) max_connections: usize,
    pub(crate) budget: Budget,
    pub(crate) shrink_idle_after: Duration,
    pub(crate) reconnect: ReconnectPolicy,
    /// The keyspace of `USE`: applied to every connection, including later ones.
    keyspace: RwLock<Option<String>>,
    /// Incremented by every `USE`: a connection opened under an older keyspace is not added.
    keyspace_generation: AtomicU64,
    /// Prepared statements, prepared again on a node that comes back.
    pub(crate) prepared: PreparedCache,
    /// Where each node is dialed ([`SessionConfig::address_translator`]).
    pub(crate) translator: Option<Arc<dyn AddressTranslator>>,
    origin: Instant,
    rng: Rng,
    /// The retry policy after defaults.
    pub(crate) retry: Arc<dyn RetryPolicy>,
    pub(crate) speculative: SpeculativePolicy,
}

impl Shared {
    pub(crate) fn new(config: &SessionConfig) -> Self {
        let core = config.connections_per_node();
        Self {
            core_connections: core,
            max_connections: config.max_connections_per_node.max(core),
            budget: Budget {
                in_flight: config.max_in_flight_per_connection.max(1),
                per_second: config.requests_per_second_budget(),
            },
            shrink_idle_after: config.shrink_idle_after,
            reconnect: config.reconnect,
            keyspace: RwLock::new(config.keyspace.clone()),
            keyspace_generation: AtomicU64::new(0),
            prepared: PreparedCache::new(config.connection.prepared_cache_size),
            translator: config.address_translator.clone(),
            origin: Instant::now(),
            rng: Rng::new(),
            retry: config.effective_retry_policy(),
            speculative: config.speculative,
        }
    }

    /// Milliseconds since the session started.
    pub(crate) fn now_ms(&self) -> u64 {
        self.ms_at(Instant::now())
    }

    /// `at` in milliseconds since the session started (for a caller that has read the clock
    /// already: one read per request).
    pub(crate) fn ms_at(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_millis()).unwrap_or(u64::MAX)
    }

    /// The address translator, if any.
    pub(crate) fn translator(&self) -> Option<&dyn AddressTranslator> {
        self.translator.as_deref()
    }

    pub(crate) fn random(&self) -> u64 {
        self.rng.next()
    }

    pub(crate) fn keyspace(&self) -> Option<String> {
        self.keyspace.read().ok().and_then(|k| k.clone())
    }

    /// The keyspace and its generation, read together.
    pub(crate) fn keyspace_with_generation(&self) -> (Option<String>, u64) {
        let k = self.keyspace.read().ok().and_then(|k| k.clone());
        (k, self.keyspace_generation.load(Ordering::SeqCst))
    }

    pub(crate) fn keyspace_generation(&self) -> u64 {
        self.keyspace_generation.load(Ordering::SeqCst)
    }

    pub(crate) fn set_keyspace(&self, keyspace: &str) {
        if let Ok(mut k) = self.keyspace.write() {
            *k = Some(keyspace.to_owned());
            self.keyspace_generation.fetch_add(1, Ordering::SeqCst);
        }
    }
}
