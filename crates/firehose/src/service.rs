//! The Firehose service: the control plane (create, describe, update, delete, tags,
//! encryption) and the data plane's entry (PutRecord, PutRecordBatch), over a log of
//! its own. Delivery runs in [`crate::deliver`], Kinesis sources in [`crate::source`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use rand::RngCore;
use rheo_engine::Engine;
use rheo_storage::{Clock, FileSystem, LogConfig, NewStream, ShardLog, StreamProps};
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use crate::config::{self, CheckOptions, DestinationKind, Runtime};
use crate::dest::s3::ObjectStores;
use crate::error::{FirehoseError, Result};
use crate::limits::*;
use crate::metrics::StreamStats;
use crate::state::{self, Encryption, KinesisSource, StreamState};
pub use crate::stream::FirehoseConfig;
use crate::stream::{append, Active, Entry, Shared};
use crate::wire::*;

/// A deleted stream still shown as DELETING.
struct Deleting {
    until_ms: u64,
    description: Value,
    stream_type: String,
}

/// Amazon Data Firehose over Rheo's storage.
pub struct Firehose {
    pub(crate) shared: Arc<Shared>,
    /// Serialises control-plane changes so each validates against what it changes.
    control: tokio::sync::Mutex<()>,
    streams: RwLock<BTreeMap<String, Arc<Entry>>>,
    deleting: Mutex<HashMap<String, Deleting>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// Subfolder of the data directory holding Firehose's log.
pub const LOG_DIR: &str = "firehose";

fn name_arg(name: &Option<String>) -> Result<&str> {
    let name = name.as_deref().ok_or_else(|| {
        FirehoseError::Validation(
            "1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null"
                .into(),
        )
    })?;
    if name.is_empty() || name.len() > 64 {
        return Err(FirehoseError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'deliveryStreamName' failed to satisfy constraint: Member must have length {}",
            if name.is_empty() { "greater than or equal to 1" } else { "less than or equal to 64" }
        )));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
        return Err(FirehoseError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )));
    }
    Ok(name)
}

fn check_limit(limit: Option<i64>, field: &str, max: usize) -> Result<Option<usize>> {
    match limit {
        None => Ok(None),
        Some(limit) if limit >= 1 && limit as usize <= max => Ok(Some(limit as usize)),
        Some(limit) => Err(FirehoseError::Validation(format!(
            "1 validation error detected: Value '{limit}' at '{field}' failed to satisfy constraint: Member must have value {}",
            if limit < 1 { "greater than or equal to 1".to_owned() } else { format!("less than or equal to {max}") }
        ))),
    }
}

fn check_tags(tags: &[Tag]) -> Result<()> {
    if tags.len() > TAGS_MAX {
        return Err(FirehoseError::Validation(format!(
            "1 validation error detected: Value '[…]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to {TAGS_MAX}"
        )));
    }
    for tag in tags {
        if tag.key.is_empty() || tag.key.chars().count() > 128 {
            return Err(FirehoseError::Validation(format!(
                "1 validation error detected: Value '{}' at 'tags.member.key' failed to satisfy constraint: Member must have length less than or equal to 128",
                tag.key
            )));
        }
        if tag.key.starts_with("aws:") {
            return Err(FirehoseError::invalid(format!("Tag keys must not start with 'aws:': {}", tag.key)));
        }
        if tag.value.as_ref().is_some_and(|v| v.chars().count() > 256) {
            return Err(FirehoseError::Validation(format!(
                "1 validation error detected: Value at 'tags.member.value' of tag '{}' failed to satisfy constraint: Member must have length less than or equal to 256",
                tag.key
            )));
        }
    }
    Ok(())
}

fn check_encryption(input: &EncryptionConfigurationInput) -> Result<(String, Option<String>)> {
    let key_type = input.key_type.clone().unwrap_or_else(|| "AWS_OWNED_CMK".into());
    match key_type.as_str() {
        "AWS_OWNED_CMK" if input.key_arn.is_some() => Err(FirehoseError::invalid(
            "KeyARN must not be specified when KeyType is AWS_OWNED_CMK.",
        )),
        "AWS_OWNED_CMK" => Ok((key_type, None)),
        "CUSTOMER_MANAGED_CMK" => match &input.key_arn {
            Some(arn) if arn.starts_with("arn:") => Ok((key_type, Some(arn.clone()))),
            Some(arn) => Err(FirehoseError::Validation(format!(
                "1 validation error detected: Value '{arn}' at 'deliveryStreamEncryptionConfigurationInput.keyARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:.*:kms:[a-zA-Z0-9\\-]+:\\d{{12}}:(key|alias)/[a-zA-Z_0-9+=,.@\\-_/]+"
            ))),
            None => Err(FirehoseError::invalid("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.")),
        },
        other => Err(FirehoseError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'deliveryStreamEncryptionConfigurationInput.keyType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_OWNED_CMK, CUSTOMER_MANAGED_CMK]"
        ))),
    }
}

