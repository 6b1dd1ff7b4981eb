//! Destination configurations: AWS's validation and defaults, the merge rules of
//! UpdateDestination, the description shapes DescribeDeliveryStream returns, and the
//! typed form the delivery task runs from.
//!
//! Configurations are kept as the JSON the caller sent, with AWS's defaults filled in,
//! so a later UpdateDestination merges into exactly what Describe shows.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::compress::Compression;
use crate::dest::http::HttpEndpoint;
use crate::dest::redshift::CopyTarget;
use crate::error::{FirehoseError, Result};
use crate::limits::*;
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
}

/// What the checks need to know about the server.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Accept `http://` endpoint URLs (AWS accepts only `https://`).
    pub allow_http_endpoints: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BufferingHints {
    #[serde(rename = "SizeInMBs")]
    size_in_mbs: Option<i64>,
    interval_in_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessorParameter {
    parameter_name: Option<String>,
    parameter_value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Processor {
    #[serde(rename = "Type")]
    kind: Option<String>,
    parameters: Option<Vec<ProcessorParameter>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessingConfiguration {
    enabled: Option<bool>,
    processors: Option<Vec<Processor>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RetryOptions {
    duration_in_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DynamicPartitioning {
    enabled: Option<bool>,
    retry_options: Option<RetryOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct S3Config {
    #[serde(rename = "RoleARN")]
    role_arn: Option<String>,
    #[serde(rename = "BucketARN")]
    bucket_arn: Option<String>,
    prefix: Option<String>,
    error_output_prefix: Option<String>,
    buffering_hints: Option<BufferingHints>,
    compression_format: Option<String>,
    processing_configuration: Option<ProcessingConfiguration>,
    s3_backup_mode: Option<String>,
    s3_backup_configuration: Option<Value>,
    data_format_conversion_configuration: Option<Value>,
    dynamic_partitioning_configuration: Option<DynamicPartitioning>,
    file_extension: Option<String>,
    custom_time_zone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointConfiguration {
    url: Option<String>,
    name: Option<String>,
    access_key: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CommonAttribute {
    attribute_name: Option<String>,
    attribute_value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RequestConfiguration {
    content_encoding: Option<String>,
    common_attributes: Option<Vec<CommonAttribute>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HttpConfig {
    endpoint_configuration: Option<EndpointConfiguration>,
    buffering_hints: Option<BufferingHints>,
    request_configuration: Option<RequestConfiguration>,
    processing_configuration: Option<ProcessingConfiguration>,
    retry_options: Option<RetryOptions>,
    s3_backup_mode: Option<String>,
    s3_configuration: Option<Value>,
    secrets_manager_configuration: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CopyCommand {
    data_table_name: Option<String>,
    data_table_columns: Option<String>,
    copy_options: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RedshiftConfig {
    #[serde(rename = "ClusterJDBCURL")]
    cluster_jdbc_url: Option<String>,
    copy_command: Option<CopyCommand>,
    username: Option<String>,
    password: Option<String>,
    retry_options: Option<RetryOptions>,
    s3_configuration: Option<Value>,
    processing_configuration: Option<ProcessingConfiguration>,
    s3_backup_mode: Option<String>,
    s3_backup_configuration: Option<Value>,
    secrets_manager_configuration: Option<Value>,
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

fn validation(value: &str, field: &str, constraint: &str) -> FirehoseError {
    FirehoseError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
    ))
}

fn parse<T: for<'de> Deserialize<'de>>(value: &Value, member: &str) -> Result<T> {
    serde_json::from_value(value.clone())
        .map_err(|error| FirehoseError::Serialization(format!("Invalid {member}: {error}")))
}

fn missing(field: &str) -> FirehoseError {
    FirehoseError::Validation(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str> {
    value.as_deref().ok_or_else(|| missing(field))
}

fn check_role_arn(role: Option<&str>, field: &str) -> Result<()> {
    let Some(role) = role else { return Ok(()) };
    let valid = role.starts_with("arn:")
        && role.split(':').nth(2) == Some("iam")
        && role.split(':').nth(4).is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        && role.split(':').nth(5).is_some_and(|r| r.starts_with("role/") && r.len() > 5);
    if valid && role.len() <= 512 {
        Ok(())
    } else {
        Err(validation(
            role,
            field,
            "Member must satisfy regular expression pattern: arn:.*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+",
        ))
    }
}

/// The bucket a `BucketARN` names.
pub fn bucket_from_arn(arn: &str, field: &str) -> Result<String> {
    let bucket =
        arn.strip_prefix("arn:").and_then(|rest| rest.split_once(":s3:::")).map(|(_, bucket)| bucket).filter(|b| {
            !b.is_empty() && b.len() <= 255 && b.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
        });
    bucket.map(str::to_owned).ok_or_else(|| {
        validation(arn, field, "Member must satisfy regular expression pattern: arn:.*:s3:::[\\w\\.\\-]{1,255}")
    })
}

/// S3's rule that a bucket name starts and ends with a letter or digit, which the API
/// model's pattern (`[\w\.\-]{1,255}`) does not enforce. Without it a bucket named `..`
/// (or `.`) was accepted and every delivery to it failed and was retried forever, since it
/// cannot be a folder of the local bucket store, nor a bucket in S3.
fn check_bucket_name(bucket: &str) -> Result<()> {
    let edges = [bucket.chars().next(), bucket.chars().last()];
    if edges.iter().all(|c| c.is_some_and(|c| c.is_ascii_alphanumeric())) {
        Ok(())
    } else {
        Err(FirehoseError::invalid(format!(
            "Bucket name {bucket} is not valid: a bucket name must begin and end with a letter or a number."
        )))
    }
}

fn buffering(hints: &Option<BufferingHints>, mib_range: (u64, u64), field: &str) -> Result<Buffering> {
    let hints = hints.clone().unwrap_or_default();
    let (size, interval) = match (hints.size_in_mbs, hints.interval_in_seconds) {
        (None, None) => (BUFFER_MIB_DEFAULT as i64, BUFFER_INTERVAL_SECS_DEFAULT as i64),
        (Some(size), Some(interval)) => (size, interval),
        _ => {
            return Err(FirehoseError::invalid(
                "BufferingHints.SizeInMBs and BufferingHints.IntervalInSeconds must be specified together.",
            ))
        }
    };
    if size < mib_range.0 as i64 || size > mib_range.1 as i64 {
        return Err(validation(
            &size.to_string(),
            &format!("{field}.bufferingHints.sizeInMBs"),
            &format!("Member must have value less than or equal to {}", mib_range.1),
        ));
    }
    let (min, max) = BUFFER_INTERVAL_SECS_RANGE;
    if interval < min as i64 || interval > max as i64 {
        return Err(validation(
            &interval.to_string(),
            &format!("{field}.bufferingHints.intervalInSeconds"),
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(Buffering { bytes: size as u64 * 1024 * 1024, interval: Duration::from_secs(interval as u64) })
}

fn retry_duration(options: &Option<RetryOptions>, default_secs: u64, field: &str) -> Result<Duration> {
    let secs = options.as_ref().and_then(|o| o.duration_in_seconds).unwrap_or(default_secs as i64);
    if !(0..=RETRY_SECS_MAX as i64).contains(&secs) {
        return Err(validation(
            &secs.to_string(),
            &format!("{field}.retryOptions.durationInSeconds"),
            &format!("Member must have value less than or equal to {RETRY_SECS_MAX}"),
        ));
    }
    Ok(Duration::from_secs(secs as u64))
}

fn pipeline(config: &Option<ProcessingConfiguration>, dynamic_partitioning: bool) -> Result<Pipeline> {
    let config = config.clone().unwrap_or_default();
    let specs: Vec<ProcessorSpec> = config
        .processors
        .unwrap_or_default()
        .into_iter()
        .map(|p| ProcessorSpec {
            kind: p.kind.unwrap_or_default(),
            parameters: p
                .parameters
                .unwrap_or_default()
                .into_iter()
                .map(|q| (q.parameter_name.unwrap_or_default(), q.parameter_value.unwrap_or_default()))
                .collect(),
        })
        .collect();
    Pipeline::new(config.enabled.unwrap_or(!specs.is_empty()), &specs, dynamic_partitioning)
        .map_err(FirehoseError::InvalidArgument)
}

/// Checks an S3 block; `extended` allows the ExtendedS3-only members.
fn s3_sink(config: &S3Config, field: &str, extended: bool) -> Result<(S3Sink, Buffering)> {
    check_role_arn(Some(required(&config.role_arn, &format!("{field}.roleARN"))?), &format!("{field}.roleARN"))?;
    let bucket = bucket_from_arn(required(&config.bucket_arn, &format!("{field}.bucketARN"))?, field)?;
    check_bucket_name(&bucket)?;
    let buffering = buffering(&config.buffering_hints, S3_BUFFER_MIB_RANGE, field)?;
    let compression_text = config.compression_format.as_deref().unwrap_or("UNCOMPRESSED");
    let compression = Compression::parse(compression_text).ok_or_else(|| {
        validation(
            compression_text,
            &format!("{field}.compressionFormat"),
            "Member must satisfy enum value set: [HADOOP_SNAPPY, ZIP, Snappy, UNCOMPRESSED, GZIP]",
        )
    })?;
    for (text, member) in [(&config.prefix, "prefix"), (&config.error_output_prefix, "errorOutputPrefix")] {
        if text.as_ref().is_some_and(|t| t.len() > 1024) {
            return Err(validation(
                "…",
                &format!("{field}.{member}"),
                "Member must have length less than or equal to 1024",
            ));
        }
    }
    let dynamic = config.dynamic_partitioning_configuration.as_ref().and_then(|d| d.enabled).unwrap_or(false);
    prefix::validate(config.prefix.as_deref(), config.error_output_prefix.as_deref(), dynamic)
        .map_err(FirehoseError::InvalidArgument)?;
    if let Some(extension) = &config.file_extension {
        let valid = extension.is_empty()
            || (extension.starts_with('.')
                && extension.len() <= 128
                && extension
                    .chars()
                    .skip(1)
                    .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || "!-_.*'()".contains(c)));
        if !valid {
            return Err(validation(
                extension,
                &format!("{field}.fileExtension"),
                "Member must satisfy regular expression pattern: ^$|\\.[0-9a-z!\\-_.*'()]+",
            ));
        }
    }
    let time_zone =
        prefix::parse_time_zone(config.custom_time_zone.as_deref()).map_err(FirehoseError::InvalidArgument)?;
    if !extended
        && (config.file_extension.is_some()
            || config.custom_time_zone.is_some()
            || config.dynamic_partitioning_configuration.is_some())
    {
        return Err(FirehoseError::invalid("This field is only supported for ExtendedS3 destinations."));
    }
    if config.data_format_conversion_configuration.as_ref().is_some_and(|c| c.get("Enabled") != Some(&json!(false))) {
        return Err(FirehoseError::invalid(
            "DataFormatConversionConfiguration (Parquet/ORC conversion) is not supported by Rheo yet.",
        ));
    }
    let extension = match &config.file_extension {
        Some(extension) if !extension.is_empty() => extension.clone(),
        _ => compression.extension().to_owned(),
    };
    Ok((
        S3Sink {
            bucket,
            prefix: config.prefix.clone().filter(|p| !p.is_empty()),
            error_prefix: config.error_output_prefix.clone().filter(|p| !p.is_empty()),
            compression,
            extension,
            time_zone,
        },
        buffering,
    ))
}

fn backup_mode<'a>(
    mode: &'a Option<String>,
    allowed: &[&'static str],
    default: &'static str,
    field: &str,
) -> Result<&'a str> {
    let mode = mode.as_deref().unwrap_or(default);
    if allowed.contains(&mode) {
        Ok(mode)
    } else {
        Err(validation(
            mode,
            &format!("{field}.s3BackupMode"),
            &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
        ))
    }
}

/// The source-record backup of `S3BackupMode` Disabled/Enabled destinations.
fn source_backup(mode: &Option<String>, config: &Option<Value>, field: &str) -> Result<Option<S3Sink>> {
    match (backup_mode(mode, &["Disabled", "Enabled"], "Disabled", field)?, config) {
        ("Enabled", Some(backup)) => {
            let backup: S3Config = parse(backup, "S3BackupConfiguration")?;
            Ok(Some(s3_sink(&backup, &format!("{field}.s3BackupConfiguration"), false)?.0))
        }
        ("Enabled", None) => {
            Err(FirehoseError::invalid("S3BackupConfiguration is required when S3BackupMode is Enabled."))
        }
        _ => Ok(None),
    }
}

/// Checks a destination configuration and builds its typed form.
pub fn check(kind: DestinationKind, config: &Value, options: CheckOptions) -> Result<Runtime> {
    match kind {
        DestinationKind::ExtendedS3 => {
            let field = "extendedS3DestinationConfiguration";
            let s3: S3Config = parse(config, kind.configuration_member())?;
            let (sink, buffering) = s3_sink(&s3, field, true)?;
            let dynamic_partitioning =
                s3.dynamic_partitioning_configuration.as_ref().and_then(|d| d.enabled).unwrap_or(false);
            retry_duration(
                &s3.dynamic_partitioning_configuration.as_ref().and_then(|d| d.retry_options.clone()),
                0,
                &format!("{field}.dynamicPartitioningConfiguration"),
            )?;
            if dynamic_partitioning && buffering.interval.is_zero() {
                return Err(FirehoseError::invalid(
                    "Zero buffering (IntervalInSeconds 0) is not supported with dynamic partitioning.",
                ));
            }
            let backup = source_backup(&s3.s3_backup_mode, &s3.s3_backup_configuration, field)?;
            let pipeline = pipeline(&s3.processing_configuration, dynamic_partitioning)?;
            Ok(Runtime {
                kind,
                destination: Destination::S3 { sink, backup, dynamic_partitioning },
                pipeline,
                buffering,
            })
        }
        DestinationKind::HttpEndpoint => {
            let field = "httpEndpointDestinationConfiguration";
            let http: HttpConfig = parse(config, kind.configuration_member())?;
            let endpoint = http.endpoint_configuration.clone().unwrap_or_default();
            let url = required(&endpoint.url, &format!("{field}.endpointConfiguration.url"))?;
            let secure = url.starts_with("https://");
            if !(secure || (options.allow_http_endpoints && url.starts_with("http://"))) || url.len() > 1000 {
                return Err(validation(
                    "*** sensitive data ***",
                    &format!("{field}.endpointConfiguration.url"),
                    "Member must satisfy regular expression pattern: https://.*",
                ));
            }
            if endpoint.access_key.as_ref().is_some_and(|k| k.len() > 4096) {
                return Err(validation(
                    "*** sensitive data ***",
                    &format!("{field}.endpointConfiguration.accessKey"),
                    "Member must have length less than or equal to 4096",
                ));
            }
            let buffering = buffering(&http.buffering_hints, HTTP_BUFFER_MIB_RANGE, field)?;
            let request = http.request_configuration.clone().unwrap_or_default();
            let gzip = match request.content_encoding.as_deref().unwrap_or("NONE") {
                "NONE" => false,
                "GZIP" => true,
                other => {
                    return Err(validation(
                        other,
                        &format!("{field}.requestConfiguration.contentEncoding"),
                        "Member must satisfy enum value set: [NONE, GZIP]",
                    ))
                }
            };
            let attributes = request.common_attributes.unwrap_or_default();
            if attributes.len() > 50 {
                return Err(validation(
                    "[…]",
                    &format!("{field}.requestConfiguration.commonAttributes"),
                    "Member must have length less than or equal to 50",
                ));
            }
            let common_attributes = attributes
                .into_iter()
                .map(|a| (a.attribute_name.unwrap_or_default(), a.attribute_value.unwrap_or_default()))
                .collect();
            let retry = retry_duration(&http.retry_options, HTTP_RETRY_SECS_DEFAULT, field)?;
            let mode = backup_mode(&http.s3_backup_mode, &["FailedDataOnly", "AllData"], "FailedDataOnly", field)?;
            let s3 = http.s3_configuration.as_ref().ok_or_else(|| missing(&format!("{field}.s3Configuration")))?;
            let s3: S3Config = parse(s3, "S3Configuration")?;
            let (backup, _) = s3_sink(&s3, &format!("{field}.s3Configuration"), false)?;
            if http.secrets_manager_configuration.is_some() {
                return Err(FirehoseError::invalid(
                    "SecretsManagerConfiguration is not supported by Rheo; give EndpointConfiguration.AccessKey.",
                ));
            }
            let pipeline = pipeline(&http.processing_configuration, false)?;
            Ok(Runtime {
                kind,
                destination: Destination::Http {
                    endpoint: HttpEndpoint {
                        url: url.to_owned(),
                        name: endpoint.name,
                        access_key: endpoint.access_key,
                        common_attributes,
                        gzip,
                        retry_duration: retry,
                        source_arn: String::new(),
                    },
                    backup,
                    backup_all: mode == "AllData",
                },
                pipeline,
                buffering,
            })
        }
        DestinationKind::Redshift => {
            let field = "redshiftDestinationConfiguration";
            let redshift: RedshiftConfig = parse(config, kind.configuration_member())?;
            let url = required(&redshift.cluster_jdbc_url, &format!("{field}.clusterJDBCURL"))?;
            crate::dest::redshift::parse_jdbc_url(url).map_err(FirehoseError::InvalidArgument)?;
            let copy = redshift.copy_command.clone().unwrap_or_default();
            let table = required(&copy.data_table_name, &format!("{field}.copyCommand.dataTableName"))?;
            let username = redshift.username.clone();
            let password = redshift.password.clone();
            if redshift.secrets_manager_configuration.is_some() {
                return Err(FirehoseError::invalid(
                    "SecretsManagerConfiguration is not supported by Rheo; give Username and Password.",
                ));
            }
            let username = required(&username, &format!("{field}.username"))?.to_owned();
            let password = required(&password, &format!("{field}.password"))?.to_owned();
            let retry = retry_duration(&redshift.retry_options, REDSHIFT_RETRY_SECS_DEFAULT, field)?;
            let s3 = redshift.s3_configuration.as_ref().ok_or_else(|| missing(&format!("{field}.s3Configuration")))?;
            let s3: S3Config = parse(s3, "S3Configuration")?;
            let (staging, buffering) = s3_sink(&s3, &format!("{field}.s3Configuration"), false)?;
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
            let backup = source_backup(&redshift.s3_backup_mode, &redshift.s3_backup_configuration, field)?;
            let pipeline = pipeline(&redshift.processing_configuration, false)?;
            Ok(Runtime {
                kind,
                destination: Destination::Redshift {
                    staging,
                    copy: CopyTarget {
                        jdbc_url: url.to_owned(),
                        username,
                        password,
                        table: table.to_owned(),
                        columns: copy.data_table_columns.clone().filter(|c| !c.is_empty()),
                        copy_options: copy.copy_options.clone().filter(|c| !c.is_empty()),
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

fn default_member(map: &mut Map<String, Value>, key: &str, value: Value) {
    map.entry(key.to_owned()).or_insert(value);
}

fn fill_s3_defaults(value: &mut Value) {
    // A configuration that is not an object fails its check; nothing to fill.
    let Some(map) = value.as_object_mut() else { return };
    default_member(
        map,
        "BufferingHints",
        json!({"SizeInMBs": BUFFER_MIB_DEFAULT, "IntervalInSeconds": BUFFER_INTERVAL_SECS_DEFAULT}),
    );
    default_member(map, "CompressionFormat", json!("UNCOMPRESSED"));
    default_member(map, "EncryptionConfiguration", json!({"NoEncryptionConfig": "NoEncryption"}));
}

/// Fills the defaults AWS shows in descriptions for members the caller left out.
pub fn fill_defaults(kind: DestinationKind, config: &mut Value) {
    match kind {
        DestinationKind::ExtendedS3 => {
            fill_s3_defaults(config);
            let Some(map) = config.as_object_mut() else { return };
            default_member(map, "S3BackupMode", json!("Disabled"));
            if let Some(backup) = map.get_mut("S3BackupConfiguration") {
                fill_s3_defaults(backup);
            }
        }
        DestinationKind::HttpEndpoint => {
            let Some(map) = config.as_object_mut() else { return };
            default_member(
                map,
                "BufferingHints",
                json!({"SizeInMBs": BUFFER_MIB_DEFAULT, "IntervalInSeconds": BUFFER_INTERVAL_SECS_DEFAULT}),
            );
            default_member(map, "RetryOptions", json!({"DurationInSeconds": HTTP_RETRY_SECS_DEFAULT}));
            default_member(map, "S3BackupMode", json!("FailedDataOnly"));
            default_member(map, "RequestConfiguration", json!({"ContentEncoding": "NONE"}));
            if let Some(s3) = map.get_mut("S3Configuration") {
                fill_s3_defaults(s3);
            }
        }
        DestinationKind::Redshift => {
            let Some(map) = config.as_object_mut() else { return };
            default_member(map, "RetryOptions", json!({"DurationInSeconds": REDSHIFT_RETRY_SECS_DEFAULT}));
            default_member(map, "S3BackupMode", json!("Disabled"));
            if let Some(s3) = map.get_mut("S3Configuration") {
                fill_s3_defaults(s3);
            }
            if let Some(backup) = map.get_mut("S3BackupConfiguration") {
                fill_s3_defaults(backup);
            }
        }
    }
}

/// UpdateDestination's merge for a destination of the same kind: members the update
/// gives replace the stored ones; objects merge member by member; lists are replaced.
pub fn merge(stored: &mut Value, update: &Value) {
    match (stored, update) {
        (Value::Object(stored), Value::Object(update)) => {
            for (key, value) in update {
                match stored.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => merge(existing, value),
                    _ => {
                        stored.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (stored, update) => *stored = update.clone(),
    }
}

fn s3_description(config: &Value) -> Value {
    let mut description = config.clone();
    if let Value::Object(map) = &mut description {
        map.retain(|key, _| {
            matches!(
                key.as_str(),
                "RoleARN"
                    | "BucketARN"
                    | "Prefix"
                    | "ErrorOutputPrefix"
                    | "BufferingHints"
                    | "CompressionFormat"
                    | "EncryptionConfiguration"
                    | "CloudWatchLoggingOptions"
            )
        });
    }
    description
}

fn rename(map: &mut Map<String, Value>, from: &str, to: &str, transform: impl Fn(&Value) -> Value) {
    if let Some(value) = map.remove(from) {
        map.insert(to.to_owned(), transform(&value));
    }
}

/// The `DestinationDescription` Describe returns for a stored destination: the same
/// members under the description names, without secrets.
pub fn describe(kind: DestinationKind, config: &Value) -> Value {
    let mut description = Map::new();
    description.insert("DestinationId".into(), json!(DESTINATION_ID));
    let mut body = config.clone();
    if !body.is_object() {
        body = Value::Object(Map::new());
    }
    let Some(map) = body.as_object_mut() else { return Value::Object(description) };
    match kind {
        DestinationKind::ExtendedS3 => {
            rename(map, "S3BackupConfiguration", "S3BackupDescription", s3_description);
            description.insert("S3DestinationDescription".into(), s3_description(config));
            description.insert("ExtendedS3DestinationDescription".into(), body);
        }
        DestinationKind::HttpEndpoint => {
            if let Some(Value::Object(endpoint)) = map.get_mut("EndpointConfiguration") {
                endpoint.remove("AccessKey");
            }
            rename(map, "S3Configuration", "S3DestinationDescription", s3_description);
            if let Some(s3) = map.get("S3DestinationDescription") {
                description.insert("S3DestinationDescription".into(), s3.clone());
            }
            description.insert("HttpEndpointDestinationDescription".into(), body);
        }
        DestinationKind::Redshift => {
            map.remove("Password");
            rename(map, "S3Configuration", "S3DestinationDescription", s3_description);
            rename(map, "S3BackupConfiguration", "S3BackupDescription", s3_description);
            description.insert("RedshiftDestinationDescription".into(), body);
        }
    }
    Value::Object(description)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const OPTIONS: CheckOptions = CheckOptions { allow_http_endpoints: false };

    fn s3(extra: Value) -> Value {
        let mut config = json!({"RoleARN": "arn:aws:iam::123456789012:role/r", "BucketARN": "arn:aws:s3:::bucket"});
        merge(&mut config, &extra);
        config
    }

    #[test]
    fn defaults_fill_and_describe_mirrors_them() {
        let mut config = s3(json!({}));
        fill_defaults(DestinationKind::ExtendedS3, &mut config);
        assert_eq!(config["BufferingHints"], json!({"SizeInMBs": 5, "IntervalInSeconds": 300}));
        assert_eq!(config["CompressionFormat"], "UNCOMPRESSED");
        let description = describe(DestinationKind::ExtendedS3, &config);
        assert_eq!(description["DestinationId"], DESTINATION_ID);
        assert_eq!(description["S3DestinationDescription"]["BucketARN"], "arn:aws:s3:::bucket");
        assert_eq!(description["ExtendedS3DestinationDescription"]["S3BackupMode"], "Disabled");
        let runtime = check(DestinationKind::ExtendedS3, &config, OPTIONS).unwrap();
        assert_eq!(runtime.buffering.bytes, 5 * 1024 * 1024);
    }

    #[test]
    fn merge_keeps_what_the_update_omits() {
        let mut config =
            s3(json!({"CompressionFormat": "GZIP", "BufferingHints": {"SizeInMBs": 2, "IntervalInSeconds": 60}}));
        merge(&mut config, &json!({"BufferingHints": {"IntervalInSeconds": 0}, "Prefix": "p/"}));
        assert_eq!(config["CompressionFormat"], "GZIP");
        assert_eq!(config["BufferingHints"], json!({"SizeInMBs": 2, "IntervalInSeconds": 0}));
        assert_eq!(config["Prefix"], "p/");
    }

    #[test]
    fn checks_refuse_what_aws_refuses() {
        let error = |config: Value| check(DestinationKind::ExtendedS3, &config, OPTIONS).err().unwrap().to_string();
        assert!(error(s3(json!({"BufferingHints": {"IntervalInSeconds": 60}}))).contains("together"));
        assert!(error(s3(json!({"BufferingHints": {"SizeInMBs": 129, "IntervalInSeconds": 60}}))).contains("128"));
        assert!(error(s3(json!({"CompressionFormat": "SNAPPY"}))).contains("enum value set"));
        assert!(error(s3(json!({"BucketARN": "bucket"}))).contains("arn:.*:s3"));
        assert!(error(s3(json!({"Prefix": "!{timestamp:yyyy}"}))).contains("ErrorOutputPrefix"));
        for bucket in ["..", ".", ".hidden", "bucket-"] {
            let arn = format!("arn:aws:s3:::{bucket}");
            let refused = check(DestinationKind::ExtendedS3, &s3(json!({"BucketARN": arn})), OPTIONS).err().unwrap();
            assert!(matches!(refused, FirehoseError::InvalidArgument(_)), "{bucket}: {refused:?}");
            assert!(refused.to_string().contains("begin and end with a letter or a number"), "{refused}");
        }
        for prefix in ["../", "../x/", "a/../b/", "a//b/"] {
            let refused = check(DestinationKind::ExtendedS3, &s3(json!({"Prefix": prefix})), OPTIONS).err().unwrap();
            assert!(matches!(refused, FirehoseError::InvalidArgument(_)), "{prefix}: {refused:?}");
            let error_prefix = format!("{prefix}!{{firehose:error-output-type}}/");
            let config = s3(json!({"Prefix": "ok/", "ErrorOutputPrefix": error_prefix}));
            assert!(matches!(
                check(DestinationKind::ExtendedS3, &config, OPTIONS),
                Err(FirehoseError::InvalidArgument(_))
            ));
            // The backup bucket's prefixes too.
            let backup = s3(json!({"S3BackupMode": "Enabled", "S3BackupConfiguration": s3(json!({"Prefix": prefix}))}));
            assert!(matches!(
                check(DestinationKind::ExtendedS3, &backup, OPTIONS),
                Err(FirehoseError::InvalidArgument(_))
            ));
        }
        assert!(error(json!({"BucketARN": "arn:aws:s3:::b"})).contains("roleARN"));
        let http = json!({
            "EndpointConfiguration": {"Url": "http://127.0.0.1:1/", "AccessKey": "secret"},
            "S3Configuration": s3(json!({})),
        });
        assert!(check(DestinationKind::HttpEndpoint, &http, OPTIONS).is_err());
        let runtime = check(DestinationKind::HttpEndpoint, &http, CheckOptions { allow_http_endpoints: true }).unwrap();
        assert!(matches!(runtime.destination, Destination::Http { .. }));
        let description = describe(DestinationKind::HttpEndpoint, &http);
        assert!(description.to_string().find("secret").is_none(), "the access key is never described");
        let redshift = json!({
            "ClusterJDBCURL": "jdbc:postgresql://127.0.0.1:5432/db",
            "CopyCommand": {"DataTableName": "t"},
            "Username": "u", "Password": "hunter22",
            "S3Configuration": s3(json!({"CompressionFormat": "Snappy"})),
        });
        assert!(check(DestinationKind::Redshift, &redshift, OPTIONS)
            .err()
            .unwrap()
            .to_string()
            .contains("UNCOMPRESSED, GZIP"));
        assert!(!describe(DestinationKind::Redshift, &redshift).to_string().contains("hunter22"));
    }
}
