//! What the canned server knows: the system tables every driver reads while bootstrapping
//! (`system.local` with one plausible row, `system.peers`/`peers_v2` empty unless the server
//! plays a cluster ([`tables_for`]), empty
//! `system_schema.*` tables with their real column types) and the benchmark table `bench.t`,
//! plus a small parser that turns a `SELECT cols FROM ks.table …` into an answer.
//!
//! Anything else (DDL, unknown tables) is answered with an empty page, or Void for non-SELECT
//! statements, which every driver accepts.
use cql4_frame::ColumnType;

use crate::pages::{self, int, text, text_collection, Cell};

/// The benchmark select (prepared by every client).
pub const SELECT: &str = "SELECT id, name, payload FROM bench.t WHERE id = ?";
/// The benchmark insert (prepared by every client).
pub const INSERT: &str = "INSERT INTO bench.t (id, name, payload) VALUES (?, ?, ?)";
/// The id the canned select always returns (and the real-server setup inserts).
pub const SELECT_ID: i32 = 42;
/// The text column of every inserted row.
pub const INSERT_NAME: &str = "name-inserted";

/// The key of the `i`-th insert: 100,000 keys from 1,000, reused in turn.
pub fn insert_id(i: u64) -> i32 {
    1000 + (i % 100_000) as i32
}

/// Checks the row the select reads (every client checks it, so no driver skips decoding).
pub fn check_row(id: i32, name: &str, payload: &[u8]) -> Result<(), crate::drive::BoxError> {
    if id != SELECT_ID || name.is_empty() || payload.len() != 100 {
        return Err(format!("unexpected row ({id}, {name:?}, {} bytes)", payload.len()).into());
    }
    Ok(())
}

/// A table: columns in `SELECT *` order and its rows (full rows, in that order).
pub struct Table {
    /// Keyspace name.
    pub keyspace: &'static str,
    /// Table name.
    pub name: &'static str,
    /// Columns (name, type).
    pub columns: Vec<(String, ColumnType)>,
    /// Full rows.
    pub rows: Vec<Vec<Cell>>,
    /// Partition key column names.
    pub partition_key: Vec<&'static str>,
}

fn cols(list: &[(&str, ColumnType)]) -> Vec<(String, ColumnType)> {
    list.iter()
        .map(|(n, t)| ((*n).to_owned(), t.clone()))
        .collect()
}

fn set_text() -> ColumnType {
    ColumnType::Set(Box::new(ColumnType::Text))
}

fn list_text() -> ColumnType {
    ColumnType::List(Box::new(ColumnType::Text))
}

fn map_text() -> ColumnType {
    ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text))
}

/// Node `n` of a canned cluster listens on 127.0.0.`n`.
fn inet_node(n: u8) -> Cell {
    Some(vec![127, 0, 0, n])
}

/// Node `n`'s one token, evenly spaced over the Murmur3 ring ("0" for a single node).
fn node_tokens(n: u8, nodes: u8) -> Cell {
    if nodes <= 1 {
        return text_collection(&["0"]);
    }
    let step = (u64::MAX / u64::from(nodes)) as i128;
    let token = i128::from(i64::MIN) + i128::from(n - 1) * step;
    text_collection(&[&token.to_string()])
}

fn uuid(last: u8) -> Cell {
    let mut u = [
        0x5f, 0x3e, 0x1d, 0x2a, 0x44, 0x0b, 0x4c, 0x1e, 0x9a, 0x5e, 0x10, 0x20, 0x30, 0x40, 0x50, 0,
    ];
    u[15] = last;
    Some(u.to_vec())
}

/// Node `n`'s host id (node 1's is the single node's).
fn host_id(n: u8) -> Cell {
    uuid(if n == 1 { 1 } else { 0x10 + n })
}

/// Every table the server knows.
pub fn tables() -> Vec<Table> {
    tables_for(1, 1, 9042)
}

