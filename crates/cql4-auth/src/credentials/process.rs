//! `credential_process`: run a command, read AWS credentials as JSON from its stdout.
//!
//! Output format (AWS SDKs and Tools reference, "Sourcing credentials with an external
//! process"): `{"Version": 1, "AccessKeyId": …, "SecretAccessKey": …, "SessionToken": …,
//! "Expiration": "<RFC 3339>"}`, the last two optional.
//!
//! This crate starts no process: the command runs through an injected [`ProcessRunner`] (the
//! connection layer runs it as a child of its runtime, through the platform shell as the SDKs
//! do), which enforces the timeout and the output bounds. Here the output is judged: a failure
//! reports the exit status and the first line of stderr; the command line itself is not
//! repeated (it may carry a secret argument), nor is any stdout content.

use std::time::Duration;

use serde_json::{Map, Value};

use super::Credentials;
use crate::error::{echo, CredentialSource, CredentialsError, CredentialsErrorKind};
use crate::io::{ProcessRequest, ProcessRunner};
use crate::secret::SecretString;
use crate::time_fmt::parse_rfc3339;

/// Stdout of `credential_process` (and a credential endpoint's body) beyond this size is
/// rejected rather than parsed.
pub const MAX_PROCESS_OUTPUT: usize = 64 * 1024;

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
    if body.len() > MAX_PROCESS_OUTPUT {
        return Err(format!(
            "{} bytes of output (limit {MAX_PROCESS_OUTPUT})",
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

/// Stderr kept from `credential_process`: enough for its first line (of which at most
/// [`crate::MAX_ECHO`] characters reach the error).
pub const MAX_PROCESS_STDERR: usize = 4 * 1024;

/// Runs `command` for `profile` through `runner` and parses its output. The runner kills the
/// process after `timeout` (a hung helper must not hang the connection) or once its stdout
/// passes [`MAX_PROCESS_OUTPUT`].
pub(crate) async fn run_credential_process(
    runner: &dyn ProcessRunner,
    command: &SecretString,
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
    let request = ProcessRequest::new(command.clone(), timeout);
    // The runner's error names the failure (spawn, timeout, too much output), never the command.
    let output = runner
        .run(request)
        .await
        .map_err(|e| failed(echo(&e.to_string()), b""))?;
    if !output.success {
        return Err(failed(echo(&output.status), &output.stderr));
    }
    credentials_from_json(output.stdout.expose(), &PROCESS_JSON)
        .map_err(|why| CredentialsError::new(source, CredentialsErrorKind::ProcessOutput(why)))
}

#[cfg(test)]
mod tests {
    use super::testing::{scripted, ScriptedRunner};
    use super::*;
    use crate::credentials::now_or_never;
    use crate::io::ProcessOutput;
    use time::macros::datetime;

    fn run(
        runner: &ScriptedRunner,
        command: &str,
        timeout: Duration,
    ) -> Result<Credentials, CredentialsError> {
        now_or_never(run_credential_process(
            runner,
            &SecretString::from(command),
            "dev",
            timeout,
        ))
        .unwrap()
    }

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
        let runner = scripted(Ok(ProcessOutput::new(
            false,
            "exit status: 1",
            b"{}".to_vec(),
            b"\n  token service unreachable\nsecond\n".to_vec(),
        )));
        let e = run(&runner, "get-creds --key SHHH", Duration::from_secs(5)).unwrap_err();
        assert_eq!(e.source, CredentialSource::Process("dev".into()));
        let s = e.to_string();
        assert!(s.contains("exit status: 1"), "{s}");
        assert!(s.contains("stderr: token service unreachable"), "{s}");
        assert!(!s.contains("second") && !s.contains("SHHH"), "{s}");
    }

    #[test]
    fn the_request_carries_command_timeout_and_bounds() {
        let runner = scripted(Ok(ProcessOutput::new(
            true,
            "exit status: 0",
            br#"{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "SK"}"#.to_vec(),
            Vec::new(),
        )));
        let c = run(&runner, "get-creds", Duration::from_millis(1500)).unwrap();
        assert_eq!(c.access_key_id(), "AK");
        let seen = runner.seen.lock().unwrap();
        let r = seen.first().unwrap();
        assert_eq!(r.command.expose(), "get-creds");
        assert_eq!(r.timeout, Duration::from_millis(1500));
        assert_eq!(
            (r.max_stdout, r.max_stderr),
            (MAX_PROCESS_OUTPUT, MAX_PROCESS_STDERR)
        );
        assert!(!format!("{r:?}").contains("get-creds"));
    }

    #[test]
    fn runner_failures_and_bad_output_are_reported_without_secrets() {
        let runner = scripted(Err("killed after the 0.2 s timeout"));
        let e = run(&runner, "sleep 30", Duration::from_millis(200)).unwrap_err();
        assert!(
            matches!(e.kind, CredentialsErrorKind::ProcessFailed { .. }),
            "{e}"
        );
        assert!(
            e.to_string().contains("killed after the 0.2 s timeout"),
            "{e}"
        );

        let runner = scripted(Ok(ProcessOutput::new(
            true,
            "exit status: 0",
            br#"{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": ["SHHH"]}"#.to_vec(),
            Vec::new(),
        )));
        let e = run(&runner, "x", DEFAULT_PROCESS_TIMEOUT).unwrap_err();
        assert!(
            matches!(e.kind, CredentialsErrorKind::ProcessOutput(_)),
            "{e}"
        );
        assert!(!e.to_string().contains("SHHH"), "{e}");

        // A runner that ignores the stdout bound is still caught here.
        let runner = scripted(Ok(ProcessOutput::new(
            true,
            "exit status: 0",
            vec![b' '; MAX_PROCESS_OUTPUT + 1],
            Vec::new(),
        )));
        let e = run(&runner, "x", DEFAULT_PROCESS_TIMEOUT).unwrap_err();
        assert!(e.to_string().contains("limit 65536"), "{e}");
    }
}

/// A [`ProcessRunner`] for tests: answers every run with one scripted result and records the
/// requests.
#[cfg(test)]
pub(crate) mod testing {
    use std::error::Error as StdError;
    use std::sync::Mutex;

    use crate::io::{ProcessOutput, ProcessRequest, ProcessRunner};
    use crate::sasl::BoxFuture;

    #[derive(Debug)]
    pub(crate) struct ScriptedRunner {
        answer: Result<ProcessOutput, &'static str>,
        pub(crate) seen: Mutex<Vec<ProcessRequest>>,
    }

    pub(crate) fn scripted(answer: Result<ProcessOutput, &'static str>) -> ScriptedRunner {
        ScriptedRunner {
            answer,
            seen: Mutex::default(),
        }
    }

    /// Succeeds with `json` on stdout.
    pub(crate) fn printing(json: &str) -> ScriptedRunner {
        scripted(Ok(ProcessOutput::new(
            true,
            "exit status: 0",
            json.as_bytes().to_vec(),
            Vec::new(),
        )))
    }

    impl ProcessRunner for ScriptedRunner {
        fn run(
            &self,
            request: ProcessRequest,
        ) -> BoxFuture<'_, Result<ProcessOutput, Box<dyn StdError + Send + Sync>>> {
            self.seen.lock().unwrap().push(request);
            Box::pin(std::future::ready(self.answer.clone().map_err(Into::into)))
        }
    }
}
