//! Just enough CQL for the emulated nodes: which table a statement reads or writes, which
//! columns a SELECT lists, its `col = literal` and `col = ?` conditions, and the column each bind
//! marker stands for. Anything else is [`Statement::Other`], which the nodes answer with Void.

/// A table as the statement names it: `ks.t` or `t` (then the connection's keyspace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableName {
    pub(crate) keyspace: Option<String>,
    pub(crate) table: String,
}

impl TableName {
    /// The keyspace, from the statement or else the connection's.
    pub(crate) fn keyspace_or<'a>(&'a self, current: Option<&'a str>) -> Option<&'a str> {
        self.keyspace.as_deref().or(current)
    }
}

/// The right-hand side of a `col = …` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operand {
    /// A literal: a quoted string (unquoted here) or a bare number.
    Literal(String),
    /// The n-th bind marker of the statement.
    Marker(usize),
}

/// What a statement is, for the emulated nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Statement {
    /// `USE ks`.
    Use(String),
    /// `SELECT cols FROM table [WHERE a = x AND …]`; `columns` is `None` for `*`.
    Select {
        columns: Option<Vec<String>>,
        table: TableName,
        conditions: Vec<(String, Operand)>,
    },
    /// `INSERT INTO`, `UPDATE`, `DELETE … FROM`.
    Write { table: TableName },
    /// Anything else (DDL, …).
    Other,
}

