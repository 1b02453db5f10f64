//! Resident memory per idle connection: each Rust driver opens [`CONNECTIONS`] connections to
//! the canned server and leaves them idle (`rust_client --idle N`, which says how it isolates
//! the connections from the session around them).
use std::process::Stdio;

use serde_json::{json, Value};

use super::{client, Paths, Server, CANNED_PORT};
use crate::util::Result;

pub(super) const CONNECTIONS: u32 = 1000;
const DRIVERS: [&str; 3] = ["cql4", "scylla", "cdrs-tokio"];

pub(super) fn run(p: &Paths, pin: Option<(u32, u32)>, quick: bool) -> Result<Vec<Value>> {
    // A quick run still opens enough connections for the per-connection figure to mean
    // something, but fewer.
    let n = if quick { CONNECTIONS / 5 } else { CONNECTIONS };
    let _server = Server::start(p, pin.map(|x| x.0), CANNED_PORT)?;
    let mut records = Vec::new();
    for driver in DRIVERS {
        let label = format!("{driver} idle connections={n}");
        eprintln!("xtask: bench: {label}");
        let output = client(p, driver, pin.map(|x| x.1))
            .args(["--port", &CANNED_PORT.to_string(), "--idle", &n.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output();
        let record = output.as_ref().ok().and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .rev()
                .find_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        });
        match (output, record) {
            (Ok(o), Some(r)) if o.status.success() => {
                eprintln!(
                    "xtask: bench:   {:.1} KiB per connection",
                    r["kb_per_connection"].as_f64().unwrap_or(f64::NAN)
                );
                records.push(r);
            }
            (o, _) => {
                let why = match o {
                    Ok(o) => format!(
                        "exit {}: {}",
                        o.status,
                        String::from_utf8_lossy(&o.stderr)
                            .lines()
                            .last()
                            .unwrap_or("")
                    ),
                    Err(e) => format!("cannot run: {e}"),
                };
                eprintln!("xtask: bench: FAILED {label}: {why}");
                records.push(json!({"driver": driver, "connections": n, "failed": format!("{label}: {why}")}));
            }
        }
    }
    Ok(records)
}
