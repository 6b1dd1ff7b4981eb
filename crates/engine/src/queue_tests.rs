//! Queue scenarios through the engine: on the in-memory filesystem and a manual clock,
//! with restarts on the same folder.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use rheo_storage::{Durability, LogConfig, ManualClock, MemFs};

use crate::model::*;
use crate::queues::model::*;
use crate::{Engine, EngineConfig, EngineError, LimitExceeded, QueueError};

const START_MS: u64 = 1_700_000_000_000;

struct Harness {
    fs: MemFs,
    clock: ManualClock,
    engine: Arc<Engine>,
}

fn config() -> EngineConfig {
    EngineConfig { create_stream_ms: 0, delete_stream_ms: 0, update_stream_ms: 0, consumer_ms: 0, ..Default::default() }
}

fn open(fs: &MemFs, clock: &ManualClock, config: EngineConfig) -> Arc<Engine> {
    let log_config = LogConfig { durability: Durability::Never, ..Default::default() };
    let engine = Engine::open(Arc::new(fs.clone()), Arc::new(clock.clone()), "/data".as_ref(), log_config, config);
    Arc::new(engine.unwrap())
}

impl Harness {
    fn new(config: EngineConfig) -> Self {
        let fs = MemFs::default();
        let clock = ManualClock::new(START_MS);
        let engine = open(&fs, &clock, config);
        Harness { fs, clock, engine }
    }

    /// Stops the engine as kill -9 would leave the folder (the in-memory folder keeps
    /// what was written) and opens it again.
    fn restart(self) -> Self {
        let Harness { fs, clock, engine } = self;
        drop(engine);
        let engine = open(&fs, &clock, config());
        Harness { fs, clock, engine }
    }

    async fn stream(&self, name: &str) -> String {
        self.engine
            .create_stream(CreateStream { name: name.into(), mode: Some(StreamMode::OnDemand), ..Default::default() })
            .await
            .unwrap();
        self.engine.account().stream_arn(name).into_string()
    }

    async fn put(&self, stream: &str, keys: &[&str]) {
        let records = keys
            .iter()
            .map(|k| PutEntry {
                partition_key: Some((*k).into()),
                explicit_hash_key: None,
                data: Bytes::from(k.to_string()),
            })
            .collect();
        self.engine.put_records(PutRecords { stream: StreamRef::name(stream), records }).await.unwrap();
    }

    async fn queue(
        &self,
        name: &str,
        stream_arn: &str,
        attributes: QueueAttributesRequest,
    ) -> Result<QueueInfo, EngineError> {
        self.engine
            .create_queue(CreateQueue {
                name: name.into(),
                streams: vec![QueueStreamRequest {
                    stream_arn: stream_arn.into(),
                    start: Some(QueueStartRequest { kind: QueueStartKind::TrimHorizon, timestamp_ms: None }),
                }],
                attributes,
                tags: BTreeMap::new(),
            })
            .await
    }

    async fn receive(&self, queue: &QueueInfo, limit: u32) -> Vec<QueueRecord> {
        self.engine.receive_queue_records(&no_wait(queue, limit)).await.unwrap()
    }

    async fn receive_dead(&self, queue: &QueueInfo, limit: u32) -> Vec<QueueRecord> {
        self.engine.receive_dead_letter_records(&no_wait(queue, limit)).await.unwrap()
    }

    /// A receive that long-polls for up to 20 s in a task of its own.
    fn spawn_waiting_receive(
        &self,
        queue: &QueueInfo,
    ) -> tokio::task::JoinHandle<Result<Vec<QueueRecord>, EngineError>> {
        let engine = self.engine.clone();
        let request = ReceiveQueueRecords {
            queue_arn: queue.arn.to_string(),
            limit: None,
            wait_ms: 20_000,
            visibility_timeout_secs: None,
        };
        tokio::spawn(async move { engine.receive_queue_records(&request).await })
    }

    async fn ack(&self, queue: &QueueInfo, records: &[QueueRecord]) -> QueueEntriesResult {
        let request = QueueHandles { queue_arn: queue.arn.to_string(), receipt_handles: handles(records) };
        self.engine.acknowledge_queue_records(&request).await.unwrap()
    }
}

/// A receive of up to `limit` records that answers at once.
fn no_wait(queue: &QueueInfo, limit: u32) -> ReceiveQueueRecords {
    ReceiveQueueRecords {
        queue_arn: queue.arn.to_string(),
        limit: Some(limit),
        wait_ms: 0,
        visibility_timeout_secs: None,
    }
}

