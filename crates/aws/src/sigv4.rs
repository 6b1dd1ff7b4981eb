//! AWS Signature Version 4, hand-rolled with `hmac` + `sha2`.
//!
//! One implementation of the four steps serves both directions, so a client and the
//! server can never disagree on what was signed:
//!
//! ```text
//! canonical request  = method \n canonical URI \n canonical query \n canonical headers \n
//!                      signed headers \n payload SHA-256       ([`CanonicalRequest`])
//! string to sign     = AWS4-HMAC-SHA256 \n amz date \n scope \n hex SHA-256(canonical request)
//! signing key        = HMAC chain over secret, date, region, service, "aws4_request"
//! signature          = hex HMAC(signing key, string to sign)
//! ```
//!
//! Signing ([`Signer`]) is what clients do; bodies are hashed once when they are built
//! ([`sha256_hex`]) and the signing key is cached per day, so signing a request costs one
//! SHA-256 of a ~300-byte canonical request and one HMAC, a few microseconds.
//!
//! Verifying is what the server does: parse what the client sent
//! ([`parse_authorization`], [`parse_presigned_query`]), rebuild the canonical request from
//! the received request ([`signed_header_values`], [`canonical_uri`], [`canonical_query`]),
//! and compare the expected signature in constant time ([`verify`]).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::limits::{SIGV4_AUTHORIZATION_BYTES_MAX, SIGV4_SIGNED_HEADERS_MAX};

type HmacSha256 = Hmac<Sha256>;

/// The only algorithm SigV4 defines for HMAC signing.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// SHA-256 of the empty string, the payload hash of a body-less request.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The payload hash presigned URLs use: the body is not covered by the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The last element of every credential scope.
const TERMINATOR: &str = "aws4_request";

/// Access key, secret key and optional session token. `Debug` shows the access key only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_key: String,
    /// `AWS_SESSION_TOKEN`, sent (and signed) as `x-amz-security-token`.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Who signed, and for which day, region and service: the `Credential=` of a signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialScope {
    /// The access key id.
    pub access_key: String,
    /// `YYYYMMDD`.
    pub date: String,
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// The service, e.g. `kinesis`.
    pub service: String,
}

impl CredentialScope {
    /// `date/region/service/aws4_request`, as the string to sign carries it.
    pub fn scope(&self) -> String {
        scope(&self.date, &self.region, &self.service)
    }
}

fn scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/{TERMINATOR}")
}

/// The parts of a request a signature covers, already in canonical form.
#[derive(Clone, Copy, Debug)]
pub struct CanonicalRequest<'a> {
    /// The HTTP method, upper case.
    pub method: &'a str,
    /// The canonical URI ([`canonical_uri`]); `/` for Kinesis and Firehose.
    pub path: &'a str,
    /// The canonical query string ([`canonical_query`]); empty for Kinesis and Firehose.
    pub query: &'a str,
    /// The signed headers as (lower-case name, value) pairs sorted by name. Values are
    /// trimmed and their inner runs of spaces collapsed here.
    pub headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body, or [`UNSIGNED_PAYLOAD`].
    pub payload_sha256_hex: &'a str,
}

impl CanonicalRequest<'_> {
    /// The canonical request text and the `SignedHeaders` list.
    pub fn text(&self) -> (String, String) {
        let mut canonical = String::with_capacity(512);
        let mut signed_headers = String::with_capacity(96);
        canonical.push_str(self.method);
        canonical.push('\n');
        canonical.push_str(self.path);
        canonical.push('\n');
        canonical.push_str(self.query);
        canonical.push('\n');
        for (i, (name, value)) in self.headers.iter().enumerate() {
            canonical.push_str(name);
            canonical.push(':');
            canonical.push_str(&canonical_header_value(value));
            canonical.push('\n');
            if i > 0 {
                signed_headers.push(';');
            }
            signed_headers.push_str(name);
        }
        canonical.push('\n');
        canonical.push_str(&signed_headers);
        canonical.push('\n');
        canonical.push_str(self.payload_sha256_hex);
        (canonical, signed_headers)
    }
}

