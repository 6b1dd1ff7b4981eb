//! What the operations' JSON cannot show from outside the crate: an index added by
//! UpdateTable is filled from the table's items before the answer, and item operations
//! see tables that are not ready as missing.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rheo_protocol::dynamodb::{decode_request, DynamoDbOperation, DynamoDbRequest};
use rheo_storage::ManualClock;
use serde_json::{json, Value};

use crate::error::DynamoError;
use crate::key::{KeyValue, PrimaryKey};
use crate::service::{DynamoDb, DynamoDbConfig};
use crate::store::StoreError;
use crate::value::{AttrValue, Item};

fn request(operation: &str, body: Value) -> DynamoDbRequest {
    decode_request(DynamoDbOperation::from_name(operation).unwrap(), body.to_string().as_bytes()).unwrap()
}

async fn create(db: &DynamoDb, name: &str) {
    let DynamoDbRequest::CreateTable(input) = request(
        "CreateTable",
        json!({
            "TableName": name,
            "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    ) else {
        unreachable!()
    };
    db.create_table(input).await.unwrap();
}

/// Writes leases straight into the store, as the item operations would.
async fn put_leases(db: &DynamoDb, table: &str, leases: &[(&str, Option<&str>)]) {
    let table = db.table_for_items(table).await.unwrap();
    let items: Vec<Item> = leases
        .iter()
        .map(|(key, owner)| {
            let mut item = Item::new();
            item.insert("leaseKey".into(), AttrValue::S((*key).into()));
            if let Some(owner) = owner {
                item.insert("leaseOwner".into(), AttrValue::S((*owner).into()));
            }
            item
        })
        .collect();
    db.store
        .write(move |txn| {
            for item in items {
                let key = PrimaryKey {
                    hash: KeyValue::from_attr(&item["leaseKey"], table.key.hash.ty).unwrap(),
                    range: None,
                };
                txn.put(&table, &key, item)?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_new_index_is_backfilled_before_update_table_answers() {
    let clock = ManualClock::new(1_000);
    let config = DynamoDbConfig { update_table_ms: 60_000, ..DynamoDbConfig::in_memory() };
    let db = DynamoDb::open(config, Arc::new(clock.clone())).unwrap();
    create(&db, "app").await;
    put_leases(&db, "app", &[("shard-0", Some("worker-a")), ("shard-1", Some("worker-b")), ("shard-2", None)]).await;

    let DynamoDbRequest::UpdateTable(input) = request(
        "UpdateTable",
        json!({
            "TableName": "app",
            "AttributeDefinitions": [{"AttributeName": "leaseOwner", "AttributeType": "S"}],
            "GlobalSecondaryIndexUpdates": [{"Create": {
                "IndexName": "byOwner",
                "KeySchema": [{"AttributeName": "leaseOwner", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }}],
        }),
    ) else {
        unreachable!()
    };
    let answer = db.update_table(input).await.unwrap();
    let table = answer.table_description.unwrap();
    let index = &table.global_secondary_indexes.unwrap()[0];
    // Still CREATING for update_table_ms, yet already holding every item with an owner
    // (an index is sparse: the lease without one is not in it).
    assert_eq!(index.backfilling, Some(true));
    assert_eq!(index.item_count, Some(2));
    assert_eq!(table.item_count, Some(3));
}

#[tokio::test]
async fn item_operations_see_creating_and_deleting_tables_as_missing() {
    let clock = ManualClock::new(1_000);
    let config = DynamoDbConfig { create_table_ms: 100, delete_table_ms: 100, ..DynamoDbConfig::in_memory() };
    let db = DynamoDb::open(config, Arc::new(clock.clone())).unwrap();
    let not_found = |result: Result<_, DynamoError>| match result {
        Err(DynamoError::ResourceNotFound(text)) => text,
        other => panic!("{other:?}"),
    };

    assert_eq!(not_found(db.table_for_items("app").await), "Requested resource not found");
    create(&db, "app").await;
    assert_eq!(not_found(db.table_for_items("app").await), "Requested resource not found");
    clock.advance_ms(100);
    let arn = db.table_arn("app");
    assert_eq!(db.table_for_items(&arn).await.unwrap().name, "app");

    let DynamoDbRequest::DeleteTable(input) = request("DeleteTable", json!({"TableName": "app"})) else {
        unreachable!()
    };
    db.delete_table(input).await.unwrap();
    assert_eq!(not_found(db.table_for_items("app").await), "Requested resource not found");
}
