//! The front door: every HTTP request passes through [`handle`], which reproduces AWS's
//! request-processing precedence (Kinesis reference §2.3):
//!
//! 1. non-POST → 403 XML `AccessDeniedException` (OPTIONS with `Origin` → CORS preflight);
//! 2. empty body → 400 `SerializationException` (known operation) or
//!    `UnknownOperationException`, JSON only for the JSON content type, else CBOR;
//! 3. unknown content type → 403 XML without a `Service.Operation` target, else 404;
//! 4. unparseable body → 400 `SerializationException` (legacy `application/json` gets
//!    AWS's `Output`/`Version` envelopes);
//! 5. unknown target → 400 `UnknownOperationException`;
//! 6. authentication presence (signatures are not verified);
//! 7. type checks, 8. constraint validation (both by rheo-protocol);
//! 9. the operation itself.
//!
//! Steps 5 and 6 only need headers, so the body is parsed once on the hot path: only
//! when one of them fails is the body checked for parseability, to let step 4 win.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, ORIGIN};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use rand::RngCore;
use rheo_engine::Engine;
use rheo_protocol::{
    decode_request, decode_request_shared, encode_error, encode_response, DecodeError, ErrorType, Operation,
    TargetError, WireError, WireFormat,
};

use crate::conn::TimeoutKind;
use crate::dispatch::{dispatch, Outcome};
use crate::errors::wire_error;
use crate::metrics::Metrics;
use crate::subscribe::{EventBody, SubscriptionConfig};

/// A response body: a whole one, or a SubscribeToShard event stream.
pub type ResponseBody = Either<Full<Bytes>, EventBody>;

/// Largest request body accepted; larger ones get 413, as AWS answers oversized
/// PutRecords. A maximal PutRecords (10 MiB of data) is about 13.4 MiB as base64 JSON.
pub const REQUEST_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Bytes of randomness in `x-amz-id-2` (kinesalite's tests expect 64–80 decoded bytes).
const EXTENDED_REQUEST_ID_BYTES: usize = 72;

const CORS_EXPOSE_HEADERS: &str =
    "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date";
const CORS_MAX_AGE_SECS: &str = "172800";
const LEGACY_JSON: &str = "application/json";

/// What every request handler shares.
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// How SubscribeToShard subscriptions behave.
    pub subscriptions: SubscriptionConfig,
    /// Set to `true` when the server shuts down: open subscriptions end their streams.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// The Firehose service, when the binary runs one.
    pub firehose: Option<Arc<rheo_firehose::Firehose>>,
    /// Connection timeouts and limit; `handle` applies the body-read timeout.
    pub limits: crate::conn::ConnectionLimits,
}

/// Headers every API response carries.
struct Envelope {
    request_id: String,
    extended_id: bool,
    cors: bool,
}

impl Envelope {
    fn response(&self, status: StatusCode, content_type: Option<&str>, body: Bytes) -> Response<ResponseBody> {
        let length = body.len();
        let mut response = self.head(status, content_type, Either::Left(Full::new(body)));
        response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(length));
        response
    }

    /// A SubscribeToShard response: 200 with an event stream of unknown length.
    fn events(&self, body: EventBody) -> Response<ResponseBody> {
        self.head(StatusCode::OK, Some(crate::event_stream::CONTENT_TYPE), Either::Right(body))
    }

    fn head(&self, status: StatusCode, content_type: Option<&str>, body: ResponseBody) -> Response<ResponseBody> {
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&self.request_id) {
            headers.insert("x-amzn-RequestId", value);
        }
        if self.extended_id {
            let mut id = [0u8; EXTENDED_REQUEST_ID_BYTES];
            rand::thread_rng().fill_bytes(&mut id);
            if let Ok(value) = HeaderValue::from_str(&STANDARD.encode(id)) {
                headers.insert("x-amz-id-2", value);
            }
        }
        if self.cors {
            headers.insert("Access-Control-Allow-Origin", HeaderValue::from_static("*"));
            headers.insert("Access-Control-Expose-Headers", HeaderValue::from_static(CORS_EXPOSE_HEADERS));
        }
        if let Some(content_type) = content_type {
            if let Ok(value) = HeaderValue::from_str(content_type) {
                headers.insert(CONTENT_TYPE, value);
            }
        }
        response
    }

    fn error(&self, error: &WireError, format: WireFormat) -> Response<ResponseBody> {
        let status = StatusCode::from_u16(error.http_status).unwrap_or(StatusCode::BAD_REQUEST);
        self.response(status, Some(format.content_type()), Bytes::from(encode_error(error, format)))
    }

    /// AWS's XML error form for requests it cannot attribute to a service.
    fn xml_error(&self, status: StatusCode, error_type: &str, message: Option<&str>) -> Response<ResponseBody> {
        let body = match message {
            Some(message) => format!("<{error_type}>\n  <Message>{message}</Message>\n</{error_type}>\n"),
            None => format!("<{error_type}/>\n"),
        };
        self.response(status, None, Bytes::from(body))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Query parameters; values are compared for presence only, so no percent-decoding.
fn query_params(query: Option<&str>) -> HashMap<&str, &str> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect()
}