/// The tables as node `node` (1-based) of a canned cluster of `nodes` on 127.0.0.1–`nodes`,
/// all on native port `port`, sees them: itself in `system.local`, the others in
/// `system.peers` and `system.peers_v2`, one evenly spaced token each.
pub fn tables_for(node: u8, nodes: u8, port: u16) -> Vec<Table> {
    use ColumnType::*;
    let port = i32::from(port);
    let others: Vec<u8> = (1..=nodes).filter(|&n| n != node).collect();
    let local_cols = cols(&[
        ("key", Text),
        ("bootstrapped", Text),
        ("broadcast_address", Inet),
        ("broadcast_port", Int),
        ("cluster_name", Text),
        ("cql_version", Text),
        ("data_center", Text),
        ("gossip_generation", Int),
        ("host_id", Uuid),
        ("listen_address", Inet),
        ("listen_port", Int),
        ("native_protocol_version", Text),
        ("partitioner", Text),
        ("rack", Text),
        ("release_version", Text),
        ("rpc_address", Inet),
        ("rpc_port", Int),
        ("schema_version", Uuid),
        ("tokens", set_text()),
        ("truncated_at", Map(Box::new(Uuid), Box::new(Blob))),
    ]);
    let local_row = vec![
        text("local"),
        text("COMPLETED"),
        inet_node(node),
        int(7000),
        text("canned"),
        text("3.4.7"),
        text("datacenter1"),
        int(1),
        host_id(node),
        inet_node(node),
        int(7000),
        text("4"),
        text("org.apache.cassandra.dht.Murmur3Partitioner"),
        text("rack1"),
        text("4.0.11"),
        inet_node(node),
        int(port),
        uuid(2),
        node_tokens(node, nodes),
        None,
    ];
    let peers_rows = others
        .iter()
        .map(|&n| {
            vec![
                inet_node(n),
                text("datacenter1"),
                host_id(n),
                inet_node(n),
                text("rack1"),
                text("4.0.11"),
                inet_node(n),
                uuid(2),
                node_tokens(n, nodes),
            ]
        })
        .collect();
    let peers_v2_rows = others
        .iter()
        .map(|&n| {
            vec![
                inet_node(n),
                int(7000),
                text("datacenter1"),
                host_id(n),
                inet_node(n),
                int(port),
                inet_node(n),
                int(7000),
                text("rack1"),
                text("4.0.11"),
                uuid(2),
                node_tokens(n, nodes),
            ]
        })
        .collect();
    let text_table = |keyspace, name, list: &[&str], pk| Table {
        keyspace,
        name,
        columns: list.iter().map(|n| ((*n).to_owned(), Text)).collect(),
        rows: Vec::new(),
        partition_key: pk,
    };
    let mut v = vec![
        Table {
            keyspace: "system",
            name: "local",
            columns: local_cols,
            rows: vec![local_row],
            partition_key: vec!["key"],
        },
        Table {
            keyspace: "system",
            name: "peers",
            columns: cols(&[
                ("peer", Inet),
                ("data_center", Text),
                ("host_id", Uuid),
                ("preferred_ip", Inet),
                ("rack", Text),
                ("release_version", Text),
                ("rpc_address", Inet),
                ("schema_version", Uuid),
                ("tokens", set_text()),
            ]),
            rows: peers_rows,
            partition_key: vec!["peer"],
        },
        Table {
            keyspace: "system",
            name: "peers_v2",
            columns: cols(&[
                ("peer", Inet),
                ("peer_port", Int),
                ("data_center", Text),
                ("host_id", Uuid),
                ("native_address", Inet),
                ("native_port", Int),
                ("preferred_ip", Inet),
                ("preferred_port", Int),
                ("rack", Text),
                ("release_version", Text),
                ("schema_version", Uuid),
                ("tokens", set_text()),
            ]),
            rows: peers_v2_rows,
            partition_key: vec!["peer"],
        },
        Table {
            keyspace: "system_schema",
            name: "keyspaces",
            columns: pages::keyspaces_columns(),
            // Empty: drivers read it with different shapes (scylla/cdrs ask for
            // `toJson(replication)`), and none needs a keyspace row to run statements.
            rows: Vec::new(),
            partition_key: vec!["keyspace_name"],
        },
        Table {
            keyspace: "system_schema",
            name: "columns",
            columns: cols(&[
                ("keyspace_name", Text),
                ("table_name", Text),
                ("column_name", Text),
                ("clustering_order", Text),
                ("column_name_bytes", Blob),
                ("kind", Text),
                ("position", Int),
                ("type", Text),
            ]),
            rows: Vec::new(),
            partition_key: vec!["keyspace_name"],
        },
        Table {
            keyspace: "system_schema",
            name: "types",
            columns: cols(&[
                ("keyspace_name", Text),
                ("type_name", Text),
                ("field_names", list_text()),
                ("field_types", list_text()),
            ]),
            rows: Vec::new(),
            partition_key: vec!["keyspace_name"],
        },
        Table {
            keyspace: "system_schema",
            name: "tables",
            columns: cols(&[
                ("keyspace_name", Text),
                ("table_name", Text),
                ("bloom_filter_fp_chance", Double),
                ("caching", map_text()),
                ("cdc", Boolean),
                ("comment", Text),
                ("compaction", map_text()),
                ("compression", map_text()),
                ("crc_check_chance", Double),
                ("dclocal_read_repair_chance", Double),
                ("default_time_to_live", Int),
                ("extensions", Map(Box::new(Text), Box::new(Blob))),
                ("flags", set_text()),
                ("gc_grace_seconds", Int),
                ("id", Uuid),
                ("max_index_interval", Int),
                ("memtable_flush_period_in_ms", Int),
                ("min_index_interval", Int),
                ("read_repair_chance", Double),
                ("speculative_retry", Text),
            ]),
            rows: Vec::new(),
            partition_key: vec!["keyspace_name"],
        },
        Table {
            // scylla reads it (typed) with the other schema tables; with the wrong column
            // types its whole metadata fetch fails and it never learns the peers.
            keyspace: "system_schema",
            name: "scylla_keyspaces",
            columns: cols(&[
                ("keyspace_name", Text),
                ("initial_tablets", Int),
                ("consistency", Text),
            ]),
            rows: Vec::new(),
            partition_key: vec!["keyspace_name"],
        },
        Table {
            keyspace: "bench",
            name: "t",
            columns: pages::wide_columns(),
            rows: vec![pages::wide_row(SELECT_ID)],
            partition_key: vec!["id"],
        },
    ];
    v.push(text_table(
        "system_schema",
        "indexes",
        &["keyspace_name", "table_name", "index_name", "kind"],
        vec!["keyspace_name"],
    ));
    v
}

