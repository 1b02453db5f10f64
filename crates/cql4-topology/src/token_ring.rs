//! The token ring: every node's tokens (one per vnode) sorted once, with the primary owner of
//! a token found by binary search.
//!
//! A node owns the range `(previous token, its token]`; so the primary owner of token `t` is
//! the node of the first ring token `>= t`, wrapping past the largest to the smallest.

/// A `Murmur3Partitioner` token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub i64);

impl Token {
    /// Parses a token as `system.local.tokens` / `system.peers.tokens` lists it (decimal
    /// text). `None` for anything else, e.g. the placeholders Amazon Keyspaces sends.
    pub fn parse(text: &str) -> Option<Self> {
        text.trim().parse().ok().map(Self)
    }
}

/// A node's position in the node list a [`TokenRing`] was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeIndex(pub u32);

impl NodeIndex {
    /// The index as `usize`, for indexing the node list.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// The ring of `(token, owner)` pairs, sorted by token.
#[derive(Debug, Clone, Default)]
pub struct TokenRing {
    entries: Vec<(Token, NodeIndex)>,
}

impl TokenRing {
    /// Builds the ring from each node's tokens: `tokens[i]` are the tokens of node `i`.
    ///
    /// A token claimed by two nodes (only during a move, or from a confused emulation) keeps
    /// one owner, the lower index, so the ring has one entry per token.
    pub fn new<'a, I, T>(tokens: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: IntoIterator<Item = &'a Token>,
    {
        let mut entries = Vec::new();
        for (node, node_tokens) in tokens.into_iter().enumerate() {
            let Ok(node) = u32::try_from(node) else { break };
            entries.extend(node_tokens.into_iter().map(|t| (*t, NodeIndex(node))));
        }
        entries.sort_unstable();
        entries.dedup_by_key(|e| e.0);
        entries.shrink_to_fit();
        Self { entries }
    }

    /// The number of tokens on the ring.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the ring has no token.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The ring position that owns `token`: the first entry whose token is `>= token`,
    /// wrapping to 0. `None` on an empty ring.
    pub fn position(&self, token: Token) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        let i = self.entries.partition_point(|(t, _)| *t < token);
        Some(if i == self.entries.len() { 0 } else { i })
    }

    /// The primary owner of `token`.
    pub fn primary(&self, token: Token) -> Option<NodeIndex> {
        self.position(token).and_then(|i| self.owner_at(i))
    }

    /// The owner of ring entry `i`, if `i < len()`.
    pub fn owner_at(&self, i: usize) -> Option<NodeIndex> {
        self.entries.get(i).map(|e| e.1)
    }

    /// The owners of the ring entries starting at position `start` and going once round the
    /// ring (wrapping), in ring order; a node appears once per vnode.
    pub fn walk(&self, start: usize) -> impl Iterator<Item = NodeIndex> + '_ {
        let (after, before) = self.entries.split_at(start.min(self.entries.len()));
        before.iter().chain(after).map(|e| e.1)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<(Token, NodeIndex)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(tokens: &[&[i64]]) -> TokenRing {
        let tokens: Vec<Vec<Token>> = tokens
            .iter()
            .map(|ts| ts.iter().map(|t| Token(*t)).collect())
            .collect();
        TokenRing::new(tokens.iter())
    }

    #[test]
    fn primary_is_first_token_at_or_after() {
        // node 0: -100, 50; node 1: 0; node 2: 100
        let r = ring(&[&[-100, 50], &[0], &[100]]);
        let owner = |t| r.primary(Token(t)).map(|n| n.0);
        assert_eq!(owner(-100), Some(0));
        assert_eq!(owner(-99), Some(1));
        assert_eq!(owner(0), Some(1));
        assert_eq!(owner(1), Some(0));
        assert_eq!(owner(50), Some(0));
        assert_eq!(owner(51), Some(2));
        assert_eq!(owner(100), Some(2));
        // Past the largest token: wraps to the smallest.
        assert_eq!(owner(101), Some(0));
        assert_eq!(owner(i64::MAX), Some(0));
        assert_eq!(owner(i64::MIN), Some(0));
    }

    #[test]
    fn walk_wraps_once_round() {
        let r = ring(&[&[-100, 50], &[0], &[100]]);
        let start = r.position(Token(60)).expect("non-empty");
        let order: Vec<u32> = r.walk(start).map(|n| n.0).collect();
        assert_eq!(order, vec![2, 0, 1, 0]);
        assert_eq!(r.walk(0).count(), 4);
    }

    #[test]
    fn empty_ring_has_no_owner() {
        let r = ring(&[]);
        assert!(r.is_empty());
        assert_eq!(r.primary(Token(0)), None);
        assert_eq!(r.walk(0).count(), 0);
    }

    #[test]
    fn duplicate_token_keeps_one_entry() {
        let r = ring(&[&[7], &[7, 9]]);
        assert_eq!(r.len(), 2);
        assert_eq!(r.primary(Token(7)), Some(NodeIndex(0)));
        assert_eq!(r.primary(Token(8)), Some(NodeIndex(1)));
    }

    #[test]
    fn token_parse_rejects_non_numbers() {
        assert_eq!(Token::parse("-9223372036854775808"), Some(Token(i64::MIN)));
        assert_eq!(Token::parse(" 42 "), Some(Token(42)));
        assert_eq!(Token::parse("9223372036854775808"), None);
        assert_eq!(Token::parse("0x1F"), None);
        assert_eq!(Token::parse(""), None);
        assert_eq!(Token::parse("AAAAAAAAAAA="), None);
    }
}
