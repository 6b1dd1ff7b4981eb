//! The router of services: every AWS service Rheo serves on its port is one
//! implementation of [`Service`], registered once with a [`Router`]. The front door
//! (`front.rs`) does what is the same for every service (method, CORS, body
//! collection and its timeout, content type, target parsing, authentication) and
//! asks the router which service owns the request's `X-Amz-Target` prefix; where services
//! answer those checks in a different order, the service says so as data ([`Precedence`]),
//! so `front.rs` names no service.
//!
//! `GET` routes go through the router too: `/health` (and `/_health`) and `/metrics` are
//! the router's own, and a service may add more ([`Service::get_paths`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use rheo_protocol::{decode_request, DecodeError, Operation, WireError, WireFormat};

use crate::auth::Caller;
use crate::metrics::MetricsOutput;
use crate::state::AppState;
use crate::subscribe::EventBody;

/// The future a [`Service`] returns: boxed, so that the trait stays object-safe.
pub type ServiceFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The `Content-Type` of a JSON 1.0 body (DynamoDB, for example).
pub const JSON_1_0_CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Which AWS JSON protocol a service speaks; the version is only visible in the
/// `Content-Type` of requests and answers, the encoding is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonVersion {
    /// `application/x-amz-json-1.0`.
    V1_0,
    /// `application/x-amz-json-1.1`.
    V1_1,
}

impl JsonVersion {
    /// The `Content-Type` of requests and answers in this version.
    pub fn content_type(self) -> &'static str {
        match self {
            JsonVersion::V1_0 => JSON_1_0_CONTENT_TYPE,
            JsonVersion::V1_1 => WireFormat::JSON_CONTENT_TYPE,
        }
    }
}

/// The wire protocol of a service: which content types it accepts, and so which content
/// type its answers carry (the same as the request's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocol {
    /// The JSON protocol version.
    pub json: JsonVersion,
    /// Whether `application/x-amz-cbor-1.1` is accepted too (Kinesis; the Java SDK v2
    /// uses it by default).
    pub cbor: bool,
}

impl Protocol {
    /// JSON 1.1 and CBOR 1.1: Kinesis, and how requests for no registered service are
    /// answered (as AWS's endpoint answers an unknown target).
    pub const JSON_1_1_AND_CBOR: Protocol = Protocol { json: JsonVersion::V1_1, cbor: true };

    /// The format of a `Content-Type` header value (parameters and ASCII case ignored),
    /// or `None` when this service does not take that content type.
    pub fn format_of(self, content_type: &str) -> Option<WireFormat> {
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        if media_type.eq_ignore_ascii_case(self.json.content_type()) {
            Some(WireFormat::Json)
        } else if self.cbor && media_type.eq_ignore_ascii_case(WireFormat::CBOR_CONTENT_TYPE) {
            Some(WireFormat::Cbor)
        } else {
            None
        }
    }

    /// The `Content-Type` of an answer in `format`.
    pub fn content_type(self, format: WireFormat) -> &'static str {
        match format {
            WireFormat::Json => self.json.content_type(),
            WireFormat::Cbor => WireFormat::CBOR_CONTENT_TYPE,
        }
    }
}

/// Whether the `Content-Type` header decides the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentTypeCheck {
    /// The content type must be one of the service's ([`Protocol::format_of`]); any
    /// other is answered as AWS answers it (legacy `application/json` with its
    /// `Output`/`Version` envelope, else XML 404, or 403 without a `Service.Operation`
    /// target), before the body is looked at.
    Checked,
    /// Not looked at: requests and answers are JSON whatever the header says.
    Ignored,
}

/// How an empty body is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyBody {
    /// A step of its own, before the content type: `SerializationException` when the
    /// operation is known, else `UnknownOperationException`, in JSON when the content
    /// type is this service's JSON, else in CBOR (when the service speaks CBOR).
    OwnStep,
    /// Like any other body that does not parse.
    Unparseable,
}

/// When a body that does not parse is found out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseCheck {
    /// Only when the target or authentication fails (a body that does not parse wins
    /// over both); otherwise the service's own decoder reports it. Keeps the hot path to
    /// one parse of the body.
    WhenRejected,
    /// On every request, before the target and authentication are looked at; the
    /// service is called only with bodies that parse.
    Upfront,
}

/// Under which operation label `rheo_requests_total` counts a request the front door
/// turned away for its body, target or authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionLabel {
    /// `Unknown`, even when the operation is known.
    Unknown,
    /// The operation's name when it is known, else `Unknown`.
    Operation,
}

