#!/usr/bin/env python3
"""Transcribes the Firehose service model (botocore `firehose/2015-08-04/service-2.json`)
into `crates/protocol/src/firehose/model.rs`: the shapes reachable from the operations
rheo-firehose serves, as `wire_struct!`/`wire_enum!` declarations and shape constants, so
every member's name, type and constraints are written once, by the model.

Usage: python3 crates/protocol/gen/firehose_model.py PATH/TO/service-2.json[.gz] > crates/protocol/src/firehose/model.rs
       cargo fmt --all

What is not transcribed literally is decided by the three tables below.
"""
import gzip
import json
import re
import sys

OPERATIONS = [
    "CreateDeliveryStream", "DeleteDeliveryStream", "DescribeDeliveryStream", "ListDeliveryStreams",
    "UpdateDestination", "PutRecord", "PutRecordBatch", "StartDeliveryStreamEncryption",
    "StopDeliveryStreamEncryption", "TagDeliveryStream", "UntagDeliveryStream", "ListTagsForDeliveryStream",
]

# Shapes kept as opaque JSON (`Document`): rheo-firehose refuses or ignores them without
# reading their content (other destination kinds, other source kinds, Secrets Manager,
# the schema/serde parts of format conversion).
OPAQUE_PREFIXES = ("Elasticsearch", "Amazonopensearchservice", "AmazonOpenSearchServerless", "Splunk",
                   "Snowflake", "Iceberg")
OPAQUE = {
    "MSKSourceConfiguration", "DatabaseSourceConfiguration", "DirectPutSourceConfiguration",
    "MSKSourceDescription", "DatabaseSourceDescription", "DirectPutSourceDescription",
    "SecretsManagerConfiguration", "SchemaConfiguration", "InputFormatConfiguration", "OutputFormatConfiguration",
}

def opaque(name, shape):
    if shape["type"] != "structure":
        return False
    return name in OPAQUE or (name.startswith(OPAQUE_PREFIXES) and re.search(r"Destination(Configuration|Update|Description)$", name))

# Destination configurations UpdateDestination merges into: their model-required members
# are `need` (Option in Rust, required by the shape), checked again after a merge.
NEED = {"ExtendedS3DestinationConfiguration", "S3DestinationConfiguration",
        "HttpEndpointDestinationConfiguration", "RedshiftDestinationConfiguration"}

# Patterns enforced at decoding, with their `regex`-crate form (Java semantics via
# `java_regex`). Other model patterns are not enforced: Rheo's destinations legitimately
# differ (http:// endpoints, PostgreSQL JDBC URLs), business code checks them with
# InvalidArgument texts (tag keys starting with `aws:`), or they need look-around.
PATTERNS = {
    "[a-zA-Z0-9_.-]+": "Pattern::NameCharacters",
    "arn:.*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+": "arn:{DOT}*:iam::[0-9]{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+",
    "arn:.*:s3:::[\\w\\.\\-]{1,255}": "arn:{DOT}*:s3:::[a-zA-Z_0-9.\\-]{1,255}",
    "^$|\\.[0-9a-z!\\-_.*'()]+": "|\\.[0-9a-z!\\-_.*'()]+",
    "[0-9]+": "[0-9]+",
    "arn:.*:kms:[a-zA-Z0-9\\-]+:\\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\\-_/]+":
        "arn:{DOT}*:kms:[a-zA-Z0-9\\-]+:[0-9]{12}:(key|alias)/[a-zA-Z_0-9+=,.@\\-_/]+",
}

KEYWORDS = {"type", "match", "enum", "struct", "ref", "move", "fn", "mod", "use", "where", "loop", "in"}


def snake(name):
    name = name.replace("MBs", "Mbs")
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = name.lower()
    return "r#" + name if name in KEYWORDS else name


def upper(name):
    return snake(name).replace("r#", "").upper()


def variant(value):
    parts = re.split(r"[^A-Za-z0-9]+", value)
    if "_" in value or "-" in value or value.isupper():
        text = "".join(p[:1].upper() + p[1:].lower() for p in parts if p)
    else:
        text = "".join(p[:1].upper() + p[1:] for p in parts if p)
    return "V" + text if text[:1].isdigit() else text


def rust_str(text):
    return json.dumps(text)


