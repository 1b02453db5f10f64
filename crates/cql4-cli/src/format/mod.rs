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
    /// Collects cells, prints on [`Printer::finish`] (or page by page, see
    /// [`Printer::end_page`]).
    Table {
        /// Column names.
        header: Vec<String>,
        /// Cell texts of the rows not printed yet.
        rows: Vec<Vec<String>>,
        /// EXPAND: `@ Row N` blocks instead of a table.
        expand: bool,
        /// How floats are shown.
        precision: cell::Precision,
        /// Rows already printed by [`Printer::end_page`].
        printed: usize,
        /// True once a page was printed: the count then follows without a blank line.
        paged: bool,
    },
    /// Prints each row as it comes.
    Json {
        /// Column names (the object keys).
        names: Vec<String>,
    },
}

impl Printer {
    /// A printer for rows with these column names; `expand` and `precision` apply to tables.
    pub(crate) fn new(
        format: OutputFormat,
        names: Vec<String>,
        expand: bool,
        precision: cell::Precision,
    ) -> Self {
        match format {
            OutputFormat::Table => Self::Table {
                header: names.iter().map(|n| table::escape_control(n)).collect(),
                rows: Vec::new(),
                expand,
                precision,
                printed: 0,
                paged: false,
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
            Self::Table {
                rows, precision, ..
            } => {
                rows.push(
                    values
                        .iter()
                        .map(|v| cell::cell_with(v.as_ref(), *precision))
                        .collect(),
                );
                Ok(())
            }
            Self::Json { names } => writeln!(out, "{}", json::row_line(names, values)),
        }
    }

    /// Prints the rows received so far as one page, as cqlsh pages on a terminal: each page
    /// its own table with its header (or its `@ Row` blocks), then a blank line.
    pub(crate) fn end_page(&mut self, out: &mut impl Write) -> io::Result<()> {
        if let Self::Table {
            header,
            rows,
            expand,
            printed,
            paged,
            ..
        } = self
        {
            if !*paged {
                // cqlsh's blank line before a result.
                writeln!(out)?;
            }
            if *expand && !rows.is_empty() {
                table::write_vertical(out, header, rows, *printed)?;
            } else if !rows.is_empty() || !*paged {
                table::write_rows(out, header, rows)?;
                writeln!(out)?;
            }
            *printed += rows.len();
            rows.clear();
            *paged = true;
        }
        out.flush()
    }

    /// Ends the statement's output.
    pub(crate) fn finish(mut self, out: &mut impl Write) -> io::Result<()> {
        if let Self::Table { paged: true, .. } = self {
            self.end_page(out)?;
        }
        match self {
            Self::Table {
                header,
                rows,
                expand,
                printed,
                paged,
                ..
            } => {
                if !paged {
                    // As cqlsh: a blank line before the result, and one more after a header
                    // without rows.
                    writeln!(out)?;
                    if expand && !rows.is_empty() {
                        table::write_vertical(out, &header, &rows, 0)?;
                    } else {
                        table::write_rows(out, &header, &rows)?;
                        if rows.is_empty() {
                            writeln!(out)?;
                        }
                    }
                    writeln!(out)?;
                }
                writeln!(out, "({} rows)", printed + rows.len())
            }
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
        let mut p = Printer::new(
            format,
            vec!["id".into(), "name".into()],
            false,
            Default::default(),
        );
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
            "\n id | name\n----+------\n  1 |  ann\n 22 | null\n\n(2 rows)\n"
        );
    }

    #[test]
    fn expanded_output() {
        let mut out = Vec::new();
        let mut p = Printer::new(
            OutputFormat::Table,
            vec!["id".into()],
            true,
            Default::default(),
        );
        p.row(&mut out, &[Some(CqlValue::Int(7))]).unwrap();
        p.finish(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\n@ Row 1\n----+---\n id | 7\n\n\n(1 rows)\n"
        );
    }

    #[test]
    fn paged_output_prints_each_page_then_the_count() {
        let mut out = Vec::new();
        let mut p = Printer::new(
            OutputFormat::Table,
            vec!["id".into()],
            false,
            Default::default(),
        );
        p.row(&mut out, &[Some(CqlValue::Int(1))]).unwrap();
        p.end_page(&mut out).unwrap();
        p.row(&mut out, &[Some(CqlValue::Int(100))]).unwrap();
        p.finish(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\n id\n----\n  1\n\n id\n-----\n 100\n\n(2 rows)\n"
        );
    }

    #[test]
    fn no_rows_as_cqlsh() {
        for expand in [false, true] {
            let mut out = Vec::new();
            let p = Printer::new(
                OutputFormat::Table,
                vec!["id".into()],
                expand,
                Default::default(),
            );
            p.finish(&mut out).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "\n id\n----\n\n\n(0 rows)\n",
                "{expand}"
            );
        }
    }

    #[test]
    fn json_output() {
        assert_eq!(
            print(OutputFormat::Json),
            "{\"id\":1,\"name\":\"ann\"}\n{\"id\":22,\"name\":null}\n"
        );
    }
}
