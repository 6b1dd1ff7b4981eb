//! One keep-alive connection per [`Client`] (HTTP/1.1, or HTTP/2 by prior knowledge with
//! `--http2`, TLS for `https://` endpoints), with SigV4-signed Kinesis JSON requests.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::TlsConnector;

use crate::error::{BenchError, Result};
use rheo_aws::sigv4::{amz_date, sha256_hex, Signer};

/// The JSON 1.1 content type Kinesis speaks.
pub const CONTENT_TYPE_JSON: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "Kinesis_20131202.";

/// Where requests go.
pub struct Endpoint {
    /// `host:port` to connect to.
    pub address: String,
    /// Host header / `:authority` (as the user wrote it).
    pub authority: String,
    /// Host name alone (TLS server name).
    pub host: String,
    /// `https://`.
    pub tls: bool,
    /// HTTP/2 (h2c by prior knowledge, or ALPN h2 over TLS).
    pub http2: bool,
    /// Absolute URI of `/`, used as the HTTP/2 request target.
    pub root: Uri,
    tls_connector: Option<TlsConnector>,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Endpoint {
    /// Parses `http://host:port` (or `https://`).
    pub fn parse(url: &str, http2: bool, timeout: Duration) -> Result<Self> {
        let bad = |reason: &str| BenchError::Endpoint { url: url.to_owned(), reason: reason.to_owned() };
        let uri: Uri = url.parse().map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad("the scheme must be http:// or https://")),
        };
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let address = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        let root: Uri = format!("{}://{}/", if tls { "https" } else { "http" }, authority.as_str())
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
        let tls_connector = if tls { Some(tls_connector(http2)?) } else { None };
        Ok(Endpoint {
            address,
            authority: authority.as_str().to_owned(),
            host,
            tls,
            http2,
            root,
            tls_connector,
            timeout,
        })
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("address", &self.address)
            .field("authority", &self.authority)
            .field("tls", &self.tls)
            .field("http2", &self.http2)
            .finish()
    }
}

fn tls_connector(http2: bool) -> Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(BenchError::Tls("no usable root certificates found on this system".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BenchError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![if http2 { b"h2".to_vec() } else { b"http/1.1".to_vec() }];
    Ok(TlsConnector::from(Arc::new(config)))
}

enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

async fn handshake<T>(io: T, http2_: bool) -> Result<Sender>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    if http2_ {
        let (sender, connection) = http2::Builder::new(TokioExecutor::new())
            .initial_stream_window_size(8 << 20)
            .initial_connection_window_size(16 << 20)
            .max_frame_size(1 << 20)
            .handshake(io)
            .await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Sender::H2(sender))
    } else {
        let (sender, connection) = http1::Builder::new().handshake(io).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Sender::H1(sender))
    }
}

/// A request body hashed once; `id` keys the per-client signature cache.
#[derive(Clone, Debug)]
pub struct SignedBody {
    /// Cache key (unique among bodies sent through one client), or `None` not to cache.
    pub id: Option<u64>,
    /// The JSON body.
    pub bytes: Bytes,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
}

impl SignedBody {
    /// Hashes `bytes`.
    pub fn new(id: Option<u64>, bytes: Bytes) -> Self {
        let sha256 = sha256_hex(&bytes);
        SignedBody { id, bytes, sha256 }
    }
}

/// An HTTP answer, body read.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Bytes,
    /// The error type for non-2xx answers.
    pub error_type: Option<String>,
}

impl Reply {
    /// The API error this reply represents, if it is one.
    pub fn into_result(self, operation: &'static str) -> Result<Bytes> {
        match self.error_type {
            None => Ok(self.body),
            Some(error_type) => {
                Err(BenchError::Api { operation, status: self.status, error_type, message: error_message(&self.body) })
            }
        }
    }
}

/// One connection to the endpoint plus a signer.
pub struct Client {
    endpoint: Arc<Endpoint>,
    signer: Signer,
    sender: Option<Sender>,
    /// Connections opened so far (reconnects after the server closed one included).
    pub connects: u64,
    date: (u64, String),
    signatures: HashMap<(u64, &'static str), (u64, HeaderValue)>,
    target_prefix: &'static str,
    content_type: &'static str,
}

impl Client {
    /// A client; it connects lazily.
    pub fn new(endpoint: Arc<Endpoint>, signer: Signer) -> Self {
        Client {
            endpoint,
            signer,
            sender: None,
            connects: 0,
            date: (u64::MAX, String::new()),
            signatures: HashMap::new(),
            target_prefix: TARGET_PREFIX,
            content_type: CONTENT_TYPE_JSON,
        }
    }

    /// Sends to another JSON 1.1 service on the same endpoint (`Firehose_20150804.`).
    pub fn with_target_prefix(mut self, prefix: &'static str) -> Self {
        self.target_prefix = prefix;
        self
    }

    /// Sends another JSON protocol version's content type (DynamoDB speaks
    /// `application/x-amz-json-1.0`).
    pub fn with_content_type(mut self, content_type: &'static str) -> Self {
        self.content_type = content_type;
        self
    }

