//! Fault injection on the real three-node cluster through the loopback fault proxy: a framed
//! TLS proxy in front of each node, the session dialing the proxies through its address
//! translator while the nodes keep their own addresses. Reset storms (no hang, no leak), a
//! blackholed node (time until the session stops using it; read latency with and without
//! speculative execution), Amazon Keyspaces throttling emulated by the proxy (WriteTimeout
//! answers) and SigV4 credentials that change between reconnects. Figures are printed with
//! `eprintln!` for the CI log.

mod common;
mod faults_support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cql4_auth::{Credentials, CredentialsError, CredentialsProvider, SigV4AuthProvider};
use cql4_conn::{ErrorKind, QueryOptions};
use cql4_frame::{Consistency, Opcode};
use cql4_session::{KeyspacesRetryPolicy, Session, SpeculativePolicy};
use cql4_testkit::cluster::Cluster;
use cql4_testkit::frames;
use cql4_testkit::proxy::{Injection, Mode, Proxy};

use faults_support::{
    at_rest, node_status, proxied_config, proxies, rss_kib, set_all, wait_until, Latencies,
    Watchdog,
};

/// A node read through the session: `system.local` of whichever node the plan picks.
async fn local_query(session: &Session) -> Result<(), cql4_conn::Error> {
    session
        .query(
            "SELECT release_version FROM system.local",
            (),
            &QueryOptions::new().with_consistency(Consistency::ONE),
        )
        .await
        .map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_translated_session_reaches_every_node_through_its_proxy() {
    let _watchdog = Watchdog::arm(
        "a_translated_session_reaches_every_node_through_its_proxy",
        Duration::from_secs(120),
    );
    let cluster = Cluster::from_env();
    let proxies = proxies(&cluster).await;
    let session = Session::connect(proxied_config(&cluster, &proxies, None))
        .await
        .expect("session through the proxies");
    wait_until(&session, "3 nodes up", Duration::from_secs(20), |s| {
        at_rest(s, 1)
    })
    .await;
    // The nodes keep the addresses their own tables report; only the dialing is translated.
    let mut known: Vec<_> = session.nodes().iter().map(|n| n.address).collect();
    known.sort();
    assert_eq!(known, [cluster.addr(1), cluster.addr(2), cluster.addr(3)]);
    for _ in 0..30 {
        local_query(&session).await.expect("query through a proxy");
    }
    for (n, p) in proxies.iter().enumerate() {
        // Node 1: the control connection and the pool's; the others: the pool's.
        assert!(
            p.connections() >= 1,
            "node {} never dialed through its proxy",
            n + 1
        );
        assert!(node_status(&session, cluster.addr(n + 1)).requests > 0);
    }
    session.close(Duration::from_secs(2)).await;
}

const STORM_WORKERS: usize = 32;
const STORM_ROUNDS: usize = 12;
/// Each connection's stream table, kept small so that leaked ids would show: after the
/// storms, `STORM_STREAMS` requests at once per connection must all be answered.
const STORM_STREAMS: usize = 64;

struct StormFigures {
    ok: usize,
    failed: usize,
    slowest: Duration,
    accepted: usize,
    settle: Duration,
}

/// A read load of `STORM_WORKERS` callers while every proxy resets every connection
/// `STORM_ROUNDS` times (RST for 40 ms, then 250 ms of calm); returns when the load has ended
/// and the session is back at rest (3 nodes, one connection each, nothing in flight).
async fn storm(session: &Session, proxies: &[Proxy]) -> StormFigures {
    let accepted_before: usize = proxies.iter().map(Proxy::connections).sum();
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let slowest = Arc::new(Mutex::new(Duration::ZERO));
    let mut workers = Vec::new();
    for _ in 0..STORM_WORKERS {
        let (session, stop, ok, failed, slowest) = (
            session.clone(),
            stop.clone(),
            ok.clone(),
            failed.clone(),
            slowest.clone(),
        );
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let r = local_query(&session).await;
                let took = started.elapsed();
                let mut s = slowest.lock().expect("lock");
                *s = (*s).max(took);
                drop(s);
                match r {
                    Ok(()) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for _ in 0..STORM_ROUNDS {
        set_all(proxies, &Mode::Reset);
        tokio::time::sleep(Duration::from_millis(40)).await;
        set_all(proxies, &Mode::Pass);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop.store(true, Ordering::Relaxed);
    // No hang: every caller returns. The bound per request is checked below; this one keeps a
    // hung request from hanging the test.
    tokio::time::timeout(Duration::from_secs(30), futures_join(workers))
        .await
        .expect("every caller returned within 30 s of the storm's end");
    let settle = wait_until(
        session,
        "back at rest after the storm",
        Duration::from_secs(30),
        |s| at_rest(s, 1),
    )
    .await;
    let slowest = *slowest.lock().expect("lock");
    StormFigures {
        ok: ok.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        slowest,
        accepted: proxies.iter().map(Proxy::connections).sum::<usize>() - accepted_before,
        settle,
    }
}

async fn futures_join(workers: Vec<tokio::task::JoinHandle<()>>) {
    for w in workers {
        w.await.expect("worker");
    }
}

/// Every stream id of every connection usable: `STORM_STREAMS` requests per node at once.
async fn full_stream_tables(session: &Session) {
    let calls: Vec<_> = (0..3 * STORM_STREAMS)
        .map(|_| {
            let session = session.clone();
            tokio::spawn(async move { local_query(&session).await })
        })
        .collect();
    for c in calls {
        c.await
            .expect("caller")
            .expect("a request after the storm (all stream ids free again)");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_storms_neither_hang_nor_leak() {
    let _watchdog = Watchdog::arm(
        "reset_storms_neither_hang_nor_leak",
        Duration::from_secs(120),
    );
    let cluster = Cluster::from_env();
    let proxies = proxies(&cluster).await;
    let mut config = proxied_config(&cluster, &proxies, None);
    config.connection.mux.max_streams = STORM_STREAMS;
    let timeouts = config.connection.request_timeout + config.connection.connect_timeout;
    let session = Session::connect(config).await.expect("session");
    wait_until(&session, "3 nodes up", Duration::from_secs(20), |s| {
        at_rest(s, 1)
    })
    .await;
    for _ in 0..200 {
        local_query(&session).await.expect("warm-up");
    }
    let rss_start = rss_kib();
    // The first storm warms the allocator's pools; the second must not grow memory further.
    let first = storm(&session, &proxies).await;
    full_stream_tables(&session).await;
    let rss_first = rss_kib();
    let second = storm(&session, &proxies).await;
    full_stream_tables(&session).await;
    let rss_second = rss_kib();
    for (name, f) in [("first", &first), ("second", &second)] {
        eprintln!(
            "reset storm ({name}): {STORM_ROUNDS} rounds on 3 proxies, {} connections accepted \
             (each reset), {} requests answered, {} failed, slowest {:?}; back at rest \
             (3 nodes, 1 connection each, 0 in flight) {:?} after the load ended",
            f.accepted, f.ok, f.failed, f.slowest, f.settle
        );
        // The storm bit: connections were reset and requests failed (else this proves nothing).
        assert!(
            f.accepted >= 3 * STORM_ROUNDS / 2,
            "{name}: {} connections",
            f.accepted
        );
        assert!(
            f.failed > 0,
            "{name}: no request failed during a reset storm"
        );
        assert!(f.ok > 0, "{name}: nothing answered between the resets");
        // No hang: a request ends within its own timeout plus the wait for a connection.
        let bound = timeouts + Duration::from_secs(1);
        assert!(
            f.slowest <= bound,
            "{name}: a request took {:?} (bound {bound:?})",
            f.slowest
        );
    }
    eprintln!(
        "reset storm memory: VmRSS {rss_start} KiB before, {rss_first} KiB after the first \
         storm, {rss_second} KiB after the second ({:+} KiB)",
        rss_second as i64 - rss_first as i64
    );
    assert!(
        rss_second <= rss_first + 8 * 1024,
        "memory grew by {} KiB over the second storm",
        rss_second - rss_first
    );
    session.close(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_node_is_marked_down_by_the_heartbeat() {
    let _watchdog = Watchdog::arm(
        "a_blackholed_node_is_marked_down_by_the_heartbeat",
        Duration::from_secs(120),
    );
    let cluster = Cluster::from_env();
    let proxies = proxies(&cluster).await;
    let mut config = proxied_config(&cluster, &proxies, None);
    let interval = Duration::from_secs(1);
    let heartbeat_timeout = Duration::from_secs(1);
    config.connection.heartbeat_interval = Some(interval);
    config.connection.heartbeat_timeout = heartbeat_timeout;
    config.connection.request_timeout = Duration::from_secs(5);
    let session = Session::connect(config).await.expect("session");
    wait_until(&session, "3 nodes up", Duration::from_secs(20), |s| {
        at_rest(s, 1)
    })
    .await;
    let victim = cluster.addr(3);

    // A light load: a request every 5 ms, round robin.
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicUsize::new(0));
    let load = {
        let (session, stop, failed) = (session.clone(), stop.clone(), failed.clone());
        tokio::spawn(async move {
            let mut calls = tokio::task::JoinSet::new();
            while !stop.load(Ordering::Relaxed) {
                let (session, failed) = (session.clone(), failed.clone());
                calls.spawn(async move {
                    if local_query(&session).await.is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                });
                tokio::time::sleep(Duration::from_millis(5)).await;
                while calls.try_join_next().is_some() {}
            }
            while calls.join_next().await.is_some() {}
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(node_status(&session, victim).requests > 0);

    // Blackhole node 3: its connection stays open, nothing comes back, new ones are accepted
    // and never forwarded.
    let blackholed = Instant::now();
    proxies[2].set(Mode::Blackhole);
    let detected = wait_until(&session, "node 3 down", Duration::from_secs(20), |s| {
        !node_status(s, victim).up
    })
    .await;
    // Routing: the node's request count stops moving.
    let routed_at_down = node_status(&session, victim).requests;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let routed_after = node_status(&session, victim).requests;
    let failed_during = failed.load(Ordering::Relaxed);
    eprintln!(
        "blackholed node: marked down {detected:?} after the blackhole (heartbeat interval \
         {interval:?} + timeout {heartbeat_timeout:?}); {} requests routed to it in the 2 s \
         after; {failed_during} requests failed meanwhile (those in flight on it)",
        routed_after - routed_at_down
    );
    assert!(
        detected <= interval + heartbeat_timeout + Duration::from_secs(2),
        "detection took {detected:?}"
    );
    assert!(
        detected >= interval,
        "marked down in {detected:?}, before a heartbeat could be missed"
    );
    assert_eq!(
        routed_after, routed_at_down,
        "requests still routed to a down node"
    );
    // The other nodes carry the load: nothing fails once the node is down.
    let failed_before = failed.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(failed.load(Ordering::Relaxed), failed_before);

    // Back: reconnected within the (short) reconnection backoff.
    proxies[2].set(Mode::Pass);
    let back = wait_until(&session, "node 3 up again", Duration::from_secs(20), |s| {
        node_status(s, victim).up
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    load.await.expect("load");
    eprintln!(
        "blackholed node: up again {back:?} after the proxy passed again; total {:?}",
        blackholed.elapsed()
    );
    session.close(Duration::from_secs(2)).await;
}

/// The node's session token with a generation suffix: a new credential set each time the test
/// moves to the next generation, every one valid (the test authenticator checks the access
/// key's signature and logs a fingerprint of the token, which is not signed).
#[derive(Debug)]
struct RotatingCredentials {
    access_key_id: String,
    secret_access_key: String,
    token: String,
    generation: AtomicUsize,
    calls: AtomicUsize,
}

impl RotatingCredentials {
    fn current(&self) -> Credentials {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let generation = self.generation.load(Ordering::Relaxed);
        Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            Some(format!("{}-rotated-{generation}", self.token).into()),
            None,
        )
    }
}

impl CredentialsProvider for RotatingCredentials {
    fn provide_credentials(
        &self,
    ) -> futures_util::future::BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(std::future::ready(Ok(self.current())))
    }
}

/// The session-token fingerprints of the SigV4 logins node 1 logged after byte `from` of its
/// log.
fn logged_fingerprints(log: &str, from: usize) -> std::collections::BTreeSet<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.get(from..)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("SigV4 login from"))
        .filter_map(|l| l.split("session_token_sha256=").nth(1))
        .map(|f| f.split_whitespace().next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4_credentials_that_change_between_reconnects_keep_the_session_working() {
    let _watchdog = Watchdog::arm(
        "sigv4_credentials_that_change_between_reconnects_keep_the_session_working",
        Duration::from_secs(120),
    );
    const ROTATIONS: usize = 4;
    let cluster = Cluster::from_env();
    let node = cql4_testkit::node::node();
    let log_start = std::fs::metadata(&node.node_log).map_or(0, |m| m.len() as usize);
    let credentials = Arc::new(RotatingCredentials {
        access_key_id: node.access_key_id.clone(),
        secret_access_key: node.secret_access_key.clone(),
        token: node.session_token.clone(),
        generation: AtomicUsize::new(0),
        calls: AtomicUsize::new(0),
    });
    let auth = Arc::new(SigV4AuthProvider::new(
        credentials.clone(),
        node.region.clone(),
    ));
    let proxies = proxies(&cluster).await;
    let session = Session::connect(proxied_config(&cluster, &proxies, Some(auth)))
        .await
        .expect("session with SigV4");
    wait_until(&session, "3 nodes up", Duration::from_secs(20), |s| {
        at_rest(s, 1)
    })
    .await;
    for _ in 0..10 {
        local_query(&session)
            .await
            .expect("query, first credentials");
    }
    let mut reconnect_times = Vec::new();
    for generation in 1..=ROTATIONS {
        credentials.generation.store(generation, Ordering::Relaxed);
        let calls_before = credentials.calls.load(Ordering::Relaxed);
        // Every connection reset (the control connection too): every reconnection logs in
        // with the new set.
        set_all(&proxies, &Mode::Reset);
        tokio::time::sleep(Duration::from_millis(100)).await;
        set_all(&proxies, &Mode::Pass);
        let began = Instant::now();
        wait_until(
            &session,
            "reconnected with the new credentials",
            Duration::from_secs(20),
            |s| at_rest(s, 1) && credentials.calls.load(Ordering::Relaxed) >= calls_before + 3,
        )
        .await;
        reconnect_times.push(began.elapsed());
        for _ in 0..10 {
            local_query(&session)
                .await
                .unwrap_or_else(|e| panic!("query with credentials {generation}: {e}"));
        }
    }
    // Node 1 saw one fingerprint per generation (its pool and the control connection log in
    // there), so each reconnection really used the credentials of its time.
    let mut seen = logged_fingerprints(&node.node_log, log_start);
    for _ in 0..50 {
        if seen.len() > ROTATIONS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = logged_fingerprints(&node.node_log, log_start);
    }
    eprintln!(
        "SigV4 rotation: {ROTATIONS} credential changes, {} credential loads, reconnected in \
         {reconnect_times:?}; node 1 logged {} distinct session tokens",
        credentials.calls.load(Ordering::Relaxed),
        seen.len()
    );
    assert!(
        seen.len() > ROTATIONS,
        "node 1 logged {} session tokens for {} credential sets: {seen:?}",
        seen.len(),
        ROTATIONS + 1
    );
    session.close(Duration::from_secs(2)).await;
}

/// A keyspace (replication 3) and a table of `rows` rows, created through node 1 directly.
async fn table_with_rows(session: &Session, prefix: &str, rows: i32) -> String {
    let ks = common::keyspace(prefix);
    common::schema(
        session,
        &format!("CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 3}}"),
    )
    .await;
    common::schema(
        session,
        &format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v int)"),
    )
    .await;
    let direct = cql4_conn::Client::connect(&cql4_testkit::node::node().password_config())
        .await
        .expect("connection to node 1");
    let insert = direct
        .prepare(&format!("INSERT INTO {ks}.t (k, v) VALUES (?, ?)"))
        .await
        .expect("prepare");
    let all = QueryOptions::new().with_consistency(Consistency::ALL);
    for k in 0..rows {
        let values = (k, k);
        direct.execute(&insert, values, &all).await.expect("insert");
    }
    ks
}

const READS: usize = 600;
const READERS: usize = 8;

/// `READS` idempotent point reads at ONE, `READERS` at a time; their latencies and failures.
async fn timed_reads(session: &Session, ks: &str) -> (Latencies, usize) {
    let select = session
        .prepare(&format!("SELECT v FROM {ks}.t WHERE k = ?"))
        .await
        .expect("prepare");
    let options = QueryOptions::new()
        .with_consistency(Consistency::ONE)
        .with_idempotent(true);
    let next = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..READERS {
        let (session, select, options, next) = (
            session.clone(),
            select.clone(),
            options.clone(),
            next.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut took = Vec::new();
            let mut failed = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= READS {
                    return (took, failed);
                }
                let k = i32::try_from(i % 100).expect("small");
                let values = (k,);
                let started = Instant::now();
                match session.execute(&select, values, &options).await {
                    Ok(_) => took.push(started.elapsed()),
                    Err(_) => failed += 1,
                }
            }
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    for r in readers {
        let (took, f) = r.await.expect("reader");
        all.extend(took);
        failed += f;
    }
    (Latencies(all), failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_blackholed_node_read_latency_with_and_without_speculative_execution() {
    let _watchdog = Watchdog::arm("p99 with a blackholed node", Duration::from_secs(180));
    let cluster = Cluster::from_env();
    let proxies = proxies(&cluster).await;
    let attempt_timeout = Duration::from_millis(500);
    let speculate_after = Duration::from_millis(50);
    let session_with = |speculative: SpeculativePolicy| {
        let mut config = proxied_config(&cluster, &proxies, None);
        // The blackholed node stays "up" for the whole measure: no heartbeat to notice it, so
        // only the attempt timeout (then a retry on the next node) or speculation gets a read
        // past it.
        config.connection.heartbeat_interval = None;
        config.connection.request_timeout = attempt_timeout;
        config.speculative = speculative;
        Session::connect(config)
    };
    let plain = session_with(SpeculativePolicy::None)
        .await
        .expect("session");
    let speculating = session_with(SpeculativePolicy::constant(speculate_after, 2))
        .await
        .expect("session");
    for s in [&plain, &speculating] {
        wait_until(s, "3 nodes up", Duration::from_secs(20), |s| at_rest(s, 1)).await;
    }
    let ks = table_with_rows(&plain, "spec", 100).await;

    let (mut healthy_plain, f1) = timed_reads(&plain, &ks).await;
    let (mut healthy_spec, f2) = timed_reads(&speculating, &ks).await;
    proxies[2].set(Mode::Blackhole);
    let (mut holed_plain, f3) = timed_reads(&plain, &ks).await;
    let (mut holed_spec, f4) = timed_reads(&speculating, &ks).await;
    proxies[2].set(Mode::Pass);
    let victim = cluster.addr(3);
    eprintln!(
        "p99 of idempotent reads at ONE ({READS} reads, {READERS} at a time, attempt timeout \
         {attempt_timeout:?}, heartbeat off):\n  healthy, no speculation: {} ({f1} failed)\n  \
         healthy, speculation after {speculate_after:?} (2 extra at most): {} ({f2} failed)\n  \
         node 3 blackholed, no speculation: {} ({f3} failed)\n  node 3 blackholed, \
         speculation: {} ({f4} failed); node 3 up for both sessions: {}/{}",
        healthy_plain.summary(),
        healthy_spec.summary(),
        holed_plain.summary(),
        holed_spec.summary(),
        node_status(&plain, victim).up,
        node_status(&speculating, victim).up,
    );
    // Figures, not timed assertions; what must hold whatever the machine's speed: the reads
    // succeed (retried or speculated past the hole), and the hole was in their way (reads
    // without speculation waited for the attempt timeout).
    assert_eq!(
        f3 + f4,
        0,
        "idempotent reads failed with one node of three blackholed"
    );
    assert!(
        holed_plain.percentile(100.0) >= attempt_timeout,
        "no read waited for the blackholed node: {}",
        holed_plain.summary()
    );
    plain.close(Duration::from_secs(1)).await;
    speculating.close(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyspaces_throttling_idempotent_writes_succeed_non_idempotent_fail_visibly() {
    const WRITES: i32 = 500;
    let _watchdog = Watchdog::arm("Keyspaces throttling", Duration::from_secs(180));
    let cluster = Cluster::from_env();
    let proxies = proxies(&cluster).await;
    let config =
        proxied_config(&cluster, &proxies, None).with_retry_policy(KeyspacesRetryPolicy::new());
    let session = Session::connect(config).await.expect("session");
    wait_until(&session, "3 nodes up", Duration::from_secs(20), |s| {
        at_rest(s, 1)
    })
    .await;
    let ks = table_with_rows(&session, "throttle", 0).await;
    let insert = session
        .prepare(&format!("INSERT INTO {ks}.t (k, v) VALUES (?, ?)"))
        .await
        .expect("prepare");
    // Every tenth EXECUTE (the writes: nothing else is executed), counted over the three
    // proxies, is answered WriteTimeout by the proxy, as Amazon Keyspaces answers a throttled
    // write; the node never sees it.
    let executes = Arc::new(AtomicUsize::new(0));
    let throttled = Arc::new(AtomicUsize::new(0));
    for p in &proxies {
        let (executes, throttled) = (executes.clone(), throttled.clone());
        p.set(Mode::Inject(Injection::when(
            Opcode::EXECUTE,
            move |stream, _| {
                (executes.fetch_add(1, Ordering::SeqCst) % 10 == 9).then(|| {
                    throttled.fetch_add(1, Ordering::SeqCst);
                    frames::response(stream, frames::write_timeout("SIMPLE"))
                })
            },
        )));
    }
    let write_all = |idempotent: bool, base: i32| {
        let (session, insert) = (session.clone(), insert.clone());
        async move {
            let options = QueryOptions::new()
                .with_consistency(Consistency::QUORUM)
                .with_idempotent(idempotent);
            let mut failures = Vec::new();
            for k in base..base + WRITES {
                let values = (k, k);
                if let Err(e) = session.execute(&insert, values, &options).await {
                    failures.push(e.kind());
                }
            }
            failures
        }
    };
    let started = Instant::now();
    let idempotent_failures = write_all(true, 0).await;
    let idempotent_time = started.elapsed();
    let throttled_idempotent = throttled.swap(0, Ordering::SeqCst);
    let plain_failures = write_all(false, 10_000).await;
    let throttled_plain = throttled.load(Ordering::SeqCst);
    for p in &proxies {
        p.set(Mode::Pass);
    }
    eprintln!(
        "Keyspaces throttling emulated (every 10th EXECUTE answered WriteTimeout by the proxy, \
         KeyspacesRetryPolicy): idempotent: {WRITES} writes, {throttled_idempotent} throttled \
         attempts retried, {} failed, {idempotent_time:?}; not idempotent: {WRITES} writes, \
         {throttled_plain} throttled, {} failed",
        idempotent_failures.len(),
        plain_failures.len()
    );
    assert!(
        throttled_idempotent >= WRITES as usize / 10,
        "the proxy throttled nothing"
    );
    assert!(
        idempotent_failures.is_empty(),
        "idempotent writes failed under the Keyspaces policy: {idempotent_failures:?}"
    );
    // Each throttled write that is not idempotent fails, as a WriteTimeout: none is retried
    // (it may have been applied), none hidden.
    assert_eq!(plain_failures.len(), throttled_plain, "{plain_failures:?}");
    assert!(
        plain_failures.iter().all(|k| *k == ErrorKind::WriteTimeout),
        "{plain_failures:?}"
    );
    session.close(Duration::from_secs(2)).await;
}
