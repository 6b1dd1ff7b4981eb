"""End-to-end tests of Kinesis Analytics for SQL (KinesisAnalytics_20150814) with boto3's
`kinesisanalytics` client and the aws CLI against a real `rheo serve`: SQL applications
reading a Kinesis stream, counting in tumbling windows and writing a Kinesis stream or a
Firehose delivery stream; stop, server restart and LAST_STOPPED_POINT; and the control
plane's errors."""

import datetime
import json
import os
import subprocess
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import REPO, Rheo, create_active
from firehose_support import (
    ACCOUNT, FIREHOSE_FLAGS, REGION, ROLE_ARN, client, create_s3_stream, read_objects,
)

# Status changes (STARTING -> RUNNING, ...) are immediate, so tests wait for rows, not states.
ANALYTICS_FLAGS = ("--analytics-transition-ms", "0")
ANALYTICS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/analytics-e2e"
# A window is 10 s; rows of a window appear once it closed, so reading waits longer.
ROWS_TIMEOUT_S = 40

# The seed's referrer counter: page views per referrer per 10-second tumbling window.
REFERRER_COUNTER_SQL = """\
-- Page views per referrer, per 10-second window.
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (referrer VARCHAR(64), views BIGINT);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS
  INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM "referrer", COUNT(*) AS views
    FROM "SOURCE_SQL_STREAM_001"
    GROUP BY "referrer", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '10' SECOND);
"""

JSON_SCHEMA = {
    "RecordFormat": {
        "RecordFormatType": "JSON",
        "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}},
    },
    "RecordEncoding": "UTF-8",
    "RecordColumns": [{"Name": "referrer", "Mapping": "$.referrer", "SqlType": "VARCHAR(64)"}],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("analytics-data")
    buckets = tmp_path_factory.mktemp("analytics-buckets")
    rheo = Rheo(data, *ANALYTICS_FLAGS, *FIREHOSE_FLAGS, "--s3-dir", str(buckets)).start()
    rheo.buckets = buckets
    yield rheo
    rheo.stop()


@pytest.fixture(scope="module")
def ka(server):
    return client(server.endpoint, "kinesisanalytics")


@pytest.fixture(scope="module")
def raw_ka(server):
    """Without botocore's parameter validation, to reach the server's own checks."""
    return client(server.endpoint, "kinesisanalytics", parameter_validation=False)


@pytest.fixture(scope="module")
def kinesis(server):
    return server.client()


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def stream_arn(name):
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"


def delivery_stream_arn(name):
    return f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{name}"


def application_arn(name):
    return f"arn:aws:kinesisanalytics:{REGION}:{ACCOUNT}:application/{name}"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def error_message(excinfo):
    return excinfo.value.response["Error"].get("Message", "")


def kinesis_input(source, schema=None):
    return {
        "NamePrefix": "SOURCE_SQL_STREAM",
        "KinesisStreamsInput": {"ResourceARN": stream_arn(source), "RoleARN": ANALYTICS_ROLE},
        "InputSchema": schema or JSON_SCHEMA,
    }


def kinesis_output(destination, name="DESTINATION_SQL_STREAM", record_format="JSON"):
    return {
        "Name": name,
        "KinesisStreamsOutput": {"ResourceARN": stream_arn(destination), "RoleARN": ANALYTICS_ROLE},
        "DestinationSchema": {"RecordFormatType": record_format},
    }


def describe(ka, name):
    return ka.describe_application(ApplicationName=name)["ApplicationDetail"]


def wait_app_status(ka, name, status, timeout_s=15.0):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = describe(ka, name)
        if last["ApplicationStatus"] == status:
            return last
        time.sleep(0.05)
    raise AssertionError(f"application {name} did not become {status} (last {last and last['ApplicationStatus']})")


def start(ka, name, position):
    detail = describe(ka, name)
    input_id = detail["InputDescriptions"][0]["InputId"]
    ka.start_application(
        ApplicationName=name,
        InputConfigurations=[{"Id": input_id, "InputStartingPositionConfiguration": {"InputStartingPosition": position}}],
    )
    return wait_app_status(ka, name, "RUNNING")


def create_counter(ka, kinesis, name=None):
    """A source stream, an output stream and the referrer counter between them, READY."""
    name = name or unique("counter")
    source, destination = unique("src"), unique("out")
    create_active(kinesis, source)
    create_active(kinesis, destination)
    summary = ka.create_application(
        ApplicationName=name,
        ApplicationDescription="referrer counter",
        Inputs=[kinesis_input(source)],
        Outputs=[kinesis_output(destination)],
        ApplicationCode=REFERRER_COUNTER_SQL,
    )["ApplicationSummary"]
    assert summary == {"ApplicationName": name, "ApplicationARN": application_arn(name), "ApplicationStatus": "READY"}
    return name, source, destination


def put_views(kinesis, stream, referrers):
    for start_index in range(0, len(referrers), 500):
        batch = referrers[start_index:start_index + 500]
        response = kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": json.dumps({"referrer": r, "path": "/"}).encode(), "PartitionKey": r} for r in batch],
        )
        assert response["FailedRecordCount"] == 0


