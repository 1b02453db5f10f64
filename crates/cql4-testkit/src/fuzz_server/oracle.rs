//! What the server did with one request, and whether that is a finding.
//!
//! Per request: an answer (histogram key: opcode and error code), a close, silence after
//! bytes that are not whole frames (expected: the server waits for the rest of a body), or a
//! hang. Findings, in order of precedence:
//!
//! - **hang**: whole frames were sent and nothing came back, neither answer nor close, within
//!   the deadline;
//! - **undecodable**: an answer cql4's codec cannot decode, or server bytes that cannot even
//!   be framed (an answer in another protocol version counts only when the request was v4);
//! - **leak**: an ERROR message showing the server's internals ([`leaks`]);
//! - **server-error**: any other SERVER_ERROR (0x0000: an unexpected exception inside the
//!   server), one per message shape;
//! - **oversized-length-waits**: silence after a v4 header declaring more than 256 MiB (the
//!   server should refuse it from the header).
//!
//! Crashes are found by the campaign, not here: logins failing in a row.

use std::time::{Duration, Instant};

use cql4_frame::compression::Compression;
use cql4_frame::framing::RawFrame;
use cql4_frame::response::{Response, ResponseFrame};
use cql4_frame::{DecodeErrorKind, DecodeLimits};

use super::findings::Kind;
use super::mutations::SANE_FRAME_LIMIT;
use crate::raw::{Framing, RawClose, RawConnection, Reaction};

/// What happened to one request.
#[derive(Debug, Clone)]
pub(crate) enum Observation {
    Answer {
        key: String,
        /// Why cql4's codec could not decode it.
        undecodable: Option<String>,
        /// An ERROR's code and message.
        error: Option<(i32, String)>,
    },
    Closed {
        key: String,
        /// The server's bytes could not be framed, and that was not expected.
        undecodable: Option<String>,
        /// The socket failed or the server closed without answering: what a dying server
        /// looks like from the connection that killed it.
        abrupt: bool,
    },
    /// Bytes that were not whole frames, then silence.
    SilentPartial,
    /// Whole frames, then silence.
    Hang(Duration),
    SendFailed(String),
}

impl Observation {
    /// The histogram key.
    pub(crate) fn key(&self) -> String {
        match self {
            Self::Answer { key, .. } | Self::Closed { key, .. } => key.clone(),
            Self::SilentPartial => "silent after bytes that are not whole frames".to_owned(),
            Self::Hang(_) => "HANG (no answer, no close)".to_owned(),
            Self::SendFailed(e) => format!("send failed: {e}"),
        }
    }

    /// No answer came back and the connection is gone.
    pub(crate) fn lost_connection(&self) -> bool {
        matches!(
            self,
            Self::Closed { abrupt: true, .. } | Self::SendFailed(_)
        )
    }
}

/// Sends `frame` and waits for its answer: `deadline` when it is whole frames, `unknown_wait`
/// otherwise. Events pushed on stream -1 are skipped.
pub(crate) async fn exchange(
    raw: &mut RawConnection,
    frame: &[u8],
    deadline: Duration,
    unknown_wait: Duration,
) -> Observation {
    let stream = frame
        .get(2..4)
        .map_or(0, |s| i16::from_be_bytes([s[0], s[1]]));
    let framing = match raw.send(frame).await {
        Ok(f) => f,
        Err(e) => return Observation::SendFailed(e.to_string()),
    };
    let wait = match framing {
        Framing::Unknown => unknown_wait,
        _ => deadline,
    };
    let started = Instant::now();
    loop {
        let left = wait.saturating_sub(started.elapsed());
        match raw.recv_within(left).await {
            Reaction::Frame(f) if f.header.stream == -1 && stream != -1 => continue,
            Reaction::Frame(f) => {
                let on_stream = f.header.stream;
                let (mut key, undecodable, error) = decode_answer(f);
                if on_stream != stream {
                    key.push_str(" (on another stream)");
                }
                return Observation::Answer {
                    key,
                    undecodable,
                    error,
                };
            }
            Reaction::Closed(r) => return closed(&r, frame),
            Reaction::Silent { waited } if framing != Framing::Unknown => {
                return Observation::Hang(waited)
            }
            _ => return Observation::SilentPartial,
        }
    }
}

