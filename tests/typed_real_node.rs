//! The typed API against the real node: a table with every CQL type, a UDT, nested collections
//! and a frozen set as clustering key, written through `#[derive(SerializeRow)]` structs with
//! `bind_row` and read back into `#[derive(FromRow)]` structs (owned and borrowed), equal field
//! by field; nulls, `Unset`, counters, and a UDT that gains a field after it was written.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use cql4::frame::value::{CqlDate, CqlDuration, CqlTime, CqlTimestamp, Decimal, Varint};
use cql4::frame::{ColumnType, CqlValue};
use cql4::{Client, FromCql, FromRow, QueryOptions, SerializeRow, ToCql, Unset};
use futures_util::StreamExt;
use uuid::Uuid;

/// `CREATE TYPE addr …`, fields declared in another order than the type's: they are written
/// and read by name.
#[derive(Debug, Clone, PartialEq, FromCql, ToCql)]
struct Addr {
    tags: Vec<String>,
    street: String,
    #[cql(rename = "zip")]
    postcode: Option<i32>,
    since: Option<NaiveDate>,
    id: Option<Uuid>,
    loc: Option<(f64, f64)>,
}

const CREATE_ADDR: &str = "CREATE TYPE addr (street text, zip int, tags frozen<set<text>>, \
     since date, id uuid, loc frozen<tuple<double, double>>)";

const CREATE_EVERYTHING: &str = "CREATE TABLE everything (k int, fs frozen<set<text>>, \
     a ascii, b bigint, bl blob, bo boolean, d decimal, db double, du duration, f float, \
     i inet, n int, sm smallint, tm time, ts timestamp, dt date, tu timeuuid, ti tinyint, \
     u uuid, t text, vi varint, vbig varint, \
     l list<int>, s set<text>, m map<text, bigint>, hm map<int, text>, \
     tup tuple<int, text, frozen<list<bigint>>>, ud frozen<addr>, uf addr, \
     lud list<frozen<addr>>, nested map<text, frozen<list<int>>>, \
     deep list<frozen<map<int, frozen<set<text>>>>>, mu map<int, frozen<addr>>, \
     tud tuple<int, frozen<addr>>, \
     PRIMARY KEY (k, fs))";

/// Every column of `everything`, in the order of the bind markers and of the selects.
const COLUMNS: &str = "k, fs, a, b, bl, bo, d, db, du, f, i, n, sm, tm, ts, dt, tu, ti, u, t, \
     vi, vbig, l, s, m, hm, tup, ud, uf, lud, nested, deep, mu, tud";

/// One row of `everything`, bound by marker name and read by column name.
#[derive(Debug, Clone, PartialEq, SerializeRow, FromRow)]
struct Everything {
    k: i32,
    fs: Vec<String>,
    a: String,
    b: i64,
    bl: Vec<u8>,
    bo: bool,
    d: Decimal,
    db: f64,
    du: CqlDuration,
    f: f32,
    i: IpAddr,
    n: i32,
    sm: i16,
    tm: NaiveTime,
    ts: DateTime<Utc>,
    dt: NaiveDate,
    tu: Uuid,
    ti: i8,
    u: Uuid,
    t: String,
    vi: Varint,
    vbig: i128,
    l: Vec<i32>,
    s: Vec<String>,
    m: BTreeMap<String, i64>,
    hm: HashMap<i32, String>,
    tup: (i32, Option<String>, Vec<i64>),
    ud: Option<Addr>,
    uf: Option<Addr>,
    lud: Vec<Addr>,
    nested: BTreeMap<String, Vec<i32>>,
    deep: Vec<BTreeMap<i32, Vec<String>>>,
    mu: BTreeMap<i32, Addr>,
    tud: (i32, Addr),
}

/// The same row with every column but the key nullable.
#[derive(Debug, Clone, PartialEq, SerializeRow, FromRow)]
struct Nullable {
    k: i32,
    fs: Vec<String>,
    a: Option<String>,
    b: Option<i64>,
    bl: Option<Vec<u8>>,
    bo: Option<bool>,
    d: Option<Decimal>,
    db: Option<f64>,
    du: Option<CqlDuration>,
    f: Option<f32>,
    i: Option<IpAddr>,
    n: Option<i32>,
    sm: Option<i16>,
    tm: Option<NaiveTime>,
    ts: Option<DateTime<Utc>>,
    dt: Option<NaiveDate>,
    tu: Option<Uuid>,
    ti: Option<i8>,
    u: Option<Uuid>,
    t: Option<String>,
    vi: Option<Varint>,
    vbig: Option<i128>,
    l: Option<Vec<i32>>,
    s: Option<Vec<String>>,
    m: Option<BTreeMap<String, i64>>,
    hm: Option<HashMap<i32, String>>,
    tup: Option<(i32, Option<String>, Vec<i64>)>,
    ud: Option<Addr>,
    uf: Option<Addr>,
    lud: Option<Vec<Addr>>,
    nested: Option<BTreeMap<String, Vec<i32>>>,
    deep: Option<Vec<BTreeMap<i32, Vec<String>>>>,
    mu: Option<BTreeMap<i32, Addr>>,
    tud: Option<(i32, Addr)>,
}

