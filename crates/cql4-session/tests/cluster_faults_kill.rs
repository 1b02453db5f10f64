//! SIGKILL of a node under a bounded write load, retries on (the default policy):
//! - counter increments, which are not idempotent: the session must never send one twice, so
//!   the final counters equal the acknowledged increments plus at most the increments reported
//!   as failed (uncertain: applied or not), and never more;
//! - idempotent writes: retried on another node when their connection dies or times out; no
//!   acknowledged write is lost.

mod common;
mod faults_support;

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cql4_conn::QueryOptions;
use cql4_frame::Consistency;
use cql4_session::Session;
use cql4_testkit::cluster::Cluster;

use faults_support::{node_status, wait_until, RestartOnFailure, Watchdog};

const INCREMENTS: i32 = 4_000;
const IN_FLIGHT: usize = 32;
const KILL_AFTER: usize = 1_000;
const KEYS: i32 = 8;
const TIMEOUT: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_counter_increments_never_applies_one_twice() {
    let _watchdog = Watchdog::arm("counters under SIGKILL", Duration::from_secs(240));
    let cluster = Cluster::from_env();
    let victim = cluster.addr(3);
    let mut config = common::config();
    config.connection.request_timeout = TIMEOUT;
    config.connection.connect_timeout = Duration::from_secs(2);
    let session = Session::connect(config).await.expect("session");
    common::wait_up(&session, 3, Duration::from_secs(20)).await;

    let ks = common::keyspace("counters");
    common::schema(
        &session,
        &format!("CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 3}}"),
    )
    .await;
    common::schema(
        &session,
        &format!("CREATE TABLE {ks}.c (k int PRIMARY KEY, n counter)"),
    )
    .await;
    let increment = session
        .prepare(&format!("UPDATE {ks}.c SET n = n + 1 WHERE k = ?"))
        .await
        .expect("prepare");

    let next = Arc::new(AtomicI32::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let quorum = QueryOptions::new().with_consistency(Consistency::QUORUM);
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (session, increment, quorum) = (session.clone(), increment.clone(), quorum.clone());
        let (next, acked, failed) = (next.clone(), acked.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= INCREMENTS {
                    return;
                }
                let values = (i % KEYS,);
                match session.execute(&increment, values, &quorum).await {
                    Ok(_) => acked.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    while acked.load(Ordering::Relaxed) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = Instant::now();
    let mut restart = RestartOnFailure::new(&cluster, 3);
    cluster.kill_async(3).await;
    for w in workers {
        w.await.expect("worker");
    }
    let load_after_kill = killed.elapsed();
    let (acked, failed) = (
        acked.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    assert_eq!(
        acked + failed,
        INCREMENTS as usize,
        "every increment reported"
    );
    assert!(
        !node_status(&session, victim).up,
        "node 3 down for the session"
    );

    // Node 3 back, so that the read at ALL sees every replica (hints replayed or not, a read
    // at ALL merges every replica's counter shards).
    cluster.start_node_async(3).await;
    restart.disarm();
    let back = wait_until(&session, "node 3 up again", Duration::from_secs(40), |s| {
        node_status(s, victim).up
    })
    .await;
    let all = QueryOptions::new().with_consistency(Consistency::ALL);
    let select = format!("SELECT n FROM {ks}.c");
    let mut total = None;
    for _ in 0..20 {
        match session.query(&select, (), &all).await {
            Ok(r) => {
                let rows = r.rows().expect("rows");
                total = Some(
                    rows.iter()
                        .map(|row| row.get::<Option<i64>>(0).expect("n").unwrap_or(0))
                        .sum::<i64>(),
                );
                break;
            }
            // Node 3 may still be catching up right after its restart.
            Err(e) => {
                eprintln!("read at ALL: {e}; again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    let total = total.expect("the counters read at ALL");
    eprintln!(
        "counters under SIGKILL: {INCREMENTS} increments, {acked} acknowledged, {failed} \
         failed (uncertain); counters total {total} (= acknowledged + {} of the uncertain); \
         load ran {load_after_kill:?} after the kill; node 3 back in the session {back:?} after \
         start-node returned",
        total - acked as i64
    );
    assert!(
        total >= acked as i64,
        "acknowledged increments lost: total {total} < {acked} acknowledged"
    );
    assert!(
        total <= (acked + failed) as i64,
        "an increment was applied twice: total {total} > {acked} acknowledged + {failed} uncertain"
    );
    session.close(Duration::from_secs(2)).await;
}

const WRITES: i32 = 4_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_idempotent_writes_with_retries_loses_no_acknowledged_write() {
    let _watchdog = Watchdog::arm("idempotent writes under SIGKILL", Duration::from_secs(240));
    let cluster = Cluster::from_env();
    let victim = cluster.addr(3);
    let mut config = common::config();
    config.connection.request_timeout = TIMEOUT;
    config.connection.connect_timeout = Duration::from_secs(2);
    let session = Session::connect(config).await.expect("session");
    common::wait_up(&session, 3, Duration::from_secs(20)).await;

    let ks = common::keyspace("idem");
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
    // Retried by the default policy on connection loss, client timeout, overload (next node)
    // and write timeout (same node, once).
    let options = QueryOptions::new()
        .with_consistency(Consistency::QUORUM)
        .with_idempotent(true);

    let next = Arc::new(AtomicI32::new(0));
    let acked = Arc::new(std::sync::Mutex::new(Vec::with_capacity(WRITES as usize)));
    let acked_count = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (session, insert, options) = (session.clone(), insert.clone(), options.clone());
        let (next, acked, acked_count, failures) = (
            next.clone(),
            acked.clone(),
            acked_count.clone(),
            failures.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= WRITES {
                    return;
                }
                let values = (k, k);
                match session.execute(&insert, values, &options).await {
                    Ok(_) => {
                        acked.lock().expect("lock").push(k);
                        acked_count.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => failures.lock().expect("lock").push(format!("{k}: {e}")),
                }
            }
        }));
    }
    while acked_count.load(Ordering::Relaxed) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = Instant::now();
    let mut restart = RestartOnFailure::new(&cluster, 3);
    cluster.kill_async(3).await;
    for w in workers {
        w.await.expect("worker");
    }
    let load_after_kill = killed.elapsed();
    let acked: Vec<i32> = std::mem::take(&mut *acked.lock().expect("lock"));
    let failures = std::mem::take(&mut *failures.lock().expect("lock"));
    assert_eq!(
        acked.len() + failures.len(),
        WRITES as usize,
        "every write reported"
    );

    cluster.start_node_async(3).await;
    restart.disarm();
    wait_until(&session, "node 3 up again", Duration::from_secs(40), |s| {
        node_status(s, victim).up
    })
    .await;
    // Read back at QUORUM once node 3 is back (QUORUM writes and reads overlap; a range scan
    // with a replica just killed times out on the server).
    // A full scan: idempotent (retried) and given time.
    let quorum = QueryOptions::new()
        .with_consistency(Consistency::QUORUM)
        .with_page_size(1000)
        .with_idempotent(true)
        .with_timeout(Duration::from_secs(20));
    let select = format!("SELECT k FROM {ks}.t");
    let mut read = std::collections::HashSet::new();
    let mut pages = session.query_pages(&select, (), &quorum);
    while let Some(page) = pages.next_page().await {
        let page = page.expect("read back at QUORUM");
        for row in page.rows().expect("rows").iter() {
            read.insert(row.get::<i32>(0).expect("k"));
        }
    }
    let lost: Vec<i32> = acked
        .iter()
        .copied()
        .filter(|k| !read.contains(k))
        .collect();
    eprintln!(
        "idempotent writes under SIGKILL (retries on): {WRITES} writes, {} acknowledged, {} \
         failed {:?}; acknowledged writes lost: {}; load ran {load_after_kill:?} after the kill",
        acked.len(),
        failures.len(),
        failures.iter().take(3).collect::<Vec<_>>(),
        lost.len()
    );
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    // With retries, the writes caught by the kill go to the other replicas: few or none fail.
    assert!(
        failures.len() <= WRITES as usize / 100,
        "{} idempotent writes failed with retries on and 2 of 3 replicas up",
        failures.len()
    );

    session.close(Duration::from_secs(2)).await;
}
