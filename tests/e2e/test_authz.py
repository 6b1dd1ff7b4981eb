"""Authorization under `rheo serve --auth sigv4 --credentials F --policies D`: identity
policies, resource policies (PutResourcePolicy), an explicit deny, a condition on the
caller's address, a denied call that changes nothing, DynamoDB's denial, and the role a
Firehose delivery stream reads its Kinesis source as."""

import json
import time

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import Rheo

REGION = "us-east-1"
ACCOUNT = "000000000000"
USERS = {
    "admin": ("AKIAADMIN0000000001", "admin/secret+key0000000000000000000000001"),
    "alice": ("AKIAALICE0000000001", "alice/secret+key0000000000000000000000001"),
    "bob": ("AKIABOB000000000001", "bob/secret+key00000000000000000000000001"),
    "dave": ("AKIADAVE00000000001", "dave/secret+key0000000000000000000000001"),
}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/delivery"


def arn(user):
    return f"arn:aws:iam::{ACCOUNT}:user/{user}"


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


POLICIES = {
    # admin has no policy file: it may do everything.
    "alice": policy({"Effect": "Allow", "Action": ["kinesis:PutRecord*", "kinesis:Describe*", "kinesis:CreateStream",
                                                    "kinesis:ListStreams"], "Resource": "*"}),
    "bob": policy({"Effect": "Allow", "Action": "dynamodb:DescribeLimits", "Resource": "*"}),
    "dave": policy(
        {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "kinesis:*", "Resource": "*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
    ),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("authz")
    credentials = folder / "credentials"
    credentials.write_text("".join(
        f"[{name}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n\n"
        for name, (key, secret) in USERS.items()
    ))
    policies = folder / "policies"
    policies.mkdir()
    for name, document in POLICIES.items():
        (policies / f"{name}.json").write_text(document)
    buckets = folder / "buckets"
    buckets.mkdir()
    rheo = Rheo(folder / "data", "--auth", "sigv4", "--credentials", str(credentials), "--policies", str(policies),
                "--s3-dir", str(buckets), "--channel-delivery-interval-ms", "300", "--channel-lifecycle-ms", "300").start()
    rheo.buckets = buckets
    yield rheo
    rheo.stop()


def client(server, user, service="kinesis"):
    key, secret = USERS[user]
    return boto3.client(
        service, endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id=key,
        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 0}),
    )


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return error["Code"], error["Message"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


def create_active(kinesis, name, **mode):
    kinesis.create_stream(StreamName=name, **(mode or {"ShardCount": 1}))
    deadline = time.monotonic() + 10
    while kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def denial(user, action, resource, why="because no identity-based policy allows the {action} action"):
    return (f"User: {arn(user)} is not authorized to perform: {action} on resource: {resource} "
            + why.format(action=action))


def test_put_but_not_read_then_a_resource_policy_grants_bob_read(server):
    alice, bob = client(server, "alice"), client(server, "bob")
    stream_arn = create_active(alice, "orders")
    sequence = alice.put_record(StreamName="orders", Data=b"from alice", PartitionKey="k")["SequenceNumber"]

    code, message, status = error_of(lambda: alice.get_shard_iterator(
        StreamName="orders", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"))
    assert (code, status) == ("AccessDeniedException", 400)
    assert message == denial("alice", "kinesis:GetShardIterator", stream_arn)
    # An iterator obtained by someone else does not let alice read either.
    iterator = client(server, "admin").get_shard_iterator(
        StreamName="orders", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert error_of(lambda: alice.get_records(ShardIterator=iterator))[:2] == (
        "AccessDeniedException", denial("alice", "kinesis:GetRecords", stream_arn))

    # bob may do nothing on the stream, until its policy grants him reading.
    assert error_of(lambda: bob.describe_stream(StreamName="orders"))[0] == "AccessDeniedException"
    grant = policy({
        "Effect": "Allow", "Principal": {"AWS": arn("bob")},
        "Action": ["kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:DescribeStream*"],
        "Resource": stream_arn,
    })
    # Putting the policy is alice's to do only if her policy allows it: it does not.
    assert error_of(lambda: alice.put_resource_policy(ResourceARN=stream_arn, Policy=grant))[0] == (
        "AccessDeniedException")
    client(server, "admin").put_resource_policy(ResourceARN=stream_arn, Policy=grant)
    bob.describe_stream_summary(StreamName="orders")
    iterator = bob.get_shard_iterator(StreamName="orders", ShardId="shardId-000000000000",
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = bob.get_records(ShardIterator=iterator)["Records"]
    assert [(r["SequenceNumber"], r["Data"]) for r in records] == [(sequence, b"from alice")]
    # The grant names bob only.
    assert error_of(lambda: alice.get_records(ShardIterator=iterator))[0] == "AccessDeniedException"


def test_a_resource_policys_explicit_deny_beats_an_identity_allow(server):
    admin, alice = client(server, "admin"), client(server, "alice")
    stream_arn = create_active(admin, "guarded")
    alice.put_record(StreamName="guarded", Data=b"1", PartitionKey="k")
    deny = policy({"Effect": "Deny", "Principal": {"AWS": arn("alice")}, "Action": "kinesis:PutRecord*",
                   "Resource": stream_arn})
    admin.put_resource_policy(ResourceARN=stream_arn, Policy=deny)
    code, message, _ = error_of(lambda: alice.put_record(StreamName="guarded", Data=b"2", PartitionKey="k"))
    assert (code, message) == ("AccessDeniedException", denial(
        "alice", "kinesis:PutRecord", stream_arn, "with an explicit deny in a resource-based policy"))
    # Even a principal without a policy file is held to a resource policy's deny.
    admin.put_resource_policy(ResourceARN=stream_arn, Policy=policy(
        {"Effect": "Deny", "Principal": "*", "Action": "kinesis:PutRecords", "Resource": stream_arn}))
    assert error_of(lambda: admin.put_records(StreamName="guarded", Records=[{"Data": b"3", "PartitionKey": "k"}]))[
        0] == "AccessDeniedException"


def test_a_policy_that_is_not_a_resource_policy_is_refused(server):
    admin = client(server, "admin")
    stream_arn = create_active(admin, "policed")
    no_principal = policy({"Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": stream_arn})
    code, message, _ = error_of(lambda: admin.put_resource_policy(ResourceARN=stream_arn, Policy=no_principal))
    assert code == "InvalidArgumentException"
    assert message.startswith("Invalid resource policy: ")
    assert admin.get_resource_policy(ResourceARN=stream_arn)["Policy"] == "{}"


def test_a_denied_create_creates_nothing(server):
    bob = client(server, "bob")
    code, message, _ = error_of(lambda: bob.create_stream(StreamName="never", ShardCount=1))
    assert code == "AccessDeniedException"
    assert message == denial("bob", "kinesis:CreateStream", f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/never")
    assert "never" not in client(server, "admin").list_streams()["StreamNames"]


def test_a_source_ip_condition_denies_callers_from_elsewhere(server):
    dave = client(server, "dave")
    code, message, _ = error_of(lambda: dave.list_streams())
    assert code == "AccessDeniedException"
    assert message == denial("dave", "kinesis:ListStreams", "*", "with an explicit deny in an identity-based policy")


def test_dynamodb_answers_a_denial_in_its_namespace(server):
    bob = client(server, "bob", "dynamodb")
    bob.describe_limits()
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        bob.list_tables()
    response = raised.value.response
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert response["Error"]["Message"] == denial("bob", "dynamodb:ListTables", "*")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def delivered(folder):
    return sorted(line for path in folder.rglob("*") if path.is_file()
                  for line in path.read_bytes().split(b"\n") if line)


def create_denied_copier(firehose, stream_arn):
    """Delivery stream `copier` from `stream_arn` to bucket `sink`, as ROLE_ARN; waits until
    it is ACTIVE and reports its role's denial, and returns that failure description."""
    firehose.create_delivery_stream(
        DeliveryStreamName="copier", DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE_ARN},
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE_ARN, "BucketARN": "arn:aws:s3:::sink",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
            "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]},
        },
    )
    deadline = time.monotonic() + 15
    while True:
        description = firehose.describe_delivery_stream(DeliveryStreamName="copier")["DeliveryStreamDescription"]
        failure = description.get("FailureDescription")
        if description["DeliveryStreamStatus"] == "ACTIVE" and failure:
            return failure
        assert time.monotonic() < deadline, description
        time.sleep(0.1)


def test_a_delivery_streams_role_denied_by_the_source_copies_nothing_until_allowed(server):
    admin = client(server, "admin")
    firehose = client(server, "admin", "firehose")
    stream_arn = create_active(admin, "feed")
    admin.put_resource_policy(ResourceARN=stream_arn, Policy=policy(
        {"Effect": "Deny", "Principal": {"AWS": ROLE_ARN}, "Action": "kinesis:GetRecords", "Resource": stream_arn}))
    (server.buckets / "sink").mkdir()
    failure = create_denied_copier(firehose, stream_arn)
    assert failure == {"Type": "UNKNOWN_ERROR", "Details": (
        f"User: {ROLE_ARN} is not authorized to perform: kinesis:GetRecords on resource: {stream_arn} "
        "with an explicit deny in a resource-based policy")}
    admin.put_records(StreamName="feed", Records=[{"Data": f"r{i}".encode(), "PartitionKey": "k"} for i in range(3)])
    time.sleep(2)
    assert delivered(server.buckets / "sink") == []

    admin.delete_resource_policy(ResourceARN=stream_arn)
    deadline = time.monotonic() + 20
    while delivered(server.buckets / "sink") != [b"r0", b"r1", b"r2"]:
        assert time.monotonic() < deadline, delivered(server.buckets / "sink")
        time.sleep(0.2)
    description = firehose.describe_delivery_stream(DeliveryStreamName="copier")["DeliveryStreamDescription"]
    assert "FailureDescription" not in description


def test_a_channels_role_denied_by_its_stream_delivers_nothing_until_allowed(server):
    admin = client(server, "admin")
    stream_arn = create_active(admin, "channeled", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    role = f"arn:aws:iam::{ACCOUNT}:role/channel"
    admin.put_resource_policy(ResourceARN=stream_arn, Policy=policy(
        {"Effect": "Deny", "Principal": {"AWS": role}, "Action": "kinesis:GetRecords", "Resource": stream_arn}))
    admin.create_channel(
        ChannelName="mirror", ServiceExecutionRoleARN=role,
        StreamConfigurationList=[{"StreamARN": stream_arn, "RecordConfiguration": {"RecordFormatType": "JSON"}}],
        S3DestinationConfiguration={"StorageConfiguration": {
            "BucketARN": "arn:aws:s3:::mirror", "ExpectedBucketOwner": ACCOUNT, "CompressionType": "NONE"}},
    )
    channel_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:channel/mirror"
    deadline = time.monotonic() + 10
    while admin.describe_channel(ChannelARN=channel_arn)["ChannelDescription"]["ChannelStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    admin.put_records(StreamName="channeled", Records=[{"Data": b'{"n":1}', "PartitionKey": "k"}])
    folder = server.buckets / "mirror"
    time.sleep(2)
    assert not folder.exists() or not any(path.is_file() for path in folder.rglob("*"))

    admin.delete_resource_policy(ResourceARN=stream_arn)
    deadline = time.monotonic() + 20
    while not (folder.exists() and any(path.is_file() for path in folder.rglob("*"))):
        assert time.monotonic() < deadline, "nothing delivered once the role was allowed"
        time.sleep(0.2)
    bodies = [path.read_bytes() for path in folder.rglob("*") if path.is_file()]
    assert bodies == [b'{"n":1}'], bodies
