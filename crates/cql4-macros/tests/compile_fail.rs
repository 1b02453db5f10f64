//! Derive misuse fails to compile with the derive's own message (tests/ui/*.stderr; regenerate
//! with `TRYBUILD=overwrite cargo test -p cql4-macros --test compile_fail` and review the diff).

#[test]
fn derive_misuse() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
