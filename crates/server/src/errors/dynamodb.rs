//! The AWS error shapes of DynamoDB, written once from the facts `rheo-dynamodb` reports
//! ([`DynamoError`]) and from the protocol's decoding errors.
//!
//! DynamoDB differs from Kinesis, Firehose and Analytics in its `__type`: it is qualified by
//! the Coral namespace that raised it, and clients (botocore, the Java and Rust SDKs) keep
//! the part after `#`. The namespaces, as AWS's developer guide ("Error handling with
//! DynamoDB") and the answers dynalite recorded from AWS show them:
//! - `com.amazonaws.dynamodb.v20120810#…` for the service's own exceptions
//!   (ResourceNotFoundException, ConditionalCheckFailedException, …);
//! - `com.amazon.coral.validate#ValidationException` for every validation failure;
//! - `com.amazon.coral.service#…` for what the request layer rejects before the service
//!   runs: SerializationException, UnknownOperationException and the authentication errors.
//!
//! Message members follow botocore's DynamoDB model: `message` everywhere except
//! TransactionCanceledException, whose member is `Message`, and the type-coercion
//! SerializationException, which Coral writes under `Message` for every service.

use rheo_dynamodb::error::CancellationReason;
use rheo_dynamodb::value::{item_to_wire, Item};
use rheo_dynamodb::DynamoError;
use rheo_protocol::{DecodeError, ErrorType, WireError};

/// The namespace of DynamoDB's own exceptions.
const DYNAMODB_NAMESPACE: &str = "com.amazonaws.dynamodb.v20120810";
/// The namespace of validation failures.
const VALIDATE_NAMESPACE: &str = "com.amazon.coral.validate";
/// The namespace of the request layer (parsing, operation lookup, authentication).
const CORAL_SERVICE_NAMESPACE: &str = "com.amazon.coral.service";

/// DynamoDB's text for a request without authentication (dynalite's recording of AWS);
/// Kinesis says `Missing Authentication Token`.
const MISSING_AUTHENTICATION_TEXT: &str = "Request is missing Authentication Token";

/// The message of InternalServerError when the detail is only for the server log.
const INTERNAL_SERVER_ERROR_TEXT: &str = "Internal server error";

/// One DynamoDB error shape: its unqualified name, namespace and HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    name: &'static str,
    namespace: &'static str,
    http_status: u16,
}

const VALIDATION: Shape = Shape { name: "ValidationException", namespace: VALIDATE_NAMESPACE, http_status: 400 };
const SERIALIZATION: Shape =
    Shape { name: "SerializationException", namespace: CORAL_SERVICE_NAMESPACE, http_status: 400 };
const RESOURCE_NOT_FOUND: Shape =
    Shape { name: "ResourceNotFoundException", namespace: DYNAMODB_NAMESPACE, http_status: 400 };
const RESOURCE_IN_USE: Shape =
    Shape { name: "ResourceInUseException", namespace: DYNAMODB_NAMESPACE, http_status: 400 };
const CONDITIONAL_CHECK_FAILED: Shape =
    Shape { name: "ConditionalCheckFailedException", namespace: DYNAMODB_NAMESPACE, http_status: 400 };
const TRANSACTION_CANCELED: Shape =
    Shape { name: "TransactionCanceledException", namespace: DYNAMODB_NAMESPACE, http_status: 400 };
const IDEMPOTENT_PARAMETER_MISMATCH: Shape =
    Shape { name: "IdempotentParameterMismatchException", namespace: DYNAMODB_NAMESPACE, http_status: 400 };
const LIMIT_EXCEEDED: Shape = Shape { name: "LimitExceededException", namespace: DYNAMODB_NAMESPACE, http_status: 400 };
const INTERNAL_SERVER_ERROR: Shape =
    Shape { name: "InternalServerError", namespace: DYNAMODB_NAMESPACE, http_status: 500 };

impl Shape {
    /// `namespace#name`, the `__type` value.
    fn qualified(self) -> String {
        format!("{}#{}", self.namespace, self.name)
    }