/// The order in which the front door's checks answer, where services differ. Whatever
/// the settings, a body that does not parse wins over an unknown operation, which wins
/// over missing or incomplete authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precedence {
    /// Whether the content type decides the format.
    pub content_type: ContentTypeCheck,
    /// How an empty body is answered.
    pub empty_body: EmptyBody,
    /// When a body that does not parse is found out.
    pub parse_check: ParseCheck,
    /// How rejected requests are counted.
    pub rejections_counted_as: RejectionLabel,
}

impl Precedence {
    /// AWS's order for its JSON and CBOR protocols (Kinesis reference §2.3), which is
    /// also how requests for no registered service are answered: empty body, content
    /// type, unparseable body, unknown operation, authentication.
    pub const AWS: Precedence = Precedence {
        content_type: ContentTypeCheck::Checked,
        empty_body: EmptyBody::OwnStep,
        parse_check: ParseCheck::WhenRejected,
        rejections_counted_as: RejectionLabel::Unknown,
    };
}

/// What a service answers to one call.
pub enum ServiceResponse {
    /// 200 with this body, in the request's format.
    Body(Bytes),
    /// 200 with an event stream (Kinesis SubscribeToShard).
    Events(EventBody),
    /// An AWS error, in the request's format.
    Error(WireError),
}

/// A page answered to a `GET`: not an API call, so no AWS error envelope.
pub struct Page {
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its body.
    pub body: Bytes,
    /// Whether it carries `x-amz-id-2` like API answers (`/health` does not).
    pub extended_request_id: bool,
}

/// One AWS service on Rheo's port.
///
/// The trait is object-safe (the router holds `Box<dyn Service>`), so a service is added
/// without touching the router, the front door or an enum of services: the price is one
/// allocation per call, for the boxed future of [`Service::call`]; the request body is
/// moved in, never copied.
///
/// # Adding a service
///
/// 1. Implement `Service` in `services/<name>.rs`: its target prefix(es), protocol,
///    signing name, [`Precedence`] (usually [`Precedence::AWS`]), how an operation name
///    resolves, and `call`, which decodes the body, runs the operation and encodes the
///    answer or a [`WireError`].
/// 2. Register it where the server is built: `server.with_service(MyService::new(…))?`
///    (or [`Router::register`]).
///
/// The unit test `a_json_1_0_service_plugs_in` in this file is a complete example.
pub trait Service: Send + Sync + 'static {
    /// The `X-Amz-Target` prefixes it answers: the part before the first `.`, such as
    /// `Kinesis_20131202`.
    fn target_prefixes(&self) -> &'static [&'static str];

    /// Its wire protocol.
    fn protocol(&self) -> Protocol;

    /// Its SigV4 signing name, the service in a request's credential scope (`kinesis`,
    /// `firehose`): under `--auth sigv4` a request whose scope names another service is
    /// refused.
    fn signing_name(&self) -> &'static str;

    /// How its checks are ordered.
    fn precedence(&self) -> Precedence {
        Precedence::AWS
    }

    /// The canonical name of the operation called `name` (the part of the target after
    /// the first `.`), or `None` when the service has no such operation.
    fn operation(&self, name: &str) -> Option<&'static str>;

    /// The front door's own errors for this service's requests (empty or unparseable
    /// body, unknown operation, authentication) as its clients expect them. The default
    /// sends them as Kinesis does (`{"__type":"SerializationException"}`); DynamoDB
    /// qualifies the type with the namespace of the layer that raised it.
    fn front_door_error(&self, error: WireError) -> WireError {
        error
    }

    /// Whether `body` parses at all in `format`, for answering `SerializationException`
    /// ahead of other errors. The default is the AWS JSON/CBOR protocols' test.
    fn body_parses(&self, format: WireFormat, body: &[u8]) -> bool {
        aws_body_parses(format, body)
    }

    /// Runs `operation` (a name [`Service::operation`] returned) on `body`, in
    /// `format`, for `caller`. Called only once the front door's checks passed,
    /// including the caller's signature; the service authorizes the operation on the
    /// resources it names.
    fn call<'a>(
        &'a self,
        state: &'a Arc<AppState>,
        format: WireFormat,
        operation: &'static str,
        body: Bytes,
        caller: &'a Caller,
    ) -> ServiceFuture<'a, ServiceResponse>;

    /// `GET` paths it serves besides the router's own.
    fn get_paths(&self) -> &'static [&'static str] {
        &[]
    }

    /// Answers a `GET` of one of its [`Service::get_paths`].
    fn get<'a>(&'a self, _state: &'a Arc<AppState>, _path: &'a str) -> ServiceFuture<'a, Option<Page>> {
        Box::pin(async { None })
    }

    /// Adds its own figures to `/metrics`: text of its own, and its storage logs.
    fn render_metrics(&self, _state: &AppState, _out: &mut MetricsOutput) {}
}

