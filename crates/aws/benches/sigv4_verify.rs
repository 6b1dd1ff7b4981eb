//! What the server spends verifying one signed PutRecord request (1 KiB of data): parse
//! the `Authorization` header, pick the signed headers, hash the body, build the canonical
//! request and string to sign, one HMAC under the cached signing key, and a constant-time
//! compare. Beside it: deriving a signing key, which the server's cache saves per access
//! key, day, region and service.
//!
//! `cargo bench -p rheo-aws --bench sigv4_verify`

#![allow(clippy::unwrap_used)] // a failure here is a broken benchmark

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rheo_aws::sigv4::{self, CanonicalRequest, Credentials, Signer};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const AMZ_DATE: &str = "20261126T142457Z";

fn put_record_body() -> Vec<u8> {
    let data = "A".repeat(1368); // base64 of 1 KiB
    format!(r#"{{"StreamName":"bench","Data":"{data}","PartitionKey":"partition-key-0001"}}"#).into_bytes()
}

fn bench(c: &mut Criterion) {
    let body = put_record_body();
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("host", "127.0.0.1:4567"),
        ("x-amz-date", AMZ_DATE),
        ("x-amz-target", "Kinesis_20131202.PutRecord"),
    ];
    let credentials = Credentials { access_key: "AKIDEXAMPLE".into(), secret_key: SECRET.into(), session_token: None };
    let authorization = Signer::new(credentials, "us-east-1", "kinesis")
        .sign("POST", "/", "", &headers, &sigv4::sha256_hex(&body), AMZ_DATE)
        .authorization;
    let received = [
        ("Host", "127.0.0.1:4567"),
        ("X-Amz-Target", "Kinesis_20131202.PutRecord"),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Date", AMZ_DATE),
        ("User-Agent", "Boto3/1.44.8 md/Botocore#1.44.8 ua/2.1 os/linux"),
        ("Content-Length", "1430"),
    ];
    let cached_key = sigv4::signing_key(SECRET, "20261126", "us-east-1", "kinesis");

    c.bench_function("verify PutRecord (1 KiB, cached key)", |b| {
        b.iter(|| {
            let parsed = sigv4::parse_authorization(black_box(&authorization)).unwrap();
            let values = sigv4::signed_header_values(received, &parsed.signed_headers).unwrap();
            let pairs: Vec<(&str, &str)> = values.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let payload = sigv4::sha256_hex(black_box(&body));
            let request = CanonicalRequest {
                method: "POST",
                path: "/",
                query: "",
                headers: &pairs,
                payload_sha256_hex: &payload,
            };
            let (canonical, _) = request.text();
            let to_sign = sigv4::string_to_sign(AMZ_DATE, &parsed.credential.scope(), &canonical);
            let expected = sigv4::signature(&cached_key, &to_sign);
            assert!(sigv4::signatures_match(&expected, &parsed.signature));
        })
    });
    c.bench_function("sha256 of the body alone", |b| b.iter(|| sigv4::sha256_hex(black_box(&body))));
    c.bench_function("derive a signing key (uncached)", |b| {
        b.iter(|| sigv4::signing_key(black_box(SECRET), "20261126", "us-east-1", "kinesis"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