/// The string to sign for a canonical request `canonical` sent at `amz_date` under `scope`
/// (`date/region/service/aws4_request`).
pub fn string_to_sign(amz_date: &str, scope: &str, canonical: &str) -> String {
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{}", sha256_hex(canonical.as_bytes()))
}

/// The signing key derived from `secret` for one day (`YYYYMMDD`), region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let secret = format!("AWS4{secret}");
    let k_date = hmac(secret.as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, TERMINATOR.as_bytes())
}

/// The signature of `string_to_sign` under `key`.
pub fn signature(key: &[u8; 32], string_to_sign: &str) -> [u8; 32] {
    hmac(key, string_to_sign.as_bytes())
}

/// Signs requests for one region and service; caches the derived key per day.
#[derive(Clone, Debug)]
pub struct Signer {
    credentials: Credentials,
    region: String,
    service: String,
    key: Option<(String, [u8; 32])>,
}

/// What a signature produces: the `Authorization` header value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The full `Authorization` header value.
    pub authorization: String,
    /// The hex signature alone.
    pub signature: String,
}

impl Signer {
    /// A signer for `service` in `region`.
    pub fn new(credentials: Credentials, region: &str, service: &str) -> Self {
        Signer { credentials, region: region.to_owned(), service: service.to_owned(), key: None }
    }

    /// The session token to send, if any.
    pub fn session_token(&self) -> Option<&str> {
        self.credentials.session_token.as_deref()
    }

    /// The derived signing key for `date` (`YYYYMMDD`), cached.
    pub fn signing_key(&mut self, date: &str) -> [u8; 32] {
        if let Some((cached, key)) = &self.key {
            if cached == date {
                return *key;
            }
        }
        let key = signing_key(&self.credentials.secret_key, date, &self.region, &self.service);
        self.key = Some((date.to_owned(), key));
        key
    }

    /// Signs a request. `headers` are (lower-case name, value) pairs, sorted by name,
    /// and must include `host` and `x-amz-date` (= `amz_date`). `query` must already be in
    /// canonical form (sorted, encoded).
    pub fn sign(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        payload_sha256_hex: &str,
        amz_date: &str,
    ) -> Signature {
        let request = CanonicalRequest { method, path, query, headers, payload_sha256_hex };
        let (canonical, signed_headers) = request.text();
        let date = amz_date.get(..8).unwrap_or(amz_date);
        let scope = scope(date, &self.region, &self.service);
        let key = self.signing_key(date);
        let signature = hex(&signature(&key, &string_to_sign(amz_date, &scope, &canonical)));
        let authorization = format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            self.credentials.access_key
        );
        Signature { authorization, signature }
    }
}

/// Why a request's signature could not be checked, or did not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Longer than [`SIGV4_AUTHORIZATION_BYTES_MAX`].
    #[error("the authorization is over {SIGV4_AUTHORIZATION_BYTES_MAX} bytes")]
    TooLong,
    /// Not `AWS4-HMAC-SHA256`.
    #[error("unsupported signing algorithm {0:?}")]
    Algorithm(String),
    /// A required element (`Credential`, `SignedHeaders`, `Signature`, `X-Amz-Date`, …) is
    /// absent.
    #[error("the authorization has no {0}")]
    Missing(&'static str),
    /// A part that does not parse.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The credential scope is not `key/date/region/service/aws4_request`.
    #[error("malformed credential scope {0:?}")]
    Credential(String),
    /// More than [`SIGV4_SIGNED_HEADERS_MAX`] signed headers.
    #[error("more than {SIGV4_SIGNED_HEADERS_MAX} signed headers")]
    TooManySignedHeaders,
    /// `SignedHeaders` names a header the request does not have.
    #[error("signed header {0:?} is not in the request")]
    SignedHeaderAbsent(String),
    /// The signature is not 64 hex digits.
    #[error("the signature is not 64 hex digits")]
    SignatureFormat,
    /// The signature does not match the request.
    #[error("the request signature does not match")]
    Mismatch,
}

/// A parsed `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    /// Who signed, for which day, region and service.
    pub credential: CredentialScope,
    /// Lower-case header names, in the order given (sorted, for a correct client).
    pub signed_headers: Vec<String>,
    /// The signature's 32 bytes.
    pub signature: [u8; 32],
}

