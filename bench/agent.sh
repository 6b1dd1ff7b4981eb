#!/usr/bin/env bash
# Agent lines/s (issue 19): how fast `rheo agent` ships one log file of LINES lines of
# LINE_BYTES bytes (newline included) into a SHARDS-shard Kinesis stream of a local `rheo serve`.
#
# The file is written first, then the agent starts with initialPosition START_OF_FILE; the time
# runs from the agent's start until its checkpoint file says the whole file is acknowledged (the
# checkpoint is written only after PutRecords answers, so that is the moment every line is in the
# stream). The stream is then read back to check the count. Batches are the agent's defaults
# (500 records per PutRecords) unless BATCH says otherwise.
#
# Usage: bench/agent.sh
#
# Environment (all optional):
#   RHEO_BIN           rheo binary (default: cargo build --release -p rheo, then $CARGO_TARGET_DIR/release/rheo)
#   CARGO_TARGET_DIR   where that build goes (default: <repo>/target)
#   PYTHON             a Python with boto3 (default: <repo>/.venv/bin/python, else python3)
#   LINES=1000000 LINE_BYTES=100 SHARDS=4 BATCH=500 DURABILITY=sync
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${RHEO_BIN:-}" ]; then
    cargo build --release -p rheo --manifest-path "$repo/Cargo.toml"
    RHEO_BIN="${CARGO_TARGET_DIR:-$repo/target}/release/rheo"
fi
PYTHON="${PYTHON:-$repo/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
export RHEO_BIN LINES="${LINES:-1000000}" LINE_BYTES="${LINE_BYTES:-100}" SHARDS="${SHARDS:-4}" \
    BATCH="${BATCH:-500}" DURABILITY="${DURABILITY:-sync}"

exec "$PYTHON" - <<'PY'
import json, os, pathlib, shutil, socket, subprocess, sys, tempfile, time
import boto3
from botocore.config import Config

rheo, lines, line_bytes = os.environ["RHEO_BIN"], int(os.environ["LINES"]), int(os.environ["LINE_BYTES"])
shards, batch = int(os.environ["SHARDS"]), int(os.environ["BATCH"])
work = pathlib.Path(tempfile.mkdtemp(prefix="rheo-agent-bench-"))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
endpoint = f"http://127.0.0.1:{port}"
server = subprocess.Popen([rheo, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(work / "data"),
                           "--durability", os.environ["DURABILITY"], "--create-stream-ms", "100"],
                          stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "w"))
agent = None
try:
    kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                           config=Config(retries={"max_attempts": 10}))
    deadline = time.monotonic() + 30
    while True:
        try:
            kinesis.create_stream(StreamName="agent-bench", ShardCount=shards); break
        except Exception:
            if time.monotonic() > deadline: raise
            time.sleep(0.2)
    while kinesis.describe_stream_summary(StreamName="agent-bench")["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        time.sleep(0.1)
    logs = work / "logs"; logs.mkdir()
    log = logs / "app.log"
    with open(log, "w") as f:
        pad = "x" * max(0, line_bytes - 1 - 10)
        for n in range(lines):
            f.write(f"{n:010d}{pad}\n")
    size = log.stat().st_size
    checkpoint = work / "checkpoints"
    (work / "agent.json").write_text(json.dumps({
        "kinesis.endpoint": endpoint, "checkpointFile": str(checkpoint),
        "flows": [{"filePattern": f"{logs}/app.log", "kinesisStream": "agent-bench",
                   "initialPosition": "START_OF_FILE", "maxBufferSizeRecords": batch}]}))

    def acknowledged():
        try:
            body = checkpoint.read_bytes().split(b"\n", 1)[1]
            return sum(e["offset"] for files in json.loads(body)["flows"].values() for e in files)
        except (FileNotFoundError, IndexError, ValueError):
            return 0

    started = time.monotonic()
    agent = subprocess.Popen([rheo, "agent", "--config", str(work / "agent.json")],
                             stdout=subprocess.DEVNULL, stderr=open(work / "agent.log", "w"))
    while acknowledged() < size:
        if agent.poll() is not None:
            sys.exit(f"agent exited early; see {work / 'agent.log'}")
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    agent.terminate(); agent.wait(timeout=30)
    if agent.returncode != 0:
        sys.exit(f"agent exited {agent.returncode} on SIGTERM")
    total = 0
    for shard in kinesis.list_shards(StreamName="agent-bench")["Shards"]:
        it = kinesis.get_shard_iterator(StreamName="agent-bench", ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            out = kinesis.get_records(ShardIterator=it, Limit=10000)
            total += len(out["Records"])
            if not out["Records"] and out.get("MillisBehindLatest", 0) == 0: break
            it = out.get("NextShardIterator")
    if total != lines:
        sys.exit(f"the stream holds {total} records, expected {lines}")
    print(f"agent: {lines} lines of {line_bytes} B into {shards} shards in {elapsed:.2f} s: "
          f"{lines / elapsed:,.0f} lines/s, {size / elapsed / 1e6:.1f} MB/s (batch {batch}, durability {os.environ['DURABILITY']})")
finally:
    if agent and agent.poll() is None:
        agent.kill()
    server.terminate(); server.wait(timeout=30)
    shutil.rmtree(work, ignore_errors=True)
PY
