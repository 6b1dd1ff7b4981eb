//! The evaluator's core rules and its denial texts.

#![allow(clippy::unwrap_used)]

use rheo_iam::{access_denied_message, evaluate, AccessRequest, Context, Decision, Identity, Policy, PolicyKind};

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const BOB: &str = "arn:aws:iam::123456789012:user/bob";
const STREAM: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/orders";

fn request<'a>(principal: &'a str, action: &'a str, resource: &'a str, context: &'a Context) -> AccessRequest<'a> {
    AccessRequest { principal, account: "123456789012", action, resource, context }
}

#[test]
fn put_but_not_read_and_a_resource_policy_grant() {
    let alice = Policy::parse_as(r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords"], "Resource": "arn:aws:kinesis:*:123456789012:stream/*"}]}"#, PolicyKind::Identity).unwrap();
    let bob = Policy::parse_as(r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:ListStreams", "Resource": "*"}]}"#, PolicyKind::Identity).unwrap();
    let stream_policy = Policy::parse_as(
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "read", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"}, "Action": ["kinesis:Get*", "kinesis:DescribeStreamSummary"], "Resource": "arn:aws:kinesis:us-east-1:123456789012:stream/orders"}]}"#,
        PolicyKind::Resource,
    )
    .unwrap();
    let ctx = Context::new();
    assert_eq!(
        evaluate(Identity::Policy(&alice), Some(&stream_policy), &request(ALICE, "kinesis:PutRecord", STREAM, &ctx)),
        Decision::Allow
    );
    assert_eq!(
        evaluate(Identity::Policy(&alice), Some(&stream_policy), &request(ALICE, "kinesis:GetRecords", STREAM, &ctx)),
        Decision::ImplicitDeny
    );
    assert_eq!(
        evaluate(Identity::Policy(&bob), Some(&stream_policy), &request(BOB, "kinesis:GetRecords", STREAM, &ctx)),
        Decision::Allow
    );
    assert_eq!(
        evaluate(Identity::Policy(&bob), None, &request(BOB, "kinesis:GetRecords", STREAM, &ctx)),
        Decision::ImplicitDeny
    );
    assert_eq!(
        evaluate(Identity::Policy(&bob), Some(&stream_policy), &request(BOB, "kinesis:PutRecord", STREAM, &ctx)),
        Decision::ImplicitDeny
    );
}

#[test]
fn unrestricted_identities_still_meet_resource_denies() {
    let deny = Policy::parse_as(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "kinesis:DeleteStream", "Resource": "*"}}"#, PolicyKind::Resource).unwrap();
    let ctx = Context::new();
    assert_eq!(
        evaluate(Identity::Unrestricted, None, &request(ALICE, "kinesis:DeleteStream", STREAM, &ctx)),
        Decision::Allow
    );
    assert_eq!(
        evaluate(Identity::Unrestricted, Some(&deny), &request(ALICE, "kinesis:DeleteStream", STREAM, &ctx)),
        Decision::ExplicitDeny(PolicyKind::Resource)
    );
    assert_eq!(
        evaluate(Identity::Unrestricted, Some(&deny), &request(ALICE, "kinesis:PutRecord", STREAM, &ctx)),
        Decision::Allow
    );
}

#[test]
fn denial_texts() {
    let ctx = Context::new();
    let r = request(ALICE, "kinesis:GetRecords", STREAM, &ctx);
    assert_eq!(
        access_denied_message(&r, Decision::ImplicitDeny),
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: kinesis:GetRecords on resource: arn:aws:kinesis:us-east-1:123456789012:stream/orders because no identity-based policy allows the kinesis:GetRecords action"
    );
    assert_eq!(
        access_denied_message(&r, Decision::ExplicitDeny(PolicyKind::Identity)),
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: kinesis:GetRecords on resource: arn:aws:kinesis:us-east-1:123456789012:stream/orders with an explicit deny in an identity-based policy"
    );
    assert_eq!(
        access_denied_message(&r, Decision::ExplicitDeny(PolicyKind::Resource)),
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: kinesis:GetRecords on resource: arn:aws:kinesis:us-east-1:123456789012:stream/orders with an explicit deny in a resource-based policy"
    );
}
