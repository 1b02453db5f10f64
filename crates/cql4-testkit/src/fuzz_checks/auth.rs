//! Authentication: `sigv4_challenge` (server tokens) and `aws_profile` (shared config files).

use std::sync::Arc;

/// An AUTH_CHALLENGE token: the SigV4 nonce parser and a whole SigV4 (and PLAIN) exchange step.
pub fn sigv4_challenge(data: &[u8]) {
    use cql4_auth::sigv4::{extract_nonce, NONCE_LEN};
    use cql4_auth::{
        Credentials, Exchange, ExchangeLimits, SecretString, ServerMessage, SigV4Mechanism, Step,
        SystemClock,
    };
    if let Ok(nonce) = extract_nonce(data) {
        assert_eq!(nonce.len(), NONCE_LEN);
    }
    let credentials = Credentials::new(
        "AKIDFUZZ",
        SecretString::from("fuzz-secret-key"),
        None,
        None,
    );
    let mech = SigV4Mechanism::new(credentials, "us-east-1", Arc::new(SystemClock));
    let (_, waiting) = Exchange::start(Box::new(mech), ExchangeLimits::default())
        .expect("SigV4 always has an initial response");
    if let Ok(Step::Respond(token, waiting)) = waiting.handle(ServerMessage::Challenge(Some(data)))
    {
        assert!(!token.expose().is_empty());
        // A second challenge or a success token, also fuzzer-chosen.
        let _ = waiting.handle(ServerMessage::Challenge(Some(data)));
    }
    let plain = cql4_auth::PasswordAuthenticator::new("user", "fuzz-password")
        .expect("a valid user name")
        .mechanism();
    let (_, waiting) = Exchange::start(Box::new(plain), ExchangeLimits::default())
        .expect("PLAIN always has an initial response");
    let _ = waiting.handle(ServerMessage::Success(Some(data)));
}

/// A shared AWS config/credentials file, read from memory. No process runner is injected, so a
/// profile with `credential_process` ends in `NoProcessRunner`: the fuzzer never starts programs.
pub fn aws_profile(data: &[u8]) {
    use cql4_auth::{CredentialsProvider, MapEnv, ProfileProvider};
    let text = String::from_utf8_lossy(data);
    for profile in [None, Some("p"), Some("default")] {
        let env = Arc::new(
            MapEnv::new()
                .with_var("AWS_CONFIG_FILE", "/fuzz/config")
                .with_var("AWS_SHARED_CREDENTIALS_FILE", "/fuzz/credentials")
                .with_file("/fuzz/config", &text)
                .with_file("/fuzz/credentials", &text),
        );
        let mut provider = ProfileProvider::new(env.clone()).with_file_reader(env);
        if let Some(p) = profile {
            provider = provider.with_profile(p);
        }
        match cql4_auth::now_or_never(provider.provide_credentials())
            .expect("in-memory files never wait")
        {
            Ok(c) => {
                let _ = format!("{c:?}");
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
}
