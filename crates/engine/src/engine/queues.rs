//! The queue operations: CreateQueue, DescribeQueue, ListQueues, UpdateQueue,
//! DeleteQueue, and the record operations of both sides (receive, acknowledge, change
//! visibility; restore for dead-letter records). The component is
//! [`crate::queues::Queues`]; the rules are in its modules.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Engine;
use crate::checkpoint::ReaderCheckpoint;
use crate::error::{LimitExceeded, ResourceNotFound, Result};
use crate::limits::{
    LIST_QUEUES_LIMIT_DEFAULT, QUEUES_CHANGING_MAX, QUEUE_MAX_RECEIVE_COUNT_DEFAULT,
    QUEUE_VISIBILITY_TIMEOUT_SECS_DEFAULT,
};
use crate::model::{StreamMode, StreamRef, StreamStatus, Tag};
use crate::queue_error::QueueError;
use crate::queues::model::{
    CreateQueue, DeadLetterRequest, DeadLetterTarget, ListQueues, QueueAttributesRequest, QueueEntriesResult,
    QueueEntryError, QueueEntryFailure, QueueHandles, QueueInfo, QueueList, QueueStart, QueueStartKind, QueueStatus,
    QueueStreamInfo, UpdateQueue, UpdateQueueVisibility,
};
use crate::queues::receipt::Receipt;
use crate::queues::state::{Event, QueueState, Side};
use crate::queues::stored::{QueueDef, StoredStart, FORMAT_VERSION};
use crate::queues::{Queue, Queues};
use crate::tags::check_tags;
use crate::token::PageKind;

/// What a batch call does to each record its handles name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Settle {
    Acknowledge,
    /// New visibility timeout; needs the record in flight.
    Visibility,
    Restore,
}

impl Engine {
    /// The queue component.
    pub(crate) fn queues(&self) -> &Queues {
        &self.queues
    }

    /// The counters of the queues' log (`<data-dir>/queues`), for `/metrics`.
    pub fn queue_log_stats(&self) -> rheo_storage::LogStats {
        self.queues.log_stats()
    }

    pub(crate) fn queue_status(&self, def: &QueueDef) -> QueueStatus {
        let now = self.now_ms();
        if def.deleting_until_ms.is_some() {
            QueueStatus::Deleting
        } else if now < def.active_from_ms(self.config.consumer_ms) {
            QueueStatus::Creating
        } else if def.updating_until_ms.is_some_and(|until| now < until) {
            QueueStatus::Updating
        } else {
            QueueStatus::Active
        }
    }

    pub(crate) fn queue_info(&self, def: &QueueDef) -> QueueInfo {
        let status = self.queue_status(def);
        // API_QueueStartingPosition: while CREATING, the configured timestamp (none for
        // TRIM_HORIZON and LATEST); afterwards, always the effective one.
        let start_timestamp_ms = match (status, def.start) {
            (QueueStatus::Creating, StoredStart::AtTimestamp(ms)) => Some(ms),
            (QueueStatus::Creating, _) => None,
            _ => Some(def.effective_start_ms),
        };
        QueueInfo {
            name: def.name.clone(),
            arn: self.account().queue_arn(&def.resource_id),
            status,
            created_ms: def.created_ms,
            stream: QueueStreamInfo {
                stream_arn: self.account().stream_arn(&def.stream_name),
                stream_created_ms: def.stream_created_ms,
                start: def.start.into(),
                start_timestamp_ms,
            },
            attributes: def.attributes(),
        }
    }

    /// The queue an ARN names; a queue whose deletion finished is gone even before the
    /// reaper removed it.
    pub(crate) fn find_queue(&self, arn: &str) -> Result<Arc<Queue>> {
        let not_found = || QueueError::NotFound { queue: arn.to_owned(), account: self.account_id() };
        let queue = self
            .account()
            .queue_resource_id(arn)
            .and_then(|id| self.queues.by_resource_id(id))
            .ok_or_else(not_found)?;
        if queue.gone_at(self.now_ms()) {
            return Err(not_found().into());
        }
        Ok(queue)
    }

    /// Queues CREATING or DELETING now, for AWS's quota of five at once.
    fn queues_changing(&self) -> usize {
        self.queues
            .all()
            .iter()
            .filter(|q| matches!(self.queue_status(&q.def()), QueueStatus::Creating | QueueStatus::Deleting))
            .count()
    }