/// A statement classified by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// `SELECT`, `INSERT`, `USE` … (upper case first keyword).
    pub verb: String,
    /// Lower-case keyspace (empty when unqualified).
    pub keyspace: String,
    /// Lower-case table.
    pub table: String,
    /// For SELECT: the selected column names (`*` for all), lower case.
    pub selected: Vec<String>,
    /// The column each `?` binds, in order (`None` when unknown).
    pub markers: Vec<Option<String>>,
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').to_ascii_lowercase()
}

fn split_name(s: &str) -> (String, String) {
    let s = s.trim().trim_end_matches(';');
    match s.split_once('.') {
        Some((k, t)) => (unquote(k), unquote(t)),
        None => (String::new(), unquote(s)),
    }
}

/// Parses the few statement shapes drivers send at bootstrap and the benchmark statements.
pub fn parse(cql: &str) -> Parsed {
    let lower = cql.to_ascii_lowercase();
    let trimmed = lower.trim_start();
    let verb = trimmed
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let mut p = Parsed {
        verb: verb.clone(),
        keyspace: String::new(),
        table: String::new(),
        selected: Vec::new(),
        markers: Vec::new(),
    };
    match verb.as_str() {
        "SELECT" => {
            if let Some(from) = trimmed.find(" from ") {
                let list = trimmed["select".len()..from].trim();
                let list = list.strip_prefix("json ").unwrap_or(list);
                p.selected = list
                    .split(',')
                    .map(|c| {
                        // `x AS y`: the column is reported under its alias.
                        let c = c.trim();
                        // A function call (`toJson(x) AS x`) returns text: marked by a
                        // trailing `()` that `select` strips.
                        let func = if c.contains('(') && c != "count(*)" {
                            "()"
                        } else {
                            ""
                        };
                        match c.rsplit_once(" as ") {
                            Some((_, alias)) => format!("{}{func}", unquote(alias)),
                            None => format!("{}{func}", unquote(c)),
                        }
                    })
                    .collect();
                let rest = &trimmed[from + 6..];
                let name = rest.split_whitespace().next().unwrap_or_default();
                (p.keyspace, p.table) = split_name(name);
            }
            // `col = ?` / `col IN ?`: the marker binds the identifier before the operator.
            let tokens: Vec<&str> = trimmed
                .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
                .filter(|t| !t.is_empty())
                .collect();
            for (i, t) in tokens.iter().enumerate() {
                if *t == "?" {
                    let col = i
                        .checked_sub(2)
                        .and_then(|j| tokens.get(j))
                        .map(|c| unquote(c.trim_end_matches('=')));
                    p.markers.push(col);
                } else if t.ends_with("=?") {
                    p.markers.push(Some(unquote(t.trim_end_matches("=?"))));
                }
            }
        }
        "INSERT" => {
            // INSERT INTO ks.t (a, b, c) VALUES (?, ?, ?)
            let after_into = trimmed.split_once(" into ").map_or("", |x| x.1);
            let (name, rest) = after_into.split_once('(').unwrap_or((after_into, ""));
            (p.keyspace, p.table) = split_name(name);
            let (col_list, values) = rest.split_once(')').unwrap_or(("", ""));
            let names: Vec<String> = col_list.split(',').map(unquote).collect();
            let values = values.split_once('(').map_or("", |x| x.1);
            for (i, v) in values.split(',').enumerate() {
                if v.trim().trim_end_matches([')', ';']).trim() == "?" {
                    p.markers.push(names.get(i).cloned());
                }
            }
        }
        "USE" => {
            let name = trimmed
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .trim_end_matches(';');
            p.keyspace = unquote(name);
        }
        _ => {}
    }
    p
}

