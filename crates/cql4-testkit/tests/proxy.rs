//! The fault proxy in front of the fake server (no node needed): every mode, switched at run
//! time, for all connections or one.

use std::time::{Duration, Instant};

use cql4_conn::{Client, CloseReason, Config, Error, QueryOptions};
use cql4_frame::response::{ErrorCode, ResultResponse};
use cql4_frame::Opcode;
use cql4_testkit::frames;
use cql4_testkit::proxy::{Injection, Mode, Proxy};
use cql4_testkit::server::FakeServer;

/// Answers every QUERY with Void, on every connection.
async fn void_server() -> FakeServer {
    FakeServer::each(|mut peer| async move {
        peer.handshake().await;
        while let Some(request) = peer.request().await {
            peer.respond(request.stream, frames::void()).await;
        }
    })
    .await
}

fn config(proxy: &Proxy) -> Config {
    let mut config = Config::new("127.0.0.1", proxy.port());
    config.heartbeat_interval = None;
    // Generous: a loaded machine must not turn a slow handshake, or a held or delayed answer,
    // into a timeout (the blackhole test, which wants them, sets its own).
    config.connect_timeout = Duration::from_secs(10);
    config.request_timeout = Duration::from_secs(10);
    config
}

async fn query(client: &Client) -> Result<cql4_conn::QueryResult, Error> {
    client
        .query("INSERT INTO ks.t (k) VALUES (1)", (), &QueryOptions::new())
        .await
}

