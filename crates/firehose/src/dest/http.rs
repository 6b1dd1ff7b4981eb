//! The Firehose HTTP endpoint delivery protocol (developer guide, "HTTP Endpoint
//! Delivery Request and Response Specifications"): one POST per batch with the
//! `X-Amz-Firehose-*` headers and a JSON body of base64 records; success only on a 200
//! whose body echoes the request id; 413 is permanent; anything else is retried with
//! exponential back-off, under the same request id, until the retry duration is spent.

use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use rand::Rng;
use serde_json::json;

use super::DestError;

/// Wait for one response before the attempt counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(180);
/// First back-off, growth and cap.
const BACKOFF_INITIAL: Duration = Duration::from_secs(1);
const BACKOFF_MULTIPLIER: u32 = 2;
const BACKOFF_MAX: Duration = Duration::from_secs(120);
/// Back-off jitter, as a fraction either way.
const BACKOFF_JITTER: f64 = 0.15;
/// Largest response body read.
const RESPONSE_BYTES_MAX: usize = 1024 * 1024;
/// Characters of the endpoint's answer kept in an error message.
const ERROR_DETAIL_CHARS_MAX: usize = 512;

/// An HTTP endpoint destination.
#[derive(Debug, Clone)]
pub struct HttpEndpoint {
    pub url: String,
    pub name: Option<String>,
    pub access_key: Option<String>,
    pub common_attributes: Vec<(String, String)>,
    pub gzip: bool,
    pub retry_duration: Duration,
    /// The delivery stream's ARN (`X-Amz-Firehose-Source-Arn`).
    pub source_arn: String,
}

/// How a batch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpDelivery {
    Delivered {
        attempts: u32,
    },
    /// 413: permanent; AWS does not back the batch up.
    PayloadTooLarge {
        attempts: u32,
        detail: String,
    },
    /// The retry duration ran out.
    GaveUp {
        attempts: u32,
        error_code: String,
        error_message: String,
    },
}

/// The wait before retry number `attempt` (0-based), given a jitter in [-1, 1].
pub fn backoff_delay(initial: Duration, attempt: u32, jitter: f64) -> Duration {
    let base = initial.saturating_mul(BACKOFF_MULTIPLIER.saturating_pow(attempt.min(20))).min(BACKOFF_MAX);
    base.mul_f64(1.0 + BACKOFF_JITTER * jitter.clamp(-1.0, 1.0))
}

/// One reqwest client shared by every HTTP endpoint destination.
pub struct HttpClient {
    client: reqwest::Client,
    initial_backoff: Duration,
}

enum Attempt {
    Success,
    TooLarge(String),
    Retry { code: &'static str, detail: String },
}

impl HttpClient {
    /// A client that follows no redirects (AWS treats 3xx as failures).
    pub fn new() -> Result<Self, DestError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .map_err(|e| DestError::Http(e.to_string()))?;
        Ok(HttpClient { client, initial_backoff: BACKOFF_INITIAL })
    }

    /// The same client with a shorter first back-off (tests).
    pub fn with_initial_backoff(mut self, initial: Duration) -> Self {
        self.initial_backoff = initial;
        self
    }

