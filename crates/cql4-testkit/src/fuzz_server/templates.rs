//! Request templates: the valid frames mutations start from, captured from a real session or
//! loaded from a file.
//!
//! # Template file format
//!
//! UTF-8 text, one template per line: a name, whitespace, and the whole frame in hex (header
//! included; the hex is the line's last whitespace-separated token, the name everything before
//! it). Blank lines and lines starting with `#` are ignored. Each frame must be exactly one
//! whole v3–v5 frame (9-byte header, length field equal to the bytes that follow).
//!
//! ```text
//! # name                 frame
//! OPTIONS                040000010500000000
//! QUERY system.local     04000001070000002a...
//! ```
//!
//! `--save-templates FILE` writes the captured templates in this format.

use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;
use cql4_conn::{Client, Config, QueryOptions};
use cql4_frame::compression::Compression;
use cql4_frame::consistency::Consistency;
use cql4_frame::request::{
    AuthResponse, Batch, BatchQuery, BatchStatement, BatchType, BoundValue, Execute, Prepare,
    Query, QueryParameters, QueryValues, Register, Request, RequestFrame, Startup,
};

use super::mutations::{hex, HEADER_LEN};
use super::oracle::{exchange, Observation};
use super::Error;
use crate::raw::{framing, Framing, RawConnection};

/// A valid request frame to mutate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Template {
    /// What it is (`QUERY insert with values`); free text without a line break.
    pub name: String,
    /// The whole frame, header included.
    pub frame: Vec<u8>,
}

impl Template {
    /// A template named `name` holding `frame`.
    pub fn new(name: impl Into<String>, frame: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            frame,
        }
    }
}

/// Parses a template file (format in the [module documentation](self)); errors name the line.
pub fn parse_templates(text: &str) -> Result<Vec<Template>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |what: String| format!("line {}: {what}", n + 1);
        let Some((name, hex_frame)) = line.rsplit_once(char::is_whitespace) else {
            return Err(at("expected a name, then the frame in hex".to_owned()));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(at("the name is empty".to_owned()));
        }
        let frame = unhex(hex_frame).map_err(at)?;
        if framing(&frame) != Framing::Frames(1) {
            return Err(at(format!(
                "{name:?} is not one whole v3-v5 frame (9-byte header, length = bytes after it)"
            )));
        }
        out.push(Template::new(name, frame));
    }
    if out.is_empty() {
        return Err("no template in the file".to_owned());
    }
    Ok(out)
}

/// Writes templates in the file format [`parse_templates`] reads.
pub fn format_templates(templates: &[Template]) -> String {
    let mut s = String::from("# cql4-fuzz-server templates: a name, then one whole frame in hex\n");
    for t in templates {
        let name = t.name.replace(['\n', '\r'], " ");
        let _ = writeln!(s, "{name} {}", hex(&t.frame));
    }
    s
}

/// Decodes lowercase or uppercase hex with no separators.
pub(crate) fn unhex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    hex::decode(s).map_err(|e| match e {
        hex::FromHexError::OddLength => format!("odd number of hex digits ({})", s.len()),
        hex::FromHexError::InvalidHexCharacter { c, .. } => {
            format!("{c:?} is not a hex digit")
        }
        other => other.to_string(),
    })
}

