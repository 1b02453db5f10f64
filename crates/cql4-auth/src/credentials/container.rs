//! HTTP credential endpoints: the container credentials endpoint (ECS, EKS Pod Identity) and,
//! opt-in only, the EC2 instance metadata service (IMDSv2).
//!
//! This crate opens no sockets: the request goes through an injected [`HttpFetcher`] (the
//! connection layer implements it with its runtime). Without one, a configured endpoint is an
//! error that says so.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use super::process::{credentials_from_json, ENDPOINT_JSON};
use super::{Credentials, CredentialsProvider};
use crate::env::{Env, ProcessEnv};
use crate::error::{echo_bytes, CredentialSource, CredentialsError, CredentialsErrorKind};
use crate::io::FileReader;
use crate::sasl::BoxFuture;
use crate::secret::{Secret, SecretString};

/// Responses larger than this are rejected.
const MAX_BODY: usize = 64 * 1024;

/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` larger than this is rejected (EKS Pod Identity
/// tokens are about 1 KiB).
const MAX_TOKEN_FILE: usize = 16 * 1024;

/// ECS's link-local endpoint for `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
const ECS_HOST: &str = "http://169.254.170.2";

/// The instance metadata service's default endpoint.
const IMDS_ENDPOINT: &str = "http://169.254.169.254";

/// An HTTP method used by the credential endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpMethod {
    /// GET.
    Get,
    /// PUT (the IMDSv2 session token).
    Put,
}

/// One HTTP request to a credentials endpoint. Header values are secrets (an authorization
/// token) and are hidden from `Debug`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpRequest {
    /// The method.
    pub method: HttpMethod,
    /// Absolute `http://` or `https://` URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(&'static str, SecretString)>,
}

/// An HTTP response: status and body (the body holds credentials, so it is a [`Secret`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response body.
    pub body: Secret,
}

impl HttpResponse {
    /// A response.
    pub fn new(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            body: Secret::new(body),
        }
    }
}

