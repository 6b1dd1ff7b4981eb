"""Kinesis queues and their dead-letter records, driven by boto3 against the real binary.

The rules tested come from the AWS API reference (CreateQueue, QueueAttributes,
DeadLetterConfiguration, ReceiveQueueRecords, AcknowledgeQueueRecords,
UpdateQueueRecordsVisibility, the *DeadLetterQueueRecords pages, DeleteQueue, DeleteStream and
UpdateStreamMode) and botocore 1.44.8's model of them. Where AWS does not document an error's
exact type or text, a test accepts the documented candidates and asks only for a message.

Every wait for a record is a long poll (WaitTimeSeconds) rather than a sleep: a poll returns as
soon as a record is visible, so visibility timeouts of a second or two keep the file short."""

import datetime
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import Rheo, create_active, wait_for_status

ACCOUNT = "000000000000"
QUEUE_ARN_PREFIX = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:queue/"
# API_QueueAttributes: 30 s when omitted; API_DeadLetterConfiguration: BUILT_IN with 6.
DEFAULT_VISIBILITY_S = 30
DEFAULT_MAX_RECEIVE_COUNT = 6
# The *ErrorEntry pages list these codes for an entry that failed.
ENTRY_ERROR_CODES = {"ResourceNotFoundException", "InvalidArgumentException"}
STATUS_TIMEOUT_S = 10.0


@pytest.fixture
def client(kinesis):
    """The shared server's client (conftest), under a name that reads well beside others."""
    return kinesis


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(excinfo):
    error = excinfo.value.response["Error"]
    return error["Code"], error.get("Message")


def on_demand_stream(client, name=None):
    """An ACTIVE ON_DEMAND stream; returns (name, ARN)."""
    name = name or unique("qs")
    client.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = wait_for_status(client, name)
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    return name, summary["StreamARN"]


def wait_for_queue(client, arn, status="ACTIVE"):
    deadline = time.monotonic() + STATUS_TIMEOUT_S
    while time.monotonic() < deadline:
        description = client.describe_queue(QueueARN=arn)["QueueDescription"]
        if description["QueueStatus"] == status:
            return description
        time.sleep(0.05)
    raise AssertionError(f"queue {arn} did not become {status}")


def wait_for_queue_gone(client, arn):
    deadline = time.monotonic() + STATUS_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            client.describe_queue(QueueARN=arn)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ResourceNotFoundException"
            return
        time.sleep(0.05)
    raise AssertionError(f"queue {arn} was not deleted")


def delete_queue(client, arn):
    """Deletes a queue and waits until it is gone: AWS allows only five queues CREATING or
    DELETING at once per account (developer guide, queue quotas)."""
    client.delete_queue(QueueARN=arn)
    wait_for_queue_gone(client, arn)


def active_queue(client, stream_arn, name=None, visibility=None, max_receive=None, **create):
    """Creates a queue reading the stream from TRIM_HORIZON and waits until it is ACTIVE;
    returns its ARN."""
    attributes = {}
    if visibility is not None:
        attributes["VisibilityTimeoutSeconds"] = visibility
    if max_receive is not None:
        attributes["DeadLetterConfiguration"] = {"TargetType": "BUILT_IN", "MaxReceiveCount": max_receive}
    if attributes:
        create["QueueAttributes"] = attributes
    description = client.create_queue(
        QueueName=name or unique("q"),
        StreamConfigurationList=[{"StreamARN": stream_arn, "StartingPosition": {"Type": "TRIM_HORIZON"}}],
        **create,
    )["QueueDescription"]
    return wait_for_queue(client, description["QueueARN"])["QueueARN"]


def put(client, stream_name, payloads):
    """Puts each payload (bytes) with its own partition key; returns them as a set."""
    for start in range(0, len(payloads), 500):
        chunk = payloads[start:start + 500]
        response = client.put_records(
            StreamName=stream_name,
            Records=[{"Data": data, "PartitionKey": f"pk-{start + i}"} for i, data in enumerate(chunk)],
        )
        assert response["FailedRecordCount"] == 0
    return set(payloads)


