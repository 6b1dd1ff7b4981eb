"""End to end: Rheo's own readers of a Kinesis stream read data only the archive holds.

Kinesis Analytics applications (like Firehose's Kinesis source and the queue deliveries)
read streams through the engine's stream reader, not through GetRecords; the archive tier
must be as transparent to them as to GetRecords (`test_archive.py`). Here an Analytics
application started at TRIM_HORIZON copies a stream whose oldest segments were uploaded
and removed from the local disk: every row must come out, none twice."""

import json
import time

from conftest import create_active
from firehose_support import client
from test_analytics import ANALYTICS_FLAGS, StreamTail, kinesis_input, kinesis_output, unique
from test_analytics import start as start_application
from test_archive import LOCAL_RETENTION_BYTES, archive_metrics, start, wait_evicted

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


def put_numbers(kinesis, stream, count):
    for first in range(0, count, RECORDS_PER_REQUEST):
        numbers = range(first, min(first + RECORDS_PER_REQUEST, count))
        response = kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": json.dumps({"n": n, "pad": PADDING}).encode(), "PartitionKey": str(n)} for n in numbers],
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