fn closed(reason: &RawClose, frame: &[u8]) -> Observation {
    let (key, undecodable, abrupt) = match reason {
        RawClose::EndOfStream => ("close: end of stream".to_owned(), None, true),
        RawClose::Io(e) => (format!("close: I/O {:?}", e.kind()), None, true),
        RawClose::Decode(e) => {
            // A server answers a request of another version in that version (§2.1: or in
            // its own): expected unless the request was v4.
            let expected = matches!(e.kind(), DecodeErrorKind::UnsupportedVersion(_))
                && frame.first() != Some(&0x04);
            let key = match e.kind() {
                DecodeErrorKind::UnsupportedVersion(v) => {
                    format!("answer in another protocol version ({v:#04x})")
                }
                _ => "close: server frame cannot be framed".to_owned(),
            };
            (key, (!expected).then(|| e.to_string()), false)
        }
        RawClose::FramingUnknown => ("close: framing unknown".to_owned(), None, false),
        RawClose::WriteTimeout(_) => ("close: write timeout".to_owned(), None, true),
        other => (format!("close: {other}"), None, false),
    };
    Observation::Closed {
        key,
        undecodable,
        abrupt,
    }
}

/// The histogram key of an answer, why cql4's codec could not decode it, and an ERROR's code
/// and message.
fn decode_answer(frame: RawFrame) -> (String, Option<String>, Option<(i32, String)>) {
    let opname = frame
        .header
        .opcode
        .name()
        .unwrap_or("unknown opcode")
        .to_owned();
    match ResponseFrame::decode(frame, Compression::None, &DecodeLimits::default()) {
        Ok(r) => match r.message {
            Response::Error(e) => (
                format!(
                    "ERROR {:#06x} {}",
                    e.code.0,
                    e.code.name().unwrap_or("unknown code")
                ),
                None,
                Some((e.code.0, e.message)),
            ),
            _ => (opname, None, None),
        },
        Err(e) => (format!("{opname} (undecodable)"), Some(e.to_string()), None),
    }
}

/// A finding made by [`judge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Detection {
    pub(crate) kind: Kind,
    /// What must be seen again for the finding to reproduce (and what deduplicates it).
    pub(crate) signature: String,
    /// What was observed, for the finding file.
    pub(crate) observed: String,
}

/// Whether an observation of `frame` is a finding (see the module documentation).
pub(crate) fn judge(frame: &[u8], observation: &Observation) -> Option<Detection> {
    let found = |kind, signature: String, observed: String| {
        Some(Detection {
            kind,
            signature,
            observed,
        })
    };
    match observation {
        Observation::Hang(waited) => found(
            Kind::Hang,
            format!("opcode {:#04x}", frame.get(4).copied().unwrap_or(0)),
            format!(
                "whole frame(s) sent; no answer and no close within {} ms",
                waited.as_millis()
            ),
        ),
        Observation::Answer {
            key,
            undecodable: Some(why),
            ..
        }
        | Observation::Closed {
            key,
            undecodable: Some(why),
            ..
        } => found(Kind::Undecodable, shape(why), format!("{key}: {why}")),
        Observation::Answer {
            key,
            error: Some((code, message)),
            ..
        } => {
            let leaked = leaks(message);
            let observed = format!("{key}: {}", clip(message, OBSERVED_MAX));
            if !leaked.is_empty() {
                found(Kind::Leak, leaked.join(", "), observed)
            } else if *code == 0 {
                found(Kind::ServerError, shape(message), observed)
            } else {
                None
            }
        }
        Observation::SilentPartial => {
            let declared = frame
                .get(5..9)
                .map_or(0, |l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]));
            (declared > SANE_FRAME_LIMIT && frame.first() == Some(&0x04)).then(|| Detection {
                kind: Kind::OversizedWait,
                signature: "header length over 256 MiB".to_owned(),
                observed: format!(
                    "the server waited for a {declared}-byte body instead of refusing the header"
                ),
            })
        }
        _ => None,
    }
}

/// How much of a server's message a finding file keeps: enough for a stack trace's top, not a
/// whole 256 MiB frame per finding.
const OBSERVED_MAX: usize = 4096;

/// `message` cut to at most `max` bytes (on a character boundary), saying how much was cut.
fn clip(message: &str, max: usize) -> String {
    if message.len() <= max {
        return message.to_owned();
    }
    let mut end = max;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &message[..end], message.len() - end)
}

