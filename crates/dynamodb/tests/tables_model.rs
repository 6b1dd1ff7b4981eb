#![allow(clippy::unwrap_used)]

//! Table statuses against a model: random sequences of CreateTable, UpdateTable (adding and
//! removing KCL's index), DeleteTable and clock moves, checked after every step against
//! what DynamoDB's documented lifecycle says each table and index should show.

mod common;

use std::collections::BTreeMap;

use common::TestDb;
use proptest::prelude::*;
use rheo_dynamodb::DynamoError;
use serde_json::{json, Value};

const CREATE_MS: u64 = 100;
const UPDATE_MS: u64 = 50;
const DELETE_MS: u64 = 70;
const NAMES: [&str; 3] = ["app", "app-CoordinatorState", "app-WorkerMetricStats"];

#[derive(Clone, Debug)]
enum Step {
    Create(usize),
    AddIndex(usize),
    DropIndex(usize),
    Delete(usize),
    Advance(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let name = 0..NAMES.len();
    prop_oneof![
        name.clone().prop_map(Step::Create),
        name.clone().prop_map(Step::AddIndex),
        name.clone().prop_map(Step::DropIndex),
        name.prop_map(Step::Delete),
        (0..150u64).prop_map(Step::Advance),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Status {
    Creating,
    Active,
    Updating,
    Deleting,
}

/// What DynamoDB shows for one table: its status until `ends`, and whether it has the index
/// (CREATING while the table is UPDATING after adding it).
#[derive(Clone, Debug)]
struct ModelTable {
    status: Status,
    ends: u64,
    index: bool,
}

#[derive(Default)]
struct Model {
    now: u64,
    tables: BTreeMap<&'static str, ModelTable>,
}

/// What a step's answer must be.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    NotFound,
    InUse,
    Invalid,
}

impl Model {
    fn settle(&mut self) {
        let now = self.now;
        self.tables.retain(|_, table| !(table.status == Status::Deleting && table.ends <= now));
        for table in self.tables.values_mut() {
            if matches!(table.status, Status::Creating | Status::Updating) && table.ends <= now {
                table.status = Status::Active;
            }
        }
    }

    fn apply(&mut self, step: &Step) -> Outcome {
        self.settle();
        let now = self.now;
        match *step {
            Step::Advance(ms) => {
                self.now += ms;
                Outcome::Ok
            }
            Step::Create(n) => {
                if self.tables.contains_key(NAMES[n]) {
                    return Outcome::InUse;
                }
                let table = ModelTable { status: Status::Creating, ends: now + CREATE_MS, index: false };
                self.tables.insert(NAMES[n], table);
                Outcome::Ok
            }
            Step::AddIndex(n) | Step::DropIndex(n) | Step::Delete(n) => {
                let Some(table) = self.tables.get_mut(NAMES[n]) else { return Outcome::NotFound };
                if table.status != Status::Active {
                    return Outcome::InUse;
                }
                match step {
                    Step::AddIndex(_) if table.index => Outcome::Invalid,
                    Step::DropIndex(_) if !table.index => Outcome::NotFound,
                    Step::Delete(_) => {
                        *table = ModelTable { status: Status::Deleting, ends: now + DELETE_MS, index: table.index };
                        Outcome::Ok
                    }
                    _ => {
                        table.index = matches!(step, Step::AddIndex(_));
                        table.status = Status::Updating;
                        table.ends = now + UPDATE_MS;
                        Outcome::Ok
                    }
                }
            }
        }
    }
}

fn outcome(result: Result<Value, DynamoError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(DynamoError::ResourceNotFound(_)) => Outcome::NotFound,
        Err(DynamoError::ResourceInUse(_)) => Outcome::InUse,
        Err(DynamoError::Validation(_)) => Outcome::Invalid,
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

async fn run(test: &TestDb, step: &Step) -> Outcome {
    let index = json!({
        "IndexName": "LeaseOwnerToLeaseKeyIndex",
        "KeySchema": [{"AttributeName": "leaseOwner", "KeyType": "HASH"}, {"AttributeName": "leaseKey", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    });
    match *step {
        Step::Advance(ms) => {
            test.advance(ms);
            Outcome::Ok
        }
        Step::Create(n) => outcome(test.call("CreateTable", lease_table(NAMES[n])).await),
        Step::AddIndex(n) => outcome(
            test.call(
                "UpdateTable",
                json!({
                    "TableName": NAMES[n],
                    "AttributeDefinitions": [{"AttributeName": "leaseOwner", "AttributeType": "S"}],
                    "GlobalSecondaryIndexUpdates": [{"Create": index}],
                }),
            )
            .await,
        ),
        Step::DropIndex(n) => outcome(
            test.call(
                "UpdateTable",
                json!({
                    "TableName": NAMES[n],
                    "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "LeaseOwnerToLeaseKeyIndex"}}],
                }),
            )
            .await,
        ),
        Step::Delete(n) => outcome(test.call("DeleteTable", json!({"TableName": NAMES[n]})).await),
    }
}

fn lease_table(name: &str) -> Value {
    json!({
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    })
}

/// Every table's status and index as DescribeTable and ListTables show them, against the model.
async fn check(test: &TestDb, model: &mut Model) {
    model.settle();
    let listed = test.ok("ListTables", json!({})).await;
    let expected: Vec<&str> = model.tables.keys().copied().collect();
    assert_eq!(listed["TableNames"], json!(expected));
    for (name, table) in &model.tables {
        let described = test.ok("DescribeTable", json!({"TableName": name})).await;
        let status = match table.status {
            Status::Creating => "CREATING",
            Status::Active => "ACTIVE",
            Status::Updating => "UPDATING",
            Status::Deleting => "DELETING",
        };
        assert_eq!(described["Table"]["TableStatus"], status, "{name}: {described}");
        let index_status = &described["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"];
        match (table.index, table.status) {
            (true, Status::Updating) => assert_eq!(index_status, "CREATING", "{name}: {described}"),
            (true, _) => assert_eq!(index_status, "ACTIVE", "{name}: {described}"),
            // A removed index is gone from DescribeTable at once (UpdateTable's own answer
            // shows it DELETING).
            (false, _) => assert!(index_status.is_null(), "{name}: {described}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20, ..ProptestConfig::default() })]

    #[test]
    fn table_statuses_follow_dynamodbs_lifecycle(steps in prop::collection::vec(step(), 1..30)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let test = TestDb::in_memory_with(|config| {
                config.create_table_ms = CREATE_MS;
                config.update_table_ms = UPDATE_MS;
                config.delete_table_ms = DELETE_MS;
            });
            let mut model = Model::default();
            for step in &steps {
                let expected = model.apply(step);
                let actual = run(&test, step).await;
                assert_eq!(actual, expected, "step {step:?}");
                check(&test, &mut model).await;
            }
        });
    }
}