    fn check_queues_changing(&self) -> Result<()> {
        if self.queues_changing() >= QUEUES_CHANGING_MAX {
            return Err(QueueError::TooManyChanging { account: self.account_id(), limit: QUEUES_CHANGING_MAX }.into());
        }
        Ok(())
    }

    /// Queues on a stream, for DeleteStream, UpdateStreamMode, the consumer quota and
    /// DescribeStreamSummary.
    pub(super) fn queue_count(&self, stream_name: &str) -> usize {
        self.queues.count_on_stream(stream_name, self.now_ms())
    }

    /// Fails when a stream has queues (DeleteStream, and UpdateStreamMode to PROVISIONED:
    /// AWS requires every queue deleted first).
    pub(super) fn refuse_if_queues(&self, stream_name: &str) -> Result<()> {
        let count = self.queue_count(stream_name);
        if count > 0 {
            return Err(QueueError::StreamHasQueues {
                stream: stream_name.to_owned(),
                account: self.account_id(),
                count,
            }
            .into());
        }
        Ok(())
    }

    /// CreateQueue, once the rules allow it: `start_at` gives the reader position the
    /// queue starts at in the named stream (see `queue_delivery.rs`, which owns the
    /// stream reader).
    pub(crate) async fn create_queue_at(
        &self,
        request: CreateQueue,
        start_at: impl FnOnce(&str, QueueStart) -> Result<ReaderCheckpoint>,
    ) -> Result<QueueInfo> {
        let CreateQueue { name, streams, attributes, tags } = request;
        let [stream] =
            <[_; 1]>::try_from(streams).map_err(|streams: Vec<_>| QueueError::StreamCount { count: streams.len() })?;
        let lock = self.catalog.lock().await;
        let snapshot = self.catalog.resolve(&StreamRef::arn(stream.stream_arn))?;
        if matches!(self.catalog.status(&snapshot), StreamStatus::Creating | StreamStatus::Deleting) {
            self.catalog.require_active(&snapshot)?;
        }
        let account = self.account_id();
        if snapshot.settings.mode != StreamMode::OnDemand {
            return Err(QueueError::StreamNotOnDemand { stream: snapshot.name().to_owned(), account }.into());
        }
        if self.queues.by_name(&name).is_some() {
            return Err(QueueError::Exists { queue: name, account }.into());
        }
        // AWS: a queue is a registered consumer and shares the stream's consumer quota.
        let registered = snapshot.live_consumer_count() + self.queue_count(snapshot.name());
        if registered >= self.config.consumer_limit as usize {
            return Err(LimitExceeded::Consumers {
                stream: snapshot.name().to_owned(),
                account,
                limit: self.config.consumer_limit,
            }
            .into());
        }
        self.check_queues_changing()?;
        check_tags(&account, &name, &tags, &Default::default())?;
        let (built_in, max_receive_count) = dead_letter_settings(attributes.dead_letter, None)?;
        // API_QueueStartingPosition: Timestamp is required with AT_TIMESTAMP and refused
        // with the other types.
        let start = match stream.start {
            None => QueueStart::Latest,
            Some(start) => match (start.kind, start.timestamp_ms) {
                (QueueStartKind::AtTimestamp, Some(ms)) => QueueStart::AtTimestamp(ms),
                (QueueStartKind::AtTimestamp, None) => return Err(QueueError::TimestampMissing.into()),
                (_, Some(_)) => return Err(QueueError::TimestampNotAllowed.into()),
                (QueueStartKind::TrimHorizon, None) => QueueStart::TrimHorizon,
                (QueueStartKind::Latest, None) => QueueStart::Latest,
            },
        };
        let checkpoint = start_at(snapshot.name(), start)?;
        let now = self.now_ms();
        // API_QueueStartingPosition: an ACTIVE queue describes its effective start: the
        // earliest time the stream can be read from (its creation, or its retention
        // window), the given time if later, and the creation of the queue for LATEST.
        let readable_from = snapshot.meta.created_ms.max(now.saturating_sub(snapshot.meta.retention_ms()));
        let effective_start_ms = match start {
            QueueStart::TrimHorizon => readable_from,
            QueueStart::Latest => now,
            QueueStart::AtTimestamp(ms) => ms.max(readable_from),
        };
        let mut resource_id = random_resource_id();
        while self.queues.by_resource_id(&resource_id).is_some() {
            resource_id = random_resource_id();
        }
        let def = QueueDef {
            version: FORMAT_VERSION,
            name,
            resource_id,
            created_ms: now,
            stream_name: snapshot.name().to_owned(),
            stream_created_ms: snapshot.meta.created_ms,
            start: start.into(),
            effective_start_ms,
            visibility_timeout_secs: attributes
                .visibility_timeout_secs
                .unwrap_or(QUEUE_VISIBILITY_TIMEOUT_SECS_DEFAULT),
            dead_letter_built_in: built_in,
            max_receive_count,
            updating_until_ms: None,
            deleting_until_ms: None,
            tags,
            policy: None,
        };
        let queue = self.queues.create(def, QueueState::new(checkpoint)).await?;
        drop(lock);
        tracing::info!(message = "Queue created.", queue = %queue.def().name, stream = %snapshot.name());
        Ok(self.queue_info(&queue.def()))
    }

