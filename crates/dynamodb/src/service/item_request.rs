//! The checks every item operation shares, with DynamoDB's texts: keys against the table's
//! schema, items against the key and index schemas and the size limit, the rule that a
//! request uses either the expression parameters or the legacy ones, the placeholders, and
//! the conditions of writes.
//!
//! Texts come from AWS's API reference where it gives them, otherwise from what DynamoDB
//! answers (as recorded by the emulators' test suites that were checked against it).

use std::collections::BTreeMap;

use rheo_protocol::dynamodb::model::{
    ConditionalOperator, ExpectedAttributeValue, ReturnValuesOnConditionCheckFailure,
};
use rheo_protocol::types::Document;

use crate::error::DynamoError;
use crate::expr::{legacy, Condition, ExpressionKind, Projection, Substitutions};
use crate::key::{KeyAttr, KeySchema, KeyType, KeyValue, PrimaryKey};
use crate::limits::{HASH_KEY_BYTES_MAX, ITEM_BYTES_MAX, RANGE_KEY_BYTES_MAX};
use crate::table::TableDef;
use crate::value::{item_from_wire, item_size, AttrValue, Item};

/// DynamoDB's prefix of most parameter errors.
pub(crate) const INVALID: &str = "One or more parameter values were invalid: ";

fn validation(text: impl Into<String>) -> DynamoError {
    DynamoError::Validation(text.into())
}

fn key_type_name(ty: KeyType) -> &'static str {
    match ty {
        KeyType::S => "S",
        KeyType::N => "N",
        KeyType::B => "B",
    }
}

/// Reads a request's `Key` (GetItem, DeleteItem, UpdateItem, batch and transaction keys):
/// exactly the table's key attributes, of their declared types.
pub(crate) fn key_from_wire(table: &TableDef, key: &BTreeMap<String, Document>) -> Result<PrimaryKey, DynamoError> {
    let item = item_from_wire(key)?;
    key_of_key_item(&table.key, &item, "The provided key element does not match the schema")
}

/// The key a key-only item names, or `mismatch` as the error when it has other attributes or
/// lacks one (a `Key`, an `ExclusiveStartKey` of a table).
pub(crate) fn key_of_key_item(schema: &KeySchema, item: &Item, mismatch: &str) -> Result<PrimaryKey, DynamoError> {
    let expected = schema.names().count();
    let key = match schema.key_of(item) {
        Some(key) if item.len() == expected => key,
        _ => return Err(validation(mismatch)),
    };
    check_key_values(schema, &key)?;
    Ok(key)
}

/// DynamoDB refuses empty string and binary key values and keys over the size limits.
fn check_key_values(schema: &KeySchema, key: &PrimaryKey) -> Result<(), DynamoError> {
    check_key_value(&schema.hash, &key.hash, HASH_KEY_BYTES_MAX)?;
    if let (Some(attr), Some(value)) = (&schema.range, &key.range) {
        check_key_value(attr, value, RANGE_KEY_BYTES_MAX)?;
    }
    Ok(())
}

fn check_key_value(attr: &KeyAttr, value: &KeyValue, bytes_max: usize) -> Result<(), DynamoError> {
    let (len, kind) = match value {
        KeyValue::S(text) => (text.len(), "string"),
        KeyValue::B(bytes) => (bytes.len(), "binary"),
        // Numbers have their own limits (38 digits), checked when they are read.
        KeyValue::N(_) => return Ok(()),
    };
    if len == 0 {
        return Err(validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an \
             empty {kind} value. Key: {}",
            attr.name
        )));
    }
    if len > bytes_max {
        return Err(validation(if bytes_max == HASH_KEY_BYTES_MAX {
            // DynamoDB's text has no space between "of" and the number.
            format!("{INVALID}Size of hashkey has exceeded the maximum size limit of{HASH_KEY_BYTES_MAX} bytes")
        } else {
            format!(
                "{INVALID}Aggregated size of all range keys has exceeded the size limit of {RANGE_KEY_BYTES_MAX} bytes"
            )
        }));
    }
    Ok(())
}

