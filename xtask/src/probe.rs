//! A minimal, blocking CQL native protocol v4 client for readiness checks and for creating the
//! test role. Deliberately independent of the cql4 crates (they are what the node tests).
//!
//! Frames (native_protocol_v4.spec §2): version, flags, stream (i16), opcode, length (i32), body.
//! Flow: STARTUP → READY, or AUTHENTICATE → AUTH_RESPONSE (SASL PLAIN `\0user\0pass`) →
//! AUTH_SUCCESS; then QUERY → RESULT.
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::util::{Context, Result};

const VERSION_REQUEST: u8 = 0x04;
const VERSION_RESPONSE: u8 = 0x84;
const OP_ERROR: u8 = 0x00;
const OP_STARTUP: u8 = 0x01;
const OP_READY: u8 = 0x02;
const OP_AUTHENTICATE: u8 = 0x03;
const OP_QUERY: u8 = 0x07;
const OP_RESULT: u8 = 0x08;
const OP_AUTH_CHALLENGE: u8 = 0x0E;
const OP_AUTH_RESPONSE: u8 = 0x0F;
const OP_AUTH_SUCCESS: u8 = 0x10;
/// Far above anything a readiness check or CREATE ROLE returns.
const MAX_BODY: usize = 1 << 20;
const CONSISTENCY_ONE: u16 = 0x0001;

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// TLS settings: trust only the test CA, verify this name.
pub(crate) struct Tls<'a> {
    pub(crate) ca_pem: &'a Path,
    pub(crate) server_name: &'a str,
}

/// An authenticated (or auth-less) connection.
pub(crate) struct Connection {
    stream: Box<dyn Stream>,
}

/// What a failed attempt means for a caller that retries.
#[derive(Debug)]
pub(crate) enum ProbeError {
    /// Could not connect or the connection broke (node not listening yet, TLS failure, …).
    Transport(String),
    /// The server answered with an ERROR frame.
    Server { code: i32, message: String },
    /// The server sent something this probe does not expect.
    Protocol(String),
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(m) => write!(f, "transport: {m}"),
            Self::Server { code, message } => write!(f, "server error 0x{code:04x}: {message}"),
            Self::Protocol(m) => write!(f, "protocol: {m}"),
        }
    }
}

fn transport(e: impl std::fmt::Display) -> ProbeError {
    ProbeError::Transport(e.to_string())
}

