//! A misbehaving server (the kit's `FakeServer`) against the real client (`cql4_conn::Client`
//! over plain TCP).
//!
//! Each test scripts one hostile behaviour and asserts that the client ends in a typed error
//! within the configured timeouts (800 ms per request, 1.5 s to connect), that the other
//! requests in flight fail cleanly, that a connection whose state is unknown is closed (later
//! requests get `Error::Closed`), that nothing panics, and that the bytes the process allocates
//! meanwhile stay within a few MiB whatever the server declares (a counting global allocator;
//! the tests run one at a time so the count is theirs). Durations are asserted with up to 1 s
//! of slack over the configured timeout, for loaded CI machines.

use std::alloc::System;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cql4::auth::{
    AuthError, AuthProvider, BoxFuture, PasswordAuthenticator, SaslMechanism, Secret,
};
use cql4::conn::CloseReason;
use cql4::frame::response::{
    AuthChallenge, Authenticate, ErrorCode, ErrorDetails, ErrorResponse, Response, ResultResponse,
};
use cql4::frame::{DecodeErrorKind, Opcode};
use cql4::Config;
use cql4::{Client, Error, QueryOptions};
use cql4_testkit::frames::{self, put_string, raw_frame, response_frame as frame, rows_body, ty};
use cql4_testkit::server::{FakeServer, Peer};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio::sync::{Mutex, MutexGuard};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const MIB: usize = 1024 * 1024;

/// The tests measure the process's allocations, so they run one at a time.
async fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::const_new(());
    LOCK.lock().await
}

/// A connection config for the fake server on `port`: small timeouts, no heartbeat.
fn config(port: u16) -> Config {
    let mut config = Config::new("127.0.0.1", port);
    config.connect_timeout = Duration::from_millis(1_500);
    config.request_timeout = Duration::from_millis(800);
    config.heartbeat_interval = None;
    config
}

/// Bytes allocated (and grown by realloc) since `region` started: an upper bound of the peak.
fn allocated(region: &Region<'_, System>) -> usize {
    let change = region.change();
    change.bytes_allocated + usize::try_from(change.bytes_reallocated).unwrap_or(0)
}

fn assert_allocated_below(region: &Region<'_, System>, limit: usize) {
    let bytes = allocated(region);
    assert!(
        bytes < limit,
        "allocated {bytes} bytes while facing the hostile server (limit {limit})"
    );
}

/// Runs `f`, failing the test if it takes longer than `within` (a hang).
async fn within<T>(within: Duration, f: impl Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    match tokio::time::timeout(within, f).await {
        Ok(v) => (v, start.elapsed()),
        Err(_) => panic!("the client hung for more than {within:?}"),
    }
}

async fn query(client: &Client) -> Result<cql4::QueryResult, Error> {
    client
        .query("SELECT * FROM ks.t", (), &QueryOptions::new())
        .await
}

async fn connect(port: u16) -> Client {
    let client = Client::connect(&config(port))
        .await
        .expect("handshake with the fake server");
    warm_up().await;
    client
}

/// The runtime allocates its timer wheel (~3 MB) on first use; do that before measuring.
async fn warm_up() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// The request failed because the client closed the connection on a protocol violation.
#[track_caller]
fn assert_protocol_close(err: &Error) {
    assert!(
        matches!(err, Error::Closed(r) if matches!(**r, CloseReason::Protocol(_))),
        "{err:?}"
    );
}

