"""Outcomes of one call (a response or an error) and their normal form for comparison.

What is dropped and why (each a rule of DynamoDB's documentation, not a convenience):
- timestamps (CreationDateTime, Last*DateTime) and TableId: per instance;
- ARNs keep their resource part; their region and account are per deployment;
- ItemCount, TableSizeBytes, IndexSizeBytes: "DynamoDB updates this value approximately every
  six hours" (API reference, TableDescription), so no particular value is promised;
- ConsumedCapacity: a billing figure, not part of an item operation's result;
- set members (SS, NS, BS) have no order ("sets are unordered", developer guide, data types);
- WarmThroughput (table and index): AWS's pre-warmed capacity of its own fleet, which Rheo does
  not describe (it refuses requests that set it); the one member left out for Rheo's sake.
Scan order is unspecified too; the harness compares scans as sets (see harness.py)."""

import base64
import copy
import json
import re

from botocore.exceptions import ClientError

DROPPED_KEYS = frozenset({
    "ResponseMetadata",
    "ConsumedCapacity",
    "CreationDateTime",
    "LastUpdateToPayPerRequestDateTime",
    "LastIncreaseDateTime",
    "LastDecreaseDateTime",
    "TableId",
    "ItemCount",
    "TableSizeBytes",
    "IndexSizeBytes",
    "WarmThroughput",
})
ARN_KEYS = frozenset({"TableArn", "IndexArn", "ResourceArn"})
ARN_PREFIX = re.compile(r"^arn:aws:dynamodb:[^:]*:[^:]*:")
SET_TYPES = ("SS", "NS", "BS")


def invoke(client, operation: str, request: dict) -> dict:
    """Runs one call and returns {"ok": response} or {"error": {...}} with the error's
    code, message and (for ReturnValuesOnConditionCheckFailure) the returned Item."""
    method = getattr(client, _snake(operation))
    try:
        return {"ok": method(**copy.deepcopy(request))}
    except ClientError as error:
        body = error.response
        outcome = {
            "code": body.get("Error", {}).get("Code"),
            "message": body.get("Error", {}).get("Message") or body.get("message"),
        }
        for member in ("Item", "CancellationReasons"):
            if member in body:
                outcome[member] = body[member]
        return {"error": outcome}


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def normalize(outcome: dict) -> dict:
    """The comparable form of an outcome: dropped keys removed, ARNs generalised, sets sorted,
    binary values as base64 text."""
    return _walk(outcome)


def _walk(value):
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key in DROPPED_KEYS:
                continue
            if key in ARN_KEYS and isinstance(item, str):
                result[key] = ARN_PREFIX.sub("arn:aws:dynamodb:REGION:ACCOUNT:", item)
            elif key in SET_TYPES and isinstance(item, list):
                result[key] = sorted(_walk(member) for member in item)
            else:
                result[key] = _walk(item)
        return result
    if isinstance(value, list):
        return [_walk(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return "b64:" + base64.b64encode(bytes(value)).decode()
    return value


def item_sort_key(item: dict) -> str:
    """A total order on normalised items, to compare unordered item lists as sets."""
    return json.dumps(item, sort_keys=True)


def without_order(operation: str, outcome: dict) -> dict:
    """BatchGetItem answers each table's items in no particular order ("the order of the
    returned items is not guaranteed", API reference, BatchGetItem): they are sorted here."""
    if operation == "BatchGetItem" and "ok" in outcome:
        outcome = copy.deepcopy(outcome)
        for table, items in outcome["ok"].get("Responses", {}).items():
            outcome["ok"]["Responses"][table] = sorted(items, key=item_sort_key)
    return outcome
