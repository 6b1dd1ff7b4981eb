//! The `Condition` element: operators, their values, and their evaluation against the
//! request context, following IAM's documented rules: several values of one key are OR'ed,
//! several keys and operators are AND'ed; a key missing from the request makes a positive
//! operator false and a negated one true; `...IfExists` is true when the key is missing;
//! `ForAnyValue:`/`ForAllValues:` compare sets of request values.

use std::borrow::Cow;
use std::net::IpAddr;

use serde_json::Value;

use crate::policy::bounded_value;
use crate::template::Template;
use crate::values::{parse_date, parse_number, Cidr, Instant};
use crate::wildcard::Case;
use crate::{Context, ContextValue, PolicyError};

/// An ordering comparison of `Numeric*` and `Date*` operators (request value on the left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    fn holds<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Comparison::Equal => request == policy,
            Comparison::Less => request < policy,
            Comparison::LessOrEqual => request <= policy,
            Comparison::Greater => request > policy,
            Comparison::GreaterOrEqual => request >= policy,
        }
    }
}

/// What an operator tests, one request value against one policy value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Test {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Comparison),
    Date(Comparison),
    Bool,
    IpAddress,
    /// `ArnEquals` and `ArnLike` behave the same in IAM: both take wildcards per component.
    Arn,
    Null,
}

/// A set operator prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOperator {
    ForAnyValue,
    ForAllValues,
}

/// A parsed condition operator such as `ForAnyValue:StringNotLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operator {
    test: Test,
    negated: bool,
    set: Option<SetOperator>,
    if_exists: bool,
}

/// The base operators IAM documents that Rheo evaluates; `BinaryEquals` is refused since no
/// Rheo condition key is binary.
const BASE_OPERATORS: &[(&str, Test, bool)] = &[
    ("StringEquals", Test::StringEquals, false),
    ("StringNotEquals", Test::StringEquals, true),
    ("StringEqualsIgnoreCase", Test::StringEqualsIgnoreCase, false),
    ("StringNotEqualsIgnoreCase", Test::StringEqualsIgnoreCase, true),
    ("StringLike", Test::StringLike, false),
    ("StringNotLike", Test::StringLike, true),
    ("NumericEquals", Test::Numeric(Comparison::Equal), false),
    ("NumericNotEquals", Test::Numeric(Comparison::Equal), true),
    ("NumericLessThan", Test::Numeric(Comparison::Less), false),
    ("NumericLessThanEquals", Test::Numeric(Comparison::LessOrEqual), false),
    ("NumericGreaterThan", Test::Numeric(Comparison::Greater), false),
    ("NumericGreaterThanEquals", Test::Numeric(Comparison::GreaterOrEqual), false),
    ("DateEquals", Test::Date(Comparison::Equal), false),
    ("DateNotEquals", Test::Date(Comparison::Equal), true),
    ("DateLessThan", Test::Date(Comparison::Less), false),
    ("DateLessThanEquals", Test::Date(Comparison::LessOrEqual), false),
    ("DateGreaterThan", Test::Date(Comparison::Greater), false),
    ("DateGreaterThanEquals", Test::Date(Comparison::GreaterOrEqual), false),
    ("Bool", Test::Bool, false),
    ("IpAddress", Test::IpAddress, false),
    ("NotIpAddress", Test::IpAddress, true),
    ("ArnEquals", Test::Arn, false),
    ("ArnLike", Test::Arn, false),
    ("ArnNotEquals", Test::Arn, true),
    ("ArnNotLike", Test::Arn, true),
    ("Null", Test::Null, false),
];