/// The connection is closed: later requests fail at once with `Error::Closed`.
async fn assert_closed(client: &Client) {
    // The I/O task may still be failing the requests; give it a moment to finish closing.
    let (_, _) = within(Duration::from_secs(1), async {
        while !client.is_closed() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let (result, took) = within(Duration::from_secs(1), query(client)).await;
    assert!(matches!(result, Err(Error::Closed(_))), "{result:?}");
    assert!(
        took < Duration::from_millis(500),
        "a closed connection took {took:?} to fail"
    );
}

fn closed_by_decode(e: &Error) -> Option<&DecodeErrorKind> {
    match e {
        Error::Closed(reason) => match &**reason {
            CloseReason::Decode(d) => Some(d.kind()),
            _ => None,
        },
        _ => None,
    }
}

fn decode_kind(e: &Error) -> Option<&DecodeErrorKind> {
    match e {
        Error::Decode(d) => Some(d.kind()),
        _ => None,
    }
}

/// A server that completes the handshake, answers each QUERY with `answer(stream)`, then waits
/// for the client to go.
async fn answering(answer: impl Fn(i16) -> Vec<u8> + Send + 'static) -> FakeServer {
    FakeServer::once(move |mut peer: Peer| async move {
        peer.handshake().await;
        while let Some(request) = peer.request().await {
            let bytes = answer(request.stream);
            peer.send(&bytes).await;
        }
    })
    .await
}

fn void(stream: i16) -> Vec<u8> {
    frames::response(stream, Response::Result(ResultResponse::Void))
}

// ---- frame header -------------------------------------------------------------------------

#[tokio::test]
async fn body_length_near_i32_max_closes_without_allocating() {
    let _serial = serial().await;
    let server =
        answering(|s| raw_frame(0x84, 0, s, Opcode::RESULT.0, i32::MAX as u32, &[0; 32])).await;
    let client = connect(server.port()).await;
    let region = Region::new(GLOBAL);
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            closed_by_decode(&err),
            Some(DecodeErrorKind::FrameTooLarge { .. })
        ),
        "{err:?}"
    );
    assert_allocated_below(&region, 2 * MIB);
    assert_closed(&client).await;
}

#[tokio::test]
async fn body_length_above_configured_limit_closes() {
    let _serial = serial().await;
    let server =
        answering(|s| raw_frame(0x84, 0, s, Opcode::RESULT.0, 2 * MIB as u32, &[0; 8])).await;
    let mut cfg = config(server.port());
    cfg.limits.max_frame_body = MIB;
    let client = Client::connect(&cfg).await.unwrap();
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(closed_by_decode(&err), Some(DecodeErrorKind::FrameTooLarge { length, max }) if *length == 2 * MIB as u64 && *max == MIB as u64),
        "{err:?}"
    );
    assert_closed(&client).await;
}

/// A length under the limit (255 MiB) that never arrives: nothing is reserved for it, and the
/// request ends by its own timeout.
#[tokio::test]
async fn declared_body_under_the_limit_is_not_reserved() {
    let _serial = serial().await;
    let server =
        answering(|s| raw_frame(0x84, 0, s, Opcode::RESULT.0, 255 * MIB as u32, &[0; 100])).await;
    let client = connect(server.port()).await;
    let region = Region::new(GLOBAL);
    let (result, took) = within(Duration::from_secs(3), query(&client)).await;
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(
        took < Duration::from_millis(1_800),
        "timed out after {took:?}"
    );
    assert_allocated_below(&region, 4 * MIB);
}

#[tokio::test]
async fn truncated_frame_then_close() {
    let _serial = serial().await;
    let server = FakeServer::once(|mut peer: Peer| async move {
        peer.handshake().await;
        let s = peer.expect(Opcode::QUERY).await;
        let whole = void(s);
        peer.send(&whole[..whole.len() - 2]).await;
        peer.close().await;
    })
    .await;
    let client = connect(server.port()).await;
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Closed(r) if matches!(**r, CloseReason::EndOfStream)),
        "{err:?}"
    );
    assert_closed(&client).await;
}

#[tokio::test]
async fn wrong_protocol_version_in_the_handshake() {
    let _serial = serial().await;
    for version in [0x83u8, 0x85, 0x04, 0x42] {
        let server = FakeServer::once(move |mut peer: Peer| async move {
            let s = peer.expect(Opcode::OPTIONS).await;
            peer.send(&raw_frame(version, 0, s, Opcode::SUPPORTED.0, 2, &[0, 0]))
                .await;
            peer.drain().await;
        })
        .await;
        let (result, _) = within(
            Duration::from_secs(3),
            Client::connect(&config(server.port())),
        )
        .await;
        let err = result.unwrap_err();
        if version == 0x04 {
            // A request frame where a response belongs.
            assert!(
                matches!(decode_kind(&err), Some(DecodeErrorKind::WrongDirection)),
                "{version:#x}: {err:?}"
            );
        } else {
            assert!(
                matches!(err, Error::UnsupportedProtocol { .. }),
                "{version:#x}: {err:?}"
            );
        }
    }
}

#[tokio::test]
async fn wrong_protocol_version_mid_connection_closes() {
    let _serial = serial().await;
    let server = answering(|s| raw_frame(0x85, 0, s, Opcode::RESULT.0, 4, &[0, 0, 0, 1])).await;
    let client = connect(server.port()).await;
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            closed_by_decode(&err),
            Some(DecodeErrorKind::UnsupportedVersion(0x85))
        ),
        "{err:?}"
    );
    assert_closed(&client).await;
}

