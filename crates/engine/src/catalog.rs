//! The catalog: which streams exist under which names, their cached [`Snapshot`]s, their
//! lifecycle states, and the one way to change their metadata.
//!
//! Invariants it keeps:
//!
//! - **Every metadata change holds the change lock.** [`Catalog::update`] and the other
//!   writers take a [`ChangeLock`], which only [`Catalog::lock`] hands out, so each change
//!   validates against the state it changes.
//! - **A cached snapshot is the log's current metadata.** A snapshot is reused only while
//!   its `StreamMeta` is the one the log holds (pointer equality), and every change
//!   through the catalog replaces it.
//! - **Subscribers learn of every change:** the change counter is bumped after every
//!   metadata change and finished deletion, so subscriptions re-check without polling.
//! - **Lifecycle states are derived from the log's clock** (CREATING, UPDATING,
//!   DELETING), never stored as flags that could go stale, except a deletion's deadline
//!   and a pending resharding, which are persisted so a restart finishes them; a stream
//!   with a pending resharding is UPDATING until the engine's reaper applied it.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rheo_storage::{MetaTxn, NewStream, ShardLog, StorageError, StreamMeta};
use tokio::sync::watch;

use crate::error::{EngineError, InvalidArgument, Result};
use crate::ids::{Account, ResourceName};
use crate::model::{StreamRef, StreamStatus};
use crate::settings::{self, ConsumerSettings, StreamSettings};
use crate::snapshot::Snapshot;

/// Proof that the holder serialises metadata changes (see [`Catalog::lock`]).
pub(crate) struct ChangeLock<'a>(#[allow(dead_code)] tokio::sync::MutexGuard<'a, ()>);

/// How long streams stay in their transitional states.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifecycle {
    /// A new stream is CREATING this long.
    pub(crate) create_stream_ms: u64,
    /// A changed stream is UPDATING this long.
    pub(crate) update_stream_ms: u64,
}

/// Streams by name, their snapshots and lifecycle, over the shard log.
pub(crate) struct Catalog {
    log: ShardLog,
    account: Account,
    lifecycle: Lifecycle,
    /// Serialises metadata changes.
    changing: tokio::sync::Mutex<()>,
    /// Live streams (including DELETING ones) by name.
    names: RwLock<HashMap<String, u64>>,
    snapshots: RwLock<HashMap<u64, Arc<Snapshot>>>,
    /// Streams in the UPDATING state until the given time. Not persisted: after a restart
    /// every change has long been applied.
    updating_until_ms: Mutex<HashMap<u64, u64>>,
    /// Bumped after every metadata change (and finished deletion).
    changes: watch::Sender<u64>,
}

impl Catalog {
    pub(crate) fn new(log: ShardLog, account: Account, lifecycle: Lifecycle) -> Self {
        let names = log.streams().iter().map(|s| (s.name.clone(), s.stream_id)).collect();
        Catalog {
            log,
            account,
            lifecycle,
            changing: tokio::sync::Mutex::new(()),
            names: RwLock::new(names),
            snapshots: RwLock::new(HashMap::new()),
            updating_until_ms: Mutex::new(HashMap::new()),
            changes: watch::Sender::new(0),
        }
    }

    pub(crate) fn log(&self) -> &ShardLog {
        &self.log
    }

    pub(crate) fn into_log(self) -> ShardLog {
        self.log
    }

    pub(crate) fn account(&self) -> &Account {
        &self.account
    }

    pub(crate) fn account_id(&self) -> String {
        self.account.account_id.clone()
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.log.now_ms()
    }

