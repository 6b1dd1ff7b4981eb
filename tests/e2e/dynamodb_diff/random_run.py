"""The randomised sequence: generated item calls sent to both sides, every outcome compared,
and the whole table compared every CHECKPOINT_EVERY calls and at the end."""

import os

from . import departures
from .generator import HASH_KEY, RANGE_KEY, Generator
from .harness import Divergence
from .normalize import invoke

# Differences one seed reports at most before it stops.
DIVERGENCES_MAX = 12

# The whole table is compared this often (1 localises a divergence to its call).
CHECKPOINT_EVERY = int(os.environ.get("DYNAMODB_DIFF_CHECK_EVERY", "100"))


def table_definition(table: str) -> dict:
    return dict(
        TableName=table,
        AttributeDefinitions=[
            {"AttributeName": HASH_KEY, "AttributeType": "S"},
            {"AttributeName": RANGE_KEY, "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": HASH_KEY, "KeyType": "HASH"},
            {"AttributeName": RANGE_KEY, "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def create_table(pair, table: str):
    pair.call("CreateTable", **table_definition(table))
    pair.wait_active(table)


def resynchronise(pair, table: str, key: dict):
    """After a call moto could not answer (HTTP 500), the key's item is deleted on both sides, so
    the sequence goes on from one known state without trusting either side's result (moto may
    have half-applied the update before failing: seen as an NS [] and a BOOL stored as S)."""
    for client in (pair.reference, pair.subject):
        outcome = invoke(client, "DeleteItem", {"TableName": table, "Key": key})
        assert "ok" in outcome, f"re-synchronising {key} failed: {outcome}"


def _key_of(request: dict) -> dict:
    if "Key" in request:
        return request["Key"]
    return {name: request["Item"][name] for name in (HASH_KEY, RANGE_KEY)}


def _keys_written(operation: str, request: dict) -> list:
    """The keys a call may have written (for re-synchronising after moto failed it)."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return [_key_of(request)]
    if operation == "TransactWriteItems":
        return [_key_of(next(iter(action.values()))) for action in request["TransactItems"]]
    if operation == "BatchWriteItem":
        return [
            _key_of(next(iter(entry.values())))
            for entries in request["RequestItems"].values() for entry in entries
        ]
    return []


def run(pair, seed: int, operations: int, table: str) -> dict:
    """Runs `operations` generated calls; returns counts of outcomes by operation and kind."""
    generator = Generator(seed, table)
    tally = {}
    divergences = []
    for index in range(operations):
        operation, request = generator.next()
        pair.context = f"seed={seed} op#{index}"
        try:
            expected = pair.call_or_skip(operation, request, departures.moto_cannot_answer)
        except Divergence as divergence:
            # Go on from one state to find the other differences of this seed too.
            divergences.append(str(divergence))
            for key in _keys_written(operation, request):
                resynchronise(pair, table, key)
            if len(divergences) >= DIVERGENCES_MAX:
                break
            continue
        if expected is None:
            for key in _keys_written(operation, request):
                resynchronise(pair, table, key)
            kind = "skipped"
        elif "error" in expected:
            kind = expected["error"]["code"]
        else:
            kind = "ok"
        tally[(operation, kind)] = tally.get((operation, kind), 0) + 1
        if (index + 1) % CHECKPOINT_EVERY == 0:
            pair.context = f"seed={seed} after op#{index}"
            pair.scan_all(TableName=table)
    if divergences:
        raise Divergence(f"{len(divergences)} call(s) differ:\n\n" + "\n\n".join(divergences))
    pair.context = f"seed={seed} final contents"
    pair.scan_all(TableName=table)
    return tally
