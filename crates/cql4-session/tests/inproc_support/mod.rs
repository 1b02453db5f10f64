//! A fake node for the in-process session tests: the kit's fake server behind a switch (serve,
//! close every connection at once, stay silent), answering the session's own requests
//! (`system.local`, `system.peers_v2`, `system_schema.keyspaces`, REGISTER) and the test's
//! queries, pushing events to the connections that registered, and remembering when each
//! connection came.
#![allow(dead_code, unreachable_pub)]

use std::future::pending;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cql4_auth::{AuthError, AuthProvider, BoxFuture, PasswordAuthenticator, SaslMechanism};
use cql4_conn::Config;
use cql4_frame::event::Event;
use cql4_frame::request::{Request, RequestFrame};
use cql4_frame::{ColumnType, ErrorCode, ErrorDetails, Opcode, Response};
use cql4_testkit::frames;
use cql4_testkit::server::{FakeServer, Peer};
use tokio::sync::broadcast;

/// What the node does with a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Handshake, then answer every request.
    Serve,
    /// Close it at once (the client's handshake fails): a node going up and down.
    CloseAtOnce,
    /// Never answer (the client's handshake times out): a hung node.
    Silent,
}

/// The answer to one of the test's queries.
pub enum Reply {
    /// At once.
    Now(Response),
    /// After a while (other requests of the connection wait too).
    After(Duration, Response),
    /// Close the connection instead of answering.
    Close,
}

/// The test's queries: (connection index, query text) → reply.
pub type Handler = Arc<dyn Fn(usize, &str) -> Reply + Send + Sync>;

/// Whether the handshake of connection `index` (authenticated nodes only) is accepted.
pub type AuthCheck = Arc<dyn Fn(usize) -> bool + Send + Sync>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct State {
    mode: Mutex<Mode>,
    host_id: [u8; 16],
    peers: Mutex<Vec<(SocketAddr, [u8; 16])>>,
    /// `None`: close the connection (a control connection lost).
    events: broadcast::Sender<Option<Event>>,
    handler: Mutex<Handler>,
    auth: Mutex<Option<AuthCheck>>,
    /// When each connection came, in order (index = the server's connection index).
    arrivals: Mutex<Vec<Instant>>,
    /// Connections the client closed, with when.
    closed: Mutex<Vec<(usize, Instant)>>,
}

/// One fake node. Dropping it stops the listener and closes every connection: from then on
/// connections to its address are refused.
pub struct FakeNode {
    pub server: FakeServer,
    state: Arc<State>,
}

/// One row, one int column `n`: the default answer to a query.
pub fn one_row(n: i32) -> Response {
    frames::rows(
        &[("n", ColumnType::Int)],
        &[vec![Some(n.to_be_bytes().to_vec())]],
        None,
    )
}

/// `USE x` and `USE "x"` → Set_keyspace `x`; anything else → [`one_row`] `1`.
pub fn default_reply(query: &str) -> Reply {
    match query.strip_prefix("USE ") {
        Some(ks) => Reply::Now(frames::set_keyspace(ks.trim().trim_matches('"'))),
        None => Reply::Now(one_row(1)),
    }
}

