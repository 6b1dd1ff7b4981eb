//! The lease table's DynamoDB calls, shaped as the Java KCL sends them: legacy `Expected`
//! conditions and `AttributeUpdates`, with `leaseCounter` as the optimistic lock.

use std::time::Duration;

use rheo_protocol::dynamodb::model::TableStatus;
use rheo_protocol::dynamodb::{DynamoDbOperation, DynamoDbResponse};
use rheo_protocol::Document;
use serde_json::{json, Map, Value};

use super::checkpoint::ExtendedSequenceNumber;
use super::error::ConsumerError;
use super::lease::{
    number, string, string_set, Lease, CHECKPOINT, CHECKPOINT_OWNER, CHECKPOINT_SUB_SEQUENCE, CHILD_SHARD_IDS,
    LEASE_COUNTER, LEASE_KEY, LEASE_OWNER, OWNER_SWITCHES, PENDING_CHECKPOINT, PENDING_CHECKPOINT_STATE,
    PENDING_CHECKPOINT_SUB_SEQUENCE,
};
use crate::error::ClientError;
use crate::services::DynamoDb;

/// Most leases a table may hold before listing it is refused (one per shard, closed
/// shards included until they are cleaned up).
pub const LEASES_MAX: usize = 100_000;

/// How long a new table may take to become ACTIVE.
pub const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// Pause between `DescribeTable` calls while waiting for ACTIVE.
const TABLE_POLL_INTERVAL: Duration = Duration::from_millis(200);

const CONDITIONAL_CHECK_FAILED: &str = "ConditionalCheckFailedException";

/// The lease table of one application.
#[derive(Debug)]
pub struct LeaseTable {
    dynamodb: DynamoDb,
    table: String,
}

impl LeaseTable {
    /// The table `table` behind `dynamodb`.
    pub fn new(dynamodb: DynamoDb, table: impl Into<String>) -> Self {
        LeaseTable { dynamodb, table: table.into() }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.table
    }

