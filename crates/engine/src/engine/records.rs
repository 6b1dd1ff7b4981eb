//! The data plane: PutRecord(s), GetShardIterator, GetRecords, and ListShards.
//!
//! Hot paths stay lean: PutRecords is one MD5 per record, one routing lookup, and one
//! storage append for the whole request; GetRecords is one storage read.

use std::sync::Arc;

use bytes::Bytes;
use rheo_storage::{AppendRecord, ReadBatch, SequenceNumber, ShardMeta, StartPosition, StorageError};

use super::streams::stream_name_of;
use super::Engine;
use crate::error::{EngineError, InvalidArgument, RecordViolation, ResourceNotFound, Result, Validation};
use crate::hashing::{parse_hash_key, partition_key_hash};
use crate::ids::{EncodedShardId, ShardId};
use crate::limits::{
    GET_RECORDS_BYTES_MAX, GET_RECORDS_LIMIT_MAX, ITERATOR_LIFETIME_MS, LIST_SHARDS_LIMIT_MAX, PUT_RECORDS_BYTES_MAX,
};
use crate::model::{
    GetRecords, GetRecordsResult, GetShardIterator, IteratorStart, ListShards, PutEntry, PutOutcome, PutPlacement,
    PutRecord, PutRecordResult, PutRecords, PutRecordsResult, RecordDistribution, RecordOut, ShardFilterKind,
    ShardList, ShardRef, StreamRef,
};
use crate::sequence_layouts::{ordering_is_valid, starting_sequence, StartingSequence};
use crate::snapshot::{record_sequence_number, shard_info, Route, Snapshot};
use crate::token::{invalid_next_token, IteratorState, PageKind};

/// AWS lists at most this many violations in one ValidationException.
const VALIDATION_ITEMS_MAX: usize = 10;

/// A record that passed validation, with its hash key.
struct Prepared {
    hash: u128,
    partition_key: Bytes,
    explicit_hash_key: Option<u128>,
    data: Bytes,
}

/// What happened to one record of a put, before it is presented.
#[derive(Clone)]
enum Outcome {
    Stored(PutPlacement),
    /// The shard's write budget was spent (only with limits enforced).
    Throttled {
        shard_index: u32,
    },
    Failed,
    /// Appends are refused: records not yet archived fill the local hard limit. The
    /// storage error's facts, so the caller learns why and that it is temporary.
    BacklogFull {
        archive: String,
        unarchived_bytes: u64,
        limit_bytes: u64,
    },
}

impl Outcome {
    /// The error a record that was not stored reports.
    fn error(&self) -> EngineError {
        match self {
            Outcome::BacklogFull { archive, unarchived_bytes, limit_bytes } => {
                EngineError::Storage(StorageError::ArchiveBacklogFull {
                    archive: archive.clone(),
                    unarchived_bytes: *unarchived_bytes,
                    limit_bytes: *limit_bytes,
                })
            }
            _ => EngineError::Internal("the record could not be stored".into()),
        }
    }
}

/// Where a record is about to go.
struct Pending {
    /// Position in the request.
    slot: usize,
    route: Route,
}

/// The calls that take a starting sequence number, named in their error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StartingCall {
    GetShardIterator,
    SubscribeToShard,
}

impl StartingCall {
    fn name(self) -> &'static str {
        match self {
            StartingCall::GetShardIterator => "GetShardIterator",
            StartingCall::SubscribeToShard => "SubscribeToShard",
        }
    }
}

