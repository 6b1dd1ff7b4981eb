//! Per-shard queues of one stream: the open aggregate, the Kinesis records ready to send,
//! the rate limiter, and the choice of what the next `PutRecords` carries.

use std::collections::VecDeque;

use bytes::Bytes;
use tokio::time::Instant;

use crate::producer::backoff::{backoff, RandomSource};
use crate::producer::config::{ProducerConfig, ShardRateLimit};
use crate::producer::rate_limit::TokenBuckets;
use crate::producer::record::{aggregated_size, UserEntry, AGGREGATE_FRAMING_BYTES};
use crate::producer::IDLE_TICK;
use crate::shards::ShardMap;

/// A call carrying this fraction of the record or byte limit is worth making without
/// waiting for more: requests for different shards then run side by side (a shard has one
/// at a time), while small records of many shards still share a call.
const SHARD_BATCH_FRACTION: usize = 4;

fn enough_for_a_call(config: &ProducerConfig, records: usize, bytes: usize) -> bool {
    records >= config.put_records_max_records / SHARD_BATCH_FRACTION
        || bytes >= config.put_records_max_bytes / SHARD_BATCH_FRACTION
}

/// One Kinesis record on its way: a lone user record, or an aggregate of several.
#[derive(Debug)]
pub(crate) struct KinesisRecord {
    /// The shard the map predicts it goes to.
    pub shard_id: String,
    pub partition_key: String,
    pub explicit_hash_key: Option<u128>,
    pub entries: Vec<UserEntry>,
    pub aggregated: bool,
    /// Data and partition key bytes (an upper bound for an aggregate not yet encoded).
    size: usize,
    data: Option<Bytes>,
    /// When its oldest user record was put.
    since: Instant,
    /// The earliest deadline of its user records: like the KPL, a Kinesis record expires
    /// whole, so the live records of a shard never overtake each other.
    deadline: Instant,
    not_before: Instant,
    /// Set when its user records must be routed again rather than resent as they are.
    pub regroup: bool,
}

impl KinesisRecord {
    fn single(shard_id: String, entry: UserEntry) -> Self {
        KinesisRecord {
            shard_id,
            partition_key: entry.partition_key.clone(),
            explicit_hash_key: entry.routing.explicit_hash_key.as_ref().map(|_| entry.routing.hash),
            size: entry.data.len() + entry.partition_key.len(),
            data: Some(entry.data.clone()),
            since: entry.arrived,
            deadline: entry.deadline,
            not_before: entry.arrived,
            aggregated: false,
            entries: vec![entry],
            regroup: false,
        }
    }

    /// An aggregate put under its first record's partition key with that record's hash
    /// as explicit hash key: inside the shard every one of its records hashes into.
    fn aggregate(shard_id: String, open: OpenAggregate) -> Self {
        let first = &open.entries[0];
        let deadline = open.entries.iter().map(|e| e.deadline).min().unwrap_or(open.since);
        KinesisRecord {
            deadline,
            shard_id,
            partition_key: first.partition_key.clone(),
            explicit_hash_key: Some(first.routing.hash),
            size: open.bytes + first.partition_key.len(),
            data: None,
            since: open.since,
            not_before: open.since,
            aggregated: true,
            entries: open.entries,
            regroup: false,
        }
    }

    /// Its data, encoding the aggregate on first use (outside the queues' lock).
    pub fn encoded(&mut self) -> Bytes {
        match &self.data {
            Some(data) => data.clone(),
            None => {
                let data = Bytes::from(rheo_aws::kpl::aggregate(&self.entries));
                self.data = Some(data.clone());
                data
            }
        }
    }

    /// Data and partition key bytes as sent.
    pub fn wire_bytes(&self) -> usize {
        self.data.as_ref().map_or(self.size, |d| d.len() + self.partition_key.len())
    }

    /// Notes `error` on each of its user records (reported if they expire).
    pub fn with_error(mut self, error: String) -> Self {
        for entry in &mut self.entries {
            entry.last_error = Some(error.clone());
        }
        self
    }
}

/// User records sharing one shard's next aggregate.
#[derive(Debug)]
struct OpenAggregate {
    entries: Vec<UserEntry>,
    /// Upper bound of the aggregate's data bytes.
    bytes: usize,
    since: Instant,
}

#[derive(Debug)]
struct ShardQueue {
    shard_id: String,
    starting_hash_key: u128,
    ending_hash_key: u128,
    open: Option<OpenAggregate>,
    ready: VecDeque<KinesisRecord>,
    ready_bytes: usize,
    buckets: Option<TokenBuckets>,
    /// A `PutRecords` with records of this shard is unanswered.
    in_flight: bool,
}

