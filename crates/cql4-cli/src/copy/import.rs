//! COPY FROM: records read and parsed on this thread, inserted concurrently on the runtime.
//!
//! Each row goes in by a prepared `INSERT INTO t (cols) VALUES (?, …)` (or, with
//! PREPAREDSTATEMENTS = false, the same INSERT with the values as literals). Within a chunk
//! (CHUNKSIZE rows) rows are sent as UNLOGGED batches of at most MAXBATCHSIZE, as cqlsh sends
//! them: a partition with at least MINBATCHSIZE rows in the chunk in batches of its own (one
//! mutation on the server), the other rows together (cqlsh groups those by replica; the
//! shell's session has one host). One request per row would cost the server a request each
//! (a twentieth of the rate on one node), and MAXBATCHSIZE's default, 20, stays under Amazon
//! Keyspaces' 30 statements per batch.
//!
//! At most [`MAX_IN_FLIGHT`] requests run at once; INGESTRATE is held by a token bucket taken
//! before each request. An insert is idempotent (COPY FROM refuses counter tables), so a
//! failed request can be sent again: a batch that fails is sent again row by row, each row up
//! to MAXATTEMPTS times, so the rows reported as failed are exactly the ones the server did not
//! acknowledge (a row of a failed multi-partition batch may have been applied; loading it
//! again is harmless). Rows that do not parse, and rows that still fail, go to ERRFILE as they
//! were read; COPY stops after more than MAXPARSEERRORS or MAXINSERTERRORS of them. The
//! summary counts the rows the server acknowledged, and nothing else.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cql4_conn::frame::request::BatchType;
use cql4_conn::{BatchRequest, PreparedStatement, QueryOptions};
use cql4_frame::types::ColumnType;
use cql4_frame::CqlValue;
use cql4_schema::ident::quote;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::csv::{CsvReader, CsvWriter, ReadField, StdinUntilEnd};
use super::format::Field;
use super::options::Options;
use super::progress::{self, Progress};
use super::rate::TokenBucket;
use super::statement::{CopyStatement, Target};
use super::{file_error, parse, Table};
use crate::error::CliError;
use crate::session::Session;

/// Requests in flight at once: enough to keep one connection busy, few enough that a failing
/// server is not buried.
const MAX_IN_FLIGHT: usize = 256;

/// One parsed row and the record it came from (for ERRFILE).
struct Row {
    values: Vec<Option<CqlValue>>,
    record: Vec<ReadField>,
}

/// What the insert tasks share.
struct Inserter {
    session: cql4_session::Session,
    insert: PreparedStatement,
    /// `INSERT INTO t (cols) VALUES (` for PREPAREDSTATEMENTS = false.
    literal_prefix: Option<String>,
    options: QueryOptions,
    max_attempts: u32,
}

impl Inserter {
    fn literal_insert(prefix: &str, row: &Row) -> String {
        let mut cql = String::from(prefix);
        for (i, v) in row.values.iter().enumerate() {
            if i > 0 {
                cql.push_str(", ");
            }
            match v {
                Some(v) => super::format::cql_literal(v, &mut cql),
                None => cql.push_str("null"),
            }
        }
        cql.push(')');
        cql
    }

    async fn once(&self, rows: &[Row]) -> Result<(), cql4_conn::Error> {
        if let [row] = rows {
            match &self.literal_prefix {
                None => {
                    self.session
                        .execute(&self.insert, &row.values, &self.options)
                        .await
                }
                Some(p) => {
                    let cql = Self::literal_insert(p, row);
                    self.session.query(&cql, (), &self.options).await
                }
            }
            .map(drop)
        } else {
            let mut batch = BatchRequest::new(BatchType::UNLOGGED);
            batch.set_idempotent(true);
            for row in rows {
                match &self.literal_prefix {
                    None => batch.add_prepared(&self.insert, row.values.clone()),
                    Some(p) => batch.add_query(Self::literal_insert(p, row), ()),
                };
            }
            self.session.batch(&batch, &self.options).await.map(drop)
        }
    }

