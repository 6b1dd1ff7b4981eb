#![allow(clippy::unwrap_used)]

//! Scan and Query: paging by `Limit` and `ExclusiveStartKey`, parallel segments, filters,
//! projections and `Select`, key conditions on a table and on KCL's lease-owner index, and
//! DynamoDB's validation texts. A property test pages through random tables with random
//! limits and checks each item comes exactly once, in order.

mod common;
mod items_support;

use std::collections::BTreeSet;

use common::TestDb;
use items_support::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Puts `id`/`sort` items: `partitions` partition keys with `per_partition` sort keys each.
async fn fill(db: &TestDb, partitions: usize, per_partition: usize) {
    for partition in 0..partitions {
        for sort in 0..per_partition {
            let item = json!({"id": {"S": format!("p{partition}")}, "sort": {"S": format!("{sort:04}")},
                              "n": {"N": sort.to_string()}});
            db.ok("PutItem", json!({"TableName": "tbl", "Item": item})).await;
        }
    }
}

/// The `(id, sort)` of each item of an answer.
fn keys_of(answer: &Value) -> Vec<(String, String)> {
    answer["Items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    (item["id"]["S"].as_str().unwrap().to_string(), item["sort"]["S"].as_str().unwrap().to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Pages through `operation` with `request` until no `LastEvaluatedKey`; every item's key
/// in the order the pages gave them.
async fn page_through(db: &TestDb, operation: &str, request: Value) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    let mut start = None;
    for _ in 0..10_000 {
        let mut page_request = request.clone();
        if let Some(start) = start.take() {
            page_request["ExclusiveStartKey"] = start;
        }
        let page = db.ok(operation, page_request).await;
        let page_keys = keys_of(&page);
        if let Some(limit) = request.get("Limit").and_then(Value::as_u64) {
            assert!(page_keys.len() as u64 <= limit, "a page holds at most Limit items");
        }
        keys.extend(page_keys);
        match page.get("LastEvaluatedKey") {
            Some(last) => start = Some(last.clone()),
            None => return keys,
        }
    }
    panic!("paging did not end");
}

#[tokio::test]
async fn scan_pages_by_limit_and_counts_before_the_filter() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl", "id", Some("sort")).await;
    fill(&db, 3, 4).await;
    let all = db.ok("Scan", json!({"TableName": "tbl"})).await;
    assert_eq!((all["Count"].clone(), all["ScannedCount"].clone()), (json!(12), json!(12)));
    assert!(all.get("LastEvaluatedKey").is_none());

    let page = db
        .ok(
            "Scan",
            json!({"TableName": "tbl", "Limit": 5, "FilterExpression": "n >= :two",
                   "ExpressionAttributeValues": {":two": {"N": "2"}}}),
        )
        .await;
    assert_eq!(page["ScannedCount"], 5, "Limit counts the items read, before the filter");
    let kept = keys_of(&page);
    assert_eq!(page["Count"], kept.len());
    assert!(kept.iter().all(|(_, sort)| sort.as_str() >= "0002"));
    let last = page["LastEvaluatedKey"].as_object().unwrap();
    assert_eq!(last.keys().collect::<Vec<_>>(), ["id", "sort"], "the table's key attributes");

    let paged = page_through(&db, "Scan", json!({"TableName": "tbl", "Limit": 5})).await;
    assert_eq!(paged.len(), 12);
    assert_eq!(paged.iter().collect::<BTreeSet<_>>().len(), 12, "each item once");
}

#[tokio::test]
async fn parallel_scan_segments_split_the_table_without_overlap() {
    let db = TestDb::in_memory();
    create_lease_table(&db).await;
    for shard in 0..40 {
        create_lease(&db, &format!("shardId-{shard:012}")).await.unwrap();
    }
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for segment in 0..4 {
        let part = db.ok("Scan", json!({"TableName": LEASES, "Segment": segment, "TotalSegments": 4})).await;
        for item in part["Items"].as_array().unwrap() {
            total += 1;
            seen.insert(item["leaseKey"]["S"].as_str().unwrap().to_string());
        }
    }
    assert_eq!((total, seen.len()), (40, 40));
    let single = db.ok("Scan", json!({"TableName": LEASES, "Segment": 0, "TotalSegments": 1})).await;
    assert_eq!(single["Count"], 40);
}

