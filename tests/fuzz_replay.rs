//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) and the seeds through the same
//! checks the fuzz targets run (`cql4_testkit::fuzz_checks`), on stable Rust: every input a
//! fuzzer ever kept, and every regression it found, is re-checked by `cargo test`.
//!
//! With `CQL4_FUZZ_SEED_DIR=<dir>` set, the seeds (built from the golden vectors under
//! `tests/vectors/`, from frames captured from a real node under `fuzz/captures/`, and from
//! `seeds()`) are also written there, one directory per target, to start a fuzzing campaign
//! (`cargo xtask fuzz --seed`).

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: an unreadable corpus is a failed test"
)]

use std::fs;
use std::path::{Path, PathBuf};

use cql4_testkit::fuzz_checks::{self, TARGETS};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs every file of `fuzz/corpus/<target>/` through `check`; the corpus must not be empty
/// (a missing corpus would make this test pass vacuously).
fn replay(target: &str, check: fn(&[u8])) {
    let dir = root().join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    for file in &files {
        let data = fs::read(file).unwrap();
        // A panic names the input, so the failing corpus entry can be run with
        // `cargo fuzz run <target> <file>`.
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: {} failed", file.display());
    }
    println!("{target}: replayed {} inputs", files.len());
}

macro_rules! replay_targets {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), fuzz_checks::$target);
            }
        )*

        const REPLAYED: &[&str] = &[$(stringify!($target)),*];
    };
}

replay_targets!(
    frame,
    response_body,
    rows,
    error_body,
    event_body,
    type_value,
    roundtrip_value,
    sigv4_challenge,
    aws_profile,
    lz4,
    request,
    roundtrip_message,
    stream_table,
    type_text,
);

/// Every target of the kit has a test above, and every corpus a target.
#[test]
fn every_target_is_replayed() {
    let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names, REPLAYED,
        "replay_targets! and fuzz_checks::TARGETS differ"
    );
    for dir in fs::read_dir(root().join("fuzz/corpus")).unwrap() {
        let name = dir.unwrap().file_name().into_string().unwrap();
        assert!(names.contains(&name.as_str()), "no check for corpus {name}");
    }
}

fn check_of(target: &str) -> fn(&[u8]) {
    TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, check)| *check)
        .unwrap_or_else(|| panic!("no fuzz target {target}"))
}

fn hex_frames(file: &Path, list: &str) -> Vec<Vec<u8>> {
    let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
    json[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| decode_hex(v["hex"].as_str().unwrap()))
        .collect()
}

fn decode_hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Golden frames: the Python driver's requests, our responses that the driver decodes, and
/// frames captured from a real Cassandra node.
fn golden_frames() -> Vec<(String, Vec<u8>)> {
    let vectors = root().join("tests/vectors/python/messages");
    let mut frames: Vec<(String, Vec<u8>)> = Vec::new();
    for (file, list) in [
        ("requests.json", "requests"),
        ("responses.json", "responses"),
    ] {
        for (i, f) in hex_frames(&vectors.join(file), list)
            .into_iter()
            .enumerate()
        {
            frames.push((format!("{list}-{i}"), f));
        }
    }
    if let Ok(dir) = fs::read_dir(root().join("fuzz/captures")) {
        for entry in dir {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            frames.push((format!("capture-{name}"), fs::read(&path).unwrap()));
        }
    }
    frames
}

#[test]
fn seeds_pass_every_check() {
    let mut seeds: Vec<(String, &'static str, Vec<u8>)> = Vec::new();
    for (name, frame) in golden_frames() {
        for (target, data) in fuzz_checks::seeds_from_frame(&frame) {
            seeds.push((name.clone(), target, data));
        }
    }
    for (i, (target, data)) in fuzz_checks::seeds().into_iter().enumerate() {
        seeds.push((format!("seed-{i}"), target, data));
    }
    // Every golden frame yields at least the frame seed; the response vectors hold Rows, so
    // the rows and type seeds must be there too.
    for target in [
        "frame",
        "request",
        "response_body",
        "rows",
        "type_value",
        "error_body",
    ] {
        assert!(
            seeds.iter().any(|(_, t, _)| *t == target),
            "no seed for {target}"
        );
    }
    let out = std::env::var_os("CQL4_FUZZ_SEED_DIR").map(PathBuf::from);
    for (i, (name, target, data)) in seeds.iter().enumerate() {
        check_of(target)(data);
        if let Some(out) = &out {
            let dir = out.join(target);
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(format!("{name}-{i}")), data).unwrap();
        }
    }
}
