//! The AWS error types and texts of Kinesis Analytics, written once from the facts
//! `rheo-analytics` reports ([`AnalyticsError`]).
//!
//! Which texts are AWS's: none of the business errors. AWS recorded no answers of the SQL
//! API we could compare with, and the service no longer accepts new applications, so
//! every text below is Rheo's, in the style of AWS's messages (a sentence naming the
//! application and what was wrong), and can be replaced one by one if recorded answers
//! turn up. The types are the model's: every operation's listed exceptions
//! (botocore `kinesisanalytics/2015-08-14`), with ServiceUnavailableException the one
//! fault (503). The decoding errors (`SerializationException`, AWS's `N validation
//! errors detected: …`) come from `rheo_protocol::analytics`, not from here.
//!
//! Rheo's texts, by type:
//! - ResourceNotFoundException: `Application A not found.`, `Application A has no input
//!   with id 1.2.` (and output, reference data source, CloudWatch logging option).
//! - ResourceInUseException: `Application A already exists.`, `Application A is RUNNING;
//!   StartApplication is not allowed in that status.`
//! - ConcurrentModificationException: `Application A is at version 3, not 2 …`,
//!   `CreateTimestamp … does not match …`.
//! - CodeValidationException: `<construct> is not supported at line L, column C.`,
//!   `Syntax error at line L, column C: <parser message>`, `Output O is not a stream
//!   created by the application code.` and one sentence per other compile error.
//! - TooManyTagsException, UnableToDetectSchemaException, and Lambda refusals
//!   (InvalidArgumentException).
//! - InvalidArgumentException, LimitExceededException and
//!   InvalidApplicationConfigurationException carry the sentence rheo-analytics wrote
//!   for the rule (the skeleton's `String` payloads).

use rheo_analytics::{AnalyticsError, CodeError, CodeErrorKind};
use rheo_protocol::{ErrorType, WireError};
use rheo_storage::StorageError;

/// The one mapping from Analytics errors to AWS error types and texts; exhaustive, so a
/// new variant does not compile until it has its type and text here.
pub fn analytics_wire_error(error: &AnalyticsError) -> WireError {
    use AnalyticsError as E;
    let (error_type, message) = match error {
        E::NotFound { application } => (ErrorType::ResourceNotFound, format!("Application {application} not found.")),
        E::ElementNotFound { application, what, id } => {
            (ErrorType::ResourceNotFound, format!("Application {application} has no {what} with id {id}."))
        }
        E::Exists { application } => (ErrorType::ResourceInUse, format!("Application {application} already exists.")),
        E::InUse { application, status, operation } => (
            ErrorType::ResourceInUse,
            format!("Application {application} is {status}; {operation} is not allowed in that status."),
        ),
        E::StaleVersion { application, given, current } => (
            ErrorType::ConcurrentModification,
            format!(
                "Application {application} is at version {current}, not {given}: describe the application and retry with its current ApplicationVersionId."
            ),
        ),
        E::CreateTimestampMismatch { application } => (
            ErrorType::ConcurrentModification,
            format!("CreateTimestamp does not match the creation time of application {application}."),
        ),
        E::CodeValidation(code) => (ErrorType::CodeValidation, code_message(code)),
        E::OutputNotCreated { output } => (
            ErrorType::CodeValidation,
            format!("Output {output} is not a stream created by the application code."),
        ),
        E::InvalidArgument(rule) => (ErrorType::InvalidArgument, rule.clone()),
        E::LimitExceeded(rule) => (ErrorType::LimitExceeded, rule.clone()),
        E::AccessDenied(message) => (ErrorType::AccessDenied, message.clone()),
        E::InvalidConfiguration(rule) => (ErrorType::InvalidApplicationConfiguration, rule.clone()),
        E::TooManyTags { count, max } => (
            ErrorType::TooManyTags,
            format!("An application can have at most {max} tags; this request would leave it with {count}."),
        ),
        E::LambdaUnsupported { member } => (
            ErrorType::InvalidArgument,
            format!(
                "{member} is not supported: Rheo runs no AWS Lambda functions, so Lambda input preprocessors and Lambda outputs cannot be used."
            ),
        ),
        E::UnableToDetectSchema { raw, processed } => {
            return ErrorType::UnableToDetectSchema
                .with_message("Unable to detect a schema from the sampled records: none parsed as JSON or CSV with a usable column.")
                .with_string_list("RawInputRecords", raw.clone())
                .with_string_list("ProcessedInputRecords", processed.clone());
        }
        // The log cannot take writes now; a retry after space is freed or a restart can
        // succeed, which is what the modelled fault tells clients.
        E::Storage(StorageError::DiskFull { .. }) | E::Storage(StorageError::Closed) => {
            (ErrorType::ServiceUnavailableException, "Rheo cannot write its analytics log right now; retry later.".into())
        }
        // Unmodelled faults carry no message; the detail goes to the server log.
        E::Storage(_) | E::Internal(_) => return ErrorType::InternalFailure.without_message(),
    };
    error_type.with_message(message)
}

