//! Delivery to an HTTP endpoint with the Firehose HTTP endpoint delivery protocol
//! (request/response format, request id, retries with back-off).

use std::fmt;
use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use rand::Rng as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};

use super::DestError;

/// Protocol version sent in `X-Amz-Firehose-Protocol-Version`.
pub const PROTOCOL_VERSION: &str = "1.0";
/// How long one attempt may wait for the endpoint's response.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(180);
/// The wait before the first retry.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// Each further retry waits this many times longer than the one before.
pub const BACKOFF_MULTIPLIER: f64 = 2.0;
/// Each wait is randomly stretched or shrunk by up to this fraction, so that many streams
/// failing together do not retry in lock-step.
pub const BACKOFF_JITTER: f64 = 0.15;
/// No single wait exceeds this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(120);
/// The protocol caps response bodies at 1 MiB; anything longer is not read further.
pub const MAX_RESPONSE_BODY: usize = 1 << 20;
/// How much of a failed response's body is kept in the error message (the protocol's
/// `errorMessage` limit).
pub const MAX_ERROR_BODY: usize = 8192;

/// Error codes of the failed-record documents, as Firehose names them.
pub mod error_code {
    pub const DESTINATION_EXCEPTION: &str = "HttpEndpoint.DestinationException";
    pub const INVALID_RESPONSE: &str = "HttpEndpoint.InvalidResponseFromDestination";
    pub const RESPONSE_TOO_LARGE: &str = "HttpEndpoint.ResponseTooLarge";
    pub const REQUEST_TIMEOUT: &str = "HttpEndpoint.RequestTimeout";
    pub const CONNECTION_FAILED: &str = "HttpEndpoint.ConnectionFailed";
    pub const CONNECTION_RESET: &str = "HttpEndpoint.ConnectionReset";
    pub const INVALID_CONFIGURATION: &str = "HttpEndpoint.InvalidConfiguration";
}

/// One HTTP endpoint destination, as configured on the delivery stream.
#[derive(Clone)]
pub struct HttpEndpoint {
    pub url: String,
    pub name: Option<String>,
    pub access_key: Option<String>,
    pub common_attributes: Vec<(String, String)>,
    pub gzip: bool,
    /// How long to keep retrying, counted in back-off time after the first failed attempt
    /// (time spent waiting for responses does not count). Zero means a single attempt.
    pub retry_duration: Duration,
    /// The delivery stream's ARN, sent in `X-Amz-Firehose-Source-Arn`.
    pub source_arn: String,
}

impl fmt::Debug for HttpEndpoint {
    // The URL and access key are sensitive in the API model; keep them out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpEndpoint")
            .field("name", &self.name)
            .field("access_key", &self.access_key.as_ref().map(|_| "***"))
            .field("common_attributes", &self.common_attributes.len())
            .field("gzip", &self.gzip)
            .field("retry_duration", &self.retry_duration)
            .field("source_arn", &self.source_arn)
            .finish_non_exhaustive()
    }
}

/// How the delivery of one batch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpDelivery {
    /// The endpoint answered 200 with our request id.
    Delivered { attempts: u32 },
    /// The endpoint answered 413: a permanent failure, and by protocol the batch is not
    /// backed up to the error bucket.
    PayloadTooLarge { attempts: u32, detail: String },
    /// The retry duration ran out; the batch goes to the error output if configured.
    GaveUp { attempts: u32, error_code: String, error_message: String },
}

/// Sends batches to HTTP endpoints; one connection pool shared by every endpoint.
pub struct HttpClient {
    client: reqwest::Client,
    initial_backoff: Duration,
}

impl HttpClient {
    pub fn new() -> Result<Self, DestError> {
        let client = reqwest::Client::builder()
            // The protocol says redirects are not followed: a 3xx is a failed attempt.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .map_err(|e| DestError::Http(error_chain(&e)))?;
        Ok(HttpClient { client, initial_backoff: INITIAL_BACKOFF })
    }

    /// Same client with a different first back-off wait (later waits scale with it);
    /// tests use this to retry in milliseconds instead of seconds.
    pub fn with_initial_backoff(mut self, initial: Duration) -> Self {
        self.initial_backoff = initial;
        self
    }

