//! SubscribeToShard against the server in-process (127.0.0.1:0, in-memory storage), over
//! HTTP/1.1 (chunked) and HTTP/2 (prior knowledge), with the frames decoded by
//! `rheo_aws::event_stream::Decoder`, the decoder clients use.
//!
//! Expectations are AWS's (kinesis-api.md §4): an `initial-response` first, then
//! `SubscribeToShardEvent`s; errors before streaming are ordinary responses; the end of a
//! closed shard carries `ChildShards`; the takeover rule; exceptions as frames.

// Test helpers outside `#[test]` functions are test code too.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rheo_aws::event_stream::Decoder;
use rheo_engine::{
    CreateStream, DeleteStream, EngineConfig, PutEntry, PutRecords, RegisterConsumer, SplitShard, StreamRef,
};
use rheo_server::SubscriptionConfig;
use rheo_storage::{Clock, ManualClock, SequenceNumber, SystemClock};
use serde_json::{json, Value};

use common::{bind, instant_lifecycle, memory_engine, TestServer, AUTHORIZATION, CBOR, JSON};

const WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Http {
    One,
    Two,
}

struct Options {
    config: EngineConfig,
    subscriptions: SubscriptionConfig,
    clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config: instant_lifecycle(),
            subscriptions: SubscriptionConfig { lifetime_ms: 60_000, heartbeat_ms: 60_000 },
            clock: Arc::new(SystemClock),
        }
    }
}

impl TestServer {
    async fn start(options: Options) -> Self {
        let engine = memory_engine(options.config, options.clock);
        let server = bind(&engine).await.with_subscriptions(options.subscriptions);
        TestServer::spawn(server, engine)
    }

    /// A stream with `shards` shards and an ACTIVE consumer; returns the consumer ARN.
    async fn stream_with_consumer(&self, name: &str, shards: u32) -> String {
        self.engine
            .create_stream(CreateStream { name: name.into(), shard_count: Some(shards), ..Default::default() })
            .await
            .unwrap();
        let arn = self.engine.describe_stream_summary(&StreamRef::name(name)).unwrap().arn.into_string();
        self.engine
            .register_consumer(RegisterConsumer {
                stream_arn: arn.clone(),
                consumer_name: "app".into(),
                tags: Default::default(),
            })
            .await
            .unwrap()
            .arn
            .into_string()
    }

    async fn put(&self, stream: &str, data: &[&str]) -> Vec<String> {
        let entries = data
            .iter()
            .map(|d| PutEntry {
                partition_key: Some("k".into()),
                explicit_hash_key: None,
                data: Bytes::from(d.to_string()),
            })
            .collect();
        let result =
            self.engine.put_records(PutRecords { stream: StreamRef::name(stream), records: entries }).await.unwrap();
        result
            .records
            .into_iter()
            .map(|r| match r {
                rheo_engine::PutOutcome::Stored(p) => p.sequence_number.to_string(),
                other => panic!("put failed: {other:?}"),
            })
            .collect()
    }

    fn client(&self, http: Http) -> Client<HttpConnector, Full<Bytes>> {
        let mut builder = Client::builder(TokioExecutor::new());
        if http == Http::Two {
            builder.http2_only(true);
        }
        builder.build_http()
    }