impl Statement {
    /// The table the statement reads or writes, if any.
    pub(crate) fn table(&self) -> Option<&TableName> {
        match self {
            Self::Select { table, .. } | Self::Write { table } => Some(table),
            Self::Use(_) | Self::Other => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// An identifier or keyword, lower-cased unless it was double-quoted.
    Word(String),
    /// A `'string'` literal (unquoted) or a number.
    Literal(String),
    Marker,
    Punct(char),
}

fn tokenize(cql: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = cql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '?' => out.push(Token::Marker),
            '\'' | '"' => {
                let mut s = String::new();
                while let Some(d) = chars.next() {
                    if d == c {
                        // A doubled quote is an escaped one.
                        if chars.peek() == Some(&c) {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    s.push(d);
                }
                out.push(if c == '"' {
                    Token::Word(s)
                } else {
                    Token::Literal(s)
                });
            }
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' => {
                let mut s = String::from(c);
                while let Some(d) = chars.peek().copied() {
                    if d.is_ascii_alphanumeric() || d == '_' {
                        s.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if s.starts_with(|d: char| d.is_ascii_digit() || d == '-') {
                    out.push(Token::Literal(s));
                } else {
                    out.push(Token::Word(s.to_ascii_lowercase()));
                }
            }
            other => out.push(Token::Punct(other)),
        }
    }
    out
}

fn is_word(t: Option<&Token>, w: &str) -> bool {
    matches!(t, Some(Token::Word(x)) if x == w)
}

/// Reads `name` or `ks.name` at `i`.
fn table_at(tokens: &[Token], i: usize) -> Option<TableName> {
    let Some(Token::Word(first)) = tokens.get(i) else {
        return None;
    };
    if tokens.get(i + 1) == Some(&Token::Punct('.')) {
        if let Some(Token::Word(second)) = tokens.get(i + 2) {
            return Some(TableName {
                keyspace: Some(first.clone()),
                table: second.clone(),
            });
        }
    }
    Some(TableName {
        keyspace: None,
        table: first.clone(),
    })
}

/// Parses `cql` (never fails: what it does not know is [`Statement::Other`]).
pub(crate) fn parse(cql: &str) -> Statement {
    let tokens = tokenize(cql);
    let first = tokens.first();
    if is_word(first, "use") {
        return match tokens.get(1) {
            Some(Token::Word(ks)) => Statement::Use(ks.clone()),
            _ => Statement::Other,
        };
    }
    let from = tokens.iter().position(|t| is_word(Some(t), "from"));
    if is_word(first, "select") {
        let Some(from) = from else {
            return Statement::Other;
        };
        let Some(table) = table_at(&tokens, from + 1) else {
            return Statement::Other;
        };
        let listed = tokens.get(1..from).unwrap_or_default();
        let columns = if listed == [Token::Punct('*')] {
            None
        } else {
            Some(
                listed
                    .split(|t| *t == Token::Punct(','))
                    .map(|col| match col {
                        [Token::Word(w)] => w.clone(),
                        // An expression (`token(k)`, `count(*)`): a name no table has.
                        other => format!("{other:?}"),
                    })
                    .collect(),
            )
        };
        return Statement::Select {
            columns,
            table,
            conditions: conditions(&tokens),
        };
    }
    let table = if is_word(first, "insert") && is_word(tokens.get(1), "into") {
        table_at(&tokens, 2)
    } else if is_word(first, "update") {
        table_at(&tokens, 1)
    } else if is_word(first, "delete") {
        from.and_then(|f| table_at(&tokens, f + 1))
    } else {
        None
    };
    table.map_or(Statement::Other, |table| Statement::Write { table })
}

/// The `col = x` conditions after WHERE, with the index of each bind marker.
fn conditions(tokens: &[Token]) -> Vec<(String, Operand)> {
    let mut out = Vec::new();
    let Some(start) = tokens.iter().position(|t| is_word(Some(t), "where")) else {
        return out;
    };
    let markers_before = tokens
        .get(..start)
        .unwrap_or_default()
        .iter()
        .filter(|t| **t == Token::Marker)
        .count();
    let mut marker = markers_before;
    let rest = tokens.get(start + 1..).unwrap_or_default();
    for (i, t) in rest.iter().enumerate() {
        if *t == Token::Marker {
            if let (Some(Token::Punct('=')), Some(Token::Word(col))) = (
                i.checked_sub(1).and_then(|j| rest.get(j)),
                i.checked_sub(2).and_then(|j| rest.get(j)),
            ) {
                out.push((col.clone(), Operand::Marker(marker)));
            }
            marker += 1;
        } else if let Token::Literal(lit) = t {
            if let (Some(Token::Punct('=')), Some(Token::Word(col))) = (
                i.checked_sub(1).and_then(|j| rest.get(j)),
                i.checked_sub(2).and_then(|j| rest.get(j)),
            ) {
                out.push((col.clone(), Operand::Literal(lit.clone())));
            }
        }
    }
    out
}

/// The column each bind marker stands for, in marker order: `col = ?` anywhere, and the
/// column list of `INSERT INTO t (a, b) VALUES (?, ?)`. A marker with no column is `None`.
pub(crate) fn marker_columns(cql: &str) -> Vec<Option<String>> {
    let tokens = tokenize(cql);
    let insert_columns: Vec<String> = if is_word(tokens.first(), "insert") {
        let open = tokens.iter().position(|t| *t == Token::Punct('('));
        let close = tokens.iter().position(|t| *t == Token::Punct(')'));
        match (open, close) {
            (Some(o), Some(c)) if o < c => tokens
                .get(o + 1..c)
                .unwrap_or_default()
                .iter()
                .filter_map(|t| match t {
                    Token::Word(w) => Some(w.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let values_at = tokens.iter().position(|t| is_word(Some(t), "values"));
    let mut out = Vec::new();
    let mut in_values = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        if *t != Token::Marker {
            continue;
        }
        let before = i.checked_sub(1).and_then(|j| tokens.get(j));
        let column = i.checked_sub(2).and_then(|j| tokens.get(j));
        let name = match (before, column) {
            (Some(Token::Punct('=')), Some(Token::Word(col))) => Some(col.clone()),
            _ if values_at.is_some_and(|v| v < i) => {
                let name = insert_columns.get(in_values).cloned();
                in_values += 1;
                name
            }
            _ => None,
        };
        out.push(name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(ks: Option<&str>, t: &str) -> TableName {
        TableName {
            keyspace: ks.map(str::to_owned),
            table: t.to_owned(),
        }
    }

    #[test]
    fn selects_name_their_table_columns_and_conditions() {
        assert_eq!(
            parse("SELECT * FROM system.local WHERE key='local'"),
            Statement::Select {
                columns: None,
                table: name(Some("system"), "local"),
                conditions: vec![("key".into(), Operand::Literal("local".into()))],
            }
        );
        assert_eq!(
            parse("select Peer, rpc_address from \"System\".peers"),
            Statement::Select {
                columns: Some(vec!["peer".into(), "rpc_address".into()]),
                table: name(Some("System"), "peers"),
                conditions: vec![],
            }
        );
        let Statement::Select { conditions, .. } =
            parse("SELECT v FROM t WHERE k = ? AND c = 3 AND d = ?")
        else {
            panic!("a select");
        };
        assert_eq!(
            conditions,
            vec![
                ("k".into(), Operand::Marker(0)),
                ("c".into(), Operand::Literal("3".into())),
                ("d".into(), Operand::Marker(1)),
            ]
        );
    }

    #[test]
    fn use_writes_and_others() {
        assert_eq!(parse("USE \"ks\""), Statement::Use("ks".into()));
        assert_eq!(parse("use KS"), Statement::Use("ks".into()));
        for w in [
            "INSERT INTO ks.t (k, v) VALUES (?, ?)",
            "UPDATE ks.t SET v = ? WHERE k = ?",
            "DELETE FROM ks.t WHERE k = 1",
        ] {
            assert_eq!(
                parse(w),
                Statement::Write {
                    table: name(Some("ks"), "t")
                },
                "{w}"
            );
        }
        assert_eq!(
            parse("CREATE TABLE x (k int PRIMARY KEY)"),
            Statement::Other
        );
        assert_eq!(parse(""), Statement::Other);
    }

    #[test]
    fn markers_map_to_their_columns() {
        assert_eq!(
            marker_columns("INSERT INTO ks.t (k, v) VALUES (?, ?)"),
            vec![Some("k".into()), Some("v".into())]
        );
        assert_eq!(
            marker_columns("UPDATE t SET v = ? WHERE k = ?"),
            vec![Some("v".into()), Some("k".into())]
        );
        assert_eq!(marker_columns("SELECT * FROM t WHERE k IN ?"), vec![None]);
    }
}