/// The one destination block of a create or update request.
fn one_destination(blocks: &[(&'static str, Option<&Value>)]) -> Result<(&'static str, Value)> {
    let given: Vec<_> = blocks.iter().filter_map(|(name, value)| value.map(|v| (*name, v.clone()))).collect();
    match given.len() {
        1 => Ok(given.into_iter().next().unwrap_or(("", Value::Null))),
        _ => Err(FirehoseError::invalid("Exactly one destination configuration is supported for a Firehose")),
    }
}

fn destination_kind(member: &str) -> Result<DestinationKind> {
    match member {
        "ExtendedS3" | "S3" => Ok(DestinationKind::ExtendedS3),
        "HttpEndpoint" => Ok(DestinationKind::HttpEndpoint),
        "Redshift" => Ok(DestinationKind::Redshift),
        other => Err(FirehoseError::invalid(format!(
            "{other} destinations are not supported by Rheo; use ExtendedS3, HttpEndpoint or Redshift."
        ))),
    }
}

/// A `DeliveryStreamType` value.
fn stream_type(value: Option<&str>) -> Result<String> {
    match value.unwrap_or("DirectPut") {
        t @ ("DirectPut" | "KinesisStreamAsSource") => Ok(t.to_owned()),
        t @ ("MSKAsSource" | "DatabaseAsSource") => {
            Err(FirehoseError::invalid(format!("DeliveryStreamType {t} is not supported by Rheo.")))
        }
        other => Err(FirehoseError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'deliveryStreamType' failed to satisfy constraint: Member must satisfy enum value set: [DirectPut, KinesisStreamAsSource, MSKAsSource, DatabaseAsSource]"
        ))),
    }
}

fn random_record_id(stream_id: u64, lsn: u64) -> String {
    let mut salt = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut salt);
    let mut id = format!("{stream_id:016x}{lsn:016x}");
    for byte in salt {
        id.push_str(&format!("{byte:02x}"));
    }
    id
}

impl Firehose {
    /// Opens (recovering) Firehose's log under `data_dir` and restarts delivery of every
    /// stream from its checkpoint. Must be called inside a tokio runtime.
    pub fn open(
        fs: Arc<dyn FileSystem>,
        clock: Arc<dyn Clock>,
        data_dir: &Path,
        log_config: LogConfig,
        kinesis: Arc<Engine>,
        config: FirehoseConfig,
    ) -> Result<Arc<Firehose>> {
        let dir = data_dir.join(LOG_DIR);
        fs.create_dir_all(&dir).map_err(|e| FirehoseError::Internal(format!("create {}: {e}", dir.display())))?;
        let log = ShardLog::open(fs, clock.clone(), &dir, log_config)?;
        let stores = ObjectStores::new(config.object_stores.clone());
        let shared = Arc::new(Shared { log, kinesis, config, stores, http: std::sync::OnceLock::new(), clock });
        let firehose = Arc::new(Firehose {
            shared,
            control: tokio::sync::Mutex::new(()),
            streams: RwLock::new(BTreeMap::new()),
            deleting: Mutex::new(HashMap::new()),
            tasks: Mutex::new(Vec::new()),
        });
        for meta in firehose.shared.log.streams() {
            let Some(state) = StreamState::from_settings(&meta.props.settings) else {
                tracing::error!(message = "Delivery stream without Firehose state; not delivering.", stream = %meta.name);
                continue;
            };
            let runtime = match config::check(state.kind, &state.destination, firehose.check_options()) {
                Ok(runtime) => runtime,
                Err(error) => {
                    tracing::error!(message = "Stored destination no longer valid; not delivering.", stream = %meta.name, %error);
                    continue;
                }
            };
            let Some(shard) = meta.shards.first() else { continue };
            firehose.start(&meta.name, meta.stream_id, shard.uid, state, runtime);
        }
        Ok(firehose)
    }

    fn check_options(&self) -> CheckOptions {
        CheckOptions { allow_http_endpoints: self.shared.config.allow_http_endpoints }
    }

    fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:firehose:{}:{}:deliverystream/{name}",
            self.shared.config.region, self.shared.config.account_id
        )
    }

    fn not_found(&self, name: &str) -> FirehoseError {
        FirehoseError::NotFound { name: name.to_owned(), account: self.shared.config.account_id.clone() }
    }

    fn entry(&self, name: &str) -> Result<Arc<Entry>> {
        self.streams.read().get(name).cloned().ok_or_else(|| self.not_found(name))
    }

    /// Registers a stream and spawns its tasks.
    fn start(&self, name: &str, stream_id: u64, shard_uid: u64, state: StreamState, runtime: Runtime) {
        let version = state.version;
        let delivered_lsn = state.delivered_lsn;
        let is_kinesis = state.source.is_some();
        let entry = Arc::new(Entry {
            name: name.to_owned(),
            arn: self.arn(name),
            stream_id,
            shard_uid,
            state: RwLock::new(state),
            active: watch::Sender::new(Arc::new(Active { version, runtime })),
            stop: watch::Sender::new(false),
            stats: Arc::new(StreamStats::default()),
        });
        self.streams.write().insert(name.to_owned(), entry.clone());
        let mut tasks = self.tasks.lock();
        tasks.retain(|task| !task.is_finished());
        tasks.push(tokio::spawn(crate::deliver::run(self.shared.clone(), entry.clone(), delivered_lsn)));
        if is_kinesis {
            tasks.push(tokio::spawn(crate::source::run(self.shared.clone(), entry)));
        }
    }

    fn status(&self, state: &StreamState) -> &'static str {
        if self.shared.now_ms() < state.created_ms + self.shared.config.create_ms {
            "CREATING"
        } else {
            "ACTIVE"
        }
    }

    fn encryption_status(&self, encryption: &Option<Encryption>) -> &'static str {
        match encryption {
            None => "DISABLED",
            Some(e) => {
                let settled = self.shared.now_ms() >= e.changed_ms + self.shared.config.encryption_ms;
                match (e.enabled, settled) {
                    (true, true) => "ENABLED",
                    (true, false) => "ENABLING",
                    (false, true) => "DISABLED",
                    (false, false) => "DISABLING",
                }
            }
        }
    }

    /// Forgets streams whose DELETING period has ended.
    fn reap(&self) {
        let now = self.shared.now_ms();
        self.deleting.lock().retain(|_, d| d.until_ms > now);
    }

    /// CreateDeliveryStream.
    pub async fn create_delivery_stream(&self, input: CreateDeliveryStreamInput) -> Result<Value> {
        let name = name_arg(&input.delivery_stream_name)?.to_owned();
        let stream_type = stream_type(input.delivery_stream_type.as_deref())?;
        let (member, mut destination) = one_destination(&[
            ("S3", input.s3_destination_configuration.as_ref()),
            ("ExtendedS3", input.extended_s3_destination_configuration.as_ref()),
            ("Redshift", input.redshift_destination_configuration.as_ref()),
            ("HttpEndpoint", input.http_endpoint_destination_configuration.as_ref()),
            ("Elasticsearch", input.elasticsearch_destination_configuration.as_ref()),
            ("AmazonOpenSearchService", input.amazonopensearchservice_destination_configuration.as_ref()),
            ("AmazonOpenSearchServerless", input.amazon_open_search_serverless_destination_configuration.as_ref()),
            ("Splunk", input.splunk_destination_configuration.as_ref()),
            ("Snowflake", input.snowflake_destination_configuration.as_ref()),
            ("Iceberg", input.iceberg_destination_configuration.as_ref()),
        ])?;
        let kind = destination_kind(member)?;
        let source = match (&stream_type[..], &input.kinesis_stream_source_configuration) {
            ("KinesisStreamAsSource", Some(source)) => {
                let arn = source.kinesis_stream_arn.clone().ok_or_else(|| {
                    FirehoseError::invalid("KinesisStreamSourceConfiguration.KinesisStreamARN is required.")
                })?;
                let role = source
                    .role_arn
                    .clone()
                    .ok_or_else(|| FirehoseError::invalid("KinesisStreamSourceConfiguration.RoleARN is required."))?;
                Some((arn, role))
            }
            ("KinesisStreamAsSource", None) => {
                return Err(FirehoseError::invalid(
                    "KinesisStreamSourceConfiguration is required for KinesisStreamAsSource delivery streams.",
                ))
            }
            (_, Some(_)) => {
                return Err(FirehoseError::invalid(
                    "KinesisSourceStreamConfig is only applicable for KinesisStreamAsSource stream type",
                ))
            }
            _ => None,
        };
        let encryption = match &input.delivery_stream_encryption_configuration_input {
            Some(_) if source.is_some() => {
                return Err(FirehoseError::invalid(
                    "Server-side encryption is only supported for DirectPut delivery streams.",
                ))
            }
            Some(encryption) => Some(check_encryption(encryption)?),
            None => None,
        };
        let tags = input.tags.clone().unwrap_or_default();
        check_tags(&tags)?;
        config::fill_defaults(kind, &mut destination);
        let runtime = config::check(kind, &destination, self.check_options())?;

        let _guard = self.control.lock().await;
        self.reap();
        if self.streams.read().contains_key(&name) || self.deleting.lock().contains_key(&name) {
            return Err(FirehoseError::Exists { name, account: self.shared.config.account_id.clone() });
        }
        if self.streams.read().len() >= self.shared.config.stream_limit as usize {
            return Err(FirehoseError::LimitExceeded(format!(
                "You have already consumed your limit of {} Firehose streams.",
                self.shared.config.stream_limit
            )));
        }
        let now = self.shared.now_ms();
        let (source, source_positions) = match source {
            Some((arn, role)) => {
                let positions = crate::source::latest_positions(&self.shared, &arn)?;
                (Some(KinesisSource { stream_arn: arn, role_arn: role, start_ms: now }), positions)
            }
            None => (None, BTreeMap::new()),
        };
        let state = StreamState {
            stream_type,
            created_ms: now,
            updated_ms: None,
            version: 1,
            kind,
            destination,
            source,
            encryption: encryption.map(|(key_type, key_arn)| Encryption {
                key_type,
                key_arn,
                enabled: true,
                changed_ms: now,
            }),
            delivered_lsn: 0,
            source_positions,
        };
        let mut props = StreamProps {
            retention_hours: RETENTION_HOURS,
            tags: tags.into_iter().map(|t| (t.key, t.value.unwrap_or_default())).collect(),
            ..Default::default()
        };
        state.store(&mut props.settings)?;
        let meta = self
            .shared
            .log
            .create_stream(NewStream { name: name.clone(), shards: vec![(0, u128::MAX)], props })
            .await?;
        let shard_uid = meta.shards.first().map(|s| s.uid).ok_or_else(|| FirehoseError::Internal("no shard".into()))?;
        self.start(&name, meta.stream_id, shard_uid, state, runtime);
        tracing::info!(message = "Delivery stream created.", stream = %name, destination = ?kind);
        Ok(json!({ "DeliveryStreamARN": self.arn(&name) }))
    }

    fn description(&self, entry: &Entry, state: &StreamState, status: &str) -> Value {
        let mut description = Map::new();
        description.insert("DeliveryStreamName".into(), json!(entry.name));
        description.insert("DeliveryStreamARN".into(), json!(entry.arn));
        description.insert("DeliveryStreamStatus".into(), json!(status));
        description.insert("DeliveryStreamType".into(), json!(state.stream_type));
        description.insert("VersionId".into(), json!(state.version.to_string()));
        description.insert("CreateTimestamp".into(), json!(state.created_ms as f64 / 1000.0));
        if let Some(updated) = state.updated_ms {
            description.insert("LastUpdateTimestamp".into(), json!(updated as f64 / 1000.0));
        }
        let mut encryption = Map::new();
        if let Some(e) = &state.encryption {
            if e.enabled {
                encryption.insert("KeyType".into(), json!(e.key_type));
                if let Some(arn) = &e.key_arn {
                    encryption.insert("KeyARN".into(), json!(arn));
                }
            }
        }
        encryption.insert("Status".into(), json!(self.encryption_status(&state.encryption)));
        description.insert("DeliveryStreamEncryptionConfiguration".into(), Value::Object(encryption));
        if let Some(source) = &state.source {
            description.insert(
                "Source".into(),
                json!({"KinesisStreamSourceDescription": {
                    "KinesisStreamARN": source.stream_arn,
                    "RoleARN": source.role_arn,
                    "DeliveryStartTimestamp": source.start_ms as f64 / 1000.0,
                }}),
            );
        }
        description.insert("Destinations".into(), json!([config::describe(state.kind, &state.destination)]));
        description.insert("HasMoreDestinations".into(), json!(false));
        Value::Object(description)
    }

    /// DescribeDeliveryStream.
    pub async fn describe_delivery_stream(&self, input: DescribeDeliveryStreamInput) -> Result<Value> {
        let name = name_arg(&input.delivery_stream_name)?;
        check_limit(input.limit, "limit", LIST_LIMIT_MAX)?;
        self.reap();
        if let Some(deleting) = self.deleting.lock().get(name) {
            return Ok(json!({ "DeliveryStreamDescription": deleting.description }));
        }
        let entry = self.entry(name)?;
        let state = entry.state.read().clone();
        let mut description = self.description(&entry, &state, self.status(&state));
        if input.exclusive_start_destination_id.as_deref() == Some(DESTINATION_ID) {
            description["Destinations"] = json!([]);
        }
        Ok(json!({ "DeliveryStreamDescription": description }))
    }

    /// ListDeliveryStreams.
    pub async fn list_delivery_streams(&self, input: ListDeliveryStreamsInput) -> Result<Value> {
        let limit = check_limit(input.limit, "limit", LIST_LIMIT_MAX)?.unwrap_or(LIST_LIMIT_DEFAULT);
        let type_filter = match input.delivery_stream_type.as_deref() {
            None => None,
            Some(t) => Some(stream_type(Some(t)).or_else(|e| match t {
                "MSKAsSource" | "DatabaseAsSource" => Ok(t.to_owned()),
                _ => Err(e),
            })?),
        };
        self.reap();
        let mut names: Vec<(String, String)> =
            self.streams.read().values().map(|e| (e.name.clone(), e.state.read().stream_type.clone())).collect();
        names.extend(self.deleting.lock().iter().map(|(n, d)| (n.clone(), d.stream_type.clone())));
        names.sort();
        let matching: Vec<String> = names
            .into_iter()
            .filter(|(_, t)| type_filter.as_ref().is_none_or(|f| f == t))
            .filter(|(n, _)| input.exclusive_start_delivery_stream_name.as_ref().is_none_or(|start| n > start))
            .map(|(n, _)| n)
            .collect();
        let has_more = matching.len() > limit;
        let page: Vec<String> = matching.into_iter().take(limit).collect();
        Ok(json!({ "DeliveryStreamNames": page, "HasMoreDeliveryStreams": has_more }))
    }

    /// DeleteDeliveryStream.
    pub async fn delete_delivery_stream(&self, input: DeleteDeliveryStreamInput) -> Result<Value> {
        let name = name_arg(&input.delivery_stream_name)?.to_owned();
        let _guard = self.control.lock().await;
        self.reap();
        if self.deleting.lock().contains_key(&name) {
            return Ok(json!({}));
        }
        let entry = self.entry(&name)?;
        let state = entry.state.read().clone();
        if self.status(&state) == "CREATING" {
            return Err(FirehoseError::ResourceInUse(format!(
                "Firehose {name} is not in the ACTIVE state and cannot be deleted."
            )));
        }
        entry.stop.send_replace(true);
        self.shared.log.delete_stream(entry.stream_id).await?;
        self.streams.write().remove(&name);
        let description = self.description(&entry, &state, "DELETING");
        self.deleting.lock().insert(
            name.clone(),
            Deleting {
                until_ms: self.shared.now_ms() + self.shared.config.delete_ms,
                description,
                stream_type: state.stream_type.clone(),
            },
        );
        tracing::info!(message = "Delivery stream deleted.", stream = %name);
        Ok(json!({}))
    }

    /// Commits a change of the state (not the checkpoints) and mirrors it in memory.
    async fn commit(
        &self,
        entry: &Entry,
        change: impl Fn(&mut StreamState) + Send + Sync + Clone + 'static,
    ) -> Result<()> {
        let committed = change.clone();
        self.shared.log.update_stream(entry.stream_id, move |txn| state::edit(txn, committed)).await?;
        change(&mut entry.state.write());
        Ok(())
    }

    /// UpdateDestination.
    pub async fn update_destination(&self, input: UpdateDestinationInput) -> Result<Value> {
        let name = name_arg(&input.delivery_stream_name)?.to_owned();
        let version = input.current_delivery_stream_version_id.clone().ok_or_else(|| {
            FirehoseError::Validation("1 validation error detected: Value null at 'currentDeliveryStreamVersionId' failed to satisfy constraint: Member must not be null".into())
        })?;
        let version_number: u64 = version.parse().map_err(|_| {
            FirehoseError::Validation(format!("1 validation error detected: Value '{version}' at 'currentDeliveryStreamVersionId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+"))
        })?;
        let destination_id = input.destination_id.clone().ok_or_else(|| {
            FirehoseError::Validation("1 validation error detected: Value null at 'destinationId' failed to satisfy constraint: Member must not be null".into())
        })?;
        let (member, update) = one_destination(&[
            ("S3", input.s3_destination_update.as_ref()),
            ("ExtendedS3", input.extended_s3_destination_update.as_ref()),
            ("Redshift", input.redshift_destination_update.as_ref()),
            ("HttpEndpoint", input.http_endpoint_destination_update.as_ref()),
            ("Elasticsearch", input.elasticsearch_destination_update.as_ref()),
            ("AmazonOpenSearchService", input.amazonopensearchservice_destination_update.as_ref()),
            ("AmazonOpenSearchServerless", input.amazon_open_search_serverless_destination_update.as_ref()),
            ("Splunk", input.splunk_destination_update.as_ref()),
            ("Snowflake", input.snowflake_destination_update.as_ref()),
            ("Iceberg", input.iceberg_destination_update.as_ref()),
        ])?;
        let kind = destination_kind(member)?;

        let _guard = self.control.lock().await;
        let entry = self.entry(&name)?;
        let state = entry.state.read().clone();
        if destination_id != DESTINATION_ID {
            return Err(FirehoseError::invalid(format!("Destination Id {destination_id} not found.")));
        }
        if version_number != state.version {
            return Err(FirehoseError::ConcurrentModification);
        }
        let mut destination = if kind == state.kind {
            let mut merged = state.destination.clone();
            config::merge(&mut merged, &update);
            merged
        } else {
            update
        };
        config::fill_defaults(kind, &mut destination);
        if kind == state.kind {
            let was = |v: &Value| v.get("S3BackupMode").and_then(Value::as_str).map(str::to_owned);
            if was(&state.destination).as_deref() == Some("Enabled") && was(&destination).as_deref() == Some("Disabled")
            {
                return Err(FirehoseError::invalid("S3BackupMode cannot be changed from Enabled to Disabled."));
            }
            let dynamic = |v: &Value| {
                v.pointer("/DynamicPartitioningConfiguration/Enabled").and_then(Value::as_bool).unwrap_or(false)
            };
            if dynamic(&state.destination) != dynamic(&destination) {
                return Err(FirehoseError::invalid(
                    "Dynamic partitioning can only be enabled when the delivery stream is created, and cannot be disabled.",
                ));
            }
        }
        let runtime = config::check(kind, &destination, self.check_options())?;
        let now = self.shared.now_ms();
        let new_version = state.version + 1;
        self.commit(&entry, move |s| {
            s.kind = kind;
            s.destination = destination.clone();
            s.version = new_version;
            s.updated_ms = Some(now);
        })
        .await?;
        entry.active.send_replace(Arc::new(Active { version: new_version, runtime }));
        Ok(json!({}))
    }

    /// StartDeliveryStreamEncryption.
    pub async fn start_encryption(&self, input: StartEncryptionInput) -> Result<Value> {
        let name = name_arg(&input.delivery_stream_name)?.to_owned();
        let (key_type, key_arn) =
            check_encryption(&input.delivery_stream_encryption_configuration_input.clone().unwrap_or_default())?;
        let _guard = self.control.lock().await;
        let entry = self.entry(&name)?;
        if entry.state.read().source.is_some() {
            return Err(FirehoseError::invalid(
                "Server-side encryption is only supported for DirectPut delivery streams.",
            ));
        }
        let now = self.shared.now_ms();
        self.commit(&entry, move |s| {
            s.encryption = Some(Encryption {
                key_type: key_type.clone(),
                key_arn: key_arn.clone(),
                enabled: true,
                changed_ms: now,
            });
        })
        .await?;
        Ok(json!({}))
    }

    /// StopDeliveryStreamEncryption.
    pub async fn stop_encryption(&self, input: StopEncryptionInput) -> Result<Value> {
        let name = name_arg(&input.delivery_stream_name)?.to_owned();
        let _guard = self.control.lock().await;
        let entry = self.entry(&name)?;
        let now = self.shared.now_ms();
        if entry.state.read().encryption.as_ref().is_none_or(|e| !e.enabled) {
            return Ok(json!({}));
        }
        self.commit(&entry, move |s| {
            if let Some(e) = &mut s.encryption {
                e.enabled = false;
                e.changed_ms = now;
            }
        })
        .await?;
        Ok(json!({}))
    }

    /// TagDeliveryStream.
    pub async fn tag_delivery_stream(&self, input: TagDeliveryStreamInput) -> Result<Value> {
        let name = name_arg(&input.delivery_stream_name)?.to_owned();
        let tags = input.tags.clone().unwrap_or_default();
        if tags.is_empty() {
            return Err(FirehoseError::Validation("1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1".into()));
        }
        check_tags(&tags)?;
        let _guard = self.control.lock().await;
        let entry = self.entry(&name)?;
        let meta = self.shared.log.stream(entry.stream_id).ok_or_else(|| self.not_found(&name))?;
        let mut merged = meta.props.tags.clone();
        for tag in &tags {
            merged.insert(tag.key.clone(), tag.value.clone().unwrap_or_default());
        }
        if merged.len() > TAGS_MAX {
            return Err(FirehoseError::LimitExceeded(format!(
                "A delivery stream cannot have more than {TAGS_MAX} tags."
            )));
        }
        self.shared
            .log
            .update_stream(entry.stream_id, move |txn| {
                txn.props_mut().tags = merged;
                Ok(())
            })
            .await?;
        Ok(json!({}))
    }

    /// UntagDeliveryStream.
    pub async fn untag_delivery_stream(&self, input: UntagDeliveryStreamInput) -> Result<Value> {
        let name = name_arg(&input.delivery_stream_name)?.to_owned();
        let keys = input.tag_keys.clone().unwrap_or_default();
        if keys.is_empty() || keys.len() > TAGS_MAX {
            return Err(FirehoseError::Validation(format!(
                "1 validation error detected: Value '{keys:?}' at 'tagKeys' failed to satisfy constraint: Member must have length {}",
                if keys.is_empty() { "greater than or equal to 1".to_owned() } else { format!("less than or equal to {TAGS_MAX}") }
            )));
        }
        let _guard = self.control.lock().await;
        let entry = self.entry(&name)?;
        self.shared
            .log
            .update_stream(entry.stream_id, move |txn| {
                let tags = &mut txn.props_mut().tags;
                for key in &keys {
                    tags.remove(key);
                }
                Ok(())
            })
            .await?;
        Ok(json!({}))
    }

    /// ListTagsForDeliveryStream.
    pub async fn list_tags(&self, input: ListTagsInput) -> Result<Value> {
        let name = name_arg(&input.delivery_stream_name)?;
        let limit = check_limit(input.limit, "limit", TAGS_MAX)?.unwrap_or(TAGS_MAX);
        let entry = self.entry(name)?;
        let meta = self.shared.log.stream(entry.stream_id).ok_or_else(|| self.not_found(name))?;
        let after: Vec<(&String, &String)> = meta
            .props
            .tags
            .iter()
            .filter(|(k, _)| input.exclusive_start_tag_key.as_ref().is_none_or(|start| *k > start))
            .collect();
        let has_more = after.len() > limit;
        let tags: Vec<Value> = after.into_iter().take(limit).map(|(k, v)| json!({"Key": k, "Value": v})).collect();
        Ok(json!({ "Tags": tags, "HasMoreTags": has_more }))
    }

    /// The stream records can be put into: exists, ACTIVE, fed directly.
    fn writable(&self, name: &str) -> Result<(Arc<Entry>, bool)> {
        let entry = self.entry(name)?;
        let state = entry.state.read();
        if state.source.is_some() {
            return Err(FirehoseError::invalid(
                "This operation is not permitted on KinesisStreamAsSource delivery stream type.",
            ));
        }
        if self.status(&state) != "ACTIVE" {
            return Err(FirehoseError::ResourceInUse(format!("Firehose {name} is not in the ACTIVE state.")));
        }
        let encrypted = self.encryption_status(&state.encryption) == "ENABLED";
        drop(state);
        Ok((entry, encrypted))
    }

    fn check_record(data: &Option<Blob>, field: &str) -> Result<()> {
        let Some(data) = data else {
            return Err(FirehoseError::Validation(format!(
                "1 validation error detected: Value null at '{field}.data' failed to satisfy constraint: Member must not be null"
            )));
        };
        if data.0.len() > RECORD_BYTES_MAX {
            return Err(FirehoseError::Validation(format!(
                "1 validation error detected: Value at '{field}.data' failed to satisfy constraint: Member must have length less than or equal to {RECORD_BYTES_MAX}"
            )));
        }
        Ok(())
    }

    /// PutRecord.
    pub async fn put_record(&self, input: PutRecordInput) -> Result<Value> {
        let name = name_arg(&input.delivery_stream_name)?;
        let record = input.record.ok_or_else(|| {
            FirehoseError::Validation("1 validation error detected: Value null at 'record' failed to satisfy constraint: Member must not be null".into())
        })?;
        Self::check_record(&record.data, "record")?;
        let (entry, encrypted) = self.writable(name)?;
        let data = Bytes::from(record.data.unwrap_or_default().0);
        let size = data.len() as u64;
        let appended = self.append(&entry, vec![data]).await?;
        let lsn = match appended.into_iter().next() {
            Some(Ok(lsn)) => lsn,
            Some(Err(error)) => return Err(error),
            None => return Err(FirehoseError::Internal("append returned nothing".into())),
        };
        StreamStats::add(&entry.stats.incoming_records, 1);
        StreamStats::add(&entry.stats.incoming_bytes, size);
        Ok(json!({ "RecordId": random_record_id(entry.stream_id, lsn), "Encrypted": encrypted }))
    }

    /// PutRecordBatch.
    pub async fn put_record_batch(&self, input: PutRecordBatchInput) -> Result<Value> {
        let name = name_arg(&input.delivery_stream_name)?;
        let records = input.records.ok_or_else(|| {
            FirehoseError::Validation("1 validation error detected: Value null at 'records' failed to satisfy constraint: Member must not be null".into())
        })?;
        if records.is_empty() || records.len() > BATCH_RECORDS_MAX {
            return Err(FirehoseError::Validation(format!(
                "1 validation error detected: Value '[…]' at 'records' failed to satisfy constraint: Member must have length {}",
                if records.is_empty() { "greater than or equal to 1".to_owned() } else { format!("less than or equal to {BATCH_RECORDS_MAX}") }
            )));
        }
        for (index, record) in records.iter().enumerate() {
            Self::check_record(&record.data, &format!("records.{}.member", index + 1))?;
        }
        let total: usize = records.iter().map(|r| r.data.as_ref().map_or(0, |d| d.0.len())).sum();
        if total > BATCH_BYTES_MAX {
            return Err(FirehoseError::invalid(format!(
                "Records size exceeds {BATCH_BYTES_MAX} bytes limit: the request has {total} bytes."
            )));
        }
        let (entry, encrypted) = self.writable(name)?;
        let data: Vec<Bytes> = records.into_iter().map(|r| Bytes::from(r.data.unwrap_or_default().0)).collect();
        let sizes: Vec<u64> = data.iter().map(|d| d.len() as u64).collect();
        let appended = self.append(&entry, data).await?;
        let mut failed = 0;
        let responses: Vec<PutRecordBatchEntry> = appended
            .into_iter()
            .zip(sizes)
            .map(|(result, size)| match result {
                Ok(lsn) => {
                    StreamStats::add(&entry.stats.incoming_records, 1);
                    StreamStats::add(&entry.stats.incoming_bytes, size);
                    PutRecordBatchEntry {
                        record_id: Some(random_record_id(entry.stream_id, lsn)),
                        error_code: None,
                        error_message: None,
                    }
                }
                Err(error) => {
                    failed += 1;
                    tracing::warn!(message = "Record refused.", stream = %entry.name, %error);
                    PutRecordBatchEntry {
                        record_id: None,
                        error_code: Some("ServiceUnavailableException".into()),
                        error_message: Some("Slow down.".into()),
                    }
                }
            })
            .collect();
        Ok(json!({ "FailedPutCount": failed, "Encrypted": encrypted, "RequestResponses": responses }))
    }

    /// Appends records to a stream's log; resolves once they are durable.
    pub(crate) async fn append(&self, entry: &Entry, data: Vec<Bytes>) -> Result<Vec<Result<u64>>> {
        append(&self.shared, entry, data).await
    }

    /// Counters of every live stream, for `/metrics`.
    pub fn stats(&self) -> Vec<(String, Arc<StreamStats>)> {
        self.streams.read().values().map(|e| (e.name.clone(), e.stats.clone())).collect()
    }

    /// Renders metrics in Prometheus's text format.
    /// The counters of the log that buffers records before delivery.
    pub fn log_stats(&self) -> rheo_storage::LogStats {
        self.shared.log.stats()
    }

    pub fn render_metrics(&self, out: &mut String) {
        crate::metrics::render(out, &self.stats(), self.shared.now_ms());
    }

    /// Stops every task and the log writer. Records not yet delivered stay in the log
    /// and are delivered after the next start.
    pub async fn shutdown(&self) {
        for entry in self.streams.read().values() {
            entry.stop.send_replace(true);
        }
        let tasks: Vec<_> = std::mem::take(&mut *self.tasks.lock());
        for task in tasks {
            let _ = task.await;
        }
    }
}
