//! UpdateStreamRecordDistributionStrategy and AUTO distribution with the AWS SDK for Rust
//! (`aws-sdk-kinesis` 1.130, whose model has the operation and an optional PartitionKey),
//! against the real `rheo` binary.

use std::collections::BTreeMap;

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    PutRecordsRequestEntry, RecordDistributionStrategy, ShardIteratorType, StreamMode, StreamModeDetails,
};
use aws_sdk_kinesis::Client;

mod common;
use common::{wait_active, Server};

async fn summary(kin: &Client, stream: &str) -> aws_sdk_kinesis::types::StreamDescriptionSummary {
    let out = kin.describe_stream_summary().stream_name(stream).send().await.expect("DescribeStreamSummary");
    out.stream_description_summary().expect("summary").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_streams_spread_keyless_records_evenly() {
    let server = Server::start(&[]);
    let kin = server.client();
    let stream = "auto-sdk";
    let on_demand = StreamModeDetails::builder().stream_mode(StreamMode::OnDemand).build().expect("mode");
    kin.create_stream().stream_name(stream).stream_mode_details(on_demand).send().await.expect("CreateStream");
    wait_active(&kin, stream).await;
    let arn = summary(&kin, stream).await.stream_arn().to_owned();
    assert_eq!(
        summary(&kin, stream).await.record_distribution_strategy(),
        Some(&RecordDistributionStrategy::UserPartitionKey)
    );

    kin.update_stream_record_distribution_strategy()
        .stream_arn(&arn)
        .record_distribution_strategy(RecordDistributionStrategy::Auto)
        .send()
        .await
        .expect("UpdateStreamRecordDistributionStrategy");
    let after = summary(&kin, stream).await;
    assert_eq!(after.record_distribution_strategy(), Some(&RecordDistributionStrategy::Auto));
    assert_eq!(after.open_shard_count(), 4);

    let entries: Vec<PutRecordsRequestEntry> = (0..40)
        .map(|n| PutRecordsRequestEntry::builder().data(Blob::new(format!("r{n}"))).build().expect("entry"))
        .collect();
    let put = kin.put_records().stream_name(stream).set_records(Some(entries)).send().await.expect("PutRecords");
    assert_eq!(put.failed_record_count(), Some(0));
    let mut per_shard: BTreeMap<String, usize> = BTreeMap::new();
    for record in put.records() {
        *per_shard.entry(record.shard_id().expect("ShardId").to_owned()).or_default() += 1;
    }
    assert_eq!(per_shard.values().copied().collect::<Vec<_>>(), [10, 10, 10, 10], "{per_shard:?}");

    let single = kin.put_record().stream_name(stream).data(Blob::new("alone")).send().await.expect("PutRecord");
    let iterator = kin
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(single.shard_id())
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number(single.sequence_number())
        .send()
        .await
        .expect("GetShardIterator");
    let read = kin
        .get_records()
        .shard_iterator(iterator.shard_iterator().expect("iterator"))
        .send()
        .await
        .expect("GetRecords");
    let record = &read.records()[0];
    assert_eq!(record.data().as_ref(), b"alone");
    assert_eq!(record.partition_key(), None);

    // AUTO needs an on-demand stream: becoming provisioned is refused.
    let refused = kin
        .update_stream_mode()
        .stream_arn(&arn)
        .stream_mode_details(StreamModeDetails::builder().stream_mode(StreamMode::Provisioned).build().expect("mode"))
        .send()
        .await
        .expect_err("UpdateStreamMode to PROVISIONED");
    assert_eq!(refused.code(), Some("InvalidArgumentException"));
    assert_eq!(
        refused.message(),
        Some("Stream auto-sdk under account 000000000000 uses record distribution strategy AUTO, which PROVISIONED mode does not support. Set the strategy to USER_PARTITION_KEY first.")
    );
}
