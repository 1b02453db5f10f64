//! COPY TO: pages of `SELECT cols FROM table` (fetched on the runtime while the previous page
//! is written), one CSV record per row.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use cql4_frame::response::ResultResponse;
use cql4_schema::ident::quote;

use super::csv::CsvWriter;
use super::format::{field, Field};
use super::options::Options;
use super::progress::{self, Progress};
use super::statement::{CopyStatement, Target};
use super::{file_error, Table};
use crate::error::CliError;
use crate::session::Session;

/// Where records go: stdout, or files of at most MAXOUTPUTSIZE rows (`f`, `f.1`, `f.2`, …).
struct Output {
    path: Option<PathBuf>,
    out: Box<dyn Write>,
    files: u32,
    rows_in_file: u64,
}

impl Output {
    fn open(target: &Target) -> Result<Self, CliError> {
        let (path, out): (_, Box<dyn Write>) = match target {
            Target::Std => (
                None,
                Box::new(BufWriter::with_capacity(1 << 16, io::stdout())),
            ),
            Target::File(p) => (Some(p.clone()), Box::new(create(p)?)),
        };
        Ok(Self {
            path,
            out,
            files: 1,
            rows_in_file: 0,
        })
    }

    /// The writer for the next row, starting the next file when this one is full.
    fn next_row(&mut self, max: Option<u64>) -> Result<&mut dyn Write, CliError> {
        if let (Some(max), Some(path)) = (max, &self.path) {
            if self.rows_in_file == max {
                self.out.flush().map_err(|e| file_error(path, e))?;
                let next = PathBuf::from(format!("{}.{}", path.display(), self.files));
                self.out = Box::new(create(&next)?);
                self.files += 1;
                self.rows_in_file = 0;
            }
        }
        self.rows_in_file += 1;
        Ok(&mut *self.out)
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, CliError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 16, f))
        .map_err(|e| file_error(path, e))
}

/// `WHERE token(pk…) > begin AND token(pk…) <= end` for BEGINTOKEN/ENDTOKEN.
fn token_range(session: &Session, table: &Table, o: &Options) -> Result<String, CliError> {
    if o.to.begin_token.is_none() && o.to.end_token.is_none() {
        return Ok(String::new());
    }
    let mut pager = session.inner().query_pages(
        "SELECT column_name, kind, position FROM system_schema.columns \
         WHERE keyspace_name = ? AND table_name = ?",
        (table.keyspace.clone(), table.name.clone()),
        session.options(),
    );
    let mut keys: Vec<(i32, String)> = Vec::new();
    while let Some(page) = session.runtime().block_on(pager.next_page()) {
        let page = page.map_err(|e| session.conn_error(&e))?;
        if let ResultResponse::Rows(rows) = &page.result {
            for row in rows.iter() {
                let v = row
                    .to_owned_values()
                    .map_err(|e| CliError::Failed(format!("COPY: cannot read the schema: {e}")))?;
                if let [Some(cql4_frame::CqlValue::Text(name)), Some(cql4_frame::CqlValue::Text(kind)), Some(cql4_frame::CqlValue::Int(pos))] =
                    v.as_slice()
                {
                    if kind == "partition_key" {
                        keys.push((*pos, name.clone()));
                    }
                }
            }
        }
    }
    keys.sort();
    let keys: Vec<_> = keys.iter().map(|(_, n)| quote(n)).collect();
    let token = format!("token({})", keys.join(", "));
    let mut clauses = Vec::new();
    if let Some(b) = o.to.begin_token {
        clauses.push(format!("{token} > {b}"));
    }
    if let Some(e) = o.to.end_token {
        clauses.push(format!("{token} <= {e}"));
    }
    Ok(format!(" WHERE {}", clauses.join(" AND ")))
}

pub(super) fn run(session: &Session, stmt: &CopyStatement, o: &Options) -> Result<(), CliError> {
    let table = Table::resolve(session, stmt)?;
    let names: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    let cql = format!(
        "SELECT {} FROM {}{}",
        names.join(", "),
        table.qualified(),
        token_range(session, &table, o)?
    );
    let options = session
        .options()
        .clone()
        .with_page_size(o.to.page_size)
        .with_timeout(o.to.page_timeout)
        .with_idempotent(true);
    let mut output = Output::open(&stmt.target)?;
    let write_err = |e: io::Error| match &stmt.target {
        Target::File(p) => file_error(p, e),
        Target::Std => CliError::Failed(format!("COPY: cannot write the output: {e}")),
    };
    let mut csv = CsvWriter::new(&o.common);
    if o.common.header {
        let header: Vec<Field> = table
            .columns
            .iter()
            .map(|c| Field::Plain(c.name.clone()))
            .collect();
        csv.record(&mut output.out, &header).map_err(write_err)?;
    }
    // The next page is fetched while this one is written.
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let mut pager = session.inner().query_pages(&cql, (), &options);
    let fetcher = session.runtime().spawn(async move {
        while let Some(page) = pager.next_page().await {
            let failed = page.is_err();
            if tx.send(page).await.is_err() || failed {
                break;
            }
        }
    });
    let mut progress = Progress::new(o.common.report_frequency);
    let mut rows_done = 0u64;
    let mut fields: Vec<Field> = Vec::with_capacity(table.columns.len());
    let result = (|| {
        while let Some(page) = rx.blocking_recv() {
            let page = page.map_err(|e| session.conn_error(&e))?;
            let ResultResponse::Rows(rows) = &page.result else {
                continue;
            };
            for row in rows.iter() {
                let values = row
                    .to_owned_values()
                    .map_err(|e| CliError::Failed(format!("COPY: cannot decode a row: {e}")))?;
                fields.clear();
                fields.extend(values.iter().map(|v| field(v.as_ref(), &o.common)));
                let out = output.next_row(o.to.max_output_size)?;
                csv.record(out, &fields).map_err(write_err)?;
                rows_done += 1;
            }
            progress.tick(rows_done);
        }
        output.out.flush().map_err(write_err)
    })();
    fetcher.abort();
    progress.finish();
    result?;
    let elapsed = progress.elapsed();
    let summary = format!(
        "{rows_done} rows exported to {} files in {} ({} rows/s).",
        output.files,
        progress::seconds(elapsed),
        progress::rate(rows_done, elapsed)
    );
    // With the rows on stdout, the summary goes where it cannot mix with them.
    match stmt.target {
        Target::Std => eprintln!("{summary}"),
        Target::File(_) => println!("{summary}"),
    }
    Ok(())
}
