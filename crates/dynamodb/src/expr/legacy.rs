//! The legacy (pre-expression) parameters, lowered to the expression trees: `Expected`
//! with `ConditionalOperator`, `AttributeUpdates`, `ScanFilter`/`QueryFilter`,
//! `KeyConditions` and `AttributesToGet`. The Kinesis Client Library's lease code uses
//! `Expected` and `AttributeUpdates`.
//!
//! SKELETON: the `dy-expr` piece implements the bodies marked `// SKELETON:`.

use std::collections::BTreeMap;

use rheo_protocol::dynamodb::model::Condition as WireCondition;
use rheo_protocol::dynamodb::model::{AttributeValueUpdate, ConditionalOperator, ExpectedAttributeValue};

use crate::error::DynamoError;
use crate::expr::{Condition, Projection, Update};
use crate::key::{KeyCondition, KeySchema};

/// `Expected` (with `ConditionalOperator`, AND by default) as a condition.
pub fn expected(
    expected: &BTreeMap<String, ExpectedAttributeValue>,
    operator: Option<&ConditionalOperator>,
) -> Result<Condition, DynamoError> {
    // SKELETON: dy-expr implements.
    let _ = (expected, operator);
    Err(DynamoError::Internal("Expected not built yet".into()))
}

/// `AttributeUpdates` as an update (`PUT`, `ADD`, `DELETE`; `PUT` by default).
pub fn attribute_updates(updates: &BTreeMap<String, AttributeValueUpdate>) -> Result<Update, DynamoError> {
    // SKELETON: dy-expr implements.
    let _ = updates;
    Err(DynamoError::Internal("AttributeUpdates not built yet".into()))
}

/// `ScanFilter` or `QueryFilter` (with `ConditionalOperator`) as a condition.
pub fn filter(
    conditions: &BTreeMap<String, WireCondition>,
    operator: Option<&ConditionalOperator>,
) -> Result<Condition, DynamoError> {
    // SKELETON: dy-expr implements.
    let _ = (conditions, operator);
    Err(DynamoError::Internal("filters not built yet".into()))
}

/// `KeyConditions` against the key schema queried.
pub fn key_conditions(
    conditions: &BTreeMap<String, WireCondition>,
    schema: &KeySchema,
) -> Result<KeyCondition, DynamoError> {
    // SKELETON: dy-expr implements.
    let _ = (conditions, schema);
    Err(DynamoError::Internal("KeyConditions not built yet".into()))
}

/// `AttributesToGet` as a projection.
pub fn attributes_to_get(names: &[String]) -> Result<Projection, DynamoError> {
    // SKELETON: dy-expr implements.
    let _ = names;
    Err(DynamoError::Internal("AttributesToGet not built yet".into()))
}
