#![allow(clippy::unwrap_used)]
//! The in-process tap: what a delivery stream accepted, read from Firehose's own log at
//! positions a consumer can keep, woken by new records; and `append_records`, the
//! wire-free PutRecordBatch.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{open_firehose, put_text, request};
use rheo_firehose::tap::{TapPosition, TapStart};
use rheo_firehose::{Firehose, FirehoseError};
use rheo_protocol::firehose::{FirehoseOperation, FirehoseRequest};
use rheo_storage::SystemClock;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);

async fn create(firehose: &Firehose, name: &str) {
    let config = json!({
        "RoleARN": "arn:aws:iam::123456789012:role/r",
        "BucketARN": "arn:aws:s3:::bucket",
    });
    let FirehoseRequest::CreateDeliveryStream(input) = request(
        FirehoseOperation::CreateDeliveryStream,
        json!({"DeliveryStreamName": name, "ExtendedS3DestinationConfiguration": config}),
    ) else {
        unreachable!()
    };
    firehose.create_delivery_stream(input).await.unwrap();
}

fn data_of(records: &[rheo_storage::StoredRecord]) -> Vec<String> {
    records.iter().map(|r| String::from_utf8(r.data.to_vec()).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tap_reads_accepted_records_from_latest_trim_horizon_and_a_kept_position() {
    let buckets = tempfile::tempdir().unwrap();
    let firehose = open_firehose(buckets.path(), Arc::new(SystemClock));
    create(&firehose, "s").await;
    put_text(&firehose, "s", "before").await;

    let mut latest = firehose.tap("s", TapStart::Latest).unwrap();
    assert_eq!(latest.next_batch(100, 1 << 20).unwrap(), None);
    let mut horizon = firehose.tap("s", TapStart::TrimHorizon).unwrap();
    assert_eq!(data_of(&horizon.next_batch(100, 1 << 20).unwrap().unwrap()), ["before"]);

    // A record put while the tap waits wakes it.
    let waiting = tokio::spawn(async move {
        latest.wait().await;
        let batch = latest.next_batch(100, 1 << 20).unwrap().unwrap();
        (latest, data_of(&batch))
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    put_text(&firehose, "s", "after").await;
    let (latest, seen) = tokio::time::timeout(WAIT, waiting).await.unwrap().unwrap();
    assert_eq!(seen, ["after"]);

    // A kept position resumes after what was returned.
    let position = latest.position();
    put_text(&firehose, "s", "third").await;
    let mut resumed = firehose.tap("s", TapStart::At(position)).unwrap();
    assert_eq!(data_of(&resumed.next_batch(100, 1 << 20).unwrap().unwrap()), ["third"]);
    assert_eq!(resumed.next_batch(100, 1 << 20).unwrap(), None);

    // A position of another stream reads this one from its start.
    let foreign = TapPosition { stream_id: position.stream_id + 1_000, next_lsn: position.next_lsn };
    let mut other = firehose.tap("s", TapStart::At(foreign)).unwrap();
    assert_eq!(data_of(&other.next_batch(100, 1 << 20).unwrap().unwrap()), ["before", "after", "third"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_records_is_durable_and_refuses_missing_streams() {
    let buckets = tempfile::tempdir().unwrap();
    let firehose = open_firehose(buckets.path(), Arc::new(SystemClock));
    let missing = firehose.append_records("nope", vec![Bytes::from_static(b"x")]).await;
    assert!(matches!(missing, Err(FirehoseError::NotFound { .. })), "{missing:?}");
    assert!(matches!(firehose.tap("nope", TapStart::Latest), Err(FirehoseError::NotFound { .. })));

    create(&firehose, "out").await;
    let mut tap = firehose.tap("out", TapStart::Latest).unwrap();
    let appended =
        firehose.append_records("out", vec![Bytes::from_static(b"one"), Bytes::from_static(b"two")]).await.unwrap();
    assert_eq!(appended.len(), 2);
    assert!(appended.iter().all(|r| r.is_ok()));
    assert_eq!(data_of(&tap.next_batch(1, 1 << 20).unwrap().unwrap()), ["one"]);
    assert_eq!(data_of(&tap.next_batch(100, 1 << 20).unwrap().unwrap()), ["two"]);
}