    /// Delivers `records` as one request, retrying until the endpoint accepts it, refuses
    /// it permanently (413) or the endpoint's retry duration runs out.
    pub async fn deliver(&self, endpoint: &HttpEndpoint, records: &[Bytes]) -> HttpDelivery {
        // One id for the batch: the endpoint can recognise retries of the same request.
        let request_id = uuid::Uuid::new_v4().to_string();
        let headers = match request_headers(endpoint, &request_id) {
            Ok(headers) => headers,
            Err(message) => {
                return HttpDelivery::GaveUp {
                    attempts: 0,
                    error_code: error_code::INVALID_CONFIGURATION.to_owned(),
                    error_message: message,
                }
            }
        };
        let records_json = records_json(records);
        let mut attempts = 0u32;
        let mut waited = Duration::ZERO;
        loop {
            attempts += 1;
            let body = match request_body(&request_id, &records_json, endpoint.gzip) {
                Ok(body) => body,
                Err(e) => {
                    return HttpDelivery::GaveUp {
                        attempts,
                        error_code: error_code::INVALID_CONFIGURATION.to_owned(),
                        error_message: format!("cannot compress the request body: {e}"),
                    }
                }
            };
            let (code, message) = match self.attempt(endpoint, headers.clone(), body, &request_id).await {
                Attempt::Accepted => return HttpDelivery::Delivered { attempts },
                Attempt::TooLarge(detail) => return HttpDelivery::PayloadTooLarge { attempts, detail },
                Attempt::Failed { code, message } => (code, message),
            };
            tracing::debug!(attempts, code, message, "http endpoint delivery attempt failed");
            if waited >= endpoint.retry_duration {
                return HttpDelivery::GaveUp { attempts, error_code: code.to_owned(), error_message: message };
            }
            let jitter = rand::thread_rng().gen_range(-BACKOFF_JITTER..=BACKOFF_JITTER);
            // The last wait is cut short so that the final attempt happens when the retry
            // duration ends, not up to a full back-off later.
            let delay = scaled_backoff(self.initial_backoff, attempts, jitter).min(endpoint.retry_duration - waited);
            tokio::time::sleep(delay).await;
            waited += delay;
        }
    }

    async fn attempt(&self, endpoint: &HttpEndpoint, headers: HeaderMap, body: Vec<u8>, request_id: &str) -> Attempt {
        let response = match self.client.post(&endpoint.url).headers(headers).body(body).send().await {
            Ok(response) => response,
            Err(e) => return transport_failure(&e),
        };
        let status = response.status();
        let (body, truncated) = match read_limited(response).await {
            Ok(read) => read,
            Err(e) => return transport_failure(&e),
        };
        let shown = format!("{} {}", status.as_u16(), truncate_utf8(&body, MAX_ERROR_BODY));
        match status.as_u16() {
            200 if truncated => Attempt::Failed {
                code: error_code::RESPONSE_TOO_LARGE,
                message: format!("The response from the endpoint destination exceeds {MAX_RESPONSE_BODY} bytes."),
            },
            200 if response_id(&body).as_deref() == Some(request_id) => Attempt::Accepted,
            // A 200 that does not echo our request id does not prove the endpoint took
            // this batch: the protocol treats it as a 500 with no body.
            200 => Attempt::Failed {
                code: error_code::INVALID_RESPONSE,
                message: format!(
                    "The response received from the endpoint is invalid. requestId missing or different from {request_id}: {shown}"
                ),
            },
            413 => Attempt::TooLarge(format!("{RECEIVED} {shown}")),
            _ => Attempt::Failed { code: error_code::DESTINATION_EXCEPTION, message: format!("{RECEIVED} {shown}") },
        }
    }
}

const RECEIVED: &str = "Received the following response from the endpoint destination.";

enum Attempt {
    Accepted,
    TooLarge(String),
    Failed { code: &'static str, message: String },
}

fn transport_failure(e: &reqwest::Error) -> Attempt {
    let code = if e.is_timeout() {
        error_code::REQUEST_TIMEOUT
    } else if e.is_connect() {
        error_code::CONNECTION_FAILED
    } else {
        error_code::CONNECTION_RESET
    };
    Attempt::Failed {
        code,
        message: format!("Unable to complete the request to the endpoint destination: {}", error_chain(e)),
    }
}

/// reqwest's own message is terse ("error sending request"); the causes say what happened.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Reads at most [`MAX_RESPONSE_BODY`] bytes; the flag says whether more was left.
async fn read_limited(mut response: reqwest::Response) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_RESPONSE_BODY - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

fn response_id(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("requestId")?.as_str().map(str::to_owned)
}

fn truncate_utf8(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(max)]);
    text.into_owned()
}

