//! `credential_process`: run a command, read AWS credentials as JSON from its stdout.
//!
//! Output format (AWS SDKs and Tools reference, "Sourcing credentials with an external
//! process"): `{"Version": 1, "AccessKeyId": …, "SecretAccessKey": …, "SessionToken": …,
//! "Expiration": "<RFC 3339>"}`, the last two optional.
//!
//! The command runs through the platform shell (`sh -c` / `cmd /C`, as the SDKs do) with
//! `std::process`, blocking the calling thread until it exits: this crate assumes no runtime.
//! A failure reports the exit status and the first line of stderr; the command line itself is
//! not repeated (it may carry a secret argument), nor is any stdout content.

use std::io::{self, Read};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::Credentials;
use crate::error::{echo, CredentialSource, CredentialsError, CredentialsErrorKind};
use crate::secret::SecretString;
use crate::time_fmt::parse_rfc3339;

/// Output beyond this size is rejected rather than parsed.
const MAX_OUTPUT: usize = 64 * 1024;

/// Field names of a JSON credentials document.
pub(crate) struct JsonNames {
    pub(crate) token: &'static str,
    /// Whether `"Version": 1` is required (credential_process only).
    pub(crate) version: bool,
}

/// `credential_process` field names.
pub(crate) const PROCESS_JSON: JsonNames = JsonNames {
    token: "SessionToken",
    version: true,
};

/// Container and instance-metadata field names.
pub(crate) const ENDPOINT_JSON: JsonNames = JsonNames {
    token: "Token",
    version: false,
};

fn take_string(map: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        // The value is not echoed: it may be a secret of the wrong type.
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

/// Parses a JSON credentials document without ever echoing a value.
pub(crate) fn credentials_from_json(body: &[u8], names: &JsonNames) -> Result<Credentials, String> {
    if body.len() > MAX_OUTPUT {
        return Err(format!(
            "{} bytes of output (limit {MAX_OUTPUT})",
            body.len()
        ));
    }
    // serde_json's syntax errors give line and column only, never input text.
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not valid JSON ({e})"))?;
    let Value::Object(mut map) = value else {
        return Err("not a JSON object".to_owned());
    };
    if names.version {
        match map.get("Version") {
            Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
            Some(Value::Number(n)) => {
                return Err(format!("unsupported `Version` {n}, expected 1"));
            }
            Some(_) => return Err("`Version` is not a number".to_owned()),
            None => return Err("missing `Version`".to_owned()),
        }
    }
    let key_id = take_string(&mut map, "AccessKeyId")?
        .filter(|s| !s.is_empty())
        .ok_or("missing `AccessKeyId`")?;
    let secret = take_string(&mut map, "SecretAccessKey")?
        .filter(|s| !s.is_empty())
        .map(SecretString::new)
        .ok_or("missing `SecretAccessKey`")?;
    let token = take_string(&mut map, names.token)?.map(SecretString::new);
    let expiry =
        match take_string(&mut map, "Expiration")? {
            None => None,
            Some(s) => Some(parse_rfc3339(&s).ok_or_else(|| {
                format!("`Expiration` is not an RFC 3339 timestamp: {}", echo(&s))
            })?),
        };
    Ok(Credentials::new(key_id, secret, token, expiry))
}

/// How long `credential_process` may run by default before it is killed.
pub const DEFAULT_PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads a pipe to its end on a thread, keeping at most `keep` bytes (the rest is drained so
/// the child never blocks on a full pipe).
fn drain<R: Read + Send + 'static>(pipe: Option<R>, keep: usize) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = (&mut pipe).take(keep as u64).read_to_end(&mut kept);
            let _ = io::copy(&mut pipe, &mut io::sink());
        }
        kept
    })
}

