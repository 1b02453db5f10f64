//! The shell's own commands (cqlsh's, not CQL): recognised by their first word, ended by `;` or
//! the end of the line, case-insensitive.
//!
//! [`is_command`] tells the input reader which lines are commands; [`run`] carries one out on
//! the session. DESCRIBE/DESC and COPY have the same syntax (one line, `;` optional) but go to
//! the session's `execute` unchanged, which routes them to their own modules.

mod capture;
mod consistency;
mod help;
mod show;
mod source;
mod switches;
pub(crate) mod trace;

pub(crate) use capture::Capture;
pub(crate) use show::banner;
pub(crate) use switches::Display;

use crate::error::CliError;
use crate::session::Session;

/// What the input loop does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Read the next statement.
    Continue,
    /// EXIT or QUIT: end the session.
    Exit,
}

/// First words of the shell's commands (compared case-insensitively). `?` is cqlsh's HELP.
const WORDS: &[&str] = &[
    "CONSISTENCY",
    "SERIAL",
    "TRACING",
    "EXPAND",
    "PAGING",
    "SOURCE",
    "CAPTURE",
    "SHOW",
    "HELP",
    "?",
    "CLEAR",
    "CLS",
    "EXIT",
    "QUIT",
    // Routed to `Executor::execute`, which hands them to their modules.
    "DESCRIBE",
    "DESC",
    "COPY",
];

/// The first word of `text`, up to blanks or `;`.
fn first_word(text: &str) -> &str {
    let text = text.trim_start();
    let end = text
        .find(|c: char| c.is_whitespace() || c == ';')
        .unwrap_or(text.len());
    &text[..end]
}

/// True when `line` (a statement's first line) starts with a shell command's word.
pub(crate) fn is_command(line: &str) -> bool {
    let word = first_word(line);
    !word.is_empty() && WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// True for the commands that [`run`] passes to `Executor::execute` (DESCRIBE, COPY).
pub(crate) fn is_passed_through(text: &str) -> bool {
    let word = first_word(text);
    ["DESCRIBE", "DESC", "COPY"]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(word))
}

/// The one-line error cqlsh gives for a command it cannot parse.
pub(crate) fn improper(word: &str) -> CliError {
    CliError::Failed(format!("Improper {} command.", word.to_ascii_uppercase()))
}

/// Splits a command's arguments on blanks, keeping a `'quoted string'` (with `''` for a quote)
/// as one argument, unquoted.
pub(crate) fn arguments(text: &str) -> Result<Vec<Arg>, ()> {
    let mut out = Vec::new();
    let mut chars = text.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        s.push('\'');
                    }
                    Some('\'') => break,
                    Some(c) => s.push(c),
                    None => return Err(()),
                }
            }
            out.push(Arg::Quoted(s));
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                s.push(c);
                chars.next();
            }
            out.push(Arg::Word(s));
        }
    }
    Ok(out)
}

/// One argument of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    /// A bare word.
    Word(String),
    /// A `'string literal'`, unquoted.
    Quoted(String),
}

impl Arg {
    /// The word, if this is one, for case-insensitive comparison.
    pub(crate) fn word(&self) -> Option<&str> {
        match self {
            Self::Word(w) => Some(w),
            Self::Quoted(_) => None,
        }
    }

    fn is(&self, word: &str) -> bool {
        self.word().is_some_and(|w| w.eq_ignore_ascii_case(word))
    }
}

/// Carries out the shell command `text` (without its `;`).
pub(crate) fn run(session: &mut Session, text: &str) -> Result<Flow, CliError> {
    let text = text.trim().trim_end_matches(';').trim_end();
    if is_passed_through(text) {
        crate::input::Executor::execute(session, text)?;
        return Ok(Flow::Continue);
    }
    let word = first_word(text).to_ascii_uppercase();
    let rest = &text.trim_start()[first_word(text).len()..];
    let args = arguments(rest).map_err(|()| improper(&word))?;
    match word.as_str() {
        "EXIT" | "QUIT" if args.is_empty() => return Ok(Flow::Exit),
        "CONSISTENCY" => {
            let msg = consistency::consistency(&args, &mut session.options_mut().consistency)?;
            session.say(&msg)?;
        }
        "SERIAL" => {
            let msg = match args.split_first() {
                Some((first, rest)) if first.is("CONSISTENCY") => {
                    consistency::serial(rest, &mut session.options_mut().serial_consistency)?
                }
                _ => return Err(improper("SERIAL CONSISTENCY")),
            };
            session.say(&msg)?;
        }
        "TRACING" => {
            let msg = switches::on_off("TRACING", &args, &mut session.options_mut().tracing)?;
            session.say(&msg)?;
        }
        "EXPAND" => {
            let msg = switches::on_off("EXPAND", &args, &mut session.display_mut().expand)?;
            session.say(&msg)?;
        }
        "PAGING" => {
            let msg = switches::paging(&args, session.display_mut())?;
            session.say(&msg)?;
        }
        "SOURCE" => source::run(session, &args)?,
        "CAPTURE" => {
            let msg = capture::command(&args, session.capture_mut())?;
            session.say(&msg)?;
        }
        "SHOW" => show::run(session, &args)?,
        "HELP" | "?" => {
            let text = help::text(&args)?;
            session.say(&text)?;
        }
        "CLEAR" | "CLS" if args.is_empty() => {
            // ANSI: erase the screen, cursor home (what `clear` prints on common terminals).
            session.say_raw("\x1b[H\x1b[2J")?;
        }
        _ => return Err(improper(&word)),
    }
    Ok(Flow::Continue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_known_by_their_first_word() {
        for line in [
            "consistency",
            "CONSISTENCY QUORUM;",
            "  Expand on",
            "tracing;",
            "serial consistency serial",
            "? consistency",
            "describe keyspaces",
            "COPY t TO 'f.csv'",
            "exit",
        ] {
            assert!(is_command(line), "{line}");
        }
        for line in [
            "SELECT * FROM t;",
            "USE ks;",
            "expanded",
            "consistent",
            "",
            "'CONSISTENCY'",
            "copyright",
        ] {
            assert!(!is_command(line), "{line}");
        }
    }

    #[test]
    fn arguments_keep_quoted_strings_whole() {
        assert_eq!(
            arguments(" 'my file.cql'  OFF 'it''s' ").unwrap(),
            [
                Arg::Quoted("my file.cql".into()),
                Arg::Word("OFF".into()),
                Arg::Quoted("it's".into()),
            ]
        );
        assert!(arguments("'unterminated").is_err());
        assert!(arguments("   ").unwrap().is_empty());
    }

    #[test]
    fn improper_names_the_command() {
        assert_eq!(
            improper("consistency").to_string(),
            "Improper CONSISTENCY command."
        );
    }
}
