"""The DynamoDB API on Rheo's port, through boto3 and the aws CLI: tables (with the
waiter), items with both condition styles, Query and Scan paging, batches, transactions,
DynamoDB's error shapes as botocore reads them, and the refusal of what Rheo does not
serve."""

import json
import os
import pathlib
import subprocess
import sys
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import Rheo

AWS = pathlib.Path(sys.executable).parent / "aws"

# The operations Rheo serves (rheo_protocol::dynamodb); every other operation of boto3's
# DynamoDB model must be refused by name.
SERVED = {
    "BatchGetItem", "BatchWriteItem", "CreateTable", "DeleteItem", "DeleteTable",
    "DescribeContinuousBackups", "DescribeEndpoints", "DescribeLimits", "DescribeTable",
    "DescribeTimeToLive", "GetItem", "ListTables", "ListTagsOfResource", "PutItem", "Query",
    "Scan", "TagResource", "TransactGetItems", "TransactWriteItems", "UntagResource",
    "UpdateContinuousBackups", "UpdateItem", "UpdateTable", "UpdateTimeToLive",
}
REFUSAL_SUFFIX = "is not supported by Rheo's DynamoDB API"


def dynamodb_client(rheo, **config):
    return boto3.client(
        "dynamodb",
        endpoint_url=rheo.endpoint,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, **config),
    )


@pytest.fixture(scope="module")
def dynamodb(rheo):
    return dynamodb_client(rheo)


@pytest.fixture
def table_name():
    return f"e2e-{uuid.uuid4().hex[:12]}"


def create_table(client, name, range_key=None, **extra):
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        attributes.append({"AttributeName": range_key, "AttributeType": "N"})
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    created = client.create_table(
        TableName=name,
        AttributeDefinitions=attributes,
        KeySchema=schema,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )["TableDescription"]
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return created


