//! Prepared statements: the id and metadata of a PREPARE, refreshed when the server forgets
//! them (UNPREPARED).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use cql4_frame::response::Prepared;
use cql4_frame::rows::{PreparedMetadata, ResultMetadata};

/// A statement prepared on the connection (native_protocol_v4.spec §4.2.5.4). Cheap to clone;
/// clones share the state, so a re-prepare after UNPREPARED updates every holder.
///
/// Values are bound when it is executed ([`Client::execute`](crate::Client::execute)): any
/// [`SerializeRow`](cql4_frame::SerializeRow), each value checked against its marker's type
/// and written straight into the EXECUTE frame.
#[derive(Clone)]
pub struct PreparedStatement {
    inner: Arc<Inner>,
}

struct Inner {
    query: String,
    state: RwLock<Arc<State>>,
    idempotent: AtomicBool,
}

/// One PREPARE's answer.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) id: Bytes,
    pub(crate) metadata: Arc<PreparedMetadata>,
    /// `Some` when the statement returns columns: EXECUTE then skips the metadata and decodes
    /// with this one.
    pub(crate) result_metadata: Option<Arc<ResultMetadata>>,
}

impl State {
    fn from_prepared(p: Prepared) -> Self {
        let result_metadata = (!p.result_metadata.no_metadata()
            && !p.result_metadata.columns.is_empty())
        .then(|| Arc::new(p.result_metadata));
        Self {
            id: p.id,
            metadata: Arc::new(p.metadata),
            result_metadata,
        }
    }
}

impl std::fmt::Debug for PreparedStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedStatement")
            .field("query", &self.inner.query)
            .field("state", &self.state())
            .field("idempotent", &self.is_idempotent())
            .finish()
    }
}

impl PreparedStatement {
    pub(crate) fn new(query: String, prepared: Prepared) -> Self {
        Self {
            inner: Arc::new(Inner {
                query,
                state: RwLock::new(Arc::new(State::from_prepared(prepared))),
                idempotent: AtomicBool::new(false),
            }),
        }
    }

    pub(crate) fn state(&self) -> Arc<State> {
        match self.inner.state.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn update(&self, prepared: Prepared) {
        let new = Arc::new(State::from_prepared(prepared));
        match self.inner.state.write() {
            Ok(mut s) => *s = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }

    /// Sets the statement's default idempotence, used when [`crate::QueryOptions::idempotent`]
    /// is `None`: true lets a session retry it after its bytes may have reached a server and
    /// run it speculatively. Clones share it (as a session's prepared cache hands out clones,
    /// setting it on one sets it for every later `prepare` of the same text).
    pub fn set_idempotent(&self, idempotent: bool) {
        self.inner.idempotent.store(idempotent, Ordering::Relaxed);
    }

    /// The statement's default idempotence: false unless [`Self::set_idempotent`] said so.
    pub fn is_idempotent(&self) -> bool {
        self.inner.idempotent.load(Ordering::Relaxed)
    }

    /// The CQL text.
    pub fn query(&self) -> &str {
        &self.inner.query
    }

    /// The prepared id.
    pub fn id(&self) -> Bytes {
        self.state().id.clone()
    }

    /// The bind markers (names, types, partition key indexes).
    pub fn bind_metadata(&self) -> Arc<PreparedMetadata> {
        self.state().metadata.clone()
    }

    /// The columns an EXECUTE returns; `None` for statements without rows.
    pub fn result_metadata(&self) -> Option<Arc<ResultMetadata>> {
        self.state().result_metadata.clone()
    }
}
