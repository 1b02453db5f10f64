//! The CSV layer: records of fields, written and read with the options' delimiter, quote and
//! escape. Reading is the csv crate's state machine (`csv-core`), fed field by field so that
//! a quoted field is known as such: `""` is the empty string, an empty unquoted field is NULL
//! (with the default NULL option). Writing quotes a field when its characters need it or when
//! it is text that would otherwise read back as NULL.

use std::io::{self, BufRead, Write};

use csv_core::{ReadFieldResult, Reader, ReaderBuilder};

use super::format::Field;
use super::options::Common;

/// Writes records.
pub(crate) struct CsvWriter {
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
    null: String,
    line: Vec<u8>,
}

impl CsvWriter {
    pub(crate) fn new(o: &Common) -> Self {
        Self {
            delimiter: o.delimiter,
            quote: o.quote,
            escape: o.escape,
            null: o.null.clone(),
            line: Vec::with_capacity(256),
        }
    }

    fn needs_quotes(&self, s: &str) -> bool {
        s.bytes().any(|b| {
            b == self.delimiter
                || b == self.quote
                || b == b'\n'
                || b == b'\r'
                || Some(b) == self.escape
        }) || s.starts_with(char::is_whitespace)
            || s.ends_with(char::is_whitespace)
    }

    fn push_quoted(&mut self, s: &str) {
        self.line.push(self.quote);
        for &b in s.as_bytes() {
            if b == self.quote {
                // ESCAPE given: `\"`; else the RFC 4180 doubled quote.
                self.line.push(self.escape.unwrap_or(self.quote));
            } else if Some(b) == self.escape {
                self.line.push(b);
            }
            self.line.push(b);
        }
        self.line.push(self.quote);
    }

    /// Writes one record and its line end.
    pub(crate) fn record<'f>(
        &mut self,
        out: &mut (impl Write + ?Sized),
        fields: impl IntoIterator<Item = &'f Field>,
    ) -> io::Result<()> {
        self.line.clear();
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                self.line.push(self.delimiter);
            }
            match f {
                // The options check keeps the NULL text free of what would need quotes.
                Field::Null => self.line.extend_from_slice(self.null.as_bytes()),
                Field::Text(s) if s.is_empty() || *s == self.null || self.needs_quotes(s) => {
                    self.push_quoted(s)
                }
                Field::Text(s) | Field::Plain(s) => {
                    if self.needs_quotes(s) {
                        self.push_quoted(s);
                    } else {
                        self.line.extend_from_slice(s.as_bytes());
                    }
                }
            }
        }
        self.line.push(b'\n');
        out.write_all(&self.line)
    }
}

/// One field read: its text and whether it was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadField {
    pub text: String,
    pub quoted: bool,
}

/// Reads records.
pub(crate) struct CsvReader<R> {
    input: R,
    core: Reader,
    quote: u8,
    buf: Vec<u8>,
    /// The number of the line the last record started on (1-based), for messages.
    pub line: u64,
    lines_read: u64,
}

/// Records of hostile input are bounded: a record may not exceed this many bytes of input...
const MAX_RECORD_BYTES: usize = 64 << 20;
/// ...nor this many fields (a bound statement holds at most this many values), as empty
/// fields cost memory while taking one byte each.
const MAX_RECORD_FIELDS: usize = u16::MAX as usize;

impl<R: BufRead> CsvReader<R> {
    pub(crate) fn new(input: R, o: &Common) -> Self {
        let core = ReaderBuilder::new()
            .delimiter(o.delimiter)
            .quote(o.quote)
            .escape(o.escape)
            .double_quote(true)
            .build();
        Self {
            input,
            core,
            quote: o.quote,
            buf: vec![0; 64 * 1024],
            line: 0,
            lines_read: 1,
        }
    }

    /// The next record's fields into `out` (cleared); false at the end of the input.
    pub(crate) fn read(&mut self, out: &mut Vec<ReadField>) -> io::Result<bool> {
        out.clear();
        let mut field: Vec<u8> = Vec::new();
        let mut quoted = false;
        let mut record_bytes = 0usize;
        self.line = self.lines_read;
        loop {
            let input = self.input.fill_buf()?;
            let (res, nin, nout) = self.core.read_field(input, &mut self.buf);
            let consumed = &input[..nin];
            quoted |= consumed.contains(&self.quote);
            self.lines_read += consumed.iter().filter(|&&b| b == b'\n').count() as u64;
            self.input.consume(nin);
            field.extend_from_slice(&self.buf[..nout]);
            record_bytes += nin;
            if record_bytes > MAX_RECORD_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "a record longer than {MAX_RECORD_BYTES} bytes (line {})",
                        self.line
                    ),
                ));
            }
            match res {
                ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => {}
                ReadFieldResult::Field { record_end } => {
                    let text = String::from_utf8(std::mem::take(&mut field)).map_err(|_| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("the record on line {} is not valid UTF-8", self.line),
                        )
                    })?;
                    if out.len() == MAX_RECORD_FIELDS {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "a record of more than {MAX_RECORD_FIELDS} fields (line {})",
                                self.line
                            ),
                        ));
                    }
                    out.push(ReadField { text, quoted });
                    quoted = false;
                    if record_end {
                        return Ok(true);
                    }
                }
                ReadFieldResult::End => return Ok(!out.is_empty()),
            }
        }
    }
}

/// Standard input up to a line holding only `\.` (cqlsh's end of COPY FROM STDIN), or its end.
pub(crate) struct StdinUntilEnd<R> {
    input: R,
    line: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: BufRead> StdinUntilEnd<R> {
    pub(crate) fn new(input: R) -> Self {
        Self {
            input,
            line: Vec::new(),
            at: 0,
            done: false,
        }
    }
}

impl<R: BufRead> io::Read for StdinUntilEnd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for StdinUntilEnd<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.at == self.line.len() && !self.done {
            self.line.clear();
            self.at = 0;
            if self.input.read_until(b'\n', &mut self.line)? == 0 {
                self.done = true;
            } else if self.line.trim_ascii() == b"\\." {
                self.line.clear();
                self.done = true;
            }
        }
        Ok(&self.line[self.at..])
    }

    fn consume(&mut self, n: usize) {
        self.at = (self.at + n).min(self.line.len());
    }
}
