//! SubscribeToShard (enhanced fan-out), the engine's half.
//!
//! The server owns the HTTP response, the event-stream framing, the timers (heartbeat
//! events, the subscription's lifetime) and back-pressure. The engine owns what Kinesis
//! defines:
//!
//! - validating the call and resolving its starting position (the rules GetShardIterator
//!   uses);
//! - the takeover rule: one subscription per consumer and shard. A second call within
//!   [`SUBSCRIPTION_TAKEOVER_MS`] of the open one's start is refused with
//!   ResourceInUseException; a later one takes over, and the older one ends with
//!   ResourceInUseException;
//! - reading: each read returns what is durable now, capped per event, and keeps the
//!   continuation sequence number and `MillisBehindLatest`; at the end of a closed shard
//!   it returns the children;
//! - the per-consumer read budget ([`CONSUMER_READ_BYTES_PER_SEC`] per shard with limits
//!   enforced), a token bucket on the engine's clock.
//!
//! Waiting is event-driven: [`Subscription::wait`] resolves when the shard gains records
//! or closes (the shard log's watch channel), when stream metadata changes (a consumer
//! deregistered, a stream deleted: [`Engine::check_subscription`] tells which), or when a
//! newer subscription takes over. Nothing polls.

use rheo_storage::{SequenceNumber, StorageError};
use tokio::sync::{oneshot, watch};

use super::records::{records_out, StartingCall};
use super::Engine;
use crate::error::{EngineError, ResourceInUse, Result};
use crate::ids::{ConsumerArn, ShardId};
use crate::limits::{
    CONSUMER_READ_BYTES_PER_SEC, SUBSCRIBE_EVENT_BYTES_MAX, SUBSCRIBE_EVENT_RECORDS_MAX, SUBSCRIPTION_TAKEOVER_MS,
};
use crate::model::{ChildShard, ConsumerRef, ConsumerStatus, RecordOut, SubscribeToShard};
use crate::snapshot::record_sequence_number;
use crate::subscriptions::Lease;
use crate::throttle::Bucket;

/// Why [`Subscription::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The shard gained records or was closed: read.
    Records,
    /// Stream metadata changed: re-check with [`Engine::check_subscription`].
    Changed,
    /// A newer SubscribeToShard for the same consumer and shard took over; the
    /// subscription must end ([`Engine::check_subscription`] gives the error to send).
    TakenOver,
    /// The shard's stream is gone from the log: the subscription must end
    /// ([`Engine::check_subscription`] gives the error to send).
    Gone,
}

/// What one read of a subscription returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionRead {
    /// Records available now, in order (possibly none). The event's continuation sequence
    /// number and `MillisBehindLatest` are the subscription's after this read.
    Records {
        /// At most [`SUBSCRIBE_EVENT_RECORDS_MAX`] records and about
        /// [`SUBSCRIBE_EVENT_BYTES_MAX`] of data.
        records: Vec<RecordOut>,
        /// Nothing more is available now: wait before reading again.
        caught_up: bool,
    },
    /// The shard is closed and every record was delivered: the final event carries the
    /// children, and the subscription ends.
    ShardEnd {
        /// The shards that continue the key range.
        child_shards: Vec<ChildShard>,
    },
    /// The consumer's read budget on this shard is spent for this long (limits enforced).
    Throttled {
        /// Milliseconds on the engine's clock until the next read may go ahead.
        wait_ms: u64,
    },
}

/// One open SubscribeToShard: a position in a shard and what it waits on. Dropping it
/// ends the subscription (and frees its consumer-and-shard slot).
pub struct Subscription {
    stream_id: u64,
    stream_name: String,
    consumer_arn: ConsumerArn,
    consumer_name: String,
    consumer_created_ms: u64,
    shard_uid: u64,
    /// The LSN reserved at the shard's creation, below every record of it.
    shard_created_lsn: u64,
    shard_index: u32,
    shard_created_secs: u64,
    next_lsn: u64,
    millis_behind_latest: u64,
    encrypted: bool,
    ended: bool,
    taken_over: bool,
    tip: watch::Receiver<u64>,
    changes: watch::Receiver<u64>,
    takeover: Option<oneshot::Receiver<()>>,
    budget: Option<Bucket>,
    _lease: Lease,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("consumer_arn", &self.consumer_arn)
            .field("shard_id", &self.shard_id())
            .field("next_lsn", &self.next_lsn)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// Waits until there is something to do; see [`Wake`].
    pub async fn wait(&mut self) -> Wake {
        if self.taken_over {
            return Wake::TakenOver;
        }
        let takeover = &mut self.takeover;
        let wake = tokio::select! {
            changed = self.tip.changed() => if changed.is_ok() { Wake::Records } else { Wake::Gone },
            changed = self.changes.changed() => if changed.is_ok() { Wake::Changed } else { Wake::Gone },
            () = async {
                match takeover {
                    // A dropped sender also means the slot went to someone else.
                    Some(taken_over) => { let _ = taken_over.await; }
                    None => std::future::pending().await,
                }
            } => Wake::TakenOver,
        };
        if wake == Wake::TakenOver {
            self.taken_over = true;
            self.takeover = None;
        }
        wake
    }

