//! The channel control plane: CreateChannel, DescribeChannel, ListChannels,
//! UpdateChannel, DeleteChannel, and tags and resource policies on channel ARNs. Each
//! channel runs one delivery task ([`super::deliver`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use parking_lot::{Mutex, RwLock};
use rheo_engine::{
    check_tags, Engine, EngineError, InvalidArgument, ReaderStart, ResourceNotFound, StreamMode, StreamReaderRequest,
    StreamRef, StreamStatus,
};
use rheo_storage::{Clock, FileSystem, LogConfig, NewStream, ShardLog, StreamProps};
use tokio::sync::watch;

use super::error::{ChannelError, ChannelResult, InvalidChannel};
use super::model::*;
use super::state::{self, ChannelState};
use super::template::KeyTemplate;
use crate::dest::s3::{bucket_name_is_valid, ObjectStoreConfig, ObjectStores};
use crate::limits::*;
use crate::metrics::StreamStats;
use crate::prefix::check_key_path;

/// Subfolder of the data directory holding the channels' log.
pub const LOG_DIR: &str = "channels";

/// How channels behave; every field has a flag in the binary.
#[derive(Debug, Clone)]
pub struct ChannelsConfig {
    /// How long a new channel stays CREATING.
    pub create_ms: u64,
    /// How long an updated channel stays UPDATING.
    pub update_ms: u64,
    /// How long a deleted channel stays DELETING.
    pub delete_ms: u64,
    /// Where buckets live (shared with Firehose's S3 destinations).
    pub object_stores: ObjectStoreConfig,
    /// Deflate level of GZIP objects.
    pub gzip_level: u32,
    /// When set, every channel writes its buffer after this many milliseconds instead of
    /// its `DataFreshnessInSeconds` (at least 300 s on AWS), which DescribeChannel still
    /// shows: for tests.
    pub delivery_interval_ms: Option<u64>,
}

/// What the service and the delivery tasks share.
pub(crate) struct Shared {
    pub(crate) log: ShardLog,
    pub(crate) kinesis: Arc<Engine>,
    pub(crate) stores: ObjectStores,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: ChannelsConfig,
}

/// A live channel.
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) arn: String,
    pub(crate) stream_id: u64,
    /// The committed state, except the reader position, which only the task tracks.
    pub(crate) state: RwLock<ChannelState>,
    /// Milliseconds a buffer waits; UpdateChannel changes it.
    pub(crate) wait_ms: watch::Sender<u64>,
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) stats: Arc<StreamStats>,
}

impl Entry {
    /// The channel reads the stream of this name: it was created on it and has not
    /// failed (a FAILED channel lost its stream and reads nothing).
    fn reads(&self, stream_name: &str) -> bool {
        let state = self.state.read();
        state.stream_name == stream_name && state.failure.is_none()
    }
}

/// A deleted channel, shown as DELETING for a while.
struct Deleting {
    until_ms: u64,
    info: ChannelInfo,
}

/// Kinesis channels: delivery of a stream's records to object storage.
pub struct Channels {
    shared: Arc<Shared>,
    /// Serialises control-plane changes so each validates against what it changes.
    control: tokio::sync::Mutex<()>,
    channels: RwLock<BTreeMap<String, Arc<Entry>>>,
    deleting: Mutex<BTreeMap<String, Deleting>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// The bucket an S3 bucket ARN names (`arn:aws:s3:::name`; the model checked the form).
pub(crate) fn bucket_name(arn: &str) -> &str {
    arn.rsplit_once(":::").map_or(arn, |(_, name)| name)
}

fn epoch_secs_ms(ms: u64) -> u64 {
    ms / 1000 * 1000
}

impl Channels {
    /// Opens (recovering) the channels' log under `data_dir` and restarts every channel's
    /// delivery from its saved position. Must be called inside a tokio runtime.
    pub fn open(
        fs: Arc<dyn FileSystem>,
        clock: Arc<dyn Clock>,
        data_dir: &Path,
        log_config: LogConfig,
        kinesis: Arc<Engine>,
        config: ChannelsConfig,
    ) -> ChannelResult<Arc<Channels>> {
        let log = crate::stream::open_log(fs, clock.clone(), data_dir, LOG_DIR, log_config)?;
        let stores = ObjectStores::new(config.object_stores.clone());
        let channels = Arc::new(Channels {
            shared: Arc::new(Shared { log, kinesis, stores, clock, config }),
            control: tokio::sync::Mutex::new(()),
            channels: RwLock::new(BTreeMap::new()),
            deleting: Mutex::new(BTreeMap::new()),
            tasks: Mutex::new(Vec::new()),
        });
        for meta in channels.shared.log.streams() {
            match ChannelState::from_settings(&meta.props.settings) {
                Some(state) => channels.start(&meta.name, meta.stream_id, state),
                None => tracing::error!(message = "Channel without state; not delivering.", channel = %meta.name),
            }
        }
        Ok(channels)
    }