def receive(client, arn, wait=1, limit=10, **kwargs):
    return client.receive_queue_records(QueueARN=arn, Limit=limit, WaitTimeSeconds=wait, **kwargs)["QueueRecords"]


def receive_dead(client, arn, wait=1, limit=10, **kwargs):
    return client.receive_dead_letter_queue_records(
        QueueARN=arn, Limit=limit, WaitTimeSeconds=wait, **kwargs
    )["QueueRecords"]


def acknowledge(client, arn, records):
    """Acknowledges records (or receipt handles); every entry must succeed."""
    handles = [r if isinstance(r, str) else r["ReceiptHandle"] for r in records]
    for start in range(0, len(handles), 10):
        chunk = handles[start:start + 10]
        response = client.acknowledge_queue_records(
            QueueARN=arn, Entries=[{"ReceiptHandle": h} for h in chunk]
        )
        assert response["Failed"] == []
        assert sorted(e["ReceiptHandle"] for e in response["Successful"]) == sorted(chunk)


def assert_well_formed(record):
    assert set(record) >= {
        "ReceiptHandle", "RecordId", "PartitionKey", "Data",
        "ApproximateArrivalTimestamp", "FirstReceiveTimestamp", "ReceiveCount",
    }
    assert 1 <= len(record["ReceiptHandle"]) <= 1024
    assert record["RecordId"] and record["ReceiveCount"] >= 1


