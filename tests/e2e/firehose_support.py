"""Helpers of the Firehose end-to-end tests: clients, waiting for statuses, reading local
buckets, decoding compressed objects, a scripted HTTP endpoint and a KPL aggregate builder."""

import base64
import gzip
import hashlib
import io
import json
import pathlib
import re
import struct
import threading
import time
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import cramjam
import snappy
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/firehose-e2e"
UUID_RE = r"[0-9a-f-]{36}"
SUFFIX_TIME_RE = r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}"
TIME_PREFIX_RE = r"\d{4}/\d{2}/\d{2}/\d{2}/"

# Flags of the module-scoped servers: short lifecycle and encryption transitions, and
# http:// endpoints so a local HTTP server can be a destination.
FIREHOSE_FLAGS = (
    "--allow-http-endpoints",
    "--firehose-lifecycle-ms", "600",
    "--firehose-encryption-ms", "1000",
)


def unique(prefix="fh"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def bucket_arn(bucket):
    return f"arn:aws:s3:::{bucket}"


def stream_arn(name):
    return f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{name}"


def client(endpoint, service="firehose", **config):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(retries={"max_attempts": 1}, **config),
    )


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def error_message(excinfo):
    return excinfo.value.response["Error"].get("Message", "")


def describe(fh, name):
    return fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]


