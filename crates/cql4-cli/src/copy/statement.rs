//! The COPY statement's grammar, as cqlsh takes it:
//! `COPY [ks.]table [(col, …)] TO|FROM 'file'|STDIN|STDOUT [WITH name = value [AND …]] [;]`.
//!
//! Names are CQL identifiers (unquoted ones fold to lower case, `"Quoted"` ones keep theirs);
//! option values are quoted strings or bare words (`HEADER = true`, `DELIMITER = '|'`).

use std::path::PathBuf;

/// Which way the rows go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Table to CSV.
    To,
    /// CSV to table.
    From,
}

/// The CSV side: a file, or the process's standard input/output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    File(PathBuf),
    Std,
}

/// A parsed COPY statement; options are checked later ([`super::options`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyStatement {
    /// The keyspace when the table is qualified.
    pub keyspace: Option<String>,
    pub table: String,
    /// The columns listed, in the order the CSV holds them; `None` for every column.
    pub columns: Option<Vec<String>>,
    pub direction: Direction,
    pub target: Target,
    /// `(name lower-cased, value)` in the order given.
    pub options: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// An unquoted word (identifier, keyword, number, bare value).
    Word(String),
    /// A `"quoted"` identifier, unescaped.
    Quoted(String),
    /// A `'string'`, unescaped.
    Str(String),
    Punct(char),
}

fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(_, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' || c == '"' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some((_, q)) if q == c => {
                        // A doubled quote is one quote inside the literal.
                        if chars.peek().is_some_and(|&(_, n)| n == c) {
                            chars.next();
                            text.push(c);
                        } else {
                            break;
                        }
                    }
                    Some((_, ch)) => text.push(ch),
                    None => return Err(format!("unterminated {c}quote{c}")),
                }
            }
            out.push(if c == '\'' {
                Token::Str(text)
            } else {
                Token::Quoted(text)
            });
        } else if "(),.=;".contains(c) {
            chars.next();
            out.push(Token::Punct(c));
        } else {
            let mut word = String::new();
            while let Some(&(_, ch)) = chars.peek() {
                if ch.is_whitespace()
                    || "(),=;'\"".contains(ch)
                    || (ch == '.' && !is_number_start(&word))
                {
                    break;
                }
                word.push(ch);
                chars.next();
            }
            out.push(Token::Word(word));
        }
    }
    Ok(out)
}

