//! The queue operations: CreateQueue, DescribeQueue, ListQueues, UpdateQueue,
//! DeleteQueue, and the record operations of both sides (receive, acknowledge, change
//! visibility; restore for dead-letter records). The component is
//! [`crate::queues::Queues`]; the rules are in its modules.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rheo_storage::{SequenceNumber, StorageError, StoredRecord};

use super::Engine;
use crate::error::{LimitExceeded, ResourceNotFound, Result};
use crate::limits::{
    LIST_QUEUES_LIMIT_DEFAULT, QUEUES_CHANGING_MAX, QUEUE_FETCH_BYTES_MAX, QUEUE_FETCH_RECORDS_MAX,
    QUEUE_IN_FLIGHT_MAX, QUEUE_MAX_RECEIVE_COUNT_DEFAULT, QUEUE_RECEIVE_LIMIT_MAX, QUEUE_TRACKED_MAX,
    QUEUE_VISIBILITY_TIMEOUT_SECS_DEFAULT,
};
use crate::model::{StreamMode, StreamRef, StreamStatus, Tag};
use crate::queues::error::QueueError;
use crate::queues::model::{
    CreateQueue, DeadLetterRequest, DeadLetterTarget, ListQueues, QueueAttributesRequest, QueueEntriesResult,
    QueueEntryError, QueueEntryFailure, QueueHandles, QueueInfo, QueueList, QueueRecord, QueueStart, QueueStartKind,
    QueueStatus, QueueStreamInfo, ReceiveQueueRecords, UpdateQueue, UpdateQueueVisibility,
};
use crate::queues::receipt::Receipt;
use crate::queues::state::{Event, Fetched, QueueState, Side};
use crate::queues::stored::{QueueDef, FORMAT_VERSION};
use crate::queues::{Live, Queue};
use crate::reader::{ReaderStart, StreamReader, StreamReaderRequest};
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
    fn queue_status(&self, def: &QueueDef) -> QueueStatus {
        let now = self.now_ms();
        if def.deleting_until_ms.is_some() {
            QueueStatus::Deleting
        } else if now < def.created_ms.saturating_add(self.config.consumer_ms) {
            QueueStatus::Creating
        } else if def.updating_until_ms.is_some_and(|until| now < until) {
            QueueStatus::Updating
        } else {
            QueueStatus::Active
        }
    }

    fn queue_info(&self, def: &QueueDef) -> QueueInfo {
        QueueInfo {
            name: def.name.clone(),
            arn: self.account().queue_arn(&def.resource_id),
            status: self.queue_status(def),
            created_ms: def.created_ms,
            stream: QueueStreamInfo {
                stream_arn: self.account().stream_arn(&def.stream_name),
                stream_created_ms: def.stream_created_ms,
                start: def.start.into(),
            },
            attributes: def.attributes(),
        }
    }

    /// The queue an ARN names; a queue whose deletion finished is gone even before the
    /// reaper removed it.
    fn find_queue(&self, arn: &str) -> Result<Arc<Queue>> {
        let not_found = || QueueError::NotFound { queue: arn.to_owned(), account: self.account_id() };
        let queue = self
            .account()
            .queue_resource_id(arn)
            .and_then(|id| self.queues.by_resource_id(id))
            .ok_or_else(not_found)?;
        let now = self.now_ms();
        if queue.def().deleting_until_ms.is_some_and(|until| now >= until) {
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
        self.queues.count_on_stream(stream_name)
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

    /// CreateQueue.
    pub async fn create_queue(self: &Arc<Self>, request: CreateQueue) -> Result<QueueInfo> {
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
        let start = match stream.start {
            None => QueueStart::Latest,
            Some(start) => match start.kind {
                QueueStartKind::TrimHorizon => QueueStart::TrimHorizon,
                QueueStartKind::Latest => QueueStart::Latest,
                QueueStartKind::AtTimestamp => {
                    QueueStart::AtTimestamp(start.timestamp_ms.ok_or(QueueError::TimestampMissing)?)
                }
            },
        };
        let reader_start = match start {
            QueueStart::TrimHorizon => ReaderStart::TrimHorizon,
            QueueStart::Latest => ReaderStart::Latest,
            QueueStart::AtTimestamp(ms) => ReaderStart::AtTimestamp(ms),
        };
        let reader =
            self.stream_reader(StreamReaderRequest { stream_name: snapshot.name().to_owned(), start: reader_start })?;
        let mut resource_id = random_resource_id();
        while self.queues.by_resource_id(&resource_id).is_some() {
            resource_id = random_resource_id();
        }
        let def = QueueDef {
            version: FORMAT_VERSION,
            name,
            resource_id,
            created_ms: self.now_ms(),
            stream_name: snapshot.name().to_owned(),
            stream_created_ms: snapshot.meta.created_ms,
            start: start.into(),
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
        let queue = self.queues.create(def, QueueState::new(reader.checkpoint())).await?;
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
            .filter(|def| def.deleting_until_ms.is_none_or(|until| now < until))
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
        let (built_in, max_receive_count) = match dead_letter {
            Some(_) => dead_letter_settings(dead_letter, Some(&def))?,
            None => (def.dead_letter_built_in, def.max_receive_count),
        };
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
            if def.deleting_until_ms.is_some_and(|until| now >= until) {
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

    /// ReceiveQueueRecords.
    pub async fn receive_queue_records(self: &Arc<Self>, request: &ReceiveQueueRecords) -> Result<Vec<QueueRecord>> {
        self.receive(request, Side::Queue).await
    }

    /// ReceiveDeadLetterQueueRecords.
    pub async fn receive_dead_letter_records(
        self: &Arc<Self>,
        request: &ReceiveQueueRecords,
    ) -> Result<Vec<QueueRecord>> {
        self.receive(request, Side::DeadLetter).await
    }

    /// Receives up to `limit` visible records of `side`, waiting up to `wait_ms` for one.
    /// The wait is event-driven: it wakes when the queue changes (a fetch, an
    /// acknowledgement, a visibility change, a restore, deletion), when the next in-flight
    /// deadline or the queue's activation is due, or when the stream gains records.
    async fn receive(self: &Arc<Self>, request: &ReceiveQueueRecords, side: Side) -> Result<Vec<QueueRecord>> {
        let queue = self.find_queue(&request.queue_arn)?;
        let limit = request.limit.unwrap_or(QUEUE_RECEIVE_LIMIT_MAX).clamp(1, QUEUE_RECEIVE_LIMIT_MAX) as usize;
        let wait_end = tokio::time::Instant::now() + Duration::from_millis(request.wait_ms);
        loop {
            let def = queue.def();
            let mut live = queue.live.lock().await;
            if queue.removed() {
                return Ok(Vec::new());
            }
            // Enabled before the lock is released, so no change after this look is missed.
            let notified = queue.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = self.now_ms();
            let mut reader = None;
            let mut records = Vec::new();
            let wake_at_ms = match self.queue_status(&def) {
                QueueStatus::Deleting => return Ok(Vec::new()),
                QueueStatus::Creating => Some(def.created_ms.saturating_add(self.config.consumer_ms)),
                QueueStatus::Active | QueueStatus::Updating => {
                    live.state.expire(now, def.dead_letter_rule());
                    if side == Side::Queue {
                        reader = self.fetch(&queue, &mut live, &def, limit).await?;
                    }
                    records = self.deliver(&queue, &mut live, &def, side, limit, request, now).await?;
                    live.state.next_deadline()
                }
            };
            drop(live);
            let now_instant = tokio::time::Instant::now();
            if !records.is_empty() || now_instant >= wait_end {
                return Ok(records);
            }
            let due = wake_at_ms.map(|at| now_instant + Duration::from_millis(at.saturating_sub(now).max(1)));
            let sleep_until = due.map_or(wait_end, |due| due.min(wait_end));
            let stream_grows = async {
                match reader.as_mut() {
                    Some(reader) => reader.wait().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(sleep_until) => {}
                () = stream_grows => {}
            }
        }
    }

    /// Reads further into the queue's stream when fewer than `limit` records are visible
    /// and the queue has room, and journals what it read. Returns the reader when it
    /// caught up with the stream, for a receive to wait on.
    async fn fetch(
        self: &Arc<Self>,
        queue: &Queue,
        live: &mut Live,
        def: &QueueDef,
        limit: usize,
    ) -> Result<Option<StreamReader>> {
        let room = QUEUE_TRACKED_MAX.saturating_sub(live.state.tracked());
        if live.state.visible_count(Side::Queue) >= limit || room == 0 || live.state.in_flight() >= QUEUE_IN_FLIGHT_MAX
        {
            return Ok(None);
        }
        let want = room.min(QUEUE_FETCH_RECORDS_MAX);
        let start = ReaderStart::Checkpoint(live.state.checkpoint().clone());
        let mut reader = self.stream_reader(StreamReaderRequest { stream_name: def.stream_name.clone(), start })?;
        let mut records = Vec::new();
        let mut caught_up = false;
        while records.len() < want {
            let Some(batch) = reader.next_batch(want - records.len(), QUEUE_FETCH_BYTES_MAX)? else {
                caught_up = true;
                break;
            };
            records.extend(batch.records.iter().map(|record| Fetched {
                lsn: record.sequence_number.lsn,
                shard_uid: batch.position.shard_uid,
                shard_index: batch.shard_index,
                shard_created_secs: record.sequence_number.shard_created_secs,
                arrival_ms: record.arrival_ms,
            }));
        }
        let checkpoint = reader.checkpoint();
        if !records.is_empty() || checkpoint != *live.state.checkpoint() {
            self.queues.journal(queue, live, vec![Event::Fetched { records, checkpoint }]).await?;
        }
        Ok(caught_up.then_some(reader))
    }

    /// Hands out up to `limit` visible records of `side`: reads each back from the stream
    /// (forgetting those the stream no longer retains), journals the receive, and returns
    /// them with their new receipt handles.
    #[allow(clippy::too_many_arguments)]
    async fn deliver(
        &self,
        queue: &Queue,
        live: &mut Live,
        def: &QueueDef,
        side: Side,
        limit: usize,
        request: &ReceiveQueueRecords,
        now: u64,
    ) -> Result<Vec<QueueRecord>> {
        let limit = match side {
            Side::Queue => limit.min(QUEUE_IN_FLIGHT_MAX.saturating_sub(live.state.in_flight())),
            Side::DeadLetter => limit,
        };
        let mut found = Vec::new();
        let mut gone = Vec::new();
        for lsn in live.state.visible(side, limit) {
            let Some(entry) = live.state.entry(lsn) else { continue };
            match self.read_stream_record(entry.shard_uid, lsn)? {
                Some(record) => found.push(record),
                None => gone.push(lsn),
            }
        }
        let secs = request.visibility_timeout_secs.unwrap_or(def.visibility_timeout_secs);
        let deadline_ms = now.saturating_add(u64::from(secs) * 1000);
        let mut events = Vec::new();
        if !gone.is_empty() {
            events.push(Event::Dropped { lsns: gone });
        }
        if !found.is_empty() {
            events.push(Event::Received {
                lsns: found.iter().map(|r| r.lsn).collect(),
                side,
                now_ms: now,
                deadline_ms,
            });
        }
        self.queues.journal(queue, live, events).await?;
        let key = self.queues.key();
        let records = found
            .into_iter()
            .filter_map(|record| {
                let entry = live.state.entry(record.lsn)?;
                let receipt = Receipt { side, queue: queue.storage_id, lsn: record.lsn, generation: entry.generation };
                Some(QueueRecord {
                    receipt_handle: receipt.seal(key),
                    record_id: SequenceNumber {
                        shard_created_secs: entry.shard_created_secs,
                        shard_index: entry.shard_index,
                        lsn: record.lsn,
                        arrival_secs: record.arrival_ms / 1000,
                    },
                    partition_key: record.partition_key,
                    data: record.data,
                    arrival_ms: record.arrival_ms,
                    first_receive_ms: entry.first_receive_ms.unwrap_or(now),
                    receive_count: entry.receive_count,
                })
            })
            .collect();
        Ok(records)
    }

    /// The stream record with exactly this LSN; `None` when the stream no longer has it.
    fn read_stream_record(&self, shard_uid: u64, lsn: u64) -> Result<Option<StoredRecord>> {
        let max_bytes = rheo_storage::limits::RECORD_DATA_BYTES_MAX + rheo_storage::limits::PARTITION_KEY_BYTES_MAX;
        match self.log().read(shard_uid, lsn, 1, max_bytes) {
            Ok(batch) => Ok(batch.records.into_iter().next().filter(|record| record.lsn == lsn)),
            Err(StorageError::ShardNotFound { .. }) => Ok(None),
            Err(other) => Err(other.into()),
        }
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
        let mut lsns = Vec::new();
        let mut events = Vec::new();
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
                    match action {
                        Settle::Visibility => events
                            .push(Event::Visibility { lsn, deadline_ms: now.saturating_add(u64::from(secs) * 1000) }),
                        Settle::Acknowledge | Settle::Restore => lsns.push(lsn),
                    }
                    result.successful.push(handle);
                }
                Err(error) => result.failed.push(QueueEntryFailure { receipt_handle: handle, error }),
            }
        }
        if !lsns.is_empty() {
            events.push(match action {
                Settle::Restore => Event::Restored { lsns },
                Settle::Acknowledge | Settle::Visibility => Event::Acknowledged { lsns },
            });
        }
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