impl ShardQueue {
    fn push_ready(&mut self, record: KinesisRecord) {
        self.ready_bytes += record.size;
        self.ready.push_back(record);
    }

    fn pop_ready(&mut self) -> Option<KinesisRecord> {
        let record = self.ready.pop_front()?;
        self.ready_bytes -= record.size;
        Some(record)
    }

    fn close_aggregate(&mut self) {
        if let Some(open) = self.open.take() {
            let record = if open.entries.len() == 1 {
                match open.entries.into_iter().next() {
                    Some(entry) => KinesisRecord::single(self.shard_id.clone(), entry),
                    None => return,
                }
            } else {
                KinesisRecord::aggregate(self.shard_id.clone(), open)
            };
            self.push_ready(record);
        }
    }

    /// Gives back every user record it holds.
    fn drain(self) -> impl Iterator<Item = UserEntry> {
        self.open.into_iter().flat_map(|o| o.entries).chain(self.ready.into_iter().flat_map(|r| r.entries))
    }
}

/// What one stream should do next.
#[derive(Debug)]
pub(crate) struct Plan {
    pub batches: Vec<Batch>,
    pub expired: Vec<UserEntry>,
    pub reload: bool,
    pub wake_at: Instant,
}

/// The records of one `PutRecords`.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub records: Vec<KinesisRecord>,
    /// The shards it holds records of (each now has a request in flight).
    pub shards: Vec<String>,
}

/// The queues of one stream's open shards, in hash-key order.
#[derive(Debug)]
pub(crate) struct StreamQueues {
    shards: Vec<ShardQueue>,
    /// Records no open shard of the map takes, or that must be routed again, waiting for
    /// the map to be read again.
    unrouted: Vec<UserEntry>,
    rate_limit: Option<ShardRateLimit>,
    reload_wanted: bool,
    reloading: bool,
    reload_not_before: Instant,
    /// Where the next batch starts looking, so no shard is always last.
    cursor: usize,
    /// No user record it holds expires before this: the queues are scanned for expired
    /// records only from then on, whatever the free request slots.
    expiry_check_at: Instant,
}

impl StreamQueues {
    pub fn new(map: ShardMap, rate_limit: Option<ShardRateLimit>, now: Instant) -> Self {
        let mut queues = StreamQueues {
            shards: Vec::new(),
            unrouted: Vec::new(),
            rate_limit,
            reload_wanted: false,
            reloading: false,
            reload_not_before: now,
            cursor: 0,
            expiry_check_at: now,
        };
        queues.shards = queues.queues_of(&map, now, Vec::new());
        queues
    }

    fn queues_of(&self, map: &ShardMap, now: Instant, mut old: Vec<ShardQueue>) -> Vec<ShardQueue> {
        let mut shards: Vec<ShardQueue> = map
            .open_shards()
            .map(|info| match old.iter().position(|q| q.shard_id == info.shard_id) {
                Some(i) => old.swap_remove(i),
                None => ShardQueue {
                    shard_id: info.shard_id.clone(),
                    starting_hash_key: info.starting_hash_key,
                    ending_hash_key: info.ending_hash_key,
                    open: None,
                    ready: VecDeque::new(),
                    ready_bytes: 0,
                    buckets: self.rate_limit.map(|limit| TokenBuckets::new(limit, now)),
                    in_flight: false,
                },
            })
            .collect();
        shards.sort_by_key(|q| q.starting_hash_key);
        shards
    }

    fn route(&self, hash: u128) -> Option<usize> {
        let i = self.shards.partition_point(|q| q.starting_hash_key <= hash).checked_sub(1)?;
        (hash <= self.shards[i].ending_hash_key).then_some(i)
    }

