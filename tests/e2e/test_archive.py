"""End-to-end tests of the archive tier (issue 18): sealed segments of the streams log are
uploaded to an archive (a local folder, or an S3-compatible server: moto_server, possibly
behind the fault-injecting proxy), evicted locally by the budget, and read back through the
archive with boto3; kill -9 and restart; faults of the store.

Small segments (--segment-bytes) make many of them out of a few MiB of records."""

import json
import os
import re
import signal
import time
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import Rheo, read_shard, wait_for_status
from faultproxy import CUT, DOWN, PASS, SLOW, UNAVAILABLE, FaultProxy
from test_firehose_sinks import moto_s3  # noqa: F401  (the module-scoped S3 server fixture)

SEGMENT_BYTES = 64 * 1024
LOCAL_RETENTION_BYTES = 256 * 1024
RECORD_BYTES = 4 * 1024
RECORDS_PER_BATCH = 32
# Well over the local budget: most of it can only be read back through the archive.
BATCHES = 48
SHARDS = 2
ROOMY_HARD_LIMIT_BYTES = 256 * 1024 * 1024
WAIT_S = 45.0
POLL_S = 0.2

ARCHIVE_FLAGS = [
    "--segment-bytes", str(SEGMENT_BYTES),
    "--local-retention-bytes", str(LOCAL_RETENTION_BYTES),
]
# One manifest per archived segment names its segment and index objects.
OBJECT_KEY = re.compile(r"^v1/[^/]+/streams/segments/(\d{20})\.(seg|idx|json)$")
MARKER_KEY = "rheo-archive.json"


# ---- helpers ------------------------------------------------------------------------------

def archive_metrics(server: Rheo) -> dict:
    """The rheo_archive_* series of the streams log, by field name."""
    text = urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=10).read().decode()
    values = {}
    for line in text.splitlines():
        match = re.match(r'^rheo_archive_([a-z_]+)\{([^}]*)\} (\S+)$', line)
        if match and 'log="streams"' in match.group(2) and "le=" not in match.group(2):
            values[match.group(1)] = float(match.group(3))
    return values


def wait_metrics(server: Rheo, predicate, what: str, timeout_s: float = WAIT_S) -> dict:
    deadline = time.monotonic() + timeout_s
    metrics = {}
    while time.monotonic() < deadline:
        metrics = archive_metrics(server)
        if metrics and predicate(metrics):
            return metrics
        time.sleep(POLL_S)
    raise AssertionError(f"{what}: not reached within {timeout_s}s; archive metrics {metrics}")


def drained(m) -> bool:
    return m["backlog_segments"] == 0 and m["writes_refused"] == 0


def wait_evicted(server: Rheo) -> dict:
    """Backlog empty, part of the log only in the archive, the local disk near its budget
    (the budget, plus the active segment and one being sealed)."""
    return wait_metrics(
        server,
        lambda m: drained(m) and m["remote_only_segments"] > 0
        and m["local_bytes"] <= LOCAL_RETENTION_BYTES + 2 * SEGMENT_BYTES,
        "archived and evicted down to the local budget",
    )


def put_batches(client, name, batches, expected, start=0, pause_s=0.0):
    """Puts `batches` PutRecords of distinct random payloads; records each acknowledged one
    in `expected[shard_id]` as (sequence number, data). Returns the arrival-time gaps
    between batches (for AT_TIMESTAMP)."""
    for batch in range(start, start + batches):
        records = [
            {"Data": f"{batch:06d}-{i:04d}-".encode() + os.urandom(RECORD_BYTES - 12),
             "PartitionKey": uuid.uuid4().hex}
            for i in range(RECORDS_PER_BATCH)
        ]
        response = client.put_records(StreamName=name, Records=records)
        assert response["FailedRecordCount"] == 0, response["Records"][:3]
        for record, result in zip(records, response["Records"]):
            expected.setdefault(result["ShardId"], []).append((result["SequenceNumber"], record["Data"]))
        if pause_s:
            time.sleep(pause_s)


def shard_ids(client, name):
    return [s["ShardId"] for s in client.list_shards(StreamName=name)["Shards"]]


