//! Splitting CQL text into statements on `;`, as cqlsh does.
//!
//! A `;` ends a statement only outside string literals (`'…'` with `''` as an escaped quote),
//! quoted identifiers (`"…"` with `""`), dollar-quoted strings (`$$…$$`) and comments (`-- …`,
//! `// …` to the end of the line, `/* … */`). Comments are dropped from the statement text (a
//! line comment keeps its newline, a block comment becomes a space), so a file that ends with a
//! comment yields no empty statement.
//!
//! The [`Splitter`] is incremental: text can be pushed line by line (the interactive prompt) or all
//! at once (`-f FILE`, piped stdin). A character whose meaning depends on the next one (`-`, `/`,
//! `$`, a closing quote, `*`) is left unscanned until that next character arrives or the input
//! ends, so where the input is cut into chunks never changes the result.

/// One complete statement and where it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    /// The statement without its terminating `;`, comments removed, trimmed.
    pub(crate) text: String,
    /// 1-based line of the statement's first character in the whole input.
    pub(crate) line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    /// Inside `'…'`.
    SingleQuoted,
    /// Inside `"…"`.
    DoubleQuoted,
    /// Inside `$$…$$`.
    DollarQuoted,
    /// Inside `-- …` or `// …`, up to the end of the line.
    LineComment,
    /// Inside `/* … */`.
    BlockComment,
}

/// Incremental statement splitter; see the module documentation.
#[derive(Debug)]
pub(crate) struct Splitter {
    /// Text pushed but not yet scanned (at most one character that awaits its successor, plus
    /// whatever was pushed after it).
    pending: Vec<char>,
    state: State,
    /// The statement being built.
    current: String,
    /// Line of `current`'s first non-blank character, once there is one.
    current_line: Option<usize>,
    /// Line of the next character to scan.
    line: usize,
}

impl Splitter {
    pub(crate) fn new() -> Self {
        Self {
            pending: Vec::new(),
            state: State::Normal,
            current: String::new(),
            current_line: None,
            line: 1,
        }
    }

    /// Splits a whole input: every complete statement, then the trailing one without `;`.
    #[cfg(test)]
    pub(crate) fn split_all(input: &str) -> Vec<Statement> {
        let mut splitter = Self::new();
        let mut out = splitter.push(input);
        out.extend(splitter.finish());
        out
    }

    /// Scans `text` and returns the statements it completed.
    pub(crate) fn push(&mut self, text: &str) -> Vec<Statement> {
        self.pending.extend(text.chars());
        self.scan(false)
    }

    /// Ends the input: returns what is left, including a last statement without `;`.
    ///
    /// An unterminated string or block comment is not an error here: the text goes to the server
    /// as it is, and the server's syntax error names the problem.
    pub(crate) fn finish(&mut self) -> Vec<Statement> {
        let mut out = self.scan(true);
        out.extend(self.take_statement());
        self.state = State::Normal;
        out
    }

    /// True when nothing of an unfinished statement is buffered (the prompt shows `cql4> `
    /// rather than a continuation prompt).
    pub(crate) fn is_idle(&self) -> bool {
        self.current_line.is_none()
            && self.state == State::Normal
            && self.pending.iter().all(|c| c.is_whitespace())
    }

    fn take_statement(&mut self) -> Option<Statement> {
        let line = self.current_line.take()?;
        let text = self.current.trim().to_owned();
        self.current.clear();
        Some(Statement { text, line })
    }

    fn keep(&mut self, c: char) {
        if self.current_line.is_none() {
            if c.is_whitespace() {
                return;
            }
            self.current_line = Some(self.line);
        }
        self.current.push(c);
    }

