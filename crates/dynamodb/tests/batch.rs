#![allow(clippy::unwrap_used)]

//! BatchGetItem and BatchWriteItem: several tables per call, projections, duplicates and
//! the request limits, with DynamoDB's texts.

mod common;
mod items_support;

use common::TestDb;
use items_support::*;
use serde_json::{json, Value};

fn put(id: &str, x: &str) -> Value {
    json!({"PutRequest": {"Item": {"id": {"S": id}, "x": {"S": x}}}})
}

#[tokio::test]
async fn batch_write_puts_and_deletes_across_tables_and_batch_get_reads_them() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl-a", "id", None).await;
    db.create_simple_table("tbl-b", "id", None).await;
    db.ok("PutItem", json!({"TableName": "tbl-b", "Item": {"id": {"S": "old"}}})).await;
    let written = db
        .ok(
            "BatchWriteItem",
            json!({"RequestItems": {
                "tbl-a": [put("1", "one"), put("2", "two")],
                "tbl-b": [put("3", "three"), {"DeleteRequest": {"Key": {"id": {"S": "old"}}}}],
            }}),
        )
        .await;
    assert_eq!(written, json!({"UnprocessedItems": {}}));
    assert_eq!(get(&db, "tbl-b", "id", "old").await, Value::Null);

    let read = db
        .ok(
            "BatchGetItem",
            json!({"RequestItems": {
                "tbl-a": {"Keys": [{"id": {"S": "1"}}, {"id": {"S": "2"}}, {"id": {"S": "missing"}}],
                      "ProjectionExpression": "#x", "ExpressionAttributeNames": {"#x": "x"}},
                "tbl-b": {"Keys": [{"id": {"S": "3"}}], "ConsistentRead": true},
            }}),
        )
        .await;
    let mut from_a: Vec<Value> = read["Responses"]["tbl-a"].as_array().unwrap().clone();
    from_a.sort_by_key(|item| item["x"]["S"].as_str().unwrap().to_string());
    assert_eq!(from_a, [json!({"x": {"S": "one"}}), json!({"x": {"S": "two"}})]);
    assert_eq!(read["Responses"]["tbl-b"], json!([{"id": {"S": "3"}, "x": {"S": "three"}}]));
    assert_eq!(read["UnprocessedKeys"], json!({}));
}

#[tokio::test]
async fn batches_refuse_duplicates_and_oversized_requests() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl-a", "id", None).await;
    let duplicate_write = db
        .err(
            "BatchWriteItem",
            json!({"RequestItems": {"tbl-a": [put("1", "x"), {"DeleteRequest": {"Key": {"id": {"S": "1"}}}}]}}),
        )
        .await;
    assert_eq!(validation_text(duplicate_write), "Provided list of item keys contains duplicates");
    let duplicate_get = db
        .err("BatchGetItem", json!({"RequestItems": {"tbl-a": {"Keys": [{"id": {"S": "1"}}, {"id": {"S": "1"}}]}}}))
        .await;
    assert_eq!(validation_text(duplicate_get), "Provided list of item keys contains duplicates");

    db.create_simple_table("tbl-b", "id", None).await;
    let keys: Vec<Value> = (0..60).map(|n| json!({"id": {"S": n.to_string()}})).collect();
    let too_many = db
        .err("BatchGetItem", json!({"RequestItems": {"tbl-a": {"Keys": keys.clone()}, "tbl-b": {"Keys": keys}}}))
        .await;
    assert_eq!(validation_text(too_many), "Too many items requested for the BatchGetItem call");

    let bad_item = db
        .err("BatchWriteItem", json!({"RequestItems": {"tbl-a": [{"PutRequest": {"Item": {"x": {"S": "1"}}}}]}}))
        .await;
    assert_eq!(validation_text(bad_item), "One or more parameter values were invalid: Missing the key id in the item");
    assert_eq!(db.ok("Scan", json!({"TableName": "tbl-a"})).await["Count"], 0, "a refused batch writes nothing");
}

#[tokio::test]
async fn a_batch_write_is_durable_as_a_whole() {
    let db = TestDb::on_disk();
    db.create_simple_table("tbl-a", "id", None).await;
    let requests: Vec<Value> = (0..25).map(|n| put(&format!("k{n}"), "v")).collect();
    db.ok("BatchWriteItem", json!({"RequestItems": {"tbl-a": requests}})).await;
    let db = db.reopen().await;
    assert_eq!(db.ok("Scan", json!({"TableName": "tbl-a", "Select": "COUNT"})).await["Count"], 25);
}

#[tokio::test]
async fn batch_get_leaves_keys_unprocessed_past_the_response_limit_and_they_read_next_time() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl-a", "id", None).await;
    let big = "x".repeat(390 * 1024);
    let count = 45; // 45 items of 390 KB pass the 16 MB response limit
    for n in 0..count {
        db.ok("PutItem", json!({"TableName": "tbl-a", "Item": {"id": {"S": format!("k{n:02}")}, "big": {"S": big}}}))
            .await;
    }
    let keys: Vec<Value> = (0..count).map(|n| json!({"id": {"S": format!("k{n:02}")}})).collect();
    let first = db.ok("BatchGetItem", json!({"RequestItems": {"tbl-a": {"Keys": keys}}})).await;
    let returned = first["Responses"]["tbl-a"].as_array().unwrap().len();
    let unprocessed = first["UnprocessedKeys"]["tbl-a"]["Keys"].as_array().unwrap().clone();
    assert!(returned < count && !unprocessed.is_empty(), "{returned} returned");
    assert_eq!(returned + unprocessed.len(), count, "every key is answered or left for later");
    let second = db.ok("BatchGetItem", json!({"RequestItems": {"tbl-a": {"Keys": unprocessed}}})).await;
    assert_eq!(returned + second["Responses"]["tbl-a"].as_array().unwrap().len(), count);
    assert_eq!(second["UnprocessedKeys"], json!({}));
}
