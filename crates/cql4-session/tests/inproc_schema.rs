//! `Session::schema` against a scripted node: read lazily from `system_schema` (tables the
//! server lacks, as Amazon Keyspaces lacks views and functions, read as empty); a DDL
//! statement waits for schema agreement (here `system.peers` after `peers_v2` is refused)
//! and makes the next `schema()` read its keyspace again, and only it; without agreement
//! the DDL still returns, after the configured timeout. With a control connection, a burst
//! of SCHEMA_CHANGE events causes one background read of the keyspace (two at most). A
//! `schema()` dropped mid-read leaves its keyspace stale for the next call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cql4_conn::QueryOptions;
use cql4_frame::event::{Event, SchemaChange, SchemaChangeTarget, SchemaChangeType};
use cql4_frame::request::Request;
use cql4_frame::response::ResultResponse;
use cql4_frame::{ColumnType, ErrorCode, ErrorDetails, Response};
use cql4_session::{Session, SessionConfig};
use cql4_testkit::frames;
use cql4_testkit::server::FakeServer;

const VERSION_A: [u8; 16] = [0xa; 16];
const VERSION_B: [u8; 16] = [0xb; 16];

/// How late a slow `system_schema` answer comes: far past the caller's timeout.
const SLOW_ANSWER: Duration = Duration::from_millis(500);

struct Node {
    /// Pushed to the connections that registered for events.
    events: tokio::sync::broadcast::Sender<Event>,
    /// The peer reports VERSION_B for this many more reads of system.peers.
    disagree_for: AtomicUsize,
    /// The table exists (after the CREATE TABLE).
    created: AtomicUsize,
    /// This many more `system_schema` reads are answered only after SLOW_ANSWER.
    slow_schema_reads: AtomicUsize,
    queries: Mutex<Vec<String>>,
}

impl Default for Node {
    fn default() -> Self {
        Self {
            events: tokio::sync::broadcast::channel(64).0,
            disagree_for: AtomicUsize::new(0),
            created: AtomicUsize::new(0),
            slow_schema_reads: AtomicUsize::new(0),
            queries: Mutex::new(Vec::new()),
        }
    }
}