    fn with_message(self, message: impl Into<String>) -> WireError {
        WireError {
            error_type: self.qualified(),
            message: Some(message.into()),
            capital_message_key: false,
            http_status: self.http_status,
            string_lists: Vec::new(),
            documents: Vec::new(),
        }
    }

    fn without_message(self) -> WireError {
        WireError { message: None, ..self.with_message(String::new()) }
    }
}

/// The one mapping from DynamoDB's errors to AWS's error shapes; exhaustive, so a new
/// variant does not compile until it has its type here. The messages are the variants'
/// own texts (DynamoDB's, written where the fact is known).
pub fn dynamodb_wire_error(error: &DynamoError) -> WireError {
    match error {
        DynamoError::Validation(_) => VALIDATION.with_message(error.to_string()),
        // A part of DynamoDB Rheo does not serve is refused as a validation failure
        // rather than an unknown operation: AWS sends UnknownOperationException without a
        // message, which reads like a wrong endpoint or API version, while this names the
        // operation or feature and says Rheo refuses it. SDKs retry neither.
        DynamoError::Unsupported(_) => VALIDATION.with_message(error.to_string()),
        DynamoError::ResourceNotFound(_) => RESOURCE_NOT_FOUND.with_message(error.to_string()),
        DynamoError::ResourceInUse(_) => RESOURCE_IN_USE.with_message(error.to_string()),
        DynamoError::LimitExceeded(_) => LIMIT_EXCEEDED.with_message(error.to_string()),
        DynamoError::IdempotentParameterMismatch => IDEMPOTENT_PARAMETER_MISMATCH.with_message(error.to_string()),
        DynamoError::ConditionalCheckFailed { item } => {
            let wire = CONDITIONAL_CHECK_FAILED.with_message(error.to_string());
            match item {
                Some(item) => wire.with_document("Item", item_json(item)),
                None => wire,
            }
        }
        DynamoError::TransactionCanceled { reasons } => {
            let reasons = reasons.iter().map(reason_json).collect();
            WireError { capital_message_key: true, ..TRANSACTION_CANCELED.with_message(error.to_string()) }
                .with_document("CancellationReasons", serde_json::Value::Array(reasons))
        }
        // The store's own text says what an operator must know (writes stopped, data
        // damaged, shutting down); a retry after a restart can succeed.
        DynamoError::Store(_) => INTERNAL_SERVER_ERROR.with_message(error.to_string()),
        // A broken invariant: the detail goes to the server log (the caller logs 5xx).
        DynamoError::Internal(_) => INTERNAL_SERVER_ERROR.with_message(INTERNAL_SERVER_ERROR_TEXT),
    }
}

/// A wire item as the JSON object of attribute values the error body carries.
fn item_json(item: &Item) -> serde_json::Value {
    serde_json::Value::Object(item_to_wire(item).into_iter().map(|(name, value)| (name, value.into_json())).collect())
}

/// One `CancellationReasons` entry: `Code` always, `Message` and `Item` when known (AWS
/// sends `{"Code":"None"}` for the actions that did not fail).
fn reason_json(reason: &CancellationReason) -> serde_json::Value {
    let mut entry = serde_json::Map::new();
    entry.insert("Code".into(), reason.code.into());
    if let Some(message) = &reason.message {
        entry.insert("Message".into(), message.as_str().into());
    }
    if let Some(item) = &reason.item {
        entry.insert("Item".into(), item_json(item));
    }
    serde_json::Value::Object(entry)
}

/// A request body that failed decoding, in DynamoDB's namespaces: Coral's
/// SerializationException (bare, or with `Message` for a member of the wrong type) and
/// Coral's ValidationException for the model's constraints.
pub fn dynamodb_decode_error(error: &DecodeError) -> WireError {
    match error {
        DecodeError::Unparseable => SERIALIZATION.without_message(),
        DecodeError::TypeMismatch(message) => {
            WireError { capital_message_key: true, ..SERIALIZATION.with_message(message.clone()) }
        }
        DecodeError::Validation(message) => VALIDATION.with_message(message.clone()),
    }
}

