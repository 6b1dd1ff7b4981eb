//! The live table definitions: lookup by name or ARN, and the status transitions that
//! are due (CREATING → ACTIVE, UPDATING → ACTIVE, an index's CREATING → ACTIVE, DELETING →
//! gone), applied and stored when a table is looked up after its transition's end.
//!
//! SKELETON: the `dy-tables` piece owns this file.

use std::sync::Arc;

use crate::error::DynamoError;
use crate::service::DynamoDb;
use crate::table::TableDef;

impl DynamoDb {
    /// The table `name_or_arn` names, in any status (DescribeTable, DeleteTable, …), with
    /// DynamoDB's ResourceNotFoundException when there is none.
    pub(crate) async fn table(&self, name_or_arn: &str) -> Result<Arc<TableDef>, DynamoError> {
        // SKELETON: implement (resolve ARNs, apply due transitions).
        self.catalog
            .read()
            .get(name_or_arn)
            .cloned()
            .ok_or_else(|| DynamoError::ResourceNotFound("Requested resource not found".into()))
    }

    /// The table an item operation may use: ACTIVE or UPDATING; CREATING, DELETING and
    /// missing tables are DynamoDB's ResourceNotFoundException for item operations.
    pub(crate) async fn table_for_items(&self, name_or_arn: &str) -> Result<Arc<TableDef>, DynamoError> {
        // SKELETON: implement.
        self.table(name_or_arn).await
    }
}
