//! Destination configurations: AWS's defaults, the merge rules of UpdateDestination,
//! the description shapes DescribeDeliveryStream returns, the checks AWS's model cannot
//! express, and the typed form the delivery task runs from.
//!
//! Configurations are the typed `rheo_protocol::firehose::model` structures the caller
//! sent, with AWS's defaults filled in, so a later UpdateDestination merges into exactly
//! what Describe shows. The model's type and constraint errors come from the protocol
//! crate's shape tables ([`DestinationConfig::validate`]); only AWS business rules
//! (InvalidArgumentException texts) are written here.

use std::time::Duration;

use rheo_protocol::firehose::model::*;
use rheo_protocol::firehose::DestinationConfiguration as _;
use serde::Deserialize;
use serde_json::Value;

use crate::compress::Compression;
use crate::dest::http::HttpEndpoint;
use crate::dest::redshift::CopyTarget;
use crate::error::{FirehoseError, Result};
use crate::limits::*;
use crate::merge::Merge;
use crate::prefix;
use crate::process::{Pipeline, ProcessorSpec};

/// The destination kinds Rheo delivers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum DestinationKind {
    ExtendedS3,
    HttpEndpoint,
    Redshift,
}

impl DestinationKind {
    /// The `*DestinationConfiguration` member naming this kind.
    pub fn configuration_member(self) -> &'static str {
        match self {
            DestinationKind::ExtendedS3 => "ExtendedS3DestinationConfiguration",
            DestinationKind::HttpEndpoint => "HttpEndpointDestinationConfiguration",
            DestinationKind::Redshift => "RedshiftDestinationConfiguration",
        }
    }

    /// The lowerCamel path AWS's validation messages give the configuration.
    fn path(self) -> &'static str {
        match self {
            DestinationKind::ExtendedS3 => "extendedS3DestinationConfiguration",
            DestinationKind::HttpEndpoint => "httpEndpointDestinationConfiguration",
            DestinationKind::Redshift => "redshiftDestinationConfiguration",
        }
    }
}

/// What the checks need to know about the server.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Accept `http://` endpoint URLs (AWS accepts only `https://`).
    pub allow_http_endpoints: bool,
    /// The buffer interval to wait instead of AWS's default 300 s when the caller gave no
    /// `BufferingHints` (`None`: the interval the configuration holds). The configuration,
    /// and so DescribeDeliveryStream, keeps AWS's defaults; only the delivery task's wait
    /// changes.
    pub default_buffer_interval: Option<Duration>,
}

/// A delivery stream's destination configuration, as the caller gave it (merged with
/// later updates) with AWS's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub enum DestinationConfig {
    /// `ExtendedS3DestinationConfiguration`, or an `S3DestinationConfiguration` (a subset).
    ExtendedS3(ExtendedS3DestinationConfiguration),
    /// `HttpEndpointDestinationConfiguration`.
    HttpEndpoint(HttpEndpointDestinationConfiguration),
    /// `RedshiftDestinationConfiguration`.
    Redshift(RedshiftDestinationConfiguration),
}

/// The one destination update of an UpdateDestination request, with the update's
/// structure names already mapped onto the configuration's.
pub enum DestinationUpdate {
    /// `ExtendedS3DestinationUpdate` or `S3DestinationUpdate`.
    ExtendedS3(ExtendedS3DestinationConfiguration),
    /// `HttpEndpointDestinationUpdate`.
    HttpEndpoint(HttpEndpointDestinationConfiguration),
    /// `RedshiftDestinationUpdate`.
    Redshift(RedshiftDestinationConfiguration),
}

impl DestinationUpdate {
    /// Whether the update carries `BufferingHints` of its own (the ones that decide when a
    /// buffer is delivered).
    pub fn gives_buffering_hints(&self) -> bool {
        match self {
            DestinationUpdate::ExtendedS3(update) => update.buffering_hints.is_some(),
            DestinationUpdate::HttpEndpoint(update) => update.buffering_hints.is_some(),
            DestinationUpdate::Redshift(update) => {
                update.s3_configuration.as_ref().is_some_and(|s3| s3.buffering_hints.is_some())
            }
        }
    }
}

impl DestinationConfig {
    /// The kind of destination.
    pub fn kind(&self) -> DestinationKind {
        match self {
            DestinationConfig::ExtendedS3(_) => DestinationKind::ExtendedS3,
            DestinationConfig::HttpEndpoint(_) => DestinationKind::HttpEndpoint,
            DestinationConfig::Redshift(_) => DestinationKind::Redshift,
        }
    }

    /// Checks the whole configuration against the model (types were checked when it was
    /// decoded; a merge can leave required members out): AWS's `N validation errors
    /// detected` text under the configuration's path.
    pub fn validate(&self) -> Result<()> {
        let path = self.kind().path();
        match self {
            DestinationConfig::ExtendedS3(config) => config.validate_at(path),
            DestinationConfig::HttpEndpoint(config) => config.validate_at(path),
            DestinationConfig::Redshift(config) => config.validate_at(path),
        }
        .map_err(FirehoseError::Validation)
    }

    /// The configuration as it is kept in the stream's stored state: the JSON a caller
    /// would send, so stored state written before the configurations were typed reads
    /// back unchanged.
    pub fn to_stored(&self) -> Result<Value> {
        let json = match self {
            DestinationConfig::ExtendedS3(config) => config.to_json(),
            DestinationConfig::HttpEndpoint(config) => config.to_json(),
            DestinationConfig::Redshift(config) => config.to_json(),
        };
        serde_json::from_slice(&json).map_err(|error| FirehoseError::Internal(format!("destination as JSON: {error}")))
    }

    /// Reads a stored configuration back.
    pub fn from_stored(kind: DestinationKind, stored: &Value) -> Result<Self> {
        let json = serde_json::to_vec(stored)
            .map_err(|error| FirehoseError::Internal(format!("stored destination: {error}")))?;
        let invalid =
            |error: rheo_protocol::DecodeError| FirehoseError::Internal(format!("stored destination: {error}"));
        Ok(match kind {
            DestinationKind::ExtendedS3 => {
                DestinationConfig::ExtendedS3(ExtendedS3DestinationConfiguration::from_json(&json).map_err(invalid)?)
            }
            DestinationKind::HttpEndpoint => DestinationConfig::HttpEndpoint(
                HttpEndpointDestinationConfiguration::from_json(&json).map_err(invalid)?,
            ),
            DestinationKind::Redshift => {
                DestinationConfig::Redshift(RedshiftDestinationConfiguration::from_json(&json).map_err(invalid)?)
            }
        })
    }

