//! The Amazon Data Firehose wire protocol (API version 2015-08-04, JSON 1.1 only) as a
//! pure codec, beside Kinesis's and on the same machinery.
//!
//! [`model`] is transcribed from the botocore model by `crates/protocol/gen/firehose_model.py`:
//! each shape's members, Rust types and constraints are declared once, and the generic
//! type check (`check`) and constraint validation (`validate`) walk those tables, so the
//! `SerializationException` texts and AWS's `N validation errors detected: …` texts come
//! from the model, not from hand-written strings.
//!
//! Which members are opaque [`Document`]s rather than typed, and why,
//! is listed in the generator (`OPAQUE`): configurations of destination and source kinds
//! Rheo does not serve, Secrets Manager configurations and the schema/serde parts of
//! format conversion, which rheo-firehose refuses or ignores without reading them.
//!
//! ```
//! use rheo_protocol::firehose::{decode_request, encode_response, FirehoseOperation, FirehoseRequest, FirehoseResponse};
//! use rheo_protocol::firehose::model::CreateDeliveryStreamOutput;
//!
//! let operation = FirehoseOperation::from_target("Firehose_20150804.CreateDeliveryStream").unwrap().unwrap();
//! let body = br#"{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::b"}}"#;
//! let Ok(FirehoseRequest::CreateDeliveryStream(input)) = decode_request(operation, body) else { panic!("valid") };
//! assert_eq!(input.delivery_stream_name, "s");
//!
//! let output = FirehoseResponse::CreateDeliveryStream(CreateDeliveryStreamOutput { delivery_stream_arn: Some("arn".into()) });
//! assert_eq!(encode_response(&output), br#"{"DeliveryStreamARN":"arn"}"#);
//! ```

pub mod model;
#[cfg(test)]
mod tests;

use crate::check::check_body;
use crate::codec::{encode_structure, parse};
use crate::error::DecodeError;
use crate::json_service::{decode_unvalidated, json_service};
use crate::operation::WireFormat;
use crate::validate::validate_body;
use crate::wire::WireStruct;
use model::*;

pub use crate::types::Document;

/// The `X-Amz-Target` prefix of every Firehose operation (service and dot).
pub const TARGET_PREFIX: &str = "Firehose_20150804.";

/// Package of Firehose's generated Java model classes, visible when AWS prints a list of
/// structures in a validation message.
const MODEL_PACKAGE: &str = "com.amazonaws.firehose.v20150804";

json_service! {
    service: "Firehose",
    operation: FirehoseOperation,
    request: FirehoseRequest,
    response: FirehoseResponse,
    unknown: UnknownFirehoseOperation,
    operations {
        CreateDeliveryStream: CreateDeliveryStreamInput => CreateDeliveryStreamOutput;
        DeleteDeliveryStream: DeleteDeliveryStreamInput => DeleteDeliveryStreamOutput;
        DescribeDeliveryStream: DescribeDeliveryStreamInput => DescribeDeliveryStreamOutput;
        ListDeliveryStreams: ListDeliveryStreamsInput => ListDeliveryStreamsOutput;
        UpdateDestination: UpdateDestinationInput => UpdateDestinationOutput;
        PutRecord: PutRecordInput => PutRecordOutput;
        PutRecordBatch: PutRecordBatchInput => PutRecordBatchOutput;
        StartDeliveryStreamEncryption: StartDeliveryStreamEncryptionInput => StartDeliveryStreamEncryptionOutput;
        StopDeliveryStreamEncryption: StopDeliveryStreamEncryptionInput => StopDeliveryStreamEncryptionOutput;
        TagDeliveryStream: TagDeliveryStreamInput => TagDeliveryStreamOutput;
        UntagDeliveryStream: UntagDeliveryStreamInput => UntagDeliveryStreamOutput;
        ListTagsForDeliveryStream: ListTagsForDeliveryStreamInput => ListTagsForDeliveryStreamOutput;
    }
}

/// A destination configuration that can be validated again after UpdateDestination
/// merged an update into it (the configurations whose model-required members are
/// `Option`s in Rust), and kept as JSON between requests.
pub trait DestinationConfiguration: Sized {
    /// The configuration as the JSON a client would send.
    fn to_json(&self) -> Vec<u8>;

    /// A configuration from JSON, type-checked but not validated (what is stored was
    /// validated when it was accepted).
    fn from_json(body: &[u8]) -> Result<Self, DecodeError>;

    /// Validates the whole configuration against its model shape as if it had been sent
    /// under `path` (e.g. `extendedS3DestinationConfiguration`), giving AWS's
    /// `N validation errors detected: …` text for every violated constraint, including
    /// required members a merge left out.
    fn validate_at(&self, path: &str) -> Result<(), String>;
}

macro_rules! destination_configurations {
    ($($name:ident),*) => {
        $(
            impl DestinationConfiguration for $name {
                fn to_json(&self) -> Vec<u8> {
                    encode_structure(self, WireFormat::Json)
                }

                fn from_json(body: &[u8]) -> Result<Self, DecodeError> {
                    decode_unvalidated(body)
                }

                fn validate_at(&self, path: &str) -> Result<(), String> {
                    validate_value(self, path)
                }
            }
        )*
    };
}

destination_configurations!(
    ExtendedS3DestinationConfiguration,
    S3DestinationConfiguration,
    HttpEndpointDestinationConfiguration,
    RedshiftDestinationConfiguration
);

/// Validates a typed structure the way its request would have been validated: the value
/// is encoded and decoded again through the type check, so the tree validated is exactly
/// the one a client sending this configuration would have produced.
fn validate_value<T: WireStruct>(value: &T, path: &str) -> Result<(), String> {
    let body = encode_structure(value, WireFormat::Json);
    let checked = parse(WireFormat::Json, &body).and_then(|value| check_body(value, T::SHAPE, WireFormat::Json));
    match checked {
        Ok(fields) => validate_body(&fields, T::SHAPE, MODEL_PACKAGE, path),
        // What this crate encodes always type-checks; report it rather than pass it.
        Err(error) => Err(error.to_string()),
    }
}
