"""rheo-client's consumer reads what the reference KPL aggregator (PyPI aws-kinesis-agg) wrote:
its example worker (crates/client/examples/consume.rs) de-aggregates every user record with its
own partition key, in order, with the aggregate's sequence number and sub-sequence numbers
0..n-1, whether the user records' partition keys or their explicit hash keys put them in the
aggregate's shard, read by polling or by enhanced fan-out; and, as the Java KCL does, it drops an aggregate with a user record that
belongs to another shard as a whole.
"""

import collections
import hashlib
import pathlib
import sys
import uuid

import boto3
import pytest
from aws_kinesis_agg.aggregator import RecordAggregator

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "kcl"))

from conftest import create_active  # noqa: E402
from harness import Producer, RheoClientWorker, data_seen, partition_key_in, records, wait_until  # noqa: E402
from test_kcl import assert_deaggregated, assert_in_shard_order  # noqa: E402

# Generous: a loaded two-core machine; the worker reads each shard every quarter second.
READ_TIMEOUT_S = 60


def hash_key(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def put_aggregate(kinesis, stream, user_records):
    """One aggregate of `user_records` [(partition_key, data, explicit_hash_key or None)], routed
    as the aggregator says (its first user record's keys)."""
    aggregator = RecordAggregator()
    for partition_key, data, explicit_hash_key in user_records:
        assert aggregator.add_user_record(partition_key=partition_key, data=data.encode(),
                                          explicit_hash_key=explicit_hash_key) is None
    partition_key, explicit_hash_key, blob = aggregator.clear_and_get().get_contents()
    routing = {"ExplicitHashKey": explicit_hash_key} if explicit_hash_key else {}
    return kinesis.put_record(StreamName=stream, PartitionKey=partition_key, Data=blob, **routing)


@pytest.mark.parametrize("retrieval", ["polling", "fan-out"])
def test_aws_kinesis_agg_aggregates_are_deaggregated_and_a_mixed_shard_aggregate_is_dropped(
        rheo, kinesis, tmp_path, retrieval):
    stream = f"agg-{uuid.uuid4().hex[:8]}"
    create_active(kinesis, stream, shards=2)
    producer = Producer(kinesis, stream)
    shards = producer.open_shards()
    ranges = {s["ShardId"]: (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
              for s in shards}
    (shard_a, (low_a, high_a)), (shard_b, (low_b, high_b)) = sorted(ranges.items())

    # Per shard, user records whose partition keys hash into it (what the KPL makes).
    by_partition_key = producer.put_aggregated(6, "agg-pk")
    # User records routed by explicit hash keys inside shard b, whatever their partition keys hash
    # to: the rule uses the explicit hash key when a user record has one.
    by_explicit_key = []
    user_records = []
    for i in range(5):
        data = f"agg-ehk-{shard_b}-{i}"
        partition_key = partition_key_in(low_a, high_a, data)
        user_records.append((partition_key, data, str(low_b + 1 + i)))
        by_explicit_key.append(data)
    put_aggregate(kinesis, stream, user_records)
    plain = producer.put_plain(10, "plain")

    # An aggregate of user records from both shards, routed into shard a by its first partition
    # key: the consumer drops all of it, then reads on (the plain record after it in shard a).
    mixed = [(partition_key_in(low_a, high_a, f"mixed-{i}"), f"mixed-{i}", None) for i in range(2)]
    mixed.append((partition_key_in(low_b, high_b, "mixed-2"), "mixed-2", None))
    mixed_at = put_aggregate(kinesis, stream, mixed)
    assert mixed_at["ShardId"] == shard_a
    after_mixed = "after-mixed"
    kinesis.put_record(StreamName=stream, PartitionKey=mixed[0][0], Data=after_mixed.encode())

    expected = set(by_partition_key) | set(by_explicit_key) | set(plain) | {after_mixed}
    worker = RheoClientWorker(tmp_path, "rust", stream=stream, application=f"app-{stream}",
                              endpoint=rheo.endpoint, retrieval=retrieval).start()
    try:
        wait_until(lambda: {e["data"] for e in worker.events()} >= expected, "every user record",
                   [worker], timeout_s=READ_TIMEOUT_S)
    finally:
        worker.stop()
    assert worker.process.returncode == 0, worker.log_tail()

    events = worker.events()
    counts = collections.Counter(e["data"] for e in events)
    assert set(counts) == expected, f"unexpected: {set(counts) - expected}, missing: {expected - set(counts)}"
    assert max(counts.values()) == 1
    assert not any(e["data"].startswith("mixed-") for e in events)

    # One aggregate: one sequence number, sub-sequence numbers in the order the user records were
    # added, in the shard the aggregate went to; per shard, records in (sub-)sequence order.
    assert_deaggregated(events, by_partition_key + by_explicit_key)
    assert_in_shard_order(events)
    by_data = {e["data"]: e for e in events}
    # Each user record carries its own partition key, not the aggregate's.
    for partition_key, data, _ in user_records:
        assert by_data[data]["partition_key"] == partition_key
    for data in by_partition_key:
        shard = by_data[data]["shard"]
        assert ranges[shard][0] <= hash_key(by_data[data]["partition_key"]) <= ranges[shard][1]
    # Plain records are not aggregates: sub-sequence number 0.
    assert all(by_data[d]["sub_sequence"] == 0 for d in plain)


def test_a_batch_that_cannot_be_written_is_not_checkpointed(rheo, kinesis, tmp_path):
    """The example worker whose output fails (a full disk: /dev/full) stops with an error and
    leaves the batch uncheckpointed, so the next worker gets it."""
    stream = f"full-{uuid.uuid4().hex[:8]}"
    application = f"app-{stream}"
    create_active(kinesis, stream, shards=1)
    written = Producer(kinesis, stream).put_plain(5, "kept")
    failing = RheoClientWorker(tmp_path, "failing", stream=stream, application=application,
                               endpoint=rheo.endpoint, output=pathlib.Path("/dev/full")).start()
    assert failing.exit_code() != 0
    assert "Could not write the records" in failing.log_tail()
    dynamodb = boto3.client("dynamodb", endpoint_url=rheo.endpoint, region_name="us-east-1")
    lease = dynamodb.get_item(TableName=application, Key={"leaseKey": {"S": "shardId-000000000000"}},
                              ConsistentRead=True)["Item"]
    assert lease["checkpoint"]["S"] == "TRIM_HORIZON"

    worker = RheoClientWorker(tmp_path, "next", stream=stream, application=application,
                              endpoint=rheo.endpoint, stop_after=len(written)).start()
    assert worker.exit_code() == 0, worker.log_tail()
    assert [e["data"] for e in worker.events()] == written


def test_a_worker_killed_with_sigkill_hands_its_shards_to_the_other_and_nothing_is_lost(rheo, kinesis, tmp_path):
    """Two example workers share four shards; one is killed with SIGKILL (no shutdown, no lease
    released). The other takes its leases once they expire and resumes from their checkpoints:
    every record reaches one of them (at least once), each shard in order."""
    stream = f"kill-{uuid.uuid4().hex[:8]}"
    application = f"app-{stream}"
    create_active(kinesis, stream, shards=4)
    producer = Producer(kinesis, stream)
    victim, survivor = (
        RheoClientWorker(tmp_path, name, stream=stream, application=application, endpoint=rheo.endpoint).start()
        for name in ("victim", "survivor")
    )
    try:
        # Records keep coming until both workers process some, that is, both hold leases.
        rounds = iter(range(10_000))

        def both_reading():
            producer.put_plain(20, f"warm-{next(rounds)}")
            return all(records(worker.events()) for worker in (victim, survivor))

        wait_until(both_reading, "both workers holding leases", [victim, survivor], timeout_s=READ_TIMEOUT_S)
        victim.kill()
        after = set(producer.put_plain(200, "after-kill"))
        wait_until(lambda: after <= data_seen(survivor.events()), "the survivor reading the victim's shards too",
                   [survivor], timeout_s=READ_TIMEOUT_S)
        missing = set(producer.written) - data_seen(victim.events() + survivor.events())
        assert not missing, f"{len(missing)} records lost, e.g. {sorted(missing)[:5]}"
        # The victim's shards changed hands: the survivor now reads all four.
        assert len({e["shard"] for e in records(survivor.events()) if e["data"] in after}) == 4
        assert_in_shard_order(survivor.events())
    finally:
        victim.stop()
        survivor.stop()
    assert survivor.process.returncode == 0, survivor.log_tail()
