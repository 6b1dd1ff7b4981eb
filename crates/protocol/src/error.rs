//! Error responses: the error types Kinesis clients understand and their wire encoding.
//!
//! Every failure the server reports goes through [`WireError`], so the mapping from an
//! engine error to `__type`, message key and HTTP status lives in one place. Clients read
//! the type from `__type` (JSON or CBOR alike); AWS writes the message under `message`,
//! except for type-coercion `SerializationException`s where Coral writes `Message`.

use crate::operation::WireFormat;
use crate::wire::{CborSink, JsonSink, Sink};

macro_rules! error_types {
    ($( $(#[$meta:meta])* $variant:ident = $wire:literal, $status:literal; )*) => {
        /// An error type Kinesis clients recognise: the modelled exceptions of the
        /// Kinesis API plus the common errors every AWS JSON service can return.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorType {
            $( $(#[$meta])* $variant, )*
        }

        impl ErrorType {
            /// Every error type.
            pub const ALL: &'static [ErrorType] = &[$(ErrorType::$variant,)*];

            /// The `__type` value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( ErrorType::$variant => $wire, )*
                }
            }

            /// The HTTP status AWS answers with.
            pub fn http_status(self) -> u16 {
                match self {
                    $( ErrorType::$variant => $status, )*
                }
            }

            /// The error type for a `__type` value.
            pub fn from_wire(value: &str) -> Option<Self> {
                match value {
                    $( $wire => Some(ErrorType::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

error_types! {
    /// The caller lacks permission.
    AccessDenied = "AccessDeniedException", 400;
    /// The request had `DryRun` set and would have succeeded (status unverified).
    DryRunOperation = "DryRunOperationException", 400;
    /// The shard iterator is older than five minutes.
    ExpiredIterator = "ExpiredIteratorException", 400;
    /// The pagination token is older than five minutes.
    ExpiredNextToken = "ExpiredNextTokenException", 400;
    /// A modelled server fault (data plane, and as a `SubscribeToShard` event).
    InternalFailureException = "InternalFailureException", 500;
    /// A parameter is out of bounds, unsupported or inconsistent.
    InvalidArgument = "InvalidArgumentException", 400;
    /// KMS denied access to the stream's key.
    KmsAccessDenied = "KMSAccessDeniedException", 400;
    /// The stream's KMS key is disabled.
    KmsDisabled = "KMSDisabledException", 400;
    /// The stream's KMS key is not in a usable state.
    KmsInvalidState = "KMSInvalidStateException", 400;
    /// The stream's KMS key does not exist.
    KmsNotFound = "KMSNotFoundException", 400;
    /// The account is not subscribed to KMS.
    KmsOptInRequired = "KMSOptInRequired", 400;
    /// KMS throttled the request.
    KmsThrottling = "KMSThrottlingException", 400;
    /// A quota or a control-plane rate was exceeded.
    LimitExceeded = "LimitExceededException", 400;
    /// A shard's read or write throughput was exceeded.
    ProvisionedThroughputExceeded = "ProvisionedThroughputExceededException", 400;
    /// The resource is not in a state that allows the operation.
    ResourceInUse = "ResourceInUseException", 400;
    /// The stream, shard, consumer or policy does not exist.
    ResourceNotFound = "ResourceNotFoundException", 400;
    /// The queue API was throttled.
    Throttling = "ThrottlingException", 400;
    /// The request failed constraint validation or is unsupported for the capacity mode.
    Validation = "ValidationException", 400;
    /// The body could not be parsed or a member has the wrong type.
    Serialization = "SerializationException", 400;
    /// The `X-Amz-Target` names no Kinesis 2013-12-02 operation.
    UnknownOperation = "UnknownOperationException", 400;
    /// Neither an `Authorization` header nor a presigned query was sent.
    MissingAuthenticationToken = "MissingAuthenticationTokenException", 400;
    /// The signature is missing parts.
    IncompleteSignature = "IncompleteSignatureException", 400;
    /// The signature does not match.
    InvalidSignature = "InvalidSignatureException", 400;
    /// The access key is unknown.
    UnrecognizedClient = "UnrecognizedClientException", 400;
    /// The access key id is invalid.
    InvalidClientTokenId = "InvalidClientTokenId", 403;
    /// The request date is too far from the server's clock.
    RequestExpired = "RequestExpired", 400;
    /// The service cannot take requests right now.
    ServiceUnavailable = "ServiceUnavailable", 503;
    /// An unmodelled server fault; AWS sends it without a message.
    InternalFailure = "InternalFailure", 500;
    /// Analytics: the application code does not compile or does not create the streams
    /// its outputs name.
    CodeValidation = "CodeValidationException", 400;
    /// Analytics and Firehose: a stale version id or create timestamp.
    ConcurrentModification = "ConcurrentModificationException", 400;
    /// Analytics: the application's configuration cannot run (no input, no code, …).
    InvalidApplicationConfiguration = "InvalidApplicationConfigurationException", 400;
    /// Analytics: the operation is not supported for this application.
    UnsupportedOperation = "UnsupportedOperationException", 400;
    /// Analytics: more tags than an application may carry.
    TooManyTags = "TooManyTagsException", 400;
    /// Analytics: DiscoverInputSchema found no usable schema; carries the records it read.
    UnableToDetectSchema = "UnableToDetectSchemaException", 400;
    /// Analytics: a source stream throttled DiscoverInputSchema's reads.
    ResourceProvisionedThroughputExceeded = "ResourceProvisionedThroughputExceededException", 400;
    /// Analytics and Firehose: the modelled service fault (the model marks it `fault`,
    /// hence 503), unlike Kinesis's unmodelled `ServiceUnavailable`.
    ServiceUnavailableException = "ServiceUnavailableException", 503;
}

impl ErrorType {
    /// This error with a message under the usual `message` key.
    pub fn with_message(self, message: impl Into<String>) -> WireError {
        WireError {
            error_type: self.as_str().to_owned(),
            message: Some(message.into()),
            capital_message_key: false,
            http_status: self.http_status(),
            string_lists: Vec::new(),
            documents: Vec::new(),
        }
    }

    /// This error with no message at all (`{"__type":"…"}`).
    pub fn without_message(self) -> WireError {
        WireError {
            error_type: self.as_str().to_owned(),
            message: None,
            capital_message_key: false,
            http_status: self.http_status(),
            string_lists: Vec::new(),
            documents: Vec::new(),
        }
    }
}

/// An error response ready to encode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError {
    /// The `__type` value, e.g. `ResourceNotFoundException`.
    pub error_type: String,
    /// The message; `None` writes no message member.
    pub message: Option<String>,
    /// Write the message under `Message` instead of `message` (type-coercion
    /// `SerializationException`s).
    pub capital_message_key: bool,
    /// The HTTP status code.
    pub http_status: u16,
    /// Members beside the message that are lists of strings, written after it in this
    /// order (UnableToDetectSchemaException's `RawInputRecords` and
    /// `ProcessedInputRecords`); empty for almost every error.
    pub string_lists: Vec<(&'static str, Vec<String>)>,
    /// Members that are JSON documents, written after the string lists in this order
    /// (DynamoDB's `Item` of ConditionalCheckFailedException and `CancellationReasons` of
    /// TransactionCanceledException); empty for almost every error.
    pub documents: Vec<(&'static str, serde_json::Value)>,
}

impl WireError {
    /// An error of a known type with a message.
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        error_type.with_message(message)
    }

    /// This error with one more list-of-strings member.
    pub fn with_string_list(mut self, key: &'static str, values: Vec<String>) -> Self {
        self.string_lists.push((key, values));
        self
    }

    /// This error with one more JSON document member.
    pub fn with_document(mut self, key: &'static str, value: serde_json::Value) -> Self {
        self.documents.push((key, value));
        self
    }

    fn message_key(&self) -> &'static str {
        if self.capital_message_key {
            "Message"
        } else {
            "message"
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(message) => write!(formatter, "{}: {message}", self.error_type),
            None => formatter.write_str(&self.error_type),
        }
    }
}

impl std::error::Error for WireError {}

/// Encodes an error body: `{"__type":"…","message":"…"}` (or `Message`), then any
/// string-list members, as JSON or as a CBOR map with the same keys.
pub fn encode_error(error: &WireError, format: WireFormat) -> Vec<u8> {
    let message = error.message.as_deref();
    let capacity = 32
        + error.error_type.len()
        + message.map_or(0, str::len)
        + error.string_lists.iter().flat_map(|(_, values)| values).map(|value| value.len() + 4).sum::<usize>()
        + error.documents.len() * 64;
    match format {
        WireFormat::Json => {
            let mut sink = JsonSink::with_capacity(capacity);
            write_error(&mut sink, error);
            sink.into_bytes()
        }
        WireFormat::Cbor => {
            let mut sink = CborSink::with_capacity(capacity);
            write_error(&mut sink, error);
            sink.into_bytes()
        }
    }
}

fn write_error<S: Sink>(sink: &mut S, error: &WireError) {
    sink.begin_map(1 + usize::from(error.message.is_some()) + error.string_lists.len() + error.documents.len());
    sink.key("__type");
    sink.text(&error.error_type);
    if let Some(message) = &error.message {
        sink.key(error.message_key());
        sink.text(message);
    }
    for (key, values) in &error.string_lists {
        sink.key(key);
        sink.begin_list(values.len());
        for value in values {
            sink.list_item();
            sink.text(value);
        }
        sink.end_list();
    }
    for (key, value) in &error.documents {
        sink.key(key);
        sink.document(value);
    }
    sink.end_map();
}

/// Why a request body was rejected, carrying AWS's exact message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The body is not one well-formed JSON object or CBOR map: `SerializationException`
    /// without a message.
    #[error("SerializationException: the body could not be parsed")]
    Unparseable,
    /// A member has the wrong type: `SerializationException` with the message under `Message`.
    #[error("SerializationException: {0}")]
    TypeMismatch(String),
    /// Constraint violations: `ValidationException` with the message under `message`.
    #[error("ValidationException: {0}")]
    Validation(String),
}

impl DecodeError {
    /// The error response AWS sends for this failure.
    pub fn to_wire_error(&self) -> WireError {
        match self {
            DecodeError::Unparseable => ErrorType::Serialization.without_message(),
            DecodeError::TypeMismatch(message) => {
                WireError { capital_message_key: true, ..ErrorType::Serialization.with_message(message.clone()) }
            }
            DecodeError::Validation(message) => ErrorType::Validation.with_message(message.clone()),
        }
    }
}

impl From<DecodeError> for WireError {
    fn from(error: DecodeError) -> Self {
        error.to_wire_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_error_bodies() {
        let not_found = ErrorType::ResourceNotFound.with_message("Stream a under account 000000000000 not found.");
        assert_eq!(
            String::from_utf8(encode_error(&not_found, WireFormat::Json)).ok().as_deref(),
            Some(
                r#"{"__type":"ResourceNotFoundException","message":"Stream a under account 000000000000 not found."}"#
            )
        );
        let bare = ErrorType::InternalFailure.without_message();
        assert_eq!(bare.http_status, 500);
        assert_eq!(
            String::from_utf8(encode_error(&bare, WireFormat::Json)).ok().as_deref(),
            Some(r#"{"__type":"InternalFailure"}"#)
        );
        let coercion = DecodeError::TypeMismatch("Expected null".into()).to_wire_error();
        assert_eq!(
            String::from_utf8(encode_error(&coercion, WireFormat::Json)).ok().as_deref(),
            Some(r#"{"__type":"SerializationException","Message":"Expected null"}"#)
        );
    }

    #[test]
    fn cbor_error_bodies_match_kinesalite_bytes() {
        // kinesalite's hard-coded CBOR answers use indefinite maps; ours are definite but
        // carry the same key and value strings.
        let body = encode_error(&ErrorType::Serialization.without_message(), WireFormat::Cbor);
        let mut expected = vec![0xa1, 0x66];
        expected.extend_from_slice(b"__type");
        expected.push(0x76);
        expected.extend_from_slice(b"SerializationException");
        assert_eq!(body, expected);
    }

    #[test]
    fn statuses_and_names_round_trip() {
        for error_type in ErrorType::ALL {
            assert_eq!(ErrorType::from_wire(error_type.as_str()), Some(*error_type));
        }
        assert_eq!(ErrorType::InternalFailureException.http_status(), 500);
        assert_eq!(ErrorType::ServiceUnavailable.http_status(), 503);
        assert_eq!(ErrorType::ResourceNotFound.http_status(), 400);
        assert_eq!(ErrorType::ServiceUnavailableException.http_status(), 503);
        assert_eq!(ErrorType::CodeValidation.http_status(), 400);
    }

    #[test]
    fn document_members_follow_the_message() {
        let error = ErrorType::Validation
            .with_message("m")
            .with_document("Item", serde_json::json!({"k": {"S": "v"}}))
            .with_document("Reasons", serde_json::json!([{"Code": "None"}]));
        assert_eq!(
            String::from_utf8(encode_error(&error, WireFormat::Json)).ok().as_deref(),
            Some(
                r#"{"__type":"ValidationException","message":"m","Item":{"k":{"S":"v"}},"Reasons":[{"Code":"None"}]}"#
            )
        );
    }

    #[test]
    fn string_list_members_follow_the_message() {
        let error = ErrorType::UnableToDetectSchema
            .with_message("no schema")
            .with_string_list("RawInputRecords", vec!["a,b".into(), "\"q\"".into()])
            .with_string_list("ProcessedInputRecords", Vec::new());
        assert_eq!(
            String::from_utf8(encode_error(&error, WireFormat::Json)).ok().as_deref(),
            Some(
                r#"{"__type":"UnableToDetectSchemaException","message":"no schema","RawInputRecords":["a,b","\"q\""],"ProcessedInputRecords":[]}"#
            )
        );
    }
}
