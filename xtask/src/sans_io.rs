//! The sans-io check of `cargo xtask test`: `cql4-frame`, `cql4-auth` and `cql4-topology` must
//! not depend on an async runtime (docs/architecture.md). One `cargo tree` over them, with every feature
//! and every target so an optional or platform-specific dependency cannot slip in unseen.
use crate::test_cmd::cargo;
use crate::util::{describe, run_captured, Result};

/// The crates that must stay free of I/O runtimes.
const SANS_IO_CRATES: [&str; 3] = ["cql4-frame", "cql4-auth", "cql4-topology"];
/// Dependencies that mean a runtime (tokio) or its event loop (mio) came in.
const FORBIDDEN: [&str; 2] = ["tokio", "mio"];

/// Fails naming the crate and the dependency path when a sans-io crate depends on
/// [`FORBIDDEN`].
pub(crate) fn check() -> Result<()> {
    let mut cmd = cargo();
    cmd.arg("tree");
    for krate in SANS_IO_CRATES {
        cmd.args(["-p", krate]);
    }
    cmd.args([
        "-e",
        "normal",
        "--all-features",
        "--target",
        "all",
        "--prefix",
        "depth",
    ]);
    eprintln!("xtask: running {}", describe(&cmd));
    let output = run_captured(&mut cmd)?;
    let paths = forbidden_paths(&String::from_utf8_lossy(&output.stdout));
    if paths.is_empty() {
        return Ok(());
    }
    Err(format!(
        "sans-io crates depend on an I/O runtime:\n  {}",
        paths.join("\n  ")
    ))
}

/// Every path `root -> … -> forbidden` in `cargo tree --prefix depth` output (lines such as
/// `2mio v1.0.4`), each as `name -> name -> …`.
fn forbidden_paths(tree: &str) -> Vec<String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut found = Vec::new();
    for line in tree.lines() {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        let (Ok(depth), Some(rest)) = (
            line.get(..digits).unwrap_or_default().parse::<usize>(),
            line.get(digits..),
        ) else {
            continue;
        };
        let Some(name) = rest.split_whitespace().next() else {
            continue;
        };
        stack.truncate(depth);
        stack.push(name);
        if FORBIDDEN.contains(&name) {
            found.push(stack.join(" -> "));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_tree_has_no_forbidden_path() {
        let tree = "0cql4-frame v0.1.0 (/w/crates/cql4-frame)\n1bytes v1.12.2\n\n\
                    0cql4-auth v0.1.0 (/w/crates/cql4-auth)\n1tracing v0.1.44\n2pin-project-lite v0.2.18\n";
        assert!(forbidden_paths(tree).is_empty());
    }

    #[test]
    fn a_transitive_tokio_or_mio_is_named_with_its_path() {
        let tree = "0cql4-frame v0.1.0 (/w/crates/cql4-frame)\n1bytes v1.12.2\n\n\
                    0cql4-auth v0.1.0 (/w/crates/cql4-auth)\n1hex v0.4.3\n1reqwest v0.12.0\n\
                    2hyper v1.0.0\n3tokio v1.48.0\n4mio v1.0.4\n2tokio v1.48.0 (*)\n1tokio-util v0.7.0\n";
        assert_eq!(
            forbidden_paths(tree),
            [
                "cql4-auth -> reqwest -> hyper -> tokio",
                "cql4-auth -> reqwest -> hyper -> tokio -> mio",
                "cql4-auth -> reqwest -> tokio",
            ]
        );
    }
}