def main():
    path = sys.argv[1]
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as handle:
        model = json.load(handle)
    shapes = model["shapes"]
    order, seen = [], set()

    def walk(name):
        if name in seen:
            return
        seen.add(name)
        shape = shapes[name]
        if not opaque(name, shape):
            for member in shape.get("members", {}).values():
                walk(member["shape"])
            for key in ("member", "key", "value"):
                if key in shape:
                    walk(shape[key]["shape"])
        order.append(name)

    for operation in OPERATIONS:
        definition = model["operations"][operation]
        for key in ("input", "output"):
            if key in definition:
                walk(definition[key]["shape"])

    def rust_type(name):
        shape = shapes[name]
        kind = shape["type"]
        if opaque(name, shape):
            return "Document"
        if kind == "string":
            return name if "enum" in shape else "String"
        if kind == "structure":
            return name
        if kind == "list":
            return f"Vec<{rust_type(shape['member']['shape'])}>"
        if kind == "map":
            assert rust_type(shape["key"]["shape"]) == "String" and rust_type(shape["value"]["shape"]) == "String", name
            return "BTreeMap<String, String>"
        return {"integer": "i32", "long": "i64", "boolean": "bool", "timestamp": "Timestamp", "blob": "Bytes"}[kind]

    def length(shape):
        low = shape.get("min")
        high = shape.get("max")
        return f"LengthRange {{ min: {f'Some({low})' if low is not None else 'None'}, max: {f'Some({high})' if high is not None else 'None'} }}"

    out = []
    emit = out.append
    emit("//! Generated by crates/protocol/gen/firehose_model.py from botocore's")
    emit("//! firehose/2015-08-04/service-2.json; edit the generator's tables, not this file.")
    emit("")
    emit("// Operation inputs and outputs are used through their structures, not these shapes.")
    emit("#![allow(dead_code)]")
    emit("")
    has_map = any(shapes[n]["type"] == "map" and not opaque(n, shapes[n]) for n in order)
    if has_map:
        emit("use std::collections::BTreeMap;")
        emit("")
    emit("use bytes::Bytes;")
    emit("")
    emit("use crate::shape::{java_regex, list_of, LengthRange, " + ("MapShape, " if has_map else "") + "ModelRegex, Pattern, Shape, StringShape, ValueRange};")
    emit("use crate::types::{Document, Timestamp};")
    emit("use crate::wire::{wire_enum, wire_struct, WireStruct};")
    emit("")
    regexes = {}
    for name in order:
        shape = shapes[name]
        if shape["type"] == "string" and "enum" in shape:
            emit("wire_enum! {")
            emit(f"    /// `{name}` of the Firehose model.")
            emit(f"    pub enum {name} {{")
            names = set()
            for value in shape["enum"]:
                v = variant(value)
                assert v not in names, (name, value)
                names.add(v)
                emit(f"        {v} = {rust_str(value)},")
            emit("    }")
            emit("}")
            emit("")
    for name in order:
        shape = shapes[name]
        kind = shape["type"]
        const = upper(name)
        if opaque(name, shape):
            emit(f"/// `{name}`: opaque (see the generator's `OPAQUE`).")
            emit(f"pub(crate) const {const}: Shape = Shape::Document;")
        elif kind == "string":
            pattern = "None"
            if "pattern" in shape:
                model_pattern = shape["pattern"]
                if model_pattern in PATTERNS:
                    source = PATTERNS[model_pattern]
                    if source.startswith("Pattern::"):
                        pattern = f"Some({source})"
                    else:
                        regex_name = regexes.setdefault(model_pattern, f"REGEX_{len(regexes)}")
                        pattern = f"Some(Pattern::Regex(&{regex_name}))"
                else:
                    emit(f"// Model pattern not enforced: {model_pattern}")
            values = f"Some({name}::VALUES)" if "enum" in shape else "None"
            sensitive = "true" if shape.get("sensitive") else "false"
            emit(f"pub(crate) const {const}: Shape = Shape::String(StringShape {{ length: {length(shape)}, pattern: {pattern}, allowed_values: {values}, sensitive: {sensitive} }});")
        elif kind in ("integer", "long"):
            low = shape.get("min")
            high = shape.get("max")
            variant_name = "Integer" if kind == "integer" else "Long"
            emit(f"pub(crate) const {const}: Shape = Shape::{variant_name}(ValueRange {{ min: {f'Some({low})' if low is not None else 'None'}, max: {f'Some({high})' if high is not None else 'None'} }});")
        elif kind == "boolean":
            emit(f"pub(crate) const {const}: Shape = Shape::Boolean;")
        elif kind == "timestamp":
            emit(f"pub(crate) const {const}: Shape = Shape::Timestamp;")
        elif kind == "blob":
            emit(f"pub(crate) const {const}: Shape = Shape::Blob({length(shape)});")
        elif kind == "list":
            emit(f"pub(crate) const {const}: Shape = list_of(&{upper(shape['member']['shape'])}, {length(shape)});")
        elif kind == "map":
            emit(f"pub(crate) const {const}: Shape = Shape::Map(MapShape {{ key: &{upper(shape['key']['shape'])}, value: &{upper(shape['value']['shape'])}, length: {length(shape)} }});")
        elif kind == "structure":
            emit(f"pub(crate) const {const}: Shape = Shape::Structure(<{name} as WireStruct>::SHAPE);")
        else:
            raise SystemExit(f"unsupported shape type {kind} for {name}")
    emit("")
    for model_pattern, regex_name in regexes.items():
        emit(f"static {regex_name}: ModelRegex = ModelRegex::new({rust_str(model_pattern)}, || java_regex({rust_str(PATTERNS[model_pattern])}));")
    emit("")
    emit("/// Every enforced model pattern, for the test that they all compile.")
    emit("#[cfg(test)]")
    emit("pub(crate) static MODEL_REGEXES: &[&ModelRegex] = &[" + ", ".join(f"&{n}" for n in regexes.values()) + "];")
    emit("")
    for name in order:
        shape = shapes[name]
        if shape["type"] != "structure" or opaque(name, shape):
            continue
        required = set(shape.get("required", []))
        emit("wire_struct! {")
        emit(f"    /// `{name}` of the Firehose model.")
        emit(f"    pub struct {name} {{")
        for member, definition in shape["members"].items():
            target = definition["shape"]
            if member in required:
                mode = "need" if name in NEED else "req"
            else:
                mode = "opt"
            ty = rust_type(target)
            if mode != "req":
                ty = f"Option<{ty}>"
            emit(f"        {snake(member)}: {ty} => {rust_str(member)}, {mode}, {upper(target)};")
        emit("    }")
        emit("}")
        emit("")
    print("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
