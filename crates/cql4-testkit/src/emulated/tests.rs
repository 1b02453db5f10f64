//! The emulated cluster seen through cql4-conn's `Client`, one connection per node: each
//! quirk answers as documented, and the controls do what they say.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use cql4_conn::{Client, EventType, QueryOptions, TlsConfig};
use cql4_frame::event::Event;
use cql4_frame::response::ErrorCode;
use cql4_frame::rows::Rows;
use cql4_frame::value::CqlValue;
use cql4_frame::{Consistency, Opcode};

use super::*;

fn lo(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

async fn connect(cluster: &EmulatedCluster, number: usize) -> Client {
    Client::connect(&cluster.config_for(number))
        .await
        .expect("the node accepts a connection")
}

async fn select(client: &Client, cql: &str) -> Rows {
    client
        .query(cql, (), &QueryOptions::new())
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"))
        .into_rows()
        .expect("rows")
}

/// The server error `result` failed with.
fn server_error<T: std::fmt::Debug>(result: cql4_conn::Result<T>) -> (ErrorCode, String) {
    let e = result.expect_err("an error");
    let s = e
        .server_error()
        .unwrap_or_else(|| panic!("not a server error: {e}"));
    (s.code, s.message.clone())
}

fn column<'r, T: cql4_frame::value::FromCql<'r>>(rows: &'r Rows, row: usize, name: &str) -> T {
    rows.row(row)
        .expect("the row")
        .get_by_name(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never: {what}");
}

#[tokio::test]
async fn nodes_share_a_port_on_consecutive_loopback_addresses() {
    let cluster = EmulatedCluster::builder().nodes(3).start().await;
    for n in 1..=3 {
        let node = cluster.node(n);
        assert_eq!(node.addr(), SocketAddr::new(lo(n as u8), cluster.port()));
        assert_eq!(node.connections(), 0);
    }
    let client = connect(&cluster, 2).await;
    let local = select(&client, "SELECT * FROM system.local WHERE key = 'local'").await;
    assert_eq!(local.len(), 1);
    assert_eq!(column::<IpAddr>(&local, 0, "rpc_address"), lo(2));
    assert_eq!(
        column::<[u8; 16]>(&local, 0, "host_id"),
        cluster.node(2).spec().host_id
    );
    assert_eq!(
        column::<&str>(&local, 0, "partitioner"),
        MURMUR3_PARTITIONER
    );
    let tokens: Vec<String> = column(&local, 0, "tokens");
    assert_eq!(tokens.len(), 4);
    assert!(
        tokens.iter().all(|t| t.parse::<i64>().is_ok()),
        "{tokens:?}"
    );
    assert_eq!(cluster.node(2).connections(), 1);
    assert_eq!(
        cluster.node(1).connections() + cluster.node(3).connections(),
        0
    );
    assert_eq!(
        cluster.node(2).queries(),
        vec!["SELECT * FROM system.local WHERE key = 'local'"]
    );
    assert!(cluster.failures().is_empty());
}

#[tokio::test]
async fn peers_and_peers_v2_list_the_other_nodes() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .datacenter(3, "dc2")
        .start()
        .await;
    let client = connect(&cluster, 1).await;
    let peers = select(
        &client,
        "SELECT peer, rpc_address, host_id, data_center FROM system.peers",
    )
    .await;
    assert_eq!(peers.columns_count(), 4);
    assert_eq!(peers.len(), 2);
    for (row, n) in [(0, 2), (1, 3)] {
        assert_eq!(column::<IpAddr>(&peers, row, "rpc_address"), lo(n as u8));
        assert_eq!(
            column::<[u8; 16]>(&peers, row, "host_id"),
            cluster.node(n).spec().host_id
        );
    }
    assert_eq!(column::<&str>(&peers, 1, "data_center"), "dc2");
    let v2 = select(&client, "SELECT * FROM system.peers_v2").await;
    assert_eq!(v2.len(), 2);
    assert_eq!(
        column::<i32>(&v2, 0, "native_port"),
        i32::from(cluster.port())
    );
    assert_eq!(column::<IpAddr>(&v2, 1, "native_address"), lo(3));
    let keyspaces = select(&client, "SELECT keyspace_name FROM system_schema.keyspaces").await;
    let names: Vec<&str> = (0..keyspaces.len())
        .map(|i| column(&keyspaces, i, "keyspace_name"))
        .collect();
    assert_eq!(names, ["system", "system_schema", "ks"]);
    let (code, message) = server_error(
        client
            .query("SELECT nope FROM system.local", (), &QueryOptions::new())
            .await,
    );
    assert_eq!(
        (code, message.as_str()),
        (ErrorCode::INVALID, "Undefined column name nope")
    );
}

#[tokio::test]
async fn vpc_local_rpc_address_reads_127_0_0_1_and_127_0_0_1_is_a_trap() {
    let cluster = EmulatedCluster::builder()
        .nodes(2)
        .local_rpc_address_loopback()
        .start()
        .await;
    assert_eq!(cluster.node(1).addr().ip(), lo(2));
    assert_eq!(cluster.node(2).addr().ip(), lo(3));
    let trap = cluster.trap_addr().expect("a trap");
    assert_eq!(trap, SocketAddr::new(lo(1), cluster.port()));
    let client = connect(&cluster, 1).await;
    let local = select(
        &client,
        "SELECT rpc_address, broadcast_address FROM system.local",
    )
    .await;
    assert_eq!(column::<IpAddr>(&local, 0, "rpc_address"), lo(1));
    assert_eq!(column::<IpAddr>(&local, 0, "broadcast_address"), lo(1));
    // The peers still show the real addresses.
    let peers = select(&client, "SELECT rpc_address FROM system.peers").await;
    assert_eq!(column::<IpAddr>(&peers, 0, "rpc_address"), lo(3));
    assert_eq!(cluster.trap_connections(), 0);
    let dialed = tokio::net::TcpStream::connect(trap).await;
    assert!(dialed.is_ok(), "the trap accepts");
    until("the trap counts the dial", || {
        cluster.trap_connections() == 1
    })
    .await;
}

#[tokio::test]
async fn vpc_self_row_and_duplicate_host_ids_in_peers() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .self_in_peers()
        .duplicate_peer_rows()
        .start()
        .await;
    let client = connect(&cluster, 1).await;
    let peers = select(&client, "SELECT rpc_address, host_id FROM system.peers").await;
    let rows: Vec<(IpAddr, [u8; 16])> = (0..peers.len())
        .map(|i| {
            (
                column(&peers, i, "rpc_address"),
                column(&peers, i, "host_id"),
            )
        })
        .collect();
    let id = |n: usize| cluster.node(n).spec().host_id;
    let at = |n: usize| cluster.node(n).addr().ip();
    assert_eq!(
        rows,
        vec![
            (at(1), id(1)),
            (lo(1), id(1)),
            (at(2), id(2)),
            (lo(1), id(2)),
            (at(3), id(3)),
            (lo(1), id(3)),
        ]
    );
}

