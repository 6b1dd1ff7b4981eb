"""The real Kinesis Client Library against Rheo: the KCL 3.x MultiLangDaemon (jars from the PyPI
wheel kclpy-ext) with a Python record processor, the npm aws-kcl Node processor under the same
daemon, and kcl-rs, with Rheo as the only endpoint for Kinesis and for the DynamoDB lease,
coordinator and worker-metric tables.

Each scenario has its own stream and KCL application (so its own DynamoDB tables) on the
session's server, so the scenarios can run side by side (tests/e2e/kcl/run.sh runs them with
pytest-xdist). The processors journal every event; the assertions read the journals.
"""

import collections
import pathlib
import sys
import threading
import time
import urllib.request
import uuid

import boto3
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "kcl"))

from conftest import Rheo, create_active, wait_for_status  # noqa: E402
from harness import (  # noqa: E402
    SETTLE_TIMEOUT_S,
    KclRsWorker,
    KclWorker,
    Producer,
    RheoClientWorker,
    data_seen,
    last_checkpoints,
    node_processor_command,
    position,
    records,
    wait_until,
)

pytestmark = pytest.mark.kcl


@pytest.fixture
def kcl_env(rheo, kinesis, tmp_path):
    """What each scenario needs: a unique stream and application name, a work folder, and a way to
    make workers that are always stopped at the end (their logs stay in the work folder)."""
    workers = []
    suffix = uuid.uuid4().hex[:8]
    dynamodb = boto3.client("dynamodb", endpoint_url=rheo.endpoint, region_name="us-east-1")

    class Env:
        stream = f"kcl-{suffix}"
        application = f"kclapp-{suffix}"
        workdir = tmp_path

        @staticmethod
        def worker(name, **options):
            options.setdefault("kinesis_endpoint", rheo.endpoint)
            options.setdefault("dynamodb_endpoint", rheo.endpoint)
            worker = KclWorker(tmp_path, name, stream=Env.stream, application=Env.application, **options)
            workers.append(worker)
            return worker

        @staticmethod
        def kcl_rs_worker(name, **options):
            options.setdefault("kinesis_endpoint", rheo.endpoint)
            options.setdefault("dynamodb_endpoint", rheo.endpoint)
            worker = KclRsWorker(tmp_path, name, stream=Env.stream, application=Env.application, **options)
            workers.append(worker)
            return worker

        @staticmethod
        def rheo_client_worker(name, **options):
            """rheo-client's example worker on the same stream and application (lease table)."""
            options.setdefault("endpoint", rheo.endpoint)
            worker = RheoClientWorker(tmp_path, name, stream=Env.stream, application=Env.application, **options)
            workers.append(worker)
            return worker

        @staticmethod
        def leases():
            """KCL's lease table (named after the application), read back through DynamoDB's Scan:
            lease key -> {attribute: value}."""
            items, start = [], {}
            while True:
                page = dynamodb.scan(TableName=Env.application, ConsistentRead=True, **start)
                items += page["Items"]
                if "LastEvaluatedKey" not in page:
                    break
                start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
            return {
                item["leaseKey"]["S"]: {name: next(iter(value.values())) for name, value in item.items()}
                for item in items
            }

        @staticmethod
        def leader():
            """The worker holding KCL 3's leader lock (item `Leader` of the coordinator state table)."""
            item = dynamodb.get_item(TableName=f"{Env.application}-CoordinatorState",
                                     Key={"key": {"S": "Leader"}}, ConsistentRead=True).get("Item", {})
            return item.get("ownerName", {}).get("S")

    yield Env
    for worker in workers:
        worker.kill()


def all_processed(producer, *workers):
    def check():
        seen = set()
        for worker in workers:
            seen |= data_seen(worker.events())
        return seen >= set(producer.written)
    return check


