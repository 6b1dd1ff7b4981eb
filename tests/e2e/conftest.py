"""Fixtures: a real `rheo serve` process on a free port with a temporary data folder,
and boto3 clients pointed at it with dummy credentials."""

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import uuid

import boto3
import pytest
from botocore.config import Config

REPO = pathlib.Path(__file__).resolve().parents[2]
READY_LINE = "rheo listening on "
START_TIMEOUT_S = 15

# Dummy credentials: the server checks that requests are signed, not the signature.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)


def rheo_binary() -> pathlib.Path:
    explicit = os.environ.get("RHEO_BIN")
    if explicit:
        return pathlib.Path(explicit)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    for profile in ("release", "debug"):
        candidate = target / profile / "rheo"
        if candidate.exists():
            return candidate
    pytest.exit(f"rheo binary not found under {target}; build it or set RHEO_BIN", returncode=2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Rheo:
    """One `rheo serve` process. Lifecycle delays are short so tests see CREATING,
    UPDATING and DELETING without waiting long."""

    def __init__(self, data_dir: pathlib.Path, *extra: str):
        self.data_dir = data_dir
        self.extra = list(extra)
        self.process = None
        self.endpoint = None

    def start(self) -> "Rheo":
        port = free_port()
        args = [
            str(rheo_binary()), "serve",
            "--listen", f"127.0.0.1:{port}",
            "--data-dir", str(self.data_dir),
        ]
        # A delay given in `extra` replaces the short default (a flag may appear once).
        for flag in ["--create-stream-ms", "--delete-stream-ms", "--update-stream-ms", "--consumer-ms"]:
            if flag not in self.extra:
                args += [flag, "300"]
        args += self.extra
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=sys.stderr, text=True
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith(READY_LINE):
                self.endpoint = line[len(READY_LINE):].strip()
                return self
            if not line and self.process.poll() is not None:
                break
        self.kill()
        raise RuntimeError("rheo did not start")

    def client(self, **config):
        return boto3.client(
            "kinesis",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}, **config),
        )

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="session")
def rheo(tmp_path_factory):
    server = Rheo(tmp_path_factory.mktemp("rheo-data")).start()
    yield server
    server.stop()
    assert server.process.returncode == 0, "rheo did not shut down cleanly on SIGTERM"


@pytest.fixture(scope="session")
def kinesis(rheo):
    return rheo.client()


@pytest.fixture(scope="session")
def raw_kinesis(rheo):
    """A client without botocore's own parameter validation, to reach server-side checks."""
    return rheo.client(parameter_validation=False)


@pytest.fixture
def stream_name():
    return f"e2e-{uuid.uuid4().hex[:12]}"


def wait_for_status(client, name, status="ACTIVE", timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        summary = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == status:
            return summary
        time.sleep(0.05)
    raise AssertionError(f"stream {name} did not become {status}")


def create_active(client, name, shards=1):
    client.create_stream(StreamName=name, ShardCount=shards)
    return wait_for_status(client, name)


def read_shard(client, name, shard_id, iterator_type="TRIM_HORIZON", **kwargs):
    """Reads a shard until it is caught up (open shard) or ends (closed shard).
    Returns (records, last GetRecords response)."""
    iterator = client.get_shard_iterator(
        StreamName=name, ShardId=shard_id, ShardIteratorType=iterator_type, **kwargs
    )["ShardIterator"]
    records = []
    while True:
        response = client.get_records(ShardIterator=iterator)
        records.extend(response["Records"])
        if "NextShardIterator" not in response or not response["Records"]:
            return records, response
        iterator = response["NextShardIterator"]
