//! BatchGetItem and BatchWriteItem, with `UnprocessedKeys`/`UnprocessedItems`.
//!
//! SKELETON: the `dy-items` piece owns this file.

use rheo_protocol::dynamodb::model::{
    BatchGetItemInput, BatchGetItemOutput, BatchWriteItemInput, BatchWriteItemOutput,
};

use crate::error::DynamoError;
use crate::service::DynamoDb;

impl DynamoDb {
    /// `BatchGetItem`.
    pub async fn batch_get_item(&self, input: BatchGetItemInput) -> Result<BatchGetItemOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("BatchGetItem".into()))
    }

    /// `BatchWriteItem`.
    pub async fn batch_write_item(&self, input: BatchWriteItemInput) -> Result<BatchWriteItemOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("BatchWriteItem".into()))
    }
}
