// A record processor written with the npm package aws-kcl (the official Node.js interface to the
// KCL MultiLangDaemon), run under the KCL 3.x daemon. Like ../processor.py it journals every event
// as one JSON line appended to $KCL_E2E_JOURNAL, with `runtime: "node"` so the tests can tell
// which processor wrote it.
'use strict';

const fs = require('fs');
const kcl = require('aws-kcl');

const journalPath = process.env.KCL_E2E_JOURNAL;
const worker = process.env.KCL_E2E_WORKER || 'worker';

function journal(event, fields) {
  const line = JSON.stringify({ event, worker, runtime: 'node', pid: process.pid, t: Date.now() / 1000, ...fields });
  // One appending write per line: lines of the worker's shard processes never interleave.
  fs.appendFileSync(journalPath, line + '\n');
}

function journalingProcessor() {
  let shard = null;
  return {
    initialize(input, done) {
      shard = input.shardId;
      journal('initialize', { shard, sequence: input.sequenceNumber, sub_sequence: input.subSequenceNumber || 0 });
      done();
    },

    processRecords(input, done) {
      const batch = input.records || [];
      for (const record of batch) {
        journal('record', {
          shard,
          sequence: record.sequenceNumber,
          sub_sequence: record.subSequenceNumber || 0,
          partition_key: record.partitionKey,
          data: Buffer.from(record.data, 'base64').toString('utf8'),
        });
      }
      if (batch.length === 0) {
        done();
        return;
      }
      const last = batch[batch.length - 1];
      // Without a sequence number the daemon checkpoints the end of the batch it delivered.
      input.checkpointer.checkpoint((err) => {
        if (err) {
          journal('checkpoint_failed', { shard, error: String(err) });
        } else {
          journal('checkpoint', { shard, sequence: last.sequenceNumber, sub_sequence: last.subSequenceNumber || 0 });
        }
        done();
      });
    },

    leaseLost(input, done) {
      journal('lease_lost', { shard });
      done();
    },

    shardEnded(input, done) {
      // KCL starts the child shards only after the parent's end is checkpointed: the line
      // written before the checkpoint precedes any child's `initialize` in the journal.
      journal('shard_ending', { shard });
      input.checkpointer.checkpoint((err) => {
        journal(err ? 'checkpoint_failed' : 'shard_ended', { shard, ...(err ? { error: String(err) } : {}) });
        done();
      });
    },

    shutdownRequested(input, done) {
      journal('shutdown_requested', { shard });
      done();
    },
  };
}

kcl(journalingProcessor()).run();
