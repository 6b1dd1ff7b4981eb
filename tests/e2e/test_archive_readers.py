"""End to end: Rheo's own readers of a Kinesis stream read data only the archive holds.

Kinesis Analytics applications and Firehose's Kinesis sources (like the queue deliveries)
read streams through the engine's stream reader, not through GetRecords; the archive tier
must be as transparent to them as to GetRecords (`test_archive.py`). Here an Analytics
application started at TRIM_HORIZON, and a delivery stream whose saved position fell
behind while its role was denied, read a stream whose oldest segments were uploaded and
removed from the local disk: every record must come out, none twice."""

import json
import time

from conftest import create_active
from firehose_support import client
from test_analytics import ANALYTICS_FLAGS, StreamTail, kinesis_input, kinesis_output, unique
from test_analytics import start as start_application
from test_archive import LOCAL_RETENTION_BYTES, archive_metrics, start, wait_evicted
from test_authz import ROLE_ARN, USERS, create_denied_copier, delivered, policy
from test_authz import client as signed_client
from test_authz import create_active as create_active_arn

PADDING = "x" * 1000
# Small requests: a request is one frame, and segments (64 KiB here) hold whole frames.
RECORDS_PER_REQUEST = 50
# About 2.5 MB of records against a 256 KiB local budget: most are archived and evicted.
RECORDS = 2400
ROWS_TIMEOUT_S = 90

COPY_SQL = """\
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (n INTEGER);
CREATE OR REPLACE PUMP "COPY_PUMP" AS
  INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM "n" FROM "SOURCE_SQL_STREAM_001";
"""

NUMBER_SCHEMA = {
    "RecordFormat": {
        "RecordFormatType": "JSON",
        "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}},
    },
    "RecordEncoding": "UTF-8",
    "RecordColumns": [{"Name": "n", "Mapping": "$.n", "SqlType": "INTEGER"}],
}


def number(n):
    return json.dumps({"n": n, "pad": PADDING}).encode()


def put_numbers(kinesis, stream, count):
    for first in range(0, count, RECORDS_PER_REQUEST):
        numbers = range(first, min(first + RECORDS_PER_REQUEST, count))
        response = kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": number(n), "PartitionKey": str(n)} for n in numbers],
        )
        assert response["FailedRecordCount"] == 0


def test_an_analytics_application_reads_archived_records_from_trim_horizon(tmp_path):
    root = tmp_path / "archive"
    root.mkdir()
    server = start(tmp_path / "data", "--archive", f"file://{root}", *ANALYTICS_FLAGS)
    try:
        kinesis = server.client()
        ka = client(server.endpoint, "kinesisanalytics")
        source, destination, name = unique("src"), unique("out"), unique("copy")
        create_active(kinesis, source, shards=2)
        create_active(kinesis, destination)
        put_numbers(kinesis, source, RECORDS)
        metrics = wait_evicted(server)
        assert metrics["local_bytes"] < RECORDS * len(PADDING), "the source was not evicted below its size"
        assert metrics["remote_only_bytes"] > LOCAL_RETENTION_BYTES
        fetched_before = metrics["fetches_total"]

        ka.create_application(
            ApplicationName=name,
            Inputs=[kinesis_input(source, NUMBER_SCHEMA)],
            Outputs=[kinesis_output(destination)],
            ApplicationCode=COPY_SQL,
        )
        start_application(ka, name, "TRIM_HORIZON")

        tail, rows = StreamTail(kinesis, destination), []
        deadline = time.monotonic() + ROWS_TIMEOUT_S
        while len(rows) < RECORDS and time.monotonic() < deadline:
            rows.extend(row["N"] for row in tail.read())
            time.sleep(0.25)
        time.sleep(1)  # a duplicate would show up after the last expected row
        rows.extend(row["N"] for row in tail.read())
        assert sorted(rows) == list(range(RECORDS)), (len(rows), len(set(rows)))
        # The application's reads went to the archive (GetRecords was not used on the source).
        assert archive_metrics(server)["fetches_total"] > fetched_before
    finally:
        server.kill()


def test_a_delivery_stream_behind_its_source_copies_archived_records(tmp_path):
    """The delivery stream starts at LATEST when created; its role is denied reading the
    source while the records are put, archived and evicted; once allowed, it copies them
    from its saved position, through the archive."""
    root, buckets, policies = tmp_path / "archive", tmp_path / "buckets", tmp_path / "policies"
    for folder in (root, buckets / "sink", policies):
        folder.mkdir(parents=True)
    credentials = tmp_path / "credentials"
    key, secret = USERS["admin"]
    credentials.write_text(f"[admin]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
    server = start(
        tmp_path / "data", "--archive", f"file://{root}", "--s3-dir", str(buckets),
        "--auth", "sigv4", "--credentials", str(credentials), "--policies", str(policies),
    )
    try:
        admin, firehose = signed_client(server, "admin"), signed_client(server, "admin", "firehose")
        stream_arn = create_active_arn(admin, "feed", ShardCount=2)
        admin.put_resource_policy(ResourceARN=stream_arn, Policy=policy(
            {"Effect": "Deny", "Principal": {"AWS": ROLE_ARN}, "Action": "kinesis:GetRecords", "Resource": stream_arn}))
        create_denied_copier(firehose, stream_arn)

        put_numbers(admin, "feed", RECORDS)
        fetched_before = wait_evicted(server)["fetches_total"]
        assert delivered(buckets / "sink") == []
        admin.delete_resource_policy(ResourceARN=stream_arn)

        expected = sorted(number(n) for n in range(RECORDS))
        deadline = time.monotonic() + ROWS_TIMEOUT_S
        while len(delivered(buckets / "sink")) < RECORDS and time.monotonic() < deadline:
            time.sleep(0.25)
        time.sleep(1)  # a duplicate would show up after the last expected record
        assert delivered(buckets / "sink") == expected
        assert archive_metrics(server)["fetches_total"] > fetched_before
    finally:
        server.kill()

