#![allow(clippy::unwrap_used)]

//! A table's stored settings (time to live, continuous backups, tags, class, encryption)
//! and the account-level descriptions, through the operations as clients call them.

mod common;

use common::TestDb;
use rheo_dynamodb::DynamoError;
use serde_json::{json, Value};

const ARN: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/app";

async fn with_table() -> TestDb {
    let test = TestDb::in_memory();
    test.create_simple_table("app", "leaseKey", None).await;
    test
}

fn validation_text(error: DynamoError) -> String {
    match error {
        DynamoError::Validation(text) => text,
        other => panic!("expected a ValidationException, got {other:?}"),
    }
}

fn ttl(enabled: bool, attribute: &str) -> Value {
    json!({"TableName": "app", "TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}})
}

#[tokio::test]
async fn time_to_live_is_stored_with_dynamodbs_rules() {
    let test = with_table().await;
    let described = test.ok("DescribeTimeToLive", json!({"TableName": "app"})).await;
    assert_eq!(described, json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}));

    let error = test.err("UpdateTimeToLive", ttl(false, "expires")).await;
    assert_eq!(validation_text(error), "TimeToLive is already disabled");

    let enabled = test.ok("UpdateTimeToLive", ttl(true, "expires")).await;
    assert_eq!(enabled, json!({"TimeToLiveSpecification": {"Enabled": true, "AttributeName": "expires"}}));
    let described = test.ok("DescribeTimeToLive", json!({"TableName": "app"})).await;
    assert_eq!(
        described,
        json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}})
    );

    // Changing the attribute takes a disable first, as on AWS.
    let error = test.err("UpdateTimeToLive", ttl(true, "other")).await;
    assert_eq!(validation_text(error), "TimeToLive is already enabled");
    test.ok("UpdateTimeToLive", ttl(false, "expires")).await;
    test.ok("UpdateTimeToLive", ttl(true, "other")).await;
    let described = test.ok("DescribeTimeToLive", json!({"TableName": "app"})).await;
    assert_eq!(described["TimeToLiveDescription"]["AttributeName"], "other");

    let missing = test.err("DescribeTimeToLive", json!({"TableName": "nope"})).await;
    assert!(matches!(missing, DynamoError::ResourceNotFound(_)), "{missing:?}");
}