fn text(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

fn map(entries: &[(&str, &str)]) -> Option<Vec<u8>> {
    let mut out = (entries.len() as i32).to_be_bytes().to_vec();
    for (k, v) in entries {
        for s in [k, v] {
            out.extend_from_slice(&(s.len() as i32).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
    Some(out)
}

fn invalid(what: &str) -> Response {
    frames::error(ErrorCode::INVALID, what, ErrorDetails::None)
}

fn answer(node: &Node, query: &str) -> Response {
    node.queries.lock().expect("lock").push(query.to_owned());
    let table = query
        .split("system_schema.")
        .nth(1)
        .map(|t| t.split_whitespace().next().unwrap_or(""));
    match (query, table) {
        (q, _) if q.starts_with("CREATE TABLE") => {
            node.created.store(1, Ordering::SeqCst);
            Response::Result(ResultResponse::SchemaChange(Box::new(SchemaChange {
                change: SchemaChangeType::Created,
                target: SchemaChangeTarget::Table {
                    keyspace: "ks".into(),
                    table: "t".into(),
                },
            })))
        }
        ("SELECT schema_version FROM system.local WHERE key = 'local'", _) => frames::rows(
            &[("schema_version", ColumnType::Uuid)],
            &[vec![Some(VERSION_A.to_vec())]],
            None,
        ),
        ("SELECT host_id, schema_version FROM system.peers_v2", _) => invalid("no peers_v2"),
        // The topology, for a session with a control connection: this node alone.
        ("SELECT * FROM system.local", _) => frames::rows(
            &[
                ("key", ColumnType::Text),
                ("host_id", ColumnType::Uuid),
                ("data_center", ColumnType::Text),
                ("rack", ColumnType::Text),
            ],
            &[vec![
                text("local"),
                Some(vec![1; 16]),
                text("dc1"),
                text("r1"),
            ]],
            None,
        ),
        ("SELECT * FROM system.peers_v2", _) => frames::rows(
            &[
                ("peer", ColumnType::Inet),
                ("native_address", ColumnType::Inet),
                ("native_port", ColumnType::Int),
                ("host_id", ColumnType::Uuid),
                ("data_center", ColumnType::Text),
                ("rack", ColumnType::Text),
            ],
            &[],
            None,
        ),
        (q, _)
            if q.starts_with("SELECT keyspace_name, replication FROM system_schema.keyspaces") =>
        {
            invalid("no replication map in this test")
        }
        ("SELECT host_id, schema_version FROM system.peers", _) => {
            let disagree = node
                .disagree_for
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let version = if disagree { VERSION_B } else { VERSION_A };
            frames::rows(
                &[
                    ("host_id", ColumnType::Uuid),
                    ("schema_version", ColumnType::Uuid),
                ],
                &[vec![Some(vec![7; 16]), Some(version.to_vec())]],
                None,
            )
        }
        ("SELECT cluster_name, partitioner FROM system.local WHERE key = 'local'", _) => {
            frames::rows(
                &[
                    ("cluster_name", ColumnType::Text),
                    ("partitioner", ColumnType::Text),
                ],
                &[vec![text("fake"), text("Murmur3Partitioner")]],
                None,
            )
        }
        (_, Some("keyspaces")) => frames::rows(
            &[
                ("keyspace_name", ColumnType::Text),
                ("durable_writes", ColumnType::Boolean),
                (
                    "replication",
                    ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text)),
                ),
            ],
            &[vec![
                text("ks"),
                Some(vec![1]),
                map(&[("class", "SimpleStrategy"), ("replication_factor", "1")]),
            ]],
            None,
        ),
        (_, Some("tables")) => {
            let rows = if node.created.load(Ordering::SeqCst) == 1 {
                vec![vec![text("ks"), text("t"), text("a comment")]]
            } else {
                vec![]
            };
            frames::rows(
                &[
                    ("keyspace_name", ColumnType::Text),
                    ("table_name", ColumnType::Text),
                    ("comment", ColumnType::Text),
                ],
                &rows,
                None,
            )
        }
        (_, Some("columns")) => {
            let rows = if node.created.load(Ordering::SeqCst) == 1 {
                vec![vec![
                    text("ks"),
                    text("t"),
                    text("k"),
                    text("partition_key"),
                    Some(0i32.to_be_bytes().to_vec()),
                    text("none"),
                    text("frozen<list<int>>"),
                ]]
            } else {
                vec![]
            };
            frames::rows(
                &[
                    ("keyspace_name", ColumnType::Text),
                    ("table_name", ColumnType::Text),
                    ("column_name", ColumnType::Text),
                    ("kind", ColumnType::Text),
                    ("position", ColumnType::Int),
                    ("clustering_order", ColumnType::Text),
                    ("type", ColumnType::Text),
                ],
                &rows,
                None,
            )
        }
        // As on Amazon Keyspaces: no such tables.
        (_, Some(t)) => invalid(&format!("unconfigured table {t}")),
        (q, None) => invalid(&format!("unexpected query {q}")),
    }
}

async fn start(node: Arc<Node>) -> FakeServer {
    FakeServer::each(move |mut peer| {
        let node = Arc::clone(&node);
        async move {
            peer.set_timeout(Duration::from_secs(600));
            peer.handshake().await;
            let mut events = None;
            loop {
                let request = tokio::select! {
                    r = peer.request() => r,
                    Some(e) = next_event(&mut events) => {
                        peer.respond(-1, frames::event(e)).await;
                        continue;
                    }
                };
                let Some(request) = request else {
                    return;
                };
                let stream = request.stream;
                let response = match request.message {
                    Request::Query(q) => {
                        let slow = q.query.starts_with("SELECT * FROM system_schema")
                            && node
                                .slow_schema_reads
                                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                                    n.checked_sub(1)
                                })
                                .is_ok();
                        if slow {
                            tokio::time::sleep(SLOW_ANSWER).await;
                        }
                        answer(&node, &q.query)
                    }
                    Request::Options => frames::supported(&[("CQL_VERSION", &["3.4.7"])]),
                    Request::Register(_) => {
                        events = Some(node.events.subscribe());
                        frames::ready()
                    }
                    other => panic!("unexpected request {other:?}"),
                };
                peer.respond(stream, response).await;
            }
        }
    })
    .await
}

/// The next event for a connection that registered; never for one that did not.
async fn next_event(events: &mut Option<tokio::sync::broadcast::Receiver<Event>>) -> Option<Event> {
    match events {
        Some(rx) => rx.recv().await.ok(),
        None => std::future::pending().await,
    }
}

fn config(server: &FakeServer, agreement: Duration) -> SessionConfig {
    let mut config = SessionConfig::new(server.config());
    config.single_host = true;
    config.schema_agreement_timeout = agreement;
    config
}

