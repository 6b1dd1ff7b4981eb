"""Known departures of moto 5.2.5 from DynamoDB's documented behaviour.

Each departure recognises exactly its case in moto's (normalised) outcome and returns the
outcome DynamoDB documents; the subject (Rheo follows DynamoDB) is compared against that.
Nothing here loosens the comparison: a departure either rewrites moto's answer to the
documented one, or (MOTO_INTERNAL_ERROR) marks a call that moto cannot answer at all.
docs/dynamodb-moto-differences.md describes each one with its documentation reference."""

import copy
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable, Optional

from . import legacy
from .normalize import invoke, normalize
from .paths import CLAUSE, parse_path, project, update_targets


@dataclass(frozen=True)
class Departure:
    name: str
    # (operation, request, moto's normalised outcome, ReferenceState) -> corrected outcome, or
    # None when the case does not apply.
    correct: Callable[[str, dict, dict, "ReferenceState"], Optional[dict]]


class ReferenceState:
    """moto's item for the request's key before the call, and (read on demand) after it."""

    def __init__(self, reference, operation: str, request: dict):
        self.reference = reference
        self.read_request = None
        key = request.get("Key")
        if operation == "PutItem" and "Item" in request and "TableName" in request:
            key = self._key_of_item(reference, request)
        if operation in ("UpdateItem", "PutItem", "DeleteItem") and key and "TableName" in request:
            self.read_request = {"TableName": request["TableName"], "Key": key, "ConsistentRead": True}
        self.before = self._read() if self.read_request else None

    @staticmethod
    def _key_of_item(reference, request):
        """The key attributes of a PutItem's item (from the table's key schema)."""
        outcome = invoke(reference, "DescribeTable", {"TableName": request["TableName"]})
        schema = outcome.get("ok", {}).get("Table", {}).get("KeySchema", [])
        key = {e["AttributeName"]: request["Item"].get(e["AttributeName"]) for e in schema}
        return key if schema and all(key.values()) else None

    def _read(self):
        outcome = invoke(self.reference, "GetItem", self.read_request)
        return outcome.get("ok", {}).get("Item")

    def after(self):
        return self._read()

    def delete_on_reference(self):
        invoke(self.reference, "DeleteItem", {k: v for k, v in self.read_request.items()
                                             if k != "ConsistentRead"})


# ---- numbers: DynamoDB trims leading and trailing zeroes -----------------------------------