#[tokio::test]
async fn visible_peers_zero_or_one() {
    for (visible, expected) in [(0, 0), (1, 1)] {
        let cluster = EmulatedCluster::builder()
            .nodes(3)
            .visible_peers(visible)
            .start()
            .await;
        let client = connect(&cluster, 2).await;
        for table in ["system.peers", "system.peers_v2"] {
            let peers = select(&client, &format!("SELECT * FROM {table}")).await;
            assert_eq!(peers.len(), expected, "{table} with {visible} visible");
        }
        if expected == 1 {
            let peers = select(&client, "SELECT rpc_address FROM system.peers").await;
            assert_eq!(column::<IpAddr>(&peers, 0, "rpc_address"), lo(1));
        }
    }
}

#[tokio::test]
async fn keyspaces_partitioner_and_tokens_that_are_not_numbers() {
    let cluster = EmulatedCluster::builder()
        .nodes(2)
        .keyspaces_tokens()
        .start()
        .await;
    let client = connect(&cluster, 1).await;
    let local = select(&client, "SELECT partitioner, tokens FROM system.local").await;
    assert_eq!(
        column::<&str>(&local, 0, "partitioner"),
        KEYSPACES_PARTITIONER
    );
    let peers = select(&client, "SELECT tokens FROM system.peers").await;
    for tokens in [
        column::<Vec<String>>(&local, 0, "tokens"),
        column(&peers, 0, "tokens"),
    ] {
        assert!(!tokens.is_empty());
        assert!(
            tokens.iter().all(|t| t.parse::<i64>().is_err()),
            "{tokens:?}"
        );
    }
}