/// A word that is a number so far keeps its `.` (`REPORTFREQUENCY = 0.5`).
fn is_number_start(word: &str) -> bool {
    !word.is_empty()
        && word
            .trim_start_matches(['-', '+'])
            .bytes()
            .all(|b| b.is_ascii_digit())
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat_punct(&mut self, p: char) -> bool {
        if self.peek() == Some(&Token::Punct(p)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn identifier(&mut self, what: &str) -> Result<String, String> {
        match self.next() {
            Some(Token::Word(w)) if is_identifier(&w) => Ok(w.to_ascii_lowercase()),
            Some(Token::Quoted(q)) if !q.is_empty() => Ok(q),
            other => Err(format!(
                "expected {what}, found {}",
                describe(other.as_ref())
            )),
        }
    }
}

fn is_identifier(w: &str) -> bool {
    w.starts_with(|c: char| c.is_ascii_alphabetic())
        && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn describe(t: Option<&Token>) -> String {
    match t {
        None => "the end of the statement".to_owned(),
        Some(Token::Word(w)) => format!("'{w}'"),
        Some(Token::Quoted(q)) => format!("\"{q}\""),
        Some(Token::Str(s)) => format!("'{s}'"),
        Some(Token::Punct(p)) => format!("'{p}'"),
    }
}

/// True when the statement's first word is COPY.
pub(crate) fn is_copy(cql: &str) -> bool {
    let rest = cql.trim_start();
    rest.get(..4)
        .is_some_and(|w| w.eq_ignore_ascii_case("copy"))
        && rest[4..].starts_with(|c: char| c.is_whitespace())
}

/// Parses a COPY statement; the error is one line saying what was expected.
pub(crate) fn parse(cql: &str) -> Result<CopyStatement, String> {
    let mut p = Parser {
        tokens: tokenize(cql)?,
        at: 0,
    };
    if !p.eat_keyword("copy") {
        return Err("expected COPY".to_owned());
    }
    let first = p.identifier("a table name")?;
    let (keyspace, table) = if p.eat_punct('.') {
        (Some(first), p.identifier("a table name")?)
    } else {
        (None, first)
    };
    let columns = if p.eat_punct('(') {
        let mut cols = vec![p.identifier("a column name")?];
        while p.eat_punct(',') {
            cols.push(p.identifier("a column name")?);
        }
        if !p.eat_punct(')') {
            return Err(format!("expected ',' or ')', found {}", describe(p.peek())));
        }
        Some(cols)
    } else {
        None
    };
    let direction = if p.eat_keyword("to") {
        Direction::To
    } else if p.eat_keyword("from") {
        Direction::From
    } else {
        return Err(format!("expected TO or FROM, found {}", describe(p.peek())));
    };
    let target = match p.next() {
        Some(Token::Str(path)) if !path.is_empty() => Target::File(expand_home(&path)),
        Some(Token::Word(w)) if direction == Direction::To && w.eq_ignore_ascii_case("stdout") => {
            Target::Std
        }
        Some(Token::Word(w)) if direction == Direction::From && w.eq_ignore_ascii_case("stdin") => {
            Target::Std
        }
        other => {
            let std = if direction == Direction::To {
                "STDOUT"
            } else {
                "STDIN"
            };
            return Err(format!(
                "expected a quoted file name or {std}, found {}",
                describe(other.as_ref())
            ));
        }
    };
    let mut options = Vec::new();
    if p.eat_keyword("with") {
        loop {
            let name = match p.next() {
                Some(Token::Word(w)) if is_identifier(&w) => w.to_ascii_lowercase(),
                other => {
                    return Err(format!(
                        "expected an option name, found {}",
                        describe(other.as_ref())
                    ))
                }
            };
            if !p.eat_punct('=') {
                return Err(format!("expected '=' after {}", name.to_uppercase()));
            }
            let value = match p.next() {
                Some(Token::Str(s) | Token::Word(s) | Token::Quoted(s)) => s,
                other => {
                    return Err(format!(
                        "expected a value for {}, found {}",
                        name.to_uppercase(),
                        describe(other.as_ref())
                    ))
                }
            };
            options.push((name, value));
            if !p.eat_keyword("and") {
                break;
            }
        }
    }
    p.eat_punct(';');
    if let Some(t) = p.peek() {
        return Err(format!(
            "unexpected {} after the statement",
            describe(Some(t))
        ));
    }
    Ok(CopyStatement {
        keyspace,
        table,
        columns,
        direction,
        target,
        options,
    })
}

/// `~` and `~/…` as the shell expands them (cqlsh does the same).
fn expand_home(path: &str) -> PathBuf {
    if let Some(rest) = path
        .strip_prefix("~/")
        .or(if path == "~" { Some("") } else { None })
    {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    PathBuf::from(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_statement() {
        let s = parse(
            "copy Ks.\"My Table\" (a, \"B\") FROM '/tmp/x.csv' WITH header = true \
             AND DELIMITER='|' and reportfrequency = 0.5 AND null = 'it''s';",
        )
        .unwrap();
        assert_eq!(s.keyspace.as_deref(), Some("ks"));
        assert_eq!(s.table, "My Table");
        assert_eq!(s.columns, Some(vec!["a".to_owned(), "B".to_owned()]));
        assert_eq!(s.direction, Direction::From);
        assert_eq!(s.target, Target::File("/tmp/x.csv".into()));
        assert_eq!(
            s.options,
            [
                ("header".to_owned(), "true".to_owned()),
                ("delimiter".to_owned(), "|".to_owned()),
                ("reportfrequency".to_owned(), "0.5".to_owned()),
                ("null".to_owned(), "it's".to_owned()),
            ]
        );
    }

    #[test]
    fn std_targets_and_minimal_form() {
        let s = parse("COPY t TO STDOUT").unwrap();
        assert_eq!((s.keyspace, s.columns, s.target), (None, None, Target::Std));
        assert_eq!(parse("COPY t FROM stdin").unwrap().target, Target::Std);
        assert!(parse("COPY t TO STDIN").is_err());
        assert!(parse("COPY t FROM STDOUT").is_err());
    }

    #[test]
    fn errors_say_what_was_expected() {
        assert_eq!(
            parse("COPY t INTO 'f'").unwrap_err(),
            "expected TO or FROM, found 'INTO'"
        );
        assert_eq!(
            parse("COPY t TO f.csv").unwrap_err(),
            "expected a quoted file name or STDOUT, found 'f'"
        );
        assert_eq!(
            parse("COPY t (a TO 'f'").unwrap_err(),
            "expected ',' or ')', found 'TO'"
        );
        assert_eq!(
            parse("COPY t TO 'f' WITH header").unwrap_err(),
            "expected '=' after HEADER"
        );
        assert_eq!(parse("COPY t TO 'f").unwrap_err(), "unterminated 'quote'");
        assert!(parse("COPY t TO 'f' x").is_err());
    }

    #[test]
    fn copy_is_recognized_by_its_first_word() {
        assert!(is_copy("  CoPy t TO 'x'"));
        assert!(!is_copy("copying"));
        assert!(!is_copy("SELECT copy FROM t"));
    }
}
