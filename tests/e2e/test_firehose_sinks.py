"""End-to-end tests of Firehose destinations backed by real servers: an S3-compatible server
(moto_server, path-style) through --s3-endpoint, and PostgreSQL through the Redshift
destination's COPY."""

import glob
import json
import gzip
import os
import shutil
import socket
import subprocess
import tempfile
import time

import boto3
import pytest
from botocore.config import Config

from conftest import REPO, Rheo, free_port
from firehose_support import (
    FIREHOSE_FLAGS, ROLE_ARN, bucket_arn, client, key_regex, read_objects, s3_config,
    unique, wait_objects, wait_status,
)


def wait_port(port, process, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s}s")


# ---- 16. a real S3-compatible server ----------------------------------------------------

@pytest.fixture(scope="module")
def moto_s3():
    moto_server = REPO / ".venv" / "bin" / "moto_server"
    if not moto_server.exists():
        moto_server = shutil.which("moto_server")
    assert moto_server, "moto_server not found: install moto[server] (tests/e2e/requirements.txt)"
    port = free_port()
    process = subprocess.Popen(
        [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )
        yield endpoint, s3
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def rheo_on_moto(moto_s3, tmp_path_factory):
    endpoint, _ = moto_s3
    rheo = Rheo(tmp_path_factory.mktemp("fh-moto"), *FIREHOSE_FLAGS, "--s3-endpoint", endpoint).start()
    yield rheo
    rheo.stop()


def wait_s3_objects(s3, bucket, count=1, timeout_s=15.0):
    deadline = time.monotonic() + timeout_s
    keys = []
    while time.monotonic() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        if len(keys) >= count:
            time.sleep(1.0)
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
            return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}
        time.sleep(0.2)
    raise AssertionError(f"expected {count} object(s) in s3://{bucket} within {timeout_s}s, found {keys}")


@pytest.mark.parametrize("compression", ["UNCOMPRESSED", "GZIP"])
def test_delivery_to_s3_compatible_server(moto_s3, rheo_on_moto, compression):
    _, s3 = moto_s3
    bucket = unique("moto")
    s3.create_bucket(Bucket=bucket)
    fh = client(rheo_on_moto.endpoint)
    name = unique("fh")
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration=s3_config(bucket, Prefix="moto/", CompressionFormat=compression),
    )
    wait_status(fh, name)
    response = fh.put_record_batch(
        DeliveryStreamName=name, Records=[{"Data": b"a"}, {"Data": b"b"}, {"Data": b"c"}]
    )
    assert response["FailedPutCount"] == 0
    objects = wait_s3_objects(s3, bucket)
    assert len(objects) == 1, sorted(objects)
    (key,) = objects
    extension = ".gz" if compression == "GZIP" else ""
    assert key_regex("moto/", name, extension=extension).match(key), key
    body = objects[key]
    assert (gzip.decompress(body) if compression == "GZIP" else body) == b"abc"
    # Nothing is written to a local folder when an S3 endpoint is configured.
    assert read_objects(rheo_on_moto.data_dir / "buckets" / bucket) == {}


# ---- 17. PostgreSQL through the Redshift destination -----------------------------------------

PG_PASSWORD = "rheo-secret-pw"


