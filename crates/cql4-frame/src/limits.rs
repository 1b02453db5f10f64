//! Configurable decode limits. Every limit and its default is listed in `docs/limits.md`.

/// Limits applied while decoding untrusted bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeLimits {
    /// Largest accepted frame body, checked against the header's length before anything is
    /// allocated. Default 256 MiB (the spec's own maximum, §2.5).
    pub max_frame_body: usize,
    /// Deepest accepted nesting of CQL types (collections, tuples, UDTs). Default 64.
    pub max_type_depth: usize,
    /// Largest accepted decompressed body (LZ4's declared length is checked first).
    /// Default 256 MiB.
    pub max_decompressed_body: usize,
}

impl DecodeLimits {
    /// 256 MiB.
    pub const DEFAULT_MAX_FRAME_BODY: usize = 256 * 1024 * 1024;
    /// 64 levels.
    pub const DEFAULT_MAX_TYPE_DEPTH: usize = 64;
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_frame_body: Self::DEFAULT_MAX_FRAME_BODY,
            max_type_depth: Self::DEFAULT_MAX_TYPE_DEPTH,
            max_decompressed_body: Self::DEFAULT_MAX_FRAME_BODY,
        }
    }
}
