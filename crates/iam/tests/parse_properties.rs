//! Properties of the parser: it never panics, on arbitrary text or on documents built from
//! the policy grammar's pieces, and what it accepts evaluates without panicking.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rheo_iam::{evaluate, AccessRequest, Context, ContextValue, Identity, Policy, PolicyKind};

fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        Just("kinesis:Put*".to_owned()),
        Just("kinesis:GetRecords".to_owned()),
        Just("arn:aws:kinesis:*:123456789012:stream/*".to_owned()),
        Just("arn:aws:kinesis:us-east-1:123456789012:stream/${aws:username}".to_owned()),
        Just("arn:aws:iam::123456789012:user/alice".to_owned()),
        Just("123456789012".to_owned()),
        Just("10.0.0.0/8".to_owned()),
        Just("2020-01-01T00:00:00Z".to_owned()),
        Just("true".to_owned()),
        Just("${".to_owned()),
        "[ -~]{0,12}",
    ]
    .prop_map(|s| serde_json::Value::String(s).to_string())
}

fn value(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![json_string(), Just("1".to_owned()), Just("true".to_owned()), Just("null".to_owned())];
    if depth == 0 {
        return leaf.boxed();
    }
    let key = prop_oneof![
        Just("Version"),
        Just("Statement"),
        Just("Effect"),
        Just("Action"),
        Just("NotAction"),
        Just("Resource"),
        Just("NotResource"),
        Just("Principal"),
        Just("NotPrincipal"),
        Just("AWS"),
        Just("Service"),
        Just("Condition"),
        Just("StringLike"),
        Just("ForAllValues:StringEquals"),
        Just("IpAddressIfExists"),
        Just("Null"),
        Just("DateLessThan"),
        Just("NumericEquals"),
        Just("Bool"),
        Just("ArnLike"),
        Just("aws:SourceIp"),
        Just("Allow"),
        Just("Deny"),
        Just("Sid"),
    ];
    prop_oneof![
        leaf,
        proptest::collection::vec(value(depth - 1), 0..4).prop_map(|items| format!("[{}]", items.join(","))),
        proptest::collection::vec((key, value(depth - 1)), 0..6).prop_map(|fields| {
            let fields: Vec<String> =
                fields.into_iter().map(|(k, v)| format!("{}:{v}", serde_json::Value::String(k.to_owned()))).collect();
            format!("{{{}}}", fields.join(","))
        }),
    ]
    .boxed()
}

fn check(document: &str) {
    for kind in [None, Some(PolicyKind::Identity), Some(PolicyKind::Resource)] {
        let parsed = match kind {
            None => Policy::parse(document),
            Some(kind) => Policy::parse_as(document, kind),
        };
        if let Ok(policy) = parsed {
            let context = Context::new()
                .with("aws:username", ContextValue::String("alice".to_owned()))
                .with("aws:SourceIp", ContextValue::Ip("10.1.2.3".parse().unwrap()));
            let request = AccessRequest {
                principal: "arn:aws:iam::123456789012:user/alice",
                account: "123456789012",
                action: "kinesis:PutRecord",
                resource: "arn:aws:kinesis:us-east-1:123456789012:stream/alice",
                context: &context,
            };
            let _ = evaluate(Identity::Policy(&policy), Some(&policy), &request);
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(document in "\\PC{0,200}") {
        check(&document);
    }

    #[test]
    fn grammar_shaped_documents_never_panic(document in value(4)) {
        check(&document);
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let document = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(Policy::parse(&document[..rheo_iam::MAX_POLICY_BYTES]).is_err());
    let nested = format!("{{\"Statement\": {}{}}}", "[".repeat(5_000), "]".repeat(5_000));
    assert!(Policy::parse(&nested).is_err());
}
