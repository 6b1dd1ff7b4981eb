//! Slow and idle clients against the server in-process (127.0.0.1:0, in-memory storage),
//! with short timeouts: half-sent requests beyond the connection limit, a head sent a
//! byte at a time, a chunked body that never ends, idle keep-alive connections on
//! HTTP/1.1 and HTTP/2, and a SubscribeToShard subscription that outlives the idle timeout.
//!
//! Time bounds here are generous ceilings that only a missing timeout would exceed; they
//! measure no performance.

// Test helpers outside `#[test]` functions are test code too.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rheo_aws::event_stream::Decoder;
use rheo_engine::{CreateStream, EngineConfig, RegisterConsumer, StreamRef};
use rheo_server::{ConnectionLimits, SubscriptionConfig};
use rheo_storage::SystemClock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::{bind, memory_engine, TestServer, AUTHORIZATION, JSON};

/// A ceiling no test should come near unless a timeout is missing.
const CEILING: Duration = Duration::from_secs(15);

impl TestServer {
    async fn start(limits: ConnectionLimits, subscriptions: SubscriptionConfig) -> Self {
        let config = EngineConfig { create_stream_ms: 0, consumer_ms: 0, ..Default::default() };
        let engine = memory_engine(config, Arc::new(SystemClock));
        let server = bind(&engine).await.with_subscriptions(subscriptions).with_limits(limits);
        TestServer::spawn(server, engine)
    }

