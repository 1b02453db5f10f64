//! The seeded generator and the mutations: iteration `i` of seed `s` draws everything from
//! `Rng::new(s, i)`, so the same seed and templates give the same frames whatever happened
//! before (the server's state aside).
//!
//! A mutation is data ([`Mutation`]), not just an edit: the minimizer re-applies a subset of
//! them to the template ("reset this field back"), and a finding file names them.

use std::fmt;

use super::templates::{value_length_offsets, Template};

/// A declared body length above this is over any server's frame limit (Cassandra's
/// `native_transport_max_frame_size` is 16 MiB by default): a server should refuse it from
/// the header alone rather than wait for the body.
pub(crate) const SANE_FRAME_LIMIT: u32 = 256 * 1024 * 1024;

/// Length of a v3–v5 frame header.
pub(crate) const HEADER_LEN: usize = 9;

/// xorshift64* (Vigna), seeded through splitmix64 so nearby seeds give unrelated streams.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64, iteration: u64) -> Self {
        let mut z = seed ^ iteration.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(z | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`0` when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
}

/// Values an inner `[int]` is set to: the boundaries of signed and unsigned 32-bit lengths.
const EXTREMES_32: [u32; 8] = [
    0,
    1,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0xffff_fffe,
    0x0001_0000,
    0x0100_0000,
];
/// Values a bound `[value]`'s length is set to: §6's null (-1) and unset (-2), other negative
/// lengths, and lengths far past the body (the largest Java array size and beyond: the length
/// that killed Cassandra 5.0.8 is 0x7fffffff, 1 in 8 here).
const VALUE_LENGTHS: [u32; 8] = [
    0x7fff_ffff,
    0x7fff_fffe,
    0x7fff_fff0,
    0x0100_0000,
    0xffff_ffff,
    0xffff_fffe,
    0x8000_0000,
    0,
];
const EXTREMES_16: [u16; 6] = [0, 1, 0x7fff, 0x8000, 0xffff, 0xfffe];

/// One edit of a frame. Positions are byte offsets in the frame as it is when the edit
/// applies; an edit that does not fit the frame (after others were dropped by the minimizer)
/// is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Delete {
        at: usize,
        n: usize,
    },
    /// An inner `[int]` (a `[long string]`, `[bytes]` or `[value]` length, a count).
    Int {
        at: usize,
        value: u32,
    },
    /// An inner `[short]` (a `[string]` or `[short bytes]` length, a value count).
    Short {
        at: usize,
        value: u16,
    },
    /// The length of the `index`-th bound `[value]` of a QUERY, EXECUTE or BATCH, found by
    /// parsing the frame as it is.
    ValueLength {
        index: usize,
        value: u32,
    },
    HeaderLength(u32),
    Opcode(u8),
    Flags(u8),
    Stream(i16),
    Version(u8),
    Truncate(usize),
    /// The frame cut at `cut`, then template `other` from byte `from`.
    Splice {
        cut: usize,
        other: usize,
        from: usize,
    },
    Byte {
        at: usize,
        value: u8,
    },
    /// Everything was cut away: one byte, so there is something to send.
    OneByte(u8),
    /// The header's length set to the body's, so the frame reaches the body decoder.
    FixLength,
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FlipBit { at, bit } => write!(f, "flip {at}.{bit}"),
            Self::Insert { at, bytes } => write!(f, "insert {}@{at}", hex(bytes)),
            Self::Delete { at, n } => write!(f, "delete {n}@{at}"),
            Self::Int { at, value } => write!(f, "int@{at}={value:#x}"),
            Self::Short { at, value } => write!(f, "short@{at}={value:#x}"),
            Self::ValueLength { index, value } => write!(f, "value#{index} length={value:#x}"),
            Self::HeaderLength(v) => write!(f, "header length={v:#x}"),
            Self::Opcode(v) => write!(f, "opcode={v:#04x}"),
            Self::Flags(v) => write!(f, "flags={v:#04x}"),
            Self::Stream(v) => write!(f, "stream={v}"),
            Self::Version(v) => write!(f, "version={v:#04x}"),
            Self::Truncate(at) => write!(f, "truncate {at}"),
            Self::Splice { cut, other, from } => {
                write!(f, "splice {cut}+template#{other}[{from}..]")
            }
            Self::Byte { at, value } => write!(f, "byte@{at}={value:#04x}"),
            Self::OneByte(v) => write!(f, "one byte {v:#04x}"),
            Self::FixLength => f.write_str("length fixed"),
        }
    }
}

