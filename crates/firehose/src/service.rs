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
use rheo_storage::{Clock, FileSystem, LogConfig, NewStream, StreamProps};
use tokio::sync::watch;

use rheo_protocol::firehose::model::*;
use rheo_protocol::Timestamp;

use crate::config::{self, CheckOptions, DestinationConfig, DestinationUpdate, Runtime};
use crate::dest::s3::ObjectStores;
use crate::error::{FirehoseError, Result};
use crate::limits::*;
use crate::metrics::StreamStats;
use crate::state::{self, Encryption, KinesisSource, StreamState};
pub use crate::stream::FirehoseConfig;
use crate::stream::{append, Active, Entry, Shared};

/// A deleted stream still shown as DELETING.
struct Deleting {
    until_ms: u64,
    description: DeliveryStreamDescription,
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

/// `Limit`, whose range the model checked.
fn limit(limit: Option<i32>, default: usize) -> usize {
    limit.and_then(|limit| usize::try_from(limit).ok()).unwrap_or(default)
}

/// Tag rules the model cannot express (lengths and counts are the model's).
fn check_tags(tags: &[Tag]) -> Result<()> {
    match tags.iter().find(|tag| tag.key.starts_with("aws:")) {
        Some(tag) => Err(FirehoseError::invalid(format!("Tag keys must not start with 'aws:': {}", tag.key))),
        None => Ok(()),
    }
}

/// Server-side encryption settings: the key type and, for customer-managed keys, the key.
fn check_encryption(input: Option<&DeliveryStreamEncryptionConfigurationInput>) -> Result<(KeyType, Option<String>)> {
    let key_type = input.map_or(KeyType::AwsOwnedCmk, |input| input.key_type);
    let key_arn = input.and_then(|input| input.key_arn.clone());
    match (key_type, key_arn) {
        (KeyType::AwsOwnedCmk, Some(_)) => {
            Err(FirehoseError::invalid("KeyARN must not be specified when KeyType is AWS_OWNED_CMK."))
        }
        (KeyType::AwsOwnedCmk, None) => Ok((key_type, None)),
        (KeyType::CustomerManagedCmk, Some(arn)) => Ok((key_type, Some(arn))),
        (KeyType::CustomerManagedCmk, None) => {
            Err(FirehoseError::invalid("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK."))
        }
    }
}

/// A destination block of a create or update request: one Rheo delivers to, or the name
/// of one it does not.
enum Block<T> {
    Served(T),
    Unsupported(&'static str),
}

/// The one destination block of a create or update request.
fn one_destination<T>(blocks: Vec<Option<Block<T>>>) -> Result<T> {
    let mut given = blocks.into_iter().flatten();
    match (given.next(), given.next()) {
        (Some(Block::Served(block)), None) => Ok(block),
        (Some(Block::Unsupported(other)), None) => Err(FirehoseError::invalid(format!(
            "{other} destinations are not supported by Rheo; use ExtendedS3, HttpEndpoint or Redshift."
        ))),
        _ => Err(FirehoseError::invalid("Exactly one destination configuration is supported for a Firehose")),
    }
}

fn unsupported<T, D>(member: Option<D>, name: &'static str) -> Option<Block<T>> {
    member.map(|_| Block::Unsupported(name))
}

/// The destination of a CreateDeliveryStream request.
fn created_destination(input: &mut CreateDeliveryStreamInput) -> Result<DestinationConfig> {
    one_destination(vec![
        input
            .s3_destination_configuration
            .take()
            .map(|s3| Block::Served(DestinationConfig::ExtendedS3(config::extended_from_s3(s3)))),
        input.extended_s3_destination_configuration.take().map(|s3| Block::Served(DestinationConfig::ExtendedS3(s3))),
        input.redshift_destination_configuration.take().map(|r| Block::Served(DestinationConfig::Redshift(r))),
        input.http_endpoint_destination_configuration.take().map(|h| Block::Served(DestinationConfig::HttpEndpoint(h))),
        unsupported(input.elasticsearch_destination_configuration.as_ref(), "Elasticsearch"),
        unsupported(input.amazonopensearchservice_destination_configuration.as_ref(), "AmazonOpenSearchService"),
        unsupported(
            input.amazon_open_search_serverless_destination_configuration.as_ref(),
            "AmazonOpenSearchServerless",
        ),
        unsupported(input.splunk_destination_configuration.as_ref(), "Splunk"),
        unsupported(input.snowflake_destination_configuration.as_ref(), "Snowflake"),
        unsupported(input.iceberg_destination_configuration.as_ref(), "Iceberg"),
    ])
}

/// The destination update of an UpdateDestination request.
fn destination_update(input: UpdateDestinationInput) -> Result<DestinationUpdate> {
    one_destination(vec![
        input.s3_destination_update.map(|s3| Block::Served(DestinationUpdate::s3(s3))),
        input.extended_s3_destination_update.map(|s3| Block::Served(DestinationUpdate::extended_s3(s3))),
        input.redshift_destination_update.map(|r| Block::Served(DestinationUpdate::redshift(r))),
        input.http_endpoint_destination_update.map(|h| Block::Served(DestinationUpdate::http_endpoint(h))),
        unsupported(input.elasticsearch_destination_update, "Elasticsearch"),
        unsupported(input.amazonopensearchservice_destination_update, "AmazonOpenSearchService"),
        unsupported(input.amazon_open_search_serverless_destination_update, "AmazonOpenSearchServerless"),
        unsupported(input.splunk_destination_update, "Splunk"),
        unsupported(input.snowflake_destination_update, "Snowflake"),
        unsupported(input.iceberg_destination_update, "Iceberg"),
    ])
}

/// A `DeliveryStreamType` Rheo serves.
fn stream_type(value: Option<DeliveryStreamType>) -> Result<DeliveryStreamType> {
    match value.unwrap_or(DeliveryStreamType::DirectPut) {
        t @ (DeliveryStreamType::DirectPut | DeliveryStreamType::KinesisStreamAsSource) => Ok(t),
        t @ (DeliveryStreamType::MSKAsSource | DeliveryStreamType::DatabaseAsSource) => {
            Err(FirehoseError::invalid(format!("DeliveryStreamType {t} is not supported by Rheo.")))
        }
    }
}

/// Milliseconds since the epoch as the protocol's signed type (saturating: no clock
/// reaches the bound).
fn epoch_millis(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
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
        let mut log_config = log_config;
        // Delivery streams are sealed with the keys Kinesis streams use (one key store).
        if log_config.keys.is_none() {
            log_config.keys = kinesis.config().keys.clone().map(|keys| keys as Arc<dyn rheo_storage::KeyProvider>);
        }
        let log = crate::stream::open_log(fs, clock.clone(), data_dir, LOG_DIR, log_config)?;
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
            let checked = DestinationConfig::from_stored(state.kind, &state.destination).and_then(|destination| {
                config::check(&destination, firehose.check_options(state.default_buffering_hints))
            });
            let runtime = match checked {
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

    /// The checks' options for a stream whose `BufferingHints` were (or were not) left out.
    fn check_options(&self, default_buffering_hints: bool) -> CheckOptions {
        let config = &self.shared.config;
        CheckOptions {
            allow_http_endpoints: config.allow_http_endpoints,
            default_buffer_interval: default_buffering_hints
                .then_some(std::time::Duration::from_millis(config.default_buffer_interval_ms)),
        }
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

    pub(crate) fn entry(&self, name: &str) -> Result<Arc<Entry>> {
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
            source_failure: RwLock::new(None),
        });
        self.streams.write().insert(name.to_owned(), entry.clone());
        let mut tasks = self.tasks.lock();
        tasks.retain(|task| !task.is_finished());
        tasks.push(tokio::spawn(crate::deliver::run(self.shared.clone(), entry.clone(), delivered_lsn)));
        if is_kinesis {
            tasks.push(tokio::spawn(crate::source::run(self.shared.clone(), entry)));
        }
    }

    /// The key store's number of the key server-side encryption seals with: Firehose's
    /// AWS managed key for `AWS_OWNED_CMK`, the `KeyARN`'s key for `CUSTOMER_MANAGED_CMK`.
    fn sealing_key(&self, key_arn: Option<&str>) -> Result<u32> {
        let keys = self
            .shared
            .kinesis
            .config()
            .keys
            .clone()
            .ok_or_else(|| FirehoseError::Internal("the Kinesis engine has no key store".into()))?;
        Ok(keys.resolve(key_arn.unwrap_or(rheo_keys::FIREHOSE_ALIAS))?.number)
    }

    fn status(&self, state: &StreamState) -> DeliveryStreamStatus {
        if self.shared.now_ms() < state.created_ms + self.shared.config.create_ms {
            DeliveryStreamStatus::Creating
        } else {
            DeliveryStreamStatus::Active
        }
    }

    fn encryption_status(&self, encryption: &Option<Encryption>) -> DeliveryStreamEncryptionStatus {
        match encryption {
            None => DeliveryStreamEncryptionStatus::Disabled,
            Some(e) => {
                let settled = self.shared.now_ms() >= e.changed_ms + self.shared.config.encryption_ms;
                match (e.enabled, settled) {
                    (true, true) => DeliveryStreamEncryptionStatus::Enabled,
                    (true, false) => DeliveryStreamEncryptionStatus::Enabling,
                    (false, true) => DeliveryStreamEncryptionStatus::Disabled,
                    (false, false) => DeliveryStreamEncryptionStatus::Disabling,
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
    pub async fn create_delivery_stream(
        &self,
        mut input: CreateDeliveryStreamInput,
    ) -> Result<CreateDeliveryStreamOutput> {
        let name = input.delivery_stream_name.clone();
        let stream_type = stream_type(input.delivery_stream_type)?;
        let mut destination = created_destination(&mut input)?;
        let kind = destination.kind();
        let source = match (stream_type, &input.kinesis_stream_source_configuration) {
            (DeliveryStreamType::KinesisStreamAsSource, Some(source)) => {
                Some((source.kinesis_stream_arn.clone(), source.role_arn.clone()))
            }
            (DeliveryStreamType::KinesisStreamAsSource, None) => {
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
            Some(encryption) => Some(check_encryption(Some(encryption))?),
            None => None,
        };
        // An unknown key creates nothing.
        let sealing_key = match &encryption {
            Some((_, key_arn)) => Some(self.sealing_key(key_arn.as_deref())?),
            None => None,
        };
        let tags = input.tags.take().unwrap_or_default();
        check_tags(&tags)?;
        let default_buffering_hints = destination.buffering_hints().is_none();
        config::fill_defaults(&mut destination);
        let runtime = config::check(&destination, self.check_options(default_buffering_hints))?;

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
            stream_type: stream_type.as_str().to_owned(),
            created_ms: now,
            updated_ms: None,
            version: 1,
            kind,
            destination: destination.to_stored()?,
            default_buffering_hints,
            source,
            encryption: encryption.map(|(key_type, key_arn)| Encryption {
                key_type: key_type.as_str().to_owned(),
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
            encryption_key: sealing_key,
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
        Ok(CreateDeliveryStreamOutput { delivery_stream_arn: Some(self.arn(&name)) })
    }

    fn description(
        &self,
        entry: &Entry,
        state: &StreamState,
        status: DeliveryStreamStatus,
    ) -> Result<DeliveryStreamDescription> {
        let destination = DestinationConfig::from_stored(state.kind, &state.destination)?;
        let enabled = state.encryption.as_ref().filter(|e| e.enabled);
        Ok(DeliveryStreamDescription {
            delivery_stream_name: entry.name.clone(),
            delivery_stream_arn: entry.arn.clone(),
            delivery_stream_status: status,
            failure_description: entry
                .source_failure
                .read()
                .clone()
                .map(|details| FailureDescription { r#type: DeliveryStreamFailureType::UnknownError, details }),
            delivery_stream_encryption_configuration: Some(DeliveryStreamEncryptionConfiguration {
                key_arn: enabled.and_then(|e| e.key_arn.clone()),
                key_type: enabled.and_then(|e| KeyType::from_wire(&e.key_type)),
                status: Some(self.encryption_status(&state.encryption)),
                failure_description: None,
            }),
            delivery_stream_type: DeliveryStreamType::from_wire(&state.stream_type)
                .unwrap_or(DeliveryStreamType::DirectPut),
            version_id: state.version.to_string(),
            create_timestamp: Some(Timestamp::from_epoch_millis(epoch_millis(state.created_ms))),
            last_update_timestamp: state.updated_ms.map(|updated| Timestamp::from_epoch_millis(epoch_millis(updated))),
            source: state.source.as_ref().map(|source| SourceDescription {
                direct_put_source_description: None,
                kinesis_stream_source_description: Some(KinesisStreamSourceDescription {
                    kinesis_stream_arn: Some(source.stream_arn.clone()),
                    role_arn: Some(source.role_arn.clone()),
                    delivery_start_timestamp: Some(Timestamp::from_epoch_millis(epoch_millis(source.start_ms))),
                }),
                msk_source_description: None,
                database_source_description: None,
            }),
            destinations: vec![config::describe(&destination)],
            has_more_destinations: false,
        })
    }

    /// DescribeDeliveryStream.
    pub async fn describe_delivery_stream(
        &self,
        input: DescribeDeliveryStreamInput,
    ) -> Result<DescribeDeliveryStreamOutput> {
        let name = input.delivery_stream_name.as_str();
        self.reap();
        if let Some(deleting) = self.deleting.lock().get(name) {
            return Ok(DescribeDeliveryStreamOutput { delivery_stream_description: deleting.description.clone() });
        }
        let entry = self.entry(name)?;
        let state = entry.state.read().clone();
        let mut description = self.description(&entry, &state, self.status(&state))?;
        if input.exclusive_start_destination_id.as_deref() == Some(DESTINATION_ID) {
            description.destinations.clear();
        }
        Ok(DescribeDeliveryStreamOutput { delivery_stream_description: description })
    }

    /// ListDeliveryStreams.
    pub async fn list_delivery_streams(&self, input: ListDeliveryStreamsInput) -> Result<ListDeliveryStreamsOutput> {
        let limit = limit(input.limit, LIST_LIMIT_DEFAULT);
        let type_filter = input.delivery_stream_type.map(DeliveryStreamType::as_str);
        self.reap();
        let mut names: Vec<(String, String)> =
            self.streams.read().values().map(|e| (e.name.clone(), e.state.read().stream_type.clone())).collect();
        names.extend(self.deleting.lock().iter().map(|(n, d)| (n.clone(), d.stream_type.clone())));
        names.sort();
        let matching: Vec<String> = names
            .into_iter()
            .filter(|(_, t)| type_filter.is_none_or(|f| f == t))
            .filter(|(n, _)| input.exclusive_start_delivery_stream_name.as_ref().is_none_or(|start| n > start))
            .map(|(n, _)| n)
            .collect();
        let has_more = matching.len() > limit;
        let page: Vec<String> = matching.into_iter().take(limit).collect();
        Ok(ListDeliveryStreamsOutput { delivery_stream_names: page, has_more_delivery_streams: has_more })
    }

    /// DeleteDeliveryStream.
    pub async fn delete_delivery_stream(&self, input: DeleteDeliveryStreamInput) -> Result<DeleteDeliveryStreamOutput> {
        let name = input.delivery_stream_name;
        let _guard = self.control.lock().await;
        self.reap();
        if self.deleting.lock().contains_key(&name) {
            return Ok(DeleteDeliveryStreamOutput {});
        }
        let entry = self.entry(&name)?;
        let state = entry.state.read().clone();
        if self.status(&state) == DeliveryStreamStatus::Creating {
            return Err(FirehoseError::ResourceInUse(format!(
                "Firehose {name} is not in the ACTIVE state and cannot be deleted."
            )));
        }
        entry.stop.send_replace(true);
        self.shared.log.delete_stream(entry.stream_id).await?;
        self.streams.write().remove(&name);
        let description = self.description(&entry, &state, DeliveryStreamStatus::Deleting)?;
        self.deleting.lock().insert(
            name.clone(),
            Deleting {
                until_ms: self.shared.now_ms() + self.shared.config.delete_ms,
                description,
                stream_type: state.stream_type.clone(),
            },
        );
        tracing::info!(message = "Delivery stream deleted.", stream = %name);
        Ok(DeleteDeliveryStreamOutput {})
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

    /// [`Firehose::commit`] that also sets the key new records are sealed with (`None`:
    /// in the clear), in the same metadata change.
    async fn commit_encryption(
        &self,
        entry: &Entry,
        sealing_key: Option<u32>,
        change: impl Fn(&mut StreamState) + Send + Sync + Clone + 'static,
    ) -> Result<()> {
        let committed = change.clone();
        self.shared
            .log
            .update_stream(entry.stream_id, move |txn| {
                state::edit(txn, committed)?;
                txn.props_mut().encryption_key = sealing_key;
                Ok(())
            })
            .await?;
        change(&mut entry.state.write());
        Ok(())
    }

    /// UpdateDestination.
    pub async fn update_destination(&self, input: UpdateDestinationInput) -> Result<UpdateDestinationOutput> {
        let name = input.delivery_stream_name.clone();
        // The model's `[0-9]+` was checked; a version beyond u64 cannot be the current one.
        let version_number: Option<u64> = input.current_delivery_stream_version_id.parse().ok();
        let destination_id = input.destination_id.clone();
        let update = destination_update(input)?;
        let kind = update.kind();

        let _guard = self.control.lock().await;
        let entry = self.entry(&name)?;
        let state = entry.state.read().clone();
        if destination_id != DESTINATION_ID {
            return Err(FirehoseError::invalid(format!("Destination Id {destination_id} not found.")));
        }
        if version_number != Some(state.version) {
            return Err(FirehoseError::ConcurrentModification);
        }
        let stored = DestinationConfig::from_stored(state.kind, &state.destination)?;
        // Hints an update leaves out keep what the stream had, defaults included; a
        // destination of another kind without hints gets the defaults.
        let default_buffering_hints =
            !update.gives_buffering_hints() && (kind != state.kind || state.default_buffering_hints);
        let mut destination = stored.clone().apply(update);
        config::fill_defaults(&mut destination);
        if kind == state.kind {
            if stored.s3_backup_mode() == Some("Enabled") && destination.s3_backup_mode() == Some("Disabled") {
                return Err(FirehoseError::invalid("S3BackupMode cannot be changed from Enabled to Disabled."));
            }
            if stored.dynamic_partitioning() != destination.dynamic_partitioning() {
                return Err(FirehoseError::invalid(
                    "Dynamic partitioning can only be enabled when the delivery stream is created, and cannot be disabled.",
                ));
            }
        }
        let runtime = config::check(&destination, self.check_options(default_buffering_hints))?;
        let stored_destination = destination.to_stored()?;
        let now = self.shared.now_ms();
        let new_version = state.version + 1;
        self.commit(&entry, move |s| {
            s.kind = kind;
            s.destination = stored_destination.clone();
            s.default_buffering_hints = default_buffering_hints;
            s.version = new_version;
            s.updated_ms = Some(now);
        })
        .await?;
        entry.active.send_replace(Arc::new(Active { version: new_version, runtime }));
        Ok(UpdateDestinationOutput {})
    }

    /// StartDeliveryStreamEncryption.
    pub async fn start_encryption(
        &self,
        input: StartDeliveryStreamEncryptionInput,
    ) -> Result<StartDeliveryStreamEncryptionOutput> {
        let name = input.delivery_stream_name;
        let (key_type, key_arn) = check_encryption(input.delivery_stream_encryption_configuration_input.as_ref())?;
        let _guard = self.control.lock().await;
        let entry = self.entry(&name)?;
        if entry.state.read().source.is_some() {
            return Err(FirehoseError::invalid(
                "Server-side encryption is only supported for DirectPut delivery streams.",
            ));
        }
        let sealing_key = self.sealing_key(key_arn.as_deref())?;
        let now = self.shared.now_ms();
        self.commit_encryption(&entry, Some(sealing_key), move |s| {
            s.encryption = Some(Encryption {
                key_type: key_type.as_str().to_owned(),
                key_arn: key_arn.clone(),
                enabled: true,
                changed_ms: now,
            });
        })
        .await?;
        Ok(StartDeliveryStreamEncryptionOutput {})
    }

    /// StopDeliveryStreamEncryption.
    pub async fn stop_encryption(
        &self,
        input: StopDeliveryStreamEncryptionInput,
    ) -> Result<StopDeliveryStreamEncryptionOutput> {
        let name = input.delivery_stream_name;
        let _guard = self.control.lock().await;
        let entry = self.entry(&name)?;
        let now = self.shared.now_ms();
        if entry.state.read().encryption.as_ref().is_none_or(|e| !e.enabled) {
            return Ok(StopDeliveryStreamEncryptionOutput {});
        }
        self.commit_encryption(&entry, None, move |s| {
            if let Some(e) = &mut s.encryption {
                e.enabled = false;
                e.changed_ms = now;
            }
        })
        .await?;
        Ok(StopDeliveryStreamEncryptionOutput {})
    }

    /// TagDeliveryStream.
    pub async fn tag_delivery_stream(&self, input: TagDeliveryStreamInput) -> Result<TagDeliveryStreamOutput> {
        let name = input.delivery_stream_name;
        let tags = input.tags;
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
        Ok(TagDeliveryStreamOutput {})
    }

    /// UntagDeliveryStream.
    pub async fn untag_delivery_stream(&self, input: UntagDeliveryStreamInput) -> Result<UntagDeliveryStreamOutput> {
        let name = input.delivery_stream_name;
        let keys = input.tag_keys;
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
        Ok(UntagDeliveryStreamOutput {})
    }

    /// ListTagsForDeliveryStream.
    pub async fn list_tags(&self, input: ListTagsForDeliveryStreamInput) -> Result<ListTagsForDeliveryStreamOutput> {
        let name = input.delivery_stream_name.as_str();
        let limit = limit(input.limit, TAGS_MAX);
        let entry = self.entry(name)?;
        let meta = self.shared.log.stream(entry.stream_id).ok_or_else(|| self.not_found(name))?;
        let after: Vec<(&String, &String)> = meta
            .props
            .tags
            .iter()
            .filter(|(k, _)| input.exclusive_start_tag_key.as_ref().is_none_or(|start| *k > start))
            .collect();
        let has_more = after.len() > limit;
        let tags: Vec<Tag> =
            after.into_iter().take(limit).map(|(k, v)| Tag { key: k.clone(), value: Some(v.clone()) }).collect();
        Ok(ListTagsForDeliveryStreamOutput { tags, has_more_tags: has_more })
    }

    /// The stream records can be put into: exists, ACTIVE, fed directly.
    pub(crate) fn writable(&self, name: &str) -> Result<(Arc<Entry>, bool)> {
        let entry = self.entry(name)?;
        let state = entry.state.read();
        if state.source.is_some() {
            return Err(FirehoseError::invalid(
                "This operation is not permitted on KinesisStreamAsSource delivery stream type.",
            ));
        }
        if self.status(&state) != DeliveryStreamStatus::Active {
            return Err(FirehoseError::ResourceInUse(format!("Firehose {name} is not in the ACTIVE state.")));
        }
        let encrypted = self.encryption_status(&state.encryption) == DeliveryStreamEncryptionStatus::Enabled;
        drop(state);
        Ok((entry, encrypted))
    }

    /// PutRecord.
    pub async fn put_record(&self, input: PutRecordInput) -> Result<PutRecordOutput> {
        let (entry, encrypted) = self.writable(&input.delivery_stream_name)?;
        let data = input.record.data;
        let size = data.len() as u64;
        let appended = self.append(&entry, vec![data]).await?;
        let lsn = match appended.into_iter().next() {
            Some(Ok(lsn)) => lsn,
            Some(Err(error)) => return Err(error),
            None => return Err(FirehoseError::Internal("append returned nothing".into())),
        };
        StreamStats::add(&entry.stats.incoming_records, 1);
        StreamStats::add(&entry.stats.incoming_bytes, size);
        Ok(PutRecordOutput { record_id: random_record_id(entry.stream_id, lsn), encrypted: Some(encrypted) })
    }

    /// PutRecordBatch.
    pub async fn put_record_batch(&self, input: PutRecordBatchInput) -> Result<PutRecordBatchOutput> {
        let total: usize = input.records.iter().map(|r| r.data.len()).sum();
        if total > BATCH_BYTES_MAX {
            return Err(FirehoseError::invalid(format!(
                "Records size exceeds {BATCH_BYTES_MAX} bytes limit: the request has {total} bytes."
            )));
        }
        let (entry, encrypted) = self.writable(&input.delivery_stream_name)?;
        let data: Vec<Bytes> = input.records.into_iter().map(|r| r.data).collect();
        let sizes: Vec<u64> = data.iter().map(|d| d.len() as u64).collect();
        let appended = self.append(&entry, data).await?;
        let mut failed = 0;
        let responses: Vec<PutRecordBatchResponseEntry> = appended
            .into_iter()
            .zip(sizes)
            .map(|(result, size)| match result {
                Ok(lsn) => {
                    StreamStats::add(&entry.stats.incoming_records, 1);
                    StreamStats::add(&entry.stats.incoming_bytes, size);
                    PutRecordBatchResponseEntry {
                        record_id: Some(random_record_id(entry.stream_id, lsn)),
                        error_code: None,
                        error_message: None,
                    }
                }
                Err(error) => {
                    failed += 1;
                    tracing::warn!(message = "Record refused.", stream = %entry.name, %error);
                    PutRecordBatchResponseEntry {
                        record_id: None,
                        error_code: Some("ServiceUnavailableException".into()),
                        error_message: Some("Slow down.".into()),
                    }
                }
            })
            .collect();
        Ok(PutRecordBatchOutput { failed_put_count: failed, encrypted: Some(encrypted), request_responses: responses })
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
