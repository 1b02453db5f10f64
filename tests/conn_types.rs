//! Every CQL type written with bound values (prepared, typed by the bind markers) and read back
//! equal, including nested collections, UDTs, tuples, varint, decimal and duration.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cql4::frame::value::{CqlDate, CqlDuration, CqlTime, CqlTimestamp, Decimal, Varint};
use cql4::frame::CqlValue;
use cql4::QueryOptions;

fn text(s: &str) -> CqlValue {
    CqlValue::Text(s.to_owned())
}

#[tokio::test]
async fn every_type_round_trips_through_bound_values() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "types").await;
    common::exec(
        &client,
        "CREATE TYPE addr (street text, zip int, tags frozen<set<text>>)",
    )
    .await;
    common::exec(
        &client,
        "CREATE TABLE all_types (k int PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean, \
         d decimal, db double, f float, i inet, n int, sm smallint, ti tinyint, ts timestamp, \
         dt date, tm time, u uuid, tu timeuuid, t text, vi varint, du duration, \
         l list<int>, s set<text>, m map<text, bigint>, \
         nested map<text, frozen<list<frozen<set<int>>>>>, \
         tup tuple<int, text, frozen<list<bigint>>>, ud frozen<addr>, lud list<frozen<addr>>, \
         i6 inet, bigvi varint, negd decimal)",
    )
    .await;

    let addr = |street: &str, zip: i32, tags: &[&str]| {
        CqlValue::Udt(vec![
            ("street".to_owned(), Some(text(street))),
            ("zip".to_owned(), Some(CqlValue::Int(zip))),
            (
                "tags".to_owned(),
                Some(CqlValue::Set(tags.iter().map(|t| text(t)).collect())),
            ),
        ])
    };
    let uuid = *b"\x55\x0e\x84\x00\xe2\x9b\x41\xd4\xa7\x16\x44\x66\x55\x44\x00\x00";
    // A version-1 (time-based) UUID for timeuuid.
    let timeuuid = *b"\xd2\x17\x7d\xd0\xea\xa2\x11\xde\xa5\x72\x00\x1b\x77\x9c\x76\xe3";
    let values: Vec<Option<CqlValue>> = vec![
        Some(CqlValue::Int(1)),
        Some(CqlValue::Ascii("plain ascii".to_owned())),
        Some(CqlValue::BigInt(-9_007_199_254_740_993)),
        Some(CqlValue::Blob(vec![0, 1, 2, 0xfe, 0xff])),
        Some(CqlValue::Boolean(true)),
        Some(CqlValue::Decimal(Decimal::new(
            Varint::from(123_456_789_i64),
            4,
        ))),
        Some(CqlValue::Double(-1.5e300)),
        Some(CqlValue::Float(3.25)),
        Some(CqlValue::Inet(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)))),
        Some(CqlValue::Int(i32::MIN)),
        Some(CqlValue::SmallInt(-32_768)),
        Some(CqlValue::TinyInt(127)),
        Some(CqlValue::Timestamp(CqlTimestamp(1_700_000_000_123))),
        Some(CqlValue::Date(
            CqlDate::from_days_since_epoch(-719_162).unwrap(),
        )),
        Some(CqlValue::Time(
            CqlTime::from_nanos(86_399_999_999_999).unwrap(),
        )),
        Some(CqlValue::Uuid(uuid)),
        Some(CqlValue::Timeuuid(timeuuid)),
        Some(text("ünïcødé ✓")),
        Some(CqlValue::Varint(Varint::from(-(1_i128 << 100)))),
        Some(CqlValue::Duration(CqlDuration {
            months: 14,
            days: 3,
            nanos: 5_000_000_123,
        })),
        Some(CqlValue::List(vec![
            CqlValue::Int(3),
            CqlValue::Int(1),
            CqlValue::Int(3),
        ])),
        Some(CqlValue::Set(vec![text("a"), text("b"), text("c")])),
        Some(CqlValue::Map(vec![
            (text("x"), CqlValue::BigInt(1)),
            (text("y"), CqlValue::BigInt(-2)),
        ])),
        Some(CqlValue::Map(vec![(
            text("outer"),
            CqlValue::List(vec![
                CqlValue::Set(vec![CqlValue::Int(1), CqlValue::Int(2)]),
                CqlValue::Set(vec![]),
                CqlValue::Set(vec![CqlValue::Int(-7)]),
            ]),
        )])),
        Some(CqlValue::Tuple(vec![
            Some(CqlValue::Int(9)),
            None,
            Some(CqlValue::List(vec![
                CqlValue::BigInt(1),
                CqlValue::BigInt(2),
            ])),
        ])),
        Some(addr("1 Main St", 12_345, &["home", "work"])),
        Some(CqlValue::List(vec![
            addr("a", 1, &[]),
            addr("b", 2, &["x"]),
        ])),
        Some(CqlValue::Inet(IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 0, 0, 0, 0, 0, 1,
        )))),
        Some(CqlValue::Varint(Varint::from(i128::MAX))),
        Some(CqlValue::Decimal(Decimal::new(Varint::from(-5_i64), -3))),
    ];
    let insert = client
        .prepare(
            "INSERT INTO all_types (k, a, b, bl, bo, d, db, f, i, n, sm, ti, ts, dt, tm, u, tu, t, \
             vi, du, l, s, m, nested, tup, ud, lud, i6, bigvi, negd) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .await
        .expect("prepare insert");
    client
        .execute(&insert, &values, &QueryOptions::new())
        .await
        .expect("insert");

    // Null for every column but the key.
    let mut nulls = vec![None; values.len()];
    nulls[0] = Some(CqlValue::Int(2));
    client
        .execute(&insert, &nulls, &QueryOptions::new())
        .await
        .expect("insert nulls");

    let select = client
        .prepare(
            "SELECT k, a, b, bl, bo, d, db, f, i, n, sm, ti, ts, dt, tm, u, tu, t, vi, du, l, s, m, \
             nested, tup, ud, lud, i6, bigvi, negd FROM all_types WHERE k = ?",
        )
        .await
        .expect("prepare select");
    // Read back through EXECUTE (skip-metadata, cached result metadata) ...
    let r = client
        .execute(&select, [Some(CqlValue::Int(1))], &QueryOptions::new())
        .await
        .expect("select");
    let rows = r.rows().expect("rows");
    assert_eq!(rows.len(), 1);
    let got = rows.row(0).unwrap().to_owned_values().expect("decode row");
    assert_eq!(got.len(), values.len());
    for (i, (want, got)) in values.iter().zip(&got).enumerate() {
        assert_eq!(got, want, "column {} ({})", i, rows.columns()[i].name);
    }

    // ... and through QUERY (metadata sent by the server).
    let r = common::exec(&client, "SELECT * FROM all_types WHERE k = 2").await;
    let rows = r.rows().expect("rows");
    let row = rows.row(0).unwrap().to_owned_values().unwrap();
    let k = rows.metadata().column_index("k").unwrap();
    for (i, v) in row.iter().enumerate() {
        if i == k {
            assert_eq!(v, &Some(CqlValue::Int(2)));
        } else {
            assert_eq!(v, &None, "column {} should be null", rows.columns()[i].name);
        }
    }

    // Typed, borrowed access on the same page.
    let r = common::exec(&client, "SELECT t, bl, n FROM all_types WHERE k = 1").await;
    let row = r.rows().unwrap().row(0).unwrap();
    assert_eq!(row.get::<&str>(0).unwrap(), "ünïcødé ✓");
    assert_eq!(row.get::<i32>(2).unwrap(), i32::MIN);
    assert!(
        row.get::<i32>(0).is_err(),
        "text read as int must fail the type check"
    );

    common::drop_keyspace(&client, &ks).await;
}

#[tokio::test]
async fn counters_take_bound_increments() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "counter").await;
    common::exec(&client, "CREATE TABLE c (k int PRIMARY KEY, n counter)").await;
    let update = client
        .prepare("UPDATE c SET n = n + ? WHERE k = ?")
        .await
        .unwrap();
    for delta in [5_i64, -2, 40] {
        let v = [Some(CqlValue::Counter(delta)), Some(CqlValue::Int(1))];
        client
            .execute(&update, v, &QueryOptions::new())
            .await
            .unwrap();
    }
    let r = common::exec(&client, "SELECT n FROM c WHERE k = 1").await;
    let got = r.rows().unwrap().row(0).unwrap().to_owned_values().unwrap();
    assert_eq!(got, vec![Some(CqlValue::Counter(43))]);
    common::drop_keyspace(&client, &ks).await;
}