def canonical_number(text: str) -> str:
    """DynamoDB's text for a number: "Leading and trailing zeroes are trimmed" (developer guide,
    Supported data types, Number)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _canonical_numbers(value):
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key == "N" and isinstance(item, str):
                result[key] = canonical_number(item)
            elif key == "NS" and isinstance(item, list):
                result[key] = sorted(canonical_number(member) for member in item)
            else:
                result[key] = _canonical_numbers(item)
        return result
    if isinstance(value, list):
        return [_canonical_numbers(item) for item in value]
    return value


def correct_item(item: dict) -> dict:
    """An item as DynamoDB stores it (numbers in canonical form)."""
    return _canonical_numbers(item)


def _numbers_not_trimmed(operation, request, outcome, state):
    corrected = _canonical_numbers(outcome)
    return corrected if corrected != outcome else None


# ---- asynchronous table operations answer with the transitional status --------------------

def _create_table_status(operation, request, outcome, state):
    description = outcome.get("ok", {}).get("TableDescription")
    if operation != "CreateTable" or not description or description.get("TableStatus") != "ACTIVE":
        return None
    corrected = copy.deepcopy(outcome)
    corrected["ok"]["TableDescription"]["TableStatus"] = "CREATING"
    for index in corrected["ok"]["TableDescription"].get("GlobalSecondaryIndexes", []):
        index["IndexStatus"] = "CREATING"
    return corrected


def _update_table_gsi_create_status(operation, request, outcome, state):
    description = outcome.get("ok", {}).get("TableDescription")
    creates = {
        update["Create"]["IndexName"]
        for update in request.get("GlobalSecondaryIndexUpdates", [])
        if "Create" in update
    }
    if operation != "UpdateTable" or not description or not creates:
        return None
    indexes = description.get("GlobalSecondaryIndexes", [])
    if description.get("TableStatus") != "ACTIVE" and all(
        index.get("IndexStatus") != "ACTIVE" for index in indexes if index["IndexName"] in creates
    ):
        return None
    corrected = copy.deepcopy(outcome)
    corrected["ok"]["TableDescription"]["TableStatus"] = "UPDATING"
    for index in corrected["ok"]["TableDescription"].get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in creates:
            index["IndexStatus"] = "CREATING"
            # "Backfilling … true while the index is being built" (GlobalSecondaryIndexDescription)
            index["Backfilling"] = True
    return corrected


def _delete_table_status(operation, request, outcome, state):
    description = outcome.get("ok", {}).get("TableDescription")
    if operation != "DeleteTable" or not description or description.get("TableStatus") == "DELETING":
        return None
    corrected = copy.deepcopy(outcome)
    corrected["ok"]["TableDescription"]["TableStatus"] = "DELETING"
    return corrected


def _empty_index_lists(operation, request, outcome, state):
    """moto describes a table without secondary indexes with empty LocalSecondaryIndexes and
    GlobalSecondaryIndexes lists; DynamoDB leaves the members out (API reference, DescribeTable
    and CreateTable example responses)."""
    body = outcome.get("ok", {})
    description = body.get("Table") or body.get("TableDescription")
    if not description or not any(
        description.get(name) == [] for name in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes")
    ):
        return None
    corrected = copy.deepcopy(outcome)
    body = corrected["ok"]
    description = body.get("Table") or body.get("TableDescription")
    for name in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if description.get(name) == []:
            del description[name]
    return corrected


# ---- UpdateItem with a legacy Expected ignores ReturnValuesOnConditionCheckFailure --------

def _update_item_legacy_ccf_item(operation, request, outcome, state):
    error = outcome.get("error")
    if (
        operation != "UpdateItem"
        or "Expected" not in request
        or request.get("ReturnValuesOnConditionCheckFailure") != "ALL_OLD"
        or not error
        or error.get("code") != "ConditionalCheckFailedException"
        or "Item" in error
    ):
        return None
    # A failed conditional update leaves the item as it was, so the item moto holds now is the
    # one DynamoDB would have returned.
    item = normalize(state.before)
    if item is None:
        return None
    corrected = copy.deepcopy(outcome)
    corrected["error"]["Item"] = _canonical_numbers(item)
    return corrected


# ---- UpdateItem: what it returns and whether it creates the item --------------------------

def _removal_creates_item(operation, request, outcome, state):
    """An update that only removes attributes (REMOVE, DELETE, legacy DELETE) from an item that
    does not exist leaves it absent in DynamoDB; moto creates an item holding only the key."""
    if operation != "UpdateItem" or "ok" not in outcome or state.before is not None:
        return None
    _, only_deletes = update_targets(request)
    if not only_deletes or state.after() is None:
        return None
    state.delete_on_reference()
    corrected = copy.deepcopy(outcome)
    corrected["ok"].pop("Attributes", None)
    return corrected


def _updated_values_by_change(operation, request, outcome, state):
    """UPDATED_OLD / UPDATED_NEW return the attributes the update writes (nested paths projected
    as written), whether or not their value changed; moto returns the top-level attributes whose
    value changed."""
    return_values = request.get("ReturnValues")
    if operation != "UpdateItem" or "ok" not in outcome or return_values not in ("UPDATED_OLD", "UPDATED_NEW"):
        return None
    paths, _ = update_targets(request)
    source = state.before if return_values == "UPDATED_OLD" else state.after()
    attributes = normalize(project(source or {}, paths))
    corrected = copy.deepcopy(outcome)
    if attributes:
        corrected["ok"]["Attributes"] = _canonical_numbers(attributes)
    else:
        corrected["ok"].pop("Attributes", None)
    return corrected if corrected != outcome else None


# ---- legacy Expected: DeleteItem ignores it, ConditionalOperator OR is taken as AND --------

def _legacy_expected_misevaluated(operation, request, outcome, state):
    """moto misjudges legacy Expected conditions: DeleteItem ignores its Expected,
    ConditionalOperator=OR is evaluated as AND, NOT_CONTAINS holds for a missing attribute, and
    Value/EQ comparisons of lists, maps, binaries and empty strings go wrong. The entries are
    evaluated here as DynamoDB documents them (legacy.py) on moto's item as it was, and combined
    by ConditionalOperator. Where moto's answer disagrees, moto's item is put back to what
    DynamoDB leaves, and the answer corrected."""
    if operation not in ("PutItem", "UpdateItem", "DeleteItem") or "Expected" not in request:
        return None
    if "ok" not in outcome and outcome["error"]["code"] != "ConditionalCheckFailedException":
        return None
    verdicts = [legacy.entry_holds(state.before, name, entry) for name, entry in request["Expected"].items()]
    holds = any(verdicts) if request.get("ConditionalOperator") == "OR" else all(verdicts)
    if holds == ("ok" in outcome):
        return None
    table, key = request["TableName"], state.read_request["Key"]
    if not holds:
        if state.before is None:
            invoke(state.reference, "DeleteItem", {"TableName": table, "Key": key})
        else:
            invoke(state.reference, "PutItem", {"TableName": table, "Item": state.before})
        error = {"code": "ConditionalCheckFailedException", "message": "The conditional request failed"}
        if request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and state.before is not None:
            error["Item"] = _canonical_numbers(normalize(state.before))
        return {"error": error}
    unconditional = {k: v for k, v in request.items()
                     if k not in ("Expected", "ConditionalOperator", "ReturnValuesOnConditionCheckFailure")}
    return normalize(invoke(state.reference, operation, unconditional))


# ---- legacy AttributeUpdates DELETE leaves an empty set ------------------------------------

def _legacy_delete_leaves_empty_set(operation, request, outcome, state):
    """A legacy AttributeUpdates DELETE that takes every member out of a set leaves an empty set
    in moto; DynamoDB stores no empty sets and removes the attribute (developer guide, data
    types: "empty sets are not supported"). moto's item is repaired and the answer corrected."""
    if operation != "UpdateItem" or "AttributeUpdates" not in request or "ok" not in outcome:
        return None
    after = state.after() or {}
    empty = [name for name, value in after.items()
             if any(value.get(kind) == [] for kind in ("SS", "NS", "BS"))]
    if not empty:
        return None
    invoke(state.reference, "UpdateItem", {
        "TableName": request["TableName"], "Key": state.read_request["Key"],
        "AttributeUpdates": {name: {"Action": "DELETE"} for name in empty},
    })
    corrected = copy.deepcopy(outcome)
    attributes = corrected["ok"].get("Attributes")
    if attributes is not None and request.get("ReturnValues") in ("ALL_NEW", "UPDATED_NEW"):
        for name in empty:
            attributes.pop(name, None)
        if not attributes:
            del corrected["ok"]["Attributes"]
    return corrected


