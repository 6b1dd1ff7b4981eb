//! What the parser refuses, and the texts it refuses with (IAM's `MalformedPolicyDocument`
//! wording where IAM has one).

#![allow(clippy::unwrap_used)]

use rheo_iam::{
    Effect, Policy, PolicyError, PolicyKind, PolicyVersion, MAX_IDENTITY_POLICY_CHARS, MAX_POLICY_BYTES, MAX_STATEMENTS,
};

fn statement(body: &str) -> String {
    format!(r#"{{"Version": "2012-10-17", "Statement": {{{body}}}}}"#)
}

#[test]
fn refusals_and_their_texts() {
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "Syntax errors in policy: expected ident at line 1 column 2."),
        (statement(r#""Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": "${aws:username}"}}"#), "The condition key dynamodb:LeadingKeys is not supported: Rheo does not supply it, so the condition could not restrict access"),
        (statement(r#""Effect": "Deny", "Effect": "Allow", "Action": "*", "Resource": "*""#), "Syntax errors in policy: the key \"Effect\" appears twice in one object at line 1 column 75."),
        ("[]".into(), "Syntax errors in policy: the document must be a JSON object."),
        (r#"{"Version": "2012-10-17"}"#.into(), "Missing required field Statement"),
        (r#"{"Version": "2012-10-18", "Statement": []}"#.into(), "The policy version 2012-10-18 is not supported: use 2012-10-17 (or 2008-10-17)"),
        (r#"{"Statement": [], "Statements": []}"#.into(), "Syntax errors in policy. Unknown field Statements"),
        (r#"{"Statement": "x"}"#.into(), "Syntax errors in policy: Statement must be an object or a list of objects."),
        (statement(r#""Action": "kinesis:*", "Resource": "*""#), "Missing required field Effect"),
        (statement(r#""Effect": "allow", "Action": "kinesis:*", "Resource": "*""#), "Invalid effect: allow"),
        (statement(r#""Effect": "Allow", "Resource": "*""#), "Policy statement must contain actions."),
        (statement(r#""Effect": "Allow", "Action": [], "Resource": "*""#), "Policy statement must contain actions."),
        (statement(r#""Effect": "Allow", "Action": "kinesis:*""#), "Policy statement must contain resources."),
        (statement(r#""Effect": "Allow", "Action": "kinesis:*", "NotAction": "iam:*", "Resource": "*""#), "Syntax errors in policy. A statement cannot have both Action and NotAction"),
        (statement(r#""Effect": "Allow", "Action": "PutRecord", "Resource": "*""#), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (PutRecord)"),
        (statement(r#""Effect": "Allow", "Action": "kin*:PutRecord", "Resource": "*""#), "Action vendors must not contain wildcards. (kin*:PutRecord)"),
        (statement(r#""Effect": "Allow", "Action": "kinesis:Put Record", "Resource": "*""#), "Invalid action: kinesis:Put Record"),
        (statement(r#""Effect": "Allow", "Action": 3, "Resource": "*""#), "Syntax errors in policy: Action must be a string or a list of strings."),
        (statement(r#""Effect": "Allow", "Action": "kinesis:*", "Resource": "orders""#), "Resource orders must be in ARN format or \"*\"."),
        (statement(r#""Effect": "Allow", "Action": "kinesis:*", "Resource": "arn:aws:kinesis:*:*:stream/${aws:username""#), "The policy variable in \"arn:aws:kinesis:*:*:stream/${aws:username\" is not closed with '}'."),
        (statement(r#""Effect": "Allow", "Principal": "someone", "Action": "kinesis:*", "Resource": "*""#), "Invalid principal in policy: \"someone\""),
        (statement(r#""Effect": "Allow", "Principal": {"AWS": "alice"}, "Action": "kinesis:*", "Resource": "*""#), "Invalid principal in policy: \"AWS\":\"alice\""),
        (statement(r#""Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/*"}, "Action": "kinesis:*", "Resource": "*""#), "Invalid principal in policy: \"AWS\":\"arn:aws:iam::123456789012:user/*\""),
        (statement(r#""Effect": "Allow", "Principal": {"AWS": []}, "Action": "kinesis:*", "Resource": "*""#), "Invalid principal in policy: \"AWS\":[]"),
        (statement(r#""Effect": "Allow", "Principal": {"Group": "x"}, "Action": "kinesis:*", "Resource": "*""#), "Invalid principal in policy: \"Group\":\"x\""),
        (statement(r#""Effect": "Allow", "Action": "kinesis:*", "Resource": "*", "Condition": {"StringEqualz": {"k": "v"}}"#), "Invalid Condition type : StringEqualz"),
        (statement(r#""Effect": "Allow", "Action": "kinesis:*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}"#), "The value \"10.0.0.0/33\" of aws:SourceIp in IpAddress is not an IP address or CIDR block"),
        (statement(r#""Effect": "Allow", "Action": "kinesis:*", "Resource": "*", "Condition": {"StringEquals": {"k": {"nested": 1}}}"#), "The value of k in StringEquals must be a string, a number, a boolean or a list of them."),
        (statement(r#""Effect": "Allow", "Action": "kinesis:*", "Resource": "*", "Condition": {"StringEquals": {"k": []}}"#), "The condition key k in StringEquals has no values."),
        (r#"{"Statement": [{"Sid": "a", "Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}, {"Sid": "a", "Effect": "Deny", "Action": "kinesis:*", "Resource": "*"}]}"#.into(), "Statement IDs (SID) in a single policy must be unique. (a)"),
        (" ".repeat(MAX_POLICY_BYTES + 1), "Cannot exceed quota for PolicySize: 20480"),
        (statement(&format!(r#""Effect": "Allow", "Action": "*", "Resource": "arn:aws:kinesis:*:*:stream/{}""#, "*a".repeat(1100))), "A value of Resource is longer than 2048 characters"),
        (statement(&format!(r#""Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {{"StringLike": {{"k": ["x", "{}"]}}}}"#, "*a".repeat(1100))), "A value of k is longer than 2048 characters"),
    ];
    let mut failures = Vec::new();
    for (document, expected) in &cases {
        match Policy::parse(document) {
            Err(e) if e.to_string() == *expected => {}
            other => failures.push(format!("{document:.120}\n  got {other:?}\n  expected {expected}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn kinds_hold_documents_to_their_rules() {
    let with_principal = statement(r#""Effect": "Allow", "Principal": "*", "Action": "kinesis:*", "Resource": "*""#);
    let without = statement(r#""Effect": "Allow", "Action": "kinesis:*", "Resource": "*""#);
    assert_eq!(Policy::parse_as(&with_principal, PolicyKind::Identity), Err(PolicyError::PrincipalNotAllowed));
    assert_eq!(PolicyError::PrincipalNotAllowed.to_string(), "Policy document should not specify a principal.");
    assert!(Policy::parse_as(&with_principal, PolicyKind::Resource).is_ok());
    assert_eq!(Policy::parse_as(&without, PolicyKind::Resource), Err(PolicyError::MissingField("Principal")));
    assert!(Policy::parse_as(&without, PolicyKind::Identity).is_ok());
    // Identity policies count characters without whitespace against IAM's quota.
    let padded = format!("{}{}", without, " ".repeat(MAX_IDENTITY_POLICY_CHARS));
    assert!(Policy::parse_as(&padded, PolicyKind::Identity).is_ok());
    let actions: Vec<String> = (0..MAX_IDENTITY_POLICY_CHARS / 10).map(|i| format!("\"kinesis:A{i:07}\"")).collect();
    let long = statement(&format!(r#""Effect": "Allow", "Action": [{}], "Resource": "*""#, actions.join(",")));
    assert_eq!(
        Policy::parse_as(&long, PolicyKind::Identity),
        Err(PolicyError::TooLarge { limit: MAX_IDENTITY_POLICY_CHARS })
    );
    assert!(Policy::parse_as(&long, PolicyKind::Resource).is_err(), "no principal");
    assert!(Policy::parse(&long).is_ok());
}

#[test]
fn accepted_forms() {
    let policy = Policy::parse(
        r#"{"Id": "streams", "Statement": [
            {"Sid": "one", "Effect": "Allow", "Action": ["kinesis:Get*", "kinesis:List*"], "Resource": ["*"]},
            {"Effect": "Deny", "NotAction": "kinesis:Get*", "NotResource": "arn:aws:kinesis:*:*:stream/x",
             "Principal": {"AWS": ["123456789012", "arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/r",
                                   "arn:aws:sts::123456789012:assumed-role/r/session"], "Service": ["firehose.amazonaws.com"]},
             "Condition": {"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"k": 10}}}]}"#,
    )
    .unwrap();
    assert_eq!(policy.version(), PolicyVersion::V2008_10_17);
    assert_eq!(policy.id(), Some("streams"));
    assert_eq!(policy.statements().len(), 2);
    assert_eq!(policy.statements()[0].sid(), Some("one"));
    assert_eq!(policy.statements()[1].effect(), Effect::Deny);
    let single = Policy::parse(&statement(r#""Effect": "Allow", "Action": "*", "Resource": "*""#)).unwrap();
    assert_eq!(single.version(), PolicyVersion::V2012_10_17);
    assert_eq!(single.statements().len(), 1);
    let many: Vec<String> =
        (0..=MAX_STATEMENTS).map(|_| r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#.to_owned()).collect();
    assert_eq!(
        Policy::parse(&format!(r#"{{"Statement": [{}]}}"#, many.join(","))),
        Err(PolicyError::TooManyStatements { limit: MAX_STATEMENTS })
    );
}
