// Enhanced fan-out with @aws-sdk/client-kinesis: SubscribeToShard over the client's default handler
// (NodeHttp2Handler: HTTP/2 with prior knowledge on http://) and over NodeHttpHandler (HTTP/1.1).
// The server runs with a short subscription lifetime and heartbeat period, so a test sees idle
// events and the end of a subscription in seconds. Expectations: kinesis-api.md §4.
//
//   RHEO_BIN=/path/to/rheo node --test efo.test.mjs      (or: tests/e2e/js/run.sh efo.test.mjs)

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  RegisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  DeregisterStreamConsumerCommand,
  PutRecordsCommand,
  SplitShardCommand,
  SubscribeToShardCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { startServer } from "./lib/server.mjs";

const LIFETIME_MS = 3000;
const HEARTBEAT_MS = 250;
const MIDDLE = 1n << 127n;
const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitActive(kin, StreamName) {
  for (let i = 0; i < 600; i++) {
    const { StreamDescriptionSummary: s } = await kin.send(new DescribeStreamSummaryCommand({ StreamName }));
    if (s.StreamStatus === "ACTIVE") return s;
    await sleep(50);
  }
  throw new Error(`${StreamName} did not become ACTIVE`);
}

async function streamWithConsumer(kin, StreamName) {
  await kin.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
  const { StreamARN } = await waitActive(kin, StreamName);
  const { Consumer } = await kin.send(new RegisterStreamConsumerCommand({ StreamARN, ConsumerName: "reader" }));
  assert.equal(Consumer.ConsumerStatus, "CREATING");
  for (let i = 0; i < 600; i++) {
    const { ConsumerDescription } = await kin.send(new DescribeStreamConsumerCommand({ ConsumerARN: Consumer.ConsumerARN }));
    if (ConsumerDescription.ConsumerStatus === "ACTIVE") return Consumer.ConsumerARN;
    await sleep(50);
  }
  throw new Error("the consumer did not become ACTIVE");
}

async function put(kin, StreamName, items) {
  const out = await kin.send(new PutRecordsCommand({
    StreamName,
    Records: items.map(([key, data]) => ({ PartitionKey: "pk", ExplicitHashKey: key.toString(), Data: enc.encode(data) })),
  }));
  assert.equal(out.FailedRecordCount, 0);
  return out.Records.map((r) => r.SequenceNumber);
}

async function subscribe(kin, ConsumerARN, ShardId, StartingPosition = { Type: "TRIM_HORIZON" }) {
  const out = await kin.send(new SubscribeToShardCommand({ ConsumerARN, ShardId, StartingPosition }));
  return out.EventStream[Symbol.asyncIterator]();
}

/** The next SubscribeToShardEvent within 5 s, or null at the end of the stream. */
async function next(events) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("no event within 5 s")), 5000);
  });
  try {
    const { value, done } = await Promise.race([events.next(), timeout]);
    if (done) return null;
    assert.ok(value.SubscribeToShardEvent, `unexpected event ${JSON.stringify(Object.keys(value))}`);
    return value.SubscribeToShardEvent;
  } finally {
    clearTimeout(timer);
  }
}

// The shard-end event of a closed shard (the one with its children), skipping the idle
// events sent while the stream was UPDATING: a split takes effect when the stream is
// ACTIVE again (issue 14, item 8).
async function shardEnd(events) {
  for (;;) {
    const event = await next(events);
    if (!event || event.Records.length > 0 || event.ChildShards) return event;
  }
}

async function read(events, count) {
  const records = [];
  while (records.length < count) {
    const event = await next(events);
    assert.ok(event, "the stream ended early");
    assert.equal(event.MillisBehindLatest, 0);
    records.push(...event.Records);
    // A resume point after the last record, never a record's own number (issue 14, item 11).
    if (event.Records.length > 0) assert.ok(BigInt(event.ContinuationSequenceNumber) > BigInt(event.Records.at(-1).SequenceNumber));
  }
  assert.equal(records.length, count);
  return records;
}

