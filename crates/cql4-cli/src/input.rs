//! Feeding statements from `-e`, `-f` or stdin to an [`Executor`], stopping at the first
//! failure (except at an interactive prompt, where the error is shown and the prompt returns).

use std::io::{BufRead, Write};

use crate::args::Input;
use crate::error::CliError;
use crate::split::{Splitter, Statement};

/// Runs one statement and prints its result.
pub(crate) trait Executor {
    /// Runs `cql`; the error is one line.
    fn execute(&mut self, cql: &str) -> Result<(), CliError>;
}

/// The interactive prompt and its continuation form (as cqlsh: `cqlsh> ` and `   ... `).
pub(crate) const PROMPT: &str = "cql4> ";
const CONTINUATION_PROMPT: &str = "  ... ";

/// Where stdin statements come from and whether a person is typing them.
pub(crate) struct Stdin<R, W> {
    /// The statements.
    pub(crate) reader: R,
    /// Where prompts go (stdout) when `interactive`.
    pub(crate) prompt_out: W,
    /// True when stdin is a terminal: prompts, and errors do not end the session.
    pub(crate) interactive: bool,
}

/// Runs every statement of `input`.
pub(crate) fn run(
    input: &Input,
    exec: &mut dyn Executor,
    stdin: Stdin<impl BufRead, impl Write>,
) -> Result<(), CliError> {
    match input {
        Input::Execute(cql) => run_batch(&Splitter::split_all(cql), exec, false),
        Input::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::File {
                path: path.clone(),
                source,
            })?;
            run_batch(&Splitter::split_all(&text), exec, true)
        }
        Input::Stdin => run_stdin(exec, stdin),
    }
}

/// Runs statements in order; the first failure stops the run and names the statement by
/// number and line (a file's always; `-e`'s when it holds more than one).
fn run_batch(
    statements: &[Statement],
    exec: &mut dyn Executor,
    from_file: bool,
) -> Result<(), CliError> {
    let locate = from_file || statements.len() > 1;
    for (i, stmt) in statements.iter().enumerate() {
        exec.execute(&stmt.text).map_err(|e| {
            if locate {
                located(i + 1, stmt.line, e)
            } else {
                e
            }
        })?;
    }
    Ok(())
}

fn located(number: usize, line: usize, e: CliError) -> CliError {
    CliError::Statement {
        number,
        line,
        source: Box::new(e),
    }
}

fn is_exit_command(line: &str) -> bool {
    let word = line.trim().trim_end_matches(';').trim();
    word.eq_ignore_ascii_case("exit") || word.eq_ignore_ascii_case("quit")
}

/// Reads stdin line by line, running each statement as soon as its `;` arrives (so a long
/// piped script streams, and a prompt answers at once).
fn run_stdin(
    exec: &mut dyn Executor,
    mut stdin: Stdin<impl BufRead, impl Write>,
) -> Result<(), CliError> {
    let mut splitter = Splitter::new();
    let mut number = 0;
    let mut failures = 0usize;
    let mut line = String::new();
    loop {
        if stdin.interactive {
            let prompt = if splitter.is_idle() {
                PROMPT
            } else {
                CONTINUATION_PROMPT
            };
            stdin.prompt_out.write_all(prompt.as_bytes())?;
            stdin.prompt_out.flush()?;
        }
        line.clear();
        let statements = if stdin.reader.read_line(&mut line)? == 0 {
            if stdin.interactive {
                // End the prompt line so the shell prompt starts on its own line.
                stdin.prompt_out.write_all(b"\n")?;
            }
            splitter.finish()
        } else if stdin.interactive && splitter.is_idle() && is_exit_command(&line) {
            break;
        } else {
            splitter.push(&line)
        };
        let at_end = line.is_empty();
        for stmt in statements {
            number += 1;
            match exec.execute(&stmt.text) {
                Ok(()) => {}
                Err(e) if stdin.interactive => {
                    failures += 1;
                    eprintln!("cql4: error: {e}");
                }
                Err(e) => return Err(located(number, stmt.line, e)),
            }
        }
        if at_end {
            break;
        }
    }
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
        run(&Input::Execute("a; b;c".into()), &mut r, piped("")).unwrap();
        assert_eq!(r.seen, ["a", "b", "c"]);
    }

    #[test]
    fn single_statement_error_is_not_numbered() {
        let mut r = Recorder::default();
        let e = run(&Input::Execute("fail".into()), &mut r, piped("")).unwrap_err();
        assert_eq!(e.to_string(), "server said no to fail");
    }

    #[test]
    fn file_stops_at_first_failure_with_number_and_line() {
        let path = std::env::temp_dir().join(format!("cql4-input-test-{}.cql", std::process::id()));
        std::fs::write(&path, "one;\n-- c\n\nfail 2;\nthree;").unwrap();
        let mut r = Recorder::default();
        let e = run(&Input::File(path.clone()), &mut r, piped("")).unwrap_err();
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
        let e = run(&Input::File(path.clone()), &mut r, piped("")).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            e.to_string(),
            "statement 1 (line 3): server said no to fail here"
        );
    }

    #[test]
    fn execute_with_several_statements_names_the_failing_one() {
        let mut r = Recorder::default();
        let e = run(&Input::Execute("a;\nfail;c".into()), &mut r, piped("")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "statement 2 (line 2): server said no to fail"
        );
        assert_eq!(r.seen, ["a", "fail"]);
    }

    #[test]
    fn missing_file_is_a_file_error() {
        let mut r = Recorder::default();
        let e = run(&Input::File("/no/such/file.cql".into()), &mut r, piped("")).unwrap_err();
        assert!(matches!(e, CliError::File { .. }), "{e:?}");
        assert!(r.seen.is_empty());
    }

    #[test]
    fn piped_stdin_runs_statements_and_trailing_one() {
        let mut r = Recorder::default();
        let stdin = piped("select\n 1;\nselect 'a;b'\n;\nselect 3");
        run(&Input::Stdin, &mut r, stdin).unwrap();
        assert_eq!(r.seen, ["select\n 1", "select 'a;b'", "select 3"]);
    }

    #[test]
    fn piped_stdin_stops_at_first_failure() {
        let mut r = Recorder::default();
        let e = run(&Input::Stdin, &mut r, piped("ok;\n\nfail;\nnever;\n")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "statement 2 (line 3): server said no to fail"
        );
        assert_eq!(r.seen, ["ok", "fail"]);
    }

    #[test]
    fn piped_stdin_does_not_treat_exit_specially() {
        let mut r = Recorder::default();
        run(&Input::Stdin, &mut r, piped("exit;\nnext;")).unwrap();
        assert_eq!(r.seen, ["exit", "next"]);
    }

    #[test]
    fn interactive_prompts_continues_after_errors_and_exits() {
        let mut r = Recorder::default();
        let mut prompts = Vec::new();
        let stdin = Stdin {
            reader: &b"select\n1;\nfail;\nok;\nquit\nnever;\n"[..],
            prompt_out: &mut prompts,
            interactive: true,
        };
        let e = run(&Input::Stdin, &mut r, stdin).unwrap_err();
        assert_eq!(r.seen, ["select\n1", "fail", "ok"]);
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
        let stdin = Stdin {
            reader: &b"ok;\n"[..],
            prompt_out: &mut prompts,
            interactive: true,
        };
        run(&Input::Stdin, &mut r, stdin).unwrap();
        assert_eq!(r.seen, ["ok"]);
        assert_eq!(String::from_utf8(prompts).unwrap(), "cql4> cql4> \n");
    }
}
