//! SIGKILL of one node of the three-node cluster during a bounded write load: no
//! acknowledged write is lost, failures are reported as failures, no request outlives its
//! timeout, and after the restart the node is reconnected within the backoff bound and gets
//! requests again. Down and up are seen through the session's events.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cql4_conn::{EventType, QueryOptions};
use cql4_frame::event::{Event, StatusChange};
use cql4_frame::value::CqlValue;
use cql4_frame::Consistency;
use cql4_session::Session;

const WRITES: i32 = 20_000;
const IN_FLIGHT: usize = 64;
const KILL_AFTER: usize = 3_000;
const TIMEOUT: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_writes_loses_no_acknowledged_write() {
    let cluster = cql4_testkit::cluster::Cluster::from_env();
    let victim_ip = cluster.addr(3).ip().to_string();
    let mut config = common::config();
    config.connection.request_timeout = TIMEOUT;
    config.connection.connect_timeout = Duration::from_secs(2);
    let session = Session::connect(config).await.expect("session");
    common::wait_up(&session, 3, Duration::from_secs(20)).await;
    let mut events = session
        .register(&[EventType::StatusChange])
        .await
        .expect("register");

    let ks = common::keyspace("kill");
    common::schema(
        &session,
        &format!("CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 3}}"),
    )
    .await;
    common::schema(
        &session,
        &format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v int)"),
    )
    .await;
    let insert = session
        .prepare(&format!("INSERT INTO {ks}.t (k, v) VALUES (?, ?)"))
        .await
        .expect("prepare");

    let next = Arc::new(AtomicI32::new(0));
    let acked = Arc::new(Mutex::new(Vec::with_capacity(WRITES as usize)));
    let acked_count = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let slowest = Arc::new(Mutex::new(Duration::ZERO));
    let quorum = QueryOptions::new().with_consistency(Consistency::QUORUM);
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (session, insert, quorum) = (session.clone(), insert.clone(), quorum.clone());
        let (next, acked, acked_count, failures, slowest) = (
            next.clone(),
            acked.clone(),
            acked_count.clone(),
            failures.clone(),
            slowest.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= WRITES {
                    return;
                }
                let values = [Some(CqlValue::Int(k)), Some(CqlValue::Int(k))];
                let started = Instant::now();
                let result = session.execute(&insert, values, &quorum).await;
                let took = started.elapsed();
                {
                    let mut s = slowest.lock().expect("lock");
                    *s = (*s).max(took);
                }
                match result {
                    Ok(_) => {
                        acked.lock().expect("lock").push(k);
                        acked_count.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => failures.lock().expect("lock").push((k, e.to_string())),
                }
            }
        }));
    }
    // SIGKILL node 3 once the load runs.
    while acked_count.load(Ordering::Relaxed) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed_at = Instant::now();
    cluster.kill_async(3).await;
    for w in workers {
        w.await.expect("worker");
    }
    let load_time = killed_at.elapsed();
    let acked: Vec<i32> = std::mem::take(&mut *acked.lock().expect("lock"));
    let failures = std::mem::take(&mut *failures.lock().expect("lock"));
    let slowest = *slowest.lock().expect("lock");
    eprintln!(
        "{} writes acknowledged, {} failed ({:?} …), slowest {slowest:?}; load ran {load_time:?} after the kill",
        acked.len(),
        failures.len(),
        failures.iter().take(3).collect::<Vec<_>>()
    );
    assert_eq!(
        acked.len() + failures.len(),
        WRITES as usize,
        "every write reported"
    );
    assert!(
        slowest <= TIMEOUT + Duration::from_secs(1),
        "a request outlived its {TIMEOUT:?} timeout: {slowest:?}"
    );
    assert!(
        failures.len() <= WRITES as usize / 10,
        "{} of {WRITES} writes failed with 2 of 3 replicas up",
        failures.len()
    );
    let victim = session
        .nodes()
        .into_iter()
        .find(|n| n.address.ip().to_string() == victim_ip)
        .expect("node 3 known");
    assert!(!victim.up, "node 3 is down for the session: {victim:?}");

    // Restart: reconnected within the backoff bound (30 s), or at once on the UP event.
    let start_node = cluster.start_node_async(3).await;
    let restarted = Instant::now();
    let bound = Duration::from_secs(30) + Duration::from_secs(5);
    loop {
        let up = session
            .nodes()
            .iter()
            .any(|n| n.address.ip().to_string() == victim_ip && n.up);
        if up {
            break;
        }
        assert!(
            restarted.elapsed() < bound,
            "node 3 not reconnected {bound:?} after its restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "node 3 reconnected {:?} after start-node returned (start-node took {start_node:?}: \
         JVM start until a login works and every node sees it up)",
        restarted.elapsed()
    );

    // It gets requests again.
    let before = requests_of(&session, &victim_ip);
    for _ in 0..60 {
        session
            .query(
                "SELECT release_version FROM system.local",
                (),
                &QueryOptions::new(),
            )
            .await
            .expect("query after the restart");
    }
    let after = requests_of(&session, &victim_ip);
    assert!(
        after - before >= 10,
        "node 3 got {} of 60 requests",
        after - before
    );

    // Down and up, through the events.
    let mut seen = Vec::new();
    let end = Instant::now() + Duration::from_secs(30);
    while !(seen.contains(&"DOWN") && seen.contains(&"UP")) {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(Ok(Event::StatusChange { change, address })))
                if address.ip().to_string() == victim_ip =>
            {
                seen.push(match change {
                    StatusChange::Up => "UP",
                    StatusChange::Down => "DOWN",
                });
            }
            Ok(Some(_)) => {}
            Ok(None) => panic!("event stream ended; seen {seen:?}"),
            Err(_) => panic!("no DOWN and UP for node 3 within 30 s; seen {seen:?}"),
        }
    }

    // Every acknowledged write reads back (QUORUM write + QUORUM read overlap).
    let mut read = HashSet::new();
    let mut rows = session.query_rows(
        &format!("SELECT k FROM {ks}.t"),
        (),
        &QueryOptions::new()
            .with_consistency(Consistency::QUORUM)
            .with_page_size(5000),
    );
    while let Some(row) = rows.next_row().await {
        let row = row.expect("row");
        read.insert(row.get::<i32>(0).expect("k"));
    }
    let lost: Vec<i32> = acked
        .iter()
        .copied()
        .filter(|k| !read.contains(k))
        .collect();
    eprintln!(
        "acknowledged writes lost: {} of {}",
        lost.len(),
        acked.len()
    );
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    common::schema(&session, &format!("DROP KEYSPACE {ks}")).await;
    session.close(Duration::from_secs(5)).await;
}

fn requests_of(session: &Session, ip: &str) -> u64 {
    session
        .nodes()
        .iter()
        .find(|n| n.address.ip().to_string() == ip)
        .map_or(0, |n| n.requests)
}
