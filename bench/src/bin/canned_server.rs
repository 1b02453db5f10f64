//! A canned CQL server (native protocol v4, plain TCP, no auth) that answers from memory so the
//! client is the bottleneck: OPTIONS → SUPPORTED, STARTUP → READY, REGISTER → READY, QUERY on
//! the bootstrap tables (see `cql4_bench::schema`), PREPARE → Prepared, and every EXECUTE with
//! a pre-encoded one-row page (select) or Void (insert). Frames are parsed by hand on the hot
//! path: header, prepared id, the skip-metadata flag; nothing else is decoded.
//!
//! Usage: `canned_server [--port 19042] [--nodes N]` (prints `listening on …` once bound).
//! `--nodes N` plays a cluster of N nodes on 127.0.0.1–N (same port), each answering
//! `system.local`/`system.peers` as that node (see `cql4_bench::schema::tables_for`).
//! `CANNED_LOG=1` prints every QUERY/PREPARE to stderr (to see what a driver asks at connect).
use std::collections::HashMap;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use cql4_bench::pages::{self, Cell};
use cql4_bench::schema::{self, Table};
use cql4_frame::rows::{MetadataFlags, TableSpec};
use cql4_frame::{
    ColumnSpec, ErrorCode, ErrorDetails, ErrorResponse, Prepared, PreparedMetadata, Response,
    ResultMetadata, ResultResponse, Supported,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HEADER: usize = 9;
const OP_ERROR: u8 = 0x00;
const OP_STARTUP: u8 = 0x01;
const OP_READY: u8 = 0x02;
const OP_OPTIONS: u8 = 0x05;
const OP_SUPPORTED: u8 = 0x06;
const OP_QUERY: u8 = 0x07;
const OP_RESULT: u8 = 0x08;
const OP_PREPARE: u8 = 0x09;
const OP_EXECUTE: u8 = 0x0A;
const OP_REGISTER: u8 = 0x0B;
const OP_BATCH: u8 = 0x0D;

/// A prepared statement's two pre-encoded answers.
struct Statement {
    with_metadata: Bytes,
    no_metadata: Bytes,
}

struct State {
    tables: Vec<Table>,
    prepared: std::sync::Mutex<HashMap<Bytes, Arc<Statement>>>,
    log: bool,
    log_execute: bool,
}

fn statement_id(cql: &str) -> Bytes {
    // FNV-1a, twice with different offsets: a stable 16-byte id per query text.
    let mut id = Vec::with_capacity(16);
    for seed in [0xcbf2_9ce4_8422_2325_u64, 0x8422_2325_cbf2_9ce4] {
        let mut h = seed;
        for b in cql.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        id.extend_from_slice(&h.to_be_bytes());
    }
    Bytes::from(id)
}

/// Builds the RESULT answer of a statement (QUERY or EXECUTE), both with and without metadata.
fn answer(state: &State, cql: &str) -> Statement {
    let parsed = schema::parse(cql);
    match parsed.verb.as_str() {
        "SELECT" => {
            let (ks, table, columns, rows, _) = schema::select(&state.tables, &parsed);
            let rows: Vec<Vec<Cell>> = rows;
            Statement {
                with_metadata: pages::rows_body(&ks, &table, &columns, &rows, false),
                no_metadata: pages::rows_body(&ks, &table, &columns, &rows, true),
            }
        }
        "USE" => {
            let mut out = Vec::new();
            let r = ResultResponse::SetKeyspace(parsed.keyspace.clone());
            // Encoding a short keyspace name cannot fail.
            r.encode(&mut cql4_frame::Writer::new(&mut out))
                .expect("Set_keyspace encodes");
            let b = Bytes::from(out);
            Statement {
                with_metadata: b.clone(),
                no_metadata: b,
            }
        }
        _ => Statement {
            with_metadata: pages::void_body(),
            no_metadata: pages::void_body(),
        },
    }
}

fn prepared_body(state: &State, cql: &str, id: &Bytes) -> Bytes {
    let parsed = schema::parse(cql);
    let (markers, pk) = schema::markers(&state.tables, &parsed);
    let ks = if parsed.keyspace.is_empty() {
        "system".to_owned()
    } else {
        parsed.keyspace.clone()
    };
    let spec = TableSpec {
        keyspace: ks.clone(),
        table: parsed.table.clone(),
    };
    let metadata = PreparedMetadata {
        flags: MetadataFlags::GLOBAL_TABLES_SPEC,
        pk_indexes: pk,
        global_table_spec: Some(spec.clone()),
        columns: markers
            .into_iter()
            .map(|(n, t)| ColumnSpec::new(n, t))
            .collect(),
    };
    let result_metadata = if parsed.verb == "SELECT" {
        let (_, _, columns, _, _) = schema::select(&state.tables, &parsed);
        ResultMetadata::new(
            Some(spec),
            columns
                .into_iter()
                .map(|(n, t)| ColumnSpec::new(n, t))
                .collect(),
        )
    } else {
        // §4.2.5.4: a statement without rows has result metadata with No_metadata set.
        ResultMetadata {
            flags: MetadataFlags::NO_METADATA,
            ..ResultMetadata::default()
        }
    };
    let prepared = Prepared {
        id: id.clone(),
        metadata,
        result_metadata,
    };
    let mut out = Vec::new();
    ResultResponse::Prepared(Box::new(prepared))
        .encode(&mut cql4_frame::Writer::new(&mut out))
        .expect("Prepared encodes");
    Bytes::from(out)
}

fn frame(out: &mut Vec<u8>, stream: [u8; 2], opcode: u8, body: &[u8]) {
    out.extend_from_slice(&[0x84, 0, stream[0], stream[1], opcode]);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
}

fn message(r: Response) -> Vec<u8> {
    let mut out = Vec::new();
    r.encode_body(&mut cql4_frame::Writer::new(&mut out))
        .expect("response encodes");
    out
}

fn long_string(body: &[u8]) -> String {
    let Some(len) = body.get(..4) else {
        return String::new();
    };
    let n = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    body.get(4..4 + n)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .unwrap_or_default()
}

fn handle(
    state: &State,
    cache: &mut HashMap<Bytes, Arc<Statement>>,
    header: &[u8],
    body: &[u8],
    out: &mut Vec<u8>,
) {
    let stream = [header[2], header[3]];
    let opcode = header[4];
    if header[0] != 0x04 {
        // Cassandra's own wording, which drivers match on to downgrade (§8 of the v4 spec
        // leaves the exact message to the server).
        let body = message(Response::Error(ErrorResponse {
            code: ErrorCode::PROTOCOL_ERROR,
            message: format!(
                "Invalid or unsupported protocol version ({}); supported versions are (4/v4)",
                header[0] & 0x7f
            ),
            details: ErrorDetails::None,
        }));
        frame(out, stream, OP_ERROR, &body);
        return;
    }
    match opcode {
        OP_EXECUTE => {
            let Some(idlen) = body.get(..2) else { return };
            let n = u16::from_be_bytes([idlen[0], idlen[1]]) as usize;
            let Some(id) = body.get(2..2 + n) else { return };
            // <consistency>[short] then <flags>[byte]; 0x02 = skip metadata (§4.1.4).
            let skip = body.get(2 + n + 2).is_some_and(|f| f & 0x02 != 0);
            if state.log_execute {
                eprintln!(
                    "EXECUTE {:02x?} skip_metadata={skip} body={:02x?}",
                    id, body
                );
            }
            let st = match cache.get(id) {
                Some(st) => Arc::clone(st),
                None => match state.prepared.lock().ok().and_then(|m| m.get(id).cloned()) {
                    Some(st) => {
                        cache.insert(Bytes::copy_from_slice(id), Arc::clone(&st));
                        st
                    }
                    None => {
                        let b = message(Response::Error(ErrorResponse {
                            code: ErrorCode::UNPREPARED,
                            message: "unknown prepared id".into(),
                            details: ErrorDetails::Unprepared {
                                id: Bytes::copy_from_slice(id),
                            },
                        }));
                        frame(out, stream, OP_ERROR, &b);
                        return;
                    }
                },
            };
            let body = if skip {
                &st.no_metadata
            } else {
                &st.with_metadata
            };
            frame(out, stream, OP_RESULT, body);
        }
        OP_OPTIONS => {
            let body = message(Response::Supported(Supported {
                options: vec![
                    ("CQL_VERSION".into(), vec!["3.4.7".into()]),
                    ("COMPRESSION".into(), vec![]),
                    ("PROTOCOL_VERSIONS".into(), vec!["4/v4".into()]),
                ],
            }));
            frame(out, stream, OP_SUPPORTED, &body);
        }
        OP_STARTUP | OP_REGISTER => frame(out, stream, OP_READY, &[]),
        OP_QUERY => {
            let cql = long_string(body);
            if state.log {
                eprintln!("QUERY {cql}");
            }
            let st = answer(state, &cql);
            // QUERY carries the same <query_parameters> as EXECUTE: flags after consistency.
            let n = 4 + cql.len();
            let skip = body.get(n + 2).is_some_and(|f| f & 0x02 != 0);
            frame(
                out,
                stream,
                OP_RESULT,
                if skip {
                    &st.no_metadata
                } else {
                    &st.with_metadata
                },
            );
        }
        OP_PREPARE => {
            let cql = long_string(body);
            if state.log {
                eprintln!("PREPARE {cql}");
            }
            let id = statement_id(&cql);
            let st = Arc::new(answer(state, &cql));
            if let Ok(mut m) = state.prepared.lock() {
                m.insert(id.clone(), st);
            }
            frame(out, stream, OP_RESULT, &prepared_body(state, &cql, &id));
        }
        OP_BATCH => frame(out, stream, OP_RESULT, &pages::void_body()),
        other => {
            if state.log {
                eprintln!("unexpected opcode {other:#04x}");
            }
            let body = message(Response::Error(ErrorResponse {
                code: ErrorCode::PROTOCOL_ERROR,
                message: format!("unexpected opcode {other:#04x}"),
                details: ErrorDetails::None,
            }));
            frame(out, stream, OP_ERROR, &body);
        }
    }
}

async fn serve(state: Arc<State>, mut sock: TcpStream) -> std::io::Result<()> {
    sock.set_nodelay(true)?;
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut out = Vec::with_capacity(64 * 1024);
    let mut cache = HashMap::new();
    loop {
        if sock.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
        while buf.len() >= HEADER {
            let len = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) as usize;
            if len > 256 << 20 {
                return Ok(());
            }
            if buf.len() < HEADER + len {
                buf.reserve(HEADER + len - buf.len());
                break;
            }
            handle(
                &state,
                &mut cache,
                &buf[..HEADER],
                &buf[HEADER..HEADER + len],
                &mut out,
            );
            buf.advance(HEADER + len);
        }
        if !out.is_empty() {
            sock.write_all(&out).await?;
            out.clear();
        }
    }
}