impl Engine {
    /// Validates entries as AWS does: a missing partition key or an oversized record is a
    /// ValidationException for the whole request (`path` is `records.N.member.` for
    /// PutRecords, empty for PutRecord); a bad ExplicitHashKey an InvalidArgumentException.
    /// On a stream with AUTO distribution the keys are optional and ignored for placement
    /// (service-managed-pk-producing-behavior): the records take the stream's next turns.
    fn prepare(&self, snapshot: &Snapshot, entries: Vec<PutEntry>, batch: bool) -> Result<Vec<Prepared>> {
        let auto = snapshot.settings.record_distribution == RecordDistribution::Auto;
        let max_record_bytes = snapshot.max_record_bytes();
        let mut violations: Vec<RecordViolation> = Vec::new();
        let mut total_bytes = 0usize;
        let mut prepared = Vec::with_capacity(entries.len());
        for (position, entry) in entries.into_iter().enumerate() {
            let member = batch.then_some(position + 1);
            let key_len = entry.partition_key.as_ref().map_or(0, String::len);
            let size = entry.data.len() + key_len;
            total_bytes += size;
            if size > max_record_bytes && violations.len() < VALIDATION_ITEMS_MAX {
                violations.push(RecordViolation::DataTooLong {
                    member,
                    data_bytes: entry.data.len(),
                    max_data_bytes: max_record_bytes.saturating_sub(key_len),
                });
            }
            if auto {
                // Kept for consumers, which see it as sent; the hash is set below.
                let partition_key = Bytes::from(entry.partition_key.unwrap_or_default());
                prepared.push(Prepared { hash: 0, partition_key, explicit_hash_key: None, data: entry.data });
                continue;
            }
            let Some(partition_key) = entry.partition_key else {
                if violations.len() < VALIDATION_ITEMS_MAX {
                    violations.push(RecordViolation::PartitionKeyMissing { member });
                }
                continue;
            };
            let explicit_hash_key =
                match &entry.explicit_hash_key {
                    None => None,
                    Some(text) => Some(parse_hash_key(text).ok_or_else(|| {
                        EngineError::from(InvalidArgument::ExplicitHashKey { hash_key: text.clone() })
                    })?),
                };
            let partition_key = Bytes::from(partition_key);
            let hash = explicit_hash_key.unwrap_or_else(|| partition_key_hash(&partition_key));
            prepared.push(Prepared { hash, partition_key, explicit_hash_key, data: entry.data });
        }
        if !violations.is_empty() {
            return Err(Validation::Records(violations).into());
        }
        if batch && total_bytes > PUT_RECORDS_BYTES_MAX {
            return Err(InvalidArgument::RecordsTooLarge { max_bytes: PUT_RECORDS_BYTES_MAX }.into());
        }
        if auto {
            let routes = snapshot.routes();
            let first = self.auto_distribution.take_turns(snapshot.id(), prepared.len());
            for (offset, record) in prepared.iter_mut().enumerate() {
                let turn = first.wrapping_add(offset as u64);
                // A shard's starting hash key routes to that shard.
                let route = routes.get((turn % routes.len().max(1) as u64) as usize);
                record.hash = route.map_or(0, |r| r.start);
            }
        }
        Ok(prepared)
    }

    fn throughput_exceeded(&self, snapshot: &Snapshot, index: u32) -> EngineError {
        EngineError::ThroughputExceeded {
            shard: ShardId::new(index).to_string(),
            stream: snapshot.name().to_owned(),
            account: self.account_id(),
        }
    }

