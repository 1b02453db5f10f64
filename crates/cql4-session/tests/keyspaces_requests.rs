//! Amazon Keyspaces' answers to requests, each quirk alone on a small emulated cluster,
//! through `Session`: its partitioner, its refusals, its pages; and a node that stops and
//! starts again (docs/keyspaces.md).

mod keyspaces_support;

use std::time::Duration;

use cql4_conn::{PreparedStatement, QueryOptions};
use cql4_frame::rows::Rows;
use cql4_frame::value::CqlValue;
use cql4_frame::{Consistency, Opcode};
use cql4_session::Session;
use cql4_testkit::emulated::{EmulatedCluster, KEYSPACES_PARTITIONER};
use futures_util::StreamExt;
use keyspaces_support::*;

const SELECT_K: &str = "SELECT v FROM ks.t WHERE k = ?";

/// Executes `statement` with `k = i % 10` for `i` in `0..count` and checks every value.
async fn execute_keys(session: &Session, statement: &PreparedStatement, count: usize) {
    let options = QueryOptions::new().with_consistency(Consistency::LOCAL_ONE);
    for i in 0..count {
        let k = i32::try_from(i % 10).expect("small");
        let values = [Some(CqlValue::Int(k))];
        let result = session
            .execute(statement, values, &options)
            .await
            .unwrap_or_else(|e| panic!("execute k = {k}: {e}"));
        let rows = result.rows().expect("rows");
        let v: &str = rows.row(0).expect("a row").get(0).expect("text");
        assert_eq!(v, format!("v{k}"));
    }
}

fn executions_per_node(cluster: &EmulatedCluster, cql: &str) -> Vec<usize> {
    cluster
        .nodes()
        .iter()
        .map(|n| executions_of(n, cql))
        .collect()
}

/// `com.amazonaws.cassandra.DefaultPartitioner` and tokens that are not numbers: no token
/// map, never an error, round robin over every node for queries and prepared statements.
#[tokio::test]
async fn an_unknown_partitioner_means_no_token_map_and_round_robin() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .keyspaces_tokens()
        .start()
        .await;
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 3).await;
    assert!(!session.has_token_map());
    for node in session.nodes() {
        assert!(!node.tokens.is_empty());
        assert!(
            node.tokens.iter().all(|t| t.parse::<i64>().is_err()),
            "{:?}",
            node.tokens
        );
    }
    read_keys(&session, 30).await;
    assert_eq!(key_reads_per_node(&cluster), [10, 10, 10]);
    let statement = session.prepare(SELECT_K).await.expect("prepared");
    execute_keys(&session, &statement, 30).await;
    assert_eq!(executions_per_node(&cluster, SELECT_K), [10, 10, 10]);
    // Refreshes read the same tables again without error.
    wait_refreshes(&cluster, 1, 2).await;
    assert!(!session.has_token_map());
    execute_keys(&session, &statement, 3).await;
    assert_eq!(executions_per_node(&cluster, SELECT_K), [11, 11, 11]);

    // Murmur3 tokens do give a token map: the assertion above can fail.
    let murmur3 = EmulatedCluster::builder().nodes(3).start().await;
    let session = connect(config(&murmur3)).await;
    assert!(session.has_token_map());
    assert_ne!(
        KEYSPACES_PARTITIONER,
        "org.apache.cassandra.dht.Murmur3Partitioner"
    );
}