#[tokio::test]
async fn keyspaces_consistency_rejects_quorum_all_and_any_even_for_use() {
    let cluster = EmulatedCluster::builder()
        .keyspaces_consistency()
        .start()
        .await;
    let client = connect(&cluster, 1).await;
    for c in [Consistency::QUORUM, Consistency::ALL, Consistency::ANY] {
        for cql in [
            "SELECT * FROM system.local",
            "USE ks",
            "INSERT INTO ks.t (k, v) VALUES (1, 'a')",
        ] {
            let options = QueryOptions::new().with_consistency(c);
            let (code, message) = server_error(client.query(cql, (), &options).await);
            assert_eq!(code, ErrorCode::INVALID);
            let name = c.name().expect("a known level");
            assert_eq!(
                message,
                format!(
                    "Consistency level {name} is not supported for this operation. Supported \
                     consistency levels are: ONE, LOCAL_QUORUM, LOCAL_ONE"
                )
            );
        }
    }
    for c in [
        Consistency::ONE,
        Consistency::LOCAL_ONE,
        Consistency::LOCAL_QUORUM,
    ] {
        let options = QueryOptions::new().with_consistency(c);
        client
            .query("SELECT * FROM system.local", (), &options)
            .await
            .expect("accepted");
    }
    // Rejected or not, every request is recorded with its level.
    assert_eq!(cluster.requests_at(Consistency::QUORUM).len(), 3);
    assert_eq!(cluster.node(1).requests_at(Consistency::LOCAL_ONE).len(), 1);
    // Without the quirk, QUORUM is fine.
    let plain = EmulatedCluster::builder().start().await;
    let options = QueryOptions::new().with_consistency(Consistency::QUORUM);
    connect(&plain, 1)
        .await
        .query("SELECT * FROM system.local", (), &options)
        .await
        .expect("Cassandra accepts QUORUM");
}

#[tokio::test]
async fn refuse_system_prepare_refuses_system_tables_only() {
    let cluster = EmulatedCluster::builder()
        .refuse_system_prepare()
        .start()
        .await;
    let client = connect(&cluster, 1).await;
    for cql in [
        "SELECT * FROM system.local",
        "SELECT * FROM system.peers",
        "SELECT * FROM system_schema.keyspaces WHERE keyspace_name = ?",
    ] {
        let (code, _) = server_error(client.prepare(cql).await);
        assert_eq!(code, ErrorCode::INVALID, "{cql}");
    }
    client
        .prepare("SELECT * FROM ks.t WHERE k = ?")
        .await
        .expect("a user table prepares");
    assert_eq!(cluster.node(1).requests_of(Opcode::PREPARE).len(), 4);
    assert_eq!(
        cluster.node(1).prepared(),
        ["SELECT * FROM ks.t WHERE k = ?"]
    );
    let plain = EmulatedCluster::builder().start().await;
    connect(&plain, 1)
        .await
        .prepare("SELECT * FROM system.local")
        .await
        .expect("Cassandra prepares system tables");
}

#[tokio::test]
async fn no_peers_v2_is_an_unconfigured_table() {
    let cluster = EmulatedCluster::builder()
        .nodes(2)
        .no_peers_v2()
        .start()
        .await;
    let client = connect(&cluster, 1).await;
    let (code, message) = server_error(
        client
            .query("SELECT * FROM system.peers_v2", (), &QueryOptions::new())
            .await,
    );
    assert_eq!(
        (code, message.as_str()),
        (ErrorCode::INVALID, "unconfigured table peers_v2")
    );
    assert_eq!(select(&client, "SELECT * FROM system.peers").await.len(), 1);
}

