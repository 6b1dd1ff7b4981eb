//! Delivery to an HTTP endpoint with the Firehose HTTP endpoint delivery protocol
//! (request/response format, request id, retries with back-off).

use std::fmt;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use rheo_storage::{Clock, StoredRecord, SystemClock};

use super::retry::{Retried, RetryBudget, RetryPolicy, StopSignal};
use super::{DeliveryContext, DestError, FailedRecord, Layout, Outcome, ProcessedGroup, S3Sink, Sink};
use crate::limits::{
    HTTP_RECORDS_PER_REQUEST_MAX, HTTP_RETRY_INITIAL_MS, HTTP_RETRY_JITTER, HTTP_RETRY_MAX_MS, RETRY_BACKOFF_MULTIPLIER,
};
use crate::metrics::StreamStats;

/// Protocol version sent in `X-Amz-Firehose-Protocol-Version`.
pub const PROTOCOL_VERSION: &str = "1.0";
/// How long one attempt may wait for the endpoint's response.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(180);
/// The wait before the first retry.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(HTTP_RETRY_INITIAL_MS);
/// Each further retry waits this many times longer than the one before.
pub const BACKOFF_MULTIPLIER: f64 = RETRY_BACKOFF_MULTIPLIER;
/// Each wait is randomly stretched or shrunk by up to this fraction, so that many streams
/// failing together do not retry in lock-step.
pub const BACKOFF_JITTER: f64 = HTTP_RETRY_JITTER;
/// No single wait exceeds this.
pub const MAX_BACKOFF: Duration = Duration::from_millis(HTTP_RETRY_MAX_MS);
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
    /// The stream stopped during an attempt or a wait; the batch stays undelivered.
    Stopped,
}

/// Sends batches to HTTP endpoints; one connection pool shared by every endpoint.
pub struct HttpClient {
    client: reqwest::Client,
    initial_backoff: Duration,
    /// The time of each request's `timestamp` and of the retry budget.
    clock: Arc<dyn Clock>,
}

impl HttpClient {
    pub fn new() -> Result<Self, DestError> {
        let client = reqwest::Client::builder()
            // The protocol says redirects are not followed: a 3xx is a failed attempt.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .map_err(|e| DestError::Http(error_chain(&e)))?;
        Ok(HttpClient { client, initial_backoff: INITIAL_BACKOFF, clock: Arc::new(SystemClock) })
    }

    /// Same client reading time from `clock` (the service's clock) instead of the system's.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The protocol's retry schedule for `endpoint`: 1 s doubling (±15 %) up to 2 min,
    /// for as long as the endpoint's retry duration in back-off time.
    fn retry_policy(&self, endpoint: &HttpEndpoint) -> RetryPolicy {
        RetryPolicy {
            initial: self.initial_backoff,
            cap: MAX_BACKOFF,
            jitter: BACKOFF_JITTER,
            budget: RetryBudget::BackOff(endpoint.retry_duration),
        }
    }

    /// Same client with a different first back-off wait (later waits scale with it);
    /// tests use this to retry in milliseconds instead of seconds.
    pub fn with_initial_backoff(mut self, initial: Duration) -> Self {
        self.initial_backoff = initial;
        self
    }

