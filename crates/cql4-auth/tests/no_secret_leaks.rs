//! No secret (password, secret access key, session token) appears in the `Debug` output of any
//! public type that holds one, in any error, or in the TRACE-level logs of whole exchanges.
#![expect(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

use std::error::Error as StdError;
use std::io;
use std::sync::{Arc, Mutex};

use cql4_auth::{
    now_or_never, AuthError, AuthProvider, BoxFuture, CachingProvider, ChainProvider,
    ContainerProvider, Credentials, CredentialsProvider, DefaultChain, EnvironmentProvider,
    Exchange, ExchangeLimits, FixedClock, HttpFetcher, HttpMethod, HttpRequest, HttpResponse,
    ImdsProvider, MapEnv, PasswordAuthenticator, ProcessOutput, ProcessRequest, ProcessRunner,
    ProfileProvider, Secret, SecretString, ServerMessage, SigV4AuthProvider, SigV4Mechanism, Step,
};
use time::macros::datetime;

const PASSWORD: &str = "pw-Zq8#lemon-7781";
const SECRET_KEY: &str = "sk-wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLE";
const TOKEN: &str = "tok-FwoGZXIvYXdzEJr-session-4242";
const FILE_SECRET: &str = "sk-from-file-9z9z9z9z";
const PROCESS_SECRET: &str = "sk-from-process-5y5y5y";
const HTTP_SECRET: &str = "sk-from-http-3x3x3x";
const AUTH_TOKEN: &str = "container-auth-token-1q1q";

const ALL: [&str; 7] = [
    PASSWORD,
    SECRET_KEY,
    TOKEN,
    FILE_SECRET,
    PROCESS_SECRET,
    HTTP_SECRET,
    AUTH_TOKEN,
];

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Answers container requests with credentials, and fails loudly otherwise.
#[derive(Debug)]
struct Fetcher;

impl HttpFetcher for Fetcher {
    fn fetch(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<HttpResponse, Box<dyn StdError + Send + Sync>>> {
        tracing::trace!(?request, "test fetcher");
        let body = format!(
            r#"{{"AccessKeyId":"AKIDHTTP","SecretAccessKey":"{HTTP_SECRET}","Token":"{TOKEN}","Expiration":"2030-01-01T00:00:00Z"}}"#
        );
        Box::pin(std::future::ready(Ok(HttpResponse::new(
            200,
            body.into_bytes(),
        ))))
    }
}

/// Runs `echo '<text>'` commands without a shell: prints `<text>` (a credentials document).
#[derive(Debug)]
struct EchoRunner;

impl ProcessRunner for EchoRunner {
    fn run(
        &self,
        request: ProcessRequest,
    ) -> BoxFuture<'_, Result<ProcessOutput, Box<dyn StdError + Send + Sync>>> {
        tracing::trace!(?request, "test runner");
        let printed = request
            .command
            .expose()
            .strip_prefix("echo '")
            .and_then(|c| c.strip_suffix('\''))
            .map(|json| ProcessOutput::new(true, "exit status: 0", json.into(), Vec::new()))
            .ok_or_else(|| "only echo '…' is scripted".into());
        Box::pin(std::future::ready(printed))
    }
}

/// The shared-files provider over in-memory files, running processes with [`EchoRunner`].
fn profile_provider(env: &MapEnv) -> ProfileProvider {
    let env = Arc::new(env.clone());
    ProfileProvider::new(env.clone())
        .with_file_reader(env)
        .with_process_runner(Arc::new(EchoRunner))
}

fn load(provider: &ProfileProvider) -> Result<Credentials, cql4_auth::CredentialsError> {
    now_or_never(provider.provide_credentials()).unwrap()
}

fn assert_clean(what: &str, text: &str) {
    for secret in ALL {
        assert!(
            !text.contains(secret),
            "{what} contains the secret {secret:?}:\n{text}"
        );
    }
}

fn sigv4_exchange(provider: &dyn AuthProvider, debug: &mut Vec<String>) {
    let mechanism =
        now_or_never(provider.start("com.amazonaws.cassandra.auth.AWS4SigAuthenticator"))
            .unwrap()
            .unwrap();
    let (initial, state) = Exchange::start(mechanism, ExchangeLimits::default()).unwrap();
    debug.push(format!("{initial:?} {initial} {state:?}"));
    let step = state
        .handle(ServerMessage::Challenge(Some(
            b"nonce=91703fdc2ef562e19fbdab0f58e42fe5",
        )))
        .unwrap();
    debug.push(format!("{step:?}"));
    let Step::Respond(response, state) = step else {
        panic!("expected a response")
    };
    assert!(std::str::from_utf8(response.expose())
        .unwrap()
        .contains(TOKEN));
    debug.push(format!("{response:?} {response}"));
    let err = state
        .on_challenge(Some(b"nonce=91703fdc2ef562e19fbdab0f58e42fe5"))
        .unwrap_err();
    debug.push(format!("{err:?} {err}"));
}

