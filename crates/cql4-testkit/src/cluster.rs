//! The local cluster of `cargo xtask test`'s cluster stage, read from the `CQL4_TEST_*`
//! variables (docs/testing.md), and the node failures a test causes on it: [`Cluster::kill`]
//! (SIGKILL), [`Cluster::stop_node`] (orderly shutdown) and [`Cluster::start_node`], each
//! running `$CQL4_TEST_XTASK cassandra <verb> N`.
//!
//! Node numbers are 1-based, as in `cargo xtask cassandra kill N`: node `n` is
//! `nodes[n - 1]`. The logins, TLS and configs of the nodes come from [`crate::node::node`].
//!
//! A missing variable, or a "cluster" of one node (the single-node stage), fails the test with a
//! message naming `cargo xtask test`: cluster tests never skip.

use std::ffi::OsStr;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::node::{missing, split_list};

/// What the tests know about the running cluster.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Cluster {
    /// Every node's address, node 1 first (`CQL4_TEST_NODES`).
    pub nodes: Vec<IpAddr>,
    /// Each node's data center, in the order of [`Self::nodes`] (`CQL4_TEST_NODE_DCS`).
    pub datacenters: Vec<String>,
    /// The data center a client should treat as local: node 1's (`CQL4_TEST_LOCAL_DC`).
    pub local_dc: String,
    /// The native port every node listens on (`CQL4_TEST_PORT`).
    pub port: u16,
    /// The xtask executable that runs the cluster (`CQL4_TEST_XTASK`).
    pub xtask: PathBuf,
}

/// Which `cargo xtask cassandra` command a failure injection runs.
#[derive(Clone, Copy, Debug)]
enum Verb {
    Kill,
    StopNode,
    StartNode,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Self::Kill => "kill",
            Self::StopNode => "stop-node",
            Self::StartNode => "start-node",
        }
    }
}

