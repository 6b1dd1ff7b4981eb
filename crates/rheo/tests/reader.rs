//! The lease-free reader behind `rheo tail` (`rheo_client::reader`) against a real server:
//! through merges and splits, parents are read to their end before their children, and a
//! following reader picks up the children of a shard split while it reads (also when it
//! started at the latest position), and calls on one shard are paced.

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

async fn create(kin: &aws_sdk_kinesis::Client, stream: &str, shards: i32) {
    kin.create_stream().stream_name(stream).shard_count(shards).send().await.expect("CreateStream");
    wait_active(kin, stream).await;
}

/// Splits `shard` (covering the whole hash range) into two halves and waits for it.
async fn split_in_halves(kin: &aws_sdk_kinesis::Client, stream: &str, shard: &str) {
    kin.split_shard()
        .stream_name(stream)
        .shard_to_split(shard)
        .new_starting_hash_key((1u128 << 127).to_string())
        .send()
        .await
        .expect("SplitShard");
    wait_active(kin, stream).await;
}

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
    let mut config = ReaderConfig::new(start);
    config.stop_when_caught_up = stop_when_caught_up;
    reader_with(server, stream, config).await
}

async fn reader_with(server: &Server, stream: &str, config: ReaderConfig) -> StreamReader {
    let kinesis = Arc::new(Kinesis::new_cbor(&ClientConfig::local(&server.endpoint)).expect("client"));
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
    create(&kin, stream, 2).await;
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
    split_in_halves(&kin, stream, "shardId-000000000002").await;
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
    create(&kin, stream, 1).await;
    put(&kin, stream, 0..10).await;

    let mut reader = reader(&server, stream, StartPosition::TrimHorizon, false).await;
    let mut records = Vec::new();
    while records.len() < 10 {
        records.push(next(&mut reader).await.expect("the reader follows"));
    }
    split_in_halves(&kin, stream, "shardId-000000000000").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_started_at_latest_reads_the_children_of_a_split_from_their_first_record() {
    let server = Server::start(&["--in-memory"]);
    let kin = server.client();
    let stream = "follow-latest";
    create(&kin, stream, 1).await;

    // One record in the channel at most: once the caller stops taking records, the parent's
    // reader cannot reach the parent's end, so the children cannot start before the puts
    // below (which is what a slow reload on AWS looks like).
    let mut config = ReaderConfig::new(StartPosition::Latest);
    config.channel_records = 1;
    let mut reader = reader_with(&server, stream, config).await;
    // The shard's LATEST iterator is taken in the background: put warm-up records until one
    // arrives, so the reader is known to be positioned before the counted records.
    let mut warm_up = 0;
    loop {
        kin.put_record()
            .stream_name(stream)
            .partition_key("warm-up")
            .data(Blob::new(format!("w{warm_up}")))
            .send()
            .await
            .expect("PutRecord");
        warm_up += 1;
        if let Ok(first) = tokio::time::timeout(Duration::from_secs(1), reader.next()).await {
            first.expect("the reader follows").expect("record");
            break;
        }
    }
    put(&kin, stream, 0..10).await;
    split_in_halves(&kin, stream, "shardId-000000000000").await;
    put(&kin, stream, 10..40).await;

    let mut records = Vec::new();
    while records.len() < 40 {
        let record = next(&mut reader).await.expect("the reader follows into the children");
        if record.partition_key != "warm-up" {
            records.push(record);
        }
    }
    let mut values: Vec<usize> =
        records.iter().map(|r| std::str::from_utf8(&r.data).expect("utf-8").parse().expect("number")).collect();
    values.sort_unstable();
    assert_eq!(values, (0..40).collect::<Vec<_>>(), "nothing put into the children was skipped");
    let parents = HashMap::from([
        ("shardId-000000000001", vec!["shardId-000000000000"]),
        ("shardId-000000000002", vec!["shardId-000000000000"]),
    ]);
    assert_ordered(&records, &parents);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_one_shard_are_paced_even_when_every_answer_is_full() {
    let server = Server::start(&["--in-memory"]);
    let kin = server.client();
    let stream = "paced";
    create(&kin, stream, 1).await;
    const RECORDS: usize = 6;
    put(&kin, stream, 0..RECORDS).await;

    // One record per call: reading them takes a call per record, each a full answer.
    let mut config = ReaderConfig::new(StartPosition::TrimHorizon);
    config.stop_when_caught_up = true;
    config.records_per_call = 1;
    let started = std::time::Instant::now();
    let mut reader = reader_with(&server, stream, config).await;
    let mut read = 0;
    while next(&mut reader).await.is_some() {
        read += 1;
    }
    assert_eq!(read, RECORDS);
    // A lower bound only (a slow machine takes longer, never shorter): the calls after the
    // first each waited for the minimum interval.
    let least = rheo_client::reader::GET_RECORDS_INTERVAL_MIN * RECORDS as u32;
    assert!(started.elapsed() >= least, "{:?} for {RECORDS} calls", started.elapsed());
}
