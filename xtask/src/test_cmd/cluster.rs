//! The cluster stage of `cargo xtask test`: for each row of [`CLUSTERS`], a fresh keyspaces-mode
//! cluster, its tests with the cluster's `CQL4_TEST_*` environment, then the cluster stopped.
//!
//! The single node is stopped before this stage: it shares 127.0.0.1 and the native port with
//! cluster node 1, and three JVMs plus a fourth would not fit the 2-core machine anyway.
use std::process::Command;
use std::time::Instant;

use super::guard::{run_step, NodeGuard};
use super::{cargo, Failures};
use crate::cassandra::{self, Topology};
use crate::layout::Layout;

/// One cluster and the tests that run against it.
pub(super) struct ClusterRun {
    /// Shown in the log and in the list of failed steps.
    pub(super) name: &'static str,
    pub(super) nodes: usize,
    /// 1: every node in `dc1`. 2: nodes 1–2 in `dc1`, the last node alone in `dc2`.
    pub(super) dcs: usize,
    /// `cargo` arguments of each test command, run in order (each runs even if one failed).
    pub(super) tests: &'static [&'static [&'static str]],
}

/// One thread per test binary: the tests kill and restart nodes of the one shared cluster.
pub(super) const CLUSTERS: &[ClusterRun] = &[
    ClusterRun {
        name: "3-node cluster, 1 DC",
        nodes: 3,
        dcs: 1,
        tests: &[
            &[
                "test",
                "-p",
                "cql4-session",
                "--features",
                "cluster-tests",
                "--test",
                "cluster",
                "--",
                "--test-threads=1",
            ],
            // Fault injection through a proxy per node; leaves every node up.
            &[
                "test",
                "-p",
                "cql4-session",
                "--features",
                "cluster-tests",
                "--test",
                "cluster_faults",
                "--",
                "--test-threads=1",
            ],
            // SIGKILL of node 3 under counter increments; restarts it.
            &[
                "test",
                "-p",
                "cql4-session",
                "--features",
                "cluster-tests",
                "--test",
                "cluster_faults_kill",
                "--",
                "--test-threads=1",
            ],
            // Last on this cluster: it kills and restarts node 3.
            &[
                "test",
                "-p",
                "cql4-session",
                "--features",
                "cluster-tests",
                "--test",
                "cluster_kill",
                "--",
                "--test-threads=1",
            ],
        ],
    },
    ClusterRun {
        name: "3-node cluster, 2 DCs",
        nodes: 3,
        dcs: 2,
        tests: &[&[
            "test",
            "-p",
            "cql4-session",
            "--features",
            "cluster-tests",
            "--test",
            "cluster_dc",
            "--",
            "--test-threads=1",
        ]],
    },
];

/// Runs every row of [`CLUSTERS`]; a cluster that cannot start is a failure (tests never skip).
pub(super) fn run_all(layout: &Layout, port: u16, failures: &mut Failures) {
    for run in CLUSTERS {
        run_one(layout, port, run, failures);
    }
}

fn run_one(layout: &Layout, port: u16, run: &ClusterRun, failures: &mut Failures) {
    eprintln!("xtask: ==== {} ====", run.name);
    let begun = Instant::now();
    let started = Topology::new(run.nodes, run.dcs)
        .and_then(|topology| NodeGuard::start(layout, port, Some(topology)));
    let cluster = match started {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!(
                "xtask: FAILED: {}: the cluster did not start: {e}",
                run.name
            );
            failures.push(format!("{} (start)", run.name));
            return;
        }
    };
    let start_time = begun.elapsed();
    let mut env = cluster.state.test_env();
    env.push(("CQL4_TEST_XTASK", super::xtask_exe()));
    let mut failed = false;
    let tests_begun = Instant::now();
    for args in run.tests {
        let mut cmd: Command = cargo();
        cmd.args(*args);
        cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        if let Err(e) = run_step(&mut cmd) {
            let name = format!("{}: cargo {}", run.name, args.join(" "));
            eprintln!("xtask: FAILED: {name}: {e}");
            failures.push(name);
            failed = true;
        }
    }
    let test_time = tests_begun.elapsed();
    if failed {
        cassandra::print_log_tails(&cluster.state);
    }
    let stop_begun = Instant::now();
    if let Err(e) = cluster.stop() {
        eprintln!("xtask: FAILED: {}: stopping the cluster: {e}", run.name);
        failures.push(format!("{} (stop)", run.name));
    }
    eprintln!(
        "xtask: {} took {:.1}s (start {:.1}s, tests {:.1}s, stop {:.1}s)",
        run.name,
        begun.elapsed().as_secs_f64(),
        start_time.as_secs_f64(),
        test_time.as_secs_f64(),
        stop_begun.elapsed().as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cluster_in_the_table_is_a_valid_layout_with_tests() {
        for run in CLUSTERS {
            assert!(Topology::new(run.nodes, run.dcs).is_ok(), "{}", run.name);
            assert!(!run.tests.is_empty(), "{} runs no tests", run.name);
            for args in run.tests {
                // Tests that kill nodes must not run concurrently in one binary.
                assert_eq!(args.last(), Some(&"--test-threads=1"), "{}", run.name);
            }
        }
        let names: std::collections::BTreeSet<_> = CLUSTERS.iter().map(|r| r.name).collect();
        assert_eq!(names.len(), CLUSTERS.len(), "names tell the failures apart");
    }
}
