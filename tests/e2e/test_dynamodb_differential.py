"""Differential test of Rheo's DynamoDB against moto_server's: the same calls go to both, and the
normalised outcomes must be equal (dynamodb_diff/harness.py), except where moto departs from
DynamoDB's documented behaviour (dynamodb_diff/departures.py, docs/dynamodb-moto-differences.md).

1. KCL 3.x's calls in the shapes KCL sends them, with their failing variants.
2. A seeded random sequence of conditional item calls; each seed is printed and reproducible
   (DYNAMODB_DIFF_SEEDS="1,2,3", DYNAMODB_DIFF_OPERATIONS=400).

DYNAMODB_DIFF_SUBJECT=moto compares moto with a second moto (the harness's self-check)."""

import os
import re
import uuid

import pytest

from conftest import REPO
from dynamodb_diff import departures, kcl_calls, random_run
from dynamodb_diff.generator import Generator
from dynamodb_diff.harness import Pair
from dynamodb_diff.normalize import invoke, normalize
from dynamodb_diff.servers import MotoServer, dynamodb_client

SEEDS = [int(seed) for seed in os.environ.get("DYNAMODB_DIFF_SEEDS", "16001,16002,16003").split(",")]
OPERATIONS = int(os.environ.get("DYNAMODB_DIFF_OPERATIONS", "400"))
SUBJECT = os.environ.get("DYNAMODB_DIFF_SUBJECT", "rheo")


@pytest.fixture(scope="module")
def moto_reference():
    server = MotoServer(REPO).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def subject_endpoint(request):
    if SUBJECT == "moto":
        server = MotoServer(REPO).start()
        yield server.endpoint
        server.stop()
    else:
        yield request.getfixturevalue("rheo").endpoint


@pytest.fixture
def pair(moto_reference, subject_endpoint):
    pair = Pair(
        dynamodb_client(moto_reference.endpoint),
        dynamodb_client(subject_endpoint),
        correct_departures=SUBJECT != "moto",
    )
    yield pair
    print(f"\n{pair.calls} compared calls; moto departures applied: {dict(pair.departures_applied)}")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# ---- 1. KCL's calls ------------------------------------------------------------------------

def test_kcl_lease_table_calls(pair):
    app = unique("kclapp")
    pair.context = f"lease table {app}"
    kcl_calls.lease_table(pair, app)
    kcl_calls.create_leases(pair, app)
    kcl_calls.lease_life(pair, app)
    kcl_calls.lease_reads(pair, app)
    kcl_calls.delete_leases(pair, app)
    kcl_calls.delete_tables(pair, [app])


def test_kcl_coordinator_state_and_worker_metrics(pair):
    app = unique("kclapp")
    pair.context = f"coordinator state and worker metrics of {app}"
    tables = [kcl_calls.coordinator_state(pair, app), kcl_calls.worker_metrics(pair, app)]
    kcl_calls.delete_tables(pair, tables)


# ---- 2. the randomised sequence ------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_randomised_conditional_writes(pair, seed):
    print(f"\nseed {seed}, {OPERATIONS} operations")
    table = unique(f"rand{seed}")
    pair.context = f"seed={seed} setup"
    random_run.create_table(pair, table)
    tally = random_run.run(pair, seed, OPERATIONS, table)
    print("outcomes:", dict(sorted(tally.items())))
    kinds = {kind for (_, kind) in tally}
    # The sequence must exercise both sides of the conditions, not only one outcome.
    assert {"ok", "ConditionalCheckFailedException"} <= kinds, tally
    pair.call("DeleteTable", TableName=table)


# ---- the generator's own check, against moto alone ----------------------------------------

