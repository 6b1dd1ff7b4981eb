//! Streams made and awaited through `rheo-client`, for the suites that test the client side
//! (client, producer, consumer, agent).

use std::time::{Duration, Instant};

use rheo_client::Kinesis;
use rheo_protocol::model::{CreateStreamInput, DescribeStreamSummaryInput, StreamStatus};

/// How long a stream may take to become ACTIVE on a loaded machine.
const ACTIVE_WITHIN: Duration = Duration::from_secs(60);

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
