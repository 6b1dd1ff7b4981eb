//! What the rheo-dynamodb integration tests share: a service on a [`ManualClock`] (in
//! memory, or in a folder that a test can reopen to see what survives a restart), and
//! `call`, which decodes a request's JSON exactly as the server does, runs the operation
//! and answers with the response's JSON, so tests read like the requests clients send.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use rheo_dynamodb::store::{StoreConfig, StoreLocation};
use rheo_dynamodb::{DynamoDb, DynamoDbConfig, DynamoError};
use rheo_protocol::dynamodb::{decode_request, encode_response, DynamoDbOperation, DynamoDbRequest, DynamoDbResponse};
use rheo_storage::ManualClock;
use serde_json::{json, Value};

/// Where test clocks start: 2026-01-01T00:00:00Z, so timestamps are realistic.
pub const START_MS: u64 = 1_767_225_600_000;

/// A service under test and the clock it reads.
pub struct TestDb {
    pub db: Arc<DynamoDb>,
    pub clock: ManualClock,
    /// The folder of an on-disk store (kept alive for the test's length).
    dir: Option<tempfile::TempDir>,
    config: DynamoDbConfig,
}

impl TestDb {
    /// A service on an in-memory store with instant table transitions.
    pub fn in_memory() -> TestDb {
        TestDb::in_memory_with(|_| {})
    }

    /// [`in_memory`](Self::in_memory) with the configuration changed by `configure`
    /// (transition times, the table limit).
    pub fn in_memory_with(configure: impl FnOnce(&mut DynamoDbConfig)) -> TestDb {
        let mut config = DynamoDbConfig::in_memory();
        configure(&mut config);
        let clock = ManualClock::new(START_MS);
        let db = DynamoDb::open(config.clone(), Arc::new(clock.clone())).unwrap();
        TestDb { db, clock, dir: None, config }
    }

    /// A service on a durable store in a fresh temporary folder, which [`reopen`](Self::reopen)
    /// opens again.
    pub fn on_disk() -> TestDb {
        TestDb::on_disk_with(|_| {})
    }

    /// [`on_disk`](Self::on_disk) with the configuration changed by `configure`.
    pub fn on_disk_with(configure: impl FnOnce(&mut DynamoDbConfig)) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DynamoDbConfig::in_memory();
        config.store = StoreConfig { location: StoreLocation::Dir(dir.path().to_path_buf()), durable: true };
        configure(&mut config);
        let clock = ManualClock::new(START_MS);
        let db = DynamoDb::open(config.clone(), Arc::new(clock.clone())).unwrap();
        TestDb { db, clock, dir: Some(dir), config }
    }

    /// The store's folder, for an on-disk service.
    pub fn dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| dir.path().to_path_buf())
    }

    /// Shuts the service down and opens its folder again with the same clock, as a
    /// restart does.
    pub async fn reopen(self) -> TestDb {
        let TestDb { db, clock, dir, config } = self;
        db.shutdown().await;
        drop(db);
        let db = DynamoDb::open(config.clone(), Arc::new(clock.clone())).unwrap();
        TestDb { db, clock, dir, config }
    }

    /// Runs `operation` (`"CreateTable"`, …) with the request `body`, decoded as the server
    /// decodes it; the response as the JSON the server would send.
    pub async fn call(&self, operation: &str, body: Value) -> Result<Value, DynamoError> {
        call(&self.db, operation, body).await
    }

    /// [`call`](Self::call) that must succeed.
    pub async fn ok(&self, operation: &str, body: Value) -> Value {
        match self.call(operation, body).await {
            Ok(response) => response,
            Err(error) => panic!("{operation} failed: {error:?}"),
        }
    }

    /// [`call`](Self::call) that must fail; the error.
    pub async fn err(&self, operation: &str, body: Value) -> DynamoError {
        match self.call(operation, body).await {
            Ok(response) => panic!("{operation} succeeded: {response}"),
            Err(error) => error,
        }
    }

    /// Creates an on-demand table keyed by `hash` (a string) and, when given, `range` (a
    /// string), and makes it ACTIVE.
    pub async fn create_simple_table(&self, name: &str, hash: &str, range: Option<&str>) -> Value {
        let mut attributes = vec![json!({"AttributeName": hash, "AttributeType": "S"})];
        let mut key = vec![json!({"AttributeName": hash, "KeyType": "HASH"})];
        if let Some(range) = range {
            attributes.push(json!({"AttributeName": range, "AttributeType": "S"}));
            key.push(json!({"AttributeName": range, "KeyType": "RANGE"}));
        }
        self.ok(
            "CreateTable",
            json!({
                "TableName": name,
                "AttributeDefinitions": attributes,
                "KeySchema": key,
                "BillingMode": "PAY_PER_REQUEST",
            }),
        )
        .await
    }

    /// Moves the clock by `ms`.
    pub fn advance(&self, ms: u64) {
        self.clock.advance_ms(ms);
    }
}

