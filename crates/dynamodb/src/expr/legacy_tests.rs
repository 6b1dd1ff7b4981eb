//! Tests of the legacy parameters, KCL's lease calls first.

#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;
use crate::value::Item;

fn document(json: serde_json::Value) -> Document {
    Document::new(json)
}

fn item(json: serde_json::Value) -> Item {
    json.as_object().unwrap().iter().map(|(name, v)| (name.clone(), AttrValue::from_json(v).unwrap())).collect()
}

fn expect(value: Option<serde_json::Value>, exists: Option<bool>) -> ExpectedAttributeValue {
    ExpectedAttributeValue { value: value.map(document), exists, comparison_operator: None, attribute_value_list: None }
}

fn expect_op(operator: ComparisonOperator, list: Vec<serde_json::Value>) -> ExpectedAttributeValue {
    ExpectedAttributeValue {
        value: None,
        exists: None,
        comparison_operator: Some(operator),
        attribute_value_list: Some(list.into_iter().map(document).collect()),
    }
}

fn expected_map(entries: Vec<(&str, ExpectedAttributeValue)>) -> BTreeMap<String, ExpectedAttributeValue> {
    entries.into_iter().map(|(name, e)| (name.to_string(), e)).collect()
}

fn lease() -> Item {
    item(json!({
        "leaseKey": {"S": "shardId-000"}, "leaseOwner": {"S": "worker-1"}, "leaseCounter": {"N": "7"},
        "checkpoint": {"S": "TRIM_HORIZON"}, "ownerSwitchesSinceCheckpoint": {"N": "0"}
    }))
}

#[test]
fn kcl_create_lease_expects_absence() {
    let condition = expected(&expected_map(vec![("leaseKey", expect(None, Some(false)))]), None).unwrap();
    assert!(condition.eval(&Item::new()).unwrap());
    assert!(!condition.eval(&lease()).unwrap());
}

#[test]
fn kcl_renew_expects_counter_and_owner() {
    let expectations = expected_map(vec![
        ("leaseCounter", expect(Some(json!({"N": "7"})), Some(true))),
        ("leaseOwner", expect(Some(json!({"S": "worker-1"})), None)),
    ]);
    assert!(expected(&expectations, None).unwrap().eval(&lease()).unwrap());
    let stale = expected_map(vec![("leaseCounter", expect(Some(json!({"N": "6"})), None))]);
    assert!(!expected(&stale, None).unwrap().eval(&lease()).unwrap());
    assert!(expected(&stale, Some(&ConditionalOperator::Or)).unwrap().eval(&lease()).is_ok());
    assert!(expected(&BTreeMap::new(), None).unwrap().eval(&Item::new()).unwrap());
}

#[test]
fn expected_refuses_contradictions_with_dynamodb_texts() {
    let message = |e: ExpectedAttributeValue| expected(&expected_map(vec![("a", e)]), None).unwrap_err().to_string();
    assert_eq!(
        message(expect(None, Some(true))),
        "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a"
    );
    assert_eq!(
        message(expect(None, None)),
        "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a"
    );
    assert_eq!(
        message(expect(Some(json!({"S": "x"})), Some(false))),
        "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: a"
    );
    assert_eq!(
        message(expect_op(ComparisonOperator::Between, vec![json!({"S": "x"})])),
        "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator"
    );
    assert_eq!(
        message(expect_op(ComparisonOperator::Eq, vec![])),
        "One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a"
    );
    assert_eq!(
        message(expect_op(ComparisonOperator::Lt, vec![json!({"SS": ["x"]})])),
        "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS AttributeValue type"
    );
    assert_eq!(
        message(expect_op(ComparisonOperator::In, vec![json!({"S": "x"}), json!({"N": "1"})])),
        "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type"
    );
    assert_eq!(
        message(expect_op(ComparisonOperator::Between, vec![json!({"N": "5"}), json!({"N": "1"})])),
        "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"
    );
}

#[test]
fn comparison_operators_evaluate() {
    let on = lease();
    let holds = |name: &str, operator: ComparisonOperator, list: Vec<serde_json::Value>| {
        expected(&expected_map(vec![(name, expect_op(operator, list))]), None).unwrap().eval(&on).unwrap()
    };
    assert!(holds("leaseCounter", ComparisonOperator::Gt, vec![json!({"N": "6"})]));
    assert!(holds("leaseCounter", ComparisonOperator::Between, vec![json!({"N": "7"}), json!({"N": "8"})]));
    assert!(holds("leaseOwner", ComparisonOperator::In, vec![json!({"S": "w"}), json!({"S": "worker-1"})]));
    assert!(holds("leaseOwner", ComparisonOperator::BeginsWith, vec![json!({"S": "work"})]));
    assert!(holds("leaseOwner", ComparisonOperator::Contains, vec![json!({"S": "ker-"})]));
    assert!(holds("leaseOwner", ComparisonOperator::NotContains, vec![json!({"S": "zzz"})]));
    assert!(!holds("absent", ComparisonOperator::NotContains, vec![json!({"S": "zzz"})]));
    assert!(holds("absent", ComparisonOperator::Null, vec![]));
    assert!(holds("leaseOwner", ComparisonOperator::NotNull, vec![]));
    assert!(holds("leaseOwner", ComparisonOperator::Ne, vec![json!({"S": "worker-2"})]));
}