#[tokio::test]
async fn unknown_opcode_fails_the_request_only() {
    let _serial = serial().await;
    let server = FakeServer::once(|mut peer: Peer| async move {
        peer.handshake().await;
        let s = peer.expect(Opcode::QUERY).await;
        peer.send(&frame(s, Opcode(0x42), &[1, 2, 3])).await;
        let s = peer.expect(Opcode::QUERY).await;
        peer.send(&void(s)).await;
        peer.drain().await;
    })
    .await;
    let client = connect(server.port()).await;
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            decode_kind(&err),
            Some(DecodeErrorKind::UnexpectedOpcode(0x42))
        ),
        "{err:?}"
    );
    // The frame was well delimited: the connection is intact and serves the next request.
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    assert!(matches!(result.unwrap().result, ResultResponse::Void));
}

// ---- stream ids ---------------------------------------------------------------------------

#[tokio::test]
async fn response_on_a_stream_never_used_closes() {
    let _serial = serial().await;
    let server = answering(|s| void(s.wrapping_add(1000))).await;
    let client = connect(server.port()).await;
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert_protocol_close(&err);
    assert_closed(&client).await;
}

/// The first request is answered twice; the second answer lands on an id that is free (or
/// already reused by the second request, which must then not receive the first's answer twice).
#[tokio::test]
async fn response_on_a_stream_used_twice_closes() {
    let _serial = serial().await;
    let server = FakeServer::once(|mut peer: Peer| async move {
        peer.handshake().await;
        let first = peer.expect(Opcode::QUERY).await;
        let second = peer.expect(Opcode::QUERY).await;
        peer.send(&void(first)).await;
        peer.send(&void(first)).await;
        // The second request is never answered properly.
        let _ = second;
        peer.drain().await;
    })
    .await;
    let client = connect(server.port()).await;
    let (a, b) = within(Duration::from_secs(2), async {
        tokio::join!(query(&client), query(&client))
    })
    .await
    .0;
    // One of the two got the single legitimate answer; the duplicate closes the connection
    // and fails the other one.
    let (ok, failed) = if a.is_ok() { (a, b) } else { (b, a) };
    assert!(ok.is_ok(), "{ok:?}");
    let err = failed.unwrap_err();
    assert_protocol_close(&err);
    assert_closed(&client).await;
}

#[tokio::test]
async fn event_on_a_request_stream_fails_that_request() {
    let _serial = serial().await;
    let mut event = Vec::new();
    put_string(&mut event, "STATUS_CHANGE");
    put_string(&mut event, "UP");
    event.extend_from_slice(&[4, 127, 0, 0, 1, 0, 0, 0x23, 0x52]);
    let server = answering(move |s| frame(s, Opcode::EVENT, &event)).await;
    let client = connect(server.port()).await;
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("EVENT")),
        "{err:?}"
    );
}

#[tokio::test]
async fn event_on_an_unused_stream_closes() {
    let _serial = serial().await;
    let server = answering(|_| frame(77, Opcode::EVENT, &[0, 0])).await;
    let client = connect(server.port()).await;
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert_protocol_close(&err);
    assert_closed(&client).await;
}

// ---- bodies -------------------------------------------------------------------------------

#[tokio::test]
async fn row_and_column_counts_beyond_the_body() {
    let _serial = serial().await;
    let bodies: Vec<(Vec<u8>, &str)> = vec![
        // i32::MAX rows of one int column, body holds one.
        (
            rows_body(&[("a", ty::INT)], i32::MAX, &[Some(&[0, 0, 0, 1])]),
            "rows_count",
        ),
        // 2^30 rows x 2 columns: the cell count overflows nothing but far exceeds the body.
        (
            rows_body(&[("a", ty::INT), ("b", ty::INT)], 1 << 30, &[]),
            "rows x columns",
        ),
        // Declared columns_count far beyond the specs present.
        (
            {
                let mut b = rows_body(&[("a", ty::INT)], 0, &[]);
                b[8..12].copy_from_slice(&i32::MAX.to_be_bytes());
                b
            },
            "columns_count",
        ),
        // Zero columns and i32::MAX rows: no cell bounds the count.
        (rows_body(&[], i32::MAX, &[]), "zero columns"),
    ];
    let count = bodies.len();
    let server = FakeServer::once(move |mut peer: Peer| async move {
        peer.handshake().await;
        for (body, _) in &bodies {
            let s = peer.expect(Opcode::QUERY).await;
            peer.send(&frame(s, Opcode::RESULT, body)).await;
        }
        peer.drain().await;
    })
    .await;
    let client = connect(server.port()).await;
    for i in 0..count {
        let region = Region::new(GLOBAL);
        let (result, _) = within(Duration::from_secs(2), query(&client)).await;
        let err = result.unwrap_err();
        assert!(
            matches!(
                decode_kind(&err),
                Some(
                    DecodeErrorKind::Truncated { .. }
                        | DecodeErrorKind::Invalid(_)
                        | DecodeErrorKind::InvalidLength(_)
                        | DecodeErrorKind::TooMany { .. }
                )
            ),
            "case {i}: {err:?}"
        );
        assert_allocated_below(&region, MIB);
    }
    assert!(
        !client.is_closed(),
        "well-delimited frames must not close the connection"
    );
}