    /// Routes `slots` of `prepared`, appends them in one storage call, and records the
    /// outcomes. Returns the slots that hit a shard closed since routing.
    async fn append_routed(
        &self,
        snapshot: &Snapshot,
        prepared: &[Prepared],
        slots: impl Iterator<Item = usize>,
        outcomes: &mut [Option<Outcome>],
    ) -> Result<Vec<usize>> {
        let now = self.monotonic_ms();
        let mut pending: Vec<Pending> = Vec::with_capacity(prepared.len());
        let mut records: Vec<AppendRecord> = Vec::with_capacity(prepared.len());
        for slot in slots {
            let Some(record) = prepared.get(slot) else { continue };
            let Some(route) = snapshot.route(record.hash) else {
                // Open shards always cover the key space; a gap is a metadata bug.
                outcomes[slot] = Some(Outcome::Failed);
                continue;
            };
            let admitted = self.throttle.as_ref().is_none_or(|throttle| {
                throttle.admit_write(route.uid, record.data.len() + record.partition_key.len(), now)
            });
            if !admitted {
                outcomes[slot] = Some(Outcome::Throttled { shard_index: route.index });
                continue;
            }
            records.push(AppendRecord {
                shard_uid: route.uid,
                partition_key: record.partition_key.clone(),
                explicit_hash_key: record.explicit_hash_key,
                data: record.data.clone(),
            });
            pending.push(Pending { slot, route });
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let results = self.log().append(records).await?;
        let mut closed = Vec::new();
        for (pending, result) in pending.into_iter().zip(results) {
            match result {
                Ok(appended) => {
                    outcomes[pending.slot] = Some(Outcome::Stored(PutPlacement {
                        shard_id: ShardId::new(pending.route.index),
                        sequence_number: record_sequence_number(
                            pending.route.created_secs,
                            pending.route.index,
                            appended.lsn,
                            appended.arrival_ms,
                        ),
                    }));
                }
                Err(StorageError::ShardClosed { .. } | StorageError::ShardNotFound { .. }) => closed.push(pending.slot),
                // A full disk is logged by the storage engine, once per interval.
                Err(error @ StorageError::DiskFull { .. }) => {
                    tracing::debug!(message = "Record append failed.", %error);
                    outcomes[pending.slot] = Some(Outcome::Failed);
                }
                // So is a full archive backlog, by the archiver.
                Err(StorageError::ArchiveBacklogFull { archive, unarchived_bytes, limit_bytes }) => {
                    tracing::debug!(message = "Record append refused: archive backlog full.", %archive, unarchived_bytes, limit_bytes);
                    outcomes[pending.slot] = Some(Outcome::BacklogFull { archive, unarchived_bytes, limit_bytes });
                }
                Err(error) => {
                    tracing::warn!(message = "Record append failed.", %error);
                    outcomes[pending.slot] = Some(Outcome::Failed);
                }
            }
        }
        Ok(closed)
    }

    async fn put(
        &self,
        stream: &StreamRef,
        entries: Vec<PutEntry>,
        batch: bool,
    ) -> Result<(Arc<Snapshot>, Vec<Outcome>)> {
        let snapshot = self.catalog.resolve_serving(stream)?;
        let prepared = self.prepare(&snapshot, entries, batch)?;
        let mut outcomes: Vec<Option<Outcome>> = vec![None; prepared.len()];
        let closed = self.append_routed(&snapshot, &prepared, 0..prepared.len(), &mut outcomes).await?;
        if !closed.is_empty() {
            // Resharding closed a target shard between routing and appending: route those
            // records once more against the new layout.
            let fresh =
                self.catalog.snapshot(snapshot.id()).ok_or_else(|| self.catalog.stream_not_found(snapshot.name()))?;
            let still_closed = self.append_routed(&fresh, &prepared, closed.into_iter(), &mut outcomes).await?;
            for slot in still_closed {
                outcomes[slot] = Some(Outcome::Failed);
            }
        }
        let outcomes = outcomes.into_iter().map(|o| o.unwrap_or(Outcome::Failed)).collect();
        Ok((snapshot, outcomes))
    }

    /// PutRecords: per-record outcomes in request order.
    pub async fn put_records(&self, request: PutRecords) -> Result<PutRecordsResult> {
        let (snapshot, outcomes) = self.put(&request.stream, request.records, true).await?;
        let records: Vec<PutOutcome> = outcomes
            .into_iter()
            .map(|outcome| match outcome {
                Outcome::Stored(placement) => PutOutcome::Stored(placement),
                Outcome::Throttled { shard_index } => {
                    PutOutcome::Failed(self.throughput_exceeded(&snapshot, shard_index))
                }
                failed @ (Outcome::Failed | Outcome::BacklogFull { .. }) => PutOutcome::Failed(failed.error()),
            })
            .collect();
        let failed_count = records.iter().filter(|r| matches!(r, PutOutcome::Failed(_))).count() as u32;
        Ok(PutRecordsResult { records, failed_count, encrypted: snapshot.encrypted() })
    }

    /// PutRecord. `sequence_number_for_ordering` must be in a layout AWS accepts and not
    /// from the future (`sequence_layouts::ordering_is_valid`).
    pub async fn put_record(&self, request: PutRecord) -> Result<PutRecordResult> {
        let PutRecord { stream, record, sequence_number_for_ordering } = request;
        if let Some(ordering) = sequence_number_for_ordering {
            let snapshot = self.catalog.resolve_serving(&stream)?;
            if snapshot.settings.record_distribution == RecordDistribution::Auto {
                return Err(InvalidArgument::OrderingWithAutoDistribution {
                    stream: snapshot.name().to_owned(),
                    account: self.account_id(),
                }
                .into());
            }
            if !ordering_is_valid(&ordering, self.now_ms() / 1000) {
                return Err(InvalidArgument::SequenceNumberForOrdering {
                    sequence_number: ordering,
                    stream: snapshot.name().to_owned(),
                    account: self.account_id(),
                }
                .into());
            }
        }
        let (snapshot, mut outcomes) = self.put(&stream, vec![record], false).await?;
        match outcomes.pop() {
            Some(Outcome::Stored(placement)) => Ok(PutRecordResult { placement, encrypted: snapshot.encrypted() }),
            Some(Outcome::Throttled { shard_index }) => Err(self.throughput_exceeded(&snapshot, shard_index)),
            Some(failed) => Err(failed.error()),
            None => Err(Outcome::Failed.error()),
        }
    }

    // ----- Reading -----

    /// GetShardIterator.
    pub fn get_shard_iterator(&self, request: &GetShardIterator) -> Result<String> {
        let stream_name = stream_name_of(&request.stream);
        let id = ShardId::parse(&request.shard_id).ok_or_else(|| EngineError::ShardUnknown {
            shard: request.shard_id.clone(),
            stream: stream_name.to_owned(),
            account: self.account_id(),
        })?;
        let shard_missing = |stream: &str| EngineError::ShardNotFound {
            shard: id.to_string(),
            stream: stream.to_owned(),
            account: self.account_id(),
        };
        let snapshot = match self.catalog.resolve_serving(&request.stream) {
            Ok(snapshot) => snapshot,
            Err(EngineError::StreamNotFound { stream, .. }) => return Err(shard_missing(&stream)),
            Err(other) => return Err(other),
        };
        let name = snapshot.name().to_owned();
        let shard = snapshot.shard(id).ok_or_else(|| shard_missing(&name))?.clone();
        let now = self.now_ms();
        let lsn = self.start_lsn(
            &shard,
            &name,
            &request.start,
            request.stray_sequence_number,
            StartingCall::GetShardIterator,
        )?;
        Ok(self.tokens.seal_iterator(&IteratorState {
            stream_id: snapshot.id(),
            shard_uid: shard.uid,
            shard_index: shard.index,
            lsn,
            issued_ms: now,
            stream_name: name,
        }))
    }

    /// Where a reader of `shard` starts, as an LSN: the starting-position rules that
    /// GetShardIterator and SubscribeToShard share. `stray_sequence_number` is a sequence
    /// number sent with a type that takes none.
    pub(super) fn start_lsn(
        &self,
        shard: &ShardMeta,
        stream: &str,
        start: &IteratorStart,
        stray_sequence_number: bool,
        operation: StartingCall,
    ) -> Result<u64> {
        let kind_mismatch = |iterator_type: &'static str, has_sequence_number: bool| {
            EngineError::from(InvalidArgument::StartingPosition { iterator_type, has_sequence_number })
        };
        let now = self.now_ms();
        let position = match start {
            IteratorStart::TrimHorizon if stray_sequence_number => return Err(kind_mismatch("TRIM_HORIZON", true)),
            IteratorStart::Latest if stray_sequence_number => return Err(kind_mismatch("LATEST", true)),
            IteratorStart::TrimHorizon => StartPosition::TrimHorizon,
            IteratorStart::Latest => StartPosition::Latest,
            IteratorStart::AtSequenceNumber(None) => return Err(kind_mismatch("AT_SEQUENCE_NUMBER", false)),
            IteratorStart::AfterSequenceNumber(None) => return Err(kind_mismatch("AFTER_SEQUENCE_NUMBER", false)),
            IteratorStart::AtSequenceNumber(Some(seq)) => {
                let seq = self.check_starting_sequence(seq, shard, stream, operation)?;
                // A resume point is no record's number: AT it is after its LSN, like AFTER.
                if seq.is_resume_point() {
                    StartPosition::AfterLsn(seq.lsn)
                } else {
                    StartPosition::AtLsn(seq.lsn)
                }
            }
            IteratorStart::AfterSequenceNumber(Some(seq)) => {
                StartPosition::AfterLsn(self.check_starting_sequence(seq, shard, stream, operation)?.lsn)
            }
            IteratorStart::AtTimestamp(None) => return Err(InvalidArgument::TimestampMissing.into()),
            IteratorStart::AtTimestamp(Some(ts)) => {
                if *ts > now as i64 {
                    return Err(InvalidArgument::TimestampInFuture { timestamp_ms: *ts, now_ms: now }.into());
                }
                StartPosition::AtTimestamp((*ts).max(0) as u64)
            }
        };
        self.resolve_off_runtime(shard.uid, position).map_err(|e| match e {
            StorageError::ShardNotFound { .. } => EngineError::ShardNotFound {
                shard: ShardId::new(shard.index).to_string(),
                stream: stream.to_owned(),
                account: self.account_id(),
            },
            other => EngineError::Storage(other),
        })
    }

