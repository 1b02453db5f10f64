//! The typed API end to end: creates a table, binds a derived struct to an INSERT, reads the
//! row back into the same struct (and into a tuple), then streams every row.
//!
//! ```text
//! cargo xtask cassandra start                  # the local Keyspaces-like node (TLS on 9142)
//! export CQL4_TEST_CA=target/cassandra/certs/ca.pem CQL4_TEST_SERVER_NAME=localhost
//! export CQL4_TEST_USER=cql4-at-123456789012
//! export CQL4_TEST_PASSWORD="$(python3 -c 'import json; \
//!   print(json.load(open("target/cassandra/node.json"))["credentials"]["password"])')"
//! cargo run --example typed
//! ```
//!
//! Settings come from the `CQL4_TEST_*` variables `cargo xtask test` gives the tests (see
//! docs/testing.md, "Environment given to the tests"): `CQL4_TEST_HOST` (default 127.0.0.1),
//! `CQL4_TEST_PORT` (default 9142), `CQL4_TEST_CA` (a PEM CA file; TLS with it, else TLS with
//! the Mozilla roots), `CQL4_TEST_SERVER_NAME` (the name the certificate is checked against),
//! `CQL4_TEST_USER` / `CQL4_TEST_PASSWORD` (a password login, if both are set). `--no-tls`
//! connects over plain TCP (a node started with `--mode plain`).
//!
//! It writes to the keyspace `cql4_example` (created with SimpleStrategy, replication 1) and
//! leaves it there.

use std::sync::Arc;
use std::time::Duration;

use cql4::auth::PasswordAuthenticator;
use cql4::{Config, FromRow, QueryOptions, SerializeRow, Session, TlsConfig};

/// One row of `cql4_example.users`, written and read by the same struct.
#[derive(Debug, PartialEq, FromRow, SerializeRow)]
struct User {
    id: i32,
    name: String,
    /// Read from and bound to the column `email_addresses`.
    #[cql(rename = "email_addresses")]
    emails: Vec<String>,
    visits: i64,
    /// A nullable column: `None` binds and reads null.
    nickname: Option<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let plain = std::env::args().skip(1).any(|a| a == "--no-tls");
    let host = env("CQL4_TEST_HOST").unwrap_or_else(|| "127.0.0.1".to_owned());
    let port = match env("CQL4_TEST_PORT") {
        Some(p) => p.parse()?,
        None => 9142,
    };
    let mut config = Config::new(host, port);
    if !plain {
        let mut tls = TlsConfig::new();
        if let Some(ca) = env("CQL4_TEST_CA") {
            tls = tls.with_ca_file(ca);
        }
        if let Some(name) = env("CQL4_TEST_SERVER_NAME") {
            tls = tls.with_server_name(name);
        }
        config.tls = Some(tls);
    }
    if let (Some(user), Some(password)) = (env("CQL4_TEST_USER"), env("CQL4_TEST_PASSWORD")) {
        config.auth = Some(Arc::new(PasswordAuthenticator::new(user, password)?));
    }

    let session = Session::connect(&config).await?;
    let options = QueryOptions::new();
    session
        .query(
            "CREATE KEYSPACE IF NOT EXISTS cql4_example WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
            &options,
        )
        .await?;
    session
        .query(
            "CREATE TABLE IF NOT EXISTS cql4_example.users (id int PRIMARY KEY, name text, \
             email_addresses list<text>, visits bigint, nickname text)",
            (),
            &options,
        )
        .await?;

    // Bind a derived struct: each field goes to the marker of its name.
    let insert = session
        .prepare(
            "INSERT INTO cql4_example.users (id, name, email_addresses, visits, nickname) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .await?;
    let ada = User {
        id: 1,
        name: "Ada".to_owned(),
        emails: vec!["ada@example.com".to_owned(), "ada@example.org".to_owned()],
        visits: 42,
        nickname: None,
    };
    session.execute(&insert, &ada, &options).await?;

    // Bind a tuple by position, read the row back into the struct.
    let select = session
        .prepare(
            "SELECT id, name, email_addresses, visits, nickname FROM cql4_example.users \
             WHERE id = ?",
        )
        .await?;
    let result = session.execute(&select, (1i32,), &options).await?;
    let read: User = result.single_row()?;
    assert_eq!(read, ada);
    println!("read back: {read:?}");

    // The same page into a tuple that borrows from it (no copy of the text).
    let (id, name): (i32, &str) = result.first_row()?;
    println!("as a tuple: ({id}, {name})");

    // A column read as the wrong Rust type is a `cql4::Error::Decode` naming the column.
    match result.first_row::<(i32, i32)>() {
        Err(cql4::Error::Decode(e)) => println!("as (i32, i32): {}", e.kind()),
        other => return Err(format!("expected a decode error, got {other:?}").into()),
    }

    // Every row, page after page, each row read into the struct.
    let mut rows = session.query_rows(
        "SELECT id, name, email_addresses, visits, nickname FROM cql4_example.users",
        (),
        &options,
    );
    let mut count = 0;
    while let Some(row) = rows.next_row().await {
        let user: User = row?.typed()?;
        count += 1;
        println!("row {count}: {} ({} emails)", user.name, user.emails.len());
    }

    session.close(Duration::from_secs(5)).await;
    Ok(())
}
