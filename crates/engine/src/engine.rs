//! The engine: stream lookup, lifecycle states, cached routing tables and metadata
//! changes. The operations themselves live in `control`, `reshard`, `data` and
//! `consumers`, each an `impl Engine` block.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rheo_storage::{
    Clock, FileSystem, LogConfig, MetaTxn, SequenceNumber, ShardLog, ShardMeta, StorageError, StreamMeta,
};

use crate::error::{EngineError, Result};
use crate::ids::{shard_id, Account};
use crate::limits::{
    CONSUMER_LIMIT_DEFAULT, LIFECYCLE_DELAY_MS_DEFAULT, MAX_RECORD_SIZE_KIB_DEFAULT, ON_DEMAND_STREAM_LIMIT_DEFAULT,
    SHARD_LIMIT_DEFAULT,
};
use crate::model::{BillingCommitment, HashRange, ShardInfo, StreamRef, StreamStatus};
use crate::settings::{self, StreamSettings};
use crate::throttle::Throttle;
use crate::token::TokenKey;

/// How the engine behaves; every field has a flag in the binary.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Region shown in ARNs and messages.
    pub region: String,
    /// 12-digit account id shown in ARNs and messages.
    pub account_id: String,
    /// How long a new stream stays CREATING.
    pub create_stream_ms: u64,
    /// How long a deleted stream stays DELETING.
    pub delete_stream_ms: u64,
    /// How long a stream stays UPDATING after resharding or a mode/encryption change.
    pub update_stream_ms: u64,
    /// How long a consumer stays CREATING (and DELETING when deregistered).
    pub consumer_ms: u64,
    /// Account shard quota (open shards over all streams).
    pub shard_limit: u32,
    /// Account on-demand stream quota.
    pub on_demand_stream_limit: u32,
    /// Consumers per stream.
    pub consumer_limit: u32,
    /// Enforce per-shard read and write throughput (ProvisionedThroughputExceeded).
    pub enforce_limits: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            create_stream_ms: LIFECYCLE_DELAY_MS_DEFAULT,
            delete_stream_ms: LIFECYCLE_DELAY_MS_DEFAULT,
            update_stream_ms: LIFECYCLE_DELAY_MS_DEFAULT,
            consumer_ms: LIFECYCLE_DELAY_MS_DEFAULT,
            shard_limit: SHARD_LIMIT_DEFAULT,
            on_demand_stream_limit: ON_DEMAND_STREAM_LIMIT_DEFAULT,
            consumer_limit: CONSUMER_LIMIT_DEFAULT,
            enforce_limits: false,
        }
    }
}

/// An open shard in the routing table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    pub(crate) start: u128,
    pub(crate) end: u128,
    pub(crate) uid: u64,
    pub(crate) index: u32,
    pub(crate) created_secs: u64,
}

/// A stream's committed metadata with what the engine derives from it. Rebuilt only when
/// the metadata changes (the storage layer replaces its `Arc` on every change).
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) meta: Arc<StreamMeta>,
    pub(crate) settings: StreamSettings,
    /// Open shards ordered by starting hash key; together they cover the whole key space.
    pub(crate) routes: Vec<Route>,
}

impl Snapshot {
    fn build(meta: Arc<StreamMeta>) -> Self {
        let settings = settings::decode(&meta.props.settings);
        let mut routes: Vec<Route> = meta
            .shards
            .iter()
            .filter(|s| s.closed.is_none())
            .map(|s| Route {
                start: s.hash_key_start,
                end: s.hash_key_end,
                uid: s.uid,
                index: s.index,
                created_secs: s.created_ms / 1000,
            })
            .collect();
        routes.sort_by_key(|r| r.start);
        Snapshot { meta, settings, routes }
    }

    /// The open shard owning a hash key.
    pub(crate) fn route(&self, hash: u128) -> Option<Route> {
        let position = self.routes.partition_point(|r| r.start <= hash);
        let route = *self.routes.get(position.checked_sub(1)?)?;
        (hash <= route.end).then_some(route)
    }

    pub(crate) fn name(&self) -> &str {
        &self.meta.name
    }

    pub(crate) fn max_record_bytes(&self) -> usize {
        self.settings.max_record_size_kib.unwrap_or(MAX_RECORD_SIZE_KIB_DEFAULT) as usize * 1024
    }

