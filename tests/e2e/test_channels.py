"""Kinesis channels with boto3 (botocore 1.44.8 has the operations): the control plane
with exact answers, tags and policies on channel ARNs, the counters in
DescribeStreamSummary and DescribeLimits, delivery to a local folder bucket and to an
S3-compatible server (moto_server), and a kill -9 in the middle without loss.

The server runs with --channel-delivery-interval-ms so delivery does not wait AWS's
300 s minimum freshness."""

import base64
import gzip
import json
import re
import time

import cramjam
import pytest
from botocore.exceptions import ClientError

from conftest import Rheo
from firehose_support import ACCOUNT, REGION, read_objects, unique, wait_objects
from test_firehose_sinks import moto_s3, wait_s3_objects  # noqa: F401  (a fixture and its helper)

CHANNEL_FLAGS = ("--channel-delivery-interval-ms", "300", "--channel-lifecycle-ms", "300")
ROLE = f"arn:aws:iam::{ACCOUNT}:role/channel-e2e"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    rheo = Rheo(tmp_path_factory.mktemp("channels"), *CHANNEL_FLAGS).start()
    yield rheo
    rheo.stop()
    assert rheo.process.returncode == 0


def stream_arn(name):
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"


def channel_arn(name):
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:channel/{name}"


def on_demand_stream(kinesis, name):
    kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    wait(lambda: kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")


def wait(condition, timeout_s=15.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def s3_destination(bucket, **storage):
    return {
        "StorageConfiguration": {
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "ExpectedBucketOwner": ACCOUNT,
            "CompressionType": storage.pop("CompressionType", "GZIP"),
            **storage,
        }
    }


def create(kinesis, name, stream, bucket, record_format="JSON", **kwargs):
    return kinesis.create_channel(
        ChannelName=name,
        ServiceExecutionRoleARN=ROLE,
        StreamConfigurationList=[{"StreamARN": stream_arn(stream), "RecordConfiguration": {"RecordFormatType": record_format}}],
        S3DestinationConfiguration=kwargs.pop("destination", s3_destination(bucket)),
        **kwargs,
    )["ChannelDescription"]


def status(kinesis, name):
    return kinesis.describe_channel(ChannelARN=channel_arn(name))["ChannelDescription"]["ChannelStatus"]


def error_of(call):
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return raised.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error["Message"]


def test_create_describe_list_update_delete(server):
    kinesis = server.client()
    stream, name, bucket = unique("src"), unique("ch"), unique("out")
    on_demand_stream(kinesis, stream)
    created = create(kinesis, name, stream, bucket, Tags={"team": "data"})
    assert set(created) == {
        "ChannelName", "ChannelARN", "ChannelId", "ChannelStatus", "ChannelCreationTimestamp",
        "ServiceExecutionRoleARN", "StreamConfigurationList", "S3DestinationConfiguration",
        "LoggingConfiguration",
    }
    assert (created["ChannelName"], created["ChannelARN"], created["ChannelStatus"]) == (
        name, channel_arn(name), "CREATING")
    assert re.fullmatch(UUID_RE, created["ChannelId"])
    assert created["S3DestinationConfiguration"] == {
        "DataFreshnessInSeconds": 300,
        "DeadLetterQueueS3Configuration": {
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "ExpectedBucketOwner": ACCOUNT,
            "ErrorOutputPrefix": "kinesis-channel-errors/",
        },
        "StorageConfiguration": {
            "BucketARN": f"arn:aws:s3:::{bucket}", "ExpectedBucketOwner": ACCOUNT, "CompressionType": "GZIP",
        },
    }
    [described_stream] = created["StreamConfigurationList"]
    assert described_stream["StreamARN"] == stream_arn(stream)
    assert described_stream["RecordConfiguration"] == {"RecordFormatType": "JSON"}
    assert created["LoggingConfiguration"] == {"CloudWatchLogs": {"Enabled": False}}
    wait(lambda: status(kinesis, name) == "ACTIVE")

    listed = kinesis.list_channels(StreamFilter=[{"StreamARN": stream_arn(stream)}])["ChannelSummaries"]
    assert [(c["ChannelName"], c["ChannelDestinationType"], c["ChannelStatus"]) for c in listed] == [
        (name, "S3", "ACTIVE")]
    assert [s["StreamARN"] for s in listed[0]["Streams"]] == [stream_arn(stream)]

    updated = kinesis.update_channel(
        ChannelARN=channel_arn(name), S3DestinationConfiguration={"DataFreshnessInSeconds": 600}
    )["ChannelDescription"]
    assert (updated["ChannelStatus"], updated["S3DestinationConfiguration"]["DataFreshnessInSeconds"]) == (
        "UPDATING", 600)
    assert error_of(lambda: kinesis.update_channel(
        ChannelARN=channel_arn(name), S3DestinationConfiguration={"DataFreshnessInSeconds": 900}
    )) == (400, "ResourceInUseException", f"Channel {name} is not ACTIVE, instead in state UPDATING.")
    wait(lambda: status(kinesis, name) == "ACTIVE")

    assert kinesis.delete_channel(ChannelARN=channel_arn(name))["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert status(kinesis, name) == "DELETING"
    wait(lambda: not kinesis.list_channels(StreamFilter=[{"StreamARN": stream_arn(stream)}])["ChannelSummaries"])
    assert error_of(lambda: kinesis.describe_channel(ChannelARN=channel_arn(name))) == (
        400, "ResourceNotFoundException", f"Channel {channel_arn(name)} under account {ACCOUNT} not found.")


def test_refusals_are_pinned(server):
    kinesis = server.client()
    stream, provisioned = unique("src"), unique("prov")
    on_demand_stream(kinesis, stream)
    kinesis.create_stream(StreamName=provisioned, ShardCount=1)
    tables = {
        "DeadLetterQueueS3Configuration": {"BucketARN": "arn:aws:s3:::dlq", "ExpectedBucketOwner": ACCOUNT},
        "S3TablesConfigurationList": [{
            "TableBucketARN": f"arn:aws:s3tables:{REGION}:{ACCOUNT}:bucket/tables",
            "Namespace": "ns", "TableName": "t", "CompressionType": "ZSTD",
        }],
    }
    assert error_of(lambda: kinesis.create_channel(
        ChannelName=unique("ch"), ServiceExecutionRoleARN=ROLE,
        StreamConfigurationList=[{"StreamARN": stream_arn(stream), "RecordConfiguration": {"RecordFormatType": "JSON"}}],
        S3TablesDestinationConfiguration=tables,
    )) == (400, "InvalidArgumentException",
           "S3TablesDestinationConfiguration (Amazon S3 Tables, Apache Iceberg) is not supported by Rheo yet; "
           "use S3DestinationConfiguration.")
    stale = s3_destination("out")
    stale["DataFreshnessInSeconds"] = 60
    assert error_of(lambda: create(kinesis, unique("ch"), stream, "out", destination=stale)) == (
        400, "InvalidArgumentException", "DataFreshnessInSeconds must be between 300 and 900 seconds; 60 was given.")
    assert error_of(lambda: create(kinesis, unique("ch"), provisioned, "out")) == (
        400, "ValidationException",
        f"Channels can only read streams in ON_DEMAND capacity mode; stream {provisioned} under account {ACCOUNT} "
        "is PROVISIONED.")
    missing = unique("missing")
    assert error_of(lambda: create(kinesis, unique("ch"), missing, "out")) == (
        400, "ResourceNotFoundException", f"Stream {missing} under account {ACCOUNT} not found.")
    bad_template = s3_destination("out", OutputKeyTemplate="logs/!{nope}")
    assert error_of(lambda: create(kinesis, unique("ch"), stream, "out", destination=bad_template)) == (
        400, "InvalidArgumentException", "Invalid OutputKeyTemplate logs/!{nope}: unknown variable '!{nope}'.")


def test_tags_policies_and_counters(server):
    kinesis = server.client()
    stream, name = unique("src"), unique("ch")
    on_demand_stream(kinesis, stream)
    before = kinesis.describe_limits()
    summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert summary["ChannelCount"] == 0
    create(kinesis, name, stream, unique("out"), Tags={"team": "data"})
    arn = channel_arn(name)
    assert kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["ChannelCount"] == 1
    after = kinesis.describe_limits()
    assert after["ChannelCount"] == before["ChannelCount"] + 1
    assert after["ChannelCountLimit"] == 2 * after["OnDemandStreamCountLimit"]

    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "data"}]
    kinesis.tag_resource(ResourceARN=arn, Tags={"env": "test"})
    kinesis.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "test"}]
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    kinesis.put_resource_policy(ResourceARN=arn, Policy=policy)
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == policy
    kinesis.delete_resource_policy(ResourceARN=arn)
    assert error_of(lambda: kinesis.delete_resource_policy(ResourceARN=arn)) == (
        400, "ResourceNotFoundException", f"No resource policy found for resource ARN {arn}.")
    gone = channel_arn(unique("gone"))
    assert error_of(lambda: kinesis.list_tags_for_resource(ResourceARN=gone)) == (
        400, "ResourceNotFoundException", f"Channel {gone} under account {ACCOUNT} not found.")


