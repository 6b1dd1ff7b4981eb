"""`--enforce-limits` on the control plane, through boto3 (retries off): AWS's
per-operation rates answer LimitExceededException "Rate exceeded ...", and at most five
streams may be CREATING at once; without the flag neither applies."""

import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Rheo

ACCOUNT = "000000000000"


@pytest.fixture
def limited(tmp_path):
    # Streams stay CREATING for a minute, so the burst below leaves five of them CREATING.
    server = Rheo(tmp_path, "--enforce-limits", "--create-stream-ms", "60000").start()
    yield server
    server.stop()


@pytest.fixture
def limited_active(tmp_path):
    # Streams are ACTIVE at once: only the rate limits a burst of CreateStream.
    server = Rheo(tmp_path, "--enforce-limits", "--create-stream-ms", "0").start()
    yield server
    server.stop()


@pytest.fixture
def unlimited(tmp_path):
    server = Rheo(tmp_path, "--create-stream-ms", "60000").start()
    yield server
    server.stop()


def no_retries(server):
    """A client that makes each call once: botocore retries LimitExceededException, and
    the shared fixture's client still retries once."""
    return boto3.client(
        "kinesis",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def names(count):
    prefix = uuid.uuid4().hex[:8]
    return [f"limits-{prefix}-{i}" for i in range(count)]


def burst_create(client, streams):
    """CreateStream for each name at once; the error of each refused call."""
    errors = {}
    for name in streams:
        try:
            client.create_stream(StreamName=name, ShardCount=1)
        except ClientError as error:
            errors[name] = error.response["Error"]
    return errors


def test_a_burst_of_create_stream_is_rate_limited(limited_active):
    client = no_retries(limited_active)
    streams = names(20)
    errors = burst_create(client, streams)
    # Five per second per account: an immediate burst gets about five through.
    assert errors, "no CreateStream of the burst was refused"
    assert len(streams) - len(errors) >= 5, errors
    for name, error in errors.items():
        assert error["Code"] == "LimitExceededException"
        assert error["Message"] == f"Rate exceeded for stream {name} under account {ACCOUNT}."


def test_describe_limits_is_once_per_second_per_account(limited):
    client = no_retries(limited)
    client.describe_limits()
    with pytest.raises(ClientError) as refused:
        client.describe_limits()
    assert refused.value.response["Error"]["Code"] == "LimitExceededException"
    assert refused.value.response["Error"]["Message"] == f"Rate exceeded for account {ACCOUNT}."


def test_at_most_five_streams_creating_at_once(limited):
    client = no_retries(limited)
    first, sixth = names(5), names(1)[0]
    for name in first:
        client.create_stream(StreamName=name, ShardCount=1)
    # Past the CreateStream rate: what refuses the sixth is the five streams CREATING.
    time.sleep(1.1)
    with pytest.raises(ClientError) as refused:
        client.create_stream(StreamName=sixth, ShardCount=1)
    assert refused.value.response["Error"]["Code"] == "LimitExceededException"
    assert refused.value.response["Error"]["Message"] == (
        "This request would have exceed the limit on the number of streams that can "
        f"simultaneously be in CREATING or DELETING for the account {ACCOUNT}. Limit: 5."
    )


def test_without_the_flag_nothing_is_limited(unlimited):
    client = no_retries(unlimited)
    assert burst_create(client, names(10)) == {}
    for _ in range(3):
        client.describe_limits()
