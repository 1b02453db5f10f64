//! Amazon Keyspaces' certificates (naming the endpoint, never a peer's IP) and its
//! authenticator class, on small emulated clusters, through `Session` (docs/keyspaces.md).

mod keyspaces_support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cql4_conn::{Config, Error, TlsConfig};
use cql4_session::Session;
use cql4_testkit::emulated::{EmulatedCluster, Login, HELENUS_AUTHENTICATOR};
use keyspaces_support::*;
use tokio::net::{TcpListener, TcpStream};

const ENDPOINT: &str = "cassandra.us-east-1.amazonaws.com";

/// A connection template for `host` (a name) at the cluster's port, trusting `ca_pem`, with
/// no server-name override: the session decides what each node's certificate must name.
fn by_name(cluster: &EmulatedCluster, host: &str, ca_pem: &str) -> Config {
    let mut config = Config::new(host, cluster.port());
    config.tls = Some(TlsConfig::new().with_ca_pem(ca_pem.as_bytes()));
    config.connect_timeout = Duration::from_secs(3);
    config
}

fn ca(cluster: &EmulatedCluster) -> &str {
    cluster.ca_pem().expect("a TLS cluster")
}

/// Every node's certificate names only `localhost`; the contact point is `localhost` (which
/// resolves to 127.0.0.1, node 1), the peers are bare IPs (127.0.0.2, 127.0.0.3). The session
/// connects to every node with TLS, verifying each against the contact point's host name —
/// the path a Keyspaces endpoint name takes.
#[tokio::test]
async fn peers_dialed_by_ip_are_verified_against_the_contact_point_s_host_name() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .tls_host_name("localhost")
        .start()
        .await;
    let mut config = config(&cluster);
    config.connection = by_name(&cluster, "localhost", ca(&cluster));
    let session = connect(config).await;
    wait_all_up(&session, 3).await;
    assert_eq!(
        session_addresses(&session),
        node_addresses(&cluster, &[1, 2, 3])
    );
    read_keys(&session, 9).await;
    assert_eq!(key_reads_per_node(&cluster), [3, 3, 3]);
    // Connections are counted once their TLS handshake succeeded.
    assert_eq!(cluster.node(1).connections(), 2, "control and pool");
    for n in [2, 3] {
        assert_eq!(cluster.node(n).connections(), 1);
    }
}

/// The other path: the template dials node 1 by IP and sets the endpoint's name as the TLS
/// server name (what `EmulatedCluster::config` does); that name is verified on every node.
#[tokio::test]
async fn a_server_name_override_is_verified_on_every_node() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .tls_host_name(ENDPOINT)
        .start()
        .await;
    let config = config(&cluster);
    assert_eq!(
        config
            .connection
            .tls
            .as_ref()
            .and_then(TlsConfig::server_name_override),
        Some(ENDPOINT)
    );
    let session = connect(config).await;
    wait_all_up(&session, 3).await;
    read_keys(&session, 9).await;
    assert_eq!(key_reads_per_node(&cluster), [3, 3, 3]);
}

/// A certificate that does not name what is verified is refused, never accepted unverified:
/// the contact point `localhost` against a certificate naming only the endpoint, and the
/// contact point by IP (no name, no override) against the same certificate.
#[tokio::test]
async fn a_certificate_with_another_name_is_refused() {
    let cluster = EmulatedCluster::builder()
        .nodes(2)
        .tls_host_name(ENDPOINT)
        .start()
        .await;
    for host in [
        "localhost".to_owned(),
        cluster.node(1).addr().ip().to_string(),
    ] {
        let mut config = config(&cluster);
        config.connection = by_name(&cluster, &host, ca(&cluster));
        let e = Session::connect(config)
            .await
            .expect_err("the certificate does not name the contact point");
        assert!(matches!(e, Error::Tls(_)), "{host}: {e:?}");
    }
    for node in cluster.nodes() {
        assert_eq!(node.connections(), 0, "a handshake succeeded");
    }
}

/// Forwards every connection to `127.0.0.3`-style `at` to `to`; counts them.
async fn proxy(at: SocketAddr, to: SocketAddr) -> Arc<AtomicUsize> {
    let listener = TcpListener::bind(at)
        .await
        .expect("the stopped node's address");
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    count
}

