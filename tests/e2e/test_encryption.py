"""Encryption at rest with the local key store: records of an encrypted stream (and of a
Firehose delivery stream with server-side encryption) never reach the disk in the clear,
read back intact across restarts, kill -9 and key rotation; StopStreamEncryption writes
later records in the clear; unknown keys are refused with AWS's errors; `rheo keys`
creates and rotates keys a running server picks up."""

import pathlib
import signal
import stat
import subprocess
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import Rheo, create_active, read_shard, rheo_binary, wait_for_status
from firehose_support import (
    FIREHOSE_FLAGS, ROLE_ARN, client as aws_client, create_s3_stream, s3_config, wait_encryption, wait_objects,
    wait_status,
)

ACCOUNT = "000000000000"


def marker(label):
    """A plaintext no file could contain by chance."""
    return f"plaintext-marker-{label}-{uuid.uuid4().hex}".encode()


def files_containing(root, needle):
    """Every file under `root` whose bytes contain `needle`."""
    return [path for path in pathlib.Path(root).rglob("*") if path.is_file() and needle in path.read_bytes()]


def keys(data_dir, *args):
    """Runs `rheo keys ARGS` on a data folder; returns its output."""
    result = subprocess.run(
        [str(rheo_binary()), "keys", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def encrypt(client, name, key_id="alias/aws/kinesis"):
    client.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId=key_id)
    return wait_for_status(client, name)


def create_encrypted(client, name, key_id="alias/aws/kinesis"):
    create_active(client, name)
    return encrypt(client, name, key_id)


def put(client, name, data):
    response = client.put_record(StreamName=name, Data=data, PartitionKey="k")
    return response


def all_data(client, name):
    records, _ = read_shard(client, name, "shardId-000000000000")
    return [r["Data"] for r in records]


def test_encrypted_records_are_sealed_on_disk_and_survive_restart_and_kill(tmp_path):
    data_dir = tmp_path / "data"
    first, second, third = marker("first"), marker("second"), marker("third")
    server = Rheo(data_dir).start()
    try:
        client = server.client()
        summary = create_encrypted(client, "enc")
        assert (summary["EncryptionType"], summary["KeyId"]) == ("KMS", "alias/aws/kinesis")
        assert put(client, "enc", first)["EncryptionType"] == "KMS"
        records, _ = read_shard(client, "enc", "shardId-000000000000")
        assert [(r["Data"], r["EncryptionType"]) for r in records] == [(first, "KMS")]
        assert files_containing(data_dir, first) == []
        # The key folder is private to the server's user.
        assert stat.S_IMODE((data_dir / "keys").stat().st_mode) == 0o700
        assert stat.S_IMODE((data_dir / "keys" / "keys.bin").stat().st_mode) == 0o600
        put(client, "enc", second)
    finally:
        server.kill()

    restarted = Rheo(data_dir).start()
    try:
        client = restarted.client()
        assert all_data(client, "enc") == [first, second]
        put(client, "enc", third)
    finally:
        restarted.stop()
    assert restarted.process.returncode == 0

    again = Rheo(data_dir).start()
    try:
        assert all_data(again.client(), "enc") == [first, second, third]
    finally:
        again.stop()
    for needle in (first, second, third):
        assert files_containing(data_dir, needle) == []


def test_rotation_seals_new_records_and_old_ones_still_read(tmp_path):
    data_dir = tmp_path / "data"
    before, after = marker("before"), marker("after")
    server = Rheo(data_dir).start()
    try:
        client = server.client()
        create_encrypted(client, "rot")
        put(client, "rot", before)
        output = keys(data_dir, "rotate", "alias/aws/kinesis")
        assert "version 2" in output
        server.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)  # The reload runs on the server's own schedule; nothing asserts its timing.
        assert server.process.poll() is None, "SIGHUP stopped the server"
        put(client, "rot", after)
        assert all_data(client, "rot") == [before, after]
    finally:
        server.stop()
    listing = keys(data_dir, "list")
    kinesis_line = next(line for line in listing.splitlines() if "alias/aws/kinesis" in line)
    assert kinesis_line.split()[1] == "2", listing

    restarted = Rheo(data_dir).start()
    try:
        assert all_data(restarted.client(), "rot") == [before, after]
    finally:
        restarted.stop()
    assert files_containing(data_dir, before) == [] and files_containing(data_dir, after) == []


def test_stop_encryption_writes_later_records_in_the_clear(tmp_path):
    data_dir = tmp_path / "data"
    sealed, clear = marker("sealed"), marker("clear")
    server = Rheo(data_dir).start()
    try:
        client = server.client()
        create_encrypted(client, "stop")
        put(client, "stop", sealed)
        client.stop_stream_encryption(StreamName="stop", EncryptionType="KMS", KeyId="alias/aws/kinesis")
        summary = wait_for_status(client, "stop")
        assert summary["EncryptionType"] == "NONE"
        assert "EncryptionType" not in put(client, "stop", clear)
        assert all_data(client, "stop") == [sealed, clear]
        assert files_containing(data_dir, sealed) == []
        assert files_containing(data_dir, clear) != []
    finally:
        server.stop()


