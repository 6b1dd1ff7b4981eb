//! Stream metadata changes: the [`MetaTxn`] callers edit, and creating, changing and
//! deleting streams on the writer thread.
//!
//! Metadata changes go through the same queue as appends, so a change sees every
//! append queued before it, and shards' creation and closing LSNs come from the same
//! LSN counter as records. Stream ids and shard uids are identities, not LSNs: they
//! come from the metadata store ([`MetaStore::allocate_ids`]), so a second node (or a
//! rebuilt one) can name streams and shards without sharing this node's record
//! numbering.
//!
//! Invariants:
//! - A change is validated in full before anything is written; a failed closure or
//!   check changes nothing.
//! - A change is durable (its metadata file replaced and synced) before memory shows
//!   it. A replacement that fails halfway poisons the log: memory and disk could then
//!   disagree, which only a restart resolves.
//! - Creation and closing LSNs are covered by the LSN reservation before they reach
//!   the disk; identities are covered by the metadata store's own reservation before
//!   they are handed out.

use std::sync::Arc;

use super::lsn::LsnCounter;
use super::state::{ShardState, Shared};
use super::types::{NewShard, NewStream};
use crate::error::{Result, StorageError};
use crate::limits::{RETENTION_HOURS_MAX, RETENTION_HOURS_MIN};
use crate::meta::{ShardClose, ShardMeta, StreamMeta, StreamProps};
use crate::metastore::MetaStore;

/// A metadata change in progress. The closure given to [`super::ShardLog::update_stream`]
/// edits it; if the closure fails, nothing changes.
pub struct MetaTxn<'a> {
    meta: StreamMeta,
    next_lsn: &'a mut u64,
    ids: &'a dyn MetaStore,
    now_ms: u64,
}

impl MetaTxn<'_> {
    /// The stream as it stands in this transaction.
    pub fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    /// The stream's changeable properties.
    pub fn props_mut(&mut self) -> &mut StreamProps {
        &mut self.meta.props
    }

    /// Current time as the log sees it.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Closes an open shard; appends to it fail from now on. Returns the closing LSN.
    pub fn close_shard(&mut self, index: u32) -> Result<u64> {
        let lsn = *self.next_lsn;
        let now_ms = self.now_ms;
        let shard = self
            .meta
            .shards
            .iter_mut()
            .find(|s| s.index == index)
            .ok_or_else(|| StorageError::Rejected(format!("no shard {index}")))?;
        if shard.closed.is_some() {
            return Err(StorageError::Rejected(format!("shard {index} is already closed")));
        }
        shard.closed = Some(ShardClose { lsn, at_ms: now_ms });
        *self.next_lsn += 1;
        Ok(lsn)
    }

    /// Adds a shard; returns its index. Fails only if no identity can be allocated
    /// (the metadata store failed); the transaction then changes nothing.
    pub fn add_shard(&mut self, spec: NewShard) -> Result<u32> {
        let uid = self.ids.allocate_ids(1)?.start;
        let index = self.meta.shards.iter().map(|s| s.index + 1).max().unwrap_or(0);
        self.meta.shards.push(ShardMeta {
            uid,
            created_lsn: *self.next_lsn,
            index,
            created_ms: self.now_ms,
            hash_key_start: spec.hash_key_start,
            hash_key_end: spec.hash_key_end,
            parent: spec.parent,
            adjacent_parent: spec.adjacent_parent,
            closed: None,
        });
        *self.next_lsn += 1;
        Ok(index)
    }
}

/// The writer's side of stream metadata: the metadata files and the in-memory copy.
pub(super) struct Streams {
    shared: Arc<Shared>,
    store: Arc<dyn MetaStore>,
}

impl Streams {
    pub(super) fn new(shared: Arc<Shared>, store: Arc<dyn MetaStore>) -> Self {
        Streams { shared, store }
    }

    fn check_props(props: &StreamProps) -> Result<()> {
        if !(RETENTION_HOURS_MIN..=RETENTION_HOURS_MAX).contains(&props.retention_hours) {
            return Err(StorageError::Rejected(format!(
                "retention of {} hours is outside {RETENTION_HOURS_MIN}..={RETENTION_HOURS_MAX}",
                props.retention_hours
            )));
        }
        Ok(())
    }

