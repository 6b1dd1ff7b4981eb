#![allow(clippy::unwrap_used)]

//! PutItem, GetItem, UpdateItem and DeleteItem: the Kinesis Client Library's exact lease,
//! lock-client and worker-metrics calls, atomicity of conditional writes, `ReturnValues`,
//! and DynamoDB's validation texts.

mod common;
mod items_support;

use std::sync::Arc;

use common::TestDb;
use items_support::*;
use rheo_dynamodb::DynamoError;
use serde_json::json;

#[tokio::test]
async fn put_then_get_returns_the_item_and_a_missing_item_answers_empty() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl", "id", None).await;
    let item =
        json!({"id": {"S": "a"}, "n": {"N": "1.50"}, "tags": {"SS": ["x", "y"]}, "m": {"M": {"b": {"BOOL": true}}}});
    let answer = db.ok("PutItem", json!({"TableName": "tbl", "Item": item})).await;
    assert_eq!(answer, json!({}));
    let stored = get(&db, "tbl", "id", "a").await;
    assert_eq!(stored["n"], json!({"N": "1.5"}), "numbers come back in DynamoDB's canonical text");
    assert_eq!(stored["m"], json!({"M": {"b": {"BOOL": true}}}));
    let missing = db.ok("GetItem", json!({"TableName": "tbl", "Key": {"id": {"S": "nope"}}})).await;
    assert_eq!(missing, json!({}));
}

#[tokio::test]
async fn get_item_projects_with_an_expression_or_attributes_to_get() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl", "id", None).await;
    db.ok("PutItem", json!({"TableName": "tbl", "Item": {"id": {"S": "a"}, "x": {"S": "1"}, "y": {"S": "2"}}})).await;
    let projected = db
        .ok(
            "GetItem",
            json!({"TableName": "tbl", "Key": {"id": {"S": "a"}}, "ProjectionExpression": "#x",
                   "ExpressionAttributeNames": {"#x": "x"}}),
        )
        .await;
    assert_eq!(projected, json!({"Item": {"x": {"S": "1"}}}));
    let legacy =
        db.ok("GetItem", json!({"TableName": "tbl", "Key": {"id": {"S": "a"}}, "AttributesToGet": ["y"]})).await;
    assert_eq!(legacy, json!({"Item": {"y": {"S": "2"}}}));
    let both = db
        .err(
            "GetItem",
            json!({"TableName": "tbl", "Key": {"id": {"S": "a"}}, "AttributesToGet": ["y"], "ProjectionExpression": "x"}),
        )
        .await;
    assert_eq!(
        validation_text(both),
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: \
         {AttributesToGet} Expression parameters: {ProjectionExpression}"
    );
}

#[tokio::test]
async fn kcl_creates_a_lease_only_once() {
    let db = TestDb::in_memory();
    create_lease_table(&db).await;
    create_lease(&db, "shardId-000000000000").await.unwrap();
    let again = create_lease(&db, "shardId-000000000000").await.unwrap_err();
    assert_eq!(condition_failed(again), None, "no old item unless ReturnValuesOnConditionCheckFailure asks");
    assert_eq!(get(&db, LEASES, "leaseKey", "shardId-000000000000").await["leaseCounter"], json!({"N": "0"}));
}

