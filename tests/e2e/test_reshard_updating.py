"""Resharding takes effect when the stream returns to ACTIVE (issue 14, item 8), with boto3
against a server whose UPDATING period is long enough to look at the stream meanwhile."""

import pytest
from botocore.exceptions import ClientError

from conftest import Rheo, create_active, wait_for_status

ACCOUNT = "000000000000"
UPDATE_MS = 4000


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    server = Rheo(tmp_path_factory.mktemp("rheo-slow-update"), "--update-stream-ms", str(UPDATE_MS)).start()
    yield server.client()
    server.stop()


def test_a_split_shows_the_old_shards_until_the_stream_is_active(slow, stream_name):
    create_active(slow, stream_name)
    before = slow.list_shards(StreamName=stream_name)["Shards"]
    slow.split_shard(StreamName=stream_name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))

    summary = slow.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    during = slow.list_shards(StreamName=stream_name)["Shards"]
    described = slow.describe_stream(StreamName=stream_name)["StreamDescription"]
    put = slow.put_record(StreamName=stream_name, Data=b"during", PartitionKey="p", ExplicitHashKey=str(2**127))
    with pytest.raises(ClientError) as excinfo:
        slow.get_shard_iterator(StreamName=stream_name, ShardId="shardId-000000000002", ShardIteratorType="TRIM_HORIZON")
    # All of the above happened while UPDATING: the status is read again after them.
    still = slow.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]["StreamStatus"]
    assert (summary["StreamStatus"], still) == ("UPDATING", "UPDATING")
    assert summary["OpenShardCount"] == 1
    assert during == before
    assert described["Shards"] == before
    assert put["ShardId"] == "shardId-000000000000"
    error = excinfo.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ResourceNotFoundException",
        f"Shard shardId-000000000002 in stream {stream_name} under account {ACCOUNT} does not exist",
    )

    wait_for_status(slow, stream_name, timeout_s=UPDATE_MS / 1000 + 10)
    after = slow.list_shards(StreamName=stream_name)["Shards"]
    assert [s["ShardId"] for s in after] == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    assert int(after[0]["SequenceNumberRange"]["EndingSequenceNumber"]) > int(put["SequenceNumber"])
    parent = slow.get_shard_iterator(StreamName=stream_name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")
    assert [r["Data"] for r in slow.get_records(ShardIterator=parent["ShardIterator"])["Records"]] == [b"during"]
    child = slow.put_record(StreamName=stream_name, Data=b"after", PartitionKey="p", ExplicitHashKey=str(2**127))
    assert child["ShardId"] == "shardId-000000000002"
