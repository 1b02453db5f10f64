//! Cassandra's jars from Maven Central, copied by Maven into `target/cassandra/lib`.
//!
//! The folder is reused while its `.complete` marker holds the text of the pom that produced it;
//! a copy is made in `lib.partial` and renamed only once Maven succeeded, so an interrupted
//! fetch never leaves a half-filled `lib` that looks complete.
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::layout::Layout;
use crate::util::{on_path, run_captured, Context, Result};

const MARKER: &str = ".complete";

/// Makes sure the jars are present; returns the lib directory.
pub(crate) fn ensure_jars(layout: &Layout) -> Result<PathBuf> {
    let pom = layout.pom();
    let pom_text = fs::read_to_string(&pom).context(|| format!("read {}", pom.display()))?;
    let lib = layout.lib();
    if fs::read_to_string(lib.join(MARKER)).is_ok_and(|m| m == pom_text) {
        return Ok(lib);
    }
    if !on_path("mvn") {
        return Err(
            "Maven (`mvn`) is not on PATH; it fetches Cassandra from Maven Central \
                    (Debian/Ubuntu: apt-get install maven)"
                .into(),
        );
    }
    let partial = layout.lib_partial();
    let started = Instant::now();
    eprintln!(
        "xtask: fetching Cassandra jars from Maven Central ({} → {})",
        pom.display(),
        lib.display()
    );
    let mut last_error = String::new();
    // One retry: a fresh CI machine's first download is the step most likely to hit a network blip.
    for attempt in 1..=2 {
        if partial.exists() {
            fs::remove_dir_all(&partial).context(|| format!("remove {}", partial.display()))?;
        }
        let mut cmd = Command::new("mvn");
        cmd.arg("-B")
            .arg("-q")
            .arg("-f")
            .arg(&pom)
            .arg("dependency:copy-dependencies")
            .arg("-DincludeScope=runtime")
            .arg(format!("-DoutputDirectory={}", partial.display()));
        match run_captured(&mut cmd) {
            Ok(_) => {
                last_error.clear();
                break;
            }
            Err(e) => {
                eprintln!("xtask: Maven attempt {attempt} failed");
                last_error = e;
            }
        }
    }
    if !last_error.is_empty() {
        return Err(last_error);
    }
    let has_cassandra = fs::read_dir(&partial)
        .context(|| format!("list {}", partial.display()))?
        .filter_map(std::result::Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("cassandra-all-")
        });
    if !has_cassandra {
        return Err(format!(
            "Maven finished but {} has no cassandra-all jar",
            partial.display()
        ));
    }
    fs::write(partial.join(MARKER), &pom_text).context(|| "write lib marker".into())?;
    if lib.exists() {
        fs::remove_dir_all(&lib).context(|| format!("remove {}", lib.display()))?;
    }
    fs::rename(&partial, &lib).context(|| format!("rename to {}", lib.display()))?;
    eprintln!(
        "xtask: jars ready in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(lib)
}

/// The `cassandra-all` version in the lib folder (from the jar's file name).
pub(crate) fn cassandra_version(layout: &Layout) -> Option<String> {
    fs::read_dir(layout.lib()).ok()?.find_map(|e| {
        let name = e.ok()?.file_name().to_string_lossy().into_owned();
        name.strip_prefix("cassandra-all-")?
            .strip_suffix(".jar")
            .map(str::to_owned)
    })
}

/// The jamm jar, used as `-javaagent` like bin/cassandra does.
pub(crate) fn jamm_jar(layout: &Layout) -> Option<PathBuf> {
    fs::read_dir(layout.lib()).ok()?.find_map(|e| {
        let e = e.ok()?;
        let name = e.file_name().to_string_lossy().into_owned();
        (name.starts_with("jamm-") && name.ends_with(".jar")).then(|| e.path())
    })
}