/// Keyspaces answers QUORUM, ALL, ANY (…) with Invalid, `USE` included, and refuses to
/// PREPARE a system table. The session's own queries — topology reads at connect and at every
/// refresh, `USE` of `use_keyspace` and of every new connection — never use those levels, not
/// even when the application's default consistency is QUORUM, and are never prepared.
#[tokio::test]
async fn the_session_s_own_queries_run_unprepared_at_local_one_even_with_a_quorum_default() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .keyspaces_consistency()
        .refuse_system_prepare()
        .start()
        .await;
    let mut config = config(&cluster);
    config.connection.default_consistency = Consistency::QUORUM;
    config.keyspace = Some("ks".to_owned());
    let session = connect(config).await;
    wait_all_up(&session, 3).await;
    session.use_keyspace("ks").await.expect("USE ks");
    wait_refreshes(&cluster, 1, 3).await;
    // A new connection after a drop starts with `USE ks` again.
    cluster.node(2).drop_connections();
    until("node 2 reconnected", || cluster.node(2).connections() >= 2).await;
    wait_all_up(&session, 3).await;
    // Unqualified names reach `ks` on every node.
    let local_one = QueryOptions::new().with_consistency(Consistency::LOCAL_ONE);
    for _ in 0..3 {
        let r = session
            .query("SELECT v FROM t WHERE k = 4", (), &local_one)
            .await
            .expect("in ks");
        assert_eq!(r.rows().map(Rows::len), Some(1));
    }
    assert_no_rejected_consistency(&cluster);
    assert!(cluster.requests_of(Opcode::PREPARE).is_empty());
    let own: Vec<(Option<String>, Option<Consistency>)> = cluster
        .requests_of(Opcode::QUERY)
        .into_iter()
        .filter(|r| {
            r.cql
                .as_deref()
                .is_some_and(|q| q.starts_with("USE") || q.contains("FROM system"))
        })
        .map(|r| (r.cql, r.consistency))
        .collect();
    let uses = own
        .iter()
        .filter(|(q, _)| q.as_deref().is_some_and(|q| q.starts_with("USE")));
    assert!(
        uses.count() >= 5,
        "USE at connect (3), use_keyspace (3), reconnect: {own:?}"
    );
    for (cql, level) in &own {
        assert!(
            matches!(*level, Some(Consistency::LOCAL_ONE | Consistency::ONE)),
            "{cql:?} at {level:?}"
        );
    }
    // The application's own default still applies to its requests (and Keyspaces refuses it).
    let refused = session
        .query("SELECT v FROM t WHERE k = 4", (), &QueryOptions::new())
        .await;
    assert!(refused.is_err());
    assert_eq!(cluster.requests_at(Consistency::QUORUM).len(), 1);
}

/// Collects the `k` of every row of a row stream.
async fn keys_of(mut stream: cql4_conn::RowStream) -> Vec<i32> {
    let mut keys = Vec::new();
    while let Some(row) = stream.next().await {
        let row = row.expect("a row");
        keys.push(row.get_by_name::<i32>("k").expect("k"));
    }
    keys
}

/// Keyspaces cuts pages at 1 MB read: the first page of each SELECT of `ks.t` here has no
/// rows and a paging state. Row streams and pagers of queries and prepared statements go on
/// to the end.
#[tokio::test]
async fn a_page_with_no_rows_and_a_paging_state_is_not_the_end() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .empty_first_pages()
        .table_rows(10)
        .start()
        .await;
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 3).await;
    let options = QueryOptions::new().with_page_size(4);
    let all: Vec<i32> = (0..10).collect();
    let keys = keys_of(session.query_rows("SELECT * FROM ks.t", (), &options)).await;
    assert_eq!(keys, all);

    let mut pager = session.query_pages("SELECT * FROM ks.t", (), &options);
    let mut pages = Vec::new();
    let mut keys = Vec::new();
    while let Some(page) = pager.next_page().await {
        let page = page.expect("a page");
        let rows = page.rows().expect("rows");
        pages.push((rows.len(), page.paging_state().is_some()));
        for row in rows.iter() {
            keys.push(row.get::<i32>(0).expect("k"));
        }
    }
    assert_eq!(pages, [(0, true), (4, true), (4, true), (2, false)]);
    assert_eq!(keys, all);

    let statement = session
        .prepare("SELECT * FROM ks.t")
        .await
        .expect("prepared");
    let keys = keys_of(session.execute_rows(&statement, (), &options)).await;
    assert_eq!(keys, all);
    // The pages went to every node: each page is routed on its own.
    let served: Vec<usize> = cluster
        .nodes()
        .iter()
        .map(|n| n.requests_of(Opcode::QUERY).len())
        .collect();
    assert!(served.iter().all(|n| *n > 0), "{served:?}");
}