#[test]
fn secrets_never_reach_debug_errors_or_logs() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let mut debug: Vec<String> = Vec::new();

    tracing::subscriber::with_default(subscriber, || {
        let clock = Arc::new(FixedClock(datetime!(2026-01-01 0:00 UTC)));

        // SASL PLAIN.
        let plain = PasswordAuthenticator::new("alice", PASSWORD).unwrap();
        debug.push(format!("{plain:?} {:?}", plain.mechanism()));
        let mechanism =
            now_or_never(plain.start("org.apache.cassandra.auth.PasswordAuthenticator"))
                .unwrap()
                .unwrap();
        let (initial, state) = Exchange::start(mechanism, ExchangeLimits::default()).unwrap();
        assert!(initial.expose().ends_with(PASSWORD.as_bytes()));
        debug.push(format!("{initial:?} {initial} {state:?}"));
        let err = state.on_challenge(Some(PASSWORD.as_bytes())).unwrap_err();
        debug.push(format!("{err:?} {err}"));
        let err = PasswordAuthenticator::new("alice", format!("{PASSWORD}\0")).unwrap_err();
        debug.push(format!("{err:?} {err}"));

        // SigV4 with explicit credentials.
        let explicit = Credentials::new("AKIDEXPLICIT", SECRET_KEY, Some(TOKEN.into()), None);
        debug.push(format!("{explicit:?}"));
        debug.push(format!(
            "{:?}",
            SigV4Mechanism::new(explicit.clone(), "us-east-1", clock.clone())
        ));
        let provider = SigV4AuthProvider::new(Arc::new(explicit.clone()), "us-east-1")
            .with_clock(clock.clone());
        debug.push(format!("{provider:?}"));
        sigv4_exchange(&provider, &mut debug);

        // SigV4 with the default chain from the environment.
        let env = MapEnv::new()
            .with_home("/h")
            .with_var("AWS_ACCESS_KEY_ID", "AKIDENV")
            .with_var("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .with_var("AWS_SESSION_TOKEN", TOKEN);
        debug.push(format!("{env:?}"));
        let chain = DefaultChain::new()
            .with_env(Arc::new(env.clone()))
            .with_clock(clock.clone());
        debug.push(format!("{chain:?} {:?}", chain.chain()));
        let cached = chain.build();
        let provider =
            SigV4AuthProvider::new(Arc::new(cached), "us-east-1").with_clock(clock.clone());
        sigv4_exchange(&provider, &mut debug);
        debug.push(format!("{provider:?}"));
        debug.push(format!("{:?}", EnvironmentProvider::new(Arc::new(env))));

        // Shared files: static keys, then a credential_process.
        let files = MapEnv::new().with_home("/h").with_file(
            "/h/.aws/credentials",
            &format!(
                "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = {FILE_SECRET}\n\
                 aws_session_token = {TOKEN}\n[broken]\naws_access_key_id = AKID\n"
            ),
        );
        let profile = profile_provider(&files).with_clock(clock.clone());
        let c = load(&profile).unwrap();
        assert_eq!(c.secret_access_key().expose(), FILE_SECRET);
        debug.push(format!("{profile:?} {c:?} {files:?}"));
        let err = load(&profile_provider(&files).with_profile("broken")).unwrap_err();
        debug.push(format!("{err:?} {err}"));
        let bad_line = MapEnv::new().with_home("/h").with_file(
            "/h/.aws/credentials",
            &format!("aws_secret_access_key = {FILE_SECRET}\n[default]\n"),
        );
        let err = load(&profile_provider(&bad_line)).unwrap_err();
        debug.push(format!("{err:?} {err}"));

        let process = MapEnv::new().with_home("/h").with_file(
            "/h/.aws/config",
            &format!(
                "[default]\ncredential_process = echo '{{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\",\
                 \"SecretAccessKey\":\"{PROCESS_SECRET}\",\"SessionToken\":\"{TOKEN}\"}}'\n\
                 [profile badjson]\ncredential_process = echo '{{\"Version\":1,\"AccessKeyId\":7,\
                 \"SecretAccessKey\":[\"{PROCESS_SECRET}\"]}}'\n"
            ),
        );
        let c = load(&profile_provider(&process)).unwrap();
        assert_eq!(c.secret_access_key().expose(), PROCESS_SECRET);
        debug.push(format!("{c:?}"));
        let err = load(&profile_provider(&process).with_profile("badjson")).unwrap_err();
        debug.push(format!("{err:?} {err}"));

        // Container endpoint with an authorization token, through the chain, cached.
        let container_env = MapEnv::new()
            .with_home("/h")
            .with_var(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://127.0.0.1/creds",
            )
            .with_var("AWS_CONTAINER_AUTHORIZATION_TOKEN", AUTH_TOKEN);
        let container = ContainerProvider::new(Arc::new(container_env.clone()))
            .with_http_fetcher(Arc::new(Fetcher));
        let c = now_or_never(container.provide_credentials())
            .unwrap()
            .unwrap();
        assert_eq!(c.secret_access_key().expose(), HTTP_SECRET);
        debug.push(format!("{container:?} {c:?}"));
        let cached = CachingProvider::new(ChainProvider::new(vec![Arc::new(container)]))
            .with_clock(clock.clone());
        let c = now_or_never(cached.provide_credentials()).unwrap().unwrap();
        debug.push(format!("{cached:?} {c:?}"));
        let imds = ImdsProvider::new(Arc::new(MapEnv::new()), Arc::new(Fetcher));
        debug.push(format!("{imds:?}"));
        let captured = Arc::new(Mutex::new(None));
        let err = now_or_never(
            ContainerProvider::new(Arc::new(container_env))
                .with_http_fetcher(Arc::new(Capture(Arc::clone(&captured))))
                .provide_credentials(),
        )
        .unwrap()
        .unwrap_err();
        debug.push(format!("{err:?} {err}"));
        let request = captured.lock().unwrap().take().expect("a request was made");
        assert_eq!(request.headers[0].1.expose(), AUTH_TOKEN);
        debug.push(format!("{request:?} {:?}", HttpMethod::Get));
        debug.push(format!(
            "{:?}",
            HttpResponse::new(200, HTTP_SECRET.as_bytes().to_vec())
        ));
        // Helpers print tokens on stderr as well as stdout.
        let output = ProcessOutput::new(
            false,
            "exit status: 1",
            PROCESS_SECRET.as_bytes().to_vec(),
            format!("refreshing\ntoken {TOKEN} expired\n").into_bytes(),
        );
        let shown = format!("{output:?}");
        // A derived Debug prints the bytes as numbers, which `assert_clean` would not see.
        let as_numbers = format!("{:?}", TOKEN.as_bytes());
        assert!(
            !shown.contains(as_numbers.trim_matches(['[', ']'])),
            "{shown}"
        );
        assert!(shown.contains("exit status: 1"), "{shown}");
        debug.push(shown);
        debug.push(format!(
            "{:?}",
            ProcessRequest::new(
                SecretString::from(format!("helper --secret {SECRET_KEY}").as_str()),
                std::time::Duration::from_secs(1)
            )
        ));
        debug.push(format!(
            "{:?} {} {:?}",
            SecretString::from(SECRET_KEY),
            SecretString::from(TOKEN),
            Secret::new(PASSWORD.as_bytes().to_vec())
        ));
        let err = AuthError::InvalidCredential {
            field: "password",
            reason: "test",
        };
        debug.push(format!("{err:?}"));
    });

    for (i, d) in debug.iter().enumerate() {
        assert_clean(&format!("debug output #{i}"), d);
    }
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    // The subscriber really captured the exchanges (so this test can fail).
    for expected in [
        "SASL initial response",
        "SigV4 challenge signed",
        "AKIDENV",
        "loaded AWS credentials",
        "running credential_process",
        "test fetcher",
    ] {
        assert!(logs.contains(expected), "log lacks {expected:?}:\n{logs}");
    }
    assert_clean("TRACE logs", &logs);
}

/// Records the request and refuses it.
#[derive(Debug)]
struct Capture(Arc<Mutex<Option<HttpRequest>>>);

impl HttpFetcher for Capture {
    fn fetch(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<HttpResponse, Box<dyn StdError + Send + Sync>>> {
        *self.0.lock().unwrap() = Some(request);
        Box::pin(std::future::ready(Err("connection refused".into())))
    }
}
