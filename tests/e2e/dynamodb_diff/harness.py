"""The pair of endpoints: every call goes to the reference (moto) and to the subject (Rheo), and
their normalised outcomes must be equal, after the named moto departures (departures.py) have
corrected the reference where moto departs from DynamoDB's documented behaviour."""

import difflib
import json
import re
import time
from collections import Counter

from . import departures
from .normalize import invoke, item_sort_key, normalize, without_order

# Error texts that DynamoDB's documentation gives. A message is compared only when the
# reference's message is one of these; otherwise only the error code is compared, because
# moto's and DynamoDB's free-form texts (validation details) are not specified anywhere.
DOCUMENTED_ERROR_MESSAGES = {
    # botocore/AWS API reference, ConditionalCheckFailedException.message
    "ConditionalCheckFailedException": [re.compile(r"^The conditional request failed$")],
    # AWS API reference, common errors / DescribeTable examples
    "ResourceNotFoundException": [
        re.compile(r"^Requested resource not found$"),
        re.compile(r"^Requested resource not found: Table: [\w.-]+ not found$"),
    ],
}

ACTIVE_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.05


class Divergence(AssertionError):
    """The subject's outcome differs from the (corrected) reference's."""


def _documented(error: dict) -> bool:
    patterns = DOCUMENTED_ERROR_MESSAGES.get(error.get("code"), [])
    return any(pattern.match(error.get("message") or "") for pattern in patterns)


def _comparable_errors(expected: dict, actual: dict):
    """Drops error messages that are not compared (see DOCUMENTED_ERROR_MESSAGES)."""
    if "error" in expected and not _documented(expected["error"]):
        expected = {"error": {k: v for k, v in expected["error"].items() if k != "message"}}
        if "error" in actual:
            actual = {"error": {k: v for k, v in actual["error"].items() if k != "message"}}
    return expected, actual


def _show(value) -> str:
    return json.dumps(value, sort_keys=True, default=str, indent=1)