/// Part of the row read without copying: text and blobs borrow from the page, and the
/// temporal and uuid columns read as the codec's own types (no feature needed).
#[derive(Debug, FromRow)]
struct Borrowed<'a> {
    k: i32,
    fs: Vec<&'a str>,
    a: &'a str,
    t: &'a str,
    bl: &'a [u8],
    s: Vec<&'a str>,
    m: BTreeMap<&'a str, i64>,
    nested: BTreeMap<&'a str, Vec<i32>>,
    hm: HashMap<i32, &'a str>,
    tup: (i32, Option<&'a str>, Vec<i64>),
    dt: CqlDate,
    ts: CqlTimestamp,
    tm: CqlTime,
    u: [u8; 16],
    tu: [u8; 16],
    vi: CqlValue,
    vbig: Varint,
    ud: Option<CqlValue>,
}

/// Columns taken in order whatever they are called.
#[derive(Debug, PartialEq, FromRow)]
#[cql(by_position)]
struct Positional {
    id: i32,
    label: String,
    numbers: Vec<i32>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn addr(street: &str, zip: Option<i32>, tags: &[&str]) -> Addr {
    Addr {
        tags: strings(tags),
        street: street.to_owned(),
        postcode: zip,
        since: NaiveDate::from_ymd_opt(2001, 9, 9),
        id: Some(Uuid::from_u128(0x0123_4567_89ab_4cde_8f01_2345_6789_abcd)),
        loc: Some((51.5, -0.125)),
    }
}

/// A row with ordinary values; sets are written sorted, as the node returns them.
fn full_row() -> Everything {
    Everything {
        k: 1,
        fs: strings(&["a", "b"]),
        a: "plain ascii".to_owned(),
        b: -9_007_199_254_740_993,
        bl: vec![0, 1, 2, 0xfe, 0xff],
        bo: true,
        d: Decimal::new(Varint::from(123_456_789_i128), 4),
        db: -1.5e300,
        du: CqlDuration {
            months: 14,
            days: 3,
            nanos: 5_000_000_123,
        },
        f: 3.25,
        i: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)),
        n: i32::MIN,
        sm: i16::MIN,
        tm: NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).expect("time"),
        ts: DateTime::from_timestamp_millis(1_700_000_000_123).expect("timestamp"),
        dt: NaiveDate::from_ymd_opt(2024, 2, 29).expect("date"),
        // A version-1 (time-based) UUID, as timeuuid requires.
        tu: Uuid::from_u128(0xd217_7dd0_eaa2_11de_a572_001b_779c_76e3),
        ti: 127,
        u: Uuid::from_u128(0x550e_8400_e29b_41d4_a716_4466_5544_0000),
        t: "ünïcødé ✓".to_owned(),
        vi: Varint::from(-(1_i128 << 100)),
        vbig: i128::MAX,
        l: vec![3, 1, 3],
        s: strings(&["a", "b", "c"]),
        m: BTreeMap::from([("x".to_owned(), 1), ("y".to_owned(), -2)]),
        hm: HashMap::from([(1, "one".to_owned()), (-7, "minus seven".to_owned())]),
        tup: (9, None, vec![1, 2]),
        ud: Some(addr("1 Main St", Some(12_345), &["home", "work"])),
        uf: Some(addr("2 Side St", None, &[])),
        lud: vec![addr("a", Some(1), &[]), addr("b", Some(2), &["x"])],
        nested: BTreeMap::from([
            ("outer".to_owned(), vec![1, 2, 3]),
            ("empty".to_owned(), vec![]),
        ]),
        deep: vec![
            BTreeMap::from([(1, strings(&["p", "q"])), (2, vec![])]),
            BTreeMap::new(),
        ],
        mu: BTreeMap::from([(5, addr("five", Some(5), &["v"]))]),
        tud: (
            -1,
            Addr {
                tags: vec![],
                street: String::new(),
                postcode: None,
                since: None,
                id: None,
                loc: None,
            },
        ),
    }
}