    /// Up to MAXATTEMPTS tries, waiting 0.1 s, 0.2 s, … (at most 2 s) between them.
    async fn attempts(&self, rows: &[Row]) -> Result<(), String> {
        let mut wait = Duration::from_millis(100);
        let mut attempt = 1;
        loop {
            match self.once(rows).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt >= self.max_attempts => {
                    return Err(format!("{e} (after {attempt} attempts)"))
                }
                Err(_) => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                    attempt += 1;
                }
            }
        }
    }

    /// Sends a unit. A batch that fails once is sent again row by row (each with its
    /// MAXATTEMPTS), so one bad row costs only itself and the rows reported as failed are
    /// exactly those the server did not acknowledge.
    async fn send(self: Arc<Self>, rows: Vec<Row>) -> Vec<(Row, Result<(), String>)> {
        if rows.len() > 1 && self.once(&rows).await.is_ok() {
            return rows.into_iter().map(|r| (r, Ok(()))).collect();
        }
        let mut done = Vec::with_capacity(rows.len());
        for row in rows {
            let result = self.attempts(std::slice::from_ref(&row)).await;
            done.push((row, result));
        }
        done
    }
}

/// Counts and the error file.
struct Tally {
    imported: u64,
    parse_errors: u64,
    insert_errors: u64,
    err_path: PathBuf,
    err_file: Option<CsvWriterFile>,
    csv: CsvWriter,
}

type CsvWriterFile = BufWriter<File>;

impl Tally {
    fn reject(&mut self, record: &[ReadField]) -> Result<(), CliError> {
        if self.err_file.is_none() {
            let f = File::create(&self.err_path).map_err(|e| file_error(&self.err_path, e))?;
            self.err_file = Some(BufWriter::new(f));
        }
        let out = self.err_file.as_mut().expect("opened above");
        let fields: Vec<Field> = record
            .iter()
            .map(|f| {
                if f.quoted {
                    Field::Text(f.text.clone())
                } else {
                    Field::Plain(f.text.clone())
                }
            })
            .collect();
        self.csv
            .record(out, &fields)
            .map_err(|e| file_error(&self.err_path, e))
    }

    fn settle(&mut self, done: Vec<(Row, Result<(), String>)>) -> Result<(), CliError> {
        for (row, result) in done {
            match result {
                Ok(()) => self.imported += 1,
                Err(e) => {
                    eprintln!("cql4: COPY: failed to import a row: {e}");
                    self.insert_errors += 1;
                    self.reject(&row.record)?;
                }
            }
        }
        Ok(())
    }
}

/// Splits a chunk into requests, as cqlsh does: a partition's rows go as batches of their own
/// (at most `max` rows) when there are at least `min` of them; the other rows go together in
/// batches of at most `max` (cqlsh groups them by replica; the shell's session has one host).
fn group(chunk: Vec<Row>, pk: &[(usize, ColumnType)], min: usize, max: usize) -> Vec<Vec<Row>> {
    if max <= 1 {
        return chunk.into_iter().map(|r| vec![r]).collect();
    }
    // Rows by the serialized bytes of their partition key (each value length-prefixed, as in
    // a routing key, so different keys never run together), in first-seen order.
    let mut by_key: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut partitions: Vec<Vec<Row>> = Vec::new();
    let mut rest: Vec<Row> = Vec::new();
    let mut key = Vec::new();
    for row in chunk {
        if partition_key(&row.values, pk, &mut key).is_err() {
            // Cannot be routed: the insert will report it, batched with the other rows.
            rest.push(row);
            continue;
        }
        match by_key.get(key.as_slice()) {
            Some(&at) => partitions[at].push(row),
            None => {
                by_key.insert(std::mem::take(&mut key), partitions.len());
                partitions.push(vec![row]);
            }
        }
    }
    let mut units = Vec::new();
    for rows in partitions {
        if rows.len() < min {
            rest.extend(rows);
        } else {
            split(rows, max, &mut units);
        }
    }
    split(rest, max, &mut units);
    units
}

