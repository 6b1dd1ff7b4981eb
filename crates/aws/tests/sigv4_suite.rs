//! AWS's SigV4 test-suite vectors (`tests/sigv4/`), checked through both halves of the
//! one implementation: verification rebuilds the canonical request from the raw request
//! and the parsed `Authorization`, signing reproduces the `Authorization` header.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use rheo_aws::sigv4::{
    canonical_query, canonical_uri, parse_authorization, sha256_hex, signed_header_values, string_to_sign, verify,
    AuthError, CanonicalRequest, Credentials, Signer,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const VECTORS: &[&str] = &[
    "get-vanilla",
    "get-vanilla-query-order-key",
    "get-vanilla-query-order-key-case",
    "get-vanilla-utf8-query",
    "get-unreserved",
    "get-header-value-trim",
    "get-header-key-duplicate",
    "post-vanilla-query",
    "post-x-www-form-urlencoded",
];

fn read(name: &str, ext: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sigv4").join(format!("{name}.{ext}"));
    std::fs::read_to_string(path).unwrap()
}

/// A raw request: method, path, raw query, headers in order, body.
struct Raw {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn parse_request(text: &str) -> Raw {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let mut request_line = lines.next().unwrap().split(' ');
    let method = request_line.next().unwrap().to_owned();
    let uri = request_line.next().unwrap();
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect();
    Raw { method, path: path.to_owned(), query: query.to_owned(), headers, body: body.to_owned() }
}

#[test]
fn aws_test_suite_vectors_verify_and_sign() {
    for name in VECTORS {
        let raw = parse_request(&read(name, "req"));
        let authz = read(name, "authz");
        let authorization = parse_authorization(&authz).unwrap();
        let received = raw.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let values = signed_header_values(received, &authorization.signed_headers).unwrap();
        let headers: Vec<(&str, &str)> = values.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let (path, query, payload) =
            (canonical_uri(&raw.path), canonical_query(&raw.query), sha256_hex(raw.body.as_bytes()));
        let request = CanonicalRequest {
            method: &raw.method,
            path: &path,
            query: &query,
            headers: &headers,
            payload_sha256_hex: &payload,
        };
        let amz_date = values.iter().find(|(n, _)| n == "x-amz-date").map(|(_, v)| v.as_str()).unwrap();

        let (creq, _) = request.text();
        assert_eq!(creq, read(name, "creq"), "{name}: canonical request");
        assert_eq!(
            string_to_sign(amz_date, &authorization.credential.scope(), &creq),
            read(name, "sts"),
            "{name}: string to sign"
        );
        assert_eq!(verify(SECRET, &authorization, amz_date, &request), Ok(()), "{name}: verify");
        let mut forged = authorization.clone();
        forged.signature[31] ^= 1;
        assert_eq!(verify(SECRET, &forged, amz_date, &request), Err(AuthError::Mismatch), "{name}: forged");

        let mut signer = Signer::new(
            Credentials { access_key: "AKIDEXAMPLE".into(), secret_key: SECRET.into(), session_token: None },
            "us-east-1",
            "service",
        );
        let signed = signer.sign(&raw.method, &path, &query, &headers, &payload, amz_date);
        assert_eq!(signed.authorization, authz, "{name}: sign");
    }
}
