//! COPY TO and COPY FROM end to end: the `cql4` binary against the real local node (the
//! `CQL4_TEST_*` variables of `cargo xtask test`; without them every test fails and says so).
//!
//! Tables are compared by their JSON output (exact for every type), sorted, row by row.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn cql4() -> Command {
    let n = cql4_testkit::node::node();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cql4"));
    for name in ["RUST_LOG", "CQL4_LOG", "SSL_CERTFILE"] {
        cmd.env_remove(name);
    }
    cmd.env("HOME", scratch_dir());
    cmd.current_dir(scratch_dir());
    cmd.stdin(Stdio::null());
    cmd.args([
        n.host.as_str(),
        &n.port.to_string(),
        "--ssl-ca",
        &n.ca,
        "--ssl-server-name",
        &n.server_name,
        "-u",
        &n.user,
        "-p",
        &n.password,
        "--request-timeout",
        "60",
    ]);
    cmd
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cql4-copy-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A keyspace name of this job, new for each test.
fn keyspace() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos();
    format!(
        "copy_{}_{}_{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// Runs `cql` with `-e`; the output whatever the status.
fn exec(cql: &str) -> Output {
    cql4()
        .args(["-e", cql])
        .output()
        .expect("the cql4 binary runs")
}

#[track_caller]
fn ok(cql: &str) -> Output {
    let out = exec(cql);
    assert!(
        out.status.success(),
        "{cql}\nstdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// The table's rows as sorted JSON lines.
fn rows(table: &str) -> Vec<String> {
    let out = cql4()
        .args(["--output", "json", "-e", &format!("SELECT * FROM {table}")])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

fn create_keyspace(ks: &str) {
    ok(&format!(
        "CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    ));
}

fn drop_keyspace(ks: &str) {
    let _ = exec(&format!("DROP KEYSPACE IF EXISTS {ks}"));
}

/// The first number of a summary line (`N rows imported …`).
fn summary_count(out: &Output, what: &str) -> u64 {
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no '{what}' summary in:\n{stdout}\n{}", text(&out.stderr)));
    line.split(' ')
        .next()
        .expect("test I/O")
        .parse()
        .expect("a count")
}

const EVERY_TYPE: &str = "\
    CREATE TYPE {ks}.address (street text, \"Zip Code\" int, since timestamp);
    CREATE TABLE {ks}.{t} (
        k int, c text,
        v_ascii ascii, v_bigint bigint, v_blob blob, v_boolean boolean, v_date date,
        v_decimal decimal, v_double double, v_duration duration, v_float float, v_inet inet,
        v_int int, v_smallint smallint, v_text text, v_time time, v_timestamp timestamp,
        v_timeuuid timeuuid, v_tinyint tinyint, v_uuid uuid, v_varint varint,
        v_list list<text>, v_set set<inet>, v_map map<text, frozen<list<timestamp>>>,
        v_tuple tuple<int, text, date>, v_udt address, v_frozen frozen<set<tuple<int, text>>>,
        PRIMARY KEY (k, c))";

const EVERY_ROW: &str = "\
    INSERT INTO {ks}.src (k, c, v_ascii, v_bigint, v_blob, v_boolean, v_date, v_decimal,
        v_double, v_duration, v_float, v_inet, v_int, v_smallint, v_text, v_time, v_timestamp,
        v_timeuuid, v_tinyint, v_uuid, v_varint, v_list, v_set, v_map, v_tuple, v_udt, v_frozen)
    VALUES (1, 'a', 'it''s', -9223372036854775808, 0x00ff, true, '2024-02-29',
        12345678901234567890.123456789012345, 0.1, 1y2mo3d4h5m6s7ms8us9ns, 1.5, '::1',
        -2147483648, -32768, 'quote \" comma , semicolon ; pipe | done', '13:45:30.123456789',
        '2024-02-29T13:45:30.123+0000', 50554d6e-29bb-11e5-b345-feff819cdc9f, -128,
        123e4567-e89b-12d3-a456-426614174000, 123456789012345678901234567890,
        ['x', 'y''s', '', 'with, comma'], {'127.0.0.1', '::1'},
        {'k''ey': ['1970-01-01 00:00:00+0000', '2038-01-19 03:14:07.999+0000']},
        (1, 'two, \"three\"', '1970-01-01'), {street: 'Main St\nline 2', \"Zip Code\": null, since: 0},
        {(1, 'a'), (2, '')});
    INSERT INTO {ks}.src (k, c, v_text, v_list) VALUES (2, 'b', '', []);
    INSERT INTO {ks}.src (k, c, v_text) VALUES (3, 'line one\nline two\r\nend', 'tab\there');
    INSERT INTO {ks}.src (k, c) VALUES (4, '');
    INSERT INTO {ks}.src (k, c, v_text, v_ascii) VALUES (5, 'null', 'NULL', '\"\"');
    INSERT INTO {ks}.src (k, c, v_double, v_float, v_blob) VALUES (6, 'x', NaN, -Infinity, 0x);";

fn every_type_round_trip(to: &str, from: &str) {
    let ks = keyspace();
    create_keyspace(&ks);
    ok(&EVERY_TYPE.replace("{ks}", &ks).replace("{t}", "src"));
    ok(&EVERY_TYPE
        .split_once(';')
        .expect("test I/O")
        .1
        .replace("{ks}", &ks)
        .replace("{t}", "dst"));
    ok(&EVERY_ROW.replace("{ks}", &ks));
    let file = scratch_dir().join(format!("{ks}.csv"));
    let path = file.display();
    let out = ok(&format!("COPY {ks}.src TO '{path}' {to}"));
    assert_eq!(summary_count(&out, "rows exported to 1 files"), 6);
    let out = ok(&format!("COPY {ks}.dst FROM '{path}' {from}"));
    assert_eq!(summary_count(&out, "rows imported from 1 files"), 6);
    let src = rows(&format!("{ks}.src"));
    assert_eq!(src.len(), 6);
    assert_eq!(
        src,
        rows(&format!("{ks}.dst")),
        "CSV:\n{}",
        std::fs::read_to_string(&file).expect("test I/O")
    );
    drop_keyspace(&ks);
}

#[test]
fn every_type_round_trips_with_the_defaults() {
    every_type_round_trip("", "");
}

#[test]
fn every_type_round_trips_with_other_options() {
    let common = "WITH HEADER = true AND DELIMITER = '|' AND NULL = 'NULL' \
        AND BOOLSTYLE = 'yes,no' AND DECIMALSEP = ',' AND THOUSANDSSEP = '.' \
        AND DATETIMEFORMAT = '%d/%m/%Y %H:%M:%S.%f'";
    every_type_round_trip(
        &format!("{common} AND PAGESIZE = 2 AND MAXOUTPUTSIZE = 100"),
        &format!(
            "{common} AND PREPAREDSTATEMENTS = false AND MAXBATCHSIZE = 2 AND MINBATCHSIZE = 2"
        ),
    );
}

#[test]
fn nulls_and_empty_strings_are_written_apart() {
    let ks = keyspace();
    create_keyspace(&ks);
    ok(&format!(
        "CREATE TABLE {ks}.t (k int PRIMARY KEY, a text, b text, n int)"
    ));
    ok(&format!(
        "INSERT INTO {ks}.t (k, a, b) VALUES (1, '', 'a,\"b\"\nc')"
    ));
    let out = cql4()
        .args(["-e", &format!("COPY {ks}.t TO STDOUT")])
        .output()
        .expect("test I/O");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "1,\"\",\"a,\"\"b\"\"\nc\",\n");
    // The summary goes to stderr when the rows are on stdout.
    assert!(
        text(&out.stderr).contains("1 rows exported to 1 files"),
        "{}",
        text(&out.stderr)
    );
    drop_keyspace(&ks);
}

/// Runs a COPY FROM of `csv` (written to a file); returns the output and the error file.
fn import(ks: &str, csv: &str, with: &str) -> (Output, PathBuf) {
    let file = scratch_dir().join(format!("{ks}_in.csv"));
    std::fs::write(&file, csv).expect("test I/O");
    let err = scratch_dir().join(format!("{ks}.err"));
    let _ = std::fs::remove_file(&err);
    let out = exec(&format!(
        "COPY {ks}.t FROM '{}' WITH ERRFILE = '{}' {with}",
        file.display(),
        err.display()
    ));
    (out, err)
}

#[test]
fn rows_that_do_not_parse_go_to_the_err_file() {
    let ks = keyspace();
    create_keyspace(&ks);
    ok(&format!(
        "CREATE TABLE {ks}.t (k int PRIMARY KEY, a int, b list<int>)"
    ));
    let csv = "1,1,[1]\n2,x,[2]\n3,3,[3\n4,4\n5,5,[]\n";
    let (out, err) = import(&ks, csv, "");
    assert!(!out.status.success());
    assert_eq!(summary_count(&out, "rows imported"), 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 2: 'x' is not a valid int value"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4: expected 3 fields, found 2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 rows not imported (3 parse errors, 0 insert errors)"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&err).expect("test I/O"),
        "2,x,[2]\n3,3,[3\n4,4\n"
    );
    assert_eq!(rows(&format!("{ks}.t")).len(), 2);

    // MAXPARSEERRORS: stops after more than that many, the rows read so far accounted for.
    ok(&format!("TRUNCATE {ks}.t"));
    let (out, err) = import(&ks, csv, "AND MAXPARSEERRORS = 1");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("more than 1 parse errors (MAXPARSEERRORS); stopped"),
        "{stderr}"
    );
    let imported = summary_count(&out, "rows imported");
    let rejected = std::fs::read_to_string(&err).expect("test I/O");
    // Row 1 was sent or rejected with its chunk; 5 was never read.
    assert!(rejected.starts_with("2,x,[2]\n3,3,[3\n"), "{rejected}");
    assert_eq!(
        imported as usize + rejected.lines().count(),
        3,
        "{rejected}"
    );
    assert_eq!(rows(&format!("{ks}.t")).len() as u64, imported);
    drop_keyspace(&ks);
}

#[test]
fn rows_the_server_refuses_go_to_the_err_file_after_maxattempts() {
    let ks = keyspace();
    create_keyspace(&ks);
    ok(&format!("CREATE TABLE {ks}.t (k text PRIMARY KEY, v int)"));
    // An empty partition key parses but the server refuses it.
    let csv = "a,1\n\"\",2\nb,3\n\"\",4\n";
    let (out, err) = import(&ks, csv, "AND MAXATTEMPTS = 2");
    assert!(!out.status.success());
    assert_eq!(summary_count(&out, "rows imported"), 2);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("(after 2 attempts)"), "{stderr}");
    assert!(
        stderr.contains("2 rows not imported (0 parse errors, 2 insert errors)"),
        "{stderr}"
    );
    let mut rejected: Vec<String> = std::fs::read_to_string(&err)
        .expect("test I/O")
        .lines()
        .map(str::to_owned)
        .collect();
    rejected.sort();
    assert_eq!(rejected, ["\"\",2", "\"\",4"]);

    let (out, _) = import(
        &ks,
        csv,
        "AND MAXATTEMPTS = 1 AND MAXINSERTERRORS = 0 AND CHUNKSIZE = 1",
    );
    assert!(
        text(&out.stderr).contains("more than 0 insert errors (MAXINSERTERRORS); stopped"),
        "{}",
        text(&out.stderr)
    );
    drop_keyspace(&ks);
}

#[test]
fn bad_options_are_one_line_and_nothing_is_done() {
    let ks = keyspace();
    let file = scratch_dir().join(format!("{ks}.csv"));
    for (with, want) in [
        ("WITH BOGUS = 1", "cql4: error: COPY: unknown option BOGUS"),
        (
            "WITH HEADER = maybe",
            "cql4: error: COPY: invalid value for HEADER: 'maybe' (true or false)",
        ),
        (
            "WITH INGESTRATE = 5",
            "cql4: error: COPY: option INGESTRATE applies to COPY FROM only",
        ),
    ] {
        let out = exec(&format!("COPY system.local TO '{}' {with}", file.display()));
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(text(&out.stderr).trim_end(), want);
        assert!(!file.exists());
    }
}

#[test]
fn ingestrate_is_not_exceeded() {
    let ks = keyspace();
    create_keyspace(&ks);
    ok(&format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v text)"));
    let csv: String = (0..3000).map(|i| format!("{i},v{i}\n")).collect();
    let start = Instant::now();
    let (out, _) = import(&ks, &csv, "AND INGESTRATE = 1000");
    let elapsed = start.elapsed();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(summary_count(&out, "rows imported"), 3000);
    // The process's whole run (connecting included) bounds the import from above; the rate is
    // never checked from below (a slow machine must not fail this).
    let rate = 3000.0 / elapsed.as_secs_f64();
    assert!(rate <= 1200.0, "{rate:.0} rows/s over {elapsed:?}");
    drop_keyspace(&ks);
}

#[test]
fn copy_from_stdin_ends_at_backslash_dot() {
    let ks = keyspace();
    create_keyspace(&ks);
    ok(&format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v text)"));
    let mut child = cql4()
        .args(["-e", &format!("COPY {ks}.t FROM STDIN")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("test I/O");
    child
        .stdin
        .take()
        .expect("test I/O")
        .write_all(b"1,one\n2,\"two, too\"\n\\.\n3,never\n")
        .expect("test I/O");
    let out = child.wait_with_output().expect("test I/O");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(summary_count(&out, "rows imported"), 2);
    assert_eq!(rows(&format!("{ks}.t")).len(), 2);
    drop_keyspace(&ks);
}

/// The summary's rows/s (`… (R rows/s).`).
fn summary_rate(out: &Output) -> u64 {
    let stdout = text(&out.stdout);
    let at = stdout.rfind('(').expect("a rate");
    stdout[at + 1..]
        .split(' ')
        .next()
        .expect("test I/O")
        .parse()
        .expect("a rate")
}

#[test]
fn a_million_rows_round_trip() {
    const N: usize = 1_000_000;
    let ks = keyspace();
    create_keyspace(&ks);
    ok(&format!(
        "CREATE TABLE {ks}.t (k int PRIMARY KEY, a text, b bigint)"
    ));
    ok(&format!(
        "CREATE TABLE {ks}.back (k int PRIMARY KEY, a text, b bigint)"
    ));
    let input = scratch_dir().join(format!("{ks}_million.csv"));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&input).expect("test I/O"));
        for i in 0..N {
            writeln!(f, "{i},row {i},{}", (i as i64) * 1_000_003 - 7).expect("test I/O");
        }
    }
    let timed = |cql: &str| {
        let start = Instant::now();
        let out = ok(cql);
        (out, start.elapsed())
    };
    let (out, from_time) = timed(&format!("COPY {ks}.t FROM '{}'", input.display()));
    assert_eq!(summary_count(&out, "rows imported"), N as u64);
    let from_rate = summary_rate(&out);
    let exported = scratch_dir().join(format!("{ks}_out.csv"));
    let (out, to_time) = timed(&format!("COPY {ks}.t TO '{}'", exported.display()));
    assert_eq!(summary_count(&out, "rows exported"), N as u64);
    let to_rate = summary_rate(&out);
    eprintln!("1,000,000 rows: COPY FROM {from_rate} rows/s ({from_time:?}), COPY TO {to_rate} rows/s ({to_time:?})");
    let mut a: Vec<String> = std::fs::read_to_string(&input)
        .expect("test I/O")
        .lines()
        .map(str::to_owned)
        .collect();
    let mut b: Vec<String> = std::fs::read_to_string(&exported)
        .expect("test I/O")
        .lines()
        .map(str::to_owned)
        .collect();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(b.len(), N);
    assert!(a == b, "the exported rows differ from the imported ones");
    // And back in through COPY FROM of the export: the same count on the other side.
    let (out, _) = timed(&format!("COPY {ks}.back FROM '{}'", exported.display()));
    assert_eq!(summary_count(&out, "rows imported"), N as u64);
    let (out, _) = timed(&format!("COPY {ks}.back TO '{}'", exported.display()));
    assert_eq!(summary_count(&out, "rows exported"), N as u64);
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&exported);
    drop_keyspace(&ks);
}

