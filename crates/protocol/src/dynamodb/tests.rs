//! Unit and property tests of the DynamoDB codec: one request per operation (the shapes
//! KCL sends among them) round-trips, attribute values pass through as JSON untouched,
//! Coral's texts come out of the model tables, and the decoder never panics.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{json, Value};

use super::model::*;
use super::*;

const TABLE_ARN: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/leases";

fn decode_json(operation: DynamoDbOperation, body: &Value) -> Result<DynamoDbRequest, DecodeError> {
    decode_request(operation, body.to_string().as_bytes())
}

fn validation(operation: DynamoDbOperation, body: Value) -> String {
    match decode_json(operation, &body) {
        Err(DecodeError::Validation(message)) => message,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// A lease item as KCL writes it, with every attribute value type.
fn lease() -> Value {
    json!({
        "leaseKey": {"S": "shardId-000000000000"},
        "leaseCounter": {"N": "12"},
        "ownerSwitchesSinceCheckpoint": {"N": "0"},
        "checkpoint": {"S": "TRIM_HORIZON"},
        "checkpointSubSequenceNumber": {"N": "0"},
        "parentShardId": {"SS": ["shardId-000000000001", "shardId-000000000002"]},
        "hashKeyRange": {"M": {"start": {"S": "0"}, "end": {"S": "340282366920938463463374607431768211455"}}},
        "blob": {"B": "AAEC"},
        "blobs": {"BS": ["AAEC", "AwQ="]},
        "numbers": {"NS": ["1", "-2.5e3"]},
        "flag": {"BOOL": true},
        "nothing": {"NULL": true},
        "list": {"L": [{"S": "a"}, {"N": "1"}]}
    })
}

fn key() -> Value {
    json!({"leaseKey": {"S": "shardId-000000000000"}})
}

/// One valid request body per operation, with the members KCL and boto3 send.
fn request_bodies() -> Vec<(DynamoDbOperation, Value)> {
    use DynamoDbOperation as Op;
    vec![
        (
            Op::BatchGetItem,
            json!({"RequestItems": {"leases": {"Keys": [key()], "ConsistentRead": true, "ProjectionExpression": "#k", "ExpressionAttributeNames": {"#k": "leaseKey"}}}, "ReturnConsumedCapacity": "TOTAL"}),
        ),
        (
            Op::BatchWriteItem,
            json!({"RequestItems": {"leases": [{"PutRequest": {"Item": lease()}}, {"DeleteRequest": {"Key": key()}}]}}),
        ),
        (
            Op::CreateTable,
            json!({
                "TableName": "leases",
                "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}, {"AttributeName": "leaseOwner", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [{
                    "IndexName": "LeaseOwnerToLeaseKeyIndex",
                    "KeySchema": [{"AttributeName": "leaseOwner", "KeyType": "HASH"}, {"AttributeName": "leaseKey", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"}
                }],
                "BillingMode": "PAY_PER_REQUEST",
                "DeletionProtectionEnabled": false,
                "Tags": [{"Key": "team", "Value": "streams"}]
            }),
        ),
        (
            Op::DeleteItem,
            json!({"TableName": "leases", "Key": key(), "Expected": {"leaseOwner": {"Value": {"S": "worker-1"}, "Exists": true}}, "ReturnValues": "ALL_OLD"}),
        ),
        (Op::DeleteTable, json!({"TableName": "leases"})),
        (Op::DescribeContinuousBackups, json!({"TableName": "leases"})),
        (Op::DescribeEndpoints, json!({})),
        (Op::DescribeLimits, json!({})),
        (Op::DescribeTable, json!({"TableName": "leases"})),
        (Op::DescribeTimeToLive, json!({"TableName": "leases"})),
        (Op::GetItem, json!({"TableName": "leases", "Key": key(), "ConsistentRead": true})),
        (Op::ListTables, json!({"ExclusiveStartTableName": "abc", "Limit": 100})),
        (Op::ListTagsOfResource, json!({"ResourceArn": TABLE_ARN, "NextToken": "t"})),
        (Op::PutItem, json!({"TableName": "leases", "Item": lease(), "Expected": {"leaseKey": {"Exists": false}}})),
        (
            Op::Query,
            json!({
                "TableName": "leases", "IndexName": "LeaseOwnerToLeaseKeyIndex",
                "KeyConditionExpression": "leaseOwner = :leaseOwner",
                "ExpressionAttributeValues": {":leaseOwner": {"S": "worker-1"}},
                "ScanIndexForward": false, "Limit": 10, "ExclusiveStartKey": key()
            }),
        ),
        (
            Op::Scan,
            json!({"TableName": "leases", "Limit": 5, "Segment": 1, "TotalSegments": 4, "FilterExpression": "attribute_exists(#o)", "ExpressionAttributeNames": {"#o": "leaseOwner"}}),
        ),
        (Op::TagResource, json!({"ResourceArn": TABLE_ARN, "Tags": [{"Key": "k", "Value": "v"}]})),
        (
            Op::TransactGetItems,
            json!({"TransactItems": [{"Get": {"TableName": "leases", "Key": key(), "ProjectionExpression": "leaseCounter"}}]}),
        ),
        (
            Op::TransactWriteItems,
            json!({"TransactItems": [
                {"ConditionCheck": {"TableName": "leases", "Key": key(), "ConditionExpression": "attribute_exists(leaseKey)"}},
                {"Put": {"TableName": "leases", "Item": lease(), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
                {"Update": {"TableName": "leases", "Key": key(), "UpdateExpression": "ADD leaseCounter :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                {"Delete": {"TableName": "leases", "Key": key()}}
            ], "ClientRequestToken": "token-1"}),
        ),
        (Op::UntagResource, json!({"ResourceArn": TABLE_ARN, "TagKeys": ["k"]})),
        (
            Op::UpdateContinuousBackups,
            json!({"TableName": "leases", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
        ),
        (
            Op::UpdateItem,
            json!({
                "TableName": "leases", "Key": key(),
                "AttributeUpdates": {
                    "leaseCounter": {"Action": "ADD", "Value": {"N": "1"}},
                    "leaseOwner": {"Action": "PUT", "Value": {"S": "worker-2"}},
                    "pendingCheckpoint": {"Action": "DELETE"}
                },
                "Expected": {"leaseCounter": {"Value": {"N": "12"}, "Exists": true}, "leaseOwner": {"ComparisonOperator": "NULL"}},
                "ReturnValues": "ALL_NEW",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"
            }),
        ),
        (
            Op::UpdateTable,
            json!({
                "TableName": "leases",
                "AttributeDefinitions": [{"AttributeName": "leaseOwner", "AttributeType": "S"}, {"AttributeName": "leaseKey", "AttributeType": "S"}],
                "GlobalSecondaryIndexUpdates": [{"Create": {
                    "IndexName": "LeaseOwnerToLeaseKeyIndex",
                    "KeySchema": [{"AttributeName": "leaseOwner", "KeyType": "HASH"}, {"AttributeName": "leaseKey", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"}
                }}]
            }),
        ),
        (
            Op::UpdateTimeToLive,
            json!({"TableName": "leases", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "expiresAt"}}),
        ),
    ]
}

#[test]
fn targets_name_operations() {
    assert_eq!(DynamoDbOperation::ALL.len(), 24);
    assert_eq!(DynamoDbOperation::from_target("DynamoDB_20120810.PutItem"), Some(Ok(DynamoDbOperation::PutItem)));
    assert_eq!(
        DynamoDbOperation::from_target("DynamoDB_20120810.ExecuteStatement"),
        Some(Err(UnknownDynamoDbOperation("ExecuteStatement".into())))
    );
    // DynamoDB Streams and the 2011 API have their own prefixes.
    assert_eq!(DynamoDbOperation::from_target("DynamoDBStreams_20120810.ListStreams"), None);
    assert_eq!(DynamoDbOperation::from_target("DynamoDB_20111205.PutItem"), None);
    for operation in DynamoDbOperation::ALL {
        let target = format!("{TARGET_PREFIX}{}", operation.name());
        assert_eq!(DynamoDbOperation::from_target(&target), Some(Ok(*operation)));
    }
}

#[test]
fn every_operation_round_trips_its_request() {
    let bodies = request_bodies();
    let covered: Vec<_> = bodies.iter().map(|(operation, _)| *operation).collect();
    assert_eq!(covered, DynamoDbOperation::ALL);
    for (operation, body) in bodies {
        let request = decode_json(operation, &body).unwrap_or_else(|error| panic!("{operation:?}: {error}"));
        assert_eq!(request.operation(), operation);
        let encoded = encode_request(&request);
        let reencoded: Value = serde_json::from_slice(&encoded).unwrap();
        assert_eq!(reencoded, body, "{operation:?} re-encodes every member it decoded");
        assert_eq!(decode_request(operation, &encoded), Ok(request));
    }
}

#[test]
fn attribute_values_pass_through_untouched() {
    // Attribute values are rheo-dynamodb's to read: the codec neither checks nor changes
    // them, even when they are not valid values (two types, a number that is no number).
    let odd = json!({"leaseKey": {"S": "a", "N": "1"}, "n": {"N": "not a number"}, "empty": {}});
    let body = json!({"TableName": "leases", "Item": odd});
    let DynamoDbRequest::PutItem(input) = decode_json(DynamoDbOperation::PutItem, &body).unwrap() else {
        panic!("a PutItem request")
    };
    let item: serde_json::Map<String, Value> =
        input.item.iter().map(|(name, value)| (name.clone(), value.as_json().clone())).collect();
    assert_eq!(Value::Object(item), odd);
}

#[test]
fn responses_round_trip() {
    let described = json!({"Table": {
        "TableName": "leases", "TableArn": TABLE_ARN, "TableStatus": "ACTIVE", "ItemCount": 3, "TableSizeBytes": 120,
        "CreationDateTime": 1_700_000_000.5,
        "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 0},
        "GlobalSecondaryIndexes": [{
            "IndexName": "LeaseOwnerToLeaseKeyIndex", "IndexStatus": "CREATING", "Backfilling": true,
            "KeySchema": [{"AttributeName": "leaseOwner", "KeyType": "HASH"}, {"AttributeName": "leaseKey", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}, "ItemCount": 0, "IndexSizeBytes": 0,
            "IndexArn": format!("{TABLE_ARN}/index/LeaseOwnerToLeaseKeyIndex")
        }],
        "DeletionProtectionEnabled": false
    }});
    let response = decode_response(DynamoDbOperation::DescribeTable, described.to_string().as_bytes()).unwrap();
    let DynamoDbResponse::DescribeTable(output) = &response else { panic!("a DescribeTable response") };
    assert_eq!(output.table.as_ref().and_then(|table| table.table_status), Some(TableStatus::Active));
    assert_eq!(serde_json::from_slice::<Value>(&encode_response(&response)).unwrap(), described);

    let scanned = json!({"Items": [lease()], "Count": 1, "ScannedCount": 2, "LastEvaluatedKey": key()});
    let response = decode_response(DynamoDbOperation::Scan, scanned.to_string().as_bytes()).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&encode_response(&response)).unwrap(), scanned);
}

#[test]
fn outputs_without_members_answer_empty_objects_or_bodies() {
    let response = DynamoDbResponse::UpdateItem(UpdateItemOutput {
        attributes: None,
        consumed_capacity: None,
        item_collection_metrics: None,
    });
    assert_eq!(encode_response(&response), b"{}");
    // TagResource and UntagResource have no output shape: an empty body, as AWS answers.
    assert_eq!(encode_response(&DynamoDbResponse::TagResource(EmptyOutput)), b"");
}

#[test]
fn validation_texts_come_from_the_model() {
    use DynamoDbOperation as Op;
    assert_eq!(
        validation(Op::GetItem, json!({"Key": key()})),
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        validation(Op::ListTables, json!({"Limit": 0})),
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    assert_eq!(
        validation(Op::ListTables, json!({"Limit": 101})),
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"
    );
    assert_eq!(
        validation(Op::Scan, json!({"TableName": "leases", "Select": "EVERYTHING"})),
        "1 validation error detected: Value 'EVERYTHING' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES, SPECIFIC_ATTRIBUTES, COUNT]"
    );
    let message = validation(Op::Scan, json!({"TableName": "leases", "Limit": 0, "Segment": -1}));
    assert!(message.starts_with("2 validation errors detected: "), "{message}");
}

#[test]
fn type_errors_are_coral_texts() {
    assert_eq!(
        decode_json(DynamoDbOperation::GetItem, &json!({"TableName": 5, "Key": key()})),
        Err(DecodeError::TypeMismatch(
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String".into()
        ))
    );
    assert_eq!(
        decode_json(
            DynamoDbOperation::GetItem,
            &json!({"TableName": "leases", "Key": key(), "ConsistentRead": [true]})
        )
        .map(|_| ()),
        Err(DecodeError::TypeMismatch("Start of list found where not expected".into()))
    );
    assert_eq!(decode_request(DynamoDbOperation::ListTables, b"{"), Err(DecodeError::Unparseable));
    assert_eq!(
        decode_request(DynamoDbOperation::ListTables, b"[]"),
        Err(DecodeError::TypeMismatch("Start of list found where not expected".into()))
    );
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        prop_oneof![
            Just("leases".to_owned()),
            Just(TABLE_ARN.to_owned()),
            Just("ALL_NEW".to_owned()),
            Just("PAY_PER_REQUEST".to_owned()),
            Just("HASH".to_owned()),
            "[a-zA-Z0-9_.-]{0,12}",
            "\\PC{0,8}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec((member_name(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn member_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("TableName"),
        Just("Key"),
        Just("Item"),
        Just("S"),
        Just("N"),
        Just("Expected"),
        Just("Exists"),
        Just("Value"),
        Just("AttributeUpdates"),
        Just("Action"),
        Just("ConditionExpression"),
        Just("ExpressionAttributeValues"),
        Just("KeySchema"),
        Just("AttributeDefinitions"),
        Just("GlobalSecondaryIndexUpdates"),
        Just("Create"),
        Just("RequestItems"),
        Just("TransactItems"),
        Just("Put"),
        Just("Limit"),
        Just("Segment"),
        Just("TotalSegments"),
        Just("ReturnValues"),
        Just("Unknown"),
    ]
    .prop_map(str::to_owned)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decoding_never_panics(body in json_value(), index in 0usize..24) {
        let operation = DynamoDbOperation::ALL[index % DynamoDbOperation::ALL.len()];
        let _ = decode_request(operation, body.to_string().as_bytes());
    }

    #[test]
    fn decoding_bytes_never_panics(body in prop::collection::vec(any::<u8>(), 0..64)) {
        for operation in DynamoDbOperation::ALL {
            let _ = decode_request(*operation, &body);
        }
    }

    #[test]
    fn keys_round_trip(table in "[a-zA-Z0-9_.-]{3,255}", hash in "\\PC{1,16}", consistent in any::<bool>()) {
        let body = json!({"TableName": table, "Key": {"k": {"S": hash}}, "ConsistentRead": consistent});
        let request = decode_json(DynamoDbOperation::GetItem, &body).unwrap();
        prop_assert_eq!(decode_request(request.operation(), &encode_request(&request)), Ok(request));
    }
}