/// A second row in the same partition with the extremes of each type.
fn extreme_row() -> Everything {
    Everything {
        k: 1,
        fs: strings(&["z"]),
        a: String::new(),
        b: i64::MAX,
        bl: vec![],
        bo: false,
        d: Decimal::new(Varint::from(-5_i128), -3),
        db: f64::MIN_POSITIVE,
        du: CqlDuration {
            months: -1,
            days: -2,
            nanos: -3,
        },
        f: f32::NEG_INFINITY,
        i: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        n: i32::MAX,
        sm: i16::MAX,
        tm: NaiveTime::from_hms_opt(0, 0, 0).expect("midnight"),
        // Before the epoch, so negative milliseconds.
        ts: DateTime::from_timestamp_millis(-1).expect("timestamp"),
        dt: NaiveDate::from_ymd_opt(1, 1, 1).expect("date"),
        tu: Uuid::from_u128(0x0000_0000_0000_1000_8000_0000_0000_0000),
        ti: i8::MIN,
        u: Uuid::nil(),
        t: String::new(),
        vi: Varint::from(0_i128),
        vbig: i128::MIN,
        l: vec![i32::MIN, 0, i32::MAX],
        s: strings(&[""]),
        m: BTreeMap::from([(String::new(), i64::MIN)]),
        hm: HashMap::from([(0, String::new())]),
        tup: (i32::MIN, Some(String::new()), vec![]),
        ud: None,
        uf: None,
        lud: vec![],
        nested: BTreeMap::new(),
        deep: vec![],
        mu: BTreeMap::new(),
        tud: (0, addr("", Some(0), &[""])),
    }
}

/// Asserts two rows of `everything` equal field by field, naming the first that differs.
macro_rules! assert_fields_eq {
    ($got:expr, $want:expr, $($field:ident),+ $(,)?) => {{
        let (got, want) = (&$got, &$want);
        $(assert_eq!(got.$field, want.$field, "column {}", stringify!($field));)+
    }};
}

fn assert_everything_eq(got: &Everything, want: &Everything) {
    assert_fields_eq!(
        got, want, k, fs, a, b, bl, bo, d, db, du, f, i, n, sm, tm, ts, dt, tu, ti, u, t, vi, vbig,
        l, s, m, hm, tup, ud, uf, lud, nested, deep, mu, tud,
    );
    // And nothing the list above forgot.
    assert_eq!(got, want);
}

async fn create_everything(client: &Client) {
    common::exec(client, CREATE_ADDR).await;
    common::exec(client, CREATE_EVERYTHING).await;
}

async fn insert<R: SerializeRow>(client: &Client, row: &R) {
    let markers = vec!["?"; COLUMNS.split(',').count()].join(", ");
    let insert = client
        .prepare(&format!(
            "INSERT INTO everything ({COLUMNS}) VALUES ({markers})"
        ))
        .await
        .expect("prepare insert");
    let values = row;
    client
        .execute(&insert, values, &QueryOptions::new())
        .await
        .expect("insert");
}

async fn select_one(client: &Client, k: i32, fs: &[&str]) -> cql4::QueryResult {
    let select = client
        .prepare(&format!(
            "SELECT {COLUMNS} FROM everything WHERE k = ? AND fs = ?"
        ))
        .await
        .expect("prepare select");
    client
        .execute(&select, (k, fs), &QueryOptions::new())
        .await
        .expect("select")
}

