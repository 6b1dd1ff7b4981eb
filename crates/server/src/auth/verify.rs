//! SigV4 verification of one request, in AWS's order of checks:
//!
//! 1. the signature's parts parse (algorithm, credential scope, signed headers; the
//!    presigned query's parameters and expiry bound), the date is ISO 8601 basic format;
//! 2. the scope: its date is the request's, its region the server's, its service the
//!    routed service's signing name; `host` is signed;
//! 3. the time: within [`CLOCK_SKEW_SECS`] of the server's clock (a presigned request until
//!    it expires);
//! 4. the request's integrity that needs no key: every signed header is present,
//!    `x-amz-content-sha256` (when sent) is the body's hash;
//! 5. the access key and session token (`UnrecognizedClientException`), then the signature
//!    (`InvalidSignatureException`).
//!
//! Step 5 costs the same whether the access key exists or not: an unknown key is checked
//! against a signature computed with a stand-in secret, and both the signature and the
//! session token are compared in constant time. The canonical request is built by
//! rheo-aws, the same code clients sign with.

use std::sync::Arc;

use http::HeaderMap;
use rheo_aws::sigv4::{self, AuthError, Authorization, CanonicalRequest};

use super::identities::Identities;
use super::Principal;

/// How far a request's date may be from the server's clock, either way (AWS: 15 minutes).
pub const CLOCK_SKEW_SECS: u64 = 15 * 60;

/// Longest validity of a presigned request (`X-Amz-Expires`, AWS: 7 days).
pub const PRESIGNED_EXPIRES_SECS_MAX: u64 = 7 * 24 * 3600;

/// Most derived signing keys cached per snapshot of principals.
pub const SIGNING_KEYS_CACHED_MAX: usize = 4096;

/// The secret an unknown access key is checked against, so that answering "unknown key"
/// costs as much as answering "wrong signature".
const STAND_IN_SECRET: &str = "rheo-stand-in-secret-for-unknown-access-keys";

/// The parts of a request a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// `POST`, `GET`, ...
    pub method: &'a str,
    /// The path as received (still percent-encoded).
    pub path: &'a str,
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    /// The headers as received.
    pub headers: &'a HeaderMap,
    /// The request target's authority: HTTP/2's `:authority`, which hyper keeps in the URI
    /// rather than among the headers (an HTTP/1.1 request in origin form has none).
    pub authority: Option<&'a str>,
    /// The whole body.
    pub body: &'a [u8],
}

/// Why a signature was refused; [`crate::errors::auth_wire_error`] gives each AWS's error
/// type and text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// The `Authorization` header or presigned query does not parse.
    #[error("malformed signature: {0}")]
    Malformed(AuthError),
    /// The credential is not `key/date/region/service/aws4_request`.
    #[error("malformed credential {0:?}")]
    Credential(String),
    /// The request date is not `YYYYMMDDTHHMMSSZ`.
    #[error("malformed date {0:?}")]
    Date(String),
    /// `X-Amz-Expires` is over [`PRESIGNED_EXPIRES_SECS_MAX`].
    #[error("X-Amz-Expires {0} is over the maximum")]
    ExpiresTooLong(u64),
    /// The scope's date is not the request's.
    #[error("scope date {scope_date} is not the request's {amz_date}")]
    ScopeDate {
        /// The scope's `YYYYMMDD`.
        scope_date: String,
        /// The request's date.
        amz_date: String,
    },
    /// The scope's region is not the server's.
    #[error("scope region {0:?} is not the server's")]
    Region(String),
    /// The scope's service is not the routed service's signing name (carried here).
    #[error("scope service is not {0:?}")]
    Service(String),
    /// `host` is not among the signed headers.
    #[error("host is not signed")]
    HostNotSigned,
    /// Older than the skew window allows.
    #[error("signature expired")]
    Expired {
        /// The request's date.
        amz_date: String,
        /// The server's time, as an amz date.
        now: String,
        /// The earliest date accepted.
        earliest: String,
        /// The window: 15 minutes, or a presigned request's `X-Amz-Expires`.
        window: ExpiryWindow,
    },
    /// Further in the future than the skew window allows.
    #[error("signature not yet current")]
    NotYetCurrent {
        /// The request's date.
        amz_date: String,
        /// The server's time.
        now: String,
        /// The latest date accepted.
        latest: String,
    },
    /// A signed header is not in the request.
    #[error("signed header {0:?} is absent")]
    SignedHeaderAbsent(String),
    /// `x-amz-content-sha256` is not the body's hash.
    #[error("x-amz-content-sha256 does not match the body")]
    ContentSha256,
    /// The access key is unknown, or the session token is wrong, missing or unexpected.
    #[error("unrecognized access key or session token")]
    UnrecognizedClient,
    /// The signature does not match; what the server computed, for the client to compare.
    #[error("signature mismatch")]
    Mismatch {
        /// The canonical request.
        canonical: String,
        /// The string to sign.
        string_to_sign: String,
    },
}

