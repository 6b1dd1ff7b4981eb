//! Key conditions of a Query, lowered from a parsed condition: one equality on the
//! partition key, optionally AND one condition on the sort key (`=`, `<`, `<=`, `>`, `>=`,
//! BETWEEN, begins_with). AWS: "Key condition expressions for Query".

use crate::error::DynamoError;
use crate::expr::condition::{Comparator, Node, Operand};
use crate::key::{KeyAttr, KeyCondition, KeySchema, KeyValue, RangeCondition};
use crate::value::AttrValue;

/// DynamoDB's text when a key condition's value has another type than the key.
const TYPE_MISMATCH: &str =
    "One or more parameter values were invalid: Condition parameter type does not match schema type";
/// DynamoDB's text for two conditions on one key attribute (or more than two in all).
const ONE_PER_KEY: &str = "KeyConditionExpressions must only contain one condition per key";
/// DynamoDB's text for a condition a key cannot take.
const NOT_SUPPORTED: &str = "Query key condition not supported";

/// One leaf of a key condition before it is matched to the schema.
struct Leaf {
    attribute: String,
    condition: RangeCondition,
}

/// Lowers `node` (parsed as a key condition expression) against `schema`.
/// Texts from DynamoDB's key condition messages as its clients and emulators record them.
pub(crate) fn lower(node: Node, schema: &KeySchema) -> Result<KeyCondition, DynamoError> {
    let mut leaves = Vec::new();
    collect(node, &mut leaves, schema)?;
    if leaves.len() > 2 {
        return Err(DynamoError::Validation(ONE_PER_KEY.into()));
    }
    let mut hash = None;
    let mut range = None;
    for leaf in leaves {
        let slot = if leaf.attribute == schema.hash.name {
            &mut hash
        } else if schema.range.as_ref().is_some_and(|attr| attr.name == leaf.attribute) {
            &mut range
        } else {
            return Err(missed_element(schema, hash.is_some()));
        };
        if slot.replace(leaf.condition).is_some() {
            return Err(DynamoError::Validation(ONE_PER_KEY.into()));
        }
    }
    let hash = match hash {
        Some(RangeCondition::Eq(value)) => value,
        Some(_) => return Err(DynamoError::Validation(NOT_SUPPORTED.into())),
        None => return Err(missed_element(schema, false)),
    };
    Ok(KeyCondition { hash, range })
}

/// `Query condition missed key schema element: NAME`, naming the partition key when it
/// has no condition, else the sort key.
fn missed_element(schema: &KeySchema, hash_found: bool) -> DynamoError {
    let missed = match (&schema.range, hash_found) {
        (Some(range), true) => &range.name,
        _ => &schema.hash.name,
    };
    DynamoError::Validation(format!("Query condition missed key schema element: {missed}"))
}

fn collect(node: Node, leaves: &mut Vec<Leaf>, schema: &KeySchema) -> Result<(), DynamoError> {
    let operator_error =
        |operator: &str| validation(format!("Invalid operator used in KeyConditionExpression: {operator}"));
    let leaf = match node {
        Node::And(left, right) => {
            collect(*left, leaves, schema)?;
            return collect(*right, leaves, schema);
        }
        Node::Or(..) => return Err(operator_error("OR")),
        Node::Not(..) => return Err(operator_error("NOT")),
        Node::In(..) => return Err(operator_error("IN")),
        Node::Exists(_) => return Err(operator_error("attribute_exists")),
        Node::NotExists(_) => return Err(operator_error("attribute_not_exists")),
        Node::AttributeType(..) => return Err(operator_error("attribute_type")),
        Node::Contains(..) => return Err(operator_error("contains")),
        Node::True => return Ok(()),
        Node::Compare(Comparator::Ne, ..) => return Err(operator_error("<>")),
        Node::Compare(comparator, left, right) => {
            let (comparator, attribute, value) = match (left, right) {
                (Operand::Value(_), Operand::Value(_)) => {
                    return Err(validation(
                        "Invalid condition in KeyConditionExpression: No key attribute specified".into(),
                    ))
                }
                (path, Operand::Value(value)) => (comparator, key_name(path)?, value),
                (Operand::Value(value), path) => (comparator.mirrored(), key_name(path)?, value),
                (left, _) => {
                    key_name(left)?;
                    return Err(validation(
                        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
                            .into(),
                    ));
                }
            };
            let value = key_value(&attribute, &value, schema)?;
            let condition = match comparator {
                Comparator::Eq => RangeCondition::Eq(value),
                Comparator::Lt => RangeCondition::Lt(value),
                Comparator::Le => RangeCondition::Le(value),
                Comparator::Gt => RangeCondition::Gt(value),
                _ => RangeCondition::Ge(value),
            };
            Leaf { attribute, condition }
        }
        Node::Between(path, Operand::Value(low), Operand::Value(high)) => {
            let attribute = first_operand_key(path, "BETWEEN")?;
            let low = key_value(&attribute, &low, schema)?;
            let high = key_value(&attribute, &high, schema)?;
            Leaf { attribute, condition: RangeCondition::Between(low, high) }
        }
        Node::BeginsWith(path, Operand::Value(prefix)) => {
            let attribute = first_operand_key(path, "begins_with")?;
            let prefix = key_value(&attribute, &prefix, schema)?;
            if matches!(prefix, KeyValue::N(_)) {
                return Err(validation(
                    "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
                        .into(),
                ));
            }
            Leaf { attribute, condition: RangeCondition::BeginsWith(prefix) }
        }
        Node::Between(..) | Node::BeginsWith(..) => {
            return Err(validation(
                "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition".into(),
            ))
        }
    };
    leaves.push(leaf);
    Ok(())
}

fn validation(text: String) -> DynamoError {
    DynamoError::Validation(text)
}

/// The key attribute an operand names: a top-level path.
fn key_name(operand: Operand) -> Result<String, DynamoError> {
    match operand {
        Operand::Path(path) if path.rest().is_empty() => Ok(path.top().to_owned()),
        Operand::Path(_) => {
            Err(validation("KeyConditionExpressions cannot have conditions on nested attributes".into()))
        }
        Operand::Size(_) => Err(validation("KeyConditionExpressions cannot contain nested operations".into())),
        Operand::Value(_) => {
            Err(validation("Invalid condition in KeyConditionExpression: No key attribute specified".into()))
        }
    }
}

/// BETWEEN and begins_with take the key attribute first.
fn first_operand_key(operand: Operand, operator: &str) -> Result<String, DynamoError> {
    if matches!(operand, Operand::Value(_)) {
        return Err(validation(format!(
            "Invalid condition in KeyConditionExpression: {operator} operator must have the key attribute as its first operand"
        )));
    }
    key_name(operand)
}

fn key_value(attribute: &str, value: &AttrValue, schema: &KeySchema) -> Result<KeyValue, DynamoError> {
    let key = schema.names().zip([Some(&schema.hash), schema.range.as_ref()]).find(|(name, _)| *name == attribute);
    let ty = match key {
        Some((_, Some(KeyAttr { ty, .. }))) => *ty,
        _ => return Err(missed_element(schema, attribute != schema.hash.name)),
    };
    KeyValue::from_attr(value, ty).ok_or_else(|| DynamoError::Validation(TYPE_MISMATCH.into()))
}
