//! Findings and their replayable file.
//!
//! # Finding file format
//!
//! UTF-8 text, one `key: value` per line (values on one line; line breaks in observed
//! messages are written as ` | `); lines starting with `#` are comments. Written as
//! `<kind>-<iteration>.txt` in the run's directory; `--replay FILE` reads it back.
//!
//! | key | value |
//! | --- | --- |
//! | `kind` | `hang`, `crash`, `undecodable`, `leak`, `server-error` or `oversized-length-waits` |
//! | `signature` | what must be observed again for the finding to reproduce |
//! | `seed`, `iteration` | where the run drew the frame (`--seed S --only-iteration I` redraws it) |
//! | `stage` | `logged-in`, `before-startup` or `before-auth`: where the frame was sent (default `logged-in`) |
//! | `template`, `mutations` | the template's name and the edits that remain after minimization |
//! | `observed` | what the server did |
//! | `minimized` | what minimization did (attempts, bytes before and after) |
//! | `frame` | the frame to send, in hex (for a crash: the prime suspect) |
//! | `original` | the frame before minimization, in hex (absent when unchanged) |
//! | `candidate` | crashes only, repeated: `<iteration> <hex>`, the last frames sent, oldest first |
//!
//! `kind`, `seed`, `iteration` and `frame` are required; other keys default to empty, and
//! unknown keys are ignored.

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::args::Stage;
use super::mutations::hex;
use super::templates::unhex;
use super::text_file::read_text;

/// What kind of misbehaviour a finding is (see [`super::oracle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// Whole frames sent, no answer and no close within the deadline.
    Hang,
    /// The server stopped accepting logins.
    Crash,
    /// An answer cql4's codec cannot decode.
    Undecodable,
    /// An error message showing the server's internals.
    Leak,
    /// A SERVER_ERROR that leaks nothing.
    ServerError,
    /// Silence after a header declaring more than 256 MiB.
    OversizedWait,
}

impl Kind {
    /// The name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hang => "hang",
            Self::Crash => "crash",
            Self::Undecodable => "undecodable",
            Self::Leak => "leak",
            Self::ServerError => "server-error",
            Self::OversizedWait => "oversized-length-waits",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            Self::Hang,
            Self::Crash,
            Self::Undecodable,
            Self::Leak,
            Self::ServerError,
            Self::OversizedWait,
        ]
        .into_iter()
        .find(|k| k.name() == s)
        .ok_or_else(|| format!("unknown finding kind {s:?}"))
    }
}

/// One finding, as its file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// What kind of misbehaviour.
    pub kind: Kind,
    /// What must be observed again for it to reproduce.
    pub signature: String,
    /// The run's seed.
    pub seed: u64,
    /// The iteration that drew the frame.
    pub iteration: u64,
    /// Where on a connection the frame was sent; `--replay` sends it there again.
    pub stage: Stage,
    /// The template's name.
    pub template: String,
    /// The edits applied to the template (after minimization).
    pub mutations: String,
    /// What the server did.
    pub observed: String,
    /// What minimization did.
    pub minimized: String,
    /// The frame to send again.
    pub frame: Vec<u8>,
    /// The frame as first sent, when minimization changed it.
    pub original: Option<Vec<u8>>,
    /// Crashes: the last frames sent before the server stopped, oldest first, with their
    /// iterations.
    pub candidates: Vec<(u64, Vec<u8>)>,
}

impl Finding {
    /// A finding with empty optional fields.
    pub fn new(kind: Kind, seed: u64, iteration: u64, frame: Vec<u8>) -> Self {
        Self {
            kind,
            signature: String::new(),
            seed,
            iteration,
            stage: Stage::LoggedIn,
            template: String::new(),
            mutations: String::new(),
            observed: String::new(),
            minimized: String::new(),
            frame,
            original: None,
            candidates: Vec::new(),
        }
    }

    /// The file's text (format in the [module documentation](self)).
    pub fn to_text(&self) -> String {
        let one_line = |s: &str| s.replace("\r\n", " | ").replace(['\n', '\r'], " | ");
        let mut s = String::from(
            "# cql4-fuzz-server finding; send it again with: cql4-fuzz-server --replay <this file> \
             (plus the connection flags)\n",
        );
        let _ = writeln!(s, "kind: {}", self.kind);
        let _ = writeln!(s, "signature: {}", one_line(&self.signature));
        let _ = writeln!(s, "seed: {}", self.seed);
        let _ = writeln!(s, "iteration: {}", self.iteration);
        let _ = writeln!(s, "stage: {}", self.stage.name());
        let _ = writeln!(s, "template: {}", one_line(&self.template));
        let _ = writeln!(s, "mutations: {}", one_line(&self.mutations));
        let _ = writeln!(s, "observed: {}", one_line(&self.observed));
        let _ = writeln!(s, "minimized: {}", one_line(&self.minimized));
        let _ = writeln!(s, "frame: {}", hex(&self.frame));
        if let Some(original) = &self.original {
            let _ = writeln!(s, "original: {}", hex(original));
        }
        for (iteration, frame) in &self.candidates {
            let _ = writeln!(s, "candidate: {iteration} {}", hex(frame));
        }
        s
    }