/// Reads an item to store (PutItem, a batch's or a transaction's Put): its key, its index
/// keys and its size.
pub(crate) fn item_from_request(
    table: &TableDef,
    item: &BTreeMap<String, Document>,
) -> Result<(PrimaryKey, Item), DynamoError> {
    let item = item_from_wire(item)?;
    let key = key_of_item(table, &item)?;
    check_index_keys(table, &item)?;
    check_item_size(&item, "Item size has exceeded the maximum allowed size")?;
    Ok((key, item))
}

/// The key of an item to store: each key attribute present and of its declared type.
fn key_of_item(table: &TableDef, item: &Item) -> Result<PrimaryKey, DynamoError> {
    for attr in std::iter::once(&table.key.hash).chain(table.key.range.as_ref()) {
        match item.get(&attr.name) {
            None => return Err(validation(format!("{INVALID}Missing the key {} in the item", attr.name))),
            Some(value) if KeyValue::from_attr(value, attr.ty).is_none() => {
                return Err(validation(format!(
                    "{INVALID}Type mismatch for key {} expected: {} actual: {}",
                    attr.name,
                    key_type_name(attr.ty),
                    value.attr_type().wire_name()
                )))
            }
            Some(_) => {}
        }
    }
    let key = table.key.key_of(item).ok_or_else(|| DynamoError::Internal("a checked key did not read".into()))?;
    check_key_values(&table.key, &key)?;
    Ok(key)
}

/// An item's attributes that key a secondary index must be of the index's key types and not
/// empty (an item without them is simply not in the index).
pub(crate) fn check_index_keys(table: &TableDef, item: &Item) -> Result<(), DynamoError> {
    for index in &table.indexes {
        for attr in std::iter::once(&index.key.hash).chain(index.key.range.as_ref()) {
            let Some(value) = item.get(&attr.name) else { continue };
            if KeyValue::from_attr(value, attr.ty).is_none() {
                return Err(validation(format!(
                    "{INVALID}Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                    attr.name,
                    key_type_name(attr.ty),
                    value.attr_type().wire_name(),
                    index.name
                )));
            }
            let empty = matches!(value, AttrValue::S(text) if text.is_empty())
                || matches!(value, AttrValue::B(bytes) if bytes.is_empty());
            if empty {
                return Err(validation(format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not \
                     supported. The AttributeValue for a key attribute cannot contain an empty string value. \
                     IndexName: {}, IndexKey: {}",
                    index.name, attr.name
                )));
            }
        }
    }
    Ok(())
}

/// The 400 KB limit; `text` differs between PutItem and UpdateItem.
pub(crate) fn check_item_size(item: &Item, text: &str) -> Result<(), DynamoError> {
    if item_size(item) > ITEM_BYTES_MAX {
        return Err(validation(text));
    }
    Ok(())
}

/// Which parameters of each style a request carries, for DynamoDB's rule that one request
/// uses expressions or the legacy parameters, never both.
pub(crate) struct ParameterStyles<'a> {
    /// Legacy parameters present (`Expected`, `AttributeUpdates`, `AttributesToGet`, …).
    pub legacy: Vec<&'static str>,
    /// Expression parameters present (`ConditionExpression`, `UpdateExpression`, …).
    pub expressions: Vec<&'static str>,
    /// The expressions of this operation that may use `:values`, in DynamoDB's order, for
    /// the text when values come without any of them.
    pub value_users: &'static [&'static str],
    pub names: Option<&'a BTreeMap<String, String>>,
    pub values: Option<&'a BTreeMap<String, Document>>,
}