/// A SELECT's answer: keyspace, table, columns, rows, and the table when it is known.
pub type Selection<'t> = (
    String,
    String,
    Vec<(String, ColumnType)>,
    Vec<Vec<Cell>>,
    Option<&'t Table>,
);

/// The columns and rows a SELECT returns from `tables`.
pub fn select<'t>(tables: &'t [Table], parsed: &Parsed) -> Selection<'t> {
    let keyspace = if parsed.keyspace.is_empty() {
        "system".to_owned()
    } else {
        parsed.keyspace.clone()
    };
    let table = tables
        .iter()
        .find(|t| t.keyspace == keyspace && t.name == parsed.table);
    let Some(t) = table else {
        // Unknown table (virtual schema, functions, …): an empty page whose columns are the
        // selected names typed text.
        let mut columns: Vec<(String, ColumnType)> = parsed
            .selected
            .iter()
            .filter(|c| c.as_str() != "*")
            .map(|c| (c.trim_end_matches("()").to_owned(), ColumnType::Text))
            .collect();
        if columns.is_empty() {
            // The Python driver cannot read a Rows result with zero columns.
            columns.push(("keyspace_name".to_owned(), ColumnType::Text));
        }
        return (keyspace, parsed.table.clone(), columns, Vec::new(), None);
    };
    if parsed.selected.iter().any(|c| c == "*") {
        return (
            keyspace,
            parsed.table.clone(),
            t.columns.clone(),
            t.rows.clone(),
            Some(t),
        );
    }
    let picks: Vec<(String, ColumnType, Option<usize>)> = parsed
        .selected
        .iter()
        .map(|name| match t.columns.iter().position(|(n, _)| n == name) {
            Some(i) => (name.clone(), t.columns[i].1.clone(), Some(i)),
            None => (
                name.trim_end_matches("()").to_owned(),
                ColumnType::Text,
                None,
            ),
        })
        .collect();
    let rows = t
        .rows
        .iter()
        .map(|row| {
            picks
                .iter()
                .map(|(_, _, i)| i.and_then(|i| row[i].clone()))
                .collect()
        })
        .collect();
    let columns = picks.into_iter().map(|(n, ty, _)| (n, ty)).collect();
    (keyspace, parsed.table.clone(), columns, rows, Some(t))
}

