//! The legacy (pre-expression) parameters, lowered to the expression trees: `Expected`
//! with `ConditionalOperator`, `AttributeUpdates`, `ScanFilter`/`QueryFilter`,
//! `KeyConditions` and `AttributesToGet`. The Kinesis Client Library's lease code uses
//! `Expected` (Exists/Value) and `AttributeUpdates` (PUT/ADD/DELETE).
//!
//! Semantics: AWS's API reference (`ExpectedAttributeValue`, `AttributeValueUpdate`,
//! `Condition`); texts: DynamoDB's ValidationException messages as clients and emulators
//! record them (all begin "One or more parameter values were invalid: ").

use std::collections::{BTreeMap, BTreeSet};

use rheo_protocol::dynamodb::model::Condition as WireCondition;
use rheo_protocol::dynamodb::model::{
    AttributeAction, AttributeValueUpdate, ComparisonOperator, ConditionalOperator, ExpectedAttributeValue,
};
use rheo_protocol::types::Document;

use crate::error::DynamoError;
use crate::expr::condition::{order, Comparator, Node, Operand};
use crate::expr::key_condition;
use crate::expr::path::Path;
use crate::expr::update::{Action, Term};
use crate::expr::{Condition, Projection, Update};
use crate::key::{KeyCondition, KeySchema};
use crate::limits::LEGACY_CONDITIONS_MAX;
use crate::value::{AttrType, AttrValue};

fn invalid(detail: impl std::fmt::Display) -> DynamoError {
    DynamoError::Validation(format!("One or more parameter values were invalid: {detail}"))
}

fn read(document: &Document) -> Result<AttrValue, DynamoError> {
    AttrValue::from_json(document.as_json())
}

fn read_all(documents: Option<&Vec<Document>>) -> Result<Option<Vec<AttrValue>>, DynamoError> {
    documents.map(|documents| documents.iter().map(read).collect()).transpose()
}

/// Refuses a legacy condition map with more entries than DynamoDB allows operators.
fn check_count(parameter: &str, entries: usize) -> Result<(), DynamoError> {
    if entries > LEGACY_CONDITIONS_MAX {
        return Err(DynamoError::Validation(format!(
            "{parameter} has {entries} conditions; at most {LEGACY_CONDITIONS_MAX} are allowed"
        )));
    }
    Ok(())
}

/// `Expected` (with `ConditionalOperator`, AND by default) as a condition.
pub fn expected(
    expected: &BTreeMap<String, ExpectedAttributeValue>,
    operator: Option<&ConditionalOperator>,
) -> Result<Condition, DynamoError> {
    check_count("Expected", expected.len())?;
    let nodes = expected.iter().map(|(name, condition)| expected_node(name, condition)).collect::<Result<_, _>>()?;
    Ok(Condition::from_node(combine(nodes, operator)))
}

fn expected_node(name: &str, condition: &ExpectedAttributeValue) -> Result<Node, DynamoError> {
    let value = condition.value.as_ref().map(read).transpose()?;
    let list = read_all(condition.attribute_value_list.as_ref())?;
    let path = Path::attribute(name);
    if let Some(operator) = condition.comparison_operator {
        if value.is_some() && list.is_some() {
            return Err(invalid(format!("Value and AttributeValueList cannot be used together for Attribute: {name}")));
        }
        if condition.exists.is_some() {
            return Err(invalid(format!(
                "Exists and ComparisonOperator cannot be used together for Attribute: {name}"
            )));
        }
        let arguments = list.or_else(|| value.map(|value| vec![value])).unwrap_or_default();
        let needs_values = !matches!(operator, ComparisonOperator::Null | ComparisonOperator::NotNull);
        if arguments.is_empty() && needs_values {
            return Err(invalid(format!(
                "Value or AttributeValueList must be used with ComparisonOperator: {} for Attribute: {name}",
                operator.as_str()
            )));
        }
        return comparison(path, operator, arguments);
    }
    if list.is_some() {
        return Err(invalid(format!(
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}"
        )));
    }
    match (condition.exists, value) {
        (Some(false), None) => Ok(Node::NotExists(path)),
        (Some(false), Some(_)) => {
            Err(invalid(format!("Value cannot be used when Exists is false for Attribute: {name}")))
        }
        (_, Some(value)) => Ok(Node::Compare(Comparator::Eq, Operand::Path(path), Operand::Value(value))),
        (exists, None) => Err(invalid(format!(
            "Value must be provided when Exists is {} for Attribute: {name}",
            if exists.is_some() { "true" } else { "null" }
        ))),
    }
}

