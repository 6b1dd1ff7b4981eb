//! The agent's JSON configuration, in the Kinesis Agent's format (`agent.json`).
//!
//! Keys the real agent documents are accepted; those that make no sense without AWS's own
//! services (CloudWatch publishing, role assumption, EC2 metadata, custom Java credential
//! providers) are refused or reported, never silently misread. Unknown keys are errors that
//! name the key, so a typo does not quietly fall back to a default.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;

use crate::process::{LogFormat, Processor};

/// Where the real agent keeps its checkpoints when `checkpointFile` is not given.
pub const DEFAULT_CHECKPOINT_FILE: &str = "/var/run/aws-kinesis-agent/checkpoints";
/// Default of `maxBufferAgeMillis` and its accepted range (as the real agent).
pub const DEFAULT_MAX_BUFFER_AGE_MILLIS: u64 = 60_000;
/// Smallest accepted `maxBufferAgeMillis`.
pub const MIN_MAX_BUFFER_AGE_MILLIS: u64 = 1_000;
/// Largest accepted `maxBufferAgeMillis` (15 minutes).
pub const MAX_MAX_BUFFER_AGE_MILLIS: u64 = 900_000;
/// Records of one PutRecords / PutRecordBatch call, the default and the maximum of
/// `maxBufferSizeRecords`.
pub const MAX_BUFFER_SIZE_RECORDS: usize = 500;
/// Bytes of one Kinesis PutRecords call: default and maximum of `maxBufferSizeBytes`.
pub const KINESIS_MAX_BUFFER_SIZE_BYTES: usize = 5 * 1024 * 1024;
/// Bytes of one Firehose PutRecordBatch call: default and maximum of `maxBufferSizeBytes`.
pub const FIREHOSE_MAX_BUFFER_SIZE_BYTES: usize = 4 * 1024 * 1024;
/// Largest Kinesis record (data plus partition key).
pub const KINESIS_MAX_RECORD_SIZE_BYTES: usize = 1024 * 1024;
/// Largest Firehose record.
pub const FIREHOSE_MAX_RECORD_SIZE_BYTES: usize = 1000 * 1024;
/// Default of `minTimeBetweenFilePollsMillis`: how often a flow looks for new data.
pub const DEFAULT_FILE_POLL_MILLIS: u64 = 100;
/// Default of `shutdownTimeoutMillis`: how long a stop may spend sending what is buffered.
pub const DEFAULT_SHUTDOWN_TIMEOUT_MILLIS: u64 = 10_000;
/// Default `retryInitialBackoffMillis`: first back-off after a failed put.
pub const DEFAULT_RETRY_INITIAL_BACKOFF_MILLIS: u64 = 100;
/// Default `retryMaxBackoffMillis`: longest back-off between attempts.
pub const DEFAULT_RETRY_MAX_BACKOFF_MILLIS: u64 = 10_000;
/// Largest back-off either retry key accepts.
pub const MAX_RETRY_BACKOFF_MILLIS: u64 = 3_600_000;
/// Top-level keys of the real agent that tune its Java internals (thread pools, HTTP
/// connections, checkpoint clean-up, status logging): accepted, and logged as having no
/// effect here.
pub const IGNORED_AGENT_KEYS: &[&str] = &[
    "maxSendingThreads",
    "sendingThreadsMaxQueueSize",
    "maxConnections",
    "connectionTimeoutMillis",
    "socketTimeoutMillis",
    "useHttpGzip",
    "checkpointTimeToLiveDays",
    "cloudwatch.tagInstance",
    "log.statusReportingPeriodSeconds",
];
/// Flow keys of the real agent that tune its publishing queue and file-tracker refresh,
/// which work differently here (one batch in flight, one poll interval): accepted, and
/// logged as having no effect.
pub const IGNORED_FLOW_KEYS: &[&str] = &[
    "publishQueueCapacity",
    "waitOnFullPublishQueueMillis",
    "waitOnEmptyPublishQueueMillis",
    "maxTimeBetweenFileTrackerRefreshMillis",
    "log.emitInternalMetrics",
];
/// Flow keys of the real agent whose feature is not implemented: refused, so that a
/// configuration relying on them is not silently shipped differently.
pub const UNSUPPORTED_FLOW_KEYS: &[(&str, &str)] = &[
    ("aggregatedRecordSizeBytes", "records are not aggregated: each line or multi-line record is sent as one record"),
    ("fileFooterPattern", "footer lines are not recognised: they would be sent as records"),
];
/// Most flows one configuration may declare (each is a task with its own buffer).
pub const MAX_FLOWS: usize = 64;

