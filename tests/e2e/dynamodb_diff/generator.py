"""A seeded generator of DynamoDB item calls over a small key space: conditional PutItem,
UpdateItem (UpdateExpression or legacy AttributeUpdates), DeleteItem, GetItem and Query, with
random condition expressions and legacy Expected conditions.

Every attribute has one fixed type (ATTRIBUTE_TYPES), so updates stay well typed; conditions and
updates may still refer to attributes an item lacks, which DynamoDB answers with a condition
failure or a ValidationException, both compared."""

import random

HASH_KEY, RANGE_KEY = "pk", "sk"
HASH_VALUES = ["a", "b"]
RANGE_VALUES = ["1", "2", "3"]

ATTRIBUTE_TYPES = {
    "n": "N", "s": "S", "ss": "SS", "ns": "NS", "l": "L", "m": "M",
    "flag": "BOOL", "bin": "B", "nul": "NULL",
}
# Nested paths with a known type: members of the map `m`.
NESTED_TYPES = {"m.x": "N", "m.y": "S"}

NUMBERS = ["0", "1", "2", "-1", "2.5", "10", "-3.25", "100", "0.5", "1.50"]
STRINGS = ["", "a", "ab", "abc", "b", "ba", "z"]
SET_STRINGS = ["a", "b", "c", "d"]
SET_NUMBERS = ["1", "2", "3", "5"]
BINARIES = [b"\x00", b"ab", b"\xff\x01"]
TYPE_NAMES = ["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"]
COMPARATORS = ["=", "<>", "<", "<=", ">", ">="]
RETURN_VALUES_UPDATE = ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]