/// Joins conditions with `ConditionalOperator` (AND unless OR); none always holds.
fn combine(nodes: Vec<Node>, operator: Option<&ConditionalOperator>) -> Node {
    let or = matches!(operator, Some(ConditionalOperator::Or));
    nodes
        .into_iter()
        .reduce(
            |left, right| {
                if or {
                    Node::Or(Box::new(left), Box::new(right))
                } else {
                    Node::And(Box::new(left), Box::new(right))
                }
            },
        )
        .unwrap_or(Node::True)
}

/// The value types each comparison operator accepts in its `AttributeValueList`.
fn accepted_types(operator: ComparisonOperator) -> &'static [AttrType] {
    use AttrType::{Bs, Ns, Ss, B, N, S};
    match operator {
        ComparisonOperator::Eq | ComparisonOperator::Ne => &[S, N, B, Ss, Ns, Bs],
        ComparisonOperator::BeginsWith => &[S, B],
        ComparisonOperator::Null | ComparisonOperator::NotNull => &[],
        _ => &[S, N, B],
    }
}

/// One legacy comparison of attribute `path`, with the operator's arity and type checks.
fn comparison(path: Path, operator: ComparisonOperator, mut arguments: Vec<AttrValue>) -> Result<Node, DynamoError> {
    let arity_ok = match operator {
        ComparisonOperator::Null | ComparisonOperator::NotNull => arguments.is_empty(),
        ComparisonOperator::In => !arguments.is_empty(),
        ComparisonOperator::Between => arguments.len() == 2,
        _ => arguments.len() == 1,
    };
    let name = operator.as_str();
    let arity_error = || invalid(format!("Invalid number of argument(s) for the {name} ComparisonOperator"));
    if !arity_ok {
        return Err(arity_error());
    }
    if let Some(first) = arguments.first() {
        if arguments.iter().any(|argument| argument.attr_type() != first.attr_type()) {
            return Err(invalid("AttributeValues inside AttributeValueList must be of same type"));
        }
        if !accepted_types(operator).contains(&first.attr_type()) {
            return Err(invalid(format!(
                "ComparisonOperator {name} is not valid for {} AttributeValue type",
                first.attr_type().wire_name()
            )));
        }
    }
    if let [low, high] = arguments.as_slice() {
        if operator == ComparisonOperator::Between && order(low, high) == Some(std::cmp::Ordering::Greater) {
            return Err(DynamoError::Validation(
                "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"
                    .into(),
            ));
        }
    }
    let attribute = Operand::Path(path.clone());
    if let Some(comparator) = comparator_of(operator) {
        let value = arguments.pop().ok_or_else(arity_error)?;
        return Ok(Node::Compare(comparator, attribute, Operand::Value(value)));
    }
    Ok(match operator {
        ComparisonOperator::NotNull => Node::Exists(path),
        ComparisonOperator::Null => Node::NotExists(path),
        ComparisonOperator::In => Node::In(attribute, arguments.into_iter().map(Operand::Value).collect()),
        ComparisonOperator::Between => {
            let high = arguments.pop().ok_or_else(arity_error)?;
            let low = arguments.pop().ok_or_else(arity_error)?;
            Node::Between(attribute, Operand::Value(low), Operand::Value(high))
        }
        ComparisonOperator::BeginsWith => {
            Node::BeginsWith(attribute, Operand::Value(arguments.pop().ok_or_else(arity_error)?))
        }
        ComparisonOperator::Contains => {
            Node::Contains(attribute, Operand::Value(arguments.pop().ok_or_else(arity_error)?))
        }
        // NOT_CONTAINS holds for an attribute that exists without the value.
        _ => {
            let contains = Node::Contains(attribute, Operand::Value(arguments.pop().ok_or_else(arity_error)?));
            Node::And(Box::new(Node::Exists(path)), Box::new(Node::Not(Box::new(contains))))
        }
    })
}

/// The comparator of the legacy operators that are plain comparisons.
fn comparator_of(operator: ComparisonOperator) -> Option<Comparator> {
    Some(match operator {
        ComparisonOperator::Eq => Comparator::Eq,
        ComparisonOperator::Ne => Comparator::Ne,
        ComparisonOperator::Le => Comparator::Le,
        ComparisonOperator::Lt => Comparator::Lt,
        ComparisonOperator::Ge => Comparator::Ge,
        ComparisonOperator::Gt => Comparator::Gt,
        _ => return None,
    })
}

