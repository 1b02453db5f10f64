//! COPY's `WITH` options: cqlsh's names and defaults, each value checked before anything runs.
//! An unknown option, one that belongs to the other direction, or a bad value is one line.

use std::path::PathBuf;
use std::time::Duration;

use super::datetime::TimeFormat;
use super::statement::Direction;
use crate::cqlshrc::CopyDefaults;

/// Options of both directions.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub header: bool,
    pub delimiter: u8,
    pub quote: u8,
    /// `None` unless ESCAPE is given: doubled quotes are the default escape (they round-trip
    /// every text, backslashes included).
    pub escape: Option<u8>,
    pub null: String,
    pub datetime: TimeFormat,
    pub decimal_sep: char,
    pub thousands_sep: Option<char>,
    pub bool_style: (String, String),
    pub max_attempts: u32,
    pub report_frequency: Duration,
}

/// Options of COPY TO.
#[derive(Debug, Clone)]
pub(crate) struct ToOptions {
    pub page_size: i32,
    pub page_timeout: Duration,
    /// Rows per file; more go to `file.1`, `file.2`, ….
    pub max_output_size: Option<u64>,
    pub begin_token: Option<i64>,
    pub end_token: Option<i64>,
    /// Token ranges paged at once.
    pub max_requests: u32,
}

/// Options of COPY FROM.
#[derive(Debug, Clone)]
pub(crate) struct FromOptions {
    pub chunk_size: usize,
    pub ingest_rate: u32,
    pub max_batch_size: usize,
    pub min_batch_size: usize,
    pub skip_rows: u64,
    pub skip_cols: Vec<String>,
    pub max_rows: Option<u64>,
    pub max_parse_errors: Option<u64>,
    pub max_insert_errors: Option<u64>,
    pub err_file: Option<PathBuf>,
    pub prepared: bool,
}

/// Every option of one statement.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub common: Common,
    pub to: ToOptions,
    pub from: FromOptions,
}

const COMMON: &[&str] = &[
    "header",
    "delimiter",
    "quote",
    "escape",
    "null",
    "datetimeformat",
    "decimalsep",
    "thousandssep",
    "boolstyle",
    "maxattempts",
    "reportfrequency",
];
/// At most this many token ranges paged at once by COPY TO (MAXREQUESTS).
const MAX_REQUESTS: u32 = 256;
const TO: &[&str] = &[
    "pagesize",
    "pagetimeout",
    "maxoutputsize",
    "encoding",
    "begintoken",
    "endtoken",
    "maxrequests",
];
const FROM: &[&str] = &[
    "chunksize",
    "ingestrate",
    "maxbatchsize",
    "minbatchsize",
    "skiprows",
    "skipcols",
    "maxrows",
    "maxparseerrors",
    "maxinserterrors",
    "errfile",
    "preparedstatements",
];

/// Rows held at once while reading (they are grouped by partition key in memory).
const MAX_CHUNK: usize = 1_000_000;
/// Statements in one BATCH (its count is a `[short]`).
const MAX_BATCH: usize = 65_535;

/// cqlsh's default DATETIMEFORMAT (its `time_format`).
pub(crate) const DEFAULT_DATETIME: &str = "%Y-%m-%d %H:%M:%S.%f%z";

impl Default for Options {
    fn default() -> Self {
        Self {
            common: Common {
                header: false,
                delimiter: b',',
                quote: b'"',
                escape: None,
                null: String::new(),
                datetime: TimeFormat::parse(DEFAULT_DATETIME).expect("the default format"),
                decimal_sep: '.',
                thousands_sep: None,
                bool_style: ("True".to_owned(), "False".to_owned()),
                max_attempts: 5,
                report_frequency: Duration::from_millis(250),
            },
            to: ToOptions {
                page_size: 1000,
                page_timeout: Duration::from_secs(10),
                max_output_size: None,
                begin_token: None,
                end_token: None,
                max_requests: 6,
            },
            from: FromOptions {
                chunk_size: 5000,
                ingest_rate: 100_000,
                max_batch_size: 20,
                min_batch_size: 10,
                skip_rows: 0,
                skip_cols: Vec::new(),
                max_rows: None,
                max_parse_errors: None,
                max_insert_errors: Some(1000),
                err_file: None,
                prepared: true,
            },
        }
    }
}