/// Runs `command` for `profile` and parses its output. Blocks until the process exits, or kills
/// it after `timeout` (a hung helper must not hang the connection).
pub fn run_credential_process(
    command: &str,
    profile: &str,
    timeout: Duration,
) -> Result<Credentials, CredentialsError> {
    let source = CredentialSource::Process(profile.to_owned());
    let failed = |status: String, stderr: &[u8]| {
        let stderr = String::from_utf8_lossy(stderr);
        let first = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        CredentialsError::new(
            source.clone(),
            CredentialsErrorKind::ProcessFailed {
                status,
                stderr_first_line: echo(first),
            },
        )
    };
    let mut cmd = if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command);
        c
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("could not start the shell: {}", e.kind()), b""))?;
    let stdout = drain(child.stdout.take(), MAX_OUTPUT + 1);
    let stderr = drain(child.stderr.take(), MAX_OUTPUT);
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                // The reader threads end when the pipes close; they are not joined, since a
                // grandchild may still hold a pipe open.
                return Err(failed(
                    format!("killed after the {} s timeout", timeout.as_secs_f64()),
                    b"",
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(failed(format!("cannot wait for it: {}", e.kind()), b"")),
        }
    };
    let stdout = Zeroizing::new(stdout.join().unwrap_or_default());
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        return Err(failed(status.to_string(), &stderr));
    }
    credentials_from_json(&stdout, &PROCESS_JSON)
        .map_err(|why| CredentialsError::new(source, CredentialsErrorKind::ProcessOutput(why)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_full_and_minimal_output() {
        let c = credentials_from_json(
            br#"{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"SK","SessionToken":"TK","Expiration":"2030-01-02T03:04:05Z"}"#,
            &PROCESS_JSON,
        )
        .unwrap();
        assert_eq!(c.access_key_id(), "AK");
        assert_eq!(c.secret_access_key().expose(), "SK");
        assert_eq!(c.session_token().unwrap().expose(), "TK");
        assert_eq!(c.expiry(), Some(datetime!(2030-01-02 03:04:05 UTC)));
        let c = credentials_from_json(
            br#"{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"SK"}"#,
            &PROCESS_JSON,
        )
        .unwrap();
        assert!(c.session_token().is_none() && c.expiry().is_none());
    }

    #[test]
    fn rejects_bad_documents_without_echoing_secrets() {
        let cases: [(&[u8], &str); 8] = [
            (b"not json SHHH", "not valid JSON"),
            (b"[1]", "not a JSON object"),
            (
                br#"{"AccessKeyId":"AK","SecretAccessKey":"SHHH"}"#,
                "missing `Version`",
            ),
            (
                br#"{"Version":2,"AccessKeyId":"AK","SecretAccessKey":"SHHH"}"#,
                "unsupported `Version` 2",
            ),
            (
                br#"{"Version":1,"SecretAccessKey":"SHHH"}"#,
                "missing `AccessKeyId`",
            ),
            (
                br#"{"Version":1,"AccessKeyId":"AK"}"#,
                "missing `SecretAccessKey`",
            ),
            (
                br#"{"Version":1,"AccessKeyId":"AK","SecretAccessKey":["SHHH"]}"#,
                "`SecretAccessKey` is not a string",
            ),
            (
                br#"{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"SHHH","Expiration":"soon"}"#,
                "`Expiration` is not an RFC 3339",
            ),
        ];
        for (body, want) in cases {
            let e = credentials_from_json(body, &PROCESS_JSON).unwrap_err();
            assert!(e.contains(want), "{e} / {want}");
            assert!(!e.contains("SHHH"), "{e}");
        }
    }

    #[test]
    fn exit_status_and_first_stderr_line_are_reported() {
        let e = run_credential_process(
            "echo; echo 'token service unreachable' >&2; echo second >&2; exit 1",
            "dev",
            DEFAULT_PROCESS_TIMEOUT,
        )
        .unwrap_err();
        assert_eq!(e.source, CredentialSource::Process("dev".into()));
        let s = e.to_string();
        assert!(s.contains("exit status: 1"), "{s}");
        assert!(s.contains("stderr: token service unreachable"), "{s}");
        assert!(!s.contains("second"), "{s}");
    }

    #[test]
    fn bad_json_and_missing_fields_from_a_real_process() {
        let e =
            run_credential_process("echo '{not json'", "dev", DEFAULT_PROCESS_TIMEOUT).unwrap_err();
        assert!(
            matches!(e.kind, CredentialsErrorKind::ProcessOutput(_)),
            "{e}"
        );
        let e = run_credential_process(
            r#"echo '{"Version": 1, "AccessKeyId": "AK"}'"#,
            "dev",
            DEFAULT_PROCESS_TIMEOUT,
        )
        .unwrap_err();
        assert!(e.to_string().contains("missing `SecretAccessKey`"), "{e}");
        let c = run_credential_process(
            r#"printf '{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "SK"}'"#,
            "dev",
            DEFAULT_PROCESS_TIMEOUT,
        )
        .unwrap();
        assert_eq!(c.access_key_id(), "AK");
    }

    #[test]
    fn hung_process_is_killed_after_the_timeout() {
        let started = Instant::now();
        let e = run_credential_process("sleep 30", "dev", Duration::from_millis(200)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            e.to_string().contains("killed after the 0.2 s timeout"),
            "{e}"
        );
    }

    #[test]
    fn oversized_output_is_rejected() {
        let e = run_credential_process(
            "head -c 100000 /dev/zero | tr '\\0' ' '",
            "dev",
            DEFAULT_PROCESS_TIMEOUT,
        )
        .unwrap_err();
        assert!(e.to_string().contains("limit 65536"), "{e}");
    }
}