    /// `S3BackupMode`, whatever the kind's enumeration.
    pub fn s3_backup_mode(&self) -> Option<&'static str> {
        match self {
            DestinationConfig::ExtendedS3(config) => config.s3_backup_mode.map(S3BackupMode::as_str),
            DestinationConfig::HttpEndpoint(config) => config.s3_backup_mode.map(HttpEndpointS3BackupMode::as_str),
            DestinationConfig::Redshift(config) => config.s3_backup_mode.map(RedshiftS3BackupMode::as_str),
        }
    }

    /// The `BufferingHints` that decide when a buffer is delivered, as `(SizeInMBs,
    /// IntervalInSeconds)`; `None` when the caller left them out (before defaults are filled).
    pub fn buffering_hints(&self) -> Option<(Option<i32>, Option<i32>)> {
        match self {
            DestinationConfig::ExtendedS3(config) => {
                config.buffering_hints.as_ref().map(|h| (h.size_in_mbs, h.interval_in_seconds))
            }
            DestinationConfig::HttpEndpoint(config) => {
                config.buffering_hints.as_ref().map(|h| (h.size_in_mbs, h.interval_in_seconds))
            }
            DestinationConfig::Redshift(config) => config
                .s3_configuration
                .as_ref()
                .and_then(|s3| s3.buffering_hints.as_ref())
                .map(|h| (h.size_in_mbs, h.interval_in_seconds)),
        }
    }

    /// Whether dynamic partitioning is enabled (ExtendedS3 only).
    pub fn dynamic_partitioning(&self) -> bool {
        match self {
            DestinationConfig::ExtendedS3(config) => {
                config.dynamic_partitioning_configuration.as_ref().and_then(|d| d.enabled).unwrap_or(false)
            }
            _ => false,
        }
    }

    /// UpdateDestination: an update of the same kind merges into this configuration; an
    /// update of another kind replaces it.
    pub fn apply(self, update: DestinationUpdate) -> DestinationConfig {
        match (self, update) {
            (DestinationConfig::ExtendedS3(mut stored), DestinationUpdate::ExtendedS3(update)) => {
                stored.merge(update);
                DestinationConfig::ExtendedS3(stored)
            }
            (DestinationConfig::HttpEndpoint(mut stored), DestinationUpdate::HttpEndpoint(update)) => {
                stored.merge(update);
                DestinationConfig::HttpEndpoint(stored)
            }
            (DestinationConfig::Redshift(mut stored), DestinationUpdate::Redshift(update)) => {
                stored.merge(update);
                DestinationConfig::Redshift(stored)
            }
            (_, update) => update.into_configuration(),
        }
    }
}

impl DestinationUpdate {
    /// The kind of destination the update is for.
    pub fn kind(&self) -> DestinationKind {
        match self {
            DestinationUpdate::ExtendedS3(_) => DestinationKind::ExtendedS3,
            DestinationUpdate::HttpEndpoint(_) => DestinationKind::HttpEndpoint,
            DestinationUpdate::Redshift(_) => DestinationKind::Redshift,
        }
    }

    fn into_configuration(self) -> DestinationConfig {
        match self {
            DestinationUpdate::ExtendedS3(config) => DestinationConfig::ExtendedS3(config),
            DestinationUpdate::HttpEndpoint(config) => DestinationConfig::HttpEndpoint(config),
            DestinationUpdate::Redshift(config) => DestinationConfig::Redshift(config),
        }
    }

    /// `ExtendedS3DestinationUpdate`.
    pub fn extended_s3(update: ExtendedS3DestinationUpdate) -> Self {
        DestinationUpdate::ExtendedS3(ExtendedS3DestinationConfiguration {
            role_arn: update.role_arn,
            bucket_arn: update.bucket_arn,
            prefix: update.prefix,
            error_output_prefix: update.error_output_prefix,
            buffering_hints: update.buffering_hints,
            compression_format: update.compression_format,
            encryption_configuration: update.encryption_configuration,
            cloud_watch_logging_options: update.cloud_watch_logging_options,
            processing_configuration: update.processing_configuration,
            s3_backup_mode: update.s3_backup_mode,
            s3_backup_configuration: update.s3_backup_update.map(s3_update),
            data_format_conversion_configuration: update.data_format_conversion_configuration,
            dynamic_partitioning_configuration: update.dynamic_partitioning_configuration,
            file_extension: update.file_extension,
            custom_time_zone: update.custom_time_zone,
        })
    }

    /// `S3DestinationUpdate`: updates the ExtendedS3 destination's S3 members.
    pub fn s3(update: S3DestinationUpdate) -> Self {
        DestinationUpdate::ExtendedS3(extended_from_s3(s3_update(update)))
    }

    /// `HttpEndpointDestinationUpdate`.
    pub fn http_endpoint(update: HttpEndpointDestinationUpdate) -> Self {
        DestinationUpdate::HttpEndpoint(HttpEndpointDestinationConfiguration {
            endpoint_configuration: update.endpoint_configuration,
            buffering_hints: update.buffering_hints,
            cloud_watch_logging_options: update.cloud_watch_logging_options,
            request_configuration: update.request_configuration,
            processing_configuration: update.processing_configuration,
            role_arn: update.role_arn,
            retry_options: update.retry_options,
            s3_backup_mode: update.s3_backup_mode,
            s3_configuration: update.s3_update.map(s3_update),
            secrets_manager_configuration: update.secrets_manager_configuration,
        })
    }

    /// `RedshiftDestinationUpdate`.
    pub fn redshift(update: RedshiftDestinationUpdate) -> Self {
        DestinationUpdate::Redshift(RedshiftDestinationConfiguration {
            role_arn: update.role_arn,
            cluster_jdbcurl: update.cluster_jdbcurl,
            copy_command: update.copy_command,
            username: update.username,
            password: update.password,
            retry_options: update.retry_options,
            s3_configuration: update.s3_update.map(s3_update),
            processing_configuration: update.processing_configuration,
            s3_backup_mode: update.s3_backup_mode,
            s3_backup_configuration: update.s3_backup_update.map(s3_update),
            cloud_watch_logging_options: update.cloud_watch_logging_options,
            secrets_manager_configuration: update.secrets_manager_configuration,
        })
    }
}

