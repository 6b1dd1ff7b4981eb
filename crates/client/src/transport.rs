//! Signed POSTs to one service endpoint over a pool of keep-alive connections (HTTP/1.1,
//! or HTTP/2 for enhanced fan-out), with TLS for `https://` endpoints.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use parking_lot::Mutex;
use rheo_aws::sigv4::{amz_date, sha256_hex, Signer};

use crate::config::{ClientConfig, Service};
use crate::error::{ClientError, Result};

/// Idle connections kept per endpoint.
const IDLE_CONNECTIONS_MAX: usize = 64;

/// How long an idle connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Characters of an unexpected body quoted in an error.
const PREVIEW_BYTES_MAX: usize = 300;

/// HTTP/1.1 for request/response calls; HTTP/2 for `SubscribeToShard`'s event stream
/// (AWS requires it; h2c by prior knowledge on `http://`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.1 keep-alive.
    Http1,
    /// HTTP/2 only.
    Http2,
}

/// An answer whose status says success, body not yet read.
pub type StreamingBody = Incoming;

/// Signs and sends requests to one service.
pub struct Transport {
    service: Service,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    uri: Uri,
    authority: String,
    signer: Mutex<Signer>,
    session_token: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").field("service", &self.service).field("uri", &self.uri).finish()
    }
}

impl Transport {
    /// A transport for `service` as `config` says; connections open lazily.
    pub fn new(config: &ClientConfig, service: Service, version: HttpVersion) -> Result<Self> {
        let url = config.endpoint_for(service);
        let uri: Uri = format!("{url}/").parse().map_err(|e| ClientError::Config(format!("endpoint {url:?}: {e}")))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            _ => return Err(ClientError::Config(format!("endpoint {url:?}: the scheme must be http:// or https://"))),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| ClientError::Config(format!("endpoint {url:?} has no host")))?
            .as_str()
            .to_owned();
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(uri.scheme_str() == Some("https"))?)
            .https_or_http();
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        let mut pool = Client::builder(TokioExecutor::new());
        pool.pool_max_idle_per_host(IDLE_CONNECTIONS_MAX).pool_idle_timeout(IDLE_TIMEOUT);
        let client = match version {
            HttpVersion::Http1 => pool.build(builder.enable_http1().wrap_connector(http)),
            HttpVersion::Http2 => {
                pool.http2_only(true);
                pool.build(builder.enable_http2().wrap_connector(http))
            }
        };
        Ok(Transport {
            service,
            client,
            uri,
            authority,
            signer: Mutex::new(Signer::new(config.credentials.clone(), &config.region, service.signing_name())),
            session_token: config.credentials.session_token.clone(),
            timeout: config.timeout,
        })
    }

    /// The service this transport reaches.
    pub fn service(&self) -> Service {
        self.service
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn request(
        &self,
        operation: &'static str,
        content_type: &'static str,
        body: Bytes,
    ) -> Result<Request<Full<Bytes>>> {
        let date = amz_date(SystemTime::now());
        let target = format!("{}{operation}", self.service.target_prefix());
        let payload_hash = sha256_hex(&body);
        let mut headers: Vec<(&str, &str)> =
            vec![("content-type", content_type), ("host", &self.authority), ("x-amz-date", &date)];
        if let Some(token) = &self.session_token {
            headers.push(("x-amz-security-token", token));
        }
        headers.push(("x-amz-target", &target));
        let signature = self.signer.lock().sign("POST", "/", "", &headers, &payload_hash, &date);
        let authorization = HeaderValue::from_str(&signature.authorization)
            .map_err(|e| ClientError::Credentials(format!("the keys make an invalid header: {e}")))?;
        let mut builder = Request::post(self.uri.clone())
            .header(HOST, self.authority.as_str())
            .header(CONTENT_TYPE, content_type)
            .header("x-amz-target", target)
            .header("x-amz-date", date)
            .header("x-amz-content-sha256", payload_hash)
            .header(http::header::AUTHORIZATION, authorization);
        if let Some(token) = &self.session_token {
            builder = builder.header("x-amz-security-token", token);
        }
        builder.body(Full::new(body)).map_err(|e| ClientError::Config(format!("cannot build a request: {e}")))
    }

    /// Sends one call and reads its whole answer; an error answer becomes
    /// [`ClientError::Api`].
    pub async fn call(&self, operation: &'static str, content_type: &'static str, body: Bytes) -> Result<Bytes> {
        let exchange = async {
            let response = self.send(operation, content_type, body).await?;
            let status = response.status().as_u16();
            let head = ErrorHead::of(&response);
            let body =
                response.into_body().collect().await.map_err(|e| self.transport_error(operation, &e))?.to_bytes();
            if (200..300).contains(&status) {
                return Ok(body);
            }
            Err(self.api_error(operation, status, head, &body))
        };
        tokio::time::timeout(self.timeout, exchange).await.unwrap_or(Err(ClientError::Timeout {
            service: self.service.name(),
            operation,
            after: self.timeout,
        }))
    }

    /// Sends one call and returns a successful answer's body unread (an event stream); an
    /// error answer is read and returned as [`ClientError::Api`]. Only the response's
    /// head is bounded by the timeout.
    pub async fn call_streaming(
        &self,
        operation: &'static str,
        content_type: &'static str,
        body: Bytes,
    ) -> Result<StreamingBody> {
        let response = tokio::time::timeout(self.timeout, self.send(operation, content_type, body))
            .await
            .unwrap_or(Err(ClientError::Timeout { service: self.service.name(), operation, after: self.timeout }))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(response.into_body());
        }
        let head = ErrorHead::of(&response);
        let body = tokio::time::timeout(self.timeout, response.into_body().collect())
            .await
            .map_err(|_| ClientError::Timeout { service: self.service.name(), operation, after: self.timeout })?
            .map_err(|e| self.transport_error(operation, &e))?
            .to_bytes();
        Err(self.api_error(operation, status, head, &body))
    }

    /// The error an unsuccessful answer stands for: its type from `x-amzn-errortype` or the
    /// body's `__type` (JSON or CBOR, as the answer says), its message from the body.
    fn api_error(&self, operation: &'static str, status: u16, head: ErrorHead, body: &[u8]) -> ClientError {
        let (body_type, message) = if head.is_cbor { cbor_error(body) } else { json_error(body) };
        ClientError::Api {
            service: self.service.name(),
            operation,
            status,
            error_type: head.error_type.or(body_type).unwrap_or_else(|| format!("HTTP{status}")),
            message: message.unwrap_or_else(|| preview(body)),
        }
    }

    async fn send(
        &self,
        operation: &'static str,
        content_type: &'static str,
        body: Bytes,
    ) -> Result<http::Response<Incoming>> {
        let request = self.request(operation, content_type, body)?;
        self.client.request(request).await.map_err(|e| self.transport_error(operation, &e))
    }

    fn transport_error(&self, operation: &'static str, error: &dyn std::error::Error) -> ClientError {
        // The useful part ("Connection refused") is usually at the end of the chain.
        let mut detail = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        ClientError::Transport { service: self.service.name(), operation, detail }
    }
}