/// Parses an `Authorization` header value.
pub fn parse_authorization(value: &str) -> Result<Authorization, AuthError> {
    if value.len() > SIGV4_AUTHORIZATION_BYTES_MAX {
        return Err(AuthError::TooLong);
    }
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').ok_or(AuthError::Missing("Credential"))?;
    if algorithm != ALGORITHM {
        return Err(AuthError::Algorithm(algorithm.to_owned()));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let Some((name, value)) = part.trim().split_once('=') else {
            return Err(AuthError::Malformed("Authorization element"));
        };
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(AuthError::Malformed("Authorization element")),
        };
        if slot.replace(value).is_some() {
            return Err(AuthError::Malformed("Authorization: repeated element"));
        }
    }
    Ok(Authorization {
        credential: parse_credential(credential.ok_or(AuthError::Missing("Credential"))?)?,
        signed_headers: parse_signed_headers(signed_headers.ok_or(AuthError::Missing("SignedHeaders"))?)?,
        signature: parse_signature(signature.ok_or(AuthError::Missing("Signature"))?)?,
    })
}

/// `key/YYYYMMDD/region/service/aws4_request`.
fn parse_credential(value: &str) -> Result<CredentialScope, AuthError> {
    let bad = || AuthError::Credential(value.to_owned());
    let mut parts = value.split('/');
    let mut next = || parts.next().filter(|p| !p.is_empty()).ok_or_else(bad);
    let (access_key, date, region, service, terminator) = (next()?, next()?, next()?, next()?, next()?);
    if terminator != TERMINATOR || parts.next().is_some() {
        return Err(bad());
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    Ok(CredentialScope {
        access_key: access_key.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
    })
}

fn parse_signed_headers(value: &str) -> Result<Vec<String>, AuthError> {
    let names: Vec<&str> = value.split(';').collect();
    if names.len() > SIGV4_SIGNED_HEADERS_MAX {
        return Err(AuthError::TooManySignedHeaders);
    }
    if names.iter().any(|n| n.is_empty() || n.bytes().any(|b| b.is_ascii_uppercase() || b.is_ascii_whitespace())) {
        return Err(AuthError::Malformed("SignedHeaders"));
    }
    Ok(names.into_iter().map(str::to_owned).collect())
}

fn parse_signature(value: &str) -> Result<[u8; 32], AuthError> {
    let bytes = value.as_bytes();
    if bytes.len() != 64 {
        return Err(AuthError::SignatureFormat);
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16).ok_or(AuthError::SignatureFormat);
        out[i] = (digit(pair[0])? << 4 | digit(pair[1])?) as u8;
    }
    Ok(out)
}

/// The signature elements of a presigned URL's query string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedQuery {
    /// Credential, signed headers and signature, as in an `Authorization` header.
    pub authorization: Authorization,
    /// `X-Amz-Date`.
    pub amz_date: String,
    /// `X-Amz-Expires`: seconds the URL stays valid after `amz_date`.
    pub expires_secs: u64,
    /// `X-Amz-Security-Token`, when temporary credentials signed it.
    pub security_token: Option<String>,
}

