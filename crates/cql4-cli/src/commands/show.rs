//! SHOW VERSION | HOST | SESSION <id>.

use cql4_frame::CqlValue;

use super::{improper, trace, Arg};
use crate::error::CliError;
use crate::session::Session;

fn text(v: Option<&Option<CqlValue>>) -> String {
    crate::format::cell::cell(v.and_then(Option::as_ref))
}

/// SHOW VERSION's line.
fn version(session: &Session) -> Result<String, CliError> {
    let rows = session.query_rows("SELECT release_version, cql_version FROM system.local")?;
    let row = rows.first();
    Ok(format!(
        "[cql4 {} | Cassandra {} | CQL spec {} | Native protocol v4]",
        env!("CARGO_PKG_VERSION"),
        text(row.and_then(|r| r.first())),
        text(row.and_then(|r| r.get(1))),
    ))
}

/// SHOW HOST's line.
fn host(session: &Session) -> Result<String, CliError> {
    let rows = session.query_rows("SELECT cluster_name FROM system.local")?;
    let name = text(rows.first().and_then(|r| r.first()));
    Ok(format!("Connected to {name} at {}", session.address()))
}

/// What cqlsh prints when its prompt starts: SHOW HOST, SHOW VERSION, a hint.
pub(crate) fn banner(session: &Session) -> Result<(), CliError> {
    let msg = format!(
        "{}\n{}\nUse HELP for help.",
        host(session)?,
        version(session)?
    );
    session.say(&msg)
}

pub(super) fn run(session: &mut Session, args: &[Arg]) -> Result<(), CliError> {
    let what = args
        .first()
        .and_then(Arg::word)
        .map(str::to_ascii_uppercase);
    match (what.as_deref(), args.len()) {
        (Some("VERSION"), 1) => session.say(&version(session)?),
        (Some("HOST"), 1) => session.say(&host(session)?),
        (Some("SESSION"), 2) => {
            let id = match &args[1] {
                Arg::Word(w) if trace::is_uuid(w) => w.to_ascii_lowercase(),
                _ => return Err(improper("SHOW")),
            };
            if session.is_json() {
                trace::print(session, &id, &mut std::io::stderr().lock())
            } else {
                trace::print(session, &id, &mut std::io::stdout().lock())
            }
        }
        _ => Err(improper("SHOW")),
    }
}