impl Operator {
    fn parse(name: &str) -> Result<Operator, PolicyError> {
        let unknown = || PolicyError::UnknownConditionOperator(name.to_owned());
        let (set, rest) = if let Some(rest) = strip_prefix_ignore_case(name, "ForAnyValue:") {
            (Some(SetOperator::ForAnyValue), rest)
        } else if let Some(rest) = strip_prefix_ignore_case(name, "ForAllValues:") {
            (Some(SetOperator::ForAllValues), rest)
        } else {
            (None, name)
        };
        let (base, if_exists) = match strip_suffix_ignore_case(rest, "IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let &(_, test, negated) =
            BASE_OPERATORS.iter().find(|(known, _, _)| known.eq_ignore_ascii_case(base)).ok_or_else(unknown)?;
        if test == Test::Null && (if_exists || set.is_some()) {
            return Err(unknown());
        }
        Ok(Operator { test, negated, set, if_exists })
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let start = text.len().checked_sub(suffix.len())?;
    let tail = text.get(start..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..start])
}

/// The policy values of one key, read once as the operator's type.
#[derive(Debug, Clone, PartialEq)]
enum PolicyValues {
    Text(Vec<Template>),
    Numbers(Vec<f64>),
    Dates(Vec<Instant>),
    Bools(Vec<bool>),
    Cidrs(Vec<Cidr>),
}

/// One operator applied to one key with its values (one line of a `Condition` block).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    operator: Operator,
    /// The key lowercased: context keys are case-insensitive.
    key: String,
    values: PolicyValues,
}

/// Reads a statement's `Condition` object.
/// Service condition keys Rheo's servers never put in a request's context (DynamoDB's
/// fine-grained access keys): policies using them are refused rather than evaluated by
/// the missing-key rule, under which `ForAllValues` and negated operators hold.
const UNSUPPLIED_KEYS: &[&str] = &["dynamodb:LeadingKeys", "dynamodb:Attributes"];

pub(crate) fn parse_block(block: &Value, variables: bool) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(operators) = block else {
        return Err(PolicyError::Syntax("The Condition element must be an object of condition operators.".to_owned()));
    };
    let mut conditions = Vec::new();
    for (operator_name, keys) in operators {
        let operator = Operator::parse(operator_name)?;
        let Value::Object(keys) = keys else {
            return Err(PolicyError::Syntax(format!(
                "The condition operator {operator_name} must map condition keys to values."
            )));
        };
        for (key, values) in keys {
            if key.is_empty() {
                return Err(PolicyError::Syntax(format!(
                    "The condition operator {operator_name} has an empty condition key."
                )));
            }
            if UNSUPPLIED_KEYS.iter().any(|unsupplied| key.eq_ignore_ascii_case(unsupplied)) {
                return Err(PolicyError::UnsupportedConditionKey(key.clone()));
            }
            let raw = condition_values(operator_name, key, values)?;
            let values = typed_values(operator, operator_name, key, &raw, variables)?;
            conditions.push(Condition { operator, key: key.to_ascii_lowercase(), values });
        }
    }
    Ok(conditions)
}

/// A condition value as text: JSON strings, numbers and booleans are all accepted, as IAM
/// accepts `"Bool": {"aws:SecureTransport": false}` and `"NumericLessThan": {"k": 10}`.
fn condition_values(operator: &str, key: &str, values: &Value) -> Result<Vec<String>, PolicyError> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(PolicyError::Syntax(format!(
            "The value of {key} in {operator} must be a string, a number, a boolean or a list of them."
        ))),
    };
    match values {
        Value::Array(list) if list.is_empty() => {
            Err(PolicyError::Syntax(format!("The condition key {key} in {operator} has no values.")))
        }
        Value::Array(list) => list.iter().map(|v| bounded_value(scalar(v)?, key)).collect(),
        single => Ok(vec![bounded_value(scalar(single)?, key)?]),
    }
}

