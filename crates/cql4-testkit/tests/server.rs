//! The fake server against the real client: per-connection scripts, recorded requests,
//! compression and authentication in the handshake, script failures, shutdown on drop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cql4_auth::PasswordAuthenticator;
use cql4_conn::{Client, Error, QueryOptions};
use cql4_frame::request::Request;
use cql4_frame::response::{ErrorCode, ResultResponse};
use cql4_frame::types::ColumnType;
use cql4_frame::{Compression, Opcode};
use cql4_testkit::frames;
use cql4_testkit::server::FakeServer;

async fn query(client: &Client) -> Result<cql4_conn::QueryResult, Error> {
    client
        .query("SELECT * FROM ks.t", (), &QueryOptions::new())
        .await
}

#[tokio::test]
async fn each_connection_runs_the_script_with_its_index_and_every_request_is_recorded() {
    let server = FakeServer::each(|mut peer| async move {
        peer.handshake().await;
        let s = peer.expect(Opcode::QUERY).await;
        if peer.index() == 0 {
            peer.respond(s, frames::void()).await;
        } else {
            peer.respond(s, frames::unavailable()).await;
        }
        peer.drain().await;
    })
    .await;
    let first = Client::connect(&server.config()).await.unwrap();
    let ok = query(&first).await.unwrap();
    assert!(matches!(ok.result, ResultResponse::Void));
    let second = Client::connect(&server.config()).await.unwrap();
    let err = query(&second).await.unwrap_err();
    assert_eq!(
        err.server_error().map(|e| e.code),
        Some(ErrorCode::UNAVAILABLE)
    );

    assert_eq!(server.connections(), 2);
    let requests = server.requests();
    let of = |c: usize| -> Vec<Opcode> {
        requests
            .iter()
            .filter(|r| r.connection == c)
            .map(|r| r.opcode)
            .collect()
    };
    for c in 0..2 {
        assert_eq!(
            of(c),
            [Opcode::OPTIONS, Opcode::STARTUP, Opcode::QUERY],
            "{c}"
        );
    }
    let queries = server.requests_of(Opcode::QUERY);
    assert_eq!(queries.len(), 2);
    for q in &queries {
        assert!(matches!(&q.frame.message, Request::Query(q) if q.query == "SELECT * FROM ks.t"));
        // The raw bytes are the frame as sent: a v4 request header, then the body.
        assert_eq!(q.bytes[0], frames::REQUEST_V4);
        assert_eq!(i16::from_be_bytes([q.bytes[2], q.bytes[3]]), q.stream);
        assert_eq!(q.bytes[4], Opcode::QUERY.0);
        assert_eq!(
            q.bytes.len(),
            frames::HEADER_LEN
                + usize::try_from(u32::from_be_bytes([
                    q.bytes[5], q.bytes[6], q.bytes[7], q.bytes[8]
                ]))
                .unwrap()
        );
    }
}

#[tokio::test]
async fn a_test_can_drive_each_connection_itself() {
    let server = FakeServer::start().await;
    let config = server.config();
    let connect = tokio::spawn(async move { Client::connect(&config).await });
    let mut peer = server.accept().await;
    assert_eq!(peer.index(), 0);
    peer.handshake().await;
    let client = connect.await.unwrap().unwrap();
    let asking = tokio::spawn(async move { query(&client).await });
    let s = peer.expect(Opcode::QUERY).await;
    peer.respond(
        s,
        frames::rows(
            &[("k", ColumnType::Int)],
            &[vec![Some(5i32.to_be_bytes().to_vec())]],
            None,
        ),
    )
    .await;
    let rows = asking.await.unwrap().unwrap();
    assert_eq!(
        rows.rows().unwrap().row(0).unwrap().get::<i32>(0).unwrap(),
        5
    );
}

#[tokio::test]
async fn lz4_is_negotiated_and_used_both_ways() {
    let server = FakeServer::once(|mut peer| async move {
        peer.handshake_offering(&["snappy", "lz4"]).await;
        assert_eq!(peer.compression(), Compression::Lz4);
        let s = peer.expect(Opcode::QUERY).await;
        peer.respond(s, frames::set_keyspace("ks")).await;
        peer.drain().await;
    })
    .await;
    let mut config = server.config();
    config.compression = Compression::Lz4;
    let client = Client::connect(&config).await.unwrap();
    assert_eq!(client.compression(), Compression::Lz4);
    let r = query(&client).await.unwrap();
    assert!(matches!(r.result, ResultResponse::SetKeyspace(ref ks) if ks == "ks"));
    let q = &server.requests_of(Opcode::QUERY)[0];
    assert_eq!(
        q.bytes[1] & frames::flags::COMPRESSION,
        frames::flags::COMPRESSION
    );
}

#[tokio::test]
async fn password_authentication_is_handled_when_asked() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = FakeServer::once(|mut peer| async move {
        let token = peer
            .handshake_authenticated(frames::PASSWORD_AUTHENTICATOR)
            .await;
        let _ = tx.send(token);
        peer.drain().await;
    })
    .await;
    let mut config = server.config();
    config.auth = Some(Arc::new(
        PasswordAuthenticator::new("user", "pass").unwrap(),
    ));
    Client::connect(&config).await.unwrap();
    let token = rx.await.unwrap().unwrap();
    assert_eq!(&token[..], b"\0user\0pass");
}