#[tokio::test]
async fn scan_refuses_bad_segments_and_start_keys() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl", "id", None).await;
    let cases = [
        (
            json!({"TableName": "tbl", "Segment": 1}),
            "The TotalSegments parameter is required but was not present in the request when Segment parameter is \
             present",
        ),
        (
            json!({"TableName": "tbl", "TotalSegments": 2}),
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is \
             present",
        ),
        (
            json!({"TableName": "tbl", "Segment": 2, "TotalSegments": 2}),
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 2 is not \
             less than TotalSegments: 2",
        ),
        (
            json!({"TableName": "tbl", "ExclusiveStartKey": {"other": {"S": "a"}}}),
            "The provided starting key is invalid: The provided key element does not match the schema",
        ),
        (
            json!({"TableName": "tbl", "Select": "ALL_PROJECTED_ATTRIBUTES"}),
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        ),
        (
            json!({"TableName": "tbl", "Select": "COUNT", "ProjectionExpression": "id"}),
            "Cannot specify the ProjectionExpression when choosing to get only the Count",
        ),
        (json!({"TableName": "tbl", "IndexName": "nope"}), "The table does not have the specified index: nope"),
    ];
    for (request, text) in cases {
        assert_eq!(validation_text(db.err("Scan", request.clone()).await), text, "{request}");
    }
}

#[tokio::test]
async fn scan_projects_and_counts() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl", "id", Some("sort")).await;
    fill(&db, 2, 3).await;
    let counted = db.ok("Scan", json!({"TableName": "tbl", "Select": "COUNT"})).await;
    assert_eq!(counted, json!({"Count": 6, "ScannedCount": 6}));
    let projected = db.ok("Scan", json!({"TableName": "tbl", "ProjectionExpression": "n"})).await;
    for item in projected["Items"].as_array().unwrap() {
        assert_eq!(item.as_object().unwrap().keys().collect::<Vec<_>>(), ["n"]);
    }
    let legacy = db
        .ok(
            "Scan",
            json!({"TableName": "tbl", "ScanFilter": {"n": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}}}),
        )
        .await;
    assert_eq!(legacy["Count"], 2);
}

#[tokio::test]
async fn query_reads_one_partition_in_sort_order_both_ways() {
    let db = TestDb::in_memory();
    db.create_simple_table("tbl", "id", Some("sort")).await;
    fill(&db, 3, 6).await;
    let request = json!({
        "TableName": "tbl",
        "KeyConditionExpression": "id = :p AND #s BETWEEN :from AND :to",
        "ExpressionAttributeNames": {"#s": "sort"},
        "ExpressionAttributeValues": {":p": {"S": "p1"}, ":from": {"S": "0001"}, ":to": {"S": "0004"}},
    });
    let forward = db.ok("Query", request.clone()).await;
    let sorts: Vec<String> = keys_of(&forward).into_iter().map(|(id, sort)| format!("{id}/{sort}")).collect();
    assert_eq!(sorts, ["p1/0001", "p1/0002", "p1/0003", "p1/0004"]);
    let mut backward_request = request.clone();
    backward_request["ScanIndexForward"] = json!(false);
    let backward = db.ok("Query", backward_request).await;
    let mut reversed = keys_of(&forward);
    reversed.reverse();
    assert_eq!(keys_of(&backward), reversed);

    let legacy = db
        .ok(
            "Query",
            json!({"TableName": "tbl", "KeyConditions": {
                "id": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p2"}]},
                "sort": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "000"}]}}}),
        )
        .await;
    assert_eq!(legacy["Count"], 6);

    let filter_on_key = db
        .err(
            "Query",
            json!({"TableName": "tbl", "KeyConditionExpression": "id = :p", "FilterExpression": "#s > :s",
                   "ExpressionAttributeNames": {"#s": "sort"},
                   "ExpressionAttributeValues": {":p": {"S": "p1"}, ":s": {"S": "0002"}}}),
        )
        .await;
    assert_eq!(
        validation_text(filter_on_key),
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sort"
    );
    let legacy_filter_on_key = db
        .err(
            "Query",
            json!({"TableName": "tbl", "KeyConditionExpression": "id = :p",
                   "ExpressionAttributeValues": {":p": {"S": "p1"}},
                   "QueryFilter": {"id": {"ComparisonOperator": "NOT_NULL"}}}),
        )
        .await;
    assert!(validation_text(legacy_filter_on_key).starts_with("Can not use both expression and non-expression"));
    let legacy_filter_on_key = db
        .err(
            "Query",
            json!({"TableName": "tbl", "KeyConditions": {"id": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p1"}]}},
                   "QueryFilter": {"id": {"ComparisonOperator": "NOT_NULL"}}}),
        )
        .await;
    assert_eq!(
        validation_text(legacy_filter_on_key),
        "QueryFilter can only contain non-primary key attributes: Primary key attribute: id"
    );

    let mut elsewhere = request.clone();
    elsewhere["ExclusiveStartKey"] = json!({"id": {"S": "p2"}, "sort": {"S": "0001"}});
    assert_eq!(
        validation_text(db.err("Query", elsewhere).await),
        "The provided starting key is outside query boundaries based on provided conditions"
    );

    let missing = db.err("Query", json!({"TableName": "tbl"})).await;
    assert_eq!(
        validation_text(missing),
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
    );
}