/// Writes into `out` the partition key of `values`: each key column's bytes after their
/// length (-1 for NULL).
fn partition_key(
    values: &[Option<CqlValue>],
    pk: &[(usize, ColumnType)],
    out: &mut Vec<u8>,
) -> Result<(), cql4_frame::EncodeError> {
    out.clear();
    for (i, ty) in pk {
        match &values[*i] {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(v) => {
                let at = out.len();
                out.extend_from_slice(&[0; 4]);
                v.serialize(ty, out)?;
                let len = (out.len() - at - 4) as u32;
                out[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
        }
    }
    Ok(())
}

/// The bound columns of the partition key, from the server's prepared metadata: refused when
/// a position is not one of the `types.len()` markers (the rows are indexed by them).
fn key_columns(
    pk_indexes: &[u16],
    types: &[ColumnType],
) -> Result<Vec<(usize, ColumnType)>, CliError> {
    pk_indexes
        .iter()
        .map(|&i| {
            let i = usize::from(i);
            types.get(i).map(|ty| (i, ty.clone())).ok_or_else(|| {
                CliError::Failed(format!(
                    "COPY: the server named partition key position {i} of an INSERT with {} columns",
                    types.len()
                ))
            })
        })
        .collect()
}

/// `rows` as units of at most `max`.
fn split(mut rows: Vec<Row>, max: usize, units: &mut Vec<Vec<Row>>) {
    while !rows.is_empty() {
        let tail = rows.split_off(rows.len().min(max));
        units.push(std::mem::replace(&mut rows, tail));
    }
}

pub(super) fn run(session: &Session, stmt: &CopyStatement, o: &Options) -> Result<(), CliError> {
    let table = Table::resolve(session, stmt)?;
    if table.columns.iter().any(|c| c.ty == ColumnType::Counter) {
        return Err(CliError::Usage(format!(
            "COPY: COPY FROM into {} is not supported: it has counter columns",
            table.qualified()
        )));
    }
    let csv_names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    for skip in &o.from.skip_cols {
        if !csv_names.contains(&skip.as_str()) {
            return Err(CliError::Usage(format!(
                "COPY: SKIPCOLS names {skip}, which is not a column of the CSV"
            )));
        }
    }
    // Positions in the record of the columns inserted, in insert order.
    let kept: Vec<usize> = (0..csv_names.len())
        .filter(|&i| !o.from.skip_cols.iter().any(|s| s == csv_names[i]))
        .collect();
    if kept.is_empty() {
        return Err(CliError::Usage(
            "COPY: SKIPCOLS leaves no column to insert".into(),
        ));
    }
    let cols: Vec<String> = kept.iter().map(|&i| quote(csv_names[i])).collect();
    let prefix = format!(
        "INSERT INTO {} ({}) VALUES (",
        table.qualified(),
        cols.join(", ")
    );
    let marks = vec!["?"; cols.len()].join(", ");
    let insert = session
        .runtime()
        .block_on(session.inner().prepare(&format!("{prefix}{marks})")))
        .map_err(|e| session.conn_error(&e))?;
    insert.set_idempotent(true);
    let meta = insert.bind_metadata();
    let types: Vec<ColumnType> = meta.columns.iter().map(|c| c.ty.clone()).collect();
    if types.len() != kept.len() {
        return Err(CliError::Failed(
            "COPY: the INSERT's markers do not match the columns".into(),
        ));
    }
    let pk = key_columns(&meta.pk_indexes, &types)?;

    let input: Box<dyn BufRead> = match &stmt.target {
        Target::File(p) => Box::new(BufReader::with_capacity(
            1 << 16,
            File::open(p).map_err(|e| file_error(p, e))?,
        )),
        Target::Std => {
            if io::IsTerminal::is_terminal(&io::stdin()) {
                eprintln!("[Use \\. on a line by itself to end input]");
            }
            Box::new(StdinUntilEnd::new(BufReader::new(stdin_file()?)))
        }
    };
    let mut reader = CsvReader::new(input, &o.common);
    let inserter = Arc::new(Inserter {
        session: session.inner().clone(),
        insert,
        literal_prefix: (!o.from.prepared).then_some(prefix),
        options: session.options().clone().with_idempotent(true),
        max_attempts: o.common.max_attempts,
    });
    let err_path =
        o.from.err_file.clone().unwrap_or_else(|| {
            PathBuf::from(format!("import_{}_{}.err", table.keyspace, table.name))
        });
    let mut tally = Tally {
        imported: 0,
        parse_errors: 0,
        insert_errors: 0,
        err_path,
        err_file: None,
        csv: CsvWriter::new(&o.common),
    };
    let mut progress = Progress::new(o.common.report_frequency);
    let f = &o.from;
    let stopped: Result<(), CliError> = session.runtime().block_on(async {
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut bucket = TokenBucket::new(f.ingest_rate, Instant::now());
        let mut tasks: JoinSet<Vec<(Row, Result<(), String>)>> = JoinSet::new();
        let mut record = Vec::new();
        let mut chunk: Vec<Row> = Vec::with_capacity(f.chunk_size);
        let mut read_rows = 0u64;
        let mut skip = f.skip_rows + u64::from(o.common.header);
        let mut stop: Option<CliError> = None;
        let over = |n: u64, max: Option<u64>| max.is_some_and(|m| n > m);
        loop {
            let more = if f.max_rows.is_some_and(|m| read_rows >= m) {
                false
            } else {
                reader.read(&mut record).map_err(|e| match &stmt.target {
                    Target::File(p) => file_error(p, e),
                    Target::Std => CliError::Io(e),
                })?
            };
            if more {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                read_rows += 1;
                match parse_row(&record, &kept, &types, o) {
                    Ok(values) => chunk.push(Row {
                        values,
                        record: std::mem::take(&mut record),
                    }),
                    Err(e) => {
                        eprintln!("cql4: COPY: line {}: {e}", reader.line);
                        tally.parse_errors += 1;
                        tally.reject(&record)?;
                        if over(tally.parse_errors, f.max_parse_errors) {
                            stop = Some(CliError::Failed(format!(
                                "COPY: more than {} parse errors (MAXPARSEERRORS); stopped",
                                f.max_parse_errors.unwrap_or(0)
                            )));
                        }
                    }
                }
            }
            if chunk.len() >= f.chunk_size || (!more && !chunk.is_empty()) || stop.is_some() {
                let units = group(
                    std::mem::take(&mut chunk),
                    &pk,
                    f.min_batch_size,
                    f.max_batch_size,
                );
                for unit in units {
                    if stop.is_some() {
                        // Not sent: rejected so the file holds every row not imported.
                        for row in &unit {
                            tally.reject(&row.record)?;
                        }
                        tally.insert_errors += unit.len() as u64;
                        continue;
                    }
                    let wait = bucket.take(unit.len() as u32, Instant::now());
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                    let permit = permits
                        .clone()
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed");
                    let inserter = inserter.clone();
                    tasks.spawn(async move {
                        let done = inserter.send(unit).await;
                        drop(permit);
                        done
                    });
                    while let Some(done) = tasks.try_join_next() {
                        tally.settle(done.map_err(|e| CliError::Failed(format!("COPY: {e}")))?)?;
                        if stop.is_none() && over(tally.insert_errors, f.max_insert_errors) {
                            stop = Some(CliError::Failed(format!(
                                "COPY: more than {} insert errors (MAXINSERTERRORS); stopped",
                                f.max_insert_errors.unwrap_or(0)
                            )));
                        }
                    }
                    progress.tick(tally.imported);
                }
            }
            if !more || stop.is_some() {
                break;
            }
        }
        while let Some(done) = tasks.join_next().await {
            tally.settle(done.map_err(|e| CliError::Failed(format!("COPY: {e}")))?)?;
            progress.tick(tally.imported);
        }
        if stop.is_none() && over(tally.insert_errors, f.max_insert_errors) {
            stop = Some(CliError::Failed(format!(
                "COPY: more than {} insert errors (MAXINSERTERRORS); stopped",
                f.max_insert_errors.unwrap_or(0)
            )));
        }
        stop.map_or(Ok(()), Err)
    });
    progress.finish();
    if let Some(err) = tally.err_file.as_mut() {
        err.flush().map_err(|e| file_error(&tally.err_path, e))?;
    }
    let elapsed = progress.elapsed();
    println!(
        "{} rows imported from 1 files in {} ({} rows/s).",
        tally.imported,
        progress::seconds(elapsed),
        progress::rate(tally.imported, elapsed)
    );
    stopped?;
    let failed = tally.parse_errors + tally.insert_errors;
    if failed > 0 {
        return Err(CliError::Failed(format!(
            "COPY: {failed} rows not imported ({} parse errors, {} insert errors); they are in {}",
            tally.parse_errors,
            tally.insert_errors,
            tally.err_path.display()
        )));
    }
    Ok(())
}

/// Standard input as a file of its own: the shell holds std's stdin lock while it runs
/// statements, so the rows are read from a duplicate of the descriptor. Rows typed after the
/// statement (a terminal, or `-e`/`-f` with piped rows) are all there; statements piped on
/// stdin with the rows after them are not supported (the shell may have read ahead).
fn stdin_file() -> Result<File, CliError> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map(File::from)
            .map_err(CliError::Io)
    }
    #[cfg(not(unix))]
    {
        Err(CliError::Usage(
            "COPY: FROM STDIN is not supported on this platform".into(),
        ))
    }
}

