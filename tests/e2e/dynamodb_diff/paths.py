"""Document paths for the departures that recompute DynamoDB's answer from moto's item states:
the paths an update writes, and the projection of an item onto paths (DynamoDB's
ProjectionExpression rule: nested maps keep their nesting, list elements keep their order)."""

import re

CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)
PATH_ELEMENT = re.compile(r"\s*(#?[A-Za-z0-9_]+)|\.(#?[A-Za-z0-9_]+)|\[(\d+)\]")


def _split_top_level(text: str, separator: str = ","):
    parts, depth, current = [], 0, ""
    for character in text:
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        if character == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += character
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def parse_path(text: str, names: dict) -> list:
    """'#a.b[2]' -> ['<name of #a>', 'b', 2]."""
    elements, position = [], 0
    text = text.strip()
    while position < len(text):
        match = PATH_ELEMENT.match(text, position)
        if not match:
            raise ValueError(f"not a document path: {text!r}")
        name = match.group(1) or match.group(2)
        if name is not None:
            elements.append(names.get(name, name))
        else:
            elements.append(int(match.group(3)))
        position = match.end()
    return elements


def update_targets(request: dict) -> tuple:
    """(written paths, whether the update only removes or deletes) of an UpdateItem request."""
    names = request.get("ExpressionAttributeNames", {})
    if "AttributeUpdates" in request:
        updates = request["AttributeUpdates"]
        paths = [[name] for name in updates]
        only_deletes = bool(updates) and all(u.get("Action") == "DELETE" for u in updates.values())
        return paths, only_deletes
    expression = request.get("UpdateExpression", "")
    pieces = CLAUSE.split(expression)
    paths, actions = [], set()
    for keyword, body in zip(pieces[1::2], pieces[2::2]):
        action = keyword.upper()
        for part in _split_top_level(body):
            actions.add(action)
            if action == "SET":
                target = part.split("=", 1)[0]
            elif action == "REMOVE":
                target = part
            else:
                target = part.split()[0]
            paths.append(parse_path(target, names))
    return paths, bool(actions) and actions <= {"REMOVE", "DELETE"}


def project(item: dict, paths: list) -> dict:
    """The item's values at `paths`, nested as in the item; missing paths are left out."""
    result: dict = {}
    for path in paths:
        value = _lookup({"M": item}, path)
        if value is not None:
            _insert(result, path, value)
    return {name: _finish(value) for name, value in result.items()}


def _lookup(value, path):
    for element in path:
        if isinstance(element, int):
            items = value.get("L") if isinstance(value, dict) else None
            if items is None or element >= len(items):
                return None
            value = items[element]
        else:
            members = value.get("M") if isinstance(value, dict) else None
            if members is None or element not in members:
                return None
            value = members[element]
    return value


def _insert(tree: dict, path: list, value):
    """Builds a tree keyed by path elements; list indices are kept as int keys until _finish."""
    node = tree
    for element in path[:-1]:
        node = node.setdefault(element, {})
    node[path[-1]] = {"__leaf__": value}


def _finish(node):
    if "__leaf__" in node:
        return node["__leaf__"]
    if all(isinstance(key, int) for key in node):
        return {"L": [_finish(node[index]) for index in sorted(node)]}
    return {"M": {key: _finish(child) for key, child in node.items()}}
