//! COPY TO: the token ring (or BEGINTOKEN..ENDTOKEN) cut into ranges, MAXREQUESTS of them
//! paged at a time on the runtime (`SELECT cols FROM table WHERE token(pk) > a AND
//! token(pk) <= b`) while this thread writes the pages as they come, one CSV record per row.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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

/// Ranges per request kept in flight: enough that one slow range does not leave the others
/// idle.
const RANGES_PER_REQUEST: i128 = 4;

/// `token(pk1, pk2, …)` of the table, its partition key columns in order (from the session's
/// schema metadata).
fn token_of_key(session: &Session, table: &Table) -> Result<String, CliError> {
    let schema = session
        .runtime()
        .block_on(session.inner().schema())
        .map_err(|e| CliError::Failed(format!("COPY: cannot read the schema: {e}")))?;
    let keys: Vec<String> = schema
        .keyspace(&table.keyspace)
        .and_then(|ks| ks.tables.get(&table.name))
        .map(|t| t.partition_key().map(|c| quote(&c.name)).collect())
        .unwrap_or_default();
    if keys.is_empty() {
        return Err(CliError::Failed(format!(
            "COPY: no partition key found for {}",
            table.qualified()
        )));
    }
    Ok(format!("token({})", keys.join(", ")))
}

/// `(begin, end]` cut into `parts` ranges of (nearly) equal width, in ring order. Murmur3
/// never produces `i64::MIN` (it maps it to `i64::MAX`), so `(MIN, MAX]` is the whole ring.
fn split(begin: i64, end: i64, parts: i128) -> Vec<(i64, i64)> {
    let (b, e) = (i128::from(begin), i128::from(end));
    let parts = parts.clamp(1, (e - b).max(1));
    (0..parts)
        .map(|i| {
            let lo = b + (e - b) * i / parts;
            let hi = b + (e - b) * (i + 1) / parts;
            // Both lie within [begin, end]: they fit an i64.
            (
                i64::try_from(lo).unwrap_or(begin),
                i64::try_from(hi).unwrap_or(end),
            )
        })
        .collect()
}

pub(super) fn run(session: &Session, stmt: &CopyStatement, o: &Options) -> Result<(), CliError> {
    let table = Table::resolve(session, stmt)?;
    let names: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    let token = token_of_key(session, &table)?;
    let select = format!("SELECT {} FROM {}", names.join(", "), table.qualified());
    let begin = o.to.begin_token.unwrap_or(i64::MIN);
    let end = o.to.end_token.unwrap_or(i64::MAX);
    let workers = o.to.max_requests;
    let ranges: Arc<Vec<String>> = Arc::new(
        split(begin, end, i128::from(workers) * RANGES_PER_REQUEST)
            .into_iter()
            .map(|(a, b)| format!("{select} WHERE {token} > {a} AND {token} <= {b}"))
            .collect(),
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
    // MAXREQUESTS workers take the ranges in turn and page through each; their pages are
    // written here as they come (a page or two per worker may wait).
    let (tx, mut rx) = tokio::sync::mpsc::channel(2 * workers as usize);
    let next = Arc::new(AtomicUsize::new(0));
    let fetchers: Vec<_> = (0..workers)
        .map(|_| {
            let (tx, next, ranges) = (tx.clone(), Arc::clone(&next), Arc::clone(&ranges));
            let (inner, options) = (session.inner().clone(), options.clone());
            session.runtime().spawn(async move {
                while let Some(cql) = ranges.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let mut pager = inner.query_pages(cql, (), &options);
                    while let Some(page) = pager.next_page().await {
                        let failed = page.is_err();
                        if tx.send(page).await.is_err() || failed {
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    drop(tx);
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
    for f in fetchers {
        f.abort();
    }
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

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn split_ranges_are_contiguous_and_cover_the_whole_span() {
        for (b, e, parts) in [
            (i64::MIN, i64::MAX, 24),
            (-10, 10, 7),
            (0, 3, 24),
            (5, 6, 1),
            (i64::MAX, i64::MAX, 4),
        ] {
            let r = split(b, e, parts);
            assert!(!r.is_empty());
            assert_eq!(r[0].0, b, "{b}..{e}/{parts}");
            assert_eq!(r[r.len() - 1].1, e, "{b}..{e}/{parts}");
            assert!(r.windows(2).all(|w| w[0].1 == w[1].0), "{r:?}");
            assert!(r.iter().all(|(lo, hi)| lo <= hi), "{r:?}");
        }
        // No more ranges than tokens in the span.
        assert_eq!(split(0, 3, 24).len(), 3);
        assert_eq!(split(i64::MIN, i64::MAX, 24).len(), 24);
    }
}
