//! The front door: every HTTP request passes through [`handle`], which does what is the
//! same for every service and routes the rest by `X-Amz-Target` prefix to a
//! [`Service`] of the [`Router`]. `GET`s are the router's too (health, metrics, and
//! any page a service adds).
//!
//! The checks answer in AWS's request-processing precedence (Kinesis reference §2.3):
//!
//! 1. non-POST → 403 XML `AccessDeniedException` (OPTIONS with `Origin` → CORS preflight);
//! 2. empty body → 400 `SerializationException` (known operation) or
//!    `UnknownOperationException`, JSON only for the service's JSON content type, else CBOR;
//! 3. unknown content type → 403 XML without a `Service.Operation` target, else 404;
//! 4. unparseable body → 400 `SerializationException` (legacy `application/json` gets
//!    AWS's `Output`/`Version` envelopes);
//! 5. unknown target → 400 `UnknownOperationException`;
//! 6. authentication: presence checks, then under `--auth sigv4` the signature verified
//!    ([`crate::auth::verify`], in AWS's order of checks);
//! 7. the service call: for Kinesis type checks and constraint validation (both by
//!    rheo-protocol), then the operation itself.
//!
//! A service may order steps 2 to 4 differently, as data ([`Precedence`]): Firehose
//! ignores the content type and treats an empty body as one that does not parse.
//! Requests whose prefix no service has are answered with [`Precedence::AWS`].
//!
//! Steps 5 and 6 only need headers, so under [`ParseCheck::WhenRejected`] the body is
//! parsed once on the hot path, by the service: only when one of them fails is the body
//! checked for parseability, to let step 4 win. The body is moved into the service,
//! never copied.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, ORIGIN};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full, Limited};
use rand::RngCore;
use rheo_protocol::{encode_error, ErrorType, WireError, WireFormat};

