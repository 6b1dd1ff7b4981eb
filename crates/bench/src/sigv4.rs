//! AWS Signature Version 4, hand-rolled with `hmac` + `sha2`.
//!
//! Bodies are hashed once when they are built ([`sha256_hex`]); signing a request then costs
//! one SHA-256 of a ~300-byte canonical request and one HMAC with a signing key cached per
//! day, i.e. a few microseconds.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// SHA-256 of the empty string, the payload hash of a body-less request.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Access key, secret key and optional session token.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_key: String,
    /// `AWS_SESSION_TOKEN`, sent (and signed) as `x-amz-security-token`.
    pub session_token: Option<String>,
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
        let secret = format!("AWS4{}", self.credentials.secret_key);
        let k_date = hmac(secret.as_bytes(), date.as_bytes());
        let k_region = hmac(&k_date, self.region.as_bytes());
        let k_service = hmac(&k_region, self.service.as_bytes());
        let key = hmac(&k_service, b"aws4_request");
        self.key = Some((date.to_owned(), key));
        key
    }

    /// Signs a request. `headers` are (lower-case name, trimmed value) pairs, sorted by name,
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
        let mut canonical = String::with_capacity(512);
        canonical.push_str(method);
        canonical.push('\n');
        canonical.push_str(path);
        canonical.push('\n');
        canonical.push_str(query);
        canonical.push('\n');
        let mut signed_headers = String::with_capacity(96);
        for (i, (name, value)) in headers.iter().enumerate() {
            canonical.push_str(name);
            canonical.push(':');
            canonical.push_str(value.trim());
            canonical.push('\n');
            if i > 0 {
                signed_headers.push(';');
            }
            signed_headers.push_str(name);
        }
        canonical.push('\n');
        canonical.push_str(&signed_headers);
        canonical.push('\n');
        canonical.push_str(payload_sha256_hex);

        let date = amz_date.get(..8).unwrap_or(amz_date);
        let scope = format!("{date}/{}/{}/aws4_request", self.region, self.service);
        let string_to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", sha256_hex(canonical.as_bytes()));
        let key = self.signing_key(date);
        let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            self.credentials.access_key
        );
        Signature { authorization, signature }
    }
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
mod tests {
    use super::*;
    use std::time::Duration;

    fn example_signer(service: &str) -> Signer {
        Signer::new(
            Credentials {
                access_key: "AKIDEXAMPLE".into(),
                secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
                session_token: None,
            },
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

    /// A Kinesis PutRecords request exactly as this tool sends it, signed by botocore 1.43
    /// (`SigV4Auth(Credentials("AKIDEXAMPLE", secret), "kinesis", "us-east-1")`, date pinned).
    #[test]
    fn kinesis_put_records_matches_botocore() {
        let body = br#"{"StreamName":"s","Records":[{"Data":"aGVsbG8=","PartitionKey":"k"}]}"#;
        let mut signer = example_signer("kinesis");
        let date = "20261126T142457Z";
        let sig = signer.sign(
            "POST",
            "/",
            "",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("host", "127.0.0.1:4567"),
                ("x-amz-date", date),
                ("x-amz-target", "Kinesis_20131202.PutRecords"),
            ],
            &sha256_hex(body),
            date,
        );
        assert_eq!(sig.signature, BOTOCORE_PUT_RECORDS_SIGNATURE);
        assert!(sig.authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target,"));
    }

    const BOTOCORE_PUT_RECORDS_SIGNATURE: &str = "8a364730928d3e4e2e4d4b7a03d70325743142d9cd125ee639d8c2ff9978c641";

    #[test]
    fn key_cache_follows_the_date() {
        let mut signer = example_signer("iam");
        let a = signer.signing_key("20150830");
        let b = signer.signing_key("20150831");
        assert_ne!(a, b);
        assert_eq!(signer.signing_key("20150830"), a);
    }

    #[test]
    fn amz_date_formats_utc() {
        assert_eq!(amz_date(UNIX_EPOCH), "19700101T000000Z");
        // 2015-08-30T12:36:00Z
        assert_eq!(amz_date(UNIX_EPOCH + Duration::from_secs(1_440_938_160)), "20150830T123600Z");
        // leap day 2024-02-29T23:59:59Z
        assert_eq!(amz_date(UNIX_EPOCH + Duration::from_secs(1_709_251_199)), "20240229T235959Z");
    }
}