/// Waits (at most 10 s) until the server has recorded `n` QUERY requests.
async fn queries_reach(server: &FakeServer, n: usize) {
    let started = Instant::now();
    while server.requests_of(Opcode::QUERY).len() < n {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server saw {} QUERY, not {n}",
            server.requests_of(Opcode::QUERY).len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn timed(client: &Client) -> (Result<cql4_conn::QueryResult, Error>, Duration) {
    let started = Instant::now();
    let r = query(client).await;
    (r, started.elapsed())
}

async fn setup(framed: bool) -> (FakeServer, Proxy, Client) {
    let server = void_server().await;
    let proxy = if framed {
        Proxy::start_framed("127.0.0.1", server.port()).await
    } else {
        Proxy::start("127.0.0.1", server.port()).await
    };
    let client = Client::connect(&config(&proxy))
        .await
        .expect("connect through the proxy");
    (server, proxy, client)
}

#[tokio::test]
async fn pass_forwards_both_ways() {
    for framed in [false, true] {
        let (server, proxy, client) = setup(framed).await;
        assert!(matches!(
            query(&client).await.unwrap().result,
            ResultResponse::Void
        ));
        assert_eq!(server.requests_of(Opcode::QUERY).len(), 1);
        assert_eq!(proxy.connections(), 1);
    }
}

#[tokio::test]
async fn latency_delays_each_answer() {
    let (_server, proxy, client) = setup(true).await;
    // The line between the modes is the latency itself: with it, no answer comes sooner;
    // without it, a loaded machine may be slow, but not by seconds.
    let latency = Duration::from_secs(2);
    proxy.set(Mode::Latency(latency));
    let (r, took) = timed(&client).await;
    r.unwrap();
    assert!(took >= latency, "{took:?}");
    proxy.set(Mode::Pass);
    let (r, took) = timed(&client).await;
    r.unwrap();
    assert!(took < latency, "{took:?}");
}

#[tokio::test]
async fn hold_keeps_the_answer_until_pass() {
    let (server, proxy, client) = setup(false).await;
    proxy.set(Mode::Hold);
    let asking = tokio::spawn({
        let client = client.clone();
        async move { query(&client).await }
    });
    // The server answers as soon as it records the request; the proxy holds the answer.
    queries_reach(&server, 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!asking.is_finished());
    proxy.set(Mode::Pass);
    asking.await.unwrap().unwrap();
}

#[tokio::test]
async fn blackhole_drops_answers_and_never_forwards_new_connections() {
    let (server, proxy, client) = setup(true).await;
    proxy.set(Mode::Blackhole);
    let r = client
        .query(
            "INSERT INTO ks.t (k) VALUES (1)",
            (),
            &QueryOptions::new().with_timeout(Duration::from_millis(500)),
        )
        .await;
    assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
    // The request did reach the server: only its answer was dropped.
    queries_reach(&server, 1).await;
    assert_eq!(server.requests_of(Opcode::QUERY).len(), 1);
    let mut short = config(&proxy);
    short.connect_timeout = Duration::from_millis(500);
    let err = Client::connect(&short).await.unwrap_err();
    assert!(matches!(err, Error::ConnectTimeout { .. }), "{err:?}");
    assert_eq!(proxy.connections(), 2);
    assert_eq!(
        server.connections(),
        1,
        "a blackholed connection is never forwarded"
    );
}

#[tokio::test]
async fn reset_sends_an_rst() {
    let (_server, proxy, client) = setup(false).await;
    proxy.set(Mode::Reset);
    let (r, _) = timed(&client).await;
    let err = r.unwrap_err();
    assert!(
        matches!(&err, Error::Closed(reason) if matches!(&**reason, CloseReason::Io(e) if e.kind() == std::io::ErrorKind::ConnectionReset)),
        "{err:?}"
    );
    let err = Client::connect(&config(&proxy)).await.unwrap_err();
    assert!(
        !matches!(err, Error::ConnectTimeout { .. }),
        "reset at once: {err:?}"
    );
}

#[tokio::test]
async fn cut_frame_forwards_part_of_the_answer_then_closes() {
    let (server, proxy, client) = setup(true).await;
    proxy.set(Mode::CutFrame { keep: 5 });
    let (r, took) = timed(&client).await;
    let err = r.unwrap_err();
    assert!(
        matches!(&err, Error::Closed(reason) if matches!(**reason, CloseReason::EndOfStream)),
        "{err:?}"
    );
    // At once, not after the request timeout (10 s).
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(server.requests_of(Opcode::QUERY).len(), 1);
}

#[tokio::test]
async fn inject_answers_matching_requests_without_forwarding_them() {
    let (server, proxy, client) = setup(true).await;
    proxy.set(Mode::inject(Opcode::QUERY, frames::write_timeout("SIMPLE")));
    let err = query(&client).await.unwrap_err();
    assert_eq!(
        err.server_error().map(|e| e.code),
        Some(ErrorCode::WRITE_TIMEOUT),
        "{err:?}"
    );
    assert_eq!(server.requests_of(Opcode::QUERY).len(), 0);
    // Other opcodes pass: PREPARE reaches the server (which answers Void, so the client
    // refuses it; what matters is where it went).
    let _ = client.prepare("SELECT 1").await;
    assert_eq!(server.requests_of(Opcode::PREPARE).len(), 1);
    proxy.set(Mode::Pass);
    query(&client).await.unwrap();
    assert_eq!(server.requests_of(Opcode::QUERY).len(), 1);
}

#[tokio::test]
async fn modes_apply_per_connection() {
    let server = void_server().await;
    let proxy = Proxy::start_framed("127.0.0.1", server.port()).await;
    let first = Client::connect(&config(&proxy)).await.unwrap();
    let second = Client::connect(&config(&proxy)).await.unwrap();
    proxy.set_for(
        1,
        Mode::Inject(Injection::new(Opcode::QUERY, |stream| {
            frames::response(stream, frames::unavailable())
        })),
    );
    query(&first).await.unwrap();
    let err = query(&second).await.unwrap_err();
    assert_eq!(
        err.server_error().map(|e| e.code),
        Some(ErrorCode::UNAVAILABLE)
    );
    // A connection not yet accepted can be told in advance.
    proxy.set_for(2, Mode::Reset);
    assert!(Client::connect(&config(&proxy)).await.is_err());
    query(&first).await.unwrap();
    // `set` applies to all and forgets the per-connection modes.
    proxy.set(Mode::Pass);
    query(&second).await.unwrap();
}

#[tokio::test]
async fn a_framed_proxy_closes_on_a_frame_over_the_limit_instead_of_buffering_it() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // From the client: a header declaring 4 GiB.
    let (server, proxy, _client) = setup(true).await;
    let mut raw = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    raw.write_all(
        &frames::Frame::request(0, Opcode::QUERY)
            .length(u32::MAX)
            .bytes(),
    )
    .await
    .unwrap();
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut byte))
        .await
        .expect("the proxy closes at once");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    drop(server);

    // From the server: the client's connection is closed.
    let server = FakeServer::each(|mut peer| async move {
        peer.handshake().await;
        let s = peer.expect(Opcode::QUERY).await;
        peer.send(
            &frames::Frame::response(s, Opcode::RESULT)
                .length(u32::MAX)
                .bytes(),
        )
        .await;
        while !peer.drain().await {}
    })
    .await;
    let proxy = Proxy::start_framed("127.0.0.1", server.port()).await;
    let client = Client::connect(&config(&proxy)).await.unwrap();
    let (r, took) = timed(&client).await;
    let err = r.unwrap_err();
    assert!(matches!(&err, Error::Closed(_)), "{err:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
#[should_panic(expected = "framed proxy")]
async fn a_transparent_proxy_refuses_injection() {
    let proxy = Proxy::start("127.0.0.1", 9).await;
    proxy.set(Mode::inject(Opcode::QUERY, frames::void()));
}

/// A CA and a server certificate for `localhost` signed by it: (CA PEM, server config).
fn tls_pair() -> (String, std::sync::Arc<rustls::ServerConfig>) {
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
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
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
    (ca.pem(), std::sync::Arc::new(config))
}

#[tokio::test]
async fn a_tls_framed_proxy_takes_plain_tcp_and_speaks_tls_to_the_node() {
    let (ca, tls) = tls_pair();
    let server = FakeServer::builder()
        .tls(tls)
        .each(|mut peer| async move {
            assert!(peer.is_tls(), "the proxy reached the node without TLS");
            peer.handshake().await;
            while let Some(request) = peer.request().await {
                peer.respond(request.stream, frames::void()).await;
            }
        })
        .await;
    let node_tls = cql4_conn::TlsConfig::new()
        .with_ca_pem(ca.clone())
        .with_server_name("localhost");
    let proxy = Proxy::start_framed_tls("127.0.0.1", server.port(), &node_tls).await;
    assert_eq!(proxy.target().port(), server.port());
    let client = Client::connect(&config(&proxy))
        .await
        .expect("plain TCP to the proxy");
    query(&client).await.unwrap();
    assert_eq!(server.requests_of(Opcode::QUERY).len(), 1);
    // The frames are plaintext at the proxy: injection works in front of a TLS node.
    proxy.set(Mode::inject(Opcode::QUERY, frames::write_timeout("SIMPLE")));
    let err = query(&client).await.unwrap_err();
    assert_eq!(
        err.server_error().map(|e| e.code),
        Some(ErrorCode::WRITE_TIMEOUT),
        "{err:?}"
    );
    assert_eq!(server.requests_of(Opcode::QUERY).len(), 1);

    // A node whose certificate does not verify (wrong name) gets no request: the proxy closes
    // the client's connection instead of forwarding in clear.
    let wrong = cql4_conn::TlsConfig::new()
        .with_ca_pem(ca)
        .with_server_name("not-the-node.example");
    let proxy = Proxy::start_framed_tls("127.0.0.1", server.port(), &wrong).await;
    let mut refused = config(&proxy);
    refused.connect_timeout = Duration::from_secs(2);
    assert!(Client::connect(&refused).await.is_err());
    assert_eq!(server.requests_of(Opcode::QUERY).len(), 1);
}

#[tokio::test]
async fn a_conditional_injection_answers_the_requests_it_picks_and_forwards_the_others() {
    let (server, proxy, client) = setup(true).await;
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    // Every other QUERY, by arrival; the frame is the whole request.
    proxy.set(Mode::Inject(Injection::when(
        Opcode::QUERY,
        move |stream, frame| {
            assert_eq!(frame[4], Opcode::QUERY.0);
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            (n % 2 == 0).then(|| frames::response(stream, frames::write_timeout("SIMPLE")))
        },
    )));
    let mut timeouts = 0;
    for _ in 0..6 {
        if query(&client).await.is_err() {
            timeouts += 1;
        }
    }
    assert_eq!(timeouts, 3);
    assert_eq!(server.requests_of(Opcode::QUERY).len(), 3);
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 6);
}