fn count(node: &Node, prefix: &str) -> usize {
    node.queries
        .lock()
        .expect("lock")
        .iter()
        .filter(|q| q.starts_with(prefix))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_waits_for_agreement_and_refreshes_its_keyspace() {
    let node = Arc::new(Node::default());
    let server = start(Arc::clone(&node)).await;
    let session = Session::connect(config(&server, Duration::from_secs(10)))
        .await
        .expect("connect");
    assert_eq!(
        count(&node, "SELECT * FROM system_schema"),
        0,
        "lazy: nothing read yet"
    );

    let schema = session.schema().await.expect("schema");
    let ks = schema.keyspace("ks").expect("ks");
    assert_eq!(ks.replication["class"], "SimpleStrategy");
    assert!(ks.tables.is_empty());
    assert!(
        ks.views.is_empty() && ks.functions.is_empty(),
        "missing tables read as empty"
    );
    assert_eq!(schema.cluster_name.as_deref(), Some("fake"));
    // Held: a second call reads nothing.
    let reads = count(&node, "SELECT * FROM system_schema");
    assert!(Arc::ptr_eq(
        &schema,
        &session.schema().await.expect("schema")
    ));
    assert_eq!(count(&node, "SELECT * FROM system_schema"), reads);

    node.disagree_for.store(2, Ordering::SeqCst);
    let started = Instant::now();
    let result = session
        .query(
            "CREATE TABLE ks.t (k frozen<list<int>> PRIMARY KEY)",
            (),
            &QueryOptions::new(),
        )
        .await
        .expect("DDL");
    assert!(matches!(result.result, ResultResponse::SchemaChange(_)));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        count(&node, "SELECT host_id, schema_version FROM system.peers_v2"),
        1,
        "v2 tried once"
    );
    assert_eq!(
        count(&node, "SELECT host_id, schema_version FROM system.peers")
            - count(&node, "SELECT host_id, schema_version FROM system.peers_v2"),
        3,
        "read until the peer agreed"
    );

    let schema = session.schema().await.expect("schema after DDL");
    let t = &schema.keyspace("ks").expect("ks").tables["t"];
    assert_eq!(t.columns[0].ty.to_string(), "frozen<list<int>>");
    assert_eq!(
        count(
            &node,
            "SELECT * FROM system_schema.tables WHERE keyspace_name = ?"
        ),
        1,
        "only the changed keyspace is read again"
    );
    assert_eq!(
        count(&node, "SELECT * FROM system_schema_mcs.tables"),
        1,
        "Amazon Keyspaces' own table is tried once, not on every read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_agreement_ddl_returns_after_the_timeout() {
    let node = Arc::new(Node::default());
    node.disagree_for.store(usize::MAX, Ordering::SeqCst);
    let server = start(Arc::clone(&node)).await;
    let session = Session::connect(config(&server, Duration::from_millis(500)))
        .await
        .expect("connect");
    let started = Instant::now();
    session
        .query(
            "CREATE TABLE ks.t (k int PRIMARY KEY)",
            (),
            &QueryOptions::new(),
        )
        .await
        .expect("the DDL succeeds even without agreement");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert!(!session
        .await_schema_agreement(Duration::from_millis(100))
        .await
        .expect("check"));
    node.disagree_for.store(0, Ordering::SeqCst);
    assert!(session
        .await_schema_agreement(Duration::from_millis(100))
        .await
        .expect("check"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_schema_events_causes_one_background_read_of_the_keyspace() {
    let node = Arc::new(Node::default());
    let server = start(Arc::clone(&node)).await;
    let mut config = SessionConfig::new(server.config());
    config.connections_per_node = Some(1);
    let session = Session::connect(config).await.expect("connect");
    let before = session.schema().await.expect("schema");
    assert!(before.keyspace("ks").expect("ks").tables.is_empty());
    let per_keyspace = "SELECT * FROM system_schema.tables WHERE keyspace_name = ?";
    assert_eq!(count(&node, per_keyspace), 0);

    // The table appears on the server, which says so five times in a row.
    node.created.store(1, Ordering::SeqCst);
    for _ in 0..5 {
        let change = SchemaChange {
            change: SchemaChangeType::Updated,
            target: SchemaChangeTarget::Table {
                keyspace: "ks".into(),
                table: "t".into(),
            },
        };
        node.events
            .send(Event::SchemaChange(change))
            .expect("the control connection registered");
    }
    let started = Instant::now();
    while count(&node, per_keyspace) == 0 && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Well past the debounce. The design coalesces a burst, not strictly into one read: an
    // event handled just after the scheduled refresh cleared its flag schedules another.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let reads = count(&node, per_keyspace);
    assert!(
        (1..=2).contains(&reads),
        "{reads} reads for a burst of five events"
    );
    let after = session.schema().await.expect("schema");
    assert!(after.keyspace("ks").expect("ks").tables.contains_key("t"));
    assert_eq!(
        count(&node, per_keyspace),
        reads,
        "schema() had nothing stale left to read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_read_dropped_midway_leaves_its_keyspace_stale() {
    let node = Arc::new(Node::default());
    let server = start(Arc::clone(&node)).await;
    let session = Session::connect(config(&server, Duration::ZERO))
        .await
        .expect("connect");
    let before = session.schema().await.expect("schema");
    assert!(before.keyspace("ks").expect("ks").tables.is_empty());
    session
        .query(
            "CREATE TABLE ks.t (k frozen<list<int>> PRIMARY KEY)",
            (),
            &QueryOptions::new(),
        )
        .await
        .expect("DDL");

    // The caller gives up while the keyspace is being read.
    node.slow_schema_reads.store(1, Ordering::SeqCst);
    let dropped = tokio::time::timeout(Duration::from_millis(100), session.schema()).await;
    assert!(dropped.is_err(), "the read outlasted the caller's timeout");

    let after = session.schema().await.expect("schema");
    assert!(
        after.keyspace("ks").expect("ks").tables.contains_key("t"),
        "the keyspace stayed stale and was read again"
    );
}