    pub(crate) fn open_shard_count(&self) -> u32 {
        self.routes.len() as u32
    }
}

/// Kinesis Data Streams semantics over a [`ShardLog`].
pub struct Engine {
    pub(crate) log: ShardLog,
    pub(crate) account: Account,
    pub(crate) config: EngineConfig,
    pub(crate) key: TokenKey,
    /// Serialises metadata changes, so each one validates against the state it changes.
    pub(crate) control: tokio::sync::Mutex<()>,
    /// Live streams (including DELETING ones) by name.
    pub(crate) names: RwLock<HashMap<String, u64>>,
    snapshots: RwLock<HashMap<u64, Arc<Snapshot>>>,
    /// Streams in the UPDATING state until the given time. Not persisted: after a restart
    /// every change has long been applied.
    updating_until_ms: Mutex<HashMap<u64, u64>>,
    pub(crate) throttle: Throttle,
    pub(crate) billing: Mutex<BillingCommitment>,
    /// Bumped after every metadata change (and finished deletion), so subscriptions
    /// notice a deregistered consumer or a deleted stream without polling.
    pub(crate) changes: tokio::sync::watch::Sender<u64>,
    /// Open SubscribeToShard subscriptions, for the takeover rule.
    pub(crate) subscriptions: crate::subscribe::Registry,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("account", &self.account).finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens (recovering) the log in `dir` and the token key beside it.
    pub fn open(
        fs: Arc<dyn FileSystem>,
        clock: Arc<dyn Clock>,
        dir: &Path,
        log_config: LogConfig,
        config: EngineConfig,
    ) -> Result<Self> {
        // The log takes the folder's lock first, so a second server never touches the key.
        let log = ShardLog::open(fs.clone(), clock, dir, log_config)?;
        let key = TokenKey::load_or_create(&*fs, dir)?;
        Ok(Self::with_log(log, key, config))
    }

    /// An engine over an already open log.
    pub fn with_log(log: ShardLog, key: TokenKey, config: EngineConfig) -> Self {
        let names = log.streams().iter().map(|s| (s.name.clone(), s.stream_id)).collect();
        Engine {
            log,
            account: Account { region: config.region.clone(), account_id: config.account_id.clone() },
            config,
            key,
            control: tokio::sync::Mutex::new(()),
            names: RwLock::new(names),
            snapshots: RwLock::new(HashMap::new()),
            updating_until_ms: Mutex::new(HashMap::new()),
            throttle: Throttle::default(),
            billing: Mutex::new(BillingCommitment::default()),
            changes: tokio::sync::watch::Sender::new(0),
            subscriptions: crate::subscribe::Registry::default(),
        }
    }

