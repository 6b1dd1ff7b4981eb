"""End-to-end tests of the Firehose API (Firehose_20150804) with boto3 and the aws CLI against
a real `rheo serve`. S3 destinations are local buckets: bucket `b` is the folder `<s3-dir>/b`.
References (§) are to shared/docs/firehose.md."""

import base64
import datetime
import json
import os
import re
import subprocess
import time
import zoneinfo

import pytest
from botocore.exceptions import ClientError

from conftest import REPO, Rheo, wait_for_status
from firehose_support import (
    ACCOUNT, FIREHOSE_FLAGS, HttpSink, ROLE_ARN, SUFFIX_TIME_RE, TIME_PREFIX_RE, UUID_RE,
    bucket_arn, client, create_s3_stream, describe, error_code, error_message, gunzip,
    key_regex, kpl_aggregate, read_objects, s3_config, stream_arn, unique, unsnappy_framed,
    unsnappy_hadoop, unzip, wait_encryption, wait_for_bytes, wait_gone, wait_objects,
    wait_status,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("firehose-data")
    buckets = tmp_path_factory.mktemp("firehose-buckets")
    rheo = Rheo(data, *FIREHOSE_FLAGS, "--s3-dir", str(buckets)).start()
    rheo.buckets = buckets
    yield rheo
    rheo.stop()


@pytest.fixture(scope="module")
def fh(server):
    return client(server.endpoint)


@pytest.fixture(scope="module")
def raw_fh(server):
    """Without botocore's parameter validation, to reach the server's own checks."""
    return client(server.endpoint, parameter_validation=False)


@pytest.fixture(scope="module")
def buckets(server):
    return server.buckets


@pytest.fixture
def name():
    return unique("fh")


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


# ---- 1. describe defaults ---------------------------------------------------------------

def test_describe_defaults_after_create(fh, buckets, name):
    bucket = unique("bkt")
    (buckets / bucket).mkdir()
    before = time.time()
    arn = fh.create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration={"RoleARN": ROLE_ARN, "BucketARN": bucket_arn(bucket)},
    )["DeliveryStreamARN"]
    assert arn == stream_arn(name)
    creating = describe(fh, name)
    assert creating["DeliveryStreamStatus"] == "CREATING"
    active = wait_status(fh, name)

    assert active["DeliveryStreamName"] == name
    assert active["DeliveryStreamARN"] == arn
    assert active["DeliveryStreamType"] == "DirectPut"
    assert active["VersionId"] == "1"
    assert active["HasMoreDestinations"] is False
    assert before - 5 <= active["CreateTimestamp"].timestamp() <= time.time() + 5
    assert len(active["Destinations"]) == 1
    destination = active["Destinations"][0]
    assert destination["DestinationId"] == "destinationId-000000000001"

    extended = destination["ExtendedS3DestinationDescription"]
    assert extended["RoleARN"] == ROLE_ARN
    assert extended["BucketARN"] == bucket_arn(bucket)
    assert extended["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 300}
    assert extended["CompressionFormat"] == "UNCOMPRESSED"
    assert extended["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}

    plain = destination["S3DestinationDescription"]
    assert plain["RoleARN"] == ROLE_ARN
    assert plain["BucketARN"] == bucket_arn(bucket)
    assert plain["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 300}
    assert plain["CompressionFormat"] == "UNCOMPRESSED"
    assert plain["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}


# ---- 2. control-plane validation, lifecycle, listing -------------------------------------

@pytest.mark.parametrize("hints", [{"IntervalInSeconds": 60}, {"SizeInMBs": 2}])
def test_buffering_hints_need_both_members(fh, buckets, name, hints):
    config = {"RoleARN": ROLE_ARN, "BucketARN": bucket_arn("b"), "BufferingHints": hints}
    with pytest.raises(ClientError) as excinfo:
        fh.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration=config)
    assert error_code(excinfo) == "InvalidArgumentException"
    with pytest.raises(ClientError) as excinfo:
        describe(fh, name)
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_exactly_one_destination(fh, name):
    with pytest.raises(ClientError) as excinfo:
        fh.create_delivery_stream(DeliveryStreamName=name)
    assert error_code(excinfo) == "InvalidArgumentException"
    with pytest.raises(ClientError) as excinfo:
        fh.create_delivery_stream(
            DeliveryStreamName=name,
            ExtendedS3DestinationConfiguration=s3_config("b1"),
            S3DestinationConfiguration={"RoleARN": ROLE_ARN, "BucketARN": bucket_arn("b2")},
        )
    assert error_code(excinfo) == "InvalidArgumentException"
    with pytest.raises(ClientError) as excinfo:
        describe(fh, name)
    assert error_code(excinfo) == "ResourceNotFoundException"


@pytest.mark.parametrize("bad", ["has space", "slash/name", "x" * 65, "star*"])
def test_bad_names_are_validation_errors(raw_fh, bad):
    with pytest.raises(ClientError) as excinfo:
        raw_fh.create_delivery_stream(
            DeliveryStreamName=bad, ExtendedS3DestinationConfiguration=s3_config("b")
        )
    assert error_code(excinfo) == "ValidationException"


def test_empty_name_is_validation_error(raw_fh):
    with pytest.raises(ClientError) as excinfo:
        raw_fh.describe_delivery_stream(DeliveryStreamName="")
    assert error_code(excinfo) == "ValidationException"


def test_not_found_message(fh, name):
    with pytest.raises(ClientError) as excinfo:
        describe(fh, name)
    assert error_code(excinfo) == "ResourceNotFoundException"
    assert error_message(excinfo) == f"Firehose {name} under account {ACCOUNT} not found."
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as excinfo:
        fh.delete_delivery_stream(DeliveryStreamName=name)
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_duplicate_create_is_resource_in_use(fh, buckets, name):
    create_s3_stream(fh, name, buckets)
    with pytest.raises(ClientError) as excinfo:
        fh.create_delivery_stream(
            DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_config("other")
        )
    assert error_code(excinfo) == "ResourceInUseException"
    # The original configuration is untouched.
    destination = describe(fh, name)["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["BucketARN"] != bucket_arn("other")


def test_delete_lifecycle(fh, buckets, name):
    create_s3_stream(fh, name, buckets, wait=False)
    with pytest.raises(ClientError) as excinfo:
        fh.delete_delivery_stream(DeliveryStreamName=name)
    assert error_code(excinfo) == "ResourceInUseException"
    wait_status(fh, name, "ACTIVE")
    fh.delete_delivery_stream(DeliveryStreamName=name)
    assert describe(fh, name)["DeliveryStreamStatus"] == "DELETING"
    wait_gone(fh, name)
    assert name not in fh.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]


def test_list_delivery_streams_paging_and_filter(tmp_path):
    rheo = Rheo(tmp_path / "data", *FIREHOSE_FLAGS, "--s3-dir", str(tmp_path / "b")).start()
    try:
        fh = client(rheo.endpoint)
        kinesis = client(rheo.endpoint, "kinesis")
        names = [f"list-{c}" for c in "kcjbalhgifed"]  # 12, unsorted
        for n in names:
            fh.create_delivery_stream(DeliveryStreamName=n, ExtendedS3DestinationConfiguration=s3_config("b"))
        kinesis.create_stream(StreamName="src", ShardCount=1)
        deadline = time.monotonic() + 10
        while kinesis.describe_stream_summary(StreamName="src")["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        source_arn = kinesis.describe_stream_summary(StreamName="src")["StreamDescriptionSummary"]["StreamARN"]
        fh.create_delivery_stream(
            DeliveryStreamName="list-from-kinesis",
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": source_arn, "RoleARN": ROLE_ARN},
            ExtendedS3DestinationConfiguration=s3_config("b"),
        )
        direct = sorted(names)
        everything = sorted(names + ["list-from-kinesis"])

        default = fh.list_delivery_streams()
        assert default["DeliveryStreamNames"] == everything[:10]
        assert default["HasMoreDeliveryStreams"] is True

        page = fh.list_delivery_streams(Limit=3)
        assert page["DeliveryStreamNames"] == everything[:3]
        assert page["HasMoreDeliveryStreams"] is True
        page = fh.list_delivery_streams(Limit=3, ExclusiveStartDeliveryStreamName=everything[2])
        assert page["DeliveryStreamNames"] == everything[3:6]
        assert page["HasMoreDeliveryStreams"] is True
        page = fh.list_delivery_streams(Limit=10, ExclusiveStartDeliveryStreamName=everything[5])
        assert page["DeliveryStreamNames"] == everything[6:]
        assert page["HasMoreDeliveryStreams"] is False
        page = fh.list_delivery_streams(Limit=7, ExclusiveStartDeliveryStreamName=everything[5])
        assert page["DeliveryStreamNames"] == everything[6:]
        assert page["HasMoreDeliveryStreams"] is False
        # An exclusive start name that is not a stream still pages from its sort position.
        page = fh.list_delivery_streams(Limit=100, ExclusiveStartDeliveryStreamName="list-e0")
        assert page["DeliveryStreamNames"] == [n for n in everything if n > "list-e0"]

        page = fh.list_delivery_streams(Limit=100, DeliveryStreamType="DirectPut")
        assert page["DeliveryStreamNames"] == direct
        assert page["HasMoreDeliveryStreams"] is False
        page = fh.list_delivery_streams(Limit=100, DeliveryStreamType="KinesisStreamAsSource")
        assert page["DeliveryStreamNames"] == ["list-from-kinesis"]
        page = fh.list_delivery_streams(Limit=2, DeliveryStreamType="DirectPut",
                                        ExclusiveStartDeliveryStreamName=direct[9])
        assert page["DeliveryStreamNames"] == direct[10:12]
        assert page["HasMoreDeliveryStreams"] is False

        raw = client(rheo.endpoint, parameter_validation=False)
        for limit in (0, 10001):
            with pytest.raises(ClientError) as excinfo:
                raw.list_delivery_streams(Limit=limit)
            assert error_code(excinfo) == "ValidationException"
    finally:
        rheo.stop()


# ---- 3. PutRecord / PutRecordBatch limits ----------------------------------------------

def test_put_limits(fh, raw_fh, buckets, name):
    create_s3_stream(fh, name, buckets, size_mb=128, interval_s=900)

    with pytest.raises(ClientError) as excinfo:
        raw_fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"x"}] * 501)
    assert error_code(excinfo) == "ValidationException"

    response = fh.put_record_batch(
        DeliveryStreamName=name, Records=[{"Data": bytes([65 + i % 26]) * 8192} for i in range(500)]
    )
    assert response["FailedPutCount"] == 0
    assert response["Encrypted"] is False
    assert len(response["RequestResponses"]) == 500
    ids = [entry["RecordId"] for entry in response["RequestResponses"]]
    assert all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == 500
    assert not any("ErrorCode" in entry for entry in response["RequestResponses"])

    largest = fh.put_record(DeliveryStreamName=name, Record={"Data": b"y" * 1_024_000})
    assert largest["RecordId"] and largest["Encrypted"] is False

    with pytest.raises(ClientError) as excinfo:
        raw_fh.put_record(DeliveryStreamName=name, Record={"Data": b"z" * 1_024_001})
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        raw_fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"z" * 1_024_001}])
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        raw_fh.put_record_batch(DeliveryStreamName=name, Records=[])
    assert error_code(excinfo) == "ValidationException"

    missing = unique("missing")
    with pytest.raises(ClientError) as excinfo:
        fh.put_record(DeliveryStreamName=missing, Record={"Data": b"x"})
    assert error_code(excinfo) == "ResourceNotFoundException"
    assert error_message(excinfo) == f"Firehose {missing} under account {ACCOUNT} not found."
    with pytest.raises(ClientError) as excinfo:
        fh.put_record_batch(DeliveryStreamName=missing, Records=[{"Data": b"x"}])
    assert error_code(excinfo) == "ResourceNotFoundException"


