//! The canned multi-node case: cql4's `Session` against scylla's `Session`, each discovering a
//! canned cluster (`canned_server --nodes N`, plain TCP, no login) from node 1 and running with
//! its defaults (token-aware routing, its own pool per node), `--concurrency` requests in
//! flight on one client core. Prints one JSON record like `rust_client`, with the requests
//! cql4 routed to each node.
//!
//! ```text
//! multi_node_client --driver cql4|scylla --port 19043 --nodes 4 --workload select|insert \
//!     [--concurrency 4096] [--warmup 2] [--duration 5]
//! ```
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cql4_bench::drive::{drive, BoxError, Outcome};
use cql4_bench::pages;
use cql4_bench::record::Record;
use cql4_bench::schema::{check_row, insert_id, INSERT, INSERT_NAME as NAME, SELECT, SELECT_ID};
use serde_json::{json, Value};

struct Args {
    driver: String,
    port: u16,
    nodes: usize,
    workload: String,
    concurrency: u32,
    warmup: f64,
    duration: f64,
}

fn args() -> Args {
    let mut a = Args {
        driver: "cql4".into(),
        port: 19043,
        nodes: 4,
        workload: "select".into(),
        concurrency: 4096,
        warmup: 2.0,
        duration: 5.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--driver" => a.driver = v(),
            "--port" => a.port = v().parse().expect("--port"),
            "--nodes" => a.nodes = v().parse().expect("--nodes"),
            "--workload" => a.workload = v(),
            "--concurrency" => a.concurrency = v().parse().expect("--concurrency"),
            "--warmup" => a.warmup = v().parse().expect("--warmup"),
            "--duration" => a.duration = v().parse().expect("--duration"),
            // The harness's uniform command line.
            "--pool" => {
                v();
            }
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// Waits (up to 30 s) until `want` nodes have a connection, so the window starts on the whole
/// cluster.
async fn wait_all_up(up: impl Fn() -> usize, want: usize) -> Result<(), BoxError> {
    let end = Instant::now() + Duration::from_secs(30);
    while up() < want {
        if Instant::now() > end {
            return Err(format!("{} of {want} nodes up after 30 s", up()).into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

mod cql4_driver {
    use super::*;
    use cql4_conn::{Config, PreparedStatement, QueryOptions};
    use cql4_session::{Session, SessionConfig};

    pub(crate) struct S {
        pub(crate) session: Session,
        select: PreparedStatement,
        insert: PreparedStatement,
        options: QueryOptions,
        payload: Bytes,
    }

    pub(crate) async fn connect(port: u16) -> Result<S, BoxError> {
        let session = Session::connect(SessionConfig::new(Config::new("127.0.0.1", port))).await?;
        Ok(S {
            select: session.prepare(SELECT).await?,
            insert: session.prepare(INSERT).await?,
            session,
            options: QueryOptions::new(),
            payload: Bytes::from(pages::payload()),
        })
    }

    pub(crate) fn up(s: &S) -> usize {
        s.session.nodes().iter().filter(|n| n.up).count()
    }

    pub(crate) fn spread(s: &S) -> Value {
        json!(s
            .session
            .nodes()
            .iter()
            .map(|n| json!({
                "node": n.address.ip().to_string(),
                "requests": n.requests,
                "connections": n.connections,
            }))
            .collect::<Vec<_>>())
    }

    pub(crate) async fn select(s: Arc<S>, _i: u64) -> Result<(), BoxError> {
        let r = s
            .session
            .execute(&s.select, (SELECT_ID,), &s.options)
            .await?;
        for row in r.rows().ok_or("no rows")? {
            check_row(
                row.get::<i32>(0)?,
                row.get::<&str>(1)?,
                row.get::<&[u8]>(2)?,
            )?;
        }
        Ok(())
    }

    pub(crate) async fn insert(s: Arc<S>, i: u64) -> Result<(), BoxError> {
        s.session
            .execute(&s.insert, (insert_id(i), NAME, &s.payload[..]), &s.options)
            .await?;
        Ok(())
    }
}

mod scylla_driver {
    use super::*;
    use scylla::client::session::Session;
    use scylla::client::session_builder::SessionBuilder;
    use scylla::statement::prepared::PreparedStatement;

    pub(crate) struct S {
        session: Session,
        select: PreparedStatement,
        insert: PreparedStatement,
        payload: Vec<u8>,
    }

    pub(crate) async fn connect(port: u16) -> Result<S, BoxError> {
        let session = SessionBuilder::new()
            .known_node(format!("127.0.0.1:{port}"))
            .build()
            .await?;
        Ok(S {
            select: session.prepare(SELECT).await?,
            insert: session.prepare(INSERT).await?,
            session,
            payload: pages::payload(),
        })
    }

    pub(crate) fn up(s: &S) -> usize {
        s.session
            .get_cluster_state()
            .get_nodes_info()
            .iter()
            .filter(|n| n.is_connected())
            .count()
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

async fn run(a: &Args) -> Result<(Outcome, Value), BoxError> {
    let (c, w, d) = (a.concurrency, a.warmup, a.duration);
    let select = a.workload == "select";
    Ok(match a.driver.as_str() {
        "cql4" => {
            let s = Arc::new(cql4_driver::connect(a.port).await?);
            wait_all_up(|| cql4_driver::up(&s), a.nodes).await?;
            let o = if select {
                drive(Arc::clone(&s), cql4_driver::select, c, w, d).await
            } else {
                drive(Arc::clone(&s), cql4_driver::insert, c, w, d).await
            };
            (o, cql4_driver::spread(&s))
        }
        "scylla" => {
            let s = Arc::new(scylla_driver::connect(a.port).await?);
            wait_all_up(|| scylla_driver::up(&s), a.nodes).await?;
            let o = if select {
                drive(s, scylla_driver::select, c, w, d).await
            } else {
                drive(s, scylla_driver::insert, c, w, d).await
            };
            (o, Value::Null)
        }
        other => return Err(format!("unknown driver {other}").into()),
    })
}

fn main() -> Result<(), BoxError> {
    let a = args();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (o, spread) = rt.block_on(run(&a))?;
    let version = match a.driver.as_str() {
        "cql4" => env!("CARGO_PKG_VERSION_CQL4"),
        _ => env!("CARGO_PKG_VERSION_SCYLLA"),
    };
    let rec = Record::new(
        &a.driver,
        version,
        &a.workload,
        a.concurrency,
        "default",
        0.0,
        &o,
        "Session with its defaults, discovering the canned nodes from node 1",
    );
    let mut v = serde_json::to_value(&rec)?;
    v["nodes"] = json!(a.nodes);
    v["per_node"] = spread;
    println!("{v}");
    if o.requests == 0 || o.errors > 0 {
        return Err(format!("{} requests, {} errors", o.requests, o.errors).into());
    }
    Ok(())
}