    async fn metrics(&self) -> String {
        let request = Request::get(format!("http://{}/metrics", self.address)).body(Full::default()).unwrap();
        let response = self.client(Http::One).request(request).await.unwrap();
        String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    fn request(&self, content_type: &str, body: Vec<u8>) -> Request<Full<Bytes>> {
        Request::builder()
            .method(Method::POST)
            .uri(format!("http://{}/", self.address))
            .header("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
            .header("Content-Type", content_type)
            .header("Authorization", AUTHORIZATION)
            .header("X-Amz-Date", "20240101T000000Z")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    }

    /// Calls SubscribeToShard with a JSON body.
    async fn subscribe(&self, http: Http, body: Value) -> Subscribed {
        let request = self.request(JSON, serde_json::to_vec(&body).unwrap());
        Subscribed::from(self.client(http).request(request).await.unwrap()).await
    }
}

/// The `ContinuationSequenceNumber` after the record `record` (issue 14, item 11): the
/// same shard fields and LSN with the largest arrival field, which no record has.
fn resume_point_after(record: &str) -> String {
    let seq = SequenceNumber::parse(record).unwrap();
    SequenceNumber::resume_after(seq.shard_created_secs, seq.shard_index, seq.lsn).to_string()
}

fn start(consumer: &str, shard: &str, position: Value) -> Value {
    json!({"ConsumerARN": consumer, "ShardId": shard, "StartingPosition": position})
}

/// What a SubscribeToShard call answered.
enum Subscribed {
    Stream(Events),
    Error { status: StatusCode, body: Value },
}

impl Subscribed {
    async fn from(response: http::Response<Incoming>) -> Self {
        let status = response.status();
        if status != StatusCode::OK {
            let body = response.into_body().collect().await.unwrap().to_bytes();
            return Subscribed::Error { status, body: serde_json::from_slice(&body).unwrap_or(Value::Null) };
        }
        assert_eq!(
            response.headers().get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/vnd.amazon.eventstream")
        );
        assert!(response.headers().get("content-length").is_none(), "an event stream has no length");
        Subscribed::Stream(Events { body: response.into_body(), decoder: Decoder::default() })
    }

    fn events(self) -> Events {
        match self {
            Subscribed::Stream(events) => events,
            Subscribed::Error { status, body } => panic!("SubscribeToShard failed: {status} {body}"),
        }
    }

    fn error(self) -> (StatusCode, String, String) {
        match self {
            Subscribed::Stream(_) => panic!("SubscribeToShard succeeded; an error was expected"),
            Subscribed::Error { status, body } => (
                status,
                body["__type"].as_str().unwrap_or_default().to_owned(),
                body["message"].as_str().unwrap_or_default().to_owned(),
            ),
        }
    }
}

/// One decoded message.
#[derive(Debug)]
enum Message {
    Event { event_type: String, content_type: String, payload: Bytes },
    Exception { exception_type: String, payload: Value },
}

impl Message {
    fn json(&self) -> Value {
        match self {
            Message::Event { payload, .. } => serde_json::from_slice(payload).unwrap(),
            Message::Exception { payload, .. } => payload.clone(),
        }
    }

    fn is_event(&self) -> bool {
        matches!(self, Message::Event { event_type, .. } if event_type == "SubscribeToShardEvent")
    }
}

struct Events {
    body: Incoming,
    decoder: Decoder,
}

impl Events {
    /// The next message; `None` once the stream has ended.
    async fn next(&mut self) -> Option<Message> {
        loop {
            if let Some(message) = self.decoder.next_message().unwrap() {
                let get = |name: &str| message.header(name).unwrap_or_default().to_owned();
                return Some(match get(":message-type").as_str() {
                    "event" => Message::Event {
                        event_type: get(":event-type"),
                        content_type: get(":content-type"),
                        payload: message.payload().clone(),
                    },
                    "exception" => Message::Exception {
                        exception_type: get(":exception-type"),
                        payload: serde_json::from_slice(message.payload()).unwrap(),
                    },
                    other => panic!("unexpected message type {other:?}"),
                });
            }
            let frame = tokio::time::timeout(WAIT, self.body.frame()).await.expect("a message within 10 s");
            match frame {
                Some(frame) => {
                    if let Ok(data) = frame.unwrap().into_data() {
                        self.decoder.push(&data);
                    }
                }
                None => {
                    assert_eq!(self.decoder.buffered(), 0, "the stream ended inside a message");
                    return None;
                }
            }
        }
    }

    async fn initial(&mut self) {
        match self.next().await {
            Some(Message::Event { event_type, content_type, payload }) => {
                assert_eq!(event_type, "initial-response");
                assert_eq!(content_type, "application/json");
                assert_eq!(&payload[..], b"{}");
            }
            other => panic!("expected the initial response, got {other:?}"),
        }
    }

    /// Events until `count` records arrived; returns them (data, sequence number) and the
    /// last event.
    async fn records(&mut self, count: usize) -> (Vec<(String, String)>, Value) {
        let mut records = Vec::new();
        loop {
            let message = self.next().await.expect("the stream ended early");
            assert!(message.is_event(), "{message:?}");
            let event = message.json();
            for record in event["Records"].as_array().unwrap() {
                let data = base64_decode(record["Data"].as_str().unwrap());
                records.push((data, record["SequenceNumber"].as_str().unwrap().to_owned()));
            }
            if records.len() >= count {
                assert_eq!(records.len(), count, "more records than put");
                return (records, event);
            }
        }
    }
}

fn base64_decode(text: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(text).unwrap()).unwrap()
}

fn data(records: &[(String, String)]) -> Vec<&str> {
    records.iter().map(|(d, _)| d.as_str()).collect()
}

#[tokio::test]
async fn records_are_pushed_in_order_over_http1_and_http2() {
    let server = TestServer::start(Options::default()).await;
    for (http, stream) in [(Http::One, "h1"), (Http::Two, "h2")] {
        let consumer = server.stream_with_consumer(stream, 1).await;
        let written = server.put(stream, &["a", "b", "c"]).await;
        let mut events = server
            .subscribe(http, start(&consumer, "shardId-000000000000", json!({"Type": "TRIM_HORIZON"})))
            .await
            .events();
        events.initial().await;
        let (records, last) = events.records(3).await;
        assert_eq!(data(&records), ["a", "b", "c"]);
        assert_eq!(records.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(), written);
        assert_eq!(last["ContinuationSequenceNumber"], resume_point_after(&written[2]));
        assert_eq!(last["MillisBehindLatest"], 0);
        assert!(last.get("ChildShards").is_none());
        // Issue 14, item 1: no `EncryptionType` on the records of an unencrypted stream.
        let mut names: Vec<&String> = last["Records"][0].as_object().unwrap().keys().collect();
        names.sort();
        assert_eq!(names, ["ApproximateArrivalTimestamp", "Data", "PartitionKey", "SequenceNumber"]);

        // Records written while subscribed are pushed at once, without polling.
        let started = Instant::now();
        let more = server.put(stream, &["d", "e"]).await;
        let (records, last) = events.records(2).await;
        assert_eq!(data(&records), ["d", "e"]);
        assert_eq!(last["ContinuationSequenceNumber"], resume_point_after(&more[1]));
        assert!(started.elapsed() < Duration::from_secs(1), "{:?} ({http:?})", started.elapsed());
    }
    let deadline = Instant::now() + WAIT;
    while server.engine.open_subscriptions() > 0 {
        assert!(Instant::now() < deadline, "the subscriptions did not end when their clients left");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let metrics = server.metrics().await;
    // Both clients left (their bodies were dropped), which ended the subscriptions.
    assert!(metrics.contains("rheo_subscriptions_total 2"), "{metrics}");
    assert!(metrics.contains("rheo_subscriptions_active 0"), "{metrics}");
    assert!(metrics.contains("rheo_subscription_records_total 10"), "{metrics}");
    assert!(metrics.contains("rheo_requests_total{operation=\"SubscribeToShard\",outcome=\"ok\"} 2"), "{metrics}");
    server.stop().await;
}

#[tokio::test]
async fn every_starting_position_is_honoured() {
    let server = TestServer::start(Options::default()).await;
    let consumer = server.stream_with_consumer("s", 1).await;
    let first = server.put("s", &["a", "b"]).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let middle = server.engine.log().now_ms();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = server.put("s", &["c"]).await;
    let shard = "shardId-000000000000";
    let cases = [
        (json!({"Type": "TRIM_HORIZON"}), vec!["a", "b", "c"]),
        (json!({"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": first[1]}), vec!["b", "c"]),
        (json!({"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": first[1]}), vec!["c"]),
        (json!({"Type": "AT_TIMESTAMP", "Timestamp": middle as f64 / 1000.0}), vec!["c"]),
    ];
    for (position, expected) in cases {
        // Each subscription ends before the next opens (the takeover rule allows that).
        let mut events = server.subscribe(Http::One, start(&consumer, shard, position.clone())).await.events();
        events.initial().await;
        let (records, last) = events.records(expected.len()).await;
        assert_eq!(data(&records), expected, "{position}");
        assert_eq!(last["ContinuationSequenceNumber"], resume_point_after(&second[0]));
        drop(events);
        let deadline = Instant::now() + WAIT;
        while server.engine.open_subscriptions() > 0 {
            assert!(Instant::now() < deadline, "the subscription did not end when its client left");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // LATEST sees only what comes later.
    let mut events = server.subscribe(Http::Two, start(&consumer, shard, json!({"Type": "LATEST"}))).await.events();
    events.initial().await;
    server.put("s", &["d"]).await;
    let (records, _) = events.records(1).await;
    assert_eq!(data(&records), ["d"]);
    server.stop().await;
}

/// Issue 14, item 11: the continuation is no delivered record's number, and resuming
/// there with AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER delivers exactly the records
/// not yet delivered, a record written right after the event included.
#[tokio::test]
async fn resuming_at_the_continuation_repeats_nothing_and_skips_nothing() {
    let server = TestServer::start(Options::default()).await;
    let consumer = server.stream_with_consumer("s", 1).await;
    let shard = "shardId-000000000000";
    let written = server.put("s", &["a", "b"]).await;
    let mut events =
        server.subscribe(Http::One, start(&consumer, shard, json!({"Type": "TRIM_HORIZON"}))).await.events();
    events.initial().await;
    let (records, last) = events.records(2).await;
    assert_eq!(data(&records), ["a", "b"]);
    drop(events);
    let continuation = last["ContinuationSequenceNumber"].as_str().unwrap().to_owned();
    assert!(!written.contains(&continuation), "{continuation} is a delivered record's number");
    let next = server.put("s", &["c"]).await;
    let numeric = |text: &str| (text.len(), text.to_owned());
    assert!(numeric(&written[1]) < numeric(&continuation) && numeric(&continuation) < numeric(&next[0]));
    for kind in ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"] {
        let deadline = Instant::now() + WAIT;
        while server.engine.open_subscriptions() > 0 {
            assert!(Instant::now() < deadline, "the subscription did not end when its client left");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let position = json!({"Type": kind, "SequenceNumber": continuation});
        let mut events = server.subscribe(Http::Two, start(&consumer, shard, position)).await.events();
        events.initial().await;
        let (records, last) = events.records(1).await;
        assert_eq!(records, [("c".to_owned(), next[0].clone())], "{kind}");
        assert_eq!(last["ContinuationSequenceNumber"], resume_point_after(&next[0]), "{kind}");
    }
    server.stop().await;
}

#[tokio::test]
async fn idle_subscriptions_get_events_and_end_after_their_lifetime() {
    let server = TestServer::start(Options {
        subscriptions: SubscriptionConfig { lifetime_ms: 1_500, heartbeat_ms: 200 },
        ..Default::default()
    })
    .await;
    let consumer = server.stream_with_consumer("s", 1).await;
    let written = server.put("s", &["a"]).await;
    for http in [Http::One, Http::Two] {
        let started = Instant::now();
        let mut events = server
            .subscribe(http, start(&consumer, "shardId-000000000000", json!({"Type": "TRIM_HORIZON"})))
            .await
            .events();
        events.initial().await;
        events.records(1).await;
        let mut idle = 0;
        while let Some(message) = events.next().await {
            let event = message.json();
            assert!(message.is_event(), "{message:?}");
            assert_eq!(event["Records"], json!([]));
            assert_eq!(event["ContinuationSequenceNumber"], resume_point_after(&written[0]));
            assert_eq!(event["MillisBehindLatest"], 0);
            idle += 1;
        }
        let lasted = started.elapsed();
        assert!(idle >= 4, "{idle} idle events ({http:?})");
        assert!(lasted >= Duration::from_millis(1_400) && lasted < Duration::from_secs(5), "{lasted:?}");
        // The slot is free once the subscription ended: subscribing again is fine.
        let deadline = Instant::now() + WAIT;
        while server.engine.open_subscriptions() > 0 {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_closed_shard_ends_with_its_children() {
    let server = TestServer::start(Options::default()).await;
    let consumer = server.stream_with_consumer("s", 1).await;
    server.put("s", &["before"]).await;
    let mut events = server
        .subscribe(Http::Two, start(&consumer, "shardId-000000000000", json!({"Type": "TRIM_HORIZON"})))
        .await
        .events();
    events.initial().await;
    events.records(1).await;
    let middle = (u128::MAX / 2).to_string();
    server
        .engine
        .split_shard(&SplitShard {
            stream: StreamRef::name("s"),
            shard_to_split: "shardId-000000000000".into(),
            new_starting_hash_key: middle.to_string(),
        })
        .await
        .unwrap();
    let end = events.next().await.unwrap();
    assert!(end.is_event());
    let end = end.json();
    assert_eq!(end["Records"], json!([]));
    assert!(end.get("ContinuationSequenceNumber").is_none(), "{end}");
    assert_eq!(end["MillisBehindLatest"], 0);
    let children = end["ChildShards"].as_array().unwrap();
    assert_eq!(children.len(), 2);
    assert_eq!(children[0]["ShardId"], "shardId-000000000001");
    assert_eq!(children[0]["ParentShards"], json!(["shardId-000000000000"]));
    assert_eq!(children[0]["HashKeyRange"]["StartingHashKey"], "0");
    assert_eq!(children[1]["HashKeyRange"]["StartingHashKey"], middle);
    assert!(events.next().await.is_none(), "the stream ends after the children");

    // A child delivers what was written after the split.
    let mut child = server
        .subscribe(Http::One, start(&consumer, "shardId-000000000002", json!({"Type": "TRIM_HORIZON"})))
        .await
        .events();
    child.initial().await;
    let entry = PutEntry {
        partition_key: Some("k".into()),
        explicit_hash_key: Some(u128::MAX.to_string()),
        data: "after".into(),
    };
    server.engine.put_records(PutRecords { stream: StreamRef::name("s"), records: vec![entry] }).await.unwrap();
    let (records, _) = child.records(1).await;
    assert_eq!(data(&records), ["after"]);
    // Subscribing to the closed parent at its end goes straight to the children.
    let mut again =
        server.subscribe(Http::One, start(&consumer, "shardId-000000000000", json!({"Type": "LATEST"}))).await.events();
    again.initial().await;
    assert_eq!(again.next().await.unwrap().json()["ChildShards"].as_array().unwrap().len(), 2);
    assert!(again.next().await.is_none());
    server.stop().await;
}

#[tokio::test]
async fn failures_before_streaming_are_ordinary_error_responses() {
    let server = TestServer::start(Options {
        config: EngineConfig { create_stream_ms: 0, consumer_ms: 60_000, ..Options::default().config },
        ..Default::default()
    })
    .await;
    server
        .engine
        .create_stream(CreateStream { name: "s".into(), shard_count: Some(1), ..Default::default() })
        .await
        .unwrap();
    let stream_arn = server.engine.describe_stream_summary(&StreamRef::name("s")).unwrap().arn.into_string();
    let creating = server
        .engine
        .register_consumer(RegisterConsumer {
            stream_arn: stream_arn.clone(),
            consumer_name: "new".into(),
            tags: Default::default(),
        })
        .await
        .unwrap()
        .arn
        .into_string();
    let shard = "shardId-000000000000";
    let trim = json!({"Type": "TRIM_HORIZON"});

    let unknown = format!("{stream_arn}/consumer/nobody:1700000000");
    let (status, kind, message) = server.subscribe(Http::One, start(&unknown, shard, trim.clone())).await.error();
    assert_eq!((status, kind.as_str()), (StatusCode::BAD_REQUEST, "ResourceNotFoundException"));
    assert_eq!(message, format!("Consumer {unknown} under stream s under account 000000000000 not found."));

    let (_, kind, message) = server.subscribe(Http::Two, start(&creating, shard, trim.clone())).await.error();
    assert_eq!(kind, "ResourceInUseException");
    assert!(message.contains("not ACTIVE, instead in state CREATING"), "{message}");

    // The rest need an ACTIVE consumer: a second server without registration delay.
    server.stop().await;
    let server = TestServer::start(Options::default()).await;
    let consumer = server.stream_with_consumer("s", 1).await;
    let (_, kind, message) =
        server.subscribe(Http::One, start(&consumer, "shardId-000000000007", trim.clone())).await.error();
    assert_eq!(kind, "ResourceNotFoundException");
    assert_eq!(message, "Shard shardId-000000000007 in stream s under account 000000000000 does not exist");
    let cases = [
        (json!({"Type": "AT_SEQUENCE_NUMBER"}), "InvalidArgumentException"),
        (json!({"Type": "TRIM_HORIZON", "SequenceNumber": "1"}), "InvalidArgumentException"),
        (json!({"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": "12345"}), "InvalidArgumentException"),
        (json!({"Type": "AT_TIMESTAMP"}), "InvalidArgumentException"),
        (json!({"Type": "AT_TIMESTAMP", "Timestamp": 4_000_000_000.0}), "InvalidArgumentException"),
        (json!({"Type": "SOMEWHERE"}), "ValidationException"),
    ];
    for (position, expected) in cases {
        let (status, kind, _) = server.subscribe(Http::One, start(&consumer, shard, position.clone())).await.error();
        assert_eq!((status, kind.as_str()), (StatusCode::BAD_REQUEST, expected), "{position}");
    }

    // One subscription per consumer and shard: a second within 5 s is refused.
    let mut first = server.subscribe(Http::One, start(&consumer, shard, trim.clone())).await.events();
    first.initial().await;
    let (_, kind, message) = server.subscribe(Http::Two, start(&consumer, shard, trim.clone())).await.error();
    assert_eq!(kind, "ResourceInUseException");
    assert!(message.starts_with("Another active subscription exists for consumer"), "{message}");
    server.stop().await;
}

#[tokio::test]
async fn a_newer_subscription_takes_over_after_five_seconds() {
    let clock = ManualClock::new(1_700_000_000_000);
    let server = TestServer::start(Options { clock: Arc::new(clock.clone()), ..Default::default() }).await;
    let consumer = server.stream_with_consumer("s", 1).await;
    let shard = "shardId-000000000000";
    let mut old = server.subscribe(Http::Two, start(&consumer, shard, json!({"Type": "LATEST"}))).await.events();
    old.initial().await;
    clock.advance_ms(4_999);
    let (_, kind, _) = server.subscribe(Http::One, start(&consumer, shard, json!({"Type": "LATEST"}))).await.error();
    assert_eq!(kind, "ResourceInUseException");
    clock.advance_ms(1);
    let mut new = server.subscribe(Http::One, start(&consumer, shard, json!({"Type": "LATEST"}))).await.events();
    new.initial().await;
    match old.next().await {
        Some(Message::Exception { exception_type, payload }) => {
            assert_eq!(exception_type, "ResourceInUseException");
            assert!(payload["message"].as_str().unwrap().contains("was taken over"), "{payload}");
        }
        other => panic!("expected a ResourceInUseException frame, got {other:?}"),
    }
    assert!(old.next().await.is_none());
    server.put("s", &["x"]).await;
    assert_eq!(data(&new.records(1).await.0), ["x"]);
    server.stop().await;
}

#[tokio::test]
async fn deregistering_the_consumer_or_deleting_the_stream_ends_with_resource_not_found() {
    let server = TestServer::start(Options::default()).await;
    let shard = "shardId-000000000000";
    let consumer = server.stream_with_consumer("s", 1).await;
    let mut events = server.subscribe(Http::One, start(&consumer, shard, json!({"Type": "LATEST"}))).await.events();
    events.initial().await;
    let reference = rheo_engine::ConsumerRef { consumer_arn: Some(consumer.clone()), ..Default::default() };
    server.engine.deregister_consumer(&reference).await.unwrap();
    match events.next().await {
        Some(Message::Exception { exception_type, .. }) => assert_eq!(exception_type, "ResourceNotFoundException"),
        other => panic!("expected ResourceNotFoundException, got {other:?}"),
    }
    assert!(events.next().await.is_none());

    let consumer = server.stream_with_consumer("t", 1).await;
    let mut events = server.subscribe(Http::Two, start(&consumer, shard, json!({"Type": "LATEST"}))).await.events();
    events.initial().await;
    server
        .engine
        .delete_stream(&DeleteStream { stream: StreamRef::name("t"), enforce_consumer_deletion: true })
        .await
        .unwrap();
    match events.next().await {
        Some(Message::Exception { exception_type, payload }) => {
            assert_eq!(exception_type, "ResourceNotFoundException");
            assert_eq!(payload["message"], "Stream t under account 000000000000 not found.");
        }
        other => panic!("expected ResourceNotFoundException, got {other:?}"),
    }
    assert!(events.next().await.is_none());
    server.stop().await;
}

#[tokio::test]
async fn cbor_requests_get_cbor_events() {
    let server = TestServer::start(Options::default()).await;
    let consumer = server.stream_with_consumer("s", 1).await;
    let written = server.put("s", &["a", "b"]).await;
    let mut body = minicbor::Encoder::new(Vec::new());
    body.map(3).unwrap();
    body.str("ConsumerARN").unwrap().str(&consumer).unwrap();
    body.str("ShardId").unwrap().str("shardId-000000000000").unwrap();
    body.str("StartingPosition").unwrap().map(1).unwrap().str("Type").unwrap().str("TRIM_HORIZON").unwrap();
    let request = server.request(CBOR, body.into_writer());
    let response = server.client(Http::Two).request(request).await.unwrap();
    let Subscribed::Stream(mut events) = Subscribed::from(response).await else { panic!("CBOR subscribe failed") };
    let Some(Message::Event { event_type, content_type, payload }) = events.next().await else { panic!() };
    assert_eq!((event_type.as_str(), content_type.as_str()), ("initial-response", CBOR));
    assert_eq!(&payload[..], &[0xa0], "an empty CBOR map");
    let Some(Message::Event { content_type, payload, .. }) = events.next().await else { panic!() };
    assert_eq!(content_type, CBOR);
    // { Records: [ {SequenceNumber, ApproximateArrivalTimestamp: tag 1 millis, Data: bytes, ...} ], ContinuationSequenceNumber, MillisBehindLatest }
    let mut decoder = minicbor::Decoder::new(&payload);
    let mut seen = Vec::new();
    let entries = decoder.map().unwrap().unwrap();
    for _ in 0..entries {
        let key = decoder.str().unwrap().to_owned();
        match key.as_str() {
            "Records" => {
                let count = decoder.array().unwrap().unwrap();
                for _ in 0..count {
                    let fields = decoder.map().unwrap().unwrap();
                    for _ in 0..fields {
                        match decoder.str().unwrap() {
                            "Data" => seen.push(String::from_utf8(decoder.bytes().unwrap().to_vec()).unwrap()),
                            "ApproximateArrivalTimestamp" => {
                                assert_eq!(decoder.tag().unwrap(), minicbor::data::Tag::new(1));
                                assert!(decoder.u64().unwrap() > 1_600_000_000_000, "epoch milliseconds");
                            }
                            _ => decoder.skip().unwrap(),
                        }
                    }
                }
            }
            "ContinuationSequenceNumber" => assert_eq!(decoder.str().unwrap(), resume_point_after(&written[1])),
            _ => decoder.skip().unwrap(),
        }
    }
    assert_eq!(seen, ["a", "b"]);
    server.stop().await;
}

#[tokio::test]
async fn a_subscriber_that_does_not_read_holds_back_the_reads() {
    let server = TestServer::start(Options::default()).await;
    let consumer = server.stream_with_consumer("s", 1).await;
    // 48 MiB in 1 MiB records: 24 events of two records each (the per-event cap is 2 MiB).
    let record = "x".repeat(1024 * 1024 - 1);
    for _ in 0..6 {
        let batch: Vec<&str> = (0..8).map(|_| record.as_str()).collect();
        server.put("s", &batch).await;
    }
    let mut events = server
        .subscribe(Http::One, start(&consumer, "shardId-000000000000", json!({"Type": "TRIM_HORIZON"})))
        .await
        .events();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pushed = |metrics: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("rheo_subscription_events_total "))
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    let stalled = pushed(&server.metrics().await);
    // The queue, hyper's write buffer and the sockets' buffers hold a few events at most.
    eprintln!("{stalled} of 24 events produced for a subscriber that reads nothing");
    assert!(stalled < 12, "{stalled} events produced for a subscriber that reads nothing");
    events.initial().await;
    let mut count = 0;
    while count < 48 {
        let event = events.next().await.unwrap().json();
        for r in event["Records"].as_array().unwrap() {
            assert_eq!(r["Data"].as_str().unwrap().len(), (1024 * 1024 - 1usize).div_ceil(3) * 4);
            count += 1;
        }
    }
    assert_eq!(count, 48);
    server.stop().await;
}

#[tokio::test]
async fn with_limits_enforced_a_consumer_reads_2_mib_per_second() {
    let clock = ManualClock::new(1_700_000_000_000);
    let server = TestServer::start(Options {
        config: EngineConfig { enforce_limits: true, ..Options::default().config },
        clock: Arc::new(clock.clone()),
        ..Default::default()
    })
    .await;
    let consumer = server.stream_with_consumer("s", 1).await;
    // 4 MiB + in 512,000-byte records, one per second of the write budget (1 MiB/s).
    let record = "y".repeat(512_000);
    for _ in 0..10 {
        server.put("s", &[record.as_str()]).await;
        clock.advance_ms(1_000);
    }
    let mut events = server
        .subscribe(Http::Two, start(&consumer, "shardId-000000000000", json!({"Type": "TRIM_HORIZON"})))
        .await
        .events();
    events.initial().await;
    // A full bucket (2 MiB) lets two events of four records through; then the debt
    // blocks reads until the clock moves.
    let (first, _) = events.records(8).await;
    assert_eq!(first.len(), 8);
    let early = tokio::time::timeout(Duration::from_millis(1_500), events.next()).await;
    assert!(early.is_err(), "no event while the budget is spent: {early:?}");
    clock.advance_ms(1_100);
    let (rest, _) = events.records(2).await;
    assert_eq!(rest.len(), 2);
    server.stop().await;
}
