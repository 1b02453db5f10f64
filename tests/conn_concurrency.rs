//! 10,000 concurrent requests on one connection, all answered correctly (each answer checked
//! against its own request), with the throughput printed for the report.

mod common;

use std::time::Instant;

use cql4::frame::CqlValue;
use cql4::QueryOptions;

const N: i32 = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_requests_on_one_connection() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "concurrency").await;
    common::exec(&client, "CREATE TABLE kv (k int PRIMARY KEY, v bigint)").await;
    let insert = client
        .prepare("INSERT INTO kv (k, v) VALUES (?, ?)")
        .await
        .unwrap();
    let select = client
        .prepare("SELECT k, v FROM kv WHERE k = ?")
        .await
        .unwrap();

    // All inserts in flight at once.
    let started = Instant::now();
    let tasks: Vec<_> = (0..N)
        .map(|k| {
            let (client, insert) = (client.clone(), insert.clone());
            tokio::spawn(async move {
                let v = [
                    Some(CqlValue::Int(k)),
                    Some(CqlValue::BigInt(i64::from(k) * 3)),
                ];
                client.execute(&insert, v, &QueryOptions::new()).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().expect("insert");
    }
    let inserts = started.elapsed();

    // All selects in flight at once; each answer must be its own key's row.
    let started = Instant::now();
    let tasks: Vec<_> = (0..N)
        .map(|k| {
            let (client, select) = (client.clone(), select.clone());
            tokio::spawn(async move {
                let v = [Some(CqlValue::Int(k))];
                let r = client.execute(&select, v, &QueryOptions::new()).await?;
                let rows = r.rows().expect("rows");
                assert_eq!(rows.len(), 1, "key {k}");
                let row = rows.row(0).unwrap();
                assert_eq!(row.get::<i32>(0).unwrap(), k);
                assert_eq!(row.get::<i64>(1).unwrap(), i64::from(k) * 3);
                Ok::<_, cql4::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().expect("select");
    }
    let selects = started.elapsed();
    eprintln!(
        "one connection, {N} concurrent: inserts {:.0}/s ({inserts:?}), selects {:.0}/s ({selects:?})",
        f64::from(N) / inserts.as_secs_f64(),
        f64::from(N) / selects.as_secs_f64()
    );

    // Sequential round trips (latency with nothing else queued: no coalescing delay).
    let started = Instant::now();
    for k in 0..500 {
        let v = [Some(CqlValue::Int(k))];
        client
            .execute(&select, v, &QueryOptions::new())
            .await
            .unwrap();
    }
    eprintln!(
        "sequential select: {:?} per request",
        started.elapsed() / 500
    );
    assert!(!client.is_closed());
    common::drop_keyspace(&client, &ks).await;
}