/// Lowercase hex, as the finding and template files write frames.
pub(crate) fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

impl Mutation {
    /// Applies the edit; `false` (frame unchanged) when it does not fit.
    pub(crate) fn apply(&self, f: &mut Vec<u8>, templates: &[Template]) -> bool {
        match *self {
            Self::FlipBit { at, bit } => match f.get_mut(at) {
                Some(b) => *b ^= 1 << (bit & 7),
                None => return false,
            },
            Self::Insert { at, ref bytes } => {
                if at > f.len() {
                    return false;
                }
                f.splice(at..at, bytes.iter().copied());
            }
            Self::Delete { at, n } => {
                if at.saturating_add(n) > f.len() {
                    return false;
                }
                f.drain(at..at + n);
            }
            Self::Int { at, value } => return put(f, at, &value.to_be_bytes()),
            Self::Short { at, value } => return put(f, at, &value.to_be_bytes()),
            Self::ValueLength { index, value } => {
                let Some(&at) = value_length_offsets(f).get(index) else {
                    return false;
                };
                return put(f, at, &value.to_be_bytes());
            }
            Self::HeaderLength(v) => return put(f, 5, &v.to_be_bytes()),
            Self::Opcode(v) => return put(f, 4, &[v]),
            Self::Flags(v) => return put(f, 1, &[v]),
            Self::Stream(v) => return put(f, 2, &v.to_be_bytes()),
            Self::Version(v) => return put(f, 0, &[v]),
            Self::Truncate(at) => {
                if at >= f.len() {
                    return false;
                }
                f.truncate(at);
            }
            Self::Splice { cut, other, from } => {
                let Some(other) = templates.get(other).and_then(|t| t.frame.get(from..)) else {
                    return false;
                };
                if cut > f.len() {
                    return false;
                }
                f.truncate(cut);
                f.extend_from_slice(other);
            }
            Self::Byte { at, value } => return put(f, at, &[value]),
            Self::OneByte(v) => {
                if !f.is_empty() {
                    return false;
                }
                f.push(v);
            }
            Self::FixLength => {
                if f.len() < HEADER_LEN {
                    return false;
                }
                let body = u32::try_from(f.len() - HEADER_LEN).unwrap_or(u32::MAX);
                f[5..9].copy_from_slice(&body.to_be_bytes());
            }
        }
        true
    }
}

fn put(f: &mut [u8], at: usize, bytes: &[u8]) -> bool {
    match f.get_mut(at..at.saturating_add(bytes.len())) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

/// A template and the edits made to it: the whole recipe of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) template: usize,
    pub(crate) mutations: Vec<Mutation>,
}

impl Plan {
    /// The frame: the template with every mutation applied in order.
    pub(crate) fn frame(&self, templates: &[Template]) -> Vec<u8> {
        apply_all(templates, self.template, &self.mutations)
    }

