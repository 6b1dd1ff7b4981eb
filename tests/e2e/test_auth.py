"""`rheo serve --auth sigv4`: boto3, the aws CLI and hand-signed requests (botocore's own
signers, sent with urllib3) against a server that verifies every signature."""

import datetime
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from unittest import mock

import boto3
import botocore.auth
import botocore.credentials
import pytest
import urllib3
from botocore.awsrequest import AWSRequest
from botocore.config import Config

from conftest import Rheo, rheo_binary

REGION = "us-east-1"
ALICE = ("AKIAALICE0000000001", "alice/secret+key0000000000000000000000001")
TEMP = ("ASIATEMP00000000001", "temp/secret+key00000000000000000000000001", "FwoGZXIvYXdzEXAMPLETOKEN==")
CAROL = ("AKIACAROL0000000001", "carol/secret+key0000000000000000000000001")
AWS_CLI = pathlib.Path(sys.executable).parent / "aws"
RELOAD_WAIT_S = 10


def credentials_text(with_carol: bool = False) -> str:
    text = (
        f"[alice]\naws_access_key_id = {ALICE[0]}\naws_secret_access_key = {ALICE[1]}\n\n"
        f"[temp]\naws_access_key_id = {TEMP[0]}\naws_secret_access_key = {TEMP[1]}\naws_session_token = {TEMP[2]}\n"
    )
    if with_carol:
        text += f"\n[carol]\naws_access_key_id = {CAROL[0]}\naws_secret_access_key = {CAROL[1]}\n"
    return text


def start(tmp_path_factory) -> tuple[Rheo, pathlib.Path]:
    folder = tmp_path_factory.mktemp("auth")
    credentials = folder / "credentials"
    credentials.write_text(credentials_text())
    server = Rheo(folder / "data", "--auth", "sigv4", "--credentials", str(credentials)).start()
    return server, credentials


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    server, _ = start(tmp_path_factory)
    yield server
    server.stop()


def client(server, service, key, secret, token=None):
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 0}),
    )


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def put_record_request(server, body=None):
    body = body or json.dumps({"StreamName": "nope", "Data": "aGk=", "PartitionKey": "k"})
    return AWSRequest(
        method="POST",
        url=server.endpoint + "/",
        data=body.encode(),
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecord"},
    )


def send(request) -> tuple[int, dict]:
    prepared = request.prepare()
    response = urllib3.request(prepared.method, prepared.url, body=prepared.body, headers=dict(prepared.headers))
    return response.status, json.loads(response.data or b"{}")


def sign(request, key=ALICE, at=None):
    signer = botocore.auth.SigV4Auth(botocore.credentials.Credentials(*key), "kinesis", REGION)
    if at is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=at):
            signer.add_auth(request)
    return request


class JsonQueryAuth(botocore.auth.SigV4QueryAuth):
    """Presigns a JSON POST. botocore's query signer moves a body into the query string, as
    the query protocols want; a JSON service's body stays a body, and its hash is signed."""

    def _modify_request_before_signing(self, request):
        body, request.data = request.data, b""
        super()._modify_request_before_signing(request)
        request.data = body


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def test_the_right_key_is_accepted_by_every_service(secured, stream_name):
    kinesis = client(secured, "kinesis", *ALICE)
    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream_name, WaiterConfig={"Delay": 0.2})
    put = kinesis.put_record(StreamName=stream_name, Data=b"signed", PartitionKey="k")
    iterator = kinesis.get_shard_iterator(
        StreamName=stream_name, ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]] == [b"signed"]
    assert "DeliveryStreamNames" in client(secured, "firehose", *ALICE).list_delivery_streams()
    assert "TableNames" in client(secured, "dynamodb", *ALICE).list_tables()
    # Temporary credentials: the exact session token is required.
    assert "StreamNames" in client(secured, "kinesis", *TEMP).list_streams()
    code, message = error_of(lambda: client(secured, "kinesis", TEMP[0], TEMP[1], "another-token").list_streams())
    assert (code, message) == ("UnrecognizedClientException", "The security token included in the request is invalid.")
    code, _ = error_of(lambda: client(secured, "kinesis", TEMP[0], TEMP[1]).list_streams())
    assert code == "UnrecognizedClientException"


def test_wrong_secret_and_unknown_key_are_refused(secured):
    code, message = error_of(lambda: client(secured, "kinesis", ALICE[0], "not-the-secret").list_streams())
    assert code == "InvalidSignatureException"
    assert message.startswith("The request signature we calculated does not match the signature you provided.")
    code, message = error_of(lambda: client(secured, "firehose", ALICE[0], "not-the-secret").list_delivery_streams())
    assert code == "InvalidSignatureException"
    code, message = error_of(lambda: client(secured, "dynamodb", "AKIANOBODY000000000", ALICE[1]).list_tables())
    assert (code, message) == ("UnrecognizedClientException", "The security token included in the request is invalid.")
    # The region and the service of the scope are the server's.
    code, message = error_of(
        lambda: boto3.client(
            "kinesis", endpoint_url=secured.endpoint, region_name="eu-west-1",
            aws_access_key_id=ALICE[0], aws_secret_access_key=ALICE[1],
            config=Config(retries={"max_attempts": 0}),
        ).list_streams()
    )
    assert (code, message) == ("InvalidSignatureException", "Credential should be scoped to a valid region, not 'eu-west-1'. ")