/// `AttributeUpdates` as an update (`PUT`, `ADD`, `DELETE`; `PUT` by default).
pub fn attribute_updates(updates: &BTreeMap<String, AttributeValueUpdate>) -> Result<Update, DynamoError> {
    let mut actions = Vec::with_capacity(updates.len());
    for (name, update) in updates {
        let value = update.value.as_ref().map(read).transpose()?;
        let action = update.action.unwrap_or(AttributeAction::Put);
        let path = Path::attribute(name.as_str());
        actions.push(match (action, value) {
            (AttributeAction::Delete, None) => Action::Remove(path),
            (_, None) => return Err(invalid("Only DELETE action is allowed when no attribute value is specified")),
            (AttributeAction::Put, Some(value)) => Action::Set(path, Term::Value(value)),
            (AttributeAction::Add, Some(AttrValue::L(list))) => {
                // Legacy ADD appends to a list (creating it when missing).
                let current = Term::IfNotExists(path.clone(), Box::new(Term::Value(AttrValue::L(Vec::new()))));
                Action::Set(path, Term::ListAppend(Box::new(current), Box::new(Term::Value(AttrValue::L(list)))))
            }
            (AttributeAction::Add, Some(value)) => match value {
                AttrValue::N(_) | AttrValue::Ss(_) | AttrValue::Ns(_) | AttrValue::Bs(_) => Action::Add(path, value),
                other => {
                    return Err(invalid(format!(
                        "ADD action is not supported for the type {}",
                        other.attr_type().wire_name()
                    )))
                }
            },
            (AttributeAction::Delete, Some(value)) => match value {
                AttrValue::Ss(_) | AttrValue::Ns(_) | AttrValue::Bs(_) => Action::Delete(path, value),
                other => {
                    return Err(invalid(format!(
                        "DELETE action with value is not supported for the type {}",
                        other.attr_type().wire_name()
                    )))
                }
            },
        });
    }
    Ok(Update::from_actions(actions))
}

/// `ScanFilter` or `QueryFilter` (with `ConditionalOperator`) as a condition.
pub fn filter(
    conditions: &BTreeMap<String, WireCondition>,
    operator: Option<&ConditionalOperator>,
) -> Result<Condition, DynamoError> {
    check_count("ScanFilter or QueryFilter", conditions.len())?;
    let nodes = conditions
        .iter()
        .map(|(name, condition)| {
            let arguments = read_all(condition.attribute_value_list.as_ref())?.unwrap_or_default();
            comparison(Path::attribute(name.as_str()), condition.comparison_operator, arguments)
        })
        .collect::<Result<_, _>>()?;
    Ok(Condition::from_node(combine(nodes, operator)))
}

/// `KeyConditions` against the key schema queried.
pub fn key_conditions(
    conditions: &BTreeMap<String, WireCondition>,
    schema: &KeySchema,
) -> Result<KeyCondition, DynamoError> {
    check_count("KeyConditions", conditions.len())?;
    let mut nodes = Vec::with_capacity(conditions.len());
    for (name, condition) in conditions {
        let indexable = matches!(
            condition.comparison_operator,
            ComparisonOperator::Eq
                | ComparisonOperator::Le
                | ComparisonOperator::Lt
                | ComparisonOperator::Ge
                | ComparisonOperator::Gt
                | ComparisonOperator::BeginsWith
                | ComparisonOperator::Between
        );
        if !indexable {
            return Err(DynamoError::Validation(
                "Attempted conditional constraint is not an indexable operation".into(),
            ));
        }
        let arguments = read_all(condition.attribute_value_list.as_ref())?.unwrap_or_default();
        nodes.push(comparison(Path::attribute(name.as_str()), condition.comparison_operator, arguments)?);
    }
    key_condition::lower(combine(nodes, None), schema)
}

/// `AttributesToGet` as a projection.
pub fn attributes_to_get(names: &[String]) -> Result<Projection, DynamoError> {
    let mut seen = BTreeSet::new();
    for name in names {
        if !seen.insert(name.as_str()) {
            return Err(invalid(format!("Duplicate value in attribute name: {name}")));
        }
    }
    Ok(Projection::from_paths(names.iter().map(|name| Path::attribute(name.as_str())).collect()))
}

#[cfg(test)]
#[path = "legacy_tests.rs"]
mod tests;
