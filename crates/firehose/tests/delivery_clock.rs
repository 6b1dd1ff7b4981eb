#![allow(clippy::unwrap_used)]
//! Delivery reads time from the service's one `Clock`: a manual clock pins both halves of
//! an object's key, the prefix (the oldest record's arrival, from the log's clock) and the
//! object name (the delivery time).

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{files, open_firehose, put_text, request};
use rheo_protocol::firehose::{FirehoseOperation, FirehoseRequest};
use rheo_storage::ManualClock;
use serde_json::json;

/// 2024-03-05T06:07:08Z.
const T0_MS: u64 = 1_709_618_828_000;
const HOUR_MS: u64 = 3_600_000;
const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_key_timestamps_come_from_the_service_clock() {
    let buckets = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0_MS);
    let firehose = open_firehose(buckets.path(), Arc::new(clock.clone()));
    let FirehoseRequest::CreateDeliveryStream(input) = request(
        FirehoseOperation::CreateDeliveryStream,
        json!({
            "DeliveryStreamName": "clocked",
            "ExtendedS3DestinationConfiguration": {
                "RoleARN": "arn:aws:iam::123456789012:role/r",
                "BucketARN": "arn:aws:s3:::bucket",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
            },
        }),
    ) else {
        unreachable!()
    };
    firehose.create_delivery_stream(input).await.unwrap();

    // The first record arrives at T0; the buffer is due a minute later on the clock, not
    // on the wall: two hours pass before the next record wakes the delivery task.
    put_text(&firehose, "clocked", "first\n").await;
    let started = Instant::now();
    let stats = firehose.stats().into_iter().find(|(name, _)| name == "clocked").unwrap().1;
    while stats.oldest_undelivered_ms.load(Ordering::Relaxed) != T0_MS {
        assert!(started.elapsed() < WAIT, "the first record was never buffered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Let the task reach its wait for the buffer to be due.
    tokio::time::sleep(Duration::from_millis(200)).await;
    clock.advance_ms(2 * HOUR_MS);
    put_text(&firehose, "clocked", "second\n").await;

    let delivered = loop {
        let found = files(buckets.path());
        if !found.is_empty() {
            break found;
        }
        assert!(started.elapsed() < WAIT, "nothing was delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    let (path, body) = &delivered[0];
    let key = path.to_string_lossy();
    // The default prefix is the oldest record's arrival hour (UTC); the object name carries
    // the stream, the version and the delivery time, then a UUID.
    let expected = "bucket/2024/03/05/06/clocked-1-2024-03-05-08-07-08-";
    assert!(key.starts_with(expected), "{key} does not start with {expected}");
    assert_eq!(key.len(), expected.len() + 36, "{key}: a UUID follows the delivery time");
    assert_eq!(body, b"first\nsecond\n");
    firehose.shutdown().await;
}