#[tokio::test]
async fn negative_lengths() {
    let _serial = serial().await;
    let mut negative_columns = rows_body(&[("a", ty::INT)], 0, &[]);
    negative_columns[8..12].copy_from_slice(&(-5i32).to_be_bytes());
    let mut negative_rows = rows_body(&[("a", ty::INT)], 0, &[]);
    let at = negative_rows.len() - 4;
    negative_rows[at..].copy_from_slice(&(-1i32).to_be_bytes());
    // Has_more_pages with a paging state of length -7.
    let mut negative_paging = Vec::new();
    negative_paging.extend_from_slice(&2i32.to_be_bytes());
    negative_paging.extend_from_slice(&(0x0002 | 0x0004i32).to_be_bytes());
    negative_paging.extend_from_slice(&0i32.to_be_bytes());
    negative_paging.extend_from_slice(&(-7i32).to_be_bytes());
    negative_paging.extend_from_slice(&0i32.to_be_bytes());
    // A [bytes] cell of length -3: §3 says any negative length is null, so this decodes.
    let negative_cell = rows_body(&[("a", ty::INT)], 1, &[]);
    let mut negative_cell = negative_cell;
    negative_cell.extend_from_slice(&(-3i32).to_be_bytes());
    let bodies = vec![
        negative_columns,
        negative_rows,
        negative_paging,
        negative_cell,
    ];
    let server = FakeServer::once(move |mut peer: Peer| async move {
        peer.handshake().await;
        for body in &bodies {
            let s = peer.expect(Opcode::QUERY).await;
            peer.send(&frame(s, Opcode::RESULT, body)).await;
        }
        peer.drain().await;
    })
    .await;
    let client = connect(server.port()).await;
    for case in ["columns_count", "rows_count"] {
        let (result, _) = within(Duration::from_secs(2), query(&client)).await;
        let err = result.unwrap_err();
        assert!(
            matches!(
                decode_kind(&err),
                Some(DecodeErrorKind::InvalidLength(_) | DecodeErrorKind::Invalid(_))
            ),
            "{case}: {err:?}"
        );
    }
    // §3: a [bytes] of negative length is null. Has_more_pages with a null paging state is
    // either refused, or a last page: never more pages with an empty state.
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    match result {
        Err(Error::Decode(_)) => {}
        Ok(r) => {
            let page = r.into_rows().unwrap();
            assert!(!page.has_more_pages());
            assert!(page.is_empty());
        }
        Err(e) => panic!("paging_state -7: {e:?}"),
    }
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let page = result.unwrap().into_rows().unwrap();
    let row = page.row(0).unwrap();
    assert_eq!(row.raw(0), Some(None));
    assert_eq!(row.get::<Option<i32>>(0).unwrap(), None);
    assert!(row.get::<i32>(0).is_err());
}