/// A configuration that cannot be used, naming the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not JSON, or a key unknown / of the wrong type (serde names it).
    #[error("{context}: {source}")]
    Syntax {
        /// Where (the file, or `flows[i]`).
        context: String,
        /// The parser's message, which names the key.
        source: serde_json::Error,
    },
    /// A key with a value out of range or in conflict with another.
    #[error("{key}: {message}")]
    Invalid {
        /// The key, e.g. `flows[0].maxBufferSizeRecords`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A documented key this agent refuses (it needs AWS machinery that is not here).
    #[error("{key} is not supported by rheo agent: {why}")]
    Unsupported {
        /// The key.
        key: String,
        /// Why, and what to do instead.
        why: &'static str,
    },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), message: message.into() }
}

/// A number or boolean the real agent also accepts written as a JSON string.
#[derive(Deserialize, Clone, Debug)]
#[serde(untagged)]
enum Lenient {
    Number(u64),
    Bool(bool),
    Text(String),
}

impl Lenient {
    fn number(&self, key: &str) -> Result<u64, ConfigError> {
        match self {
            Lenient::Number(n) => Ok(*n),
            Lenient::Text(s) => s.trim().parse().map_err(|_| invalid(key, format!("{s:?} is not a whole number"))),
            Lenient::Bool(_) => Err(invalid(key, "expected a whole number, found a boolean")),
        }
    }

