//! The KCL-compatible consumer of `rheo-client` against a real server: workers sharing a
//! stream's shards through the lease table and taking over from an aborted one; parents
//! before children through a split and a merge; enhanced fan-out; graceful shutdown and
//! resuming after the checkpoint; KPL aggregates de-aggregated (and a mixed-shard one
//! dropped, as the KCL does, even when the lease does not say the shard's range).

mod common;

use common::streams::{create_active as create_stream, wait_active};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::Server;
use parking_lot::Mutex;
use rheo_client::consumer::checkpoint::{Checkpoint, ExtendedSequenceNumber};
use rheo_client::consumer::lease::Lease;
use rheo_client::consumer::lease_table::LeaseTable;
use rheo_client::consumer::{
    Checkpointer, ConsumedRecord, InitialPosition, InitializeInput, ProcessRecordsInput, ProcessorFactory,
    RecordProcessor, RetrievalConfig, Worker, WorkerConfig,
};
use rheo_client::shards::{partition_key_hash, ShardMap};
use rheo_client::{ClientConfig, DynamoDb, Kinesis};
use rheo_protocol::model::{
    ConsumerStatus, DescribeStreamConsumerInput, DescribeStreamSummaryInput, MergeShardsInput, PutRecordsInput,
    PutRecordsRequestEntry, SplitShardInput,
};
use rheo_protocol::HashKey;
use tokio::task::JoinHandle;

/// "Eventually" in these tests: generous, for a loaded 2-core machine.
const EVENTUALLY: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(100);

/// One user record as a processor saw it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Delivery {
    worker: String,
    shard_id: String,
    partition_key: String,
    data: String,
    sub_sequence_number: Option<u64>,
}

/// Every delivery of every worker, in processing order.
type Log = Arc<Mutex<Vec<Delivery>>>;

struct Recorder {
    worker: String,
    shard_id: String,
    log: Log,
    lost: Arc<Mutex<Vec<String>>>,
    checkpoint_each_batch: bool,
}

impl RecordProcessor for Recorder {
    async fn initialize(&mut self, _input: InitializeInput) {}

    async fn process_records(&mut self, input: ProcessRecordsInput, checkpointer: &Checkpointer) {
        {
            let mut log = self.log.lock();
            for ConsumedRecord { shard_id, partition_key, data, sub_sequence_number, .. } in input.records {
                log.push(Delivery {
                    worker: self.worker.clone(),
                    shard_id,
                    partition_key,
                    data: String::from_utf8_lossy(&data).into_owned(),
                    sub_sequence_number,
                });
            }
        }
        if self.checkpoint_each_batch {
            // A lost lease refuses the checkpoint; the next owner re-delivers.
            let _ = checkpointer.checkpoint().await;
        }
    }

    async fn lease_lost(&mut self) {
        self.lost.lock().push(self.shard_id.clone());
    }

    async fn shard_ended(&mut self, checkpointer: &Checkpointer) {
        checkpointer.checkpoint().await.expect("checkpoint at the shard's end");
    }

    async fn shutdown_requested(&mut self, checkpointer: &Checkpointer) {
        checkpointer.checkpoint().await.expect("checkpoint at shutdown");
    }
}

struct Recorders {
    worker: String,
    log: Log,
    lost: Arc<Mutex<Vec<String>>>,
    checkpoint_each_batch: bool,
}

impl ProcessorFactory for Recorders {
    type Processor = Recorder;

    fn create(&self, shard_id: &str) -> Recorder {
        Recorder {
            worker: self.worker.clone(),
            shard_id: shard_id.to_owned(),
            log: Arc::clone(&self.log),
            lost: Arc::clone(&self.lost),
            checkpoint_each_batch: self.checkpoint_each_batch,
        }
    }
}

