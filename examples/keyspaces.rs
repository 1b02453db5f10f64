//! Lists the keyspaces of a cluster (`system_schema.keyspaces`) through a [`Session`], each row
//! read into a derived struct: what a service on ECS, EKS or EC2 runs against Amazon Keyspaces.
//!
//! ```text
//! cargo run --example keyspaces -- [HOST] [PORT] [--no-tls] [--ca FILE] [--server-name NAME]
//!                                   [--sigv4 [--region REGION]]
//! ```
//!
//! Defaults: host `cassandra.us-east-1.amazonaws.com`, port 9142, TLS with the Mozilla roots.
//! Authentication: `--sigv4` signs with AWS credentials from the default chain
//! (`cql4::conn::http::default_chain()`: environment, shared files and `credential_process`,
//! the container endpoint of ECS and EKS Pod Identity, EC2 instance metadata), refreshed
//! before they expire; the region from `--region`, else `AWS_REGION` / `AWS_DEFAULT_REGION`,
//! else the shared config file. Otherwise `CQL4_USER` / `CQL4_PASSWORD` (Keyspaces
//! service-specific credentials or a Cassandra role), if set.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cql4::auth::{PasswordAuthenticator, SigV4AuthProvider};
use cql4::{Config, FromRow, QueryOptions, Session, TlsConfig};

/// One row of `system_schema.keyspaces`, borrowing its text from the page.
#[derive(FromRow)]
struct Keyspace<'a> {
    keyspace_name: &'a str,
    durable_writes: Option<bool>,
    replication: BTreeMap<&'a str, &'a str>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut positional = Vec::new();
    let (mut tls, mut ca, mut server_name, mut sigv4, mut region) = (true, None, None, false, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--no-tls" => tls = false,
            "--ca" => ca = args.next(),
            "--server-name" => server_name = args.next(),
            "--sigv4" => sigv4 = true,
            "--region" => region = args.next(),
            _ => positional.push(arg),
        }
    }
    let host = positional
        .first()
        .cloned()
        .unwrap_or_else(|| "cassandra.us-east-1.amazonaws.com".to_owned());
    let port = match positional.get(1) {
        Some(p) => p.parse()?,
        None => 9142,
    };

    let mut config = Config::new(host.clone(), port);
    if tls {
        let mut t = TlsConfig::new();
        if let Some(ca) = ca {
            t = t.with_ca_file(ca);
        }
        if let Some(name) = server_name {
            t = t.with_server_name(name);
        }
        config.tls = Some(t);
    }
    if sigv4 {
        let region = cql4::auth::resolve_region(
            region.as_deref(),
            &cql4::auth::ProcessEnv,
            &cql4::conn::file_reader::TokioFileReader::new(),
            None,
        )
        .await?;
        // The full chain, its files and `credential_process` read without blocking the runtime.
        let credentials = Arc::new(cql4::conn::http::default_chain().build());
        config.auth = Some(Arc::new(SigV4AuthProvider::new(credentials, region)));
    } else if let (Ok(user), Ok(password)) =
        (std::env::var("CQL4_USER"), std::env::var("CQL4_PASSWORD"))
    {
        config.auth = Some(Arc::new(PasswordAuthenticator::new(user, password)?));
    }

    // A pool per node (three connections per Keyspaces endpoint), reconnecting on its own.
    let session = Session::connect(&config).await?;
    // Amazon Keyspaces accepts only ONE, LOCAL_ONE and LOCAL_QUORUM for system tables.
    let options = QueryOptions::new().with_consistency(cql4::frame::Consistency::LOCAL_ONE);
    // Page by page: a Keyspaces page may hold no rows and still not be the last.
    let mut pages = session.query_pages("SELECT * FROM system_schema.keyspaces", (), &options);
    let mut count = 0;
    while let Some(page) = pages.next_page().await {
        let page = page?;
        for w in &page.warnings {
            eprintln!("warning: {w}");
        }
        for keyspace in page.rows_typed::<Keyspace<'_>>()? {
            let keyspace = keyspace?;
            let replication: Vec<String> = keyspace
                .replication
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let durable = match keyspace.durable_writes {
                Some(d) => d.to_string(),
                None => "null".to_owned(),
            };
            println!(
                "{} | durable_writes {durable} | {}",
                keyspace.keyspace_name,
                replication.join(", ")
            );
            count += 1;
        }
    }
    println!("({count} keyspaces from {host}:{port})");
    session.close(Duration::from_secs(5)).await;
    Ok(())
}
