//! SigV4 verification seen through the AWS SDK for Rust: `rheo serve --auth sigv4 --credentials
//! FILE` accepts requests signed with a principal's key and refuses, with AWS's error types, a
//! wrong secret, an unknown access key, a signature 16 minutes old (or 16 minutes ahead), a body
//! or a signed header changed after signing, and temporary credentials sent without their
//! session token.
//!
//! The SDK corrects clock skew on its own (it reads the `Date` of a refusal and retries signed
//! with the server's time), so the clock tests turn that correction and retries off: they show
//! what the server refuses, not what the SDK recovers from. One test keeps the correction on to
//! show the SDK can recover against Rheo as it does against AWS.

use std::fmt::Debug;
use std::time::{Duration, SystemTime};

use aws_sdk_kinesis::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_kinesis::config::retry::RetryConfig;
use aws_sdk_kinesis::config::{BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_kinesis::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{ShardIteratorType, StreamStatus};
use aws_sdk_kinesis::Client;
use aws_smithy_async::time::TimeSource;
use aws_smithy_types::body::SdkBody;

mod common;
use common::{wait_active, Server, REGION};

/// A principal with long-term credentials.
const ALICE_KEY: &str = "AKIARHEOE2EALICE0001";
const ALICE_SECRET: &str = "alice/e2e/secret+K7wq9ZpXr2vT5nB8mL1cD4fG6hJ0";
/// A principal with temporary credentials: its requests must carry the session token.
const SESSION_KEY: &str = "ASIARHEOE2ESESSION01";
const SESSION_SECRET: &str = "session/e2e/secret+Q3eR5tY7uI9oP1aS2dF4gH6j";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEJr//////////wEaDrheoE2ETokenForTheSessionPrincipal==";
/// In no section of the credentials file.
const UNKNOWN_KEY: &str = "AKIARHEOE2EUNKNOWN01";

/// AWS's texts (the start of them: the signature mismatch goes on with the canonical request).
const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided.";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

/// The clock skew AWS tolerates is 15 minutes; one more is outside it either way.
const SKEW: Duration = Duration::from_secs(16 * 60);

/// A server verifying signatures against a credentials file; the file lives as long as it.
struct AuthServer {
    server: Server,
    _credentials: tempfile::TempDir,
}

impl AuthServer {
    fn start() -> AuthServer {
        let dir = tempfile::Builder::new().prefix("rheo-e2e-auth-").tempdir().expect("temp dir");
        let path = dir.path().join("credentials");
        let file = format!(
            "[alice]\naws_access_key_id = {ALICE_KEY}\naws_secret_access_key = {ALICE_SECRET}\n\n\
             [session]\naws_access_key_id = {SESSION_KEY}\naws_secret_access_key = {SESSION_SECRET}\n\
             aws_session_token = {SESSION_TOKEN}\n"
        );
        std::fs::write(&path, file).expect("write credentials");
        let path = path.to_str().expect("utf-8 temp path").to_owned();
        let server = Server::start(&["--auth", "sigv4", "--credentials", &path]);
        AuthServer { server, _credentials: dir }
    }

    /// A client signing with these credentials, plain HTTP, no retries and no clock-skew
    /// correction, so that what the server answers first is what the test sees.
    fn config(&self, access_key: &str, secret: &str, token: Option<&str>) -> aws_sdk_kinesis::config::Builder {
        aws_sdk_kinesis::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.server.endpoint)
            .credentials_provider(Credentials::new(access_key, secret, token.map(str::to_owned), None, "static"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .retry_config(RetryConfig::disabled())
            .disable_clock_skew_correction(true)
    }

    fn client(&self, access_key: &str, secret: &str, token: Option<&str>) -> Client {
        Client::from_conf(self.config(access_key, secret, token).build())
    }

    fn alice(&self) -> Client {
        self.client(ALICE_KEY, ALICE_SECRET, None)
    }

    /// Creates a one-shard stream as alice and waits for it.
    async fn stream(&self, name: &str) -> Client {
        let alice = self.alice();
        alice.create_stream().stream_name(name).shard_count(1).send().await.expect("CreateStream as alice");
        wait_active(&alice, name).await;
        alice
    }
}

/// The error code, message and HTTP status of a refused call.
fn refusal<T: Debug, E: ProvideErrorMetadata + Debug>(result: Result<T, SdkError<E>>) -> (String, String, u16) {
    let err = result.expect_err("the server accepted the request");
    let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or_else(|| panic!("no response: {err:?}"));
    let code = err.code().unwrap_or_else(|| panic!("no error code: {err:?}")).to_owned();
    let message = err.message().unwrap_or_default().to_owned();
    (code, message, status)
}

/// Every record of the stream's only shard.
async fn records(kin: &Client, stream: &str) -> Vec<Vec<u8>> {
    let shard = kin.list_shards().stream_name(stream).send().await.expect("ListShards");
    let shard = shard.shards()[0].shard_id().to_owned();
    let iterator = kin
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("GetShardIterator")
        .shard_iterator
        .expect("iterator");
    let out = kin.get_records().shard_iterator(iterator).send().await.expect("GetRecords");
    out.records().iter().map(|r| r.data().as_ref().to_vec()).collect()
}

/// A clock `offset` away from the real one, in the past (`behind`) or in the future.
#[derive(Debug)]
struct SkewedClock {
    offset: Duration,
    behind: bool,
}

impl TimeSource for SkewedClock {
    fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        if self.behind {
            now - self.offset
        } else {
            now + self.offset
        }
    }
}

/// What a man in the middle changes in a request the SDK has already signed.
#[derive(Debug)]
enum Tamper {
    /// Replaces `from` with `to` (the same length, so Content-Length still holds) in the body.
    Body { from: &'static str, to: &'static str },
    /// Sets a header that the signature covers to another value.
    SignedHeader { name: &'static str, value: &'static str },
}

impl Intercept for Tamper {
    fn name(&self) -> &'static str {
        "TamperAfterSigning"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let authorization = request.headers().get("authorization").ok_or("the request is not signed")?.to_owned();
        match self {
            Tamper::Body { from, to } => {
                assert_eq!(from.len(), to.len(), "a same-length change keeps Content-Length true");
                let body = request.body().bytes().ok_or("the body is streamed, not in memory")?;
                let text = std::str::from_utf8(body)?;
                if !text.contains(from) {
                    return Err(format!("{from:?} is not in the body {text}").into());
                }
                let tampered = text.replacen(from, to, 1).into_bytes();
                *request.body_mut() = SdkBody::from(tampered);
            }
            Tamper::SignedHeader { name, value } => {
                // Only a header in SignedHeaders makes this a test of the signature.
                let signed = authorization
                    .split("SignedHeaders=")
                    .nth(1)
                    .and_then(|rest| rest.split(',').next())
                    .ok_or("no SignedHeaders in Authorization")?;
                if !signed.split(';').any(|h| h == *name) {
                    return Err(format!("{name} is not among the signed headers {signed}").into());
                }
                request.headers_mut().insert(*name, *value);
            }
        }
        Ok(())
    }
}