def assert_reads_everything(client, name, expected):
    """Every shard read from TRIM_HORIZON: every acknowledged record, in order, payloads
    identical, nothing else."""
    assert sorted(expected) == sorted(shard_ids(client, name))
    for shard_id, records in expected.items():
        got, _ = read_shard(client, name, shard_id)
        got_pairs = [(r["SequenceNumber"], r["Data"]) for r in got]
        assert len(got_pairs) == len(records), (shard_id, len(got_pairs), len(records))
        # Compare without printing megabytes on failure.
        for index, (have, want) in enumerate(zip(got_pairs, records)):
            assert have[0] == want[0], (shard_id, index, have[0], want[0])
            assert have[1] == want[1], (shard_id, index, "payload differs")


def assert_at_timestamp_in_archived_range(client, name, expected):
    """AT_TIMESTAMP between two early batches (archived, evicted) returns the records from
    the later batch on."""
    shard_id = max(expected, key=lambda s: len(expected[s]))
    everything, _ = read_shard(client, name, shard_id)
    arrivals = [r["ApproximateArrivalTimestamp"] for r in everything]
    # The first gap between batches in the first quarter (batches are put 50 ms apart).
    quarter = len(arrivals) // 4
    gap = next(i for i in range(1, quarter) if (arrivals[i] - arrivals[i - 1]).total_seconds() >= 0.02)
    stamp = arrivals[gap - 1] + (arrivals[gap] - arrivals[gap - 1]) / 2
    got, _ = read_shard(client, name, shard_id, "AT_TIMESTAMP", Timestamp=stamp)
    assert [r["SequenceNumber"] for r in got] == [r["SequenceNumber"] for r in everything[gap:]]


