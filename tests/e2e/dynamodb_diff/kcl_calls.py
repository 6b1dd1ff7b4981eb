"""KCL 3.x's DynamoDB calls, in the shapes KCL 3.1.3 sends them (captured through a logging
proxy; shared/docs/clients.md §3.3): the lease table with its LeaseOwnerToLeaseKeyIndex, the
coordinator state (dynamodb-lock-client) and the worker metrics (enhanced client), including
the failing variants a running KCL meets (a lease stolen by another worker)."""

LEASE_INDEX = "LeaseOwnerToLeaseKeyIndex"
SHARDS = [f"shardId-00000000000{i}" for i in range(5)]


def _hash_table(pair, table: str, key: str):
    # KCL's first DescribeTable on a table expects ResourceNotFoundException.
    pair.call("DescribeTable", TableName=table)
    pair.call(
        "CreateTable",
        TableName=table,
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        DeletionProtectionEnabled=False,
    )
    pair.wait_active(table)


def lease_table(pair, app: str):
    """CreateTable on demand, then the GSI created by UpdateTable without ProvisionedThroughput."""
    _hash_table(pair, app, "leaseKey")
    pair.call(
        "UpdateTable",
        TableName=app,
        AttributeDefinitions=[
            {"AttributeName": "leaseKey", "AttributeType": "S"},
            {"AttributeName": "leaseOwner", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": LEASE_INDEX,
            "KeySchema": [
                {"AttributeName": "leaseOwner", "KeyType": "HASH"},
                {"AttributeName": "leaseKey", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }}],
    )
    pair.wait_active(app)


def _new_lease(shard: str) -> dict:
    return {
        "leaseKey": {"S": shard},
        "leaseCounter": {"N": "0"},
        "checkpoint": {"S": "TRIM_HORIZON"},
        "checkpointSubSequenceNumber": {"N": "0"},
        "ownerSwitchesSinceCheckpoint": {"N": "0"},
        "startingHashKey": {"S": "0"},
        "endingHashKey": {"S": "340282366920938463463374607431768211455"},
    }


def create_leases(pair, app: str):
    for shard in SHARDS:
        pair.call("PutItem", TableName=app, Item=_new_lease(shard), Expected={"leaseKey": {"Exists": False}})
    # A second worker racing to create the same lease loses.
    pair.call("PutItem", TableName=app, Item=_new_lease(SHARDS[0]), Expected={"leaseKey": {"Exists": False}})


def _key(shard: str) -> dict:
    return {"leaseKey": {"S": shard}}


def take_lease(pair, app: str, shard: str, owner: str, counter: int, previous_owner=None):
    expected = {"leaseCounter": {"Value": {"N": str(counter)}}}
    expected["leaseOwner"] = (
        {"Value": {"S": previous_owner}, "Exists": True} if previous_owner else {"Exists": False}
    )
    return pair.call(
        "UpdateItem",
        TableName=app,
        Key=_key(shard),
        Expected=expected,
        AttributeUpdates={
            "leaseOwner": {"Action": "PUT", "Value": {"S": owner}},
            "leaseCounter": {"Action": "PUT", "Value": {"N": str(counter + 1)}},
            "ownerSwitchesSinceCheckpoint": {"Action": "ADD", "Value": {"N": "1"}},
        },
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ReturnValues="ALL_NEW",
    )


def _held_by(owner: str, counter: int) -> dict:
    """KCL's condition for writing a lease it holds: same owner, same counter as last seen."""
    return {"leaseCounter": {"Value": {"N": str(counter)}}, "leaseOwner": {"Value": {"S": owner}}}


def renew_lease(pair, app: str, shard: str, owner: str, counter: int):
    return pair.call(
        "UpdateItem",
        TableName=app,
        Key=_key(shard),
        Expected=_held_by(owner, counter),
        AttributeUpdates={"leaseCounter": {"Action": "ADD", "Value": {"N": "1"}}},
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def checkpoint(pair, app: str, shard: str, owner: str, counter: int, sequence: str):
    return pair.call(
        "UpdateItem",
        TableName=app,
        Key=_key(shard),
        Expected=_held_by(owner, counter),
        AttributeUpdates={
            "checkpoint": {"Action": "PUT", "Value": {"S": sequence}},
            "checkpointSubSequenceNumber": {"Action": "PUT", "Value": {"N": "0"}},
            "ownerSwitchesSinceCheckpoint": {"Action": "PUT", "Value": {"N": "0"}},
            "pendingCheckpoint": {"Action": "DELETE"},
            "leaseCounter": {"Action": "ADD", "Value": {"N": "1"}},
        },
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def evict_lease(pair, app: str, shard: str, owner: str):
    return pair.call(
        "UpdateItem",
        TableName=app,
        Key=_key(shard),
        Expected={"leaseOwner": {"Value": {"S": owner}}},
        AttributeUpdates={
            "leaseOwner": {"Action": "DELETE"},
            "leaseCounter": {"Action": "ADD", "Value": {"N": "1"}},
        },
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def lease_life(pair, app: str):
    """Take, renew, steal, checkpoint, evict: the lease algorithm's calls, with their failures."""
    take_lease(pair, app, SHARDS[0], "worker-1", 0)
    take_lease(pair, app, SHARDS[1], "worker-1", 0)
    take_lease(pair, app, SHARDS[2], "worker-2", 0)
    # worker-2 loses the race for shard 1 (its counter is stale): ConditionalCheckFailed with the item.
    take_lease(pair, app, SHARDS[1], "worker-2", 0)
    renew_lease(pair, app, SHARDS[0], "worker-1", 1)
    renew_lease(pair, app, SHARDS[0], "worker-1", 2)
    checkpoint(pair, app, SHARDS[0], "worker-1", 3, "49590338271490256608559692538361571095921575989136588898")
    # worker-2 steals shard 0 from worker-1 ...
    take_lease(pair, app, SHARDS[0], "worker-2", 4, previous_owner="worker-1")
    # ... so worker-1's renewal and checkpoint fail: the lease was stolen.
    renew_lease(pair, app, SHARDS[0], "worker-1", 4)
    checkpoint(pair, app, SHARDS[0], "worker-1", 4, "49590338271490256608559692538361571095921575989136588899")
    renew_lease(pair, app, SHARDS[0], "worker-2", 5)
    evict_lease(pair, app, SHARDS[2], "worker-2")
    evict_lease(pair, app, SHARDS[2], "worker-2")
    for shard in SHARDS:
        pair.call("GetItem", TableName=app, Key=_key(shard), ConsistentRead=True)
    pair.call("GetItem", TableName=app, Key=_key("shardId-missing"), ConsistentRead=True)


def lease_reads(pair, app: str):
    """Scan plain, paged by Limit, in parallel segments; Query on the lease-owner index."""
    pair.scan_unordered(TableName=app)
    pair.scan_all(TableName=app, Limit=2)
    pair.scan_all(TableName=app, Segment=0, TotalSegments=1)
    pair.scan_all(TableName=app, TotalSegments=3)
    pair.scan_all(TableName=app, TotalSegments=4, Limit=1)
    for owner in ("worker-1", "worker-2", "worker-nobody"):
        pair.call(
            "Query",
            TableName=app,
            IndexName=LEASE_INDEX,
            KeyConditionExpression="leaseOwner = :leaseOwner",
            ExpressionAttributeValues={":leaseOwner": {"S": owner}},
        )


def delete_leases(pair, app: str):
    """A finished shard's lease is deleted; a delete conditioned on a stale owner fails."""
    pair.call("DeleteItem", TableName=app, Key=_key(SHARDS[3]))
    pair.call(
        "DeleteItem", TableName=app, Key=_key(SHARDS[0]),
        Expected={"leaseOwner": {"Value": {"S": "worker-1"}}},
    )
    pair.call(
        "DeleteItem", TableName=app, Key=_key(SHARDS[0]),
        Expected={"leaseOwner": {"Value": {"S": "worker-2"}}}, ReturnValues="ALL_OLD",
    )
    pair.call("DeleteItem", TableName=app, Key=_key("shardId-missing"), ReturnValues="ALL_OLD")
    pair.scan_unordered(TableName=app)


# ---- coordinator state: migration marker and the leader lock (dynamodb-lock-client) -------

LOCK_NAMES = {"#pk": "key", "#rvn": "recordVersionNumber", "#on": "ownerName"}


def coordinator_state(pair, app: str):
    table = f"{app}-CoordinatorState"
    _hash_table(pair, table, "key")
    migration = {"key": {"S": "Migration3.0"}, "cv": {"S": "CLIENT_VERSION_3X"}, "mb": {"S": "worker-1"},
                 "mts": {"N": "1733486400000"}, "h": {"L": []}}
    pair.call("PutItem", TableName=table, Item=migration, Expected={"key": {"Exists": False}})
    pair.call("PutItem", TableName=table, Item=migration, Expected={"key": {"Exists": False}})
    pair.call("GetItem", TableName=table, Key={"key": {"S": "Migration3.0"}}, ConsistentRead=True)

    leader = {"key": {"S": "Leader"}, "ownerName": {"S": "worker-1"}, "leaseDuration": {"S": "20000"},
              "recordVersionNumber": {"S": "rvn-1"}}
    for _ in range(2):  # the second worker's acquire fails
        pair.call(
            "PutItem", TableName=table, Item=leader,
            ConditionExpression="attribute_not_exists(#pk)", ExpressionAttributeNames={"#pk": "key"},
        )
    heartbeat(pair, table, "rvn-1", "rvn-2", "worker-1")
    heartbeat(pair, table, "rvn-2", "rvn-3", "worker-1")
    heartbeat(pair, table, "rvn-2", "rvn-4", "worker-1")  # stale version: fails
    heartbeat(pair, table, "rvn-3", "rvn-5", "worker-2")  # not the owner: fails
    pair.call("GetItem", TableName=table, Key={"key": {"S": "Leader"}}, ConsistentRead=True)
    # Release: the lock client deletes the lock item on the same condition.
    for version in ("rvn-2", "rvn-3"):
        pair.call(
            "DeleteItem", TableName=table, Key={"key": {"S": "Leader"}},
            ConditionExpression="attribute_exists(#pk) AND #rvn = :rvn AND #on = :on",
            ExpressionAttributeNames=LOCK_NAMES,
            ExpressionAttributeValues={":rvn": {"S": version}, ":on": {"S": "worker-1"}},
        )
    pair.scan_unordered(TableName=table)
    return table


def heartbeat(pair, table: str, current: str, new: str, owner: str):
    return pair.call(
        "UpdateItem",
        TableName=table,
        Key={"key": {"S": "Leader"}},
        UpdateExpression="SET #rvn = :newRvn, #ld = :ld",
        ConditionExpression="attribute_exists(#pk) AND #rvn = :rvn AND #on = :on",
        ExpressionAttributeNames={**LOCK_NAMES, "#ld": "leaseDuration"},
        ExpressionAttributeValues={
            ":newRvn": {"S": new}, ":ld": {"S": "20000"}, ":rvn": {"S": current}, ":on": {"S": owner},
        },
    )


# ---- worker metrics (DynamoDB enhanced client: SET of every attribute, ReturnValues ALL_NEW) --

def worker_metrics(pair, app: str):
    table = f"{app}-WorkerMetricStats"
    _hash_table(pair, table, "wid")
    for worker, cpu, time in (("worker-1", "12.5", "1733486400"), ("worker-2", "80", "1733486401"),
                              ("worker-1", "13.25", "1733486405")):
        pair.call(
            "UpdateItem",
            TableName=table,
            Key={"wid": {"S": worker}},
            UpdateExpression=(
                "SET #AMZN_MAPPED_lut = :AMZN_MAPPED_lut, #AMZN_MAPPED_mts = :AMZN_MAPPED_mts, "
                "#AMZN_MAPPED_opr = :AMZN_MAPPED_opr"
            ),
            ExpressionAttributeNames={
                "#AMZN_MAPPED_lut": "lut", "#AMZN_MAPPED_mts": "sts", "#AMZN_MAPPED_opr": "opr",
            },
            ExpressionAttributeValues={
                ":AMZN_MAPPED_lut": {"N": time},
                ":AMZN_MAPPED_mts": {"M": {"CPU": {"L": [{"N": cpu}, {"N": "10"}]}}},
                ":AMZN_MAPPED_opr": {"M": {"CPU": {"N": "100"}}},
            },
            ReturnValues="ALL_NEW",
        )
    pair.scan_unordered(TableName=table)
    return table


def delete_tables(pair, tables):
    for table in tables:
        pair.call("DeleteTable", TableName=table)
    for table in tables:
        pair.wait_gone(table)
        pair.call("DescribeTable", TableName=table)