    /// Waits for the right to change metadata.
    pub(crate) async fn lock(&self) -> ChangeLock<'_> {
        ChangeLock(self.changing.lock().await)
    }

    /// A receiver that changes after every metadata change.
    pub(crate) fn watch_changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
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
            (None, None) => Err(InvalidArgument::StreamRefMissing.into()),
            (Some(name), None) => Ok(name),
            (name, Some(arn)) => {
                let in_arn = match self.account.parse_arn(arn) {
                    Some(ResourceName::Stream(in_arn)) => in_arn,
                    _ => return Err(self.stream_not_found(Account::stream_name_in_arn(arn))),
                };
                match name {
                    Some(name) if *name != in_arn => {
                        Err(InvalidArgument::StreamArnNameMismatch { arn: arn.clone(), name: name.clone() }.into())
                    }
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
        if now < snapshot.meta.created_ms.saturating_add(self.lifecycle.create_stream_ms) {
            return StreamStatus::Creating;
        }
        // A resharding keeps the stream UPDATING until it has been applied, so a client
        // that sees ACTIVE also sees the new shards (issue 14, item 8).
        if snapshot.settings.pending_reshard.is_some() {
            return StreamStatus::Updating;
        }
        let updating = self.updating_until_ms.lock().get(&snapshot.id()).is_some_and(|until| now < *until);
        if updating {
            StreamStatus::Updating
        } else {
            StreamStatus::Active
        }
    }

    /// Whether a live stream (DELETING ones included) has this name.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.names.read().contains_key(name)
    }

    /// Every live stream's snapshot (DELETING ones included), by name.
    pub(crate) fn all_snapshots(&self) -> Vec<Arc<Snapshot>> {
        let ids: Vec<u64> = self.names.read().values().copied().collect();
        let mut snapshots: Vec<Arc<Snapshot>> = ids.into_iter().filter_map(|id| self.snapshot(id)).collect();
        snapshots.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
        snapshots
    }

    /// Open shards over all streams that are not being deleted, for the shard quota,
    /// counting those that pending reshardings will add.
    pub(crate) fn open_shards_in_account(&self) -> u64 {
        self.all_snapshots()
            .iter()
            .filter(|s| s.settings.deleting_until_ms.is_none())
            .map(|s| {
                let pending = s.settings.pending_reshard.as_ref().map_or(0, |p| p.shards_added());
                u64::from(s.open_shard_count()) + pending
            })
            .sum()
    }

    /// Creates a stream and names it.
    pub(crate) async fn create(&self, _lock: &ChangeLock<'_>, stream: NewStream) -> Result<Arc<StreamMeta>> {
        let meta = self.log.create_stream(stream).await?;
        self.names.write().insert(meta.name.clone(), meta.stream_id);
        // Stream readers following this name wake and find it.
        self.announce_change();
        Ok(meta)
    }

    /// Puts a stream into UPDATING for the configured delay.
    pub(crate) fn mark_updating(&self, _lock: &ChangeLock<'_>, stream_id: u64) {
        if self.lifecycle.update_stream_ms == 0 {
            return;
        }
        let until = self.now_ms().saturating_add(self.lifecycle.update_stream_ms);
        self.updating_until_ms.lock().insert(stream_id, until);
    }

    /// Applies a metadata change; a storage rejection inside `change` is a bug in the
    /// engine's validation, which runs first under the change lock.
    pub(crate) async fn update(
        &self,
        _lock: &ChangeLock<'_>,
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
        lock: &ChangeLock<'_>,
        stream_id: u64,
        change: impl FnOnce(&mut StreamSettings) + Send + 'static,
    ) -> Result<Arc<Snapshot>> {
        self.update(lock, stream_id, move |txn| {
            let mut settings: StreamSettings = settings::decode(&txn.meta().props.settings);
            change(&mut settings);
            txn.props_mut().settings = settings::encode(&settings);
            Ok(())
        })
        .await
    }

    /// Changes one consumer's settings.
    pub(crate) async fn update_consumer(
        &self,
        lock: &ChangeLock<'_>,
        stream_id: u64,
        consumer: String,
        change: impl FnOnce(&mut ConsumerSettings) + Send + 'static,
    ) -> Result<()> {
        self.update(lock, stream_id, move |txn| {
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

    /// Deletes a stream from the log and forgets its name, snapshot and state.
    pub(crate) async fn delete(&self, _lock: &ChangeLock<'_>, snapshot: &Snapshot) -> Result<()> {
        let id = snapshot.id();
        self.log.delete_stream(id).await?;
        {
            let mut names = self.names.write();
            if names.get(snapshot.name()) == Some(&id) {
                names.remove(snapshot.name());
            }
        }
        self.snapshots.write().remove(&id);
        self.updating_until_ms.lock().remove(&id);
        self.announce_change();
        Ok(())
    }

    /// Wakes subscriptions to re-check their stream and consumer.
    fn announce_change(&self) {
        self.changes.send_modify(|generation| *generation = generation.wrapping_add(1));
    }
}
