// The end-to-end suite run by h2.test.mjs (default handler: HTTP/2 h2c prior knowledge) and
// h1.test.mjs (NodeHttpHandler: HTTP/1.1). Every expectation is AWS's documented or recorded
// behaviour (shared docs: kinesis-api.md §1.4, §2.4, §3), not whatever the server happens to do.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  SplitShardCommand,
  MergeShardsCommand,
  AddTagsToStreamCommand,
  ListTagsForStreamCommand,
  RemoveTagsFromStreamCommand,
  DeleteStreamCommand,
  waitUntilStreamExists,
  waitUntilStreamNotExists,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { startServer } from "./server.mjs";

export const ACCOUNT = "000000000000";
export const REGION = "us-east-1";
const MAX_HASH = (1n << 128n) - 1n;
const SEQ_PATTERN = /^(0|[1-9]\d{0,128})$/;
const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function hashOf(partitionKey) {
  return BigInt("0x" + createHash("md5").update(partitionKey, "utf8").digest("hex"));
}

/** AWS's initial split of the hash space into `count` shards (kinesis-api.md §3.2). */
export function initialRanges(count) {
  const step = (1n << 128n) / BigInt(count);
  return Array.from({ length: count }, (_, i) => ({
    StartingHashKey: (step * BigInt(i)).toString(),
    EndingHashKey: (i === count - 1 ? MAX_HASH : step * BigInt(i + 1) - 1n).toString(),
  }));
}

function shardFor(shards, hash) {
  const open = shards.filter((s) => !s.SequenceNumberRange.EndingSequenceNumber);
  const hit = open.find((s) => BigInt(s.HashKeyRange.StartingHashKey) <= hash && hash <= BigInt(s.HashKeyRange.EndingHashKey));
  assert.ok(hit, `no open shard covers hash ${hash}`);
  return hit.ShardId;
}

const bySeq = (a, b) => (BigInt(a.SequenceNumber) < BigInt(b.SequenceNumber) ? -1 : 1);

