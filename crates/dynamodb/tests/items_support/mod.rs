//! What the item, query, batch and transaction tests share beyond `common`: the tables the
//! Kinesis Client Library creates, its lease items, and short ways to read answers.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use rheo_dynamodb::DynamoError;
use serde_json::{json, Value};

use crate::common::TestDb;

/// The lease table KCL creates for an application, with the index KCL 3 adds.
pub const LEASES: &str = "kclapp";
pub const LEASE_OWNER_INDEX: &str = "LeaseOwnerToLeaseKeyIndex";

/// Creates KCL's lease table (`leaseKey`, on demand) and adds its `leaseOwner` index the way
/// KCL 3 does: UpdateTable, on demand, without throughput.
pub async fn create_lease_table(db: &TestDb) {
    db.create_simple_table(LEASES, "leaseKey", None).await;
    db.ok(
        "UpdateTable",
        json!({
            "TableName": LEASES,
            "AttributeDefinitions": [
                {"AttributeName": "leaseKey", "AttributeType": "S"},
                {"AttributeName": "leaseOwner", "AttributeType": "S"},
            ],
            "GlobalSecondaryIndexUpdates": [{"Create": {
                "IndexName": LEASE_OWNER_INDEX,
                "KeySchema": [
                    {"AttributeName": "leaseOwner", "KeyType": "HASH"},
                    {"AttributeName": "leaseKey", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }}],
        }),
    )
    .await;
    // Transitions take no time in tests; a DescribeTable applies them, as KCL's polling does.
    let described = db.ok("DescribeTable", json!({"TableName": LEASES})).await;
    assert_eq!(described["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"], "ACTIVE", "{described}");
}

/// A lease item as KCL's `createLeaseIfNotExists` writes it.
pub fn lease_item(shard: &str, owner: Option<&str>, counter: u64) -> Value {
    let mut item = json!({
        "leaseKey": {"S": shard},
        "leaseCounter": {"N": counter.to_string()},
        "checkpoint": {"S": "TRIM_HORIZON"},
        "checkpointSubSequenceNumber": {"N": "0"},
        "ownerSwitchesSinceCheckpoint": {"N": "0"},
        "startingHashKey": {"S": "0"},
        "endingHashKey": {"S": "340282366920938463463374607431768211455"},
    });
    if let Some(owner) = owner {
        item["leaseOwner"] = json!({"S": owner});
    }
    item
}

/// KCL's lease creation: a put that only succeeds when no lease has that key.
pub async fn create_lease(db: &TestDb, shard: &str) -> Result<Value, DynamoError> {
    db.call(
        "PutItem",
        json!({
            "TableName": LEASES,
            "Item": lease_item(shard, None, 0),
            "Expected": {"leaseKey": {"Exists": false}},
        }),
    )
    .await
}

/// KCL's lease take: the counter must still be what the taker saw; it becomes the owner,
/// bumps the counter and counts an owner switch.
pub fn take_lease_request(shard: &str, seen_counter: u64, new_owner: &str) -> Value {
    json!({
        "TableName": LEASES,
        "Key": {"leaseKey": {"S": shard}},
        "Expected": {"leaseCounter": {"Value": {"N": seen_counter.to_string()}}},
        "AttributeUpdates": {
            "leaseOwner": {"Value": {"S": new_owner}, "Action": "PUT"},
            "leaseCounter": {"Value": {"N": (seen_counter + 1).to_string()}, "Action": "PUT"},
            "ownerSwitchesSinceCheckpoint": {"Value": {"N": "1"}, "Action": "ADD"},
        },
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    })
}

/// KCL's lease renewal: counter and owner must match; the counter goes up.
pub fn renew_lease_request(shard: &str, counter: u64, owner: &str) -> Value {
    json!({
        "TableName": LEASES,
        "Key": {"leaseKey": {"S": shard}},
        "Expected": {
            "leaseCounter": {"Value": {"N": counter.to_string()}},
            "leaseOwner": {"Value": {"S": owner}},
        },
        "AttributeUpdates": {"leaseCounter": {"Value": {"N": (counter + 1).to_string()}, "Action": "PUT"}},
    })
}

/// The stored item under a string hash key, or `Value::Null` when there is none.
pub async fn get(db: &TestDb, table: &str, key_name: &str, key: &str) -> Value {
    let answer =
        db.ok("GetItem", json!({"TableName": table, "Key": {key_name: {"S": key}}, "ConsistentRead": true})).await;
    answer.get("Item").cloned().unwrap_or(Value::Null)
}

/// The text of a validation error, failing the test for any other error.
pub fn validation_text(error: DynamoError) -> String {
    match error {
        DynamoError::Validation(text) => text,
        other => panic!("expected a ValidationException, got {other:?}"),
    }
}

/// Whether the error is DynamoDB's ConditionalCheckFailedException; its old item.
pub fn condition_failed(error: DynamoError) -> Option<rheo_dynamodb::value::Item> {
    match error {
        DynamoError::ConditionalCheckFailed { item } => item,
        other => panic!("expected a ConditionalCheckFailedException, got {other:?}"),
    }
}