/// Authentication presence checks (reference §2.5). Signatures are not verified, and
/// `x-amz-content-sha256` is never required (boto3 and the Rust SDK do not send it).
fn check_auth(headers: &HeaderMap, query: Option<&str>) -> Result<(), WireError> {
    let params = query_params(query);
    let authorization = header(headers, "authorization");
    let presigned = params.contains_key("X-Amz-Algorithm");
    match (authorization, presigned) {
        (Some(_), true) => Err(ErrorType::InvalidSignature
            .with_message("Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")),
        (None, false) => Err(ErrorType::MissingAuthenticationToken.with_message("Missing Authentication Token")),
        (Some(authorization), false) => {
            // `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`: the first word
            // is the algorithm, the rest are key=value pairs separated by commas or spaces.
            let pairs: HashMap<&str, &str> = authorization
                .split([',', ' '])
                .skip(1)
                .filter(|part| !part.is_empty())
                .filter_map(|part| part.trim().split_once('='))
                .collect();
            let mut message = String::new();
            for parameter in ["Credential", "Signature", "SignedHeaders"] {
                if pairs.get(parameter).is_none_or(|value| value.is_empty()) {
                    message.push_str(&format!("Authorization header requires '{parameter}' parameter. "));
                }
            }
            if !headers.contains_key("x-amz-date") && !headers.contains_key("date") {
                message
                    .push_str("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
            }
            if message.is_empty() {
                return Ok(());
            }
            message.push_str(&format!("Authorization={authorization}"));
            Err(ErrorType::IncompleteSignature.with_message(message))
        }
        (None, true) => {
            let mut message = String::new();
            for parameter in
                ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"]
            {
                if params.get(parameter).is_none_or(|value| value.is_empty()) {
                    message.push_str(&format!("AWS query-string parameters must include '{parameter}'. "));
                }
            }
            if message.is_empty() {
                return Ok(());
            }
            message.push_str("Re-examine the query-string parameters.");
            Err(ErrorType::IncompleteSignature.with_message(message))
        }
    }
}

fn json_response(envelope: &Envelope, status: StatusCode, body: &'static str) -> Response<ResponseBody> {
    envelope.response(status, Some(LEGACY_JSON), Bytes::from_static(body.as_bytes()))
}

/// Handles one HTTP request. Never fails: every problem becomes an HTTP response.
pub async fn handle(state: Arc<AppState>, request: Request<Incoming>) -> Result<Response<ResponseBody>, Infallible> {
    let (parts, body) = request.into_parts();
    let origin = parts.headers.contains_key(ORIGIN);
    let envelope = Envelope {
        request_id: uuid::Uuid::new_v4().to_string(),
        extended_id: !(parts.method == Method::OPTIONS && origin),
        cors: origin,
    };

    if parts.method == Method::GET {
        match parts.uri.path() {
            "/health" | "/_health" => {
                let mut response =
                    envelope.response(StatusCode::OK, Some(LEGACY_JSON), Bytes::from_static(b"{\"status\":\"ok\"}"));
                response.headers_mut().remove("x-amz-id-2");
                return Ok(response);
            }
            "/metrics" => {
                let mut text = state.metrics.render();
                let mut logs = vec![("streams", state.engine.log().stats())];
                if let Some(firehose) = &state.firehose {
                    firehose.render_metrics(&mut text);
                    logs.push(("firehose", firehose.log_stats()));
                }
                crate::metrics::render_logs(&mut text, &logs);
                return Ok(envelope.response(StatusCode::OK, Some("text/plain; version=0.0.4"), Bytes::from(text)));
            }
            _ => {}
        }
    }
    if parts.method == Method::OPTIONS && origin {
        let mut response = envelope.response(StatusCode::OK, None, Bytes::new());
        let headers = response.headers_mut();
        headers.remove("Access-Control-Expose-Headers");
        for (request_header, response_header) in [
            ("access-control-request-headers", "Access-Control-Allow-Headers"),
            ("access-control-request-method", "Access-Control-Allow-Methods"),
        ] {
            if let Some(value) = parts.headers.get(request_header) {
                headers.insert(response_header, value.clone());
            }
        }
        headers.insert("Access-Control-Max-Age", HeaderValue::from_static(CORS_MAX_AGE_SECS));
        return Ok(response);
    }
    if parts.method != Method::POST {
        return Ok(envelope.xml_error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            Some("Unable to determine service/operation name to be authorized"),
        ));
    }

    let declared = header(&parts.headers, "content-length").and_then(|l| l.parse::<usize>().ok());
    if declared.is_some_and(|length| length > REQUEST_BODY_BYTES_MAX) {
        return Ok(envelope.response(StatusCode::PAYLOAD_TOO_LARGE, None, Bytes::new()));
    }
    let collected =
        tokio::time::timeout(state.limits.body_read_timeout, Limited::new(body, REQUEST_BODY_BYTES_MAX).collect())
            .await;
    let Ok(collected) = collected else {
        state.metrics.timed_out(TimeoutKind::BodyRead);
        tracing::debug!(message = "Request body timed out.", timeout_ms = state.limits.body_read_timeout.as_millis());
        let mut response = envelope.xml_error(
            StatusCode::REQUEST_TIMEOUT,
            "RequestTimeoutException",
            Some("The request body was not received within the body read timeout."),
        );
        if parts.version < http::Version::HTTP_2 {
            // The rest of the body is never read, so the connection cannot carry another request.
            response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
        }
        return Ok(response);
    };
    let body = match collected {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                return Ok(envelope.response(StatusCode::PAYLOAD_TOO_LARGE, None, Bytes::new()));
            }
            tracing::debug!(message = "Request body could not be read.", %error);
            return Ok(envelope.response(StatusCode::BAD_REQUEST, None, Bytes::new()));
        }
    };

    let content_type = header(&parts.headers, "content-type").unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    let format = WireFormat::from_content_type(content_type);
    let target_header = header(&parts.headers, "x-amz-target").unwrap_or_default();
    if let Some(firehose_target) = rheo_protocol::firehose::FirehoseOperation::from_target(target_header) {
        return Ok(firehose_request(&state, &envelope, &parts, firehose_target, &body).await);
    }
    let target = Operation::from_target(target_header);

    if body.is_empty() {
        let error_type = if target.is_ok() { ErrorType::Serialization } else { ErrorType::UnknownOperation };
        let format = if format == Some(WireFormat::Json) { WireFormat::Json } else { WireFormat::Cbor };
        return Ok(envelope.error(&error_type.without_message(), format));
    }
    let Some(format) = format else {
        if media_type.eq_ignore_ascii_case(LEGACY_JSON) {
            let parses = matches!(
                serde_json::from_slice::<serde_json::Value>(&body),
                Ok(serde_json::Value::Object(_) | serde_json::Value::Array(_))
            );
            return Ok(if parses {
                json_response(
                    &envelope,
                    StatusCode::NOT_FOUND,
                    r#"{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException"},"Version":"1.0"}"#,
                )
            } else {
                json_response(
                    &envelope,
                    StatusCode::BAD_REQUEST,
                    r#"{"Output":{"__type":"com.amazon.coral.service#SerializationException"},"Version":"1.0"}"#,
                )
            });
        }
        return Ok(match target {
            Err(TargetError::Malformed(_)) => envelope.xml_error(
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                Some("Unable to determine service/operation name to be authorized"),
            ),
            _ => envelope.xml_error(StatusCode::NOT_FOUND, "UnknownOperationException", None),
        });
    };

    let auth = check_auth(&parts.headers, parts.uri.query());
    let operation = match (target, auth) {
        (Ok(operation), Ok(())) => operation,
        (target, auth) => {
            let unparseable = decode_request(Operation::DescribeLimits, format, &body) == Err(DecodeError::Unparseable);
            let error = if unparseable {
                ErrorType::Serialization.without_message()
            } else if let Err(error) = target {
                error.to_wire_error()
            } else if let Err(error) = auth {
                error
            } else {
                ErrorType::InternalFailure.without_message()
            };
            state.metrics.request("Unknown", &error.error_type);
            return Ok(envelope.error(&error, format));
        }
    };

    let request = match decode_request_shared(operation, format, &body) {
        Ok(request) => request,
        Err(error) => {
            let error = error.to_wire_error();
            state.metrics.request(operation.name(), &error.error_type);
            return Ok(envelope.error(&error, format));
        }
    };
    drop(body);
    let outcome = dispatch(&state.engine, &state.metrics, request).await;
    Ok(match outcome {
        Outcome::Done(response) => {
            state.metrics.request(operation.name(), "ok");
            let body = encode_response(&response, format);
            envelope.response(StatusCode::OK, Some(format.content_type()), Bytes::from(body))
        }
        Outcome::Failed(error) => {
            let wire = wire_error(&error);
            // A full disk is logged by the storage engine, once per interval, not per request.
            let disk_full =
                matches!(error, rheo_engine::EngineError::Storage(rheo_storage::StorageError::DiskFull { .. }));
            if wire.http_status >= 500 && !disk_full {
                tracing::error!(message = "Request failed.", operation = operation.name(), %error);
            } else {
                tracing::debug!(message = "Request rejected.", operation = operation.name(), error_type = %wire.error_type);
            }
            state.metrics.request(operation.name(), &wire.error_type);
            envelope.error(&wire, format)
        }
        Outcome::Subscribed(subscription) => {
            state.metrics.request(operation.name(), "ok");
            envelope.events(crate::subscribe::start(&state, *subscription, format))
        }
        Outcome::DryRun => {
            let error =
                ErrorType::DryRunOperation.with_message("Request would have succeeded, but DryRun flag is set.");
            state.metrics.request(operation.name(), &error.error_type);
            envelope.error(&error, format)
        }
    })
}

