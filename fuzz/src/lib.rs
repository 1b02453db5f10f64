//! The cargo-fuzz targets of cql4, one function per target.
//!
//! Each `fuzz_targets/<name>.rs` is one line calling the function of the same name here, which
//! prepares the process (`overflow_guard`) and runs the check of the same name in
//! `cql4_testkit::fuzz_checks`: the properties, the input layout of every target and the
//! generators of the structured targets (`cql4_testkit::generators`) live there, so the root test
//! `tests/fuzz_replay.rs` replays the committed corpora `fuzz/corpus/<name>/` through the same
//! code on stable Rust. What only a fuzzing process needs stays here: `capped_alloc` (the
//! allocation cap) and `overflow_guard` (stack overflows recorded with their input), the
//! only `unsafe` code, compiled only into the cargo-fuzz binaries (`cfg(fuzzing)`).
#![cfg_attr(fuzzing, deny(unsafe_code))]
#![cfg_attr(not(fuzzing), forbid(unsafe_code))]

#[cfg(fuzzing)]
#[allow(unsafe_code)]
mod capped_alloc;
#[cfg_attr(fuzzing, allow(unsafe_code))]
mod overflow_guard;

use cql4_testkit::fuzz_checks;

macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("The `", stringify!($name), "` target: `cql4_testkit::fuzz_checks::", stringify!($name), "`.")]
            pub fn $name(data: &[u8]) {
                overflow_guard::install();
                fuzz_checks::$name(data);
            }
        )*
    };
}

// In fuzz/Cargo.toml order.
targets!(
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