#[test]
fn maxoutputsize_splits_files_and_token_ranges_split_rows() {
    let ks = keyspace();
    create_keyspace(&ks);
    ok(&format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v text)"));
    let inserts: String = (0..50)
        .map(|i| format!("INSERT INTO {ks}.t (k, v) VALUES ({i}, 'v{i}');"))
        .collect();
    ok(&inserts);
    let file = scratch_dir().join(format!("{ks}_split.csv"));
    let out = ok(&format!(
        "COPY {ks}.t TO '{}' WITH MAXOUTPUTSIZE = 20 AND PAGESIZE = 7",
        file.display()
    ));
    assert_eq!(summary_count(&out, "rows exported to 3 files"), 50);
    let lines = |p: &PathBuf| {
        std::fs::read_to_string(p)
            .expect("an exported file")
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let parts: Vec<PathBuf> = ["", ".1", ".2"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", file.display())))
        .collect();
    let counts: Vec<usize> = parts.iter().map(|p| lines(p).len()).collect();
    assert_eq!(counts, [20, 20, 10]);
    let mut all: Vec<String> = parts.iter().flat_map(lines).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 50);

    // The two halves of the ring hold every row once.
    let low = ok(&format!(
        "COPY {ks}.t TO STDOUT WITH BEGINTOKEN = -9223372036854775808 AND ENDTOKEN = 0"
    ));
    let high = ok(&format!(
        "COPY {ks}.t TO STDOUT WITH BEGINTOKEN = 0 AND ENDTOKEN = 9223372036854775807"
    ));
    let mut both: Vec<String> = text(&low.stdout)
        .lines()
        .chain(text(&high.stdout).lines())
        .map(str::to_owned)
        .collect();
    assert!(!text(&low.stdout).is_empty() && !text(&high.stdout).is_empty());
    both.sort();
    assert_eq!(both, all);
    drop_keyspace(&ks);
}

#[test]
fn reserved_words_as_names_round_trip() {
    let ks = keyspace();
    create_keyspace(&ks);
    ok(&format!(
        "CREATE TYPE {ks}.kw (\"set\" text, \"limit\" int)"
    ));
    for t in ["\"order\"", "\"token\""] {
        ok(&format!(
            "CREATE TABLE {ks}.{t} (k int, \"from\" text, \"select\" frozen<kw>, \
             PRIMARY KEY ((k, \"from\")))"
        ));
    }
    ok(&format!(
        "INSERT INTO {ks}.\"order\" (k, \"from\", \"select\") \
         VALUES (1, 'a', {{\"set\": 'x', \"limit\": 2}})"
    ));
    ok(&format!(
        "INSERT INTO {ks}.\"order\" (k, \"from\") VALUES (2, 'b')"
    ));
    let file = scratch_dir().join(format!("{ks}_kw.csv"));
    let path = file.display();
    // BEGINTOKEN puts the partition key's names in a token() call.
    let out = ok(&format!(
        "COPY {ks}.\"order\" (k, \"from\", \"select\") TO '{path}' \
         WITH BEGINTOKEN = -9223372036854775808"
    ));
    assert_eq!(summary_count(&out, "rows exported to 1 files"), 2);
    let out = ok(&format!("COPY {ks}.\"token\" FROM '{path}'"));
    assert_eq!(summary_count(&out, "rows imported from 1 files"), 2);
    let src = rows(&format!("{ks}.\"order\""));
    assert_eq!(src.len(), 2);
    assert_eq!(src, rows(&format!("{ks}.\"token\"")));
    drop_keyspace(&ks);
}

#[test]
fn cqlshrc_copy_sections_are_defaults_the_statement_overrides() {
    let ks = keyspace();
    create_keyspace(&ks);
    ok(&format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v text)"));
    ok(&format!("INSERT INTO {ks}.t (k, v) VALUES (1, 'a')"));
    let rc = scratch_dir().join(format!("{ks}.cqlshrc"));
    std::fs::write(
        &rc,
        "[copy]\nheader = true\ndelimiter = |\nchunksize = 3\n[copy-to]\ndelimiter = ;\n",
    )
    .expect("test I/O");
    let copy_to = |with: &str| {
        let out = cql4()
            .arg("--cqlshrc")
            .arg(&rc)
            .args(["-e", &format!("COPY {ks}.t TO STDOUT {with}")])
            .output()
            .expect("test I/O");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    // [copy-to] wins over [copy]; [copy]'s CHUNKSIZE (COPY FROM's) is skipped for COPY TO.
    assert_eq!(copy_to(""), "k;v\n1;a\n");
    assert_eq!(copy_to("WITH HEADER = false AND DELIMITER = ','"), "1,a\n");
    drop_keyspace(&ks);
}