    /// Queues a user record; true when the sender should look again.
    pub fn add(&mut self, entry: UserEntry, config: &ProducerConfig, now: Instant) -> bool {
        self.expiry_check_at = self.expiry_check_at.min(entry.deadline);
        let Some(i) = self.route(entry.routing.hash) else {
            self.unrouted.push(entry);
            self.reload_wanted = true;
            return true;
        };
        let shard = &mut self.shards[i];
        let ehk = entry.routing.explicit_hash_key.as_deref();
        let alone_size = AGGREGATE_FRAMING_BYTES
            + aggregated_size(&entry.partition_key, ehk, entry.data.len(), 0)
            + entry.partition_key.len();
        if !config.aggregation || alone_size > config.aggregation_max_bytes {
            // Too big to share an aggregate: it goes alone, after the shard's aggregate so
            // the shard's records stay in put order.
            shard.close_aggregate();
            shard.push_ready(KinesisRecord::single(shard.shard_id.clone(), entry));
            return true;
        }
        let mut wake = false;
        let mut added = None;
        if let Some(open) = &shard.open {
            let size = aggregated_size(&entry.partition_key, ehk, entry.data.len(), open.entries.len());
            let first_key = open.entries.first().map_or(0, |e| e.partition_key.len());
            if open.entries.len() >= config.aggregation_max_records
                || open.bytes + size + first_key > config.aggregation_max_bytes
            {
                shard.close_aggregate();
                wake = true;
            } else {
                added = Some(size);
            }
        }
        match (&mut shard.open, added) {
            (Some(open), Some(size)) => {
                open.bytes += size;
                open.entries.push(entry);
            }
            _ => {
                let bytes = AGGREGATE_FRAMING_BYTES + aggregated_size(&entry.partition_key, ehk, entry.data.len(), 0);
                shard.open = Some(OpenAggregate { entries: vec![entry], bytes, since: now });
                wake = true;
            }
        }
        wake
    }

    /// Closes aggregates past their linger, fails expired records, and fills up to
    /// `free_slots` batches if a batch is due (full, lingered, or flushing).
    pub fn plan(&mut self, config: &ProducerConfig, now: Instant, flushing: bool, free_slots: usize) -> Plan {
        let mut plan = Plan { batches: Vec::new(), expired: Vec::new(), reload: false, wake_at: now + IDLE_TICK };
        if self.reload_wanted && !self.reloading {
            if now >= self.reload_not_before {
                self.reloading = true;
                self.reload_wanted = false;
                plan.reload = true;
            } else {
                plan.wake_at = plan.wake_at.min(self.reload_not_before);
            }
        }
        for shard in &mut self.shards {
            if let Some(open) = &shard.open {
                if flushing || now >= open.since + config.linger {
                    shard.close_aggregate();
                } else {
                    plan.wake_at = plan.wake_at.min(open.since + config.linger);
                }
            }
        }
        if now >= self.expiry_check_at {
            self.expiry_check_at = self.expire(now, config.record_ttl, &mut plan.expired);
        }
        plan.wake_at = plan.wake_at.min(self.expiry_check_at);
        while plan.batches.len() < free_slots {
            if !self.batch_due(config, now, flushing, &mut plan.wake_at) {
                break;
            }
            let batch = self.fill_batch(config, now, &mut plan);
            if batch.records.is_empty() {
                break;
            }
            plan.batches.push(batch);
        }
        plan
    }

    /// Moves every user record past its deadline to `expired`, a whole Kinesis record (or
    /// open aggregate) at a time, and returns the earliest deadline left. Records in
    /// flight are not here; they are checked when they come back.
    fn expire(&mut self, now: Instant, ttl: std::time::Duration, expired: &mut Vec<UserEntry>) -> Instant {
        // Records put from now on expire no earlier than this.
        let mut next = now + ttl;
        if !self.unrouted.is_empty() {
            let (gone, waiting): (Vec<_>, Vec<_>) =
                std::mem::take(&mut self.unrouted).into_iter().partition(|e| e.deadline <= now);
            expired.extend(gone);
            next = waiting.iter().map(|e| e.deadline).fold(next, Instant::min);
            self.unrouted = waiting;
        }
        for shard in &mut self.shards {
            if let Some(open) = &shard.open {
                let oldest = open.entries.iter().map(|e| e.deadline).fold(next, Instant::min);
                if oldest <= now {
                    expired.extend(shard.open.take().into_iter().flat_map(|o| o.entries));
                } else {
                    next = oldest;
                }
            }
            if shard.ready.iter().any(|r| r.deadline <= now) {
                let ready = std::mem::take(&mut shard.ready);
                shard.ready_bytes = 0;
                for record in ready {
                    if record.deadline <= now {
                        expired.extend(record.entries);
                    } else {
                        shard.push_ready(record);
                    }
                }
            }
            next = shard.ready.iter().map(|r| r.deadline).fold(next, Instant::min);
        }
        next
    }