    /// Opens the connection now (so a benchmark's first request does not pay for it).
    pub async fn connect(&mut self) -> Result<()> {
        self.ready().await
    }

    async fn ready(&mut self) -> Result<()> {
        let usable = match &mut self.sender {
            Some(Sender::H1(sender)) => !sender.is_closed() && sender.ready().await.is_ok(),
            Some(Sender::H2(sender)) => !sender.is_closed() && sender.ready().await.is_ok(),
            None => false,
        };
        if usable {
            return Ok(());
        }
        self.sender = None;
        let endpoint = &self.endpoint;
        let stream = TcpStream::connect(&endpoint.address)
            .await
            .map_err(|source| BenchError::Connect { address: endpoint.address.clone(), source })?;
        let _ = stream.set_nodelay(true);
        self.connects += 1;
        let sender = match &endpoint.tls_connector {
            Some(connector) => {
                let name = rustls::pki_types::ServerName::try_from(endpoint.host.clone())
                    .map_err(|e| BenchError::Tls(e.to_string()))?;
                let tls = connector.connect(name, stream).await.map_err(|e| BenchError::Tls(e.to_string()))?;
                handshake(tls, endpoint.http2).await?
            }
            None => handshake(stream, endpoint.http2).await?,
        };
        self.sender = Some(sender);
        Ok(())
    }

    fn now_amz_date(&mut self) -> (u64, String) {
        let now = SystemTime::now();
        let secs = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        if self.date.0 != secs {
            self.date = (secs, amz_date(now));
        }
        self.date.clone()
    }

    fn request(&mut self, operation: &'static str, body: &SignedBody) -> Result<Request<Full<Bytes>>> {
        let (secs, date) = self.now_amz_date();
        let cached = body.id.and_then(|id| self.signatures.get(&(id, operation))).filter(|(at, _)| *at == secs);
        let authorization = match cached {
            Some((_, value)) => value.clone(),
            None => {
                let target = format!("{}{operation}", self.target_prefix);
                let authority = self.endpoint.authority.clone();
                let token = self.signer.session_token().map(str::to_owned);
                let mut headers: Vec<(&str, &str)> =
                    vec![("content-type", self.content_type), ("host", &authority), ("x-amz-date", &date)];
                if let Some(token) = &token {
                    headers.push(("x-amz-security-token", token));
                }
                headers.push(("x-amz-target", &target));
                let signature = self.signer.sign("POST", "/", "", &headers, &body.sha256, &date);
                let value = HeaderValue::from_str(&signature.authorization)
                    .map_err(|e| BenchError::Args(format!("credentials make an invalid header: {e}")))?;
                if let Some(id) = body.id {
                    if self.signatures.len() > 4096 {
                        self.signatures.clear();
                    }
                    self.signatures.insert((id, operation), (secs, value.clone()));
                }
                value
            }
        };
        let mut builder = match self.endpoint.http2 {
            true => Request::post(self.endpoint.root.clone()),
            false => Request::post("/").header(HOST, self.endpoint.authority.as_str()),
        };
        builder = builder
            .header(CONTENT_TYPE, self.content_type)
            .header("x-amz-target", format!("{}{operation}", self.target_prefix))
            .header("x-amz-date", date.as_str())
            .header(AUTHORIZATION, authorization);
        if let Some(token) = self.signer.session_token() {
            builder = builder.header("x-amz-security-token", token);
        }
        builder.body(Full::new(body.bytes.clone())).map_err(|e| BenchError::Args(format!("cannot build request: {e}")))
    }

    /// Sends one signed request and returns the response with its body unread.
    pub async fn send_streaming(&mut self, operation: &'static str, body: &SignedBody) -> Result<Response<Incoming>> {
        self.ready().await?;
        let request = self.request(operation, body)?;
        let sent = match &mut self.sender {
            Some(Sender::H1(sender)) => sender.send_request(request).await,
            Some(Sender::H2(sender)) => sender.send_request(request).await,
            None => return Err(BenchError::Timeout("connection not ready".into())),
        };
        sent.map_err(|e| {
            self.sender = None;
            BenchError::Http(e)
        })
    }

    /// Sends one signed request and reads the whole answer (within the endpoint's timeout).
    pub async fn send(&mut self, operation: &'static str, body: &SignedBody) -> Result<Reply> {
        let timeout = self.endpoint.timeout;
        let exchange = async {
            let response = self.send_streaming(operation, body).await?;
            let status = response.status().as_u16();
            let header_type =
                response.headers().get("x-amzn-errortype").and_then(|v| v.to_str().ok()).map(normalize_error_type);
            let body = response.into_body().collect().await?.to_bytes();
            let error_type = if (200..300).contains(&status) {
                None
            } else {
                Some(header_type.or_else(|| body_error_type(&body)).unwrap_or_else(|| format!("HTTP_{status}")))
            };
            Ok::<_, BenchError>(Reply { status, body, error_type })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(error)) => {
                self.sender = None;
                Err(error)
            }
            Err(_) => {
                self.sender = None;
                Err(BenchError::Timeout(format!("{operation} took longer than {timeout:?}")))
            }
        }
    }