# The ValidationExceptions a well-formed request may still get, because they depend on the
# item's data (an operand attribute missing, a path into a missing map or list, ADD/DELETE on a
# missing set). Any other ValidationException means the generator built a malformed request.
DATA_DEPENDENT_VALIDATION = [
    re.compile(r"^The provided expression refers to an attribute that does not exist in the item$"),
    re.compile(r"^The document path provided in the update expression is invalid for update$"),
    re.compile(r"^An operand in the update expression has an incorrect data type$"),
]


def test_generator_requests_are_well_formed(moto_reference):
    client = dynamodb_client(moto_reference.endpoint)
    table = unique("gencheck")
    assert "ok" in invoke(client, "CreateTable", random_run.table_definition(table))
    generator = Generator(SEEDS[0], table)
    malformed = []
    codes = set()
    for index in range(OPERATIONS):
        operation, request = generator.next()
        outcome = invoke(client, operation, request)
        error = outcome.get("error")
        if error:
            codes.add(error["code"])
        if error and error["code"] == "ValidationException" and not any(
            pattern.match(error["message"] or "") for pattern in DATA_DEPENDENT_VALIDATION
        ):
            malformed.append((index, operation, request, error["message"]))
        elif error and error["code"] not in (
            "ConditionalCheckFailedException", "TransactionCanceledException", "ValidationException", "500",
        ):
            malformed.append((index, operation, request, error))
    assert not malformed, "\n".join(map(repr, malformed[:5]))
    assert "ConditionalCheckFailedException" in codes


# ---- 3. single cases where moto departs from DynamoDB's documentation ----------------------

CCF = {"error": {"code": "ConditionalCheckFailedException", "message": "The conditional request failed"}}