use crate::auth::{Authenticator, Caller, ConnectionInfo, SignedRequest};
use crate::conn::TimeoutKind;
use crate::router::{
    aws_body_parses, ContentTypeCheck, EmptyBody, ParseCheck, Precedence, Protocol, RejectionLabel, Router, Service,
    ServiceResponse, Target,
};
use crate::state::AppState;
use crate::subscribe::EventBody;

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

    fn error(&self, error: &WireError, protocol: Protocol, format: WireFormat) -> Response<ResponseBody> {
        let status = StatusCode::from_u16(error.http_status).unwrap_or(StatusCode::BAD_REQUEST);
        self.response(status, Some(protocol.content_type(format)), Bytes::from(encode_error(error, format)))
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

/// Authentication presence checks (reference §2.5), the whole check under `--auth none`;
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

/// The front door's view of the server: the shared state and the services.
pub struct FrontDoor {
    /// What every handler shares; handed to each service call.
    pub state: Arc<AppState>,
    /// The registered services.
    pub router: Router,
    /// Verifies signatures (or, under `--auth none`, does nothing beyond presence checks).
    pub auth: Arc<Authenticator>,
}

/// Handles one HTTP request. Never fails: every problem becomes an HTTP response.
///
/// Generic over the body so tests can call it without a connection; the server uses
/// hyper's `Incoming`.
pub async fn handle<B>(front: Arc<FrontDoor>, request: Request<B>) -> Result<Response<ResponseBody>, Infallible>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let state = &front.state;
    let (parts, body) = request.into_parts();
    let origin = parts.headers.contains_key(ORIGIN);
    let envelope = Envelope {
        request_id: uuid::Uuid::new_v4().to_string(),
        extended_id: !(parts.method == Method::OPTIONS && origin),
        cors: origin,
    };

    if parts.method == Method::GET {
        if let Some(page) = front.router.get(state, parts.uri.path()).await {
            let mut response = envelope.response(StatusCode::OK, Some(page.content_type), page.body);
            if !page.extended_request_id {
                response.headers_mut().remove("x-amz-id-2");
            }
            return Ok(response);
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
    let target = Target::parse(header(&parts.headers, "x-amz-target").unwrap_or_default());
    // An unknown prefix is answered as AWS answers an unknown target: its JSON and CBOR
    // protocols' precedence, ending in UnknownOperationException.
    let service = front.router.service(target.prefix);
    let (protocol, precedence) = match service {
        Some(service) => (service.protocol(), service.precedence()),
        None => (Protocol::JSON_1_1_AND_CBOR, Precedence::AWS),
    };
    let operation = service.and_then(|service| Some((service, service.operation(target.operation)?)));
    let format = match precedence.content_type {
        ContentTypeCheck::Checked => protocol.format_of(content_type),
        ContentTypeCheck::Ignored => Some(WireFormat::Json),
    };

    if body.is_empty() && precedence.empty_body == EmptyBody::OwnStep {
        let error_type = if operation.is_some() { ErrorType::Serialization } else { ErrorType::UnknownOperation };
        let format =
            if format == Some(WireFormat::Json) || !protocol.cbor { WireFormat::Json } else { WireFormat::Cbor };
        let error = error_type.without_message();
        let error = match service {
            Some(service) => service.front_door_error(error),
            None => error,
        };
        return Ok(envelope.error(&error, protocol, format));
    }
    let Some(format) = format else {
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
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
        return Ok(if target.well_formed {
            envelope.xml_error(StatusCode::NOT_FOUND, "UnknownOperationException", None)
        } else {
            envelope.xml_error(
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                Some("Unable to determine service/operation name to be authorized"),
            )
        });
    };

    let authenticated = match (check_auth(&parts.headers, parts.uri.query()), operation) {
        (Ok(()), Some((service, _))) => {
            let request = SignedRequest {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query: parts.uri.query(),
                headers: &parts.headers,
                body: &body,
            };
            front.auth.authenticate(&request, service.signing_name()).map_err(|failure| {
                tracing::debug!(message = "Signature refused.", reason = %failure);
                crate::errors::auth_wire_error(&failure)
            })
        }
        // An unknown operation answers first; nothing to verify.
        (Ok(()), None) => Ok(None),
        (Err(error), _) => Err(error),
    };
    let (auth, principal) = match authenticated {
        Ok(principal) => (Ok(()), principal),
        Err(error) => (Err(error), None),
    };
    let parses = || match service {
        Some(service) => !body.is_empty() && service.body_parses(format, &body),
        None => !body.is_empty() && aws_body_parses(format, &body),
    };
    let (service, operation) = match admit(precedence, operation, auth, parses) {
        Ok(admitted) => admitted,
        Err(error) => {
            let error = match service {
                Some(service) => service.front_door_error(error),
                None => error,
            };
            let label = match (precedence.rejections_counted_as, operation) {
                (RejectionLabel::Operation, Some((_, operation))) => operation,
                _ => UNKNOWN_OPERATION_LABEL,
            };
            state.metrics.request(label, &error.error_type);
            return Ok(envelope.error(&error, protocol, format));
        }
    };

    let connection = parts.extensions.get::<ConnectionInfo>();
    let caller = Caller {
        principal,
        source_ip: connection.map(|c| c.peer.ip()),
        secure_transport: connection.is_some_and(|c| c.secure),
    };
    Ok(match service.call(state, format, operation, body, &caller).await {
        ServiceResponse::Body(body) => {
            state.metrics.request(operation, "ok");
            envelope.response(StatusCode::OK, Some(protocol.content_type(format)), body)
        }
        ServiceResponse::Events(events) => {
            state.metrics.request(operation, "ok");
            envelope.events(events)
        }
        ServiceResponse::Error(error) => {
            state.metrics.request(operation, &error.error_type);
            envelope.error(&error, protocol, format)
        }
    })
}

/// The operation label of requests counted without a known operation.
const UNKNOWN_OPERATION_LABEL: &str = "Unknown";

/// Steps 4 to 6: which of a body that does not parse, an unknown operation and missing
/// authentication answers first (in that order), or the service and operation to call.
/// `parses` is called at most once, and under [`ParseCheck::WhenRejected`] only when the
/// operation or authentication fails, so an accepted request's body is parsed once, by
/// the service.
fn admit<'a>(
    precedence: Precedence,
    operation: Option<(&'a dyn Service, &'static str)>,
    auth: Result<(), WireError>,
    parses: impl Fn() -> bool,
) -> Result<(&'a dyn Service, &'static str), WireError> {
    if precedence.parse_check == ParseCheck::Upfront && !parses() {
        return Err(ErrorType::Serialization.without_message());
    }
    match (operation, auth) {
        (Some(admitted), Ok(())) => Ok(admitted),
        (operation, auth) => Err(if precedence.parse_check == ParseCheck::WhenRejected && !parses() {
            ErrorType::Serialization.without_message()
        } else if operation.is_none() {
            ErrorType::UnknownOperation.without_message()
        } else if let Err(error) = auth {
            error
        } else {
            ErrorType::InternalFailure.without_message()
        }),
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
