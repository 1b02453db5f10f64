//! The session on the two-data-center cluster of `cargo xtask test` (nodes 1–2 in `dc1`,
//! node 3 in `dc2`): requests stay in the local data center.

mod common;

use std::time::Duration;

use cql4_conn::QueryOptions;
use cql4_session::Session;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_stay_in_the_local_datacenter() {
    let node = cql4_testkit::node::node();
    assert_eq!(
        node.datacenters,
        ["dc1", "dc1", "dc2"],
        "this test needs the two-DC cluster"
    );
    let session = Session::connect(common::config().with_local_datacenter("dc1"))
        .await
        .expect("session");
    common::wait_up(&session, 3, Duration::from_secs(20)).await;
    assert_eq!(session.local_datacenter(), Some("dc1"));
    let before: Vec<u64> = session.nodes().iter().map(|n| n.requests).collect();
    for _ in 0..300 {
        session
            .query(
                "SELECT release_version FROM system.local",
                (),
                &QueryOptions::new(),
            )
            .await
            .expect("query");
    }
    let nodes = session.nodes();
    for (n, b) in nodes.iter().zip(&before) {
        let sent = n.requests - b;
        match n.datacenter.as_deref() {
            Some("dc1") => assert!(
                (120..=180).contains(&sent),
                "{}: {sent} of 300 requests, round robin over 2 local nodes",
                n.address
            ),
            other => assert_eq!(sent, 0, "{} in {other:?} got requests", n.address),
        }
    }
    session.close(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_datacenter_defaults_to_the_contact_points() {
    let session = Session::connect(common::config()).await.expect("session");
    // Node 1 (the contact point) is in dc1.
    assert_eq!(session.local_datacenter(), Some("dc1"));
    let nodes = session.nodes();
    assert_eq!(nodes.len(), 3, "{nodes:#?}");
    let dcs: Vec<_> = nodes.iter().map(|n| n.datacenter.clone()).collect();
    assert_eq!(
        dcs.iter().filter(|d| d.as_deref() == Some("dc2")).count(),
        1
    );
}