@pytest.fixture(scope="module")
def postgres():
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    initdb = shutil.which("initdb")
    if bins:
        pg_bin = bins[-1]
    elif initdb:
        pg_bin = os.path.dirname(initdb)
    else:
        pytest.fail(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb and no initdb on PATH): "
            "install it, e.g. `apt-get install -y postgresql`"
        )
    as_root = os.geteuid() == 0
    base = tempfile.mkdtemp(prefix="rheo-pg-")
    os.chmod(base, 0o755)
    data, sock, pwfile, log = (os.path.join(base, n) for n in ("data", "sock", "pw", "log"))
    os.mkdir(sock)
    with open(pwfile, "w") as f:
        f.write(PG_PASSWORD + "\n")
    if as_root:
        subprocess.run(["chown", "-R", "postgres:", base], check=True)

    def run(*args, **kwargs):
        command = [*(["runuser", "-u", "postgres", "--"] if as_root else []), *args]
        return subprocess.run(command, capture_output=True, text=True, **kwargs)

    port = free_port()
    result = run(
        f"{pg_bin}/initdb", "-D", data, "-U", "postgres", "-E", "UTF8",
        "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
    )
    assert result.returncode == 0, f"initdb failed: {result.stderr}"
    result = run(
        f"{pg_bin}/pg_ctl", "-D", data, "-l", log, "-w", "-t", "30",
        "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start",
    )
    if result.returncode != 0:
        log_text = open(log).read() if os.path.exists(log) else ""
        pytest.fail(f"PostgreSQL did not start: {result.stderr}\n{log_text}")
    try:
        yield port
    finally:
        run(f"{pg_bin}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def rheo_local(tmp_path_factory):
    data = tmp_path_factory.mktemp("fh-sinks")
    buckets = tmp_path_factory.mktemp("fh-sink-buckets")
    rheo = Rheo(data, *FIREHOSE_FLAGS, "--s3-dir", str(buckets)).start()
    rheo.buckets = buckets
    yield rheo
    rheo.stop()


def create_redshift_stream(fh, name, port, bucket, table, **extra):
    """A Redshift-destination stream loading JSON records into `table` of the test's
    PostgreSQL, staged in a local bucket with zero buffering."""
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        RedshiftDestinationConfiguration={
            "RoleARN": ROLE_ARN,
            "ClusterJDBCURL": f"jdbc:postgresql://127.0.0.1:{port}/postgres",
            "CopyCommand": {"DataTableName": table, "CopyOptions": "JSON 'auto'"},
            "Username": "postgres",
            "Password": PG_PASSWORD,
            "S3Configuration": {
                "RoleARN": ROLE_ARN,
                "BucketARN": bucket_arn(bucket),
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
            },
            **extra,
        },
    )


def test_redshift_destination_copies_into_postgresql(postgres, rheo_local):
    import psycopg

    port = postgres
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password=PG_PASSWORD,
                         dbname="postgres", autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS events")
        db.execute("CREATE TABLE events (id int, name text)")

    fh = client(rheo_local.endpoint)
    name = unique("fh")
    bucket = unique("stage")
    (rheo_local.buckets / bucket).mkdir()
    create_redshift_stream(fh, name, port, bucket, "events")
    description = wait_status(fh, name)
    redshift = description["Destinations"][0]["RedshiftDestinationDescription"]
    assert redshift["ClusterJDBCURL"] == f"jdbc:postgresql://127.0.0.1:{port}/postgres"
    assert redshift["Username"] == "postgres"
    assert "Password" not in redshift
    assert redshift["CopyCommand"] == {"DataTableName": "events", "CopyOptions": "JSON 'auto'"}

    records = [b'{"id":1,"name":"a"}\n', b'{"id":2,"name":"b"}\n', b'{"id":3,"name":"c"}\n']
    response = fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in records])
    assert response["FailedPutCount"] == 0

    rows = []
    deadline = time.monotonic() + 20
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password=PG_PASSWORD,
                         dbname="postgres", autocommit=True) as db:
        while time.monotonic() < deadline:
            rows = db.execute("SELECT id, name FROM events ORDER BY id").fetchall()
            if len(rows) >= 3:
                break
            time.sleep(0.2)
        time.sleep(1.5)
        rows = db.execute("SELECT id, name FROM events ORDER BY id").fetchall()
    assert rows == [(1, "a"), (2, "b"), (3, "c")]
    # The intermediate S3 object holds the records too.
    objects = wait_objects(rheo_local.buckets / bucket, settle_s=0)
    assert b"".join(objects[k] for k in sorted(objects)) == b"".join(records)


def test_redshift_gives_up_with_a_manifest_under_errors(postgres, rheo_local):
    """A COPY that keeps failing (no such table) is retried for RetryOptions, then the staged
    object is listed in a manifest under errors/ and left in place, as AWS does."""
    port = postgres
    fh = client(rheo_local.endpoint)
    name = unique("fh")
    bucket = unique("stage")
    (rheo_local.buckets / bucket).mkdir()
    create_redshift_stream(fh, name, port, bucket, "no_such_table", RetryOptions={"DurationInSeconds": 2})
    wait_status(fh, name)
    fh.put_record(DeliveryStreamName=name, Record={"Data": b'{"id":1}\n'})
    folder = rheo_local.buckets / bucket
    objects = wait_objects(folder, count=1, timeout_s=30, predicate=lambda k: k.startswith("errors/manifests/"))
    manifests = {k: v for k, v in objects.items() if k.startswith("errors/manifests/")}
    staged = [k for k in objects if not k.startswith("errors/")]
    assert len(manifests) == 1 and len(staged) == 1, sorted(objects)
    manifest = json.loads(next(iter(manifests.values())))
    assert manifest == {"entries": [{"url": f"s3://{bucket}/{staged[0]}", "mandatory": True}]}
    assert objects[staged[0]] == b'{"id":1}\n'
