#![allow(clippy::unwrap_used)]

//! Table control through the operations as clients call them: CreateTable's validation,
//! status transitions on the service's clock, indexes, deletion, listing and restarts.

mod common;

use common::{TestDb, START_MS};
use rheo_dynamodb::DynamoError;
use serde_json::{json, Value};

/// KCL's lease table as KCL 3 creates it (clients.md §3.3).
fn lease_table_request(name: &str) -> Value {
    json!({
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "DeletionProtectionEnabled": false,
    })
}

/// KCL 3's UpdateTable: a GSI on an on-demand table, without ProvisionedThroughput.
fn lease_owner_index_request(name: &str) -> Value {
    json!({
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "leaseOwner", "AttributeType": "S"},
            {"AttributeName": "leaseKey", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexUpdates": [{"Create": {
            "IndexName": "LeaseOwnerToLeaseKeyIndex",
            "KeySchema": [
                {"AttributeName": "leaseOwner", "KeyType": "HASH"},
                {"AttributeName": "leaseKey", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }}],
    })
}

/// A GSI "byOwner" on `owner` projecting everything, with `patch`'s members replaced.
fn owner_index(patch: Value) -> Value {
    let mut index = json!({
        "IndexName": "byOwner",
        "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    });
    for (key, value) in patch.as_object().unwrap() {
        index[key] = value.clone();
    }
    index
}

fn validation_text(error: DynamoError) -> String {
    match error {
        DynamoError::Validation(text) => text,
        other => panic!("expected a ValidationException, got {other:?}"),
    }
}

async fn status(test: &TestDb, name: &str) -> Value {
    test.ok("DescribeTable", json!({"TableName": name})).await["Table"]["TableStatus"].clone()
}

#[tokio::test]
async fn describing_a_missing_table_is_resource_not_found_with_aws_text() {
    let test = TestDb::in_memory();
    let error = test.err("DescribeTable", json!({"TableName": "leases"})).await;
    match error {
        DynamoError::ResourceNotFound(text) => {
            assert_eq!(text, "Requested resource not found: Table: leases not found")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_new_table_is_creating_until_its_time_is_over_then_active() {
    let test = TestDb::in_memory_with(|config| config.create_table_ms = 1_000);
    let created = test.ok("CreateTable", lease_table_request("app")).await;
    let table = &created["TableDescription"];
    assert_eq!(table["TableStatus"], "CREATING");
    assert_eq!(table["TableName"], "app");
    assert_eq!(table["TableArn"], "arn:aws:dynamodb:us-east-1:000000000000:table/app");
    assert_eq!(table["TableId"].as_str().unwrap().len(), 36, "a UUID: {}", table["TableId"]);
    assert_eq!(table["KeySchema"], json!([{"AttributeName": "leaseKey", "KeyType": "HASH"}]));
    assert_eq!(table["AttributeDefinitions"], json!([{"AttributeName": "leaseKey", "AttributeType": "S"}]));
    assert_eq!(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(table["ProvisionedThroughput"]["ReadCapacityUnits"], 0);
    assert_eq!(table["ProvisionedThroughput"]["WriteCapacityUnits"], 0);
    assert_eq!(table["ItemCount"], 0);
    assert_eq!(table["TableSizeBytes"], 0);
    assert_eq!(table["DeletionProtectionEnabled"], false);
    assert_eq!(table["CreationDateTime"], json!(START_MS / 1000));

    test.advance(999);
    assert_eq!(status(&test, "app").await, "CREATING");
    test.advance(1);
    assert_eq!(status(&test, "app").await, "ACTIVE");
}

#[tokio::test]
async fn kcl_creates_a_gsi_on_an_on_demand_table_without_provisioned_throughput() {
    let test = TestDb::in_memory_with(|config| config.update_table_ms = 500);
    test.ok("CreateTable", lease_table_request("app")).await;
    assert_eq!(status(&test, "app").await, "ACTIVE");

    let updated = test.ok("UpdateTable", lease_owner_index_request("app")).await;
    let table = &updated["TableDescription"];
    assert_eq!(table["TableStatus"], "UPDATING");
    let index = &table["GlobalSecondaryIndexes"][0];
    assert_eq!(index["IndexName"], "LeaseOwnerToLeaseKeyIndex");
    assert_eq!(index["IndexStatus"], "CREATING");
    assert_eq!(index["Backfilling"], true);
    assert_eq!(index["Projection"], json!({"ProjectionType": "KEYS_ONLY"}));
    assert_eq!(index["ProvisionedThroughput"]["ReadCapacityUnits"], 0);
    assert_eq!(index["IndexArn"], "arn:aws:dynamodb:us-east-1:000000000000:table/app/index/LeaseOwnerToLeaseKeyIndex");
    assert_eq!(
        table["AttributeDefinitions"],
        json!([{"AttributeName": "leaseKey", "AttributeType": "S"}, {"AttributeName": "leaseOwner", "AttributeType": "S"}])
    );

    test.advance(500);
    let described = test.ok("DescribeTable", json!({"TableName": "app"})).await;
    assert_eq!(described["Table"]["TableStatus"], "ACTIVE");
    let index = &described["Table"]["GlobalSecondaryIndexes"][0];
    assert_eq!(index["IndexStatus"], "ACTIVE");
    assert!(index.get("Backfilling").is_none(), "{index}");
}

#[tokio::test]
async fn create_table_refuses_bad_definitions_with_dynamodb_texts() {
    let test = TestDb::in_memory();
    let base = lease_table_request("app");
    let with = |patch: Value| {
        let mut request = base.clone();
        for (key, value) in patch.as_object().unwrap() {
            request[key] = value.clone();
        }
        request
    };
    let with_owner_indexes = |indexes: Value| {
        with(json!({
            "AttributeDefinitions": [
                {"AttributeName": "leaseKey", "AttributeType": "S"},
                {"AttributeName": "owner", "AttributeType": "S"},
            ],
            "GlobalSecondaryIndexes": indexes,
        }))
    };
    let cases = [
        (
            with(json!({"AttributeDefinitions": [
                {"AttributeName": "leaseKey", "AttributeType": "S"},
                {"AttributeName": "extra", "AttributeType": "S"},
            ]})),
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ),
        (
            with(json!({"KeySchema": [{"AttributeName": "other", "KeyType": "HASH"}]})),
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [other], AttributeDefinitions: [leaseKey]",
        ),
        (
            with(json!({
                "AttributeDefinitions": [
                    {"AttributeName": "a", "AttributeType": "S"},
                    {"AttributeName": "b", "AttributeType": "N"},
                ],
                "KeySchema": [{"AttributeName": "a", "KeyType": "RANGE"}, {"AttributeName": "b", "KeyType": "HASH"}],
            })),
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            with(json!({
                "AttributeDefinitions": [
                    {"AttributeName": "a", "AttributeType": "S"},
                    {"AttributeName": "b", "AttributeType": "N"},
                ],
                "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "b", "KeyType": "HASH"}],
            })),
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ),
        (
            with(json!({"KeySchema": [
                {"AttributeName": "leaseKey", "KeyType": "HASH"},
                {"AttributeName": "leaseKey", "KeyType": "RANGE"},
            ]})),
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ),
        (
            with(json!({"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}})),
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        ),
        (
            with(json!({"BillingMode": "PROVISIONED"})),
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ),
        (
            with(json!({"TableName": "a!"})),
            "1 validation error detected: Value 'a!' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
        ),
        (
            with(json!({"TableName": "ab!"})),
            "1 validation error detected: Value 'ab!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ),
        (
            with(json!({
                "AttributeDefinitions": [
                    {"AttributeName": "leaseKey", "AttributeType": "S"},
                    {"AttributeName": "owner", "AttributeType": "S"},
                    {"AttributeName": "unused", "AttributeType": "S"},
                ],
                "GlobalSecondaryIndexes": [owner_index(json!({}))],
            })),
            "One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [leaseKey, owner, unused], keys used: [leaseKey, owner]",
        ),
        (
            with_owner_indexes(json!([owner_index(json!({
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            }))])),
            "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: byOwner when BillingMode is PAY_PER_REQUEST",
        ),
        (
            with_owner_indexes(json!([
                owner_index(json!({})),
                owner_index(json!({"Projection": {"ProjectionType": "KEYS_ONLY"}})),
            ])),
            "One or more parameter values were invalid: Duplicate index name: byOwner",
        ),
        (
            with_owner_indexes(json!([owner_index(json!({
                "Projection": {"ProjectionType": "KEYS_ONLY", "NonKeyAttributes": ["x"]},
            }))])),
            "One or more parameter values were invalid: ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified",
        ),
        (
            with(json!({
                "AttributeDefinitions": [
                    {"AttributeName": "leaseKey", "AttributeType": "S"},
                    {"AttributeName": "owner", "AttributeType": "S"},
                ],
                "LocalSecondaryIndexes": [{
                    "IndexName": "byOwner",
                    "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}, {"AttributeName": "owner", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"},
                }],
            })),
            "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
        ),
        (
            json!({"TableName": "app", "BillingMode": "PAY_PER_REQUEST", "AttributeDefinitions": []}),
            "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null",
        ),
    ];
    for (request, expected) in cases {
        let error = test.err("CreateTable", request.clone()).await;
        assert_eq!(validation_text(error), expected, "request: {request}");
    }
    // Nothing was created by the refused requests.
    assert_eq!(test.ok("ListTables", json!({})).await["TableNames"], json!([]));
}

#[tokio::test]
async fn local_indexes_must_share_the_table_hash_key_and_are_described() {
    let test = TestDb::in_memory();
    let request = |index_hash: &str| {
        json!({
            "TableName": "orders",
            "AttributeDefinitions": [
                {"AttributeName": "customer", "AttributeType": "S"},
                {"AttributeName": "order", "AttributeType": "S"},
                {"AttributeName": "placed", "AttributeType": "N"},
            ],
            "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "order", "KeyType": "RANGE"}],
            "LocalSecondaryIndexes": [{
                "IndexName": "byPlaced",
                "KeySchema": [{"AttributeName": index_hash, "KeyType": "HASH"}, {"AttributeName": "placed", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
            }],
            "BillingMode": "PAY_PER_REQUEST",
        })
    };
    let error = test.err("CreateTable", request("order")).await;
    assert_eq!(
        validation_text(error),
        "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: byPlaced. index hash key: order, table hash key: customer"
    );
    let created = test.ok("CreateTable", request("customer")).await;
    let index = &created["TableDescription"]["LocalSecondaryIndexes"][0];
    assert_eq!(index["IndexName"], "byPlaced");
    assert_eq!(index["Projection"], json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]}));
    assert_eq!(index["IndexArn"], "arn:aws:dynamodb:us-east-1:000000000000:table/orders/index/byPlaced");
}

#[tokio::test]
async fn streams_and_global_tables_are_refused_as_unsupported() {
    let test = TestDb::in_memory();
    let mut request = lease_table_request("app");
    request["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"});
    let error = test.err("CreateTable", request).await;
    assert!(matches!(&error, DynamoError::Unsupported(what) if what.contains("Streams")), "{error:?}");

    test.ok("CreateTable", lease_table_request("app")).await;
    let error = test
        .err("UpdateTable", json!({"TableName": "app", "ReplicaUpdates": [{"Create": {"RegionName": "eu-west-1"}}]}))
        .await;
    assert!(matches!(&error, DynamoError::Unsupported(what) if what.contains("Global tables")), "{error:?}");
}

#[tokio::test]
async fn a_name_in_use_and_the_table_limit_are_refused() {
    let test = TestDb::in_memory_with(|config| config.table_limit = 2);
    test.ok("CreateTable", lease_table_request("one")).await;
    match test.err("CreateTable", lease_table_request("one")).await {
        DynamoError::ResourceInUse(text) => assert_eq!(text, "Table already exists: one"),
        other => panic!("{other:?}"),
    }
    test.ok("CreateTable", lease_table_request("two")).await;
    let error = test.err("CreateTable", lease_table_request("three")).await;
    assert!(matches!(error, DynamoError::LimitExceeded(_)), "{error:?}");
}

#[tokio::test]
async fn a_deleted_table_is_deleting_for_its_time_then_gone_and_its_name_free() {
    let test = TestDb::in_memory_with(|config| config.delete_table_ms = 2_000);
    let first_id = test.ok("CreateTable", lease_table_request("app")).await["TableDescription"]["TableId"].clone();
    let deleted = test.ok("DeleteTable", json!({"TableName": "app"})).await;
    assert_eq!(deleted["TableDescription"]["TableStatus"], "DELETING");
    assert_eq!(status(&test, "app").await, "DELETING");
    match test.err("DeleteTable", json!({"TableName": "app"})).await {
        DynamoError::ResourceInUse(text) => {
            assert_eq!(text, "Attempt to change a resource which is still in use: Table is being deleted: app")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(test.err("CreateTable", lease_table_request("app")).await, DynamoError::ResourceInUse(_)));

    test.advance(2_000);
    assert!(matches!(test.err("DescribeTable", json!({"TableName": "app"})).await, DynamoError::ResourceNotFound(_)));
    let second_id = test.ok("CreateTable", lease_table_request("app")).await["TableDescription"]["TableId"].clone();
    assert_ne!(first_id, second_id);
}

#[tokio::test]
async fn deletion_protection_refuses_delete_until_turned_off() {
    let test = TestDb::in_memory();
    let mut request = lease_table_request("app");
    request["DeletionProtectionEnabled"] = json!(true);
    let created = test.ok("CreateTable", request).await;
    assert_eq!(created["TableDescription"]["DeletionProtectionEnabled"], true);
    assert_eq!(status(&test, "app").await, "ACTIVE");
    let error = test.err("DeleteTable", json!({"TableName": "app"})).await;
    assert_eq!(
        validation_text(error),
        "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."
    );
    let updated = test.ok("UpdateTable", json!({"TableName": "app", "DeletionProtectionEnabled": false})).await;
    assert_eq!(updated["TableDescription"]["DeletionProtectionEnabled"], false);
    assert_eq!(updated["TableDescription"]["TableStatus"], "ACTIVE");
    test.ok("DeleteTable", json!({"TableName": "app"})).await;
}

#[tokio::test]
async fn list_tables_pages_in_name_order() {
    let test = TestDb::in_memory();
    for name in ["delta", "alpha", "echo", "charlie", "bravo"] {
        test.ok("CreateTable", lease_table_request(name)).await;
    }
    let first = test.ok("ListTables", json!({"Limit": 2})).await;
    assert_eq!(first["TableNames"], json!(["alpha", "bravo"]));
    assert_eq!(first["LastEvaluatedTableName"], "bravo");
    let second = test.ok("ListTables", json!({"Limit": 2, "ExclusiveStartTableName": "bravo"})).await;
    assert_eq!(second["TableNames"], json!(["charlie", "delta"]));
    let last = test.ok("ListTables", json!({"ExclusiveStartTableName": "delta"})).await;
    assert_eq!(last["TableNames"], json!(["echo"]));
    assert!(last.get("LastEvaluatedTableName").is_none(), "{last}");
    // A page that ends exactly at the last table has no LastEvaluatedTableName.
    let exact = test.ok("ListTables", json!({"Limit": 5})).await;
    assert!(exact.get("LastEvaluatedTableName").is_none(), "{exact}");
}

#[tokio::test]
async fn update_table_refuses_what_dynamodb_refuses() {
    let test = TestDb::in_memory_with(|config| config.update_table_ms = 100);
    test.ok("CreateTable", lease_table_request("app")).await;

    let error = test.err("UpdateTable", json!({"TableName": "app"})).await;
    assert!(validation_text(error).starts_with("At least one of ProvisionedThroughput, BillingMode"));

    let mut two = lease_owner_index_request("app");
    let mut second = two["GlobalSecondaryIndexUpdates"][0].clone();
    second["Create"]["IndexName"] = json!("Another");
    two["GlobalSecondaryIndexUpdates"].as_array_mut().unwrap().push(second);
    match test.err("UpdateTable", two).await {
        DynamoError::LimitExceeded(text) => assert_eq!(
            text,
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table"
        ),
        other => panic!("{other:?}"),
    }

    let error = test
        .err(
            "UpdateTable",
            json!({"TableName": "app", "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "nope"}}]}),
        )
        .await;
    assert!(matches!(error, DynamoError::ResourceNotFound(_)), "{error:?}");

    let error = test
        .err(
            "UpdateTable",
            json!({"TableName": "app", "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}),
        )
        .await;
    assert!(validation_text(error).contains("when BillingMode is PAY_PER_REQUEST"));

    test.ok("UpdateTable", lease_owner_index_request("app")).await;
    match test.err("UpdateTable", lease_owner_index_request("app")).await {
        DynamoError::ResourceInUse(text) => {
            assert_eq!(text, "Attempt to change a resource which is still in use: Table is being updated: app")
        }
        other => panic!("{other:?}"),
    }
    test.advance(100);
    let error = test.err("UpdateTable", lease_owner_index_request("app")).await;
    assert!(validation_text(error).contains("Attempting to create an index which already exists"));

    let missing = test.err("UpdateTable", json!({"TableName": "nope", "DeletionProtectionEnabled": true})).await;
    assert!(matches!(missing, DynamoError::ResourceNotFound(_)), "{missing:?}");
}

#[tokio::test]
async fn deleting_a_gsi_shows_it_deleting_then_drops_it_and_its_attributes() {
    let test = TestDb::in_memory();
    test.ok("CreateTable", lease_table_request("app")).await;
    test.ok("UpdateTable", lease_owner_index_request("app")).await;
    let updated = test
        .ok(
            "UpdateTable",
            json!({"TableName": "app", "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "LeaseOwnerToLeaseKeyIndex"}}]}),
        )
        .await;
    let table = &updated["TableDescription"];
    assert_eq!(table["TableStatus"], "UPDATING");
    assert_eq!(table["GlobalSecondaryIndexes"][0]["IndexStatus"], "DELETING");
    let described = test.ok("DescribeTable", json!({"TableName": "app"})).await;
    assert!(described["Table"].get("GlobalSecondaryIndexes").is_none(), "{described}");
    assert_eq!(
        described["Table"]["AttributeDefinitions"],
        json!([{"AttributeName": "leaseKey", "AttributeType": "S"}])
    );
}

#[tokio::test]
async fn billing_mode_switches_carry_the_throughput_rules() {
    let test = TestDb::in_memory();
    let mut request = lease_table_request("app");
    request["BillingMode"] = json!("PROVISIONED");
    request["ProvisionedThroughput"] = json!({"ReadCapacityUnits": 5, "WriteCapacityUnits": 7});
    let created = test.ok("CreateTable", request).await;
    let table = &created["TableDescription"];
    assert!(table.get("BillingModeSummary").is_none(), "{table}");
    assert_eq!(table["ProvisionedThroughput"]["ReadCapacityUnits"], 5);
    assert_eq!(table["ProvisionedThroughput"]["WriteCapacityUnits"], 7);

    let same = test
        .err(
            "UpdateTable",
            json!({"TableName": "app", "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7}}),
        )
        .await;
    assert!(validation_text(same).starts_with("The provisioned throughput for the table will not change."));

    let switched = test.ok("UpdateTable", json!({"TableName": "app", "BillingMode": "PAY_PER_REQUEST"})).await;
    assert_eq!(switched["TableDescription"]["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(switched["TableDescription"]["ProvisionedThroughput"]["ReadCapacityUnits"], 0);
    assert_eq!(status(&test, "app").await, "ACTIVE");

    let error = test.err("UpdateTable", json!({"TableName": "app", "BillingMode": "PROVISIONED"})).await;
    assert!(validation_text(error).contains("must both be specified when BillingMode is PROVISIONED"));
    test.ok(
        "UpdateTable",
        json!({"TableName": "app", "BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}),
    )
    .await;
    let described = test.ok("DescribeTable", json!({"TableName": "app"})).await;
    assert_eq!(described["Table"]["ProvisionedThroughput"]["WriteCapacityUnits"], 1);
}

#[tokio::test]
async fn tables_are_found_by_arn_of_this_account_only() {
    let test = TestDb::in_memory();
    test.ok("CreateTable", lease_table_request("app")).await;
    let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/app";
    assert_eq!(test.ok("DescribeTable", json!({"TableName": arn})).await["Table"]["TableName"], "app");
    let elsewhere = "arn:aws:dynamodb:eu-west-1:000000000000:table/app";
    assert!(matches!(
        test.err("DescribeTable", json!({"TableName": elsewhere})).await,
        DynamoError::ResourceNotFound(_)
    ));
}

#[tokio::test]
async fn tables_and_pending_transitions_survive_a_restart() {
    let test = TestDb::on_disk_with(|config| config.create_table_ms = 1_000);
    let created = test.ok("CreateTable", lease_table_request("app")).await;
    test.ok("CreateTable", lease_table_request("other")).await;
    test.advance(1_000);
    assert_eq!(status(&test, "other").await, "ACTIVE");

    let test = test.reopen().await;
    let described = test.ok("DescribeTable", json!({"TableName": "app"})).await;
    // "app" was CREATING when the service stopped; its time is over, so it is ACTIVE now.
    assert_eq!(described["Table"]["TableStatus"], "ACTIVE");
    assert_eq!(described["Table"]["TableId"], created["TableDescription"]["TableId"]);
    assert_eq!(test.ok("ListTables", json!({})).await["TableNames"], json!(["app", "other"]));

    test.ok("DeleteTable", json!({"TableName": "other"})).await;
    let test = test.reopen().await;
    // An acknowledged delete is durable even though the table was still DELETING.
    assert_eq!(test.ok("ListTables", json!({})).await["TableNames"], json!(["app"]));
}

#[tokio::test]
async fn metrics_count_tables_by_status() {
    let test = TestDb::in_memory_with(|config| config.create_table_ms = 1_000);
    test.ok("CreateTable", lease_table_request("app")).await;
    test.ok("CreateTable", lease_table_request("other")).await;
    let mut out = String::new();
    test.db.render_metrics(&mut out);
    assert!(out.contains("rheo_dynamodb_tables{status=\"CREATING\"} 2"), "{out}");
    assert!(out.contains("rheo_dynamodb_table_items{table=\"app\"} 0"), "{out}");
    test.advance(1_000);
    test.ok("ListTables", json!({})).await;
    let mut out = String::new();
    test.db.render_metrics(&mut out);
    assert!(out.contains("rheo_dynamodb_tables{status=\"ACTIVE\"} 2"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_name_make_one_table() {
    let test = std::sync::Arc::new(TestDb::in_memory());
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let test = test.clone();
            tokio::spawn(async move { test.call("CreateTable", lease_table_request("app")).await })
        })
        .collect();
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => created += 1,
            Err(DynamoError::ResourceInUse(text)) => assert_eq!(text, "Table already exists: app"),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(test.ok("ListTables", json!({})).await["TableNames"], json!(["app"]));
}