class StreamTail:
    """Reads every shard of a Kinesis stream from its start, remembering where it is, so
    the rows of an output stream can be read as they come."""

    def __init__(self, kinesis, stream):
        self.kinesis = kinesis
        self.stream = stream
        self.iterators = {}

    def read(self):
        records = []
        for shard in self.kinesis.list_shards(StreamName=self.stream)["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self.iterators:
                self.iterators[shard_id] = self.kinesis.get_shard_iterator(
                    StreamName=self.stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            while self.iterators[shard_id]:
                response = self.kinesis.get_records(ShardIterator=self.iterators[shard_id])
                self.iterators[shard_id] = response.get("NextShardIterator")
                records.extend(json.loads(record["Data"]) for record in response["Records"])
                if not response["Records"]:
                    break
        return records


def counts_until(tail, expected, timeout_s=ROWS_TIMEOUT_S):
    """Reads output rows until every referrer of `expected` ({referrer: views}) has at
    least its views, summed over windows; returns the sums and the rows read."""
    deadline = time.monotonic() + timeout_s
    totals, rows = {}, []
    while time.monotonic() < deadline:
        for row in tail.read():
            rows.append(row)
            totals[row["REFERRER"]] = totals.get(row["REFERRER"], 0) + row["VIEWS"]
        if all(totals.get(referrer, 0) >= views for referrer, views in expected.items()):
            return totals, rows
        time.sleep(0.25)
    raise AssertionError(f"expected at least {expected}, counted {totals} in {rows}")


# ---- (a) the referrer counter: JSON over Kinesis, tumbling COUNT, Kinesis output ----------

def test_referrer_counter_counts_views_per_window(ka, kinesis):
    name, source, destination = create_counter(ka, kinesis)
    detail = describe(ka, name)
    assert detail["ApplicationVersionId"] == 1
    (input_description,) = detail["InputDescriptions"]
    assert input_description["InputId"] == "1.1"
    assert input_description["InAppStreamNames"] == ["SOURCE_SQL_STREAM_001"]
    assert detail["OutputDescriptions"][0]["OutputId"] == "1.1"

    start(ka, name, "TRIM_HORIZON")
    views = ["a.example"] * 5 + ["b.example"] * 3 + ["c.example"]
    put_views(kinesis, source, views)
    totals, rows = counts_until(StreamTail(kinesis, destination), {"a.example": 5, "b.example": 3, "c.example": 1})
    # Exactly once in a clean run: each view is counted in one window.
    assert totals == {"a.example": 5, "b.example": 3, "c.example": 1}
    assert all(set(row) == {"REFERRER", "VIEWS"} for row in rows), rows
    ka.stop_application(ApplicationName=name)
    wait_app_status(ka, name, "READY")


# ---- (b) CSV input, Firehose delivery stream output to a local bucket -----------------------

def decode_concatenated_json(body):
    """Firehose concatenates records without delimiters: split `{..}{..}` (or lines)."""
    decoder, text, position, values = json.JSONDecoder(), body.decode(), 0, []
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return values
        value, position = decoder.raw_decode(text, position)
        values.append(value)


def test_csv_input_to_firehose_output(server, ka, kinesis):
    fh = client(server.endpoint)
    source, delivery = unique("csv"), unique("fh")
    create_active(kinesis, source)
    bucket_folder, _ = create_s3_stream(fh, delivery, server.buckets)
    name = unique("csv-app")
    schema = {
        "RecordFormat": {
            "RecordFormatType": "CSV",
            "MappingParameters": {"CSVMappingParameters": {"RecordRowDelimiter": "\n", "RecordColumnDelimiter": ","}},
        },
        "RecordColumns": [
            {"Name": "ticker", "SqlType": "VARCHAR(8)"},
            {"Name": "price", "SqlType": "DOUBLE"},
        ],
    }
    code = """
        CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker VARCHAR(8), doubled DOUBLE);
        CREATE OR REPLACE PUMP "P" AS INSERT INTO "DESTINATION_SQL_STREAM"
            SELECT STREAM "ticker", "price" * 2 FROM "SOURCE_SQL_STREAM_001" WHERE "price" > 10;
    """
    ka.create_application(
        ApplicationName=name,
        Inputs=[kinesis_input(source, schema)],
        Outputs=[{
            "Name": "DESTINATION_SQL_STREAM",
            "KinesisFirehoseOutput": {"ResourceARN": delivery_stream_arn(delivery), "RoleARN": ANALYTICS_ROLE},
            "DestinationSchema": {"RecordFormatType": "JSON"},
        }],
        ApplicationCode=code,
    )
    start(ka, name, "TRIM_HORIZON")
    lines = ["AAA,5.5", "BBB,20.25", "CCC,11", "DDD,10"]
    kinesis.put_records(StreamName=source, Records=[{"Data": line.encode(), "PartitionKey": line} for line in lines])
    deadline = time.monotonic() + ROWS_TIMEOUT_S
    rows = []
    while time.monotonic() < deadline and len(rows) < 2:
        rows = [row for body in read_objects(bucket_folder).values() for row in decode_concatenated_json(body)]
        time.sleep(0.25)
    assert sorted((row["TICKER"], row["DOUBLED"]) for row in rows) == [("BBB", 40.5), ("CCC", 22.0)]


# ---- (c) stop, restart the server, LAST_STOPPED_POINT: nothing lost --------------------------

def clients(rheo):
    return client(rheo.endpoint, "kinesisanalytics"), rheo.client()


def referrers(prefix, count=50):
    """Distinct referrers, one view each, so every view's row can be looked for."""
    return [f"{prefix}{i:03d}.example" for i in range(count)]


def running_counter(rheo):
    """A referrer counter started at TRIM_HORIZON on `rheo`: (name, source, destination)."""
    ka, kinesis = clients(rheo)
    name, source, destination = create_counter(ka, kinesis)
    start(ka, name, "TRIM_HORIZON")
    return name, source, destination


def test_restart_resumes_from_last_stopped_point(tmp_path):
    data = tmp_path / "data"
    rheo = Rheo(data, *ANALYTICS_FLAGS).start()
    try:
        ka, kinesis = clients(rheo)
        name, source, destination = running_counter(rheo)
        first = referrers("r")
        put_views(kinesis, source, first)
        counts_until(StreamTail(kinesis, destination), {r: 1 for r in first})
        ka.stop_application(ApplicationName=name)
        wait_app_status(ka, name, "READY")
        # Records put while the application is stopped are read after its restart.
        second = referrers("s")
        put_views(kinesis, source, second)
    finally:
        rheo.stop()
    assert rheo.process.returncode == 0

    rheo = Rheo(data, *ANALYTICS_FLAGS).start()
    try:
        ka, kinesis = clients(rheo)
        assert describe(ka, name)["ApplicationStatus"] == "READY"
        start(ka, name, "LAST_STOPPED_POINT")
        third = referrers("t")
        put_views(kinesis, source, third)
        totals, _ = counts_until(StreamTail(kinesis, destination), {r: 1 for r in first + second + third})
        # At least once: every view counted; a graceful stop and restart count none twice.
        assert totals == {r: 1 for r in first + second + third}
    finally:
        rheo.stop()


def test_running_application_runs_again_after_sigkill(tmp_path):
    data = tmp_path / "data"
    rheo = Rheo(data, *ANALYTICS_FLAGS).start()
    try:
        kinesis = rheo.client()
        name, source, destination = running_counter(rheo)
        before = referrers("k")
        put_views(kinesis, source, before)
    finally:
        rheo.kill()

    rheo = Rheo(data, *ANALYTICS_FLAGS).start()
    try:
        ka, kinesis = clients(rheo)
        wait_app_status(ka, name, "RUNNING")
        after = referrers("m")
        put_views(kinesis, source, after)
        totals, _ = counts_until(StreamTail(kinesis, destination), {r: 1 for r in before + after})
        # At least once across a crash: nothing missing, duplicates allowed.
        assert set(totals) == set(before + after)
    finally:
        rheo.stop()


# ---- (d) control-plane errors, tags, paging, the aws CLI ---------------------------------

def test_stale_version_is_concurrent_modification(ka, kinesis):
    name, _, _ = create_counter(ka, kinesis)
    with pytest.raises(ClientError) as excinfo:
        ka.update_application(
            ApplicationName=name, CurrentApplicationVersionId=2,
            ApplicationUpdate={"ApplicationCodeUpdate": REFERRER_COUNTER_SQL},
        )
    assert error_code(excinfo) == "ConcurrentModificationException"
    ka.update_application(
        ApplicationName=name, CurrentApplicationVersionId=1,
        ApplicationUpdate={"ApplicationCodeUpdate": REFERRER_COUNTER_SQL},
    )
    assert describe(ka, name)["ApplicationVersionId"] == 2


def test_bad_code_is_refused_with_its_line(ka, kinesis):
    source = unique("src")
    create_active(kinesis, source)
    code = 'CREATE STREAM "S" (a INTEGER);\nCREATE PUMP "P" AS INSERT INTO "S" SELECT STREAM FROM WHERE;\n'
    with pytest.raises(ClientError) as excinfo:
        ka.create_application(ApplicationName=unique("bad"), Inputs=[kinesis_input(source)], ApplicationCode=code)
    assert error_code(excinfo) == "CodeValidationException"
    assert "line 2" in error_message(excinfo), error_message(excinfo)


def test_output_must_be_created_by_the_code(ka, kinesis):
    source, destination = unique("src"), unique("out")
    create_active(kinesis, source)
    with pytest.raises(ClientError) as excinfo:
        ka.create_application(
            ApplicationName=unique("noout"), Inputs=[kinesis_input(source)],
            Outputs=[kinesis_output(destination, name="NOT_IN_CODE")], ApplicationCode=REFERRER_COUNTER_SQL,
        )
    assert error_code(excinfo) == "CodeValidationException"
    assert "NOT_IN_CODE" in error_message(excinfo)


def test_lambda_output_is_refused(ka, kinesis):
    name, _, _ = create_counter(ka, kinesis)
    with pytest.raises(ClientError) as excinfo:
        ka.add_application_output(
            ApplicationName=name, CurrentApplicationVersionId=1,
            Output={
                "Name": "DESTINATION_SQL_STREAM",
                "LambdaOutput": {"ResourceARN": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", "RoleARN": ANALYTICS_ROLE},
                "DestinationSchema": {"RecordFormatType": "JSON"},
            },
        )
    assert error_code(excinfo) == "InvalidArgumentException"
    assert "Lambda" in error_message(excinfo)
    assert describe(ka, name)["ApplicationVersionId"] == 1


def test_delete_needs_the_create_timestamp(ka, kinesis):
    name, _, _ = create_counter(ka, kinesis)
    created = describe(ka, name)["CreateTimestamp"]
    with pytest.raises(ClientError) as excinfo:
        ka.delete_application(ApplicationName=name, CreateTimestamp=created - datetime.timedelta(seconds=1))
    assert error_code(excinfo) == "ConcurrentModificationException"
    ka.delete_application(ApplicationName=name, CreateTimestamp=created)
    deadline = time.monotonic() + 10
    while True:
        try:
            assert describe(ka, name)["ApplicationStatus"] == "DELETING"
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_tags(ka, kinesis):
    name, _, _ = create_counter(ka, kinesis)
    arn = application_arn(name)
    ka.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "web"}, {"Key": "env", "Value": "dev"}])
    tags = ka.list_tags_for_resource(ResourceARN=arn)["Tags"]
    assert sorted((t["Key"], t.get("Value")) for t in tags) == [("env", "dev"), ("team", "web")]
    ka.untag_resource(ResourceARN=arn, TagKeys=["env"])
    assert ka.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "web"}]
    with pytest.raises(ClientError) as excinfo:
        ka.tag_resource(ResourceARN=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_code(excinfo) == "TooManyTagsException"
    # Tags are not configuration: the version stays.
    assert describe(ka, name)["ApplicationVersionId"] == 1
    with pytest.raises(ClientError) as excinfo:
        ka.list_tags_for_resource(ResourceARN=application_arn(unique("missing")))
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_list_applications_pages(tmp_path):
    rheo = Rheo(tmp_path / "data", *ANALYTICS_FLAGS).start()
    try:
        ka = client(rheo.endpoint, "kinesisanalytics")
        names = [f"app-{i}" for i in range(5)]
        for name in reversed(names):
            ka.create_application(ApplicationName=name)
        page = ka.list_applications(Limit=2)
        assert [s["ApplicationName"] for s in page["ApplicationSummaries"]] == names[:2]
        assert page["HasMoreApplications"] is True
        page = ka.list_applications(Limit=2, ExclusiveStartApplicationName=names[1])
        assert [s["ApplicationName"] for s in page["ApplicationSummaries"]] == names[2:4]
        page = ka.list_applications(Limit=2, ExclusiveStartApplicationName=names[3])
        assert [s["ApplicationName"] for s in page["ApplicationSummaries"]] == names[4:]
        assert page["HasMoreApplications"] is False
        assert all(s["ApplicationStatus"] == "READY" for s in page["ApplicationSummaries"])
    finally:
        rheo.stop()


def test_validation_errors_come_from_the_model(raw_ka):
    with pytest.raises(ClientError) as excinfo:
        raw_ka.describe_application(ApplicationName="has space")
    assert error_code(excinfo) == "ValidationException"
    assert error_message(excinfo) == (
        "1 validation error detected: Value 'has space' at 'applicationName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    )
    with pytest.raises(ClientError) as excinfo:
        raw_ka.describe_application(ApplicationName=unique("missing"))
    assert error_code(excinfo) == "ResourceNotFoundException"


def aws_cli(server, *args):
    env = dict(os.environ)
    env.pop("AWS_PROFILE", None)
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "aws"), "--endpoint-url", server.endpoint, "--region", REGION,
         "--output", "json", "kinesisanalytics", *args],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


