//! Lists the keyspaces of a node: `select * from system_schema.keyspaces`.
//!
//! ```text
//! cargo run --example keyspaces -- [HOST] [PORT] [--no-tls] [--ca FILE] [--server-name NAME]
//!                                   [--sigv4 [--region REGION]]
//! ```
//!
//! Defaults: host `cassandra.us-east-1.amazonaws.com`, port 9142, TLS with the Mozilla roots.
//! Authentication: `--sigv4` signs with AWS credentials from the default chain
//! (`cql4::conn::http::default_chain()`: environment, shared files and `credential_process`,
//! container endpoint, instance metadata); otherwise `CQL4_USER` / `CQL4_PASSWORD` (Keyspaces service-specific
//! credentials or a Cassandra role), if set.

use std::sync::Arc;

use cql4::auth::{PasswordAuthenticator, SigV4AuthProvider};
use cql4::{Client, Config, QueryOptions, TlsConfig};

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

    let client = Client::connect(&config).await?;
    // Amazon Keyspaces accepts only ONE, LOCAL_ONE and LOCAL_QUORUM for system tables.
    let options = QueryOptions::new().with_consistency(cql4::frame::Consistency::LOCAL_ONE);
    let result = client
        .query("select * from system_schema.keyspaces", (), &options)
        .await?;
    let Some(rows) = result.rows() else {
        return Err("the server returned no rows".into());
    };
    let names: Vec<&str> = rows.columns().iter().map(|c| c.name.as_str()).collect();
    println!("{}", names.join(" | "));
    for row in rows.iter() {
        let values = row.to_owned_values()?;
        let cells: Vec<String> = values
            .iter()
            .map(|v| match v {
                Some(v) => v.to_string(),
                None => "null".to_owned(),
            })
            .collect();
        println!("{}", cells.join(" | "));
    }
    println!("({} rows from {host}:{port})", rows.len());
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}
