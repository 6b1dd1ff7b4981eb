//! Control-plane operations on streams: lifecycle, descriptions, listings, retention,
//! tags, policies, monitoring, encryption, capacity mode and account-level settings.

use std::collections::BTreeMap;

use rheo_storage::{NewStream, StreamProps};

use crate::engine::{Engine, Snapshot};
use crate::error::{EngineError, Result};
use crate::hashing::uniform_ranges;
use crate::ids::{parse_shard_id, Account, ResourceName};
use crate::limits::{
    DESCRIBE_STREAM_LIMIT_MAX, LIST_TAGS_LIMIT_DEFAULT, MAX_RECORD_SIZE_KIB_DEFAULT, NEXT_TOKEN_LIFETIME_MS,
    ON_DEMAND_SHARDS_INITIAL, RETENTION_HOURS_DEFAULT, SHARDS_PER_STREAM_MAX, TAGS_PER_RESOURCE_MAX,
};
use crate::model::{
    BillingCommitment, CreateStream, Limits, MonitoringChange, StreamDescription, StreamList, StreamListing,
    StreamMode, StreamRef, StreamStatus, StreamSummary, WarmThroughput,
};
use crate::settings::{self, ConsumerSettings, StreamSettings};

/// The shard-level metrics in AWS's order; `ALL` stands for all of them.
const SHARD_LEVEL_METRICS: [&str; 7] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];

/// Kinds of pagination token, so one kind cannot be replayed as another.
#[derive(Clone, Copy)]
#[repr(u8)]
pub(crate) enum PageKind {
    Streams = 1,
    Shards = 2,
    Consumers = 3,
}

const RETENTION_HOURS_MIN: i64 = rheo_storage::limits::RETENTION_HOURS_MIN as i64;
const RETENTION_HOURS_MAX: i64 = rheo_storage::limits::RETENTION_HOURS_MAX as i64;

/// Characters AWS allows in tag keys and values (per kinesalite's AWS-recorded tests):
/// letters, digits, white space and `_ . / = + - % @ :`.
fn valid_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "_./=+-@%: ".contains(c)
        || ('\u{C0}'..='\u{1FFF}').contains(&c)
        || ('\u{2C00}'..='\u{D7FF}').contains(&c)
}

impl Engine {
    // ----- Pagination tokens -----

    pub(crate) fn seal_page_token(&self, kind: PageKind, body: &[u8]) -> String {
        let mut payload = Vec::with_capacity(9 + body.len());
        payload.push(kind as u8);
        payload.extend_from_slice(&self.now_ms().to_be_bytes());
        payload.extend_from_slice(body);
        self.key.seal(&payload)
    }

    pub(crate) fn open_page_token(&self, kind: PageKind, token: &str) -> Result<Vec<u8>> {
        let invalid = || EngineError::InvalidArgument("Invalid NextToken.".into());
        let payload = self.key.open(token).ok_or_else(invalid)?;
        let (header, body) = payload.split_at_checked(9).ok_or_else(invalid)?;
        if header.first() != Some(&(kind as u8)) {
            return Err(invalid());
        }
        let issued_ms = u64::from_be_bytes(header.get(1..9).and_then(|b| b.try_into().ok()).ok_or_else(invalid)?);
        if self.now_ms().saturating_sub(issued_ms) > NEXT_TOKEN_LIFETIME_MS {
            return Err(EngineError::ExpiredNextToken);
        }
        Ok(body.to_vec())
    }

    // ----- Lifecycle -----

