#!/usr/bin/env python3
"""Runs kcl-rs (PyPI; a Rust port of KCL 3 with Python bindings) with the journaling processor of
processor.py until SIGTERM.

    AWS_ENDPOINT_URL_KINESIS=... AWS_ENDPOINT_URL_DYNAMODB=... kclrs_consumer.py STREAM APPLICATION POLLING|FANOUT

kcl-rs's AWS SDK for Rust takes the endpoints from those variables (with Rheo both are the same URL).
"""

import os
import signal
import sys
import threading

os.environ["KCL_E2E_RUNTIME"] = "kcl-rs"

from kcl_rs import Scheduler  # noqa: E402

from processor import JournalingProcessor  # noqa: E402


def main():
    stream, application, retrieval = sys.argv[1:4]
    options = {"idle_time_between_reads_millis": 250} if retrieval == "POLLING" else {}
    scheduler = Scheduler(
        stream_name=stream,
        application_name=application,
        record_processor_factory=JournalingProcessor,
        worker_identifier=os.environ.get("KCL_E2E_WORKER"),
        region="us-east-1",
        initial_position="TRIM_HORIZON",
        retrieval_mode=retrieval,
        shard_sync_interval_millis=2000,
        **options,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler.start()
    stop.wait()
    scheduler.shutdown()


if __name__ == "__main__":
    main()
