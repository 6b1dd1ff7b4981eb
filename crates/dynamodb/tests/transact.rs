#![allow(clippy::unwrap_used)]

//! TransactWriteItems and TransactGetItems: all or nothing, cancellation reasons in request
//! order, one item at most once, one snapshot for reads.

mod common;
mod items_support;

use common::TestDb;
use items_support::*;
use rheo_dynamodb::DynamoError;
use serde_json::{json, Value};

async fn seeded() -> TestDb {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl", "id", None).await;
    for (id, n) in [("a", "1"), ("b", "2")] {
        db.ok("PutItem", json!({"TableName": "tbl", "Item": {"id": {"S": id}, "n": {"N": n}}})).await;
    }
    db
}

fn check_n(id: &str, n: &str) -> Value {
    json!({"ConditionCheck": {"TableName": "tbl", "Key": {"id": {"S": id}}, "ConditionExpression": "n = :n",
                              "ExpressionAttributeValues": {":n": {"N": n}},
                              "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}})
}

#[tokio::test]
async fn a_transaction_applies_every_action_when_every_condition_holds() {
    let db = seeded().await;
    db.ok(
        "TransactWriteItems",
        json!({"TransactItems": [
            check_n("a", "1"),
            {"Update": {"TableName": "tbl", "Key": {"id": {"S": "b"}}, "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": "tbl", "Item": {"id": {"S": "c"}}, "ConditionExpression": "attribute_not_exists(id)"}},
        ], "ClientRequestToken": "token-1"}),
    )
    .await;
    assert_eq!(get(&db, "tbl", "id", "b").await["n"], json!({"N": "3"}));
    assert_eq!(get(&db, "tbl", "id", "c").await, json!({"id": {"S": "c"}}));
    db.ok(
        "TransactWriteItems",
        json!({"TransactItems": [{"Delete": {"TableName": "tbl", "Key": {"id": {"S": "c"}}}}]}),
    )
    .await;
    assert_eq!(get(&db, "tbl", "id", "c").await, Value::Null);
}

#[tokio::test]
async fn a_failed_condition_cancels_everything_with_reasons_in_order() {
    let db = seeded().await;
    let error = db
        .err(
            "TransactWriteItems",
            json!({"TransactItems": [
                {"Put": {"TableName": "tbl", "Item": {"id": {"S": "c"}}}},
                check_n("a", "9"),
                {"Delete": {"TableName": "tbl", "Key": {"id": {"S": "b"}}}},
            ]}),
        )
        .await;
    let DynamoError::TransactionCanceled { reasons } = error else { panic!("expected a cancellation, got {error:?}") };
    let codes: Vec<&str> = reasons.iter().map(|reason| reason.code).collect();
    assert_eq!(codes, ["None", "ConditionalCheckFailed", "None"]);
    let old = reasons[1].item.as_ref().expect("ALL_OLD returns the item");
    assert_eq!(rheo_dynamodb::value::item_to_wire(old)["n"].as_json(), &json!({"N": "1"}));
    assert_eq!(get(&db, "tbl", "id", "c").await, Value::Null, "the Put did not happen");
    assert_eq!(get(&db, "tbl", "id", "b").await["n"], json!({"N": "2"}), "the Delete did not happen");
}

#[tokio::test]
async fn one_item_may_appear_once_per_transaction() {
    let db = seeded().await;
    let error = db
        .err(
            "TransactWriteItems",
            json!({"TransactItems": [check_n("a", "1"), {"Delete": {"TableName": "tbl", "Key": {"id": {"S": "a"}}}}]}),
        )
        .await;
    assert_eq!(validation_text(error), "Transaction request cannot include multiple operations on one item");
    let gets = db
        .err(
            "TransactGetItems",
            json!({"TransactItems": [{"Get": {"TableName": "tbl", "Key": {"id": {"S": "a"}}}},
                                     {"Get": {"TableName": "tbl", "Key": {"id": {"S": "a"}}}}]}),
        )
        .await;
    assert_eq!(validation_text(gets), "Transaction request cannot include multiple operations on one item");
}

#[tokio::test]
async fn transact_get_answers_each_get_in_order() {
    let db = seeded().await;
    let answer = db
        .ok(
            "TransactGetItems",
            json!({"TransactItems": [
                {"Get": {"TableName": "tbl", "Key": {"id": {"S": "b"}}, "ProjectionExpression": "n"}},
                {"Get": {"TableName": "tbl", "Key": {"id": {"S": "missing"}}}},
                {"Get": {"TableName": "tbl", "Key": {"id": {"S": "a"}}}},
            ]}),
        )
        .await;
    assert_eq!(
        answer["Responses"],
        json!([{"Item": {"n": {"N": "2"}}}, {}, {"Item": {"id": {"S": "a"}, "n": {"N": "1"}}}])
    );
}

#[tokio::test]
async fn a_committed_transaction_survives_a_restart() {
    let db = TestDb::on_disk();
    db.create_simple_table("tbl", "id", None).await;
    let puts: Vec<Value> =
        (0..10).map(|n| json!({"Put": {"TableName": "tbl", "Item": {"id": {"S": format!("k{n}")}}}})).collect();
    db.ok("TransactWriteItems", json!({"TransactItems": puts})).await;
    let db = db.reopen().await;
    assert_eq!(db.ok("Scan", json!({"TableName": "tbl", "Select": "COUNT"})).await["Count"], 10);
}

#[tokio::test]
async fn a_retried_transaction_with_its_token_runs_once() {
    let db = seeded().await;
    let add = |token: &str, amount: &str| {
        json!({"TransactItems": [
            {"Update": {"TableName": "tbl", "Key": {"id": {"S": "b"}}, "UpdateExpression": "ADD n :amount",
                        "ExpressionAttributeValues": {":amount": {"N": amount}}}},
        ], "ClientRequestToken": token})
    };
    db.ok("TransactWriteItems", add("retry-me", "1")).await;
    // The SDK's retry of a lost answer: same token, same request.
    db.ok("TransactWriteItems", add("retry-me", "1")).await;
    assert_eq!(get(&db, "tbl", "id", "b").await["n"], json!({"N": "3"}), "the ADD ran once");
    let error = db.err("TransactWriteItems", add("retry-me", "5")).await;
    assert!(matches!(error, DynamoError::IdempotentParameterMismatch), "{error:?}");
    db.ok("TransactWriteItems", add("another", "1")).await;
    assert_eq!(get(&db, "tbl", "id", "b").await["n"], json!({"N": "4"}));
}