    /// CreateStream.
    pub async fn create_stream(&self, request: CreateStream) -> Result<()> {
        let _guard = self.control.lock().await;
        // A stream whose deletion period is over must not block its name.
        self.reap_locked().await?;
        if self.names.read().contains_key(&request.name) {
            return Err(EngineError::StreamExists { stream: request.name, account: self.account_id() });
        }
        let mode = request.mode.unwrap_or(if request.shard_count.is_some() {
            StreamMode::Provisioned
        } else {
            StreamMode::OnDemand
        });
        let shard_count = match (mode, request.shard_count) {
            (StreamMode::OnDemand, _) => ON_DEMAND_SHARDS_INITIAL,
            (StreamMode::Provisioned, Some(count)) => count,
            (StreamMode::Provisioned, None) => {
                return Err(EngineError::InvalidArgument(
                    "ShardCount must be specified for streams in PROVISIONED mode.".into(),
                ))
            }
        };
        if shard_count > SHARDS_PER_STREAM_MAX {
            return Err(EngineError::LimitExceeded(format!(
                "The shard count must be between 1 and {SHARDS_PER_STREAM_MAX}."
            )));
        }
        self.check_shard_limit(u64::from(shard_count))?;
        if mode == StreamMode::OnDemand {
            let on_demand =
                self.all_snapshots().iter().filter(|s| s.settings.mode == StreamMode::OnDemand).count() as u32;
            if on_demand >= self.config.on_demand_stream_limit {
                return Err(EngineError::LimitExceeded(format!(
                    "This request would exceed the on-demand stream limit for the account {} in {}. Limit: {}.",
                    self.account.account_id, self.account.region, self.config.on_demand_stream_limit
                )));
            }
        }
        self.check_tags(&request.name, &request.tags, &BTreeMap::new())?;
        let settings = StreamSettings {
            mode,
            max_record_size_kib: request.max_record_size_kib,
            warm_throughput_mibps: request.warm_throughput_mibps.filter(|_| mode == StreamMode::OnDemand),
            ..Default::default()
        };
        let name = request.name.clone();
        self.log
            .create_stream(NewStream {
                name: request.name,
                shards: uniform_ranges(shard_count),
                props: StreamProps {
                    retention_hours: RETENTION_HOURS_DEFAULT,
                    tags: request.tags,
                    consumers: Vec::new(),
                    settings: settings::encode(&settings),
                },
            })
            .await
            .map(|meta| {
                self.names.write().insert(meta.name.clone(), meta.stream_id);
                // Stream readers following this name wake and find it.
                self.announce_change();
                tracing::info!(message = "Stream created.", stream = %name, shards = shard_count, mode = mode.as_str());
            })?;
        Ok(())
    }

    /// DeleteStream.
    pub async fn delete_stream(&self, stream: &StreamRef, enforce_consumer_deletion: bool) -> Result<()> {
        let _guard = self.control.lock().await;
        let snapshot = self.resolve(stream)?;
        if snapshot.settings.deleting_until_ms.is_some() {
            return Ok(());
        }
        let registered = live_consumer_count(&snapshot);
        if registered > 0 && !enforce_consumer_deletion {
            return Err(EngineError::ResourceInUse(format!(
                "Stream {} under account {} has registered consumers. Deregister them first or set EnforceConsumerDeletion.",
                snapshot.name(),
                self.account.account_id
            )));
        }
        if self.config.delete_stream_ms == 0 {
            return self.finish_delete(&snapshot).await;
        }
        let until = self.now_ms().saturating_add(self.config.delete_stream_ms);
        self.update_settings(snapshot.meta.stream_id, move |s| s.deleting_until_ms = Some(until)).await?;
        Ok(())
    }

    // ----- Descriptions -----

    pub(crate) fn summary(&self, snapshot: &Snapshot) -> StreamSummary {
        let settings = &snapshot.settings;
        let consumer_count = live_consumer_count(snapshot) as u32;
        StreamSummary {
            name: snapshot.meta.name.clone(),
            arn: self.account.stream_arn(&snapshot.meta.name),
            status: self.status(snapshot),
            mode: settings.mode,
            retention_hours: snapshot.meta.props.retention_hours,
            created_ms: snapshot.meta.created_ms,
            shard_level_metrics: settings.shard_level_metrics.clone(),
            encryption_key_id: settings.encryption_key_id.clone(),
            open_shard_count: snapshot.open_shard_count(),
            consumer_count,
            max_record_size_kib: settings.max_record_size_kib.unwrap_or(MAX_RECORD_SIZE_KIB_DEFAULT),
            warm_throughput: settings
                .warm_throughput_mibps
                .filter(|_| settings.mode == StreamMode::OnDemand)
                .map(|mibps| WarmThroughput { target_mibps: mibps, current_mibps: mibps }),
        }
    }