def test_unknown_keys_are_refused_and_change_nothing(rheo, kinesis, stream_name):
    create_active(kinesis, stream_name)
    cases = [
        ("alias/nope", f"Alias arn:aws:kms:us-east-1:{ACCOUNT}:alias/nope is not found."),
        (
            "00000000-0000-4000-8000-000000000000",
            f"Key 'arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-4000-8000-000000000000' does not exist",
        ),
        (
            f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/aws/kinesis",
            f"Alias arn:aws:kms:eu-west-1:{ACCOUNT}:alias/aws/kinesis is not found.",
        ),
    ]
    for key_id, message in cases:
        with pytest.raises(ClientError) as excinfo:
            kinesis.start_stream_encryption(StreamName=stream_name, EncryptionType="KMS", KeyId=key_id)
        error = excinfo.value.response["Error"]
        assert (error["Code"], error["Message"]) == ("KMSNotFoundException", message)
    summary = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert (summary["StreamStatus"], summary["EncryptionType"]) == ("ACTIVE", "NONE")


def test_a_key_created_by_rheo_keys_is_usable_by_the_running_server(tmp_path):
    data_dir = tmp_path / "data"
    secret = marker("custom")
    server = Rheo(data_dir).start()
    try:
        client = server.client()
        create_active(client, "custom")
        key_id, key_arn = keys(data_dir, "create", "--alias", "alias/mine").split()
        assert key_arn == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}"
        summary = encrypt(client, "custom", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/mine")
        assert summary["KeyId"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/mine"
        put(client, "custom", secret)
        # Switching to the same key by its id, then by its ARN, keeps the records readable.
        encrypt(client, "custom", key_id)
        encrypt(client, "custom", key_arn)
        assert all_data(client, "custom") == [secret]
        assert files_containing(data_dir, secret) == []
    finally:
        server.stop()


def test_firehose_server_side_encryption_seals_its_log(tmp_path):
    data_dir = tmp_path / "data"
    buckets = tmp_path / "buckets"
    secret = marker("firehose")
    server = Rheo(data_dir, "--s3-dir", str(buckets), *FIREHOSE_FLAGS).start()
    try:
        fh = aws_client(server.endpoint)
        create_s3_stream(fh, "sse", buckets, size_mb=128, interval_s=900)
        fh.start_delivery_stream_encryption(
            DeliveryStreamName="sse", DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"}
        )
        wait_encryption(fh, "sse", "ENABLED")
        assert fh.put_record(DeliveryStreamName="sse", Record={"Data": secret})["Encrypted"] is True
        assert files_containing(data_dir, secret) == []

        unknown = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-4000-8000-000000000000"
        with pytest.raises(ClientError) as excinfo:
            fh.start_delivery_stream_encryption(
                DeliveryStreamName="sse",
                DeliveryStreamEncryptionConfigurationInput={"KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": unknown},
            )
        error = excinfo.value.response["Error"]
        assert (error["Code"], error["Message"]) == ("InvalidKMSResourceException", f"Key '{unknown}' does not exist")
    finally:
        server.kill()

    restarted = Rheo(data_dir, "--s3-dir", str(buckets), *FIREHOSE_FLAGS).start()
    try:
        fh = aws_client(restarted.endpoint)
        assert fh.put_record(DeliveryStreamName="sse", Record={"Data": b"x"})["Encrypted"] is True
    finally:
        restarted.stop()
    assert files_containing(data_dir, secret) == []


def test_a_delivery_stream_reading_an_encrypted_stream_keeps_its_copies_sealed(tmp_path):
    # The buckets are a destination, kept out of the data folder: delivered objects are
    # plaintext by design.
    data_dir, buckets = tmp_path / "data", tmp_path / "buckets"
    (buckets / "copies").mkdir(parents=True)
    secret = marker("copied")
    server = Rheo(data_dir, "--s3-dir", str(buckets), *FIREHOSE_FLAGS).start()
    try:
        client = server.client()
        source_arn = create_encrypted(client, "sealed-src")["StreamARN"]
        fh = aws_client(server.endpoint)
        fh.create_delivery_stream(
            DeliveryStreamName="copies",
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": source_arn, "RoleARN": ROLE_ARN},
            ExtendedS3DestinationConfiguration=s3_config("copies", interval_s=0),
        )
        wait_status(fh, "copies", timeout_s=15)
        put(client, "sealed-src", secret)
        # Delivered, so copied into the delivery stream's log first, and opened from it.
        objects = wait_objects(buckets / "copies")
        assert any(secret in body for body in objects.values())
        assert files_containing(data_dir, secret) == []
    finally:
        server.stop()
    assert files_containing(data_dir, secret) == []


def test_a_copy_of_the_data_folder_without_the_key_folder_reveals_nothing(tmp_path):
    data_dir, key_dir = tmp_path / "data", tmp_path / "keys-elsewhere"
    secret = marker("apart")
    server = Rheo(data_dir, "--key-dir", str(key_dir)).start()
    try:
        client = server.client()
        create_encrypted(client, "apart")
        put(client, "apart", secret)
    finally:
        server.stop()
    assert not (data_dir / "keys").exists()
    assert "alias/aws/kinesis" in keys(data_dir, "--key-dir", str(key_dir), "list")
    assert files_containing(data_dir, secret) == []

    # The data folder with a key store of other keys (a lost, moved or mistyped key
    # folder): the server refuses to start rather than seal new records with keys whose
    # numbers collide with the old ones.
    for other in [["--key-dir", str(tmp_path / "other-keys")], []]:
        refused = subprocess.run(
            [str(rheo_binary()), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir), *other],
            capture_output=True, text=True, timeout=30,
        )
        assert refused.returncode != 0
        assert f"the data folder {data_dir} belongs to the key store whose first key is" in refused.stderr
        assert "start with the --key-dir holding that folder's key file" in refused.stderr

    owner = Rheo(data_dir, "--key-dir", str(key_dir)).start()
    try:
        assert all_data(owner.client(), "apart") == [secret]
    finally:
        owner.stop()