/// How far back a request's date may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryWindow {
    /// The clock skew window of header-signed requests.
    Skew,
    /// A presigned request's `X-Amz-Expires`, in seconds.
    Presigned(u64),
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The signature, its date (as signed and in seconds), the session token sent and, for
/// presigned requests, the validity.
struct Presented {
    authorization: Authorization,
    amz_date: String,
    date_secs: u64,
    session_token: Option<String>,
    presigned_expires: Option<u64>,
}

fn malformed(error: AuthError) -> AuthFailure {
    match error {
        AuthError::Credential(credential) => AuthFailure::Credential(credential),
        other => AuthFailure::Malformed(other),
    }
}

fn presented(request: &SignedRequest<'_>) -> Result<Presented, AuthFailure> {
    let query = request.query.unwrap_or_default();
    if let Some(value) = header(request.headers, "authorization") {
        let authorization = sigv4::parse_authorization(value).map_err(malformed)?;
        let (amz_date, date_secs) = match header(request.headers, "x-amz-date") {
            Some(date) => (date.to_owned(), sigv4::parse_amz_date(date)),
            None => {
                let date = header(request.headers, "date").unwrap_or_default();
                let secs = sigv4::parse_http_date(date).or_else(|| sigv4::parse_amz_date(date));
                (secs.map(secs_to_amz_date).unwrap_or_else(|| date.to_owned()), secs)
            }
        };
        let date_secs = date_secs.ok_or_else(|| AuthFailure::Date(amz_date.clone()))?;
        let session_token = header(request.headers, "x-amz-security-token").map(str::to_owned);
        return Ok(Presented { authorization, amz_date, date_secs, session_token, presigned_expires: None });
    }
    let presigned = sigv4::parse_presigned_query(query).map_err(malformed)?;
    let date_secs =
        sigv4::parse_amz_date(&presigned.amz_date).ok_or_else(|| AuthFailure::Date(presigned.amz_date.clone()))?;
    if presigned.expires_secs > PRESIGNED_EXPIRES_SECS_MAX {
        return Err(AuthFailure::ExpiresTooLong(presigned.expires_secs));
    }
    Ok(Presented {
        authorization: presigned.authorization,
        amz_date: presigned.amz_date,
        date_secs,
        session_token: presigned.security_token,
        presigned_expires: Some(presigned.expires_secs),
    })
}