    /// The mutations, as a finding file lists them.
    pub(crate) fn describe(&self) -> String {
        if self.mutations.is_empty() {
            return "none".to_owned();
        }
        self.mutations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub(crate) fn apply_all(
    templates: &[Template],
    template: usize,
    mutations: &[Mutation],
) -> Vec<u8> {
    let mut f = templates
        .get(template)
        .map(|t| t.frame.clone())
        .unwrap_or_default();
    for m in mutations {
        m.apply(&mut f, templates);
    }
    f
}

/// Draws iteration `(seed, iteration)`'s plan: a template and 1–4 edits. Unless an edit set
/// the header's length on purpose, the length is re-fixed 85% of the time, so that most
/// frames stay whole and reach the server's body decoder.
pub(crate) fn generate(seed: u64, iteration: u64, templates: &[Template]) -> Plan {
    let mut rng = Rng::new(seed, iteration);
    let template = rng.below(templates.len());
    let mut f = templates
        .get(template)
        .map(|t| t.frame.clone())
        .unwrap_or_default();
    let mut mutations = Vec::new();
    let mut length_set = false;
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let body_start = HEADER_LEN.min(f.len());
        let values = value_length_offsets(&f).len();
        let mut picked = Vec::new();
        match rng.below(15) {
            0 => {
                for _ in 0..1 + rng.below(4) {
                    if !f.is_empty() {
                        let at = rng.below(f.len());
                        picked.push(Mutation::FlipBit {
                            at,
                            bit: rng.below(8) as u8,
                        });
                    }
                }
            }
            1 => {
                let at = rng.below(f.len() + 1);
                let n = 1 + rng.below(8);
                let bytes = (0..n).map(|_| rng.next() as u8).collect();
                picked.push(Mutation::Insert { at, bytes });
            }
            2 if f.len() > 1 => {
                let at = rng.below(f.len());
                let n = (1 + rng.below(8)).min(f.len() - at);
                picked.push(Mutation::Delete { at, n });
            }
            3 if f.len() >= body_start + 4 => {
                let at = body_start + rng.below(f.len() - body_start - 3);
                let value = rng.pick(&EXTREMES_32);
                picked.push(Mutation::Int { at, value });
            }
            4 if f.len() >= body_start + 2 => {
                let at = body_start + rng.below(f.len() - body_start - 1);
                let value = rng.pick(&EXTREMES_16);
                picked.push(Mutation::Short { at, value });
            }
            5 if f.len() >= HEADER_LEN => {
                let body = (f.len() - HEADER_LEN) as u32;
                let v = match rng.below(4) {
                    0 => rng.pick(&EXTREMES_32),
                    1 => body.wrapping_add(1 + rng.below(16) as u32),
                    2 => body.saturating_sub(1 + rng.below(16) as u32),
                    _ => SANE_FRAME_LIMIT + 1,
                };
                length_set = true;
                picked.push(Mutation::HeaderLength(v));
            }
            6 if f.len() >= 5 => {
                let v = if rng.chance(50) {
                    rng.below(0x11) as u8
                } else {
                    rng.next() as u8
                };
                picked.push(Mutation::Opcode(v));
            }
            7 if f.len() >= 2 => picked.push(Mutation::Flags(rng.next() as u8)),
            8 if f.len() >= 4 => {
                let v = match rng.below(3) {
                    0 => rng.next() as i16,
                    1 => rng.pick(&[-1i16, -2, i16::MIN, i16::MAX, 0]),
                    _ => rng.below(32_768) as i16,
                };
                picked.push(Mutation::Stream(v));
            }
            9 if !f.is_empty() => {
                let v = rng.pick(&[0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x84, 0x44, 0xff]);
                picked.push(Mutation::Version(v));
            }
            10 if !f.is_empty() => picked.push(Mutation::Truncate(rng.below(f.len()))),
            11 => {
                let other = rng.below(templates.len());
                let cut = rng.below(f.len() + 1);
                let other_len = templates.get(other).map_or(0, |t| t.frame.len());
                let from = rng.below(other_len + 1);
                picked.push(Mutation::Splice { cut, other, from });
            }
            // Bound values are where a server sizes buffers from the wire: twice the weight
            // of other edits when the frame has any.
            13 | 14 if values > 0 => {
                let index = rng.below(values);
                let value = rng.pick(&VALUE_LENGTHS);
                picked.push(Mutation::ValueLength { index, value });
            }
            _ => {
                if !f.is_empty() {
                    let at = rng.below(f.len());
                    let value = rng.pick(&[0x00, 0xff, 0x7f, 0x80, 0x01]);
                    picked.push(Mutation::Byte { at, value });
                }
            }
        }
        for m in picked {
            m.apply(&mut f, templates);
            mutations.push(m);
        }
    }
    if f.is_empty() {
        // Zero bytes would be "zero whole frames": nothing to observe.
        let m = Mutation::OneByte(rng.next() as u8);
        m.apply(&mut f, templates);
        mutations.push(m);
    }
    if !length_set && f.len() >= HEADER_LEN && rng.chance(85) {
        mutations.push(Mutation::FixLength);
    }
    Plan {
        template,
        mutations,
    }
}

#[cfg(test)]
mod tests {
    use super::super::templates::tests::sample_templates;
    use super::*;

