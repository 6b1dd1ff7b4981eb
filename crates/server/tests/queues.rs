//! Queues over HTTP/1.1 JSON: a receive-acknowledge cycle with the exact members AWS's
//! model defines, and the exact status, `__type` and message of the queue errors.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use http::StatusCode;
use rheo_storage::SystemClock;
use serde_json::{json, Value};

use common::{bind, call_json, instant_lifecycle, memory_engine, TestServer};

const ACCOUNT_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000";

async fn start() -> TestServer {
    let engine = memory_engine(instant_lifecycle(), Arc::new(SystemClock));
    TestServer::spawn(bind(&engine).await, engine)
}

fn members(value: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    names.sort();
    names
}

async fn on_demand_stream(server: &TestServer, name: &str) -> String {
    let body = json!({"StreamName": name, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}});
    assert_eq!(call_json(server, "CreateStream", body).await.0, StatusCode::OK);
    format!("{ACCOUNT_ARN}:stream/{name}")
}

#[tokio::test]
async fn a_record_is_received_and_acknowledged_with_the_models_members() {
    let server = start().await;
    let stream = on_demand_stream(&server, "s").await;
    let create = json!({
        "QueueName": "q",
        "StreamConfigurationList": [{"StreamARN": stream, "StartingPosition": {"Type": "TRIM_HORIZON"}}],
    });
    let (status, created) = call_json(&server, "CreateQueue", create).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let description = &created["QueueDescription"];
    assert_eq!(
        members(description),
        [
            "QueueARN",
            "QueueAttributes",
            "QueueCreationTimestamp",
            "QueueName",
            "QueueStatus",
            "StreamConfigurationList"
        ]
    );
    assert_eq!(description["QueueStatus"], "ACTIVE");
    assert_eq!(
        description["QueueAttributes"],
        json!({"VisibilityTimeoutSeconds": 30, "DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 6}})
    );
    let queue = description["QueueARN"].as_str().unwrap().to_owned();
    assert!(queue.starts_with(&format!("{ACCOUNT_ARN}:queue/")), "{queue}");

    let put = json!({"StreamName": "s", "PartitionKey": "k", "Data": "aGk="});
    assert_eq!(call_json(&server, "PutRecord", put).await.0, StatusCode::OK);
    let (status, received) =
        call_json(&server, "ReceiveQueueRecords", json!({"QueueARN": queue, "WaitTimeSeconds": 1})).await;
    assert_eq!(status, StatusCode::OK);
    let record = &received["QueueRecords"][0];
    assert_eq!(
        members(record),
        [
            "ApproximateArrivalTimestamp",
            "Data",
            "FirstReceiveTimestamp",
            "PartitionKey",
            "ReceiptHandle",
            "ReceiveCount",
            "RecordId"
        ]
    );
    assert_eq!(
        (&record["Data"], &record["PartitionKey"], &record["ReceiveCount"]),
        (&json!("aGk="), &json!("k"), &json!(1))
    );
    let record_id = record["RecordId"].as_str().unwrap();
    assert!(record_id.len() <= 64 && record_id.bytes().all(|b| b.is_ascii_digit()), "{record_id}");

    let handle = record["ReceiptHandle"].clone();
    let ack = json!({"QueueARN": queue, "Entries": [{"ReceiptHandle": handle}, {"ReceiptHandle": "bogus"}]});
    let (status, acked) = call_json(&server, "AcknowledgeQueueRecords", ack).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        acked,
        json!({
            "Successful": [{"ReceiptHandle": handle}],
            "Failed": [{
                "ReceiptHandle": "bogus",
                "ErrorCode": "InvalidArgumentException",
                "ErrorMessage": "The receipt handle is not valid for this queue and operation."
            }]
        })
    );
    let (_, again) = call_json(
        &server,
        "AcknowledgeQueueRecords",
        json!({"QueueARN": queue, "Entries": [{"ReceiptHandle": handle}]}),
    )
    .await;
    assert_eq!(again["Failed"][0]["ErrorCode"], "ResourceNotFoundException");

    let (_, summary) = call_json(&server, "DescribeStreamSummary", json!({"StreamName": "s"})).await;
    assert_eq!(summary["StreamDescriptionSummary"]["QueueCount"], 1);
    let (_, listed) = call_json(&server, "ListQueues", json!({})).await;
    assert_eq!(listed["QueueSummaries"][0]["Streams"][0]["StreamARN"], json!(stream));
    assert!(listed.get("NextToken").is_none());
    server.stop().await;
}

#[tokio::test]
async fn queue_errors_have_their_exact_type_status_and_message() {
    let server = start().await;
    let stream = on_demand_stream(&server, "s").await;
    let missing = format!("{ACCOUNT_ARN}:queue/nothere");
    let (status, error) = call_json(&server, "DescribeQueue", json!({"QueueARN": missing})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error,
        json!({"__type": "ResourceNotFoundException", "message": format!("Queue {missing} under account 000000000000 not found.")})
    );

    let body = json!({"StreamName": "p", "ShardCount": 1});
    call_json(&server, "CreateStream", body).await;
    let create =
        json!({"QueueName": "q", "StreamConfigurationList": [{"StreamARN": format!("{ACCOUNT_ARN}:stream/p")}]});
    let (status, error) = call_json(&server, "CreateQueue", create).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error,
        json!({"__type": "ValidationException", "message": "Stream p under account 000000000000 is not in ON_DEMAND capacity mode. Queues are supported only on on-demand streams."})
    );

    let create = json!({
        "QueueName": "q",
        "StreamConfigurationList": [{"StreamARN": stream}],
        "QueueAttributes": {"DeadLetterConfiguration": {"TargetType": "BUILT_IN"}},
    });
    let (_, error) = call_json(&server, "CreateQueue", create).await;
    assert_eq!(
        error,
        json!({"__type": "InvalidArgumentException", "message": "MaxReceiveCount must be specified when DeadLetterConfiguration TargetType is BUILT_IN."})
    );

    let create = json!({
        "QueueName": "q",
        "StreamConfigurationList": [{"StreamARN": stream, "StartingPosition": {"Type": "LATEST", "Timestamp": 1}}],
    });
    let (status, error) = call_json(&server, "CreateQueue", create).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error,
        json!({"__type": "ValidationException", "message": "StartingPosition Timestamp may be specified only when its Type is AT_TIMESTAMP."})
    );

    let create = json!({"QueueName": "q", "StreamConfigurationList": [{"StreamARN": stream}]});
    assert_eq!(call_json(&server, "CreateQueue", create.clone()).await.0, StatusCode::OK);
    let (_, error) = call_json(&server, "DeleteStream", json!({"StreamName": "s"})).await;
    assert_eq!(
        error,
        json!({"__type": "ResourceInUseException", "message": "Stream s under account 000000000000 has 1 queues. Delete every queue of the stream first."})
    );
    let (_, error) = call_json(&server, "CreateQueue", create).await;
    assert_eq!(
        error,
        json!({"__type": "ResourceInUseException", "message": "Queue q under account 000000000000 already exists."})
    );
    // The model's constraint on WaitTimeSeconds is checked before the engine sees it.
    let (status, error) =
        call_json(&server, "ReceiveQueueRecords", json!({"QueueARN": missing, "WaitTimeSeconds": 21})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["__type"], "ValidationException");
    server.stop().await;
}