fn updates(
    entries: Vec<(&str, Option<AttributeAction>, Option<serde_json::Value>)>,
) -> BTreeMap<String, AttributeValueUpdate> {
    entries
        .into_iter()
        .map(|(name, action, value)| (name.to_string(), AttributeValueUpdate { action, value: value.map(document) }))
        .collect()
}

#[test]
fn kcl_take_lease_updates() {
    let update = attribute_updates(&updates(vec![
        ("leaseCounter", Some(AttributeAction::Add), Some(json!({"N": "1"}))),
        ("leaseOwner", Some(AttributeAction::Put), Some(json!({"S": "worker-2"}))),
        ("ownerSwitchesSinceCheckpoint", Some(AttributeAction::Add), Some(json!({"N": "1"}))),
        ("pendingCheckpoint", Some(AttributeAction::Delete), None),
        ("checkpoint", None, Some(json!({"S": "49590338271490256608559692538361571095921575989136588898"}))),
    ]))
    .unwrap();
    let mut target = lease();
    target.insert("pendingCheckpoint".into(), AttrValue::S("x".into()));
    update.apply(&mut target).unwrap();
    assert_eq!(
        target,
        item(json!({
            "leaseKey": {"S": "shardId-000"}, "leaseOwner": {"S": "worker-2"}, "leaseCounter": {"N": "8"},
            "checkpoint": {"S": "49590338271490256608559692538361571095921575989136588898"},
            "ownerSwitchesSinceCheckpoint": {"N": "1"}
        }))
    );
    assert_eq!(update.top_level_names().len(), 5);
}

#[test]
fn attribute_updates_on_sets_and_lists() {
    let update = attribute_updates(&updates(vec![
        ("parents", Some(AttributeAction::Add), Some(json!({"SS": ["b", "c"]}))),
        ("gone", Some(AttributeAction::Delete), Some(json!({"SS": ["x"]}))),
        ("log", Some(AttributeAction::Add), Some(json!({"L": [{"S": "2"}]}))),
        ("fresh", Some(AttributeAction::Add), Some(json!({"N": "3"}))),
    ]))
    .unwrap();
    let mut target = item(json!({"parents": {"SS": ["a", "b"]}, "gone": {"SS": ["x"]}, "log": {"L": [{"S": "1"}]}}));
    update.apply(&mut target).unwrap();
    assert_eq!(
        target,
        item(json!({"parents": {"SS": ["a", "b", "c"]}, "log": {"L": [{"S": "1"}, {"S": "2"}]}, "fresh": {"N": "3"}}))
    );
    let message = |entries| attribute_updates(&updates(entries)).unwrap_err().to_string();
    assert_eq!(
        message(vec![("a", Some(AttributeAction::Put), None)]),
        "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"
    );
    assert_eq!(
        message(vec![("a", Some(AttributeAction::Add), Some(json!({"S": "x"})))]),
        "One or more parameter values were invalid: ADD action is not supported for the type S"
    );
    assert_eq!(
        message(vec![("a", Some(AttributeAction::Delete), Some(json!({"N": "1"})))]),
        "One or more parameter values were invalid: DELETE action with value is not supported for the type N"
    );
}

#[test]
fn legacy_filters_keys_and_projections() {
    let conditions: BTreeMap<String, WireCondition> = [(
        "leaseOwner".to_string(),
        WireCondition {
            comparison_operator: ComparisonOperator::Eq,
            attribute_value_list: Some(vec![document(json!({"S": "worker-1"}))]),
        },
    )]
    .into_iter()
    .collect();
    assert!(filter(&conditions, None).unwrap().eval(&lease()).unwrap());
    let schema =
        KeySchema { hash: crate::key::KeyAttr { name: "leaseOwner".into(), ty: crate::key::KeyType::S }, range: None };
    let key = key_conditions(&conditions, &schema).unwrap();
    assert_eq!(key.hash, crate::key::KeyValue::S("worker-1".into()));
    let not_indexable: BTreeMap<String, WireCondition> = [(
        "leaseOwner".to_string(),
        WireCondition {
            comparison_operator: ComparisonOperator::Ne,
            attribute_value_list: Some(vec![document(json!({"S": "w"}))]),
        },
    )]
    .into_iter()
    .collect();
    assert_eq!(
        key_conditions(&not_indexable, &schema).unwrap_err().to_string(),
        "Attempted conditional constraint is not an indexable operation"
    );
    let projection = attributes_to_get(&["leaseKey".to_string(), "checkpoint".to_string()]).unwrap();
    assert_eq!(
        projection.apply(&lease()),
        item(json!({"leaseKey": {"S": "shardId-000"}, "checkpoint": {"S": "TRIM_HORIZON"}}))
    );
    assert_eq!(
        attributes_to_get(&["a".to_string(), "a".to_string()]).unwrap_err().to_string(),
        "One or more parameter values were invalid: Duplicate value in attribute name: a"
    );
}

#[test]
fn legacy_condition_maps_are_bounded() {
    let many = |count: usize| -> BTreeMap<String, ExpectedAttributeValue> {
        (0..count).map(|i| (format!("a{i}"), expect(None, Some(false)))).collect()
    };
    assert!(expected(&many(LEGACY_CONDITIONS_MAX), None).is_ok());
    let refused = expected(&many(LEGACY_CONDITIONS_MAX + 1), None).unwrap_err();
    assert_eq!(refused.to_string(), "Expected has 301 conditions; at most 300 are allowed");
}