/// Where in the code, as the texts say it: nothing when the error concerns the code as a
/// whole (line 0).
fn at(code: &CodeError) -> String {
    if code.line == 0 {
        String::new()
    } else {
        format!(" at line {}, column {}", code.line, code.column)
    }
}

fn code_message(code: &CodeError) -> String {
    let construct = &code.construct;
    let at = at(code);
    match &code.kind {
        CodeErrorKind::Syntax(parser) => format!("Syntax error{at}: {parser}"),
        CodeErrorKind::Unsupported => format!("{construct} is not supported{at}."),
        CodeErrorKind::UnknownStream => format!("Stream {construct}{at} does not exist."),
        CodeErrorKind::UnknownColumn => format!("Column {construct}{at} does not exist."),
        CodeErrorKind::Type(expected) => format!("Type mismatch{at}: {construct}: {expected}."),
        CodeErrorKind::NoProgressKey => format!(
            "GROUP BY{at} has no key that moves with time: group by ROWTIME, STEP(ROWTIME BY INTERVAL ...), FLOOR(ROWTIME TO ...) or another monotonic column."
        ),
        CodeErrorKind::AggregateWithoutGroupBy => format!(
            "Aggregate {construct}{at} needs a GROUP BY with a key that moves with time (a tumbling window)."
        ),
        CodeErrorKind::DuplicateName => format!("{construct}{at} is already defined."),
        CodeErrorKind::InsertMismatch => format!(
            "INSERT INTO {construct}{at}: the SELECT's columns do not match the target stream's in number or type."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(error: AnalyticsError) -> (String, u16, Option<String>) {
        let wire = analytics_wire_error(&error);
        (wire.error_type, wire.http_status, wire.message)
    }

    fn code(kind: CodeErrorKind, construct: &str, line: u32, column: u32) -> AnalyticsError {
        AnalyticsError::CodeValidation(CodeError { kind, construct: construct.into(), line, column })
    }

    #[test]
    fn each_analytics_fact_has_its_aws_type_and_text() {
        let app = || "app".to_owned();
        let cases = [
            (AnalyticsError::NotFound { application: app() }, "ResourceNotFoundException", "Application app not found."),
            (
                AnalyticsError::ElementNotFound { application: app(), what: "output", id: "1.2".into() },
                "ResourceNotFoundException",
                "Application app has no output with id 1.2.",
            ),
            (AnalyticsError::Exists { application: app() }, "ResourceInUseException", "Application app already exists."),
            (
                AnalyticsError::InUse { application: app(), status: "RUNNING", operation: "StartApplication" },
                "ResourceInUseException",
                "Application app is RUNNING; StartApplication is not allowed in that status.",
            ),
            (
                AnalyticsError::StaleVersion { application: app(), given: 2, current: 3 },
                "ConcurrentModificationException",
                "Application app is at version 3, not 2: describe the application and retry with its current ApplicationVersionId.",
            ),
            (
                AnalyticsError::CreateTimestampMismatch { application: app() },
                "ConcurrentModificationException",
                "CreateTimestamp does not match the creation time of application app.",
            ),
            (
                code(CodeErrorKind::Unsupported, "JOIN", 3, 14),
                "CodeValidationException",
                "JOIN is not supported at line 3, column 14.",
            ),
            (
                code(CodeErrorKind::Syntax("Expected: an expression, found: FROM".into()), "FROM", 2, 8),
                "CodeValidationException",
                "Syntax error at line 2, column 8: Expected: an expression, found: FROM",
            ),
            (
                code(CodeErrorKind::UnknownStream, "\"NOPE\"", 4, 1),
                "CodeValidationException",
                "Stream \"NOPE\" at line 4, column 1 does not exist.",
            ),
            (
                code(CodeErrorKind::DuplicateName, "STREAM \"S\"", 0, 0),
                "CodeValidationException",
                "STREAM \"S\" is already defined.",
            ),
            (
                AnalyticsError::OutputNotCreated { output: "DESTINATION_SQL_STREAM".into() },
                "CodeValidationException",
                "Output DESTINATION_SQL_STREAM is not a stream created by the application code.",
            ),
            (
                AnalyticsError::InvalidArgument("Kinesis stream s under account 000000000000 not found.".into()),
                "InvalidArgumentException",
                "Kinesis stream s under account 000000000000 not found.",
            ),
            (
                AnalyticsError::LimitExceeded("An application can have at most 3 outputs.".into()),
                "LimitExceededException",
                "An application can have at most 3 outputs.",
            ),
            (
                AnalyticsError::InvalidConfiguration("Application app has no input.".into()),
                "InvalidApplicationConfigurationException",
                "Application app has no input.",
            ),
            (
                AnalyticsError::TooManyTags { count: 51, max: 50 },
                "TooManyTagsException",
                "An application can have at most 50 tags; this request would leave it with 51.",
            ),
            (
                AnalyticsError::LambdaUnsupported { member: "LambdaOutput" },
                "InvalidArgumentException",
                "LambdaOutput is not supported: Rheo runs no AWS Lambda functions, so Lambda input preprocessors and Lambda outputs cannot be used.",
            ),
        ];
        for (error, error_type, message) in cases {
            assert_eq!(answer(error), (error_type.to_owned(), 400, Some(message.to_owned())));
        }
    }

    #[test]
    fn every_compile_error_names_its_place() {
        let kinds = [
            CodeErrorKind::Syntax("unexpected end".into()),
            CodeErrorKind::Unsupported,
            CodeErrorKind::UnknownStream,
            CodeErrorKind::UnknownColumn,
            CodeErrorKind::Type("expected a number".into()),
            CodeErrorKind::NoProgressKey,
            CodeErrorKind::AggregateWithoutGroupBy,
            CodeErrorKind::DuplicateName,
            CodeErrorKind::InsertMismatch,
        ];
        for kind in kinds {
            let (error_type, status, message) = answer(code(kind.clone(), "X", 7, 21));
            assert_eq!((error_type.as_str(), status), ("CodeValidationException", 400));
            assert!(message.unwrap_or_default().contains("at line 7, column 21"), "{kind:?}");
        }
    }

    #[test]
    fn schema_failures_carry_the_records() {
        let wire =
            analytics_wire_error(&AnalyticsError::UnableToDetectSchema { raw: vec!["a|b".into()], processed: vec![] });
        assert_eq!(wire.error_type, "UnableToDetectSchemaException");
        assert_eq!(wire.http_status, 400);
        let body = rheo_protocol::encode_error(&wire, rheo_protocol::WireFormat::Json);
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(body["RawInputRecords"], serde_json::json!(["a|b"]));
        assert_eq!(body["ProcessedInputRecords"], serde_json::json!([]));
    }

    #[test]
    fn faults_are_503_or_bare_500() {
        let (error_type, status, message) = answer(AnalyticsError::Storage(StorageError::Closed));
        assert_eq!((error_type.as_str(), status), ("ServiceUnavailableException", 503));
        assert!(message.is_some());
        assert_eq!(answer(AnalyticsError::Internal("lost".into())), ("InternalFailure".to_owned(), 500, None));
    }
}
