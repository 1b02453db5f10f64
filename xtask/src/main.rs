//! `cargo xtask …`: the project's build, test and harness commands.
//!
//! - `cargo xtask test`: fmt, clippy, the sans-io check, a Keyspaces-like Cassandra node, the
//!   Python cross-check, `cargo test --workspace` against that node, rustdoc, the benchmark
//!   smoke run, then the session tests against local 3-node clusters (see docs/testing.md).
//! - `cargo xtask cassandra start|stop|status|logs|kill|stop-node|start-node`: the local Apache
//!   Cassandra node, or a local cluster (`start --nodes 3`).
//! - `cargo xtask demo`: the `cql4` CLI against the node, with a password and with SigV4.
//! - `cargo xtask bench`, `cargo xtask fuzz`: docs/benchmarks.md, docs/fuzzing.md.
//! - `cargo xtask golden`: regenerate the Python driver's golden value vectors (docs/testing.md).
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod cassandra;
mod certs;
mod demo;
mod fuzz;
mod golden;
mod javac;
mod layout;
mod maven;
mod probe;
mod sans_io;
mod test_cmd;
mod util;
mod venv;

use cassandra::Mode;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "cql4 build, test and harness commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// fmt --check, clippy -D warnings, the sans-io check, then the test suite against a local
    /// node, rustdoc, a benchmark smoke run, and the tests against local 3-node clusters.
    Test {
        /// Skip fmt and clippy (local iteration only; CI always runs them).
        #[arg(long)]
        skip_lint: bool,
        /// Only the cluster stage: no fmt, clippy or single-node stage (local iteration; CI
        /// runs everything).
        #[arg(long)]
        cluster_only: bool,
        /// Native port of the keyspaces-mode node and of every cluster node.
        #[arg(long, default_value_t = 9142)]
        port: u16,
    },
    /// Benchmarks against scylla, cdrs-tokio, gocql, the Java and Python drivers (docs/benchmarks.md).
    Bench {
        /// Smoke run (about a second per point, no real-server workload, output in target/bench).
        #[arg(long)]
        quick: bool,
        /// Skip the real-server (plain-mode Cassandra) workload.
        #[arg(long)]
        no_real: bool,
        /// Only the real-server workload, merged into the last full run's results.
        #[arg(long)]
        real_only: bool,
        /// Only the session benchmark: cql4's Session against scylla's on a local 3-node
        /// cluster (keyspaces mode), merged into docs/benchmarks.md. Several minutes; not in CI.
        #[arg(long, conflicts_with_all = ["quick", "no_real", "real_only"])]
        session: bool,
        /// Native port of the --session cluster (default 9142); pick a free one when other
        /// clusters run on this machine.
        #[arg(long, requires = "session")]
        port: Option<u16>,
        /// Only the COPY comparison: cql4's COPY FROM/TO against cqlsh's on the running node.
        #[arg(long, conflicts_with_all = ["quick", "no_real", "real_only", "session"])]
        copy_only: bool,
        /// Rows per COPY in the COPY comparison (default 200000).
        #[arg(long)]
        copy_rows: Option<u64>,
        /// Only the open-loop section for these drivers (comma-separated), merged into the last
        /// full run's results and report (after a change to one driver's program).
        #[arg(long, value_delimiter = ',', conflicts_with_all = ["quick", "no_real", "real_only", "session", "copy_only"])]
        open_loop_only: Option<Vec<String>>,
    },
    /// Manage the local Apache Cassandra node under target/cassandra.
    Cassandra {
        #[command(subcommand)]
        command: CassandraCommand,
    },
    /// Run the cargo-fuzz targets of fuzz/ and print their figures.
    Fuzz {
        /// Minutes per target (each also stops after 50 million runs).
        #[arg(long, default_value_t = 5)]
        minutes: u64,
        /// Only these targets, in this order (repeat the flag or separate with commas;
        /// default: all).
        #[arg(long, value_delimiter = ',')]
        target: Vec<String>,
        /// How many targets run at once (one libFuzzer process each; give each a core).
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Sanitizer: none (fastest; the code under test has no `unsafe` beyond one
        /// ASCII check, and a capped global
        /// allocator still turns any allocation above 256 MiB into a finding) or address.
        #[arg(long, value_enum, default_value_t = fuzz::Sanitizer::None)]
        sanitizer: fuzz::Sanitizer,
        /// First write seeds (golden vectors, captures) into fuzz/corpus/.
        #[arg(long)]
        seed: bool,
        /// Minimize each corpus afterwards (cargo fuzz cmin -use_counters=0: every covered
        /// edge kept, hit-count buckets not); `regression-*` inputs stay, under their names.
        #[arg(long)]
        cmin: bool,
    },
    /// Regenerate the Python driver's golden value vectors (crates/cql4-frame/tests/golden/).
    Golden,
    /// Run the cql4 CLI against the Keyspaces-like node (password login, then SigV4).
    Demo {
        /// Leave the node running afterwards.
        #[arg(long)]
        keep: bool,
    },
}