    /// DescribeStream: one page of shards (`limit` ≤ 100) after `exclusive_start_shard_id`.
    pub fn describe_stream(
        &self,
        stream: &StreamRef,
        limit: Option<u32>,
        exclusive_start_shard_id: Option<&str>,
    ) -> Result<StreamDescription> {
        let snapshot = self.resolve(stream)?;
        let summary = self.summary(&snapshot);
        let limit = limit.map_or(DESCRIBE_STREAM_LIMIT_MAX, |l| l as usize).clamp(1, DESCRIBE_STREAM_LIMIT_MAX);
        let after = exclusive_start_shard_id.map(|id| parse_shard_id(id).map_or(i64::MAX, i64::from));
        // AWS shows no shards until the stream is ACTIVE.
        let visible: Vec<_> = if summary.status == StreamStatus::Creating {
            Vec::new()
        } else {
            let mut shards: Vec<_> =
                snapshot.meta.shards.iter().filter(|s| after.is_none_or(|after| i64::from(s.index) > after)).collect();
            shards.sort_by_key(|s| s.index);
            shards
        };
        let has_more_shards = visible.len() > limit;
        let shards = visible.iter().take(limit).map(|s| Self::shard_info(s)).collect();
        Ok(StreamDescription { summary, shards, has_more_shards })
    }

    /// DescribeStreamSummary.
    pub fn describe_stream_summary(&self, stream: &StreamRef) -> Result<StreamSummary> {
        let snapshot = self.resolve(stream)?;
        Ok(self.summary(&snapshot))
    }

    /// ListStreams.
    pub fn list_streams(
        &self,
        limit: Option<u32>,
        exclusive_start_stream_name: Option<&str>,
        next_token: Option<&str>,
    ) -> Result<StreamList> {
        let after = match next_token {
            Some(token) => Some(
                String::from_utf8(self.open_page_token(PageKind::Streams, token)?)
                    .map_err(|_| EngineError::InvalidArgument("Invalid NextToken.".into()))?,
            ),
            None => exclusive_start_stream_name.map(str::to_owned),
        };
        let limit = limit.map_or(DESCRIBE_STREAM_LIMIT_MAX, |l| l as usize).clamp(1, DESCRIBE_STREAM_LIMIT_MAX);
        let now = self.now_ms();
        let live: Vec<_> = self
            .all_snapshots()
            .into_iter()
            .filter(|s| s.settings.deleting_until_ms.is_none_or(|until| now < until))
            .filter(|s| after.as_deref().is_none_or(|after| s.meta.name.as_str() > after))
            .collect();
        let has_more = live.len() > limit;
        let streams: Vec<StreamListing> = live
            .iter()
            .take(limit)
            .map(|s| StreamListing {
                name: s.meta.name.clone(),
                arn: self.account.stream_arn(&s.meta.name),
                status: self.status(s),
                mode: s.settings.mode,
                created_ms: s.meta.created_ms,
            })
            .collect();
        let next_token = match streams.last() {
            Some(last) if has_more => Some(self.seal_page_token(PageKind::Streams, last.name.as_bytes())),
            _ => None,
        };
        Ok(StreamList { streams, has_more, next_token })
    }

    // ----- Retention -----

    /// IncreaseStreamRetentionPeriod.
    pub async fn increase_retention(&self, stream: &StreamRef, hours: i64) -> Result<()> {
        self.change_retention(stream, hours, true).await
    }

    /// DecreaseStreamRetentionPeriod.
    pub async fn decrease_retention(&self, stream: &StreamRef, hours: i64) -> Result<()> {
        self.change_retention(stream, hours, false).await
    }

    async fn change_retention(&self, stream: &StreamRef, hours: i64, increase: bool) -> Result<()> {
        let _guard = self.control.lock().await;
        let snapshot = self.resolve(stream)?;
        if hours < RETENTION_HOURS_MIN {
            return Err(EngineError::InvalidArgument(format!(
                "Minimum allowed retention period is {RETENTION_HOURS_MIN} hours. Requested retention period ({hours} hours) is too short."
            )));
        }
        if hours > RETENTION_HOURS_MAX {
            return Err(EngineError::InvalidArgument(format!(
                "Maximum allowed retention period is {RETENTION_HOURS_MAX} hours. Requested retention period ({hours} hours) is too long."
            )));
        }
        let current = i64::from(snapshot.meta.props.retention_hours);
        let name = snapshot.name();
        if increase && hours < current {
            return Err(EngineError::InvalidArgument(format!(
                "Requested retention period ({hours} hours) for stream {name} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
            )));
        }
        if !increase && hours > current {
            return Err(EngineError::InvalidArgument(format!(
                "Requested retention period ({hours} hours) for stream {name} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
            )));
        }
        let hours = hours as u32;
        self.update(snapshot.meta.stream_id, move |txn| {
            txn.props_mut().retention_hours = hours;
            Ok(())
        })
        .await?;
        Ok(())
    }

