//! The session's prepared statements, by (keyspace of the session when prepared, query text):
//! an unqualified table name means another table in another keyspace.

use std::collections::HashMap;
use std::sync::Mutex;

use cql4_conn::PreparedStatement;

type Key = (Option<String>, String);

#[derive(Debug)]
pub(crate) struct PreparedCache {
    map: Mutex<HashMap<Key, PreparedStatement>>,
    capacity: usize,
}

impl PreparedCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn get(&self, keyspace: Option<&str>, cql: &str) -> Option<PreparedStatement> {
        let map = self.map.lock().ok()?;
        map.get(&(keyspace.map(str::to_owned), cql.to_owned()))
            .cloned()
    }

    /// Caches a statement; a full cache starts over rather than grow without bound (as
    /// `Client`'s cache does).
    pub(crate) fn insert(&self, keyspace: Option<&str>, statement: PreparedStatement) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= self.capacity {
                map.clear();
            }
            map.insert(
                (keyspace.map(str::to_owned), statement.query().to_owned()),
                statement,
            );
        }
    }

    /// The statements prepared while the session was in `keyspace` (or in none, and fully
    /// qualified): what a connection in `keyspace` can prepare again.
    pub(crate) fn for_keyspace(&self, keyspace: Option<&str>) -> Vec<PreparedStatement> {
        self.map
            .lock()
            .map(|m| {
                m.iter()
                    .filter(|((ks, _), _)| ks.as_deref() == keyspace)
                    .map(|(_, s)| s.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}
