//! The `cql4` command: a cqlsh-like client for Apache Cassandra and Amazon Keyspaces.
#![forbid(unsafe_code)]

mod args;
mod error;
mod format;
mod input;
mod logging;
mod split;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Args;
use crate::error::CliError;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help and --version: clap prints them to stdout.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(&CliError::from_clap(&e)),
    };
    match args.validate(|name| std::env::var(name).ok()) {
        Ok(_settings) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &CliError) -> ExitCode {
    eprintln!("cql4: error: {e}");
    ExitCode::from(e.exit_code())
}
