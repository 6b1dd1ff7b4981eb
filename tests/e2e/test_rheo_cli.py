"""The commands for people (`rheo streams|create|describe|tail|delete`) driven as a person
would: through a pseudo-terminal (colour, progress, aligned tables) and through pipes
(plain text, JSON a program parses)."""

import datetime
import json
import os
import re
import select
import signal
import subprocess
import time

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator

from conftest import Rheo, create_active, rheo_binary, wait_for_status

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
COMMAND_TIMEOUT_S = 120


def cli_env(rheo, **extra):
    env = dict(os.environ, RHEO_ENDPOINT=rheo.endpoint)
    env.pop("NO_COLOR", None)
    env.pop("RHEO_LOG", None)
    env.update(extra)
    return env


def run(rheo, *args, **extra_env):
    """`rheo ARGS` with stdout and stderr piped."""
    return subprocess.run(
        [str(rheo_binary()), *args], capture_output=True, text=True,
        env=cli_env(rheo, **extra_env), timeout=COMMAND_TIMEOUT_S,
    )


def default_sigint():
    """Ctrl-C as at a user's terminal. A shell that starts the suite in the background
    without job control (`cmd &` in a script) ignores SIGINT, and every child inherits
    that, so `interrupt` would otherwise wait for a process that cannot see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Terminal:
    """`rheo ARGS` with stdin, stdout and stderr on a pseudo-terminal."""

    def __init__(self, rheo, *args, **extra_env):
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(
            [str(rheo_binary()), *args], stdin=slave, stdout=slave, stderr=slave,
            env=cli_env(rheo, **extra_env), start_new_session=True, preexec_fn=default_sigint,
        )
        os.close(slave)
        self.output = b""

    def read_until(self, predicate, timeout_s=COMMAND_TIMEOUT_S):
        """Reads until predicate(text so far) holds or the process closes the terminal."""
        deadline = time.monotonic() + timeout_s
        while not predicate(self.text()) and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every holder of the terminal closed it.
                break
            if not chunk:
                break
            self.output += chunk
        return self.text()

    def wait(self):
        self.read_until(lambda _: False)
        return self.process.wait(timeout=COMMAND_TIMEOUT_S)

    def interrupt(self):
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=COMMAND_TIMEOUT_S)

    def text(self):
        return self.output.decode("utf-8", "replace")

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


def tail_json(rheo, stream, *args):
    result = run(rheo, "tail", stream, "--no-follow", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def put_batch(kinesis, stream, first, count, keys=5):
    for i in range(first, first + count):
        kinesis.put_record(StreamName=stream, PartitionKey=f"key-{i % keys}", Data=f"record-{i}".encode())


def test_tail_reads_every_record_through_a_split_parents_first(rheo, kinesis, stream_name):
    create_active(kinesis, stream_name, shards=1)
    put_batch(kinesis, stream_name, 0, 40)
    kinesis.split_shard(
        StreamName=stream_name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127)
    )
    wait_for_status(kinesis, stream_name)
    put_batch(kinesis, stream_name, 40, 40)

    records = tail_json(rheo, stream_name, "--from", "trim-horizon")
    assert sorted(r["data"] for r in records) == sorted(f"record-{i}" for i in range(80))
    assert {r["shard_id"] for r in records} == {
        "shardId-000000000000", "shardId-000000000001", "shardId-000000000002"
    }
    for key in range(5):
        of_key = [int(r["data"].split("-")[1]) for r in records if r["partition_key"] == f"key-{key}"]
        assert of_key == sorted(of_key), f"key-{key} out of order: {of_key}"
    # Every record of the parent comes out before any record of its children.
    shards = [r["shard_id"] for r in records]
    last_parent = max(i for i, s in enumerate(shards) if s == "shardId-000000000000")
    first_child = min(i for i, s in enumerate(shards) if s != "shardId-000000000000")
    assert last_parent < first_child
    assert all(r["encoding"] == "text" and r["sub_sequence_number"] is None for r in records)

    # --from a time: the records that arrived at or after it, and only those, in both forms.
    arrivals = sorted(
        datetime.datetime.fromisoformat(r["arrival"].replace("Z", "+00:00")) for r in records
    )
    cut = arrivals[len(arrivals) // 2]
    expected = sorted(
        r["data"] for r in records
        if datetime.datetime.fromisoformat(r["arrival"].replace("Z", "+00:00")) >= cut
    )
    since_rfc3339 = tail_json(rheo, stream_name, "--from", cut.isoformat())
    assert sorted(r["data"] for r in since_rfc3339) == expected
    since_epoch = tail_json(rheo, stream_name, "--from", f"{cut.timestamp():.3f}")
    assert sorted(r["data"] for r in since_epoch) == expected


def test_tail_formats_binary_data_and_kpl_aggregates(rheo, kinesis, stream_name):
    create_active(kinesis, stream_name)
    kinesis.put_record(StreamName=stream_name, PartitionKey="bin", Data=b"\xff\x00\x01")
    aggregator = RecordAggregator()
    for i in range(3):
        aggregator.add_user_record(f"user-{i}", f"sub-{i}".encode())
    partition_key, _, data = aggregator.clear_and_get().get_contents()
    kinesis.put_record(StreamName=stream_name, PartitionKey=partition_key, Data=data)

    records = tail_json(rheo, stream_name, "--from", "trim-horizon")
    assert records[0]["data"] == "/wAB" and records[0]["encoding"] == "base64"
    assert [(r["partition_key"], r["data"], r["sub_sequence_number"]) for r in records[1:]] == [
        ("user-0", "sub-0", 0), ("user-1", "sub-1", 1), ("user-2", "sub-2", 2)
    ]
    assert len({r["sequence_number"] for r in records[1:]}) == 1

    hexed = run(rheo, "tail", stream_name, "--no-follow", "--from", "trim-horizon", "--format", "hex")
    assert hexed.returncode == 0, hexed.stderr
    assert hexed.stdout.splitlines()[0] == "bin ff0001"
    text = run(rheo, "tail", stream_name, "--no-follow", "--from", "trim-horizon")
    assert text.stdout.splitlines()[1:] == ["user-0 sub-0", "user-1 sub-1", "user-2 sub-2"]
    assert "\x1b[" not in text.stdout + text.stderr


def test_errors_are_one_line_with_the_aws_error_type(rheo):
    missing = run(rheo, "tail", "no-such-stream", "--no-follow")
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.startswith("error: ResourceNotFoundException: ")
    assert missing.stderr.count("\n") == 1
    described = run(rheo, "describe", "no-such-stream")
    assert described.returncode == 1 and "ResourceNotFoundException" in described.stderr

    bad_from = run(rheo, "tail", "whatever", "--from", "yesterday")
    assert bad_from.returncode != 0
    assert "--from" in bad_from.stderr and "RFC 3339" in bad_from.stderr

    unreachable = run(rheo, "streams", RHEO_ENDPOINT="http://127.0.0.1:9")
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("error: ") and unreachable.stderr.count("\n") == 1


def test_create_describe_streams_delete_as_json(rheo, kinesis, stream_name):
    created = run(rheo, "create", stream_name, "--shards", "3", "--wait")
    assert created.returncode == 0, created.stderr
    assert "ACTIVE" in created.stdout and "\x1b[" not in created.stdout + created.stderr

    listed = run(rheo, "streams", "--json")
    assert listed.returncode == 0, listed.stderr
    mine = [s for s in json.loads(listed.stdout) if s["name"] == stream_name]
    assert mine == [{
        "name": stream_name, "arn": mine[0]["arn"], "status": "ACTIVE", "mode": "PROVISIONED",
        "open_shards": 3, "retention_hours": 24, "consumers": 0, "encryption": "NONE",
        "created": mine[0]["created"],
    }]

    kinesis.split_shard(
        StreamName=stream_name, ShardToSplit="shardId-000000000000", NewStartingHashKey="1000"
    )
    wait_for_status(kinesis, stream_name)
    described = run(rheo, "describe", stream_name, "--json")
    assert described.returncode == 0, described.stderr
    description = json.loads(described.stdout)
    assert description["open_shards"] == 4
    shards = {s["shard_id"]: s for s in description["shards"]}
    assert shards["shardId-000000000000"]["open"] is False
    assert shards["shardId-000000000003"]["parents"] == ["shardId-000000000000"]
    assert shards["shardId-000000000003"]["starting_hash_key"] == "0"
    assert shards["shardId-000000000004"]["starting_hash_key"] == "1000"
    assert shards["shardId-000000000004"]["open"] is True

    table = run(rheo, "describe", stream_name)
    assert table.returncode == 0 and "\x1b[" not in table.stdout
    assert re.search(r"^shardId-000000000004\s+shardId-000000000000\s+\S+\s+open$", table.stdout, re.M)

    deleted = run(rheo, "delete", stream_name, "--wait")
    assert deleted.returncode == 0, deleted.stderr
    listed = run(rheo, "streams", "--json")
    assert stream_name not in [s["name"] for s in json.loads(listed.stdout)]


def test_on_demand_create_without_wait_when_piped(rheo, kinesis, stream_name):
    created = run(rheo, "create", stream_name, "--on-demand")
    assert created.returncode == 0, created.stderr
    assert "Creating" in created.stdout
    summary = wait_for_status(kinesis, stream_name)
    assert summary["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"
    refused = run(rheo, "create", "x", "--on-demand", "--shards", "2")
    assert refused.returncode != 0


@pytest.fixture
def slow_rheo(tmp_path):
    """A server whose streams stay CREATING long enough for a progress line to be drawn."""
    server = Rheo(tmp_path, "--create-stream-ms", "1500", "--in-memory").start()
    yield server
    server.stop()


def test_create_on_a_terminal_waits_with_progress_and_colour(slow_rheo, stream_name):
    terminal = Terminal(slow_rheo, "create", stream_name, "--shards", "2")
    try:
        assert terminal.wait() == 0
        out = terminal.text()
    finally:
        terminal.close()
    # The progress line redraws in place (carriage return, spinner, status) and is cleared.
    assert re.search(r"\r.*CREATING", out), out
    assert "\r\x1b[K" in out
    assert "\x1b[32mACTIVE\x1b[0m" in out

    listing = Terminal(slow_rheo, "streams")
    try:
        assert listing.wait() == 0
        out = listing.text()
    finally:
        listing.close()
    assert "\x1b[1mNAME\x1b[0m" in out
    lines = [ANSI.sub("", line) for line in out.replace("\r", "").splitlines() if line]
    header, row = lines[0], next(line for line in lines if line.startswith(stream_name))
    # Columns line up under their headers once the colour codes are taken away.
    for column in ["STATUS", "MODE", "OPEN SHARDS", "RETENTION"]:
        assert row[header.index(column)] != " " and row[header.index(column) - 1] == " ", (header, row)

    no_color = Terminal(slow_rheo, "streams", NO_COLOR="1")
    try:
        assert no_color.wait() == 0
        assert "\x1b[" not in no_color.text()
    finally:
        no_color.close()


def test_tail_on_a_terminal_follows_new_records_in_colour(rheo, kinesis, stream_name):
    create_active(kinesis, stream_name, shards=2)
    terminal = Terminal(rheo, "tail", stream_name)
    try:
        terminal.read_until(lambda text: "Waiting for new records" in text)
        # LATEST iterators are taken once the shard list is read; records put before that
        # would be skipped, so keep putting until the first one shows.
        deadline = time.monotonic() + COMMAND_TIMEOUT_S
        i = 0
        while "early-" not in terminal.text() and time.monotonic() < deadline:
            kinesis.put_record(StreamName=stream_name, PartitionKey="early", Data=f"early-{i}".encode())
            i += 1
            terminal.read_until(lambda text: "early-" in text, timeout_s=1)
        put_batch(kinesis, stream_name, 0, 10, keys=10)
        out = terminal.read_until(lambda text: all(f"record-{i}" in text for i in range(10)))
        assert terminal.process.poll() is None, "tail follows until interrupted"
        terminal.interrupt()
    finally:
        terminal.close()
    for i in range(10):
        assert f"\x1b[36mkey-{i}\x1b[0m record-{i}" in out, out


def test_tail_shows_control_characters_as_escapes_on_a_terminal_and_bytes_in_a_pipe(
    rheo, kinesis, stream_name
):
    create_active(kinesis, stream_name)
    # A title change (OSC 0), a clipboard write (OSC 52) and a screen clear (CSI 2J).
    hostile = b"\x1b]0;owned\x07\x1b]52;c;aGk=\x07\x1b[2Jafter"
    kinesis.put_record(StreamName=stream_name, PartitionKey="k", Data=hostile)
    terminal = Terminal(rheo, "tail", stream_name, "--from", "trim-horizon", "--no-follow", NO_COLOR="1")
    try:
        assert terminal.wait() == 0
        raw = terminal.output
    finally:
        terminal.close()
    assert b"\x1b" not in raw, raw
    assert b"k \\x1b]0;owned\\x07\\x1b]52;c;aGk=\\x07\\x1b[2Jafter" in raw, raw
    piped = subprocess.run(
        [str(rheo_binary()), "tail", stream_name, "--from", "trim-horizon", "--no-follow"],
        capture_output=True, env=cli_env(rheo), timeout=COMMAND_TIMEOUT_S,
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == b"k " + hostile + b"\n"


def test_streams_lists_more_streams_than_the_describe_rate_allows(tmp_path):
    """AWS allows 20 DescribeStreamSummary calls a second per account; `rheo streams`
    describes each stream, so it has to back off and try again when throttled."""
    names = [f"many-{i:02d}" for i in range(30)]
    setup = Rheo(tmp_path / "data").start()
    try:
        client = setup.client()
        for name in names:
            client.create_stream(StreamName=name, ShardCount=1)
        for name in names:
            wait_for_status(client, name)
    finally:
        setup.stop()
    limited = Rheo(tmp_path / "data", "--enforce-limits").start()
    try:
        result = run(limited, "streams", "--json")
    finally:
        limited.stop()
    assert result.returncode == 0, result.stderr
    assert sorted(s["name"] for s in json.loads(result.stdout)) == names


def test_put_typed_on_a_terminal_then_tail_reads_it_back_in_order(rheo, kinesis, stream_name):
    create_active(kinesis, stream_name, shards=2)
    terminal = Terminal(rheo, "put", stream_name, "--partition-key", "user-1")
    try:
        for word in ["one", "two", "three"]:
            os.write(terminal.master, f"{word}\n".encode())
        # Progress is drawn on the terminal while it reads; end the input after it shows.
        terminal.read_until(lambda text: "records acknowledged" in text)
        os.write(terminal.master, b"\x04")  # Ctrl-D: end of input on a terminal.
        assert terminal.wait() == 0, terminal.text()
        out = terminal.text()
    finally:
        terminal.close()
    assert "\r\x1b[K" in out, out
    assert "3 records put" in out, out

    piped = subprocess.run(
        [str(rheo_binary()), "put", stream_name, "--key-field", "user"],
        input='{"user": "user-1", "n": "four"}\n', capture_output=True, text=True,
        env=cli_env(rheo), timeout=COMMAND_TIMEOUT_S,
    )
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr + piped.stdout and "\x1b[" not in piped.stderr + piped.stdout

    tailed = run(rheo, "tail", stream_name, "--from", "trim-horizon", "--no-follow")
    assert tailed.returncode == 0, tailed.stderr
    assert tailed.stdout.splitlines() == [
        "user-1 one", "user-1 two", "user-1 three", 'user-1 {"user": "user-1", "n": "four"}'
    ]
