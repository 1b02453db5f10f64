//! Feeding statements and shell commands from `-e`, `-f`, SOURCE or stdin to an [`Executor`],
//! stopping at the first failure (except at an interactive prompt, where the error is shown
//! and the prompt returns, and in SOURCE, which goes on as cqlsh's does).
//!
//! A line that starts with a shell command's word while no statement is open is a command: it
//! ends at its `;` or at the end of the line. Everything else is CQL, ended by `;`.

use std::io::{self, BufRead, Write};
use std::path::Path;

use crate::args::Input;
use crate::commands::{self, Flow};
use crate::error::CliError;
use crate::split::{Splitter, Statement};

/// Runs one statement or command and prints its result.
pub(crate) trait Executor {
    /// Runs the CQL statement `cql`; the error is one line.
    fn execute(&mut self, cql: &str) -> Result<(), CliError>;
    /// Carries out the shell command `text`.
    fn command(&mut self, text: &str) -> Result<Flow, CliError>;
    /// The prompt for a new statement (it names the current keyspace).
    fn prompt(&self) -> String;
}

/// The interactive prompt and its continuation form (as cqlsh: `cqlsh> `, `cqlsh:ks> ` and
/// `   ... `).
pub(crate) const PROMPT: &str = "cql4> ";
const CONTINUATION_PROMPT: &str = "  ... ";

/// The prompt in `keyspace` (none: [`PROMPT`]).
pub(crate) fn prompt_for(keyspace: Option<&str>) -> String {
    match keyspace {
        Some(ks) => format!("cql4:{ks}> "),
        None => PROMPT.to_owned(),
    }
}

/// Where stdin statements come from and whether a person is typing them.
pub(crate) struct Stdin<R, W> {
    /// The statements.
    pub(crate) reader: R,
    /// Where prompts go (stdout) when `interactive`.
    pub(crate) prompt_out: W,
    /// True when a person types: prompts, and errors do not end the session.
    pub(crate) interactive: bool,
}

/// What one read of a line gave.
pub(crate) enum Read {
    /// A line, with its newline if it had one.
    Line(String),
    /// The end of the input.
    Eof,
    /// Ctrl-C at the prompt.
    Interrupted {
        /// True when nothing was typed on the line.
        line_was_empty: bool,
    },
}

/// A source of lines, shown `prompt` when a person types.
pub(crate) trait Lines {
    /// The next line.
    fn read(&mut self, prompt: &str) -> io::Result<Read>;
    /// True when a person types (prompts; errors do not end the session).
    fn interactive(&self) -> bool;
}

impl<R: BufRead, W: Write> Lines for Stdin<R, W> {
    fn read(&mut self, prompt: &str) -> io::Result<Read> {
        if self.interactive {
            self.prompt_out.write_all(prompt.as_bytes())?;
            self.prompt_out.flush()?;
        }
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            if self.interactive {
                // End the prompt line so the shell prompt starts on its own line.
                self.prompt_out.write_all(b"\n")?;
            }
            return Ok(Read::Eof);
        }
        Ok(Read::Line(line))
    }

    fn interactive(&self) -> bool {
        self.interactive
    }
}

/// A statement or a shell command, and where it started.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Cql(Statement),
    Command(Statement),
}

impl Item {
    fn line(&self) -> usize {
        match self {
            Self::Cql(s) | Self::Command(s) => s.line,
        }
    }
}

/// Cuts lines into statements and commands.
struct Feeder {
    splitter: Splitter,
    /// Lines pushed so far.
    lines: usize,
}

/// Splits a command line at its first `;` outside a `'string'`: the command, then the rest.
fn split_command(line: &str) -> (&str, &str) {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            ';' if !quoted => return (&line[..i], &line[i + 1..]),
            _ => {}
        }
    }
    (line, "")
}

impl Feeder {
    fn new() -> Self {
        Self {
            splitter: Splitter::new(),
            lines: 0,
        }
    }

    fn is_idle(&self) -> bool {
        self.splitter.is_idle()
    }

