// SigV4 verification seen through @aws-sdk/client-kinesis: `rheo serve --auth sigv4 --credentials
// FILE` accepts requests signed with a principal's key (over HTTP/2, the client's default handler,
// and over HTTP/1.1) and refuses, with AWS's error types, a wrong secret, an unknown access key, a
// signature 16 minutes old or ahead, a body or a signed header changed after signing, and temporary
// credentials sent without their session token.
//
// The SDK corrects clock skew by itself: a refusal's Date header moves the client's
// systemClockOffset, and a retry is then signed with the server's time. `maxAttempts: 1` keeps that
// retry from happening, so each test sees the server's first answer; one test shows the correction
// working against Rheo (the same client's next call succeeds).
//
//   RHEO_BIN=/path/to/rheo tests/e2e/js/run.sh auth.test.mjs

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
  ListShardsCommand,
  PutRecordCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { startServer } from "./lib/server.mjs";

const REGION = "us-east-1";
const ALICE = { accessKeyId: "AKIARHEOE2EALICE0001", secretAccessKey: "alice/e2e/secret+K7wq9ZpXr2vT5nB8mL1cD4fG6hJ0" };
const SESSION = {
  accessKeyId: "ASIARHEOE2ESESSION01",
  secretAccessKey: "session/e2e/secret+Q3eR5tY7uI9oP1aS2dF4gH6j",
  sessionToken: "FwoGZXIvYXdzEJr//////////wEaDrheoE2ETokenForTheSessionPrincipal==",
};
const UNKNOWN_KEY = "AKIARHEOE2EUNKNOWN01";
// AWS's texts (the mismatch text goes on with the canonical request).
const SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature you provided.";
const INVALID_TOKEN = "The security token included in the request is invalid.";
const CONTENT_SHA256_MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed.";
// AWS tolerates 15 minutes of clock skew; one more is outside it either way.
const SKEW_MS = 16 * 60 * 1000;
const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function credentialsFile(dir) {
  const path = join(dir, "credentials");
  writeFileSync(
    path,
    `[alice]\naws_access_key_id = ${ALICE.accessKeyId}\naws_secret_access_key = ${ALICE.secretAccessKey}\n\n` +
      `[session]\naws_access_key_id = ${SESSION.accessKeyId}\naws_secret_access_key = ${SESSION.secretAccessKey}\n` +
      `aws_session_token = ${SESSION.sessionToken}\n`,
  );
  return path;
}

/**
 * Runs `mutate(request)` on the request the SDK has signed, just before it is sent: the
 * deserialize step comes after signing (finalizeRequest) and wraps the transmission.
 */
function tamperAfterSigning(client, mutate) {
  client.middlewareStack.add(
    (next) => async (args) => {
      assert.match(args.request.headers.authorization ?? "", /^AWS4-HMAC-SHA256 /, "the request is not signed yet");
      mutate(args.request);
      return next(args);
    },
    { step: "deserialize", name: "tamperAfterSigning" },
  );
  return client;
}