def assert_exactly_once(producer, events):
    counts = collections.Counter(e["data"] for e in records(events))
    missing = [d for d in producer.written if counts[d] == 0]
    repeated = {d: n for d, n in counts.items() if n > 1}
    assert not missing, f"never processed: {missing[:20]}"
    assert not repeated, f"processed more than once: {list(repeated.items())[:20]}"


def assert_in_shard_order(events):
    """Within a shard, KCL hands records over in sequence order, and the user records of one
    aggregate in sub-sequence order."""
    by_shard = collections.defaultdict(list)
    for event in records(events):
        by_shard[event["shard"]].append(position(event))
    for shard, positions in by_shard.items():
        assert positions == sorted(positions), f"{shard}: records out of order"


def assert_deaggregated(events, aggregated_data):
    """Every KPL user record arrived as its own record: the records of one aggregate share the
    aggregate's sequence number and carry sub-sequence numbers 0..n-1 in the order they were added."""
    by_data = {e["data"]: e for e in records(events)}
    groups = collections.defaultdict(list)
    for data in aggregated_data:
        label, index = data.rsplit("-", 1)
        groups[label].append((int(index), by_data[data]))
    for label, members in groups.items():
        members.sort()
        sequences = {event["sequence"] for _, event in members}
        assert len(sequences) == 1, f"{label}: user records of one aggregate got different sequence numbers"
        assert [event["sub_sequence"] for _, event in members] == list(range(len(members))), label
        shards = {event["shard"] for _, event in members}
        assert len(shards) == 1 and label.endswith(shards.pop()), f"{label}: processed on the wrong shard"


def assert_resumed_after_the_checkpoints(first_run, second_run, shards):
    """A restarted worker starts each shard where the first run's last confirmed checkpoint left it:
    nothing at or before it is processed again (only the uncheckpointed batch after it may be)."""
    checkpoints = last_checkpoints(first_run)
    assert set(checkpoints) == shards
    for event in records(second_run):
        assert position(event) > checkpoints[event["shard"]], (
            f"{event['data']} on {event['shard']} was at or before the checkpoint and came again")
    restarted_at = {e["shard"]: e for e in second_run if e["event"] == "initialize"}
    assert set(restarted_at) == shards
    for shard, event in restarted_at.items():
        # KCL hands the processor the checkpoint it resumes from (a later one if the first run
        # was killed between the checkpoint and its journal line).
        assert position(event) >= checkpoints[shard]


def first_index(events, event_name, shard):
    return next(i for i, e in enumerate(events) if e["event"] == event_name and e["shard"] == shard)


