//! The code of `docs/guide.md`, compiled: every Rust block of the guide is one item of this
//! file, copied verbatim, so `cargo build --example guide` checks that the guide still compiles.
//!
//! It talks to no server: `main` only lists the items. The runnable programs are
//! `examples/keyspaces.rs` (Amazon Keyspaces) and `examples/typed.rs` (the local node). The
//! guide's blocks assume a table
//! `shop.orders (customer int, order_id bigint, items list<text>, note text,
//! PRIMARY KEY (customer, order_id))`.

// The items are the guide's blocks, none called: they are here to be compiled.
#![allow(dead_code)]

async fn connect_to_keyspaces() -> Result<cql4::Session, Box<dyn std::error::Error>> {
    use std::sync::Arc;

    use cql4::auth::{resolve_region, ProcessEnv, SigV4AuthProvider};
    use cql4::conn::{file_reader::TokioFileReader, http};
    use cql4::{Config, Session, TlsConfig};

    // Amazon Keyspaces: TLS only, on port 9142. The default roots (webpki-roots) trust it.
    let mut config = Config::new("cassandra.us-east-1.amazonaws.com", 9142);
    config.tls = Some(TlsConfig::new());
    // AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region` in ~/.aws/config.
    let region = resolve_region(None, &ProcessEnv, &TokioFileReader::new(), None).await?;
    // Environment, ~/.aws files (static keys or credential_process), the container endpoint
    // (ECS, EKS Pod Identity), then EC2 instance metadata; cached, refreshed before expiry.
    let credentials = Arc::new(http::default_chain().build());
    config.auth = Some(Arc::new(SigV4AuthProvider::new(credentials, region)));
    Ok(Session::connect(&config).await?)
}

async fn connect_with_password() -> Result<cql4::Client, Box<dyn std::error::Error>> {
    use std::sync::Arc;

    use cql4::auth::PasswordAuthenticator;
    use cql4::{Client, Config, TlsConfig};

    let mut config = Config::new("10.0.0.12", 9142);
    // A private CA instead of the default roots, and the name its certificate carries
    // (checked instead of the IP address dialed).
    config.tls = Some(
        TlsConfig::new()
            .with_ca_file("/etc/cassandra/ca.pem")
            .with_server_name("cassandra.internal"),
    );
    // Keyspaces service-specific credentials, or a Cassandra role.
    let user = std::env::var("CQL4_USER")?;
    let password = std::env::var("CQL4_PASSWORD")?;
    config.auth = Some(Arc::new(PasswordAuthenticator::new(user, password)?));
    // One multiplexed connection to this one node.
    Ok(Client::connect(&config).await?)
}

async fn connect_cluster(connection: cql4::Config) -> Result<cql4::Session, cql4::Error> {
    use std::time::Duration;

    use cql4::session::ReconnectPolicy;
    use cql4::{Session, SessionConfig};

    let mut config = SessionConfig::new(connection)
        .with_contact_point("10.0.0.13")
        .with_contact_point("10.0.0.14:9142")
        .with_local_datacenter("dc1");
    config.connections_per_node = Some(2);
    config.reconnect = ReconnectPolicy::new(Duration::from_millis(200), Duration::from_secs(10));
    config.keyspace = Some("shop".to_owned());
    config.connection.request_timeout = Duration::from_secs(5);
    Session::connect(config).await
}

#[derive(cql4::SerializeRow)]
struct NewOrder<'a> {
    customer: i32,
    #[cql(rename = "order_id")]
    id: i64,
    items: Vec<&'a str>,
    note: Option<&'a str>,
}

async fn bind_values(session: &cql4::Session) -> Result<(), cql4::Error> {
    use cql4::QueryOptions;

    let insert = session
        .prepare("INSERT INTO shop.orders (customer, order_id, items, note) VALUES (?, ?, ?, ?)")
        .await?;
    let options = QueryOptions::new();
    // A derived struct: each field to the marker of its name.
    let order = NewOrder {
        customer: 7,
        id: 1001,
        items: vec!["tea", "cups"],
        note: None,
    };
    session.execute(&insert, &order, &options).await?;
    // A tuple: by position. Each value is written as its marker's CQL type.
    let values = (7i32, 1002i64, vec!["kettle"], Some("gift wrap"));
    session.execute(&insert, &values, &options).await?;
    Ok(())
}

#[derive(Debug, cql4::FromRow)]
struct Order<'a> {
    customer: i32,
    #[cql(rename = "order_id")]
    id: i64,
    items: Vec<&'a str>,
    note: Option<&'a str>,
}

async fn read_rows(session: &cql4::Session) -> Result<(), cql4::Error> {
    use cql4::QueryOptions;

    let select = session
        .prepare("SELECT customer, order_id, items, note FROM shop.orders WHERE customer = ?")
        .await?;
    let result = session
        .execute(&select, (7i32,), &QueryOptions::new())
        .await?;
    // Every row of the page, borrowing the text from it.
    for order in result.rows_typed::<Order<'_>>()? {
        let order = order?;
        println!("{} {:?} {:?}", order.id, order.items, order.note);
    }
    // The first row; Error::RowCount when there is none.
    let first: Order<'_> = result.first_row()?;
    // The first row or None; a tuple reads column i into element i, every column.
    let maybe: Option<(i32, i64, Vec<String>, Option<String>)> = result.maybe_first_row()?;
    println!("{first:?} {maybe:?}");

    // Exactly one row; Error::RowCount otherwise.
    let count = session
        .query("SELECT count(*) FROM shop.orders", (), &QueryOptions::new())
        .await?;
    let (n,): (i64,) = count.single_row()?;
    println!("{n} orders");
    Ok(())
}