#[tokio::test]
async fn invalid_utf8_in_text() {
    let _serial = serial().await;
    let rows = rows_body(&[("name", ty::VARCHAR)], 1, &[Some(&[b'o', 0xff, b'k'])]);
    let mut keyspace = 3i32.to_be_bytes().to_vec();
    keyspace.extend_from_slice(&[0, 2, 0xc3, 0x28]);
    let mut error = 0x2200i32.to_be_bytes().to_vec();
    error.extend_from_slice(&[0, 3, b'b', 0xe2, 0x82]);
    let bodies = vec![
        (Opcode::RESULT, rows),
        (Opcode::RESULT, keyspace),
        (Opcode::ERROR, error),
    ];
    let server = FakeServer::once(move |mut peer: Peer| async move {
        peer.handshake().await;
        for (op, body) in &bodies {
            let s = peer.expect(Opcode::QUERY).await;
            peer.send(&frame(s, *op, body)).await;
        }
        peer.drain().await;
    })
    .await;
    let client = connect(server.port()).await;
    // Cells are validated when read, with the cell's offset.
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let page = result.unwrap().into_rows().unwrap();
    let err = page.row(0).unwrap().get::<&str>(0).unwrap_err();
    assert!(
        matches!(err.kind(), DecodeErrorKind::InvalidUtf8),
        "{err:?}"
    );
    assert!(page.to_owned_rows().is_err());
    for what in ["Set_keyspace", "ERROR message"] {
        let (result, _) = within(Duration::from_secs(2), query(&client)).await;
        let err = result.unwrap_err();
        assert!(
            matches!(
                decode_kind(&err),
                Some(DecodeErrorKind::InvalidUtf8) | Some(DecodeErrorKind::ErrorBody { .. })
            ),
            "{what}: {err:?}"
        );
    }
    assert!(!client.is_closed());
}

#[tokio::test]
async fn unknown_type_id() {
    let _serial = serial().await;
    let server = answering(|s| {
        frame(
            s,
            Opcode::RESULT,
            &rows_body(&[("a", &[0x00, 0xff])], 0, &[]),
        )
    })
    .await;
    let client = connect(server.port()).await;
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            decode_kind(&err),
            Some(DecodeErrorKind::UnknownTypeId(0xff))
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn types_nested_past_the_limit() {
    let _serial = serial().await;
    // list<list<…<int>…>> 100,000 levels deep: 200 KB of type, far past any stack if recursed.
    let mut deep = Vec::new();
    for _ in 0..100_000 {
        deep.extend_from_slice(&ty::LIST);
    }
    deep.extend_from_slice(ty::INT);
    let server =
        answering(move |s| frame(s, Opcode::RESULT, &rows_body(&[("a", &deep)], 0, &[]))).await;
    let mut cfg = config(server.port());
    cfg.limits.max_type_depth = 16;
    let client = Client::connect(&cfg).await.unwrap();
    warm_up().await;
    let region = Region::new(GLOBAL);
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            decode_kind(&err),
            Some(DecodeErrorKind::TooDeep { limit: 16 })
        ),
        "{err:?}"
    );
    assert_allocated_below(&region, 2 * MIB);
}

#[tokio::test]
async fn compression_flag_without_negotiation() {
    let _serial = serial().await;
    let server = answering(|s| {
        raw_frame(
            0x84,
            0x01,
            s,
            Opcode::RESULT.0,
            8,
            &[0, 0, 0, 4, 0, 0, 0, 1],
        )
    })
    .await;
    let client = connect(server.port()).await;
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(decode_kind(&err), Some(DecodeErrorKind::Compression(_))),
        "{err:?}"
    );
}

/// LZ4 negotiated, then bodies whose declared uncompressed length is over the limit, or whose
/// block is garbage: typed errors, nothing sized from the declared length, connection intact.
#[tokio::test]
async fn lz4_bodies_that_lie() {
    let _serial = serial().await;
    let server = FakeServer::once(|mut peer: Peer| async move {
        peer.handshake_offering(&["snappy", "lz4"]).await;
        // 200 MiB declared for a 12-byte block.
        let s = peer.expect(Opcode::QUERY).await;
        let mut body = (200 * MIB as u32).to_be_bytes().to_vec();
        body.extend_from_slice(&[0xff; 8]);
        peer.send(&raw_frame(
            0x84,
            0x01,
            s,
            Opcode::RESULT.0,
            body.len() as u32,
            &body,
        ))
        .await;
        // 100 bytes declared, garbage block.
        let s = peer.expect(Opcode::QUERY).await;
        let mut body = 100u32.to_be_bytes().to_vec();
        body.extend_from_slice(&[0xf0, 0xff, 0xff, 0xff, 0x01]);
        peer.send(&raw_frame(
            0x84,
            0x01,
            s,
            Opcode::RESULT.0,
            body.len() as u32,
            &body,
        ))
        .await;
        // A truncated length prefix.
        let s = peer.expect(Opcode::QUERY).await;
        peer.send(&raw_frame(0x84, 0x01, s, Opcode::RESULT.0, 2, &[0, 1]))
            .await;
        peer.drain().await;
    })
    .await;
    let mut cfg = config(server.port());
    cfg.compression = cql4::frame::Compression::Lz4;
    cfg.limits.max_decompressed_body = MIB;
    let client = Client::connect(&cfg).await.unwrap();
    assert_eq!(client.compression(), cql4::frame::Compression::Lz4);
    warm_up().await;
    for case in ["declared 200 MiB", "garbage block", "truncated prefix"] {
        let region = Region::new(GLOBAL);
        let (result, _) = within(Duration::from_secs(2), query(&client)).await;
        let err = result.unwrap_err();
        assert!(
            matches!(
                decode_kind(&err),
                Some(
                    DecodeErrorKind::FrameTooLarge { .. }
                        | DecodeErrorKind::Compression(_)
                        | DecodeErrorKind::Truncated { .. }
                )
            ),
            "{case}: {err:?}"
        );
        assert_allocated_below(&region, MIB);
    }
    assert!(!client.is_closed());
}

