//! What a node says about itself in `system.local` (and the others in `system.peers`).

/// Cassandra's default partitioner.
pub const MURMUR3_PARTITIONER: &str = "org.apache.cassandra.dht.Murmur3Partitioner";
/// The partitioner Amazon Keyspaces reports (KEYSPACES.md, "system.local / system.peers are
/// emulated").
pub const KEYSPACES_PARTITIONER: &str = "com.amazonaws.cassandra.DefaultPartitioner";

/// One node's description, as its system tables show it. The builder makes one per node
/// ([`NodeSpec::numbered`]); change them with [`super::Builder::node_spec`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeSpec {
    /// `host_id`.
    pub host_id: [u8; 16],
    /// `data_center`.
    pub datacenter: String,
    /// `rack`.
    pub rack: String,
    /// `tokens`, as text (Murmur3 numbers unless a quirk says otherwise).
    pub tokens: Vec<String>,
    /// `release_version`.
    pub release_version: String,
}

impl NodeSpec {
    /// Node `number` (1-based) of `count`, with `vnodes` tokens: host id
    /// `00000000-0000-4000-8000-0000000000NN`, `dc1`, `rack1`, release 5.0.8, and Murmur3 tokens
    /// spread evenly and interleaved between the nodes (node 1 owns the first of every `count`).
    pub fn numbered(number: usize, count: usize, vnodes: usize) -> Self {
        let mut host_id = [0u8; 16];
        host_id[6] = 0x40; // version 4
        host_id[8] = 0x80; // RFC 4122 variant
        host_id[14] = u8::try_from(number >> 8).unwrap_or(u8::MAX);
        host_id[15] = u8::try_from(number & 0xff).unwrap_or(u8::MAX);
        Self {
            host_id,
            datacenter: "dc1".to_owned(),
            rack: "rack1".to_owned(),
            tokens: murmur3_tokens(number, count, vnodes),
            release_version: "5.0.8".to_owned(),
        }
    }

    /// The host id as a UUID string.
    pub fn host_id_string(&self) -> String {
        let h: String = self.host_id.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

/// Tokens of node `number` (1-based) of `count`, `vnodes` each: the ring cut into
/// `count * vnodes` equal arcs, handed out round-robin.
fn murmur3_tokens(number: usize, count: usize, vnodes: usize) -> Vec<String> {
    let arcs = i128::try_from(count.max(1) * vnodes.max(1)).unwrap_or(i128::MAX);
    let step = (1i128 << 64) / arcs;
    (0..vnodes.max(1))
        .map(|v| {
            let arc = i128::try_from(v * count.max(1) + number.saturating_sub(1)).unwrap_or(0);
            (i128::from(i64::MIN) + arc * step).to_string()
        })
        .collect()
}

/// Tokens that are not Murmur3 numbers, as Keyspaces shows them (scylla-rust-driver #350).
pub(crate) fn opaque_tokens(spec: &NodeSpec) -> Vec<String> {
    spec.tokens
        .iter()
        .enumerate()
        .map(|(i, _)| format!("keyspaces-{}-{i}", spec.host_id_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_sorted_per_node_and_numbers() {
        let all: Vec<i64> = (1..=3)
            .flat_map(|n| NodeSpec::numbered(n, 3, 4).tokens)
            .map(|t| t.parse().expect("a number"))
            .collect();
        let mut sorted = all.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 12);
        assert_eq!(sorted[0], i64::MIN);
    }

    #[test]
    fn host_ids_differ_and_print_as_uuids() {
        let a = NodeSpec::numbered(1, 2, 1);
        let b = NodeSpec::numbered(2, 2, 1);
        assert_ne!(a.host_id, b.host_id);
        assert_eq!(a.host_id_string(), "00000000-0000-4000-8000-000000000001");
    }
}
