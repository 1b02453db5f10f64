//! The topology core against a real Cassandra node: for hundreds of keys of several types,
//! single-column and composite, the token computed from the routing key equals the node's
//! `token(...)`; `system.local` and `system.peers_v2` parse into a Murmur3 token map (one node
//! under `cargo xtask test`, three with `cargo xtask cassandra start --nodes 3`), and the
//! replicas it computes for SimpleStrategy and NetworkTopologyStrategy keyspaces are the nodes
//! that trace the read.
//!
//! Needs the CQL4_TEST_* variables (`cargo xtask test` exports them; by hand, docs/testing.md
//! "Environment given to the tests"): a missing one fails the test, it never skips.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use cql4_conn::{Client, Config, PreparedStatement, QueryOptions};
use cql4_frame::value::CqlValue;
use cql4_frame::SerializeRow;
use cql4_topology::{
    murmur3_token, routing_key, ClusterInfo, ReplicationStrategy, Token, Topology,
};

struct Node {
    host: String,
    port: u16,
    config: Config,
}

/// The test node (`cql4_testkit::node`, from the CQL4_TEST_* variables), logged in with the
/// password.
fn node() -> Node {
    let node = cql4_testkit::node::node();
    let mut config = node.password_config();
    // The keyspaces have one replica: in a two-DC cluster, LOCAL_QUORUM (the default) cannot
    // be met for a key whose replica is in the other DC.
    config.default_consistency = cql4_frame::Consistency::ONE;
    config.request_timeout = Duration::from_secs(60);
    Node {
        host: node.host,
        port: node.port,
        config,
    }
}

/// Runs a schema change, then waits until every node has the same schema version: in a
/// cluster, a write to a table that another replica does not know yet fails
/// (INCOMPATIBLE_SCHEMA).
async fn exec(client: &Client, cql: &str) {
    client
        .query(cql, (), &QueryOptions::new())
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"));
    let version = |cql: &'static str| async move {
        let result = client
            .query(cql, (), &QueryOptions::new())
            .await
            .unwrap_or_else(|e| panic!("{cql}: {e}"));
        result
            .rows()
            .expect("rows")
            .iter()
            .map(|row| row.get::<Option<[u8; 16]>>(0).expect("schema_version"))
            .collect::<Vec<_>>()
    };
    for _ in 0..150 {
        let mut versions = version("SELECT schema_version FROM system.local").await;
        versions.extend(version("SELECT schema_version FROM system.peers_v2").await);
        if versions.windows(2).all(|w| w[0] == w[1]) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no schema agreement 30 s after {cql}");
}

/// A small deterministic generator (xorshift64*): the same keys on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn text(&mut self, len: usize) -> String {
        // Mixed ASCII and multi-byte characters: UTF-8 bytes >= 0x80 exercise the
        // sign-extended tail of Cassandra's MurmurHash3.
        const CHARS: &[char] = &['a', 'Z', '0', ' ', 'é', 'ß', '€', '中', '😀', '\u{7f}'];
        (0..len)
            .map(|_| CHARS[(self.next() % CHARS.len() as u64) as usize])
            .collect()
    }

    fn len(&mut self) -> usize {
        // Mostly short keys covering every tail length (0..16) and a few blocks.
        (self.next() % 50) as usize
    }
}

/// The `[value]`s of `values` bound to `statement`'s markers, as the EXECUTE carries them.
fn bound(statement: &PreparedStatement, values: &impl SerializeRow) -> Vec<u8> {
    let mut row = Vec::new();
    values
        .serialize_row(
            &statement.bind_metadata().columns,
            &mut cql4_frame::Writer::new(&mut row),
        )
        .expect("the values fit the markers");
    row
}

/// Inserts every key with `insert`, then checks `select_token` (whose bind markers are the
/// partition key columns, in key order) against the token of the routing key built from the
/// INSERT's bound values. Returns how many keys were checked.
async fn check_keys(
    client: &Client,
    insert: &PreparedStatement,
    select_token: &PreparedStatement,
    keys: &[Vec<CqlValue>],
    key_positions_in_insert: &[usize],
) -> usize {
    for key in keys {
        // INSERT binds (key columns in the statement's order, then v).
        let mut insert_values: Vec<Option<CqlValue>> =
            vec![None; insert.bind_metadata().columns.len()];
        for (component, position) in key.iter().zip(key_positions_in_insert) {
            insert_values[*position] = Some(component.clone());
        }
        let v_position = insert_values.len() - 1;
        insert_values[v_position] = Some(CqlValue::Int(7));
        let values = insert_values;
        let routing = routing_key(&insert.bind_metadata(), &bound(insert, &values))
            .unwrap_or_else(|| panic!("no routing key for {key:?}"));
        let ours = murmur3_token(&routing);
        client
            .execute(insert, values, &QueryOptions::new())
            .await
            .unwrap_or_else(|e| panic!("INSERT {key:?}: {e}"));

        let select_values: Vec<Option<CqlValue>> = key.iter().cloned().map(Some).collect();
        let result = client
            .execute(select_token, select_values, &QueryOptions::new())
            .await
            .unwrap_or_else(|e| panic!("SELECT token {key:?}: {e}"));
        let rows = result.rows().expect("rows");
        let row = rows
            .row(0)
            .unwrap_or_else(|| panic!("row {key:?} not found"));
        let theirs: i64 = row.get(0).expect("token is a bigint");
        assert_eq!(
            ours,
            Token(theirs),
            "token of {key:?} (routing key {} bytes)",
            routing.len()
        );
    }
    keys.len()
}