/// Parses the `X-Amz-*` parameters of a presigned request's raw query string. The
/// canonical query string to verify against is [`canonical_query`] of the same string
/// without `X-Amz-Signature` (see [`canonical_query_excluding`]).
pub fn parse_presigned_query(query: &str) -> Result<PresignedQuery, AuthError> {
    if query.len() > SIGV4_AUTHORIZATION_BYTES_MAX * 4 {
        return Err(AuthError::TooLong);
    }
    let (mut algorithm, mut credential, mut date, mut expires, mut signed, mut signature, mut token) =
        (None, None, None, None, None, None, None);
    for (name, value) in query_pairs(query) {
        let slot = match name.as_ref() {
            "X-Amz-Algorithm" => &mut algorithm,
            "X-Amz-Credential" => &mut credential,
            "X-Amz-Date" => &mut date,
            "X-Amz-Expires" => &mut expires,
            "X-Amz-SignedHeaders" => &mut signed,
            "X-Amz-Signature" => &mut signature,
            "X-Amz-Security-Token" => &mut token,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(AuthError::Malformed("presigned query: repeated parameter"));
        }
    }
    let algorithm = algorithm.ok_or(AuthError::Missing("X-Amz-Algorithm"))?;
    if algorithm != ALGORITHM {
        return Err(AuthError::Algorithm(algorithm.into_owned()));
    }
    let expires = expires.ok_or(AuthError::Missing("X-Amz-Expires"))?;
    Ok(PresignedQuery {
        authorization: Authorization {
            credential: parse_credential(&credential.ok_or(AuthError::Missing("X-Amz-Credential"))?)?,
            signed_headers: parse_signed_headers(&signed.ok_or(AuthError::Missing("X-Amz-SignedHeaders"))?)?,
            signature: parse_signature(&signature.ok_or(AuthError::Missing("X-Amz-Signature"))?)?,
        },
        amz_date: date.ok_or(AuthError::Missing("X-Amz-Date"))?.into_owned(),
        expires_secs: expires.parse().map_err(|_| AuthError::Malformed("X-Amz-Expires"))?,
        security_token: token.map(Cow::into_owned),
    })
}