/// Every page of `SELECT * FROM ks.t` at page size 4: (rows, has a paging state).
async fn pages(client: &Client) -> Vec<(usize, bool)> {
    let mut out = Vec::new();
    let mut options = QueryOptions::new().with_page_size(4);
    loop {
        let page = client
            .query("SELECT * FROM ks.t", (), &options)
            .await
            .expect("a page");
        let state = page.paging_state().cloned();
        out.push((page.rows().map_or(0, Rows::len), state.is_some()));
        match state {
            Some(s) => options = options.with_paging_state(s),
            None => return out,
        }
    }
}

#[tokio::test]
async fn empty_first_pages_carry_a_paging_state() {
    let cluster = EmulatedCluster::builder().empty_first_pages().start().await;
    let client = connect(&cluster, 1).await;
    assert_eq!(
        pages(&client).await,
        [(0, true), (4, true), (4, true), (2, false)]
    );
    // System tables are not cut.
    assert_eq!(select(&client, "SELECT * FROM system.local").await.len(), 1);
    let plain = EmulatedCluster::builder().table_rows(9).start().await;
    assert_eq!(
        pages(&connect(&plain, 1).await).await,
        [(4, true), (4, true), (1, false)]
    );
}

#[tokio::test]
async fn use_sets_the_keyspace_of_the_connection_only_when_it_exists() {
    let cluster = EmulatedCluster::builder()
        .keyspace(
            "other",
            &[("class", "SimpleStrategy"), ("replication_factor", "3")],
        )
        .start()
        .await;
    let client = connect(&cluster, 1).await;
    let (code, _) = server_error(
        client
            .query("SELECT * FROM t", (), &QueryOptions::new())
            .await,
    );
    assert_eq!(code, ErrorCode::INVALID, "no keyspace yet");
    let (code, message) = server_error(client.use_keyspace("missing").await);
    assert_eq!(
        (code, message.as_str()),
        (ErrorCode::INVALID, "Keyspace 'missing' does not exist")
    );
    client
        .use_keyspace("other")
        .await
        .expect("a keyspace added by the builder");
    client.use_keyspace("ks").await.expect("the user keyspace");
    assert_eq!(select(&client, "SELECT * FROM t").await.len(), 10);
    let one = select(&client, "SELECT v FROM t WHERE k = 7").await;
    assert_eq!(column::<&str>(&one, 0, "v"), "v7");
}

#[tokio::test]
async fn prepared_statements_carry_the_partition_key_and_run_on_any_node_that_prepared_them() {
    let cluster = EmulatedCluster::builder().nodes(2).start().await;
    let (one, two) = (connect(&cluster, 1).await, connect(&cluster, 2).await);
    let select_k = "SELECT * FROM ks.t WHERE k = ?";
    let a = one.prepare(select_k).await.expect("prepared");
    let b = two.prepare(select_k).await.expect("prepared");
    assert_eq!(a.id(), b.id(), "the same id on every node, as Cassandra's");
    let meta = a.bind_metadata();
    assert_eq!(meta.pk_indexes, [0]);
    assert_eq!(meta.columns[0].name, "k");
    let values = [Some(CqlValue::Int(3))];
    let rows = one
        .execute(&a, values, &QueryOptions::new())
        .await
        .expect("executed")
        .into_rows()
        .expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(column::<&str>(&rows, 0, "v"), "v3");
    let insert = one
        .prepare("INSERT INTO ks.t (v, k) VALUES (?, ?)")
        .await
        .expect("prepared");
    assert_eq!(insert.bind_metadata().pk_indexes, [1]);
    let values = [Some(CqlValue::Text("x".into())), Some(CqlValue::Int(1))];
    let done = one
        .execute(&insert, values, &QueryOptions::new())
        .await
        .expect("a write");
    assert!(done.rows().is_none());
    // A node that forgot the statement answers UNPREPARED; the client prepares it again.
    cluster.node(1).forget_prepared();
    let values = [Some(CqlValue::Int(4))];
    one.execute(&a, values, &QueryOptions::new())
        .await
        .expect("re-prepared");
    let prepares = cluster.node(1).requests_of(Opcode::PREPARE);
    assert_eq!(prepares.len(), 3);
    assert_eq!(prepares[2].cql.as_deref(), Some(select_k));
    let executes = cluster.node(1).requests_of(Opcode::EXECUTE);
    assert_eq!(executes.len(), 4);
    assert_eq!(executes[0].cql.as_deref(), Some(select_k));
    assert_eq!(executes[0].consistency, Some(Consistency::LOCAL_QUORUM));
}