/** Asserts that `promise` rejects with exactly this AWS error code and message (string or RegExp). */
async function expectAwsError(promise, code, message) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected ${code}, but the call succeeded`);
  assert.equal(error.name, code, `error code (message was: ${error.message})`);
  if (message instanceof RegExp) assert.match(error.message, message);
  else assert.equal(error.message, message);
  assert.equal(error.$metadata?.httpStatusCode, 400, "HTTP status");
  return error;
}

/**
 * Reads a shard from `iterator` until the tip of an open shard (empty batch, MillisBehindLatest 0)
 * or the end of a closed one (no NextShardIterator).
 */
async function readShard(kin, iterator) {
  const records = [];
  let it = iterator;
  for (let call = 0; call < 200; call++) {
    const out = await kin.send(new GetRecordsCommand({ ShardIterator: it }));
    assert.ok(Array.isArray(out.Records), "Records is a list");
    records.push(...out.Records);
    if (!out.NextShardIterator) return { records, closed: true, childShards: out.ChildShards ?? [], last: out };
    assert.ok(
      !out.ChildShards || out.ChildShards.length === 0,
      "ChildShards must only come with the end of a closed shard",
    );
    it = out.NextShardIterator;
    if (out.Records.length === 0 && out.MillisBehindLatest === 0) return { records, closed: false, next: it, last: out };
  }
  throw new Error("GetRecords never reached the tip of the shard");
}

async function iterator(kin, params) {
  const out = await kin.send(new GetShardIteratorCommand(params));
  assert.equal(typeof out.ShardIterator, "string");
  assert.ok(out.ShardIterator.length >= 1 && out.ShardIterator.length <= 512, "iterator length 1..512");
  return out.ShardIterator;
}

async function waitActive(kin, StreamName) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { StreamDescriptionSummary: s } = await kin.send(new DescribeStreamSummaryCommand({ StreamName }));
    if (s.StreamStatus === "ACTIVE") return s;
    await sleep(50);
  }
  throw new Error(`${StreamName} did not become ACTIVE`);
}

function simplify(records) {
  return records.map((r) => ({ SequenceNumber: r.SequenceNumber, PartitionKey: r.PartitionKey, Data: dec.decode(r.Data) }));
}

function assertArrivalRecent(record) {
  const ts = record.ApproximateArrivalTimestamp;
  assert.ok(ts instanceof Date, "ApproximateArrivalTimestamp is a Date");
  assert.ok(Math.abs(Date.now() - ts.getTime()) < 60_000, `ApproximateArrivalTimestamp ${ts.toISOString()} within a minute of now`);
}

/**
 * @param {"h2"|"h1"} mode  h2 = the client's default handler (NodeHttp2Handler, h2c prior knowledge);
 *                          h1 = NodeHttpHandler (HTTP/1.1).
 */
export function defineSuite(mode) {
  const label = mode === "h2" ? "HTTP/2 (h2c, default handler)" : "HTTP/1.1 (NodeHttpHandler)";
  const tag = `${mode}-${process.pid}-${Date.now()}`;
  const main = `js-main-${tag}`;
  const reshard = `js-reshard-${tag}`;
  const missing = `js-missing-${tag}`;
  let server;
  let kin;
  /** shardId -> records written, as { SequenceNumber, PartitionKey, Data } */
  const written = new Map();
  let mainShards;

  const remember = (shardId, SequenceNumber, PartitionKey, Data) => {
    if (!written.has(shardId)) written.set(shardId, []);
    written.get(shardId).push({ SequenceNumber, PartitionKey, Data });
  };
  const expectedFor = (shardId) => [...(written.get(shardId) ?? [])].sort(bySeq);

  describe(`rheo with @aws-sdk/client-kinesis over ${label}`, { timeout: 240_000 }, () => {
    before(async () => {
      server = await startServer();
      kin = new KinesisClient({
        endpoint: server.endpoint,
        region: REGION,
        credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret" },
        maxAttempts: 1,
        ...(mode === "h1" ? { requestHandler: new NodeHttpHandler() } : {}),
      });
    });

    after(async () => {
      kin?.destroy();
      await server?.stop();
    });

    test("the client uses the intended transport", async () => {
      const protocol = kin.config.requestHandler.metadata?.handlerProtocol;
      assert.equal(protocol, mode === "h2" ? "h2" : "http/1.1");
      const out = await kin.send(new ListStreamsCommand({}));
      assert.deepEqual(out.StreamNames, []);
      assert.equal(out.HasMoreStreams, false);
      assert.ok(out.$metadata.requestId, "x-amzn-RequestId header");
      assert.ok(out.$metadata.extendedRequestId, "x-amz-id-2 header");
    });

    test("CreateStream, then the StreamExists waiter sees ACTIVE", async () => {
      const created = await kin.send(new CreateStreamCommand({ StreamName: main, ShardCount: 3 }));
      assert.equal(created.$metadata.httpStatusCode, 200);
      const waited = await waitUntilStreamExists({ client: kin, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { StreamName: main });
      assert.equal(waited.state, "SUCCESS");
      await kin.send(new CreateStreamCommand({ StreamName: reshard, ShardCount: 1 }));
      await waitActive(kin, reshard);
    });

    test("DescribeStream, DescribeStreamSummary and ListStreams", async () => {
      const { StreamDescription: d } = await kin.send(new DescribeStreamCommand({ StreamName: main }));
      assert.equal(d.StreamName, main);
      assert.equal(d.StreamARN, `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${main}`);
      assert.equal(d.StreamStatus, "ACTIVE");
      assert.equal(d.HasMoreShards, false);
      assert.equal(d.RetentionPeriodHours, 24);
      assert.equal(d.Shards.length, 3);
      assert.ok(d.StreamCreationTimestamp instanceof Date);
      assert.ok(Math.abs(Date.now() - d.StreamCreationTimestamp.getTime()) < 60_000, "StreamCreationTimestamp is recent");
      assert.deepEqual(d.StreamModeDetails, { StreamMode: "PROVISIONED" });
      assert.equal(d.EncryptionType, "NONE");
      assert.deepEqual(d.EnhancedMonitoring, [{ ShardLevelMetrics: [] }]);

      const { StreamDescriptionSummary: s } = await kin.send(new DescribeStreamSummaryCommand({ StreamName: main }));
      assert.equal(s.StreamName, main);
      assert.equal(s.StreamARN, d.StreamARN);
      assert.equal(s.StreamStatus, "ACTIVE");
      assert.equal(s.OpenShardCount, 3);
      assert.equal(s.RetentionPeriodHours, 24);

      const list = await kin.send(new ListStreamsCommand({}));
      assert.deepEqual([...list.StreamNames].sort(), [main, reshard].sort());
      assert.equal(list.HasMoreStreams, false);
    });

    test("ListShards returns AWS's initial hash-key ranges", async () => {
      const out = await kin.send(new ListShardsCommand({ StreamName: main }));
      mainShards = out.Shards;
      assert.equal(out.NextToken, undefined);
      assert.deepEqual(
        mainShards.map((s) => s.ShardId),
        ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"],
      );
      assert.deepEqual(mainShards.map((s) => s.HashKeyRange), initialRanges(3));
      for (const s of mainShards) {
        assert.match(s.SequenceNumberRange.StartingSequenceNumber, SEQ_PATTERN);
        assert.equal(s.SequenceNumberRange.EndingSequenceNumber, undefined, "open shard has no EndingSequenceNumber");
        assert.equal(s.ParentShardId, undefined);
      }
    });

    test("PutRecord routes by the MD5 of the partition key, or by ExplicitHashKey", async () => {
      for (const pk of ["alpha", "beta", "gamma", "delta"]) {
        const data = `single ${pk}`;
        const out = await kin.send(new PutRecordCommand({ StreamName: main, PartitionKey: pk, Data: enc.encode(data) }));
        assert.equal(out.ShardId, shardFor(mainShards, hashOf(pk)), `shard of ${pk}`);
        assert.match(out.SequenceNumber, SEQ_PATTERN);
        remember(out.ShardId, out.SequenceNumber, pk, data);
      }
      const explicit = BigInt(mainShards[2].HashKeyRange.StartingHashKey).toString();
      const out = await kin.send(
        new PutRecordCommand({ StreamName: main, PartitionKey: "alpha", ExplicitHashKey: explicit, Data: enc.encode("explicit") }),
      );
      assert.equal(out.ShardId, "shardId-000000000002");
      remember(out.ShardId, out.SequenceNumber, "alpha", "explicit");

      // SequenceNumberForOrdering: the next record on the same shard sorts after it.
      const next = await kin.send(
        new PutRecordCommand({
          StreamName: main, PartitionKey: "alpha", ExplicitHashKey: explicit, Data: enc.encode("ordered"),
          SequenceNumberForOrdering: out.SequenceNumber,
        }),
      );
      assert.equal(next.ShardId, "shardId-000000000002");
      assert.ok(BigInt(next.SequenceNumber) > BigInt(out.SequenceNumber), "sequence numbers grow within a shard");
      remember(next.ShardId, next.SequenceNumber, "alpha", "ordered");
    });

    test("PutRecords spreads records over every shard", async () => {
      const entries = Array.from({ length: 90 }, (_, i) => ({ PartitionKey: `key-${i}`, Data: `batch record ${i}` }));
      // One entry with empty data: allowed (Data length 0..).
      entries.push({ PartitionKey: "empty-data", Data: "" });
      const out = await kin.send(
        new PutRecordsCommand({
          StreamName: main,
          Records: entries.map((e) => ({ PartitionKey: e.PartitionKey, Data: enc.encode(e.Data) })),
        }),
      );
      assert.equal(out.FailedRecordCount ?? 0, 0);
      assert.equal(out.Records.length, entries.length, "one result per entry, in request order");
      const seen = new Set();
      out.Records.forEach((r, i) => {
        assert.equal(r.ErrorCode, undefined, `entry ${i} failed: ${r.ErrorMessage}`);
        assert.equal(r.ShardId, shardFor(mainShards, hashOf(entries[i].PartitionKey)), `shard of entry ${i}`);
        assert.match(r.SequenceNumber, SEQ_PATTERN);
        assert.ok(!seen.has(r.SequenceNumber), "sequence numbers are unique");
        seen.add(r.SequenceNumber);
        remember(r.ShardId, r.SequenceNumber, entries[i].PartitionKey, entries[i].Data);
      });
      for (const s of mainShards) assert.ok((written.get(s.ShardId) ?? []).length >= 10, `${s.ShardId} got records`);
    });

    test("many concurrent requests (the default handler opens one HTTP/2 session per request)", async () => {
      const keys = Array.from({ length: 40 }, (_, i) => `concurrent-${i}`);
      const results = await Promise.all(
        keys.map((pk) => kin.send(new PutRecordCommand({ StreamName: main, PartitionKey: pk, Data: enc.encode(`parallel ${pk}`) }))),
      );
      results.forEach((out, i) => {
        assert.equal(out.ShardId, shardFor(mainShards, hashOf(keys[i])), `shard of ${keys[i]}`);
        remember(out.ShardId, out.SequenceNumber, keys[i], `parallel ${keys[i]}`);
      });
      const listings = await Promise.all(Array.from({ length: 20 }, () => kin.send(new ListShardsCommand({ StreamName: main }))));
      for (const l of listings) assert.deepEqual(l.Shards.map((s) => s.ShardId), mainShards.map((s) => s.ShardId));
    });

    test("GetRecords from TRIM_HORIZON returns every record, in sequence order, per shard", async () => {
      for (const s of mainShards) {
        const it = await iterator(kin, { StreamName: main, ShardId: s.ShardId, ShardIteratorType: "TRIM_HORIZON" });
        const got = await readShard(kin, it);
        assert.equal(got.closed, false);
        assert.deepEqual(simplify(got.records), expectedFor(s.ShardId), `records of ${s.ShardId}`);
        got.records.forEach(assertArrivalRecent);
        assert.equal(got.last.MillisBehindLatest, 0);
      }
      // Limit is honoured.
      const shard = mainShards[0].ShardId;
      const it = await iterator(kin, { StreamName: main, ShardId: shard, ShardIteratorType: "TRIM_HORIZON" });
      const out = await kin.send(new GetRecordsCommand({ ShardIterator: it, Limit: 2 }));
      assert.deepEqual(simplify(out.Records), expectedFor(shard).slice(0, 2));
      assert.ok(out.NextShardIterator);
      const rest = await readShard(kin, out.NextShardIterator);
      assert.deepEqual(simplify(rest.records), expectedFor(shard).slice(2));
    });

    test("AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER", async () => {
      const shard = mainShards[1].ShardId;
      const expected = expectedFor(shard);
      assert.ok(expected.length >= 5);
      const pivot = expected[3].SequenceNumber;
      const at = await iterator(kin, {
        StreamName: main, ShardId: shard, ShardIteratorType: "AT_SEQUENCE_NUMBER", StartingSequenceNumber: pivot,
      });
      assert.deepEqual(simplify((await readShard(kin, at)).records), expected.slice(3));
      const afterIt = await iterator(kin, {
        StreamName: main, ShardId: shard, ShardIteratorType: "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber: pivot,
      });
      assert.deepEqual(simplify((await readShard(kin, afterIt)).records), expected.slice(4));
      const last = expected[expected.length - 1].SequenceNumber;
      const afterLast = await iterator(kin, {
        StreamName: main, ShardId: shard, ShardIteratorType: "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber: last,
      });
      assert.deepEqual((await readShard(kin, afterLast)).records, []);
    });

    test("LATEST sees only records written after the iterator was issued", async () => {
      const shard = mainShards[0];
      const it = await iterator(kin, { StreamName: main, ShardId: shard.ShardId, ShardIteratorType: "LATEST" });
      const empty = await kin.send(new GetRecordsCommand({ ShardIterator: it }));
      assert.deepEqual(empty.Records, []);
      assert.ok(empty.NextShardIterator, "a new iterator even when empty");
      const ExplicitHashKey = shard.HashKeyRange.StartingHashKey;
      const put = await kin.send(
        new PutRecordCommand({ StreamName: main, PartitionKey: "latest", ExplicitHashKey, Data: enc.encode("after LATEST") }),
      );
      assert.equal(put.ShardId, shard.ShardId);
      remember(put.ShardId, put.SequenceNumber, "latest", "after LATEST");
      // Both the iterator from before the write and the one GetRecords handed back see it.
      for (const start of [it, empty.NextShardIterator]) {
        const got = await readShard(kin, start);
        assert.deepEqual(simplify(got.records), [{ SequenceNumber: put.SequenceNumber, PartitionKey: "latest", Data: "after LATEST" }]);
      }
    });

    test("AT_TIMESTAMP starts at the first record that arrived at or after the timestamp", async () => {
      const shard = mainShards[2];
      await sleep(50);
      const ts = new Date();
      await sleep(50);
      const ExplicitHashKey = shard.HashKeyRange.EndingHashKey;
      const fresh = [];
      for (let i = 0; i < 3; i++) {
        const data = `after timestamp ${i}`;
        const out = await kin.send(new PutRecordCommand({ StreamName: main, PartitionKey: `ts-${i}`, ExplicitHashKey, Data: enc.encode(data) }));
        assert.equal(out.ShardId, shard.ShardId);
        remember(out.ShardId, out.SequenceNumber, `ts-${i}`, data);
        fresh.push({ SequenceNumber: out.SequenceNumber, PartitionKey: `ts-${i}`, Data: data });
      }
      const it = await iterator(kin, { StreamName: main, ShardId: shard.ShardId, ShardIteratorType: "AT_TIMESTAMP", Timestamp: ts });
      const got = await readShard(kin, it);
      assert.deepEqual(simplify(got.records), fresh);
      for (const r of got.records) {
        assertArrivalRecent(r);
        assert.ok(r.ApproximateArrivalTimestamp.getTime() >= ts.getTime(), "arrived at or after the timestamp");
      }
      // A timestamp before the stream existed starts at the trim horizon.
      const old = await iterator(kin, {
        StreamName: main, ShardId: shard.ShardId, ShardIteratorType: "AT_TIMESTAMP", Timestamp: new Date(Date.now() - 3_600_000),
      });
      assert.deepEqual(simplify((await readShard(kin, old)).records), expectedFor(shard.ShardId));
    });

    test("AddTagsToStream, ListTagsForStream, RemoveTagsFromStream", async () => {
      await kin.send(new AddTagsToStreamCommand({ StreamName: main, Tags: { env: "test", team: "rheo", empty: "" } }));
      await kin.send(new AddTagsToStreamCommand({ StreamName: main, Tags: { env: "e2e" } })); // overwrites
      const out = await kin.send(new ListTagsForStreamCommand({ StreamName: main }));
      assert.equal(out.HasMoreTags, false);
      const tags = Object.fromEntries(out.Tags.map((t) => [t.Key, t.Value ?? ""]));
      assert.deepEqual(tags, { empty: "", env: "e2e", team: "rheo" });
      const page = await kin.send(new ListTagsForStreamCommand({ StreamName: main, Limit: 1 }));
      assert.equal(page.Tags.length, 1);
      assert.equal(page.HasMoreTags, true);
      await kin.send(new RemoveTagsFromStreamCommand({ StreamName: main, TagKeys: ["empty", "no-such-key"] }));
      const remaining = await kin.send(new ListTagsForStreamCommand({ StreamName: main }));
      assert.deepEqual(
        remaining.Tags.map((t) => [t.Key, t.Value]).sort(),
        [["env", "e2e"], ["team", "rheo"]],
      );
    });

    test("SplitShard then MergeShards; readers go from parents to children", async () => {
      const S0 = "shardId-000000000000", S1 = "shardId-000000000001", S2 = "shardId-000000000002", S3 = "shardId-000000000003";
      const half = 1n << 127n;
      const rd = new Map();
      const put = async (pk, data, ExplicitHashKey, expectShard) => {
        const out = await kin.send(new PutRecordCommand({ StreamName: reshard, PartitionKey: pk, Data: enc.encode(data), ExplicitHashKey }));
        assert.equal(out.ShardId, expectShard, `shard of ${data}`);
        if (!rd.has(out.ShardId)) rd.set(out.ShardId, []);
        rd.get(out.ShardId).push({ SequenceNumber: out.SequenceNumber, PartitionKey: pk, Data: data });
      };
      for (let i = 0; i < 5; i++) await put(`a-${i}`, `before split ${i}`, undefined, S0);

      await kin.send(new SplitShardCommand({ StreamName: reshard, ShardToSplit: S0, NewStartingHashKey: half.toString() }));
      await waitActive(kin, reshard);
      let shards = (await kin.send(new ListShardsCommand({ StreamName: reshard }))).Shards;
      assert.deepEqual(shards.map((s) => s.ShardId), [S0, S1, S2]);
      assert.match(shards[0].SequenceNumberRange.EndingSequenceNumber ?? "", SEQ_PATTERN, "split parent is closed");
      assert.deepEqual(shards[1].HashKeyRange, { StartingHashKey: "0", EndingHashKey: (half - 1n).toString() });
      assert.deepEqual(shards[2].HashKeyRange, { StartingHashKey: half.toString(), EndingHashKey: MAX_HASH.toString() });
      for (const child of shards.slice(1)) {
        assert.equal(child.ParentShardId, S0);
        assert.equal(child.AdjacentParentShardId, undefined);
        assert.equal(child.SequenceNumberRange.EndingSequenceNumber, undefined);
      }

      for (let i = 0; i < 3; i++) {
        await put(`lo-${i}`, `low child ${i}`, "1", S1);
        await put(`hi-${i}`, `high child ${i}`, (half + 1n).toString(), S2);
      }
      // Routing by partition key now only reaches the open children.
      const pk = "route-me";
      await put(pk, "routed after split", undefined, hashOf(pk) < half ? S1 : S2);

      await kin.send(new MergeShardsCommand({ StreamName: reshard, ShardToMerge: S1, AdjacentShardToMerge: S2 }));
      await waitActive(kin, reshard);
      shards = (await kin.send(new ListShardsCommand({ StreamName: reshard }))).Shards;
      assert.deepEqual(shards.map((s) => s.ShardId), [S0, S1, S2, S3]);
      for (const closed of shards.slice(0, 3)) assert.ok(closed.SequenceNumberRange.EndingSequenceNumber, `${closed.ShardId} closed`);
      assert.equal(shards[3].ParentShardId, S1);
      assert.equal(shards[3].AdjacentParentShardId, S2);
      assert.deepEqual(shards[3].HashKeyRange, { StartingHashKey: "0", EndingHashKey: MAX_HASH.toString() });
      assert.equal(shards[3].SequenceNumberRange.EndingSequenceNumber, undefined);
      for (let i = 0; i < 3; i++) await put(`m-${i}`, `merged ${i}`, undefined, S3);

      const summary = await kin.send(new DescribeStreamSummaryCommand({ StreamName: reshard }));
      assert.equal(summary.StreamDescriptionSummary.OpenShardCount, 1);

      // Parent of the split: all its records, then the end with both children.
      const p = await readShard(kin, await iterator(kin, { StreamName: reshard, ShardId: S0, ShardIteratorType: "TRIM_HORIZON" }));
      assert.deepEqual(simplify(p.records), rd.get(S0));
      assert.equal(p.closed, true, "NextShardIterator absent at the end of a closed shard");
      assert.deepEqual(
        [...p.childShards].sort((a, b) => a.ShardId.localeCompare(b.ShardId)),
        [
          { ShardId: S1, ParentShards: [S0], HashKeyRange: shards[1].HashKeyRange },
          { ShardId: S2, ParentShards: [S0], HashKeyRange: shards[2].HashKeyRange },
        ],
      );
      // The split children: their records, then the merged child.
      for (const child of [S1, S2]) {
        const c = await readShard(kin, await iterator(kin, { StreamName: reshard, ShardId: child, ShardIteratorType: "TRIM_HORIZON" }));
        assert.deepEqual(simplify(c.records), [...rd.get(child)].sort(bySeq), `records of ${child}`);
        assert.equal(c.closed, true, `${child} is closed`);
        assert.equal(c.childShards.length, 1);
        assert.equal(c.childShards[0].ShardId, S3);
        assert.deepEqual([...c.childShards[0].ParentShards].sort(), [S1, S2]);
        assert.deepEqual(c.childShards[0].HashKeyRange, shards[3].HashKeyRange);
      }
      // The merged child is open.
      const m = await readShard(kin, await iterator(kin, { StreamName: reshard, ShardId: S3, ShardIteratorType: "TRIM_HORIZON" }));
      assert.equal(m.closed, false);
      assert.deepEqual(simplify(m.records), rd.get(S3));

      // AT_SEQUENCE_NUMBER inside a closed parent still reads to its end.
      const s0 = rd.get(S0);
      const mid = await readShard(kin, await iterator(kin, {
        StreamName: reshard, ShardId: S0, ShardIteratorType: "AT_SEQUENCE_NUMBER", StartingSequenceNumber: s0[2].SequenceNumber,
      }));
      assert.deepEqual(simplify(mid.records), s0.slice(2));
      assert.equal(mid.closed, true);
      assert.equal(mid.childShards.length, 2);
    });

    describe("errors carry AWS's exact code and message", () => {
      test("DescribeStream on a missing stream", async () => {
        await expectAwsError(
          kin.send(new DescribeStreamCommand({ StreamName: missing })),
          "ResourceNotFoundException",
          `Stream ${missing} under account ${ACCOUNT} not found.`,
        );
      });

      test("PutRecord to a missing stream", async () => {
        await expectAwsError(
          kin.send(new PutRecordCommand({ StreamName: missing, PartitionKey: "a", Data: enc.encode("x") })),
          "ResourceNotFoundException",
          `Stream ${missing} under account ${ACCOUNT} not found.`,
        );
      });

      test("CreateStream with a name in use", async () => {
        await expectAwsError(
          kin.send(new CreateStreamCommand({ StreamName: main, ShardCount: 1 })),
          "ResourceInUseException",
          `Stream ${main} under account ${ACCOUNT} already exists.`,
        );
      });

      test("GetShardIterator with a shard id the stream does not have", async () => {
        await expectAwsError(
          kin.send(new GetShardIteratorCommand({ StreamName: main, ShardId: "shardId-000000000099", ShardIteratorType: "TRIM_HORIZON" })),
          "ResourceNotFoundException",
          `Shard shardId-000000000099 in stream ${main} under account ${ACCOUNT} does not exist`,
        );
      });

      test("GetShardIterator on a missing stream", async () => {
        await expectAwsError(
          kin.send(new GetShardIteratorCommand({ StreamName: missing, ShardId: "shardId-000000000000", ShardIteratorType: "LATEST" })),
          "ResourceNotFoundException",
          `Shard shardId-000000000000 in stream ${missing} under account ${ACCOUNT} does not exist`,
        );
      });

      test("GetShardIterator AT_SEQUENCE_NUMBER without a sequence number", async () => {
        await expectAwsError(
          kin.send(new GetShardIteratorCommand({ StreamName: main, ShardId: "shardId-000000000000", ShardIteratorType: "AT_SEQUENCE_NUMBER" })),
          "InvalidArgumentException",
          "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or " +
            "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.",
        );
      });

      test("GetShardIterator TRIM_HORIZON with a sequence number", async () => {
        const seq = expectedFor("shardId-000000000000")[0].SequenceNumber;
        await expectAwsError(
          kin.send(new GetShardIteratorCommand({
            StreamName: main, ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON", StartingSequenceNumber: seq,
          })),
          "InvalidArgumentException",
          "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or " +
            "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified TRIM_HORIZON and also a StartingSequenceNumber.",
        );
      });

      test("GetShardIterator AT_TIMESTAMP in the future", async () => {
        const future = new Date(Date.now() + 3_600_000);
        await expectAwsError(
          kin.send(new GetShardIteratorCommand({ StreamName: main, ShardId: "shardId-000000000000", ShardIteratorType: "AT_TIMESTAMP", Timestamp: future })),
          "InvalidArgumentException",
          new RegExp(
            `^The timestampInMillis parameter cannot be greater than the currentTimestampInMillis\\. timestampInMillis: ${future.getTime()}, currentTimestampInMillis: \\d{13}$`,
          ),
        );
      });

      test("GetRecords with an invalid shard iterator", async () => {
        const lookalike = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), randomBytes(160)]).toString("base64");
        for (const bad of [lookalike, "not-a-shard-iterator"]) {
          await expectAwsError(kin.send(new GetRecordsCommand({ ShardIterator: bad })), "InvalidArgumentException", "Invalid ShardIterator.");
        }
      });

      test("PutRecords with 501 records", async () => {
        const Records = Array.from({ length: 501 }, (_, i) => ({ PartitionKey: `k${i}`, Data: enc.encode("x") }));
        const entry = "com\\.amazonaws\\.kinesis\\.v20131202\\.PutRecordsRequestEntry@[0-9a-f]+";
        await expectAwsError(
          kin.send(new PutRecordsCommand({ StreamName: main, Records })),
          "ValidationException",
          new RegExp(
            `^1 validation error detected: Value '\\[${entry}(, ${entry}){500}\\]' at 'records' failed to satisfy constraint: ` +
              "Member must have length less than or equal to 500$",
          ),
        );
      });

      test("SplitShard with a hash key outside the shard", async () => {
        await expectAwsError(
          kin.send(new SplitShardCommand({ StreamName: main, ShardToSplit: "shardId-000000000001", NewStartingHashKey: "0" })),
          "InvalidArgumentException",
          `NewStartingHashKey 0 used in SplitShard() on shard shardId-000000000001 in stream ${main} under account ${ACCOUNT} ` +
            `is not both greater than one plus the shard's StartingHashKey ${mainShards[1].HashKeyRange.StartingHashKey} ` +
            `and less than the shard's EndingHashKey ${mainShards[1].HashKeyRange.EndingHashKey}.`,
        );
      });

      test("SplitShard on a shard that was already split", async () => {
        await expectAwsError(
          kin.send(new SplitShardCommand({ StreamName: reshard, ShardToSplit: "shardId-000000000000", NewStartingHashKey: "12345" })),
          "InvalidArgumentException",
          `Shard shardId-000000000000 in stream ${reshard} under account ${ACCOUNT} has already been merged or split, ` +
            "and thus is not eligible for merging or splitting.",
        );
      });

      test("MergeShards on shards that are not adjacent", async () => {
        await expectAwsError(
          kin.send(new MergeShardsCommand({ StreamName: main, ShardToMerge: "shardId-000000000000", AdjacentShardToMerge: "shardId-000000000002" })),
          "InvalidArgumentException",
          `Shards shardId-000000000000 and shardId-000000000002 in stream ${main} under account ${ACCOUNT} ` +
            "are not an adjacent pair of shards eligible for merging",
        );
      });
    });

    test("DeleteStream, then the stream is gone", async () => {
      for (const StreamName of [main, reshard]) {
        const out = await kin.send(new DeleteStreamCommand({ StreamName }));
        assert.equal(out.$metadata.httpStatusCode, 200);
      }
      for (const StreamName of [main, reshard]) {
        const waited = await waitUntilStreamNotExists({ client: kin, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { StreamName });
        assert.equal(waited.state, "SUCCESS");
      }
      await expectAwsError(
        kin.send(new DescribeStreamSummaryCommand({ StreamName: main })),
        "ResourceNotFoundException",
        `Stream ${main} under account ${ACCOUNT} not found.`,
      );
      const list = await kin.send(new ListStreamsCommand({}));
      assert.deepEqual(list.StreamNames, []);
    });
  });
}