    fn boolean(&self, key: &str) -> Result<bool, ConfigError> {
        match self {
            Lenient::Bool(b) => Ok(*b),
            Lenient::Text(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            Lenient::Text(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(invalid(key, "expected true or false")),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    #[serde(rename = "kinesis.endpoint")]
    kinesis_endpoint: Option<String>,
    #[serde(rename = "kinesis.region")]
    kinesis_region: Option<String>,
    #[serde(rename = "firehose.endpoint")]
    firehose_endpoint: Option<String>,
    #[serde(rename = "checkpointFile")]
    checkpoint_file: Option<PathBuf>,
    #[serde(rename = "awsAccessKeyId")]
    aws_access_key_id: Option<String>,
    #[serde(rename = "awsSecretAccessKey")]
    aws_secret_access_key: Option<String>,
    #[serde(rename = "cloudwatch.emitMetrics")]
    cloudwatch_emit_metrics: Option<Lenient>,
    #[serde(rename = "cloudwatch.endpoint")]
    cloudwatch_endpoint: Option<String>,
    #[serde(rename = "log.emitMetrics")]
    log_emit_metrics: Option<Lenient>,
    #[serde(rename = "shutdownTimeoutMillis")]
    shutdown_timeout_millis: Option<Lenient>,
    #[serde(rename = "assumeRoleARN")]
    assume_role_arn: Option<serde_json::Value>,
    #[serde(rename = "assumeRoleExternalId")]
    assume_role_external_id: Option<serde_json::Value>,
    #[serde(rename = "sts.endpoint")]
    sts_endpoint: Option<serde_json::Value>,
    #[serde(rename = "userDefinedCredentialsProvider.classname")]
    credentials_provider_class: Option<serde_json::Value>,
    #[serde(rename = "userDefinedCredentialsProvider.location")]
    credentials_provider_location: Option<serde_json::Value>,
    flows: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawFlow {
    file_pattern: String,
    kinesis_stream: Option<String>,
    delivery_stream: Option<String>,
    partition_key_option: Option<PartitionKeyOption>,
    initial_position: Option<InitialPosition>,
    max_buffer_age_millis: Option<Lenient>,
    max_buffer_size_records: Option<Lenient>,
    max_buffer_size_bytes: Option<Lenient>,
    max_record_size_bytes: Option<Lenient>,
    min_time_between_file_polls_millis: Option<Lenient>,
    multi_line_start_pattern: Option<String>,
    skip_header_lines: Option<Lenient>,
    truncated_record_terminator: Option<String>,
    retry_initial_backoff_millis: Option<Lenient>,
    retry_max_backoff_millis: Option<Lenient>,
    #[serde(default)]
    data_processing_options: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(tag = "optionName", deny_unknown_fields)]
#[allow(clippy::upper_case_acronyms)]
enum RawProcessing {
    #[serde(rename = "SINGLELINE")]
    SingleLine,
    #[serde(rename = "CSVTOJSON", rename_all = "camelCase")]
    CsvToJson { custom_field_names: Vec<String>, delimiter: Option<String> },
    #[serde(rename = "LOGTOJSON", rename_all = "camelCase")]
    LogToJson { log_format: LogFormat, match_pattern: Option<String>, custom_field_names: Option<Vec<String>> },
    #[serde(rename = "ADDMETADATA")]
    AddMetadata { timestamp: Option<Lenient>, metadata: Option<serde_json::Map<String, serde_json::Value>> },
}

/// How records of a Kinesis flow are spread over shards.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PartitionKeyOption {
    /// A random key per record: even spread, no order between records.
    Random,
    /// The MD5 of the record's data (equal records share a shard), as the real agent.
    Deterministic,
}

/// Where a file found at the first start (without a checkpoint) is read from.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InitialPosition {
    /// Its first byte.
    StartOfFile,
    /// Its end at start-up: only lines written afterwards are sent.
    EndOfFile,
}

/// Where a flow's records go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Kinesis data stream, by PutRecords.
    Kinesis {
        /// The stream's name.
        stream: String,
        /// How partition keys are chosen.
        partition_key: PartitionKeyOption,
    },
    /// A Firehose delivery stream, by PutRecordBatch.
    Firehose {
        /// The delivery stream's name.
        delivery_stream: String,
    },
}

/// One validated flow: files matched by a pattern, sent to one stream.
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// The flow's name in logs, metrics and checkpoints (`kinesis:STREAM:PATTERN`).
    pub id: String,
    /// The folder the files are in.
    pub directory: PathBuf,
    /// The glob the file names are matched against (`*`, `?`).
    pub file_name_pattern: String,
    /// The destination.
    pub target: Target,
    /// Where files seen at the first start are read from.
    pub initial_position: InitialPosition,
    /// Longest a record waits in the buffer before it is sent.
    pub max_buffer_age: std::time::Duration,
    /// Records per call.
    pub max_buffer_records: usize,
    /// Bytes per call.
    pub max_buffer_bytes: usize,
    /// Largest record; longer ones are truncated and end with the terminator.
    pub max_record_bytes: usize,
    /// How often the folder and files are looked at.
    pub poll_interval: std::time::Duration,
    /// A line matching it begins a record; other lines continue the current one.
    pub multi_line_start: Option<Regex>,
    /// Lines skipped at the start of every file.
    pub skip_header_lines: u64,
    /// Appended to a record that had to be truncated.
    pub truncated_record_terminator: Vec<u8>,
    /// Applied to every record in order.
    pub processors: Vec<Processor>,
    /// Back-off between attempts to send refused records.
    pub retry: RetryBackoff,
    /// Settings of this flow accepted but without effect here, to be logged at start.
    pub notes: Vec<String>,
}

/// `retryInitialBackoffMillis` and `retryMaxBackoffMillis`: exponential back-off with
/// full jitter between these bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryBackoff {
    /// The cap of the first back-off.
    pub initial: std::time::Duration,
    /// The largest back-off.
    pub max: std::time::Duration,
}

/// The whole validated configuration.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// `kinesis.endpoint` (`None`: AWS's regional endpoint).
    pub kinesis_endpoint: Option<String>,
    /// `kinesis.region`, when given.
    pub kinesis_region: Option<String>,
    /// `firehose.endpoint`.
    pub firehose_endpoint: Option<String>,
    /// `checkpointFile`.
    pub checkpoint_file: PathBuf,
    /// `awsAccessKeyId` and `awsSecretAccessKey`, which beat the environment.
    pub static_credentials: Option<(String, String)>,
    /// `shutdownTimeoutMillis`.
    pub shutdown_timeout: std::time::Duration,
    /// The flows.
    pub flows: Vec<FlowConfig>,
    /// Settings accepted but without effect here, to be logged at start.
    pub notes: Vec<String>,
}