    /// Delivers `records` as one request, retrying until the endpoint accepts it, refuses
    /// it permanently (413), the endpoint's retry duration runs out or `stop` (when given)
    /// fires: every attempt and wait is raced against it.
    pub async fn deliver(
        &self,
        endpoint: &HttpEndpoint,
        records: &[Bytes],
        stop: Option<&mut StopSignal>,
    ) -> HttpDelivery {
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
        let (request_id, records_json) = (request_id.as_str(), records_json.as_str());
        let attempt = move || {
            let headers = headers.clone();
            async move {
                let now_ms = self.clock.now_ms();
                let body = match request_body(request_id, records_json, endpoint.gzip, now_ms) {
                    Ok(body) => body,
                    Err(e) => return Ok(Final::Unsendable(format!("cannot compress the request body: {e}"))),
                };
                match self.attempt(endpoint, headers, body, request_id).await {
                    Attempt::Accepted => Ok(Final::Accepted),
                    Attempt::TooLarge(detail) => Ok(Final::TooLarge(detail)),
                    Attempt::Failed { code, message } => Err((code, message)),
                }
            }
        };
        let failed = |(code, message): &(&str, String), attempts: u32| {
            tracing::debug!(attempts, code, message, "http endpoint delivery attempt failed");
        };
        match self.retry_policy(endpoint).run(self.clock.as_ref(), stop, attempt, failed).await {
            Retried::Done { value: Final::Accepted, attempts } => HttpDelivery::Delivered { attempts },
            Retried::Done { value: Final::TooLarge(detail), attempts } => {
                HttpDelivery::PayloadTooLarge { attempts, detail }
            }
            Retried::Done { value: Final::Unsendable(error_message), attempts } => HttpDelivery::GaveUp {
                attempts,
                error_code: error_code::INVALID_CONFIGURATION.to_owned(),
                error_message,
            },
            Retried::GaveUp { attempts, last: (code, message) } => {
                HttpDelivery::GaveUp { attempts, error_code: code.to_owned(), error_message: message }
            }
            Retried::Stopped => HttpDelivery::Stopped,
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

/// How a delivery ends without another attempt.
enum Final {
    Accepted,
    /// 413: permanent, not backed up.
    TooLarge(String),
    /// The request cannot be built; retrying would not help.
    Unsendable(String),
}

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
fn request_body(request_id: &str, records_json: &str, gzip: bool, now_ms: u64) -> std::io::Result<Vec<u8>> {
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
    let policy = RetryPolicy {
        initial: INITIAL_BACKOFF,
        cap: MAX_BACKOFF,
        jitter: BACKOFF_JITTER,
        budget: RetryBudget::Forever,
    };
    policy.delay(attempt, jitter)
}

/// One HTTP request's records and the source records they came from.
pub(crate) struct HttpRequestRecords {
    records: Vec<(StoredRecord, Bytes)>,
}

/// An HTTP endpoint destination: processed records go in requests of at most
/// [`HTTP_RECORDS_PER_REQUEST_MAX`]; a request the endpoint gives up on goes to the
/// error output under `http-endpoint-failed`.
pub(crate) struct HttpEndpointSink<'a> {
    /// The endpoint, with the stream's ARN as its source.
    pub(crate) endpoint: HttpEndpoint,
    /// `None` when the client cannot be built (a broken TLS set-up, logged): delivery of
    /// the stream stops and its records stay in the log for the next start.
    pub(crate) client: Option<&'a HttpClient>,
    pub(crate) backup: &'a S3Sink,
    /// `S3BackupMode` `AllData`: every source record is also copied to the backup.
    pub(crate) backup_all: bool,
}

impl Sink for HttpEndpointSink<'_> {
    type Payload = HttpRequestRecords;

    fn layout(&self) -> Layout<'_> {
        Layout::Records
    }

    async fn encode(&self, _: &DeliveryContext<'_>, group: ProcessedGroup) -> Option<Vec<HttpRequestRecords>> {
        let mut requests = Vec::new();
        let mut records = group.records.into_iter().map(|r| (r.source, r.data)).peekable();
        while records.peek().is_some() {
            requests
                .push(HttpRequestRecords { records: records.by_ref().take(HTTP_RECORDS_PER_REQUEST_MAX).collect() });
        }
        Some(requests)
    }

    async fn deliver(
        &self,
        context: &DeliveryContext<'_>,
        request: HttpRequestRecords,
        stop: &mut StopSignal,
    ) -> Outcome {
        let HttpRequestRecords { records } = request;
        let data: Vec<Bytes> = records.iter().map(|(_, data)| data.clone()).collect();
        let bytes: u64 = data.iter().map(|d| d.len() as u64).sum();
        let Some(client) = self.client else { return Outcome::Stopped };
        match client.deliver(&self.endpoint, &data, Some(stop)).await {
            HttpDelivery::Stopped => Outcome::Stopped,
            HttpDelivery::Delivered { .. } => {
                let arrivals = records.iter().map(|(r, _)| r.arrival_ms).collect();
                Outcome::Delivered { records: records.len() as u64, bytes, arrivals }
            }
            HttpDelivery::PayloadTooLarge { attempts, detail } => {
                // AWS treats 413 as permanent and does not back the batch up.
                tracing::warn!(message = "HTTP endpoint refused the batch as too large; dropped.", stream = %context.stream_name, attempts, %detail);
                Outcome::Discarded { records: records.len() as u64 }
            }
            HttpDelivery::GaveUp { attempts, error_code, error_message } => {
                StreamStats::add(&context.stats.delivery_failures, u64::from(attempts));
                let failures = records
                    .into_iter()
                    .map(|(record, _)| FailedRecord {
                        record,
                        error_code: error_code.clone(),
                        error_message: error_message.clone(),
                        attempts,
                    })
                    .collect();
                Outcome::Failed { output_type: "http-endpoint-failed", failures }
            }
        }
    }

    fn error_output(&self) -> &S3Sink {
        self.backup
    }

    fn source_backup(&self) -> Option<&S3Sink> {
        self.backup_all.then_some(self.backup)
    }
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
        let body = request_body("id-1", &records_json(&records), false, 1_700_000_000_123).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["requestId"], "id-1");
        assert_eq!(v["timestamp"].as_u64().unwrap(), 1_700_000_000_123);
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