fn handles(records: &[QueueRecord]) -> Vec<String> {
    records.iter().map(|r| r.receipt_handle.clone()).collect()
}

fn keys(records: &[QueueRecord]) -> Vec<String> {
    let mut keys: Vec<String> = records.iter().map(|r| r.partition_key.clone().unwrap_or_default()).collect();
    keys.sort();
    keys
}

fn visibility(secs: u32) -> QueueAttributesRequest {
    QueueAttributesRequest { visibility_timeout_secs: Some(secs), dead_letter: None }
}

#[tokio::test]
async fn receive_hides_records_until_acknowledged_or_their_deadline() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let queue = h.queue("q", &stream, visibility(30)).await.unwrap();
    assert_eq!(queue.status, QueueStatus::Active);
    assert_eq!(queue.attributes.max_receive_count, Some(6));
    h.put("s", &["a", "b", "c"]).await;

    let first = h.receive(&queue, 2).await;
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|r| r.receive_count == 1 && r.first_receive_ms == START_MS));
    // A second receiver within the window never gets the same record.
    let second = h.receive(&queue, 10).await;
    assert_eq!(second.len(), 1);
    assert!(!first.iter().any(|r| r.record_id == second[0].record_id));
    assert!(h.receive(&queue, 10).await.is_empty());

    let acked = h.ack(&queue, &first).await;
    assert_eq!(acked.successful, handles(&first));
    assert!(acked.failed.is_empty());
    h.clock.advance_ms(29_999);
    assert!(h.receive(&queue, 10).await.is_empty());
    h.clock.advance_ms(1);
    let again = h.receive(&queue, 10).await;
    assert_eq!(keys(&again), keys(&second));
    assert_eq!(again[0].receive_count, 2);
    assert_eq!(again[0].record_id, second[0].record_id);
    assert_eq!(again[0].first_receive_ms, START_MS);
    assert_ne!(again[0].receipt_handle, second[0].receipt_handle);

    // The earlier delivery's handle no longer works; acknowledged records are gone.
    let stale = h.ack(&queue, &second).await;
    assert_eq!(stale.failed[0].error, QueueEntryError::HandleExpired);
    let gone = h.ack(&queue, &first[..1]).await;
    assert_eq!(gone.failed[0].error, QueueEntryError::RecordGone);
    assert_eq!(h.ack(&queue, &again).await.successful.len(), 1);
}

#[tokio::test]
async fn handles_of_other_queues_or_sides_and_forgeries_are_refused() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let one = h.queue("one", &stream, visibility(30)).await.unwrap();
    let two = h.queue("two", &stream, visibility(30)).await.unwrap();
    h.put("s", &["a"]).await;
    let from_one = h.receive(&one, 1).await;
    let from_two = h.receive(&two, 1).await;
    // Both queues deliver the same stream record, with the same record id.
    assert_eq!(from_one[0].record_id, from_two[0].record_id);
    let foreign = h.ack(&two, &from_one).await;
    assert_eq!(foreign.failed[0].error, QueueEntryError::HandleInvalid);
    let request = QueueHandles { queue_arn: one.arn.to_string(), receipt_handles: vec!["forged".into()] };
    let forged = h.engine.acknowledge_queue_records(&request).await.unwrap();
    assert_eq!(forged.failed[0].error, QueueEntryError::HandleInvalid);
    let request = QueueHandles { queue_arn: one.arn.to_string(), receipt_handles: handles(&from_one) };
    let wrong_side = h.engine.acknowledge_dead_letter_records(&request).await.unwrap();
    assert_eq!(wrong_side.failed[0].error, QueueEntryError::HandleInvalid);
    let missing = h.engine.describe_queue("arn:aws:kinesis:us-east-1:000000000000:queue/nope").unwrap_err();
    assert!(matches!(missing, EngineError::Queue(QueueError::NotFound { .. })), "{missing:?}");
}

