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
from dynamodb_diff import kcl_calls, random_run
from dynamodb_diff.generator import Generator
from dynamodb_diff.harness import Pair
from dynamodb_diff.normalize import invoke
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
        elif error and error["code"] not in ("ConditionalCheckFailedException", "ValidationException", "500"):
            malformed.append((index, operation, request, error))
    assert not malformed, "\n".join(map(repr, malformed[:5]))
    assert "ConditionalCheckFailedException" in codes
