//! cqlsh's configuration file (`~/.cassandra/cqlshrc`, or `--cqlshrc FILE`): the sections and
//! keys cqlsh and Amazon Keyspaces' instructions use, read into [`Rc`] for `args` to merge
//! under the command line.
//!
//! The syntax is Python configparser's, as cqlsh reads it: `[section]` headers, `key = value`
//! or `key: value`, keys case-insensitive, whole-line `#` and `;` comments, indented lines
//! continuing the value above. A duplicate section or key, a key outside a section or a line
//! that is none of these is an error naming `file:line`. Unlike configparser, `%(name)s` is not
//! interpolated (values are taken as written). Keys that cqlsh knows but cql4 does not apply,
//! and unknown sections and keys, are warnings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::args::Password;
use crate::error::CliError;
use crate::format::cell::Precision;

/// One `key = value` and the line it is on. No `Debug`: a value may be a password.
#[derive(Clone)]
struct Entry {
    key: String,
    value: String,
    line: usize,
}

struct Section {
    name: String,
    line: usize,
    entries: Vec<Entry>,
}

/// The parsed file, before its keys are interpreted.
struct Ini {
    sections: Vec<Section>,
}

fn parse_ini(text: &str, path: &Path) -> Result<Ini, CliError> {
    let err =
        |line: usize, what: &str| CliError::Usage(format!("{}:{line}: {what}", path.display()));
    let mut sections: Vec<Section> = Vec::new();
    // True while the last non-blank line was a key: an indented line continues its value.
    let mut in_value = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            in_value = false;
            continue;
        }
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if indented && in_value {
            if let Some(entry) = sections.last_mut().and_then(|s| s.entries.last_mut()) {
                entry.value.push('\n');
                entry.value.push_str(trimmed);
            }
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                return Err(err(line, "a section header needs its closing ']'"));
            };
            let name = name.trim();
            if let Some(first) = sections.iter().find(|s| s.name == name) {
                return Err(err(
                    line,
                    &format!("section [{name}] already given on line {}", first.line),
                ));
            }
            sections.push(Section {
                name: name.to_owned(),
                line,
                entries: Vec::new(),
            });
            in_value = false;
            continue;
        }
        let Some(at) = trimmed.find(['=', ':']) else {
            return Err(err(
                line,
                "expected 'key = value', a [section] or a comment",
            ));
        };
        let key = trimmed[..at].trim().to_ascii_lowercase();
        let value = trimmed[at + 1..].trim().to_owned();
        if key.is_empty() {
            return Err(err(line, "a key is missing before '=' or ':'"));
        }
        let Some(section) = sections.last_mut() else {
            return Err(err(line, "a key before any [section] header"));
        };
        if let Some(first) = section.entries.iter().find(|e| e.key == key) {
            return Err(err(
                line,
                &format!(
                    "key '{key}' already given in [{}] on line {}",
                    section.name, first.line
                ),
            ));
        }
        section.entries.push(Entry { key, value, line });
        in_value = true;
    }
    Ok(Ini { sections })
}

/// The most significant digits `[ui] float_precision` may ask for (a double has 17).
const MAX_DIGITS: usize = 17;

/// The auth provider of `[auth_provider]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RcAuth {
    /// `cassandra_sigv4.auth` / `SigV4AuthProvider`, with its `region` if given.
    SigV4 {
        /// The `region` key.
        region: Option<String>,
    },
    /// `cassandra.auth` / `PlainTextAuthProvider`; its `username`/`password` keys, if given,
    /// are in [`Rc::username`] and [`Rc::password`].
    PlainText,
}

/// What the file says, each key `None` when absent.
#[derive(Debug, Default)]
pub(crate) struct Rc {
    /// The file read.
    pub(crate) path: PathBuf,
    pub(crate) hostname: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) ssl: Option<bool>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Password>,
    pub(crate) keyspace: Option<String>,
    /// `[ssl] certfile`, `~` expanded.
    pub(crate) certfile: Option<PathBuf>,
    /// `[certfiles]`: a CA file per host name.
    pub(crate) certfiles: Vec<(String, PathBuf)>,
    pub(crate) auth: Option<RcAuth>,
    /// `[ui] float_precision` and `double_precision`.
    pub(crate) precision: Precision,
    /// `[copy]`, `[copy-to]` and `[copy-from]`: COPY's defaults.
    pub(crate) copy: CopyDefaults,
    /// What to print on stderr: keys not applied, unknown sections and keys.
    pub(crate) warnings: Vec<String>,
}