#[tokio::test]
async fn the_right_key_puts_and_reads_back() {
    let rheo = AuthServer::start();
    let alice = rheo.stream("signed").await;
    let put = alice
        .put_record()
        .stream_name("signed")
        .partition_key("pk")
        .data(Blob::new(&b"signed by alice"[..]))
        .send()
        .await
        .expect("PutRecord signed with alice's key");
    assert_eq!(put.shard_id(), "shardId-000000000000");
    assert_eq!(records(&alice, "signed").await, vec![b"signed by alice".to_vec()]);
}

#[tokio::test]
async fn a_wrong_secret_is_an_invalid_signature() {
    let rheo = AuthServer::start();
    let wrong = rheo.client(ALICE_KEY, "not-alices-secret", None);
    let (code, message, status) = refusal(wrong.list_streams().send().await);
    assert_eq!((code.as_str(), status), ("InvalidSignatureException", 400), "{message}");
    assert!(message.starts_with(SIGNATURE_MISMATCH), "{message}");
    // Neither secret reaches the log, not even while explaining a failure.
    let log = rheo.server.output();
    assert!(!log.contains(ALICE_SECRET) && !log.contains("not-alices-secret"), "a secret in the log:\n{log}");
}

#[tokio::test]
async fn an_unknown_access_key_is_an_unrecognized_client() {
    let rheo = AuthServer::start();
    let stranger = rheo.client(UNKNOWN_KEY, ALICE_SECRET, None);
    let (code, message, status) = refusal(stranger.list_streams().send().await);
    assert_eq!((code.as_str(), status), ("UnrecognizedClientException", 400), "{message}");
    assert_eq!(message, INVALID_TOKEN);
}