    async fn attempt(&self, endpoint: &HttpEndpoint, request_id: &str, body: &Bytes) -> Attempt {
        let mut request = self
            .client
            .post(&endpoint.url)
            .header("X-Amz-Firehose-Protocol-Version", "1.0")
            .header("X-Amz-Firehose-Request-Id", request_id)
            .header("X-Amz-Firehose-Source-Arn", &endpoint.source_arn)
            .header("Content-Type", "application/json")
            .body(body.clone());
        if endpoint.gzip {
            request = request.header("Content-Encoding", "gzip");
        }
        if let Some(key) = &endpoint.access_key {
            request = request.header("X-Amz-Firehose-Access-Key", key);
        }
        if !endpoint.common_attributes.is_empty() {
            let attributes: serde_json::Map<String, serde_json::Value> =
                endpoint.common_attributes.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            request = request
                .header("X-Amz-Firehose-Common-Attributes", json!({ "commonAttributes": attributes }).to_string());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Attempt::Retry { code: "HttpEndpoint.ConnectionFailed", detail: error.to_string() },
        };
        let status = response.status().as_u16();
        let text = match response.bytes().await {
            Ok(bytes) => String::from_utf8_lossy(&bytes[..bytes.len().min(RESPONSE_BYTES_MAX)]).into_owned(),
            Err(error) => return Attempt::Retry { code: "HttpEndpoint.ResponseFailed", detail: error.to_string() },
        };
        let detail = || {
            let mut detail = format!("{status} {text}");
            detail.truncate(detail.char_indices().nth(ERROR_DETAIL_CHARS_MAX).map_or(detail.len(), |(i, _)| i));
            detail
        };
        match status {
            200 => {
                let echoed = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("requestId").and_then(|id| id.as_str().map(str::to_owned)));
                if echoed.as_deref() == Some(request_id) {
                    Attempt::Success
                } else {
                    Attempt::Retry { code: "HttpEndpoint.InvalidResponseFromDestination", detail: detail() }
                }
            }
            413 => Attempt::TooLarge(detail()),
            _ => Attempt::Retry { code: "HttpEndpoint.DestinationException", detail: detail() },
        }
    }

    /// Delivers one batch of records.
    pub async fn deliver(&self, endpoint: &HttpEndpoint, records: &[Bytes]) -> HttpDelivery {
        let request_id = uuid::Uuid::new_v4().to_string();
        let timestamp_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let records: Vec<serde_json::Value> = records.iter().map(|r| json!({ "data": STANDARD.encode(r) })).collect();
        let json = json!({ "requestId": request_id, "timestamp": timestamp_ms, "records": records }).to_string();
        let body = if endpoint.gzip {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            match encoder.write_all(json.as_bytes()).and_then(|()| encoder.finish()) {
                Ok(compressed) => Bytes::from(compressed),
                Err(error) => {
                    return HttpDelivery::GaveUp {
                        attempts: 0,
                        error_code: "HttpEndpoint.RequestFailed".into(),
                        error_message: error.to_string(),
                    }
                }
            }
        } else {
            Bytes::from(json)
        };
        let mut attempts = 0;
        let mut first_failure: Option<tokio::time::Instant> = None;
        loop {
            attempts += 1;
            match self.attempt(endpoint, &request_id, &body).await {
                Attempt::Success => return HttpDelivery::Delivered { attempts },
                Attempt::TooLarge(detail) => return HttpDelivery::PayloadTooLarge { attempts, detail },
                Attempt::Retry { code, detail } => {
                    // The retry duration counts from the first failure, excluding the
                    // time spent waiting for that response.
                    let started = *first_failure.get_or_insert_with(tokio::time::Instant::now);
                    let delay =
                        backoff_delay(self.initial_backoff, attempts - 1, rand::thread_rng().gen_range(-1.0..=1.0));
                    if started.elapsed() + delay > endpoint.retry_duration {
                        tracing::warn!(message = "HTTP endpoint delivery gave up.", url = %endpoint.url, attempts, %detail);
                        return HttpDelivery::GaveUp {
                            attempts,
                            error_code: code.to_owned(),
                            error_message: format!(
                                "Received the following response from the endpoint destination. {detail}"
                            ),
                        };
                    }
                    tracing::debug!(message = "HTTP endpoint delivery failed; retrying.", url = %endpoint.url, attempts, %detail);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_two_minutes_with_jitter() {
        assert_eq!(backoff_delay(BACKOFF_INITIAL, 0, 0.0), Duration::from_secs(1));
        assert_eq!(backoff_delay(BACKOFF_INITIAL, 3, 0.0), Duration::from_secs(8));
        assert_eq!(backoff_delay(BACKOFF_INITIAL, 30, 0.0), BACKOFF_MAX);
        assert_eq!(backoff_delay(BACKOFF_INITIAL, 0, 1.0), Duration::from_millis(1150));
        assert_eq!(backoff_delay(BACKOFF_INITIAL, 0, -5.0), Duration::from_millis(850));
    }
}