fn request_headers(endpoint: &HttpEndpoint, request_id: &str) -> Result<HeaderMap, String> {
    fn value(name: &str, v: &str) -> Result<HeaderValue, String> {
        HeaderValue::from_str(v).map_err(|_| format!("{name} cannot be sent as an HTTP header value"))
    }
    let mut headers = HeaderMap::new();
    headers
        .insert(HeaderName::from_static("x-amz-firehose-protocol-version"), HeaderValue::from_static(PROTOCOL_VERSION));
    headers.insert(HeaderName::from_static("x-amz-firehose-request-id"), value("the request id", request_id)?);
    headers
        .insert(HeaderName::from_static("x-amz-firehose-source-arn"), value("the source ARN", &endpoint.source_arn)?);
    if let Some(key) = &endpoint.access_key {
        let mut key = value("the access key", key)?;
        key.set_sensitive(true);
        headers.insert(HeaderName::from_static("x-amz-firehose-access-key"), key);
    }
    if !endpoint.common_attributes.is_empty() {
        let attributes: serde_json::Map<String, serde_json::Value> = endpoint
            .common_attributes
            .iter()
            .map(|(name, v)| (name.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let json = serde_json::json!({ "commonAttributes": attributes }).to_string();
        headers.insert(
            HeaderName::from_static("x-amz-firehose-common-attributes"),
            value("the common attributes", &json)?,
        );
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if endpoint.gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(headers)
}

/// The `"records":[...]` array, encoded once per batch and reused by every attempt.
fn records_json(records: &[Bytes]) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    let size: usize = records.iter().map(|r| r.len().div_ceil(3) * 4 + 12).sum();
    let mut json = String::with_capacity(size + 2);
    json.push('[');
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        // Base64 text and the fixed key need no JSON escaping.
        json.push_str("{\"data\":\"");
        engine.encode_string(record, &mut json);
        json.push_str("\"}");
    }
    json.push(']');
    json
}

/// The request body with this attempt's timestamp, gzipped when the endpoint asks for it.
fn request_body(request_id: &str, records_json: &str, gzip: bool) -> std::io::Result<Vec<u8>> {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let head = format!("{{\"requestId\":\"{request_id}\",\"timestamp\":{now_ms},\"records\":");
    if !gzip {
        let mut body = Vec::with_capacity(head.len() + records_json.len() + 1);
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(records_json.as_bytes());
        body.push(b'}');
        return Ok(body);
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(head.as_bytes())?;
    encoder.write_all(records_json.as_bytes())?;
    encoder.write_all(b"}")?;
    encoder.finish()
}

/// The wait before retry number `attempt` (1 = the first retry) with the protocol's
/// schedule: 1 s, doubling, `jitter` (clamped to ±15 %) applied, capped at 2 minutes.
pub fn backoff_delay(attempt: u32, jitter: f64) -> Duration {
    scaled_backoff(INITIAL_BACKOFF, attempt, jitter)
}

fn scaled_backoff(initial: Duration, attempt: u32, jitter: f64) -> Duration {
    let jitter = jitter.clamp(-BACKOFF_JITTER, BACKOFF_JITTER);
    // Exponent capped so the float stays finite; the cap below bites long before.
    let exponent = attempt.saturating_sub(1).min(63);
    let secs = initial.as_secs_f64() * BACKOFF_MULTIPLIER.powi(exponent as i32) * (1.0 + jitter);
    Duration::from_secs_f64(secs.min(MAX_BACKOFF.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_schedule() {
        assert_eq!(backoff_delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff_delay(2, 0.0), Duration::from_secs(2));
        assert_eq!(backoff_delay(3, 0.0), Duration::from_secs(4));
        assert_eq!(backoff_delay(7, 0.0), Duration::from_secs(64));
        assert_eq!(backoff_delay(8, 0.0), MAX_BACKOFF);
        assert_eq!(backoff_delay(1000, 0.15), MAX_BACKOFF);
        assert_eq!(backoff_delay(0, 0.0), Duration::from_secs(1));
        assert_eq!(backoff_delay(1, 0.15), Duration::from_millis(1150));
        assert_eq!(backoff_delay(2, -0.15), Duration::from_millis(1700));
        // Jitter beyond the protocol's ±15 % is clamped.
        assert_eq!(backoff_delay(1, 0.9), Duration::from_millis(1150));
        assert_eq!(backoff_delay(1, -0.9), Duration::from_millis(850));
    }

    #[test]
    fn body_shape_and_base64() {
        let records = [Bytes::from_static(b"hello"), Bytes::from_static(b"hello world"), Bytes::new()];
        let body = request_body("id-1", &records_json(&records), false).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["requestId"], "id-1");
        assert!(v["timestamp"].as_u64().unwrap() > 1_500_000_000_000);
        assert_eq!(v["records"], serde_json::json!([{"data":"aGVsbG8="},{"data":"aGVsbG8gd29ybGQ="},{"data":""}]));
    }

    #[test]
    fn headers_include_optional_ones_only_when_set() {
        let mut endpoint = HttpEndpoint {
            url: "http://x".into(),
            name: None,
            access_key: None,
            common_attributes: vec![],
            gzip: false,
            retry_duration: Duration::ZERO,
            source_arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/s".into(),
        };
        let h = request_headers(&endpoint, "rid").unwrap();
        assert!(h.get("x-amz-firehose-access-key").is_none());
        assert!(h.get("x-amz-firehose-common-attributes").is_none());
        assert!(h.get("content-encoding").is_none());
        endpoint.access_key = Some("key".into());
        endpoint.common_attributes = vec![("a".into(), "1".into())];
        endpoint.gzip = true;
        let h = request_headers(&endpoint, "rid").unwrap();
        assert_eq!(h["x-amz-firehose-access-key"], "key");
        assert_eq!(h["x-amz-firehose-common-attributes"], r#"{"commonAttributes":{"a":"1"}}"#);
        assert_eq!(h["content-encoding"], "gzip");
        endpoint.access_key = Some("bad\nkey".into());
        assert!(request_headers(&endpoint, "rid").is_err());
        assert!(!format!("{endpoint:?}").contains("bad"));
    }
}