class Values:
    """Random attribute values of a given type."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def of(self, kind: str) -> dict:
        rng = self.rng
        if kind == "N":
            return {"N": rng.choice(NUMBERS)}
        if kind == "S":
            return {"S": rng.choice(STRINGS)}
        if kind == "SS":
            return {"SS": rng.sample(SET_STRINGS, rng.randint(1, 3))}
        if kind == "NS":
            return {"NS": rng.sample(SET_NUMBERS, rng.randint(1, 3))}
        if kind == "L":
            return {"L": [self.scalar() for _ in range(rng.randint(0, 3))]}
        if kind == "M":
            members = {}
            if rng.random() < 0.7:
                members["x"] = self.of("N")
            if rng.random() < 0.7:
                members["y"] = self.of("S")
            return {"M": members}
        if kind == "BOOL":
            return {"BOOL": rng.random() < 0.5}
        if kind == "B":
            return {"B": rng.choice(BINARIES)}
        if kind == "NULL":
            return {"NULL": True}
        raise ValueError(kind)

    def scalar(self) -> dict:
        return self.of(self.rng.choice(["N", "S"]))


def random_key(rng: random.Random) -> dict:
    return {HASH_KEY: {"S": rng.choice(HASH_VALUES)}, RANGE_KEY: {"N": rng.choice(RANGE_VALUES)}}


def random_item(rng: random.Random, values: Values, key: dict) -> dict:
    item = dict(key)
    for attribute, kind in ATTRIBUTE_TYPES.items():
        if rng.random() < 0.5:
            item[attribute] = values.of(kind)
    return item


class Expression:
    """Placeholders of one request: every name and value placeholder made is used once."""

    def __init__(self, rng: random.Random, values: Values):
        self.rng = rng
        self.values = values
        self.names: dict = {}
        self.attribute_values: dict = {}

    def name(self, attribute: str) -> str:
        if self.rng.random() < 0.3:
            placeholder = f"#n{len(self.names)}"
            self.names[placeholder] = attribute
            return placeholder
        return attribute

    def path(self, path: str) -> str:
        """A document path with its top-level name maybe replaced by a placeholder."""
        for separator in (".", "["):
            head, found, rest = path.partition(separator)
            if found:
                return f"{self.name(head)}{separator}{rest}"
        return self.name(path)

    def value(self, value: dict) -> str:
        placeholder = f":v{len(self.attribute_values)}"
        self.attribute_values[placeholder] = value
        return placeholder

    def apply(self, request: dict) -> dict:
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.attribute_values:
            request["ExpressionAttributeValues"] = self.attribute_values
        return request

    # ---- conditions ----

    def condition(self, depth: int = 0) -> str:
        rng = self.rng
        roll = rng.random()
        if depth < 2 and roll < 0.12:
            return f"NOT {self.condition(depth + 1)}"
        if depth < 2 and roll < 0.35:
            joiner = rng.choice(["AND", "OR"])
            return f"({self.condition(depth + 1)} {joiner} {self.condition(depth + 1)})"
        return self.atom()

    def _typed_path(self, kinds=None):
        typed = {**ATTRIBUTE_TYPES, **NESTED_TYPES, HASH_KEY: "S", RANGE_KEY: "N"}
        choices = [p for p, kind in typed.items() if kinds is None or kind in kinds]
        path = self.rng.choice(choices)
        return path, typed[path]

    def atom(self) -> str:
        rng = self.rng
        kind = rng.choice([
            "exists", "not_exists", "type", "compare", "equal", "begins_with", "contains",
            "size", "in", "between",
        ])
        if kind in ("exists", "not_exists"):
            path, _ = self._typed_path()
            function = "attribute_exists" if kind == "exists" else "attribute_not_exists"
            return f"{function}({self.path(path)})"
        if kind == "type":
            path, actual = self._typed_path()
            wanted = actual if rng.random() < 0.5 else rng.choice(TYPE_NAMES)
            return f"attribute_type({self.path(path)}, {self.value({'S': wanted})})"
        if kind == "compare":
            path, actual = self._typed_path({"N", "S"})
            return f"{self.path(path)} {rng.choice(COMPARATORS)} {self.value(self.values.of(actual))}"
        if kind == "equal":
            # moto takes a missing attribute as equal to NULL, so NULL is left out of comparisons.
            path, actual = self._typed_path(set(TYPE_NAMES) - {"NULL"})
            return f"{self.path(path)} {rng.choice(['=', '<>'])} {self.value(self.values.of(actual))}"
        if kind == "begins_with":
            path, _ = self._typed_path({"S"})
            return f"begins_with({self.path(path)}, {self.value(self.values.of('S'))})"
        if kind == "contains":
            path, actual = self._typed_path({"S", "SS", "NS", "L"})
            operand = {"S": "S", "SS": "S", "NS": "N"}.get(actual)
            element = self.values.of(operand) if operand else self.values.scalar()
            return f"contains({self.path(path)}, {self.value(element)})"
        if kind == "size":
            path, _ = self._typed_path({"S", "SS", "NS", "L", "M", "B"})
            number = {"N": str(rng.randint(0, 3))}
            return f"size({self.path(path)}) {rng.choice(COMPARATORS)} {self.value(number)}"
        if kind == "in":
            path, actual = self._typed_path({"N", "S"})
            options = ", ".join(self.value(self.values.of(actual)) for _ in range(rng.randint(1, 3)))
            return f"{self.path(path)} IN ({options})"
        path, actual = self._typed_path({"N", "S"})
        low, high = sorted(
            [self.values.of(actual), self.values.of(actual)],
            key=lambda v: float(v["N"]) if actual == "N" else v["S"],
        )
        return f"{self.path(path)} BETWEEN {self.value(low)} AND {self.value(high)}"

    # ---- update expressions ----

    def update(self) -> str:
        rng = self.rng
        attributes = rng.sample(sorted(ATTRIBUTE_TYPES), rng.randint(1, 4))
        clauses = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        for attribute in attributes:
            action, text = self._update_action(attribute)
            clauses[action].append(text)
        return " ".join(
            f"{action} {', '.join(texts)}" for action, texts in clauses.items() if texts
        )

    def _update_action(self, attribute: str):
        rng = self.rng
        kind = ATTRIBUTE_TYPES[attribute]
        name = self.name(attribute)
        options = ["set", "remove"]
        if kind in ("N", "SS", "NS"):
            options.append("add")
        if kind in ("SS", "NS"):
            options.append("delete")
        option = rng.choice(options)
        if option == "remove":
            if kind == "L" and rng.random() < 0.5:
                return "REMOVE", f"{name}[{rng.randint(0, 2)}]"
            if kind == "M" and rng.random() < 0.5:
                return "REMOVE", f"{name}.{rng.choice(['x', 'y'])}"
            return "REMOVE", name
        if option == "add":
            return "ADD", f"{name} {self.value(self.values.of(kind))}"
        if option == "delete":
            return "DELETE", f"{name} {self.value(self.values.of(kind))}"
        return "SET", self._set_action(attribute, kind, name)

    def _set_action(self, attribute: str, kind: str, name: str) -> str:
        rng = self.rng
        roll = rng.random()
        if kind == "N":
            if roll < 0.25:
                return f"{name} = {name} {rng.choice(['+', '-'])} {self.value(self.values.of('N'))}"
            if roll < 0.5:
                fallback, step = self.value(self.values.of("N")), self.value(self.values.of("N"))
                return f"{name} = if_not_exists({name}, {fallback}) + {step}"
            if roll < 0.6:
                fallback, step = self.value(self.values.of("N")), self.value(self.values.of("N"))
                return f"{name} = {step} - if_not_exists({self.name(attribute)}, {fallback})"
        if kind == "S" and roll < 0.3:
            return f"{name} = if_not_exists({name}, {self.value(self.values.of('S'))})"
        if kind == "L":
            def tail():
                return self.value({"L": [self.values.scalar() for _ in range(rng.randint(1, 2))]})
            if roll < 0.35:
                return f"{name} = list_append(if_not_exists({name}, {self.value({'L': []})}), {tail()})"
            if roll < 0.5:
                return f"{name} = list_append({tail()}, {name})"
            if roll < 0.65:
                return f"{name}[{rng.randint(0, 3)}] = {self.value(self.values.scalar())}"
        if kind == "M" and roll < 0.4:
            member = rng.choice(["x", "y"])
            member_kind = NESTED_TYPES[f"m.{member}"]
            return f"{name}.{member} = {self.value(self.values.of(member_kind))}"
        return f"{name} = {self.value(self.values.of(kind))}"


# ---- legacy parameters ---------------------------------------------------------------------

LEGACY_COMPARISONS = {
    "EQ": 1, "NE": 1, "LT": 1, "LE": 1, "GT": 1, "GE": 1, "BEGINS_WITH": 1,
    "CONTAINS": 1, "NOT_CONTAINS": 1, "NULL": 0, "NOT_NULL": 0, "IN": None, "BETWEEN": 2,
}


def legacy_expected(rng: random.Random, values: Values) -> dict:
    expected = {}
    for attribute in rng.sample(sorted(ATTRIBUTE_TYPES) + [HASH_KEY], rng.randint(1, 2)):
        kind = ATTRIBUTE_TYPES.get(attribute, "S")
        roll = rng.random()
        if roll < 0.25:
            expected[attribute] = {"Exists": False}
        elif roll < 0.5 and kind not in ("SS", "NS", "NULL"):
            entry = {"Value": values.of(kind)}
            if rng.random() < 0.5:
                entry["Exists"] = True
            expected[attribute] = entry
        else:
            expected[attribute] = _legacy_comparison(rng, values, kind)
    return expected


def _legacy_comparison(rng, values, kind):
    scalar = kind if kind in ("N", "S", "B") else None
    operators = ["NULL", "NOT_NULL"]
    if scalar:
        operators += ["EQ", "NE", "LT", "LE", "GT", "GE", "IN", "BETWEEN"]
    if kind in ("S", "B"):
        operators.append("BEGINS_WITH")
    if kind in ("S", "SS", "NS"):
        operators += ["CONTAINS", "NOT_CONTAINS"]
    operator = rng.choice(operators)
    count = LEGACY_COMPARISONS[operator]
    if operator in ("CONTAINS", "NOT_CONTAINS"):
        arguments = [values.of({"S": "S", "SS": "S", "NS": "N"}[kind])]
    elif operator == "IN":
        arguments = [values.of(scalar) for _ in range(rng.randint(1, 3))]
    elif operator == "BETWEEN":
        arguments = sorted(
            [values.of(scalar), values.of(scalar)],
            key=lambda v: float(v["N"]) if scalar == "N" else next(iter(v.values())),
        )
    else:
        arguments = [values.of(scalar) for _ in range(count)]
    entry = {"ComparisonOperator": operator}
    if arguments:
        entry["AttributeValueList"] = arguments
    return entry


def legacy_attribute_updates(rng: random.Random, values: Values) -> dict:
    updates = {}
    # moto stores a binary value PUT through AttributeUpdates as the string of its Python repr,
    # which would corrupt the reference's item: binary attributes are written by the other calls.
    # NULL values PUT this way are dropped by moto, and BOOL values stored as strings.
    writable = sorted(name for name, kind in ATTRIBUTE_TYPES.items() if kind not in ("B", "NULL", "BOOL"))
    for attribute in rng.sample(writable, rng.randint(1, 3)):
        kind = ATTRIBUTE_TYPES[attribute]
        options = ["PUT", "DELETE"]
        if kind in ("N", "SS", "NS"):
            options.append("ADD")
        action = rng.choice(options)
        if action == "DELETE":
            if kind in ("SS", "NS") and rng.random() < 0.6:
                updates[attribute] = {"Action": "DELETE", "Value": values.of(kind)}
            else:
                updates[attribute] = {"Action": "DELETE"}
        else:
            updates[attribute] = {"Action": action, "Value": values.of(kind)}
    return updates


# ---- whole requests ------------------------------------------------------------------------

class Generator:
    def __init__(self, seed: int, table: str):
        self.rng = random.Random(seed)
        self.values = Values(self.rng)
        self.table = table

    def _return_on_failure(self, request: dict) -> dict:
        roll = self.rng.random()
        if roll < 0.4:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        elif roll < 0.5:
            request["ReturnValuesOnConditionCheckFailure"] = "NONE"
        return request

    # How often each call is generated, in percent.
    WEIGHTS = {
        "put_item": 17, "put_item_legacy": 8, "update_item": 25, "update_item_legacy": 15,
        "delete_item": 12, "get_item": 9, "query": 4, "transact_write_items": 5,
        "batch_write_item": 2, "batch_get_item": 1.5, "transact_get_items": 1.5,
    }

    def next(self):
        """One (operation, request)."""
        method = self.rng.choices(list(self.WEIGHTS), weights=list(self.WEIGHTS.values()))[0]
        return getattr(self, method)()

    def _distinct_keys(self, count: int) -> list:
        pairs = self.rng.sample([(h, r) for h in HASH_VALUES for r in RANGE_VALUES], count)
        return [{HASH_KEY: {"S": h}, RANGE_KEY: {"N": r}} for h, r in pairs]

    def transact_write_items(self):
        """1-3 actions on distinct keys (DynamoDB refuses two actions on one item)."""
        rng = self.rng
        actions = []
        for key in self._distinct_keys(rng.randint(1, 3)):
            kind = rng.choice(["Put", "Update", "Delete", "ConditionCheck"])
            expression = Expression(rng, self.values)
            action = {"TableName": self.table}
            if kind == "Put":
                action["Item"] = random_item(rng, self.values, key)
            else:
                action["Key"] = key
            if kind == "Update":
                action["UpdateExpression"] = expression.update()
            if kind == "ConditionCheck" or rng.random() < 0.6:
                action["ConditionExpression"] = expression.condition()
                if rng.random() < 0.4:
                    action["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            expression.apply(action)
            actions.append({kind: action})
        return "TransactWriteItems", {"TransactItems": actions}

    def transact_get_items(self):
        keys = self._distinct_keys(self.rng.randint(1, 3))
        return "TransactGetItems", {"TransactItems": [{"Get": {"TableName": self.table, "Key": key}} for key in keys]}

    def batch_write_item(self):
        rng = self.rng
        requests = []
        for key in self._distinct_keys(rng.randint(1, 4)):
            if rng.random() < 0.6:
                requests.append({"PutRequest": {"Item": random_item(rng, self.values, key)}})
            else:
                requests.append({"DeleteRequest": {"Key": key}})
        return "BatchWriteItem", {"RequestItems": {self.table: requests}}

    def batch_get_item(self):
        keys = self._distinct_keys(self.rng.randint(1, 4))
        return "BatchGetItem", {"RequestItems": {self.table: {"Keys": keys, "ConsistentRead": True}}}

    def put_item(self):
        rng = self.rng
        request = {"TableName": self.table, "Item": random_item(rng, self.values, random_key(rng))}
        if rng.random() < 0.7:
            expression = Expression(rng, self.values)
            request["ConditionExpression"] = expression.condition()
            expression.apply(request)
            self._return_on_failure(request)
        if rng.random() < 0.5:
            request["ReturnValues"] = rng.choice(["NONE", "ALL_OLD"])
        return "PutItem", request

    def put_item_legacy(self):
        rng = self.rng
        request = {
            "TableName": self.table,
            "Item": random_item(rng, self.values, random_key(rng)),
            "Expected": legacy_expected(rng, self.values),
        }
        if len(request["Expected"]) > 1:
            request["ConditionalOperator"] = rng.choice(["AND", "OR"])
        return "PutItem", request

    def update_item(self):
        rng = self.rng
        expression = Expression(rng, self.values)
        request = {"TableName": self.table, "Key": random_key(rng), "UpdateExpression": expression.update()}
        if rng.random() < 0.6:
            request["ConditionExpression"] = expression.condition()
            self._return_on_failure(request)
        expression.apply(request)
        if rng.random() < 0.7:
            request["ReturnValues"] = rng.choice(RETURN_VALUES_UPDATE)
        return "UpdateItem", request

    def update_item_legacy(self):
        rng = self.rng
        request = {
            "TableName": self.table,
            "Key": random_key(rng),
            "AttributeUpdates": legacy_attribute_updates(rng, self.values),
        }
        if rng.random() < 0.6:
            request["Expected"] = legacy_expected(rng, self.values)
            if len(request["Expected"]) > 1:
                request["ConditionalOperator"] = rng.choice(["AND", "OR"])
            self._return_on_failure(request)
        if rng.random() < 0.7:
            request["ReturnValues"] = rng.choice(RETURN_VALUES_UPDATE)
        return "UpdateItem", request

    def delete_item(self):
        rng = self.rng
        request = {"TableName": self.table, "Key": random_key(rng)}
        roll = rng.random()
        if roll < 0.5:
            expression = Expression(rng, self.values)
            request["ConditionExpression"] = expression.condition()
            expression.apply(request)
            self._return_on_failure(request)
        elif roll < 0.7:
            request["Expected"] = legacy_expected(rng, self.values)
            if len(request["Expected"]) > 1:
                request["ConditionalOperator"] = rng.choice(["AND", "OR"])
        if rng.random() < 0.5:
            request["ReturnValues"] = rng.choice(["NONE", "ALL_OLD"])
        return "DeleteItem", request

    def get_item(self):
        rng = self.rng
        request = {"TableName": self.table, "Key": random_key(rng), "ConsistentRead": rng.random() < 0.5}
        if rng.random() < 0.4:
            expression = Expression(rng, self.values)
            paths = rng.sample(sorted(ATTRIBUTE_TYPES) + ["m.x", "l[0]", HASH_KEY], rng.randint(1, 3))
            # moto does not count a placeholder followed by an index (#n[0]) as used, so indexed
            # paths keep their plain name here.
            request["ProjectionExpression"] = ", ".join(
                p if "[" in p else expression.path(p) for p in paths
            )
            expression.apply(request)
        return "GetItem", request

    def query(self):
        rng = self.rng
        expression = Expression(rng, self.values)
        hash_value = expression.value({"S": rng.choice(HASH_VALUES)})
        key_condition = f"{expression.name(HASH_KEY)} = {hash_value}"
        roll = rng.random()
        if roll < 0.3:
            low, high = sorted(rng.sample(RANGE_VALUES, 2), key=int)
            key_condition += (
                f" AND {expression.name(RANGE_KEY)} BETWEEN "
                f"{expression.value({'N': low})} AND {expression.value({'N': high})}"
            )
        elif roll < 0.6:
            comparator = rng.choice(["=", "<", "<=", ">", ">="])
            key_condition += (
                f" AND {expression.name(RANGE_KEY)} {comparator} "
                f"{expression.value({'N': rng.choice(RANGE_VALUES)})}"
            )
        request = {
            "TableName": self.table,
            "KeyConditionExpression": key_condition,
            "ScanIndexForward": rng.random() < 0.5,
        }
        if rng.random() < 0.4:
            request["FilterExpression"] = expression.condition()
        expression.apply(request)
        return "Query", request