#[tokio::test]
async fn kcl_queries_its_leases_by_owner_on_the_index() {
    let db = TestDb::in_memory();
    create_lease_table(&db).await;
    for shard in 0..6 {
        let owner = if shard % 2 == 0 { "worker-a" } else { "worker-b" };
        let item = lease_item(&format!("shardId-{shard:012}"), Some(owner), 3);
        db.ok("PutItem", json!({"TableName": LEASES, "Item": item})).await;
    }
    // A lease nobody holds has no leaseOwner, so it is not in the index.
    create_lease(&db, "shardId-000000000099").await.unwrap();
    let query = query_by_owner("worker-a");
    let owned = db.ok("Query", query.clone()).await;
    assert_eq!(
        owned["Items"],
        json!([
            {"leaseOwner": {"S": "worker-a"}, "leaseKey": {"S": "shardId-000000000000"}},
            {"leaseOwner": {"S": "worker-a"}, "leaseKey": {"S": "shardId-000000000002"}},
            {"leaseOwner": {"S": "worker-a"}, "leaseKey": {"S": "shardId-000000000004"}},
        ]),
        "KEYS_ONLY: the index's and the table's keys, in leaseKey order"
    );
    let mut paged = query.clone();
    paged["Limit"] = json!(2);
    let first = db.ok("Query", paged).await;
    assert_eq!(
        first["LastEvaluatedKey"],
        json!({"leaseOwner": {"S": "worker-a"}, "leaseKey": {"S": "shardId-000000000002"}})
    );

    let mut consistent = query.clone();
    consistent["ConsistentRead"] = json!(true);
    assert_eq!(
        validation_text(db.err("Query", consistent).await),
        "Consistent reads are not supported on global secondary indexes"
    );
    let mut all_attributes = query;
    all_attributes["Select"] = json!("ALL_ATTRIBUTES");
    assert_eq!(
        validation_text(db.err("Query", all_attributes).await),
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary \
         index LeaseOwnerToLeaseKeyIndex because its projection type is not ALL"
    );
    let index_scan = db.ok("Scan", json!({"TableName": LEASES, "IndexName": LEASE_OWNER_INDEX})).await;
    assert_eq!(index_scan["Count"], 6);

    // Paging through the index one lease at a time, and scanning it two at a time.
    let mut one_by_one = query_by_owner("worker-b");
    one_by_one["Limit"] = json!(1);
    let leases = page_through_leases(&db, "Query", one_by_one).await;
    assert_eq!(leases, ["shardId-000000000001", "shardId-000000000003", "shardId-000000000005"]);
    let scanned =
        page_through_leases(&db, "Scan", json!({"TableName": LEASES, "IndexName": LEASE_OWNER_INDEX, "Limit": 2}))
            .await;
    assert_eq!(scanned.iter().collect::<BTreeSet<_>>().len(), 6);
    assert_eq!(scanned.len(), 6);
}

fn query_by_owner(owner: &str) -> Value {
    json!({
        "TableName": LEASES,
        "IndexName": LEASE_OWNER_INDEX,
        "KeyConditionExpression": "leaseOwner = :leaseOwner",
        "ExpressionAttributeValues": {":leaseOwner": {"S": owner}},
    })
}

