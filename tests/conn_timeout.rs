//! Request timeouts with a loopback proxy that delays or drops the node's bytes: the delayed
//! request times out, its late answer is not given to anyone else, and later requests on the
//! same connection succeed; a peer that stops answering is detected by the heartbeat.

mod common;

use std::time::{Duration, Instant};

use cql4::{Client, Error, QueryOptions};
use cql4_testkit::proxy::{Mode, Proxy};
use futures_util::StreamExt;

async fn setup(rows: i32) -> (common::Node, Client, String) {
    let node = common::node();
    let direct = node.client().await;
    let ks = common::keyspace(&direct, "timeout").await;
    common::exec(&direct, "CREATE TABLE t (k int PRIMARY KEY, v int)").await;
    for k in 0..rows {
        common::exec(
            &direct,
            &format!("INSERT INTO t (k, v) VALUES ({k}, {})", k * 10),
        )
        .await;
    }
    (node, direct, ks)
}

async fn proxied(node: &common::Node, proxy: &Proxy, heartbeat: Option<Duration>) -> Client {
    let mut config = node.password_config();
    config.host = "127.0.0.1".to_owned();
    config.port = proxy.port();
    config.heartbeat_interval = heartbeat;
    config.heartbeat_timeout = Duration::from_millis(400);
    Client::connect(&config)
        .await
        .expect("connect through the proxy")
}

async fn value_of(client: &Client, ks: &str, k: i32, timeout: Duration) -> Result<i32, Error> {
    let r = client
        .query(
            &format!("SELECT v FROM {ks}.t WHERE k = {k}"),
            (),
            &QueryOptions::new().with_timeout(timeout),
        )
        .await?;
    let rows = r.rows().expect("rows");
    Ok(rows.row(0).expect("one row").get::<i32>(0).expect("int v"))
}

#[tokio::test]
async fn delayed_answer_times_out_and_later_requests_still_succeed() {
    let (node, direct, ks) = setup(5).await;
    let proxy = Proxy::start(&node.host, node.port).await;
    let client = proxied(&node, &proxy, None).await;
    let long = Duration::from_secs(10);
    assert_eq!(value_of(&client, &ks, 1, long).await.unwrap(), 10);

    proxy.set(Mode::Hold);
    let started = Instant::now();
    let e = value_of(&client, &ks, 1, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // A request with a longer timeout, sent while held, is answered once the bytes flow.
    let c = client.clone();
    let ks2 = ks.clone();
    let waiting = tokio::spawn(async move { value_of(&c, &ks2, 3, long).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.set(Mode::Pass);
    assert_eq!(waiting.await.unwrap().unwrap(), 30);

    // The late answer (k = 1) went nowhere: each later request gets its own row.
    for k in [2, 4, 0] {
        assert_eq!(value_of(&client, &ks, k, long).await.unwrap(), k * 10);
    }
    assert!(!client.is_closed());
    common::drop_keyspace(&direct, &ks).await;
}

#[tokio::test]
async fn every_page_has_its_own_timeout() {
    let (node, direct, ks) = setup(50).await;
    let proxy = Proxy::start(&node.host, node.port).await;
    let client = proxied(&node, &proxy, None).await;
    let options = QueryOptions::new()
        .with_page_size(10)
        .with_timeout(Duration::from_millis(500));
    let cql = format!("SELECT k FROM {ks}.t");

    // Explicit pages: the second page times out instead of hanging.
    let mut pager = client.query_pages(&cql, (), &options);
    assert_eq!(
        pager
            .next_page()
            .await
            .unwrap()
            .unwrap()
            .rows()
            .unwrap()
            .len(),
        10
    );
    proxy.set(Mode::Hold);
    let e = pager.next_page().await.unwrap().unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    proxy.set(Mode::Pass);

    // The row stream: a later page times out and the stream reports it.
    let mut stream = client.query_rows(&cql, (), &options);
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.get::<i32>(0).is_ok());
    proxy.set(Mode::Hold);
    let mut rows = 1;
    let error = loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
            Err(_) => panic!("the row stream hung"),
            Ok(None) => panic!("the stream ended without the timeout"),
            Ok(Some(Ok(_))) => rows += 1,
            Ok(Some(Err(e))) => break e,
        }
    };
    assert!(error.is_timeout(), "{error:?}");
    assert!(rows < 50, "{rows}");
    proxy.set(Mode::Pass);
    // The connection survives.
    let v = client
        .query(
            &format!("SELECT v FROM {ks}.t WHERE k = 7"),
            (),
            &QueryOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(v.rows().unwrap().row(0).unwrap().get::<i32>(0).unwrap(), 70);
    common::drop_keyspace(&direct, &ks).await;
}

#[tokio::test]
async fn silent_peer_is_detected_by_the_heartbeat() {
    let (node, direct, ks) = setup(1).await;
    let proxy = Proxy::start(&node.host, node.port).await;
    let client = proxied(&node, &proxy, Some(Duration::from_millis(300))).await;
    assert_eq!(
        value_of(&client, &ks, 0, Duration::from_secs(10))
            .await
            .unwrap(),
        0
    );

    proxy.set(Mode::Blackhole);
    let e = value_of(&client, &ks, 0, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    // No bytes for 300 ms → OPTIONS heartbeat; unanswered for 400 ms → closed.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !client.is_closed() {
        assert!(Instant::now() < deadline, "dead peer not detected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    let e = value_of(&client, &ks, 0, Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Closed(_)), "{e:?}");
    assert!(e.to_string().contains("heartbeat"), "{e}");
    assert!(started.elapsed() < Duration::from_millis(100));
    common::drop_keyspace(&direct, &ks).await;
}
