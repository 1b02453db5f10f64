//! The oracle of client-side DESCRIBE: Cassandra 5.0 runs DESCRIBE on the server. On a schema
//! with every CQL type, UDTs (nested, frozen, quoted names), collections (nested, frozen
//! keys), static columns, multi-column partition and clustering keys in mixed orders, table
//! options, secondary indexes (plain, on map keys, values and entries, full frozen, SAI), a
//! materialized view, functions and an aggregate:
//! - each of our CREATE statements (from `Session::schema` and `cql4::schema::describe`)
//!   equals the server's `create_statement` for the same element, in the same order
//!   (whitespace normalised; the count of byte-identical ones is reported too);
//! - our statements, run into a fresh keyspace, give a schema whose server DESCRIBE equals
//!   the original's (names aside);
//! - a change made by another client reaches the session's schema through the SCHEMA_CHANGE
//!   event, without a call to `refresh_schema`.

mod common;

use std::time::{Duration, Instant};

use cql4::schema::describe::{self, Element};
use cql4::{QueryOptions, Session};

/// The schema; `{ks}` is the keyspace.
const SCHEMA: &str = r#"
CREATE KEYSPACE {ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1} AND durable_writes = false;
CREATE TYPE {ks}.address (street text, zip int, "Tags" set<text>);
CREATE TYPE {ks}.point (x double, y double);
CREATE TYPE {ks}.person (name text, home frozen<address>, others list<frozen<address>>, seen map<frozen<point>, frozen<list<timestamp>>>);
CREATE TYPE {ks}."Geo" (lat double, "Lng" double);
CREATE TABLE {ks}.all_types (k int PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean, d date, de decimal, db double, du duration, f float, i inet, n int, s smallint, t text, tm time, ts timestamp, tu timeuuid, ti tinyint, u uuid, vc varchar, vi varint, v vector<float, 3>, tp tuple<int, text, frozen<list<int>>>, "Quoted Col" text, cust 'org.apache.cassandra.db.marshal.BytesType', g frozen<"Geo">);
CREATE TABLE {ks}.colls (k1 int, k2 text, c1 int, c2 text, c3 timeuuid, st text static, st2 frozen<person> static, l list<int>, s set<frozen<map<text, int>>>, m map<frozen<set<int>>, frozen<list<text>>>, fm frozen<map<text, list<int>>>, p point, fp frozen<person>, lt list<frozen<tuple<int, frozen<point>>>>, aa list<text>, zz int, PRIMARY KEY ((k1, k2), c1, c2, c3)) WITH CLUSTERING ORDER BY (c1 ASC, c2 DESC, c3 ASC) AND comment = 'it''s a table' AND gc_grace_seconds = 3600 AND default_time_to_live = 100 AND compaction = {'class': 'LeveledCompactionStrategy', 'sstable_size_in_mb': '64'} AND caching = {'keys': 'NONE', 'rows_per_partition': '10'} AND speculative_retry = 'ALWAYS' AND bloom_filter_fp_chance = 0.0001;
CREATE TABLE {ks}.counters (k text, c int, hits counter, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC);
CREATE TABLE {ks}."MixedCase" ("Key" int, "Value" text, PRIMARY KEY ("Key"));
CREATE TABLE {ks}.wide (k int, c int, v text, PRIMARY KEY (k, c)) WITH compression = {'enabled': 'false'} AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': '1'} AND crc_check_chance = 0.5 AND memtable_flush_period_in_ms = 60000;
CREATE TABLE {ks}.pk_only (a int, b text, PRIMARY KEY ((a, b)));
CREATE TABLE {ks}.mapents (k int PRIMARY KEY, m map<text, int>);
CREATE INDEX colls_st_idx ON {ks}.colls (st);
CREATE INDEX ON {ks}.colls (keys(m));
CREATE INDEX colls_l_values ON {ks}.colls (values(l));
CREATE INDEX colls_fm_full ON {ks}.colls (full(fm));
CREATE INDEX colls_c2 ON {ks}.colls (c2);
CREATE INDEX ON {ks}."MixedCase" ("Value");
CREATE INDEX mapents_entries ON {ks}.mapents (entries(m));
CREATE INDEX all_types_t_sai ON {ks}.all_types (t) USING 'sai';
CREATE INDEX all_types_n_sai ON {ks}.all_types (n) USING 'sai';
CREATE INDEX all_types_vc_sai ON {ks}.all_types (vc) USING 'sai' WITH OPTIONS = {'case_sensitive': 'false', 'normalize': 'true'};
CREATE MATERIALIZED VIEW {ks}.wide_by_v AS SELECT k, c, v FROM {ks}.wide WHERE v IS NOT NULL AND k IS NOT NULL AND c IS NOT NULL PRIMARY KEY (v, k, c) WITH CLUSTERING ORDER BY (k DESC, c ASC) AND comment = 'by v';
CREATE TABLE {ks}.events (a int, b int, c int, d text, e frozen<point>, PRIMARY KEY ((a, b), c));
CREATE MATERIALIZED VIEW {ks}.events_all AS SELECT * FROM {ks}.events WHERE a IS NOT NULL AND b IS NOT NULL AND c IS NOT NULL AND d IS NOT NULL PRIMARY KEY ((b, a), d, c) WITH CLUSTERING ORDER BY (d DESC, c ASC);
CREATE FUNCTION {ks}.plus(a int, b int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return (a == null ? 0 : a) + (b == null ? 0 : b);';
CREATE FUNCTION {ks}.state_f(s tuple<int, bigint>, v int) RETURNS NULL ON NULL INPUT RETURNS tuple<int, bigint> LANGUAGE java AS $$ s.setInt(0, s.getInt(0) + 1); s.setLong(1, s.getLong(1) + v); return s; $$;
CREATE FUNCTION {ks}.final_f(s tuple<int, bigint>) RETURNS NULL ON NULL INPUT RETURNS double LANGUAGE java AS 'return (double) s.getLong(1) / Math.max(1, s.getInt(0));';
CREATE FUNCTION {ks}.geo_lat(g "Geo") RETURNS NULL ON NULL INPUT RETURNS double LANGUAGE java AS 'return g.getDouble("lat");';
CREATE FUNCTION {ks}.plus(a bigint, b bigint) RETURNS NULL ON NULL INPUT RETURNS bigint LANGUAGE java AS 'return a + b;';
CREATE AGGREGATE {ks}.average(int) SFUNC state_f STYPE tuple<int, bigint> FINALFUNC final_f INITCOND (0, 0);
CREATE AGGREGATE {ks}.total(int) SFUNC plus STYPE int;
"#;

fn statements(ks: &str) -> Vec<String> {
    SCHEMA
        .replace("{ks}", ks)
        .split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The server's DESCRIBE KEYSPACE: (type, name, create_statement) per row.
async fn server_describe(session: &Session, ks: &str) -> Vec<(String, String, String)> {
    let result = session
        .query(
            &format!("DESCRIBE KEYSPACE {ks}"),
            (),
            &QueryOptions::new().with_page_size(10_000),
        )
        .await
        .expect("server DESCRIBE");
    let rows = result.rows().expect("DESCRIBE returns rows");
    rows.iter()
        .map(|r| {
            let get = |c: &str| -> String { r.get_by_name::<String>(c).expect(c) };
            (get("type"), get("name"), get("create_statement"))
        })
        .collect()
}

fn ours(elements: &[Element]) -> Vec<(String, String, String)> {
    elements
        .iter()
        .map(|e| {
            (
                e.kind.as_str().to_owned(),
                e.name.clone(),
                e.create_statement.clone(),
            )
        })
        .collect()
}

async fn run(session: &Session, cql: &str) {
    session
        .query(cql, (), &QueryOptions::new())
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"));
}

/// Compares element by element; returns (compared, equal, byte-identical) and the
/// differences.
fn compare(
    theirs: &[(String, String, String)],
    ours: &[(String, String, String)],
) -> (usize, usize, usize, Vec<String>) {
    let mut diffs = Vec::new();
    let (mut equal, mut identical) = (0, 0);
    if theirs.len() != ours.len() {
        diffs.push(format!(
            "{} elements from the server, {} of ours",
            theirs.len(),
            ours.len()
        ));
    }
    for (t, o) in theirs.iter().zip(ours) {
        if (t.0.as_str(), t.1.as_str()) != (o.0.as_str(), o.1.as_str()) {
            diffs.push(format!("element {} {} vs ours {} {}", t.0, t.1, o.0, o.1));
        } else if normalise(&t.2) != normalise(&o.2) {
            diffs.push(format!(
                "{} {}:\n server: {}\n ours:   {}",
                t.0, t.1, t.2, o.2
            ));
        } else {
            equal += 1;
            if t.2 == o.2 {
                identical += 1;
            }
        }
    }
    (theirs.len().max(ours.len()), equal, identical, diffs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_describe_equals_the_servers() {
    let node = common::node();
    let session = Session::connect(node.password_config())
        .await
        .expect("connect");
    let pid = std::process::id();
    let ks = format!("schema_oracle_{pid}");
    let copy = format!("schema_oracle_copy_{pid}");
    for k in [&ks, &copy] {
        run(&session, &format!("DROP KEYSPACE IF EXISTS {k}")).await;
    }
    for statement in statements(&ks) {
        run(&session, &statement).await;
    }

    // 1. Our statements against the server's, element by element.
    let schema = session.schema().await.expect("schema");
    let keyspace = schema.keyspace(&ks).expect("the keyspace is in the schema");
    let our_elements = ours(&describe::keyspace_elements(keyspace));
    let theirs = server_describe(&session, &ks).await;
    let (compared, equal, identical, diffs) = compare(&theirs, &our_elements);
    eprintln!(
        "DESCRIBE KEYSPACE: {compared} statements compared, {equal} equal (whitespace \
         normalised), {identical} byte-identical"
    );

    // 2. Our statements executed into a fresh keyspace describe as the original.
    for (_, _, statement) in &our_elements {
        run(&session, &statement.replace(&ks, &copy)).await;
    }
    let copied = server_describe(&session, &copy).await;
    let renamed: Vec<(String, String, String)> = copied
        .iter()
        .map(|(t, n, s)| (t.clone(), n.replace(&copy, &ks), s.replace(&copy, &ks)))
        .collect();
    let (compared2, equal2, _, diffs2) = compare(&theirs, &renamed);
    eprintln!("re-created keyspace: {compared2} statements compared, {equal2} equal");

    // 3. A change by another client reaches the schema through the event.
    let other = node.client().await;
    other
        .query(
            &format!("ALTER TABLE {ks}.wide ADD added_by_other int"),
            (),
            &QueryOptions::new(),
        )
        .await
        .expect("ALTER by another client");
    let started = Instant::now();
    let seen = loop {
        let schema = session.schema().await.expect("schema");
        let has = schema
            .keyspace(&ks)
            .and_then(|k| k.tables.get("wide"))
            .is_some_and(|t| t.column("added_by_other").is_some());
        if has || started.elapsed() > Duration::from_secs(10) {
            break has;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    for k in [&ks, &copy] {
        run(&session, &format!("DROP KEYSPACE IF EXISTS {k}")).await;
    }
    assert!(
        diffs.is_empty(),
        "ours vs the server's:\n{}",
        diffs.join("\n")
    );
    assert!(compared >= 30, "{compared} elements only");
    assert!(
        diffs2.is_empty(),
        "re-created vs original:\n{}",
        diffs2.join("\n")
    );
    assert!(
        seen,
        "the ALTER by another client did not reach the schema in 10 s"
    );
}

/// The node's own keyspaces (`system*`, as `DESCRIBE FULL SCHEMA` includes them): the same
/// comparison on tables Cassandra made, with its options and comments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_keyspaces_describe_as_the_server_does() {
    let node = common::node();
    let session = Session::connect(node.password_config())
        .await
        .expect("connect");
    let schema = session.schema().await.expect("schema");
    let mut all_diffs = Vec::new();
    let (mut compared, mut equal, mut identical) = (0, 0, 0);
    for ks in schema.keyspaces.values().filter(|k| k.is_system()) {
        let theirs = server_describe(&session, &ks.name).await;
        let (c, e, i, diffs) = compare(&theirs, &ours(&describe::keyspace_elements(ks)));
        (compared, equal, identical) = (compared + c, equal + e, identical + i);
        all_diffs.extend(diffs);
    }
    eprintln!(
        "system keyspaces: {compared} statements compared, {equal} equal (whitespace \
         normalised), {identical} byte-identical"
    );
    assert!(compared >= 50, "{compared} elements only");
    assert!(
        all_diffs.is_empty(),
        "ours vs the server's:\n{}",
        all_diffs.join("\n")
    );
}
