//! `COPY table [(cols)] TO|FROM 'file'|STDIN|STDOUT [WITH opt = value [AND …]]`, cqlsh's CSV
//! export and import, on the shell's session.
//!
//! `statement` parses the statement and `options` its `WITH` options (both refuse bad input
//! in one line before anything runs); `format` and `parse` turn values into CSV fields and
//! back, `csv` reads and writes records, `datetime` is DATETIMEFORMAT; `export` is COPY TO,
//! `import` COPY FROM with `rate` (INGESTRATE); `progress` shows the rate on a terminal.

mod csv;
mod datetime;
mod export;
mod format;
mod import;
mod options;
mod parse;
mod progress;
mod rate;
mod statement;

use cql4_frame::rows::ColumnSpec;
use cql4_schema::ident::quote;

use self::options::Options;
pub(crate) use self::statement::is_copy;
use self::statement::{CopyStatement, Direction};
use crate::error::CliError;
use crate::session::Session;

/// Runs one COPY statement.
pub(crate) fn run(session: &mut Session, statement: &str) -> Result<(), CliError> {
    let usage = |e: String| CliError::Usage(format!("COPY: {e}"));
    let stmt = statement::parse(statement).map_err(usage)?;
    let options = Options::with_defaults(stmt.direction, session.copy_defaults(), &stmt.options)
        .map_err(usage)?;
    match stmt.direction {
        Direction::To => export::run(session, &stmt, &options),
        Direction::From => import::run(session, &stmt, &options),
    }
}

/// The table as the server describes it: its real keyspace and the columns of the CSV, in
/// the CSV's order.
#[derive(Debug)]
struct Table {
    keyspace: String,
    name: String,
    columns: Vec<ColumnSpec>,
}

impl Table {
    /// `ks.table` as CQL text.
    fn qualified(&self) -> String {
        format!("{}.{}", quote(&self.keyspace), quote(&self.name))
    }

    /// Reads the table's columns (those listed, else all in the table's order) by preparing
    /// a SELECT of them: the server checks the names and gives their types.
    fn resolve(session: &Session, stmt: &CopyStatement) -> Result<Self, CliError> {
        let cols = match &stmt.columns {
            Some(c) => c.iter().map(|n| quote(n)).collect::<Vec<_>>().join(", "),
            None => "*".to_owned(),
        };
        let from = match &stmt.keyspace {
            Some(ks) => format!("{}.{}", quote(ks), quote(&stmt.table)),
            None => quote(&stmt.table),
        };
        let prepared = session
            .runtime()
            .block_on(
                session
                    .inner()
                    .prepare(&format!("SELECT {cols} FROM {from}")),
            )
            .map_err(|e| session.conn_error(&e))?;
        let meta = prepared
            .result_metadata()
            .ok_or_else(|| CliError::Failed("COPY: the server sent no column metadata".into()))?;
        let spec = meta
            .global_table_spec
            .clone()
            .or_else(|| meta.columns.first().and_then(|c| c.table_spec.clone()))
            .ok_or_else(|| CliError::Failed("COPY: the server did not name the table".into()))?;
        Ok(Self {
            keyspace: spec.keyspace,
            name: spec.table,
            columns: meta.columns.clone(),
        })
    }
}

/// A file error for COPY's messages.
fn file_error(path: &std::path::Path, source: std::io::Error) -> CliError {
    CliError::File {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests;