def test_every_queue_operation_through_boto3(client):
    stream_name, stream_arn = on_demand_stream(client)
    name = unique("orders")
    created = client.create_queue(
        QueueName=name,
        StreamConfigurationList=[{"StreamARN": stream_arn, "StartingPosition": {"Type": "TRIM_HORIZON"}}],
        QueueAttributes={
            "VisibilityTimeoutSeconds": 45,
            "DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 3},
        },
        Tags={"team": "payments"},
    )["QueueDescription"]
    arn = created["QueueARN"]
    # API_CreateQueue: the answer comes at once with CREATING; ACTIVE follows.
    assert created["QueueStatus"] == "CREATING"
    assert created["QueueName"] == name
    assert arn.startswith(QUEUE_ARN_PREFIX)
    # QueueStartingPosition (model): while CREATING, TRIM_HORIZON is echoed without a Timestamp.
    assert created["StreamConfigurationList"] == [
        {"StreamARN": stream_arn, "StartingPosition": {"Type": "TRIM_HORIZON"}}
    ]
    assert created["QueueAttributes"] == {
        "VisibilityTimeoutSeconds": 45,
        "DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 3},
    }
    described = wait_for_queue(client, arn)
    assert described["QueueName"] == name and described["QueueARN"] == arn
    assert described["QueueCreationTimestamp"] == created["QueueCreationTimestamp"]
    [configuration] = described["StreamConfigurationList"]
    assert configuration["StreamARN"] == stream_arn
    assert configuration["StartingPosition"]["Type"] == "TRIM_HORIZON"
    assert described["QueueAttributes"] == created["QueueAttributes"]

    # A second queue on the same stream under the same name is refused.
    with pytest.raises(ClientError) as excinfo:
        client.create_queue(QueueName=name, StreamConfigurationList=[{"StreamARN": stream_arn}])
    code, message = error_of(excinfo)
    assert code == "ResourceInUseException" and message

    # Omitted attributes take AWS's defaults (API_QueueAttributes, API_DeadLetterConfiguration),
    # and an omitted StartingPosition is LATEST (API_CreateQueue).
    plain = client.create_queue(QueueName=unique("plain"), StreamConfigurationList=[{"StreamARN": stream_arn}])
    plain_arn = plain["QueueDescription"]["QueueARN"]
    plain = wait_for_queue(client, plain_arn)
    assert plain["QueueAttributes"] == {
        "VisibilityTimeoutSeconds": DEFAULT_VISIBILITY_S,
        "DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": DEFAULT_MAX_RECEIVE_COUNT},
    }
    assert plain["StreamConfigurationList"][0]["StartingPosition"]["Type"] == "LATEST"

    # DescribeStreamSummary counts queues apart from enhanced fan-out consumers (model docs).
    summary = client.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert summary["QueueCount"] == 2
    assert summary.get("ConsumerCount", 0) == 0

    # ListQueues: everything, filtered by stream, and paged.
    listed = client.list_queues()["QueueSummaries"]
    summary = next(s for s in listed if s["QueueARN"] == arn)
    assert summary["QueueName"] == name and summary["QueueStatus"] == "ACTIVE"
    assert summary["QueueCreationTimestamp"] == created["QueueCreationTimestamp"]
    assert [s["StreamARN"] for s in summary["Streams"]] == [stream_arn]
    assert "StreamCreationTimestamp" in summary["Streams"][0]
    filtered = client.list_queues(StreamFilter=[{"StreamARN": stream_arn}])["QueueSummaries"]
    assert sorted(s["QueueARN"] for s in filtered) == sorted([arn, plain_arn])
    page = client.list_queues(StreamFilter=[{"StreamARN": stream_arn}], MaxResults=1)
    assert len(page["QueueSummaries"]) == 1 and page["NextToken"]
    paged = [s["QueueARN"] for s in page["QueueSummaries"]]
    while page.get("NextToken"):
        page = client.list_queues(NextToken=page["NextToken"], MaxResults=1)
        assert len(page["QueueSummaries"]) <= 1
        paged.extend(s["QueueARN"] for s in page["QueueSummaries"])
    assert sorted(paged) == sorted([arn, plain_arn])

    # Tags on the queue ARN.
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "payments"}]
    client.tag_resource(ResourceARN=arn, Tags={"env": "test"})
    tags = client.list_tags_for_resource(ResourceARN=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "test"), ("team", "payments")]
    client.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "test"}]

    # UpdateQueue changes what it is given and leaves the rest (API_UpdateQueue).
    updated = client.update_queue(QueueARN=arn, QueueAttributes={"VisibilityTimeoutSeconds": 7})["QueueDescription"]
    assert updated["QueueStatus"] in ("UPDATING", "ACTIVE")
    after = wait_for_queue(client, arn)
    assert after["QueueAttributes"] == {
        "VisibilityTimeoutSeconds": 7,
        "DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 3},
    }
    client.update_queue(QueueARN=arn, QueueAttributes={"DeadLetterConfiguration": {"TargetType": "NONE"}})
    after = wait_for_queue(client, arn)
    assert after["QueueAttributes"]["VisibilityTimeoutSeconds"] == 7
    assert after["QueueAttributes"]["DeadLetterConfiguration"]["TargetType"] == "NONE"

    # DeleteQueue: DELETING at first (API_DeleteQueue), then not found everywhere.
    assert client.delete_queue(QueueARN=arn)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert client.describe_queue(QueueARN=arn)["QueueDescription"]["QueueStatus"] == "DELETING"
    wait_for_queue_gone(client, arn)
    assert arn not in [s["QueueARN"] for s in client.list_queues()["QueueSummaries"]]
    with pytest.raises(ClientError) as excinfo:
        client.receive_queue_records(QueueARN=arn, WaitTimeSeconds=1)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        client.update_queue(QueueARN=arn, QueueAttributes={"VisibilityTimeoutSeconds": 1})
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    delete_queue(client, plain_arn)
    client.delete_stream(StreamName=stream_name)


