//! The end-to-end client for the Rust drivers (cql4, scylla, cdrs-tokio): prepares the
//! benchmark select and insert, keeps `--concurrency` requests in flight for a warm-up and a
//! measured window, and prints one JSON [`Record`] line.
//!
//! ```text
//! rust_client --driver cql4|scylla|cdrs-tokio --port 19042 --workload select|insert \
//!     --concurrency 64 [--pool one|default] [--warmup 2] [--duration 5] [--setup]
//! ```
//! `--setup` creates `bench.t` and its row on a real node (cql4 driver) and exits.
//!
//! All drivers run on the same single-threaded tokio runtime (the process is pinned to one
//! core), each worker is a spawned task looping request → await → check the answer.
use std::sync::Arc;

use bytes::Bytes;
use cql4_bench::drive::{drive, BoxError, Outcome};
use cql4_bench::pages;
use cql4_bench::record::Record;
use cql4_bench::schema::{INSERT, SELECT, SELECT_ID};

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
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn check_row(id: i32, name: &str, payload: &[u8]) -> Result<(), BoxError> {
    if id != SELECT_ID || name.is_empty() || payload.len() != 100 {
        return Err(format!("unexpected row ({id}, {name:?}, {} bytes)", payload.len()).into());
    }
    Ok(())
}

fn insert_id(i: u64) -> i32 {
    1000 + (i % 100_000) as i32
}

const NAME: &str = "name-inserted";

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
            .execute(
                &s.insert,
                (SELECT_ID, "name-000042", &s.payload[..]),
                &o,
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn select(s: Arc<S>, _i: u64) -> Result<(), BoxError> {
        let r = s
            .client
            .execute(
                &s.select,
                (SELECT_ID,),
                &s.options,
            )
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
            .execute(
                &s.insert,
                (insert_id(i), NAME, &s.payload[..]),
                &s.options,
            )
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
        if pool == "one" {
            b = b.pool_size(PoolSize::PerHost(1.try_into().expect("1 is non-zero")));
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
        if pool == "one" {
            b = b.with_connection_pool_config(
                ConnectionPoolConfigBuilder::new()
                    .with_local_size(1)
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

fn driver_version(driver: &str) -> &'static str {
    match driver {
        "cql4" => env!("CARGO_PKG_VERSION_CQL4"),
        "scylla" => env!("CARGO_PKG_VERSION_SCYLLA"),
        _ => env!("CARGO_PKG_VERSION_CDRS"),
    }
}

async fn run(a: &Args) -> Result<Outcome, BoxError> {
    let (c, w, d) = (a.concurrency, a.warmup, a.duration);
    let select = a.workload == "select";
    Ok(match a.driver.as_str() {
        "cql4" => {
            let s = Arc::new(cql4_driver::connect(&a.host, a.port).await?);
            if select {
                drive(s, cql4_driver::select, c, w, d).await
            } else {
                drive(s, cql4_driver::insert, c, w, d).await
            }
        }
        "scylla" => {
            let s = Arc::new(scylla_driver::connect(&a.host, a.port, &a.pool).await?);
            if select {
                drive(s, scylla_driver::select, c, w, d).await
            } else {
                drive(s, scylla_driver::insert, c, w, d).await
            }
        }
        "cdrs-tokio" => {
            let s = Arc::new(cdrs_driver::connect(&a.host, a.port, &a.pool).await?);
            if select {
                drive(s, cdrs_driver::select, c, w, d).await
            } else {
                drive(s, cdrs_driver::insert, c, w, d).await
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
    let o = rt.block_on(run(&a))?;
    let q = |p: f64| o.hist.value_at_quantile(p) as f64 / 1000.0;
    let requests = o.requests.max(1) as f64;
    let rec = Record {
        driver: a.driver.clone(),
        driver_version: driver_version(&a.driver).to_owned(),
        workload: a.workload.clone(),
        concurrency: a.concurrency,
        pool: a.pool.clone(),
        requests: o.requests,
        errors: o.errors,
        seconds: o.seconds,
        throughput: o.requests as f64 / o.seconds,
        p50_us: q(0.5),
        p99_us: q(0.99),
        p999_us: q(0.999),
        cpu_us_per_req: o.cpu * 1e6 / requests,
        maxrss_kb: o.maxrss,
        allocs_per_req: Some(o.allocs as f64 / requests),
        note: match (a.driver.as_str(), a.pool.as_str()) {
            ("cql4", _) => "one connection (cql4-conn has no pool)".into(),
            (_, "one") => "pool forced to one connection".into(),
            _ => "driver's default pool".into(),
        },
    };
    println!("{}", serde_json::to_string(&rec)?);
    if o.requests == 0 || o.errors > 0 {
        return Err(format!("{} requests, {} errors", o.requests, o.errors).into());
    }
    Ok(())
}
