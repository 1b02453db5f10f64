//! CQL identifiers as DESCRIBE writes them: bare when CQL would read them back unchanged,
//! double-quoted otherwise (Cassandra's `ColumnIdentifier.maybeQuote`).

/// Cassandra 5.0's reserved keywords (`ReservedKeywords.java`): never bare, even in lower case.
const RESERVED: &[&str] = &[
    "add",
    "allow",
    "alter",
    "and",
    "apply",
    "asc",
    "authorize",
    "batch",
    "begin",
    "by",
    "columnfamily",
    "create",
    "default",
    "delete",
    "desc",
    "describe",
    "drop",
    "entries",
    "execute",
    "from",
    "full",
    "grant",
    "if",
    "in",
    "index",
    "infinity",
    "insert",
    "into",
    "is",
    "keyspace",
    "limit",
    "mbean",
    "mbeans",
    "modify",
    "nan",
    "norecursive",
    "not",
    "null",
    "of",
    "on",
    "or",
    "order",
    "primary",
    "rename",
    "replace",
    "revoke",
    "schema",
    "select",
    "set",
    "table",
    "to",
    "token",
    "truncate",
    "unlogged",
    "unset",
    "update",
    "use",
    "using",
    "view",
    "where",
    "with",
];

/// True when `name` reads back as itself unquoted: `[a-z][a-z0-9_]*` and not reserved.
pub fn is_bare(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !RESERVED.contains(&name)
}

/// `name` as CQL text: bare, or in double quotes with inner quotes doubled.
pub fn quote(name: &str) -> String {
    if is_bare(name) {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `s` as a CQL string literal: single quotes, inner quotes doubled.
pub fn string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("users"), "users");
        assert_eq!(quote("a_1"), "a_1");
        assert_eq!(quote("MixedCase"), "\"MixedCase\"");
        assert_eq!(quote("1abc"), "\"1abc\"");
        assert_eq!(quote("with space"), "\"with space\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("select"), "\"select\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(string_literal("it's"), "'it''s'");
    }
}
