//! Resharding: SplitShard, MergeShards and UpdateShardCount.
//!
//! A call is validated and planned at once, and the plan is applied when the stream
//! returns to ACTIVE, as AWS does (issue 14, item 8): while the stream is UPDATING its
//! shards are unchanged and puts go to the old shards; then one metadata transaction
//! closes the parents and adds the children, so readers see either the old or the new
//! layout, and children's records always sort after their parents' (a closed shard's
//! closing LSN is below every LSN of its children). The waiting plan lives in the
//! stream's settings, so a restart applies it at its deadline; with no UPDATING period
//! configured it is applied in the call.

use rheo_storage::{MetaTxn, NewShard, ShardMeta, StorageError};

use super::Engine;
use crate::catalog::ChangeLock;
use crate::error::{EngineError, InvalidArgument, LimitExceeded, Result, Validation};
use crate::hashing::{parse_hash_key, uniform_boundaries};
use crate::ids::ShardId;
use crate::limits::{DAY_MS, SCALINGS_PER_DAY_MAX, SHARDS_PER_STREAM_MAX};
use crate::model::{MergeShards, ShardCountChange, SplitShard, StreamMode, UpdateShardCount};
use crate::reshard_plan::{PendingReshard, ReshardStep as Step, ShardSlot as Slot};
use crate::settings::{self, StreamSettings};
use crate::snapshot::Snapshot;

impl Engine {
    fn shard_unknown(&self, snapshot_name: &str, shard: &str) -> EngineError {
        EngineError::ShardUnknown {
            shard: shard.to_owned(),
            stream: snapshot_name.to_owned(),
            account: self.account_id(),
        }
    }

    fn require_provisioned(&self, snapshot: &Snapshot, operation: &'static str) -> Result<()> {
        if snapshot.settings.mode == StreamMode::OnDemand {
            return Err(Validation::OnDemandResharding {
                operation,
                stream: snapshot.name().to_owned(),
                account: self.account_id(),
            }
            .into());
        }
        Ok(())
    }

    /// AWS answers a second split or merge of a closed shard with InvalidArgumentException
    /// (real AWS CLI output recorded in kinesalite issue 109).
    fn already_resharded(&self, snapshot: &Snapshot, shard: u32) -> EngineError {
        InvalidArgument::ShardResharded {
            shard: ShardId::new(shard),
            stream: snapshot.name().to_owned(),
            account: self.account_id(),
        }
        .into()
    }

    /// SplitShard.
    pub async fn split_shard(&self, request: &SplitShard) -> Result<()> {
        let lock = self.catalog.lock().await;
        // AWS checks the shard id's spelling before it looks the stream up (issue 14, item 3).
        let name = self.catalog.referenced_name(&request.stream)?.to_owned();
        let (shard_to_split, new_starting_hash_key) = (&request.shard_to_split, &request.new_starting_hash_key);
        let id = ShardId::parse(shard_to_split).ok_or_else(|| self.shard_unknown(&name, shard_to_split))?;
        let snapshot = self.catalog.resolve_name(&name)?;
        let shard = snapshot.shard(id).ok_or_else(|| self.shard_unknown(&name, &id.to_string()))?.clone();
        let index = id.index();
        self.require_provisioned(&snapshot, "SplitShard")?;
        if shard.closed.is_some() {
            return Err(self.already_resharded(&snapshot, index));
        }
        self.check_shard_limit(1)?;
        let at = parse_hash_key(new_starting_hash_key)
            .filter(|at| *at > shard.hash_key_start.saturating_add(1) && *at < shard.hash_key_end);
        let Some(at) = at else {
            return Err(InvalidArgument::SplitHashKey {
                hash_key: new_starting_hash_key.clone(),
                shard: id,
                stream: name,
                account: self.account_id(),
                shard_start: shard.hash_key_start,
                shard_end: shard.hash_key_end,
            }
            .into());
        };
        self.catalog.require_active(&snapshot)?;
        self.apply(&lock, &snapshot, vec![Step::Split { parent: Slot::Existing(index), at }], false).await
    }