    /// Checks a StartingSequenceNumber against the shard; returns it parsed. In AWS's order:
    /// is it a number at all, which shard does it encode, did this shard issue it.
    fn check_starting_sequence(
        &self,
        text: &str,
        shard: &ShardMeta,
        stream: &str,
        operation: StartingCall,
    ) -> Result<SequenceNumber> {
        let id = ShardId::new(shard.index);
        let invalid = || InvalidArgument::StartingSequenceNumber {
            sequence_number: text.to_owned(),
            operation: operation.name(),
            shard: id,
            stream: stream.to_owned(),
            account: self.account_id(),
        };
        let foreign = |quoted: String| InvalidArgument::StartingSequenceNumberForeign {
            sequence_number: quoted,
            operation: operation.name(),
            shard: id,
            stream: stream.to_owned(),
            account: self.account_id(),
        };
        let wrong_shard = |encoded: i64| InvalidArgument::StartingSequenceNumberShard {
            encoded: EncodedShardId::new(encoded),
            shard: id,
        };
        let seq = match operation {
            // Issue 14, item 6: GetShardIterator reads the shard of any number in a layout
            // AWS reads, before it asks whether this shard issued the number.
            StartingCall::GetShardIterator => {
                let StartingSequence::Encodes { shard_index, quoted } = starting_sequence(text) else {
                    return Err(invalid().into());
                };
                if shard_index != i64::from(shard.index) {
                    return Err(wrong_shard(shard_index).into());
                }
                SequenceNumber::parse(text).map_err(|_| foreign(quoted))?
            }
            // AWS's reference says nothing of SubscribeToShard's reading of foreign
            // layouts, so it keeps reading only numbers this server issues.
            StartingCall::SubscribeToShard => {
                let seq = SequenceNumber::parse(text).map_err(|_| invalid())?;
                if seq.shard_index != shard.index {
                    return Err(wrong_shard(i64::from(seq.shard_index)).into());
                }
                seq
            }
        };
        let beyond_close = shard.closed.is_some_and(|close| seq.lsn > close.lsn);
        if seq.shard_created_secs != shard.created_ms / 1000 || seq.lsn < shard.created_lsn || beyond_close {
            return Err(foreign(text.to_owned()).into());
        }
        Ok(seq)
    }