#[tokio::test]
async fn visibility_changes_extend_or_end_the_window() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let queue = h.queue("q", &stream, visibility(10)).await.unwrap();
    h.put("s", &["a", "b"]).await;
    let records = h.receive(&queue, 10).await;
    let entries = vec![
        VisibilityEntry { receipt_handle: records[0].receipt_handle.clone(), visibility_timeout_secs: 100 },
        VisibilityEntry { receipt_handle: records[1].receipt_handle.clone(), visibility_timeout_secs: 0 },
    ];
    let request = UpdateQueueVisibility { queue_arn: queue.arn.to_string(), entries };
    let result = h.engine.update_queue_visibility(&request).await.unwrap();
    assert_eq!(result.successful.len(), 2);
    let back = h.receive(&queue, 10).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].record_id, records[1].record_id);
    assert_eq!(h.ack(&queue, &back).await.successful.len(), 1);
    h.clock.advance_ms(50_000);
    assert!(h.receive(&queue, 10).await.is_empty());
    h.clock.advance_ms(50_000);
    assert_eq!(h.receive(&queue, 10).await.len(), 1);
}

#[tokio::test]
async fn records_become_dead_letters_and_restore_puts_them_back() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let attributes = QueueAttributesRequest {
        visibility_timeout_secs: Some(1),
        dead_letter: Some(DeadLetterRequest { target: DeadLetterTarget::BuiltIn, max_receive_count: Some(2) }),
    };
    let queue = h.queue("q", &stream, attributes).await.unwrap();
    h.put("s", &["poison"]).await;
    for count in 1..=2 {
        let records = h.receive(&queue, 10).await;
        assert_eq!(records[0].receive_count, count);
        h.clock.advance_ms(1_000);
    }
    assert!(h.receive(&queue, 10).await.is_empty());
    let dead = h.receive_dead(&queue, 10).await;
    assert_eq!(keys(&dead), vec!["poison"]);
    assert_eq!(dead[0].receive_count, 3);
    assert!(h.receive_dead(&queue, 10).await.is_empty());

    let request = QueueHandles { queue_arn: queue.arn.to_string(), receipt_handles: handles(&dead) };
    let restored = h.engine.restore_dead_letter_records(&request).await.unwrap();
    assert_eq!(restored.successful.len(), 1);
    let again = h.receive(&queue, 10).await;
    assert_eq!(again[0].receive_count, 1, "restore resets the receive count");
    // The dead-letter handle was of the delivery before the restore.
    let stale = h.engine.restore_dead_letter_records(&request).await.unwrap();
    assert_eq!(stale.failed[0].error, QueueEntryError::HandleExpired);
}

#[tokio::test]
async fn state_survives_a_restart() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let attributes = QueueAttributesRequest {
        visibility_timeout_secs: Some(10),
        dead_letter: Some(DeadLetterRequest { target: DeadLetterTarget::BuiltIn, max_receive_count: Some(1) }),
    };
    let queue = h.queue("q", &stream, attributes).await.unwrap();
    h.put("s", &["acked", "pending", "dead", "unseen"]).await;
    let records = h.receive(&queue, 3).await;
    let by_key = |key: &str| records.iter().find(|r| r.partition_key.as_deref() == Some(key)).unwrap().clone();
    assert_eq!(h.ack(&queue, &[by_key("acked")]).await.successful.len(), 1);
    let request = UpdateQueueVisibility {
        queue_arn: queue.arn.to_string(),
        entries: vec![VisibilityEntry {
            receipt_handle: by_key("pending").receipt_handle,
            visibility_timeout_secs: 20,
        }],
    };
    h.engine.update_queue_visibility(&request).await.unwrap();

    let h = h.restart();
    let info = h.engine.describe_queue(queue.arn.as_str()).unwrap();
    assert_eq!(info, queue);
    // Before the deadline only the record never received is visible.
    assert_eq!(keys(&h.receive(&queue, 10).await), vec!["unseen"]);
    h.clock.advance_ms(10_000);
    assert!(h.receive(&queue, 10).await.is_empty(), "one receive made them dead-letter records");
    assert_eq!(keys(&h.receive_dead(&queue, 10).await), vec!["dead", "unseen"]);
    h.clock.advance_ms(10_000);
    let h = h.restart();
    // Their dead-letter deliveries ran out too, and "pending" reached its deadline.
    assert_eq!(keys(&h.receive_dead(&queue, 10).await), vec!["dead", "pending", "unseen"]);
    // The acknowledged record never comes back.
    h.clock.advance_ms(100_000);
    let h = h.restart();
    let all = [h.receive(&queue, 10).await, h.receive_dead(&queue, 10).await].concat();
    assert_eq!(keys(&all), vec!["dead", "pending", "unseen"]);
}

