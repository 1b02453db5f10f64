//! The checks behind every fuzz target, in one file.
//!
//! Each `fuzz_targets/<name>.rs` is one line calling the function of the same name here, and
//! the root test `tests/fuzz_replay.rs` compiles this file (`#[path]`) to replay the committed
//! corpora `fuzz/corpus/<name>/` through the same functions on stable Rust. A function panics
//! only when a property is violated: a decoder panicking, allocating beyond the bytes it was
//! given, a decoded message that does not re-encode to a fixpoint, a stream id handed out
//! twice. Hostile input that is rejected with an error is the expected outcome.
//!
//! Properties:
//! - decode → encode → decode gives the same message, and encoding that again gives the same
//!   bytes (a fixpoint); request frames with only known flags re-encode byte for byte (every
//!   request layout is fully determined by its flags, and trailing bytes are rejected).
//! - `decode_frame` never reserves far beyond what was received, whatever the header declares.
//! - rows: every cell of every row is reachable raw, typed and owned, and owned values
//!   re-serialize to a fixpoint.
//! - the stream table never hands out an id that is in flight or orphaned.
// `unsafe` only in `capped_alloc` below (a `GlobalAlloc` impl must be `unsafe`), compiled only
// into the cargo-fuzz binaries (`cfg(fuzzing)`); the replay test keeps `forbid`.
#![cfg_attr(fuzzing, deny(unsafe_code))]
#![cfg_attr(not(fuzzing), forbid(unsafe_code))]
#![allow(missing_docs, unreachable_pub, dead_code)]

/// The largest single allocation a fuzz binary allows. Without a sanitizer, libFuzzer's
/// `-malloc_limit_mb` has no malloc hooks and does nothing; this allocator takes its place, so
/// an allocation sized from a hostile length field stays a finding whatever the sanitizer.
pub const MAX_ALLOCATION: usize = 256 << 20;

/// Lets libFuzzer record a stack overflow as a crash with its input. Under a sanitizer its
/// SIGSEGV handler runs on an alternate stack; without one (`-s none`) nothing sets that up
/// (`#![no_main]` also skips Rust's own overflow handler), so an overflow would kill the
/// process before libFuzzer could write the input. `install` (first call of any target, on
/// the fuzzing thread) gives this thread an alternate signal stack and re-installs the
/// current SIGSEGV/SIGBUS actions (libFuzzer's) with `SA_ONSTACK`.
#[cfg(fuzzing)]
#[allow(unsafe_code)]
mod overflow_guard {
    use std::sync::Once;

    const ALT_STACK_SIZE: usize = 1 << 20;

    pub(crate) fn install() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let stack: &'static mut [u8] = Vec::leak(vec![0u8; ALT_STACK_SIZE]);
            let alt = libc::stack_t {
                ss_sp: stack.as_mut_ptr().cast(),
                ss_flags: 0,
                ss_size: ALT_STACK_SIZE,
            };
            // SAFETY: `alt` describes a leaked (never freed) buffer of ALT_STACK_SIZE bytes;
            // `sigaction` reads and writes only the structs passed by pointer, which are
            // initialized (zeroed, then filled by the kernel) before being passed back.
            unsafe {
                if libc::sigaltstack(&alt, std::ptr::null_mut()) != 0 {
                    return;
                }
                for signal in [libc::SIGSEGV, libc::SIGBUS] {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(signal, std::ptr::null(), &mut action) == 0 {
                        action.sa_flags |= libc::SA_ONSTACK;
                        libc::sigaction(signal, &action, std::ptr::null_mut());
                    }
                }
            }
        });
    }
}

#[cfg(not(fuzzing))]
mod overflow_guard {
    /// Only the cargo-fuzz binaries need it (see the `cfg(fuzzing)` version).
    #[inline]
    pub(crate) fn install() {}
}

#[cfg(fuzzing)]
#[allow(unsafe_code)]
mod capped_alloc {
    use std::alloc::{GlobalAlloc, Layout, System};

    struct Capped;