/// TLS with the system's root certificates. A plain `http://` endpoint does not need any,
/// so a machine without them can still reach a local Rheo.
fn tls_config(required: bool) -> Result<tokio_rustls::rustls::ClientConfig> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if added == 0 && required {
        return Err(ClientError::Config("no usable TLS root certificates on this system".into()));
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// What an answer's headers say about its error, read before its body is consumed.
struct ErrorHead {
    error_type: Option<String>,
    is_cbor: bool,
}

impl ErrorHead {
    fn of(response: &http::Response<Incoming>) -> Self {
        let header = |name| response.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok());
        ErrorHead {
            error_type: header("x-amzn-errortype").map(normalize_error_type),
            is_cbor: header(CONTENT_TYPE.as_str()).is_some_and(|t| t.contains("cbor")),
        }
    }
}

/// `com.amazonaws.kinesis.v20131202#ResourceInUseException` or
/// `ResourceInUseException:http://internal.amazon.com/...` → `ResourceInUseException`.
pub fn normalize_error_type(raw: &str) -> String {
    let after_hash = raw.rsplit('#').next().unwrap_or(raw);
    after_hash.split(':').next().unwrap_or(after_hash).trim().to_owned()
}

fn json_error(body: &[u8]) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        #[serde(rename = "__type")]
        error_type: Option<String>,
        message: Option<String>,
        #[serde(rename = "Message")]
        message_upper: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => (parsed.error_type.map(|t| normalize_error_type(&t)), parsed.message.or(parsed.message_upper)),
        Err(_) => (None, None),
    }
}

/// `__type` and `message` of a CBOR error body (a map with text keys).
fn cbor_error(body: &[u8]) -> (Option<String>, Option<String>) {
    let mut decoder = minicbor::Decoder::new(body);
    let (mut error_type, mut message) = (None, None);
    let Ok(Some(entries)) = decoder.map() else { return (None, None) };
    for _ in 0..entries {
        let Ok(key) = decoder.str() else { return (error_type, message) };
        let key = key.to_owned();
        match decoder.datatype() {
            Ok(minicbor::data::Type::String) => {
                let Ok(value) = decoder.str() else { return (error_type, message) };
                match key.as_str() {
                    "__type" => error_type = Some(normalize_error_type(value)),
                    "message" | "Message" => message = Some(value.to_owned()),
                    _ => {}
                }
            }
            _ => {
                if decoder.skip().is_err() {
                    return (error_type, message);
                }
            }
        }
    }
    (error_type, message)
}

/// The start of an unexpected body as one line, for error messages.
fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(PREVIEW_BYTES_MAX)]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_lose_their_namespaces() {
        assert_eq!(
            normalize_error_type("com.amazonaws.kinesis.v20131202#ResourceInUseException"),
            "ResourceInUseException"
        );
        assert_eq!(
            normalize_error_type("ResourceNotFoundException:http://internal.amazon.com/x"),
            "ResourceNotFoundException"
        );
        assert_eq!(
            json_error(br#"{"__type":"a#LimitExceededException","message":"slow"}"#),
            (Some("LimitExceededException".into()), Some("slow".into()))
        );
    }

    #[test]
    fn cbor_error_bodies_are_read() {
        let mut body = Vec::new();
        let mut encoder = minicbor::Encoder::new(&mut body);
        encoder.map(3).unwrap().str("__type").unwrap().str("x#ResourceNotFoundException").unwrap();
        encoder.str("n").unwrap().u32(5).unwrap();
        encoder.str("message").unwrap().str("gone").unwrap();
        assert_eq!(cbor_error(&body), (Some("ResourceNotFoundException".into()), Some("gone".into())));
        assert_eq!(cbor_error(b"\xff"), (None, None));
    }

    #[test]
    fn endpoints_must_be_http_urls_and_a_bare_host_is_https() {
        let bad = ClientConfig::local("ftp://x");
        assert!(matches!(Transport::new(&bad, Service::Kinesis, HttpVersion::Http1), Err(ClientError::Config(_))));
        let bare = ClientConfig::local("kinesis.us-east-1.amazonaws.com");
        assert!(Transport::new(&bare, Service::Kinesis, HttpVersion::Http1).is_ok());
    }
}