# ---- empty members DynamoDB leaves out ------------------------------------------------------

def _empty_item_collection_metrics(operation, request, outcome, state):
    """moto answers BatchWriteItem and TransactWriteItems with ItemCollectionMetrics {} although
    none were asked for; DynamoDB returns them only with ReturnItemCollectionMetrics=SIZE
    (API reference, ReturnItemCollectionMetrics: "If set to NONE (the default), no statistics
    are returned")."""
    body = outcome.get("ok", {})
    if body.get("ItemCollectionMetrics") != {} or request.get("ReturnItemCollectionMetrics") == "SIZE":
        return None
    corrected = copy.deepcopy(outcome)
    del corrected["ok"]["ItemCollectionMetrics"]
    return corrected


def _index_description_members(operation, request, outcome, state):
    """moto's GlobalSecondaryIndexDescription lacks IndexArn and its ProvisionedThroughput lacks
    NumberOfDecreasesToday; DynamoDB describes both (API reference,
    GlobalSecondaryIndexDescription.IndexArn, ProvisionedThroughputDescription)."""
    body = outcome.get("ok", {})
    description = body.get("Table") or body.get("TableDescription")
    if not description or not description.get("GlobalSecondaryIndexes"):
        return None
    corrected = copy.deepcopy(outcome)
    body = corrected["ok"]
    description = body.get("Table") or body.get("TableDescription")
    for index in description["GlobalSecondaryIndexes"]:
        if "IndexArn" not in index and "TableArn" in description:
            index["IndexArn"] = f"{description['TableArn']}/index/{index['IndexName']}"
        throughput = index.get("ProvisionedThroughput")
        if throughput is not None:
            throughput.setdefault("NumberOfDecreasesToday", 0)
    return corrected if corrected != outcome else None