/// The values of the kept fields of a record, by their column types.
fn parse_row(
    record: &[ReadField],
    kept: &[usize],
    types: &[ColumnType],
    o: &Options,
) -> Result<Vec<Option<CqlValue>>, String> {
    let want = o.from.skip_cols.len() + kept.len();
    if record.len() != want {
        return Err(format!("expected {want} fields, found {}", record.len()));
    }
    kept.iter()
        .zip(types)
        .map(|(&i, ty)| parse::field(&record[i].text, record[i].quoted, ty, &o.common))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(k: i32, v: &str) -> Row {
        Row {
            values: vec![Some(CqlValue::Int(k)), Some(CqlValue::Text(v.into()))],
            record: Vec::new(),
        }
    }

    fn texts(unit: &[Row]) -> Vec<&str> {
        unit.iter()
            .map(|r| match &r.values[1] {
                Some(CqlValue::Text(t)) => t.as_str(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn partition_key_positions_beyond_the_columns_are_refused() {
        let types = [ColumnType::Int, ColumnType::Text];
        assert_eq!(
            key_columns(&[1, 0], &types).unwrap(),
            [(1, ColumnType::Text), (0, ColumnType::Int)]
        );
        let e = key_columns(&[0, 2], &types).unwrap_err().to_string();
        assert!(
            e.contains("partition key position 2") && e.contains("2 columns"),
            "{e}"
        );
    }

    #[test]
    fn rows_are_grouped_by_partition_key() {
        let pk = [(0, ColumnType::Int)];
        let chunk = vec![
            row(1, "a"),
            row(2, "b"),
            row(1, "c"),
            row(3, "d"),
            row(1, "e"),
            row(2, "f"),
        ];
        // Partitions of at least 2 rows go alone, at most 2 a batch; the rest together.
        let units = group(chunk, &pk, 2, 2);
        let units: Vec<_> = units.iter().map(|u| texts(u)).collect();
        assert_eq!(
            units,
            [vec!["a", "c"], vec!["e"], vec!["b", "f"], vec!["d"]]
        );
    }

    #[test]
    fn keys_of_two_columns_never_run_together() {
        // ("ab", "c") and ("a", "bc") have the same bytes end to end: the lengths keep them
        // apart.
        let pk = [(0, ColumnType::Text), (1, ColumnType::Text)];
        let r = |a: &str, b: &str| Row {
            values: vec![
                Some(CqlValue::Text(a.into())),
                Some(CqlValue::Text(b.into())),
            ],
            record: Vec::new(),
        };
        let units = group(vec![r("ab", "c"), r("a", "bc"), r("ab", "c")], &pk, 2, 10);
        let sizes: Vec<_> = units.iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 1]);
    }
}