    #[test]
    fn same_seed_and_iteration_give_the_same_plan_and_frame() {
        let templates = sample_templates();
        for i in 0..500 {
            let a = generate(7, i, &templates);
            let b = generate(7, i, &templates);
            assert_eq!(a, b);
            assert_eq!(a.frame(&templates), b.frame(&templates));
        }
        let differ = (0..200)
            .filter(|&i| {
                generate(7, i, &templates).frame(&templates)
                    != generate(8, i, &templates).frame(&templates)
            })
            .count();
        assert!(
            differ > 150,
            "seeds 7 and 8 differ in only {differ} of 200 frames"
        );
    }

    #[test]
    fn every_drawn_mutation_applies_to_the_frame_it_was_drawn_for() {
        // The plan re-applied from the template gives the frame generation worked on, so a
        // finding's mutations list describes its frame exactly.
        let templates = sample_templates();
        for i in 0..2000 {
            let plan = generate(11, i, &templates);
            let mut f = templates[plan.template].frame.clone();
            for m in &plan.mutations {
                assert!(
                    m.apply(&mut f, &templates),
                    "iteration {i}: {m} did not apply"
                );
            }
        }
    }

    #[test]
    fn edits_that_do_not_fit_are_skipped_not_panics() {
        let templates = sample_templates();
        let far = [
            Mutation::FlipBit { at: 99, bit: 3 },
            Mutation::Insert {
                at: 99,
                bytes: vec![1],
            },
            Mutation::Delete {
                at: 2,
                n: usize::MAX,
            },
            Mutation::Int {
                at: usize::MAX,
                value: 1,
            },
            Mutation::ValueLength { index: 5, value: 1 },
            Mutation::HeaderLength(3),
            Mutation::Truncate(4),
            Mutation::Splice {
                cut: 0,
                other: 99,
                from: 0,
            },
            Mutation::Splice {
                cut: 0,
                other: 0,
                from: 9999,
            },
            Mutation::OneByte(1),
            Mutation::FixLength,
        ];
        for m in &far {
            let mut f = vec![4, 0, 0];
            assert!(!m.apply(&mut f, &templates), "{m}");
            assert_eq!(f, [4, 0, 0]);
        }
    }

    #[test]
    fn value_length_edit_finds_the_bound_value_by_parsing() {
        let templates = sample_templates();
        let query = &templates[2];
        let mut f = query.frame.clone();
        assert!(Mutation::ValueLength {
            index: 1,
            value: 0x7fff_ffff
        }
        .apply(&mut f, &templates));
        let at = value_length_offsets(&query.frame)[1];
        assert_eq!(f[at..at + 4], [0x7f, 0xff, 0xff, 0xff]);
        assert_eq!(f.len(), query.frame.len());
    }

    #[test]
    fn the_crashing_value_length_is_drawn_often() {
        // A whole QUERY/EXECUTE/BATCH frame with a bound value declaring 0x7fffffff: what
        // killed Cassandra 5.0.8. It must come up within a few hundred requests.
        let templates = sample_templates();
        let hits = (0..10_000u64)
            .filter(|&i| {
                let plan = generate(2026, i, &templates);
                plan.mutations.contains(&Mutation::FixLength)
                    && plan.mutations.iter().any(|m| {
                        matches!(
                            m,
                            Mutation::ValueLength {
                                value: 0x7fff_ffff,
                                ..
                            }
                        )
                    })
            })
            .count();
        assert!(
            hits >= 50,
            "only {hits} of 10000 plans set a value length to 0x7fffffff"
        );
    }
}