class Pair:
    """The reference and the subject, each a boto3 DynamoDB client. `correct_departures` is off
    when the subject is moto itself (the harness's self-check)."""

    def __init__(self, reference, subject, correct_departures: bool):
        self.reference = reference
        self.subject = subject
        self.correct_departures = correct_departures
        self.context = ""
        self.calls = 0
        self.departures_applied = Counter()

    def call(self, operation: str, **request) -> dict:
        """Sends one call to both sides; returns the reference's normalised outcome after the
        departures' corrections (what DynamoDB answers)."""
        state = self._reference_state(operation, request)
        expected = normalize(invoke(self.reference, operation, request))
        actual = normalize(invoke(self.subject, operation, request))
        expected = self._corrected(operation, request, expected, state)
        self.check(operation, request, expected, actual, state)
        return expected

    def call_documented(self, operation: str, documented: dict, **request) -> dict:
        """For a call moto cannot answer (HTTP 500, departures.MOTO_INTERNAL_ERROR): the subject is
        compared with DynamoDB's documented outcome `documented` instead. Should moto answer, its
        answer is compared as usual (so a fixed moto takes over again)."""
        state = self._reference_state(operation, request)
        expected = normalize(invoke(self.reference, operation, request))
        actual = normalize(invoke(self.subject, operation, request))
        if departures.is_moto_internal_error(expected) and self.correct_departures:
            self.departures_applied[departures.MOTO_INTERNAL_ERROR] += 1
            expected = documented
        else:
            expected = self._corrected(operation, request, expected, state)
        self.check(operation, request, expected, actual)
        return expected

    def _reference_state(self, operation, request):
        if not self.correct_departures:
            return None
        return departures.ReferenceState(self.reference, operation, request)

    def call_or_skip(self, operation: str, request: dict, reference_cannot_answer) -> dict:
        """Like call, but returns None without comparing when `reference_cannot_answer(operation,
        request, moto's outcome, state)` names a departure where moto gives no answer to compare."""
        state = self._reference_state(operation, request)
        expected = normalize(invoke(self.reference, operation, request))
        actual = normalize(invoke(self.subject, operation, request))
        departure = reference_cannot_answer(operation, request, expected, state)
        if departure:
            self.departures_applied[departure] += 1
            return None
        expected = self._corrected(operation, request, expected, state)
        self.check(operation, request, expected, actual, state)
        return expected

    def _corrected(self, operation, request, expected, state):
        if not self.correct_departures:
            return expected
        for departure in departures.KNOWN:
            corrected = departure.correct(operation, request, expected, state)
            if corrected is not None:
                self.departures_applied[departure.name] += 1
                expected = corrected
        return expected

    def check(self, operation, request, expected, actual, state=None):
        self.calls += 1
        expected, actual = without_order(operation, expected), without_order(operation, actual)
        expected, actual = _comparable_errors(expected, actual)
        if expected != actual:
            difference = "\n".join(difflib.unified_diff(
                _show(expected).splitlines(), _show(actual).splitlines(),
                "moto (corrected)", "subject", lineterm="", n=4,
            ))
            raise Divergence(
                f"{operation} differs ({self.context}, call #{self.calls})\n"
                f"request: {json.dumps(request, sort_keys=True, default=str)}\n"
                f"moto's item before: {json.dumps(normalize(getattr(state, 'before', None)), sort_keys=True)}\n"
                f"{difference}"
            )

    # ---- calls whose result order or paging DynamoDB leaves unspecified ----

    def scan_all(self, **request) -> list:
        """Scans every page (following LastEvaluatedKey) on each side, or every segment when the
        request has TotalSegments, and compares the union of items as a set. Each page's
        Count must equal its item count and stay within Limit."""
        expected = self._scan_side(self.reference, "moto", request)
        actual = self._scan_side(self.subject, "subject", request)
        if self.correct_departures:
            expected = [departures.correct_item(item) for item in expected]
        self.check("Scan (all pages)", request, {"items": expected}, {"items": actual})
        return expected

    def _scan_side(self, client, side, request):
        segments = request.get("TotalSegments")
        items = []
        for segment in range(segments) if segments else [None]:
            start = None
            while True:
                page_request = dict(request)
                if segment is not None:
                    page_request["Segment"] = segment
                if start is not None:
                    page_request["ExclusiveStartKey"] = start
                outcome = normalize(invoke(client, "Scan", page_request))
                if "error" in outcome:
                    raise Divergence(f"Scan failed on {side} ({self.context}): {_show(outcome)}")
                page = outcome["ok"]
                page_items = page.get("Items", [])
                assert page["Count"] == len(page_items), f"{side}: Count != len(Items): {_show(page)}"
                if "Limit" in request:
                    assert len(page_items) <= request["Limit"], f"{side}: page over Limit"
                items.extend(page_items)
                start = page.get("LastEvaluatedKey")
                if start is None:
                    break
        keys = [item_sort_key(item) for item in items]
        assert len(keys) == len(set(keys)), f"{side}: an item appears twice across pages/segments"
        return sorted(items, key=item_sort_key)

    def scan_unordered(self, **request) -> dict:
        """One Scan call without Limit; its items compared as a set (Scan order is unspecified)."""
        assert "Limit" not in request and "ExclusiveStartKey" not in request
        expected = normalize(invoke(self.reference, "Scan", request))
        actual = normalize(invoke(self.subject, "Scan", request))
        expected = self._corrected("Scan", request, expected, self._reference_state("Scan", request))
        for outcome in (expected, actual):
            if "ok" in outcome and "Items" in outcome["ok"]:
                outcome["ok"]["Items"] = sorted(outcome["ok"]["Items"], key=item_sort_key)
        self.check("Scan", request, expected, actual)
        return expected

    # ---- table lifecycle: CREATING/UPDATING take different times on each side ----

    def wait_active(self, table: str) -> dict:
        """Polls DescribeTable on each side until the table and all its GSIs are ACTIVE, then
        compares one DescribeTable."""
        for client in (self.reference, self.subject):
            deadline = time.monotonic() + ACTIVE_TIMEOUT_S
            while True:
                outcome = invoke(client, "DescribeTable", {"TableName": table})
                description = outcome.get("ok", {}).get("Table", {})
                indexes = description.get("GlobalSecondaryIndexes", [])
                if description.get("TableStatus") == "ACTIVE" and all(
                    index.get("IndexStatus") == "ACTIVE" for index in indexes
                ):
                    break
                if time.monotonic() > deadline:
                    raise Divergence(f"{table} not ACTIVE within {ACTIVE_TIMEOUT_S}s: {_show(outcome)}")
                time.sleep(POLL_INTERVAL_S)
        return self.call("DescribeTable", TableName=table)

    def wait_gone(self, table: str):
        """Polls DescribeTable on each side until ResourceNotFoundException after a DeleteTable."""
        for client in (self.reference, self.subject):
            deadline = time.monotonic() + ACTIVE_TIMEOUT_S
            while "error" not in invoke(client, "DescribeTable", {"TableName": table}):
                if time.monotonic() > deadline:
                    raise Divergence(f"{table} still exists {ACTIVE_TIMEOUT_S}s after DeleteTable")
                time.sleep(POLL_INTERVAL_S)
