"""moto_server processes and boto3 DynamoDB clients for the differential test."""

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import boto3
from botocore.config import Config

MOTO_START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _moto_server_path(repo) -> str:
    """moto_server of the Python running the tests (the pinned moto of requirements.txt), else the
    repository's .venv, else PATH."""
    for local in (pathlib.Path(sys.executable).parent / "moto_server", repo / ".venv" / "bin" / "moto_server"):
        if local.exists():
            return str(local)
    found = shutil.which("moto_server")
    assert found, "moto_server not found: install moto[server] (tests/e2e/requirements.txt)"
    return found


class MotoServer:
    """One moto_server on a free port; its DynamoDB state lives in the process."""

    def __init__(self, repo):
        self.repo = repo
        self.process = None
        self.endpoint = None

    def start(self) -> "MotoServer":
        port = _free_port()
        # A fixed hash seed makes moto's set iteration order, and so its answers, reproducible.
        self.process = subprocess.Popen(
            [_moto_server_path(self.repo), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        deadline = time.monotonic() + MOTO_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    self.endpoint = f"http://127.0.0.1:{port}"
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto_server did not listen on {port} within {MOTO_START_TIMEOUT_S}s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def dynamodb_client(endpoint: str):
    """A client that reports every error as it comes (no retries), so both sides see one call each."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, read_timeout=30),
    )
