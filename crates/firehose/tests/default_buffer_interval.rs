#![allow(clippy::unwrap_used)]
//! `--firehose-default-buffer-interval-ms`: a delivery stream created without
//! `BufferingHints` waits the server's default interval, measured on the service's clock;
//! one given hints waits what it asked, and DescribeDeliveryStream shows AWS's default 300 s.

mod common;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{files, open_firehose_with, put_text, request};
use rheo_firehose::Firehose;
use rheo_protocol::firehose::{FirehoseOperation, FirehoseRequest};
use rheo_storage::ManualClock;
use serde_json::{json, Value};

/// 2024-03-05T06:07:08Z.
const T0_MS: u64 = 1_709_618_828_000;
const DEFAULT_INTERVAL_MS: u64 = 2_000;
const WAIT: Duration = Duration::from_secs(60);

async fn create(firehose: &Firehose, name: &str, bucket: &str, hints: Option<Value>) {
    let mut config = json!({
        "RoleARN": "arn:aws:iam::123456789012:role/r",
        "BucketARN": format!("arn:aws:s3:::{bucket}"),
    });
    if let Some(hints) = hints {
        config["BufferingHints"] = hints;
    }
    let FirehoseRequest::CreateDeliveryStream(input) = request(
        FirehoseOperation::CreateDeliveryStream,
        json!({"DeliveryStreamName": name, "ExtendedS3DestinationConfiguration": config}),
    ) else {
        unreachable!()
    };
    firehose.create_delivery_stream(input).await.unwrap();
}

async fn interval_shown(firehose: &Firehose, name: &str) -> Option<i32> {
    let FirehoseRequest::DescribeDeliveryStream(input) =
        request(FirehoseOperation::DescribeDeliveryStream, json!({"DeliveryStreamName": name}))
    else {
        unreachable!()
    };
    let answer = firehose.describe_delivery_stream(input).await.unwrap();
    let destination = &answer.delivery_stream_description.destinations[0];
    destination.extended_s3_destination_description.as_ref().unwrap().buffering_hints.interval_in_seconds
}

/// How many objects lie under `dir`.
fn objects(dir: &Path) -> usize {
    files(dir).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_without_hints_wait_the_server_default_interval() {
    let buckets = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0_MS);
    let firehose = open_firehose_with(buckets.path(), Arc::new(clock.clone()), |config| {
        config.default_buffer_interval_ms = DEFAULT_INTERVAL_MS;
    });
    create(&firehose, "defaulted", "fast", None).await;
    create(&firehose, "hinted", "slow", Some(json!({"SizeInMBs": 64, "IntervalInSeconds": 60}))).await;
    // An explicit 300 s is the caller's hint, not the default.
    create(&firehose, "explicit", "explicit", Some(json!({"SizeInMBs": 5, "IntervalInSeconds": 300}))).await;
    // The configuration is what the caller sent plus AWS's defaults.
    assert_eq!(interval_shown(&firehose, "defaulted").await, Some(300));
    assert_eq!(interval_shown(&firehose, "hinted").await, Some(60));

    let names = ["defaulted", "hinted", "explicit"];
    for name in names {
        put_text(&firehose, name, "first\n").await;
    }
    let started = Instant::now();
    let stats = firehose.stats();
    for name in names {
        let stream = &stats.iter().find(|(n, _)| n == name).unwrap().1;
        while stream.oldest_undelivered_ms.load(Ordering::Relaxed) != T0_MS {
            assert!(started.elapsed() < WAIT, "{name}: the first record was never buffered");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // Let the tasks reach their waits, then move the clock just past the server's default.
    tokio::time::sleep(Duration::from_millis(200)).await;
    clock.advance_ms(DEFAULT_INTERVAL_MS);
    while objects(&buckets.path().join("fast")) == 0 {
        assert!(started.elapsed() < WAIT, "the stream without hints delivered nothing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(objects(&buckets.path().join("fast")), 1);
    // The streams given hints still buffer: their intervals have not passed on the clock.
    tokio::time::sleep(Duration::from_millis(DEFAULT_INTERVAL_MS)).await;
    assert_eq!(objects(&buckets.path().join("slow")), 0);
    assert_eq!(objects(&buckets.path().join("explicit")), 0);
    assert_eq!(interval_shown(&firehose, "defaulted").await, Some(300));
    firehose.shutdown().await;
}

async fn update(firehose: &Firehose, name: &str, update: Value) {
    let FirehoseRequest::UpdateDestination(input) = request(
        FirehoseOperation::UpdateDestination,
        json!({
            "DeliveryStreamName": name,
            "CurrentDeliveryStreamVersionId": "1",
            "DestinationId": "destinationId-000000000001",
            "ExtendedS3DestinationUpdate": update,
        }),
    ) else {
        unreachable!()
    };
    firehose.update_destination(input).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_without_hints_keeps_the_server_default_interval() {
    let buckets = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0_MS);
    let firehose = open_firehose_with(buckets.path(), Arc::new(clock.clone()), |config| {
        config.default_buffer_interval_ms = DEFAULT_INTERVAL_MS;
    });
    create(&firehose, "kept", "kept", None).await;
    create(&firehose, "given", "given", None).await;
    update(&firehose, "kept", json!({"Prefix": "again/"})).await;
    update(&firehose, "given", json!({"BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300}})).await;
    assert_eq!(interval_shown(&firehose, "kept").await, Some(300));
    assert_eq!(interval_shown(&firehose, "given").await, Some(300));

    let names = ["kept", "given"];
    for name in names {
        put_text(&firehose, name, "first\n").await;
    }
    let started = Instant::now();
    let stats = firehose.stats();
    for name in names {
        let stream = &stats.iter().find(|(n, _)| n == name).unwrap().1;
        while stream.oldest_undelivered_ms.load(Ordering::Relaxed) != T0_MS {
            assert!(started.elapsed() < WAIT, "{name}: the first record was never buffered");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    clock.advance_ms(DEFAULT_INTERVAL_MS);
    while objects(&buckets.path().join("kept").join("again")) == 0 {
        assert!(started.elapsed() < WAIT, "the updated stream without hints delivered nothing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(DEFAULT_INTERVAL_MS)).await;
    assert_eq!(objects(&buckets.path().join("given")), 0, "hints given in an update are kept as given");
    firehose.shutdown().await;
}
