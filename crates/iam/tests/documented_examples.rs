//! The evaluator against the examples and rules of the IAM User Guide. Each case names the
//! page (under https://docs.aws.amazon.com/IAM/latest/UserGuide/) whose example or rule it
//! checks; policies are restated in Kinesis terms where the page uses another service, keeping
//! the shape the page documents.

#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use rheo_iam::{evaluate, AccessRequest, Context, ContextValue, Decision, Identity, Policy, PolicyKind};

const ACCOUNT: &str = "123456789012";
const CARLOS: &str = "arn:aws:iam::123456789012:user/carlossalazar";
const MARY: &str = "arn:aws:iam::123456789012:user/mary";
const ROLE: &str = "arn:aws:iam::123456789012:role/firehose-delivery";
const ORDERS: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/orders";
const LOGS: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/carlossalazar-logs";

const ALLOW: Decision = Decision::Allow;
const IMPLICIT: Decision = Decision::ImplicitDeny;
const DENY_ID: Decision = Decision::ExplicitDeny(PolicyKind::Identity);
const DENY_RES: Decision = Decision::ExplicitDeny(PolicyKind::Resource);

/// The user policy of the single-account example (evaluation-logic_policy-eval-basics):
/// read-style actions anywhere, everything on the user's own stream, and an explicit deny on
/// every stream whose name contains `log`.
const CARLOS_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AllowListRead", "Effect": "Allow", "Action": ["kinesis:ListStreams", "kinesis:DescribeStreamSummary"], "Resource": "*"},
    {"Sid": "AllowSelf", "Effect": "Allow", "Action": "kinesis:*", "Resource": "arn:aws:kinesis:*:123456789012:stream/carlossalazar*"},
    {"Sid": "DenyLogs", "Effect": "Deny", "Action": "kinesis:*", "Resource": "arn:aws:kinesis:*:*:stream/*log*"}
  ]
}"#;

/// The resource policy of the same example: the log stream grants the user everything.
const LOGS_STREAM_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/carlossalazar"}, "Action": "kinesis:*", "Resource": "arn:aws:kinesis:us-east-1:123456789012:stream/carlossalazar-logs"}]
}"#;