#[derive(Subcommand)]
enum CassandraCommand {
    /// Start the node, or a cluster with --nodes (fetching jars, generating certificates), and
    /// wait until a CQL login works (on every node).
    Start {
        /// keyspaces: TLS-only, SASL PLAIN + SigV4, port 9142. plain: no TLS, no auth, port 9042.
        #[arg(long, value_enum, default_value_t = Mode::Keyspaces)]
        mode: Mode,
        /// Native protocol port (default 9142 in keyspaces mode, 9042 in plain mode); every
        /// cluster node uses it on its own address.
        #[arg(long)]
        port: Option<u16>,
        /// 1: the single node. 2 or 3: a cluster on 127.0.0.1, 127.0.0.2, 127.0.0.3.
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        /// Data centers of the cluster: 1 (all in dc1) or 2 (the last node alone in dc2).
        #[arg(long, default_value_t = 1)]
        dcs: usize,
    },
    /// Stop every node this harness started (SIGTERM, then SIGKILL after a timeout).
    Stop,
    /// Say whether the node (each cluster node) runs, how to reach it, and whether a login works.
    Status,
    /// Print the end of a node's log.
    Logs {
        /// Cluster node number (default: the single node, or node 1 of a running cluster).
        node: Option<usize>,
        /// How many lines to print.
        #[arg(long, short = 'n', default_value_t = 100)]
        lines: usize,
    },
    /// SIGKILL cluster node N (a crash, as the other nodes and clients see it).
    Kill {
        /// Node number, 1-based.
        node: usize,
    },
    /// Stop cluster node N in an orderly way (SIGTERM).
    StopNode {
        /// Node number, 1-based.
        node: usize,
    },
    /// Restart cluster node N on its data; ready when it accepts a login and the others see it up.
    StartNode {
        /// Node number, 1-based.
        node: usize,
    },
}

fn cassandra_command(layout: &layout::Layout, command: CassandraCommand) -> Result<(), String> {
    match command {
        CassandraCommand::Start {
            mode,
            port,
            nodes: 1,
            dcs: 1,
        } => cassandra::start(layout, mode, port).map(|started| started.state.print_summary()),
        CassandraCommand::Start {
            mode,
            port,
            nodes,
            dcs,
        } => {
            let topology = cassandra::Topology::new(nodes, dcs)?;
            cassandra::start_cluster(layout, mode, port, topology)
                .map(|started| started.state.print_summary())
        }
        CassandraCommand::Stop => cassandra::stop(layout).map(|_| ()),
        CassandraCommand::Status => cassandra::status(layout),
        CassandraCommand::Logs { node, lines } => cassandra::logs(layout, node, lines),
        CassandraCommand::Kill { node } => cassandra::kill_node(layout, node),
        CassandraCommand::StopNode { node } => cassandra::stop_node(layout, node),
        CassandraCommand::StartNode { node } => cassandra::start_node(layout, node),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let layout = layout::Layout::discover();
    let result = match cli.command {
        Command::Test {
            skip_lint,
            cluster_only,
            port,
        } => test_cmd::run(
            &layout,
            &test_cmd::Options {
                skip_lint,
                cluster_only,
                port,
            },
        ),
        Command::Demo { keep } => demo::run(&layout, keep),
        Command::Golden => golden::run_golden(&layout),
        Command::Bench {
            quick,
            no_real,
            real_only,
            session,
            port,
            copy_only,
            copy_rows,
            open_loop_only,
        } => bench::run_bench(
            &layout,
            &bench::Options {
                quick,
                no_real,
                real_only,
                session,
                port,
                copy_only,
                copy_rows,
                open_loop_only,
            },
        ),
        Command::Fuzz {
            minutes,
            target,
            jobs,
            sanitizer,
            seed,
            cmin,
        } => fuzz::run_fuzz(
            &layout,
            &fuzz::FuzzArgs {
                minutes,
                targets: target,
                jobs,
                sanitizer,
                seed,
                cmin,
            },
        ),
        Command::Cassandra { command } => cassandra_command(&layout, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