def wait_status(fh, name, status="ACTIVE", timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = describe(fh, name)
        if last["DeliveryStreamStatus"] == status:
            return last
        time.sleep(0.05)
    raise AssertionError(
        f"delivery stream {name} did not become {status} (last status "
        f"{last and last['DeliveryStreamStatus']})"
    )


def wait_gone(fh, name, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            describe(fh, name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return
            raise
        time.sleep(0.05)
    raise AssertionError(f"delivery stream {name} was not removed")


def wait_encryption(fh, name, status, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = describe(fh, name).get("DeliveryStreamEncryptionConfiguration", {})
        if last.get("Status") == status:
            return last
        time.sleep(0.05)
    raise AssertionError(f"encryption of {name} did not become {status} (last {last})")


def s3_config(bucket, size_mb=1, interval_s=0, **extra):
    """An ExtendedS3DestinationConfiguration (also valid as S3DestinationConfiguration
    when no extended members are passed)."""
    config = {
        "RoleARN": ROLE_ARN,
        "BucketARN": bucket_arn(bucket),
        "BufferingHints": {"SizeInMBs": size_mb, "IntervalInSeconds": interval_s},
    }
    config.update(extra)
    return config


def create_s3_stream(fh, name, buckets_dir, bucket=None, wait=True, **extra):
    """Creates a DirectPut stream to a fresh local bucket; returns (bucket folder, ARN)."""
    bucket = bucket or unique("bkt")
    folder = pathlib.Path(buckets_dir) / bucket
    folder.mkdir(parents=True, exist_ok=True)
    config = s3_config(bucket, **extra)
    arn = fh.create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=config
    )["DeliveryStreamARN"]
    if wait:
        wait_status(fh, name)
    return folder, arn


# object_store's local store writes an object to `<key>#<n>` and renames it into place:
# such a file is an upload in progress, not an object.
STAGING_FILE = re.compile(r"#\d+$")


def read_objects(folder):
    """Every object of a local bucket: {key: body}, keys with `/` between folders."""
    folder = pathlib.Path(folder)
    objects = {}
    if not folder.exists():
        return objects
    for path in sorted(folder.rglob("*")):
        if STAGING_FILE.search(path.name) or not path.is_file():
            continue
        objects[path.relative_to(folder).as_posix()] = path.read_bytes()
    return objects


def wait_objects(folder, count=1, timeout_s=15.0, settle_s=1.0, predicate=None):
    """Polls a local bucket until it holds at least `count` objects (matching `predicate`
    on the key if given), waits `settle_s` more so late extra objects show up, and returns
    them all."""
    deadline = time.monotonic() + timeout_s
    objects = {}
    while time.monotonic() < deadline:
        objects = read_objects(folder)
        matching = [k for k in objects if predicate is None or predicate(k)]
        if len(matching) >= count:
            time.sleep(settle_s)
            return read_objects(folder)
        time.sleep(0.1)
    raise AssertionError(
        f"expected {count} object(s) in {folder} within {timeout_s}s, found {sorted(objects)}"
    )


def wait_for_bytes(folder, expected_len, timeout_s=15.0):
    """Polls until the objects of a local bucket add up to at least `expected_len` bytes."""
    deadline = time.monotonic() + timeout_s
    objects = {}
    while time.monotonic() < deadline:
        objects = read_objects(folder)
        if sum(len(body) for body in objects.values()) >= expected_len:
            time.sleep(0.5)
            return read_objects(folder)
        time.sleep(0.1)
    total = sum(len(body) for body in objects.values())
    raise AssertionError(f"expected {expected_len} bytes in {folder}, found {total} in {sorted(objects)}")


def key_regex(prefix, name, version=1, extension="", time_prefix=TIME_PREFIX_RE):
    return re.compile(
        "^" + re.escape(prefix) + time_prefix + re.escape(name) + f"-{version}-"
        + SUFFIX_TIME_RE + "-" + UUID_RE + re.escape(extension) + "$"
    )


# ---- decoders of delivered objects ------------------------------------------------------

def gunzip(body):
    return gzip.decompress(body)


def unzip(body):
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return b"".join(archive.read(info) for info in archive.infolist())


def unsnappy_framed(body):
    """Snappy framing format (stream identifier chunk `\\xff\\x06\\x00\\x00sNaPpY`)."""
    assert body.startswith(b"\xff\x06\x00\x00sNaPpY"), body[:16]
    via_cramjam = bytes(cramjam.snappy.decompress(body))
    via_python_snappy = snappy.StreamDecompressor().decompress(body)
    assert via_cramjam == via_python_snappy
    return via_cramjam


def unsnappy_hadoop(body):
    """Hadoop snappy block format: blocks of [u32 BE uncompressed length] followed by
    chunks [u32 BE compressed length][raw snappy] until that length is produced."""
    out = bytearray()
    pos = 0
    while pos < len(body):
        assert pos + 4 <= len(body), "truncated hadoop-snappy block header"
        (block_len,) = struct.unpack(">I", body[pos:pos + 4])
        pos += 4
        produced = 0
        while produced < block_len:
            (chunk_len,) = struct.unpack(">I", body[pos:pos + 4])
            pos += 4
            chunk = bytes(cramjam.snappy.decompress_raw(body[pos:pos + chunk_len]))
            pos += chunk_len
            produced += len(chunk)
            out += chunk
        assert produced == block_len, f"hadoop-snappy block declared {block_len}, held {produced}"
    return bytes(out)


# ---- HTTP endpoint destination ----------------------------------------------------------

class HttpSink:
    """A local HTTP endpoint destination. `script` is a list of status codes answered in turn
    (the last one repeats). A 200 answer echoes the request's requestId as AWS requires.
    Records every request: {"headers": {lowercase: value}, "body": bytes, "json": dict|None,
    "time": monotonic}."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                try:
                    document = json.loads(body)
                except ValueError:
                    document = None
                with sink.lock:
                    index = len(sink.requests)
                    sink.requests.append({
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "json": document,
                        "time": time.monotonic(),
                    })
                    status = sink.script[min(index, len(sink.script) - 1)]
                request_id = document.get("requestId") if isinstance(document, dict) else None
                answer = {"requestId": request_id, "timestamp": int(time.time() * 1000)}
                if status != 200:
                    answer["errorMessage"] = f"scripted failure {status}"
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def wait_requests(self, count, timeout_s=15.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(
            f"expected {count} HTTP request(s) within {timeout_s}s, got {len(self.requests)}"
        )


# ---- KPL aggregation ----------------------------------------------------------------------

KPL_MAGIC = bytes.fromhex("f3899ac2")


def _varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number, wire_type, payload):
    key = _varint((number << 3) | wire_type)
    if wire_type == 0:
        return key + _varint(payload)
    return key + _varint(len(payload)) + payload


def kpl_aggregate(partition_key, user_records):
    """A KPL aggregated record: magic, AggregatedRecord protobuf, MD5 of the protobuf.
    AggregatedRecord{1: repeated string partition_key_table, 3: repeated Record};
    Record{1: uint64 partition_key_index, 3: bytes data}."""
    message = _field(1, 2, partition_key.encode())
    for data in user_records:
        record = _field(1, 0, 0) + _field(3, 2, data)
        message += _field(3, 2, record)
    return KPL_MAGIC + message + hashlib.md5(message).digest()


def b64(data):
    return base64.b64encode(data).decode()
