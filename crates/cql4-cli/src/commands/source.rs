//! SOURCE 'file': runs a file's statements and commands in this session. As in cqlsh, an error
//! is reported (`file:line: error`) and the next statement runs; the command fails at the end
//! if any did.

use super::capture::expand_home;
use super::{improper, Arg};
use crate::error::CliError;
use crate::session::Session;

/// How deep SOURCE may nest (a file that sources itself would otherwise never end).
const MAX_DEPTH: usize = 16;

pub(super) fn run(session: &mut Session, args: &[Arg]) -> Result<(), CliError> {
    let [Arg::Quoted(path)] = args else {
        return Err(improper("SOURCE"));
    };
    let path = expand_home(path);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::Failed(format!("Could not open '{}': {e}", path.display())))?;
    if session.source_depth() >= MAX_DEPTH {
        return Err(CliError::Failed(format!(
            "SOURCE '{}': files nested more than {MAX_DEPTH} deep",
            path.display()
        )));
    }
    session.enter_source(1);
    let failures = crate::input::run_source(session, &text, &path);
    session.enter_source(-1);
    match failures? {
        0 => Ok(()),
        n => Err(CliError::Failed(format!(
            "{n} statement(s) failed in SOURCE '{}'",
            path.display()
        ))),
    }
}
