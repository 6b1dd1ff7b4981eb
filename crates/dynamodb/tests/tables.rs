#![allow(clippy::unwrap_used)]

//! Table control through the operations as clients call them: CreateTable's validation,
//! status transitions on the service's clock, indexes, settings, and restarts.

mod common;

use common::TestDb;
use serde_json::json;

#[tokio::test]
async fn describing_a_missing_table_is_resource_not_found() {
    let test = TestDb::in_memory();
    let error = test.err("DescribeTable", json!({"TableName": "leases"})).await;
    assert!(matches!(error, rheo_dynamodb::DynamoError::ResourceNotFound(_)), "{error:?}");
}