    /// GetRecords.
    pub fn get_records(&self, request: &GetRecords) -> Result<GetRecordsResult> {
        let state = self.tokens.open_iterator(&request.shard_iterator).ok_or(EngineError::InvalidShardIterator)?;
        let now = self.now_ms();
        if now.saturating_sub(state.issued_ms) > ITERATOR_LIFETIME_MS {
            return Err(EngineError::ExpiredIterator { issued_ms: state.issued_ms, now_ms: now });
        }
        let shard_missing = || EngineError::ShardNotFound {
            shard: ShardId::new(state.shard_index).to_string(),
            stream: state.stream_name.clone(),
            account: self.account_id(),
        };
        let snapshot = self
            .catalog
            .snapshot(state.stream_id)
            .filter(|s| s.settings.deleting_until_ms.is_none_or(|until| now < until))
            .ok_or_else(shard_missing)?;
        let shard = snapshot.meta.shards.iter().find(|s| s.uid == state.shard_uid).ok_or_else(shard_missing)?;
        if self.throttle.as_ref().is_some_and(|throttle| !throttle.admit_read(shard.uid, self.monotonic_ms())) {
            return Err(self.throughput_exceeded(&snapshot, shard.index));
        }
        let limit = request.limit.map_or(GET_RECORDS_LIMIT_MAX, |l| l as usize).clamp(1, GET_RECORDS_LIMIT_MAX);
        let created_secs = shard.created_ms / 1000;
        let batch = self.read_log(shard.uid, state.lsn, limit, GET_RECORDS_BYTES_MAX).map_err(|e| match e {
            StorageError::ShardNotFound { .. } => shard_missing(),
            damaged @ StorageError::Damaged { .. } => {
                self.damaged_records(damaged, snapshot.name(), created_secs, shard.index)
            }
            other => EngineError::Storage(other),
        })?;
        let (records, bytes) = records_out(batch.records, |lsn, arrival_ms| {
            record_sequence_number(created_secs, shard.index, lsn, arrival_ms)
        });
        if let Some(throttle) = &self.throttle {
            throttle.charge_read(shard.uid, bytes);
        }
        let caught_up = batch.tip_lsn.is_none_or(|tip| batch.next_lsn > tip);
        let millis_behind_latest = match records.last() {
            _ if caught_up => 0,
            Some(last) => batch.tip_arrival_ms.saturating_sub(last.arrival_ms),
            None => now.saturating_sub(batch.tip_arrival_ms),
        };
        // The end of a closed shard is reported by a response without records, so a
        // consumer always sees the last records before it moves on to the children.
        let (next_shard_iterator, child_shards) = if batch.shard_end && records.is_empty() {
            (None, Some(snapshot.children(shard.index)))
        } else {
            let next = IteratorState { lsn: batch.next_lsn, issued_ms: now, ..state };
            (Some(self.tokens.seal_iterator(&next)), None)
        };
        Ok(GetRecordsResult {
            records,
            next_shard_iterator,
            millis_behind_latest,
            child_shards,
            encrypted: snapshot.encrypted(),
        })
    }