    fn scan(&mut self, at_end: bool) -> Vec<Statement> {
        let mut out = Vec::new();
        let chars = std::mem::take(&mut self.pending);
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            let next = chars.get(i + 1).copied();
            // Characters whose meaning depends on the next one wait for it, unless the input ended.
            let needs_next = match self.state {
                State::Normal => matches!(c, '-' | '/' | '$'),
                State::SingleQuoted => c == '\'',
                State::DoubleQuoted => c == '"',
                State::DollarQuoted => c == '$',
                State::BlockComment => c == '*',
                State::LineComment => false,
            };
            if needs_next && next.is_none() && !at_end {
                break;
            }
            let mut consumed = 1;
            match self.state {
                State::Normal => match (c, next) {
                    (';', _) => out.extend(self.take_statement()),
                    ('-', Some('-')) | ('/', Some('/')) => {
                        self.state = State::LineComment;
                        consumed = 2;
                    }
                    ('/', Some('*')) => {
                        self.state = State::BlockComment;
                        consumed = 2;
                    }
                    ('$', Some('$')) => {
                        self.keep('$');
                        self.keep('$');
                        self.state = State::DollarQuoted;
                        consumed = 2;
                    }
                    ('\'', _) => {
                        self.keep(c);
                        self.state = State::SingleQuoted;
                    }
                    ('"', _) => {
                        self.keep(c);
                        self.state = State::DoubleQuoted;
                    }
                    _ => self.keep(c),
                },
                State::SingleQuoted | State::DoubleQuoted => {
                    self.keep(c);
                    let quote = if self.state == State::SingleQuoted {
                        '\''
                    } else {
                        '"'
                    };
                    if c == quote {
                        if next == Some(quote) {
                            // A doubled quote is an escaped quote, not the end.
                            self.keep(quote);
                            consumed = 2;
                        } else {
                            self.state = State::Normal;
                        }
                    }
                }
                State::DollarQuoted => {
                    if c == '$' && next == Some('$') {
                        self.keep('$');
                        self.keep('$');
                        self.state = State::Normal;
                        consumed = 2;
                    } else {
                        self.keep(c);
                    }
                }
                State::LineComment => {
                    if c == '\n' {
                        self.keep('\n');
                        self.state = State::Normal;
                    }
                }
                State::BlockComment => {
                    if c == '*' && next == Some('/') {
                        self.keep(' ');
                        self.state = State::Normal;
                        consumed = 2;
                    }
                }
            }
            for &done in chars.get(i..i + consumed).unwrap_or_default() {
                if done == '\n' {
                    self.line += 1;
                }
            }
            i += consumed;
        }
        self.pending = chars.get(i..).unwrap_or_default().to_vec();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(input: &str) -> Vec<String> {
        Splitter::split_all(input)
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    #[test]
    fn splits_on_semicolons_and_keeps_trailing_statement() {
        assert_eq!(
            texts("select 1; select 2 ;\nselect 3"),
            ["select 1", "select 2", "select 3"]
        );
    }

    #[test]
    fn empty_statements_and_blank_input_yield_nothing() {
        assert!(texts("").is_empty());
        assert!(texts("  \n\t ").is_empty());
        assert_eq!(texts(";;select 1;;\n;"), ["select 1"]);
    }

    #[test]
    fn semicolon_inside_single_quotes_with_escaped_quote() {
        assert_eq!(
            texts("insert into t (a) values ('it''s; fine'); select 2"),
            ["insert into t (a) values ('it''s; fine')", "select 2"]
        );
    }

    #[test]
    fn semicolon_inside_double_quoted_identifier() {
        assert_eq!(
            texts(r#"select "a;""b" from t; select 2"#),
            [r#"select "a;""b" from t"#, "select 2"]
        );
    }

    #[test]
    fn dollar_strings_hide_semicolons_quotes_and_comment_markers() {
        let input = "create function f() returns null on null input returns int language java \
                     as $$ return 1; // ' -- \" /* $$; select 2";
        assert_eq!(
            texts(input),
            [
                "create function f() returns null on null input returns int language java \
                 as $$ return 1; // ' -- \" /* $$",
                "select 2"
            ]
        );
    }

    #[test]
    fn line_comments_are_dropped_and_hide_semicolons() {
        assert_eq!(
            texts("-- a; comment\nselect 1 // trailing; comment\n from t;\n// last"),
            ["select 1 \n from t"]
        );
    }

    #[test]
    fn block_comments_are_dropped_across_lines() {
        assert_eq!(
            texts("/* one;\n two; */ select /* x; */ 1; /* unfinished"),
            ["select   1"]
        );
    }

    #[test]
    fn quotes_inside_comments_do_not_open_strings() {
        assert_eq!(
            texts("-- don't\nselect 1; select 2"),
            ["select 1", "select 2"]
        );
    }

    #[test]
    fn comment_markers_inside_strings_are_text() {
        assert_eq!(
            texts("select '--;//;/*' from t; select 2"),
            ["select '--;//;/*' from t", "select 2"]
        );
    }

    #[test]
    fn a_lone_minus_slash_or_dollar_is_text() {
        assert_eq!(
            texts("select a-1, b/2, c$ from t;select -"),
            ["select a-1, b/2, c$ from t", "select -"]
        );
    }

    #[test]
    fn lines_point_at_each_statement_start() {
        let stmts =
            Splitter::split_all("\n-- header\nselect 1;\n\n  select\n2; /* c\n */ select 3");
        let lines: Vec<usize> = stmts.iter().map(|s| s.line).collect();
        assert_eq!(lines, [3, 5, 7]);
    }

    #[test]
    fn unterminated_string_is_passed_on_as_is() {
        assert_eq!(texts("select 'abc; def"), ["select 'abc; def"]);
    }

    #[test]
    fn chunking_never_changes_the_result() {
        let input = "select 'a'';b' from t; -- c;\n/* d; */select $$e;$$;\nselect \"f;\"\"\" // g\n; select h-1/2";
        let whole = Splitter::split_all(input);
        assert_eq!(whole.len(), 4);
        let chars: Vec<char> = input.chars().collect();
        // Every cut point, and one character at a time.
        for cut in 0..=chars.len() {
            let (a, b): (String, String) =
                (chars[..cut].iter().collect(), chars[cut..].iter().collect());
            let mut s = Splitter::new();
            let mut got = s.push(&a);
            got.extend(s.push(&b));
            got.extend(s.finish());
            assert_eq!(got, whole, "cut at {cut}");
        }
        let mut s = Splitter::new();
        let mut got = Vec::new();
        for c in chars {
            got.extend(s.push(&c.to_string()));
        }
        got.extend(s.finish());
        assert_eq!(got, whole);
    }

    #[test]
    fn idle_only_between_statements() {
        let mut s = Splitter::new();
        assert!(s.is_idle());
        assert!(s.push("select\n").is_empty());
        assert!(!s.is_idle());
        assert_eq!(s.push("1;\n").len(), 1);
        assert!(s.is_idle());
        assert!(s.push("select '\n").is_empty());
        assert!(!s.is_idle());
        assert_eq!(s.push(";';\n").len(), 1);
        assert!(s.is_idle());
        s.push("/* open\n");
        assert!(!s.is_idle());
    }
}