def assert_subscribe_reads_archived(client, name, expected):
    """SubscribeToShard from TRIM_HORIZON starts with the oldest (archived) records."""
    arn = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    consumer = client.register_stream_consumer(StreamARN=arn, ConsumerName="archive-reader")["Consumer"]
    deadline = time.monotonic() + 10
    while client.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])[
            "ConsumerDescription"]["ConsumerStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "the consumer did not become ACTIVE"
        time.sleep(0.05)
    shard_id = sorted(expected)[0]
    want = expected[shard_id]
    response = client.subscribe_to_shard(
        ConsumerARN=consumer["ConsumerARN"], ShardId=shard_id, StartingPosition={"Type": "TRIM_HORIZON"}
    )
    got = []
    events = iter(response["EventStream"])
    while len(got) < len(want):
        event = next(events)["SubscribeToShardEvent"]
        got.extend((r["SequenceNumber"], r["Data"]) for r in event["Records"])
    response["EventStream"].close()
    assert [g[0] for g in got[: len(want)]] == [w[0] for w in want]
    assert all(g[1] == w[1] for g, w in zip(got, want))


def assert_no_leaked_objects(objects: dict):
    """`objects`: key → size of everything in the archive. Every segment or index object is
    named by its segment's manifest, with the manifest's length; nothing else is there."""
    manifests, files = {}, {}
    for key in objects:
        if key == MARKER_KEY:
            continue
        match = OBJECT_KEY.match(key)
        assert match, f"an object outside the layout: {key}"
        segment, kind = match.groups()
        if kind == "json":
            manifests[segment] = key
        else:
            files[(segment, kind)] = key
    assert manifests, "no segment was archived"
    for (segment, kind), key in files.items():
        assert segment in manifests, f"{key} is named by no manifest (leaked)"
    return manifests


def create_stream(client, name):
    client.create_stream(StreamName=name, ShardCount=SHARDS)
    wait_for_status(client, name)


def new_name():
    return f"ar-{uuid.uuid4().hex[:12]}"


def start(data_dir, *flags):
    # Only the hard-limit test runs into the hard limit: elsewhere a slow machine or a faulty
    # store may build a backlog of several MiB without refusing puts.
    if "--local-hard-limit-bytes" not in flags:
        flags = (*flags, "--local-hard-limit-bytes", str(ROOMY_HARD_LIMIT_BYTES))
    return Rheo(data_dir, *ARCHIVE_FLAGS, *flags).start()


def s3_objects(s3, bucket, prefix=""):
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            objects[item["Key"][len(prefix):]] = item["Size"]
    return objects


def folder_objects(root):
    objects = {}
    for dirpath, _, filenames in os.walk(root):
        for filename in filenames:
            path = os.path.join(dirpath, filename)
            objects[os.path.relpath(path, root)] = os.path.getsize(path)
    return objects


def check_manifests(manifests, read_manifest, objects):
    """Each manifest's lengths match the objects it names."""
    for segment, key in manifests.items():
        manifest = json.loads(read_manifest(key))
        assert manifest["segment_id"] == int(segment), key
        base = key[: -len(".json")]
        assert objects.get(base + ".seg") == manifest["segment_len"], key
        assert objects.get(base + ".idx") == manifest["index_len"], key


def assert_bucket_holds_only_manifested_objects(s3, bucket):
    """Every object in `bucket` is named by a manifest whose lengths match it."""
    objects = s3_objects(s3, bucket)
    check_manifests(
        assert_no_leaked_objects(objects),
        lambda key: s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
        objects,
    )


def started_with_a_first_upload(tmp_path, flags):
    """A server started with `flags`, one stream, 4 batches put and at least one segment
    uploaded: (server, client, stream name, expected records by shard)."""
    server = start(tmp_path / "data", *flags)
    try:
        client = server.client()
        name = new_name()
        create_stream(client, name)
        expected = {}
        put_batches(client, name, 4, expected)
        wait_metrics(server, lambda m: m["uploaded_segments_total"] > 0, "a first upload")
    except BaseException:
        server.kill()
        raise
    return server, client, name, expected


# ---- 1 and 2: put over the budget, read everything back, kill -9, read again --------------

def archive_round_trip(tmp_path, flags, list_objects, read_manifest):
    server = start(tmp_path / "data", *flags)
    try:
        client = server.client()
        name = new_name()
        create_stream(client, name)
        expected = {}
        put_batches(client, name, BATCHES, expected, pause_s=0.05)
        metrics = wait_evicted(server)
        assert metrics["enabled"] == 1
        assert metrics["uploaded_segments_total"] >= metrics["remote_only_segments"] > 0
        assert metrics["evicted_segments_total"] > 0
        assert_reads_everything(client, name, expected)
        assert archive_metrics(server)["fetches_total"] > 0, "nothing was fetched from the archive"
        assert_at_timestamp_in_archived_range(client, name, expected)
        assert_subscribe_reads_archived(client, name, expected)

        server.kill()
        server = start(tmp_path / "data", *flags)
        client = server.client()
        # The gauges are set by the archiver's first pass after start-up.
        wait_metrics(server, lambda m: m["remote_only_segments"] > 0, "segments only the archive holds after a restart")
        assert_reads_everything(client, name, expected)
        # More records after the restart are archived and read back as well.
        put_batches(client, name, BATCHES // 4, expected, start=BATCHES)
        wait_evicted(server)
        assert_reads_everything(client, name, expected)
        objects = list_objects()
        check_manifests(assert_no_leaked_objects(objects), read_manifest, objects)
    finally:
        server.kill()


def test_local_folder_archive_round_trip(tmp_path):
    root = tmp_path / "archive"
    root.mkdir()
    archive_round_trip(
        tmp_path, ["--archive", f"file://{root}"],
        lambda: folder_objects(root),
        lambda key: (root / key).read_bytes(),
    )


@pytest.fixture
def bucket(moto_s3):  # noqa: F811
    _, s3 = moto_s3
    name = f"ar-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def test_s3_archive_round_trip(tmp_path, moto_s3, bucket):  # noqa: F811
    endpoint, s3 = moto_s3
    prefix = "rheo/node-a/"
    archive_round_trip(
        tmp_path, ["--archive", f"s3://{bucket}/{prefix.rstrip('/')}", "--s3-endpoint", endpoint],
        lambda: s3_objects(s3, bucket, prefix),
        lambda key: s3.get_object(Bucket=bucket, Key=prefix + key)["Body"].read(),
    )


# ---- 3. faults of the store, through the proxy ------------------------------------------------

@pytest.fixture
def proxy(moto_s3):  # noqa: F811
    endpoint, _ = moto_s3
    fault_proxy = FaultProxy(int(endpoint.rsplit(":", 1)[1])).start()
    yield fault_proxy
    fault_proxy.stop()


def proxied_flags(proxy, bucket, *more):
    return ["--archive", f"s3://{bucket}", "--s3-endpoint", proxy.endpoint, *more]


def put_until_refused(client, name, expected, max_batches):
    """Puts until PutRecords is refused; returns the refusal's (code, message). Records
    acknowledged before it join `expected`."""
    for batch in range(max_batches):
        records = [
            {"Data": f"f{batch:05d}-{i:04d}-".encode() + os.urandom(RECORD_BYTES - 12),
             "PartitionKey": uuid.uuid4().hex}
            for i in range(RECORDS_PER_BATCH)
        ]
        try:
            response = client.put_records(StreamName=name, Records=records)
        except ClientError as error:
            return error.response["Error"]["Code"], error.response["Error"].get("Message", "")
        failed = None
        for record, result in zip(records, response["Records"]):
            if "ErrorCode" in result:
                failed = failed or (result["ErrorCode"], result.get("ErrorMessage", ""))
            else:
                expected.setdefault(result["ShardId"], []).append((result["SequenceNumber"], record["Data"]))
        if failed:
            # Records acknowledged in the same batch may come after the refusal on their shard;
            # keep each shard's list in sequence order.
            for records_of_shard in expected.values():
                records_of_shard.sort(key=lambda r: int(r[0]))
            return failed
    raise AssertionError(f"{max_batches} batches were all accepted with the archive down")


def test_archive_down_then_hard_limit_then_recovery(tmp_path, proxy, bucket):
    hard_limit = 4 * LOCAL_RETENTION_BYTES
    server = start(tmp_path / "data", *proxied_flags(proxy, bucket, "--local-hard-limit-bytes", str(hard_limit)))
    try:
        client = server.client()
        name = new_name()
        create_stream(client, name)
        expected = {}
        put_batches(client, name, 8, expected)
        wait_metrics(server, lambda m: drained(m) and m["uploaded_segments_total"] > 0, "the first uploads")

        proxy.set(DOWN)
        # Appends go on while the store is down ...
        put_batches(client, name, 3, expected, start=8)
        wait_metrics(server, lambda m: m["backlog_segments"] > 0, "a backlog while the archive is down")
        # ... until the local hard limit: then PutRecords is refused, naming the limit.
        code, message = put_until_refused(client, name, expected, max_batches=10 * hard_limit // (
            RECORD_BYTES * RECORDS_PER_BATCH))
        assert code.startswith("InternalFailure"), (code, message)
        assert "hard limit" in message.lower(), message
        metrics = archive_metrics(server)
        assert metrics["writes_refused"] == 1 and metrics["refused_appends_total"] > 0, metrics
        assert metrics["upload_failures_total"] > 0, metrics

        proxy.set(PASS)
        wait_metrics(server, drained, "the backlog drained once the archive is back")
        put_batches(client, name, 4, expected, start=100)
        assert_reads_everything(client, name, expected)
    finally:
        server.kill()


def test_unavailable_cut_and_slow_uploads_are_retried(tmp_path, proxy, bucket):
    server = start(tmp_path / "data", *proxied_flags(proxy, bucket))
    try:
        client = server.client()
        name = new_name()
        create_stream(client, name)
        expected = {}
        for batch, mode in enumerate([UNAVAILABLE, CUT]):
            proxy.set(mode)
            before = archive_metrics(server)["upload_failures_total"]
            put_batches(client, name, 6, expected, start=batch * 6)
            wait_metrics(server, lambda m: m["upload_failures_total"] > before, f"failed uploads while {mode}")
            assert proxy.count(mode) > 0
        proxy.set(SLOW, delay_s=0.3)
        uploaded = archive_metrics(server)["uploaded_segments_total"]
        wait_metrics(server, lambda m: drained(m) and m["uploaded_segments_total"] > uploaded,
                     "uploads completing through a slow store")
        assert proxy.count(SLOW) > 0
        proxy.set(PASS)
        put_batches(client, name, BATCHES // 2, expected, start=20)
        wait_evicted(server)
        assert_reads_everything(client, name, expected)
    finally:
        server.kill()


def test_reads_of_archived_data_fail_while_the_store_is_down_then_recover(tmp_path, proxy, bucket):
    server = start(tmp_path / "data", *proxied_flags(proxy, bucket))
    try:
        client = server.client()
        name = new_name()
        create_stream(client, name)
        expected = {}
        put_batches(client, name, BATCHES // 2, expected)
        wait_evicted(server)
        proxy.set(DOWN)
        shard_id = sorted(expected)[0]
        iterator = client.get_shard_iterator(
            StreamName=name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        with pytest.raises(ClientError) as failure:
            client.get_records(ShardIterator=iterator)
        error = failure.value.response["Error"]
        assert error["Code"].startswith("InternalFailure"), error
        assert "archive" in error.get("Message", "").lower(), error
        assert archive_metrics(server)["fetch_failures_total"] > 0

        proxy.set(PASS)
        got = client.get_records(ShardIterator=iterator)["Records"]
        assert got and got[0]["SequenceNumber"] == expected[shard_id][0][0]
        assert_reads_everything(client, name, expected)
    finally:
        server.kill()


# ---- 4. kill -9 while uploads are in flight -----------------------------------------------------

def test_kill_during_uploads_loses_nothing_and_leaks_no_object(tmp_path, moto_s3, proxy, bucket):  # noqa: F811
    _, s3 = moto_s3
    flags = proxied_flags(proxy, bucket)
    server, client, name, expected = started_with_a_first_upload(tmp_path, flags)
    try:
        # Slow answers keep uploads in flight when the server dies.
        proxy.set(SLOW, delay_s=0.5)
        put_batches(client, name, BATCHES // 2, expected, start=4)
        # A request the proxy is holding back is an upload in flight: kill the server then.
        held = proxy.count(SLOW)
        wait_metrics(server, lambda m: m["backlog_segments"] > 1 and proxy.count(SLOW) > held, "uploads in flight")
        server.kill()

        proxy.set(PASS)
        server = start(tmp_path / "data", *flags)
        client = server.client()
        wait_evicted(server)
        assert_reads_everything(client, name, expected)
        assert_bucket_holds_only_manifested_objects(s3, bucket)
    finally:
        server.kill()


# ---- 5. a stop does not wait for the store -------------------------------------------------------

# The store holds each request this long: past the bound below, well within the test's time.
HELD_S = 40.0
# How long SIGTERM may take with an upload held (the close answers in-flight calls at once).
STOP_BOUND_S = 15.0


def test_sigterm_does_not_wait_for_an_upload_the_store_holds(tmp_path, moto_s3, proxy, bucket):  # noqa: F811
    _, s3 = moto_s3
    flags = proxied_flags(proxy, bucket)
    server, client, name, expected = started_with_a_first_upload(tmp_path, flags)
    try:
        proxy.set(SLOW, delay_s=HELD_S)
        held = proxy.count(SLOW)
        put_batches(client, name, 8, expected, start=4)
        # A request the proxy holds is a store call in flight (the gauges are set between
        # the archiver's passes, so they cannot show it).
        deadline = time.monotonic() + WAIT_S
        while proxy.count(SLOW) == held and time.monotonic() < deadline:
            time.sleep(POLL_S)
        assert proxy.count(SLOW) > held, "no request reached the store"
        server.process.send_signal(signal.SIGTERM)
        # Raises TimeoutExpired if the stop waits for the held request.
        server.process.wait(timeout=STOP_BOUND_S)
        assert server.process.returncode == 0

        # The cut upload had no record: the next start uploads it again and nothing is lost.
        # (The held request may still reach the store later, with the same key and bytes.)
        proxy.set(PASS)
        server = start(tmp_path / "data", *flags)
        client = server.client()
        wait_evicted(server)
        assert_reads_everything(client, name, expected)
        assert_bucket_holds_only_manifested_objects(s3, bucket)
    finally:
        server.kill()


# ---- 6. listings in pages ------------------------------------------------------------------------

# More leaked objects than one page of a listing (ARCHIVE_LIST_PAGE, 1,000).
LEAKED_OBJECTS = 1_001


def test_s3_reconciliation_deletes_leaks_over_several_list_pages(tmp_path, moto_s3, bucket):  # noqa: F811
    endpoint, s3 = moto_s3
    flags = ["--archive", f"s3://{bucket}", "--s3-endpoint", endpoint]
    server, client, name, expected = started_with_a_first_upload(tmp_path, flags)
    try:
        server.stop()
        assert server.process.returncode == 0

        # Objects of this log's layout that no record names: what uploads cut short by
        # retention leave behind.
        folder = next(key for key in s3_objects(s3, bucket) if OBJECT_KEY.match(key)).rsplit("/", 1)[0]
        leaked = [f"{folder}/{90_000_000_000_000_000 + i:020d}.seg" for i in range(LEAKED_OBJECTS)]
        for key in leaked:
            s3.put_object(Bucket=bucket, Key=key, Body=b"leaked")

        server = start(tmp_path / "data", *flags)
        client = server.client()
        wait_metrics(server, lambda m: m["reconciled_objects_total"] == LEAKED_OBJECTS, "leaks reconciled away")
        assert not set(leaked) & set(s3_objects(s3, bucket))
        # The segment the stop sealed is uploaded after the reconciliation: until its
        # manifest is written, its other objects are rightly named by none.
        wait_metrics(server, drained, "the segment sealed at the stop archived")
        assert_bucket_holds_only_manifested_objects(s3, bucket)
        assert_reads_everything(client, name, expected)
    finally:
        server.kill()
