#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cql4_fuzz::aws_profile(data));