/// A Firehose request: JSON 1.1 only, the same authentication presence checks.
async fn firehose_request(
    state: &AppState,
    envelope: &Envelope,
    parts: &http::request::Parts,
    target: Result<rheo_protocol::firehose::FirehoseOperation, rheo_protocol::firehose::UnknownFirehoseOperation>,
    body: &Bytes,
) -> Response<ResponseBody> {
    let format = WireFormat::Json;
    let name = target.as_ref().map(|op| op.name()).unwrap_or("Unknown");
    let error = if body.is_empty() || serde_json::from_slice::<serde_json::Value>(body).is_err() {
        Some(ErrorType::Serialization.without_message())
    } else if target.is_err() {
        Some(ErrorType::UnknownOperation.without_message())
    } else {
        check_auth(&parts.headers, parts.uri.query()).err()
    };
    let outcome = match (error, target, &state.firehose) {
        (Some(error), _, _) => Err(error),
        (None, Ok(operation), Some(firehose)) => crate::firehose::call(firehose, operation, body).await,
        (None, _, _) => Err(ErrorType::UnknownOperation.without_message()),
    };
    match outcome {
        Ok(value) => {
            state.metrics.request(name, "ok");
            envelope.response(StatusCode::OK, Some(crate::firehose::CONTENT_TYPE), Bytes::from(value))
        }
        Err(error) => {
            state.metrics.request(name, &error.error_type);
            let status = StatusCode::from_u16(error.http_status).unwrap_or(StatusCode::BAD_REQUEST);
            envelope.response(status, Some(crate::firehose::CONTENT_TYPE), Bytes::from(encode_error(&error, format)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn auth_presence_checks_follow_aws() {
        let missing = check_auth(&headers(&[]), None).unwrap_err();
        assert_eq!(missing.error_type, "MissingAuthenticationTokenException");
        let signed = headers(&[
            ("authorization", "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"),
            ("x-amz-date", "20240101T000000Z"),
        ]);
        assert!(check_auth(&signed, None).is_ok());
        let incomplete = check_auth(&headers(&[("authorization", "AWS4-HMAC-SHA256 Credential=a")]), None).unwrap_err();
        assert_eq!(incomplete.error_type, "IncompleteSignatureException");
        assert_eq!(
            incomplete.message.as_deref(),
            Some("Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=a")
        );
        let both = check_auth(&signed, Some("X-Amz-Algorithm=x")).unwrap_err();
        assert_eq!(both.error_type, "InvalidSignatureException");
        let query = check_auth(&headers(&[]), Some("X-Amz-Algorithm=a&X-Amz-Credential=b")).unwrap_err();
        assert_eq!(
            query.message.as_deref(),
            Some("AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.")
        );
    }
}
