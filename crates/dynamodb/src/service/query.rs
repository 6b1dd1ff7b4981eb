//! Scan (paging, parallel segments, filters, projections) and Query (key conditions on a
//! table or an index, direction, paging).
//!
//! SKELETON: the `dy-items` piece owns this file.

use rheo_protocol::dynamodb::model::{QueryInput, QueryOutput, ScanInput, ScanOutput};

use crate::error::DynamoError;
use crate::service::DynamoDb;

impl DynamoDb {
    /// `Scan`.
    pub async fn scan(&self, input: ScanInput) -> Result<ScanOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("Scan".into()))
    }

    /// `Query`.
    pub async fn query(&self, input: QueryInput) -> Result<QueryOutput, DynamoError> {
        // SKELETON: implement.
        let _ = input;
        Err(DynamoError::Unsupported("Query".into()))
    }
}