fn worker_config(app: &str, stream: &str, worker: &str) -> WorkerConfig {
    // A failover time a loaded machine cannot stall past by accident (which would let
    // another worker take a lease and deliver records again), and a quick take interval
    // so that balancing is still fast.
    let mut config = WorkerConfig::new(app, stream).with_failover_time(Duration::from_secs(5));
    config.lease_take_interval = Duration::from_secs(1);
    config.worker_id = worker.into();
    config.initial_position = InitialPosition::TrimHorizon;
    config.retrieval = RetrievalConfig::Polling { max_records: 1000, idle_time: Duration::from_millis(100) };
    config.shard_sync_interval = Duration::from_secs(1);
    config.parent_shard_poll_interval = Duration::from_millis(200);
    config
}

struct Running {
    worker: Arc<Worker<Recorders>>,
    /// Shards whose processors were told `lease_lost`.
    lost: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

fn start(client: &ClientConfig, config: WorkerConfig, log: &Log, checkpoint_each_batch: bool) -> Running {
    let lost = Arc::default();
    let factory = Recorders {
        worker: config.worker_id.clone(),
        log: Arc::clone(log),
        lost: Arc::clone(&lost),
        checkpoint_each_batch,
    };
    let worker = Arc::new(Worker::new(client, config, factory).expect("worker"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = Arc::clone(&worker);
    let task = tokio::spawn(async move {
        running
            .run(async {
                let _ = stopped.await;
            })
            .await
            .expect("worker run");
    });
    Running { worker, task, stop: Some(stop), lost }
}

impl Running {
    async fn shut_down(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.expect("worker task");
    }
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "not within {EVENTUALLY:?}: {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// Puts `key-{k}` → `"{k}:{i}"` for each key and i in `range`, in order per key.
async fn put(kinesis: &Kinesis, stream: &str, keys: usize, range: std::ops::Range<usize>) {
    for i in range {
        let records = (0..keys)
            .map(|k| PutRecordsRequestEntry {
                partition_key: Some(format!("key-{k}")),
                explicit_hash_key: None,
                data: Bytes::from(format!("{k}:{i}")),
            })
            .collect();
        let input = PutRecordsInput {
            records,
            stream_name: Some(stream.into()),
            stream_arn: None,
            stream_id: None,
            dry_run: None,
        };
        let out = kinesis.put_records(input).await.expect("put");
        assert_eq!(out.failed_record_count.unwrap_or(0), 0);
    }
}

fn distinct(log: &Log) -> HashSet<String> {
    log.lock().iter().map(|d| d.data.clone()).collect()
}

async fn owners(table: &LeaseTable) -> BTreeMap<String, usize> {
    let mut owners = BTreeMap::new();
    for lease in table.list().await.expect("leases") {
        if let Some(owner) = lease.lease_owner {
            *owners.entry(owner).or_insert(0) += 1;
        }
    }
    owners
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_share_six_shards_and_two_take_over_from_an_aborted_one() {
    let server = Server::start(&[]);
    let client = ClientConfig::local(&server.endpoint);
    let kinesis = Kinesis::new_cbor(&client).unwrap();
    create_stream(&kinesis, "share", 6).await;
    let log: Log = Arc::default();
    let workers: Vec<Running> =
        ["a", "b", "c"].iter().map(|w| start(&client, worker_config("share-app", "share", w), &log, true)).collect();
    eventually("each worker holds two leases", || workers.iter().all(|w| w.worker.metrics().leases_held == 2)).await;
    let table = LeaseTable::new(DynamoDb::new(&client).unwrap(), "share-app");
    assert_eq!(owners(&table).await, BTreeMap::from([("a".into(), 2), ("b".into(), 2), ("c".into(), 2)]));

    put(&kinesis, "share", 30, 0..10).await;
    eventually("the first 300 records are processed", || distinct(&log).len() == 300).await;
    let before_abort = log.lock().len();
    // A worker stalled past the failover time loses its lease and the records after its
    // checkpoint come again (the KCL's at-least-once); otherwise each comes once.
    if workers.iter().all(|w| w.worker.metrics().leases_lost == 0) {
        assert_eq!(before_abort, 300, "balanced workers deliver each record once");
    }

    let mut workers = workers.into_iter();
    let (a, b, c) = (workers.next().unwrap(), workers.next().unwrap(), workers.next().unwrap());
    // A crash: no graceful shutdown, its leases stay owned until they expire.
    c.task.abort();
    let _ = c.task.await;
    put(&kinesis, "share", 30, 10..20).await;
    eventually("every record is processed after the takeover", || distinct(&log).len() == 600).await;
    eventually("the two survivors hold three leases each", || {
        a.worker.metrics().leases_held == 3 && b.worker.metrics().leases_held == 3
    })
    .await;
    let after: Vec<Delivery> = log.lock()[before_abort..].to_vec();
    assert!(after.iter().all(|d| d.worker != "c"), "the aborted worker delivered nothing after its abort");
    let c_shards: HashSet<String> =
        log.lock()[..before_abort].iter().filter(|d| d.worker == "c").map(|d| d.shard_id.clone()).collect();
    let taken_over: HashSet<String> = after.iter().map(|d| d.shard_id.clone()).collect();
    assert_eq!(c_shards.len(), 2);
    assert!(c_shards.is_subset(&taken_over), "the survivors read the aborted worker's shards {c_shards:?}");
    a.shut_down().await;
    b.shut_down().await;
    assert!(owners(&table).await.is_empty(), "a graceful shutdown releases every lease");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_and_a_merge_mid_run_keep_each_key_in_order_and_lose_nothing() {
    let server = Server::start(&[]);
    let client = ClientConfig::local(&server.endpoint);
    let kinesis = Kinesis::new_cbor(&client).unwrap();
    create_stream(&kinesis, "reshard", 2).await;
    let log: Log = Arc::default();
    let workers: Vec<Running> =
        ["a", "b"].iter().map(|w| start(&client, worker_config("reshard-app", "reshard", w), &log, true)).collect();
    const KEYS: usize = 20;
    put(&kinesis, "reshard", KEYS, 0..5).await;

    let map = ShardMap::load(&kinesis, "reshard").await.unwrap();
    let first = map.shards()[0].clone();
    let middle = first.starting_hash_key + (first.ending_hash_key - first.starting_hash_key) / 2;
    kinesis
        .split_shard(SplitShardInput {
            stream_name: Some("reshard".into()),
            shard_to_split: first.shard_id.clone(),
            new_starting_hash_key: HashKey::from_u128(middle),
            stream_arn: None,
            stream_id: None,
        })
        .await
        .expect("split");
    wait_active(&kinesis, "reshard").await;
    put(&kinesis, "reshard", KEYS, 5..10).await;

    // Merge the upper child of the split with the second original shard.
    let map = ShardMap::load(&kinesis, "reshard").await.unwrap();
    let upper_child = map.children_of(&first.shard_id).max_by_key(|s| s.starting_hash_key).unwrap().shard_id.clone();
    let second = map.shards()[1].shard_id.clone();
    kinesis
        .merge_shards(MergeShardsInput {
            stream_name: Some("reshard".into()),
            shard_to_merge: upper_child,
            adjacent_shard_to_merge: second,
            stream_arn: None,
            stream_id: None,
        })
        .await
        .expect("merge");
    wait_active(&kinesis, "reshard").await;
    put(&kinesis, "reshard", KEYS, 10..15).await;

    eventually("every record is processed", || distinct(&log).len() == KEYS * 15).await;
    let deliveries = log.lock().clone();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut first_seen: HashSet<String> = HashSet::new();
    for delivery in &deliveries {
        if !first_seen.insert(delivery.data.clone()) {
            continue;
        }
        let (key, index) = delivery.data.split_once(':').unwrap();
        let index: usize = index.parse().unwrap();
        let expected = seen.entry(key.to_owned()).or_insert(0);
        assert_eq!(index, *expected, "key {key}: record {index} came before {expected} ({delivery:?})");
        *expected += 1;
    }
    assert!(seen.values().all(|&n| n == 15));
    let table = LeaseTable::new(DynamoDb::new(&client).unwrap(), "reshard-app");
    let leases = table.list().await.unwrap();
    assert_eq!(leases.len(), 5, "two original shards, two children of the split, one of the merge");
    let finished: Vec<_> = leases.iter().filter(|l| l.is_finished()).map(|l| l.lease_key.clone()).collect();
    assert_eq!(finished.len(), 3, "the closed shards are checkpointed at SHARD_END: {finished:?}");
    eventually("finished shards leave the workers' per-shard figures", || {
        workers.iter().all(|w| w.worker.metrics().shards.keys().all(|k| !finished.contains(k)))
    })
    .await;
    let first_lease = leases.iter().find(|l| l.lease_key == first.shard_id).unwrap();
    assert_eq!(first_lease.child_shard_ids.len(), 2, "the split shard's lease records its children");
    for worker in workers {
        worker.shut_down().await;
    }
}

/// Partition keys whose hashes fall in `shard`'s range.
fn keys_in(map: &ShardMap, shard: usize, count: usize) -> Vec<String> {
    let shard = &map.shards()[shard];
    (0..).map(|i| format!("agg-{i}")).filter(|k| shard.contains(partition_key_hash(k))).take(count).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_reads_everything_and_a_new_worker_resumes_after_a_graceful_shutdown() {
    let server = Server::start(&[]);
    let client = ClientConfig::local(&server.endpoint);
    let kinesis = Kinesis::new_cbor(&client).unwrap();
    create_stream(&kinesis, "efo", 2).await;
    let map = ShardMap::load(&kinesis, "efo").await.unwrap();
    put(&kinesis, "efo", 10, 0..10).await;
    // One KPL aggregate whose user records all belong to shard 0, and one mixing both
    // shards, which the KCL drops whole.
    let inside = keys_in(&map, 0, 3);
    let mixed = [keys_in(&map, 0, 1), keys_in(&map, 1, 1)].concat();
    for (name, keys) in [("inside", &inside), ("mixed", &mixed)] {
        let subs: Vec<rheo_aws::kpl::SubRecord> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| rheo_aws::kpl::SubRecord {
                partition_key: k.clone(),
                explicit_hash_key: None,
                data: Bytes::from(format!("{name}:{i}")),
            })
            .collect();
        let input = PutRecordsInput {
            records: vec![PutRecordsRequestEntry {
                partition_key: Some(keys[0].clone()),
                explicit_hash_key: None,
                data: Bytes::from(rheo_aws::kpl::aggregate(&subs)),
            }],
            stream_name: Some("efo".into()),
            stream_arn: None,
            stream_id: None,
            dry_run: None,
        };
        kinesis.put_records(input).await.expect("put aggregate");
    }

    // Shard 0's lease written as KCL 1.x does, without its hash-key range: the worker
    // takes the range from the shard list to drop the mixed aggregate.
    let table = LeaseTable::new(DynamoDb::new(&client).unwrap(), "efo-app");
    table.ensure_exists().await.unwrap();
    let no_range =
        Lease::new(&map.shards()[0].shard_id, ExtendedSequenceNumber::sentinel(Checkpoint::TrimHorizon), [], None);
    assert!(table.create_if_missing(&no_range).await.unwrap());

    let log: Log = Arc::default();
    let mut config = worker_config("efo-app", "efo", "fan-out");
    config.retrieval = RetrievalConfig::FanOut { consumer_name: "efo-app".into() };
    // Checkpoints only at shutdown: what a new worker re-reads is exactly what came after.
    let first = start(&client, config, &log, false);
    eventually("the fan-out worker reads every record", || distinct(&log).len() == 100 + inside.len()).await;
    let aggregated: Vec<Delivery> = log.lock().iter().filter(|d| d.data.starts_with("inside:")).cloned().collect();
    assert_eq!(
        aggregated.iter().map(|d| (d.partition_key.clone(), d.sub_sequence_number)).collect::<Vec<_>>(),
        inside.iter().enumerate().map(|(i, k)| (k.clone(), Some(i as u64))).collect::<Vec<_>>()
    );
    assert!(log.lock().iter().all(|d| !d.data.starts_with("mixed:")));
    eventually("the mixed aggregate is counted as dropped", || first.worker.metrics().aggregates_dropped == 1).await;
    assert_eq!(log.lock().len(), 100 + inside.len(), "each record once");
    let stream_arn = kinesis
        .describe_stream_summary(DescribeStreamSummaryInput {
            stream_name: Some("efo".into()),
            stream_arn: None,
            stream_id: None,
        })
        .await
        .unwrap()
        .stream_description_summary
        .stream_arn;
    let registered = kinesis
        .describe_stream_consumer(DescribeStreamConsumerInput {
            stream_arn: Some(stream_arn),
            consumer_name: Some("efo-app".into()),
            consumer_arn: None,
            stream_id: None,
        })
        .await
        .expect("the worker registered its stream consumer");
    assert_eq!(registered.consumer_description.consumer_status, ConsumerStatus::Active);
    first.shut_down().await;

    put(&kinesis, "efo", 10, 10..15).await;
    let second = start(&client, worker_config("efo-app", "efo", "polling"), &log, true);
    eventually("the new worker reads the new records", || distinct(&log).len() == 150 + inside.len()).await;
    let again: Vec<Delivery> = log.lock().iter().filter(|d| d.worker == "polling").cloned().collect();
    assert_eq!(again.len(), 50, "nothing before the shutdown's checkpoint is delivered again: {again:?}");
    assert!(again.iter().all(|d| d.data.split_once(':').unwrap().1.parse::<usize>().unwrap() >= 10));
    second.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_taken_by_another_owner_is_lost_then_taken_back_once_it_expires() {
    let server = Server::start(&[]);
    let client = ClientConfig::local(&server.endpoint);
    let kinesis = Kinesis::new_cbor(&client).unwrap();
    create_stream(&kinesis, "steal", 1).await;
    let log: Log = Arc::default();
    let worker = start(&client, worker_config("steal-app", "steal", "a"), &log, true);
    eventually("the worker holds the lease", || worker.worker.metrics().leases_held == 1).await;
    put(&kinesis, "steal", 5, 0..2).await;
    eventually("the first records are processed", || distinct(&log).len() == 10).await;

    // Another owner takes the lease (conditional on the counter, which the worker keeps
    // bumping: try again until the take lands between two renewals).
    let table = LeaseTable::new(DynamoDb::new(&client).unwrap(), "steal-app");
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    loop {
        let mut lease = table.list().await.unwrap().pop().expect("one lease");
        if table.take(&mut lease, "intruder").await.unwrap() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the lease could never be taken");
    }
    eventually("the processor is told its lease was lost", || worker.lost.lock().len() == 1).await;
    assert_eq!(worker.worker.metrics().leases_lost, 1);
    // The intruder never renews: after the failover time the worker takes the lease back
    // and resumes after its checkpoint.
    eventually("the worker takes the expired lease back", || {
        let metrics = worker.worker.metrics();
        metrics.leases_taken == 2 && metrics.leases_held == 1
    })
    .await;
    put(&kinesis, "steal", 5, 2..4).await;
    eventually("the later records are processed", || distinct(&log).len() == 20).await;
    // Records of the first batch may come again if the take landed before their checkpoint;
    // the later ones come once.
    let later = log.lock().iter().filter(|d| d.data.split_once(':').unwrap().1.parse::<usize>().unwrap() >= 2).count();
    assert_eq!(later, 10);
    worker.shut_down().await;
}