    /// DescribeQueue.
    pub fn describe_queue(&self, queue_arn: &str) -> Result<QueueInfo> {
        Ok(self.queue_info(&self.find_queue(queue_arn)?.def()))
    }

    /// ListQueues: by name, optionally only queues of some streams.
    pub fn list_queues(&self, request: &ListQueues) -> Result<QueueList> {
        let now = self.now_ms();
        let after = match &request.next_token {
            Some(token) => Some(self.tokens.open_name_page(PageKind::Queues, token, now)?),
            None => None,
        };
        let max = request.max_results.map_or(LIST_QUEUES_LIMIT_DEFAULT, |m| m as usize).max(1);
        let matches_filter = |def: &QueueDef| {
            request.stream_filter.is_empty()
                || request.stream_filter.iter().any(|filter| {
                    self.account().stream_arn(&def.stream_name) == filter.stream_arn
                        && filter.stream_created_ms.is_none_or(|ms| ms == def.stream_created_ms)
                })
        };
        let defs: Vec<QueueDef> = self
            .queues
            .all()
            .iter()
            .map(|q| q.def())
            .filter(|def| !def.gone_at(now))
            .filter(|def| after.as_deref().is_none_or(|after| def.name.as_str() > after))
            .filter(matches_filter)
            .collect();
        let more = defs.len() > max;
        let queues: Vec<QueueInfo> = defs.iter().take(max).map(|def| self.queue_info(def)).collect();
        let next_token = match queues.last() {
            Some(last) if more => Some(self.tokens.seal_page(PageKind::Queues, last.name.as_bytes(), now)),
            _ => None,
        };
        Ok(QueueList { queues, next_token })
    }

    /// UpdateQueue: attributes only; records in flight keep their deadlines.
    pub async fn update_queue(&self, request: UpdateQueue) -> Result<QueueInfo> {
        let queue = self.find_queue(&request.queue_arn)?;
        let def = queue.def();
        let status = self.queue_status(&def);
        if status != QueueStatus::Active {
            return Err(
                QueueError::NotActive { queue: def.name, account: self.account_id(), status: status.as_str() }.into()
            );
        }
        let QueueAttributesRequest { visibility_timeout_secs, dead_letter } = request.attributes;
        let (built_in, max_receive_count) = dead_letter_settings(dead_letter, Some(&def))?;
        let until = (self.config.consumer_ms > 0).then(|| self.now_ms().saturating_add(self.config.consumer_ms));
        let def = self
            .queues
            .update_def(&queue, |def| {
                if let Some(secs) = visibility_timeout_secs {
                    def.visibility_timeout_secs = secs;
                }
                def.dead_letter_built_in = built_in;
                def.max_receive_count = max_receive_count;
                def.updating_until_ms = until;
            })
            .await?;
        Ok(self.queue_info(&def))
    }

    /// DeleteQueue: DELETING for the lifecycle delay, then gone with its state. In-flight
    /// records are not delivered again and its receipt handles stop working at once.
    pub async fn delete_queue(&self, queue_arn: &str) -> Result<()> {
        let _lock = self.catalog.lock().await;
        let queue = self.find_queue(queue_arn)?;
        if queue.def().deleting_until_ms.is_some() {
            return Ok(());
        }
        if self.config.consumer_ms == 0 {
            return self.queues.remove(&queue).await;
        }
        self.check_queues_changing()?;
        let until = self.now_ms().saturating_add(self.config.consumer_ms);
        self.queues.update_def(&queue, |def| def.deleting_until_ms = Some(until)).await?;
        queue.notify.notify_waiters();
        Ok(())
    }