    /// MergeShards. The order matters, as in AWS (issue 14, item 2): the adjacent shard's
    /// range must start right after the end of the shard to merge.
    pub async fn merge_shards(&self, request: &MergeShards) -> Result<()> {
        let lock = self.catalog.lock().await;
        // AWS checks the shard ids' spelling, ShardToMerge first, before it looks the
        // stream up (issue 14, item 3).
        let name = self.catalog.referenced_name(&request.stream)?.to_owned();
        let mut ids = Vec::with_capacity(2);
        for given in [&request.shard_to_merge, &request.adjacent_shard_to_merge] {
            ids.push(ShardId::parse(given).ok_or_else(|| self.shard_unknown(&name, given))?);
        }
        let snapshot = self.catalog.resolve_name(&name)?;
        let mut shards: Vec<ShardMeta> = Vec::with_capacity(2);
        for id in ids {
            let shard = snapshot.shard(id).ok_or_else(|| self.shard_unknown(&name, &id.to_string()))?;
            shards.push(shard.clone());
        }
        let [first, second] = [&shards[0], &shards[1]];
        self.require_provisioned(&snapshot, "MergeShards")?;
        for shard in [first, second] {
            if shard.closed.is_some() {
                return Err(self.already_resharded(&snapshot, shard.index));
            }
        }
        let adjacent = first.index != second.index && first.hash_key_end.checked_add(1) == Some(second.hash_key_start);
        if !adjacent {
            return Err(InvalidArgument::ShardsNotAdjacent {
                first: ShardId::new(first.index),
                second: ShardId::new(second.index),
                stream: name,
                account: self.account_id(),
            }
            .into());
        }
        self.catalog.require_active(&snapshot)?;
        let step = Step::Merge { left: Slot::Existing(first.index), right: Slot::Existing(second.index) };
        self.apply(&lock, &snapshot, vec![step], false).await
    }

    /// UpdateShardCount with UNIFORM_SCALING: splits and merges (with real lineage) until
    /// the open shards are the uniform layout of `target` shards.
    pub async fn update_shard_count(&self, request: &UpdateShardCount) -> Result<ShardCountChange> {
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve(&request.stream)?;
        let name = snapshot.name().to_owned();
        let current = snapshot.open_shard_count();
        let target = request.target_shard_count;
        self.require_provisioned(&snapshot, "UpdateShardCount")?;
        self.catalog.require_active(&snapshot)?;
        let (stream, account) = (|| name.clone(), || self.account_id());
        if target > current.saturating_mul(2) {
            return Err(LimitExceeded::ScaleAboveDouble { stream: stream(), account: account(), current }.into());
        }
        if u64::from(target) * 2 < u64::from(current) {
            return Err(LimitExceeded::ScaleBelowHalf { stream: stream(), account: account(), current }.into());
        }
        if target > SHARDS_PER_STREAM_MAX {
            return Err(LimitExceeded::ScaleBeyondMax {
                stream: stream(),
                account: account(),
                max: SHARDS_PER_STREAM_MAX,
            }
            .into());
        }
        let now = self.now_ms();
        let recent: Vec<u64> =
            snapshot.settings.scalings_ms.iter().copied().filter(|t| now.saturating_sub(*t) < DAY_MS).collect();
        if recent.len() >= SCALINGS_PER_DAY_MAX {
            return Err(LimitExceeded::ScalingsPerDay {
                stream: stream(),
                account: account(),
                limit: SCALINGS_PER_DAY_MAX,
            }
            .into());
        }
        if target > current {
            self.check_shard_limit(u64::from(target - current))?;
        }
        let steps = uniform_plan(&snapshot, target);
        if !steps.is_empty() {
            self.apply(&lock, &snapshot, steps, true).await?;
        }
        Ok(ShardCountChange {
            stream_name: name.clone(),
            stream_arn: self.account().stream_arn(&name),
            current,
            target,
        })
    }

