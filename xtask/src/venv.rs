//! The Python virtualenv (`target/venv`) with AWS's client code for the cross-check:
//! `cassandra-driver` and `cassandra-sigv4`, and `cqlsh` for the CLI's comparison test, pinned
//! in `xtask/python/requirements.txt`.
//!
//! Idempotent: a stamp file holds the requirements text that was installed; when it matches and
//! the modules import, nothing runs.
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::layout::Layout;
use crate::util::{on_path, run, run_captured, Context, Result};

const STAMP: &str = ".cql4-requirements";

/// Returns the venv's python.
pub(crate) fn ensure(layout: &Layout) -> Result<PathBuf> {
    let venv = layout.venv();
    let python = venv.join("bin").join("python");
    let req_path = layout.python_requirements();
    let requirements =
        fs::read_to_string(&req_path).context(|| format!("read {}", req_path.display()))?;
    let imports = || {
        run_captured(Command::new(&python).args([
            "-c",
            "import cassandra, cassandra_sigv4.auth, cqlshlib; print(cassandra.__version__)",
        ]))
    };
    if python.is_file()
        && fs::read_to_string(venv.join(STAMP)).is_ok_and(|s| s == requirements)
        && imports().is_ok()
    {
        return Ok(python);
    }
    if !python.is_file() {
        if !on_path("python3") {
            return Err(
                "`python3` is not on PATH; the cross-check needs Python 3 with venv".into(),
            );
        }
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    let mut last = Ok(());
    // One retry: PyPI downloads on a fresh machine are the flakiest step here.
    for _ in 0..2 {
        last = run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
                "-r",
            ])
            .arg(&req_path)
            // If pip ever falls back to the sdist, skip the very slow Cython build.
            .env("CASS_DRIVER_NO_CYTHON", "1"));
        if last.is_ok() {
            break;
        }
    }
    last?;
    let out = imports()
        .context(|| "the venv cannot import cassandra / cassandra_sigv4 / cqlshlib".into())?;
    fs::write(venv.join(STAMP), &requirements).context(|| "write venv stamp".into())?;
    eprintln!(
        "xtask: Python venv ready at {} (cassandra-driver {})",
        venv.display(),
        String::from_utf8_lossy(&out.stdout).trim()
    );
    Ok(python)
}
