"""A KCL application handed over between the real Java KCL (the KCL 3.x MultiLangDaemon with the
journaling Python processor) and rheo-client's consumer (its example worker,
crates/client/examples/consume.rs), in both directions, through the same lease table in Rheo's
DynamoDB: whoever takes over resumes exactly after the other's checkpoints. On the way, the Java
KCL de-aggregates aggregates that rheo-client's producer (`rheo put --aggregate`) made.

Run with the other KCL scenarios by tests/e2e/kcl/run.sh (marker kcl).
"""

import collections
import pathlib
import subprocess
import sys

import boto3
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "kcl"))

from conftest import create_active, rheo_binary  # noqa: E402
from harness import (  # noqa: E402
    Producer,
    data_seen,
    last_checkpoints,
    position,
    records,
    wait_until,
)
from test_kcl import (  # noqa: E402,F401 (kcl_env is a fixture)
    all_processed,
    assert_deaggregated,
    assert_exactly_once,
    assert_in_shard_order,
    kcl_env,
)

pytestmark = pytest.mark.kcl

SHARDS = {"shardId-000000000000", "shardId-000000000001"}


def lease_checkpoints(kcl_env):
    """Per shard, the (sequence, sub-sequence) checkpoint in the lease table, for record positions."""
    return {
        shard: (int(lease["checkpoint"]), int(lease.get("checkpointSubSequenceNumber", 0)))
        for shard, lease in kcl_env.leases().items()
        if lease["checkpoint"].isdigit()
    }


def assert_resumed_exactly_after(first_events, second_events, checkpoints):
    """The second worker processed nothing at or before the first one's checkpoints, and in each
    shard the first checkpointed, it started with a user record the first had not processed
    (with the exactly-once and order checks: the very next one)."""
    for event in records(second_events):
        if event["shard"] in checkpoints:
            assert position(event) > checkpoints[event["shard"]], (
                f"{event['data']} on {event['shard']} is at or before the checkpoint and came again")
    first_data = data_seen(first_events)
    for shard in checkpoints:
        later = [e for e in records(second_events) if e["shard"] == shard]
        assert later, f"nothing after the checkpoint on {shard}"
        assert later[0]["data"] not in first_data


def checkpointed_everything(events):
    """Each shard's last checkpoint is at its last processed record."""
    last_record = {}
    for event in records(events):
        last_record[event["shard"]] = max(position(event), last_record.get(event["shard"], (-1, -1)))
    return last_checkpoints(events) == last_record


def test_java_kcl_hands_over_to_rheo_client(rheo, kinesis, kcl_env):
    create_active(kinesis, kcl_env.stream, shards=2)
    producer = Producer(kinesis, kcl_env.stream)
    producer.put_plain(20, "java")
    producer.put_aggregated(5, "agg-java")
    java = kcl_env.worker("java").start()
    wait_until(all_processed(producer, java), "the Java KCL processing the first records", [java])
    wait_until(lambda: checkpointed_everything(java.events()), "the Java KCL checkpointing its last batches", [java])
    # An operator's stop: KCL 3 ends its processors and releases its leader lock, but leaves its
    # leases owned by itself; they expire after failoverTimeMillis without renewals.
    java.stop()
    java_events = java.events()
    checkpoints = last_checkpoints(java_events)
    assert set(checkpoints) == SHARDS
    assert lease_checkpoints(kcl_env) == checkpoints
    assert {lease["leaseOwner"] for lease in kcl_env.leases().values()} == {"java"}

    # As if KCL 3 had been handing shard 0 over from another Java worker when both stopped: the
    # previous owner stays in `checkpointOwner`, which KCL 3 counts as the lease's real owner.
    # Taking the lease ends that handoff.
    boto3.client("dynamodb", endpoint_url=rheo.endpoint, region_name="us-east-1").update_item(
        TableName=kcl_env.application, Key={"leaseKey": {"S": "shardId-000000000000"}},
        UpdateExpression="SET checkpointOwner = :previous", ExpressionAttributeValues={":previous": {"S": "java-2"}})

    producer.put_plain(20, "rust")
    aggregated = producer.put_aggregated(5, "agg-rust")
    rust = kcl_env.rheo_client_worker("rust").start()
    wait_until(all_processed(producer, java, rust), "rheo-client taking over and processing the rest", [rust])
    rust.stop()
    assert rust.process.returncode == 0, rust.log_tail()
    rust_events = rust.events()

    assert_resumed_exactly_after(java_events, rust_events, checkpoints)
    # The Java worker had checkpointed every record it processed when it was stopped, so nothing
    # is processed twice.
    assert_exactly_once(producer, java_events + rust_events)
    assert_in_shard_order(rust_events)
    assert_deaggregated(rust_events, aggregated)
    # rheo-client's graceful shutdown leaves its last records checkpointed and releases the leases
    # (no owner: the next worker of either kind takes them at once).
    assert not [lease for lease in kcl_env.leases().values() if "leaseOwner" in lease or "checkpointOwner" in lease]
    assert lease_checkpoints(kcl_env) == {
        shard: max(position(e) for e in records(rust_events) if e["shard"] == shard) for shard in SHARDS
    }


