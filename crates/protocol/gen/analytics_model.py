#!/usr/bin/env python3
"""Transcribes the Kinesis Analytics (SQL) service model (botocore
`kinesisanalytics/2015-08-14/service-2.json`) into `crates/protocol/src/analytics/model.rs`:
every shape of the 20 operations, typed (nothing is opaque: rheo-analytics reads or
stores every member, including the Lambda and reference-data ones it refuses or keeps for
part 2), through the shared transcription in `botocore_shapes.py`.

Usage: python3 crates/protocol/gen/analytics_model.py PATH/TO/service-2.json[.gz] > crates/protocol/src/analytics/model.rs
       cargo fmt --all
"""
import sys

from botocore_shapes import Service, generate

OPERATIONS = [
    "AddApplicationCloudWatchLoggingOption", "AddApplicationInput", "AddApplicationInputProcessingConfiguration",
    "AddApplicationOutput", "AddApplicationReferenceDataSource", "CreateApplication", "DeleteApplication",
    "DeleteApplicationCloudWatchLoggingOption", "DeleteApplicationInputProcessingConfiguration",
    "DeleteApplicationOutput", "DeleteApplicationReferenceDataSource", "DescribeApplication",
    "DiscoverInputSchema", "ListApplications", "ListTagsForResource", "StartApplication", "StopApplication",
    "TagResource", "UntagResource", "UpdateApplication",
]

# Every pattern of the model is enforced at decoding, in its `regex`-crate form (Java
# semantics via `java_regex`): `\d` is ASCII in Java, and `\d{1}+`/`\d{12}+` are Java
# possessive quantifiers, which match exactly like the plain ones here (nothing follows
# that could backtrack into them).
PATTERNS = {
    "[a-zA-Z0-9_.-]+": "Pattern::NameCharacters",
    "arn:.*": "arn:{DOT}*",
    "arn:aws:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+": "arn:aws:iam::[0-9]{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
    "arn:aws:kinesisanalytics:[a-z]{2}-[a-z]+-\\d{1}+:\\d{12}+:application/[a-zA-Z0-9_.-]{1,128}":
        "arn:aws:kinesisanalytics:[a-z]{2}-[a-z]+-[0-9]{1}:[0-9]{12}:application/[a-zA-Z0-9_.-]{1,128}",
    "UTF-8": "UTF-8",
}


def main():
    generate(sys.argv[1], Service(
        title="Kinesis Analytics",
        script="analytics_model.py",
        model_file="kinesisanalytics/2015-08-14/service-2.json",
        operations=OPERATIONS,
        patterns=PATTERNS,
    ))


if __name__ == "__main__":
    main()