async function refusal(promise) {
  try {
    await promise;
  } catch (err) {
    return { code: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  assert.fail("the server accepted the request");
}

describe("SigV4 verification with the AWS SDK for JavaScript v3", () => {
  let server;
  let dir;
  const client = (credentials, extra = {}) =>
    new KinesisClient({ endpoint: server.endpoint, region: REGION, credentials, maxAttempts: 1, ...extra });

  async function stream(StreamName) {
    const alice = client(ALICE);
    await alice.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
    for (let i = 0; i < 600; i++) {
      const { StreamDescriptionSummary: s } = await alice.send(new DescribeStreamSummaryCommand({ StreamName }));
      if (s.StreamStatus === "ACTIVE") return alice;
      await sleep(50);
    }
    throw new Error(`${StreamName} did not become ACTIVE`);
  }

  async function records(kin, StreamName) {
    const { Shards } = await kin.send(new ListShardsCommand({ StreamName }));
    const { ShardIterator } = await kin.send(
      new GetShardIteratorCommand({ StreamName, ShardId: Shards[0].ShardId, ShardIteratorType: "TRIM_HORIZON" }),
    );
    const { Records } = await kin.send(new GetRecordsCommand({ ShardIterator }));
    return Records.map((r) => dec.decode(r.Data));
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rheo-e2e-js-auth-"));
    server = await startServer({ extraArgs: ["--auth", "sigv4", "--credentials", credentialsFile(dir)] });
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [label, extra] of [
    ["HTTP/2 (default handler)", {}],
    ["HTTP/1.1 (NodeHttpHandler)", { requestHandler: new NodeHttpHandler() }],
  ]) {
    test(`the right key puts and reads back over ${label}`, async () => {
      const StreamName = `signed-${extra.requestHandler ? "h1" : "h2"}`;
      await stream(StreamName);
      const alice = client(ALICE, extra);
      const put = await alice.send(new PutRecordCommand({ StreamName, PartitionKey: "pk", Data: enc.encode("signed by alice") }));
      assert.equal(put.ShardId, "shardId-000000000000");
      assert.deepEqual(await records(alice, StreamName), ["signed by alice"]);
    });
  }

  test("a wrong secret is an invalid signature", async () => {
    const wrong = client({ accessKeyId: ALICE.accessKeyId, secretAccessKey: "not-alices-secret" });
    const r = await refusal(wrong.send(new ListStreamsCommand({})));
    assert.equal(r.code, "InvalidSignatureException", r.message);
    assert.equal(r.status, 400);
    assert.ok(r.message.startsWith(SIGNATURE_MISMATCH), r.message);
    const log = readFileSync(server.logPath, "utf8");
    assert.ok(!log.includes(ALICE.secretAccessKey) && !log.includes("not-alices-secret"), "a secret in the server log");
  });

  test("an unknown access key is an unrecognized client", async () => {
    const stranger = client({ accessKeyId: UNKNOWN_KEY, secretAccessKey: ALICE.secretAccessKey });
    const r = await refusal(stranger.send(new ListStreamsCommand({})));
    assert.deepEqual(r, { code: "UnrecognizedClientException", message: INVALID_TOKEN, status: 400 });
  });

  test("a signature 16 minutes old or ahead is refused, then the SDK's skew correction recovers", async () => {
    const late = client(ALICE, { systemClockOffset: -SKEW_MS });
    let r = await refusal(late.send(new ListStreamsCommand({})));
    assert.equal(r.code, "InvalidSignatureException", r.message);
    assert.equal(r.status, 400);
    assert.match(r.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z /);
    // The refusal's Date moved the client's clock to the server's: the next call is current.
    assert.ok(Math.abs(late.config.systemClockOffset) < 60_000, `offset still ${late.config.systemClockOffset} ms`);
    await late.send(new ListStreamsCommand({}));

    const early = client(ALICE, { systemClockOffset: SKEW_MS });
    r = await refusal(early.send(new ListStreamsCommand({})));
    assert.equal(r.code, "InvalidSignatureException", r.message);
    assert.equal(r.status, 400);
    assert.match(r.message, /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z /);
  });

  // This SDK sends the body's hash, signed, as x-amz-content-sha256: a changed body no longer
  // matches it (which AWS reports first); with the hash changed too, the signature fails.
  test("a body changed after signing is refused", async () => {
    const alice = await stream("tampered-body");
    const put = (tamper) =>
      refusal(
        tamperAfterSigning(client(ALICE), tamper).send(
          new PutRecordCommand({ StreamName: "tampered-body", PartitionKey: "pk", Data: enc.encode("pay 10") }),
        ),
      );
    // base64("pay 10") becomes base64("pay 99"): the same length, so Content-Length still holds.
    const payMore = (request) => {
      const body = typeof request.body === "string" ? request.body : dec.decode(request.body);
      assert.ok(body.includes('"cGF5IDEw"'), body);
      request.body = body.replace('"cGF5IDEw"', '"cGF5IDk5"');
    };
    let r = await put((request) => {
      assert.ok("x-amz-content-sha256" in request.headers, "the SDK no longer sends x-amz-content-sha256");
      payMore(request);
    });
    assert.equal(r.code, "InvalidSignatureException", r.message);
    assert.equal(r.message, CONTENT_SHA256_MISMATCH);
    r = await put((request) => {
      payMore(request);
      request.headers["x-amz-content-sha256"] = createHash("sha256").update(request.body).digest("hex");
    });
    assert.equal(r.code, "InvalidSignatureException", r.message);
    assert.ok(r.message.startsWith(SIGNATURE_MISMATCH), r.message);
    assert.deepEqual(await records(alice, "tampered-body"), []);
  });

  test("a signed header changed after signing is an invalid signature", async () => {
    const alice = await stream("tampered-header");
    // A signed PutRecord turned into a DeleteStream of the same stream.
    const tampered = tamperAfterSigning(client(ALICE), (request) => {
      const signed = /SignedHeaders=([^,]+)/.exec(request.headers.authorization)?.[1].split(";") ?? [];
      assert.ok(signed.includes("x-amz-target"), `x-amz-target is not signed: ${signed}`);
      request.headers["x-amz-target"] = "Kinesis_20131202.DeleteStream";
    });
    const r = await refusal(
      tampered.send(new PutRecordCommand({ StreamName: "tampered-header", PartitionKey: "pk", Data: enc.encode("kept") })),
    );
    assert.equal(r.code, "InvalidSignatureException", r.message);
    assert.ok(r.message.startsWith(SIGNATURE_MISMATCH), r.message);
    const { StreamDescriptionSummary } = await alice.send(new DescribeStreamSummaryCommand({ StreamName: "tampered-header" }));
    assert.equal(StreamDescriptionSummary.StreamStatus, "ACTIVE");
    assert.deepEqual(await records(alice, "tampered-header"), []);
  });

  test("temporary credentials need their session token", async () => {
    await client(SESSION).send(new ListStreamsCommand({}));
    const { sessionToken, ...withoutToken } = SESSION;
    assert.ok(sessionToken);
    let r = await refusal(client(withoutToken).send(new ListStreamsCommand({})));
    assert.deepEqual(r, { code: "UnrecognizedClientException", message: INVALID_TOKEN, status: 400 });
    r = await refusal(client({ ...SESSION, sessionToken: "FwoGZXIvYXdzEJrSomebodyElsesToken==" }).send(new ListStreamsCommand({})));
    assert.deepEqual(r, { code: "UnrecognizedClientException", message: INVALID_TOKEN, status: 400 });
  });
});
