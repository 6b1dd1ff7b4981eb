//! Control-plane operations on streams: lifecycle, descriptions, listings, retention,
//! tags, policies, monitoring, encryption, capacity mode and account-level settings.

use std::collections::BTreeMap;
use std::sync::Arc;

use rheo_storage::{NewStream, StreamProps};

use super::Engine;
use crate::catalog::ChangeLock;
use crate::error::{EngineError, InvalidArgument, LimitExceeded, ResourceInUse, ResourceNotFound, Result, Validation};
use crate::hashing::uniform_ranges;
use crate::ids::{Account, ResourceName, ShardId};
use crate::limits::{
    DESCRIBE_STREAM_LIMIT_MAX, LIST_TAGS_LIMIT_DEFAULT, MAX_RECORD_SIZE_KIB_DEFAULT, ON_DEMAND_SHARDS_INITIAL,
    RETENTION_HOURS_DEFAULT,
};
use crate::model::StreamRef;
use crate::model::{
    AddTagsToStream, BillingCommitment, CreateStream, DeleteStream, DescribeStream, EnhancedMonitoring, Limits,
    ListStreams, ListTagsForStream, MonitoringChange, PutResourcePolicy, RecordDistribution, RemoveTagsFromStream,
    RetentionPeriod, StreamDescription, StreamEncryption, StreamList, StreamListing, StreamMode, StreamStatus,
    StreamSummary, Tag, TagList, TagResource, UntagResource, UpdateAccountSettings, UpdateMaxRecordSize,
    UpdateStreamMode, UpdateWarmThroughput, WarmThroughput, WarmThroughputChange,
};
use crate::settings::{self, StreamSettings};
use crate::snapshot::{shard_info, Snapshot};
use crate::tags::{check_tag_keys_to_remove, check_tags};
use crate::token::PageKind;

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

const RETENTION_HOURS_MIN: i64 = rheo_storage::limits::RETENTION_HOURS_MIN as i64;
const RETENTION_HOURS_MAX: i64 = rheo_storage::limits::RETENTION_HOURS_MAX as i64;

/// Whether a retention change may lengthen or shorten the period.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RetentionDirection {
    Increase,
    Decrease,
}

impl Engine {
    // ----- Lifecycle -----

    /// CreateStream.
    pub async fn create_stream(&self, request: CreateStream) -> Result<()> {
        let lock = self.catalog.lock().await;
        // A stream whose deletion period is over must not block its name.
        self.reap_locked(&lock).await?;
        if self.catalog.contains(&request.name) {
            return Err(EngineError::StreamExists { stream: request.name, account: self.account_id() });
        }
        self.check_streams_changing(&lock)?;
        let mode = request.mode.unwrap_or(if request.shard_count.is_some() {
            StreamMode::Provisioned
        } else {
            StreamMode::OnDemand
        });
        let shard_count = match (mode, request.shard_count) {
            (StreamMode::OnDemand, _) => ON_DEMAND_SHARDS_INITIAL,
            (StreamMode::Provisioned, Some(count)) => count,
            (StreamMode::Provisioned, None) => return Err(InvalidArgument::ShardCountMissing.into()),
        };
        // Today's AWS model gives ShardCount no upper bound of its own: only the account's
        // shard quota limits a new stream, with the quota's own text.
        self.check_shard_limit(u64::from(shard_count))?;
        if mode == StreamMode::OnDemand {
            let on_demand =
                self.catalog.all_snapshots().iter().filter(|s| s.settings.mode == StreamMode::OnDemand).count() as u32;
            if on_demand >= self.config.on_demand_stream_limit {
                let account = self.account();
                return Err(LimitExceeded::OnDemandStreams {
                    account: account.account_id.clone(),
                    region: account.region.clone(),
                    limit: self.config.on_demand_stream_limit,
                }
                .into());
            }
        }
        check_tags(&self.account().account_id, &request.name, &request.tags, &BTreeMap::new())?;
        let record_distribution = request.record_distribution.unwrap_or_default();
        if record_distribution == RecordDistribution::Auto && mode == StreamMode::Provisioned {
            // API_CreateStream: RecordDistributionStrategy applies to on-demand streams.
            return Err(InvalidArgument::AutoDistributionProvisioned {
                stream: request.name,
                account: self.account_id(),
            }
            .into());
        }
        let settings = StreamSettings {
            mode,
            record_distribution,
            max_record_size_kib: request.max_record_size_kib,
            warm_throughput_mibps: request.warm_throughput_mibps.filter(|_| mode == StreamMode::OnDemand),
            ..Default::default()
        };
        let name = request.name.clone();
        let stream = NewStream {
            name: request.name,
            shards: uniform_ranges(shard_count),
            props: StreamProps {
                retention_hours: RETENTION_HOURS_DEFAULT,
                tags: request.tags,
                consumers: Vec::new(),
                settings: settings::encode(&settings),
                encryption_key: None,
            },
        };
        self.catalog.create(&lock, stream).await?;
        tracing::info!(message = "Stream created.", stream = %name, shards = shard_count, mode = mode.as_str());
        Ok(())
    }

