//! The Analytics API through the server's front door: the router sends
//! `KinesisAnalytics_20150814.*` to the control plane, and every answer has AWS's status,
//! `__type` and the one text `errors/analytics.rs` writes for it.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rheo_analytics::service::{Analytics, AnalyticsConfig};
use rheo_server::services::AnalyticsService;
use rheo_storage::{Durability, LogConfig, MemFs, SystemClock};
use serde_json::{json, Value};

use common::{bind, instant_lifecycle, memory_engine, TestServer, AUTHORIZATION, JSON};

const ROLE: &str = "arn:aws:iam::000000000000:role/r";

async fn start() -> TestServer {
    let engine = memory_engine(instant_lifecycle(), Arc::new(SystemClock));
    let log_config = LogConfig { durability: Durability::Never, ..LogConfig::default() };
    let config = AnalyticsConfig {
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
        transition_ms: 0,
        application_limit: 2,
    };
    let analytics = Analytics::open(
        Arc::new(MemFs::default()),
        Arc::new(SystemClock),
        "/rheo".as_ref(),
        log_config,
        engine.clone(),
        None,
        config,
    )
    .unwrap();
    TestServer::spawn(bind(&engine).await.with_service(AnalyticsService::new(analytics)).unwrap(), engine)
}

/// One call with a raw body: the status and the body as JSON (`Null` when empty).
async fn call_raw(server: &TestServer, target: &str, body: &str) -> (u16, Value) {
    let request = http::Request::post(format!("http://{}/", server.address))
        .header("X-Amz-Target", target)
        .header("Content-Type", JSON)
        .header("Authorization", AUTHORIZATION)
        .header("X-Amz-Date", "20240101T000000Z")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = Client::builder(TokioExecutor::new()).build_http().request(request).await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], JSON);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn call(server: &TestServer, operation: &str, body: Value) -> (u16, Value) {
    call_raw(server, &format!("KinesisAnalytics_20150814.{operation}"), &body.to_string()).await
}

fn error(error_type: &str, message: &str) -> (u16, Value) {
    (400, json!({"__type": error_type, "message": message}))
}

#[tokio::test]
async fn operations_and_errors_through_the_front_door() {
    let server = start().await;
    let (status, created) = call(&server, "CreateApplication", json!({"ApplicationName": "app"})).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(
        created,
        json!({"ApplicationSummary": {
            "ApplicationName": "app",
            "ApplicationARN": "arn:aws:kinesisanalytics:us-east-1:000000000000:application/app",
            "ApplicationStatus": "READY"
        }})
    );
    assert_eq!(
        call(&server, "CreateApplication", json!({"ApplicationName": "app"})).await,
        error("ResourceInUseException", "Application app already exists.")
    );
    assert_eq!(
        call(&server, "DescribeApplication", json!({"ApplicationName": "nope"})).await,
        error("ResourceNotFoundException", "Application nope not found.")
    );
    assert_eq!(
        call(
            &server,
            "UpdateApplication",
            json!({"ApplicationName": "app", "CurrentApplicationVersionId": 5, "ApplicationUpdate": {"ApplicationCodeUpdate": ""}})
        )
        .await,
        error(
            "ConcurrentModificationException",
            "Application app is at version 1, not 5: describe the application and retry with its current ApplicationVersionId."
        )
    );
    assert_eq!(
        call(
            &server,
            "AddApplicationOutput",
            json!({"ApplicationName": "app", "CurrentApplicationVersionId": 1, "Output": {
                "Name": "OUT",
                "LambdaOutput": {"ResourceARN": "arn:aws:lambda:us-east-1:000000000000:function:f", "RoleARN": ROLE},
                "DestinationSchema": {"RecordFormatType": "JSON"}
            }})
        )
        .await,
        error(
            "InvalidArgumentException",
            "LambdaOutput is not supported: Rheo runs no AWS Lambda functions, so Lambda input preprocessors and Lambda outputs cannot be used."
        )
    );
    let tags: Vec<Value> = (0..51).map(|i| json!({"Key": format!("k{i}")})).collect();
    assert_eq!(
        call(
            &server,
            "TagResource",
            json!({"ResourceARN": "arn:aws:kinesisanalytics:us-east-1:000000000000:application/app", "Tags": tags})
        )
        .await,
        error("TooManyTagsException", "An application can have at most 50 tags; this request would leave it with 51.")
    );
    assert_eq!(
        call(&server, "DeleteApplication", json!({"ApplicationName": "app", "CreateTimestamp": 1.0})).await,
        error(
            "ConcurrentModificationException",
            "CreateTimestamp does not match the creation time of application app."
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn decoding_errors_are_the_models() {
    let server = start().await;
    assert_eq!(
        call(&server, "DescribeApplication", json!({"ApplicationName": "has space"})).await,
        (
            400,
            json!({"__type": "ValidationException", "message": "1 validation error detected: Value 'has space' at 'applicationName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"})
        )
    );
    assert_eq!(
        call(&server, "DescribeApplication", json!({"ApplicationName": 1})).await,
        (
            400,
            json!({"__type": "SerializationException", "Message": "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"})
        )
    );
    assert_eq!(
        call_raw(&server, "KinesisAnalytics_20150814.DescribeApplication", "{").await,
        (400, json!({"__type": "SerializationException"}))
    );
    let (status, body) = call_raw(&server, "KinesisAnalytics_20150814.CreateApplicationV2", "{}").await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("UnknownOperationException")));
    server.stop().await;
}

#[tokio::test]
async fn the_application_limit_and_listing() {
    let server = start().await;
    for name in ["b", "a"] {
        assert_eq!(call(&server, "CreateApplication", json!({"ApplicationName": name})).await.0, 200);
    }
    let (status, body) = call(&server, "CreateApplication", json!({"ApplicationName": "c"})).await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("LimitExceededException")));
    let (status, listed) = call(&server, "ListApplications", json!({"Limit": 1})).await;
    assert_eq!(status, 200);
    assert_eq!(listed["ApplicationSummaries"][0]["ApplicationName"], "a");
    assert_eq!(listed["HasMoreApplications"], true);
    server.stop().await;
}