    fn client(&self) -> Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>> {
        Client::builder(TokioExecutor::new()).build_http()
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let request = Request::get(format!("http://{}{path}", self.address)).body(Full::default()).unwrap();
        let response = tokio::time::timeout(CEILING, self.client().request(request)).await.unwrap().unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn api(&self, operation: &str, body: &str) -> Request<Full<Bytes>> {
        Request::builder()
            .method(Method::POST)
            .uri(format!("http://{}/", self.address))
            .header("X-Amz-Target", format!("Kinesis_20131202.{operation}"))
            .header("Content-Type", JSON)
            .header("Authorization", AUTHORIZATION)
            .header("X-Amz-Date", "20240101T000000Z")
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap()
    }

    /// The value of a `/metrics` line starting with `prefix`.
    async fn metric(&self, prefix: &str) -> u64 {
        let (_, text) = self.get("/metrics").await;
        text.lines()
            .find(|line| line.starts_with(prefix))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no metric {prefix} in\n{text}"))
    }

    async fn timeouts(&self, kind: &str) -> u64 {
        self.metric(&format!("rheo_connections_timed_out_total{{timeout=\"{kind}\"}}")).await
    }
}

fn limits(header_ms: u64, idle_ms: u64, body_ms: u64, max_connections: u32) -> ConnectionLimits {
    ConnectionLimits {
        header_read_timeout: Duration::from_millis(header_ms),
        idle_timeout: Duration::from_millis(idle_ms),
        body_read_timeout: Duration::from_millis(body_ms),
        max_connections,
        ..ConnectionLimits::default()
    }
}

/// Reads until the server closes the connection (EOF or reset); returns what was read.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(CEILING, stream.read(&mut buf)).await.expect("the server closes the connection") {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

const HALF_SENT: &[u8] = b"POST / HTTP/1.1\r\nHost: rheo\r\nContent-Type: application/x-amz-json-1.1\r\n";

#[tokio::test]
async fn half_sent_requests_beyond_the_limit_give_their_slots_to_new_clients() {
    const LIMIT: u32 = 4;
    const HEADER_MS: u64 = 600;
    let server = TestServer::start(limits(HEADER_MS, 30_000, 30_000, LIMIT), SubscriptionConfig::default()).await;
    // Twice the limit: each connection beyond the limit takes the slot of the oldest
    // half-sent one.
    let mut stuck = Vec::new();
    for _ in 0..LIMIT * 2 {
        let mut stream = TcpStream::connect(server.address).await.unwrap();
        stream.write_all(HALF_SENT).await.unwrap();
        stuck.push(stream);
    }
    // Every slot is taken by a half-sent request; /health and an API call are served all
    // the same, in slots of half-sent requests.
    let (status, body) = server.get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, r#"{"status":"ok"}"#);
    let response =
        tokio::time::timeout(CEILING, server.client().request(server.api("ListStreams", "{}"))).await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Every half-sent request was cut off (to make room, or by the header timeout), none
    // answered.
    for stream in &mut stuck {
        let answer = read_to_close(stream).await;
        assert!(answer.is_empty(), "a half-sent request got an answer: {}", String::from_utf8_lossy(&answer));
    }
    let evicted = server.metric("rheo_connections_evicted_total").await;
    assert!(evicted >= u64::from(LIMIT), "{evicted} evicted");
    assert!(evicted + server.timeouts("header_read").await >= u64::from(LIMIT * 2));
    assert!(server.metric("rheo_connection_limit_reached_total").await >= 1);
    server.stop().await;
}

#[tokio::test]
async fn a_head_sent_a_byte_at_a_time_is_cut_off_after_the_header_timeout() {
    let server = TestServer::start(limits(500, 30_000, 30_000, 64), SubscriptionConfig::default()).await;
    let stream = TcpStream::connect(server.address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let request = b"GET /health HTTP/1.1\r\nHost: rheo\r\nUser-Agent: one-byte-at-a-time\r\n\r\n";
    let trickle = tokio::spawn(async move {
        for byte in request {
            if writer.write_all(&[*byte]).await.is_err() {
                return false; // cut off
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        true
    });
    let mut answer = Vec::new();
    // EOF or a reset: either way closed.
    let _ = tokio::time::timeout(CEILING, reader.read_to_end(&mut answer)).await.expect("the server closes it");
    assert!(answer.is_empty(), "the trickled request got an answer: {}", String::from_utf8_lossy(&answer));
    assert!(!trickle.await.unwrap(), "the whole head got through; the connection should have been closed");
    assert_eq!(server.timeouts("header_read").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_chunked_body_that_never_ends_is_answered_408_after_the_body_timeout() {
    let server = TestServer::start(limits(5_000, 30_000, 500, 64), SubscriptionConfig::default()).await;
    let stream = TcpStream::connect(server.address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: rheo\r\nContent-Type: {JSON}\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n\
         Authorization: {AUTHORIZATION}\r\nX-Amz-Date: 20240101T000000Z\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    // A chunk every 50 ms, bounded so the test ends even if the server never cuts it.
    let feeder = tokio::spawn(async move {
        for _ in 0..300 {
            if writer.write_all(b"1\r\n \r\n").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(CEILING, reader.read_to_end(&mut answer)).await.expect("the server closes it");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains("RequestTimeoutException"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    feeder.abort();
    assert_eq!(server.timeouts("body_read").await, 1);
    server.stop().await;
}

/// A request body: empty, or one byte and then never an end.
enum TestBody {
    Empty,
    Endless { sent: bool },
}

impl hyper::body::Body for TestBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        match &mut *self {
            TestBody::Empty => std::task::Poll::Ready(None),
            TestBody::Endless { sent: true } => std::task::Poll::Pending,
            TestBody::Endless { sent } => {
                *sent = true;
                std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from_static(b"{")))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, TestBody::Empty)
    }
}

#[tokio::test]
async fn an_http2_body_that_never_ends_is_answered_408_and_the_connection_keeps_serving() {
    let server = TestServer::start(limits(5_000, 30_000, 500, 64), SubscriptionConfig::default()).await;
    let tcp = TcpStream::connect(server.address).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(connection);
    let request = Request::post(format!("http://{}/", server.address))
        .header("X-Amz-Target", "Kinesis_20131202.ListStreams")
        .header("Content-Type", JSON)
        .body(TestBody::Endless { sent: false })
        .unwrap();
    let response = tokio::time::timeout(CEILING, sender.send_request(request)).await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    // Only the stream was cut: the same connection answers the next request.
    sender.ready().await.unwrap();
    let request = Request::get(format!("http://{}/health", server.address)).body(TestBody::Empty).unwrap();
    let response = tokio::time::timeout(CEILING, sender.send_request(request)).await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(server.timeouts("body_read").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    const IDLE_MS: u64 = 600;
    let server = TestServer::start(limits(5_000, IDLE_MS, 5_000, 64), SubscriptionConfig::default()).await;

    // HTTP/1.1: one request, then nothing.
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: rheo\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
    let started = Instant::now();
    let rest = read_to_close(&mut stream).await;
    assert!(rest.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(IDLE_MS / 2), "closed before the idle timeout");

    // HTTP/2 (prior knowledge): one request, then nothing; the client's connection task
    // ends when the server sends GOAWAY and closes.
    let tcp = TcpStream::connect(server.address).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await.unwrap();
    let driver = tokio::spawn(connection);
    let request = Request::get(format!("http://{}/health", server.address)).body(Full::<Bytes>::default()).unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let _ = response.into_body().collect().await.unwrap();
    let _ = tokio::time::timeout(CEILING, driver).await.expect("the server closes the idle HTTP/2 connection");

    assert_eq!(server.timeouts("idle").await, 2);
    assert_eq!(server.timeouts("header_read").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_subscription_longer_than_the_idle_timeout_is_not_cut() {
    const IDLE_MS: u64 = 300;
    const LIFETIME_MS: u64 = 1_500;
    let subscriptions = SubscriptionConfig { lifetime_ms: LIFETIME_MS, heartbeat_ms: 100 };
    let server = TestServer::start(limits(IDLE_MS, IDLE_MS, IDLE_MS, 64), subscriptions).await;
    server
        .engine
        .create_stream(CreateStream { name: "s".into(), shard_count: Some(1), ..Default::default() })
        .await
        .unwrap();
    let arn = server.engine.describe_stream_summary(&StreamRef::name("s")).unwrap().arn.into_string();
    let consumer = server
        .engine
        .register_consumer(RegisterConsumer {
            stream_arn: arn.clone(),
            consumer_name: "app".into(),
            tags: Default::default(),
        })
        .await
        .unwrap()
        .arn
        .into_string();

    for http2 in [false, true] {
        let mut builder = Client::builder(TokioExecutor::new());
        builder.http2_only(http2);
        let client: Client<_, Full<Bytes>> = builder.build_http();
        let body = serde_json::json!({
            "ConsumerARN": consumer,
            "ShardId": "shardId-000000000000",
            "StartingPosition": {"Type": "LATEST"},
        });
        let started = Instant::now();
        let request = server.api("SubscribeToShard", &body.to_string());
        let response = client.request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        // The client sends nothing while it reads; the stream must run its whole lifetime
        // and end cleanly (a cut connection fails the body).
        let bytes = tokio::time::timeout(CEILING, response.into_body().collect())
            .await
            .expect("the subscription ends after its lifetime")
            .expect("the subscription was not cut")
            .to_bytes();
        assert!(started.elapsed() >= Duration::from_millis(LIFETIME_MS), "ended before its lifetime");
        let mut decoder = Decoder::default();
        decoder.push(&bytes);
        let mut messages = 0;
        while decoder.next_message().unwrap().is_some() {
            messages += 1;
        }
        assert!(messages >= 5, "http2={http2}: {messages} messages; heartbeats every 100 ms were expected");
    }
    assert_eq!(server.timeouts("stalled").await, 0);
    assert_eq!(server.timeouts("body_read").await, 0);
    server.stop().await;
}
