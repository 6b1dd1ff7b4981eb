"""The Kinesis Data Streams API of the real `rheo` binary, driven by boto3."""

import datetime
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import create_active, read_shard, wait_for_status

ACCOUNT = "000000000000"
MAX_HASH = 2**128 - 1


def error_of(excinfo):
    error = excinfo.value.response["Error"]
    return error["Code"], error.get("Message")


def shard_ids(client, name, **kwargs):
    return [s["ShardId"] for s in client.list_shards(StreamName=name, **kwargs)["Shards"]]


def test_create_waits_for_active_and_describes_like_aws(kinesis, stream_name):
    kinesis.create_stream(StreamName=stream_name, ShardCount=3)
    first = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert first["StreamStatus"] == "CREATING"
    # The SDK's own waiter works too (with a short delay).
    kinesis.get_waiter("stream_exists").wait(StreamName=stream_name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    description = kinesis.describe_stream(StreamName=stream_name)["StreamDescription"]
    assert description["StreamStatus"] == "ACTIVE"
    assert description["StreamARN"] == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{stream_name}"
    assert description["HasMoreShards"] is False
    assert description["RetentionPeriodHours"] == 24
    shards = description["Shards"]
    assert [s["ShardId"] for s in shards] == [f"shardId-00000000000{i}" for i in range(3)]
    assert shards[0]["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": "113427455640312821154458202477256070484"}
    assert shards[2]["HashKeyRange"]["EndingHashKey"] == str(MAX_HASH)
    assert all(len(s["SequenceNumberRange"]["StartingSequenceNumber"]) == 56 for s in shards)
    paged = kinesis.describe_stream(StreamName=stream_name, Limit=2)["StreamDescription"]
    assert len(paged["Shards"]) == 2 and paged["HasMoreShards"] is True
    rest = kinesis.describe_stream(StreamName=stream_name, ExclusiveStartShardId="shardId-000000000001")["StreamDescription"]
    assert [s["ShardId"] for s in rest["Shards"]] == ["shardId-000000000002"]
    summary = kinesis.describe_stream_summary(StreamARN=description["StreamARN"])["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 3
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    listed = kinesis.list_streams()
    assert stream_name in listed["StreamNames"]
    assert any(s["StreamName"] == stream_name for s in listed["StreamSummaries"])


def test_put_records_route_across_shards_and_read_back_in_order(kinesis, stream_name):
    create_active(kinesis, stream_name, shards=4)
    entries = [{"Data": f"record-{i}".encode(), "PartitionKey": f"key-{i}"} for i in range(200)]
    response = kinesis.put_records(StreamName=stream_name, Records=entries)
    assert response["FailedRecordCount"] == 0
    placed = {}
    for entry, result in zip(entries, response["Records"]):
        placed.setdefault(result["ShardId"], []).append((int(result["SequenceNumber"]), entry["Data"]))
    assert len(placed) == 4, "200 random keys should reach all four shards"
    single = kinesis.put_record(StreamName=stream_name, Data=b"explicit", PartitionKey="x", ExplicitHashKey=str(MAX_HASH))
    assert single["ShardId"] == "shardId-000000000003"
    placed["shardId-000000000003"].append((int(single["SequenceNumber"]), b"explicit"))
    for shard_id, expected in placed.items():
        records, last = read_shard(kinesis, stream_name, shard_id)
        assert [r["Data"] for r in records] == [data for _, data in sorted(expected)]
        sequence_numbers = [int(r["SequenceNumber"]) for r in records]
        assert sequence_numbers == sorted(sequence_numbers)
        assert last["MillisBehindLatest"] == 0
        assert "NextShardIterator" in last
        assert all(isinstance(r["ApproximateArrivalTimestamp"], datetime.datetime) for r in records)


def test_every_iterator_type(kinesis, stream_name):
    create_active(kinesis, stream_name)
    shard = "shardId-000000000000"
    latest = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    first = kinesis.put_record(StreamName=stream_name, Data=b"a", PartitionKey="k")
    time.sleep(1.1)
    middle_time = datetime.datetime.now(datetime.timezone.utc)
    second = kinesis.put_record(StreamName=stream_name, Data=b"b", PartitionKey="k")
    kinesis.put_record(StreamName=stream_name, Data=b"c", PartitionKey="k")

    def data(iterator_type, **kwargs):
        records, _ = read_shard(kinesis, stream_name, shard, iterator_type, **kwargs)
        return [r["Data"] for r in records]

    assert data("TRIM_HORIZON") == [b"a", b"b", b"c"]
    assert data("AT_SEQUENCE_NUMBER", StartingSequenceNumber=second["SequenceNumber"]) == [b"b", b"c"]
    assert data("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=first["SequenceNumber"]) == [b"b", b"c"]
    assert data("AT_TIMESTAMP", Timestamp=middle_time) == [b"b", b"c"]
    assert data("LATEST") == []
    response = kinesis.get_records(ShardIterator=latest)
    assert [r["Data"] for r in response["Records"]] == [b"a", b"b", b"c"]
    # Every call returns a fresh iterator, even when empty.
    again = kinesis.get_records(ShardIterator=response["NextShardIterator"])
    assert again["Records"] == [] and again["NextShardIterator"] != response["NextShardIterator"]
    # A quoted iterator is accepted, as AWS does.
    quoted = kinesis.get_records(ShardIterator=f'"{latest}"')
    assert len(quoted["Records"]) == 3


def test_split_and_merge_read_through_parents_to_children(kinesis, stream_name):
    create_active(kinesis, stream_name, shards=2)
    kinesis.put_record(StreamName=stream_name, Data=b"parent", PartitionKey="p", ExplicitHashKey="10")
    middle = str(2**126)
    kinesis.split_shard(StreamName=stream_name, ShardToSplit="shardId-000000000000", NewStartingHashKey=middle)
    assert kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]["StreamStatus"] == "UPDATING"
    wait_for_status(kinesis, stream_name)
    low = kinesis.put_record(StreamName=stream_name, Data=b"low", PartitionKey="p", ExplicitHashKey="10")
    high = kinesis.put_record(StreamName=stream_name, Data=b"high", PartitionKey="p", ExplicitHashKey=middle)
    assert (low["ShardId"], high["ShardId"]) == ("shardId-000000000002", "shardId-000000000003")

    records, end = read_shard(kinesis, stream_name, "shardId-000000000000")
    assert [r["Data"] for r in records] == [b"parent"]
    assert "NextShardIterator" not in end
    assert [c["ShardId"] for c in end["ChildShards"]] == ["shardId-000000000002", "shardId-000000000003"]
    assert end["ChildShards"][0]["ParentShards"] == ["shardId-000000000000"]
    assert end["ChildShards"][1]["HashKeyRange"]["StartingHashKey"] == middle
    for child in end["ChildShards"]:
        child_records, _ = read_shard(kinesis, stream_name, child["ShardId"])
        assert [r["Data"] for r in child_records] == ([b"low"] if child["ShardId"].endswith("2") else [b"high"])

    kinesis.merge_shards(StreamName=stream_name, ShardToMerge="shardId-000000000002", AdjacentShardToMerge="shardId-000000000003")
    wait_for_status(kinesis, stream_name)
    merged = kinesis.put_record(StreamName=stream_name, Data=b"merged", PartitionKey="p", ExplicitHashKey="10")
    assert merged["ShardId"] == "shardId-000000000004"
    _, end = read_shard(kinesis, stream_name, "shardId-000000000002")
    assert "NextShardIterator" not in end
    assert end["ChildShards"] == [{
        "ShardId": "shardId-000000000004",
        "ParentShards": ["shardId-000000000002", "shardId-000000000003"],
        "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(2**127 - 1)},
    }]
    shards = {s["ShardId"]: s for s in kinesis.list_shards(StreamName=stream_name)["Shards"]}
    assert shards["shardId-000000000004"]["ParentShardId"] == "shardId-000000000002"
    assert shards["shardId-000000000004"]["AdjacentParentShardId"] == "shardId-000000000003"
    assert "EndingSequenceNumber" in shards["shardId-000000000000"]["SequenceNumberRange"]
    assert shard_ids(kinesis, stream_name, ShardFilter={"Type": "AT_LATEST"}) == ["shardId-000000000001", "shardId-000000000004"]
    assert shard_ids(kinesis, stream_name, ShardFilter={"Type": "AT_TRIM_HORIZON"}) == ["shardId-000000000000", "shardId-000000000001"]
    assert shard_ids(kinesis, stream_name, ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000002"}) == ["shardId-000000000003", "shardId-000000000004"]
    page = kinesis.list_shards(StreamName=stream_name, MaxResults=2)
    assert len(page["Shards"]) == 2
    rest = kinesis.list_shards(NextToken=page["NextToken"])
    assert [s["ShardId"] for s in rest["Shards"]] == ["shardId-000000000002", "shardId-000000000003", "shardId-000000000004"]

    with pytest.raises(ClientError) as excinfo:
        kinesis.split_shard(StreamName=stream_name, ShardToSplit="shardId-000000000000", NewStartingHashKey=middle)
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        f"Shard shardId-000000000000 in stream {stream_name} under account {ACCOUNT} has already been merged or split, and thus is not eligible for merging or splitting.",
    )


def test_update_shard_count_scales_uniformly(kinesis, stream_name):
    create_active(kinesis, stream_name, shards=2)
    response = kinesis.update_shard_count(StreamName=stream_name, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert (response["CurrentShardCount"], response["TargetShardCount"]) == (2, 4)
    wait_for_status(kinesis, stream_name)
    open_shards = kinesis.list_shards(StreamName=stream_name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    starts = sorted(int(s["HashKeyRange"]["StartingHashKey"]) for s in open_shards)
    assert starts == [0, 2**126, 2**127, 3 * 2**126]
    assert all("ParentShardId" in s for s in open_shards)
    summary = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4
    result = kinesis.put_records(StreamName=stream_name, Records=[{"Data": b"x", "PartitionKey": str(i)} for i in range(40)])
    assert result["FailedRecordCount"] == 0
    with pytest.raises(ClientError) as excinfo:
        kinesis.update_shard_count(StreamName=stream_name, TargetShardCount=9, ScalingType="UNIFORM_SCALING")
    assert error_of(excinfo)[0] == "LimitExceededException"


def test_tags(kinesis, stream_name):
    summary = create_active(kinesis, stream_name)
    kinesis.add_tags_to_stream(StreamName=stream_name, Tags={"team": "data", "env": "test"})
    tags = kinesis.list_tags_for_stream(StreamName=stream_name)
    assert tags["Tags"] == [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "data"}]
    assert tags["HasMoreTags"] is False
    limited = kinesis.list_tags_for_stream(StreamName=stream_name, Limit=1)
    assert len(limited["Tags"]) == 1 and limited["HasMoreTags"] is True
    kinesis.remove_tags_from_stream(StreamName=stream_name, TagKeys=["env", "unknown"])
    kinesis.tag_resource(ResourceARN=summary["StreamARN"], Tags={"owner": "me"})
    by_arn = kinesis.list_tags_for_resource(ResourceARN=summary["StreamARN"])["Tags"]
    assert {t["Key"]: t["Value"] for t in by_arn} == {"team": "data", "owner": "me"}
    kinesis.untag_resource(ResourceARN=summary["StreamARN"], TagKeys=["team"])
    assert kinesis.list_tags_for_stream(StreamName=stream_name)["Tags"] == [{"Key": "owner", "Value": "me"}]
    with pytest.raises(ClientError) as excinfo:
        kinesis.add_tags_to_stream(StreamName=stream_name, Tags={f"k{i}": "v" for i in range(50)})
    assert error_of(excinfo)[0] == "InvalidArgumentException"


def test_retention(kinesis, stream_name):
    create_active(kinesis, stream_name)
    kinesis.increase_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=168)
    assert kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]["RetentionPeriodHours"] == 168
    with pytest.raises(ClientError) as excinfo:
        kinesis.increase_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=48)
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        f"Requested retention period (48 hours) for stream {stream_name} can not be shorter than existing retention period (168 hours). Use DecreaseRetentionPeriod API.",
    )
    with pytest.raises(ClientError) as excinfo:
        kinesis.decrease_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=23)
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.",
    )
    with pytest.raises(ClientError) as excinfo:
        kinesis.increase_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=9000)
    assert error_of(excinfo)[0] == "InvalidArgumentException"
    kinesis.decrease_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=24)
    assert kinesis.describe_stream(StreamName=stream_name)["StreamDescription"]["RetentionPeriodHours"] == 24