def put_all(kinesis, stream, records):
    for key, data in records:
        kinesis.put_record(StreamName=stream, PartitionKey=key, Data=data)


def test_delivery_to_a_local_bucket(server):
    kinesis = server.client()
    stream, name, bucket = unique("src"), unique("ch"), unique("out")
    on_demand_stream(kinesis, stream)
    channel = create(kinesis, name, stream, bucket)
    wait(lambda: status(kinesis, name) == "ACTIVE")
    put_all(kinesis, stream, [("k", b'{"n":1}'), ("k", b"not json"), ("k", b'{"n":2}')])
    folder = server.data_dir / "buckets" / bucket
    objects = wait_objects(folder, count=2)
    delivered = {k: v for k, v in objects.items() if k.startswith("kinesis-channel/")}
    [(key, body)] = delivered.items()
    # The default template: channel and hour folders, then the name with the minute.
    assert re.fullmatch(
        rf"kinesis-channel/{name}/{channel['ChannelId']}/\d{{4}}/\d{{2}}/\d{{2}}/\d{{2}}/"
        rf"{name}-{channel['ChannelId']}-\d{{4}}-\d{{2}}-\d{{2}}-\d{{2}}-\d{{2}}-\d{{13}}-[0-9a-f]{{8}}\.gz", key), key
    assert gzip.decompress(body) == b'{"n":1}{"n":2}', "records as they are, in order"
    [(dead_key, dead_body)] = [(k, v) for k, v in objects.items() if k.startswith("kinesis-channel-errors/")]
    line = json.loads(dead_body)
    assert base64.b64decode(line["rawData"]) == b"not json"
    assert (line["errorCode"], line["streamARN"], line["partitionKey"]) == (
        "RecordValidationFailed", stream_arn(stream), "k")


