//! proptest strategies built on the generators.

use std::fmt::Debug;

use arbitrary::Unstructured;
use proptest::collection::vec;
use proptest::prelude::*;

/// The most bytes one generated value draws from: enough for a type nested to the limit with
/// a value, a whole message or a small page.
pub const MAX_INPUT: usize = 4096;

/// A proptest strategy for what `generate` makes of up to [`MAX_INPUT`] random bytes.
///
/// Shrinking works on the bytes (shorter, then smaller), so a failing case shrinks towards the
/// first option of every choice: simple types, empty collections, absent fields. A generator
/// that fails on its bytes (rare: they run out gracefully) rejects the case.
pub fn strategy<T, F>(generate: F) -> impl Strategy<Value = T>
where
    T: Debug,
    F: Fn(&mut Unstructured<'_>) -> arbitrary::Result<T>,
{
    vec(any::<u8>(), 0..=MAX_INPUT)
        .prop_filter_map("the generator rejected its bytes", move |bytes| {
            generate(&mut Unstructured::new(&bytes)).ok()
        })
}
