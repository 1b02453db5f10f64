//! The session on the three-node cluster of `cargo xtask test` (one data center, keyspaces
//! mode: TLS and PasswordAuthenticator): discovery, token-aware routing, pool growth and
//! shrinking, `USE` on every connection.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cql4_conn::QueryOptions;
use cql4_frame::value::CqlValue;
use cql4_frame::Consistency;
use cql4_session::Session;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_from_one_contact_point_finds_every_node() {
    let expected = common::node_addresses();
    let started = Instant::now();
    let session = Session::connect(common::config()).await.expect("session");
    let first = started.elapsed();
    common::wait_up(&session, expected.len(), Duration::from_secs(20)).await;
    eprintln!(
        "session on {} nodes: first request possible after {first:?}, every node up after {:?}",
        expected.len(),
        started.elapsed()
    );
    let nodes = session.nodes();
    let found: HashSet<String> = nodes.iter().map(|n| n.address.ip().to_string()).collect();
    let expected: HashSet<String> = expected.into_iter().collect();
    assert_eq!(found, expected, "{nodes:#?}");
    for n in &nodes {
        assert!(n.host_id.is_some(), "{n:?}");
        assert!(n.datacenter.is_some() && n.rack.is_some(), "{n:?}");
        assert!(!n.tokens.is_empty(), "{n:?}");
        assert_eq!(
            n.connections, 1,
            "one connection per node by default: {n:?}"
        );
    }
    assert!(session.has_token_map());
    session.close(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_first_contact_point_and_a_live_second_one_start_a_session() {
    let node = cql4_testkit::node::node();
    let mut config = common::config();
    // Nothing listens on 127.0.0.250: connection refused at once.
    config.connection.host = "127.0.0.250".into();
    let config = config.with_contact_point(format!("{}:{}", node.host, node.port));
    let session = Session::connect(config).await.expect("session");
    common::wait_up(&session, 3, Duration::from_secs(20)).await;
    assert!(
        session
            .nodes()
            .iter()
            .all(|n| n.address.ip().to_string() != "127.0.0.250"),
        "the dead contact point is not a node"
    );
    session
        .query(
            "SELECT release_version FROM system.local",
            (),
            &QueryOptions::new(),
        )
        .await
        .expect("query");
}

/// The coordinator of a traced request, and whether any trace event came from another node
/// (a mutation forwarded to a replica).
async fn trace(session: &Session, id: [u8; 16]) -> (SocketAddr, bool) {
    let one = QueryOptions::new().with_consistency(Consistency::ONE);
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    for _ in 0..100 {
        let r = session
            .query(
                &format!("SELECT coordinator, duration FROM system_traces.sessions WHERE session_id = {uuid}"),
                (),
                &one,
            )
            .await
            .expect("trace session");
        let row = r.rows().and_then(|rows| rows.row(0)).map(|row| {
            (
                row.get::<Option<std::net::IpAddr>>(0).expect("coordinator"),
                row.get::<Option<i32>>(1).expect("duration"),
            )
        });
        if let Some((Some(coordinator), Some(_))) = row {
            let events = session
                .query(
                    &format!("SELECT source FROM system_traces.events WHERE session_id = {uuid}"),
                    (),
                    &one,
                )
                .await
                .expect("trace events");
            let remote = events.rows().expect("rows").iter().any(|row| {
                row.get::<Option<std::net::IpAddr>>(0).expect("source") != Some(coordinator)
            });
            return (SocketAddr::new(coordinator, 0), remote);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("trace {id:02x?} not complete after 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_writes_are_coordinated_by_their_replica() {
    let session = Session::connect(common::config()).await.expect("session");
    common::wait_up(&session, 3, Duration::from_secs(20)).await;
    let ks = common::keyspace("routing");
    common::schema(
        &session,
        &format!("CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"),
    )
    .await;
    common::schema(
        &session,
        &format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v int)"),
    )
    .await;
    // The new keyspace reaches the token map through the SCHEMA_CHANGE event.
    let insert = session
        .prepare(&format!("INSERT INTO {ks}.t (k, v) VALUES (?, ?)"))
        .await
        .expect("prepare");
    let traced = QueryOptions::new()
        .with_consistency(Consistency::ONE)
        .with_tracing(true);
    let writes = 30;
    let mut forwarded = 0;
    let mut deadline_for_map = Instant::now() + Duration::from_secs(10);
    let mut k = 0;
    while k < writes {
        let values = [Some(CqlValue::Int(k)), Some(CqlValue::Int(k))];
        let r = session
            .execute(&insert, values, &traced)
            .await
            .expect("insert");
        let (_, remote) = trace(&session, r.tracing_id.expect("tracing id")).await;
        if remote && Instant::now() < deadline_for_map && k == 0 {
            // The keyspace may not be in the token map yet: wait for the refresh, try again.
            tokio::time::sleep(Duration::from_millis(700)).await;
            deadline_for_map = Instant::now();
            continue;
        }
        forwarded += usize::from(remote);
        k += 1;
    }
    assert_eq!(
        forwarded, 0,
        "{forwarded} of {writes} token-aware writes went through another node"
    );

    // The same writes round robin: most are forwarded (about two in three).
    let mut config = common::config();
    config.token_aware = false;
    let rr = Session::connect(config).await.expect("session");
    common::wait_up(&rr, 3, Duration::from_secs(20)).await;
    let insert = rr
        .prepare(&format!("INSERT INTO {ks}.t (k, v) VALUES (?, ?)"))
        .await
        .expect("prepare");
    let mut forwarded = 0;
    for k in 0..writes {
        let values = [Some(CqlValue::Int(k)), Some(CqlValue::Int(k))];
        let r = rr.execute(&insert, values, &traced).await.expect("insert");
        forwarded += usize::from(trace(&rr, r.tracing_id.expect("tracing id")).await.1);
    }
    assert!(
        (8..=28).contains(&forwarded),
        "round robin forwarded {forwarded} of {writes} writes (expected about 20)"
    );
    common::schema(&session, &format!("DROP KEYSPACE {ks}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_grow_over_budget_and_shrink_after_idle() {
    let mut config = common::config();
    config.max_requests_per_second_per_connection = Some(40);
    config.max_connections_per_node = 3;
    config.shrink_idle_after = Duration::from_secs(2);
    let session = Session::connect(config).await.expect("session");
    common::wait_up(&session, 3, Duration::from_secs(20)).await;
    assert!(session.nodes().iter().all(|n| n.connections == 1));
    // Far over 40 requests per second per connection, until every pool has grown to its
    // maximum (opening a connection — TLS and a bcrypt-checked login — takes a while on a
    // busy machine: allow 30 s).
    let grown = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (s, grown) = (session.clone(), grown.clone());
        tasks.push(tokio::spawn(async move {
            while !grown.load(Ordering::Relaxed) {
                s.query(
                    "SELECT release_version FROM system.local",
                    (),
                    &QueryOptions::new(),
                )
                .await
                .expect("query");
            }
        }));
    }
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let pools: Vec<(usize, u64)> = session
            .nodes()
            .iter()
            .map(|n| (n.connections, n.requests))
            .collect();
        if pools.iter().all(|(c, _)| *c == 3) {
            break;
        }
        assert!(
            Instant::now() < end,
            "pools did not grow to 3 connections: (connections, requests) = {pools:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    grown.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("task");
    }
    // Idle: back to one connection per node.
    let end = Instant::now() + Duration::from_secs(15);
    while session.nodes().iter().any(|n| n.connections > 1) {
        assert!(
            Instant::now() < end,
            "pools did not shrink: {:#?}",
            session.nodes()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_applies_to_every_connection_including_later_ones() {
    let mut config = common::config();
    config.connections_per_node = Some(2);
    let session = Session::connect(config).await.expect("session");
    common::wait_up(&session, 3, Duration::from_secs(20)).await;
    let ks = common::keyspace("use");
    common::schema(
        &session,
        &format!("CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 3}}"),
    )
    .await;
    common::schema(
        &session,
        &format!("CREATE TABLE {ks}.t (k int PRIMARY KEY)"),
    )
    .await;
    // A keyspace that does not exist changes nothing.
    let err = session
        .use_keyspace("no_such_keyspace_here")
        .await
        .expect_err("USE of a missing keyspace");
    assert!(err.to_string().contains("no_such_keyspace_here"), "{err}");
    session.use_keyspace(&ks).await.expect("USE");
    // Unqualified: every connection (6) must be in the keyspace.
    for _ in 0..60 {
        session
            .query("SELECT k FROM t", (), &QueryOptions::new())
            .await
            .expect("unqualified select on every connection");
    }
    // A session configured with a keyspace starts every connection in it.
    let mut config = common::config();
    config.keyspace = Some(ks.clone());
    let later = Session::connect(config).await.expect("session");
    common::wait_up(&later, 3, Duration::from_secs(20)).await;
    for _ in 0..30 {
        later
            .query("SELECT k FROM t", (), &QueryOptions::new())
            .await
            .expect("unqualified select");
    }
    common::schema(&session, &format!("DROP KEYSPACE {ks}")).await;
}
