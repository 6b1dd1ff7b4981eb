"""AUTO record distribution and UpdateStreamRecordDistributionStrategy with boto3 (its
1.44.8 model has the operation and makes PartitionKey optional)."""

import collections

import pytest
from botocore.exceptions import ClientError

from conftest import create_active, wait_for_status

ACCOUNT = "000000000000"


def error_of(excinfo):
    error = excinfo.value.response["Error"]
    return error["Code"], error.get("Message")


def create_on_demand(client, name, **kwargs):
    client.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"}, **kwargs)
    return wait_for_status(client, name)


def test_auto_spreads_records_evenly_and_takes_puts_without_a_key(kinesis, stream_name):
    summary = create_on_demand(kinesis, stream_name, RecordDistributionStrategy="AUTO")
    assert summary["RecordDistributionStrategy"] == "AUTO"
    assert summary["OpenShardCount"] == 4
    # Without keys, with one key for all and with an explicit hash key of the first shard:
    # AUTO ignores them all.
    records = [{"Data": f"none-{i}".encode()} for i in range(20)]
    records += [{"Data": f"same-{i}".encode(), "PartitionKey": "same"} for i in range(10)]
    records += [{"Data": f"hash-{i}".encode(), "PartitionKey": "k", "ExplicitHashKey": "0"} for i in range(10)]
    result = kinesis.put_records(StreamName=stream_name, Records=records)
    assert result["FailedRecordCount"] == 0
    per_shard = collections.Counter(r["ShardId"] for r in result["Records"])
    assert sorted(per_shard.values()) == [10, 10, 10, 10], per_shard

    single = kinesis.put_record(StreamName=stream_name, Data=b"alone")
    assert set(single) - {"ResponseMetadata"} == {"ShardId", "SequenceNumber"}
    iterator = kinesis.get_shard_iterator(
        StreamName=stream_name, ShardId=single["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=single["SequenceNumber"],
    )["ShardIterator"]
    record = kinesis.get_records(ShardIterator=iterator)["Records"][0]
    assert record["Data"] == b"alone"
    assert "PartitionKey" not in record

    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=stream_name, Data=b"x", SequenceNumberForOrdering=single["SequenceNumber"])
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        f"SequenceNumberForOrdering is not supported on stream {stream_name} under account {ACCOUNT} because it uses record distribution strategy AUTO.",
    )


def test_switching_the_strategy_and_its_refusals(kinesis, stream_name):
    summary = create_on_demand(kinesis, stream_name)
    assert summary["RecordDistributionStrategy"] == "USER_PARTITION_KEY"
    arn = summary["StreamARN"]
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=stream_name, Data=b"x")
    assert error_of(excinfo) == (
        "ValidationException",
        "1 validation error detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null",
    )
    kinesis.update_stream_record_distribution_strategy(StreamARN=arn, RecordDistributionStrategy="AUTO")
    after = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert (after["StreamStatus"], after["RecordDistributionStrategy"]) == ("ACTIVE", "AUTO")
    kinesis.put_record(StreamName=stream_name, Data=b"x")
    with pytest.raises(ClientError) as excinfo:
        kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        f"Stream {stream_name} under account {ACCOUNT} uses record distribution strategy AUTO, which PROVISIONED mode does not support. Set the strategy to USER_PARTITION_KEY first.",
    )
    kinesis.update_stream_record_distribution_strategy(StreamARN=arn, RecordDistributionStrategy="USER_PARTITION_KEY")
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=stream_name, Data=b"x")
    assert error_of(excinfo)[0] == "ValidationException"


def test_auto_is_refused_on_provisioned_streams(kinesis, stream_name):
    refused = (
        "InvalidArgumentException",
        f"Record distribution strategy AUTO is not supported for stream {stream_name} under account {ACCOUNT} because it is in PROVISIONED mode. AUTO requires ON_DEMAND mode.",
    )
    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName=stream_name, ShardCount=1, RecordDistributionStrategy="AUTO")
    assert error_of(excinfo) == refused
    summary = create_active(kinesis, stream_name)
    assert "RecordDistributionStrategy" not in summary
    with pytest.raises(ClientError) as excinfo:
        kinesis.update_stream_record_distribution_strategy(
            StreamARN=summary["StreamARN"], RecordDistributionStrategy="AUTO"
        )
    assert error_of(excinfo) == refused
