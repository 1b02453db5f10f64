//! cqlsh's table layout: left-aligned header, a `-+-` separator, right-aligned cells, a blank
//! line and `(N rows)`; and EXPAND's vertical layout.
//!
//! ```text
//!  keyspace_name | durable_writes
//! ---------------+----------------
//!         system |           True
//!
//! (1 rows)
//! ```

use std::io::{self, Write};

/// Display width of a cell: characters, after control characters were escaped.
fn width(s: &str) -> usize {
    s.chars().count()
}

/// Makes a value safe for one table cell: control characters (a newline in a text value would
/// break the layout, an escape sequence could drive the terminal) are shown escaped, as cqlsh
/// does.
pub(crate) fn escape_control(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// Writes `header` and `rows` (cells already formatted and escaped) as a cqlsh table.
#[cfg(test)]
fn write_table(out: &mut impl Write, header: &[String], rows: &[Vec<String>]) -> io::Result<()> {
    write_rows(out, header, rows)?;
    writeln!(out)?;
    writeln!(out, "({} rows)", rows.len())
}

/// The header, its separator and the rows, each column as wide as its widest cell: a table
/// without its row count (one page of a paged result).
pub(crate) fn write_rows(
    out: &mut impl Write,
    header: &[String],
    rows: &[Vec<String>],
) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let pad = |s: &str, w: usize| " ".repeat(w.saturating_sub(width(s)));

    let mut line = String::new();
    for (i, (h, &w)) in header.iter().zip(&widths).enumerate() {
        if i > 0 {
            line.push_str(" | ");
        }
        line.push_str(h);
        line.push_str(&pad(h, w));
    }
    writeln!(out, " {}", line.trim_end())?;

    let dashes: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    writeln!(out, "-{}-", dashes.join("-+-"))?;

    for row in rows {
        line.clear();
        for (i, (cell, &w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str(" | ");
            }
            line.push_str(&pad(cell, w));
            line.push_str(cell);
        }
        writeln!(out, " {line}")?;
    }
    Ok(())
}

/// EXPAND's layout: one block per row, numbered from `first + 1`, each column name padded to
/// the widest, the value as it is, a blank line after each block.
///
/// ```text
/// @ Row 1
/// ---------------+-----------
///  cluster_name  | cql4-test
/// ```
pub(crate) fn write_vertical(
    out: &mut impl Write,
    header: &[String],
    rows: &[Vec<String>],
    first: usize,
) -> io::Result<()> {
    let name_width = header.iter().map(|h| width(h)).max().unwrap_or(0);
    let value_width = rows.iter().flatten().map(|c| width(c)).max().unwrap_or(0);
    for (i, row) in rows.iter().enumerate() {
        writeln!(out, "@ Row {}", first + i + 1)?;
        writeln!(
            out,
            "-{}-+-{}-",
            "-".repeat(name_width),
            "-".repeat(value_width)
        )?;
        for (name, cell) in header.iter().zip(row) {
            writeln!(
                out,
                " {name}{} | {cell}",
                " ".repeat(name_width - width(name))
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(header: &[&str], rows: &[&[&str]]) -> String {
        let header: Vec<String> = header.iter().map(|s| (*s).to_owned()).collect();
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(|s| (*s).to_owned()).collect())
            .collect();
        let mut out = Vec::new();
        write_table(&mut out, &header, &rows).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn aligns_like_cqlsh() {
        let got = render(
            &["keyspace_name", "durable_writes", "x"],
            &[
                &["system", "True", "null"],
                &["system_schema", "False", "{'a': 1}"],
            ],
        );
        let want = concat!(
            " keyspace_name | durable_writes | x\n",
            "---------------+----------------+----------\n",
            "        system |           True |     null\n",
            " system_schema |          False | {'a': 1}\n",
            "\n",
            "(2 rows)\n",
        );
        assert_eq!(got, want);
    }

    #[test]
    fn vertical_like_cqlsh_expand() {
        let header = vec!["k".to_owned(), "value".to_owned()];
        let rows = vec![
            vec!["1".to_owned(), "a".to_owned()],
            vec!["22".to_owned(), "".to_owned()],
        ];
        let mut out = Vec::new();
        write_vertical(&mut out, &header, &rows, 4).unwrap();
        let want = concat!(
            "@ Row 5\n",
            "-------+----\n",
            " k     | 1\n",
            " value | a\n",
            "\n",
            "@ Row 6\n",
            "-------+----\n",
            " k     | 22\n",
            " value | \n",
            "\n",
        );
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }

    #[test]
    fn no_rows_still_prints_header_and_count() {
        assert_eq!(render(&["a"], &[]), " a\n---\n\n(0 rows)\n");
    }

    #[test]
    fn width_counts_characters_not_bytes() {
        let got = render(&["t"], &[&["héllo"], &["x"]]);
        assert_eq!(got, " t\n-------\n héllo\n     x\n\n(2 rows)\n");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_control("plain"), "plain");
        assert_eq!(escape_control("a\nb\tc\r"), "a\\nb\\tc\\r");
        assert_eq!(escape_control("\u{1b}[31m"), "\\u{1b}[31m");
    }
}