/// Whether `body` parses as an AWS JSON or CBOR document: what AWS checks before it
/// answers `SerializationException` ahead of an unknown operation or missing
/// authentication. `DescribeLimits` takes no members, so decoding it tests the document
/// alone.
pub fn aws_body_parses(format: WireFormat, body: &[u8]) -> bool {
    decode_request(Operation::DescribeLimits, format, body) != Err(DecodeError::Unparseable)
}

/// Why a service could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    /// Two services claim one target prefix.
    #[error("the X-Amz-Target prefix `{0}` is registered twice")]
    DuplicatePrefix(&'static str),
    /// A prefix that no target can have.
    #[error("`{0}` cannot be an X-Amz-Target prefix (empty, or containing `.`)")]
    InvalidPrefix(&'static str),
    /// Two services claim one `GET` path.
    #[error("the GET path `{0}` is served twice")]
    DuplicatePath(&'static str),
}

/// `GET` paths the router answers itself.
const HEALTH_PATHS: [&str; 2] = ["/health", "/_health"];
const METRICS_PATH: &str = "/metrics";
const HEALTH_BODY: &[u8] = b"{\"status\":\"ok\"}";
const HEALTH_CONTENT_TYPE: &str = "application/json";
const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// An `X-Amz-Target` header, split once at its first `.`.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The service part, which routes the request (the whole value when there is no `.`).
    pub prefix: &'a str,
    /// The operation part (empty when there is no `.`).
    pub operation: &'a str,
    /// Whether it has the form `Service.Operation`, both parts non-empty: AWS answers
    /// bodies in an unknown content type with 403 instead of 404 when it has not.
    pub well_formed: bool,
}

impl<'a> Target<'a> {
    /// Splits a header value (empty when the header is missing).
    pub fn parse(value: &'a str) -> Self {
        match value.split_once('.') {
            Some((prefix, operation)) => {
                Target { prefix, operation, well_formed: !prefix.is_empty() && !operation.is_empty() }
            }
            None => Target { prefix: value, operation: "", well_formed: false },
        }
    }
}

/// The registered services, looked up by target prefix and `GET` path.
#[derive(Default)]
pub struct Router {
    services: Vec<Box<dyn Service>>,
}

impl Router {
    /// A router with no services: every API request is answered as for an unknown target.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a service under its target prefixes and `GET` paths, which no other
    /// service may have.
    pub fn register<S: Service>(&mut self, service: S) -> Result<(), RouterError> {
        for &prefix in service.target_prefixes() {
            if prefix.is_empty() || prefix.contains('.') {
                return Err(RouterError::InvalidPrefix(prefix));
            }
            if self.service(prefix).is_some() {
                return Err(RouterError::DuplicatePrefix(prefix));
            }
        }
        for &path in service.get_paths() {
            if HEALTH_PATHS.contains(&path) || path == METRICS_PATH || self.get_service(path).is_some() {
                return Err(RouterError::DuplicatePath(path));
            }
        }
        self.services.push(Box::new(service));
        Ok(())
    }

    /// The service answering targets with this prefix.
    pub fn service(&self, prefix: &str) -> Option<&dyn Service> {
        // A handful of services: a scan of a few short strings beats hashing the prefix.
        self.services.iter().map(Box::as_ref).find(|service| service.target_prefixes().contains(&prefix))
    }

    fn get_service(&self, path: &str) -> Option<&dyn Service> {
        self.services.iter().map(Box::as_ref).find(|service| service.get_paths().contains(&path))
    }

    /// Answers a `GET` of `path`, or `None` when nothing is served there (the front door
    /// then answers as for any other method).
    pub async fn get(&self, state: &Arc<AppState>, path: &str) -> Option<Page> {
        if HEALTH_PATHS.contains(&path) {
            return Some(Page {
                content_type: HEALTH_CONTENT_TYPE,
                body: Bytes::from_static(HEALTH_BODY),
                extended_request_id: false,
            });
        }
        if path == METRICS_PATH {
            return Some(Page {
                content_type: METRICS_CONTENT_TYPE,
                body: Bytes::from(self.render_metrics(state)),
                extended_request_id: true,
            });
        }
        self.get_service(path)?.get(state, path).await
    }

    /// The Prometheus text: the server's counters, each service's own, then the figures
    /// of every service's storage logs.
    fn render_metrics(&self, state: &AppState) -> String {
        let mut out = MetricsOutput { text: state.metrics.render(), logs: Vec::new() };
        for service in &self.services {
            service.render_metrics(state, &mut out);
        }
        crate::metrics::render_logs(&mut out.text, &out.logs);
        out.text
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A made-up JSON 1.0 service, as DynamoDB will be: one operation that echoes its
    /// body, one that fails.
    struct Toy;

    impl Service for Toy {
        fn target_prefixes(&self) -> &'static [&'static str] {
            &["Toy_20120810"]
        }
        fn protocol(&self) -> Protocol {
            Protocol { json: JsonVersion::V1_0, cbor: false }
        }
        fn signing_name(&self) -> &'static str {
            "toy"
        }
        fn operation(&self, name: &str) -> Option<&'static str> {
            ["Echo", "Fail"].into_iter().find(|known| *known == name)
        }
        fn call<'a>(
            &'a self,
            _state: &'a Arc<AppState>,
            _format: WireFormat,
            operation: &'static str,
            body: Bytes,
            _caller: &'a Caller,
        ) -> ServiceFuture<'a, ServiceResponse> {
            Box::pin(async move {
                match operation {
                    "Echo" => ServiceResponse::Body(body),
                    _ => ServiceResponse::Error(rheo_protocol::ErrorType::ResourceNotFound.with_message("no such toy")),
                }
            })
        }
    }

    #[test]
    fn targets_split_at_the_first_dot() {
        let target = Target::parse("Kinesis_20131202.PutRecord");
        assert_eq!((target.prefix, target.operation, target.well_formed), ("Kinesis_20131202", "PutRecord", true));
        let target = Target::parse("Firehose_20150804.a.b");
        assert_eq!((target.prefix, target.operation, target.well_formed), ("Firehose_20150804", "a.b", true));
        assert!(!Target::parse("Kinesis_20131202.").well_formed);
        assert!(!Target::parse(".PutRecord").well_formed);
        let target = Target::parse("Kinesis_20131202");
        assert_eq!((target.prefix, target.operation, target.well_formed), ("Kinesis_20131202", "", false));
    }

    #[test]
    fn protocols_pick_their_content_types() {
        let toy = Toy.protocol();
        assert_eq!(toy.format_of("Application/X-Amz-Json-1.0; charset=utf-8"), Some(WireFormat::Json));
        assert_eq!(toy.format_of("application/x-amz-json-1.1"), None);
        assert_eq!(toy.format_of("application/x-amz-cbor-1.1"), None);
        assert_eq!(toy.content_type(WireFormat::Json), "application/x-amz-json-1.0");
        let kinesis = Protocol::JSON_1_1_AND_CBOR;
        assert_eq!(kinesis.format_of("application/x-amz-cbor-1.1"), Some(WireFormat::Cbor));
        assert_eq!(kinesis.format_of("application/json"), None);
        assert_eq!(kinesis.content_type(WireFormat::Cbor), "application/x-amz-cbor-1.1");
    }

    const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/toy/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123abcd";

    /// The front door over Kinesis and [`Toy`], on an in-memory engine.
    fn front_door() -> Arc<crate::front::FrontDoor> {
        let log_config = rheo_storage::LogConfig { durability: rheo_storage::Durability::Never, ..Default::default() };
        let engine = rheo_engine::Engine::open(
            Arc::new(rheo_storage::MemFs::default()),
            Arc::new(rheo_storage::SystemClock),
            "/rheo".as_ref(),
            log_config,
            rheo_engine::EngineConfig::default(),
        )
        .unwrap();
        let state = AppState {
            engine: Arc::new(engine),
            channels: None,
            metrics: crate::metrics::Metrics::default(),
            subscriptions: crate::subscribe::SubscriptionConfig::default(),
            shutdown: tokio::sync::watch::Sender::new(false),
            limits: crate::conn::ConnectionLimits::default(),
            authorizer: Default::default(),
        };
        let mut router = Router::new();
        router.register(crate::services::KinesisService).unwrap();
        router.register(Toy).unwrap();
        Arc::new(crate::front::FrontDoor { state: Arc::new(state), router, auth: Default::default() })
    }

    /// Posts `body` with these headers; answers status, content type and body.
    async fn post(
        front: &Arc<crate::front::FrontDoor>,
        headers: &[(&str, &str)],
        body: &'static str,
    ) -> (u16, String, String) {
        use http_body_util::BodyExt as _;
        let mut request = http::Request::post("/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(http_body_util::Full::new(Bytes::from_static(body.as_bytes()))).unwrap();
        let response = crate::front::handle(front.clone(), request).await.unwrap();
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, content_type, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_json_1_0_service_plugs_in() {
        let front = front_door();
        let json_1_0 = ("content-type", "application/x-amz-json-1.0");
        let auth = [("authorization", AUTHORIZATION), ("x-amz-date", "20240101T000000Z")];
        let with = |target: &'static str, authenticated: bool| {
            let mut headers = vec![json_1_0, ("x-amz-target", target)];
            if authenticated {
                headers.extend(auth);
            }
            headers
        };

        // Routed by prefix; the answer carries the service's content type.
        let answer = post(&front, &with("Toy_20120810.Echo", true), r#"{"a":1}"#).await;
        assert_eq!(answer, (200, "application/x-amz-json-1.0".into(), r#"{"a":1}"#.into()));
        let failed = post(&front, &with("Toy_20120810.Fail", true), "{}").await;
        assert_eq!(failed.0, 400);
        assert_eq!(failed.1, "application/x-amz-json-1.0");
        assert!(failed.2.contains("ResourceNotFoundException"), "{}", failed.2);

        // An unknown operation of the service, in its content type; it wins over
        // missing authentication, and a body that does not parse wins over both.
        let unknown = post(&front, &with("Toy_20120810.Nope", false), "{}").await;
        assert_eq!(unknown.0, 400);
        assert_eq!(unknown.1, "application/x-amz-json-1.0");
        assert!(unknown.2.contains("UnknownOperationException"), "{}", unknown.2);
        let unparseable = post(&front, &with("Toy_20120810.Nope", false), "{").await;
        assert_eq!((unparseable.0, unparseable.1.as_str()), (400, "application/x-amz-json-1.0"));
        assert!(unparseable.2.contains("SerializationException"), "{}", unparseable.2);

        // A known operation without authentication.
        let missing = post(&front, &with("Toy_20120810.Echo", false), "{}").await;
        assert_eq!((missing.0, missing.1.as_str()), (400, "application/x-amz-json-1.0"));
        assert!(missing.2.contains("MissingAuthenticationTokenException"), "{}", missing.2);

        // An empty body: the service speaks no CBOR, so the answer is its JSON.
        let empty = post(&front, &[("x-amz-target", "Toy_20120810.Echo")], "").await;
        assert_eq!((empty.0, empty.1.as_str()), (400, "application/x-amz-json-1.0"));
        assert!(empty.2.contains("SerializationException"), "{}", empty.2);

        // Kinesis's content type is not the toy's: AWS's answer to an unknown content type.
        let kinesis_type = post(
            &front,
            &[("content-type", "application/x-amz-json-1.1"), ("x-amz-target", "Toy_20120810.Echo")],
            "{}",
        )
        .await;
        assert_eq!(kinesis_type, (404, String::new(), "<UnknownOperationException/>\n".into()));

        // Kinesis is still served beside it, in its own content type.
        let mut list =
            vec![("content-type", "application/x-amz-json-1.1"), ("x-amz-target", "Kinesis_20131202.ListStreams")];
        list.extend(auth);
        let streams = post(&front, &list, "{}").await;
        assert_eq!((streams.0, streams.1.as_str()), (200, "application/x-amz-json-1.1"));

        let metrics = front.router.render_metrics(&front.state);
        assert!(metrics.contains("rheo_requests_total{operation=\"Echo\",outcome=\"ok\"} 1\n"), "{metrics}");
        assert!(metrics.contains("rheo_requests_total{operation=\"Fail\",outcome=\"ResourceNotFoundException\"} 1\n"));
        assert!(metrics.contains("rheo_log_commits_total{log=\"streams\"}"));
    }

    #[test]
    fn prefixes_and_paths_are_registered_once() {
        let mut router = Router::new();
        router.register(Toy).unwrap();
        assert!(matches!(router.register(Toy), Err(RouterError::DuplicatePrefix("Toy_20120810"))));
        assert!(router.service("Toy_20120810").is_some());
        assert!(router.service("Toy_20120811").is_none());
    }
}