    // SAFETY: every call forwards to `System` with the caller's own arguments, or returns null
    // (allocation failure, which `GlobalAlloc` allows) for sizes above the cap; the Rust
    // runtime then reports "memory allocation of N bytes failed" and aborts, which libFuzzer
    // records as a crash with its input.
    unsafe impl GlobalAlloc for Capped {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if layout.size() > super::MAX_ALLOCATION {
                return std::ptr::null_mut();
            }
            // SAFETY: the caller's contract for `alloc` holds for `System.alloc`.
            unsafe { System.alloc(layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            if layout.size() > super::MAX_ALLOCATION {
                return std::ptr::null_mut();
            }
            // SAFETY: as above.
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from `System` through this allocator with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            if new_size > super::MAX_ALLOCATION {
                return std::ptr::null_mut();
            }
            // SAFETY: `ptr`/`layout` came from `System` through this allocator.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static CAPPED: Capped = Capped;
}

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use bytes::{Bytes, BytesMut};
use cql4_frame::compression::{self, Compression};
use cql4_frame::frame::{bytes_needed, decode_frame, Direction, FrameFlags, FrameHeader, RawFrame};
use cql4_frame::request::{
    AuthResponse, Batch, BatchQuery, BatchStatement, BatchType, BoundValue, CustomPayload, Execute,
    Prepare, Query, QueryParameters, QueryValues, Register, Request, RequestFrame, Startup,
};
use cql4_frame::response::{
    AuthChallenge, AuthSuccess, Authenticate, ErrorCode, ErrorDetails, ErrorResponse, Response,
    ResponseFrame, ResultResponse, Supported,
};
use cql4_frame::rows::{ResultMetadata, Row, Rows};
use cql4_frame::types::ColumnType;
use cql4_frame::value::CqlValue;
use cql4_frame::{
    Consistency, DecodeLimits, Event, Opcode, Reader, SchemaChange, SchemaChangeTarget,
    SchemaChangeType, StatusChange, TopologyChange,
};

/// Limits for targets that decode small fuzz inputs: small enough that an allocation sized from
/// a declared length shows up, large enough for every corpus entry.
pub fn small_limits() -> DecodeLimits {
    let mut limits = DecodeLimits::default();
    limits.max_frame_body = 1 << 20;
    limits.max_decompressed_body = 1 << 20;
    limits
}

/// How far beyond the bytes it holds a read buffer may grow while waiting for a frame. The
/// header's length must not size an allocation (peer bug: scylla reserved the declared body).
pub const MAX_RESERVE_AHEAD: usize = 1 << 20;

fn compression_of(selector: u8) -> Compression {
    if selector & 1 == 1 {
        Compression::Lz4
    } else {
        Compression::None
    }
}

// ---------------------------------------------------------------------------------------------
// frame: raw bytes → decode_frame (whole and in chunks) → ResponseFrame / RequestFrame

/// `data[0]` picks the compression and the chunk size; the rest is the byte stream.
pub fn frame(data: &[u8]) {
    overflow_guard::install();
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let limits = DecodeLimits::default();
    let compression = compression_of(selector);

    // Whole buffer first.
    let mut whole = BytesMut::from(stream);
    let mut frames = Vec::new();
    let whole_end = drain_frames(&mut whole, &limits, &mut frames);

    // The same bytes in chunks must give the same frames and the same outcome.
    let chunk = usize::from(selector >> 1).max(1);
    let mut buf = BytesMut::new();
    let mut chunked = Vec::new();
    let mut chunked_end = Ok(());
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        chunked_end = drain_frames(&mut buf, &limits, &mut chunked);
        assert!(
            buf.capacity() <= buf.len().max(64) * 2 + MAX_RESERVE_AHEAD,
            "read buffer grew to {} for {} buffered bytes: reserved from a declared length",
            buf.capacity(),
            buf.len()
        );
        if chunked_end.is_err() {
            break;
        }
    }
    assert_eq!(
        frames, chunked,
        "chunked decoding differs from whole-buffer decoding"
    );
    assert_eq!(whole_end.is_err(), chunked_end.is_err());

    for raw in frames {
        match raw.header.direction {
            Direction::Response => response_frame(raw, compression, None),
            Direction::Request => request_frame(raw, compression),
        }
    }
}

fn drain_frames(
    buf: &mut BytesMut,
    limits: &DecodeLimits,
    out: &mut Vec<RawFrame>,
) -> Result<(), ()> {
    loop {
        match decode_frame(buf, limits) {
            Ok(Some(f)) => {
                assert_eq!(f.header.length as usize, f.body.len());
                out.push(f);
            }
            Ok(None) => {
                let needed = bytes_needed(buf, limits).expect("decode_frame accepted the header");
                assert!(
                    needed > 0,
                    "decode_frame wants more bytes but bytes_needed is 0"
                );
                return Ok(());
            }
            Err(_) => return Err(()),
        }
    }
}

/// A frame assembled around `body`: the header comes from two selector bytes, so the fuzzer
/// spends no effort matching the length field.
fn assembled(direction: Direction, flags: u8, opcode: u8, body: &[u8]) -> RawFrame {
    RawFrame {
        header: FrameHeader {
            direction,
            flags: FrameFlags(flags),
            stream: 3,
            opcode: Opcode(opcode),
            length: u32::try_from(body.len()).unwrap_or(u32::MAX),
        },
        body: Bytes::copy_from_slice(body),
    }
}

// ---------------------------------------------------------------------------------------------
// responses

/// Decodes a response frame; if it decodes, checks the re-encoding fixpoint and walks it.
///
/// The message must come back equal (Rows: same columns, count, paging state and cells byte
/// for byte, and same flags), and a second encoding must give the same bytes.
pub fn response_frame(
    raw: RawFrame,
    compression: Compression,
    cached: Option<&Arc<ResultMetadata>>,
) {
    let limits = small_limits();
    let Ok(decoded) = ResponseFrame::decode_with_metadata(raw, compression, &limits, cached) else {
        return;
    };
    walk_response(&decoded.message);
    let mut first = Vec::new();
    decoded
        .encode(compression, &mut first)
        .expect("a decoded response re-encodes");
    let again = decode_one_response(&first, compression, cached);
    same_response(&decoded, &again);
    let mut second = Vec::new();
    again
        .encode(compression, &mut second)
        .expect("a decoded response re-encodes");
    let third = decode_one_response(&second, compression, cached);
    assert_eq!(
        third, again,
        "response changed through a second encode/decode"
    );
    if compression == Compression::None {
        assert_eq!(first, second, "response encoding is not a fixpoint");
    }
}

/// The same message; for Rows, first the parts that say most about what differs.
fn same_response(a: &ResponseFrame, b: &ResponseFrame) {
    match (&a.message, &b.message) {
        (Response::Result(ResultResponse::Rows(x)), Response::Result(ResultResponse::Rows(y))) => {
            same_rows(x, y);
            assert_eq!(a, b, "response changed through encode/decode");
        }
        _ => assert_eq!(a, b, "response changed through encode/decode"),
    }
}

/// Same columns, row count, paging state and cells (byte for byte: cells are kept verbatim).
fn same_rows(a: &Rows, b: &Rows) {
    assert_eq!(a.columns(), b.columns(), "columns changed");
    assert_eq!(a.columns_count(), b.columns_count());
    assert_eq!(a.len(), b.len(), "row count changed");
    assert_eq!(a.paging_state(), b.paging_state(), "paging state changed");
    for (x, y) in a.iter().zip(b.iter()) {
        for i in 0..x.len() {
            assert_eq!(x.raw(i), y.raw(i), "cell changed");
        }
    }
}

fn decode_one_response(
    bytes: &[u8],
    compression: Compression,
    cached: Option<&Arc<ResultMetadata>>,
) -> ResponseFrame {
    let mut buf = BytesMut::from(bytes);
    let raw = decode_frame(&mut buf, &small_limits())
        .expect("our own frame decodes")
        .expect("our own frame is complete");
    assert!(buf.is_empty(), "our own frame has trailing bytes");
    ResponseFrame::decode_with_metadata(raw, compression, &small_limits(), cached)
        .expect("our own encoding decodes")
}

const RESPONSE_OPCODES: [Opcode; 8] = [
    Opcode::ERROR,
    Opcode::READY,
    Opcode::AUTHENTICATE,
    Opcode::SUPPORTED,
    Opcode::RESULT,
    Opcode::EVENT,
    Opcode::AUTH_CHALLENGE,
    Opcode::AUTH_SUCCESS,
];

/// `data[0]`: opcode (0..8 a response opcode, else the byte itself), `data[1]`: frame flags
/// (tracing, warnings, custom payload, compression); the rest is the body.
pub fn response_body(data: &[u8]) {
    overflow_guard::install();
    let [op, flags, body @ ..] = data else {
        return;
    };
    let opcode = RESPONSE_OPCODES
        .get(usize::from(*op))
        .copied()
        .unwrap_or(Opcode(*op));
    let raw = assembled(Direction::Response, *flags, opcode.0, body);
    response_frame(raw, compression_of(*flags >> 7), None);
}

/// An ERROR body (every §9 code and its details), after a flags byte.
pub fn error_body(data: &[u8]) {
    overflow_guard::install();
    if let [flags, body @ ..] = data {
        response_frame(
            assembled(Direction::Response, *flags & 0x0e, Opcode::ERROR.0, body),
            Compression::None,
            None,
        );
    }
}

/// An EVENT body.
pub fn event_body(data: &[u8]) {
    overflow_guard::install();
    let raw = assembled(Direction::Response, 0, Opcode::EVENT.0, data);
    response_frame(raw, Compression::None, None);
}

fn walk_response(message: &Response) {
    match message {
        Response::Result(ResultResponse::Rows(rows)) => walk_rows(rows),
        Response::Result(ResultResponse::Prepared(p)) => {
            for c in &p.metadata.columns {
                assert!(p.metadata.column_index(&c.name).is_some());
                let _ = c.ty.to_string();
            }
            for c in &p.result_metadata.columns {
                assert!(p.result_metadata.column_index(&c.name).is_some());
            }
        }
        Response::Error(e) => {
            let _ = e.code.to_string();
            let _ = e.code.name();
        }
        Response::Supported(s) => {
            if let Some((k, _)) = s.options.first() {
                let _ = s.values(k);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// rows

/// `data[0]` = n: the first n bytes are a prepared statement's result metadata (used for a
/// No_metadata page), the rest a Rows body (after the kind).
pub fn rows(data: &[u8]) {
    overflow_guard::install();
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let limits = small_limits();
    let (meta, body) = rest.split_at(usize::from(n).min(rest.len()));
    let body = Bytes::copy_from_slice(body);
    if let Ok(decoded) = Rows::decode(&body, &mut Reader::new(&body), &limits) {
        walk_rows(&decoded);
        check_rows_fixpoint(&decoded, None);
    }
    if let Ok(cached) = ResultMetadata::decode(&mut Reader::new(meta), &limits) {
        let cached = Arc::new(cached);
        if let Ok(decoded) =
            Rows::decode_with_metadata(&body, &mut Reader::new(&body), &limits, &cached)
        {
            walk_rows(&decoded);
            check_rows_fixpoint(&decoded, Some(&cached));
        }
    }
}

fn check_rows_fixpoint(rows: &Rows, cached: Option<&Arc<ResultMetadata>>) {
    let mut body = Vec::new();
    rows.encode(&mut body);
    let body = Bytes::from(body);
    let limits = small_limits();
    let mut r = Reader::new(&body);
    let again = match cached {
        Some(c) => Rows::decode_with_metadata(&body, &mut r, &limits, c),
        None => Rows::decode(&body, &mut r, &limits),
    }
    .expect("re-encoded rows decode");
    same_rows(rows, &again);
    assert_eq!(&again, rows, "rows changed through encode/decode");
    assert!(r.is_empty(), "re-encoded rows have trailing bytes");
    let mut second = Vec::new();
    again.encode(&mut second);
    assert_eq!(&body[..], &second[..], "rows encoding is not a fixpoint");
}

/// Every cell of every row, raw, typed and owned.
pub fn walk_rows(rows: &Rows) {
    let mut seen = 0usize;
    for row in rows.iter() {
        assert_eq!(row.index(), seen);
        seen += 1;
        assert_eq!(row.len(), rows.columns_count());
        for i in 0..row.len() {
            assert!(
                row.raw(i).is_some(),
                "cell {i} of a {}-cell row is missing",
                row.len()
            );
            walk_cell(&row, i, rows.columns().get(i).map(|c| &c.ty));
        }
        assert!(row.raw(row.len()).is_none());
        if let Some(first) = rows.columns().first() {
            let _ = row.get_by_name::<Option<CqlValue>>(&first.name);
        }
        if let Ok(values) = row.to_owned_values() {
            assert_eq!(values.len(), row.len());
            for (i, v) in values.iter().enumerate() {
                assert_eq!(
                    v.is_none(),
                    row.raw(i) == Some(None),
                    "null-ness of cell {i}"
                );
            }
        }
    }
    assert_eq!(
        seen,
        rows.len(),
        "iterated a different number of rows than the page holds"
    );
    if let Ok(all) = rows.to_owned_rows() {
        assert_eq!(all.len(), rows.len());
    }
}

fn walk_cell(row: &Row<'_>, i: usize, spec: Option<&ColumnType>) {
    let owned = row.get::<Option<CqlValue>>(i);
    let Some(spec) = spec else {
        assert!(owned.is_err(), "a cell without a column type decoded");
        return;
    };
    if let Ok(Some(v)) = &owned {
        value_fixpoint(v, spec);
        let _ = v.to_string();
    }
    // Typed access: the type check must agree with the column type, and a typed value must
    // agree with the owned one.
    match (spec, &owned) {
        (ColumnType::Int, Ok(Some(CqlValue::Int(n)))) => {
            assert_eq!(row.get::<i32>(i).ok(), Some(*n));
        }
        (
            ColumnType::BigInt | ColumnType::Counter,
            Ok(Some(CqlValue::BigInt(n) | CqlValue::Counter(n))),
        ) => {
            assert_eq!(row.get::<i64>(i).ok(), Some(*n));
        }
        (
            ColumnType::Text | ColumnType::Ascii,
            Ok(Some(CqlValue::Text(s) | CqlValue::Ascii(s))),
        ) => {
            assert_eq!(row.get::<&str>(i).ok(), Some(s.as_str()));
        }
        (ColumnType::Blob, Ok(Some(CqlValue::Blob(b)))) => {
            assert_eq!(row.get::<&[u8]>(i).ok(), Some(b.as_slice()));
        }
        _ => {}
    }
    let _ = row.get::<Option<i32>>(i);
    let _ = row.get::<Option<i64>>(i);
    let _ = row.get::<Option<&str>>(i);
    let _ = row.get::<Option<String>>(i);
    let _ = row.get::<Option<&[u8]>>(i);
    let _ = row.get::<Option<f64>>(i);
    let _ = row.get::<Option<f32>>(i);
    let _ = row.get::<Option<bool>>(i);
    let _ = row.get::<Option<i16>>(i);
    let _ = row.get::<Option<i8>>(i);
    let _ = row.get::<Option<i128>>(i);
    let _ = row.get::<Option<IpAddr>>(i);
    let _ = row.get::<Option<Vec<CqlValue>>>(i);
    let _ = row.get::<Option<Vec<Option<i32>>>>(i);
    let _ = row.get::<Option<Vec<&str>>>(i);
    let _ = row.get::<Option<HashMap<String, i32>>>(i);
    let _ = row.get::<Option<(i32, Option<&str>)>>(i);
}

/// serialize → deserialize → serialize gives the same bytes (NaN-safe, unlike `==`).
///
/// Types with two UDT fields of one name are skipped: a UDT value names its fields, so such a
/// value cannot say which field it fills (Cassandra never declares one; decoding it works, and
/// serializing fails with a typed error).
fn value_fixpoint(v: &CqlValue, ty: &ColumnType) {
    if has_duplicate_udt_fields(ty) {
        let mut out = Vec::new();
        let _ = v.serialize(ty, &mut out);
        return;
    }
    let limits = small_limits();
    let mut first = Vec::new();
    v.serialize(ty, &mut first)
        .expect("a decoded value serializes with its own type");
    let again = CqlValue::deserialize(&first, ty, &limits).expect("a serialized value decodes");
    let mut second = Vec::new();
    again
        .serialize(ty, &mut second)
        .expect("a decoded value serializes with its own type");
    assert_eq!(
        first, second,
        "value serialization is not a fixpoint for {ty}"
    );
}

fn has_duplicate_udt_fields(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::List(t) | ColumnType::Set(t) => has_duplicate_udt_fields(t),
        ColumnType::Map(k, v) => has_duplicate_udt_fields(k) || has_duplicate_udt_fields(v),
        ColumnType::Tuple(ts) => ts.iter().any(has_duplicate_udt_fields),
        ColumnType::Udt(u) => {
            let mut names: Vec<&str> = u.fields.iter().map(|(n, _)| n.as_str()).collect();
            names.sort_unstable();
            names.windows(2).any(|w| w[0] == w[1])
                || u.fields.iter().any(|(_, t)| has_duplicate_udt_fields(t))
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// types and values

/// An `[option]` type, then a value of that type.
pub fn type_value(data: &[u8]) {
    overflow_guard::install();
    let limits = small_limits();
    let mut r = Reader::new(data);
    let Ok(ty) = ColumnType::decode(&mut r, &limits) else {
        return;
    };
    check_type(&ty, &limits);
    check_value(r.rest(), &ty, &limits);
}

fn check_type(ty: &ColumnType, limits: &DecodeLimits) {
    assert!(
        ty.depth() <= limits.max_type_depth,
        "type deeper than the limit decoded"
    );
    let _ = ty.to_string();
    let mut encoded = Vec::new();
    ty.encode(&mut encoded);
    let mut r = Reader::new(&encoded);
    let again = ColumnType::decode(&mut r, limits).expect("a decoded type re-encodes");
    assert_eq!(&again, ty, "type changed through encode/decode");
    assert!(r.is_empty());
}

fn check_value(bytes: &[u8], ty: &ColumnType, limits: &DecodeLimits) {
    if let Ok(v) = CqlValue::deserialize(bytes, ty, limits) {
        let _ = v.kind_name();
        let _ = v.to_string();
        value_fixpoint(&v, ty);
    }
}

/// CQL type syntax (`map<text, frozen<list<int>>>`): parsing must not panic or recurse past
/// the depth limit, and a parsed type must print to text that parses back to it.
pub fn type_text(data: &[u8]) {
    overflow_guard::install();
    let text = String::from_utf8_lossy(data);
    let Ok(ty) = text.parse::<ColumnType>() else {
        return;
    };
    assert!(ty.depth() <= DecodeLimits::DEFAULT_MAX_TYPE_DEPTH);
    let printed = ty.to_string();
    let again: ColumnType = printed
        .parse()
        .unwrap_or_else(|e| panic!("{printed:?} (printed from {text:?}) does not parse: {e}"));
    assert_eq!(again, ty, "{text:?} → {printed:?}");
}

/// A structured type (built from the fuzzer's choices, nested a few levels) and a value.
pub fn roundtrip_value(data: &[u8]) {
    overflow_guard::install();
    let mut u = Unstructured::new(data);
    let Ok(ty) = arbitrary_type(&mut u, 0) else {
        return;
    };
    let limits = small_limits();
    check_type(&ty, &limits);
    let rest = u.take_rest();
    check_value(rest, &ty, &limits);
}

fn arbitrary_type(u: &mut Unstructured<'_>, depth: usize) -> arbitrary::Result<ColumnType> {
    const SIMPLE: [ColumnType; 21] = [
        ColumnType::Ascii,
        ColumnType::BigInt,
        ColumnType::Blob,
        ColumnType::Boolean,
        ColumnType::Counter,
        ColumnType::Decimal,
        ColumnType::Double,
        ColumnType::Float,
        ColumnType::Int,
        ColumnType::Timestamp,
        ColumnType::Uuid,
        ColumnType::Text,
        ColumnType::Varint,
        ColumnType::Timeuuid,
        ColumnType::Inet,
        ColumnType::Date,
        ColumnType::Time,
        ColumnType::SmallInt,
        ColumnType::TinyInt,
        ColumnType::Duration,
        ColumnType::Blob,
    ];
    let pick = u.int_in_range(0..=(if depth >= 4 { 0 } else { 6 }))?;
    Ok(match pick {
        0 => u.choose(&SIMPLE)?.clone(),
        1 => ColumnType::List(Box::new(arbitrary_type(u, depth + 1)?)),
        2 => ColumnType::Set(Box::new(arbitrary_type(u, depth + 1)?)),
        3 => ColumnType::Map(
            Box::new(arbitrary_type(u, depth + 1)?),
            Box::new(arbitrary_type(u, depth + 1)?),
        ),
        4 => {
            let n = u.int_in_range(0..=4)?;
            let mut v = Vec::new();
            for _ in 0..n {
                v.push(arbitrary_type(u, depth + 1)?);
            }
            ColumnType::Tuple(v)
        }
        5 => {
            let n = u.int_in_range(0..=4)?;
            let mut fields = Vec::new();
            for i in 0..n {
                fields.push((format!("f{i}"), arbitrary_type(u, depth + 1)?));
            }
            ColumnType::Udt(Box::new(cql4_frame::types::UdtType {
                keyspace: "ks".to_owned(),
                name: "t".to_owned(),
                fields,
            }))
        }
        _ => ColumnType::Custom(format!("org.example.{}", u.int_in_range(0..=3u8)?)),
    })
}

// ---------------------------------------------------------------------------------------------
// authentication

/// An AUTH_CHALLENGE token: the SigV4 nonce parser and a whole SigV4 (and PLAIN) exchange step.
pub fn sigv4_challenge(data: &[u8]) {
    overflow_guard::install();
    use cql4_auth::sigv4::{extract_nonce, NONCE_LEN};
    use cql4_auth::{
        Credentials, Exchange, ExchangeLimits, SecretString, ServerMessage, SigV4Mechanism, Step,
        SystemClock,
    };
    if let Ok(nonce) = extract_nonce(data) {
        assert_eq!(nonce.len(), NONCE_LEN);
    }
    let credentials = Credentials::new(
        "AKIDFUZZ",
        SecretString::from("fuzz-secret-key"),
        None,
        None,
    );
    let mech = SigV4Mechanism::new(credentials, "us-east-1", Arc::new(SystemClock));
    let (_, waiting) = Exchange::start(Box::new(mech), ExchangeLimits::default())
        .expect("SigV4 always has an initial response");
    if let Ok(Step::Respond(token, waiting)) = waiting.handle(ServerMessage::Challenge(Some(data)))
    {
        assert!(!token.expose().is_empty());
        // A second challenge or a success token, also fuzzer-chosen.
        let _ = waiting.handle(ServerMessage::Challenge(Some(data)));
    }
    let plain = cql4_auth::PasswordAuthenticator::new("user", "fuzz-password")
        .expect("a valid user name")
        .mechanism();
    let (_, waiting) = Exchange::start(Box::new(plain), ExchangeLimits::default())
        .expect("PLAIN always has an initial response");
    let _ = waiting.handle(ServerMessage::Success(Some(data)));
}

/// A shared AWS config/credentials file, read from memory. No process runner is injected, so a
/// profile with `credential_process` ends in `NoProcessRunner`: the fuzzer never starts programs.
pub fn aws_profile(data: &[u8]) {
    overflow_guard::install();
    use cql4_auth::{CredentialsProvider, MapEnv, ProfileProvider};
    let text = String::from_utf8_lossy(data);
    for profile in [None, Some("p"), Some("default")] {
        let env = Arc::new(
            MapEnv::new()
                .with_var("AWS_CONFIG_FILE", "/fuzz/config")
                .with_var("AWS_SHARED_CREDENTIALS_FILE", "/fuzz/credentials")
                .with_file("/fuzz/config", &text)
                .with_file("/fuzz/credentials", &text),
        );
        let mut provider = ProfileProvider::new(env.clone()).with_file_reader(env);
        if let Some(p) = profile {
            provider = provider.with_profile(p);
        }
        match cql4_auth::now_or_never(provider.provide_credentials())
            .expect("in-memory files never wait")
        {
            Ok(c) => {
                let _ = format!("{c:?}");
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// compression

/// An LZ4 body as Cassandra frames it (4-byte declared length, then the block).
pub fn lz4(data: &[u8]) {
    overflow_guard::install();
    let limits = small_limits();
    let Ok(plain) = compression::decompress(Compression::Lz4, data, &limits) else {
        return;
    };
    assert!(plain.len() <= limits.max_decompressed_body);
    let mut packed = Vec::new();
    compression::compress(Compression::Lz4, &plain, &mut packed).expect("compressing succeeds");
    let again = compression::decompress(Compression::Lz4, &packed, &limits)
        .expect("our own compression decompresses");
    assert_eq!(again, plain);
}

// ---------------------------------------------------------------------------------------------
// requests (what a proxy or fake server decodes)

/// `data[0]` flags, `data[1]` opcode, then the body.
pub fn request(data: &[u8]) {
    overflow_guard::install();
    let [flags, opcode, body @ ..] = data else {
        return;
    };
    request_frame(
        assembled(Direction::Request, *flags, *opcode, body),
        compression_of(*flags >> 7),
    );
}

fn request_frame(raw: RawFrame, compression: Compression) {
    let limits = small_limits();
    let Ok(decoded) = RequestFrame::decode(raw, compression, &limits) else {
        return;
    };
    let mut first = Vec::new();
    decoded
        .encode(Compression::None, &mut first)
        .expect("a decoded request re-encodes");
    // Not byte for byte with the input: a `[bytes]` of any negative length is null (§3) and
    // re-encodes as -1. The message itself must survive, and the encoding be a fixpoint.
    let again = decode_one_request(&first);
    assert_eq!(again, decoded, "request changed through encode/decode");
    let mut second = Vec::new();
    again
        .encode(Compression::None, &mut second)
        .expect("a decoded request re-encodes");
    assert_eq!(first, second, "request encoding is not a fixpoint");
}

fn decode_one_request(bytes: &[u8]) -> RequestFrame {
    let mut buf = BytesMut::from(bytes);
    let raw = decode_frame(&mut buf, &small_limits())
        .expect("our own frame decodes")
        .expect("our own frame is complete");
    assert!(buf.is_empty());
    RequestFrame::decode(raw, Compression::None, &small_limits()).expect("our own request decodes")
}

// ---------------------------------------------------------------------------------------------
// structured round trip of every message

/// A request or response built from the fuzzer's choices, encoded (possibly LZ4), decoded.
pub fn roundtrip_message(data: &[u8]) {
    overflow_guard::install();
    let mut u = Unstructured::new(data);
    let Ok(lz4) = u.arbitrary::<bool>() else {
        return;
    };
    let compression = if lz4 {
        Compression::Lz4
    } else {
        Compression::None
    };
    let Ok(is_request) = u.arbitrary::<bool>() else {
        return;
    };
    if is_request {
        let Ok(frame) = arbitrary_request(&mut u) else {
            return;
        };
        let mut bytes = Vec::new();
        let encoded = frame.encode(compression, &mut bytes);
        if let Request::Batch(b) = &frame.message {
            if b.statements
                .iter()
                .any(|s| matches!(s.values, QueryValues::Named(_)))
            {
                // One body, two meanings (CASSANDRA-10246): never written.
                assert!(
                    matches!(encoded, Err(cql4_frame::EncodeError::Invalid(m))
                        if m == cql4_frame::request::NAMED_BATCH_VALUES),
                    "a BATCH with named values encoded: {encoded:?}"
                );
                return;
            }
        }
        if encoded.is_err() {
            return;
        }
        let mut buf = BytesMut::from(&bytes[..]);
        let raw = decode_frame(&mut buf, &DecodeLimits::default())
            .expect("our frame decodes")
            .expect("our frame is complete");
        let back = RequestFrame::decode(raw, compression, &DecodeLimits::default())
            .expect("our request decodes");
        assert_eq!(back, frame);
    } else {
        let Ok(frame) = arbitrary_response(&mut u) else {
            return;
        };
        let mut bytes = Vec::new();
        if frame.encode(compression, &mut bytes).is_err() {
            return;
        }
        let mut buf = BytesMut::from(&bytes[..]);
        let raw = decode_frame(&mut buf, &DecodeLimits::default())
            .expect("our frame decodes")
            .expect("our frame is complete");
        let back = ResponseFrame::decode(raw, compression, &DecodeLimits::default())
            .expect("our response decodes");
        assert_eq!(back, frame);
    }
}

fn bytes_of(u: &mut Unstructured<'_>) -> arbitrary::Result<Bytes> {
    Ok(Bytes::from(Vec::<u8>::arbitrary(u)?))
}

fn opt_bytes(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<Bytes>> {
    Ok(if u.arbitrary()? {
        Some(bytes_of(u)?)
    } else {
        None
    })
}

fn consistency(u: &mut Unstructured<'_>) -> arbitrary::Result<Consistency> {
    Ok(Consistency(u.arbitrary()?))
}

fn bound_value(u: &mut Unstructured<'_>) -> arbitrary::Result<BoundValue> {
    Ok(match u.int_in_range(0..=2u8)? {
        0 => BoundValue::Null,
        1 => BoundValue::NotSet,
        _ => BoundValue::Bytes(bytes_of(u)?),
    })
}

fn values(u: &mut Unstructured<'_>, named: bool) -> arbitrary::Result<QueryValues> {
    let n = u.int_in_range(0..=6)?;
    Ok(if named {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push((String::arbitrary(u)?, bound_value(u)?));
        }
        QueryValues::Named(v)
    } else {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(bound_value(u)?);
        }
        QueryValues::Positional(v)
    })
}

fn params(u: &mut Unstructured<'_>) -> arbitrary::Result<QueryParameters> {
    let mut p = QueryParameters::new(consistency(u)?);
    if u.arbitrary()? {
        let named = u.arbitrary()?;
        p.values = Some(values(u, named)?);
    }
    p.skip_metadata = u.arbitrary()?;
    p.page_size = u.arbitrary()?;
    p.paging_state = opt_bytes(u)?;
    p.serial_consistency = if u.arbitrary()? {
        Some(consistency(u)?)
    } else {
        None
    };
    p.default_timestamp = u.arbitrary()?;
    Ok(p)
}

fn payload(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<CustomPayload>> {
    if !u.arbitrary::<bool>()? {
        return Ok(None);
    }
    let n = u.int_in_range(0..=3)?;
    let mut v = Vec::new();
    for _ in 0..n {
        v.push((String::arbitrary(u)?, opt_bytes(u)?));
    }
    Ok(Some(v))
}

fn arbitrary_request(u: &mut Unstructured<'_>) -> arbitrary::Result<RequestFrame> {
    let message = match u.int_in_range(0..=7u8)? {
        0 => Request::Startup(Startup {
            options: Vec::<(String, String)>::arbitrary(u)?,
        }),
        1 => Request::AuthResponse(AuthResponse {
            token: opt_bytes(u)?,
        }),
        2 => Request::Options,
        3 => Request::Query(Query {
            query: String::arbitrary(u)?,
            params: params(u)?,
        }),
        4 => Request::Prepare(Prepare {
            query: String::arbitrary(u)?,
        }),
        5 => Request::Execute(Execute {
            id: bytes_of(u)?,
            params: params(u)?,
        }),
        6 => {
            // Mostly positional (the only kind BATCH takes); named ones must be refused by the
            // encoder (cql4_frame::request::NAMED_BATCH_VALUES) and are skipped by the caller.
            let named = u.ratio(1, 8)?;
            let n = u.int_in_range(0..=4)?;
            let mut statements = Vec::new();
            for _ in 0..n {
                statements.push(BatchStatement {
                    query: if u.arbitrary()? {
                        BatchQuery::Query(String::arbitrary(u)?)
                    } else {
                        BatchQuery::Prepared(bytes_of(u)?)
                    },
                    values: values(u, named)?,
                });
            }
            Request::Batch(Batch {
                batch_type: BatchType(u.arbitrary()?),
                statements,
                consistency: consistency(u)?,
                serial_consistency: if u.arbitrary()? {
                    Some(consistency(u)?)
                } else {
                    None
                },
                default_timestamp: u.arbitrary()?,
            })
        }
        _ => Request::Register(Register {
            event_types: Vec::<String>::arbitrary(u)?,
        }),
    };
    let is_startup = matches!(message, Request::Startup(_));
    Ok(RequestFrame {
        stream: u.int_in_range(0..=i16::MAX)?,
        tracing: u.arbitrary()?,
        custom_payload: if is_startup { None } else { payload(u)? },
        message,
    })
}

fn address(u: &mut Unstructured<'_>) -> arbitrary::Result<SocketAddr> {
    let ip = if u.arbitrary()? {
        IpAddr::V4(Ipv4Addr::from(u.arbitrary::<[u8; 4]>()?))
    } else {
        IpAddr::V6(Ipv6Addr::from(u.arbitrary::<[u8; 16]>()?))
    };
    Ok(SocketAddr::new(ip, u.arbitrary()?))
}

fn schema_change(u: &mut Unstructured<'_>) -> arbitrary::Result<SchemaChange> {
    let change = *u.choose(&[
        SchemaChangeType::Created,
        SchemaChangeType::Updated,
        SchemaChangeType::Dropped,
    ])?;
    let keyspace = String::arbitrary(u)?;
    let target = match u.int_in_range(0..=4u8)? {
        0 => SchemaChangeTarget::Keyspace { keyspace },
        1 => SchemaChangeTarget::Table {
            keyspace,
            table: String::arbitrary(u)?,
        },
        2 => SchemaChangeTarget::Type {
            keyspace,
            name: String::arbitrary(u)?,
        },
        3 => SchemaChangeTarget::Function {
            keyspace,
            name: String::arbitrary(u)?,
            arg_types: Vec::<String>::arbitrary(u)?,
        },
        _ => SchemaChangeTarget::Aggregate {
            keyspace,
            name: String::arbitrary(u)?,
            arg_types: Vec::<String>::arbitrary(u)?,
        },
    };
    Ok(SchemaChange { change, target })
}

fn error_response(u: &mut Unstructured<'_>) -> arbitrary::Result<ErrorResponse> {
    let message = String::arbitrary(u)?;
    let (code, details) = match u.int_in_range(0..=8u8)? {
        0 => (
            ErrorCode(0x1000),
            ErrorDetails::Unavailable {
                consistency: consistency(u)?,
                required: u.arbitrary()?,
                alive: u.arbitrary()?,
            },
        ),
        1 => (
            ErrorCode(0x1100),
            ErrorDetails::WriteTimeout {
                consistency: consistency(u)?,
                received: u.arbitrary()?,
                block_for: u.arbitrary()?,
                write_type: String::arbitrary(u)?,
            },
        ),
        2 => (
            ErrorCode(0x1200),
            ErrorDetails::ReadTimeout {
                consistency: consistency(u)?,
                received: u.arbitrary()?,
                block_for: u.arbitrary()?,
                data_present: u.arbitrary()?,
            },
        ),
        3 => (
            ErrorCode(0x1300),
            ErrorDetails::ReadFailure {
                consistency: consistency(u)?,
                received: u.arbitrary()?,
                block_for: u.arbitrary()?,
                num_failures: u.arbitrary()?,
                data_present: u.arbitrary()?,
            },
        ),
        4 => (
            ErrorCode(0x1400),
            ErrorDetails::FunctionFailure {
                keyspace: String::arbitrary(u)?,
                function: String::arbitrary(u)?,
                arg_types: Vec::<String>::arbitrary(u)?,
            },
        ),
        5 => (
            ErrorCode(0x1500),
            ErrorDetails::WriteFailure {
                consistency: consistency(u)?,
                received: u.arbitrary()?,
                block_for: u.arbitrary()?,
                num_failures: u.arbitrary()?,
                write_type: String::arbitrary(u)?,
            },
        ),
        6 => (
            ErrorCode(0x2400),
            ErrorDetails::AlreadyExists {
                keyspace: String::arbitrary(u)?,
                table: String::arbitrary(u)?,
            },
        ),
        7 => (
            ErrorCode(0x2500),
            ErrorDetails::Unprepared { id: bytes_of(u)? },
        ),
        _ => {
            // Codes without details, known or not.
            let mut code = ErrorCode(u.arbitrary()?);
            if [
                0x1000, 0x1100, 0x1200, 0x1300, 0x1400, 0x1500, 0x2400, 0x2500,
            ]
            .contains(&code.0)
            {
                code = ErrorCode(0x2200);
            }
            (code, ErrorDetails::None)
        }
    };
    Ok(ErrorResponse {
        code,
        message,
        details,
    })
}

fn arbitrary_response(u: &mut Unstructured<'_>) -> arbitrary::Result<ResponseFrame> {
    let message = match u.int_in_range(0..=11u8)? {
        0 => Response::Error(error_response(u)?),
        1 => Response::Ready,
        2 => Response::Authenticate(Authenticate {
            authenticator: String::arbitrary(u)?,
        }),
        3 => Response::Supported(Supported {
            options: Vec::<(String, Vec<String>)>::arbitrary(u)?,
        }),
        4 => Response::Result(ResultResponse::Void),
        5 => Response::Result(ResultResponse::SetKeyspace(String::arbitrary(u)?)),
        6 => Response::Result(ResultResponse::SchemaChange(schema_change(u)?)),
        7 => Response::Event(Event::SchemaChange(schema_change(u)?)),
        8 => Response::Event(Event::TopologyChange {
            change: *u.choose(&[
                TopologyChange::NewNode,
                TopologyChange::RemovedNode,
                TopologyChange::MovedNode,
            ])?,
            address: address(u)?,
        }),
        9 => Response::Event(Event::StatusChange {
            change: *u.choose(&[StatusChange::Up, StatusChange::Down])?,
            address: address(u)?,
        }),
        10 => Response::AuthChallenge(AuthChallenge {
            token: opt_bytes(u)?,
        }),
        _ => Response::AuthSuccess(AuthSuccess {
            token: opt_bytes(u)?,
        }),
    };
    let mut frame = ResponseFrame::new(u.arbitrary()?, message);
    frame.tracing_id = u.arbitrary()?;
    frame.warnings = u.arbitrary()?;
    frame.custom_payload = payload(u)?;
    Ok(frame)
}

// ---------------------------------------------------------------------------------------------
// stream table

#[derive(Debug, Arbitrary)]
enum StreamOp {
    Submit { timeout_ms: u8 },
    Transmit,
    Respond { stream: i16 },
    RespondInFlight { pick: u16 },
    Advance { ms: u8 },
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    InFlight(u64),
    Orphaned,
}

/// A fuzzer-chosen sequence of operations on the stream table, checked against a model: an id
/// is never handed out while in flight or orphaned, every answer reaches its own request, late
/// answers are recognised, and counts agree.
pub fn stream_table(data: &[u8]) {
    overflow_guard::install();
    use cql4_conn::testkit::{Delivery, Health, Multiplexer, MuxConfig, StreamViolation};
    let mut u = Unstructured::new(data);
    let mut config = MuxConfig::default();
    config.max_streams = usize::from(u.int_in_range(1..=64u8).unwrap_or(4));
    config.max_orphans = usize::from(u.int_in_range(0..=8u8).unwrap_or(2));
    config.max_queued = usize::from(u.int_in_range(1..=64u8).unwrap_or(8));
    let mut mux: Multiplexer<u64> = Multiplexer::new(config.clone());
    let start = Instant::now();
    let mut now = start;
    let mut next_tag = 0u64;
    let mut model: HashMap<i16, Model> = HashMap::new();
    let mut queued = 0usize;
    let mut closed = false;
    let Ok(ops) = Vec::<StreamOp>::arbitrary_take_rest(u) else {
        return;
    };
    for op in ops.into_iter().take(2_000) {
        match op {
            StreamOp::Submit { timeout_ms } => {
                let deadline = now + Duration::from_millis(u64::from(timeout_ms));
                let healthy = mux.health() == Health::Healthy;
                match mux.submit(next_tag, deadline) {
                    Ok(()) => {
                        assert!(healthy && !closed);
                        queued += 1;
                    }
                    Err((_, tag)) => assert_eq!(tag, next_tag),
                }
                next_tag += 1;
            }
            StreamOp::Transmit => {
                if let Some((id, tag)) = mux.poll_transmit() {
                    let tag = *tag;
                    assert!(!closed, "transmitted after close");
                    assert!(
                        id >= 0 && (id as usize) < config.max_streams,
                        "id {id} out of range"
                    );
                    let prev = model.insert(id, Model::InFlight(tag));
                    assert!(prev.is_none(), "stream {id} handed out while {prev:?}");
                    queued -= 1;
                }
            }
            StreamOp::Respond { stream } => respond(&mut mux, &mut model, stream),
            StreamOp::RespondInFlight { pick } => {
                let mut ids: Vec<i16> = model.keys().copied().collect();
                ids.sort_unstable();
                if !ids.is_empty() {
                    let id = ids[usize::from(pick) % ids.len()];
                    respond(&mut mux, &mut model, id);
                }
            }
            StreamOp::Advance { ms } => {
                now += Duration::from_millis(u64::from(ms));
                while let Some(expired) = mux.poll_expired(now) {
                    if expired.was_sent {
                        let id = model
                            .iter()
                            .find(|(_, m)| **m == Model::InFlight(expired.request))
                            .map(|(id, _)| *id)
                            .expect("an expired sent request was in flight");
                        model.insert(id, Model::Orphaned);
                    } else {
                        queued -= 1;
                    }
                }
                if let Some(t) = mux.poll_timeout() {
                    assert!(t > now, "a timer at or before now was not expired");
                }
            }
            StreamOp::Close => {
                let failed = mux.close();
                let in_flight = model
                    .values()
                    .filter(|m| matches!(m, Model::InFlight(_)))
                    .count();
                assert_eq!(
                    failed.len(),
                    in_flight + queued,
                    "close must fail every live request"
                );
                model.clear();
                queued = 0;
                closed = true;
            }
        }
        if !closed {
            let in_flight = model
                .values()
                .filter(|m| matches!(m, Model::InFlight(_)))
                .count();
            let orphans = model.values().filter(|m| **m == Model::Orphaned).count();
            assert_eq!(mux.in_flight(), in_flight);
            assert_eq!(mux.orphans(), orphans);
            assert_eq!(mux.queued(), queued);
        }
    }

    fn respond(mux: &mut Multiplexer<u64>, model: &mut HashMap<i16, Model>, stream: i16) {
        match (mux.handle_response(stream), model.remove(&stream)) {
            (Ok(Delivery::Answer(tag)), Some(Model::InFlight(want))) => assert_eq!(tag, want),
            (Ok(Delivery::Late), Some(Model::Orphaned)) => {}
            (Err(StreamViolation::NotInFlight(_) | StreamViolation::OutOfRange(_)), None) => {}
            (got, want) => panic!("stream {stream}: got {got:?}, model says {want:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// seeds

/// Seeds for every target that a whole frame (a golden vector, or one captured from a real
/// node by `fuzz/capture/capture.py`) yields: the frame itself, its body in the per-message
/// layouts, and for Rows each column's type with a value of it.
pub fn seeds_from_frame(frame: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = vec![("frame", [&[0u8][..], frame].concat())];
    let mut buf = BytesMut::from(frame);
    let Ok(Some(raw)) = decode_frame(&mut buf, &DecodeLimits::default()) else {
        return out;
    };
    let flags = raw.header.flags.0;
    let body = raw.body.to_vec();
    match raw.header.direction {
        Direction::Request => {
            out.push((
                "request",
                [&[flags, raw.header.opcode.0][..], &body].concat(),
            ));
        }
        Direction::Response => {
            if let Some(i) = RESPONSE_OPCODES
                .iter()
                .position(|o| *o == raw.header.opcode)
            {
                out.push(("response_body", [&[i as u8, flags][..], &body].concat()));
            }
            let plain = flags & 0x0e == 0;
            if raw.header.opcode == Opcode::ERROR {
                out.push(("error_body", [&[flags & 0x0e][..], &body].concat()));
            }
            if raw.header.opcode == Opcode::EVENT && plain {
                out.push(("event_body", body.clone()));
            }
            if let Ok(decoded) =
                ResponseFrame::decode(raw, Compression::None, &DecodeLimits::default())
            {
                if let Response::Result(ResultResponse::Rows(rows)) = &decoded.message {
                    if plain {
                        out.push((
                            "rows",
                            [&[0u8][..], body.get(4..).unwrap_or_default()].concat(),
                        ));
                    }
                    for (i, column) in rows.columns().iter().enumerate() {
                        let mut seed = Vec::new();
                        column.ty.encode(&mut seed);
                        if let Some(Some(cell)) =
                            rows.iter().find_map(|r| r.raw(i).filter(Option::is_some))
                        {
                            seed.extend_from_slice(cell);
                        }
                        out.push(("type_value", seed));
                    }
                }
            }
        }
    }
    out
}

/// Seed inputs of the targets that golden frames do not reach, built with the codec's own
/// encoders.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    // Structured targets start from a few fixed byte strings.
    for n in [0u8, 1, 7, 42, 255] {
        let bytes: Vec<u8> = (0..128u16)
            .map(|i| (i as u8).wrapping_mul(n).wrapping_add(n))
            .collect();
        out.push(("roundtrip_message", bytes.clone()));
        out.push(("roundtrip_value", bytes.clone()));
        out.push(("stream_table", bytes));
    }
    out.push((
        "sigv4_challenge",
        b"nonce=91703fdc2ef562e19fbdab0f58e42fe5".to_vec(),
    ));
    out.push((
        "sigv4_challenge",
        b"xnonce=91703fdc2ef562e19fbdab0f58e42fe5,rest".to_vec(),
    ));
    out.push((
        "aws_profile",
        b"[default]\naws_access_key_id = AKID\naws_secret_access_key = s#x ;c\n\n[profile p]\nregion = us-east-1\n  sub = 1\n[p]\naws_access_key_id=A\naws_secret_access_key=B\naws_session_token=T\n".to_vec(),
    ));
    let mut lz = Vec::new();
    compression::compress(Compression::Lz4, b"hello hello hello hello hello", &mut lz)
        .expect("compress");
    out.push(("lz4", lz));
    out
}
