//! `--auth sigv4` through the whole front door, on a pinned clock: signed requests are
//! served, and each kind of refusal comes in AWS's order (unknown operation and an
//! unparseable body first, then presence, then the signature's checks).

#![allow(clippy::unwrap_used)] // test code

mod common;

use std::sync::Arc;

use common::{bind, instant_lifecycle, memory_engine, TestServer, JSON};
use rheo_aws::credentials_file::CredentialsFile;
use rheo_aws::sigv4::{self, Credentials, Signer};
use rheo_server::auth::{Authenticator, Identities};
use rheo_storage::Clock;

/// 2026-11-29T08:53:20Z, for every request and the server alike.
const NOW_SECS: u64 = 1_796_000_000;
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct PinnedClock;

impl Clock for PinnedClock {
    fn now_ms(&self) -> u64 {
        NOW_SECS * 1000
    }
    fn monotonic_micros(&self) -> u64 {
        0
    }
}

async fn secured_server() -> TestServer {
    let engine = memory_engine(instant_lifecycle(), Arc::new(rheo_storage::SystemClock));
    let file =
        CredentialsFile::parse(&format!("[alice]\naws_access_key_id = AKIDALICE\naws_secret_access_key = {SECRET}\n"))
            .unwrap();
    let account = rheo_engine::ids::Account { region: "us-east-1".into(), account_id: "123456789012".into() };
    let identities = Identities::new(&file, rheo_iam::IdentityPolicies::default(), &account);
    let auth = Authenticator::sigv4("us-east-1", Arc::new(PinnedClock), identities);
    TestServer::spawn(bind(&engine).await.with_auth(Arc::new(auth)), engine)
}

/// How a test request is signed.
#[derive(Clone, Copy)]
enum Signing {
    /// Not at all.
    None,
    /// With this secret for this service's scope.
    With { secret: &'static str, service: &'static str },
    /// An `Authorization` header without its `Signature`.
    Incomplete,
}

async fn post(server: &TestServer, target: &str, body: &'static str, signing: Signing) -> (u16, serde_json::Value) {
    use http_body_util::BodyExt;
    let host = server.address.to_string();
    let amz_date = sigv4::amz_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW_SECS));
    let target = format!("Kinesis_20131202.{target}");
    let headers = [
        ("content-type", JSON),
        ("host", host.as_str()),
        ("x-amz-date", amz_date.as_str()),
        ("x-amz-target", target.as_str()),
    ];
    let mut request = http::Request::builder().method(http::Method::POST).uri(format!("http://{host}/"));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let authorization = match signing {
        Signing::None => None,
        Signing::With { secret, service } => {
            let credentials =
                Credentials { access_key: "AKIDALICE".into(), secret_key: secret.into(), session_token: None };
            let payload = sigv4::sha256_hex(body.as_bytes());
            Some(
                Signer::new(credentials, "us-east-1", service)
                    .sign("POST", "/", "", &headers, &payload, &amz_date)
                    .authorization,
            )
        }
        Signing::Incomplete => Some(
            "AWS4-HMAC-SHA256 Credential=AKIDALICE/20261129/us-east-1/kinesis/aws4_request, SignedHeaders=host".into(),
        ),
    };
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let request = request.body(http_body_util::Full::new(bytes::Bytes::from_static(body.as_bytes()))).unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}

fn error_type(answer: &(u16, serde_json::Value)) -> (u16, &str) {
    (answer.0, answer.1["__type"].as_str().unwrap_or_default())
}

#[tokio::test]
async fn signed_requests_are_served_and_refusals_keep_aws_order() {
    let server = secured_server().await;
    let right = Signing::With { secret: SECRET, service: "kinesis" };
    let wrong = Signing::With { secret: "not the secret", service: "kinesis" };

    let listed = post(&server, "ListStreams", "{}", right).await;
    assert_eq!(listed.0, 200, "{}", listed.1);
    assert!(listed.1["StreamNames"].is_array());

    // An unknown operation and a body that does not parse win over a bad signature.
    assert_eq!(error_type(&post(&server, "NoSuchOperation", "{}", wrong).await), (400, "UnknownOperationException"));
    assert_eq!(error_type(&post(&server, "ListStreams", "{", wrong).await), (400, "SerializationException"));
    // Presence checks come before verification, with their texts.
    assert_eq!(
        error_type(&post(&server, "ListStreams", "{}", Signing::None).await),
        (400, "MissingAuthenticationTokenException")
    );
    let incomplete = post(&server, "ListStreams", "{}", Signing::Incomplete).await;
    assert_eq!(error_type(&incomplete), (400, "IncompleteSignatureException"));
    assert!(incomplete.1["message"]
        .as_str()
        .unwrap()
        .starts_with("Authorization header requires 'Signature' parameter."));

    let mismatch = post(&server, "ListStreams", "{}", wrong).await;
    assert_eq!(error_type(&mismatch), (400, "InvalidSignatureException"));
    assert!(mismatch.1["message"].as_str().unwrap().contains("The String-to-Sign should have been"));
    let scoped = post(&server, "ListStreams", "{}", Signing::With { secret: SECRET, service: "firehose" }).await;
    assert_eq!(error_type(&scoped), (400, "InvalidSignatureException"));
    assert_eq!(scoped.1["message"], "Credential should be scoped to correct service: 'kinesis'. ");
    server.stop().await;
}