    /// Where a new subscription or iterator continues, with `AT_SEQUENCE_NUMBER` or
    /// `AFTER_SEQUENCE_NUMBER` alike: the resume point after the last record delivered
    /// (or after the position before the first one), never a record's own number, as
    /// AWS's events show (issue 14, item 11; see `rheo_storage::seqno`).
    /// Resuming after the position before `next_lsn` reads from `next_lsn`; it never
    /// precedes the shard's starting sequence number, so it is always a valid
    /// StartingSequenceNumber.
    pub fn continuation_sequence_number(&self) -> SequenceNumber {
        let before = self.next_lsn.saturating_sub(1).max(self.shard_created_lsn);
        SequenceNumber::resume_after(self.shard_created_secs, self.shard_index, before)
    }

    /// Milliseconds between the last record delivered and the tip of the shard (0 when
    /// caught up).
    pub fn millis_behind_latest(&self) -> u64 {
        self.millis_behind_latest
    }

    /// Whether the stream is KMS-encrypted (records say so).
    pub fn encrypted(&self) -> bool {
        self.encrypted
    }

    /// The consumer's ARN.
    pub fn consumer_arn(&self) -> &ConsumerArn {
        &self.consumer_arn
    }

    /// The shard's id.
    pub fn shard_id(&self) -> ShardId {
        ShardId::new(self.shard_index)
    }

    /// The stream's name.
    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }

    fn sequence_at(&self, lsn: u64, arrival_ms: u64) -> SequenceNumber {
        record_sequence_number(self.shard_created_secs, self.shard_index, lsn, arrival_ms)
    }
}

impl Engine {
    /// SubscribeToShard: checks the call and opens the subscription. Errors here are
    /// ordinary error responses; once this succeeds the server streams events.
    pub fn subscribe_to_shard(&self, request: &SubscribeToShard) -> Result<Subscription> {
        let reference = ConsumerRef { consumer_arn: Some(request.consumer_arn.clone()), ..Default::default() };
        let (snapshot, consumer) = self.find_consumer(&reference)?;
        let stream = snapshot.name().to_owned();
        let account = self.account_id();
        let consumer_arn = self.account().consumer_arn(&stream, &consumer.name, consumer.created_ms);
        let status = self.consumer_status(&snapshot, &consumer);
        if status != ConsumerStatus::Active {
            return Err(ResourceInUse::ConsumerNotActive { consumer: consumer_arn, stream, account, status }.into());
        }
        if !self.catalog.status(&snapshot).serves_data() {
            return Err(self.catalog.stream_not_found(&stream));
        }
        let shard_missing =
            |shard: String| EngineError::ShardNotFound { shard, stream: stream.clone(), account: account.clone() };
        let id = ShardId::parse(&request.shard_id).ok_or_else(|| shard_missing(request.shard_id.clone()))?;
        let index = id.index();
        let shard = snapshot.shard(id).ok_or_else(|| shard_missing(id.to_string()))?.clone();
        let lsn = self.start_lsn(
            &shard,
            &stream,
            &request.start,
            request.stray_sequence_number,
            StartingCall::SubscribeToShard,
        )?;
        let tip = self.log().watch(shard.uid).map_err(|_| shard_missing(id.to_string()))?;
        let now = self.now_ms();
        let (lease, takeover) = self.subscriptions.claim((consumer_arn.clone(), shard.uid), now).map_err(|age_ms| {
            EngineError::from(ResourceInUse::SubscriptionActive {
                consumer: consumer_arn.clone(),
                shard: id,
                stream: stream.clone(),
                account: account.clone(),
                age_ms,
                takeover_ms: SUBSCRIPTION_TAKEOVER_MS,
            })
        })?;
        let shard_created_secs = shard.created_ms / 1000;
        tracing::debug!(message = "Subscription opened.", consumer = %consumer_arn, shard = %id, lsn);
        Ok(Subscription {
            stream_id: snapshot.id(),
            stream_name: stream,
            consumer_arn,
            consumer_name: consumer.name.clone(),
            consumer_created_ms: consumer.created_ms,
            shard_uid: shard.uid,
            shard_created_lsn: shard.created_lsn,
            shard_index: index,
            shard_created_secs,
            next_lsn: lsn,
            millis_behind_latest: 0,
            encrypted: snapshot.encrypted(),
            ended: false,
            taken_over: false,
            tip,
            changes: self.catalog.watch_changes(),
            takeover: Some(takeover),
            budget: self.throttle.as_ref().map(|_| Bucket::new(CONSUMER_READ_BYTES_PER_SEC, now)),
            _lease: lease,
        })
    }