def error_of(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response


def test_table_lifecycle_and_items(dynamodb, table_name):
    created = create_table(dynamodb, table_name)
    assert created["TableName"] == table_name
    assert created["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{table_name}"
    assert created["TableStatus"] in ("CREATING", "ACTIVE")
    described = dynamodb.describe_table(TableName=table_name)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table_name in dynamodb.list_tables()["TableNames"]

    item = {"pk": {"S": "a"}, "count": {"N": "1"}, "tags": {"SS": ["x"]}, "doc": {"M": {"n": {"NULL": True}}}}
    assert "Attributes" not in dynamodb.put_item(TableName=table_name, Item=item)
    assert dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "a"}}, ConsistentRead=True)["Item"] == item

    updated = dynamodb.update_item(
        TableName=table_name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET #c = #c + :one, label = if_not_exists(label, :label) ADD tags :y REMOVE doc",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":label": {"S": "first"}, ":y": {"SS": ["y"]}},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert updated["count"] == {"N": "2"}
    assert updated["label"] == {"S": "first"}
    assert sorted(updated["tags"]["SS"]) == ["x", "y"]
    assert "doc" not in updated

    # KCL's legacy style: AttributeUpdates and Expected.
    legacy = dynamodb.update_item(
        TableName=table_name,
        Key={"pk": {"S": "a"}},
        AttributeUpdates={"count": {"Action": "ADD", "Value": {"N": "10"}}, "owner": {"Action": "PUT", "Value": {"S": "w1"}}},
        Expected={"count": {"Value": {"N": "2"}, "Exists": True}},
        ReturnValues="UPDATED_NEW",
    )["Attributes"]
    assert legacy == {"count": {"N": "12"}, "owner": {"S": "w1"}}

    deleted = dynamodb.delete_item(TableName=table_name, Key={"pk": {"S": "a"}}, ReturnValues="ALL_OLD")
    assert deleted["Attributes"]["owner"] == {"S": "w1"}
    assert "Item" not in dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "a"}})

    dynamodb.delete_table(TableName=table_name)
    dynamodb.get_waiter("table_not_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    missing = error_of(lambda: dynamodb.describe_table(TableName=table_name))
    assert missing["Error"]["Code"] == "ResourceNotFoundException"
    assert missing["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_failed_conditions_have_dynamodbs_shape(dynamodb, table_name):
    create_table(dynamodb, table_name)
    item = {"pk": {"S": "lease"}, "owner": {"S": "w1"}}
    dynamodb.put_item(TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")

    again = error_of(
        lambda: dynamodb.put_item(TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")
    )
    assert again["Error"] == {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"}
    assert "Item" not in again

    # KCL's lease creation: Expected {Exists: false}; and the old item on request.
    legacy = error_of(
        lambda: dynamodb.put_item(
            TableName=table_name, Item=item, Expected={"pk": {"Exists": False}},
        )
    )
    assert legacy["Error"]["Code"] == "ConditionalCheckFailedException"
    with_item = error_of(
        lambda: dynamodb.update_item(
            TableName=table_name,
            Key={"pk": {"S": "lease"}},
            UpdateExpression="SET #o = :w2",
            ConditionExpression="#o = :w3",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":w2": {"S": "w2"}, ":w3": {"S": "w3"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    )
    assert with_item["Error"]["Code"] == "ConditionalCheckFailedException"
    assert with_item["Item"] == item
    # Nothing changed.
    assert dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "lease"}}, ConsistentRead=True)["Item"] == item


def test_query_and_scan_page_through_everything(dynamodb, table_name):
    create_table(dynamodb, table_name, range_key="sk")
    for partition in ("p", "q"):
        for sort in range(7):
            dynamodb.put_item(
                TableName=table_name,
                Item={"pk": {"S": partition}, "sk": {"N": str(sort)}, "even": {"BOOL": sort % 2 == 0}},
            )

    pages, keys, start = 0, [], {}
    while True:
        page = dynamodb.query(
            TableName=table_name,
            KeyConditionExpression="pk = :p AND sk >= :low",
            ExpressionAttributeValues={":p": {"S": "p"}, ":low": {"N": "2"}},
            ScanIndexForward=False,
            Limit=2,
            **start,
        )
        pages += 1
        keys += [int(item["sk"]["N"]) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    assert keys == [6, 5, 4, 3, 2]
    assert pages >= 3

    filtered = dynamodb.scan(
        TableName=table_name, FilterExpression="even = :t", ExpressionAttributeValues={":t": {"BOOL": True}}
    )
    assert filtered["Count"] == 8
    assert filtered["ScannedCount"] == 14

    # A parallel scan: the segments together hold every item once.
    seen = []
    for segment in range(3):
        start = {}
        while True:
            page = dynamodb.scan(TableName=table_name, Segment=segment, TotalSegments=3, Limit=3, **start)
            seen += [(item["pk"]["S"], int(item["sk"]["N"])) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    assert sorted(seen) == sorted((partition, sort) for partition in ("p", "q") for sort in range(7))


def test_an_index_added_to_an_on_demand_table_answers_queries(dynamodb, table_name):
    # What KCL 3 does: UpdateTable creates a GSI without ProvisionedThroughput.
    create_table(dynamodb, table_name)
    for lease, owner in [("s-0", "w1"), ("s-1", "w2"), ("s-2", "w1")]:
        dynamodb.put_item(TableName=table_name, Item={"pk": {"S": lease}, "leaseOwner": {"S": owner}})
    dynamodb.update_table(
        TableName=table_name,
        AttributeDefinitions=[
            {"AttributeName": "leaseOwner", "AttributeType": "S"},
            {"AttributeName": "pk", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "LeaseOwnerToLeaseKeyIndex",
            "KeySchema": [{"AttributeName": "leaseOwner", "KeyType": "HASH"}, {"AttributeName": "pk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }}],
    )
    dynamodb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    for _ in range(30):
        indexes = dynamodb.describe_table(TableName=table_name)["Table"]["GlobalSecondaryIndexes"]
        if indexes[0]["IndexStatus"] == "ACTIVE":
            break
        time.sleep(0.2)
    assert indexes[0]["IndexStatus"] == "ACTIVE"
    owned = dynamodb.query(
        TableName=table_name,
        IndexName="LeaseOwnerToLeaseKeyIndex",
        KeyConditionExpression="leaseOwner = :o",
        ExpressionAttributeValues={":o": {"S": "w1"}},
    )["Items"]
    assert owned == [
        {"leaseOwner": {"S": "w1"}, "pk": {"S": "s-0"}},
        {"leaseOwner": {"S": "w1"}, "pk": {"S": "s-2"}},
    ]


def test_batches(dynamodb, table_name):
    create_table(dynamodb, table_name)
    items = [{"pk": {"S": f"k{n:02}"}, "n": {"N": str(n)}} for n in range(25)]
    written = dynamodb.batch_write_item(RequestItems={table_name: [{"PutRequest": {"Item": item}} for item in items]})
    assert written["UnprocessedItems"] == {}
    got = dynamodb.batch_get_item(
        RequestItems={table_name: {"Keys": [{"pk": item["pk"]} for item in items], "ConsistentRead": True}}
    )
    assert got["UnprocessedKeys"] == {}
    assert sorted(got["Responses"][table_name], key=lambda item: item["pk"]["S"]) == items
    dynamodb.batch_write_item(RequestItems={table_name: [{"DeleteRequest": {"Key": {"pk": item["pk"]}}} for item in items[:20]]})
    assert dynamodb.scan(TableName=table_name, Select="COUNT")["Count"] == 5


def test_transactions_report_why_they_were_cancelled(dynamodb, table_name):
    create_table(dynamodb, table_name)
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "held"}, "owner": {"S": "w1"}})
    cancelled = error_of(
        lambda: dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table_name, "Item": {"pk": {"S": "new"}}}},
            {"ConditionCheck": {
                "TableName": table_name,
                "Key": {"pk": {"S": "held"}},
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }},
        ])
    )
    assert cancelled["Error"]["Code"] == "TransactionCanceledException"
    assert "[None, ConditionalCheckFailed]" in cancelled["Error"]["Message"]
    assert cancelled["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {"pk": {"S": "held"}, "owner": {"S": "w1"}},
        },
    ]
    # Nothing of the cancelled transaction was written.
    assert "Item" not in dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "new"}}, ConsistentRead=True)

    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table_name, "Item": {"pk": {"S": "new"}}}},
        {"Update": {
            "TableName": table_name,
            "Key": {"pk": {"S": "held"}},
            "UpdateExpression": "SET #o = :w2",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":w2": {"S": "w2"}},
        }},
    ])
    got = dynamodb.transact_get_items(TransactItems=[
        {"Get": {"TableName": table_name, "Key": {"pk": {"S": "held"}}}},
        {"Get": {"TableName": table_name, "Key": {"pk": {"S": "new"}}}},
    ])["Responses"]
    assert got == [{"Item": {"pk": {"S": "held"}, "owner": {"S": "w2"}}}, {"Item": {"pk": {"S": "new"}}}]


