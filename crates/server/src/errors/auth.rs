//! The AWS error types and texts of refused signatures, as AWS's JSON services answer them
//! (types and texts from AWS's answers quoted in public bug reports; where AWS's text is
//! not known, a text that says what was wrong).

use rheo_aws::limits::{SIGV4_AUTHORIZATION_BYTES_MAX, SIGV4_SIGNED_HEADERS_MAX};
use rheo_aws::sigv4::AuthError;
use rheo_protocol::{ErrorType, WireError};

use crate::auth::verify::ExpiryWindow;
use crate::auth::{AuthFailure, CLOCK_SKEW_SECS, PRESIGNED_EXPIRES_SECS_MAX};

/// AWS's text for a signature that does not match.
const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. \
                        Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// The one mapping from signature failures to AWS error types and texts.
pub fn auth_wire_error(failure: &AuthFailure) -> WireError {
    let (error_type, message) = match failure {
        AuthFailure::Malformed(error) => malformed(error),
        AuthFailure::Credential(credential) => (
            ErrorType::IncompleteSignature,
            format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
            ),
        ),
        AuthFailure::Date(date) => (
            ErrorType::IncompleteSignature,
            format!("Date must be in ISO-8601 'basic format'. Got '{date}'. See http://en.wikipedia.org/wiki/ISO_8601"),
        ),
        AuthFailure::ExpiresTooLong(_) => (
            ErrorType::IncompleteSignature,
            format!("X-Amz-Expires must be less than a week (in seconds) that is {PRESIGNED_EXPIRES_SECS_MAX}"),
        ),
        AuthFailure::ScopeDate { scope_date, amz_date } => (
            ErrorType::InvalidSignature,
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
                 '{scope_date}' != '{}', from '{amz_date}'.",
                amz_date.get(..8).unwrap_or(amz_date)
            ),
        ),
        AuthFailure::Region(region) => {
            (ErrorType::InvalidSignature, format!("Credential should be scoped to a valid region, not '{region}'. "))
        }
        AuthFailure::Service(service) => {
            (ErrorType::InvalidSignature, format!("Credential should be scoped to correct service: '{service}'. "))
        }
        AuthFailure::HostNotSigned => (
            ErrorType::IncompleteSignature,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ),
        AuthFailure::Expired { amz_date, now, earliest, window } => {
            let window = match window {
                ExpiryWindow::Skew => format!("{} min.", CLOCK_SKEW_SECS / 60),
                ExpiryWindow::Presigned(secs) => format!("{secs} sec."),
            };
            (
                ErrorType::InvalidSignature,
                format!("Signature expired: {amz_date} is now earlier than {earliest} ({now} - {window})"),
            )
        }
        AuthFailure::NotYetCurrent { amz_date, now, latest } => (
            ErrorType::InvalidSignature,
            format!(
                "Signature not yet current: {amz_date} is still later than {latest} ({now} + {} min.)",
                CLOCK_SKEW_SECS / 60
            ),
        ),
        AuthFailure::SignedHeaderAbsent(name) => {
            (ErrorType::InvalidSignature, format!("{MISMATCH}\n\nThe signed header '{name}' is not in the request."))
        }
        AuthFailure::ContentSha256 => (
            ErrorType::InvalidSignature,
            "The provided 'x-amz-content-sha256' header does not match what was computed.".to_owned(),
        ),
        AuthFailure::UnrecognizedClient => {
            (ErrorType::UnrecognizedClient, "The security token included in the request is invalid.".to_owned())
        }
        AuthFailure::Mismatch { canonical, string_to_sign } => (
            ErrorType::InvalidSignature,
            format!(
                "{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n\
                 The String-to-Sign should have been\n'{string_to_sign}'\n"
            ),
        ),
    };
    error_type.with_message(message)
}

fn malformed(error: &AuthError) -> (ErrorType, String) {
    let message = match error {
        AuthError::TooLong => format!("The signature is longer than {SIGV4_AUTHORIZATION_BYTES_MAX} bytes."),
        AuthError::Algorithm(algorithm) => {
            format!("Unsupported AWS 'algorithm': '{algorithm}'. The only algorithm accepted is AWS4-HMAC-SHA256.")
        }
        AuthError::Missing(part) => format!("The signature has no '{part}'."),
        AuthError::Malformed(part) => format!("The signature's {part} is malformed."),
        AuthError::Credential(credential) => format!("Malformed credential '{credential}'."),
        AuthError::TooManySignedHeaders => format!("More than {SIGV4_SIGNED_HEADERS_MAX} signed headers."),
        AuthError::SignedHeaderAbsent(name) => format!("The signed header '{name}' is not in the request."),
        // A signature that is not 64 hex digits cannot match any.
        AuthError::SignatureFormat | AuthError::Mismatch => return (ErrorType::InvalidSignature, MISMATCH.to_owned()),
    };
    (ErrorType::IncompleteSignature, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_follow_aws() {
        let error = auth_wire_error(&AuthFailure::Expired {
            amz_date: "20140325T143453Z".into(),
            now: "20140325T145251Z".into(),
            earliest: "20140325T143751Z".into(),
            window: ExpiryWindow::Skew,
        });
        assert_eq!(error.error_type, "InvalidSignatureException");
        assert_eq!(
            error.message.as_deref(),
            Some(
                "Signature expired: 20140325T143453Z is now earlier than 20140325T143751Z (20140325T145251Z - 15 min.)"
            )
        );
        let error = auth_wire_error(&AuthFailure::UnrecognizedClient);
        assert_eq!((error.error_type.as_str(), error.http_status), ("UnrecognizedClientException", 400));
        let error = auth_wire_error(&AuthFailure::Region("eu-west-1".into()));
        assert_eq!(error.message.as_deref(), Some("Credential should be scoped to a valid region, not 'eu-west-1'. "));
        let error = auth_wire_error(&AuthFailure::Mismatch { canonical: "C".into(), string_to_sign: "S".into() });
        assert!(error.message.unwrap().starts_with(MISMATCH));
        let error = auth_wire_error(&AuthFailure::Malformed(AuthError::Algorithm("AWS3".into())));
        assert_eq!(error.error_type, "IncompleteSignatureException");
    }
}