for (const mode of ["h2", "h1"]) {
  const label = mode === "h2" ? "HTTP/2 (h2c, default handler)" : "HTTP/1.1 (NodeHttpHandler)";
  describe(`SubscribeToShard with @aws-sdk/client-kinesis over ${label}`, { timeout: 120_000 }, () => {
    let server;
    let kin;
    before(async () => {
      server = await startServer({
        extraArgs: ["--consumer-ms", "100", "--subscription-lifetime-ms", `${LIFETIME_MS}`, "--subscription-heartbeat-ms", `${HEARTBEAT_MS}`],
      });
      kin = new KinesisClient({
        endpoint: server.endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret" },
        maxAttempts: 1,
        ...(mode === "h1" ? { requestHandler: new NodeHttpHandler() } : {}),
      });
    });

    after(async () => {
      kin?.destroy();
      await server?.stop();
    });

    test("records in order across a split, idle events, and the end after the lifetime", async () => {
      const StreamName = `js-efo-${mode}-${Date.now()}`;
      const consumer = await streamWithConsumer(kin, StreamName);
      const before = [0, 1, 2, 3, 4, 5].map((i) => [i % 2 === 0 ? 1n : MIDDLE + 1n, `before-${i}`]);
      const written = await put(kin, StreamName, before);

      const parent = await subscribe(kin, consumer, "shardId-000000000000");
      const records = await read(parent, 6);
      assert.deepEqual(records.map((r) => dec.decode(r.Data)), before.map(([, d]) => d));
      assert.deepEqual(records.map((r) => r.SequenceNumber), written);
      assert.ok(records.every((r) => r.PartitionKey === "pk" && r.ApproximateArrivalTimestamp instanceof Date));

      await kin.send(new SplitShardCommand({ StreamName, ShardToSplit: "shardId-000000000000", NewStartingHashKey: MIDDLE.toString() }));
      const end = await shardEnd(parent);
      assert.deepEqual(end.Records, []);
      assert.equal(end.ContinuationSequenceNumber, undefined);
      const children = end.ChildShards.map((c) => c.ShardId);
      assert.deepEqual(children, ["shardId-000000000001", "shardId-000000000002"]);
      assert.deepEqual(end.ChildShards[0].ParentShards, ["shardId-000000000000"]);
      assert.equal(await next(parent), null, "the parent's stream ends after ChildShards");

      const low = await subscribe(kin, consumer, children[0]);
      const high = await subscribe(kin, consumer, children[1]);
      const started = Date.now();
      const after = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i % 2 === 0 ? 1n : MIDDLE + 1n, `after-${i}`]);
      await put(kin, StreamName, after);
      const expect = (parity) => after.filter((_, i) => i % 2 === parity).map(([, d]) => d);
      assert.deepEqual((await read(low, 4)).map((r) => dec.decode(r.Data)), expect(0));
      assert.deepEqual((await read(high, 4)).map((r) => dec.decode(r.Data)), expect(1));

      let idle = 0;
      for (let event = await next(low); event !== null; event = await next(low)) {
        assert.deepEqual(event.Records, []);
        assert.ok(event.ContinuationSequenceNumber);
        idle += 1;
      }
      const lasted = Date.now() - started;
      assert.ok(idle >= 4, `${idle} idle events`);
      assert.ok(lasted >= LIFETIME_MS - 500 && lasted < LIFETIME_MS + 3000, `lasted ${lasted} ms`);
      // Drain the other child's stream too, so no subscription outlives the test.
      while ((await next(high)) !== null);
    });

    test("errors before and during the stream", async () => {
      const StreamName = `js-efo-errors-${mode}-${Date.now()}`;
      const consumer = await streamWithConsumer(kin, StreamName);
      const call = (ConsumerARN, ShardId, StartingPosition = { Type: "LATEST" }) =>
        kin.send(new SubscribeToShardCommand({ ConsumerARN, ShardId, StartingPosition }));
      await assert.rejects(call(consumer.replace("consumer/reader:", "consumer/nobody:"), "shardId-000000000000"), {
        name: "ResourceNotFoundException",
      });
      await assert.rejects(call(consumer, "shardId-000000000042"), { name: "ResourceNotFoundException" });
      await assert.rejects(call(consumer, "shardId-000000000000", { Type: "AFTER_SEQUENCE_NUMBER" }), {
        name: "InvalidArgumentException",
      });
      const open = await subscribe(kin, consumer, "shardId-000000000000", { Type: "LATEST" });
      await assert.rejects(call(consumer, "shardId-000000000000"), { name: "ResourceInUseException" });
      await kin.send(new DeregisterStreamConsumerCommand({ ConsumerARN: consumer }));
      await assert.rejects(
        (async () => {
          while ((await next(open)) !== null);
        })(),
        { name: "ResourceNotFoundException" },
      );
    });
  });
}
