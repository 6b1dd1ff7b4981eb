//! TransactWriteItems and TransactGetItems: all actions in one group-commit job, all or
//! nothing, with `CancellationReasons`.
//!
//! A write transaction reads every item it names, checks every condition and computes
//! every update against the items as they were, and only when all pass makes every change,
//! all inside one job of the store's writer: nothing else runs between the checks and the
//! changes, and the changes reach the disk in one commit. A read transaction reads one
//! snapshot.
//!
//! A `ClientRequestToken` (SDKs fill it in by themselves) is remembered for 10 minutes after
//! the transaction succeeded, in memory (`tokens.rs`): the same request again succeeds
//! without running, a different one is refused.

use std::collections::HashSet;
use std::sync::Arc;

use rheo_protocol::dynamodb::model::{
    ItemResponse, TransactGetItemsInput, TransactGetItemsOutput, TransactWriteItem, TransactWriteItemsInput,
    TransactWriteItemsOutput,
};
use rheo_protocol::dynamodb::{encode_request, DynamoDbRequest};

use crate::error::{CancellationReason, DynamoError};
use crate::expr::{Condition, ExpressionKind, Update};
use crate::key::PrimaryKey;
use crate::limits::{TRANSACT_BYTES_MAX, TRANSACT_ITEMS_MAX};
use crate::service::item_request::{
    check_condition, item_from_request, key_from_wire, only_condition, only_projection, present,
    returns_old_on_failure, ConditionParams, ParameterStyles,
};
use crate::service::items::{refuse_key_updates, updated_item};
use crate::service::tokens::{fingerprint, TokenCheck};
use crate::service::DynamoDb;
use crate::store::WriteTxn;
use crate::table::TableDef;
use crate::value::{item_size, item_to_wire, Item};

const ONE_ITEM_TWICE: &str = "Transaction request cannot include multiple operations on one item";
const CONDITION_USERS: &[&str] = &["ConditionExpression"];
const UPDATE_USERS: &[&str] = &["UpdateExpression", "ConditionExpression"];

fn validation(text: impl Into<String>) -> DynamoError {
    DynamoError::Validation(text.into())
}

/// One action of a write transaction, read and checked.
struct Action {
    table: Arc<TableDef>,
    key: PrimaryKey,
    condition: Option<Condition>,
    return_old_on_failure: bool,
    change: Change,
}

enum Change {
    /// `ConditionCheck`: nothing changes.
    None,
    Put(Item),
    Delete,
    Update(Update),
}

/// What an action leaves once every condition passed.
enum Outcome {
    Keep,
    Put(Item),
    Delete,
}

impl DynamoDb {
    /// `TransactWriteItems`.
    pub async fn transact_write_items(
        &self,
        input: TransactWriteItemsInput,
    ) -> Result<TransactWriteItemsOutput, DynamoError> {
        if input.transact_items.len() > TRANSACT_ITEMS_MAX {
            return Err(validation(format!("TransactItems may hold at most {TRANSACT_ITEMS_MAX} actions")));
        }
        let mut actions = Vec::with_capacity(input.transact_items.len());
        for item in &input.transact_items {
            actions.push(self.write_action(item).await?);
        }
        let mut seen = HashSet::with_capacity(actions.len());
        if !actions.iter().all(|action| seen.insert((action.table.uid, action.key.clone()))) {
            return Err(validation(ONE_ITEM_TWICE));
        }
        let bytes: usize = actions
            .iter()
            .map(|action| match &action.change {
                Change::Put(item) => item_size(item),
                _ => 0,
            })
            .sum();
        if bytes > TRANSACT_BYTES_MAX {
            return Err(validation("Transaction request size exceeds the maximum allowed size of 4 MB"));
        }
        let token = match &input.client_request_token {
            Some(token) => {
                let unsigned = TransactWriteItemsInput { client_request_token: None, ..input.clone() };
                let encoded = encode_request(&DynamoDbRequest::TransactWriteItems(unsigned));
                Some((token.clone(), fingerprint(&encoded)))
            }
            None => None,
        };
        let (tokens, now_ms) = (self.tokens.clone(), self.clock.now_ms());
        self.store
            .write(move |txn| -> Result<(), DynamoError> {
                if let Some((token, fingerprint)) = &token {
                    if tokens.lock().check(token, *fingerprint, now_ms)? == TokenCheck::AlreadyDone {
                        return Ok(());
                    }
                }
                run_transaction(txn, actions)?;
                if let Some((token, fingerprint)) = &token {
                    tokens.lock().remember(token, *fingerprint, now_ms);
                }
                Ok(())
            })
            .await??;
        Ok(TransactWriteItemsOutput { consumed_capacity: None, item_collection_metrics: None })
    }