impl FakeNode {
    /// A serving node whose `host_id` ends in `id`.
    pub async fn start(id: u8) -> Self {
        let mut host_id = [0u8; 16];
        host_id[15] = id;
        host_id[0] = 0x42;
        let state = Arc::new(State {
            mode: Mutex::new(Mode::Serve),
            host_id,
            peers: Mutex::new(Vec::new()),
            events: broadcast::channel(16).0,
            handler: Mutex::new(Arc::new(|_, q: &str| default_reply(q))),
            auth: Mutex::new(None),
            arrivals: Mutex::new(Vec::new()),
            closed: Mutex::new(Vec::new()),
        });
        let script_state = Arc::clone(&state);
        let server = FakeServer::each(move |peer| serve(Arc::clone(&script_state), peer)).await;
        Self { server, state }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// A connection config for this node: plain TCP, no heartbeat, a short connect timeout.
    pub fn config(&self) -> Config {
        let mut config = self.server.config();
        config.connect_timeout = Duration::from_millis(500);
        config
    }

    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.state.mode) = mode;
    }

    /// Lists `other` in this node's `system.peers_v2`.
    pub fn add_peer(&self, other: &Self) {
        lock(&self.state.peers).push((other.addr(), other.state.host_id));
    }

    pub fn on_query(&self, handler: impl Fn(usize, &str) -> Reply + Send + Sync + 'static) {
        *lock(&self.state.handler) = Arc::new(handler);
    }

    /// Authenticates every connection (PasswordAuthenticator), accepting those `check` lets in.
    pub fn require_auth(&self, check: impl Fn(usize) -> bool + Send + Sync + 'static) {
        *lock(&self.state.auth) = Some(Arc::new(check));
    }

    /// Pushes an event to every connection that registered; returns how many there are.
    pub fn push(&self, event: Event) -> usize {
        self.state.events.send(Some(event)).unwrap_or(0)
    }

    /// Closes every connection that registered for events; returns how many there were.
    pub fn close_registered(&self) -> usize {
        self.state.events.send(None).unwrap_or(0)
    }

    /// Connections that registered for events and are still open.
    pub fn registered(&self) -> usize {
        self.state.events.receiver_count()
    }

    /// When each connection came.
    pub fn arrivals(&self) -> Vec<Instant> {
        lock(&self.state.arrivals).clone()
    }

    /// The connections the client closed, and when.
    pub fn closed(&self) -> Vec<(usize, Instant)> {
        lock(&self.state.closed).clone()
    }

    /// The test's queries (not the session's own), as (connection, text).
    pub fn queries(&self) -> Vec<(usize, String)> {
        self.server
            .requests_of(Opcode::QUERY)
            .into_iter()
            .filter_map(|r| match r.frame.message {
                Request::Query(q) if !is_system(&q.query) => Some((r.connection, q.query)),
                _ => None,
            })
            .collect()
    }
}

fn is_system(query: &str) -> bool {
    query.contains(" system.") || query.contains(" system_schema.")
}

enum Next {
    Request(Option<RequestFrame>),
    Event(Option<Event>),
}

async fn serve(state: Arc<State>, mut peer: Peer) {
    lock(&state.arrivals).push(Instant::now());
    // Idle connections are normal here (a pool waits for requests): only the client's close
    // ends a script.
    peer.set_timeout(Duration::from_secs(600));
    let mode = *lock(&state.mode);
    match mode {
        Mode::CloseAtOnce => return,
        Mode::Silent => {
            peer.drain().await;
            return;
        }
        Mode::Serve => {}
    }
    let auth = lock(&state.auth).clone();
    match auth {
        None => peer.handshake().await,
        Some(check) => {
            let accept = check(peer.index());
            if !authenticate(&mut peer, accept).await {
                return;
            }
        }
    }
    let mut events: Option<broadcast::Receiver<Option<Event>>> = None;
    loop {
        let next = tokio::select! {
            r = peer.request() => Next::Request(r),
            e = next_event(&mut events) => Next::Event(e),
        };
        let request = match next {
            Next::Event(Some(e)) => {
                peer.respond(-1, frames::event(e)).await;
                continue;
            }
            Next::Event(None) => return,
            Next::Request(None) => {
                lock(&state.closed).push((peer.index(), Instant::now()));
                return;
            }
            Next::Request(Some(r)) => r,
        };
        let stream = request.stream;
        match request.message {
            Request::Register(_) => {
                events = Some(state.events.subscribe());
                peer.respond(stream, frames::ready()).await;
            }
            Request::Options => {
                peer.respond(stream, frames::supported(&[("CQL_VERSION", &["3.4.7"])]))
                    .await;
            }
            Request::Query(q) => {
                if let Some(answer) = system_answer(&state, &q.query, peer.index()) {
                    peer.respond(stream, answer).await;
                    continue;
                }
                let handler = lock(&state.handler).clone();
                match handler(peer.index(), &q.query) {
                    Reply::Now(r) => peer.respond(stream, r).await,
                    Reply::After(d, r) => {
                        tokio::time::sleep(d).await;
                        peer.respond(stream, r).await;
                    }
                    Reply::Close => return,
                }
            }
            other => panic!("the fake node does not serve {other:?}"),
        }
    }
}