#[tokio::test]
async fn kcl_takes_renews_and_checkpoints_a_lease() {
    let db = TestDb::in_memory();
    create_lease_table(&db).await;
    let shard = "shardId-000000000001";
    create_lease(&db, shard).await.unwrap();

    db.ok("UpdateItem", take_lease_request(shard, 0, "worker-1")).await;
    let lease = get(&db, LEASES, "leaseKey", shard).await;
    assert_eq!(lease["leaseOwner"], json!({"S": "worker-1"}));
    assert_eq!(lease["leaseCounter"], json!({"N": "1"}));
    assert_eq!(lease["ownerSwitchesSinceCheckpoint"], json!({"N": "1"}), "ADD adds to the stored number");

    db.ok("UpdateItem", renew_lease_request(shard, 1, "worker-1")).await;
    assert_eq!(get(&db, LEASES, "leaseKey", shard).await["leaseCounter"], json!({"N": "2"}));

    // A renewal by a worker that lost the lease fails and changes nothing.
    let stale = db.err("UpdateItem", renew_lease_request(shard, 1, "worker-1")).await;
    assert_eq!(condition_failed(stale), None);
    let wrong_owner = db.err("UpdateItem", renew_lease_request(shard, 2, "worker-2")).await;
    assert_eq!(condition_failed(wrong_owner), None);
    assert_eq!(get(&db, LEASES, "leaseKey", shard).await["leaseCounter"], json!({"N": "2"}));

    // A stale take answers the lease as it is, as KCL asks with ALL_OLD.
    let stale_take = db.err("UpdateItem", take_lease_request(shard, 0, "worker-2")).await;
    let old = condition_failed(stale_take).expect("the old item");
    assert_eq!(rheo_dynamodb::value::item_to_wire(&old)["leaseCounter"].as_json(), &json!({"N": "2"}));

    let checkpoint = json!({
        "TableName": LEASES,
        "Key": {"leaseKey": {"S": shard}},
        "Expected": {"leaseCounter": {"Value": {"N": "2"}}, "leaseOwner": {"Value": {"S": "worker-1"}}},
        "AttributeUpdates": {
            "checkpoint": {"Value": {"S": "49590338271490256608559692538361571095921575989136588898"}, "Action": "PUT"},
            "checkpointSubSequenceNumber": {"Value": {"N": "0"}, "Action": "PUT"},
            "ownerSwitchesSinceCheckpoint": {"Value": {"N": "0"}, "Action": "PUT"},
            "leaseCounter": {"Value": {"N": "3"}, "Action": "PUT"},
            "pendingCheckpoint": {"Action": "DELETE"},
        },
        "ReturnValues": "UPDATED_NEW",
    });
    let answer = db.ok("UpdateItem", checkpoint).await;
    assert_eq!(answer["Attributes"]["leaseCounter"], json!({"N": "3"}));
    assert_eq!(answer["Attributes"]["ownerSwitchesSinceCheckpoint"], json!({"N": "0"}));
    assert!(answer["Attributes"].get("leaseOwner").is_none(), "UPDATED_NEW holds only what changed: {answer}");
    let lease = get(&db, LEASES, "leaseKey", shard).await;
    assert_eq!(lease["checkpoint"], json!({"S": "49590338271490256608559692538361571095921575989136588898"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_taking_one_lease_at_once_never_both_win() {
    let db = Arc::new(TestDb::in_memory());
    create_lease_table(&db).await;
    for shard_number in 0..16 {
        let shard = format!("shardId-{shard_number:012}");
        create_lease(&db, &shard).await.unwrap();
        let takes = ["worker-a", "worker-b"].map(|worker| {
            let db = Arc::clone(&db);
            let request = take_lease_request(&shard, 0, worker);
            tokio::spawn(async move { db.call("UpdateItem", request).await })
        });
        let mut winners = 0;
        for take in takes {
            match take.await.unwrap() {
                Ok(_) => winners += 1,
                Err(error) => assert!(condition_failed(error).is_some(), "the loser sees the winner's lease"),
            }
        }
        assert_eq!(winners, 1, "exactly one take of {shard} succeeds");
        let lease = get(&db, LEASES, "leaseKey", &shard).await;
        assert_eq!(lease["leaseCounter"], json!({"N": "1"}));
        assert_eq!(lease["ownerSwitchesSinceCheckpoint"], json!({"N": "1"}));
    }
}

#[tokio::test]
async fn lock_client_takes_the_leader_item_once_and_heartbeats_only_with_its_version() {
    let db = TestDb::in_memory();
    db.create_simple_table("kclapp-CoordinatorState", "key", None).await;
    let acquire = |owner: &str, rvn: &str| {
        json!({
            "TableName": "kclapp-CoordinatorState",
            "Item": {"key": {"S": "Leader"}, "ownerName": {"S": owner}, "recordVersionNumber": {"S": rvn},
                     "leaseDuration": {"S": "20000"}},
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "key"},
        })
    };
    db.ok("PutItem", acquire("worker-1", "v1")).await;
    condition_failed(db.err("PutItem", acquire("worker-2", "v9")).await);

    let heartbeat = |rvn: &str, new_rvn: &str| {
        json!({
            "TableName": "kclapp-CoordinatorState",
            "Key": {"key": {"S": "Leader"}},
            "UpdateExpression": "SET #rvn = :newRvn, #ld = :ld",
            "ConditionExpression": "attribute_exists(#pk) AND #rvn = :rvn AND #on = :on",
            "ExpressionAttributeNames": {"#pk": "key", "#rvn": "recordVersionNumber", "#on": "ownerName",
                                         "#ld": "leaseDuration"},
            "ExpressionAttributeValues": {":rvn": {"S": rvn}, ":newRvn": {"S": new_rvn}, ":on": {"S": "worker-1"},
                                          ":ld": {"S": "20000"}},
        })
    };
    db.ok("UpdateItem", heartbeat("v1", "v2")).await;
    condition_failed(db.err("UpdateItem", heartbeat("v1", "v3")).await);
    assert_eq!(get(&db, "kclapp-CoordinatorState", "key", "Leader").await["recordVersionNumber"], json!({"S": "v2"}));
}

#[tokio::test]
async fn worker_metric_stats_update_creates_the_item_and_answers_all_new() {
    let db = TestDb::in_memory();
    db.create_simple_table("kclapp-WorkerMetricStats", "wid", None).await;
    let report = json!({
        "TableName": "kclapp-WorkerMetricStats",
        "Key": {"wid": {"S": "worker-1"}},
        "UpdateExpression": "SET #AMZN_MAPPED_lut = :AMZN_MAPPED_lut, #AMZN_MAPPED_opr = :AMZN_MAPPED_opr",
        "ExpressionAttributeNames": {"#AMZN_MAPPED_lut": "lut", "#AMZN_MAPPED_opr": "opr"},
        "ExpressionAttributeValues": {":AMZN_MAPPED_lut": {"N": "1767225600"},
                                      ":AMZN_MAPPED_opr": {"M": {"cpu": {"L": [{"N": "12.5"}]}}}},
        "ReturnValues": "ALL_NEW",
    });
    let answer = db.ok("UpdateItem", report).await;
    assert_eq!(
        answer["Attributes"],
        json!({"wid": {"S": "worker-1"}, "lut": {"N": "1767225600"}, "opr": {"M": {"cpu": {"L": [{"N": "12.5"}]}}}})
    );
    let scanned = db.ok("Scan", json!({"TableName": "kclapp-WorkerMetricStats"})).await;
    assert_eq!(scanned["Count"], 1);
}

#[tokio::test]
async fn an_update_that_only_removes_does_not_create_a_missing_item_but_an_empty_update_does() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl", "id", None).await;
    db.ok(
        "UpdateItem",
        json!({"TableName": "tbl", "Key": {"id": {"S": "removed"}}, "UpdateExpression": "REMOVE gone"}),
    )
    .await;
    db.ok(
        "UpdateItem",
        json!({"TableName": "tbl", "Key": {"id": {"S": "deleted"}}, "AttributeUpdates": {"gone": {"Action": "DELETE"}}}),
    )
    .await;
    assert_eq!(get(&db, "tbl", "id", "removed").await, serde_json::Value::Null);
    assert_eq!(get(&db, "tbl", "id", "deleted").await, serde_json::Value::Null);
    db.ok("UpdateItem", json!({"TableName": "tbl", "Key": {"id": {"S": "bare"}}})).await;
    assert_eq!(get(&db, "tbl", "id", "bare").await, json!({"id": {"S": "bare"}}));
}

#[tokio::test]
async fn return_values_answer_the_old_and_new_parts() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl", "id", None).await;
    let put = json!({"TableName": "tbl", "Item": {"id": {"S": "a"}, "x": {"N": "1"}, "y": {"S": "keep"}}});
    let first = db.ok("PutItem", json!({"ReturnValues": "ALL_OLD", "TableName": "tbl", "Item": put["Item"]})).await;
    assert_eq!(first, json!({}), "no old item, no Attributes");
    let second = db.ok("PutItem", json!({"ReturnValues": "ALL_OLD", "TableName": "tbl", "Item": put["Item"]})).await;
    assert_eq!(second["Attributes"], put["Item"]);
    let refused = db.err("PutItem", json!({"ReturnValues": "ALL_NEW", "TableName": "tbl", "Item": put["Item"]})).await;
    assert_eq!(validation_text(refused), "ReturnValues can only be ALL_OLD or NONE");

    let update = |return_values: &str| {
        json!({"TableName": "tbl", "Key": {"id": {"S": "a"}}, "UpdateExpression": "SET x = x + :one",
               "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": return_values})
    };
    assert_eq!(db.ok("UpdateItem", update("UPDATED_OLD")).await, json!({"Attributes": {"x": {"N": "1"}}}));
    assert_eq!(db.ok("UpdateItem", update("UPDATED_NEW")).await, json!({"Attributes": {"x": {"N": "3"}}}));
    assert_eq!(
        db.ok("UpdateItem", update("ALL_OLD")).await,
        json!({"Attributes": {"id": {"S": "a"}, "x": {"N": "3"}, "y": {"S": "keep"}}})
    );
    assert_eq!(db.ok("UpdateItem", update("NONE")).await, json!({}));

    let deleted =
        db.ok("DeleteItem", json!({"TableName": "tbl", "Key": {"id": {"S": "a"}}, "ReturnValues": "ALL_OLD"})).await;
    assert_eq!(deleted["Attributes"]["x"], json!({"N": "5"}));
    assert_eq!(get(&db, "tbl", "id", "a").await, serde_json::Value::Null);
}

#[tokio::test]
async fn conditional_delete_keeps_the_item_when_the_condition_fails() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl", "id", None).await;
    db.ok("PutItem", json!({"TableName": "tbl", "Item": {"id": {"S": "a"}, "owner": {"S": "w1"}}})).await;
    let refused = db
        .err(
            "DeleteItem",
            json!({"TableName": "tbl", "Key": {"id": {"S": "a"}}, "ConditionExpression": "#o = :o",
                   "ExpressionAttributeNames": {"#o": "owner"}, "ExpressionAttributeValues": {":o": {"S": "w2"}},
                   "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
        )
        .await;
    let old = condition_failed(refused).expect("ALL_OLD returns the item");
    assert_eq!(old.len(), 2);
    db.ok(
        "DeleteItem",
        json!({"TableName": "tbl", "Key": {"id": {"S": "a"}}, "Expected": {"owner": {"Value": {"S": "w1"}}}}),
    )
    .await;
    assert_eq!(get(&db, "tbl", "id", "a").await, serde_json::Value::Null);
}

#[tokio::test]
async fn keys_and_items_are_checked_with_dynamodbs_texts() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl", "id", Some("sort")).await;
    let cases = [
        ("GetItem", json!({"TableName": "tbl", "Key": {"id": {"S": "a"}}}), "The provided key element does not match the schema".to_string()),
        (
            "GetItem",
            json!({"TableName": "tbl", "Key": {"id": {"S": "a"}, "sort": {"N": "1"}}}),
            "The provided key element does not match the schema".to_string(),
        ),
        (
            "PutItem",
            json!({"TableName": "tbl", "Item": {"id": {"S": "a"}}}),
            "One or more parameter values were invalid: Missing the key sort in the item".to_string(),
        ),
        (
            "PutItem",
            json!({"TableName": "tbl", "Item": {"id": {"N": "1"}, "sort": {"S": "a"}}}),
            "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N".to_string(),
        ),
        (
            "PutItem",
            json!({"TableName": "tbl", "Item": {"id": {"S": ""}, "sort": {"S": "a"}}}),
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an \
             empty string value. Key: id"
                .to_string(),
        ),
        (
            "PutItem",
            json!({"TableName": "tbl", "Item": {"id": {"S": "h".repeat(2049)}, "sort": {"S": "a"}}}),
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"
                .to_string(),
        ),
        (
            "PutItem",
            json!({"TableName": "tbl", "Item": {"id": {"S": "a"}, "sort": {"S": "r".repeat(1025)}}}),
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit \
             of 1024 bytes"
                .to_string(),
        ),
        (
            "PutItem",
            json!({"TableName": "tbl", "Item": {"id": {"S": "a"}, "sort": {"S": "b"}, "big": {"S": "x".repeat(400 * 1024)}}}),
            "Item size has exceeded the maximum allowed size".to_string(),
        ),
        (
            "PutItem",
            json!({"TableName": "tbl", "Item": {"id": {"S": "a"}, "sort": {"S": "b"}}, "Expected": {"x": {"Exists": false}},
                   "ConditionExpression": "attribute_not_exists(x)"}),
            "Can not use both expression and non-expression parameters in the same request: Non-expression \
             parameters: {Expected} Expression parameters: {ConditionExpression}"
                .to_string(),
        ),
        (
            "PutItem",
            json!({"TableName": "tbl", "Item": {"id": {"S": "a"}, "sort": {"S": "b"}},
                   "ExpressionAttributeValues": {":v": {"S": "x"}}}),
            "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"
                .to_string(),
        ),
        (
            "UpdateItem",
            json!({"TableName": "tbl", "Key": {"id": {"S": "a"}, "sort": {"S": "b"}},
                   "ExpressionAttributeValues": {":v": {"S": "x"}}}),
            "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and \
             ConditionExpression are null"
                .to_string(),
        ),
        (
            "UpdateItem",
            json!({"TableName": "tbl", "Key": {"id": {"S": "a"}, "sort": {"S": "b"}},
                   "ExpressionAttributeNames": {"#v": "x"}}),
            "ExpressionAttributeNames can only be specified when using expressions".to_string(),
        ),
        (
            "UpdateItem",
            json!({"TableName": "tbl", "Key": {"id": {"S": "a"}, "sort": {"S": "b"}}, "UpdateExpression": "SET #k = :v",
                   "ExpressionAttributeNames": {"#k": "sort"}, "ExpressionAttributeValues": {":v": {"S": "x"}}}),
            "One or more parameter values were invalid: Cannot update attribute sort. This attribute is part of the key"
                .to_string(),
        ),
        (
            "UpdateItem",
            json!({"TableName": "tbl", "Key": {"id": {"S": "a"}, "sort": {"S": "b"}},
                   "AttributeUpdates": {"id": {"Value": {"S": "c"}, "Action": "PUT"}}}),
            "One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key"
                .to_string(),
        ),
    ];
    for (operation, request, text) in cases {
        let error = db.err(operation, request.clone()).await;
        assert_eq!(validation_text(error), text, "{operation} {request}");
    }
    // A bad placeholder value is named in DynamoDB's wrapping of the value's own text.
    let bad_value = db
        .err(
            "PutItem",
            json!({"TableName": "tbl", "Item": {"id": {"S": "a"}, "sort": {"S": "b"}}, "ConditionExpression": "x = :v",
                   "ExpressionAttributeValues": {":v": {"N": "x1"}}}),
        )
        .await;
    let text = validation_text(bad_value);
    assert!(
        text.starts_with("ExpressionAttributeValues contains invalid value: ") && text.ends_with(" for key :v"),
        "{text}"
    );
    assert_eq!(db.ok("Scan", json!({"TableName": "tbl"})).await["Count"], 0, "nothing refused was written");
}

#[tokio::test]
async fn index_key_attributes_must_have_the_index_types() {
    let db = TestDb::in_memory();
    create_lease_table(&db).await;
    let mut item = lease_item("shardId-000000000000", None, 0);
    item["leaseOwner"] = json!({"N": "7"});
    let refused = db.err("PutItem", json!({"TableName": LEASES, "Item": item})).await;
    assert_eq!(
        validation_text(refused),
        "One or more parameter values were invalid: Type mismatch for Index Key leaseOwner Expected: S Actual: N \
         IndexName: LeaseOwnerToLeaseKeyIndex"
    );
}

#[tokio::test]
async fn item_operations_on_a_missing_table_are_resource_not_found() {
    let db = TestDb::in_memory();
    let error = db.err("GetItem", json!({"TableName": "nope", "Key": {"id": {"S": "a"}}})).await;
    assert!(matches!(error, DynamoError::ResourceNotFound(_)), "{error:?}");
}

#[tokio::test]
async fn acknowledged_writes_survive_a_restart() {
    let db = TestDb::on_disk();
    create_lease_table(&db).await;
    create_lease(&db, "shardId-000000000000").await.unwrap();
    db.ok("UpdateItem", take_lease_request("shardId-000000000000", 0, "worker-1")).await;
    let db = db.reopen().await;
    let lease = get(&db, LEASES, "leaseKey", "shardId-000000000000").await;
    assert_eq!(lease["leaseOwner"], json!({"S": "worker-1"}));
    assert_eq!(lease["leaseCounter"], json!({"N": "1"}));
}
