//! Credentials are resolved at every handshake (temporary credentials rotate): the provider is
//! asked once per connection, and a handshake the server rejects on reconnect is tried once
//! more at once with freshly resolved credentials before the pool backs off.

mod inproc_support;

use std::sync::Arc;
use std::time::Duration;

use cql4_conn::{Error, QueryOptions};
use cql4_frame::request::Request;
use cql4_frame::Opcode;
use cql4_session::{ReconnectPolicy, Session, SessionConfig};
use inproc_support::{plain_password, wait_for, CountingAuth, FakeNode, Reply};

/// Every password the node was sent, as (connection, password).
fn passwords(node: &FakeNode) -> Vec<(usize, String)> {
    node.server
        .requests_of(Opcode::AUTH_RESPONSE)
        .into_iter()
        .map(|r| match r.frame.message {
            Request::AuthResponse(a) => (
                r.connection,
                plain_password(a.token.as_deref().unwrap_or_default()),
            ),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn with_auth(node: &FakeNode, auth: &Arc<CountingAuth>) -> SessionConfig {
    let mut connection = node.config();
    connection.auth = Some(Arc::clone(auth) as Arc<dyn cql4_auth::AuthProvider>);
    SessionConfig::new(connection)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_resolves_credentials_once() {
    let node = FakeNode::start(1).await;
    node.require_auth(|_| true);
    let auth = Arc::new(CountingAuth::default());
    let mut config = with_auth(&node, &auth);
    config.single_host = true;
    config.connections_per_node = Some(3);
    let session = Session::connect(config).await.expect("connect");
    wait_for("three connections", Duration::from_secs(2), || {
        session.nodes()[0].connections == 3
    })
    .await;
    assert_eq!(auth.starts(), 3);
    assert_eq!(node.server.connections(), 3);

    // One connection dropped and replaced: one more handshake, one more resolution.
    node.on_query(|_, _| Reply::Close);
    let r = session
        .query("SELECT n FROM t", (), &QueryOptions::new())
        .await;
    assert!(matches!(r, Err(Error::Closed(_))), "{r:?}");
    wait_for("the connection replaced", Duration::from_secs(2), || {
        node.server.connections() == 4 && session.nodes()[0].connections == 3
    })
    .await;
    assert_eq!(auth.starts(), 4);
    let mut sent: Vec<String> = passwords(&node).into_iter().map(|(_, p)| p).collect();
    sent.sort();
    assert_eq!(sent, ["secret-1", "secret-2", "secret-3", "secret-4"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_connection_and_every_pool_resolve_their_own() {
    let a = FakeNode::start(1).await;
    let b = FakeNode::start(2).await;
    a.add_peer(&b);
    a.require_auth(|_| true);
    b.require_auth(|_| true);
    let auth = Arc::new(CountingAuth::default());
    let session = Session::connect(with_auth(&a, &auth))
        .await
        .expect("connect");
    wait_for("both nodes up", Duration::from_secs(2), || {
        session.nodes().iter().all(|n| n.up)
    })
    .await;
    // The control connection and A's pool on A, B's pool on B.
    assert_eq!(a.server.connections(), 2);
    assert_eq!(b.server.connections(), 1);
    assert_eq!(auth.starts(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_reconnect_is_retried_at_once_with_fresh_credentials() {
    let node = FakeNode::start(1).await;
    // Connection 1 (the first reconnection) is rejected, as when the credentials rotated
    // between two handshakes; connection 2 is accepted.
    node.require_auth(|connection| connection != 1);
    let auth = Arc::new(CountingAuth::default());
    let mut config = with_auth(&node, &auth);
    config.single_host = true;
    // Any backoff wait would be 2 s or more.
    config.reconnect = ReconnectPolicy::new(Duration::from_secs(4), Duration::from_secs(8));
    let session = Session::connect(config).await.expect("connect");
    node.on_query(|_, _| Reply::Close);
    let r = session
        .query("SELECT n FROM t", (), &QueryOptions::new())
        .await;
    assert!(matches!(r, Err(Error::Closed(_))), "{r:?}");
    // (Not `up` alone: it may still count the dropped connection for a moment.)
    wait_for("reconnected", Duration::from_millis(1500), || {
        node.arrivals().len() == 3 && session.nodes()[0].up
    })
    .await;
    let arrivals = node.arrivals();
    assert_eq!(arrivals.len(), 3);
    let gap = arrivals[2] - arrivals[1];
    assert!(
        gap < Duration::from_millis(700),
        "the retry came {gap:?} after the rejection"
    );
    assert_eq!(auth.starts(), 3);
    assert_eq!(
        passwords(&node),
        [
            (0, "secret-1".to_owned()),
            (1, "secret-2".to_owned()),
            (2, "secret-3".to_owned())
        ]
    );
    println!("retried {gap:?} after the rejection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_rejection_backs_off() {
    let node = FakeNode::start(1).await;
    node.require_auth(|connection| connection == 0 || connection >= 3);
    let auth = Arc::new(CountingAuth::default());
    let mut config = with_auth(&node, &auth);
    config.single_host = true;
    let base = Duration::from_secs(2);
    config.reconnect = ReconnectPolicy::new(base, Duration::from_secs(4));
    let session = Session::connect(config).await.expect("connect");
    node.on_query(|_, _| Reply::Close);
    let _ = session
        .query("SELECT n FROM t", (), &QueryOptions::new())
        .await;
    wait_for("reconnected", Duration::from_secs(5), || {
        node.arrivals().len() == 4 && session.nodes()[0].up
    })
    .await;
    let arrivals = node.arrivals();
    assert_eq!(
        arrivals.len(),
        4,
        "two rejected handshakes, then one accepted"
    );
    assert!(arrivals[2] - arrivals[1] < Duration::from_millis(700));
    let waited = arrivals[3] - arrivals[2];
    assert!(
        waited + Duration::from_millis(20) >= base / 2,
        "after two rejections the pool waited only {waited:?}"
    );
    assert_eq!(auth.starts(), 4);
}