    /// Stops every delivery task; buffers not yet written stay unacknowledged in the
    /// source stream and are delivered after the next start.
    pub async fn shutdown(&self) {
        for entry in self.channels.read().values() {
            entry.stop.send_replace(true);
        }
        let tasks: Vec<_> = self.tasks.lock().drain(..).collect();
        for task in tasks {
            let _ = task.await;
        }
    }

    fn account_id(&self) -> String {
        self.shared.kinesis.account().account_id.clone()
    }

    /// The ARN prefix of this account's channels.
    fn arn_prefix(&self) -> String {
        let account = self.shared.kinesis.account();
        format!("arn:{}:kinesis:{}:{}:channel/", account.partition(), account.region, account.account_id)
    }

    fn arn(&self, name: &str) -> String {
        format!("{}{name}", self.arn_prefix())
    }

    /// Whether an ARN names a channel (of any account): such ARNs are this component's in
    /// TagResource and the resource policy operations.
    pub fn is_channel_arn(arn: &str) -> bool {
        arn.starts_with("arn:") && arn.contains(":kinesis:") && arn.contains(":channel/")
    }

    fn not_found(&self, arn: &str) -> ChannelError {
        ChannelError::NotFound { arn: arn.to_owned(), account: self.account_id() }
    }

    fn entry(&self, arn: &str) -> ChannelResult<Arc<Entry>> {
        let name = arn.strip_prefix(&self.arn_prefix()).ok_or_else(|| self.not_found(arn))?;
        self.channels.read().get(name).cloned().ok_or_else(|| self.not_found(arn))
    }

    fn wait_ms(&self, freshness_secs: u32) -> u64 {
        self.shared.config.delivery_interval_ms.unwrap_or(u64::from(freshness_secs) * 1000)
    }

    fn start(&self, name: &str, stream_id: u64, state: ChannelState) {
        let entry = Arc::new(Entry {
            name: name.to_owned(),
            arn: self.arn(name),
            stream_id,
            wait_ms: watch::Sender::new(self.wait_ms(state.freshness_secs)),
            state: RwLock::new(state),
            stop: watch::Sender::new(false),
            stats: Arc::new(StreamStats::default()),
        });
        self.channels.write().insert(name.to_owned(), entry.clone());
        let mut tasks = self.tasks.lock();
        tasks.retain(|task| !task.is_finished());
        tasks.push(tokio::spawn(super::deliver::run(self.shared.clone(), entry)));
    }

    fn status(&self, state: &ChannelState) -> ChannelStatus {
        let now = self.shared.clock.now_ms();
        if state.failure.is_some() {
            ChannelStatus::Failed
        } else if now < state.created_ms.saturating_add(self.shared.config.create_ms) {
            ChannelStatus::Creating
        } else if state.updated_ms.is_some_and(|at| now < at.saturating_add(self.shared.config.update_ms)) {
            ChannelStatus::Updating
        } else {
            ChannelStatus::Active
        }
    }