/// Runs `operation` on `db` with the request `body` decoded as the server decodes it; the
/// response's JSON. A request the decoder refuses panics: tests send well-formed requests.
pub async fn call(db: &DynamoDb, operation: &str, body: Value) -> Result<Value, DynamoError> {
    let op = DynamoDbOperation::from_name(operation).unwrap_or_else(|| panic!("no operation {operation}"));
    let request = decode_request(op, body.to_string().as_bytes())
        .unwrap_or_else(|error| panic!("{operation} request does not decode: {error}"));
    let response = dispatch(db, request).await?;
    let body = encode_response(&response);
    // Operations without an output (TagResource, UntagResource) answer an empty body.
    if body.is_empty() {
        return Ok(json!({}));
    }
    Ok(serde_json::from_slice(&body).unwrap())
}

async fn dispatch(db: &DynamoDb, request: DynamoDbRequest) -> Result<DynamoDbResponse, DynamoError> {
    use DynamoDbRequest as Rq;
    use DynamoDbResponse as Rs;
    Ok(match request {
        Rq::BatchGetItem(input) => Rs::BatchGetItem(db.batch_get_item(input).await?),
        Rq::BatchWriteItem(input) => Rs::BatchWriteItem(db.batch_write_item(input).await?),
        Rq::CreateTable(input) => Rs::CreateTable(db.create_table(input).await?),
        Rq::DeleteItem(input) => Rs::DeleteItem(db.delete_item(input).await?),
        Rq::DeleteTable(input) => Rs::DeleteTable(db.delete_table(input).await?),
        Rq::DescribeContinuousBackups(input) => {
            Rs::DescribeContinuousBackups(db.describe_continuous_backups(input).await?)
        }
        Rq::DescribeEndpoints(input) => Rs::DescribeEndpoints(db.describe_endpoints(input).await?),
        Rq::DescribeLimits(input) => Rs::DescribeLimits(db.describe_limits(input).await?),
        Rq::DescribeTable(input) => Rs::DescribeTable(db.describe_table(input).await?),
        Rq::DescribeTimeToLive(input) => Rs::DescribeTimeToLive(db.describe_time_to_live(input).await?),
        Rq::GetItem(input) => Rs::GetItem(db.get_item(input).await?),
        Rq::ListTables(input) => Rs::ListTables(db.list_tables(input).await?),
        Rq::ListTagsOfResource(input) => Rs::ListTagsOfResource(db.list_tags_of_resource(input).await?),
        Rq::PutItem(input) => Rs::PutItem(db.put_item(input).await?),
        Rq::Query(input) => Rs::Query(db.query(input).await?),
        Rq::Scan(input) => Rs::Scan(db.scan(input).await?),
        Rq::TagResource(input) => Rs::TagResource(db.tag_resource(input).await?),
        Rq::TransactGetItems(input) => Rs::TransactGetItems(db.transact_get_items(input).await?),
        Rq::TransactWriteItems(input) => Rs::TransactWriteItems(db.transact_write_items(input).await?),
        Rq::UntagResource(input) => Rs::UntagResource(db.untag_resource(input).await?),
        Rq::UpdateContinuousBackups(input) => Rs::UpdateContinuousBackups(db.update_continuous_backups(input).await?),
        Rq::UpdateItem(input) => Rs::UpdateItem(db.update_item(input).await?),
        Rq::UpdateTable(input) => Rs::UpdateTable(db.update_table(input).await?),
        Rq::UpdateTimeToLive(input) => Rs::UpdateTimeToLive(db.update_time_to_live(input).await?),
    })
}
