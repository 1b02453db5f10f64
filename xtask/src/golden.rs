//! `cargo xtask golden`: regenerates the Python driver's golden vectors
//! (crates/cql4-frame/tests/golden/python_driver.json) with xtask/python/golden.py in the venv.
//! The Rust test that reads them (crates/cql4-frame/tests/golden_python.rs) needs no Python.
use std::process::Command;

use crate::layout::Layout;
use crate::util::{run, Result};
use crate::venv;

pub(crate) fn run_golden(layout: &Layout) -> Result<()> {
    let python = venv::ensure(layout)?;
    let script = layout.xtask_dir().join("python").join("golden.py");
    let out = layout
        .root
        .join("crates")
        .join("cql4-frame")
        .join("tests")
        .join("golden")
        .join("python_driver.json");
    run(Command::new(python).arg(script).arg(out))
}