    fn info(&self, entry: &Entry) -> ChannelInfo {
        let state = entry.state.read();
        let dead_letter = state.dead_letter.clone().unwrap_or_else(|| DeadLetter {
            bucket_arn: state.storage.bucket_arn.clone(),
            expected_bucket_owner: state.storage.expected_bucket_owner.clone(),
            error_output_prefix: Some(CHANNEL_ERROR_PREFIX_DEFAULT.to_owned()),
        });
        ChannelInfo {
            name: entry.name.clone(),
            arn: entry.arn.clone(),
            id: state.id.clone(),
            status: self.status(&state),
            status_reason: state.failure.clone(),
            created_ms: state.created_ms,
            role_arn: state.role_arn.clone(),
            streams: vec![ChannelStream { config: state.stream.clone(), stream_created_ms: state.stream_created_ms }],
            s3: S3DestinationInfo {
                data_freshness_secs: state.freshness_secs,
                dead_letter,
                storage: state.storage.clone(),
            },
            encryption: state.encryption.clone(),
            logging: state.logging.clone().unwrap_or(Logging {
                enabled: false,
                log_group_name: None,
                log_stream_name: None,
            }),
        }
    }

    /// Forgets channels whose DELETING period has ended.
    fn reap(&self) {
        let now = self.shared.clock.now_ms();
        self.deleting.lock().retain(|_, d| d.until_ms > now);
    }

    fn check_freshness(given: Option<i64>) -> ChannelResult<u32> {
        let Some(given) = given else { return Ok(CHANNEL_FRESHNESS_SECS_DEFAULT) };
        let range = i64::from(CHANNEL_FRESHNESS_SECS_MIN)..=i64::from(CHANNEL_FRESHNESS_SECS_MAX);
        match u32::try_from(given) {
            Ok(secs) if range.contains(&given) => Ok(secs),
            _ => Err(InvalidChannel::Freshness {
                given,
                min: CHANNEL_FRESHNESS_SECS_MIN,
                max: CHANNEL_FRESHNESS_SECS_MAX,
            }
            .into()),
        }
    }

