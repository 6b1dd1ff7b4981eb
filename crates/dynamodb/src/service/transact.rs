//! TransactWriteItems and TransactGetItems: all actions in one group-commit job, all or
//! nothing, with `CancellationReasons`.
//!
//! SKELETON: the `dy-items` piece owns this file.

use rheo_protocol::dynamodb::model::{
    TransactGetItemsInput, TransactGetItemsOutput, TransactWriteItemsInput, TransactWriteItemsOutput,
};

use crate::error::DynamoError;
use crate::service::DynamoDb;

impl DynamoDb {
    /// `TransactWriteItems`.
    pub async fn transact_write_items(
        &self,
        input: TransactWriteItemsInput,
    ) -> Result<TransactWriteItemsOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("TransactWriteItems".into()))
    }

    /// `TransactGetItems`.
    pub async fn transact_get_items(
        &self,
        input: TransactGetItemsInput,
    ) -> Result<TransactGetItemsOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("TransactGetItems".into()))
    }
}
