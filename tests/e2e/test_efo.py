"""Enhanced fan-out with boto3: SubscribeToShard over HTTP/1.1 (botocore reads the
chunked event stream incrementally and requires the initial-response event first).

Its own server, with a short subscription lifetime and heartbeat period, so that a test
sees idle events and the end of a subscription in seconds."""

import time

import pytest
from botocore.exceptions import ClientError, EventStreamError

from conftest import Rheo, create_active, read_shard

LIFETIME_MS = 3000
HEARTBEAT_MS = 250
MIDDLE = 2**127


@pytest.fixture(scope="module")
def efo(tmp_path_factory):
    server = Rheo(
        tmp_path_factory.mktemp("rheo-efo"),
        "--subscription-lifetime-ms", str(LIFETIME_MS),
        "--subscription-heartbeat-ms", str(HEARTBEAT_MS),
    ).start()
    yield server.client()
    server.stop()
    assert server.process.returncode == 0, "rheo did not shut down cleanly on SIGTERM"


def active_consumer(client, stream_name):
    arn = client.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]["StreamARN"]
    consumer = client.register_stream_consumer(StreamARN=arn, ConsumerName="reader")["Consumer"]
    assert consumer["ConsumerStatus"] == "CREATING"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        described = client.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"]
        if described["ConsumerStatus"] == "ACTIVE":
            return consumer["ConsumerARN"]
        time.sleep(0.05)
    raise AssertionError("the consumer did not become ACTIVE")


def put(client, stream_name, items):
    """items: (explicit hash key, data) pairs; returns the sequence numbers."""
    response = client.put_records(
        StreamName=stream_name,
        Records=[{"Data": data, "PartitionKey": "pk", "ExplicitHashKey": str(key)} for key, data in items],
    )
    assert response["FailedRecordCount"] == 0
    return [r["SequenceNumber"] for r in response["Records"]]


def read(events, count):
    """Events until `count` records arrived: (records, last event)."""
    records = []
    while len(records) < count:
        event = next(events)["SubscribeToShardEvent"]
        records.extend(event["Records"])
        if event["Records"]:
            # A resume point after the last record, never a record's own number (issue 14, item 11).
            assert int(event["ContinuationSequenceNumber"]) > int(event["Records"][-1]["SequenceNumber"])
    assert len(records) == count
    return records, event


def shard_end(events):
    """The shard-end event of a closed shard (the one with its children), skipping the idle
    events sent while the stream was UPDATING: a split takes effect when the stream is
    ACTIVE again (issue 14, item 8)."""
    for message in events:
        event = message["SubscribeToShardEvent"]
        if event["Records"] or "ChildShards" in event:
            return event
    raise AssertionError("the stream ended without the shard-end event")


def test_subscriber_follows_a_split_idles_and_ends_after_the_lifetime(efo, stream_name):
    create_active(efo, stream_name)
    consumer = active_consumer(efo, stream_name)
    before = [(1 if i % 2 == 0 else MIDDLE + 1, f"before-{i}".encode()) for i in range(6)]
    written = put(efo, stream_name, before)

    parent = efo.subscribe_to_shard(
        ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "TRIM_HORIZON"}
    )
    assert parent["ResponseMetadata"]["HTTPStatusCode"] == 200
    parent_events = iter(parent["EventStream"])
    records, last = read(parent_events, 6)
    assert [r["Data"] for r in records] == [d for _, d in before]
    assert [r["SequenceNumber"] for r in records] == written
    assert last["MillisBehindLatest"] == 0
    assert all(r["PartitionKey"] == "pk" for r in records)

    efo.split_shard(StreamName=stream_name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(MIDDLE))
    end = shard_end(parent_events)
    assert end["Records"] == []
    assert "ContinuationSequenceNumber" not in end
    children = [c["ShardId"] for c in end["ChildShards"]]
    assert children == ["shardId-000000000001", "shardId-000000000002"]
    assert end["ChildShards"][1]["HashKeyRange"]["StartingHashKey"] == str(MIDDLE)
    with pytest.raises(StopIteration):
        next(parent_events)

    low = iter(efo.subscribe_to_shard(
        ConsumerARN=consumer, ShardId=children[0], StartingPosition={"Type": "TRIM_HORIZON"}
    )["EventStream"])
    high = iter(efo.subscribe_to_shard(
        ConsumerARN=consumer, ShardId=children[1], StartingPosition={"Type": "TRIM_HORIZON"}
    )["EventStream"])
    started = time.monotonic()
    after = [(1 if i % 2 == 0 else MIDDLE + 1, f"after-{i}".encode()) for i in range(8)]
    put(efo, stream_name, after)
    assert [r["Data"] for r in read(low, 4)[0]] == [d for i, (_, d) in enumerate(after) if i % 2 == 0]
    assert [r["Data"] for r in read(high, 4)[0]] == [d for i, (_, d) in enumerate(after) if i % 2 == 1]

    # Idle: events keep coming, without records, until the lifetime ends the stream.
    idle = 0
    for event in low:
        assert event["SubscribeToShardEvent"]["Records"] == []
        idle += 1
    lasted = time.monotonic() - started
    assert idle >= 4, f"{idle} idle events"
    assert LIFETIME_MS / 1000 - 0.5 <= lasted < LIFETIME_MS / 1000 + 3, lasted