    /// True when shards without a request in flight hold a full batch, a shard's worth of
    /// one ([`SHARD_BATCH_FRACTION`]), or a record that has lingered long enough.
    fn batch_due(&self, config: &ProducerConfig, now: Instant, flushing: bool, wake_at: &mut Instant) -> bool {
        let (mut records, mut bytes, mut due) = (0, 0, false);
        for shard in self.shards.iter().filter(|s| !s.in_flight) {
            let Some(front) = shard.ready.front() else { continue };
            records += shard.ready.len();
            bytes += shard.ready_bytes;
            let lingered = front.since + config.linger;
            if flushing || lingered <= now || enough_for_a_call(config, shard.ready.len(), shard.ready_bytes) {
                due = true;
            } else {
                *wake_at = (*wake_at).min(lingered);
            }
        }
        due || records >= config.put_records_max_records || bytes >= config.put_records_max_bytes
    }

    fn fill_batch(&mut self, config: &ProducerConfig, now: Instant, plan: &mut Plan) -> Batch {
        let mut batch = Batch::default();
        let mut bytes = 0;
        let count = self.shards.len();
        for k in 0..count {
            let shard = &mut self.shards[(self.cursor + k) % count];
            if shard.in_flight {
                continue;
            }
            let mut took = false;
            while let Some(front) = shard.ready.front() {
                if front.deadline <= now {
                    // Expired since the last scan: the next scan fails it, in its turn.
                    self.expiry_check_at = self.expiry_check_at.min(front.deadline);
                    plan.wake_at = plan.wake_at.min(front.deadline);
                    break;
                }
                if front.not_before > now {
                    plan.wake_at = plan.wake_at.min(front.not_before);
                    break;
                }
                if batch.records.len() >= config.put_records_max_records
                    || bytes + front.size > config.put_records_max_bytes
                {
                    break;
                }
                if let Some(buckets) = &mut shard.buckets {
                    if !buckets.try_take(front.size, now) {
                        plan.wake_at = plan.wake_at.min(buckets.ready_at(front.size, now));
                        break;
                    }
                }
                let Some(record) = shard.pop_ready() else { break };
                bytes += record.size;
                batch.records.push(record);
                took = true;
            }
            if took {
                shard.in_flight = true;
                batch.shards.push(shard.shard_id.clone());
                if enough_for_a_call(config, batch.records.len(), bytes) {
                    // The other shards' records go in calls of their own, made at once.
                    break;
                }
            }
        }
        if count > 0 {
            self.cursor = (self.cursor + 1) % count;
        }
        batch
    }

    /// The request holding records of `shards` is answered.
    pub fn request_done(&mut self, shards: &[String]) {
        for shard in self.shards.iter_mut().filter(|s| shards.contains(&s.shard_id)) {
            shard.in_flight = false;
        }
    }

    /// Puts records back at the front of their shards' queues after a back-off, or routes
    /// their user records again when they must be regrouped or their shard is gone.
    pub fn retry(
        &mut self,
        records: Vec<KinesisRecord>,
        error: String,
        config: &ProducerConfig,
        random: &dyn RandomSource,
        now: Instant,
    ) {
        for mut record in records.into_iter().rev() {
            self.expiry_check_at = self.expiry_check_at.min(record.deadline);
            if !error.is_empty() {
                record = record.with_error(error.clone());
            }
            if record.regroup {
                self.unrouted.extend(record.entries);
                self.reload_wanted = true;
                continue;
            }
            match self.shards.iter_mut().find(|s| s.shard_id == record.shard_id) {
                Some(shard) => {
                    let attempts = record.entries.first().map_or(1, |e| e.attempts);
                    record.not_before =
                        now + backoff(config.retry_base_delay, config.retry_max_delay, attempts, random);
                    shard.ready_bytes += record.size;
                    shard.ready.push_front(record);
                }
                None => {
                    for entry in record.entries {
                        self.add(entry, config, now);
                    }
                }
            }
        }
    }

    /// Gives back every user record the stream holds (when the producer stops).
    pub fn drain(self) -> impl Iterator<Item = UserEntry> {
        self.shards.into_iter().flat_map(ShardQueue::drain).chain(self.unrouted)
    }

    /// The hash-key range of an open shard of the current map.
    pub fn shard_range(&self, shard_id: &str) -> Option<(u128, u128)> {
        self.shards.iter().find(|q| q.shard_id == shard_id).map(|q| (q.starting_hash_key, q.ending_hash_key))
    }

    /// Asks for the shard map to be read again.
    pub fn request_reload(&mut self) {
        self.reload_wanted = true;
    }

    /// The reload failed; try again from `not_before`.
    pub fn reload_failed(&mut self, not_before: Instant) {
        self.reloading = false;
        self.reload_wanted = true;
        self.reload_not_before = not_before;
    }

