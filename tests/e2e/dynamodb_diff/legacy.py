"""DynamoDB's documented evaluation of one legacy Expected entry (developer guide, Legacy
conditional parameters → Expected and ComparisonOperator), used where moto misjudges it.

Values are boto3's attribute values (B as bytes, sets as lists). A comparison between values of
different types does not match ("{"S":"6"} does not equal {"N":"6"}"); NE holds for a missing
attribute and NOT_CONTAINS does not (as observed on DynamoDB by Alternator's test_expected.py)."""

from decimal import Decimal

SET_ELEMENT = {"SS": "S", "NS": "N", "BS": "B"}


def _scalar(value):
    (kind, raw), = value.items()
    if kind == "N":
        return kind, Decimal(raw)
    if kind == "S":
        return kind, raw.encode()
    return kind, raw


def equal(left: dict, right: dict) -> bool:
    (left_kind, left_raw), = left.items()
    (right_kind, right_raw), = right.items()
    if left_kind != right_kind:
        return False
    if left_kind in SET_ELEMENT:
        element = SET_ELEMENT[left_kind]
        return {_scalar({element: v})[1] for v in left_raw} == {_scalar({element: v})[1] for v in right_raw}
    if left_kind == "L":
        return len(left_raw) == len(right_raw) and all(equal(a, b) for a, b in zip(left_raw, right_raw))
    if left_kind == "M":
        return left_raw.keys() == right_raw.keys() and all(equal(left_raw[k], right_raw[k]) for k in left_raw)
    if left_kind in ("N", "S", "B"):
        return _scalar(left) == _scalar(right)
    return left_raw == right_raw


def _ordered(value: dict, other: dict):
    """Both as comparable scalars of one type (N, S or B), or None."""
    left, right = _scalar(value), _scalar(other)
    if left[0] != right[0] or left[0] not in ("N", "S", "B"):
        return None
    return left[1], right[1]


def _contains(value: dict, operand: dict) -> bool:
    (kind, raw), = value.items()
    (operand_kind, _), = operand.items()
    if kind in ("S", "B") and operand_kind == kind:
        return _scalar(operand)[1] in _scalar(value)[1]
    if kind in SET_ELEMENT and operand_kind == SET_ELEMENT[kind]:
        return any(equal({operand_kind: member}, operand) for member in raw)
    if kind == "L":
        return any(equal(member, operand) for member in raw)
    return False


def entry_holds(item: dict, name: str, entry: dict) -> bool:
    value = (item or {}).get(name)
    if "ComparisonOperator" not in entry:
        if entry.get("Exists") is False:
            return value is None
        return value is not None and equal(value, entry["Value"])
    operator = entry["ComparisonOperator"]
    arguments = entry.get("AttributeValueList", [])
    if operator == "NULL":
        return value is None
    if operator == "NOT_NULL":
        return value is not None
    if operator == "NE":
        return value is None or not equal(value, arguments[0])
    if value is None:
        return False
    if operator == "EQ":
        return equal(value, arguments[0])
    if operator == "IN":
        return any(equal(value, argument) for argument in arguments)
    if operator == "CONTAINS":
        return _contains(value, arguments[0])
    if operator == "NOT_CONTAINS":
        return not _contains(value, arguments[0])
    if operator == "BEGINS_WITH":
        pair = _ordered(value, arguments[0])
        return pair is not None and pair[0].startswith(pair[1])
    if operator == "BETWEEN":
        low, high = _ordered(value, arguments[0]), _ordered(value, arguments[1])
        return low is not None and high is not None and low[1] <= low[0] <= high[1]
    pair = _ordered(value, arguments[0])
    if pair is None:
        return False
    left, right = pair
    return {"LT": left < right, "LE": left <= right, "GT": left > right, "GE": left >= right}[operator]