def test_validation_errors_are_readable(dynamodb, table_name):
    missing = error_of(lambda: dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "a"}}))
    assert missing["Error"]["Code"] == "ResourceNotFoundException"
    create_table(dynamodb, table_name)
    invalid = error_of(
        lambda: dynamodb.update_item(TableName=table_name, Key={"pk": {"S": "a"}}, UpdateExpression="SET")
    )
    assert invalid["Error"]["Code"] == "ValidationException"
    assert invalid["Error"]["Message"].startswith("Invalid UpdateExpression: Syntax error;")
    wrong_key = error_of(lambda: dynamodb.get_item(TableName=table_name, Key={"other": {"S": "a"}}))
    assert wrong_key["Error"] == {
        "Code": "ValidationException",
        "Message": "The provided key element does not match the schema",
    }


def test_every_unserved_operation_is_refused_by_name(rheo):
    # Without botocore's own parameter checks, every operation reaches the server.
    client = dynamodb_client(rheo, parameter_validation=False)
    unserved = sorted(set(client.meta.service_model.operation_names) - SERVED)
    assert "ExecuteStatement" in unserved
    for operation in unserved:
        refused = error_of(lambda: client._make_api_call(operation, {}))
        assert refused["Error"]["Code"] == "ValidationException", operation
        message = refused["Error"]["Message"]
        assert message.startswith(f"{operation} (") and message.endswith(REFUSAL_SUFFIX), message
    streams = boto3.client(
        "dynamodbstreams", endpoint_url=rheo.endpoint, region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}),
    )
    refused = error_of(lambda: streams.list_streams())
    assert refused["Error"] == {
        "Code": "ValidationException",
        "Message": f"ListStreams (DynamoDB Streams) {REFUSAL_SUFFIX}",
    }


def aws_dynamodb(rheo, *args):
    command = [
        str(AWS) if AWS.exists() else "aws", "--endpoint-url", rheo.endpoint, "--region", "us-east-1",
        "--output", "json", "dynamodb", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, env=os.environ, timeout=60)


def test_aws_cli(rheo, table_name):
    created = aws_dynamodb(
        rheo, "create-table", "--table-name", table_name,
        "--attribute-definitions", "AttributeName=pk,AttributeType=S",
        "--key-schema", "AttributeName=pk,KeyType=HASH",
        "--billing-mode", "PAY_PER_REQUEST",
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["TableDescription"]["TableName"] == table_name
    waited = aws_dynamodb(rheo, "wait", "table-exists", "--table-name", table_name)
    assert waited.returncode == 0, waited.stderr
    put = aws_dynamodb(rheo, "put-item", "--table-name", table_name, "--item", '{"pk": {"S": "cli"}, "n": {"N": "42"}}')
    assert put.returncode == 0, put.stderr
    got = aws_dynamodb(rheo, "get-item", "--table-name", table_name, "--key", '{"pk": {"S": "cli"}}', "--consistent-read")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["Item"] == {"pk": {"S": "cli"}, "n": {"N": "42"}}
    refused = aws_dynamodb(rheo, "execute-statement", "--statement", f'SELECT * FROM "{table_name}"')
    assert refused.returncode != 0
    assert "ValidationException" in refused.stderr
    assert f"ExecuteStatement (PartiQL) {REFUSAL_SUFFIX}" in refused.stderr


def test_acknowledged_writes_survive_kill_9(tmp_path):
    server = Rheo(tmp_path / "data").start()
    try:
        client = dynamodb_client(server)
        create_table(client, "leases")
        client.put_item(TableName="leases", Item={"pk": {"S": "shardId-0"}, "leaseCounter": {"N": "1"}})
        client.update_item(
            TableName="leases",
            Key={"pk": {"S": "shardId-0"}},
            AttributeUpdates={"leaseCounter": {"Action": "ADD", "Value": {"N": "1"}}},
            Expected={"leaseCounter": {"Value": {"N": "1"}, "Exists": True}},
        )
    finally:
        server.kill()
    server = Rheo(tmp_path / "data").start()
    try:
        client = dynamodb_client(server)
        assert client.describe_table(TableName="leases")["Table"]["TableStatus"] == "ACTIVE"
        got = client.get_item(TableName="leases", Key={"pk": {"S": "shardId-0"}}, ConsistentRead=True)
        assert got["Item"]["leaseCounter"] == {"N": "2"}
    finally:
        server.stop()
    assert server.process.returncode == 0
