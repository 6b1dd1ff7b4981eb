//! The lease-free reader behind `rheo tail` (`rheo_client::reader`) against a real server:
//! through merges and splits, parents are read to their end before their children, and a
//! following reader picks up the children of a shard split while it reads.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use common::{wait_active, Server};
use rheo_client::reader::{ReaderConfig, StartPosition, StreamReader, StreamRecord};
use rheo_client::{ClientConfig, Kinesis};

/// Generous bound on any one wait for a record; the test fails rather than hangs.
const RECORD_WAIT: Duration = Duration::from_secs(60);

const KEYS: usize = 6;

async fn put(kin: &aws_sdk_kinesis::Client, stream: &str, range: std::ops::Range<usize>) {
    for i in range {
        kin.put_record()
            .stream_name(stream)
            .partition_key(format!("key-{}", i % KEYS))
            .data(Blob::new(format!("{i}")))
            .send()
            .await
            .expect("PutRecord");
    }
}

async fn reader(server: &Server, stream: &str, start: StartPosition, stop_when_caught_up: bool) -> StreamReader {
    let kinesis = Arc::new(Kinesis::new_cbor(&ClientConfig::local(&server.endpoint)).expect("client"));
    let mut config = ReaderConfig::new(start);
    config.stop_when_caught_up = stop_when_caught_up;
    StreamReader::start(kinesis, stream, config).await.expect("reader")
}

async fn next(reader: &mut StreamReader) -> Option<StreamRecord> {
    tokio::time::timeout(RECORD_WAIT, reader.next())
        .await
        .expect("a record or the end in time")
        .map(|r| r.expect("record"))
}

/// Every key's records in the order they were put, and each shard's records after all of
/// its parents' records.
fn assert_ordered(records: &[StreamRecord], parents: &HashMap<&str, Vec<&str>>) {
    let mut last_per_key: HashMap<&str, usize> = HashMap::new();
    for record in records {
        let value: usize = std::str::from_utf8(&record.data).expect("utf-8").parse().expect("number");
        if let Some(previous) = last_per_key.insert(&record.partition_key, value) {
            assert!(previous < value, "{} came after {} for {}", value, previous, record.partition_key);
        }
    }
    for (child, its_parents) in parents {
        let first_child = records.iter().position(|r| r.shard_id == *child);
        for parent in its_parents {
            let last_parent = records.iter().rposition(|r| r.shard_id == *parent);
            if let (Some(first_child), Some(last_parent)) = (first_child, last_parent) {
                assert!(last_parent < first_child, "{child} read before its parent {parent} ended");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_a_merged_then_split_stream_parents_first_and_stops_when_caught_up() {
    let server = Server::start(&["--in-memory"]);
    let kin = server.client();
    let stream = "lineage";
    kin.create_stream().stream_name(stream).shard_count(2).send().await.expect("CreateStream");
    wait_active(&kin, stream).await;
    put(&kin, stream, 0..30).await;
    kin.merge_shards()
        .stream_name(stream)
        .shard_to_merge("shardId-000000000000")
        .adjacent_shard_to_merge("shardId-000000000001")
        .send()
        .await
        .expect("MergeShards");
    wait_active(&kin, stream).await;
    put(&kin, stream, 30..60).await;
    kin.split_shard()
        .stream_name(stream)
        .shard_to_split("shardId-000000000002")
        .new_starting_hash_key((1u128 << 127).to_string())
        .send()
        .await
        .expect("SplitShard");
    wait_active(&kin, stream).await;
    put(&kin, stream, 60..90).await;

    let mut reader = reader(&server, stream, StartPosition::TrimHorizon, true).await;
    let mut records = Vec::new();
    while let Some(record) = next(&mut reader).await {
        records.push(record);
    }
    let mut values: Vec<usize> =
        records.iter().map(|r| std::str::from_utf8(&r.data).expect("utf-8").parse().expect("number")).collect();
    values.sort_unstable();
    assert_eq!(values, (0..90).collect::<Vec<_>>());
    let metrics = reader.metrics();
    assert_eq!(metrics.user_records.load(std::sync::atomic::Ordering::Relaxed), 90);
    assert_eq!(metrics.kinesis_records.load(std::sync::atomic::Ordering::Relaxed), 90);
    assert_eq!(metrics.shards_finished.load(std::sync::atomic::Ordering::Relaxed), 3, "0, 1 and 2 were closed");
    let parents = HashMap::from([
        ("shardId-000000000002", vec!["shardId-000000000000", "shardId-000000000001"]),
        ("shardId-000000000003", vec!["shardId-000000000002"]),
        ("shardId-000000000004", vec!["shardId-000000000002"]),
    ]);
    assert_ordered(&records, &parents);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_following_reader_continues_into_the_children_of_a_split() {
    let server = Server::start(&["--in-memory"]);
    let kin = server.client();
    let stream = "follow";
    kin.create_stream().stream_name(stream).shard_count(1).send().await.expect("CreateStream");
    wait_active(&kin, stream).await;
    put(&kin, stream, 0..10).await;

    let mut reader = reader(&server, stream, StartPosition::TrimHorizon, false).await;
    let mut records = Vec::new();
    while records.len() < 10 {
        records.push(next(&mut reader).await.expect("the reader follows"));
    }
    kin.split_shard()
        .stream_name(stream)
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key((1u128 << 127).to_string())
        .send()
        .await
        .expect("SplitShard");
    wait_active(&kin, stream).await;
    put(&kin, stream, 10..40).await;
    while records.len() < 40 {
        records.push(next(&mut reader).await.expect("the reader follows into the children"));
    }
    let children: Vec<&str> = records[10..].iter().map(|r| r.shard_id.as_str()).collect();
    assert!(children.iter().all(|s| *s != "shardId-000000000000"), "{children:?}");
    let parents = HashMap::from([
        ("shardId-000000000001", vec!["shardId-000000000000"]),
        ("shardId-000000000002", vec!["shardId-000000000000"]),
    ]);
    assert_ordered(&records, &parents);
}