def test_polling_every_record_and_children_after_parents_across_split_and_merge(kinesis, kcl_env):
    create_active(kinesis, kcl_env.stream, shards=2)
    producer = Producer(kinesis, kcl_env.stream)
    aggregated = []
    producer.put_plain(30, "before")
    aggregated += producer.put_aggregated(5, "agg-before")

    worker = kcl_env.worker("w1").start()
    wait_until(all_processed(producer, worker), "the first records", [worker])

    # Split shard 0 while KCL reads it, right after more records went to it (the parent may still
    # have unprocessed records when its children get theirs); new records go to the children.
    producer.put_plain(30, "just-before-split")
    shard0 = kinesis.list_shards(StreamName=kcl_env.stream)["Shards"][0]
    low = int(shard0["HashKeyRange"]["StartingHashKey"])
    high = int(shard0["HashKeyRange"]["EndingHashKey"])
    kinesis.split_shard(StreamName=kcl_env.stream, ShardToSplit=shard0["ShardId"],
                        NewStartingHashKey=str((low + high) // 2))
    wait_for_status(kinesis, kcl_env.stream)
    producer.put_plain(30, "after-split")
    aggregated += producer.put_aggregated(5, "agg-after-split")
    wait_until(all_processed(producer, worker), "the records after the split", [worker])

    # Merge the upper child of the split with the old shard 1 (adjacent hash ranges).
    producer.put_plain(30, "just-before-merge")
    kinesis.merge_shards(StreamName=kcl_env.stream, ShardToMerge="shardId-000000000003",
                         AdjacentShardToMerge="shardId-000000000001")
    wait_for_status(kinesis, kcl_env.stream)
    producer.put_plain(30, "after-merge")
    aggregated += producer.put_aggregated(5, "agg-after-merge")
    wait_until(all_processed(producer, worker), "the records after the merge", [worker])

    events = worker.events()
    assert_exactly_once(producer, events)
    assert_in_shard_order(events)
    assert_deaggregated(events, aggregated)

    parents = {
        "shardId-000000000002": ["shardId-000000000000"],
        "shardId-000000000003": ["shardId-000000000000"],
        "shardId-000000000004": ["shardId-000000000003", "shardId-000000000001"],
    }
    for child, its_parents in parents.items():
        child_start = first_index(events, "initialize", child)
        for parent in its_parents:
            assert any(e["event"] == "shard_ended" and e["shard"] == parent for e in events), (
                f"{parent} never finished")
            assert first_index(events, "shard_ending", parent) < child_start, (
                f"{child} started before its parent {parent} was finished")
    # The merged shard got records, so the last generation really was read.
    assert any(e["shard"] == "shardId-000000000004" for e in records(events))

    # KCL's state in the lease table agrees with the journal: each open shard's lease is the
    # worker's and holds the last checkpoint the processor made (the journal line follows the
    # checkpoint's confirmation, hence the wait); a finished parent's lease ends at SHARD_END
    # unless KCL already cleaned it up after its children started.
    def open_leases_match_the_journal():
        last_checkpoint = last_checkpoints(worker.events())
        leases = kcl_env.leases()
        return all(
            leases[shard]["leaseOwner"] == "w1"
            and (int(leases[shard]["checkpoint"]), int(leases[shard].get("checkpointSubSequenceNumber", 0)))
            == last_checkpoint[shard]
            for shard in ("shardId-000000000002", "shardId-000000000004")
        ) and leases
    leases = wait_until(open_leases_match_the_journal, "the lease table to hold the last checkpoints", [worker])
    for parent in ("shardId-000000000000", "shardId-000000000001", "shardId-000000000003"):
        assert parent not in leases or leases[parent]["checkpoint"] == "SHARD_END", leases[parent]


def test_a_restarted_worker_resumes_from_its_checkpoints(kinesis, kcl_env):
    create_active(kinesis, kcl_env.stream, shards=2)
    producer = Producer(kinesis, kcl_env.stream)
    producer.put_plain(20, "first")
    producer.put_aggregated(4, "agg-first")
    worker = kcl_env.worker("w1").start()
    wait_until(all_processed(producer, worker), "the first records", [worker])

    # Records keep coming while the worker is killed, so it may die mid-batch.
    with continuous_writes(producer, "during"):
        time.sleep(2)
        worker.kill()
        first_run = worker.events()
    producer.put_plain(20, "while-down")
    producer.put_aggregated(4, "agg-while-down")

    worker.start()
    wait_until(all_processed(producer, worker), "every record after the restart", [worker])
    events = worker.events()
    second_run = events[len(first_run):]

    assert_resumed_after_the_checkpoints(first_run, second_run, {"shardId-000000000000", "shardId-000000000001"})

    # Duplicates are allowed only after the first run's last checkpoint (its uncheckpointed batch).
    counts = collections.Counter(e["data"] for e in records(events))
    assert not [d for d in producer.written if counts[d] == 0]
    assert max(counts.values()) <= 2


def test_checkpoints_survive_a_kill_9_of_rheo(kcl_env, tmp_path):
    """Rheo is killed while KCL renews its leases and checkpoints; after Rheo restarts on the
    same data folder, the restarted worker resumes from the checkpoints Rheo acknowledged."""
    server = Rheo(tmp_path / "own-rheo-data").start()
    try:
        kinesis = server.client()
        create_active(kinesis, kcl_env.stream, shards=2)
        producer = Producer(kinesis, kcl_env.stream)
        producer.put_plain(20, "first")
        producer.put_aggregated(4, "agg-first")
        worker = kcl_env.worker("w1", kinesis_endpoint=server.endpoint,
                                dynamodb_endpoint=server.endpoint).start()
        wait_until(all_processed(producer, worker), "the first records", [worker])
        with continuous_writes(producer, "during"):
            time.sleep(2)
        server.kill()
        worker.kill()
        first_run = worker.events()

        server = Rheo(tmp_path / "own-rheo-data").start()
        kinesis = server.client()
        producer.kinesis = kinesis
        producer.put_plain(20, "after-restart")
        worker.retarget(server.endpoint, server.endpoint)
        worker.start()
        # Every record Rheo acknowledged before the kill is still there and gets processed.
        wait_until(all_processed(producer, worker), "every record after both restarts", [worker])
        assert_resumed_after_the_checkpoints(first_run, worker.events()[len(first_run):],
                                             {"shardId-000000000000", "shardId-000000000001"})
    finally:
        server.kill()


def subscribe_calls(endpoint):
    """SubscribeToShard requests the server counted, whatever their outcome."""
    with urllib.request.urlopen(f"{endpoint}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith('rheo_requests_total{operation="SubscribeToShard"'))


def test_fan_out_every_record(rheo, kinesis, kcl_env):
    create_active(kinesis, kcl_env.stream, shards=2)
    producer = Producer(kinesis, kcl_env.stream)
    aggregated = []
    producer.put_plain(20, "before")
    aggregated += producer.put_aggregated(4, "agg-before")

    worker = kcl_env.worker("w1", retrieval="FANOUT").start()
    wait_until(all_processed(producer, worker), "the records written before the start", [worker])
    producer.put_plain(20, "live")
    aggregated += producer.put_aggregated(4, "agg-live")
    wait_until(all_processed(producer, worker), "the records written while subscribed", [worker])

    events = worker.events()
    assert_exactly_once(producer, events)
    assert_in_shard_order(events)
    assert_deaggregated(events, aggregated)
    # The records came through KCL's own enhanced fan-out consumer (named after the application).
    arn = kinesis.describe_stream_summary(StreamName=kcl_env.stream)["StreamDescriptionSummary"]["StreamARN"]
    consumers = kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]
    assert [c["ConsumerName"] for c in consumers] == [kcl_env.application]
    # ... and through SubscribeToShard, not a polling fallback.
    assert subscribe_calls(rheo.endpoint) > 0


# KCL 3 reassigns a dead worker's leases from the leader's lease assignment loop. The leader holds
# a DynamoDB lock (dynamodb-lock-client, item `Leader` of the coordinator state table) whose lease
# is a fixed two minutes that the daemon's properties cannot shorten. Killing the follower shows
# the takeover after failoverTimeMillis; killing the leader first waits out that lock (the slow
# variant: tests/e2e/kcl/run.sh --soak).
LEADER_LOCK_EXPIRY_S = 120


@pytest.mark.parametrize("victim_role", ["follower", pytest.param("leader", marks=pytest.mark.kcl_slow)])
def test_two_workers_share_the_leases_and_one_takes_over_after_a_kill(kinesis, kcl_env, victim_role):
    create_active(kinesis, kcl_env.stream, shards=4)
    producer = Producer(kinesis, kcl_env.stream)
    producer.put_plain(40, "first")
    workers = {name: kcl_env.worker(name).start() for name in ("w1", "w2")}
    shards = {s["ShardId"] for s in kinesis.list_shards(StreamName=kcl_env.stream)["Shards"]}

    def held(worker):
        """The shards whose processor is running on `worker` (initialized, not yet lost or ended)."""
        holding = set()
        for event in worker.events():
            if event["event"] == "initialize":
                holding.add(event["shard"])
            elif event["event"] in ("lease_lost", "shard_ended"):
                holding.discard(event["shard"])
        return holding

    both = list(workers.values())
    wait_until(lambda: all(held(w) for w in both) and set.union(*map(held, both)) == shards,
               "both workers holding leases", both)
    wait_until(all_processed(producer, *both), "the first records", both)

    leader = kcl_env.leader()
    assert leader in workers, f"no KCL leader among the workers: {leader!r}"
    follower = next(name for name in workers if name != leader)
    victim, survivor = (workers[follower], workers[leader]) if victim_role == "follower" \
        else (workers[leader], workers[follower])
    with continuous_writes(producer, "during"):
        time.sleep(2)
        victim_shards = held(victim)
        # Without leases of its own the kill would prove nothing about taking over.
        assert victim_shards, "the worker to kill holds no lease"
        victim.kill()
        killed_at = time.time()
        victim_events = victim.events()
    producer.put_plain(40, "after")

    def taken_over():
        return {e["shard"] for e in survivor.events() if e["event"] == "initialize" and e["t"] > killed_at}
    wait_until(lambda: taken_over() >= victim_shards, "the survivor taking the killed worker's leases", [survivor],
               timeout_s=SETTLE_TIMEOUT_S + (LEADER_LOCK_EXPIRY_S if victim_role == "leader" else 0))
    wait_until(all_processed(producer, victim, survivor), "every record, by the survivor", [survivor])

    last_checkpoint = last_checkpoints(victim_events)
    victim_data = data_seen(victim_events)
    for event in records(survivor.events()):
        if event["data"] in victim_data:
            # Only the killed worker's uncheckpointed batch may be processed again.
            assert position(event) > last_checkpoint.get(event["shard"], (-1, -1)), event
    survivor_counts = collections.Counter(e["data"] for e in records(survivor.events()))
    assert max(survivor_counts.values()) == 1
    assert not [d for d in producer.written if d not in victim_data and d not in survivor_counts]


def test_node_aws_kcl_processor(kinesis, kcl_env):
    create_active(kinesis, kcl_env.stream, shards=2)
    producer = Producer(kinesis, kcl_env.stream)
    producer.put_plain(20, "plain")
    aggregated = producer.put_aggregated(4, "agg")
    worker = kcl_env.worker("node", executable=node_processor_command()).start()
    wait_until(all_processed(producer, worker), "every record in the Node processor", [worker])
    events = worker.events()
    assert_exactly_once(producer, events)
    assert_in_shard_order(events)
    assert_deaggregated(events, aggregated)
    assert {e["worker"] for e in events} == {"node"} and {e.get("runtime") for e in events} == {"node"}


class continuous_writes:
    """Writes a small batch every 100 ms in a background thread while the block runs."""

    def __init__(self, producer, label):
        self.producer = producer
        self.label = label
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.error = None

    def run(self):
        try:
            round_number = 0
            while not self.done.is_set():
                self.producer.put_plain(5, f"{self.label}-{round_number}")
                round_number += 1
                self.done.wait(0.1)
        except Exception as error:  # reported by __exit__
            self.error = error

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        if self.error:
            raise self.error


def test_kcl_rs(kinesis, kcl_env):
    create_active(kinesis, kcl_env.stream, shards=2)
    producer = Producer(kinesis, kcl_env.stream)
    producer.put_plain(20, "plain")
    aggregated = producer.put_aggregated(4, "agg")
    worker = kcl_env.kcl_rs_worker("rs").start()
    wait_until(all_processed(producer, worker), "every record in kcl-rs", [worker])
    producer.put_plain(20, "live")
    wait_until(all_processed(producer, worker), "the records written while it runs", [worker])
    events = worker.events()
    assert_exactly_once(producer, events)
    assert_in_shard_order(events)
    assert_deaggregated(events, aggregated)
    assert {e["runtime"] for e in events} == {"kcl-rs"}
