"""Harness for the KCL end-to-end tests: runs the real KCL 3.x MultiLangDaemon (jars from the
PyPI wheel kclpy-ext) with a record processor that journals what it sees, or rheo-client's
example worker (crates/client/examples/consume.rs) on the same lease table, writes records
(plain and KPL-aggregated per shard with the reference aggregator aws-kinesis-agg), and reads
the journals back.

One KclWorker is one daemon process (one JVM plus one processor process per leased shard),
started in its own process group so that `kill()` is a real kill -9 of the whole worker.
"""

import base64
import hashlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import uuid

import amazon_kclpy
from conftest import rheo_binary
from aws_kinesis_agg.aggregator import RecordAggregator

KCL_DIR = pathlib.Path(__file__).resolve().parent
PYTHON_PROCESSOR = KCL_DIR / "processor.py"
KCL_RS_CONSUMER = KCL_DIR / "kclrs_consumer.py"
NODE_PROCESSOR = KCL_DIR / "node" / "processor.js"
LOGBACK = KCL_DIR / "logback.xml"
DAEMON_CLASS = "software.amazon.kinesis.multilang.MultiLangDaemon"

# KCL's defaults are tuned for production (a 10 s failover, a 60 s shard sync, 30 s worker
# metric reports, ~70 s from start to the first record here). These make every cycle a second or
# two so that a scenario takes tens of seconds; the algorithms are the same, only the timers
# shrink. Names are the MultiLangDaemon's property names (MultiLangDaemonConfiguration and its
# nested beans in KCL 3.1.3).
FAST_TIMERS = {
    "failoverTimeMillis": 4000,
    "leaseAssignmentIntervalMillis": 1000,
    "shardSyncIntervalMillis": 2000,
    "parentShardPollIntervalMillis": 500,
    "idleTimeBetweenReadsInMillis": 250,
    "taskBackoffTimeMillis": 500,
    "listShardsBackoffTimeInMillis": 500,
    "schedulerInitializationBackoffTimeMillis": 1000,
    "workerMetricsReporterFreqInMillis": 1000,
    "inMemoryWorkerMetricsCaptureFrequencyMillis": 250,
    "gracefulLeaseHandoffTimeoutMillis": 2000,
}

# A scenario waits at most this long for KCL to reach a state (first lease, every record...).
# KCL's first start on an empty lease table alone waits a random 1-30 s (Scheduler's
# MAX_WAIT_TIME_FOR_LEASE_TABLE_CHECK_MILLIS, not configurable) before it syncs shards.
SETTLE_TIMEOUT_S = 150
# How long a SIGTERM'd daemon gets to shut down before its process group is killed.
STOP_TIMEOUT_S = 30

MAX_HASH_KEY = 2**128 - 1


