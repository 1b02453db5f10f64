//! Amazon Keyspaces throttling (write timeouts) on an emulated cluster, through `Session` and
//! prepared statements: with the Keyspaces retry policy (the default for a Keyspaces
//! endpoint) every idempotent write succeeds; non-idempotent ones fail visibly, never retried.

mod keyspaces_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cql4_conn::{ErrorKind, QueryOptions};
use cql4_frame::{Consistency, Opcode};
use cql4_testkit::emulated::EmulatedCluster;
use cql4_testkit::frames;
use keyspaces_support::*;

const INSERT: &str = "INSERT INTO ks.t (k, v) VALUES (?, ?)";

/// Every other EXECUTE of [`INSERT`] on every node (counted across the cluster) is answered
/// with a write timeout, as Keyspaces answers throttled writes.
fn throttle_every_other_write(cluster: &EmulatedCluster) -> Arc<AtomicUsize> {
    let seen = Arc::new(AtomicUsize::new(0));
    for node in cluster.nodes() {
        let seen = Arc::clone(&seen);
        node.intercept(move |r| {
            let write = r.opcode == Opcode::EXECUTE && r.cql.as_deref() == Some(INSERT);
            (write && seen.fetch_add(1, Ordering::SeqCst) % 2 == 0)
                .then(|| frames::write_timeout("SIMPLE"))
        });
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_idempotent_writes_all_succeed_and_non_idempotent_ones_fail_visibly() {
    let cluster = EmulatedCluster::builder().nodes(3).start().await;
    let mut config = config(&cluster);
    // A Keyspaces endpoint: the Keyspaces retry policy is the default.
    config.keyspaces = Some(true);
    let session = connect(config).await;
    wait_all_up(&session, 3).await;
    let statement = session.prepare(INSERT).await.expect("prepared");
    let seen = throttle_every_other_write(&cluster);
    let options = QueryOptions::new().with_consistency(Consistency::LOCAL_QUORUM);
    let bind = |i: i32| (i, format!("v{i}"));

    assert!(!statement.is_idempotent(), "false unless set");
    let mut failed = 0;
    for i in 0..20 {
        match session.execute(&statement, bind(i), &options).await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::WriteTimeout, "{e}");
                failed += 1;
            }
        }
    }
    assert_eq!(failed, 10, "every throttled non-idempotent write fails");
    assert_eq!(seen.load(Ordering::SeqCst), 20, "and none was sent twice");

    statement.set_idempotent(true);
    for i in 0..20 {
        session
            .execute(&statement, bind(i), &options)
            .await
            .unwrap_or_else(|e| panic!("write {i} retried until it succeeds: {e}"));
    }
    assert_eq!(
        seen.load(Ordering::SeqCst),
        20 + 40,
        "each throttled once, sent twice"
    );

    // The per-request flag wins over the statement's default.
    let not = options.clone().with_idempotent(false);
    let results: Vec<bool> = {
        let mut r = Vec::new();
        for i in 0..4 {
            r.push(session.execute(&statement, bind(i), &not).await.is_ok());
        }
        r
    };
    assert_eq!(results, [false, true, false, true]);
}