def test_aws_cli_describe_application(server, kinesis):
    source, destination, name = unique("src"), unique("out"), unique("cli")
    create_active(kinesis, source)
    create_active(kinesis, destination)
    created = aws_cli(
        server, "create-application", "--application-name", name,
        "--inputs", json.dumps([kinesis_input(source)]),
        "--outputs", json.dumps([kinesis_output(destination)]),
        "--application-code", REFERRER_COUNTER_SQL,
    )
    assert created["ApplicationSummary"]["ApplicationStatus"] == "READY"
    detail = aws_cli(server, "describe-application", "--application-name", name)["ApplicationDetail"]
    assert detail["ApplicationName"] == name
    assert detail["ApplicationARN"] == application_arn(name)
    assert detail["ApplicationVersionId"] == 1
    assert detail["ApplicationCode"] == REFERRER_COUNTER_SQL
    (described_input,) = detail["InputDescriptions"]
    assert described_input["InputId"] == "1.1"
    assert described_input["NamePrefix"] == "SOURCE_SQL_STREAM"
    assert described_input["KinesisStreamsInputDescription"] == {"ResourceARN": stream_arn(source), "RoleARN": ANALYTICS_ROLE}
    assert described_input["InputSchema"]["RecordColumns"] == JSON_SCHEMA["RecordColumns"]
    (described_output,) = detail["OutputDescriptions"]
    assert described_output["Name"] == "DESTINATION_SQL_STREAM"
    assert described_output["DestinationSchema"] == {"RecordFormatType": "JSON"}
    listed = aws_cli(server, "list-applications")
    assert name in [s["ApplicationName"] for s in listed["ApplicationSummaries"]]
