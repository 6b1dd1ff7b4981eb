//! The DynamoDB API through the server's front door: the router sends
//! `DynamoDB_20120810.*` (JSON 1.0) to rheo-dynamodb, and every rejection has DynamoDB's
//! status, namespaced `__type` and text, whichever layer raised it.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rheo_dynamodb::{DynamoDb, DynamoDbConfig};
use rheo_server::services::DynamoDbService;
use rheo_storage::SystemClock;
use serde_json::{json, Value};

use common::{bind, instant_lifecycle, memory_engine, TestServer, AUTHORIZATION};

const JSON_1_0: &str = "application/x-amz-json-1.0";
const TARGET: &str = "DynamoDB_20120810";

async fn start() -> TestServer {
    let engine = memory_engine(instant_lifecycle(), Arc::new(SystemClock));
    let dynamodb = DynamoDb::open(DynamoDbConfig::in_memory(), Arc::new(SystemClock)).unwrap();
    TestServer::spawn(bind(&engine).await.with_service(DynamoDbService::new(dynamodb)).unwrap(), engine)
}

/// One call: the status, the content type and the body as JSON (`Null` when empty).
async fn send(server: &TestServer, target: &str, body: &str, authenticated: bool) -> (u16, String, Value) {
    let mut request = http::Request::post(format!("http://{}/", server.address))
        .header("X-Amz-Target", target)
        .header("Content-Type", JSON_1_0);
    if authenticated {
        request = request.header("Authorization", AUTHORIZATION).header("X-Amz-Date", "20240101T000000Z");
    }
    let request = request.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
    let response = Client::builder(TokioExecutor::new()).build_http().request(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn call(server: &TestServer, operation: &str, body: Value) -> (u16, Value) {
    let (status, content_type, body) = send(server, &format!("{TARGET}.{operation}"), &body.to_string(), true).await;
    assert_eq!(content_type, JSON_1_0, "{operation}");
    (status, body)
}

#[tokio::test]
async fn the_front_doors_rejections_are_in_dynamodbs_namespaces() {
    let server = start().await;
    let rejected = |target: &'static str, body: &'static str, authenticated: bool| {
        let server = &server;
        async move {
            let (status, content_type, body) = send(server, target, body, authenticated).await;
            assert_eq!(content_type, JSON_1_0, "{target}");
            (status, body)
        }
    };

    // An unknown operation of the service, without a message as AWS sends it; it wins
    // over missing authentication.
    assert_eq!(
        rejected("DynamoDB_20120810.Nope", "{}", false).await,
        (400, json!({"__type": "com.amazon.coral.service#UnknownOperationException"}))
    );
    // A body that does not parse wins over both; an empty one is its own step.
    assert_eq!(
        rejected("DynamoDB_20120810.Nope", "{", false).await,
        (400, json!({"__type": "com.amazon.coral.service#SerializationException"}))
    );
    assert_eq!(
        rejected("DynamoDB_20120810.GetItem", "", true).await,
        (400, json!({"__type": "com.amazon.coral.service#SerializationException"}))
    );
    // A known operation without authentication: DynamoDB's text.
    assert_eq!(
        rejected("DynamoDB_20120810.ListTables", "{}", false).await,
        (
            400,
            json!({
                "__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
                "message": "Request is missing Authentication Token",
            })
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn decoding_errors_are_corals() {
    let server = start().await;
    assert_eq!(
        call(&server, "GetItem", json!({"TableName": 5, "Key": {}})).await,
        (
            400,
            json!({
                "__type": "com.amazon.coral.service#SerializationException",
                "Message": "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String",
            })
        )
    );
    assert_eq!(
        call(&server, "ListTables", json!({"Limit": 0})).await,
        (
            400,
            json!({
                "__type": "com.amazon.coral.validate#ValidationException",
                "message": "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
            })
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn unserved_operations_are_refused_by_name() {
    let server = start().await;
    for (operation, feature) in [
        ("ExecuteStatement", "PartiQL"),
        ("CreateBackup", "on-demand backups"),
        ("CreateGlobalTable", "global tables"),
        ("ExportTableToPointInTime", "exports to S3"),
        ("EnableKinesisStreamingDestination", "Kinesis streaming destinations"),
    ] {
        assert_eq!(
            call(&server, operation, json!({})).await,
            (
                400,
                json!({
                    "__type": "com.amazon.coral.validate#ValidationException",
                    "message": format!("{operation} ({feature}) is not supported by Rheo's DynamoDB API"),
                })
            )
        );
    }
    // DynamoDB Streams has its own prefix, answered only to refuse it.
    let (status, content_type, body) = send(&server, "DynamoDBStreams_20120810.ListStreams", "{}", true).await;
    assert_eq!((status, content_type.as_str()), (400, JSON_1_0));
    assert_eq!(
        body,
        json!({
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "ListStreams (DynamoDB Streams) is not supported by Rheo's DynamoDB API",
        })
    );
    // Kinesis is served beside it, unchanged.
    let (status, listed) = common::call_json(&server, "ListStreams", json!({})).await;
    assert_eq!(
        (status.as_u16(), listed),
        (200, json!({"StreamNames": [], "HasMoreStreams": false, "StreamSummaries": []}))
    );
    server.stop().await;
}

#[tokio::test]
async fn operations_and_their_errors_through_the_front_door() {
    let server = start().await;
    assert_eq!(
        call(&server, "DescribeTable", json!({"TableName": "leases"})).await,
        (
            400,
            json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                "message": "Requested resource not found: Table: leases not found",
            })
        )
    );
    let (status, created) = call(
        &server,
        "CreateTable",
        json!({
            "TableName": "leases",
            "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"
        }),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["TableDescription"]["TableName"], "leases");

    let lease = json!({"leaseKey": {"S": "shardId-0"}, "leaseOwner": {"S": "w1"}});
    let create_lease = json!({"TableName": "leases", "Item": lease, "Expected": {"leaseKey": {"Exists": false}}});
    assert_eq!(call(&server, "PutItem", create_lease.clone()).await, (200, json!({})));
    // A second worker cannot create the same lease, and is told what holds it.
    let mut taken = create_lease;
    taken["ReturnValuesOnConditionCheckFailure"] = json!("ALL_OLD");
    assert_eq!(
        call(&server, "PutItem", taken).await,
        (
            400,
            json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                "message": "The conditional request failed",
                "Item": lease,
            })
        )
    );
    let (status, cancelled) = call(
        &server,
        "TransactWriteItems",
        json!({"TransactItems": [
            {"ConditionCheck": {"TableName": "leases", "Key": {"leaseKey": {"S": "shardId-0"}}, "ConditionExpression": "attribute_not_exists(leaseKey)"}},
            {"Put": {"TableName": "leases", "Item": {"leaseKey": {"S": "shardId-1"}}}}
        ]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(cancelled["__type"], "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
    assert_eq!(
        cancelled["CancellationReasons"],
        json!([{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}, {"Code": "None"}])
    );
    let (status, got) = call(
        &server,
        "GetItem",
        json!({"TableName": "leases", "Key": {"leaseKey": {"S": "shardId-0"}}, "ConsistentRead": true}),
    )
    .await;
    assert_eq!((status, got), (200, json!({"Item": lease})));
    server.stop().await;
}
