//! Property test: our SigV4 exchange answers exactly as AWS's Python plugin (`cassandra-sigv4`
//! 4.0.x, installed in the project venv) for random keys, secrets, tokens, regions, nonces and
//! times.
//!
//! All cases go through one Python process (`sigv4_python_oracle.py`, JSON lines in and out).
//! Python is `$CQL4_PYTHON`, else `<workspace>/target/venv/bin/python`; if neither exists the
//! test fails: run `cargo xtask test`, which creates the venv.
//!
//! Generated values stay inside what both sides define the same way (see `cql4_auth::sigv4`):
//! times have millisecond precision (Python rounds sub-millisecond parts, we truncate), the
//! nonce is 32 bytes without `,`, and key ids and tokens contain no `,` (we reject those).

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;

use cql4_auth::{
    AuthProvider, Credentials, Exchange, ExchangeLimits, FixedClock, SecretString,
    SigV4AuthProvider,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use time::{Duration, OffsetDateTime};

/// The venv's Python, per the rule in the module docs.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("CQL4_PYTHON") {
        let p = PathBuf::from(p);
        assert!(
            p.exists(),
            "CQL4_PYTHON={} does not exist; run `cargo xtask test` (it creates the venv with \
             cassandra-sigv4 and exports CQL4_PYTHON)",
            p.display()
        );
        return p;
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = workspace.join("target/venv/bin/python");
    assert!(
        p.exists(),
        "no Python with cassandra-sigv4: CQL4_PYTHON is unset and {} does not exist; run \
         `cargo xtask test`, which creates the venv",
        p.display()
    );
    p
}

struct Oracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Oracle {
    fn spawn() -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sigv4_python_oracle.py");
        let mut child = Command::new(python())
            .arg("-u")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the Python oracle");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Self {
            child,
            stdin,
            stdout,
        }
    }

    fn ask(&mut self, case: &serde_json::Value) -> serde_json::Value {
        writeln!(self.stdin, "{case}").expect("write to the oracle");
        self.stdin.flush().expect("flush the oracle's stdin");
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).expect("read the oracle");
        assert!(n > 0, "the Python oracle exited (see its stderr above)");
        serde_json::from_str(&line).expect("oracle output is JSON")
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        // Closing stdin ends the oracle's loop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone)]
struct Case {
    access_key: String,
    secret_key: String,
    token: Option<String>,
    region: String,
    prefix: &'static str,
    nonce: String,
    suffix: &'static str,
    epoch_seconds: i64,
    millis: i64,
}

fn cases() -> impl Strategy<Value = Case> {
    let access_key = prop_oneof!["[A-Z0-9]{20}", "[^,]{1,30}"];
    let secret_key = prop_oneof!["[A-Za-z0-9/+]{40}", "(?s).{0,50}"];
    let token = proptest::option::of(prop_oneof!["[A-Za-z0-9/+=]{100,400}", "[^,]{1,60}"]);
    let region = prop_oneof!["[a-z]{2}-[a-z]{4,9}-[1-9]", "[^\u{0}]{1,20}"];
    // Printable ASCII without `,`: `!`..`+` and `-`..`~`.
    let nonce = prop_oneof!["[0-9a-f]{32}", "[!-+\\--~]{32}"];
    let prefix = prop_oneof![Just(""), Just("realm=keyspaces,")];
    let suffix = prop_oneof![Just(""), Just(",extra=1")];
    // 1970-01-01 .. 2100-01-01.
    let time = (0_i64..4_102_444_800, 0_i64..1000);
    (
        (access_key, secret_key, token, region),
        (prefix, nonce, suffix, time),
    )
        .prop_map(
            |((access_key, secret_key, token, region), (prefix, nonce, suffix, (s, ms)))| Case {
                access_key,
                secret_key,
                token,
                region,
                prefix,
                nonce,
                suffix,
                epoch_seconds: s,
                millis: ms,
            },
        )
}

fn ours(case: &Case) -> (Vec<u8>, String) {
    let time = OffsetDateTime::from_unix_timestamp(case.epoch_seconds).expect("in range")
        + Duration::milliseconds(case.millis);
    let credentials = Credentials::new(
        case.access_key.clone(),
        case.secret_key.clone(),
        case.token.clone().map(SecretString::new),
        None,
    );
    let provider = SigV4AuthProvider::new(Arc::new(credentials), case.region.clone())
        .with_clock(Arc::new(FixedClock(time)));
    let mechanism = cql4_auth::now_or_never(provider.start("AWS4SigAuthenticator"))
        .expect("explicit credentials never wait")
        .expect("mechanism");
    let (initial, state) = Exchange::start(mechanism, ExchangeLimits::default()).expect("initial");
    let challenge = format!("{}nonce={}{}", case.prefix, case.nonce, case.suffix);
    let (response, _) = state
        .on_challenge(Some(challenge.as_bytes()))
        .expect("challenge answered");
    (
        initial.expose().to_vec(),
        String::from_utf8(response.expose().to_vec()).expect("UTF-8 response"),
    )
}

#[test]
fn sigv4_matches_python_cassandra_sigv4_plugin() {
    let oracle = RefCell::new(Oracle::spawn());
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let compared = RefCell::new(0_u32);
    runner
        .run(&cases(), |case| {
            let request = serde_json::json!({
                "access_key": case.access_key,
                "secret_key": case.secret_key,
                "token": case.token,
                "region": case.region,
                "challenge": format!("{}nonce={}{}", case.prefix, case.nonce, case.suffix),
                "epoch_seconds": case.epoch_seconds,
                "millis": case.millis,
            });
            let answer = oracle.borrow_mut().ask(&request);
            if let Some(e) = answer.get("error") {
                return Err(TestCaseError::fail(format!("Python plugin failed: {e}")));
            }
            let (initial, response) = ours(&case);
            prop_assert_eq!(
                answer["initial"].as_str().map(str::as_bytes),
                Some(initial.as_slice())
            );
            prop_assert_eq!(answer["response"].as_str(), Some(response.as_str()));
            *compared.borrow_mut() += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(*compared.borrow(), 200);
}