    /// DeleteStream.
    pub async fn delete_stream(&self, request: &DeleteStream) -> Result<()> {
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve(&request.stream)?;
        if snapshot.settings.deleting_until_ms.is_some() {
            return Ok(());
        }
        self.check_streams_changing(&lock)?;
        // AWS: a stream with queues cannot be deleted, whatever EnforceConsumerDeletion says.
        self.refuse_if_queues(snapshot.name())?;
        let registered = snapshot.live_consumer_count();
        if registered > 0 && !request.enforce_consumer_deletion {
            return Err(ResourceInUse::StreamHasConsumers {
                stream: snapshot.name().to_owned(),
                account: self.account_id(),
            }
            .into());
        }
        if self.config.delete_stream_ms == 0 {
            return self.finish_delete(&lock, &snapshot).await;
        }
        let until = self.now_ms().saturating_add(self.config.delete_stream_ms);
        let creating = self.catalog.status(&snapshot) == StreamStatus::Creating;
        self.catalog
            .update_settings(&lock, snapshot.id(), move |s| {
                s.deleting_until_ms = Some(until);
                s.deleted_while_creating = creating;
            })
            .await?;
        Ok(())
    }

    // ----- Descriptions -----

    fn summary(&self, snapshot: &Snapshot) -> StreamSummary {
        let settings = &snapshot.settings;
        StreamSummary {
            name: snapshot.meta.name.clone(),
            arn: self.account().stream_arn(&snapshot.meta.name),
            status: self.catalog.status(snapshot),
            mode: settings.mode,
            retention_hours: snapshot.meta.props.retention_hours,
            created_ms: snapshot.meta.created_ms,
            shard_level_metrics: settings.shard_level_metrics.clone(),
            encryption_key_id: settings.encryption_key_id.clone(),
            open_shard_count: snapshot.open_shard_count(),
            consumer_count: snapshot.live_consumer_count() as u32,
            queue_count: self.queue_count(snapshot.name()) as u32,
            max_record_size_kib: settings.max_record_size_kib.unwrap_or(MAX_RECORD_SIZE_KIB_DEFAULT),
            warm_throughput: settings
                .warm_throughput_mibps
                .filter(|_| settings.mode == StreamMode::OnDemand)
                .map(|mibps| WarmThroughput { target_mibps: mibps, current_mibps: mibps }),
            record_distribution: (settings.mode == StreamMode::OnDemand).then_some(settings.record_distribution),
        }
    }

    /// DescribeStream: one page of shards (`limit` ≤ 100) after `exclusive_start_shard_id`.
    pub fn describe_stream(&self, request: &DescribeStream) -> Result<StreamDescription> {
        let snapshot = self.catalog.resolve(&request.stream)?;
        let summary = self.summary(&snapshot);
        let limit = request.limit.map_or(DESCRIBE_STREAM_LIMIT_MAX, |l| l as usize).clamp(1, DESCRIBE_STREAM_LIMIT_MAX);
        let after = request
            .exclusive_start_shard_id
            .as_deref()
            .map(|id| ShardId::parse(id).map_or(i64::MAX, |id| i64::from(id.index())));
        // AWS shows no shards until the stream is ACTIVE, nor while a stream deleted before
        // it became ACTIVE is DELETING.
        let visible: Vec<_> = if summary.status == StreamStatus::Creating || snapshot.settings.deleted_while_creating {
            Vec::new()
        } else {
            let mut shards: Vec<_> =
                snapshot.meta.shards.iter().filter(|s| after.is_none_or(|after| i64::from(s.index) > after)).collect();
            shards.sort_by_key(|s| s.index);
            shards
        };
        let has_more_shards = visible.len() > limit;
        let shards = visible.iter().take(limit).map(|s| shard_info(s)).collect();
        Ok(StreamDescription { summary, shards, has_more_shards })
    }

