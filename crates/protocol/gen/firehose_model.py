#!/usr/bin/env python3
"""Transcribes the Firehose service model (botocore `firehose/2015-08-04/service-2.json`)
into `crates/protocol/src/firehose/model.rs`: the shapes reachable from the operations
rheo-firehose serves, as `wire_struct!`/`wire_enum!` declarations and shape constants, so
every member's name, type and constraints are written once, by the model.

Usage: python3 crates/protocol/gen/firehose_model.py PATH/TO/service-2.json[.gz] > crates/protocol/src/firehose/model.rs
       cargo fmt --all

What is not transcribed literally is decided by the three tables below.
"""
import re
import sys

from botocore_shapes import Service, generate

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

def main():
    generate(sys.argv[1], Service(
        title="Firehose",
        script="firehose_model.py",
        model_file="firehose/2015-08-04/service-2.json",
        operations=OPERATIONS,
        patterns=PATTERNS,
        need=NEED,
        opaque=opaque,
    ))


if __name__ == "__main__":
    main()