struct Case {
    /// The IAM User Guide page the case comes from.
    source: &'static str,
    identity: Option<&'static str>,
    resource_policy: Option<&'static str>,
    principal: &'static str,
    action: &'static str,
    resource: &'static str,
    context: Vec<(&'static str, ContextValue)>,
    expected: Decision,
}

fn s(v: &str) -> ContextValue {
    ContextValue::String(v.to_owned())
}

fn ip(v: &str) -> ContextValue {
    ContextValue::Ip(v.parse::<IpAddr>().unwrap())
}

fn at(seconds: u64) -> ContextValue {
    ContextValue::Date(UNIX_EPOCH + Duration::from_secs(seconds))
}

fn set(values: &[&str]) -> ContextValue {
    ContextValue::Strings(values.iter().map(|v| (*v).to_owned()).collect())
}

/// 2020-12-10T00:00:00Z, between the two dates of the time-window example.
const DEC_10_2020: u64 = 1_607_558_400;
/// 2021-01-05T00:00:00Z, after it.
const JAN_5_2021: u64 = 1_609_804_800;

fn case(
    source: &'static str,
    identity: Option<&'static str>,
    resource_policy: Option<&'static str>,
    request: (&'static str, &'static str, &'static str),
    context: Vec<(&'static str, ContextValue)>,
    expected: Decision,
) -> Case {
    let (principal, action, resource) = request;
    Case { source, identity, resource_policy, principal, action, resource, context, expected }
}

#[rustfmt::skip] // one case per line: the table reads as a table
fn cases() -> Vec<Case> {
    const BASICS: &str = "reference_policies_evaluation-logic_policy-eval-basics.html";
    const DENYALLOW: &str = "reference_policies_evaluation-logic_policy-eval-denyallow.html";
    const ACTION: &str = "reference_policies_elements_action.html";
    const NOTACTION: &str = "reference_policies_elements_notaction.html";
    const RESOURCE: &str = "reference_policies_elements_resource.html";
    const NOTRESOURCE: &str = "reference_policies_elements_notresource.html";
    const PRINCIPAL: &str = "reference_policies_elements_principal.html";
    const NOTPRINCIPAL: &str = "reference_policies_elements_notprincipal.html";
    const OPERATORS: &str = "reference_policies_elements_condition_operators.html";
    const MULTI: &str = "reference_policies_condition-logic-multiple-context-keys-or-values.html";
    const SETS: &str = "reference_policies_condition-single-vs-multi-valued-context-keys.html";
    const VARIABLES: &str = "reference_policies_variables.html";

    const READ_ORDERS: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": "arn:aws:kinesis:us-east-1:123456789012:stream/orders"}}"#;
    const ALL_BUT_DELETE: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": "kinesis:DeleteStream", "Resource": "arn:aws:kinesis:*:*:stream/*"}}"#;
    const ALL_BUT_IAM: &str =
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}"#;
    const DENY_ALL_BUT_IAM_WITHOUT_MFA: &str = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}"#;
    const ACCESS_KEYS: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "arn:aws:iam::123456789012:user/*"}}"#;
    const PUT_STAR: &str =
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "KINESIS:put*", "Resource": "*"}}"#;
    const REGION_WILDCARD: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "arn:aws:kinesis:us-*-1:123456789012:stream/ord?rs"}}"#;
    const DENY_OUTSIDE_ORDERS: &str = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "kinesis:*", "NotResource": ["arn:aws:kinesis:us-east-1:123456789012:stream/orders", "arn:aws:kinesis:us-east-1:123456789012:stream/orders/*"]}]}"#;
    const ANYONE_READS: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "kinesis:GetRecords", "Resource": "*"}}"#;
    const ACCOUNT_READS: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "kinesis:GetRecords", "Resource": "*"}}"#;
    const ACCOUNT_DENIED: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kinesis:DeleteStream", "Resource": "*"}}"#;
    const ROLE_WRITES: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:role/firehose-delivery"], "Service": "firehose.amazonaws.com"}, "Action": "kinesis:PutRecords", "Resource": "*"}}"#;
    const SERVICE_ONLY: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "kinesis:*", "Resource": "*"}}"#;
    // Naming the account under NotPrincipal exempts its root user only, not its users.
    const DENY_ALL_BUT_ROOT: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kinesis:*", "Resource": "*"}}"#;
    const DENY_ALL_BUT_MARY: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::123456789012:user/mary"]}, "Action": "kinesis:*", "Resource": "*"}}"#;
    const JOB_CATEGORY: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}}}"#;
    const NOT_PROD: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "kinesis:DeleteStream", "Resource": "*", "Condition": {"StringNotEquals": {"aws:ResourceTag/env": ["dev", "test"]}}}]}"#;
    const LIKE_PREFIX: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*", "Condition": {"StringLike": {"aws:PrincipalTag/team": "data-*"}}}}"#;
    const IGNORE_CASE: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*", "Condition": {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "Analytics"}}}}"#;
    const FEW_SHARDS: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:CreateStream", "Resource": "*", "Condition": {"NumericLessThanEquals": {"kinesis:ShardCount": "10"}}}}"#;
    const TIME_WINDOW: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*", "Condition": {
        "DateGreaterThan": {"aws:CurrentTime": "2020-12-01T00:00:00Z"}, "DateLessThan": {"aws:CurrentTime": "2020-12-31T23:59:59Z"}}}}"#;
    const EPOCH_WINDOW: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*", "Condition": {"DateLessThan": {"aws:EpochTime": "1609459199"}}}}"#;
    const TLS_ONLY: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "kinesis:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}}"#;
    const FROM_NETWORKS: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "kinesis:*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}}]}"#;
    const SOURCE_ARN: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "kinesis:PutRecords", "Resource": "*", "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:firehose:*:123456789012:deliverystream/*"}}}}"#;
    const NOT_FROM_ARN: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "kinesis:*", "Resource": "*", "Condition": {"ArnNotEquals": {"aws:SourceArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/trusted"}}}]}"#;
    const INSTANCE_TYPE_IF_EXISTS: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*", "Condition": {"StringLikeIfExists": {"kinesis:StreamMode": "PROVISIONED"}}}}"#;
    const DENY_TEMPORARY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "kinesis:*", "Resource": "*", "Condition": {"Null": {"aws:TokenIssueTime": "false"}}}]}"#;
    const TWO_KEYS_AND: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*", "Condition": {
        "StringEquals": {"aws:PrincipalTag/department": "finance", "aws:PrincipalTag/role": ["audit", "security"]}}}}"#;
    const TAG_KEYS_ALL: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:AddTagsToStream", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}}}"#;
    const TAG_KEYS_ANY: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:AddTagsToStream", "Resource": "*", "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}}}"#;
    const TAG_KEYS_ALL_NOT_NULL: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:AddTagsToStream", "Resource": "*", "Condition": {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}, "Null": {"aws:TagKeys": "false"}}}}"#;
    const OWN_STREAMS: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "arn:aws:kinesis:*:123456789012:stream/${aws:username}-*"}}"#;
    const OWN_STREAMS_2008: &str = r#"{"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "arn:aws:kinesis:*:123456789012:stream/${aws:username}-*"}}"#;
    const TAG_DEFAULT: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "arn:aws:kinesis:*:*:stream/${aws:PrincipalTag/team, 'company-wide'}/*"}}"#;

    vec![
        // Single account: the identity deny beats the resource policy's allow.
        case(BASICS, Some(CARLOS_POLICY), Some(LOGS_STREAM_POLICY), (CARLOS, "kinesis:PutRecord", LOGS), vec![], DENY_ID),
        case(BASICS, Some(CARLOS_POLICY), None, (CARLOS, "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:123456789012:stream/carlossalazar"), vec![], ALLOW),
        case(BASICS, Some(CARLOS_POLICY), None, (CARLOS, "kinesis:ListStreams", "*"), vec![], ALLOW),
        // Either policy allowing is enough within one account.
        case(BASICS, Some(READ_ORDERS), Some(LOGS_STREAM_POLICY), (CARLOS, "kinesis:GetRecords", LOGS), vec![], ALLOW),
        case(BASICS, Some(READ_ORDERS), None, (CARLOS, "kinesis:GetRecords", ORDERS), vec![], ALLOW),
        // Nothing allows: implicit deny.
        case(DENYALLOW, Some(READ_ORDERS), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![], IMPLICIT),
        case(DENYALLOW, Some(READ_ORDERS), None, (CARLOS, "kinesis:GetRecords", LOGS), vec![], IMPLICIT),
        case(DENYALLOW, Some(r#"{"Version": "2012-10-17", "Statement": []}"#), None, (CARLOS, "kinesis:GetRecords", ORDERS), vec![], IMPLICIT),
        // A resource-policy deny beats an identity allow.
        case(DENYALLOW, Some(READ_ORDERS), Some(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "kinesis:Get*", "Resource": "*"}}"#), (CARLOS, "kinesis:GetRecords", ORDERS), vec![], DENY_RES),
        // Actions: case-insensitive, with wildcards anywhere in the name.
        case(ACTION, Some(ACCESS_KEYS), None, (CARLOS, "iam:CreateAccessKey", "arn:aws:iam::123456789012:user/mary"), vec![], ALLOW),
        case(ACTION, Some(ACCESS_KEYS), None, (CARLOS, "iam:ListAccessKeys", "arn:aws:iam::123456789012:user/mary"), vec![], ALLOW),
        case(ACTION, Some(ACCESS_KEYS), None, (CARLOS, "iam:CreateUser", "arn:aws:iam::123456789012:user/mary"), vec![], IMPLICIT),
        case(ACTION, Some(PUT_STAR), None, (CARLOS, "kinesis:PutRecords", ORDERS), vec![], ALLOW),
        case(ACTION, Some(PUT_STAR), None, (CARLOS, "kinesis:GetRecords", ORDERS), vec![], IMPLICIT),
        // NotAction with Allow: everything else on the resources named.
        case(NOTACTION, Some(ALL_BUT_DELETE), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![], ALLOW),
        case(NOTACTION, Some(ALL_BUT_DELETE), None, (CARLOS, "kinesis:DeleteStream", ORDERS), vec![], IMPLICIT),
        case(NOTACTION, Some(ALL_BUT_IAM), None, (CARLOS, "firehose:PutRecord", "arn:aws:firehose:us-east-1:123456789012:deliverystream/x"), vec![], ALLOW),
        case(NOTACTION, Some(ALL_BUT_IAM), None, (CARLOS, "iam:CreateUser", "arn:aws:iam::123456789012:user/x"), vec![], IMPLICIT),
        // NotAction with Deny: denies all but IAM without MFA; allows with it.
        case(NOTACTION, Some(DENY_ALL_BUT_IAM_WITHOUT_MFA), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:MultiFactorAuthPresent", ContextValue::Bool(false))], DENY_ID),
        case(NOTACTION, Some(DENY_ALL_BUT_IAM_WITHOUT_MFA), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![], DENY_ID),
        case(NOTACTION, Some(DENY_ALL_BUT_IAM_WITHOUT_MFA), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:MultiFactorAuthPresent", ContextValue::Bool(true))], ALLOW),
        case(NOTACTION, Some(DENY_ALL_BUT_IAM_WITHOUT_MFA), None, (CARLOS, "iam:ChangePassword", "*"), vec![("aws:MultiFactorAuthPresent", ContextValue::Bool(false))], ALLOW),
        // Resource: wildcards within ARN segments, case-sensitive.
        case(RESOURCE, Some(REGION_WILDCARD), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![], ALLOW),
        case(RESOURCE, Some(REGION_WILDCARD), None, (CARLOS, "kinesis:PutRecord", "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"), vec![], IMPLICIT),
        case(RESOURCE, Some(REGION_WILDCARD), None, (CARLOS, "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:123456789012:stream/Orders"), vec![], IMPLICIT),
        // NotResource with Deny: everything outside the named resources is denied.
        case(NOTRESOURCE, Some(DENY_OUTSIDE_ORDERS), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![], ALLOW),
        case(NOTRESOURCE, Some(DENY_OUTSIDE_ORDERS), None, (CARLOS, "kinesis:SubscribeToShard", "arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/c:1"), vec![], ALLOW),
        case(NOTRESOURCE, Some(DENY_OUTSIDE_ORDERS), None, (CARLOS, "kinesis:PutRecord", LOGS), vec![], DENY_ID),
        // Principal: everyone, an account (delegated), a role; service principals match no user.
        case(PRINCIPAL, Some(READ_ORDERS), Some(ANYONE_READS), (MARY, "kinesis:GetRecords", LOGS), vec![], ALLOW),
        case(PRINCIPAL, Some(READ_ORDERS), Some(ACCOUNT_READS), (MARY, "kinesis:GetRecords", LOGS), vec![], IMPLICIT),
        case(PRINCIPAL, None, Some(ACCOUNT_DENIED), (MARY, "kinesis:DeleteStream", ORDERS), vec![], DENY_RES),
        case(PRINCIPAL, Some(READ_ORDERS), Some(ROLE_WRITES), (ROLE, "kinesis:PutRecords", ORDERS), vec![], ALLOW),
        case(PRINCIPAL, Some(READ_ORDERS), Some(ROLE_WRITES), (MARY, "kinesis:PutRecords", ORDERS), vec![], IMPLICIT),
        case(PRINCIPAL, Some(READ_ORDERS), Some(SERVICE_ONLY), (ROLE, "kinesis:PutRecords", ORDERS), vec![], IMPLICIT),
        // NotPrincipal with Deny: everyone but the named user is denied.
        case(NOTPRINCIPAL, None, Some(DENY_ALL_BUT_MARY), (MARY, "kinesis:PutRecord", ORDERS), vec![], ALLOW),
        case(NOTPRINCIPAL, None, Some(DENY_ALL_BUT_MARY), (CARLOS, "kinesis:PutRecord", ORDERS), vec![], DENY_RES),
        case(NOTPRINCIPAL, None, Some(DENY_ALL_BUT_ROOT), (CARLOS, "kinesis:PutRecord", ORDERS), vec![], DENY_RES),
        case(NOTPRINCIPAL, None, Some(DENY_ALL_BUT_ROOT), ("arn:aws:iam::123456789012:root", "kinesis:PutRecord", ORDERS), vec![], ALLOW),
        // String operators; a key missing from the request makes a positive operator false.
        case(OPERATORS, Some(JOB_CATEGORY), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:PrincipalTag/job-category", s("iamuser-admin"))], ALLOW),
        case(OPERATORS, Some(JOB_CATEGORY), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:PrincipalTag/job-category", s("IAMUser-Admin"))], IMPLICIT),
        case(OPERATORS, Some(JOB_CATEGORY), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![], IMPLICIT),
        case(OPERATORS, Some(IGNORE_CASE), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:PrincipalTag/team", s("ANALYTICS"))], ALLOW),
        case(OPERATORS, Some(LIKE_PREFIX), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:PrincipalTag/team", s("data-platform"))], ALLOW),
        case(OPERATORS, Some(LIKE_PREFIX), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:PrincipalTag/team", s("web"))], IMPLICIT),
        // Numeric, date (ISO 8601 and epoch), Bool.
        case(OPERATORS, Some(FEW_SHARDS), None, (CARLOS, "kinesis:CreateStream", ORDERS), vec![("kinesis:ShardCount", ContextValue::Number(10.0))], ALLOW),
        case(OPERATORS, Some(FEW_SHARDS), None, (CARLOS, "kinesis:CreateStream", ORDERS), vec![("kinesis:ShardCount", ContextValue::Number(11.0))], IMPLICIT),
        case(OPERATORS, Some(TIME_WINDOW), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:CurrentTime", at(DEC_10_2020))], ALLOW),
        case(OPERATORS, Some(TIME_WINDOW), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:CurrentTime", at(JAN_5_2021))], IMPLICIT),
        case(OPERATORS, Some(EPOCH_WINDOW), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:EpochTime", ContextValue::Number(DEC_10_2020 as f64))], ALLOW),
        case(OPERATORS, Some(EPOCH_WINDOW), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:EpochTime", ContextValue::Number(JAN_5_2021 as f64))], IMPLICIT),
        case(OPERATORS, None, Some(TLS_ONLY), (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:SecureTransport", ContextValue::Bool(false))], DENY_RES),
        case(OPERATORS, None, Some(TLS_ONLY), (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:SecureTransport", ContextValue::Bool(true))], ALLOW),
        // IP addresses (v4 and v6 blocks); NotIpAddress.
        case(OPERATORS, Some(FROM_NETWORKS), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:SourceIp", ip("203.0.113.77"))], ALLOW),
        case(OPERATORS, Some(FROM_NETWORKS), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:SourceIp", ip("2001:db8:1234:5678::9"))], ALLOW),
        case(OPERATORS, Some(FROM_NETWORKS), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:SourceIp", ip("198.51.100.1"))], DENY_ID),
        // ARN operators, also negated with a missing key (true, so the deny applies).
        case(OPERATORS, Some(READ_ORDERS), Some(SOURCE_ARN), (ROLE, "kinesis:PutRecords", ORDERS), vec![("aws:SourceArn", s("arn:aws:firehose:us-east-1:123456789012:deliverystream/logs"))], ALLOW),
        case(OPERATORS, Some(READ_ORDERS), Some(SOURCE_ARN), (ROLE, "kinesis:PutRecords", ORDERS), vec![("aws:SourceArn", s("arn:aws:firehose:us-east-1:999999999999:deliverystream/logs"))], IMPLICIT),
        case(OPERATORS, Some(NOT_FROM_ARN), None, (ROLE, "kinesis:PutRecords", ORDERS), vec![("aws:SourceArn", s("arn:aws:firehose:us-east-1:123456789012:deliverystream/trusted"))], ALLOW),
        case(OPERATORS, Some(NOT_FROM_ARN), None, (ROLE, "kinesis:PutRecords", ORDERS), vec![], DENY_ID),
        // ...IfExists: true without the key, the base operator with it.
        case(OPERATORS, Some(INSTANCE_TYPE_IF_EXISTS), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![], ALLOW),
        case(OPERATORS, Some(INSTANCE_TYPE_IF_EXISTS), None, (CARLOS, "kinesis:CreateStream", ORDERS), vec![("kinesis:StreamMode", s("ON_DEMAND"))], IMPLICIT),
        // Null: the deny applies only to requests with temporary credentials.
        case(OPERATORS, Some(DENY_TEMPORARY), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:TokenIssueTime", s("2020-12-10T00:00:00Z"))], DENY_ID),
        case(OPERATORS, Some(DENY_TEMPORARY), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![], ALLOW),
        // Several keys AND'ed, several values OR'ed, negated several values NOR'ed.
        case(MULTI, Some(TWO_KEYS_AND), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:PrincipalTag/department", s("finance")), ("aws:PrincipalTag/role", s("security"))], ALLOW),
        case(MULTI, Some(TWO_KEYS_AND), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:PrincipalTag/department", s("finance")), ("aws:PrincipalTag/role", s("dev"))], IMPLICIT),
        case(MULTI, Some(TWO_KEYS_AND), None, (CARLOS, "kinesis:PutRecord", ORDERS), vec![("aws:PrincipalTag/role", s("audit"))], IMPLICIT),
        case(MULTI, Some(NOT_PROD), None, (CARLOS, "kinesis:DeleteStream", ORDERS), vec![("aws:ResourceTag/env", s("test"))], ALLOW),
        case(MULTI, Some(NOT_PROD), None, (CARLOS, "kinesis:DeleteStream", ORDERS), vec![("aws:ResourceTag/env", s("prod"))], DENY_ID),
        case(MULTI, Some(NOT_PROD), None, (CARLOS, "kinesis:DeleteStream", ORDERS), vec![], DENY_ID),
        // Set operators over multivalued keys.
        case(SETS, Some(TAG_KEYS_ALL), None, (CARLOS, "kinesis:AddTagsToStream", ORDERS), vec![("aws:TagKeys", set(&["environment"]))], ALLOW),
        case(SETS, Some(TAG_KEYS_ALL), None, (CARLOS, "kinesis:AddTagsToStream", ORDERS), vec![("aws:TagKeys", set(&["environment", "owner"]))], IMPLICIT),
        case(SETS, Some(TAG_KEYS_ALL), None, (CARLOS, "kinesis:AddTagsToStream", ORDERS), vec![], ALLOW),
        case(SETS, Some(TAG_KEYS_ALL_NOT_NULL), None, (CARLOS, "kinesis:AddTagsToStream", ORDERS), vec![], IMPLICIT),
        case(SETS, Some(TAG_KEYS_ANY), None, (CARLOS, "kinesis:AddTagsToStream", ORDERS), vec![("aws:TagKeys", set(&["owner", "cost-center"]))], ALLOW),
        case(SETS, Some(TAG_KEYS_ANY), None, (CARLOS, "kinesis:AddTagsToStream", ORDERS), vec![("aws:TagKeys", set(&["owner"]))], IMPLICIT),
        case(SETS, Some(TAG_KEYS_ANY), None, (CARLOS, "kinesis:AddTagsToStream", ORDERS), vec![], IMPLICIT),
        // Policy variables: only in version 2012-10-17; defaults when the key is missing.
        case(VARIABLES, Some(OWN_STREAMS), None, (CARLOS, "kinesis:PutRecord", LOGS), vec![("aws:username", s("carlossalazar"))], ALLOW),
        case(VARIABLES, Some(OWN_STREAMS), None, (MARY, "kinesis:PutRecord", LOGS), vec![("aws:username", s("mary"))], IMPLICIT),
        case(VARIABLES, Some(OWN_STREAMS), None, (CARLOS, "kinesis:PutRecord", LOGS), vec![], IMPLICIT),
        case(VARIABLES, Some(OWN_STREAMS_2008), None, (CARLOS, "kinesis:PutRecord", LOGS), vec![("aws:username", s("carlossalazar"))], IMPLICIT),
        case(VARIABLES, Some(TAG_DEFAULT), None, (CARLOS, "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:123456789012:stream/company-wide/x"), vec![], ALLOW),
        case(VARIABLES, Some(TAG_DEFAULT), None, (CARLOS, "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:123456789012:stream/web/x"), vec![("aws:PrincipalTag/team", s("web"))], ALLOW),
    ]
}

#[test]
fn documented_examples() {
    let cases = cases();
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let identity = case
            .identity
            .map(|doc| Policy::parse_as(doc, PolicyKind::Identity).unwrap_or_else(|e| panic!("case {i}: {e}")));
        let resource = case
            .resource_policy
            .map(|doc| Policy::parse_as(doc, PolicyKind::Resource).unwrap_or_else(|e| panic!("case {i}: {e}")));
        let mut context = Context::new();
        for (key, value) in &case.context {
            context.insert(key, value.clone());
        }
        let request = AccessRequest {
            principal: case.principal,
            account: ACCOUNT,
            action: case.action,
            resource: case.resource,
            context: &context,
        };
        let identity = match &identity {
            Some(policy) => Identity::Policy(policy),
            None => Identity::Unrestricted,
        };
        let decision = evaluate(identity, resource.as_ref(), &request);
        if decision != case.expected {
            failures.push(format!(
                "case {i} ({}): {} {} on {}: {decision:?}, expected {:?}",
                case.source, case.principal, case.action, case.resource, case.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