# ---- 4. concatenation, AppendDelimiterToRecord ---------------------------------------------

def test_records_are_concatenated_without_delimiters(fh, buckets, name):
    folder, _ = create_s3_stream(fh, name, buckets)
    response = fh.put_record_batch(
        DeliveryStreamName=name, Records=[{"Data": b"a"}, {"Data": b"b"}, {"Data": b"c"}]
    )
    assert response["FailedPutCount"] == 0
    objects = wait_objects(folder, settle_s=2.0)
    assert list(objects.values()) == [b"abc"], objects


def test_append_delimiter_processor(fh, buckets, name):
    folder, _ = create_s3_stream(
        fh, name, buckets,
        ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]},
    )
    fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"a"}, {"Data": b"b"}, {"Data": b"c"}])
    objects = wait_objects(folder, settle_s=2.0)
    assert list(objects.values()) == [b"a\nb\nc\n"], objects
    processing = describe(fh, name)["Destinations"][0]["ExtendedS3DestinationDescription"]["ProcessingConfiguration"]
    assert processing == {"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]}


# ---- 5. key layout and the version part -------------------------------------------------

def test_key_layout_and_version_after_update(fh, buckets, name):
    folder, _ = create_s3_stream(fh, name, buckets, Prefix="logs/")
    start = utc_now()
    fh.put_record(DeliveryStreamName=name, Record={"Data": b"first"})
    objects = wait_objects(folder)
    end = utc_now()
    assert list(objects.values()) == [b"first"]
    (key,) = objects
    assert key_regex("logs/", name, 1).match(key), key
    parts = key.split("/")
    hour_prefixes = {start.strftime("%Y/%m/%d/%H"), end.strftime("%Y/%m/%d/%H")}
    assert "/".join(parts[1:5]) in hour_prefixes
    stamp = re.search(f"-1-({SUFFIX_TIME_RE})-", key).group(1)
    written = datetime.datetime.strptime(stamp, "%Y-%m-%d-%H-%M-%S").replace(tzinfo=datetime.timezone.utc)
    assert start.replace(microsecond=0) - datetime.timedelta(seconds=2) <= written <= end + datetime.timedelta(seconds=1)

    description = describe(fh, name)
    assert description["VersionId"] == "1"
    fh.update_destination(
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId="1",
        DestinationId="destinationId-000000000001",
        ExtendedS3DestinationUpdate={"BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1}},
    )
    description = describe(fh, name)
    assert description["VersionId"] == "2"
    assert description["DeliveryStreamStatus"] == "ACTIVE"
    assert description["LastUpdateTimestamp"].timestamp() >= description["CreateTimestamp"].timestamp()
    fh.put_record(DeliveryStreamName=name, Record={"Data": b"second"})
    objects = wait_objects(folder, count=2)
    assert len(objects) == 2
    (new_key,) = [k for k in objects if k != key]
    assert objects[new_key] == b"second"
    assert key_regex("logs/", name, 2).match(new_key), new_key


# ---- 6. prefix expressions --------------------------------------------------------------

def test_hive_style_timestamp_prefix(fh, buckets, name):
    folder, _ = create_s3_stream(
        fh, name, buckets,
        Prefix="hive/year=!{timestamp:yyyy}/month=!{timestamp:MM}/",
        ErrorOutputPrefix="err/!{firehose:error-output-type}/",
    )
    start = utc_now()
    fh.put_record(DeliveryStreamName=name, Record={"Data": b"hive"})
    objects = wait_objects(folder)
    end = utc_now()
    assert list(objects.values()) == [b"hive"]
    (key,) = objects
    allowed = {f"hive/year={t:%Y}/month={t:%m}/" for t in (start, end)}
    match = re.match(r"^(hive/year=\d{4}/month=\d{2}/)(.*)$", key)
    assert match, key
    assert match.group(1) in allowed
    # No default time prefix is appended when the prefix has a timestamp expression.
    assert re.fullmatch(re.escape(name) + f"-1-{SUFFIX_TIME_RE}-{UUID_RE}", match.group(2)), key
    destination = describe(fh, name)["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["Prefix"] == "hive/year=!{timestamp:yyyy}/month=!{timestamp:MM}/"
    assert destination["ErrorOutputPrefix"] == "err/!{firehose:error-output-type}/"


def test_custom_time_zone(fh, buckets, name):
    zone = zoneinfo.ZoneInfo("Asia/Tokyo")  # UTC+9, no daylight saving time
    folder, _ = create_s3_stream(fh, name, buckets, Prefix="tz/", CustomTimeZone="Asia/Tokyo")
    start = datetime.datetime.now(zone)
    fh.put_record(DeliveryStreamName=name, Record={"Data": b"tokyo"})
    objects = wait_objects(folder)
    end = datetime.datetime.now(zone)
    (key,) = objects
    assert key_regex("tz/", name).match(key), key
    assert key[3:16] in {f"{t:%Y/%m/%d/%H}" for t in (start, end)}, key
    stamp = re.search(f"-1-({SUFFIX_TIME_RE})-", key).group(1)
    written = datetime.datetime.strptime(stamp, "%Y-%m-%d-%H-%M-%S").replace(tzinfo=zone)
    assert start.replace(microsecond=0) - datetime.timedelta(seconds=2) <= written <= end + datetime.timedelta(seconds=1), key
    destination = describe(fh, name)["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["CustomTimeZone"] == "Asia/Tokyo"


def test_file_extension_override(fh, buckets, name):
    folder, _ = create_s3_stream(
        fh, name, buckets, Prefix="ext/", CompressionFormat="GZIP", FileExtension=".log.gz"
    )
    fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"one\n"}, {"Data": b"two\n"}])
    objects = wait_objects(folder)
    (key,) = objects
    assert key_regex("ext/", name, extension=".log.gz").match(key), key
    assert gunzip(objects[key]) == b"one\ntwo\n"
    destination = describe(fh, name)["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["FileExtension"] == ".log.gz"


def test_prefix_expressions_need_error_output_prefix(fh, name):
    with pytest.raises(ClientError) as excinfo:
        fh.create_delivery_stream(
            DeliveryStreamName=name,
            ExtendedS3DestinationConfiguration=s3_config("b", Prefix="!{timestamp:yyyy/MM/dd}"),
        )
    assert error_code(excinfo) == "InvalidArgumentException"
    # An ErrorOutputPrefix with an expression must name the error output type.
    with pytest.raises(ClientError) as excinfo:
        fh.create_delivery_stream(
            DeliveryStreamName=name,
            ExtendedS3DestinationConfiguration=s3_config(
                "b", Prefix="!{timestamp:yyyy/MM/dd}", ErrorOutputPrefix="errors/!{timestamp:yyyy}/"
            ),
        )
    assert error_code(excinfo) == "InvalidArgumentException"
    assert error_message(excinfo) == (
        "The ErrorOutputPrefix expression must contain at least one !{firehose:error-output-type} expression"
    )
    with pytest.raises(ClientError) as excinfo:
        describe(fh, name)
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_plain_error_output_prefix_beside_plain_prefix(fh, buckets, name):
    # Without expressions ErrorOutputPrefix need not name the error output type (§3.4 rule 4).
    folder, _ = create_s3_stream(fh, name, buckets, Prefix="data/", ErrorOutputPrefix="errors/")
    destination = describe(fh, name)["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["Prefix"] == "data/"
    assert destination["ErrorOutputPrefix"] == "errors/"
    fh.put_record(DeliveryStreamName=name, Record={"Data": b"plain"})
    objects = wait_objects(folder)
    (key,) = objects
    assert key_regex("data/", name).match(key), key
    assert objects[key] == b"plain"


def test_prefix_expression_rules(fh, name):
    bad_configs = [
        # Prefix must not use the error output type.
        {"Prefix": "p/!{firehose:error-output-type}/", "ErrorOutputPrefix": "e/!{firehose:error-output-type}/"},
        # `!{` may only start a known expression.
        {"Prefix": "p/!{nope:x}/", "ErrorOutputPrefix": "e/!{firehose:error-output-type}/"},
        {"Prefix": "p/!{timestamp:yyyy", "ErrorOutputPrefix": "e/!{firehose:error-output-type}/"},
        # partitionKeyFromQuery needs dynamic partitioning.
        {"Prefix": "p/!{partitionKeyFromQuery:k}/", "ErrorOutputPrefix": "e/!{firehose:error-output-type}/"},
    ]
    for extra in bad_configs:
        with pytest.raises(ClientError) as excinfo:
            fh.create_delivery_stream(
                DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_config("b", **extra)
            )
        assert error_code(excinfo) == "InvalidArgumentException", extra
    with pytest.raises(ClientError) as excinfo:
        describe(fh, name)
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_random_string_prefix_gets_default_time_prefix(fh, buckets, name):
    folder, _ = create_s3_stream(
        fh, name, buckets, Prefix="rand=!{firehose:random-string}/",
        ErrorOutputPrefix="err/!{firehose:error-output-type}/",
    )
    fh.put_record(DeliveryStreamName=name, Record={"Data": b"r"})
    objects = wait_objects(folder)
    (key,) = objects
    pattern = (r"^rand=[0-9A-Za-z-]{11}/" + TIME_PREFIX_RE + re.escape(name)
               + f"-1-{SUFFIX_TIME_RE}-{UUID_RE}$")
    assert re.match(pattern, key), key
    assert objects[key] == b"r"


def test_size_threshold_triggers_delivery(fh, buckets, name):
    folder, _ = create_s3_stream(fh, name, buckets, size_mb=1, interval_s=900)
    records = [f"{i:06d}".encode() + b"s" * 993 + b"\n" for i in range(1500)]  # 1000 bytes each
    for start in range(0, len(records), 100):
        response = fh.put_record_batch(
            DeliveryStreamName=name, Records=[{"Data": r} for r in records[start:start + 100]]
        )
        assert response["FailedPutCount"] == 0
        time.sleep(0.05)
    objects = wait_objects(folder, timeout_s=15, settle_s=1.0)
    delivered = b"".join(objects[k] for k in sorted(objects))
    sent = b"".join(records)
    # About 1 MiB per object (record boundaries make it a little over or under), in order,
    # and the remainder below the threshold waits for the 900 s interval.
    assert 1 <= len(objects) <= 2, sorted(objects)
    for body in objects.values():
        assert 1_048_576 <= len(body) <= 1_200_000, len(body)
    assert sent.startswith(delivered)
    assert len(delivered) < len(sent)


# ---- 7. compression ----------------------------------------------------------------------

COMPRESSIONS = [
    ("GZIP", ".gz", gunzip),
    ("ZIP", ".zip", unzip),
    ("Snappy", ".snappy", unsnappy_framed),
    ("HADOOP_SNAPPY", ".hsnappy", unsnappy_hadoop),
]


@pytest.mark.parametrize("fmt,extension,decode", COMPRESSIONS, ids=[c[0] for c in COMPRESSIONS])
def test_compression_round_trip(fh, buckets, name, fmt, extension, decode):
    folder, _ = create_s3_stream(fh, name, buckets, CompressionFormat=fmt)
    records = [f"record-{i:04d} {'abc' * (i % 7)}\n".encode() for i in range(300)]
    response = fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in records])
    assert response["FailedPutCount"] == 0
    objects = wait_objects(folder, settle_s=2.0)
    assert len(objects) == 1, sorted(objects)
    (key,) = objects
    assert key_regex("", name, extension=extension).match(key), key
    assert decode(objects[key]) == b"".join(records)
    destination = describe(fh, name)["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["CompressionFormat"] == fmt


# ---- 8. UpdateDestination -----------------------------------------------------------------

def test_update_destination_version_and_merge(fh, raw_fh, buckets, name):
    bucket = unique("bkt")
    create_s3_stream(fh, name, buckets, bucket=bucket, size_mb=1, interval_s=60,
                     CompressionFormat="GZIP", Prefix="merge/")
    with pytest.raises(ClientError) as excinfo:
        fh.update_destination(
            DeliveryStreamName=name, CurrentDeliveryStreamVersionId="7",
            DestinationId="destinationId-000000000001",
            ExtendedS3DestinationUpdate={"BufferingHints": {"SizeInMBs": 2, "IntervalInSeconds": 120}},
        )
    assert error_code(excinfo) == "ConcurrentModificationException"
    assert describe(fh, name)["VersionId"] == "1"

    fh.update_destination(
        DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1",
        DestinationId="destinationId-000000000001",
        ExtendedS3DestinationUpdate={"BufferingHints": {"SizeInMBs": 2, "IntervalInSeconds": 120}},
    )
    description = describe(fh, name)
    assert description["VersionId"] == "2"
    destination = description["Destinations"][0]
    assert destination["DestinationId"] == "destinationId-000000000001"
    extended = destination["ExtendedS3DestinationDescription"]
    assert extended["BufferingHints"] == {"SizeInMBs": 2, "IntervalInSeconds": 120}
    assert extended["CompressionFormat"] == "GZIP"
    assert extended["Prefix"] == "merge/"
    assert extended["BucketARN"] == bucket_arn(bucket)
    assert extended["RoleARN"] == ROLE_ARN
    assert extended["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}

    # The old version is now stale too.
    with pytest.raises(ClientError) as excinfo:
        fh.update_destination(
            DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1",
            DestinationId="destinationId-000000000001",
            ExtendedS3DestinationUpdate={"CompressionFormat": "UNCOMPRESSED"},
        )
    assert error_code(excinfo) == "ConcurrentModificationException"
    with pytest.raises(ClientError) as excinfo:
        fh.update_destination(
            DeliveryStreamName=unique("missing"), CurrentDeliveryStreamVersionId="1",
            DestinationId="destinationId-000000000001",
            ExtendedS3DestinationUpdate={"CompressionFormat": "UNCOMPRESSED"},
        )
    assert error_code(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        raw_fh.update_destination(
            DeliveryStreamName=name, CurrentDeliveryStreamVersionId="abc",
            DestinationId="destinationId-000000000001",
            ExtendedS3DestinationUpdate={"CompressionFormat": "UNCOMPRESSED"},
        )
    assert error_code(excinfo) == "ValidationException"


def test_s3_backup_mode_cannot_be_disabled(fh, buckets, name):
    backup = unique("backup")
    (buckets / backup).mkdir()
    create_s3_stream(
        fh, name, buckets,
        S3BackupMode="Enabled",
        S3BackupConfiguration={"RoleARN": ROLE_ARN, "BucketARN": bucket_arn(backup)},
    )
    extended = describe(fh, name)["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert extended["S3BackupMode"] == "Enabled"
    assert extended["S3BackupDescription"]["BucketARN"] == bucket_arn(backup)
    with pytest.raises(ClientError) as excinfo:
        fh.update_destination(
            DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1",
            DestinationId="destinationId-000000000001",
            ExtendedS3DestinationUpdate={"S3BackupMode": "Disabled"},
        )
    assert error_code(excinfo) == "InvalidArgumentException"
    description = describe(fh, name)
    assert description["VersionId"] == "1"
    assert description["Destinations"][0]["ExtendedS3DestinationDescription"]["S3BackupMode"] == "Enabled"


# ---- 9. HTTP endpoint destination ---------------------------------------------------------

def http_stream(fh, name, buckets, url, retry_s, access_key="secret-key-1"):
    backup = unique("httpbak")
    (buckets / backup).mkdir()
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        HttpEndpointDestinationConfiguration={
            "EndpointConfiguration": {"Url": url, "Name": "local", "AccessKey": access_key},
            "RequestConfiguration": {
                "ContentEncoding": "NONE",
                "CommonAttributes": [
                    {"AttributeName": "env", "AttributeValue": "e2e"},
                    {"AttributeName": "team", "AttributeValue": "rheo"},
                ],
            },
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
            "RetryOptions": {"DurationInSeconds": retry_s},
            "RoleARN": ROLE_ARN,
            "S3BackupMode": "FailedDataOnly",
            "S3Configuration": {
                "RoleARN": ROLE_ARN,
                "BucketARN": bucket_arn(backup),
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
            },
        },
    )
    wait_status(fh, name)
    return buckets / backup


def test_http_endpoint_retries_then_delivers_once(fh, buckets, name):
    with HttpSink([500, 500, 200]) as sink:
        backup = http_stream(fh, name, buckets, sink.url, retry_s=60)
        description = describe(fh, name)["Destinations"][0]["HttpEndpointDestinationDescription"]
        assert description["EndpointConfiguration"] == {"Url": sink.url, "Name": "local"}
        assert description["RetryOptions"] == {"DurationInSeconds": 60}

        before_ms = time.time() * 1000
        fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"hello"}, {"Data": b"world"}])
        requests = sink.wait_requests(3, timeout_s=20)
        time.sleep(3)  # a 4th attempt would be a duplicate delivery
        requests = list(sink.requests)
        assert len(requests) == 3, [r["headers"] for r in requests]

        request_ids = set()
        for request in requests:
            headers, body = request["headers"], request["json"]
            assert body is not None, request["body"][:200]
            assert headers["x-amz-firehose-protocol-version"] == "1.0"
            assert headers["x-amz-firehose-request-id"] == body["requestId"]
            assert headers["x-amz-firehose-access-key"] == "secret-key-1"
            assert json.loads(headers["x-amz-firehose-common-attributes"]) == {
                "commonAttributes": {"env": "e2e", "team": "rheo"}
            }
            assert headers["x-amz-firehose-source-arn"] == stream_arn(name)
            assert headers["content-type"] == "application/json"
            assert "content-encoding" not in headers
            assert request["path"] == "/"
            assert isinstance(body["timestamp"], int) and body["timestamp"] > 1e12
            assert before_ms - 5000 <= body["timestamp"] <= time.time() * 1000 + 5000
            assert [base64.b64decode(r["data"]) for r in body["records"]] == [b"hello", b"world"]
            request_ids.add(body["requestId"])
        assert len(request_ids) == 1
        # Back-off starts at 1 s and doubles (±15 % jitter).
        first_gap = requests[1]["time"] - requests[0]["time"]
        second_gap = requests[2]["time"] - requests[1]["time"]
        assert 0.8 <= first_gap <= 2.5, first_gap
        assert 1.6 <= second_gap <= 4.5, second_gap
        assert read_objects(backup) == {}


def test_http_endpoint_413_is_not_retried_nor_backed_up(fh, buckets, name):
    with HttpSink([413]) as sink:
        backup = http_stream(fh, name, buckets, sink.url, retry_s=60)
        fh.put_record(DeliveryStreamName=name, Record={"Data": b"too-large"})
        sink.wait_requests(1)
        time.sleep(4)
        assert len(sink.requests) == 1
        assert read_objects(backup) == {}


def test_http_endpoint_failures_go_to_s3_backup(fh, buckets, name):
    with HttpSink([500]) as sink:
        backup = http_stream(fh, name, buckets, sink.url, retry_s=0)
        before_ms = time.time() * 1000
        fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"lost-1"}, {"Data": b"lost-2"}])
        objects = wait_objects(backup, settle_s=2.0)
        attempts = len(sink.requests)
        assert attempts >= 1
        assert all("http-endpoint-failed" in key for key in objects), sorted(objects)
        documents = [
            json.loads(line)
            for body in objects.values()
            for line in body.decode().splitlines() if line.strip()
        ]
        assert sorted(base64.b64decode(d["rawData"]) for d in documents) == [b"lost-1", b"lost-2"]
        for document in documents:
            assert document["attemptsMade"] == attempts
            assert document["errorCode"] == "HttpEndpoint.DestinationException"
            assert isinstance(document["errorMessage"], str) and document["errorMessage"]
            assert before_ms - 5000 <= document["arrivalTimestamp"] <= time.time() * 1000
            assert document["attemptEndingTimestamp"] >= document["arrivalTimestamp"]