/// `name` when `present`: builds [`ParameterStyles`]' lists.
pub(crate) fn present(pairs: &[(&'static str, bool)]) -> Vec<&'static str> {
    pairs.iter().filter(|(_, present)| *present).map(|(name, _)| *name).collect()
}

impl ParameterStyles<'_> {
    /// Checks the styles and reads the placeholders.
    pub(crate) fn substitutions(&self) -> Result<Substitutions, DynamoError> {
        if !self.legacy.is_empty() && !self.expressions.is_empty() {
            return Err(validation(format!(
                "Can not use both expression and non-expression parameters in the same request: Non-expression \
                 parameters: {{{}}} Expression parameters: {{{}}}",
                self.legacy.join(", "),
                self.expressions.join(", ")
            )));
        }
        if self.names.is_some() && self.expressions.is_empty() {
            return Err(validation("ExpressionAttributeNames can only be specified when using expressions"));
        }
        let value_users_present = self.value_users.iter().any(|name| self.expressions.contains(name));
        if self.values.is_some() && !value_users_present {
            let verb = if self.value_users.len() == 1 { "is" } else { "are" };
            return Err(validation(format!(
                "ExpressionAttributeValues can only be specified when using expressions: {} {verb} null",
                self.value_users.join(" and ")
            )));
        }
        let names = match self.names {
            Some(names) => read_names(names)?,
            None => BTreeMap::new(),
        };
        let values = match self.values {
            Some(values) => read_values(values)?,
            None => Item::new(),
        };
        Ok(Substitutions::new(names, values))
    }
}

fn read_names(names: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, DynamoError> {
    if names.is_empty() {
        return Err(validation("ExpressionAttributeNames must not be empty"));
    }
    if let Some(bad) = names.keys().find(|name| !name.starts_with('#')) {
        return Err(validation(format!("ExpressionAttributeNames contains invalid key: Syntax error; key: \"{bad}\"")));
    }
    Ok(names.clone())
}

fn read_values(values: &BTreeMap<String, Document>) -> Result<Item, DynamoError> {
    if values.is_empty() {
        return Err(validation("ExpressionAttributeValues must not be empty"));
    }
    if let Some(bad) = values.keys().find(|name| !name.starts_with(':')) {
        return Err(validation(format!(
            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{bad}\""
        )));
    }
    values
        .iter()
        .map(|(name, value)| match AttrValue::from_json(value.as_json()) {
            Ok(value) => Ok((name.clone(), value)),
            Err(DynamoError::Validation(text)) => {
                Err(validation(format!("ExpressionAttributeValues contains invalid value: {text} for key {name}")))
            }
            Err(other) => Err(other),
        })
        .collect()
}

/// A write's condition: `ConditionExpression`, or the legacy `Expected` with
/// `ConditionalOperator`; `None` when the write is unconditional.
pub(crate) fn write_condition(
    expression: Option<&str>,
    expected: Option<&BTreeMap<String, ExpectedAttributeValue>>,
    operator: Option<&ConditionalOperator>,
    substitutions: &mut Substitutions,
) -> Result<Option<Condition>, DynamoError> {
    if let Some(text) = expression {
        return Condition::parse(text, ExpressionKind::Condition, substitutions).map(Some);
    }
    match expected {
        Some(expected) => legacy::expected(expected, operator).map(Some),
        None if operator.is_some() => {
            Err(validation(format!("{INVALID}ConditionalOperator can only be used when Expected is specified")))
        }
        None => Ok(None),
    }
}

/// A read's projection: `ProjectionExpression` or the legacy `AttributesToGet`.
pub(crate) fn projection(
    expression: Option<&str>,
    attributes_to_get: Option<&[String]>,
    substitutions: &mut Substitutions,
) -> Result<Option<Projection>, DynamoError> {
    match (expression, attributes_to_get) {
        (Some(text), _) => Projection::parse(text, substitutions).map(Some),
        (None, Some(names)) => {
            let mut seen = std::collections::BTreeSet::new();
            if let Some(duplicate) = names.iter().find(|name| !seen.insert(name.as_str())) {
                return Err(validation(format!("{INVALID}Duplicate value in attribute name: {duplicate}")));
            }
            legacy::attributes_to_get(names).map(Some)
        }
        (None, None) => Ok(None),
    }
}

/// Evaluates a write's condition on the item as stored (an empty item when none is), with
/// DynamoDB's ConditionalCheckFailedException carrying the old item when asked for.
pub(crate) fn check_condition(
    condition: Option<&Condition>,
    old: Option<&Item>,
    return_old: bool,
) -> Result<(), DynamoError> {
    let Some(condition) = condition else { return Ok(()) };
    let empty = Item::new();
    if condition.eval(old.unwrap_or(&empty))? {
        return Ok(());
    }
    Err(DynamoError::ConditionalCheckFailed { item: if return_old { old.cloned() } else { None } })
}

/// Whether `ReturnValuesOnConditionCheckFailure` asks for the old item.
pub(crate) fn returns_old_on_failure(option: Option<&ReturnValuesOnConditionCheckFailure>) -> bool {
    matches!(option, Some(ReturnValuesOnConditionCheckFailure::AllOld))
}

/// A write's condition parameters, in either style (a transaction's actions have only
/// expressions: `expected` and `operator` are `None` there).
pub(crate) struct ConditionParams<'a> {
    pub expression: Option<&'a str>,
    pub expected: Option<&'a BTreeMap<String, ExpectedAttributeValue>>,
    pub operator: Option<&'a ConditionalOperator>,
    pub names: Option<&'a BTreeMap<String, String>>,
    pub values: Option<&'a BTreeMap<String, Document>>,
}

/// The condition of a write whose only expression is its condition (PutItem, DeleteItem, a
/// transaction's Put and Delete), with every placeholder check.
pub(crate) fn only_condition(params: ConditionParams<'_>) -> Result<Option<Condition>, DynamoError> {
    let styles = ParameterStyles {
        legacy: present(&[("Expected", params.expected.is_some())]),
        expressions: present(&[("ConditionExpression", params.expression.is_some())]),
        value_users: &["ConditionExpression"],
        names: params.names,
        values: params.values,
    };
    let mut substitutions = styles.substitutions()?;
    let condition = write_condition(params.expression, params.expected, params.operator, &mut substitutions)?;
    substitutions.finish()?;
    Ok(condition)
}

/// The projection of a read whose only expression is its projection (GetItem, a
/// BatchGetItem table, a transaction's Get), with every placeholder check.
pub(crate) fn only_projection(
    expression: Option<&str>,
    attributes_to_get: Option<&[String]>,
    names: Option<&BTreeMap<String, String>>,
) -> Result<Option<Projection>, DynamoError> {
    let styles = ParameterStyles {
        legacy: present(&[("AttributesToGet", attributes_to_get.is_some())]),
        expressions: present(&[("ProjectionExpression", expression.is_some())]),
        value_users: &[],
        names,
        values: None,
    };
    let mut substitutions = styles.substitutions()?;
    let projection = projection(expression, attributes_to_get, &mut substitutions)?;
    substitutions.finish()?;
    Ok(projection)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A table definition as the store keeps it (serde), so fields added later with their
    /// defaults need no change here.
    fn table(range: bool) -> TableDef {
        let mut key = json!({"hash": {"name": "id", "ty": "S"}, "range": null});
        if range {
            key["range"] = json!({"name": "n", "ty": "N"});
        }
        serde_json::from_value(json!({
            "uid": 1, "name": "tbl", "table_id": "id", "key": key, "attributes": [], "indexes": [],
            "billing": "PayPerRequest", "status": "Active", "created_ms": 0,
        }))
        .unwrap()
    }

    fn wire(json: serde_json::Value) -> BTreeMap<String, Document> {
        json.as_object().unwrap().iter().map(|(name, value)| (name.clone(), Document::new(value.clone()))).collect()
    }

    fn text(result: Result<impl std::fmt::Debug, DynamoError>) -> String {
        match result {
            Err(DynamoError::Validation(text)) => text,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn keys_must_be_exactly_the_schema() {
        let table = table(true);
        let key = key_from_wire(&table, &wire(json!({"id": {"S": "a"}, "n": {"N": "1"}}))).unwrap();
        assert_eq!(table.key.key_item(&key).len(), 2);
        for bad in [
            json!({"id": {"S": "a"}}),
            json!({"id": {"S": "a"}, "n": {"S": "1"}}),
            json!({"id": {"S": "a"}, "n": {"N": "1"}, "x": {"S": "y"}}),
        ] {
            assert_eq!(text(key_from_wire(&table, &wire(bad))), "The provided key element does not match the schema");
        }
        assert_eq!(
            text(key_from_wire(&table, &wire(json!({"id": {"S": ""}, "n": {"N": "1"}})))),
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an \
             empty string value. Key: id"
        );
    }

    #[test]
    fn key_sizes_are_bounded_at_the_limits_and_not_below() {
        let table = table(false);
        let at_limit = "k".repeat(HASH_KEY_BYTES_MAX);
        assert!(key_from_wire(&table, &wire(json!({"id": {"S": at_limit}}))).is_ok());
        let over = "k".repeat(HASH_KEY_BYTES_MAX + 1);
        assert!(text(key_from_wire(&table, &wire(json!({"id": {"S": over}})))).contains("Size of hashkey"));
    }

    #[test]
    fn an_item_needs_its_key_and_fits_the_size_limit() {
        let table = table(true);
        let (key, item) =
            item_from_request(&table, &wire(json!({"id": {"S": "a"}, "n": {"N": "2"}, "x": {"BOOL": true}}))).unwrap();
        assert_eq!((key.hash, item.len()), (KeyValue::S("a".into()), 3));
        assert_eq!(
            text(item_from_request(&table, &wire(json!({"n": {"N": "2"}})))),
            "One or more parameter values were invalid: Missing the key id in the item"
        );
        let big = "x".repeat(ITEM_BYTES_MAX);
        assert_eq!(
            text(item_from_request(&table, &wire(json!({"id": {"S": "a"}, "n": {"N": "2"}, "x": {"S": big}})))),
            "Item size has exceeded the maximum allowed size"
        );
    }

    fn styles<'a>(
        legacy: &[(&'static str, bool)],
        expressions: &[(&'static str, bool)],
        names: Option<&'a BTreeMap<String, String>>,
        values: Option<&'a BTreeMap<String, Document>>,
    ) -> ParameterStyles<'a> {
        ParameterStyles {
            legacy: present(legacy),
            expressions: present(expressions),
            value_users: &["UpdateExpression", "ConditionExpression"],
            names,
            values,
        }
    }

    #[test]
    fn parameter_styles_follow_dynamodbs_rules() {
        let names: BTreeMap<String, String> = [("#a".to_string(), "a".to_string())].into();
        let values = wire(json!({":v": {"S": "x"}}));
        let mixed =
            styles(&[("AttributeUpdates", true), ("Expected", true)], &[("ConditionExpression", true)], None, None);
        assert_eq!(
            text(mixed.substitutions()),
            "Can not use both expression and non-expression parameters in the same request: Non-expression \
             parameters: {AttributeUpdates, Expected} Expression parameters: {ConditionExpression}"
        );
        assert_eq!(
            text(styles(&[], &[], Some(&names), None).substitutions()),
            "ExpressionAttributeNames can only be specified when using expressions"
        );
        assert_eq!(
            text(styles(&[], &[], None, Some(&values)).substitutions()),
            "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and \
             ConditionExpression are null"
        );
        let empty_names = BTreeMap::new();
        assert_eq!(
            text(styles(&[], &[("UpdateExpression", true)], Some(&empty_names), None).substitutions()),
            "ExpressionAttributeNames must not be empty"
        );
        let bad_name: BTreeMap<String, String> = [("a".to_string(), "a".to_string())].into();
        assert_eq!(
            text(styles(&[], &[("UpdateExpression", true)], Some(&bad_name), None).substitutions()),
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\""
        );
        let bad_value = wire(json!({"v": {"S": "x"}}));
        assert_eq!(
            text(styles(&[], &[("UpdateExpression", true)], None, Some(&bad_value)).substitutions()),
            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"v\""
        );
        assert!(styles(&[], &[("UpdateExpression", true)], Some(&names), Some(&values)).substitutions().is_ok());
    }
}