    /// An unsigned GET of a path beside the API (`/metrics`); the status and the body.
    pub async fn get(&mut self, path: &str) -> Result<(u16, Bytes)> {
        let timeout = self.endpoint.timeout;
        let request = match self.endpoint.http2 {
            true => {
                let uri = format!("{}{}", self.endpoint.root.to_string().trim_end_matches('/'), path);
                Request::get(uri)
            }
            false => Request::get(path).header(HOST, self.endpoint.authority.as_str()),
        }
        .body(Full::new(Bytes::new()))
        .map_err(|e| BenchError::Args(format!("cannot build request: {e}")))?;
        let exchange = async {
            self.ready().await?;
            let response = match &mut self.sender {
                Some(Sender::H1(sender)) => sender.send_request(request).await?,
                Some(Sender::H2(sender)) => sender.send_request(request).await?,
                None => return Err(BenchError::Timeout("connection not ready".into())),
            };
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, BenchError>((status, body))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => {
                self.sender = None;
                Err(error)
            }
            Err(_) => {
                self.sender = None;
                Err(BenchError::Timeout(format!("GET {path} took longer than {timeout:?}")))
            }
        }
    }

    /// Calls an operation with a JSON input and decodes its output; API errors become
    /// [`BenchError::Api`].
    pub async fn call<T: DeserializeOwned>(&mut self, operation: &'static str, input: &serde_json::Value) -> Result<T> {
        let body = SignedBody::new(None, Bytes::from(input.to_string()));
        let bytes = self.send(operation, &body).await?.into_result(operation)?;
        let bytes = if bytes.is_empty() { Bytes::from_static(b"{}") } else { bytes };
        serde_json::from_slice(&bytes)
            .map_err(|e| BenchError::BadResponse { operation, detail: format!("{e}: {}", preview(&bytes)) })
    }
}

/// `com.amazonaws.kinesis.v20131202#ResourceInUseException` or
/// `ResourceInUseException:http://internal.amazon.com/...` → `ResourceInUseException`.
pub fn normalize_error_type(raw: &str) -> String {
    let after_hash = raw.rsplit('#').next().unwrap_or(raw);
    after_hash.split(':').next().unwrap_or(after_hash).trim().to_owned()
}

fn body_error_type(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        #[serde(rename = "__type")]
        error_type: Option<String>,
    }
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    parsed.error_type.map(|t| normalize_error_type(&t))
}

fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: Option<String>,
        #[serde(rename = "Message")]
        message_upper: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { message: Some(m), .. }) | Ok(ErrorBody { message_upper: Some(m), .. }) => m,
        _ => preview(body),
    }
}

/// Characters of a body that [`preview`] keeps.
const PREVIEW_CHARS_MAX: usize = 200;

/// The start of a body as one line, for error messages: markup tags are dropped and runs
/// of whitespace become one space, so an HTML error page reads as its text.
pub fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4 * PREVIEW_CHARS_MAX)]);
    let mut out = String::new();
    let mut kept = 0;
    let mut in_tag = false;
    let mut pending_space = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                pending_space = true;
            }
            _ if in_tag => {}
            c if c.is_whitespace() => pending_space = true,
            c => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
                kept += 1;
                if kept == PREVIEW_CHARS_MAX {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_one_line_of_text() {
        let page = b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n";
        assert_eq!(preview(page), "500 Internal Server Error Internal Server Error");
        assert_eq!(preview(b"  plain\n\ttext "), "plain text");
        assert_eq!(preview("é".repeat(1000).as_bytes()).chars().count(), PREVIEW_CHARS_MAX);
        assert_eq!(error_message(br#"{"message":"no such stream"}"#), "no such stream");
    }

    #[test]
    fn error_types_are_normalized() {
        assert_eq!(
            normalize_error_type("com.amazonaws.kinesis.v20131202#ResourceInUseException"),
            "ResourceInUseException"
        );
        assert_eq!(
            normalize_error_type("ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.kinesis/"),
            "ResourceNotFoundException"
        );
        assert_eq!(
            body_error_type(br#"{"__type":"a.b#LimitExceededException","message":"x"}"#).as_deref(),
            Some("LimitExceededException")
        );
        assert_eq!(error_message(br#"{"__type":"X","message":"boom"}"#), "boom");
    }

    #[test]
    fn endpoints_parse() {
        let e = Endpoint::parse("http://127.0.0.1:4567", false, Duration::from_secs(1)).unwrap();
        assert_eq!(e.address, "127.0.0.1:4567");
        assert_eq!(e.authority, "127.0.0.1:4567");
        assert_eq!(e.root.to_string(), "http://127.0.0.1:4567/");
        let e = Endpoint::parse("http://[::1]:9", true, Duration::from_secs(1)).unwrap();
        assert_eq!(e.address, "[::1]:9");
        assert!(Endpoint::parse("ftp://x", false, Duration::from_secs(1)).is_err());
    }
}
