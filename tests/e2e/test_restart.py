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
