//! `Session::use_keyspace`: a USE the server refuses changes nothing and returns the server's
//! error; an accepted one reaches every pool connection, and a connection opened later starts
//! with it; a connection that refuses it after the first accepted it is replaced.

mod inproc_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cql4_conn::{Error, QueryOptions};
use cql4_frame::{ErrorCode, ErrorDetails};
use cql4_session::{Session, SessionConfig};
use cql4_testkit::frames;
use inproc_support::{default_reply, wait_for, FakeNode, Reply};

/// USE of a keyspace other than `good` or `ks` is refused, as for a keyspace that does not
/// exist; `SELECT drop` closes the connection.
fn keyspaces_good_and_ks(_: usize, q: &str) -> Reply {
    if q == "SELECT drop" {
        return Reply::Close;
    }
    match q.strip_prefix("USE ") {
        Some(ks) if ks != "\"good\"" && ks != "\"ks\"" => Reply::Now(frames::error(
            ErrorCode::INVALID,
            &format!("Keyspace '{}' does not exist", ks.trim_matches('"')),
            ErrorDetails::None,
        )),
        _ => default_reply(q),
    }
}

fn uses(node: &FakeNode, keyspace: &str) -> Vec<usize> {
    let use_ks = format!("USE \"{keyspace}\"");
    node.queries()
        .into_iter()
        .filter(|(_, q)| *q == use_ks)
        .map(|(c, _)| c)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_use_changes_nothing_and_later_connections_start_with_the_keyspace() {
    let node = FakeNode::start(1).await;
    node.on_query(keyspaces_good_and_ks);
    let mut config = SessionConfig::new(node.config());
    config.single_host = true;
    let session = Session::connect(config).await.expect("connect");
    session.use_keyspace("good").await.expect("USE good");

    let refused = session.use_keyspace("nope").await;
    let Err(Error::Server(e)) = refused else {
        panic!("expected the server's error, got {refused:?}");
    };
    assert_eq!(e.code, ErrorCode::INVALID);
    assert_eq!(e.message, "Keyspace 'nope' does not exist");

    // The connection is dropped; the one replacing it starts in `good`, not `nope`.
    let options = QueryOptions::new();
    let dropped = session.query("SELECT drop", (), &options).await;
    assert!(matches!(dropped, Err(Error::Closed(_))), "{dropped:?}");
    wait_for("reconnected", Duration::from_secs(2), || {
        node.server.connections() == 2 && session.nodes()[0].up
    })
    .await;
    session
        .query("SELECT n FROM t", (), &options)
        .await
        .expect("a query on the new connection");
    let on_new: Vec<String> = node
        .queries()
        .into_iter()
        .filter(|(c, _)| *c == 1)
        .map(|(_, q)| q)
        .collect();
    assert_eq!(on_new, ["USE \"good\"", "SELECT n FROM t"]);
    assert_eq!(uses(&node, "nope"), [0], "USE nope was tried once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_host_pool_applies_use_to_every_connection() {
    let node = FakeNode::start(1).await;
    node.on_query(keyspaces_good_and_ks);
    let mut config = SessionConfig::new(node.config());
    config.single_host = true;
    config.connections_per_node = Some(3);
    let session = Session::connect(config).await.expect("connect");
    wait_for("three connections", Duration::from_secs(2), || {
        session.nodes()[0].connections == 3
    })
    .await;
    session.use_keyspace("ks").await.expect("USE ks");
    let mut connections = uses(&node, "ks");
    connections.sort_unstable();
    assert_eq!(connections, [0, 1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_reaches_the_pools_of_every_node_and_their_new_connections() {
    let a = FakeNode::start(1).await;
    let b = FakeNode::start(2).await;
    a.add_peer(&b);
    a.on_query(keyspaces_good_and_ks);
    b.on_query(keyspaces_good_and_ks);
    let session = Session::connect(SessionConfig::new(a.config()))
        .await
        .expect("connect");
    wait_for("both nodes up", Duration::from_secs(2), || {
        session.nodes().iter().all(|n| n.up)
    })
    .await;
    session.use_keyspace("ks").await.expect("USE ks");
    // A's connections: 0 is the control connection, 1 the pool's; B's only one is the pool's.
    assert_eq!(uses(&a, "ks"), [1]);
    assert_eq!(uses(&b, "ks"), [0]);

    let refused = session.use_keyspace("nope").await;
    assert!(matches!(refused, Err(Error::Server(_))), "{refused:?}");
    assert_eq!(
        uses(&a, "nope").len() + uses(&b, "nope").len(),
        1,
        "a refused USE goes no further than its first connection"
    );

    // B's connection is dropped: its replacement starts in `ks`.
    let options = QueryOptions::new();
    b.on_query(|c, q| {
        if c == 0 && q == "SELECT n FROM t" {
            Reply::Close
        } else {
            keyspaces_good_and_ks(c, q)
        }
    });
    for _ in 0..2 {
        let _ = session.query("SELECT n FROM t", (), &options).await;
    }
    wait_for("B reconnected", Duration::from_secs(2), || {
        b.server.connections() == 2 && session.nodes().iter().all(|n| n.up)
    })
    .await;
    assert_eq!(uses(&b, "ks"), [0, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_where_use_fails_is_replaced_by_one_in_the_keyspace() {
    let node = FakeNode::start(1).await;
    // The second `USE "ks"` (on the session's second connection) is refused, as by a node
    // that has not yet seen the keyspace; the others are accepted.
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    node.on_query(move |c, q| {
        if q == "USE \"ks\"" && counter.fetch_add(1, Ordering::SeqCst) == 1 {
            return Reply::Now(frames::error(
                ErrorCode::INVALID,
                &format!("Keyspace 'ks' does not exist (connection {c})"),
                ErrorDetails::None,
            ));
        }
        keyspaces_good_and_ks(c, q)
    });
    let mut config = SessionConfig::new(node.config());
    config.single_host = true;
    config.connections_per_node = Some(2);
    let session = Session::connect(config).await.expect("connect");
    wait_for("two connections", Duration::from_secs(2), || {
        session.nodes()[0].connections == 2
    })
    .await;
    session
        .use_keyspace("ks")
        .await
        .expect("USE ks succeeds on the first connection");
    let refused_on = uses(&node, "ks")[1];
    // The refusing connection is closed and a third one opens, starting with USE.
    wait_for("the replacement", Duration::from_secs(2), || {
        node.server.connections() == 3 && session.nodes()[0].connections == 2
    })
    .await;
    wait_for(
        "the refusing connection closed",
        Duration::from_secs(2),
        || node.closed().iter().any(|(c, _)| *c == refused_on),
    )
    .await;
    let mut connections = uses(&node, "ks");
    connections.sort_unstable();
    assert_eq!(connections, [0, 1, 2]);
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    assert_eq!(
        node.queries()
            .iter()
            .find(|(c, _)| *c == 2)
            .map(|(_, q)| q.as_str()),
        Some("USE \"ks\""),
        "the replacement's first query"
    );
}
