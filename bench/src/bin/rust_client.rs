//! The end-to-end client for the Rust drivers (cql4, scylla, cdrs-tokio): prepares the
//! benchmark select and insert, keeps `--concurrency` requests in flight for a warm-up and a
//! measured window, and prints one JSON [`Record`] line.
//!
//! ```text
//! rust_client --driver cql4|scylla|cdrs-tokio --port 19042 --workload select|insert \
//!     --concurrency 64 [--pool one|default] [--warmup 2] [--duration 5] [--setup]
//! ```
//! `--setup` creates `bench.t` and its row on a real node (cql4 driver) and exits.
//! `--rate R` runs the open loop instead ([`drive_open`]: a request due every `1/R` s, latency
//! from when it was due, `--concurrency` the bound on outstanding requests).
//! `--idle N` opens N idle connections and prints the resident memory each one costs
//! ([`idle`]).
//!
//! All drivers run on the same single-threaded tokio runtime (the process is pinned to one
//! core), each worker is a spawned task looping request → await → check the answer.
use std::sync::Arc;

use bytes::Bytes;
use cql4_bench::drive::{drive, drive_open, BoxError, Outcome};
use cql4_bench::pages;
use cql4_bench::record::Record;
use cql4_bench::schema::{check_row, insert_id, INSERT, INSERT_NAME as NAME, SELECT, SELECT_ID};

struct Args {
    driver: String,
    host: String,
    port: u16,
    workload: String,
    concurrency: u32,
    pool: String,
    warmup: f64,
    duration: f64,
    setup: bool,
    rate: f64,
    idle: usize,
}

