//! The session benchmark's client: cql4's `Session` against scylla's `Session` on the local
//! 3-node cluster in keyspaces mode (TLS, PasswordAuthenticator), driven by
//! `cargo xtask bench --session`, which exports the cluster's `CQL4_TEST_*` variables.
//!
//! ```text
//! session_client --setup
//! session_client --driver cql4|scylla --nodes 1|3 --workload select|insert \
//!     [--concurrency 256] [--warmup 2] [--duration 10]
//! session_client --startup [--rounds 5]
//! session_client --reconnect   (then follows the xtask's lines on stdin, see `reconnect`)
//! ```
//! Each mode prints one JSON line on stdout (`--reconnect` prints `ready` and `down` first).
//!
//! `--nodes 1` restricts both drivers to node 1 (cql4: `SessionConfig::single_host`; scylla:
//! an `AllowListHostFilter` naming node 1, so it opens no pool to the others); `--nodes 3`
//! lets both discover the cluster from node 1. Both use their defaults otherwise: one
//! connection per node, token-aware routing, LOCAL_QUORUM. Statements are `bench.t`'s, as in
//! the other benchmarks, in a keyspace replicated to all three nodes.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cql4_bench::drive::{drive, BoxError, Outcome};
use cql4_bench::pages;
use cql4_bench::record::Record;
use cql4_bench::schema::{check_row, insert_id, INSERT, INSERT_NAME as NAME, SELECT, SELECT_ID};
use serde_json::{json, Value};
use tokio::sync::mpsc;

struct Args {
    mode: Mode,
    driver: String,
    nodes: usize,
    workload: String,
    concurrency: u32,
    warmup: f64,
    duration: f64,
    rounds: usize,
}

#[derive(PartialEq, Eq)]
enum Mode {
    Throughput,
    Setup,
    Startup,
    Reconnect,
}