impl AgentConfig {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Validates a configuration's text; `context` names it in errors.
    pub fn parse(text: &str, context: &str) -> Result<Self, ConfigError> {
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| ConfigError::Syntax { context: context.into(), source })?;
        let mut notes = take_ignored(&mut value, IGNORED_AGENT_KEYS, "");
        let raw: RawAgent =
            serde_json::from_value(value).map_err(|source| ConfigError::Syntax { context: context.into(), source })?;
        let refusals: [(&str, bool, &'static str); 5] = [
            (
                "assumeRoleARN",
                raw.assume_role_arn.is_some(),
                "no role is assumed; give keys through awsAccessKeyId/awsSecretAccessKey or the AWS environment",
            ),
            ("assumeRoleExternalId", raw.assume_role_external_id.is_some(), "no role is assumed"),
            ("sts.endpoint", raw.sts_endpoint.is_some(), "no role is assumed, so STS is never called"),
            (
                "userDefinedCredentialsProvider.classname",
                raw.credentials_provider_class.is_some(),
                "Java credential providers cannot be loaded; use the AWS environment or profile files",
            ),
            (
                "userDefinedCredentialsProvider.location",
                raw.credentials_provider_location.is_some(),
                "Java credential providers cannot be loaded",
            ),
        ];
        if let Some((key, _, why)) = refusals.iter().find(|(_, present, _)| *present) {
            return Err(ConfigError::Unsupported { key: (*key).into(), why });
        }
        if let Some(v) = &raw.cloudwatch_emit_metrics {
            if v.boolean("cloudwatch.emitMetrics")? {
                notes.push(
                    "cloudwatch.emitMetrics: metrics are logged and kept as counters, not published to CloudWatch"
                        .into(),
                );
            }
        }
        if raw.cloudwatch_endpoint.is_some() {
            notes.push("cloudwatch.endpoint: ignored, metrics are not published to CloudWatch".into());
        }
        if let Some(v) = &raw.log_emit_metrics {
            v.boolean("log.emitMetrics")?;
        }
        let static_credentials = match (raw.aws_access_key_id, raw.aws_secret_access_key) {
            (Some(id), Some(secret)) => Some((id, secret)),
            (None, None) => None,
            (Some(_), None) => return Err(invalid("awsSecretAccessKey", "missing while awsAccessKeyId is given")),
            (None, Some(_)) => return Err(invalid("awsAccessKeyId", "missing while awsSecretAccessKey is given")),
        };
        let shutdown_timeout_millis = match &raw.shutdown_timeout_millis {
            Some(v) => v.number("shutdownTimeoutMillis")?,
            None => DEFAULT_SHUTDOWN_TIMEOUT_MILLIS,
        };
        if raw.flows.is_empty() {
            return Err(invalid("flows", "at least one flow is needed"));
        }
        if raw.flows.len() > MAX_FLOWS {
            return Err(invalid("flows", format!("at most {MAX_FLOWS} flows")));
        }
        let flows = raw
            .flows
            .into_iter()
            .enumerate()
            .map(|(index, value)| parse_flow(index, value))
            .collect::<Result<Vec<_>, _>>()?;
        let mut ids = std::collections::HashSet::new();
        for flow in &flows {
            if !ids.insert(flow.id.clone()) {
                return Err(invalid("flows", format!("two flows send {} to the same stream", flow.id)));
            }
        }
        Ok(AgentConfig {
            kinesis_endpoint: raw.kinesis_endpoint.map(with_scheme),
            kinesis_region: raw.kinesis_region,
            firehose_endpoint: raw.firehose_endpoint.map(with_scheme),
            checkpoint_file: raw.checkpoint_file.unwrap_or_else(|| PathBuf::from(DEFAULT_CHECKPOINT_FILE)),
            static_credentials,
            shutdown_timeout: std::time::Duration::from_millis(shutdown_timeout_millis),
            flows,
            notes,
        })
    }
}

/// Removes the keys of `ignored` from a JSON object, returning a note for each present.
fn take_ignored(value: &mut serde_json::Value, ignored: &[&str], at: &str) -> Vec<String> {
    let Some(object) = value.as_object_mut() else { return Vec::new() };
    ignored
        .iter()
        .filter(|key| object.remove(**key).is_some())
        .map(|key| format!("{at}{key}: accepted for compatibility with the Kinesis Agent; it has no effect here"))
        .collect()
}

/// The real agent's documentation writes endpoints as bare host names
/// (`kinesis.us-east-1.amazonaws.com`); those mean HTTPS.
fn with_scheme(endpoint: String) -> String {
    if endpoint.contains("://") {
        endpoint
    } else {
        format!("https://{endpoint}")
    }
}

fn ranged(value: &Option<Lenient>, key: &str, default: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
    let n = match value {
        Some(v) => v.number(key)?,
        None => return Ok(default),
    };
    if n < min || n > max {
        return Err(invalid(key, format!("{n} is outside {min}..={max}")));
    }
    Ok(n)
}