# ---- overlapping projection paths ----------------------------------------------------------

def _overlapping_projection_accepted(operation, request, outcome, state):
    """moto answers a ProjectionExpression whose paths overlap (`l, l[0]`); DynamoDB refuses it
    with a ValidationException ("Two document paths overlap with each other"; the same rule as
    for update expressions, developer guide, Projection expressions)."""
    if "ProjectionExpression" not in request or "ok" not in outcome:
        return None
    names = request.get("ExpressionAttributeNames", {})
    paths = [parse_path(part, names) for part in request["ProjectionExpression"].split(",")]
    overlapping = any(
        i != j and paths[j][:len(paths[i])] == paths[i]
        for i in range(len(paths)) for j in range(len(paths))
    )
    if not overlapping:
        return None
    return {"error": {"code": "ValidationException", "message": None}}


# ---- Query filters on key attributes ----------------------------------------------------------

FILTER_NAME = re.compile(r"(?<![:\w#])#?[A-Za-z_][A-Za-z0-9_]*")
FILTER_WORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "attribute_exists", "attribute_not_exists",
                          "attribute_type", "begins_with", "contains", "size"})


def _query_filter_on_key_accepted(operation, request, outcome, state):
    """moto accepts a Query FilterExpression naming a key attribute; DynamoDB refuses it ("A
    filter expression cannot contain partition key or sort key attributes. You need to specify
    those attributes in the key condition expression", developer guide, Query → filter
    expressions)."""
    if operation != "Query" or "FilterExpression" not in request or "ok" not in outcome:
        return None
    description = invoke(state.reference, "DescribeTable", {"TableName": request["TableName"]})["ok"]["Table"]
    schema = description["KeySchema"]
    for index in description.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] == request.get("IndexName"):
            schema = index["KeySchema"]
    keys = {element["AttributeName"] for element in schema}
    names = request.get("ExpressionAttributeNames", {})
    used = {names.get(token, token) for token in FILTER_NAME.findall(request["FilterExpression"])
            if token not in FILTER_WORDS}
    if not used & keys:
        return None
    return {"error": {"code": "ValidationException", "message": None}}


# ---- legacy and expression parameters in one request ----------------------------------------

LEGACY_PARAMETERS = ("Expected", "AttributeUpdates", "ConditionalOperator", "AttributesToGet",
                     "ScanFilter", "QueryFilter", "KeyConditions")
EXPRESSION_PARAMETERS = ("ConditionExpression", "UpdateExpression", "ProjectionExpression",
                         "FilterExpression", "KeyConditionExpression")


def _mixed_parameters_accepted(operation, request, outcome, state):
    mixed = any(p in request for p in LEGACY_PARAMETERS) and any(
        p in request for p in EXPRESSION_PARAMETERS
    )
    if not mixed or outcome.get("error", {}).get("code") == "ValidationException":
        return None
    return {"error": {"code": "ValidationException", "message": None}}