    /// Reads a shard of the streams log. A read that may wait for the archive (its first
    /// chunks are only there and not cached) runs as blocking code on a multi-thread
    /// runtime's worker (`block_in_place`: the worker's other tasks move to another
    /// thread), so a reader far behind never holds up readers at the tip or appends.
    /// Every read of the streams log by the engine goes through here.
    pub(crate) fn read_log(
        &self,
        shard_uid: u64,
        from_lsn: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> rheo_storage::Result<ReadBatch> {
        let log = self.log();
        let read = || log.read(shard_uid, from_lsn, max_records, max_bytes);
        if log.read_may_block(shard_uid, from_lsn) && may_block_in_place() {
            tokio::task::block_in_place(read)
        } else {
            read()
        }
    }

    /// The reader's error for records damaged on disk, in sequence numbers.
    pub(super) fn damaged_records(
        &self,
        error: StorageError,
        stream: &str,
        created_secs: u64,
        index: u32,
    ) -> EngineError {
        match error {
            StorageError::Damaged { first_lsn, last_lsn, first_arrival_ms, last_arrival_ms, .. } => {
                EngineError::DamagedRecords {
                    shard: ShardId::new(index).to_string(),
                    stream: stream.to_owned(),
                    account: self.account_id(),
                    first: record_sequence_number(created_secs, index, first_lsn, first_arrival_ms).to_string(),
                    last: record_sequence_number(created_secs, index, last_lsn, last_arrival_ms).to_string(),
                }
            }
            other => EngineError::Storage(other),
        }
    }

    /// A receiver that changes whenever the shard gains records (its value is the
    /// newest LSN), for consumers that wait instead of polling.
    pub fn watch_shard(&self, request: &ShardRef) -> Result<tokio::sync::watch::Receiver<u64>> {
        let snapshot = self.catalog.resolve_serving(&request.stream)?;
        let missing = || EngineError::ShardNotFound {
            shard: request.shard_id.clone(),
            stream: snapshot.name().to_owned(),
            account: self.account_id(),
        };
        let id = ShardId::parse(&request.shard_id).ok_or_else(missing)?;
        let uid = snapshot.shard(id).ok_or_else(missing)?.uid;
        self.log().watch(uid).map_err(|_| missing())
    }

    // ----- ListShards -----

    /// The ARN of the stream a ListShards `NextToken` pages, when the token opens and its
    /// stream still exists: a call with only a token is authorized on that stream.
    pub fn list_shards_token_stream_arn(&self, token: &str) -> Option<crate::ids::StreamArn> {
        let body = self.tokens.open_page(PageKind::Shards, token, self.now_ms()).ok()?;
        let page = ShardPage::decode(&body)?;
        let snapshot = self.catalog.snapshot(page.stream_id)?;
        Some(self.account().stream_arn(snapshot.name()))
    }

    /// ListShards with paging and every ShardFilter type.
    pub fn list_shards(&self, request: &ListShards) -> Result<ShardList> {
        let named = request.stream.name.is_some() || request.stream.arn.is_some();
        let (snapshot, after, filter, filter_arg) = match (&request.next_token, named) {
            (None, false) => return Err(InvalidArgument::ListShardsStreamMissing.into()),
            (Some(_), true) => return Err(InvalidArgument::ListShardsTokenWithStream.into()),
            (Some(token), false) => {
                if request.exclusive_start_shard_id.is_some() || request.stream_creation_ms.is_some() {
                    return Err(InvalidArgument::ListShardsTokenWithStart.into());
                }
                let body = self.tokens.open_page(PageKind::Shards, token, self.now_ms())?;
                let page = ShardPage::decode(&body).ok_or_else(invalid_next_token)?;
                let snapshot = self.catalog.snapshot(page.stream_id).ok_or_else(|| {
                    EngineError::from(ResourceNotFound::NextTokenStream { account: self.account_id() })
                })?;
                (snapshot, Some(page.after_index), page.filter, page.filter_arg)
            }
            (None, true) => {
                let snapshot = self.catalog.resolve(&request.stream)?;
                if let Some(created) = request.stream_creation_ms {
                    if created != snapshot.meta.created_ms as i64 {
                        return Err(self.catalog.stream_not_found(snapshot.name()));
                    }
                }
                let after = request
                    .exclusive_start_shard_id
                    .as_deref()
                    .map(|id| ShardId::parse(id).map_or(i64::MAX, |id| i64::from(id.index())));
                let (filter, filter_arg) = match &request.filter {
                    None => (ShardFilterKind::FromTrimHorizon, 0),
                    Some(filter) => {
                        let arg = match filter.kind {
                            ShardFilterKind::AfterShardId => {
                                let id =
                                    filter.shard_id.as_deref().ok_or(InvalidArgument::ShardFilterShardIdMissing)?;
                                ShardId::parse(id).map_or(i64::MAX, |id| i64::from(id.index()))
                            }
                            ShardFilterKind::AtTimestamp | ShardFilterKind::FromTimestamp => filter
                                .timestamp_ms
                                .ok_or(InvalidArgument::ShardFilterTimestampMissing { filter: filter.kind })?,
                            _ => 0,
                        };
                        (filter.kind, arg)
                    }
                };
                (snapshot, after, filter, filter_arg)
            }
        };
        let max = request.max_results.map_or(LIST_SHARDS_LIMIT_MAX, |m| m as usize).clamp(1, LIST_SHARDS_LIMIT_MAX);
        let matching = self.filter_shards(&snapshot, after, filter, filter_arg);
        let more = matching.len() > max;
        let shards: Vec<_> = matching.iter().take(max).map(|s| shard_info(s)).collect();
        let next_token = match shards.last() {
            Some(last) if more => {
                let page = ShardPage {
                    stream_id: snapshot.id(),
                    after_index: i64::from(last.shard_id.index()),
                    filter,
                    filter_arg,
                };
                Some(self.tokens.seal_page(PageKind::Shards, &page.encode(), self.now_ms()))
            }
            _ => None,
        };
        Ok(ShardList { shards, next_token })
    }

    fn filter_shards<'a>(
        &self,
        snapshot: &'a Snapshot,
        after: Option<i64>,
        filter: ShardFilterKind,
        filter_arg: i64,
    ) -> Vec<&'a ShardMeta> {
        let now = self.now_ms() as i64;
        let trim_horizon = now - snapshot.meta.retention_ms() as i64;
        let created = snapshot.meta.created_ms as i64;
        let closed_at = |s: &ShardMeta| s.closed.map(|c| c.at_ms as i64);
        // A closed shard whose every record has aged out is "expired" and not listed.
        let expired = |s: &ShardMeta| closed_at(s).is_some_and(|at| at < trim_horizon);
        let open_at = |s: &ShardMeta, at: i64| s.created_ms as i64 <= at && closed_at(s).is_none_or(|c| c > at);
        let mut shards: Vec<&ShardMeta> = snapshot
            .meta
            .shards
            .iter()
            .filter(|s| after.is_none_or(|after| i64::from(s.index) > after))
            .filter(|s| match filter {
                ShardFilterKind::AfterShardId => i64::from(s.index) > filter_arg && !expired(s),
                ShardFilterKind::FromTrimHorizon => !expired(s),
                ShardFilterKind::AtTrimHorizon => open_at(s, trim_horizon.max(created)),
                ShardFilterKind::AtLatest => s.closed.is_none(),
                ShardFilterKind::AtTimestamp => open_at(s, filter_arg.max(created)),
                ShardFilterKind::FromTimestamp => {
                    !expired(s) && closed_at(s).is_none_or(|c| c > filter_arg.max(created))
                }
            })
            .collect();
        shards.sort_by_key(|s| s.index);
        shards
    }
}

