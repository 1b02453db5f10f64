//! DESCRIBE through the `cql4` binary against the real node: the printed text is cqlsh's
//! rendering (an empty line, then each statement) of the server's own DESCRIBE rows; a table
//! created earlier in the same run is described (the session follows its own DDL); an unknown
//! name is one error line and a non-zero exit, in -e and in -f mode.

use std::process::{Command, Output, Stdio};

use cql4_conn::QueryOptions;

fn cql4(node: &cql4_testkit::node::Node) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cql4"));
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::null())
        .args([
            node.host.clone(),
            node.port.to_string(),
            "--ssl-ca".into(),
            node.ca.clone(),
            "--ssl-server-name".into(),
            node.server_name.clone(),
            "-u".into(),
            node.user.clone(),
            "-p".into(),
            node.password.clone(),
        ]);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the cql4 binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(out.status.success(), "cql4 failed: {}", text(&out.stderr));
    text(&out.stdout)
}

/// The server's DESCRIBE rows as cqlsh prints them.
fn server_describe(node: &cql4_testkit::node::Node, statement: &str) -> String {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let session = cql4_session::Session::connect(node.password_config())
            .await
            .expect("connect");
        let result = session
            .query(statement, (), &QueryOptions::new())
            .await
            .expect("server DESCRIBE");
        let mut out = String::new();
        for row in result.rows().expect("rows").iter() {
            out.push('\n');
            out.push_str(
                &row.get_by_name::<String>("create_statement")
                    .expect("statement"),
            );
            out.push('\n');
        }
        out
    })
}

#[test]
fn describe_prints_the_servers_statements_and_fails_on_unknown_names() {
    let node = cql4_testkit::node::node();
    let ks = format!("schema_cli_{}", std::process::id());
    let setup = format!(
        "DROP KEYSPACE IF EXISTS {ks}; \
         CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}; \
         CREATE TYPE {ks}.pair (a int, b text); \
         CREATE TABLE {ks}.a_table (k int, c int, p frozen<pair>, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC); \
         CREATE INDEX ON {ks}.a_table (p); \
         DESCRIBE TABLE {ks}.a_table"
    );
    // The table was created in the same run: the session read it after its own DDL.
    let described_in_run = ok(&run(cql4(&node).args(["-e", &setup])));
    let server_table = server_describe(&node, &format!("DESCRIBE TABLE {ks}.a_table"));
    assert_eq!(described_in_run, server_table);

    let ours = ok(&run(
        cql4(&node).args(["-e", &format!("DESC KEYSPACE {ks}")])
    ));
    assert_eq!(
        ours,
        server_describe(&node, &format!("DESCRIBE KEYSPACE {ks}"))
    );

    let tables = ok(&run(cql4(&node).args(["-k", &ks, "-e", "DESCRIBE TABLES"])));
    assert_eq!(tables, "\na_table\n\n");

    let out = run(cql4(&node).args(["-e", &format!("DESCRIBE TABLE {ks}.nosuch")]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("cql4: error: Table 'nosuch' not found in keyspace '{ks}'\n")
    );
    assert!(out.stdout.is_empty());

    let file = std::env::temp_dir().join(format!("{ks}.cql"));
    std::fs::write(
        &file,
        format!("DESCRIBE KEYSPACE {ks};\nDESCRIBE nosuch_{ks};\n"),
    )
    .expect("write the file");
    let out = run(cql4(&node).arg("-f").arg(&file));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("'nosuch_{ks}' not found in keyspaces")),
        "{err}"
    );

    ok(&run(
        cql4(&node).args(["-e", &format!("DROP KEYSPACE {ks}")])
    ));
    let _ = std::fs::remove_file(file);
}