KNOWN = [
    Departure("empty-secondary-index-lists", _empty_index_lists),
    Departure("index-description-lacks-arn-and-decreases", _index_description_members),
    Departure("empty-item-collection-metrics", _empty_item_collection_metrics),
    Departure("legacy-expected-misevaluated", _legacy_expected_misevaluated),
    Departure("legacy-delete-leaves-empty-set", _legacy_delete_leaves_empty_set),
    Departure("legacy-and-expression-parameters-accepted-together", _mixed_parameters_accepted),
    Departure("projection-overlapping-paths-accepted", _overlapping_projection_accepted),
    Departure("query-filter-on-key-attribute-accepted", _query_filter_on_key_accepted),
    Departure("create-table-returns-active", _create_table_status),
    Departure("update-table-gsi-create-returns-active", _update_table_gsi_create_status),
    Departure("delete-table-returns-active", _delete_table_status),
    Departure("update-item-legacy-expected-drops-return-values-on-ccf", _update_item_legacy_ccf_item),
    Departure("update-removing-from-missing-item-creates-it", _removal_creates_item),
    Departure("updated-return-values-only-changed-top-level", _updated_values_by_change),
    Departure("numbers-not-trimmed", _numbers_not_trimmed),
]

# moto answers some well-formed conditions with HTTP 500 (an uncaught exception): size() of a
# missing attribute or of a number, and <, <=, >, >=, BETWEEN between values of different
# types. DynamoDB evaluates such a condition to false. The random sequence cannot know the
# whole condition's value without moto, so it skips exactly these calls and re-synchronises
# the item (harness: RandomRun); explicit tests check DynamoDB's documented answer.
MOTO_INTERNAL_ERROR = "moto-http-500-on-type-mismatch"


def is_moto_internal_error(outcome: dict) -> bool:
    return outcome.get("error", {}).get("code") == "500"


# moto refuses `REMOVE x.y` (or `x[0]`) on an item that does not exist; DynamoDB ignores such a
# removal when the whole item is missing (observed by Alternator's
# test_nested_attribute_remove_from_missing_item) and applies the rest of the update. The random
# sequence skips and re-synchronises these calls.
MOTO_NESTED_REMOVE_ON_MISSING_ITEM = "remove-nested-path-of-missing-item-refused"


# In TransactWriteItems, moto reports the same uncaught exceptions as cancellation reasons named
# after Python exceptions ("ValueError", "AssertionError": not DynamoDB codes), and answers an update that is invalid for the item (a
# document path into a missing map) with a plain ValidationException, where DynamoDB cancels
# the transaction with the reason code ValidationError (API reference, TransactWriteItems,
# cancellation reasons). Both are skipped and re-synchronised.
MOTO_TRANSACTION_VALIDATION = "transaction-validation-error-not-a-cancellation"
# API reference, TransactWriteItems: the cancellation reason codes DynamoDB gives.
DYNAMODB_CANCELLATION_CODES = frozenset({
    "None", "ConditionalCheckFailed", "ItemCollectionSizeLimitExceeded", "TransactionConflict",
    "ProvisionedThroughputExceeded", "ThrottlingError", "ValidationError",
})


def moto_cannot_answer(operation: str, request: dict, outcome: dict, state) -> Optional[str]:
    """The name of the departure that leaves no answer of moto's to compare with, or None."""
    if is_moto_internal_error(outcome):
        return MOTO_INTERNAL_ERROR
    if operation == "TransactWriteItems":
        error = outcome.get("error", {})
        if any(reason.get("Code") not in DYNAMODB_CANCELLATION_CODES
               for reason in error.get("CancellationReasons", [])):
            return MOTO_INTERNAL_ERROR
        if error.get("code") == "ValidationException" and "UpdateExpression" in str(request):
            return MOTO_TRANSACTION_VALIDATION
    if (
        operation == "UpdateItem"
        and outcome.get("error", {}).get("code") == "ValidationException"
        and state is not None and state.before is None
        and any(len(path) > 1 for path in _removed_paths(request))
    ):
        return MOTO_NESTED_REMOVE_ON_MISSING_ITEM
    return None


def _removed_paths(request: dict) -> list:
    if "UpdateExpression" not in request:
        return []
    names = request.get("ExpressionAttributeNames", {})
    pieces = CLAUSE.split(request["UpdateExpression"])
    return [
        parse_path(part, names)
        for keyword, body in zip(pieces[1::2], pieces[2::2]) if keyword.upper() == "REMOVE"
        for part in body.split(",") if part.strip()
    ]