def test_documented_cases_where_moto_departs(pair):
    table = unique("documented")
    pair.context = f"documented cases on {table}"
    pair.call(
        "CreateTable", TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    pair.wait_active(table)
    key = {"pk": {"S": "e"}}
    # Numbers come back with leading and trailing zeroes trimmed.
    pair.call("PutItem", TableName=table, Item={**key, "s": {"S": "abc"}, "n": {"N": "003.50"},
                                                 "ns": {"NS": ["1.0", "20"]}, "m": {"M": {"x": {"N": "1"}}}})
    pair.call("GetItem", TableName=table, Key=key, ConsistentRead=True)
    pair.call("UpdateItem", TableName=table, Key=key, UpdateExpression="SET n = n + :half",
              ExpressionAttributeValues={":half": {"N": "0.5"}}, ReturnValues="UPDATED_NEW")
    # A comparison between different types, and size() of a number or of a missing attribute,
    # are false: the write fails its condition (moto: HTTP 500).
    for condition, values in [
        ("s < :number", {":number": {"N": "5"}}),
        ("s BETWEEN :low AND :high", {":low": {"N": "1"}, ":high": {"N": "9"}}),
        ("size(n) > :zero", {":zero": {"N": "0"}}),
        ("size(missing) > :zero", {":zero": {"N": "0"}}),
    ]:
        pair.call_documented("UpdateItem", CCF, TableName=table, Key=key, UpdateExpression="SET touched = :t",
                             ConditionExpression=condition,
                             ExpressionAttributeValues={**values, ":t": {"BOOL": True}})
    # UPDATED_OLD/UPDATED_NEW list what the update writes, even unchanged, nested paths as written.
    pair.call("UpdateItem", TableName=table, Key=key, UpdateExpression="SET s = :same, m.x = :two",
              ExpressionAttributeValues={":same": {"S": "abc"}, ":two": {"N": "2"}}, ReturnValues="UPDATED_OLD")
    pair.call("UpdateItem", TableName=table, Key=key, UpdateExpression="SET s = :same, m.x = :three",
              ExpressionAttributeValues={":same": {"S": "abc"}, ":three": {"N": "3"}}, ReturnValues="UPDATED_NEW")
    # A legacy Expected failing with ReturnValuesOnConditionCheckFailure returns the item.
    pair.call("UpdateItem", TableName=table, Key=key, AttributeUpdates={"s": {"Action": "PUT", "Value": {"S": "x"}}},
              Expected={"s": {"Value": {"S": "nope"}}}, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    # Legacy and expression parameters in one request are refused (moto applies the update).
    pair.call("UpdateItem", TableName=table, Key=key, UpdateExpression="SET s = :v",
              Expected={"s": {"Value": {"S": "nope"}}}, ExpressionAttributeValues={":v": {"S": "mixed"}})
    pair.call("GetItem", TableName=table, Key=key, ConsistentRead=True)
    # Removing a nested path under a missing attribute of an existing item is refused
    # ("The document path provided in the update expression is invalid for update").
    pair.call("UpdateItem", TableName=table, Key=key, UpdateExpression="REMOVE nothing.x")
    pair.call("UpdateItem", TableName=table, Key=key, UpdateExpression="REMOVE nothing[0]")
    # An update that only removes attributes does not create a missing item.
    missing = {"pk": {"S": "never-written"}}
    pair.call("UpdateItem", TableName=table, Key=missing, UpdateExpression="REMOVE s", ReturnValues="ALL_NEW")
    pair.call("UpdateItem", TableName=table, Key=missing, AttributeUpdates={"s": {"Action": "DELETE"}},
              ReturnValues="ALL_NEW")
    pair.call("GetItem", TableName=table, Key=missing, ConsistentRead=True)
    pair.scan_unordered(TableName=table)
    pair.call("DeleteTable", TableName=table)


# ---- the departures table is true of this moto, and each correction gives DynamoDB's answer --

def _through_departures(client, operation, **request):
    """moto's normalised outcome, the corrected outcome, and the names of the departures applied."""
    state = departures.ReferenceState(client, operation, request)
    raw = normalize(invoke(client, operation, request))
    corrected, applied = raw, set()
    for departure in departures.KNOWN:
        result = departure.correct(operation, request, corrected, state)
        if result is not None:
            corrected, applied = result, applied | {departure.name}
    return raw, corrected, applied


def test_moto_departures_still_hold(moto_reference):
    client = dynamodb_client(moto_reference.endpoint)
    table = unique("departures")
    definition = dict(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    raw, corrected, applied = _through_departures(client, "CreateTable", **definition)
    assert raw["ok"]["TableDescription"]["TableStatus"] == "ACTIVE"
    assert corrected["ok"]["TableDescription"]["TableStatus"] == "CREATING"
    assert raw["ok"]["TableDescription"]["LocalSecondaryIndexes"] == []
    assert "LocalSecondaryIndexes" not in corrected["ok"]["TableDescription"]
    assert applied == {"create-table-returns-active", "empty-secondary-index-lists"}

    raw, corrected, applied = _through_departures(
        client, "UpdateTable", TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "owner", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "byOwner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}}],
    )
    assert raw["ok"]["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
    assert corrected["ok"]["TableDescription"]["TableStatus"] == "UPDATING"
    assert corrected["ok"]["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexStatus"] == "CREATING"
    assert "IndexArn" not in raw["ok"]["TableDescription"]["GlobalSecondaryIndexes"][0]
    assert corrected["ok"]["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexArn"].endswith("/index/byOwner")
    assert applied == {"update-table-gsi-create-returns-active", "empty-secondary-index-lists",
                       "index-description-lacks-arn-and-decreases"}

    key = {"pk": {"S": "k"}}
    invoke(client, "PutItem", {"TableName": table, "Item": {
        **key, "n": {"N": "003.50"}, "s": {"S": "abc"}, "m": {"M": {"x": {"N": "1"}, "y": {"S": "q"}}}}})
    raw, corrected, applied = _through_departures(client, "GetItem", TableName=table, Key=key)
    assert (raw["ok"]["Item"]["n"], corrected["ok"]["Item"]["n"]) == ({"N": "003.50"}, {"N": "3.5"})
    assert applied == {"numbers-not-trimmed"}

    raw, corrected, applied = _through_departures(
        client, "UpdateItem", TableName=table, Key=key, UpdateExpression="SET s = :same, m.x = :two",
        ExpressionAttributeValues={":same": {"S": "abc"}, ":two": {"N": "2"}}, ReturnValues="UPDATED_OLD")
    assert "s" not in raw["ok"]["Attributes"]
    assert corrected["ok"]["Attributes"] == {"s": {"S": "abc"}, "m": {"M": {"x": {"N": "1"}}}}
    assert "updated-return-values-only-changed-top-level" in applied

    raw, corrected, applied = _through_departures(
        client, "UpdateItem", TableName=table, Key=key, Expected={"s": {"Value": {"S": "nope"}}},
        AttributeUpdates={"s": {"Action": "PUT", "Value": {"S": "x"}}}, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert raw["error"]["code"] == "ConditionalCheckFailedException" and "Item" not in raw["error"]
    assert corrected["error"]["Item"]["s"] == {"S": "abc"}
    assert "update-item-legacy-expected-drops-return-values-on-ccf" in applied

    raw, corrected, applied = _through_departures(
        client, "UpdateItem", TableName=table, Key=key, UpdateExpression="SET s = :v",
        Expected={"s": {"Value": {"S": "nope"}}}, ExpressionAttributeValues={":v": {"S": "mixed"}})
    # moto evaluates the legacy condition (here failing: no write) instead of refusing the request.
    assert raw["error"]["code"] == "ConditionalCheckFailedException"
    assert corrected["error"]["code"] == "ValidationException"
    assert applied == {"legacy-and-expression-parameters-accepted-together"}

    missing = {"pk": {"S": "missing"}}
    raw, corrected, applied = _through_departures(
        client, "UpdateItem", TableName=table, Key=missing, UpdateExpression="REMOVE s", ReturnValues="ALL_NEW")
    assert raw["ok"]["Attributes"] == missing and "Attributes" not in corrected["ok"]
    assert applied == {"update-removing-from-missing-item-creates-it"}
    assert "Item" not in invoke(client, "GetItem", {"TableName": table, "Key": missing})["ok"]

    # DeleteItem ignores a legacy Expected; the correction fails it and restores moto's item.
    raw, corrected, applied = _through_departures(
        client, "DeleteItem", TableName=table, Key=key, Expected={"s": {"Value": {"S": "nope"}}})
    assert "ok" in raw and corrected["error"]["code"] == "ConditionalCheckFailedException"
    assert applied == {"legacy-expected-misevaluated"}
    assert "Item" in invoke(client, "GetItem", {"TableName": table, "Key": key})["ok"]

    raw, corrected, applied = _through_departures(
        client, "GetItem", TableName=table, Key=key, ProjectionExpression="m, m.x")
    assert "ok" in raw and corrected["error"]["code"] == "ValidationException"
    assert applied == {"projection-overlapping-paths-accepted"}

    raw, corrected, applied = _through_departures(
        client, "Query", TableName=table, KeyConditionExpression="pk = :k", FilterExpression="#p <> :k",
        ExpressionAttributeNames={"#p": "pk"}, ExpressionAttributeValues={":k": {"S": "k"}})
    assert "ok" in raw and corrected["error"]["code"] == "ValidationException"
    assert applied == {"query-filter-on-key-attribute-accepted"}

    raw, _, _ = _through_departures(
        client, "PutItem", TableName=table, Item=key, ConditionExpression="s < :number",
        ExpressionAttributeValues={":number": {"N": "5"}})
    assert departures.is_moto_internal_error(raw)

    raw, corrected, applied = _through_departures(client, "DeleteTable", TableName=table)
    assert (raw["ok"]["TableDescription"]["TableStatus"], corrected["ok"]["TableDescription"]["TableStatus"]) == (
        "ACTIVE", "DELETING")
    assert "delete-table-returns-active" in applied