/// An `S3DestinationUpdate` as the configuration members it updates.
fn s3_update(update: S3DestinationUpdate) -> S3DestinationConfiguration {
    S3DestinationConfiguration {
        role_arn: update.role_arn,
        bucket_arn: update.bucket_arn,
        prefix: update.prefix,
        error_output_prefix: update.error_output_prefix,
        buffering_hints: update.buffering_hints,
        compression_format: update.compression_format,
        encryption_configuration: update.encryption_configuration,
        cloud_watch_logging_options: update.cloud_watch_logging_options,
    }
}

/// An `S3DestinationConfiguration` is served as the ExtendedS3 destination it is a
/// subset of.
pub fn extended_from_s3(config: S3DestinationConfiguration) -> ExtendedS3DestinationConfiguration {
    ExtendedS3DestinationConfiguration {
        role_arn: config.role_arn,
        bucket_arn: config.bucket_arn,
        prefix: config.prefix,
        error_output_prefix: config.error_output_prefix,
        buffering_hints: config.buffering_hints,
        compression_format: config.compression_format,
        encryption_configuration: config.encryption_configuration,
        cloud_watch_logging_options: config.cloud_watch_logging_options,
        processing_configuration: None,
        s3_backup_mode: None,
        s3_backup_configuration: None,
        data_format_conversion_configuration: None,
        dynamic_partitioning_configuration: None,
        file_extension: None,
        custom_time_zone: None,
    }
}

/// Where and how objects are written to a bucket; defined with the object store it
/// writes to, so that destinations need not import the configuration.
pub use crate::dest::s3::S3Sink;

/// When a buffer is delivered: at `bytes` or `interval`, whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct Buffering {
    pub bytes: u64,
    pub interval: Duration,
}

/// The typed form of a destination, as the delivery task runs it.
pub enum Destination {
    S3 { sink: S3Sink, backup: Option<S3Sink>, dynamic_partitioning: bool },
    Http { endpoint: HttpEndpoint, backup: S3Sink, backup_all: bool },
    Redshift { staging: S3Sink, copy: CopyTarget, retry: Duration, backup: Option<S3Sink> },
}

/// A checked destination: its typed form plus processing and buffering.
pub struct Runtime {
    pub kind: DestinationKind,
    pub destination: Destination,
    pub pipeline: Pipeline,
    pub buffering: Buffering,
}

/// The bucket a `BucketARN` names. The model's pattern (`arn:.*:s3:::[\w\.\-]{1,255}`)
/// was checked when the configuration was validated.
pub fn bucket_from_arn(arn: &str) -> Result<String> {
    arn.strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":s3:::"))
        .map(|(_, bucket)| bucket.to_owned())
        .filter(|bucket| !bucket.is_empty())
        .ok_or_else(|| FirehoseError::invalid(format!("BucketARN {arn} does not name a bucket.")))
}

/// S3's rule that a bucket name starts and ends with a letter or digit, which the API
/// model's pattern (`[\w\.\-]{1,255}`) does not enforce. Without it a bucket named `..`
/// (or `.`) was accepted and every delivery to it failed and was retried forever, since it
/// cannot be a folder of the local bucket store, nor a bucket in S3.
fn check_bucket_name(bucket: &str) -> Result<()> {
    if crate::dest::s3::bucket_name_is_valid(bucket) {
        Ok(())
    } else {
        Err(FirehoseError::invalid(format!(
            "Bucket name {bucket} is not valid: a bucket name must begin and end with a letter or a number."
        )))
    }
}

/// `BufferingHints` (their ranges are the model's): both or neither.
fn buffering(size_in_mbs: Option<i32>, interval_in_seconds: Option<i32>) -> Result<Buffering> {
    let (size, interval) = match (size_in_mbs, interval_in_seconds) {
        (None, None) => (BUFFER_MIB_DEFAULT, BUFFER_INTERVAL_SECS_DEFAULT),
        (Some(size), Some(interval)) => (u64::try_from(size).unwrap_or(0), u64::try_from(interval).unwrap_or(0)),
        _ => {
            return Err(FirehoseError::invalid(
                "BufferingHints.SizeInMBs and BufferingHints.IntervalInSeconds must be specified together.",
            ))
        }
    };
    Ok(Buffering { bytes: size * 1024 * 1024, interval: Duration::from_secs(interval) })
}

/// A retry duration (its range is the model's), or the default.
fn retry_duration(duration_in_seconds: Option<i32>, default_secs: u64) -> Duration {
    Duration::from_secs(duration_in_seconds.and_then(|secs| u64::try_from(secs).ok()).unwrap_or(default_secs))
}

