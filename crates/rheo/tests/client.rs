//! `rheo-client`'s typed calls against a real server: JSON and CBOR Kinesis, DynamoDB,
//! Firehose, the shard map, and errors carried back with their AWS types.

mod common;

use common::streams::{create_active, read_shard};

use bytes::Bytes;
use common::Server;
use rheo_client::shards::{partition_key_hash, ShardMap};
use rheo_client::{ClientConfig, ClientError, DynamoDb, Kinesis};
use rheo_protocol::dynamodb::model as ddb;
use rheo_protocol::dynamodb::{DynamoDbOperation, DynamoDbResponse};
use rheo_protocol::model::{DescribeStreamSummaryInput, PutRecordsInput, PutRecordsRequestEntry};
use rheo_protocol::Document;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinesis_calls_round_trip_in_json_and_cbor() {
    let server = Server::start(&[]);
    let config = ClientConfig::local(&server.endpoint);
    for (stream, kinesis) in [("json", Kinesis::new(&config).unwrap()), ("cbor", Kinesis::new_cbor(&config).unwrap())] {
        create_active(&kinesis, stream, 2).await;
        let map = ShardMap::load(&kinesis, stream).await.expect("shards");
        assert_eq!(map.open_shards().count(), 2);
        let records: Vec<_> = (0..10)
            .map(|i| PutRecordsRequestEntry {
                partition_key: Some(format!("key-{i}")),
                explicit_hash_key: None,
                data: Bytes::from(format!("record {i}")),
            })
            .collect();
        let put = kinesis
            .put_records(PutRecordsInput {
                records,
                stream_name: Some(stream.into()),
                stream_arn: None,
                stream_id: None,
                dry_run: None,
            })
            .await
            .expect("put");
        assert_eq!(put.failed_record_count.unwrap_or(0), 0);
        for (i, entry) in put.records.iter().enumerate() {
            let expected = map.shard_for_hash(partition_key_hash(&format!("key-{i}"))).unwrap();
            assert_eq!(entry.shard_id.as_deref(), Some(expected.shard_id.as_str()));
        }
        let mut read = 0;
        for shard in map.shards() {
            read += read_shard(&kinesis, stream, &shard.shard_id).await.len();
        }
        assert_eq!(read, 10);
    }
    for kinesis in [Kinesis::new(&config).unwrap(), Kinesis::new_cbor(&config).unwrap()] {
        let missing = kinesis
            .describe_stream_summary(DescribeStreamSummaryInput {
                stream_name: Some("missing".into()),
                stream_arn: None,
                stream_id: None,
            })
            .await
            .unwrap_err();
        assert_eq!(missing.error_type(), Some("ResourceNotFoundException"), "{missing}");
        assert!(!missing.is_retryable());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_failures_are_transport_errors_that_may_be_retried() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let kinesis = Kinesis::new(&ClientConfig::local(&format!("http://127.0.0.1:{port}"))).unwrap();
    let error = kinesis
        .describe_stream_summary(DescribeStreamSummaryInput {
            stream_name: Some("s".into()),
            stream_arn: None,
            stream_id: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Transport { .. }), "{error}");
    assert!(error.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_items_round_trip() {
    let server = Server::start(&[]);
    let dynamodb = DynamoDb::new(&ClientConfig::local(&server.endpoint)).unwrap();
    let created = dynamodb
        .call_json(
            DynamoDbOperation::CreateTable,
            &json!({
                "TableName": "leases",
                "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            }),
        )
        .await
        .expect("create table");
    assert!(matches!(created, DynamoDbResponse::CreateTable(_)));
    let item = json!({"leaseKey": {"S": "shardId-000000000000"}, "leaseCounter": {"N": "1"}});
    dynamodb.call_json(DynamoDbOperation::PutItem, &json!({"TableName": "leases", "Item": item})).await.expect("put");
    let conflict = dynamodb
        .call_json(
            DynamoDbOperation::PutItem,
            &json!({"TableName": "leases", "Item": item, "ConditionExpression": "attribute_not_exists(leaseKey)"}),
        )
        .await
        .unwrap_err();
    assert_eq!(conflict.error_type(), Some("ConditionalCheckFailedException"), "{conflict}");
    let got = dynamodb
        .get_item(ddb::GetItemInput {
            table_name: "leases".into(),
            key: [("leaseKey".to_owned(), Document::new(json!({"S": "shardId-000000000000"})))].into(),
            attributes_to_get: None,
            consistent_read: Some(true),
            return_consumed_capacity: None,
            projection_expression: None,
            expression_attribute_names: None,
        })
        .await
        .expect("get");
    let got = got.item.expect("the item");
    assert_eq!(got["leaseCounter"].as_json(), &json!({"N": "1"}));
}