    /// Parses a finding file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut f = Self::new(Kind::Hang, 0, 0, Vec::new());
        let (mut kind, mut seed, mut iteration, mut frame) = (None, None, None, None);
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |what: String| format!("line {}: {what}", n + 1);
            let Some((key, value)) = line.split_once(':') else {
                return Err(at("expected `key: value`".to_owned()));
            };
            let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
            let number = |v: &str| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|e| at(format!("{key}: {e}")))
            };
            match key.trim() {
                "kind" => kind = Some(value.trim().parse::<Kind>().map_err(at)?),
                "signature" => f.signature = value,
                "seed" => seed = Some(number(&value)?),
                "iteration" => iteration = Some(number(&value)?),
                "stage" => f.stage = value.trim().parse::<Stage>().map_err(at)?,
                "template" => f.template = value,
                "mutations" => f.mutations = value,
                "observed" => f.observed = value,
                "minimized" => f.minimized = value,
                "frame" => frame = Some(unhex(&value).map_err(at)?),
                "original" => f.original = Some(unhex(&value).map_err(at)?),
                "candidate" => {
                    let (i, h) = value
                        .trim()
                        .split_once(' ')
                        .ok_or_else(|| at("candidate: expected `<iteration> <hex>`".to_owned()))?;
                    f.candidates.push((number(i)?, unhex(h).map_err(at)?));
                }
                _ => {}
            }
        }
        let missing = |k: &str| format!("no `{k}:` line");
        f.kind = kind.ok_or_else(|| missing("kind"))?;
        f.seed = seed.ok_or_else(|| missing("seed"))?;
        f.iteration = iteration.ok_or_else(|| missing("iteration"))?;
        f.frame = frame.ok_or_else(|| missing("frame"))?;
        Ok(f)
    }

    /// Reads and parses a finding file.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = read_text(path)?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes the finding as `<kind>-<iteration>.txt` in `dir`; returns the path.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let path = dir.join(format!("{}-{:08}.txt", self.kind, self.iteration));
        std::fs::write(&path, self.to_text())?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Finding {
        let mut f = Finding::new(
            Kind::Crash,
            2026,
            3998,
            vec![4, 0, 0, 1, 7, 0, 0, 0, 1, 0xff],
        );
        f.signature = "logins refused".to_owned();
        f.template = "QUERY insert with values".to_owned();
        f.mutations = "value#1 length=0x7fffffff; length fixed".to_owned();
        f.observed = "close: I/O ConnectionReset\nthen 5 logins refused: key: value".to_owned();
        f.minimized = "not minimized: the server is down".to_owned();
        f.stage = Stage::BeforeAuth;
        f.original = Some(vec![4, 0]);
        f.candidates = vec![(3997, vec![4, 0, 0, 1, 5, 0, 0, 0, 0]), (3998, vec![1])];
        f
    }

    #[test]
    fn finding_file_round_trips() {
        let f = sample();
        let back = Finding::parse(&f.to_text()).unwrap();
        let mut expected = f.clone();
        expected.observed =
            "close: I/O ConnectionReset | then 5 logins refused: key: value".to_owned();
        assert_eq!(back, expected);
        // The minimal file: only the required keys.
        let minimal = Finding::new(Kind::Undecodable, 1, 2, vec![0xab]);
        assert_eq!(Finding::parse(&minimal.to_text()).unwrap(), minimal);
        for kind in [
            "hang",
            "crash",
            "undecodable",
            "leak",
            "server-error",
            "oversized-length-waits",
        ] {
            assert_eq!(kind.parse::<Kind>().unwrap().name(), kind);
        }
    }

    #[test]
    fn finding_file_errors_say_what_is_wrong() {
        let text = sample().to_text();
        for (from, to, needle) in [
            ("kind: crash", "kind: meltdown", "unknown finding kind"),
            ("seed: 2026", "seed: two", "seed:"),
            ("frame: 04", "frame: 4", "odd number"),
            ("candidate: 3997 ", "candidate: x ", "candidate"),
            ("iteration: 3998\n", "", "no `iteration:` line"),
            ("kind: crash\n", "kind crash\n", "expected `key: value`"),
            ("stage: before-auth", "stage: later", "unknown stage"),
        ] {
            let e = Finding::parse(&text.replacen(from, to, 1)).unwrap_err();
            assert!(e.contains(needle), "{from} -> {to}: {e}");
        }
    }
}
