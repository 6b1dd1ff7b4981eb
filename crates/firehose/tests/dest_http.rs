#![allow(clippy::unwrap_used)]
//! The HTTP endpoint delivery protocol against a real HTTP server in the test: request
//! shape and headers, retries with one request id, 413, redirects, invalid answers, gzip.

use std::collections::VecDeque;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rheo_firehose::dest::{HttpClient, HttpDelivery, HttpEndpoint};

/// What the server answers to one request.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Status(u16),
    /// 200 echoing the request's id, as a conforming endpoint does.
    Echo,
    /// 200 with some other request id.
    WrongId,
    /// 302 back to the same URL.
    Redirect,
}

/// One request as the server saw it, body already gunzipped.
struct Seen {
    headers: hyper::HeaderMap,
    body: serde_json::Value,
}

struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Serves `script` in order; once it runs out, repeats `then`.
    async fn start(script: Vec<Answer>, then: Answer) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let state = Arc::clone(&seen);
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let seen = Arc::clone(&state);
                let script = Arc::clone(&script);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let seen = Arc::clone(&seen);
                        let answer = script.lock().unwrap().pop_front().unwrap_or(then);
                        async move { Ok::<_, std::convert::Infallible>(handle(req, answer, &seen, addr).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Server { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}/ingest", self.addr)
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Vec<Seen>> {
        self.seen.lock().unwrap()
    }
}

async fn handle(
    req: Request<Incoming>,
    answer: Answer,
    seen: &Mutex<Vec<Seen>>,
    addr: SocketAddr,
) -> Response<Full<Bytes>> {
    let headers = req.headers().clone();
    let raw = req.into_body().collect().await.unwrap().to_bytes();
    let raw = if headers.get("content-encoding").is_some_and(|v| v == "gzip") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
        out
    } else {
        raw.to_vec()
    };
    let body: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    let id = body["requestId"].as_str().unwrap().to_owned();
    seen.lock().unwrap().push(Seen { headers, body });
    let json = |status: u16, value: serde_json::Value| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(value.to_string())))
            .unwrap()
    };
    match answer {
        Answer::Echo => json(200, serde_json::json!({"requestId": id, "timestamp": now_ms()})),
        Answer::WrongId => json(200, serde_json::json!({"requestId": "someone-else", "timestamp": now_ms()})),
        Answer::Status(status) => {
            json(status, serde_json::json!({"requestId": id, "timestamp": now_ms(), "errorMessage": "boom"}))
        }
        Answer::Redirect => Response::builder()
            .status(302)
            .header("location", format!("http://{addr}/ingest"))
            .body(Full::new(Bytes::new()))
            .unwrap(),
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn endpoint(url: String) -> HttpEndpoint {
    HttpEndpoint {
        url,
        name: Some("test".into()),
        access_key: Some("secret-key".into()),
        common_attributes: vec![("env".into(), "test".into()), ("team".into(), "rheo".into())],
        gzip: false,
        retry_duration: Duration::from_secs(60),
        source_arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/s1".into(),
    }
}

fn client() -> HttpClient {
    HttpClient::new().unwrap().with_initial_backoff(Duration::from_millis(10))
}

fn records() -> Vec<Bytes> {
    vec![Bytes::from_static(b"hello"), Bytes::from_static(b"hello world"), Bytes::new()]
}

fn decoded_records(body: &serde_json::Value) -> Vec<Vec<u8>> {
    let engine = base64::engine::general_purpose::STANDARD;
    body["records"].as_array().unwrap().iter().map(|r| engine.decode(r["data"].as_str().unwrap()).unwrap()).collect()
}

#[tokio::test]
async fn retries_failures_with_one_request_id_then_delivers() {
    let server = Server::start(vec![Answer::Status(500), Answer::Status(503)], Answer::Echo).await;
    let before = now_ms();
    let outcome = client().deliver(&endpoint(server.url()), &records(), None).await;
    assert_eq!(outcome, HttpDelivery::Delivered { attempts: 3 });

    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    let id = seen[0].headers["x-amz-firehose-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    for request in seen.iter() {
        let h = &request.headers;
        assert_eq!(h["x-amz-firehose-request-id"], id.as_str());
        assert_eq!(request.body["requestId"], id.as_str());
        assert_eq!(h["x-amz-firehose-protocol-version"], "1.0");
        assert_eq!(h["x-amz-firehose-source-arn"], "arn:aws:firehose:us-east-1:123456789012:deliverystream/s1");
        assert_eq!(h["x-amz-firehose-access-key"], "secret-key");
        let attributes: serde_json::Value =
            serde_json::from_str(h["x-amz-firehose-common-attributes"].to_str().unwrap()).unwrap();
        assert_eq!(attributes, serde_json::json!({"commonAttributes": {"env": "test", "team": "rheo"}}));
        assert_eq!(h["content-type"], "application/json");
        assert!(h.get("content-encoding").is_none());
        // Milliseconds, not seconds.
        let timestamp = request.body["timestamp"].as_u64().unwrap();
        assert!(timestamp >= before && timestamp <= now_ms(), "{timestamp}");
        assert_eq!(decoded_records(&request.body), vec![b"hello".to_vec(), b"hello world".to_vec(), Vec::new()]);
    }
}

#[tokio::test]
async fn payload_too_large_is_permanent() {
    let server = Server::start(vec![Answer::Status(413)], Answer::Echo).await;
    let outcome = client().deliver(&endpoint(server.url()), &records(), None).await;
    match outcome {
        HttpDelivery::PayloadTooLarge { attempts: 1, detail } => assert!(detail.contains("413"), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn wrong_request_id_is_retried_then_given_up() {
    let server = Server::start(vec![], Answer::WrongId).await;
    let mut endpoint = endpoint(server.url());
    endpoint.retry_duration = Duration::from_millis(60);
    let outcome = client().deliver(&endpoint, &records(), None).await;
    let HttpDelivery::GaveUp { attempts, error_code, error_message } = outcome else { panic!("{outcome:?}") };
    assert!(attempts >= 3, "10 ms, 20 ms, then the rest of 60 ms: {attempts}");
    assert_eq!(error_code, "HttpEndpoint.InvalidResponseFromDestination");
    assert!(error_message.contains("someone-else"), "{error_message}");
    let seen = server.seen();
    assert_eq!(seen.len() as u32, attempts);
    assert!(seen
        .iter()
        .all(|s| s.headers["x-amz-firehose-request-id"] == seen[0].headers["x-amz-firehose-request-id"]));
}

#[tokio::test]
async fn zero_retry_duration_means_one_attempt() {
    let server = Server::start(vec![], Answer::Status(500)).await;
    let mut endpoint = endpoint(server.url());
    endpoint.retry_duration = Duration::ZERO;
    let outcome = client().deliver(&endpoint, &records(), None).await;
    let HttpDelivery::GaveUp { attempts, error_code, error_message } = outcome else { panic!("{outcome:?}") };
    assert_eq!(attempts, 1);
    assert_eq!(error_code, "HttpEndpoint.DestinationException");
    assert!(
        error_message.starts_with("Received the following response from the endpoint destination. 500 {"),
        "{error_message}"
    );
    assert!(error_message.contains("boom"), "{error_message}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = Server::start(vec![Answer::Redirect], Answer::Echo).await;
    let outcome = client().deliver(&endpoint(server.url()), &records(), None).await;
    // Following the 302 would have succeeded within the first attempt.
    assert_eq!(outcome, HttpDelivery::Delivered { attempts: 2 });
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn connection_failure_is_retried_and_reported() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut endpoint = endpoint(format!("http://127.0.0.1:{port}/"));
    endpoint.retry_duration = Duration::from_millis(30);
    let outcome = client().deliver(&endpoint, &records(), None).await;
    let HttpDelivery::GaveUp { attempts, error_code, .. } = outcome else { panic!("{outcome:?}") };
    assert!(attempts >= 2, "{attempts}");
    assert_eq!(error_code, "HttpEndpoint.ConnectionFailed");
}

#[tokio::test]
async fn gzip_body_decodes() {
    let server = Server::start(vec![], Answer::Echo).await;
    let mut endpoint = endpoint(server.url());
    endpoint.gzip = true;
    endpoint.access_key = None;
    endpoint.common_attributes.clear();
    let outcome = client().deliver(&endpoint, &records(), None).await;
    assert_eq!(outcome, HttpDelivery::Delivered { attempts: 1 });
    let seen = server.seen();
    assert_eq!(seen[0].headers["content-encoding"], "gzip");
    assert!(seen[0].headers.get("x-amz-firehose-access-key").is_none());
    assert!(seen[0].headers.get("x-amz-firehose-common-attributes").is_none());
    assert_eq!(decoded_records(&seen[0].body), vec![b"hello".to_vec(), b"hello world".to_vec(), Vec::new()]);
}

#[tokio::test]
async fn request_timestamp_comes_from_the_clock_it_is_given() {
    let server = Server::start(vec![Answer::Status(500)], Answer::Echo).await;
    let clock = rheo_storage::ManualClock::new(1_709_618_828_000);
    let client = client().with_clock(Arc::new(clock.clone()));
    let outcome = client.deliver(&endpoint(server.url()), &records(), None).await;
    assert_eq!(outcome, HttpDelivery::Delivered { attempts: 2 });
    let seen = server.seen();
    // Each attempt stamps its own request body with the clock's time.
    let stamps: Vec<u64> = seen.iter().map(|r| r.body["timestamp"].as_u64().unwrap()).collect();
    assert_eq!(stamps, [1_709_618_828_000, 1_709_618_828_000]);
}

#[tokio::test]
async fn stop_ends_retries_promptly() {
    let server = Server::start(vec![], Answer::Status(500)).await;
    let (stopper, mut stop) = tokio::sync::watch::channel(false);
    let stopping = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stopper.send_replace(true);
        stopper
    });
    let started = std::time::Instant::now();
    let outcome = client().deliver(&endpoint(server.url()), &records(), Some(&mut stop)).await;
    assert_eq!(outcome, HttpDelivery::Stopped);
    // The retry duration is a minute; the stop cuts it short.
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(!server.seen().is_empty());
    drop(stopping.await.unwrap());
}