impl Cluster {
    /// The cluster from the environment; panics, naming the variable, when one is missing or
    /// does not describe a cluster of at least two nodes.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| {
            get(name)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| panic!("{}", missing(name)))
        };
        let nodes: Vec<IpAddr> = split_list(&var("CQL4_TEST_NODES"))
            .iter()
            .map(|a| {
                a.parse()
                    .unwrap_or_else(|e| panic!("CQL4_TEST_NODES: {a:?} is not an IP address: {e}"))
            })
            .collect();
        if nodes.len() < 2 {
            panic!(
                "CQL4_TEST_NODES lists {} node(s), not a cluster: the cluster tests run in the \
                 cluster stage of `cargo xtask test` (alone: `cargo xtask test --cluster-only`)",
                nodes.len()
            );
        }
        let datacenters = split_list(&var("CQL4_TEST_NODE_DCS"));
        if datacenters.len() != nodes.len() {
            panic!(
                "CQL4_TEST_NODE_DCS has {} entries for {} nodes in CQL4_TEST_NODES",
                datacenters.len(),
                nodes.len()
            );
        }
        let local_dc = var("CQL4_TEST_LOCAL_DC");
        if !datacenters.contains(&local_dc) {
            panic!("CQL4_TEST_LOCAL_DC {local_dc:?} is none of CQL4_TEST_NODE_DCS {datacenters:?}");
        }
        let port = var("CQL4_TEST_PORT");
        let port = port
            .parse()
            .unwrap_or_else(|e| panic!("CQL4_TEST_PORT {port:?} is not a port number: {e}"));
        Self {
            nodes,
            datacenters,
            local_dc,
            port,
            xtask: PathBuf::from(var("CQL4_TEST_XTASK")),
        }
    }

    /// The native-protocol address of node `n` (1-based).
    pub fn addr(&self, n: usize) -> SocketAddr {
        SocketAddr::new(self.nodes[self.index(n)], self.port)
    }

    /// The data center of node `n` (1-based).
    pub fn datacenter(&self, n: usize) -> &str {
        &self.datacenters[self.index(n)]
    }

    /// SIGKILLs node `n` (a crash, as the other nodes and clients see it); returns when its
    /// process is gone. Panics with xtask's output if that fails.
    ///
    /// Blocks the calling thread: in async tests prefer [`Self::kill_async`].
    pub fn kill(&self, n: usize) -> Duration {
        self.run(Verb::Kill, n)
    }

    /// Stops node `n` in an orderly way (SIGTERM: it announces its shutdown to the others).
    /// Blocks like [`Self::kill`].
    pub fn stop_node(&self, n: usize) -> Duration {
        self.run(Verb::StopNode, n)
    }

    /// Restarts node `n` on its data; returns once it accepts a login and every running node
    /// sees it up (typically 5–11 s). Blocks like [`Self::kill`].
    pub fn start_node(&self, n: usize) -> Duration {
        self.run(Verb::StartNode, n)
    }

    /// [`Self::kill`] on a blocking thread, so the runtime's tasks (the driver's reconnection,
    /// its timers) keep running meanwhile.
    pub async fn kill_async(&self, n: usize) -> Duration {
        self.run_async(Verb::Kill, n).await
    }

    /// [`Self::stop_node`] on a blocking thread.
    pub async fn stop_node_async(&self, n: usize) -> Duration {
        self.run_async(Verb::StopNode, n).await
    }

    /// [`Self::start_node`] on a blocking thread.
    pub async fn start_node_async(&self, n: usize) -> Duration {
        self.run_async(Verb::StartNode, n).await
    }

    async fn run_async(&self, verb: Verb, n: usize) -> Duration {
        // Checked here too so a bad number panics in the test's own task.
        self.index(n);
        let this = self.clone();
        match tokio::task::spawn_blocking(move || this.run(verb, n)).await {
            Ok(elapsed) => elapsed,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("cargo xtask cassandra {} {n}: {e}", verb.as_str()),
        }
    }

    /// The index of node `n` in [`Self::nodes`]; panics unless `1 <= n <= nodes`.
    fn index(&self, n: usize) -> usize {
        if n == 0 || n > self.nodes.len() {
            panic!(
                "no node {n}: the cluster has nodes 1 to {} (numbers are 1-based, as in \
                 `cargo xtask cassandra kill N`)",
                self.nodes.len()
            );
        }
        n - 1
    }

    /// Runs `xtask cassandra <verb> <n>`; returns how long it took, panics with its output if
    /// it fails.
    fn run(&self, verb: Verb, n: usize) -> Duration {
        self.index(n);
        let args = [OsStr::new("cassandra"), OsStr::new(verb.as_str())];
        let what = format!("{} cassandra {} {n}", self.xtask.display(), verb.as_str());
        let begun = Instant::now();
        let output = Command::new(&self.xtask)
            .args(args)
            .arg(n.to_string())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run {what}: {e} (CQL4_TEST_XTASK is set by `cargo xtask test`)")
            });
        let elapsed = begun.elapsed();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            panic!(
                "{what} failed with {}:\n{stderr}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout)
            );
        }
        // Shown with the test's output when it fails: what the harness did and when.
        eprint!("{stderr}");
        elapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn env(xtask: &Path) -> HashMap<&'static str, String> {
        HashMap::from([
            ("CQL4_TEST_NODES", "127.0.0.1,127.0.0.2,127.0.0.3".into()),
            ("CQL4_TEST_NODE_DCS", "dc1,dc1,dc2".into()),
            ("CQL4_TEST_LOCAL_DC", "dc1".into()),
            ("CQL4_TEST_PORT", "9142".into()),
            ("CQL4_TEST_XTASK", xtask.display().to_string()),
        ])
    }

    fn cluster(env: &HashMap<&'static str, String>) -> Cluster {
        Cluster::from_lookup(|name| env.get(name).cloned())
    }

    fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let payload = std::panic::catch_unwind(f).expect_err("should panic");
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    }

    /// A directory of its own per test, and a stand-in xtask script in it: it appends its
    /// arguments to `calls` and runs `body`.
    fn fake_xtask(test: &str, body: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "cql4-testkit-cluster-{test}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let calls = dir.join("calls");
        let script = dir.join("xtask");
        fs::write(
            &script,
            format!("#!/bin/sh\necho \"$@\" >> '{}'\n{body}\n", calls.display()),
        )
        .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        (script, calls)
    }

    #[test]
    fn reads_the_cluster_stage_variables() {
        let c = cluster(&env(Path::new("/x/xtask")));
        assert_eq!(c.nodes.len(), 3);
        assert_eq!(c.addr(3), "127.0.0.3:9142".parse().unwrap());
        assert_eq!(c.datacenter(2), "dc1");
        assert_eq!(c.datacenter(3), "dc2");
        assert_eq!(c.local_dc, "dc1");
        assert_eq!(c.xtask, Path::new("/x/xtask"));
    }

    #[test]
    fn a_missing_variable_names_itself_and_cargo_xtask_test() {
        for name in [
            "CQL4_TEST_NODES",
            "CQL4_TEST_NODE_DCS",
            "CQL4_TEST_LOCAL_DC",
            "CQL4_TEST_PORT",
            "CQL4_TEST_XTASK",
        ] {
            let mut vars = env(Path::new("/x/xtask"));
            vars.remove(name);
            let message = panic_message(|| drop(cluster(&vars)));
            assert!(message.starts_with(name), "{name}: {message}");
            assert!(message.contains("`cargo xtask test`"), "{message}");
        }
    }

    #[test]
    fn the_single_node_stage_is_not_a_cluster() {
        let mut vars = env(Path::new("/x/xtask"));
        vars.insert("CQL4_TEST_NODES", "127.0.0.1".into());
        vars.insert("CQL4_TEST_NODE_DCS", "datacenter1".into());
        vars.insert("CQL4_TEST_LOCAL_DC", "datacenter1".into());
        let message = panic_message(|| drop(cluster(&vars)));
        assert!(message.contains("--cluster-only"), "{message}");
    }

    #[test]
    fn inconsistent_variables_are_refused() {
        let mut vars = env(Path::new("/x/xtask"));
        vars.insert("CQL4_TEST_NODE_DCS", "dc1,dc1".into());
        assert!(panic_message(|| drop(cluster(&vars))).contains("2 entries for 3 nodes"));
        let mut vars = env(Path::new("/x/xtask"));
        vars.insert("CQL4_TEST_LOCAL_DC", "dc9".into());
        assert!(panic_message(|| drop(cluster(&vars))).contains("dc9"));
        let mut vars = env(Path::new("/x/xtask"));
        vars.insert("CQL4_TEST_NODES", "127.0.0.1,node2,127.0.0.3".into());
        assert!(panic_message(|| drop(cluster(&vars))).contains("\"node2\""));
    }

    #[test]
    fn each_failure_runs_its_xtask_command_with_the_1_based_node() {
        let (script, calls) = fake_xtask("ok", "echo \"xtask: did $2 $3\" >&2");
        let c = cluster(&env(&script));
        c.kill(2);
        c.stop_node(1);
        c.start_node(3);
        assert_eq!(
            fs::read_to_string(&calls).unwrap(),
            "cassandra kill 2\ncassandra stop-node 1\ncassandra start-node 3\n"
        );
        fs::remove_dir_all(script.parent().unwrap()).unwrap();
    }

    #[test]
    fn the_async_forms_run_the_same_commands_off_the_runtime_thread() {
        let (script, calls) = fake_xtask("async", "");
        let c = cluster(&env(&script));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            c.kill_async(3).await;
            c.stop_node_async(2).await;
            c.start_node_async(1).await;
        });
        assert_eq!(
            fs::read_to_string(&calls).unwrap(),
            "cassandra kill 3\ncassandra stop-node 2\ncassandra start-node 1\n"
        );
        // A failing command still fails the test, with xtask's message.
        let (failing, _) = fake_xtask("async-fail", "echo 'node 2 is not running' >&2; exit 1");
        let c = cluster(&env(&failing));
        let message = panic_message(std::panic::AssertUnwindSafe(|| {
            rt.block_on(c.kill_async(2));
        }));
        assert!(message.contains("node 2 is not running"), "{message}");
        for s in [script, failing] {
            fs::remove_dir_all(s.parent().unwrap()).unwrap();
        }
    }

    #[test]
    fn a_failed_command_fails_the_test_with_its_stderr() {
        let (script, _) = fake_xtask(
            "fail",
            "echo 'xtask: error: node 2 is not running' >&2; exit 1",
        );
        let c = cluster(&env(&script));
        let message = panic_message(|| {
            c.kill(2);
        });
        assert!(message.contains("cassandra kill 2 failed"), "{message}");
        assert!(message.contains("node 2 is not running"), "{message}");
        fs::remove_dir_all(script.parent().unwrap()).unwrap();
    }

    #[test]
    fn node_numbers_outside_the_cluster_run_nothing() {
        let (script, calls) = fake_xtask("range", "");
        let c = cluster(&env(&script));
        for n in [0, 4] {
            let message = panic_message(|| {
                c.kill(n);
            });
            assert!(message.contains("nodes 1 to 3"), "{message}");
        }
        assert!(!calls.exists(), "xtask ran for an invalid node number");
        fs::remove_dir_all(script.parent().unwrap()).unwrap();
    }
}
