"""Memory the server holds after many SubscribeToShard subscribers disconnect.

Usage: .venv/bin/python bench/subscriber-memory.py http://127.0.0.1:4567 <server pid>
against a fresh `rheo serve` (started with --consumer-ms 10 --create-stream-ms 10).
Fills a 10-shard stream with 100 MB, opens 200 slow subscriptions (20 consumers x 10
shards) from TRIM_HORIZON, lets them disconnect, then prints the server RSS every 5 s.
Run 2026-12-06 (debug build): peak 997 MiB, 35 MiB right after the disconnects with the
periodic malloc_trim; 795 MiB held for 30 s without it.
"""
import boto3, threading, time, sys, os
ep = sys.argv[1]; pid = int(sys.argv[2])
c = boto3.client("kinesis", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"): return int(line.split()[1])//1024
c.create_stream(StreamName="m", ShardCount=10)
while c.describe_stream_summary(StreamName="m")["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE": time.sleep(0.1)
arn = c.describe_stream_summary(StreamName="m")["StreamDescriptionSummary"]["StreamARN"]
blob = os.urandom(100_000)
for i in range(100):
    c.put_records(StreamName="m", Records=[{"Data": blob, "PartitionKey": str(j)} for j in range(10)])
cons = [c.register_stream_consumer(StreamARN=arn, ConsumerName=f"c{k}")["Consumer"]["ConsumerARN"] for k in range(20)]
time.sleep(1)
print("after fill", rss(), "MiB", flush=True)
def sub(consumer, shard):
    cl = boto3.client("kinesis", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    r = cl.subscribe_to_shard(ConsumerARN=consumer, ShardId=f"shardId-{shard:012d}", StartingPosition={"Type": "TRIM_HORIZON"})
    n = 0
    for ev in r["EventStream"]:
        n += 1
        time.sleep(0.3)  # slow reader: the server's queue fills
        if n >= 6: break
    r["EventStream"].close() if hasattr(r["EventStream"], "close") else None
ts = [threading.Thread(target=sub, args=(cons[k], s)) for k in range(20) for s in range(10)]
for t in ts: t.start()
peak = 0
while any(t.is_alive() for t in ts):
    peak = max(peak, rss()); time.sleep(0.2)
print("peak", peak, "MiB", flush=True)
for s in range(0, 31, 5):
    print(f"{s}s after disconnect", rss(), "MiB", flush=True); time.sleep(5)