    /// Creates the table (on-demand, hash key `leaseKey`) unless it exists, and waits
    /// until it is ACTIVE.
    pub async fn ensure_exists(&self) -> Result<(), ConsumerError> {
        let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
        let mut created = false;
        loop {
            let answer =
                self.dynamodb.call_json(DynamoDbOperation::DescribeTable, &json!({ "TableName": self.table })).await;
            match answer {
                Ok(DynamoDbResponse::DescribeTable(out)) => {
                    if out.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
                        return Ok(());
                    }
                }
                Ok(other) => return Err(unexpected("DescribeTable", &other)),
                Err(e) if e.error_type() == Some("ResourceNotFoundException") && !created => {
                    self.create().await?;
                    created = true;
                    continue;
                }
                Err(e) if e.error_type() == Some("ResourceNotFoundException") || e.is_retryable() => {}
                Err(e) => return Err(e.into()),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ConsumerError::LeaseTable {
                    table: self.table.clone(),
                    detail: format!("not ACTIVE after {TABLE_ACTIVE_TIMEOUT:?}"),
                });
            }
            tokio::time::sleep(TABLE_POLL_INTERVAL).await;
        }
    }

    async fn create(&self) -> Result<(), ConsumerError> {
        let request = json!({
            "TableName": self.table,
            "AttributeDefinitions": [{ "AttributeName": LEASE_KEY, "AttributeType": "S" }],
            "KeySchema": [{ "AttributeName": LEASE_KEY, "KeyType": "HASH" }],
            "BillingMode": "PAY_PER_REQUEST",
        });
        match self.dynamodb.call_json(DynamoDbOperation::CreateTable, &request).await {
            Ok(_) => {
                tracing::info!(table = %self.table, "created the lease table");
                Ok(())
            }
            // Another worker created it first.
            Err(e) if e.error_type() == Some("ResourceInUseException") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every lease (a consistent scan, all pages).
    pub async fn list(&self) -> Result<Vec<Lease>, ConsumerError> {
        let mut leases = Vec::new();
        let mut start_key: Option<Value> = None;
        loop {
            let mut request = json!({ "TableName": self.table, "ConsistentRead": true });
            if let Some(key) = start_key.take() {
                request["ExclusiveStartKey"] = key;
            }
            let out = match self.dynamodb.call_json(DynamoDbOperation::Scan, &request).await? {
                DynamoDbResponse::Scan(out) => out,
                other => return Err(unexpected("Scan", &other)),
            };
            for item in out.items.unwrap_or_default() {
                leases.push(self.lease_of(item)?);
            }
            if leases.len() > LEASES_MAX {
                return Err(ConsumerError::LeaseTable {
                    table: self.table.clone(),
                    detail: format!("more than {LEASES_MAX} leases"),
                });
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(Value::Object(into_json_map(key))),
                _ => return Ok(leases),
            }
        }
    }

    /// One lease, if it exists (a consistent read).
    pub async fn get(&self, lease_key: &str) -> Result<Option<Lease>, ConsumerError> {
        let request =
            json!({ "TableName": self.table, "Key": { LEASE_KEY: string(lease_key) }, "ConsistentRead": true });
        match self.dynamodb.call_json(DynamoDbOperation::GetItem, &request).await? {
            DynamoDbResponse::GetItem(out) => out.item.map(|item| self.lease_of(item)).transpose(),
            other => Err(unexpected("GetItem", &other)),
        }
    }

    /// Writes `lease` unless a lease with its key exists; false when one did.
    pub async fn create_if_missing(&self, lease: &Lease) -> Result<bool, ConsumerError> {
        let request = json!({
            "TableName": self.table,
            "Item": lease.to_item(),
            "Expected": { LEASE_KEY: { "Exists": false } },
        });
        conditional(self.dynamodb.call_json(DynamoDbOperation::PutItem, &request).await)
    }

    /// Renews a lease `owner` holds: bumps the counter if it is still the one `lease`
    /// carries and the owner is still `owner`. False when the lease was lost.
    pub async fn renew(&self, lease: &mut Lease, owner: &str) -> Result<bool, ConsumerError> {
        let mut expected = counter_expectation(lease);
        expected.insert(LEASE_OWNER.into(), json!({ "Value": string(owner) }));
        let updates = counter_update(lease);
        let renewed = self.update(lease, expected, updates).await?;
        if renewed {
            lease.lease_counter += 1;
        }
        Ok(renewed)
    }

    /// Takes `lease` (as last read) for `owner`. False when someone changed it since.
    pub async fn take(&self, lease: &mut Lease, owner: &str) -> Result<bool, ConsumerError> {
        let expected = counter_expectation(lease);
        let mut updates = counter_update(lease);
        updates.insert(LEASE_OWNER.into(), put(string(owner)));
        // A handoff KCL 3 left unfinished (its workers stopped) ends with this take.
        updates.insert(CHECKPOINT_OWNER.into(), json!({ "Action": "DELETE" }));
        let switches_owner = lease.lease_owner.as_deref().is_some_and(|previous| previous != owner);
        if switches_owner {
            updates.insert(OWNER_SWITCHES.into(), json!({ "Action": "ADD", "Value": number(1) }));
        }
        let taken = self.update(lease, expected, updates).await?;
        if taken {
            lease.lease_counter += 1;
            lease.lease_owner = Some(owner.to_owned());
            if switches_owner {
                lease.owner_switches_since_checkpoint += 1;
            }
        }
        Ok(taken)
    }

    /// Gives up a lease `owner` holds, so that another worker may take it at once.
    pub async fn release(&self, lease: &mut Lease, owner: &str) -> Result<bool, ConsumerError> {
        let expected = Map::from_iter([(LEASE_OWNER.to_owned(), json!({ "Value": string(owner) }))]);
        let mut updates = counter_update(lease);
        updates.insert(LEASE_OWNER.into(), json!({ "Action": "DELETE" }));
        updates.insert(CHECKPOINT_OWNER.into(), json!({ "Action": "DELETE" }));
        let released = self.update(lease, expected, updates).await?;
        if released {
            lease.lease_counter += 1;
            lease.lease_owner = None;
        }
        Ok(released)
    }

    /// Records a checkpoint (and, at a shard's end, its children) on a lease `owner`
    /// holds. False when the lease was lost.
    pub async fn checkpoint(
        &self,
        lease: &mut Lease,
        owner: &str,
        checkpoint: &ExtendedSequenceNumber,
        children: &[String],
    ) -> Result<bool, ConsumerError> {
        let mut expected = counter_expectation(lease);
        expected.insert(LEASE_OWNER.into(), json!({ "Value": string(owner) }));
        let mut updates = counter_update(lease);
        updates.insert(CHECKPOINT.into(), put(string(checkpoint.checkpoint.as_str())));
        updates.insert(CHECKPOINT_SUB_SEQUENCE.into(), put(number(checkpoint.sub_sequence_number)));
        updates.insert(OWNER_SWITCHES.into(), put(number(0)));
        if lease.pending_checkpoint.is_some() {
            for name in [PENDING_CHECKPOINT, PENDING_CHECKPOINT_SUB_SEQUENCE, PENDING_CHECKPOINT_STATE] {
                updates.insert(name.into(), json!({ "Action": "DELETE" }));
            }
        }
        let mut children: Vec<String> = children.to_vec();
        children.sort();
        children.dedup();
        if !children.is_empty() {
            updates.insert(CHILD_SHARD_IDS.into(), put(string_set(&children)));
        }
        let written = self.update(lease, expected, updates).await?;
        if written {
            lease.lease_counter += 1;
            lease.checkpoint = checkpoint.clone();
            lease.owner_switches_since_checkpoint = 0;
            lease.pending_checkpoint = None;
            lease.pending_checkpoint_state = None;
            if !children.is_empty() {
                lease.child_shard_ids = children;
            }
        }
        Ok(written)
    }

    async fn update(
        &self,
        lease: &Lease,
        expected: Map<String, Value>,
        updates: Map<String, Value>,
    ) -> Result<bool, ConsumerError> {
        let request = json!({
            "TableName": self.table,
            "Key": { LEASE_KEY: string(&lease.lease_key) },
            "Expected": expected,
            "AttributeUpdates": updates,
        });
        conditional(self.dynamodb.call_json(DynamoDbOperation::UpdateItem, &request).await)
    }

    fn lease_of(&self, item: std::collections::BTreeMap<String, Document>) -> Result<Lease, ConsumerError> {
        Lease::from_item(&into_json_map(item))
            .map_err(|e| ConsumerError::LeaseTable { table: self.table.clone(), detail: e.to_string() })
    }
}

fn counter_expectation(lease: &Lease) -> Map<String, Value> {
    Map::from_iter([(LEASE_COUNTER.to_owned(), json!({ "Value": number(lease.lease_counter) }))])
}

fn counter_update(lease: &Lease) -> Map<String, Value> {
    Map::from_iter([(LEASE_COUNTER.to_owned(), put(number(lease.lease_counter.saturating_add(1))))])
}

fn put(value: Value) -> Value {
    json!({ "Action": "PUT", "Value": value })
}

/// A conditional write's answer: true when written, false when the condition failed.
fn conditional(answer: Result<DynamoDbResponse, ClientError>) -> Result<bool, ConsumerError> {
    match answer {
        Ok(_) => Ok(true),
        Err(e) if e.error_type() == Some(CONDITIONAL_CHECK_FAILED) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn into_json_map(item: std::collections::BTreeMap<String, Document>) -> Map<String, Value> {
    item.into_iter().map(|(name, value)| (name, value.into_json())).collect()
}

fn unexpected(operation: &'static str, answer: &DynamoDbResponse) -> ConsumerError {
    ConsumerError::Client(ClientError::Decode {
        service: "DynamoDB",
        operation,
        detail: format!("the answer is for {:?}", answer.operation()),
    })
}
