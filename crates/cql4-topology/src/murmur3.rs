//! The token of Cassandra's `Murmur3Partitioner`: the first 64-bit half of the x64 128-bit
//! MurmurHash3 of the partition key, seed 0, as `org.apache.cassandra.utils.MurmurHash.hash3_x64_128`
//! computes it.
//!
//! Cassandra's version differs from the reference C++ implementation in one place: the tail
//! bytes (the last `len % 16`) are read as Java's signed `byte` and sign-extended to `long`
//! before shifting, so a tail byte >= 0x80 sets every bit above it. The 16-byte blocks are read
//! unsigned (`getblock` masks with `0xff`). Tokens must match the server's bit for bit, so this
//! reproduces the quirk rather than the reference.

use crate::token_ring::Token;

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

/// The `Murmur3Partitioner` token of a routing key (the serialized partition key).
///
/// `Long.MIN_VALUE` is the partitioner's minimum token, which no key may hash to: Cassandra
/// maps a hash of `Long.MIN_VALUE` to `Long.MAX_VALUE` (`Murmur3Partitioner.normalize`), and
/// so does this. The empty key is the exception: `Murmur3Partitioner.getToken` gives it the
/// minimum token without hashing (the node confirms: `token(k) > token('')` holds for every
/// row).
pub fn murmur3_token(key: &[u8]) -> Token {
    if key.is_empty() {
        return Token(i64::MIN);
    }
    normalize(hash3_x64_128_first_half(key))
}

fn normalize(h1: i64) -> Token {
    Token(if h1 == i64::MIN { i64::MAX } else { h1 })
}

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

fn mix_k1(k1: u64) -> u64 {
    k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

fn mix_k2(k2: u64) -> u64 {
    k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

/// Java's `(long) byte`: the byte as signed, sign-extended to 64 bits.
fn signed(b: u8) -> u64 {
    i64::from(b as i8) as u64
}

fn hash3_x64_128_first_half(key: &[u8]) -> i64 {
    let mut h1: u64 = 0;
    let mut h2: u64 = 0;

    let mut blocks = key.chunks_exact(16);
    for block in &mut blocks {
        let (lo, hi) = block.split_at(8);
        let k1 = u64::from_le_bytes(lo.try_into().unwrap_or([0; 8]));
        let k2 = u64::from_le_bytes(hi.try_into().unwrap_or([0; 8]));

        h1 ^= mix_k1(k1);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(k2);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }

    let tail = blocks.remainder();
    let mut k1: u64 = 0;
    let mut k2: u64 = 0;
    for (i, &b) in tail.iter().enumerate() {
        // `^=` of sign-extended bytes, highest position first in Java's switch fall-through;
        // XOR is commutative so the order here does not matter.
        if i < 8 {
            k1 ^= signed(b) << (8 * i);
        } else {
            k2 ^= signed(b) << (8 * (i - 8));
        }
    }
    if tail.len() > 8 {
        h2 ^= mix_k2(k2);
    }
    if !tail.is_empty() {
        h1 ^= mix_k1(k1);
    }

    // Java's `length` is an int widened to long: never negative for a slice.
    let len = key.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h1 as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(key: &[u8]) -> i64 {
        murmur3_token(key).0
    }

    /// Vectors the DataStax Node.js, Ruby and C# drivers test against ("inputs and result
    /// values from Cassandra"); the ones with bytes >= 0x80 in the tail fail with the
    /// reference (unsigned) tail.
    #[test]
    fn matches_other_drivers_vectors() {
        let cases: &[(&[u8], i64)] = &[
            (
                &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
                -5_563_837_382_979_743_776,
            ),
            (
                &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
                -1_513_403_162_740_402_161,
            ),
            (&[255; 16], -2_824_192_546_314_762_522),
            (
                &[
                    0, 1, 2, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
                ],
                6_463_632_673_159_404_390,
            ),
            (&[254; 17], -1_672_437_813_826_982_685),
            (&[254, 254, 254, 254], 4_566_408_979_886_474_012),
            (&[0, 0, 0, 0], -3_485_513_579_396_041_028),
            (&[0, 1, 127, 127], 6_573_459_401_642_635_627),
            (
                &[226, 231, 226, 231, 226, 231, 1],
                2_222_373_981_930_033_306,
            ),
            (&[0, 0, 0, 0, 0, 0, 0, 0x80], 78_142_285_821_850_151),
            (b"123", -7_468_325_962_851_647_638),
        ];
        for (key, expected) in cases {
            assert_eq!(token(key), *expected, "key {key:02x?}");
        }
    }

    /// Computed by the Cassandra 5.0.8 test node (`SELECT token(k)` on text, int, bigint and
    /// blob keys), covering empty keys, every tail length and sign-extended tails.
    #[test]
    fn matches_cassandra_5_node() {
        let cases: &[(&[u8], i64)] = NODE_VECTORS;
        for (key, expected) in cases {
            assert_eq!(token(key), *expected, "key {key:02x?}");
        }
    }

    #[test]
    fn empty_key_is_the_minimum_token() {
        assert_eq!(murmur3_token(b""), Token(i64::MIN));
        // The hash itself would have been 0.
        assert_eq!(hash3_x64_128_first_half(b""), 0);
    }

    #[test]
    fn min_hash_becomes_max_token() {
        assert_eq!(normalize(i64::MIN), Token(i64::MAX));
        assert_eq!(normalize(i64::MIN + 1), Token(i64::MIN + 1));
        assert_eq!(normalize(-1), Token(-1));
    }

    /// `SELECT token(k)` of a `blob` key on the Cassandra 5.0.8 test node.
    const NODE_VECTORS: &[(&[u8], i64)] = &[
        (&[0, 0, 0, 1], -4_069_959_284_402_364_209),
        (&[0xff, 0xff, 0xff, 0xff], 7_297_452_126_230_313_552),
        (&[0, 0, 0, 0], -3_485_513_579_396_041_028),
        (&[0; 8], 2_945_182_322_382_062_539),
        (b"a", -8_839_064_797_231_613_815),
        ("é".as_bytes(), 5_461_403_030_378_599_040),
        (
            &[
                0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d,
                0x8e,
            ],
            63_099_782_945_186_636,
        ),
        (&[0xff; 17], -4_128_212_798_341_382_003),
        (b"Cassandra", -8_102_916_151_384_655_401),
        (
            &[
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
            ],
            -3_610_043_897_683_591_830,
        ),
        (&[0x80], -5_284_281_814_142_962_636),
    ];

    /// The reference MurmurHash3 reads tail bytes unsigned; Cassandra does not. On a key with
    /// a byte >= 0x80 in its tail, the two disagree, and the node sides with the signed read.
    #[test]
    fn tail_bytes_are_sign_extended() {
        fn unsigned_tail(key: &[u8]) -> u64 {
            let mut k1 = 0u64;
            for (i, &b) in key.iter().enumerate().take(8) {
                k1 ^= u64::from(b) << (8 * i);
            }
            k1
        }
        let key = [0xff, 0xff, 0xff, 0xff];
        let signed_k1: u64 = key
            .iter()
            .enumerate()
            .fold(0, |k, (i, &b)| k ^ (signed(b) << (8 * i)));
        assert_eq!(unsigned_tail(&key), 0x0000_0000_ffff_ffff);
        // Each sign-extended byte also flips every bit above it: the XOR keeps alternate bytes.
        assert_eq!(signed_k1, 0x0000_0000_00ff_00ff);
        assert_eq!(token(&key), 7_297_452_126_230_313_552);
    }
}
