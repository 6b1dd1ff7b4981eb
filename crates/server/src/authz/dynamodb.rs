//! DynamoDB's authorization table: `dynamodb:` and the operation's name on the table
//! `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME` (or the index `.../index/INDEX` a Query or
//! Scan reads), with the Service Authorization Reference's exceptions: the batch
//! operations need their action on every table they name; TransactGetItems and
//! TransactWriteItems are no actions of their own but need `GetItem`, `PutItem`,
//! `UpdateItem`, `DeleteItem` or `ConditionCheckItem` on each item's table; ListTables,
//! DescribeLimits and DescribeEndpoints take no resource (`*`). The match is exhaustive.
//!
//! The request keys DynamoDB defines from parameters are supplied where the call has
//! them: `dynamodb:ReturnConsumedCapacity`, `dynamodb:ReturnValues`, `dynamodb:Select`.

use rheo_engine::ids::Account;
use rheo_iam::ContextValue;
use rheo_protocol::dynamodb::model::{ReturnConsumedCapacity, ReturnValue, Select};
use rheo_protocol::dynamodb::DynamoDbRequest as Rq;

use super::{Check, Needs, ANY_RESOURCE};

/// The service prefix of DynamoDB's IAM actions.
pub const SERVICE: &str = "dynamodb";

/// The table a request names: `TableName` takes a name or the table's ARN.
pub fn table_arn(account: &Account, name_or_arn: &str) -> String {
    if name_or_arn.starts_with("arn:") {
        return name_or_arn.to_owned();
    }
    format!("arn:{}:dynamodb:{}:{}:table/{name_or_arn}", account.partition(), account.region, account.account_id)
}

/// What `request` needs.
pub fn needs(account: &Account, operation: &str, request: &Rq) -> Needs {
    let mut needs = resources(account, operation, request);
    needs.keys = request_keys(request);
    needs
}

/// The keys of DynamoDB's parameters that the request sets.
fn request_keys(request: &Rq) -> Vec<(String, ContextValue)> {
    let (capacity, values, select): (&Option<ReturnConsumedCapacity>, Option<&ReturnValue>, Option<&Select>) =
        match request {
            Rq::BatchGetItem(r) => (&r.return_consumed_capacity, None, None),
            Rq::BatchWriteItem(r) => (&r.return_consumed_capacity, None, None),
            Rq::DeleteItem(r) => (&r.return_consumed_capacity, r.return_values.as_ref(), None),
            Rq::GetItem(r) => (&r.return_consumed_capacity, None, None),
            Rq::PutItem(r) => (&r.return_consumed_capacity, r.return_values.as_ref(), None),
            Rq::UpdateItem(r) => (&r.return_consumed_capacity, r.return_values.as_ref(), None),
            Rq::Query(r) => (&r.return_consumed_capacity, None, r.select.as_ref()),
            Rq::Scan(r) => (&r.return_consumed_capacity, None, r.select.as_ref()),
            Rq::TransactGetItems(r) => (&r.return_consumed_capacity, None, None),
            Rq::TransactWriteItems(r) => (&r.return_consumed_capacity, None, None),
            _ => return Vec::new(),
        };
    let string = |key: &str, value: &str| (key.to_owned(), ContextValue::String(value.to_owned()));
    let mut keys = Vec::new();
    if let Some(capacity) = capacity {
        keys.push(string("dynamodb:ReturnConsumedCapacity", capacity.as_str()));
    }
    if let Some(values) = values {
        keys.push(string("dynamodb:ReturnValues", values.as_str()));
    }
    if let Some(select) = select {
        keys.push(string("dynamodb:Select", select.as_str()));
    }
    keys
}

/// The checks of `request`.
fn resources(account: &Account, operation: &str, request: &Rq) -> Needs {
    let check = |action: &str, resource: String| Check::new(SERVICE, action, resource);
    let on = |table: &str| Needs::one(check(operation, table_arn(account, table)));
    let on_index = |table: &str, index: &Option<String>| {
        let table = table_arn(account, table);
        Needs::one(check(operation, index.as_ref().map_or(table.clone(), |index| format!("{table}/index/{index}"))))
    };
    match request {
        Rq::BatchGetItem(r) => Needs {
            checks: r.request_items.keys().map(|t| check(operation, table_arn(account, t))).collect(),
            keys: vec![],
        },
        Rq::BatchWriteItem(r) => Needs {
            checks: r.request_items.keys().map(|t| check(operation, table_arn(account, t))).collect(),
            keys: vec![],
        },
        Rq::TransactGetItems(r) => Needs {
            checks: r
                .transact_items
                .iter()
                .map(|item| check("GetItem", table_arn(account, &item.get.table_name)))
                .collect(),
            keys: vec![],
        },
        Rq::TransactWriteItems(r) => {
            let mut checks = Vec::new();
            for item in &r.transact_items {
                if let Some(c) = &item.condition_check {
                    checks.push(check("ConditionCheckItem", table_arn(account, &c.table_name)));
                }
                if let Some(p) = &item.put {
                    checks.push(check("PutItem", table_arn(account, &p.table_name)));
                }
                if let Some(d) = &item.delete {
                    checks.push(check("DeleteItem", table_arn(account, &d.table_name)));
                }
                if let Some(u) = &item.update {
                    checks.push(check("UpdateItem", table_arn(account, &u.table_name)));
                }
            }
            Needs { checks, keys: vec![] }
        }
        Rq::CreateTable(r) => on(&r.table_name),
        Rq::DeleteItem(r) => on(&r.table_name),
        Rq::DeleteTable(r) => on(&r.table_name),
        Rq::DescribeContinuousBackups(r) => on(&r.table_name),
        Rq::DescribeTable(r) => on(&r.table_name),
        Rq::DescribeTimeToLive(r) => on(&r.table_name),
        Rq::GetItem(r) => on(&r.table_name),
        Rq::PutItem(r) => on(&r.table_name),
        Rq::Query(r) => on_index(&r.table_name, &r.index_name),
        Rq::Scan(r) => on_index(&r.table_name, &r.index_name),
        Rq::UpdateContinuousBackups(r) => on(&r.table_name),
        Rq::UpdateItem(r) => on(&r.table_name),
        Rq::UpdateTable(r) => on(&r.table_name),
        Rq::UpdateTimeToLive(r) => on(&r.table_name),
        Rq::ListTagsOfResource(r) => Needs::one(check(operation, r.resource_arn.clone())),
        Rq::TagResource(r) => Needs::one(check(operation, r.resource_arn.clone())),
        Rq::UntagResource(r) => Needs::one(check(operation, r.resource_arn.clone())),
        Rq::ListTables(_) | Rq::DescribeLimits(_) | Rq::DescribeEndpoints(_) => {
            Needs::one(check(operation, ANY_RESOURCE.to_owned()))
        }
    }
}
