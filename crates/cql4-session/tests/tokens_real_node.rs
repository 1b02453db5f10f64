//! The topology core against a real Cassandra node: for hundreds of keys of several types,
//! single-column and composite, the token computed from the routing key equals the node's
//! `token(...)`; the node's own `system.local` row parses into a one-node Murmur3 token map
//! whose replicas are that node.
//!
//! Needs the CQL4_TEST_* variables (`cargo xtask test` exports them; or
//! `source /work/notes/testenv.sh`): a missing one fails the test, it never skips.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use cql4_conn::{Client, Config, PreparedStatement, QueryOptions, TlsConfig};
use cql4_frame::request::{BoundValue, QueryValues};
use cql4_frame::value::CqlValue;
use cql4_session::{murmur3_token, routing_key, ClusterInfo, ReplicationStrategy, Token, Topology};

fn var(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{name} is not set: run the integration tests with `cargo xtask test` (it starts the \
             local Cassandra node and exports CQL4_TEST_*), or export them by hand as \
             docs/testing.md describes"
        ),
    }
}

struct Node {
    host: String,
    port: u16,
    config: Config,
}

fn node() -> Node {
    let host = var("CQL4_TEST_HOST");
    let port: u16 = var("CQL4_TEST_PORT")
        .parse()
        .expect("CQL4_TEST_PORT is a port number");
    let mut config = Config::new(host.clone(), port);
    config.tls = Some(
        TlsConfig::new()
            .with_ca_file(var("CQL4_TEST_CA"))
            .with_server_name(var("CQL4_TEST_SERVER_NAME")),
    );
    config.auth = Some(Arc::new(
        cql4_auth::PasswordAuthenticator::new(var("CQL4_TEST_USER"), var("CQL4_TEST_PASSWORD"))
            .expect("valid credentials"),
    ));
    config.connect_timeout = Duration::from_secs(20);
    config.request_timeout = Duration::from_secs(60);
    Node { host, port, config }
}

async fn exec(client: &Client, cql: &str) {
    client
        .query(cql, (), &QueryOptions::new())
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"));
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

fn bound(values: &cql4_conn::Values) -> Vec<BoundValue> {
    match values.as_query_values() {
        Some(QueryValues::Positional(v)) => v.clone(),
        other => panic!("positional values expected, got {other:?}"),
    }
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
        let values = insert
            .bind(&insert_values)
            .unwrap_or_else(|e| panic!("binding {key:?}: {e}"));
        let routing = routing_key(&insert.bind_metadata(), &bound(&values))
            .unwrap_or_else(|| panic!("no routing key for {key:?}"));
        let ours = murmur3_token(&routing);
        client
            .execute(insert, values, &QueryOptions::new())
            .await
            .unwrap_or_else(|e| panic!("INSERT {key:?}: {e}"));

        let select_values: Vec<Option<CqlValue>> = key.iter().cloned().map(Some).collect();
        let result = client
            .execute(
                select_token,
                select_token.bind(&select_values).expect("bind select"),
                &QueryOptions::new(),
            )
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
        "cql4_session_tokens_{}_{}",
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

    // The node's own system.local row: one node, Murmur3, 16 or 256 tokens.
    let local = client
        .query("SELECT * FROM system.local", (), &QueryOptions::new())
        .await
        .expect("system.local");
    let peers = client
        .query("SELECT * FROM system.peers", (), &QueryOptions::new())
        .await
        .expect("system.peers");
    let contact: SocketAddr = (node.host.as_str(), node.port)
        .to_socket_addrs()
        .expect("resolve contact")
        .next()
        .expect("an address");
    let cluster = ClusterInfo::from_rows(
        contact,
        local.rows().expect("local rows"),
        peers.rows().expect("peer rows"),
    );
    assert_eq!(cluster.nodes.len(), 1, "{cluster:?}");
    assert!(cluster.ignored.is_empty(), "{cluster:?}");
    assert_eq!(
        cluster.partitioner.as_deref(),
        Some("org.apache.cassandra.dht.Murmur3Partitioner")
    );
    let control = &cluster.nodes[0];
    assert_eq!(control.address, contact);
    assert!(control.host_id.is_some());
    assert!(control.datacenter.is_some() && control.rack.is_some());
    assert!(
        control
            .release_version
            .as_deref()
            .is_some_and(|v| v.starts_with("5.")),
        "{control:?}"
    );
    // The test harness starts its nodes with `num_tokens: 1` (xtask/src/cassandra/config.rs)
    // so that cluster tests know who owns what; a default node would list 16.
    let vnodes = control.tokens.len();
    assert!(vnodes >= 1, "{control:?}");
    assert!(
        control.tokens.iter().all(|t| Token::parse(t).is_some()),
        "{control:?}"
    );

    // The keyspace's replication, as system_schema stores it.
    let replication = client
        .query(
            &format!(
                "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = '{ks}'"
            ),
            (),
            &QueryOptions::new(),
        )
        .await
        .expect("system_schema.keyspaces");
    let map: std::collections::BTreeMap<String, String> = replication
        .rows()
        .and_then(|r| r.row(0))
        .expect("keyspace row")
        .get(0)
        .expect("replication map");
    let strategy = ReplicationStrategy::from_replication_map(
        map.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    assert_eq!(
        strategy,
        ReplicationStrategy::Simple {
            replication_factor: 1
        }
    );
    let topology = Topology::new(cluster.clone(), [(ks.to_owned(), strategy)]);
    let ring = topology.token_ring().expect("a token map");
    assert_eq!(ring.len(), vnodes);
    for key in composite.iter().take(50) {
        let insert_values: Vec<Option<CqlValue>> = vec![
            Some(key[2].clone()),
            Some(key[1].clone()),
            Some(key[0].clone()),
            Some(CqlValue::Int(0)),
        ];
        let values = insert.bind(&insert_values).expect("bind");
        let routing = routing_key(&insert.bind_metadata(), &bound(&values)).expect("routing key");
        let replicas = topology.replicas(ks, &routing).expect("replicas");
        let addresses: Vec<SocketAddr> = replicas.iter().map(|n| n.address).collect();
        assert_eq!(addresses, vec![contact]);
    }
    assert!(topology.replicas("no_such_keyspace", b"k").is_none());
}