#[tokio::test]
async fn registered_connections_get_pushed_events() {
    let cluster = EmulatedCluster::builder().nodes(2).start().await;
    let client = connect(&cluster, 1).await;
    let idle = connect(&cluster, 2).await;
    let mut events = client
        .register(&[EventType::StatusChange, EventType::TopologyChange])
        .await
        .expect("READY");
    let down = Event::StatusChange {
        change: cql4_frame::event::StatusChange::Down,
        address: cluster.node(2).addr(),
    };
    assert_eq!(
        cluster.push_event(&down),
        1,
        "only the registered connection"
    );
    let got = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("in time")
        .expect("open")
        .expect("an event");
    assert_eq!(got, down);
    drop(idle);
}

#[tokio::test]
async fn drop_connections_closes_them_and_the_node_stays_up() {
    let cluster = EmulatedCluster::builder().nodes(2).start().await;
    let client = connect(&cluster, 1).await;
    let other = connect(&cluster, 2).await;
    assert_eq!(cluster.node(1).open_connections(), 1);
    cluster.node(1).drop_connections();
    until("the client sees the close", || client.is_closed()).await;
    until("the node counts it", || {
        cluster.node(1).open_connections() == 0
    })
    .await;
    assert!(!other.is_closed());
    let again = connect(&cluster, 1).await;
    select(&again, "SELECT * FROM system.local").await;
    assert_eq!(cluster.node(1).connections(), 2);
}