#[tokio::test]
async fn every_type_round_trips_through_derived_structs() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "typed").await;
    create_everything(&client).await;

    let full = full_row();
    let extreme = extreme_row();
    insert(&client, &full).await;
    insert(&client, &extreme).await;

    // EXECUTE (cached result metadata) into the owned struct, one row per clustering key.
    for want in [&full, &extreme] {
        let fs: Vec<&str> = want.fs.iter().map(String::as_str).collect();
        let result = select_one(&client, want.k, &fs).await;
        let got: Everything = result.single_row().expect("single_row");
        assert_everything_eq(&got, want);
    }

    // QUERY (metadata from the server) of the whole partition through `rows_typed`: the
    // frozen-set clustering key selects which row is which.
    let result = common::exec(
        &client,
        &format!("SELECT {COLUMNS} FROM everything WHERE k = 1"),
    )
    .await;
    let rows: Vec<Everything> = result
        .rows_typed::<Everything>()
        .expect("rows_typed")
        .collect::<Result<_, _>>()
        .expect("decode rows");
    assert_eq!(rows.len(), 2);
    for want in [&full, &extreme] {
        let got = rows
            .iter()
            .find(|r| r.fs == want.fs)
            .unwrap_or_else(|| panic!("no row with fs = {:?}", want.fs));
        assert_everything_eq(got, want);
    }

    // The same page into borrowed fields and the codec's own types.
    let result = select_one(&client, 1, &["a", "b"]).await;
    let got: Borrowed<'_> = result.first_row().expect("borrowed row");
    assert_eq!(got.k, full.k);
    assert_eq!(got.fs, ["a", "b"]);
    assert_eq!(got.a, full.a);
    assert_eq!(got.t, full.t);
    assert_eq!(got.bl, full.bl.as_slice());
    assert_eq!(got.s, ["a", "b", "c"]);
    assert_eq!(got.m, BTreeMap::from([("x", 1), ("y", -2)]));
    assert_eq!(
        got.nested,
        BTreeMap::from([("empty", vec![]), ("outer", vec![1, 2, 3])])
    );
    assert_eq!(got.hm, HashMap::from([(1, "one"), (-7, "minus seven")]));
    assert_eq!(got.tup, (9, None, vec![1, 2]));
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    assert_eq!(
        Some(got.dt),
        CqlDate::from_days_since_epoch((full.dt - epoch).num_days())
    );
    assert_eq!(got.ts, CqlTimestamp(full.ts.timestamp_millis()));
    assert_eq!(
        Some(got.tm),
        CqlTime::from_nanos(
            i64::from(full.tm.num_seconds_from_midnight()) * 1_000_000_000
                + i64::from(full.tm.nanosecond())
        )
    );
    assert_eq!(&got.u, full.u.as_bytes());
    assert_eq!(&got.tu, full.tu.as_bytes());
    assert_eq!(got.vi, CqlValue::Varint(full.vi.clone()));
    assert_eq!(got.vbig, Varint::from(full.vbig));
    let Some(CqlValue::Udt(fields)) = &got.ud else {
        panic!("ud read as CqlValue: {:?}", got.ud);
    };
    assert_eq!(
        fields.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["street", "zip", "tags", "since", "id", "loc"],
        "the UDT is written in its declared order whatever the struct's"
    );
    assert_eq!(
        fields[0].1,
        Some(CqlValue::Text("1 Main St".to_owned())),
        "street"
    );
    assert_eq!(fields[1].1, Some(CqlValue::Int(12_345)), "zip");

    // By position: the aliases do not match the field names.
    let result = common::exec(
        &client,
        "SELECT k AS key, t AS txt, l AS nums FROM everything WHERE k = 1 AND fs = {'a', 'b'}",
    )
    .await;
    let got: Positional = result.single_row().expect("positional row");
    assert_eq!(
        got,
        Positional {
            id: full.k,
            label: full.t.clone(),
            numbers: full.l.clone(),
        }
    );

    // A column read as the wrong Rust type is a decode error, not a wrong value.
    match result.first_row::<(i32, i32, Vec<i32>)>() {
        Err(cql4::Error::Decode(_)) => {}
        other => panic!("text read as int: expected a decode error, got {other:?}"),
    }

    common::drop_keyspace(&client, &ks).await;
}