#[tokio::test]
async fn a_failed_script_fails_finish() {
    let server = FakeServer::once(|mut peer| async move {
        peer.expect(Opcode::QUERY).await;
    })
    .await;
    let mut config = server.config();
    config.connect_timeout = Duration::from_millis(500);
    assert!(Client::connect(&config).await.is_err());
    let finished = tokio::spawn(server.finish()).await;
    let panic = finished.unwrap_err().into_panic();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("Options"), "{message}");
}

#[tokio::test]
async fn a_script_that_never_gets_its_request_times_out_instead_of_hanging() {
    let server = FakeServer::once(|mut peer| async move {
        peer.set_timeout(Duration::from_millis(200));
        peer.handshake().await;
        peer.expect(Opcode::QUERY).await;
    })
    .await;
    let _client = Client::connect(&server.config()).await.unwrap();
    let started = Instant::now();
    let finished = tokio::spawn(server.finish()).await;
    assert!(finished.is_err(), "the script's timeout is a failure");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn dropping_the_server_closes_its_connections() {
    let server = FakeServer::once(|mut peer| async move {
        peer.handshake().await;
        // Never answers: only the drop (or the client going) ends this script.
        while !peer.drain().await {}
    })
    .await;
    let client = Client::connect(&server.config()).await.unwrap();
    let asking = tokio::spawn({
        let client = client.clone();
        async move { query(&client).await }
    });
    // The request is in flight (the server has it) when the server goes.
    let started = Instant::now();
    while server.requests_of(Opcode::QUERY).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "no QUERY came");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(server);
    let err = tokio::time::timeout(Duration::from_secs(5), asking)
        .await
        .expect("the request ends when the server goes")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Closed(_)), "{err:?}");
}

#[tokio::test]
async fn drain_says_whether_the_client_closed() {
    let (silent_tx, silent_rx) = tokio::sync::oneshot::channel();
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
    let server = FakeServer::once(|mut peer| async move {
        peer.handshake().await;
        peer.set_timeout(Duration::from_millis(100));
        let _ = silent_tx.send(peer.drain().await);
        peer.set_timeout(Duration::from_secs(10));
        let closed = peer.drain().await;
        // Once closed, at once: a `while !drain()` loop ends instead of spinning.
        let started = Instant::now();
        let again = peer.drain().await;
        let _ = closed_tx.send((closed, again, started.elapsed()));
    })
    .await;
    let client = Client::connect(&server.config()).await.unwrap();
    assert!(
        !silent_rx.await.unwrap(),
        "silent for the timeout, not closed"
    );
    drop(client);
    let (closed, again, took) = closed_rx.await.unwrap();
    assert!(closed && again);
    assert!(took < Duration::from_secs(5), "{took:?}");
    server.finish().await;
}

#[tokio::test]
async fn raw_bytes_go_out_as_they_are() {
    let server = FakeServer::once(|mut peer| async move {
        peer.handshake().await;
        let s = peer.expect(Opcode::QUERY).await;
        // A frame no encoder would make: a RESULT declaring more than the limit.
        peer.send(
            &frames::Frame::response(s, Opcode::RESULT)
                .length(u32::MAX)
                .bytes(),
        )
        .await;
        peer.drain().await;
    })
    .await;
    let client = Client::connect(&server.config()).await.unwrap();
    let err = query(&client).await.unwrap_err();
    assert!(matches!(err, Error::Closed(_)), "{err:?}");
}

/// A CA and a server certificate for `localhost` signed by it: (CA PEM, server config).
fn tls_pair() -> (String, Arc<rustls::ServerConfig>) {
    let ca_key = rcgen::KeyPair::generate().expect("test certificates");
    let mut ca_params =
        rcgen::CertificateParams::new(Vec::<String>::new()).expect("test certificates");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("test certificates");
    let key = rcgen::KeyPair::generate().expect("test certificates");
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("test certificates");
    let cert = params
        .signed_by(&key, &ca, &ca_key)
        .expect("test certificates");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("test certificates")
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("test certificates"),
    )
    .expect("test certificates");
    (ca.pem(), Arc::new(config))
}

#[tokio::test]
async fn tls_when_given_a_server_config() {
    let (ca, tls) = tls_pair();
    let server = FakeServer::builder()
        .tls(tls)
        .each(|mut peer| async move {
            assert!(peer.is_tls());
            peer.handshake().await;
            let s = peer.expect(Opcode::QUERY).await;
            peer.respond(s, frames::void()).await;
            peer.drain().await;
        })
        .await;
    // Plain TCP to the TLS server: no handshake, so no script runs for it.
    let mut plain = server.config();
    plain.connect_timeout = Duration::from_millis(500);
    assert!(Client::connect(&plain).await.is_err());
    let mut config = server.config();
    config.tls = Some(
        cql4_conn::TlsConfig::new()
            .with_ca_pem(ca)
            .with_server_name("localhost"),
    );
    let client = Client::connect(&config).await.unwrap();
    assert!(matches!(
        query(&client).await.unwrap().result,
        ResultResponse::Void
    ));
    assert_eq!(server.connections(), 2);
    let queries = server.requests_of(Opcode::QUERY);
    assert_eq!(queries.len(), 1);
    assert_eq!(queries[0].connection, 1);
    assert!(server.failures().is_empty(), "{:?}", server.failures());
}
