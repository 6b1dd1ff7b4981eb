//! Unit tests of the expression languages, one rule each, with AWS's documented examples
//! where the developer guide gives one.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::key::{KeyAttr, KeyType, KeyValue, RangeCondition};
use crate::value::{AttrValue, Number};

fn value(json: serde_json::Value) -> AttrValue {
    AttrValue::from_json(&json).unwrap()
}

fn item(json: serde_json::Value) -> Item {
    json.as_object().unwrap().iter().map(|(name, v)| (name.clone(), value(v.clone()))).collect()
}

fn subs(names: &[(&str, &str)], values: serde_json::Value) -> Substitutions {
    let names: BTreeMap<String, String> = names.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Substitutions::new(names, item(values))
}

fn condition(text: &str, values: serde_json::Value) -> Result<Condition, DynamoError> {
    Condition::parse(text, ExpressionKind::Condition, &mut subs(&[("#n", "name")], values))
}

fn holds(text: &str, values: serde_json::Value, on: &Item) -> bool {
    condition(text, values).unwrap().eval(on).unwrap()
}

fn error(result: Result<impl std::fmt::Debug, DynamoError>) -> String {
    result.unwrap_err().to_string()
}

fn updated(text: &str, values: serde_json::Value, before: serde_json::Value) -> Result<Item, DynamoError> {
    let update = Update::parse(text, &mut subs(&[("#n", "name")], values))?;
    let mut target = item(before);
    update.apply(&mut target)?;
    Ok(target)
}

fn product() -> Item {
    item(json!({
        "Id": {"N": "123"},
        "Title": {"S": "Bicycle 123"},
        "Price": {"N": "500"},
        "Color": {"SS": ["Red", "Black"]},
        "ProductCategory": {"S": "Bicycle"},
        "RelatedItems": {"L": [{"N": "341"}, {"N": "472"}, {"N": "649"}]},
        "ProductReviews": {"M": {"FiveStar": {"L": [{"S": "Excellent!"}]}, "OneStar": {"L": [{"S": "Terrible"}]}}},
        "Pictures": {"M": {"FrontView": {"S": "http://example.com/front.jpg"}}},
        "InStock": {"BOOL": true},
        "name": {"S": "bike"}
    }))
}

#[test]
fn comparisons_follow_types() {
    let on = product();
    assert!(holds("Price = :p", json!({":p": {"N": "500.0"}}), &on));
    assert!(holds("Price <= :p", json!({":p": {"N": "500"}}), &on));
    assert!(holds("Price > :p", json!({":p": {"N": "99.99"}}), &on));
    assert!(!holds("Price = :p", json!({":p": {"S": "500"}}), &on));
    assert!(!holds("Price < :p", json!({":p": {"S": "600"}}), &on));
    assert!(holds("Price <> :p", json!({":p": {"S": "500"}}), &on));
    assert!(holds("Absent <> :p", json!({":p": {"N": "1"}}), &on));
    assert!(!holds("Absent = :p", json!({":p": {"N": "1"}}), &on));
    assert!(holds("Title < :t", json!({":t": {"S": "Bicycle 2"}}), &on));
    assert!(holds("Color = :c", json!({":c": {"SS": ["Black", "Red"]}}), &on));
    assert!(holds("RelatedItems[1] = :r", json!({":r": {"N": "472"}}), &on));
    assert!(holds("ProductReviews.FiveStar[0] = :r", json!({":r": {"S": "Excellent!"}}), &on));
    assert!(holds("Price BETWEEN :lo AND :hi", json!({":lo": {"N": "100"}, ":hi": {"N": "500"}}), &on));
    assert!(holds("ProductCategory IN (:a, :b)", json!({":a": {"S": "Car"}, ":b": {"S": "Bicycle"}}), &on));
    assert!(holds("#n = :v", json!({":v": {"S": "bike"}}), &on));
}

