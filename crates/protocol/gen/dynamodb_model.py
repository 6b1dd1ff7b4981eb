#!/usr/bin/env python3
"""Transcribes the DynamoDB service model (botocore `dynamodb/2012-08-10/service-2.json`)
into `crates/protocol/src/dynamodb/model.rs`: the shapes of the operations rheo-dynamodb
serves (what the Kinesis Client Library and lock clients use, plus the table settings
they store), through the shared transcription in `botocore_shapes.py`.

Usage: python3 crates/protocol/gen/dynamodb_model.py PATH/TO/service-2.json[.gz] > crates/protocol/src/dynamodb/model.rs
       cargo fmt --all
"""
import sys

from botocore_shapes import Service, generate

OPERATIONS = [
    "BatchGetItem", "BatchWriteItem", "CreateTable", "DeleteItem", "DeleteTable", "DescribeContinuousBackups",
    "DescribeEndpoints", "DescribeLimits", "DescribeTable", "DescribeTimeToLive", "GetItem", "ListTables",
    "ListTagsOfResource", "PutItem", "Query", "Scan", "TagResource", "TransactGetItems", "TransactWriteItems",
    "UntagResource", "UpdateContinuousBackups", "UpdateItem", "UpdateTable", "UpdateTimeToLive",
]


def opaque(name, shape):
    # An attribute value is a recursive union (`M` and `L` hold attribute values) whose
    # rules are DynamoDB's own texts ("Supplied AttributeValue is empty, …"), so
    # rheo-dynamodb reads it from the JSON rather than the generic walk. Doubles appear only
    # in consumed-capacity figures Rheo writes, never reads.
    return name == "AttributeValue" or shape["type"] == "double"


# Patterns enforced at decoding, with their `regex`-crate form (Java semantics via
# `java_regex`). Table and index names are DynamoDB's `[a-zA-Z0-9_.-]+`.
PATTERNS = {
    "[a-zA-Z0-9_.-]+": "Pattern::NameCharacters",
}


def main():
    generate(sys.argv[1], Service(
        title="DynamoDB",
        script="dynamodb_model.py",
        model_file="dynamodb/2012-08-10/service-2.json",
        operations=OPERATIONS,
        patterns=PATTERNS,
        opaque=opaque,
    ))


if __name__ == "__main__":
    main()