/// Loads a TLS client configuration that trusts only `ca_pem`.
fn tls_config(ca_pem: &Path) -> Result<Arc<rustls::ClientConfig>> {
    let pem = std::fs::read(ca_pem).context(|| format!("read {}", ca_pem.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots
            .add(cert.context(|| format!("parse {}", ca_pem.display()))?)
            .context(|| format!("add {} to the root store", ca_pem.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context(|| "TLS protocol versions".into())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl Connection {
    /// Connects and completes STARTUP; `login` = (user, password) for SASL PLAIN.
    pub(crate) fn open(
        addr: SocketAddr,
        tls: Option<&Tls<'_>>,
        login: Option<(&str, &str)>,
        timeout: Duration,
    ) -> Result<Self, ProbeError> {
        let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(transport)?;
        tcp.set_read_timeout(Some(timeout)).map_err(transport)?;
        tcp.set_write_timeout(Some(timeout)).map_err(transport)?;
        tcp.set_nodelay(true).map_err(transport)?;
        let stream: Box<dyn Stream> = match tls {
            None => Box::new(tcp),
            Some(tls) => {
                let config = tls_config(tls.ca_pem).map_err(ProbeError::Transport)?;
                let name = rustls::pki_types::ServerName::try_from(tls.server_name.to_owned())
                    .map_err(transport)?;
                let conn = rustls::ClientConnection::new(config, name).map_err(transport)?;
                Box::new(rustls::StreamOwned::new(conn, tcp))
            }
        };
        let mut conn = Self { stream };
        conn.startup(login)?;
        Ok(conn)
    }

    fn startup(&mut self, login: Option<(&str, &str)>) -> Result<(), ProbeError> {
        // §4.1.1: a [string map] with the mandatory CQL_VERSION.
        let mut body = Vec::new();
        body.extend_from_slice(&1u16.to_be_bytes());
        put_string(&mut body, "CQL_VERSION")?;
        put_string(&mut body, "3.0.0")?;
        match self.request(OP_STARTUP, &body)? {
            (OP_READY, _) => Ok(()),
            (OP_AUTHENTICATE, _) => {
                let (user, password) = login.ok_or_else(|| {
                    ProbeError::Protocol("server requires authentication, no login given".into())
                })?;
                // SASL PLAIN (RFC 4616): authzid NUL authcid NUL passwd, authzid empty.
                let mut token = Vec::with_capacity(user.len() + password.len() + 2);
                token.push(0);
                token.extend_from_slice(user.as_bytes());
                token.push(0);
                token.extend_from_slice(password.as_bytes());
                let mut body = Vec::with_capacity(token.len() + 4);
                put_bytes(&mut body, &token)?;
                match self.request(OP_AUTH_RESPONSE, &body)? {
                    (OP_AUTH_SUCCESS, _) => Ok(()),
                    (OP_AUTH_CHALLENGE, _) => Err(ProbeError::Protocol(
                        "unexpected AUTH_CHALLENGE after SASL PLAIN".into(),
                    )),
                    (op, _) => Err(ProbeError::Protocol(format!(
                        "opcode 0x{op:02x} in reply to AUTH_RESPONSE"
                    ))),
                }
            }
            (op, _) => Err(ProbeError::Protocol(format!(
                "opcode 0x{op:02x} in reply to STARTUP"
            ))),
        }
    }

    /// Runs one statement at ONE; succeeds on any RESULT.
    pub(crate) fn query(&mut self, cql: &str) -> Result<(), ProbeError> {
        self.query_at(cql, CONSISTENCY_ONE).map(drop)
    }

    /// Runs a SELECT at `consistency` (§3 `[consistency]` codes: 1 ONE, 2 TWO, 3 THREE) and
    /// returns its rows, each cell as raw bytes (`None` for null). Only simple column types.
    pub(crate) fn select(
        &mut self,
        cql: &str,
        consistency: u16,
    ) -> Result<Vec<Vec<Option<Vec<u8>>>>, ProbeError> {
        let body = self.query_at(cql, consistency)?;
        parse_rows(&body)
    }

    /// QUERY → the RESULT body.
    fn query_at(&mut self, cql: &str, consistency: u16) -> Result<Vec<u8>, ProbeError> {
        // §4.1.4: <query: long string><consistency: short><flags: byte>
        let mut body = Vec::with_capacity(cql.len() + 7);
        let len = i32::try_from(cql.len())
            .map_err(|_| ProbeError::Protocol("statement too long".into()))?;
        body.extend_from_slice(&len.to_be_bytes());
        body.extend_from_slice(cql.as_bytes());
        body.extend_from_slice(&consistency.to_be_bytes());
        body.push(0);
        match self.request(OP_QUERY, &body)? {
            (OP_RESULT, body) => Ok(body),
            (op, _) => Err(ProbeError::Protocol(format!(
                "opcode 0x{op:02x} in reply to QUERY"
            ))),
        }
    }

    /// Sends one request on stream 0 and reads its response; ERROR frames become `Server`.
    fn request(&mut self, opcode: u8, body: &[u8]) -> Result<(u8, Vec<u8>), ProbeError> {
        let len = u32::try_from(body.len())
            .map_err(|_| ProbeError::Protocol("request body too long".into()))?;
        let mut frame = Vec::with_capacity(9 + body.len());
        frame.extend_from_slice(&[VERSION_REQUEST, 0, 0, 0, opcode]);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(body);
        self.stream.write_all(&frame).map_err(transport)?;
        self.stream.flush().map_err(transport)?;

        let mut header = [0u8; 9];
        self.stream.read_exact(&mut header).map_err(transport)?;
        let [version, _flags, _s0, _s1, op, l0, l1, l2, l3] = header;
        if version != VERSION_RESPONSE {
            return Err(ProbeError::Protocol(format!(
                "response version byte 0x{version:02x}"
            )));
        }
        let len = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
        if len > MAX_BODY {
            return Err(ProbeError::Protocol(format!(
                "response body of {len} bytes"
            )));
        }
        let mut body = vec![0u8; len];
        self.stream.read_exact(&mut body).map_err(transport)?;
        if op == OP_ERROR {
            return Err(parse_error(&body));
        }
        Ok((op, body))
    }
}

/// §4.2.1: <code: int><message: string>.
fn parse_error(body: &[u8]) -> ProbeError {
    let code = body
        .get(0..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(-1, i32::from_be_bytes);
    let message = body
        .get(4..6)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map(|b| usize::from(u16::from_be_bytes(b)))
        .and_then(|n| body.get(6..6 + n))
        .map_or_else(
            || "<unreadable message>".into(),
            |m| String::from_utf8_lossy(m).into_owned(),
        );
    ProbeError::Server { code, message }
}

fn put_string(out: &mut Vec<u8>, s: &str) -> Result<(), ProbeError> {
    let len = u16::try_from(s.len()).map_err(|_| ProbeError::Protocol("string too long".into()))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<(), ProbeError> {
    let len = i32::try_from(b.len()).map_err(|_| ProbeError::Protocol("bytes too long".into()))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b);
    Ok(())
}

/// A cursor over a RESULT body; every read is bounds-checked.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ProbeError> {
        let (head, tail) = self
            .0
            .split_at_checked(n)
            .ok_or_else(|| ProbeError::Protocol(format!("RESULT truncated in {what}")))?;
        self.0 = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ProbeError> {
        let b = self.take(N, what)?;
        <[u8; N]>::try_from(b).map_err(|_| ProbeError::Protocol(format!("RESULT {what}")))
    }
    fn int(&mut self, what: &str) -> Result<i32, ProbeError> {
        self.array(what).map(i32::from_be_bytes)
    }
    fn short(&mut self, what: &str) -> Result<u16, ProbeError> {
        self.array(what).map(u16::from_be_bytes)
    }
    fn string(&mut self, what: &str) -> Result<(), ProbeError> {
        let n = self.short(what)?;
        self.take(usize::from(n), what).map(drop)
    }
    /// `[bytes]`: a negative length is null.
    fn bytes(&mut self, what: &str) -> Result<Option<&'a [u8]>, ProbeError> {
        match usize::try_from(self.int(what)?) {
            Ok(n) => self.take(n, what).map(Some),
            Err(_) => Ok(None),
        }
    }
}

/// §4.2.5.2 Rows: metadata (flags, column count, optional paging state, table spec, column
/// specs of simple types only) then `rows_count` rows of `[bytes]` cells.
fn parse_rows(body: &[u8]) -> Result<Vec<Vec<Option<Vec<u8>>>>, ProbeError> {
    const ROWS: i32 = 2;
    const GLOBAL_TABLES_SPEC: i32 = 0x01;
    const HAS_MORE_PAGES: i32 = 0x02;
    const NO_METADATA: i32 = 0x04;
    let mut c = Cursor(body);
    let kind = c.int("kind")?;
    if kind != ROWS {
        return Err(ProbeError::Protocol(format!(
            "RESULT kind {kind}, not Rows"
        )));
    }
    let flags = c.int("metadata flags")?;
    let columns = usize::try_from(c.int("columns_count")?)
        .map_err(|_| ProbeError::Protocol("negative columns_count".into()))?;
    if flags & HAS_MORE_PAGES != 0 {
        c.bytes("paging_state")?;
    }
    if flags & NO_METADATA == 0 {
        if flags & GLOBAL_TABLES_SPEC != 0 {
            c.string("keyspace")?;
            c.string("table")?;
        }
        for _ in 0..columns {
            if flags & GLOBAL_TABLES_SPEC == 0 {
                c.string("keyspace")?;
                c.string("table")?;
            }
            c.string("column name")?;
            let id = c.short("column type")?;
            // 0x0000 custom carries a class name; 0x20.. (collections, UDT, tuple) nest.
            if id == 0 || id >= 0x20 {
                return Err(ProbeError::Protocol(format!(
                    "column type 0x{id:04x} is not a simple type"
                )));
            }
        }
    }
    let count = c.int("rows_count")?;
    let mut rows = Vec::new();
    for _ in 0..count {
        let row = (0..columns)
            .map(|_| c.bytes("cell").map(|v| v.map(<[u8]>::to_vec)))
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_is_parsed() {
        let mut body = 0x0100i32.to_be_bytes().to_vec();
        put_string(
            &mut body,
            "Provided username x and/or password are incorrect",
        )
        .unwrap();
        match parse_error(&body) {
            ProbeError::Server { code, message } => {
                assert_eq!(code, 0x0100);
                assert!(message.starts_with("Provided username"));
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn truncated_error_body_does_not_panic() {
        match parse_error(&[0, 0, 1, 0, 0, 9, b'a']) {
            ProbeError::Server { code, message } => {
                assert_eq!(code, 0x0100);
                assert_eq!(message, "<unreadable message>");
            }
            other => panic!("{other}"),
        }
        assert!(matches!(
            parse_error(&[1]),
            ProbeError::Server { code: -1, .. }
        ));
    }

    fn rows_body(flags: i32, cells: &[Option<&[u8]>]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&2i32.to_be_bytes());
        b.extend_from_slice(&flags.to_be_bytes());
        b.extend_from_slice(&2i32.to_be_bytes());
        for s in ["system", "peers_v2"] {
            put_string(&mut b, s).unwrap();
        }
        for (name, id) in [("peer", 0x0010u16), ("data_center", 0x000D)] {
            put_string(&mut b, name).unwrap();
            b.extend_from_slice(&id.to_be_bytes());
        }
        b.extend_from_slice(&i32::try_from(cells.len() / 2).unwrap().to_be_bytes());
        for cell in cells {
            match cell {
                Some(v) => put_bytes(&mut b, v).unwrap(),
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        b
    }

    #[test]
    fn rows_are_parsed_with_nulls() {
        let body = rows_body(
            0x01,
            &[
                Some(&[127, 0, 0, 2]),
                Some(b"dc1"),
                Some(&[127, 0, 0, 3]),
                None,
            ],
        );
        let rows = parse_rows(&body).unwrap();
        assert_eq!(
            rows,
            [
                vec![Some(vec![127, 0, 0, 2]), Some(b"dc1".to_vec())],
                vec![Some(vec![127, 0, 0, 3]), None],
            ]
        );
    }

    #[test]
    fn truncated_rows_are_an_error_at_every_length() {
        let body = rows_body(0x01, &[Some(&[127, 0, 0, 2]), Some(b"dc1")]);
        for len in 0..body.len() {
            assert!(parse_rows(&body[..len]).is_err(), "length {len}");
        }
    }

    #[test]
    fn void_result_is_not_rows() {
        assert!(parse_rows(&1i32.to_be_bytes()).is_err());
    }
}