#[test]
fn functions_follow_aws_examples() {
    let on = product();
    let none = json!({});
    assert!(holds("attribute_exists(Pictures.FrontView)", none.clone(), &on));
    assert!(holds("attribute_not_exists(Manufacturer)", none.clone(), &on));
    assert!(!holds("attribute_exists(Pictures.SideView)", none.clone(), &on));
    assert!(holds("attribute_type(ProductReviews.FiveStar, :t)", json!({":t": {"S": "L"}}), &on));
    assert!(holds("begins_with(Pictures.FrontView, :v)", json!({":v": {"S": "http://"}}), &on));
    assert!(holds("contains(Color, :v)", json!({":v": {"S": "Red"}}), &on));
    assert!(holds("contains(Title, :v)", json!({":v": {"S": "cycle"}}), &on));
    assert!(holds("contains(RelatedItems, :v)", json!({":v": {"N": "649"}}), &on));
    assert!(!holds("contains(Price, :v)", json!({":v": {"N": "5"}}), &on));
    assert!(holds("size(Title) = :v", json!({":v": {"N": "11"}}), &on));
    assert!(holds("size(Color) = :v", json!({":v": {"N": "2"}}), &on));
    assert!(holds("size(ProductReviews) < :v", json!({":v": {"N": "3"}}), &on));
    assert!(!holds("size(Price) > :v", json!({":v": {"N": "0"}}), &on));
}

#[test]
fn boolean_operators_have_precedence_not_and_or() {
    let on = product();
    let values = json!({":t": {"BOOL": true}, ":f": {"BOOL": false}});
    // NOT > AND > OR: "a OR b AND c" is "a OR (b AND c)".
    assert!(holds("InStock = :t OR InStock = :f AND InStock = :f", values.clone(), &on));
    assert!(!holds("(InStock = :t OR InStock = :f) AND InStock = :f", values.clone(), &on));
    assert!(holds("NOT InStock = :f AND InStock = :t", values.clone(), &on));
    assert!(!holds("NOT (InStock = :t AND InStock = :t)", values.clone(), &on));
    assert!(holds("inStock = :f or InStock = :t", values, &on), "keywords are case-insensitive");
}

#[test]
fn kcl_lock_client_condition() {
    let mut names = BTreeMap::new();
    for (placeholder, name) in [("#pk", "key"), ("#rvn", "recordVersionNumber"), ("#on", "ownerName")] {
        names.insert(placeholder.to_string(), name.to_string());
    }
    let values = item(json!({":rvn": {"S": "v1"}, ":on": {"S": "worker-1"}}));
    let mut substitutions = Substitutions::new(names, values);
    let parsed = Condition::parse(
        "attribute_exists(#pk) AND #rvn = :rvn AND #on = :on",
        ExpressionKind::Condition,
        &mut substitutions,
    )
    .unwrap();
    substitutions.finish().unwrap();
    let lock =
        item(json!({"key": {"S": "Leader"}, "recordVersionNumber": {"S": "v1"}, "ownerName": {"S": "worker-1"}}));
    assert!(parsed.eval(&lock).unwrap());
    assert!(!parsed.eval(&Item::new()).unwrap());
}

#[test]
fn syntax_errors_quote_token_and_neighbours() {
    assert_eq!(
        error(condition("a x b", json!({}))),
        "Invalid ConditionExpression: Syntax error; token: \"x\", near: \"a x b\""
    );
    assert_eq!(
        error(condition("a = ", json!({}))),
        "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"= \""
    );
    assert_eq!(
        error(Update::parse("SET a = :v :w", &mut subs(&[], json!({":v": {"N": "1"}, ":w": {"N": "1"}})))),
        "Invalid UpdateExpression: Syntax error; token: \":w\", near: \":v :w\""
    );
    assert_eq!(error(condition("", json!({}))), "Invalid ConditionExpression: The expression can not be empty;");
    assert!(error(condition(&"a = a AND ".repeat(500), json!({})))
        .contains("Expression size has exceeded the maximum allowed size"));
    assert!(error(condition(&format!("{}a = a{}", "(".repeat(100), ")".repeat(100)), json!({})))
        .starts_with("Invalid ConditionExpression: "));
}

