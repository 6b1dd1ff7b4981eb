//! The DynamoDB API (`DynamoDB_20120810.*`, JSON 1.0, signing name `dynamodb`) on the same
//! port as Kinesis, so the Kinesis Client Library needs one endpoint for both.
//!
//! The operations Rheo serves are decoded and validated by `rheo_protocol::dynamodb`
//! (Coral's `SerializationException` and `ValidationException` texts) and run by
//! [`DynamoDb`]. The operations of DynamoDB's API that Rheo does not serve
//! ([`UNSERVED_OPERATIONS`]) are refused with a message naming them, and so are the
//! DynamoDB Streams operations, whose target prefix this service also answers.

use rheo_dynamodb::{DynamoDb, DynamoError};
use rheo_protocol::dynamodb::{decode_request, encode_response, DynamoDbOperation, DynamoDbRequest, DynamoDbResponse};
use rheo_protocol::WireError;

use crate::errors::{dynamodb_decode_error, dynamodb_wire_error};

mod service;
pub use service::DynamoDbService;

/// The operations of DynamoDB's API (botocore 1.44.8's `dynamodb/2012-08-10` model) and of
/// DynamoDB Streams (`streams.dynamodb/2012-08-10`) that Rheo does not serve, each with
/// the feature it belongs to, as the refusal names it. The e2e test checks this list
/// against the operations boto3's model has.
pub const UNSERVED_OPERATIONS: &[(&str, &str)] = &[
    ("BatchExecuteStatement", "PartiQL"),
    ("ExecuteStatement", "PartiQL"),
    ("ExecuteTransaction", "PartiQL"),
    ("CreateBackup", "on-demand backups"),
    ("DeleteBackup", "on-demand backups"),
    ("DescribeBackup", "on-demand backups"),
    ("ListBackups", "on-demand backups"),
    ("RestoreTableFromBackup", "on-demand backups"),
    ("RestoreTableToPointInTime", "point-in-time restore"),
    ("CreateGlobalTable", "global tables"),
    ("DescribeGlobalTable", "global tables"),
    ("DescribeGlobalTableSettings", "global tables"),
    ("ListGlobalTables", "global tables"),
    ("UpdateGlobalTable", "global tables"),
    ("UpdateGlobalTableSettings", "global tables"),
    ("DescribeTableReplicaAutoScaling", "replica auto scaling"),
    ("UpdateTableReplicaAutoScaling", "replica auto scaling"),
    ("ExportTableToPointInTime", "exports to S3"),
    ("DescribeExport", "exports to S3"),
    ("ListExports", "exports to S3"),
    ("ImportTable", "imports from S3"),
    ("DescribeImport", "imports from S3"),
    ("ListImports", "imports from S3"),
    ("EnableKinesisStreamingDestination", "Kinesis streaming destinations"),
    ("DisableKinesisStreamingDestination", "Kinesis streaming destinations"),
    ("DescribeKinesisStreamingDestination", "Kinesis streaming destinations"),
    ("UpdateKinesisStreamingDestination", "Kinesis streaming destinations"),
    ("DescribeContributorInsights", "CloudWatch Contributor Insights"),
    ("ListContributorInsights", "CloudWatch Contributor Insights"),
    ("UpdateContributorInsights", "CloudWatch Contributor Insights"),
    ("StartBulkPutItems", "bulk operations from S3"),
    ("DescribeBulkOperation", "bulk operations from S3"),
    ("ListBulkOperations", "bulk operations from S3"),
    ("CancelBulkOperation", "bulk operations from S3"),
    ("SearchVectors", "vector search"),
    ("GetResourcePolicy", "resource-based policies"),
    ("PutResourcePolicy", "resource-based policies"),
    ("DeleteResourcePolicy", "resource-based policies"),
    // DynamoDB Streams (target prefix `DynamoDBStreams_20120810`).
    ("DescribeStream", "DynamoDB Streams"),
    ("GetRecords", "DynamoDB Streams"),
    ("GetShardIterator", "DynamoDB Streams"),
    ("ListStreams", "DynamoDB Streams"),
];

/// The feature an unserved operation belongs to, or `None` when the name is not one.
pub fn unserved_feature(operation: &str) -> Option<&'static str> {
    UNSERVED_OPERATIONS.iter().find(|(name, _)| *name == operation).map(|(_, feature)| *feature)
}

/// The refusal of an unserved operation, naming it and its feature.
pub fn refusal(operation: &str, feature: &str) -> WireError {
    dynamodb_wire_error(&DynamoError::Unsupported(format!("{operation} ({feature})")))
}

/// Runs one DynamoDB operation on a JSON body and encodes its response.
/// The decoded request is `authorize`d before it runs.
pub async fn call(
    dynamodb: &DynamoDb,
    operation: DynamoDbOperation,
    body: &[u8],
    authorize: impl FnOnce(&DynamoDbRequest) -> Result<(), WireError>,
) -> Result<Vec<u8>, WireError> {
    let request = decode_request(operation, body).map_err(|error| dynamodb_decode_error(&error))?;
    authorize(&request)?;
    // Each operation calls the service's method of the same name, snake_case.
    macro_rules! operations {
        ($($operation:ident => $method:ident),* $(,)?) => {
            match request {
                $( DynamoDbRequest::$operation(input) => dynamodb.$method(input).await.map(DynamoDbResponse::$operation), )*
            }
        };
    }
    let result = operations! {
        BatchGetItem => batch_get_item,
        BatchWriteItem => batch_write_item,
        CreateTable => create_table,
        DeleteItem => delete_item,
        DeleteTable => delete_table,
        DescribeContinuousBackups => describe_continuous_backups,
        DescribeEndpoints => describe_endpoints,
        DescribeLimits => describe_limits,
        DescribeTable => describe_table,
        DescribeTimeToLive => describe_time_to_live,
        GetItem => get_item,
        ListTables => list_tables,
        ListTagsOfResource => list_tags_of_resource,
        PutItem => put_item,
        Query => query,
        Scan => scan,
        TagResource => tag_resource,
        TransactGetItems => transact_get_items,
        TransactWriteItems => transact_write_items,
        UntagResource => untag_resource,
        UpdateContinuousBackups => update_continuous_backups,
        UpdateItem => update_item,
        UpdateTable => update_table,
        UpdateTimeToLive => update_time_to_live,
    };
    result.map(|response| encode_response(&response)).map_err(|error| {
        if matches!(error, DynamoError::Store(_) | DynamoError::Internal(_)) {
            tracing::error!(message = "DynamoDB request failed.", operation = operation.name(), %error);
        }
        dynamodb_wire_error(&error)
    })
}
