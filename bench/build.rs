//! Exposes the resolved versions of the drivers under test (from Cargo.lock) to the binaries,
//! so every printed result names them.
fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    for (name, var) in [
        ("cql4-conn", "CQL4"),
        ("scylla", "SCYLLA"),
        ("scylla-cql", "SCYLLA_CQL"),
        ("cdrs-tokio", "CDRS"),
        ("cassandra-protocol", "CASSANDRA_PROTOCOL"),
        ("tokio", "TOKIO"),
    ] {
        let needle = format!("name = \"{name}\"\nversion = \"");
        let version = lock
            .match_indices(&needle)
            .last()
            .and_then(|(at, _)| lock[at + needle.len()..].split('"').next())
            .unwrap_or("unknown");
        println!("cargo:rustc-env=CARGO_PKG_VERSION_{var}={version}");
    }
}