# ---- 10. dynamic partitioning -------------------------------------------------------------

PARTITION_QUERY = (
    '{customer_id:.customer_id,device:.type.device,'
    'year:.event_timestamp|strftime("%Y"),month:.event_timestamp|strftime("%m"),'
    'day:.event_timestamp|strftime("%d"),hour:.event_timestamp|strftime("%H")}'
)
PARTITION_PREFIX = (
    "customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/"
    "year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/"
    "day=!{partitionKeyFromQuery:day}/hour=!{partitionKeyFromQuery:hour}/"
)


def test_dynamic_partitioning_worked_example(fh, buckets, name):
    folder, _ = create_s3_stream(
        fh, name, buckets, size_mb=64, interval_s=1,
        Prefix=PARTITION_PREFIX,
        ErrorOutputPrefix="errors/!{firehose:error-output-type}/",
        DynamicPartitioningConfiguration={"Enabled": True},
        ProcessingConfiguration={
            "Enabled": True,
            "Processors": [{
                "Type": "MetadataExtraction",
                "Parameters": [
                    {"ParameterName": "MetadataExtractionQuery", "ParameterValue": PARTITION_QUERY},
                    {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                ],
            }],
        },
    )
    record = json.dumps({
        "type": {"device": "mobile", "event": "user_clicked_submit_button"},
        "customer_id": "1234567890",
        "event_timestamp": 1565382027,
        "region": "sample_region",
    }).encode()
    response = fh.put_record_batch(
        DeliveryStreamName=name, Records=[{"Data": record}, {"Data": b"this is not json"}]
    )
    assert response["FailedPutCount"] == 0
    objects = wait_objects(folder, count=2, timeout_s=20)
    assert len(objects) == 2, sorted(objects)
    (good,) = [k for k in objects if not k.startswith("errors/")]
    (bad,) = [k for k in objects if k.startswith("errors/")]
    expected = "customer_id=1234567890/device=mobile/year=2019/month=08/day=09/hour=20/"
    assert re.fullmatch(re.escape(expected + name) + f"-1-{SUFFIX_TIME_RE}-{UUID_RE}", good), good
    assert objects[good] == record
    assert bad.startswith("errors/processing-failed/"), bad
    documents = [json.loads(line) for line in objects[bad].decode().splitlines() if line.strip()]
    assert [base64.b64decode(d["rawData"]) for d in documents] == [b"this is not json"]
    extended = describe(fh, name)["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert extended["DynamicPartitioningConfiguration"]["Enabled"] is True


def test_dynamic_partitioning_refuses_zero_buffering(fh, name):
    with pytest.raises(ClientError) as excinfo:
        fh.create_delivery_stream(
            DeliveryStreamName=name,
            ExtendedS3DestinationConfiguration=s3_config(
                "b", size_mb=64, interval_s=0, Prefix=PARTITION_PREFIX,
                ErrorOutputPrefix="errors/!{firehose:error-output-type}/",
                DynamicPartitioningConfiguration={"Enabled": True},
                ProcessingConfiguration={"Enabled": True, "Processors": [{
                    "Type": "MetadataExtraction",
                    "Parameters": [
                        {"ParameterName": "MetadataExtractionQuery", "ParameterValue": PARTITION_QUERY},
                        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                    ],
                }]},
            ),
        )
    assert error_code(excinfo) == "InvalidArgumentException"


# ---- 11. Kinesis stream as source ----------------------------------------------------------

def kinesis_source(server, buckets):
    kinesis = client(server.endpoint, "kinesis")
    source = unique("src")
    kinesis.create_stream(StreamName=source, ShardCount=1)
    deadline = time.monotonic() + 10
    while True:
        summary = kinesis.describe_stream(StreamName=source)["StreamDescription"]
        if summary["StreamStatus"] == "ACTIVE":
            break
        assert time.monotonic() < deadline, "kinesis stream did not become ACTIVE"
        time.sleep(0.05)
    bucket = unique("bkt")
    (buckets / bucket).mkdir()
    return kinesis, source, summary["StreamARN"], bucket


def create_kinesis_sourced(fh, name, source_arn, bucket, **extra):
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": source_arn, "RoleARN": ROLE_ARN},
        ExtendedS3DestinationConfiguration=s3_config(
            bucket, interval_s=1,
            ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]},
            **extra,
        ),
    )
    return wait_status(fh, name, timeout_s=15)


