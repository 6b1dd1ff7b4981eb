"""A few `aws kinesis …` CLI invocations (awscli v1) against the server."""

import base64
import json
import os
import pathlib
import subprocess
import sys
import time

AWS = pathlib.Path(sys.executable).parent / "aws"


def aws(rheo, *args):
    command = [str(AWS) if AWS.exists() else "aws", "--endpoint-url", rheo.endpoint, "--region", "us-east-1", "--output", "json", "kinesis", *args]
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ, timeout=60)
    return result


def test_cli_create_put_and_describe(rheo, stream_name):
    assert aws(rheo, "create-stream", "--stream-name", stream_name, "--shard-count", "2").returncode == 0
    deadline = time.monotonic() + 10
    while True:
        described = aws(rheo, "describe-stream-summary", "--stream-name", stream_name)
        assert described.returncode == 0, described.stderr
        summary = json.loads(described.stdout)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == "ACTIVE" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["OpenShardCount"] == 2
    # awscli v1 sends --data as given (base64 text on the wire).
    put = aws(rheo, "put-record", "--stream-name", stream_name, "--partition-key", "pk", "--data", base64.b64encode(b"hello").decode())
    assert put.returncode == 0, put.stderr
    placed = json.loads(put.stdout)
    assert placed["ShardId"].startswith("shardId-")
    assert len(placed["SequenceNumber"]) == 56
    missing = aws(rheo, "describe-stream-summary", "--stream-name", f"{stream_name}-missing")
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
    assert f"Stream {stream_name}-missing under account 000000000000 not found." in missing.stderr