fn args() -> Args {
    let mut a = Args {
        driver: "cql4".into(),
        host: "127.0.0.1".into(),
        port: 19042,
        workload: "select".into(),
        concurrency: 1,
        pool: "one".into(),
        warmup: 2.0,
        duration: 5.0,
        setup: false,
        rate: 0.0,
        idle: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--driver" => a.driver = v(),
            "--host" => a.host = v(),
            "--port" => a.port = v().parse().expect("--port"),
            "--workload" => a.workload = v(),
            "--concurrency" => a.concurrency = v().parse().expect("--concurrency"),
            "--pool" => a.pool = v(),
            "--warmup" => a.warmup = v().parse().expect("--warmup"),
            "--duration" => a.duration = v().parse().expect("--duration"),
            "--setup" => a.setup = true,
            "--rate" => a.rate = v().parse().expect("--rate"),
            "--idle" => a.idle = v().parse().expect("--idle"),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// `--pool`: `one` is one connection, a number is that many, `default` the driver's default.
fn pool_size(pool: &str) -> Option<usize> {
    match pool {
        "one" => Some(1),
        n => n.parse().ok().filter(|n| *n > 0),
    }
}

// ---------------------------------------------------------------------------------------
// cql4

mod cql4_driver {
    use super::*;
    use cql4_conn::{Client, Config, PreparedStatement, QueryOptions};

    pub(crate) struct S {
        client: Client,
        select: PreparedStatement,
        insert: PreparedStatement,
        options: QueryOptions,
        payload: Bytes,
    }

    pub(crate) async fn connect(host: &str, port: u16) -> Result<S, BoxError> {
        let config = Config::new(host, port);
        let client = Client::connect(&config).await?;
        Ok(S {
            select: client.prepare(SELECT).await?,
            insert: client.prepare(INSERT).await?,
            client,
            // CQL4_PAGE_SIZE=0 sends no page size (as scylla's `execute_unpaged` does); the
            // default is cql4's own (Config::default_page_size).
            options: match std::env::var("CQL4_PAGE_SIZE")
                .ok()
                .and_then(|v| v.parse().ok())
            {
                Some(n) => QueryOptions::new().with_page_size(n),
                None => QueryOptions::new(),
            },
            payload: Bytes::from(pages::payload()),
        })
    }

    pub(crate) async fn setup(host: &str, port: u16) -> Result<(), BoxError> {
        let client = Client::connect(&Config::new(host, port)).await?;
        let o = QueryOptions::new();
        client
            .query(
                "CREATE KEYSPACE IF NOT EXISTS bench WITH replication = \
                 {'class': 'SimpleStrategy', 'replication_factor': 1}",
                (),
                &o,
            )
            .await?;
        client
            .query(
                "CREATE TABLE IF NOT EXISTS bench.t (id int PRIMARY KEY, name text, payload blob)",
                (),
                &o,
            )
            .await?;
        let s = connect(host, port).await?;
        s.client
            .execute(&s.insert, (SELECT_ID, "name-000042", &s.payload[..]), &o)
            .await?;
        Ok(())
    }

    pub(crate) async fn select(s: Arc<S>, _i: u64) -> Result<(), BoxError> {
        let r = s
            .client
            .execute(&s.select, (SELECT_ID,), &s.options)
            .await?;
        let rows = r.rows().ok_or("no rows")?;
        for row in rows {
            check_row(
                row.get::<i32>(0)?,
                row.get::<&str>(1)?,
                row.get::<&[u8]>(2)?,
            )?;
        }
        Ok(())
    }

    pub(crate) async fn insert(s: Arc<S>, i: u64) -> Result<(), BoxError> {
        s.client
            .execute(&s.insert, (insert_id(i), NAME, &s.payload[..]), &s.options)
            .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// scylla

mod scylla_driver {
    use super::*;
    use scylla::client::session::Session;
    use scylla::client::session_builder::SessionBuilder;
    use scylla::client::PoolSize;
    use scylla::statement::prepared::PreparedStatement;

    pub(crate) struct S {
        session: Session,
        select: PreparedStatement,
        insert: PreparedStatement,
        payload: Vec<u8>,
    }

    pub(crate) async fn connect(host: &str, port: u16, pool: &str) -> Result<S, BoxError> {
        let mut b = SessionBuilder::new().known_node(format!("{host}:{port}"));
        if let Some(n) = pool_size(pool).and_then(|n| n.try_into().ok()) {
            b = b.pool_size(PoolSize::PerHost(n));
        }
        let session = b.build().await?;
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
        for row in rows.rows::<(i32, &str, &[u8])>()? {
            let (id, name, payload) = row?;
            check_row(id, name, payload)?;
        }
        Ok(())
    }

    pub(crate) async fn insert(s: Arc<S>, i: u64) -> Result<(), BoxError> {
        s.session
            .execute_unpaged(&s.insert, (insert_id(i), NAME, &s.payload[..]))
            .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// cdrs-tokio

mod cdrs_driver {
    use super::*;
    use cassandra_protocol::frame::Version;
    use cassandra_protocol::query::QueryValues;
    use cassandra_protocol::types::value::Value;
    use cassandra_protocol::types::IntoRustByIndex;
    use cdrs_tokio::cluster::connection_pool::ConnectionPoolConfigBuilder;
    use cdrs_tokio::cluster::session::{Session, SessionBuilder, TcpSessionBuilder};
    use cdrs_tokio::cluster::{NodeTcpConfigBuilder, TcpConnectionManager};
    use cdrs_tokio::load_balancing::RoundRobinLoadBalancingStrategy;
    use cdrs_tokio::query::PreparedQuery;
    use cdrs_tokio::transport::TransportTcp;

    type Sess = Session<
        TransportTcp,
        TcpConnectionManager,
        RoundRobinLoadBalancingStrategy<TransportTcp, TcpConnectionManager>,
    >;

    pub(crate) struct S {
        session: Sess,
        select: PreparedQuery,
        insert: PreparedQuery,
        payload: Vec<u8>,
    }

    pub(crate) async fn connect(host: &str, port: u16, pool: &str) -> Result<S, BoxError> {
        let config = NodeTcpConfigBuilder::new()
            .with_contact_point(format!("{host}:{port}").into())
            .with_version(Version::V4)
            .build()
            .await?;
        let mut b = TcpSessionBuilder::new(RoundRobinLoadBalancingStrategy::new(), config);
        if let Some(n) = pool_size(pool) {
            b = b.with_connection_pool_config(
                ConnectionPoolConfigBuilder::new()
                    .with_local_size(n)
                    .build(),
            );
        }
        let session = b.build().await?;
        Ok(S {
            select: session.prepare(SELECT).await?,
            insert: session.prepare(INSERT).await?,
            session,
            payload: pages::payload(),
        })
    }

    pub(crate) async fn select(s: Arc<S>, _i: u64) -> Result<(), BoxError> {
        let env = s
            .session
            .exec_with_values(
                &s.select,
                QueryValues::SimpleValues(vec![Value::from(SELECT_ID)]),
            )
            .await?;
        let rows = env.response_body()?.into_rows().ok_or("no rows")?;
        for row in &rows {
            let id: i32 = row.get_r_by_index(0)?;
            let name: String = row.get_r_by_index(1)?;
            let payload: cassandra_protocol::types::blob::Blob = row.get_r_by_index(2)?;
            check_row(id, &name, &payload.into_vec())?;
        }
        Ok(())
    }

    pub(crate) async fn insert(s: Arc<S>, i: u64) -> Result<(), BoxError> {
        s.session
            .exec_with_values(
                &s.insert,
                QueryValues::SimpleValues(vec![
                    Value::from(insert_id(i)),
                    Value::from(NAME),
                    Value::from(cassandra_protocol::types::blob::Blob::new(
                        s.payload.clone(),
                    )),
                ]),
            )
            .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------

/// `--idle N`: resident memory per idle connection. Each driver first opens one connection (or
/// a one-connection session) to warm its code paths; then, with resident memory measured
/// before and after, cql4 opens N more `Client`s, and scylla and cdrs-tokio build a session
/// with a one-connection pool and then one with an (N + 1)-connection pool: the difference of
/// the two cancels the session's own cost. Connections count as open once the process holds
/// that many more sockets.
mod idle {
    use std::time::{Duration, Instant};

    use super::*;

    /// Resident memory of this process, KiB (`VmRSS`).
    fn rss_kb() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    }

    fn sockets() -> usize {
        std::fs::read_dir("/proc/self/fd").map_or(0, |d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
                })
                .count()
        })
    }

    /// Waits until at least `n` sockets are open (pools fill in the background), then settles.
    async fn settle(n: usize) -> Result<(), BoxError> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while sockets() < n {
            if Instant::now() > deadline {
                return Err(format!("only {} of {n} sockets opened in 30 s", sockets()).into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(())
    }

    pub(crate) async fn measure(a: &Args) -> Result<serde_json::Value, BoxError> {
        let n = a.idle;
        let (host, port) = (a.host.as_str(), a.port);
        // (the N connections with what holds them, what holds one connection)
        let (grown, holder) = match a.driver.as_str() {
            "cql4" => {
                let config = cql4_conn::Config::new(host, port);
                let warm = cql4_conn::Client::connect(&config).await?;
                settle(sockets()).await?;
                let base = sockets();
                let before = rss_kb();
                let mut clients = Vec::with_capacity(n);
                for _ in 0..n {
                    clients.push(cql4_conn::Client::connect(&config).await?);
                }
                settle(base + n).await?;
                let after = rss_kb();
                drop((warm, clients));
                (after as f64 - before as f64, 0.0)
            }
            "scylla" => {
                let warm = scylla_driver::connect(host, port, "one").await?;
                settle(sockets()).await?;
                let base = sockets();
                let before = rss_kb();
                let one = scylla_driver::connect(host, port, "one").await?;
                settle(base + 1).await?;
                let mid = rss_kb();
                let base = sockets();
                let many = scylla_driver::connect(host, port, &(n + 1).to_string()).await?;
                settle(base + n + 1).await?;
                let after = rss_kb();
                drop((warm, one, many));
                (after as f64 - mid as f64, mid as f64 - before as f64)
            }
            "cdrs-tokio" => {
                let warm = cdrs_driver::connect(host, port, "one").await?;
                settle(sockets()).await?;
                let base = sockets();
                let before = rss_kb();
                let one = cdrs_driver::connect(host, port, "one").await?;
                settle(base + 1).await?;
                let mid = rss_kb();
                let base = sockets();
                let many = cdrs_driver::connect(host, port, &(n + 1).to_string()).await?;
                settle(base + n + 1).await?;
                let after = rss_kb();
                drop((warm, one, many));
                (after as f64 - mid as f64, mid as f64 - before as f64)
            }
            other => return Err(format!("unknown driver {other}").into()),
        };
        Ok(serde_json::json!({
            "driver": a.driver,
            "driver_version": driver_version(&a.driver),
            "connections": n,
            "rss_growth_kb": grown,
            "one_connection_session_kb": holder,
            "kb_per_connection": (grown - holder) / n.max(1) as f64,
        }))
    }
}

fn driver_version(driver: &str) -> &'static str {
    match driver {
        "cql4" => env!("CARGO_PKG_VERSION_CQL4"),
        "scylla" => env!("CARGO_PKG_VERSION_SCYLLA"),
        _ => env!("CARGO_PKG_VERSION_CDRS"),
    }
}

/// Closed loop, or open loop at `--rate` with `--concurrency` as the bound on outstanding.
async fn load<S, F, Fut>(a: &Args, s: Arc<S>, op: F) -> Outcome
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, u64) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = Result<(), BoxError>> + Send,
{
    if a.rate > 0.0 {
        drive_open(s, op, a.rate, a.concurrency, a.warmup, a.duration).await
    } else {
        drive(s, op, a.concurrency, a.warmup, a.duration).await
    }
}

async fn run(a: &Args) -> Result<Outcome, BoxError> {
    let select = a.workload == "select";
    Ok(match a.driver.as_str() {
        "cql4" => {
            let s = Arc::new(cql4_driver::connect(&a.host, a.port).await?);
            if select {
                load(a, s, cql4_driver::select).await
            } else {
                load(a, s, cql4_driver::insert).await
            }
        }
        "scylla" => {
            let s = Arc::new(scylla_driver::connect(&a.host, a.port, &a.pool).await?);
            if select {
                load(a, s, scylla_driver::select).await
            } else {
                load(a, s, scylla_driver::insert).await
            }
        }
        "cdrs-tokio" => {
            let s = Arc::new(cdrs_driver::connect(&a.host, a.port, &a.pool).await?);
            if select {
                load(a, s, cdrs_driver::select).await
            } else {
                load(a, s, cdrs_driver::insert).await
            }
        }
        other => return Err(format!("unknown driver {other}").into()),
    })
}

fn main() -> Result<(), BoxError> {
    let a = args();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if a.setup {
        return rt.block_on(cql4_driver::setup(&a.host, a.port));
    }
    if a.idle > 0 {
        let r = rt.block_on(idle::measure(&a))?;
        println!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    let o = rt.block_on(run(&a))?;
    let note = match (a.driver.as_str(), a.pool.as_str()) {
        ("cql4", _) => "one connection (cql4-conn has no pool)",
        (_, "one") => "pool forced to one connection",
        _ => "driver's default pool",
    };
    let rec = Record::new(
        &a.driver,
        driver_version(&a.driver),
        &a.workload,
        a.concurrency,
        &a.pool,
        a.rate,
        &o,
        note,
    );
    println!("{}", serde_json::to_string(&rec)?);
    if o.requests == 0 || o.errors > 0 {
        return Err(format!("{} requests, {} errors", o.requests, o.errors).into());
    }
    Ok(())
}