def delivered_lines(objects):
    return [line for key in sorted(objects) for line in objects[key].split(b"\n") if line]


def test_kinesis_stream_as_source_reads_from_latest(server, fh, raw_fh, buckets, name):
    kinesis, source, source_arn, bucket = kinesis_source(server, buckets)
    kinesis.put_record(StreamName=source, Data=b"before", PartitionKey="p")
    time.sleep(0.1)
    before_create = time.time()
    description = create_kinesis_sourced(fh, name, source_arn, bucket)
    assert description["DeliveryStreamType"] == "KinesisStreamAsSource"
    source_description = description["Source"]["KinesisStreamSourceDescription"]
    assert source_description["KinesisStreamARN"] == source_arn
    assert source_description["RoleARN"] == ROLE_ARN
    assert source_description["DeliveryStartTimestamp"].timestamp() >= before_create - 2

    kinesis.put_records(
        StreamName=source,
        Records=[{"Data": f"after-{i}".encode(), "PartitionKey": "p"} for i in range(3)],
    )
    folder = buckets / bucket
    deadline = time.monotonic() + 20
    lines = []
    while time.monotonic() < deadline and len(lines) < 3:
        lines = delivered_lines(read_objects(folder))
        time.sleep(0.2)
    time.sleep(2)
    objects = read_objects(folder)
    assert delivered_lines(objects) == [b"after-0", b"after-1", b"after-2"], objects
    for key in objects:
        assert key_regex("", name).match(key), key

    with pytest.raises(ClientError) as excinfo:
        fh.put_record(DeliveryStreamName=name, Record={"Data": b"direct"})
    assert error_code(excinfo) == "InvalidArgumentException"
    with pytest.raises(ClientError) as excinfo:
        fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"direct"}])
    assert error_code(excinfo) == "InvalidArgumentException"


