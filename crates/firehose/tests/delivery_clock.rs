#![allow(clippy::unwrap_used)]
//! Delivery reads time from the service's one `Clock`: a manual clock pins both halves of
//! an object's key, the prefix (the oldest record's arrival, from the log's clock) and the
//! object name (the delivery time).

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{open_firehose, request};
use rheo_firehose::Firehose;
use rheo_protocol::firehose::{FirehoseOperation, FirehoseRequest};
use rheo_storage::ManualClock;
use serde_json::json;

/// 2024-03-05T06:07:08Z.
const T0_MS: u64 = 1_709_618_828_000;
const HOUR_MS: u64 = 3_600_000;
const WAIT: Duration = Duration::from_secs(60);

async fn put(firehose: &Firehose, name: &str, data: &str) {
    let record = json!({"Data": base64::engine::general_purpose::STANDARD.encode(data)});
    let FirehoseRequest::PutRecordBatch(input) =
        request(FirehoseOperation::PutRecordBatch, json!({"DeliveryStreamName": name, "Records": [record]}))
    else {
        unreachable!()
    };
    let answer = firehose.put_record_batch(input).await.unwrap();
    assert_eq!(answer.failed_put_count, 0, "{answer:?}");
}

/// Every file under `dir`, with its path relative to `dir`.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if !path.to_string_lossy().contains('#') {
                // `<key>#<n>` is the local store's upload in progress, not an object.
                out.push((path.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    out
}

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
    put(&firehose, "clocked", "first\n").await;
    let started = Instant::now();
    let stats = firehose.stats().into_iter().find(|(name, _)| name == "clocked").unwrap().1;
    while stats.oldest_undelivered_ms.load(Ordering::Relaxed) != T0_MS {
        assert!(started.elapsed() < WAIT, "the first record was never buffered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Let the task reach its wait for the buffer to be due.
    tokio::time::sleep(Duration::from_millis(200)).await;
    clock.advance_ms(2 * HOUR_MS);
    put(&firehose, "clocked", "second\n").await;

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