/// The message with digit runs folded to `#`, each run of line breaks written as ` | ` (as
/// the finding file writes them: a signature must read back from it unchanged to reproduce),
/// and cut at 120 characters, so that offsets and sizes do not make every message new.
pub(crate) fn shape(message: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        if count >= 120 {
            break;
        }
        let piece = if is_line_break(c) {
            while chars.next_if(|&c| is_line_break(c)).is_some() {}
            " | "
        } else if c.is_ascii_digit() {
            if out.ends_with('#') {
                continue;
            }
            "#"
        } else {
            out.push(c);
            count += 1;
            continue;
        };
        out.push_str(piece);
        count += piece.chars().count();
    }
    out
}

/// What `str::lines` or a reader of the finding file may take for the end of a line.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Package prefixes of the server's and its libraries' classes.
const PACKAGES: [&str; 9] = [
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "io.netty.",
    "org.apache.",
    "com.datastax.",
    "com.google.",
    "org.slf4j.",
];
/// Roots of absolute paths on the server's machine.
const PATH_ROOTS: [&str; 9] = [
    "/home/", "/opt/", "/usr/", "/var/", "/tmp/", "/etc/", "/root/", "/srv/", "/Users/",
];

/// What an error message shows of the server's internals, one `pattern: snippet` per distinct
/// match, sorted (digits in snippets folded to `#`). The patterns:
///
/// - `java-class`: a dotted name under `java.`, `javax.`, `jdk.`, `sun.`, `io.netty.`,
///   `org.apache.`, `com.datastax.`, `com.google.` or `org.slf4j.`
///   (`java.lang.NullPointerException`);
/// - `exception`: a CamelCase word ending in `Exception` or `Error` (`DecoderException`);
/// - `stack-frame`: `at ` followed by such a dotted name, or a `File.java:123` location;
/// - `file-path`: an absolute path under `/home/`, `/opt/`, `/usr/`, `/var/`, `/tmp/`, `/etc/`,
///   `/root/`, `/srv/` or `/Users/`, or `C:\…`;
/// - `netty-buffer`: Netty buffer internals (`…ByteBuf`, `readerIndex(…)`, `ridx:`).
pub fn leaks(message: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut previous = "";
    for raw in message.split(|c: char| c.is_whitespace() || "()[]{},;'\"<>=".contains(c)) {
        let t = raw.trim_end_matches([':', '.']);
        if t.is_empty() {
            continue;
        }
        let dotted = PACKAGES.iter().any(|p| t.starts_with(p)) && t.matches('.').count() >= 2;
        if dotted {
            if previous == "at" {
                out.push(format!("stack-frame: at {}", shape(t)));
            } else {
                out.push(format!("java-class: {}", shape(t)));
            }
        } else {
            let last = t.rsplit('.').next().unwrap_or(t);
            let camel = last.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && last.chars().skip(1).any(|c| c.is_ascii_uppercase())
                && last.chars().all(|c| c.is_ascii_alphanumeric() || c == '$');
            if camel && (last.ends_with("Exception") || last.ends_with("Error")) {
                out.push(format!("exception: {last}"));
            }
        }
        if t.contains(".java:") || t.ends_with(".java") {
            out.push(format!("stack-frame: {}", shape(t)));
        }
        let windows =
            t.as_bytes().get(1..3) == Some(b":\\") && t.as_bytes()[0].is_ascii_alphabetic();
        if PATH_ROOTS.iter().any(|r| t.starts_with(r)) || windows {
            out.push(format!("file-path: {}", shape(t)));
        }
        if t.contains("ByteBuf")
            || t.starts_with("readerIndex")
            || t.starts_with("writerIndex")
            || t == "ridx"
        {
            out.push("netty-buffer: ByteBuf internals".to_owned());
        }
        previous = raw;
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaks_name_exceptions_stack_frames_paths_and_buffers() {
        let netty = "java.lang.IndexOutOfBoundsException: readerIndex(23) + length(873300) \
                     exceeds writerIndex(49): UnpooledSlicedByteBuf(ridx: 23, widx: 49)";
        assert_eq!(
            leaks(netty),
            [
                "java-class: java.lang.IndexOutOfBoundsException",
                "netty-buffer: ByteBuf internals",
            ]
        );
        let decoder = "DecoderException: java.lang.ArrayIndexOutOfBoundsException: Index -63 \
                       out of bounds for length 17";
        assert_eq!(
            leaks(decoder),
            [
                "exception: DecoderException",
                "java-class: java.lang.ArrayIndexOutOfBoundsException",
            ]
        );
        let trace =
            "boom\n\tat org.apache.cassandra.transport.Message$Request.execute(Message.java:255)";
        assert_eq!(
            leaks(trace),
            [
                "stack-frame: Message.java:#",
                "stack-frame: at org.apache.cassandra.transport.Message$Request.execute",
            ]
        );
        assert_eq!(
            leaks("cannot open /var/lib/cassandra/data/x-1/nb-12-big-Data.db"),
            ["file-path: /var/lib/cassandra/data/x-#/nb-#-big-Data.db"]
        );
        assert_eq!(
            leaks(r"at C:\cassandra\conf"),
            [r"file-path: C:\cassandra\conf"]
        );
    }

    #[test]
    fn ordinary_cassandra_errors_leak_nothing() {
        for message in [
            "Invalid or unsupported protocol version (3); supported versions are (3/v3, 4/v4, 5/v5, 6/v6-beta)",
            "line 1:0 no viable alternative at input 'SELEC' ([SELEC]...)",
            "Undefined column name x in table cql4_fuzz.t",
            "Unexpected message QUERY, expecting STARTUP or OPTIONS",
            "Provided username cassandra and/or password are incorrect",
            "Error decoding message: Invalid consistency level",
            "Prepared query with ID 0a0b not found (either the query was not prepared on this host (maybe the host has been restarted?) or you have prepared too many queries and it has been evicted from the internal cache)",
        ] {
            assert_eq!(leaks(message), Vec::<String>::new(), "{message}");
        }
    }

    #[test]
    fn shapes_are_one_line_and_observed_messages_are_clipped() {
        assert_eq!(shape("a\r\nb 12\n\nc\u{2028}d"), "a | b # | c | d");
        assert!(shape(&"x\n".repeat(500)).chars().count() <= 122);
        let huge = format!("boom {}", "é".repeat(1 << 20));
        let d = judge(
            &[4, 0, 0, 1, 7, 0, 0, 0, 0],
            &Observation::Answer {
                key: "ERROR".to_owned(),
                undecodable: None,
                error: Some((0, huge)),
            },
        )
        .unwrap();
        assert!(
            d.observed.len() < OBSERVED_MAX + 100,
            "{}",
            d.observed.len()
        );
        assert!(d.observed.ends_with("more bytes)"), "{}", d.observed.len());
        assert_eq!(clip("short", 4), "shor… (1 more bytes)");
        assert_eq!(clip("é", 1), "… (2 more bytes)");
    }

    #[test]
    fn judge_ranks_and_signs_findings() {
        let query = [4, 0, 0, 1, 7, 0, 0, 0, 0];
        let hang = judge(&query, &Observation::Hang(Duration::from_millis(5000))).unwrap();
        assert_eq!(
            (hang.kind, hang.signature.as_str()),
            (Kind::Hang, "opcode 0x07")
        );
        let undecodable = Observation::Answer {
            key: "RESULT (undecodable)".to_owned(),
            undecodable: Some("truncated at 3".to_owned()),
            error: Some((0, "java.lang.Foo.Bar".to_owned())),
        };
        assert_eq!(judge(&query, &undecodable).unwrap().kind, Kind::Undecodable);
        let server_error = |m: &str| Observation::Answer {
            key: "ERROR".to_owned(),
            undecodable: None,
            error: Some((0, m.to_owned())),
        };
        assert_eq!(
            judge(&query, &server_error("java.lang.Oops thrown"))
                .unwrap()
                .kind,
            Kind::Leak
        );
        let plain = judge(&query, &server_error("bad 123 and 45")).unwrap();
        assert_eq!(
            (plain.kind, plain.signature.as_str()),
            (Kind::ServerError, "bad # and #")
        );
        let syntax = Observation::Answer {
            key: "ERROR".to_owned(),
            undecodable: None,
            error: Some((0x2000, "line 1:0 no viable alternative".to_owned())),
        };
        assert_eq!(judge(&query, &syntax), None);
        let mut huge = query;
        huge[5..9].copy_from_slice(&(SANE_FRAME_LIMIT + 1).to_be_bytes());
        assert_eq!(
            judge(&huge, &Observation::SilentPartial).unwrap().kind,
            Kind::OversizedWait
        );
        assert_eq!(judge(&query, &Observation::SilentPartial), None);
    }
}
