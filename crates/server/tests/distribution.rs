//! UpdateStreamRecordDistributionStrategy and AUTO distribution over HTTP: the exact
//! answers (status, `__type`, message, members present) for the strategy's rules, puts
//! without a partition key, and records read back without one.

#![allow(clippy::unwrap_used)] // test code

mod common;

use std::sync::Arc;

use http::StatusCode;
use rheo_storage::SystemClock;
use serde_json::{json, Value};

use common::{bind, call_json as call, instant_lifecycle, memory_engine, TestServer};

const ACCOUNT: &str = "000000000000";

fn arn(stream: &str) -> String {
    format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{stream}")
}

fn error(error_type: &str, message: &str) -> (StatusCode, Value) {
    (StatusCode::BAD_REQUEST, json!({"__type": error_type, "message": message}))
}

fn summary_strategy(reply: &(StatusCode, Value)) -> Option<&Value> {
    reply.1["StreamDescriptionSummary"].get("RecordDistributionStrategy")
}

async fn start() -> TestServer {
    let engine = memory_engine(instant_lifecycle(), Arc::new(SystemClock));
    TestServer::spawn(bind(&engine).await, engine)
}

#[tokio::test]
async fn the_strategy_follows_the_rules_of_on_demand_streams() {
    let server = start().await;
    let update =
        |stream: &str, strategy: &str| json!({"StreamARN": arn(stream), "RecordDistributionStrategy": strategy});

    // CreateStream: AUTO only on on-demand streams.
    let reply = call(
        &server,
        "CreateStream",
        json!({"StreamName": "prov", "ShardCount": 1, "RecordDistributionStrategy": "AUTO"}),
    )
    .await;
    let refused = format!("Record distribution strategy AUTO is not supported for stream prov under account {ACCOUNT} because it is in PROVISIONED mode. AUTO requires ON_DEMAND mode.");
    assert_eq!(reply, error("InvalidArgumentException", &refused));
    assert_eq!(call(&server, "CreateStream", json!({"StreamName": "prov", "ShardCount": 1})).await.0, StatusCode::OK);
    assert_eq!(
        call(&server, "UpdateStreamRecordDistributionStrategy", update("prov", "AUTO")).await,
        error("InvalidArgumentException", &refused)
    );
    // Provisioned streams describe without the member; on-demand ones with it.
    let reply = call(&server, "DescribeStreamSummary", json!({"StreamName": "prov"})).await;
    assert_eq!(summary_strategy(&reply), None);
    call(&server, "CreateStream", json!({"StreamName": "od", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}})).await;
    let reply = call(&server, "DescribeStreamSummary", json!({"StreamName": "od"})).await;
    assert_eq!(summary_strategy(&reply), Some(&json!("USER_PARTITION_KEY")));

    let reply = call(&server, "UpdateStreamRecordDistributionStrategy", update("od", "AUTO")).await;
    assert_eq!(reply, (StatusCode::OK, Value::Null), "an empty body");
    let reply = call(&server, "DescribeStreamSummary", json!({"StreamName": "od"})).await;
    assert_eq!(reply.1["StreamDescriptionSummary"]["StreamStatus"], "ACTIVE", "no UPDATING period");
    assert_eq!(summary_strategy(&reply), Some(&json!("AUTO")));

    let reply = call(
        &server,
        "UpdateStreamMode",
        json!({"StreamARN": arn("od"), "StreamModeDetails": {"StreamMode": "PROVISIONED"}}),
    )
    .await;
    let message = format!("Stream od under account {ACCOUNT} uses record distribution strategy AUTO, which PROVISIONED mode does not support. Set the strategy to USER_PARTITION_KEY first.");
    assert_eq!(reply, error("InvalidArgumentException", &message));

    let reply = call(&server, "UpdateStreamRecordDistributionStrategy", update("missing", "AUTO")).await;
    assert_eq!(
        reply,
        error("ResourceNotFoundException", &format!("Stream missing under account {ACCOUNT} not found."))
    );
    let reply = call(
        &server,
        "UpdateStreamRecordDistributionStrategy",
        json!({"StreamName": "od", "RecordDistributionStrategy": "AUTO"}),
    )
    .await;
    assert_eq!(
        reply,
        error(
            "ValidationException",
            "1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null"
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn puts_without_a_partition_key_need_an_auto_stream() {
    let server = start().await;
    call(&server, "CreateStream", json!({"StreamName": "od", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}})).await;
    let keyless = json!({"StreamName": "od", "Data": "YQ=="});
    let reply = call(&server, "PutRecord", keyless.clone()).await;
    assert_eq!(
        reply,
        error(
            "ValidationException",
            "1 validation error detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null"
        )
    );
    let batch = json!({"StreamName": "od", "Records": [{"Data": "YQ==", "PartitionKey": "k"}, {"Data": "Yg=="}]});
    let reply = call(&server, "PutRecords", batch.clone()).await;
    assert_eq!(
        reply,
        error(
            "ValidationException",
            "1 validation error detected: Value null at 'records.2.member.partitionKey' failed to satisfy constraint: Member must not be null"
        )
    );

    call(
        &server,
        "UpdateStreamRecordDistributionStrategy",
        json!({"StreamARN": arn("od"), "RecordDistributionStrategy": "AUTO"}),
    )
    .await;
    let (status, put) = call(&server, "PutRecord", keyless.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let mut members: Vec<&String> = put.as_object().unwrap().keys().collect();
    members.sort();
    assert_eq!(members, ["SequenceNumber", "ShardId"]);
    let (status, batch_put) = call(&server, "PutRecords", batch).await;
    assert_eq!((status, &batch_put["FailedRecordCount"]), (StatusCode::OK, &json!(0)));

    let mut ordered = keyless.clone();
    ordered["SequenceNumberForOrdering"] = put["SequenceNumber"].clone();
    let reply = call(&server, "PutRecord", ordered).await;
    let message = format!("SequenceNumberForOrdering is not supported on stream od under account {ACCOUNT} because it uses record distribution strategy AUTO.");
    assert_eq!(reply, error("InvalidArgumentException", &message));

    // The keyless record reads back without the member; a keyed one with it.
    let iterator = call(
        &server,
        "GetShardIterator",
        json!({"StreamName": "od", "ShardId": put["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
    )
    .await
    .1;
    let records = call(&server, "GetRecords", json!({"ShardIterator": iterator["ShardIterator"]})).await.1;
    let keyless_record =
        records["Records"].as_array().unwrap().iter().find(|r| r["SequenceNumber"] == put["SequenceNumber"]).unwrap();
    let mut members: Vec<&String> = keyless_record.as_object().unwrap().keys().collect();
    members.sort();
    assert_eq!(members, ["ApproximateArrivalTimestamp", "Data", "SequenceNumber"]);
    server.stop().await;
}