    /// CreateChannel: the checks AWS documents, in the order a request meets them
    /// (destination, source, quotas), then the channel is stored and starts reading at
    /// the stream's LATEST ("no backfill").
    pub async fn create_channel(&self, request: CreateChannel) -> ChannelResult<ChannelInfo> {
        let s3 = match (request.s3, request.s3_tables) {
            (Some(_), true) => return Err(InvalidChannel::BothDestinations.into()),
            (None, true) => return Err(InvalidChannel::S3TablesNotSupported.into()),
            (None, false) => return Err(InvalidChannel::NoDestination.into()),
            (Some(s3), false) => s3,
        };
        let [stream] = <[StreamConfig; 1]>::try_from(request.streams)
            .map_err(|streams| InvalidChannel::StreamCount { given: streams.len() })?;
        if stream.record_format == RecordFormat::GsrJson {
            return Err(InvalidChannel::RecordFormat { format: stream.record_format }.into());
        }
        if stream.gsr_schema_arn.is_some() {
            return Err(InvalidChannel::SchemaWithS3.into());
        }
        let freshness_secs = Self::check_freshness(s3.data_freshness_secs)?;
        let buckets = std::iter::once(&s3.storage.bucket_arn).chain(s3.dead_letter.iter().map(|d| &d.bucket_arn));
        if let Some(bucket) = buckets.map(|arn| bucket_name(arn)).find(|name| !bucket_name_is_valid(name)) {
            return Err(InvalidChannel::BucketName { bucket: bucket.to_owned() }.into());
        }
        if let Some(prefix) = s3.dead_letter.as_ref().and_then(|d| d.error_output_prefix.as_deref()) {
            check_key_path("ErrorOutputPrefix", &super::deliver::with_trailing_slash(prefix))
                .map_err(|reason| InvalidChannel::ErrorOutputPrefix { reason })?;
        }
        if let Some(template) = &s3.storage.output_key_template {
            KeyTemplate::parse(template)
                .map_err(|rule| InvalidChannel::Template { template: template.clone(), rule })?;
        }
        let account = self.account_id();
        check_tags(&account, &request.name, &request.tags, &BTreeMap::new())?;

        let _guard = self.control.lock().await;
        self.reap();
        if self.channels.read().contains_key(&request.name) || self.deleting.lock().contains_key(&request.name) {
            return Err(ChannelError::Exists { name: request.name, account });
        }
        let limit = self.channel_count_limit();
        if self.channel_count() >= limit {
            return Err(ChannelError::AccountLimit { account, limit });
        }
        let summary = self
            .shared
            .kinesis
            .describe_stream_summary(&StreamRef { name: None, arn: Some(stream.stream_arn.clone()) })?;
        if summary.status == StreamStatus::Deleting {
            return Err(EngineError::StreamNotFound { stream: summary.name, account }.into());
        }
        if summary.mode != StreamMode::OnDemand {
            return Err(ChannelError::StreamNotOnDemand { stream: summary.name, account });
        }
        let reading: Vec<String> =
            self.channels.read().values().filter(|e| e.reads(&summary.name)).map(|e| e.name.clone()).collect();
        if reading.len() >= S3_CHANNELS_PER_STREAM_MAX as usize {
            let channel = reading.into_iter().next().unwrap_or_default();
            return Err(ChannelError::StreamHasChannel { stream: summary.name, account, channel });
        }
        let reader = self
            .shared
            .kinesis
            .stream_reader(StreamReaderRequest { stream_name: summary.name.clone(), start: ReaderStart::Latest })?;
        let now = self.shared.clock.now_ms();
        let state = ChannelState {
            id: uuid::Uuid::new_v4().to_string(),
            created_ms: now,
            updated_ms: None,
            role_arn: request.role_arn,
            stream: StreamConfig { stream_arn: summary.arn.to_string(), ..stream },
            stream_name: summary.name,
            stream_created_ms: summary.created_ms,
            freshness_secs,
            storage: s3.storage,
            dead_letter: s3.dead_letter,
            encryption: request.encryption,
            logging: request.logging,
            policy: None,
            failure: None,
            positions: reader.checkpoint(),
        };
        let mut props = StreamProps { retention_hours: RETENTION_HOURS, tags: request.tags, ..Default::default() };
        state.store(&mut props.settings)?;
        let meta =
            self.shared.log.create_stream(NewStream { name: request.name.clone(), shards: Vec::new(), props }).await?;
        self.start(&request.name, meta.stream_id, state);
        tracing::info!(message = "Channel created.", channel = %request.name);
        let entry = self.entry(&self.arn(&request.name))?;
        Ok(self.info(&entry))
    }

    /// DescribeChannel.
    pub fn describe_channel(&self, arn: &str) -> ChannelResult<ChannelInfo> {
        self.reap();
        if let Ok(entry) = self.entry(arn) {
            return Ok(self.info(&entry));
        }
        let name = arn.strip_prefix(&self.arn_prefix()).ok_or_else(|| self.not_found(arn))?;
        self.deleting.lock().get(name).map(|d| d.info.clone()).ok_or_else(|| self.not_found(arn))
    }

    /// ListChannels, in name order, filtered by source stream.
    pub fn list_channels(&self, request: ListChannels) -> ChannelResult<ChannelList> {
        self.reap();
        let after = match &request.next_token {
            Some(token) => Some(
                URL_SAFE_NO_PAD
                    .decode(token)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or(InvalidChannel::NextToken)?,
            ),
            None => None,
        };
        let mut all: BTreeMap<String, ChannelInfo> =
            self.channels.read().values().map(|e| (e.name.clone(), self.info(e))).collect();
        all.extend(self.deleting.lock().iter().map(|(name, d)| (name.clone(), d.info.clone())));
        let matches = |info: &ChannelInfo| {
            request.stream_filter.is_empty()
                || request.stream_filter.iter().any(|filter| {
                    info.streams.iter().any(|s| {
                        s.config.stream_arn == filter.stream_arn
                            && filter
                                .stream_created_ms
                                .is_none_or(|at| epoch_secs_ms(at) == epoch_secs_ms(s.stream_created_ms))
                    })
                })
        };
        let limit = request.max_results.map_or(CHANNEL_LIST_LIMIT, |n| (n as usize).min(CHANNEL_LIST_LIMIT));
        let mut page: Vec<ChannelInfo> = all
            .into_values()
            .filter(|info| after.as_ref().is_none_or(|after| info.name > *after))
            .filter(|info| matches(info))
            .take(limit + 1)
            .collect();
        let next_token = if page.len() > limit {
            page.truncate(limit);
            page.last().map(|info| URL_SAFE_NO_PAD.encode(info.name.as_bytes()))
        } else {
            None
        };
        let channels = page
            .into_iter()
            .map(|info| ChannelSummary {
                streams: info.streams.iter().map(|s| (s.config.stream_arn.clone(), s.stream_created_ms)).collect(),
                name: info.name,
                arn: info.arn,
                id: info.id,
                status: info.status,
                status_reason: info.status_reason,
                created_ms: info.created_ms,
            })
            .collect();
        Ok(ChannelList { channels, next_token })
    }