#[tokio::test]
async fn nulls_and_unset_through_derived_structs() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "typed_null").await;
    create_everything(&client).await;

    // Every column but the key bound as null (`None`).
    let empty = Nullable {
        k: 2,
        fs: strings(&["n"]),
        a: None,
        b: None,
        bl: None,
        bo: None,
        d: None,
        db: None,
        du: None,
        f: None,
        i: None,
        n: None,
        sm: None,
        tm: None,
        ts: None,
        dt: None,
        tu: None,
        ti: None,
        u: None,
        t: None,
        vi: None,
        vbig: None,
        l: None,
        s: None,
        m: None,
        hm: None,
        tup: None,
        ud: None,
        uf: None,
        lud: None,
        nested: None,
        deep: None,
        mu: None,
        tud: None,
    };
    insert(&client, &empty).await;
    let result = select_one(&client, 2, &["n"]).await;
    let got: Nullable = result.single_row().expect("nullable row");
    assert_fields_eq!(
        got, empty, k, fs, a, b, bl, bo, d, db, du, f, i, n, sm, tm, ts, dt, tu, ti, u, t, vi,
        vbig, l, s, m, hm, tup, ud, uf, lud, nested, deep, mu, tud,
    );
    assert_eq!(got, empty);
    // A null collection reads as empty into a non-`Option` field; a null text does not read.
    let (l, m): (Vec<i32>, BTreeMap<String, i64>) = common::exec(
        &client,
        "SELECT l, m FROM everything WHERE k = 2 AND fs = {'n'}",
    )
    .await
    .single_row()
    .expect("null collections");
    assert!(l.is_empty() && m.is_empty(), "{l:?} {m:?}");
    match result.single_row::<Everything>() {
        Err(cql4::Error::Decode(_)) => {}
        other => panic!("null read as String: expected a decode error, got {other:?}"),
    }

    // Every column set through the nullable struct, then read as the owned one.
    let full = full_row();
    let some = Nullable {
        k: 3,
        fs: full.fs.clone(),
        a: Some(full.a.clone()),
        b: Some(full.b),
        bl: Some(full.bl.clone()),
        bo: Some(full.bo),
        d: Some(full.d.clone()),
        db: Some(full.db),
        du: Some(full.du),
        f: Some(full.f),
        i: Some(full.i),
        n: Some(full.n),
        sm: Some(full.sm),
        tm: Some(full.tm),
        ts: Some(full.ts),
        dt: Some(full.dt),
        tu: Some(full.tu),
        ti: Some(full.ti),
        u: Some(full.u),
        t: Some(full.t.clone()),
        vi: Some(full.vi.clone()),
        vbig: Some(full.vbig),
        l: Some(full.l.clone()),
        s: Some(full.s.clone()),
        m: Some(full.m.clone()),
        hm: Some(full.hm.clone()),
        tup: Some(full.tup.clone()),
        ud: full.ud.clone(),
        uf: full.uf.clone(),
        lud: Some(full.lud.clone()),
        nested: Some(full.nested.clone()),
        deep: Some(full.deep.clone()),
        mu: Some(full.mu.clone()),
        tud: Some(full.tud.clone()),
    };
    insert(&client, &some).await;
    let got: Everything = select_one(&client, 3, &["a", "b"])
        .await
        .single_row()
        .expect("owned row");
    assert_everything_eq(
        &got,
        &Everything {
            k: 3,
            ..full.clone()
        },
    );

    // `Unset` leaves its column as it was; `None` deletes it.
    #[derive(SerializeRow)]
    struct Patch {
        k: i32,
        fs: Vec<String>,
        a: Unset,
        b: Option<i64>,
        t: String,
        l: Unset,
        ud: Unset,
        nested: Option<BTreeMap<String, Vec<i32>>>,
    }
    let update = client
        .prepare(
            "UPDATE everything SET a = ?, b = ?, t = ?, l = ?, ud = ?, nested = ? \
             WHERE k = ? AND fs = ?",
        )
        .await
        .expect("prepare update");
    let patch = Patch {
        k: 3,
        fs: full.fs.clone(),
        a: Unset,
        b: None,
        t: "changed".to_owned(),
        l: Unset,
        ud: Unset,
        nested: None,
    };
    client
        .execute(&update, &patch, &QueryOptions::new())
        .await
        .expect("update");
    let got: Nullable = select_one(&client, 3, &["a", "b"])
        .await
        .single_row()
        .expect("patched row");
    let want = Nullable {
        b: None,
        t: Some("changed".to_owned()),
        nested: None,
        ..some.clone()
    };
    assert_fields_eq!(got, want, a, b, t, l, ud, nested);
    assert_eq!(got, want);

    // Unset through the full insert: a row whose unset columns were never written.
    #[derive(SerializeRow)]
    struct KeyOnly {
        k: i32,
        fs: Vec<String>,
        a: Unset,
        b: Unset,
        bl: Unset,
        bo: Unset,
        d: Unset,
        db: Unset,
        du: Unset,
        f: Unset,
        i: Unset,
        n: Option<i32>,
        sm: Unset,
        tm: Unset,
        ts: Unset,
        dt: Unset,
        tu: Unset,
        ti: Unset,
        u: Unset,
        t: Unset,
        vi: Unset,
        vbig: Unset,
        l: Unset,
        s: Unset,
        m: Unset,
        hm: Unset,
        tup: Unset,
        ud: Unset,
        uf: Unset,
        lud: Unset,
        nested: Unset,
        deep: Unset,
        mu: Unset,
        tud: Unset,
    }
    insert(
        &client,
        &KeyOnly {
            k: 4,
            fs: strings(&["u"]),
            a: Unset,
            b: Unset,
            bl: Unset,
            bo: Unset,
            d: Unset,
            db: Unset,
            du: Unset,
            f: Unset,
            i: Unset,
            n: Some(44),
            sm: Unset,
            tm: Unset,
            ts: Unset,
            dt: Unset,
            tu: Unset,
            ti: Unset,
            u: Unset,
            t: Unset,
            vi: Unset,
            vbig: Unset,
            l: Unset,
            s: Unset,
            m: Unset,
            hm: Unset,
            tup: Unset,
            ud: Unset,
            uf: Unset,
            lud: Unset,
            nested: Unset,
            deep: Unset,
            mu: Unset,
            tud: Unset,
        },
    )
    .await;
    let got: Nullable = select_one(&client, 4, &["u"])
        .await
        .single_row()
        .expect("unset row");
    assert_eq!(
        got,
        Nullable {
            k: 4,
            fs: strings(&["u"]),
            n: Some(44),
            ..empty.clone()
        }
    );

    common::drop_keyspace(&client, &ks).await;
}

