//! Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem, with both condition
//! styles and `ReturnValues`/`ReturnValuesOnConditionCheckFailure`.
//!
//! SKELETON: the `dy-items` piece owns this file, `query.rs`, `batch.rs` and `transact.rs`.

use rheo_protocol::dynamodb::model::{
    DeleteItemInput, DeleteItemOutput, GetItemInput, GetItemOutput, PutItemInput, PutItemOutput, UpdateItemInput,
    UpdateItemOutput,
};

use crate::error::DynamoError;
use crate::service::DynamoDb;

impl DynamoDb {
    /// `PutItem`.
    pub async fn put_item(&self, input: PutItemInput) -> Result<PutItemOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("PutItem".into()))
    }

    /// `GetItem`.
    pub async fn get_item(&self, input: GetItemInput) -> Result<GetItemOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("GetItem".into()))
    }

    /// `UpdateItem`.
    pub async fn update_item(&self, input: UpdateItemInput) -> Result<UpdateItemOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("UpdateItem".into()))
    }

    /// `DeleteItem`.
    pub async fn delete_item(&self, input: DeleteItemInput) -> Result<DeleteItemOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("DeleteItem".into()))
    }
}