#[test]
fn reserved_words_and_placeholders() {
    assert_eq!(
        error(condition("name = :v", json!({":v": {"S": "x"}}))),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"
    );
    assert_eq!(
        error(condition("a = :missing", json!({}))),
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :missing"
    );
    assert_eq!(
        error(condition("#missing = a", json!({}))),
        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #missing"
    );
    let mut substitutions = subs(&[("#a", "a"), ("#unused", "u")], json!({":v": {"N": "1"}, ":w": {"N": "2"}}));
    Condition::parse("#a = :v", ExpressionKind::Filter, &mut substitutions).unwrap();
    assert_eq!(
        error(substitutions.finish()),
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"
    );
    let mut substitutions = subs(&[], json!({":v": {"N": "1"}, ":w": {"N": "2"}}));
    Condition::parse("a = :v", ExpressionKind::Filter, &mut substitutions).unwrap();
    assert_eq!(
        error(substitutions.finish()),
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
    );
}

#[test]
fn function_misuse_is_refused() {
    assert_eq!(
        error(condition("foo(a)", json!({}))),
        "Invalid ConditionExpression: Invalid function name; function: foo"
    );
    assert_eq!(
        error(condition("size(a)", json!({}))),
        "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \")\""
    );
    assert_eq!(
        error(condition("attribute_exists(a, b)", json!({}))),
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"
    );
    assert_eq!(
        error(condition("attribute_exists(:v)", json!({":v": {"S": "x"}}))),
        "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists"
    );
    assert_eq!(
        error(condition("attribute_type(a, :t)", json!({":t": {"S": "XX"}}))),
        "Invalid ConditionExpression: Invalid attribute type name found; type: XX, valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }"
    );
    assert_eq!(
        error(condition("begins_with(a, :v)", json!({":v": {"N": "1"}}))),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
    );
    assert_eq!(
        error(condition("a = attribute_exists(b)", json!({}))),
        "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists"
    );
    assert!(error(condition("a BETWEEN :hi AND :lo", json!({":lo": {"N": "1"}, ":hi": {"N": "5"}})))
        .contains("The BETWEEN operator requires upper bound to be greater than or equal to lower bound"));
    let many: Vec<String> = (0..101).map(|_| ":v".to_string()).collect();
    assert!(error(condition(&format!("a IN ({})", many.join(",")), json!({":v": {"N": "1"}}))).contains("IN"));
}

#[test]
fn set_writes_paths_and_arithmetic() {
    let after = updated(
        "SET Price = Price - :p, #n = :n, Pictures.RearView = :r, RelatedItems[1] = :x, RelatedItems[9] = :y",
        json!({":p": {"N": "15"}, ":n": {"S": "new"}, ":r": {"S": "rear"}, ":x": {"N": "1"}, ":y": {"N": "2"}}),
        json!({"Price": {"N": "100"}, "Pictures": {"M": {}}, "RelatedItems": {"L": [{"N": "0"}, {"N": "0"}]}}),
    )
    .unwrap();
    assert_eq!(
        after,
        item(json!({
            "Price": {"N": "85"}, "name": {"S": "new"}, "Pictures": {"M": {"RearView": {"S": "rear"}}},
            "RelatedItems": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]}
        }))
    );
}

#[test]
fn set_functions() {
    let after = updated(
        "SET a = if_not_exists(a, :zero) + :one, b = if_not_exists(b, :zero), l = list_append(l, :more), m = list_append(:more, l)",
        json!({":zero": {"N": "0"}, ":one": {"N": "1"}, ":more": {"L": [{"S": "z"}]}}),
        json!({"b": {"N": "7"}, "l": {"L": [{"S": "a"}]}}),
    )
    .unwrap();
    assert_eq!(
        after,
        item(
            json!({"a": {"N": "1"}, "b": {"N": "7"}, "l": {"L": [{"S": "a"}, {"S": "z"}]}, "m": {"L": [{"S": "z"}, {"S": "a"}]}})
        )
    );
}

#[test]
fn set_reads_every_value_from_the_item_before_the_update() {
    let after = updated("SET a = b, b = a", json!({}), json!({"a": {"N": "1"}, "b": {"N": "2"}})).unwrap();
    assert_eq!(after, item(json!({"a": {"N": "2"}, "b": {"N": "1"}})));
}