    /// Reads one action of a write transaction.
    async fn write_action(&self, item: &TransactWriteItem) -> Result<Action, DynamoError> {
        let given = [item.condition_check.is_some(), item.put.is_some(), item.delete.is_some(), item.update.is_some()];
        if given.iter().filter(|given| **given).count() != 1 {
            return Err(validation("TransactItems can only contain one of Check, Put, Update or Delete"));
        }
        if let Some(check) = &item.condition_check {
            let styles = ParameterStyles {
                legacy: Vec::new(),
                expressions: vec!["ConditionExpression"],
                value_users: CONDITION_USERS,
                names: check.expression_attribute_names.as_ref(),
                values: check.expression_attribute_values.as_ref(),
            };
            let mut substitutions = styles.substitutions()?;
            let condition =
                Condition::parse(&check.condition_expression, ExpressionKind::Condition, &mut substitutions)?;
            substitutions.finish()?;
            let table = self.table_for_items(&check.table_name).await?;
            let key = key_from_wire(&table, &check.key)?;
            let return_old = returns_old_on_failure(check.return_values_on_condition_check_failure.as_ref());
            return Ok(Action {
                table,
                key,
                condition: Some(condition),
                return_old_on_failure: return_old,
                change: Change::None,
            });
        }
        if let Some(put) = &item.put {
            let condition = only_condition(ConditionParams {
                expression: put.condition_expression.as_deref(),
                expected: None,
                operator: None,
                names: put.expression_attribute_names.as_ref(),
                values: put.expression_attribute_values.as_ref(),
            })?;
            let return_old = returns_old_on_failure(put.return_values_on_condition_check_failure.as_ref());
            let table = self.table_for_items(&put.table_name).await?;
            let (key, item) = item_from_request(&table, &put.item)?;
            return Ok(Action { table, key, condition, return_old_on_failure: return_old, change: Change::Put(item) });
        }
        if let Some(delete) = &item.delete {
            let condition = only_condition(ConditionParams {
                expression: delete.condition_expression.as_deref(),
                expected: None,
                operator: None,
                names: delete.expression_attribute_names.as_ref(),
                values: delete.expression_attribute_values.as_ref(),
            })?;
            let return_old = returns_old_on_failure(delete.return_values_on_condition_check_failure.as_ref());
            let table = self.table_for_items(&delete.table_name).await?;
            let key = key_from_wire(&table, &delete.key)?;
            return Ok(Action { table, key, condition, return_old_on_failure: return_old, change: Change::Delete });
        }
        let update = item.update.as_ref().ok_or_else(|| DynamoError::Internal("a checked action vanished".into()))?;
        let styles = ParameterStyles {
            legacy: Vec::new(),
            expressions: present(&[
                ("UpdateExpression", true),
                ("ConditionExpression", update.condition_expression.is_some()),
            ]),
            value_users: UPDATE_USERS,
            names: update.expression_attribute_names.as_ref(),
            values: update.expression_attribute_values.as_ref(),
        };
        let mut substitutions = styles.substitutions()?;
        let parsed = Update::parse(&update.update_expression, &mut substitutions)?;
        let condition = update
            .condition_expression
            .as_deref()
            .map(|text| Condition::parse(text, ExpressionKind::Condition, &mut substitutions))
            .transpose()?;
        substitutions.finish()?;
        let table = self.table_for_items(&update.table_name).await?;
        let key = key_from_wire(&table, &update.key)?;
        refuse_key_updates(&table.key, &parsed)?;
        let return_old = returns_old_on_failure(update.return_values_on_condition_check_failure.as_ref());
        Ok(Action { table, key, condition, return_old_on_failure: return_old, change: Change::Update(parsed) })
    }

