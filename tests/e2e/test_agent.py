"""End-to-end tests of `rheo agent` (the Kinesis Agent-compatible log shipper) against a real
`rheo serve`: a writer appends numbered lines to log files and rotates them in all three ways
(rename, copytruncate, create) while the agent runs; the agent is SIGKILLed and restarted
mid-run and finally stopped with SIGTERM. Every line must arrive, in order per file, with
duplicates only from the one batch that was in flight at the kill."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import Rheo, create_active, rheo_binary
from firehose_support import FIREHOSE_FLAGS, client as firehose_client, create_s3_stream, read_objects, unique

BATCH_RECORDS = 50  # maxBufferSizeRecords of the rotation flow: the most a kill may re-send
LINES_PER_LINEAGE = 900
LINES_PER_STEP = 5
ROTATE_EVERY_STEPS = 30
KILL_AT_STEP = 90
EVENTUALLY_S = 40.0

COMBINED_LINE = (
    '192.0.2.{n} - frank [10/Oct/2000:13:55:36 -0700] "GET /item/{n} HTTP/1.0" 200 {n} '
    '"http://example.com/start" "Mozilla/4.08 [en] (Win98; I ;Nav)"'
)


@pytest.fixture
def server(tmp_path):
    buckets = tmp_path / "buckets"
    buckets.mkdir()
    rheo = Rheo(tmp_path / "data", *FIREHOSE_FLAGS, "--s3-dir", str(buckets)).start()
    rheo.buckets = buckets
    yield rheo
    rheo.stop()


class AgentProcess:
    def __init__(self, config_path, log_path):
        self.config_path = config_path
        self.log_path = log_path
        self.process = None

    def start(self):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [str(rheo_binary()), "agent", "--config", str(self.config_path)],
            stdout=log, stderr=log,
        )
        log.close()
        return self

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def terminate(self, timeout_s=20):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def ensure_stopped(self):
        if self.process and self.process.poll() is None:
            self.kill()


def read_stream(kinesis, name):
    """Every record of a one-shard stream from TRIM_HORIZON, in shard order."""
    shard = kinesis.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = []
    while iterator:
        out = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        records.extend(r["Data"] for r in out["Records"])
        if not out["Records"] and out.get("MillisBehindLatest", 0) == 0:
            break
        iterator = out.get("NextShardIterator")
    return records


def parse_numbered(records):
    """{lineage: [n, ...]} in arrival order, for records "lineage n\\n"."""
    by_lineage = {}
    for data in records:
        text = data.decode()
        assert text.endswith("\n"), f"the agent sends lines with their newline: {text!r}"
        lineage, n = text.split()
        by_lineage.setdefault(lineage, []).append(int(n))
    return by_lineage


def wait_until(predicate, what, timeout_s=EVENTUALLY_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Writer:
    """Appends numbered lines to three lineages and rotates each its own way."""

    def __init__(self, logs, kinesis, stream):
        self.logs = logs
        self.kinesis = kinesis
        self.stream = stream
        self.next = {"rename": 0, "copy": 0, "create": 0}
        self.rotations = {"rename": 0, "copy": 0, "create": 0}
        self.first_create_line = 0  # the first line of the current create.log

    def path(self, lineage):
        return self.logs / f"{lineage}.log"

    def append(self, lineage, count):
        with open(self.path(lineage), "a") as f:
            for _ in range(count):
                if self.next[lineage] < LINES_PER_LINEAGE:
                    f.write(f"{lineage} {self.next[lineage]}\n")
                    self.next[lineage] += 1

    def rotate_rename(self):
        self.rotations["rename"] += 1
        os.rename(self.path("rename"), self.logs / f"rename.log.{self.rotations['rename']}")
        self.path("rename").touch()

    def rotate_copytruncate(self):
        # As logrotate does it: the copy is written in place under its rotated name (the
        # agent may see it empty or half written), then the original is truncated.
        self.rotations["copy"] += 1
        shutil.copyfile(self.path("copy"), self.logs / f"copy.log.{self.rotations['copy']}")
        with open(self.path("copy"), "r+") as f:
            f.truncate(0)

    def rotate_create(self):
        # The old file leaves the pattern: the agent finishes it through the descriptor it
        # holds. It must have opened it first, which its first line arriving proves. The
        # real agent has the same limit: a file renamed out of the pattern before any look
        # at the folder saw it is never read.
        first = f"create {self.first_create_line}\n".encode()
        wait_until(lambda: first in read_stream(self.kinesis, self.stream), "the agent to open create.log")
        self.rotations["create"] += 1
        os.rename(self.path("create"), self.logs / f"create.old.{self.rotations['create']}")
        self.path("create").touch()
        self.first_create_line = self.next["create"]

    def done(self):
        return all(n >= LINES_PER_LINEAGE for n in self.next.values())


def agent_config(tmp_path, logs, stream, json_stream, delivery_stream, endpoint):
    config = {
        "kinesis.endpoint": endpoint,
        "firehose.endpoint": endpoint,
        "checkpointFile": str(tmp_path / "checkpoints"),
        "cloudwatch.emitMetrics": False,
        "flows": [
            {
                "filePattern": f"{logs}/*.log*",
                "kinesisStream": stream,
                "partitionKeyOption": "DETERMINISTIC",
                "initialPosition": "START_OF_FILE",
                "maxBufferAgeMillis": 1000,
                "maxBufferSizeRecords": BATCH_RECORDS,
            },
            {
                "filePattern": f"{logs}/access*.txt",
                "kinesisStream": json_stream,
                "initialPosition": "START_OF_FILE",
                "maxBufferAgeMillis": 1000,
                "dataProcessingOptions": [{"optionName": "LOGTOJSON", "logFormat": "COMBINEDAPACHELOG"}],
            },
            {
                "filePattern": f"{logs}/firehose*.txt",
                "deliveryStream": delivery_stream,
                "initialPosition": "START_OF_FILE",
                "maxBufferAgeMillis": 1000,
            },
        ],
    }
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(config))
    return path


def test_agent_ships_every_line_through_rotation_kill_and_restart(server, tmp_path):
    kinesis = server.client()
    fh = firehose_client(server.endpoint)
    stream, json_stream, delivery_stream = unique("agent"), unique("agentjson"), unique("agentfh")
    create_active(kinesis, stream)
    create_active(kinesis, json_stream)
    bucket, _ = create_s3_stream(fh, delivery_stream, server.buckets)
    logs = tmp_path / "logs"
    logs.mkdir()
    config = agent_config(tmp_path, logs, stream, json_stream, delivery_stream, server.endpoint)
    agent_log = tmp_path / "agent.log"

    writer = Writer(logs, kinesis, stream)
    for lineage in writer.next:
        writer.append(lineage, LINES_PER_STEP)
    with open(logs / "access.txt", "w") as f:
        f.writelines(COMBINED_LINE.format(n=n) + "\n" for n in range(100))
    with open(logs / "firehose.txt", "w") as f:
        f.writelines(f"fh {n}\n" for n in range(300))

    agent = AgentProcess(config, agent_log).start()
    try:
        step = 0
        while not writer.done():
            step += 1
            for lineage in writer.next:
                writer.append(lineage, LINES_PER_STEP)
            if step % ROTATE_EVERY_STEPS == 0:
                writer.rotate_rename()
                writer.rotate_copytruncate()
                if agent.process.poll() is None:
                    writer.rotate_create()
            if step == KILL_AT_STEP:
                # A file moved out of the pattern cannot be found again after a restart
                # (the real agent's limit too: its checkpoints name files it finds by
                # pattern): kill only once the moved-away files are shipped.
                shipped = {f"create {n}\n".encode() for n in range(writer.first_create_line)}
                wait_until(lambda: shipped <= set(read_stream(kinesis, stream)), "the rotated create files")
                agent.kill()
            if step == KILL_AT_STEP + 10:
                agent.start()
            time.sleep(0.01)

        def all_arrived():
            lines = parse_numbered(read_stream(kinesis, stream))
            return all(set(lines.get(l, [])) >= set(range(LINES_PER_LINEAGE)) for l in writer.next)

        def missing():
            lines = parse_numbered(read_stream(kinesis, stream))
            return {l: sorted(set(range(LINES_PER_LINEAGE)) - set(lines.get(l, [])))[:20] for l in writer.next}

        try:
            wait_until(all_arrived, "every line in the stream")
        except AssertionError:
            raise AssertionError(f"lines missing (first 20 per file): {missing()}; files: {sorted(p.name for p in logs.iterdir())}")
        assert agent.terminate() == 0, "SIGTERM exits 0 after a final checkpoint"
    finally:
        agent.ensure_stopped()
        if agent_log.exists():
            sys.stderr.write(agent_log.read_text()[-4000:])

    assert (tmp_path / "checkpoints").read_bytes().startswith(b"rheo-agent-checkpoints 1 ")
    assert writer.rotations["rename"] >= 2 and writer.rotations["copy"] >= 2 and writer.rotations["create"] >= 1

    lines = parse_numbered(read_stream(kinesis, stream))
    duplicates = 0
    for lineage in writer.next:
        arrived = lines[lineage]
        first_seen = list(dict.fromkeys(arrived))
        assert first_seen == list(range(LINES_PER_LINEAGE)), f"{lineage}: lines lost or out of order"
        duplicates += len(arrived) - len(first_seen)
    # Only the batch in flight at the kill may be sent twice.
    assert duplicates <= BATCH_RECORDS, f"{duplicates} duplicates"

    json_records = [json.loads(r) for r in read_stream(kinesis, json_stream)]
    by_host = {r["host"]: r for r in json_records}
    assert sorted(by_host) == sorted(f"192.0.2.{n}" for n in range(100))
    sample = by_host["192.0.2.7"]
    assert sample["request"] == "GET /item/7 HTTP/1.0"
    assert sample["response"] == "200" and sample["bytes"] == "7"
    assert sample["agent"] == "Mozilla/4.08 [en] (Win98; I ;Nav)"
    assert sample["datetime"] == "10/Oct/2000:13:55:36 -0700"

    def firehose_lines():
        text = b"".join(read_objects(bucket).values()).decode()
        return set(text.splitlines())

    wait_until(lambda: firehose_lines() >= {f"fh {n}" for n in range(300)}, "every line in the delivery stream")


def test_agent_refuses_bad_configurations(tmp_path):
    cases = [
        ({"flows": [{"filePattern": "/tmp/x/*.log", "kinesisStream": "s", "maxBufferSizeRecords": 501}]},
         "flows[0].maxBufferSizeRecords"),
        ({"flows": [{"filePattern": "/tmp/x/*.log", "kinesisStream": "s", "bogusKey": 1}]}, "bogusKey"),
        ({"flows": [{"filePattern": "/tmp/x/*.log", "kinesisStream": "s",
                     "dataProcessingOptions": [{"optionName": "ADDEC2METADATA"}]}]}, "ADDEC2METADATA"),
        ({"flows": [{"filePattern": "/tmp/x/*.log", "kinesisStream": "s", "deliveryStream": "d"}]},
         "not both"),
        ({"flows": [{"filePattern": "/tmp/x/*.log", "deliveryStream": "d", "aggregatedRecordSizeBytes": 1024}]},
         "flows[0].aggregatedRecordSizeBytes"),
    ]
    for config, expected in cases:
        path = tmp_path / "agent.json"
        path.write_text(json.dumps(config))
        result = subprocess.run(
            [str(rheo_binary()), "agent", "--config", str(path)], capture_output=True, text=True, timeout=30
        )
        assert result.returncode != 0
        assert expected in result.stderr, result.stderr
