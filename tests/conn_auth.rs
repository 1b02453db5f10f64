//! Connecting to the real node: TLS + password, TLS + SigV4 with a session token, and each way
//! a connection must be refused, with a clear error.

mod common;

use std::sync::Arc;

use cql4::auth::{Credentials, PasswordAuthenticator, SigV4AuthProvider};
use cql4::{Client, Error, QueryOptions, TlsConfig};

async fn release_version(client: &Client) -> String {
    let r = client
        .query(
            "SELECT release_version FROM system.local",
            (),
            &QueryOptions::new(),
        )
        .await
        .expect("select system.local");
    let rows = r.rows().expect("rows");
    assert_eq!(rows.len(), 1);
    let row = rows.row(0).expect("one row");
    row.get::<&str>(0).expect("text").to_owned()
}

#[tokio::test]
async fn tls_and_password_login() {
    let node = common::node();
    let client = Client::connect(&node.password_config())
        .await
        .expect("password login");
    let v = release_version(&client).await;
    assert!(v.starts_with(char::is_numeric), "release_version {v:?}");
}

#[tokio::test]
async fn tls_and_sigv4_login_with_session_token() {
    let node = common::node();
    let client = Client::connect(&node.sigv4_config())
        .await
        .expect("SigV4 login");
    let v = release_version(&client).await;
    assert!(!v.is_empty());
}

#[tokio::test]
async fn wrong_password_is_refused_by_the_server() {
    let node = common::node();
    let mut config = node.config();
    config.auth = Some(Arc::new(
        PasswordAuthenticator::new(node.user.clone(), "not-the-password").unwrap(),
    ));
    let e = Client::connect(&config).await.unwrap_err();
    assert!(matches!(e, Error::AuthRejected { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("authentication refused"), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");
}

#[tokio::test]
async fn wrong_sigv4_secret_is_refused_by_the_server() {
    let node = common::node();
    let mut config = node.config();
    let credentials = Credentials::new(
        node.access_key_id.clone(),
        "wrong-secret-key-0123456789",
        Some(node.session_token.clone().into()),
        None,
    );
    config.auth = Some(Arc::new(SigV4AuthProvider::new(
        Arc::new(credentials),
        node.region.clone(),
    )));
    let e = Client::connect(&config).await.unwrap_err();
    assert!(matches!(e, Error::AuthRejected { .. }), "{e:?}");
    assert!(!e.to_string().contains("wrong-secret-key"), "{e}");
}

#[tokio::test]
async fn unknown_ca_is_refused() {
    let node = common::node();
    let mut config = node.password_config();
    // The Mozilla roots do not include the node's private CA.
    config.tls = Some(TlsConfig::new().with_server_name(&node.server_name));
    let e = Client::connect(&config).await.unwrap_err();
    assert!(matches!(e, Error::Tls(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("UnknownIssuer") || text.contains("unknown issuer"),
        "{text}"
    );
}

#[tokio::test]
async fn wrong_server_name_is_refused() {
    let node = common::node();
    let mut config = node.password_config();
    config.tls = Some(
        TlsConfig::new()
            .with_ca_file(&node.ca)
            .with_server_name("not-the-node.invalid"),
    );
    let e = Client::connect(&config).await.unwrap_err();
    assert!(matches!(e, Error::Tls(_)), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("not-the-node.invalid"), "{text}");
    assert!(
        text.contains("NotValidForName") || text.contains("not valid for name"),
        "{text}"
    );
}

#[tokio::test]
async fn missing_credentials_name_the_authenticator() {
    let node = common::node();
    let e = Client::connect(&node.config()).await.unwrap_err();
    match &e {
        Error::AuthRequired { authenticator } => assert!(!authenticator.is_empty()),
        other => panic!("expected AuthRequired, got {other:?}"),
    }
}

#[tokio::test]
async fn plain_tcp_to_the_tls_port_fails_clearly() {
    let node = common::node();
    let mut config = node.password_config();
    config.tls = None;
    config.connect_timeout = std::time::Duration::from_secs(3);
    let e = Client::connect(&config).await.unwrap_err();
    // The TLS server either closes the connection or never answers the OPTIONS.
    assert!(
        matches!(
            e,
            Error::Closed(_)
                | Error::ConnectTimeout { .. }
                | Error::Decode(_)
                | Error::UnsupportedProtocol { .. }
        ),
        "{e:?}"
    );
}
