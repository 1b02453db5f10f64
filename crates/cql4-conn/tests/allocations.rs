//! Heap allocations per request on the whole client path — serialize, hand to the I/O task,
//! route by stream id, decode the rows — counted with dhat against a scripted TCP server that
//! allocates nothing per request. PEERS.md: scylla made 14–15 allocations per insert and 27–28
//! per select (2022).

use std::time::Duration;

use bytes::{Buf, BytesMut};
use cql4_conn::{Client, Config, QueryOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u16::try_from(s.len()).expect("short string").to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// `<global_table_spec>` ks.t and one int column `name`.
fn one_int_column(out: &mut Vec<u8>, name: &str) {
    string(out, "ks");
    string(out, "t");
    string(out, name);
    out.extend_from_slice(&9u16.to_be_bytes()); // int
}

fn rows_body(with_metadata: bool) -> Vec<u8> {
    let mut b = 2i32.to_be_bytes().to_vec(); // Rows
    if with_metadata {
        b.extend_from_slice(&1i32.to_be_bytes()); // Global_tables_spec
        b.extend_from_slice(&1i32.to_be_bytes());
        one_int_column(&mut b, "v");
    } else {
        b.extend_from_slice(&4i32.to_be_bytes()); // No_metadata
        b.extend_from_slice(&1i32.to_be_bytes());
    }
    b.extend_from_slice(&1i32.to_be_bytes()); // one row
    b.extend_from_slice(&4i32.to_be_bytes());
    b.extend_from_slice(&42i32.to_be_bytes());
    b
}

fn prepared_body() -> Vec<u8> {
    let mut b = 4i32.to_be_bytes().to_vec(); // Prepared
    string(&mut b, "ID"); // [short bytes] id
    b.extend_from_slice(&1i32.to_be_bytes()); // flags
    b.extend_from_slice(&1i32.to_be_bytes()); // columns
    b.extend_from_slice(&1i32.to_be_bytes()); // pk count
    b.extend_from_slice(&0u16.to_be_bytes());
    one_int_column(&mut b, "k");
    b.extend_from_slice(&1i32.to_be_bytes()); // result metadata flags
    b.extend_from_slice(&1i32.to_be_bytes());
    one_int_column(&mut b, "v");
    b
}

fn frame(out: &mut Vec<u8>, stream: [u8; 2], opcode: u8, body: &[u8]) {
    out.extend_from_slice(&[0x84, 0, stream[0], stream[1], opcode]);
    out.extend_from_slice(
        &u32::try_from(body.len())
            .expect("body length")
            .to_be_bytes(),
    );
    out.extend_from_slice(body);
}

/// Answers OPTIONS, STARTUP, QUERY, PREPARE and EXECUTE from bodies built once.
async fn serve(listener: TcpListener) {
    let (mut sock, _) = listener.accept().await.expect("accept");
    sock.set_nodelay(true).expect("nodelay");
    let (with_meta, without_meta, prepared) = (rows_body(true), rows_body(false), prepared_body());
    let mut buf = BytesMut::with_capacity(1 << 20);
    let mut out = Vec::with_capacity(1 << 20);
    loop {
        while buf.len() >= 9 {
            let len = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) as usize;
            if buf.len() < 9 + len {
                break;
            }
            let stream = [buf[2], buf[3]];
            match buf[4] {
                0x05 => frame(&mut out, stream, 0x06, &[0, 0]),
                0x01 => frame(&mut out, stream, 0x02, &[]),
                0x07 => frame(&mut out, stream, 0x08, &with_meta),
                0x09 => frame(&mut out, stream, 0x08, &prepared),
                0x0A => frame(&mut out, stream, 0x08, &without_meta),
                op => panic!("unexpected opcode {op:#x}"),
            }
            buf.advance(9 + len);
        }
        if !out.is_empty() {
            sock.write_all(&out).await.expect("write");
            out.clear();
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(1 << 20);
        }
        if sock.read_buf(&mut buf).await.expect("read") == 0 {
            return;
        }
    }
}

const N: u64 = 2000;

#[test]
fn a_handful_of_allocations_per_request() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(serve(listener));
        let mut config = Config::new("127.0.0.1", port);
        config.heartbeat_interval = None;
        config.request_timeout = Duration::from_secs(10);
        let client = Client::connect(&config).await.unwrap();
        let options = QueryOptions::new();
        let statement = client
            .prepare("SELECT v FROM ks.t WHERE k = ?")
            .await
            .unwrap();
        let key = statement
            .bind(&[Some(cql4_frame::CqlValue::Int(7))])
            .unwrap();

        // Warm up buffers, channels and the timer lists.
        for _ in 0..200 {
            client
                .query("SELECT v FROM ks.t", (), &options)
                .await
                .unwrap();
            client
                .execute(&statement, key.clone(), &options)
                .await
                .unwrap();
        }

        let before = dhat::HeapStats::get().total_blocks;
        for _ in 0..N {
            let r = client
                .query("SELECT v FROM ks.t", (), &options)
                .await
                .unwrap();
            assert_eq!(r.rows().unwrap().row(0).unwrap().get::<i32>(0).unwrap(), 42);
        }
        let query = (dhat::HeapStats::get().total_blocks - before) as f64 / N as f64;

        let before = dhat::HeapStats::get().total_blocks;
        for _ in 0..N {
            let r = client
                .execute(&statement, key.clone(), &options)
                .await
                .unwrap();
            assert_eq!(r.rows().unwrap().row(0).unwrap().get::<i32>(0).unwrap(), 42);
        }
        let execute = (dhat::HeapStats::get().total_blocks - before) as f64 / N as f64;

        eprintln!(
            "heap allocations per request (client + I/O task + decode): QUERY with metadata \
             {query:.1}, EXECUTE skip-metadata {execute:.1}"
        );
        // EXECUTE is the hot path: the cached metadata is shared, nothing is re-decoded.
        assert!(
            execute <= 4.5,
            "EXECUTE took {execute:.1} allocations per request"
        );
        assert!(
            query <= 9.5,
            "QUERY took {query:.1} allocations per request"
        );
    });
}