def test_delivery_to_an_s3_compatible_server(moto_s3, tmp_path_factory):  # noqa: F811
    endpoint, s3 = moto_s3
    rheo = Rheo(tmp_path_factory.mktemp("ch-moto"), *CHANNEL_FLAGS, "--s3-endpoint", endpoint).start()
    try:
        kinesis = rheo.client()
        stream, name, bucket = unique("src"), unique("ch"), unique("moto")
        s3.create_bucket(Bucket=bucket)
        on_demand_stream(kinesis, stream)
        create(kinesis, name, stream, bucket, record_format="STRING",
               destination=s3_destination(bucket, CompressionType="ZSTD", StorageClass="INTELLIGENT_TIERING",
                                          OutputKeyTemplate="raw/!{stream-name}/!{yyyy}/part!{extension}"))
        wait(lambda: status(kinesis, name) == "ACTIVE")
        put_all(kinesis, stream, [("a", "héllo\n".encode()), ("a", b"world\n")])
        objects = wait_s3_objects(s3, bucket)
        [(key, body)] = objects.items()
        assert re.fullmatch(rf"raw/{stream}/\d{{4}}/part-\d{{13}}-[0-9a-f]{{8}}\.zst", key), key
        assert bytes(cramjam.zstd.decompress(body)) == "héllo\nworld\n".encode()
        assert s3.head_object(Bucket=bucket, Key=key)["StorageClass"] == "INTELLIGENT_TIERING"
        assert read_objects(rheo.data_dir / "buckets" / bucket) == {}, "nothing written locally"
    finally:
        rheo.stop()


def test_kill_9_loses_nothing(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ch-kill")
    rheo = Rheo(data_dir, *CHANNEL_FLAGS).start()
    stream, name, bucket = unique("src"), unique("ch"), unique("out")
    try:
        kinesis = rheo.client()
        on_demand_stream(kinesis, stream)
        create(kinesis, name, stream, bucket, destination=s3_destination(bucket, CompressionType="NONE"))
        wait(lambda: status(kinesis, name) == "ACTIVE")
        put_all(kinesis, stream, [("k", f'{{"n":{n}}}'.encode()) for n in range(3)])
        wait_objects(data_dir / "buckets" / bucket, count=1)
        # Records accepted just before the kill, maybe read but not yet written.
        put_all(kinesis, stream, [("k", f'{{"n":{n}}}'.encode()) for n in range(3, 6)])
        rheo.kill()
        rheo = Rheo(data_dir, *CHANNEL_FLAGS).start()
        kinesis = rheo.client()
        assert status(kinesis, name) == "ACTIVE", "the channel survived kill -9"
        put_all(kinesis, stream, [("k", f'{{"n":{n}}}'.encode()) for n in range(6, 9)])

        def delivered():
            objects = read_objects(data_dir / "buckets" / bucket)
            return b"".join(body for _, body in sorted(objects.items())).decode()

        wait(lambda: '{"n":8}' in delivered())
        text = delivered()
        numbers = [int(n) for n in re.findall(r'\{"n":(\d+)\}', text)]
        assert set(numbers) == set(range(9)), f"every acknowledged record delivered: {text}"
        # At-least-once: a buffer written but not yet checkpointed may come again, whole
        # and in order; the first occurrences keep the order.
        first = sorted(set(numbers), key=numbers.index)
        assert first == list(range(9)), text
    finally:
        rheo.stop()