/// Offsets of the `[int]` length of every bound `[value]` in a QUERY (0x07), EXECUTE (0x0A)
/// or BATCH (0x0D) frame, and of an AUTH_RESPONSE's (0x0F) `[bytes]` token, found by walking
/// the body as native_protocol_v4.spec §4.1.2–4.1.7 lay it out (the header's length field is ignored: the bytes present are walked). Parsing
/// stops at the first field that does not fit; what was found until then is returned.
pub(crate) fn value_length_offsets(frame: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(&opcode) = frame.get(4) else {
        return out;
    };
    let mut c = Cursor {
        bytes: frame,
        at: HEADER_LEN,
    };
    let _ = match opcode {
        0x07 => c.long_string().and_then(|()| c.params(&mut out)),
        0x0A => c.short_bytes().and_then(|()| c.params(&mut out)),
        0x0D => c.batch(&mut out),
        0x0F => c.value(&mut out),
        _ => None,
    };
    out
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn short(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    }
    fn int(&mut self) -> Option<i32> {
        self.take(4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn long_string(&mut self) -> Option<()> {
        let n = usize::try_from(self.int()?).ok()?;
        self.take(n).map(drop)
    }
    fn short_bytes(&mut self) -> Option<()> {
        let n = self.short()?;
        self.take(n).map(drop)
    }
    fn value(&mut self, out: &mut Vec<usize>) -> Option<()> {
        let at = self.at;
        let n = self.int()?;
        out.push(at);
        if let Ok(n) = usize::try_from(n) {
            self.take(n)?;
        }
        Some(())
    }
    /// §4.1.4 query parameters, up to the values.
    fn params(&mut self, out: &mut Vec<usize>) -> Option<()> {
        self.short()?; // consistency
        let flags = self.byte()?;
        if flags & 0x01 == 0 {
            return Some(());
        }
        for _ in 0..self.short()? {
            if flags & 0x40 != 0 {
                self.short_bytes()?; // [string] name
            }
            self.value(out)?;
        }
        Some(())
    }
    /// §4.1.7 BATCH, up to the last statement's values.
    fn batch(&mut self, out: &mut Vec<usize>) -> Option<()> {
        self.byte()?; // type
        for _ in 0..self.short()? {
            match self.byte()? {
                0 => self.long_string()?,
                1 => self.short_bytes()?,
                _ => return None,
            }
            for _ in 0..self.short()? {
                self.value(out)?;
            }
        }
        Some(())
    }
}

fn encode(message: Request) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    RequestFrame {
        stream: 1,
        tracing: false,
        custom_payload: None,
        message,
    }
    .encode(Compression::None, &mut out)?;
    Ok(out)
}

/// The requests of a session after its handshake, encoded by cql4's codec (what the driver
/// sends): OPTIONS, QUERY with paging / positional / named values, PREPARE, EXECUTE of
/// `select_id` (`SELECT v FROM cql4_fuzz.t WHERE k = ?`), BATCH mixing a query and `update_id`
/// (`UPDATE cql4_fuzz.t SET v = ? WHERE k = ?`: a batch takes no SELECT), REGISTER.
pub(crate) fn session_requests(select_id: Bytes, update_id: Bytes) -> Result<Vec<Template>, Error> {
    let one = Consistency::ONE;
    let mut paged = QueryParameters::new(one);
    paged.page_size = Some(2);
    paged.default_timestamp = Some(1_700_000_000_000_000);
    let mut bound = QueryParameters::new(one);
    bound.values = Some(QueryValues::Positional(vec![
        BoundValue::Bytes(Bytes::from_static(&[0, 0, 0, 7])),
        BoundValue::Bytes(Bytes::from_static(b"fuzz")),
    ]));
    let mut named = QueryParameters::new(one);
    named.values = Some(QueryValues::Named(vec![(
        "k".to_owned(),
        BoundValue::Bytes(Bytes::from_static(&[0, 0, 0, 1])),
    )]));
    let mut exec = QueryParameters::new(one);
    exec.values = Some(QueryValues::Positional(vec![BoundValue::Bytes(
        Bytes::from_static(&[0, 0, 0, 3]),
    )]));
    exec.skip_metadata = true;
    exec.serial_consistency = Some(Consistency::LOCAL_SERIAL);
    let insert = "INSERT INTO cql4_fuzz.t (k, v) VALUES (?, ?)";
    let list = vec![
        ("OPTIONS", Request::Options),
        (
            "QUERY system.local",
            Request::Query(Query {
                query: "SELECT release_version, cluster_name FROM system.local".to_owned(),
                params: paged,
            }),
        ),
        (
            "QUERY insert with values",
            Request::Query(Query {
                query: insert.to_owned(),
                params: bound,
            }),
        ),
        (
            "QUERY named values",
            Request::Query(Query {
                query: "SELECT v FROM cql4_fuzz.t WHERE k = :k".to_owned(),
                params: named,
            }),
        ),
        (
            "PREPARE",
            Request::Prepare(Prepare {
                query: "UPDATE cql4_fuzz.t SET v = ? WHERE k = ?".to_owned(),
            }),
        ),
        (
            "EXECUTE",
            Request::Execute(Execute {
                id: select_id,
                params: exec,
            }),
        ),
        (
            "BATCH",
            Request::Batch(Batch {
                batch_type: BatchType::UNLOGGED,
                statements: vec![
                    BatchStatement {
                        query: BatchQuery::Query(insert.to_owned()),
                        values: QueryValues::Positional(vec![
                            BoundValue::Bytes(Bytes::from_static(&[0, 0, 0, 9])),
                            BoundValue::Null,
                        ]),
                    },
                    BatchStatement {
                        query: BatchQuery::Prepared(update_id),
                        values: QueryValues::Positional(vec![
                            BoundValue::Bytes(Bytes::from_static(b"batch")),
                            BoundValue::Bytes(Bytes::from_static(&[0, 0, 0, 10])),
                        ]),
                    },
                ],
                consistency: one,
                serial_consistency: None,
                default_timestamp: Some(1),
            }),
        ),
        (
            "REGISTER",
            Request::Register(Register {
                event_types: vec![
                    "TOPOLOGY_CHANGE".to_owned(),
                    "STATUS_CHANGE".to_owned(),
                    "SCHEMA_CHANGE".to_owned(),
                ],
            }),
        ),
    ];
    list.into_iter()
        .map(|(name, message)| Ok(Template::new(name, encode(message)?)))
        .collect()
}

/// What an unauthenticated client may send (for `--stage before-startup|before-auth`):
/// OPTIONS, STARTUP (without and with LZ4), an AUTH_RESPONSE carrying a SASL PLAIN token of
/// made-up credentials, REGISTER, and a QUERY.
pub(crate) fn unauthenticated_requests() -> Result<Vec<Template>, Error> {
    let query = QueryParameters::new(Consistency::ONE);
    let list = vec![
        ("OPTIONS", Request::Options),
        ("STARTUP", Request::Startup(Startup::new(Compression::None))),
        (
            "STARTUP lz4",
            Request::Startup(Startup::new(Compression::Lz4)),
        ),
        (
            "AUTH_RESPONSE",
            Request::AuthResponse(AuthResponse {
                token: Some(Bytes::from_static(b"\0cql4-fuzz\0not-a-password")),
            }),
        ),
        (
            "REGISTER",
            Request::Register(Register {
                event_types: vec!["SCHEMA_CHANGE".to_owned()],
            }),
        ),
        (
            "QUERY system.local",
            Request::Query(Query {
                query: "SELECT release_version FROM system.local".to_owned(),
                params: query,
            }),
        ),
    ];
    list.into_iter()
        .map(|(name, message)| Ok(Template::new(name, encode(message)?)))
        .collect()
}

/// Captures templates from a real session: creates the keyspace `cql4_fuzz` and its table
/// through the driver, prepares a statement for a real id, then sends each of
/// [`session_requests`] once on a raw connection and keeps those the server answers without
/// an ERROR (the others are reported and left out).
pub(crate) async fn capture(config: &Config, deadline: Duration) -> Result<Vec<Template>, Error> {
    let setup = Client::connect(config).await?;
    let mut ddl = QueryOptions::new();
    ddl.timeout = Some(Duration::from_secs(60));
    setup
        .query(
            "CREATE KEYSPACE IF NOT EXISTS cql4_fuzz WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
            &ddl,
        )
        .await?;
    setup
        .query(
            "CREATE TABLE IF NOT EXISTS cql4_fuzz.t (k int PRIMARY KEY, v text)",
            (),
            &ddl,
        )
        .await?;
    let select = setup
        .prepare("SELECT v FROM cql4_fuzz.t WHERE k = ?")
        .await?;
    let update = setup
        .prepare("UPDATE cql4_fuzz.t SET v = ? WHERE k = ?")
        .await?;
    drop(setup);

    let mut raw = RawConnection::connect(config).await?;
    let mut kept = Vec::new();
    for t in session_requests(select.id(), update.id())? {
        match exchange(&mut raw, &t.frame, deadline, deadline).await {
            Observation::Answer { key, .. } if !key.starts_with("ERROR") => kept.push(t),
            other => eprintln!(
                "template {:?} left out: the server answered {}",
                t.name,
                other.key()
            ),
        }
    }
    raw.close().await;
    if kept.is_empty() {
        return Err("the server refused every template request".into());
    }
    Ok(kept)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_templates() -> Vec<Template> {
        session_requests(
            Bytes::from_static(b"0123456789abcdef"),
            Bytes::from_static(b"fedcba9876543210"),
        )
        .unwrap()
    }

    #[test]
    fn template_file_round_trips() {
        let templates = sample_templates();
        let text = format_templates(&templates);
        assert_eq!(parse_templates(&text).unwrap(), templates);
    }

    #[test]
    fn template_file_takes_names_with_spaces_comments_and_uppercase_hex() {
        let text = "# a comment\n\n  QUERY with a long name   040000010500000000\nB 04000002050000000161\n";
        let t = parse_templates(text).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].name, "QUERY with a long name");
        assert_eq!(t[0].frame, [4, 0, 0, 1, 5, 0, 0, 0, 0]);
        assert_eq!(t[1].frame.last(), Some(&0x61));
        let upper = parse_templates("X 0400000105000000016A").unwrap();
        assert_eq!(upper[0].frame.last(), Some(&0x6a));
    }

    #[test]
    fn template_file_errors_name_the_line() {
        for (text, needle) in [
            ("OPTIONS 04000001050000000", "line 1: odd number"),
            (
                "\nOPTIONS 0400000105000000zz",
                "line 2: 'z' is not a hex digit",
            ),
            ("040000010500000000", "line 1: expected a name"),
            ("OPTIONS 040000010500000001", "not one whole"),
            ("TWO 040000010500000000040000010500000000", "not one whole"),
            ("# only a comment", "no template"),
        ] {
            let e = parse_templates(text).unwrap_err();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn value_lengths_are_found_in_query_execute_and_batch() {
        let t = sample_templates();
        let counts: Vec<_> = t
            .iter()
            .map(|t| (t.name.as_str(), value_length_offsets(&t.frame).len()))
            .collect();
        assert_eq!(
            counts,
            [
                ("OPTIONS", 0),
                ("QUERY system.local", 0),
                ("QUERY insert with values", 2),
                ("QUERY named values", 1),
                ("PREPARE", 0),
                ("EXECUTE", 1),
                ("BATCH", 4),
                ("REGISTER", 0),
            ]
        );
        // Each offset holds the value's real length: 4 bytes for `k`, 4 for "fuzz".
        let insert = &t[2].frame;
        for at in value_length_offsets(insert) {
            assert_eq!(insert[at..at + 4], [0, 0, 0, 4]);
        }
        // The BATCH's null value is -1.
        let batch = &t[6].frame;
        let at = value_length_offsets(batch)[1];
        assert_eq!(batch[at..at + 4], [0xff; 4]);
        // An AUTH_RESPONSE's token is a [bytes] at the start of the body.
        let auth = unauthenticated_requests().unwrap();
        assert_eq!(auth[3].name, "AUTH_RESPONSE");
        assert_eq!(value_length_offsets(&auth[3].frame), [9]);
        // A truncated frame yields what fits, without panicking.
        for cut in 0..insert.len() {
            assert!(value_length_offsets(&insert[..cut]).len() <= 2);
        }
    }
}