def test_starting_positions(client):
    """QueueStartingPosition (model): AT_TIMESTAMP delivers what arrived at or after the time;
    once a queue is ACTIVE its description always carries the effective Timestamp."""
    stream_name, stream_arn = on_demand_stream(client)
    put(client, stream_name, [b"old"])
    time.sleep(1.1)  # arrival times have millisecond precision; keep the two well apart
    middle = datetime.datetime.now(datetime.timezone.utc)
    client.put_record(StreamName=stream_name, Data=b"new", PartitionKey="k")

    created = client.create_queue(
        QueueName=unique("at"),
        StreamConfigurationList=[
            {"StreamARN": stream_arn, "StartingPosition": {"Type": "AT_TIMESTAMP", "Timestamp": middle}}
        ],
    )["QueueDescription"]
    at_arn = created["QueueARN"]
    position = wait_for_queue(client, at_arn)["StreamConfigurationList"][0]["StartingPosition"]
    assert position["Type"] == "AT_TIMESTAMP"
    assert abs((position["Timestamp"] - middle).total_seconds()) < 1
    records = receive(client, at_arn, wait=5)
    assert [r["Data"] for r in records] == [b"new"]
    acknowledge(client, at_arn, records)
    assert receive(client, at_arn, wait=1) == []

    trim_arn = active_queue(client, stream_arn)
    position = client.describe_queue(QueueARN=trim_arn)["QueueDescription"]["StreamConfigurationList"][0][
        "StartingPosition"
    ]
    assert position["Type"] == "TRIM_HORIZON"
    assert "Timestamp" in position, "an ACTIVE queue describes its effective starting time"
    for arn in (at_arn, trim_arn):
        delete_queue(client, arn)


def test_a_queue_on_a_provisioned_stream_is_refused(client):
    name = unique("prov")
    summary = create_active(client, name)
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    with pytest.raises(ClientError) as excinfo:
        client.create_queue(QueueName=unique("q"), StreamConfigurationList=[{"StreamARN": summary["StreamARN"]}])
    code, message = error_of(excinfo)
    # API_CreateQueue: "Queues are supported only on data streams in on-demand capacity mode";
    # AWS does not say which of its listed errors carries that.
    assert code in ("InvalidArgumentException", "ValidationException") and message
    assert client.list_queues(StreamFilter=[{"StreamARN": summary["StreamARN"]}])["QueueSummaries"] == []


