//! The canned multi-node case: [`NODES`] canned nodes in one server process on core 0
//! (127.0.0.1–4, one port), each driver's session discovering them from node 1 with its
//! defaults, [`IN_FLIGHT`] requests in flight from one client on core 1 — the client is the
//! bottleneck.
use serde_json::{json, Value};

use super::{measure, median_pass, pinned, run_order, Paths, Server, WORKLOADS};
use crate::util::Result;

const PORT: u16 = 19043;
const NODES: u8 = 4;
const IN_FLIGHT: u32 = 4096;
const DRIVERS: [&str; 2] = ["cql4", "scylla"];
/// Passes over the points in a full run; each row is its median pass.
const PASSES: usize = 3;

/// How the case is run, for the report.
pub(super) const METHOD: &str = "`canned_server --nodes 4`: four canned nodes on 127.0.0.1–4 \
    (one port), served by one process pinned to core 0, each answering `system.local` and \
    `system.peers`/`peers_v2` as that node (one evenly spaced Murmur3 token each). \
    `bench/src/bin/multi_node_client.rs` builds each driver's session from node 1 with its \
    defaults — cql4: `cql4_session::Session` (discovery, token-aware routing, its default pool \
    per node); scylla: `SessionBuilder` with only `known_node` — waits until all four nodes are \
    connected, then keeps 4,096 requests in flight from one task each, pinned to core 1. Three \
    passes, the two drivers back to back at each point in an order flipped every pass; each \
    row is the driver's median pass (all three in the last column). The \
    canned server has no `bench` keyspace in its schema tables, so neither driver can compute \
    replicas; both spread the requests over the nodes (cql4's per-node counts are shown).";

pub(super) fn run(p: &Paths, pin: Option<(u32, u32)>, quick: bool) -> Result<Vec<Value>> {
    let (warmup, duration) = if quick { (0.5, 1.0) } else { (2.0, 5.0) };
    let passes = if quick { 1 } else { PASSES };
    let _server = Server::start_nodes(p, pin.map(|x| x.0), PORT, NODES)?;
    // Every pass, each point's drivers back to back, their order flipped from one pass to the
    // next: the machine's speed drifts over minutes, and a driver always run first would carry
    // the drift.
    let mut runs: Vec<Vec<Value>> = vec![Vec::new(); WORKLOADS.len() * DRIVERS.len()];
    for pass in 0..passes {
        for (w, workload) in WORKLOADS.iter().enumerate() {
            for d in run_order(DRIVERS.len(), pass % 2 == 1) {
                let driver = DRIVERS[d];
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
                let label = format!(
                    "{driver} {workload} {NODES} canned nodes c={IN_FLIGHT}, pass {}",
                    pass + 1
                );
                let base = json!({"driver": driver, "workload": workload, "concurrency": IN_FLIGHT, "pool": "default"});
                runs[w * DRIVERS.len() + d].push(measure(&mut cmd, &label, base, false));
            }
        }
    }
    Ok(runs
        .into_iter()
        .map(|passes| {
            let mut r = median_pass(passes, "throughput");
            r["target"] = json!("canned-4");
            r
        })
        .collect())
}
