#!/usr/bin/env python3
"""A KCL record processor for the MultiLangDaemon (amazon_kclpy v3 interface) that journals
everything it sees, so the tests can check delivery, ordering and checkpoint behaviour.

The daemon starts one process per shard lease, all sharing the daemon's environment.
Each event is one JSON line appended with a single write() to $KCL_E2E_JOURNAL (O_APPEND),
so lines from the shard processes of one worker never interleave and their order in the file
is the order in which they happened on that worker.

The same class runs under kcl-rs (kclrs_consumer.py), whose interface mirrors amazon_kclpy v3.

Events: initialize, record, checkpoint (written only after the daemon confirmed it),
shard_ending (before the end's checkpoint), shard_ended, lease_lost,
shutdown_requested.
"""

import json
import os
import time

from amazon_kclpy import kcl
from amazon_kclpy.v3 import processor

JOURNAL = os.environ["KCL_E2E_JOURNAL"]
WORKER = os.environ.get("KCL_E2E_WORKER", "worker")
# Which KCL runs this processor: the MultiLangDaemon, or kcl-rs in-process (kclrs_consumer.py).
RUNTIME = os.environ.get("KCL_E2E_RUNTIME", "python")


def journal(event, **fields):
    line = json.dumps({"event": event, "worker": WORKER, "runtime": RUNTIME, "pid": os.getpid(), "t": time.time(), **fields})
    fd = os.open(JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


class JournalingProcessor(processor.RecordProcessorBase):
    def __init__(self):
        self.shard_id = None

    def initialize(self, initialize_input):
        self.shard_id = initialize_input.shard_id
        journal(
            "initialize",
            shard=self.shard_id,
            sequence=initialize_input.sequence_number,
            sub_sequence=initialize_input.sub_sequence_number,
        )

    def process_records(self, process_records_input):
        last = None
        for record in process_records_input.records:
            journal(
                "record",
                shard=self.shard_id,
                sequence=record.sequence_number,
                sub_sequence=record.sub_sequence_number,
                partition_key=record.partition_key,
                data=record.binary_data.decode("utf-8", "replace"),
            )
            last = record
        if last is not None:
            # Checkpoint the exact last user record, so the journal says precisely what a
            # restarted worker may skip.
            process_records_input.checkpointer.checkpoint(last.sequence_number, last.sub_sequence_number)
            journal("checkpoint", shard=self.shard_id, sequence=last.sequence_number,
                    sub_sequence=last.sub_sequence_number)

    def lease_lost(self, lease_lost_input):
        journal("lease_lost", shard=self.shard_id)

    def shard_ended(self, shard_ended_input):
        # KCL starts the child shards only after the parent's end is checkpointed, so the line
        # written before the checkpoint precedes any child's `initialize` in the journal (the
        # one after it may not: the child's processor can start first).
        journal("shard_ending", shard=self.shard_id)
        shard_ended_input.checkpointer.checkpoint()
        journal("shard_ended", shard=self.shard_id)

    def shutdown_requested(self, shutdown_requested_input):
        journal("shutdown_requested", shard=self.shard_id)


if __name__ == "__main__":
    kcl.KCLProcess(JournalingProcessor()).run()