#[tokio::test]
async fn garbage_inside_an_error_body() {
    let _serial = serial().await;
    let mut truncated_unavailable = 0x1000i32.to_be_bytes().to_vec();
    put_string(&mut truncated_unavailable, "not enough replicas");
    truncated_unavailable.extend_from_slice(&[0, 1, 0, 0]);
    let mut string_past_end = 0x2200i32.to_be_bytes().to_vec();
    string_past_end.extend_from_slice(&[0xff, 0xff, b'x']);
    let mut bad_write_type = 0x1100i32.to_be_bytes().to_vec();
    put_string(&mut bad_write_type, "timeout");
    bad_write_type.extend_from_slice(&[0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0x80, 0x00]);
    let bodies = vec![
        truncated_unavailable,
        string_past_end,
        bad_write_type,
        vec![0, 0],
    ];
    let n = bodies.len();
    let server = FakeServer::once(move |mut peer: Peer| async move {
        peer.handshake().await;
        for body in &bodies {
            let s = peer.expect(Opcode::QUERY).await;
            peer.send(&frame(s, Opcode::ERROR, body)).await;
        }
        let s = peer.expect(Opcode::QUERY).await;
        peer.respond(
            s,
            Response::Error(ErrorResponse {
                code: ErrorCode::UNAVAILABLE,
                message: "real".to_owned(),
                details: ErrorDetails::Unavailable {
                    consistency: cql4::frame::Consistency::ONE,
                    required: 2,
                    alive: 1,
                },
            }),
        )
        .await;
        peer.drain().await;
    })
    .await;
    let client = connect(server.port()).await;
    for i in 0..n {
        let (result, _) = within(Duration::from_secs(2), query(&client)).await;
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "case {i}: {err:?}");
    }
    // Still in sync: a well-formed ERROR comes through typed.
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    let err = result.unwrap_err();
    assert_eq!(
        err.server_error().map(|e| e.code),
        Some(ErrorCode::UNAVAILABLE),
        "{err:?}"
    );
}

// ---- timing -------------------------------------------------------------------------------

#[tokio::test]
async fn silent_server_connect_timeout() {
    let _serial = serial().await;
    let server = FakeServer::once(|mut peer: Peer| async move {
        peer.drain().await;
    })
    .await;
    let cfg = config(server.port());
    let (result, took) = within(Duration::from_secs(4), Client::connect(&cfg)).await;
    assert!(
        matches!(result, Err(Error::ConnectTimeout { .. })),
        "{result:?}"
    );
    assert!(
        took >= cfg.connect_timeout && took < cfg.connect_timeout + Duration::from_millis(1_000),
        "{took:?}"
    );
}

#[tokio::test]
async fn silent_server_handshake_timeout_after_supported() {
    let _serial = serial().await;
    let server = FakeServer::once(|mut peer: Peer| async move {
        let s = peer.expect(Opcode::OPTIONS).await;
        peer.respond(
            s,
            Response::Supported(cql4::frame::Supported { options: vec![] }),
        )
        .await;
        peer.drain().await;
    })
    .await;
    let cfg = config(server.port());
    let (result, took) = within(Duration::from_secs(4), Client::connect(&cfg)).await;
    assert!(
        matches!(result, Err(Error::ConnectTimeout { .. })),
        "{result:?}"
    );
    assert!(
        took < cfg.connect_timeout + Duration::from_millis(1_000),
        "{took:?}"
    );
}