def test_a_stream_with_a_queue_cannot_be_deleted_or_made_provisioned(client):
    stream_name, stream_arn = on_demand_stream(client)
    arn = active_queue(client, stream_arn)
    # API_DeleteStream: queues must be deleted first, whatever EnforceConsumerDeletion says.
    for kwargs in ({}, {"EnforceConsumerDeletion": True}):
        with pytest.raises(ClientError) as excinfo:
            client.delete_stream(StreamName=stream_name, **kwargs)
        code, message = error_of(excinfo)
        assert code == "ResourceInUseException" and message
    # API_UpdateStreamMode: no switch to provisioned while a queue exists.
    with pytest.raises(ClientError) as excinfo:
        client.update_stream_mode(StreamARN=stream_arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    code, message = error_of(excinfo)
    assert code in ("ResourceInUseException", "InvalidArgumentException", "ValidationException") and message
    summary = client.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert client.describe_queue(QueueARN=arn)["QueueDescription"]["QueueStatus"] == "ACTIVE"

    delete_queue(client, arn)
    client.delete_stream(StreamName=stream_name)
    wait_for_status(client, stream_name, "DELETING")


def test_a_deleted_queue_no_longer_holds_its_stream(client):
    """Once DescribeQueue says a deleted queue is gone, its stream counts no queue and can be
    deleted (API_DeleteQueue, API_DeleteStream). Three rounds, deleting the stream at once."""
    for _ in range(3):
        stream_name, stream_arn = on_demand_stream(client)
        delete_queue(client, active_queue(client, stream_arn))
        summary = client.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
        assert summary["QueueCount"] == 0
        client.delete_stream(StreamName=stream_name)


def test_queues_share_the_registered_consumer_limit(tmp_path):
    """API_CreateQueue: a queue counts as a registered consumer and shares the stream's limit
    with enhanced fan-out consumers; DescribeStreamSummary counts them apart (model docs)."""
    server = Rheo(tmp_path / "data", "--consumer-limit", "2").start()
    try:
        client = server.client()
        stream_name, stream_arn = on_demand_stream(client)
        client.register_stream_consumer(StreamARN=stream_arn, ConsumerName="fan-out")
        first = active_queue(client, stream_arn)
        summary = client.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
        assert (summary["ConsumerCount"], summary["QueueCount"]) == (1, 1)
        with pytest.raises(ClientError) as excinfo:
            client.create_queue(QueueName=unique("q"), StreamConfigurationList=[{"StreamARN": stream_arn}])
        code, message = error_of(excinfo)
        assert code == "LimitExceededException" and message
        with pytest.raises(ClientError) as excinfo:
            client.register_stream_consumer(StreamARN=stream_arn, ConsumerName="second")
        assert error_of(excinfo)[0] == "LimitExceededException"
        # Deleting the queue frees its place.
        delete_queue(client, first)
        active_queue(client, stream_arn)
    finally:
        server.stop()
    assert server.process.returncode == 0


def test_two_concurrent_receivers_share_the_records_without_overlap(rheo, client):
    stream_name, stream_arn = on_demand_stream(client)
    # Long enough that nothing comes back while the test runs: every receive below happens
    # within one visibility window.
    arn = active_queue(client, stream_arn, visibility=120)
    expected = put(client, stream_name, [f"record-{i}".encode() for i in range(200)])

    received = {0: [], 1: []}
    failures = []
    start = threading.Barrier(2)

    # One client per receiver (so one connection each, as two consumer instances would have);
    # made here because creating boto3 clients is not thread-safe.
    clients = [rheo.client(), rheo.client()]

    def receiver(index):
        try:
            own = clients[index]
            start.wait()
            while True:
                batch = receive(own, arn, wait=1)
                if not batch:
                    return
                received[index].extend(batch)
        except Exception as e:  # reported by the main thread
            failures.append(e)

    threads = [threading.Thread(target=receiver, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    assert not any(t.is_alive() for t in threads)

    every = received[0] + received[1]
    for record in every:
        assert_well_formed(record)
        assert record["ReceiveCount"] == 1
    ids = [r["RecordId"] for r in every]
    assert len(ids) == len(set(ids)), "a record was delivered twice within its visibility timeout"
    assert {r["Data"] for r in every} == expected
    assert len(every) == len(expected)
    assert received[0] and received[1], "both receivers should have been served"
    assert {r["PartitionKey"] for r in every} == {f"pk-{i}" for i in range(200)}

    acknowledge(client, arn, every)
    assert receive(client, arn, wait=1) == []
    delete_queue(client, arn)


def test_an_unacknowledged_record_is_redelivered_after_its_visibility_timeout(client):
    stream_name, stream_arn = on_demand_stream(client)
    arn = active_queue(client, stream_arn, visibility=2)
    put(client, stream_name, [b"retry-me"])

    first = receive(client, arn, wait=5)
    assert [r["Data"] for r in first] == [b"retry-me"]
    assert first[0]["ReceiveCount"] == 1
    # Not acknowledged: it comes back once the queue's 2 s pass, inside this long poll.
    again = receive(client, arn, wait=10)
    assert [r["Data"] for r in again] == [b"retry-me"]
    assert again[0]["RecordId"] == first[0]["RecordId"]
    assert again[0]["ReceiveCount"] == 2
    assert again[0]["FirstReceiveTimestamp"] == first[0]["FirstReceiveTimestamp"]
    assert again[0]["ReceiptHandle"] != first[0]["ReceiptHandle"], "each receive issues a new handle"

    # The first receive's handle no longer names the current delivery (API_QueueRecord: a new
    # receipt handle is issued each time the record is received).
    stale = client.acknowledge_queue_records(QueueARN=arn, Entries=[{"ReceiptHandle": first[0]["ReceiptHandle"]}])
    assert stale["Successful"] == [] and len(stale["Failed"]) == 1
    assert stale["Failed"][0]["ErrorCode"] in ENTRY_ERROR_CODES

    # A per-call VisibilityTimeoutSeconds overrides the queue's: with 60 s the record stays
    # hidden through the next long poll.
    third = receive(client, arn, wait=5, VisibilityTimeoutSeconds=60)
    assert [r["ReceiveCount"] for r in third] == [3]
    assert receive(client, arn, wait=3) == []
    acknowledge(client, arn, third)
    delete_queue(client, arn)


def test_visibility_zero_makes_a_record_visible_at_once(client):
    stream_name, stream_arn = on_demand_stream(client)
    arn = active_queue(client, stream_arn, visibility=600)
    put(client, stream_name, [b"a", b"b"])
    records = []
    while len(records) < 2:
        batch = receive(client, arn, wait=5)
        assert batch, "records put before were not delivered"
        records.extend(batch)
    by_data = {r["Data"]: r for r in records}
    changed = client.update_queue_records_visibility(
        QueueARN=arn,
        Entries=[{"ReceiptHandle": by_data[b"a"]["ReceiptHandle"], "VisibilityTimeoutSeconds": 0}],
    )
    assert changed["Failed"] == []
    assert changed["Successful"] == [{"ReceiptHandle": by_data[b"a"]["ReceiptHandle"]}]
    # Without the change the record would stay hidden for ten minutes.
    back = receive(client, arn, wait=5)
    assert [(r["Data"], r["ReceiveCount"]) for r in back] == [(b"a", 2)]
    acknowledge(client, arn, back + [by_data[b"b"]])
    assert receive(client, arn, wait=1) == []
    delete_queue(client, arn)


def test_dead_letter_records_can_be_acknowledged_or_restored(client):
    stream_name, stream_arn = on_demand_stream(client)
    arn = active_queue(client, stream_arn, visibility=600, max_receive=2)
    put(client, stream_name, [b"poison", b"flaky"])

    # Receive both twice, each time making them visible again at once afterwards.
    for attempt in (1, 2):
        batch = []
        while len(batch) < 2:
            more = receive(client, arn, wait=5)
            assert more, f"receive {attempt} found fewer than two records"
            batch.extend(more)
        assert sorted((r["Data"], r["ReceiveCount"]) for r in batch) == [(b"flaky", attempt), (b"poison", attempt)]
        released = client.update_queue_records_visibility(
            QueueARN=arn,
            Entries=[{"ReceiptHandle": r["ReceiptHandle"], "VisibilityTimeoutSeconds": 0} for r in batch],
        )
        assert released["Failed"] == []
    ids = {r["Data"]: r["RecordId"] for r in batch}

    # Received MaxReceiveCount times without an acknowledgement: the dead-letter side has them
    # and the normal path does not.
    dead = []
    while len(dead) < 2:
        more = receive_dead(client, arn, wait=5)
        assert more, "the dead-letter side did not get both records"
        dead.extend(more)
    for record in dead:
        assert_well_formed(record)
    assert sorted(r["Data"] for r in dead) == [b"flaky", b"poison"]
    assert {r["Data"]: r["RecordId"] for r in dead} == ids
    assert {r["PartitionKey"] for r in dead} == {"pk-0", "pk-1"}
    assert receive(client, arn, wait=1) == []
    dead_by_data = {r["Data"]: r for r in dead}

    # The poison record is discarded.
    acked = client.acknowledge_dead_letter_queue_records(
        QueueARN=arn, Entries=[{"ReceiptHandle": dead_by_data[b"poison"]["ReceiptHandle"]}]
    )
    assert acked["Failed"] == []
    assert acked["Successful"] == [{"ReceiptHandle": dead_by_data[b"poison"]["ReceiptHandle"]}]

    # The flaky one is made visible again on the dead-letter side, received there again…
    changed = client.update_dead_letter_queue_records_visibility(
        QueueARN=arn,
        Entries=[{"ReceiptHandle": dead_by_data[b"flaky"]["ReceiptHandle"], "VisibilityTimeoutSeconds": 0}],
    )
    assert changed["Failed"] == []
    again = receive_dead(client, arn, wait=5)
    assert [r["Data"] for r in again] == [b"flaky"]

    # …and restored: the normal path delivers it again with a fresh receive count
    # (API_RestoreDeadLetterQueueRecords resets it).
    restored = client.restore_dead_letter_queue_records(
        QueueARN=arn, Entries=[{"ReceiptHandle": again[0]["ReceiptHandle"]}]
    )
    assert restored["Failed"] == []
    assert restored["Successful"] == [{"ReceiptHandle": again[0]["ReceiptHandle"]}]
    back = receive(client, arn, wait=5)
    assert [(r["Data"], r["RecordId"], r["ReceiveCount"]) for r in back] == [(b"flaky", ids[b"flaky"], 1)]
    acknowledge(client, arn, back)
    assert receive(client, arn, wait=1) == []
    assert receive_dead(client, arn, wait=1) == []
    delete_queue(client, arn)


def test_long_polling_returns_as_soon_as_a_record_arrives(client):
    stream_name, stream_arn = on_demand_stream(client)
    put(client, stream_name, [b"before-the-queue"])
    # The default StartingPosition, LATEST, skips what the stream already held.
    created = client.create_queue(QueueName=unique("latest"), StreamConfigurationList=[{"StreamARN": stream_arn}])
    arn = wait_for_queue(client, created["QueueDescription"]["QueueARN"])["QueueARN"]
    assert receive(client, arn, wait=1) == []
    outcome = {}
    waiting = threading.Event()

    def poll():
        waiting.set()
        started = time.monotonic()
        outcome["records"] = receive(client, arn, wait=20)
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    waiting.wait()
    # Give the poll time to reach the server before the record exists; if it has not, the
    # poll finds the record at once, and the test still holds.
    time.sleep(0.5)
    put(client, stream_name, [b"wake-up"])
    thread.join(30)
    assert not thread.is_alive()
    assert [r["Data"] for r in outcome["records"]] == [b"wake-up"]
    # Not a speed assertion: a poll that waited out its full 20 s did not return on arrival.
    assert outcome["elapsed"] < 20
    acknowledge(client, arn, outcome["records"])
    delete_queue(client, arn)


def test_invalid_receipt_handles_fail_per_entry(client):
    stream_name, stream_arn = on_demand_stream(client)
    arn = active_queue(client, stream_arn, visibility=600)
    other = active_queue(client, stream_arn, visibility=600)
    put(client, stream_name, [b"x"])
    mine = receive(client, arn, wait=5)
    theirs = receive(client, other, wait=5)
    assert [r["Data"] for r in mine] == [b"x"] and [r["Data"] for r in theirs] == [b"x"]
    # Every queue on a stream delivers a record under the same id (API_QueueRecord).
    assert mine[0]["RecordId"] == theirs[0]["RecordId"]

    bogus = "not-a-receipt-handle"
    foreign = theirs[0]["ReceiptHandle"]
    valid = mine[0]["ReceiptHandle"]

    def check_failed(response, refused, accepted=()):
        assert sorted(e["ReceiptHandle"] for e in response["Successful"]) == sorted(accepted)
        assert sorted(e["ReceiptHandle"] for e in response["Failed"]) == sorted(refused)
        for entry in response["Failed"]:
            assert entry["ErrorCode"] in ENTRY_ERROR_CODES
            assert entry.get("ErrorMessage")

    check_failed(
        client.update_queue_records_visibility(
            QueueARN=arn,
            Entries=[{"ReceiptHandle": h, "VisibilityTimeoutSeconds": 600} for h in (bogus, foreign, valid)],
        ),
        refused=[bogus, foreign],
        accepted=[valid],
    )
    check_failed(
        client.acknowledge_queue_records(QueueARN=arn, Entries=[{"ReceiptHandle": h} for h in (bogus, foreign, valid)]),
        refused=[bogus, foreign],
        accepted=[valid],
    )
    # A handle of a record on the normal path names no dead-letter record.
    not_dead = [{"ReceiptHandle": h} for h in (bogus, foreign)]
    check_failed(client.acknowledge_dead_letter_queue_records(QueueARN=other, Entries=not_dead), [bogus, foreign])
    check_failed(client.restore_dead_letter_queue_records(QueueARN=other, Entries=not_dead), [bogus, foreign])
    check_failed(
        client.update_dead_letter_queue_records_visibility(
            QueueARN=other, Entries=[{"ReceiptHandle": h, "VisibilityTimeoutSeconds": 0} for h in (bogus, foreign)]
        ),
        [bogus, foreign],
    )
    # The other queue's record is still in flight there, untouched by all of the above.
    assert receive(client, other, wait=1) == []
    acknowledge(client, other, theirs)

    missing = QUEUE_ARN_PREFIX + unique("missing")
    for call in (
        lambda: client.receive_queue_records(QueueARN=missing, WaitTimeSeconds=1),
        lambda: client.acknowledge_queue_records(QueueARN=missing, Entries=[{"ReceiptHandle": valid}]),
        lambda: client.describe_queue(QueueARN=missing),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        code, message = error_of(excinfo)
        assert code == "ResourceNotFoundException" and message
    for queue in (arn, other):
        delete_queue(client, queue)


def test_queue_state_survives_sigkill(tmp_path):
    """kill -9 between receives and acknowledgements: nothing acknowledged comes back,
    in-flight records stay hidden until their own timeout, nothing is lost, receive counts
    are kept."""
    server = Rheo(tmp_path / "data").start()
    try:
        client = server.client()
        stream_name, stream_arn = on_demand_stream(client, "durable-queue")
        arn = active_queue(client, stream_arn, name="durable", visibility=2, max_receive=5)
        put(client, stream_name, [f"r{i:02}".encode() for i in range(30)])

        def take(count, **kwargs):
            got = []
            while len(got) < count:
                batch = receive(client, arn, wait=5, limit=min(10, count - len(got)), **kwargs)
                assert batch, "the queue ran dry before the crash"
                got.extend(batch)
            return got

        acknowledged = take(10)
        acknowledge(client, arn, acknowledged)
        # Received, not acknowledged: these with the queue's 2 s, those hidden for a minute.
        short = take(7)
        long_hidden = take(5, VisibilityTimeoutSeconds=60)
    finally:
        server.kill()
    assert server.process.returncode == -9

    acked_data = {r["Data"] for r in acknowledged}
    short_data = {r["Data"] for r in short}
    hidden_data = {r["Data"] for r in long_hidden}
    assert len(acked_data | short_data | hidden_data) == 22, "a record was delivered twice before the crash"
    never_received = {f"r{i:02}".encode() for i in range(30)} - acked_data - short_data - hidden_data
    assert len(never_received) == 8

    restarted = Rheo(tmp_path / "data").start()
    try:
        client = restarted.client()
        description = wait_for_queue(client, arn)
        assert description["QueueName"] == "durable"
        assert description["QueueAttributes"] == {
            "VisibilityTimeoutSeconds": 2,
            "DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 5},
        }
        put(client, stream_name, [b"after-restart"])
        wanted = short_data | never_received | {b"after-restart"}
        seen = []
        deadline = time.monotonic() + 30
        while not wanted <= {r["Data"] for r in seen} and time.monotonic() < deadline:
            batch = receive(client, arn, wait=5)
            acknowledge(client, arn, batch)
            seen.extend(batch)
        counts = {r["Data"]: r["ReceiveCount"] for r in seen}
        assert wanted <= set(counts), f"lost after the crash: {sorted(wanted - set(counts))}"
        assert not acked_data & set(counts), "an acknowledged record was delivered again"
        assert not hidden_data & set(counts), "an in-flight record came back before its timeout"
        assert len(seen) == len(wanted)
        assert all(counts[d] == 2 for d in short_data), "receive counts were not kept"
        assert all(counts[d] == 1 for d in never_received | {b"after-restart"})

        # The receipts from before the crash still name their deliveries.
        changed = client.update_queue_records_visibility(
            QueueARN=arn,
            Entries=[{"ReceiptHandle": r["ReceiptHandle"], "VisibilityTimeoutSeconds": 0} for r in long_hidden],
        )
        assert changed["Failed"] == [] and len(changed["Successful"]) == len(long_hidden)
        back = []
        while len(back) < len(long_hidden):
            batch = receive(client, arn, wait=5)
            assert batch, "the records hidden before the crash did not come back"
            back.extend(batch)
        assert sorted((r["Data"], r["ReceiveCount"]) for r in back) == sorted((d, 2) for d in hidden_data)
        acknowledge(client, arn, back)
        assert receive(client, arn, wait=1) == []
    finally:
        restarted.stop()
    assert restarted.process.returncode == 0