/// The values of the headers `signed` names, from a request's `headers` (names in any
/// case, in the order received), as [`CanonicalRequest::headers`] wants them: lower-case
/// names, sorted, repeated headers joined with `,` in order, values trimmed.
pub fn signed_header_values<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    signed: &[String],
) -> Result<Vec<(String, String)>, AuthError> {
    let mut out: Vec<(String, String)> = signed.iter().map(|name| (name.clone(), String::new())).collect();
    let mut seen = vec![false; out.len()];
    for (name, value) in headers {
        let Some(i) = out.iter().position(|(signed, _)| signed.eq_ignore_ascii_case(name)) else { continue };
        if seen[i] {
            out[i].1.push(',');
        }
        seen[i] = true;
        out[i].1.push_str(&canonical_header_value(value));
    }
    if let Some(i) = seen.iter().position(|seen| !seen) {
        return Err(AuthError::SignedHeaderAbsent(out[i].0.clone()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The signature expected for `request` sent at `amz_date` under `credential`.
pub fn expected_signature(
    secret: &str,
    credential: &CredentialScope,
    amz_date: &str,
    request: &CanonicalRequest<'_>,
) -> [u8; 32] {
    let key = signing_key(secret, &credential.date, &credential.region, &credential.service);
    let (canonical, _) = request.text();
    signature(&key, &string_to_sign(amz_date, &credential.scope(), &canonical))
}

/// Whether two signatures are equal, in time independent of where they differ, so that
/// a client cannot find a valid signature byte by byte from response times.
pub fn signatures_match(expected: &[u8; 32], presented: &[u8; 32]) -> bool {
    expected.ct_eq(presented).into()
}

/// Checks `authorization` against the request it came with.
pub fn verify(
    secret: &str,
    authorization: &Authorization,
    amz_date: &str,
    request: &CanonicalRequest<'_>,
) -> Result<(), AuthError> {
    let expected = expected_signature(secret, &authorization.credential, amz_date, request);
    if signatures_match(&expected, &authorization.signature) {
        Ok(())
    } else {
        Err(AuthError::Mismatch)
    }
}

/// A header value as the canonical request carries it: trimmed, inner runs of spaces
/// collapsed to one.
pub fn canonical_header_value(value: &str) -> Cow<'_, str> {
    let trimmed = value.trim();
    if !trimmed.contains("  ") {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    let mut last_space = false;
    for c in trimmed.chars() {
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
    }
    Cow::Owned(out)
}

/// Percent-encodes `input` as SigV4 does: everything but `A-Z a-z 0-9 - . _ ~` (and `/`
/// unless `encode_slash`), upper-case hex.
pub fn uri_encode(input: &[u8], encode_slash: bool, out: &mut String) {
    for &b in input {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || (b == b'/' && !encode_slash) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// The canonical URI of a request path as received (still percent-encoded): encoded once
/// more, as every AWS SDK does for services other than S3. Empty becomes `/`.
pub fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::with_capacity(raw_path.len());
    uri_encode(raw_path.as_bytes(), false, &mut out);
    out
}

/// Decoded `(name, value)` pairs of a raw query string; `+` stays a plus.
fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(name), percent_decode(value))
    })
}

fn percent_decode(input: &str) -> Cow<'_, str> {
    if !input.contains('%') {
        return Cow::Borrowed(input);
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b))) {
            (b'%', Some(high), Some(low)) => {
                out.push((high << 4 | low) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The canonical query string of a raw query string: every name and value decoded, then
/// encoded as SigV4 wants, sorted by name then value, joined with `&`.
pub fn canonical_query(raw_query: &str) -> String {
    canonical_query_excluding(raw_query, None)
}

/// [`canonical_query`] without the parameter called `excluded` (a presigned URL's
/// `X-Amz-Signature`, which cannot sign itself).
pub fn canonical_query_excluding(raw_query: &str, excluded: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query)
        .filter(|(name, _)| Some(name.as_ref()) != excluded)
        .map(|(name, value)| {
            let (mut n, mut v) = (String::with_capacity(name.len()), String::with_capacity(value.len()));
            uri_encode(name.as_bytes(), true, &mut n);
            uri_encode(value.as_bytes(), true, &mut v);
            (n, v)
        })
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(raw_query.len() + 8);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cold]
fn unreachable_hmac() -> ! {
    panic!("HMAC-SHA256 rejected a key, which it never does")
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// `YYYYMMDDTHHMMSSZ` for `time` (UTC).
pub fn amz_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Seconds since the Unix epoch of an `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`, ISO 8601 basic
/// format, UTC), or `None` when it is not one.
pub fn parse_amz_date(value: &str) -> Option<u64> {
    let bytes = value.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = value.get(range)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    epoch_secs(year, month, day, hour, minute, second)
}

/// Seconds since the Unix epoch of an HTTP `Date` header in its preferred form
/// (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110's IMF-fixdate), or `None`.
pub fn parse_http_date(value: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mut parts = value.trim().split(' ');
    let (_weekday, day, month, year, time, zone) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || zone != "GMT" || day.len() != 2 || year.len() != 4 || time.len() != 8 {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let mut clock = time.split(':');
    let mut next = || -> Option<u32> {
        let part = clock.next().filter(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))?;
        part.parse().ok()
    };
    let (hour, minute, second) = (next()?, next()?, next()?);
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(day) || !digits(year) {
        return None;
    }
    epoch_secs(year.parse().ok()?, month, day.parse().ok()?, hour, minute, second)
}

fn epoch_secs(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<u64> {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if day == 0 || day > month_days[month as usize - 1] {
        return None;
    }
    let days = days_from_civil(year as i64, month, day);
    Some(days as u64 * 86_400 + u64::from(hour * 3600 + minute * 60 + second))
}

/// (year, month, day) → days since 1970-01-01, proleptic Gregorian (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether two secrets (session tokens) are equal, in time independent of where they
/// differ. Only their lengths can be told apart by timing.
pub fn secrets_match(expected: &[u8], presented: &[u8]) -> bool {
    expected.ct_eq(presented).into()
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn example_signer(service: &str) -> Signer {
        Signer::new(
            Credentials { access_key: "AKIDEXAMPLE".into(), secret_key: SECRET.into(), session_token: None },
            "us-east-1",
            service,
        )
    }

    /// AWS SigV4 test suite, `get-vanilla`.
    #[test]
    fn aws_test_suite_get_vanilla() {
        let mut signer = example_signer("service");
        let sig = signer.sign(
            "GET",
            "/",
            "",
            &[("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z")],
            EMPTY_SHA256,
            "20150830T123600Z",
        );
        assert_eq!(sig.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
        assert_eq!(
            sig.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    /// AWS documentation's derived-key example (20150830, us-east-1, iam).
    #[test]
    fn aws_documented_signing_key() {
        let mut signer = example_signer("iam");
        assert_eq!(
            hex(&signer.signing_key("20150830")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    /// A Kinesis PutRecords request exactly as `rheo bench` sends it, signed by botocore 1.43
    /// (`SigV4Auth(Credentials("AKIDEXAMPLE", secret), "kinesis", "us-east-1")`, date pinned).
    #[test]
    fn kinesis_put_records_matches_botocore() {
        let body = br#"{"StreamName":"s","Records":[{"Data":"aGVsbG8=","PartitionKey":"k"}]}"#;
        let mut signer = example_signer("kinesis");
        let date = "20261126T142457Z";
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("host", "127.0.0.1:4567"),
            ("x-amz-date", date),
            ("x-amz-target", "Kinesis_20131202.PutRecords"),
        ];
        let payload = sha256_hex(body);
        let sig = signer.sign("POST", "/", "", &headers, &payload, date);
        assert_eq!(sig.signature, BOTOCORE_PUT_RECORDS_SIGNATURE);
        assert!(sig.authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target,"));

        // The server's side of the same request: parse, rebuild, verify.
        let authorization = parse_authorization(&sig.authorization).unwrap();
        let received = [
            ("Host", "127.0.0.1:4567"),
            ("X-Amz-Target", "Kinesis_20131202.PutRecords"),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Date", date),
            ("User-Agent", "not signed"),
        ];
        let values = signed_header_values(received, &authorization.signed_headers).unwrap();
        let pairs: Vec<(&str, &str)> = values.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let request =
            CanonicalRequest { method: "POST", path: "/", query: "", headers: &pairs, payload_sha256_hex: &payload };
        assert_eq!(verify(SECRET, &authorization, date, &request), Ok(()));
        assert_eq!(verify("another secret", &authorization, date, &request), Err(AuthError::Mismatch));
        let tampered = sha256_hex(b"{}");
        let request = CanonicalRequest { payload_sha256_hex: &tampered, ..request };
        assert_eq!(verify(SECRET, &authorization, date, &request), Err(AuthError::Mismatch));
    }

    const BOTOCORE_PUT_RECORDS_SIGNATURE: &str = "8a364730928d3e4e2e4d4b7a03d70325743142d9cd125ee639d8c2ff9978c641";

    /// The presigned GET example of the S3 documentation (S3 signs the path as sent and an
    /// unsigned payload).
    #[test]
    fn s3_documented_presigned_url() {
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
                     &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
                     &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
                     &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
        let presigned = parse_presigned_query(query).unwrap();
        assert_eq!(presigned.amz_date, "20130524T000000Z");
        assert_eq!(presigned.expires_secs, 86_400);
        assert_eq!(presigned.authorization.credential.access_key, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(presigned.authorization.credential.service, "s3");
        let canonical = canonical_query_excluding(query, Some("X-Amz-Signature"));
        let request = CanonicalRequest {
            method: "GET",
            path: "/test.txt",
            query: &canonical,
            headers: &[("host", "examplebucket.s3.amazonaws.com")],
            payload_sha256_hex: UNSIGNED_PAYLOAD,
        };
        assert_eq!(
            verify("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &presigned.authorization, &presigned.amz_date, &request),
            Ok(())
        );
    }

    #[test]
    fn malformed_authorizations_are_typed_errors() {
        let good = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                    SignedHeaders=host;x-amz-date, \
                    Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let parsed = parse_authorization(good).unwrap();
        assert_eq!(
            parsed.credential,
            CredentialScope {
                access_key: "AKIDEXAMPLE".into(),
                date: "20150830".into(),
                region: "us-east-1".into(),
                service: "service".into()
            }
        );
        assert_eq!(parsed.signed_headers, ["host", "x-amz-date"]);
        assert!(matches!(parse_authorization(&good.replace("AWS4-HMAC-SHA256", "AWS3")), Err(AuthError::Algorithm(_))));
        assert!(matches!(
            parse_authorization(&good.replace("/aws4_request", "/aws5_request")),
            Err(AuthError::Credential(_))
        ));
        assert!(matches!(parse_authorization(&good.replace("20150830", "2015083")), Err(AuthError::Credential(_))));
        assert_eq!(parse_authorization(&good.replace("Signature=5f", "Signature=zz")), Err(AuthError::SignatureFormat));
        assert_eq!(
            parse_authorization(&good.replace(", SignedHeaders=host;x-amz-date", "")),
            Err(AuthError::Missing("SignedHeaders"))
        );
        assert!(matches!(parse_authorization(&good.replace("host;", "Host;")), Err(AuthError::Malformed(_))));
        assert!(matches!(parse_authorization("AWS4-HMAC-SHA256"), Err(AuthError::Missing(_))));
        let many = vec!["h"; SIGV4_SIGNED_HEADERS_MAX + 1].join(";");
        assert_eq!(parse_authorization(&good.replace("host;x-amz-date", &many)), Err(AuthError::TooManySignedHeaders));
        assert_eq!(parse_authorization(&"x".repeat(SIGV4_AUTHORIZATION_BYTES_MAX + 1)), Err(AuthError::TooLong));
        assert_eq!(
            signed_header_values([("Host", "h")], &parsed.signed_headers),
            Err(AuthError::SignedHeaderAbsent("x-amz-date".into()))
        );
    }

    #[test]
    fn key_cache_follows_the_date() {
        let mut signer = example_signer("iam");
        let a = signer.signing_key("20150830");
        let b = signer.signing_key("20150831");
        assert_ne!(a, b);
        assert_eq!(signer.signing_key("20150830"), a);
    }

    #[test]
    fn dates_parse_back() {
        for secs in [0u64, 1_440_938_160, 1_709_251_199, 4_102_444_800] {
            let formatted = amz_date(UNIX_EPOCH + Duration::from_secs(secs));
            assert_eq!(parse_amz_date(&formatted), Some(secs), "{formatted}");
        }
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), Some(1_440_938_160));
        for bad in
            ["20150830T123600", "2015-08-30T12:36:00Z", "20150230T123600Z", "20150830T246000Z", "2015083OT123600Z"]
        {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
        for bad in ["Sun, 30 Aug 2015 12:36:00 UTC", "Sunday, 30-Aug-15 12:36:00 GMT", "Sun, 30 Foo 2015 12:36:00 GMT"]
        {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
        assert!(secrets_match(b"token", b"token"));
        assert!(!secrets_match(b"token", b"tokem"));
        assert!(!secrets_match(b"token", b"token2"));
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let credentials =
            Credentials { access_key: "AKID".into(), secret_key: SECRET.into(), session_token: Some("TOKEN".into()) };
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKID") && !shown.contains(SECRET) && !shown.contains("TOKEN"), "{shown}");
    }

    #[test]
    fn amz_date_formats_utc() {
        assert_eq!(amz_date(UNIX_EPOCH), "19700101T000000Z");
        // 2015-08-30T12:36:00Z
        assert_eq!(amz_date(UNIX_EPOCH + Duration::from_secs(1_440_938_160)), "20150830T123600Z");
        // leap day 2024-02-29T23:59:59Z
        assert_eq!(amz_date(UNIX_EPOCH + Duration::from_secs(1_709_251_199)), "20240229T235959Z");
    }

    proptest! {
        #[test]
        fn signing_and_verifying_agree(
            target in "[A-Za-z]{1,20}",
            body in proptest::collection::vec(any::<u8>(), 0..200),
            query in "[a-z]{1,3}=[ a-z%]{0,4}(&[a-z]{1,3}=[a-z ]{0,4}){0,3}",
        ) {
            let date = "20261126T142457Z";
            let mut signer = example_signer("kinesis");
            let payload = sha256_hex(&body);
            let canonical = canonical_query(&query);
            let headers = [("host", "localhost"), ("x-amz-date", date), ("x-amz-target", target.as_str())];
            let sig = signer.sign("POST", "/", &canonical, &headers, &payload, date);
            let authorization = parse_authorization(&sig.authorization).unwrap();
            let request = CanonicalRequest { method: "POST", path: "/", query: &canonical, headers: &headers, payload_sha256_hex: &payload };
            prop_assert_eq!(verify(SECRET, &authorization, date, &request), Ok(()));
        }

        #[test]
        fn parsers_never_panic(value in "\\PC{0,200}") {
            let _ = parse_amz_date(&value);
            let _ = parse_http_date(&value);
            let _ = parse_authorization(&value);
            let _ = parse_presigned_query(&value);
            let _ = canonical_query(&value);
            let _ = canonical_uri(&value);
        }
    }
}