/// Performs HTTP requests for the credential endpoints; implemented by the connection layer
/// (which has sockets and a runtime) and by tests. Implementations should time out (a few
/// seconds) and must not put header values into errors.
pub trait HttpFetcher: Send + Sync + fmt::Debug {
    /// Sends `request` and returns the response.
    fn fetch(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<HttpResponse, Box<dyn StdError + Send + Sync>>>;
}

async fn fetch(
    fetcher: &dyn HttpFetcher,
    source: &CredentialSource,
    request: HttpRequest,
) -> Result<Vec<u8>, CredentialsError> {
    let url = request.url.clone();
    let err = |why: String| CredentialsError::new(source.clone(), CredentialsErrorKind::Http(why));
    let response = fetcher
        .fetch(request)
        .await
        .map_err(|e| err(format!("request to {url} failed: {e}")))?;
    if response.body.len() > MAX_BODY {
        return Err(err(format!(
            "{url} answered {} bytes (limit {MAX_BODY})",
            response.body.len()
        )));
    }
    if response.status != 200 {
        // The body of an error response is an error message, not credentials.
        return Err(err(format!(
            "{url} answered HTTP {}: {}",
            response.status,
            echo_bytes(response.body.expose())
        )));
    }
    Ok(response.body.expose().to_vec())
}

/// Whether `url` may be used for `AWS_CONTAINER_CREDENTIALS_FULL_URI`: HTTPS anywhere, plain
/// HTTP only to loopback or the ECS/EKS link-local addresses (the SDKs' rule, so a token is
/// never sent in clear over a network).
fn full_uri_allowed(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host == "::1"
        || host == "169.254.170.2"
        || host == "169.254.170.23"
        || host.eq_ignore_ascii_case("fd00:ec2::23")
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on
/// `http://169.254.170.2`) or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with the
/// `Authorization` header from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`. Not configured when neither URI variable is set.
/// The token file is read through an injected [`FileReader`].
#[derive(Clone, Debug)]
pub struct ContainerProvider {
    env: Arc<dyn Env>,
    fetcher: Option<Arc<dyn HttpFetcher>>,
    files: Option<Arc<dyn FileReader>>,
}

impl Default for ContainerProvider {
    fn default() -> Self {
        Self::new(Arc::new(ProcessEnv))
    }
}

impl ContainerProvider {
    /// Reads its variables from `env`; no fetcher yet.
    pub fn new(env: Arc<dyn Env>) -> Self {
        Self {
            env,
            fetcher: None,
            files: None,
        }
    }

    /// Reads `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` with `reader`.
    pub fn with_file_reader(mut self, reader: Arc<dyn FileReader>) -> Self {
        self.files = Some(reader);
        self
    }

    /// Performs requests with `fetcher`.
    pub fn with_http_fetcher(mut self, fetcher: Arc<dyn HttpFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// Whether the environment asks for container credentials.
    pub fn is_configured(&self) -> bool {
        self.env
            .var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            .is_some()
            || self.env.var("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
    }

    async fn request(&self) -> Result<HttpRequest, CredentialsError> {
        let source = CredentialSource::Container;
        let url = if let Some(rel) = self.env.var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            format!("{ECS_HOST}{rel}")
        } else if let Some(full) = self.env.var("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            if !full_uri_allowed(&full) {
                return Err(CredentialsError::new(
                    source,
                    CredentialsErrorKind::Invalid(format!(
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI {full} must be https:// or \
                         http:// to a loopback or ECS/EKS link-local address"
                    )),
                ));
            }
            full
        } else {
            return Err(CredentialsError::not_configured(
                source,
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI \
                 are unset",
            ));
        };
        let mut headers = Vec::new();
        let token = if let Some(path) = self.env.var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            let invalid = |why: String| {
                CredentialsError::new(
                    CredentialSource::Container,
                    CredentialsErrorKind::Invalid(format!(
                        "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path}: {why}"
                    )),
                )
            };
            let Some(reader) = &self.files else {
                return Err(CredentialsError::new(
                    CredentialSource::Container,
                    CredentialsErrorKind::NoFileReader("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
                ));
            };
            let bytes = reader
                .read_file(path.clone().into(), MAX_TOKEN_FILE)
                .await
                .map_err(|e| invalid(e.kind().to_string()))?;
            if bytes.len() > MAX_TOKEN_FILE {
                return Err(invalid(format!("larger than {MAX_TOKEN_FILE} bytes")));
            }
            let text =
                std::str::from_utf8(bytes.expose()).map_err(|_| invalid("not UTF-8".to_owned()))?;
            Some(SecretString::from(text.trim()))
        } else {
            self.env
                .var("AWS_CONTAINER_AUTHORIZATION_TOKEN")
                .map(SecretString::new)
        };
        if let Some(token) = token {
            // A line break would let the variable inject headers into the request.
            if token.expose().contains(['\r', '\n']) {
                return Err(CredentialsError::new(
                    CredentialSource::Container,
                    CredentialsErrorKind::Invalid(
                        "the container authorization token contains a line break".to_owned(),
                    ),
                ));
            }
            headers.push(("Authorization", token));
        }
        Ok(HttpRequest {
            method: HttpMethod::Get,
            url,
            headers,
        })
    }

    /// Loads the credentials.
    pub async fn load(&self) -> Result<Credentials, CredentialsError> {
        let request = self.request().await?;
        let Some(fetcher) = &self.fetcher else {
            return Err(CredentialsError::new(
                CredentialSource::Container,
                CredentialsErrorKind::NoHttpFetcher("AWS_CONTAINER_CREDENTIALS_*_URI"),
            ));
        };
        let body = zeroize::Zeroizing::new(
            fetch(fetcher.as_ref(), &CredentialSource::Container, request).await?,
        );
        credentials_from_json(&body, &ENDPOINT_JSON).map_err(|why| {
            CredentialsError::new(CredentialSource::Container, CredentialsErrorKind::Http(why))
        })
    }
}

impl CredentialsProvider for ContainerProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.load())
    }
}

/// EC2 instance metadata credentials (IMDSv2: a PUT for a session token, then the role name,
/// then the role's credentials). Never used unless constructed explicitly (the default chain
/// adds it only with [`super::DefaultChain::with_instance_metadata`]); disabled by
/// `AWS_EC2_METADATA_DISABLED=true`.
#[derive(Clone, Debug)]
pub struct ImdsProvider {
    env: Arc<dyn Env>,
    fetcher: Arc<dyn HttpFetcher>,
    endpoint: String,
}