#[tokio::test]
async fn a_stopped_node_refuses_connections_until_started() {
    let cluster = EmulatedCluster::builder().nodes(2).start().await;
    let client = connect(&cluster, 2).await;
    client
        .prepare("SELECT * FROM ks.t WHERE k = ?")
        .await
        .expect("prepared");
    cluster.node(2).stop().await;
    assert!(!cluster.node(2).is_up());
    until("the client sees the close", || client.is_closed()).await;
    let refused = tokio::net::TcpStream::connect(cluster.node(2).addr()).await;
    assert_eq!(
        refused.expect_err("refused").kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    connect(&cluster, 1).await;
    cluster.node(2).start().await;
    assert!(cluster.node(2).prepared().is_empty(), "a restart forgets");
    let back = connect(&cluster, 2).await;
    select(&back, "SELECT * FROM system.local").await;
    assert_eq!(cluster.node(2).connections(), 2);
}

fn host_name_cluster() -> Builder {
    EmulatedCluster::builder()
        .nodes(2)
        .tls_host_name("cassandra.us-east-1.amazonaws.com")
}

#[tokio::test]
async fn tls_host_name_certificates_verify_by_name_only() {
    let cluster = host_name_cluster().start().await;
    assert_eq!(
        cluster.tls_host_name(),
        Some("cassandra.us-east-1.amazonaws.com")
    );
    // Node 2 by IP, verifying the contact point's name: accepted.
    let client = connect(&cluster, 2).await;
    select(&client, "SELECT * FROM system.local").await;
    // Node 2 by IP, verifying its IP: the certificate does not name it.
    let mut by_ip = cluster.config_for(2);
    by_ip.tls = Some(TlsConfig::new().with_ca_pem(cluster.ca_pem().expect("a CA").as_bytes()));
    let e = Client::connect(&by_ip)
        .await
        .expect_err("no IP in the certificate");
    assert!(matches!(e, cql4_conn::Error::Tls(_)), "{e:?}");
    assert_eq!(
        cluster.node(2).connections(),
        1,
        "the failed handshake reached no node"
    );
}

#[tokio::test]
async fn tls_certificates_name_every_node_address() {
    let cluster = EmulatedCluster::builder().nodes(2).tls().start().await;
    for n in 1..=2 {
        let client = connect(&cluster, n).await;
        select(&client, "SELECT * FROM system.local").await;
    }
    // Plain TCP to a TLS node fails.
    let mut plain = cluster.config_for(1);
    plain.tls = None;
    plain.connect_timeout = Duration::from_secs(2);
    assert!(Client::connect(&plain).await.is_err());
}

#[tokio::test]
async fn plain_login_against_helenus_and_a_password_change() {
    let cluster = EmulatedCluster::builder()
        .nodes(2)
        .authenticator(HELENUS_AUTHENTICATOR)
        .credentials("alice", "s3cret")
        .start()
        .await;
    let client = connect(&cluster, 1).await;
    select(&client, "SELECT * FROM system.local").await;
    assert_eq!(
        cluster.node(1).logins(),
        [Login::Plain {
            username: "alice".into()
        }]
    );
    let sent = cluster.node(1).requests_of(Opcode::AUTH_RESPONSE);
    assert_eq!(sent.len(), 1);
    // The old password no longer works once the cluster's changes.
    let old = cluster.config_for(2);
    cluster.set_credentials("alice", "rotated");
    let e = Client::connect(&old).await.expect_err("refused");
    assert!(
        matches!(&e, cql4_conn::Error::AuthRejected { message } if message.contains("alice")),
        "{e:?}"
    );
    assert!(!e.to_string().contains("s3cret"), "{e}");
    connect(&cluster, 2).await;
    assert!(!client.is_closed(), "authenticated connections stay");
}

#[tokio::test]
async fn sigv4_against_helenus() {
    let cluster = EmulatedCluster::builder()
        .authenticator(HELENUS_AUTHENTICATOR)
        .start()
        .await;
    let mut config = cluster.config();
    let credentials = cql4_auth::Credentials::new("AKIDEMULATED", "secret", None, None);
    config.auth = Some(Arc::new(cql4_auth::SigV4AuthProvider::new(
        Arc::new(credentials),
        "us-east-1",
    )));
    let client = Client::connect(&config).await.expect("SigV4 accepted");
    select(&client, "SELECT * FROM system.local").await;
    assert_eq!(
        cluster.node(1).logins(),
        [Login::SigV4 {
            access_key: "AKIDEMULATED".into()
        }]
    );
    assert_eq!(cluster.node(1).requests_of(Opcode::AUTH_RESPONSE).len(), 2);
}

#[tokio::test]
async fn no_authenticator_means_no_login() {
    let cluster = EmulatedCluster::builder().start().await;
    connect(&cluster, 1).await;
    assert!(cluster.node(1).logins().is_empty());
    assert!(cluster
        .node(1)
        .requests_of(Opcode::AUTH_RESPONSE)
        .is_empty());
}

#[tokio::test]
async fn loopback_peers_put_node_1_on_a_non_loopback_address() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("skipped: this machine has no non-loopback address");
        return;
    };
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .loopback_peers()
        .start()
        .await;
    assert_eq!(cluster.node(1).addr().ip(), ip);
    let client = connect(&cluster, 1).await;
    let local = select(&client, "SELECT rpc_address FROM system.local").await;
    assert_eq!(column::<IpAddr>(&local, 0, "rpc_address"), ip);
    let peers = select(&client, "SELECT rpc_address FROM system.peers").await;
    let addrs: Vec<IpAddr> = (0..peers.len())
        .map(|i| column(&peers, i, "rpc_address"))
        .collect();
    assert_eq!(addrs, [lo(2), lo(3)]);
}

