//! The Firehose JSON 1.1 request and response shapes (`Firehose_20150804.*`).
//!
//! Pure serde types: no I/O. Destination configurations stay JSON values here, so
//! UpdateDestination can merge them the way AWS does before they are checked by
//! [`crate::config`].

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Record data: base64 in JSON, bytes here.
#[derive(Debug, Clone, Default)]
pub struct Blob(pub Vec<u8>);

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        base64_simd::STANDARD.decode_to_vec(text.as_bytes()).map(Blob).map_err(serde::de::Error::custom)
    }
}

/// A tag.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KinesisStreamSourceConfiguration {
    #[serde(rename = "KinesisStreamARN")]
    pub kinesis_stream_arn: Option<String>,
    #[serde(rename = "RoleARN")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionConfigurationInput {
    #[serde(rename = "KeyARN")]
    pub key_arn: Option<String>,
    pub key_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CreateDeliveryStreamInput {
    pub delivery_stream_name: Option<String>,
    pub delivery_stream_type: Option<String>,
    pub direct_put_source_configuration: Option<Value>,
    pub kinesis_stream_source_configuration: Option<KinesisStreamSourceConfiguration>,
    #[serde(rename = "MSKSourceConfiguration")]
    pub msk_source_configuration: Option<Value>,
    pub database_source_configuration: Option<Value>,
    pub delivery_stream_encryption_configuration_input: Option<EncryptionConfigurationInput>,
    #[serde(rename = "S3DestinationConfiguration")]
    pub s3_destination_configuration: Option<Value>,
    #[serde(rename = "ExtendedS3DestinationConfiguration")]
    pub extended_s3_destination_configuration: Option<Value>,
    pub redshift_destination_configuration: Option<Value>,
    pub http_endpoint_destination_configuration: Option<Value>,
    pub elasticsearch_destination_configuration: Option<Value>,
    pub amazonopensearchservice_destination_configuration: Option<Value>,
    pub amazon_open_search_serverless_destination_configuration: Option<Value>,
    pub splunk_destination_configuration: Option<Value>,
    pub snowflake_destination_configuration: Option<Value>,
    pub iceberg_destination_configuration: Option<Value>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateDestinationInput {
    pub delivery_stream_name: Option<String>,
    pub current_delivery_stream_version_id: Option<String>,
    pub destination_id: Option<String>,
    #[serde(rename = "S3DestinationUpdate")]
    pub s3_destination_update: Option<Value>,
    #[serde(rename = "ExtendedS3DestinationUpdate")]
    pub extended_s3_destination_update: Option<Value>,
    pub redshift_destination_update: Option<Value>,
    pub http_endpoint_destination_update: Option<Value>,
    pub elasticsearch_destination_update: Option<Value>,
    pub amazonopensearchservice_destination_update: Option<Value>,
    pub amazon_open_search_serverless_destination_update: Option<Value>,
    pub splunk_destination_update: Option<Value>,
    pub snowflake_destination_update: Option<Value>,
    pub iceberg_destination_update: Option<Value>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteDeliveryStreamInput {
    pub delivery_stream_name: Option<String>,
    pub allow_force_delete: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeDeliveryStreamInput {
    pub delivery_stream_name: Option<String>,
    pub limit: Option<i64>,
    pub exclusive_start_destination_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListDeliveryStreamsInput {
    pub limit: Option<i64>,
    pub delivery_stream_type: Option<String>,
    pub exclusive_start_delivery_stream_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RecordInput {
    pub data: Option<Blob>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordInput {
    pub delivery_stream_name: Option<String>,
    pub record: Option<RecordInput>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordBatchInput {
    pub delivery_stream_name: Option<String>,
    pub records: Option<Vec<RecordInput>>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct StartEncryptionInput {
    pub delivery_stream_name: Option<String>,
    pub delivery_stream_encryption_configuration_input: Option<EncryptionConfigurationInput>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct StopEncryptionInput {
    pub delivery_stream_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TagDeliveryStreamInput {
    pub delivery_stream_name: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct UntagDeliveryStreamInput {
    pub delivery_stream_name: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsInput {
    pub delivery_stream_name: Option<String>,
    pub exclusive_start_tag_key: Option<String>,
    pub limit: Option<i64>,
}

/// One entry of a PutRecordBatch response.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordBatchEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// The Firehose operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirehoseOperation {
    CreateDeliveryStream,
    DeleteDeliveryStream,
    DescribeDeliveryStream,
    ListDeliveryStreams,
    UpdateDestination,
    PutRecord,
    PutRecordBatch,
    StartDeliveryStreamEncryption,
    StopDeliveryStreamEncryption,
    TagDeliveryStream,
    UntagDeliveryStream,
    ListTagsForDeliveryStream,
}

/// The `X-Amz-Target` prefix of every Firehose operation.
pub const TARGET_PREFIX: &str = "Firehose_20150804.";

impl FirehoseOperation {
    /// Every operation.
    pub const ALL: [FirehoseOperation; 12] = [
        FirehoseOperation::CreateDeliveryStream,
        FirehoseOperation::DeleteDeliveryStream,
        FirehoseOperation::DescribeDeliveryStream,
        FirehoseOperation::ListDeliveryStreams,
        FirehoseOperation::UpdateDestination,
        FirehoseOperation::PutRecord,
        FirehoseOperation::PutRecordBatch,
        FirehoseOperation::StartDeliveryStreamEncryption,
        FirehoseOperation::StopDeliveryStreamEncryption,
        FirehoseOperation::TagDeliveryStream,
        FirehoseOperation::UntagDeliveryStream,
        FirehoseOperation::ListTagsForDeliveryStream,
    ];

    /// The operation's name.
    pub fn name(self) -> &'static str {
        match self {
            FirehoseOperation::CreateDeliveryStream => "CreateDeliveryStream",
            FirehoseOperation::DeleteDeliveryStream => "DeleteDeliveryStream",
            FirehoseOperation::DescribeDeliveryStream => "DescribeDeliveryStream",
            FirehoseOperation::ListDeliveryStreams => "ListDeliveryStreams",
            FirehoseOperation::UpdateDestination => "UpdateDestination",
            FirehoseOperation::PutRecord => "PutRecord",
            FirehoseOperation::PutRecordBatch => "PutRecordBatch",
            FirehoseOperation::StartDeliveryStreamEncryption => "StartDeliveryStreamEncryption",
            FirehoseOperation::StopDeliveryStreamEncryption => "StopDeliveryStreamEncryption",
            FirehoseOperation::TagDeliveryStream => "TagDeliveryStream",
            FirehoseOperation::UntagDeliveryStream => "UntagDeliveryStream",
            FirehoseOperation::ListTagsForDeliveryStream => "ListTagsForDeliveryStream",
        }
    }

    /// The operation a full `X-Amz-Target` value names, if it is a Firehose target.
    pub fn from_target(target: &str) -> Option<Result<Self, ()>> {
        let name = target.strip_prefix(TARGET_PREFIX)?;
        Some(Self::ALL.into_iter().find(|op| op.name() == name).ok_or(()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn targets_and_blobs_decode() {
        assert_eq!(
            FirehoseOperation::from_target("Firehose_20150804.PutRecord"),
            Some(Ok(FirehoseOperation::PutRecord))
        );
        assert_eq!(FirehoseOperation::from_target("Firehose_20150804.Nope"), Some(Err(())));
        assert_eq!(FirehoseOperation::from_target("Kinesis_20131202.PutRecord"), None);
        let input: PutRecordBatchInput =
            serde_json::from_str(r#"{"DeliveryStreamName":"s","Records":[{"Data":"aGk="}]}"#).unwrap();
        assert_eq!(input.records.unwrap()[0].data.as_ref().unwrap().0, b"hi");
        assert!(serde_json::from_str::<PutRecordInput>(r#"{"Record":{"Data":"***"}}"#).is_err());
    }
}