def test_kinesis_source_deaggregates_kpl_records(server, fh, buckets, name):
    kinesis, source, source_arn, bucket = kinesis_source(server, buckets)
    create_kinesis_sourced(fh, name, source_arn, bucket)
    aggregate = kpl_aggregate("pk", [b"user-1", b"user-2", b"user-3"])
    kinesis.put_record(StreamName=source, Data=aggregate, PartitionKey="pk")
    kinesis.put_record(StreamName=source, Data=b"plain", PartitionKey="pk")
    folder = buckets / bucket
    deadline = time.monotonic() + 20
    lines = []
    while time.monotonic() < deadline and len(lines) < 4:
        lines = delivered_lines(read_objects(folder))
        time.sleep(0.2)
    time.sleep(1.5)
    assert delivered_lines(read_objects(folder)) == [b"user-1", b"user-2", b"user-3", b"plain"]


def test_kinesis_source_reads_children_after_a_split(server, fh, buckets, name):
    kinesis, source, source_arn, bucket = kinesis_source(server, buckets)
    create_kinesis_sourced(fh, name, source_arn, bucket)
    kinesis.put_record(StreamName=source, Data=b"parent", PartitionKey="p")
    kinesis.split_shard(
        StreamName=source, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127)
    )
    # The children exist once the stream is ACTIVE again (issue 14, item 8).
    wait_for_status(kinesis, source)
    kinesis.put_record(StreamName=source, Data=b"low", PartitionKey="p", ExplicitHashKey="0")
    kinesis.put_record(StreamName=source, Data=b"high", PartitionKey="p", ExplicitHashKey=str(2**127))
    folder = buckets / bucket
    deadline = time.monotonic() + 20
    lines = []
    while time.monotonic() < deadline and len(lines) < 3:
        lines = delivered_lines(read_objects(folder))
        time.sleep(0.2)
    time.sleep(1.5)
    lines = delivered_lines(read_objects(folder))
    # The parent's records come before its children's; each record once.
    assert lines[0] == b"parent", lines
    assert sorted(lines[1:]) == [b"high", b"low"], lines