#[tokio::test]
async fn queues_follow_the_stream_rules() {
    let h = Harness::new(EngineConfig { consumer_limit: 2, ..config() });
    let stream = h.stream("s").await;
    h.engine
        .create_stream(CreateStream { name: "p".into(), shard_count: Some(1), ..Default::default() })
        .await
        .unwrap();
    let provisioned = h.engine.account().stream_arn("p").into_string();
    let error = h.queue("q", &provisioned, visibility(30)).await.unwrap_err();
    assert!(matches!(error, EngineError::Queue(QueueError::StreamNotOnDemand { .. })), "{error:?}");

    let queue = h.queue("q", &stream, visibility(30)).await.unwrap();
    let error = h.queue("q", &stream, visibility(30)).await.unwrap_err();
    assert!(matches!(error, EngineError::Queue(QueueError::Exists { .. })), "{error:?}");
    assert_eq!(h.engine.describe_stream_summary(&StreamRef::name("s")).unwrap().queue_count, 1);

    // A queue takes a registered-consumer slot.
    h.engine
        .register_consumer(RegisterConsumer {
            stream_arn: stream.clone(),
            consumer_name: "c".into(),
            tags: BTreeMap::new(),
        })
        .await
        .unwrap();
    let error = h.queue("q2", &stream, visibility(30)).await.unwrap_err();
    assert!(matches!(error, EngineError::LimitExceeded(LimitExceeded::Consumers { limit: 2, .. })), "{error:?}");
    let register = RegisterConsumer { stream_arn: stream.clone(), consumer_name: "d".into(), tags: BTreeMap::new() };
    let error = h.engine.register_consumer(register).await.unwrap_err();
    assert!(matches!(error, EngineError::LimitExceeded(LimitExceeded::Consumers { limit: 2, .. })), "{error:?}");

    let error = h
        .engine
        .delete_stream(&DeleteStream { stream: StreamRef::name("s"), enforce_consumer_deletion: true })
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::Queue(QueueError::StreamHasQueues { count: 1, .. })), "{error:?}");
    let error = h
        .engine
        .update_stream_mode(&UpdateStreamMode {
            stream_arn: stream.clone(),
            mode: StreamMode::Provisioned,
            warm_throughput_mibps: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::Queue(QueueError::StreamHasQueues { .. })), "{error:?}");

    let error = h
        .engine
        .create_queue(CreateQueue { name: "none".into(), streams: Vec::new(), ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::Queue(QueueError::StreamCount { count: 0 })), "{error:?}");

    h.engine.delete_queue(queue.arn.as_str()).await.unwrap();
    assert!(h.engine.describe_queue(queue.arn.as_str()).is_err());
    h.engine
        .delete_stream(&DeleteStream { stream: StreamRef::name("s"), enforce_consumer_deletion: true })
        .await
        .unwrap();
}

#[tokio::test]
async fn lifecycle_list_and_update() {
    let h = Harness::new(EngineConfig { consumer_ms: 500, ..config() });
    let stream = h.stream("s").await;
    let mut queues = Vec::new();
    for name in ["c", "a", "b"] {
        queues.push(h.queue(name, &stream, visibility(30)).await.unwrap());
    }
    assert_eq!(queues[0].status, QueueStatus::Creating);
    assert_eq!(queues[0].stream.start_timestamp_ms, None, "TRIM_HORIZON has no timestamp while CREATING");
    h.put("s", &["x"]).await;
    assert!(h.receive(&queues[0], 10).await.is_empty(), "a CREATING queue delivers nothing");
    h.clock.advance_ms(500);
    let active = h.engine.describe_queue(queues[0].arn.as_str()).unwrap();
    assert_eq!(active.status, QueueStatus::Active);
    // The stream was created at START_MS, so that is the earliest it can be read from.
    assert_eq!(active.stream.start_timestamp_ms, Some(START_MS));
    assert_eq!(h.receive(&queues[0], 10).await.len(), 1);

    let page = h.engine.list_queues(&ListQueues { max_results: Some(2), ..Default::default() }).unwrap();
    assert_eq!(page.queues.iter().map(|q| q.name.as_str()).collect::<Vec<_>>(), vec!["a", "b"]);
    let rest = h.engine.list_queues(&ListQueues { next_token: page.next_token, ..Default::default() }).unwrap();
    assert_eq!(rest.queues.iter().map(|q| q.name.as_str()).collect::<Vec<_>>(), vec!["c"]);
    assert_eq!(rest.next_token, None);
    let filter = vec![QueueStreamFilter {
        stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/other".into(),
        stream_created_ms: None,
    }];
    assert!(h
        .engine
        .list_queues(&ListQueues { stream_filter: filter, ..Default::default() })
        .unwrap()
        .queues
        .is_empty());

    let update = UpdateQueue {
        queue_arn: queues[0].arn.to_string(),
        attributes: QueueAttributesRequest {
            visibility_timeout_secs: Some(5),
            dead_letter: Some(DeadLetterRequest { target: DeadLetterTarget::None, max_receive_count: None }),
        },
    };
    let updated = h.engine.update_queue(update.clone()).await.unwrap();
    assert_eq!(updated.status, QueueStatus::Updating);
    assert_eq!(updated.attributes.visibility_timeout_secs, 5);
    assert_eq!(updated.attributes.dead_letter_target, DeadLetterTarget::None);
    let error = h.engine.update_queue(update).await.unwrap_err();
    assert!(matches!(error, EngineError::Queue(QueueError::NotActive { status: "UPDATING", .. })), "{error:?}");

    h.engine.delete_queue(queues[1].arn.as_str()).await.unwrap();
    assert_eq!(h.engine.describe_queue(queues[1].arn.as_str()).unwrap().status, QueueStatus::Deleting);
    h.clock.advance_ms(500);
    h.engine.reap().await.unwrap();
    assert!(h.engine.describe_queue(queues[1].arn.as_str()).is_err());
}