/// A ListShards continuation: where the last page ended and which filter applies.
struct ShardPage {
    stream_id: u64,
    after_index: i64,
    filter: ShardFilterKind,
    filter_arg: i64,
}

impl ShardPage {
    const KINDS: [ShardFilterKind; 6] = [
        ShardFilterKind::AfterShardId,
        ShardFilterKind::AtTrimHorizon,
        ShardFilterKind::FromTrimHorizon,
        ShardFilterKind::AtLatest,
        ShardFilterKind::AtTimestamp,
        ShardFilterKind::FromTimestamp,
    ];

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(25);
        out.extend_from_slice(&self.stream_id.to_be_bytes());
        out.extend_from_slice(&self.after_index.to_be_bytes());
        out.push(Self::KINDS.iter().position(|k| *k == self.filter).unwrap_or(2) as u8);
        out.extend_from_slice(&self.filter_arg.to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let word = |at: usize| -> Option<[u8; 8]> { bytes.get(at..at + 8)?.try_into().ok() };
        Some(ShardPage {
            stream_id: u64::from_be_bytes(word(0)?),
            after_index: i64::from_be_bytes(word(8)?),
            filter: *Self::KINDS.get(usize::from(*bytes.get(16)?))?,
            filter_arg: i64::from_be_bytes(word(17)?),
        })
    }
}