def test_every_starting_position(efo, stream_name):
    create_active(efo, stream_name)
    consumer = active_consumer(efo, stream_name)
    first = put(efo, stream_name, [(1, b"a"), (1, b"b")])
    time.sleep(0.05)
    middle = time.time()
    time.sleep(0.05)
    put(efo, stream_name, [(1, b"c")])
    cases = [
        ({"Type": "TRIM_HORIZON"}, [b"a", b"b", b"c"]),
        ({"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": first[1]}, [b"b", b"c"]),
        ({"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": first[1]}, [b"c"]),
        ({"Type": "AT_TIMESTAMP", "Timestamp": middle}, [b"c"]),
    ]
    for position, expected in cases:
        response = efo.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition=position)
        stream = response["EventStream"]
        records, _ = read(iter(stream), len(expected))
        assert [r["Data"] for r in records] == expected, position
        stream.close()
        # The server frees the consumer's slot once it sees the connection gone.
        wait_until_subscribable(efo, consumer)


def test_resuming_at_the_continuation_repeats_and_skips_nothing(efo, stream_name):
    """Issue 14, item 11: ContinuationSequenceNumber is no delivered record's number, and
    resuming there with AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER (GetShardIterator or
    SubscribeToShard) starts at exactly the first record not yet delivered."""
    create_active(efo, stream_name)
    consumer = active_consumer(efo, stream_name)
    written = put(efo, stream_name, [(1, b"a"), (1, b"b")])
    stream = efo.subscribe_to_shard(
        ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "TRIM_HORIZON"}
    )["EventStream"]
    records, last = read(iter(stream), 2)
    stream.close()
    continuation = last["ContinuationSequenceNumber"]
    assert continuation not in written
    # A record arriving right after the event: resuming must neither repeat b nor skip c.
    following = put(efo, stream_name, [(1, b"c")])
    assert int(written[1]) < int(continuation) < int(following[0])
    for kind in ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"]:
        polled, _ = read_shard(
            efo, stream_name, "shardId-000000000000", iterator_type=kind, StartingSequenceNumber=continuation
        )
        assert [(r["Data"], r["SequenceNumber"]) for r in polled] == [(b"c", following[0])], kind
        wait_until_subscribable(efo, consumer)
        stream = efo.subscribe_to_shard(
            ConsumerARN=consumer,
            ShardId="shardId-000000000000",
            StartingPosition={"Type": kind, "SequenceNumber": continuation},
        )["EventStream"]
        pushed, _ = read(iter(stream), 1)
        stream.close()
        assert [(r["Data"], r["SequenceNumber"]) for r in pushed] == [(b"c", following[0])], kind
        wait_until_subscribable(efo, consumer)


def wait_until_subscribable(client, consumer):
    deadline = time.monotonic() + 10
    while True:
        try:
            response = client.subscribe_to_shard(
                ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"}
            )
            response["EventStream"].close()
            # This probe held the slot too: wait for it to be released as well.
            time.sleep(0.2)
            return
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceInUseException"
            assert time.monotonic() < deadline, "the slot was never released"
            time.sleep(0.05)


def test_errors_before_and_during_the_stream(efo, stream_name):
    create_active(efo, stream_name)
    consumer = active_consumer(efo, stream_name)
    with pytest.raises(ClientError) as unknown:
        efo.subscribe_to_shard(
            ConsumerARN=consumer.replace("consumer/reader:", "consumer/nobody:"),
            ShardId="shardId-000000000000",
            StartingPosition={"Type": "LATEST"},
        )
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as shard:
        efo.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000042", StartingPosition={"Type": "LATEST"})
    assert shard.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as position:
        efo.subscribe_to_shard(
            ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "AT_TIMESTAMP"}
        )
    assert position.value.response["Error"]["Code"] == "InvalidArgumentException"

    events = iter(efo.subscribe_to_shard(
        ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"}
    )["EventStream"])
    with pytest.raises(ClientError) as in_use:
        efo.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"})
    assert in_use.value.response["Error"]["Code"] == "ResourceInUseException"

    # Deleting the stream ends the subscription with a ResourceNotFoundException frame.
    efo.delete_stream(StreamName=stream_name, EnforceConsumerDeletion=True)
    with pytest.raises(EventStreamError) as ended:
        for _ in events:
            pass
    assert ended.value.response["Error"]["Code"] == "ResourceNotFoundException"