def test_kinesis_source_needs_source_configuration(server, fh, buckets, name):
    with pytest.raises(ClientError) as excinfo:
        fh.create_delivery_stream(
            DeliveryStreamName=name, DeliveryStreamType="KinesisStreamAsSource",
            ExtendedS3DestinationConfiguration=s3_config("b"),
        )
    assert error_code(excinfo) == "InvalidArgumentException"
    with pytest.raises(ClientError) as excinfo:
        fh.create_delivery_stream(
            DeliveryStreamName=name, DeliveryStreamType="DirectPut",
            KinesisStreamSourceConfiguration={
                "KinesisStreamARN": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/x", "RoleARN": ROLE_ARN,
            },
            ExtendedS3DestinationConfiguration=s3_config("b"),
        )
    assert error_code(excinfo) == "InvalidArgumentException"


# ---- 12. encryption ----------------------------------------------------------------------------

def test_encryption_start_and_stop(fh, buckets, name):
    create_s3_stream(fh, name, buckets, size_mb=128, interval_s=900)
    assert fh.put_record(DeliveryStreamName=name, Record={"Data": b"x"})["Encrypted"] is False

    started = time.monotonic()
    fh.start_delivery_stream_encryption(
        DeliveryStreamName=name, DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"}
    )
    status = describe(fh, name)["DeliveryStreamEncryptionConfiguration"]["Status"]
    assert status == "ENABLING", f"{status} {time.monotonic() - started:.3f}s after Start"
    enabled = wait_encryption(fh, name, "ENABLED")
    assert enabled["KeyType"] == "AWS_OWNED_CMK"
    assert fh.put_record(DeliveryStreamName=name, Record={"Data": b"x"})["Encrypted"] is True
    batch = fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"y"}])
    assert batch["Encrypted"] is True

    started = time.monotonic()
    fh.stop_delivery_stream_encryption(DeliveryStreamName=name)
    status = describe(fh, name)["DeliveryStreamEncryptionConfiguration"]["Status"]
    assert status == "DISABLING", f"{status} {time.monotonic() - started:.3f}s after Stop"
    wait_encryption(fh, name, "DISABLED")
    assert fh.put_record(DeliveryStreamName=name, Record={"Data": b"x"})["Encrypted"] is False

    with pytest.raises(ClientError) as excinfo:
        fh.start_delivery_stream_encryption(
            DeliveryStreamName=name,
            DeliveryStreamEncryptionConfigurationInput={"KeyType": "CUSTOMER_MANAGED_CMK"},
        )
    assert error_code(excinfo) == "InvalidArgumentException"


# ---- 13. tags ------------------------------------------------------------------------------

