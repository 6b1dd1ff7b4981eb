//! Arbitrary text as an IAM policy document, as each kind (any, identity, resource): the
//! parser must never panic, and what it accepts must evaluate without panicking against a
//! request whose context has every type of value the condition operators compare.

#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use rheo_iam::{access_denied_message, evaluate, AccessRequest, Context, ContextValue, Identity, Policy, PolicyKind};

fuzz_target!(|data: &[u8]| {
    let Ok(document) = std::str::from_utf8(data) else { return };
    let context = Context::new()
        .with("aws:username", ContextValue::String("alice".into()))
        .with("aws:SourceIp", ContextValue::Ip("10.1.2.3".parse().expect("a valid address")))
        .with("aws:SecureTransport", ContextValue::Bool(false))
        .with("aws:CurrentTime", ContextValue::Date(UNIX_EPOCH + Duration::from_secs(1_600_000_000)))
        .with("aws:EpochTime", ContextValue::Number(1_600_000_000.0))
        .with("aws:TagKeys", ContextValue::Strings(vec!["env".into(), "team".into()]));
    let request = AccessRequest {
        principal: "arn:aws:iam::123456789012:user/alice",
        account: "123456789012",
        action: "kinesis:PutRecord",
        resource: "arn:aws:kinesis:us-east-1:123456789012:stream/alice-logs",
        context: &context,
    };
    let parsed = [
        Policy::parse(document),
        Policy::parse_as(document, PolicyKind::Identity),
        Policy::parse_as(document, PolicyKind::Resource),
    ];
    for policy in parsed.iter().flatten() {
        let decision = evaluate(Identity::Policy(policy), Some(policy), &request);
        let _ = access_denied_message(&request, decision);
    }
});