    /// `TransactGetItems`.
    pub async fn transact_get_items(
        &self,
        input: TransactGetItemsInput,
    ) -> Result<TransactGetItemsOutput, DynamoError> {
        if input.transact_items.len() > TRANSACT_ITEMS_MAX {
            return Err(validation(format!("TransactItems may hold at most {TRANSACT_ITEMS_MAX} actions")));
        }
        let mut gets = Vec::with_capacity(input.transact_items.len());
        for item in &input.transact_items {
            let get = &item.get;
            let projection =
                only_projection(get.projection_expression.as_deref(), None, get.expression_attribute_names.as_ref())?;
            let table = self.table_for_items(&get.table_name).await?;
            let key = key_from_wire(&table, &get.key)?;
            gets.push((table, key, projection));
        }
        let mut seen = HashSet::with_capacity(gets.len());
        if !gets.iter().all(|(table, key, _)| seen.insert((table.uid, key.clone()))) {
            return Err(validation(ONE_ITEM_TWICE));
        }
        let snapshot = self.store.read()?;
        let mut responses = Vec::with_capacity(gets.len());
        for (table, key, projection) in &gets {
            let item = snapshot.get(table, key)?;
            let item = match (item, projection) {
                (Some(item), Some(projection)) => Some(projection.apply(&item)),
                (item, _) => item,
            };
            responses.push(ItemResponse { item: item.map(|item| item_to_wire(&item)) });
        }
        Ok(TransactGetItemsOutput { consumed_capacity: None, responses: Some(responses) })
    }
}

/// Inside the writer: checks every action against the items as they are, then, only when
/// all pass, makes every change.
fn run_transaction(txn: &mut WriteTxn<'_>, actions: Vec<Action>) -> Result<(), DynamoError> {
    let mut reasons = Vec::with_capacity(actions.len());
    let mut outcomes = Vec::with_capacity(actions.len());
    for action in &actions {
        let old = txn.get(&action.table, &action.key)?;
        let outcome = check_condition(action.condition.as_ref(), old.as_ref(), action.return_old_on_failure)
            .and_then(|()| outcome_of(action, old.as_ref()));
        match outcome {
            Ok(outcome) => {
                reasons.push(CancellationReason { code: "None", message: None, item: None });
                outcomes.push(outcome);
            }
            Err(DynamoError::ConditionalCheckFailed { item }) => reasons.push(CancellationReason {
                code: "ConditionalCheckFailed",
                message: Some("The conditional request failed".into()),
                item,
            }),
            Err(DynamoError::Validation(message)) => {
                reasons.push(CancellationReason { code: "ValidationError", message: Some(message), item: None })
            }
            Err(other) => return Err(other),
        }
    }
    if outcomes.len() < actions.len() {
        return Err(DynamoError::TransactionCanceled { reasons });
    }
    for (action, outcome) in actions.iter().zip(outcomes) {
        match outcome {
            Outcome::Keep => {}
            Outcome::Put(item) => txn.put(&action.table, &action.key, item)?,
            Outcome::Delete => txn.delete(&action.table, &action.key)?,
        }
    }
    Ok(())
}

fn outcome_of(action: &Action, old: Option<&Item>) -> Result<Outcome, DynamoError> {
    Ok(match &action.change {
        Change::None => Outcome::Keep,
        Change::Put(item) => Outcome::Put(item.clone()),
        Change::Delete if old.is_some() => Outcome::Delete,
        Change::Delete => Outcome::Keep,
        Change::Update(update) => match updated_item(&action.table, &action.key, old, Some(update))? {
            Some(item) => Outcome::Put(item),
            None => Outcome::Keep,
        },
    })
}