#[tokio::test]
async fn counters_through_derived_structs() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "typed_counter").await;
    common::exec(
        &client,
        "CREATE TABLE hits (page text PRIMARY KEY, views counter, likes counter)",
    )
    .await;

    #[derive(SerializeRow)]
    struct Bump<'a> {
        page: &'a str,
        views: i64,
        likes: i64,
    }
    #[derive(Debug, PartialEq, FromRow)]
    struct Hits {
        page: String,
        views: i64,
        likes: Option<i64>,
    }

    let update = client
        .prepare("UPDATE hits SET views = views + ?, likes = likes + ? WHERE page = ?")
        .await
        .expect("prepare");
    for (views, likes) in [(5, 1), (-2, 0), (i64::from(i32::MAX) + 1, -3)] {
        let bump = Bump {
            page: "/index",
            views,
            likes,
        };
        client
            .execute(&update, &bump, &QueryOptions::new())
            .await
            .expect("update");
    }
    let got: Hits = common::exec(&client, "SELECT page, views, likes FROM hits")
        .await
        .single_row()
        .expect("counter row");
    assert_eq!(
        got,
        Hits {
            page: "/index".to_owned(),
            views: 3 + i64::from(i32::MAX) + 1,
            likes: Some(-2),
        }
    );
    common::drop_keyspace(&client, &ks).await;
}

/// `CREATE TYPE pt (x int, label text)`, as the program knew it when it wrote.
#[derive(Debug, Clone, PartialEq, FromCql, ToCql)]
struct Pt {
    x: i32,
    label: Option<String>,
}

/// The same type after `ALTER TYPE pt ADD extra bigint`.
#[derive(Debug, Clone, PartialEq, FromCql, ToCql)]
struct PtV2 {
    extra: Option<i64>,
    x: i32,
    label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, SerializeRow, FromRow)]
struct Shape {
    k: i32,
    p: Pt,
    lp: Vec<Pt>,
    mp: BTreeMap<String, Pt>,
}

#[derive(Debug, Clone, PartialEq, SerializeRow, FromRow)]
struct ShapeV2 {
    k: i32,
    p: PtV2,
    lp: Vec<PtV2>,
    mp: BTreeMap<String, PtV2>,
}

fn pt(x: i32, label: &str) -> Pt {
    Pt {
        x,
        label: Some(label.to_owned()),
    }
}

fn shape(k: i32) -> Shape {
    Shape {
        k,
        p: pt(k, "p"),
        lp: vec![pt(1, "one"), pt(2, "two")],
        mp: BTreeMap::from([("m".to_owned(), pt(3, "three"))]),
    }
}

/// `shape`'s values as the altered type, whose new field is null.
fn widened(s: &Shape) -> ShapeV2 {
    let w = |p: &Pt| PtV2 {
        extra: None,
        x: p.x,
        label: p.label.clone(),
    };
    ShapeV2 {
        k: s.k,
        p: w(&s.p),
        lp: s.lp.iter().map(w).collect(),
        mp: s.mp.iter().map(|(k, v)| (k.clone(), w(v))).collect(),
    }
}

async fn read<T: for<'r> FromRow<'r>>(client: &Client, k: i32) -> T {
    common::exec(
        client,
        &format!("SELECT k, p, lp, mp FROM shapes WHERE k = {k}"),
    )
    .await
    .single_row()
    .unwrap_or_else(|e| panic!("row {k}: {e}"))
}