#[tokio::test(flavor = "current_thread")]
async fn tokens_and_topology_match_the_node() {
    let node = node();
    let client = Client::connect(&node.config)
        .await
        .unwrap_or_else(|e| panic!("connecting to {}:{}: {e}", node.host, node.port));
    let ks = format!(
        "cql4_topology_tokens_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    exec(
        &client,
        &format!(
            "CREATE KEYSPACE {ks} WITH replication = \
             {{'class':'SimpleStrategy','replication_factor':1}}"
        ),
    )
    .await;

    let outcome = run(&client, &node, &ks).await;
    exec(&client, &format!("DROP KEYSPACE IF EXISTS {ks}")).await;
    outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

async fn run(client: &Client, node: &Node, ks: &str) -> Result<(), Box<dyn std::any::Any + Send>> {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(checks(client, node, ks))
        .catch_unwind()
        .await
}

async fn checks(client: &Client, node: &Node, ks: &str) {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let mut checked = 0;

    // Single-column keys of each type.
    let singles: Vec<(&str, Vec<CqlValue>)> = vec![
        ("int", {
            let mut v: Vec<CqlValue> = [0, 1, -1, i32::MIN, i32::MAX]
                .into_iter()
                .map(CqlValue::Int)
                .collect();
            v.extend((0..95).map(|_| CqlValue::Int(g.next() as i32)));
            v
        }),
        ("bigint", {
            let mut v: Vec<CqlValue> = [0, 1, -1, i64::MIN, i64::MAX]
                .into_iter()
                .map(CqlValue::BigInt)
                .collect();
            v.extend((0..95).map(|_| CqlValue::BigInt(g.next() as i64)));
            v
        }),
        ("text", {
            let mut v: Vec<CqlValue> = (0..95)
                .map(|_| {
                    let n = g.len().max(1);
                    CqlValue::Text(g.text(n))
                })
                .collect();
            v.push(CqlValue::Text("x".repeat(1000)));
            v.push(CqlValue::Text(g.text(5000)));
            v.push(CqlValue::Text("€".repeat(21_845))); // 65,535 bytes
            v
        }),
        ("blob", {
            let mut v: Vec<CqlValue> = (0..95)
                .map(|_| {
                    let n = g.len().max(1);
                    CqlValue::Blob(g.bytes(n))
                })
                .collect();
            v.push(CqlValue::Blob(vec![0xff; 17]));
            v.push(CqlValue::Blob(vec![0x80; 15]));
            v.push(CqlValue::Blob(g.bytes(65_535)));
            v
        }),
        ("uuid", {
            (0..100)
                .map(|_| {
                    let mut u = [0u8; 16];
                    u.copy_from_slice(&g.bytes(16));
                    u[6] = (u[6] & 0x0f) | 0x40;
                    u[8] = (u[8] & 0x3f) | 0x80;
                    CqlValue::Uuid(u)
                })
                .collect()
        }),
    ];
    for (ty, keys) in &singles {
        let table = format!("{ks}.single_{ty}");
        exec(
            client,
            &format!("CREATE TABLE {table} (k {ty} PRIMARY KEY, v int)"),
        )
        .await;
        let insert = client
            .prepare(&format!("INSERT INTO {table} (k, v) VALUES (?, ?)"))
            .await
            .expect("prepare insert");
        assert_eq!(insert.bind_metadata().pk_indexes, vec![0]);
        let select = client
            .prepare(&format!("SELECT token(k) FROM {table} WHERE k = ?"))
            .await
            .expect("prepare select");
        let keys: Vec<Vec<CqlValue>> = keys.iter().map(|k| vec![k.clone()]).collect();
        checked += check_keys(client, &insert, &select, &keys, &[0]).await;
    }

    // An empty single-column key cannot be stored ("Key may not be empty"), but the server
    // computes token('') in a restriction: Murmur3Partitioner maps the empty key to the
    // minimum token, so `token(k) > token('')` is every row.
    let table = format!("{ks}.single_text");
    let all = client
        .query(
            &format!("SELECT count(*) FROM {table}"),
            (),
            &QueryOptions::new(),
        )
        .await
        .expect("count");
    let after_empty = client
        .query(
            &format!("SELECT count(*) FROM {table} WHERE token(k) > token('')"),
            (),
            &QueryOptions::new(),
        )
        .await
        .expect("count after token('')");
    let count = |r: &cql4_conn::QueryResult| -> i64 {
        r.rows()
            .and_then(|rows| rows.row(0))
            .expect("a row")
            .get(0)
            .expect("count")
    };
    assert_eq!(count(&after_empty), count(&all));
    assert_eq!(murmur3_token(b""), Token(i64::MIN));

    // A composite key (a, b, c), bound in another order than the key's in the INSERT.
    let table = format!("{ks}.composite");
    exec(
        client,
        &format!("CREATE TABLE {table} (a int, b text, c blob, v int, PRIMARY KEY ((a, b, c)))"),
    )
    .await;
    let insert = client
        .prepare(&format!(
            "INSERT INTO {table} (c, b, a, v) VALUES (?, ?, ?, ?)"
        ))
        .await
        .expect("prepare composite insert");
    assert_eq!(insert.bind_metadata().pk_indexes, vec![2, 1, 0]);
    let select = client
        .prepare(&format!(
            "SELECT token(a, b, c) FROM {table} WHERE a = ? AND b = ? AND c = ?"
        ))
        .await
        .expect("prepare composite select");
    let mut composite: Vec<Vec<CqlValue>> = vec![
        vec![
            CqlValue::Int(0),
            CqlValue::Text(String::new()),
            CqlValue::Blob(Vec::new()),
        ],
        vec![
            CqlValue::Int(-1),
            CqlValue::Text(String::new()),
            CqlValue::Blob(vec![0xff]),
        ],
        vec![
            CqlValue::Int(1),
            CqlValue::Text("x".repeat(3000)),
            CqlValue::Blob(g.bytes(20_000)),
        ],
    ];
    composite.extend((0..197).map(|_| {
        let (tl, bl) = (g.len(), g.len());
        vec![
            CqlValue::Int(g.next() as i32),
            CqlValue::Text(g.text(tl)),
            CqlValue::Blob(g.bytes(bl)),
        ]
    }));
    // Key components are (a, b, c); in the INSERT they sit at positions 2, 1, 0.
    checked += check_keys(client, &insert, &select, &composite, &[2, 1, 0]).await;
    assert_eq!(checked, 696, "keys checked");

    // The cluster as the control node describes it.
    let local = client
        .query("SELECT * FROM system.local", (), &QueryOptions::new())
        .await
        .expect("system.local");
    let peers = client
        .query("SELECT * FROM system.peers_v2", (), &QueryOptions::new())
        .await
        .expect("system.peers_v2");
    let peer_rows = peers.rows().expect("peer rows");
    let contact: SocketAddr = (node.host.as_str(), node.port)
        .to_socket_addrs()
        .expect("resolve contact")
        .next()
        .expect("an address");
    let cluster = ClusterInfo::from_rows(contact, local.rows().expect("local rows"), peer_rows);
    assert!(cluster.ignored.is_empty(), "{cluster:?}");
    assert_eq!(cluster.nodes.len(), 1 + peer_rows.len(), "{cluster:?}");
    // `cargo xtask test` exports every node's address; with it, the count is known.
    assert_eq!(
        cluster.nodes.len(),
        cql4_testkit::node::node().nodes.len(),
        "{cluster:?}"
    );
    assert_eq!(
        cluster.partitioner.as_deref(),
        Some("org.apache.cassandra.dht.Murmur3Partitioner")
    );
    assert_eq!(cluster.nodes[0].address, contact);
    for n in &cluster.nodes {
        assert!(n.host_id.is_some(), "{n:?}");
        assert!(n.datacenter.is_some() && n.rack.is_some(), "{n:?}");
        assert!(
            n.release_version
                .as_deref()
                .is_some_and(|v| v.starts_with("5.")),
            "{n:?}"
        );
        assert_eq!(n.address.port(), node.port, "{n:?}");
        // The test harness starts its nodes with `num_tokens: 1` (xtask/src/cassandra/config.rs)
        // so that cluster tests know who owns what; a default node would list 16.
        assert!(!n.tokens.is_empty(), "{n:?}");
        assert!(n.tokens.iter().all(|t| Token::parse(t).is_some()), "{n:?}");
    }
    let vnodes: usize = cluster.nodes.iter().map(|n| n.tokens.len()).sum();

    // The keyspace's replication, as system_schema stores it.
    let replication = |ks: String| async move {
        let result = client
            .query(
                &format!(
                    "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = '{ks}'"
                ),
                (),
                &QueryOptions::new(),
            )
            .await
            .expect("system_schema.keyspaces");
        let map: std::collections::BTreeMap<String, String> = result
            .rows()
            .and_then(|r| r.row(0))
            .expect("keyspace row")
            .get(0)
            .expect("replication map");
        ReplicationStrategy::from_replication_map(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    };
    let strategy = replication(ks.to_owned()).await;
    assert_eq!(
        strategy,
        ReplicationStrategy::Simple {
            replication_factor: 1
        }
    );
    // A second keyspace with NetworkTopologyStrategy, one replica in each DC.
    let dcs: std::collections::BTreeSet<&str> = cluster
        .nodes
        .iter()
        .filter_map(|n| n.datacenter.as_deref())
        .collect();
    let nts_ks = format!("{ks}_nts");
    let dc_factors: Vec<String> = dcs.iter().map(|dc| format!("'{dc}': 1")).collect();
    exec(
        client,
        &format!(
            "CREATE KEYSPACE {nts_ks} WITH replication = {{'class': 'NetworkTopologyStrategy', {}}}",
            dc_factors.join(", ")
        ),
    )
    .await;
    let nts_strategy = replication(nts_ks.clone()).await;
    assert_eq!(
        nts_strategy,
        ReplicationStrategy::NetworkTopology {
            datacenters: dcs.iter().map(|dc| ((*dc).to_owned(), 1)).collect()
        }
    );
    let topology = Topology::new(
        cluster.clone(),
        [(ks.to_owned(), strategy), (nts_ks.clone(), nts_strategy)],
    );
    let ring = topology.token_ring().expect("a token map");
    assert_eq!(ring.len(), vnodes);

    // Where the data really is: read each key at ALL with tracing; every replica logs
    // "Executing single-partition query" under its own address. The set of those addresses
    // must be the replicas we compute.
    for keyspace in [ks.to_owned(), nts_ks.clone()] {
        let table = format!("{keyspace}.placed");
        exec(
            client,
            &format!("CREATE TABLE {table} (k int PRIMARY KEY, v int)"),
        )
        .await;
        let select = client
            .prepare(&format!("SELECT v FROM {table} WHERE k = ?"))
            .await
            .expect("prepare traced select");
        for k in 0..12 {
            let values = [Some(CqlValue::Int(k))];
            let routing = routing_key(&select.bind_metadata(), &bound(&select, &values))
                .expect("routing key");
            let ours: std::collections::BTreeSet<std::net::IpAddr> = topology
                .replicas(&keyspace, &routing)
                .expect("replicas")
                .iter()
                .map(|n| n.address.ip())
                .collect();
            let result = client
                .execute(
                    &select,
                    values,
                    &QueryOptions::new()
                        .with_consistency(cql4_frame::Consistency::ALL)
                        .with_tracing(true),
                )
                .await
                .unwrap_or_else(|e| panic!("traced SELECT {k}: {e}"));
            let session = result.tracing_id.expect("a tracing session id");
            let theirs = traced_replicas(client, session, ours.len()).await;
            assert_eq!(ours, theirs, "replicas of k = {k} in {keyspace}");
        }
    }
    exec(client, &format!("DROP KEYSPACE IF EXISTS {nts_ks}")).await;
    assert!(topology.replicas("no_such_keyspace", b"k").is_none());
}

/// The addresses that traced "Executing single-partition query" in tracing session `id`,
/// polled until `expected` of them appear (trace events are written asynchronously) or 20 s
/// pass.
async fn traced_replicas(
    client: &Client,
    id: [u8; 16],
    expected: usize,
) -> std::collections::BTreeSet<std::net::IpAddr> {
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    let cql =
        format!("SELECT source, activity FROM system_traces.events WHERE session_id = {uuid}");
    let mut sources = std::collections::BTreeSet::new();
    for _ in 0..100 {
        // system_traces has two replicas: the default LOCAL_QUORUM fails on a single node.
        let result = client
            .query(
                &cql,
                (),
                &QueryOptions::new().with_consistency(cql4_frame::Consistency::ONE),
            )
            .await
            .expect("system_traces.events");
        sources = result
            .rows()
            .expect("rows")
            .iter()
            .filter(|row| {
                row.get::<&str>(1)
                    .is_ok_and(|a| a.starts_with("Executing single-partition query"))
            })
            .map(|row| row.get::<std::net::IpAddr>(0).expect("source inet"))
            .collect();
        if sources.len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sources
}