def test_tags(fh, raw_fh, buckets, name):
    bucket = unique("bkt")
    (buckets / bucket).mkdir()
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration=s3_config(bucket),
        Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    )
    wait_status(fh, name)
    listed = fh.list_tags_for_delivery_stream(DeliveryStreamName=name)
    assert listed["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    assert listed["HasMoreTags"] is False

    fh.tag_delivery_stream(DeliveryStreamName=name, Tags=[{"Key": "b", "Value": "22"}, {"Key": "c", "Value": "3"}])
    listed = fh.list_tags_for_delivery_stream(DeliveryStreamName=name)
    assert listed["Tags"] == [
        {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "22"}, {"Key": "c", "Value": "3"},
    ]
    page = fh.list_tags_for_delivery_stream(DeliveryStreamName=name, Limit=2)
    assert page["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "22"}]
    assert page["HasMoreTags"] is True
    page = fh.list_tags_for_delivery_stream(DeliveryStreamName=name, Limit=2, ExclusiveStartTagKey="b")
    assert page["Tags"] == [{"Key": "c", "Value": "3"}]
    assert page["HasMoreTags"] is False

    fh.untag_delivery_stream(DeliveryStreamName=name, TagKeys=["a", "not-there"])
    listed = fh.list_tags_for_delivery_stream(DeliveryStreamName=name)
    assert listed["Tags"] == [{"Key": "b", "Value": "22"}, {"Key": "c", "Value": "3"}]

    # 51 tags in one request: a model constraint.
    with pytest.raises(ClientError) as excinfo:
        raw_fh.tag_delivery_stream(
            DeliveryStreamName=name, Tags=[{"Key": f"k{i:02d}", "Value": "v"} for i in range(51)]
        )
    assert error_code(excinfo) == "ValidationException"
    # 49 new + 2 existing = 51 on the stream: over the quota.
    with pytest.raises(ClientError) as excinfo:
        fh.tag_delivery_stream(
            DeliveryStreamName=name, Tags=[{"Key": f"k{i:02d}", "Value": "v"} for i in range(49)]
        )
    assert error_code(excinfo) == "LimitExceededException"
    assert len(fh.list_tags_for_delivery_stream(DeliveryStreamName=name)["Tags"]) == 2
    # 48 new + 2 existing = 50: allowed.
    fh.tag_delivery_stream(
        DeliveryStreamName=name, Tags=[{"Key": f"k{i:02d}", "Value": "v"} for i in range(48)]
    )
    listed = fh.list_tags_for_delivery_stream(DeliveryStreamName=name, Limit=50)
    assert len(listed["Tags"]) == 50
    assert listed["HasMoreTags"] is False

    with pytest.raises(ClientError) as excinfo:
        fh.tag_delivery_stream(DeliveryStreamName=name, Tags=[{"Key": "aws:reserved", "Value": "v"}])
    assert error_code(excinfo) in ("InvalidArgumentException", "ValidationException")
    with pytest.raises(ClientError) as excinfo:
        fh.list_tags_for_delivery_stream(DeliveryStreamName=unique("missing"))
    assert error_code(excinfo) == "ResourceNotFoundException"


# ---- 14. durability across SIGKILL -------------------------------------------------------------

def test_acknowledged_records_survive_sigkill(tmp_path):
    data, s3 = tmp_path / "data", tmp_path / "buckets"
    name, bucket = "durable", "durable-bucket"
    (s3 / bucket).mkdir(parents=True)
    rheo = Rheo(data, *FIREHOSE_FLAGS, "--s3-dir", str(s3)).start()
    records = [f"rec-{i:04d}\n".encode() for i in range(1000)]
    try:
        fh = client(rheo.endpoint)
        fh.create_delivery_stream(
            DeliveryStreamName=name,
            ExtendedS3DestinationConfiguration=s3_config(bucket, size_mb=128, interval_s=900),
        )
        wait_status(fh, name)
        for start in range(0, 1000, 250):
            response = fh.put_record_batch(
                DeliveryStreamName=name, Records=[{"Data": r} for r in records[start:start + 250]]
            )
            assert response["FailedPutCount"] == 0
        time.sleep(0.5)
        assert read_objects(s3 / bucket) == {}
    finally:
        rheo.kill()

    rheo = Rheo(data, *FIREHOSE_FLAGS, "--s3-dir", str(s3)).start()
    try:
        fh = client(rheo.endpoint)
        description = wait_status(fh, name)
        fh.update_destination(
            DeliveryStreamName=name,
            CurrentDeliveryStreamVersionId=description["VersionId"],
            DestinationId=description["Destinations"][0]["DestinationId"],
            ExtendedS3DestinationUpdate={"BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1}},
        )
        objects = wait_for_bytes(s3 / bucket, len(b"".join(records)), timeout_s=20)
        delivered = []
        chunks = []
        for key, body in objects.items():
            assert key_regex("", name, version=int(description["VersionId"]) + 1).match(key) or \
                key_regex("", name, version=int(description["VersionId"])).match(key), key
            lines = body.splitlines(keepends=True)
            assert lines == sorted(lines), f"records out of order in {key}"
            chunks.append(lines)
            delivered.extend(lines)
        assert sorted(delivered) == records, "records lost or duplicated"
        # Objects are contiguous runs of the sequence: order preserved end to end.
        assert [line for chunk in sorted(chunks) for line in chunk] == records
    finally:
        rheo.stop()


# ---- 15. the aws CLI -------------------------------------------------------------------------

def aws_cli(server, *args):
    env = dict(os.environ)
    env.pop("AWS_PROFILE", None)
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "aws"), "--endpoint-url", server.endpoint, "--region", "us-east-1",
         "--output", "json", "firehose", *args],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


def test_aws_cli(server, buckets, name):
    bucket = unique("bkt")
    (buckets / bucket).mkdir()
    created = aws_cli(
        server, "create-delivery-stream", "--delivery-stream-name", name,
        "--extended-s3-destination-configuration", json.dumps(s3_config(bucket, Prefix="cli/")),
    )
    assert created["DeliveryStreamARN"] == stream_arn(name)
    deadline = time.monotonic() + 10
    while True:
        description = aws_cli(server, "describe-delivery-stream", "--delivery-stream-name", name)
        status = description["DeliveryStreamDescription"]["DeliveryStreamStatus"]
        if status == "ACTIVE":
            break
        assert status == "CREATING" and time.monotonic() < deadline, status
        time.sleep(0.1)
    destination = description["DeliveryStreamDescription"]["Destinations"][0]
    assert destination["ExtendedS3DestinationDescription"]["Prefix"] == "cli/"
    # awscli v1 sends a blob argument's text as the bytes (base64-encoding them on the wire).
    put = aws_cli(server, "put-record", "--delivery-stream-name", name, "--record", '{"Data":"hello cli"}')
    assert put["RecordId"] and put["Encrypted"] is False
    listed = aws_cli(server, "list-delivery-streams", "--limit", "10000")
    assert name in listed["DeliveryStreamNames"]
    objects = wait_objects(buckets / bucket)
    (key,) = objects
    assert key_regex("cli/", name).match(key), key
    assert objects[key] == b"hello cli"


def test_kinesis_source_follows_resharding(server, fh, buckets, name):
    """Records before a split (parent shard) and after it (children) are all delivered."""
    kinesis, source, source_arn, bucket = kinesis_source(server, buckets)
    create_kinesis_sourced(fh, name, source_arn, bucket)
    kinesis.put_records(
        StreamName=source, Records=[{"Data": f"a-{i}".encode(), "PartitionKey": f"k{i}"} for i in range(5)]
    )
    shard = kinesis.list_shards(StreamName=source)["Shards"][0]
    kinesis.split_shard(
        StreamName=source, ShardToSplit=shard["ShardId"], NewStartingHashKey=str(2**127)
    )
    deadline = time.monotonic() + 10
    while kinesis.describe_stream_summary(StreamName=source)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "stream did not become ACTIVE after the split"
        time.sleep(0.05)
    kinesis.put_records(
        StreamName=source, Records=[{"Data": f"b-{i}".encode(), "PartitionKey": f"k{i}"} for i in range(5)]
    )
    expected = sorted([f"a-{i}".encode() for i in range(5)] + [f"b-{i}".encode() for i in range(5)])
    folder = buckets / bucket
    deadline = time.monotonic() + 20
    lines = []
    while time.monotonic() < deadline and len(lines) < len(expected):
        lines = delivered_lines(read_objects(folder))
        time.sleep(0.2)
    time.sleep(1.5)
    assert sorted(delivered_lines(read_objects(folder))) == expected


def test_failing_destination_does_not_block_others(server, fh, buckets, name):
    """An HTTP endpoint that keeps failing stalls only its own stream: another stream
    delivers, and the Kinesis API answers, while it retries."""
    kinesis = client(server.endpoint, "kinesis")
    with HttpSink([500]) as sink:
        http_stream(fh, name, buckets, sink.url, retry_s=120)
        fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"stuck"}] * 50)
        sink.wait_requests(2, timeout_s=10)

        other = unique("free")
        create_s3_stream(fh, other, buckets, bucket=other)
        started = time.monotonic()
        fh.put_record_batch(DeliveryStreamName=other, Records=[{"Data": b"x"}, {"Data": b"y"}])
        objects = wait_objects(buckets / other, count=1, timeout_s=10)
        assert list(objects.values()) == [b"xy"]
        assert time.monotonic() - started < 10
        kinesis.list_streams()
        # Still retrying, still nothing delivered.
        assert all(r["headers"]["x-amz-firehose-request-id"] == sink.requests[0]["headers"]["x-amz-firehose-request-id"] for r in sink.requests)
        # Deleting the stuck stream does not wait for its retry duration.
        fh.delete_delivery_stream(DeliveryStreamName=name)
        wait_gone(fh, name)