    /// Whether a subscription may go on: its consumer must still be ACTIVE, its stream
    /// live, and no newer subscription may have taken over. The error is what the
    /// subscription ends with (ResourceNotFoundException or ResourceInUseException).
    pub fn check_subscription(&self, subscription: &mut Subscription) -> Result<()> {
        let account = self.account_id();
        if subscription.taken_over {
            return Err(ResourceInUse::SubscriptionTakenOver {
                consumer: subscription.consumer_arn.clone(),
                shard: subscription.shard_id(),
                stream: subscription.stream_name.clone(),
                account,
            }
            .into());
        }
        let snapshot = self
            .catalog
            .snapshot(subscription.stream_id)
            .filter(|s| s.settings.deleting_until_ms.is_none())
            .ok_or_else(|| self.catalog.stream_not_found(&subscription.stream_name))?;
        let active = snapshot.consumers().iter().any(|c| {
            c.name == subscription.consumer_name
                && c.created_ms == subscription.consumer_created_ms
                && self.consumer_status(&snapshot, c) == ConsumerStatus::Active
        });
        if !active {
            return Err(EngineError::ConsumerNotFound {
                consumer: subscription.consumer_arn.to_string(),
                stream: subscription.stream_name.clone(),
                account,
            });
        }
        subscription.encrypted = snapshot.encrypted();
        Ok(())
    }

    /// Reads what the subscription may deliver now; see [`SubscriptionRead`].
    pub fn read_subscription(&self, subscription: &mut Subscription) -> Result<SubscriptionRead> {
        if subscription.ended {
            return Ok(SubscriptionRead::Records { records: Vec::new(), caught_up: true });
        }
        let now = self.now_ms();
        if let Some(budget) = subscription.budget.as_mut() {
            budget.refill(now);
            let wait_ms = budget.wait_ms();
            if wait_ms > 0 {
                return Ok(SubscriptionRead::Throttled { wait_ms });
            }
        }
        let batch = self
            .read_log(
                subscription.shard_uid,
                subscription.next_lsn,
                SUBSCRIBE_EVENT_RECORDS_MAX,
                SUBSCRIBE_EVENT_BYTES_MAX,
            )
            .map_err(|error| match error {
                StorageError::ShardNotFound { .. } => self.catalog.stream_not_found(&subscription.stream_name),
                damaged @ StorageError::Damaged { .. } => self.damaged_records(
                    damaged,
                    &subscription.stream_name,
                    subscription.shard_created_secs,
                    subscription.shard_index,
                ),
                other => EngineError::Storage(other),
            })?;
        if batch.shard_end && batch.records.is_empty() {
            let snapshot = self
                .catalog
                .snapshot(subscription.stream_id)
                .ok_or_else(|| self.catalog.stream_not_found(&subscription.stream_name))?;
            subscription.ended = true;
            subscription.millis_behind_latest = 0;
            return Ok(SubscriptionRead::ShardEnd { child_shards: snapshot.children(subscription.shard_index) });
        }
        let (records, bytes) = records_out(batch.records, |lsn, arrival_ms| subscription.sequence_at(lsn, arrival_ms));
        if let Some(budget) = subscription.budget.as_mut() {
            budget.charge(bytes);
        }
        let caught_up = !batch.shard_end && batch.tip_lsn.is_none_or(|tip| batch.next_lsn > tip);
        subscription.next_lsn = batch.next_lsn;
        subscription.millis_behind_latest = match records.last() {
            _ if caught_up => 0,
            Some(last) => batch.tip_arrival_ms.saturating_sub(last.arrival_ms),
            None => subscription.millis_behind_latest,
        };
        Ok(SubscriptionRead::Records { records, caught_up })
    }
}