fn parse_flow(index: usize, mut value: serde_json::Value) -> Result<FlowConfig, ConfigError> {
    let at = |key: &str| format!("flows[{index}].{key}");
    if let Some(object) = value.as_object() {
        if let Some((key, why)) = UNSUPPORTED_FLOW_KEYS.iter().find(|(key, _)| object.contains_key(*key)) {
            return Err(ConfigError::Unsupported { key: at(key), why });
        }
    }
    let notes = take_ignored(&mut value, IGNORED_FLOW_KEYS, &at(""));
    let raw: RawFlow = serde_json::from_value(value)
        .map_err(|source| ConfigError::Syntax { context: format!("flows[{index}]"), source })?;
    let (target, max_bytes_limit, max_record_limit) = match (raw.kinesis_stream, raw.delivery_stream) {
        (Some(stream), None) => (
            Target::Kinesis { stream, partition_key: raw.partition_key_option.unwrap_or(PartitionKeyOption::Random) },
            KINESIS_MAX_BUFFER_SIZE_BYTES,
            KINESIS_MAX_RECORD_SIZE_BYTES,
        ),
        (None, Some(delivery_stream)) => {
            if raw.partition_key_option.is_some() {
                return Err(invalid(at("partitionKeyOption"), "only applies to a kinesisStream flow"));
            }
            (Target::Firehose { delivery_stream }, FIREHOSE_MAX_BUFFER_SIZE_BYTES, FIREHOSE_MAX_RECORD_SIZE_BYTES)
        }
        (Some(_), Some(_)) => {
            return Err(invalid(at("kinesisStream"), "give kinesisStream or deliveryStream, not both"))
        }
        (None, None) => return Err(invalid(at("kinesisStream"), "one of kinesisStream or deliveryStream is required")),
    };
    let (directory, file_name_pattern) = split_pattern(&raw.file_pattern).map_err(|m| invalid(at("filePattern"), m))?;
    let max_buffer_age = ranged(
        &raw.max_buffer_age_millis,
        &at("maxBufferAgeMillis"),
        DEFAULT_MAX_BUFFER_AGE_MILLIS,
        MIN_MAX_BUFFER_AGE_MILLIS,
        MAX_MAX_BUFFER_AGE_MILLIS,
    )?;
    let max_buffer_records = ranged(
        &raw.max_buffer_size_records,
        &at("maxBufferSizeRecords"),
        MAX_BUFFER_SIZE_RECORDS as u64,
        1,
        MAX_BUFFER_SIZE_RECORDS as u64,
    )?;
    let max_buffer_bytes = ranged(
        &raw.max_buffer_size_bytes,
        &at("maxBufferSizeBytes"),
        max_bytes_limit as u64,
        1,
        max_bytes_limit as u64,
    )?;
    let max_record_bytes = ranged(
        &raw.max_record_size_bytes,
        &at("maxRecordSizeBytes"),
        max_record_limit as u64,
        1,
        max_record_limit as u64,
    )?;
    let poll_millis = ranged(
        &raw.min_time_between_file_polls_millis,
        &at("minTimeBetweenFilePollsMillis"),
        DEFAULT_FILE_POLL_MILLIS,
        1,
        60_000,
    )?;
    let retry_initial = ranged(
        &raw.retry_initial_backoff_millis,
        &at("retryInitialBackoffMillis"),
        DEFAULT_RETRY_INITIAL_BACKOFF_MILLIS,
        1,
        MAX_RETRY_BACKOFF_MILLIS,
    )?;
    let retry_max = ranged(
        &raw.retry_max_backoff_millis,
        &at("retryMaxBackoffMillis"),
        DEFAULT_RETRY_MAX_BACKOFF_MILLIS.max(retry_initial),
        retry_initial,
        MAX_RETRY_BACKOFF_MILLIS,
    )?;
    let skip_header_lines = ranged(&raw.skip_header_lines, &at("skipHeaderLines"), 0, 0, u64::from(u32::MAX))?;
    let terminator = raw.truncated_record_terminator.unwrap_or_else(|| "\n".into()).into_bytes();
    if terminator.len() as u64 >= max_record_bytes {
        return Err(invalid(at("truncatedRecordTerminator"), "must be shorter than the largest record"));
    }
    let multi_line_start = match raw.multi_line_start_pattern.filter(|p| !p.is_empty()) {
        Some(p) => Some(Regex::new(&p).map_err(|e| invalid(at("multiLineStartPattern"), e.to_string()))?),
        None => None,
    };
    let processors = raw
        .data_processing_options
        .into_iter()
        .enumerate()
        .map(|(i, value)| parse_processing(&at(&format!("dataProcessingOptions[{i}]")), value))
        .collect::<Result<Vec<_>, _>>()?;
    let id = match &target {
        Target::Kinesis { stream, .. } => format!("kinesis:{stream}:{}", raw.file_pattern),
        Target::Firehose { delivery_stream } => format!("firehose:{delivery_stream}:{}", raw.file_pattern),
    };
    Ok(FlowConfig {
        id,
        directory,
        file_name_pattern,
        target,
        initial_position: raw.initial_position.unwrap_or(InitialPosition::EndOfFile),
        max_buffer_age: std::time::Duration::from_millis(max_buffer_age),
        max_buffer_records: max_buffer_records as usize,
        max_buffer_bytes: max_buffer_bytes as usize,
        max_record_bytes: max_record_bytes as usize,
        poll_interval: std::time::Duration::from_millis(poll_millis),
        multi_line_start,
        skip_header_lines,
        truncated_record_terminator: terminator,
        retry: RetryBackoff {
            initial: std::time::Duration::from_millis(retry_initial),
            max: std::time::Duration::from_millis(retry_max),
        },
        notes,
        processors,
    })
}