/// An error of the front door (empty or unparseable body, unknown operation,
/// authentication) as DynamoDB sends it: the Coral request layer's namespace, and
/// DynamoDB's text for a missing token. Errors already qualified pass unchanged.
pub fn dynamodb_front_door_error(error: WireError) -> WireError {
    if error.error_type.contains('#') {
        return error;
    }
    let namespace = match ErrorType::from_wire(&error.error_type) {
        Some(ErrorType::Validation) => VALIDATE_NAMESPACE,
        Some(ErrorType::InternalFailure) => {
            return INTERNAL_SERVER_ERROR.with_message(INTERNAL_SERVER_ERROR_TEXT);
        }
        Some(ErrorType::MissingAuthenticationToken) => {
            return WireError {
                error_type: format!("{CORAL_SERVICE_NAMESPACE}#{}", error.error_type),
                message: Some(MISSING_AUTHENTICATION_TEXT.into()),
                ..error
            };
        }
        Some(
            ErrorType::Serialization
            | ErrorType::UnknownOperation
            | ErrorType::IncompleteSignature
            | ErrorType::InvalidSignature
            | ErrorType::UnrecognizedClient
            | ErrorType::AccessDenied
            | ErrorType::RequestExpired
            | ErrorType::InvalidClientTokenId,
        ) => CORAL_SERVICE_NAMESPACE,
        _ => DYNAMODB_NAMESPACE,
    };
    WireError { error_type: format!("{namespace}#{}", error.error_type), ..error }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rheo_dynamodb::store::StoreError;
    use rheo_protocol::{encode_error, WireFormat};

    use super::*;

    fn answer(error: DynamoError) -> (String, u16, Option<String>) {
        let wire = dynamodb_wire_error(&error);
        (wire.error_type, wire.http_status, wire.message)
    }

    fn body(wire: &WireError) -> serde_json::Value {
        serde_json::from_slice(&encode_error(wire, WireFormat::Json)).unwrap()
    }

    #[test]
    fn each_variant_has_its_type_status_and_text() {
        let cases = [
            (
                DynamoError::Validation(
                    "One or more parameter values were invalid: Missing the key id in the item".into(),
                ),
                "com.amazon.coral.validate#ValidationException",
                400,
                "One or more parameter values were invalid: Missing the key id in the item",
            ),
            (
                DynamoError::ResourceNotFound("Requested resource not found".into()),
                "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                400,
                "Requested resource not found",
            ),
            (
                DynamoError::ResourceInUse("Table already exists: leases".into()),
                "com.amazonaws.dynamodb.v20120810#ResourceInUseException",
                400,
                "Table already exists: leases",
            ),
            (
                DynamoError::LimitExceeded("Subscriber limit exceeded".into()),
                "com.amazonaws.dynamodb.v20120810#LimitExceededException",
                400,
                "Subscriber limit exceeded",
            ),
            (
                DynamoError::IdempotentParameterMismatch,
                "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                400,
                "The request uses the same client token as a previous, but non-identical request",
            ),
            (
                DynamoError::ConditionalCheckFailed { item: None },
                "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                400,
                "The conditional request failed",
            ),
            (
                DynamoError::Unsupported("ExecuteStatement".into()),
                "com.amazon.coral.validate#ValidationException",
                400,
                "ExecuteStatement is not supported by Rheo's DynamoDB API",
            ),
            (
                DynamoError::Store(StoreError::Stopped("fsync failed".into())),
                "com.amazonaws.dynamodb.v20120810#InternalServerError",
                500,
                "writes to the DynamoDB store stopped after a failed commit: fsync failed",
            ),
            (
                DynamoError::Internal("index entry without its item".into()),
                "com.amazonaws.dynamodb.v20120810#InternalServerError",
                500,
                "Internal server error",
            ),
        ];
        for (error, error_type, status, message) in cases {
            assert_eq!(answer(error), (error_type.to_owned(), status, Some(message.to_owned())));
        }
    }

    #[test]
    fn a_failed_condition_without_an_item_has_only_the_message() {
        let wire = dynamodb_wire_error(&DynamoError::ConditionalCheckFailed { item: None });
        assert_eq!(
            body(&wire),
            serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                "message": "The conditional request failed",
            })
        );
    }

    #[test]
    fn a_failed_condition_carries_the_old_item_when_asked() {
        let item = rheo_dynamodb::value::item_from_wire(
            &[("leaseKey".to_owned(), json_document(serde_json::json!({"S": "shardId-0"})))].into_iter().collect(),
        )
        .unwrap();
        let wire = dynamodb_wire_error(&DynamoError::ConditionalCheckFailed { item: Some(item) });
        assert_eq!(
            body(&wire),
            serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                "message": "The conditional request failed",
                "Item": {"leaseKey": {"S": "shardId-0"}},
            })
        );
    }

    fn json_document(json: serde_json::Value) -> rheo_protocol::Document {
        rheo_protocol::Document::new(json)
    }

    #[test]
    fn transaction_cancellations_carry_one_reason_per_action() {
        let reasons = vec![
            CancellationReason { code: "None", message: None, item: None },
            CancellationReason {
                code: "ConditionalCheckFailed",
                message: Some("The conditional request failed".into()),
                item: Some(
                    rheo_dynamodb::value::item_from_wire(
                        &[("n".to_owned(), json_document(serde_json::json!({"N": "1.50"})))].into_iter().collect(),
                    )
                    .unwrap(),
                ),
            },
        ];
        let wire = dynamodb_wire_error(&DynamoError::TransactionCanceled { reasons });
        assert_eq!(wire.http_status, 400);
        assert_eq!(
            body(&wire),
            serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]",
                "CancellationReasons": [
                    {"Code": "None"},
                    {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed", "Item": {"n": {"N": "1.5"}}},
                ],
            })
        );
    }

    #[test]
    fn decode_errors_take_coral_namespaces() {
        let unparseable = dynamodb_decode_error(&DecodeError::Unparseable);
        assert_eq!(
            body(&unparseable),
            serde_json::json!({"__type": "com.amazon.coral.service#SerializationException"})
        );
        let mismatch =
            dynamodb_decode_error(&DecodeError::TypeMismatch("NUMBER_VALUE cannot be converted to String".into()));
        assert_eq!(
            body(&mismatch),
            serde_json::json!({
                "__type": "com.amazon.coral.service#SerializationException",
                "Message": "NUMBER_VALUE cannot be converted to String",
            })
        );
        let invalid = dynamodb_decode_error(&DecodeError::Validation("1 validation error detected: …".into()));
        assert_eq!(invalid.error_type, "com.amazon.coral.validate#ValidationException");
        assert_eq!((invalid.http_status, invalid.message.as_deref()), (400, Some("1 validation error detected: …")));
    }

    #[test]
    fn front_door_errors_take_coral_namespaces() {
        let qualified = |error: WireError| {
            let wire = dynamodb_front_door_error(error);
            (wire.error_type, wire.http_status, wire.message)
        };
        assert_eq!(
            qualified(ErrorType::UnknownOperation.without_message()),
            ("com.amazon.coral.service#UnknownOperationException".into(), 400, None)
        );
        assert_eq!(
            qualified(ErrorType::Serialization.without_message()),
            ("com.amazon.coral.service#SerializationException".into(), 400, None)
        );
        assert_eq!(
            qualified(ErrorType::MissingAuthenticationToken.with_message("Missing Authentication Token")),
            (
                "com.amazon.coral.service#MissingAuthenticationTokenException".into(),
                400,
                Some("Request is missing Authentication Token".into())
            )
        );
        assert_eq!(
            qualified(
                ErrorType::IncompleteSignature.with_message("Authorization header requires 'Signature' parameter.")
            ),
            (
                "com.amazon.coral.service#IncompleteSignatureException".into(),
                400,
                Some("Authorization header requires 'Signature' parameter.".into())
            )
        );
        assert_eq!(
            qualified(ErrorType::InternalFailure.without_message()),
            ("com.amazonaws.dynamodb.v20120810#InternalServerError".into(), 500, Some("Internal server error".into()))
        );
        // Already qualified: unchanged.
        let own = dynamodb_wire_error(&DynamoError::ResourceNotFound("Requested resource not found".into()));
        assert_eq!(dynamodb_front_door_error(own.clone()), own);
    }
}