fn boolean(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// One ASCII character (the CSV layer works on bytes).
fn one_byte(v: &str) -> Option<u8> {
    match v.as_bytes() {
        [b] if b.is_ascii() && *b != b'\n' && *b != b'\r' => Some(*b),
        _ => None,
    }
}

fn one_char(v: &str) -> Option<char> {
    let mut it = v.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

fn positive<T: std::str::FromStr + PartialOrd + Default>(v: &str) -> Option<T> {
    v.trim().parse::<T>().ok().filter(|n| *n > T::default())
}

/// `-1` (cqlsh's "no limit") or a count ≥ 0.
fn limit(v: &str) -> Option<Option<u64>> {
    let v = v.trim();
    if v == "-1" {
        Some(None)
    } else {
        v.parse().ok().map(Some)
    }
}

fn seconds(v: &str) -> Option<Duration> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
}

impl Options {
    /// The options of a statement in `direction`: the cqlshrc's `defaults` (`[copy]` keys of
    /// the other direction skipped), then `given` (the statement's `WITH`), each later wins.
    pub(crate) fn with_defaults(
        direction: Direction,
        defaults: &CopyDefaults,
        given: &[(String, String)],
    ) -> Result<Self, String> {
        let other = match direction {
            Direction::To => FROM,
            Direction::From => TO,
        };
        let specific = match direction {
            Direction::To => &defaults.to,
            Direction::From => &defaults.from,
        };
        let rc: Vec<(String, String)> = defaults
            .both
            .iter()
            .filter(|(n, _)| !other.contains(&n.as_str()))
            .chain(specific)
            .cloned()
            .collect();
        Self::parse(direction, &rc).map_err(|e| format!("cqlshrc: {e}"))?;
        Self::parse(direction, &[rc, given.to_vec()].concat())
    }

    /// Checks `given` (names lower-cased, as [`super::statement`] gives them) for `direction`.
    pub(crate) fn parse(direction: Direction, given: &[(String, String)]) -> Result<Self, String> {
        let mut o = Self::default();
        for (name, value) in given {
            let known_here = COMMON.contains(&name.as_str())
                || match direction {
                    Direction::To => TO.contains(&name.as_str()),
                    Direction::From => FROM.contains(&name.as_str()),
                };
            let upper = name.to_uppercase();
            if !known_here {
                let other = match direction {
                    Direction::To => FROM.contains(&name.as_str()).then_some("FROM"),
                    Direction::From => TO.contains(&name.as_str()).then_some("TO"),
                };
                return Err(match other {
                    Some(d) => format!("option {upper} applies to COPY {d} only"),
                    None => format!("unknown option {upper}"),
                });
            }
            let bad = |what: &str| format!("invalid value for {upper}: '{value}' ({what})");
            match name.as_str() {
                "header" => o.common.header = boolean(value).ok_or_else(|| bad("true or false"))?,
                "delimiter" => {
                    o.common.delimiter =
                        one_byte(value).ok_or_else(|| bad("one ASCII character"))?
                }
                "quote" => {
                    o.common.quote = one_byte(value).ok_or_else(|| bad("one ASCII character"))?
                }
                "escape" => {
                    o.common.escape =
                        Some(one_byte(value).ok_or_else(|| bad("one ASCII character"))?)
                }
                "null" => o.common.null = value.clone(),
                "datetimeformat" => {
                    o.common.datetime = TimeFormat::parse(value).map_err(|e| bad(&e))?
                }
                "decimalsep" => {
                    o.common.decimal_sep = one_char(value).ok_or_else(|| bad("one character"))?
                }
                "thousandssep" => {
                    o.common.thousands_sep = if value.is_empty() {
                        None
                    } else {
                        Some(one_char(value).ok_or_else(|| bad("one character or ''"))?)
                    }
                }
                "boolstyle" => {
                    let (t, f) = value
                        .split_once(',')
                        .map(|(t, f)| (t.trim(), f.trim()))
                        .filter(|(t, f)| {
                            !t.is_empty() && !f.is_empty() && !t.eq_ignore_ascii_case(f)
                        })
                        .ok_or_else(|| bad("two different words separated by a comma"))?;
                    o.common.bool_style = (t.to_owned(), f.to_owned());
                }
                "maxattempts" => {
                    o.common.max_attempts = positive(value).ok_or_else(|| bad("a count ≥ 1"))?
                }
                "reportfrequency" => {
                    o.common.report_frequency = seconds(value).ok_or_else(|| bad("seconds > 0"))?
                }
                "pagesize" => o.to.page_size = positive(value).ok_or_else(|| bad("a count ≥ 1"))?,
                "pagetimeout" => {
                    o.to.page_timeout = seconds(value).ok_or_else(|| bad("seconds > 0"))?
                }
                "maxoutputsize" => {
                    o.to.max_output_size = limit(value)
                        .filter(|l| *l != Some(0))
                        .ok_or_else(|| bad("-1 or a count ≥ 1"))?
                }
                "encoding" => {
                    if !matches!(value.to_ascii_lowercase().as_str(), "utf8" | "utf-8") {
                        return Err(bad("only utf8 is supported"));
                    }
                }
                "begintoken" => {
                    o.to.begin_token =
                        Some(value.trim().parse().map_err(|_| bad("a Murmur3 token"))?)
                }
                "endtoken" => {
                    o.to.end_token = Some(value.trim().parse().map_err(|_| bad("a Murmur3 token"))?)
                }
                "maxrequests" => {
                    o.to.max_requests = positive(value)
                        .filter(|n| *n <= MAX_REQUESTS)
                        .ok_or_else(|| bad("a count from 1 to 256"))?
                }
                "chunksize" => {
                    o.from.chunk_size = positive(value)
                        .filter(|n| *n <= MAX_CHUNK)
                        .ok_or_else(|| bad("a count from 1 to 1000000"))?
                }
                "ingestrate" => {
                    o.from.ingest_rate = positive(value).ok_or_else(|| bad("rows/s ≥ 1"))?
                }
                "maxbatchsize" => {
                    o.from.max_batch_size = positive(value)
                        .filter(|n| *n <= MAX_BATCH)
                        .ok_or_else(|| bad("a count from 1 to 65535"))?
                }
                "minbatchsize" => {
                    o.from.min_batch_size = positive(value).ok_or_else(|| bad("a count ≥ 1"))?
                }
                "skiprows" => {
                    o.from.skip_rows = value.trim().parse().map_err(|_| bad("a count ≥ 0"))?
                }
                "skipcols" => {
                    o.from.skip_cols.clear();
                    let names = value
                        .split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(
                            |c| match c.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
                                Some(quoted) => quoted.to_owned(),
                                None => c.to_ascii_lowercase(),
                            },
                        );
                    // Once each: the record's field count is the kept columns plus these.
                    for name in names {
                        if !o.from.skip_cols.contains(&name) {
                            o.from.skip_cols.push(name);
                        }
                    }
                }
                "maxrows" => o.from.max_rows = limit(value).ok_or_else(|| bad("-1 or a count"))?,
                "maxparseerrors" => {
                    o.from.max_parse_errors = limit(value).ok_or_else(|| bad("-1 or a count"))?
                }
                "maxinserterrors" => {
                    o.from.max_insert_errors = limit(value).ok_or_else(|| bad("-1 or a count"))?
                }
                "errfile" => {
                    o.from.err_file = (!value.is_empty()).then(|| PathBuf::from(value));
                }
                "preparedstatements" => {
                    o.from.prepared = boolean(value).ok_or_else(|| bad("true or false"))?
                }
                _ => unreachable!("every listed option has a case"),
            }
        }
        let c = &o.common;
        if c.delimiter == c.quote || Some(c.delimiter) == c.escape || Some(c.quote) == c.escape {
            return Err("DELIMITER, QUOTE and ESCAPE must be different characters".to_owned());
        }
        if c.null.bytes().any(|b| {
            b == c.delimiter || b == c.quote || b == b'\n' || b == b'\r' || Some(b) == c.escape
        }) || c.null.trim() != c.null
        {
            return Err(
                "NULL may not hold the delimiter, the quote, the escape, a line break or \
                 surrounding blanks"
                    .to_owned(),
            );
        }
        if c.thousands_sep == Some(c.decimal_sep) {
            return Err("DECIMALSEP and THOUSANDSSEP must be different characters".to_owned());
        }
        if o.from.min_batch_size > o.from.max_batch_size {
            return Err(format!(
                "MINBATCHSIZE ({}) is larger than MAXBATCHSIZE ({})",
                o.from.min_batch_size, o.from.max_batch_size
            ));
        }
        if let (Some(b), Some(e)) = (o.to.begin_token, o.to.end_token) {
            if b >= e {
                return Err(format!(
                    "BEGINTOKEN ({b}) must be smaller than ENDTOKEN ({e})"
                ));
            }
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(d: Direction, given: &[(&str, &str)]) -> Result<Options, String> {
        let given: Vec<_> = given
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        Options::parse(d, &given)
    }

    #[test]
    fn cqlshrc_defaults_then_the_statement() {
        let pairs = |l: &[(&str, &str)]| -> Vec<(String, String)> {
            l.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let rc = CopyDefaults {
            both: pairs(&[("header", "true"), ("delimiter", "|"), ("pagesize", "7")]),
            to: pairs(&[("delimiter", ";")]),
            from: pairs(&[("chunksize", "9")]),
        };
        let to =
            Options::with_defaults(Direction::To, &rc, &pairs(&[("header", "false")])).unwrap();
        assert!(!to.common.header, "the statement wins");
        assert_eq!(to.common.delimiter, b';', "[copy-to] wins over [copy]");
        assert_eq!(to.to.page_size, 7);
        // [copy]'s PAGESIZE is COPY TO's only: skipped for COPY FROM.
        let from = Options::with_defaults(Direction::From, &rc, &[]).unwrap();
        assert!(from.common.header);
        assert_eq!(from.common.delimiter, b'|');
        assert_eq!(from.from.chunk_size, 9);
        let bad = CopyDefaults {
            from: pairs(&[("chunksize", "0")]),
            ..CopyDefaults::default()
        };
        let e = Options::with_defaults(Direction::From, &bad, &[]).unwrap_err();
        assert!(e.starts_with("cqlshrc: invalid value for CHUNKSIZE"), "{e}");
    }

    #[test]
    fn defaults_are_cqlshs() {
        let o = opts(Direction::From, &[]).unwrap();
        assert!(!o.common.header);
        assert_eq!((o.common.delimiter, o.common.quote), (b',', b'"'));
        assert_eq!(o.common.null, "");
        assert_eq!(o.common.max_attempts, 5);
        assert_eq!(o.from.ingest_rate, 100_000);
        assert_eq!((o.from.max_batch_size, o.from.min_batch_size), (20, 10));
        assert_eq!(o.from.chunk_size, 5000);
        assert_eq!(o.from.max_insert_errors, Some(1000));
        assert_eq!(o.from.max_parse_errors, None);
        assert_eq!(o.to.page_size, 1000);
        assert_eq!(o.to.page_timeout, Duration::from_secs(10));
    }

    #[test]
    fn values_are_read() {
        let o = opts(
            Direction::From,
            &[
                ("header", "TRUE"),
                ("delimiter", "|"),
                ("null", "NULL"),
                ("boolstyle", "yes, no"),
                ("thousandssep", ","),
                ("decimalsep", ","),
                ("delimiter", ";"),
                ("maxparseerrors", "-1"),
                ("maxinserterrors", "3"),
                ("skipcols", "a, \"B\""),
                ("errfile", "e.err"),
                ("reportfrequency", "0.5"),
            ],
        );
        // DECIMALSEP and THOUSANDSSEP both ','.
        assert!(o.unwrap_err().contains("DECIMALSEP"));
        let o = opts(
            Direction::From,
            &[
                ("header", "TRUE"),
                ("delimiter", "|"),
                ("null", "NULL"),
                ("boolstyle", "yes, no"),
                ("maxparseerrors", "-1"),
                ("maxinserterrors", "3"),
                ("skipcols", "a, \"B\", A, \"B\""),
                ("errfile", "e.err"),
                ("reportfrequency", "0.5"),
            ],
        )
        .unwrap();
        assert!(o.common.header);
        assert_eq!(o.common.delimiter, b'|');
        assert_eq!(o.common.null, "NULL");
        assert_eq!(o.common.bool_style, ("yes".to_owned(), "no".to_owned()));
        assert_eq!(o.from.max_parse_errors, None);
        assert_eq!(o.from.max_insert_errors, Some(3));
        assert_eq!(o.from.skip_cols, ["a", "B"]);
        assert_eq!(o.from.err_file, Some(PathBuf::from("e.err")));
        assert_eq!(o.common.report_frequency, Duration::from_millis(500));
    }

    #[test]
    fn bad_input_is_one_line() {
        let cases: &[(Direction, (&str, &str), &str)] = &[
            (Direction::To, ("bogus", "1"), "unknown option BOGUS"),
            (
                Direction::To,
                ("ingestrate", "1"),
                "option INGESTRATE applies to COPY FROM only",
            ),
            (
                Direction::From,
                ("pagesize", "1"),
                "option PAGESIZE applies to COPY TO only",
            ),
            (
                Direction::To,
                ("header", "maybe"),
                "invalid value for HEADER: 'maybe' (true or false)",
            ),
            (
                Direction::To,
                ("delimiter", "||"),
                "invalid value for DELIMITER: '||' (one ASCII character)",
            ),
            (
                Direction::From,
                ("ingestrate", "0"),
                "invalid value for INGESTRATE: '0' (rows/s ≥ 1)",
            ),
            (
                Direction::From,
                ("maxattempts", "-2"),
                "invalid value for MAXATTEMPTS: '-2' (a count ≥ 1)",
            ),
            (
                Direction::To,
                ("encoding", "latin1"),
                "invalid value for ENCODING: 'latin1' (only utf8 is supported)",
            ),
            (
                Direction::To,
                ("pagetimeout", "nan"),
                "invalid value for PAGETIMEOUT: 'nan' (seconds > 0)",
            ),
            (
                Direction::From,
                ("boolstyle", "yes"),
                "invalid value for BOOLSTYLE: 'yes' (two different words separated by a comma)",
            ),
            (
                Direction::To,
                ("datetimeformat", "%Q"),
                "invalid value for DATETIMEFORMAT: '%Q' (unsupported directive %Q)",
            ),
            (
                Direction::To,
                ("quote", ","),
                "DELIMITER, QUOTE and ESCAPE must be different characters",
            ),
            (
                Direction::From,
                ("minbatchsize", "30"),
                "MINBATCHSIZE (30) is larger than MAXBATCHSIZE (20)",
            ),
            (
                Direction::From,
                ("chunksize", "99999999999"),
                "invalid value for CHUNKSIZE: '99999999999' (a count from 1 to 1000000)",
            ),
            (
                Direction::From,
                ("maxbatchsize", "65536"),
                "invalid value for MAXBATCHSIZE: '65536' (a count from 1 to 65535)",
            ),
        ];
        for (d, (n, v), want) in cases {
            let e = opts(*d, &[(n, v)]).unwrap_err();
            assert_eq!(&e, want);
            assert!(!e.contains('\n'));
        }
        let e = opts(Direction::To, &[("begintoken", "5"), ("endtoken", "5")]).unwrap_err();
        assert_eq!(e, "BEGINTOKEN (5) must be smaller than ENDTOKEN (5)");
    }
}