/// COPY options from the cqlshrc as cqlsh applies them: `[copy]` for both directions, then
/// `[copy-to]` or `[copy-from]`, then the statement's `WITH` (each later one wins). Names
/// lowercase, values as written; COPY checks them as it checks its `WITH` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CopyDefaults {
    pub(crate) both: Vec<(String, String)>,
    pub(crate) to: Vec<(String, String)>,
    pub(crate) from: Vec<(String, String)>,
}

impl Rc {
    /// The CA file for `host`: `[certfiles] host`, else `[ssl] certfile`.
    pub(crate) fn certfile_for(&self, host: &str) -> Option<PathBuf> {
        self.certfiles
            .iter()
            .find(|(h, _)| h == host)
            .map(|(_, p)| p.clone())
            .or_else(|| self.certfile.clone())
    }
}

/// `~/…` expanded with `home`.
fn expand_home(value: &str, home: Option<&str>) -> PathBuf {
    match (value.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => Path::new(home).join(rest),
        _ => PathBuf::from(value),
    }
}

/// configparser's booleans.
fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Some(true),
        "0" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

fn seconds(value: &str) -> Option<Duration> {
    let secs: f64 = value.parse().ok()?;
    (secs > 0.0)
        .then(|| Duration::try_from_secs_f64(secs).ok())
        .flatten()
}

/// Reads the file: `explicit` (`--cqlshrc`, which must exist) or `~/.cassandra/cqlshrc` (which
/// may not). `home` is HOME.
pub(crate) fn load(explicit: Option<&Path>, home: Option<&str>) -> Result<Option<Rc>, CliError> {
    let path = match (explicit, home) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(home)) => Path::new(home).join(".cassandra").join("cqlshrc"),
        (None, None) => return Ok(None),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if explicit.is_none() && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None)
        }
        Err(source) => return Err(CliError::File { path, source }),
    };
    parse(&text, &path, home).map(Some)
}