    /// Removes queues whose deletion finished, forgets records their stream no longer
    /// retains, and snapshots queues whose journal grew old. Part of [`Engine::reap`].
    pub(super) async fn reap_queues(&self) -> Result<()> {
        let now = self.now_ms();
        for queue in self.queues.all() {
            let def = queue.def();
            if def.gone_at(now) {
                self.queues.remove(&queue).await?;
                continue;
            }
            let Ok(stream) = self.catalog.resolve_name(&def.stream_name) else { continue };
            let retained_from = now.saturating_sub(stream.meta.retention_ms());
            let mut live = queue.live.lock().await;
            let expired = live.state.arrived_before(retained_from);
            if !expired.is_empty() && !queue.removed() {
                self.queues.journal(&queue, &mut live, vec![Event::Dropped { lsns: expired }]).await?;
            }
        }
        self.queues.maintain().await
    }

    /// Whether an ARN names a queue: TagResource, UntagResource, ListTagsForResource and
    /// the resource-policy calls take queue ARNs too.
    pub(super) fn is_queue_arn(&self, arn: &str) -> bool {
        self.account().queue_resource_id(arn).is_some()
    }

    /// The queue a resource ARN names, with the resource calls' not-found error.
    pub(super) fn find_queue_resource(&self, arn: &str) -> Result<Arc<Queue>> {
        self.find_queue(arn)
            .map_err(|_| ResourceNotFound::Resource { arn: arn.to_owned(), account: self.account_id() }.into())
    }

    /// TagResource on a queue.
    pub(super) async fn tag_queue(&self, arn: &str, tags: BTreeMap<String, String>) -> Result<()> {
        let queue = self.find_queue_resource(arn)?;
        let def = queue.def();
        check_tags(&self.account_id(), &def.name, &tags, &def.tags)?;
        self.queues.update_def(&queue, |def| def.tags.extend(tags)).await?;
        Ok(())
    }

    /// UntagResource on a queue.
    pub(super) async fn untag_queue(&self, arn: &str, keys: &[String]) -> Result<()> {
        let queue = self.find_queue_resource(arn)?;
        self.queues.update_def(&queue, |def| def.tags.retain(|key, _| !keys.contains(key))).await?;
        Ok(())
    }

    /// ListTagsForResource on a queue.
    pub(super) fn queue_tags(&self, arn: &str) -> Result<Vec<Tag>> {
        let def = self.find_queue_resource(arn)?.def();
        Ok(def.tags.into_iter().map(|(key, value)| Tag { key, value }).collect())
    }

    /// PutResourcePolicy (`Some`) or DeleteResourcePolicy (`None`) on a queue.
    pub(super) async fn set_queue_policy(&self, arn: &str, policy: Option<String>) -> Result<()> {
        let queue = self.find_queue_resource(arn)?;
        self.queues.update_def(&queue, |def| def.policy = policy).await?;
        Ok(())
    }

    /// AcknowledgeQueueRecords.
    pub async fn acknowledge_queue_records(&self, request: &QueueHandles) -> Result<QueueEntriesResult> {
        let entries = request.receipt_handles.iter().map(|h| (h.clone(), 0)).collect();
        self.settle(&request.queue_arn, entries, Side::Queue, Settle::Acknowledge).await
    }

    /// AcknowledgeDeadLetterQueueRecords.
    pub async fn acknowledge_dead_letter_records(&self, request: &QueueHandles) -> Result<QueueEntriesResult> {
        let entries = request.receipt_handles.iter().map(|h| (h.clone(), 0)).collect();
        self.settle(&request.queue_arn, entries, Side::DeadLetter, Settle::Acknowledge).await
    }

    /// RestoreDeadLetterQueueRecords: the records become visible on the queue side again
    /// with their receive count reset to 0 (AWS: "resets its receive count"), so they
    /// may be received `MaxReceiveCount` more times before they are dead-letter records
    /// again.
    pub async fn restore_dead_letter_records(&self, request: &QueueHandles) -> Result<QueueEntriesResult> {
        let entries = request.receipt_handles.iter().map(|h| (h.clone(), 0)).collect();
        self.settle(&request.queue_arn, entries, Side::DeadLetter, Settle::Restore).await
    }