    /// UpdateChannel: the freshness and the logging settings; the channel must be ACTIVE.
    pub async fn update_channel(&self, request: UpdateChannel) -> ChannelResult<ChannelInfo> {
        let _guard = self.control.lock().await;
        let entry = self.entry(&request.arn)?;
        if request.s3_tables {
            return Err(InvalidChannel::WrongDestinationUpdate.into());
        }
        let freshness = match request.s3_freshness_secs {
            Some(given) => Some(Self::check_freshness(Some(given))?),
            None => None,
        };
        if freshness.is_none() && request.logging.is_none() {
            return Err(InvalidChannel::NothingToUpdate.into());
        }
        let status = self.status(&entry.state.read());
        if status != ChannelStatus::Active {
            return Err(ChannelError::NotActive { name: entry.name.clone(), status: status_name(status) });
        }
        let now = self.shared.clock.now_ms();
        let logging = request.logging;
        let change = move |s: &mut ChannelState| {
            if let Some(secs) = freshness {
                s.freshness_secs = secs;
            }
            if let Some(logging) = logging {
                s.logging = Some(logging);
            }
            s.updated_ms = Some(now);
        };
        let stored = change.clone();
        self.shared.log.update_stream(entry.stream_id, move |txn| state::edit(txn, stored)).await?;
        let freshness_secs = {
            let mut state = entry.state.write();
            change(&mut state);
            state.freshness_secs
        };
        entry.wait_ms.send_replace(self.wait_ms(freshness_secs));
        Ok(self.info(&entry))
    }

    /// DeleteChannel: delivery stops at once (a buffer not yet written is not written;
    /// its records stay in the stream), and the channel is DELETING for a while.
    pub async fn delete_channel(&self, arn: &str) -> ChannelResult<()> {
        let _guard = self.control.lock().await;
        let entry = self.entry(arn)?;
        self.shared.log.delete_stream(entry.stream_id).await?;
        entry.stop.send_replace(true);
        self.channels.write().remove(&entry.name);
        let mut info = self.info(&entry);
        info.status = ChannelStatus::Deleting;
        let until_ms = self.shared.clock.now_ms().saturating_add(self.shared.config.delete_ms);
        self.deleting.lock().insert(entry.name.clone(), Deleting { until_ms, info });
        tracing::info!(message = "Channel deleted.", channel = %entry.name);
        Ok(())
    }

    /// Renders every channel's delivery counters in Prometheus's text format
    /// (`rheo_channel_*`, labelled by channel).
    pub fn render_metrics(&self, out: &mut String) {
        let stats: Vec<_> = self.channels.read().values().map(|e| (e.name.clone(), e.stats.clone())).collect();
        crate::metrics::render_channels(out, &stats, self.shared.clock.now_ms());
    }

    /// The counters of the channels' own log.
    pub fn log_stats(&self) -> rheo_storage::LogStats {
        self.shared.log.stats()
    }

    /// Live channels (DescribeLimits' `ChannelCount`).
    pub fn channel_count(&self) -> u32 {
        u32::try_from(self.channels.read().len()).unwrap_or(u32::MAX)
    }