/// Splits `/var/log/app/*.log` into the folder and the file-name glob. Wildcards are only
/// accepted in the file name: the folder is watched, not searched.
fn split_pattern(pattern: &str) -> Result<(PathBuf, String), String> {
    let path = Path::new(pattern);
    let name = path.file_name().and_then(|n| n.to_str()).ok_or("needs a file name (or glob) after the folder")?;
    let directory =
        path.parent().filter(|p| !p.as_os_str().is_empty()).ok_or("needs an absolute path: /folder/name-glob")?;
    if !directory.is_absolute() {
        return Err("needs an absolute path: /folder/name-glob".into());
    }
    if directory.to_string_lossy().contains(['*', '?', '[']) {
        return Err("wildcards are supported in the file name only, not in the folders".into());
    }
    Ok((directory.to_path_buf(), name.to_owned()))
}

fn parse_processing(key: &str, value: serde_json::Value) -> Result<Processor, ConfigError> {
    if value.get("optionName").and_then(|v| v.as_str()) == Some("ADDEC2METADATA") {
        return Err(ConfigError::Unsupported {
            key: format!("{key}: ADDEC2METADATA"),
            why: "there is no EC2 instance metadata service here; use ADDMETADATA with explicit values",
        });
    }
    let raw: RawProcessing =
        serde_json::from_value(value).map_err(|source| ConfigError::Syntax { context: key.into(), source })?;
    match raw {
        RawProcessing::SingleLine => Ok(Processor::SingleLine),
        RawProcessing::CsvToJson { custom_field_names, delimiter } => {
            if custom_field_names.is_empty() {
                return Err(invalid(format!("{key}.customFieldNames"), "needs at least one name"));
            }
            let delimiter = delimiter.unwrap_or_else(|| ",".into());
            if delimiter.is_empty() {
                return Err(invalid(format!("{key}.delimiter"), "must not be empty"));
            }
            Ok(Processor::CsvToJson { field_names: custom_field_names, delimiter })
        }
        RawProcessing::LogToJson { log_format, match_pattern, custom_field_names } => {
            let pattern = match &match_pattern {
                Some(p) => Regex::new(p).map_err(|e| invalid(format!("{key}.matchPattern"), e.to_string()))?,
                None => log_format.pattern(),
            };
            let groups = pattern.captures_len() - 1;
            let names = match custom_field_names {
                Some(names) => names,
                None if match_pattern.is_some() => {
                    return Err(invalid(format!("{key}.customFieldNames"), "required with matchPattern"))
                }
                None => log_format.field_names().iter().map(|s| (*s).to_owned()).collect(),
            };
            if names.len() != groups {
                return Err(invalid(
                    format!("{key}.customFieldNames"),
                    format!("{} names for {groups} groups of the pattern", names.len()),
                ));
            }
            Ok(Processor::LogToJson { pattern, field_names: names })
        }
        RawProcessing::AddMetadata { timestamp, metadata } => {
            let timestamp = match timestamp {
                Some(v) => v.boolean(&format!("{key}.timestamp"))?,
                None => false,
            };
            Ok(Processor::AddMetadata { timestamp, metadata: metadata.unwrap_or_default() })
        }
    }
}

#[cfg(test)]
mod tests;
