//! Printing results: cqlsh-like tables and JSON lines.
//!
//! A [`Printer`] receives one statement's columns and rows page by page. JSON lines are written
//! as each page arrives; a table needs every row to size its columns, so it keeps the cell
//! texts (not the pages) until the statement ends.

pub(crate) mod cell;
pub(crate) mod json;
pub(crate) mod table;
pub(crate) mod text;

use std::io::{self, Write};

use cql4_frame::CqlValue;

use crate::args::OutputFormat;

/// Prints one statement's rows.
#[derive(Debug)]
pub(crate) enum Printer {
    /// Collects cells, prints on [`Printer::finish`].
    Table {
        /// Column names.
        header: Vec<String>,
        /// Cell texts.
        rows: Vec<Vec<String>>,
    },
    /// Prints each row as it comes.
    Json {
        /// Column names (the object keys).
        names: Vec<String>,
    },
}

impl Printer {
    /// A printer for rows with these column names.
    pub(crate) fn new(format: OutputFormat, names: Vec<String>) -> Self {
        match format {
            OutputFormat::Table => Self::Table {
                header: names.iter().map(|n| table::escape_control(n)).collect(),
                rows: Vec::new(),
            },
            OutputFormat::Json => Self::Json { names },
        }
    }

    /// One row (`None` cells are null).
    pub(crate) fn row(
        &mut self,
        out: &mut impl Write,
        values: &[Option<CqlValue>],
    ) -> io::Result<()> {
        match self {
            Self::Table { rows, .. } => {
                rows.push(values.iter().map(|v| cell::cell(v.as_ref())).collect());
                Ok(())
            }
            Self::Json { names } => writeln!(out, "{}", json::row_line(names, values)),
        }
    }

    /// Ends the statement's output.
    pub(crate) fn finish(self, out: &mut impl Write) -> io::Result<()> {
        match self {
            Self::Table { header, rows } => table::write_table(out, &header, &rows),
            Self::Json { .. } => Ok(()),
        }?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(format: OutputFormat) -> String {
        let mut out = Vec::new();
        let mut p = Printer::new(format, vec!["id".into(), "name".into()]);
        p.row(
            &mut out,
            &[Some(CqlValue::Int(1)), Some(CqlValue::Text("ann".into()))],
        )
        .unwrap();
        p.row(&mut out, &[Some(CqlValue::Int(22)), None]).unwrap();
        p.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_output() {
        assert_eq!(
            print(OutputFormat::Table),
            " id | name\n----+------\n  1 |  ann\n 22 | null\n\n(2 rows)\n"
        );
    }

    #[test]
    fn json_output() {
        assert_eq!(
            print(OutputFormat::Json),
            "{\"id\":1,\"name\":\"ann\"}\n{\"id\":22,\"name\":null}\n"
        );
    }
}