/// A node that stops gets no requests while the others serve every request; started again, it
/// is reconnected within the backoff bound (200 ms here), gets its statements prepared again
/// and takes its share of requests.
#[tokio::test]
async fn a_stopped_node_gets_no_requests_and_takes_them_again_once_restarted() {
    let cluster = EmulatedCluster::builder().nodes(3).start().await;
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 3).await;
    let statement = session.prepare(SELECT_K).await.expect("prepared");
    let node2 = cluster.node(2).addr();
    let up = |session: &Session| {
        session
            .nodes()
            .iter()
            .find(|n| n.address == node2)
            .is_some_and(|n| n.up)
    };

    cluster.node(2).stop().await;
    until("the session sees node 2 down", || !up(&session)).await;
    let before = key_reads_per_node(&cluster);
    read_keys(&session, 30).await;
    let after = key_reads_per_node(&cluster);
    assert_eq!(after[1], before[1], "the stopped node got requests");
    let served = [after[0] - before[0], after[2] - before[2]];
    assert_eq!(served[0] + served[1], 30);
    // Round robin gives each node 10; the 10 of the down node go to nodes 1 and 3 at random.
    assert!(served.iter().all(|n| *n >= 10), "{served:?}");

    cluster.node(2).start().await;
    let restarted = std::time::Instant::now();
    until("the session reconnects node 2", || up(&session)).await;
    let took = restarted.elapsed();
    assert!(took < Duration::from_secs(2), "reconnected after {took:?}");
    assert_eq!(
        cluster.node(2).prepared(),
        [SELECT_K],
        "prepared again at reconnection"
    );
    let before = key_reads_per_node(&cluster);
    read_keys(&session, 30).await;
    let after = key_reads_per_node(&cluster);
    let share: Vec<usize> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert_eq!(share, [10, 10, 10]);
    // Token-aware: node 2 runs the keys it owns, without an UNPREPARED round trip.
    let executed = executions_of(cluster.node(2), SELECT_K);
    execute_keys(&session, &statement, 30).await;
    assert!(executions_of(cluster.node(2), SELECT_K) > executed);
    let unknown = cluster
        .node(2)
        .requests_of(Opcode::EXECUTE)
        .iter()
        .filter(|r| r.cql.is_none())
        .count();
    assert_eq!(unknown, 0, "EXECUTEs node 2 did not know");
}

/// A single-host session (the CLI's, as cqlsh stays on one host) uses the contact point only,
/// even when its tables list peers (here with Keyspaces' VPC oddities); after the server
/// drops its connection, the next statement runs on a new one.
#[tokio::test]
async fn a_single_host_session_stays_on_its_host_and_reconnects_after_a_drop() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .local_rpc_address_loopback()
        .self_in_peers()
        .start()
        .await;
    let mut config = config(&cluster);
    config.single_host = true;
    let session = connect(config).await;
    read_keys(&session, 2).await;
    cluster.node(1).drop_connections();
    until("the session noticed", || {
        session.nodes().first().is_some_and(|n| !n.up) || cluster.node(1).connections() >= 2
    })
    .await;
    read_keys(&session, 2).await;
    assert_eq!(cluster.node(1).connections(), 2);
    let last = cluster.node(1).requests_of(Opcode::QUERY);
    assert_eq!(
        last.last().map(|r| r.connection),
        Some(1),
        "on the new connection"
    );
    for n in [2, 3] {
        assert_eq!(cluster.node(n).connections(), 0, "node {n} was dialed");
    }
    assert_eq!(cluster.trap_connections(), 0);
}