#[tokio::test]
async fn keyspaces_vpc_quirks_together() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .keyspaces_vpc_quirks()
        .start()
        .await;
    let client = connect(&cluster, 1).await;
    let local = select(&client, "SELECT * FROM system.local").await;
    assert_eq!(column::<IpAddr>(&local, 0, "rpc_address"), lo(1));
    assert_eq!(column::<&str>(&local, 0, "data_center"), "us-east-1");
    assert_eq!(
        column::<&str>(&local, 0, "cluster_name"),
        "Amazon Keyspaces"
    );
    assert_eq!(column::<&str>(&local, 0, "release_version"), "3.11.2");
    // The self row, then the 2 peers.
    let peers = select(&client, "SELECT host_id FROM system.peers").await;
    assert_eq!(peers.len(), 3);
    assert_eq!(
        column::<[u8; 16]>(&peers, 0, "host_id"),
        column::<[u8; 16]>(&local, 0, "host_id")
    );
    let ks = select(
        &client,
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'ks'",
    )
    .await;
    let replication: CqlValue = column(&ks, 0, "replication");
    assert_eq!(
        replication,
        CqlValue::Map(vec![(
            CqlValue::Text("class".into()),
            CqlValue::Text("SingleRegionStrategy".into())
        )])
    );
    let (code, _) = server_error(
        client
            .query("SELECT * FROM system.peers_v2", (), &QueryOptions::new())
            .await,
    );
    assert_eq!(code, ErrorCode::INVALID);
    assert_eq!(pages(&client).await.first(), Some(&(0, true)));
    assert_eq!(cluster.trap_connections(), 0);
    assert!(cluster.failures().is_empty());
}

#[tokio::test]
async fn intercepted_requests_get_the_test_s_answer_after_the_handshake() {
    let cluster = EmulatedCluster::builder().nodes(2).start().await;
    let client = connect(&cluster, 1).await;
    cluster.node(1).intercept(|r| {
        let write = r.cql.as_deref().is_some_and(|q| q.starts_with("INSERT"));
        write.then(|| crate::frames::write_timeout("SIMPLE"))
    });
    let insert = "INSERT INTO ks.t (k, v) VALUES (1, 'a')";
    let (code, _) = server_error(client.query(insert, (), &QueryOptions::new()).await);
    assert_eq!(code, ErrorCode::WRITE_TIMEOUT);
    select(&client, "SELECT * FROM system.local").await;
    // Only node 1, and a new connection still logs in.
    connect(&cluster, 2)
        .await
        .query(insert, (), &QueryOptions::new())
        .await
        .expect("node 2 is not intercepted");
    cluster
        .node(1)
        .intercept(|_| Some(crate::frames::unavailable()));
    let fresh = connect(&cluster, 1).await;
    let (code, _) = server_error(fresh.query(insert, (), &QueryOptions::new()).await);
    assert_eq!(code, ErrorCode::UNAVAILABLE);
    cluster.node(1).clear_intercept();
    client
        .query(insert, (), &QueryOptions::new())
        .await
        .expect("answered by the node again");
    assert_eq!(
        cluster
            .node(1)
            .queries()
            .iter()
            .filter(|q| *q == insert)
            .count(),
        3
    );
}

#[tokio::test]
async fn a_delay_answers_one_connection_s_requests_in_turn() {
    let cluster = EmulatedCluster::builder().start().await;
    let client = connect(&cluster, 1).await;
    let delay = Duration::from_millis(60);
    cluster.node(1).set_delay(delay);
    let started = tokio::time::Instant::now();
    let options = QueryOptions::new();
    let q = || client.query("SELECT * FROM system.local", (), &options);
    let (a, b, c) = tokio::join!(q(), q(), q());
    for r in [a, b, c] {
        r.expect("answered");
    }
    assert!(started.elapsed() >= delay * 3, "{:?}", started.elapsed());
    cluster.node(1).set_delay(Duration::ZERO);
}
