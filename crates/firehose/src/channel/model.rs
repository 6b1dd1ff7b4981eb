//! What the channel operations take and return: domain values, not wire shapes (the
//! server converts between the two). The configuration types are also the stored form
//! of a channel (see [`super::state`]), so their serde names never change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::compress::Compression;

/// `RecordFormatType`: what the records of the source stream are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordFormat {
    /// JSON with a Glue Schema Registry header: for S3 Tables destinations only.
    GsrJson,
    /// Each record must be one JSON value.
    Json,
    /// Each record must be UTF-8 text.
    String,
    /// Any bytes.
    ByteArray,
}

/// `CompressionType` of an S3 destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectCompression {
    None,
    Gzip,
    Zstd,
}

impl ObjectCompression {
    /// The codec that writes it.
    pub fn codec(self) -> Compression {
        match self {
            ObjectCompression::None => Compression::Uncompressed,
            ObjectCompression::Gzip => Compression::Gzip,
            ObjectCompression::Zstd => Compression::Zstd,
        }
    }
}

/// One source stream of a channel, as CreateChannel names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamConfig {
    pub stream_arn: String,
    pub record_format: RecordFormat,
    pub gsr_schema_arn: Option<String>,
}

/// `S3StorageConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Storage {
    pub bucket_arn: String,
    pub expected_bucket_owner: String,
    pub output_key_template: Option<String>,
    /// As the caller gave it (`STANDARD`, `INTELLIGENT_TIERING`, `GLACIER_IR`): sent with
    /// each object to an S3-compatible store; folder buckets have no storage classes.
    pub storage_class: Option<String>,
    pub compression: ObjectCompression,
}

/// `DeadLetterQueueS3Configuration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub bucket_arn: String,
    pub expected_bucket_owner: String,
    pub error_output_prefix: Option<String>,
}

/// `S3DestinationConfiguration` as CreateChannel gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Destination {
    pub data_freshness_secs: Option<i64>,
    pub dead_letter: Option<DeadLetter>,
    pub storage: Storage,
}

/// `ChannelEncryptionConfiguration` (KMS is its only type): kept and described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    pub key_id: String,
}

/// `ChannelLoggingConfiguration`: kept and described (Rheo logs through `tracing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logging {
    pub enabled: bool,
    pub log_group_name: Option<String>,
    pub log_stream_name: Option<String>,
}

/// CreateChannel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateChannel {
    pub name: String,
    pub role_arn: String,
    pub streams: Vec<StreamConfig>,
    pub s3: Option<S3Destination>,
    /// An S3 Tables (Iceberg) destination was given.
    pub s3_tables: bool,
    pub encryption: Option<Encryption>,
    pub tags: BTreeMap<String, String>,
    pub logging: Option<Logging>,
}

/// UpdateChannel: only the freshness and the logging settings can change (AWS's
/// `UpdateChannel` reference and the delivery quotas page, "Update constraints").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateChannel {
    pub arn: String,
    /// `S3DestinationConfiguration.DataFreshnessInSeconds`.
    pub s3_freshness_secs: Option<i64>,
    /// An `S3TablesDestinationConfiguration` update was given.
    pub s3_tables: bool,
    pub logging: Option<Logging>,
}

/// `ChannelStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelStatus {
    Creating,
    Active,
    Updating,
    Deleting,
    Failed,
}

/// A source stream as DescribeChannel and ListChannels show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelStream {
    pub config: StreamConfig,
    pub stream_created_ms: u64,
}

/// `S3DestinationDescription`: the configuration with AWS's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3DestinationInfo {
    pub data_freshness_secs: u32,
    pub dead_letter: DeadLetter,
    pub storage: Storage,
}

/// DescribeChannel's `ChannelDescription`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    pub name: String,
    pub arn: String,
    pub id: String,
    pub status: ChannelStatus,
    pub status_reason: Option<String>,
    pub created_ms: u64,
    pub role_arn: String,
    pub streams: Vec<ChannelStream>,
    pub s3: S3DestinationInfo,
    pub encryption: Option<Encryption>,
    pub logging: Logging,
}

/// ListChannels' `ChannelSummary` (the destination type is always S3 in Rheo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSummary {
    pub name: String,
    pub arn: String,
    pub id: String,
    pub status: ChannelStatus,
    pub status_reason: Option<String>,
    pub created_ms: u64,
    pub streams: Vec<(String, u64)>,
}

/// One `StreamFilter` entry: the stream's ARN and, optionally, its creation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamFilter {
    pub stream_arn: String,
    pub stream_created_ms: Option<u64>,
}

/// ListChannels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListChannels {
    pub stream_filter: Vec<StreamFilter>,
    pub max_results: Option<u32>,
    pub next_token: Option<String>,
}

/// ListChannels' answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelList {
    pub channels: Vec<ChannelSummary>,
    pub next_token: Option<String>,
}