    /// UpdateQueueRecordsVisibility.
    pub async fn update_queue_visibility(&self, request: &UpdateQueueVisibility) -> Result<QueueEntriesResult> {
        let entries = request.entries.iter().map(|e| (e.receipt_handle.clone(), e.visibility_timeout_secs)).collect();
        self.settle(&request.queue_arn, entries, Side::Queue, Settle::Visibility).await
    }

    /// UpdateDeadLetterQueueRecordsVisibility.
    pub async fn update_dead_letter_visibility(&self, request: &UpdateQueueVisibility) -> Result<QueueEntriesResult> {
        let entries = request.entries.iter().map(|e| (e.receipt_handle.clone(), e.visibility_timeout_secs)).collect();
        self.settle(&request.queue_arn, entries, Side::DeadLetter, Settle::Visibility).await
    }

    /// The batch calls: checks each handle (this queue, this side, the record's current
    /// delivery), journals what the valid ones do as one record, and reports each entry.
    async fn settle(
        &self,
        queue_arn: &str,
        entries: Vec<(String, u32)>,
        side: Side,
        action: Settle,
    ) -> Result<QueueEntriesResult> {
        let queue = self.find_queue(queue_arn)?;
        let def = queue.def();
        let mut live = queue.live.lock().await;
        let deleting = def.deleting_until_ms.is_some() || queue.removed();
        let now = self.now_ms();
        live.state.expire(now, def.dead_letter_rule());
        let mut result = QueueEntriesResult::default();
        let mut valid = Vec::new();
        for (handle, secs) in entries {
            let checked = match Receipt::open(self.queues.key(), &handle) {
                Some(receipt) if !deleting && receipt.queue == queue.storage_id && receipt.side == side => {
                    match live.state.entry(receipt.lsn) {
                        None => Err(QueueEntryError::RecordGone),
                        Some(entry)
                            if entry.generation != receipt.generation || entry.dead != (side == Side::DeadLetter) =>
                        {
                            Err(QueueEntryError::HandleExpired)
                        }
                        Some(entry) if action == Settle::Visibility && entry.deadline_ms.is_none() => {
                            Err(QueueEntryError::HandleExpired)
                        }
                        Some(_) => Ok(receipt.lsn),
                    }
                }
                _ => Err(QueueEntryError::HandleInvalid),
            };
            match checked {
                Ok(lsn) => {
                    valid.push((lsn, secs));
                    result.successful.push(handle);
                }
                Err(error) => result.failed.push(QueueEntryFailure { receipt_handle: handle, error }),
            }
        }
        let lsns = || valid.iter().map(|(lsn, _)| *lsn).collect();
        let events = match action {
            _ if valid.is_empty() => Vec::new(),
            Settle::Acknowledge => vec![Event::Acknowledged { lsns: lsns() }],
            Settle::Restore => vec![Event::Restored { lsns: lsns() }],
            Settle::Visibility => valid
                .iter()
                .map(|&(lsn, secs)| Event::Visibility { lsn, deadline_ms: now.saturating_add(u64::from(secs) * 1000) })
                .collect(),
        };
        self.queues.journal(&queue, &mut live, events).await?;
        Ok(result)
    }
}

/// The dead-letter settings a request asks for: BUILT_IN needs `MaxReceiveCount`; none
/// at all means AWS's default (BUILT_IN, 6) at creation, or no change on update.
fn dead_letter_settings(request: Option<DeadLetterRequest>, current: Option<&QueueDef>) -> Result<(bool, Option<u32>)> {
    match request {
        None => Ok(current.map_or((true, Some(QUEUE_MAX_RECEIVE_COUNT_DEFAULT)), |def| {
            (def.dead_letter_built_in, def.max_receive_count)
        })),
        Some(DeadLetterRequest { target: DeadLetterTarget::BuiltIn, max_receive_count: Some(count) }) => {
            Ok((true, Some(count)))
        }
        Some(DeadLetterRequest { target: DeadLetterTarget::BuiltIn, max_receive_count: None }) => {
            Err(QueueError::MaxReceiveCountMissing.into())
        }
        Some(DeadLetterRequest { target: DeadLetterTarget::None, .. }) => Ok((false, None)),
    }
}

/// A queue ARN's generated resource id: 20 lowercase letters and digits.
fn random_resource_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..20).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect()
}