/// A peer whose certificate names another host is refused while the contact point and the
/// other peer are used: node 3's address forwards to a node of another cluster whose
/// certificate (signed by a CA the session trusts too) names `wrong.example`. Verification of
/// peers is on; had it been skipped, that node would count a connection.
#[tokio::test]
async fn a_peer_whose_certificate_names_another_host_is_refused() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .tls_host_name("localhost")
        .start()
        .await;
    let impostor = EmulatedCluster::builder()
        .tls_host_name("wrong.example")
        .start()
        .await;
    cluster.node(3).stop().await;
    let dials = proxy(cluster.node(3).addr(), impostor.node(1).addr()).await;
    let both_cas = format!("{}{}", ca(&cluster), ca(&impostor));
    let mut config = config(&cluster);
    config.connection = by_name(&cluster, "localhost", &both_cas);
    let session = connect(config).await;
    until("node 2 up", || {
        session.nodes().iter().filter(|n| n.up).count() == 2
    })
    .await;
    until("node 3 dialed twice", || dials.load(Ordering::SeqCst) >= 2).await;
    let node3 = session
        .nodes()
        .into_iter()
        .find(|n| n.address == cluster.node(3).addr())
        .expect("node 3 is listed");
    assert!(!node3.up && node3.connections == 0, "{node3:?}");
    assert_eq!(
        impostor.node(1).connections(),
        0,
        "a handshake with the impostor succeeded"
    );
    read_keys(&session, 6).await;
    let served = key_reads_per_node(&cluster);
    assert_eq!(served.iter().sum::<usize>(), 6);
    assert!(
        served[0] > 0 && served[1] > 0 && served[2] == 0,
        "{served:?}"
    );
    // The impostor's certificate is otherwise valid: named as it is, it is accepted.
    let mut direct = by_name(&impostor, "127.0.0.1", &both_cas);
    direct.tls = direct.tls.map(|t| t.with_server_name("wrong.example"));
    cql4_conn::Client::connect(&direct)
        .await
        .expect("the impostor's certificate verifies for its own name");
}

/// `com.amazon.helenus.auth.HelenusAuthenticator` with PLAIN: every node, the control
/// connection included, logs in.
#[tokio::test]
async fn plain_logs_in_on_every_node_against_helenus() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .authenticator(HELENUS_AUTHENTICATOR)
        .credentials("alice", "s3cret")
        .start()
        .await;
    let session = connect(config(&cluster)).await;
    wait_all_up(&session, 3).await;
    read_keys(&session, 3).await;
    let alice = Login::Plain {
        username: "alice".into(),
    };
    assert_eq!(cluster.node(1).logins(), [alice.clone(), alice.clone()]);
    for n in [2, 3] {
        assert_eq!(
            cluster.node(n).logins(),
            std::slice::from_ref(&alice),
            "node {n}"
        );
    }
    // A wrong password is refused: the logins above were checked.
    let mut wrong = config(&cluster);
    wrong.connection.auth = Some(Arc::new(
        cql4_auth::PasswordAuthenticator::new("alice", "nope").expect("an authenticator"),
    ));
    assert!(Session::connect(wrong).await.is_err());
}

/// `com.amazon.helenus.auth.HelenusAuthenticator` with SigV4 (explicit credentials): every
/// node logs in with the access key.
#[tokio::test]
async fn sigv4_logs_in_on_every_node_against_helenus() {
    let cluster = EmulatedCluster::builder()
        .nodes(3)
        .authenticator(HELENUS_AUTHENTICATOR)
        .start()
        .await;
    let mut config = config(&cluster);
    let credentials = cql4_auth::Credentials::new("AKIDEMULATED", "secret", None, None);
    config.connection.auth = Some(Arc::new(cql4_auth::SigV4AuthProvider::new(
        Arc::new(credentials),
        "us-east-1",
    )));
    let session = connect(config).await;
    wait_all_up(&session, 3).await;
    read_keys(&session, 3).await;
    let sigv4 = Login::SigV4 {
        access_key: "AKIDEMULATED".into(),
    };
    assert_eq!(cluster.node(1).logins(), [sigv4.clone(), sigv4.clone()]);
    for n in [2, 3] {
        assert_eq!(
            cluster.node(n).logins(),
            std::slice::from_ref(&sigv4),
            "node {n}"
        );
    }
}
