//! The channel operations through the server's front door: exact statuses, `__type`s,
//! messages and member sets, the counters the server fills in from the channel component,
//! and tags on channel ARNs going to the component rather than the engine.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rheo_firehose::channel::{Channels, ChannelsConfig};
use rheo_firehose::dest::s3::ObjectStoreConfig;
use rheo_storage::{Durability, LogConfig, MemFs, SystemClock};
use serde_json::{json, Value};

use common::{bind, instant_lifecycle, memory_engine, TestServer, AUTHORIZATION, JSON};

const ACCOUNT: &str = "000000000000";

async fn start() -> (TestServer, tempfile::TempDir) {
    let buckets = tempfile::tempdir().unwrap();
    let engine = memory_engine(instant_lifecycle(), Arc::new(SystemClock));
    let config = ChannelsConfig {
        create_ms: 0,
        update_ms: 0,
        delete_ms: 0,
        object_stores: ObjectStoreConfig::Local { root: buckets.path().to_path_buf() },
        gzip_level: 1,
        delivery_interval_ms: None,
    };
    let log_config = LogConfig { durability: Durability::Never, ..LogConfig::default() };
    let fs = Arc::new(MemFs::default());
    let channels =
        Channels::open(fs, Arc::new(SystemClock), "/channels".as_ref(), log_config, engine.clone(), config).unwrap();
    (TestServer::spawn(bind(&engine).await.with_channels(channels), engine), buckets)
}

/// One Kinesis call: the status and the JSON body.
async fn kinesis(server: &TestServer, operation: &str, body: Value) -> (u16, Value) {
    let request = http::Request::post(format!("http://{}/", server.address))
        .header("X-Amz-Target", format!("Kinesis_20131202.{operation}"))
        .header("Content-Type", JSON)
        .header("Authorization", AUTHORIZATION)
        .header("X-Amz-Date", "20240101T000000Z")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = Client::builder(TokioExecutor::new()).build_http().request(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn sorted_members(value: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    names.sort_unstable();
    names
}

fn create_body(name: &str, stream: &str) -> Value {
    json!({
        "ChannelName": name,
        "ServiceExecutionRoleARN": format!("arn:aws:iam::{ACCOUNT}:role/r"),
        "StreamConfigurationList": [{
            "StreamARN": format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{stream}"),
            "RecordConfiguration": {"RecordFormatType": "BYTE_ARRAY"},
        }],
        "S3DestinationConfiguration": {"StorageConfiguration": {
            "BucketARN": "arn:aws:s3:::bkt", "ExpectedBucketOwner": ACCOUNT, "CompressionType": "NONE",
        }},
        "Tags": {"team": "data"},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_operations_answer_as_aws_shapes_them() {
    let (server, _buckets) = start().await;
    kinesis(&server, "CreateStream", json!({"StreamName": "s", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}))
        .await;
    let (status, created) = kinesis(&server, "CreateChannel", create_body("c", "s")).await;
    assert_eq!(status, 200, "{created}");
    let description = &created["ChannelDescription"];
    assert_eq!(
        sorted_members(description),
        [
            "ChannelARN",
            "ChannelCreationTimestamp",
            "ChannelId",
            "ChannelName",
            "ChannelStatus",
            "LoggingConfiguration",
            "S3DestinationConfiguration",
            "ServiceExecutionRoleARN",
            "StreamConfigurationList",
        ]
    );
    let arn = format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:channel/c");
    assert_eq!(description["ChannelARN"], arn.as_str());
    assert!(description["ChannelCreationTimestamp"].is_number(), "epoch seconds");

    let (_, summary) = kinesis(&server, "DescribeStreamSummary", json!({"StreamName": "s"})).await;
    assert_eq!(summary["StreamDescriptionSummary"]["ChannelCount"], 1);
    let (_, limits) = kinesis(&server, "DescribeLimits", json!({})).await;
    assert_eq!(limits["ChannelCount"], 1);
    assert_eq!(limits["ChannelCountLimit"], 2 * limits["OnDemandStreamCountLimit"].as_i64().unwrap());

    // Tags of a channel ARN are the channel's, not a stream's.
    let (status, tags) = kinesis(&server, "ListTagsForResource", json!({"ResourceARN": arn})).await;
    assert_eq!((status, tags), (200, json!({"Tags": [{"Key": "team", "Value": "data"}]})));

    let (status, listed) = kinesis(&server, "ListChannels", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(sorted_members(&listed), ["ChannelSummaries"], "no NextToken on the last page");
    assert_eq!(
        sorted_members(&listed["ChannelSummaries"][0]),
        [
            "ChannelARN",
            "ChannelCreationTimestamp",
            "ChannelDestinationType",
            "ChannelId",
            "ChannelName",
            "ChannelStatus",
            "Streams"
        ]
    );

    let (status, deleted) = kinesis(&server, "DeleteChannel", json!({"ChannelARN": arn})).await;
    assert_eq!((status, deleted), (200, Value::Null), "an empty body");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_refusals_are_exact() {
    let (server, _buckets) = start().await;
    let mut tables = create_body("t", "s");
    tables.as_object_mut().unwrap().remove("S3DestinationConfiguration");
    tables["S3TablesDestinationConfiguration"] = json!({
        "DeadLetterQueueS3Configuration": {"BucketARN": "arn:aws:s3:::dlq", "ExpectedBucketOwner": ACCOUNT},
        "S3TablesConfigurationList": [{
            "TableBucketARN": format!("arn:aws:s3tables:us-east-1:{ACCOUNT}:bucket/tbl"),
            "Namespace": "ns", "TableName": "t", "CompressionType": "SNAPPY",
        }],
    });
    assert_eq!(
        kinesis(&server, "CreateChannel", tables).await,
        (
            400,
            json!({
                "__type": "InvalidArgumentException",
                "message": "S3TablesDestinationConfiguration (Amazon S3 Tables, Apache Iceberg) is not supported by Rheo yet; use S3DestinationConfiguration.",
            })
        )
    );
    let arn = format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:channel/none");
    assert_eq!(
        kinesis(&server, "DescribeChannel", json!({"ChannelARN": arn})).await,
        (
            400,
            json!({
                "__type": "ResourceNotFoundException",
                "message": format!("Channel {arn} under account {ACCOUNT} not found."),
            })
        )
    );
    assert_eq!(
        kinesis(&server, "CreateChannel", create_body("c", "missing")).await,
        (
            400,
            json!({"__type": "ResourceNotFoundException", "message": format!("Stream missing under account {ACCOUNT} not found.")})
        )
    );
    server.stop().await;
}
