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

use std::process::{Command, Stdio};

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

/// Runs `command` for `profile` and parses its output. Blocks until the process exits.
pub fn run_credential_process(
    command: &str,
    profile: &str,
) -> Result<Credentials, CredentialsError> {
    let source = CredentialSource::Process(profile.to_owned());
    let mut cmd = if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command);
        c
    };
    let output = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            CredentialsError::new(
                source.clone(),
                CredentialsErrorKind::ProcessFailed {
                    status: format!("could not start the shell: {}", e.kind()),
                    stderr_first_line: String::new(),
                },
            )
        })?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        return Err(CredentialsError::new(
            source,
            CredentialsErrorKind::ProcessFailed {
                status: output.status.to_string(),
                stderr_first_line: echo(first),
            },
        ));
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
        let e = run_credential_process("echo '{not json'", "dev").unwrap_err();
        assert!(
            matches!(e.kind, CredentialsErrorKind::ProcessOutput(_)),
            "{e}"
        );
        let e = run_credential_process(r#"echo '{"Version": 1, "AccessKeyId": "AK"}'"#, "dev")
            .unwrap_err();
        assert!(e.to_string().contains("missing `SecretAccessKey`"), "{e}");
        let c = run_credential_process(
            r#"printf '{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "SK"}'"#,
            "dev",
        )
        .unwrap();
        assert_eq!(c.access_key_id(), "AK");
    }
}
