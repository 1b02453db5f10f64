//! Paging against the real node: 12,345 rows inserted with concurrent prepared inserts, read
//! with page size 1,000 as explicit pages and as a prefetching row stream — each row exactly
//! once.

mod common;

use std::time::{Duration, Instant};

use cql4::frame::CqlValue;
use cql4::QueryOptions;
use futures_util::StreamExt;

const ROWS: i32 = 12_345;

#[tokio::test]
async fn twelve_thousand_rows_in_pages_of_a_thousand_each_exactly_once() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "paging").await;
    // Several partitions, several rows each, so paging crosses partition boundaries.
    common::exec(
        &client,
        "CREATE TABLE t (p int, c int, v text, PRIMARY KEY (p, c))",
    )
    .await;
    let insert = client
        .prepare("INSERT INTO t (p, c, v) VALUES (?, ?, ?)")
        .await
        .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chunk in 0..8 {
        let client = client.clone();
        let insert = insert.clone();
        tasks.push(tokio::spawn(async move {
            let mut pending = Vec::new();
            for i in (chunk..ROWS).step_by(8) {
                let v = [
                    Some(CqlValue::Int(i % 97)),
                    Some(CqlValue::Int(i)),
                    Some(CqlValue::Text(format!("row {i}"))),
                ];
                let client = client.clone();
                let insert = insert.clone();
                pending.push(async move { client.execute(&insert, v, &QueryOptions::new()).await });
                if pending.len() == 256 {
                    for r in futures_util::future::join_all(pending.drain(..)).await {
                        r.expect("insert");
                    }
                }
            }
            for r in futures_util::future::join_all(pending).await {
                r.expect("insert");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    eprintln!("inserted {ROWS} rows in {:?}", started.elapsed());

    let options = QueryOptions::new()
        .with_page_size(1000)
        .with_timeout(Duration::from_secs(20));

    // Explicit pages.
    let mut seen = vec![0u8; ROWS as usize];
    let mut pages = 0;
    let mut pager = client.query_pages("SELECT p, c, v FROM t", (), &options);
    while let Some(page) = pager.next_page().await {
        let page = page.expect("page");
        let rows = page.rows().expect("rows");
        assert!(rows.len() <= 1000, "page of {} rows", rows.len());
        for row in rows.iter() {
            let c: i32 = row.get(1).unwrap();
            let p: i32 = row.get(0).unwrap();
            let v: &str = row.get(2).unwrap();
            assert_eq!(p, c % 97);
            assert_eq!(v, format!("row {c}"));
            seen[c as usize] += 1;
        }
        pages += 1;
    }
    assert!(
        seen.iter().all(|n| *n == 1),
        "every row exactly once (explicit pages)"
    );
    assert!(pages >= 13, "{pages} pages");

    // The prefetching stream, over a prepared statement (skip-metadata pages).
    let select = client.prepare("SELECT c FROM t").await.unwrap();
    let mut seen = vec![0u8; ROWS as usize];
    let mut stream = client.execute_rows(&select, (), &options);
    let mut count = 0;
    while let Some(row) = stream.next().await {
        let row = row.expect("row");
        let c: i32 = row.get(0).unwrap();
        seen[c as usize] += 1;
        count += 1;
    }
    assert_eq!(count, ROWS);
    assert!(
        seen.iter().all(|n| *n == 1),
        "every row exactly once (row stream)"
    );

    // Resuming from a saved paging state continues where the page ended.
    let first = client.query("SELECT c FROM t", (), &options).await.unwrap();
    let state = first.paging_state().cloned().expect("more pages");
    let second = client
        .query(
            "SELECT c FROM t",
            (),
            &options.clone().with_paging_state(state),
        )
        .await
        .unwrap();
    let a: Vec<i32> = first
        .rows()
        .unwrap()
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    let b: Vec<i32> = second
        .rows()
        .unwrap()
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    assert_eq!(a.len(), 1000);
    assert!(
        a.iter().all(|x| !b.contains(x)),
        "second page repeats none of the first"
    );

    common::drop_keyspace(&client, &ks).await;
}
