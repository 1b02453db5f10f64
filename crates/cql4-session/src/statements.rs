//! The session's prepared statements, by (keyspace of the session when prepared, query text):
//! an unqualified table name means another table in another keyspace.

use std::collections::HashMap;
use std::sync::Mutex;

use cql4_conn::PreparedStatement;

/// Keyspace ("" for none: a keyspace name is never empty) → query text → statement, so a
/// lookup borrows both and allocates nothing.
type ByKeyspace = HashMap<String, HashMap<String, PreparedStatement>>;

#[derive(Debug)]
pub(crate) struct PreparedCache {
    map: Mutex<(ByKeyspace, usize)>,
    capacity: usize,
}

impl PreparedCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new((HashMap::new(), 0)),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn get(&self, keyspace: Option<&str>, cql: &str) -> Option<PreparedStatement> {
        let map = self.map.lock().ok()?;
        map.0.get(keyspace.unwrap_or(""))?.get(cql).cloned()
    }

    /// Caches a statement; a full cache starts over rather than grow without bound (as
    /// `Client`'s cache does).
    pub(crate) fn insert(&self, keyspace: Option<&str>, statement: PreparedStatement) {
        if let Ok(mut guard) = self.map.lock() {
            let (map, len) = &mut *guard;
            if *len >= self.capacity {
                map.clear();
                *len = 0;
            }
            let previous = map
                .entry(keyspace.unwrap_or("").to_owned())
                .or_default()
                .insert(statement.query().to_owned(), statement);
            if previous.is_none() {
                *len += 1;
            }
        }
    }

    /// The statements prepared while the session was in `keyspace` (or in none, and fully
    /// qualified): what a connection in `keyspace` can prepare again.
    pub(crate) fn for_keyspace(&self, keyspace: Option<&str>) -> Vec<PreparedStatement> {
        self.map
            .lock()
            .ok()
            .and_then(|m| {
                m.0.get(keyspace.unwrap_or(""))
                    .map(|by_text| by_text.values().cloned().collect())
            })
            .unwrap_or_default()
    }
}