def put_with_rheo_client(endpoint, stream, lines):
    """`rheo put --aggregate`: rheo-client's producer, aggregating user records per shard."""
    subprocess.run(
        [str(rheo_binary()), "put", "--endpoint", endpoint, "--aggregate", stream],
        input="".join(f"{line}\n" for line in lines).encode(), check=True, timeout=60,
    )


def test_rheo_client_hands_over_to_java_kcl_mid_aggregate(rheo, kinesis, kcl_env):
    create_active(kinesis, kcl_env.stream, shards=2)
    producer = Producer(kinesis, kcl_env.stream)
    # One aggregate of 40 user records per shard, then plain records: rheo-client stops after 30
    # user records in all, so whichever shards it read, it stops inside an aggregate, and its
    # checkpoint there carries a sub-sequence number the Java KCL must resume after.
    producer.put_aggregated(40, "agg-first")
    producer.put_plain(10, "plain")
    rust = kcl_env.rheo_client_worker("rust", stop_after=30).start()
    assert rust.exit_code() == 0, rust.log_tail()
    rust_events = rust.events()
    assert len(rust_events) == 30
    checkpoints = lease_checkpoints(kcl_env)
    # The lease table holds exactly the last user record rheo-client processed in each shard it read.
    assert checkpoints == {
        shard: max(position(e) for e in rust_events if e["shard"] == shard)
        for shard in {e["shard"] for e in rust_events}
    }
    assert checkpoints and all(sub_sequence < 39 for _, sub_sequence in checkpoints.values())

    java = kcl_env.worker("java").start()
    wait_until(all_processed(producer, rust, java), "the Java KCL taking over and processing the rest", [java])
    # Aggregates made by rheo-client's producer, read by the Java KCL from the start.
    produced = [f"rheo-put-{i}" for i in range(60)]
    put_with_rheo_client(rheo.endpoint, kcl_env.stream, produced)
    producer.written += produced
    wait_until(all_processed(producer, rust, java), "the records rheo-client's producer aggregated", [java])
    java_events = java.events()

    assert_resumed_exactly_after(rust_events, java_events, checkpoints)
    # rheo-client checkpointed exactly what it processed, so nothing is processed twice.
    assert_exactly_once(producer, rust_events + java_events)
    assert_in_shard_order(java_events)
    # KCL de-aggregated rheo-client's aggregates: the user records of one Kinesis record share its
    # sequence number and carry sub-sequence numbers 0..n-1, and there were aggregates.
    by_record = collections.defaultdict(list)
    for event in records(java_events):
        if event["data"] in produced:
            by_record[(event["shard"], event["sequence"])].append(event["sub_sequence"])
    assert all(sub_sequences == list(range(len(sub_sequences))) for sub_sequences in by_record.values())
    assert sum(len(s) for s in by_record.values()) == len(produced)
    assert len(by_record) < len(produced), "rheo put --aggregate made no aggregate"