    /// One line (with its newline, except perhaps the input's last).
    fn push_line(&mut self, line: &str) -> Vec<Item> {
        self.lines += 1;
        let mut items = Vec::new();
        let mut rest = line;
        while self.splitter.is_idle() && commands::is_command(rest) {
            let (command, after) = split_command(rest);
            items.push(Item::Command(Statement {
                text: command.trim().to_owned(),
                line: self.lines,
            }));
            rest = after;
        }
        if rest.len() < line.len() {
            // The splitter counts lines: it still gets this line's newline.
            if rest.trim().is_empty() {
                rest = if line.ends_with('\n') { "\n" } else { "" };
            }
        }
        items.extend(self.splitter.push(rest).into_iter().map(Item::Cql));
        items
    }

    fn finish(&mut self) -> Vec<Item> {
        self.splitter.finish().into_iter().map(Item::Cql).collect()
    }

    /// Every item of a whole text.
    fn all(text: &str) -> Vec<Item> {
        let mut feeder = Self::new();
        let mut items: Vec<Item> = text
            .split_inclusive('\n')
            .flat_map(|line| feeder.push_line(line))
            .collect();
        items.extend(feeder.finish());
        items
    }
}

/// Runs one item.
fn run_item(exec: &mut dyn Executor, item: &Item) -> Result<Flow, CliError> {
    match item {
        Item::Cql(s) => exec.execute(&s.text).map(|()| Flow::Continue),
        Item::Command(s) => exec.command(&s.text),
    }
}

/// Runs every statement of `input`.
pub(crate) fn run(
    input: &Input,
    exec: &mut dyn Executor,
    stdin: &mut dyn Lines,
) -> Result<(), CliError> {
    match input {
        Input::Execute(cql) => run_batch(&Feeder::all(cql), exec, false),
        Input::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::File {
                path: path.clone(),
                source,
            })?;
            run_batch(&Feeder::all(&text), exec, true)
        }
        Input::Stdin => run_stdin(exec, stdin),
    }
}

/// Runs items in order; the first failure stops the run and names the statement by number and
/// line (a file's always; `-e`'s when it holds more than one).
fn run_batch(items: &[Item], exec: &mut dyn Executor, from_file: bool) -> Result<(), CliError> {
    let locate = from_file || items.len() > 1;
    for (i, item) in items.iter().enumerate() {
        let flow = run_item(exec, item).map_err(|e| {
            if locate {
                located(i + 1, item.line(), e)
            } else {
                e
            }
        })?;
        if flow == Flow::Exit {
            break;
        }
    }
    Ok(())
}

/// SOURCE: runs every item of `text` (read from `path`); each failure is reported as
/// `path:line:error` and the next item runs. Returns how many failed.
pub(crate) fn run_source(
    exec: &mut dyn Executor,
    text: &str,
    path: &Path,
) -> Result<usize, CliError> {
    let mut failures = 0;
    for item in Feeder::all(text) {
        match run_item(exec, &item) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Exit) => break,
            Err(e) => {
                failures += 1;
                eprintln!("{}:{}:{e}", path.display(), item.line());
            }
        }
    }
    Ok(failures)
}

fn located(number: usize, line: usize, e: CliError) -> CliError {
    CliError::Statement {
        number,
        line,
        source: Box::new(e),
    }
}

/// Reads stdin line by line, running each statement as soon as its `;` arrives (so a long
/// piped script streams, and a prompt answers at once).
fn run_stdin(exec: &mut dyn Executor, stdin: &mut dyn Lines) -> Result<(), CliError> {
    let interactive = stdin.interactive();
    let mut feeder = Feeder::new();
    let mut number = 0;
    let mut failures = 0usize;
    loop {
        let prompt = if feeder.is_idle() {
            exec.prompt()
        } else {
            CONTINUATION_PROMPT.to_owned()
        };
        let (items, at_end) = match stdin.read(&prompt)? {
            Read::Line(line) => (feeder.push_line(&line), false),
            Read::Eof => (feeder.finish(), true),
            // Ctrl-C drops the statement being typed; at an empty prompt it ends the session
            // as SIGINT always did here (the line editor reads it as a key, not a signal).
            Read::Interrupted {
                line_was_empty: true,
            } if feeder.is_idle() => crate::prompt::die_of_sigint(),
            Read::Interrupted { .. } => {
                feeder = Feeder::new();
                continue;
            }
        };
        for item in items {
            number += 1;
            match run_item(exec, &item) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Exit) => return end(failures),
                Err(e) if interactive => {
                    failures += 1;
                    eprintln!("cql4: error: {e}");
                }
                Err(e) => return Err(located(number, item.line(), e)),
            }
        }
        if at_end {
            return end(failures);
        }
    }
}