def test_s3_backup_gets_source_records_and_metrics_count_them(server, fh, buckets, name):
    """S3BackupMode Enabled: the destination gets processed records, the backup bucket the
    records as they came; /metrics counts them per delivery stream."""
    import urllib.request

    main, backup = unique("main"), unique("backup")
    for bucket in (main, backup):
        (buckets / bucket).mkdir()
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration=s3_config(
            main,
            ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]},
            S3BackupMode="Enabled",
            S3BackupConfiguration={"RoleARN": ROLE_ARN, "BucketARN": bucket_arn(backup), "Prefix": "source/"},
        ),
    )
    wait_status(fh, name)
    fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"a"}, {"Data": b"b"}])
    assert list(wait_objects(buckets / main).values()) == [b"a\nb\n"]
    backups = wait_objects(buckets / backup)
    assert list(backups.values()) == [b"ab"]
    assert all(key.startswith("source/") for key in backups)

    metrics = urllib.request.urlopen(f"{server.endpoint}/metrics").read().decode()
    def metric(family):
        line = f'{family}{{delivery_stream="{name}"}} '
        values = [l[len(line):] for l in metrics.splitlines() if l.startswith(line)]
        assert len(values) == 1, (family, metrics[:2000])
        return float(values[0])
    assert metric("rheo_firehose_incoming_records_total") == 2
    assert metric("rheo_firehose_incoming_bytes_total") == 2
    assert metric("rheo_firehose_delivered_records_total") == 2
    assert metric("rheo_firehose_delivered_objects_total") >= 1
    assert metric("rheo_firehose_data_freshness_seconds") == 0


def test_records_without_a_prefix_partition_key_go_to_the_error_output(fh, buckets, name):
    """The prefix names a key the query does not extract: the record cannot have an object
    key, so it is written to the error output rather than lost."""
    folder, _ = create_s3_stream(
        fh, name, buckets, size_mb=64, interval_s=1,
        Prefix="a=!{partitionKeyFromQuery:a}/b=!{partitionKeyFromQuery:b}/",
        ErrorOutputPrefix="errors/!{firehose:error-output-type}/",
        DynamicPartitioningConfiguration={"Enabled": True},
        ProcessingConfiguration={
            "Enabled": True,
            "Processors": [{
                "Type": "MetadataExtraction",
                "Parameters": [
                    {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{a:.a}"},
                    {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                ],
            }],
        },
    )
    fh.put_record(DeliveryStreamName=name, Record={"Data": b'{"a":"x"}'})
    objects = wait_objects(folder, count=1, timeout_s=20)
    (bad,) = objects
    assert bad.startswith("errors/processing-failed/"), bad
    documents = [json.loads(line) for line in objects[bad].decode().splitlines() if line.strip()]
    assert [base64.b64decode(d["rawData"]) for d in documents] == [b'{"a":"x"}']
    assert documents[0]["errorCode"] == "DynamicPartitioning.PartitionKeyMissing"


# ---- --firehose-default-buffer-interval-ms ------------------------------------------------

def test_default_buffer_interval_flag(tmp_path):
    """A stream created without BufferingHints waits the server's shortened default, while
    DescribeDeliveryStream shows AWS's default 300 s; a stream given hints waits what it asked."""
    buckets = tmp_path / "buckets"
    buckets.mkdir()
    rheo = Rheo(tmp_path / "data", *FIREHOSE_FLAGS, "--s3-dir", str(buckets),
                "--firehose-default-buffer-interval-ms", "1000").start()
    try:
        fh = client(rheo.endpoint)
        for bucket in ("fast", "slow"):
            (buckets / bucket).mkdir()
        fh.create_delivery_stream(
            DeliveryStreamName="defaulted",
            ExtendedS3DestinationConfiguration={"RoleARN": ROLE_ARN, "BucketARN": bucket_arn("fast")},
        )
        fh.create_delivery_stream(
            DeliveryStreamName="hinted",
            ExtendedS3DestinationConfiguration=s3_config("slow", size_mb=5, interval_s=300),
        )
        for name in ("defaulted", "hinted"):
            wait_status(fh, name)
        hints = describe(fh, "defaulted")["Destinations"][0]["ExtendedS3DestinationDescription"]["BufferingHints"]
        assert hints == {"SizeInMBs": 5, "IntervalInSeconds": 300}
        for name in ("defaulted", "hinted"):
            fh.put_record(DeliveryStreamName=name, Record={"Data": b"soon"})
        objects = wait_objects(buckets / "fast", timeout_s=10)
        assert list(objects.values()) == [b"soon"]
        assert read_objects(buckets / "slow") == {}
    finally:
        rheo.stop()
