//! The canned multi-node case: [`NODES`] canned nodes in one server process on core 0
//! (127.0.0.1–4, one port), each driver's session discovering them from node 1 with its
//! defaults, [`IN_FLIGHT`] requests in flight from one client on core 1 — the client is the
//! bottleneck.
use serde_json::{json, Value};

use super::{measure, pinned, Paths, Server, WORKLOADS};
use crate::util::Result;

const PORT: u16 = 19043;
const NODES: u8 = 4;
const IN_FLIGHT: u32 = 4096;
const DRIVERS: [&str; 2] = ["cql4", "scylla"];

/// How the case is run, for the report.
pub(super) const METHOD: &str = "`canned_server --nodes 4`: four canned nodes on 127.0.0.1–4 \
    (one port), served by one process pinned to core 0, each answering `system.local` and \
    `system.peers`/`peers_v2` as that node (one evenly spaced Murmur3 token each). \
    `bench/src/bin/multi_node_client.rs` builds each driver's session from node 1 with its \
    defaults — cql4: `cql4_session::Session` (discovery, token-aware routing, its default pool \
    per node); scylla: `SessionBuilder` with only `known_node` — waits until all four nodes are \
    connected, then keeps 4,096 requests in flight from one task each, pinned to core 1. The \
    canned server has no `bench` keyspace in its schema tables, so neither driver can compute \
    replicas; both spread the requests over the nodes (cql4's per-node counts are shown).";

pub(super) fn run(p: &Paths, pin: Option<(u32, u32)>, quick: bool) -> Result<Vec<Value>> {
    let (warmup, duration) = if quick { (0.5, 1.0) } else { (2.0, 5.0) };
    let _server = Server::start_nodes(p, pin.map(|x| x.0), PORT, NODES)?;
    let mut records = Vec::new();
    for workload in WORKLOADS {
        for driver in DRIVERS {
            let mut cmd = pinned(pin.map(|x| x.1), &p.bin("multi_node_client"));
            cmd.args(["--driver", driver, "--workload", workload])
                .args(["--port", &PORT.to_string(), "--nodes", &NODES.to_string()])
                .args(["--concurrency", &IN_FLIGHT.to_string()])
                .args([
                    "--warmup",
                    &warmup.to_string(),
                    "--duration",
                    &duration.to_string(),
                ]);
            let label = format!("{driver} {workload} {NODES} canned nodes c={IN_FLIGHT}");
            let base = json!({"driver": driver, "workload": workload, "concurrency": IN_FLIGHT, "pool": "default"});
            let mut r = measure(&mut cmd, &label, base, false);
            r["target"] = json!("canned-4");
            records.push(r);
        }
    }
    Ok(records)
}
