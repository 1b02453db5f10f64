//! A minimal HTTP/1.1 client for the AWS credential endpoints of `cql4-auth`'s default chain
//! (which has no sockets of its own): the container endpoint
//! (`AWS_CONTAINER_CREDENTIALS_*_URI`, ECS/EKS) and the EC2 instance metadata service. Both are
//! plain `http://` on link-local or loopback addresses, so there is no TLS here.
//!
//! One request per connection (`Connection: close`), a total timeout, and a cap on the response
//! size. Header values (authorization tokens) never appear in errors; the URL may.
//!
//! [`default_chain`] is the one credentials chain to use with this crate: `cql4-auth`'s
//! [`DefaultChain`] with all of its I/O injected from here, so no source blocks a runtime
//! thread: this HTTP client, [`TokioFileReader`] for the shared files and
//! [`TokioProcessRunner`] for `credential_process`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! // Environment, shared files, container endpoint, then instance metadata.
//! let credentials = Arc::new(cql4_conn::http::default_chain().build());
//! let mut config = cql4_conn::Config::new("cassandra.us-east-1.amazonaws.com", 9142);
//! config.tls = Some(cql4_conn::TlsConfig::new());
//! config.auth = Some(Arc::new(cql4_auth::SigV4AuthProvider::new(credentials, "us-east-1")));
//! # Ok(()) }
//! ```

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use cql4_auth::{
    BoxFuture, DefaultChain, HttpFetcher, HttpMethod, HttpRequest, HttpResponse, SecretString,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::credential_process::TokioProcessRunner;
use crate::file_reader::TokioFileReader;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Largest response read (status line, headers and body). Credential documents are < 4 KiB.
pub const MAX_RESPONSE: u64 = 256 * 1024;

/// The default bound on one credential request (connect + request + response): the endpoints
/// are local, and a chain that falls through to them must not stall a connect for long.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// [`HttpFetcher`] over tokio TCP: plain `http://` only, one request per connection, bounded
/// by a total timeout and [`MAX_RESPONSE`] bytes.
#[derive(Debug, Clone)]
pub struct TokioHttpFetcher {
    timeout: Duration,
}

impl Default for TokioHttpFetcher {
    fn default() -> Self {
        Self::new(DEFAULT_TIMEOUT)
    }
}

impl TokioHttpFetcher {
    /// A fetcher whose requests each take at most `timeout` in total.
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }

    /// The bound on one request.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// One request, bounded by the timeout.
    async fn send(
        &self,
        method: HttpMethod,
        url: &str,
        headers: &[(&'static str, SecretString)],
    ) -> Result<HttpResponse, BoxError> {
        match tokio::time::timeout(self.timeout, send(method, url, headers)).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "no answer from {url} within {} ms",
                self.timeout.as_millis()
            )
            .into()),
        }
    }
}

impl HttpFetcher for TokioHttpFetcher {
    fn fetch(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, BoxError>> {
        Box::pin(async move {
            self.send(request.method, &request.url, &request.headers)
                .await
        })
    }
}

/// `cql4-auth`'s [`DefaultChain`] with this crate's I/O: explicit credentials, environment,
/// shared files (read by [`TokioFileReader`]) and their `credential_process` (run by
/// [`TokioProcessRunner`]), the container endpoint, then the EC2 instance metadata service
/// (unless `AWS_EC2_METADATA_DISABLED=true`), both through [`TokioHttpFetcher`] with
/// [`DEFAULT_TIMEOUT`]. Call `.build()` for the caching provider; the `with_*` methods still
/// apply (explicit credentials, a profile, another environment).
pub fn default_chain() -> DefaultChain {
    DefaultChain::new()
        .with_file_reader(Arc::new(TokioFileReader))
        .with_process_runner(Arc::new(TokioProcessRunner::new()))
        .with_http_fetcher(Arc::new(TokioHttpFetcher::default()))
        .with_instance_metadata(true)
}

/// `http://authority/path` split into host, port, the Host header value and the path.
fn parse_url(url: &str) -> Result<(String, u16, &str, &str), BoxError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// credential endpoints are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("{url}: unsupported URL authority").into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("{url}: unterminated IPv6 address"))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().map_err(|_| format!("{url}: bad port {p:?}"))?,
        None => 80,
    };
    Ok((host.to_owned(), port, authority, path))
}