impl ImdsProvider {
    /// Uses `fetcher` against `http://169.254.169.254` (or
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`).
    pub fn new(env: Arc<dyn Env>, fetcher: Arc<dyn HttpFetcher>) -> Self {
        let endpoint = env
            .var("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            .unwrap_or_else(|| IMDS_ENDPOINT.to_owned())
            .trim_end_matches('/')
            .to_owned();
        Self {
            env,
            fetcher,
            endpoint,
        }
    }

    /// Loads the credentials.
    pub async fn load(&self) -> Result<Credentials, CredentialsError> {
        let source = CredentialSource::InstanceMetadata;
        if self
            .env
            .var("AWS_EC2_METADATA_DISABLED")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            return Err(CredentialsError::not_configured(
                source,
                "AWS_EC2_METADATA_DISABLED=true",
            ));
        }
        let fetcher = self.fetcher.as_ref();
        let token = fetch(
            fetcher,
            &source,
            HttpRequest {
                method: HttpMethod::Put,
                url: format!("{}/latest/api/token", self.endpoint),
                headers: vec![("X-aws-ec2-metadata-token-ttl-seconds", "21600".into())],
            },
        )
        .await?;
        let token = SecretString::new(String::from_utf8(token).map_err(|_| {
            CredentialsError::new(
                source.clone(),
                CredentialsErrorKind::Http("IMDS token is not UTF-8".to_owned()),
            )
        })?);
        let base = format!(
            "{}/latest/meta-data/iam/security-credentials/",
            self.endpoint
        );
        let roles = fetch(
            fetcher,
            &source,
            HttpRequest {
                method: HttpMethod::Get,
                url: base.clone(),
                headers: vec![("X-aws-ec2-metadata-token", token.clone())],
            },
        )
        .await?;
        let roles = String::from_utf8_lossy(&roles);
        let Some(role) = roles.lines().map(str::trim).find(|l| !l.is_empty()) else {
            return Err(CredentialsError::new(
                source,
                CredentialsErrorKind::Http("the instance has no IAM role".to_owned()),
            ));
        };
        let body = zeroize::Zeroizing::new(
            fetch(
                fetcher,
                &source,
                HttpRequest {
                    method: HttpMethod::Get,
                    url: format!("{base}{role}"),
                    headers: vec![("X-aws-ec2-metadata-token", token)],
                },
            )
            .await?,
        );
        credentials_from_json(&body, &ENDPOINT_JSON)
            .map_err(|why| CredentialsError::new(source, CredentialsErrorKind::Http(why)))
    }
}

impl CredentialsProvider for ImdsProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.load())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::credentials::now_or_never;
    use crate::env::MapEnv;
    use std::sync::Mutex;

    /// A request as seen by [`ScriptedFetcher`]: method, URL, headers with values exposed.
    pub(crate) type Seen = (HttpMethod, String, Vec<(String, String)>);

    /// Answers from a script and records requests (with header values exposed for checks).
    #[derive(Debug, Default)]
    pub(crate) struct ScriptedFetcher {
        pub(crate) answers: Mutex<Vec<(u16, String)>>,
        pub(crate) seen: Mutex<Vec<Seen>>,
    }

    impl HttpFetcher for ScriptedFetcher {
        fn fetch(
            &self,
            request: HttpRequest,
        ) -> BoxFuture<'_, Result<HttpResponse, Box<dyn StdError + Send + Sync>>> {
            self.seen.lock().unwrap().push((
                request.method,
                request.url.clone(),
                request
                    .headers
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.expose().to_owned()))
                    .collect(),
            ));
            let mut answers = self.answers.lock().unwrap();
            let r = if answers.is_empty() {
                Err("connection refused".into())
            } else {
                let (status, body) = answers.remove(0);
                Ok(HttpResponse::new(status, body.into_bytes()))
            };
            Box::pin(std::future::ready(r))
        }
    }

    pub(crate) fn scripted(answers: &[(u16, &str)]) -> Arc<ScriptedFetcher> {
        Arc::new(ScriptedFetcher {
            answers: Mutex::new(answers.iter().map(|(s, b)| (*s, (*b).to_owned())).collect()),
            seen: Mutex::default(),
        })
    }

    const BODY: &str = r#"{"AccessKeyId":"AK","SecretAccessKey":"SK","Token":"TK","Expiration":"2030-01-01T00:00:00Z"}"#;

    #[test]
    fn relative_uri_with_token_file() {
        let f = scripted(&[(200, BODY)]);
        let env = MapEnv::new()
            .with_var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds/abc")
            .with_var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/tok")
            .with_var("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored")
            .with_file("/tok", "filetoken\n");
        let env = Arc::new(env);
        let p = ContainerProvider::new(env.clone()).with_http_fetcher(f.clone());
        let e = now_or_never(p.load()).unwrap().unwrap_err();
        assert!(
            matches!(e.kind, CredentialsErrorKind::NoFileReader(_)) && e.is_fatal(),
            "{e}"
        );
        assert!(f.seen.lock().unwrap().is_empty());
        let p = p.with_file_reader(env);
        let c = now_or_never(p.load()).unwrap().unwrap();
        assert_eq!(c.session_token().unwrap().expose(), "TK");
        let seen = f.seen.lock().unwrap();
        assert_eq!(seen[0].1, "http://169.254.170.2/v2/creds/abc");
        assert_eq!(
            seen[0].2,
            vec![("Authorization".to_owned(), "filetoken".to_owned())]
        );
    }

    #[test]
    fn token_with_line_break_is_rejected() {
        let env = MapEnv::new()
            .with_var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/x")
            .with_var("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Evil: 1");
        let f = scripted(&[(200, BODY)]);
        let p = ContainerProvider::new(Arc::new(env)).with_http_fetcher(f.clone());
        let e = now_or_never(p.load()).unwrap().unwrap_err();
        assert!(e.to_string().contains("line break") && !e.to_string().contains("X-Evil"));
        assert!(f.seen.lock().unwrap().is_empty());
    }

    #[test]
    fn full_uri_rules() {
        for ok in [
            "https://example.com/creds",
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/x",
            "http://[::1]:80/x",
        ] {
            assert!(full_uri_allowed(ok), "{ok}");
        }
        for bad in [
            "http://example.com/",
            "http://10.0.0.1/",
            "ftp://localhost/",
            "http://localhost.evil.com/",
        ] {
            assert!(!full_uri_allowed(bad), "{bad}");
        }
        let env = MapEnv::new().with_var("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.1.1/");
        let p = ContainerProvider::new(Arc::new(env)).with_http_fetcher(scripted(&[]));
        let e = now_or_never(p.load()).unwrap().unwrap_err();
        assert!(
            e.is_fatal() && e.to_string().contains("must be https://"),
            "{e}"
        );
    }

    #[test]
    fn no_fetcher_not_configured_and_http_errors() {
        let env = Arc::new(
            MapEnv::new().with_var("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/c"),
        );
        let e = now_or_never(ContainerProvider::new(env.clone()).load())
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(e.kind, CredentialsErrorKind::NoHttpFetcher(_)),
            "{e}"
        );
        assert!(e.to_string().contains("no sockets"), "{e}");

        let e = now_or_never(ContainerProvider::new(Arc::new(MapEnv::new())).load())
            .unwrap()
            .unwrap_err();
        assert!(!e.is_fatal());

        let p = ContainerProvider::new(env.clone()).with_http_fetcher(scripted(&[(403, "denied")]));
        let e = now_or_never(p.load()).unwrap().unwrap_err();
        assert!(e.to_string().contains("HTTP 403: denied"), "{e}");
        let p = ContainerProvider::new(env).with_http_fetcher(scripted(&[]));
        let e = now_or_never(p.load()).unwrap().unwrap_err();
        assert!(e.to_string().contains("connection refused"), "{e}");
    }

    #[test]
    fn imds_v2_flow() {
        let f = scripted(&[(200, "sesstoken"), (200, "my-role\n"), (200, BODY)]);
        let p = ImdsProvider::new(Arc::new(MapEnv::new()), f.clone());
        let c = now_or_never(p.load()).unwrap().unwrap();
        assert_eq!(c.access_key_id(), "AK");
        let seen = f.seen.lock().unwrap();
        assert_eq!(seen[0].0, HttpMethod::Put);
        assert_eq!(seen[0].1, "http://169.254.169.254/latest/api/token");
        assert_eq!(
            seen[2].1,
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/my-role"
        );
        assert_eq!(seen[2].2[0].1, "sesstoken");
        let disabled = MapEnv::new().with_var("AWS_EC2_METADATA_DISABLED", "TRUE");
        let e = now_or_never(ImdsProvider::new(Arc::new(disabled), scripted(&[])).load())
            .unwrap()
            .unwrap_err();
        assert!(!e.is_fatal());
    }

    #[test]
    fn request_debug_hides_header_values() {
        let r = HttpRequest {
            method: HttpMethod::Get,
            url: "http://x".into(),
            headers: vec![("Authorization", "SHHH".into())],
        };
        let d = format!("{r:?} {:?}", HttpResponse::new(200, b"SHHH".to_vec()));
        assert!(!d.contains("SHHH"), "{d}");
    }
}
