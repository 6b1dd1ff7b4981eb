//! DynamoDB's authorization table: `dynamodb:` and the operation's name on the table
//! `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME` (or the index `.../index/INDEX` a Query or
//! Scan reads), with the Service Authorization Reference's exceptions: the batch
//! operations need their action on every table they name; TransactGetItems and
//! TransactWriteItems are no actions of their own but need `GetItem`, `PutItem`,
//! `UpdateItem`, `DeleteItem` or `ConditionCheckItem` on each item's table; ListTables,
//! DescribeLimits and DescribeEndpoints take no resource (`*`). The match is exhaustive.

use rheo_engine::ids::Account;
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