/// The bind-marker types of a statement (unknown markers are typed text) and the indexes of
/// the markers that bind partition key columns.
pub fn markers(tables: &[Table], parsed: &Parsed) -> (Vec<(String, ColumnType)>, Vec<u16>) {
    let keyspace = if parsed.keyspace.is_empty() {
        "system"
    } else {
        parsed.keyspace.as_str()
    };
    let table = tables
        .iter()
        .find(|t| t.keyspace == keyspace && t.name == parsed.table);
    let mut specs = Vec::new();
    let mut pk = Vec::new();
    for (i, m) in parsed.markers.iter().enumerate() {
        let name = m.clone().unwrap_or_else(|| format!("m{i}"));
        let ty = table
            .and_then(|t| t.columns.iter().find(|(n, _)| *n == name))
            .map_or(ColumnType::Text, |(_, ty)| ty.clone());
        if table.is_some_and(|t| t.partition_key.contains(&name.as_str())) {
            pk.push(i as u16);
        }
        specs.push((name, ty));
    }
    (specs, pk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bench_statements() {
        let s = parse(SELECT);
        assert_eq!(s.table, "t");
        assert_eq!(s.selected, vec!["id", "name", "payload"]);
        assert_eq!(s.markers, vec![Some("id".to_owned())]);
        let i = parse(INSERT);
        assert_eq!(i.verb, "INSERT");
        assert_eq!(i.keyspace, "bench");
        assert_eq!(i.markers.len(), 3);
        let (specs, pk) = markers(&tables(), &i);
        assert_eq!(specs[2].1, ColumnType::Blob);
        assert_eq!(pk, vec![0]);
    }

    #[test]
    fn select_star_from_local() {
        let t = tables();
        let p = parse("SELECT * FROM system.local WHERE key='local'");
        let (_, table, columns, rows, _) = select(&t, &p);
        assert_eq!(table, "local");
        assert_eq!(columns.len(), rows[0].len());
        let p = parse("select peer, rpc_address, schema_version from system.peers");
        let (_, _, columns, rows, _) = select(&t, &p);
        assert_eq!(columns[1].1, ColumnType::Inet);
        assert!(rows.is_empty());
    }

    #[test]
    fn a_canned_cluster_node_sees_itself_local_and_the_others_as_peers() {
        let t = tables_for(3, 4, 19043);
        let (_, _, columns, rows, _) = select(
            &t,
            &parse("SELECT rpc_address, tokens, host_id FROM system.local"),
        );
        assert_eq!(columns.len(), 3);
        assert_eq!(rows[0][0], Some(vec![127, 0, 0, 3]));
        let local_host = rows[0][2].clone();
        let mut tokens = vec![rows[0][1].clone()];
        let (_, _, _, peers, _) = select(
            &t,
            &parse("SELECT rpc_address, tokens, host_id FROM system.peers"),
        );
        let addresses: Vec<_> = peers.iter().map(|r| r[0].clone()).collect();
        assert_eq!(
            addresses,
            [1, 2, 4].map(|n| Some(vec![127, 0, 0, n])).to_vec()
        );
        assert!(peers.iter().all(|r| r[2] != local_host));
        tokens.extend(peers.iter().map(|r| r[1].clone()));
        tokens.sort();
        tokens.dedup();
        assert_eq!(tokens.len(), 4, "every node has its own token");
        let (_, _, _, v2, _) = select(
            &t,
            &parse("SELECT native_address, native_port FROM system.peers_v2"),
        );
        assert_eq!(v2.len(), 3);
        assert!(v2.iter().all(|r| r[1] == int(19043)));
    }

    #[test]
    fn a_single_canned_node_has_no_peers() {
        let t = tables();
        for table in ["peers", "peers_v2"] {
            let (_, _, _, rows, _) = select(&t, &parse(&format!("SELECT * FROM system.{table}")));
            assert!(rows.is_empty(), "{table}");
        }
    }
}
