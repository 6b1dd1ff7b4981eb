//! End-to-end: enhanced fan-out with the AWS SDK for Rust (`subscribe_to_shard`, HTTP/1.1,
//! JSON 1.1) against the real `rheo` binary, started with a short subscription lifetime
//! and heartbeat period.
//!
//! The consumer reads a shard across a split (parent, then children through
//! `ChildShards`), sees events keep coming while idle, and sees the stream end after the
//! lifetime; errors follow AWS (kinesis-api.md §4).

use std::time::{Duration, Instant};

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    ConsumerStatus, PutRecordsRequestEntry, ShardIteratorType, StartingPosition, SubscribeToShardEvent,
    SubscribeToShardEventStream,
};
use aws_sdk_kinesis::Client;

mod common;
use common::{wait_active, Server};

const LIFETIME_MS: u64 = 4_000;
const HEARTBEAT_MS: u64 = 250;

/// Creates a stream and registers a consumer; returns the consumer ARN once ACTIVE.
async fn stream_with_consumer(kin: &Client, stream: &str, shards: i32) -> String {
    kin.create_stream().stream_name(stream).shard_count(shards).send().await.expect("CreateStream");
    wait_active(kin, stream).await;
    let stream_arn = kin
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .expect("DescribeStreamSummary")
        .stream_description_summary()
        .expect("summary")
        .stream_arn()
        .to_owned();
    let registered =
        kin.register_stream_consumer().stream_arn(&stream_arn).consumer_name("reader").send().await.expect("Register");
    let consumer = registered.consumer().expect("Consumer");
    assert_eq!(consumer.consumer_status(), &ConsumerStatus::Creating);
    let arn = consumer.consumer_arn().to_owned();
    for _ in 0..600 {
        let described = kin.describe_stream_consumer().consumer_arn(&arn).send().await.expect("Describe");
        if described.consumer_description().expect("description").consumer_status() == &ConsumerStatus::Active {
            return arn;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the consumer did not become ACTIVE");
}

async fn put(kin: &Client, stream: &str, records: &[(u128, String)]) -> Vec<String> {
    let entries = records
        .iter()
        .map(|(hash, data)| {
            PutRecordsRequestEntry::builder()
                .partition_key("pk")
                .explicit_hash_key(hash.to_string())
                .data(Blob::new(data.clone()))
                .build()
                .expect("entry")
        })
        .collect::<Vec<_>>();
    let out = kin.put_records().stream_name(stream).set_records(Some(entries)).send().await.expect("PutRecords");
    assert_eq!(out.failed_record_count(), Some(0));
    out.records().iter().map(|r| r.sequence_number().expect("SequenceNumber").to_owned()).collect()
}

type Events = aws_sdk_kinesis::primitives::event_stream::EventReceiver<
    SubscribeToShardEventStream,
    aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError,
>;

async fn subscribe(kin: &Client, consumer: &str, shard: &str, kind: ShardIteratorType) -> Events {
    kin.subscribe_to_shard()
        .consumer_arn(consumer)
        .shard_id(shard)
        .starting_position(StartingPosition::builder().r#type(kind).build().expect("position"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("SubscribeToShard {shard}: {e:?}"))
        .event_stream
}

/// The next event within 5 s; `None` at the end of the stream.
async fn next(events: &mut Events) -> Option<SubscribeToShardEvent> {
    let received = tokio::time::timeout(Duration::from_secs(5), events.recv()).await.expect("an event within 5 s");
    match received.expect("event stream") {
        Some(SubscribeToShardEventStream::SubscribeToShardEvent(event)) => Some(event),
        Some(other) => panic!("unexpected event {other:?}"),
        None => None,
    }
}

/// The shard-end event of a closed shard (the one with its children), skipping the idle
/// events sent while the stream was UPDATING: a split takes effect when the stream is
/// ACTIVE again (issue 14, item 8).
async fn shard_end(events: &mut Events) -> Option<SubscribeToShardEvent> {
    loop {
        let event = next(events).await?;
        if !event.records().is_empty() || !event.child_shards().is_empty() {
            return Some(event);
        }
    }
}

/// Reads events until `count` records arrived; returns (data, sequence number) pairs.
async fn read(events: &mut Events, count: usize) -> Vec<(String, String)> {
    let mut records = Vec::new();
    while records.len() < count {
        let event = next(events).await.expect("the stream ended early");
        assert!(event.child_shards().is_empty());
        assert_eq!(event.millis_behind_latest(), 0);
        for record in event.records() {
            records.push((
                String::from_utf8(record.data().as_ref().to_vec()).expect("utf-8"),
                record.sequence_number().to_owned(),
            ));
        }
        if let Some((_, last)) = records.last() {
            // A resume point after the last record, never a record's own number (issue 14,
            // item 11); equal-length decimal strings compare like their numbers.
            let continuation = event.continuation_sequence_number();
            assert!((continuation.len(), continuation) > (last.len(), last.as_str()), "{continuation} after {last}");
        }
    }
    assert_eq!(records.len(), count);
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_follow_a_split_keep_getting_events_and_end_after_the_lifetime() {
    let server = Server::start(&[
        "--consumer-ms",
        "200",
        "--subscription-lifetime-ms",
        &LIFETIME_MS.to_string(),
        "--subscription-heartbeat-ms",
        &HEARTBEAT_MS.to_string(),
    ]);
    let kin = server.client();
    let stream = "efo-split";
    let consumer = stream_with_consumer(&kin, stream, 1).await;
    let middle: u128 = 1 << 127;
    let before: Vec<(u128, String)> =
        (0..6).map(|i| (if i % 2 == 0 { 1 } else { u128::MAX }, format!("before-{i}"))).collect();
    let written = put(&kin, stream, &before).await;

    let mut parent = subscribe(&kin, &consumer, "shardId-000000000000", ShardIteratorType::TrimHorizon).await;
    let records = read(&mut parent, 6).await;
    assert_eq!(
        records.iter().map(|(d, _)| d.clone()).collect::<Vec<_>>(),
        before.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>()
    );
    assert_eq!(records.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(), written);

    kin.split_shard()
        .stream_name(stream)
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key(middle.to_string())
        .send()
        .await
        .expect("SplitShard");
    // The parent's last event names the children, then its stream ends.
    let end = shard_end(&mut parent).await.expect("the shard-end event");
    assert!(end.records().is_empty());
    let children: Vec<String> = end.child_shards().iter().map(|c| c.shard_id().to_owned()).collect();
    assert_eq!(children, ["shardId-000000000001", "shardId-000000000002"]);
    for child in end.child_shards() {
        assert_eq!(child.parent_shards(), ["shardId-000000000000"]);
    }
    assert!(next(&mut parent).await.is_none(), "the parent's stream ends after ChildShards");

    let after: Vec<(u128, String)> =
        (0..8).map(|i| (if i % 2 == 0 { 1 } else { middle + 1 }, format!("after-{i}"))).collect();
    let mut low = subscribe(&kin, &consumer, &children[0], ShardIteratorType::TrimHorizon).await;
    let mut high = subscribe(&kin, &consumer, &children[1], ShardIteratorType::TrimHorizon).await;
    let started = Instant::now();
    put(&kin, stream, &after).await;
    let expect = |parity: usize| {
        after.iter().enumerate().filter(|(i, _)| i % 2 == parity).map(|(_, (_, d))| d.clone()).collect::<Vec<_>>()
    };
    assert_eq!(read(&mut low, 4).await.into_iter().map(|(d, _)| d).collect::<Vec<_>>(), expect(0));
    assert_eq!(read(&mut high, 4).await.into_iter().map(|(d, _)| d).collect::<Vec<_>>(), expect(1));

    // Idle: events keep coming without records, each carrying the continuation point.
    let mut idle = 0;
    while let Some(event) = next(&mut low).await {
        assert!(event.records().is_empty());
        assert!(!event.continuation_sequence_number().is_empty());
        idle += 1;
    }
    let lasted = started.elapsed();
    assert!(idle >= 5, "only {idle} events while idle");
    assert!(
        lasted >= Duration::from_millis(LIFETIME_MS - 500) && lasted < Duration::from_millis(LIFETIME_MS + 3_000),
        "the subscription lasted {lasted:?}, its lifetime is {LIFETIME_MS} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_errors_follow_aws() {
    let server = Server::start(&[
        "--consumer-ms",
        "200",
        "--subscription-lifetime-ms",
        &LIFETIME_MS.to_string(),
        "--subscription-heartbeat-ms",
        &HEARTBEAT_MS.to_string(),
    ]);
    let kin = server.client();
    let consumer = stream_with_consumer(&kin, "efo-errors", 1).await;
    let position = |kind| StartingPosition::builder().r#type(kind).build().expect("position");

    let unknown = consumer.replace("consumer/reader:", "consumer/nobody:");
    let error = kin
        .subscribe_to_shard()
        .consumer_arn(&unknown)
        .shard_id("shardId-000000000000")
        .starting_position(position(ShardIteratorType::Latest))
        .send()
        .await
        .expect_err("unknown consumer");
    assert_eq!(error.code(), Some("ResourceNotFoundException"), "{error:?}");

    let error = kin
        .subscribe_to_shard()
        .consumer_arn(&consumer)
        .shard_id("shardId-000000000009")
        .starting_position(position(ShardIteratorType::Latest))
        .send()
        .await
        .expect_err("unknown shard");
    assert_eq!(error.code(), Some("ResourceNotFoundException"), "{error:?}");

    let error = kin
        .subscribe_to_shard()
        .consumer_arn(&consumer)
        .shard_id("shardId-000000000000")
        .starting_position(position(ShardIteratorType::AtSequenceNumber))
        .send()
        .await
        .expect_err("no sequence number");
    assert_eq!(error.code(), Some("InvalidArgumentException"), "{error:?}");

    let mut open = subscribe(&kin, &consumer, "shardId-000000000000", ShardIteratorType::Latest).await;
    let error = kin
        .subscribe_to_shard()
        .consumer_arn(&consumer)
        .shard_id("shardId-000000000000")
        .starting_position(position(ShardIteratorType::Latest))
        .send()
        .await
        .expect_err("a second subscription within 5 s");
    assert_eq!(error.code(), Some("ResourceInUseException"), "{error:?}");

    // Deregistering the consumer ends its subscription with ResourceNotFoundException.
    kin.deregister_stream_consumer().consumer_arn(&consumer).send().await.expect("Deregister");
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(5), open.recv()).await.expect("an event within 5 s") {
            Ok(Some(_)) => continue,
            other => break other,
        }
    };
    let error = ended.expect_err("an exception ends the stream");
    let service = error.into_service_error();
    assert!(service.is_resource_not_found_exception(), "{service:?}");
}