#[tokio::test]
async fn udt_that_gains_a_field_still_reads() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "typed_alter").await;
    common::exec(&client, "CREATE TYPE pt (x int, label text)").await;
    common::exec(
        &client,
        "CREATE TABLE shapes (k int PRIMARY KEY, p frozen<pt>, lp list<frozen<pt>>, \
         mp map<text, frozen<pt>>)",
    )
    .await;
    let old_insert = client
        .prepare("INSERT INTO shapes (k, p, lp, mp) VALUES (?, ?, ?, ?)")
        .await
        .expect("prepare insert");
    let old_select = client
        .prepare("SELECT k, p, lp, mp FROM shapes WHERE k = ?")
        .await
        .expect("prepare select");
    let one = shape(1);
    client
        .execute(&old_insert, &one, &QueryOptions::new())
        .await
        .expect("insert");

    common::exec(&client, "ALTER TYPE pt ADD extra bigint").await;

    // Written before the ALTER: the old struct reads it, and the new one sees a null field.
    assert_eq!(read::<Shape>(&client, 1).await, one);
    assert_eq!(read::<ShapeV2>(&client, 1).await, widened(&one));

    // Written after it, through a statement prepared with the new type: with the new field
    // (the old struct skips it) and without (the old struct writes the fields it has).
    let new_insert = client
        .prepare("INSERT INTO shapes (mp, lp, p, k) VALUES (?, ?, ?, ?)")
        .await
        .expect("prepare insert after ALTER");
    let mut two = widened(&shape(2));
    two.p.extra = Some(i64::MIN);
    two.lp[1].extra = Some(7);
    if let Some(v) = two.mp.get_mut("m") {
        v.extra = Some(-1);
    }
    let three = shape(3);
    let rows: [&(dyn SerializeRow + Sync); 2] = [&two, &three];
    for values in rows {
        client
            .execute(&new_insert, values, &QueryOptions::new())
            .await
            .expect("insert after ALTER");
    }
    assert_eq!(read::<ShapeV2>(&client, 2).await, two);
    assert_eq!(read::<Shape>(&client, 2).await, shape(2));
    assert_eq!(read::<Shape>(&client, 3).await, three);
    assert_eq!(read::<ShapeV2>(&client, 3).await, widened(&three));

    // The statement prepared before the ALTER still writes the old struct.
    let four = shape(4);
    client
        .execute(&old_insert, &four, &QueryOptions::new())
        .await
        .expect("insert through the old statement");
    assert_eq!(read::<ShapeV2>(&client, 4).await, widened(&four));

    // And the select prepared before it reads a row with the new field set into the old
    // struct. The node forgets statements on tables whose types change, so the EXECUTE is
    // answered UNPREPARED and the client prepares it again, decoding with the new type (a
    // three-field value against the cached two-field type would be malformed).
    let result = client
        .execute(&old_select, (2_i32,), &QueryOptions::new())
        .await
        .expect("select through the old statement");
    assert_eq!(result.single_row::<Shape>().expect("old select"), shape(2));
    let metadata = old_select.result_metadata().expect("result metadata");
    let ColumnType::Udt(udt) = &metadata.columns[1].ty else {
        panic!("p is {}", metadata.columns[1].ty);
    };
    assert_eq!(
        udt.fields
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["x", "label", "extra"],
        "the statement prepared before the ALTER was prepared again"
    );

    common::drop_keyspace(&client, &ks).await;
}

#[tokio::test]
async fn streamed_pages_read_into_derived_structs() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "typed_stream").await;
    create_everything(&client).await;

    // Rows over several partitions and clustering keys, each a little different.
    let want: Vec<Everything> = (0..17)
        .map(|i| {
            let mut row = if i % 2 == 0 {
                full_row()
            } else {
                extreme_row()
            };
            row.k = i / 3;
            row.fs = vec![format!("c{i:02}")];
            row.l.push(i);
            row.lud.push(addr(&format!("street {i}"), Some(i), &[]));
            row
        })
        .collect();
    for row in &want {
        insert(&client, row).await;
    }

    let select = client
        .prepare(&format!("SELECT {COLUMNS} FROM everything"))
        .await
        .expect("prepare");
    let mut stream = client.execute_rows(&select, (), &QueryOptions::new().with_page_size(4));
    let mut got = Vec::new();
    while let Some(row) = stream.next().await {
        let row = row.expect("page");
        got.push(row.typed::<Everything>().expect("typed row"));
    }
    assert_eq!(got.len(), want.len());
    for want in &want {
        let row = got
            .iter()
            .find(|r| r.fs == want.fs)
            .unwrap_or_else(|| panic!("no row with fs = {:?}", want.fs));
        assert_everything_eq(row, want);
    }

    // A row that does not fit the markers fails to bind, naming the marker and both types.
    let err = select_statement_key_mismatch(&client).await;
    for part in ["bind marker 1 (fs)", "i32", "set<text>"] {
        assert!(err.contains(part), "{part:?} not in {err:?}");
    }

    common::drop_keyspace(&client, &ks).await;
}