#[tokio::test]
async fn silent_server_request_timeout_keeps_the_connection() {
    let _serial = serial().await;
    let server = FakeServer::once(|mut peer: Peer| async move {
        peer.handshake().await;
        let late = peer.expect(Opcode::QUERY).await;
        let s = peer.expect(Opcode::QUERY).await;
        // The late answer to the timed-out request, then the answer to the second: the
        // first must be dropped (its id stayed reserved), not delivered to the second.
        peer.send(&frame(
            late,
            Opcode::RESULT,
            &rows_body(&[("a", ty::INT)], 1, &[Some(&[0, 0, 0, 7])]),
        ))
        .await;
        peer.send(&void(s)).await;
        peer.drain().await;
    })
    .await;
    let client = connect(server.port()).await;
    let (result, took) = within(Duration::from_secs(3), query(&client)).await;
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_millis(1_800),
        "{took:?}"
    );
    let (result, _) = within(Duration::from_secs(2), query(&client)).await;
    assert!(
        matches!(result.unwrap().result, ResultResponse::Void),
        "late rows delivered to the wrong request"
    );
}

/// A server that stops answering everything, heartbeats included: the connection is declared
/// dead after the heartbeat timeout, failing the request in flight (whose own timeout is
/// longer) instead of leaving it to hang.
#[tokio::test]
async fn silent_server_fails_the_heartbeat_and_closes() {
    let _serial = serial().await;
    let server = FakeServer::once(|mut peer: Peer| async move {
        peer.handshake().await;
        peer.drain().await;
    })
    .await;
    let mut cfg = config(server.port());
    cfg.heartbeat_interval = Some(Duration::from_millis(200));
    cfg.heartbeat_timeout = Duration::from_millis(300);
    let client = Client::connect(&cfg).await.unwrap();
    let mut options = QueryOptions::new();
    options.timeout = Some(Duration::from_secs(10));
    let (result, took) = within(
        Duration::from_secs(4),
        client.query("SELECT * FROM ks.t", (), &options),
    )
    .await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Closed(r) if matches!(**r, CloseReason::HeartbeatTimeout(_))),
        "{err:?}"
    );
    assert!(took < Duration::from_millis(1_500), "{took:?}");
    assert_closed(&client).await;
}

#[tokio::test]
async fn close_after_accept() {
    let _serial = serial().await;
    let server = FakeServer::once(|peer: Peer| async move { drop(peer) }).await;
    let (result, took) = within(
        Duration::from_secs(3),
        Client::connect(&config(server.port())),
    )
    .await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Closed(r) if matches!(**r, CloseReason::EndOfStream | CloseReason::Io(_))),
        "{err:?}"
    );
    assert!(took < Duration::from_millis(1_000), "{took:?}");
}

#[tokio::test]
async fn close_mid_response_with_100_requests_in_flight() {
    let _serial = serial().await;
    let server = FakeServer::once(|mut peer: Peer| async move {
        peer.handshake().await;
        let streams = peer.requests(100).await;
        // Ten answered, then half a frame, then the socket closes.
        for s in &streams[..10] {
            peer.send(&void(*s)).await;
        }
        let partial = void(streams[10]);
        peer.send(&partial[..5]).await;
        peer.close().await;
    })
    .await;
    let client = connect(server.port()).await;
    let region = Region::new(GLOBAL);
    let start = Instant::now();
    let (results, _) = within(Duration::from_secs(2), async {
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let c = client.clone();
            tasks.push(tokio::spawn(async move {
                let r = query(&c).await;
                (r, Instant::now())
            }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.expect("no panic"));
        }
        results
    })
    .await;
    let ok = results.iter().filter(|(r, _)| r.is_ok()).count();
    assert_eq!(ok, 10);
    for (r, at) in &results {
        if let Err(e) = r {
            assert!(
                matches!(e, Error::Closed(reason) if matches!(**reason, CloseReason::EndOfStream)),
                "{e:?}"
            );
            assert!(
                at.duration_since(start) < Duration::from_millis(1_000),
                "failed late"
            );
        }
    }
    assert_allocated_below(&region, 4 * MIB);
    assert_closed(&client).await;
}