    /// The underlying log.
    pub fn log(&self) -> &ShardLog {
        &self.log
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Region and account.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// Stops the log writer after queued work; call once the server has drained.
    pub fn shutdown(self) {
        self.log.shutdown();
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.log.now_ms()
    }

    pub(crate) fn account_id(&self) -> String {
        self.account.account_id.clone()
    }

    pub(crate) fn stream_not_found(&self, stream: &str) -> EngineError {
        EngineError::StreamNotFound { stream: stream.to_owned(), account: self.account_id() }
    }

    /// The current snapshot of a stream by id, if it is live.
    pub(crate) fn snapshot(&self, stream_id: u64) -> Option<Arc<Snapshot>> {
        let meta = self.log.stream(stream_id)?;
        if let Some(cached) = self.snapshots.read().get(&stream_id) {
            if Arc::ptr_eq(&cached.meta, &meta) {
                return Some(cached.clone());
            }
        }
        let snapshot = Arc::new(Snapshot::build(meta));
        self.snapshots.write().insert(stream_id, snapshot.clone());
        Some(snapshot)
    }

    /// The stream name a reference designates, checking that name and ARN agree.
    pub(crate) fn referenced_name<'a>(&self, stream: &'a StreamRef) -> Result<&'a str> {
        match (&stream.name, &stream.arn) {
            (None, None) => {
                Err(EngineError::InvalidArgument("Either StreamName or StreamARN must be provided.".into()))
            }
            (Some(name), None) => Ok(name),
            (name, Some(arn)) => {
                let in_arn = match self.account.parse_arn(arn) {
                    Some(crate::ids::ResourceName::Stream(in_arn)) => in_arn,
                    _ => return Err(self.stream_not_found(Account::stream_name_in_arn(arn))),
                };
                match name {
                    Some(name) if *name != in_arn => Err(EngineError::InvalidArgument(format!(
                        "StreamARN {arn} and StreamName {name} do not refer to the same stream."
                    ))),
                    _ => Ok(Account::stream_name_in_arn(arn)),
                }
            }
        }
    }

    /// Looks a stream up in any state except "deleted".
    pub(crate) fn resolve(&self, stream: &StreamRef) -> Result<Arc<Snapshot>> {
        let name = self.referenced_name(stream)?;
        self.resolve_name(name)
    }

    pub(crate) fn resolve_name(&self, name: &str) -> Result<Arc<Snapshot>> {
        let id = self.names.read().get(name).copied();
        let snapshot = id.and_then(|id| self.snapshot(id)).ok_or_else(|| self.stream_not_found(name))?;
        if self.status(&snapshot) == StreamStatus::Deleting {
            if let Some(until) = snapshot.settings.deleting_until_ms {
                if self.now_ms() >= until {
                    return Err(self.stream_not_found(name));
                }
            }
        }
        Ok(snapshot)
    }

    /// Looks a stream up for reading or writing records: CREATING and DELETING streams
    /// are reported as not found, as AWS does.
    pub(crate) fn resolve_serving(&self, stream: &StreamRef) -> Result<Arc<Snapshot>> {
        let snapshot = self.resolve(stream)?;
        if !self.status(&snapshot).serves_data() {
            return Err(self.stream_not_found(snapshot.name()));
        }
        Ok(snapshot)
    }

    /// Looks a stream up for a change that needs it ACTIVE.
    pub(crate) fn resolve_active(&self, stream: &StreamRef) -> Result<Arc<Snapshot>> {
        let snapshot = self.resolve(stream)?;
        self.require_active(&snapshot)?;
        Ok(snapshot)
    }

    pub(crate) fn require_active(&self, snapshot: &Snapshot) -> Result<()> {
        match self.status(snapshot) {
            StreamStatus::Active => Ok(()),
            status => Err(EngineError::StreamNotActive {
                stream: snapshot.name().to_owned(),
                account: self.account_id(),
                status,
            }),
        }
    }

    /// A stream's lifecycle state, derived from the clock so tests can move time.
    pub(crate) fn status(&self, snapshot: &Snapshot) -> StreamStatus {
        if snapshot.settings.deleting_until_ms.is_some() {
            return StreamStatus::Deleting;
        }
        let now = self.now_ms();
        if now < snapshot.meta.created_ms.saturating_add(self.config.create_stream_ms) {
            return StreamStatus::Creating;
        }
        let updating = self.updating_until_ms.lock().get(&snapshot.meta.stream_id).is_some_and(|until| now < *until);
        if updating {
            StreamStatus::Updating
        } else {
            StreamStatus::Active
        }
    }

    /// Wakes subscriptions to re-check their stream and consumer.
    pub(crate) fn announce_change(&self) {
        self.changes.send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// Puts a stream into UPDATING for the configured delay.
    pub(crate) fn mark_updating(&self, stream_id: u64) {
        if self.config.update_stream_ms == 0 {
            return;
        }
        let until = self.now_ms().saturating_add(self.config.update_stream_ms);
        self.updating_until_ms.lock().insert(stream_id, until);
    }

    /// Applies a metadata change; a storage rejection inside `change` is a bug in the
    /// engine's validation, which runs first under the control lock.
    pub(crate) async fn update(
        &self,
        stream_id: u64,
        change: impl FnOnce(&mut MetaTxn<'_>) -> Result<(), StorageError> + Send + 'static,
    ) -> Result<Arc<Snapshot>> {
        let meta = self.log.update_stream(stream_id, change).await?;
        let snapshot = Arc::new(Snapshot::build(meta));
        self.snapshots.write().insert(stream_id, snapshot.clone());
        self.announce_change();
        Ok(snapshot)
    }

    /// Changes a stream's settings.
    pub(crate) async fn update_settings(
        &self,
        stream_id: u64,
        change: impl FnOnce(&mut StreamSettings) + Send + 'static,
    ) -> Result<Arc<Snapshot>> {
        self.update(stream_id, move |txn| {
            let mut settings: StreamSettings = settings::decode(&txn.meta().props.settings);
            change(&mut settings);
            txn.props_mut().settings = settings::encode(&settings);
            Ok(())
        })
        .await
    }

    /// Every live stream's snapshot (DELETING ones included), by name.
    pub(crate) fn all_snapshots(&self) -> Vec<Arc<Snapshot>> {
        let ids: Vec<u64> = self.names.read().values().copied().collect();
        let mut snapshots: Vec<Arc<Snapshot>> = ids.into_iter().filter_map(|id| self.snapshot(id)).collect();
        snapshots.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
        snapshots
    }

    /// Open shards over all streams that are not being deleted, for the shard quota.
    pub(crate) fn open_shards_in_account(&self) -> u64 {
        self.all_snapshots()
            .iter()
            .filter(|s| s.settings.deleting_until_ms.is_none())
            .map(|s| u64::from(s.open_shard_count()))
            .sum()
    }

    /// Fails with AWS's shard-limit message if `additional` more open shards would exceed
    /// the account quota.
    pub(crate) fn check_shard_limit(&self, additional: u64) -> Result<()> {
        let current = self.open_shards_in_account();
        if current + additional > u64::from(self.config.shard_limit) {
            return Err(EngineError::ShardLimit {
                account: self.account_id(),
                region: self.account.region.clone(),
                current,
                limit: self.config.shard_limit,
                additional,
            });
        }
        Ok(())
    }

    /// Finishes deletions whose DELETING period is over (streams and consumers). The
    /// server calls this periodically; lookups already treat such streams as gone.
    pub async fn reap(&self) -> Result<()> {
        let _guard = self.control.lock().await;
        self.reap_locked().await
    }

    pub(crate) async fn reap_locked(&self) -> Result<()> {
        let now = self.now_ms();
        for snapshot in self.all_snapshots() {
            let id = snapshot.meta.stream_id;
            if let Some(until) = snapshot.settings.deleting_until_ms {
                if now >= until {
                    self.finish_delete(&snapshot).await?;
                }
                continue;
            }
            let expired = move |c: &rheo_storage::ConsumerMeta| {
                settings::decode::<crate::settings::ConsumerSettings>(&c.settings)
                    .deleting_until_ms
                    .is_some_and(|until| now >= until)
            };
            if snapshot.meta.props.consumers.iter().any(expired) {
                self.update(id, move |txn| {
                    txn.props_mut().consumers.retain(|c| !expired(c));
                    Ok(())
                })
                .await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn finish_delete(&self, snapshot: &Snapshot) -> Result<()> {
        let id = snapshot.meta.stream_id;
        self.log.delete_stream(id).await?;
        {
            let mut names = self.names.write();
            if names.get(snapshot.name()) == Some(&id) {
                names.remove(snapshot.name());
            }
        }
        self.snapshots.write().remove(&id);
        self.updating_until_ms.lock().remove(&id);
        self.throttle.forget(snapshot.meta.shards.iter().map(|s| s.uid));
        self.announce_change();
        tracing::info!(message = "Stream deleted.", stream = snapshot.name(), stream_id = id);
        Ok(())
    }

    // ----- Presentation helpers shared by the operations -----

    pub(crate) fn starting_sequence_number(shard: &ShardMeta) -> String {
        let created_secs = shard.created_ms / 1000;
        SequenceNumber {
            shard_created_secs: created_secs,
            shard_index: shard.index,
            lsn: shard.uid,
            arrival_secs: created_secs,
        }
        .to_string()
    }

    pub(crate) fn shard_info(shard: &ShardMeta) -> ShardInfo {
        ShardInfo {
            shard_id: shard_id(shard.index),
            parent_shard_id: shard.parent.map(shard_id),
            adjacent_parent_shard_id: shard.adjacent_parent.map(shard_id),
            hash_range: HashRange { start: shard.hash_key_start, end: shard.hash_key_end },
            starting_sequence_number: Self::starting_sequence_number(shard),
            ending_sequence_number: shard.closed.map(|close| {
                SequenceNumber {
                    shard_created_secs: shard.created_ms / 1000,
                    shard_index: shard.index,
                    lsn: close.lsn,
                    arrival_secs: close.at_ms / 1000,
                }
                .to_string()
            }),
        }
    }
}