/// Binds an int where the frozen-set clustering key is expected and returns the error text.
async fn select_statement_key_mismatch(client: &Client) -> String {
    let select = client
        .prepare(&format!(
            "SELECT {COLUMNS} FROM everything WHERE k = ? AND fs = ?"
        ))
        .await
        .expect("prepare select");
    match client
        .execute(&select, (1_i32, 2_i32), &QueryOptions::new())
        .await
    {
        Err(e @ cql4::Error::Encode(_)) => e.to_string(),
        other => panic!("an int for a frozen<set<text>> bound: {other:?}"),
    }
}

#[tokio::test]
async fn element_updates_bind_their_element_types() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "typed_elems").await;
    create_everything(&client).await;
    let full = full_row();
    insert(&client, &full).await;

    // Markers typed as a collection's elements, a map's key and value, and a UDT field of
    // the non-frozen `uf`, bound by position.
    let update = client
        .prepare(
            "UPDATE everything SET l = l + ?, s = s + ?, m[?] = ?, uf.zip = ?, \
             nested = nested + ? WHERE k = ? AND fs = ?",
        )
        .await
        .expect("prepare update");
    let values = (
        vec![7_i32, 8],
        vec!["d"],
        "z",
        i64::MAX,
        Some(99_i32),
        BTreeMap::from([("added", vec![4_i32])]),
        full.k,
        &full.fs,
    );
    client
        .execute(&update, values, &QueryOptions::new())
        .await
        .expect("update");

    let fs: Vec<&str> = full.fs.iter().map(String::as_str).collect();
    let got: Everything = select_one(&client, full.k, &fs)
        .await
        .single_row()
        .expect("updated row");
    let mut want = full.clone();
    want.l.extend([7, 8]);
    want.s.push("d".to_owned());
    want.m.insert("z".to_owned(), i64::MAX);
    if let Some(uf) = &mut want.uf {
        uf.postcode = Some(99);
    }
    want.nested.insert("added".to_owned(), vec![4]);
    assert_everything_eq(&got, &want);

    common::drop_keyspace(&client, &ks).await;
}

/// A row written by an unprepared QUERY, its values serialized by their Rust types (no
/// PREPARED metadata), positional and named, then read back.
#[derive(Debug, PartialEq, FromRow, SerializeRow)]
struct Plain {
    k: i32,
    name: String,
    tags: Vec<String>,
    score: Option<f64>,
}

#[tokio::test]
async fn unprepared_typed_insert_reads_back() {
    let node = common::node();
    let client = node.client().await;
    let ks = common::keyspace(&client, "typed_unprepared").await;
    client
        .query(
            "CREATE TABLE plain (k int PRIMARY KEY, name text, tags list<text>, score double)",
            (),
            &QueryOptions::new(),
        )
        .await
        .expect("create table");
    // Positional: a tuple, each value its natural CQL type.
    client
        .query(
            "INSERT INTO plain (k, name, tags, score) VALUES (?, ?, ?, ?)",
            (1_i32, "one", vec!["a", "b"], Some(1.5_f64)),
            &QueryOptions::new(),
        )
        .await
        .expect("positional insert");
    // Named: a derived struct, bound by marker name.
    let two = Plain {
        k: 2,
        name: "two".into(),
        tags: Vec::new(),
        score: None,
    };
    client
        .query(
            "INSERT INTO plain (k, name, tags, score) VALUES (:k, :name, :tags, :score)",
            &two,
            &QueryOptions::new(),
        )
        .await
        .expect("named insert");
    let read = |k: i32| {
        let client = client.clone();
        async move {
            client
                .query(
                    "SELECT k, name, tags, score FROM plain WHERE k = ?",
                    (k,),
                    &QueryOptions::new(),
                )
                .await
                .expect("select")
                .single_row::<Plain>()
                .expect("one row")
        }
    };
    assert_eq!(
        read(1).await,
        Plain {
            k: 1,
            name: "one".into(),
            tags: vec!["a".into(), "b".into()],
            score: Some(1.5),
        }
    );
    assert_eq!(read(2).await, two);
    common::drop_keyspace(&client, &ks).await;
}