def kcl_jars() -> pathlib.Path:
    jars = pathlib.Path(amazon_kclpy.__file__).resolve().parent / "jars"
    if not any(jars.glob("amazon-kinesis-client-multilang-*.jar")):
        raise RuntimeError(f"no KCL MultiLangDaemon jar in {jars} (is kclpy-ext installed?)")
    return jars


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (pathlib.Path(home) / "bin" / "java").exists():
        return str(pathlib.Path(home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise RuntimeError("java not found (set JAVA_HOME or put java on PATH)")
    return found


def python_processor_command() -> tuple[str, str]:
    """(executableName, processingLanguage) for the Python processor in this venv."""
    return f"{sys.executable} {PYTHON_PROCESSOR}", "python/3.11"


def node_processor_command() -> tuple[str, str]:
    node = shutil.which("node")
    if not node:
        raise RuntimeError("node not found")
    return f"{node} {NODE_PROCESSOR}", "nodejs/20"


class JournaledWorker:
    """A consumer process (and its children, in one process group) whose record processors journal
    to `<name>.jsonl` and whose output goes to `<name>.log` under `workdir`."""

    def __init__(self, workdir: pathlib.Path, name: str):
        self.name = name
        self.workdir = workdir
        self.journal_path = workdir / f"{name}.jsonl"
        self.log_path = workdir / f"{name}.log"
        self.process = None
        self.runs = 0
        self.stopped = False

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        # Any credentials work; never the user's profile, instance metadata or endpoint settings.
        env = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("AWS_", "JAVA_TOOL_OPTIONS", "KCL_E2E_"))
        }
        env.update({
            "AWS_ACCESS_KEY_ID": "AKIDLOCAL",
            "AWS_SECRET_ACCESS_KEY": "local-secret",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "KCL_E2E_JOURNAL": str(self.journal_path),
            "KCL_E2E_WORKER": self.name,
        })
        return env

    def start(self):
        self.runs += 1
        self.stopped = False
        with open(self.log_path, "a") as log:
            log.write(f"==== run {self.runs} of worker {self.name}\n")
            log.flush()
            self.process = subprocess.Popen(
                self.command(), cwd=self.workdir, env=self.environment(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def crashed(self) -> bool:
        """Exited although the test did not stop it (bad properties, an error it gave up on)."""
        return self.process is not None and self.process.poll() is not None and not self.stopped

    def kill(self):
        """kill -9 of the JVM and of its processor processes (one process group)."""
        if self.process is None:
            return
        self.stopped = True
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def stop(self):
        """SIGTERM, as an operator would stop it; KCL's shutdown hook ends the leases gracefully."""
        self.stopped = True
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def events(self) -> list[dict]:
        if not self.journal_path.exists():
            return []
        lines = self.journal_path.read_text().splitlines()
        # A kill -9 can only cut the last line short.
        return [json.loads(line) for line in lines if line.endswith("}")]

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class KclWorker(JournaledWorker):
    """One KCL MultiLangDaemon (a JVM, plus one processor process per leased shard)."""

    def __init__(self, workdir: pathlib.Path, name: str, *, stream: str, application: str,
                 kinesis_endpoint: str, dynamodb_endpoint: str, retrieval: str = "POLLING",
                 executable: tuple[str, str] | None = None, **overrides):
        super().__init__(workdir, name)
        self.properties_path = workdir / f"{name}.properties"
        executable_name, language = executable or python_processor_command()
        self.properties = {
            "executableName": executable_name,
            "processingLanguage": language,
            "streamName": stream,
            "applicationName": application,
            "workerIdentifier": name,
            "AwsCredentialsProvider": "DefaultCredentialsProvider",
            "regionName": "us-east-1",
            "kinesisEndpoint": kinesis_endpoint,
            "dynamoDBEndpoint": dynamodb_endpoint,
            "initialPositionInStream": "TRIM_HORIZON",
            "retrievalMode": retrieval,
            # No CloudWatch: nothing on this machine would receive it.
            "metricsLevel": "NONE",
            "leaseTableDeletionProtectionEnabled": "false",
            # Time for the processors to finish on SIGTERM (the default 0 gives up at once).
            "shutdownGraceMillis": 20000,
            **FAST_TIMERS,
            **overrides,
        }
        self.write_properties()

    def write_properties(self):
        self.properties_path.write_text("".join(f"{k} = {v}\n" for k, v in self.properties.items()))

    def retarget(self, kinesis_endpoint: str, dynamodb_endpoint: str):
        """Points the next start at other endpoints (a restarted server listens on a new port)."""
        self.properties["kinesisEndpoint"] = kinesis_endpoint
        self.properties["dynamoDBEndpoint"] = dynamodb_endpoint
        self.write_properties()

    def command(self) -> list[str]:
        return [
            java_binary(),
            # Short-lived test JVMs: start fast and stay small on 2 shared cores.
            "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k", "-Xmx256m",
            f"-Dlogback.configurationFile={LOGBACK}",
            "-cp", f"{kcl_jars()}/*",
            DAEMON_CLASS, "--properties-file", str(self.properties_path),
        ]


class KclRsWorker(JournaledWorker):
    """kcl-rs (the Rust port of KCL 3 with Python bindings) running the journaling processor in a
    Python process of its own. Its AWS SDK reads the endpoints from AWS_ENDPOINT_URL_<SERVICE>.
    It publishes CloudWatch metrics, which Rheo does not serve: kcl-rs logs the failure and goes on."""

    def __init__(self, workdir: pathlib.Path, name: str, *, stream: str, application: str,
                 kinesis_endpoint: str, dynamodb_endpoint: str, retrieval: str = "POLLING"):
        super().__init__(workdir, name)
        self.arguments = [stream, application, retrieval]
        self.endpoints = {
            "AWS_ENDPOINT_URL_KINESIS": kinesis_endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
            "AWS_ENDPOINT_URL_CLOUDWATCH": kinesis_endpoint,
        }

    def environment(self) -> dict[str, str]:
        return {**super().environment(), **self.endpoints}

    def command(self) -> list[str]:
        return [sys.executable, str(KCL_RS_CONSUMER), *self.arguments]


def consume_example() -> pathlib.Path:
    """rheo-client's example worker: RHEO_CONSUME_EXAMPLE, else the one built beside the rheo
    binary (`cargo build --workspace --all-targets`), else the debug build's."""
    explicit = os.environ.get("RHEO_CONSUME_EXAMPLE")
    if explicit:
        return pathlib.Path(explicit)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", KCL_DIR.parents[2] / "target"))
    candidates = [rheo_binary().parent / "examples" / "consume", target / "debug" / "examples" / "consume"]
    for binary in candidates:
        if binary.exists():
            return binary
    raise RuntimeError(f"none of {candidates} exists: build it with `cargo build -p rheo-client --examples`")


class RheoClientWorker(JournaledWorker):
    """rheo-client's example worker. It appends one JSON line per user record to its output
    file; `events()` turns them into the journal's `record` events, so the same assertions read
    the KCL's journals and this one. It checkpoints every batch it wrote, and SIGTERM shuts it
    down gracefully (a final checkpoint, then exit 0)."""

    def __init__(self, workdir: pathlib.Path, name: str, *, stream: str, application: str,
                 endpoint: str, retrieval: str = "polling", stop_after: int | None = None,
                 output: pathlib.Path | None = None):
        super().__init__(workdir, name)
        self.arguments = [
            "--endpoint", endpoint, "--application", application, "--stream", stream,
            "--worker-id", name, "--initial-position", "trim-horizon", "--retrieval", retrieval,
            "--output", str(output or self.journal_path),
            # The same lease and polling timers as the KCL workers it hands over to.
            "--failover-time-ms", str(FAST_TIMERS["failoverTimeMillis"]),
            "--idle-time-ms", str(FAST_TIMERS["idleTimeBetweenReadsInMillis"]),
            "--shard-sync-interval-ms", str(FAST_TIMERS["shardSyncIntervalMillis"]),
            "--parent-shard-poll-interval-ms", str(FAST_TIMERS["parentShardPollIntervalMillis"]),
        ]
        if stop_after is not None:
            self.arguments += ["--stop-after", str(stop_after)]

    def environment(self) -> dict[str, str]:
        # A failure reads as its message, not a backtrace, whatever the caller's environment.
        return {**super().environment(), "RUST_LOG": "info", "RUST_BACKTRACE": "0", "RUST_LIB_BACKTRACE": "0"}

    def command(self) -> list[str]:
        return [str(consume_example()), *self.arguments]

    def exit_code(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """Waits for the worker to exit by itself (after --stop-after records) and returns its code."""
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit\n{self.log_tail()}")

    def events(self) -> list[dict]:
        return [
            {
                "event": "record", "worker": self.name, "runtime": "rheo-client",
                "shard": line["shard"], "sequence": line["sequence_number"],
                "sub_sequence": line["sub_sequence_number"], "partition_key": line["partition_key"],
                "data": base64.b64decode(line["data_base64"]).decode("utf-8", "replace"),
            }
            for line in super().events()
        ]


def records(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event"] == "record"]


def data_seen(events: list[dict]) -> set[str]:
    return {e["data"] for e in records(events)}


def position(event: dict) -> tuple[int, int]:
    """A user record's place in its shard: (sequence number, sub-sequence number)."""
    return int(event["sequence"]), int(event.get("sub_sequence") or 0)


def last_checkpoints(events: list[dict]) -> dict[str, tuple[int, int]]:
    """Per shard, the last checkpoint the daemon confirmed to the processor."""
    last = {}
    for event in events:
        if event["event"] == "checkpoint":
            last[event["shard"]] = position(event)
    return last


def wait_until(condition, what: str, workers=(), timeout_s: float = SETTLE_TIMEOUT_S, interval_s: float = 0.5):
    """Polls `condition` until it returns a truthy value and returns that value. On timeout the
    assertion message carries the tail of each worker's log."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(f"---- {w.name} log\n{w.log_tail()}" for w in workers)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        for worker in workers:
            if worker.crashed():
                raise AssertionError(f"KCL worker {worker.name} exited ({worker.process.returncode})\n{worker.log_tail()}")
        time.sleep(interval_s)


class Producer:
    """Writes uniquely numbered records to a stream and remembers what it wrote."""

    def __init__(self, kinesis, stream: str):
        self.kinesis = kinesis
        self.stream = stream
        self.written: list[str] = []
        self.aggregates = 0

    def open_shards(self) -> list[dict]:
        shards, token = [], None
        while True:
            page = self.kinesis.list_shards(**({"NextToken": token} if token else {"StreamName": self.stream}))
            shards += page["Shards"]
            token = page.get("NextToken")
            if not token:
                break
        return [s for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]]

    def put_plain(self, count: int, label: str) -> list[str]:
        batch = [f"{label}-{i}" for i in range(count)]
        for start in range(0, count, 100):
            chunk = batch[start:start + 100]
            response = self.kinesis.put_records(
                StreamName=self.stream,
                Records=[{"PartitionKey": uuid.uuid4().hex, "Data": d.encode()} for d in chunk],
            )
            assert response["FailedRecordCount"] == 0, response
        self.written += batch
        return batch

    def put_aggregated(self, records_per_shard: int, label: str) -> list[str]:
        """One KPL aggregate per open shard, made by the reference aggregator. As the KPL does,
        every user record's partition key hashes into the shard the aggregate goes to (KCL drops
        an aggregate with a user record outside its shard)."""
        batch = []
        for shard in self.open_shards():
            low = int(shard["HashKeyRange"]["StartingHashKey"])
            high = int(shard["HashKeyRange"]["EndingHashKey"])
            aggregator = RecordAggregator()
            for i in range(records_per_shard):
                data = f"{label}-{shard['ShardId']}-{i}"
                aggregator.add_user_record(partition_key=partition_key_in(low, high, data), data=data.encode())
                batch.append(data)
            partition_key, explicit_hash_key, blob = aggregator.clear_and_get().get_contents()
            assert explicit_hash_key is None
            self.kinesis.put_record(StreamName=self.stream, PartitionKey=partition_key, Data=blob)
            self.aggregates += 1
        self.written += batch
        return batch


def partition_key_in(low: int, high: int, seed: str) -> str:
    """A partition key whose MD5 hash key (Kinesis' routing rule) lies in [low, high]."""
    for attempt in range(1_000_000):
        key = f"{seed}/{attempt}"
        if low <= int.from_bytes(hashlib.md5(key.encode()).digest(), "big") <= high:
            return key
    raise AssertionError(f"no partition key found for [{low}, {high}]")
