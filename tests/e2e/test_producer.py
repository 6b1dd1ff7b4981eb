"""`rheo put --aggregate` writes KPL aggregates that the reference de-aggregators read back
whole: aws-kinesis-agg from PyPI (iter_deaggregate_records) and from npm (deaggregateSync),
every user record, its partition key, and the put order per key."""

import base64
import json
import pathlib
import subprocess

from aws_kinesis_agg.deaggregator import iter_deaggregate_records

from conftest import create_active, read_shard, rheo_binary

JS_DIR = pathlib.Path(__file__).resolve().parent / "js"
KPL_MAGIC = b"\xf3\x89\x9a\xc2"
RECORDS = 3000
USERS = 23


def lines():
    return [json.dumps({"user": f"user-{i % USERS}", "n": i}) for i in range(RECORDS)]


def rheo_put(rheo, stream, *flags, stdin):
    return subprocess.run(
        [str(rheo_binary()), "put", stream, "--endpoint", rheo.endpoint, *flags],
        input=stdin, capture_output=True, text=True, timeout=300,
    )


def read_stream(kinesis, stream):
    """Every Kinesis record of every shard, in shard then sequence order."""
    records = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        shard_records, _ = read_shard(kinesis, stream, shard["ShardId"])
        records.extend(shard_records)
    return records


def check_user_records(users):
    """users: (partition key, data bytes) in stream order (shard, sequence, sub-sequence)."""
    assert len(users) == RECORDS
    order = {}
    for key, data in users:
        line = json.loads(data)
        assert key == line["user"]
        order.setdefault(key, []).append(line["n"])
    assert sorted(n for ns in order.values() for n in ns) == list(range(RECORDS))
    for key, ns in order.items():
        assert ns == sorted(ns), f"{key} read in put order"


def npm_deaggregate(records):
    # tests/e2e/run.sh installs the JS suite's locked dependencies before the tests run.
    assert (JS_DIR / "node_modules" / "aws-kinesis-agg").is_dir(), "run tests/e2e/run.sh (it runs npm ci)"
    payload = [
        {
            "partitionKey": r["PartitionKey"],
            "sequenceNumber": r["SequenceNumber"],
            "data": base64.b64encode(r["Data"]).decode(),
        }
        for r in records
    ]
    out = subprocess.run(
        ["node", str(JS_DIR / "deaggregate.cjs")],
        input=json.dumps(payload), capture_output=True, text=True, check=True, timeout=120,
    )
    return json.loads(out.stdout)


def test_rheo_put_aggregates_read_back_with_pypi_and_npm_aws_kinesis_agg(rheo, kinesis, stream_name):
    create_active(kinesis, stream_name, shards=4)
    put = rheo_put(rheo, stream_name, "--aggregate", "--key-field", "user", "--no-rate-limit",
                   stdin="\n".join(lines()) + "\n")
    assert put.returncode == 0, put.stderr
    assert f"{RECORDS} records put to {stream_name} (4 shard(s)" in put.stdout, put.stdout

    records = read_stream(kinesis, stream_name)
    assert any(r["Data"].startswith(KPL_MAGIC) for r in records), "aggregates were written"
    assert len(records) < RECORDS

    pypi = []
    for user in iter_deaggregate_records(records, data_format="Boto3"):
        body = user["kinesis"]
        data = base64.b64decode(body["data"]) if "subSequenceNumber" in body else body["data"]
        pypi.append((body["partitionKey"], data))
    check_user_records(pypi)

    npm = [(u["partitionKey"], base64.b64decode(u["data"])) for u in npm_deaggregate(records)]
    check_user_records(npm)
    assert npm == pypi


def test_rheo_put_reports_failed_lines_and_exits_non_zero(rheo, kinesis, stream_name):
    create_active(kinesis, stream_name, shards=1)
    stdin = '{"user": "a", "n": 1}\nnot json\n{"n": 3}\n{"user": "b", "n": 4}\n'
    put = rheo_put(rheo, stream_name, "--key-field", "user", stdin=stdin)
    assert put.returncode != 0
    assert "line 2:" in put.stderr and "line 3:" in put.stderr, put.stderr
    assert "line 1:" not in put.stderr and "line 4:" not in put.stderr
    assert "2 records put" in put.stdout
    plain = read_stream(kinesis, stream_name)
    assert [(r["PartitionKey"], json.loads(r["Data"])["n"]) for r in plain] == [("a", 1), ("b", 4)]


def test_rheo_put_to_a_missing_stream_fails_clearly(rheo):
    put = rheo_put(rheo, "no-such-stream", stdin="x\n" * 5000)
    assert put.returncode != 0
    assert "ResourceNotFoundException" in put.stderr, put.stderr
    # It stops at the first refusal instead of failing every line.
    assert "line " not in put.stderr, put.stderr
