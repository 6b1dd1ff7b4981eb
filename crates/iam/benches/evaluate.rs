//! The cost of authorizing one call: a typical three-statement identity policy (an allow of
//! some Kinesis actions on the account's streams, an allow of read actions with an IP
//! condition, a deny of deletions) and a one-statement resource policy, evaluated for an
//! allowed put, a denied delete and an implicitly denied read. This runs on every request
//! with `--auth sigv4` and `--policies`, so it is measured in nanoseconds.
//!
//! Run: `cargo bench -p rheo-iam --bench evaluate`.

#![allow(clippy::unwrap_used)] // bench code: a panic is the failure report

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{criterion_group, criterion_main, Criterion};
use rheo_iam::{evaluate, AccessRequest, Context, ContextValue, Identity, Policy, PolicyKind};

const IDENTITY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Write", "Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:Describe*", "kinesis:List*"],
     "Resource": "arn:aws:kinesis:*:123456789012:stream/app-*"},
    {"Sid": "ReadFromOffice", "Effect": "Allow", "Action": ["kinesis:Get*", "kinesis:SubscribeToShard"],
     "Resource": "arn:aws:kinesis:us-east-1:123456789012:stream/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
    {"Sid": "NoDeletes", "Effect": "Deny", "Action": ["kinesis:DeleteStream", "kinesis:DeregisterStreamConsumer"], "Resource": "*"}
  ]
}"#;

const RESOURCE: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::123456789012:user/reporting"}, "Action": "kinesis:GetRecords",
  "Resource": "arn:aws:kinesis:us-east-1:123456789012:stream/app-orders"}]}"#;

fn bench(c: &mut Criterion) {
    let identity = Policy::parse_as(IDENTITY, PolicyKind::Identity).unwrap();
    let resource = Policy::parse_as(RESOURCE, PolicyKind::Resource).unwrap();
    let context = Context::new()
        .with("aws:SourceIp", ContextValue::Ip("192.168.1.20".parse().unwrap()))
        .with("aws:SecureTransport", ContextValue::Bool(true))
        .with("aws:CurrentTime", ContextValue::Date(SystemTime::now()));
    let request = |action| AccessRequest {
        principal: "arn:aws:iam::123456789012:user/app",
        account: "123456789012",
        action,
        resource: "arn:aws:kinesis:us-east-1:123456789012:stream/app-orders",
        context: &context,
    };
    let put = request("kinesis:PutRecords");
    let delete = request("kinesis:DeleteStream");
    let read = request("kinesis:GetRecords");
    c.bench_function("evaluate/allowed_put", |b| {
        b.iter(|| evaluate(Identity::Policy(&identity), Some(&resource), black_box(&put)))
    });
    c.bench_function("evaluate/explicit_deny_delete", |b| {
        b.iter(|| evaluate(Identity::Policy(&identity), Some(&resource), black_box(&delete)))
    });
    c.bench_function("evaluate/implicit_deny_read", |b| {
        b.iter(|| evaluate(Identity::Policy(&identity), Some(&resource), black_box(&read)))
    });
    c.bench_function("parse/three_statements", |b| b.iter(|| Policy::parse(black_box(IDENTITY)).unwrap()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