async fn send(
    method: HttpMethod,
    url: &str,
    headers: &[(&'static str, SecretString)],
) -> Result<HttpResponse, BoxError> {
    let (host, port, authority, path) = parse_url(url)?;
    let is_put = method == HttpMethod::Put;
    let method = match method {
        HttpMethod::Put => "PUT",
        _ => "GET",
    };
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nAccept: */*\r\n"
    );
    for (name, value) in headers {
        if value.expose().contains(['\r', '\n']) {
            return Err(format!("header {name} holds a line break").into());
        }
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value.expose());
        head.push_str("\r\n");
    }
    if is_put {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| format!("sending to {url}: {e}"))?;
    let mut raw = Vec::new();
    (&mut stream)
        .take(MAX_RESPONSE + 1)
        .read_to_end(&mut raw)
        .await
        .map_err(|e| format!("reading from {url}: {e}"))?;
    if raw.len() as u64 > MAX_RESPONSE {
        return Err(format!("{url} answered more than {MAX_RESPONSE} bytes").into());
    }
    parse_response(&raw).map_err(|e| format!("{url}: {e}").into())
}

/// Parses a whole HTTP/1.x response (the server closed the connection after it).
fn parse_response(raw: &[u8]) -> Result<HttpResponse, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("response without a complete header")?;
    let (head, body) = raw.split_at(split);
    let body = body.get(4..).unwrap_or_default();
    let head = std::str::from_utf8(head).map_err(|_| "response header is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = match status_line.split(' ').collect::<Vec<_>>().as_slice() {
        [version, code, ..] if version.starts_with("HTTP/1.") => {
            code.parse().map_err(|_| "bad status code")?
        }
        _ => return Err("not an HTTP/1.x response".to_owned()),
    };
    let mut chunked = false;
    let mut length: Option<usize> = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().map_err(|_| "bad Content-Length")?);
        }
    }
    let body = if chunked {
        dechunk(body)?
    } else if let Some(n) = length {
        body.get(..n)
            .ok_or("body shorter than its Content-Length")?
            .to_vec()
    } else {
        body.to_vec()
    };
    Ok(HttpResponse::new(status, body))
}

/// Decodes a chunked body (RFC 9112 §7.1); trailers are ignored.
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("chunk size line without CRLF")?;
        let (size_line, after) = rest.split_at(eol);
        let size_text = std::str::from_utf8(size_line).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        let after = after.get(2..).unwrap_or_default();
        if size == 0 {
            return Ok(out);
        }
        let chunk = after.get(..size).ok_or("truncated chunk")?;
        out.extend_from_slice(chunk);
        rest = after
            .get(size..)
            .and_then(|r| r.strip_prefix(b"\r\n"))
            .ok_or("chunk without CRLF")?;
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn urls() {
        let (h, p, a, path) = parse_url("http://169.254.170.2/v2/credentials/x").unwrap();
        assert_eq!(
            (h.as_str(), p, a, path),
            ("169.254.170.2", 80, "169.254.170.2", "/v2/credentials/x")
        );
        let (h, p, _, path) = parse_url("http://127.0.0.1:8080").unwrap();
        assert_eq!((h.as_str(), p, path), ("127.0.0.1", 8080, "/"));
        let (h, p, a, _) = parse_url("http://[fd00:ec2::254]/latest").unwrap();
        assert_eq!((h.as_str(), p, a), ("fd00:ec2::254", 80, "[fd00:ec2::254]"));
        assert!(parse_url("https://example.com/")
            .unwrap_err()
            .to_string()
            .contains("http://"));
        assert!(parse_url("http://u:p@h/").is_err());
        assert!(parse_url("http://h:port/").is_err());
    }

    #[test]
    fn responses() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").unwrap();
        assert_eq!((r.status, r.body.expose()), (200, &b"hello"[..]));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.body.expose(), b"abcde");
        let r = parse_response(b"HTTP/1.0 404 Not Found\r\n\r\nnope").unwrap();
        assert_eq!((r.status, r.body.expose()), (404, &b"nope"[..]));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").is_err());
        assert!(parse_response(b"SSH-2.0-x\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
    }

    /// A one-shot server: returns the request it read and answers `response`.
    fn serve_once(response: &'static [u8]) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/latest/api/token", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = conn.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&buf[..n]);
            }
            conn.write_all(response).unwrap();
            String::from_utf8(req).unwrap()
        });
        (url, handle)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn put_with_headers_against_a_local_server() {
        let (url, server) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntok");
        let client = TokioHttpFetcher::new(Duration::from_secs(5));
        let headers = [(
            "X-aws-ec2-metadata-token-ttl-seconds",
            SecretString::from("21600"),
        )];
        let response = runtime()
            .block_on(client.send(HttpMethod::Put, &url, &headers))
            .unwrap();
        assert_eq!(
            (response.status, response.body.expose()),
            (200, &b"tok"[..])
        );
        let seen = server.join().unwrap();
        assert!(
            seen.starts_with("PUT /latest/api/token HTTP/1.1\r\n"),
            "{seen}"
        );
        assert!(
            seen.contains("\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n"),
            "{seen}"
        );
        assert!(seen.contains("\r\nContent-Length: 0\r\n"), "{seen}");
    }

    #[test]
    fn silent_server_times_out_and_error_hides_headers() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/creds", listener.local_addr().unwrap());
        let client = TokioHttpFetcher::new(Duration::from_millis(200));
        let headers = [("Authorization", SecretString::from("secret-token-9a8b"))];
        let e = runtime()
            .block_on(client.send(HttpMethod::Get, &url, &headers))
            .unwrap_err()
            .to_string();
        assert!(e.contains("within 200 ms"), "{e}");
        assert!(!e.contains("secret-token-9a8b"), "{e}");
        drop(listener);
    }
}