/// Interprets `text`, the content of `path`.
pub(crate) fn parse(text: &str, path: &Path, home: Option<&str>) -> Result<Rc, CliError> {
    let ini = parse_ini(text, path)?;
    let mut rc = Rc {
        path: path.to_path_buf(),
        ..Rc::default()
    };
    let bad = |e: &Entry, section: &str, what: &str| {
        CliError::Usage(format!(
            "{}:{}: [{section}] {}: {what}",
            path.display(),
            e.line,
            e.key
        ))
    };
    let mut auth_module = None;
    let mut auth_class = None;
    for section in &ini.sections {
        let name = section.name.as_str();
        for e in &section.entries {
            let v = e.value.as_str();
            let mut ignored = |why: &str| {
                rc.warnings.push(format!(
                    "[{name}] {} is not supported ({why}); ignored",
                    e.key
                ));
            };
            match (name, e.key.as_str()) {
                ("connection", "hostname") => rc.hostname = Some(v.to_owned()),
                ("connection", "port") => {
                    rc.port = Some(
                        v.parse()
                            .map_err(|_| bad(e, name, "expected a port number"))?,
                    )
                }
                ("connection", "ssl") => {
                    rc.ssl = Some(boolean(v).ok_or_else(|| bad(e, name, "expected true or false"))?)
                }
                // cqlsh's name for the connect timeout is `timeout`.
                ("connection", "timeout" | "connect_timeout") => {
                    rc.connect_timeout = Some(
                        seconds(v)
                            .ok_or_else(|| bad(e, name, "expected a positive number of seconds"))?,
                    )
                }
                ("connection", "request_timeout") => {
                    rc.request_timeout = Some(
                        seconds(v)
                            .ok_or_else(|| bad(e, name, "expected a positive number of seconds"))?,
                    )
                }
                // cqlsh 5's TLS switch; `ssl = true` or --ssl turns TLS on here.
                ("connection", "factory") => {}
                ("authentication", "username") => rc.username = Some(v.to_owned()),
                ("authentication", "password") => rc.password = Some(Password::new(v)),
                ("authentication", "keyspace") => rc.keyspace = Some(v.to_owned()),
                ("authentication", "credentials") => {
                    ignored("put username and password in [authentication]")
                }
                ("ssl", "certfile") => rc.certfile = Some(expand_home(v, home)),
                ("ssl", "validate") => match boolean(v) {
                    Some(true) => {}
                    Some(false) => ignored("the server certificate is always verified"),
                    None => return Err(bad(e, name, "expected true or false")),
                },
                ("ssl", "userkey" | "usercert") => ignored("client certificates are not supported"),
                ("ssl", "version") => ignored("the TLS version is negotiated"),
                ("certfiles", host) => {
                    rc.certfiles.push((host.to_owned(), expand_home(v, home)));
                }
                ("auth_provider", "module") => auth_module = Some((v.to_owned(), e.clone())),
                ("auth_provider", "classname") => auth_class = Some((v.to_owned(), e.clone())),
                ("auth_provider", "region") => {
                    rc.auth.get_or_insert(RcAuth::SigV4 { region: None });
                    if let Some(RcAuth::SigV4 { region }) = &mut rc.auth {
                        *region = Some(v.to_owned());
                    }
                }
                ("auth_provider", "username") => rc.username = Some(v.to_owned()),
                ("auth_provider", "password") => rc.password = Some(Password::new(v)),
                ("cql", "version") if v.starts_with('3') => {}
                ("cql", "version") => ignored("cql4 speaks CQL 3 over protocol v4"),
                ("ui", "encoding")
                    if v.eq_ignore_ascii_case("utf8") || v.eq_ignore_ascii_case("utf-8") => {}
                ("ui", "color") if boolean(v) == Some(false) => {}
                ("ui", "float_precision" | "double_precision") => {
                    let digits = v
                        .parse::<usize>()
                        .ok()
                        .filter(|d| (1..=MAX_DIGITS).contains(d))
                        .ok_or_else(|| {
                            bad(
                                e,
                                name,
                                &format!("expected a number of digits, 1 to {MAX_DIGITS}"),
                            )
                        })?;
                    if e.key == "float_precision" {
                        rc.precision.float = Some(digits);
                    } else {
                        rc.precision.double = Some(digits);
                    }
                }
                (
                    "ui",
                    "datetimeformat" | "time_format" | "date_format" | "nanotime_format"
                    | "timezone" | "color" | "encoding" | "completekey" | "browser" | "tty",
                ) => ignored("cql4 prints values in one fixed format"),
                ("tracing", "max_trace_wait") => ignored("traces are awaited up to 10 s"),
                ("history", "disabled") => ignored("history is kept on a terminal"),
                ("protocol", "version") if v == "4" => {}
                ("protocol", "version") => ignored("cql4 speaks protocol v4 only"),
                ("copy" | "copy-to" | "copy-from", key) => {
                    let list = match name {
                        "copy" => &mut rc.copy.both,
                        "copy-to" => &mut rc.copy.to,
                        _ => &mut rc.copy.from,
                    };
                    list.push((key.to_owned(), v.to_owned()));
                }
                ("csv", _) => ignored("COPY bounds its records by itself"),
                (
                    "connection" | "authentication" | "ssl" | "auth_provider" | "cql" | "ui"
                    | "tracing" | "history" | "protocol",
                    key,
                ) => rc
                    .warnings
                    .push(format!("unknown key [{name}] {key}; ignored")),
                _ => {}
            }
        }
        let known = [
            "connection",
            "authentication",
            "ssl",
            "certfiles",
            "auth_provider",
            "cql",
            "ui",
            "tracing",
            "history",
            "protocol",
            "csv",
            "copy",
            "copy-to",
            "copy-from",
        ];
        if !known.contains(&name) {
            rc.warnings
                .push(format!("unknown section [{name}]; ignored"));
        }
    }
    match (auth_module, auth_class) {
        (None, None) => {}
        (Some((module, e)), Some((class, _))) => match (module.as_str(), class.as_str()) {
            ("cassandra_sigv4.auth", "SigV4AuthProvider") => {
                if !matches!(rc.auth, Some(RcAuth::SigV4 { .. })) {
                    rc.auth = Some(RcAuth::SigV4 { region: None });
                }
            }
            ("cassandra.auth", "PlainTextAuthProvider") => {
                if matches!(rc.auth, Some(RcAuth::SigV4 { .. })) {
                    return Err(bad(&e, "auth_provider", "region is a SigV4 key"));
                }
                rc.auth = Some(RcAuth::PlainText);
            }
            _ => {
                return Err(CliError::Usage(format!(
                    "{}:{}: [auth_provider] {module}.{class} is not supported (use \
                         cassandra_sigv4.auth.SigV4AuthProvider or \
                         cassandra.auth.PlainTextAuthProvider)",
                    path.display(),
                    e.line
                )))
            }
        },
        (Some((_, e)), None) | (None, Some((_, e))) => {
            return Err(bad(&e, "auth_provider", "module and classname go together"));
        }
    }
    if let (Some(RcAuth::SigV4 { .. }), Some(_)) = (&rc.auth, &rc.password) {
        // AWS's instructions keep [authentication] in the file next to SigV4; SigV4 wins.
        rc.warnings.push(
            "[authentication] username/password are not used with SigV4 ([auth_provider])".into(),
        );
        rc.username = None;
        rc.password = None;
    }
    Ok(rc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Rc, CliError> {
        parse(text, Path::new("/h/.cassandra/cqlshrc"), Some("/h"))
    }

    #[test]
    fn the_keyspaces_guide_file() {
        let rc = read(
            "; from the guide\n\
             [connection]\n\
             hostname = cassandra.us-east-1.amazonaws.com\n\
             port = 9142\n\
             ssl = true\n\
             factory = cqlshlib.ssl.ssl_transport_factory\n\
             \n\
             [ssl]\n\
             validate = true\n\
             certfile = ~/.cassandra/sf-class2-root.crt\n\
             \n\
             [auth_provider]\n\
             module = cassandra_sigv4.auth\n\
             classname = SigV4AuthProvider\n\
             region = us-east-1\n\
             [cql]\n\
             version = 3.4.4\n",
        )
        .unwrap();
        assert_eq!(
            rc.hostname.as_deref(),
            Some("cassandra.us-east-1.amazonaws.com")
        );
        assert_eq!(rc.port, Some(9142));
        assert_eq!(rc.ssl, Some(true));
        assert_eq!(
            rc.certfile_for("any"),
            Some(PathBuf::from("/h/.cassandra/sf-class2-root.crt"))
        );
        assert_eq!(
            rc.auth,
            Some(RcAuth::SigV4 {
                region: Some("us-east-1".into())
            })
        );
        assert!(rc.warnings.is_empty(), "{:?}", rc.warnings);
    }

    #[test]
    fn configparser_syntax() {
        let rc = read(
            "[Authentication]\nUserName: alice\n# c\npassword = a=b:c\n\
                     [authentication]\nkeyspace=ks\n\n[connection]\nrequest_timeout = 2.5\n\
                     timeout = 3\n[certfiles]\nh1 = /ca1.pem\n",
        )
        .unwrap();
        // Section names are case-sensitive as in configparser: [Authentication] is unknown.
        assert_eq!(rc.username, None);
        assert!(rc
            .warnings
            .contains(&"unknown section [Authentication]; ignored".to_owned()));
        assert_eq!(rc.keyspace.as_deref(), Some("ks"));
        assert_eq!(rc.request_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(rc.connect_timeout, Some(Duration::from_secs(3)));
        assert_eq!(rc.certfile_for("h1"), Some(PathBuf::from("/ca1.pem")));
        assert_eq!(rc.certfile_for("h2"), None);

        let rc2 = read("[authentication]\nUSERNAME : bob\npassword = p=1:2\n").unwrap();
        assert_eq!(rc2.username.as_deref(), Some("bob"));
        assert_eq!(rc2.password.unwrap().expose(), "p=1:2");
    }

    #[test]
    fn broken_files_name_file_and_line() {
        for (text, want) in [
            ("port = 1\n", "/h/.cassandra/cqlshrc:1: a key before any [section] header"),
            ("[connection\n", "/h/.cassandra/cqlshrc:1: a section header needs its closing ']'"),
            ("[ui]\n\njust words\n", "/h/.cassandra/cqlshrc:3: expected 'key = value', a [section] or a comment"),
            ("[ui]\n[ui]\n", "/h/.cassandra/cqlshrc:2: section [ui] already given on line 1"),
            ("[connection]\nport = 1\nPort = 2\n", "/h/.cassandra/cqlshrc:3: key 'port' already given in [connection] on line 2"),
            ("[connection]\nport = high\n", "/h/.cassandra/cqlshrc:2: [connection] port: expected a port number"),
            ("[connection]\nssl = maybe\n", "/h/.cassandra/cqlshrc:2: [connection] ssl: expected true or false"),
            ("[connection]\ntimeout = -1\n", "/h/.cassandra/cqlshrc:2: [connection] timeout: expected a positive number of seconds"),
            ("[auth_provider]\nmodule = my.auth\nclassname = Custom\n", "/h/.cassandra/cqlshrc:2: [auth_provider] my.auth.Custom is not supported (use cassandra_sigv4.auth.SigV4AuthProvider or cassandra.auth.PlainTextAuthProvider)"),
            ("[auth_provider]\nclassname = SigV4AuthProvider\n", "/h/.cassandra/cqlshrc:2: [auth_provider] classname: module and classname go together"),
        ] {
            let e = read(text).unwrap_err();
            assert!(matches!(e, CliError::Usage(_)), "{text}");
            assert_eq!(e.to_string(), want, "{text}");
        }
    }

    #[test]
    fn unsupported_and_unknown_keys_warn() {
        let rc = read(
            "[ssl]\nvalidate = false\nuserkey = k.pem\n[ui]\ntimezone = UTC\n\
                     color = false\n[connection]\nspeed = fast\n[mystery]\na = b\n\
                     [csv]\nfield_size_limit = 10\n",
        )
        .unwrap();
        assert_eq!(
            rc.warnings,
            [
                "[ssl] validate is not supported (the server certificate is always verified); ignored",
                "[ssl] userkey is not supported (client certificates are not supported); ignored",
                "[ui] timezone is not supported (cql4 prints values in one fixed format); ignored",
                "unknown key [connection] speed; ignored",
                "unknown section [mystery]; ignored",
                "[csv] field_size_limit is not supported (COPY bounds its records by itself); ignored",
            ]
        );
    }

    #[test]
    fn copy_sections_are_kept_for_copy() {
        let rc = read(
            "[copy]\nHeader = true\n[copy-to]\npagesize = 10\n[copy-from]\nchunksize = 5\n\
             header = false\n",
        )
        .unwrap();
        let pairs = |l: &[(&str, &str)]| -> Vec<(String, String)> {
            l.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            rc.copy,
            CopyDefaults {
                both: pairs(&[("header", "true")]),
                to: pairs(&[("pagesize", "10")]),
                from: pairs(&[("chunksize", "5"), ("header", "false")]),
            }
        );
        assert!(rc.warnings.is_empty(), "{:?}", rc.warnings);
    }

    #[test]
    fn float_and_double_precision() {
        let rc = read("[ui]\nfloat_precision = 5\ndouble_precision = 12\n").unwrap();
        assert_eq!(
            rc.precision,
            Precision {
                float: Some(5),
                double: Some(12)
            }
        );
        for bad in ["0", "18", "-1", "five"] {
            let e = read(&format!("[ui]\nfloat_precision = {bad}\n")).unwrap_err();
            assert_eq!(
                e.to_string(),
                "/h/.cassandra/cqlshrc:2: [ui] float_precision: expected a number of digits, 1 to 17",
                "{bad}"
            );
        }
    }

    #[test]
    fn plain_text_provider_and_continuation_lines() {
        let rc = read(
            "[auth_provider]\nmodule = cassandra.auth\nclassname = PlainTextAuthProvider\n\
                     username = u1\npassword = first\n  second\n",
        )
        .unwrap();
        assert_eq!(rc.auth, Some(RcAuth::PlainText));
        let debug = format!("{rc:?}");
        assert!(debug.contains("u1") && !debug.contains("first"), "{debug}");
        assert_eq!(rc.username.as_deref(), Some("u1"));
        assert_eq!(rc.password.unwrap().expose(), "first\nsecond");
    }

    #[test]
    fn missing_default_file_is_no_file_but_a_missing_given_file_is_an_error() {
        assert!(load(None, Some("/no/such/home")).unwrap().is_none());
        assert!(load(None, None).unwrap().is_none());
        let e = load(Some(Path::new("/no/such/cqlshrc")), None).unwrap_err();
        assert!(matches!(e, CliError::File { .. }), "{e:?}");
    }
}
