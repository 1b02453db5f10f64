#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cql4_fuzz::type_text(data));