#[tokio::test]
async fn point_in_time_recovery_is_stored_and_continuous_backups_are_enabled() {
    let test = with_table().await;
    let described = test.ok("DescribeContinuousBackups", json!({"TableName": "app"})).await;
    let description = &described["ContinuousBackupsDescription"];
    assert_eq!(description["ContinuousBackupsStatus"], "ENABLED");
    assert_eq!(description["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "DISABLED");

    let updated = test
        .ok(
            "UpdateContinuousBackups",
            json!({"TableName": "app", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
        )
        .await;
    let recovery = &updated["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"];
    assert_eq!(recovery["PointInTimeRecoveryStatus"], "ENABLED");
    assert_eq!(recovery["RecoveryPeriodInDays"], 35);
    let described = test.ok("DescribeContinuousBackups", json!({"TableName": "app"})).await;
    assert_eq!(
        described["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
        "ENABLED"
    );

    let error = test
        .err(
            "UpdateContinuousBackups",
            json!({"TableName": "app", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true, "RecoveryPeriodInDays": 7}}),
        )
        .await;
    assert!(matches!(error, DynamoError::Unsupported(_)), "{error:?}");
}

#[tokio::test]
async fn tags_are_added_listed_and_removed_by_table_arn() {
    let test = with_table().await;
    assert_eq!(test.ok("ListTagsOfResource", json!({"ResourceArn": ARN})).await, json!({"Tags": []}));
    test.ok(
        "TagResource",
        json!({"ResourceArn": ARN, "Tags": [{"Key": "team", "Value": "streams"}, {"Key": "env", "Value": "test"}]}),
    )
    .await;
    test.ok("TagResource", json!({"ResourceArn": ARN, "Tags": [{"Key": "env", "Value": "prod"}]})).await;
    let listed = test.ok("ListTagsOfResource", json!({"ResourceArn": ARN})).await;
    assert_eq!(listed["Tags"], json!([{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "streams"}]));

    test.ok("UntagResource", json!({"ResourceArn": ARN, "TagKeys": ["team", "absent"]})).await;
    let listed = test.ok("ListTagsOfResource", json!({"ResourceArn": ARN})).await;
    assert_eq!(listed["Tags"], json!([{"Key": "env", "Value": "prod"}]));
}

#[tokio::test]
async fn tagging_refuses_bad_arns_reserved_keys_and_too_many_tags() {
    let test = with_table().await;
    let error = test.err("ListTagsOfResource", json!({"ResourceArn": "a:b:c:d:e:f/g"})).await;
    assert_eq!(validation_text(error), "Invalid TableArn: Invalid ResourceArn provided as input a:b:c:d:e:f/g");
    let index_arn = format!("{ARN}/index/byOwner");
    let error = test.err("ListTagsOfResource", json!({"ResourceArn": index_arn})).await;
    assert!(validation_text(error).starts_with("Invalid TableArn"));

    // The table's ARN spelled in another partition names no table here.
    let foreign = ARN.replacen("arn:aws:", "arn:aws-cn:", 1);
    match test.err("ListTagsOfResource", json!({"ResourceArn": foreign})).await {
        DynamoError::ResourceNotFound(_) => {}
        other => panic!("{other:?}"),
    }
    let missing = "arn:aws:dynamodb:us-east-1:000000000000:table/nope";
    match test.err("TagResource", json!({"ResourceArn": missing, "Tags": [{"Key": "k", "Value": "v"}]})).await {
        DynamoError::ResourceNotFound(text) => {
            assert_eq!(text, format!("Requested resource not found: ResourceArn: {missing} not found"))
        }
        other => panic!("{other:?}"),
    }

    let error =
        test.err("TagResource", json!({"ResourceArn": ARN, "Tags": [{"Key": "aws:owner", "Value": "x"}]})).await;
    assert!(validation_text(error).contains("aws:"));

    let fifty: Vec<Value> = (0..50).map(|n| json!({"Key": format!("k{n}"), "Value": "v"})).collect();
    test.ok("TagResource", json!({"ResourceArn": ARN, "Tags": fifty})).await;
    let error = test.err("TagResource", json!({"ResourceArn": ARN, "Tags": [{"Key": "one-more", "Value": "v"}]})).await;
    assert!(matches!(error, DynamoError::LimitExceeded(_)), "{error:?}");
    // Replacing the value of a tag that exists is within the limit.
    test.ok("TagResource", json!({"ResourceArn": ARN, "Tags": [{"Key": "k0", "Value": "w"}]})).await;
}

#[tokio::test]
async fn create_table_stores_tags_and_refuses_kms_keys_and_other_table_classes() {
    let test = TestDb::in_memory();
    let request = |extra: Value| {
        let mut request = json!({
            "TableName": "app",
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "B"}],
            "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "Tags": [{"Key": "team", "Value": "streams"}],
        });
        for (key, value) in extra.as_object().unwrap() {
            request[key] = value.clone();
        }
        request
    };
    let kms = json!({"SSESpecification": {"Enabled": true, "SSEType": "KMS", "KMSMasterKeyId": "1234abcd"}});
    assert!(matches!(test.err("CreateTable", request(kms)).await, DynamoError::Unsupported(_)));
    let infrequent = json!({"TableClass": "STANDARD_INFREQUENT_ACCESS"});
    assert!(matches!(test.err("CreateTable", request(infrequent)).await, DynamoError::Unsupported(_)));

    let defaults = json!({"TableClass": "STANDARD", "SSESpecification": {"Enabled": false}});
    let created = test.ok("CreateTable", request(defaults)).await;
    assert!(created["TableDescription"].get("SSEDescription").is_none(), "{created}");
    let listed = test.ok("ListTagsOfResource", json!({"ResourceArn": ARN})).await;
    assert_eq!(listed["Tags"], json!([{"Key": "team", "Value": "streams"}]));
}

#[tokio::test]
async fn limits_and_endpoints_are_aws_defaults() {
    let test = TestDb::in_memory();
    let limits = test.ok("DescribeLimits", json!({})).await;
    assert_eq!(
        limits,
        json!({
            "AccountMaxReadCapacityUnits": 80000,
            "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000,
            "TableMaxWriteCapacityUnits": 40000,
        })
    );
    let endpoints = test.ok("DescribeEndpoints", json!({})).await;
    assert_eq!(
        endpoints,
        json!({"Endpoints": [{"Address": "dynamodb.us-east-1.amazonaws.com", "CachePeriodInMinutes": 1440}]})
    );
}

#[tokio::test]
async fn settings_survive_a_restart() {
    let test = TestDb::on_disk();
    test.create_simple_table("app", "leaseKey", None).await;
    test.ok("UpdateTimeToLive", ttl(true, "expires")).await;
    test.ok("TagResource", json!({"ResourceArn": ARN, "Tags": [{"Key": "team", "Value": "streams"}]})).await;
    let test = test.reopen().await;
    let described = test.ok("DescribeTimeToLive", json!({"TableName": "app"})).await;
    assert_eq!(described["TimeToLiveDescription"]["TimeToLiveStatus"], "ENABLED");
    let listed = test.ok("ListTagsOfResource", json!({"ResourceArn": ARN})).await;
    assert_eq!(listed["Tags"], json!([{"Key": "team", "Value": "streams"}]));
}
