//! Streams made and awaited through `rheo-client`, for the suites that test the client side
//! (client, producer, consumer, agent).

use std::time::{Duration, Instant};

use rheo_client::Kinesis;
use rheo_protocol::model::{
    CreateStreamInput, DescribeStreamSummaryInput, GetRecordsInput, GetShardIteratorInput, Record, ShardIteratorType,
    StreamStatus,
};

/// How long a stream may take to become ACTIVE on a loaded machine.
const ACTIVE_WITHIN: Duration = Duration::from_secs(60);

/// At most this many GetRecords calls per shard read (a reader that never catches up
/// fails the test instead of hanging it).
const READ_CALLS_MAX: usize = 10_000;

/// How long a throttled read waits: under `--enforce-limits` reads are paced too (5
/// calls and 2 MB a second per shard).
const THROTTLED_READ_WAIT: Duration = Duration::from_millis(250);

/// Creates `stream` with `shards` shards and waits until it is ACTIVE.
pub async fn create_active(kinesis: &Kinesis, stream: &str, shards: i32) {
    kinesis
        .create_stream(CreateStreamInput {
            stream_name: stream.into(),
            shard_count: Some(shards),
            stream_mode_details: None,
            tags: None,
            warm_throughput_mibps: None,
            max_record_size_in_kib: None,
            record_distribution_strategy: None,
        })
        .await
        .expect("create");
    wait_active(kinesis, stream).await;
}

/// Waits until `stream` is ACTIVE (after a create or a reshard).
pub async fn wait_active(kinesis: &Kinesis, stream: &str) {
    let deadline = Instant::now() + ACTIVE_WITHIN;
    loop {
        let summary = kinesis
            .describe_stream_summary(DescribeStreamSummaryInput {
                stream_name: Some(stream.into()),
                stream_arn: None,
                stream_id: None,
            })
            .await
            .expect("describe");
        if summary.stream_description_summary.stream_status == StreamStatus::Active {
            return;
        }
        assert!(Instant::now() < deadline, "{stream} never became ACTIVE");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every record of shard `shard_id` of `stream` from TRIM_HORIZON, read until the shard
/// is caught up (an empty answer 0 ms behind) or closed, waiting out throttling.
pub async fn read_shard(kinesis: &Kinesis, stream: &str, shard_id: &str) -> Vec<Record> {
    let mut iterator = kinesis
        .get_shard_iterator(GetShardIteratorInput {
            stream_name: Some(stream.into()),
            shard_id: shard_id.into(),
            shard_iterator_type: ShardIteratorType::TrimHorizon,
            starting_sequence_number: None,
            timestamp: None,
            stream_arn: None,
            stream_id: None,
            dry_run: None,
        })
        .await
        .expect("iterator")
        .shard_iterator;
    let mut records = Vec::new();
    for _ in 0..READ_CALLS_MAX {
        let Some(current) = iterator.take() else {
            return records;
        };
        let input = GetRecordsInput {
            shard_iterator: current.clone(),
            limit: None,
            stream_arn: None,
            stream_id: None,
            dry_run: None,
        };
        let got = match kinesis.get_records(input).await {
            Ok(got) => got,
            Err(error) if error.is_throttling() => {
                iterator = Some(current);
                tokio::time::sleep(THROTTLED_READ_WAIT).await;
                continue;
            }
            Err(error) => panic!("get: {error}"),
        };
        let caught_up = got.records.is_empty() && got.millis_behind_latest.unwrap_or(0) == 0;
        records.extend(got.records);
        if caught_up {
            return records;
        }
        iterator = got.next_shard_iterator;
    }
    panic!("{stream}/{shard_id}: not caught up after {READ_CALLS_MAX} reads");
}