async fn next_event(events: &mut Option<broadcast::Receiver<Option<Event>>>) -> Option<Event> {
    let Some(rx) = events else {
        return pending().await;
    };
    loop {
        match rx.recv().await {
            Ok(e) => return e,
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return pending().await,
        }
    }
}

/// OPTIONS → SUPPORTED, STARTUP → AUTHENTICATE, AUTH_RESPONSE → AUTH_SUCCESS or, when
/// `accept` is false, ERROR Bad credentials (and the connection ends).
async fn authenticate(peer: &mut Peer, accept: bool) -> bool {
    let s = peer.expect(Opcode::OPTIONS).await;
    peer.respond(s, frames::supported(&[("CQL_VERSION", &["3.4.7"])]))
        .await;
    let s = peer.expect(Opcode::STARTUP).await;
    peer.respond(s, frames::authenticate(frames::PASSWORD_AUTHENTICATOR))
        .await;
    let s = peer.expect(Opcode::AUTH_RESPONSE).await;
    if accept {
        peer.respond(s, frames::auth_success(None)).await;
    } else {
        let e = frames::error(
            ErrorCode::BAD_CREDENTIALS,
            "Provided username user and/or password are incorrect",
            ErrorDetails::None,
        );
        peer.respond(s, e).await;
    }
    accept
}

fn system_answer(state: &State, query: &str, _connection: usize) -> Option<Response> {
    let text = |s: &str| Some(s.as_bytes().to_vec());
    let inet = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => Some(v4.octets().to_vec()),
        IpAddr::V6(v6) => Some(v6.octets().to_vec()),
    };
    match query {
        "SELECT * FROM system.local" => Some(frames::rows(
            &[
                ("key", ColumnType::Text),
                ("host_id", ColumnType::Uuid),
                ("data_center", ColumnType::Text),
                ("rack", ColumnType::Text),
            ],
            &[vec![
                text("local"),
                Some(state.host_id.to_vec()),
                text("dc1"),
                text("r1"),
            ]],
            None,
        )),
        "SELECT * FROM system.peers_v2" => {
            let rows: Vec<Vec<Option<Vec<u8>>>> = lock(&state.peers)
                .iter()
                .map(|(addr, host_id)| {
                    vec![
                        inet(addr.ip()),
                        inet(addr.ip()),
                        Some(i32::from(addr.port()).to_be_bytes().to_vec()),
                        Some(host_id.to_vec()),
                        text("dc1"),
                        text("r1"),
                    ]
                })
                .collect();
            Some(frames::rows(
                &[
                    ("peer", ColumnType::Inet),
                    ("native_address", ColumnType::Inet),
                    ("native_port", ColumnType::Int),
                    ("host_id", ColumnType::Uuid),
                    ("data_center", ColumnType::Text),
                    ("rack", ColumnType::Text),
                ],
                &rows,
                None,
            ))
        }
        // No replication read: no token map, round robin (what these tests need).
        q if q.starts_with("SELECT keyspace_name, replication FROM system_schema.keyspaces") => {
            Some(frames::error(
                ErrorCode::INVALID,
                "unconfigured table keyspaces",
                ErrorDetails::None,
            ))
        }
        q if is_system(q) => panic!("the fake node does not know {q:?}"),
        _ => None,
    }
}

/// Waits until `condition` holds, checking every 5 ms; panics after `within`.
pub async fn wait_for(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A SASL PLAIN provider that resolves its credentials at every `start`, as a provider of
/// rotating temporary credentials does: the n-th handshake (from 1) sends `secret-n`.
#[derive(Debug, Default)]
pub struct CountingAuth {
    starts: AtomicU64,
}

impl CountingAuth {
    /// How many handshakes asked for credentials.
    pub fn starts(&self) -> u64 {
        self.starts.load(Ordering::SeqCst)
    }
}

impl AuthProvider for CountingAuth {
    fn start<'a>(
        &'a self,
        authenticator_class: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn SaslMechanism>, AuthError>> {
        let n = self.starts.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move {
            let resolved = PasswordAuthenticator::new("user", format!("secret-{n}"))?;
            resolved.start(authenticator_class).await
        })
    }
}

/// The password in a SASL PLAIN token (`\0user\0password`).
pub fn plain_password(token: &[u8]) -> String {
    let text = String::from_utf8_lossy(token);
    text.rsplit('\0').next().unwrap_or_default().to_owned()
}
