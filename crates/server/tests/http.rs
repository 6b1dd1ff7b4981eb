//! The server in-process on 127.0.0.1:0 with in-memory storage, driven with raw HTTP/1.1
//! and HTTP/2 (prior knowledge) requests: request-processing precedence, authentication
//! presence checks, CORS, health and metrics, and both body formats.

// Test helpers outside `#[test]` functions are test code too.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rheo_protocol::model::{GetRecordsInput, GetShardIteratorInput, PutRecordInput, ShardIteratorType};
use rheo_protocol::{
    decode_response, encode_request, Operation, Request as ApiRequest, Response as ApiResponse, WireFormat,
};
use rheo_storage::SystemClock;

use common::{bind, instant_lifecycle, memory_engine, TestServer, AUTHORIZATION, CBOR, JSON};

impl TestServer {
    async fn start() -> Self {
        let engine = memory_engine(instant_lifecycle(), Arc::new(SystemClock));
        TestServer::spawn(bind(&engine).await, engine)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn send_with(
    client: &Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Reply {
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply { status, headers, body }
}

async fn send(request: Request<Full<Bytes>>) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http();
    send_with(&client, request).await
}

fn api(
    server: &TestServer,
    target: Option<&str>,
    content_type: Option<&str>,
    auth: bool,
    body: impl Into<Bytes>,
) -> Request<Full<Bytes>> {
    let mut builder = Request::builder().method(Method::POST).uri(server.url("/"));
    if let Some(target) = target {
        builder = builder.header("X-Amz-Target", target);
    }
    if let Some(content_type) = content_type {
        builder = builder.header("Content-Type", content_type);
    }
    if auth {
        builder = builder.header("Authorization", AUTHORIZATION).header("X-Amz-Date", "20240101T000000Z");
    }
    builder.body(Full::new(body.into())).unwrap()
}

async fn call(server: &TestServer, operation: &str, body: &str) -> Reply {
    send(api(server, Some(&format!("Kinesis_20131202.{operation}")), Some(JSON), true, body.to_owned())).await
}

#[tokio::test]
async fn health_and_metrics_answer_without_touching_the_api() {
    let server = TestServer::start().await;
    for path in ["/health", "/_health"] {
        let reply = send(Request::get(server.url(path)).body(Full::default()).unwrap()).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json(), serde_json::json!({"status": "ok"}));
    }
    call(&server, "ListStreams", "{}").await;
    call(&server, "CreateStream", r#"{"StreamName": "s", "ShardCount": 1}"#).await;
    let reply = call(&server, "PutRecords", r#"{"StreamName": "s", "Records": [{"PartitionKey": "a", "Data": "aGk="}, {"PartitionKey": "b", "Data": "aG8="}]}"#).await;
    assert_eq!(reply.json()["FailedRecordCount"], 0);
    let metrics = send(Request::get(server.url("/metrics")).body(Full::default()).unwrap()).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.text();
    for line in [
        "rheo_requests_total{operation=\"ListStreams\",outcome=\"ok\"} 1",
        // The storage log's own figures: the two records went in as one group commit.
        "rheo_log_records_appended_total{log=\"streams\"} 2",
        "rheo_log_commits_total{log=\"streams\"} 1",
        "rheo_log_writes_stopped{log=\"streams\"} 0",
        // The queues keep a log of their own; no queue, nothing appended.
        "rheo_log_records_appended_total{log=\"queues\"} 0",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    // This server's log never syncs (tests need no durability); the histogram is there, empty.
    assert!(text.contains("rheo_log_sync_duration_seconds_count{log=\"streams\"} 0\n"), "{text}");
    server.stop().await;
}

#[tokio::test]
async fn non_post_methods_get_403_xml_and_options_gets_cors() {
    let server = TestServer::start().await;
    let reply = send(Request::get(server.url("/")).body(Full::default()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.header("content-type"), None);
    assert_eq!(
        reply.text(),
        "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n"
    );
    assert!(reply.header("x-amzn-requestid").is_some());

    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri(server.url("/"))
        .header("Origin", "http://example.com")
        .header("Access-Control-Request-Headers", "content-type,x-amz-target")
        .header("Access-Control-Request-Method", "POST")
        .body(Full::default())
        .unwrap();
    let reply = send(preflight).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.header("access-control-allow-headers"), Some("content-type,x-amz-target"));
    assert_eq!(reply.header("access-control-allow-methods"), Some("POST"));
    assert_eq!(reply.header("access-control-max-age"), Some("172800"));
    assert_eq!(reply.header("x-amz-id-2"), None);
    assert!(reply.body.is_empty());

    let mut request = api(&server, Some("Kinesis_20131202.ListStreams"), Some(JSON), true, "{}");
    request.headers_mut().insert("Origin", "http://example.com".parse().unwrap());
    let reply = send(request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        reply.header("access-control-expose-headers"),
        Some("x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date")
    );
    server.stop().await;
}

#[tokio::test]
async fn empty_bodies_and_content_types_follow_aws_precedence() {
    let server = TestServer::start().await;
    let reply = send(api(&server, Some("Kinesis_20131202.ListStreams"), Some(JSON), false, "")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json(), serde_json::json!({"__type": "SerializationException"}));
    let reply = send(api(&server, Some("Kinesis_20131202.Nope"), Some(JSON), false, "")).await;
    assert_eq!(reply.json(), serde_json::json!({"__type": "UnknownOperationException"}));
    // Without the JSON content type the empty-body answer is CBOR.
    let reply = send(api(&server, Some("Kinesis_20131202.ListStreams"), None, false, "")).await;
    assert_eq!(reply.header("content-type"), Some(CBOR));
    assert!(reply.body.windows(22).any(|w| w == b"SerializationException"));

    let reply = send(api(&server, None, Some("text/plain"), true, "{}")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.text().starts_with("<AccessDeniedException>"));
    let reply = send(api(&server, Some("Kinesis_20131202.ListStreams"), Some("text/plain"), true, "{}")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.text(), "<UnknownOperationException/>\n");

    let reply = send(api(&server, Some("Kinesis_20131202.ListStreams"), Some("application/json"), true, "{}")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["Output"]["__type"], "com.amazon.coral.service#UnknownOperationException");
    let reply = send(api(&server, Some("Kinesis_20131202.ListStreams"), Some("application/json"), true, "{")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["Output"]["__type"], "com.amazon.coral.service#SerializationException");
    server.stop().await;
}

#[tokio::test]
async fn parse_errors_beat_target_errors_which_beat_auth_errors() {
    let server = TestServer::start().await;
    // Unparseable: SerializationException even without a valid target or credentials.
    let reply = send(api(&server, Some("Kinesis_20131202.Nope"), Some(JSON), false, "{not json")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json(), serde_json::json!({"__type": "SerializationException"}));
    let reply = send(api(&server, Some("Kinesis_20131202.ListStreams"), Some(JSON), true, "{not json")).await;
    assert_eq!(reply.json(), serde_json::json!({"__type": "SerializationException"}));
    // Unknown target before authentication.
    let reply = send(api(&server, Some("Kinesis_20131202.Nope"), Some(JSON), false, "{}")).await;
    assert_eq!(reply.json(), serde_json::json!({"__type": "UnknownOperationException"}));
    let reply = send(api(&server, Some("DynamoDB_20120810.ListTables"), Some(JSON), true, "{}")).await;
    assert_eq!(reply.json(), serde_json::json!({"__type": "UnknownOperationException"}));
    // Then authentication.
    let reply = send(api(&server, Some("Kinesis_20131202.ListStreams"), Some(JSON), false, "{}")).await;
    assert_eq!(
        reply.json(),
        serde_json::json!({"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"})
    );
    let mut request = api(&server, Some("Kinesis_20131202.ListStreams"), Some(JSON), false, "{}");
    request.headers_mut().insert("Authorization", "AWS4-HMAC-SHA256 Credential=a/b".parse().unwrap());
    let reply = send(request).await;
    assert_eq!(reply.json()["__type"], "IncompleteSignatureException");
    assert_eq!(
        reply.json()["message"],
        "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=a/b"
    );
    // No x-amz-content-sha256 is needed, and the signature is not checked.
    let reply = call(&server, "ListStreams", "{}").await;
    assert_eq!(reply.status, StatusCode::OK);
    // Then type checks and validation, then business errors.
    let reply = call(&server, "CreateStream", r#"{"StreamName": true}"#).await;
    assert_eq!(
        reply.json(),
        serde_json::json!({"__type": "SerializationException", "Message": "class java.lang.Boolean can not be converted to an String"})
    );
    let reply = call(&server, "CreateStream", r#"{"ShardCount": 1}"#).await;
    assert_eq!(
        reply.json(),
        serde_json::json!({"__type": "ValidationException", "message": "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null"})
    );
    let reply = call(&server, "DescribeStream", r#"{"StreamName": "missing"}"#).await;
    assert_eq!(
        reply.json(),
        serde_json::json!({"__type": "ResourceNotFoundException", "message": "Stream missing under account 000000000000 not found."})
    );
    assert_eq!(reply.header("content-type"), Some(JSON));
    let request_id = reply.header("x-amzn-requestid").unwrap();
    assert_eq!(request_id.len(), 36);
    assert!(reply.header("x-amz-id-2").is_some());
    server.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let server = TestServer::start().await;
    let body = vec![b' '; rheo_server::REQUEST_BODY_BYTES_MAX + 1];
    let reply = send(api(&server, Some("Kinesis_20131202.PutRecords"), Some(JSON), true, body)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    server.stop().await;
}

#[tokio::test]
async fn operations_work_end_to_end_in_json() {
    let server = TestServer::start().await;
    let reply = call(&server, "CreateStream", r#"{"StreamName": "s", "ShardCount": 2}"#).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("content-type"), Some(JSON));
    let reply = call(&server, "PutRecords", r#"{"StreamName": "s", "Records": [{"PartitionKey": "a", "Data": "aGk="}, {"PartitionKey": "b", "Data": "aG8=", "ExplicitHashKey": "340282366920938463463374607431768211455"}]}"#).await;
    assert_eq!(reply.json()["FailedRecordCount"], 0);
    assert_eq!(reply.json()["Records"][1]["ShardId"], "shardId-000000000001");
    let reply = call(
        &server,
        "GetShardIterator",
        r#"{"StreamName": "s", "ShardId": "shardId-000000000001", "ShardIteratorType": "TRIM_HORIZON"}"#,
    )
    .await;
    let iterator = reply.json()["ShardIterator"].as_str().unwrap().to_owned();
    let reply = call(&server, "GetRecords", &serde_json::json!({"ShardIterator": iterator}).to_string()).await;
    assert_eq!(reply.json()["Records"][0]["Data"], "aG8=");
    assert!(reply.json()["NextShardIterator"].is_string());
    assert_eq!(reply.json()["MillisBehindLatest"], 0);
    let reply = call(&server, "GetRecords", r#"{"ShardIterator": "AAAAAAAAAAEbogus"}"#).await;
    assert_eq!(
        reply.json(),
        serde_json::json!({"__type": "InvalidArgumentException", "message": "Invalid ShardIterator."})
    );
    let reply = call(&server, "SubscribeToShard", r#"{"ConsumerARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1", "ShardId": "shardId-000000000000", "StartingPosition": {"Type": "LATEST"}}"#).await;
    assert_eq!(reply.json()["__type"], "ResourceNotFoundException");
    server.stop().await;
}

#[tokio::test]
async fn http2_prior_knowledge_and_cbor_are_served_on_the_same_port() {
    let server = TestServer::start().await;
    let client = Client::builder(TokioExecutor::new()).http2_only(true).build_http();
    let cbor = |operation: Operation, request: &ApiRequest| {
        Request::builder()
            .method(Method::POST)
            .uri(server.url("/"))
            .header("X-Amz-Target", operation.target())
            .header("Content-Type", CBOR)
            .header("Authorization", AUTHORIZATION)
            .header("X-Amz-Date", "20240101T000000Z")
            .body(Full::new(Bytes::from(encode_request(request, WireFormat::Cbor))))
            .unwrap()
    };
    let reply = send_with(
        &client,
        api(
            &server,
            Some("Kinesis_20131202.CreateStream"),
            Some(JSON),
            true,
            r#"{"StreamName": "h2", "ShardCount": 1}"#,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);

    let put = ApiRequest::PutRecord(PutRecordInput {
        sequence_number_for_ordering: None,
        partition_key: Some("k".into()),
        explicit_hash_key: None,
        data: Bytes::from_static(b"\x00\x01binary"),
        stream_name: Some("h2".into()),
        stream_arn: None,
        stream_id: None,
        dry_run: None,
    });
    let reply = send_with(&client, cbor(Operation::PutRecord, &put)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some(CBOR));
    let iterator_request = ApiRequest::GetShardIterator(GetShardIteratorInput {
        shard_id: "shardId-000000000000".into(),
        shard_iterator_type: ShardIteratorType::TrimHorizon,
        starting_sequence_number: None,
        stream_name: Some("h2".into()),
        timestamp: None,
        stream_arn: None,
        stream_id: None,
        dry_run: None,
    });
    let reply = send_with(&client, cbor(Operation::GetShardIterator, &iterator_request)).await;
    let Ok(ApiResponse::GetShardIterator(output)) =
        decode_response(Operation::GetShardIterator, WireFormat::Cbor, &reply.body)
    else {
        panic!("bad GetShardIterator answer: {:?}", reply.body)
    };
    let get = ApiRequest::GetRecords(GetRecordsInput {
        shard_iterator: output.shard_iterator.unwrap(),
        limit: None,
        stream_arn: None,
        stream_id: None,
        dry_run: None,
    });
    let reply = send_with(&client, cbor(Operation::GetRecords, &get)).await;
    let Ok(ApiResponse::GetRecords(records)) = decode_response(Operation::GetRecords, WireFormat::Cbor, &reply.body)
    else {
        panic!("bad GetRecords answer")
    };
    assert_eq!(records.records.len(), 1);
    assert_eq!(records.records[0].data, Bytes::from_static(b"\x00\x01binary"));
    // CBOR timestamps are epoch milliseconds; a sane arrival time proves the unit.
    let arrival = records.records[0].approximate_arrival_timestamp.unwrap().epoch_millis();
    assert!(arrival > 1_600_000_000_000, "{arrival}");
    let reply = send_with(&client, Request::get(server.url("/health")).body(Full::default()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
    server.stop().await;
}

/// A TRIM_HORIZON iterator on shard 0 of stream `s`.
async fn trim_horizon(server: &TestServer) -> String {
    let body = r#"{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}"#;
    let reply = call(server, "GetShardIterator", body).await;
    reply.json()["ShardIterator"].as_str().unwrap().to_owned()
}

/// The sorted member names of a JSON object.
fn members(value: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

// Issue 14, item 1 (recorded AWS answers, reference section 1.5): PutRecord, PutRecords
// and GetRecords carry `EncryptionType` only for an encrypted stream (then `KMS`);
// DescribeStreamSummary always carries it.
#[tokio::test]
async fn encryption_type_is_sent_only_for_encrypted_streams() {
    let server = TestServer::start().await;
    call(&server, "CreateStream", r#"{"StreamName": "s", "ShardCount": 1}"#).await;
    let reply = call(&server, "PutRecord", r#"{"StreamName": "s", "PartitionKey": "a", "Data": "aGk="}"#).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(members(&reply.json()), ["SequenceNumber", "ShardId"]);
    let reply =
        call(&server, "PutRecords", r#"{"StreamName": "s", "Records": [{"PartitionKey": "a", "Data": "aG8="}]}"#).await;
    assert_eq!(members(&reply.json()), ["FailedRecordCount", "Records"]);
    assert_eq!(members(&reply.json()["Records"][0]), ["SequenceNumber", "ShardId"]);
    let reply =
        call(&server, "GetRecords", &serde_json::json!({"ShardIterator": trim_horizon(&server).await}).to_string())
            .await;
    assert_eq!(reply.json()["Records"].as_array().unwrap().len(), 2);
    for record in reply.json()["Records"].as_array().unwrap() {
        assert_eq!(members(record), ["ApproximateArrivalTimestamp", "Data", "PartitionKey", "SequenceNumber"]);
    }
    let reply = call(&server, "DescribeStreamSummary", r#"{"StreamName": "s"}"#).await;
    assert_eq!(reply.json()["StreamDescriptionSummary"]["EncryptionType"], "NONE");
    let reply = call(&server, "DescribeStream", r#"{"StreamName": "s"}"#).await;
    assert_eq!(reply.json()["StreamDescription"]["EncryptionType"], "NONE");

    let reply = call(
        &server,
        "StartStreamEncryption",
        r#"{"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = call(&server, "PutRecord", r#"{"StreamName": "s", "PartitionKey": "a", "Data": "aGk="}"#).await;
    assert_eq!(members(&reply.json()), ["EncryptionType", "SequenceNumber", "ShardId"]);
    assert_eq!(reply.json()["EncryptionType"], "KMS");
    let reply =
        call(&server, "PutRecords", r#"{"StreamName": "s", "Records": [{"PartitionKey": "a", "Data": "aG8="}]}"#).await;
    assert_eq!(members(&reply.json()), ["EncryptionType", "FailedRecordCount", "Records"]);
    assert_eq!(reply.json()["EncryptionType"], "KMS");
    let reply =
        call(&server, "GetRecords", &serde_json::json!({"ShardIterator": trim_horizon(&server).await}).to_string())
            .await;
    for record in reply.json()["Records"].as_array().unwrap() {
        assert_eq!(
            members(record),
            ["ApproximateArrivalTimestamp", "Data", "EncryptionType", "PartitionKey", "SequenceNumber"]
        );
        assert_eq!(record["EncryptionType"], "KMS");
    }
    let reply = call(&server, "DescribeStreamSummary", r#"{"StreamName": "s"}"#).await;
    assert_eq!(reply.json()["StreamDescriptionSummary"]["EncryptionType"], "KMS");
    server.stop().await;
}

// Issue 14, item 2 (reference: MergeShards entry): the merge is ordered, the adjacent
// shard's range must start right after the shard to merge's; ids in request order.
#[tokio::test]
async fn merge_shards_is_ordered() {
    let server = TestServer::start().await;
    call(&server, "CreateStream", r#"{"StreamName": "S", "ShardCount": 2}"#).await;
    let reply = call(
        &server,
        "MergeShards",
        r#"{"StreamName": "S", "ShardToMerge": "1", "AdjacentShardToMerge": "shardId-000000000000"}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        serde_json::json!({
            "__type": "InvalidArgumentException",
            "message": "Shards shardId-000000000001 and shardId-000000000000 in stream S under account 000000000000 are not an adjacent pair of shards eligible for merging"
        })
    );
    let reply = call(
        &server,
        "MergeShards",
        r#"{"StreamName": "S", "ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000001"}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(reply.body.is_empty());
    server.stop().await;
}

// Issue 14, item 3 (reference: MergeShards and SplitShard entries): shard ids are parsed
// before the stream is looked up, ShardToMerge first; the id is quoted as sent.
#[tokio::test]
async fn resharding_checks_shard_ids_before_the_stream() {
    let server = TestServer::start().await;
    let not_found = |message: &str| serde_json::json!({"__type": "ResourceNotFoundException", "message": message});
    let cases = [
        (
            "MergeShards",
            r#"{"StreamName": "S", "ShardToMerge": "shardId-x", "AdjacentShardToMerge": "bogus"}"#,
            "Could not find shard shardId-x in stream S under account 000000000000.",
        ),
        (
            "MergeShards",
            r#"{"StreamName": "S", "ShardToMerge": "0", "AdjacentShardToMerge": "bogus"}"#,
            "Could not find shard bogus in stream S under account 000000000000.",
        ),
        (
            "SplitShard",
            r#"{"StreamName": "S", "ShardToSplit": "shardId-99999999999", "NewStartingHashKey": "1"}"#,
            "Could not find shard shardId-99999999999 in stream S under account 000000000000.",
        ),
        (
            "MergeShards",
            r#"{"StreamName": "S", "ShardToMerge": "0", "AdjacentShardToMerge": "shardId-000000000001"}"#,
            "Stream S under account 000000000000 not found.",
        ),
        (
            "SplitShard",
            r#"{"StreamName": "S", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "1"}"#,
            "Stream S under account 000000000000 not found.",
        ),
    ];
    for (operation, body, message) in cases {
        let reply = call(&server, operation, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{operation} {body}");
        assert_eq!(reply.json(), not_found(message), "{operation} {body}");
    }
    server.stop().await;
}

// Issue 14, item 4: RemoveTagsFromStream checks its keys as AddTagsToStream does, once
// the stream exists, and a refused call removes nothing.
#[tokio::test]
async fn remove_tags_from_stream_validates_keys() {
    let server = TestServer::start().await;
    let reply = call(&server, "RemoveTagsFromStream", r#"{"StreamName": "S", "TagKeys": ["a%"]}"#).await;
    assert_eq!(
        reply.json(),
        serde_json::json!({"__type": "ResourceNotFoundException", "message": "Stream S under account 000000000000 not found."})
    );
    call(&server, "CreateStream", r#"{"StreamName": "S", "ShardCount": 1}"#).await;
    let reply = call(&server, "AddTagsToStream", r#"{"StreamName": "S", "Tags": {"k": "v"}}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = call(&server, "RemoveTagsFromStream", r#"{"StreamName": "S", "TagKeys": ["k", "a!"]}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        serde_json::json!({
            "__type": "InvalidArgumentException",
            "message": "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :."
        })
    );
    let reply = call(&server, "RemoveTagsFromStream", r#"{"StreamName": "S", "TagKeys": ["k", "a%"]}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        serde_json::json!({
            "__type": "InvalidArgumentException",
            "message": "Failed to remove tags from stream S under account 000000000000 because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'."
        })
    );
    let reply = call(&server, "ListTagsForStream", r#"{"StreamName": "S"}"#).await;
    assert_eq!(reply.json()["Tags"], serde_json::json!([{"Key": "k", "Value": "v"}]));
    server.stop().await;
}

/// A sequence number from its hexadecimal digits, the form AWS's layouts are defined on.
fn sequence_number(hex: &str) -> String {
    rheo_storage::decimal_from_hex(hex).unwrap()
}

// Issue 14, item 6 (AWS recordings; kinesalite test/getShardIterator.js for the quoted
// version-0 number): GetShardIterator compares the shard a sequence number encodes with
// the requested one before asking whether the stream issued it.
#[tokio::test]
async fn get_shard_iterator_checks_the_shard_a_sequence_number_encodes() {
    let server = TestServer::start().await;
    call(&server, "CreateStream", r#"{"StreamName": "s", "ShardCount": 2}"#).await;
    let invalid = |message: String| serde_json::json!({"__type": "InvalidArgumentException", "message": message});
    let at = |shard: &str, sequence_number: &str| {
        serde_json::json!({
            "StreamName": "s",
            "ShardId": shard,
            "ShardIteratorType": "AT_SEQUENCE_NUMBER",
            "StartingSequenceNumber": sequence_number,
        })
        .to_string()
    };
    let negative = sequence_number("20000000000000000000000000000000000000800000002");
    let counter_high = sequence_number("20000000000800000000000000000000000000000000002");
    let cases = [
        ("shardId-000000000001", "5".to_owned(), "Invalid StartingSequenceNumber. It encodes shardId-000000000005, while it was used in a call to a shard with shardId-000000000001".to_owned()),
        ("shardId-000000000000", negative, "Invalid StartingSequenceNumber. It encodes shardId--02147483648, while it was used in a call to a shard with shardId-000000000000".to_owned()),
        ("shardId-000000000000", "0".to_owned(), "StartingSequenceNumber 21267647932558653966460912964485513216 used in GetShardIterator on shard shardId-000000000000 in stream s under account 000000000000 is invalid because it did not come from this stream.".to_owned()),
        ("shardId-000000000000", counter_high.clone(), format!("StartingSequenceNumber {counter_high} used in GetShardIterator on shard shardId-000000000000 in stream s under account 000000000000 is invalid.")),
    ];
    for (shard, sequence_number, message) in cases {
        let reply = call(&server, "GetShardIterator", &at(shard, &sequence_number)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{shard} {sequence_number}");
        assert_eq!(reply.json(), invalid(message), "{shard} {sequence_number}");
    }
    server.stop().await;
}

// Issue 14, item 7 (AWS recordings): SequenceNumberForOrdering accepts version-1 numbers
// and refuses version-2 numbers created at 16025175000 s or later.
#[tokio::test]
async fn sequence_number_for_ordering_follows_aws_layouts() {
    let server = TestServer::start().await;
    call(&server, "CreateStream", r#"{"StreamName": "S", "ShardCount": 1}"#).await;
    let put = |ordering: &str| {
        serde_json::json!({"StreamName": "S", "PartitionKey": "a", "Data": "aGk=", "SequenceNumberForOrdering": ordering})
            .to_string()
    };
    let version_1 = sequence_number("20000000000000000000000000000000000000000000001");
    let reply = call(&server, "PutRecord", &put(&version_1)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(members(&reply.json()), ["SequenceNumber", "ShardId"]);
    let too_late = sequence_number("23bb2cc3d80000000000000000000000000000000000002");
    let reply = call(&server, "PutRecord", &put(&too_late)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        serde_json::json!({
            "__type": "InvalidArgumentException",
            "message": format!("ExclusiveMinimumSequenceNumber {too_late} used in PutRecord on stream S under account 000000000000 is invalid.")
        })
    );
    server.stop().await;
}