    /// `ChannelCountLimit`: each on-demand stream may have [`CHANNELS_PER_STREAM_MAX`]
    /// channels, and the delivery quotas page bounds the account's channels by that.
    pub fn channel_count_limit(&self) -> u32 {
        self.shared.kinesis.describe_limits().on_demand_stream_count_limit.saturating_mul(CHANNELS_PER_STREAM_MAX)
    }

    /// Channels reading the stream of this name (DescribeStreamSummary's `ChannelCount`).
    pub fn stream_channel_count(&self, stream_name: &str) -> u32 {
        let count = self.channels.read().values().filter(|e| e.reads(stream_name)).count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// TagResource on a channel ARN, with the Kinesis tag rules.
    pub async fn tag_resource(&self, arn: &str, tags: BTreeMap<String, String>) -> ChannelResult<()> {
        let _guard = self.control.lock().await;
        let entry = self.entry(arn)?;
        let existing = self.shared.log.stream(entry.stream_id).map(|m| m.props.tags.clone()).unwrap_or_default();
        check_tags(&self.account_id(), &entry.name, &tags, &existing)?;
        self.shared
            .log
            .update_stream(entry.stream_id, move |txn| {
                txn.props_mut().tags.extend(tags);
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// UntagResource on a channel ARN.
    pub async fn untag_resource(&self, arn: &str, keys: Vec<String>) -> ChannelResult<()> {
        let _guard = self.control.lock().await;
        let entry = self.entry(arn)?;
        self.shared
            .log
            .update_stream(entry.stream_id, move |txn| {
                for key in &keys {
                    txn.props_mut().tags.remove(key);
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// ListTagsForResource on a channel ARN.
    pub fn list_tags(&self, arn: &str) -> ChannelResult<BTreeMap<String, String>> {
        let entry = self.entry(arn)?;
        Ok(self.shared.log.stream(entry.stream_id).map(|m| m.props.tags.clone()).unwrap_or_default())
    }

    /// PutResourcePolicy on a channel ARN: stored, not evaluated, as for streams.
    pub async fn put_resource_policy(&self, arn: &str, policy: String) -> ChannelResult<()> {
        let _guard = self.control.lock().await;
        let entry = self.entry(arn)?;
        if !matches!(serde_json::from_str::<serde_json::Value>(&policy), Ok(serde_json::Value::Object(_))) {
            return Err(EngineError::from(InvalidArgument::PolicyNotObject).into());
        }
        self.set_policy(&entry, Some(policy)).await
    }

    /// GetResourcePolicy on a channel ARN; `{}` when none is attached.
    pub fn get_resource_policy(&self, arn: &str) -> ChannelResult<String> {
        let entry = self.entry(arn)?;
        let policy = entry.state.read().policy.clone();
        Ok(policy.unwrap_or_else(|| "{}".into()))
    }

    /// DeleteResourcePolicy on a channel ARN.
    pub async fn delete_resource_policy(&self, arn: &str) -> ChannelResult<()> {
        let _guard = self.control.lock().await;
        let entry = self.entry(arn)?;
        if entry.state.read().policy.is_none() {
            return Err(EngineError::from(ResourceNotFound::ResourcePolicy { arn: arn.to_owned() }).into());
        }
        self.set_policy(&entry, None).await
    }

    async fn set_policy(&self, entry: &Entry, policy: Option<String>) -> ChannelResult<()> {
        let stored = policy.clone();
        self.shared.log.update_stream(entry.stream_id, move |txn| state::edit(txn, |s| s.policy = stored)).await?;
        entry.state.write().policy = policy;
        Ok(())
    }
}

/// The status as AWS spells it.
pub fn status_name(status: ChannelStatus) -> &'static str {
    match status {
        ChannelStatus::Creating => "CREATING",
        ChannelStatus::Active => "ACTIVE",
        ChannelStatus::Updating => "UPDATING",
        ChannelStatus::Deleting => "DELETING",
        ChannelStatus::Failed => "FAILED",
    }
}