/// Pages through the lease table or its index; the lease keys in the order read.
async fn page_through_leases(db: &TestDb, operation: &str, request: Value) -> Vec<String> {
    let mut leases = Vec::new();
    let mut start: Option<Value> = None;
    loop {
        let mut page_request = request.clone();
        if let Some(start) = start.take() {
            page_request["ExclusiveStartKey"] = start;
        }
        let page = db.ok(operation, page_request).await;
        for item in page["Items"].as_array().unwrap() {
            leases.push(item["leaseKey"]["S"].as_str().unwrap().to_string());
        }
        match page.get("LastEvaluatedKey") {
            Some(last) => start = Some(last.clone()),
            None => return leases,
        }
    }
}

#[tokio::test]
async fn a_local_index_answers_whole_items_when_asked_for_all_attributes() {
    let db = TestDb::in_memory();
    db.ok(
        "CreateTable",
        json!({
            "TableName": "tbl",
            "AttributeDefinitions": [
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "sort", "AttributeType": "S"},
                {"AttributeName": "rank", "AttributeType": "N"},
            ],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "sort", "KeyType": "RANGE"}],
            "LocalSecondaryIndexes": [{
                "IndexName": "by-rank",
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "rank", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    )
    .await;
    for (sort, rank) in [("a", "3"), ("b", "1"), ("c", "2")] {
        let item = json!({"id": {"S": "p"}, "sort": {"S": sort}, "rank": {"N": rank}, "extra": {"S": sort}});
        db.ok("PutItem", json!({"TableName": "tbl", "Item": item})).await;
    }
    let query = json!({"TableName": "tbl", "IndexName": "by-rank", "KeyConditionExpression": "id = :p",
                       "ExpressionAttributeValues": {":p": {"S": "p"}}});
    let projected = db.ok("Query", query.clone()).await;
    let sorts: Vec<String> = keys_of(&projected).into_iter().map(|(_, sort)| sort).collect();
    assert_eq!(sorts, ["b", "c", "a"], "in rank order");
    assert!(projected["Items"][0].get("extra").is_none(), "KEYS_ONLY by default");
    let mut whole = query;
    whole["Select"] = json!("ALL_ATTRIBUTES");
    let whole = db.ok("Query", whole).await;
    assert_eq!(whole["Items"][0]["extra"], json!({"S": "b"}), "fetched from the table");
}

/// The items of a random table: `(partition, sort)` pairs, distinct.
fn table_contents() -> impl Strategy<Value = BTreeSet<(u8, u16)>> {
    proptest::collection::btree_set((0u8..4, 0u16..500), 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn paging_returns_each_item_exactly_once_in_order(contents in table_contents(), limit in 1u64..8) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let db = TestDb::in_memory();
            db.create_simple_table("tbl", "id", Some("sort")).await;
            for (partition, sort) in &contents {
                let item = json!({"id": {"S": format!("p{partition}")}, "sort": {"S": format!("{sort:04}")}});
                db.ok("PutItem", json!({"TableName": "tbl", "Item": item})).await;
            }
            let expected: BTreeSet<(String, String)> = contents
                .iter()
                .map(|(partition, sort)| (format!("p{partition}"), format!("{sort:04}")))
                .collect();

            let scanned = page_through(&db, "Scan", json!({"TableName": "tbl", "Limit": limit})).await;
            assert_eq!(scanned.len(), expected.len(), "no item twice");
            assert_eq!(scanned.iter().cloned().collect::<BTreeSet<_>>(), expected);

            for partition in 0u8..4 {
                let id = format!("p{partition}");
                for forward in [true, false] {
                    let queried = page_through(&db, "Query", json!({
                        "TableName": "tbl", "Limit": limit, "ScanIndexForward": forward,
                        "KeyConditionExpression": "id = :p",
                        "ExpressionAttributeValues": {":p": {"S": id}},
                    })).await;
                    let mut in_partition: Vec<(String, String)> =
                        expected.iter().filter(|(item_id, _)| *item_id == id).cloned().collect();
                    if !forward {
                        in_partition.reverse();
                    }
                    assert_eq!(queried, in_partition);
                }
            }
        });
    }
}