fn pipeline(config: Option<&ProcessingConfiguration>, dynamic_partitioning: bool) -> Result<Pipeline> {
    let specs: Vec<ProcessorSpec> = config
        .and_then(|config| config.processors.as_ref())
        .map(|processors| {
            processors
                .iter()
                .map(|processor| ProcessorSpec {
                    kind: processor.r#type.as_str().to_owned(),
                    parameters: processor
                        .parameters
                        .iter()
                        .flatten()
                        .map(|parameter| {
                            (parameter.parameter_name.as_str().to_owned(), parameter.parameter_value.clone())
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    let enabled = config.and_then(|config| config.enabled).unwrap_or(!specs.is_empty());
    Pipeline::new(enabled, &specs, dynamic_partitioning).map_err(FirehoseError::InvalidArgument)
}

/// The S3 members every S3 block has.
struct S3Members<'a> {
    bucket_arn: Option<&'a str>,
    prefix: Option<&'a str>,
    error_output_prefix: Option<&'a str>,
    buffering_hints: Option<&'a BufferingHints>,
    compression_format: Option<CompressionFormat>,
}

/// What only an ExtendedS3 block has.
#[derive(Default)]
struct ExtendedMembers<'a> {
    dynamic_partitioning: bool,
    file_extension: Option<&'a str>,
    custom_time_zone: Option<&'a str>,
    data_format_conversion: Option<&'a DataFormatConversionConfiguration>,
}

fn plain_s3(config: &S3DestinationConfiguration) -> S3Members<'_> {
    S3Members {
        bucket_arn: config.bucket_arn.as_deref(),
        prefix: config.prefix.as_deref(),
        error_output_prefix: config.error_output_prefix.as_deref(),
        buffering_hints: config.buffering_hints.as_ref(),
        compression_format: config.compression_format,
    }
}

/// Checks an S3 block's business rules and builds its sink.
fn s3_sink(s3: S3Members<'_>, extended: ExtendedMembers<'_>) -> Result<(S3Sink, Buffering)> {
    // Required by the model: present once `DestinationConfig::validate` passed.
    let bucket = bucket_from_arn(s3.bucket_arn.unwrap_or_default())?;
    check_bucket_name(&bucket)?;
    let hints = s3.buffering_hints;
    let buffering = buffering(hints.and_then(|h| h.size_in_mbs), hints.and_then(|h| h.interval_in_seconds))?;
    let compression_format = s3.compression_format.unwrap_or(CompressionFormat::Uncompressed);
    let compression = Compression::parse(compression_format.as_str()).ok_or_else(|| {
        FirehoseError::invalid(format!("CompressionFormat {compression_format} is not supported by Rheo."))
    })?;
    prefix::validate(s3.prefix, s3.error_output_prefix, extended.dynamic_partitioning)
        .map_err(FirehoseError::InvalidArgument)?;
    let time_zone = prefix::parse_time_zone(extended.custom_time_zone).map_err(FirehoseError::InvalidArgument)?;
    if extended.data_format_conversion.is_some_and(|c| c.enabled != Some(false)) {
        return Err(FirehoseError::invalid(
            "DataFormatConversionConfiguration (Parquet/ORC conversion) is not supported by Rheo yet.",
        ));
    }
    let extension = match extended.file_extension {
        Some(extension) if !extension.is_empty() => extension.to_owned(),
        _ => compression.extension().to_owned(),
    };
    Ok((
        S3Sink {
            bucket,
            prefix: s3.prefix.filter(|p| !p.is_empty()).map(str::to_owned),
            error_prefix: s3.error_output_prefix.filter(|p| !p.is_empty()).map(str::to_owned),
            compression,
            extension,
            time_zone,
        },
        buffering,
    ))
}

/// The source-record backup of `S3BackupMode` Disabled/Enabled destinations.
fn source_backup(enabled: bool, config: Option<&S3DestinationConfiguration>) -> Result<Option<S3Sink>> {
    match (enabled, config) {
        (true, Some(backup)) => Ok(Some(s3_sink(plain_s3(backup), ExtendedMembers::default())?.0)),
        (true, None) => Err(FirehoseError::invalid("S3BackupConfiguration is required when S3BackupMode is Enabled.")),
        (false, _) => Ok(None),
    }
}

/// A member AWS's model leaves optional but Rheo's destination needs; reported in the
/// model's words.
fn needed<'a>(value: Option<&'a str>, path: &str) -> Result<&'a str> {
    value.ok_or_else(|| {
        FirehoseError::Validation(format!(
            "1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// Checks a destination configuration and builds its typed form: the model's
/// constraints first (one `ValidationException` listing them all), then AWS's rules the
/// model cannot express and what Rheo does not support (`InvalidArgumentException`).
pub fn check(config: &DestinationConfig, options: CheckOptions) -> Result<Runtime> {
    let mut runtime = check_configuration(config, options)?;
    if let Some(interval) = options.default_buffer_interval {
        runtime.buffering.interval = interval;
    }
    Ok(runtime)
}

fn check_configuration(config: &DestinationConfig, options: CheckOptions) -> Result<Runtime> {
    config.validate()?;
    let kind = config.kind();
    let field = kind.path();
    match config {
        DestinationConfig::ExtendedS3(s3) => {
            let dynamic_partitioning = config.dynamic_partitioning();
            let (sink, buffering) = s3_sink(
                S3Members {
                    bucket_arn: s3.bucket_arn.as_deref(),
                    prefix: s3.prefix.as_deref(),
                    error_output_prefix: s3.error_output_prefix.as_deref(),
                    buffering_hints: s3.buffering_hints.as_ref(),
                    compression_format: s3.compression_format,
                },
                ExtendedMembers {
                    dynamic_partitioning,
                    file_extension: s3.file_extension.as_deref(),
                    custom_time_zone: s3.custom_time_zone.as_deref(),
                    data_format_conversion: s3.data_format_conversion_configuration.as_ref(),
                },
            )?;
            if dynamic_partitioning && buffering.interval.is_zero() {
                return Err(FirehoseError::invalid(
                    "Zero buffering (IntervalInSeconds 0) is not supported with dynamic partitioning.",
                ));
            }
            let backup =
                source_backup(s3.s3_backup_mode == Some(S3BackupMode::Enabled), s3.s3_backup_configuration.as_ref())?;
            let pipeline = pipeline(s3.processing_configuration.as_ref(), dynamic_partitioning)?;
            Ok(Runtime {
                kind,
                destination: Destination::S3 { sink, backup, dynamic_partitioning },
                pipeline,
                buffering,
            })
        }
        DestinationConfig::HttpEndpoint(http) => {
            // Required by the model: present once validated.
            let endpoint = http.endpoint_configuration.as_ref();
            let url = endpoint.map(|e| e.url.as_str()).unwrap_or_default();
            // The model's `https://.*` is not enforced at decoding: the server may allow
            // plain HTTP endpoints.
            let secure = url.starts_with("https://");
            if !(secure || (options.allow_http_endpoints && url.starts_with("http://"))) {
                return Err(FirehoseError::Validation(format!(
                    "1 validation error detected: Value '*** sensitive data ***' at '{field}.endpointConfiguration.url' failed to satisfy constraint: Member must satisfy regular expression pattern: https://.*"
                )));
            }
            let hints = http.buffering_hints.as_ref();
            let buffering = buffering(hints.and_then(|h| h.size_in_mbs), hints.and_then(|h| h.interval_in_seconds))?;
            let request = http.request_configuration.as_ref();
            let gzip = request.and_then(|r| r.content_encoding) == Some(ContentEncoding::Gzip);
            let common_attributes = request
                .and_then(|r| r.common_attributes.as_ref())
                .map(|attributes| {
                    attributes.iter().map(|a| (a.attribute_name.clone(), a.attribute_value.clone())).collect()
                })
                .unwrap_or_default();
            let retry = retry_duration(
                http.retry_options.as_ref().and_then(|r| r.duration_in_seconds),
                HTTP_RETRY_SECS_DEFAULT,
            );
            let backup_all = http.s3_backup_mode == Some(HttpEndpointS3BackupMode::AllData);
            let (backup, _) = match http.s3_configuration.as_ref() {
                Some(s3) => s3_sink(plain_s3(s3), ExtendedMembers::default())?,
                None => {
                    return Err(FirehoseError::Internal("validated HTTP destination without S3Configuration".into()))
                }
            };
            if http.secrets_manager_configuration.is_some() {
                return Err(FirehoseError::invalid(
                    "SecretsManagerConfiguration is not supported by Rheo; give EndpointConfiguration.AccessKey.",
                ));
            }
            let pipeline = pipeline(http.processing_configuration.as_ref(), false)?;
            Ok(Runtime {
                kind,
                destination: Destination::Http {
                    endpoint: HttpEndpoint {
                        url: url.to_owned(),
                        name: endpoint.and_then(|e| e.name.clone()),
                        access_key: endpoint.and_then(|e| e.access_key.clone()),
                        common_attributes,
                        gzip,
                        retry_duration: retry,
                        source_arn: String::new(),
                    },
                    backup,
                    backup_all,
                },
                pipeline,
                buffering,
            })
        }
        DestinationConfig::Redshift(redshift) => {
            // Required by the model: present once validated.
            let url = redshift.cluster_jdbcurl.as_deref().unwrap_or_default();
            crate::dest::redshift::parse_jdbc_url(url).map_err(FirehoseError::InvalidArgument)?;
            let copy = redshift.copy_command.as_ref();
            let table = copy.map(|c| c.data_table_name.clone()).unwrap_or_default();
            if redshift.secrets_manager_configuration.is_some() {
                return Err(FirehoseError::invalid(
                    "SecretsManagerConfiguration is not supported by Rheo; give Username and Password.",
                ));
            }
            let username = needed(redshift.username.as_deref(), &format!("{field}.username"))?.to_owned();
            let password = needed(redshift.password.as_deref(), &format!("{field}.password"))?.to_owned();
            let retry = retry_duration(
                redshift.retry_options.as_ref().and_then(|r| r.duration_in_seconds),
                REDSHIFT_RETRY_SECS_DEFAULT,
            );
            let (staging, buffering) = match redshift.s3_configuration.as_ref() {
                Some(s3) => s3_sink(plain_s3(s3), ExtendedMembers::default())?,
                None => {
                    return Err(FirehoseError::Internal(
                        "validated Redshift destination without S3Configuration".into(),
                    ))
                }
            };
            if matches!(staging.compression, Compression::Zip | Compression::Snappy | Compression::HadoopSnappy) {
                return Err(FirehoseError::invalid(
                    "Compression format is not supported for Redshift destination. Supported formats: UNCOMPRESSED, GZIP.",
                ));
            }
            if staging.prefix.as_ref().is_some_and(|p| p.contains("!{")) || staging.error_prefix.is_some() {
                return Err(FirehoseError::invalid(
                    "Redshift destinations take a Prefix without expressions and no ErrorOutputPrefix.",
                ));
            }
            let backup = source_backup(
                redshift.s3_backup_mode == Some(RedshiftS3BackupMode::Enabled),
                redshift.s3_backup_configuration.as_ref(),
            )?;
            let pipeline = pipeline(redshift.processing_configuration.as_ref(), false)?;
            Ok(Runtime {
                kind,
                destination: Destination::Redshift {
                    staging,
                    copy: CopyTarget {
                        jdbc_url: url.to_owned(),
                        username,
                        password,
                        table,
                        columns: copy.and_then(|c| c.data_table_columns.clone()).filter(|c| !c.is_empty()),
                        copy_options: copy.and_then(|c| c.copy_options.clone()).filter(|c| !c.is_empty()),
                    },
                    retry,
                    backup,
                },
                pipeline,
                buffering,
            })
        }
    }
}

fn default_buffering_hints() -> BufferingHints {
    BufferingHints {
        size_in_mbs: Some(BUFFER_MIB_DEFAULT as i32),
        interval_in_seconds: Some(BUFFER_INTERVAL_SECS_DEFAULT as i32),
    }
}

fn no_encryption() -> EncryptionConfiguration {
    EncryptionConfiguration {
        no_encryption_config: Some(NoEncryptionConfig::NoEncryption),
        kms_encryption_config: None,
    }
}

fn fill_s3_defaults(config: &mut S3DestinationConfiguration) {
    config.buffering_hints.get_or_insert_with(default_buffering_hints);
    config.compression_format.get_or_insert(CompressionFormat::Uncompressed);
    config.encryption_configuration.get_or_insert_with(no_encryption);
}

/// Fills the defaults AWS shows in descriptions for members the caller left out.
pub fn fill_defaults(config: &mut DestinationConfig) {
    match config {
        DestinationConfig::ExtendedS3(s3) => {
            s3.buffering_hints.get_or_insert_with(default_buffering_hints);
            s3.compression_format.get_or_insert(CompressionFormat::Uncompressed);
            s3.encryption_configuration.get_or_insert_with(no_encryption);
            s3.s3_backup_mode.get_or_insert(S3BackupMode::Disabled);
            if let Some(backup) = &mut s3.s3_backup_configuration {
                fill_s3_defaults(backup);
            }
        }
        DestinationConfig::HttpEndpoint(http) => {
            http.buffering_hints.get_or_insert(HttpEndpointBufferingHints {
                size_in_mbs: Some(BUFFER_MIB_DEFAULT as i32),
                interval_in_seconds: Some(BUFFER_INTERVAL_SECS_DEFAULT as i32),
            });
            http.retry_options
                .get_or_insert(HttpEndpointRetryOptions { duration_in_seconds: Some(HTTP_RETRY_SECS_DEFAULT as i32) });
            http.s3_backup_mode.get_or_insert(HttpEndpointS3BackupMode::FailedDataOnly);
            http.request_configuration.get_or_insert(HttpEndpointRequestConfiguration {
                content_encoding: Some(ContentEncoding::None),
                common_attributes: None,
            });
            if let Some(s3) = &mut http.s3_configuration {
                fill_s3_defaults(s3);
            }
        }
        DestinationConfig::Redshift(redshift) => {
            redshift
                .retry_options
                .get_or_insert(RedshiftRetryOptions { duration_in_seconds: Some(REDSHIFT_RETRY_SECS_DEFAULT as i32) });
            redshift.s3_backup_mode.get_or_insert(RedshiftS3BackupMode::Disabled);
            if let Some(s3) = &mut redshift.s3_configuration {
                fill_s3_defaults(s3);
            }
            if let Some(backup) = &mut redshift.s3_backup_configuration {
                fill_s3_defaults(backup);
            }
        }
    }
}

/// The description of an S3 block. Its required members are present in a stored
/// configuration (validated, defaults filled); empty values stand in if they were not.
fn s3_description(config: &S3DestinationConfiguration) -> S3DestinationDescription {
    S3DestinationDescription {
        role_arn: config.role_arn.clone().unwrap_or_default(),
        bucket_arn: config.bucket_arn.clone().unwrap_or_default(),
        prefix: config.prefix.clone(),
        error_output_prefix: config.error_output_prefix.clone(),
        buffering_hints: config.buffering_hints.clone().unwrap_or_else(default_buffering_hints),
        compression_format: config.compression_format.unwrap_or(CompressionFormat::Uncompressed),
        encryption_configuration: config.encryption_configuration.clone().unwrap_or_else(no_encryption),
        cloud_watch_logging_options: config.cloud_watch_logging_options.clone(),
    }
}

/// The `DestinationDescription` Describe returns for a stored destination: the same
/// members under the description names, without secrets.
pub fn describe(config: &DestinationConfig) -> DestinationDescription {
    let mut description = DestinationDescription {
        destination_id: DESTINATION_ID.to_owned(),
        s3_destination_description: None,
        extended_s3_destination_description: None,
        redshift_destination_description: None,
        elasticsearch_destination_description: None,
        amazonopensearchservice_destination_description: None,
        splunk_destination_description: None,
        http_endpoint_destination_description: None,
        snowflake_destination_description: None,
        amazon_open_search_serverless_destination_description: None,
        iceberg_destination_description: None,
    };
    match config {
        DestinationConfig::ExtendedS3(s3) => {
            let plain = S3DestinationConfiguration {
                role_arn: s3.role_arn.clone(),
                bucket_arn: s3.bucket_arn.clone(),
                prefix: s3.prefix.clone(),
                error_output_prefix: s3.error_output_prefix.clone(),
                buffering_hints: s3.buffering_hints.clone(),
                compression_format: s3.compression_format,
                encryption_configuration: s3.encryption_configuration.clone(),
                cloud_watch_logging_options: s3.cloud_watch_logging_options.clone(),
            };
            let summary = s3_description(&plain);
            description.extended_s3_destination_description = Some(ExtendedS3DestinationDescription {
                role_arn: summary.role_arn.clone(),
                bucket_arn: summary.bucket_arn.clone(),
                prefix: summary.prefix.clone(),
                error_output_prefix: summary.error_output_prefix.clone(),
                buffering_hints: summary.buffering_hints.clone(),
                compression_format: summary.compression_format,
                encryption_configuration: summary.encryption_configuration.clone(),
                cloud_watch_logging_options: summary.cloud_watch_logging_options.clone(),
                processing_configuration: s3.processing_configuration.clone(),
                s3_backup_mode: s3.s3_backup_mode,
                s3_backup_description: s3.s3_backup_configuration.as_ref().map(s3_description),
                data_format_conversion_configuration: s3.data_format_conversion_configuration.clone(),
                dynamic_partitioning_configuration: s3.dynamic_partitioning_configuration.clone(),
                file_extension: s3.file_extension.clone(),
                custom_time_zone: s3.custom_time_zone.clone(),
            });
            description.s3_destination_description = Some(summary);
        }
        DestinationConfig::HttpEndpoint(http) => {
            let s3 = http.s3_configuration.as_ref().map(s3_description);
            description.s3_destination_description = s3.clone();
            description.http_endpoint_destination_description = Some(HttpEndpointDestinationDescription {
                // The access key is a secret: never described.
                endpoint_configuration: http
                    .endpoint_configuration
                    .as_ref()
                    .map(|e| HttpEndpointDescription { url: Some(e.url.clone()), name: e.name.clone() }),
                buffering_hints: http.buffering_hints.clone(),
                cloud_watch_logging_options: http.cloud_watch_logging_options.clone(),
                request_configuration: http.request_configuration.clone(),
                processing_configuration: http.processing_configuration.clone(),
                role_arn: http.role_arn.clone(),
                retry_options: http.retry_options.clone(),
                s3_backup_mode: http.s3_backup_mode,
                s3_destination_description: s3,
                secrets_manager_configuration: http.secrets_manager_configuration.clone(),
            });
        }
        DestinationConfig::Redshift(redshift) => {
            // The password is a secret: never described.
            description.redshift_destination_description = Some(RedshiftDestinationDescription {
                role_arn: redshift.role_arn.clone().unwrap_or_default(),
                cluster_jdbcurl: redshift.cluster_jdbcurl.clone().unwrap_or_default(),
                copy_command: redshift.copy_command.clone().unwrap_or(CopyCommand {
                    data_table_name: String::new(),
                    data_table_columns: None,
                    copy_options: None,
                }),
                username: redshift.username.clone(),
                retry_options: redshift.retry_options.clone(),
                s3_destination_description: redshift.s3_configuration.as_ref().map(s3_description).unwrap_or_else(
                    || {
                        s3_description(&S3DestinationConfiguration {
                            role_arn: None,
                            bucket_arn: None,
                            prefix: None,
                            error_output_prefix: None,
                            buffering_hints: None,
                            compression_format: None,
                            encryption_configuration: None,
                            cloud_watch_logging_options: None,
                        })
                    },
                ),
                processing_configuration: redshift.processing_configuration.clone(),
                s3_backup_mode: redshift.s3_backup_mode,
                s3_backup_description: redshift.s3_backup_configuration.as_ref().map(s3_description),
                cloud_watch_logging_options: redshift.cloud_watch_logging_options.clone(),
                secrets_manager_configuration: redshift.secrets_manager_configuration.clone(),
            });
        }
    }
    description
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use rheo_protocol::firehose::{decode_request, FirehoseOperation, FirehoseRequest};
    use serde_json::json;

    use super::*;

    const OPTIONS: CheckOptions = CheckOptions { allow_http_endpoints: false, default_buffer_interval: None };

    /// `base` with `extra`'s members laid over it.
    fn overlay(mut base: Value, extra: Value) -> Value {
        if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
            base.extend(extra);
        }
        base
    }

    fn s3(extra: Value) -> Value {
        overlay(json!({"RoleARN": "arn:aws:iam::123456789012:role/r", "BucketARN": "arn:aws:s3:::bucket"}), extra)
    }

    /// A configuration as CreateDeliveryStream decodes it (the model's checks included).
    fn decoded(kind: DestinationKind, config: &Value) -> Result<DestinationConfig> {
        let body = json!({"DeliveryStreamName": "s", kind.configuration_member(): config});
        match decode_request(FirehoseOperation::CreateDeliveryStream, body.to_string().as_bytes()) {
            Ok(FirehoseRequest::CreateDeliveryStream(input)) => Ok(match kind {
                DestinationKind::ExtendedS3 => {
                    DestinationConfig::ExtendedS3(input.extended_s3_destination_configuration.unwrap())
                }
                DestinationKind::HttpEndpoint => {
                    DestinationConfig::HttpEndpoint(input.http_endpoint_destination_configuration.unwrap())
                }
                DestinationKind::Redshift => {
                    DestinationConfig::Redshift(input.redshift_destination_configuration.unwrap())
                }
            }),
            Ok(other) => panic!("{other:?}"),
            Err(error) => Err(FirehoseError::Validation(error.to_string())),
        }
    }

    /// A destination description as it goes on the wire, inside a DescribeDeliveryStream
    /// answer.
    fn description_json(config: &DestinationConfig) -> String {
        let output = DescribeDeliveryStreamOutput {
            delivery_stream_description: DeliveryStreamDescription {
                delivery_stream_name: "s".into(),
                delivery_stream_arn: "arn".into(),
                delivery_stream_status: DeliveryStreamStatus::Active,
                failure_description: None,
                delivery_stream_encryption_configuration: None,
                delivery_stream_type: DeliveryStreamType::DirectPut,
                version_id: "1".into(),
                create_timestamp: None,
                last_update_timestamp: None,
                source: None,
                destinations: vec![describe(config)],
                has_more_destinations: false,
            },
        };
        let body = rheo_protocol::firehose::encode_response(
            &rheo_protocol::firehose::FirehoseResponse::DescribeDeliveryStream(output),
        );
        String::from_utf8(body).unwrap()
    }

    /// CreateDeliveryStream's path: decode, fill defaults, check.
    fn check_new(kind: DestinationKind, config: &Value, options: CheckOptions) -> Result<Runtime> {
        let mut config = decoded(kind, config)?;
        fill_defaults(&mut config);
        check(&config, options)
    }

    #[test]
    fn defaults_fill_and_describe_mirrors_them() {
        let mut config = decoded(DestinationKind::ExtendedS3, &s3(json!({}))).unwrap();
        fill_defaults(&mut config);
        let stored = config.to_stored().unwrap();
        assert_eq!(stored["BufferingHints"], json!({"SizeInMBs": 5, "IntervalInSeconds": 300}));
        assert_eq!(stored["CompressionFormat"], "UNCOMPRESSED");
        let description = describe(&config);
        assert_eq!(description.destination_id, DESTINATION_ID);
        assert_eq!(description.s3_destination_description.unwrap().bucket_arn, "arn:aws:s3:::bucket");
        assert_eq!(
            description.extended_s3_destination_description.unwrap().s3_backup_mode,
            Some(S3BackupMode::Disabled)
        );
        let runtime = check(&config, OPTIONS).unwrap();
        assert_eq!(runtime.buffering.bytes, 5 * 1024 * 1024);
        assert_eq!(DestinationConfig::from_stored(DestinationKind::ExtendedS3, &stored).unwrap(), config);
    }

    #[test]
    fn merge_keeps_what_the_update_omits() {
        let config = decoded(
            DestinationKind::ExtendedS3,
            &s3(json!({"CompressionFormat": "GZIP", "BufferingHints": {"SizeInMBs": 2, "IntervalInSeconds": 60}})),
        )
        .unwrap();
        let body = json!({
            "DeliveryStreamName": "s", "CurrentDeliveryStreamVersionId": "1", "DestinationId": DESTINATION_ID,
            "ExtendedS3DestinationUpdate": {"BufferingHints": {"IntervalInSeconds": 0}, "Prefix": "p/"},
        });
        let Ok(FirehoseRequest::UpdateDestination(update)) =
            decode_request(FirehoseOperation::UpdateDestination, body.to_string().as_bytes())
        else {
            panic!("valid update")
        };
        let update = DestinationUpdate::extended_s3(update.extended_s3_destination_update.unwrap());
        let config = config.apply(update).to_stored().unwrap();
        assert_eq!(config["CompressionFormat"], "GZIP");
        assert_eq!(config["BufferingHints"], json!({"SizeInMBs": 2, "IntervalInSeconds": 0}));
        assert_eq!(config["Prefix"], "p/");
    }

    #[test]
    fn merged_configurations_are_validated_again() {
        // An update of another kind replaces the configuration, which must then be whole.
        let stored = decoded(DestinationKind::ExtendedS3, &s3(json!({}))).unwrap();
        let update = DestinationUpdate::http_endpoint(HttpEndpointDestinationUpdate {
            endpoint_configuration: None,
            buffering_hints: None,
            cloud_watch_logging_options: None,
            request_configuration: None,
            processing_configuration: None,
            role_arn: None,
            retry_options: None,
            s3_backup_mode: None,
            s3_update: None,
            secrets_manager_configuration: None,
        });
        let error = check(&stored.apply(update), OPTIONS).err().unwrap().to_string();
        assert_eq!(
            error,
            "2 validation errors detected: Value null at 'httpEndpointDestinationConfiguration.endpointConfiguration' failed to satisfy constraint: Member must not be null; Value null at 'httpEndpointDestinationConfiguration.s3Configuration' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn checks_refuse_what_aws_refuses() {
        let error = |config: Value| check_new(DestinationKind::ExtendedS3, &config, OPTIONS).err().unwrap().to_string();
        assert!(error(s3(json!({"BufferingHints": {"IntervalInSeconds": 60}}))).contains("together"));
        assert!(error(s3(json!({"BufferingHints": {"SizeInMBs": 129, "IntervalInSeconds": 60}}))).contains("128"));
        assert!(error(s3(json!({"CompressionFormat": "SNAPPY"}))).contains("enum value set"));
        assert!(error(s3(json!({"BucketARN": "bucket"}))).contains("arn:.*:s3"));
        assert!(error(s3(json!({"Prefix": "!{timestamp:yyyy}"}))).contains("ErrorOutputPrefix"));
        for bucket in ["..", ".", ".hidden", "bucket-"] {
            let arn = format!("arn:aws:s3:::{bucket}");
            let refused =
                check_new(DestinationKind::ExtendedS3, &s3(json!({"BucketARN": arn})), OPTIONS).err().unwrap();
            assert!(matches!(refused, FirehoseError::InvalidArgument(_)), "{bucket}: {refused:?}");
            assert!(refused.to_string().contains("begin and end with a letter or a number"), "{refused}");
        }
        for prefix in ["../", "../x/", "a/../b/", "a//b/"] {
            let refused =
                check_new(DestinationKind::ExtendedS3, &s3(json!({"Prefix": prefix})), OPTIONS).err().unwrap();
            assert!(matches!(refused, FirehoseError::InvalidArgument(_)), "{prefix}: {refused:?}");
            let error_prefix = format!("{prefix}!{{firehose:error-output-type}}/");
            let config = s3(json!({"Prefix": "ok/", "ErrorOutputPrefix": error_prefix}));
            assert!(matches!(
                check_new(DestinationKind::ExtendedS3, &config, OPTIONS),
                Err(FirehoseError::InvalidArgument(_))
            ));
            // The backup bucket's prefixes too.
            let backup = s3(json!({"S3BackupMode": "Enabled", "S3BackupConfiguration": s3(json!({"Prefix": prefix}))}));
            assert!(matches!(
                check_new(DestinationKind::ExtendedS3, &backup, OPTIONS),
                Err(FirehoseError::InvalidArgument(_))
            ));
        }
        assert!(error(json!({"BucketARN": "arn:aws:s3:::b"})).contains("roleARN"));
        let http = json!({
            "EndpointConfiguration": {"Url": "http://127.0.0.1:1/", "AccessKey": "secret"},
            "S3Configuration": s3(json!({})),
        });
        assert!(check_new(DestinationKind::HttpEndpoint, &http, OPTIONS).is_err());
        let runtime = check_new(
            DestinationKind::HttpEndpoint,
            &http,
            CheckOptions { allow_http_endpoints: true, default_buffer_interval: None },
        )
        .unwrap();
        assert!(matches!(runtime.destination, Destination::Http { .. }));
        let description = description_json(&decoded(DestinationKind::HttpEndpoint, &http).unwrap());
        assert!(description.find("secret").is_none(), "the access key is never described");
        // RoleARN is required by the model for Redshift destinations.
        let redshift = json!({
            "RoleARN": "arn:aws:iam::123456789012:role/r",
            "ClusterJDBCURL": "jdbc:postgresql://127.0.0.1:5432/db",
            "CopyCommand": {"DataTableName": "t"},
            "Username": "u", "Password": "hunter22",
            "S3Configuration": s3(json!({"CompressionFormat": "Snappy"})),
        });
        assert!(check_new(DestinationKind::Redshift, &redshift, OPTIONS)
            .err()
            .unwrap()
            .to_string()
            .contains("UNCOMPRESSED, GZIP"));
        assert!(!description_json(&decoded(DestinationKind::Redshift, &redshift).unwrap()).contains("hunter22"));
    }

    /// AWS's prefix rule for Redshift's intermediate S3: a Prefix without expressions and no
    /// ErrorOutputPrefix (firehose.md §3.4, rule 7).
    #[test]
    fn redshift_staging_prefix_rule() {
        let redshift = |s3_extra: Value| {
            json!({
                "RoleARN": "arn:aws:iam::123456789012:role/r",
                "ClusterJDBCURL": "jdbc:postgresql://127.0.0.1:5432/db",
                "CopyCommand": {"DataTableName": "t"},
                "Username": "u", "Password": "hunter22",
                "S3Configuration": s3(s3_extra),
            })
        };
        check_new(DestinationKind::Redshift, &redshift(json!({"Prefix": "staging/"})), OPTIONS).unwrap();
        for refused in [
            json!({"Prefix": "staging/!{timestamp:yyyy}/", "ErrorOutputPrefix": "e/!{firehose:error-output-type}/"}),
            json!({"Prefix": "staging/", "ErrorOutputPrefix": "errors/"}),
        ] {
            match check_new(DestinationKind::Redshift, &redshift(refused.clone()), OPTIONS) {
                Err(FirehoseError::InvalidArgument(message)) => assert_eq!(
                    message, "Redshift destinations take a Prefix without expressions and no ErrorOutputPrefix.",
                    "{refused}"
                ),
                other => panic!("{refused}: {:?}", other.err()),
            }
        }
    }

    /// The server's default interval replaces the buffering interval only when asked to; the
    /// configuration keeps AWS's defaults.
    #[test]
    fn default_buffer_interval_changes_only_the_wait() {
        let config = s3(json!({}));
        let runtime = check_new(DestinationKind::ExtendedS3, &config, OPTIONS).unwrap();
        assert_eq!(runtime.buffering.interval, Duration::from_secs(BUFFER_INTERVAL_SECS_DEFAULT));
        let shortened = CheckOptions { default_buffer_interval: Some(Duration::from_millis(1_500)), ..OPTIONS };
        let runtime = check_new(DestinationKind::ExtendedS3, &config, shortened).unwrap();
        assert_eq!(runtime.buffering.interval, Duration::from_millis(1_500));
        assert_eq!(runtime.buffering.bytes, BUFFER_MIB_DEFAULT * 1024 * 1024);
        let mut filled = decoded(DestinationKind::ExtendedS3, &config).unwrap();
        assert_eq!(filled.buffering_hints(), None);
        fill_defaults(&mut filled);
        assert_eq!(filled.buffering_hints(), Some((Some(5), Some(300))));
        let hinted = decoded(
            DestinationKind::ExtendedS3,
            &s3(json!({"BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300}})),
        )
        .unwrap();
        assert_eq!(hinted.buffering_hints(), Some((Some(5), Some(300))));
    }
}