def test_consumers_register_list_describe_deregister(kinesis, stream_name):
    arn = create_active(kinesis, stream_name)["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app")["Consumer"]
    assert consumer["ConsumerStatus"] == "CREATING"
    assert consumer["ConsumerARN"].startswith(f"{arn}/consumer/app:")
    assert consumer["ConsumerARN"].rsplit(":", 1)[1] == str(int(consumer["ConsumerCreationTimestamp"].timestamp()))
    time.sleep(0.4)
    described = kinesis.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"]
    assert described["ConsumerStatus"] == "ACTIVE"
    assert described["StreamARN"] == arn
    by_name = kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="app")["ConsumerDescription"]
    assert by_name["ConsumerARN"] == consumer["ConsumerARN"]
    listed = kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]
    assert [c["ConsumerName"] for c in listed] == ["app"]
    assert kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]["ConsumerCount"] == 1
    with pytest.raises(ClientError) as excinfo:
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app")
    assert error_of(excinfo)[0] == "ResourceInUseException"
    with pytest.raises(ClientError) as excinfo:
        kinesis.delete_stream(StreamName=stream_name)
    assert error_of(excinfo)[0] == "ResourceInUseException"
    kinesis.deregister_stream_consumer(ConsumerARN=consumer["ConsumerARN"])
    assert kinesis.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"]["ConsumerStatus"] == "DELETING"
    time.sleep(0.4)
    with pytest.raises(ClientError) as excinfo:
        kinesis.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="other")
    kinesis.delete_stream(StreamName=stream_name, EnforceConsumerDeletion=True)


