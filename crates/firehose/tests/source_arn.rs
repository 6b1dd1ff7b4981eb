#![allow(clippy::unwrap_used)]
//! A Kinesis source is one of this server's streams only when its ARN names this
//! partition, region and account: another spelling of a stream of ours is refused, so
//! policies that name our ARNs cannot be sidestepped by it.

mod common;

use std::sync::Arc;

use common::{open_firehose_and_engine, request};
use rheo_firehose::FirehoseError;
use rheo_protocol::firehose::{FirehoseOperation, FirehoseRequest};
use rheo_storage::SystemClock;
use serde_json::json;

#[tokio::test]
async fn a_source_arn_of_another_partition_region_or_account_does_not_exist() {
    let buckets = tempfile::tempdir().unwrap();
    let (firehose, engine) = open_firehose_and_engine(buckets.path(), Arc::new(SystemClock), |_| {});
    engine
        .create_stream(rheo_engine::CreateStream { name: "src".into(), shard_count: Some(1), ..Default::default() })
        .await
        .unwrap();
    let create = |name: &str, arn: &str| {
        let FirehoseRequest::CreateDeliveryStream(input) = request(
            FirehoseOperation::CreateDeliveryStream,
            json!({
                "DeliveryStreamName": name,
                "DeliveryStreamType": "KinesisStreamAsSource",
                "KinesisStreamSourceConfiguration": {"KinesisStreamARN": arn, "RoleARN": "arn:aws:iam::123456789012:role/r"},
                "ExtendedS3DestinationConfiguration": {"RoleARN": "arn:aws:iam::123456789012:role/r", "BucketARN": "arn:aws:s3:::bucket"},
            }),
        ) else {
            unreachable!()
        };
        input
    };
    let own = engine.account().stream_arn("src").into_string();
    let account = &engine.account().account_id;
    let region = &engine.account().region;
    for foreign in [
        own.replacen("arn:aws:", "arn:aws-cn:", 1),
        own.replace(region.as_str(), "eu-west-1"),
        own.replace(account.as_str(), "999999999999"),
    ] {
        assert_ne!(foreign, own);
        match firehose.create_delivery_stream(create("copy", &foreign)).await {
            Err(FirehoseError::InvalidArgument(text)) => {
                assert_eq!(text, format!("Kinesis stream {foreign} does not exist."))
            }
            other => panic!("{foreign}: {other:?}"),
        }
    }
    firehose.create_delivery_stream(create("copy", &own)).await.unwrap();
}