    /// A stream that starts sealing with a key (or changes key) needs that key in the
    /// key store now; one that keeps its key does not (a key store that lost it refuses
    /// appends instead, see `commit.rs`).
    fn check_key(&self, previous: Option<&StreamProps>, props: &StreamProps) -> Result<()> {
        let Some(key) = props.encryption_key else {
            return Ok(());
        };
        if previous.is_some_and(|p| p.encryption_key == Some(key)) {
            return Ok(());
        }
        match self.shared.keys.as_deref().map(|keys| keys.current(key).is_some()) {
            Some(true) => Ok(()),
            Some(false) => Err(StorageError::EncryptionKeyUnavailable { key }),
            None => Err(StorageError::Rejected(format!("encryption key {key} given, but no key store is configured"))),
        }
    }

    /// Creates a stream and its shards.
    pub(super) fn create(&mut self, lsns: &mut LsnCounter, spec: NewStream) -> Result<Arc<StreamMeta>> {
        self.shared.check_poisoned()?;
        Self::check_props(&spec.props)?;
        self.check_key(None, &spec.props)?;
        if self.shared.streams.read().values().any(|s| s.name == spec.name) {
            return Err(StorageError::Rejected(format!("stream {} already exists", spec.name)));
        }
        let now_ms = self.shared.clock.now_ms();
        let stream_id = self.store.allocate_ids(1)?.start;
        let meta = StreamMeta { stream_id, name: spec.name, created_ms: now_ms, shards: Vec::new(), props: spec.props };
        let mut txn = MetaTxn { meta, next_lsn: lsns.counter(), ids: &*self.store, now_ms };
        for (start, end) in spec.shards {
            txn.add_shard(NewShard { hash_key_start: start, hash_key_end: end, parent: None, adjacent_parent: None })?;
        }
        let meta = txn.meta;
        self.commit(lsns, None, meta)
    }

    /// Changes a stream through `update`, if it succeeds and the result is valid.
    pub(super) fn update(
        &mut self,
        lsns: &mut LsnCounter,
        stream_id: u64,
        update: impl FnOnce(&mut MetaTxn<'_>) -> Result<()>,
    ) -> Result<Arc<StreamMeta>> {
        self.shared.check_poisoned()?;
        let current =
            self.shared.streams.read().get(&stream_id).cloned().ok_or(StorageError::StreamNotFound { stream_id })?;
        let now_ms = self.shared.clock.now_ms();
        let mut txn = MetaTxn { meta: (*current).clone(), next_lsn: lsns.counter(), ids: &*self.store, now_ms };
        update(&mut txn)?;
        let meta = txn.meta;
        Self::check_props(&meta.props)?;
        self.check_key(Some(&current.props), &meta.props)?;
        self.commit(lsns, Some(&current), meta)
    }

    /// Makes a stream's new metadata durable, then applies it in memory.
    fn commit(
        &mut self,
        lsns: &mut LsnCounter,
        previous: Option<&StreamMeta>,
        meta: StreamMeta,
    ) -> Result<Arc<StreamMeta>> {
        // Shards' creation and closing LSNs come from the LSN counter too.
        lsns.reserve(&self.shared)?;
        if let Err(error) = self.store.put_stream(&meta) {
            // The file may or may not have been replaced; memory and disk could now
            // disagree, which only a restart resolves.
            return Err(self.shared.poison.trip("write metadata", error).into());
        }
        let meta = Arc::new(meta);
        let mut shards = self.shared.shards.write();
        for shard in &meta.shards {
            let was = previous.and_then(|p| p.shards.iter().find(|s| s.uid == shard.uid));
            match (was, shards.get(&shard.uid)) {
                (Some(_), Some(state)) => {
                    let mut index = state.index.lock();
                    index.closed_lsn = shard.closed.map(|c| c.lsn);
                    drop(index);
                    // Wake readers waiting at the end of a shard that just closed.
                    state.tip.send_modify(|_| {});
                }
                _ => {
                    let state = ShardState::new(meta.stream_id, shard);
                    shards.insert(shard.uid, Arc::new(state));
                }
            }
        }
        drop(shards);
        self.shared.streams.write().insert(meta.stream_id, meta.clone());
        Ok(meta)
    }

    /// Deletes a stream: its metadata file at once, its records by retention later.
    pub(super) fn delete(&mut self, stream_id: u64) -> Result<()> {
        self.shared.check_poisoned()?;
        let meta =
            self.shared.streams.read().get(&stream_id).cloned().ok_or(StorageError::StreamNotFound { stream_id })?;
        if let Err(error) = self.store.remove_stream(stream_id) {
            return Err(self.shared.poison.trip("remove metadata", error).into());
        }
        self.shared.streams.write().remove(&stream_id);
        let mut shards = self.shared.shards.write();
        for shard in &meta.shards {
            if let Some(state) = shards.remove(&shard.uid) {
                // Readers waiting on this shard see the channel close.
                drop(state);
            }
        }
        Ok(())
    }
}