fn secs_to_amz_date(secs: u64) -> String {
    sigv4::amz_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

fn check_time(presented: &Presented, now_secs: u64) -> Result<(), AuthFailure> {
    let date = presented.date_secs;
    if date > now_secs + CLOCK_SKEW_SECS {
        return Err(AuthFailure::NotYetCurrent {
            amz_date: presented.amz_date.clone(),
            now: secs_to_amz_date(now_secs),
            latest: secs_to_amz_date(now_secs + CLOCK_SKEW_SECS),
        });
    }
    let (window_secs, window) = match presented.presigned_expires {
        Some(expires) => (expires, ExpiryWindow::Presigned(expires)),
        None => (CLOCK_SKEW_SECS, ExpiryWindow::Skew),
    };
    if date + window_secs < now_secs {
        return Err(AuthFailure::Expired {
            amz_date: presented.amz_date.clone(),
            now: secs_to_amz_date(now_secs),
            earliest: secs_to_amz_date(now_secs.saturating_sub(window_secs)),
            window,
        });
    }
    Ok(())
}

/// Verifies `request`'s signature for the service `signing_name` in `region` at `now_secs`
/// against `identities`; answers the principal that signed it.
pub fn verify(
    identities: &Identities,
    region: &str,
    signing_name: &str,
    request: &SignedRequest<'_>,
    now_secs: u64,
) -> Result<Arc<Principal>, AuthFailure> {
    let presented = presented(request)?;
    let scope = &presented.authorization.credential;
    let request_day = presented.amz_date.get(..8).unwrap_or_default();
    if scope.date != request_day {
        return Err(AuthFailure::ScopeDate { scope_date: scope.date.clone(), amz_date: presented.amz_date.clone() });
    }
    if scope.region != region {
        return Err(AuthFailure::Region(scope.region.clone()));
    }
    if scope.service != signing_name {
        return Err(AuthFailure::Service(signing_name.to_owned()));
    }
    let signed = &presented.authorization.signed_headers;
    if !signed.iter().any(|name| name == "host" || name == ":authority") {
        return Err(AuthFailure::HostNotSigned);
    }
    check_time(&presented, now_secs)?;

    // HTTP/2 clients sign `:authority` (the JavaScript SDK) or `host` (clients whose HTTP/2
    // layer turns the Host header into `:authority`); both are the URI's authority then.
    let has_host = request.headers.contains_key(http::header::HOST);
    let from_uri = request.authority.into_iter().flat_map(|authority| {
        std::iter::once((":authority", authority)).chain((!has_host).then_some(("host", authority)))
    });
    let received =
        request.headers.iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))).chain(from_uri);
    let header_values = sigv4::signed_header_values(received, signed).map_err(|error| match error {
        AuthError::SignedHeaderAbsent(name) => AuthFailure::SignedHeaderAbsent(name),
        other => AuthFailure::Malformed(other),
    })?;
    let payload_sha256 = sigv4::sha256_hex(request.body);
    if header(request.headers, "x-amz-content-sha256").is_some_and(|sent| sent != payload_sha256) {
        return Err(AuthFailure::ContentSha256);
    }
    let query = match (presented.presigned_expires, request.query) {
        (Some(_), Some(query)) => sigv4::canonical_query_excluding(query, Some("X-Amz-Signature")),
        (None, Some(query)) => sigv4::canonical_query(query),
        (_, None) => String::new(),
    };
    let path = sigv4::canonical_uri(request.path);
    let pairs: Vec<(&str, &str)> = header_values.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let canonical = CanonicalRequest {
        method: request.method,
        path: &path,
        query: &query,
        headers: &pairs,
        payload_sha256_hex: &payload_sha256,
    };
    let (canonical, _) = canonical.text();
    let string_to_sign = sigv4::string_to_sign(&presented.amz_date, &scope.scope(), &canonical);

    // Identical work for known and unknown keys from here on.
    let identity = identities.identity(&scope.access_key);
    let secret = identity.map_or(STAND_IN_SECRET, |identity| identity.secret_key.as_str());
    let key = identities.signing_key(&scope.access_key, secret, &scope.date, &scope.region, &scope.service);
    let expected = sigv4::signature(&key, &string_to_sign);
    let signature_matches = sigv4::signatures_match(&expected, &presented.authorization.signature);
    let expected_token = identity.and_then(|identity| identity.session_token.as_deref());
    let token_matches = match (expected_token, presented.session_token.as_deref()) {
        (Some(expected), Some(sent)) => sigv4::secrets_match(expected.as_bytes(), sent.as_bytes()),
        (None, None) => true,
        _ => false,
    };
    match identity {
        Some(identity) if token_matches => {
            if signature_matches {
                Ok(identity.principal.clone())
            } else {
                Err(AuthFailure::Mismatch { canonical, string_to_sign })
            }
        }
        _ => Err(AuthFailure::UnrecognizedClient),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use rheo_aws::credentials_file::CredentialsFile;
    use rheo_aws::sigv4::{Credentials, Signer};

    const NOW: u64 = 1_796_000_000;
    const BODY: &[u8] = br#"{"StreamName":"s","Data":"aGVsbG8=","PartitionKey":"k"}"#;
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn identities() -> Identities {
        let file = CredentialsFile::parse(&format!(
            "[alice]\naws_access_key_id = AKIDALICE\naws_secret_access_key = {SECRET}\n\
             [temp]\naws_access_key_id = ASIATEMP\naws_secret_access_key = {SECRET}\naws_session_token = TOKEN1\n"
        ))
        .unwrap();
        Identities::new(
            &file,
            rheo_iam::IdentityPolicies::default(),
            &rheo_engine::ids::Account { region: "us-east-1".into(), account_id: "123456789012".into() },
        )
    }

    /// `headers` (sorted by name) and the `Authorization` of `access_key` signing them with
    /// `BODY` at `amz_date` for `region` and `service`.
    fn sign_headers(
        headers: &[(&str, &str)],
        access_key: &str,
        secret: &str,
        amz_date: &str,
        scope: (&str, &str),
    ) -> HeaderMap {
        let credentials = Credentials { access_key: access_key.into(), secret_key: secret.into(), session_token: None };
        let signature = Signer::new(credentials, scope.0, scope.1).sign(
            "POST",
            "/",
            "",
            headers,
            &sigv4::sha256_hex(BODY),
            amz_date,
        );
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
        }
        map.insert("authorization", HeaderValue::from_str(&signature.authorization).unwrap());
        map
    }

    /// A PutRecord request signed by `access_key` at `date_secs` for `region`/`service`,
    /// as the SDKs sign it; `token` is sent and signed as `x-amz-security-token`.
    fn signed(
        access_key: &str,
        secret: &str,
        token: Option<&str>,
        date_secs: u64,
        region: &str,
        service: &str,
    ) -> HeaderMap {
        let amz_date = secs_to_amz_date(date_secs);
        let mut headers: Vec<(&str, &str)> =
            vec![("content-type", "application/x-amz-json-1.1"), ("host", "localhost:4567"), ("x-amz-date", &amz_date)];
        if let Some(token) = token {
            headers.push(("x-amz-security-token", token));
        }
        headers.push(("x-amz-target", "Kinesis_20131202.PutRecord"));
        sign_headers(&headers, access_key, secret, &amz_date, (region, service))
    }

    fn check(headers: &HeaderMap, body: &[u8], now: u64) -> Result<Arc<Principal>, AuthFailure> {
        let request = SignedRequest { method: "POST", path: "/", query: None, headers, authority: None, body };
        verify(&identities(), "us-east-1", "kinesis", &request, now)
    }

    /// Over HTTP/2 the authority travels in the URI: a signed `host` (an HTTP/2 layer that turned
    /// the Host header into `:authority`) or a signed `:authority` (the JavaScript SDK) is it.
    #[test]
    fn http2_authority_stands_for_host_and_is_signed_as_authority() {
        let with_authority = |headers: &HeaderMap, authority| {
            let request = SignedRequest { method: "POST", path: "/", query: None, headers, authority, body: BODY };
            verify(&identities(), "us-east-1", "kinesis", &request, NOW)
        };
        let mut headers = signed("AKIDALICE", SECRET, None, NOW, "us-east-1", "kinesis");
        headers.remove("host");
        assert_eq!(with_authority(&headers, Some("localhost:4567")).unwrap().name, "alice");
        assert!(matches!(with_authority(&headers, None), Err(AuthFailure::SignedHeaderAbsent(name)) if name == "host"));
        assert!(matches!(with_authority(&headers, Some("localhost:9999")), Err(AuthFailure::Mismatch { .. })));

        let amz_date = secs_to_amz_date(NOW);
        let pairs = [(":authority", "localhost:4567"), ("x-amz-date", amz_date.as_str())];
        let credentials =
            Credentials { access_key: "AKIDALICE".into(), secret_key: SECRET.into(), session_token: None };
        let signature = Signer::new(credentials, "us-east-1", "kinesis").sign(
            "POST",
            "/",
            "",
            &pairs,
            &sigv4::sha256_hex(BODY),
            &amz_date,
        );
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-date", HeaderValue::from_str(&amz_date).unwrap());
        headers.insert("authorization", HeaderValue::from_str(&signature.authorization).unwrap());
        assert_eq!(with_authority(&headers, Some("localhost:4567")).unwrap().name, "alice");
    }

    #[test]
    fn the_right_key_names_its_principal() {
        let headers = signed("AKIDALICE", SECRET, None, NOW, "us-east-1", "kinesis");
        let principal = check(&headers, BODY, NOW).unwrap();
        assert_eq!(principal.name, "alice");
        assert_eq!(principal.arn, "arn:aws:iam::123456789012:user/alice");
        let temp = signed("ASIATEMP", SECRET, Some("TOKEN1"), NOW, "us-east-1", "kinesis");
        assert_eq!(check(&temp, BODY, NOW).unwrap().name, "temp");
    }

    #[test]
    fn each_failure_is_told_apart() {
        let good = signed("AKIDALICE", SECRET, None, NOW, "us-east-1", "kinesis");
        assert!(matches!(
            check(&signed("AKIDALICE", "wrong", None, NOW, "us-east-1", "kinesis"), BODY, NOW),
            Err(AuthFailure::Mismatch { .. })
        ));
        assert_eq!(
            check(&signed("AKIDNOBODY", SECRET, None, NOW, "us-east-1", "kinesis"), BODY, NOW).unwrap_err(),
            AuthFailure::UnrecognizedClient
        );
        assert!(matches!(check(&good, b"{}", NOW), Err(AuthFailure::Mismatch { .. })));
        assert_eq!(
            check(&signed("AKIDALICE", SECRET, None, NOW, "eu-west-1", "kinesis"), BODY, NOW).unwrap_err(),
            AuthFailure::Region("eu-west-1".into())
        );
        assert_eq!(
            check(&signed("AKIDALICE", SECRET, None, NOW, "us-east-1", "firehose"), BODY, NOW).unwrap_err(),
            AuthFailure::Service("kinesis".into())
        );
        assert!(matches!(
            check(&good, BODY, NOW + CLOCK_SKEW_SECS + 1),
            Err(AuthFailure::Expired { window: ExpiryWindow::Skew, .. })
        ));
        assert!(check(&good, BODY, NOW + CLOCK_SKEW_SECS).is_ok());
        assert!(matches!(check(&good, BODY, NOW - CLOCK_SKEW_SECS - 1), Err(AuthFailure::NotYetCurrent { .. })));
        assert!(check(&good, BODY, NOW - CLOCK_SKEW_SECS).is_ok());

        // A signed header changed after signing.
        let mut tampered = good.clone();
        tampered.insert("x-amz-target", HeaderValue::from_static("Kinesis_20131202.DeleteStream"));
        assert!(matches!(check(&tampered, BODY, NOW), Err(AuthFailure::Mismatch { .. })));
        // A signed header removed.
        let mut absent = good.clone();
        absent.remove("content-type");
        assert_eq!(check(&absent, BODY, NOW).unwrap_err(), AuthFailure::SignedHeaderAbsent("content-type".into()));
        // x-amz-content-sha256 must be the body's hash.
        let mut sha = good.clone();
        sha.insert("x-amz-content-sha256", HeaderValue::from_static(sigv4::EMPTY_SHA256));
        assert_eq!(check(&sha, BODY, NOW).unwrap_err(), AuthFailure::ContentSha256);
        sha.insert("x-amz-content-sha256", HeaderValue::from_str(&sigv4::sha256_hex(BODY)).unwrap());
        assert!(check(&sha, BODY, NOW).is_ok());
        // The scope's date must be the request's.
        let mut other_day = good.clone();
        other_day.insert("x-amz-date", HeaderValue::from_str(&secs_to_amz_date(NOW + 86_400)).unwrap());
        assert!(matches!(check(&other_day, BODY, NOW), Err(AuthFailure::ScopeDate { .. })));
        let mut bad_date = good.clone();
        bad_date.insert("x-amz-date", HeaderValue::from_static("2026-11-30"));
        assert_eq!(check(&bad_date, BODY, NOW).unwrap_err(), AuthFailure::Date("2026-11-30".into()));
    }

    #[test]
    fn http2_requests_sign_their_authority_as_host() {
        let mut headers = signed("AKIDALICE", SECRET, None, NOW, "us-east-1", "kinesis");
        headers.remove("host");
        let request = |authority| SignedRequest {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            authority,
            body: BODY,
        };
        assert_eq!(
            verify(&identities(), "us-east-1", "kinesis", &request(Some("localhost:4567")), NOW).unwrap().name,
            "alice"
        );
        assert!(matches!(
            verify(&identities(), "us-east-1", "kinesis", &request(Some("elsewhere:4567")), NOW),
            Err(AuthFailure::Mismatch { .. })
        ));
        assert_eq!(
            verify(&identities(), "us-east-1", "kinesis", &request(None), NOW).unwrap_err(),
            AuthFailure::SignedHeaderAbsent("host".into())
        );
    }

    #[test]
    fn session_tokens_must_match_exactly() {
        let wrong = signed("ASIATEMP", SECRET, Some("TOKEN2"), NOW, "us-east-1", "kinesis");
        assert_eq!(check(&wrong, BODY, NOW).unwrap_err(), AuthFailure::UnrecognizedClient);
        let missing = signed("ASIATEMP", SECRET, None, NOW, "us-east-1", "kinesis");
        assert_eq!(check(&missing, BODY, NOW).unwrap_err(), AuthFailure::UnrecognizedClient);
        let unexpected = signed("AKIDALICE", SECRET, Some("TOKEN1"), NOW, "us-east-1", "kinesis");
        assert_eq!(check(&unexpected, BODY, NOW).unwrap_err(), AuthFailure::UnrecognizedClient);
        // A wrong token is reported before a wrong signature, as AWS does.
        let both = signed("ASIATEMP", "wrong", Some("TOKEN2"), NOW, "us-east-1", "kinesis");
        assert_eq!(check(&both, BODY, NOW).unwrap_err(), AuthFailure::UnrecognizedClient);
    }

    #[test]
    fn scope_and_time_are_checked_before_the_key() {
        // An unknown key with a stale date is told the date, as AWS answers.
        let stale = signed("AKIDNOBODY", SECRET, None, NOW, "us-east-1", "kinesis");
        assert!(matches!(check(&stale, BODY, NOW + 3600), Err(AuthFailure::Expired { .. })));
        let region = signed("AKIDNOBODY", SECRET, None, NOW, "eu-west-1", "kinesis");
        assert_eq!(check(&region, BODY, NOW).unwrap_err(), AuthFailure::Region("eu-west-1".into()));
    }

    #[test]
    fn host_must_be_signed() {
        let amz_date = secs_to_amz_date(NOW);
        let mut map =
            sign_headers(&[("x-amz-date", &amz_date)], "AKIDALICE", SECRET, &amz_date, ("us-east-1", "kinesis"));
        map.insert("host", HeaderValue::from_static("localhost"));
        assert_eq!(check(&map, BODY, NOW).unwrap_err(), AuthFailure::HostNotSigned);
    }

    #[test]
    fn presigned_requests_verify_and_expire() {
        let amz_date = secs_to_amz_date(NOW);
        let credential = format!("AKIDALICE%2F{}%2Fus-east-1%2Fkinesis%2Faws4_request", &amz_date[..8]);
        let unsigned = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}&X-Amz-Date={amz_date}&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
        );
        let canonical_query = sigv4::canonical_query(&unsigned);
        let credentials =
            Credentials { access_key: "AKIDALICE".into(), secret_key: SECRET.into(), session_token: None };
        let signature = Signer::new(credentials, "us-east-1", "kinesis")
            .sign("POST", "/", &canonical_query, &[("host", "localhost")], &sigv4::sha256_hex(BODY), &amz_date)
            .signature;
        let query = format!("{unsigned}&X-Amz-Signature={signature}");
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("localhost"));
        let at = |query: &str, now: u64, body: &[u8]| {
            let request = SignedRequest {
                method: "POST",
                path: "/",
                query: Some(query),
                headers: &headers,
                authority: None,
                body,
            };
            verify(&identities(), "us-east-1", "kinesis", &request, now)
        };
        assert_eq!(at(&query, NOW + 60, BODY).unwrap().name, "alice");
        assert!(matches!(
            at(&query, NOW + 61, BODY),
            Err(AuthFailure::Expired { window: ExpiryWindow::Presigned(60), .. })
        ));
        assert!(matches!(at(&query, NOW, b"{}"), Err(AuthFailure::Mismatch { .. })));
        let long = query.replace("X-Amz-Expires=60", "X-Amz-Expires=604801");
        assert_eq!(at(&long, NOW, BODY).unwrap_err(), AuthFailure::ExpiresTooLong(604_801));
    }

    #[test]
    fn signing_keys_are_cached_and_bounded() {
        let identities = identities();
        let first = identities.signing_key("AKIDALICE", SECRET, "20261130", "us-east-1", "kinesis");
        assert_eq!(first, sigv4::signing_key(SECRET, "20261130", "us-east-1", "kinesis"));
        for i in 0..SIGNING_KEYS_CACHED_MAX + 10 {
            identities.signing_key(&format!("K{i}"), SECRET, "20261130", "us-east-1", "kinesis");
        }
        assert!(identities.signing_keys_cached() <= SIGNING_KEYS_CACHED_MAX);
        assert_eq!(identities.signing_key("AKIDALICE", SECRET, "20261130", "us-east-1", "kinesis"), first);
    }
}