def test_delete_stream(kinesis, stream_name):
    create_active(kinesis, stream_name)
    kinesis.delete_stream(StreamName=stream_name)
    assert kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]["StreamStatus"] == "DELETING"
    kinesis.get_waiter("stream_not_exists").wait(StreamName=stream_name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as excinfo:
        kinesis.describe_stream(StreamName=stream_name)
    assert error_of(excinfo)[1] == f"Stream {stream_name} under account {ACCOUNT} not found."
    # The name can be used again.
    create_active(kinesis, stream_name)


def test_errors_carry_aws_types_and_messages(kinesis, raw_kinesis, stream_name):
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=missing, Data=b"x", PartitionKey="k")
    assert error_of(excinfo) == ("ResourceNotFoundException", f"Stream {missing} under account {ACCOUNT} not found.")

    create_active(kinesis, stream_name)
    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    assert error_of(excinfo) == ("ResourceInUseException", f"Stream {stream_name} under account {ACCOUNT} already exists.")

    with pytest.raises(ClientError) as excinfo:
        raw_kinesis.create_stream(StreamName="bad name!", ShardCount=0)
    assert error_of(excinfo) == (
        "ValidationException",
        "2 validation errors detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; "
        "Value 'bad name!' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    )

    shard = "shardId-000000000000"
    put = kinesis.put_record(StreamName=stream_name, Data=b"x", PartitionKey="k")
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard, ShardIteratorType="TRIM_HORIZON", StartingSequenceNumber=put["SequenceNumber"])
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified TRIM_HORIZON and also a StartingSequenceNumber.",
    )
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER")
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AFTER_SEQUENCE_NUMBER and no StartingSequenceNumber.",
    )
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard, ShardIteratorType="AT_TIMESTAMP")
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.",
    )
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_shard_iterator(StreamName=stream_name, ShardId="shardId-000000000007", ShardIteratorType="LATEST")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        f"Shard shardId-000000000007 in stream {stream_name} under account {ACCOUNT} does not exist",
    )
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_records(ShardIterator="AAAAAAAAAAGnotAnIteratorAtAll==")
    assert error_of(excinfo) == ("InvalidArgumentException", "Invalid ShardIterator.")
    with pytest.raises(ClientError) as excinfo:
        raw_kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard, ShardIteratorType="SOMEWHERE")
    assert error_of(excinfo) == (
        "ValidationException",
        "1 validation error detected: Value 'SOMEWHERE' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]",
    )
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=stream_name, Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**128))
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        f"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {2**128}",
    )
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=stream_name, Data=b"x" * (1024 * 1024), PartitionKey="k")
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        kinesis.list_shards()
    assert error_of(excinfo) == ("InvalidArgumentException", "Either NextToken or StreamName should be provided.")