#[tokio::test]
async fn a_waiting_receive_wakes_on_new_records() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let queue = h.queue("q", &stream, visibility(30)).await.unwrap();
    let waiting = h.spawn_waiting_receive(&queue);
    tokio::task::yield_now().await;
    h.put("s", &["late"]).await;
    let records = waiting.await.unwrap().unwrap();
    assert_eq!(keys(&records), vec!["late"]);
}

#[tokio::test]
async fn queues_carry_tags_and_a_resource_policy() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let queue = h.queue("q", &stream, visibility(30)).await.unwrap();
    let arn = queue.arn.to_string();
    let tags = BTreeMap::from([("team".to_owned(), "a".to_owned()), ("env".to_owned(), "b".to_owned())]);
    h.engine.tag_resource(TagResource { resource_arn: arn.clone(), tags }).await.unwrap();
    h.engine.untag_resource(UntagResource { resource_arn: arn.clone(), tag_keys: vec!["env".into()] }).await.unwrap();
    let listed = h.engine.list_tags_for_resource(&arn).unwrap();
    assert_eq!(listed, vec![Tag { key: "team".into(), value: "a".into() }]);
    assert_eq!(h.engine.get_resource_policy(&arn).unwrap(), "{}");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"kinesis:ReceiveQueueRecords","Resource":"*"}]}"#.to_owned();
    h.engine
        .put_resource_policy(PutResourcePolicy { resource_arn: arn.clone(), policy: policy.clone() })
        .await
        .unwrap();
    let h = h.restart();
    assert_eq!(h.engine.get_resource_policy(&arn).unwrap(), policy);
    assert_eq!(h.engine.list_tags_for_resource(&arn).unwrap().len(), 1);
    h.engine.delete_resource_policy(&arn).await.unwrap();
    assert!(matches!(h.engine.delete_resource_policy(&arn).await, Err(EngineError::ResourceNotFound(_))));
    let missing = "arn:aws:kinesis:us-east-1:000000000000:queue/gone";
    assert!(matches!(h.engine.list_tags_for_resource(missing), Err(EngineError::ResourceNotFound(_))));
}

#[tokio::test]
async fn a_restart_replays_the_journal_after_the_latest_snapshot() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let queue = h.queue("q", &stream, visibility(1_000)).await.unwrap();
    h.put("s", &["a", "b", "c", "d"]).await;
    let first = h.receive(&queue, 2).await;
    assert_eq!(keys(&first), vec!["a", "b"]);
    h.ack(&queue, &first[..1]).await;
    // The reaper snapshots a queue whose journal is older than the snapshot age.
    h.clock.advance_ms(crate::limits::QUEUE_SNAPSHOT_MAX_AGE_MS);
    h.engine.reap().await.unwrap();
    // After the snapshot: one more receive, in the journal only.
    let second = h.receive(&queue, 1).await;
    assert_eq!(keys(&second), vec!["c"]);
    let h = h.restart();
    let rest = h.receive(&queue, 10).await;
    assert_eq!(keys(&rest), vec!["d"], "only the record never received is visible");
    h.clock.advance_ms(1_000_000);
    let back = h.receive(&queue, 10).await;
    assert_eq!(keys(&back), vec!["b", "c", "d"]);
    // Each was received once before: events before the snapshot are not applied twice.
    assert!(back.iter().all(|r| r.receive_count == 2), "{back:?}");
}