#[derive(cql4::FromRow)]
struct OrderItems<'a> {
    #[cql(rename = "order_id")]
    id: i64,
    // Decoded one element at a time while iterated, each borrowed from the page.
    items: cql4::frame::value::ListIter<'a, &'a str>,
}

/// The number of items of every order of the page: nothing copied, nothing allocated per row.
fn count_items(result: &cql4::QueryResult) -> cql4::Result<usize> {
    let mut n = 0;
    for order in result.rows_typed::<OrderItems<'_>>()? {
        let order = order?;
        for item in order.items {
            // An element that cannot be read is an error here, naming the column.
            let item: &str = item?;
            n += usize::from(!item.is_empty());
        }
        println!("order {} read", order.id);
    }
    Ok(n)
}

/// An order that owns its values, as a stream of rows yields it (a row outlives its page).
#[derive(Debug, cql4::FromRow)]
struct OwnedOrder {
    customer: i32,
    order_id: i64,
    items: Vec<String>,
    note: Option<String>,
}

async fn page_through(session: &cql4::Session) -> Result<(), cql4::Error> {
    use cql4::QueryOptions;

    let cql = "SELECT customer, order_id, items, note FROM shop.orders";
    let options = QueryOptions::new().with_page_size(500);

    // Page by page: one request each, until a page has no paging state.
    let mut pages = session.query_pages(cql, (), &options);
    while let Some(page) = pages.next_page().await {
        let page = page?;
        // On Amazon Keyspaces a page may hold no rows and still not be the last one.
        for order in page.rows_typed::<Order<'_>>()? {
            println!("{:?}", order?);
        }
    }

    // One page now (e.g. per web request), the rest later from its paging state.
    let first = session.query(cql, (), &options).await?;
    if let Some(state) = first.paging_state() {
        let resumed = options.clone().with_paging_state(state.clone());
        let mut rest = session.query_pages(cql, (), &resumed);
        while let Some(page) = rest.next_page().await {
            println!("{} more rows", page?.rows().map_or(0, |rows| rows.len()));
        }
    }

    // Row by row into an owned type: the next page is fetched while this one is read, and
    // each page's columns are checked once, when it arrives.
    let mut orders = session.query_rows(cql, (), &options).typed::<OwnedOrder>();
    while let Some(order) = orders.next_row().await {
        println!("{:?}", order?);
    }
    Ok(())
}

async fn handle_errors(session: &cql4::Session) {
    use cql4::frame::{ErrorCode, ErrorDetails};
    use cql4::{Error, QueryOptions};

    let result = session
        .query("SELECT * FROM shop.orders", (), &QueryOptions::new())
        .await;
    match result {
        Ok(_) => {}
        // An ERROR frame of the server: its §9 code, message and details.
        Err(Error::Server(e)) if e.code == ErrorCode::OVERLOADED => {
            eprintln!("throttled, back off and try again: {}", e.message);
        }
        Err(Error::Server(e)) => match &e.details {
            ErrorDetails::ReadTimeout {
                received,
                block_for,
                ..
            } => eprintln!("read timeout: {received} of {block_for} replicas answered"),
            _ => eprintln!(
                "{} ({:#06x}): {}",
                e.code.name().unwrap_or("?"),
                e.code.0,
                e.message
            ),
        },
        // No answer within the request timeout; the connection is still usable.
        Err(Error::Timeout { timeout }) => eprintln!("no answer within {timeout:?}"),
        // Every node of the plan is down or still connecting.
        Err(Error::NoNodeAvailable { tried, last_error }) => {
            eprintln!("{tried} nodes, none connected; last error: {last_error:?}");
        }
        // `Session::close` was called.
        Err(Error::SessionClosed) => {}
        // A value that cannot be read: names the column and both types.
        Err(Error::Decode(e)) => eprintln!("{e}"),
        Err(e) => eprintln!("{e}"),
    }
}

fn describe(e: &cql4::Error) -> String {
    use cql4::ErrorKind;

    match e.kind() {
        // Amazon Keyspaces reports throttling as write and read timeouts.
        ErrorKind::WriteTimeout => format!("write timeout ({:?})", e.write_type()),
        ErrorKind::ReadTimeout | ErrorKind::Unavailable => {
            format!("not enough replicas at {:?}", e.consistency())
        }
        // An attempt's timeout or a deadline (`Error::Deadline` says which).
        ErrorKind::ClientTimeout => "no answer in time".to_owned(),
        ErrorKind::ConnectionLost => {
            "connection lost: the request may have been applied".to_owned()
        }
        _ => e.to_string(),
    }
}

fn resilient(connection: cql4::Config) -> cql4::SessionConfig {
    use std::time::Duration;

    use cql4::session::{KeyspacesRetryPolicy, SpeculativePolicy};

    cql4::SessionConfig::new(connection)
        .with_retry_policy(KeyspacesRetryPolicy::new().with_max_retries(10))
        .with_speculative(SpeculativePolicy::constant(Duration::from_millis(50), 1))
}

fn main() {
    println!(
        "This example only compiles the code of docs/guide.md; \
         run `--example keyspaces` or `--example typed`."
    );
}