fn main() -> std::io::Result<()> {
    let mut port = 19042_u16;
    let mut nodes = 1_u8;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("--port takes a number");
            }
            "--nodes" => {
                nodes = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .filter(|n| (1..=250).contains(n))
                    .expect("--nodes takes a number from 1 to 250");
            }
            _ => {}
        }
    }
    let state = |node: u8| {
        Arc::new(State {
            tables: if nodes == 1 {
                schema::tables()
            } else {
                schema::tables_for(node, nodes, port)
            },
            prepared: std::sync::Mutex::new(HashMap::new()),
            log: std::env::var_os("CANNED_LOG").is_some(),
            log_execute: std::env::var("CANNED_LOG").is_ok_and(|v| v == "2"),
        })
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        // One node listens on 127.0.0.1; a cluster of N on 127.0.0.1–N, all on `port`, one
        // runtime (one core) for all of them.
        let mut listeners = Vec::new();
        for node in 1..=nodes {
            let listener =
                TcpListener::bind((std::net::Ipv4Addr::new(127, 0, 0, node), port)).await?;
            listeners.push((listener, state(node)));
        }
        let addresses: Vec<String> = listeners
            .iter()
            .filter_map(|(l, _)| l.local_addr().ok().map(|a| a.to_string()))
            .collect();
        println!("listening on {}", addresses.join(", "));
        let mut tasks = Vec::new();
        for (listener, state) in listeners {
            tasks.push(tokio::spawn(accept(listener, state)));
        }
        for t in tasks {
            t.await.map_err(std::io::Error::other)??;
        }
        Ok(())
    })
}

async fn accept(listener: TcpListener, state: Arc<State>) -> std::io::Result<()> {
    loop {
        let (sock, _) = listener.accept().await?;
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            if let Err(e) = serve(state, sock).await {
                if std::env::var_os("CANNED_LOG").is_some() {
                    eprintln!("connection: {e}");
                }
            }
        });
    }
}