fn end(failures: usize) -> Result<(), CliError> {
    if failures > 0 {
        return Err(CliError::Failed(format!(
            "{failures} statement(s) failed in this session"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records statements; fails on those containing "fail".
    #[derive(Default)]
    struct Recorder {
        seen: Vec<String>,
    }

    impl Executor for Recorder {
        fn execute(&mut self, cql: &str) -> Result<(), CliError> {
            self.seen.push(cql.to_owned());
            if cql.contains("fail") {
                Err(CliError::Failed(format!("server said no to {cql}")))
            } else {
                Ok(())
            }
        }

        fn command(&mut self, text: &str) -> Result<Flow, CliError> {
            self.seen.push(format!("cmd:{text}"));
            if text.eq_ignore_ascii_case("exit") || text.eq_ignore_ascii_case("quit") {
                Ok(Flow::Exit)
            } else if text.contains("bad") {
                Err(CliError::Failed("Improper command.".into()))
            } else {
                Ok(Flow::Continue)
            }
        }

        fn prompt(&self) -> String {
            prompt_for(
                self.seen
                    .iter()
                    .any(|s| s.starts_with("USE"))
                    .then_some("ks"),
            )
        }
    }

    fn piped(text: &str) -> Stdin<&[u8], Vec<u8>> {
        Stdin {
            reader: text.as_bytes(),
            prompt_out: Vec::new(),
            interactive: false,
        }
    }

    #[test]
    fn execute_runs_every_statement() {
        let mut r = Recorder::default();
        run(&Input::Execute("a; b;c".into()), &mut r, &mut piped("")).unwrap();
        assert_eq!(r.seen, ["a", "b", "c"]);
    }

    #[test]
    fn single_statement_error_is_not_numbered() {
        let mut r = Recorder::default();
        let e = run(&Input::Execute("fail".into()), &mut r, &mut piped("")).unwrap_err();
        assert_eq!(e.to_string(), "server said no to fail");
    }

    #[test]
    fn file_stops_at_first_failure_with_number_and_line() {
        let path = std::env::temp_dir().join(format!("cql4-input-test-{}.cql", std::process::id()));
        std::fs::write(&path, "one;\n-- c\n\nfail 2;\nthree;").unwrap();
        let mut r = Recorder::default();
        let e = run(&Input::File(path.clone()), &mut r, &mut piped("")).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            e.to_string(),
            "statement 2 (line 4): server said no to fail 2"
        );
        assert_eq!(r.seen, ["one", "fail 2"]);
    }

    #[test]
    fn a_file_with_one_statement_still_names_it() {
        let path = std::env::temp_dir().join(format!("cql4-input-one-{}.cql", std::process::id()));
        std::fs::write(&path, "\n\n  fail here").unwrap();
        let mut r = Recorder::default();
        let e = run(&Input::File(path.clone()), &mut r, &mut piped("")).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            e.to_string(),
            "statement 1 (line 3): server said no to fail here"
        );
    }

    #[test]
    fn execute_with_several_statements_names_the_failing_one() {
        let mut r = Recorder::default();
        let e = run(&Input::Execute("a;\nfail;c".into()), &mut r, &mut piped("")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "statement 2 (line 2): server said no to fail"
        );
        assert_eq!(r.seen, ["a", "fail"]);
    }

    #[test]
    fn missing_file_is_a_file_error() {
        let mut r = Recorder::default();
        let e = run(
            &Input::File("/no/such/file.cql".into()),
            &mut r,
            &mut piped(""),
        )
        .unwrap_err();
        assert!(matches!(e, CliError::File { .. }), "{e:?}");
        assert!(r.seen.is_empty());
    }

    #[test]
    fn piped_stdin_runs_statements_and_trailing_one() {
        let mut r = Recorder::default();
        let mut stdin = piped("select\n 1;\nselect 'a;b'\n;\nselect 3");
        run(&Input::Stdin, &mut r, &mut stdin).unwrap();
        assert_eq!(r.seen, ["select\n 1", "select 'a;b'", "select 3"]);
    }

    #[test]
    fn piped_stdin_stops_at_first_failure() {
        let mut r = Recorder::default();
        let e = run(&Input::Stdin, &mut r, &mut piped("ok;\n\nfail;\nnever;\n")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "statement 2 (line 3): server said no to fail"
        );
        assert_eq!(r.seen, ["ok", "fail"]);
    }

    #[test]
    fn exit_ends_piped_stdin_too() {
        let mut r = Recorder::default();
        run(&Input::Stdin, &mut r, &mut piped("a;\nEXIT;\nnext;")).unwrap();
        assert_eq!(r.seen, ["a", "cmd:EXIT"]);
    }

    #[test]
    fn commands_end_at_the_line_or_their_semicolon() {
        let mut r = Recorder::default();
        let text = "EXPAND ON\nselect\n 1;\nconsistency; select 2;\ncapture 'a;b'\n  tracing off ; paging off\nselect 3";
        run(&Input::Execute(text.into()), &mut r, &mut piped("")).unwrap();
        assert_eq!(
            r.seen,
            [
                "cmd:EXPAND ON",
                "select\n 1",
                "cmd:consistency",
                "select 2",
                "cmd:capture 'a;b'",
                "cmd:tracing off",
                "cmd:paging off",
                "select 3"
            ]
        );
    }

    #[test]
    fn a_command_word_inside_a_statement_is_cql() {
        let mut r = Recorder::default();
        run(
            &Input::Stdin,
            &mut r,
            &mut piped("select\nexpand\nfrom t;\n"),
        )
        .unwrap();
        assert_eq!(r.seen, ["select\nexpand\nfrom t"]);
    }

    #[test]
    fn a_bad_command_in_a_file_names_its_line() {
        let path = std::env::temp_dir().join(format!("cql4-input-cmd-{}.cql", std::process::id()));
        std::fs::write(&path, "one;\n\nexpand bad\nnever;").unwrap();
        let mut r = Recorder::default();
        let e = run(&Input::File(path.clone()), &mut r, &mut piped("")).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(e.to_string(), "statement 2 (line 3): Improper command.");
        assert_eq!(r.seen, ["one", "cmd:expand bad"]);
    }

    #[test]
    fn source_goes_on_after_errors_and_counts_them() {
        let mut r = Recorder::default();
        let n = run_source(
            &mut r,
            "fail 1;\nexpand bad\nok;\nquit\nnever;",
            Path::new("f.cql"),
        )
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(r.seen, ["fail 1", "cmd:expand bad", "ok", "cmd:quit"]);
    }

    #[test]
    fn interactive_prompts_continues_after_errors_and_exits() {
        let mut r = Recorder::default();
        let mut prompts = Vec::new();
        let mut stdin = Stdin {
            reader: &b"select\n1;\nfail;\nok;\nquit\nnever;\n"[..],
            prompt_out: &mut prompts,
            interactive: true,
        };
        let e = run(&Input::Stdin, &mut r, &mut stdin).unwrap_err();
        assert_eq!(r.seen, ["select\n1", "fail", "ok", "cmd:quit"]);
        assert!(e.to_string().contains("1 statement(s) failed"), "{e}");
        assert_eq!(
            String::from_utf8(prompts).unwrap(),
            "cql4>   ... cql4> cql4> cql4> "
        );
    }

    #[test]
    fn interactive_eof_ends_cleanly() {
        let mut r = Recorder::default();
        let mut prompts = Vec::new();
        let mut stdin = Stdin {
            reader: &b"ok;\n"[..],
            prompt_out: &mut prompts,
            interactive: true,
        };
        run(&Input::Stdin, &mut r, &mut stdin).unwrap();
        assert_eq!(r.seen, ["ok"]);
        assert_eq!(String::from_utf8(prompts).unwrap(), "cql4> cql4> \n");
    }
}