#[tokio::test]
async fn records_past_the_streams_retention_are_forgotten() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let queue = h.queue("q", &stream, visibility(43_200)).await.unwrap();
    h.put("s", &["a", "b"]).await;
    let in_flight = h.receive(&queue, 1).await;
    h.clock.advance_ms(24 * 3_600_000 + 1);
    h.engine.reap().await.unwrap();
    // The reaper forgot both, the one in flight too: its handle names nothing now.
    assert_eq!(h.ack(&queue, &in_flight).await.failed[0].error, QueueEntryError::RecordGone);
    assert!(h.receive(&queue, 10).await.is_empty());
}

#[tokio::test]
async fn a_waiting_receive_ends_when_its_queue_is_deleted() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let queue = h.queue("q", &stream, visibility(30)).await.unwrap();
    let waiting = h.spawn_waiting_receive(&queue);
    tokio::task::yield_now().await;
    h.engine.delete_queue(queue.arn.as_str()).await.unwrap();
    assert_eq!(waiting.await.unwrap().unwrap(), Vec::new());
}

#[tokio::test]
async fn a_deleted_queue_releases_its_stream_before_the_reaper_runs() {
    let h = Harness::new(EngineConfig { consumer_ms: 500, ..config() });
    let stream = h.stream("s").await;
    let queue = h.queue("q", &stream, visibility(30)).await.unwrap();
    h.engine.delete_queue(queue.arn.as_str()).await.unwrap();
    let delete = DeleteStream { stream: StreamRef::name("s"), enforce_consumer_deletion: false };
    assert!(h.engine.delete_stream(&delete).await.is_err(), "DELETING, the queue still exists");
    h.clock.advance_ms(500);
    assert!(h.engine.describe_queue(queue.arn.as_str()).is_err());
    h.engine.delete_stream(&delete).await.unwrap();
}

#[tokio::test]
async fn a_record_put_without_a_key_on_an_auto_stream_is_delivered_without_one() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let update = UpdateRecordDistribution { stream_arn: stream.clone(), strategy: RecordDistribution::Auto };
    h.engine.update_record_distribution(&update).await.unwrap();
    let queue = h.queue("q", &stream, visibility(30)).await.unwrap();
    let record = PutEntry { partition_key: None, explicit_hash_key: None, data: Bytes::from_static(b"keyless") };
    h.engine.put_records(PutRecords { stream: StreamRef::name("s"), records: vec![record] }).await.unwrap();
    let received = h.receive(&queue, 10).await;
    assert_eq!((received[0].partition_key.as_deref(), &received[0].data[..]), (None, &b"keyless"[..]));
}

#[tokio::test]
async fn every_record_is_delivered_once_across_many_fetches() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let queue = h.queue("q", &stream, visibility(600)).await.unwrap();
    let keys: Vec<String> = (0..1_200).map(|i| format!("k{i}")).collect();
    for chunk in keys.chunks(500) {
        h.put("s", &chunk.iter().map(String::as_str).collect::<Vec<_>>()).await;
    }
    let mut seen = std::collections::HashSet::new();
    loop {
        let records = h.receive(&queue, 10).await;
        if records.is_empty() {
            break;
        }
        assert!(records.len() <= 10);
        for record in records {
            assert!(seen.insert(record.record_id), "delivered twice within its visibility timeout");
        }
    }
    assert_eq!(seen.len(), keys.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_receivers_never_share_a_record() {
    let h = Harness::new(config());
    let stream = h.stream("s").await;
    let queue = h.queue("q", &stream, visibility(600)).await.unwrap();
    let keys: Vec<String> = (0..400).map(|i| format!("k{i}")).collect();
    h.put("s", &keys.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let receivers: Vec<_> = (0..8)
        .map(|_| {
            let engine = h.engine.clone();
            let arn = queue.arn.to_string();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                loop {
                    let request = ReceiveQueueRecords {
                        queue_arn: arn.clone(),
                        limit: None,
                        wait_ms: 0,
                        visibility_timeout_secs: None,
                    };
                    let records = engine.receive_queue_records(&request).await.unwrap();
                    if records.is_empty() {
                        return ids;
                    }
                    ids.extend(records.into_iter().map(|r| r.record_id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for receiver in receivers {
        all.extend(receiver.await.unwrap());
    }
    let distinct: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), distinct.len()), (keys.len(), keys.len()));
}
