//! The other drivers of the session benchmark, each its own program in its session mode:
//! the Java driver (`bench/java`), gocql (`bench/go`) and the Python driver
//! (`bench/python/client.py`). Contact point node 1, discovery on, the driver's default
//! session, pool and load-balancing policy; TLS against the cluster's CA with its server
//! name checked; a PLAIN login whose password goes in `CQL4_BENCH_PASSWORD`, not argv.
use std::process::Command;

use crate::bench::Paths;
use crate::layout::Layout;
use crate::util::{run, Result};
use crate::venv;

/// The drivers run through their own programs (`session_client` runs the Rust ones).
pub(super) const PEERS: [&str; 3] = ["java", "gocql", "python"];

/// Builds the Go program and the Java jar and makes sure of the Python venv.
pub(super) fn build(layout: &Layout, paths_build: std::path::PathBuf) -> Result<Paths> {
    let root = layout.root.clone();
    let paths = Paths {
        out: root.join("target").join("bench"),
        python: venv::ensure(layout)?,
        build: paths_build,
        root,
    };
    run(Command::new("go")
        .args(["build", "-o"])
        .arg(paths.gocql())
        .arg(".")
        .current_dir(paths.root.join("bench").join("go")))?;
    run(Command::new("mvn")
        .args(["-q", "-B", "-f"])
        .arg(paths.root.join("bench").join("java").join("pom.xml"))
        .arg(format!("-Dbench.build={}", paths.build.display()))
        .arg("package"))?;
    Ok(paths)
}

/// One throughput point of `driver` (one of [`PEERS`]) against the cluster `env` describes.
pub(super) fn command(
    p: &Paths,
    driver: &str,
    env: &[(&'static str, String)],
    args: &[String],
) -> Result<Command> {
    let get = |k: &str| {
        env.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("session bench: the cluster gives no {k}"))
    };
    let mut cmd = match driver {
        "gocql" => Command::new(p.gocql()),
        "java" => {
            let mut c = Command::new("java");
            // The heap the other sections give it, so its RSS compares across sections.
            c.args(["-Xms256m", "-Xmx512m", "-jar"]).arg(p.jar());
            // The Java driver wants the local data center named when given a contact point.
            c.args(["--local-dc".to_owned(), get("CQL4_TEST_LOCAL_DC")?]);
            c
        }
        "python" => {
            let mut c = Command::new(&p.python);
            c.arg(p.root.join("bench").join("python").join("client.py"));
            c
        }
        other => return Err(format!("session bench: {other} is not a peer")),
    };
    cmd.arg("--session")
        .args(["--host".to_owned(), get("CQL4_TEST_HOST")?])
        .args(["--port".to_owned(), get("CQL4_TEST_PORT")?])
        .args(["--ca".to_owned(), get("CQL4_TEST_CA")?])
        .args(["--server-name".to_owned(), get("CQL4_TEST_SERVER_NAME")?])
        .args(["--user".to_owned(), get("CQL4_TEST_USER")?])
        .args(["--keyspace", "bench"])
        .args(args)
        .env("CQL4_BENCH_PASSWORD", get("CQL4_TEST_PASSWORD")?);
    Ok(cmd)
}
