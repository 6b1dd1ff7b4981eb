//! What can go wrong, one variant per AWS error type.
//!
//! Unlike the Kinesis engine, whose errors are bare facts, DynamoDB's validation texts are
//! bound to what the expression languages found (the token, the path, the operand), so
//! each variant's message is already DynamoDB's text, built where the fact is known.
//! rheo-server maps each variant to its AWS error type (and HTTP status) in one match.

use crate::store::StoreError;
use crate::value::Item;

/// A failed DynamoDB operation.
#[derive(Debug, thiserror::Error)]
pub enum DynamoError {
    /// `ValidationException`: a bad parameter, expression or value; the text is DynamoDB's.
    #[error("{0}")]
    Validation(String),
    /// `ResourceNotFoundException`, with DynamoDB's text for the operation
    /// (`Requested resource not found`, `Cannot do operations on a non-existent table`, …).
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ResourceInUseException` (`Table already exists: NAME`, a table being created or
    /// deleted, …).
    #[error("{0}")]
    ResourceInUse(String),
    /// `ConditionalCheckFailedException`: the condition was false. `item` is the item as it
    /// was when `ReturnValuesOnConditionCheckFailure` is `ALL_OLD` and the item exists.
    #[error("The conditional request failed")]
    ConditionalCheckFailed { item: Option<Item> },
    /// `TransactionCanceledException`, with one reason per action in request order.
    #[error("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", reason_codes(.reasons))]
    TransactionCanceled { reasons: Vec<CancellationReason> },
    /// `IdempotentParameterMismatchException`: a `ClientRequestToken` reused within 10
    /// minutes for a different request.
    #[error("The request uses the same client token as a previous, but non-identical request")]
    IdempotentParameterMismatch,
    /// `LimitExceededException` (too many tables, too many indexes being built, …).
    #[error("{0}")]
    LimitExceeded(String),
    /// A part of DynamoDB that Rheo does not serve (streams, PartiQL, global tables,
    /// backups, exports, …): `ValidationException` naming it, so nobody mistakes it for a
    /// bug in the request.
    #[error("{0} is not supported by Rheo's DynamoDB API")]
    Unsupported(String),
    /// The store failed: `InternalServerError` (500). Writes stop after a failed commit.
    #[error(transparent)]
    Store(StoreError),
    /// A broken invariant: `InternalServerError` (500), logged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for DynamoError {
    fn from(error: StoreError) -> DynamoError {
        match error {
            // The table was deleted while the write waited for the writer: to the client it
            // is the missing table item operations report.
            StoreError::TableGone(_) => DynamoError::ResourceNotFound("Requested resource not found".into()),
            error => DynamoError::Store(error),
        }
    }
}

/// Why one action of a transaction was cancelled (`CancellationReasons` entry).
#[derive(Clone, Debug, PartialEq)]
pub struct CancellationReason {
    /// `None`, `ConditionalCheckFailed`, `ValidationError`, `TransactionConflict`, ….
    pub code: &'static str,
    pub message: Option<String>,
    /// The item as it was, for `ReturnValuesOnConditionCheckFailure: ALL_OLD`.
    pub item: Option<Item>,
}

fn reason_codes(reasons: &[CancellationReason]) -> String {
    reasons.iter().map(|reason| reason.code).collect::<Vec<_>>().join(", ")
}
