//! The Amazon DynamoDB wire protocol, API version 2012-08-10, JSON **1.0** only, signing
//! name `dynamodb`: a pure codec on the machinery Kinesis, Firehose and Analytics use.
//!
//! [`model`] is transcribed from the botocore model by `crates/protocol/gen/dynamodb_model.py`
//! (through the shared `gen/botocore_shapes.py`): the 24 operations Rheo serves, every
//! member typed and every constraint declared once, so the `SerializationException` texts and
//! AWS's `N validation errors detected: …` texts come from the model. Attribute values are
//! the exception: they stay JSON ([`Document`](crate::types::Document)) because their rules
//! (exactly one type, number syntax, set contents) are DynamoDB's own texts, which
//! rheo-dynamodb writes when it reads them. Operations without an output answer with an
//! empty body ([`EmptyOutput`]).

pub mod model;
#[cfg(test)]
mod tests;

use crate::error::DecodeError;
use crate::json_service::json_service;
use crate::model::EmptyOutput;
use model::*;

/// The `X-Amz-Target` prefix of every DynamoDB operation (service and dot).
pub const TARGET_PREFIX: &str = "DynamoDB_20120810.";

/// The SigV4 signing name (service) clients sign DynamoDB requests with.
pub const SIGNING_NAME: &str = "dynamodb";

/// Package of DynamoDB's generated model classes, visible when AWS prints a structure in a
/// validation message.
const MODEL_PACKAGE: &str = "com.amazonaws.dynamodb.v20120810";

json_service! {
    service: "DynamoDB",
    operation: DynamoDbOperation,
    request: DynamoDbRequest,
    response: DynamoDbResponse,
    unknown: UnknownDynamoDbOperation,
    operations {
        BatchGetItem: BatchGetItemInput => BatchGetItemOutput;
        BatchWriteItem: BatchWriteItemInput => BatchWriteItemOutput;
        CreateTable: CreateTableInput => CreateTableOutput;
        DeleteItem: DeleteItemInput => DeleteItemOutput;
        DeleteTable: DeleteTableInput => DeleteTableOutput;
        DescribeContinuousBackups: DescribeContinuousBackupsInput => DescribeContinuousBackupsOutput;
        DescribeEndpoints: DescribeEndpointsRequest => DescribeEndpointsResponse;
        DescribeLimits: DescribeLimitsInput => DescribeLimitsOutput;
        DescribeTable: DescribeTableInput => DescribeTableOutput;
        DescribeTimeToLive: DescribeTimeToLiveInput => DescribeTimeToLiveOutput;
        GetItem: GetItemInput => GetItemOutput;
        ListTables: ListTablesInput => ListTablesOutput;
        ListTagsOfResource: ListTagsOfResourceInput => ListTagsOfResourceOutput;
        PutItem: PutItemInput => PutItemOutput;
        Query: QueryInput => QueryOutput;
        Scan: ScanInput => ScanOutput;
        TagResource: TagResourceInput => EmptyOutput;
        TransactGetItems: TransactGetItemsInput => TransactGetItemsOutput;
        TransactWriteItems: TransactWriteItemsInput => TransactWriteItemsOutput;
        UntagResource: UntagResourceInput => EmptyOutput;
        UpdateContinuousBackups: UpdateContinuousBackupsInput => UpdateContinuousBackupsOutput;
        UpdateItem: UpdateItemInput => UpdateItemOutput;
        UpdateTable: UpdateTableInput => UpdateTableOutput;
        UpdateTimeToLive: UpdateTimeToLiveInput => UpdateTimeToLiveOutput;
    }
}