    /// Accepts a plan: applies it now when no UPDATING period is configured, otherwise
    /// stores it for [`Engine::finish_reshard`] at the period's end. Either way the
    /// UpdateShardCount quota counts the call now.
    async fn apply(
        &self,
        lock: &ChangeLock<'_>,
        snapshot: &Snapshot,
        steps: Vec<Step>,
        count_scaling: bool,
    ) -> Result<()> {
        let delay_ms = self.config.update_stream_ms;
        self.catalog
            .update(lock, snapshot.id(), move |txn| {
                let now = txn.now_ms();
                let mut settings: StreamSettings = settings::decode(&txn.meta().props.settings);
                if count_scaling {
                    settings.scalings_ms.retain(|t| now.saturating_sub(*t) < DAY_MS);
                    settings.scalings_ms.push(now);
                }
                if delay_ms == 0 {
                    run_plan(txn, &steps)?;
                } else {
                    settings.pending_reshard = Some(PendingReshard { until_ms: now.saturating_add(delay_ms), steps });
                }
                txn.props_mut().settings = settings::encode(&settings);
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Applies a stream's pending resharding, whose UPDATING period is over, in one
    /// transaction that also clears it: the stream turns ACTIVE with its new shards.
    pub(super) async fn finish_reshard(&self, lock: &ChangeLock<'_>, snapshot: &Snapshot) -> Result<()> {
        let Some(pending) = snapshot.settings.pending_reshard.clone() else { return Ok(()) };
        let applied = self
            .catalog
            .update(lock, snapshot.id(), move |txn| {
                run_plan(txn, &pending.steps)?;
                let mut settings: StreamSettings = settings::decode(&txn.meta().props.settings);
                settings.pending_reshard = None;
                txn.props_mut().settings = settings::encode(&settings);
                Ok(())
            })
            .await;
        match applied {
            Ok(_) => {
                tracing::info!(message = "Resharding applied.", stream = snapshot.name(), stream_id = snapshot.id());
                Ok(())
            }
            // The plan was checked against these very shards, which nothing else can
            // change while the stream is UPDATING; should it still not fit, keeping it
            // would retry it forever, so the stream goes back to ACTIVE unchanged.
            Err(EngineError::Storage(StorageError::Rejected(reason))) => {
                tracing::error!(message = "Resharding plan dropped.", stream = snapshot.name(), %reason);
                self.catalog.update_settings(lock, snapshot.id(), |s| s.pending_reshard = None).await?;
                Ok(())
            }
            Err(other) => Err(other),
        }
    }
}

/// Runs a plan's steps inside a metadata transaction.
fn run_plan(txn: &mut MetaTxn<'_>, steps: &[Step]) -> Result<(), StorageError> {
    let mut added: Vec<u32> = Vec::new();
    let resolve = |slot: Slot, added: &[u32]| match slot {
        Slot::Existing(index) => Some(index),
        Slot::Added(n) => added.get(n).copied(),
    };
    let bad_plan = || StorageError::Rejected("resharding plan refers to an unknown shard".into());
    for step in steps {
        match *step {
            Step::Split { parent, at } => {
                let parent = resolve(parent, &added).ok_or_else(bad_plan)?;
                let (start, end) = {
                    let shard = txn.meta().shard(parent).ok_or_else(bad_plan)?;
                    (shard.hash_key_start, shard.hash_key_end)
                };
                if at <= start || at > end {
                    return Err(bad_plan());
                }
                txn.close_shard(parent)?;
                for (hash_key_start, hash_key_end) in [(start, at - 1), (at, end)] {
                    added.push(txn.add_shard(NewShard {
                        hash_key_start,
                        hash_key_end,
                        parent: Some(parent),
                        adjacent_parent: None,
                    })?);
                }
            }
            Step::Merge { left, right } => {
                let left = resolve(left, &added).ok_or_else(bad_plan)?;
                let right = resolve(right, &added).ok_or_else(bad_plan)?;
                let range = |index: u32| {
                    txn.meta().shard(index).map(|s| (s.hash_key_start, s.hash_key_end)).ok_or_else(bad_plan)
                };
                let (left_range, right_range) = (range(left)?, range(right)?);
                txn.close_shard(left)?;
                txn.close_shard(right)?;
                added.push(txn.add_shard(NewShard {
                    hash_key_start: left_range.0.min(right_range.0),
                    hash_key_end: left_range.1.max(right_range.1),
                    parent: Some(left),
                    adjacent_parent: Some(right),
                })?);
            }
        }
    }
    Ok(())
}

/// Plans UNIFORM_SCALING: first split every open shard at each target boundary strictly
/// inside it (a chain of two-way splits, as AWS does, leaving short-lived intermediate
/// shards), then merge the pieces inside each target range from left to right.
fn uniform_plan(snapshot: &Snapshot, target: u32) -> Vec<Step> {
    let boundaries = uniform_boundaries(target);
    let mut steps = Vec::new();
    let mut added = 0usize;
    // (start, end, slot) of the open shards after the split phase, in key order.
    let mut pieces: Vec<(u128, u128, Slot)> = Vec::new();
    for route in snapshot.routes() {
        let mut slot = Slot::Existing(route.index);
        let mut start = route.start;
        for &at in boundaries.iter().filter(|b| **b > route.start && **b <= route.end) {
            steps.push(Step::Split { parent: slot, at });
            pieces.push((start, at - 1, Slot::Added(added)));
            slot = Slot::Added(added + 1);
            added += 2;
            start = at;
        }
        pieces.push((start, route.end, slot));
    }
    // Group pieces by the target range they fall in; every piece lies in exactly one.
    let range_of = |start: u128| boundaries.partition_point(|b| *b <= start);
    let mut position = 0;
    while position < pieces.len() {
        let range = range_of(pieces[position].0);
        let mut merged = pieces[position].2;
        let mut next = position + 1;
        while next < pieces.len() && range_of(pieces[next].0) == range {
            steps.push(Step::Merge { left: merged, right: pieces[next].2 });
            merged = Slot::Added(added);
            added += 1;
            next += 1;
        }
        position = next;
    }
    steps
}
