//! Compiles the node's authenticator (`xtask/java/cql4/testnode/*.java`) against the fetched
//! jars and runs its SigV4 self-test (AWS plugins' cross-plugin vector plus refusals).
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::layout::Layout;
use crate::util::{on_path, run_captured, Context, Result};

const STAMP: &str = ".sources";

/// Returns the classes directory to put on the node's classpath.
pub(crate) fn ensure_authenticator(layout: &Layout) -> Result<PathBuf> {
    let sources = java_files(&layout.java_sources())?;
    let mut stamp = String::new();
    for source in &sources {
        stamp.push_str(&source.display().to_string());
        stamp.push('\n');
        stamp.push_str(
            &fs::read_to_string(source).context(|| format!("read {}", source.display()))?,
        );
    }
    stamp.push_str(&crate::maven::cassandra_version(layout).unwrap_or_default());
    let classes = layout.auth_classes();
    if fs::read_to_string(classes.join(STAMP)).ok().as_deref() != Some(stamp.as_str()) {
        if !on_path("javac") {
            return Err(
                "`javac` (JDK 17) is not on PATH; it compiles the test authenticator".into(),
            );
        }
        if classes.exists() {
            fs::remove_dir_all(&classes).context(|| format!("remove {}", classes.display()))?;
        }
        fs::create_dir_all(&classes).context(|| format!("create {}", classes.display()))?;
        let mut cmd = Command::new("javac");
        // Lint warnings do not fail the build: newer JDKs add lints, and this must build on them.
        cmd.args(["--release", "17", "-Xlint:all,-path,-serial", "-cp"])
            .arg(format!("{}/*", layout.lib().display()))
            .arg("-d")
            .arg(&classes)
            .args(&sources);
        run_captured(&mut cmd)?;
        fs::write(classes.join(STAMP), &stamp).context(|| "write javac stamp".into())?;
        eprintln!(
            "xtask: compiled the test authenticator into {}",
            classes.display()
        );
    }
    // The self-test needs only the JDK: SigV4Verifier has no Cassandra dependency.
    let out = run_captured(
        Command::new("java")
            .arg("-cp")
            .arg(&classes)
            .arg("cql4.testnode.SigV4SelfTest"),
    )
    .context(|| "SigV4 self-test of the Java authenticator".into())?;
    eprint!("xtask: {}", String::from_utf8_lossy(&out.stdout));
    Ok(classes)
}

fn java_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).context(|| format!("list {}", d.display()))? {
            let path = entry.context(|| format!("list {}", d.display()))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "java") {
                out.push(path);
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(format!("no Java sources under {}", dir.display()));
    }
    Ok(out)
}
