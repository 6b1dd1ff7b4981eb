//! BatchGetItem and BatchWriteItem, with `UnprocessedKeys`/`UnprocessedItems`.
//!
//! A batch read takes one snapshot; keys are left unprocessed only when the answer would
//! pass DynamoDB's 16 MB response limit. A batch write applies every request in one job of
//! the store's writer, so it is all on disk together and nothing is ever left unprocessed
//! (`UnprocessedItems` is an empty map, as DynamoDB answers when all went through).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use rheo_protocol::dynamodb::model::{
    BatchGetItemInput, BatchGetItemOutput, BatchWriteItemInput, BatchWriteItemOutput, KeysAndAttributes,
};

use crate::error::DynamoError;
use crate::expr::Projection;
use crate::key::PrimaryKey;
use crate::limits::{BATCH_GET_BYTES_MAX, BATCH_GET_KEYS_MAX, BATCH_WRITE_REQUESTS_MAX};
use crate::service::item_request::{item_from_request, key_from_wire, only_projection};
use crate::service::DynamoDb;
use crate::table::TableDef;
use crate::value::{item_size, item_to_wire, Item};

const DUPLICATE_KEYS: &str = "Provided list of item keys contains duplicates";

fn validation(text: impl Into<String>) -> DynamoError {
    DynamoError::Validation(text.into())
}

/// One table's part of a BatchGetItem, read and checked.
struct TableRead {
    /// The name as the request gave it (responses are keyed by it).
    requested_as: String,
    table: Arc<TableDef>,
    keys: Vec<PrimaryKey>,
    projection: Option<Projection>,
    request: KeysAndAttributes,
}

/// A batch write's change of one item.
enum Change {
    Put(PrimaryKey, Item),
    Delete(PrimaryKey),
}

impl DynamoDb {
    /// `BatchGetItem`.
    pub async fn batch_get_item(&self, input: BatchGetItemInput) -> Result<BatchGetItemOutput, DynamoError> {
        let total: usize = input.request_items.values().map(|request| request.keys.len()).sum();
        if total > BATCH_GET_KEYS_MAX {
            return Err(validation("Too many items requested for the BatchGetItem call"));
        }
        let mut reads = Vec::with_capacity(input.request_items.len());
        for (name, request) in input.request_items {
            reads.push(self.table_read(name, request).await?);
        }
        let snapshot = self.store.read()?;
        let mut responses = BTreeMap::new();
        let mut unprocessed: BTreeMap<String, KeysAndAttributes> = BTreeMap::new();
        let mut bytes = 0usize;
        for read in reads {
            let mut found = Vec::new();
            for (position, key) in read.keys.iter().enumerate() {
                if bytes > BATCH_GET_BYTES_MAX {
                    // Past the response limit: the rest is for the caller's next call.
                    let rest = read.request.keys[position..].to_vec();
                    unprocessed
                        .insert(read.requested_as.clone(), KeysAndAttributes { keys: rest, ..read.request.clone() });
                    break;
                }
                let Some(item) = snapshot.get(&read.table, key)? else { continue };
                let item = match &read.projection {
                    Some(projection) => projection.apply(&item),
                    None => item,
                };
                bytes += item_size(&item);
                found.push(item_to_wire(&item));
            }
            responses.insert(read.requested_as, found);
        }
        Ok(BatchGetItemOutput {
            responses: Some(responses),
            unprocessed_keys: Some(unprocessed),
            consumed_capacity: None,
        })
    }

    /// Checks one table's keys and projection of a BatchGetItem.
    async fn table_read(&self, name: String, request: KeysAndAttributes) -> Result<TableRead, DynamoError> {
        let projection = only_projection(
            request.projection_expression.as_deref(),
            request.attributes_to_get.as_deref(),
            request.expression_attribute_names.as_ref(),
        )?;
        let table = self.table_for_items(&name).await?;
        let keys = request.keys.iter().map(|key| key_from_wire(&table, key)).collect::<Result<Vec<_>, _>>()?;
        let mut seen = HashSet::with_capacity(keys.len());
        if !keys.iter().all(|key| seen.insert(key)) {
            return Err(validation(DUPLICATE_KEYS));
        }
        Ok(TableRead { requested_as: name, table, keys, projection, request })
    }

    /// `BatchWriteItem`.
    pub async fn batch_write_item(&self, input: BatchWriteItemInput) -> Result<BatchWriteItemOutput, DynamoError> {
        let total: usize = input.request_items.values().map(Vec::len).sum();
        if total > BATCH_WRITE_REQUESTS_MAX {
            return Err(validation("Too many items requested for the BatchWriteItem call"));
        }
        let mut writes: Vec<(Arc<TableDef>, Vec<Change>)> = Vec::with_capacity(input.request_items.len());
        for (name, requests) in &input.request_items {
            let table = self.table_for_items(name).await?;
            let mut changes = Vec::with_capacity(requests.len());
            let mut seen = HashSet::with_capacity(requests.len());
            for request in requests {
                let change =
                    match (&request.put_request, &request.delete_request) {
                        (Some(put), None) => {
                            let (key, item) = item_from_request(&table, &put.item)?;
                            Change::Put(key, item)
                        }
                        (None, Some(delete)) => Change::Delete(key_from_wire(&table, &delete.key)?),
                        _ => return Err(validation(
                            "One or more parameter values were invalid: A WriteRequest must contain exactly one of \
                             PutRequest or DeleteRequest",
                        )),
                    };
                let key = match &change {
                    Change::Put(key, _) | Change::Delete(key) => key.clone(),
                };
                if !seen.insert(key) {
                    return Err(validation(DUPLICATE_KEYS));
                }
                changes.push(change);
            }
            writes.push((table, changes));
        }
        self.store
            .write(move |txn| {
                for (table, changes) in writes {
                    for change in changes {
                        match change {
                            Change::Put(key, item) => txn.put(&table, &key, item)?,
                            Change::Delete(key) => txn.delete(&table, &key)?,
                        }
                    }
                }
                Ok::<_, DynamoError>(())
            })
            .await??;
        let unprocessed: BTreeMap<String, Vec<_>> = BTreeMap::new();
        Ok(BatchWriteItemOutput {
            unprocessed_items: Some(unprocessed),
            item_collection_metrics: None,
            consumed_capacity: None,
        })
    }
}