#[test]
fn update_errors_at_apply_time() {
    assert_eq!(
        error(updated("SET a = b + :one", json!({":one": {"N": "1"}}), json!({}))),
        "The provided expression refers to an attribute that does not exist in the item"
    );
    assert_eq!(
        error(updated("SET a = b + :one", json!({":one": {"N": "1"}}), json!({"b": {"S": "x"}}))),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        error(updated("SET a.b = :one", json!({":one": {"N": "1"}}), json!({}))),
        "The document path provided in the update expression is invalid for update"
    );
    assert_eq!(
        error(updated("ADD a :one", json!({":one": {"N": "1"}}), json!({"a": {"S": "x"}}))),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        error(updated(
            "SET a = a + :big",
            json!({":big": {"N": "1E+125"}}),
            json!({"a": {"N": "9.9999999999999999999999999999999999999E+125"}})
        )),
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    );
}

#[test]
fn updates_keep_within_the_nesting_limit() {
    let mut deep = json!({"S": "leaf"});
    for _ in 0..crate::limits::ATTRIBUTE_DEPTH_MAX {
        deep = json!({"L": [deep]});
    }
    let values = json!({":deep": deep});
    assert!(updated("SET a = :deep", values.clone(), json!({})).is_ok());
    assert_eq!(
        error(updated("SET a.b = :deep", values, json!({"a": {"M": {}}}))),
        "Nesting Levels have exceeded supported limits"
    );
}

#[test]
fn update_parse_errors() {
    let parse = |text: &str, values: serde_json::Value| error(Update::parse(text, &mut subs(&[], values)));
    assert_eq!(
        parse("SET a = :v SET b = :v", json!({":v": {"N": "1"}})),
        "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"
    );
    assert_eq!(
        parse("SET a = :v REMOVE a.b", json!({":v": {"N": "1"}})),
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
    );
    assert_eq!(
        parse("REMOVE a[0], a.b", json!({})),
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]"
    );
    assert_eq!(
        parse("ADD a :v", json!({":v": {"S": "x"}})),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"
    );
    assert_eq!(
        parse("DELETE a :v", json!({":v": {"N": "1"}})),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"
    );
    assert_eq!(
        parse("SET a = size(b)", json!({})),
        "Invalid UpdateExpression: The function is not allowed to be used this way in an expression; function: size"
    );
    assert_eq!(
        parse("SET a = if_not_exists(:v, b)", json!({":v": {"N": "1"}})),
        "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists"
    );
    assert_eq!(
        parse("SET a = :v + :w", json!({":v": {"N": "1"}, ":w": {"S": "x"}})),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S"
    );
    assert_eq!(parse("", json!({})), "Invalid UpdateExpression: The expression can not be empty;");
    let nested = format!("SET a = {}b{}", "if_not_exists(b, ".repeat(100), ")".repeat(100));
    assert!(parse(&nested, json!({})).contains("nested too deeply"));
    assert_eq!(
        parse("UPSERT a = :v", json!({":v": {"N": "1"}})),
        "Invalid UpdateExpression: Syntax error; token: \"UPSERT\", near: \"UPSERT a\""
    );
}

#[test]
fn remove_add_delete() {
    let after = updated(
        "REMOVE RelatedItems[0], RelatedItems[2], Gone, Pictures.FrontView ADD Price :ten, Tags :tags, Color :blue DELETE Sizes :s, Solo :last",
        json!({":ten": {"N": "10"}, ":tags": {"SS": ["new"]}, ":blue": {"SS": ["Blue", "Red"]}, ":s": {"NS": ["1"]}, ":last": {"SS": ["only"]}}),
        json!({
            "RelatedItems": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}, {"N": "4"}]},
            "Pictures": {"M": {"FrontView": {"S": "f"}}},
            "Price": {"N": "5"}, "Color": {"SS": ["Red"]}, "Sizes": {"NS": ["1", "2"]}, "Solo": {"SS": ["only"]}
        }),
    )
    .unwrap();
    assert_eq!(
        after,
        item(json!({
            "RelatedItems": {"L": [{"N": "2"}, {"N": "4"}]},
            "Pictures": {"M": {}},
            "Price": {"N": "15"}, "Tags": {"SS": ["new"]}, "Color": {"SS": ["Red", "Blue"]}, "Sizes": {"NS": ["2"]}
        }))
    );
}