fn args() -> Args {
    let mut a = Args {
        mode: Mode::Throughput,
        driver: "cql4".into(),
        nodes: 3,
        workload: "select".into(),
        concurrency: 256,
        warmup: 2.0,
        duration: 10.0,
        rounds: 5,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--setup" => a.mode = Mode::Setup,
            "--startup" => a.mode = Mode::Startup,
            "--reconnect" => a.mode = Mode::Reconnect,
            "--driver" => a.driver = v(),
            "--nodes" => a.nodes = v().parse().expect("--nodes"),
            "--workload" => a.workload = v(),
            "--concurrency" => a.concurrency = v().parse().expect("--concurrency"),
            "--warmup" => a.warmup = v().parse().expect("--warmup"),
            "--duration" => a.duration = v().parse().expect("--duration"),
            "--rounds" => a.rounds = v().parse().expect("--rounds"),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// The cluster, from the variables `cargo xtask` exports (docs/testing.md). No `Debug`: it
/// holds the password.
struct Cluster {
    host: String,
    port: u16,
    nodes: Vec<String>,
    local_dc: String,
    ca: String,
    server_name: String,
    user: String,
    password: String,
}

fn var(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|_| {
        format!("{name} is not set (run through `cargo xtask bench --session`)").into()
    })
}

impl Cluster {
    fn from_env() -> Result<Self, BoxError> {
        Ok(Self {
            host: var("CQL4_TEST_HOST")?,
            port: var("CQL4_TEST_PORT")?.parse()?,
            nodes: var("CQL4_TEST_NODES")?
                .split(',')
                .map(str::to_owned)
                .collect(),
            local_dc: var("CQL4_TEST_LOCAL_DC")?,
            ca: var("CQL4_TEST_CA")?,
            server_name: var("CQL4_TEST_SERVER_NAME")?,
            user: var("CQL4_TEST_USER")?,
            password: var("CQL4_TEST_PASSWORD")?,
        })
    }

    fn contact(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The native address of the last node (the one `--reconnect` restarts).
    fn last_node(&self) -> Result<SocketAddr, BoxError> {
        let ip = self.nodes.last().ok_or("CQL4_TEST_NODES is empty")?;
        Ok(SocketAddr::new(ip.parse()?, self.port))
    }
}

// ---------------------------------------------------------------------------------------
// cql4

mod cql4_driver {
    use super::*;
    use cql4_conn::{Config, PreparedStatement, QueryOptions, TlsConfig};
    use cql4_session::{Session, SessionConfig};

    pub(crate) struct S {
        pub(crate) session: Session,
        select: PreparedStatement,
        insert: PreparedStatement,
        options: QueryOptions,
        payload: Bytes,
    }

    pub(crate) fn config(c: &Cluster, nodes: usize) -> Result<SessionConfig, BoxError> {
        let mut config = SessionConfig::new(connection(c, &c.host)?);
        config.single_host = nodes == 1;
        Ok(config)
    }

    /// One connection's settings: TLS with the test CA, the password login.
    pub(crate) fn connection(c: &Cluster, host: &str) -> Result<Config, BoxError> {
        let mut connection = Config::new(host, c.port);
        connection.tls = Some(
            TlsConfig::new()
                .with_ca_file(&c.ca)
                .with_server_name(&c.server_name),
        );
        connection.auth = Some(Arc::new(cql4_auth::PasswordAuthenticator::new(
            c.user.clone(),
            c.password.clone(),
        )?));
        Ok(connection)
    }

    pub(crate) async fn connect(c: &Cluster, nodes: usize) -> Result<S, BoxError> {
        let session = Session::connect(config(c, nodes)?).await?;
        Ok(S {
            select: session.prepare(SELECT).await?,
            insert: session.prepare(INSERT).await?,
            session,
            options: QueryOptions::new(),
            payload: Bytes::from(pages::payload()),
        })
    }

    /// `bench.t` replicated to every node, and its row.
    pub(crate) async fn setup(c: &Cluster) -> Result<(), BoxError> {
        let session = Session::connect(config(c, 3)?).await?;
        let o = QueryOptions::new();
        session
            .query(
                &format!(
                    "CREATE KEYSPACE IF NOT EXISTS bench WITH replication = \
                     {{'class': 'NetworkTopologyStrategy', '{}': 3}}",
                    c.local_dc
                ),
                (),
                &o,
            )
            .await?;
        session
            .query(
                "CREATE TABLE IF NOT EXISTS bench.t (id int PRIMARY KEY, name text, payload blob)",
                (),
                &o,
            )
            .await?;
        wait_schema_agreement(c).await?;
        let s = connect(c, 3).await?;
        s.session
            .execute(&s.insert, (SELECT_ID, "name-000042", &s.payload[..]), &o)
            .await?;
        Ok(())
    }

    /// Every node reports the same schema version (node 1's `system.local` and
    /// `system.peers_v2` cover them all).
    async fn wait_schema_agreement(c: &Cluster) -> Result<(), BoxError> {
        let one = QueryOptions::new().with_consistency(cql4_frame::Consistency::ONE);
        let end = Instant::now() + Duration::from_secs(60);
        let node1 = Session::connect(config(c, 1)?).await?;
        loop {
            let mut versions = Vec::new();
            for table in ["system.local", "system.peers_v2"] {
                let r = node1
                    .query(&format!("SELECT schema_version FROM {table}"), (), &one)
                    .await?;
                for row in r.rows().ok_or("no rows")?.iter() {
                    versions.push(row.get::<Option<[u8; 16]>>(0)?);
                }
            }
            if versions.len() >= c.nodes.len() && versions.windows(2).all(|w| w[0] == w[1]) {
                return Ok(());
            }
            if Instant::now() > end {
                return Err("no schema agreement after 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub(crate) async fn select(s: Arc<S>, _i: u64) -> Result<(), BoxError> {
        let r = s
            .session
            .execute(&s.select, (SELECT_ID,), &s.options)
            .await?;
        let rows = r.rows().ok_or("no rows")?;
        let mut n = 0;
        for row in rows {
            check_row(
                row.get::<i32>(0)?,
                row.get::<&str>(1)?,
                row.get::<&[u8]>(2)?,
            )?;
            n += 1;
        }
        if n != 1 {
            return Err(format!("{n} rows").into());
        }
        Ok(())
    }

    pub(crate) async fn insert(s: Arc<S>, i: u64) -> Result<(), BoxError> {
        s.session
            .execute(&s.insert, (insert_id(i), NAME, &s.payload[..]), &s.options)
            .await?;
        Ok(())
    }

    /// (nodes up, nodes known).
    pub(crate) fn up(session: &Session) -> (usize, usize) {
        let nodes = session.nodes();
        (nodes.iter().filter(|n| n.up).count(), nodes.len())
    }

    pub(crate) fn is_up(session: &Session, node: SocketAddr) -> bool {
        session
            .nodes()
            .iter()
            .any(|n| n.address.ip() == node.ip() && n.up)
    }

    /// Requests routed to each node so far.
    pub(crate) fn counts(session: &Session) -> Vec<(String, u64)> {
        session
            .nodes()
            .iter()
            .map(|n| (n.address.ip().to_string(), n.requests))
            .collect()
    }

    /// Requests routed to each node and open connections, for the record.
    pub(crate) fn spread(session: &Session) -> Value {
        json!(session
            .nodes()
            .iter()
            .map(|n| json!({
                "node": n.address.ip().to_string(),
                "requests": n.requests,
                "connections": n.connections,
            }))
            .collect::<Vec<_>>())
    }
}

// ---------------------------------------------------------------------------------------
// scylla

mod scylla_driver {
    use super::*;
    use scylla::client::session::Session;
    use scylla::client::session_builder::SessionBuilder;
    use scylla::policies::host_filter::AllowListHostFilter;
    use scylla::statement::prepared::PreparedStatement;

    pub(crate) struct S {
        pub(crate) session: Session,
        select: PreparedStatement,
        insert: PreparedStatement,
        payload: Vec<u8>,
    }

    pub(crate) async fn build(c: &Cluster, nodes: usize) -> Result<Session, BoxError> {
        // The very rustls configuration cql4 uses (ring, the test CA); rustls verifies each
        // node's certificate against its IP address, which the test certificate lists.
        let tls = cql4_conn::TlsConfig::new().with_ca_file(&c.ca).build()?;
        let mut b = SessionBuilder::new()
            .known_node(c.contact())
            .user(c.user.clone(), c.password.clone())
            .tls_context(Some(tls));
        if nodes == 1 {
            b = b.host_filter(Arc::new(AllowListHostFilter::new([c.contact()])?));
        }
        Ok(b.build().await?)
    }

    pub(crate) async fn connect(c: &Cluster, nodes: usize) -> Result<S, BoxError> {
        let session = build(c, nodes).await?;
        Ok(S {
            select: session.prepare(SELECT).await?,
            insert: session.prepare(INSERT).await?,
            session,
            payload: pages::payload(),
        })
    }

    pub(crate) async fn select(s: Arc<S>, _i: u64) -> Result<(), BoxError> {
        let r = s.session.execute_unpaged(&s.select, (SELECT_ID,)).await?;
        let rows = r.into_rows_result()?;
        let mut n = 0;
        for row in rows.rows::<(i32, &str, &[u8])>()? {
            let (id, name, payload) = row?;
            check_row(id, name, payload)?;
            n += 1;
        }
        if n != 1 {
            return Err(format!("{n} rows").into());
        }
        Ok(())
    }

    pub(crate) async fn insert(s: Arc<S>, i: u64) -> Result<(), BoxError> {
        s.session
            .execute_unpaged(&s.insert, (insert_id(i), NAME, &s.payload[..]))
            .await?;
        Ok(())
    }

    /// (nodes with an open connection, nodes known).
    pub(crate) fn up(session: &Session) -> (usize, usize) {
        let state = session.get_cluster_state();
        let nodes = state.get_nodes_info();
        (
            nodes.iter().filter(|n| n.is_connected()).count(),
            nodes.len(),
        )
    }

    pub(crate) fn is_up(session: &Session, node: SocketAddr) -> bool {
        session
            .get_cluster_state()
            .get_nodes_info()
            .iter()
            .any(|n| n.address.ip() == node.ip() && n.is_connected())
    }
}

// ---------------------------------------------------------------------------------------
// throughput

fn driver_version(driver: &str) -> &'static str {
    match driver {
        "cql4" => env!("CARGO_PKG_VERSION_CQL4"),
        _ => env!("CARGO_PKG_VERSION_SCYLLA"),
    }
}

async fn throughput(a: &Args, c: &Cluster) -> Result<Value, BoxError> {
    let (n, w, d) = (a.concurrency, a.warmup, a.duration);
    let select = a.workload == "select";
    let (o, spread): (Outcome, Value) = match a.driver.as_str() {
        "cql4" => {
            let s = Arc::new(cql4_driver::connect(c, a.nodes).await?);
            wait_all_up(|| cql4_driver::up(&s.session), a.nodes).await?;
            let o = if select {
                drive(Arc::clone(&s), cql4_driver::select, n, w, d).await
            } else {
                drive(Arc::clone(&s), cql4_driver::insert, n, w, d).await
            };
            (o, cql4_driver::spread(&s.session))
        }
        "scylla" => {
            let s = Arc::new(scylla_driver::connect(c, a.nodes).await?);
            wait_all_up(|| scylla_driver::up(&s.session), a.nodes).await?;
            let o = if select {
                drive(s, scylla_driver::select, n, w, d).await
            } else {
                drive(s, scylla_driver::insert, n, w, d).await
            };
            (o, Value::Null)
        }
        other => return Err(format!("unknown driver {other}").into()),
    };
    let note = match (a.driver.as_str(), a.nodes) {
        ("cql4", 1) => "Session, SessionConfig::single_host",
        ("cql4", _) => "Session, defaults (token-aware, 1 connection per node)",
        (_, 1) => "Session, AllowListHostFilter(node 1)",
        _ => "Session, defaults (token-aware, 1 connection per node)",
    };
    let rec = Record::new(
        &a.driver,
        driver_version(&a.driver),
        &a.workload,
        a.concurrency,
        "default",
        0.0,
        &o,
        note,
    );
    let mut v = serde_json::to_value(&rec)?;
    v["nodes"] = json!(a.nodes);
    v["per_node"] = spread;
    Ok(v)
}

/// Waits (up to 30 s) until `want` nodes have a connection: measured runs start on the whole
/// pool, not on the first connection.
async fn wait_all_up(up: impl Fn() -> (usize, usize), want: usize) -> Result<(), BoxError> {
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let (n, _) = up();
        if n >= want {
            return Ok(());
        }
        if Instant::now() > end {
            return Err(format!("{n} of {want} nodes up after 30 s").into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---------------------------------------------------------------------------------------
// start time

/// Milliseconds since `t`.
fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Polls `up` every millisecond until all `want` nodes are up; milliseconds since `t0`.
async fn all_up_after(
    t0: Instant,
    up: impl Fn() -> (usize, usize),
    want: usize,
) -> Result<f64, BoxError> {
    loop {
        let (n, known) = up();
        if n >= want && known >= want {
            return Ok(ms(t0));
        }
        if t0.elapsed() > Duration::from_secs(60) {
            return Err(format!("{n} of {want} nodes up after 60 s").into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// `rounds` fresh sessions per driver, alternating: time until `connect`/`build` returns and
/// until every node has a connection.
async fn startup(c: &Cluster, rounds: usize) -> Result<Value, BoxError> {
    let want = c.nodes.len();
    let mut out = serde_json::Map::new();
    let mut rows: Vec<(&str, Vec<f64>, Vec<f64>)> = vec![
        ("cql4", Vec::new(), Vec::new()),
        ("scylla", Vec::new(), Vec::new()),
    ];
    for round in 0..rounds {
        // Alternate which driver goes first, so neither always meets a warmer server.
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let t0 = Instant::now();
            let (connect, all) = if i == 0 {
                let s = cql4_session::Session::connect(cql4_driver::config(c, 3)?).await?;
                let connect = ms(t0);
                let all = all_up_after(t0, || cql4_driver::up(&s), want).await?;
                s.close(Duration::from_secs(1)).await;
                (connect, all)
            } else {
                let s = scylla_driver::build(c, 3).await?;
                let connect = ms(t0);
                let all = all_up_after(t0, || scylla_driver::up(&s), want).await?;
                drop(s);
                (connect, all)
            };
            rows[i].1.push(connect);
            rows[i].2.push(all);
            // Let the closed connections go before the next session.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    for (driver, connect, all) in rows {
        out.insert(
            driver.to_owned(),
            json!({
                "connect_ms": connect,
                "all_up_ms": all,
                "connect_median_ms": median(&connect),
                "all_up_median_ms": median(&all),
            }),
        );
    }
    Ok(json!({"nodes": want, "rounds": rounds, "drivers": out}))
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

// ---------------------------------------------------------------------------------------
// reconnection

/// What a light load saw while the node was away.
#[derive(Default)]
struct Load {
    ok: AtomicU64,
    errors: AtomicU64,
    max_us: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Load {
    fn record(&self, started: Instant, r: Result<(), BoxError>) {
        let us = started.elapsed().as_micros() as u64;
        self.max_us.fetch_max(us, Ordering::Relaxed);
        match r {
            Ok(()) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut f) = self.first_error.lock() {
                    f.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }

    fn json(&self) -> Value {
        json!({
            "ok": self.ok.load(Ordering::Relaxed),
            "errors": self.errors.load(Ordering::Relaxed),
            "max_latency_ms": self.max_us.load(Ordering::Relaxed) as f64 / 1e3,
            "first_error": self.first_error.lock().ok().and_then(|f| f.clone()),
        })
    }
}

/// Four tasks running the prepared select back to back (reads at LOCAL_QUORUM survive one
/// node of three down), paced to ~1 ms apart, until `stop`.
fn light_load<S, F, Fut>(s: Arc<S>, op: F, load: Arc<Load>, stop: Arc<AtomicBool>)
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, u64) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = Result<(), BoxError>> + Send,
{
    for w in 0..4 {
        let (s, load, stop) = (Arc::clone(&s), Arc::clone(&load), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = op(Arc::clone(&s), i).await;
                load.record(t, r);
                i += 4;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
    }
}

/// The lines `cargo xtask bench --session` writes on stdin, read on a thread.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
            if tx.send(line.trim().to_owned()).is_err() {
                break;
            }
            line.clear();
        }
    });
    rx
}

/// Whether `want` has arrived on stdin (without waiting); another line is an error.
fn next_line(rx: &mut mpsc::UnboundedReceiver<String>, want: &str) -> Result<bool, BoxError> {
    match rx.try_recv() {
        Ok(l) if l == want => Ok(true),
        Ok(l) => Err(format!("expected {want:?} on stdin, got {l:?}").into()),
        Err(mpsc::error::TryRecvError::Empty) => Ok(false),
        Err(mpsc::error::TryRecvError::Disconnected) => {
            Err(format!("stdin closed before {want:?}").into())
        }
    }
}

async fn expect_line(rx: &mut mpsc::UnboundedReceiver<String>, want: &str) -> Result<(), BoxError> {
    match rx.recv().await {
        Some(l) if l == want => Ok(()),
        Some(l) => Err(format!("expected {want:?} on stdin, got {l:?}").into()),
        None => Err(format!("stdin closed before {want:?}").into()),
    }
}

/// Both sessions on 3 nodes, a light load on each; the xtask stops the last node
/// (`stopping` … `stopped`), we report when each session saw it down (`down`), it starts the
/// node again (`starting` … `started`, when `cassandra start-node` returns). Meanwhile a fresh
/// connection attempt every 10 ms notes when the node first accepts a login; each session's
/// "up" is when
/// `nodes()` (cql4) or `is_connected()` (scylla) shows a connection to the node.
async fn reconnect(c: &Cluster) -> Result<Value, BoxError> {
    let node = c.last_node()?;
    let mut rx = stdin_lines();
    let cql4 = Arc::new(cql4_driver::connect(c, 3).await?);
    let scylla = Arc::new(scylla_driver::connect(c, 3).await?);
    wait_all_up(|| cql4_driver::up(&cql4.session), 3).await?;
    wait_all_up(|| scylla_driver::up(&scylla.session), 3).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let (cql4_load, scylla_load) = (Arc::new(Load::default()), Arc::new(Load::default()));
    light_load(
        Arc::clone(&cql4),
        cql4_driver::select,
        Arc::clone(&cql4_load),
        Arc::clone(&stop),
    );
    light_load(
        Arc::clone(&scylla),
        scylla_driver::select,
        Arc::clone(&scylla_load),
        Arc::clone(&stop),
    );
    println!("ready");
    expect_line(&mut rx, "stopping").await?;
    let t_stop = Instant::now();
    let at_stop = cql4_driver::counts(&cql4.session);
    // When each session noticed (an orderly shutdown closes the connections before the JVM
    // exits, so possibly before `stop-node` returns).
    let mut down: [Option<f64>; 2] = [None, None];
    let mut stopped: Option<f64> = None;
    while (down.iter().any(Option::is_none) || stopped.is_none())
        && t_stop.elapsed() < Duration::from_secs(90)
    {
        if stopped.is_none() {
            stopped = next_line(&mut rx, "stopped")?.then(|| ms(t_stop));
        }
        if down[0].is_none() && !cql4_driver::is_up(&cql4.session, node) {
            down[0] = Some(ms(t_stop));
        }
        if down[1].is_none() && !scylla_driver::is_up(&scylla.session, node) {
            down[1] = Some(ms(t_stop));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let stopped_ms = stopped.ok_or("no \"stopped\" on stdin after 90 s")?;
    println!("down");
    expect_line(&mut rx, "starting").await?;
    let t0 = Instant::now();
    let at_start = cql4_driver::counts(&cql4.session);
    // The reference point: the first CQL login a fresh connection gets from the node. (An
    // open port alone is not: `start-node` itself binds the port for a moment to check that
    // it is free.)
    let login: Arc<Mutex<Option<f64>>> = Arc::new(Mutex::new(None));
    {
        let login = Arc::clone(&login);
        let config = cql4_driver::connection(c, &node.ip().to_string())?;
        tokio::spawn(async move {
            loop {
                if let Ok(client) = cql4_conn::Client::connect(&config).await {
                    if let Ok(mut p) = login.lock() {
                        *p = Some(ms(t0));
                    }
                    drop(client);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
    }
    let mut up: [Option<f64>; 2] = [None, None];
    let mut started: Option<f64> = None;
    let deadline = Duration::from_secs(240);
    while (up.iter().any(Option::is_none) || started.is_none()) && t0.elapsed() < deadline {
        if started.is_none() {
            started = next_line(&mut rx, "started")?.then(|| ms(t0));
        }
        if up[0].is_none() && cql4_driver::is_up(&cql4.session, node) {
            up[0] = Some(ms(t0));
        }
        if up[1].is_none() && scylla_driver::is_up(&scylla.session, node) {
            up[1] = Some(ms(t0));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // A few more seconds of load on the full cluster, to see the node take requests again.
    let back = cql4_driver::counts(&cql4.session);
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let after = cql4_driver::counts(&cql4.session);
    let delta = |a: &[(String, u64)], b: &[(String, u64)]| {
        let mut m = serde_json::Map::new();
        for (node, n) in b {
            let was = a.iter().find(|(x, _)| x == node).map_or(0, |(_, v)| *v);
            m.insert(node.clone(), json!(n - was));
        }
        Value::Object(m)
    };
    let login = login.lock().ok().and_then(|p| *p);
    let per = |i: usize, load: &Load| {
        let diff = |x: Option<f64>, y: Option<f64>| x.zip(y).map(|(x, y)| x - y);
        json!({
            "down_after_stop_ms": down[i],
            "up_after_start_ms": up[i],
            "up_after_start_node_returned_ms": diff(up[i], started),
            "up_after_first_login_ms": diff(up[i], login),
            "load": load.json(),
        })
    };
    Ok(json!({
        "node": node.to_string(),
        "stop_node_ms": stopped_ms,
        "start_node_returned_ms": started,
        "first_login_ms": login,
        "drivers": {
            "cql4": per(0, &cql4_load),
            "scylla": per(1, &scylla_load),
        },
        // The light load's requests per node, as cql4 routed them: while node 3 was away
        // (from stop-node to start-node), and in the 3 s after both sessions had it back.
        "cql4_requests_per_node_while_down": delta(&at_stop, &at_start),
        "cql4_requests_per_node_after": delta(&back, &after),
    }))
}

fn main() -> Result<(), BoxError> {
    let a = args();
    let c = Cluster::from_env()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let out = rt.block_on(async {
        match a.mode {
            Mode::Setup => cql4_driver::setup(&c)
                .await
                .map(|()| json!({"setup": "ok"})),
            Mode::Throughput => throughput(&a, &c).await,
            Mode::Startup => startup(&c, a.rounds).await,
            Mode::Reconnect => reconnect(&c).await,
        }
    })?;
    println!("{}", serde_json::to_string(&out)?);
    if a.mode == Mode::Throughput {
        let requests = out["requests"].as_u64().unwrap_or(0);
        let errors = out["errors"].as_u64().unwrap_or(0);
        if requests == 0 || errors > 0 {
            return Err(format!("{requests} requests, {errors} errors").into());
        }
    }
    Ok(())
}
