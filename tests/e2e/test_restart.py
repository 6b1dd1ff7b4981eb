"""Durability across a crash: everything acknowledged before SIGKILL is read back, in
order, after a restart on the same data folder, and iterators stay valid."""

from conftest import Rheo, create_active, read_shard


def test_acknowledged_records_survive_sigkill(tmp_path):
    server = Rheo(tmp_path / "data").start()
    try:
        client = server.client()
        create_active(client, "durable", shards=2)
        acknowledged = {}
        for batch in range(5):
            entries = [{"Data": f"{batch}-{i}".encode(), "PartitionKey": f"k{i}"} for i in range(50)]
            response = client.put_records(StreamName="durable", Records=entries)
            assert response["FailedRecordCount"] == 0
            for entry, result in zip(entries, response["Records"]):
                acknowledged.setdefault(result["ShardId"], []).append((result["SequenceNumber"], entry["Data"]))
        single = client.put_record(StreamName="durable", Data=b"last", PartitionKey="z")
        acknowledged[single["ShardId"]].append((single["SequenceNumber"], b"last"))
        iterator = client.get_shard_iterator(
            StreamName="durable", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
    finally:
        server.kill()

    restarted = Rheo(tmp_path / "data").start()
    try:
        client = restarted.client()
        assert client.describe_stream_summary(StreamName="durable")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
        for shard_id, expected in acknowledged.items():
            records, _ = read_shard(client, "durable", shard_id)
            assert [(r["SequenceNumber"], r["Data"]) for r in records] == expected
        # An iterator issued before the crash still reads.
        assert client.get_records(ShardIterator=iterator)["Records"]
        # New writes continue after the recovered ones.
        after = client.put_record(StreamName="durable", Data=b"after", PartitionKey="z")
        assert int(after["SequenceNumber"]) > int(single["SequenceNumber"])
    finally:
        restarted.stop()
    assert restarted.process.returncode == 0


def test_metrics_show_the_durable_logs_syncs_and_segments(tmp_path):
    """A durable put is synced before it is acknowledged, and /metrics says so: the
    sync latency histogram counts it and the segment gauges see the file it went to."""
    import urllib.request

    def metric(text, name):
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        raise AssertionError(f"{name} missing from:\n{text}")

    server = Rheo(tmp_path / "data").start()
    try:
        client = server.client()
        create_active(client, "m")
        scrape = lambda: urllib.request.urlopen(f"{server.endpoint}/metrics").read().decode()
        before = scrape()
        client.put_records(StreamName="m", Records=[{"Data": b"x" * 100, "PartitionKey": str(i)} for i in range(3)])
        after = scrape()
        streams = '{log="streams"}'
        assert metric(after, f"rheo_log_records_appended_total{streams}") - metric(before, f"rheo_log_records_appended_total{streams}") == 3
        synced = metric(after, f"rheo_log_sync_duration_seconds_count{streams}") - metric(before, f"rheo_log_sync_duration_seconds_count{streams}")
        assert synced >= 1
        assert metric(after, f'rheo_log_sync_duration_seconds_bucket{{log="streams",le="+Inf"}}') == metric(after, f"rheo_log_sync_duration_seconds_count{streams}")
        assert metric(after, f"rheo_log_segments{streams}") >= 1
        # The streams' log only: Firehose, the channels, the queues and Analytics keep logs of their own.
        on_disk = sum(p.stat().st_size for p in (tmp_path / "data").rglob("*.seg")
                      if not {"firehose", "channels", "queues", "analytics"} & set(p.parts))
        assert metric(after, f"rheo_log_segment_bytes{streams}") == on_disk
        assert metric(after, f"rheo_log_writes_stopped{streams}") == 0
    finally:
        server.stop()