#[tokio::test]
async fn slowloris_response_ends_within_the_request_timeout() {
    let _serial = serial().await;
    let server = FakeServer::once(|mut peer: Peer| async move {
        peer.handshake().await;
        let s = peer.expect(Opcode::QUERY).await;
        let answer = frame(
            s,
            Opcode::RESULT,
            &rows_body(&[("a", ty::VARCHAR)], 1, &[Some(&[b'x'; 64])]),
        );
        for b in answer {
            peer.send(&[b]).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peer.drain().await;
    })
    .await;
    let client = connect(server.port()).await;
    let (result, took) = within(Duration::from_secs(3), query(&client)).await;
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(took < Duration::from_millis(1_800), "{took:?}");
}

#[tokio::test]
async fn slowloris_handshake_ends_within_the_connect_timeout() {
    let _serial = serial().await;
    let server = FakeServer::once(|mut peer: Peer| async move {
        let s = peer.expect(Opcode::OPTIONS).await;
        let answer = frames::response(
            s,
            Response::Supported(cql4::frame::Supported { options: vec![] }),
        );
        for b in answer {
            peer.send(&[b]).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peer.drain().await;
    })
    .await;
    let cfg = config(server.port());
    let (result, took) = within(Duration::from_secs(4), Client::connect(&cfg)).await;
    assert!(
        matches!(result, Err(Error::ConnectTimeout { .. })),
        "{result:?}"
    );
    assert!(
        took < cfg.connect_timeout + Duration::from_millis(1_000),
        "{took:?}"
    );
}

// ---- authentication -----------------------------------------------------------------------

/// A mechanism that answers every challenge, so only the exchange's bound can stop a server
/// that challenges forever.
#[derive(Debug)]
struct Patient;

impl SaslMechanism for Patient {
    fn name(&self) -> &str {
        "PATIENT"
    }
    fn initial_response(&mut self) -> Result<Secret, AuthError> {
        Ok(Secret::from(b"hello".to_vec()))
    }
    fn evaluate_challenge(&mut self, _challenge: Option<&[u8]>) -> Result<Secret, AuthError> {
        Ok(Secret::from(b"again".to_vec()))
    }
    fn on_success(&mut self, _token: Option<&[u8]>) -> Result<(), AuthError> {
        Ok(())
    }
}

#[derive(Debug)]
struct PatientProvider;

impl AuthProvider for PatientProvider {
    fn start<'a>(
        &'a self,
        _class: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn SaslMechanism>, AuthError>> {
        Box::pin(async { Ok(Box::new(Patient) as Box<dyn SaslMechanism>) })
    }
}

/// Challenges every AUTH_RESPONSE forever; returns how many AUTH_RESPONSEs it saw.
async fn challenging_forever(rounds: Arc<std::sync::atomic::AtomicUsize>) -> FakeServer {
    FakeServer::once(move |mut peer: Peer| async move {
        let s = peer.expect(Opcode::OPTIONS).await;
        peer.respond(
            s,
            Response::Supported(cql4::frame::Supported { options: vec![] }),
        )
        .await;
        let s = peer.expect(Opcode::STARTUP).await;
        peer.respond(
            s,
            Response::Authenticate(Authenticate {
                authenticator: "org.apache.cassandra.auth.PasswordAuthenticator".to_owned(),
            }),
        )
        .await;
        while let Some(request) = peer.request().await {
            rounds.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            peer.respond(
                request.stream,
                Response::AuthChallenge(AuthChallenge {
                    token: Some(bytes::Bytes::from_static(
                        b"nonce=0123456789abcdef0123456789abcdef",
                    )),
                }),
            )
            .await;
        }
    })
    .await
}

#[tokio::test]
async fn auth_challenge_loop_is_bounded() {
    let _serial = serial().await;
    let rounds = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let server = challenging_forever(rounds.clone()).await;
    let mut cfg = config(server.port());
    cfg.max_auth_challenges = 3;
    cfg.auth = Some(Arc::new(PatientProvider));
    let (result, _) = within(Duration::from_secs(3), Client::connect(&cfg)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Auth(e) if matches!(**e, AuthError::TooManyChallenges { limit: 3 })),
        "{err:?}"
    );
    drop(server);
    // The initial response plus one answer per allowed challenge.
    assert_eq!(rounds.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[tokio::test]
async fn auth_challenge_to_plain_fails_at_once() {
    let _serial = serial().await;
    let rounds = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let server = challenging_forever(rounds.clone()).await;
    let mut cfg = config(server.port());
    cfg.auth = Some(Arc::new(
        PasswordAuthenticator::new("user", "secret-password").unwrap(),
    ));
    let (result, _) = within(Duration::from_secs(3), Client::connect(&cfg)).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("secret-password"));
    drop(server);
    assert_eq!(rounds.load(std::sync::atomic::Ordering::SeqCst), 1);
}