#[tokio::test]
async fn a_signature_sixteen_minutes_old_or_ahead_is_refused() {
    let rheo = AuthServer::start();
    let late = Client::from_conf(
        rheo.config(ALICE_KEY, ALICE_SECRET, None).time_source(SkewedClock { offset: SKEW, behind: true }).build(),
    );
    let (code, message, status) = refusal(late.list_streams().send().await);
    assert_eq!((code.as_str(), status), ("InvalidSignatureException", 400), "{message}");
    assert!(message.starts_with("Signature expired: "), "{message}");

    let early = Client::from_conf(
        rheo.config(ALICE_KEY, ALICE_SECRET, None).time_source(SkewedClock { offset: SKEW, behind: false }).build(),
    );
    let (code, message, status) = refusal(early.list_streams().send().await);
    assert_eq!((code.as_str(), status), ("InvalidSignatureException", 400), "{message}");
    assert!(message.starts_with("Signature not yet current: "), "{message}");
}

/// The SDK's own recovery works against Rheo as against AWS: the refusal carries the server's
/// `Date`, the SDK measures its skew from it and signs the retry with the server's time.
#[tokio::test]
async fn the_sdks_skew_correction_recovers_from_a_slow_clock() {
    let rheo = AuthServer::start();
    let conf = rheo
        .config(ALICE_KEY, ALICE_SECRET, None)
        .time_source(SkewedClock { offset: SKEW, behind: true })
        .disable_clock_skew_correction(false)
        .retry_config(RetryConfig::standard().with_max_attempts(2).with_initial_backoff(Duration::from_millis(1)))
        .build();
    Client::from_conf(conf).list_streams().send().await.expect("ListStreams after the SDK corrected its clock");
}

/// Puts `data` into a fresh stream through a client that changes the signed request with
/// `tamper`: the server must refuse it as a signature mismatch and store nothing. Returns alice's
/// client for further checks.
async fn refused_after_tampering(rheo: &AuthServer, stream: &str, tamper: Tamper, data: &[u8]) -> Client {
    let alice = rheo.stream(stream).await;
    let tampered = Client::from_conf(rheo.config(ALICE_KEY, ALICE_SECRET, None).interceptor(tamper).build());
    let result = tampered.put_record().stream_name(stream).partition_key("pk").data(Blob::new(data)).send().await;
    let (code, message, status) = refusal(result);
    assert_eq!((code.as_str(), status), ("InvalidSignatureException", 400), "{message}");
    assert!(message.starts_with(SIGNATURE_MISMATCH), "{message}");
    assert!(records(&alice, stream).await.is_empty(), "a refused record was stored");
    alice
}

#[tokio::test]
async fn a_body_changed_after_signing_is_an_invalid_signature() {
    let rheo = AuthServer::start();
    // base64("pay 10") becomes base64("pay 99") on the way.
    let tamper = Tamper::Body { from: "\"cGF5IDEw\"", to: "\"cGF5IDk5\"" };
    refused_after_tampering(&rheo, "tampered-body", tamper, b"pay 10").await;
}

#[tokio::test]
async fn a_signed_header_changed_after_signing_is_an_invalid_signature() {
    let rheo = AuthServer::start();
    // A signed PutRecord turned into a DeleteStream of the same stream.
    let tamper = Tamper::SignedHeader { name: "x-amz-target", value: "Kinesis_20131202.DeleteStream" };
    let alice = refused_after_tampering(&rheo, "tampered-header", tamper, b"kept").await;
    let summary = alice.describe_stream_summary().stream_name("tampered-header").send().await.expect("the stream");
    assert_eq!(summary.stream_description_summary().expect("summary").stream_status(), &StreamStatus::Active);
}

#[tokio::test]
async fn temporary_credentials_need_their_session_token() {
    let rheo = AuthServer::start();
    let with_token = rheo.client(SESSION_KEY, SESSION_SECRET, Some(SESSION_TOKEN));
    with_token.list_streams().send().await.expect("ListStreams with the session token");

    let without = rheo.client(SESSION_KEY, SESSION_SECRET, None);
    let (code, message, status) = refusal(without.list_streams().send().await);
    assert_eq!((code.as_str(), status), ("UnrecognizedClientException", 400), "{message}");
    assert_eq!(message, INVALID_TOKEN);

    let other_token = rheo.client(SESSION_KEY, SESSION_SECRET, Some("FwoGZXIvYXdzEJrSomebodyElsesToken=="));
    let (code, message, status) = refusal(other_token.list_streams().send().await);
    assert_eq!((code.as_str(), status), ("UnrecognizedClientException", 400), "{message}");
    assert_eq!(message, INVALID_TOKEN);
}