/// Turns stored records into API records, naming each with `sequence`; also returns the
/// bytes (data and keys) they carry, which read throttling charges.
pub(super) fn records_out(
    stored: Vec<rheo_storage::StoredRecord>,
    sequence: impl Fn(u64, u64) -> SequenceNumber,
) -> (Vec<RecordOut>, usize) {
    let mut bytes = 0usize;
    let records = stored
        .into_iter()
        .map(|record| {
            bytes += record.data.len() + record.partition_key.len();
            RecordOut {
                sequence_number: sequence(record.lsn, record.arrival_ms),
                arrival_ms: record.arrival_ms,
                data: record.data,
                // A partition key is never empty (AWS: 1 to 256 characters), so an empty
                // stored key is a record put without one.
                partition_key: (!record.partition_key.is_empty())
                    .then(|| String::from_utf8_lossy(&record.partition_key).into_owned()),
            }
        })
        .collect();
    (records, bytes)
}

impl Engine {
    /// The LSN `position` starts at in shard `shard_uid`. An AT_TIMESTAMP start may read
    /// an archived chunk: it then runs off the runtime's workers, so a far-behind start
    /// never holds up readers at the tip.
    pub(crate) fn resolve_off_runtime(&self, shard_uid: u64, position: StartPosition) -> Result<u64, StorageError> {
        let log = self.log();
        let resolve = || log.resolve(shard_uid, position);
        if log.resolve_may_block(position) && may_block_in_place() {
            tokio::task::block_in_place(resolve)
        } else {
            resolve()
        }
    }
}

/// Whether the current thread may call `block_in_place`: inside a multi-thread runtime
/// (on a current-thread runtime it panics; outside any runtime blocking is harmless and
/// the read is simply run).
fn may_block_in_place() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|runtime| runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}