    /// DescribeStreamSummary.
    pub fn describe_stream_summary(&self, stream: &StreamRef) -> Result<StreamSummary> {
        let snapshot = self.catalog.resolve(stream)?;
        Ok(self.summary(&snapshot))
    }

    /// ListStreams.
    pub fn list_streams(&self, request: &ListStreams) -> Result<StreamList> {
        let now = self.now_ms();
        let after = match &request.next_token {
            Some(token) => Some(self.tokens.open_name_page(PageKind::Streams, token, now)?),
            None => request.exclusive_start_stream_name.clone(),
        };
        let limit = request.limit.map_or(DESCRIBE_STREAM_LIMIT_MAX, |l| l as usize).clamp(1, DESCRIBE_STREAM_LIMIT_MAX);
        let live: Vec<_> = self
            .catalog
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
                arn: self.account().stream_arn(&s.meta.name),
                status: self.catalog.status(s),
                mode: s.settings.mode,
                created_ms: s.meta.created_ms,
            })
            .collect();
        let next_token = match streams.last() {
            Some(last) if has_more => Some(self.tokens.seal_page(PageKind::Streams, last.name.as_bytes(), now)),
            _ => None,
        };
        Ok(StreamList { streams, has_more, next_token })
    }

    // ----- Retention -----

    /// IncreaseStreamRetentionPeriod.
    pub async fn increase_retention(&self, request: &RetentionPeriod) -> Result<()> {
        self.change_retention(request, RetentionDirection::Increase).await
    }

    /// DecreaseStreamRetentionPeriod.
    pub async fn decrease_retention(&self, request: &RetentionPeriod) -> Result<()> {
        self.change_retention(request, RetentionDirection::Decrease).await
    }

    async fn change_retention(&self, request: &RetentionPeriod, direction: RetentionDirection) -> Result<()> {
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve(&request.stream)?;
        let hours = request.hours;
        if hours < RETENTION_HOURS_MIN {
            return Err(InvalidArgument::RetentionTooShort { hours, min: RETENTION_HOURS_MIN }.into());
        }
        if hours > RETENTION_HOURS_MAX {
            return Err(InvalidArgument::RetentionTooLong { hours, max: RETENTION_HOURS_MAX }.into());
        }
        let current = i64::from(snapshot.meta.props.retention_hours);
        let name = snapshot.name();
        if direction == RetentionDirection::Increase && hours < current {
            return Err(
                InvalidArgument::RetentionIncreaseBelowCurrent { stream: name.to_owned(), hours, current }.into()
            );
        }
        if direction == RetentionDirection::Decrease && hours > current {
            return Err(
                InvalidArgument::RetentionDecreaseAboveCurrent { stream: name.to_owned(), hours, current }.into()
            );
        }
        let hours = hours as u32;
        self.catalog
            .update(&lock, snapshot.id(), move |txn| {
                txn.props_mut().retention_hours = hours;
                Ok(())
            })
            .await?;
        Ok(())
    }

    // ----- Tags -----

    /// AddTagsToStream.
    pub async fn add_tags_to_stream(&self, request: AddTagsToStream) -> Result<()> {
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve(&request.stream)?;
        self.add_stream_tags(&lock, &snapshot, request.tags).await
    }

    async fn add_stream_tags(
        &self,
        lock: &ChangeLock<'_>,
        snapshot: &Snapshot,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        let account_id = &self.account().account_id;
        if self.catalog.status(snapshot) == StreamStatus::Creating {
            return Err(ResourceInUse::TagsWhileCreating {
                stream: snapshot.name().to_owned(),
                account: account_id.clone(),
            }
            .into());
        }
        check_tags(account_id, snapshot.name(), &tags, &snapshot.meta.props.tags)?;
        self.catalog
            .update(lock, snapshot.id(), move |txn| {
                txn.props_mut().tags.extend(tags);
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// RemoveTagsFromStream. Unknown keys are ignored.
    pub async fn remove_tags_from_stream(&self, request: RemoveTagsFromStream) -> Result<()> {
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve(&request.stream)?;
        let keys = request.tag_keys;
        check_tag_keys_to_remove(&self.account().account_id, snapshot.name(), &keys)?;
        self.catalog
            .update(&lock, snapshot.id(), move |txn| {
                let tags = &mut txn.props_mut().tags;
                for key in &keys {
                    tags.remove(key);
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// ListTagsForStream: tags after `exclusive_start_tag_key`, up to `limit`.
    pub fn list_tags_for_stream(&self, request: &ListTagsForStream) -> Result<TagList> {
        let snapshot = self.catalog.resolve(&request.stream)?;
        let limit = request.limit.map_or(LIST_TAGS_LIMIT_DEFAULT, |l| l as usize).max(1);
        let start = request.exclusive_start_tag_key.as_deref();
        let tags: Vec<Tag> = snapshot
            .meta
            .props
            .tags
            .iter()
            .filter(|(k, _)| start.is_none_or(|start| k.as_str() > start))
            .map(|(k, v)| Tag { key: k.clone(), value: v.clone() })
            .collect();
        let has_more = tags.len() > limit;
        Ok(TagList { tags: tags.into_iter().take(limit).collect(), has_more })
    }

    /// Resolves a stream or consumer ARN (TagResource, resource policies): the stream,
    /// and the consumer's name for a consumer ARN.
    pub(super) fn resolve_resource(&self, arn: &str) -> Result<(Arc<Snapshot>, Option<String>)> {
        match self.account().parse_arn(arn) {
            Some(ResourceName::Stream(name)) => Ok((self.catalog.resolve_name(&name)?, None)),
            Some(ResourceName::Consumer { stream, consumer, created_secs }) => {
                let snapshot = self.catalog.resolve_name(&stream)?;
                let found =
                    snapshot.consumers().iter().any(|c| c.name == consumer && c.created_ms / 1000 == created_secs);
                if !found {
                    return Err(EngineError::ConsumerNotFound {
                        consumer: arn.to_owned(),
                        stream,
                        account: self.account_id(),
                    });
                }
                Ok((snapshot, Some(consumer)))
            }
            None => Err(ResourceNotFound::Resource { arn: arn.to_owned(), account: self.account_id() }.into()),
        }
    }

    /// TagResource (stream or consumer ARN).
    pub async fn tag_resource(&self, request: TagResource) -> Result<()> {
        if self.is_queue_arn(&request.resource_arn) {
            return self.tag_queue(&request.resource_arn, request.tags).await;
        }
        let lock = self.catalog.lock().await;
        let (snapshot, consumer) = self.resolve_resource(&request.resource_arn)?;
        let tags = request.tags;
        match consumer {
            None => self.add_stream_tags(&lock, &snapshot, tags).await,
            Some(consumer) => {
                let existing = snapshot.consumer_settings(&consumer).map(|c| c.tags).unwrap_or_default();
                check_tags(&self.account().account_id, &consumer, &tags, &existing)?;
                self.catalog.update_consumer(&lock, snapshot.id(), consumer, move |s| s.tags.extend(tags)).await
            }
        }
    }

    /// UntagResource.
    pub async fn untag_resource(&self, request: UntagResource) -> Result<()> {
        if self.is_queue_arn(&request.resource_arn) {
            return self.untag_queue(&request.resource_arn, &request.tag_keys).await;
        }
        let lock = self.catalog.lock().await;
        let (snapshot, consumer) = self.resolve_resource(&request.resource_arn)?;
        let keys = request.tag_keys;
        match consumer {
            None => {
                self.catalog
                    .update(&lock, snapshot.id(), move |txn| {
                        for key in &keys {
                            txn.props_mut().tags.remove(key);
                        }
                        Ok(())
                    })
                    .await?;
                Ok(())
            }
            Some(consumer) => {
                self.catalog
                    .update_consumer(&lock, snapshot.id(), consumer, move |s| {
                        for key in &keys {
                            s.tags.remove(key);
                        }
                    })
                    .await
            }
        }
    }

    /// ListTagsForResource.
    pub fn list_tags_for_resource(&self, resource_arn: &str) -> Result<Vec<Tag>> {
        if self.is_queue_arn(resource_arn) {
            return self.queue_tags(resource_arn);
        }
        let (snapshot, consumer) = self.resolve_resource(resource_arn)?;
        let tags = match consumer {
            None => snapshot.meta.props.tags.clone(),
            Some(consumer) => snapshot.consumer_settings(&consumer).map(|c| c.tags).unwrap_or_default(),
        };
        Ok(tags.into_iter().map(|(key, value)| Tag { key, value }).collect())
    }

    // ----- Resource policies -----

    /// PutResourcePolicy: the document must be a policy `rheo_iam` can evaluate; the server
    /// evaluates it on every call to the resource.
    pub async fn put_resource_policy(&self, request: PutResourcePolicy) -> Result<()> {
        let policy = request.policy;
        if self.is_queue_arn(&request.resource_arn) {
            self.find_queue_resource(&request.resource_arn)?;
            check_policy(&policy)?;
            return self.set_queue_policy(&request.resource_arn, Some(policy)).await;
        }
        let lock = self.catalog.lock().await;
        let (snapshot, consumer) = self.resolve_resource(&request.resource_arn)?;
        check_policy(&policy)?;
        match consumer {
            None => {
                self.catalog.update_settings(&lock, snapshot.id(), move |s| s.policy = Some(policy)).await?;
                Ok(())
            }
            Some(consumer) => {
                self.catalog.update_consumer(&lock, snapshot.id(), consumer, move |s| s.policy = Some(policy)).await
            }
        }
    }

    /// GetResourcePolicy; `{}` when none is attached.
    pub fn get_resource_policy(&self, resource_arn: &str) -> Result<String> {
        if self.is_queue_arn(resource_arn) {
            return Ok(self.find_queue_resource(resource_arn)?.def().policy.unwrap_or_else(|| "{}".into()));
        }
        let (snapshot, consumer) = self.resolve_resource(resource_arn)?;
        let policy = match consumer {
            None => snapshot.settings.policy.clone(),
            Some(consumer) => snapshot.consumer_settings(&consumer).and_then(|c| c.policy),
        };
        Ok(policy.unwrap_or_else(|| "{}".into()))
    }

    /// DeleteResourcePolicy.
    pub async fn delete_resource_policy(&self, resource_arn: &str) -> Result<()> {
        if self.is_queue_arn(resource_arn) {
            if self.find_queue_resource(resource_arn)?.def().policy.is_none() {
                return Err(ResourceNotFound::ResourcePolicy { arn: resource_arn.to_owned() }.into());
            }
            return self.set_queue_policy(resource_arn, None).await;
        }
        let lock = self.catalog.lock().await;
        let (snapshot, consumer) = self.resolve_resource(resource_arn)?;
        if self.get_resource_policy(resource_arn)? == "{}" {
            return Err(ResourceNotFound::ResourcePolicy { arn: resource_arn.to_owned() }.into());
        }
        match consumer {
            None => {
                self.catalog.update_settings(&lock, snapshot.id(), |s| s.policy = None).await?;
                Ok(())
            }
            Some(consumer) => self.catalog.update_consumer(&lock, snapshot.id(), consumer, |s| s.policy = None).await,
        }
    }

    // ----- Enhanced monitoring -----

    /// EnableEnhancedMonitoring.
    pub async fn enable_enhanced_monitoring(&self, request: &EnhancedMonitoring) -> Result<MonitoringChange> {
        self.change_monitoring(request, |enabled, asked| enabled || asked).await
    }

    /// DisableEnhancedMonitoring.
    pub async fn disable_enhanced_monitoring(&self, request: &EnhancedMonitoring) -> Result<MonitoringChange> {
        self.change_monitoring(request, |enabled, asked| enabled && !asked).await
    }

    /// Sets each metric to `keep(enabled now, asked for)`.
    async fn change_monitoring(
        &self,
        request: &EnhancedMonitoring,
        keep: fn(bool, bool) -> bool,
    ) -> Result<MonitoringChange> {
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve(&request.stream)?;
        if snapshot.settings.deleting_until_ms.is_some() || self.catalog.status(&snapshot) == StreamStatus::Creating {
            self.catalog.require_active(&snapshot)?;
        }
        let metrics = &request.shard_level_metrics;
        let requested: Vec<&str> = if metrics.iter().any(|m| m == "ALL") {
            SHARD_LEVEL_METRICS.to_vec()
        } else {
            metrics.iter().map(String::as_str).collect()
        };
        let current = snapshot.settings.shard_level_metrics.clone();
        let desired: Vec<String> = SHARD_LEVEL_METRICS
            .iter()
            .filter(|m| keep(current.iter().any(|c| c == *m), requested.contains(m)))
            .map(|m| (*m).to_owned())
            .collect();
        let stored = desired.clone();
        self.catalog.update_settings(&lock, snapshot.id(), move |s| s.shard_level_metrics = stored).await?;
        Ok(MonitoringChange {
            stream_name: snapshot.meta.name.clone(),
            stream_arn: self.account().stream_arn(&snapshot.meta.name),
            current,
            desired,
        })
    }

    // ----- Encryption, capacity mode, warm throughput, record size -----

    /// StartStreamEncryption (the type must be KMS): new records are sealed with the key
    /// `KeyId` names; DescribeStream shows the `KeyId` as given.
    pub async fn start_stream_encryption(&self, request: &StreamEncryption) -> Result<()> {
        self.change_encryption(request, Some(request.key_id.clone())).await
    }

    /// StopStreamEncryption: new records are written in the clear; records sealed before
    /// stay sealed and readable.
    pub async fn stop_stream_encryption(&self, request: &StreamEncryption) -> Result<()> {
        self.change_encryption(request, None).await
    }

    /// The engine's key store (see [`crate::EngineConfig::keys`]).
    fn keys(&self) -> Result<&Arc<rheo_keys::KeyStore>> {
        self.config.keys.as_ref().ok_or_else(|| EngineError::Internal("the engine has no key store".into()))
    }

    /// Sets the stream's KMS key (`None`: encryption off).
    async fn change_encryption(&self, request: &StreamEncryption, key_id: Option<String>) -> Result<()> {
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve_active(&request.stream)?;
        let encryption_type = &request.encryption_type;
        if encryption_type != "KMS" {
            return Err(InvalidArgument::EncryptionType { encryption_type: encryption_type.clone() }.into());
        }
        if key_id.is_none() && !snapshot.encrypted() {
            return Err(InvalidArgument::StreamNotEncrypted {
                stream: snapshot.name().to_owned(),
                account: self.account_id(),
            }
            .into());
        }
        // An unknown key changes nothing.
        let key_number = match &key_id {
            Some(key_id) => Some(self.keys()?.resolve(key_id)?.number),
            None => None,
        };
        self.catalog
            .update(&lock, snapshot.id(), move |txn| {
                let mut settings: StreamSettings = settings::decode(&txn.meta().props.settings);
                settings.encryption_key_id = key_id;
                let props = txn.props_mut();
                props.settings = settings::encode(&settings);
                props.encryption_key = key_number;
                Ok(())
            })
            .await?;
        self.catalog.mark_updating(&lock, snapshot.id());
        Ok(())
    }

    /// UpdateStreamMode.
    pub async fn update_stream_mode(&self, request: &UpdateStreamMode) -> Result<()> {
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve_active(&StreamRef::arn(request.stream_arn.clone()))?;
        let mode = request.mode;
        if mode == StreamMode::Provisioned {
            // AWS: queues need on-demand streams; all must be deleted first.
            self.refuse_if_queues(snapshot.name())?;
        }
        if snapshot.settings.mode == mode {
            return Err(InvalidArgument::StreamModeUnchanged {
                stream: snapshot.name().to_owned(),
                account: self.account_id(),
                mode,
            }
            .into());
        }
        if mode == StreamMode::Provisioned && snapshot.settings.record_distribution == RecordDistribution::Auto {
            return Err(InvalidArgument::ProvisionedWithAutoDistribution {
                stream: snapshot.name().to_owned(),
                account: self.account_id(),
            }
            .into());
        }
        let warm_throughput_mibps = request.warm_throughput_mibps;
        self.catalog
            .update_settings(&lock, snapshot.id(), move |s| {
                s.mode = mode;
                s.warm_throughput_mibps = warm_throughput_mibps.filter(|_| mode == StreamMode::OnDemand);
            })
            .await?;
        self.catalog.mark_updating(&lock, snapshot.id());
        Ok(())
    }

    /// UpdateStreamWarmThroughput (on-demand streams only).
    pub async fn update_warm_throughput(&self, request: &UpdateWarmThroughput) -> Result<WarmThroughputChange> {
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve_active(&request.stream)?;
        if snapshot.settings.mode != StreamMode::OnDemand {
            return Err(Validation::WarmThroughputProvisioned {
                stream: snapshot.name().to_owned(),
                account: self.account_id(),
            }
            .into());
        }
        let mibps = request.warm_throughput_mibps;
        self.catalog.update_settings(&lock, snapshot.id(), move |s| s.warm_throughput_mibps = Some(mibps)).await?;
        self.catalog.mark_updating(&lock, snapshot.id());
        Ok(WarmThroughputChange {
            stream_name: snapshot.meta.name.clone(),
            stream_arn: self.account().stream_arn(&snapshot.meta.name),
            warm_throughput: WarmThroughput { target_mibps: mibps, current_mibps: mibps },
        })
    }

    /// UpdateMaxRecordSize (the wire model bounds the size to 1024..=10240 KiB).
    pub async fn update_max_record_size(&self, request: &UpdateMaxRecordSize) -> Result<()> {
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve_active(&request.stream)?;
        let kib = request.max_record_size_kib;
        self.catalog.update_settings(&lock, snapshot.id(), move |s| s.max_record_size_kib = Some(kib)).await?;
        Ok(())
    }

    // ----- Account level -----

    /// DescribeLimits.
    pub fn describe_limits(&self) -> Limits {
        let snapshots = self.catalog.all_snapshots();
        let live = snapshots.iter().filter(|s| s.settings.deleting_until_ms.is_none());
        Limits {
            shard_limit: self.config.shard_limit,
            open_shard_count: live.clone().map(|s| s.open_shard_count()).sum(),
            on_demand_stream_count: live.filter(|s| s.settings.mode == StreamMode::OnDemand).count() as u32,
            on_demand_stream_count_limit: self.config.on_demand_stream_limit,
        }
    }

    /// DescribeAccountSettings.
    pub fn describe_account_settings(&self) -> BillingCommitment {
        *self.billing.lock()
    }

    /// UpdateAccountSettings.
    pub fn update_account_settings(&self, request: UpdateAccountSettings) -> BillingCommitment {
        let now = self.now_ms();
        let mut billing = self.billing.lock();
        *billing = if request.commitment_enabled {
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
}

/// The stream name a `StreamRef` designates, for messages of operations that fail before
/// a lookup.
pub(super) fn stream_name_of(stream: &StreamRef) -> String {
    match (&stream.name, &stream.arn) {
        (Some(name), _) => name.clone(),
        (None, Some(arn)) => Account::stream_name_in_arn(arn).to_owned(),
        (None, None) => String::new(),
    }
}

/// A resource policy must be a JSON object; it is stored, not evaluated.
fn check_policy(policy: &str) -> Result<()> {
    if !matches!(serde_json::from_str::<serde_json::Value>(policy), Ok(serde_json::Value::Object(_))) {
        return Err(InvalidArgument::PolicyNotObject.into());
    }
    // The document is evaluated on every call to the resource, so one the evaluator
    // cannot read is refused now rather than stored and failing every call later.
    rheo_iam::Policy::parse_as(policy, rheo_iam::PolicyKind::Resource)
        .map_err(|error| InvalidArgument::PolicyInvalid { reason: error.to_string() })?;
    Ok(())
}
