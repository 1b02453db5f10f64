//! `lz4`: LZ4 bodies.

use cql4_frame::compression::{self, Compression};

use super::small_limits;

/// An LZ4 body as Cassandra frames it (4-byte declared length, then the block).
pub fn lz4(data: &[u8]) {
    let limits = small_limits();
    let Ok(plain) = compression::decompress(Compression::Lz4, data, &limits) else {
        return;
    };
    assert!(plain.len() <= limits.max_decompressed_body);
    let mut packed = Vec::new();
    compression::compress(Compression::Lz4, &plain, &mut packed).expect("compressing succeeds");
    let again = compression::decompress(Compression::Lz4, &packed, &limits)
        .expect("our own compression decompresses");
    assert_eq!(again, plain);
}