    // ----- Tags -----

    /// Checks tag characters and the per-resource count after adding `tags` to `existing`.
    pub(crate) fn check_tags(
        &self,
        resource: &str,
        tags: &BTreeMap<String, String>,
        existing: &BTreeMap<String, String>,
    ) -> Result<()> {
        let texts = || tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]);
        if texts().any(|t| !t.chars().all(valid_tag_char)) {
            return Err(EngineError::InvalidArgument(
                "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.".into(),
            ));
        }
        if texts().any(|t| t.contains('%')) {
            return Err(EngineError::InvalidArgument(format!(
                "Failed to add tags to stream {resource} under account {} because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'.",
                self.account.account_id
            )));
        }
        let total = existing.keys().chain(tags.keys()).collect::<std::collections::BTreeSet<_>>().len();
        if total > TAGS_PER_RESOURCE_MAX {
            return Err(EngineError::InvalidArgument(format!(
                "Failed to add tags to stream {resource} under account {} because a given stream cannot have more than {TAGS_PER_RESOURCE_MAX} tags associated with it.",
                self.account.account_id
            )));
        }
        Ok(())
    }

    /// AddTagsToStream.
    pub async fn add_tags_to_stream(&self, stream: &StreamRef, tags: BTreeMap<String, String>) -> Result<()> {
        let _guard = self.control.lock().await;
        let snapshot = self.resolve(stream)?;
        self.add_stream_tags(&snapshot, tags).await
    }

    async fn add_stream_tags(&self, snapshot: &Snapshot, tags: BTreeMap<String, String>) -> Result<()> {
        if self.status(snapshot) == StreamStatus::Creating {
            return Err(EngineError::ResourceInUse(format!(
                "Stream {} under account {} is not ACTIVE; tags can be changed once it is.",
                snapshot.name(),
                self.account.account_id
            )));
        }
        self.check_tags(snapshot.name(), &tags, &snapshot.meta.props.tags)?;
        self.update(snapshot.meta.stream_id, move |txn| {
            txn.props_mut().tags.extend(tags);
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// RemoveTagsFromStream. Unknown keys are ignored.
    pub async fn remove_tags_from_stream(&self, stream: &StreamRef, keys: Vec<String>) -> Result<()> {
        let _guard = self.control.lock().await;
        let snapshot = self.resolve(stream)?;
        self.update(snapshot.meta.stream_id, move |txn| {
            let tags = &mut txn.props_mut().tags;
            for key in &keys {
                tags.remove(key);
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// ListTagsForStream: tags after `exclusive_start_key`, up to `limit`; the flag says
    /// whether more follow.
    pub fn list_tags_for_stream(
        &self,
        stream: &StreamRef,
        exclusive_start_key: Option<&str>,
        limit: Option<u32>,
    ) -> Result<(Vec<(String, String)>, bool)> {
        let snapshot = self.resolve(stream)?;
        let limit = limit.map_or(LIST_TAGS_LIMIT_DEFAULT, |l| l as usize).max(1);
        let tags: Vec<(String, String)> = snapshot
            .meta
            .props
            .tags
            .iter()
            .filter(|(k, _)| exclusive_start_key.is_none_or(|start| k.as_str() > start))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let more = tags.len() > limit;
        Ok((tags.into_iter().take(limit).collect(), more))
    }

    /// Resolves a stream or consumer ARN (TagResource, resource policies).
    pub(crate) fn resolve_resource(&self, arn: &str) -> Result<(std::sync::Arc<Snapshot>, Option<String>)> {
        match self.account.parse_arn(arn) {
            Some(ResourceName::Stream(name)) => Ok((self.resolve_name(&name)?, None)),
            Some(ResourceName::Consumer { stream, consumer, created_secs }) => {
                let snapshot = self.resolve_name(&stream)?;
                let found = snapshot
                    .meta
                    .props
                    .consumers
                    .iter()
                    .any(|c| c.name == consumer && c.created_ms / 1000 == created_secs);
                if !found {
                    return Err(EngineError::ConsumerNotFound {
                        consumer: arn.to_owned(),
                        stream,
                        account: self.account_id(),
                    });
                }
                Ok((snapshot, Some(consumer)))
            }
            None => Err(EngineError::ResourceNotFound(format!(
                "Resource {arn} under account {} not found.",
                self.account.account_id
            ))),
        }
    }

    /// Changes one consumer's settings.
    pub(crate) async fn update_consumer(
        &self,
        stream_id: u64,
        consumer: String,
        change: impl FnOnce(&mut ConsumerSettings) + Send + 'static,
    ) -> Result<()> {
        self.update(stream_id, move |txn| {
            if let Some(meta) = txn.props_mut().consumers.iter_mut().find(|c| c.name == consumer) {
                let mut settings: ConsumerSettings = settings::decode(&meta.settings);
                change(&mut settings);
                meta.settings = settings::encode(&settings);
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// TagResource (stream or consumer ARN).
    pub async fn tag_resource(&self, arn: &str, tags: BTreeMap<String, String>) -> Result<()> {
        let _guard = self.control.lock().await;
        let (snapshot, consumer) = self.resolve_resource(arn)?;
        match consumer {
            None => self.add_stream_tags(&snapshot, tags).await,
            Some(consumer) => {
                let existing = consumer_settings(&snapshot, &consumer).map(|c| c.tags).unwrap_or_default();
                self.check_tags(&consumer, &tags, &existing)?;
                self.update_consumer(snapshot.meta.stream_id, consumer, move |s| s.tags.extend(tags)).await
            }
        }
    }

    /// UntagResource.
    pub async fn untag_resource(&self, arn: &str, keys: Vec<String>) -> Result<()> {
        let _guard = self.control.lock().await;
        let (snapshot, consumer) = self.resolve_resource(arn)?;
        match consumer {
            None => {
                self.update(snapshot.meta.stream_id, move |txn| {
                    for key in &keys {
                        txn.props_mut().tags.remove(key);
                    }
                    Ok(())
                })
                .await?;
                Ok(())
            }
            Some(consumer) => {
                self.update_consumer(snapshot.meta.stream_id, consumer, move |s| {
                    for key in &keys {
                        s.tags.remove(key);
                    }
                })
                .await
            }
        }
    }

    /// ListTagsForResource.
    pub fn list_tags_for_resource(&self, arn: &str) -> Result<Vec<(String, String)>> {
        let (snapshot, consumer) = self.resolve_resource(arn)?;
        let tags = match consumer {
            None => snapshot.meta.props.tags.clone(),
            Some(consumer) => consumer_settings(&snapshot, &consumer).map(|c| c.tags).unwrap_or_default(),
        };
        Ok(tags.into_iter().collect())
    }

    // ----- Resource policies -----

    /// PutResourcePolicy: the document must be a JSON object; it is stored, not evaluated.
    pub async fn put_resource_policy(&self, arn: &str, policy: String) -> Result<()> {
        let _guard = self.control.lock().await;
        let (snapshot, consumer) = self.resolve_resource(arn)?;
        if !matches!(serde_json::from_str::<serde_json::Value>(&policy), Ok(serde_json::Value::Object(_))) {
            return Err(EngineError::InvalidArgument("Policy document is not a valid JSON object.".into()));
        }
        match consumer {
            None => {
                self.update_settings(snapshot.meta.stream_id, move |s| s.policy = Some(policy)).await?;
                Ok(())
            }
            Some(consumer) => {
                self.update_consumer(snapshot.meta.stream_id, consumer, move |s| s.policy = Some(policy)).await
            }
        }
    }

    /// GetResourcePolicy; `{}` when none is attached.
    pub fn get_resource_policy(&self, arn: &str) -> Result<String> {
        let (snapshot, consumer) = self.resolve_resource(arn)?;
        let policy = match consumer {
            None => snapshot.settings.policy.clone(),
            Some(consumer) => consumer_settings(&snapshot, &consumer).and_then(|c| c.policy),
        };
        Ok(policy.unwrap_or_else(|| "{}".into()))
    }

    /// DeleteResourcePolicy.
    pub async fn delete_resource_policy(&self, arn: &str) -> Result<()> {
        let _guard = self.control.lock().await;
        let (snapshot, consumer) = self.resolve_resource(arn)?;
        if self.get_resource_policy(arn)? == "{}" {
            return Err(EngineError::ResourceNotFound(format!("No resource policy found for resource ARN {arn}.")));
        }
        match consumer {
            None => {
                self.update_settings(snapshot.meta.stream_id, |s| s.policy = None).await?;
                Ok(())
            }
            Some(consumer) => self.update_consumer(snapshot.meta.stream_id, consumer, |s| s.policy = None).await,
        }
    }

    // ----- Enhanced monitoring -----

    /// EnableEnhancedMonitoring (`enable`) or DisableEnhancedMonitoring.
    pub async fn change_monitoring(
        &self,
        stream: &StreamRef,
        metrics: &[String],
        enable: bool,
    ) -> Result<MonitoringChange> {
        let _guard = self.control.lock().await;
        let snapshot = self.resolve(stream)?;
        if snapshot.settings.deleting_until_ms.is_some() || self.status(&snapshot) == StreamStatus::Creating {
            self.require_active(&snapshot)?;
        }
        let requested: Vec<&str> = if metrics.iter().any(|m| m == "ALL") {
            SHARD_LEVEL_METRICS.to_vec()
        } else {
            metrics.iter().map(String::as_str).collect()
        };
        let current = snapshot.settings.shard_level_metrics.clone();
        let desired: Vec<String> = SHARD_LEVEL_METRICS
            .iter()
            .filter(|m| {
                let now = current.iter().any(|c| c == *m);
                let asked = requested.contains(m);
                if enable {
                    now || asked
                } else {
                    now && !asked
                }
            })
            .map(|m| (*m).to_owned())
            .collect();
        let stored = desired.clone();
        self.update_settings(snapshot.meta.stream_id, move |s| s.shard_level_metrics = stored).await?;
        Ok(MonitoringChange {
            stream_name: snapshot.meta.name.clone(),
            stream_arn: self.account.stream_arn(&snapshot.meta.name),
            current,
            desired,
        })
    }

    // ----- Encryption, capacity mode, warm throughput, record size -----

    /// StartStreamEncryption (`key_id` given, type must be KMS) or StopStreamEncryption.
    pub async fn change_encryption(
        &self,
        stream: &StreamRef,
        encryption_type: &str,
        key_id: &str,
        start: bool,
    ) -> Result<()> {
        let _guard = self.control.lock().await;
        let snapshot = self.resolve_active(stream)?;
        if encryption_type != "KMS" {
            return Err(EngineError::InvalidArgument(format!(
                "Encryption type {encryption_type} is not supported; it must be KMS."
            )));
        }
        if !start && snapshot.settings.encryption_key_id.is_none() {
            return Err(EngineError::InvalidArgument(format!(
                "Stream {} under account {} is not encrypted.",
                snapshot.name(),
                self.account.account_id
            )));
        }
        let key = start.then(|| key_id.to_owned());
        self.update_settings(snapshot.meta.stream_id, move |s| s.encryption_key_id = key).await?;
        self.mark_updating(snapshot.meta.stream_id);
        Ok(())
    }

    /// UpdateStreamMode.
    pub async fn update_stream_mode(
        &self,
        stream_arn: &str,
        mode: StreamMode,
        warm_throughput_mibps: Option<u32>,
    ) -> Result<()> {
        let _guard = self.control.lock().await;
        let snapshot = self.resolve_active(&StreamRef::arn(stream_arn))?;
        if snapshot.settings.mode == mode {
            return Err(EngineError::InvalidArgument(format!(
                "Stream {} under account {} is already in {} mode.",
                snapshot.name(),
                self.account.account_id,
                mode.as_str()
            )));
        }
        self.update_settings(snapshot.meta.stream_id, move |s| {
            s.mode = mode;
            s.warm_throughput_mibps = warm_throughput_mibps.filter(|_| mode == StreamMode::OnDemand);
        })
        .await?;
        self.mark_updating(snapshot.meta.stream_id);
        Ok(())
    }

    /// UpdateStreamWarmThroughput (on-demand streams only). Returns the stream's name, ARN
    /// and new warm throughput.
    pub async fn update_warm_throughput(
        &self,
        stream: &StreamRef,
        mibps: u32,
    ) -> Result<(String, String, WarmThroughput)> {
        let _guard = self.control.lock().await;
        let snapshot = self.resolve_active(stream)?;
        if snapshot.settings.mode != StreamMode::OnDemand {
            return Err(EngineError::Validation(format!(
                "Warm throughput can only be set on streams in ON_DEMAND mode; stream {} under account {} is PROVISIONED.",
                snapshot.name(),
                self.account.account_id
            )));
        }
        self.update_settings(snapshot.meta.stream_id, move |s| s.warm_throughput_mibps = Some(mibps)).await?;
        self.mark_updating(snapshot.meta.stream_id);
        Ok((
            snapshot.meta.name.clone(),
            self.account.stream_arn(&snapshot.meta.name),
            WarmThroughput { target_mibps: mibps, current_mibps: mibps },
        ))
    }

    /// UpdateMaxRecordSize (the wire model bounds the size to 1024..=10240 KiB).
    pub async fn update_max_record_size(&self, stream: &StreamRef, kib: u32) -> Result<()> {
        let _guard = self.control.lock().await;
        let snapshot = self.resolve_active(stream)?;
        self.update_settings(snapshot.meta.stream_id, move |s| s.max_record_size_kib = Some(kib)).await?;
        Ok(())
    }

    // ----- Account level -----

    /// DescribeLimits.
    pub fn describe_limits(&self) -> Limits {
        let snapshots = self.all_snapshots();
        let live = snapshots.iter().filter(|s| s.settings.deleting_until_ms.is_none());
        Limits {
            shard_limit: self.config.shard_limit,
            open_shard_count: live.clone().map(|s| s.open_shard_count()).sum(),
            on_demand_stream_count: live.filter(|s| s.settings.mode == StreamMode::OnDemand).count() as u32,
            on_demand_stream_count_limit: self.config.on_demand_stream_limit,
        }
    }

    /// DescribeAccountSettings. Kept in memory only: it is a billing setting with no
    /// effect on behaviour.
    pub fn describe_account_settings(&self) -> BillingCommitment {
        *self.billing.lock()
    }

    /// UpdateAccountSettings.
    pub fn update_account_settings(&self, enable: bool) -> BillingCommitment {
        let now = self.now_ms();
        let mut billing = self.billing.lock();
        *billing = if enable {
            BillingCommitment {
                enabled: true,
                started_ms: Some(now),
                ended_ms: None,
                earliest_allowed_end_ms: Some(now + 365 * crate::limits::DAY_MS),
            }
        } else {
            BillingCommitment { enabled: false, ended_ms: Some(now), ..*billing }
        };
        *billing
    }

    /// The stream name a `StreamRef` designates, for messages of operations that fail
    /// before a lookup.
    pub fn stream_name_of(&self, stream: &StreamRef) -> String {
        match (&stream.name, &stream.arn) {
            (Some(name), _) => name.clone(),
            (None, Some(arn)) => Account::stream_name_in_arn(arn).to_owned(),
            (None, None) => String::new(),
        }
    }

    /// Whether a shard id names a shard of the stream (for the server's SubscribeToShard
    /// answer and tests).
    pub fn has_shard(&self, stream: &StreamRef, shard_id: &str) -> bool {
        let Ok(snapshot) = self.resolve(stream) else {
            return false;
        };
        parse_shard_id(shard_id).is_some_and(|index| snapshot.meta.shard(index).is_some())
    }
}

/// Consumers registered and not being deregistered.
fn live_consumer_count(snapshot: &Snapshot) -> usize {
    snapshot
        .meta
        .props
        .consumers
        .iter()
        .filter(|c| settings::decode::<ConsumerSettings>(&c.settings).deleting_until_ms.is_none())
        .count()
}

/// The settings of the consumer named `name`, if it is registered.
fn consumer_settings(snapshot: &Snapshot, name: &str) -> Option<ConsumerSettings> {
    snapshot.meta.props.consumers.iter().find(|c| c.name == name).map(|c| settings::decode(&c.settings))
}