fn typed_values(
    operator: Operator,
    name: &str,
    key: &str,
    raw: &[String],
    variables: bool,
) -> Result<PolicyValues, PolicyError> {
    let invalid = |value: &str, expected: &str| PolicyError::InvalidConditionValue {
        operator: name.to_owned(),
        key: key.to_owned(),
        value: value.to_owned(),
        expected: expected.to_owned(),
    };
    Ok(match operator.test {
        Test::StringEquals | Test::StringEqualsIgnoreCase | Test::StringLike | Test::Arn => {
            let templates = raw.iter().map(|v| {
                if variables {
                    Template::with_variables(v).map_err(|e| PolicyError::Syntax(e.0))
                } else {
                    Ok(Template::literal(v))
                }
            });
            PolicyValues::Text(templates.collect::<Result<_, _>>()?)
        }
        Test::Numeric(_) => PolicyValues::Numbers(
            raw.iter().map(|v| parse_number(v).ok_or_else(|| invalid(v, "a number"))).collect::<Result<_, _>>()?,
        ),
        Test::Date(_) => PolicyValues::Dates(
            raw.iter()
                .map(|v| parse_date(v).ok_or_else(|| invalid(v, "an ISO 8601 date or epoch seconds")))
                .collect::<Result<_, _>>()?,
        ),
        Test::Bool | Test::Null => PolicyValues::Bools(
            raw.iter().map(|v| parse_bool(v).ok_or_else(|| invalid(v, "true or false"))).collect::<Result<_, _>>()?,
        ),
        Test::IpAddress => PolicyValues::Cidrs(
            raw.iter()
                .map(|v| Cidr::parse(v).ok_or_else(|| invalid(v, "an IP address or CIDR block")))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// One request value, borrowed from the context.
#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    Text(&'a str),
    Bool(bool),
    Ip(IpAddr),
    Date(Instant),
    Number(f64),
}

impl Item<'_> {
    fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Item::Text(s) => Some(Cow::Borrowed(s)),
            Item::Bool(true) => Some(Cow::Borrowed("true")),
            Item::Bool(false) => Some(Cow::Borrowed("false")),
            Item::Ip(ip) => Some(Cow::Owned(ip.to_string())),
            Item::Number(n) => Some(Cow::Owned(n.to_string())),
            Item::Date(_) => None,
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Item::Number(n) => Some(*n),
            Item::Text(s) => parse_number(s),
            _ => None,
        }
    }

    fn date(&self) -> Option<Instant> {
        match self {
            Item::Date(d) => Some(*d),
            Item::Text(s) => parse_date(s),
            Item::Number(n) if n.is_finite() && n.fract() == 0.0 => parse_date(&format!("{n}")),
            _ => None,
        }
    }

    fn boolean(&self) -> Option<bool> {
        match self {
            Item::Bool(b) => Some(*b),
            Item::Text(s) => parse_bool(s),
            _ => None,
        }
    }

    fn ip(&self) -> Option<IpAddr> {
        match self {
            Item::Ip(ip) => Some(*ip),
            Item::Text(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// The values of a context key, without allocating.
enum Items<'a> {
    One(Option<Item<'a>>),
    Many(std::slice::Iter<'a, String>),
}

impl<'a> Iterator for Items<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        match self {
            Items::One(item) => item.take(),
            Items::Many(iter) => iter.next().map(|s| Item::Text(s)),
        }
    }
}

fn items(value: &ContextValue) -> Items<'_> {
    match value {
        ContextValue::String(s) => Items::One(Some(Item::Text(s))),
        ContextValue::Strings(list) => Items::Many(list.iter()),
        ContextValue::Bool(b) => Items::One(Some(Item::Bool(*b))),
        ContextValue::Ip(ip) => Items::One(Some(Item::Ip(*ip))),
        ContextValue::Date(t) => Items::One(Some(Item::Date(Instant::from_system_time(*t)))),
        ContextValue::Number(n) => Items::One(Some(Item::Number(*n))),
    }
}

fn ignore_case_equal(a: &str, b: &str) -> bool {
    a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
}

impl Condition {
    /// Whether this condition holds for the request.
    pub(crate) fn holds(&self, context: &Context) -> bool {
        let value = context.get_lowercase(&self.key);
        if self.operator.test == Test::Null {
            // `"Null": {"k": "true"}` holds when the key is absent.
            let absent = value.is_none();
            return matches!(&self.values, PolicyValues::Bools(wanted) if wanted.contains(&absent));
        }
        let Some(value) = value else {
            return match self.operator.set {
                _ if self.operator.if_exists => true,
                Some(SetOperator::ForAllValues) => true,
                Some(SetOperator::ForAnyValue) => false,
                None => self.operator.negated,
            };
        };
        match self.operator.set {
            None => {
                let any = items(value).any(|item| self.matches_any_policy_value(item, context));
                any != self.operator.negated
            }
            // Per request value, a negated operator means "matches none of the policy values".
            Some(SetOperator::ForAnyValue) => {
                items(value).any(|item| self.matches_any_policy_value(item, context) != self.operator.negated)
            }
            Some(SetOperator::ForAllValues) => {
                items(value).all(|item| self.matches_any_policy_value(item, context) != self.operator.negated)
            }
        }
    }

    /// Whether the request value matches at least one of the policy values (positively).
    fn matches_any_policy_value(&self, item: Item<'_>, context: &Context) -> bool {
        match (&self.values, self.operator.test) {
            (PolicyValues::Text(templates), test) => {
                let Some(request) = item.text() else { return false };
                templates.iter().any(|template| match test {
                    Test::StringEquals => template.text(context).is_some_and(|p| p == request),
                    Test::StringEqualsIgnoreCase => {
                        template.text(context).is_some_and(|p| ignore_case_equal(&p, &request))
                    }
                    Test::StringLike => template.pattern(context).is_some_and(|p| p.matches(&request, Case::Sensitive)),
                    Test::Arn => template.pattern(context).is_some_and(|p| p.matches_arn(&request)),
                    _ => false,
                })
            }
            (PolicyValues::Numbers(numbers), Test::Numeric(comparison)) => {
                item.number().is_some_and(|request| numbers.iter().any(|policy| comparison.holds(request, *policy)))
            }
            (PolicyValues::Dates(dates), Test::Date(comparison)) => {
                item.date().is_some_and(|request| dates.iter().any(|policy| comparison.holds(request, *policy)))
            }
            (PolicyValues::Bools(bools), Test::Bool) => item.boolean().is_some_and(|request| bools.contains(&request)),
            (PolicyValues::Cidrs(blocks), Test::IpAddress) => {
                item.ip().is_some_and(|request| blocks.iter().any(|block| block.contains(request)))
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, UNIX_EPOCH};

    fn conditions(block: Value) -> Vec<Condition> {
        parse_block(&block, true).unwrap()
    }

    fn holds(block: Value, context: &Context) -> bool {
        conditions(block).iter().all(|c| c.holds(context))
    }

    fn ctx(key: &str, value: ContextValue) -> Context {
        Context::new().with(key, value)
    }

    fn s(v: &str) -> ContextValue {
        ContextValue::String(v.to_owned())
    }

    fn list(v: &[&str]) -> ContextValue {
        ContextValue::Strings(v.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn string_operators() {
        let c = ctx("aws:username", s("Alice"));
        assert!(holds(json!({"StringEquals": {"aws:username": "Alice"}}), &c));
        assert!(!holds(json!({"StringEquals": {"aws:username": "alice"}}), &c));
        assert!(holds(json!({"StringEquals": {"aws:username": ["bob", "Alice"]}}), &c));
        assert!(holds(json!({"StringNotEquals": {"aws:username": "bob"}}), &c));
        assert!(!holds(json!({"StringNotEquals": {"aws:username": ["bob", "Alice"]}}), &c));
        assert!(holds(json!({"StringEqualsIgnoreCase": {"aws:username": "ALICE"}}), &c));
        assert!(!holds(json!({"StringNotEqualsIgnoreCase": {"aws:username": "ALICE"}}), &c));
        assert!(holds(json!({"StringLike": {"aws:username": "A*"}}), &c));
        assert!(holds(json!({"StringLike": {"aws:username": "Al?ce"}}), &c));
        assert!(!holds(json!({"StringLike": {"aws:username": "a*"}}), &c));
        assert!(holds(json!({"StringNotLike": {"aws:username": "b*"}}), &c));
        // StringEquals takes `*` literally.
        assert!(!holds(json!({"StringEquals": {"aws:username": "*"}}), &c));
        // Key names are case-insensitive.
        assert!(holds(json!({"StringEquals": {"AWS:UserName": "Alice"}}), &c));
    }

    #[test]
    fn numeric_operators() {
        let c = ctx("kinesis:ShardCount", ContextValue::Number(4.0));
        assert!(holds(json!({"NumericEquals": {"kinesis:ShardCount": "4"}}), &c));
        assert!(holds(json!({"NumericEquals": {"kinesis:ShardCount": 4}}), &c));
        assert!(holds(json!({"NumericNotEquals": {"kinesis:ShardCount": 5}}), &c));
        assert!(holds(json!({"NumericLessThan": {"kinesis:ShardCount": 5}}), &c));
        assert!(!holds(json!({"NumericLessThan": {"kinesis:ShardCount": 4}}), &c));
        assert!(holds(json!({"NumericLessThanEquals": {"kinesis:ShardCount": 4}}), &c));
        assert!(holds(json!({"NumericGreaterThan": {"kinesis:ShardCount": "3.5"}}), &c));
        assert!(holds(json!({"NumericGreaterThanEquals": {"kinesis:ShardCount": 4}}), &c));
        assert!(holds(json!({"NumericLessThan": {"k": 10}}), &ctx("k", s("9"))));
        assert!(parse_block(&json!({"NumericLessThan": {"k": "ten"}}), true).is_err());
    }

    #[test]
    fn date_operators() {
        let now = UNIX_EPOCH + Duration::from_secs(1_577_836_800); // 2020-01-01T00:00:00Z
        let c = ctx("aws:CurrentTime", ContextValue::Date(now));
        assert!(holds(json!({"DateEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}), &c));
        assert!(holds(json!({"DateNotEquals": {"aws:CurrentTime": "2020-01-02"}}), &c));
        assert!(holds(json!({"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:01Z"}}), &c));
        assert!(!holds(json!({"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}), &c));
        assert!(holds(json!({"DateLessThanEquals": {"aws:CurrentTime": "1577836800"}}), &c));
        assert!(holds(json!({"DateGreaterThan": {"aws:CurrentTime": "2019-12-31T23:59:59Z"}}), &c));
        assert!(holds(json!({"DateGreaterThanEquals": {"aws:CurrentTime": "2020-01-01T01:00:00+01:00"}}), &c));
        let epoch = ctx("aws:EpochTime", ContextValue::Number(1_577_836_800.0));
        assert!(holds(json!({"DateGreaterThanEquals": {"aws:EpochTime": "2020-01-01T00:00:00Z"}}), &epoch));
        assert!(parse_block(&json!({"DateLessThan": {"aws:CurrentTime": "soon"}}), true).is_err());
    }

    #[test]
    fn bool_operator() {
        let secure = ctx("aws:SecureTransport", ContextValue::Bool(true));
        assert!(holds(json!({"Bool": {"aws:SecureTransport": "true"}}), &secure));
        assert!(holds(json!({"Bool": {"aws:SecureTransport": true}}), &secure));
        assert!(!holds(json!({"Bool": {"aws:SecureTransport": "false"}}), &secure));
        assert!(holds(json!({"Bool": {"aws:SecureTransport": "false"}}), &ctx("aws:SecureTransport", s("FALSE"))));
        // Absent key: a positive operator is false; IfExists makes it true.
        assert!(!holds(json!({"Bool": {"aws:SecureTransport": "false"}}), &Context::new()));
        assert!(holds(json!({"BoolIfExists": {"aws:SecureTransport": "false"}}), &Context::new()));
        assert!(parse_block(&json!({"Bool": {"aws:SecureTransport": "yes"}}), true).is_err());
    }

    #[test]
    fn ip_operators() {
        let c = ctx("aws:SourceIp", ContextValue::Ip("203.0.113.9".parse().unwrap()));
        assert!(holds(json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), &c));
        assert!(holds(json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24"]}}), &c));
        assert!(!holds(json!({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}), &c));
        assert!(holds(json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), &c));
        assert!(!holds(json!({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), &c));
        let v6 = ctx("aws:SourceIp", ContextValue::Ip("2001:db8::1".parse().unwrap()));
        assert!(holds(json!({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}), &v6));
        assert!(parse_block(&json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/40"}}), true).is_err());
    }

    #[test]
    fn arn_operators() {
        let c = ctx("aws:SourceArn", s("arn:aws:firehose:us-east-1:123456789012:deliverystream/logs"));
        assert!(holds(
            json!({"ArnEquals": {"aws:SourceArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/logs"}}),
            &c
        ));
        assert!(holds(json!({"ArnLike": {"aws:SourceArn": "arn:aws:firehose:*:123456789012:deliverystream/*"}}), &c));
        assert!(holds(json!({"ArnEquals": {"aws:SourceArn": "arn:aws:firehose:*:*:deliverystream/logs"}}), &c));
        assert!(!holds(json!({"ArnLike": {"aws:SourceArn": "arn:aws:firehose:*:111111111111:*"}}), &c));
        assert!(holds(json!({"ArnNotLike": {"aws:SourceArn": "arn:aws:firehose:*:111111111111:*"}}), &c));
        assert!(!holds(json!({"ArnNotEquals": {"aws:SourceArn": "arn:aws:firehose:*:*:*"}}), &c));
    }

    #[test]
    fn null_operator() {
        let c = ctx("aws:TokenIssueTime", s("2020-01-01T00:00:00Z"));
        assert!(holds(json!({"Null": {"aws:TokenIssueTime": "false"}}), &c));
        assert!(!holds(json!({"Null": {"aws:TokenIssueTime": "true"}}), &c));
        assert!(holds(json!({"Null": {"aws:TokenIssueTime": "true"}}), &Context::new()));
        assert!(parse_block(&json!({"NullIfExists": {"k": "true"}}), true).is_err());
    }

    #[test]
    fn missing_keys_follow_the_documented_rules() {
        let empty = Context::new();
        assert!(!holds(json!({"StringEquals": {"k": "v"}}), &empty));
        assert!(holds(json!({"StringNotEquals": {"k": "v"}}), &empty));
        assert!(holds(json!({"StringNotLike": {"k": "v*"}}), &empty));
        assert!(holds(json!({"ArnNotLike": {"k": "arn:*"}}), &empty));
        assert!(holds(json!({"NotIpAddress": {"k": "10.0.0.0/8"}}), &empty));
        assert!(!holds(json!({"IpAddress": {"k": "10.0.0.0/8"}}), &empty));
        assert!(holds(json!({"StringEqualsIfExists": {"k": "v"}}), &empty));
        assert!(holds(json!({"ForAllValues:StringEquals": {"k": "v"}}), &empty));
        assert!(!holds(json!({"ForAnyValue:StringEquals": {"k": "v"}}), &empty));
        // IfExists with the key present behaves as the base operator.
        assert!(!holds(json!({"StringEqualsIfExists": {"k": "v"}}), &ctx("k", s("w"))));
    }

    #[test]
    fn set_operators() {
        let tags = ctx("aws:TagKeys", list(&["env", "team"]));
        assert!(holds(json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team", "cost"]}}), &tags));
        assert!(!holds(json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}), &tags));
        assert!(holds(json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}), &tags));
        assert!(!holds(json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}}), &tags));
        assert!(holds(json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}), &tags));
        assert!(!holds(json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["env"]}}), &tags));
        assert!(holds(json!({"ForAllValues:StringLike": {"aws:TagKeys": ["e*", "t*"]}}), &tags));
        // ForAllValues over an empty set is true; ForAnyValue false.
        let none = ctx("aws:TagKeys", list(&[]));
        assert!(holds(json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}), &none));
        assert!(!holds(json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}), &none));
    }

    #[test]
    fn keys_and_operators_are_anded() {
        let c = Context::new().with("a", s("1")).with("b", s("2"));
        assert!(holds(json!({"StringEquals": {"a": "1", "b": "2"}}), &c));
        assert!(!holds(json!({"StringEquals": {"a": "1", "b": "3"}}), &c));
        assert!(!holds(json!({"StringEquals": {"a": "1"}, "StringLike": {"b": "3*"}}), &c));
    }

    #[test]
    fn variables_in_condition_values() {
        let c = Context::new().with("aws:username", s("alice")).with("kinesis:StreamName", s("alice-logs"));
        assert!(holds(json!({"StringLike": {"kinesis:StreamName": "${aws:username}-*"}}), &c));
        let without = parse_block(&json!({"StringLike": {"kinesis:StreamName": "${aws:username}-*"}}), false).unwrap();
        assert!(!without[0].holds(&c));
    }

    #[test]
    fn operator_names() {
        for bad in ["StringEqualz", "ForSomeValues:StringEquals", "BinaryEquals", "ForAnyValue:Null"] {
            assert!(
                matches!(parse_block(&json!({bad: {"k": "v"}}), true), Err(PolicyError::UnknownConditionOperator(_))),
                "{bad}"
            );
        }
        let parsed = conditions(json!({"ForAnyValue:StringNotLikeIfExists": {"k": "v"}}));
        assert_eq!(
            parsed[0].operator,
            Operator { test: Test::StringLike, negated: true, set: Some(SetOperator::ForAnyValue), if_exists: true }
        );
    }
}