    /// Swaps in a freshly read map: queues of shards still open are kept, the records of
    /// the others (and the unrouted ones) are routed again.
    pub fn replace_map(&mut self, map: ShardMap, config: &ProducerConfig, now: Instant) {
        self.reloading = false;
        let old = std::mem::take(&mut self.shards);
        let (kept, gone): (Vec<_>, Vec<_>) =
            old.into_iter().partition(|q| map.get(&q.shard_id).is_some_and(|info| info.is_open()));
        self.shards = self.queues_of(&map, now, kept);
        self.cursor = 0;
        let again: Vec<UserEntry> =
            gone.into_iter().flat_map(ShardQueue::drain).chain(std::mem::take(&mut self.unrouted)).collect();
        for entry in again {
            self.add(entry, config, now);
        }
        if !self.unrouted.is_empty() {
            // Still unroutable (the map lags the resharding): ask again after a pause.
            self.reload_not_before = now + config.retry_base_delay;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use rheo_protocol::SequenceNumber;
    use tokio::sync::{oneshot, Semaphore};

    use super::*;
    use crate::producer::backoff::ThreadRandom;
    use crate::producer::error::ProducerError;
    use crate::producer::record::validate;
    use crate::producer::{Progress, PutOutcome, Ticket};
    use crate::shards::ShardInfo;

    type Reply = oneshot::Receiver<Result<PutOutcome, ProducerError>>;

    fn shard(id: &str, start: u128, end: u128) -> ShardInfo {
        ShardInfo {
            shard_id: id.into(),
            parent_shard_id: None,
            adjacent_parent_shard_id: None,
            starting_hash_key: start,
            ending_hash_key: end,
            starting_sequence_number: SequenceNumber::parse("1").unwrap(),
            ending_sequence_number: None,
        }
    }

    fn two_shards() -> ShardMap {
        let half = u128::MAX / 2;
        ShardMap::new(vec![shard("shardId-1", half + 1, u128::MAX), shard("shardId-0", 0, half)])
    }

    struct Entries {
        progress: Arc<Progress>,
        bytes: Arc<Semaphore>,
        ttl: Duration,
    }

    impl Entries {
        fn new() -> Self {
            Entries { progress: Arc::default(), bytes: Arc::new(Semaphore::new(1 << 30)), ttl: Duration::from_secs(30) }
        }

        fn entry(&self, key: &str, data_len: usize, now: Instant) -> (UserEntry, Reply) {
            let (reply, receiver) = oneshot::channel();
            let entry = UserEntry {
                partition_key: key.into(),
                routing: validate(key, None, &vec![0; data_len]).unwrap(),
                data: Bytes::from(vec![b'd'; data_len]),
                arrived: now,
                deadline: now + self.ttl,
                attempts: 0,
                last_error: None,
                reply,
                _ticket: Ticket::new(&self.progress),
                _permit: Arc::clone(&self.bytes).try_acquire_many_owned(1).unwrap(),
            };
            (entry, receiver)
        }
    }

    impl Entries {
        /// Adds `count` records of `data_len` bytes under keys `k0`, `k1`, …
        fn add_keys(
            &self,
            queues: &mut StreamQueues,
            config: &ProducerConfig,
            count: usize,
            data_len: usize,
            now: Instant,
        ) -> Vec<Reply> {
            let mut replies = Vec::new();
            for i in 0..count {
                let (entry, reply) = self.entry(&format!("k{i}"), data_len, now);
                queues.add(entry, config, now);
                replies.push(reply);
            }
            replies
        }
    }

    fn unpaced() -> ProducerConfig {
        ProducerConfig { rate_limit: None, ..ProducerConfig::default() }
    }

    /// Plans with the linger skipped, answering each batch (so shards are free again),
    /// until nothing is left.
    fn drain(queues: &mut StreamQueues, config: &ProducerConfig, now: Instant) -> Vec<Batch> {
        let mut all = Vec::new();
        for _ in 0..10_000 {
            let plan = queues.plan(config, now, true, 4);
            if plan.batches.is_empty() {
                break;
            }
            for batch in plan.batches {
                queues.request_done(&batch.shards);
                all.push(batch);
            }
        }
        all
    }

    #[test]
    fn records_are_grouped_per_shard_and_aggregates_stay_inside_their_shard() {
        let now = Instant::now();
        let map = two_shards();
        let config = unpaced();
        let mut queues = StreamQueues::new(map.clone(), None, now);
        let entries = Entries::new();
        let mut replies = Vec::new();
        for i in 0..300 {
            let (entry, reply) = entries.entry(&format!("key-{}", i % 37), 50, now);
            queues.add(entry, &config, now);
            replies.push(reply);
        }
        let batches = drain(&mut queues, &config, now);
        let mut seen = 0;
        for record in batches.iter().flat_map(|b| &b.records) {
            let shard = map.get(&record.shard_id).unwrap();
            assert!(record.aggregated, "many small records per shard make aggregates");
            assert!(shard.contains(record.explicit_hash_key.unwrap()), "the aggregate is put inside its shard");
            for entry in &record.entries {
                assert!(shard.contains(entry.routing.hash), "{} hashes into {}", entry.partition_key, shard.shard_id);
            }
            seen += record.entries.len();
        }
        assert_eq!(seen, 300);
        assert_eq!(entries.progress.outstanding.load(std::sync::atomic::Ordering::SeqCst), 300);
    }

    #[test]
    fn aggregates_close_at_their_size_limit_and_larger_records_go_alone() {
        let now = Instant::now();
        let config = ProducerConfig { aggregation_max_bytes: 4096, ..unpaced() };
        let mut queues = StreamQueues::new(ShardMap::new(vec![shard("shardId-0", 0, u128::MAX)]), None, now);
        let entries = Entries::new();
        let mut replies = Vec::new();
        for i in 0..100 {
            let (entry, reply) = entries.entry(&format!("k{}", i % 3), 100, now);
            queues.add(entry, &config, now);
            replies.push(reply);
        }
        let (big, _reply) = entries.entry("big", 5000, now);
        queues.add(big, &config, now);
        let mut records: Vec<KinesisRecord> =
            drain(&mut queues, &config, now).into_iter().flat_map(|b| b.records).collect();
        let (last, aggregates) = records.split_last_mut().unwrap();
        assert!(!last.aggregated && last.partition_key == "big", "the oversized record goes alone, last");
        assert!(aggregates.len() >= 3, "100 × ~110 bytes need at least three 4 KiB aggregates");
        let mut order = Vec::new();
        for record in aggregates {
            let data = record.encoded();
            assert!(data.len() + record.partition_key.len() <= 4096, "{} bytes", data.len());
            assert!(record.wire_bytes() <= record.size, "the size bound holds");
            order.extend(rheo_aws::kpl::deaggregate(&data).unwrap().into_iter().map(|s| s.partition_key));
        }
        let expected: Vec<String> = (0..100).map(|i| format!("k{}", i % 3)).collect();
        assert_eq!(order, expected, "put order within the shard");
    }

    #[test]
    fn batches_respect_the_record_and_byte_limits_and_one_request_per_shard() {
        let now = Instant::now();
        let config = ProducerConfig { aggregation: false, put_records_max_bytes: 1 << 20, ..unpaced() };
        let mut queues = StreamQueues::new(ShardMap::new(vec![shard("shardId-0", 0, u128::MAX)]), None, now);
        let entries = Entries::new();
        let mut replies = entries.add_keys(&mut queues, &config, 1200, 10, now);
        let plan = queues.plan(&config, now, true, 8);
        assert_eq!(plan.batches.len(), 1, "one request in flight per shard");
        queues.request_done(&plan.batches[0].shards);
        let mut sizes = vec![plan.batches[0].records.len()];
        sizes.extend(drain(&mut queues, &config, now).iter().map(|b| b.records.len()));
        assert_eq!(sizes, [500, 500, 200]);
        for i in 0..7 {
            let (entry, reply) = entries.entry(&format!("big{i}"), 300 << 10, now);
            queues.add(entry, &config, now);
            replies.push(reply);
        }
        let sizes: Vec<usize> = drain(&mut queues, &config, now).iter().map(|b| b.records.len()).collect();
        assert_eq!(sizes, [3, 3, 1], "1 MiB per call holds three 300 KiB records");
    }

    #[test]
    fn the_linger_holds_records_until_due_and_expired_records_fail() {
        let now = Instant::now();
        let config = unpaced();
        let mut queues = StreamQueues::new(two_shards(), None, now);
        let entries = Entries { ttl: Duration::from_secs(1), ..Entries::new() };
        let (entry, _reply) = entries.entry("a", 10, now);
        queues.add(entry, &config, now);
        let plan = queues.plan(&config, now, false, 4);
        assert!(plan.batches.is_empty());
        assert_eq!(plan.wake_at, now + config.linger);
        let plan = queues.plan(&config, now + config.linger, false, 4);
        assert_eq!(plan.batches.len(), 1);
        assert!(plan.expired.is_empty());
        // Sent back for a retry, then its TTL passes: it fails instead of going again.
        let batch = plan.batches.into_iter().next().unwrap();
        queues.request_done(&batch.shards);
        queues.retry(batch.records, "InternalFailure: x".into(), &config, &ThreadRandom, now + config.linger);
        let plan = queues.plan(&config, now + Duration::from_secs(1), true, 4);
        assert!(plan.batches.is_empty());
        assert_eq!(plan.expired.len(), 1);
        assert_eq!(plan.expired[0].last_error.as_deref(), Some("InternalFailure: x"));
    }

    #[test]
    fn records_expire_while_no_request_slot_is_free() {
        let now = Instant::now();
        let config = ProducerConfig { record_ttl: Duration::from_secs(1), ..unpaced() };
        let mut queues = StreamQueues::new(two_shards(), None, now);
        let entries = Entries { ttl: config.record_ttl, ..Entries::new() };
        let _replies = entries.add_keys(&mut queues, &config, 20, 10, now);
        let plan = queues.plan(&config, now + config.linger, false, 0);
        assert!(plan.batches.is_empty() && plan.expired.is_empty());
        assert!(plan.wake_at <= now + config.record_ttl, "the sender wakes for the deadline");
        let plan = queues.plan(&config, now + config.record_ttl, false, 0);
        assert_eq!(plan.expired.len(), 20, "every record expires though no request slot is free");
        assert!(drain(&mut queues, &config, now + config.record_ttl).is_empty());
    }

    #[test]
    fn a_partly_expired_aggregate_expires_whole_and_later_records_keep_their_order() {
        let now = Instant::now();
        let config = ProducerConfig { record_ttl: Duration::from_secs(1), ..unpaced() };
        let mut queues = StreamQueues::new(ShardMap::new(vec![shard("shardId-0", 0, u128::MAX)]), None, now);
        let entries = Entries { ttl: config.record_ttl, ..Entries::new() };
        let mut replies = Vec::new();
        let later = now + Duration::from_millis(50);
        for (key, at) in [("old", now), ("young", later)] {
            let (entry, reply) = entries.entry(key, 10, at);
            queues.add(entry, &config, at);
            replies.push(reply);
        }
        // The aggregate of both closes; the next records make a second aggregate.
        let closed = later + config.linger;
        assert!(queues.plan(&config, closed, false, 0).batches.is_empty());
        for key in ["next-1", "next-2"] {
            let (entry, reply) = entries.entry(key, 10, closed);
            queues.add(entry, &config, closed);
            replies.push(reply);
        }
        let expiry = now + config.record_ttl;
        let plan = queues.plan(&config, expiry, false, 0);
        let expired: Vec<&str> = plan.expired.iter().map(|e| e.partition_key.as_str()).collect();
        assert_eq!(expired, ["old", "young"], "the aggregate expires with its oldest record");
        let sent: Vec<String> = drain(&mut queues, &config, expiry)
            .into_iter()
            .flat_map(|b| b.records)
            .flat_map(|r| r.entries)
            .map(|e| e.partition_key)
            .collect();
        assert_eq!(sent, ["next-1", "next-2"]);
    }

    #[test]
    fn the_rate_limit_defers_a_shard_until_its_buckets_refill() {
        let now = Instant::now();
        let limit = ShardRateLimit::default();
        let config = ProducerConfig { aggregation: false, rate_limit: Some(limit), ..ProducerConfig::default() };
        let mut queues = StreamQueues::new(ShardMap::new(vec![shard("shardId-0", 0, u128::MAX)]), Some(limit), now);
        let entries = Entries::new();
        let _replies = entries.add_keys(&mut queues, &config, 1500, 10, now);
        let sent: usize = drain(&mut queues, &config, now).iter().map(|b| b.records.len()).sum();
        assert_eq!(sent, 1000, "one second's worth of records at once");
        let plan = queues.plan(&config, now, true, 4);
        assert!(plan.batches.is_empty());
        assert!(plan.wake_at > now);
        let later = now + Duration::from_millis(250);
        let sent: usize = drain(&mut queues, &config, later).iter().map(|b| b.records.len()).sum();
        assert!((249..=251).contains(&sent), "a quarter second refills a quarter of the limit: {sent}");
    }

    #[test]
    fn a_new_map_routes_the_records_of_closed_shards_again() {
        let now = Instant::now();
        let config = unpaced();
        let mut queues = StreamQueues::new(ShardMap::new(vec![shard("shardId-0", 0, u128::MAX)]), None, now);
        let entries = Entries::new();
        let _replies = entries.add_keys(&mut queues, &config, 50, 10, now);
        let half = u128::MAX / 2;
        let mut parent = shard("shardId-0", 0, u128::MAX);
        parent.ending_sequence_number = Some(SequenceNumber::parse("9").unwrap());
        let children =
            ShardMap::new(vec![parent, shard("shardId-1", 0, half), shard("shardId-2", half + 1, u128::MAX)]);
        queues.replace_map(children.clone(), &config, now);
        let batches = drain(&mut queues, &config, now);
        let mut seen = 0;
        for record in batches.iter().flat_map(|b| &b.records) {
            let shard = children.get(&record.shard_id).unwrap();
            assert!(shard.is_open());
            assert!(record.entries.iter().all(|e| shard.contains(e.routing.hash)));
            seen += record.entries.len();
        }
        assert_eq!(seen, 50);
    }

    #[test]
    fn a_misrouted_aggregate_keeps_the_records_inside_the_shard_it_landed_in() {
        let now = Instant::now();
        let config = unpaced();
        let mut queues = StreamQueues::new(ShardMap::new(vec![shard("shardId-0", 0, u128::MAX)]), None, now);
        let entries = Entries::new();
        let _replies = entries.add_keys(&mut queues, &config, 40, 10, now);
        let mut records: Vec<KinesisRecord> =
            drain(&mut queues, &config, now).into_iter().flat_map(|b| b.records).collect();
        assert_eq!(records.len(), 1);
        let record = records.remove(0);
        let hashes: Vec<u128> = record.entries.iter().map(|e| e.routing.hash).collect();
        let half = u128::MAX / 2;
        let (landed, misrouted) = crate::producer::split_landed(record, Some((0, half)));
        assert!(!landed.is_empty() && !misrouted.entries.is_empty(), "40 keys fall on both halves");
        for (index, entry) in &landed {
            assert!(entry.routing.hash <= half);
            assert_eq!(hashes[*index as usize], entry.routing.hash, "its sub-sequence number is its index");
        }
        assert!(misrouted.entries.iter().all(|e| e.routing.hash > half));
        assert_eq!(landed.len() + misrouted.entries.len(), 40);
        let (landed, unknown) = crate::producer::split_landed(misrouted, None);
        assert!(landed.is_empty(), "an unknown landing shard acknowledges nothing");
        assert!(!unknown.entries.is_empty());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Whatever is put, every user record leaves exactly once, in a call within AWS's
        /// limits, inside a Kinesis record within the aggregate limit and in its own shard.
        #[test]
        fn every_record_leaves_once_within_the_limits(
            records in proptest::collection::vec(("[a-z]{1,8}", 0usize..3000), 1..400),
            aggregation in proptest::bool::ANY,
            aggregation_max_bytes in 1024usize..8192,
        ) {
            let now = Instant::now();
            let map = two_shards();
            let config = ProducerConfig { aggregation, aggregation_max_bytes, ..unpaced() };
            let mut queues = StreamQueues::new(map.clone(), None, now);
            let entries = Entries::new();
            let mut replies = Vec::new();
            for (i, (key, len)) in records.iter().enumerate() {
                let (mut entry, reply) = entries.entry(key, *len, now);
                entry.data = Bytes::from(format!("{i:06}{}", "x".repeat(*len)));
                queues.add(entry, &config, now);
                replies.push(reply);
            }
            let mut seen = std::collections::BTreeSet::new();
            for mut batch in drain(&mut queues, &config, now) {
                proptest::prop_assert!(batch.records.len() <= config.put_records_max_records);
                let mut bytes = 0;
                for record in &mut batch.records {
                    let shard = map.get(&record.shard_id).unwrap();
                    let data = record.encoded();
                    bytes += data.len() + record.partition_key.len();
                    if record.aggregated {
                        proptest::prop_assert!(data.len() + record.partition_key.len() <= aggregation_max_bytes);
                        proptest::prop_assert!(shard.contains(record.explicit_hash_key.unwrap()));
                    }
                    for entry in &record.entries {
                        proptest::prop_assert!(shard.contains(entry.routing.hash));
                        proptest::prop_assert!(seen.insert(entry.data.slice(0..6)), "sent twice");
                    }
                }
                proptest::prop_assert!(bytes <= config.put_records_max_bytes);
            }
            proptest::prop_assert_eq!(seen.len(), records.len());
        }
    }
}
