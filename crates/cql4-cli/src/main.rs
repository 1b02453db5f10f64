//! The `cql4` command: a cqlsh-like client for Apache Cassandra and Amazon Keyspaces.
//!
//! `args` parses and validates the flags (with `cqlshrc`, cqlsh's configuration file, under
//! them), `prompt` asks for a password left out, `session` connects and runs statements, `input`
//! feeds statements and shell commands from `-e`, `-f` or stdin (split by `split`; on a terminal
//! read by `editor`, with line editing and history), `commands` carries out the shell commands
//! (CONSISTENCY, EXPAND, TRACING, …), `describe` answers DESCRIBE from the session's schema
//! metadata, `format` prints tables or JSON.
//! Every failure ends here as one `cql4: error: …` line and a non-zero exit status.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod copy;
mod cqlshrc;
mod describe;
mod editor;
mod error;
mod format;
mod input;
mod logging;
mod prompt;
mod session;
mod split;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Args, Input};
use crate::error::CliError;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help and --version go to stdout.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(&CliError::from_clap(&e)),
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn run(args: Args) -> Result<(), CliError> {
    let env = |name: &str| std::env::var(name).ok();
    logging::init(env)?;
    // Also reports a missing -f file, before asking for a password and before connecting.
    let settings = args.validate(env, |_user| prompt::ask_password())?;
    for warning in &settings.warnings {
        eprintln!("cql4: warning: {warning}");
    }
    let mut session = session::Session::connect(&settings)?;
    let stdin = std::io::stdin();
    let interactive = settings.input == Input::Stdin && stdin.is_terminal();
    session.set_interactive(interactive);
    if interactive {
        // As cqlsh greets; a failed look-up only loses the greeting.
        if let Err(e) = commands::banner(&session) {
            eprintln!("cql4: warning: {e}");
        }
        let mut terminal = editor::Terminal::new()
            .map_err(|e| CliError::Failed(format!("cannot set up the terminal: {e}")))?;
        return input::run(&settings.input, &mut session, &mut terminal);
    }
    input::run(
        &settings.input,
        &mut session,
        &mut input::Stdin {
            reader: stdin.lock(),
            prompt_out: std::io::stdout(),
            interactive: false,
        },
    )
}

fn fail(e: &CliError) -> ExitCode {
    eprintln!("cql4: error: {e}");
    ExitCode::from(e.exit_code())
}