def test_unsigned_requests_still_get_the_presence_errors(secured):
    request = put_record_request(secured)
    status, body = send(request)
    assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")
    # Health and metrics stay open for probes and Prometheus.
    assert urllib3.request("GET", secured.endpoint + "/health").status == 200
    assert urllib3.request("GET", secured.endpoint + "/metrics").status == 200


def test_a_request_replayed_after_16_minutes_is_refused(secured):
    request = sign(put_record_request(secured), at=utcnow() - datetime.timedelta(minutes=16))
    status, body = send(request)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"].startswith("Signature expired: ")
    assert body["message"].endswith(" - 15 min.)")
    request = sign(put_record_request(secured), at=utcnow() + datetime.timedelta(minutes=16))
    status, body = send(request)
    assert body["message"].startswith("Signature not yet current: ")
    # Within the window the same request is accepted (the stream does not exist).
    status, body = send(sign(put_record_request(secured), at=utcnow() - datetime.timedelta(minutes=14)))
    assert (status, body["__type"]) == (400, "ResourceNotFoundException")


def test_tampering_after_signing_is_refused(secured):
    request = sign(put_record_request(secured))
    request.data = json.dumps({"StreamName": "other", "Data": "aGk=", "PartitionKey": "k"}).encode()
    status, body = send(request)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert "The Canonical String for this request should have been" in body["message"]

    request = sign(put_record_request(secured))
    request.headers.replace_header("X-Amz-Target", "Kinesis_20131202.DeleteStream")
    status, body = send(request)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")

    # An unknown key, even with a tampered body, only learns that the key is unknown.
    request = sign(put_record_request(secured), key=("AKIANOBODY000000000", "x"))
    request.data = b'{"StreamName":"x"}'
    assert send(request)[1]["__type"] == "UnrecognizedClientException"


def test_presigned_posts(secured):
    credentials = botocore.credentials.Credentials(*ALICE)
    request = put_record_request(secured)
    JsonQueryAuth(credentials, "kinesis", REGION, expires=60).add_auth(request)
    assert "X-Amz-Signature=" in request.url
    status, body = send(request)
    assert (status, body["__type"]) == (400, "ResourceNotFoundException")  # signed and verified

    request = put_record_request(secured)
    with mock.patch("botocore.auth.get_current_datetime", return_value=utcnow() - datetime.timedelta(minutes=2)):
        JsonQueryAuth(credentials, "kinesis", REGION, expires=60).add_auth(request)
    status, body = send(request)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"].startswith("Signature expired: ")

    request = put_record_request(secured)
    JsonQueryAuth(botocore.credentials.Credentials(ALICE[0], "wrong"), "kinesis", REGION).add_auth(request)
    assert send(request)[1]["__type"] == "InvalidSignatureException"


def test_the_aws_cli_signs_in(secured):
    def aws(key, secret):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
        command = [str(AWS_CLI) if AWS_CLI.exists() else "aws", "--endpoint-url", secured.endpoint,
                   "--region", REGION, "--output", "json", "kinesis", "list-streams"]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    accepted = aws(*ALICE)
    assert accepted.returncode == 0, accepted.stderr
    assert "StreamNames" in json.loads(accepted.stdout)
    refused = aws(ALICE[0], "wrong")
    assert refused.returncode != 0
    assert "InvalidSignatureException" in refused.stderr


def test_sighup_reloads_the_credentials(tmp_path_factory):
    server, credentials = start(tmp_path_factory)
    try:
        carol = client(server, "kinesis", *CAROL)
        assert error_of(carol.list_streams)[0] == "UnrecognizedClientException"
        # A file that does not parse keeps the principals in force (unit-tested exactly in
        # rheo-server; here: the server goes on serving alice).
        credentials.write_text("[alice]\naws_access_key_id = only-a-key\n")
        server.process.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        assert "StreamNames" in client(server, "kinesis", *ALICE).list_streams()
        credentials.write_text(credentials_text(with_carol=True))
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + RELOAD_WAIT_S
        while True:
            try:
                carol.list_streams()
                break
            except botocore.exceptions.ClientError:
                assert time.monotonic() < deadline, "carol's key never worked after SIGHUP"
                time.sleep(0.05)
        assert "StreamNames" in client(server, "kinesis", *ALICE).list_streams()
        assert server.process.poll() is None
    finally:
        server.stop()


@pytest.mark.parametrize(
    "flags, complaint",
    [
        (["--auth", "sigv4"], "--auth sigv4 needs --credentials"),
        (["--policies", "/tmp"], "--policies needs --auth sigv4"),
        (["--credentials", "/tmp/x"], "--credentials needs --auth sigv4"),
        (["--auth", "sigv4", "--credentials", "/nonexistent/credentials"], "cannot read the credentials file"),
    ],
)
def test_flags_that_would_do_nothing_are_refused(tmp_path, flags, complaint):
    result = subprocess.run(
        [str(rheo_binary()), "serve", "--in-memory", "--listen", "127.0.0.1:0", *flags],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode != 0
    assert complaint in result.stderr