#[test]
fn update_reports_names_and_parts() {
    let update =
        Update::parse("SET a.b = :v, c = :v REMOVE d ADD e :v", &mut subs(&[], json!({":v": {"N": "1"}}))).unwrap();
    assert_eq!(update.top_level_names(), vec!["a", "c", "d", "e"]);
    let before =
        item(json!({"a": {"M": {"b": {"N": "0"}, "other": {"N": "9"}}}, "d": {"S": "x"}, "z": {"S": "untouched"}}));
    assert_eq!(update.updated_parts(&before), item(json!({"a": {"M": {"b": {"N": "0"}}}, "d": {"S": "x"}})));
}

#[test]
fn projections_select_nested_parts() {
    let projection = Projection::parse(
        "Title, RelatedItems[2], RelatedItems[0], ProductReviews.FiveStar, Absent, Pictures.Nope",
        &mut subs(&[], json!({})),
    )
    .unwrap();
    assert_eq!(
        projection.apply(&product()),
        item(json!({
            "Title": {"S": "Bicycle 123"},
            "RelatedItems": {"L": [{"N": "341"}, {"N": "649"}]},
            "ProductReviews": {"M": {"FiveStar": {"L": [{"S": "Excellent!"}]}}}
        }))
    );
    assert_eq!(
        error(Projection::parse("a, a.b", &mut subs(&[], json!({})))),
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
    );
}

fn lease_schema() -> KeySchema {
    KeySchema {
        hash: KeyAttr { name: "leaseOwner".into(), ty: KeyType::S },
        range: Some(KeyAttr { name: "leaseKey".into(), ty: KeyType::S }),
    }
}

fn key_condition(text: &str, values: serde_json::Value) -> Result<KeyCondition, DynamoError> {
    parse_key_condition(text, &lease_schema(), &mut subs(&[], values))
}

#[test]
fn key_conditions_lower_to_the_schema() {
    let owner = json!({":o": {"S": "w1"}, ":k": {"S": "shard-"}, ":a": {"S": "a"}, ":b": {"S": "b"}});
    let s = |text: &str| KeyValue::S(text.into());
    assert_eq!(key_condition("leaseOwner = :o", owner.clone()).unwrap(), KeyCondition { hash: s("w1"), range: None });
    assert_eq!(
        key_condition("leaseOwner = :o AND begins_with(leaseKey, :k)", owner.clone()).unwrap().range,
        Some(RangeCondition::BeginsWith(s("shard-")))
    );
    assert_eq!(
        key_condition("(leaseKey BETWEEN :a AND :b) AND :o = leaseOwner", owner.clone()).unwrap(),
        KeyCondition { hash: s("w1"), range: Some(RangeCondition::Between(s("a"), s("b"))) }
    );
    assert_eq!(
        key_condition(":a < leaseKey AND leaseOwner = :o", owner.clone()).unwrap().range,
        Some(RangeCondition::Gt(s("a")))
    );
    assert_eq!(
        error(key_condition("leaseKey = :a", owner.clone())),
        "Query condition missed key schema element: leaseOwner"
    );
    assert_eq!(
        error(key_condition("leaseOwner = :o OR leaseKey = :a", owner.clone())),
        "Invalid operator used in KeyConditionExpression: OR"
    );
    assert_eq!(
        error(key_condition("leaseOwner = :o AND leaseOwner = :a", owner.clone())),
        "KeyConditionExpressions must only contain one condition per key"
    );
    assert_eq!(
        error(key_condition("leaseOwner = :n", json!({":n": {"N": "1"}}))),
        "One or more parameter values were invalid: Condition parameter type does not match schema type"
    );
    assert_eq!(error(key_condition("leaseOwner < :o", owner)), "Query key condition not supported");
}

#[test]
fn number_sum_in_set_union_is_numeric() {
    let after = updated("ADD s :v", json!({":v": {"NS": ["1.0", "3"]}}), json!({"s": {"NS": ["1", "2"]}})).unwrap();
    let AttrValue::Ns(numbers) = &after["s"] else { panic!("not a number set") };
    let texts: Vec<String> = numbers.iter().map(Number::to_string).collect();
    assert_eq!(texts, ["1", "2", "3"]);
}
